"""Properties of cluster-robust least squares and ``ClusterStats``.

- Chunks merged give the one-pass answer: statistics of row chunks (a cluster split across
  chunks, chunks merged in any order, some pickled through worker processes) finalize to the
  coefficients, covariance and df of one pass, to ``rtol=1e-10`` (each chunk has its own reference
  point, so merged sums are re-centred algebraically and the sums are grouped differently:
  rounding only, about 1e-14 observed).
- Shift invariance: adding 1e8 to ``y`` and to ``x`` (sd 1) changes the slopes' standard errors
  and df by at most ``1e-6`` relative (the data themselves carry about 16 - 8 = 8 digits of their
  spread; the sums are kept shifted so no more is lost), and the intercept moves as it must.
- Thread count: results in fresh processes with ``NEYMAN_NUM_THREADS=1`` and ``=2`` are
  bit-for-bit equal (``repr`` of every float), on 300,000 rows (several blocks).
- Cluster labels: relabelling (integers to strings, a permutation of ids, shuffled rows) leaves
  the fit unchanged to ``rtol=1e-12`` (row order changes the grouping of sums).
- Pickling: a ``ClusterStats`` equals itself after a pickle round trip.
"""

from __future__ import annotations

import itertools
import multiprocessing
import pickle
import textwrap
from typing import Any

import neyman
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import outputs_by_threads

RTOL = 1e-10


def _data(seed: int, n: int = 2000, g: int = 40) -> tuple[Any, Any, Any]:
    rng = np.random.default_rng(seed)
    cl = rng.integers(0, g, n)
    X = rng.normal(size=(n, 2)) + rng.normal(size=(g, 2))[cl]
    y = 0.5 + X @ [1.0, -0.5] + rng.normal(size=g)[cl] + rng.normal(size=n)
    return y, X, cl


def _same_fit(a: neyman.OLSResult, b: neyman.OLSResult, rtol: float = RTOL) -> None:
    np.testing.assert_allclose(a.params, b.params, rtol=rtol, atol=1e-13)
    np.testing.assert_allclose(a.vcov, b.vcov, rtol=rtol, atol=1e-16)
    np.testing.assert_allclose(a.df, b.df, rtol=rtol)
    assert (a.n, a.n_clusters) == (b.n, b.n_clusters)


@pytest.mark.parametrize("vcov", ["CR1", "CR2", "CR3"])
def test_chunks_merge_in_any_order(vcov: str) -> None:
    y, X, cl = _data(1)
    one = neyman.ols(y, X, cluster=cl, vcov=vcov)
    cuts = [0, 300, 1100, 1700, 2000]
    parts = [
        neyman.cluster_stats(y[a:b], X[a:b], cluster=cl[a:b]) for a, b in itertools.pairwise(cuts)
    ]
    # Every cluster has rows in several chunks.
    assert all(p.n_clusters == 40 for p in parts[1:3])
    for order in ([0, 1, 2, 3], [3, 1, 0, 2], [2, 3, 1, 0]):
        merged = parts[order[0]]
        for k in order[1:]:
            merged = merged.merge(parts[k])
        _same_fit(neyman.ols(merged, vcov=vcov), one)


def _stats_of(y: Any, X: Any, cl: Any) -> bytes:
    return pickle.dumps(neyman.cluster_stats(y, X, cluster=cl))


def test_chunks_pickled_through_processes() -> None:
    y, X, cl = _data(2)
    halves = [slice(0, 900), slice(900, None)]
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(2) as pool:
        blobs = pool.starmap(_stats_of, [(y[h], X[h], cl[h]) for h in halves])
    parts = [pickle.loads(b) for b in blobs]
    assert parts[0] == neyman.cluster_stats(y[halves[0]], X[halves[0]], cluster=cl[halves[0]])
    _same_fit(neyman.ols(parts[1].merge(parts[0])), neyman.ols(y, X, cluster=cl))


def test_pickle_round_trip_and_dict() -> None:
    y, X, cl = _data(3, n=200)
    s = neyman.cluster_stats(y, X, cluster=[f"c{v}" for v in cl])
    back = pickle.loads(pickle.dumps(s))
    assert back == s
    assert back.keys == sorted({f"c{v}" for v in cl})
    d = s.to_dict()
    assert list(d) == [
        "keys", "n", "sums", "shift", "numeric", "arms", "interacted", "intercept", "n_nan",
        "n_inf",
    ]  # fmt: skip
    assert int(d["n"].sum()) == 200
    assert d["sums"].shape == (s.n_clusters, 10)
    assert repr(s).startswith("ClusterStats(keys=['c0', ")


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 6))
def test_any_split_merges_to_one_pass(seed: int, n_parts: int) -> None:
    y, X, cl = _data(seed % 1000, n=300, g=12)
    rng = np.random.default_rng(seed)
    cuts = np.sort(rng.choice(np.arange(1, 300), size=n_parts - 1, replace=False))
    bounds = [0, *cuts.tolist(), 300]
    merged = None
    for a, b in itertools.pairwise(bounds):
        s = neyman.cluster_stats(y[a:b], X[a:b], cluster=cl[a:b])
        merged = s if merged is None else s.merge(merged)
    assert merged is not None
    _same_fit(neyman.ols(merged), neyman.ols(y, X, cluster=cl), rtol=1e-9)


@pytest.mark.parametrize("vcov", ["CR1", "CR2"])
def test_large_mean_shift_invariance(vcov: str) -> None:
    y, X, cl = _data(4, n=5000, g=50)
    base = neyman.ols(y, X, cluster=cl, vcov=vcov)
    shifted = neyman.ols(y + 1e8, X + 1e8, cluster=cl, vcov=vcov)
    np.testing.assert_allclose(shifted.params[1:], base.params[1:], rtol=1e-6)
    np.testing.assert_allclose(shifted.se[1:], base.se[1:], rtol=1e-6)
    np.testing.assert_allclose(shifted.df[1:], base.df[1:], rtol=1e-6)
    # The intercept at x = 0 moves by 1e8 (1 - sum of slopes).
    expected = base.params[0] + 1e8 * (1 - base.params[1:].sum())
    np.testing.assert_allclose(shifted.params[0], expected, rtol=1e-9)
    # Merging chunks of shifted data (each with its own reference point) stays accurate.
    halves = [
        neyman.cluster_stats(y[s] + 1e8, X[s] + 1e8, cluster=cl[s])
        for s in (slice(0, 2500), slice(2500, None))
    ]
    merged = neyman.ols(halves[0].merge(halves[1]), vcov=vcov)
    np.testing.assert_allclose(merged.se[1:], base.se[1:], rtol=1e-6)


def test_relabelling_and_row_order() -> None:
    y, X, cl = _data(5)
    base = neyman.ols(y, X, cluster=cl)
    rng = np.random.default_rng(0)
    perm_ids = rng.permutation(1000)[cl] * 7 - 3000  # other integers, negative too
    _same_fit(neyman.ols(y, X, cluster=perm_ids), base, rtol=1e-12)
    _same_fit(neyman.ols(y, X, cluster=np.array([f"id-{v}" for v in cl])), base, rtol=1e-12)
    order = rng.permutation(len(y))
    _same_fit(neyman.ols(y[order], X[order], cluster=cl[order]), base, rtol=1e-12)


_SCRIPT = textwrap.dedent(
    """
    import numpy as np, neyman
    print("threads", neyman.get_num_threads())
    rng = np.random.default_rng(11)
    n, g = 300_000, 3_000
    cl = rng.integers(0, g, n)
    x = rng.normal(size=n) + 5.0
    y = 1.0 + 0.3 * x + rng.normal(size=g)[cl] + rng.normal(size=n)
    for vcov in ("CR1", "CR2", "CR3"):
        r = neyman.ols(y, {"x": x}, cluster=cl, vcov=vcov)
        print(vcov, *(repr(float(v)) for v in (*r.params, *r.vcov.ravel(), *r.df, r.icc)))
    r = neyman.ols(y, {"x": x}, vcov="CR2")
    print("rows", *(repr(float(v)) for v in (*r.params, *r.vcov.ravel(), *r.df)))
    """
)


def test_thread_count_invariance_bit_for_bit() -> None:
    out = outputs_by_threads(_SCRIPT)
    assert len(out[1]) == 4
    assert out[1] == out[2]


# --------------------------------------------------------------------------------------------
# A/B comparisons with cluster=: row order, id encoding, and the ols engine underneath


def test_ab_comparison_invariant_to_rows_and_id_encoding() -> None:
    import pandas as pd

    rng = np.random.default_rng(31)
    n, g = 1500, 24
    city = rng.integers(0, g, n)
    arm = np.where(city < 12, "control", "treatment")
    y = rng.normal(0, 1, n) + rng.normal(0, 0.5, g)[city] + 0.2 * (arm == "treatment")
    df = pd.DataFrame({"arm": arm, "city": city, "y": y, "x": rng.normal(size=n)})
    kw = {"metric": "y", "variant": "arm", "control": "control", "cluster": "city"}
    base = neyman.regression_adjust(df, covariates="x", **kw)[0]
    shuffled = df.iloc[rng.permutation(n)].reset_index(drop=True)
    names = df.assign(city=[f"c{v:03d}" for v in city])
    relabelled = df.assign(city=(city * 7919 + 13) % 100003)
    for other in (shuffled, names, relabelled):
        res = neyman.regression_adjust(other, covariates="x", **kw)[0]
        for f in ("effect", "se", "df", "pvalue", "design_effect", "icc"):
            assert getattr(res, f) == pytest.approx(getattr(base, f), rel=1e-10), f


def test_ab_difference_in_means_is_the_ols_contrast() -> None:
    # ttest(cluster=) is the treatment coefficient of neyman.ols on an intercept and a treatment
    # indicator: the same estimate, CR2 covariance and Bell-McCaffrey df.
    rng = np.random.default_rng(32)
    n, g = 800, 16
    city = rng.integers(0, g, n)
    treat = (city % 2).astype(float)
    y = rng.normal(0, 1, n) + rng.normal(0, 0.7, g)[city]
    a, b = treat == 0, treat == 1
    res = neyman.ttest(y[a], y[b], cluster=(city[a], city[b]))
    fit = neyman.ols(y, treat, cluster=city)
    assert res.effect == pytest.approx(fit.params[1], rel=1e-10)
    assert res.se == pytest.approx(fit.se[1], rel=1e-10)
    assert res.df == pytest.approx(fit.df[1], rel=1e-10)
