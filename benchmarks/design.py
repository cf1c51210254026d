"""Experiment-design benchmarks (BENCHMARKS.md W9, and hashed assignment of the issue).

- **W9**: simulation power, 10,000 experiments of 20,000 users (10,000 per arm), Welch's t.
  neyman (``simulate_power``, Rust, one Xoshiro256++ stream per 16 experiments) against numpy
  vectorised (normals for 50 experiments at a time, means and variances along axis 1, Welch's t
  and its p-value with scipy's t distribution), scipy ``ttest_ind(axis=1, equal_var=False)`` on the
  same chunks, and a Python loop of ``scipy.stats.ttest_ind`` (200 experiments, extrapolated to
  10,000). The floor is generating the same 2e8 normals in Rust from the same streams and summing
  them (``floor_normals``); numpy's rate (``standard_normal`` into a buffer, one thread) is shown
  beside it. Agreement: each tool's power and neyman's differ by less than 4 Monte-Carlo SE of the
  difference (the random numbers differ).
- **Assignment**: ``neyman.assign`` of 100M int64 ids to two arms, with and without the duplicate
  check, against the memory floor: reading the 800 MB of ids and writing 100 MB of codes at the
  bandwidth ``floor_sum`` reaches on an array of 100M float64 in the same run.

Run by ``benchmarks/run.py --only W9,ASSIGN`` (and by ``make bench``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from _harness import median_time

N_EXPERIMENTS = 10_000
N_USERS = 20_000
N_ARM = N_USERS // 2
CHUNK = 50
LOOP_EXPERIMENTS = 200
SEED = 2026


def _numpy_power(g: np.random.Generator, use_scipy: bool) -> float:
    from scipy import stats

    rejections = 0
    for _ in range(N_EXPERIMENTS // CHUNK):
        c = g.standard_normal((CHUNK, N_ARM))
        t = g.standard_normal((CHUNK, N_ARM))
        if use_scipy:
            p = stats.ttest_ind(t, c, axis=1, equal_var=False).pvalue
        else:
            vc, vt = c.var(axis=1, ddof=1) / N_ARM, t.var(axis=1, ddof=1) / N_ARM
            stat = (t.mean(axis=1) - c.mean(axis=1)) / np.sqrt(vc + vt)
            df = (vc + vt) ** 2 / (vc**2 / (N_ARM - 1) + vt**2 / (N_ARM - 1))
            p = 2 * stats.t.sf(np.abs(stat), df)
        rejections += int(np.count_nonzero(p < 0.05))
    return rejections / N_EXPERIMENTS


def _loop_power(g: np.random.Generator) -> float:
    from scipy import stats

    rejections = 0
    for _ in range(LOOP_EXPERIMENTS):
        c = g.standard_normal(N_ARM)
        t = g.standard_normal(N_ARM)
        rejections += stats.ttest_ind(t, c, equal_var=False).pvalue < 0.05
    return rejections / LOOP_EXPERIMENTS


def run_w9(reps: int = 3) -> dict[str, Any]:
    """Timings and ratios of W9."""
    import neyman
    from neyman import _neyman

    def ours() -> float:
        return neyman.simulate_power(N_ARM, n_sims=N_EXPERIMENTS, rng=SEED).power

    count = N_EXPERIMENTS * N_USERS
    per_block = 16 * N_USERS
    rows: list[dict[str, Any]] = []
    t_ours, p_ours = median_time(ours, reps)
    t_floor, _ = median_time(lambda: _neyman.floor_normals(count, per_block, SEED), reps)
    buf = np.empty(10_000_000)
    g = np.random.default_rng(SEED)
    t_np_rng, _ = median_time(lambda: g.standard_normal(out=buf), reps)
    t_np_rng *= count / len(buf)
    t_numpy, p_numpy = median_time(lambda: _numpy_power(np.random.default_rng(1), False), 1)
    t_scipy, p_scipy = median_time(lambda: _numpy_power(np.random.default_rng(2), True), 1)
    t_loop, p_loop = median_time(lambda: _loop_power(np.random.default_rng(3)), 1)
    t_loop *= N_EXPERIMENTS / LOOP_EXPERIMENTS
    se = math.sqrt(2 * 0.05 * 0.95 / N_EXPERIMENTS)
    for name, t, p, note in [
        ("neyman.simulate_power", t_ours, p_ours, ""),
        ("floor: normals in Rust (same streams)", t_floor, None, "floor"),
        ("numpy standard_normal rate (1 thread)", t_np_rng, None, "numpy's RNG floor"),
        ("numpy vectorised", t_numpy, p_numpy, ""),
        ("scipy ttest_ind(axis=1)", t_scipy, p_scipy, ""),
        (
            f"Python loop (x{N_EXPERIMENTS // LOOP_EXPERIMENTS} from {LOOP_EXPERIMENTS})",
            t_loop,
            p_loop,
            "extrapolated",
        ),
    ]:
        agree = None
        if p is not None and name != "neyman.simulate_power":
            bound = 4 * (
                se
                if "loop" not in name
                else math.sqrt(0.05 * 0.95 / N_EXPERIMENTS + 0.05 * 0.95 / LOOP_EXPERIMENTS)
            )
            agree = abs(p - p_ours) < bound
        rows.append(
            {
                "tool": name,
                "median_s": t,
                "power": p,
                "peer/neyman": t / t_ours,
                "x floor": t / t_floor,
                "agrees": agree,
                "note": note,
            }
        )
    return {"workload": "W9", "n": count, "rows": rows, "floor_s": t_floor}


def _floor_bandwidth(n: int, reps: int) -> float:
    """Bytes per second of ``floor_sum`` over ``n`` float64 (the array freed afterwards)."""
    from neyman import _neyman

    ones = np.ones(n)
    t_sum, _ = median_time(lambda: _neyman.floor_sum(ones), reps)
    return ones.nbytes / t_sum


def run_assign(n: int = 100_000_000, reps: int = 3) -> dict[str, Any]:
    """Hashed assignment of ``n`` int64 ids against the memory floor."""
    import neyman

    bandwidth = _floor_bandwidth(n, reps + 2)
    ids = np.random.default_rng(SEED).permutation(n).astype(np.int64) * 7919 + 11
    floor_s = (ids.nbytes + n) / bandwidth  # read the ids, write one byte per id
    rows = []
    for name, check in [
        ("neyman.assign (no duplicate check)", False),
        ("neyman.assign (duplicate check)", True),
    ]:
        t, out = median_time(
            lambda check=check: neyman.assign(
                ids, salt="bench", as_codes=True, check_duplicates=check
            ),
            reps,
        )
        share = float(out.mean())
        rows.append({"tool": name, "median_s": t, "x floor": t / floor_s, "share_treatment": share})
    t_labels, _ = median_time(lambda: neyman.assign(ids, salt="bench", check_duplicates=False), 1)
    rows.append(
        {
            "tool": "neyman.assign (labels, no check)",
            "median_s": t_labels,
            "x floor": t_labels / floor_s,
            "share_treatment": None,
        }
    )
    return {
        "workload": "ASSIGN",
        "n": n,
        "rows": rows,
        "floor_s": floor_s,
        "floor_gb_per_s": bandwidth / 1e9,
    }


def print_design_case(case: dict[str, Any]) -> None:
    """One table per case."""
    print()
    head = (
        f"{case['workload']}: {case['n']:,} "
        + ("normals (10,000 experiments x 20,000 users)" if case["workload"] == "W9" else "ids")
        + f"; floor {case['floor_s']:.3g} s"
    )
    print(head)
    for r in case["rows"]:
        parts = [f"  {r['tool']:<44}", f"{r['median_s']:>9.3f} s", f"x floor {r['x floor']:>6.2f}"]
        if "peer/neyman" in r:
            parts.append(f"peer/neyman {r['peer/neyman']:>7.2f}")
        if r.get("power") is not None:
            parts.append(f"power {r['power']:.4f}")
        if r.get("agrees") is not None:
            parts.append("agrees" if r["agrees"] else "DISAGREES")
        if r.get("note"):
            parts.append(r["note"])
        print("  ".join(parts))


if __name__ == "__main__":
    print_design_case(run_w9())
    print_design_case(run_assign())
