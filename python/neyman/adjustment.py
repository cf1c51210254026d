"""Regression adjustment and post-stratification (``regression_adjust``) for frames: several
covariates, categorical ones one-hot encoded inside the Rust kernel, units with missing pre-period
data kept by an indicator. One categorical column in Lin's model (post-stratification) goes to its
own O(rows) kernel.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from neyman import _neyman
from neyman._clustered import check_cluster, clustered_results
from neyman._convert import (
    VariantCodes,
    as_frame,
    encode_labels,
    frame_column,
    get_column,
    variant_codes,
)
from neyman._engine import NAN_FIELDS as _FIELDS
from neyman._engine import Options, apply_nan_policy, check_two_arms, plural
from neyman._results import AdjustedResult, AnalysisResult, TestResult
from neyman._stats import RegressionStats
from neyman._validate import (
    check_choice,
    column_list,
)
from neyman.errors import InputError, InputTypeError, NeymanError

__all__ = ["regression_adjust"]

COV_TYPES = ("HC0", "HC1", "HC2")
MISSING = ("nan_policy", "indicator")


def _from_stats(stats: Mapping[Any, Any], control: Any, opts: Options) -> AnalysisResult:
    """Regression adjustment from per-arm :class:`RegressionStats`."""
    if not all(isinstance(v, RegressionStats) for v in stats.values()):
        raise InputTypeError("a mapping passed as data must map arm labels to RegressionStats")
    if control not in stats:
        raise InputError(f"control == {control!r} is not one of the arms {list(stats)}")
    labels = [control, *[k for k in stats if k != control]]
    names = stats[control].covariates
    if any(stats[k].covariates != names for k in labels):
        raise InputError("every arm's RegressionStats must have the same covariates")
    str_labels = [str(k) for k in labels]
    out = _neyman.regression_from_stats([stats[k] for k in labels], str_labels, opts.core())
    results = _results_from(out, "y", str_labels, list(names), opts, "lin-classical")
    return AnalysisResult(
        tuple(
            dataclasses.replace(r, _refit=functools.partial(_refit_sums, stats, control, opts, k))
            for k, r in enumerate(results)
        )
    )


def category_codes(df: Any, column: str) -> tuple[npt.NDArray[np.int32], list[str]]:
    """Level codes and level names of a categorical column (sorted levels; missing is -1), by the
    one label encoder of the package (``_convert.encode_labels``, one vectorised pass)."""
    frame = as_frame(df)
    if column not in frame.columns:
        raise InputError(f"categorical column {column!r} is not a column of the data")
    codes, levels = encode_labels(get_column(frame, column), name=f"categorical column {column!r}")
    return codes, [str(v) for v in levels]


def check_adjust_options(cov_type: object, interaction: object, missing: object) -> None:
    """Options of regression adjustment, checked even where they do not apply (a typo shows)."""
    check_choice("cov_type", cov_type, COV_TYPES)
    check_choice("missing_covariate", missing, MISSING)
    if not isinstance(interaction, bool):
        raise InputTypeError(f"interaction must be True or False, got {interaction!r}")


def adjusted_results(data: Any, codes: VariantCodes, **kwargs: Any) -> list[TestResult]:
    """Fit the adjustment once for all arms and compare every treatment with the control.

    Each result can recompute its interval at another level (``confidence_interval``): that
    refits on the same rows (``_refit``).
    """
    results = _fit_results(data, codes, **kwargs)
    return [
        dataclasses.replace(r, _refit=functools.partial(_refit_rows, data, codes, kwargs, k))
        for k, r in enumerate(results)
    ]


def _refit_rows(
    data: Any, codes: VariantCodes, kwargs: dict[str, Any], k: int, confidence_level: float
) -> TestResult:
    opts = dataclasses.replace(kwargs["opts"], confidence_level=confidence_level)
    return _fit_results(data, codes, **{**kwargs, "opts": opts})[k]


def _refit_sums(
    stats: Mapping[Any, Any], control: Any, opts: Options, k: int, confidence_level: float
) -> TestResult:
    level = dataclasses.replace(opts, confidence_level=confidence_level)
    return _from_stats(stats, control, level)[k]


def _fit_results(
    data: Any,
    codes: VariantCodes,
    *,
    metric: str,
    label: str,
    covariates: Sequence[str],
    categorical: Sequence[str],
    interaction: bool,
    cov_type: str,
    missing: str,
    opts: Options,
    method: str,
) -> list[TestResult]:
    check_adjust_options(cov_type, interaction, missing)
    if not covariates and not categorical:
        raise InputError("give at least one covariate or categorical column")
    y = frame_column(data, metric, arg="metric")
    numeric: list[tuple[str, npt.NDArray[np.float64]]] = []
    for c in covariates:
        x = frame_column(data, c, arg="covariates")
        n_inf = int(np.count_nonzero(np.isinf(x)))
        if n_inf:
            raise InputError(f"covariate {c!r} has {n_inf} infinite values")
        nan = np.isnan(x)
        if missing == "indicator" and nan.any():
            # Units without pre-period data stay in: value 0 plus an indicator covariate.
            numeric.append((c, np.where(nan, 0.0, x)))
            numeric.append((f"{c} is missing", nan.astype(np.float64)))
        else:
            numeric.append((c, x))
    cats = []
    for c in categorical:
        level_codes, level_names = category_codes(data, c)
        if missing == "indicator" and (level_codes < 0).any():
            level_codes = np.where(level_codes < 0, len(level_names), level_codes).astype(np.int32)
            level_names.append("(missing)")
        n_levels = len(level_names)
        if n_levels < 2:
            raise InputError(
                f"categorical column {c!r} has {n_levels} level; at least 2 are needed"
            )
        cats.append((c, level_codes, level_names))
    labels = [str(lab) for lab in codes.labels]
    # nan_policy first, before any fit: count incomplete rows per arm (trivial counting).
    incomplete = np.isnan(y)
    for _, x in numeric:
        incomplete |= np.isnan(x)
    for _, level_codes, _ in cats:
        incomplete |= level_codes < 0
    inf_per_arm = np.bincount(codes.codes[np.isinf(y)], minlength=len(labels))
    per_arm = np.bincount(codes.codes[incomplete], minlength=len(labels))
    propagate = False
    for k, lab in enumerate(labels):
        arm = f"arm {lab!r} of metric {label!r}"
        if inf_per_arm[k]:
            raise InputError(f"{arm} has {plural(int(inf_per_arm[k]), 'infinite value')}")
        rows = int(per_arm[k])
        what = f"{plural(rows, 'row')} with NaN in the metric or a covariate"
        propagate |= apply_nan_policy(arm, rows, opts.nan_policy, functools.partial(str, what))
    if propagate:
        return _nan_results(label, labels, codes, covariates, categorical, opts, method)
    arms = codes.codes.astype(np.int32, copy=False)
    try:
        if interaction and not numeric and len(cats) == 1:
            # Post-stratification: Lin's model with one categorical covariate is saturated in each
            # arm, so it is finalized from per-(stratum, arm) moments in O(rows + levels x arms).
            name, level_codes, level_names = cats[0]
            out = _neyman.post_stratified_test(
                y, name, (level_codes, level_names), (arms, labels), cov_type, opts.core()
            )
        else:
            out = _neyman.regression_test(
                y, numeric, cats, (arms, labels), (interaction, cov_type), opts.core()
            )
    except NeymanError as exc:
        raise type(exc)(f"metric {label!r}: {exc}") from None
    return _results_from(out, label, labels, [*covariates, *categorical], opts, method)


def _results_from(
    out: dict[str, Any],
    label: str,
    labels: list[str],
    covariates: Sequence[str],
    opts: Options,
    method: str,
) -> list[TestResult]:
    """TestResults from the dict the Rust fit returns."""
    results: list[TestResult] = []
    for k, comp in enumerate(out["comparisons"], start=1):
        unadjusted = comp.pop("unadjusted")
        variance_ratio = comp.pop("variance_ratio")
        common: dict[str, Any] = {
            "metric": label,
            "control": labels[0],
            "treatment": labels[k],
            "alternative": opts.alternative,
            "confidence_level": opts.confidence_level,
            "relative_ci": opts.relative_ci,
        }
        results.append(
            AdjustedResult(
                method=method,
                covariate=", ".join(covariates),
                variance_ratio=variance_ratio,
                unadjusted=TestResult(method="z", **common, **unadjusted),
                **common,
                **comp,
            )
        )
    return results


def regression_adjust(
    data: Any,
    *,
    metric: str | None = None,
    variant: str | None = None,
    control: Any = None,
    covariates: str | Sequence[str] | None = None,
    categorical: str | Sequence[str] | None = None,
    interaction: bool = True,
    cov_type: str = "HC2",
    missing_covariate: str = "nan_policy",
    alternative: str = "two-sided",
    confidence_level: float = 0.95,
    relative_ci: str = "delta",
    nan_policy: str = "propagate",
    cluster: str | None = None,
    vcov: str = "CR2",
) -> AnalysisResult:
    """Difference in means adjusted by several covariates (Lin 2013), with robust variance.

    Parameters
    ----------
    data : pandas, polars or pyarrow DataFrame, or mapping of RegressionStats
        One row per unit; or ``{arm label: RegressionStats}`` with sums from SQL (then only
        ``control`` is needed, and the variance is the classical per-arm one: see Notes).
    metric, variant, control
        Outcome column, arm column and control label.
    covariates : str or list of str, optional
        Numeric pre-experiment columns.
    categorical : str or list of str, optional
        Categorical columns (strings, integers, ...), one-hot encoded inside the kernel with the
        first (sorted) level as reference. One categorical column alone is post-stratification.
    interaction : bool, default True
        True: Lin's estimator, with treatment-by-covariate interactions (each arm its own slopes).
        False: the additive model ``y ~ arm + covariates`` (ANCOVA).
    cov_type : {'HC2', 'HC1', 'HC0'}, default 'HC2'
        Heteroskedasticity-robust variance, as statsmodels' ``OLS.fit(cov_type=...)``.
    missing_covariate : {'nan_policy', 'indicator'}, default 'nan_policy'
        What a NaN covariate (or a missing category) means: a missing unit under ``nan_policy``,
        or (``'indicator'``) a unit kept with the value 0 and an extra indicator covariate (a
        separate level for categories), so units without pre-period data are not dropped.
    alternative, confidence_level, relative_ci, nan_policy
        As in :func:`neyman.ttest`.
    cluster : str, optional
        Column of cluster ids: the same model fitted from per-cluster sums with cluster-robust
        variance ``vcov`` (see :func:`neyman.ttest`), giving :class:`ClusteredResult` rows; a
        categorical covariate enters as indicators of its levels but the first (at most 64 in
        all), missing covariates by ``nan_policy``. ``cov_type`` then does not apply.
    vcov : {'CR2', 'CR1', 'CR0', 'CR3'}, default 'CR2'
        As in :func:`neyman.ttest`.

    Returns
    -------
    AnalysisResult
        One :class:`TestResult` per treatment arm: ``control_value`` and ``treatment_value`` are
        the adjusted means at the pooled covariate means; ``effect`` their difference with a
        normal reference; ``rel_effect = treatment_value / control_value - 1`` with a delta-method
        (or Fieller) interval that includes the covariance of the two adjusted means;
        ``variance_ratio`` and ``unadjusted`` (the z-test without adjustment) beside.

    Raises
    ------
    ZeroVarianceError
        A constant covariate, or covariates collinear with each other (named in the message).
    InsufficientDataError
        An arm with fewer than two complete rows, or fewer rows than parameters.
    InputError
        HC2 with a unit of leverage 1 (a category with one unit in an arm); NaN under 'raise'.

    Notes
    -----
    Covariates are centred at their pooled means, so the coefficient of each arm indicator is the
    arm's adjusted mean. The sandwich ``(Z'Z)^-1 (sum w_i e_i^2 z_i z_i') (Z'Z)^-1`` is computed
    from mergeable sums in three passes over the data. With one categorical covariate and
    ``interaction=True`` the estimate is the post-stratified difference
    ``sum_s w_s (ybar_ts - ybar_cs)`` with pooled stratum shares ``w_s`` (Miratrix et al. 2013).

    From :class:`RegressionStats` (sums, no rows) the model is Lin's, fitted per arm, and the
    variance of each adjusted mean is the classical one, ``s_g^2 (1/n_g + d' S_xx^-1 d)`` with
    ``d = xbar - xbar_g`` (as OLS fitted in each arm reports): residuals, and so HC variances,
    need the rows. Under randomisation ``d`` vanishes and both give ``Var(e_g) / n_g``.

    References
    ----------
    Lin, W. (2013). Agnostic notes on regression adjustments to experimental data. Annals of
    Applied Statistics 7, 295-318.
    Miratrix, L., Sekhon, J., Yu, B. (2013). Adjusting treatment effect estimates by
    post-stratification in randomized experiments. JRSS B 75, 369-396.

    Examples
    --------
    >>> import numpy as np, pandas as pd, neyman
    >>> rng = np.random.default_rng(5)
    >>> n = 4000
    >>> df = pd.DataFrame({"arm": rng.integers(0, 2, n), "x1": rng.normal(0, 1, n),
    ...                    "x2": rng.normal(0, 1, n), "country": rng.choice(["de", "fr", "us"], n)})
    >>> df["y"] = 0.2 * df.arm + df.x1 + 0.5 * df.x2 + (df.country == "us") + rng.normal(0, 1, n)
    >>> res = neyman.regression_adjust(df, metric="y", variant="arm", control=0,
    ...                                covariates=["x1", "x2"], categorical="country")
    >>> round(res[0].effect, 3), round(res[0].variance_ratio, 2)
    (0.13, 0.4)
    """
    opts = Options.checked(alternative, confidence_level, relative_ci, nan_policy)
    check_adjust_options(cov_type, interaction, missing_covariate)
    if isinstance(data, Mapping):
        if metric is not None or variant is not None or covariates is not None or categorical:
            raise InputError(
                "with RegressionStats, pass only control=; the covariates are in the stats"
            )
        return _from_stats(data, control, opts)
    if metric is None or variant is None:
        raise InputError("with a data frame, pass metric=<column>, variant=<column>, control=")
    codes = variant_codes(data, variant, control)
    check_cluster(cluster, vcov)
    if cluster is not None:
        if missing_covariate != "nan_policy":
            raise InputError(
                "regression_adjust with cluster= takes missing covariates by nan_policy; "
                "missing_covariate='indicator' is not available with clusters"
            )
        covs = column_list("covariates", covariates)
        cats = column_list("categorical", categorical)
        if not covs and not cats:
            raise InputError("give at least one covariate")
        frame = as_frame(data)
        check_two_arms(codes.labels, variant, control)
        return AnalysisResult(
            tuple(
                clustered_results(
                    frame,
                    codes,
                    label=metric,
                    columns=(metric, *covs),
                    categorical=cats,
                    cluster=cluster,
                    vcov=vcov,
                    opts=opts,
                    interacted=interaction,
                    method="lin" if interaction else "ancova",
                    covariate=", ".join([*covs, *cats]),
                )
            )
        )
    results = adjusted_results(
        data,
        codes,
        metric=metric,
        label=metric,
        covariates=column_list("covariates", covariates),
        categorical=column_list("categorical", categorical),
        interaction=interaction,
        cov_type=cov_type,
        missing=missing_covariate,
        opts=opts,
        method="lin" if interaction else "ancova",
    )
    return AnalysisResult(tuple(results))


def _nan_results(
    label: str,
    labels: list[str],
    codes: VariantCodes,
    covariates: Sequence[str],
    categorical: Sequence[str],
    opts: Options,
    method: str,
) -> list[TestResult]:
    """nan_policy='propagate' with NaN present: NaN results, row counts as given."""
    counts = np.bincount(codes.codes, minlength=len(labels))
    out: list[TestResult] = []
    for k in range(1, len(labels)):
        common: dict[str, Any] = {
            "metric": label,
            "control": labels[0],
            "treatment": labels[k],
            "alternative": opts.alternative,
            "confidence_level": opts.confidence_level,
            "relative_ci": opts.relative_ci,
            "n_control": int(counts[0]),
            "n_treatment": int(counts[k]),
            **dict.fromkeys(_FIELDS, math.nan),
        }
        out.append(
            AdjustedResult(
                method=method,
                covariate=", ".join([*covariates, *categorical]),
                variance_ratio=math.nan,
                unadjusted=TestResult(method="z", **common),
                **common,
            )
        )
    return out
