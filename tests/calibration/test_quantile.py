"""Coverage of the quantile intervals at p50 and p99 on skewed data (seeded).

Two arms of 20,000 units each from a lognormal(0, 1) or an exponential(1) distribution, the
treatment's values scaled by 1.05: the true difference of the q-quantiles is ``0.05 Q(q)`` and the
relative difference 0.05, with ``Q`` the known quantile function. The share of 1,000 replications
whose 95% interval misses the truth must be within 4 Monte-Carlo standard errors of 0.05
(``4 sqrt(0.05 * 0.95 / 1000) = 0.028``).
"""

from __future__ import annotations

import math

import neyman
import numpy as np
import pytest
from scipy import stats

R = 1000
N = 20_000
BOUND = 4 * math.sqrt(0.05 * 0.95 / R)

DISTRIBUTIONS = {
    "lognormal": (lambda g, n: g.lognormal(0.0, 1.0, n), lambda q: math.exp(stats.norm.ppf(q))),
    "exponential": (lambda g, n: g.exponential(1.0, n), lambda q: -math.log1p(-q)),
}


@pytest.mark.slow
@pytest.mark.parametrize("q", [0.5, 0.99])
@pytest.mark.parametrize("dist", list(DISTRIBUTIONS))
def test_coverage_of_difference_and_relative_difference(dist: str, q: float) -> None:
    draw, quantile = DISTRIBUTIONS[dist]
    rng = np.random.default_rng(int(q * 100) + len(dist))
    true_diff, true_rel = 0.05 * quantile(q), 0.05
    miss = miss_rel = 0
    for _ in range(R):
        res = neyman.quantile(draw(rng, N), 1.05 * draw(rng, N), q=q)
        miss += not (res.ci_low <= true_diff <= res.ci_high)
        miss_rel += not (res.rel_ci_low <= true_rel <= res.rel_ci_high)
    assert abs(miss / R - 0.05) < BOUND, miss / R
    assert abs(miss_rel / R - 0.05) < BOUND, miss_rel / R
