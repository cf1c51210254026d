"""Bad input to the statistic objects, the metric protocol and the defects found by trying the
package as a new user would (issue #8): each raises its documented class with a message naming the
argument (``check_raises`` asserts the exact class and the message)."""

from __future__ import annotations

import math

import neyman
import numpy as np
import pandas as pd
import pytest
from neyman import (
    InputError,
    InputTypeError,
    InsufficientDataError,
    PrecisionLossError,
)

from tests.conftest import check_raises


def test_proportion_stats_accept_whole_floats() -> None:
    # What a pandas sum returns: numpy floats holding whole numbers.
    s = neyman.ProportionStats(np.float64(5.0), np.float64(10.0))
    assert (s.successes, s.trials) == (5, 10)
    assert isinstance(s.successes, int)
    check_raises(
        InputTypeError,
        r"^successes must be an integer count, got float",
        neyman.ProportionStats,
        5.5,
        10,
    )


def test_proportion_stats_huge_counts_are_named() -> None:
    check_raises(
        InputError,
        r"^successes == 36893488147419103232, is larger than",
        neyman.ProportionStats,
        2**65,
        2**66,
    )
    check_raises(InputError, r"^trials == -3, must be non-negative", neyman.ProportionStats, 1, -3)
    check_raises(InputError, r"successes.*exceeds|successes.*trials", neyman.ProportionStats, 5, 3)


def test_mean_stats_from_sums_detects_cancellation() -> None:
    # Mean 1e8, sd 1, n = 100,000: sum_sq - sum^2/n cancels every digit of M2.
    rng = np.random.default_rng(0)
    x = 1e8 + rng.normal(0.0, 1.0, 100_000)
    exc = check_raises(
        PrecisionLossError,
        r"^sum_sq\b",
        neyman.MeanStats.from_sums,
        x.size,
        float(x.sum()),
        float((x * x).sum()),
    )
    assert "MeanStats(n, mean, m2)" in str(exc)
    # The centred form is exact and recommended.
    s = neyman.MeanStats(x.size, float(x.mean()), float(((x - x.mean()) ** 2).sum()))
    assert math.isclose(s.variance, float(np.var(x, ddof=1)), rel_tol=1e-9)


def test_small_exact_sums_are_fine() -> None:
    # Constant data with exact sums: M2 is exactly zero, not a precision problem.
    s = neyman.MeanStats.from_sums(4, 12.0, 36.0)
    assert (s.mean, s.m2) == (3.0, 0.0)


def test_merge_with_another_type_is_named() -> None:
    check_raises(
        InputTypeError,
        r"^other is a ProportionStats; a MeanStats merges only with another MeanStats",
        neyman.MeanStats(3, 1.0, 1.0).merge,
        neyman.ProportionStats(1, 3),
    )
    a = neyman.RegressionStats(10, 10.0, 40.0, [5.0], [8.0], [[9.0]], ["x"])
    b = neyman.RegressionStats(10, 10.0, 40.0, [5.0], [8.0], [[9.0]], ["w"])
    check_raises(InputError, r"^other: covariates", a.merge, b)


def test_merge_arms_bad_parts() -> None:
    check_raises(InputTypeError, r"each part must map arm labels", neyman.merge_arms, [3])
    check_raises(InputTypeError, r"arm 'c': float is not", neyman.merge_arms, [{"c": 1.0}])
    check_raises(InputError, r"^parts: nothing to merge", neyman.merge_arms, [])


def test_compare_checks_the_statistics() -> None:
    stats = {"c": neyman.MeanStats(5, 1.0, 4.0), "t": neyman.ProportionStats(1, 5)}
    check_raises(
        InputTypeError,
        r"arm 't' is a ProportionStats; Mean 'y' needs MeanStats",
        neyman.Mean("y").compare,
        stats,
        control="c",
    )
    check_raises(
        InputError,
        r"^control == 'z' is not one of the arms",
        neyman.Mean("y").compare,
        {"c": neyman.MeanStats(5, 1.0, 4.0)},
        control="z",
    )


def test_equal_var_takes_a_boolean() -> None:
    a, b = [1.0, 2.0, 3.0], [2.0, 3.0, 5.0]
    check_raises(
        InputTypeError,
        r"^equal_var must be True or False, got 'False'",
        neyman.ttest,
        a,
        b,
        equal_var="False",
    )
    assert neyman.ttest(a, b, equal_var=np.bool_(True)).method == "student"


def test_frame_with_only_the_control_arm() -> None:
    df = pd.DataFrame({"arm": ["c"] * 4, "y": [1.0, 2.0, 3.0, 4.0]})
    check_raises(
        InsufficientDataError,
        r"^variant column 'arm' holds only the control arm 'c'",
        neyman.ttest,
        df,
        metric="y",
        variant="arm",
        control="c",
    )
    check_raises(
        InsufficientDataError,
        r"^variant column 'arm' holds only the control arm 'c'",
        neyman.Experiment,
        df,
        variant="arm",
        control="c",
    )


def test_experiment_reads_the_frame_at_each_call() -> None:
    # No stale snapshot: arms, SRM and effects of one call describe the same rows.
    df = pd.DataFrame({"arm": ["c", "t"] * 4, "y": [1.0, 2.0, 0.0, 3.0, 2.0, 2.5, 1.0, 4.0]})
    exp = neyman.Experiment(df, variant="arm", control="c")
    df.loc[len(df)] = ["u", 5.0]
    df.loc[len(df)] = ["u", 6.0]
    res = exp.analyze(neyman.Mean("y"))
    assert [r.treatment for r in res] == ["t", "u"]
    assert res.srm is not None
    assert res.srm.observed == {"c": 4, "t": 4, "u": 2}
    assert exp.arms == ["c", "t", "u"]


def test_nan_in_the_covariate_names_the_covariate() -> None:
    df = pd.DataFrame(
        {
            "arm": ["c", "t"] * 4,
            "y": np.arange(8.0),
            "x": [1.0, 2.0, np.nan, 3.0, 2.0, 1.0, 0.0, 5.0],
        }
    )
    check_raises(
        InputError,
        r"^arm 'c' of metric 'y' has 1 NaN value in column 'x' \(nan_policy='raise'\)",
        neyman.cuped,
        df,
        metric="y",
        covariate="x",
        variant="arm",
        control="c",
        nan_policy="raise",
    )


def test_zero_control_denominators_name_the_control() -> None:
    df = pd.DataFrame(
        {"arm": ["c", "t"] * 4, "num": [0.0, 1.0] * 4, "den": [0.0, 2.0, 0.0, 3.0] * 2}
    )
    exc = check_raises(
        InputError,
        r"^arm 'c' of metric 'num/den'",
        neyman.ratio,
        df,
        numerator="num",
        denominator="den",
        variant="arm",
        control="c",
    )
    assert "'t'" not in str(exc)


@pytest.mark.parametrize("bad", [0.5, 1.0, "0.9"])
def test_confidence_interval_level_checked(bad: object) -> None:
    res = neyman.ttest([1.0, 2.0, 3.0, 4.0], [2.0, 3.0, 4.0, 6.0])
    cls = InputTypeError if isinstance(bad, str) else InputError
    if bad == 0.5:
        lo, hi = res.confidence_interval(0.5)
        assert res.ci_low < lo < hi < res.ci_high
        return
    with pytest.raises(cls):
        res.confidence_interval(bad)  # type: ignore[arg-type]


def test_compare_needs_a_treatment_arm() -> None:
    check_raises(
        InsufficientDataError,
        r"^stats holds only the control arm 'c'",
        neyman.Mean("y").compare,
        {"c": neyman.MeanStats(5, 1.0, 4.0)},
        control="c",
    )


def test_aggregate_of_a_regression_metric_is_refused() -> None:
    df = pd.DataFrame({"arm": ["c", "t"] * 3, "y": np.arange(6.0), "g": ["a", "b", "a"] * 2})
    check_raises(
        InputError,
        r"^Mean\('y'\) with several covariates, categorical or strata is a regression",
        neyman.Mean("y", strata="g").aggregate,
        df,
        variant="arm",
        control="c",
    )
