"""False-positive rate of permutation tests on skewed data (seeded).

A/A experiments: both arms lognormal(0, 1.5) (heavy right tail), 40 and 25 units, 999
permutations each; and cluster-randomised A/A experiments (20 clusters of 1 to 60 rows with a
cluster effect, 10 per arm) re-randomised at the cluster level. A permutation test is exact under
exchangeability, so the share of p-values below 0.05 must be within 4 Monte-Carlo standard errors
of 0.05 (``4 sqrt(0.05 * 0.95 / R)``, ``R = 1000``); its (b + 1) / (B + 1) p-value is slightly
conservative, never liberal.
"""

from __future__ import annotations

import math

import neyman
import numpy as np
import pytest

R = 1000
BOUND = 4 * math.sqrt(0.05 * 0.95 / R)


@pytest.mark.slow
def test_false_positive_rate_on_skewed_units() -> None:
    rng = np.random.default_rng(31)
    hits = 0
    for i in range(R):
        c, t = rng.lognormal(0, 1.5, 40), rng.lognormal(0, 1.5, 25)
        hits += neyman.permutation_test(c, t, n_resamples=999, rng=i).pvalue < 0.05
    assert abs(hits / R - 0.05) < BOUND, hits / R


@pytest.mark.slow
def test_false_positive_rate_with_clusters_rerandomised() -> None:
    rng = np.random.default_rng(32)
    hits = 0
    for i in range(R):
        sizes = rng.integers(1, 61, 20)
        effect = rng.normal(0, 1.0, 20)
        ys = [effect[g] + rng.normal(0, 1, s) for g, s in enumerate(sizes)]
        ids = [np.full(s, g) for g, s in enumerate(sizes)]
        order = rng.permutation(20)
        c_idx, t_idx = order[:10], order[10:]
        c = np.concatenate([ys[g] for g in c_idx])
        t = np.concatenate([ys[g] for g in t_idx])
        cid = np.concatenate([ids[g] for g in c_idx])
        tid = np.concatenate([ids[g] for g in t_idx])
        res = neyman.permutation_test(c, t, cluster=(cid, tid), n_resamples=999, rng=i)
        hits += res.pvalue < 0.05
    assert abs(hits / R - 0.05) < BOUND, hits / R
