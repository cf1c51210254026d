"""The experiment-level API: one frame, several metrics, every treatment arm against the control.

>>> import neyman, pandas as pd
>>> df = pd.DataFrame({
...     "arm": ["control", "treatment"] * 4,
...     "revenue": [1.0, 2.0, 0.0, 3.0, 2.0, 2.5, 1.0, 4.0],
...     "converted": [0, 1, 0, 1, 1, 1, 0, 0],
... })
>>> res = neyman.Experiment(df, variant="arm", control="control").analyze(
...     neyman.Mean("revenue"), neyman.Proportion("converted")
... )
>>> [(c.metric, round(c.effect, 3)) for c in res]
[('revenue', 1.875), ('converted', 0.5)]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from neyman import _neyman
from neyman._adjust import _as_list, adjusted_results, check_adjust_options
from neyman._convert import (
    as_frame,
    frame_column,
    resolve_planned_split,
    variant_codes,
)
from neyman._engine import Kind, Options, compare_arms, grouped_arm_stats
from neyman._results import AnalysisResult, SRMResult
from neyman._validate import (
    check_choice,
    check_options,
    check_unit_interval,
)
from neyman.errors import InputError, InputTypeError

__all__ = ["Experiment", "Mean", "Proportion", "Ratio", "srm"]


@dataclass(frozen=True)
class Mean:
    """A metric compared by its mean per arm (Welch's t-test by default), optionally adjusted.

    Parameters
    ----------
    column : str
        Outcome column, one value per unit.
    name : str, optional
        Display name (default: the column).
    test : {'welch', 'student', 'z'}, default 'welch'
        Welch's t-test, Student's pooled t-test, or the z-test (CUPED: 'welch' or 'z').
    covariate : str or list of str, optional
        Pre-experiment column(s). One column: CUPED (see :func:`neyman.cuped`). A list (or with
        ``categorical``/``strata``): regression adjustment (see :func:`neyman.regression_adjust`).
        The unadjusted result is kept beside the adjusted one.
    categorical : str or list of str, optional
        Categorical covariates for regression adjustment (one-hot inside the kernel).
    strata : str, optional
        Post-stratify on this categorical column (Lin's estimator with one categorical covariate).
    cov_type : {'HC2', 'HC1', 'HC0'}, default 'HC2'
        Robust variance for regression adjustment.
    interaction : bool, default True
        Regression adjustment with treatment-by-covariate interactions (Lin) or additive.
    missing_covariate : {'nan_policy', 'indicator'}, default 'nan_policy'
        Regression adjustment: units with a NaN covariate follow ``nan_policy``, or are kept with
        an indicator covariate (``'indicator'``).
    """

    column: str
    name: str | None = None
    test: str = "welch"
    covariate: str | Sequence[str] | None = None
    categorical: str | Sequence[str] | None = None
    strata: str | None = None
    cov_type: str = "HC2"
    interaction: bool = True
    missing_covariate: str = "nan_policy"

    def _regression(self) -> bool:
        check_adjust_options(self.cov_type, self.interaction, self.missing_covariate)
        covariates = _as_list("covariate", self.covariate)
        _as_list("categorical", self.categorical)
        _as_list("strata", self.strata)
        if isinstance(self.covariate, str) and len(covariates) != 1:
            raise InputError("covariate must name one column")
        return (
            not (isinstance(self.covariate, str) or self.covariate is None)
            or self.categorical is not None
            or self.strata is not None
            or self.missing_covariate != "nan_policy"
        )

    def _spec(self) -> tuple[Kind, str, list[str], list[str]]:
        if isinstance(self.covariate, str) and not self._regression():
            method = check_choice("test", self.test, ("welch", "z"))
            return "cuped", f"cuped-{method}", [self.column, self.covariate], _COV_ARGS
        method = check_choice("test", self.test, ("welch", "student", "z"))
        return "mean", method, [self.column], ["Mean.column"]

    @property
    def label(self) -> str:
        """Name shown in results."""
        return self.name or self.column


_COV_ARGS = ["column", "covariate"]


@dataclass(frozen=True)
class Proportion:
    """A 0/1 metric compared by the pooled z-test for two proportions.

    Parameters
    ----------
    column : str
        0/1 (or boolean) outcome column.
    name : str, optional
        Display name.
    ci_method : {'newcombe', 'wald'}, default 'newcombe'
        Interval on the difference (unadjusted comparisons).
    covariate : str, optional
        A pre-experiment column: the difference of proportions is CUPED-adjusted (z reference,
        unpooled variance), with the unadjusted result beside it.
    """

    column: str
    name: str | None = None
    ci_method: str = "newcombe"
    covariate: str | None = None

    def _spec(self) -> tuple[Kind, str, list[str], list[str]]:
        method = check_choice("ci_method", self.ci_method, ("newcombe", "wald"))
        if self.covariate is not None:
            return "cuped", "cuped-z", [self.column, self.covariate], _COV_ARGS
        return "proportion", method, [self.column], ["Proportion.column"]

    @property
    def label(self) -> str:
        """Name shown in results."""
        return self.name or self.column


@dataclass(frozen=True)
class Ratio:
    """A ratio metric, ``sum(numerator) / sum(denominator)`` per arm, by the delta method.

    Parameters
    ----------
    numerator, denominator : str
        Columns with one value per randomisation unit (e.g. clicks and impressions per user).
    name : str, optional
        Display name (default ``"numerator/denominator"``).
    numerator_covariate, denominator_covariate : str, optional
        Pre-experiment numerator and denominator (give both): the ratio is CUPED-adjusted by the
        pre-period ratio, as in tea-tasting and GrowthBook.
    """

    numerator: str
    denominator: str
    name: str | None = None
    numerator_covariate: str | None = None
    denominator_covariate: str | None = None

    def _spec(self) -> tuple[Kind, str, list[str], list[str]]:
        cols = [self.numerator, self.denominator]
        args = ["numerator", "denominator"]
        if (self.numerator_covariate is None) != (self.denominator_covariate is None):
            raise InputError(
                "Ratio: give both numerator_covariate and denominator_covariate, or neither"
            )
        if self.numerator_covariate is not None and self.denominator_covariate is not None:
            cols += [self.numerator_covariate, self.denominator_covariate]
            args += ["numerator_covariate", "denominator_covariate"]
            return "ratio_cuped", "ratio-cuped", cols, args
        return "ratio", "delta", cols, args

    @property
    def label(self) -> str:
        """Name shown in results."""
        return self.name or f"{self.numerator}/{self.denominator}"


Metric = Mean | Proportion | Ratio


def srm(
    observed: Mapping[Any, int] | Sequence[int],
    planned_split: Mapping[Any, float] | Sequence[float] | None = None,
    *,
    alpha: float = 0.001,
) -> SRMResult:
    """Sample-ratio mismatch check: chi-square goodness of fit of arm sizes to the plan.

    Parameters
    ----------
    observed : mapping or sequence of int
        Units per arm (``{"control": 5012, "treatment": 4988}``).
    planned_split : mapping or sequence of float, optional
        Planned allocation weights (any positive scale); equal split when omitted.
    alpha : float, default 0.001
        ``mismatch`` is flagged when the p-value is below it.

    Returns
    -------
    SRMResult
        ``statistic``, ``pvalue``, ``df``, ``observed``, ``expected``, ``mismatch``.

    Notes
    -----
    Pearson's ``X^2 = sum (o_i - N p_i)^2 / (N p_i)`` on ``k - 1`` degrees of freedom. A mismatch
    means assignment or logging is broken; effects measured on such data are not trustworthy.

    References
    ----------
    Fabijan, A. et al. (2019). Diagnosing sample ratio mismatch in online controlled experiments.
    KDD 2019.

    Examples
    --------
    >>> import neyman
    >>> res = neyman.srm({"control": 5100, "treatment": 4900})
    >>> round(res.statistic, 3), round(res.pvalue, 4), res.mismatch
    (4.0, 0.0455, False)
    """
    alpha = check_unit_interval("alpha", alpha)
    labels = list(observed.keys()) if isinstance(observed, Mapping) else list(range(len(observed)))
    counts_raw = list(observed.values()) if isinstance(observed, Mapping) else list(observed)
    counts: list[int] = []
    for c in counts_raw:
        if isinstance(c, bool) or not hasattr(c, "__index__"):
            raise InputTypeError(f"observed counts must be integers, got {c!r}")
        if int(c) < 0:
            raise InputError(f"observed counts must be non-negative, got {int(c)}")
        counts.append(int(c))
    weights = resolve_planned_split(planned_split, labels)
    statistic, pvalue, df = _neyman.srm_test([float(c) for c in counts], weights)
    total, wsum = sum(counts), sum(weights)
    return SRMResult(
        statistic=statistic,
        pvalue=pvalue,
        df=df,
        observed=dict(zip(labels, counts, strict=True)),
        expected={lab: total * w / wsum for lab, w in zip(labels, weights, strict=True)},
        alpha=alpha,
        mismatch=bool(pvalue < alpha),
    )


class Experiment:
    """An experiment held in one data frame: one row per randomisation unit, a column of arms.

    Parameters
    ----------
    data : pandas, polars or pyarrow DataFrame
        One row per unit. Read through narwhals, never modified.
    variant : str
        Column holding the arm label of each row.
    control : object
        Label of the control arm; every other label is a treatment arm.
    planned_split : mapping or sequence of float, optional
        Planned allocation (``{"control": 0.5, "a": 0.25, "b": 0.25}``) for the SRM check; equal
        split when omitted.
    unit : str, optional
        Column identifying the randomisation unit; when given, each unit must appear once.
    srm_alpha : float, default 0.001
        Threshold of the sample-ratio-mismatch check.

    Examples
    --------
    >>> import neyman, polars as pl
    >>> df = pl.DataFrame({"arm": ["c", "t", "c", "t", "c", "t"],
    ...                    "clicks": [1, 2, 0, 3, 2, 2], "views": [5, 6, 4, 7, 6, 5]})
    >>> res = neyman.Experiment(df, variant="arm", control="c").analyze(
    ...     neyman.Ratio("clicks", "views"))
    >>> round(res[0].control_value, 4), round(res[0].treatment_value, 4)
    (0.2, 0.3889)
    """

    def __init__(
        self,
        data: Any,
        *,
        variant: str,
        control: Any,
        planned_split: Mapping[Any, float] | Sequence[float] | None = None,
        unit: str | None = None,
        srm_alpha: float = 0.001,
    ) -> None:
        frame = as_frame(data)
        self._native = data
        self._codes = variant_codes(data, variant, control)
        self.variant = variant
        self.control = control
        self.arms: list[Any] = list(self._codes.labels)
        self._weights = resolve_planned_split(planned_split, self.arms)
        self.srm_alpha = check_unit_interval("srm_alpha", srm_alpha)
        if unit is not None:
            if unit not in frame.columns:
                raise InputError(f"unit == {unit!r} is not a column of the data")
            n_unique = frame.get_column(unit).n_unique()
            if n_unique != len(frame):
                raise InputError(
                    f"unit column {unit!r} has {len(frame) - n_unique} repeated values; aggregate "
                    "to one row per unit before analysing"
                )
        self.unit = unit

    def srm(self) -> SRMResult:
        """The sample-ratio-mismatch check of the arm sizes against ``planned_split``."""
        counts = self._codes.counts()
        observed = dict(zip(self.arms, counts, strict=True))
        return srm(observed, dict(zip(self.arms, self._weights, strict=True)), alpha=self.srm_alpha)

    def analyze(
        self,
        *metrics: Metric,
        alternative: str = "two-sided",
        confidence_level: float = 0.95,
        relative_ci: str = "delta",
        nan_policy: str = "propagate",
    ) -> AnalysisResult:
        """Compare every treatment arm with the control on each metric.

        Parameters
        ----------
        *metrics : Mean, Proportion or Ratio
            The metrics to analyse.
        alternative, confidence_level, relative_ci, nan_policy
            As in :func:`neyman.ttest`.

        Returns
        -------
        AnalysisResult
            One :class:`TestResult` per metric and treatment arm, and the SRM check.
        """
        if not metrics:
            raise InputError("pass at least one metric (neyman.Mean, Proportion or Ratio)")
        opts = Options(*check_options(alternative, confidence_level, relative_ci, nan_policy))
        out = []
        for m in metrics:
            if not isinstance(m, Mean | Proportion | Ratio):
                raise InputTypeError(
                    f"metrics must be neyman.Mean, Proportion or Ratio, got {type(m).__name__}"
                )
            if isinstance(m, Mean) and m._regression():
                covs = _as_list("covariate", m.covariate)
                cats = _as_list("categorical", m.categorical) + _as_list("strata", m.strata)
                out.extend(
                    adjusted_results(
                        self._native,
                        self._codes,
                        metric=m.column,
                        label=m.label,
                        covariates=covs,
                        categorical=cats,
                        interaction=m.interaction,
                        cov_type=m.cov_type,
                        missing=m.missing_covariate,
                        opts=opts,
                        method="post-stratified"
                        if m.strata and not covs and not m.categorical
                        else ("lin" if m.interaction else "ancova"),
                    )
                )
                continue
            kind, method, columns, args = m._spec()
            arrays = [
                frame_column(self._native, c, arg=a, allow_bool=isinstance(m, Proportion))
                for c, a in zip(columns, args, strict=True)
            ]
            if isinstance(m, Proportion) and kind == "cuped":
                _check_binary(m.column, arrays[0], self._codes)
            stats = grouped_arm_stats(kind, arrays, columns, self._codes)
            covariate = None
            if kind == "cuped":
                covariate = columns[1]
            elif kind == "ratio_cuped":
                covariate = f"{columns[2]}/{columns[3]}"
            out.extend(
                compare_arms(kind, method, m.label, self.arms, stats, opts, covariate=covariate)
            )
        return AnalysisResult(tuple(out), srm=self.srm())

    def __repr__(self) -> str:
        return f"Experiment(variant={self.variant!r}, control={self.control!r}, arms={self.arms!r})"


def _check_binary(column: str, values: Any, codes: Any) -> None:
    """A 0/1 outcome (NaN allowed; ``nan_policy`` handles it) for an adjusted proportion."""
    counts = _neyman.grouped_binary_counts(values, codes.codes, codes.n_groups)
    bad = sum(c[4] for c in counts)
    if bad:
        raise InputError(f"column {column!r} has {bad} values that are neither 0 nor 1")
