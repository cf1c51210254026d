"""Quantile metrics (p50, p99 latency, ...): :func:`quantile`, the difference and relative
difference of a quantile between arms with an analytic interval that needs no resampling. The
metric class for :meth:`neyman.Experiment.analyze` is :class:`neyman.Quantile`."""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from neyman import _neyman
from neyman._convert import as_float_array, as_frame, frame_column, variant_codes
from neyman._engine import NAN_FIELDS, Options, apply_nan_policy, plural
from neyman._results import AnalysisResult, QuantileResult
from neyman._validate import check_unit_interval
from neyman.errors import InputError, InsufficientDataError

__all__ = ["quantile"]


def _check_q(q: object) -> float:
    return check_unit_interval("q", q)


Outcome = tuple[float, float, int, int, int, bool]


def quantile_results(
    arms: tuple[list[Outcome], int],
    labels: Sequence[Any],
    *,
    metric: str,
    q: float,
    opts: Options,
) -> list[QuantileResult]:
    """Every treatment arm's ``q``-quantile against the control's (the first arm), from each
    arm's ``(estimate, se, n, n_nan, n_inf, defined)`` (``_neyman.quantile_arms``) and the fewest
    values that define the interval."""
    outcomes, min_n = arms
    names = [str(lab) for lab in labels]
    propagate = False
    for (_, _, _, n_nan, n_inf, _), name in zip(outcomes, names, strict=True):
        arm = f"arm {name!r} of metric {metric!r}"
        if n_inf:
            raise InputError(f"{arm} has {plural(n_inf, 'infinite value')}")
        propagate |= apply_nan_policy(arm, n_nan, opts.nan_policy)
    common: dict[str, Any] = {
        "metric": metric,
        "control": names[0],
        "alternative": opts.alternative,
        "confidence_level": opts.confidence_level,
        "relative_ci": "delta",
        "q": q,
        "method": f"quantile-{q:g}",
    }
    if propagate:
        nan_fields: dict[str, Any] = dict.fromkeys(NAN_FIELDS, math.nan)
        return [
            QuantileResult(
                treatment=names[k],
                n_control=int(outcomes[0][2]),
                n_treatment=int(outcomes[k][2]),
                **nan_fields,
                **common,
            )
            for k in range(1, len(names))
        ]
    for (_, _, n, *_rest, defined), name in zip(outcomes, names, strict=True):
        if not defined:
            raise InsufficientDataError(
                f"arm {name!r} of metric {metric!r} has {n} values; the order-statistic interval "
                f"of the {q:g} quantile needs at least {min_n}"
            )
    out = []
    c = outcomes[0]
    for k in range(1, len(names)):
        t = outcomes[k]
        cmp: dict[str, Any] = _neyman.quantile_compare(
            (c[0], c[1], c[2]), (t[0], t[1], t[2]), (opts.alternative, opts.confidence_level)
        )
        refit = functools.partial(_refit, arms, list(labels), metric, q, opts, k)
        out.append(
            QuantileResult(
                treatment=names[k],
                control_value=c[0],
                treatment_value=t[0],
                df=math.inf,
                n_control=int(c[2]),
                n_treatment=int(t[2]),
                _refit=refit,
                **cmp,
                **common,
            )
        )
    return out


def _refit(
    arms: tuple[list[Outcome], int],
    labels: list[Any],
    metric: str,
    q: float,
    opts: Options,
    k: int,
    level: float,
) -> QuantileResult:
    new = Options(opts.alternative, level, opts.relative_ci, opts.nan_policy)
    return quantile_results(arms, labels, metric=metric, q=q, opts=new)[k - 1]


def frame_quantile_results(
    values: npt.NDArray[np.float64],
    codes: npt.NDArray[Any],
    labels: Sequence[Any],
    *,
    metric: str,
    q: float,
    opts: Options,
) -> list[QuantileResult]:
    """:func:`quantile_results` of a column split by arm codes (one pass in the core)."""
    arms = _neyman.quantile_arms([values], q, codes.astype(np.int32, copy=False), len(labels))
    return quantile_results(arms, labels, metric=metric, q=q, opts=opts)


def quantile(
    a: Any,
    b: Any = None,
    /,
    *,
    q: float = 0.5,
    metric: str | None = None,
    variant: str | None = None,
    control: Any = None,
    alternative: str = "two-sided",
    confidence_level: float = 0.95,
    nan_policy: str = "propagate",
) -> Any:
    """Compare a quantile of two (or more) arms with an analytic, distribution-free interval.

    The estimate is the difference of the arms' ``q``-quantiles (numpy's default, linear
    interpolation), and the relative difference ``(Q_t - Q_c) / Q_c``. Each arm's quantile gets
    a standard error from its order-statistic ("outer") confidence interval: with ``n`` values the
    number below the quantile is about ``Binomial(n, q)``, so the order statistics of ranks
    ``n q -+ z sqrt(n q (1 - q))`` bracket it with probability ``1 - alpha`` whatever the
    distribution; their distance over ``2 z`` (``z = 1.96``) is the quantile's standard error
    (Deng, Knoblich and Lu 2018). The arms are independent, so the difference has variance
    ``se_t^2 + se_c^2``; the relative difference's comes from the delta method. The reference is
    the normal distribution. No resampling: at 10 million rows this is a few selections, the cost
    of ``numpy.partition``.

    Parameters
    ----------
    a, b : array_like
        Control, then treatment (a mapping of arm name to array compares several arms). Or a
        frame ``a`` with ``metric=``, ``variant=`` and ``control=``.
    q : float, default 0.5
        The quantile, in (0, 1) (0.99 for p99).
    metric, variant, control : str, str, object
        With a frame.
    alternative : {'two-sided', 'less', 'greater'}, default 'two-sided'
    confidence_level : float, default 0.95
    nan_policy : {'propagate', 'raise', 'omit'}, default 'propagate'

    Returns
    -------
    QuantileResult or AnalysisResult
        One result for two arrays; with a frame or a mapping, an :class:`AnalysisResult` with one
        row per treatment arm.

    Raises
    ------
    InsufficientDataError
        An arm has too few values for the order-statistic interval at this ``q`` (p99 needs at
        least a few hundred): the message says how many.
    InputError
        ``q`` outside (0, 1); infinite values; NaN under ``nan_policy='raise'``.

    References
    ----------
    Deng, A., Knoblich, U. and Lu, J. (2018). Applying the delta method in metric analytics: a
    practical guide with novel ideas. KDD 2018, section 4.

    Examples
    --------
    >>> import numpy as np, neyman
    >>> rng = np.random.default_rng(0)
    >>> control = rng.lognormal(3.0, 0.6, 200_000)          # latency in ms
    >>> treatment = rng.lognormal(3.0, 0.6, 200_000) * 0.95
    >>> res = neyman.quantile(control, treatment, q=0.99)
    >>> round(res.control_value, 1), round(res.rel_effect, 4)
    (81.3, -0.0543)
    >>> round(res.rel_ci_low, 4), round(res.rel_ci_high, 4)
    (-0.0672, -0.0414)
    """
    opts = Options.checked(alternative, confidence_level, "delta", nan_policy)
    qv = _check_q(q)
    if metric is not None or variant is not None:
        if metric is None or variant is None:
            raise InputError("with a data frame, pass metric=<column>, variant=<column>, control=")
        frame = as_frame(a)
        vc = variant_codes(frame, variant, control)
        values = frame_column(frame, metric, arg="metric")
        rows = frame_quantile_results(values, vc.codes, vc.labels, metric=metric, q=qv, opts=opts)
        return AnalysisResult(tuple(rows))
    if b is None:
        raise InputError("give control and treatment arrays, or a frame with metric=, variant=")
    arms: dict[str, Any] = {"control": a}
    several = isinstance(b, Mapping)
    if several:
        for name, arr in b.items():
            arms[str(name)] = arr
    else:
        arms["treatment"] = b
    parts = [as_float_array(name, arr) for name, arr in arms.items()]
    outcomes = _neyman.quantile_arms(parts, qv)
    rows = quantile_results(outcomes, list(arms), metric="x", q=qv, opts=opts)
    return AnalysisResult(tuple(rows)) if several else rows[0]
