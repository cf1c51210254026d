"""Least squares with cluster-robust inference (``ols``) and its mergeable per-cluster statistic
(``cluster_stats``, :class:`ClusterStats`).

The Rust core fills the per-cluster cross-products of the design and the outcome in one pass
(``O(clusters x p^2)`` memory, never ``O(rows)``), then computes CR0-CR3 and the Bell-McCaffrey
degrees of freedom from ``p x p`` per-cluster quantities.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from neyman import _neyman
from neyman._convert import as_float_array, cluster_codes, frame_of, is_frame
from neyman._engine import apply_nan_policy
from neyman._results import OLSResult
from neyman._stats import ClusterStats
from neyman._validate import (
    ALTERNATIVES,
    NAN_POLICIES,
    check_bool,
    check_choice,
    check_confidence_level,
)
from neyman.errors import InputError, InputTypeError, LengthMismatchError

__all__ = ["ClusterStats", "cluster_stats", "ols"]

VCOV_TYPES = ("CR0", "CR1", "CR2", "CR3")

FloatArray = npt.NDArray[np.float64]


def _columns(X: Any, n: int | None) -> list[tuple[str, FloatArray]]:
    """Named float64 columns of ``X``: a 1-D or 2-D array, a dict of columns, or a frame."""
    if X is None:
        return []
    if isinstance(X, Mapping):
        items = list(X.items())
        if not all(isinstance(k, str) for k, _ in items):
            raise InputTypeError("X: the keys of a dict of columns must be strings (names)")
        return [(k, as_float_array(f"X column {k!r}", v)) for k, v in items]
    if is_frame(X):
        frame = frame_of(X)
        if frame is None:
            raise InputTypeError(f"X: cannot read a frame of type {type(X).__name__}")
        return [
            (str(c), as_float_array(f"X column {c!r}", frame.get_column(c))) for c in frame.columns
        ]
    try:
        arr = np.asarray(X)
    except (TypeError, ValueError) as exc:
        raise InputTypeError(f"X cannot be read as a numeric array: {exc}") from None
    if arr.ndim == 1:
        return [("x", as_float_array("X", arr))]
    if arr.ndim != 2:
        raise InputError(f"X must be one- or two-dimensional, got shape {arr.shape}")
    if arr.dtype.kind not in "iuf":
        raise InputTypeError(f"X has dtype {arr.dtype}; numbers are needed")
    return [
        (f"x{j + 1}", as_float_array(f"X column {j + 1}", np.ascontiguousarray(arr[:, j])))
        for j in range(arr.shape[1])
    ]


def _is_two_way(cluster: Any, n: int) -> bool:
    """A list or tuple of two id columns (each of length ``n``), rather than one column of ids."""
    if not isinstance(cluster, list | tuple) or len(cluster) != 2 or n == 2:
        return False
    return all(hasattr(c, "__len__") and not isinstance(c, str) for c in cluster)


def _design(
    y: Any, X: Any, intercept: Any
) -> tuple[FloatArray, list[tuple[str, FloatArray]], bool]:
    ys = as_float_array("y", y)
    cols = _columns(X, len(ys))
    for name, c in cols:
        if len(c) != len(ys):
            raise LengthMismatchError(
                f"X column {name!r} has length {len(c)} but y has length {len(ys)}"
            )
    icpt = check_bool("intercept", intercept)
    if not cols and not icpt:
        raise InputError("X: no columns and intercept=False leave nothing to fit")
    return ys, cols, icpt


def cluster_stats(y: Any, X: Any = None, *, cluster: Any, intercept: bool = True) -> ClusterStats:
    """Per-cluster sufficient statistics of the regression of ``y`` on ``X``, to merge and fit.

    Parameters
    ----------
    y : array-like
        Outcome.
    X : array-like, dict of columns, or frame, optional
        Regressors (a 1-D array is one column ``x``; a 2-D array gives ``x1, x2, ...``; a dict
        or a pandas or polars frame keeps its names).
    cluster : array-like
        Cluster id of each row (integers or strings, in any order).
    intercept : bool, default True
        Add an intercept column.

    Returns
    -------
    ClusterStats
        Mergeable (``a.merge(b)`` sums the clusters two chunks share) and picklable; pass it to
        :func:`ols`.

    Examples
    --------
    >>> import numpy as np, neyman
    >>> y, x = [1.0, 2.0, 4.0, 3.0], [0.0, 1.0, 2.0, 3.0]
    >>> s = neyman.cluster_stats(y, x, cluster=["a", "a", "b", "c"])
    >>> s.n_clusters, s.names
    (3, ['intercept', 'x'])
    """
    ys, cols, icpt = _design(y, X, intercept)
    codes, keys = cluster_codes(cluster, len(ys), "cluster")
    return _neyman.scan_cluster(ys, cols, None, False, icpt, codes, keys)


def _tests(
    params: FloatArray, se: FloatArray, df: FloatArray, alternative: str, level: float
) -> dict[str, Any]:
    return _neyman.coefficient_test(params.tolist(), se.tolist(), df.tolist(), alternative, level)


def _refit(
    params: FloatArray, se: FloatArray, df: FloatArray, alternative: str, level: float
) -> tuple[FloatArray, FloatArray]:
    t = _tests(params, se, df, alternative, level)
    return t["ci_low"], t["ci_high"]


def _result(fit: dict[str, Any], alternative: str, level: float, nan: bool) -> OLSResult:
    params = np.asarray(fit["params"])
    vcov = np.asarray(fit["vcov"])
    df = np.asarray(fit["df"])
    if nan:
        params = np.full_like(params, np.nan)
        vcov = np.full_like(vcov, np.nan)
        df = np.full_like(df, np.nan)
    with np.errstate(invalid="ignore"):
        se = np.sqrt(np.diag(vcov))
        deff = np.diag(vcov) / np.asarray(fit["iid_var"])
    t = _tests(params, se, df, alternative, level)
    return OLSResult(
        names=tuple(fit["names"]),
        params=params,
        se=se,
        vcov=vcov,
        df=df,
        statistic=t["statistic"],
        pvalue=t["pvalue"],
        ci_low=t["ci_low"],
        ci_high=t["ci_high"],
        n=int(fit["n"]),
        n_clusters=int(fit["n_clusters"]),
        vcov_type=fit["vcov_type"],
        confidence_level=level,
        alternative=alternative,
        icc=float("nan") if nan else float(fit["icc"]),
        design_effect=deff,
        n_effective=fit["n"] / deff,
        _refit=functools.partial(_refit, params, se, df, alternative),
    )


def _check_counts(fit: dict[str, Any], nan_policy: str) -> bool:
    """Infinite values raise; ``nan_policy`` for rows with a NaN. True: propagate NaN."""
    if fit["n_inf"]:
        raise InputError(f"y or X has {fit['n_inf']} rows with an infinite value")
    return apply_nan_policy("y or X", int(fit["n_nan"]), nan_policy)


def ols(
    y: Any,
    X: Any = None,
    *,
    cluster: Any = None,
    vcov: str | None = None,
    intercept: bool = True,
    confidence_level: float = 0.95,
    alternative: str = "two-sided",
    nan_policy: str = "propagate",
) -> OLSResult:
    """Least squares of ``y`` on ``X`` with cluster-robust standard errors and tests.

    CR2 with Bell-McCaffrey degrees of freedom is the default because it holds its level with few
    clusters (Pustejovsky and Tipton 2018; Imbens and Kolesar 2016), where CR1 with ``G - 1``
    degrees of freedom over-rejects. Everything is computed from per-cluster ``p x p`` sums in one
    pass over the rows: memory grows with the clusters, not the rows.

    Parameters
    ----------
    y : array-like or ClusterStats
        Outcome; or a :class:`ClusterStats` (from :func:`cluster_stats`, merged, or
        ``ClusterStats.from_sums``), then ``X`` and ``cluster`` are not given.
    X : array-like, dict of columns, or frame, optional
        Regressors: a 1-D array (one column ``x``), a 2-D array (``x1, x2, ...``), a dict of
        columns or a pandas or polars frame (names kept).
    cluster : array-like, or list of two, optional
        Cluster id of each row (integers or strings, unsorted), or two such columns for two-way
        clustering (Cameron, Gelbach and Miller 2011). ``None``: each row is its own cluster, so
        CR0 is HC0, CR1 is HC1, CR2 is HC2 (with Bell-McCaffrey df) and CR3 is ``(n-1)/n`` times
        the jackknife.
    vcov : {'CR0', 'CR1', 'CR2', 'CR3'}, optional
        Covariance estimator. Default ``'CR2'``, or ``'CR1'`` with two-way clustering (where CR2
        and CR3 are not defined).
    intercept : bool, default True
        Add an intercept column.
    confidence_level : float, default 0.95
    alternative : {'two-sided', 'less', 'greater'}, default 'two-sided'
        Alternative of each coefficient's t-test against 0.
    nan_policy : {'propagate', 'raise', 'omit'}, default 'propagate'
        Rows with a NaN in ``y`` or ``X``. Infinite values always raise.

    Returns
    -------
    OLSResult
        ``params``, ``se``, ``vcov``, ``df``, ``statistic``, ``pvalue``, ``ci_low``, ``ci_high``
        per coefficient (``names``), ``n``, ``n_clusters``, ``vcov_type``, the intra-cluster
        correlation ``icc``, the ``design_effect`` and ``n_effective`` per coefficient.

    Raises
    ------
    InputError
        Unknown ``vcov``; CR2 or CR3 with two-way clustering; CR2 or CR3 where a cluster has
        leverage 1; NaN with ``nan_policy='raise'``; infinite values; missing cluster ids.
    InputTypeError
        Non-numeric ``y`` or ``X``, cluster ids that are not an array.
    LengthMismatchError
        ``X`` or ``cluster`` of another length than ``y``.
    InsufficientDataError
        Fewer than two clusters, or no more rows than coefficients.
    ZeroVarianceError
        A column that is constant or collinear with the others (named).

    Notes
    -----
    With ``M = (X'X)^-1`` and cluster scores ``u_g = X_g'e_g``: ``CR0 = M (sum u_g u_g') M``;
    ``CR1 = CR0 G/(G-1) (n-1)/(n-p)`` (Stata, statsmodels, pyfixest CRV1); ``CR2`` adjusts the
    residuals by ``(I - H_gg)^{-1/2}`` (Bell and McCaffrey 2002), computed through ``p x p``
    eigendecompositions; ``CR3 = (G-1)/G sum (b_{-g} - b)(b_{-g} - b)'``, the cluster jackknife
    (MacKinnon, Nielsen and Webb 2023; pyfixest's CRV3 scales the same sum by
    ``G/(G-1) (n-1)/(n-p)``). Degrees of freedom: ``G - 1`` for CR0, CR1, CR3 and two-way
    (``min(G_A, G_B) - 1``), Bell-McCaffrey per coefficient for CR2. Two-way: ``V_A + V_B -
    V_{A and B}`` of the CR0 terms, times ``G_min/(G_min-1) (n-1)/(n-p)`` for CR1, the default of
    pyfixest and fixest (Stata's cluster2 and statsmodels scale each term by its own
    ``G_i/(G_i-1)``); a matrix that is not positive semi-definite is reported with a
    ``RuntimeWarning`` and left as it is.

    References
    ----------
    Bell, R. M. and McCaffrey, D. F. (2002). Bias reduction in standard errors for linear
    regression with multi-stage samples. Survey Methodology 28(2).
    Cameron, A. C., Gelbach, J. B. and Miller, D. L. (2011). Robust inference with multiway
    clustering. JBES 29(2).
    Pustejovsky, J. E. and Tipton, E. (2018). Small-sample methods for cluster-robust variance
    estimation and hypothesis testing in fixed effects models. JBES 36(4).

    Examples
    --------
    >>> import numpy as np, neyman
    >>> rng = np.random.default_rng(7)
    >>> g = rng.integers(0, 12, 240)                      # 12 clusters
    >>> x = rng.normal(size=240)
    >>> y = 2.0 + 0.5 * x + rng.normal(size=12)[g] + rng.normal(size=240)
    >>> res = neyman.ols(y, {"x": x}, cluster=g)
    >>> res.names, res.vcov_type, res.n_clusters
    (('intercept', 'x'), 'CR2', 12)
    >>> print(np.round(res.params, 3), np.round(res.df, 1))
    [1.713 0.484] [10.6 10. ]
    """
    level = check_confidence_level(confidence_level)
    alt = check_choice("alternative", alternative, ALTERNATIVES)
    policy = check_choice("nan_policy", nan_policy, NAN_POLICIES)
    if vcov is not None:
        check_choice("vcov", vcov, VCOV_TYPES)
    if isinstance(y, ClusterStats):
        if X is not None or cluster is not None:
            raise InputError("X and cluster must not be given when y is a ClusterStats")
        kind = vcov or "CR2"
        fit = _neyman.cluster_ols(y, kind)
        return _result(fit, alt, level, _check_counts(fit, policy))
    ys, cols, icpt = _design(y, X, intercept)
    n = len(ys)
    if cluster is None:
        fit = _neyman.rows_ols(ys, cols, None, False, icpt, vcov or "CR2")
        return _result(fit, alt, level, _check_counts(fit, policy))
    if _is_two_way(cluster, n):
        kind = vcov or "CR1"
        if kind in ("CR2", "CR3"):
            raise InputError(
                f"vcov == {kind!r} is not defined for two-way clustering; use 'CR1' (the default)"
                " or 'CR0'"
            )
        (ca, ka), (cb, kb) = (cluster_codes(c, n, f"cluster[{i}]") for i, c in enumerate(cluster))
        both = ca.astype(np.int64) * max(len(kb), 1) + cb
        cab, kab = cluster_codes(both, n, "cluster")
        sa, sb, sab = (
            _neyman.scan_cluster(ys, cols, None, False, icpt, c, k)
            for c, k in ((ca, ka), (cb, kb), (cab, kab))
        )
        fit = _neyman.cluster_ols_two_way(sa, sb, sab, kind)
        if not fit["psd"]:
            warnings.warn(
                "the two-way cluster-robust covariance matrix is not positive semi-definite "
                "(V_A + V_B - V_AB); some standard errors may be NaN or understated",
                RuntimeWarning,
                stacklevel=2,
            )
        return _result(fit, alt, level, _check_counts(fit, policy))
    if isinstance(cluster, Sequence) and not isinstance(cluster, list | tuple | str):
        cluster = list(cluster)
    codes, keys = cluster_codes(cluster, n, "cluster")
    one = _neyman.scan_cluster(ys, cols, None, False, icpt, codes, keys)
    fit = _neyman.cluster_ols(one, vcov or "CR2")
    return _result(fit, alt, level, _check_counts(fit, policy))
