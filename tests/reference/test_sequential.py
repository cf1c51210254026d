"""Sequential tests against independent computations.

- mSPRT: the normal-mixture likelihood ratio written out from Johari et al. (2022), eq. 11 and 13,
  in numpy; one-sided, the half-normal mixture integrated numerically by ``scipy.integrate.quad``
  (relative error 1e-9 there, so ``rtol=1e-7``); the interval's ends are where ``quad``'s ratio
  reaches ``1 / alpha`` (``brentq`` at 1e-12).
- Asymptotic confidence sequences: gbstats' ``SequentialTwoSidedTTest`` (GrowthBook 0.8.0) on the
  same summary statistics (count, sum, sum of squares per arm), absolute effect: the same float64
  formulas, ``rtol=1e-9`` (gbstats is installed by ``make``, without its numpy<2 pins).
- Sequential SRM: the Dirichlet-multinomial Bayes factor of Lindon and Malek (2022) with
  ``scipy.special.gammaln``, ``rtol=1e-10`` on ``log BF``.
"""

from __future__ import annotations

import math
from typing import Any

import neyman
import numpy as np
import pytest
from scipy import integrate, optimize, special, stats

ALPHA = 0.05


def _two_sided_log_lambda(d: float, v: float, tau2: float) -> float:
    return 0.5 * math.log(v / (v + tau2)) + tau2 * d * d / (2 * v * (v + tau2))


def _quad_lambda(d: float, v: float, tau2: float, sign: int) -> float:
    """The one-sided mixture: twice the N(0, tau2) density on sign * theta > 0."""

    def integrand(t: float) -> float:
        log_lr = sign * t * d / v - t * t / (2 * v)
        return 2 * math.exp(stats.norm.logpdf(t, scale=math.sqrt(tau2)) + log_lr)

    value, _ = integrate.quad(integrand, 0, np.inf, epsabs=0, epsrel=1e-11, limit=200)
    return float(value)


@pytest.mark.parametrize(
    ("d", "v", "tau2"), [(0.3, 0.02, 0.5), (-0.05, 0.001, 0.01), (0.0, 1.0, 4.0)]
)
def test_msprt_two_sided_closed_form(d: float, v: float, tau2: float) -> None:
    path = neyman.msprt_path([d], [v], mixing_variance=tau2, alpha=ALPHA)
    ll = _two_sided_log_lambda(d, v, tau2)
    assert path.log_lambda[0] == pytest.approx(ll, rel=1e-12, abs=1e-14)
    assert path.pvalue[0] == pytest.approx(min(1.0, math.exp(-ll)), rel=1e-12)
    half = math.sqrt(v * (v + tau2) / tau2 * (2 * math.log(1 / ALPHA) + math.log((v + tau2) / v)))
    assert path.ci_low[0] == pytest.approx(d - half, rel=1e-12)
    assert path.ci_high[0] == pytest.approx(d + half, rel=1e-12)


@pytest.mark.parametrize(("alternative", "sign"), [("greater", 1), ("less", -1)])
@pytest.mark.parametrize(
    ("d", "v", "tau2"), [(0.3, 0.02, 0.5), (-0.02, 0.001, 0.01), (0.1, 0.05, 0.02)]
)
def test_msprt_one_sided_against_quadrature(
    alternative: str, sign: int, d: float, v: float, tau2: float
) -> None:
    path = neyman.msprt_path([d], [v], mixing_variance=tau2, alternative=alternative)
    lam = _quad_lambda(d, v, tau2, sign)
    assert math.exp(path.log_lambda[0]) == pytest.approx(lam, rel=1e-7)
    # The bound: the null effect theta0 at which the ratio of d - theta0 reaches 1 / alpha.
    half = math.sqrt(v * (v + tau2) / tau2 * (2 * math.log(1 / ALPHA) + math.log((v + tau2) / v)))
    end = optimize.brentq(
        lambda t0: _quad_lambda(d - t0, v, tau2, sign) - 1 / ALPHA,
        d - sign * 2 * half,
        d,
        xtol=1e-13,
    )
    got = path.ci_low[0] if sign == 1 else path.ci_high[0]
    assert got == pytest.approx(end, rel=1e-7, abs=1e-9)
    assert math.isinf(path.ci_high[0] if sign == 1 else path.ci_low[0])


def test_msprt_of_a_comparison_uses_its_estimate_and_se() -> None:
    rng = np.random.default_rng(11)
    a, b = rng.normal(10, 2, 3000), rng.normal(10.15, 2, 3000)
    fixed = neyman.ttest(a, b)
    res = neyman.msprt(neyman.ttest(a, b), mixing_variance=0.01)[0]
    ll = _two_sided_log_lambda(fixed.effect, fixed.se**2, 0.01)
    assert res.pvalue == pytest.approx(min(1.0, math.exp(-ll)), rel=1e-12)
    assert res.fixed_pvalue == fixed.pvalue
    assert res.effect == fixed.effect
    # The relative scale: the mixing variance divided by the control mean squared.
    rel = neyman.msprt(neyman.ttest(a, b), mixing_variance=0.01, relative=True)[0]
    ll_rel = _two_sided_log_lambda(fixed.rel_effect, fixed.rel_se**2, 0.01)
    assert rel.pvalue == pytest.approx(min(1.0, math.exp(-ll_rel)), rel=1e-12)


def test_horizon_rule_makes_the_interval_at_the_horizon_narrowest() -> None:
    rng = np.random.default_rng(3)
    a, b = rng.normal(0, 1, 1000), rng.normal(0, 1, 1000)
    res = neyman.msprt(neyman.ttest(a, b), planned_n=20_000)[0]
    v_h = res.se**2 * 2000 / 20_000

    def width(tau2: float) -> float:
        return v_h * (v_h + tau2) / tau2 * (2 * math.log(1 / ALPHA) + math.log(1 + tau2 / v_h))

    best = optimize.minimize_scalar(lambda x: width(math.exp(x)), bracket=(-12, 0), tol=1e-12)
    assert res.mixing_variance == pytest.approx(math.exp(best.x), rel=1e-5)


def _gbstats_cs(n_a: int, s_a: float, ss_a: float, n_b: int, s_b: float, ss_b: float) -> Any:
    import gbstats.frequentist.tests as gb
    from gbstats.models.statistics import SampleMeanStatistic

    a = SampleMeanStatistic(n=n_a, sum=s_a, sum_squares=ss_a)
    b = SampleMeanStatistic(n=n_b, sum=s_b, sum_squares=ss_b)
    cfg = gb.SequentialConfig(difference_type="absolute", sequential_tuning_parameter=2000)
    test = gb.SequentialTwoSidedTTest(a, b, cfg)
    return test.confidence_interval, test.p_value


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_confidence_sequence_against_gbstats(seed: int) -> None:
    rng = np.random.default_rng(seed)
    a = rng.lognormal(0, 1, 1500 + 100 * seed)
    b = rng.lognormal(0.05, 1, 1400 + 50 * seed)
    (lo, hi), p = _gbstats_cs(
        len(a), a.sum(), (a * a).sum(), len(b), b.sum(), (b * b).sum()
    )  # fmt: skip
    res = neyman.confidence_sequence(neyman.ttest(a, b), tuning=2000)[0]
    assert res.ci_low == pytest.approx(lo, rel=1e-9)
    assert res.ci_high == pytest.approx(hi, rel=1e-9)
    assert res.pvalue == pytest.approx(p, rel=1e-9, abs=1e-15)


def _log_bf(x: np.ndarray, p: np.ndarray, c: float) -> float:
    a = c * p
    n = x.sum()
    return float(
        special.gammaln(c)
        - special.gammaln(c + n)
        + np.sum(special.gammaln(a + x) - special.gammaln(a))
        - np.sum(x * np.log(p))
    )


@pytest.mark.parametrize(
    ("looks", "weights", "c"),
    [
        ([[50, 50], [498, 502], [5100, 4900]], [1, 1], 100.0),
        ([[10, 30, 60], [95, 310, 595]], [0.1, 0.3, 0.6], 100.0),
        ([[300, 700], [2900, 7100]], [0.3, 0.7], 5.0),
    ],
)
def test_sequential_srm_bayes_factor(
    looks: list[list[int]], weights: list[float], c: float
) -> None:
    p = np.asarray(weights, dtype=float) / sum(weights)
    res = neyman.sequential_srm(looks, weights, concentration=c)
    logs = [_log_bf(np.asarray(x, dtype=float), p, c) for x in looks]
    assert res.statistic == pytest.approx(logs[-1], rel=1e-10, abs=1e-10)
    assert res.pvalue == pytest.approx(min(1.0, min(math.exp(-v) for v in logs)), rel=1e-10)


def test_paths_of_many_series_equal_one_at_a_time() -> None:
    rng = np.random.default_rng(5)
    e = rng.normal(0, 0.1, (7, 12))
    v = rng.uniform(0.001, 0.02, (7, 12))
    tau2 = rng.uniform(0.005, 0.05, 7)
    many = neyman.msprt_path(e, v, mixing_variance=tau2)
    for i in range(7):
        one = neyman.msprt_path(e[i], v[i], mixing_variance=tau2[i])
        np.testing.assert_array_equal(many.pvalue[i], one.pvalue)
        np.testing.assert_array_equal(many.ci_low[i], one.ci_low)
