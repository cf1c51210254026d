"""Properties of the permutation engine: the same null distribution for a seed on 1 and 2
threads, pinned values of the random stream (block 0 of seed 42), the caller's data untouched."""

from __future__ import annotations

import neyman
import numpy as np


def test_thread_count_invariance_and_seed() -> None:
    rng = np.random.default_rng(5)
    c, t = rng.normal(size=3000), rng.normal(size=2000)
    before = neyman.get_num_threads()
    try:
        neyman.set_num_threads(1)
        one = neyman.permutation_test(c, t, n_resamples=5000, rng=11)
        neyman.set_num_threads(2)
        two = neyman.permutation_test(c, t, n_resamples=5000, rng=11)
    finally:
        neyman.set_num_threads(before)
    np.testing.assert_array_equal(one.null_distribution, two.null_distribution)
    assert one.pvalue == two.pvalue
    other = neyman.permutation_test(c, t, n_resamples=5000, rng=12)
    assert not np.array_equal(one.null_distribution, other.null_distribution)
    gen = neyman.permutation_test(c, t, n_resamples=50, rng=np.random.default_rng(0))
    assert gen.n_resamples == 50


def test_pinned_stream() -> None:
    # The first replicates of seed 42 on units 0..9 (control 0..4): the partial Fisher-Yates
    # shuffle of Xoshiro256++ block 0 (rng.rs), pinned so that a change of stream is seen.
    x = np.arange(10, dtype=float)
    res = neyman.permutation_test(x[:5], x[5:], n_resamples=4, rng=42)
    pinned = res.null_distribution.round(12).tolist()
    again = neyman.permutation_test(x[:5], x[5:], n_resamples=4, rng=42)
    assert again.null_distribution.round(12).tolist() == pinned
    assert all(v in {round(k * 0.4 - 5.0, 12) for k in range(26)} for v in pinned)
    assert pinned == PINNED


PINNED = [0.2, 3.0, 1.0, -3.0]


def test_data_untouched() -> None:
    c, t = np.array([3.0, 1.0, 2.0]), np.array([5.0, 4.0])
    keep_c, keep_t = c.copy(), t.copy()
    neyman.permutation_test(c, t, n_resamples=100, rng=1)
    np.testing.assert_array_equal(c, keep_c)
    np.testing.assert_array_equal(t, keep_t)
