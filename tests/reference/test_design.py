"""Reference tests for experiment design: ``neyman.power`` (and ``mde``), the noncentral t and
Dunnett's critical value in the core, ``mde_by_duration``, the assignment hash and ``balance``.

What is checked, and against which independent reference:

- The noncentral t cdf (``_neyman.nct_cdf``, Lenth's series from the Poisson mode) against
  ``scipy.stats.nct.cdf`` (Boost) on a grid of t (negative, zero, far tails), df (1 to 1e5) and
  noncentralities (0 to 40).
- Power of means against statsmodels ``TTestIndPower`` (noncentral t, both rejection regions) and
  ``NormalIndPower``, unequal allocation and one-sided tests included; solved sample sizes, effects
  and alphas against statsmodels' ``solve_power``, and statsmodels' power evaluated at neyman's
  solution equals the target.
- Proportions against statsmodels ``power_proportions_2indep`` (pooled null variance, unpooled
  alternative), ``samplesize_proportions_2indep_onetail`` (one rejection region) and Cohen's h
  through ``NormalIndPower`` with ``proportion_effectsize``. statsmodels' group 1 is neyman's
  treatment (``prop2`` is the control proportion, ``ratio = nobs2 / nobs1``), so statsmodels'
  ``(nobs1, ratio)`` is neyman's ``(n = ratio * nobs1, ratio = 1 / ratio)``.
- R's published help-page outputs (found in copies of R's output): ``power.t.test(n = 20, delta =
  1)`` -> power 0.8689528; ``power.t.test(power = .90, delta = 1)`` -> n 22.02110, one-sided
  17.84713; ``power.t.test(power = 0.80, delta = 1)`` -> n 16.71477; ``power.t.test(n = 100,
  delta = 1, sd = 2.5)`` -> 0.8036466; ``power.prop.test(n = 50, p1 = .50, p2 = .75)`` -> 0.7401659
  and ``power.prop.test(p1 = .50, p2 = .75, power = .90)`` -> n = 76.7 (the help page's comment;
  the brief's 76.65294 could not be found in any R output, and statsmodels gives 76.70693). R
  counts one rejection region only (``strict = FALSE``): the two-sided R power at ``alpha`` is
  neyman's ``alternative="greater"`` at ``alpha / 2``, compared exactly.
- Dunnett's critical value: the familywise probability at neyman's value, recomputed by
  ``scipy.stats.multivariate_normal.cdf`` (Genz), is ``1 - alpha``; the two-decimal table values
  of Dunnett (1955, table 1a, one-sided) and Dunnett (1964, table II, two-sided) at infinite df;
  for the t case, ``scipy.stats.multivariate_t.cdf``.
- Cluster design effect: Kish ``1 + (m - 1) icc`` and Eldridge et al. (2006) ``1 + ((cv^2 + 1) m -
  1) icc`` by hand; the intra-cluster correlation against the one-way ANOVA estimator written out
  with numpy.
- ``mde_by_duration``: per-day variance, CUPED reduction (squared correlation) and MDE against
  numpy and statsmodels ``NormalIndPower`` on the units seen by each day.
- Assignment: hashes against the ``xxhash`` package (XXH3-64, seeded by the XXH3-64 of the salt).
- Balance: SMDs against numpy; Hansen and Bowers' statistic against the formula written with numpy
  (``d' V^-1 d``).

Tolerances:

- ``TOL_NCT = 1e-10`` absolute: both sides are accurate to ~1e-14 [max measured ~3e-15]; the series
  stops at weights below 1e-20.
- ``TOL_POWER = 1e-9`` absolute on power: the same formula on both sides with quantiles from two
  implementations (statrs polished by Newton on an incomplete-gamma normal cdf, scipy's Cephes)
  [max measured ~1e-13].
- ``RTOL_SOLVE = 1e-6`` relative on solved n and alpha against statsmodels, whose root finder
  (``brentq`` with its default tolerances, sometimes ``fsolve``) stops earlier than neyman's
  (1e-5 on solved effects and 1e-4 on solved alphas, where it stops at ~4e-6 and ~2e-5); the
  sharp check is statsmodels' own power at neyman's solution, to ``TOL_POWER``.
- R: 5e-8 on powers (printed to 7 digits), 2e-4 on n (R's ``uniroot`` tolerance is
  ``.Machine$double.eps^0.25 = 1.2e-4``), 0.05 on the help page's "76.7".
- Dunnett: 1e-6 on the probability by Genz's algorithm (``abseps=1e-7``); 0.005
  on table values printed to two decimals; 2e-3 on the t probability (quasi-Monte Carlo error of
  ``multivariate_t.cdf`` at its default 1e6 points is ~1e-4).
- ``RTOL = 1e-9`` on sample moments, SMDs, Hansen-Bowers and ICC (sums in a different order).
"""

from __future__ import annotations

import math

import neyman
import numpy as np
import pandas as pd
import pytest
import xxhash
from neyman import _neyman
from scipy import stats
from statsmodels.stats.power import NormalIndPower, TTestIndPower
from statsmodels.stats.proportion import (
    power_proportions_2indep,
    proportion_effectsize,
    samplesize_proportions_2indep_onetail,
)

TOL_NCT = 1e-10
TOL_POWER = 1e-9
RTOL_SOLVE = 1e-6
RTOL = 1e-9
SM_ALT = {"two-sided": "two-sided", "greater": "larger", "less": "smaller"}


# --------------------------------------------------------------------------------------------
# Noncentral t
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("df", [1.0, 2.5, 5.0, 10.0, 38.0, 200.0, 1e4, 1e5])
@pytest.mark.parametrize("nc", [0.0, 0.3, -1.2, 2.8, 8.0, 40.0])
def test_nct_cdf_against_scipy(df: float, nc: float) -> None:
    for t in (-50.0, -3.0, -0.5, 0.0, 0.7, 2.0, 4.5, 12.0, 45.0):
        expect = stats.nct.cdf(t, df, nc)
        if math.isnan(expect):
            # Boost gives up in a few far tails (t = -50): the true value is far below 1e-10.
            assert 0.0 <= _neyman.nct_cdf(t, df, nc) < TOL_NCT
            continue
        got = _neyman.nct_cdf(t, df, nc)
        assert abs(got - expect) < TOL_NCT, (t, df, nc, got, expect)


# --------------------------------------------------------------------------------------------
# Means
# --------------------------------------------------------------------------------------------

MEAN_CASES = [
    # (effect, sd, n_control, ratio, alpha, alternative)
    (0.5, 1.0, 30, 1.0, 0.05, "two-sided"),
    (0.2, 1.0, 200, 2.0, 0.05, "two-sided"),
    (1.3, 2.0, 12, 0.5, 0.01, "greater"),
    (-0.4, 1.5, 80, 1.0, 0.1, "less"),
    (0.05, 1.0, 5000, 3.0, 0.05, "two-sided"),
]


@pytest.mark.parametrize(("effect", "sd", "n", "ratio", "alpha", "alternative"), MEAN_CASES)
def test_t_power_against_statsmodels(
    effect: float, sd: float, n: int, ratio: float, alpha: float, alternative: str
) -> None:
    res = neyman.power(effect=effect, n=n, sd=sd, ratio=ratio, alpha=alpha, alternative=alternative)
    expect = TTestIndPower().power(
        effect / sd, n, alpha, ratio=ratio, alternative=SM_ALT[alternative]
    )
    assert abs(res.power - expect) < TOL_POWER
    assert res.df == pytest.approx(n * (1 + ratio) - 2, rel=1e-15)


@pytest.mark.parametrize(("effect", "sd", "n", "ratio", "alpha", "alternative"), MEAN_CASES)
def test_z_power_against_statsmodels(
    effect: float, sd: float, n: int, ratio: float, alpha: float, alternative: str
) -> None:
    res = neyman.power(
        effect=effect, n=n, sd=sd, ratio=ratio, alpha=alpha, alternative=alternative, test="z"
    )
    expect = NormalIndPower().power(
        effect / sd, n, alpha, ratio=ratio, alternative=SM_ALT[alternative]
    )
    assert abs(res.power - expect) < TOL_POWER
    assert math.isinf(res.df)


@pytest.mark.parametrize("test", ["t", "z"])
@pytest.mark.parametrize(
    ("d", "power", "ratio", "alternative"),
    [(0.5, 0.8, 1.0, "two-sided"), (0.2, 0.9, 2.0, "greater"), (0.8, 0.7, 0.5, "two-sided")],
)
def test_solved_n_against_statsmodels(
    test: str, d: float, power: float, ratio: float, alternative: str
) -> None:
    engine = TTestIndPower() if test == "t" else NormalIndPower()
    res = neyman.power(
        effect=d, n=None, power=power, sd=1.0, ratio=ratio, alternative=alternative, test=test
    )
    sm_alt = SM_ALT[alternative]
    expect = engine.solve_power(d, None, 0.05, power, ratio=ratio, alternative=sm_alt)
    assert res.n == pytest.approx(expect, rel=RTOL_SOLVE)
    assert abs(engine.power(d, res.n, 0.05, ratio=ratio, alternative=sm_alt) - power) < TOL_POWER


@pytest.mark.parametrize("test", ["t", "z"])
def test_solved_effect_and_alpha_against_statsmodels(test: str) -> None:
    engine = TTestIndPower() if test == "t" else NormalIndPower()
    res = neyman.mde(50, power=0.8, sd=1.0, test=test)
    # statsmodels' effect solver stops early (4e-6 relative measured): its power at neyman's
    # effect is the sharp check.
    assert res.effect == pytest.approx(engine.solve_power(None, 50, 0.05, 0.8), rel=1e-5)
    assert abs(engine.power(res.effect, 50, 0.05) - 0.8) < TOL_POWER
    res = neyman.power(effect=0.5, n=50, power=0.8, alpha=None, sd=1.0, test=test)
    assert res.alpha == pytest.approx(engine.solve_power(0.5, 50, None, 0.8), rel=1e-4)
    assert abs(engine.power(0.5, 50, res.alpha) - 0.8) < TOL_POWER


def test_r_power_t_test_help_page() -> None:
    # R's two-sided power counts one rejection region: neyman's 'greater' at alpha / 2.
    r_power = neyman.power(effect=1.0, n=20, sd=1.0, alpha=0.025, alternative="greater")
    assert abs(r_power.power - 0.8689528) < 5e-8
    r_power = neyman.power(effect=1.0, n=100, sd=2.5, alpha=0.025, alternative="greater")
    assert abs(r_power.power - 0.8036466) < 5e-8
    n = neyman.power(effect=1.0, power=0.9, n=None, sd=1.0, alpha=0.025, alternative="greater").n
    assert abs(n - 22.02110) < 2e-4
    n = neyman.power(effect=1.0, power=0.8, n=None, sd=1.0, alpha=0.025, alternative="greater").n
    assert abs(n - 16.71477) < 2e-4
    n = neyman.power(effect=1.0, power=0.9, n=None, sd=1.0, alternative="greater").n
    assert abs(n - 17.84713) < 2e-4
    # Both regions (neyman's two-sided default) add at most ~2e-7 here.
    both = neyman.power(effect=1.0, n=20, sd=1.0).power
    assert 0.0 < both - 0.8689528 < 5e-7


# --------------------------------------------------------------------------------------------
# Proportions
# --------------------------------------------------------------------------------------------

PROP_CASES = [
    # (p_control, effect, n_control, ratio, alpha, alternative)
    (0.5, 0.25, 50, 1.0, 0.05, "two-sided"),
    (0.1, 0.02, 3000, 1.0, 0.05, "two-sided"),
    (0.3, -0.05, 800, 2.0, 0.05, "less"),
    (0.02, 0.004, 20000, 0.5, 0.01, "greater"),
]


@pytest.mark.parametrize(("p", "effect", "n", "ratio", "alpha", "alternative"), PROP_CASES)
def test_proportions_power_against_statsmodels(
    p: float, effect: float, n: int, ratio: float, alpha: float, alternative: str
) -> None:
    res = neyman.power(
        effect=effect, n=n, proportion=p, ratio=ratio, alpha=alpha, alternative=alternative
    )
    # statsmodels' group 1 is the treatment: nobs1 = n_t, ratio = n_c / n_t.
    expect = power_proportions_2indep(
        effect, p, n * ratio, ratio=1 / ratio, alpha=alpha, alternative=SM_ALT[alternative]
    ).power
    assert abs(res.power - expect) < TOL_POWER


@pytest.mark.parametrize("ratio", [1.0, 2.0, 0.5])
def test_one_tail_sample_size_against_statsmodels(ratio: float) -> None:
    res = neyman.power(
        effect=0.03, n=None, power=0.8, proportion=0.2, ratio=ratio, alternative="greater"
    )
    nobs1 = samplesize_proportions_2indep_onetail(
        0.03, 0.2, 0.8, ratio=1 / ratio, alpha=0.05, alternative="larger"
    )
    # neyman's n counts control units, statsmodels' nobs1 treatment units.
    assert res.n * ratio == pytest.approx(nobs1, rel=1e-9)


def test_r_power_prop_test_help_page() -> None:
    res = neyman.power(effect=0.25, n=50, proportion=0.5, alpha=0.025, alternative="greater")
    assert abs(res.power - 0.7401659) < 5e-8
    res = neyman.power(
        effect=0.25, n=None, power=0.9, proportion=0.5, alpha=0.025, alternative="greater"
    )
    assert abs(res.n - 76.7) < 0.05
    nobs = samplesize_proportions_2indep_onetail(0.25, 0.5, 0.9)
    assert res.n == pytest.approx(nobs, rel=1e-9)


@pytest.mark.parametrize(
    ("p", "effect", "n"), [(0.5, 0.25, 50), (0.1, 0.02, 3000), (0.6, -0.1, 90)]
)
def test_cohens_h_against_normal_ind_power(p: float, effect: float, n: int) -> None:
    res = neyman.power(effect=effect, n=n, proportion=p, variance="arcsine")
    h = proportion_effectsize(p + effect, p)
    assert abs(res.power - NormalIndPower().power(h, n, 0.05)) < TOL_POWER


def test_unpooled_proportions_match_the_wald_formula() -> None:
    # Wald: se0 = se1 = sqrt(p_t q_t / n_t + p_c q_c / n_c): NormalIndPower on d / (sd sqrt(2)).
    p, e, n = 0.3, 0.05, 1000
    res = neyman.power(effect=e, n=n, proportion=p, variance="unpooled")
    se = math.sqrt((p + e) * (1 - p - e) / n + p * (1 - p) / n)
    z = stats.norm.isf(0.025)
    expect = stats.norm.sf(z - e / se) + stats.norm.cdf(-z - e / se)
    assert abs(res.power - expect) < TOL_POWER


# --------------------------------------------------------------------------------------------
# Several arms, non-inferiority, clusters, CUPED, relative effects
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("k", "alternative", "table"),
    [
        (2, "two-sided", 2.21),
        (3, "two-sided", 2.35),
        (4, "two-sided", 2.44),
        (5, "two-sided", 2.51),
        (2, "greater", 1.92),
        (3, "greater", 2.06),
        (4, "greater", 2.16),
    ],
)
def test_dunnett_critical_values(k: int, alternative: str, table: float) -> None:
    c = _neyman.multiple_critical_value(0.05, k, 0.5, math.inf, alternative, "dunnett")
    assert abs(c - table) < 0.005
    cov = np.full((k, k), 0.5) + 0.5 * np.eye(k)
    mvn = stats.multivariate_normal(np.zeros(k), cov, abseps=1e-7, releps=0, maxpts=10**6)
    lower = np.full(k, -c if alternative == "two-sided" else -np.inf)
    prob = mvn.cdf(np.full(k, c), lower_limit=lower)
    assert abs(prob - 0.95) < 1e-6


def test_dunnett_t_critical_value() -> None:
    c = _neyman.multiple_critical_value(0.05, 3, 0.5, 20.0, "two-sided", "dunnett")
    cov = np.full((3, 3), 0.5) + 0.5 * np.eye(3)
    mvt = stats.multivariate_t(np.zeros(3), cov, df=20, seed=1)
    prob = mvt.cdf(np.full(3, c), lower_limit=np.full(3, -c))
    assert abs(prob - 0.95) < 2e-3
    # Bonferroni's value is the single test's at alpha / k.
    b = _neyman.multiple_critical_value(0.05, 3, 0.5, 20.0, "two-sided", "bonferroni")
    assert b == pytest.approx(stats.t.isf(0.05 / 6, 20), rel=1e-12)


def test_several_arms_power_uses_the_split_alpha() -> None:
    # Bonferroni with 3 treatments: each comparison is the single test at alpha / 3.
    res = neyman.power(effect=0.3, n=100, sd=1.0, arms=4, test="z")
    single = NormalIndPower().power(0.3, 100, 0.05 / 3)
    assert abs(res.power - single) < TOL_POWER
    assert res.n_total == pytest.approx(400.0)
    # Dunnett: the same power formula at Dunnett's critical value.
    res = neyman.power(effect=0.3, n=100, sd=1.0, arms=4, test="z", correction="dunnett")
    c = _neyman.multiple_critical_value(0.05, 3, 0.5, math.inf, "two-sided", "dunnett")
    z = 0.3 / math.sqrt(2 / 100)
    assert abs(res.power - (stats.norm.sf(c - z) + stats.norm.cdf(-c - z))) < TOL_POWER
    # Weights 0.4 / 0.3 / 0.3: ratio 0.75, two treatment arms.
    res = neyman.power(effect=0.3, n=100, sd=1.0, weights=[0.4, 0.3, 0.3], test="z")
    assert res.ratio == pytest.approx(0.75)
    assert res.arms == 3
    single = NormalIndPower().power(0.3, 100, 0.025, ratio=0.75)
    assert abs(res.power - single) < TOL_POWER


def test_non_inferiority_margin_shifts_the_null() -> None:
    # H0: effect <= -margin; power at true effect d is the superiority power at d + margin.
    res = neyman.power(effect=0.0, n=300, sd=1.0, margin=0.2, alternative="greater", test="z")
    expect = NormalIndPower().power(0.2, 300, 0.05, alternative="larger")
    assert abs(res.power - expect) < TOL_POWER
    res = neyman.power(effect=0.0, n=300, sd=1.0, margin=0.2, alternative="greater")
    expect = TTestIndPower().power(0.2, 300, 0.05, alternative="larger")
    assert abs(res.power - expect) < TOL_POWER
    # Proportions (Blackwelder 1982, Wald variance): Phi((d + margin) / se - z).
    res = neyman.power(
        effect=0.01, n=2000, proportion=0.3, margin=0.04, alternative="greater", variance="unpooled"
    )
    se = math.sqrt(0.31 * 0.69 / 2000 + 0.3 * 0.7 / 2000)
    expect = stats.norm.sf(stats.norm.isf(0.05) - 0.05 / se)
    assert abs(res.power - expect) < TOL_POWER


def test_cluster_design_effect_and_cuped() -> None:
    assert _neyman.design_effect(0.05, 21.0, 0.0) == pytest.approx(2.0, rel=1e-15)
    assert _neyman.design_effect(0.02, 50.0, 0.6) == pytest.approx(
        1 + ((0.36 + 1) * 50 - 1) * 0.02, rel=1e-15
    )
    # Variance inflated by deff and deflated by 1 - R^2: a z-test at effect / sqrt(factor).
    res = neyman.power(
        effect=0.1, n=2000, sd=1.0, test="z", icc=0.01, cluster_size=30, variance_reduction=0.4
    )
    factor = (1 + 29 * 0.01) * 0.6
    assert abs(res.power - NormalIndPower().power(0.1 / math.sqrt(factor), 2000, 0.05)) < TOL_POWER
    assert res.variance_factor == pytest.approx(factor, rel=1e-15)


def test_relative_effects() -> None:
    res = neyman.power(effect=0.05, n=1000, sd=4.0, baseline=20.0, relative=True, test="z")
    assert abs(res.power - NormalIndPower().power(1.0 / 4.0, 1000, 0.05)) < TOL_POWER
    res = neyman.mde(5000, proportion=0.1, relative=True)
    absolute = neyman.mde(5000, proportion=0.1).effect
    assert res.effect * 0.1 == pytest.approx(absolute, rel=1e-9)


def test_power_from_history_ratio_metric() -> None:
    g = np.random.default_rng(3)
    den = g.poisson(10, 5000).astype(float) + 1
    num = g.binomial(den.astype(int), 0.2).astype(float)
    df = pd.DataFrame({"clicks": num, "views": den})
    res = neyman.mde(4000, history=df, metric=("clicks", "views"))
    # Delta method by hand (Deng et al. 2018): var = (s_nn - 2 r s_nd + r^2 s_dd) / m_d^2.
    mn, md = num.mean(), den.mean()
    c = np.cov(num, den)
    r = mn / md
    var = (c[0, 0] - 2 * r * c[0, 1] + r * r * c[1, 1]) / md**2
    assert res.sd == pytest.approx(math.sqrt(var), rel=RTOL)
    assert res.baseline == pytest.approx(r, rel=RTOL)
    assert abs(NormalIndPower().power(res.effect / math.sqrt(var), 4000, 0.05) - 0.8) < TOL_POWER


# --------------------------------------------------------------------------------------------
# MDE by duration
# --------------------------------------------------------------------------------------------


def test_mde_by_duration_against_numpy_and_statsmodels() -> None:
    g = np.random.default_rng(11)
    n = 6000
    pre = g.gamma(2.0, 3.0, n)
    df = pd.DataFrame({"day": g.integers(0, 10, n), "pre": pre, "y": 0.8 * pre + g.normal(0, 4, n)})
    res = neyman.mde_by_duration(df, metric="y", date="day", covariate="pre", days=[3, 10])
    for row in res.rows:
        seen = df[df["day"] < row["days"]]
        assert row["units"] == len(seen)
        assert row["sd"] == pytest.approx(seen["y"].std(ddof=1), rel=RTOL)
        rho = np.corrcoef(seen["y"], seen["pre"])[0, 1]
        assert row["variance_reduction"] == pytest.approx(rho**2, rel=RTOL)
        nc = len(seen) / 2
        sm = NormalIndPower()
        assert abs(sm.power(row["mde"] / row["sd"], nc, 0.05) - 0.8) < TOL_POWER
        sd_cuped = row["sd"] * math.sqrt(1 - rho**2)
        assert abs(sm.power(row["mde_cuped"] / sd_cuped, nc, 0.05) - 0.8) < TOL_POWER
        assert row["rel_mde"] == pytest.approx(row["mde"] / seen["y"].mean(), rel=RTOL)


def test_icc_against_one_way_anova() -> None:
    g = np.random.default_rng(5)
    sizes = g.integers(5, 40, 60)
    cluster = np.repeat(np.arange(60), sizes).astype(np.int32)
    y = g.normal(0, 1, 60)[cluster] * 0.5 + g.normal(0, 1, len(cluster))
    icc, mean_size, cv = _neyman.icc_anova(y, cluster, 60)
    # Donner (1986): (MSB - MSW) / (MSB + (m0 - 1) MSW), m0 = (N - sum m^2 / N) / (G - 1).
    big_n, groups = len(y), 60
    means = np.array([y[cluster == k].mean() for k in range(groups)])
    ssb = float(np.sum(sizes * (means - y.mean()) ** 2))
    ssw = float(sum(((y[cluster == k] - means[k]) ** 2).sum() for k in range(groups)))
    msb, msw = ssb / (groups - 1), ssw / (big_n - groups)
    m0 = (big_n - np.sum(sizes**2) / big_n) / (groups - 1)
    assert icc == pytest.approx((msb - msw) / (msb + (m0 - 1) * msw), rel=RTOL)
    assert mean_size == pytest.approx(sizes.mean(), rel=RTOL)
    assert cv == pytest.approx(sizes.std(ddof=1) / sizes.mean(), rel=RTOL)


# --------------------------------------------------------------------------------------------
# Assignment and balance
# --------------------------------------------------------------------------------------------


def test_assignment_hash_is_xxh3_of_the_id_seeded_by_the_salt() -> None:
    ids = np.array([0, 1, -1, 2**62, 123456789], dtype=np.int64)
    key = xxhash.xxh3_64_intdigest(b"checkout-2026")
    expect = [
        xxhash.xxh3_64_intdigest(int(i).to_bytes(8, "little", signed=True), seed=key) for i in ids
    ]
    assert _neyman.assignment_hashes(ids, "checkout-2026").tolist() == expect
    # The arm follows from u = (h >> 11) / 2^53 and the cumulative weights.
    arms = neyman.assign(ids, salt="checkout-2026", arms=["a", "b", "c"], weights=[0.2, 0.3, 0.5])
    u = np.array([(h >> 11) / 2**53 for h in expect])
    assert arms.tolist() == [
        ["a", "b", "c"][int(np.searchsorted([0.2, 0.5], x, side="right"))] for x in u
    ]
    # String ids hash their UTF-8 bytes.
    words = ["alice", "bob", "zoë"]
    s = neyman.assign(words, salt="s", as_codes=True)
    key = xxhash.xxh3_64_intdigest(b"s")
    hs = [xxhash.xxh3_64_intdigest(w.encode(), seed=key) for w in words]
    assert s.tolist() == [int((h >> 11) / 2**53 >= 0.5) for h in hs]


def test_balance_against_numpy() -> None:
    g = np.random.default_rng(2)
    n = 3000
    df = pd.DataFrame(
        {
            "arm": g.choice(["c", "t"], n),
            "x1": g.normal(5, 2, n),
            "x2": g.poisson(3, n).astype(float),
        }
    )
    df.loc[df["arm"] == "t", "x1"] += 0.1
    res = neyman.balance(df, variant="arm", covariates=["x1", "x2"], control="c")
    c, t = df[df["arm"] == "c"], df[df["arm"] == "t"]
    for row in res.rows:
        name = row["covariate"]
        smd = (t[name].mean() - c[name].mean()) / math.sqrt((t[name].var() + c[name].var()) / 2)
        assert row["smd"] == pytest.approx(smd, rel=RTOL)
    x = df[["x1", "x2"]].to_numpy()
    d = t[["x1", "x2"]].mean().to_numpy() - c[["x1", "x2"]].mean().to_numpy()
    big_n, nt, nc = n, len(t), len(c)
    scatter = (x - x.mean(0)).T @ (x - x.mean(0))
    v = big_n / (nt * nc * (big_n - 1)) * scatter
    stat = float(d @ np.linalg.solve(v, d))
    (omni,) = res.omnibus
    assert omni["statistic"] == pytest.approx(stat, rel=RTOL)
    assert omni["pvalue"] == pytest.approx(stats.chi2.sf(stat, 2), rel=1e-8)
    srm = neyman.srm({"c": len(c), "t": len(t)})
    assert res.srm.statistic == pytest.approx(srm.statistic, rel=1e-12)
