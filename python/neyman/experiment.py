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
from typing import Any

import numpy as np

from neyman import _neyman
from neyman._clustered import check_cluster
from neyman._convert import (
    VariantCodes,
    as_frame,
    cluster_codes,
    get_column,
    resolve_planned_split,
    variant_codes,
)
from neyman._engine import Options, check_two_arms
from neyman._results import AnalysisResult, SRMResult, experiment_html, experiment_text
from neyman._validate import check_unit_interval
from neyman.errors import InputError, InputTypeError
from neyman.metrics import Metric, check_metric

__all__ = ["Experiment", "srm"]


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

    The frame is not copied: every call (:meth:`analyze`, :meth:`srm`) reads the arm column and the
    metric columns as they are at that moment, so the arms, the SRM check and the effects of one
    call always describe the same rows. Construction checks the arguments against the frame.

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
    cluster : str, optional
        Column of cluster ids (cities, households, users of a session-level frame): every metric
        of :meth:`analyze` gets cluster-robust variance (a :class:`ClusteredResult` with the
        design effect and the intra-cluster correlation), and when every cluster lies in one arm
        (randomisation by cluster) the SRM check counts clusters, not rows.
    vcov : {'CR2', 'CR1', 'CR0', 'CR3'}, default 'CR2'
        Cluster-robust variance with ``cluster``: CR2 (Bell and McCaffrey 2002) with the
        Bell-McCaffrey degrees of freedom holds its level with few clusters, where CR1 (Stata's)
        over-rejects; CR3 is the cluster jackknife. See :func:`neyman.ols`.

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
        cluster: str | None = None,
        vcov: str = "CR2",
    ) -> None:
        check_cluster(cluster, vcov)
        frame = as_frame(data)
        self._native = data
        self._frame = frame
        self.variant = variant
        self.control = control
        self._planned_split = planned_split
        codes = self._codes()
        resolve_planned_split(planned_split, list(codes.labels))
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
        if cluster is not None and cluster not in frame.columns:
            raise InputError(f"cluster == {cluster!r} is not a column of the data")
        self.cluster = cluster
        self.vcov = vcov

    def _codes(self) -> VariantCodes:
        """The arms of the frame as it is now (control first), at least two of them."""
        codes = variant_codes(self._frame, self.variant, self.control)
        check_two_arms(codes.labels, self.variant, self.control)
        return codes

    @property
    def arms(self) -> list[Any]:
        """Arm labels in the frame as it is now, control first."""
        return list(self._codes().labels)

    def srm(self) -> SRMResult:
        """The sample-ratio-mismatch check of the arm sizes against ``planned_split``."""
        return self._srm(self._codes())

    def _srm(self, codes: VariantCodes) -> SRMResult:
        arms = list(codes.labels)
        weights = resolve_planned_split(self._planned_split, arms)
        counts = codes.counts()
        if self.cluster is not None:
            # Randomised by cluster (each cluster in one arm): the split is one of clusters.
            ids, _ = cluster_codes(
                get_column(self._frame, self.cluster).to_numpy(),
                len(codes.codes),
                f"cluster column {self.cluster!r}",
            )
            pairs = np.unique(ids.astype(np.int64) * len(arms) + codes.codes)
            if len(np.unique(pairs // len(arms))) == len(pairs):
                counts = [int(c) for c in np.bincount(pairs % len(arms), minlength=len(arms))]
        observed = dict(zip(arms, counts, strict=True))
        return srm(observed, dict(zip(arms, weights, strict=True)), alpha=self.srm_alpha)

    def analyze(
        self,
        *metrics: Metric,
        alternative: str = "two-sided",
        confidence_level: float = 0.95,
        relative_ci: str = "delta",
        nan_policy: str = "propagate",
    ) -> AnalysisResult:
        """Compare every treatment arm with the control on each metric.

        Each metric is aggregated to per-arm statistics in one pass over the rows, then finalized
        (see :class:`neyman.Metric`); regression adjustments fit on the rows.

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
        opts = Options.checked(alternative, confidence_level, relative_ci, nan_policy)
        checked = [check_metric(m) for m in metrics]
        codes = self._codes()
        out = []
        for m in checked:
            out.extend(m._analyze(self._frame, codes, opts, cluster=self.cluster, vcov=self.vcov))
        return AnalysisResult(tuple(out), srm=self._srm(codes))

    def _display(self) -> dict[str, Any]:
        codes = self._codes()
        counts = dict(zip(codes.labels, codes.counts(), strict=True))
        return {
            "variant": self.variant,
            "control": self.control,
            "counts": counts,
            "n_rows": sum(counts.values()),
            "unit": self.unit,
            "srm": self._srm(codes),
        }

    def __repr__(self) -> str:
        return experiment_text(**self._display())

    def _repr_html_(self) -> str:
        return experiment_html(**self._display())
