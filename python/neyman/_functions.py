"""The array- and frame-level functions: ``ttest``, ``ztest``, ``proportions``, ``ratio``.

Each takes arrays (one per arm), a data frame with column names, or pre-aggregated statistics
(:class:`MeanStats`, :class:`ProportionStats`, :class:`RatioStats`), and returns a
:class:`~neyman.TestResult` for one treatment or an :class:`~neyman.AnalysisResult` for several.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, overload

from neyman import _neyman
from neyman._convert import (
    as_float_array,
    check_aligned,
    frame_column,
    is_frame,
    variant_codes,
)
from neyman._engine import (
    ArmStats,
    Kind,
    Options,
    arm_stats_from_arrays,
    compare_arms,
    grouped_arm_stats,
)
from neyman._results import AnalysisResult, TestResult
from neyman._validate import (
    check_choice,
    check_count,
    check_finite,
    check_options,
)
from neyman.errors import InputError, InputTypeError, LengthMismatchError

__all__ = [
    "CupedStats",
    "MeanStats",
    "ProportionStats",
    "RatioCupedStats",
    "RatioStats",
    "cuped",
    "proportions",
    "ratio",
    "ttest",
    "ztest",
]


@dataclass(frozen=True)
class MeanStats:
    """Pre-aggregated statistics of one arm for a difference in means.

    Parameters
    ----------
    n : int
        Number of observations.
    mean : float
        Their mean.
    m2 : float
        Sum of squared deviations from the mean (``variance * (n - 1)``).

    Examples
    --------
    From a SQL query's ``COUNT(*)``, ``SUM(x)`` and ``SUM(x * x)``:

    >>> import neyman
    >>> s = neyman.MeanStats.from_sums(n=4, sum=10.0, sum_sq=30.0)
    >>> s.mean, s.m2
    (2.5, 5.0)
    """

    n: int
    mean: float
    m2: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "n", check_count("n", self.n))
        object.__setattr__(self, "mean", check_finite("mean", self.mean))
        object.__setattr__(self, "m2", check_finite("m2", self.m2, nonnegative=True))

    @classmethod
    def from_sums(cls, n: int, sum: float, sum_sq: float) -> MeanStats:
        """From a count, a sum and a sum of squares."""
        n, mean, m2 = _neyman.moments_from_sums(
            check_count("n", n), check_finite("sum", sum), check_finite("sum_sq", sum_sq)
        )
        return cls(n, mean, m2)

    @classmethod
    def from_mean_std(cls, n: int, mean: float, std: float) -> MeanStats:
        """From a count, a mean and a sample standard deviation (``ddof=1``)."""
        n = check_count("n", n)
        sd = check_finite("std", std, nonnegative=True)
        return cls(n, check_finite("mean", mean), sd**2 * max(n - 1, 0))

    def _arm(self) -> ArmStats:
        return ArmStats((self.n, self.mean, self.m2), n=self.n)


@dataclass(frozen=True)
class ProportionStats:
    """Pre-aggregated counts of one arm for a test of proportions.

    Examples
    --------
    >>> import neyman
    >>> neyman.ProportionStats(successes=120, trials=1000)
    ProportionStats(successes=120, trials=1000)
    """

    successes: int
    trials: int

    def __post_init__(self) -> None:
        successes = check_count("successes", self.successes)
        trials = check_count("trials", self.trials)
        if successes > trials:
            raise InputError(f"successes == {successes} exceeds trials == {trials}")
        object.__setattr__(self, "successes", successes)
        object.__setattr__(self, "trials", trials)

    def _arm(self) -> ArmStats:
        return ArmStats((float(self.successes), self.trials), n=self.trials)


@dataclass(frozen=True)
class RatioStats:
    """Pre-aggregated statistics of one arm for a ratio metric (numerator / denominator per unit).

    Fields are the count of units, the means of numerator and denominator, and the co-moments
    (sums of squared and cross deviations). Build it with :meth:`from_sums` from SQL aggregates.

    Examples
    --------
    >>> import neyman
    >>> s = neyman.RatioStats.from_sums(
    ...     n=4, sum_num=10.0, sum_den=20.0, sum_num_sq=30.0, sum_den_sq=126.0, sum_num_den=61.0
    ... )
    >>> s.mean_num / s.mean_den
    0.5
    """

    n: int
    mean_num: float
    mean_den: float
    c_num_num: float
    c_den_den: float
    c_num_den: float

    def __post_init__(self) -> None:
        _check_two_variables(
            self, ("mean_num", "mean_den"), ("c_num_num", "c_den_den"), "c_num_den"
        )

    @classmethod
    def from_sums(
        cls,
        n: int,
        sum_num: float,
        sum_den: float,
        sum_num_sq: float,
        sum_den_sq: float,
        sum_num_den: float,
    ) -> RatioStats:
        """From a count, sums, sums of squares and the cross-sum of numerator and denominator."""
        names = ("sum_num", "sum_den", "sum_num_sq", "sum_den_sq", "sum_num_den")
        values = (sum_num, sum_den, sum_num_sq, sum_den_sq, sum_num_den)
        return cls(*_two_variables_from_sums(n, names, values))

    def _arm(self) -> ArmStats:
        c = ((self.c_num_num, self.c_num_den), (self.c_num_den, self.c_den_den))
        return ArmStats((self.n, (self.mean_num, self.mean_den), c), n=self.n)


@dataclass(frozen=True)
class CupedStats:
    """Pre-aggregated statistics of one arm for CUPED: a metric ``y`` and its covariate ``x``.

    Fields are the count, the means of ``y`` and ``x`` and their co-moments (sums of squared and
    cross deviations). Build it with :meth:`from_sums` from SQL aggregates.

    Examples
    --------
    >>> import neyman
    >>> s = neyman.CupedStats.from_sums(
    ...     n=4, sum_y=10.0, sum_x=11.0, sum_y_sq=30.0, sum_x_sq=39.0, sum_xy=34.0
    ... )
    >>> s.mean_y, s.mean_x, s.c_xy
    (2.5, 2.75, 6.5)
    """

    n: int
    mean_y: float
    mean_x: float
    c_yy: float
    c_xx: float
    c_xy: float

    def __post_init__(self) -> None:
        _check_two_variables(self, ("mean_y", "mean_x"), ("c_yy", "c_xx"), "c_xy")

    @classmethod
    def from_sums(
        cls,
        n: int,
        sum_y: float,
        sum_x: float,
        sum_y_sq: float,
        sum_x_sq: float,
        sum_xy: float,
    ) -> CupedStats:
        """From a count, sums, sums of squares and the cross-sum of metric and covariate."""
        names = ("sum_y", "sum_x", "sum_y_sq", "sum_x_sq", "sum_xy")
        return cls(*_two_variables_from_sums(n, names, (sum_y, sum_x, sum_y_sq, sum_x_sq, sum_xy)))

    def _arm(self) -> ArmStats:
        c = ((self.c_yy, self.c_xy), (self.c_xy, self.c_xx))
        return ArmStats((self.n, (self.mean_y, self.mean_x), c), n=self.n)


@dataclass(frozen=True)
class RatioCupedStats:
    """Pre-aggregated statistics of one arm for a CUPED-adjusted ratio metric: numerator,
    denominator, and their pre-period covariates (in that order), per unit.

    Build it with :meth:`from_sums` from SQL: the count, the four sums, and the 4 x 4 matrix of
    sums of products (``SUM(a * b)`` for every pair of the four columns).

    Examples
    --------
    >>> import numpy as np, neyman
    >>> rng = np.random.default_rng(9)
    >>> def stats(n, lift):
    ...     imp_pre = rng.poisson(20, n) + 1.0
    ...     clk_pre = rng.binomial(imp_pre.astype(int), 0.05) * 1.0
    ...     imp = imp_pre + rng.poisson(2, n)
    ...     clk = rng.binomial(imp.astype(int), 0.05 * lift) * 1.0
    ...     cols = np.column_stack([clk, imp, clk_pre, imp_pre])
    ...     return neyman.RatioCupedStats.from_sums(n, cols.sum(0), cols.T @ cols)
    >>> res = neyman.ratio(stats(5000, 1.0), stats(5000, 1.05))
    >>> res.method, round(res.treatment_value / res.control_value - 1, 3)
    ('ratio-cuped', 0.053)
    """

    n: int
    means: tuple[float, float, float, float]
    comoments: tuple[tuple[float, ...], ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "n", check_count("n", self.n))
        means = tuple(check_finite("means", v) for v in self.means)
        rows = tuple(tuple(check_finite("comoments", v) for v in r) for r in self.comoments)
        if len(means) != 4 or len(rows) != 4 or any(len(r) != 4 for r in rows):
            raise InputError("RatioCupedStats needs 4 means and a 4 x 4 co-moment matrix")
        object.__setattr__(self, "means", means)
        object.__setattr__(self, "comoments", rows)

    @classmethod
    def from_sums(cls, n: int, sums: Sequence[float], products: Any) -> RatioCupedStats:
        """From a count, the sums of (numerator, denominator, numerator covariate, denominator
        covariate), and the 4 x 4 matrix of sums of their products."""
        s = [check_finite("sums", v) for v in sums]
        p = [[check_finite("products", v) for v in row] for row in products]
        if len(s) != 4 or len(p) != 4 or any(len(r) != 4 for r in p):
            raise InputError("sums needs 4 values and products a 4 x 4 matrix")
        names = ("numerator", "denominator", "numerator covariate", "denominator covariate")
        n_out, means, c = _neyman.comoments4_from_sums(
            check_count("n", n),
            (s[0], s[1], s[2], s[3]),
            tuple((r[0], r[1], r[2], r[3]) for r in p),  # type: ignore[arg-type]
            names,
        )
        return cls(n_out, (means[0], means[1], means[2], means[3]), tuple(map(tuple, c)))

    def _arm(self) -> ArmStats:
        return ArmStats((self.n, self.means, self.comoments), n=self.n)


def _check_two_variables(
    obj: Any, means: tuple[str, str], squares: tuple[str, str], cross: str
) -> None:
    """Validate (and normalise to float) the fields of a two-variable statistic in place."""
    object.__setattr__(obj, "n", check_count("n", obj.n))
    for name in (*means, cross):
        object.__setattr__(obj, name, check_finite(name, getattr(obj, name)))
    for name in squares:
        object.__setattr__(obj, name, check_finite(name, getattr(obj, name), nonnegative=True))
    check_cauchy_schwarz(cross, getattr(obj, cross), *(getattr(obj, n) for n in squares))


def _two_variables_from_sums(
    n: int, names: tuple[str, str, str, str, str], values: tuple[float, float, float, float, float]
) -> tuple[int, float, float, float, float, float]:
    """Count, means and co-moments of two variables from their sums (checked, then in Rust)."""
    sa, sb, saa, sbb, sab = (
        check_finite(name, v, nonnegative=name.endswith("_sq"))
        for name, v in zip(names, values, strict=True)
    )
    return _neyman.comoments2_from_sums(
        check_count("n", n), sa, sb, saa, sbb, sab, (names[2], names[3], names[4])
    )


def check_cauchy_schwarz(name: str, cxy: float, cxx: float, cyy: float) -> None:
    """A cross co-moment no larger than the geometric mean of the two (a correlation in [-1, 1])."""
    # Slack for co-moments rounded from raw sums (a constant column leaves |c_xy| ~ 1e-14).
    if abs(cxy) > (cxx * cyy) ** 0.5 * (1.0 + 1e-9) + 1e-9 * (cxx + cyy):
        raise InputError(
            f"{name} == {cxy} implies a correlation beyond +/-1 (|{name}| must be at most "
            "sqrt of the product of the two variances' co-moments)"
        )


_STATS_TYPES: dict[str, type] = {
    "mean": MeanStats,
    "proportion": ProportionStats,
    "ratio": RatioStats,
    "cuped": CupedStats,
    "ratio_cuped": RatioCupedStats,
}


def _frame_mode(
    kind: Kind,
    method: str,
    data: Any,
    columns: list[str],
    col_args: list[str],
    metric_name: str,
    variant: Any,
    control: Any,
    opts: Options,
) -> AnalysisResult:
    if variant is None or control is None:
        raise InputError("with a data frame, pass variant=<column> and control=<label>")
    for arg, col in zip(col_args, columns, strict=True):
        if col is None:
            raise InputError(f"with a data frame, pass {arg}=<column>")
    codes = variant_codes(data, variant, control)
    arrays = [
        frame_column(data, c, arg=a, allow_bool=kind == "proportion")
        for c, a in zip(columns, col_args, strict=True)
    ]
    stats = grouped_arm_stats(kind, arrays, columns, codes)
    covariate = columns[1] if kind == "cuped" else None
    return AnalysisResult(
        tuple(
            compare_arms(kind, method, metric_name, codes.labels, stats, opts, covariate=covariate)
        )
    )


def _arm_of(kind: Kind, name: str, value: Any) -> ArmStats:
    """Statistics of one arm given as arrays (a tuple for ratios) or as pre-aggregated stats."""
    if isinstance(value, MeanStats | ProportionStats | RatioStats | CupedStats | RatioCupedStats):
        if not isinstance(value, _STATS_TYPES[kind]):
            raise InputTypeError(
                f"{name} is a {type(value).__name__}; this test needs {_STATS_TYPES[kind].__name__}"
            )
        return value._arm()
    if kind in ("ratio", "cuped"):
        parts = ("numerator", "denominator") if kind == "ratio" else ("metric", "covariate")
        if not (isinstance(value, tuple) and len(value) == 2):
            raise InputTypeError(
                f"{name} must be a ({parts[0]}, {parts[1]}) pair of arrays or "
                f"{_STATS_TYPES[kind].__name__}, got {type(value).__name__}"
            )
        names = [f"{name} {parts[0]}", f"{name} {parts[1]}"]
        arrays = [as_float_array(nm, v) for nm, v in zip(names, value, strict=True)]
        if len(arrays[0]) != len(arrays[1]):
            raise LengthMismatchError(
                f"{names[0]} has length {len(arrays[0])} but {names[1]} has "
                f"length {len(arrays[1])}; they must match"
            )
        check_aligned(names[0], value[0], names[1], value[1])
        return arm_stats_from_arrays(kind, arrays, names)
    return arm_stats_from_arrays(
        kind, [as_float_array(name, value, allow_bool=kind == "proportion")], [name]
    )


def _array_mode(
    kind: Kind, method: str, a: Any, b: Any, opts: Options
) -> TestResult | AnalysisResult:
    covariate = {"cuped": "x", "ratio_cuped": "pre-period ratio"}.get(kind)
    if b is None:
        raise InputError("pass the treatment arm as the second argument")
    control = _arm_of(kind, "control", a)
    if isinstance(b, Mapping):
        if not b:
            raise InputError("the mapping of treatment arms is empty")
        labels = ["control", *[str(k) for k in b]]
        stats = [control, *[_arm_of(kind, f"treatment {k!r}", v) for k, v in b.items()]]
        names = ["control", *[f"treatment {k!r}" for k in b]]
        return AnalysisResult(
            tuple(
                compare_arms(
                    kind,
                    method,
                    "y" if kind == "cuped" else "x",
                    labels,
                    stats,
                    opts,
                    arm_names=names,
                    covariate=covariate,
                )
            )
        )
    treatment = _arm_of(kind, "treatment", b)
    (res,) = compare_arms(
        kind,
        method,
        "y" if kind == "cuped" else "x",
        ["control", "treatment"],
        [control, treatment],
        opts,
        arm_names=["control", "treatment"],
        covariate=covariate,
    )
    return res


def _dispatch(
    kind: Kind,
    method: str,
    a: Any,
    b: Any,
    *,
    metric_columns: list[Any],
    metric_args: list[str],
    variant: Any,
    control: Any,
    alternative: Any,
    confidence_level: Any,
    relative_ci: Any,
    nan_policy: Any,
) -> TestResult | AnalysisResult:
    opts = Options(*check_options(alternative, confidence_level, relative_ci, nan_policy))
    if is_frame(a):
        if b is not None:
            raise InputError("with a data frame, pass columns by name, not a second array")
        name = str(metric_columns[0]) if kind == "cuped" else "/".join(map(str, metric_columns))
        return _frame_mode(
            kind, method, a, metric_columns, metric_args, name, variant, control, opts
        )
    if any(c is not None for c in metric_columns) or variant is not None:
        raise InputError(f"{', '.join(metric_args)} and variant are for data-frame input")
    return _array_mode(kind, method, a, b, opts)


_COMMON_DOC = """
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
"""


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
    {common}
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
    return _dispatch(
        "mean",
        "student" if equal_var else "welch",
        a,
        b,
        metric_columns=[metric],
        metric_args=["metric"],
        variant=variant,
        control=control,
        alternative=alternative,
        confidence_level=confidence_level,
        relative_ci=relative_ci,
        nan_policy=nan_policy,
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
) -> Any:
    """Difference in means by the large-sample z-test (unpooled variance, normal reference).

    Takes the same input as :func:`ttest`; the statistic is referred to the standard normal
    (``df = inf``), which is what large online experiments usually report.

    Parameters
    ----------
    a, b, metric, variant, control
        As in :func:`ttest`.
    {common}
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
        "mean",
        "z",
        a,
        b,
        metric_columns=[metric],
        metric_args=["metric"],
        variant=variant,
        control=control,
        alternative=alternative,
        confidence_level=confidence_level,
        relative_ci=relative_ci,
        nan_policy=nan_policy,
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
    {common}
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
        "proportion",
        method,
        a,
        b,
        metric_columns=[metric],
        metric_args=["metric"],
        variant=variant,
        control=control,
        alternative=alternative,
        confidence_level=confidence_level,
        relative_ci=relative_ci,
        nan_policy=nan_policy,
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
    {common}
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
    cuped_stats = isinstance(num_c, RatioCupedStats)
    return _paired_dispatch(
        "ratio_cuped" if cuped_stats else "ratio",
        "ratio-cuped" if cuped_stats else "delta",
        (num_c, den_c, num_t, den_t),
        names=("num_c", "den_c", "num_t", "den_t"),
        columns={"numerator": numerator, "denominator": denominator},
        variant=variant,
        control=control,
        alternative=alternative,
        confidence_level=confidence_level,
        relative_ci=relative_ci,
        nan_policy=nan_policy,
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
    {common}
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
        "cuped",
        f"cuped-{test}",
        (y_c, x_c, y_t, x_t),
        names=("y_c", "x_c", "y_t", "x_t"),
        columns={"metric": metric, "covariate": covariate},
        variant=variant,
        control=control,
        alternative=alternative,
        confidence_level=confidence_level,
        relative_ci=relative_ci,
        nan_policy=nan_policy,
    )


def _paired_dispatch(
    kind: Kind,
    method: str,
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
    call = f"{kind}({', '.join(names)})"
    if is_frame(a_c):
        if b_c is not None or a_t is not None or b_t is not None:
            raise InputError("with a data frame, pass columns by name, not more arrays")
        return _dispatch(
            kind,
            method,
            a_c,
            None,
            metric_columns=list(columns.values()),
            metric_args=list(columns),
            variant=variant,
            control=control,
            **opts,
        )
    if any(v is not None for v in columns.values()) or variant is not None:
        raise InputError(f"{', '.join(columns)} and variant are for data-frame input")
    if isinstance(a_c, tuple(_STATS_TYPES.values())) and not isinstance(a_c, _STATS_TYPES[kind]):
        raise InputTypeError(
            f"{names[0]} is a {type(a_c).__name__}; this test needs {_STATS_TYPES[kind].__name__}"
        )
    if isinstance(a_c, _STATS_TYPES[kind]):
        if a_t is not None or b_t is not None:
            stats = _STATS_TYPES[kind].__name__
            raise InputError(f"with {stats}, pass {kind}(control_stats, treatment_stats)")
        return _dispatch(
            kind,
            method,
            a_c,
            b_c,
            metric_columns=[],
            metric_args=[],
            variant=None,
            control=None,
            **opts,
        )
    if b_c is None or a_t is None or b_t is None:
        raise InputError(f"pass {call} with four arrays")
    if isinstance(a_t, Mapping) or isinstance(b_t, Mapping):
        if not (isinstance(a_t, Mapping) and isinstance(b_t, Mapping)):
            raise InputError(f"{names[2]} and {names[3]} must both be mappings for several arms")
        if set(a_t) != set(b_t):
            raise InputError(f"{names[2]} and {names[3]} mappings must have the same arm labels")
        treat: Any = {k: (a_t[k], b_t[k]) for k in a_t}
    else:
        treat = (a_t, b_t)
    return _dispatch(
        kind,
        method,
        (a_c, b_c),
        treat,
        metric_columns=[],
        metric_args=[],
        variant=None,
        control=None,
        **opts,
    )


for _f in (ttest, ztest, proportions, ratio, cuped):
    if _f.__doc__:
        _f.__doc__ = _f.__doc__.replace("    {common}\n", _COMMON_DOC.lstrip("\n"))
