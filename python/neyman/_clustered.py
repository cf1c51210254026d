"""Cluster-robust comparisons of arms: ``Experiment(cluster=...)`` and ``cluster=`` of the
functions.

Every metric becomes a least-squares fit from per-cluster sums (``ClusterStats``, one pass in
Rust, memory in proportion to the clusters): the metric on arm indicators (arm means), with
centred covariates for CUPED (the additive model, ANCOVA) and regression adjustment (Lin's
interacted model or the additive one), or, for a ratio metric, the weighted fit of
``numerator / denominator`` on arm indicators with the denominators as weights (its coefficients
are ``sum(numerator) / sum(denominator)`` per arm, its cluster scores the linearised
``sum(numerator - ratio x denominator)`` of each cluster: the delta method, cluster-robust). The
core finalizes CR0-CR3 and the Bell-McCaffrey degrees of freedom of each treatment-minus-control
contrast, the relative effect (delta or Fieller, with the arms' covariance), the design effect
and the intra-cluster correlation.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from neyman import _neyman
from neyman._convert import VariantCodes, cluster_codes, encode_labels, frame_column, get_column
from neyman._engine import NAN_FIELDS, Options, apply_nan_policy, plural
from neyman._results import ClusteredResult, TestResult
from neyman._validate import check_choice
from neyman.errors import InputError, InputTypeError, InsufficientDataError, NeymanError

__all__ = ["VCOV_TYPES", "check_cluster", "clustered_arrays", "clustered_results"]

VCOV_TYPES = ("CR0", "CR1", "CR2", "CR3")

FloatArray = npt.NDArray[np.float64]


def check_cluster(cluster: object, vcov: object) -> None:
    """``cluster`` a column name (or None), ``vcov`` one of 'CR0'-'CR3'."""
    check_choice("vcov", vcov, VCOV_TYPES)
    if cluster is not None and not isinstance(cluster, str):
        raise InputTypeError(
            f"cluster must be the name of the column of cluster ids, got {type(cluster).__name__}"
        )


def clustered_results(
    data: Any,
    codes: VariantCodes,
    *,
    label: str,
    columns: Sequence[str],
    cluster: str,
    ratio: bool = False,
    binary: bool = False,
    categorical: Sequence[str] = (),
    **kwargs: Any,
) -> list[TestResult]:
    """Every treatment arm of a frame against the control, cluster-robust: ``columns`` are the
    metric (or numerator and denominator when ``ratio``) then the numeric covariates, ``cluster``
    the column of cluster ids, ``categorical`` columns entered as indicators of their levels but
    the first (see :func:`level_indicators`); the rest as :func:`clustered_arrays`."""
    if not isinstance(cluster, str):
        raise InputTypeError(
            f"cluster must be the name of the column of cluster ids, got {type(cluster).__name__}"
        )
    if cluster not in data.columns:
        raise InputError(f"cluster == {cluster!r} is not a column of the data")
    args = ["metric", "denominator"] if ratio else ["metric"]
    args += ["covariate"] * (len(columns) - len(args))
    values = [
        frame_column(data, c, arg=a, allow_bool=binary and i == 0)
        for i, (c, a) in enumerate(zip(columns, args, strict=True))
    ]
    names = list(columns)
    for col in categorical:
        for name, ind in level_indicators(data, col):
            names.append(name)
            values.append(ind)
    if len(names) - len(columns) > MAX_INDICATORS:
        raise InputError(
            f"categorical columns {list(categorical)} have {len(names) - len(columns)} levels "
            f"beyond their first; with cluster= at most {MAX_INDICATORS} are taken"
        )
    ids = get_column(data, cluster).to_numpy()
    return clustered_arrays(
        values,
        names,
        ids,
        codes,
        label=label,
        cluster=cluster,
        ratio=ratio,
        binary=binary,
        **kwargs,
    )


# Indicator columns of categorical covariates: each adds its own column (and, in Lin's model, one
# per treatment arm) to every cluster's packed cross-products, so their number is bounded.
MAX_INDICATORS = 64


def level_indicators(data: Any, column: str) -> list[tuple[str, FloatArray]]:
    """The 0/1 indicators ``"column=level"`` of every level of a categorical column but the first
    (sorted levels), NaN where the level is missing (so ``nan_policy`` applies to those rows). In
    Lin's model, whose covariates are centred, the treatment coefficient with these indicators is
    the post-stratified estimator."""
    if column not in data.columns:
        raise InputError(f"categorical column {column!r} is not a column of the data")
    codes, levels = encode_labels(get_column(data, column), name=f"categorical column {column!r}")
    if len(levels) - 1 > MAX_INDICATORS:
        raise InputError(
            f"categorical column {column!r} has {len(levels)} levels; with cluster= at most "
            f"{MAX_INDICATORS + 1} are taken (each level but the first is a column of every "
            "cluster's sums)"
        )
    missing = codes < 0
    out = []
    for k in range(1, len(levels)):
        ind = (codes == k).astype(np.float64)
        ind[missing] = np.nan
        out.append((f"{column}={levels[k]}", ind))
    return out


def clustered_arrays(
    values: Sequence[FloatArray],
    columns: Sequence[str],
    ids: Any,
    codes: VariantCodes,
    *,
    label: str,
    cluster: str,
    vcov: str,
    opts: Options,
    method: str,
    ratio: bool = False,
    binary: bool = False,
    interacted: bool = False,
    covariate: str = "",
) -> list[TestResult]:
    """Every treatment arm against the control, cluster-robust, from the columns' values (the
    metric, or numerator and denominator when ``ratio``, then numeric covariates), the cluster id
    of each row and the arm codes; ``binary`` checks a 0/1 metric."""
    check_choice("vcov", vcov, VCOV_TYPES)
    y = values[0]
    numeric = list(zip(columns[2 if ratio else 1 :], values[2 if ratio else 1 :], strict=True))
    if binary:
        finite = y[~np.isnan(y)]
        bad = int(np.count_nonzero((finite != 0.0) & (finite != 1.0)))
        if bad:
            verb = "is" if bad == 1 else "are"
            raise InputError(
                f"metric {label!r} has {plural(bad, 'value')} that {verb} neither 0 nor 1"
            )
    if ratio and bool(np.any(values[1] < 0)):
        n_neg = int(np.count_nonzero(values[1] < 0))
        raise InputError(
            f"{columns[1]} has {plural(n_neg, 'negative value')}; a ratio metric's denominator "
            "cannot be negative"
        )
    ccodes, keys = cluster_codes(ids, len(y), f"cluster column {cluster!r}")
    labels = [str(lab) for lab in codes.labels]
    arms = codes.codes.astype(np.int32, copy=False)
    for v, name in zip(values, columns, strict=True):
        n_inf = int(np.count_nonzero(np.isinf(v)))
        if n_inf:
            raise InputError(f"column {name!r} has {plural(n_inf, 'infinite value')}")
    incomplete = np.zeros(len(y), dtype=bool)
    for v in values:
        incomplete |= np.isnan(v)
    in_arm = arms >= 0
    nan_per_arm = np.bincount(arms[incomplete & in_arm], minlength=len(labels))
    propagate = False
    for k, lab in enumerate(labels):
        rows = int(nan_per_arm[k])
        what = f"{plural(rows, 'row')} with NaN in the metric or a covariate"
        propagate |= apply_nan_policy(
            f"arm {lab!r} of metric {label!r}", rows, opts.nan_policy, functools.partial(str, what)
        )
    complete = ~incomplete & in_arm
    n_arm = np.bincount(arms[complete], minlength=len(labels)).astype(np.uint64)
    common: dict[str, Any] = {
        "metric": label,
        "control": labels[0],
        "alternative": opts.alternative,
        "confidence_level": opts.confidence_level,
        "relative_ci": opts.relative_ci,
        "cluster": cluster,
        "vcov_type": vcov,
        "covariate": covariate,
        "method": f"{method}-{vcov}",
    }
    if propagate:
        nan: dict[str, Any] = dict.fromkeys(NAN_FIELDS, math.nan)
        total = np.bincount(arms[in_arm], minlength=len(labels))
        return [
            ClusteredResult(
                **common,
                **nan,
                treatment=labels[k],
                n_control=int(total[0]),
                n_treatment=int(total[k]),
                n_clusters=len(keys),
                icc=math.nan,
                design_effect=math.nan,
                effective_n=math.nan,
            )
            for k in range(1, len(labels))
        ]
    for k, lab in enumerate(labels):
        if n_arm[k] < 2:
            word = "observation" if n_arm[k] == 1 else "observations"
            raise InsufficientDataError(
                f"arm {lab!r} of metric {label!r} has {int(n_arm[k])} {word}; at least 2 are needed"
            )
    try:
        if ratio:
            stats = _neyman.scan_ratio_cluster(y, values[1], arms, labels, ccodes, keys)
        else:
            stats = _neyman.scan_cluster(
                y, numeric, (arms, labels), interacted, False, ccodes, keys
            )
        out = _neyman.cluster_compare(stats, vcov, [int(v) for v in n_arm], opts.core())
    except NeymanError as exc:
        raise type(exc)(f"metric {label!r}: {exc}") from None
    kwargs = {
        "label": label,
        "cluster": cluster,
        "vcov": vcov,
        "method": method,
        "ratio": ratio,
        "binary": binary,
        "interacted": interacted,
        "covariate": covariate,
    }
    results: list[TestResult] = []
    for k, comp in enumerate(out["comparisons"], start=1):
        fields = dict(comp)
        for f in ("n_control", "n_treatment"):
            fields[f] = int(fields[f])
        refit = functools.partial(_refit, values, columns, ids, codes, kwargs, opts, k - 1)
        results.append(
            ClusteredResult(
                **common,
                **fields,
                treatment=labels[k],
                n_clusters=int(out["n_clusters"]),
                icc=float(out["icc"]),
                _refit=refit,
            )
        )
    return results


def _refit(
    values: Sequence[FloatArray],
    columns: Sequence[str],
    ids: Any,
    codes: VariantCodes,
    kwargs: dict[str, Any],
    opts: Options,
    k: int,
    confidence_level: float,
) -> TestResult:
    level = dataclasses.replace(opts, confidence_level=confidence_level)
    return clustered_arrays(values, columns, ids, codes, opts=level, **kwargs)[k]
