"""Quantile comparisons against independent computations.

- The point estimates equal ``numpy.quantile`` (default linear interpolation) exactly: the same
  two order statistics and the same interpolation.
- The standard error is the order-statistic interval of Deng, Knoblich and Lu (2018) written out
  in the test from a full ``numpy.sort``: ranks ``floor(n q - z sqrt(n q (1 - q)))`` and
  ``ceil(n q + z sqrt(n q (1 - q)))`` (1-based), ``z = 1.959963984540054``, width over ``2 z``;
  the comparison's effect, SE, interval and p-value from those by the normal reference and the
  delta method (``rtol=1e-12``).
- The ranks' exact coverage, from ``scipy.stats.binom`` (the count of values below the quantile
  is Binomial(n, q)), is 0.95 to within 0.01 at these sizes: the interval the SE comes from is
  the distribution-free one it claims to be.
"""

from __future__ import annotations

import math

import neyman
import numpy as np
import pytest
from scipy import stats

Z = 1.959963984540054


def _arm(x: np.ndarray, q: float) -> tuple[float, float]:
    s = np.sort(x)
    n = len(s)
    half = Z * math.sqrt(n * q * (1 - q))
    lo, hi = math.floor(n * q - half), math.ceil(n * q + half)
    return float(np.quantile(x, q)), (s[hi - 1] - s[lo - 1]) / (2 * Z)


@pytest.mark.parametrize("q", [0.01, 0.25, 0.5, 0.9, 0.99])
@pytest.mark.parametrize("n", [2_000, 10_001])
def test_against_numpy_and_the_order_statistic_interval(q: float, n: int) -> None:
    rng = np.random.default_rng(int(q * 1000) + n)
    a, b = rng.lognormal(0, 1, n), rng.lognormal(0.1, 1, n + 17)
    res = neyman.quantile(a, b, q=q)
    qa, sa = _arm(a, q)
    qb, sb = _arm(b, q)
    assert res.control_value == np.quantile(a, q)
    assert res.treatment_value == np.quantile(b, q)
    se = math.sqrt(sa**2 + sb**2)
    assert res.effect == pytest.approx(qb - qa, rel=1e-12)
    assert res.se == pytest.approx(se, rel=1e-12)
    assert res.ci_low == pytest.approx(qb - qa - Z * se, rel=1e-12)
    assert res.pvalue == pytest.approx(2 * stats.norm.sf(abs(qb - qa) / se), rel=1e-9)
    rel_se = math.sqrt(sb**2 / qa**2 + qb**2 * sa**2 / qa**4)
    assert res.rel_effect == pytest.approx((qb - qa) / qa, rel=1e-12)
    assert res.rel_se == pytest.approx(rel_se, rel=1e-12)
    assert res.rel_ci_high == pytest.approx((qb - qa) / qa + Z * rel_se, rel=1e-12)


@pytest.mark.parametrize(("n", "q"), [(1000, 0.5), (5000, 0.99), (20_000, 0.99), (400, 0.1)])
def test_ranks_cover_the_quantile_at_95_percent(n: int, q: float) -> None:
    half = Z * math.sqrt(n * q * (1 - q))
    lo, hi = math.floor(n * q - half), math.ceil(n * q + half)
    # x_(lo) <= Q < x_(hi) iff lo <= #{x < Q} < hi, with #{x < Q} ~ Binomial(n, q).
    coverage = stats.binom.cdf(hi - 1, n, q) - stats.binom.cdf(lo - 1, n, q)
    assert abs(coverage - 0.95) < 0.01, coverage


def test_frame_and_several_arms() -> None:
    rng = np.random.default_rng(9)
    arm = rng.choice(["c", "t", "u"], 30_000)
    y = rng.exponential(1.0, 30_000)
    import pandas as pd

    df = pd.DataFrame({"arm": arm, "y": y})
    res = neyman.quantile(df, metric="y", variant="arm", control="c", q=0.9)
    for r in res:
        direct = neyman.quantile(y[arm == "c"], y[arm == r.treatment], q=0.9)
        assert (r.effect, r.se, r.pvalue) == (direct.effect, direct.se, direct.pvalue)
    exp = neyman.Experiment(df, variant="arm", control="c").analyze(neyman.Quantile("y", q=0.9))
    assert [r.effect for r in exp] == [r.effect for r in res]
