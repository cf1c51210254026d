"""Workloads W1, W2, W3, W7, W10 and W11 of BENCHMARKS.md: their data, the tools timed, how to read
results.

A workload is a data builder (fixed seed, run outside every timed region) and a list of tools. A
tool is a ``run(data)`` callable, which is exactly what is timed (the call a user would write), and
an ``extract(output)`` callable, which turns the output into a dict of standard fields for the
agreement check and is never timed. Every tool names the arrays it must read, so that the floor
(one parallel pass over those bytes) can be scaled to what that tool reads.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import neyman
import numpy as np
import pandas as pd
import polars as pl
import statsmodels.api as sm
import tea_tasting as tt
from neyman import _neyman
from scipy import stats
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

# gbstats pins numpy<2 and pandas<2, so it is installed apart with --no-deps (README); without it
# W2 runs without that peer and says why in its notes.
try:
    from gbstats.frequentist.tests import FrequentistConfig, TwoSidedTTest
    from gbstats.models.statistics import RegressionAdjustedStatistic, SampleMeanStatistic

    GBSTATS_MISSING = ""
except ImportError as exc:  # pragma: no cover - depends on the environment
    GBSTATS_MISSING = f"{type(exc).__name__}: {exc}"

Data = dict[str, Any]
Fields = dict[str, float]

# Seeds: one per workload, fixed, so every run (and every memory subprocess) sees the same data.
SEED_W1 = 20240101
SEED_W2 = 20240102
SEED_W3 = 20240103
SEED_W7 = 20240107

# tea-tasting experiments, built once per process (outside every timed region) and reused.
_TT_EXPERIMENTS: dict[str, Any] = {}


@dataclass(frozen=True)
class Tool:
    """One way of computing the workload's answer.

    ``kind`` is ``"neyman"``, ``"peer"`` or ``"floor"``. ``input`` groups tools that take the same
    kind of input (``"arrays"``, ``"pandas"``, ``"polars"``); a peer's speed ratio is taken against
    the neyman tool with the same ``input``. ``reads`` names the arrays of the data dict whose bytes
    the tool must read at least once (used to scale the floor). ``tolerance`` maps a field to
    ``(rtol, reason)`` where the peer defines that field differently from neyman. ``restate``,
    if given, maps neyman's answer to the peer's definition of some fields (computed from neyman's
    own outputs, never from the peer's) before the comparison. ``reference`` names the tool whose
    answer this one is checked against (default: the workload's first tool; a tool naming itself
    is a reference and is not checked).
    """

    name: str
    kind: str
    input: str
    run: Callable[[Data], Any]
    extract: Callable[[Any], Fields]
    reads: tuple[str, ...]
    tolerance: dict[str, tuple[float, str]] = field(default_factory=dict)
    small_sizes: bool = True
    restate: Callable[[Fields], Fields] | None = None
    reference: str | None = None


@dataclass(frozen=True)
class Workload:
    """A workload: a name, a data builder and its tools (the first tool is the reference).

    ``build(n)`` makes all the data; ``frames(arrays)`` rebuilds the data frames from the numpy
    arrays of ``build``'s output (so a subprocess can load saved arrays instead of redrawing).
    ``sizes``, if given, replaces the run's sizes (a workload on a fixed data set).
    ``quick_sizes`` replaces them under ``--quick``; ``memory_at`` adds memory probes.
    """

    key: str
    title: str
    build: Callable[[int], Data]
    frames: Callable[[Data], Data]
    tools: tuple[Tool, ...]
    fields: tuple[str, ...]
    floor_arrays: tuple[str, ...]
    notes: tuple[str, ...] = ()
    sizes: tuple[int, ...] | None = None
    # Sizes for ``--quick`` (default: the run's small sizes, or ``sizes``), and the sizes below the
    # run's big size whose peak memory is measured too.
    quick_sizes: tuple[int, ...] | None = None
    memory_at: tuple[int, ...] = ()
    per_arm: bool = True

    def tool(self, name: str) -> Tool:
        """The tool called ``name``."""
        for t in self.tools:
            if t.name == name:
                return t
        raise KeyError(name)


def _result_fields(res: Any, names: tuple[str, ...]) -> Fields:
    """Fields of a neyman ``TestResult`` (or the single row of an ``AnalysisResult``)."""
    row = res if hasattr(res, "effect") else res[0]
    return {k: float(getattr(row, k)) for k in names}


def _neyman_floor(data: Data, names: tuple[str, ...]) -> float:
    """One parallel pass over each named float64 array: the memory-bandwidth floor."""
    total = 0.0
    for k in names:
        total += _neyman.floor_sum(data[k])
    return total


# --------------------------------------------------------------------------------------------
# W1: Welch t-test + 95% CI, float64, half the rows per arm
# --------------------------------------------------------------------------------------------

W1_FIELDS = ("effect", "ci_low", "ci_high", "statistic", "pvalue", "df")


def build_w1(n: int, seed: int = SEED_W1) -> Data:
    """``n`` rows, ``n // 2`` per arm: y ~ N(10, 2) in control, N(10.002, 2.1) in treatment.

    The arm column is int32 0/1 in random order (not sorted), as in a real log. ``c`` and ``t``
    are contiguous copies of each arm's values, for the array-input tools; ``df`` is a pandas
    frame with columns ``arm`` and ``y`` for the frame-input tools. The effect is chosen so that
    the p-value is moderate at 10M rows (about 0.1), so relative agreement of p is meaningful.
    """
    rng = np.random.default_rng(seed)
    half = n // 2
    arm = rng.permutation(np.repeat(np.array([0, 1], dtype=np.int32), [half, n - half]))
    y = rng.normal(10.0, 2.0, size=n)
    treated = arm == 1
    y[treated] = 10.0 + (y[treated] - 10.0) * 1.05 + 0.002
    c = np.ascontiguousarray(y[~treated])
    t = np.ascontiguousarray(y[treated])
    return frames_w1({"c": c, "t": t, "arm": arm, "y": y})


def frames_w1(arrays: Data) -> Data:
    """Add the pandas frame ``df`` (columns ``arm``, ``y``) built from the arrays."""
    return {**arrays, "df": pd.DataFrame({"arm": arrays["arm"], "y": arrays["y"]})}


def welch_from_moments(
    mc: float, vc: float, nc: int, mt: float, vt: float, nt: int, confidence_level: float = 0.95
) -> Fields:
    """Welch's test and CI from each arm's mean, sample variance (ddof=1) and count.

    The textbook formula a user writes by hand: ``se^2 = v_t/n_t + v_c/n_c``, Welch-Satterthwaite
    df, two-sided p from ``scipy.stats.t``.
    """
    a, b = vc / nc, vt / nt
    se = math.sqrt(a + b)
    df = (a + b) ** 2 / (a * a / (nc - 1) + b * b / (nt - 1))
    effect = mt - mc
    stat = effect / se
    q = float(stats.t.ppf(0.5 + confidence_level / 2, df))
    return {
        "effect": effect,
        "ci_low": effect - q * se,
        "ci_high": effect + q * se,
        "statistic": stat,
        "pvalue": float(2.0 * stats.t.sf(abs(stat), df)),
        "df": df,
    }


def _w1_neyman_arrays(d: Data) -> Any:
    """neyman on the two arms as float64 arrays."""
    return neyman.ttest(d["c"], d["t"])


def _w1_neyman_frame(d: Data) -> Any:
    """neyman on the pandas frame, arms by the int32 ``arm`` column."""
    return neyman.ttest(d["df"], metric="y", variant="arm", control=0)


def _w1_scipy(d: Data) -> Any:
    """scipy's Welch test and its confidence interval."""
    res = stats.ttest_ind(d["t"], d["c"], equal_var=False)
    return res, res.confidence_interval(0.95)


def _w1_scipy_extract(out: Any) -> Fields:
    """Standard fields of scipy's result."""
    res, ci = out
    # scipy reports no effect; the CI is symmetric around it, so its midpoint is the effect.
    return {
        "effect": (float(ci.low) + float(ci.high)) / 2,
        "ci_low": float(ci.low),
        "ci_high": float(ci.high),
        "statistic": float(res.statistic),
        "pvalue": float(res.pvalue),
        "df": float(res.df),
    }


def _w1_statsmodels(d: Data) -> Any:
    """statsmodels' Welch test and CI of the difference (treatment - control)."""
    d1, d2 = DescrStatsW(d["t"]), DescrStatsW(d["c"])
    cm = CompareMeans(d1, d2)
    stat, p, df = cm.ttest_ind(usevar="unequal")
    lo, hi = cm.tconfint_diff(alpha=0.05, usevar="unequal")
    return d1.mean - d2.mean, stat, p, df, lo, hi


def _w1_statsmodels_extract(out: Any) -> Fields:
    """Standard fields of statsmodels' results."""
    effect, stat, p, df, lo, hi = out
    return {
        "effect": float(effect),
        "ci_low": float(lo),
        "ci_high": float(hi),
        "statistic": float(stat),
        "pvalue": float(p),
        "df": float(df),
    }


def _w1_pandas(d: Data) -> Fields:
    """pandas groupby mean, var and count per arm, then the Welch formula."""
    agg = d["df"].groupby("arm")["y"].agg(["mean", "var", "count"])
    c, t = agg.loc[0], agg.loc[1]
    return welch_from_moments(
        c["mean"], c["var"], int(c["count"]), t["mean"], t["var"], int(t["count"])
    )


def _w1_numpy(d: Data) -> Fields:
    """numpy mean and var(ddof=1) per arm, then the Welch formula."""
    c, t = d["c"], d["t"]
    return welch_from_moments(c.mean(), c.var(ddof=1), c.size, t.mean(), t.var(ddof=1), t.size)


def _identity(out: Any) -> Fields:
    """The tool already returns the standard fields."""
    return dict(out)


def _w1_neyman_extract(res: Any) -> Fields:
    """Standard fields of neyman's t-test result."""
    return _result_fields(res, W1_FIELDS)


W1 = Workload(
    key="W1",
    title="Welch t-test + 95% CI (float64, half the rows per arm)",
    build=build_w1,
    frames=frames_w1,
    fields=W1_FIELDS,
    floor_arrays=("c", "t"),
    tools=(
        Tool("neyman.ttest", "neyman", "arrays", _w1_neyman_arrays, _w1_neyman_extract, ("c", "t")),
        Tool(
            "neyman.ttest(frame)",
            "neyman",
            "pandas",
            _w1_neyman_frame,
            _w1_neyman_extract,
            ("y", "arm"),
        ),
        Tool("scipy ttest_ind", "peer", "arrays", _w1_scipy, _w1_scipy_extract, ("c", "t")),
        Tool(
            "statsmodels CompareMeans",
            "peer",
            "arrays",
            _w1_statsmodels,
            _w1_statsmodels_extract,
            ("c", "t"),
        ),
        Tool("pandas groupby", "peer", "pandas", _w1_pandas, _identity, ("y", "arm")),
        Tool("numpy by hand", "peer", "arrays", _w1_numpy, _identity, ("c", "t")),
        Tool(
            "floor_sum",
            "floor",
            "arrays",
            lambda d: _neyman_floor(d, ("c", "t")),
            lambda _: {},
            ("c", "t"),
        ),
    ),
    notes=(
        "neyman.ttest(c, t) and the array peers read the two arms' float64 arrays (8 bytes/row); "
        "the frame tools read y (float64) and arm (int32), 12 bytes/row.",
        "Peers on arrays are compared with neyman on arrays, peers on pandas with neyman on "
        "the same pandas frame.",
    ),
)


# --------------------------------------------------------------------------------------------
# W2: CUPED with one covariate, pooled theta, Welch t on the adjusted variances
# --------------------------------------------------------------------------------------------

W2_FIELDS = (
    "control_value",
    "treatment_value",
    "effect",
    "se",
    "ci_low",
    "ci_high",
    "statistic",
    "pvalue",
    "df",
    "rel_effect",
    "rel_ci_low",
    "rel_ci_high",
)
W2_EFFECT = 0.002  # true effect on y; its CUPED standard error at 10M rows is about 6.3e-4


def build_w2(n: int, seed: int = SEED_W2) -> Data:
    """``n`` rows, ``n // 2`` per arm: x ~ N(10, 2), y = 1 + 0.8 x + N(0, 1) (+ 0.002 if treated).

    x is the pre-experiment covariate: corr(x, y)^2 is about 0.72, so CUPED cuts the variance of
    the effect to about 0.28 of the unadjusted one; theta is near 0.8 (not 1, so that a slip that
    drops theta would show). With this seed the estimated effect at 10M rows is 0.0011 (p near
    0.08), so relative agreement of p means something. arm is int8 0/1 in random order. Data:
    the columns ``arm``, ``y``, ``x``; per-arm contiguous copies ``yc, xc, yt, xt`` for the array
    tools; pandas frame ``df`` and polars frame ``pl``.
    """
    rng = np.random.default_rng(seed)
    half = n // 2
    arm = rng.permutation(np.repeat(np.array([0, 1], dtype=np.int8), [half, n - half]))
    x = rng.normal(10.0, 2.0, size=n)
    y = 1.0 + 0.8 * x + rng.normal(0.0, 1.0, size=n)
    treated = arm == 1
    y[treated] += W2_EFFECT
    out: Data = {
        "arm": arm,
        "y": y,
        "x": x,
        "yc": np.ascontiguousarray(y[~treated]),
        "xc": np.ascontiguousarray(x[~treated]),
        "yt": np.ascontiguousarray(y[treated]),
        "xt": np.ascontiguousarray(x[treated]),
    }
    return frames_w2(out)


def frames_w2(arrays: Data) -> Data:
    """Add the pandas frame ``df`` and the polars frame ``pl`` (columns arm, y, x)."""
    cols = {k: arrays[k] for k in ("arm", "y", "x")}
    return {**arrays, "df": pd.DataFrame(cols), "pl": pl.DataFrame(cols)}


def cuped_by_hand(
    yc: np.ndarray, xc: np.ndarray, yt: np.ndarray, xt: np.ndarray, confidence_level: float = 0.95
) -> Fields:
    """CUPED written with numpy, as a user would (Deng et al. 2013), from the per-arm arrays.

    Per arm: means and sample (co)variances (ddof=1) from the deviations. theta = Cov(y, x) /
    Var(x) on both arms pooled, the pooled moments combined from the per-arm ones (Chan et al.:
    within-arm sums of squares plus ``n_c n_t / N`` times the product of the mean differences),
    which is exact and avoids concatenating the arms. Effect ``(ybar_t - ybar_c) - theta (xbar_t
    - xbar_c)``; per-arm variance ``(s_yy - 2 theta s_xy + theta^2 s_xx) / n``; Welch's t with
    Welch-Satterthwaite df (``welch_from_moments`` on the adjusted means ``ybar - theta xbar``,
    whose difference is the effect). Relative effect ``effect / ybar_c`` with the delta variance
    of ``N / ybar_c``, ``N = ybar_c + effect``: ``Var(N) = v_t + theta^2 s_xx,c / n_c``,
    ``Cov(N, ybar_c) = theta s_xy,c / n_c``, ``Var(ybar_c) = s_yy,c / n_c``, and the same t
    critical value as the absolute interval.
    """

    def moments(y: np.ndarray, x: np.ndarray) -> tuple[int, float, float, float, float, float]:
        """n, means and sample variances and covariance (ddof=1) of one arm."""
        n = y.size
        my, mx = float(y.mean()), float(x.mean())
        dy, dx = y - my, x - mx
        return (
            n,
            my,
            mx,
            float(dy @ dy) / (n - 1),
            float(dx @ dx) / (n - 1),
            float(dx @ dy) / (n - 1),
        )

    nc, myc, mxc, syyc, sxxc, sxyc = moments(yc, xc)
    nt, myt, mxt, syyt, sxxt, sxyt = moments(yt, xt)
    big_n = nc + nt
    dmy, dmx = myt - myc, mxt - mxc
    between = nc * nt / big_n
    sxx = ((nc - 1) * sxxc + (nt - 1) * sxxt + between * dmx * dmx) / (big_n - 1)
    sxy = ((nc - 1) * sxyc + (nt - 1) * sxyt + between * dmx * dmy) / (big_n - 1)
    theta = sxy / sxx
    var_c = syyc - 2 * theta * sxyc + theta**2 * sxxc
    var_t = syyt - 2 * theta * sxyt + theta**2 * sxxt
    out = welch_from_moments(
        myc - theta * mxc, var_c, nc, myt - theta * mxt, var_t, nt, confidence_level
    )
    effect = dmy - theta * dmx
    q = float(stats.t.ppf(0.5 + confidence_level / 2, out["df"]))
    num = myc + effect
    var_num = var_t / nt + theta**2 * sxxc / nc
    cov_num_den = theta * sxyc / nc
    var_den = syyc / nc
    rel_var = var_num / myc**2 - 2 * num * cov_num_den / myc**3 + num**2 * var_den / myc**4
    rel = effect / myc
    rel_se = math.sqrt(rel_var)
    return {
        **out,
        "effect": effect,
        "se": math.sqrt(var_c / nc + var_t / nt),
        "control_value": myc,
        "treatment_value": myc + effect,
        "rel_effect": rel,
        "rel_ci_low": rel - q * rel_se,
        "rel_ci_high": rel + q * rel_se,
    }


def _w2_neyman_arrays(d: Data) -> Any:
    """neyman on the per-arm metric and covariate arrays."""
    return neyman.cuped(d["yc"], d["xc"], d["yt"], d["xt"])


def _w2_neyman_frame(key: str) -> Callable[[Data], Any]:
    """neyman on the frame stored under ``key`` of the data."""

    def run(d: Data) -> Any:
        """The timed call."""
        return neyman.cuped(d[key], metric="y", covariate="x", variant="arm", control=0)

    return run


def _w2_neyman_extract(res: Any) -> Fields:
    """Standard fields of neyman's CUPED result, with what restating needs.

    Beside the fields: the unadjusted effect ``ybar_t - ybar_c`` and the arm sizes, from which
    tea-tasting's definition of the arm means is restated (``_w2_pooled_mean_values``).
    """
    row = res if hasattr(res, "effect") else res[0]
    out = _result_fields(row, W2_FIELDS)
    out["unadjusted_effect"] = float(row.unadjusted.effect)
    out["n_control"] = float(row.n_control)
    out["n_treatment"] = float(row.n_treatment)
    return out


def _w2_pooled_mean_values(ref: Fields) -> Fields:
    """neyman's arm means restated as tea-tasting defines them for CUPED, from neyman's outputs.

    tea-tasting reports each arm's mean adjusted to the pooled covariate mean,
    ``ybar_a - theta (xbar_a - xbar)``, with ``xbar = (n_c xbar_c + n_t xbar_t) / N``; neyman
    reports the unadjusted ``ybar_c`` and ``ybar_c + effect``. Since ``theta (xbar_t - xbar_c) =
    unadjusted_effect - effect``, tea-tasting's control mean is ``ybar_c + (n_t / N)
    (unadjusted_effect - effect)``, its treatment mean that plus the effect (the same effect in
    both definitions), and its relative effect the effect over its control mean.
    """
    n_c, n_t = ref["n_control"], ref["n_treatment"]
    shift = n_t / (n_c + n_t) * (ref["unadjusted_effect"] - ref["effect"])
    control = ref["control_value"] + shift
    return {
        **ref,
        "control_value": control,
        "treatment_value": control + ref["effect"],
        "rel_effect": ref["effect"] / control,
    }


def _tt_cuped_experiment() -> Any:
    """The tea-tasting CUPED experiment, built once (outside the timed region) and reused.

    ``use_t=True, equal_var=False`` (tea-tasting's defaults, written out): Welch's t on the
    adjusted per-arm variances, the same reference as neyman.cuped's default ``test='welch'``.
    """
    if "cuped" not in _TT_EXPERIMENTS:
        _TT_EXPERIMENTS["cuped"] = tt.Experiment(
            cuped=tt.Mean("y", covariate="x", use_t=True, equal_var=False), variant="arm"
        )
    return _TT_EXPERIMENTS["cuped"]


def _w2_tea_tasting(key: str) -> Callable[[Data], Any]:
    """tea-tasting on the frame stored under ``key`` of the data."""

    def run(d: Data) -> Any:
        """The timed call."""
        return _tt_cuped_experiment().analyze(d[key], control=0)

    return run


def _w2_tea_tasting_extract(res: Any) -> Fields:
    """Fields of tea-tasting's CUPED result that neyman's answer can be compared with.

    Its relative CI is left out: it is a log-scale interval around the two means adjusted to the
    pooled covariate mean, treated as independent, and needs each arm's adjusted variance, which
    neyman does not report (so it cannot be restated from neyman's answer; numpy by hand checks
    neyman's relative interval instead).
    """
    r = res["cuped"]
    return {
        "control_value": float(r.control),
        "treatment_value": float(r.treatment),
        "effect": float(r.effect_size),
        "ci_low": float(r.effect_size_ci_lower),
        "ci_high": float(r.effect_size_ci_upper),
        "statistic": float(r.statistic),
        "pvalue": float(r.pvalue),
        "rel_effect": float(r.rel_effect_size),
    }


_OLS_WHY = (
    "OLS y ~ 1 + arm + (x - mean x) is ANCOVA: its slope is the within-arm slope, not CUPED's "
    "pooled theta, and HC1 divides squared residuals by n - 3 overall instead of n - 1 per arm; "
    "both differences are O(1/n) relative (about 4e-4 at 1k rows, 5e-5 at 10k, 2e-7 at 10M)"
)
_OLS_TOLERANCE = {"effect": (1e-3, _OLS_WHY), "se": (1e-3, _OLS_WHY)}


def _w2_statsmodels(d: Data) -> Any:
    """statsmodels OLS of y on [1, arm, x - mean(x)] with HC1 standard errors."""
    x = d["x"]
    design = np.column_stack([np.ones(x.size), d["arm"], x - x.mean()])
    return sm.OLS(d["y"], design).fit(cov_type="HC1")


def _w2_statsmodels_extract(fit: Any) -> Fields:
    """The arm coefficient and its HC1 standard error (compared on these two only)."""
    return {"effect": float(fit.params[1]), "se": float(fit.bse[1])}


def _gbstats_arm(y: np.ndarray, x: np.ndarray) -> Any:
    """gbstats' input for one arm: the sums its SQL query would return, here from numpy."""
    n = int(y.size)
    return RegressionAdjustedStatistic(
        n=n,
        post_statistic=SampleMeanStatistic(n=n, sum=float(y.sum()), sum_squares=float(y @ y)),
        pre_statistic=SampleMeanStatistic(n=n, sum=float(x.sum()), sum_squares=float(x @ x)),
        post_pre_sum_of_products=float(x @ y),
        theta=0.0,  # set by the test from both arms pooled (gbstats.models.statistics)
    )


def _w2_gbstats(d: Data) -> Any:
    """gbstats' Welch t-test on regression-adjusted (CUPED) statistics, sums included."""
    test = TwoSidedTTest(
        _gbstats_arm(d["yc"], d["xc"]),
        _gbstats_arm(d["yt"], d["xt"]),
        FrequentistConfig(difference_type="absolute"),
    )
    return test, test.compute_result()


def _w2_gbstats_extract(out: Any) -> Fields:
    """Standard fields of gbstats' result (absolute difference)."""
    test, res = out
    return {
        "control_value": float(test.stat_a.unadjusted_mean),
        "effect": float(res.expected),
        "se": float(res.uplift.stddev),
        "ci_low": float(res.ci[0]),
        "ci_high": float(res.ci[1]),
        "statistic": float(test.critical_value),
        "pvalue": float(res.p_value),
        "df": float(test.dof),
    }


def _w2_numpy(d: Data) -> Fields:
    """CUPED written by hand with numpy."""
    return cuped_by_hand(d["yc"], d["xc"], d["yt"], d["xt"])


_W2_ARRAYS = ("yc", "xc", "yt", "xt")
_W2_FRAME_READS = ("arm", "y", "x")

W2 = Workload(
    key="W2",
    title="CUPED, one covariate (y, x float64, arm int8), pooled theta, Welch t",
    build=build_w2,
    frames=frames_w2,
    fields=W2_FIELDS,
    floor_arrays=("y", "x"),
    tools=(
        Tool(
            "neyman.cuped(arrays)",
            "neyman",
            "arrays",
            _w2_neyman_arrays,
            _w2_neyman_extract,
            _W2_ARRAYS,
        ),
        Tool(
            "neyman.cuped(pandas)",
            "neyman",
            "pandas",
            _w2_neyman_frame("df"),
            _w2_neyman_extract,
            _W2_FRAME_READS,
        ),
        Tool(
            "neyman.cuped(polars)",
            "neyman",
            "polars",
            _w2_neyman_frame("pl"),
            _w2_neyman_extract,
            _W2_FRAME_READS,
        ),
        Tool(
            "tea-tasting (pandas)",
            "peer",
            "pandas",
            _w2_tea_tasting("df"),
            _w2_tea_tasting_extract,
            _W2_FRAME_READS,
            restate=_w2_pooled_mean_values,
        ),
        Tool(
            "tea-tasting (polars)",
            "peer",
            "polars",
            _w2_tea_tasting("pl"),
            _w2_tea_tasting_extract,
            _W2_FRAME_READS,
            restate=_w2_pooled_mean_values,
        ),
        Tool(
            "statsmodels OLS HC1",
            "peer",
            "arrays",
            _w2_statsmodels,
            _w2_statsmodels_extract,
            _W2_FRAME_READS,
            tolerance=_OLS_TOLERANCE,
        ),
        *(
            ()
            if GBSTATS_MISSING
            else (
                Tool(
                    "gbstats",
                    "peer",
                    "arrays",
                    _w2_gbstats,
                    _w2_gbstats_extract,
                    _W2_ARRAYS,
                ),
            )
        ),
        Tool("numpy by hand", "peer", "arrays", _w2_numpy, _identity, _W2_ARRAYS),
        Tool(
            "floor_sum",
            "floor",
            "arrays",
            lambda d: _neyman_floor(d, ("y", "x")),
            lambda _: {},
            ("y", "x"),
        ),
    ),
    notes=(
        "y and x are float64, arm is int8 0/1. Array tools read 4 float64 arrays of n/2 (16 "
        "bytes/row); frame tools and statsmodels read y, x and arm (17 bytes/row).",
        "tea-tasting is built once with Mean('y', covariate='x', use_t=True, equal_var=False) "
        "(Welch's t, as neyman.cuped's default) and Experiment(variant='arm'); only "
        ".analyze(frame, control=0) is timed. Its arm means are adjusted to the pooled covariate "
        "mean: neyman's are restated that way from neyman's own outputs "
        "(workloads._w2_pooled_mean_values). Its log-scale relative CI is not compared.",
        "statsmodels: the design matrix [1, arm, x - mean(x)] is built inside the timed call, "
        "then OLS(...).fit(cov_type='HC1'); compared on effect and se only, at 1e-3 (ANCOVA and "
        "CUPED are asymptotically equivalent, not identical; see the README).",
        (
            f"gbstats is not installed or does not import ({GBSTATS_MISSING}); install it with "
            "`uv pip install --no-deps gbstats` (README)."
            if GBSTATS_MISSING
            else "gbstats: per-arm sums (sum, sum of squares, cross product) computed with numpy "
            "inside the timed call, as its SQL query would return them, then "
            "TwoSidedTTest(RegressionAdjustedStatistic...) with difference_type='absolute'."
        ),
        "Peers on arrays (and statsmodels, on the whole columns) are compared with "
        "neyman.cuped(arrays); peers on pandas / polars with neyman on the same frame.",
    ),
)


# --------------------------------------------------------------------------------------------
# W7: ratio metric clicks / impressions per user, delta method, z reference
# --------------------------------------------------------------------------------------------

W7_FIELDS = (
    "control_value",
    "treatment_value",
    "effect",
    "ci_low",
    "ci_high",
    "statistic",
    "pvalue",
    "rel_effect",
    "rel_ci_low",
    "rel_ci_high",
)


def build_w7(n: int, seed: int = SEED_W7) -> Data:
    """``n`` users, half per arm: impressions ~ 1 + Poisson(20), clicks ~ Binomial(impressions, p).

    p = 0.05 in control and 0.05 * 1.001 in treatment (a 0.1% lift, p-value near 0.2 at 10M
    users). Clicks and impressions are stored as float64 (integer-valued), so no tool pays for a
    dtype conversion; arm is int32 0/1 in random order. Data: pandas frame ``df`` and polars frame
    ``pl`` (columns arm, clicks, impressions) and per-arm contiguous arrays ``nc, dc, nt, dt``.
    """
    rng = np.random.default_rng(seed)
    half = n // 2
    arm = rng.permutation(np.repeat(np.array([0, 1], dtype=np.int32), [half, n - half]))
    impressions = rng.poisson(20.0, size=n) + 1
    p = np.where(arm == 1, 0.05 * 1.001, 0.05)
    clicks = rng.binomial(impressions, p).astype(np.float64)
    impressions = impressions.astype(np.float64)
    treated = arm == 1
    out: Data = {
        "arm": arm,
        "clicks": clicks,
        "impressions": impressions,
        "nc": np.ascontiguousarray(clicks[~treated]),
        "dc": np.ascontiguousarray(impressions[~treated]),
        "nt": np.ascontiguousarray(clicks[treated]),
        "dt": np.ascontiguousarray(impressions[treated]),
    }
    return frames_w7(out)


def frames_w7(arrays: Data) -> Data:
    """Add the pandas frame ``df`` and the polars frame ``pl`` built from the arrays."""
    cols = {k: arrays[k] for k in ("arm", "clicks", "impressions")}
    return {**arrays, "df": pd.DataFrame(cols), "pl": pl.DataFrame(cols)}


def ratio_delta_by_hand(
    nc: np.ndarray, dc: np.ndarray, nt: np.ndarray, dt: np.ndarray, confidence_level: float = 0.95
) -> Fields:
    """Delta-method ratio test written with numpy, as a user would (Deng et al. 2018, eq. 2).

    Per arm: ``r = mean(x)/mean(y)`` and ``Var(r) = (s_x^2/m_y^2 - 2 m_x s_xy/m_y^3 +
    m_x^2 s_y^2/m_y^4) / n`` with sample (co)variances (ddof=1); z reference; relative effect
    ``r_t/r_c - 1`` with delta variance ``v_t/r_c^2 + r_t^2 v_c/r_c^4``.
    """

    def arm(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
        """One arm's ratio and the delta-method variance of its estimate."""
        n = x.size
        mx, my = x.mean(), y.mean()
        vx, vy = x.var(ddof=1), y.var(ddof=1)
        cxy = np.dot(x - mx, y - my) / (n - 1)
        v = (vx / my**2 - 2 * mx * cxy / my**3 + mx**2 * vy / my**4) / n
        return float(mx / my), float(v)

    rc, vc = arm(nc, dc)
    rt, vt = arm(nt, dt)
    se = math.sqrt(vc + vt)
    effect = rt - rc
    q = float(stats.norm.ppf(0.5 + confidence_level / 2))
    rel = rt / rc - 1
    rel_se = math.sqrt(vt / rc**2 + rt**2 * vc / rc**4)
    return {
        "control_value": rc,
        "treatment_value": rt,
        "effect": effect,
        "ci_low": effect - q * se,
        "ci_high": effect + q * se,
        "statistic": effect / se,
        "pvalue": float(2 * stats.norm.sf(abs(effect / se))),
        "rel_effect": rel,
        "rel_ci_low": rel - q * rel_se,
        "rel_ci_high": rel + q * rel_se,
    }


def _w7_neyman_frame(key: str) -> Callable[[Data], Any]:
    """neyman on the frame stored under ``key`` of the data."""

    def run(d: Data) -> Any:
        """The timed call."""

        return neyman.ratio(
            d[key], numerator="clicks", denominator="impressions", variant="arm", control=0
        )

    return run


def _w7_neyman_arrays(d: Data) -> Any:
    """neyman on per-arm numerator and denominator arrays."""
    return neyman.ratio(d["nc"], d["dc"], d["nt"], d["dt"])


def _w7_neyman_extract(res: Any) -> Fields:
    """Standard fields of neyman's ratio result, with ``rel_se`` for restating."""
    return _result_fields(res, (*W7_FIELDS, "rel_se"))


def _log_scale_rel_ci(ref: Fields, confidence_level: float = 0.95) -> Fields:
    """neyman's relative interval restated on the log scale, as tea-tasting defines it.

    tea-tasting: ``(r_t/r_c) * exp(+/- q se_log) - 1`` with ``se_log^2 = v_t/r_t^2 + v_c/r_c^2``.
    neyman's delta ``rel_se^2 = v_t/r_c^2 + r_t^2 v_c/r_c^4 = (r_t/r_c)^2 se_log^2``, so
    ``se_log = rel_se / (1 + rel_effect)``: the same variances, only the interval's scale differs.
    """
    q = float(stats.norm.ppf(0.5 + confidence_level / 2))
    ratio = 1.0 + ref["rel_effect"]
    se_log = ref["rel_se"] / ratio
    return {
        **ref,
        "rel_ci_low": ratio * math.exp(-q * se_log) - 1.0,
        "rel_ci_high": ratio * math.exp(q * se_log) - 1.0,
    }


def _tt_experiment() -> Any:
    """The tea-tasting experiment, built once (outside the timed region) and reused.

    ``use_t=False`` makes tea-tasting refer the statistic to the normal distribution, as neyman's
    ratio does (its default, ``use_t=True``, uses Welch's t; identical to 1e-8 at 10M rows).
    """
    if "exp" not in _TT_EXPERIMENTS:
        _TT_EXPERIMENTS["exp"] = tt.Experiment(
            ratio=tt.RatioOfMeans("clicks", "impressions", use_t=False), variant="arm"
        )
    return _TT_EXPERIMENTS["exp"]


def _w7_tea_tasting(key: str) -> Callable[[Data], Any]:
    """tea-tasting on the frame stored under ``key`` of the data."""

    def run(d: Data) -> Any:
        """The timed call."""
        return _tt_experiment().analyze(d[key], control=0)

    return run


def _w7_tea_tasting_extract(res: Any) -> Fields:
    """Standard fields of tea-tasting's result for the ratio metric."""
    r = res["ratio"]
    effect = float(r.effect_size)
    return {
        "control_value": float(r.control),
        "treatment_value": float(r.treatment),
        "effect": effect,
        "ci_low": float(r.effect_size_ci_lower),
        "ci_high": float(r.effect_size_ci_upper),
        "statistic": float(r.statistic),
        "pvalue": float(r.pvalue),
        "rel_effect": float(r.rel_effect_size),
        "rel_ci_low": float(r.rel_effect_size_ci_lower),
        "rel_ci_high": float(r.rel_effect_size_ci_upper),
    }


def _w7_numpy(d: Data) -> Fields:
    """The delta method written by hand with numpy."""
    return ratio_delta_by_hand(d["nc"], d["dc"], d["nt"], d["dt"])


_FRAME_READS = ("arm", "clicks", "impressions")

W7 = Workload(
    key="W7",
    title="ratio metric clicks/impressions, delta method, CI on the relative lift",
    build=build_w7,
    frames=frames_w7,
    fields=W7_FIELDS,
    floor_arrays=("clicks", "impressions"),
    tools=(
        Tool(
            "neyman.ratio(arrays)",
            "neyman",
            "arrays",
            _w7_neyman_arrays,
            _w7_neyman_extract,
            ("nc", "dc", "nt", "dt"),
        ),
        Tool(
            "neyman.ratio(pandas)",
            "neyman",
            "pandas",
            _w7_neyman_frame("df"),
            _w7_neyman_extract,
            _FRAME_READS,
        ),
        Tool(
            "neyman.ratio(polars)",
            "neyman",
            "polars",
            _w7_neyman_frame("pl"),
            _w7_neyman_extract,
            _FRAME_READS,
        ),
        Tool(
            "tea-tasting (pandas)",
            "peer",
            "pandas",
            _w7_tea_tasting("df"),
            _w7_tea_tasting_extract,
            _FRAME_READS,
            restate=_log_scale_rel_ci,
        ),
        Tool(
            "tea-tasting (polars)",
            "peer",
            "polars",
            _w7_tea_tasting("pl"),
            _w7_tea_tasting_extract,
            _FRAME_READS,
            restate=_log_scale_rel_ci,
        ),
        Tool(
            "numpy by hand",
            "peer",
            "arrays",
            _w7_numpy,
            _identity,
            ("nc", "dc", "nt", "dt"),
        ),
        Tool(
            "floor_sum",
            "floor",
            "arrays",
            lambda d: _neyman_floor(d, ("clicks", "impressions")),
            lambda _: {},
            ("clicks", "impressions"),
        ),
    ),
    notes=(
        "clicks and impressions are float64 (integer-valued); arm is int32 0/1. Array tools read "
        "4 float64 arrays of n/2 (16 bytes/user); frame tools read clicks, impressions and arm "
        "(20 bytes/user).",
        "tea-tasting is built once with RatioOfMeans('clicks', 'impressions', use_t=False) and "
        "Experiment(variant='arm'); only .analyze(frame, control=0) is timed.",
        "tea-tasting's relative CI is on the log scale; for the check, neyman's interval is "
        "restated on that scale from neyman's own rel_effect and rel_se "
        "(workloads._log_scale_rel_ci).",
    ),
)


# --------------------------------------------------------------------------------------------
# W11: post-stratification on the bundled data's city (400 levels) and country (6 levels)
# --------------------------------------------------------------------------------------------

EXAMPLE_DATA = Path(__file__).resolve().parent.parent / "data" / "example_experiment.parquet"
W11_ROWS = 200_000
W11_TREATMENTS = ("treatment_a", "treatment_b")
W11_BASE_FIELDS = (
    "control_value",
    "treatment_value",
    "effect",
    "se",
    "ci_low",
    "ci_high",
    "statistic",
    "pvalue",
    "rel_effect",
    "rel_ci_low",
    "rel_ci_high",
)
W11_FIELDS = tuple(f"{f}[{arm}]" for arm in W11_TREATMENTS for f in W11_BASE_FIELDS)


def build_w11(n: int) -> Data:
    """The first ``n`` rows of ``data/example_experiment.parquet`` (all 200,000 for ``n`` at
    least that): ``arm`` (string: control, treatment_a, treatment_b), ``city`` (int32, 400
    levels), ``country`` (string, 6 levels), ``revenue`` (float64). Nothing is drawn: the data
    are the bundled file's."""
    df = pd.read_parquet(EXAMPLE_DATA, columns=["arm", "city", "country", "revenue"])
    df = df.iloc[: min(n, len(df))]
    arrays = {
        "arm": df["arm"].to_numpy(dtype=str),
        "city": np.ascontiguousarray(df["city"].to_numpy(dtype=np.int32)),
        "country": df["country"].to_numpy(dtype=str),
        "revenue": np.ascontiguousarray(df["revenue"].to_numpy(dtype=np.float64)),
    }
    return frames_w11(arrays)


def frames_w11(arrays: Data) -> Data:
    """Add the pandas frame ``df`` as ``pandas.read_parquet`` gives it (object string columns)."""
    df = pd.DataFrame(
        {
            "arm": arrays["arm"].astype(object),
            "city": arrays["city"],
            "country": arrays["country"].astype(object),
            "revenue": arrays["revenue"],
        }
    )
    return {**arrays, "df": df, "exp": neyman.Experiment(df, variant="arm", control="control")}


def _w11_neyman_analyze(d: Data) -> Any:
    """neyman's analysis alone, on an Experiment built once (outside the timed region)."""
    return d["exp"].analyze(neyman.Mean("revenue", strata="city"))


def _w11_neyman(strata: str) -> Callable[[Data], Any]:
    """neyman on the pandas frame, post-stratified on ``strata``: what a user writes."""

    def run(d: Data) -> Any:
        """The timed call: the experiment (arm codes, SRM check) and the analysis."""
        exp = neyman.Experiment(d["df"], variant="arm", control="control")
        return exp.analyze(neyman.Mean("revenue", strata=strata))

    return run


def _w11_neyman_extract(res: Any) -> Fields:
    """Standard fields of both comparisons (``field[arm]``)."""
    return {
        f"{f}[{arm}]": float(getattr(res["revenue", arm], f))
        for arm in W11_TREATMENTS
        for f in W11_BASE_FIELDS
    }


def post_stratified_by_pandas(df: pd.DataFrame, strata: str) -> Fields:
    """Post-stratification as a user would write it with pandas (Miratrix, Sekhon and Yu 2013).

    One ``groupby([arm, stratum]).agg(count, mean, var)``; pooled stratum shares
    ``w_s = N_s / N``; each arm's post-stratified mean ``sum_s w_s ybar_gs`` and its variance
    ``sum_s w_s^2 s_gs^2 / n_gs`` (the HC2 variance of Lin's interacted regression on the
    stratum dummies, neyman's default); arms independent, so the effect's variance is the sum;
    normal reference; relative effect ``a_t / a_c - 1`` by the delta method.
    """
    g = df.groupby(["arm", strata], sort=True)["revenue"].agg(["count", "mean", "var"])
    n = g["count"].unstack(strata).to_numpy(dtype=np.float64)
    mean = g["mean"].unstack(strata).to_numpy()
    var = g["var"].unstack(strata).to_numpy()
    arms = list(g.index.levels[0])
    w = n.sum(axis=0) / n.sum()
    adjusted = mean @ w
    v = (var / n) @ (w * w)
    q = float(stats.norm.ppf(0.975))
    c = arms.index("control")
    out: Fields = {}
    for arm in W11_TREATMENTS:
        t = arms.index(arm)
        a_c, a_t, v_c, v_t = adjusted[c], adjusted[t], v[c], v[t]
        effect, se = a_t - a_c, math.sqrt(v_c + v_t)
        rel = a_t / a_c - 1
        rel_se = math.sqrt(v_t / a_c**2 + a_t**2 * v_c / a_c**4)
        fields = {
            "control_value": a_c,
            "treatment_value": a_t,
            "effect": effect,
            "se": se,
            "ci_low": effect - q * se,
            "ci_high": effect + q * se,
            "statistic": effect / se,
            "pvalue": float(2 * stats.norm.sf(abs(effect / se))),
            "rel_effect": rel,
            "rel_ci_low": rel - q * rel_se,
            "rel_ci_high": rel + q * rel_se,
        }
        out.update({f"{k}[{arm}]": float(v) for k, v in fields.items()})
    return out


W11 = Workload(
    key="W11",
    title="post-stratification (Lin / HC2), bundled data: city (400 levels), country (6)",
    build=build_w11,
    frames=frames_w11,
    fields=W11_FIELDS,
    floor_arrays=("revenue",),
    sizes=(W11_ROWS,),
    tools=(
        Tool(
            "neyman Mean(strata=city)",
            "neyman",
            "city",
            _w11_neyman("city"),
            _w11_neyman_extract,
            ("city", "revenue"),
        ),
        Tool(
            "neyman analyze(...) only",
            "neyman",
            "city",
            _w11_neyman_analyze,
            _w11_neyman_extract,
            ("city", "revenue"),
        ),
        Tool(
            "pandas groupby (city)",
            "peer",
            "city",
            lambda d: post_stratified_by_pandas(d["df"], "city"),
            _identity,
            ("city", "revenue"),
        ),
        Tool(
            "neyman Mean(strata=country)",
            "neyman",
            "country",
            _w11_neyman("country"),
            _w11_neyman_extract,
            ("revenue",),
            reference="neyman Mean(strata=country)",
        ),
        Tool(
            "pandas groupby (country)",
            "peer",
            "country",
            lambda d: post_stratified_by_pandas(d["df"], "country"),
            _identity,
            ("revenue",),
            reference="neyman Mean(strata=country)",
        ),
        Tool(
            "floor_sum",
            "floor",
            "arrays",
            lambda d: _neyman_floor(d, ("revenue",)),
            lambda _: {},
            ("revenue",),
        ),
    ),
    notes=(
        "The bundled data (200,000 rows, 3 arms): arm and country are object string columns as "
        "pandas.read_parquet gives them, city int32 (400 levels), revenue float64. neyman's "
        "timed call builds the Experiment (arm codes, SRM check) and analyzes "
        "Mean('revenue', strata=...): HC2, normal reference, delta relative CI. 'analyze(...) "
        "only' times the analysis on an Experiment built once (the arm column already encoded), "
        "as a user analysing several metrics pays it.",
        "pandas groupby: one groupby([arm, stratum]).agg(count, mean, var), then the weighted "
        "combination and the HC2 closed form with numpy (workloads.post_stratified_by_pandas); "
        "the arm column is hashed inside the groupby, as neyman hashes it in Experiment.",
        "Fields are checked for both treatment arms (field[arm]); the country tools are checked "
        "against neyman on country. x floor counts revenue (and city) only, not the object "
        "string columns, so it is only indicative here.",
    ),
)


# --------------------------------------------------------------------------------------------

# W10: wild cluster bootstrap (WCR, Rademacher), y ~ treatment + x, 50 clusters, 99,999 replicates
# --------------------------------------------------------------------------------------------

SEED_W10 = 20240110
W10_CLUSTERS = 50
W10_REPLICATES = 99_999
W10_FIELDS = ("statistic", "pvalue")


def build_w10(n: int, seed: int = SEED_W10) -> Data:
    """``n`` rows in 50 clusters of unequal sizes (Dirichlet(5) shares), treatment ``arm`` (0/1,
    float64) assigned to 25 whole clusters, a row covariate ``x``, and
    ``y = 0.01 arm + 0.5 x + 0.02 u_g + e``: a p-value near 0.3 at 1M rows."""
    rng = np.random.default_rng(seed)
    G = W10_CLUSTERS
    cluster = rng.choice(G, n, p=rng.dirichlet(np.full(G, 5.0))).astype(np.int64)
    arm = (rng.permutation(G) < G // 2).astype(np.float64)[cluster]
    x = rng.normal(0, 1, n)
    y = 0.01 * arm + 0.5 * x + 0.02 * rng.normal(0, 1, G)[cluster] + rng.normal(0, 1, n)
    return frames_w10({"y": y, "arm": arm, "x": x, "cluster": cluster})


def frames_w10(arrays: Data) -> Data:
    """Add the design matrices (untimed, as a user holds them) and the pandas frame for pyfixest."""
    arm, x = arrays["arm"], arrays["x"]
    return {
        **arrays,
        "X": np.column_stack([arm, x]),
        "X1": np.column_stack([np.ones(len(x)), arm, x]),
        "df": pd.DataFrame({k: arrays[k] for k in ("y", "arm", "x", "cluster")}),
    }


def _w10_neyman(d: Data) -> Any:
    return neyman.wild_cluster_bootstrap(
        d["y"], d["X"], d["cluster"], param=0, n_resamples=W10_REPLICATES, rng=1
    )


def _w10_neyman_extract(res: Any) -> Fields:
    return {"statistic": float(res.statistic), "pvalue": float(res.pvalue)}


def _w10_wildboottest(d: Data) -> Any:
    """wildboottest's WCR pipeline as pyfixest runs it (type 11, Rademacher), its numba kernel
    parallel."""
    from wildboottest.wildboottest import WildboottestCL

    boot = WildboottestCL(
        X=d["X1"], Y=d["y"], cluster=d["cluster"], R=np.array([0.0, 1.0, 0.0]),
        B=W10_REPLICATES, seed=1, parallel=True,
    )  # fmt: skip
    boot.get_scores(bootstrap_type="11", impose_null=True)
    boot.get_weights(weights_type="rademacher")
    boot.get_numer()
    boot.get_denom()
    boot.get_tboot()
    boot.get_vcov()
    boot.get_tstat()
    boot.get_pvalue(pval_type="two-tailed")
    return boot


def _w10_wildboottest_extract(boot: Any) -> Fields:
    return {"statistic": float(np.ravel(boot.t_stat)[0]), "pvalue": float(boot.pvalue)}


def _w10_pyfixest(d: Data) -> Any:
    """What a pyfixest user writes: the fit, then ``Feols.wildboottest``."""
    import pyfixest as pf

    fit = pf.feols("y ~ arm + x", data=d["df"], vcov={"CRV1": "cluster"})
    return fit.wildboottest(param="arm", reps=W10_REPLICATES, seed=1)


def _w10_pyfixest_extract(out: Any) -> Fields:
    return {"statistic": float(out["t value"]), "pvalue": float(out["Pr(>|t|)"])}


# Two independent Monte-Carlo estimates of one p-value from 99,999 replicates differ by
# sqrt(2 p (1 - p) / B) <= 0.0023 in standard deviation: 4 of those (0.009) is under 5% of a
# p-value near 0.3. The t statistic is the same CR1 computation on both sides.
_W10_TOLERANCE = {
    "pvalue": (0.05, "Monte-Carlo: independent draws of 99,999 replicates (4 sd < 5% at p ~ 0.3)")
}

W10 = Workload(
    key="W10",
    title="wild cluster bootstrap (WCR, Rademacher), y ~ arm + x, 50 clusters, 99,999 replicates",
    build=build_w10,
    frames=frames_w10,
    fields=W10_FIELDS,
    floor_arrays=("y", "arm", "x"),
    sizes=(1_000_000,),
    quick_sizes=(10_000,),
    memory_at=(1_000_000,),
    tools=(
        Tool(
            "neyman wild_cluster_bootstrap",
            "neyman",
            "arrays",
            _w10_neyman,
            _w10_neyman_extract,
            ("y", "arm", "x", "cluster"),
        ),
        Tool(
            "wildboottest (WildboottestCL)",
            "peer",
            "arrays",
            _w10_wildboottest,
            _w10_wildboottest_extract,
            ("y", "arm", "x", "cluster"),
            tolerance=_W10_TOLERANCE,
        ),
        Tool(
            "pyfixest feols + wildboottest",
            "peer",
            "arrays",
            _w10_pyfixest,
            _w10_pyfixest_extract,
            ("y", "arm", "x", "cluster"),
            tolerance=_W10_TOLERANCE,
        ),
        Tool(
            "floor_sum",
            "floor",
            "arrays",
            lambda d: _neyman_floor(d, ("y", "arm", "x")),
            lambda _: {},
            ("y", "arm", "x"),
        ),
    ),
    notes=(
        "neyman's timed call reads the rows once into per-cluster X'X and X'y blocks (the "
        "cluster-robust engine's one-pass scan), then runs 99,999 replicates in O(clusters x "
        "regressors) each and inverts the test for the 95% interval (which the peers do not "
        "compute). Seeds differ between tools, so p-values agree within Monte-Carlo error only.",
        "wildboottest: its WildboottestCL pipeline (type 11, null imposed) with the numba kernel "
        "in parallel; pyfixest: feols with CRV1 then Feols.wildboottest (its default, serial "
        "kernel). x floor counts one pass over y, arm and x: the replicates, not the rows, "
        "dominate here, so it is only indicative.",
    ),
)


# W3: cluster-robust (CR1) least squares y ~ treat + x, 100 rows per cluster on average
# --------------------------------------------------------------------------------------------

W3_FIELDS = ("b_treat", "se_treat", "pvalue_treat", "b_x", "se_x", "df")
W3_ROWS_PER_CLUSTER = 100


def build_w3(n: int, seed: int = SEED_W3) -> Data:
    """``n`` rows in ``n // 100`` clusters (10M rows: 100k clusters), cluster ids int64 in random
    order; treatment assigned by cluster (half of them), ``x ~ N(0, 1)`` plus a cluster part, and
    ``y = 1 + 0.01 treat + 0.5 x + u_g + e`` with intra-cluster correlation about 0.2. ``treat``,
    ``x`` and ``y`` are float64; ``df`` is the pandas frame of the four columns (for pyfixest)."""
    rng = np.random.default_rng(seed)
    g = max(n // W3_ROWS_PER_CLUSTER, 2)
    cluster = rng.integers(0, g, size=n).astype(np.int64)
    treated = rng.random(g) < 0.5
    treat = treated[cluster].astype(np.float64)
    x = rng.normal(size=n) + 0.5 * rng.normal(size=g)[cluster]
    y = 1.0 + 0.01 * treat + 0.5 * x + 0.5 * rng.normal(size=g)[cluster] + rng.normal(size=n)
    return frames_w3({"y": y, "treat": treat, "x": x, "cluster": cluster})


def frames_w3(arrays: Data) -> Data:
    """Add the pandas frame ``df`` (columns y, treat, x, cluster)."""
    cols = {k: arrays[k] for k in ("y", "treat", "x", "cluster")}
    return {**arrays, "df": pd.DataFrame(cols)}


def _w3_neyman(d: Data) -> Any:
    """neyman.ols with CR1, clustered by the int64 ids."""
    return neyman.ols(d["y"], {"treat": d["treat"], "x": d["x"]}, cluster=d["cluster"], vcov="CR1")


def _w3_neyman_extract(res: Any) -> Fields:
    return {
        "b_treat": float(res.params[1]),
        "se_treat": float(res.se[1]),
        "pvalue_treat": float(res.pvalue[1]),
        "b_x": float(res.params[2]),
        "se_x": float(res.se[2]),
        "df": float(res.df[1]),
    }


def _w3_statsmodels(d: Data) -> Any:
    """statsmodels OLS with ``cov_type="cluster"`` (Stata's CR1, t with G - 1 df)."""
    X = sm.add_constant(np.column_stack([d["treat"], d["x"]]))
    return sm.OLS(d["y"], X).fit(cov_type="cluster", cov_kwds={"groups": d["cluster"]}, use_t=True)


def _w3_statsmodels_extract(res: Any) -> Fields:
    return {
        "b_treat": float(res.params[1]),
        "se_treat": float(res.bse[1]),
        "pvalue_treat": float(res.pvalues[1]),
        "b_x": float(res.params[2]),
        "se_x": float(res.bse[2]),
        "df": float(res.df_resid_inference),
    }


def _w3_pyfixest(d: Data) -> Any:
    """pyfixest ``feols(vcov={"CRV1": "cluster"})`` on the pandas frame."""
    import pyfixest as pf

    return pf.feols("y ~ treat + x", data=d["df"], vcov={"CRV1": "cluster"})


def _w3_pyfixest_extract(res: Any) -> Fields:
    coef, se, p = res.coef(), res.se(), res.pvalue()
    return {
        "b_treat": float(coef["treat"]),
        "se_treat": float(se["treat"]),
        "pvalue_treat": float(p["treat"]),
        "b_x": float(coef["x"]),
        "se_x": float(se["x"]),
        "df": float(res._df_t),
    }


def cluster_robust_by_hand(y: Any, treat: Any, x: Any, cluster: Any) -> Fields:
    """CR1 written with numpy as a user would: normal equations, residuals, per-cluster scores by
    ``np.bincount`` on ``pd.factorize`` codes, Stata's factor, t with ``G - 1`` df."""
    codes, uniques = pd.factorize(cluster)
    g = len(uniques)
    n = y.size
    X = np.column_stack([np.ones(n), treat, x])
    xtx = X.T @ X
    b = np.linalg.solve(xtx, X.T @ y)
    e = y - X @ b
    scores = np.column_stack(
        [np.bincount(codes, weights=X[:, j] * e, minlength=g) for j in range(3)]
    )
    m = np.linalg.inv(xtx)
    v = m @ (scores.T @ scores) @ m * g / (g - 1) * (n - 1) / (n - 3)
    se = np.sqrt(np.diag(v))
    return {
        "b_treat": float(b[1]),
        "se_treat": float(se[1]),
        "pvalue_treat": float(2 * stats.t.sf(abs(b[1] / se[1]), g - 1)),
        "b_x": float(b[2]),
        "se_x": float(se[2]),
        "df": float(g - 1),
    }


def _w3_numpy(d: Data) -> Fields:
    return cluster_robust_by_hand(d["y"], d["treat"], d["x"], d["cluster"])


_W3_READS = ("y", "treat", "x", "cluster")

W3 = Workload(
    key="W3",
    title="cluster-robust (CR1) y ~ treat + x, 100 rows per cluster (10M rows: 100k clusters)",
    build=build_w3,
    frames=frames_w3,
    fields=W3_FIELDS,
    floor_arrays=("y", "treat", "x"),
    per_arm=False,
    tools=(
        Tool("neyman.ols(CR1)", "neyman", "arrays", _w3_neyman, _w3_neyman_extract, _W3_READS),
        Tool(
            "statsmodels OLS cluster",
            "peer",
            "arrays",
            _w3_statsmodels,
            _w3_statsmodels_extract,
            _W3_READS,
        ),
        Tool(
            "pyfixest feols CRV1",
            "peer",
            "arrays",
            _w3_pyfixest,
            _w3_pyfixest_extract,
            _W3_READS,
        ),
        Tool("numpy bincount by hand", "peer", "arrays", _w3_numpy, _identity, _W3_READS),
        Tool(
            "floor_sum",
            "floor",
            "arrays",
            lambda d: _neyman_floor(d, ("y", "treat", "x")),
            lambda _: {},
            ("y", "treat", "x"),
        ),
    ),
    notes=(
        "y, treat and x are float64, cluster ids int64 in random order (32 bytes/row); the floor "
        "is one parallel pass over y, treat and x, scaled to the 32 bytes each tool reads.",
        "neyman encodes the ids (lookup table for dense integers), then one pass fills the "
        "per-cluster cross-products (100k x 10 floats) and the CR1 finalize runs over clusters.",
        "pyfixest reads the pandas frame (built outside the timed region); statsmodels and numpy "
        "the arrays. statsmodels with use_t=True so its p-values use G - 1 df like the others.",
    ),
)


WORKLOADS: dict[str, Workload] = {
    "W1": W1,
    "W2": W2,
    "W3": W3,
    "W7": W7,
    "W10": W10,
    "W11": W11,
}
