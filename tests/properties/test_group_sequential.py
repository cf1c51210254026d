"""Properties of group-sequential bounds (hypothesis): at any observed fractions the alpha spent
is exactly the spending function there; O'Brien-Fleming bounds decrease; one look is the fixed
test."""

from __future__ import annotations

import itertools
import math

import neyman
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import norm

fractions = (
    st.lists(st.floats(0.05, 1.0, allow_nan=False), min_size=1, max_size=6, unique=True)
    .map(lambda v: sorted(v))
    .filter(lambda v: all(b - a > 0.01 for a, b in itertools.pairwise(v)))
)


@settings(max_examples=40, deadline=None)
@given(t=fractions, alpha=st.floats(0.005, 0.2))
def test_unplanned_spend_is_the_spending_function(t: list[float], alpha: float) -> None:
    d = neyman.GroupSequentialDesign(4, alpha=alpha)
    b = d.bounds(t)
    tt = np.minimum(np.array(t), 1.0)
    expected = 2 * (2 - 2 * norm.cdf(norm.ppf(1 - alpha / 4) / np.sqrt(tt)))
    np.testing.assert_allclose(b.alpha_spent, expected, rtol=1e-9, atol=1e-15)


@settings(max_examples=20, deadline=None)
@given(k=st.integers(2, 10), alpha=st.floats(0.005, 0.2))
def test_obf_bounds_decrease_at_equal_spacing(k: int, alpha: float) -> None:
    # (Lan-DeMets O'Brien-Fleming bounds need not decrease for closely spaced unequal looks,
    # e.g. t = 0.75, 0.8125 at alpha 0.125, where the second look spends very little.)
    d = neyman.GroupSequentialDesign(k, alpha=alpha)
    assert np.all(np.diff(d.z_bounds) < 0)


@settings(max_examples=20, deadline=None)
@given(alpha=st.floats(0.001, 0.3), alternative=st.sampled_from(["two-sided", "greater", "less"]))
def test_one_look_is_the_fixed_test(alpha: float, alternative: str) -> None:
    d = neyman.GroupSequentialDesign([1.0], alpha=alpha, alternative=alternative)
    sides = 2 if alternative == "two-sided" else 1
    z = norm.isf(alpha / sides)
    assert np.sign(d.z_bounds[0]) == (-1 if alternative == "less" else 1)
    assert math.isclose(abs(d.z_bounds[0]), z, abs_tol=1e-8)
    assert math.isclose(d.inflation_factor, 1.0, abs_tol=1e-8)
