"""Properties of quantile comparisons: row order does not matter, ``nan_policy='omit'`` equals
dropping the NaN first, the thread count does not matter, the caller's data is untouched, and the
interval recomputes at another level."""

from __future__ import annotations

import neyman
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), q=st.sampled_from([0.05, 0.5, 0.9, 0.99]))
def test_row_order_and_nan_omit(seed: int, q: float) -> None:
    rng = np.random.default_rng(seed)
    a, b = rng.lognormal(0, 1, 3000), rng.gamma(2.0, 1.0, 2500)
    ref = neyman.quantile(a, b, q=q)
    shuffled = neyman.quantile(rng.permutation(a), rng.permutation(b), q=q)
    assert (shuffled.effect, shuffled.se, shuffled.pvalue) == (ref.effect, ref.se, ref.pvalue)
    a_nan = np.insert(a, rng.integers(0, len(a), 40), np.nan)
    keep = a_nan.copy()
    omit = neyman.quantile(a_nan, b, q=q, nan_policy="omit")
    assert (omit.effect, omit.se, omit.n_control) == (ref.effect, ref.se, ref.n_control)
    np.testing.assert_array_equal(a_nan, keep)  # not modified
    assert np.isnan(neyman.quantile(a_nan, b, q=q).effect)  # 'propagate'


def test_threads_and_refit() -> None:
    rng = np.random.default_rng(4)
    a, b = rng.exponential(1, 200_001), rng.exponential(1.02, 199_999)
    before = neyman.get_num_threads()
    try:
        neyman.set_num_threads(1)
        one = neyman.quantile(a, b, q=0.99)
        neyman.set_num_threads(2)
        two = neyman.quantile(a, b, q=0.99)
    finally:
        neyman.set_num_threads(before)
    assert one == two
    wide = one.confidence_interval(confidence_level=0.99)
    z95, z99 = 1.959963984540054, 2.5758293035489004
    assert wide.high - wide.low == pytest.approx((one.ci_high - one.ci_low) * z99 / z95, rel=1e-9)
