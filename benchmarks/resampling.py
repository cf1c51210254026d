"""Resampling benchmark (BENCHMARKS.md W5): a permutation test of a difference in means, 100k
rows (50k per arm), 10,000 permutations.

Timed: neyman ``permutation_test`` (Rust, partial Fisher-Yates shuffles of the smaller arm,
blocks of 64 permutations each with its own stream); scipy ``permutation_test``
(``permutation_type='independent'``, vectorised, its own batching); numpy with
``Generator.permuted`` on a (batch, n) array of the pooled values, 100 permutations per batch.
scipy and numpy are timed on 1,000 permutations and scaled to 10,000 (their cost is linear in the
permutations). The floors, measured in the same run: 1e9 bounded index draws from neyman's streams
(a full shuffle of the 100k rows per permutation, the floor BENCHMARKS.md means) and the 5e8 draws
neyman's partial shuffles make. Agreement: the p-values differ by less than 4 Monte-Carlo standard
errors.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from _harness import median_time

N_ARM = 50_000
PERMUTATIONS = 10_000
PEER_PERMUTATIONS = 1_000
SEED = 5


def _numpy_permuted(c: np.ndarray, t: np.ndarray, b: int) -> float:
    g = np.random.default_rng(1)
    pooled = np.concatenate([c, t])
    observed = t.mean() - c.mean()
    hits, batch = 0, 100
    for _ in range(b // batch):
        perm = g.permuted(np.broadcast_to(pooled, (batch, len(pooled))), axis=1)
        null = perm[:, len(c) :].mean(axis=1) - perm[:, : len(c)].mean(axis=1)
        hits += int(np.count_nonzero(np.abs(null) >= abs(observed)))
    return (hits + 1) / (b + 1)


def _scipy(c: np.ndarray, t: np.ndarray, b: int) -> float:
    from scipy import stats

    def stat(x: np.ndarray, y: np.ndarray, axis: int) -> np.ndarray:
        return x.mean(axis=axis) - y.mean(axis=axis)

    res = stats.permutation_test(
        (t, c), stat, permutation_type="independent", n_resamples=b, vectorized=True,
        random_state=2, batch=100,
    )  # fmt: skip
    return float(res.pvalue)


def run_w5(reps: int = 3) -> dict[str, Any]:
    """Timings and ratios of W5."""
    import neyman
    from neyman import _neyman

    rng = np.random.default_rng(SEED)
    c, t = rng.lognormal(0, 1, N_ARM), rng.lognormal(0.01, 1, N_ARM)
    n = 2 * N_ARM
    neyman.permutation_test(c, t, n_resamples=200, rng=1)  # warm-up
    t_ours, res = median_time(
        lambda: neyman.permutation_test(c, t, n_resamples=PERMUTATIONS, rng=1), reps
    )
    t_full, _ = median_time(lambda: _neyman.floor_indices(PERMUTATIONS * n, n, 64 * n, 1), reps)
    t_half, _ = median_time(
        lambda: _neyman.floor_indices(PERMUTATIONS * N_ARM, n, 64 * N_ARM, 1), reps
    )
    scale = PERMUTATIONS / PEER_PERMUTATIONS
    t_scipy, p_scipy = median_time(lambda: _scipy(c, t, PEER_PERMUTATIONS), 1)
    t_numpy, p_numpy = median_time(lambda: _numpy_permuted(c, t, PEER_PERMUTATIONS), 1)
    t_scipy, t_numpy = t_scipy * scale, t_numpy * scale
    p = res.pvalue
    se = math.sqrt(max(p * (1 - p), 1e-4) * (1 / PERMUTATIONS + 1 / PEER_PERMUTATIONS))
    rows = [
        {"tool": "neyman.permutation_test", "median_s": t_ours, "x floor": t_ours / t_full,
         "pvalue": p},
        {"tool": "floor: 1e9 bounded draws (full shuffles)", "median_s": t_full, "x floor": 1.0},
        {"tool": "5e8 bounded draws (neyman's partial shuffles)", "median_s": t_half,
         "x floor": t_half / t_full},
        {"tool": f"scipy permutation_test (x{scale:.0f} from {PEER_PERMUTATIONS})",
         "median_s": t_scipy, "x floor": t_scipy / t_full, "peer/neyman": t_scipy / t_ours,
         "pvalue": p_scipy, "agrees": abs(p_scipy - p) < 4 * se},
        {"tool": f"numpy Generator.permuted (x{scale:.0f} from {PEER_PERMUTATIONS})",
         "median_s": t_numpy, "x floor": t_numpy / t_full, "peer/neyman": t_numpy / t_ours,
         "pvalue": p_numpy, "agrees": abs(p_numpy - p) < 4 * se},
    ]  # fmt: skip
    return {"workload": "W5", "n": n, "rows": rows, "floor_s": t_full}


def print_resampling_case(case: dict[str, Any]) -> None:
    """One table."""
    print()
    print(
        f"W5: permutation test, {case['n']:,} rows, {PERMUTATIONS:,} permutations; floor "
        f"{case['floor_s']:.3f} s"
    )
    for r in case["rows"]:
        parts = [f"  {r['tool']:<48}", f"{r['median_s']:>8.3f} s", f"x floor {r['x floor']:>6.2f}"]
        if "peer/neyman" in r:
            parts.append(f"peer/neyman {r['peer/neyman']:>7.1f}")
        if r.get("pvalue") is not None:
            parts.append(f"p {r['pvalue']:.4f}")
        if r.get("agrees") is not None:
            parts.append("agrees" if r["agrees"] else "DISAGREES")
        print("  ".join(parts))


if __name__ == "__main__":
    print_resampling_case(run_w5())
