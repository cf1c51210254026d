"""Reference tests for cluster-robust least squares (``neyman.ols``, ``ClusterStats``).

Independent references and tolerances:

1. statsmodels ``OLS(...).fit(cov_type="cluster", cov_kwds={"groups": g})`` (CR1 with Stata's
   factor, ``G - 1`` df through ``use_t=True``): coefficients, standard errors, p-values, one-way
   on Petersen's data and on seeded data. statsmodels' two-way (two group columns) scales each of
   ``V_A``, ``V_B``, ``V_AB`` by its own ``G_i/(G_i-1)`` (as Stata's cluster2 and Petersen's
   table), while neyman follows pyfixest and fixest (one factor from ``min(G_A, G_B)``): that
   convention is checked against pyfixest, and the per-term one is rebuilt from neyman's one-way
   CR1 fits and checked against statsmodels and Petersen's table. Both sides solve the same
   normal equations in float64 (neyman from shifted per-cluster sums, statsmodels by a QR/pinv of
   the rows), so they agree to rounding: ``rtol=1e-9`` (observed: 3e-14 at most; the bound
   leaves room for the conditioning of designs with several covariates).
2. pyfixest 0.60 ``feols(..., vcov={"CRV1": "g"})``, ``{"CRV3": "g"}`` and two-way
   ``{"CRV1": "g1+g2"}``: the same tolerance. pyfixest's CRV3 is ``G/(G-1) (N-1)/(N-p)`` times the
   jackknife sum where neyman's CR3 uses ``(G-1)/G`` (MacKinnon, Nielsen and Webb 2023): the test
   rescales by the ratio of the two factors, stated here rather than hidden.
3. Petersen's published table (Stata; 4 significant digits): coefficients and standard errors
   clustered by firm, by year and by both, to half a unit of the last printed digit.
4. CR2 and its Bell-McCaffrey degrees of freedom against a direct implementation written below
   from the textbook formulas: ``n_g x n_g`` blocks ``(I - H_gg)^{-1/2}`` by ``numpy.linalg.eigh``,
   and the df as ``(sum l)^2 / sum l^2`` over the eigenvalues ``l`` of ``G'G`` with the full
   ``N x N`` ``I - H`` (Imbens and Kolesar 2016, eq. 9): ``rtol=1e-9`` for the covariance, ``1e-8``
   for the df (a ratio of sums of squared eigenvalues). CR3 against explicit leave-one-cluster-out
   refits by ``numpy.linalg.lstsq``.
5. No clusters: CR0 and CR2 against statsmodels ``HC0`` and ``HC2``; CR1 against ``HC1``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import neyman
import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

RTOL = 1e-9
DATA = Path(__file__).resolve().parents[1] / "data" / "petersen_test_data.csv"


@pytest.fixture(scope="module")
def petersen() -> pd.DataFrame:
    return pd.read_csv(DATA)


def _data(seed: int, n: int = 600, g: int = 25, k: int = 2) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    # Unequal cluster sizes: cluster ids drawn with Zipf-like weights.
    w = 1.0 / np.arange(1, g + 1) ** 0.7
    cl = rng.choice(g, size=n, p=w / w.sum())
    X = rng.normal(size=(n, k)) + rng.normal(size=(g, k))[cl]
    y = 1.0 + X @ np.linspace(0.5, -0.5, k) + rng.normal(size=g)[cl] + rng.normal(size=n)
    return {"y": y, "X": X, "g": cl}


def _sm(y: Any, X: Any, groups: Any = None, cov: str = "cluster") -> Any:
    model = sm.OLS(y, sm.add_constant(X))
    if groups is None:
        return model.fit(cov_type=cov, use_t=True)
    return model.fit(cov_type="cluster", cov_kwds={"groups": groups}, use_t=True)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_cr1_against_statsmodels(seed: int) -> None:
    d = _data(seed)
    res = neyman.ols(d["y"], d["X"], cluster=d["g"], vcov="CR1")
    ref = _sm(d["y"], d["X"], d["g"])
    np.testing.assert_allclose(res.params, ref.params, rtol=RTOL)
    np.testing.assert_allclose(res.vcov, ref.cov_params(), rtol=RTOL)
    np.testing.assert_allclose(res.se, ref.bse, rtol=RTOL)
    np.testing.assert_allclose(res.pvalue, ref.pvalues, rtol=1e-7)
    assert res.df.tolist() == [len(np.unique(d["g"])) - 1.0] * 3


def test_petersen_against_statsmodels_and_published(petersen: pd.DataFrame) -> None:
    y, x = petersen["y"], petersen[["x"]]
    firm = neyman.ols(y, x, cluster=petersen["firmid"], vcov="CR1")
    year = neyman.ols(y, x, cluster=petersen["year"], vcov="CR1")
    both = neyman.ols(y, x, cluster=[petersen["firmid"], petersen["year"]])
    assert both.vcov_type == "CR1"
    assert firm.names == ("intercept", "x")
    cells = petersen["firmid"].astype(str) + "-" + petersen["year"].astype(str)
    inter = neyman.ols(y, x, cluster=cells, vcov="CR1")
    per_term_se = np.sqrt(np.diag(firm.vcov + year.vcov - inter.vcov))
    # neyman's convention: the CR0 sum times min(G)/(min(G)-1) (N-1)/(N-p).
    n, G = len(y), 10
    cr0 = [
        neyman.ols(y, x, cluster=c, vcov="CR0").vcov
        for c in (petersen["firmid"], petersen["year"], cells)
    ]
    min_g = (cr0[0] + cr0[1] - cr0[2]) * G / (G - 1) * (n - 1) / (n - 2)
    np.testing.assert_allclose(both.vcov, min_g, rtol=RTOL)
    for res, groups in ((firm, petersen["firmid"]), (year, petersen["year"])):
        ref = _sm(y.to_numpy(), x.to_numpy(), groups.to_numpy())
        np.testing.assert_allclose(res.params, ref.params, rtol=RTOL)
        np.testing.assert_allclose(res.se, ref.bse, rtol=RTOL)
    ref2 = _sm(y.to_numpy(), x.to_numpy(), petersen[["firmid", "year"]].to_numpy())
    np.testing.assert_allclose(per_term_se, ref2.bse, rtol=RTOL)
    # Petersen's page, Stata: 4 significant digits.
    np.testing.assert_allclose(firm.params, [0.0297, 1.0348], atol=5e-5)
    np.testing.assert_allclose(firm.se, [0.0670, 0.0506], atol=5e-5)
    np.testing.assert_allclose(year.se, [0.0234, 0.0334], atol=5e-5)
    np.testing.assert_allclose(per_term_se, [0.0651, 0.0536], atol=5e-5)
    assert firm.n_clusters == 500
    assert year.n_clusters == 10
    assert both.n_clusters == 10
    assert both.df.tolist() == [9.0, 9.0]


def test_against_pyfixest(petersen: pd.DataFrame) -> None:
    pf = pytest.importorskip("pyfixest")
    d = _data(4, k=1)
    rng = np.random.default_rng(40)
    h = rng.integers(0, 7, len(d["y"]))  # crossed with g, not nested
    df = pd.DataFrame({"y": d["y"], "x": d["X"][:, 0], "g": d["g"], "h": h})
    G = df["g"].nunique()
    n, p = len(df), 2
    for spec, vcov, cluster in (
        ({"CRV1": "g"}, "CR1", df["g"]),
        ({"CRV3": "g"}, "CR3", df["g"]),
        ({"CRV1": "g+h"}, "CR1", [df["g"], df["h"]]),
    ):
        fit = pf.feols("y ~ x", data=df, vcov=spec)
        res = neyman.ols(df["y"], df[["x"]], cluster=cluster, vcov=vcov)
        ref_vcov = np.asarray(fit._vcov)
        if vcov == "CR3":
            # pyfixest: G/(G-1) (N-1)/(N-p) times the sum; neyman: (G-1)/G times it.
            ref_vcov = ref_vcov * ((G - 1) / G) / (G / (G - 1) * (n - 1) / (n - p))
        np.testing.assert_allclose(res.params, fit.coef().to_numpy(), rtol=RTOL)
        np.testing.assert_allclose(res.vcov, ref_vcov, rtol=RTOL)
        assert res.df[0] == fit._df_t
    fit = pf.feols("y ~ x", data=petersen, vcov={"CRV1": "firmid+year"})
    res = neyman.ols(petersen["y"], petersen[["x"]], cluster=[petersen["firmid"], petersen["year"]])
    np.testing.assert_allclose(res.vcov, fit._vcov, rtol=RTOL)


def _naive_cr2(y: Any, X: Any, g: Any, contrasts: Any = None) -> tuple[Any, Any, Any]:
    """CR2 and its Bell-McCaffrey df from n_g x n_g hat-matrix blocks (the textbook formulas),
    for each coefficient or for each of ``contrasts`` (rows of weights)."""
    X = np.column_stack([np.ones(len(y)), X])
    n, p = X.shape
    M = np.linalg.inv(X.T @ X)
    b = M @ X.T @ y
    e = y - X @ b
    ids = np.unique(g)
    adj = {}
    meat = np.zeros((p, p))
    for k in ids:
        idx = np.flatnonzero(g == k)
        Xg = X[idx]
        w, U = np.linalg.eigh(np.eye(len(idx)) - Xg @ M @ Xg.T)
        A = U @ np.diag(w**-0.5) @ U.T
        adj[k] = (idx, A)
        s = Xg.T @ A @ e[idx]
        meat += np.outer(s, s)
    V = M @ meat @ M
    IH = np.eye(n) - X @ M @ X.T
    df = []
    for c in np.eye(p) if contrasts is None else np.asarray(contrasts, dtype=float):
        Gm = np.zeros((n, len(ids)))
        for col, k in enumerate(ids):
            idx, A = adj[k]
            q = np.zeros(n)
            q[idx] = A @ X[idx] @ M @ c
            Gm[:, col] = IH @ q
        lam = np.linalg.eigvalsh(Gm.T @ Gm)
        df.append(lam.sum() ** 2 / (lam**2).sum())
    return b, V, np.array(df)


@pytest.mark.parametrize("seed", [5, 6])
def test_cr2_and_bm_df_against_direct_matrices(seed: int) -> None:
    d = _data(seed, n=240, g=12)
    res = neyman.ols(d["y"], d["X"], cluster=d["g"])
    assert res.vcov_type == "CR2"
    b, V, df = _naive_cr2(d["y"], d["X"], d["g"])
    np.testing.assert_allclose(res.params, b, rtol=RTOL)
    np.testing.assert_allclose(res.vcov, V, rtol=RTOL)
    np.testing.assert_allclose(res.df, df, rtol=1e-8)
    # The df lie below G - 1 with unequal clusters (Bell and McCaffrey's point).
    assert np.all(res.df < 11.0)


def test_cr3_against_leave_one_cluster_out() -> None:
    d = _data(7, n=200, g=10)
    res = neyman.ols(d["y"], d["X"], cluster=d["g"], vcov="CR3")
    X = np.column_stack([np.ones(len(d["y"])), d["X"]])
    b = np.linalg.lstsq(X, d["y"], rcond=None)[0]
    ids = np.unique(d["g"])
    jack = np.array(
        [np.linalg.lstsq(X[d["g"] != k], d["y"][d["g"] != k], rcond=None)[0] for k in ids]
    )
    G = len(ids)
    np.testing.assert_allclose(res.vcov, (G - 1) / G * (jack - b).T @ (jack - b), rtol=RTOL)


@pytest.mark.parametrize(("vcov", "hc"), [("CR0", "HC0"), ("CR1", "HC1"), ("CR2", "HC2")])
def test_no_clusters_is_hc(vcov: str, hc: str) -> None:
    d = _data(8)
    res = neyman.ols(d["y"], d["X"], vcov=vcov)
    ref = _sm(d["y"], d["X"], cov=hc)
    np.testing.assert_allclose(res.params, ref.params, rtol=RTOL)
    np.testing.assert_allclose(res.vcov, ref.cov_params(), rtol=RTOL)
    assert res.n_clusters == len(d["y"])


def test_cr2_singletons_equal_hc2_bm_df() -> None:
    d = _data(9, n=60, g=5)
    each = neyman.ols(d["y"], d["X"], cluster=np.arange(60))
    rows = neyman.ols(d["y"], d["X"])
    _, V, df = _naive_cr2(d["y"], d["X"], np.arange(60))
    np.testing.assert_allclose(rows.vcov, V, rtol=RTOL)
    np.testing.assert_allclose(rows.df, df, rtol=1e-8)
    np.testing.assert_allclose(each.df, df, rtol=1e-8)


def test_intervals_tests_and_design_effect_by_hand() -> None:
    from scipy import stats

    d = _data(10)
    res = neyman.ols(d["y"], d["X"], cluster=d["g"], confidence_level=0.9)
    q = stats.t.ppf(0.95, res.df)
    np.testing.assert_allclose(res.ci_low, res.params - q * res.se, rtol=1e-12)
    np.testing.assert_allclose(res.pvalue, 2 * stats.t.sf(np.abs(res.params / res.se), res.df))
    _low, high = res.confidence_interval(0.99)
    q99 = stats.t.ppf(0.995, res.df)
    np.testing.assert_allclose(high, res.params + q99 * res.se, rtol=1e-12)
    ref = sm.OLS(d["y"], sm.add_constant(d["X"])).fit()
    np.testing.assert_allclose(res.design_effect, np.diag(res.vcov) / ref.bse**2, rtol=1e-9)
    np.testing.assert_allclose(res.n_effective, len(d["y"]) / res.design_effect)
    # One-way ANOVA ICC of the OLS residuals, computed here from the residuals themselves.
    e = ref.resid
    g = d["g"]
    ids, n_g = np.unique(g, return_counts=True)
    N, G = len(e), len(ids)
    means = np.array([e[g == k].mean() for k in ids])
    msb = np.sum(n_g * (means - e.mean()) ** 2) / (G - 1)
    msw = sum(((e[g == k] - m) ** 2).sum() for k, m in zip(ids, means, strict=True)) / (N - G)
    n0 = (N - np.sum(n_g**2) / N) / (G - 1)
    np.testing.assert_allclose(res.icc, (msb - msw) / (msb + (n0 - 1) * msw), rtol=1e-9)


def test_from_sums_equals_rows() -> None:
    d = _data(11, k=2)
    frame = pd.DataFrame({"y": d["y"], "a": d["X"][:, 0], "b": d["X"][:, 1], "g": d["g"]})
    grp = frame.groupby("g")
    keys = sorted(frame["g"].unique())
    X = frame[["a", "b"]].to_numpy()
    sum_xx = np.array([X[frame["g"] == k].T @ X[frame["g"] == k] for k in keys])
    stats = neyman.ClusterStats.from_sums(
        [int(k) for k in keys],
        grp.size().to_numpy().astype(np.uint64),
        grp[["a", "b"]].sum().to_numpy(),
        sum_xx,
        np.array([X[frame["g"] == k].T @ frame["y"][frame["g"] == k] for k in keys]),
        grp["y"].sum().to_numpy(),
        grp["y"].apply(lambda v: float((v * v).sum())).to_numpy(),
        ["a", "b"],
    )
    res = neyman.ols(stats, vcov="CR1")
    ref = _sm(d["y"], d["X"], d["g"])
    np.testing.assert_allclose(res.params, ref.params, rtol=1e-9)
    np.testing.assert_allclose(res.vcov, ref.cov_params(), rtol=1e-8)
    assert res.names == ("intercept", "a", "b")


def test_bm_df_of_a_contrast() -> None:
    """The df of a contrast c'b (what the A/B wiring asks for: treatment minus control)."""
    from neyman import _neyman

    d = _data(12, n=240, g=12)
    contrasts = [[0.0, 1.0, -1.0], [1.0, 0.5, 0.25]]
    s = neyman.cluster_stats(d["y"], d["X"], cluster=d["g"])
    fit = _neyman.cluster_ols(s, "CR2", contrasts)
    _, _, df = _naive_cr2(d["y"], d["X"], d["g"], contrasts)
    np.testing.assert_allclose(fit["contrast_df"], df, rtol=1e-8)


# --------------------------------------------------------------------------------------------
# A/B comparisons with cluster= (ttest, proportions, ratio, cuped, regression_adjust, Experiment)
#
# The comparison of a treatment arm with the control is the treatment coefficient of the same
# regressions fitted by statsmodels (``y ~ 1 + treat``; ``+ (x - xbar)`` for CUPED's ANCOVA;
# ``+ treat:(x - xbar)`` for Lin's model; the weighted fit of ``num / den`` with weights ``den``
# for a ratio metric, whose coefficients are the ratios of sums), clustered (CR1 with
# ``use_t=True``: ``G - 1`` df): the same float64 normal equations, ``rtol=1e-9`` as above. CR2 and
# the Bell-McCaffrey df of the contrast against ``_naive_cr2`` (``n_g x n_g`` blocks). The relative
# effect against the delta method written out from statsmodels' covariance of the arm means;
# the design effect against the clustered over the classical OLS variance.


def _ab_frame(seed: int, g: int = 30, n: int = 2400, nested: bool = True) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    city = rng.integers(0, g, n)
    treat = (city % 2 == 1) if nested else rng.random(n) < 0.5
    x = rng.normal(0, 1, n) + rng.normal(0, 0.7, g)[city]
    u = rng.normal(0, 0.6, g)[city]
    y = 2.0 + 0.15 * treat + 0.8 * x + 0.3 * treat * x + u + rng.normal(0, 1 + 0.3 * treat, n)
    conv = (rng.random(n) < 0.2 + 0.04 * treat + 0.1 * (u > 0)).astype(float)
    imp = rng.poisson(6, n).astype(float)
    clk = rng.binomial(imp.astype(int), 0.1 + 0.02 * treat).astype(float)
    arm = np.where(treat, "treatment", "control")
    return pd.DataFrame(
        {"arm": arm, "city": city, "y": y, "x": x, "conv": conv, "imp": imp, "clk": clk}
    )


def _sm_treat(df: pd.DataFrame, y: Any, extra: Any = None, weights: Any = None) -> Any:
    treat = (df["arm"] == "treatment").to_numpy(dtype=float)
    cols = [np.ones(len(df)), treat] + ([] if extra is None else list(extra))
    X = np.column_stack(cols)
    y = np.asarray(y, dtype=float)
    model = sm.OLS(y, X) if weights is None else sm.WLS(y, X, weights=np.asarray(weights))
    return model.fit(cov_type="cluster", cov_kwds={"groups": df["city"].to_numpy()}, use_t=True)


def _check_treat(res: Any, fit: Any, what: str) -> None:
    for got, want, name in [
        (res.effect, fit.params[1], "effect"),
        (res.se, fit.bse[1], "se"),
        (res.pvalue, fit.pvalues[1], "pvalue"),
        (res.ci_low, fit.conf_int()[1, 0], "ci_low"),
        (res.ci_high, fit.conf_int()[1, 1], "ci_high"),
        (res.df, fit.df_resid_inference, "df"),
    ]:
        assert got == pytest.approx(want, rel=1e-9, abs=1e-12), (what, name, got, want)


@pytest.mark.parametrize("nested", [True, False])
def test_ab_cr1_against_statsmodels(nested: bool) -> None:
    df = _ab_frame(21, nested=nested)
    opts = {"variant": "arm", "control": "control", "cluster": "city", "vcov": "CR1"}
    xc = df["x"].to_numpy() - df["x"].mean()
    treat = (df["arm"] == "treatment").to_numpy(dtype=float)
    cases = [
        (neyman.ttest(df, metric="y", **opts)[0], _sm_treat(df, df["y"]), "ttest"),
        (neyman.ztest(df, metric="y", **opts)[0], _sm_treat(df, df["y"]), "ztest"),
        (
            neyman.proportions(df, metric="conv", **opts)[0],
            _sm_treat(df, df["conv"]),
            "proportions",
        ),
        (
            neyman.cuped(df, metric="y", covariate="x", **opts)[0],
            _sm_treat(df, df["y"], [xc]),
            "cuped (ANCOVA)",
        ),
        (
            neyman.regression_adjust(df, metric="y", covariates=["x"], **opts)[0],
            _sm_treat(df, df["y"], [xc, treat * xc]),
            "regression_adjust (Lin)",
        ),
        (
            neyman.regression_adjust(df, metric="y", covariates="x", interaction=False, **opts)[0],
            _sm_treat(df, df["y"], [xc]),
            "regression_adjust (additive)",
        ),
    ]
    for res, fit, what in cases:
        assert isinstance(res, neyman.ClusteredResult), what
        _check_treat(res, fit, what)


@pytest.mark.parametrize("interaction", [True, False])
def test_ab_categorical_covariates_against_statsmodels(interaction: bool) -> None:
    """Categorical covariates with cluster=: indicators of every level but the first (centred, as
    the numeric covariates; interacted with the arm in Lin's model), the same fit as statsmodels'
    clustered OLS on those columns; with strata only, the effect is the post-stratified one."""
    df = _ab_frame(23)
    rng = np.random.default_rng(5)
    df["seg"] = rng.choice(["a", "b", "c"], len(df))
    df["tier"] = rng.choice([1, 2], len(df))
    opts = {"variant": "arm", "control": "control", "cluster": "city", "vcov": "CR1"}
    res = neyman.regression_adjust(
        df, metric="y", covariates=["x"], categorical=["seg", "tier"], interaction=interaction,
        **opts,
    )[0]  # fmt: skip
    treat = (df["arm"] == "treatment").to_numpy(dtype=float)
    cols = [df["x"].to_numpy()] + [(df["seg"] == lev).to_numpy(float) for lev in ("b", "c")]
    cols.append((df["tier"] == 2).to_numpy(float))
    centred = [c - c.mean() for c in cols]
    extra = centred + ([treat * c for c in centred] if interaction else [])
    _check_treat(res, _sm_treat(df, df["y"], extra), f"categorical, interaction={interaction}")
    exp = neyman.Experiment(df, variant="arm", control="control", cluster="city", vcov="CR1")
    ps = exp.analyze(neyman.Mean("y", strata="seg"))["y"][0]
    plain = neyman.Experiment(df, variant="arm", control="control").analyze(
        neyman.Mean("y", strata="seg")
    )["y"][0]
    assert ps.method == "post-stratified-CR1"
    assert ps.effect == pytest.approx(plain.effect, rel=1e-12)


def test_ab_ratio_is_the_weighted_fit() -> None:
    # Coefficients sum(clk)/sum(imp) per arm; CR1 of the weighted fit is the clustered delta method.
    df = _ab_frame(22)
    res = neyman.ratio(
        df, numerator="clk", denominator="imp", variant="arm", control="control",
        cluster="city", vcov="CR1",
    )[0]  # fmt: skip
    # Units with no impression are units (weight 0; they count in N of CR1's factor).
    imp = df["imp"].to_numpy()
    y = np.divide(df["clk"].to_numpy(), imp, out=np.zeros(len(df)), where=imp > 0)
    assert (imp == 0).any()
    fit = _sm_treat(df, y, weights=imp)
    _check_treat(res, fit, "ratio")
    for arm, value in (("control", res.control_value), ("treatment", res.treatment_value)):
        rows = df[df["arm"] == arm]
        assert value == pytest.approx(rows["clk"].sum() / rows["imp"].sum(), rel=1e-12)


def test_ab_cr2_and_contrast_df_against_direct_matrices() -> None:
    df = _ab_frame(23, g=12, n=900)
    treat = (df["arm"] == "treatment").to_numpy(dtype=float)
    _, V, dfs = _naive_cr2(df["y"].to_numpy(), treat[:, None], df["city"].to_numpy())
    res = neyman.ttest(df, metric="y", variant="arm", control="control", cluster="city")[0]
    assert res.vcov_type == "CR2"
    assert res.se == pytest.approx(np.sqrt(V[1, 1]), rel=1e-9)
    assert res.df == pytest.approx(dfs[1], rel=1e-8)
    # Lin's model: the treatment coefficient of y ~ 1 + treat + xc + treat:xc.
    xc = df["x"].to_numpy() - df["x"].mean()
    X = np.column_stack([treat, xc, treat * xc])
    _, V, dfs = _naive_cr2(df["y"].to_numpy(), X, df["city"].to_numpy())
    lin = neyman.regression_adjust(
        df, metric="y", variant="arm", control="control", covariates=["x"], cluster="city"
    )[0]
    assert lin.se == pytest.approx(np.sqrt(V[1, 1]), rel=1e-9)
    assert lin.df == pytest.approx(dfs[1], rel=1e-8)


def test_ab_relative_effect_design_effect_and_icc_by_hand() -> None:
    df = _ab_frame(24)
    res = neyman.ttest(
        df, metric="y", variant="arm", control="control", cluster="city", vcov="CR1"
    )[0]
    # The arms' means and their clustered covariance: y on the two arm indicators.
    D = np.column_stack([(df["arm"] == a).to_numpy(dtype=float) for a in ("control", "treatment")])
    groups = df["city"].to_numpy()
    y = df["y"].to_numpy()
    fit = sm.OLS(y, D).fit(cov_type="cluster", cov_kwds={"groups": groups}, use_t=True)
    (m0, m1), V = np.asarray(fit.params), np.asarray(fit.cov_params())
    grad = np.array([-m1 / m0**2, 1 / m0])
    assert res.rel_effect == pytest.approx(m1 / m0 - 1, rel=1e-12)
    assert res.rel_se == pytest.approx(np.sqrt(grad @ V @ grad), rel=1e-9)
    # Design effect: clustered over classical OLS variance of the effect.
    iid = sm.OLS(y, np.column_stack([np.ones(len(df)), D[:, 1]])).fit()
    assert res.design_effect == pytest.approx(res.se**2 / iid.bse[1] ** 2, rel=1e-9)
    assert res.effective_n == pytest.approx(len(df) / res.design_effect, rel=1e-12)
    # ICC of the residuals by one-way ANOVA.
    e = y - D @ np.asarray(fit.params)
    ids, inv = np.unique(groups, return_inverse=True)
    g, n = len(ids), len(e)
    sizes = np.bincount(inv)
    means = np.bincount(inv, weights=e) / sizes
    msb = np.sum(sizes * (means - e.mean()) ** 2) / (g - 1)
    msw = np.sum((e - means[inv]) ** 2) / (n - g)
    n0 = (n - np.sum(sizes**2) / n) / (g - 1)
    assert res.icc == pytest.approx((msb - msw) / (msb + (n0 - 1) * msw), rel=1e-9)
    assert res.n_clusters == g


def test_ab_arrays_experiment_and_frame_agree() -> None:
    df = _ab_frame(25)
    c, t = df[df["arm"] == "control"], df[df["arm"] == "treatment"]
    frame = neyman.ttest(df, metric="y", variant="arm", control="control", cluster="city")[0]
    arrays = neyman.ttest(c["y"], t["y"], cluster=(c["city"], t["city"]))
    exp = neyman.Experiment(df, variant="arm", control="control", cluster="city")
    res = exp.analyze(neyman.Mean("y"), neyman.Ratio("clk", "imp"))
    # The same rows (arrays in another order: sums in another order, so to rounding).
    for got in (res[0], arrays):
        for f in ("effect", "se", "df", "pvalue", "design_effect", "icc"):
            assert getattr(got, f) == pytest.approx(getattr(frame, f), rel=1e-12), f
    ratio = neyman.ratio(c["clk"], c["imp"], t["clk"], t["imp"], cluster=(c["city"], t["city"]))
    assert ratio.effect == pytest.approx(res[1].effect, rel=1e-12)
    assert ratio.se == pytest.approx(res[1].se, rel=1e-12)
    # Randomised by city: the SRM check counts cities.
    assert sum(res.srm.observed.values()) == df["city"].nunique()
    # Another level recomputes on the same rows.
    lo, hi = frame.confidence_interval(0.8)
    assert frame.ci_low < lo < frame.effect < hi < frame.ci_high
