"""Bad input to permutation tests: named exceptions."""

from __future__ import annotations

import neyman
import numpy as np
from neyman import InputError, InputTypeError, InsufficientDataError

from tests.conftest import check_raises


def test_permutation_inputs() -> None:
    c, t = np.arange(5.0), np.arange(5.0) + 1
    pt = neyman.permutation_test
    check_raises(InputError, r"^n_resamples == 0, must be at least 1", pt, c, t, n_resamples=0)
    check_raises(
        InputError, r"^n_resamples == 20,000,000 would keep 160 MB", pt, c, t,
        n_resamples=20_000_000,
    )  # fmt: skip
    check_raises(
        InputTypeError, r"n_resamples must be a positive integer", pt, c, t, n_resamples=2.5
    )
    big = np.arange(40.0)
    check_raises(
        InputError, r"^n_resamples: exact enumeration needs 1.378e11 arrangements", pt,
        big[:20], big[20:], n_resamples=np.inf,
    )  # fmt: skip
    check_raises(InputError, r"statistic == 'median'", pt, c, t, statistic="median")
    check_raises(InputTypeError, r"rng must be an int seed", pt, c, t, rng="seed")
    check_raises(InputError, r"rng == -1, must be a seed", pt, c, t, rng=-1)
    check_raises(InsufficientDataError, r"^treatment has no observations", pt, c, [])
    bad = c.copy()
    bad[1] = np.inf
    check_raises(InputError, r"control has 1 infinite values", pt, bad, t)
    bad[1] = np.nan
    check_raises(InputError, r"1 NaN values \(nan_policy='raise'\)", pt, bad, t, nan_policy="raise")
    assert np.isnan(pt(bad, t).pvalue)
    assert pt(bad, t, nan_policy="omit", rng=1).n_control == 4


def test_cluster_inputs() -> None:
    c, t = np.arange(6.0), np.arange(6.0)
    pt = neyman.permutation_test
    check_raises(InputTypeError, r"cluster must be a pair", pt, c, t, cluster=[1, 2, 3])
    check_raises(
        InputError, r"cluster ids of the treatment have length 2, not 6", pt, c, t,
        cluster=(np.zeros(6), np.zeros(2)),
    )  # fmt: skip
    check_raises(
        InputError, r"clusters \['1'\] have rows in both arms", pt, c, t,
        cluster=(np.array([0, 0, 1, 1, 2, 2]), np.array([1, 3, 3, 4, 4, 5])),
    )  # fmt: skip
