"""Properties of ``neyman.wild_cluster_bootstrap``.

What is checked:

- A seed gives the same numbers on 1 and 2 threads: fresh processes started with
  ``NEYMAN_NUM_THREADS=1`` and ``=2`` print ``repr`` of every float and a digest of every ``t*``
  (several replicate blocks, Rademacher and Webb weights). Exact equality.
- The same seed twice in one process, and a ``numpy.random.Generator`` in the same state, give the
  same result; another seed another draw (exact equality, or inequality of ``t*``).
- The interval by inversion: at each finite end the bootstrap p-value, with the same replicates,
  is at least ``alpha`` just inside and below it just outside (two-sided and both one-sided
  alternatives; ``1e-7`` of the width either side), and ``confidence_interval(level)`` equals a
  fresh call at that level with the same seed.
- Invariances: row order (same seed: the clusters are sorted by label, so each keeps its stream
  position), cluster ids as integers or strings under full enumeration (the set of sign vectors
  does not depend on the order of clusters), ``nan_policy='omit'`` equals dropping the rows first,
  frame and array input. Equalities at ``rtol = 1e-12``: summing the rows in another order moves the
  per-cluster blocks by a few ulp.
- Pickling keeps every field; ``repr`` / HTML / ``to_pandas`` render it.
- Ctrl-C (SIGINT) stops a long run (about 30 s of work) within 2 s, as ``KeyboardInterrupt``.
"""

from __future__ import annotations

import pickle
import signal
import subprocess
import sys
import textwrap
import time

import neyman
import numpy as np
import pandas as pd
import pytest

from tests.conftest import outputs_by_threads

RTOL = 1e-12


def make_data(G: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    sizes = rng.integers(5, 30, G)
    cl = np.repeat(np.arange(G), sizes)
    treat = (rng.permutation(G) < G // 2).astype(float)[cl]
    x = rng.normal(0, 1, len(cl))
    y = 0.3 * treat + 0.5 * x + rng.normal(0, 1, G)[cl] + rng.normal(0, 1, len(cl))
    return y, np.column_stack([treat, x]), cl


_SCRIPT = textwrap.dedent(
    """
    import hashlib, neyman, numpy as np
    print("threads", neyman.get_num_threads())
    rng = np.random.default_rng(3)
    G = 40
    cl = np.repeat(np.arange(G), rng.integers(5, 30, G))
    x = rng.normal(0, 1, len(cl))
    y = 0.5 * x + rng.normal(0, 1, G)[cl] + rng.normal(0, 1, len(cl))
    for weights in ("rademacher", "webb"):
        r = neyman.wild_cluster_bootstrap(y, x, cl, param=0, weights=weights,
                                          n_resamples=20_000, rng=12345)
        d = r.to_dict()
        print(weights, *(repr(d[k]) for k in sorted(d)),
              hashlib.sha256(r.bootstrap_statistics.tobytes()).hexdigest())
    """
)


def test_same_seed_same_numbers_on_one_and_two_threads() -> None:
    outputs = outputs_by_threads(_SCRIPT)
    assert len(outputs[1]) == 2
    assert outputs[1] == outputs[2]


def test_seeds_and_generators() -> None:
    y, X, cl = make_data(25, 1)
    a = neyman.wild_cluster_bootstrap(y, X, cl, param=0, rng=7, n_resamples=5000)
    b = neyman.wild_cluster_bootstrap(y, X, cl, param=0, rng=7, n_resamples=5000)
    assert a == b
    np.testing.assert_array_equal(a.bootstrap_statistics, b.bootstrap_statistics)
    c = neyman.wild_cluster_bootstrap(y, X, cl, param=0, rng=8, n_resamples=5000)
    assert not np.array_equal(a.bootstrap_statistics, c.bootstrap_statistics)
    g1 = neyman.wild_cluster_bootstrap(
        y, X, cl, param=0, rng=np.random.default_rng(5), n_resamples=5000
    )
    g2 = neyman.wild_cluster_bootstrap(
        y, X, cl, param=0, rng=np.random.default_rng(5), n_resamples=5000
    )
    np.testing.assert_array_equal(g1.bootstrap_statistics, g2.bootstrap_statistics)
    assert not a.bootstrap_statistics.flags.writeable


@pytest.mark.parametrize("alternative", ["two-sided", "greater", "less"])
@pytest.mark.parametrize(("weights", "G"), [("rademacher", 9), ("rademacher", 30), ("webb", 14)])
def test_interval_ends_are_where_the_pvalue_crosses_alpha(alternative, weights, G) -> None:
    y, X, cl = make_data(G, G)
    kw = {
        "param": 1,
        "weights": weights,
        "n_resamples": 4999,
        "rng": 2,
        "alternative": alternative,
        "confidence_level": 0.9,
    }
    res = neyman.wild_cluster_bootstrap(y, X, cl, **kw)
    assert res.ci_low < res.estimate < res.ci_high
    ends = {"two-sided": [0, 1], "greater": [0], "less": [1]}[alternative]
    assert math_isinf(res.ci_high) == (alternative == "greater")
    assert math_isinf(res.ci_low) == (alternative == "less")
    bounded = [v for v in (res.ci_low, res.ci_high) if np.isfinite(v)]
    width = max(bounded) - min(bounded) if len(bounded) == 2 else res.se
    for k in ends:
        end, outward = (res.ci_low, -1.0) if k == 0 else (res.ci_high, 1.0)
        inside = neyman.wild_cluster_bootstrap(
            y, X, cl, null=end - outward * 1e-7 * width, **kw
        ).pvalue
        outside = neyman.wild_cluster_bootstrap(
            y, X, cl, null=end + outward * 1e-7 * width, **kw
        ).pvalue
        assert inside >= 0.1 > outside, (end, inside, outside)
    again = res.confidence_interval(0.8)
    fresh = neyman.wild_cluster_bootstrap(y, X, cl, **{**kw, "confidence_level": 0.8})
    assert again == (fresh.ci_low, fresh.ci_high)
    assert res.confidence_interval() == (res.ci_low, res.ci_high)


def test_too_few_clusters_to_reject_give_the_whole_line() -> None:
    # G = 4: the sign vectors +-1 reproduce |t| at every null, so p >= 2/16 everywhere, and no
    # null is rejected at 5% (two-sided) or at 5% one-sided (p >= 1/16).
    y, X, cl = make_data(4, 3)
    for alternative, floor in [("two-sided", 2 / 16), ("greater", 1 / 16), ("less", 1 / 16)]:
        res = neyman.wild_cluster_bootstrap(y, X, cl, param=0, alternative=alternative)
        assert res.full_enumeration
        assert res.pvalue >= floor
        assert (res.ci_low, res.ci_high) == (-np.inf, np.inf)
        far = neyman.wild_cluster_bootstrap(y, X, cl, param=0, alternative=alternative, null=1e9)
        assert far.pvalue >= floor


def math_isinf(x: float) -> bool:
    return bool(np.isinf(x))


def close(a: neyman.WildBootstrapResult, b: neyman.WildBootstrapResult) -> None:
    for k, v in a.to_dict().items():
        if k == "param":
            continue
        w = getattr(b, k)
        if isinstance(v, float):
            assert w == pytest.approx(v, rel=RTOL, abs=1e-300), k
        else:
            assert w == v, k


def test_row_order_encoding_omit_and_frames() -> None:
    y, X, cl = make_data(30, 4)
    base = neyman.wild_cluster_bootstrap(y, X, cl, param=0, rng=9)
    perm = np.random.default_rng(0).permutation(len(y))
    close(base, neyman.wild_cluster_bootstrap(y[perm], X[perm], cl[perm], param=0, rng=9))
    frame = pd.DataFrame({"treat": X[:, 0], "x": X[:, 1]})
    close(base, neyman.wild_cluster_bootstrap(y, frame, pd.Series(cl), param="treat", rng=9))
    # Full enumeration: the cluster ids' type and order do not matter.
    y, X, cl = make_data(10, 5)
    ints = neyman.wild_cluster_bootstrap(y, X, cl, param=0)
    names = np.array([f"city-{(7 * g) % 10}" for g in range(10)])[cl]
    strs = neyman.wild_cluster_bootstrap(y[::-1], X[::-1], names[::-1], param=0)
    assert ints.full_enumeration
    close(ints, strs)
    np.testing.assert_allclose(
        np.sort(ints.bootstrap_statistics), np.sort(strs.bootstrap_statistics), rtol=1e-10
    )
    # nan_policy='omit' drops the rows (and a cluster left empty).
    y2, X2 = y.copy(), X.copy()
    y2[cl == 3] = np.nan
    X2[5, 1] = np.nan
    keep = ~(np.isnan(y2) | np.isnan(X2).any(axis=1))
    omit = neyman.wild_cluster_bootstrap(y2, X2, cl, param=0, nan_policy="omit", rng=1)
    dropped = neyman.wild_cluster_bootstrap(y[keep], X[keep], cl[keep], param=0, rng=1)
    assert omit.n_clusters == 9
    close(omit, dropped)
    nan = neyman.wild_cluster_bootstrap(y2, X2, cl, param=0)
    assert np.isnan(nan.pvalue)
    assert np.isnan(nan.ci_low)


def test_pickle_and_display() -> None:
    y, X, cl = make_data(12, 6)
    res = neyman.wild_cluster_bootstrap(y, X, cl, param=1, rng=3, weights="webb")
    back = pickle.loads(pickle.dumps(res))
    assert back == res
    assert back.confidence_interval(0.8) == res.confidence_interval(0.8)
    text = repr(res)
    assert "wild cluster bootstrap (WCR, webb, 9999 resamples)" in text
    assert "x1" in text
    html = res._repr_html_()
    assert "<script" not in html
    assert "<table>" in html
    frame = res.to_pandas()
    assert list(frame["pvalue"]) == [res.pvalue]
    assert "bootstrap_statistics" not in res.to_dict()


def test_ctrl_c_stops_a_long_run() -> None:
    script = textwrap.dedent(
        """
        import sys, time, numpy as np, neyman
        G = 5000
        rng = np.random.default_rng(0)
        cl = np.repeat(np.arange(G), 3)
        X = rng.normal(0, 1, (len(cl), 2))
        y = rng.normal(0, 1, len(cl))
        print("start", flush=True)
        t0 = time.perf_counter()
        try:
            neyman.wild_cluster_bootstrap(y, X, cl, param=0, n_resamples=2_000_000, rng=1)
            print("finished", flush=True)
        except KeyboardInterrupt:
            print("interrupted", time.perf_counter() - t0, flush=True)
        """
    )
    with subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as proc:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "start"
        time.sleep(1.0)
        sent = time.perf_counter()
        proc.send_signal(signal.SIGINT)
        line = proc.stdout.readline().split()
        waited = time.perf_counter() - sent
        _, stderr = proc.communicate(timeout=30)
    assert line, stderr
    assert line[0] == "interrupted", line
    assert waited < 2.0, waited
