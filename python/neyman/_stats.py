"""The statistics: frozen, mergeable, picklable objects backed by the Rust core's structs.

Every estimator finalizes from one of these, whether it was filled by a pass over rows, built from
SQL aggregates (``from_sums``), merged from chunks or partitions (``a.merge(b)``), or sent between
processes (they pickle, and compare equal after the round trip). Merging happens in the core.

- ``MeanStats``: n, mean, M2 (``ttest``, ``ztest``, ``Mean``);
- ``ProportionStats``: successes, trials (``proportions``, ``Proportion``);
- ``RatioStats``: n, means and co-moments of numerator and denominator (``ratio``, ``Ratio``);
- ``CupedStats``: the same for a metric and its covariate (``cuped``, ``Mean(covariate=...)``);
- ``RatioCupedStats``: a ratio and its pre-period ratio (``Ratio(numerator_covariate=...)``);
- ``RegressionStats``: per-arm sums for regression adjustment (``regression_adjust``);
- ``ClusterStats``: per-cluster cross-products of a linear model (``ols``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from neyman._neyman import (
    ClusterStats,
    CupedStats,
    MeanStats,
    ProportionStats,
    RatioCupedStats,
    RatioStats,
    RegressionStats,
)
from neyman.errors import InputError, InputTypeError

__all__ = [
    "STATS_TYPES",
    "ClusterStats",
    "CupedStats",
    "MeanStats",
    "ProportionStats",
    "RatioCupedStats",
    "RatioStats",
    "RegressionStats",
    "merge_arms",
]

STATS_TYPES = (
    MeanStats,
    ProportionStats,
    RatioStats,
    CupedStats,
    RatioCupedStats,
    RegressionStats,
)


def merge_arms(parts: Iterable[Mapping[Any, Any]]) -> dict[Any, Any]:
    """Merge per-arm statistics of several chunks (files, partitions, days) arm by arm.

    Parameters
    ----------
    parts : iterable of mappings
        Each maps arm labels to statistics, as :meth:`neyman.Mean.aggregate` returns them. An arm
        absent from a chunk is simply not merged there.

    Returns
    -------
    dict
        Arm label to merged statistic, in the order the arms were first seen.

    Examples
    --------
    >>> import neyman, pandas as pd
    >>> metric = neyman.Mean("revenue")
    >>> day1 = pd.DataFrame({"arm": ["c", "t", "c", "t"], "revenue": [1.0, 2.0, 3.0, 5.0]})
    >>> day2 = pd.DataFrame({"arm": ["c", "t"], "revenue": [2.0, 4.0]})
    >>> parts = [metric.aggregate(d, variant="arm", control="c") for d in (day1, day2)]
    >>> merged = neyman.merge_arms(parts)
    >>> merged["t"]
    MeanStats(n=3, mean=3.6666666666666665, m2=4.666666666666667)
    """
    out: dict[Any, Any] = {}
    for part in parts:
        if not isinstance(part, Mapping):
            raise InputTypeError(
                f"each part must map arm labels to statistics, got {type(part).__name__}"
            )
        for arm, stats in part.items():
            if not isinstance(stats, STATS_TYPES):
                raise InputTypeError(
                    f"arm {arm!r}: {type(stats).__name__} is not a neyman statistic"
                )
            out[arm] = out[arm].merge(stats) if arm in out else stats
    if not out:
        raise InputError("parts: nothing to merge")
    return out
