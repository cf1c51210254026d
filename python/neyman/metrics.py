"""Metrics: what an experiment compares, as small objects.

A metric names the columns it reads, **aggregates** a frame into per-arm statistics (one pass in
Rust), and **finalizes** the comparison of every treatment arm with the control from statistics.
Because the statistics merge and pickle, the two steps can happen in different places: aggregate
each day's file, each Dask or Spark partition, or each process, merge (:func:`neyman.merge_arms`),
then :meth:`Metric.compare`. ``Experiment.analyze`` is aggregate, then finalize.

A new metric is a new subclass of :class:`Metric`: it says which estimator its options select
(``_estimator``) and which columns it reads (``columns``); the engine does the rest.

>>> import neyman, pandas as pd
>>> df = pd.DataFrame({"arm": ["c", "t"] * 4, "revenue": [1.0, 2.0, 0.0, 3.0, 2.0, 2.5, 1.0, 4.0]})
>>> metric = neyman.Mean("revenue")
>>> stats = metric.aggregate(df, variant="arm", control="c")
>>> stats["t"]
MeanStats(n=4, mean=2.875, m2=2.1875)
>>> round(metric.compare(stats, control="c")[0].effect, 3)
1.875
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np

from neyman._clustered import clustered_results
from neyman._convert import FloatArray, VariantCodes, as_frame, frame_column, variant_codes
from neyman._engine import Options, arm_names, compare_arms, plural
from neyman._estimators import (
    CupedEstimator,
    MeanEstimator,
    ProportionEstimator,
    RatioCupedEstimator,
    RatioEstimator,
)
from neyman._results import AnalysisResult, TestResult
from neyman._validate import check_bool, check_choice, check_unit_interval, column_list
from neyman.adjustment import adjusted_results, check_adjust_options
from neyman.errors import InputError, InputTypeError, InsufficientDataError
from neyman.quantile import frame_quantile_results

__all__ = ["Mean", "Metric", "Proportion", "Quantile", "Ratio"]


class Metric(abc.ABC):
    """Base class of the metrics: columns, aggregate, compare.

    Subclasses are frozen dataclasses with a ``label`` (the name shown in results), the columns
    they read (``columns()``), and the estimator their options select (``_estimator()``).
    """

    @property
    @abc.abstractmethod
    def label(self) -> str:
        """Name shown in results."""

    @abc.abstractmethod
    def columns(self) -> tuple[str, ...]:
        """The columns this metric reads, in the order its estimator takes them."""

    @abc.abstractmethod
    def _column_args(self) -> tuple[str, ...]:
        """The argument that named each column, for messages."""

    @abc.abstractmethod
    def _estimator(self) -> Any:
        """The estimator these options select (see ``neyman._estimators``)."""

    def _allow_bool(self) -> bool:
        return False

    def _arrays(self, data: Any, args: Sequence[str] | None = None) -> list[FloatArray]:
        """The columns' values; ``args`` name them in errors (default: the metric's fields)."""
        return [
            frame_column(data, c, arg=a, allow_bool=self._allow_bool())
            for c, a in zip(self.columns(), args or self._column_args(), strict=True)
        ]

    def _scan(
        self, arrays: Sequence[FloatArray], codes: VariantCodes | None, names: Sequence[str]
    ) -> list[Any]:
        """Per-arm statistics of the columns' values (``codes=None``: one arm, all rows)."""
        return list(self._estimator().scan(arrays, self.columns(), codes, names))

    def aggregate(self, data: Any, *, variant: str, control: Any) -> dict[Any, Any]:
        """Per-arm statistics of a frame, in one pass over its rows.

        Parameters
        ----------
        data : pandas, polars or pyarrow DataFrame
            One row per unit.
        variant : str
            Column holding the arm of each row.
        control : object
            Label of the control arm (it comes first in the result).

        Returns
        -------
        dict
            Arm label to statistic (``MeanStats``, ``ProportionStats``, ``RatioStats``,
            ``CupedStats`` or ``RatioCupedStats``): frozen, mergeable, picklable.

        Examples
        --------
        >>> import neyman, pandas as pd
        >>> df = pd.DataFrame({"arm": ["c", "t", "c", "t"], "bought": [0, 1, 1, 1]})
        >>> neyman.Proportion("bought").aggregate(df, variant="arm", control="c")
        {'c': ProportionStats(successes=1, trials=2), 't': ProportionStats(successes=2, trials=2)}
        """
        self._estimator()  # the options are checked before any column is read
        frame = as_frame(data)
        codes = variant_codes(frame, variant, control)
        stats = self._scan(self._arrays(frame), codes, arm_names(self.label, codes.labels))
        return dict(zip(codes.labels, stats, strict=True))

    def compare(
        self,
        stats: Mapping[Any, Any],
        *,
        control: Any,
        alternative: str = "two-sided",
        confidence_level: float = 0.95,
        relative_ci: str = "delta",
        nan_policy: str = "propagate",
    ) -> AnalysisResult:
        """Every treatment arm against the control, finalized from per-arm statistics.

        Parameters
        ----------
        stats : mapping
            Arm label to statistic, e.g. from :meth:`aggregate`, merged across chunks.
        control : object
            Label of the control arm.
        alternative, confidence_level, relative_ci, nan_policy
            As in :func:`neyman.ttest`.

        Returns
        -------
        AnalysisResult

        Examples
        --------
        From statistics a database computed (``COUNT``, ``SUM``, ``SUM(x * x)`` per arm):

        >>> import neyman
        >>> stats = {
        ...     "control": neyman.MeanStats.from_sums(n=4000, sum=52000.0, sum_sq=1076000.0),
        ...     "treatment": neyman.MeanStats.from_sums(n=4100, sum=54940.0, sum_sq=1142284.0),
        ... }
        >>> res = neyman.Mean("revenue").compare(stats, control="control")
        >>> round(res[0].effect, 3), round(res[0].pvalue, 3)
        (0.4, 0.071)
        """
        opts = Options.checked(alternative, confidence_level, relative_ci, nan_policy)
        est = self._estimator()
        if not isinstance(stats, Mapping) or not stats:
            raise InputTypeError("stats must be a non-empty mapping of arm labels to statistics")
        if control not in stats:
            raise InputError(f"control == {control!r} is not one of the arms {list(stats)}")
        labels = [control, *[k for k in stats if k != control]]
        for k in labels:
            if not isinstance(stats[k], est.stats_type):
                raise InputTypeError(
                    f"arm {k!r} is a {type(stats[k]).__name__}; {type(self).__name__} "
                    f"{self.label!r} needs {est.stats_type.__name__}"
                )
        if len(labels) < 2:
            raise InsufficientDataError(
                f"stats holds only the control arm {control!r}; at least one treatment arm is "
                "needed"
            )
        return AnalysisResult(
            tuple(compare_arms(est, self.label, labels, [stats[k] for k in labels], opts))
        )

    def _clustered_spec(self) -> dict[str, Any]:
        """How this metric is compared with cluster-robust variance: its columns (the metric, or
        numerator and denominator, then numeric covariates) and the model (see
        ``neyman._clustered``)."""
        raise InputError(f"{type(self).__name__} {self.label!r} cannot be analysed with cluster=")

    def _analyze(
        self,
        data: Any,
        codes: VariantCodes,
        opts: Options,
        args: Sequence[str] | None = None,
        *,
        cluster: str | None = None,
        vcov: str = "CR2",
    ) -> list[TestResult]:
        """Aggregate, then finalize (``Experiment.analyze`` and the frame form of functions);
        with ``cluster``, a cluster-robust fit from per-cluster sums."""
        if cluster is not None:
            return clustered_results(
                data,
                codes,
                label=self.label,
                cluster=cluster,
                vcov=vcov,
                opts=opts,
                **self._clustered_spec(),
            )
        names = arm_names(self.label, codes.labels)
        arrays = self._arrays(data, args)
        stats = self._scan(arrays, codes, names)

        def describe_nan(k: int) -> str:
            # Only on the error path: which of the columns hold the NaN values of arm k.
            in_arm = codes.codes == k
            parts = [
                f"{plural(int(np.count_nonzero(np.isnan(a[in_arm]))), 'NaN value')} in column {c!r}"
                for a, c in zip(arrays, self.columns(), strict=True)
                if np.isnan(a[in_arm]).any()
            ]
            return " and ".join(parts)

        return compare_arms(
            self._estimator(), self.label, codes.labels, stats, opts, describe_nan=describe_nan
        )


_COV_ARGS = ("column", "covariate")


@dataclass(frozen=True)
class Mean(Metric):
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

    Examples
    --------
    >>> import neyman, pandas as pd
    >>> df = pd.DataFrame({"arm": ["c", "t"] * 3, "y": [1.0, 2.0, 2.0, 4.0, 3.0, 3.0]})
    >>> neyman.Mean("y").aggregate(df, variant="arm", control="c")["c"].mean
    2.0
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

    @property
    def label(self) -> str:
        """Name shown in results."""
        return self.name or self.column

    def _regression(self) -> bool:
        check_adjust_options(self.cov_type, self.interaction, self.missing_covariate)
        covariates = column_list("covariate", self.covariate)
        column_list("categorical", self.categorical)
        column_list("strata", self.strata)
        if isinstance(self.covariate, str) and len(covariates) != 1:
            raise InputError("covariate must name one column")
        return (
            not (isinstance(self.covariate, str) or self.covariate is None)
            or self.categorical is not None
            or self.strata is not None
            or self.missing_covariate != "nan_policy"
        )

    def _cuped(self) -> bool:
        return isinstance(self.covariate, str) and not self._regression()

    def columns(self) -> tuple[str, ...]:
        if self._cuped():
            return (self.column, cast(str, self.covariate))
        if self._regression():
            return (
                self.column,
                *column_list("covariate", self.covariate),
                *column_list("categorical", self.categorical),
                *column_list("strata", self.strata),
            )
        return (self.column,)

    def _column_args(self) -> tuple[str, ...]:
        return _COV_ARGS if self._cuped() else ("Mean.column",)

    def _estimator(self) -> Any:
        if self._regression():
            raise InputError(
                f"Mean({self.column!r}) with several covariates, categorical or strata is a "
                "regression adjustment: it needs the rows (use Experiment.analyze or "
                "neyman.regression_adjust), not per-arm statistics"
            )
        if self._cuped():
            test = check_choice("test", self.test, ("welch", "z"))
            return CupedEstimator(test, covariate=str(self.covariate))
        return MeanEstimator(check_choice("test", self.test, ("welch", "student", "z")))

    def _clustered_spec(self) -> dict[str, Any]:
        if self._regression() and self.missing_covariate != "nan_policy":
            raise InputError(
                f"Mean({self.column!r}) with cluster= takes missing covariates by nan_policy; "
                "missing_covariate='indicator' is not available with clusters"
            )
        covs = column_list("covariate", self.covariate)
        cats = column_list("categorical", self.categorical) + column_list("strata", self.strata)
        if not covs and not cats:
            return {"columns": (self.column,), "method": "mean"}
        interacted = self._regression() and self.interaction
        only_strata = bool(self.strata) and not covs and not self.categorical
        method = "post-stratified" if only_strata else ("lin" if interacted else "ancova")
        return {
            "columns": (self.column, *covs),
            "categorical": cats,
            "interacted": interacted,
            "method": method,
            "covariate": ", ".join([*covs, *cats]),
        }

    def _analyze(
        self,
        data: Any,
        codes: VariantCodes,
        opts: Options,
        args: Sequence[str] | None = None,
        *,
        cluster: str | None = None,
        vcov: str = "CR2",
    ) -> list[TestResult]:
        if cluster is not None or not self._regression():
            return super()._analyze(data, codes, opts, args, cluster=cluster, vcov=vcov)
        covs = column_list("covariate", self.covariate)
        cats = column_list("categorical", self.categorical) + column_list("strata", self.strata)
        only_strata = bool(self.strata) and not covs and not self.categorical
        method = "post-stratified" if only_strata else ("lin" if self.interaction else "ancova")
        return adjusted_results(
            data,
            codes,
            metric=self.column,
            label=self.label,
            covariates=covs,
            categorical=cats,
            interaction=self.interaction,
            cov_type=self.cov_type,
            missing=self.missing_covariate,
            opts=opts,
            method=method,
        )


@dataclass(frozen=True)
class Proportion(Metric):
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

    Examples
    --------
    >>> import neyman, pandas as pd
    >>> df = pd.DataFrame({"arm": ["c", "t"] * 3, "bought": [0, 1, 1, 1, 0, 0]})
    >>> neyman.Proportion("bought").aggregate(df, variant="arm", control="c")["t"]
    ProportionStats(successes=2, trials=3)
    """

    column: str
    name: str | None = None
    ci_method: str = "newcombe"
    covariate: str | None = None

    @property
    def label(self) -> str:
        """Name shown in results."""
        return self.name or self.column

    def columns(self) -> tuple[str, ...]:
        if self.covariate is not None:
            return (self.column, self.covariate)
        return (self.column,)

    def _column_args(self) -> tuple[str, ...]:
        return _COV_ARGS if self.covariate is not None else ("Proportion.column",)

    def _allow_bool(self) -> bool:
        return True

    def _clustered_spec(self) -> dict[str, Any]:
        if self.covariate is not None:
            return {
                "columns": (self.column, self.covariate),
                "binary": True,
                "method": "ancova",
                "covariate": self.covariate,
            }
        return {"columns": (self.column,), "binary": True, "method": "proportion"}

    def _estimator(self) -> Any:
        method = check_choice("ci_method", self.ci_method, ("newcombe", "wald"))
        if self.covariate is not None:
            return CupedEstimator("z", covariate=self.covariate)
        return ProportionEstimator(method)

    def _scan(
        self, arrays: Sequence[FloatArray], codes: VariantCodes | None, names: Sequence[str]
    ) -> list[Any]:
        if self.covariate is not None:
            # An adjusted proportion is still a 0/1 outcome: check it (NaN left to nan_policy).
            ProportionEstimator().scan(arrays[:1], self.columns()[:1], codes, names)
        return super()._scan(arrays, codes, names)


@dataclass(frozen=True)
class Ratio(Metric):
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

    Examples
    --------
    >>> import neyman, pandas as pd
    >>> df = pd.DataFrame({"arm": ["c", "t"] * 3, "clicks": [1, 2, 0, 3, 2, 2],
    ...                    "views": [5, 6, 4, 7, 6, 5]})
    >>> s = neyman.Ratio("clicks", "views").aggregate(df, variant="arm", control="c")
    >>> round(s["t"].mean_num / s["t"].mean_den, 4)
    0.3889
    """

    numerator: str
    denominator: str
    name: str | None = None
    numerator_covariate: str | None = None
    denominator_covariate: str | None = None

    @property
    def label(self) -> str:
        """Name shown in results."""
        return self.name or f"{self.numerator}/{self.denominator}"

    def _adjusted(self) -> bool:
        if (self.numerator_covariate is None) != (self.denominator_covariate is None):
            raise InputError(
                "Ratio: give both numerator_covariate and denominator_covariate, or neither"
            )
        return self.numerator_covariate is not None

    def columns(self) -> tuple[str, ...]:
        cols = (self.numerator, self.denominator)
        if self._adjusted():
            covs = (self.numerator_covariate, self.denominator_covariate)
            return (*cols, *cast(tuple[str, str], covs))
        return cols

    def _column_args(self) -> tuple[str, ...]:
        args = ("numerator", "denominator")
        if self._adjusted():
            return (*args, "numerator_covariate", "denominator_covariate")
        return args

    def _clustered_spec(self) -> dict[str, Any]:
        if self._adjusted():
            raise InputError(
                f"Ratio {self.label!r} with cluster= is not adjusted by pre-period covariates; "
                "drop numerator_covariate and denominator_covariate"
            )
        return {"columns": (self.numerator, self.denominator), "ratio": True, "method": "ratio"}

    def _estimator(self) -> Any:
        if self._adjusted():
            return RatioCupedEstimator(
                covariate=f"{self.numerator_covariate}/{self.denominator_covariate}"
            )
        return RatioEstimator()


def check_metric(m: object) -> Metric:
    """A metric object, or an error naming what was given."""
    if not isinstance(m, Metric):
        raise InputTypeError(
            f"metrics must be neyman.Mean, Proportion or Ratio, got {type(m).__name__}"
        )
    if isinstance(m, Mean):
        check_bool("interaction", m.interaction)
    return m


@dataclass(frozen=True)
class Quantile(Metric):
    """A quantile of a metric (p50, p99 latency) compared between arms: the difference and
    relative difference of the arms' quantiles with the analytic order-statistic interval of
    :func:`neyman.quantile` (Deng et al. 2018), no resampling.

    A quantile has no mergeable sufficient statistic (its exact value needs the rows), so this
    metric is compared from the rows, in :meth:`neyman.Experiment.analyze` or with
    :func:`neyman.quantile`; :meth:`aggregate` refuses it. The relative interval is the delta
    method's.

    Parameters
    ----------
    column : str
        Outcome column.
    q : float, default 0.5
        The quantile, in (0, 1).
    name : str, optional
        Display name (default ``"column p99"`` for ``q=0.99``).

    Examples
    --------
    >>> import numpy as np, pandas as pd, neyman
    >>> rng = np.random.default_rng(3)
    >>> arm = rng.choice(["c", "t"], 100_000)
    >>> latency = rng.lognormal(3.0, 0.5, 100_000) * np.where(arm == "t", 0.95, 1.0)
    >>> df = pd.DataFrame({"arm": arm, "latency_ms": latency})
    >>> res = neyman.Experiment(df, variant="arm", control="c").analyze(
    ...     neyman.Quantile("latency_ms", q=0.5), neyman.Quantile("latency_ms", q=0.99))
    >>> [r.metric for r in res], [round(r.rel_effect, 3) for r in res]
    (['latency_ms p50', 'latency_ms p99'], [-0.049, -0.038])
    """

    column: str
    q: float = 0.5
    name: str | None = None

    @property
    def label(self) -> str:
        """Name shown in results."""
        return self.name or f"{self.column} p{100 * float(self.q):g}"

    def columns(self) -> tuple[str, ...]:
        return (self.column,)

    def _column_args(self) -> tuple[str, ...]:
        return ("Quantile.column",)

    def _estimator(self) -> Any:
        raise InputError(
            f"Quantile {self.label!r} has no mergeable per-arm statistic (a quantile needs the "
            "rows): compare it with Experiment.analyze or neyman.quantile"
        )

    def _analyze(
        self,
        data: Any,
        codes: VariantCodes,
        opts: Options,
        args: Sequence[str] | None = None,
        *,
        cluster: str | None = None,
        vcov: str = "CR2",
    ) -> list[TestResult]:
        if cluster is not None:
            raise InputError(
                f"Quantile {self.label!r} cannot be analysed with cluster= (the order-statistic "
                "interval assumes independent units)"
            )
        q = check_unit_interval("q", self.q)
        values = frame_column(data, self.column, arg="Quantile.column")
        rows = frame_quantile_results(
            values, codes.codes, codes.labels, metric=self.label, q=q, opts=opts
        )
        return list(rows)
