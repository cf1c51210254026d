"""Reference tests for ``neyman.wild_cluster_bootstrap`` (restricted wild cluster bootstrap, WCR).

What is checked, and against which independent reference:

- **wildboottest 0.3.2** (the package pyfixest's ``Feols.wildboottest`` calls), under full
  enumeration of the ``2**G`` Rademacher sign vectors (``2**G < B``: both enumerate, so both are
  deterministic): the CR1 t statistic, the whole bootstrap distribution of ``t*`` (sorted), and the
  p-values (two-sided, 'greater', 'less'), for single coefficients, a contrast, a non-zero null
  (wildboottest tests ``= 0`` only: ``beta_j = r`` in ``y`` is ``beta_j = 0`` in ``y - r x_j``),
  through its class API and through ``wildboottest(statsmodels OLS)``.
- wildboottest with random draws (Rademacher and Webb weights, G = 30): p-values agree within
  Monte-Carlo error.
- A **naive row-level bootstrap** written here: for every sign vector of a full enumeration, build
  ``y*`` row by row from the restricted fit (solved as a KKT system), refit with
  ``numpy.linalg.lstsq``, and take the CR1 t statistic from the rows' residuals. neyman's ``t*``
  (in enumeration order), p-value and interval ends (the naive p-value on either side of each end)
  must agree.

Tolerances (measured in brackets):

- ``RTOL = 1e-9`` for statistics and each ``t*``: the same quantity computed from per-cluster
  blocks in O(G p) versus from rows by lstsq (or by wildboottest's G x G matrix); both float64
  with a few hundred rows [max 2e-13].
- p-values under full enumeration: exactly the same count of replicates (``1e-12``), once ties are
  counted alike. neyman counts the replicates whose weights are all equal (the sign vectors
  ``+-1``, whose ``t* = +-t`` in exact arithmetic) as reaching ``t``; here they are counted from
  wildboottest's ``t*`` by a relative tolerance of 1e-9 (no other replicate comes that close in
  these data). wildboottest's strict ``|t| < |t*|`` counts them or not by rounding, so its
  p-value may be lower by at most the tie mass ``ties / 2**G`` (checked as such).
- Random draws: two independent Monte-Carlo estimates of one p-value differ by
  ``sqrt(2 p (1 - p) / B)`` in standard deviation; the bound is 4 of those.
"""

from __future__ import annotations

import itertools
import math
import warnings

import neyman
import numpy as np
import pandas as pd
import pytest

wildboottest = pytest.importorskip("wildboottest.wildboottest")

RTOL = 1e-9
TIE_RTOL = 1e-9


def make_data(G: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Clusters of unequal sizes with a cluster effect; treatment by cluster and a row covariate."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(8, 40, G)
    cl = np.repeat(np.arange(G), sizes)
    treat = (rng.permutation(G) < G // 2).astype(float)[cl]
    x = rng.normal(0, 1, len(cl)) + 0.3 * rng.normal(0, 1, G)[cl]
    y = 0.2 * treat + 0.5 * x + rng.normal(0, 1, G)[cl] + rng.normal(0, 1.5, len(cl))
    return y, treat, x, cl


def wb_class(y, X, cl, R, B=9999, seed=1, weights="rademacher"):
    """wildboottest's WildboottestCL pipeline (WCR, type 11), as pyfixest runs it."""
    boot = wildboottest.WildboottestCL(X=X, Y=y, cluster=cl, R=R, B=B, seed=seed)
    boot.get_scores(bootstrap_type="11", impose_null=True)
    boot.get_weights(weights_type=weights)
    boot.get_numer()
    boot.get_denom()
    boot.get_tboot()
    boot.get_vcov()
    boot.get_tstat()
    return boot


def count_p(t: float, tboot: np.ndarray, alternative: str) -> float:
    """The p-value of ``t`` over ``tboot`` with neyman's stated tie rule."""
    tol = TIE_RTOL * abs(t)
    if alternative == "two-sided":
        return float(np.mean(np.abs(tboot) >= abs(t) - tol))
    if alternative == "greater":
        return float(np.mean(tboot >= t - tol))
    return float(np.mean(tboot <= t + tol))


def ties(t: float, tboot: np.ndarray, two_sided: bool) -> int:
    a, b = (np.abs(tboot), abs(t)) if two_sided else (tboot, t)
    return int(np.count_nonzero(np.abs(a - b) <= TIE_RTOL * abs(t)))


CASES = [
    # (G, seed, R over [1, treat, x], label of param)
    (6, 1, [0.0, 1.0, 0.0], "treat"),
    (8, 2, [0.0, 1.0, 0.0], "treat"),
    (10, 3, [0.0, 0.0, 1.0], "x"),
    (9, 4, [0.0, 1.0, -1.0], "contrast"),
]


@pytest.mark.parametrize(("G", "seed", "R", "kind"), CASES)
def test_full_enumeration_matches_wildboottest(G, seed, R, kind):
    y, treat, x, cl = make_data(G, seed)
    X = np.column_stack([np.ones(len(y)), treat, x])
    R = np.array(R)
    boot = wb_class(y, X, cl, R)
    assert boot.full_enumeration
    assert boot.B == 2**G
    frame = pd.DataFrame({"treat": treat, "x": x})
    param = {"treat": "treat", "x": "x", "contrast": list(R[1:])}[kind]
    t_wb = float(np.ravel(boot.t_stat)[0])
    tboot = np.asarray(boot.t_boot)
    for alternative, wb_type in [("two-sided", "two-tailed"), ("greater", ">"), ("less", "<")]:
        res = neyman.wild_cluster_bootstrap(
            y, frame, cl, param=param, alternative=alternative, n_resamples=9999
        )
        assert res.full_enumeration
        assert res.n_resamples == 2**G
        assert res.n_clusters == G
        assert res.statistic == pytest.approx(t_wb, rel=RTOL)
        np.testing.assert_allclose(
            np.sort(res.bootstrap_statistics), np.sort(tboot), rtol=RTOL, atol=RTOL
        )
        assert res.pvalue == pytest.approx(count_p(t_wb, tboot, alternative), abs=1e-12)
        boot.get_pvalue(pval_type=wb_type)
        n_ties = ties(t_wb, tboot, alternative == "two-sided")
        assert n_ties >= 1  # the sign vector of ones (and its mirror, two-sided) reproduce t
        assert 0.0 <= res.pvalue - float(boot.pvalue) <= n_ties / 2**G + 1e-12


def test_nonzero_null_matches_wildboottest_on_shifted_outcome():
    y, treat, x, cl = make_data(8, 5)
    X = np.column_stack([np.ones(len(y)), treat, x])
    r = 0.7
    boot = wb_class(y - r * x, X, cl, np.array([0.0, 0.0, 1.0]))
    t_wb = float(np.ravel(boot.t_stat)[0])
    res = neyman.wild_cluster_bootstrap(y, np.column_stack([treat, x]), cl, param=1, null=r)
    assert res.statistic == pytest.approx(t_wb, rel=RTOL)
    np.testing.assert_allclose(np.sort(res.bootstrap_statistics), np.sort(boot.t_boot), rtol=RTOL)
    assert res.pvalue == pytest.approx(count_p(t_wb, boot.t_boot, "two-sided"), abs=1e-12)


def test_statsmodels_entry_point_of_wildboottest():
    sm = pytest.importorskip("statsmodels.api")
    y, treat, x, cl = make_data(7, 6)
    X = pd.DataFrame({"const": 1.0, "treat": treat, "x": x})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # its full-enumeration notice
        table = wildboottest.wildboottest(
            sm.OLS(y, X), B=9999, cluster=cl, param="treat", seed=3, show=False
        )
    res = neyman.wild_cluster_bootstrap(y, X[["treat", "x"]], cl, param="treat")
    assert res.statistic == pytest.approx(float(np.ravel(table["statistic"].iloc[0])[0]), rel=RTOL)
    p_wb = float(table["p-value"].iloc[0])
    assert 0.0 <= res.pvalue - p_wb <= 2 / 2**7 + 1e-12


@pytest.mark.parametrize(("weights", "B"), [("rademacher", 9999), ("webb", 9999)])
def test_random_draws_agree_with_wildboottest_within_monte_carlo_error(weights, B):
    y, treat, x, cl = make_data(30, 7)
    y = y + 0.25 * treat  # a p-value away from 0 and 1
    X = np.column_stack([np.ones(len(y)), treat, x])
    boot = wb_class(y, X, cl, np.array([0.0, 1.0, 0.0]), B=B, seed=11, weights=weights)
    boot.get_pvalue()
    assert not boot.full_enumeration
    res = neyman.wild_cluster_bootstrap(
        y, np.column_stack([treat, x]), cl, param=0, weights=weights, n_resamples=B, rng=5
    )
    assert not res.full_enumeration
    assert res.n_resamples == B
    assert res.statistic == pytest.approx(float(np.ravel(boot.t_stat)[0]), rel=RTOL)
    p = float(boot.pvalue)
    assert 0.02 < p < 0.98
    sd = math.sqrt(2 * p * (1 - p) / B)
    assert abs(res.pvalue - p) <= 4 * sd, (res.pvalue, p, sd)
    # The bootstrap distributions themselves: quantiles within Monte-Carlo error, loosely.
    for q in (0.05, 0.5, 0.95):
        a = np.quantile(res.bootstrap_statistics, q)
        b = np.quantile(boot.t_boot, q)
        assert abs(a - b) < 0.1, (q, a, b)


# ---------------------------------------------------------------------------------------------
# The naive row-level bootstrap
# ---------------------------------------------------------------------------------------------


def naive_tstats(y, X, cl, c, r, signs):
    """t* of each sign vector (rows of ``signs``, one sign per cluster 0..G-1), row by row."""
    n, p = X.shape
    G = signs.shape[1]
    # Restricted least squares: the KKT system [[X'X, c], [c', 0]] [beta, lambda] = [X'y, r].
    kkt = np.block([[X.T @ X, c[:, None]], [c[None, :], np.zeros((1, 1))]])
    beta_r = np.linalg.solve(kkt, np.concatenate([X.T @ y, [r]]))[:p]
    fitted = X @ beta_r
    resid = y - fitted
    bread = np.linalg.inv(X.T @ X)
    ssc = (n - 1) / (n - p) * G / (G - 1)
    out = np.empty(len(signs))
    for k, v in enumerate(signs):
        ystar = fitted + v[cl] * resid
        bstar = np.linalg.lstsq(X, ystar, rcond=None)[0]
        e = ystar - X @ bstar
        scores = np.zeros((G, p))
        np.add.at(scores, cl, X * e[:, None])
        vcov = bread @ scores.T @ scores @ bread
        out[k] = (c @ bstar - r) / math.sqrt(ssc * c @ vcov @ c)
    return out


def naive_t(y, X, cl, c, r):
    """The CR1 t statistic of the rows."""
    return naive_tstats(y, X, cl, c, r, np.ones((1, cl.max() + 1)))[0]


@pytest.mark.parametrize(("G", "seed", "null"), [(6, 8, 0.0), (8, 9, 0.3)])
def test_enumerated_distribution_matches_the_row_level_bootstrap(G, seed, null):
    y, treat, x, cl = make_data(G, seed)
    X = np.column_stack([np.ones(len(y)), treat, x])
    c = np.array([0.0, 1.0, 0.0])
    signs = np.array(list(itertools.product([-1.0, 1.0], repeat=G)))
    want = naive_tstats(y, X, cl, c, null, signs)
    res = neyman.wild_cluster_bootstrap(
        y, np.column_stack([treat, x]), cl, param=0, null=null, confidence_level=0.8
    )
    # Same order: clusters sorted (0..G-1 here), cluster 0 the most significant sign.
    np.testing.assert_allclose(res.bootstrap_statistics, want, rtol=RTOL, atol=RTOL)
    t = naive_t(y, X, cl, c, null)
    assert res.statistic == pytest.approx(t, rel=RTOL)
    assert res.pvalue == pytest.approx(count_p(t, want, "two-sided"), abs=1e-12)
    # The interval ends: the naive p-value is at least alpha just inside, below it just outside.
    width = res.ci_high - res.ci_low
    assert math.isfinite(width)
    assert width > 0
    for end, outward in [(res.ci_low, -1.0), (res.ci_high, 1.0)]:
        for shift, accepted in [(-1e-7, True), (1e-7, False)]:
            r = end + outward * shift * width
            tb = naive_tstats(y, X, cl, c, r, signs)
            p = count_p(naive_t(y, X, cl, c, r), tb, "two-sided")
            assert (p >= 0.2) is accepted, (end, shift, p)
