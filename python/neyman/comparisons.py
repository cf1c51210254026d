"""The array- and frame-level comparisons: ``ttest``, ``ztest``, ``proportions``, ``ratio``,
``cuped``.

Each takes arrays (one per arm), a data frame with column names, or pre-aggregated statistics
(:class:`MeanStats`, :class:`ProportionStats`, :class:`RatioStats`, :class:`CupedStats`,
:class:`RatioCupedStats`), and returns a :class:`~neyman.TestResult` for one treatment or an
:class:`~neyman.AnalysisResult` for several. Every form goes through the same estimator and engine
as ``Experiment.analyze``: per-arm statistics, then a finalize.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, cast, overload

import numpy as np

from neyman._clustered import VCOV_TYPES, clustered_arrays
from neyman._convert import (
    VariantCodes,
    as_float_array,
    check_aligned,
    frame_of,
    is_frame,
    variant_codes,
)
from neyman._engine import Options, check_two_arms, compare_arms
from neyman._estimators import (
    CupedEstimator,
    MeanEstimator,
    ProportionEstimator,
    RatioCupedEstimator,
    RatioEstimator,
)
from neyman._results import AnalysisResult, TestResult
from neyman._stats import STATS_TYPES, RatioCupedStats
from neyman._validate import check_bool, check_choice
from neyman.errors import InputError, InputTypeError, LengthMismatchError
from neyman.metrics import Mean, Metric, Proportion, Ratio

__all__ = ["cuped", "proportions", "ratio", "ttest", "ztest"]


def _arm_of(est: Any, name: str, value: Any, parts: tuple[str, ...]) -> Any:
    """Statistics of one arm given as arrays (a pair for two-column estimators) or as stats."""
    wanted = est.stats_type
    if isinstance(value, STATS_TYPES):
        if not isinstance(value, wanted):
            raise InputTypeError(
                f"{name} is a {type(value).__name__}; this test needs {wanted.__name__}"
            )
        return value
    if len(parts) == 2:
        if not (isinstance(value, tuple) and len(value) == 2):
            raise InputTypeError(
                f"{name} must be a ({parts[0]}, {parts[1]}) pair of arrays or "
                f"{wanted.__name__}, got {type(value).__name__}"
            )
        names = [f"{name} {parts[0]}", f"{name} {parts[1]}"]
        arrays = [as_float_array(nm, v) for nm, v in zip(names, value, strict=True)]
        if len(arrays[0]) != len(arrays[1]):
            raise LengthMismatchError(
                f"{names[0]} has length {len(arrays[0])} but {names[1]} has "
                f"length {len(arrays[1])}; they must match"
            )
        check_aligned(names[0], value[0], names[1], value[1])
        return est.scan(arrays, names, None, [name])[0]
    allow_bool = isinstance(est, ProportionEstimator)
    return est.scan([as_float_array(name, value, allow_bool=allow_bool)], [name], None, [name])[0]


def _array_mode(
    est: Any, metric: str, a: Any, b: Any, opts: Options, parts: tuple[str, ...]
) -> TestResult | AnalysisResult:
    if b is None:
        raise InputError("pass the treatment arm as the second argument")
    control = _arm_of(est, "control", a, parts)
    if isinstance(b, Mapping):
        if not b:
            raise InputError("the mapping of treatment arms is empty")
        labels = ["control", *[str(k) for k in b]]
        names = ["control", *[f"treatment {k!r}" for k in b]]
        stats = [
            control,
            *[_arm_of(est, n, v, parts) for n, v in zip(names[1:], b.values(), strict=True)],
        ]
        return AnalysisResult(tuple(compare_arms(est, metric, labels, stats, opts, names=names)))
    treatment = _arm_of(est, "treatment", b, parts)
    labels = ["control", "treatment"]
    (res,) = compare_arms(est, metric, labels, [control, treatment], opts, names=labels)
    return res


def _clustered_array_mode(
    est: Any,
    metric: str,
    a: Any,
    b: Any,
    cluster: Any,
    vcov: str,
    opts: Options,
    parts: tuple[str, ...],
) -> TestResult:
    """Arrays of a control and a treatment arm with their rows' cluster ids (a pair of arrays):
    the cluster-robust comparison of ``neyman._clustered``."""
    if isinstance(b, Mapping) or isinstance(a, STATS_TYPES) or isinstance(b, STATS_TYPES):
        raise InputError(
            "cluster= with arrays takes the rows of one control and one treatment arm (per-arm "
            "statistics hold no clusters)"
        )
    if b is None:
        raise InputError("pass the treatment arm as the second argument")
    if not (isinstance(cluster, tuple | list) and len(cluster) == 2):
        raise InputTypeError(
            "with arrays, cluster must be a pair (cluster ids of the control rows, of the "
            "treatment rows)"
        )
    binary = isinstance(est, ProportionEstimator)
    per_arm = []
    for name, value in (("control", a), ("treatment", b)):
        if parts:
            if not (isinstance(value, tuple) and len(value) == 2):
                raise InputTypeError(f"{name} must be a ({parts[0]}, {parts[1]}) pair of arrays")
            cols = [as_float_array(f"{name} {p}", v) for p, v in zip(parts, value, strict=True)]
        else:
            cols = [as_float_array(name, value, allow_bool=binary)]
        if any(len(c) != len(cols[0]) for c in cols):
            raise LengthMismatchError(f"the arrays of {name} differ in length")
        per_arm.append(cols)
    ids = []
    for name, arm_ids, cols in zip(("control", "treatment"), cluster, per_arm, strict=True):
        arr = np.asarray(arm_ids)
        if arr.ndim != 1 or len(arr) != len(cols[0]):
            raise LengthMismatchError(
                f"cluster ids of the {name} rows have length {len(arr)} but {name} has "
                f"{len(cols[0])} rows"
            )
        ids.append(arr)
    values = [np.concatenate(pair) for pair in zip(*per_arm, strict=True)]
    n_c, n_t = len(per_arm[0][0]), len(per_arm[1][0])
    codes = VariantCodes(
        ["control", "treatment"], np.repeat(np.array([0, 1], dtype=np.int32), [n_c, n_t])
    )
    if isinstance(est, RatioEstimator):
        spec: dict[str, Any] = {"ratio": True, "method": "ratio"}
    elif isinstance(est, CupedEstimator):
        spec = {"method": "ancova", "covariate": parts[1]}
    elif binary:
        spec = {"binary": True, "method": "proportion"}
    elif isinstance(est, MeanEstimator):
        spec = {"method": "mean"}
    else:
        raise InputError(f"{type(est).__name__} cannot be analysed with cluster=")
    (res,) = clustered_arrays(
        values,
        list(parts) or [metric],
        np.concatenate(ids),
        codes,
        label=metric,
        cluster="cluster",
        vcov=vcov,
        opts=opts,
        **spec,
    )
    return res


def _dispatch(
    est: Any,
    metric: Callable[[], Metric],
    a: Any,
    b: Any,
    *,
    columns: dict[str, Any],
    variant: Any,
    control: Any,
    array_metric: str = "x",
    parts: tuple[str, ...] = (),
    cluster: Any = None,
    vcov: str = "CR2",
    **options: Any,
) -> TestResult | AnalysisResult:
    """Frame input (through the metric), or arrays and stats (through the estimator); with
    ``cluster``, cluster-robust."""
    opts = Options.checked(**options)
    check_choice("vcov", vcov, VCOV_TYPES)
    frame = frame_of(a)
    if frame is not None:
        if b is not None:
            raise InputError("with a data frame, pass columns by name, not a second array")
        if variant is None or control is None:
            raise InputError("with a data frame, pass variant=<column> and control=<label>")
        for arg, col in columns.items():
            if col is None:
                raise InputError(f"with a data frame, pass {arg}=<column>")
            if not isinstance(col, str):
                raise InputTypeError(f"{arg} must be a column name (str), got {type(col).__name__}")
        codes = variant_codes(frame, variant, control)
        check_two_arms(codes.labels, variant, control)
        return AnalysisResult(
            tuple(metric()._analyze(frame, codes, opts, list(columns), cluster=cluster, vcov=vcov))
        )
    if any(c is not None for c in columns.values()) or variant is not None:
        raise InputError(f"{', '.join(columns)} and variant are for data-frame input")
    if cluster is not None:
        return _clustered_array_mode(est, array_metric, a, b, cluster, vcov, opts, parts)
    return _array_mode(est, array_metric, a, b, opts, parts)


@overload
def ttest(
    a: Any,
    b: Mapping[str, Any],
    /,
    *,
    metric: None = None,
    variant: None = None,
    control: None = None,
    equal_var: bool = False,
    alternative: str = "two-sided",
    confidence_level: float = 0.95,
    relative_ci: str = "delta",
    nan_policy: str = "propagate",
    cluster: Any = None,
    vcov: str = "CR2",
) -> AnalysisResult: ...
@overload
def ttest(
    a: Any,
    b: None = None,
    /,
    *,
    metric: str,
    variant: str,
    control: Any,
    equal_var: bool = False,
    alternative: str = "two-sided",
    confidence_level: float = 0.95,
    relative_ci: str = "delta",
    nan_policy: str = "propagate",
    cluster: Any = None,
    vcov: str = "CR2",
) -> AnalysisResult: ...
@overload
def ttest(
    a: Any,
    b: Any,
    /,
    *,
    metric: None = None,
    variant: None = None,
    control: None = None,
    equal_var: bool = False,
    alternative: str = "two-sided",
    confidence_level: float = 0.95,
    relative_ci: str = "delta",
    nan_policy: str = "propagate",
    cluster: Any = None,
    vcov: str = "CR2",
) -> TestResult: ...
def ttest(
    a: Any,
    b: Any = None,
    /,
    *,
    metric: str | None = None,
    variant: str | None = None,
    control: Any = None,
    equal_var: bool = False,
    alternative: str = "two-sided",
    confidence_level: float = 0.95,
    relative_ci: str = "delta",
    nan_policy: str = "propagate",
    cluster: Any = None,
    vcov: str = "CR2",
) -> TestResult | AnalysisResult:
    """Difference in means by Welch's t-test (default) or Student's pooled t-test.

    Parameters
    ----------
    a : array_like, data frame or MeanStats
        Control-arm values; or a pandas / polars / pyarrow frame (then give ``metric``,
        ``variant`` and ``control``); or pre-aggregated :class:`MeanStats`.
    b : array_like, MeanStats or mapping, optional
        Treatment-arm values, or a mapping ``{label: values}`` to compare several treatment arms
        with the control in one call. Omitted for frame input.
    metric, variant : str, optional
        Frame input: the outcome column and the column holding arm labels.
    control : optional
        Frame input: the label of the control arm; every other label is a treatment arm.
    equal_var : bool, default False
        False: Welch's test with Welch-Satterthwaite degrees of freedom. True: Student's test
        with pooled variance.
    alternative : {'two-sided', 'less', 'greater'}, default 'two-sided'
        Alternative hypothesis about ``effect = treatment - control``.
    confidence_level : float, default 0.95
        Level of the intervals, strictly between 0 and 1.
    relative_ci : {'delta', 'fieller'}, default 'delta'
        Interval on the relative effect: the delta method (symmetric) or Fieller's theorem
        (asymmetric, exact for normal estimates, unbounded when the control is not significantly
        different from zero).
    nan_policy : {'propagate', 'raise', 'omit'}, default 'propagate'
        As in scipy: NaN gives NaN results, raises, or is dropped. Infinite values always raise.
    cluster : str or pair of arrays, optional
        Cluster-robust variance when units are randomised in clusters (cities, households) or the
        rows are finer than the randomised unit (sessions of users): the column of cluster ids
        (frames), or ``(control_ids, treatment_ids)`` (arrays). The result is then a
        :class:`ClusteredResult`: Student's t on the cluster-robust variance, with the design
        effect, the effective sample size and the intra-cluster correlation.
    vcov : {'CR2', 'CR1', 'CR0', 'CR3'}, default 'CR2'
        The cluster-robust variance with ``cluster``: CR2 (Bell and McCaffrey 2002) with the
        Bell-McCaffrey degrees of freedom, the default because it holds its level with few
        clusters; CR1 (Stata's), CR0, or CR3 (the cluster jackknife). See :func:`neyman.ols`.
    Returns
    -------
    TestResult or AnalysisResult
        A :class:`TestResult` (``effect``, ``se``, ``ci_low``, ``ci_high``, ``rel_effect``,
        ``rel_ci_low``, ``rel_ci_high``, ``statistic``, ``pvalue``, ``df``, ...) for one
        treatment array; an :class:`AnalysisResult` (one row per treatment arm) for a mapping or
        a frame.

    Raises
    ------
    InputError
        NaN under ``nan_policy='raise'``, infinite values, unknown columns or labels, bad options.
    InsufficientDataError
        An arm with fewer than two observations.
    ZeroVarianceError
        Both arms constant.
    InputTypeError
        Non-numeric or boolean data.

    Notes
    -----
    Welch: ``se^2 = s_t^2/n_t + s_c^2/n_c`` and
    ``df = se^4 / ((s_t^2/n_t)^2/(n_t-1) + (s_c^2/n_c)^2/(n_c-1))``. The relative effect
    ``mean_t / mean_c - 1`` has delta-method variance
    ``v_t/m_c^2 + m_t^2 v_c/m_c^4`` and uses the same critical value as the absolute interval.
    Moments are computed in one parallel pass (Welford/Chan merges), independent of thread count.

    References
    ----------
    Welch, B. L. (1947). The generalization of Student's problem when several different
    population variances are involved. Biometrika 34, 28-35.
    Fieller, E. C. (1954). Some problems in interval estimation. JRSS B 16, 175-185.

    Examples
    --------
    >>> import numpy as np, neyman
    >>> rng = np.random.default_rng(0)
    >>> control = rng.normal(10.0, 2.0, size=1000)
    >>> treatment = rng.normal(10.3, 2.0, size=1000)
    >>> res = neyman.ttest(control, treatment)
    >>> round(res.effect, 3), f"{res.pvalue:.3g}", round(res.df, 1)
    (0.38, '2.27e-05', 1993.8)
    >>> round(res.rel_effect, 4), round(res.rel_ci_low, 4), round(res.rel_ci_high, 4)
    (0.0384, 0.0203, 0.0564)

    The same numbers as ``scipy.stats.ttest_ind(treatment, control, equal_var=False)``.
    """
    test = "student" if check_bool("equal_var", equal_var) else "welch"
    return _dispatch(
        MeanEstimator(test),
        lambda: Mean(cast(str, metric), test=test),
        a,
        b,
        columns={"metric": metric},
        variant=variant,
        control=control,
        alternative=alternative,
        confidence_level=confidence_level,
        relative_ci=relative_ci,
        nan_policy=nan_policy,
        cluster=cluster,
        vcov=vcov,
    )


def ztest(
    a: Any,
    b: Any = None,
    /,
    *,
    metric: str | None = None,
    variant: str | None = None,
    control: Any = None,
    alternative: str = "two-sided",
    confidence_level: float = 0.95,
    relative_ci: str = "delta",
    nan_policy: str = "propagate",
    cluster: Any = None,
    vcov: str = "CR2",
) -> Any:
    """Difference in means by the large-sample z-test (unpooled variance, normal reference).

    Takes the same input as :func:`ttest`; the statistic is referred to the standard normal
    (``df = inf``), which is what large online experiments usually report.

    Parameters
    ----------
    a, b, metric, variant, control
        As in :func:`ttest`.
    alternative, confidence_level, relative_ci, nan_policy, cluster, vcov
        As in :func:`ttest`.
    Returns
    -------
    TestResult or AnalysisResult
        As in :func:`ttest`, with ``df = inf``.

    Examples
    --------
    >>> import numpy as np, neyman
    >>> rng = np.random.default_rng(1)
    >>> res = neyman.ztest(rng.exponential(1.0, 5000), rng.exponential(1.05, 5000))
    >>> res.df, round(res.statistic, 3), round(res.pvalue, 4)
    (inf, 3.011, 0.0026)
    """
    return _dispatch(
        MeanEstimator("z"),
        lambda: Mean(cast(str, metric), test="z"),
        a,
        b,
        columns={"metric": metric},
        variant=variant,
        control=control,
        alternative=alternative,
        confidence_level=confidence_level,
        relative_ci=relative_ci,
        nan_policy=nan_policy,
        cluster=cluster,
        vcov=vcov,
    )


def proportions(
    a: Any,
    b: Any = None,
    /,
    *,
    metric: str | None = None,
    variant: str | None = None,
    control: Any = None,
    ci_method: str = "newcombe",
    alternative: str = "two-sided",
    confidence_level: float = 0.95,
    relative_ci: str = "delta",
    nan_policy: str = "propagate",
    cluster: Any = None,
    vcov: str = "CR2",
) -> Any:
    """Difference of two proportions: pooled z-test, Newcombe or Wald interval, relative lift.

    Parameters
    ----------
    a : array_like of 0/1, data frame or ProportionStats
        Control-arm outcomes (0/1 numbers or booleans), a frame (with ``metric``, ``variant``,
        ``control``), or counts as :class:`ProportionStats`.
    b : array_like, ProportionStats or mapping, optional
        Treatment-arm outcomes or counts, or a mapping ``{label: ...}`` of several arms.
    metric, variant, control
        Frame input, as in :func:`ttest`.
    ci_method : {'newcombe', 'wald'}, default 'newcombe'
        Interval on the difference: Newcombe's hybrid score interval (good coverage even for rare
        events) or the Wald interval.
    alternative, confidence_level, relative_ci, nan_policy, cluster, vcov
        As in :func:`ttest`.
    Returns
    -------
    TestResult or AnalysisResult
        ``control_value`` and ``treatment_value`` are the proportions; ``statistic`` is the
        pooled z; ``se`` is the unpooled standard error used by the Wald and delta intervals.

    Raises
    ------
    InputError
        Values other than 0 and 1, successes outside ``[0, trials]``, NaN under 'raise'.
    ZeroVarianceError
        Every outcome in both arms is 0 (or every outcome is 1): the z-test is undefined.

    Notes
    -----
    ``z = (p_t - p_c) / sqrt(p (1 - p) (1/n_t + 1/n_c))`` with the pooled ``p``. Newcombe (1998,
    method 10) combines the Wilson intervals of the two arms.

    References
    ----------
    Newcombe, R. G. (1998). Interval estimation for the difference between independent
    proportions. Statistics in Medicine 17, 873-890.

    Examples
    --------
    >>> import neyman
    >>> res = neyman.proportions(
    ...     neyman.ProportionStats(48, 80), neyman.ProportionStats(56, 70)
    ... )
    >>> round(res.effect, 4), round(res.ci_low, 4), round(res.ci_high, 4)
    (0.2, 0.0524, 0.3339)
    """
    method = check_choice("ci_method", ci_method, ("newcombe", "wald"))
    return _dispatch(
        ProportionEstimator(method),
        lambda: Proportion(cast(str, metric), ci_method=method),
        a,
        b,
        columns={"metric": metric},
        variant=variant,
        control=control,
        alternative=alternative,
        confidence_level=confidence_level,
        relative_ci=relative_ci,
        nan_policy=nan_policy,
        cluster=cluster,
        vcov=vcov,
    )


def ratio(
    num_c: Any,
    den_c: Any = None,
    num_t: Any = None,
    den_t: Any = None,
    /,
    *,
    numerator: str | None = None,
    denominator: str | None = None,
    variant: str | None = None,
    control: Any = None,
    alternative: str = "two-sided",
    confidence_level: float = 0.95,
    relative_ci: str = "delta",
    nan_policy: str = "propagate",
    cluster: Any = None,
    vcov: str = "CR2",
) -> Any:
    """Ratio metric (e.g. clicks / impressions per user) by the delta method.

    The metric of an arm is ``sum(numerator) / sum(denominator)`` over its units (the unit of
    randomisation, e.g. users); its variance accounts for the correlation of numerator and
    denominator within a unit.

    Parameters
    ----------
    num_c, den_c : array_like or RatioStats
        Control numerators and denominators, one value per unit; or ``num_c`` a frame (with
        ``numerator``, ``denominator``, ``variant``, ``control``); or ``num_c`` and ``den_c``
        the control and treatment :class:`RatioStats`, or :class:`RatioCupedStats` for a
        CUPED-adjusted ratio from pre-aggregated sums.
    num_t, den_t : array_like or mapping, optional
        Treatment numerators and denominators; or mappings ``{label: values}`` with the same keys
        for several arms.
    numerator, denominator, variant, control
        Frame input.
    alternative, confidence_level, relative_ci, nan_policy, cluster, vcov
        As in :func:`ttest`.
    Returns
    -------
    TestResult or AnalysisResult
        ``control_value`` and ``treatment_value`` are the ratios; ``statistic`` is a z.

    Raises
    ------
    InputError
        Negative denominators, a non-positive mean denominator, NaN under 'raise'.
    LengthMismatchError
        Numerator and denominator of an arm differ in length.

    Notes
    -----
    ``Var(X/Y) = (1/n) [s_x^2/m_y^2 - 2 m_x s_xy/m_y^3 + m_x^2 s_y^2/m_y^4]`` per arm (Deng et al.
    2018, eq. 2); arms are independent. A row with NaN in either column is one missing unit.

    References
    ----------
    Deng, A., Knoblich, U., Lu, J. (2018). Applying the delta method in metric analytics.
    KDD 2018.

    Examples
    --------
    >>> import numpy as np, neyman
    >>> rng = np.random.default_rng(2)
    >>> imp_c, imp_t = rng.poisson(20, 4000) + 1, rng.poisson(20, 4000) + 1
    >>> clk_c, clk_t = rng.binomial(imp_c, 0.05), rng.binomial(imp_t, 0.055)
    >>> res = neyman.ratio(clk_c, imp_c, clk_t, imp_t)
    >>> round(res.control_value, 4), round(res.rel_effect, 3)
    (0.0495, 0.101)
    """
    # Pre-aggregated ratio CUPED: the covariates are inside the stats.
    est: Any = (
        RatioCupedEstimator(covariate="pre-period ratio")
        if isinstance(num_c, RatioCupedStats)
        else RatioEstimator()
    )
    return _paired_dispatch(
        est,
        lambda: Ratio(cast(str, numerator), cast(str, denominator)),
        "ratio",
        (num_c, den_c, num_t, den_t),
        names=("num_c", "den_c", "num_t", "den_t"),
        columns={"numerator": numerator, "denominator": denominator},
        variant=variant,
        control=control,
        alternative=alternative,
        confidence_level=confidence_level,
        relative_ci=relative_ci,
        nan_policy=nan_policy,
        cluster=cluster,
        vcov=vcov,
    )


def cuped(
    y_c: Any,
    x_c: Any = None,
    y_t: Any = None,
    x_t: Any = None,
    /,
    *,
    metric: str | None = None,
    covariate: str | None = None,
    variant: str | None = None,
    control: Any = None,
    test: str = "welch",
    alternative: str = "two-sided",
    confidence_level: float = 0.95,
    relative_ci: str = "delta",
    nan_policy: str = "propagate",
    cluster: Any = None,
    vcov: str = "CR2",
) -> Any:
    """Difference in means adjusted by one pre-experiment covariate (CUPED).

    Parameters
    ----------
    y_c, x_c : array_like or CupedStats
        Control metric and covariate, one value per unit; or ``y_c`` a frame (with ``metric``,
        ``covariate``, ``variant``, ``control``); or ``y_c`` and ``x_c`` the control and
        treatment :class:`CupedStats`.
    y_t, x_t : array_like or mapping, optional
        Treatment metric and covariate; or mappings ``{label: values}`` with the same keys for
        several treatment arms.
    metric, covariate, variant, control
        Frame input: the outcome column, the pre-experiment column, the arm column and the
        control label.
    test : {'welch', 'z'}, default 'welch'
        Reference distribution: Student's t with Welch-Satterthwaite degrees of freedom on the
        adjusted variances, or the normal.
    alternative, confidence_level, relative_ci, nan_policy, cluster, vcov
        As in :func:`ttest`.
    Returns
    -------
    TestResult or AnalysisResult
        The adjusted comparison; ``theta`` (pooled coefficient), ``variance_ratio`` (adjusted
        over unadjusted variance of the effect) and ``unadjusted`` (the plain comparison) beside.
        ``treatment_value`` is the adjusted treatment mean, ``control_value + effect``.

    Raises
    ------
    ZeroVarianceError
        A constant covariate, or a covariate that explains the metric exactly.
    InputError, InsufficientDataError, LengthMismatchError, InputTypeError
        As in :func:`ttest`; a row with NaN in the metric or the covariate is one missing unit.

    Notes
    -----
    ``theta = Cov(y, x) / Var(x)`` on both arms pooled (Deng et al. 2013); the effect is
    ``(ybar_t - ybar_c) - theta (xbar_t - xbar_c)`` with variance
    ``sum_arms (s_y^2 - 2 theta s_xy + theta^2 s_x^2) / n``. The relative effect is
    ``effect / ybar_c``; its delta-method variance includes the covariance between the adjusted
    difference and the control mean.

    References
    ----------
    Deng, A., Xu, Y., Kohavi, R., Walker, T. (2013). Improving the sensitivity of online
    controlled experiments by utilizing pre-experiment data. WSDM 2013.

    Examples
    --------
    >>> import numpy as np, neyman
    >>> rng = np.random.default_rng(3)
    >>> x_c, x_t = rng.normal(10, 2, 5000), rng.normal(10, 2, 5000)
    >>> y_c = x_c + rng.normal(0, 1, 5000)
    >>> y_t = x_t + 0.1 + rng.normal(0, 1, 5000)
    >>> res = neyman.cuped(y_c, x_c, y_t, x_t)
    >>> round(res.effect, 3), round(res.unadjusted.effect, 3), round(res.variance_ratio, 2)
    (0.089, 0.068, 0.2)

    With ``corr(x, y)^2 = 0.8`` here, the variance falls to ``1 - 0.8 = 0.2`` of the unadjusted one.
    """
    test = check_choice("test", test, ("welch", "z"))
    return _paired_dispatch(
        CupedEstimator(test, covariate="x"),
        lambda: Mean(cast(str, metric), covariate=cast(str, covariate), test=test),
        "cuped",
        (y_c, x_c, y_t, x_t),
        names=("y_c", "x_c", "y_t", "x_t"),
        columns={"metric": metric, "covariate": covariate},
        variant=variant,
        control=control,
        alternative=alternative,
        confidence_level=confidence_level,
        relative_ci=relative_ci,
        nan_policy=nan_policy,
        cluster=cluster,
        vcov=vcov,
    )


def _paired_dispatch(
    est: Any,
    metric: Callable[[], Metric],
    call: str,
    arrays: tuple[Any, Any, Any, Any],
    *,
    names: tuple[str, str, str, str],
    columns: dict[str, str | None],
    variant: Any,
    control: Any,
    **opts: Any,
) -> Any:
    """Input of two columns per arm (ratio: numerator and denominator; CUPED: metric and
    covariate) as a frame, as two pre-aggregated stats, or as four arrays (the treatment ones
    possibly mappings of several arms)."""
    a_c, b_c, a_t, b_t = arrays
    parts = ("numerator", "denominator") if call == "ratio" else ("metric", "covariate")
    common: dict[str, Any] = {
        "columns": columns,
        "variant": variant,
        "control": control,
        "array_metric": "y" if call == "cuped" else "x",
        "parts": parts,
        **opts,
    }
    if is_frame(a_c):
        if b_c is not None or a_t is not None or b_t is not None:
            raise InputError("with a data frame, pass columns by name, not more arrays")
        return _dispatch(est, metric, a_c, None, **common)
    if any(v is not None for v in columns.values()) or variant is not None:
        raise InputError(f"{', '.join(columns)} and variant are for data-frame input")
    wanted = est.stats_type
    if isinstance(a_c, STATS_TYPES):
        if not isinstance(a_c, wanted):
            raise InputTypeError(
                f"{names[0]} is a {type(a_c).__name__}; this test needs {wanted.__name__}"
            )
        if a_t is not None or b_t is not None:
            raise InputError(f"with {wanted.__name__}, pass {call}(control_stats, treatment_stats)")
        return _dispatch(est, metric, a_c, b_c, **common)
    if b_c is None or a_t is None or b_t is None:
        raise InputError(f"pass {call}({', '.join(names)}) with four arrays")
    if isinstance(a_t, Mapping) or isinstance(b_t, Mapping):
        if not (isinstance(a_t, Mapping) and isinstance(b_t, Mapping)):
            raise InputError(f"{names[2]} and {names[3]} must both be mappings for several arms")
        if set(a_t) != set(b_t):
            raise InputError(f"{names[2]} and {names[3]} mappings must have the same arm labels")
        treat: Any = {k: (a_t[k], b_t[k]) for k in a_t}
    else:
        treat = (a_t, b_t)
    return _dispatch(est, metric, (a_c, b_c), treat, **common)
