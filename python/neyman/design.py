"""Experiment design: power, sample size and MDE; MDE by duration from pre-period data; power by
simulation; reproducible assignment by hashing; and the covariate balance of an assignment.

Every number comes from the Rust core (``estimators::power``, ``estimators::simulation``,
``assignment``, ``estimators::balance``); this module checks arguments, converts input and shapes
results.

R's ``power.t.test(n = 20, delta = 1)`` gives 0.8689528, counting one rejection region: the same
test is the one-sided test at half the level.

>>> import neyman
>>> res = neyman.power(effect=1.0, n=20, sd=1.0, alternative="greater", alpha=0.025)
>>> round(res.power, 7)
0.8689528
>>> res.solved
'power'
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import narwhals.stable.v2 as nw
import numpy as np
import numpy.typing as npt

from neyman import _neyman
from neyman._convert import as_float_array, as_frame, encode_labels, get_column, variant_codes
from neyman._design_results import BalanceResult, DurationResult, PowerResult, SimulationResult
from neyman._validate import (
    ALTERNATIVES,
    check_bool,
    check_choice,
    check_finite,
    check_unit_interval,
)
from neyman.errors import InputError, InputTypeError
from neyman.experiment import srm
from neyman.group_sequential import (
    GroupSequentialDesign,
    sequential_plan,
    sequential_power,
)

__all__ = ["assign", "balance", "mde", "mde_by_duration", "power", "simulate_power"]

CORRECTIONS = ("bonferroni", "dunnett", "none")
VARIANCES = ("pooled", "unpooled", "arcsine")
TESTS = ("t", "z")


# --------------------------------------------------------------------------------------------
# Analytic power
# --------------------------------------------------------------------------------------------


def _optional_unit(name: str, value: Any) -> float | None:
    return None if value is None else check_unit_interval(name, value)


def _positive(name: str, value: Any) -> float:
    x = check_finite(name, value)
    if x <= 0:
        raise InputError(f"{name} == {x}, must be positive")
    return x


def _allocation(ratio: Any, weights: Any, arms: Any) -> tuple[float, int]:
    """``(ratio, arms)`` from ``ratio=`` and ``arms=``, or from ``weights=``."""
    if isinstance(arms, bool) or not isinstance(arms, int | np.integer) or int(arms) < 2:
        raise InputError(f"arms == {arms!r}, must be an integer of at least 2")
    if weights is None:
        return _positive("ratio", ratio), int(arms)
    if ratio != 1.0 or arms != 2:
        raise InputError("give either weights= or ratio= and arms=, not both")
    w = _weights(weights)
    treat = w[1:]
    if max(treat) - min(treat) > 1e-12:
        raise InputError(
            f"weights == {list(w)}: the treatment arms must have equal weights (each is "
            "compared with the control at the same n)"
        )
    return treat[0] / w[0], len(w)


def _weights(weights: Any) -> list[float]:
    """Allocation weights: at least two, positive, summing to 1."""
    if isinstance(weights, str | bytes) or not isinstance(weights, Sequence | np.ndarray):
        raise InputTypeError(f"weights must be a sequence of numbers, got {type(weights).__name__}")
    w = [check_finite("weights", v) for v in weights]
    if len(w) < 2:
        raise InputError(f"weights == {w}: at least two arms are needed")
    if any(v <= 0 for v in w):
        raise InputError(f"weights == {w}: every weight must be positive")
    if abs(sum(w) - 1.0) > 1e-9:
        raise InputError(f"weights == {w} sum to {sum(w)}; they must sum to 1")
    return w


def _history_stats(
    history: Any, metric: Any, covariate: str | None
) -> tuple[str, float, float, float, bool]:
    """``(label, sd, value, variance_reduction, is_ratio)`` of a metric in pre-period rows."""
    frame = as_frame(history, arg="history")
    num, den = _metric_columns(metric)
    y = _column(frame, num, "metric")
    d = _column(frame, den, "metric") if den else None
    x = _column(frame, covariate, "covariate") if covariate else None
    day = np.zeros(len(y), dtype=np.int32)
    (row,) = _neyman.history_by_day(y, d, x, day, 1)
    if row is None:
        raise InputError(f"history has {len(y)} rows; at least 2 are needed")
    _, value, variance, reduction = row
    label = f"{num}/{den}" if den else num
    return label, math.sqrt(variance), value, reduction, den is not None


def _metric_columns(metric: Any) -> tuple[str, str | None]:
    if isinstance(metric, str):
        return metric, None
    if (
        isinstance(metric, tuple | list)
        and len(metric) == 2
        and all(isinstance(m, str) for m in metric)
    ):
        return metric[0], metric[1]
    raise InputTypeError(
        f"metric must be a column name or a (numerator, denominator) pair, got {metric!r}"
    )


def _column(frame: nw.DataFrame[Any], name: str, arg: str) -> npt.NDArray[np.float64]:
    if not isinstance(name, str):
        raise InputTypeError(f"{arg} must be a column name, got {type(name).__name__}")
    if name not in frame.columns:
        raise InputError(f"{arg}: {name!r} is not a column of the frame")
    return as_float_array(f"column {name!r}", get_column(frame, name))


def power(
    effect: float | None = None,
    n: float | None = None,
    power: float | None = None,
    alpha: float | None = 0.05,
    *,
    sd: float | None = None,
    proportion: float | None = None,
    history: Any = None,
    metric: Any = None,
    covariate: str | None = None,
    test: str | None = None,
    variance: str = "pooled",
    relative: bool = False,
    baseline: float | None = None,
    alternative: str = "two-sided",
    ratio: float = 1.0,
    weights: Sequence[float] | None = None,
    arms: int = 2,
    correction: str = "bonferroni",
    margin: float = 0.0,
    icc: float | None = None,
    cluster_size: float | None = None,
    cluster_size_cv: float = 0.0,
    variance_reduction: float | None = None,
    sequential: Any = None,
) -> PowerResult:
    """Power, sample size, minimum detectable effect or alpha of a comparison with a control.

    Exactly one of ``effect``, ``n``, ``power`` and ``alpha`` is ``None``: it is solved for (by
    Brent's method in the Rust core, to near machine precision, so solving and evaluating invert
    each other).

    Parameters
    ----------
    effect : float or None
        ``treatment - control`` (relative to the baseline with ``relative=True``).
    n : float or None
        Control units; each treatment arm has ``ratio * n``.
    power : float or None
        Power of each treatment-versus-control comparison, in (0, 1).
    alpha : float or None, default 0.05
        Familywise significance level, in (0, 1).
    sd : float, optional
        Per-unit standard deviation of a mean metric (both arms).
    proportion : float, optional
        Control proportion of a binary metric (instead of ``sd``).
    history, metric, covariate : optional
        Pre-period rows (a pandas, polars or pyarrow frame), the metric column (or a
        ``(numerator, denominator)`` pair for a ratio metric, by the delta method) and a CUPED
        covariate: the per-unit standard deviation, baseline and variance reduction come from them.
    test : {"t", "z"}, optional
        For means: Student's t (as statsmodels ``TTestIndPower`` and R ``power.t.test``) or z
        (``NormalIndPower``). Default ``"t"``, ``"z"`` for ratio metrics.
    variance : {"pooled", "unpooled", "arcsine"}, default "pooled"
        For proportions: pooled variance under the null (statsmodels
        ``power_proportions_2indep``, R ``power.prop.test``), unpooled (Wald), or Cohen's h
        (``NormalIndPower`` with ``proportion_effectsize``).
    relative : bool, default False
        ``effect`` and ``margin`` are relative to the baseline (``proportion``, ``baseline`` or the
        metric's mean in ``history``).
    baseline : float, optional
        Control mean, for relative effects on a mean metric given by ``sd``.
    alternative : {"two-sided", "less", "greater"}, default "two-sided"
        Direction of the test.
    ratio : float, default 1.0
        ``n_treatment / n_control``.
    weights : sequence of float, optional
        Allocation weights of the control and each treatment arm (summing to 1), instead of
        ``ratio`` and ``arms``; treatment weights must be equal.
    arms : int, default 2
        Arms, the control included.
    correction : {"bonferroni", "dunnett", "none"}, default "bonferroni"
        Split of ``alpha`` over several treatment arms (Dunnett's exact many-to-one critical value,
        by numerical integration of the equicorrelated multivariate normal or t).
    margin : float, default 0.0
        Non-inferiority margin (``alternative="greater"``: the null is ``effect <= -margin``) or
        non-superiority margin (``"less"``: ``effect >= margin``).
    icc, cluster_size, cluster_size_cv : float, optional
        Cluster randomisation: intra-cluster correlation, mean units per cluster and the
        coefficient of variation of cluster sizes; the variance is inflated by the design effect
        ``1 + ((cv^2 + 1) m - 1) icc``; ``n`` still counts units, and t-test degrees of freedom
        count clusters.
    variance_reduction : float, optional
        CUPED's share of variance removed, ``R^2`` of metric on covariate, in [0, 1).
    sequential : GroupSequentialDesign or MsprtDesign, optional
        Plan a sequential test: ``n`` is then the maximum sample size. Solving ``n`` multiplies
        the fixed design's by the inflation factor (a :class:`neyman.GroupSequentialDesign`'s,
        whose ``alpha``, ``alternative`` and ``power`` must match; for a
        :class:`neyman.MsprtDesign` the drift at which the mSPRT reaches the power, squared,
        over the fixed test's); solving ``effect`` divides ``n`` by it first; solving
        ``power`` evaluates the sequential test at the drift of the fixed design with ``n``
        units (normal approximation at each look). The result also reports the expected
        total units under the null and at ``effect`` (group-sequential designs).

    Returns
    -------
    PowerResult
        ``solved``, ``effect``, ``n``, ``n_treatment``, ``n_total``, ``power``, ``alpha`` and the
        design; prints as a sentence and a table.

    Raises
    ------
    InputError
        Not exactly one unknown; ``power`` or ``alpha`` outside (0, 1); an effect equal to the null
        value when solving for ``n``; a power that cannot be reached; ``weights`` not summing to 1;
        a margin with a two-sided test.
    InputTypeError
        A non-numeric argument.

    Notes
    -----
    With ``se = sd sqrt(f (1/n_c + 1/n_t))``, ``f`` the design effect times ``1 - R^2``, the t-test
    power is ``P(T' > c) + P(T' < -c)`` for the noncentral t ``T'`` with noncentrality
    ``(effect + margin) / se`` and ``n_c + n_t - 2`` degrees of freedom (the z-test uses the
    normal); for proportions, ``Phi((d - d0)/se1 - c se0/se1)`` (+ the other tail) with ``se0``
    from the pooled proportion. ``c`` is the critical value of ``alpha`` (split by Bonferroni or
    Dunnett over ``arms - 1`` comparisons whose statistics have correlation ``ratio / (1 +
    ratio)``).

    References
    ----------
    Cohen, J. (1988). *Statistical Power Analysis for the Behavioral Sciences*, 2nd ed.
    Dunnett, C. W. (1955). A multiple comparison procedure for comparing several treatments with a
    control. *JASA* 50, 1096-1121.
    Eldridge, S. M., Ashby, D. and Kerry, S. (2006). Sample size for cluster randomized trials:
    effect of coefficient of variation of cluster size and analysis method. *Int. J. Epidemiol.*
    35, 1292-1300.
    Lenth, R. V. (1989). Algorithm AS 243: cumulative distribution function of the non-central t
    distribution. *Applied Statistics* 38, 185-189.

    Examples
    --------
    >>> import neyman
    >>> res = neyman.power(effect=1.0, power=0.9, n=None, sd=1.0)
    >>> round(res.n, 4)
    22.0211
    >>> res = neyman.power(effect=0.25, n=50, proportion=0.5)
    >>> round(res.power, 4)
    0.7402
    >>> print(neyman.power(n=1000, power=0.8, proportion=0.1, relative=True))  # doctest: +ELLIPSIS
    1000 control and 1000 treatment units (2000 in total) detect a relative effect of 40.7% ...
    quantity     value  solved
    effect       40.7%  <-
    n             1000
    n_treatment   1000
    ...
    """
    values = {"effect": effect, "n": n, "power": power, "alpha": alpha}
    unknown = [k for k, v in values.items() if v is None]
    if len(unknown) != 1:
        raise InputError(
            f"exactly one of effect, n, power, alpha must be None (to be solved for); "
            f"{len(unknown)} are" + (f" ({', '.join(unknown)})" if unknown else "")
        )
    design = _design(
        sd=sd,
        proportion=proportion,
        history=history,
        metric=metric,
        covariate=covariate,
        test=test,
        variance=variance,
        relative=relative,
        baseline=baseline,
        alternative=alternative,
        ratio=ratio,
        weights=weights,
        arms=arms,
        correction=correction,
        margin=margin,
        icc=icc,
        cluster_size=cluster_size,
        cluster_size_cv=cluster_size_cv,
        variance_reduction=variance_reduction,
    )
    effect_v = None if effect is None else check_finite("effect", effect)
    n_v = None if n is None else _positive("n", n)
    power_v = _optional_unit("power", power)
    alpha_v = _optional_unit("alpha", alpha)
    res = _solve(design, effect_v, n_v, power_v, alpha_v, unknown[0])
    if sequential is None:
        return res
    return _sequential(design, res, sequential)


def _sequential(design: dict[str, Any], res: PowerResult, sequential: Any) -> PowerResult:
    """The fixed design's solution carried to a sequential design (see ``power``)."""
    if res.solved == "alpha":
        raise InputError("sequential: solving for alpha is not supported with a sequential design")
    alpha, alt = res.alpha, res.alternative
    if res.solved == "power":
        p, e0, e1 = sequential_power(sequential, res.power, alpha, alt)
        factor = (
            sequential.inflation_factor
            if isinstance(sequential, GroupSequentialDesign)
            else sequential_plan(sequential, "power", alpha, p, alt)[0]
        )
        name = "group-sequential" if isinstance(sequential, GroupSequentialDesign) else "msprt"
        out = res
    else:
        factor, name = sequential_plan(sequential, res.solved, alpha, res.power, alt)
        if res.solved == "n":
            n_max = res.n * factor
            out = _solve(design, res.effect, n_max, None, alpha, "power")
        else:
            fixed = _solve(design, None, res.n / factor, res.power, alpha, "effect")
            out = _solve(design, fixed.effect, res.n, None, alpha, "power")
        p, e0, e1 = sequential_power(sequential, out.power, alpha, alt)
    return dataclasses.replace(
        out,
        solved=res.solved,
        power=p,
        sequential=name,
        inflation_factor=factor,
        expected_n_h0=e0 * out.n_total,
        expected_n_h1=e1 * out.n_total,
    )


_power = power


def _solve(
    design: dict[str, Any],
    effect: float | None,
    n: float | None,
    power: float | None,
    alpha: float | None,
    solved: str,
) -> PowerResult:
    out = _neyman.power_solve(design, effect, n, power, alpha)
    ratio, treatments = design["ratio"], design["treatments"]
    if design["metric"] == "mean":
        method = "t" if design["t_test"] else "z"
    else:
        method = f"proportions-{design['variance']}"
    return PowerResult(
        solved=solved,
        effect=out["effect"],
        n=out["n"],
        n_treatment=out["n"] * ratio,
        n_total=out["n"] * (1.0 + treatments * ratio),
        power=out["power"],
        alpha=out["alpha"],
        method=method,
        alternative=design["alternative"],
        relative=design["relative"],
        baseline=design["baseline"],
        sd=design["sd"],
        ratio=ratio,
        arms=treatments + 1,
        correction=design["correction"],
        margin=design["margin"],
        variance_factor=design["variance_factor"],
        critical=out["critical"],
        df=out["df"],
        se=out["se"],
    )


def _design(
    *,
    sd: Any,
    proportion: Any,
    history: Any,
    metric: Any,
    covariate: Any,
    test: Any,
    variance: Any,
    relative: Any,
    baseline: Any,
    alternative: Any,
    ratio: Any,
    weights: Any,
    arms: Any,
    correction: Any,
    margin: Any,
    icc: Any,
    cluster_size: Any,
    cluster_size_cv: Any,
    variance_reduction: Any,
) -> dict[str, Any]:
    """The design dict the core reads (``power_solve``), every argument checked."""
    relative = check_bool("relative", relative)
    alternative = check_choice("alternative", alternative, ALTERNATIVES)
    correction = check_choice("correction", correction, CORRECTIONS)
    variance = check_choice("variance", variance, VARIANCES)
    if test is not None:
        test = check_choice("test", test, TESTS)
    sources = (("sd", sd), ("proportion", proportion), ("history", history))
    given = [k for k, v in sources if v is not None]
    if len(given) != 1:
        raise InputError(
            "give exactly one of sd= (a mean), proportion= (a binary metric) or history= with "
            f"metric= (pre-period data); got {', '.join(given) or 'none'}"
        )
    reduction = 0.0
    if variance_reduction is not None:
        reduction = check_finite("variance_reduction", variance_reduction)
        if not 0.0 <= reduction < 1.0:
            raise InputError(f"variance_reduction == {reduction}, must be in [0, 1)")
    kind, t_test, base, sd_v = "mean", test != "z", math.nan, math.nan
    if proportion is not None:
        kind = "proportion"
        base = check_unit_interval("proportion", proportion)
        if test == "t":
            raise InputError("test='t' is for means; proportions use the z-test (variance=)")
        t_test = False
    elif sd is not None:
        sd_v = _positive("sd", sd)
        if baseline is not None:
            base = check_finite("baseline", baseline)
    else:
        if metric is None:
            raise InputError(
                "history= needs metric= (a column, or a (numerator, denominator) pair)"
            )
        if baseline is not None:
            raise InputError("baseline comes from history; do not give both")
        _, sd_v, base, hist_reduction, is_ratio = _history_stats(history, metric, covariate)
        if covariate is not None:
            if variance_reduction is not None:
                raise InputError("give variance_reduction= or covariate=, not both")
            reduction = hist_reduction
        t_test = test == "t" if is_ratio else test != "z"
    if covariate is not None and history is None:
        raise InputError("covariate= needs history= (the pre-period rows to estimate it from)")
    r, n_arms = _allocation(ratio, weights, arms)
    m = _check_margin(margin)
    if m > 0 and kind == "proportion" and variance == "pooled":
        raise InputError(
            "margin: a non-inferiority test of proportions needs variance='unpooled' (the Wald "
            "test of Blackwelder 1982) or 'arcsine'; the pooled variance holds only for a zero "
            "difference"
        )
    factor = 1.0 - reduction
    size = 1.0
    if icc is not None or cluster_size is not None:
        if icc is None or cluster_size is None:
            raise InputError("cluster designs need both icc= and cluster_size=")
        size = check_finite("cluster_size", cluster_size)
        cv = check_finite("cluster_size_cv", cluster_size_cv, nonnegative=True)
        factor *= _neyman.design_effect(check_finite("icc", icc), size, cv)
    return {
        "metric": kind,
        "sd": sd_v,
        "baseline": base,
        "t_test": t_test,
        "variance": variance,
        "alternative": alternative,
        "ratio": r,
        "treatments": n_arms - 1,
        "correction": correction,
        "margin": m,
        "relative": relative,
        "variance_factor": factor,
        "cluster_size": size,
    }


def _check_margin(margin: Any) -> float:
    m = check_finite("margin", margin)
    if m < 0:
        raise InputError(f"margin == {m}, must be non-negative (it is a distance from zero)")
    return m


def mde(n: float, power: float = 0.8, alpha: float = 0.05, **design: Any) -> PowerResult:
    """Minimum detectable effect: :func:`power` solved for ``effect``.

    Parameters
    ----------
    n : float
        Control units (each treatment arm has ``ratio * n``).
    power : float, default 0.8
        Target power.
    alpha : float, default 0.05
        Significance level.
    **design
        Any keyword of :func:`power` (``sd=``, ``proportion=``, ``history=``, ...).

    Returns
    -------
    PowerResult
        With ``solved == "effect"``.

    Examples
    --------
    >>> import neyman
    >>> res = neyman.mde(10_000, sd=1.0, test="z")
    >>> round(res.effect, 5)
    0.03962
    """
    return _power(effect=None, n=n, power=power, alpha=alpha, **design)


# --------------------------------------------------------------------------------------------
# MDE by duration
# --------------------------------------------------------------------------------------------


def _day_index(series: nw.Series[Any]) -> npt.NDArray[np.int32]:
    """Days since the first date: integer columns as they are, dates and datetimes by day."""
    values = series.to_numpy()
    if values.dtype.kind in "iu":
        if len(values) and values.min() < 0:
            raise InputError("date has negative day numbers")
        return np.ascontiguousarray(values - values.min(), dtype=np.int32)
    if values.dtype.kind == "M":
        days = values.astype("datetime64[D]")
        return np.ascontiguousarray((days - days.min()).astype(np.int64), dtype=np.int32)
    if values.dtype.kind == "O":
        try:
            days = np.asarray(values, dtype="datetime64[D]")
        except (TypeError, ValueError):
            raise InputTypeError(
                "date must hold integers (day numbers), dates or datetimes"
            ) from None
        return np.ascontiguousarray((days - days.min()).astype(np.int64), dtype=np.int32)
    raise InputTypeError(
        f"date must hold integers (day numbers), dates or datetimes, not {values.dtype}"
    )


def mde_by_duration(
    history: Any,
    *,
    metric: str | tuple[str, str],
    date: str,
    unit: str | None = None,
    days: Iterable[int] | None = None,
    covariate: str | None = None,
    cluster: str | None = None,
    power: float = 0.8,
    alpha: float = 0.05,
    alternative: str = "two-sided",
    weights: Sequence[float] | None = None,
    test: str = "z",
    nan_policy: str = "raise",
) -> DurationResult:
    """The minimum detectable effect for each number of days an experiment could run, from
    pre-period data.

    Units accumulate with days: a run of ``d`` days includes every unit first seen in the first
    ``d`` days of ``history``. For each duration the per-unit variance of those units (by the delta
    method for a ratio metric), the CUPED variance reduction a covariate brings (the squared
    correlation of metric and covariate), and with ``cluster`` the intra-cluster correlation and
    design effect, give the MDE at ``power`` and ``alpha``.

    Parameters
    ----------
    history : data frame
        Pre-period rows (pandas, polars or pyarrow).
    metric : str or (str, str)
        The metric column, or ``(numerator, denominator)`` columns of a ratio metric.
    date : str
        The column of the day a row's unit was seen: integer day numbers, dates or datetimes.
    unit : str, optional
        The unit column when a unit has several rows: rows are summed per unit (the metric, the
        denominator and the covariate), and the unit's first day is its earliest.
    days : iterable of int, optional
        Durations to report (default every day of the history).
    covariate : str, optional
        Pre-period covariate for CUPED.
    cluster : str, optional
        Cluster column (cities, stores) for cluster randomisation (mean metrics).
    power, alpha : float
        Target power and significance level.
    alternative : {"two-sided", "less", "greater"}
        Direction of the test.
    weights : sequence of float, optional
        Allocation weights of control and each treatment arm (default 50/50).
    test : {"z", "t"}, default "z"
        The test the experiment will use.
    nan_policy : {"raise", "omit"}, default "raise"
        Rows with NaN in the metric, denominator or covariate raise, or are left out (units with
        no pre-period value are often better filled with 0 first).

    Returns
    -------
    DurationResult
        A row per duration (``days``, ``units``, ``n_control``, ``sd``, ``variance_reduction``,
        ``design_effect``, ``mde``, ``rel_mde``, with a covariate ``mde_cuped``,
        ``rel_mde_cuped``); ``to_pandas()``, ``to_polars()`` and ``plot()``.

    Raises
    ------
    InputError
        A missing column, fewer than two units by the first duration, a bad ``power`` or
        ``alpha``.

    Examples
    --------
    >>> import neyman, numpy as np, pandas as pd
    >>> g = np.random.default_rng(0)
    >>> pre = g.gamma(2.0, 5.0, 4000)
    >>> df = pd.DataFrame({"day": g.integers(0, 14, 4000), "pre": pre,
    ...                    "revenue": pre + g.normal(0, 5, 4000)})
    >>> res = neyman.mde_by_duration(df, metric="revenue", date="day", covariate="pre",
    ...                              days=[7, 14])
    >>> print(res)
    MDE of revenue by duration: power 80.0%, alpha 0.0500, two-sided, CUPED with pre
    days  units    sd  variance_reduction    mde  rel_mde  mde_cuped  rel_mde_cuped
       7   2026  8.70               66.9%   1.08    10.5%      0.623          6.04%
      14   4000  8.78               67.8%  0.778    7.68%      0.442          4.36%
    """
    frame = as_frame(history, arg="history")
    power = check_unit_interval("power", power)
    alpha = check_unit_interval("alpha", alpha)
    alternative = check_choice("alternative", alternative, ALTERNATIVES)
    test = check_choice("test", test, TESTS)
    num, den = _metric_columns(metric)
    needed = [c for c in (num, den, date, unit, covariate, cluster) if c is not None]
    for c in needed:
        if not isinstance(c, str):
            raise InputTypeError(f"column names must be strings, got {c!r}")
        if c not in frame.columns:
            raise InputError(f"{c!r} is not a column of history")
    if unit is not None:
        sums = [c for c in dict.fromkeys((num, den, covariate)) if c is not None]
        keys = [unit] + ([cluster] if cluster is not None else [])
        frame = frame.group_by(keys).agg(*[nw.col(c).sum() for c in sums], nw.col(date).min())
        if cluster is not None and frame[unit].n_unique() != len(frame):
            raise InputError(f"cluster: a unit of {unit!r} belongs to several clusters")
    w = _weights(weights) if weights is not None else [0.5, 0.5]
    treat = w[1:]
    if max(treat) - min(treat) > 1e-12:
        raise InputError(f"weights == {w}: the treatment arms must have equal weights")
    nan_policy = check_choice("nan_policy", nan_policy, ("raise", "omit"))
    y = _column(frame, num, "metric")
    d = _column(frame, den, "metric") if den else None
    x = _column(frame, covariate, "covariate") if covariate else None
    day = _day_index(get_column(frame, date))
    keep = _finite_rows({num: y, den: d, covariate: x}, nan_policy)
    cluster_col = get_column(frame, cluster) if cluster is not None else None
    if keep is not None:
        y, day = y[keep], day[keep]
        d = d[keep] if d is not None else None
        x = x[keep] if x is not None else None
        if cluster_col is not None:
            cluster_col = cluster_col.filter(
                nw.new_series(
                    "keep", keep, nw.Boolean, backend=nw.get_native_namespace(cluster_col)
                )
            )
    n_days = int(day.max()) + 1 if len(day) else 0
    durations = list(range(1, n_days + 1)) if days is None else [int(v) for v in days]
    if not durations or min(durations) < 1:
        raise InputError(f"days == {durations}: durations must be at least 1")
    rows_by_day = _neyman.history_by_day(y, d, x, day, max(n_days, max(durations)))
    codes = None
    icc = math.nan
    if cluster is not None:
        if den is not None:
            raise InputError("cluster= is supported for mean metrics (not ratios) for now")
        codes_raw, labels = encode_labels(cluster_col, name="cluster")
        codes = np.ascontiguousarray(codes_raw, dtype=np.int32)
        icc = _neyman.icc_anova(y, codes, len(labels))[0]
    label = f"{num}/{den}" if den else num
    out = []
    base = {
        "metric": "mean",
        "baseline": math.nan,
        "t_test": test == "t",
        "variance": "pooled",
        "alternative": alternative,
        "ratio": treat[0] / w[0],
        "treatments": len(w) - 1,
        "correction": "bonferroni",
        "margin": 0.0,
        "relative": False,
        "cluster_size": 1.0,
    }
    for dur in durations:
        row = rows_by_day[min(dur, len(rows_by_day)) - 1]
        if row is None:
            raise InputError(f"days == {dur}: fewer than two units are seen by then")
        units, value, var, reduction = row
        deff = 1.0
        if codes is not None:
            seen = day < dur
            _, mean_size, cv = _neyman.icc_anova(
                np.ascontiguousarray(y[seen]),
                np.ascontiguousarray(codes[seen]),
                int(codes.max()) + 1,
            )
            deff = _neyman.design_effect(icc, mean_size, cv)
        n_control = units * w[0]
        sd = math.sqrt(var)
        rec: dict[str, Any] = {
            "days": dur,
            "units": units,
            "n_control": n_control,
            "sd": sd,
            "variance_reduction": reduction,
            "design_effect": deff,
        }
        for suffix, factor in [("", deff)] + (
            [("_cuped", deff * (1 - reduction))] if x is not None else []
        ):
            design = dict(base, sd=sd, variance_factor=factor)
            mde_abs = _neyman.power_solve(design, None, n_control, power, alpha)["effect"]
            rec[f"mde{suffix}"] = mde_abs
            rec[f"rel_mde{suffix}"] = mde_abs / value if value else math.nan
        out.append(rec)
    columns = ["days", "units", "sd", "variance_reduction", "design_effect", "mde", "rel_mde"]
    if x is not None:
        columns += ["mde_cuped", "rel_mde_cuped"]
    if codes is None:
        columns.remove("design_effect")
    if x is None:
        columns.remove("variance_reduction")
    return DurationResult(
        metric=label,
        rows=tuple(out),
        power=power,
        alpha=alpha,
        alternative=alternative,
        covariate=covariate,
        icc=icc,
        _columns=tuple(columns),
    )


def _finite_rows(
    columns: Mapping[Any, npt.NDArray[np.float64] | None], nan_policy: str
) -> npt.NDArray[np.bool_] | None:
    """Rows where every column is finite (None when all are); raises under ``'raise'``."""
    keep: npt.NDArray[np.bool_] | None = None
    for name, values in columns.items():
        if values is None:
            continue
        finite = np.isfinite(values)
        bad = len(values) - int(np.count_nonzero(finite))
        if bad and nan_policy == "raise":
            raise InputError(
                f"column {name!r} has {bad} NaN or infinite values; fill them (units without a "
                "pre-period value often take 0) or pass nan_policy='omit'"
            )
        if bad:
            keep = finite if keep is None else keep & finite
    return keep


# --------------------------------------------------------------------------------------------
# Simulation power
# --------------------------------------------------------------------------------------------

MODELS = ("normal", "lognormal", "bernoulli")
PERTURBATIONS = ("additive", "multiplicative", "binary")
ANALYSES = ("welch", "proportions", "cuped")


def _seed(rng: Any) -> int:
    """A 64-bit seed from ``rng`` (an int, a numpy Generator, or None for a fresh one)."""
    if rng is None:
        return int(np.random.default_rng().integers(0, 2**63))
    if isinstance(rng, np.random.Generator):
        return int(rng.integers(0, 2**63))
    if isinstance(rng, bool) or not isinstance(rng, int | np.integer) or int(rng) < 0:
        raise InputTypeError(
            f"rng must be a non-negative int seed or a numpy.random.Generator, got {rng!r}"
        )
    return int(rng) % 2**64


def _count(name: str, value: Any, least: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise InputTypeError(f"{name} must be an integer, got {type(value).__name__}")
    if int(value) < least:
        raise InputError(f"{name} == {int(value)}, must be at least {least}")
    return int(value)


def simulate_power(
    n: int,
    *,
    effect: float = 0.0,
    perturbation: str = "additive",
    model: str = "normal",
    mean: float = 0.0,
    sd: float = 1.0,
    rho: float = 0.0,
    proportion: float | None = None,
    history: Any = None,
    metric: str | None = None,
    covariate: str | None = None,
    analysis: str = "welch",
    ratio: float = 1.0,
    n_sims: int = 1000,
    alpha: float = 0.05,
    alternative: str = "two-sided",
    rng: Any = None,
) -> SimulationResult:
    """Power of an analysis, estimated by simulating many experiments in the Rust core.

    Each simulated experiment draws ``n`` control and ``ratio * n`` treatment units from a
    parametric model, or resamples rows of ``history`` with replacement; perturbs the treatment
    arm by ``effect``; and runs the analysis. With ``effect=0`` (an A/A test) the result is the
    analysis' false-positive rate.

    Parameters
    ----------
    n : int
        Control units per experiment.
    effect : float, default 0.0
        Size of the perturbation of the treatment arm.
    perturbation : {"additive", "multiplicative", "binary"}, default "additive"
        ``y + effect``, ``y (1 + effect)``, or a lift of ``effect`` in a 0/1 rate.
    model : {"normal", "lognormal", "bernoulli"}, default "normal"
        Parametric model (ignored with ``history``): ``N(mean, sd^2)`` (with ``rho``, a normal
        covariate correlated ``rho`` with the outcome, for CUPED), ``exp(N(mean, sd^2))``, or
        Bernoulli(``proportion``).
    mean, sd, rho, proportion : float
        Parameters of the model.
    history, metric, covariate : optional
        Historical rows to resample (a frame), the metric column and, for CUPED, the covariate.
    analysis : {"welch", "proportions", "cuped"}, default "welch"
        Welch's t-test, the pooled two-proportion z-test, or CUPED with Welch's t.
    ratio : float, default 1.0
        ``n_treatment / n_control``.
    n_sims : int, default 1000
        Simulated experiments.
    alpha : float, default 0.05
        Significance level.
    alternative : {"two-sided", "less", "greater"}, default "two-sided"
        Direction of the test.
    rng : int or numpy.random.Generator, optional
        Seed. One random stream per block of 16 experiments is derived from ``(seed, block)``,
        so a seed gives the same result on any number of threads.

    Returns
    -------
    SimulationResult
        ``power``, ``mc_se`` (Monte-Carlo standard error), ``rejections``, ``n_sims`` and the
        setup.

    Examples
    --------
    >>> import neyman
    >>> res = neyman.simulate_power(200, effect=0.3, n_sims=2000, rng=1)
    >>> analytic = neyman.power(effect=0.3, n=200, sd=1.0).power
    >>> abs(res.power - analytic) < 4 * res.mc_se
    True
    """
    n = _count("n", n, 2)
    r = _positive("ratio", ratio)
    n_t = round(n * r)
    if n_t < 2:
        raise InputError(f"ratio == {r} leaves {n_t} treatment units; at least 2 are needed")
    n_sims = _count("n_sims", n_sims, 1)
    alpha = check_unit_interval("alpha", alpha)
    alternative = check_choice("alternative", alternative, ALTERNATIVES)
    perturbation = check_choice("perturbation", perturbation, PERTURBATIONS)
    analysis = check_choice("analysis", analysis, ANALYSES)
    effect = check_finite("effect", effect)
    seed = _seed(rng)
    plan = {
        "n_control": n,
        "n_treatment": n_t,
        "n_sims": n_sims,
        "alpha": alpha,
        "alternative": alternative,
        "seed": seed,
    }
    if history is not None:
        frame = as_frame(history, arg="history")
        if not isinstance(metric, str):
            raise InputError("history= needs metric= (a column name)")
        y = _column(frame, metric, "metric")
        x = _column(frame, covariate, "covariate") if covariate is not None else None
        out = _neyman.simulate_resampling(y, x, perturbation, effect, analysis, plan)
        model_name = "resampling"
    else:
        model = check_choice("model", model, MODELS)
        if model == "bernoulli":
            if proportion is None:
                raise InputError("model='bernoulli' needs proportion=")
            params = (check_unit_interval("proportion", proportion), 0.0, 0.0)
        else:
            params = (check_finite("mean", mean), _positive("sd", sd), check_finite("rho", rho))
        out = _neyman.simulate_power(model, params, perturbation, effect, analysis, plan)
        model_name = model
    return SimulationResult(
        power=out["power"],
        mc_se=out["mc_se"],
        rejections=out["rejections"],
        n_sims=out["n_sims"],
        n_control=n,
        n_treatment=n_t,
        effect=effect,
        perturbation=perturbation,
        model=model_name,
        analysis=analysis,
        alpha=alpha,
        alternative=alternative,
        seed=seed,
    )


# --------------------------------------------------------------------------------------------
# Assignment
# --------------------------------------------------------------------------------------------


def _ids_buffers(ids: Any) -> tuple[str, Any, Any]:
    """``("int", int64 array, None)`` or ``("str", utf-8 bytes, int64 offsets)``."""
    values: Any = ids
    if not isinstance(ids, np.ndarray | list | tuple):
        try:
            series = nw.from_native(ids, series_only=True)
        except TypeError:
            series = None
        if series is not None:
            if series.null_count():
                raise InputError(f"ids has {series.null_count()} missing values")
            dtype = series.dtype
            if dtype.is_integer():
                values = series.to_numpy()
            elif dtype == nw.String:
                return _arrow_strings(series.to_arrow())
            elif dtype == nw.Object:
                values = series.to_numpy()
            else:
                raise InputTypeError(f"ids must be integers or strings, got {dtype}")
    if isinstance(values, list | tuple):
        if all(isinstance(v, str) for v in values):
            return _encode_strings(list(values))
        if all(isinstance(v, int | np.integer) and not isinstance(v, bool) for v in values):
            return "int", np.asarray(values, dtype=np.int64), None
        raise InputTypeError(
            "ids must be all integers or all strings (no floats, booleans or mixes)"
        )
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise InputError(f"ids must be one-dimensional, got shape {arr.shape}")
    if arr.dtype.kind in "iu":
        return "int", np.ascontiguousarray(arr.astype(np.int64, copy=False)), None
    if arr.dtype.kind in "UO":
        strings = arr.tolist()
        if not all(isinstance(v, str) for v in strings):
            raise InputTypeError(
                "ids must be all integers or all strings (no floats, booleans or mixes)"
            )
        return _encode_strings(strings)
    raise InputTypeError(f"ids must be integers or strings, got dtype {arr.dtype}")


def _encode_strings(strings: list[str]) -> tuple[str, Any, Any]:
    """UTF-8 data and int64 offsets of Python strings."""
    encoded = [v.encode("utf-8") for v in strings]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
    np.cumsum([len(e) for e in encoded], out=offsets[1:])
    return "str", np.frombuffer(b"".join(encoded), dtype=np.uint8), offsets


def _arrow_strings(arrow: Any) -> tuple[str, Any, Any]:
    """UTF-8 data and int64 offsets of an arrow string array (any string type, chunked or not)."""
    import pyarrow as pa

    if isinstance(arrow, pa.ChunkedArray):
        arrow = arrow.combine_chunks()
    arrow = arrow.cast(pa.large_string())
    _, offsets_buf, data_buf = arrow.buffers()
    offsets = np.frombuffer(offsets_buf, dtype=np.int64)[
        arrow.offset : arrow.offset + len(arrow) + 1
    ]
    data = (
        np.frombuffer(data_buf, dtype=np.uint8) if data_buf is not None else np.zeros(0, np.uint8)
    )
    return "str", data, np.ascontiguousarray(offsets)


def assign(
    ids: Any,
    *,
    salt: str,
    arms: Sequence[Any] = ("control", "treatment"),
    weights: Sequence[float] | None = None,
    strata: Any = None,
    check_duplicates: bool = True,
    as_codes: bool = False,
) -> npt.NDArray[Any]:
    """Assign units to arms by hashing their ids: reproducible across runs, machines, processes
    and versions.

    Parameters
    ----------
    ids : array-like
        Unit ids, integers or strings (numpy array, list, pandas, polars or pyarrow series).
    salt : str
        The experiment's salt: the same ids get independent assignments under different salts.
    arms : sequence, default ("control", "treatment")
        Arm labels.
    weights : sequence of float, optional
        Share of units per arm, positive and summing to 1 (default equal).
    strata : array-like, optional
        A stratum per id: the split is balanced within each stratum (each arm's count within one
        unit of its share).
    check_duplicates : bool, default True
        Refuse repeated ids (a sort of the hashes; ``False`` skips it for ids known unique).
    as_codes : bool, default False
        Return the arm index (uint8) instead of the label.

    Returns
    -------
    numpy.ndarray
        The arm of each id (labels, as an object array for strings, or indices).

    Raises
    ------
    InsufficientDataError
        ``ids`` is empty.
    InputError
        Duplicate ids, missing ids or strata, weights that are not positive or do not sum to 1,
        ``weights`` and ``arms`` of different lengths.
    InputTypeError
        Ids that are neither integers nor strings (floats, booleans, mixed).

    Notes
    -----
    Version 1 of the scheme (see ``neyman_core::assignment``): ``key = XXH3_64(salt)``,
    ``h = XXH3_64(id bytes, seed=key)`` with integer ids as 8 little-endian bytes and strings as
    UTF-8, ``u = (h >> 11) / 2^53``, and the arm is the first whose cumulative weight exceeds
    ``u``. With ``strata``, units of a stratum are ranked by ``h`` and the unit of rank ``r`` of
    ``N`` takes the arm of ``u = (r + 1/2) / N``: balanced, but a unit's arm then depends on the
    other units of its stratum.

    Examples
    --------
    >>> import neyman
    >>> neyman.assign(["alice", "bob", "carol", "dave", "erin", "frank"], salt="exp-42").tolist()
    ['control', 'control', 'treatment', 'control', 'treatment', 'control']
    """
    if not isinstance(salt, str):
        raise InputTypeError(f"salt must be a string, got {type(salt).__name__}")
    labels = list(arms)
    w = _weights(weights) if weights is not None else [1.0 / len(labels)] * len(labels)
    if len(w) != len(labels):
        raise InputError(f"weights has {len(w)} entries but arms has {len(labels)}")
    if len(labels) < 2 or len(labels) > 255:
        raise InputError(f"arms has {len(labels)} labels; between 2 and 255 are allowed")
    check_duplicates = check_bool("check_duplicates", check_duplicates)
    as_codes = check_bool("as_codes", as_codes)
    kind, a, b = _ids_buffers(ids)
    strata_codes = None
    if strata is not None:
        codes, _ = encode_labels(strata, name="strata", missing="raise")
        strata_codes = np.ascontiguousarray(codes, dtype=np.int64)
    if kind == "int":
        out = _neyman.assign_ints(a, w, salt, strata_codes, check_duplicates)
    else:
        out = _neyman.assign_strings(a, b, w, salt, strata_codes, check_duplicates)
    if as_codes:
        return out
    table = np.empty(len(labels), dtype=object)
    table[:] = labels
    if all(isinstance(lab, int | np.integer) and not isinstance(lab, bool) for lab in labels):
        table = np.asarray(labels)
    return table[out]


# --------------------------------------------------------------------------------------------
# Balance
# --------------------------------------------------------------------------------------------


def balance(
    data: Any,
    *,
    variant: str,
    covariates: Sequence[str],
    control: Any = None,
    weights: Mapping[Any, float] | Sequence[float] | None = None,
    alpha: float = 0.001,
) -> BalanceResult:
    """Balance report of a proposed or realised assignment: the SRM check of the split and, per
    treatment arm, standardized mean differences of pre-period covariates with an omnibus test.

    Parameters
    ----------
    data : data frame
        One row per unit (pandas, polars or pyarrow).
    variant : str
        The arm column.
    covariates : sequence of str
        Pre-period covariate columns.
    control : object, optional
        The control arm (default: the first label in sorted order).
    weights : mapping or sequence of float, optional
        Planned allocation (as ``planned_split`` of :func:`neyman.srm`); equal by default.
    alpha : float, default 0.001
        Threshold of the SRM check.

    Returns
    -------
    BalanceResult
        ``srm`` (an :class:`SRMResult`), ``rows`` (``smd`` per arm and covariate) and ``omnibus``
        (Hansen and Bowers' chi-square per treatment arm).

    Notes
    -----
    ``smd = (mean_t - mean_c) / sqrt((s_t^2 + s_c^2) / 2)`` (Austin 2009). The omnibus statistic is
    ``d' V^-1 d`` with ``d`` the covariate mean differences and ``V`` their covariance under
    complete randomization, ``N / (n_t n_c (N - 1))`` times the pooled scatter matrix: chi-square on
    as many degrees of freedom as covariates (Hansen and Bowers 2008).

    References
    ----------
    Hansen, B. B. and Bowers, J. (2008). Covariate balance in simple, stratified and clustered
    comparative studies. *Statistical Science* 23(2), 219-236.
    Austin, P. C. (2009). Balance diagnostics for comparing the distribution of baseline covariates
    between treatment groups in propensity-score matched samples. *Statistics in Medicine* 28,
    3083-3107.

    Examples
    --------
    >>> import neyman, numpy as np, pandas as pd
    >>> g = np.random.default_rng(0)
    >>> df = pd.DataFrame({"user": np.arange(1000), "pre": g.normal(10, 2, 1000),
    ...                    "visits": g.poisson(3, 1000)})
    >>> df["arm"] = neyman.assign(df["user"], salt="exp-7")
    >>> res = neyman.balance(df, variant="arm", covariates=["pre", "visits"], control="control")
    >>> print(res)
    Covariate balance against control 'control' (smd: standardized difference)
    treatment  covariate  mean_control  mean_treatment      smd
    treatment  pre                9.80            10.0    0.106
    treatment  visits             2.98            2.96  -0.0104
    omnibus (treatment): chi2 = 2.82 on 2 df, p = 0.244 (Hansen and Bowers 2008)
    SRM check: chi2 = 0.784 on 1 df, p = 0.376 (ok; alpha = 0.001)
    """
    frame = as_frame(data, arg="data")
    alpha = check_unit_interval("alpha", alpha)
    if isinstance(covariates, str):
        covariates = [covariates]
    names = list(covariates)
    if not names:
        raise InputError("covariates: at least one covariate is needed")
    if not isinstance(variant, str) or variant not in frame.columns:
        raise InputError(f"variant: {variant!r} is not a column of data")
    if control is None:
        _, labels = encode_labels(get_column(frame, variant), name=f"variant column {variant!r}")
        control = labels[0] if labels else None
    vc = variant_codes(frame, variant, control)
    cols = [_column(frame, c, "covariates") for c in names]
    codes = np.ascontiguousarray(vc.codes, dtype=np.int64)
    observed = dict(zip(vc.labels, vc.counts(), strict=True))
    split = srm(observed, weights, alpha=alpha)
    rows: list[dict[str, Any]] = []
    omnibus: list[dict[str, Any]] = []
    for j, lab in enumerate(vc.labels[1:], start=1):
        b = _neyman.balance_test(cols, names, codes, j)
        for k, name in enumerate(names):
            rows.append(
                {
                    "treatment": lab,
                    "covariate": name,
                    "mean_control": b["mean_control"][k],
                    "mean_treatment": b["mean_treatment"][k],
                    "smd": b["smd"][k],
                }
            )
        omnibus.append(
            {"treatment": lab, "statistic": b["statistic"], "df": b["df"], "pvalue": b["pvalue"]}
        )
    return BalanceResult(srm=split, rows=tuple(rows), omnibus=tuple(omnibus), control=control)
