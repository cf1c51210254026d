"""Bad input for variance reduction: CUPED and regression adjustment raise the documented
exception with a message naming the argument (or column, or arm) and the problem.

Entry points: ``neyman.cuped`` on arrays, on a mapping of treatment arms, on pandas and polars
frames and on ``CupedStats``; ``Experiment.analyze`` with ``Mean(covariate=...)`` (CUPED, Welch and
z), ``Proportion(covariate=...)`` and ``Ratio(numerator_covariate=..., denominator_covariate=...)``;
``neyman.regression_adjust`` on pandas and polars frames and ``Experiment.analyze`` with
``Mean(covariate=[...], categorical=..., strata=...)``.

Cases: a constant covariate, collinear covariates (numeric, and categorical against numeric), a
covariate equal to (or an exact affine function of) the metric, NaN in covariates under each
``nan_policy`` and under ``missing_covariate='indicator'``, a covariate missing for a whole arm,
fewer rows than parameters, a category with one unit in an arm under HC2, wrong types and values of
every option, bad ``CupedStats`` fields, wrong numbers of arrays and mismatched lengths.

For each case: the exception is exactly the documented class of ``neyman.errors``
(``type(exc) is cls``), is a ``NeymanError`` and a ``ValueError`` / ``TypeError``, and its message
matches a pattern naming the argument and the problem (``pytest.raises(..., match=...)``).

Independent references: the contract in DESIGN.md section 6, the "Raises" sections of the
docstrings of ``cuped`` and ``regression_adjust``, and the class hierarchy in ``neyman/errors.py``.
The ``nan_policy='omit'`` checks compare with the same call on the data with the incomplete rows
removed by pandas/numpy beforehand, at ``rtol = 1e-12``: both calls see the same values in the
same order, so they may differ only in the grouping of floating-point merges inside the kernels
(a few ulp on these small, well-conditioned samples of at most 30 rows); 1e-12 leaves several
orders of magnitude of margin while still catching any row kept or dropped wrongly. The
``missing_covariate='indicator'`` checks compare with ``regression_adjust`` on a frame where the
test itself filled the NaN with 0 and added the 0/1 indicator column (or the missing category as
its own level), at the same ``rtol = 1e-12`` and for the same reason (identical design matrix).
No expected number is taken from neyman itself.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import neyman
import numpy as np
import pandas as pd
import polars as pl
import pytest
from neyman import (
    InputError,
    InputTypeError,
    InsufficientDataError,
    LengthMismatchError,
    ZeroVarianceError,
)

from tests.conftest import ADJUSTED_FLOAT_FIELDS as FLOAT_FIELDS
from tests.conftest import NAN_FIELDS, check_raises, check_raises_one_of, first
from tests.conftest import assert_close_results as _assert_close


def assert_close_results(r1: neyman.TestResult, r2: neyman.TestResult, rtol: float) -> None:
    _assert_close(r1, r2, rtol, FLOAT_FIELDS)


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


# --------------------------------------------------------------------------------------------
# Data: one frame with everything the entry points need
# --------------------------------------------------------------------------------------------

N_C, N_T = 14, 16
CONTROL_NAN_ROWS = [0, 5]  # 2 NaN in the control arm
TREATMENT_NAN_ROWS = [N_C + 1, N_C + 4, N_C + 9]  # 3 NaN in the treatment arm


def base_frame(n_c: int = N_C, n_t: int = N_T, seed: int = 11) -> pd.DataFrame:
    """``n_c`` control rows then ``n_t`` treatment rows; covariates correlated with outcomes."""
    rng = np.random.default_rng(seed)
    n = n_c + n_t
    x = rng.normal(10.0, 2.0, n)
    den_pre = rng.integers(3, 12, n).astype(np.float64)
    num_pre = np.floor(0.3 * den_pre + rng.integers(0, 3, n))
    den = den_pre + rng.integers(0, 4, n)
    return pd.DataFrame(
        {
            "arm": ["c"] * n_c + ["t"] * n_t,
            "y": x + rng.normal(0.5, 1.0, n),
            "x": x,
            "x2": rng.normal(0.0, 1.0, n),
            "b": (rng.uniform(size=n) < 0.4 + 0.02 * (x - 10.0)).astype(np.float64),
            "bx": (rng.uniform(size=n) < 0.5).astype(np.float64),
            "num": np.floor(0.3 * den + rng.integers(0, 3, n)),
            "den": den,
            "num_pre": num_pre,
            "den_pre": den_pre,
            # two levels, alternating, so every level has several units in each arm
            "g": np.where(np.arange(n) % 2 == 0, "a", "b"),
            "const": np.full(n, 0.1),
            "const2": np.full(n, 7.0),
        }
    )


def arm_regex(metric: str, arm: str) -> str:
    return re.escape(f"arm '{arm}' of metric '{metric}'")


# --------------------------------------------------------------------------------------------
# CUPED entry points: each takes (frame, covariate column) and options
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CupedEntry:
    name: str
    call: Callable[..., Any]
    metric: str  # metric label in messages and the outcome column NaN checks look at
    control: str  # regex naming the control arm in messages
    treatment: str  # regex naming the treatment arm in messages

    def __repr__(self) -> str:
        return self.name


def _arrays(df: pd.DataFrame, metric: str, cov: str) -> tuple[np.ndarray, ...]:
    c, t = df[df.arm == "c"], df[df.arm == "t"]
    return (
        c[metric].to_numpy(),
        c[cov].to_numpy(),
        t[metric].to_numpy(),
        t[cov].to_numpy(),
    )


def _cuped_arrays(df: pd.DataFrame, cov: str, den_cov: str = "den_pre", **kw: Any) -> Any:
    return neyman.cuped(*_arrays(df, "y", cov), **kw)


def _cuped_mapping(df: pd.DataFrame, cov: str, den_cov: str = "den_pre", **kw: Any) -> Any:
    yc, xc, yt, xt = _arrays(df, "y", cov)
    return neyman.cuped(yc, xc, {"t": yt}, {"t": xt}, **kw)


def _cuped_frame(df: pd.DataFrame, cov: str, den_cov: str = "den_pre", **kw: Any) -> Any:
    return neyman.cuped(df, metric="y", covariate=cov, variant="arm", control="c", **kw)


def _cuped_polars(df: pd.DataFrame, cov: str, den_cov: str = "den_pre", **kw: Any) -> Any:
    return neyman.cuped(
        pl.from_pandas(df), metric="y", covariate=cov, variant="arm", control="c", test="z", **kw
    )


def _exp_mean(df: pd.DataFrame, cov: str, den_cov: str = "den_pre", **kw: Any) -> Any:
    exp = neyman.Experiment(df, variant="arm", control="c")
    return exp.analyze(neyman.Mean("y", covariate=cov), **kw)


def _exp_mean_z(df: pd.DataFrame, cov: str, den_cov: str = "den_pre", **kw: Any) -> Any:
    exp = neyman.Experiment(pl.from_pandas(df), variant="arm", control="c")
    return exp.analyze(neyman.Mean("y", covariate=cov, test="z"), **kw)


def _exp_proportion(df: pd.DataFrame, cov: str, den_cov: str = "den_pre", **kw: Any) -> Any:
    exp = neyman.Experiment(df, variant="arm", control="c")
    return exp.analyze(neyman.Proportion("b", covariate=cov), **kw)


def _exp_ratio(df: pd.DataFrame, cov: str, den_cov: str = "den_pre", **kw: Any) -> Any:
    exp = neyman.Experiment(df, variant="arm", control="c")
    metric = neyman.Ratio("num", "den", numerator_covariate=cov, denominator_covariate=den_cov)
    return exp.analyze(metric, **kw)


CUPED_ENTRIES = [
    CupedEntry("cuped-arrays", _cuped_arrays, "y", r"^control\b", r"^treatment\b"),
    CupedEntry("cuped-mapping", _cuped_mapping, "y", r"^control\b", r"^treatment 't'"),
    CupedEntry("cuped-frame", _cuped_frame, "y", arm_regex("y", "c"), arm_regex("y", "t")),
    CupedEntry("cuped-polars-z", _cuped_polars, "y", arm_regex("y", "c"), arm_regex("y", "t")),
    CupedEntry("experiment-mean", _exp_mean, "y", arm_regex("y", "c"), arm_regex("y", "t")),
    CupedEntry("experiment-mean-z", _exp_mean_z, "y", arm_regex("y", "c"), arm_regex("y", "t")),
    CupedEntry(
        "experiment-proportion", _exp_proportion, "b", arm_regex("b", "c"), arm_regex("b", "t")
    ),
    CupedEntry(
        "experiment-ratio",
        _exp_ratio,
        "num/den",
        arm_regex("num/den", "c"),
        arm_regex("num/den", "t"),
    ),
]
ENTRY_IDS = {"ids": repr}


def cuped_stats(y: np.ndarray, x: np.ndarray) -> neyman.CupedStats:
    """CupedStats from SQL-style sums computed by the test (math.fsum: correctly rounded)."""
    return neyman.CupedStats.from_sums(
        y.size,
        math.fsum(y),
        math.fsum(x),
        math.fsum(y * y),
        math.fsum(x * x),
        math.fsum(x * y),
    )


def with_nan(df: pd.DataFrame, column: str, rows: list[int]) -> pd.DataFrame:
    out = df.copy()
    out.loc[rows, column] = np.nan
    return out


def x_missing_for_arm(arm: str) -> tuple[pd.DataFrame, list[int]]:
    """The base frame with x NaN on every row of arm ``arm`` ("c" or "t"), and those rows."""
    rows = list(range(N_C)) if arm == "c" else list(range(N_C, N_C + N_T))
    return with_nan(base_frame(), "x", rows), rows


# --------------------------------------------------------------------------------------------
# CUPED: constant covariate, covariate that explains the metric exactly
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("entry", CUPED_ENTRIES, **ENTRY_IDS)
def test_cuped_constant_covariate(entry: CupedEntry) -> None:
    # For the ratio both pre-period columns are constant, so the linearised covariate is constant.
    check_raises(
        ZeroVarianceError,
        r"\bcovariate\b.*\bconstant\b",
        entry.call,
        base_frame(),
        "const",
        den_cov="const2",
    )


@pytest.mark.parametrize("value", [0.1, 0.7, 1 / 3, 123.456, 3.0, -2.5e6])
def test_cuped_stats_constant_covariate(value: float) -> None:
    """Constant covariate given as co-moments and as SQL sums (where c_xx is a cancellation).

    With 10 and 13 rows, ``sum_x_sq - sum_x^2 / n`` rounds to a few ulp instead of 0 for the
    first four values (for 3.0 and -2.5e6 every sum is exact).
    """
    df = base_frame(n_c=10, n_t=13)
    yc, _, yt, _ = _arrays(df, "y", "x")
    xc, xt = np.full(yc.size, value), np.full(yt.size, value)
    check_raises(
        ZeroVarianceError,
        r"\bcovariate\b.*\bconstant\b",
        neyman.cuped,
        neyman.CupedStats(yc.size, float(np.mean(yc)), value, 5.0, 0.0, 0.0),
        neyman.CupedStats(yt.size, float(np.mean(yt)), value, 6.0, 0.0, 0.0),
    )
    # Same data as arrays and as sums: the sums path must not invent a covariance from the
    # rounding of sum_x_sq - sum_x^2 / n.
    check_raises(ZeroVarianceError, r"\bcovariate\b.*\bconstant\b", neyman.cuped, yc, xc, yt, xt)
    check_raises(
        ZeroVarianceError,
        r"\bcovariate\b.*\bconstant\b",
        neyman.cuped,
        cuped_stats(yc, xc),
        cuped_stats(yt, xt),
    )


def test_cuped_covariate_constant_in_one_arm_is_fine() -> None:
    # Pooled Var(x) > 0: theta is defined, the adjustment runs.
    df = base_frame()
    yc, _, yt, xt = _arrays(df, "y", "x")
    res = neyman.cuped(yc, np.full(yc.size, 10.0), yt, xt)
    assert math.isfinite(res.effect)
    assert res.se > 0


@pytest.mark.parametrize("entry", CUPED_ENTRIES, **ENTRY_IDS)
def test_cuped_covariate_equals_metric(entry: CupedEntry) -> None:
    df = base_frame()
    df["y_copy"] = df["y"]
    df["b_copy"] = df["b"]
    df["num_copy"] = df["num"]
    df["den_copy"] = df["den"]
    cov = {"b": "b_copy", "num/den": "num_copy"}.get(entry.metric, "y_copy")
    check_raises(
        ZeroVarianceError,
        r"\bcovariate\b.*explains the metric exactly.*standard error is zero",
        entry.call,
        df,
        cov,
        den_cov="den_copy",
    )


def test_cuped_stats_covariate_equals_metric() -> None:
    df = base_frame()
    yc, _, yt, _ = _arrays(df, "y", "x")
    check_raises(
        ZeroVarianceError,
        r"\bcovariate\b.*explains the metric exactly",
        neyman.cuped,
        cuped_stats(yc, yc),
        cuped_stats(yt, yt),
    )


@pytest.mark.parametrize(
    "transform",
    [
        pytest.param(lambda y: 3.0 * y - 7.0, id="3y-7"),
        pytest.param(lambda y: 0.1 * y, id="0.1y"),
        pytest.param(lambda y: -2.5 * y + 1000.0, id="-2.5y+1000"),
    ],
)
@pytest.mark.parametrize("entry", CUPED_ENTRIES[:5], **ENTRY_IDS)
def test_cuped_covariate_affine_in_metric(
    transform: Callable[[Any], Any], entry: CupedEntry
) -> None:
    # x = a y + b explains y exactly (docstring: "a covariate that explains the metric exactly"
    # raises). The adjusted variance is then pure rounding noise (variance_ratio ~ 1e-16), so
    # it must be recognised as zero relative to the unadjusted variance, not only when it
    # happens to round to exactly 0.
    df = base_frame()
    df["x_affine"] = transform(df["y"])
    check_raises(
        ZeroVarianceError,
        r"\bcovariate\b.*explains the metric exactly",
        entry.call,
        df,
        "x_affine",
    )


# --------------------------------------------------------------------------------------------
# CUPED: NaN in the covariate under each nan_policy
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("entry", CUPED_ENTRIES, **ENTRY_IDS)
@pytest.mark.parametrize(("arm", "rows"), [("c", CONTROL_NAN_ROWS), ("t", TREATMENT_NAN_ROWS)])
def test_cuped_nan_raise_names_arm_and_count(entry: CupedEntry, arm: str, rows: list[int]) -> None:
    df = with_nan(base_frame(), "x", rows)
    arm_re = entry.control if arm == "c" else entry.treatment
    exc = check_raises(
        InputError,
        rf"{arm_re} has {len(rows)} NaN values",
        entry.call,
        df,
        "x",
        nan_policy="raise",
    )
    assert "nan_policy" in str(exc)


@pytest.mark.parametrize("entry", CUPED_ENTRIES, **ENTRY_IDS)
@pytest.mark.parametrize("arm", ["c", "t"])
def test_cuped_nan_propagate_gives_nan(entry: CupedEntry, arm: str) -> None:
    rows = CONTROL_NAN_ROWS if arm == "c" else TREATMENT_NAN_ROWS
    df = with_nan(base_frame(), "x", rows[:1])
    for kwargs in ({}, {"nan_policy": "propagate"}):
        res = first(entry.call(df, "x", **kwargs))
        for name in NAN_FIELDS:
            assert math.isnan(getattr(res, name)), name
        assert math.isnan(res.theta)
        assert (res.n_control, res.n_treatment) == (N_C, N_T)


@pytest.mark.parametrize("entry", CUPED_ENTRIES, **ENTRY_IDS)
def test_cuped_nan_omit_equals_dropping_first(entry: CupedEntry) -> None:
    df = with_nan(base_frame(), "x", CONTROL_NAN_ROWS + TREATMENT_NAN_ROWS)
    df.loc[[3], "y"] = np.nan  # and one NaN outcome (means only; a NaN 'b' or 'num' is no 0/1)
    metric_cols = {"y": ["y"], "b": ["b"], "num/den": ["num", "den", "den_pre"]}[entry.metric]
    omitted = first(entry.call(df, "x", nan_policy="omit"))
    complete = df[["x", *metric_cols]].notna().all(axis=1)
    reference = first(entry.call(df[complete].reset_index(drop=True), "x"))
    assert_close_results(omitted, reference, rtol=1e-12)
    assert omitted.theta == reference.theta or math.isclose(
        omitted.theta, reference.theta, rel_tol=1e-12
    )
    dropped_c = int((~complete[:N_C]).sum())
    assert omitted.n_control == N_C - dropped_c
    assert omitted.n_treatment == N_T - int((~complete[N_C:]).sum())


@pytest.mark.parametrize("entry", CUPED_ENTRIES, **ENTRY_IDS)
@pytest.mark.parametrize("arm", ["c", "t"])
def test_cuped_covariate_missing_for_whole_arm(entry: CupedEntry, arm: str) -> None:
    df, rows = x_missing_for_arm(arm)
    arm_re = entry.control if arm == "c" else entry.treatment
    check_raises(
        InsufficientDataError,
        rf"{arm_re} has 0 observations after omitting NaN; at least 2 are needed",
        entry.call,
        df,
        "x",
        nan_policy="omit",
    )
    check_raises(
        InputError,
        rf"{arm_re} has {len(rows)} NaN values",
        entry.call,
        df,
        "x",
        nan_policy="raise",
    )
    res = first(entry.call(df, "x", nan_policy="propagate"))
    for name in NAN_FIELDS:
        assert math.isnan(getattr(res, name)), name


@pytest.mark.parametrize("entry", CUPED_ENTRIES, **ENTRY_IDS)
@pytest.mark.parametrize("policy", ["propagate", "raise", "omit"])
def test_cuped_infinite_covariate_always_raises(entry: CupedEntry, policy: str) -> None:
    df = base_frame()
    df.loc[[N_C + 2], "x"] = np.inf
    check_raises(
        InputError,
        rf"{entry.treatment} has 1 infinite value",
        entry.call,
        df,
        "x",
        nan_policy=policy,
    )


# --------------------------------------------------------------------------------------------
# CUPED: arguments
# --------------------------------------------------------------------------------------------


def test_cuped_wrong_number_of_arrays() -> None:
    y = base_frame()["y"].to_numpy()
    check_raises(InputError, r"cuped\(y_c, x_c, y_t, x_t\) with four arrays", neyman.cuped, y, y, y)
    check_raises(InputError, r"four arrays", neyman.cuped, y, y)
    check_raises(InputError, r"four arrays", neyman.cuped, y)


def test_cuped_stats_with_extra_arrays() -> None:
    s = neyman.CupedStats(5, 1.0, 2.0, 4.0, 3.0, 1.0)
    y = np.arange(5.0)
    check_raises(InputError, r"cuped\(control_stats, treatment_stats\)", neyman.cuped, s, s, y)
    check_raises(
        InputTypeError,
        r"^treatment must be a \(metric, covariate\) pair of arrays or CupedStats, got ndarray",
        neyman.cuped,
        s,
        y,
    )
    check_raises(
        InputTypeError,
        r"^treatment is a MeanStats; this test needs CupedStats",
        neyman.cuped,
        s,
        neyman.MeanStats(5, 1.0, 4.0),
    )
    check_raises(
        InputTypeError,
        r"^control is a CupedStats; this test needs MeanStats",
        neyman.ttest,
        s,
        s,
    )


@pytest.mark.parametrize("arm", ["control", "treatment"])
def test_cuped_length_mismatch(arm: str) -> None:
    y5, y4 = np.arange(5.0), np.array([1.0, 3.0, 2.0, 5.0])
    args = (y5, y4, y5, y5[::-1]) if arm == "control" else (y5, y5[::-1], y5, y4)
    check_raises(
        LengthMismatchError,
        rf"^{arm} metric has length 5 but {arm} covariate has length 4; they must match",
        neyman.cuped,
        *args,
    )


def test_cuped_length_mismatch_in_mapping() -> None:
    y5 = np.arange(5.0)
    check_raises(
        LengthMismatchError,
        r"^treatment 'b' metric has length 5 but treatment 'b' covariate has length 3",
        neyman.cuped,
        y5,
        y5[::-1],
        {"b": y5},
        {"b": y5[:3]},
    )


def test_cuped_mappings_must_match() -> None:
    y = np.arange(5.0)
    check_raises(
        InputError,
        r"y_t and x_t mappings must have the same arm labels",
        neyman.cuped,
        y,
        y,
        {"a": y},
        {"b": y},
    )
    check_raises(InputError, r"y_t and x_t must both be mappings", neyman.cuped, y, y, {"a": y}, y)


@pytest.mark.parametrize(
    ("covariate", "cls", "match"),
    [
        (123, InputTypeError, r"^control covariate must be an array or a series, got int"),
        (["a", "b", "c", "d", "e"], InputTypeError, r"^control covariate has string dtype"),
        (np.ones((5, 1)), InputError, r"^control covariate must be one-dimensional"),
    ],
    ids=["int", "strings", "2d"],
)
def test_cuped_array_covariate_bad_type(covariate: Any, cls: type[Exception], match: str) -> None:
    y = np.arange(5.0)
    check_raises(cls, match, neyman.cuped, y, covariate, y, y[::-1])


def test_cuped_test_option() -> None:
    y = np.arange(5.0)
    check_raises(
        InputError,
        r"^test == 'student', must be one of 'welch', 'z'",
        neyman.cuped,
        y,
        y[::-1],
        y,
        y,
        test="student",
    )


@pytest.mark.parametrize(
    ("kwargs", "cls", "match"),
    [
        ({"covariate": 123}, InputTypeError, r"^covariate must be a column name \(str\), got int"),
        (
            {"covariate": ["x"]},
            InputTypeError,
            r"^covariate must be a column name \(str\), got list",
        ),
        ({"covariate": "nope"}, InputError, r"^covariate == 'nope' is not a column of the data"),
        ({"covariate": "g"}, InputTypeError, r"^column 'g' has dtype String; numeric values"),
        ({}, InputError, r"pass covariate=<column>"),
    ],
    ids=["int", "list", "unknown", "string-column", "missing"],
)
def test_cuped_frame_covariate_argument(
    kwargs: dict[str, Any], cls: type[Exception], match: str
) -> None:
    check_raises(
        cls, match, neyman.cuped, base_frame(), metric="y", variant="arm", control="c", **kwargs
    )


def test_cuped_frame_with_arrays() -> None:
    df = base_frame()
    check_raises(
        InputError,
        r"with a data frame, pass columns by name",
        neyman.cuped,
        df,
        df["x"],
        metric="y",
        covariate="x",
        variant="arm",
        control="c",
    )


# --------------------------------------------------------------------------------------------
# CupedStats fields
# --------------------------------------------------------------------------------------------

GOOD_STATS = (10, 1.0, 2.0, 4.0, 3.0, 1.0)  # n, mean_y, mean_x, c_yy, c_xx, c_xy


@pytest.mark.parametrize("arm", ["control", "treatment"])
@pytest.mark.parametrize(
    ("fields", "cls", "match"),
    [
        ((-3, 1.0, 2.0, 4.0, 3.0, 1.0), InputError, r"^n == -3, must be non-negative"),
        ((2.5, 1.0, 2.0, 4.0, 3.0, 1.0), InputTypeError, r"^n must be an integer count"),
        ((True, 1.0, 2.0, 4.0, 3.0, 1.0), InputTypeError, r"^n must be an integer count"),
        ((10, math.nan, 2.0, 4.0, 3.0, 1.0), InputError, r"^mean_y == nan, must be finite"),
        ((10, 1.0, math.inf, 4.0, 3.0, 1.0), InputError, r"^mean_x == inf, must be finite"),
        ((10, 1.0, 2.0, -4.0, 3.0, 1.0), InputError, r"^c_yy == -4\.0, must be non-negative"),
        ((10, 1.0, 2.0, 4.0, -3.0, 1.0), InputError, r"^c_xx == -3\.0, must be non-negative"),
        ((10, 1.0, 2.0, 4.0, 3.0, math.nan), InputError, r"^c_xy == nan, must be finite"),
        ((10, "1.0", 2.0, 4.0, 3.0, 1.0), InputTypeError, r"^mean_y must be a number, got str"),
        ((10, 1.0, 2.0, 4.0, None, 1.0), InputTypeError, r"^c_xx must be a number, got NoneType"),
        # |c_xy| > sqrt(c_yy c_xx): no data have these co-moments (correlation 5 / sqrt(12))
        ((10, 1.0, 2.0, 4.0, 3.0, 5.0), InputError, r"\bc_xy\b"),
    ],
    ids=[
        "negative-n",
        "float-n",
        "bool-n",
        "nan-mean_y",
        "inf-mean_x",
        "negative-c_yy",
        "negative-c_xx",
        "nan-c_xy",
        "str-mean_y",
        "none-c_xx",
        "impossible-c_xy",
    ],
)
def test_cuped_stats_bad_fields(
    arm: str, fields: tuple[Any, ...], cls: type[Exception], match: str
) -> None:
    # Rejected when the stats are built or when they are used; either way, before any result.
    def build_and_use() -> Any:
        bad = neyman.CupedStats(*fields)
        good = neyman.CupedStats(*GOOD_STATS)
        return neyman.cuped(*((bad, good) if arm == "control" else (good, bad)))

    check_raises(cls, match, build_and_use)


@pytest.mark.parametrize(
    ("sums", "cls", "match"),
    [
        ((-1, 10.0, 11.0, 30.0, 39.0, 34.0), InputError, r"^n == -1, must be non-negative"),
        ((4.5, 10.0, 11.0, 30.0, 39.0, 34.0), InputTypeError, r"^n must be an integer count"),
        ((4, math.nan, 11.0, 30.0, 39.0, 34.0), InputError, r"^sum_y == nan, must be finite"),
        ((4, 10.0, -math.inf, 30.0, 39.0, 34.0), InputError, r"^sum_x == -inf, must be finite"),
        ((4, 10.0, 11.0, -30.0, 39.0, 34.0), InputError, r"^sum_y_sq == -30\.0, must be non-neg"),
        ((4, 10.0, 11.0, 30.0, -39.0, 34.0), InputError, r"^sum_x_sq == -39\.0, must be non-neg"),
        ((4, 10.0, 11.0, 30.0, 39.0, math.inf), InputError, r"^sum_xy == inf, must be finite"),
        # sum_y_sq < sum_y^2 / n = 25: a negative sum of squared deviations
        ((4, 10.0, 11.0, 1.0, 39.0, 34.0), InputError, r"\bsum_y_sq\b"),
        # sum_xy far outside the Cauchy-Schwarz bound of the centred sums
        ((4, 10.0, 11.0, 30.0, 39.0, 340.0), InputError, r"\bsum_xy\b"),
    ],
    ids=[
        "negative-n",
        "float-n",
        "nan-sum_y",
        "inf-sum_x",
        "negative-sum_y_sq",
        "negative-sum_x_sq",
        "inf-sum_xy",
        "inconsistent-sum_y_sq",
        "inconsistent-sum_xy",
    ],
)
def test_cuped_stats_from_sums_bad(sums: tuple[Any, ...], cls: type[Exception], match: str) -> None:
    def build_and_use() -> Any:
        bad = neyman.CupedStats.from_sums(*sums)
        return neyman.cuped(bad, neyman.CupedStats(*GOOD_STATS))

    check_raises(cls, match, build_and_use)


@pytest.mark.parametrize("arm", ["control", "treatment"])
@pytest.mark.parametrize(("n", "word"), [(0, "observations"), (1, "observation")])
def test_cuped_stats_too_few(arm: str, n: int, word: str) -> None:
    bad = neyman.CupedStats(n, 1.0, 2.0, 0.0, 0.0, 0.0)
    good = neyman.CupedStats(*GOOD_STATS)
    args = (bad, good) if arm == "control" else (good, bad)
    check_raises(
        InsufficientDataError,
        rf"^{arm} has {n} {word}; at least 2 are needed",
        neyman.cuped,
        *args,
    )


# --------------------------------------------------------------------------------------------
# Experiment metrics with covariates: argument checks
# --------------------------------------------------------------------------------------------


def _analyze(*metrics: Any, **kw: Any) -> Any:
    return neyman.Experiment(base_frame(), variant="arm", control="c").analyze(*metrics, **kw)


@pytest.mark.parametrize(
    "metric",
    [
        pytest.param(lambda: neyman.Ratio("num", "den", numerator_covariate="num_pre"), id="num"),
        pytest.param(lambda: neyman.Ratio("num", "den", denominator_covariate="den_pre"), id="den"),
    ],
)
def test_ratio_needs_both_covariates(metric: Callable[[], Any]) -> None:
    check_raises(
        InputError,
        r"give both numerator_covariate and denominator_covariate, or neither",
        lambda: _analyze(metric()),
    )


@pytest.mark.parametrize(
    ("kwargs", "cls", "match"),
    [
        (
            {"numerator_covariate": 123, "denominator_covariate": "den_pre"},
            InputTypeError,
            r"^numerator_covariate must be a column name \(str\), got int",
        ),
        (
            {"numerator_covariate": "num_pre", "denominator_covariate": "nope"},
            InputError,
            r"^denominator_covariate == 'nope' is not a column of the data",
        ),
    ],
    ids=["int", "unknown"],
)
def test_ratio_covariate_argument(kwargs: dict[str, Any], cls: type[Exception], match: str) -> None:
    check_raises(cls, match, lambda: _analyze(neyman.Ratio("num", "den", **kwargs)))


def test_ratio_negative_covariate_denominator() -> None:
    df = base_frame()
    df.loc[[3], "den_pre"] = -1.0
    exp = neyman.Experiment(df, variant="arm", control="c")
    check_raises(
        InputError,
        r"\bden_pre\b has 1 negative value",
        exp.analyze,
        neyman.Ratio("num", "den", numerator_covariate="num_pre", denominator_covariate="den_pre"),
    )


@pytest.mark.parametrize(
    ("metric", "cls", "match"),
    [
        (
            lambda: neyman.Proportion("b", covariate=123),
            InputTypeError,
            r"^covariate must be a column name \(str\), got int",
        ),
        (
            lambda: neyman.Proportion("b", covariate="nope"),
            InputError,
            r"^covariate == 'nope' is not a column",
        ),
        (
            lambda: neyman.Proportion("y", covariate="x"),
            InputError,
            r"^arm 'c' of metric 'y' has \d+ values that are neither 0 nor 1",
        ),
        (
            lambda: neyman.Mean("y", covariate="nope"),
            InputError,
            r"^covariate == 'nope' is not a column",
        ),
        (
            lambda: neyman.Mean("y", covariate="x", test="student"),
            InputError,
            r"^test == 'student', must be one of 'welch', 'z'",
        ),
    ],
    ids=[
        "proportion-int",
        "proportion-unknown",
        "proportion-not-binary",
        "mean-unknown",
        "mean-student",
    ],
)
def test_experiment_cuped_metric_arguments(
    metric: Callable[[], Any], cls: type[Exception], match: str
) -> None:
    check_raises(cls, match, lambda: _analyze(metric()))


# --------------------------------------------------------------------------------------------
# Regression adjustment entry points
# --------------------------------------------------------------------------------------------

_METRIC_OPTIONS = ("interaction", "cov_type", "missing_covariate")


def _reg_pandas(df: pd.DataFrame, covariates: Any, categorical: Any = None, **kw: Any) -> Any:
    return neyman.regression_adjust(
        df,
        metric="y",
        variant="arm",
        control="c",
        covariates=covariates,
        categorical=categorical,
        **kw,
    )


def _reg_polars(df: pd.DataFrame, covariates: Any, categorical: Any = None, **kw: Any) -> Any:
    return neyman.regression_adjust(
        pl.from_pandas(df),
        metric="y",
        variant="arm",
        control="c",
        covariates=covariates,
        categorical=categorical,
        **kw,
    )


def _reg_experiment(df: pd.DataFrame, covariates: Any, categorical: Any = None, **kw: Any) -> Any:
    metric_kw = {k: kw.pop(k) for k in _METRIC_OPTIONS if k in kw}
    covs = list(covariates) if isinstance(covariates, list | tuple) else [covariates]
    metric = neyman.Mean("y", covariate=covs, categorical=categorical, **metric_kw)
    return neyman.Experiment(df, variant="arm", control="c").analyze(metric, **kw)


REG_ENTRIES = [
    pytest.param(_reg_pandas, id="regression_adjust"),
    pytest.param(_reg_polars, id="regression_adjust-polars"),
    pytest.param(_reg_experiment, id="experiment-mean-regression"),
]
INTERACTION = pytest.mark.parametrize("interaction", [True, False], ids=["lin", "ancova"])


# --------------------------------------------------------------------------------------------
# Regression: constant and collinear covariates
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("call", REG_ENTRIES)
@INTERACTION
def test_regression_constant_covariate(call: Callable[..., Any], interaction: bool) -> None:
    check_raises(
        ZeroVarianceError,
        r"\bconst\b.*\bconstant\b",
        call,
        base_frame(),
        ["x", "const"],
        interaction=interaction,
    )
    check_raises(
        ZeroVarianceError,
        r"\bconst\b.*\bconstant\b",
        call,
        base_frame(),
        ["const"],
        interaction=interaction,
    )


@pytest.mark.parametrize("call", REG_ENTRIES)
@INTERACTION
@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda df: 2.0 * df["x"] + 1.0, id="affine"),
        pytest.param(lambda df: df["x"] - 3.0 * df["x2"], id="combination"),
    ],
)
def test_regression_collinear_numeric(
    call: Callable[..., Any], interaction: bool, make: Callable[[pd.DataFrame], Any]
) -> None:
    df = base_frame()
    df["x_dup"] = make(df)
    check_raises(
        ZeroVarianceError,
        r"\b(x|x2|x_dup)\b.*\bcollinear\b",
        call,
        df,
        ["x", "x2", "x_dup"],
        interaction=interaction,
    )


@pytest.mark.parametrize("call", REG_ENTRIES)
@INTERACTION
def test_regression_collinear_categorical_and_numeric(
    call: Callable[..., Any], interaction: bool
) -> None:
    df = base_frame()
    df["g3"] = np.array(["p", "q", "r"])[np.arange(len(df)) % 3]
    # a numeric column that is a linear combination of the dummies of g3 (and the intercept)
    df["g3_score"] = df["g3"].map({"p": 1.0, "q": 3.0, "r": -2.0})
    check_raises(
        ZeroVarianceError,
        r"\b(g3|g3_score)\b.*\bcollinear\b",
        call,
        df,
        ["x", "g3_score"],
        "g3",
        interaction=interaction,
    )


# --------------------------------------------------------------------------------------------
# Regression: NaN in covariates
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("call", REG_ENTRIES)
@pytest.mark.parametrize(("arm", "rows"), [("c", CONTROL_NAN_ROWS), ("t", TREATMENT_NAN_ROWS)])
@pytest.mark.parametrize("column", ["x", "x2", "g"])
def test_regression_nan_raise_names_arm_and_count(
    call: Callable[..., Any], arm: str, rows: list[int], column: str
) -> None:
    df = base_frame()
    df[column] = df[column].astype(object) if column == "g" else df[column]
    df.loc[rows, column] = None if column == "g" else np.nan
    exc = check_raises(
        InputError,
        rf"{arm_regex('y', arm)} has {len(rows)} rows with NaN",
        call,
        df,
        ["x", "x2"],
        "g",
        nan_policy="raise",
    )
    assert "nan_policy" in str(exc)


@pytest.mark.parametrize("call", REG_ENTRIES)
@pytest.mark.parametrize("arm", ["c", "t"])
def test_regression_nan_propagate_gives_nan(call: Callable[..., Any], arm: str) -> None:
    rows = CONTROL_NAN_ROWS if arm == "c" else TREATMENT_NAN_ROWS
    df = with_nan(base_frame(), "x2", rows[:1])
    for kwargs in ({}, {"nan_policy": "propagate"}):
        res = first(call(df, ["x", "x2"], "g", **kwargs))
        for name in NAN_FIELDS:
            assert math.isnan(getattr(res, name)), name
        assert (res.n_control, res.n_treatment) == (N_C, N_T)


@pytest.mark.parametrize("call", REG_ENTRIES)
@INTERACTION
@pytest.mark.parametrize("cov_type", ["HC0", "HC1", "HC2"])
def test_regression_nan_omit_equals_dropping_first(
    call: Callable[..., Any], interaction: bool, cov_type: str
) -> None:
    df = base_frame(n_c=20, n_t=22)
    df["g"] = df["g"].astype(object)
    df.loc[[0, 5], "x"] = np.nan
    df.loc[[21, 30], "x2"] = np.nan
    df.loc[[7, 33], "g"] = None
    df.loc[[9], "y"] = np.nan
    opts = {"interaction": interaction, "cov_type": cov_type}
    omitted = first(call(df, ["x", "x2"], "g", nan_policy="omit", **opts))
    complete = df[["y", "x", "x2", "g"]].notna().all(axis=1)
    reference = first(call(df[complete].reset_index(drop=True), ["x", "x2"], "g", **opts))
    assert_close_results(omitted, reference, rtol=1e-12)
    assert omitted.n_control == 20 - 4
    assert omitted.n_treatment == 22 - 3


@pytest.mark.parametrize("call", REG_ENTRIES)
@INTERACTION
@pytest.mark.parametrize("policy", ["propagate", "raise", "omit"])
def test_regression_indicator_keeps_all_rows(
    call: Callable[..., Any], interaction: bool, policy: str
) -> None:
    # NaN in x in both arms (at least two per arm, so the indicator varies within each arm and
    # no unit has leverage 1); the indicator model keeps every row under every nan_policy.
    df = base_frame(n_c=20, n_t=22)
    nan_rows = [0, 5, 11, 21, 30, 37]
    df.loc[nan_rows, "x"] = np.nan
    res = first(
        call(
            df,
            ["x", "x2"],
            "g",
            missing_covariate="indicator",
            interaction=interaction,
            nan_policy=policy,
        )
    )
    assert res.n_control + res.n_treatment == len(df)
    assert (res.n_control, res.n_treatment) == (20, 22)
    # Same design matrix built by hand: x filled with 0 plus a 0/1 "missing" column.
    manual = df.copy()
    manual["x_missing"] = manual["x"].isna().astype(np.float64)
    manual["x"] = manual["x"].fillna(0.0)
    reference = first(call(manual, ["x", "x_missing", "x2"], "g", interaction=interaction))
    assert_close_results(res, reference, rtol=1e-12)


@pytest.mark.parametrize("call", REG_ENTRIES)
@INTERACTION
def test_regression_indicator_missing_category_is_a_level(
    call: Callable[..., Any], interaction: bool
) -> None:
    df = base_frame(n_c=20, n_t=22)
    df["g"] = df["g"].astype(object)
    df.loc[[1, 4, 8, 23, 26, 31], "g"] = None
    res = first(call(df, ["x"], "g", missing_covariate="indicator", interaction=interaction))
    assert (res.n_control, res.n_treatment) == (20, 22)
    manual = df.copy()
    manual["g"] = manual["g"].fillna("zz-missing")  # sorts after 'a' and 'b', like the kernel
    reference = first(call(manual, ["x"], "g", interaction=interaction))
    assert_close_results(res, reference, rtol=1e-12)


@pytest.mark.parametrize("call", REG_ENTRIES)
@pytest.mark.parametrize("arm", ["c", "t"])
def test_regression_covariate_missing_for_whole_arm_omit(
    call: Callable[..., Any], arm: str
) -> None:
    df, _ = x_missing_for_arm(arm)
    check_raises(
        InsufficientDataError,
        rf"\barm ['\"]{arm}['\"].* has 0 observations.*at least 2 are needed",
        call,
        df,
        ["x", "x2"],
        nan_policy="omit",
    )


@pytest.mark.parametrize("call", REG_ENTRIES)
@pytest.mark.parametrize("arm", ["c", "t"])
def test_regression_covariate_missing_for_whole_arm_raise(
    call: Callable[..., Any], arm: str
) -> None:
    # nan_policy='raise' reports the NaN rows (as every other entry point does), not a
    # consequence of having dropped them.
    df, rows = x_missing_for_arm(arm)
    check_raises(
        InputError,
        rf"{arm_regex('y', arm)} has {len(rows)} rows with NaN.*nan_policy='raise'",
        call,
        df,
        ["x", "x2"],
        nan_policy="raise",
    )


@pytest.mark.parametrize("call", REG_ENTRIES)
@pytest.mark.parametrize("arm", ["c", "t"])
def test_regression_covariate_missing_for_whole_arm_propagate(
    call: Callable[..., Any], arm: str
) -> None:
    # nan_policy='propagate' gives NaN results (DESIGN.md section 3, scipy's meaning), as
    # cuped does.
    df, _ = x_missing_for_arm(arm)
    res = first(call(df, ["x", "x2"], nan_policy="propagate"))
    for name in NAN_FIELDS:
        assert math.isnan(getattr(res, name)), name


@pytest.mark.parametrize("call", REG_ENTRIES)
def test_regression_propagate_does_not_fit_the_complete_rows(call: Callable[..., Any]) -> None:
    # x_pre varies only through a row whose outcome is NaN: on the complete rows it is constant.
    # Under 'propagate' the answer is NaN; the constant-after-dropping covariate must not raise.
    df = base_frame()
    df["x_pre"] = 1.0
    df.loc[[0], "x_pre"] = 2.0
    df.loc[[0], "y"] = np.nan
    res = first(call(df, ["x", "x_pre"], nan_policy="propagate"))
    for name in NAN_FIELDS:
        assert math.isnan(getattr(res, name)), name


@pytest.mark.parametrize("call", REG_ENTRIES)
@pytest.mark.parametrize("arm", ["c", "t"])
def test_regression_indicator_covariate_missing_for_whole_arm(
    call: Callable[..., Any], arm: str
) -> None:
    # Lin's model: in the arm where x is always missing, x (filled with 0) is constant, so that
    # arm's slope and hence its adjusted mean at the pooled mean are not identified; in the other
    # arm the indicator is constant (0). Documented outcome: ZeroVarianceError naming the covariate
    # and the arm (not a silent NaN, not a crash).
    df, _ = x_missing_for_arm(arm)
    check_raises_one_of(
        (ZeroVarianceError, InsufficientDataError),
        r"\bx\b.*\barm ['\"](c|t)['\"]",
        call,
        df,
        ["x", "x2"],
        missing_covariate="indicator",
    )


@pytest.mark.parametrize("call", REG_ENTRIES)
@pytest.mark.parametrize("arm", ["c", "t"])
def test_regression_indicator_covariate_missing_for_whole_arm_additive(
    call: Callable[..., Any], arm: str
) -> None:
    # Additive model: the indicator equals the arm dummy, so the effect is not identified; an
    # error naming the covariate x (its indicator "x is missing") is the documented outcome.
    df, _ = x_missing_for_arm(arm)
    check_raises_one_of(
        (ZeroVarianceError, InsufficientDataError),
        r"\bx\b.*(constant|collinear|missing)",
        call,
        df,
        ["x", "x2"],
        missing_covariate="indicator",
        interaction=False,
    )


@pytest.mark.parametrize("call", REG_ENTRIES)
@pytest.mark.parametrize("policy", ["propagate", "raise", "omit"])
def test_regression_infinite_covariate_always_raises(call: Callable[..., Any], policy: str) -> None:
    df = base_frame()
    df.loc[[3], "x2"] = -np.inf
    check_raises(
        InputError,
        r"covariate 'x2' has 1 infinite value",
        call,
        df,
        ["x", "x2"],
        nan_policy=policy,
    )


# --------------------------------------------------------------------------------------------
# Regression: too few rows, leverage one
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("call", REG_ENTRIES)
@INTERACTION
def test_regression_fewer_rows_than_parameters(call: Callable[..., Any], interaction: bool) -> None:
    # 3 rows per arm, 5 covariates: 12 (Lin) or 7 (additive) parameters for 6 rows.
    rng = np.random.default_rng(5)
    df = pd.DataFrame({"arm": ["c"] * 3 + ["t"] * 3, "y": rng.normal(size=6)})
    covs = [f"z{k}" for k in range(5)]
    for c in covs:
        df[c] = rng.normal(size=6)
    check_raises_one_of(
        (InsufficientDataError, ZeroVarianceError),
        r"(arm 'c' \(with 5 covariate columns\) has 3 observations; at least 7 are needed"
        r"|\b6 observations; at least \d+ are needed|\bz[0-4]\b.*\b(constant|collinear)\b)",
        call,
        df,
        covs,
        interaction=interaction,
    )


@pytest.mark.parametrize("call", REG_ENTRIES)
@pytest.mark.parametrize("cov_type", ["HC0", "HC1", "HC2"])
def test_regression_rows_equal_parameters(call: Callable[..., Any], cov_type: str) -> None:
    # 3 rows per arm, 2 covariates, Lin: 6 parameters for 6 rows, no residual degree of freedom.
    rng = np.random.default_rng(6)
    df = pd.DataFrame(
        {
            "arm": ["c"] * 3 + ["t"] * 3,
            "y": rng.normal(size=6),
            "z0": rng.normal(size=6),
            "z1": rng.normal(size=6),
        }
    )
    check_raises(
        InsufficientDataError,
        r"arm 'c' \(with 2 covariate columns\) has 3 observations; at least 4 are needed",
        call,
        df,
        ["z0", "z1"],
        cov_type=cov_type,
    )


@pytest.mark.parametrize("call", REG_ENTRIES)
@pytest.mark.parametrize("arm", ["c", "t"])
def test_regression_one_row_arm(call: Callable[..., Any], arm: str) -> None:
    df = base_frame()
    drop = list(range(1, N_C)) if arm == "c" else list(range(N_C + 1, N_C + N_T))
    df = df.drop(index=drop).reset_index(drop=True)
    check_raises(
        InsufficientDataError,
        rf"\barm ['\"]{arm}['\"].* has 1 observation; at least 2 are needed",
        call,
        df,
        ["x"],
    )


def _singleton_frame() -> pd.DataFrame:
    """Level 'z' of g has exactly one unit in each arm."""
    df = base_frame(n_c=20, n_t=22)
    df["g"] = df["g"].astype(object)
    df.loc[[3, 25], "g"] = "z"
    return df


@pytest.mark.parametrize("call", REG_ENTRIES)
def test_regression_singleton_category_hc2(call: Callable[..., Any]) -> None:
    check_raises(
        InputError,
        r"cov_type: a unit has leverage 1 .*HC2 is undefined.*cov_type='HC1'",
        call,
        _singleton_frame(),
        ["x"],
        "g",
        cov_type="HC2",
    )


@pytest.mark.parametrize("call", REG_ENTRIES)
@pytest.mark.parametrize("cov_type", ["HC1", "HC0"])
def test_regression_singleton_category_hc1_works(call: Callable[..., Any], cov_type: str) -> None:
    res = first(call(_singleton_frame(), ["x"], "g", cov_type=cov_type))
    for name in ("effect", "se", "ci_low", "ci_high", "statistic", "pvalue"):
        assert math.isfinite(getattr(res, name)), name
    assert res.se > 0


def test_strata_singleton_category_hc2() -> None:
    exp = neyman.Experiment(_singleton_frame(), variant="arm", control="c")
    check_raises(InputError, r"cov_type: .*leverage 1", exp.analyze, neyman.Mean("y", strata="g"))
    res = exp.analyze(neyman.Mean("y", strata="g", cov_type="HC1"))[0]
    assert math.isfinite(res.se)
    assert res.se > 0


# --------------------------------------------------------------------------------------------
# Regression: argument types and values
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "cls", "match"),
    [
        (
            {"covariates": 123},
            InputTypeError,
            r"^covariates must be a column name or a list of column names",
        ),
        (
            {"covariates": [123]},
            InputTypeError,
            r"^covariates must be a column name or a list of column names",
        ),
        (
            {"covariates": "x", "categorical": [1.5]},
            InputTypeError,
            r"^categorical must be a column name or a list of column names",
        ),
        (
            {"covariates": "x", "categorical": 1.5},
            InputTypeError,
            r"^categorical must be a column name or a list of column names",
        ),
        (
            {"covariates": "x", "cov_type": "HC3"},
            InputError,
            r"^cov_type == 'HC3', must be one of 'HC0', 'HC1', 'HC2'",
        ),
        (
            {"covariates": "x", "missing_covariate": "drop"},
            InputError,
            r"^missing_covariate == 'drop', must be one of 'nan_policy', 'indicator'",
        ),
        (
            {"covariates": "x", "interaction": "yes"},
            InputTypeError,
            r"^interaction must be True or False",
        ),
        ({"covariates": "x", "interaction": 1}, InputTypeError, r"^interaction must be True"),
        ({}, InputError, r"give at least one covariate or categorical column"),
        (
            {"covariates": "nope"},
            InputError,
            r"^covariates == 'nope' is not a column of the data",
        ),
        (
            {"covariates": "x", "categorical": "nope"},
            InputError,
            r"categorical column 'nope' is not a column of the data",
        ),
        ({"covariates": "g"}, InputTypeError, r"^column 'g' has dtype String; numeric values"),
        (
            {"covariates": "x", "categorical": "arm"},
            ZeroVarianceError,
            r"\barm\b.*\b(constant|collinear)\b",
        ),
        (
            {"covariates": "x", "categorical": "const"},
            InputError,
            r"categorical column 'const' has 1 level; at least 2 are needed",
        ),
    ],
    ids=[
        "covariates-int",
        "covariates-list-of-int",
        "categorical-list-of-float",
        "categorical-float",
        "cov_type-HC3",
        "missing_covariate-drop",
        "interaction-str",
        "interaction-int",
        "no-covariates",
        "unknown-covariate",
        "unknown-categorical",
        "string-covariate",
        "categorical-is-arm",
        "categorical-one-level",
    ],
)
def test_regression_adjust_arguments(
    kwargs: dict[str, Any], cls: type[Exception], match: str
) -> None:
    check_raises(
        cls,
        match,
        neyman.regression_adjust,
        base_frame(),
        metric="y",
        variant="arm",
        control="c",
        **kwargs,
    )


@pytest.mark.parametrize(
    ("metric", "cls", "match"),
    [
        (
            lambda: neyman.Mean("y", covariate=123),
            InputTypeError,
            r"^covariate must be a column name",
        ),
        (
            lambda: neyman.Mean("y", covariate=[123]),
            InputTypeError,
            r"^covariate must be a column name or a list of column names",
        ),
        (
            lambda: neyman.Mean("y", covariate="x", categorical=[1.5]),
            InputTypeError,
            r"^categorical must be a column name or a list of column names",
        ),
        (
            lambda: neyman.Mean("y", strata=1.5),
            InputTypeError,
            r"^strata must be a column name",
        ),
        (
            lambda: neyman.Mean("y", covariate=["x"], cov_type="HC3"),
            InputError,
            r"^cov_type == 'HC3', must be one of 'HC0', 'HC1', 'HC2'",
        ),
        (
            lambda: neyman.Mean("y", covariate="x", missing_covariate="drop"),
            InputError,
            r"^missing_covariate == 'drop', must be one of 'nan_policy', 'indicator'",
        ),
        (
            lambda: neyman.Mean("y", covariate=["x"], interaction="yes"),
            InputTypeError,
            r"^interaction must be True or False",
        ),
        # A single covariate is CUPED, where cov_type and interaction do not apply; an invalid
        # value must still be rejected, not silently ignored (a typo would go unnoticed).
        (
            lambda: neyman.Mean("y", covariate="x", cov_type="HC3"),
            InputError,
            r"^cov_type == 'HC3', must be one of 'HC0', 'HC1', 'HC2'",
        ),
        (
            lambda: neyman.Mean("y", covariate="x", interaction="yes"),
            InputTypeError,
            r"^interaction must be True or False",
        ),
    ],
    ids=[
        "covariate-int",
        "covariate-list-of-int",
        "categorical-list-of-float",
        "strata-float",
        "cov_type-HC3",
        "missing_covariate-drop",
        "interaction-str",
        "cuped-cov_type-HC3",
        "cuped-interaction-str",
    ],
)
def test_experiment_regression_metric_arguments(
    metric: Callable[[], Any], cls: type[Exception], match: str
) -> None:
    check_raises(cls, match, lambda: _analyze(metric()))


# --------------------------------------------------------------------------------------------
# RegressionStats (pre-aggregated regression adjustment)
# --------------------------------------------------------------------------------------------


def _rstats(n: int = 10, **over: Any) -> neyman.RegressionStats:
    kw: dict[str, Any] = {
        "n": n,
        "sum_y": 10.0,
        "sum_y_sq": 40.0,
        "sum_x": [5.0],
        "sum_xy": [8.0],
        "sum_xx": [[9.0]],
        "covariates": ["x"],
    }
    kw.update(over)
    return neyman.RegressionStats(**kw)


def test_regression_stats_bad_fields() -> None:
    check_raises(InputError, r"^n == -1, must be non-negative", _rstats, -1)
    check_raises(InputError, r"^sum_x has 2 values for 1 covariate$", _rstats, sum_x=[1.0, 2.0])
    check_raises(InputError, r"^sum_xx must be a 1 x 1 matrix", _rstats, sum_xx=[[1.0, 2.0]])
    check_raises(InputError, r"^sum_xy == inf, must be finite", _rstats, sum_xy=[math.inf])
    check_raises(InputError, r"^covariates: at least one", _rstats, sum_x=[], covariates=[])
    check_raises(InputTypeError, r"^covariates must be", _rstats, covariates=[1])


def test_regression_stats_mapping_errors() -> None:
    good = _rstats()
    check_raises(
        InputError,
        r"^control == 'z' is not one of the arms",
        neyman.regression_adjust,
        {"c": good, "t": good},
        control="z",
    )
    check_raises(
        InputTypeError,
        r"must map arm labels to RegressionStats",
        neyman.regression_adjust,
        {"c": good, "t": 3},
        control="c",
    )
    other = _rstats(covariates=["w"])
    check_raises(
        InputError,
        r"same covariates",
        neyman.regression_adjust,
        {"c": good, "t": other},
        control="c",
    )
    check_raises(
        InputError,
        r"pass only control=",
        neyman.regression_adjust,
        {"c": good, "t": good},
        control="c",
        metric="y",
    )


def test_regression_stats_inconsistent_and_degenerate() -> None:
    # Too few units for the covariates.
    small = _rstats(n=2)
    check_raises(
        InsufficientDataError,
        r"arm 'c' \(with 1 covariates\) has 2 observations",
        neyman.regression_adjust,
        {"c": small, "t": _rstats()},
        control="c",
    )
    # A covariate constant within an arm: sum_xx = sum_x^2 / n.
    const = _rstats(sum_x=[10.0], sum_xx=[[10.0]])
    check_raises(
        ZeroVarianceError,
        r"covariate x is constant or collinear .* in arm 'c'",
        neyman.regression_adjust,
        {"c": const, "t": _rstats()},
        control="c",
    )
    # Sums no data could produce.
    bad = _rstats(sum_y_sq=1.0)
    check_raises(
        InputError,
        r"sum of y\^2 is less than sum\^2 / n",
        neyman.regression_adjust,
        {"c": bad, "t": _rstats()},
        control="c",
    )


def test_ratio_cuped_stats_bad_sums() -> None:
    ok = np.eye(4) * 10.0 + 1.0
    check_raises(
        InputError, r"sums needs 4 values", neyman.RatioCupedStats.from_sums, 5, [1.0] * 3, ok
    )
    bad = ok.copy()
    bad[0, 0] = 0.0  # sum of squares below sum^2 / n
    check_raises(
        InputError,
        r"^numerator: its sum of squares is less than sum\^2 / n",
        neyman.RatioCupedStats.from_sums,
        5,
        [4.0, 1.0, 1.0, 1.0],
        bad,
    )
    s = neyman.RatioCupedStats.from_sums(5, [1.0] * 4, ok)
    check_raises(
        InputTypeError, r"is a RatioCupedStats; this test needs CupedStats", neyman.cuped, s, s
    )
