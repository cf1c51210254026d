"""Quantile benchmark (issue #10): the analytic interval of the p99 difference at 10M rows
(5M per arm, lognormal), ``neyman.quantile``, against ``numpy.partition`` of each arm at the
p99 rank (the selection any exact quantile needs) and ``numpy.quantile`` of each arm (the point
estimates alone). The target: within 5x of the numpy partition in the same run.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from _harness import median_time

N = 10_000_000
Q = 0.99
SEED = 99


def run_quantile(reps: int = 5) -> dict[str, Any]:
    """Timings and ratios of the p99 interval at 10M rows."""
    import neyman

    rng = np.random.default_rng(SEED)
    a, b = rng.lognormal(3, 0.6, N // 2), rng.lognormal(3, 0.6, N // 2) * 0.99
    neyman.quantile(a, b, q=Q)  # warm-up
    t_ours, res = median_time(lambda: neyman.quantile(a, b, q=Q), reps)

    def partition() -> tuple[float, float]:
        k = int(Q * (len(a) - 1))
        return float(np.partition(a, k)[k]), float(np.partition(b, k)[k])

    t_part, _ = median_time(partition, reps)
    t_quant, (qa, qb) = median_time(lambda: (np.quantile(a, Q), np.quantile(b, Q)), reps)
    agrees = res.control_value == qa and res.treatment_value == qb
    rows = [
        {
            "tool": "neyman.quantile (estimate + interval)",
            "median_s": t_ours,
            "x floor": t_ours / t_part,
        },
        {"tool": "numpy partition of each arm (floor)", "median_s": t_part, "x floor": 1.0},
        {
            "tool": "numpy quantile of each arm (estimates only)",
            "median_s": t_quant,
            "x floor": t_quant / t_part,
            "peer/neyman": t_quant / t_ours,
            "agrees": agrees,
        },
    ]
    return {"workload": "QUANTILE", "n": N, "rows": rows, "floor_s": t_part}


def print_quantile_case(case: dict[str, Any]) -> None:
    """One table."""
    print()
    print(f"QUANTILE: p99 difference, {N:,} rows; floor (numpy partition) {case['floor_s']:.3f} s")
    for r in case["rows"]:
        parts = [f"  {r['tool']:<46}", f"{r['median_s']:>8.3f} s", f"x floor {r['x floor']:>6.2f}"]
        if "peer/neyman" in r:
            parts.append(f"peer/neyman {r['peer/neyman']:>6.2f}")
        if r.get("agrees") is not None:
            parts.append("agrees" if r["agrees"] else "DISAGREES")
        print("  ".join(parts))


if __name__ == "__main__":
    print_quantile_case(run_quantile())
