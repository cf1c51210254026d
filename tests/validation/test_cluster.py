"""Bad input to ``neyman.ols``, ``neyman.cluster_stats`` and ``ClusterStats``: each case raises the
documented exception class with a message naming the argument (or, for ``nan_policy``, behaves
as documented)."""

from __future__ import annotations

import math
from typing import Any

import neyman
import numpy as np
import pytest
from neyman import (
    InputError,
    InputTypeError,
    InsufficientDataError,
    LengthMismatchError,
    ZeroVarianceError,
)

from tests.conftest import check_raises


def _data(n: int = 60, g: int = 6) -> tuple[Any, Any, Any]:
    rng = np.random.default_rng(0)
    cl = np.arange(n) % g
    x = rng.normal(size=n)
    y = x + rng.normal(size=n)
    return y, x, cl


def test_options() -> None:
    y, x, cl = _data()
    check_raises(InputError, "vcov == 'HC1'", neyman.ols, y, x, cluster=cl, vcov="HC1")
    check_raises(InputError, "alternative", neyman.ols, y, x, cluster=cl, alternative="larger")
    check_raises(InputError, "confidence_level", neyman.ols, y, x, confidence_level=1.5)
    check_raises(InputError, "nan_policy", neyman.ols, y, x, nan_policy="drop")
    check_raises(InputTypeError, "intercept", neyman.ols, y, x, intercept="yes")
    check_raises(InputError, "intercept=False", neyman.ols, y, None, intercept=False)


def test_clusters() -> None:
    y, x, cl = _data()
    check_raises(InsufficientDataError, "cluster has 1 cluster; at least 2", neyman.ols, y, x,
                 cluster=np.zeros(60, dtype=int))  # fmt: skip
    check_raises(LengthMismatchError, "cluster has length 59", neyman.ols, y, x, cluster=cl[:-1])
    check_raises(InputTypeError, "cluster must be an array", neyman.ols, y, x, cluster="city")
    ids: list[Any] = [f"c{v}" for v in cl]
    ids[3] = None
    check_raises(InputError, "cluster has 1 missing value", neyman.ols, y, x, cluster=ids)
    with_nan = cl.astype(float)
    with_nan[0] = np.nan
    check_raises(InputError, "cluster has 1 missing value", neyman.ols, y, x, cluster=with_nan)
    two = [cl, cl % 2]
    for vcov in ("CR2", "CR3"):
        check_raises(InputError, f"vcov == '{vcov}' is not defined for two-way", neyman.ols, y, x,
                     cluster=two, vcov=vcov)  # fmt: skip
    check_raises(LengthMismatchError, r"cluster\[1\] has length", neyman.ols, y, x,
                 cluster=[cl, cl[:-2]])  # fmt: skip


def test_leverage_one_cluster_for_cr2_and_cr3() -> None:
    # A dummy that is 1 on cluster 0 only: that cluster's rows fit it exactly (leverage 1).
    y, x, cl = _data()
    d = (cl == 0).astype(float)
    for vcov in ("CR2", "CR3"):
        check_raises(InputError, f"vcov: {vcov} is undefined: cluster 0 has leverage 1",
                     neyman.ols, y, {"x": x, "d": d}, cluster=cl, vcov=vcov)  # fmt: skip
    assert math.isfinite(neyman.ols(y, {"x": x, "d": d}, cluster=cl, vcov="CR1").se[1])


def test_data_types_and_lengths() -> None:
    y, x, cl = _data()
    check_raises(InputTypeError, "y", neyman.ols, np.array(["a"] * 60), x, cluster=cl)
    check_raises(InputTypeError, "X has dtype", neyman.ols, y, np.array([["a", "b"]] * 60))
    check_raises(InputTypeError, "X column 'x'", neyman.ols, y, {"x": ["a"] * 60})
    check_raises(InputTypeError, "keys of a dict", neyman.ols, y, {1: x})
    check_raises(LengthMismatchError, "X column 'x' has length 59", neyman.ols, y, {"x": x[:-1]})
    check_raises(InputError, "X must be one- or two-dimensional", neyman.ols, y,
                 np.zeros((60, 2, 2)))  # fmt: skip


def test_collinear_and_too_few_rows() -> None:
    y, x, cl = _data()
    check_raises(ZeroVarianceError, "column 'z' is constant", neyman.ols, y, {"x": x, "z": 2 * x},
                 cluster=cl)  # fmt: skip
    check_raises(ZeroVarianceError, "column 'c' is constant", neyman.ols, y,
                 {"c": np.ones(60)}, cluster=cl)  # fmt: skip
    check_raises(InsufficientDataError, "y has 2 observations; at least 3", neyman.ols, y[:2],
                 x[:2], cluster=[1, 2])  # fmt: skip


def test_nan_policy_and_infinity() -> None:
    y, x, cl = _data()
    y = y.copy()
    y[[4, 9]] = np.nan
    res = neyman.ols(y, x, cluster=cl)
    assert np.isnan(res.params).all()
    assert np.isnan(res.pvalue).all()
    check_raises(InputError, r"has 2 NaN values \(nan_policy='raise'\)", neyman.ols, y, x,
                 cluster=cl, nan_policy="raise")  # fmt: skip
    omit = neyman.ols(y, x, cluster=cl, nan_policy="omit")
    keep = ~np.isnan(y)
    dropped = neyman.ols(y[keep], x[keep], cluster=cl[keep])
    np.testing.assert_array_equal(omit.params, dropped.params)
    assert omit.n == 58
    y[4] = np.inf
    check_raises(InputError, "infinite", neyman.ols, y, x, cluster=cl, nan_policy="omit")


def test_cluster_stats_arguments() -> None:
    y, x, cl = _data()
    s = neyman.cluster_stats(y, x, cluster=cl)
    check_raises(InputError, "X and cluster must not be given", neyman.ols, s, x)
    other = neyman.cluster_stats(y, {"z": x}, cluster=cl)
    check_raises(InputError, "other: has columns", s.merge, other)
    check_raises(
        InputTypeError, "a ClusterStats merges only", s.merge, neyman.MeanStats(2, 1.0, 1.0)
    )
    strings = neyman.cluster_stats(y, x, cluster=[str(v) for v in cl])
    check_raises(InputError, "integers in one statistic and strings", s.merge, strings)
    k = np.array([1, 2])
    n = np.array([3, 3], dtype=np.uint64)
    args = (np.ones((2, 1)), np.ones((2, 1, 1)), np.ones((2, 1)), np.ones(2), np.ones(2))
    check_raises(LengthMismatchError, "n has length 1", neyman.ClusterStats.from_sums, k,
                 n[:1], *args, ["x"])  # fmt: skip
    check_raises(InputError, "sum_x: must have 2 values", neyman.ClusterStats.from_sums, k, n,
                 *args, ["x", "z"])  # fmt: skip
    check_raises(InputError, "keys: cluster 1 appears more than once",
                 neyman.ClusterStats.from_sums, [1, 1], n, *args, ["x"])  # fmt: skip
    check_raises(InputTypeError, "keys: cluster ids must all be integers or all be strings",
                 neyman.ClusterStats.from_sums, [1.5, 2.5], n, *args, ["x"])  # fmt: skip


@pytest.mark.parametrize("vcov", ["CR0", "CR1", "CR2", "CR3"])
def test_every_vcov_on_bad_clusters_counts(vcov: str) -> None:
    y, x, _ = _data()
    check_raises(InsufficientDataError, "cluster has 1 cluster", neyman.ols, y, x,
                 cluster=["a"] * 60, vcov=vcov)  # fmt: skip


# --------------------------------------------------------------------------------------------
# A/B comparisons with cluster=


def _ab(seed: int = 1, g: int = 12, n: int = 600) -> Any:
    import pandas as pd

    rng = np.random.default_rng(seed)
    city = rng.integers(0, g, n)
    arm = np.where(city % 2 == 0, "c", "t")
    y = rng.normal(0, 1, n) + rng.normal(0, 0.5, g)[city]
    return pd.DataFrame(
        {"arm": arm, "city": city, "y": y, "x": rng.normal(size=n), "d": rng.poisson(3, n) + 1.0}
    )


def test_ab_bad_cluster_arguments() -> None:
    df = _ab()
    kw = {"metric": "y", "variant": "arm", "control": "c"}
    check_raises(
        InputError, r"cluster == 'nope' is not a column", neyman.ttest, df, cluster="nope", **kw
    )
    check_raises(
        InputError,
        r"vcov == 'HC1', must be one of",
        neyman.ttest,
        df,
        cluster="city",
        vcov="HC1",
        **kw,
    )
    check_raises(
        InputTypeError, r"cluster must be the name", neyman.Experiment, df, variant="arm",
        control="c", cluster=3,
    )  # fmt: skip
    check_raises(
        InputError, r"cluster == 'nope' is not a column", neyman.Experiment, df, variant="arm",
        control="c", cluster="nope",
    )  # fmt: skip
    # Missing-covariate indicators and adjusted ratios are not taken with clusters, nor a
    # categorical with more levels than the per-cluster sums hold: said, not ignored.
    check_raises(
        InputError, r"missing_covariate='indicator' is not available with clusters",
        neyman.regression_adjust, df, covariates="x", missing_covariate="indicator",
        cluster="city", **kw,
    )  # fmt: skip
    check_raises(
        InputError, r"categorical column 'nope' is not a column", neyman.regression_adjust, df,
        covariates="x", categorical="nope", cluster="city", **kw,
    )  # fmt: skip
    exp = neyman.Experiment(df, variant="arm", control="c", cluster="city")
    check_raises(
        InputError, r"^categorical column 'x' has \d+ levels; with cluster= at most 65",
        exp.analyze, neyman.Mean("y", strata="x"),
    )  # fmt: skip
    check_raises(
        InputError, r"missing_covariate='indicator' is not available with clusters", exp.analyze,
        neyman.Mean("y", covariate=["x"], missing_covariate="indicator"),
    )  # fmt: skip
    check_raises(
        InputError, r"not adjusted by pre-period covariates", exp.analyze,
        neyman.Ratio("y", "d", numerator_covariate="x", denominator_covariate="d"),
    )  # fmt: skip


def test_ab_too_few_clusters_and_missing_ids() -> None:
    df = _ab(g=2)
    kw = {"metric": "y", "variant": "arm", "control": "c", "cluster": "city"}
    # One cluster per arm: each arm's mean is its cluster's, so CR2's adjustment is undefined.
    check_raises(
        InputError,
        r"^metric 'y': vcov: CR2 is undefined: cluster 0 has leverage 1",
        neyman.ttest,
        df,
        **kw,
    )
    # Fewer clusters than coefficients (Lin's model with three covariates: 8).
    df = _ab(g=6)
    df["x2"], df["x3"] = df["x"] ** 2, df["d"]
    check_raises(
        InsufficientDataError, r"^metric 'y': cluster has 6 clusters; at least 8 are needed",
        neyman.regression_adjust, df, covariates=["x", "x2", "x3"], **kw,
    )  # fmt: skip
    df = _ab()
    df["city"] = df["city"].astype(float)
    df.loc[3, "city"] = np.nan
    check_raises(InputError, r"cluster column 'city' has 1 missing value", neyman.ttest, df, **kw)


def test_ab_arrays_cluster_must_pair_the_arms() -> None:
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=50), rng.normal(size=60)
    ca, cb = np.arange(50) % 5, np.arange(60) % 6 + 5
    check_raises(InputTypeError, r"cluster must be a pair", neyman.ttest, a, b, cluster=ca)
    check_raises(
        LengthMismatchError, r"cluster ids of the treatment rows have length 50", neyman.ttest,
        a, b, cluster=(ca, cb[:50]),
    )  # fmt: skip
    check_raises(
        InputError, r"cluster= with arrays takes the rows", neyman.ttest, a, {"t": b},
        cluster=(ca, cb),
    )  # fmt: skip
    assert neyman.ttest(a, b, cluster=(ca, cb)).n_clusters == 11


def test_ab_nan_policy_in_the_clustered_path() -> None:
    df = _ab()
    df.loc[5, "y"] = np.nan
    kw = {"metric": "y", "variant": "arm", "control": "c", "cluster": "city"}
    check_raises(
        InputError,
        r"1 row with NaN .*nan_policy='raise'",
        neyman.ttest,
        df,
        nan_policy="raise",
        **kw,
    )
    assert math.isnan(neyman.ttest(df, **kw)[0].pvalue)
    omit = neyman.ttest(df, nan_policy="omit", **kw)[0]
    full = neyman.ttest(df.drop(index=5), **kw)[0]
    assert (omit.effect, omit.se, omit.n_control + omit.n_treatment) == (
        full.effect, full.se, full.n_control + full.n_treatment,
    )  # fmt: skip
    df.loc[6, "y"] = np.inf
    check_raises(InputError, r"infinite value", neyman.ttest, df, nan_policy="omit", **kw)
