"""Anytime-valid sample-ratio-mismatch check (Lindon and Malek 2022): :func:`sequential_srm`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from neyman import _neyman
from neyman._results import SequentialSRMResult
from neyman._validate import check_finite, check_unit_interval
from neyman.errors import InputError

__all__ = ["sequential_srm"]


def sequential_srm(
    counts: Any,
    weights: Sequence[float] | Mapping[Any, float] | None = None,
    *,
    alpha: float = 0.001,
    concentration: float = 100.0,
) -> SequentialSRMResult:
    """Check the arm split at every look without inflating the false alarm rate.

    The chi-square SRM test checked daily raises false alarms far more often than its ``alpha``.
    Lindon and Malek (2022) test the planned split ``p`` against a Dirichlet-multinomial
    alternative with the Bayes factor::

        BF = Gamma(c) / Gamma(c + n) prod_i Gamma(c p_i + x_i) / Gamma(c p_i) / prod_i p_i^x_i

    after ``x_i`` units in arm ``i`` (``n`` in all), a martingale under the plan; ``min(1, 1 /
    BF)`` minimised over the looks is a p-value valid however often one looks.

    Parameters
    ----------
    counts : array_like or mapping
        Cumulative units per arm: one look (1-D, or a mapping arm -> count) or one row per look
        (2-D, looks x arms; counts never decrease).
    weights : sequence or mapping, optional
        The planned split (any positive numbers, normalised); equal by default. With a mapping of
        counts, a mapping with the same arms.
    alpha : float, default 0.001
        ``mismatch`` when ``pvalue < alpha``.
    concentration : float, default 100
        The prior ``Dirichlet(c p)``'s ``c`` (the default of Optimizely's ``ssrm``): larger values
        detect small mismatches sooner and large ones later.

    Returns
    -------
    SequentialSRMResult

    References
    ----------
    Lindon, M. and Malek, A. (2022). Anytime-valid inference for multinomial count data.
    Advances in Neural Information Processing Systems 35.

    Examples
    --------
    >>> import neyman
    >>> res = neyman.sequential_srm([[480, 520], [4900, 5100], [9700, 10300]])
    >>> res.mismatch, round(res.pvalue, 5)
    (False, 0.00183)
    """
    alpha = check_unit_interval("alpha", alpha)
    concentration = check_finite("concentration", concentration)
    labels: list[Any] | None = None
    if isinstance(counts, Mapping):
        labels = list(counts)
        table = np.array([[counts[k] for k in labels]], dtype=np.float64)
        if isinstance(weights, Mapping):
            missing = [k for k in labels if k not in weights]
            if missing or len(weights) != len(labels):
                raise InputError(f"weights must give a share for each arm {labels}")
            weights = [weights[k] for k in labels]
    else:
        table = np.atleast_2d(np.asarray(counts, dtype=np.float64))
    if table.ndim != 2 or table.shape[1] < 2 or table.shape[0] < 1:
        raise InputError(
            f"counts must hold at least one look of at least 2 arms, got {table.shape}"
        )
    k = table.shape[1]
    if weights is None:
        w = [1.0] * k
    elif isinstance(weights, Mapping):
        raise InputError("weights may be a mapping only when counts is one")
    else:
        w = [float(x) for x in weights]
    if len(w) != k:
        raise InputError(f"weights has {len(w)} entries for {k} arms")
    out = _neyman.sequential_srm_path(table.ravel().tolist(), w, concentration)
    last = table[-1]
    share = np.asarray(w) / sum(w)
    names = labels if labels is not None else [f"arm {i}" for i in range(k)]
    pvalue = float(out["pvalue"][-1])
    return SequentialSRMResult(
        statistic=float(out["log_bf"][-1]),
        pvalue=pvalue,
        df=float("nan"),
        observed={a: int(x) for a, x in zip(names, last, strict=True)},
        expected={a: float(s * last.sum()) for a, s in zip(names, share, strict=True)},
        alpha=alpha,
        mismatch=pvalue < alpha,
        looks=table.shape[0],
        concentration=concentration,
    )
