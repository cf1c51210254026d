"""Calibration tests for experiment design (slow): the simulation engine against analytic power,
A/A false-positive rates, and the split of hashed assignment.

- Simulated power of Welch's t (normal data), the pooled two-proportion z-test (Bernoulli data)
  and CUPED (normal outcome and covariate with correlation rho) agrees with ``neyman.power``
  (t-test; proportions with pooled variance; z-test with ``variance_reduction = rho^2``).
- A/A simulations (no effect) reject at rate ``alpha``: normal, lognormal (sigma 0.5, n 1000, where
  Welch's t is close to its nominal level) and Bernoulli data, and resampled rows of the bundled
  example data.
- Hashed assignment of 10^6 ids with weights (0.2, 0.3, 0.5) gives each arm its share.

Tolerances: 4 Monte-Carlo standard errors, ``4 sqrt(p (1 - p) / n_sims)`` with ``p`` the analytic
(or nominal) value, for simulations; 4 binomial standard errors ``4 sqrt(N w (1 - w))`` for arm
counts. With about 20 such checks the chance of a false alarm is about 20 * 6e-5 = 1e-3. The
analytic t and z powers themselves differ from the exact finite-sample power of Welch's and the
CUPED test by less than 1e-3 at these sizes (n >= 200 per arm), well inside the 4 SE bands
(~0.02).
"""

from __future__ import annotations

import math

import neyman
import numpy as np
import pandas as pd
import pytest

from tests.conftest import DATA

pytestmark = pytest.mark.slow

N_SIMS = 20000


def _within(sim: neyman.SimulationResult, expect: float) -> None:
    se = math.sqrt(expect * (1 - expect) / sim.n_sims)
    assert abs(sim.power - expect) < 4 * se, (sim.power, expect, se)


@pytest.mark.parametrize(
    ("n", "effect", "alternative"),
    [(200, 0.25, "two-sided"), (500, 0.1, "greater"), (300, -0.2, "less")],
)
def test_welch_simulation_matches_t_power(n: int, effect: float, alternative: str) -> None:
    sim = neyman.simulate_power(
        n, effect=effect, sd=2.0, mean=5.0, n_sims=N_SIMS, alternative=alternative, rng=1
    )
    _within(sim, neyman.power(effect=effect, n=n, sd=2.0, alternative=alternative).power)


def test_unequal_allocation_simulation() -> None:
    sim = neyman.simulate_power(300, effect=0.25, ratio=2.0, n_sims=N_SIMS, rng=2)
    _within(sim, neyman.power(effect=0.25, n=300, sd=1.0, ratio=2.0).power)


def test_proportions_simulation_matches_pooled_power() -> None:
    sim = neyman.simulate_power(
        1500,
        model="bernoulli",
        proportion=0.2,
        effect=0.03,
        perturbation="binary",
        analysis="proportions",
        n_sims=N_SIMS,
        rng=3,
    )
    _within(sim, neyman.power(effect=0.03, n=1500, proportion=0.2).power)


def test_cuped_simulation_matches_reduced_variance_power() -> None:
    rho = 0.7
    sim = neyman.simulate_power(400, effect=0.15, rho=rho, analysis="cuped", n_sims=N_SIMS, rng=4)
    expect = neyman.power(effect=0.15, n=400, sd=1.0, variance_reduction=rho**2).power
    _within(sim, expect)


@pytest.mark.parametrize(
    ("model", "kwargs"),
    [
        ("normal", {"analysis": "welch"}),
        ("lognormal", {"sd": 0.5, "n": 1000}),
        ("bernoulli", {"proportion": 0.1, "analysis": "proportions"}),
        ("normal", {"analysis": "cuped", "rho": 0.5}),
    ],
)
def test_aa_false_positive_rate(model: str, kwargs: dict[str, object]) -> None:
    n = int(kwargs.pop("n", 300))  # type: ignore[call-overload]
    sim = neyman.simulate_power(n, model=model, n_sims=N_SIMS, rng=5, **kwargs)  # type: ignore[arg-type]
    _within(sim, 0.05)


def test_aa_resampling_example_data() -> None:
    df = pd.read_parquet(DATA, columns=["revenue_pre", "converted"]).fillna(0.0)
    df["converted"] = df["converted"].astype(float)
    sim = neyman.simulate_power(
        2000, history=df, metric="converted", analysis="proportions", n_sims=N_SIMS, rng=6
    )
    _within(sim, 0.05)
    sim = neyman.simulate_power(20000, history=df, metric="revenue_pre", n_sims=5000, rng=7)
    _within(sim, 0.05)


def test_resampling_lift_matches_proportions_power() -> None:
    df = pd.read_parquet(DATA, columns=["converted"]).astype(float)
    p = float(df["converted"].mean())
    sim = neyman.simulate_power(
        3000,
        history=df,
        metric="converted",
        analysis="proportions",
        perturbation="binary",
        effect=0.02,
        n_sims=N_SIMS,
        rng=8,
    )
    _within(sim, neyman.power(effect=0.02, n=3000, proportion=p).power)


def test_assignment_split_within_binomial_error() -> None:
    n = 10**6
    ids = np.random.default_rng(0).choice(10**12, size=n, replace=False)
    weights = [0.2, 0.3, 0.5]
    codes = neyman.assign(
        ids, salt="calibration", weights=weights, arms=["a", "b", "c"], as_codes=True
    )
    counts = np.bincount(codes, minlength=3)
    for count, w in zip(counts, weights, strict=True):
        assert abs(count - n * w) < 4 * math.sqrt(n * w * (1 - w))
    words = np.array([f"user-{i}" for i in range(200000)])
    codes = neyman.assign(words, salt="calibration", as_codes=True)
    assert abs(int(codes.sum()) - 100000) < 4 * math.sqrt(200000 * 0.25)
