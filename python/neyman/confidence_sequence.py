"""Asymptotic confidence sequences (Waudby-Smith et al. 2023), GrowthBook's sequential method:
:func:`confidence_sequence` (the looks of any fixed-horizon comparison) and
:func:`confidence_sequence_path` (sequences of estimates, variances and sample sizes)."""

from __future__ import annotations

from typing import Any

import numpy as np

from neyman import _neyman
from neyman._results import AnalysisResult, SequentialPath
from neyman._sequential import Rule, one_look
from neyman._validate import ALTERNATIVES, check_choice, check_finite, check_unit_interval
from neyman.errors import InputError

__all__ = ["confidence_sequence", "confidence_sequence_path"]


def confidence_sequence(
    comparison: Any,
    *,
    tuning: float = 5000.0,
    alpha: float = 0.05,
    alternative: str = "two-sided",
    relative: bool = False,
) -> AnalysisResult:
    """Asymptotic confidence sequence and always-valid p-value of a comparison.

    The asymptotic confidence sequences of Waudby-Smith, Arnold, Wu, Ramdas and Howard (2023)
    cover the effect at every look at once, asymptotically in the number of units ``N`` (both
    arms). With ``s2 = N v`` the per-unit variance of the effect (``v`` its estimate's variance),
    the two-sided sequence is (their eq. 9, as gbstats computes it)::

        effect +- sqrt(s2) sqrt(2 (N rho^2 + 1) / (N rho)^2 log(sqrt(N rho^2 + 1) / alpha))

    with ``rho^2 = (-2 log alpha + log(-2 log alpha + 1)) / tuning`` (eq. 161): the sequence is
    tightest near ``N = tuning`` units. The p-value is ``1 / e`` with the e-value of eq. 155. It
    is the normal-mixture boundary of the mSPRT with mixing variance ``rho^2 s2``; one-sided
    sequences use the half-normal mixture. Use :class:`neyman.Monitor` to follow an experiment
    over looks (running minimum of the p-values, intersection of the intervals).

    Parameters
    ----------
    comparison : AnalysisResult or TestResult
        The result of a fixed-horizon comparison (see :func:`neyman.msprt`).
    tuning : float, default 5000
        The number of units where the interval is narrowest (gbstats'
        ``sequential_tuning_parameter``).
    alpha : float, default 0.05
    alternative : {'two-sided', 'less', 'greater'}, default 'two-sided'
    relative : bool, default False
        The p-value tests the relative effect.

    Returns
    -------
    AnalysisResult
        Rows of :class:`neyman.SequentialResult`.

    References
    ----------
    Waudby-Smith, I., Arnold, D., Wu, J. J., Ramdas, A. and Howard, S. R. (2023). Time-uniform
    central limit theory and asymptotic confidence sequences. arXiv:2103.06476v7.

    Examples
    --------
    >>> import numpy as np, neyman
    >>> rng = np.random.default_rng(1)
    >>> a, b = rng.normal(10, 2, 4000), rng.normal(10.2, 2, 4000)
    >>> r = neyman.confidence_sequence(neyman.ttest(a, b))[0]
    >>> round(r.ci_low, 3), round(r.ci_high, 3), round(r.pvalue, 4)
    (0.061, 0.333, 0.0004)
    """
    rule = Rule.checked(
        "confidence_sequence",
        alpha=alpha,
        alternative=alternative,
        tuning=tuning,
        relative=relative,
    )
    return one_look(comparison, rule)


def confidence_sequence_path(
    effect: Any,
    variance: Any,
    n: Any,
    *,
    tuning: float = 5000.0,
    alpha: float = 0.05,
    alternative: str = "two-sided",
    null: float = 0.0,
) -> SequentialPath:
    """The confidence sequence of a series of looks from summary statistics.

    Parameters
    ----------
    effect, variance, n : array_like, 1-D
        Each look's estimate, its variance (> 0) and the units in both arms so far.
    tuning, alpha, alternative
        As in :func:`confidence_sequence`.
    null : float, default 0.0

    Returns
    -------
    SequentialPath

    Examples
    --------
    >>> import neyman
    >>> path = neyman.confidence_sequence_path([0.3, 0.2], [0.04, 0.02], [100, 200])
    >>> path.ci_high.round(3).tolist()
    [1.639, 0.921]
    """
    alpha = check_unit_interval("alpha", alpha)
    alternative = check_choice("alternative", alternative, ALTERNATIVES)
    null = check_finite("null", null)
    arrays = [np.ascontiguousarray(x, dtype=np.float64) for x in (effect, variance, n)]
    if any(a.ndim != 1 for a in arrays) or len({len(a) for a in arrays}) != 1:
        raise InputError("effect, variance and n must be 1-D arrays of the same length")
    tuning = check_finite("tuning", tuning)
    e, v, n_units = arrays
    out = _neyman.confidence_sequence_path(e, v, n_units, (tuning, null, alpha, alternative))
    return SequentialPath(
        method="confidence-sequence",
        pvalue=out["pvalue"],
        ci_low=out["ci_low"],
        ci_high=out["ci_high"],
        log_lambda=out["log_lambda"],
        alpha=alpha,
        alternative=alternative,
    )
