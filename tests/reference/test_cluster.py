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
