"""Group-sequential designs against published tables, gsDesign/rpact outputs and independent
computations made here (scipy's multivariate normal cdf, closed forms, Monte-Carlo).

Tolerances: published values are rounded to 3 or 4 decimals, so they are compared to half a
unit of their last digit (plus 1e-6 for the grid). scipy's ``multivariate_normal.cdf`` (Genz's
algorithm, its default ``abseps=1e-5``; we pass ``abseps=1e-8`` where K <= 3) is compared to
2e-6. The Monte-Carlo cross-check uses 400,000 seeded paths: 4 standard errors.
"""

from __future__ import annotations

import math

import neyman
import numpy as np
import pytest
from scipy.stats import multivariate_normal, norm

EQ = {k: np.arange(1, k + 1) / k for k in range(2, 6)}

# Jennison & Turnbull (2000), Table 2.1 (Pocock C_P) and Table 2.3 (O'Brien-Fleming C_B),
# two-sided alpha = 0.05, equally spaced looks.
POCOCK_CP = {2: 2.178, 3: 2.289, 4: 2.361, 5: 2.413}
OBF_CB = {2: 1.977, 3: 2.004, 4: 2.024, 5: 2.040}
# J&T Table 2.4 (R_B): maximum sample size over the fixed design, classical O'Brien-Fleming,
# K = 5, alpha 0.05 two-sided, power 0.9 (the value quoted in issue #11).
OBF_RB5 = 1.026


def _cov(t: np.ndarray) -> np.ndarray:
    return np.sqrt(np.minimum.outer(t, t) / np.maximum.outer(t, t))


@pytest.mark.parametrize("k", [2, 3, 4, 5])
def test_classical_constants_jennison_turnbull(k: int) -> None:
    p = neyman.GroupSequentialDesign(k, spending="classical-pocock", power=0.9)
    assert p.z_bounds[0] == pytest.approx(POCOCK_CP[k], abs=5e-4 + 1e-6)
    b = neyman.GroupSequentialDesign(k, spending="classical-obrien-fleming", power=0.9)
    assert b.z_bounds[-1] == pytest.approx(OBF_CB[k], abs=5e-4 + 1e-6)
    # The "3.471, 2.454, 2.004" for K = 3 are these classical bounds, C_B sqrt(K / k).
    if k == 3:
        np.testing.assert_allclose(b.z_bounds, [3.471, 2.454, 2.004], atol=5e-4 + 1e-6)


def test_inflation_factor_jennison_turnbull() -> None:
    b = neyman.GroupSequentialDesign(5, spending="classical-obrien-fleming", power=0.9)
    assert b.inflation_factor == pytest.approx(OBF_RB5, abs=5e-4 + 1e-6)


def test_lan_demets_obf_rpact_gsdesign() -> None:
    # rpact getDesignGroupSequential(kMax = 3, alpha = 0.05, sided = 2, typeOfDesign = "asOF")
    # and gsDesign(k = 3, test.type = 2, sfu = sfLDOF): 3.710, 2.511, 1.993.
    d = neyman.GroupSequentialDesign(3, alpha=0.05, spending="obrien-fleming")
    np.testing.assert_allclose(d.z_bounds, [3.710, 2.511, 1.993], atol=5e-4 + 1e-6)
    # One-sided alpha 0.025 gives the same bounds (gsDesign test.type = 1).
    g = neyman.GroupSequentialDesign(3, alpha=0.025, alternative="greater")
    np.testing.assert_allclose(g.z_bounds, d.z_bounds, atol=1e-8)


def test_gsdesign_default_design() -> None:
    # gsDesign() defaults: k = 3, test.type = 4 (non-binding futility), alpha = 0.025,
    # beta = 0.1, sfu = sfHSD(gamma = -4), sfl = sfHSD(gamma = -2). Its printed bounds:
    # upper 3.01, 2.55, 2.00; lower -0.24, 0.94, 2.00; maximum sample size ratio 1.07.
    d = neyman.GroupSequentialDesign(
        3,
        alpha=0.025,
        alternative="greater",
        spending="hsd",
        gamma=-4,
        power=0.9,
        futility="hsd",
        futility_gamma=-2,
    )
    np.testing.assert_allclose(d.z_bounds, [3.01, 2.55, 2.00], atol=5e-3 + 1e-6)
    np.testing.assert_allclose(d.futility_bounds, [-0.24, 0.94, 2.00], atol=5e-3 + 1e-6)
    assert d.inflation_factor == pytest.approx(1.07, abs=5e-3)
    # 'less' mirrors it.
    m = neyman.GroupSequentialDesign(
        3, alpha=0.025, alternative="less", spending="hsd", gamma=-4, power=0.9,
        futility="hsd", futility_gamma=-2,
    )  # fmt: skip
    np.testing.assert_allclose(m.z_bounds, -d.z_bounds, atol=1e-12)
    np.testing.assert_allclose(m.futility_bounds, -d.futility_bounds, atol=1e-12)


def _spend(name: str, a: float, t: np.ndarray, param: float | None = None) -> np.ndarray:
    """The spending functions written out here, independently of the package."""
    if name == "obrien-fleming":
        return 2 - 2 * norm.cdf(norm.ppf(1 - a / 2) / np.sqrt(t))
    if name == "pocock":
        return a * np.log(1 + (math.e - 1) * t)
    if name == "hsd":
        assert param is not None
        return a * (1 - np.exp(-param * t)) / (1 - np.exp(-param))
    assert param is not None
    return a * t**param


@pytest.mark.parametrize("k", [2, 3])
@pytest.mark.parametrize("alternative", ["two-sided", "greater"])
@pytest.mark.parametrize(
    ("spending", "param"),
    [("obrien-fleming", None), ("pocock", None), ("hsd", -4.0), ("power", 3.0)],
)
def test_crossing_against_scipy_mvn(
    k: int, alternative: str, spending: str, param: float | None
) -> None:
    t = np.array([0.3, 0.65, 1.0])[-k:] if k == 3 else np.array([0.45, 1.0])
    kw = {"gamma": param} if spending == "hsd" else {"rho": param} if spending == "power" else {}
    d = neyman.GroupSequentialDesign(t, alternative=alternative, spending=spending, **kw)
    sides = 2 if alternative == "two-sided" else 1
    expected = sides * _spend(spending, 0.05 / sides, t, param)
    np.testing.assert_allclose(d.alpha_spent, expected, atol=1e-12)
    b = d.z_bounds
    for j in range(1, k + 1):
        mvn = multivariate_normal(np.zeros(j), _cov(t[:j]), abseps=1e-8, releps=0)
        lo = -b[:j] if sides == 2 else np.full(j, -np.inf)
        stay = mvn.cdf(b[:j], lower_limit=lo)
        assert 1 - stay == pytest.approx(d.alpha_spent[j - 1], abs=2e-6)


def test_power_against_scipy_mvn() -> None:
    t = np.array([1 / 3, 2 / 3, 1.0])
    d = neyman.GroupSequentialDesign(t, alternative="greater", alpha=0.025, power=0.9)
    mean = d.drift * np.sqrt(t)
    stay = multivariate_normal(mean, _cov(t), abseps=1e-8, releps=0).cdf(d.z_bounds)
    assert 1 - stay == pytest.approx(0.9, abs=2e-6)
    assert d.drift_fixed == pytest.approx(norm.ppf(0.975) + norm.ppf(0.9), abs=1e-9)


def test_monte_carlo_brownian_increments() -> None:
    rng = np.random.default_rng(20261202)
    t = np.array([0.2, 0.4, 0.6, 0.8, 1.0])
    d = neyman.GroupSequentialDesign(t, spending="obrien-fleming", power=0.9)
    n = 400_000
    inc = rng.standard_normal((n, 5)) * np.sqrt(np.diff(t, prepend=0.0))
    z = np.cumsum(inc, axis=1) / np.sqrt(t)
    first = np.argmax(np.abs(z) >= d.z_bounds, axis=1)
    crossed = np.any(np.abs(z) >= d.z_bounds, axis=1)
    freq = np.bincount(first[crossed], minlength=5) / n
    cum = np.cumsum(freq)
    se = np.sqrt(d.alpha_spent * (1 - d.alpha_spent) / n)
    assert np.all(np.abs(cum - d.alpha_spent) <= 4 * se + 1e-6)


def test_expected_sample_size_closed_form_two_looks() -> None:
    # K = 2, one-sided: E[N] / N_max = t1 + (1 - t1) P(continue at look 1), and P(continue) is
    # a normal probability; times the inflation factor for the fraction of the fixed design.
    t = np.array([0.5, 1.0])
    d = neyman.GroupSequentialDesign(t, alternative="greater", alpha=0.025, power=0.8)
    for drift, e in ((0.0, d.expected_sample_size_h0), (d.drift, d.expected_sample_size_h1)):
        stop = norm.sf(d.z_bounds[0] - drift * math.sqrt(0.5))
        assert e == pytest.approx(d.inflation_factor * (0.5 + 0.5 * (1 - stop)), abs=1e-9)


def test_msprt_power_one_look_closed_form_and_simulation() -> None:
    # One look: the mSPRT rejects when |Z| >= c, c from the mixture ratio (closed form here).
    alpha, r = 0.05, 2.0
    c = math.sqrt((1 + r) / r * (2 * math.log(1 / alpha) + math.log(1 + r)))
    got = neyman.msprt_power(2.5, [1.0], mixing_variance=r, alpha=alpha)
    assert got == pytest.approx(norm.sf(c - 2.5) + norm.cdf(-c - 2.5), abs=1e-9)
    # Many looks: seeded simulation of the mixture ratio on Brownian paths.
    looks = np.arange(1, 21) / 20
    p = neyman.msprt_power(2.8, looks, mixing_variance=r, alpha=alpha)
    rng = np.random.default_rng(7)
    n = 200_000
    s = np.cumsum(rng.standard_normal((n, 20)) * math.sqrt(1 / 20), axis=1) + 2.8 * looks
    v = 1 / looks  # the estimate s / t has variance 1 / t
    est = s / looks
    loglam = 0.5 * np.log(v / (v + r)) + r * est**2 / (2 * v * (v + r))
    freq = np.mean(np.any(loglam >= math.log(1 / alpha), axis=1))
    assert abs(freq - p) <= 4 * math.sqrt(p * (1 - p) / n)


def test_power_with_group_sequential_design() -> None:
    # The maximum n is the fixed n times the inflation factor (both z-tests; the fixed n is
    # 2 (z_{alpha/2} + z_beta)^2 sd^2 / effect^2 per arm, written out here).
    d = neyman.GroupSequentialDesign([0.5, 1.0], alternative="greater", alpha=0.025, power=0.8)
    res = neyman.power(
        effect=0.2, sd=1.0, n=None, power=0.8, test="z", alternative="greater", alpha=0.025,
        sequential=d,
    )  # fmt: skip
    n_fix = 2 * (norm.ppf(0.975) + norm.ppf(0.8)) ** 2 / 0.2**2
    assert res.n == pytest.approx(n_fix * d.inflation_factor, rel=1e-9)
    assert res.power == pytest.approx(0.8, abs=1e-8)
    # Expected total units under H0, closed form for K = 2 (see above).
    stop = norm.sf(d.z_bounds[0])
    assert res.expected_n_h0 == pytest.approx(res.n_total * (0.5 + 0.5 * (1 - stop)), rel=1e-8)
    # Solving the effect at that maximum n gives the effect back; power likewise.
    e = neyman.power(
        effect=None, sd=1.0, n=res.n, power=0.8, test="z", alternative="greater", alpha=0.025,
        sequential=d,
    )  # fmt: skip
    assert e.effect == pytest.approx(0.2, rel=1e-8)


def test_power_with_msprt_design() -> None:
    # Solving n: at the maximum n, the drift effect / se makes msprt_power equal the target.
    m = neyman.MsprtDesign(looks=10)
    res = neyman.power(effect=0.1, sd=1.0, n=None, power=0.8, test="z", sequential=m)
    drift = 0.1 / math.sqrt(2 / res.n)
    assert neyman.msprt_power(drift, 10) == pytest.approx(0.8, abs=1e-7)
    assert res.power == pytest.approx(0.8, abs=1e-7)
