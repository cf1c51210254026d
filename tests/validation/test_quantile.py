"""Bad input to quantile comparisons: named exceptions."""

from __future__ import annotations

import neyman
import numpy as np
import pandas as pd
from neyman import InputError, InsufficientDataError

from tests.conftest import check_raises


def test_quantile_inputs() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=500), rng.normal(size=500)
    check_raises(
        InputError, r"^q == \d\.0, must be strictly between 0 and 1", neyman.quantile, a, b, q=1.0
    )
    check_raises(
        InputError, r"^q == \d\.0, must be strictly between 0 and 1", neyman.quantile, a, b, q=0.0
    )
    check_raises(
        InsufficientDataError,
        r"^arm 'treatment' of metric 'x' has 50 values; the order-statistic interval of the 0.99 "
        r"quantile needs at least 381$",
        neyman.quantile, a, b[:50], q=0.99,
    )  # fmt: skip
    bad = a.copy()
    bad[3] = np.inf
    check_raises(InputError, r"has 1 infinite value", neyman.quantile, bad, b)
    bad[3] = np.nan
    check_raises(
        InputError, r"arm 'control' of metric 'x' has 1 NaN value \(nan_policy='raise'\)",
        neyman.quantile, bad, b, nan_policy="raise",
    )  # fmt: skip
    check_raises(InputError, r"give control and treatment arrays", neyman.quantile, a)
    check_raises(InputError, r"confidence_level", neyman.quantile, a, b, confidence_level=2.0)


def test_quantile_metric() -> None:
    rng = np.random.default_rng(1)
    df = pd.DataFrame({"arm": rng.choice(["c", "t"], 400), "y": rng.normal(size=400), "g": 1})
    check_raises(
        InputError, r"Quantile 'y p50' has no mergeable per-arm statistic",
        neyman.Quantile("y").aggregate, df, variant="arm", control="c",
    )  # fmt: skip
    exp = neyman.Experiment(df, variant="arm", control="c", cluster="g")
    check_raises(InputError, r"cannot be analysed with cluster=", exp.analyze, neyman.Quantile("y"))
    plain = neyman.Experiment(df, variant="arm", control="c")
    check_raises(
        InputError,
        r"^q == \d\.0, must be strictly between 0 and 1",
        plain.analyze,
        neyman.Quantile("y", q=5),
    )
