"""Permutation (randomisation) tests: :func:`permutation_test`."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from neyman import _neyman
from neyman._convert import as_float_array, cluster_codes
from neyman._results import PermutationResult
from neyman._validate import ALTERNATIVES, check_choice, check_seed
from neyman.errors import InputError, InputTypeError, InsufficientDataError

__all__ = ["permutation_test"]

STATISTICS = ("mean_diff", "relative_lift")

# The null distribution is returned: 10 million replicates hold 80 MB.
MAX_RESAMPLES = 10_000_000


def _n_resamples(value: Any) -> int | None:
    if isinstance(value, float) and math.isinf(value) and value > 0:
        return None
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise InputTypeError(f"n_resamples must be a positive integer or np.inf, got {value!r}")
    n = int(value)
    if n < 1:
        raise InputError(f"n_resamples == {n}, must be at least 1")
    if n > MAX_RESAMPLES:
        raise InputError(
            f"n_resamples == {n:,} would keep {8 * n / 1e6:,.0f} MB of null distribution; at most "
            f"{MAX_RESAMPLES:,} are taken (the Monte-Carlo error of the p-value is then below "
            "0.0002)"
        )
    return n


def _units(values: np.ndarray, ids: Any, arm: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-cluster sums and counts of one arm's rows, and the cluster labels."""
    codes, labels = cluster_codes(ids, len(values), f"cluster ids of the {arm}")
    k = len(labels)
    sums = np.bincount(codes, weights=values, minlength=k)
    counts = np.bincount(codes, minlength=k).astype(np.float64)
    return sums, counts, np.asarray(labels, dtype=object)


def permutation_test(
    control: Any,
    treatment: Any,
    *,
    statistic: str = "mean_diff",
    n_resamples: int | float = 9999,
    alternative: str = "two-sided",
    rng: Any = None,
    cluster: Any = None,
    nan_policy: str = "propagate",
) -> PermutationResult:
    """Test for a difference between two arms by re-randomising the arm labels.

    Under the null hypothesis that the treatment changes no unit's outcome, every reassignment of
    the units to the arms (with the arms' sizes kept) is as likely as the one observed. The
    p-value is the share of reassignments whose statistic is at least as extreme as the observed
    one: over all of them (``n_resamples=np.inf``, exact, when there are at most ten million),
    or over ``n_resamples`` random ones, with the ``(b + 1) / (B + 1)`` p-value that keeps the
    test's level (Phipson and Smyth 2010). The definitions (ties within ``1e-14`` relative,
    two-sided as twice the smaller one-sided p-value) are scipy's, so exact p-values agree with
    ``scipy.stats.permutation_test``. With ``cluster=``, whole clusters are re-randomised
    (cluster-randomised experiments), and the statistic is the difference of the arms' means of
    rows.

    The replicates are drawn in the Rust core by partial Fisher-Yates shuffles (as many bounded
    draws as the smaller arm has units), in blocks of 64 replicates each with its own random
    stream derived from the seed: the same null distribution for a seed on any number of
    threads. Ctrl-C stops a long run.

    Parameters
    ----------
    control, treatment : array_like
        The arms' values (control first).
    statistic : {'mean_diff', 'relative_lift'}, default 'mean_diff'
        ``mean(treatment) - mean(control)`` or ``mean(treatment) / mean(control) - 1``.
    n_resamples : int or np.inf, default 9999
        Random reassignments, or ``np.inf`` for every one (exact).
    alternative : {'two-sided', 'less', 'greater'}, default 'two-sided'
    rng : int, numpy.random.Generator or None
        The seed of the random streams.
    cluster : tuple of array_like, optional
        ``(control_ids, treatment_ids)``: the cluster of each row; clusters are re-randomised
        whole (a cluster must lie in one arm).
    nan_policy : {'propagate', 'raise', 'omit'}, default 'propagate'

    Returns
    -------
    PermutationResult
        ``statistic``, ``pvalue``, ``null_distribution``, ``n_resamples``, ``exact``.

    Raises
    ------
    InputError
        ``n_resamples`` < 1 or too large to keep (the message says how much memory); exact
        enumeration of more than ten million arrangements; a cluster in both arms.
    InsufficientDataError
        An arm without units.

    References
    ----------
    Phipson, B. and Smyth, G. K. (2010). Permutation p-values should never be zero. Statistical
    Applications in Genetics and Molecular Biology 9(1).

    Examples
    --------
    >>> import numpy as np, neyman
    >>> res = neyman.permutation_test([1.0, 2.0, 3.0], [4.0, 5.0, 6.0], n_resamples=np.inf,
    ...                               alternative="greater")
    >>> res.statistic, res.pvalue, res.exact, len(res.null_distribution)
    (3.0, 0.05, True, 20)
    >>> rng = np.random.default_rng(0)
    >>> a, b = rng.exponential(1.0, 5000), rng.exponential(1.1, 5000)
    >>> round(neyman.permutation_test(a, b, rng=1).pvalue, 4)
    0.0122
    """
    check_choice("statistic", statistic, STATISTICS)
    alt = check_choice("alternative", alternative, ALTERNATIVES)
    policy = check_choice("nan_policy", nan_policy, ("propagate", "raise", "omit"))
    draws = _n_resamples(n_resamples)
    seed = check_seed(rng)
    c = as_float_array("control", control)
    t = as_float_array("treatment", treatment)
    ids = None
    if cluster is not None:
        if not (isinstance(cluster, tuple | list) and len(cluster) == 2):
            raise InputTypeError("cluster must be a pair (control_ids, treatment_ids)")
        ids = [np.asarray(cluster[0]), np.asarray(cluster[1])]
        for name, v, i in (("control", c, ids[0]), ("treatment", t, ids[1])):
            if len(i) != len(v):
                raise InputError(f"cluster ids of the {name} have length {len(i)}, not {len(v)}")
    for name, v in (("control", c), ("treatment", t)):
        n_inf = int(np.count_nonzero(np.isinf(v)))
        if n_inf:
            raise InputError(f"{name} has {n_inf} infinite values")
    n_nan = int(np.count_nonzero(np.isnan(c))) + int(np.count_nonzero(np.isnan(t)))
    opts = {"alternative": alt, "statistic_name": statistic}
    if n_nan and policy == "raise":
        raise InputError(f"control and treatment have {n_nan} NaN values (nan_policy='raise')")
    if n_nan and policy == "propagate":
        return PermutationResult(
            statistic=math.nan, pvalue=math.nan, null_distribution=np.empty(0),
            n_resamples=0, exact=False, n_control=len(c), n_treatment=len(t), n_clusters=None,
            **opts,
        )  # fmt: skip
    if n_nan:
        keep_c, keep_t = ~np.isnan(c), ~np.isnan(t)
        c, t = c[keep_c], t[keep_t]
        if ids is not None:
            ids = [ids[0][keep_c], ids[1][keep_t]]
    for name, v in (("control", c), ("treatment", t)):
        if len(v) < 1:
            raise InsufficientDataError(f"{name} has no observations; at least 1 is needed")
    if ids is None:
        sums = np.concatenate([c, t])
        counts = np.ones(len(sums))
        n_control, n_clusters = len(c), None
    else:
        sc, cc, lc = _units(c, ids[0], "control")
        stt, ct, lt = _units(t, ids[1], "treatment")
        both = set(lc.tolist()) & set(lt.tolist())
        if both:
            some = sorted(map(str, both))[:3]
            raise InputError(
                f"clusters {some} have rows in both arms; re-randomising clusters needs each "
                "cluster in one arm"
            )
        sums, counts = np.concatenate([sc, stt]), np.concatenate([cc, ct])
        n_control, n_clusters = len(sc), len(sums)
    out = _neyman.permutation_test_units(
        np.ascontiguousarray(sums, dtype=np.float64),
        np.ascontiguousarray(counts, dtype=np.float64),
        n_control,
        draws,
        seed,
        (statistic, alt),
    )
    null = out["null_distribution"]
    null.flags.writeable = False
    return PermutationResult(
        statistic=float(out["statistic"]),
        pvalue=float(out["pvalue"]),
        null_distribution=null,
        n_resamples=len(null),
        exact=bool(out["exact"]),
        n_control=len(c),
        n_treatment=len(t),
        n_clusters=n_clusters,
        **opts,
    )
