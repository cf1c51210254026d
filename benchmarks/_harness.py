"""Timing, agreement and peak-memory helpers shared by the benchmark workloads.

Timing: one warm-up call, then a batch size is chosen so that one repetition lasts at least
``min_batch_s`` (a single call for the big sizes, many for the 1k-row sizes where one call takes
microseconds); repetitions of all tools are interleaved round-robin so that a slow phase of the
machine hits every tool alike; the median per-call time is reported.

Peak memory: each tool's call runs once more in a fresh subprocess (``_memprobe.py``) that builds
the same data; see ``measure_peak_rss`` and the README for what is counted.
"""

from __future__ import annotations

import gc
import json
import math
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


@dataclass
class Timing:
    """Per-call times (seconds) of each repetition, the batch size and the median."""

    times: list[float] = field(default_factory=list)
    number: int = 1

    @property
    def median(self) -> float:
        """Median per-call time over the repetitions."""
        return statistics.median(self.times)


def median_time(fn: Callable[[], Any], reps: int) -> tuple[float, Any]:
    """The median seconds of ``reps`` calls of ``fn`` (run one after another) and its last
    result: for workloads whose calls take seconds, where batching is not needed."""
    times, out = [], None
    for _ in range(reps):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return float(statistics.median(times)), out


def collect_garbage() -> None:
    """Collect garbage, then freeze what survives (imported modules, data) out of later scans.

    A full collection scans every object the imported libraries created (a third of a second with
    statsmodels, tea-tasting and polars loaded); frozen objects are skipped, so the collections
    between repetitions stay cheap and do not inflate the run time.
    """
    gc.collect()
    gc.freeze()


def calibrate(fn: Callable[[], Any], min_batch_s: float) -> tuple[int, float]:
    """Warm up ``fn`` once, then find how many calls make a batch of at least ``min_batch_s``.

    Returns the batch size and the single-call time of the warm-up.
    """
    t0 = time.perf_counter()
    fn()
    first = time.perf_counter() - t0
    number = 1
    elapsed = first
    while elapsed < min_batch_s:
        number = max(number * 2, math.ceil(number * min_batch_s / max(elapsed, 1e-9)))
        number = min(number, 1_000_000)
        elapsed = _time_batch(fn, number)
        if number == 1_000_000:
            break
    return number, first


def _time_batch(fn: Callable[[], Any], number: int) -> float:
    """Seconds for ``number`` back-to-back calls, garbage collector paused (as ``timeit`` does)."""
    gc.disable()
    try:
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        return time.perf_counter() - t0
    finally:
        gc.enable()


def time_round_robin(
    fns: Mapping[str, Callable[[], Any]],
    reps: Mapping[str, int],
    numbers: Mapping[str, int],
) -> dict[str, Timing]:
    """Time every function ``reps[name]`` times, interleaved: round r runs each tool once."""
    out = {name: Timing(number=numbers[name]) for name in fns}
    for r in range(max(reps.values())):
        collect_garbage()
        for name, fn in fns.items():
            if r < reps[name]:
                out[name].times.append(_time_batch(fn, numbers[name]) / numbers[name])
    # Frozen objects are never collected; let this case's data go once its timings are done.
    gc.unfreeze()
    gc.collect()
    return out


def _rel_diff(a: float, b: float) -> float:
    """|a - b| / max(|a|, |b|); 0 when both are equal (including both infinite or both NaN)."""
    if a == b or (math.isnan(a) and math.isnan(b)):
        return 0.0
    if not (math.isfinite(a) and math.isfinite(b)):
        return math.inf
    return abs(a - b) / max(abs(a), abs(b))


@dataclass
class Agreement:
    """Field-by-field comparison of a tool's answer with neyman's."""

    ok: bool
    worst_field: str
    worst_rel_diff: float
    details: dict[str, dict[str, float | str]]

    def summary(self) -> str:
        """One short cell for the table: ``ok 3e-13 (pvalue)`` or ``FAIL ...``."""
        if not self.details:
            return "-"
        word = "ok" if self.ok else "FAIL"
        return f"{word} {self.worst_rel_diff:.0e} ({self.worst_field})"


def compare(
    ref: Mapping[str, float],
    other: Mapping[str, float],
    fields: Sequence[str],
    tolerance: Mapping[str, tuple[float, str]],
    rtol: float = 1e-6,
) -> Agreement:
    """Relative difference of every field both answers have; each must be within its tolerance.

    The default tolerance is ``rtol`` (1e-6 relative); ``tolerance`` overrides it for a field
    the peer defines differently, with the reason.
    """
    details: dict[str, dict[str, float | str]] = {}
    ok = True
    worst, worst_field = -1.0, ""
    for f in fields:
        if f not in other:
            continue
        d = _rel_diff(float(ref[f]), float(other[f]))
        tol, why = tolerance.get(f, (rtol, ""))
        passed = d <= tol
        ok = ok and passed
        details[f] = {
            "neyman": float(ref[f]),
            "peer": float(other[f]),
            "rel_diff": d,
            "rtol": tol,
            "ok": "yes" if passed else "NO",
            **({"why": why} if why else {}),
        }
        # Report the worst field relative to its own tolerance, so a loose field does not hide
        # a strict one that is closer to failing.
        if d / tol > worst:
            worst, worst_field = d / tol, f
    worst_d = float(details[worst_field]["rel_diff"]) if worst_field else 0.0
    return Agreement(ok, worst_field, worst_d, details)


def measure_peak_rss(
    workload: str, n: int, tool: str, saved: Path | None = None, timeout_s: float = 300.0
) -> dict[str, Any]:
    """Run ``tool`` once on the workload's data of size ``n`` in a fresh interpreter.

    ``saved``: an ``.npz`` of the data's arrays, which the probe loads instead of redrawing them.
    Returns the probe's JSON: ``peak_above_data_kib`` (peak RSS during the call minus the RSS
    just before it, with the data built and the tool warmed up on a tiny input),
    ``rss_before_call_kib`` and ``method``; or ``error``.
    """
    cmd = [sys.executable, str(HERE / "_memprobe.py"), workload, str(n), tool]
    if saved is not None:
        cmd.append(str(saved))
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout_s:.0f} s"}
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        return {"error": f"exit {proc.returncode}: {tail[0]}"}
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def format_table(columns: Sequence[str], rows: Sequence[Sequence[str]], right: set[int]) -> str:
    """Plain-text table; columns whose index is in ``right`` are right-aligned."""
    widths = [max([len(str(c)), *(len(r[i]) for r in rows)]) for i, c in enumerate(columns)]

    def line(values: Sequence[str]) -> str:
        """One row of the table."""
        return "  ".join(
            v.rjust(w) if i in right else v.ljust(w)
            for i, (v, w) in enumerate(zip(values, widths, strict=True))
        ).rstrip()

    sep = "  ".join("-" * w for w in widths)
    return "\n".join([line(list(columns)), sep, *(line(r) for r in rows)])


def fmt_seconds(s: float) -> str:
    """Seconds with a unit that keeps 3 significant digits readable."""
    if s >= 1:
        return f"{s:.3g} s"
    if s >= 1e-3:
        return f"{s * 1e3:.3g} ms"
    return f"{s * 1e6:.3g} us"


def fmt_ratio(x: float | None) -> str:
    """A ratio like ``12.3x``; ``-`` when absent."""
    if x is None or not math.isfinite(x):
        return "-"
    return f"{x:.3g}x" if x < 1000 else f"{x:.0f}x"
