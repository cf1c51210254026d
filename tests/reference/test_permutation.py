"""Permutation tests against scipy and a published enumeration.

- Exact p-values (``n_resamples=np.inf``) equal ``scipy.stats.permutation_test`` with
  ``permutation_type='independent'`` on the same statistic, to 1e-12 (the same enumeration of the
  arrangements, the same tie tolerance and the same two-sided rule); the null distributions agree
  as sorted arrays.
- Monte-Carlo p-values agree with scipy's exact one within 4 Monte-Carlo standard errors
  (``sqrt(p (1 - p) / B)``): the random arrangements differ.
- The Rosetta Code "Permutation test" task publishes the share of the 92,378 arrangements of its
  table whose difference in means is at most the observed one: 87.197% (to the printed digits).
- Efron and Tibshirani's mouse survival data (Table 2.1, ``tests/data``): the exact one-sided
  p-value of the difference in means against scipy's.
"""

from __future__ import annotations

import math
from pathlib import Path

import neyman
import numpy as np
import pandas as pd
import pytest
from scipy import stats

DATA = Path(__file__).resolve().parents[1] / "data"


def _scipy(c: np.ndarray, t: np.ndarray, alternative: str, relative: bool = False) -> object:
    def stat(x: np.ndarray, y: np.ndarray, axis: int) -> np.ndarray:
        if relative:
            return x.mean(axis=axis) / y.mean(axis=axis) - 1
        return x.mean(axis=axis) - y.mean(axis=axis)

    return stats.permutation_test(
        (t, c), stat, permutation_type="independent", n_resamples=np.inf,
        alternative=alternative, vectorized=True,
    )  # fmt: skip


@pytest.mark.parametrize("alternative", ["two-sided", "less", "greater"])
@pytest.mark.parametrize(("n_c", "n_t", "seed"), [(6, 5, 1), (8, 8, 2), (4, 10, 3)])
def test_exact_against_scipy(alternative: str, n_c: int, n_t: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    c, t = rng.exponential(1.0, n_c), rng.exponential(1.4, n_t)
    ref = _scipy(c, t, alternative)
    res = neyman.permutation_test(c, t, n_resamples=np.inf, alternative=alternative)
    assert res.exact
    assert res.statistic == pytest.approx(ref.statistic, rel=1e-12)
    assert res.pvalue == pytest.approx(ref.pvalue, rel=1e-12)
    np.testing.assert_allclose(np.sort(res.null_distribution), np.sort(ref.null_distribution))
    rel = neyman.permutation_test(
        c, t, n_resamples=np.inf, alternative=alternative, statistic="relative_lift"
    )
    assert rel.pvalue == pytest.approx(_scipy(c, t, alternative, True).pvalue, rel=1e-12)


def test_ties_as_scipy() -> None:
    c, t = np.array([1.0, 2.0, 2.0, 3.0]), np.array([2.0, 3.0, 3.0])
    for alternative in ("two-sided", "less", "greater"):
        res = neyman.permutation_test(c, t, n_resamples=np.inf, alternative=alternative)
        assert res.pvalue == pytest.approx(_scipy(c, t, alternative).pvalue, rel=1e-12)


def test_monte_carlo_within_its_error_of_exact() -> None:
    rng = np.random.default_rng(7)
    c, t = rng.lognormal(0, 1, 9), rng.lognormal(0.6, 1, 9)
    exact = _scipy(c, t, "two-sided").pvalue
    b = 20_000
    res = neyman.permutation_test(c, t, n_resamples=b, rng=3)
    assert abs(res.pvalue - exact) < 4 * math.sqrt(exact * (1 - exact) / b)


def test_rosetta_code_published_share() -> None:
    treatment = np.array([85, 88, 75, 66, 25, 29, 83, 39, 97], dtype=float)
    control = np.array([68, 41, 10, 49, 16, 65, 32, 92, 28, 98], dtype=float)
    res = neyman.permutation_test(control, treatment, n_resamples=np.inf)
    assert res.n_resamples == math.comb(19, 9) == 92_378
    share = np.mean(res.null_distribution <= res.statistic + 1e-9)
    assert round(100 * share, 3) == 87.197


def test_mouse_survival_exact() -> None:
    df = pd.read_csv(DATA / "mouse_survival.csv")
    t = df.loc[df["group"] == "treatment", "days"].to_numpy(float)
    c = df.loc[df["group"] == "control", "days"].to_numpy(float)
    res = neyman.permutation_test(c, t, n_resamples=np.inf, alternative="greater")
    assert res.statistic == pytest.approx(30.63492063492, rel=1e-11)  # E&T: 30.63
    assert res.n_resamples == math.comb(16, 7)
    assert res.pvalue == pytest.approx(_scipy(c, t, "greater").pvalue, rel=1e-12)
