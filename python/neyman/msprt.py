"""Always-valid inference by the mixture sequential probability ratio test (mSPRT):
:func:`msprt` (the looks of any fixed-horizon comparison) and :func:`msprt_path` (sequences of
estimates and variances, e.g. from SQL, for many metrics at once)."""

from __future__ import annotations

from typing import Any

import numpy as np

from neyman import _neyman
from neyman._results import AnalysisResult, SequentialPath
from neyman._sequential import Rule, one_look
from neyman._validate import ALTERNATIVES, check_choice, check_finite, check_unit_interval
from neyman.errors import InputError

__all__ = ["msprt", "msprt_path"]


def msprt(
    comparison: Any,
    *,
    mixing_variance: float | None = None,
    mde: float | None = None,
    planned_n: float | None = None,
    alpha: float = 0.05,
    alternative: str = "two-sided",
    relative: bool = False,
) -> AnalysisResult:
    """Always-valid p-values and intervals of a comparison by the normal-mixture mSPRT.

    The mSPRT of Johari, Koomen, Pekelis and Walsh (2022) mixes the likelihood ratio of the
    effect's estimate ``d`` (variance ``v``) over ``theta ~ N(0, tau2)``::

        Lambda = sqrt(v / (v + tau2)) exp(tau2 d^2 / (2 v (v + tau2)))

    and rejects when ``Lambda >= 1 / alpha``. ``min(1, 1 / Lambda)``, minimised over the looks,
    is a p-value that holds its level however often and whenever one looks; the interval
    ``{theta0 : Lambda(d - theta0) < 1 / alpha}``, intersected over the looks, covers the effect
    at every look at once. One-sided tests mix over the half-normal. This function gives the
    first look of any fixed-horizon comparison (a mean, proportion, ratio metric, CUPED or
    regression-adjusted effect, clustered or not): its estimate and standard error enter as the
    Gaussian estimate. To follow an experiment over time use :class:`neyman.Monitor`, which keeps
    the running minimum and intersection.

    Parameters
    ----------
    comparison : AnalysisResult or TestResult
        The result of :func:`neyman.ttest`, :func:`neyman.ztest`, :func:`neyman.proportions`,
        :func:`neyman.ratio`, :func:`neyman.cuped`, :func:`neyman.regression_adjust` or
        :meth:`neyman.Experiment.analyze`.
    mixing_variance, mde, planned_n : float
        Exactly one, fixed before the data are seen. ``mixing_variance``: ``tau2`` itself, on
        the scale tested. ``mde``: the smallest effect worth detecting, ``tau2 = mde ** 2``
        (a mixture spread like the effects of interest; Johari et al. 2022, sec. 4, find the
        power insensitive to ``tau2`` within a factor of a few of that). ``planned_n``: the
        units (both arms) at the planned horizon; ``tau2`` then makes the two-sided interval at
        that horizon as narrow as possible (it solves ``r - log(1 + r) = 2 log(1 / alpha)`` for
        ``r = tau2 / v_h``, ``v_h`` the estimate's variance at the horizon, extrapolated from
        this look as ``v n / planned_n``).
    alpha : float, default 0.05
        Level: ``1 - alpha`` intervals, significance when ``pvalue < alpha``.
    alternative : {'two-sided', 'less', 'greater'}, default 'two-sided'
    relative : bool, default False
        Test the relative effect ``(treatment - control) / control`` (its delta-method variance);
        ``mde`` and ``mixing_variance`` are then relative too. Both intervals are always valid
        either way (the mixing variance of the other scale is converted by the control mean).

    Returns
    -------
    AnalysisResult
        Rows of :class:`neyman.SequentialResult`: the always-valid ``pvalue``, ``ci_low``,
        ``ci_high``, ``rel_ci_low``, ``rel_ci_high``, with the fixed-horizon ``fixed_pvalue``,
        ``fixed_ci_low``, ``fixed_ci_high`` beside them.

    Raises
    ------
    InputError
        None or several of ``mixing_variance``, ``mde``, ``planned_n``; a zero standard error;
        ``alpha`` outside (0, 1).

    References
    ----------
    Johari, R., Koomen, P., Pekelis, L. and Walsh, D. (2022). Always valid inference: continuous
    monitoring of A/B tests. Operations Research 70(3), 1806-1821.

    Examples
    --------
    >>> import numpy as np, neyman
    >>> rng = np.random.default_rng(1)
    >>> a, b = rng.normal(10, 2, 4000), rng.normal(10.2, 2, 4000)
    >>> res = neyman.msprt(neyman.ttest(a, b), mde=0.1)
    >>> r = res[0]
    >>> round(r.effect, 3), round(r.fixed_pvalue, 5), round(r.pvalue, 4)
    (0.197, 1e-05, 0.0007)
    >>> r.ci_high - r.ci_low > r.fixed_ci_high - r.fixed_ci_low
    True
    """
    rule = Rule.checked(
        "msprt",
        alpha=alpha,
        alternative=alternative,
        mixing_variance=mixing_variance,
        mde=mde,
        planned_n=planned_n,
        relative=relative,
    )
    return one_look(comparison, rule)


def msprt_path(
    effect: Any,
    variance: Any,
    *,
    mixing_variance: Any,
    alpha: float = 0.05,
    alternative: str = "two-sided",
    null: float = 0.0,
) -> SequentialPath:
    """Always-valid p-values and intervals of sequences of estimates, by the normal-mixture mSPRT.

    For summary statistics computed elsewhere (a daily SQL job): the estimate of the effect and
    its variance at each look, of one series (1-D) or of many at once (2-D, one row per series,
    e.g. 1,000 metrics x 100 daily looks, computed in parallel in the core). See :func:`msprt`
    for the test.

    Parameters
    ----------
    effect, variance : array_like
        Shape ``(looks,)`` or ``(series, looks)``: each look's estimate and its variance (> 0).
    mixing_variance : float or array_like
        ``tau2``, one for all series or one per series.
    alpha : float, default 0.05
    alternative : {'two-sided', 'less', 'greater'}, default 'two-sided'
    null : float, default 0.0
        The effect under the null hypothesis.

    Returns
    -------
    SequentialPath
        ``pvalue`` (running minimum), ``ci_low`` and ``ci_high`` (running intersection) and
        ``log_lambda``, in the shape of ``effect``.

    Examples
    --------
    >>> import neyman
    >>> path = neyman.msprt_path([0.3, 0.2, 0.25], [0.04, 0.02, 0.01], mixing_variance=0.04)
    >>> path.ci_low.round(3).tolist()
    [-0.431, -0.261, -0.058]
    """
    alpha = check_unit_interval("alpha", alpha)
    alternative = check_choice("alternative", alternative, ALTERNATIVES)
    null = check_finite("null", null)
    e = np.asarray(effect, dtype=np.float64)
    v = np.asarray(variance, dtype=np.float64)
    if e.ndim not in (1, 2) or e.shape != v.shape:
        raise InputError(
            f"effect and variance must have the same 1-D or 2-D shape, got {e.shape} and {v.shape}"
        )
    rows = e.reshape(-1, e.shape[-1])
    tau2 = np.broadcast_to(np.asarray(mixing_variance, dtype=np.float64), (rows.shape[0],))
    out = _neyman.msprt_paths(
        np.ascontiguousarray(rows.ravel()),
        np.ascontiguousarray(v.ravel()),
        np.ascontiguousarray(tau2),
        e.shape[-1],
        (null, alpha, alternative),
    )
    return SequentialPath(
        method="msprt",
        pvalue=out["pvalue"].reshape(e.shape),
        ci_low=out["ci_low"].reshape(e.shape),
        ci_high=out["ci_high"].reshape(e.shape),
        log_lambda=out["log_lambda"].reshape(e.shape),
        alpha=alpha,
        alternative=alternative,
    )
