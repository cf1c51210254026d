"""Benchmarks of neyman against the peers a user would pick (BENCHMARKS.md: W1, W2, W3, W7,
W8, W9, W10, W11, and hashed assignment, ``ASSIGN``; W9 and ASSIGN in ``design.py``, W8 in
``sequential.py``, the p99 interval ``QUANTILE`` in ``quantile.py``, W5 in ``resampling.py``).

Run ``python benchmarks/run.py`` (``make bench``) for 1k, 10k and 10M rows, or ``--quick`` for the
small sizes only. For each workload and size it builds the data once with a fixed seed, checks that
every peer agrees with neyman, times everything in the same run (warm-up, then the median of
interleaved repetitions), measures the memory floor (one parallel pass over the same arrays) and,
at the big size, each tool's peak RSS above the data in a fresh subprocess. It prints one table
per workload and size, the targets of BENCHMARKS.md with pass/miss, and writes everything to
``benchmarks/results/latest.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from importlib import metadata
from pathlib import Path
from typing import Any

# OpenBLAS (numpy's `@` in W2's numpy-by-hand and gbstats tools and in W7's numpy by hand,
# statsmodels' least squares) keeps its worker threads spinning for 2^28 cycles (about 0.1 s) after
# each call, so they steal a core from whichever tool is timed next: floor_sum measured right after
# a `y @ y` took 11.7 ms instead of 6.7 ms. 2^4 cycles makes them sleep at once; the BLAS tools
# keep their threads. Must be set before numpy loads OpenBLAS; an explicit setting wins.
os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import (
    calibrate,
    compare,
    fmt_ratio,
    fmt_seconds,
    format_table,
    measure_peak_rss,
    time_round_robin,
)
from design import print_design_case, run_assign, run_w9
from quantile import print_quantile_case, run_quantile
from resampling import print_resampling_case, run_w5
from sequential import print_sequential_case, run_w8
from workloads import WORKLOADS, Tool, Workload

DESIGN_WORKLOADS: dict[str, Callable[[], dict[str, Any]]] = {
    "W5": run_w5,
    "W8": run_w8,
    "W9": run_w9,
    "ASSIGN": run_assign,
    "QUANTILE": run_quantile,
}

SMALL_SIZES = (1_000, 10_000)
BIG_SIZE = 10_000_000
MIN_BATCH_S = 0.05  # one repetition lasts at least this long (many calls at small sizes)
REPS_FAST = 7  # neyman and the floor: cheap, so more repetitions
REPS_PEER = 5
REPS_SLOW = 3  # a tool whose single call takes longer than SLOW_S
SLOW_S = 0.5
MEMORY_PROBES_AT_ONCE = 2
RESULTS = Path(__file__).resolve().parent / "results" / "latest.json"


def _nbytes(data: dict[str, Any], names: tuple[str, ...]) -> int:
    """Bytes of the named arrays of the data."""
    return int(sum(data[k].nbytes for k in names))


def _reference_tool(workload: Workload, input_kind: str) -> Tool:
    """The neyman tool taking ``input_kind`` (the first neyman tool if none does)."""
    neyman_tools = [t for t in workload.tools if t.kind == "neyman"]
    for t in neyman_tools:
        if t.input == input_kind:
            return t
    return neyman_tools[0]


def run_case(workload: Workload, n: int, *, memory: bool) -> dict[str, Any]:
    """Agreement, timings and (optionally) peak memory of every tool on ``n`` rows of a workload."""
    t_build = time.perf_counter()
    data = workload.build(n)
    build_s = time.perf_counter() - t_build
    tools = [t for t in workload.tools if n >= BIG_SIZE or t.small_sizes]
    ref_tool = tools[0]

    # First call of each tool: its answer for the agreement check (and a first warm-up).
    answers = {t.name: t.extract(t.run(data)) for t in tools}
    ref = answers[ref_tool.name]

    def reference_of(t: Tool) -> str:
        return t.reference or ref_tool.name

    agreement = {}
    for t in tools:
        if t.name == reference_of(t) or t.kind == "floor":
            continue
        expected = answers[reference_of(t)]
        agreement[t.name] = compare(
            t.restate(expected) if t.restate else expected,
            answers[t.name],
            workload.fields,
            t.tolerance,
        )

    t_timing = time.perf_counter()
    fns: dict[str, Callable[[], Any]] = {t.name: (lambda t=t: t.run(data)) for t in tools}
    numbers, reps = {}, {}
    for t in tools:
        numbers[t.name], first = calibrate(fns[t.name], MIN_BATCH_S)
        if t.kind in ("neyman", "floor"):
            reps[t.name] = REPS_FAST
        else:
            reps[t.name] = REPS_SLOW if first > SLOW_S else REPS_PEER
    timings = time_round_robin(fns, reps, numbers)
    timing_s = time.perf_counter() - t_timing

    floor_tool = next(t for t in tools if t.kind == "floor")
    floor_bytes = _nbytes(data, workload.floor_arrays)
    bandwidth = floor_bytes / timings[floor_tool.name].median  # bytes per second

    rows = []
    for t in tools:
        med = timings[t.name].median
        floor_s = _nbytes(data, t.reads) / bandwidth
        ref_same_input = _reference_tool(workload, t.input)
        row: dict[str, Any] = {
            "tool": t.name,
            "kind": t.kind,
            "input": t.input,
            "median_s": med,
            "min_s": min(timings[t.name].times),
            "times_s": timings[t.name].times,
            "calls_per_rep": timings[t.name].number,
            "reps": len(timings[t.name].times),
            "bytes_read": _nbytes(data, t.reads),
            "floor_s": floor_s,
            "x_floor": med / floor_s,
            "vs_neyman": (med / timings[ref_same_input.name].median if t.kind == "peer" else None),
            "vs_neyman_tool": ref_same_input.name if t.kind == "peer" else None,
            "agreement": None,
            "peak_above_data_mib": None,
        }
        if t.name in agreement:
            a = agreement[t.name]
            row["agreement"] = {
                "ok": a.ok,
                "summary": a.summary(),
                "worst_field": a.worst_field,
                "worst_rel_diff": a.worst_rel_diff,
                "fields": a.details,
            }
        rows.append(row)

    t_memory = time.perf_counter()
    if memory:
        # Probes only measure memory, so two run at a time (after all timings of this case). They
        # load the same arrays from a file rather than drawing them again.
        with tempfile.TemporaryDirectory(prefix="neyman-bench-") as tmp:
            saved = Path(tmp) / "arrays.npz"
            np.savez(saved, **{k: v for k, v in data.items() if isinstance(v, np.ndarray)})
            with ThreadPoolExecutor(max_workers=MEMORY_PROBES_AT_ONCE) as pool:
                probes = list(
                    pool.map(lambda r: measure_peak_rss(workload.key, n, r["tool"], saved), rows)
                )
            for row, probe in zip(rows, probes, strict=True):
                row["memory_probe"] = probe
                if "peak_above_data_kib" in probe:
                    row["peak_above_data_mib"] = probe["peak_above_data_kib"] / 1024

    return {
        "workload": workload.key,
        "title": workload.title,
        "n": n,
        "build_s": build_s,
        "timing_s": timing_s,
        "memory_s": time.perf_counter() - t_memory,
        "load_average_after": os.getloadavg(),
        "floor_bytes": floor_bytes,
        "floor_gb_per_s": bandwidth / 1e9,
        "reference": {"tool": ref_tool.name, "answer": ref},
        "tools": rows,
        "notes": list(workload.notes),
        "rows_per_arm": "" if workload.sizes or not workload.per_arm else f" ({n // 2:,} per arm)",
    }


def print_case(case: dict[str, Any], *, notes: bool) -> None:
    """The plain-text table of one workload at one size (and the workload's notes if asked)."""
    n = case["n"]
    print()
    print(f"{case['workload']}  {case['title']}  --  n = {n:,} rows{case['rows_per_arm']}")
    print(
        f"floor: floor_sum over {case['floor_bytes'] / 1e6:.3g} MB at "
        f"{case['floor_gb_per_s']:.3g} GB/s (scaled to the bytes each tool must read)"
    )
    columns = ["tool", "input", "median", "peer/neyman", "(against)", "x floor", "peak MiB"]
    columns.append("agrees with neyman (worst rel. diff)")
    rows = []
    for r in case["tools"]:
        mib = r["peak_above_data_mib"]
        agree = r["agreement"]["summary"] if r["agreement"] else "reference"
        if r["kind"] == "floor":
            agree = "-"
        elif r["kind"] == "neyman" and r["agreement"] is None:
            agree = "reference"
        rows.append(
            [
                r["tool"],
                r["input"],
                fmt_seconds(r["median_s"]),
                fmt_ratio(r["vs_neyman"]),
                r["vs_neyman_tool"] or "",
                fmt_ratio(r["x_floor"]),
                _fmt_mib(mib, r.get("memory_probe", {})),
                agree,
            ]
        )
    print(format_table(columns, rows, right={2, 3, 5, 6}))
    for note in case["notes"] if notes else []:
        print(f"  note: {note}")
    if any("ru_maxrss" in str(r.get("memory_probe", {}).get("method", "")) for r in case["tools"]):
        print("  * peak RSS could not be reset: ru_maxrss minus RSS before the call (upper bound)")
    for r in case["tools"]:
        if "error" in r.get("memory_probe", {}):
            print(f"  memory probe of {r['tool']} failed: {r['memory_probe']['error']}")
    bad = [r for r in case["tools"] if r["agreement"] and not r["agreement"]["ok"]]
    for r in bad:
        print(f"  !! {r['tool']} disagrees with neyman:")
        for f, d in r["agreement"]["fields"].items():
            if d["ok"] != "yes":
                print(
                    f"     {f}: neyman {d['neyman']!r} peer {d['peer']!r} rel {d['rel_diff']:.2e}"
                )


def _fmt_mib(mib: float | None, probe: dict[str, Any]) -> str:
    """Peak MiB above the data; ``*`` marks the ru_maxrss fallback (an upper bound)."""
    if mib is None:
        return "error" if "error" in probe else "-"
    mark = "*" if "ru_maxrss" in str(probe.get("method", "")) else ""
    return f"{mib:.1f}{mark}"


def _row(case: dict[str, Any], tool: str) -> dict[str, Any] | None:
    """The row of ``tool`` in a case, or None."""
    return next((r for r in case["tools"] if r["tool"] == tool), None)


# (workload, size class ('big', 'small', 'any') or rows, description, tool, quantity, comparison,
# bound)
TARGETS = [
    (
        "W10",
        1_000_000,
        "neyman 10x faster than wildboottest through pyfixest",
        "pyfixest feols + wildboottest",
        "vs_neyman",
        ">=",
        10.0,
    ),
    (
        "W10",
        1_000_000,
        "neyman 10x faster than wildboottest (class API, parallel numba)",
        "wildboottest (WildboottestCL)",
        "vs_neyman",
        ">=",
        10.0,
    ),
    (
        "W10",
        10_000,
        "not slower than wildboottest through pyfixest",
        "pyfixest feols + wildboottest",
        "vs_neyman",
        ">=",
        1.0,
    ),
    ("W1", "big", "neyman.ttest within 3x of the floor", "neyman.ttest", "x_floor", "<=", 3.0),
    ("W1", "big", "neyman.ttest 10x faster than scipy", "scipy ttest_ind", "vs_neyman", ">=", 10.0),
    ("W1", "small", "not slower than scipy", "scipy ttest_ind", "vs_neyman", ">=", 1.0),
    (
        "W2",
        "big",
        "neyman.cuped(arrays) within 3x of the floor",
        "neyman.cuped(arrays)",
        "x_floor",
        "<=",
        3.0,
    ),
    (
        "W2",
        "big",
        "neyman.cuped(pandas) within 3x of the floor",
        "neyman.cuped(pandas)",
        "x_floor",
        "<=",
        3.0,
    ),
    (
        "W2",
        "big",
        "neyman.cuped(polars) within 3x of the floor",
        "neyman.cuped(polars)",
        "x_floor",
        "<=",
        3.0,
    ),
    (
        "W2",
        "big",
        "neyman 20x faster than tea-tasting on pandas",
        "tea-tasting (pandas)",
        "vs_neyman",
        ">=",
        20.0,
    ),
    (
        "W2",
        "big",
        "neyman 100x faster than statsmodels OLS",
        "statsmodels OLS HC1",
        "vs_neyman",
        ">=",
        100.0,
    ),
    ("W2", "small", "not slower than tea-tasting", "tea-tasting (pandas)", "vs_neyman", ">=", 1.0),
    ("W2", "small", "not slower than numpy by hand", "numpy by hand", "vs_neyman", ">=", 1.0),
    ("W3", "big", "neyman.ols within 5x of the floor", "neyman.ols(CR1)", "x_floor", "<=", 5.0),
    (
        "W3",
        "big",
        "neyman 100x faster than statsmodels",
        "statsmodels OLS cluster",
        "vs_neyman",
        ">=",
        100.0,
    ),
    (
        "W3",
        "big",
        "neyman 100x faster than pyfixest",
        "pyfixest feols CRV1",
        "vs_neyman",
        ">=",
        100.0,
    ),
    (
        "W3",
        "small",
        "not slower than numpy by hand",
        "numpy bincount by hand",
        "vs_neyman",
        ">=",
        1.0,
    ),
    (
        "W7",
        "big",
        "neyman.ratio(arrays) within 3x of the floor",
        "neyman.ratio(arrays)",
        "x_floor",
        "<=",
        3.0,
    ),
    (
        "W7",
        "big",
        "neyman.ratio(pandas) within 3x of the floor",
        "neyman.ratio(pandas)",
        "x_floor",
        "<=",
        3.0,
    ),
    (
        "W7",
        "big",
        "neyman 20x faster than tea-tasting on pandas",
        "tea-tasting (pandas)",
        "vs_neyman",
        ">=",
        20.0,
    ),
    ("W7", "small", "not slower than tea-tasting", "tea-tasting (pandas)", "vs_neyman", ">=", 1.0),
    ("W7", "small", "not slower than numpy by hand", "numpy by hand", "vs_neyman", ">=", 1.0),
    (
        "W11",
        "any",
        "neyman within 2x of the pandas groupby (city, 400 levels)",
        "pandas groupby (city)",
        "vs_neyman",
        ">=",
        0.5,
    ),
    (
        "W11",
        "any",
        "neyman under 0.1 s (city, 400 levels)",
        "neyman Mean(strata=city)",
        "median_s",
        "<=",
        0.1,
    ),
    (
        "W11",
        "any",
        "neyman within 2x of the pandas groupby (country, 6 levels)",
        "pandas groupby (country)",
        "vs_neyman",
        ">=",
        0.5,
    ),
]


def check_targets(cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each target of BENCHMARKS.md that the run can judge, with its value and pass/miss."""
    out = []
    for key, size, text, tool, qty, op, bound in TARGETS:
        for case in cases:
            is_big = case["n"] >= BIG_SIZE
            if case["workload"] != key:
                continue
            if isinstance(size, int):  # a workload of its own sizes: the target names one
                if case["n"] != size:
                    continue
            elif size != "any" and is_big != (size == "big"):
                continue
            row = _row(case, tool)
            if row is None or row[qty] is None:
                continue
            value = float(row[qty])
            ok = value <= bound if op == "<=" else value >= bound
            out.append(
                {
                    "workload": key,
                    "n": case["n"],
                    "target": text,
                    "value": value,
                    "quantity": qty,
                    "bound": f"{op} {bound:g}" + (" s" if qty == "median_s" else ""),
                    "met": ok,
                }
            )
    return out


def print_targets(targets: list[dict[str, Any]]) -> None:
    """The targets table."""
    print()
    print("Targets (BENCHMARKS.md)")
    rows = [
        [
            t["workload"],
            f"{t['n']:,}",
            t["target"],
            fmt_seconds(t["value"]) if t["quantity"] == "median_s" else fmt_ratio(t["value"]),
            t["bound"],
            "met" if t["met"] else "MISSED",
        ]
        for t in targets
    ]
    print(format_table(["W", "n", "target", "value", "bound", ""], rows, right={1, 3}))


def environment() -> dict[str, Any]:
    """Versions and machine facts stored with the results."""
    import neyman

    versions = {}
    for pkg in (
        "neyman",
        "numpy",
        "scipy",
        "statsmodels",
        "pandas",
        "polars",
        "tea-tasting",
        "gbstats",
        "pydantic",
        "wildboottest",
        "pyfixest",
        "numba",
    ):
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            versions[pkg] = None
    return {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "neyman_threads": neyman.get_num_threads(),
        "load_average_at_start": os.getloadavg(),
        "versions": versions,
    }


def main(argv: list[str] | None = None) -> int:
    """Run the selected workloads and sizes, print the tables, write the JSON results."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes only (1k, 10k rows)")
    parser.add_argument(
        "--only",
        default=",".join([*WORKLOADS, *DESIGN_WORKLOADS]),
        help="comma-separated workloads (default: all)",
    )
    parser.add_argument(
        "--no-memory", action="store_true", help="skip the peak-memory subprocesses"
    )
    parser.add_argument("--output", type=Path, default=RESULTS, help="JSON results file")
    args = parser.parse_args(argv)

    keys = [k.strip() for k in args.only.split(",") if k.strip()]
    unknown = [k for k in keys if k not in WORKLOADS and k not in DESIGN_WORKLOADS]
    if unknown:
        parser.error(f"unknown workloads {unknown}; known: {list(WORKLOADS)}")
    sizes = list(SMALL_SIZES) if args.quick else [*SMALL_SIZES, BIG_SIZE]

    env = environment()
    print(
        f"neyman {env['versions']['neyman']} on {env['cpu_count']} cores "
        f"({env['neyman_threads']} neyman threads), Python {env['python']}; load average "
        f"{env['load_average_at_start'][0]:.2f} (other processes compete for the cores if > 0.5)"
    )
    print(
        "medians of interleaved repetitions after a warm-up; peer/neyman > 1 means neyman is "
        "faster; x floor = median / (bytes the tool must read / floor bandwidth)"
    )
    t0 = time.perf_counter()
    cases = []
    design_cases = []
    for key in keys:
        if key in DESIGN_WORKLOADS:
            if not args.quick:
                design_case = DESIGN_WORKLOADS[key]()
                if key == "W8":
                    print_sequential_case(design_case)
                elif key == "QUANTILE":
                    print_quantile_case(design_case)
                elif key == "W5":
                    print_resampling_case(design_case)
                else:
                    print_design_case(design_case)
                design_cases.append(design_case)
            continue
        workload = WORKLOADS[key]
        own = (workload.quick_sizes if args.quick else None) or workload.sizes or sizes
        for n in own:
            probe = n >= BIG_SIZE or n in workload.memory_at
            case = run_case(workload, n, memory=probe and not args.no_memory)
            print_case(case, notes=n == own[-1])
            cases.append(case)
    targets = check_targets(cases)
    print_targets(targets)
    total = time.perf_counter() - t0
    print(f"\ntotal {total:.0f} s; load average at the end {os.getloadavg()[0]:.2f}")

    args.output.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "environment": env,
        "quick": args.quick,
        "total_s": total,
        "load_average_at_end": os.getloadavg(),
        "cases": cases,
        "design_cases": design_cases,
        "targets": targets,
    }
    args.output.write_text(json.dumps(payload, indent=1, default=str) + "\n")
    print(f"results written to {args.output}")
    disagreements = [
        (c["workload"], c["n"], r["tool"])
        for c in cases
        for r in c["tools"]
        if r["agreement"] and not r["agreement"]["ok"]
    ]
    return 1 if disagreements else 0


if __name__ == "__main__":
    sys.exit(main())
