"""Reference tests for ratio metrics, ``neyman.ratio``: delta method (Deng, Knoblich, Lu 2018).

What is checked, and against which independent reference:

- A hand computation in this file (numpy): per arm the means ``m_x, m_y`` of numerator and
  denominator, sample variances and covariance (``ddof=1``) and the delta-method variance of
  ``R = m_x / m_y`` (Deng et al. 2018, eq. 2)::

      Var(R) = (1/n) [s_xx/m_y^2 - 2 m_x s_xy/m_y^3 + m_x^2 s_yy/m_y^4]

  then ``effect = R_t - R_c``, ``se = sqrt(V_t + V_c)`` (independent arms), ``z = effect / se``,
  normal p-value and interval (scipy), and the relative lift ``R_t / R_c - 1`` with delta-method
  variance ``V_t/R_c^2 + R_t^2 V_c/R_c^4`` (and the Fieller interval) with the same normal critical
  value. Inputs: arrays, ``RatioStats.from_sums`` from numpy sums, pandas and polars frames with
  three arms, ``Experiment.analyze(Ratio(...))``, dicts of arrays.
- The hand formula itself is cross-checked against an independent route, linearisation: with
  ``u_i = (x_i - R y_i) / m_y``, ``Var(R) = var(u, ddof=1) / n``. The identity, since
  ``mean(x - R y) = m_x - R m_y = 0``::

      var(x - R y) = s_xx - 2 R s_xy + R^2 s_yy,   R = m_x/m_y
      var(u) / n = (1/n) [s_xx/m_y^2 - 2 m_x s_xy/m_y^3 + m_x^2 s_yy/m_y^4]

  and neyman's per-arm variance is isolated by pairing an arm with one whose per-unit ratio is
  constant (``x = 2 y`` exactly, so its delta variance is exactly 0 in exact arithmetic).
- tea-tasting ``RatioOfMeans(numer, denom, use_t=False, equal_var=False)`` (its own delta-method
  code, ``Aggregates.ratio_var``, on its own aggregation of the frame). Compared fields, all
  defined identically: ``control``/``treatment`` (the ratios), ``effect_size``,
  ``effect_size_ci_lower/upper`` (normal, unpooled), ``pvalue``, ``statistic`` and
  ``rel_effect_size`` (the point value ``R_t/R_c - 1``). Not compared: tea-tasting's
  ``rel_effect_size_ci_*``, which it builds on the log scale (``exp`` of a normal interval for
  ``log R_t - log R_c`` with variances ``V/R^2``), an asymmetric interval that is neither
  neyman's symmetric delta interval nor Fieller's. ``use_t=False`` because tea-tasting's default
  refers the ratio to a t with Welch df, neyman to the normal.

Tolerances (measured in brackets):

- ``RTOL = 1e-9`` for closed forms (ratios, effect, se, statistic, lift and its se): both sides
  evaluate the same formula on moments each computes stably [max 1e-14, except
  ``large_tight_ratio``: there the effect 1e-4 is a difference of ratios ~0.5, so it inherits
  their ulp-level error times ``|R| / |effect|`` (allowed as an absolute 4 ulp of R) and the
  delta formula's three terms cancel to ~1e-4 of their size, 1e-12 relative]. Five orders of
  margin; formula slips show at 1e-3.
- ``RTOL_P = 1e-8`` for p-values: statrs' normal tail against scipy's [max 1e-10].
- ``RTOL_Q = 1e-6`` on interval half-widths (normal quantile, statrs vs scipy [< 1e-14]).
- ``RatioStats.from_sums``: the co-moments ``sum(xy) - sum(x) sum(y)/n`` lose
  ``log10(sum(x^2)/(n s_xx))`` digits to cancellation; the data used keep that ratio below 1e3
  (asserted), so 1e-9 still holds with margin. ``large_tight_ratio`` is left out of that test:
  its sums of squares are ~1e8 times the co-moments, so SQL-style sums cannot carry its variance.

neyman bug these tests expose (kept as a correct assertion): on ``large_tight_ratio`` (relative
standard error ~2e-6) the Fieller interval on the lift is off by ~3e-6 of its half-width, because
the discriminant is computed as ``b^2 - a c`` (catastrophic cancellation); see
``test_reference_means.py`` for the extreme case.
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
import tea_tasting as tt

RTOL = 1e-9
RTOL_P = 1e-8
RTOL_Q = 1e-6

ALTERNATIVES = ["two-sided", "less", "greater"]
LEVELS = [0.8, 0.95, 0.99]

Arm = tuple[np.ndarray, np.ndarray]  # (numerator, denominator), one value per unit


def _make_datasets() -> dict[str, tuple[Arm, Arm]]:
    rng = np.random.default_rng(424242)
    out: dict[str, tuple[Arm, Arm]] = {}

    def clicks(n: int, p: float) -> Arm:
        imp = rng.poisson(20, n) + 1
        return rng.binomial(imp, p).astype(np.float64), imp.astype(np.float64)

    out["clicks_per_impression"] = (clicks(4000, 0.05), clicks(4200, 0.055))

    def revenue(n: int, scale: float) -> Arm:
        sessions = rng.geometric(0.3, n).astype(np.float64)
        # heavy-tailed revenue, correlated with the number of sessions
        return sessions * rng.lognormal(np.log(scale), 1.2, n), sessions

    out["revenue_per_session_heavy"] = (revenue(1500, 3.0), revenue(1800, 3.2))
    out["unequal_12_vs_400"] = (clicks(400, 0.1), clicks(12, 0.14))

    def profit(n: int, mu: float) -> Arm:
        # numerator takes both signs; denominators include zeros (a unit with no orders)
        orders = rng.poisson(2.0, n).astype(np.float64)
        return orders * mu + rng.normal(0.0, 5.0, n), orders

    out["signed_numerator_zero_denominators"] = (profit(2500, 1.0), profit(2500, 1.3))

    def large(n: int, r: float) -> Arm:
        # large values with a tight ratio: cancellation in s_xx - 2 R s_xy + R^2 s_yy
        den = 1e6 + rng.normal(0.0, 1e4, n)
        return r * den + rng.normal(0.0, 50.0, n), den

    out["large_tight_ratio"] = (large(1000, 0.5), large(1000, 0.5001))
    return out


DATASETS = _make_datasets()
NAMES = list(DATASETS)


def delta_var(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(R, Var(R)) by Deng et al. (2018), eq. 2, with ddof=1 moments."""
    n = len(x)
    m_x, m_y = float(np.mean(x)), float(np.mean(y))
    cov = np.cov(x, y, ddof=1)
    s_xx, s_yy, s_xy = float(cov[0, 0]), float(cov[1, 1]), float(cov[0, 1])
    var = (s_xx / m_y**2 - 2 * m_x * s_xy / m_y**3 + m_x**2 * s_yy / m_y**4) / n
    return m_x / m_y, var


def linearised_var(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(R, Var(R)) by linearisation: var((x - R y) / m_y, ddof=1) / n."""
    m_y = float(np.mean(y))
    r = float(np.mean(x)) / m_y
    u = (x - r * y) / m_y
    return r, float(np.var(u, ddof=1)) / len(x)


def _q(alternative: str, level: float) -> float:
    return float(scipy.stats.norm.ppf(0.5 + level / 2 if alternative == "two-sided" else level))


def hand_ratio_test(
    control: Arm, treatment: Arm, alternative: str, level: float, relative_ci: str = "delta"
) -> dict[str, float]:
    """Every field of the comparison, by hand (numpy for moments, scipy for the normal)."""
    r_c, v_c = delta_var(*control)
    r_t, v_t = delta_var(*treatment)
    effect = r_t - r_c
    se = math.sqrt(v_c + v_t)
    z = effect / se
    q = _q(alternative, level)
    norm = scipy.stats.norm
    pvalue = {
        "two-sided": 2 * float(norm.sf(abs(z))),
        "greater": float(norm.sf(z)),
        "less": float(norm.cdf(z)),
    }[alternative]
    lo, hi = effect - q * se, effect + q * se
    rho = r_t / r_c
    rel_se = math.sqrt(v_t / r_c**2 + r_t**2 * v_c / r_c**4)
    if relative_ci == "delta":
        rlo, rhi = rho - q * rel_se, rho + q * rel_se
    else:
        # Fieller: {rho : (r_t - rho r_c)^2 <= q^2 (v_t + rho^2 v_c)}; D = b^2 - a c expanded
        a = r_c**2 - q * q * v_c
        if a <= 0:
            rlo, rhi = -math.inf, math.inf
        else:
            root = math.sqrt(q * q * (r_c**2 * v_t + r_t**2 * v_c) - q**4 * v_c * v_t)
            rlo, rhi = (r_t * r_c - root) / a, (r_t * r_c + root) / a
    if alternative == "greater":
        hi = rhi = math.inf
    elif alternative == "less":
        lo = rlo = -math.inf
    return {
        "control_value": r_c,
        "treatment_value": r_t,
        "effect": effect,
        "se": se,
        "statistic": z,
        "pvalue": pvalue,
        "ci_low": lo,
        "ci_high": hi,
        "rel_effect": rho - 1,
        "rel_se": rel_se,
        "rel_ci_low": rlo - 1,
        "rel_ci_high": rhi - 1,
    }


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
    tol = RTOL * abs(expected) + RTOL_Q * abs(expected - center)
    assert abs(actual - expected) <= tol, (
        f"{what}: actual={actual!r} expected={expected!r} diff={abs(actual - expected):.3g}"
    )


def assert_matches_hand(res: neyman.TestResult, exp: dict[str, float], what: str = "") -> None:
    # the effect and rel_effect are differences of nearby numbers: allow the ratios' own rounding
    atol_eff = 4 * np.finfo(float).eps * max(abs(exp["control_value"]), abs(exp["treatment_value"]))
    for f in ("control_value", "treatment_value", "se", "rel_se"):
        assert_close(getattr(res, f), exp[f], what=f"{what} {f}")
    assert_close(res.effect, exp["effect"], atol=atol_eff, what=f"{what} effect")
    assert_close(res.rel_effect, exp["rel_effect"], atol=4e-16, what=f"{what} rel_effect")
    assert_close(
        res.statistic, exp["statistic"], atol=atol_eff / exp["se"], what=f"{what} statistic"
    )
    assert_close(
        res.pvalue, exp["pvalue"], rtol=RTOL_P, atol=atol_eff / exp["se"], what=f"{what} pvalue"
    )
    assert math.isinf(res.df)
    for f in ("ci_low", "ci_high"):
        assert_bound(getattr(res, f), exp[f], exp["effect"], what=f"{what} {f}")
    for f in ("rel_ci_low", "rel_ci_high"):
        assert_bound(getattr(res, f), exp[f], exp["rel_effect"], what=f"{what} {f}")


# --------------------------------------------------------------------------------------------------
# The reference itself: the Deng et al. formula equals the linearisation route


@pytest.mark.parametrize("name", NAMES)
def test_delta_formula_equals_linearisation(name: str) -> None:
    """Validates the hand reference (no neyman here): two routes to the same variance."""
    for x, y in DATASETS[name]:
        r1, v1 = delta_var(x, y)
        r2, v2 = linearised_var(x, y)
        assert r1 == r2
        # the direct formula cancels when x ~ R y (large_tight_ratio: its three terms are ~1e4
        # times their sum, so ~1e4 eps is lost [3.7e-12]); RTOL still holds
        assert_close(v1, v2, what="Deng formula vs linearisation")


# --------------------------------------------------------------------------------------------------
# neyman.ratio against the hand computation


@pytest.mark.parametrize("relative_ci", ["delta", "fieller"])
@pytest.mark.parametrize("alternative", ALTERNATIVES)
@pytest.mark.parametrize("name", NAMES)
def test_ratio_arrays_match_hand_computation(name: str, alternative: str, relative_ci: str) -> None:
    (xc, yc), (xt, yt) = DATASETS[name]
    for level in LEVELS:
        exp = hand_ratio_test((xc, yc), (xt, yt), alternative, level, relative_ci)
        res = neyman.ratio(
            xc,
            yc,
            xt,
            yt,
            alternative=alternative,
            confidence_level=level,
            relative_ci=relative_ci,
        )
        assert_matches_hand(res, exp, what=f"level {level}")
        assert (res.n_control, res.n_treatment) == (len(xc), len(xt))
        assert res.method == "ratio-delta"


@pytest.mark.parametrize("name", NAMES)
def test_per_arm_variance_matches_linearisation(name: str) -> None:
    """neyman's variance of one arm alone: pair it with an arm whose per-unit ratio is constant.

    With ``x = 2 y`` exactly, ``m_x = 2 m_y``, ``s_xx = 4 s_yy`` and ``s_xy = 2 s_yy`` hold
    exactly in binary floating point (scaling by 2 is exact), so that arm's delta variance is
    ``(4 - 8 + 4) s_yy / m_y^2 = 0`` up to the rounding of three terms (~1e-16 of s_yy/m_y^2, and
    clamped at 0). So ``se^2`` is the other arm's variance.
    """
    for x, y in DATASETS[name]:
        y_const = np.abs(np.random.default_rng(len(x)).normal(5.0, 1.0, 50)) + 1.0
        x_const = 2.0 * y_const
        _, v = linearised_var(x, y)
        res = neyman.ratio(x, y, x_const, y_const)
        # the constant arm's residue: a few ulp of its terms, each 4 s_yy / (m_y^2 n)
        s_yy, m_y = float(np.var(y_const, ddof=1)), float(np.mean(y_const))
        atol = 16 * np.finfo(float).eps * 4 * s_yy / (m_y**2 * len(y_const))
        assert_close(res.se**2, v, atol=atol)


@pytest.mark.parametrize("alternative", ALTERNATIVES)
# large_tight_ratio is ill-conditioned for sums (see the module docstring)
@pytest.mark.parametrize("name", [n for n in NAMES if n != "large_tight_ratio"])
def test_ratio_stats_from_sums_match_hand_computation(name: str, alternative: str) -> None:
    def stats(x: np.ndarray, y: np.ndarray) -> neyman.RatioStats:
        n = len(x)
        sx, sy = float(np.sum(x)), float(np.sum(y))
        sxx, syy, sxy = float(np.sum(x * x)), float(np.sum(y * y)), float(np.sum(x * y))
        # digits lost to cancellation in sum(x^2) - sum(x)^2/n, etc.: keep below 3
        assert sxx / (n * np.var(x, ddof=1)) < 1e3
        assert syy / (n * np.var(y, ddof=1)) < 1e3
        return neyman.RatioStats.from_sums(n, sx, sy, sxx, syy, sxy)

    (xc, yc), (xt, yt) = DATASETS[name]
    for level in LEVELS:
        exp = hand_ratio_test((xc, yc), (xt, yt), alternative, level)
        res = neyman.ratio(
            stats(xc, yc), stats(xt, yt), alternative=alternative, confidence_level=level
        )
        assert_matches_hand(res, exp, what=f"level {level}")
        assert (res.n_control, res.n_treatment) == (len(xc), len(xt))


# --------------------------------------------------------------------------------------------------
# Frames, Experiment, dict of arrays


def _three_arm() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(1618)
    arm = rng.choice(np.array(["control", "a", "b"]), size=5000, p=[0.5, 0.25, 0.25])
    imp = rng.poisson(15, arm.size) + 1
    p = np.where(arm == "control", 0.05, np.where(arm == "a", 0.056, 0.047))
    return {"arm": arm, "clicks": rng.binomial(imp, p), "impressions": imp}


THREE_ARM = _three_arm()


def _arm(label: str) -> Arm:
    m = THREE_ARM["arm"] == label
    return (
        THREE_ARM["clicks"][m].astype(np.float64),
        THREE_ARM["impressions"][m].astype(np.float64),
    )


def _frame(kind: str) -> Any:
    if kind == "pandas":
        return pd.DataFrame(THREE_ARM)
    return pl.DataFrame({**THREE_ARM, "arm": THREE_ARM["arm"].tolist()})


@pytest.mark.parametrize("relative_ci", ["delta", "fieller"])
@pytest.mark.parametrize("alternative", ALTERNATIVES)
@pytest.mark.parametrize("kind", ["pandas", "polars", "experiment"])
def test_frame_input_matches_hand_computation_per_arm(
    kind: str, alternative: str, relative_ci: str
) -> None:
    opts: dict[str, Any] = {"alternative": alternative, "relative_ci": relative_ci}
    if kind == "experiment":
        res = neyman.Experiment(_frame("polars"), variant="arm", control="control").analyze(
            neyman.Ratio("clicks", "impressions"), **opts
        )
    else:
        res = neyman.ratio(
            _frame(kind),
            numerator="clicks",
            denominator="impressions",
            variant="arm",
            control="control",
            **opts,
        )
    assert sorted(r.treatment for r in res) == ["a", "b"]
    for r in res:
        exp = hand_ratio_test(_arm("control"), _arm(r.treatment), alternative, 0.95, relative_ci)
        assert_matches_hand(r, exp, what=r.treatment)
        assert (r.n_control, r.n_treatment) == (len(_arm("control")[0]), len(_arm(r.treatment)[0]))


def test_dict_of_arrays_matches_hand_computation() -> None:
    (xc, yc) = _arm("control")
    arms = {k: _arm(k) for k in ("b", "a")}
    res = neyman.ratio(
        xc, yc, {k: v[0] for k, v in arms.items()}, {k: v[1] for k, v in arms.items()}
    )
    assert sorted(r.treatment for r in res) == ["a", "b"]
    for r in res:
        assert_matches_hand(r, hand_ratio_test((xc, yc), arms[r.treatment], "two-sided", 0.95))


# --------------------------------------------------------------------------------------------------
# tea-tasting RatioOfMeans


@pytest.mark.parametrize("alternative", ALTERNATIVES)
@pytest.mark.parametrize("name", NAMES)
def test_ratio_matches_tea_tasting(name: str, alternative: str) -> None:
    (xc, yc), (xt, yt) = DATASETS[name]
    df = pd.DataFrame(
        {
            "arm": ["control"] * len(xc) + ["treatment"] * len(xt),
            "num": np.concatenate([xc, xt]),
            "den": np.concatenate([yc, yt]),
        }
    )
    for level in LEVELS:
        ref = tt.RatioOfMeans(
            "num",
            "den",
            alternative=alternative,
            confidence_level=level,
            equal_var=False,
            use_t=False,
        ).analyze(df, control="control", treatment="treatment", variant="arm")
        res = neyman.ratio(
            df,
            numerator="num",
            denominator="den",
            variant="arm",
            control="control",
            alternative=alternative,
            confidence_level=level,
        )[0]
        atol_eff = 4 * np.finfo(float).eps * max(abs(ref.control), abs(ref.treatment))
        se = ref.effect_size / ref.statistic
        what = f"level {level}"
        assert_close(res.control_value, ref.control, what=f"{what} control")
        assert_close(res.treatment_value, ref.treatment, what=f"{what} treatment")
        assert_close(res.effect, ref.effect_size, atol=atol_eff, what=f"{what} effect")
        assert_close(res.rel_effect, ref.rel_effect_size, atol=4e-16, what=f"{what} rel_effect")
        assert_close(res.statistic, ref.statistic, atol=atol_eff / se, what=f"{what} statistic")
        assert_close(res.pvalue, ref.pvalue, rtol=RTOL_P, atol=atol_eff / se, what=f"{what} p")
        assert_bound(res.ci_low, ref.effect_size_ci_lower, ref.effect_size, what=f"{what} lo")
        assert_bound(res.ci_high, ref.effect_size_ci_upper, ref.effect_size, what=f"{what} hi")
