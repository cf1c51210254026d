"""Reference tests for variance reduction: CUPED, ratio CUPED, regression adjustment (Lin 2013,
ANCOVA) and post-stratification.

What is checked, and against which independent reference:

1. ``neyman.cuped`` (and ``Experiment.analyze(Mean(y, covariate=x))``, ``Proportion(covariate=)``)
   against a hand computation in this file (numpy moments, scipy distributions): ``theta`` from
   the two compared arms pooled (``np.cov`` of the union, ``ddof=1``), the adjusted effect
   ``(ybar_t - ybar_c) - theta (xbar_t - xbar_c)``, per-arm variances
   ``(s_yy - 2 theta s_xy + theta^2 s_xx) / n``, Welch df on them, ``scipy.stats.t`` (or
   ``norm``) p-value and interval; the relative effect ``effect / ybar_c`` with the delta variance
   of ``N / ybar_c``, ``N = ybar_c + effect``, ``Var(N) = v_t + theta^2 s_xx,c/n_c``,
   ``Cov(N, ybar_c) = theta s_xy,c/n_c``; the Fieller interval as the roots of its quadratic
   found by ``np.roots`` (eigenvalues of the companion matrix, not the closed form neyman uses).
   Three alternatives, three levels, six seeded data shapes x three seeds (one with a control
   mean within its se of 0, so Fieller is unbounded), Welch and z; inputs:
   arrays, ``CupedStats.from_sums`` (sums by numpy), dicts of arrays, 3-arm pandas and polars
   frames. ``unadjusted`` is checked against ``scipy.stats.ttest_ind(equal_var=False)`` and
   ``variance_ratio`` against ``(se_adjusted / se_unadjusted)^2`` with the unadjusted se from
   ``scipy.stats.sem``.
2. tea-tasting 1.14 (its own aggregation and formulas): ``Mean(y, x, use_t=True,
   equal_var=False)`` against CUPED with ``test='welch'``, and ``RatioOfMeans(numer, denom,
   numer_covariate, denom_covariate, use_t=False, equal_var=False)`` against
   ``Ratio(..., numerator_covariate=, denominator_covariate=)`` (neyman: z reference, hence
   ``use_t=False``, an option tea-tasting has). One ``tt.Experiment(...).analyze(frame)`` per
   data set at tea-tasting's defaults, then every alternative and level on tea-tasting's own
   aggregates (``tt.aggr.read_aggregates``, read once). Compared, because defined identically:
   ``effect_size``, ``effect_size_ci_lower/upper``, ``pvalue``, ``statistic``. Not compared:
   tea-tasting's ``control``/``treatment`` are the covariate-adjusted means
   ``m - theta (c - c_pooled)`` (neyman reports the unadjusted control mean and
   ``control + effect``), so its ``rel_effect_size`` is a ratio of two adjusted means, a different
   estimand from neyman's ``effect / control``; and its relative interval is built on the log
   scale. Ratio CUPED is also checked field by field against a hand linearisation (gradients of
   both ratios applied to the 4x4 ``np.cov`` matrix, theta from the pooled one).
3. statsmodels OLS (``statsmodels.formula.api.ols(...).fit(cov_type=HC0|HC1|HC2)``) for
   ``neyman.regression_adjust`` and ``Mean(y, covariate=[...], categorical=[...])``: covariates and
   dummies (first sorted level dropped) centred in the test at their pooled means; interacted
   ``y ~ t1 * (z...)`` (Lin) and additive ``y ~ t1 + z...``, one model with indicators of every
   treatment arm for three arms (so HC1's ``n / (n - p)`` uses the full model's p). Compared: the
   arm coefficient, ``bse``, ``pvalues``, ``conf_int``; one-sided p-values and bounds from those by
   ``scipy.stats.norm``; control/treatment values (the adjusted means at the pooled covariate
   means: ``Intercept`` and ``Intercept + coef``) and the relative effect (delta, Fieller) from
   ``params`` and ``cov_params`` by that linear map. Cases: numeric only, string categorical,
   integer categorical, heteroskedastic errors, unequal 3-arm split (70/20/10),
   ``missing_covariate='indicator'`` (filled column plus its indicator, missing category as its
   own level), ``nan_policy='omit'`` (statsmodels on the complete rows, centred on them), pandas
   and polars frames, and post-stratification ``Mean(y, strata=s)`` against the hand formula
   ``sum_s w_s (ybar_ts - ybar_cs)`` with pooled shares and ``sum_s w_s^2 (s_ts^2/n_ts +
   s_cs^2/n_cs)``, the HC2 variance of the saturated model (leverage ``1/n_gs`` in each cell),
   and against statsmodels' interacted HC2 fit on the centred stratum dummies. Many strata (50
   and 120 integer levels, the O(rows) post-stratification kernel): every field, HC0/HC1/HC2,
   three alternatives, delta and Fieller, against statsmodels and the hand closed form (HC0
   ``w_s^2 s^2 (n - 1) / n^2``, HC1 that times ``N / (N - G L)``); two numeric covariates beside
   the 50 strata (Lin's model solved by its arrow structure) against statsmodels; the additive
   model with one 60-level categorical, with and without a numeric covariate (solved by its arrow
   structure too), against statsmodels' ``y ~ C(arm) + x1 + C(s)``, HC0/HC1/HC2.
4. The post-stratification kernel against the dense regression kernel (``regression_test`` on the
   same one-categorical design): every output field, counts of skipped rows, and, on degenerate
   designs (a level empty in an arm, level 0 or the last level empty, a singleton cell under HC2,
   a one-row arm, fewer rows than columns), the same exception with the same message.
5. The vectorised level encoder against the per-level loop it replaced (pandas, polars, pyarrow;
   integers of small and wide range, floats with NaN, booleans, strings with missing values,
   categoricals, nullable integers, mixed objects, datetimes): same codes and level names.

Tolerances (measured maxima over this file in brackets; run with ``NEYMAN_TEST_REPORT=<path>`` to
write them to a file):

- ``RTOL = 1e-9`` for closed forms (theta, effect, se, statistic, df, values, rel_effect,
  rel_se, variance_ratio): both sides run the same few float64 operations on moments each computes
  stably (neyman: Welford/Chan co-moments, or normal equations on centred sums for regression;
  the references: two-pass numpy moments, tea-tasting's own aggregates, statsmodels' pinv on a
  design matrix of condition number <= 25 here), so they agree to ~1e-13; formula slips (a missing
  covariance term, ddof, pooling theta over the wrong arms, the wrong p in HC1) show at 1e-4 or
  more. Differences of nearly equal numbers (effect, interval bounds, statistic) also get an
  absolute allowance of ``1e-9`` standard errors, far below anything a reader could see.
  [hand CUPED 8e-14, from_sums 1.2e-13, ratio CUPED 2e-14, post-stratification 3e-14; scipy
  unadjusted 3e-14; tea-tasting 5e-14; statsmodels 5e-14; dense regression kernel 1.2e-12, its
  Cholesky on 150 columns being the less accurate side]
- ``RTOL_P = 1e-8`` for p-values: neyman uses statrs (incomplete beta, erfc), scipy Boost/Cephes.
  [t: 5e-12 (tea-tasting Mean); normal: 1.0e-10]
- ``RTOL_Q = 1e-6`` on interval half-widths |bound - estimate|, i.e. on the critical value
  (statrs vs Boost inverse t at df <= ~3e3). A relative error e in the critical value moves the
  coverage of a 95% interval by about 0.23 e. [normal: 6e-12; t: 2.8e-9, at df ~2.3e3 and 80%
  one-sided]
- ``CupedStats.from_sums``: co-moments from raw sums lose ``log10(sum(x^2) / c_xx)`` digits; the
  data keep that below 3 (asserted), so RTOL still holds [1.2e-13].

neyman bugs found: none; every comparison here passes at these tolerances.
"""

from __future__ import annotations

import functools
import itertools
import json
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import neyman
import numpy as np
import pandas as pd
import polars as pl
import pytest
import scipy.stats
import statsmodels.api as sm
import statsmodels.formula.api as smf
import tea_tasting as tt
from neyman import _neyman
from statsmodels.regression.linear_model import RegressionResultsWrapper

from tests.conftest import ADJUSTED_FLOAT_FIELDS

RTOL = 1e-9
RTOL_P = 1e-8
RTOL_Q = 1e-6
ATOL_SE = 1e-9  # absolute allowance on effects and bounds, in standard errors

ALTERNATIVES = ["two-sided", "less", "greater"]
LEVELS = [0.8, 0.95, 0.99]

# Largest relative discrepancy seen per (reference, kind of quantity); written out on request.
_MAX: dict[str, float] = {}


@pytest.fixture(scope="module", autouse=True)
def _report() -> Iterator[None]:
    yield
    path = os.environ.get("NEYMAN_TEST_REPORT")
    if path:
        with open(path, "w") as f:
            json.dump(dict(sorted(_MAX.items())), f, indent=1)


def _record(key: str, value: float) -> None:
    if math.isfinite(value):
        _MAX[key] = max(_MAX.get(key, 0.0), value)


def assert_close(
    actual: float,
    expected: float,
    *,
    rtol: float = RTOL,
    atol: float = 0.0,
    what: str,
    ref: str,
) -> None:
    if math.isinf(expected):
        assert actual == expected, (what, actual, expected)
        return
    diff = abs(actual - expected)
    _record(f"{ref}: {'pvalue' if rtol == RTOL_P else 'closed form'}", diff / abs(expected))
    assert diff <= rtol * abs(expected) + atol, (
        f"{what}: actual={actual!r} expected={expected!r} rel={diff / abs(expected):.3g}"
    )


def assert_bound(
    actual: float, expected: float, center: float, *, atol: float = 0.0, what: str, ref: str
) -> None:
    """An interval bound: RTOL on the bound, RTOL_Q on the half-width |bound - center|."""
    if math.isinf(expected):
        assert actual == expected, (what, actual, expected)
        return
    diff = abs(actual - expected)
    half = abs(expected - center)
    _record(f"{ref}: half-width", diff / half)
    assert diff <= RTOL * abs(expected) + RTOL_Q * half + atol, (
        f"{what}: actual={actual!r} expected={expected!r} diff={diff:.3g} half-width={half:.3g}"
    )


def _pvalue(dist: Any, stat: float, alternative: str) -> float:
    if alternative == "two-sided":
        return 2 * float(dist.sf(abs(stat)))
    return float(dist.sf(stat) if alternative == "greater" else dist.cdf(stat))


def _critical(dist: Any, level: float, alternative: str) -> float:
    return float(dist.ppf((1 + level) / 2 if alternative == "two-sided" else level))


def _interval(est: float, se: float, q: float, alternative: str) -> tuple[float, float]:
    lo, hi = est - q * se, est + q * se
    if alternative == "greater":
        hi = math.inf
    elif alternative == "less":
        lo = -math.inf
    return lo, hi


def _fieller(
    num: float, den: float, v_num: float, v_den: float, cov: float, q: float, alternative: str
) -> tuple[float, float]:
    """{rho : (num - rho den)^2 <= q^2 Var(num - rho den)}: the roots of
    (den^2 - q^2 v_den) rho^2 - 2 (num den - q^2 cov) rho + (num^2 - q^2 v_num), by np.roots."""
    a = den * den - q * q * v_den
    if a <= 0:
        return -math.inf, math.inf
    roots = np.roots([a, -2 * (num * den - q * q * cov), num * num - q * q * v_num])
    assert np.all(np.isreal(roots)), roots
    lo, hi = sorted(float(r) for r in np.real(roots))
    if alternative == "greater":
        hi = math.inf
    elif alternative == "less":
        lo = -math.inf
    return lo, hi


def _relative(
    num: float,
    den: float,
    v_num: float,
    v_den: float,
    cov: float,
    q: float,
    alternative: str,
    relative_ci: str,
) -> dict[str, float]:
    """num/den - 1 with the delta variance of a ratio of correlated estimates, and its interval."""
    rel_var = v_num / den**2 - 2 * num * cov / den**3 + num**2 * v_den / den**4
    rel_se = math.sqrt(rel_var)
    if relative_ci == "delta":
        lo, hi = _interval(num / den, rel_se, q, alternative)
    else:
        lo, hi = _fieller(num, den, v_num, v_den, cov, q, alternative)
    return {
        "rel_effect": num / den - 1,
        "rel_se": rel_se,
        "rel_ci_low": lo - 1,
        "rel_ci_high": hi - 1,
    }


def assert_matches(res: neyman.TestResult, exp: dict[str, float], *, what: str, ref: str) -> None:
    """Every field of ``exp`` (a hand or statsmodels reference) against ``res``."""
    atol = ATOL_SE * exp["se"]
    for f in ("control_value", "treatment_value", "se", "rel_se", "theta", "variance_ratio"):
        if f in exp:
            assert_close(getattr(res, f), exp[f], what=f"{what} {f}", ref=ref)
    if "df" in exp:
        if math.isinf(exp["df"]):
            assert math.isinf(res.df), (what, res.df)
        else:
            assert_close(res.df, exp["df"], what=f"{what} df", ref=ref)
    assert_close(res.effect, exp["effect"], atol=atol, what=f"{what} effect", ref=ref)
    assert_close(res.rel_effect, exp["rel_effect"], atol=1e-15, what=f"{what} rel_effect", ref=ref)
    assert_close(res.statistic, exp["statistic"], atol=ATOL_SE, what=f"{what} statistic", ref=ref)
    assert_close(
        res.pvalue, exp["pvalue"], rtol=RTOL_P, atol=1e-300, what=f"{what} pvalue", ref=ref
    )
    for f in ("ci_low", "ci_high"):
        assert_bound(getattr(res, f), exp[f], exp["effect"], atol=atol, what=f"{what} {f}", ref=ref)
    rel_atol = ATOL_SE * exp["rel_se"]
    for f in ("rel_ci_low", "rel_ci_high"):
        assert_bound(
            getattr(res, f), exp[f], exp["rel_effect"], atol=rel_atol, what=f"{what} {f}", ref=ref
        )


# --------------------------------------------------------------------------------------------------
# Hand CUPED: linearised arms (a mean metric with a mean covariate, or two ratios)


@dataclass(frozen=True)
class Lin:
    """One arm (or the pooled arms): metric value m, covariate value c, per-unit (co)variances."""

    n: int
    m: float
    c: float
    vmm: float
    vcc: float
    vmc: float


def lin_mean(y: np.ndarray, x: np.ndarray) -> Lin:
    s = np.cov(np.vstack([y, x]), ddof=1)
    return Lin(len(y), float(y.mean()), float(x.mean()), s[0, 0], s[1, 1], s[0, 1])


def lin_ratio(num: np.ndarray, den: np.ndarray, num_x: np.ndarray, den_x: np.ndarray) -> Lin:
    """Delta method (Deng, Knoblich, Lu 2018): gradients of num/den and num_x/den_x."""
    data = np.vstack([num, den, num_x, den_x])
    mu = data.mean(axis=1)
    s = np.cov(data, ddof=1)
    gm = np.array([1 / mu[1], -mu[0] / mu[1] ** 2, 0.0, 0.0])
    gc = np.array([0.0, 0.0, 1 / mu[3], -mu[2] / mu[3] ** 2])
    return Lin(len(num), mu[0] / mu[1], mu[2] / mu[3], gm @ s @ gm, gc @ s @ gc, gm @ s @ gc)


def cuped_hand(
    lc: Lin,
    lt: Lin,
    pooled: Lin,
    *,
    test: str,
    alternative: str,
    level: float,
    relative_ci: str,
) -> dict[str, float]:
    theta = pooled.vmc / pooled.vcc
    v_c = (lc.vmm - 2 * theta * lc.vmc + theta**2 * lc.vcc) / lc.n
    v_t = (lt.vmm - 2 * theta * lt.vmc + theta**2 * lt.vcc) / lt.n
    var = v_c + v_t
    effect = (lt.m - lc.m) - theta * (lt.c - lc.c)
    se = math.sqrt(var)
    if test == "welch":
        df = var**2 / (v_c**2 / (lc.n - 1) + v_t**2 / (lt.n - 1))
        dist: Any = scipy.stats.t(df)
    else:
        df = math.inf
        dist = scipy.stats.norm()
    stat = effect / se
    q = _critical(dist, level, alternative)
    lo, hi = _interval(effect, se, q, alternative)
    m = lc.m
    n_val = m + effect
    var_n = v_t + theta**2 * lc.vcc / lc.n  # N = M_t - theta C_t + theta C_c
    cov_n_m = theta * lc.vmc / lc.n
    var_m = lc.vmm / lc.n
    return {
        "theta": theta,
        "control_value": m,
        "treatment_value": n_val,
        "effect": effect,
        "se": se,
        "df": df,
        "statistic": stat,
        "pvalue": _pvalue(dist, stat, alternative),
        "ci_low": lo,
        "ci_high": hi,
        "variance_ratio": var / (lc.vmm / lc.n + lt.vmm / lt.n),
        **_relative(n_val, m, var_n, var_m, cov_n_m, q, alternative, relative_ci),
    }


def cuped_hand_arrays(
    yc: np.ndarray, xc: np.ndarray, yt: np.ndarray, xt: np.ndarray, **kw: Any
) -> dict[str, float]:
    pooled = lin_mean(np.concatenate([yc, yt]), np.concatenate([xc, xt]))
    return cuped_hand(lin_mean(yc, xc), lin_mean(yt, xt), pooled, **kw)


CupedData = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]  # y_c, x_c, y_t, x_t


def _cuped_data(shape: str, seed: int) -> CupedData:
    rng = np.random.default_rng(seed)
    if shape == "normal":
        nc, nt = 800, 700
        xc, xt = rng.normal(10, 2, nc), rng.normal(10, 2, nt)
        yc = 3 + 0.9 * xc + rng.normal(0, 1.5, nc)
        yt = 3.2 + 0.9 * xt + rng.normal(0, 1.5, nt)
    elif shape == "lognormal":  # revenue-like: skewed, multiplicative noise
        nc, nt = 1200, 1100
        xc, xt = rng.lognormal(1, 0.8, nc), rng.lognormal(1, 0.8, nt)
        yc = xc * rng.lognormal(0, 0.5, nc)
        yt = 1.05 * xt * rng.lognormal(0, 0.5, nt)
    elif shape == "unequal":  # 1500 vs 60, treatment steeper and noisier: Welch df far from n
        nc, nt = 1500, 60
        xc, xt = rng.normal(5, 1, nc), rng.normal(5, 1, nt)
        yc = 1 + 2 * xc + rng.normal(0, 1, nc)
        yt = 1.5 + 3 * xt + rng.normal(0, 3, nt)
    elif shape == "weak":  # a nearly useless covariate: theta ~ 0, variance ratio ~ 1
        nc, nt = 600, 650
        xc, xt = rng.normal(0, 1, nc), rng.normal(0, 1, nt)
        yc = 20 + 0.05 * xc + rng.normal(0, 2, nc)
        yt = 20.1 + 0.05 * xt + rng.normal(0, 2, nt)
    elif shape == "tiny_negative":  # 7 vs 6 units, negative slope, negative control mean
        nc, nt = 7, 6
        xc, xt = rng.normal(3, 1, nc), rng.normal(3, 1, nt)
        yc = -5 - 1.2 * xc + rng.normal(0, 0.5, nc)
        yt = -5.5 - 1.2 * xt + rng.normal(0, 0.5, nt)
    elif shape == "near_zero_control":  # control mean within its se of 0: Fieller is unbounded
        nc, nt = 40, 45
        xc, xt = rng.normal(0, 1, nc), rng.normal(0, 1, nt)
        yc = 0.02 + 0.5 * xc + rng.normal(0, 1, nc)
        yt = 0.4 + 0.5 * xt + rng.normal(0, 1, nt)
    else:
        raise ValueError(shape)
    return yc, xc, yt, xt


SHAPES = ["normal", "lognormal", "unequal", "weak", "tiny_negative", "near_zero_control"]
SEEDS = [11, 12, 13]
CUPED = {(s, seed): _cuped_data(s, seed) for s in SHAPES for seed in SEEDS}
CUPED_IDS = [f"{s}-{seed}" for s, seed in CUPED]


@pytest.mark.parametrize("relative_ci", ["delta", "fieller"])
@pytest.mark.parametrize("test", ["welch", "z"])
@pytest.mark.parametrize("alternative", ALTERNATIVES)
@pytest.mark.parametrize("key", list(CUPED), ids=CUPED_IDS)
def test_cuped_arrays_match_hand(
    key: tuple[str, int], alternative: str, test: str, relative_ci: str
) -> None:
    yc, xc, yt, xt = CUPED[key]
    for level in LEVELS:
        kw = {"alternative": alternative, "confidence_level": level, "relative_ci": relative_ci}
        res = neyman.cuped(yc, xc, yt, xt, test=test, **kw)
        exp = cuped_hand_arrays(yc, xc, yt, xt, test=test, level=level, **_hand_kw(kw))
        assert res.method == f"cuped-{test}"
        assert (res.n_control, res.n_treatment) == (len(yc), len(yt))
        assert_matches(res, exp, what=f"{key} level {level}", ref="hand CUPED")


def _hand_kw(kw: dict[str, Any]) -> dict[str, Any]:
    return {"alternative": kw["alternative"], "relative_ci": kw["relative_ci"]}


@pytest.mark.parametrize("test", ["welch", "z"])
@pytest.mark.parametrize("key", list(CUPED), ids=CUPED_IDS)
def test_cuped_from_sums_matches_hand(key: tuple[str, int], test: str) -> None:
    yc, xc, yt, xt = CUPED[key]

    def stats(y: np.ndarray, x: np.ndarray) -> neyman.CupedStats:
        # the cancellation in sum(x^2) - sum(x)^2/n stays below 3 digits on these data
        for a, b in ((y, y), (x, x), (x, y)):
            assert abs(np.sum(a * b)) / abs(np.cov(a, b)[0, 1] * (len(a) - 1)) < 1e3
        return neyman.CupedStats.from_sums(
            len(y), np.sum(y), np.sum(x), np.sum(y * y), np.sum(x * x), np.sum(x * y)
        )

    for alternative in ALTERNATIVES:
        kw = {"alternative": alternative, "relative_ci": "delta"}
        res = neyman.cuped(stats(yc, xc), stats(yt, xt), test=test, **kw)
        exp = cuped_hand_arrays(yc, xc, yt, xt, test=test, level=0.95, **kw)
        assert (res.n_control, res.n_treatment) == (len(yc), len(yt))
        assert_matches(res, exp, what=f"{key} {alternative}", ref="hand CUPED (from_sums)")


def _three_arms(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = 3000
    arm = rng.choice(["control", "a", "b"], n, p=[0.5, 0.3, 0.2])
    x = rng.gamma(2.0, 3.0, n)
    lift = np.select([arm == "a", arm == "b"], [0.3, -0.2], 0.0)
    slope = np.where(arm == "b", 1.3, 1.0)  # arm b: a different slope, so theta varies by pair
    y = 2 + slope * x + lift + rng.normal(0, 2, n)
    pre = rng.binomial(1, 0.3, n)
    conv = rng.binomial(1, np.where(pre == 1, 0.5, 0.1) + np.where(arm == "a", 0.03, 0.0))
    return pd.DataFrame({"arm": arm, "y": y, "x": x, "conv": conv, "conv_pre": pre})


THREE = _three_arms(2024)


def _arm_arrays(df: pd.DataFrame, arm: str, *cols: str) -> list[np.ndarray]:
    sub = df[df["arm"] == arm]
    return [sub[c].to_numpy(dtype=np.float64) for c in cols]


@pytest.mark.parametrize("relative_ci", ["delta", "fieller"])
@pytest.mark.parametrize("alternative", ALTERNATIVES)
@pytest.mark.parametrize("frame", ["pandas", "polars"])
def test_cuped_three_arm_frames_match_hand(frame: str, alternative: str, relative_ci: str) -> None:
    df = THREE if frame == "pandas" else pl.from_pandas(THREE)
    kw = {"alternative": alternative, "relative_ci": relative_ci}
    by_function = neyman.cuped(
        df, metric="y", covariate="x", variant="arm", control="control", test="welch", **kw
    )
    by_experiment = neyman.Experiment(df, variant="arm", control="control").analyze(
        neyman.Mean("y", covariate="x"),
        neyman.Mean("y", covariate="x", test="z", name="y_z"),
        neyman.Proportion("conv", covariate="conv_pre"),
        **kw,
    )
    yc, xc = _arm_arrays(THREE, "control", "y", "x")
    cc, pc = _arm_arrays(THREE, "control", "conv", "conv_pre")
    for arm in ("a", "b"):
        yt, xt = _arm_arrays(THREE, arm, "y", "x")
        exp = cuped_hand_arrays(yc, xc, yt, xt, test="welch", level=0.95, **kw)
        for res in (by_function["y", arm], by_experiment["y", arm]):
            assert res.method == "cuped-welch"
            assert_matches(res, exp, what=f"{frame} {arm}", ref="hand CUPED")
        exp = cuped_hand_arrays(yc, xc, yt, xt, test="z", level=0.95, **kw)
        res = by_experiment["y_z", arm]
        assert res.method == "cuped-z"
        assert_matches(res, exp, what=f"{frame} {arm} z", ref="hand CUPED")
        ct, pt = _arm_arrays(THREE, arm, "conv", "conv_pre")
        exp = cuped_hand_arrays(cc, pc, ct, pt, test="z", level=0.95, **kw)
        res = by_experiment["conv", arm]
        assert res.method == "cuped-z"
        assert_matches(res, exp, what=f"{frame} conv {arm}", ref="hand CUPED")


@pytest.mark.parametrize("test", ["welch", "z"])
def test_cuped_dict_of_arms_matches_hand(test: str) -> None:
    yc, xc = _arm_arrays(THREE, "control", "y", "x")
    arms = {arm: _arm_arrays(THREE, arm, "y", "x") for arm in ("a", "b")}
    res = neyman.cuped(
        yc, xc, {k: v[0] for k, v in arms.items()}, {k: v[1] for k, v in arms.items()}, test=test
    )
    for arm, (yt, xt) in arms.items():
        exp = cuped_hand_arrays(
            yc, xc, yt, xt, test=test, level=0.95, alternative="two-sided", relative_ci="delta"
        )
        assert_matches(res["y", arm], exp, what=f"dict {arm}", ref="hand CUPED")


@pytest.mark.parametrize("alternative", ALTERNATIVES)
@pytest.mark.parametrize("key", list(CUPED), ids=CUPED_IDS)
def test_cuped_unadjusted_and_variance_ratio_match_scipy(
    key: tuple[str, int], alternative: str
) -> None:
    """``unadjusted`` is scipy's Welch test (or a z-test with scipy's normal), and
    ``variance_ratio = (se_adjusted / se_unadjusted)^2`` with the hand adjusted se and
    ``se_unadjusted^2 = sem(y_t)^2 + sem(y_c)^2`` from ``scipy.stats.sem``."""
    yc, xc, yt, xt = CUPED[key]
    se_u = math.hypot(scipy.stats.sem(yt), scipy.stats.sem(yc))
    effect_u = float(np.mean(yt) - np.mean(yc))
    for test in ("welch", "z"):
        res = neyman.cuped(yc, xc, yt, xt, test=test, alternative=alternative)
        u = res.unadjusted
        what = f"{key} {test} unadjusted"
        ref = "scipy unadjusted"
        if test == "welch":
            sp = scipy.stats.ttest_ind(yt, yc, equal_var=False, alternative=alternative)
            ci = sp.confidence_interval(0.95)
            stat, p, df = float(sp.statistic), float(sp.pvalue), float(sp.df)
            lo, hi = float(ci.low), float(ci.high)
            assert u.method == "welch"
        else:
            stat, df = effect_u / se_u, math.inf
            p = _pvalue(scipy.stats.norm, stat, alternative)
            q = _critical(scipy.stats.norm, 0.95, alternative)
            lo, hi = _interval(effect_u, se_u, q, alternative)
            assert u.method == "z"
        assert_close(u.effect, effect_u, atol=ATOL_SE * se_u, what=f"{what} effect", ref=ref)
        assert_close(u.se, se_u, what=f"{what} se", ref=ref)
        assert_close(u.statistic, stat, atol=ATOL_SE, what=f"{what} statistic", ref=ref)
        assert_close(u.pvalue, p, rtol=RTOL_P, what=f"{what} pvalue", ref=ref)
        if test == "welch":
            assert_close(u.df, df, what=f"{what} df", ref=ref)
        else:
            assert math.isinf(u.df)
        assert_bound(u.ci_low, lo, effect_u, atol=ATOL_SE * se_u, what=f"{what} lo", ref=ref)
        assert_bound(u.ci_high, hi, effect_u, atol=ATOL_SE * se_u, what=f"{what} hi", ref=ref)
        assert_close(u.control_value, float(np.mean(yc)), what=f"{what} control", ref=ref)
        se_adj = cuped_hand_arrays(
            yc, xc, yt, xt, test=test, level=0.95, alternative=alternative, relative_ci="delta"
        )["se"]
        assert_close(
            res.variance_ratio, (se_adj / se_u) ** 2, what=f"{key} variance_ratio", ref=ref
        )


# --------------------------------------------------------------------------------------------------
# tea-tasting: CUPED means and ratio CUPED


def _two_arm_frame(yc: np.ndarray, xc: np.ndarray, yt: np.ndarray, xt: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "arm": ["control"] * len(yc) + ["treatment"] * len(yt),
            "y": np.concatenate([yc, yt]),
            "x": np.concatenate([xc, xt]),
        }
    )


def assert_matches_tea(res: neyman.TestResult, ref: Any, *, what: str, name: str) -> None:
    """Fields defined identically: effect, its interval, statistic and p-value."""
    se = ref.effect_size / ref.statistic
    atol = ATOL_SE * abs(se)
    assert_close(res.effect, ref.effect_size, atol=atol, what=f"{what} effect", ref=name)
    assert_close(res.statistic, ref.statistic, atol=ATOL_SE, what=f"{what} statistic", ref=name)
    assert_close(res.pvalue, ref.pvalue, rtol=RTOL_P, what=f"{what} pvalue", ref=name)
    for actual, expected in (
        (res.ci_low, ref.effect_size_ci_lower),
        (res.ci_high, ref.effect_size_ci_upper),
    ):
        assert_bound(actual, expected, ref.effect_size, atol=atol, what=f"{what} bound", ref=name)


def _tea_aggregates(df: pd.DataFrame, metric: Any) -> dict[Any, Any]:
    """tea-tasting's own per-arm aggregation of the frame (counts, means, variances, covariances),
    read once and reused for every alternative and level."""
    return tt.aggr.read_aggregates(df, "arm", **metric.aggr_cols._asdict())


@pytest.mark.parametrize("key", list(CUPED), ids=CUPED_IDS)
def test_cuped_matches_tea_tasting(key: tuple[str, int]) -> None:
    df = _two_arm_frame(*CUPED[key])
    default = tt.Mean("y", "x", equal_var=False, use_t=True)
    # the experiment-level path on the frame, at tea-tasting's defaults (two-sided, 95%)
    ref = tt.Experiment(metric=default, variant="arm").analyze(df, control="control")["metric"]
    res = neyman.Experiment(df, variant="arm", control="control").analyze(
        neyman.Mean("y", covariate="x")
    )[0]
    assert_matches_tea(res, ref, what=f"{key} Experiment", name="tea-tasting Mean")
    aggregates = _tea_aggregates(df, default)
    for alternative in ALTERNATIVES:
        for level in LEVELS:
            metric = tt.Mean(
                "y",
                "x",
                alternative=alternative,
                confidence_level=level,
                equal_var=False,
                use_t=True,
            )
            ref = metric.analyze(aggregates, control="control", treatment="treatment")
            kw = {"alternative": alternative, "confidence_level": level}
            by_function = neyman.cuped(
                df, metric="y", covariate="x", variant="arm", control="control", **kw
            )[0]
            by_experiment = neyman.Experiment(df, variant="arm", control="control").analyze(
                neyman.Mean("y", covariate="x"), **kw
            )[0]
            for res in (by_function, by_experiment):
                what = f"{key} {alternative} level {level}"
                assert_matches_tea(res, ref, what=what, name="tea-tasting Mean")


def _ratio_frame(
    seed: int, n: int, arms: tuple[str, ...], lifts: tuple[float, ...]
) -> pd.DataFrame:
    """Per-user sessions and orders in the experiment and in the pre-period, sharing a user
    propensity (so the pre-period ratio predicts the experiment ratio)."""
    rng = np.random.default_rng(seed)
    arm = rng.choice(arms, n)
    activity = rng.gamma(2.0, 1.5, n)
    p_order = rng.beta(2, 8, n)
    lift = np.select([arm == a for a in arms], lifts)
    sessions_pre = rng.poisson(activity) + 1
    orders_pre = rng.binomial(sessions_pre, p_order)
    sessions = rng.poisson(activity) + 1
    orders = rng.binomial(sessions, np.clip(p_order * (1 + lift), 0, 1))
    return pd.DataFrame(
        {
            "arm": arm,
            "orders": orders.astype(np.float64),
            "sessions": sessions.astype(np.float64),
            "orders_pre": orders_pre.astype(np.float64),
            "sessions_pre": sessions_pre.astype(np.float64),
        }
    )


RATIO_COLS = ("orders", "sessions", "orders_pre", "sessions_pre")
RATIO_FRAMES = {
    "2arm-1": _ratio_frame(1, 4000, ("control", "treatment"), (0.0, 0.08)),
    "2arm-2": _ratio_frame(2, 1500, ("control", "treatment"), (0.0, -0.05)),
    "3arm": _ratio_frame(3, 5000, ("control", "a", "b"), (0.0, 0.1, 0.02)),
}


@pytest.mark.parametrize("name", list(RATIO_FRAMES))
def test_ratio_cuped_matches_tea_tasting_and_hand(name: str) -> None:
    df = RATIO_FRAMES[name]
    arms = sorted(set(df["arm"]) - {"control"})
    metric = neyman.Ratio(
        "orders", "sessions", numerator_covariate="orders_pre", denominator_covariate="sessions_pre"
    )
    experiment = neyman.Experiment(df, variant="arm", control="control")

    def tea(**kw: Any) -> Any:
        cols = ("orders", "sessions", "orders_pre", "sessions_pre")
        return tt.RatioOfMeans(*cols, equal_var=False, use_t=False, **kw)

    # the experiment-level path on the frame, at tea-tasting's defaults (two-sided, 95%)
    refs = tt.Experiment(metric=tea(), variant="arm").analyze(
        df, control="control", all_variants=True
    )
    res_all = experiment.analyze(metric)
    for arm in arms:
        ref = refs["control", arm]["metric"]
        what = f"{name} {arm} Experiment"
        assert_matches_tea(res_all["orders/sessions", arm], ref, what=what, name="tea RatioOfMeans")
    aggregates = _tea_aggregates(df, tea())
    control = _arm_arrays(df, "control", *RATIO_COLS)
    for alternative, level, relative_ci in itertools.product(
        ALTERNATIVES, LEVELS, ["delta", "fieller"]
    ):
        kw = {"alternative": alternative, "confidence_level": level, "relative_ci": relative_ci}
        res_all = experiment.analyze(metric, **kw)
        for arm in arms:
            res = res_all["orders/sessions", arm]
            assert res.method == "ratio-cuped"
            what = f"{name} {arm} {kw}"
            ref = tea(alternative=alternative, confidence_level=level).analyze(
                aggregates, control="control", treatment=arm
            )
            assert_matches_tea(res, ref, what=what, name="tea RatioOfMeans")
            treatment = _arm_arrays(df, arm, *RATIO_COLS)
            pooled = lin_ratio(
                *[np.concatenate([c, t]) for c, t in zip(control, treatment, strict=True)]
            )
            exp = cuped_hand(
                lin_ratio(*control),
                lin_ratio(*treatment),
                pooled,
                test="z",
                alternative=alternative,
                level=level,
                relative_ci=relative_ci,
            )
            assert_matches(res, exp, what=what, ref="hand ratio CUPED")


# --------------------------------------------------------------------------------------------------
# statsmodels OLS: regression adjustment (Lin, ANCOVA), missing indicators, post-stratification


@dataclass(frozen=True)
class RegCase:
    arms: tuple[str, ...]
    shares: tuple[float, ...]
    n: int
    covariates: tuple[str, ...]
    categorical: tuple[str, ...]
    hetero: bool = False


REG_CASES = {
    "numeric": RegCase(("control", "treatment"), (0.5, 0.5), 2000, ("x1", "x2"), ()),
    "string_categorical": RegCase(
        ("control", "treatment"), (0.5, 0.5), 2000, ("x1",), ("country",)
    ),
    "integer_categorical": RegCase(
        ("control", "treatment"), (0.6, 0.4), 2000, ("x1", "x2"), ("platform",)
    ),
    "heteroskedastic": RegCase(
        ("control", "treatment"), (0.5, 0.5), 2500, ("x1", "x2"), ("country",), hetero=True
    ),
    "unequal_three_arms": RegCase(
        ("control", "a", "b"), (0.7, 0.2, 0.1), 3000, ("x1", "x2"), ("country", "platform"), True
    ),
    # Several categorical covariates: the one with most levels by its arrow structure, the others
    # as dense dummies.
    "two_categoricals": RegCase(
        ("control", "a", "b"), (0.4, 0.3, 0.3), 3000, (), ("country", "city")
    ),
    "three_categoricals": RegCase(
        ("control", "treatment"), (0.5, 0.5), 3000, ("x1",), ("platform", "city", "country"), True
    ),
}


def _reg_frame(case: RegCase, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = case.n
    arm = rng.choice(case.arms, n, p=case.shares)
    k = np.array([case.arms.index(a) for a in arm])
    x1 = rng.normal(0, 1, n)
    x2 = rng.gamma(2.0, 1.0, n)
    country = rng.choice(["us", "de", "fr", "uk"], n, p=[0.4, 0.3, 0.2, 0.1])
    platform = rng.choice([7, 1, 3], n, p=[0.5, 0.3, 0.2])
    slope = 1.5 + 0.5 * k  # treatment changes the slope on x1: Lin and ANCOVA differ
    mu = (
        10
        + 0.3 * k
        + slope * x1
        + 0.5 * x2
        + np.select([country == "us", country == "de"], [2.0, -1.0], 0.0)
        + np.where(platform == 1, 1.5, 0.0)
    )
    sd = np.exp(0.4 * x1) * (1 + 0.5 * k) if case.hetero else np.ones(n)
    y = mu + rng.normal(0, 1, n) * sd
    city = rng.integers(0, 40, n)
    y = y + 0.05 * (city % 7)
    return pd.DataFrame(
        {
            "arm": arm,
            "y": y,
            "x1": x1,
            "x2": x2,
            "country": country,
            "platform": platform,
            "city": city,
        }
    )


REG_FRAMES = {name: _reg_frame(case, 100 + i) for i, (name, case) in enumerate(REG_CASES.items())}


def _design(
    df: pd.DataFrame, covariates: tuple[str, ...], categorical: tuple[str, ...], indicator: bool
) -> pd.DataFrame:
    """Covariate columns z0, z1, ... as neyman builds them (before centring): numeric columns
    (NaN -> 0 plus an 'is missing' indicator when ``indicator``), then for each categorical column
    one dummy per sorted level except the first (a missing category is its own last level)."""
    cols: list[np.ndarray] = []
    for c in covariates:
        x = df[c].to_numpy(dtype=np.float64)
        nan = np.isnan(x)
        if indicator and nan.any():
            cols += [np.where(nan, 0.0, x), nan.astype(np.float64)]
        else:
            cols.append(x)
    for c in categorical:
        col = df[c]
        levels = sorted(col.dropna().unique())
        missing = col.isna().to_numpy()
        dummies = [(col == lev).to_numpy(dtype=np.float64) for lev in levels[1:]]
        if indicator and missing.any():
            dummies.append(missing.astype(np.float64))
        cols += dummies
    return pd.DataFrame({f"z{j}": v for j, v in enumerate(cols)}, index=df.index)


def ols_reference(
    df: pd.DataFrame,
    *,
    arms: tuple[str, ...],
    covariates: tuple[str, ...],
    categorical: tuple[str, ...],
    interaction: bool,
    cov_types: tuple[str, ...],
    indicator: bool = False,
) -> dict[str, dict[str, dict[str, float]]]:
    """One statsmodels fit with indicators a1, a2, ... of every treatment arm (normal reference,
    as statsmodels uses for robust covariances): per treatment arm the coefficient, bse, p-value
    and 95% interval of its indicator; the adjusted means (at the pooled covariate means) and their
    covariance by the linear map ``a0 = Intercept``, ``aj = Intercept + coef(aj)`` applied to
    ``params`` and ``cov_params``. Keyed by cov_type, then treatment arm."""
    z = _design(df, covariates, categorical, indicator)
    if not indicator:  # nan_policy='omit': complete rows only, centred on those
        keep = z.notna().all(axis=1) & df["y"].notna()
        for c in categorical:
            keep &= df[c].notna()
        df, z = df[keep], z[keep]
    z = z - z.mean(axis=0)
    zs = " + ".join(z.columns)
    d = pd.concat([df[["y"]].reset_index(drop=True), z.reset_index(drop=True)], axis=1)
    arm = df["arm"].to_numpy()
    for j, a in enumerate(arms):
        d[f"a{j}"] = (arm == a).astype(np.float64)
    ts = " + ".join(f"a{j}" for j in range(1, len(arms)))
    formula = f"y ~ ({ts}) * ({zs})" if interaction else f"y ~ {ts} + {zs}"
    ols = smf.ols(formula, d).fit()
    p = len(arms) * (1 + z.shape[1]) if interaction else len(arms) + z.shape[1]
    assert len(ols.params) == p
    # fit(cov_type=c) is fit().get_robustcov_results(c, use_t=False): one solve, three sandwiches
    return {
        c: _arm_fields(
            RegressionResultsWrapper(ols.get_robustcov_results(cov_type=c, use_t=False)), d, arms
        )
        for c in cov_types
    }


def _arm_fields(fit: Any, d: pd.DataFrame, arms: tuple[str, ...]) -> dict[str, dict[str, float]]:
    ci = fit.conf_int(alpha=0.05)
    v = fit.cov_params()
    out = {}
    for j in range(1, len(arms)):
        t = f"a{j}"
        b0, bj = fit.params["Intercept"], fit.params[t]
        v00, vjj, v0j = v.loc["Intercept", "Intercept"], v.loc[t, t], v.loc["Intercept", t]
        y_t, y_c = d["y"][d[t] == 1], d["y"][d["a0"] == 1]
        out[arms[j]] = {
            "effect": float(bj),
            "se": float(fit.bse[t]),
            "statistic": float(fit.tvalues[t]),
            "pvalue": float(fit.pvalues[t]),
            "ci_low": float(ci.loc[t, 0]),
            "ci_high": float(ci.loc[t, 1]),
            "control_value": float(b0),
            "treatment_value": float(b0 + bj),
            "v_c": float(v00),
            "v_t": float(v00 + 2 * v0j + vjj),
            "cov": float(v00 + v0j),
            "se_unadjusted": math.hypot(scipy.stats.sem(y_t), scipy.stats.sem(y_c)),
            "n_control": len(y_c),
            "n_treatment": len(y_t),
        }
    return out


def ols_expected(
    ref: dict[str, float], *, alternative: str, level: float, relative_ci: str
) -> dict[str, float]:
    """All fields for one alternative and level from the statsmodels numbers (two-sided p-value
    and 95% interval as statsmodels reports them; others via scipy's normal on params/bse)."""
    norm = scipy.stats.norm
    effect, se = ref["effect"], ref["se"]
    q = _critical(norm, level, alternative)
    lo, hi = _interval(effect, se, q, alternative)
    pvalue = _pvalue(norm, effect / se, alternative)
    if alternative == "two-sided":
        pvalue = ref["pvalue"]
        if level == 0.95:
            lo, hi = ref["ci_low"], ref["ci_high"]
    return {
        "control_value": ref["control_value"],
        "treatment_value": ref["treatment_value"],
        "effect": effect,
        "se": se,
        "df": math.inf,
        "statistic": ref["statistic"],
        "pvalue": pvalue,
        "ci_low": lo,
        "ci_high": hi,
        "variance_ratio": (se / ref["se_unadjusted"]) ** 2,
        **_relative(
            ref["treatment_value"],
            ref["control_value"],
            ref["v_t"],
            ref["v_c"],
            ref["cov"],
            q,
            alternative,
            relative_ci,
        ),
    }


def ols_cached(
    frame: str,
    covariates: tuple[str, ...],
    categorical: tuple[str, ...],
    interaction: bool,
    cov_type: str,
    indicator: bool,
) -> dict[str, dict[str, float]]:
    """``ols_reference`` on ``FRAMES[frame]``, fitted once per model."""
    return _ols_all(frame, covariates, categorical, interaction, indicator)[cov_type]


@functools.cache
def _ols_all(
    frame: str,
    covariates: tuple[str, ...],
    categorical: tuple[str, ...],
    interaction: bool,
    indicator: bool,
) -> dict[str, dict[str, dict[str, float]]]:
    df = FRAMES[frame]
    return ols_reference(
        df,
        arms=("control", *sorted(set(df["arm"]) - {"control"})),
        covariates=covariates,
        categorical=categorical,
        interaction=interaction,
        cov_types=("HC0", "HC1", "HC2"),
        indicator=indicator,
    )


def _ols_cached(name: str, interaction: bool, cov_type: str) -> dict[str, dict[str, float]]:
    case = REG_CASES[name]
    return ols_cached(name, case.covariates, case.categorical, interaction, cov_type, True)


@pytest.mark.parametrize("cov_type", ["HC0", "HC1", "HC2"])
@pytest.mark.parametrize("interaction", [True, False], ids=["lin", "additive"])
@pytest.mark.parametrize("name", list(REG_CASES))
def test_regression_adjust_matches_statsmodels(name: str, interaction: bool, cov_type: str) -> None:
    case = REG_CASES[name]
    df = REG_FRAMES[name]
    refs = _ols_cached(name, interaction, cov_type)
    for alternative in ALTERNATIVES:
        for level, relative_ci in ((0.95, "delta"), (0.9, "fieller")):
            kw = {"alternative": alternative, "confidence_level": level, "relative_ci": relative_ci}
            res = neyman.regression_adjust(
                df,
                metric="y",
                variant="arm",
                control="control",
                covariates=list(case.covariates),
                categorical=list(case.categorical),
                interaction=interaction,
                cov_type=cov_type,
                **kw,
            )
            assert len(res) == len(case.arms) - 1
            for arm, ref in refs.items():
                r = res["y", arm]
                assert r.method == ("lin" if interaction else "ancova")
                assert (r.n_control, r.n_treatment) == (ref["n_control"], ref["n_treatment"])
                exp = ols_expected(ref, level=level, **_hand_kw(kw))
                assert_matches(r, exp, what=f"{name} {arm} {kw}", ref="statsmodels OLS")


@pytest.mark.parametrize("frame", ["pandas", "polars"])
@pytest.mark.parametrize("name", ["integer_categorical", "unequal_three_arms"])
def test_mean_with_covariates_matches_statsmodels(name: str, frame: str) -> None:
    """The same fits through ``Experiment.analyze(Mean(y, covariate=[...], categorical=[...]))``."""
    case = REG_CASES[name]
    df = REG_FRAMES[name] if frame == "pandas" else pl.from_pandas(REG_FRAMES[name])
    exp_obj = neyman.Experiment(df, variant="arm", control="control")
    for interaction, cov_type in ((True, "HC2"), (False, "HC1")):
        res = exp_obj.analyze(
            neyman.Mean(
                "y",
                covariate=list(case.covariates),
                categorical=list(case.categorical),
                interaction=interaction,
                cov_type=cov_type,
            )
        )
        for arm, ref in _ols_cached(name, interaction, cov_type).items():
            exp = ols_expected(ref, alternative="two-sided", level=0.95, relative_ci="delta")
            assert_matches(res["y", arm], exp, what=f"{name} {frame} {arm}", ref="statsmodels OLS")


def _with_missing(seed: int) -> pd.DataFrame:
    """Three arms; x1 NaN for ~12% of units (more often for high y: not at random), country
    missing for ~6%."""
    df = _reg_frame(REG_CASES["unequal_three_arms"], seed)
    rng = np.random.default_rng(seed + 1)
    n = len(df)
    df.loc[rng.random(n) < np.where(df["y"] > 12, 0.2, 0.08), "x1"] = np.nan
    country = df["country"].astype(object)
    country[rng.random(n) < 0.06] = None
    df["country"] = country
    return df


MISSING = _with_missing(7)


@pytest.mark.parametrize("frame", ["pandas", "polars"])
@pytest.mark.parametrize(
    ("interaction", "cov_type"), [(True, "HC2"), (True, "HC1"), (False, "HC2"), (False, "HC0")]
)
def test_missing_covariate_indicator_matches_statsmodels(
    interaction: bool, cov_type: str, frame: str
) -> None:
    """NaN covariate -> 0 plus a centred 'is missing' indicator; missing category -> its own
    level. statsmodels gets the filled column, the indicator and the dummies, all centred."""
    assert MISSING["x1"].isna().sum() > 100
    assert MISSING["country"].isna().sum() > 50
    df = MISSING if frame == "pandas" else pl.from_pandas(MISSING)
    covs, cats = ("x1", "x2"), ("country", "platform")
    refs = ols_cached("missing", covs, cats, interaction, cov_type, True)
    by_function = neyman.regression_adjust(
        df,
        metric="y",
        variant="arm",
        control="control",
        covariates=list(covs),
        categorical=list(cats),
        interaction=interaction,
        cov_type=cov_type,
        missing_covariate="indicator",
    )
    by_experiment = neyman.Experiment(df, variant="arm", control="control").analyze(
        neyman.Mean(
            "y",
            covariate=list(covs),
            categorical=list(cats),
            interaction=interaction,
            cov_type=cov_type,
            missing_covariate="indicator",
        )
    )
    for arm, ref in refs.items():
        exp = ols_expected(ref, alternative="two-sided", level=0.95, relative_ci="delta")
        for res in (by_function["y", arm], by_experiment["y", arm]):
            assert (res.n_control, res.n_treatment) == (ref["n_control"], ref["n_treatment"])
            assert_matches(res, exp, what=f"indicator {frame} {arm}", ref="statsmodels OLS")


@pytest.mark.parametrize("interaction", [True, False], ids=["lin", "additive"])
def test_nan_policy_omit_matches_statsmodels_on_complete_rows(interaction: bool) -> None:
    """``nan_policy='omit'``: a row with a NaN covariate or a missing category is dropped; the fit
    (and the centring) is statsmodels' on the complete rows."""
    covs, cats = ("x1", "x2"), ("country", "platform")
    refs = ols_cached("missing", covs, cats, interaction, "HC2", False)
    res = neyman.regression_adjust(
        MISSING,
        metric="y",
        variant="arm",
        control="control",
        covariates=list(covs),
        categorical=list(cats),
        interaction=interaction,
        nan_policy="omit",
    )
    for arm, ref in refs.items():
        r = res["y", arm]
        assert (r.n_control, r.n_treatment) == (ref["n_control"], ref["n_treatment"])
        exp = ols_expected(ref, alternative="two-sided", level=0.95, relative_ci="delta")
        assert_matches(r, exp, what=f"omit {arm}", ref="statsmodels OLS")


def _strata_frame(
    seed: int, arms: tuple[str, ...], shares: tuple[float, ...], n: int
) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    arm = rng.choice(arms, n, p=shares)
    s = rng.choice(["north", "east", "south", "west"], n, p=[0.4, 0.3, 0.2, 0.1])
    base = np.select([s == "north", s == "east", s == "south"], [5.0, 8.0, 12.0], 20.0)
    lift = np.array([arms.index(a) for a in arm]) * 0.4
    sd = np.where(s == "west", 4.0, 2.0) * np.where(arm == "control", 1.0, 1.5)
    return pd.DataFrame({"arm": arm, "s": s, "y": base + lift + rng.normal(0, 1, n) * sd})


STRATA = {
    "two_arms": _strata_frame(5, ("control", "treatment"), (0.5, 0.5), 3000),
    "three_arms": _strata_frame(6, ("control", "a", "b"), (0.5, 0.3, 0.2), 3000),
}


def _many_strata_frame(seed: int, levels: int, arms: tuple[str, ...], n: int) -> pd.DataFrame:
    """``levels`` integer strata (int32, like the bundled data's ``city``) of unequal sizes, with
    stratum means, noise and treatment effects that vary by stratum; every (stratum, arm) cell
    has at least 2 units (asserted), so HC2 is defined."""
    rng = np.random.default_rng(seed)
    arm = rng.choice(
        arms, n, p=np.linspace(2.0, 1.0, len(arms)) / np.linspace(2.0, 1.0, len(arms)).sum()
    )
    s = rng.choice(levels, n, p=rng.dirichlet(np.full(levels, 4.0)))
    k = np.array([arms.index(a) for a in arm])
    mean = rng.normal(20.0, 5.0, levels)[s]
    lift = k * (0.3 + 0.02 * (s % 7))
    sd = (1.0 + 0.3 * (s % 5)) * (1.0 + 0.4 * k)
    df = pd.DataFrame(
        {"arm": arm, "s": (3 * s + 7).astype(np.int32), "y": mean + lift + rng.normal(0, 1, n) * sd}
    )
    assert df.groupby(["arm", "s"]).size().min() >= 2
    assert df.groupby(["arm", "s"]).size().shape[0] == levels * len(arms)
    return df


MANY_STRATA = {
    "50 strata, 3 arms": _many_strata_frame(11, 50, ("control", "a", "b"), 8000),
    "120 strata, 2 arms": _many_strata_frame(12, 120, ("control", "treatment"), 9000),
}

FRAMES = {
    **REG_FRAMES,
    "missing": MISSING,
    **{f"strata {k}": v for k, v in STRATA.items()},
    **MANY_STRATA,
}


def post_stratified_hand(df: pd.DataFrame, arm: str) -> dict[str, float]:
    """Miratrix et al. (2013): sum_s w_s (ybar_ts - ybar_cs), w_s the pooled (all arms) stratum
    shares; variance sum_s w_s^2 (s_ts^2/n_ts + s_cs^2/n_cs), the HC2 variance of the saturated
    model (leverage 1/n_gs in stratum s of arm g, so e^2/(1 - h) sums to (n_gs - 1) s_gs^2 n_gs /
    (n_gs - 1))."""
    w = df["s"].value_counts(normalize=True)
    g = df.groupby(["arm", "s"])["y"]
    mean, var, count = g.mean(), g.var(ddof=1), g.count()
    m_c = float(sum(w[s] * mean["control", s] for s in w.index))
    m_t = float(sum(w[s] * mean[arm, s] for s in w.index))
    v = sum(
        w[s] ** 2 * (var[arm, s] / count[arm, s] + var["control", s] / count["control", s])
        for s in w.index
    )
    return {"control_value": m_c, "treatment_value": m_t, "effect": m_t - m_c, "se": math.sqrt(v)}


@pytest.mark.parametrize("frame", ["pandas", "polars"])
@pytest.mark.parametrize("name", list(STRATA))
def test_post_stratification_matches_hand_and_statsmodels(name: str, frame: str) -> None:
    df = STRATA[name]
    arms = ("control", *sorted(set(df["arm"]) - {"control"}))
    native = df if frame == "pandas" else pl.from_pandas(df)
    res = neyman.Experiment(native, variant="arm", control="control").analyze(
        neyman.Mean("y", strata="s")
    )
    refs = ols_cached(f"strata {name}", (), ("s",), True, "HC2", False)
    for arm in arms[1:]:
        r = res["y", arm]
        assert r.method == "post-stratified"
        hand = post_stratified_hand(df, arm)
        what = f"{name} {frame} {arm}"
        for f in ("control_value", "treatment_value", "se"):
            assert_close(getattr(r, f), hand[f], what=f"{what} {f}", ref="hand post-stratification")
        assert_close(
            r.effect,
            hand["effect"],
            atol=ATOL_SE * hand["se"],
            what=f"{what} effect",
            ref="hand post-stratification",
        )
        exp = ols_expected(refs[arm], alternative="two-sided", level=0.95, relative_ci="delta")
        assert_matches(r, exp, what=what, ref="statsmodels OLS")


def post_stratified_full(
    df: pd.DataFrame, arm: str, *, cov_type: str, alternative: str, level: float, relative_ci: str
) -> dict[str, float]:
    """Every field of the post-stratified comparison by hand (pandas groupby, numpy, scipy):
    ``a_g = sum_s w_s ybar_gs`` with pooled shares ``w_s``; ``Var(a_g) = sum_s w_s^2 c_gs`` with
    ``c_gs = s_gs^2 / n_gs`` (HC2: leverage ``1/n_gs``), ``s_gs^2 (n_gs - 1) / n_gs^2`` (HC0), and
    HC0 times ``N / (N - G L)`` (HC1, ``G L`` the parameters of the interacted model); the two
    adjusted means are uncorrelated (no shared rows or parameters); normal reference; relative
    effect ``a_t / a_c - 1`` by the delta method or Fieller with zero covariance."""
    n_total, n_arms, n_levels = len(df), df["arm"].nunique(), df["s"].nunique()
    w = df["s"].value_counts(normalize=True)
    g = df.groupby(["arm", "s"])["y"].agg(["count", "mean", "var"])

    def adjusted(a: str) -> tuple[float, float]:
        cell = g.loc[a].reindex(w.index)
        n = cell["count"].to_numpy(dtype=np.float64)
        per_unit = {
            "HC2": cell["var"].to_numpy() / n,
            "HC0": cell["var"].to_numpy() * (n - 1) / n**2,
            "HC1": cell["var"].to_numpy()
            * (n - 1)
            / n**2
            * n_total
            / (n_total - n_arms * n_levels),
        }[cov_type]
        wv = w.to_numpy()
        return float(wv @ cell["mean"].to_numpy()), float(wv**2 @ per_unit)

    (m_c, v_c), (m_t, v_t) = adjusted("control"), adjusted(arm)
    effect, se = m_t - m_c, math.sqrt(v_c + v_t)
    norm = scipy.stats.norm
    q = _critical(norm, level, alternative)
    lo, hi = _interval(effect, se, q, alternative)
    y_c, y_t = df["y"][df["arm"] == "control"], df["y"][df["arm"] == arm]
    return {
        "control_value": m_c,
        "treatment_value": m_t,
        "effect": effect,
        "se": se,
        "df": math.inf,
        "statistic": effect / se,
        "pvalue": _pvalue(norm, effect / se, alternative),
        "ci_low": lo,
        "ci_high": hi,
        "variance_ratio": se**2 / (scipy.stats.sem(y_t) ** 2 + scipy.stats.sem(y_c) ** 2),
        **_relative(m_t, m_c, v_t, v_c, 0.0, q, alternative, relative_ci),
    }


@pytest.mark.parametrize("cov_type", ["HC0", "HC1", "HC2"])
@pytest.mark.parametrize("name", list(MANY_STRATA))
def test_many_strata_match_statsmodels_and_hand(name: str, cov_type: str) -> None:
    """Post-stratification on 50 and 120 integer strata (the O(rows) kernel) against statsmodels'
    interacted OLS on the centred stratum dummies (HC0, HC1, HC2) and against the hand closed
    form, every field, three alternatives, delta and Fieller; through ``Mean(strata=)`` and
    ``regression_adjust(categorical=)``, pandas and polars."""
    df = MANY_STRATA[name]
    refs = ols_cached(name, (), ("s",), True, cov_type, False)
    arms = ("control", *sorted(set(df["arm"]) - {"control"}))
    for frame in ("pandas", "polars"):
        native = df if frame == "pandas" else pl.from_pandas(df)
        exp_obj = neyman.Experiment(native, variant="arm", control="control")
        for alternative in ALTERNATIVES:
            for level, relative_ci in ((0.95, "delta"), (0.9, "fieller")):
                kw = {"alternative": alternative, "confidence_level": level}
                by_mean = exp_obj.analyze(
                    neyman.Mean("y", strata="s", cov_type=cov_type), relative_ci=relative_ci, **kw
                )
                by_function = neyman.regression_adjust(
                    native,
                    metric="y",
                    variant="arm",
                    control="control",
                    categorical="s",
                    cov_type=cov_type,
                    relative_ci=relative_ci,
                    **kw,
                )
                for arm in arms[1:]:
                    what = f"{name} {frame} {cov_type} {arm} {alternative} {relative_ci}"
                    hand = post_stratified_full(
                        df,
                        arm,
                        cov_type=cov_type,
                        alternative=alternative,
                        level=level,
                        relative_ci=relative_ci,
                    )
                    ols = ols_expected(
                        refs[arm], alternative=alternative, level=level, relative_ci=relative_ci
                    )
                    for res, method in ((by_mean, "post-stratified"), (by_function, "lin")):
                        r = res["y", arm]
                        assert r.method == method
                        assert (r.n_control, r.n_treatment) == (
                            refs[arm]["n_control"],
                            refs[arm]["n_treatment"],
                        )
                        assert_matches(r, hand, what=what, ref="hand post-stratification")
                        assert_matches(r, ols, what=what, ref="statsmodels OLS")


@functools.cache
def _many_strata_with_covariates() -> tuple[pd.DataFrame, dict[str, Any]]:
    """The 50-strata frame with two numeric covariates (the outcome depends on them, with
    arm-specific slopes), and statsmodels' interacted fits (HC0, HC1, HC2) on (x1, x2, dummies)."""
    df = MANY_STRATA["50 strata, 3 arms"].copy()
    rng = np.random.default_rng(21)
    k = (df["arm"] != "control").to_numpy() * 1.0
    df["x1"] = rng.normal(0.0, 1.0, len(df)) + 0.01 * df["s"]
    df["x2"] = rng.gamma(2.0, 1.0, len(df))
    df["y"] = df["y"] + (1.0 + 0.5 * k) * df["x1"] - 0.3 * df["x2"]
    refs = ols_reference(
        df,
        arms=("control", "a", "b"),
        covariates=("x1", "x2"),
        categorical=("s",),
        interaction=True,
        cov_types=("HC0", "HC1", "HC2"),
    )
    return df, refs


@pytest.mark.parametrize("cov_type", ["HC0", "HC1", "HC2"])
def test_numeric_and_many_strata_match_statsmodels(cov_type: str) -> None:
    """Lin's model with two numeric covariates and one 50-level categorical (solved by its arrow
    structure, not the dense normal equations) against statsmodels' interacted OLS, every field;
    through ``regression_adjust`` and ``Mean(covariate=, categorical=)``."""
    df, refs = _many_strata_with_covariates()
    by_function = neyman.regression_adjust(
        df,
        metric="y",
        variant="arm",
        control="control",
        covariates=["x1", "x2"],
        categorical="s",
        cov_type=cov_type,
    )
    by_mean = neyman.Experiment(df, variant="arm", control="control").analyze(
        neyman.Mean("y", covariate=["x1", "x2"], categorical="s", cov_type=cov_type)
    )
    for arm, ref in refs[cov_type].items():
        exp = ols_expected(ref, alternative="two-sided", level=0.95, relative_ci="delta")
        for res in (by_function, by_mean):
            r = res["y", arm]
            assert (r.n_control, r.n_treatment) == (ref["n_control"], ref["n_treatment"])
            assert_matches(r, exp, what=f"x1, x2, s {cov_type} {arm}", ref="statsmodels OLS")


@functools.cache
def _additive_many_levels() -> tuple[pd.DataFrame, dict[tuple[str, ...], Any]]:
    """60 integer levels, three arms, one numeric covariate; statsmodels' additive fits
    ``y ~ C(arm) + x1 + C(s)`` and ``y ~ C(arm) + C(s)`` (dummies centred, as ``ols_reference``
    builds them), HC0/HC1/HC2."""
    df = _many_strata_frame(31, 60, ("control", "a", "b"), 9000)
    rng = np.random.default_rng(32)
    df["x1"] = rng.normal(0.0, 1.0, len(df)) + 0.02 * df["s"]
    df["y"] = df["y"] + 1.3 * df["x1"]
    refs = {
        covariates: ols_reference(
            df,
            arms=("control", "a", "b"),
            covariates=covariates,
            categorical=("s",),
            interaction=False,
            cov_types=("HC0", "HC1", "HC2"),
        )
        for covariates in (("x1",), ())
    }
    return df, refs


@pytest.mark.parametrize("covariates", [("x1",), ()], ids=["x1", "none"])
@pytest.mark.parametrize("cov_type", ["HC0", "HC1", "HC2"])
def test_additive_many_levels_match_statsmodels(cov_type: str, covariates: tuple[str, ...]) -> None:
    """The additive model with one 60-level categorical (solved by its arrow structure, not the
    dense normal equations), with and without a numeric covariate, against statsmodels' OLS
    ``y ~ C(arm) + x1 + C(s)``, every field."""
    df, refs = _additive_many_levels()
    res = neyman.regression_adjust(
        df,
        metric="y",
        variant="arm",
        control="control",
        covariates=list(covariates),
        categorical="s",
        interaction=False,
        cov_type=cov_type,
    )
    for arm, ref in refs[covariates][cov_type].items():
        r = res["y", arm]
        assert r.method == "ancova"
        assert (r.n_control, r.n_treatment) == (ref["n_control"], ref["n_treatment"])
        exp = ols_expected(ref, alternative="two-sided", level=0.95, relative_ci="delta")
        assert_matches(
            r, exp, what=f"additive s {covariates} {cov_type} {arm}", ref="statsmodels OLS"
        )


# --------------------------------------------------------------------------------------------------
# The post-stratification kernel against the general regression kernel on the same design


def _kernels(
    y: np.ndarray, s: np.ndarray, names: list[str], arms: np.ndarray, labels: list[str], cov: str
) -> tuple[Any, Any]:
    """(dense regression kernel, post-stratification kernel) on one categorical covariate: each
    its output dict, or the exception it raised."""
    opts = ("two-sided", 0.95, "delta")

    def run(f: Any) -> Any:
        try:
            return f()
        except neyman.NeymanError as exc:
            return exc

    dense = run(
        lambda: _neyman.regression_test(y, [], [("s", s, names)], (arms, labels), (True, cov), opts)
    )
    fast = run(lambda: _neyman.post_stratified_test(y, "s", (s, names), (arms, labels), cov, opts))
    return dense, fast


def _assert_same_output(dense: Any, fast: Any) -> None:
    if isinstance(dense, Exception) or isinstance(fast, Exception):
        assert type(dense) is type(fast), (dense, fast)
        assert str(dense) == str(fast)
        return
    for key in ("n", "n_incomplete", "n_inf", "n_params"):
        assert dense[key] == fast[key], key
    for d, f in zip(dense["comparisons"], fast["comparisons"], strict=True):
        for part_d, part_f in ((d, f), (d["unadjusted"], f["unadjusted"])):
            se = part_d["se"]
            for field, v in part_d.items():
                if isinstance(v, dict):
                    continue
                if isinstance(v, int) or math.isinf(v):
                    assert part_f[field] == v, field
                    continue
                atol = ATOL_SE * se if field in ("effect", "ci_low", "ci_high") else 0.0
                if field == "statistic":
                    atol = ATOL_SE
                assert_close(part_f[field], v, atol=atol, what=field, ref="dense regression kernel")
        assert_close(
            f["variance_ratio"], d["variance_ratio"], what="vr", ref="dense regression kernel"
        )


def _coded(df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, list[str], np.ndarray, list[str]]:
    labels = ["control", *sorted(set(df["arm"]) - {"control"})]
    arms = np.array([labels.index(a) for a in df["arm"]], dtype=np.int32)
    levels = sorted(set(df["s"].dropna()))
    lookup = {v: k for k, v in enumerate(levels)}
    s = np.array([lookup.get(v, -1) for v in df["s"]], dtype=np.int32)
    return df["y"].to_numpy(dtype=np.float64), s, [str(v) for v in levels], arms, labels


@pytest.mark.parametrize("cov_type", ["HC0", "HC1", "HC2"])
def test_strata_kernel_equals_regression_kernel(cov_type: str) -> None:
    """On the same design the O(rows) post-stratification kernel and the dense regression kernel
    give the same comparison (rtol 1e-9, as above), counts and parameter count; rows with NaN
    outcome, missing stratum (-1), infinite outcome and no arm (-1) counted the same way."""
    for df in (*MANY_STRATA.values(), *STRATA.values()):
        y, s, names, arms, labels = _coded(df)
        _assert_same_output(*_kernels(y, s, names, arms, labels, cov_type))
    y, s, names, arms, labels = _coded(MANY_STRATA["50 strata, 3 arms"])
    y, s, arms = y.copy(), s.copy(), arms.copy()
    y[[3, 50, 700]] = np.nan
    y[[9, 11]] = np.inf
    s[[4, 5, 6, 901]] = -1
    arms[[7, 8]] = -1
    dense, fast = _kernels(y, s, names, arms, labels, cov_type)
    assert fast["n_incomplete"] == dense["n_incomplete"]
    assert sum(fast["n_incomplete"]) > 0
    assert sum(fast["n_inf"]) == 2
    _assert_same_output(dense, fast)


def _degenerate_cases() -> dict[str, pd.DataFrame]:
    """Designs where the fit fails: the post-stratification kernel must fail as the regression
    does (same exception, same message)."""
    base = MANY_STRATA["50 strata, 3 arms"]
    levels = sorted(set(base["s"]))
    out = {}
    for name, (arm, lev) in {
        "middle level empty in a treatment arm": ("a", levels[10]),
        "first level empty in the control": ("control", levels[0]),
        "last level empty in arm b": ("b", levels[-1]),
    }.items():
        out[name] = base[~((base["arm"] == arm) & (base["s"] == lev))]
    first_and_last = base[~((base["arm"] == "a") & base["s"].isin([levels[0], levels[-1]]))]
    out["first and last levels empty in an arm"] = first_and_last
    cell = base[(base["arm"] == "b") & (base["s"] == levels[5])].index
    out["singleton cell"] = base.drop(index=cell[1:])
    out["one row in an arm"] = base.drop(index=base.index[base["arm"] == "b"][1:])
    small = base[base["s"].isin(levels[:30])]
    keep = small[small["arm"] != "a"].index.union(small.index[small["arm"] == "a"][:25])
    out["fewer rows than columns in an arm"] = small.loc[keep]
    return out


@pytest.mark.parametrize("cov_type", ["HC0", "HC1", "HC2"])
@pytest.mark.parametrize("case", list(_degenerate_cases()))
def test_strata_kernel_fails_like_regression_kernel(case: str, cov_type: str) -> None:
    df = _degenerate_cases()[case]
    y, s, names, arms, labels = _coded(df)
    dense, fast = _kernels(y, s, names, arms, labels, cov_type)
    if case == "singleton cell" and cov_type != "HC2":
        assert not isinstance(fast, Exception)
    else:
        assert isinstance(dense, Exception)
    _assert_same_output(dense, fast)


# --------------------------------------------------------------------------------------------
# Regression adjustment from pre-aggregated sums (RegressionStats)
# --------------------------------------------------------------------------------------------


def _regression_stats(y: np.ndarray, x: np.ndarray, names: list[str]) -> neyman.RegressionStats:
    return neyman.RegressionStats(len(y), y.sum(), (y * y).sum(), x.sum(0), x.T @ y, x.T @ x, names)


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("k", [1, 3])
def test_regression_stats_match_per_arm_ols(seed: int, k: int) -> None:
    """From sums, Lin's estimate and its classical per-arm variance equal statsmodels OLS of y on
    (x - pooled mean) fitted in each arm: the intercepts and their nonrobust standard errors
    (closed forms on both sides: rtol 1e-9). Three arms, unequal sizes, heteroskedastic errors."""
    rng = np.random.default_rng(seed)
    names = [f"x{j}" for j in range(k)]
    sizes = {"c": 900, "t1": 600, "t2": 300}
    data = {}
    for arm, n in sizes.items():
        x = rng.normal(2.0, 1.5, (n, k))
        scale = 1.0 + (arm == "t2")
        y = x @ np.linspace(1.0, 0.2, k) + (arm != "c") * 0.2 + rng.normal(0, scale, n)
        data[arm] = (y, x)
    res = neyman.regression_adjust(
        {arm: _regression_stats(y, x, names) for arm, (y, x) in data.items()}, control="c"
    )
    xbar = np.concatenate([x for _, x in data.values()]).mean(0)
    fits = {
        arm: sm.OLS(y, sm.add_constant(x - xbar, has_constant="add")).fit()
        for arm, (y, x) in data.items()
    }
    for comp in res:
        f0, f1 = fits["c"], fits[comp.treatment]
        effect = f1.params[0] - f0.params[0]
        se = float(np.hypot(f0.bse[0], f1.bse[0]))
        assert math.isclose(comp.control_value, f0.params[0], rel_tol=1e-9)
        assert math.isclose(comp.effect, effect, rel_tol=1e-9)
        assert math.isclose(comp.se, se, rel_tol=1e-9)
        z = scipy.stats.norm.ppf(0.975)
        assert math.isclose(comp.ci_low, effect - z * se, rel_tol=1e-9, abs_tol=1e-12)
        assert math.isclose(comp.pvalue, 2 * scipy.stats.norm.sf(abs(effect / se)), rel_tol=1e-8)
        assert comp.method == "lin-classical"


@pytest.mark.parametrize("seed", [4, 5])
def test_ratio_cuped_stats_match_frame_path(seed: int) -> None:
    """RatioCupedStats from SQL-style sums give the ratio-CUPED result of the row path (which is
    checked against tea-tasting and the hand computation above); sums vs two-pass co-moments:
    rtol 1e-9."""
    rng = np.random.default_rng(seed)
    frames = []
    for arm, lift, n in (("c", 1.0, 4000), ("t", 1.04, 3000)):
        imp_pre = rng.poisson(20, n) + 1.0
        clk_pre = rng.binomial(imp_pre.astype(int), 0.05).astype(float)
        imp = imp_pre + rng.poisson(2, n)
        clk = rng.binomial(imp.astype(int), 0.05 * lift).astype(float)
        frames.append(
            pd.DataFrame(
                {"arm": arm, "clk": clk, "imp": imp, "clk_pre": clk_pre, "imp_pre": imp_pre}
            )
        )
    df = pd.concat(frames, ignore_index=True)
    row = neyman.Experiment(df, variant="arm", control="c").analyze(
        neyman.Ratio("clk", "imp", numerator_covariate="clk_pre", denominator_covariate="imp_pre")
    )[0]
    stats = {}
    for arm, part in df.groupby("arm"):
        cols = part[["clk", "imp", "clk_pre", "imp_pre"]].to_numpy()
        stats[arm] = neyman.RatioCupedStats.from_sums(len(cols), cols.sum(0), cols.T @ cols)
    agg = neyman.ratio(stats["c"], stats["t"])
    for name in ADJUSTED_FLOAT_FIELDS:
        assert math.isclose(getattr(agg, name), getattr(row, name), rel_tol=1e-9), name
    assert agg.method == row.method == "ratio-cuped"


# --------------------------------------------------------------------------------------------------
# Level encoding of categorical columns (vectorised) against the per-level loop it replaced


def _codes_per_level(df: Any, column: str) -> tuple[np.ndarray, list[str]]:
    """The former encoder: sorted distinct values (NaN and nulls excluded), one full comparison
    per level."""
    import narwhals.stable.v2 as nw

    col = nw.from_native(df, eager_only=True).get_column(column)
    levels = [
        v
        for v in col.drop_nulls().unique().to_list()
        if not (isinstance(v, float) and math.isnan(v))
    ]
    levels.sort(key=lambda v: (str(type(v)), v))
    codes = np.full(len(col), -1, dtype=np.int32)
    for k, level in enumerate(levels):
        codes[(col == level).fill_null(value=False).to_numpy()] = k
    return codes, [str(v) for v in levels]


def _encoder_cases() -> dict[str, Any]:
    import pyarrow as pa

    rng = np.random.default_rng(3)
    n = 500
    ints = rng.integers(-40, 400, n)
    words = rng.choice(["b", "a", "Z", "é", "aa", "10", "9"], n)
    floats = rng.choice([2.5, -1.0, 0.25, 1e9], n).astype(np.float64)
    floats[rng.random(n) < 0.1] = np.nan
    words_missing = np.where(rng.random(n) < 0.1, None, words).astype(object)
    nullable = pd.array(np.where(rng.random(n) < 0.1, None, ints % 7).tolist(), dtype="Int64")
    return {
        "pandas int32": pd.DataFrame({"c": ints.astype(np.int32)}),
        "pandas uint8": pd.DataFrame({"c": (ints % 200).astype(np.uint8)}),
        "pandas wide int64": pd.DataFrame({"c": ints.astype(np.int64) * 10**12}),
        "pandas float with NaN": pd.DataFrame({"c": floats}),
        "pandas bool": pd.DataFrame({"c": ints > 100}),
        "pandas strings with None": pd.DataFrame({"c": words_missing}),
        "pandas categorical": pd.DataFrame({"c": pd.Categorical(words_missing)}),
        "pandas nullable Int64": pd.DataFrame({"c": nullable}),
        "pandas mixed objects": pd.DataFrame(
            {"c": [int(i % 5) if i > 100 else str(w) for i, w in zip(ints, words, strict=True)]}
        ),
        "pandas datetimes": pd.DataFrame(
            {"c": pd.to_datetime("2024-01-01") + pd.to_timedelta(ints % 9, unit="D")}
        ),
        "polars int32": pl.DataFrame({"c": ints.astype(np.int32)}),
        "polars float with NaN and null": pl.DataFrame(
            {"c": pl.Series(floats).set(pl.Series(rng.random(n) < 0.05), None)}
        ),
        "polars strings with null": pl.DataFrame({"c": words_missing.tolist()}),
        "polars categorical": pl.DataFrame(
            {"c": pl.Series(words_missing.tolist(), dtype=pl.Categorical)}
        ),
        "polars bool with null": pl.DataFrame(
            {"c": [None if v % 11 == 0 else bool(v % 2) for v in ints.tolist()]}
        ),
        "pyarrow strings with null": pa.table({"c": words_missing.tolist()}),
        "pyarrow int16": pa.table({"c": pa.array(ints.astype(np.int16))}),
    }


@pytest.mark.parametrize("case", list(_encoder_cases()))
def test_category_codes_match_per_level_loop(case: str) -> None:
    """Same codes (missing -1) and the same sorted level names as the per-level loop, for the
    dtypes and libraries a categorical column comes in."""
    from neyman.adjustment import category_codes

    df = _encoder_cases()[case]
    codes, names = category_codes(df, "c")
    ref_codes, ref_names = _codes_per_level(df, "c")
    assert names == ref_names
    assert codes.dtype == np.int32
    np.testing.assert_array_equal(codes, ref_codes)
    assert (codes < 0).any() == (case.endswith(("None", "NaN", "null", "Int64", "categorical")))
