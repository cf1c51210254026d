"""Sequential-testing benchmark (BENCHMARKS.md W8): always-valid p-values for 1,000 metrics x 100
daily looks.

Each metric's cumulative effect estimate and its variance at each look are given (summary
statistics, as a daily SQL job produces them), drawn once with a fixed seed. Timed:

- neyman: ``msprt_path`` on the 1,000 x 100 arrays (the normal-mixture mSPRT, running minimum of
  the p-values and intersection of the intervals, in the core, parallel over metrics);
- numpy: the same closed form vectorised over the arrays (``Lambda``, ``1 / Lambda``,
  ``np.minimum.accumulate``, the interval half-width and the running max/min of the ends);
- gbstats: ``SequentialTwoSidedTTest`` (the asymptotic confidence sequence, GrowthBook's method)
  on each metric and look's summary statistics, a Python object per look (timed on 3 metrics
  and scaled to 1,000);
- spotify-confidence: ``ZTest(...).difference(..., groupby=["date", "metric"],
  final_expected_sample_size_column=...)``, its group-sequential test (intervals at each look from
  alpha spending), on the same summary statistics as per-look cumulative sums, timed on 2 metrics
  and scaled to 1,000; a different method, so no agreement check (it reports no p-value).

Agreement: neyman's p-values equal numpy's to 1e-12; gbstats computes a different (but
equivalent in form) boundary, so its agreement is checked against ``confidence_sequence_path``
on the same metric (1e-9). The floor is the memory floor: reading the two input arrays and writing
the four outputs at the bandwidth ``floor_sum`` reaches in the same run.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from _harness import median_time

N_METRICS = 1000
N_LOOKS = 100
ALPHA = 0.05
SEED = 8


def _data() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per metric and look: cumulative means of two arms of 1,000 units a day, their variances."""
    rng = np.random.default_rng(SEED)
    m = 1000
    k = np.arange(1, N_LOOKS + 1)
    n = m * k
    sd = rng.uniform(0.5, 3.0, (N_METRICS, 1))
    lift = rng.normal(0, 0.02, (N_METRICS, 1))
    step = sd / math.sqrt(m)
    mc = 10 + np.cumsum(rng.normal(0, 1, (N_METRICS, N_LOOKS)) * step, axis=1) / k
    mt = 10 + lift + np.cumsum(rng.normal(0, 1, (N_METRICS, N_LOOKS)) * step, axis=1) / k
    var_arm = (sd**2) * np.ones((N_METRICS, N_LOOKS))
    effect = mt - mc
    variance = 2 * var_arm / n
    return effect, variance, var_arm, mc, mt


def _numpy_msprt(effect: np.ndarray, variance: np.ndarray, tau2: float) -> np.ndarray:
    s = variance + tau2
    log_lambda = 0.5 * np.log(variance / s) + tau2 * effect**2 / (2 * variance * s)
    p = np.minimum.accumulate(np.minimum(1.0, np.exp(-log_lambda)), axis=1)
    half = np.sqrt(variance * s / tau2 * (2 * math.log(1 / ALPHA) + np.log(s / variance)))
    np.maximum.accumulate(effect - half, axis=1)
    np.minimum.accumulate(effect + half, axis=1)
    return p


def _gbstats(var_arm: np.ndarray, mc: np.ndarray, mt: np.ndarray, rows: int) -> np.ndarray:
    from gbstats.frequentist.tests import SequentialConfig, SequentialTwoSidedTTest
    from gbstats.models.statistics import SampleMeanStatistic

    cfg = SequentialConfig(difference_type="absolute", sequential_tuning_parameter=5000)
    out = np.empty((rows, N_LOOKS))
    for i in range(rows):
        for j in range(N_LOOKS):
            n = 1000 * (j + 1)
            v = var_arm[i, j]

            def stat(mean: float, n: int = n, v: float = v) -> Any:
                return SampleMeanStatistic(n=n, sum=mean * n, sum_squares=v * (n - 1) + mean**2 * n)

            test = SequentialTwoSidedTTest(stat(mc[i, j]), stat(mt[i, j]), cfg)
            out[i, j] = test.p_value
    return out


def _spotify(var_arm: np.ndarray, mc: np.ndarray, mt: np.ndarray, metrics: int) -> Any:
    import warnings

    import pandas as pd
    import spotify_confidence as conf

    rows = []
    for i in range(metrics):
        for arm, means in (("control", mc[i]), ("treatment", mt[i])):
            for j in range(N_LOOKS):
                n = 1000.0 * (j + 1)
                v = var_arm[i, j]
                rows.append(
                    {"date": j + 1, "group": arm, "metric": f"m{i}", "sum": means[j] * n,
                     "sum_sq": v * (n - 1) + means[j] ** 2 * n, "count": n,
                     "expected": 1000.0 * N_LOOKS}
                )  # fmt: skip
    df = pd.DataFrame(rows)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        test = conf.ZTest(
            df, numerator_column="sum", numerator_sum_squares_column="sum_sq",
            denominator_column="count", categorical_group_columns="group",
            ordinal_group_column="date", metric_column="metric",
        )  # fmt: skip
        return test.difference(
            level_1="control", level_2="treatment", groupby=["date", "metric"],
            final_expected_sample_size_column="expected",
        )  # fmt: skip


def run_w8(reps: int = 5) -> dict[str, Any]:
    """Timings and ratios of W8."""
    import neyman
    from neyman import _neyman

    effect, variance, var_arm, mc, mt = _data()
    tau2 = 0.02**2
    t_ours, path = median_time(
        lambda: neyman.msprt_path(effect, variance, mixing_variance=tau2, alpha=ALPHA), reps
    )
    t_numpy, p_numpy = median_time(lambda: _numpy_msprt(effect, variance, tau2), reps)
    gb_rows = 3
    _gbstats(var_arm, mc, mt, 1)  # warm-up: gbstats' pydantic models build on first use
    t_gb, p_gb = median_time(lambda: _gbstats(var_arm, mc, mt, gb_rows), 1)
    t_gb *= N_METRICS / gb_rows
    sp_rows = 2
    try:
        t_sp, _ = median_time(lambda: _spotify(var_arm, mc, mt, sp_rows), 1)
        t_sp *= N_METRICS / sp_rows
    except ImportError:
        t_sp = None
    ones = np.ones(20_000_000)
    t_sum, _ = median_time(lambda: _neyman.floor_sum(ones), reps)
    bandwidth = ones.nbytes / t_sum
    floor_s = (effect.nbytes * 2 + effect.nbytes * 4) / bandwidth
    # Agreement: numpy's closed form; gbstats against neyman's confidence sequence (same
    # summary statistics, tuning 5000).
    numpy_ok = bool(np.allclose(path.pvalue, p_numpy, rtol=1e-12, atol=1e-15))
    n_units = np.broadcast_to(2000.0 * np.arange(1, N_LOOKS + 1), (N_METRICS, N_LOOKS))
    gb_err = 0.0
    for i in range(gb_rows):
        cs = neyman.confidence_sequence_path(
            effect[i], var_arm[i] * 2 / (n_units[i] / 2), n_units[i], tuning=5000.0
        )
        # gbstats reports the look's p-value (no running minimum): compare look by look.
        e_look = np.exp(-cs.log_lambda)
        gb_err = max(gb_err, float(np.max(np.abs(np.minimum(1.0, e_look) - p_gb[i]))))
    rows = [
        {"tool": "neyman.msprt_path", "median_s": t_ours, "x floor": t_ours / floor_s},
        {
            "tool": "numpy mSPRT (vectorised)",
            "median_s": t_numpy,
            "x floor": t_numpy / floor_s,
            "peer/neyman": t_numpy / t_ours,
            "agrees": numpy_ok,
        },
        {
            "tool": f"gbstats SequentialTwoSidedTTest (x{N_METRICS / gb_rows:.0f} from {gb_rows})",
            "median_s": t_gb,
            "x floor": t_gb / floor_s,
            "peer/neyman": t_gb / t_ours,
            "agrees": gb_err < 1e-9,
            "note": f"vs neyman confidence_sequence_path: max |dp| {gb_err:.1e}",
        },
    ]
    if t_sp is not None:
        rows.append(
            {
                "tool": f"spotify-confidence ZTest group-sequential (x{N_METRICS // sp_rows} "
                f"from {sp_rows})",
                "median_s": t_sp,
                "x floor": t_sp / floor_s,
                "peer/neyman": t_sp / t_ours,
                "note": "a different method (alpha spending): timing only",
            }
        )
    return {"workload": "W8", "n": N_METRICS * N_LOOKS, "rows": rows, "floor_s": floor_s}


def print_sequential_case(case: dict[str, Any]) -> None:
    """One table."""
    print()
    floor_ms = case["floor_s"] * 1e3
    print(f"W8: {N_METRICS:,} metrics x {N_LOOKS} looks; memory floor {floor_ms:.3f} ms")
    for r in case["rows"]:
        parts = [f"  {r['tool']:<48}", f"{r['median_s'] * 1e3:>10.3f} ms"]
        parts.append(f"x floor {r['x floor']:>8.1f}")
        if "peer/neyman" in r:
            parts.append(f"peer/neyman {r['peer/neyman']:>9.1f}")
        if r.get("agrees") is not None:
            parts.append("agrees" if r["agrees"] else "DISAGREES")
        if r.get("note"):
            parts.append(r["note"])
        print("  ".join(parts))


if __name__ == "__main__":
    print_sequential_case(run_w8())
