"""Reference tests for ``neyman.proportions``: pooled z-test, Newcombe and Wald intervals, lift.

What is checked, and against which independent reference:

- The statistic and p-value against statsmodels ``proportions_ztest([x_t, x_c], [n_t, n_c],
  alternative=...)`` (pooled variance under the null, ``prop_var=False``) and against
  ``test_proportions_2indep(x_t, n_t, x_c, n_c, method='score', correction=False,
  compare='diff', alternative=...)``. The score test of ``p_t - p_c = 0`` evaluates the
  variance at the restricted MLE under the null, which for a zero difference is the pooled
  proportion, and ``correction=False`` divides by ``n`` rather than ``n - 1``: so it *is* the pooled
  z-test, and the test asserts that the two statsmodels routes agree. (``method='wald'`` uses the
  unpooled variance and is a different test; ``agresti-caffo`` adds pseudo-counts.)
- Intervals on ``p_t - p_c`` against ``confint_proportions_2indep(x_t, n_t, x_c, n_c,
  method='newcomb'|'wald', compare='diff', alpha=...)``: two-sided at level ``cl`` is statsmodels'
  interval at ``alpha = 1 - cl``; a one-sided bound at level ``cl`` is the matching bound of the
  two-sided interval at ``alpha = 2 (1 - cl)`` (the other side open). Count sets include rare
  events (3/1000 vs 9/1000), a lopsided split, zero and full cells, and 10^5 trials.
- Newcombe (1998), Statistics in Medicine 17, 873-890, Table II, method 10 (hybrid score, no
  continuity correction), published to 4 decimals. Used here, each corroborated by several
  independent re-implementations (R propint's test file, SAS reference values, and statsmodels at
  1e-9 below): (a) 56/70 vs 48/80 -> (0.0524, 0.3339); (b) 9/10 vs 3/10 -> (0.1705, 0.8090);
  (c) 6/7 vs 2/7 -> (0.0582, 0.8062); (d) 5/56 vs 0/29 -> (-0.0381, 0.1926); (g) 10/10 vs 0/20 ->
  (0.6791, 1.0000); (h) 10/10 vs 0/10 -> (0.6075, 1.0000). Examples (e) 0/10 vs 0/20 and
  (f) 0/10 vs 0/10 are not used: with no successes at all the pooled z-test is undefined and
  neyman raises ``ZeroVarianceError`` by design.
- Input forms: 0/1 float arrays, integer arrays, bool arrays and ``ProportionStats`` give the
  statsmodels result (and hence each other); frames (pandas, polars; 3 arms) give, per arm,
  statsmodels on that arm's counts.
- Relative lift ``p_t / p_c - 1``: delta-method standard error with binomial variances
  ``v = p (1 - p) / n`` and interval ``rho +/- z se_rel``, and the Fieller interval, by hand.

Tolerances (measured in brackets):

- ``RTOL = 1e-9`` for closed forms (statistic, se, Wald and Newcombe bounds, lift, its se): a few
  dozen float operations on exact counts, so both sides agree to a few ulp [max ~1e-15 on
  statistics, ~2e-15 relative on bounds]; five orders of margin, and any formula slip shows at
  1e-3 or more.
- ``RTOL_P = 1e-8`` for p-values: statrs' normal tail (erfc) against scipy's (Cephes ndtr); two
  algorithms for the same function [max ~1e-10]. Five orders below reporting precision.
- ``RTOL_Q = 1e-6`` on interval half-widths (the normal quantile; [< 2e-15 for the difference]),
  as in ``test_reference_means.py``. [The Fieller lift interval for 49950/50000 vs 49900/50000
  differs by 2e-9 of its half-width: neyman computes the discriminant as ``b^2 - a c``, which
  cancels when the relative standard error is small; see ``test_reference_means.py``.]
- The published Table II values: ``5e-5 + 1e-12`` absolute (half a unit in the 4th decimal).
"""

from __future__ import annotations

import math
from typing import Any

import neyman
import numpy as np
import pandas as pd
import polars as pl
import pytest
import scipy.stats
from statsmodels.stats import proportion as sm_proportion

RTOL = 1e-9
RTOL_P = 1e-8
RTOL_Q = 1e-6
ATOL_PUBLISHED = 5e-5 + 1e-12

ALTERNATIVES = ["two-sided", "less", "greater"]
SM_ALTERNATIVE = {"two-sided": "two-sided", "less": "smaller", "greater": "larger"}
LEVELS = [0.8, 0.95, 0.99]

# (x_t, n_t, x_c, n_c)
COUNTS = [
    (56, 70, 48, 80),
    (9, 10, 3, 10),
    (5, 56, 0, 29),
    (10, 10, 0, 20),
    (3, 1000, 9, 1000),
    (9, 1000, 3, 1000),
    (120, 1000, 100, 1000),
    (31, 250, 260, 2000),
    (1234, 100_000, 1180, 100_000),
    (49_950, 50_000, 49_900, 50_000),
]
IDS = [f"{a}of{b}_vs_{c}of{d}" for a, b, c, d in COUNTS]


def assert_close(
    actual: float, expected: float, rtol: float = RTOL, atol: float = 0.0, what: str = ""
) -> None:
    if math.isinf(expected):
        assert actual == expected, (what, actual, expected)
        return
    assert abs(actual - expected) <= rtol * abs(expected) + atol, (
        f"{what}: actual={actual!r} expected={expected!r} "
        f"rel={abs(actual - expected) / max(abs(expected), 1e-300):.3g}"
    )


def assert_bound(actual: float, expected: float, center: float, what: str = "") -> None:
    """An interval bound: RTOL on the bound, RTOL_Q on its half-width |bound - center|."""
    if math.isinf(expected):
        assert actual == expected, (what, actual, expected)
        return
    tol = RTOL * abs(expected) + RTOL_Q * abs(expected - center) + 1e-15
    assert abs(actual - expected) <= tol, (
        f"{what}: actual={actual!r} expected={expected!r} diff={abs(actual - expected):.3g}"
    )


def proportions_ztest(*args: Any, **kwargs: Any) -> Any:
    # statsmodels divides by p_c to report ratios it does not use here; with x_c = 0 numpy warns
    with np.errstate(divide="ignore", invalid="ignore"):
        return sm_proportion.proportions_ztest(*args, **kwargs)


def score_test_2indep(*args: Any, **kwargs: Any) -> Any:
    # (named so that pytest does not collect statsmodels' ``test_proportions_2indep``)
    with np.errstate(divide="ignore", invalid="ignore"):
        return sm_proportion.test_proportions_2indep(*args, **kwargs)


def confint_proportions_2indep(*args: Any, **kwargs: Any) -> Any:
    with np.errstate(divide="ignore", invalid="ignore"):
        return sm_proportion.confint_proportions_2indep(*args, **kwargs)


def _stats(x_t: int, n_t: int, x_c: int, n_c: int) -> tuple[Any, Any]:
    return neyman.ProportionStats(x_c, n_c), neyman.ProportionStats(x_t, n_t)


def _sm_interval(
    x_t: int, n_t: int, x_c: int, n_c: int, ci_method: str, alternative: str, level: float
) -> tuple[float, float]:
    sm_method = {"newcombe": "newcomb", "wald": "wald"}[ci_method]
    alpha = 1 - level if alternative == "two-sided" else 2 * (1 - level)
    lo, hi = confint_proportions_2indep(
        x_t, n_t, x_c, n_c, method=sm_method, compare="diff", alpha=alpha
    )
    if alternative == "greater":
        return float(lo), math.inf
    if alternative == "less":
        return -math.inf, float(hi)
    return float(lo), float(hi)


@pytest.mark.parametrize("alternative", ALTERNATIVES)
@pytest.mark.parametrize("counts", COUNTS, ids=IDS)
def test_pooled_z_matches_statsmodels(counts: tuple[int, int, int, int], alternative: str) -> None:
    x_t, n_t, x_c, n_c = counts
    sm_alt = SM_ALTERNATIVE[alternative]
    z, p = proportions_ztest([x_t, x_c], [n_t, n_c], alternative=sm_alt)
    score = score_test_2indep(
        x_t, n_t, x_c, n_c, method="score", correction=False, compare="diff", alternative=sm_alt
    )
    # the two statsmodels routes are the same test (see the module docstring)
    assert_close(float(score.statistic), float(z), what="score vs proportions_ztest statistic")
    assert_close(float(score.pvalue), float(p), rtol=1e-12, what="score vs ztest pvalue")
    for ci_method in ("newcombe", "wald"):
        res = neyman.proportions(*_stats(*counts), ci_method=ci_method, alternative=alternative)
        assert_close(res.statistic, float(z), what="statistic")
        assert_close(res.pvalue, float(p), rtol=RTOL_P, what="pvalue")
        assert math.isinf(res.df)
        assert_close(res.control_value, x_c / n_c, what="control_value")
        assert_close(res.treatment_value, x_t / n_t, what="treatment_value")
        assert_close(res.effect, x_t / n_t - x_c / n_c, atol=1e-16, what="effect")
        # se is the unpooled standard error
        se = math.sqrt(x_t / n_t * (1 - x_t / n_t) / n_t + x_c / n_c * (1 - x_c / n_c) / n_c)
        assert_close(res.se, se, what="se")
        assert (res.n_control, res.n_treatment) == (n_c, n_t)
        assert res.method == "proportions-z"


@pytest.mark.parametrize("alternative", ALTERNATIVES)
@pytest.mark.parametrize("ci_method", ["newcombe", "wald"])
@pytest.mark.parametrize("counts", COUNTS, ids=IDS)
def test_interval_matches_statsmodels(
    counts: tuple[int, int, int, int], ci_method: str, alternative: str
) -> None:
    x_t, n_t, x_c, n_c = counts
    effect = x_t / n_t - x_c / n_c
    for level in LEVELS:
        lo, hi = _sm_interval(*counts, ci_method, alternative, level)
        res = neyman.proportions(
            *_stats(*counts), ci_method=ci_method, alternative=alternative, confidence_level=level
        )
        assert_bound(res.ci_low, lo, effect, what=f"level {level} ci_low")
        assert_bound(res.ci_high, hi, effect, what=f"level {level} ci_high")


NEWCOMBE_TABLE_II = [
    # (x_t, n_t, x_c, n_c), (lower, upper): Newcombe (1998) Table II, method 10
    ((56, 70, 48, 80), (0.0524, 0.3339)),
    ((9, 10, 3, 10), (0.1705, 0.8090)),
    ((6, 7, 2, 7), (0.0582, 0.8062)),
    ((5, 56, 0, 29), (-0.0381, 0.1926)),
    ((10, 10, 0, 20), (0.6791, 1.0000)),
    ((10, 10, 0, 10), (0.6075, 1.0000)),
]


@pytest.mark.parametrize(
    ("counts", "published"), NEWCOMBE_TABLE_II, ids=[f"{c}" for c, _ in NEWCOMBE_TABLE_II]
)
def test_newcombe_matches_published_table(
    counts: tuple[int, int, int, int], published: tuple[float, float]
) -> None:
    res = neyman.proportions(*_stats(*counts), ci_method="newcombe")
    assert abs(res.ci_low - published[0]) <= ATOL_PUBLISHED, res.ci_low
    assert abs(res.ci_high - published[1]) <= ATOL_PUBLISHED, res.ci_high


def _as_arrays(x: int, n: int, form: str) -> Any:
    # successes scattered, not sorted, so the kernel's blocks see a realistic mix
    rng = np.random.default_rng(x * 7919 + n)
    arr = np.zeros(n, dtype=np.int64)
    arr[rng.choice(n, size=x, replace=False)] = 1
    if form == "float":
        return arr.astype(np.float64)
    if form == "int8":
        return arr.astype(np.int8)
    if form == "bool":
        return arr.astype(bool)
    if form == "list":
        return arr.tolist()
    raise AssertionError(form)


@pytest.mark.parametrize("form", ["float", "int8", "bool", "list", "stats"])
@pytest.mark.parametrize("counts", COUNTS[:8], ids=IDS[:8])
def test_input_forms_match_statsmodels(counts: tuple[int, int, int, int], form: str) -> None:
    x_t, n_t, x_c, n_c = counts
    if form == "stats":
        c, t = _stats(*counts)
    else:
        c, t = _as_arrays(x_c, n_c, form), _as_arrays(x_t, n_t, form)
    z, p = proportions_ztest([x_t, x_c], [n_t, n_c])
    lo, hi = _sm_interval(*counts, "newcombe", "two-sided", 0.95)
    res = neyman.proportions(c, t)
    effect = x_t / n_t - x_c / n_c
    assert (res.n_control, res.n_treatment) == (n_c, n_t)
    assert_close(res.statistic, float(z), what="statistic")
    assert_close(res.pvalue, float(p), rtol=RTOL_P, what="pvalue")
    assert_bound(res.ci_low, lo, effect, what="ci_low")
    assert_bound(res.ci_high, hi, effect, what="ci_high")
    # and every form gives exactly the ProportionStats answer (same counts, same finalize)
    ref = neyman.proportions(*_stats(*counts))
    fields = ("statistic", "pvalue", "ci_low", "ci_high", "rel_effect", "rel_ci_low", "rel_ci_high")
    np.testing.assert_array_equal(
        [getattr(res, f) for f in fields], [getattr(ref, f) for f in fields]
    )


def hand_lift(
    x_t: int, n_t: int, x_c: int, n_c: int, alternative: str, level: float, method: str
) -> tuple[float, float, float, float]:
    """(rel_effect, rel_se, rel_ci_low, rel_ci_high) with binomial variances p (1 - p) / n.

    Delta: ``rho +/- z se_rel``, ``se_rel^2 = v_t/p_c^2 + p_t^2 v_c/p_c^4``. Fieller:
    ``{rho : (p_t - rho p_c)^2 <= z^2 (v_t + rho^2 v_c)}``; with ``a = p_c^2 - z^2 v_c`` > 0 its
    ends are ``(p_t p_c -/+ sqrt(D)) / a``, ``D = z^2 (p_c^2 v_t + p_t^2 v_c) - z^4 v_c v_t``
    (the expansion of ``b^2 - a c``); unbounded when ``a <= 0``.
    """
    p_t, p_c = x_t / n_t, x_c / n_c
    v_t, v_c = p_t * (1 - p_t) / n_t, p_c * (1 - p_c) / n_c
    z = float(scipy.stats.norm.ppf(0.5 + level / 2 if alternative == "two-sided" else level))
    rho = p_t / p_c
    se = math.sqrt(v_t / p_c**2 + p_t**2 * v_c / p_c**4)
    if method == "delta":
        lo, hi = rho - z * se, rho + z * se
    else:
        a = p_c**2 - z * z * v_c
        if a <= 0:
            return rho - 1, se, -math.inf, math.inf
        root = math.sqrt(z * z * (p_c**2 * v_t + p_t**2 * v_c) - z**4 * v_c * v_t)
        lo, hi = (p_t * p_c - root) / a, (p_t * p_c + root) / a
    if alternative == "greater":
        hi = math.inf
    elif alternative == "less":
        lo = -math.inf
    return rho - 1, se, lo - 1, hi - 1


LIFT_COUNTS = [c for c in COUNTS if c[2] > 0]  # the lift needs p_c > 0


@pytest.mark.parametrize("relative_ci", ["delta", "fieller"])
@pytest.mark.parametrize("alternative", ALTERNATIVES)
@pytest.mark.parametrize(
    "counts", LIFT_COUNTS, ids=[f"{a}of{b}_vs_{c}of{d}" for a, b, c, d in LIFT_COUNTS]
)
def test_relative_lift_matches_hand_computation(
    counts: tuple[int, int, int, int], alternative: str, relative_ci: str
) -> None:
    for level in LEVELS:
        rel, se, lo, hi = hand_lift(*counts, alternative, level, relative_ci)
        res = neyman.proportions(
            *_stats(*counts),
            alternative=alternative,
            confidence_level=level,
            relative_ci=relative_ci,
        )
        assert_close(res.rel_effect, rel, atol=4e-16, what=f"level {level} rel_effect")
        assert_close(res.rel_se, se, what=f"level {level} rel_se")
        assert_bound(res.rel_ci_low, lo, rel, what=f"level {level} rel_ci_low")
        assert_bound(res.rel_ci_high, hi, rel, what=f"level {level} rel_ci_high")


def test_lift_with_zero_control_is_nan() -> None:
    """p_c = 0: the lift is undefined (division by zero), not infinite or zero."""
    res = neyman.proportions(*_stats(5, 56, 0, 29))
    assert math.isnan(res.rel_effect)
    assert math.isnan(res.rel_ci_low)
    assert math.isnan(res.rel_ci_high)


# --------------------------------------------------------------------------------------------------
# Frames with three arms


def _three_arm() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(2718)
    arm = rng.choice(np.array(["control", "a", "b"]), size=6000, p=[0.5, 0.25, 0.25])
    rate = np.where(arm == "control", 0.10, np.where(arm == "a", 0.12, 0.09))
    return {"arm": arm, "converted": (rng.random(arm.size) < rate).astype(np.int8)}


THREE_ARM = _three_arm()


def _counts(label: str) -> tuple[int, int]:
    y = THREE_ARM["converted"][THREE_ARM["arm"] == label]
    return int(y.sum()), int(y.size)


@pytest.mark.parametrize("ci_method", ["newcombe", "wald"])
@pytest.mark.parametrize("kind", ["pandas", "polars", "polars_bool", "experiment"])
def test_frame_input_matches_statsmodels_per_arm(kind: str, ci_method: str) -> None:
    if kind == "pandas":
        res = neyman.proportions(
            pd.DataFrame(THREE_ARM),
            metric="converted",
            variant="arm",
            control="control",
            ci_method=ci_method,
        )
    elif kind.startswith("polars"):
        y = THREE_ARM["converted"].astype(bool if kind == "polars_bool" else np.int8)
        df = pl.DataFrame({"arm": THREE_ARM["arm"].tolist(), "converted": y})
        res = neyman.proportions(
            df, metric="converted", variant="arm", control="control", ci_method=ci_method
        )
    else:
        res = neyman.Experiment(pd.DataFrame(THREE_ARM), variant="arm", control="control").analyze(
            neyman.Proportion("converted", ci_method=ci_method)
        )
    assert sorted(r.treatment for r in res) == ["a", "b"]
    x_c, n_c = _counts("control")
    for r in res:
        x_t, n_t = _counts(r.treatment)
        z, p = proportions_ztest([x_t, x_c], [n_t, n_c])
        lo, hi = _sm_interval(x_t, n_t, x_c, n_c, ci_method, "two-sided", 0.95)
        effect = x_t / n_t - x_c / n_c
        assert (r.n_control, r.n_treatment) == (n_c, n_t)
        assert_close(r.statistic, float(z), what=f"{r.treatment} statistic")
        assert_close(r.pvalue, float(p), rtol=RTOL_P, what=f"{r.treatment} pvalue")
        assert_bound(r.ci_low, lo, effect, what=f"{r.treatment} ci_low")
        assert_bound(r.ci_high, hi, effect, what=f"{r.treatment} ci_high")


def test_dict_of_arrays_matches_statsmodels_per_arm() -> None:
    control = THREE_ARM["converted"][THREE_ARM["arm"] == "control"]
    arms = {k: THREE_ARM["converted"][THREE_ARM["arm"] == k] for k in ("b", "a")}
    res = neyman.proportions(control, arms)
    assert [r.treatment for r in res] == ["b", "a"]
    x_c, n_c = _counts("control")
    for r in res:
        x_t, n_t = _counts(r.treatment)
        z, p = proportions_ztest([x_t, x_c], [n_t, n_c])
        assert_close(r.statistic, float(z), what="statistic")
        assert_close(r.pvalue, float(p), rtol=RTOL_P, what="pvalue")
