"""Calibration of the sequential methods under continuous peeking (seeded simulations).

Each replication is an A/A (or A/B with a known effect) experiment looked at 100 times: daily with
1,000 units per arm per day, or after every 100 units. The per-look summary statistics (each
arm's mean and sum of squared deviations, merged over the looks as Chan et al. do) are drawn
exactly: a look's mean is normal, its sum of squared deviations ``sigma^2 chi2(m - 1)``. The
false-positive rate is the share of replications whose always-valid p-value falls below alpha at
any look; it must stay at or below alpha within 4 Monte-Carlo standard errors,
``alpha + 4 sqrt(alpha (1 - alpha) / R)``. The fixed-horizon Welch test under the same peeking
must exceed that bound (the harness can fail). The ramp test compares the Monitor's estimate,
averaged over replications, with the true effect (within 4 standard errors of the average),
and shows that pooling the phases is biased by more than that.
"""

from __future__ import annotations

import math

import neyman
import numpy as np
import pytest
from scipy import stats

ALPHA = 0.05
R = 4000
BOUND = ALPHA + 4 * math.sqrt(ALPHA * (1 - ALPHA) / R)


def _paths(rng: np.random.Generator, m: int, looks: int, effect: float = 0.0):
    """Cumulative effect, its variance, units and Welch p-values at each look, R x looks."""

    def arm(mu: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        day_mean = rng.normal(mu, 1 / math.sqrt(m), (R, looks))
        day_m2 = rng.chisquare(m - 1, (R, looks))
        k = np.arange(1, looks + 1)
        n = m * k
        mean = np.cumsum(day_mean, axis=1) / k
        m2 = np.cumsum(day_m2, axis=1) + m * np.cumsum(day_mean**2, axis=1) - n * mean**2
        return mean, m2 / (n - 1), n

    mc, vc, n = arm(0.0)
    mt, vt, _ = arm(effect)
    var = vc / n + vt / n
    d = mt - mc
    df = var**2 / ((vc / n) ** 2 / (n - 1) + (vt / n) ** 2 / (n - 1))
    p_fixed = 2 * stats.t.sf(np.abs(d - effect) / np.sqrt(var), df)
    return d, var, np.broadcast_to(2.0 * n, d.shape), p_fixed


@pytest.mark.slow
@pytest.mark.parametrize(("m", "mde"), [(1000, 0.01), (50, 0.05)], ids=["daily", "every-100-units"])
def test_type_one_error_under_continuous_peeking(m: int, mde: float) -> None:
    rng = np.random.default_rng(20261202 + m)
    d, var, n, p_fixed = _paths(rng, m, 100)
    msprt = neyman.msprt_path(d, var, mixing_variance=mde**2, alpha=ALPHA)
    fpr_msprt = float(np.mean(msprt.pvalue[:, -1] < ALPHA))
    cs_hits = 0
    for i in range(R):
        cs = neyman.confidence_sequence_path(d[i], var[i], n[i], tuning=float(n[i, 49]))
        cs_hits += bool(cs.pvalue[-1] < ALPHA)
    fpr_cs = cs_hits / R
    fpr_fixed = float(np.mean((p_fixed < ALPHA).any(axis=1)))
    assert fpr_msprt <= BOUND, fpr_msprt
    assert fpr_cs <= BOUND, fpr_cs
    # Proof that the harness can fail: the fixed-horizon test, peeked at 100 times.
    assert fpr_fixed > BOUND, fpr_fixed


@pytest.mark.slow
def test_confidence_sequence_and_msprt_cover_the_whole_path() -> None:
    effect = 0.02
    rng = np.random.default_rng(77)
    d, var, n, _ = _paths(rng, 1000, 100, effect=effect)
    msprt = neyman.msprt_path(d, var, mixing_variance=1e-4, null=effect)
    miss_msprt = float(np.mean((msprt.ci_low[:, -1] > effect) | (msprt.ci_high[:, -1] < effect)))
    miss_cs = 0
    for i in range(R):
        cs = neyman.confidence_sequence_path(d[i], var[i], n[i], tuning=1e5)
        miss_cs += bool(cs.ci_low[-1] > effect or cs.ci_high[-1] < effect)
    # The running intersection misses the effect at the last look iff some look missed it.
    assert miss_msprt <= BOUND, miss_msprt
    assert miss_cs / R <= BOUND, miss_cs / R


def _day_stats(rng: np.random.Generator, n: int, mu: float) -> neyman.MeanStats:
    x = rng.normal(mu, 1.0, n)
    return neyman.MeanStats(n=n, mean=float(x.mean()), m2=float(((x - x.mean()) ** 2).sum()))


@pytest.mark.slow
def test_ramp_aware_monitor_is_unbiased_and_pooling_is_not() -> None:
    """A metric drifting upwards by 0.1 a day; 5% of traffic to the treatment for 5 days, then
    50% for 5 days; effect 0.05. Pooling compares mostly late treatment units with mostly early
    control units (bias about 0.28); the phase-wise estimate is unbiased."""
    effect, reps, per_day = 0.05, 300, 2000
    rng = np.random.default_rng(5)
    ramp, naive = [], []
    for _ in range(reps):
        mon = neyman.Monitor(neyman.Mean("y"), variant="arm", control="c", mde=0.05)
        days = []
        for day in range(10):
            share = 0.05 if day < 5 else 0.5
            n_t = int(per_day * share)
            base = 0.1 * (day + 1)
            batch = {"y": {"c": _day_stats(rng, per_day - n_t, base)}}
            batch["y"]["t"] = _day_stats(rng, n_t, base + effect)
            days.append(batch["y"])
            state = mon.update(batch, split={"c": 1 - share, "t": share})
        ramp.append(state[0].effect)
        pooled = neyman.merge_arms(days)
        naive.append(neyman.Mean("y").compare(pooled, control="c")[0].effect)
    ramp_mean, ramp_se = np.mean(ramp), np.std(ramp, ddof=1) / math.sqrt(reps)
    naive_mean, naive_se = np.mean(naive), np.std(naive, ddof=1) / math.sqrt(reps)
    assert abs(ramp_mean - effect) < 4 * ramp_se, (ramp_mean, ramp_se)
    assert abs(naive_mean - effect) > 4 * naive_se, (naive_mean, naive_se)
