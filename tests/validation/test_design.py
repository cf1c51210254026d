"""Validation tests for experiment design: every bad input to ``power``, ``mde``,
``mde_by_duration``, ``simulate_power``, ``assign`` and ``balance`` raises the documented class
(checked exactly, with ``check_raises``) with a message naming the argument.

No tolerances: each case is an exception class and a message pattern.
"""

from __future__ import annotations

from typing import Any

import neyman
import numpy as np
import pandas as pd
import pytest
from neyman import InputError, InputTypeError, InsufficientDataError

from tests.conftest import check_raises

POWER_CASES: list[tuple[type[Exception], str, dict[str, Any]]] = [
    (InputError, "exactly one of effect, n, power, alpha", {"effect": 0.1, "n": 10, "power": 0.8}),
    (InputError, r"exactly one .* 2 are \(effect, n\)", {"power": 0.8}),
    (InputError, "power == 1.5", {"effect": 0.1, "power": 1.5}),
    (InputError, "power == 0.0", {"effect": 0.1, "power": 0.0}),
    (InputError, "alpha == 1.0", {"effect": 0.1, "n": 10, "alpha": 1.0}),
    (InputError, "effect: 0 equals the null value", {"effect": 0.0, "power": 0.8}),
    (InputError, "n == -5", {"effect": 0.1, "n": -5}),
    (InputError, "sd == 0", {"effect": 0.1, "n": 10, "sd": 0.0}),
    (InputTypeError, "effect must be a number", {"effect": "big", "n": 10}),
    (InputError, "alternative == 'larger'", {"effect": 0.1, "n": 10, "alternative": "larger"}),
    (InputError, "weights .* sum to 0.9", {"effect": 0.1, "n": 10, "weights": [0.5, 0.4]}),
    (InputError, "weights .* must be positive", {"effect": 0.1, "n": 10, "weights": [1.2, -0.2]}),
    (
        InputError,
        "treatment arms must have equal",
        {"effect": 0.1, "n": 10, "weights": [0.4, 0.4, 0.2]},
    ),
    (InputError, "margin .* one-sided", {"effect": 0.1, "n": 10, "margin": 0.1}),
    (
        InputError,
        "margin == -0.1",
        {"effect": 0.1, "n": 10, "margin": -0.1, "alternative": "greater"},
    ),
    (InputError, "icc= and cluster_size=", {"effect": 0.1, "n": 10, "icc": 0.1}),
    (InputError, "icc: 1.5", {"effect": 0.1, "n": 10, "icc": 1.5, "cluster_size": 10}),
    (InputError, "variance_reduction == 1.0", {"effect": 0.1, "n": 10, "variance_reduction": 1.0}),
    (InputError, "correction == 'holm'", {"effect": 0.1, "n": 10, "correction": "holm"}),
    (InputError, "arms == 1", {"effect": 0.1, "n": 10, "arms": 1}),
    (InputError, "relative effects need .* baseline", {"effect": 0.1, "n": 10, "relative": True}),
]


@pytest.mark.parametrize(("cls", "match", "kwargs"), POWER_CASES)
def test_power_bad_input(cls: type[Exception], match: str, kwargs: dict[str, Any]) -> None:
    kwargs = {"sd": 1.0, **kwargs}
    if "effect" not in kwargs:
        kwargs["effect"] = None
    check_raises(cls, match, neyman.power, **kwargs)


def test_power_metric_sources() -> None:
    check_raises(
        InputError, "give exactly one of sd= .*, proportion=", neyman.power, effect=0.1, n=10
    )
    check_raises(
        InputError, "got sd, proportion", neyman.power, effect=0.1, n=10, sd=1.0, proportion=0.2
    )
    check_raises(InputError, "proportion == 1.2", neyman.power, effect=0.1, n=10, proportion=1.2)
    check_raises(
        InputError,
        "treatment proportion 0.9 \\+ 0.2",
        neyman.power,
        effect=0.2,
        n=10,
        proportion=0.9,
    )
    check_raises(
        InputError,
        "variance='unpooled'",
        neyman.power,
        effect=0.0,
        n=10,
        proportion=0.3,
        margin=0.02,
        alternative="greater",
    )
    check_raises(
        InputError,
        "covariate= needs history=",
        neyman.power,
        effect=0.1,
        n=10,
        sd=1.0,
        covariate="x",
    )
    df = pd.DataFrame({"y": [1.0, 2.0, np.nan]})
    check_raises(InputError, "history= needs metric=", neyman.power, effect=0.1, n=10, history=df)
    check_raises(
        InputError, "'z' is not a column", neyman.power, effect=0.1, n=10, history=df, metric="z"
    )


def test_unreachable_power() -> None:
    # A proportion near 1 leaves no room for an effect that reaches 99% power with 10 units.
    check_raises(
        InputError, "power: 0.99 is not reached", neyman.mde, 10, power=0.99, proportion=0.95
    )
    check_raises(InputError, "power: 0.01 must exceed alpha", neyman.mde, 10, power=0.01, sd=1.0)
    check_raises(
        InputError,
        "side of the null",
        neyman.power,
        effect=-0.1,
        power=0.8,
        sd=1.0,
        alternative="greater",
    )


def test_mde_by_duration_bad_input() -> None:
    df = pd.DataFrame({"day": [0, 1, 2, 3], "y": [1.0, 2.0, 3.0, np.nan], "u": [1, 2, 3, 4]})
    check_raises(InputError, "'y' has 1 NaN", neyman.mde_by_duration, df, metric="y", date="day")
    check_raises(
        InputError, "'when' is not a column", neyman.mde_by_duration, df, metric="y", date="when"
    )
    check_raises(
        InputError,
        "days == \\[0\\]",
        neyman.mde_by_duration,
        df,
        metric="y",
        date="day",
        days=[0],
        nan_policy="omit",
    )
    check_raises(
        InputError,
        "fewer than two units",
        neyman.mde_by_duration,
        df,
        metric="y",
        date="day",
        days=[1],
        nan_policy="omit",
    )
    check_raises(
        InputError, "power == 2", neyman.mde_by_duration, df, metric="y", date="day", power=2
    )
    check_raises(
        InputError,
        "nan_policy == 'propagate'",
        neyman.mde_by_duration,
        df,
        metric="y",
        date="day",
        nan_policy="propagate",
    )
    df2 = df.assign(day=["a", "b", "c", "d"])
    check_raises(
        InputTypeError,
        "date must hold",
        neyman.mde_by_duration,
        df2,
        metric="y",
        date="day",
        nan_policy="omit",
    )


def test_simulate_power_bad_input() -> None:
    check_raises(InputError, "n == 1", neyman.simulate_power, 1)
    check_raises(InputTypeError, "n must be an integer", neyman.simulate_power, 10.5)
    check_raises(InputError, "n_sims == 0", neyman.simulate_power, 10, n_sims=0)
    check_raises(InputError, "model == 'gamma'", neyman.simulate_power, 10, model="gamma")
    check_raises(InputError, "needs proportion=", neyman.simulate_power, 10, model="bernoulli")
    check_raises(InputError, "analysis == 'ols'", neyman.simulate_power, 10, analysis="ols")
    check_raises(InputTypeError, "rng must be", neyman.simulate_power, 10, rng="seed")
    check_raises(
        InputError,
        "CUPED simulation needs the normal model",
        neyman.simulate_power,
        10,
        model="lognormal",
        analysis="cuped",
        rng=1,
    )
    check_raises(
        InputError,
        "effect: the proportions",
        neyman.simulate_power,
        10,
        model="bernoulli",
        proportion=0.9,
        effect=0.2,
        perturbation="binary",
        analysis="proportions",
        rng=1,
    )
    df = pd.DataFrame({"y": [1.0, 2.0, 3.0]})
    check_raises(
        InputError,
        "CUPED needs a covariate",
        neyman.simulate_power,
        10,
        history=df,
        metric="y",
        analysis="cuped",
        rng=1,
    )
    check_raises(
        InputError,
        "binary lift needs 0/1",
        neyman.simulate_power,
        10,
        history=df,
        metric="y",
        perturbation="binary",
        effect=0.1,
        rng=1,
    )


def test_assign_bad_input() -> None:
    check_raises(
        InsufficientDataError,
        "ids has 0 observations",
        neyman.assign,
        np.array([], dtype=np.int64),
        salt="s",
    )
    check_raises(
        InputError, "duplicate id 7 \\(rows 1 and 3\\)", neyman.assign, [3, 7, 9, 7], salt="s"
    )
    check_raises(InputError, 'duplicate id "b"', neyman.assign, ["a", "b", "b"], salt="s")
    check_raises(
        InputError, "weights .* sum to 0.9", neyman.assign, [1, 2], salt="s", weights=[0.5, 0.4]
    )
    check_raises(
        InputError,
        "weights has 3 entries but arms has 2",
        neyman.assign,
        [1, 2],
        salt="s",
        weights=[0.2, 0.3, 0.5],
    )
    check_raises(
        InputTypeError,
        "ids must be integers or strings",
        neyman.assign,
        np.array([1.5, 2.5]),
        salt="s",
    )
    check_raises(InputTypeError, "all integers or all strings", neyman.assign, ["a", 1], salt="s")
    check_raises(InputTypeError, "salt must be a string", neyman.assign, [1, 2], salt=42)
    check_raises(
        InputError,
        "strata has 1 missing",
        neyman.assign,
        [1, 2],
        salt="s",
        strata=pd.Series(["a", None]),
    )
    check_raises(InputError, "ids has 1 missing", neyman.assign, pd.Series(["a", None]), salt="s")


def test_balance_bad_input() -> None:
    df = pd.DataFrame({"arm": ["c", "t", "c", "t"], "x": [1.0, 2.0, 3.0, np.nan]})
    check_raises(
        InputError, "x: has NaN", neyman.balance, df, variant="arm", covariates=["x"], control="c"
    )
    check_raises(
        InputError,
        "at least one covariate",
        neyman.balance,
        df,
        variant="arm",
        covariates=[],
        control="c",
    )
    check_raises(
        InputError, "variant: 'group'", neyman.balance, df, variant="group", covariates=["x"]
    )
    df = pd.DataFrame({"arm": ["c", "t"] * 4, "x": [1.0] * 8})
    check_raises(
        InputError,
        "x: is constant",
        neyman.balance,
        df,
        variant="arm",
        covariates=["x"],
        control="c",
    )
