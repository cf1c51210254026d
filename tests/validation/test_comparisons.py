"""Bad input: each case of DESIGN.md section 6 raises the documented exception and message.

What is checked, one case at a time and for every public entry point where the case applies
(``ttest``, ``ztest``, ``proportions``, ``ratio`` on arrays, on a mapping of arms and on frames,
``Experiment``/``analyze``, ``srm``, ``MeanStats``/``ProportionStats``/``RatioStats``,
``set_num_threads``):

- the exception is exactly the documented class of ``neyman.errors`` (``type(exc) is cls``), is a
  ``neyman.NeymanError``, and is also a ``ValueError`` (input errors) or a ``TypeError`` (type
  errors), so ordinary ``except`` clauses work;
- the message names the argument (or the arm: ``control``, ``treatment 'b'``, ``arm 't' of metric
  'y'``) and the problem (``pytest.raises(..., match=...)``).

Independent references: the contract in DESIGN.md section 6 and the class hierarchy in
``neyman/errors.py``. The ``nan_policy='omit'`` checks compare with the same call on the data
with NaN removed by numpy beforehand, at ``rtol = 1e-12``: both calls see the same values in the
same order, so they may differ only in the grouping of floating-point merges inside the kernel
(a few ulp on these small, well-conditioned samples); 1e-12 leaves four orders of magnitude of
margin while still catching any row that is kept or dropped wrongly. The one-constant-arm case
is compared with a hand computation (Welch reduces to a one-sample t on the varying arm) at
``rtol = 1e-12`` for the moments and ``1e-10`` for the p-value (scipy's t distribution; two
float64 implementations of the same closed form agree to about 1e-14 on a p-value of this size).
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
import pyarrow as pa
import pytest
import scipy.stats
from neyman import (
    InputError,
    InputTypeError,
    InsufficientDataError,
    LengthMismatchError,
    NeymanError,
    ZeroVarianceError,
)

from tests.conftest import NAN_FIELDS, assert_close_results, check_raises, first

# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


# --------------------------------------------------------------------------------------------
# Entry points: each maps (control values, treatment values, options) to a call of neyman
# --------------------------------------------------------------------------------------------

MEAN_C = [1.0, 2.0, 4.0, 7.0, 3.0]
MEAN_T = [2.0, 3.0, 5.0, 9.0, 11.0, 6.0]
PROP_C = [0.0, 1.0, 0.0, 1.0, 1.0, 0.0]
PROP_T = [1.0, 1.0, 0.0, 1.0, 0.0, 1.0, 1.0]


def _frame(c: list[float], t: list[float]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "arm": ["c"] * len(c) + ["t"] * len(t),
            "y": np.asarray(list(c) + list(t), dtype=np.float64),
            "d": np.ones(len(c) + len(t)),
        }
    )


def _arm_name(metric: str, arm: str) -> str:
    return re.escape(f"arm '{arm}' of metric '{metric}'")


@dataclass(frozen=True)
class Entry:
    name: str
    kind: str  # "mean", "proportion" or "ratio"
    call: Callable[..., Any]
    control: str  # regex naming the control arm in messages
    treatment: str  # regex naming the treatment arm in messages
    frame: bool

    def __repr__(self) -> str:
        return self.name


def _ones(x: list[float]) -> np.ndarray:
    return np.ones(len(x))


ENTRIES = [
    Entry(
        "ttest",
        "mean",
        lambda c, t, **kw: neyman.ttest(np.asarray(c), np.asarray(t), **kw),
        r"\bcontrol",
        r"\btreatment",
        False,
    ),
    Entry(
        "ttest-student",
        "mean",
        lambda c, t, **kw: neyman.ttest(c, t, equal_var=True, **kw),
        r"\bcontrol",
        r"\btreatment",
        False,
    ),
    Entry(
        "ztest",
        "mean",
        lambda c, t, **kw: neyman.ztest(np.asarray(c), np.asarray(t), **kw),
        r"\bcontrol",
        r"\btreatment",
        False,
    ),
    Entry(
        "ttest-mapping",
        "mean",
        lambda c, t, **kw: neyman.ttest(np.asarray(c), {"b": np.asarray(t)}, **kw),
        r"\bcontrol",
        r"treatment 'b'",
        False,
    ),
    Entry(
        "proportions",
        "proportion",
        lambda c, t, **kw: neyman.proportions(np.asarray(c), np.asarray(t), **kw),
        r"\bcontrol",
        r"\btreatment",
        False,
    ),
    Entry(
        "proportions-wald",
        "proportion",
        lambda c, t, **kw: neyman.proportions(c, t, ci_method="wald", **kw),
        r"\bcontrol",
        r"\btreatment",
        False,
    ),
    Entry(
        "ratio",
        "ratio",
        lambda c, t, **kw: neyman.ratio(np.asarray(c), _ones(c), np.asarray(t), _ones(t), **kw),
        r"\bcontrol",
        r"\btreatment",
        False,
    ),
    Entry(
        "ratio-mapping",
        "ratio",
        lambda c, t, **kw: neyman.ratio(
            np.asarray(c), _ones(c), {"b": np.asarray(t)}, {"b": _ones(t)}, **kw
        ),
        r"\bcontrol",
        r"treatment 'b'",
        False,
    ),
    Entry(
        "ttest-frame",
        "mean",
        lambda c, t, **kw: neyman.ttest(_frame(c, t), metric="y", variant="arm", control="c", **kw),
        _arm_name("y", "c"),
        _arm_name("y", "t"),
        True,
    ),
    Entry(
        "ztest-frame-polars",
        "mean",
        lambda c, t, **kw: neyman.ztest(
            pl.from_pandas(_frame(c, t)), metric="y", variant="arm", control="c", **kw
        ),
        _arm_name("y", "c"),
        _arm_name("y", "t"),
        True,
    ),
    Entry(
        "proportions-frame",
        "proportion",
        lambda c, t, **kw: neyman.proportions(
            _frame(c, t), metric="y", variant="arm", control="c", **kw
        ),
        _arm_name("y", "c"),
        _arm_name("y", "t"),
        True,
    ),
    Entry(
        "ratio-frame",
        "ratio",
        lambda c, t, **kw: neyman.ratio(
            _frame(c, t), numerator="y", denominator="d", variant="arm", control="c", **kw
        ),
        _arm_name("y/d", "c"),
        _arm_name("y/d", "t"),
        True,
    ),
    Entry(
        "experiment-mean",
        "mean",
        lambda c, t, **kw: neyman.Experiment(_frame(c, t), variant="arm", control="c").analyze(
            neyman.Mean("y"), **kw
        ),
        _arm_name("y", "c"),
        _arm_name("y", "t"),
        True,
    ),
    Entry(
        "experiment-proportion",
        "proportion",
        lambda c, t, **kw: neyman.Experiment(_frame(c, t), variant="arm", control="c").analyze(
            neyman.Proportion("y"), **kw
        ),
        _arm_name("y", "c"),
        _arm_name("y", "t"),
        True,
    ),
    Entry(
        "experiment-ratio-arrow",
        "ratio",
        lambda c, t, **kw: neyman.Experiment(
            pa.Table.from_pandas(_frame(c, t)), variant="arm", control="c"
        ).analyze(neyman.Ratio("y", "d"), **kw),
        _arm_name("y/d", "c"),
        _arm_name("y/d", "t"),
        True,
    ),
]
ARRAY_ENTRIES = [e for e in ENTRIES if not e.frame]
MEAN_OR_RATIO = [e for e in ENTRIES if e.kind in ("mean", "ratio")]
PROPORTION_ENTRIES = [e for e in ENTRIES if e.kind == "proportion"]
RATIO_ENTRIES = [e for e in ENTRIES if e.kind == "ratio"]
ENTRY_IDS = {"ids": repr}


def good_data(entry: Entry) -> tuple[list[float], list[float]]:
    if entry.kind == "proportion":
        return list(PROP_C), list(PROP_T)
    return list(MEAN_C), list(MEAN_T)


def with_nan(values: list[float], k: int) -> list[float]:
    """``values`` with NaN inserted at ``k`` positions (first, last, middle ...)."""
    out = list(values)
    for i in range(k):
        out.insert((i * 3) % (len(out) + 1), math.nan)
    return out


def arm_regex(entry: Entry, arm: str) -> str:
    return entry.control if arm == "control" else entry.treatment


def pair(entry: Entry, arm: str, bad: list[float]) -> tuple[list[float], list[float]]:
    """Good data with the ``arm`` replaced by ``bad``."""
    c, t = good_data(entry)
    return (bad, t) if arm == "control" else (c, bad)


# --------------------------------------------------------------------------------------------
# The exception hierarchy
# --------------------------------------------------------------------------------------------


def test_hierarchy() -> None:
    assert issubclass(InputError, NeymanError)
    assert issubclass(InputError, ValueError)
    assert issubclass(InputTypeError, NeymanError)
    assert issubclass(InputTypeError, TypeError)
    for cls in (InsufficientDataError, ZeroVarianceError, LengthMismatchError):
        assert issubclass(cls, InputError)
        assert issubclass(cls, ValueError)
        assert issubclass(cls, NeymanError)
    assert neyman.errors.NeymanError is NeymanError


# --------------------------------------------------------------------------------------------
# NaN under each nan_policy, and inf
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("entry", ENTRIES, **ENTRY_IDS)
@pytest.mark.parametrize(("arm", "k"), [("control", 2), ("treatment", 3)])
def test_nan_raise_names_arm_and_count(entry: Entry, arm: str, k: int) -> None:
    c, t = good_data(entry)
    bad = with_nan(c if arm == "control" else t, k)
    args = pair(entry, arm, bad)
    exc = check_raises(
        InputError,
        rf"{arm_regex(entry, arm)} has {k} NaN values",
        entry.call,
        *args,
        nan_policy="raise",
    )
    assert "nan_policy" in str(exc)


@pytest.mark.parametrize("entry", ENTRIES, **ENTRY_IDS)
@pytest.mark.parametrize("arm", ["control", "treatment"])
def test_nan_propagate_gives_nan(entry: Entry, arm: str) -> None:
    c, t = good_data(entry)
    args = pair(entry, arm, with_nan(c if arm == "control" else t, 1))
    for kwargs in ({}, {"nan_policy": "propagate"}):
        res = first(entry.call(*args, **kwargs))
        for name in NAN_FIELDS:
            assert math.isnan(getattr(res, name)), name


@pytest.mark.parametrize("entry", ENTRIES, **ENTRY_IDS)
def test_nan_omit_equals_dropping_first(entry: Entry) -> None:
    c, t = good_data(entry)
    c_nan, t_nan = with_nan(c, 2), with_nan(t, 3)
    omitted = first(entry.call(c_nan, t_nan, nan_policy="omit"))
    reference = first(
        entry.call(
            [v for v in c_nan if not np.isnan(v)],
            [v for v in t_nan if not np.isnan(v)],
        )
    )
    assert_close_results(omitted, reference, rtol=1e-12)
    assert omitted.n_control == len(c)
    assert omitted.n_treatment == len(t)


@pytest.mark.parametrize("entry", ENTRIES, **ENTRY_IDS)
@pytest.mark.parametrize("arm", ["control", "treatment"])
@pytest.mark.parametrize("policy", ["propagate", "raise", "omit"])
@pytest.mark.parametrize("value", [math.inf, -math.inf])
def test_inf_always_raises(entry: Entry, arm: str, policy: str, value: float) -> None:
    c, t = good_data(entry)
    bad = [*(c if arm == "control" else t), value]
    check_raises(
        InputError,
        rf"{arm_regex(entry, arm)} has 1 infinite value",
        entry.call,
        *pair(entry, arm, bad),
        nan_policy=policy,
    )


# --------------------------------------------------------------------------------------------
# Too few observations
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("entry", ARRAY_ENTRIES, **ENTRY_IDS)
@pytest.mark.parametrize("arm", ["control", "treatment"])
def test_empty_arm(entry: Entry, arm: str) -> None:
    check_raises(
        InsufficientDataError,
        rf"{arm_regex(entry, arm)} has 0 observations; at least 2 are needed",
        entry.call,
        *pair(entry, arm, []),
    )


@pytest.mark.parametrize("entry", ENTRIES, **ENTRY_IDS)
@pytest.mark.parametrize("arm", ["control", "treatment"])
def test_one_row_arm(entry: Entry, arm: str) -> None:
    c, t = good_data(entry)
    one = [(c if arm == "control" else t)[1]]
    check_raises(
        InsufficientDataError,
        rf"{arm_regex(entry, arm)} has 1 observation; at least 2 are needed",
        entry.call,
        *pair(entry, arm, one),
    )


@pytest.mark.parametrize("entry", ENTRIES, **ENTRY_IDS)
@pytest.mark.parametrize("arm", ["control", "treatment"])
@pytest.mark.parametrize("left", [0, 1])
def test_arm_empty_after_omitting_nan(entry: Entry, arm: str, left: int) -> None:
    c, t = good_data(entry)
    values = [math.nan, math.nan, *(c if arm == "control" else t)[:left], math.nan]
    word = "observation" if left == 1 else "observations"
    check_raises(
        InsufficientDataError,
        rf"{arm_regex(entry, arm)} has {left} {word} after omitting NaN; at least 2 are needed",
        entry.call,
        *pair(entry, arm, values),
        nan_policy="omit",
    )


# --------------------------------------------------------------------------------------------
# Zero variance
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("entry", MEAN_OR_RATIO, **ENTRY_IDS)
def test_both_arms_constant(entry: Entry) -> None:
    check_raises(
        ZeroVarianceError,
        r"control, treatment: .*constant",
        entry.call,
        [3.0, 3.0, 3.0],
        [5.0, 5.0, 5.0, 5.0],
    )


@pytest.mark.parametrize("entry", MEAN_OR_RATIO, **ENTRY_IDS)
@pytest.mark.parametrize("arm", ["control", "treatment"])
def test_one_constant_arm_is_fine(entry: Entry, arm: str) -> None:
    res = first(entry.call(*pair(entry, arm, [3.0, 3.0, 3.0, 3.0])))
    for name in ("effect", "se", "ci_low", "ci_high", "statistic", "pvalue"):
        assert math.isfinite(getattr(res, name)), name
    assert res.se > 0


@pytest.mark.parametrize("arm", ["control", "treatment"])
def test_one_constant_arm_matches_hand_welch(arm: str) -> None:
    # With one arm constant, Welch reduces to a one-sample t on the other arm:
    # se^2 = s^2 / n and df = n - 1 for the varying arm (hand computation, scipy's t cdf).
    const = [3.0, 3.0, 3.0, 3.0]
    c, t = (const, MEAN_T) if arm == "control" else (MEAN_C, const)
    varying = np.asarray(MEAN_T if arm == "control" else MEAN_C)
    n = varying.size
    se = math.sqrt(float(np.var(varying, ddof=1)) / n)
    effect = float(np.mean(t)) - float(np.mean(c))
    stat = effect / se
    res = neyman.ttest(c, t)
    assert math.isclose(res.effect, effect, rel_tol=1e-12)
    assert math.isclose(res.se, se, rel_tol=1e-12)
    assert math.isclose(res.statistic, stat, rel_tol=1e-12)
    assert math.isclose(res.df, n - 1, rel_tol=1e-12)
    assert math.isclose(res.pvalue, 2 * float(scipy.stats.t.sf(abs(stat), n - 1)), rel_tol=1e-10)


@pytest.mark.parametrize("entry", PROPORTION_ENTRIES, **ENTRY_IDS)
@pytest.mark.parametrize("value", [0.0, 1.0])
def test_proportions_all_same_outcome(entry: Entry, value: float) -> None:
    check_raises(
        ZeroVarianceError,
        rf"control, treatment: every observation in both arms is {int(value)}",
        entry.call,
        [value] * 5,
        [value] * 7,
    )


@pytest.mark.parametrize("value", [0, 1])
def test_proportion_stats_all_same_outcome(value: int) -> None:
    check_raises(
        ZeroVarianceError,
        rf"every observation in both arms is {value}",
        neyman.proportions,
        neyman.ProportionStats(5 * value, 5),
        neyman.ProportionStats(9 * value, 9),
    )


# --------------------------------------------------------------------------------------------
# Proportions: values other than 0 and 1
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("entry", PROPORTION_ENTRIES, **ENTRY_IDS)
@pytest.mark.parametrize("arm", ["control", "treatment"])
@pytest.mark.parametrize("value", [2.0, 0.5, -1.0])
@pytest.mark.parametrize("policy", ["propagate", "omit"])
def test_proportions_values_not_binary(entry: Entry, arm: str, value: float, policy: str) -> None:
    c, t = good_data(entry)
    bad = [*(c if arm == "control" else t), value]
    check_raises(
        InputError,
        rf"{arm_regex(entry, arm)} has 1 values? that (is|are) neither 0 nor 1",
        entry.call,
        *pair(entry, arm, bad),
        nan_policy=policy,
    )


@pytest.mark.parametrize(
    ("successes", "trials", "cls", "match"),
    [
        (5, 3, InputError, r"^successes == 5 .*trials == 3"),
        (-1, 3, InputError, r"^successes == -1, must be non-negative"),
        (1.5, 3, InputTypeError, r"^successes must be an integer count, got float"),
        (math.nan, 3, InputTypeError, r"^successes must be an integer count, got float"),
        ("a", 3, InputTypeError, r"^successes must be an integer count, got str"),
        (1, -3, InputError, r"^trials == -3, must be non-negative"),
        # Whole floats are counts (what pandas sums return); fractions are not.
        (1, 3.5, InputTypeError, r"^trials must be an integer count, got float"),
    ],
    ids=["exceeds-trials", "negative", "fraction", "nan", "str", "negative-trials", "float-trials"],
)
@pytest.mark.parametrize("arm", ["control", "treatment"])
def test_proportion_stats_bad_counts(
    successes: Any, trials: Any, cls: type[Exception], match: str, arm: str
) -> None:
    # Rejected when the stats are built or when they are used; either way, before any result.
    def build_and_use() -> Any:
        bad = neyman.ProportionStats(successes, trials)
        good = neyman.ProportionStats(2, 6)
        return neyman.proportions(*((bad, good) if arm == "control" else (good, bad)))

    check_raises(cls, match, build_and_use)


@pytest.mark.parametrize("arm", ["control", "treatment"])
def test_proportion_stats_one_trial(arm: str) -> None:
    one, good = neyman.ProportionStats(0, 1), neyman.ProportionStats(2, 6)
    args = (one, good) if arm == "control" else (good, one)
    check_raises(
        InsufficientDataError, rf"{arm} has 1 observation; at least 2", neyman.proportions, *args
    )


# --------------------------------------------------------------------------------------------
# Ratio metrics: lengths and denominators
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("arm", ["control", "treatment"])
def test_ratio_length_mismatch(arm: str) -> None:
    num, den_short = [1.0, 2.0, 3.0], [1.0, 2.0]
    args = (
        (num, den_short, num, [1.0, 2.0, 3.0])
        if arm == "control"
        else (num, [1.0, 2.0, 3.0], num, den_short)
    )
    check_raises(
        LengthMismatchError,
        rf"{arm} numerator has length 3 but {arm} denominator has length 2; they must match",
        neyman.ratio,
        *args,
    )


def test_ratio_length_mismatch_in_mapping() -> None:
    check_raises(
        LengthMismatchError,
        r"treatment 'b' numerator has length 4 but treatment 'b' denominator has length 3",
        neyman.ratio,
        [1.0, 2.0, 3.0],
        [1.0, 1.0, 2.0],
        {"b": [1.0, 2.0, 3.0, 4.0]},
        {"b": [1.0, 1.0, 2.0]},
    )


@pytest.mark.parametrize("arm", ["control", "treatment"])
@pytest.mark.parametrize("policy", ["propagate", "raise", "omit"])
def test_ratio_negative_denominator_arrays(arm: str, policy: str) -> None:
    num, den, neg = [1.0, 2.0, 3.0], [1.0, 2.0, 3.0], [1.0, -2.0, 3.0]
    args = (num, neg, num, den) if arm == "control" else (num, den, num, neg)
    check_raises(
        InputError, rf"{arm} denominator .*negative", neyman.ratio, *args, nan_policy=policy
    )


def _ratio_frame(den: list[float]) -> pd.DataFrame:
    return pd.DataFrame({"arm": ["c", "t"] * 3, "num": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0], "den": den})


@pytest.mark.parametrize("den", [[1.0, -2.0, 3.0, 4.0, 5.0, 6.0], [-1.0, 2.0, 3.0, 4, 5, 6]])
def test_ratio_negative_denominator_frame(den: list[float]) -> None:
    df = _ratio_frame(den)
    check_raises(
        InputError,
        r"\bden\b.*negative",
        neyman.ratio,
        df,
        numerator="num",
        denominator="den",
        variant="arm",
        control="c",
    )


@pytest.mark.parametrize("den", [[1.0, -2.0, 3.0, 4.0, 5.0, 6.0], [-1.0, 2.0, 3.0, 4, 5, 6]])
def test_ratio_negative_denominator_experiment(den: list[float]) -> None:
    exp = neyman.Experiment(_ratio_frame(den), variant="arm", control="c")
    check_raises(
        InputError,
        r"\bden\b.*negative",
        exp.analyze,
        neyman.Ratio("num", "den"),
    )


@pytest.mark.parametrize("entry", RATIO_ENTRIES, **ENTRY_IDS)
@pytest.mark.parametrize("arm", ["control", "treatment"])
def test_ratio_zero_mean_denominator(entry: Entry, arm: str) -> None:
    # Zero denominators everywhere in one arm: the arm's ratio is undefined.
    num = [1.0, 2.0, 3.0]
    if entry.frame:
        den_c, den_t = ([0.0] * 3, [1.0] * 3) if arm == "control" else ([1.0] * 3, [0.0] * 3)
        df = pd.DataFrame({"arm": ["c"] * 3 + ["t"] * 3, "y": num + num, "d": den_c + den_t})
        if entry.name.startswith("experiment"):
            exp = neyman.Experiment(df, variant="arm", control="c")
            func: Callable[[], Any] = lambda: exp.analyze(neyman.Ratio("y", "d"))  # noqa: E731
        else:
            func = lambda: neyman.ratio(  # noqa: E731
                df, numerator="y", denominator="d", variant="arm", control="c"
            )
        # The arm of the data is named: 'c' for the control, 't' for the treatment (issue #8).
        label = "c" if arm == "control" else "t"
        check_raises(
            InputError, rf"^arm '{label}' of metric 'y/d': the mean denominator is 0", func
        )
        return
    zero, one = [0.0] * 3, [1.0] * 3
    args = (num, zero, num, one) if arm == "control" else (num, one, num, zero)
    check_raises(InputError, rf"{arm}: the mean denominator is 0", neyman.ratio, *args)


@pytest.mark.parametrize("mean_den", [0.0, -1.5])
@pytest.mark.parametrize("arm", ["control", "treatment"])
def test_ratio_stats_non_positive_mean_denominator_from_rust(mean_den: float, arm: str) -> None:
    # This check lives in the Rust core; the error must arrive as neyman.InputError, not a crash.
    bad = neyman.RatioStats(10, 1.0, mean_den, 2.0, 1.0, 0.5)
    good = neyman.RatioStats(10, 1.0, 2.0, 2.0, 1.0, 0.5)
    args = (bad, good) if arm == "control" else (good, bad)
    check_raises(
        InputError,
        rf"{arm}: the mean denominator is {mean_den:g}; a ratio metric needs a positive",
        neyman.ratio,
        *args,
    )


def test_rust_zero_variance_maps_to_class() -> None:
    # Both arms' per-unit ratios constant: detected in Rust, mapped to ZeroVarianceError.
    check_raises(
        ZeroVarianceError,
        r"control, treatment: .*constant",
        neyman.ratio,
        neyman.RatioStats(5, 1.0, 2.0, 0.0, 0.0, 0.0),
        neyman.RatioStats(5, 3.0, 2.0, 0.0, 0.0, 0.0),
    )
    check_raises(
        ZeroVarianceError,
        r"control, treatment: both arms are constant",
        neyman.ttest,
        neyman.MeanStats(5, 1.0, 0.0),
        neyman.MeanStats(5, 2.0, 0.0),
    )


def test_ratio_stats_with_array_treatment() -> None:
    check_raises(
        InputTypeError,
        r"treatment",
        neyman.ratio,
        neyman.RatioStats(10, 1.0, 2.0, 2.0, 1.0, 0.5),
        [1.0, 2.0, 3.0],
    )


# --------------------------------------------------------------------------------------------
# Wrong dtypes
# --------------------------------------------------------------------------------------------

NON_NUMERIC = [
    pytest.param(np.array([1.0, 2.0, 3.0], dtype=object), r"object dtype", id="object-array"),
    pytest.param(np.array(["1", "2", "3"]), r"string dtype", id="str-array"),
    pytest.param(np.array([b"1", b"2", b"3"]), r"bytes dtype", id="bytes-array"),
    pytest.param(["a", "b", "c"], r"string dtype", id="str-list"),
    pytest.param([1.0, None, 3.0], r"object dtype", id="list-with-None"),
    pytest.param(
        np.array(["2024-01-01", "2024-01-02", "2024-01-03"], dtype="datetime64[D]"),
        r"datetime dtype",
        id="datetime64",
    ),
    pytest.param(np.array([1, 2, 3], dtype="timedelta64[s]"), r"timedelta dtype", id="timedelta"),
    pytest.param(np.array([1 + 1j, 2, 3]), r"non-numeric dtype", id="complex"),
    pytest.param(pd.Series(["a", "b", "c"]), r"dtype String", id="pandas-str"),
    pytest.param(
        pd.Series(pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03"])),
        r"dtype Datetime",
        id="pandas-datetime",
    ),
    pytest.param(pl.Series(["a", "b", "c"]), r"dtype String", id="polars-str"),
    pytest.param(pa.chunked_array([["a", "b", "c"]]), r"dtype String", id="arrow-str"),
]
BOOLEANS = [
    pytest.param(np.array([True, False, True]), id="numpy-bool"),
    pytest.param([True, False, True], id="list-bool"),
    pytest.param(pd.Series([True, False, True]), id="pandas-bool"),
    pytest.param(pl.Series([True, False, True]), id="polars-bool"),
]

ARRAY_FUNCS = {
    "ttest": lambda c, t: neyman.ttest(c, t),
    "ztest": lambda c, t: neyman.ztest(c, t),
    "proportions": lambda c, t: neyman.proportions(c, t),
    "ratio-num": lambda c, t: neyman.ratio(c, [1.0, 1.0, 1.0], t, [1.0, 1.0, 1.0]),
}
ARRAY_FUNCS_NAMES = {
    "ttest": ("control", "treatment"),
    "ztest": ("control", "treatment"),
    "proportions": ("control", "treatment"),
    "ratio-num": ("control numerator", "treatment numerator"),
}


@pytest.mark.parametrize(("bad", "what"), NON_NUMERIC)
@pytest.mark.parametrize("func", sorted(ARRAY_FUNCS))
@pytest.mark.parametrize("arm", [0, 1])
def test_non_numeric_dtype(bad: Any, what: str, func: str, arm: int) -> None:
    good = [0.0, 1.0, 1.0]
    args = (bad, good) if arm == 0 else (good, bad)
    name = ARRAY_FUNCS_NAMES[func][arm]
    check_raises(
        InputTypeError, rf"^{name} has {what}.*numeric values are needed", ARRAY_FUNCS[func], *args
    )


def test_non_numeric_denominator() -> None:
    check_raises(
        InputTypeError,
        r"^treatment denominator has string dtype",
        neyman.ratio,
        [1.0, 2.0],
        [1.0, 2.0],
        [1.0, 2.0],
        ["a", "b"],
    )


@pytest.mark.parametrize("bad", BOOLEANS)
@pytest.mark.parametrize("func", ["ttest", "ztest", "ratio-num"])
@pytest.mark.parametrize("arm", [0, 1])
def test_bool_where_numbers_are_meant(bad: Any, func: str, arm: int) -> None:
    good = [0.0, 1.0, 3.0]
    args = (bad, good) if arm == 0 else (good, bad)
    name = ARRAY_FUNCS_NAMES[func][arm]
    check_raises(InputTypeError, rf"^{name} has boolean dtype", ARRAY_FUNCS[func], *args)


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param(np.ones((3, 2)), id="numpy-2d"),
        pytest.param(np.ones((3, 1)), id="numpy-column"),
        pytest.param([[1.0, 2.0], [3.0, 4.0]], id="nested-list"),
    ],
)
@pytest.mark.parametrize("func", sorted(ARRAY_FUNCS))
def test_two_dimensional_array(bad: Any, func: str) -> None:
    check_raises(
        InputError, r"^control .*one-dimensional.*shape", ARRAY_FUNCS[func], bad, [0.0, 1.0]
    )


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param(3.0, id="scalar"),
        pytest.param({"a": 1.0}, id="dict"),
        pytest.param("abc", id="str"),
        pytest.param(None, id="None"),
    ],
)
def test_not_an_array(bad: Any) -> None:
    check_raises(
        InputTypeError, r"^control must be an array or a series", neyman.ttest, bad, [1.0, 2.0, 3.0]
    )


@pytest.mark.parametrize(
    ("col", "values", "what"),
    [
        ("s", ["a", "b"] * 3, r"dtype String"),
        ("b", [True, False, True, True, False, False], r"boolean dtype"),
    ],
)
def test_frame_column_wrong_dtype(col: str, values: list[Any], what: str) -> None:
    df = pd.DataFrame({"arm": ["c", "t"] * 3, col: values})
    check_raises(
        InputTypeError,
        rf"column '{col}' has {what}",
        neyman.ttest,
        df,
        metric=col,
        variant="arm",
        control="c",
    )
    exp = neyman.Experiment(pl.from_pandas(df), variant="arm", control="c")
    check_raises(InputTypeError, rf"column '{col}' has {what}", exp.analyze, neyman.Mean(col))
    check_raises(InputTypeError, rf"column '{col}' has {what}", exp.analyze, neyman.Ratio(col, col))


def test_frame_string_column_for_proportion() -> None:
    df = pd.DataFrame({"arm": ["c", "t"] * 3, "s": ["0", "1"] * 3})
    exp = neyman.Experiment(df, variant="arm", control="c")
    check_raises(
        InputTypeError, r"column 's' has dtype String", exp.analyze, neyman.Proportion("s")
    )


def test_wrong_stats_type() -> None:
    check_raises(
        InputTypeError,
        r"control is a ProportionStats; this test needs MeanStats",
        neyman.ttest,
        neyman.ProportionStats(1, 3),
        neyman.MeanStats(3, 1.0, 1.0),
    )
    check_raises(
        InputTypeError,
        r"treatment is a MeanStats; this test needs ProportionStats",
        neyman.proportions,
        neyman.ProportionStats(1, 3),
        neyman.MeanStats(3, 1.0, 1.0),
    )


# --------------------------------------------------------------------------------------------
# Frames: unknown labels and columns, missing variant values
# --------------------------------------------------------------------------------------------


def _exp_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "arm": ["c", "t", "c", "t", "c", "t"],
            "y": [1.0, 2.0, 3.0, 4.0, 5.0, 7.0],
            "z": [0, 1, 1, 0, 1, 1],
            "num": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
            "den": [2.0, 3.0, 4.0, 5.0, 6.0, 8.0],
            "u": [10, 11, 12, 13, 14, 15],
        }
    )


FRAME_KINDS = {
    "pandas": lambda df: df,
    "polars": pl.from_pandas,
    "pyarrow": lambda df: pa.Table.from_pandas(df, preserve_index=False),
}


def _frame_calls(df: Any, **kw: Any) -> dict[str, Callable[[], Any]]:
    return {
        "ttest": lambda: neyman.ttest(df, **{"metric": "y", "variant": "arm", **kw}),
        "ztest": lambda: neyman.ztest(df, **{"metric": "y", "variant": "arm", **kw}),
        "proportions": lambda: neyman.proportions(df, **{"metric": "z", "variant": "arm", **kw}),
        "ratio": lambda: neyman.ratio(
            df, **{"numerator": "num", "denominator": "den", "variant": "arm", **kw}
        ),
        "experiment": lambda: neyman.Experiment(df, **{"variant": "arm", **kw}).analyze(
            neyman.Mean("y")
        ),
    }


@pytest.mark.parametrize("frame", sorted(FRAME_KINDS))
@pytest.mark.parametrize("call", ["ttest", "ztest", "proportions", "ratio", "experiment"])
@pytest.mark.parametrize("label", ["x", "C", 0])
def test_unknown_control_label(frame: str, call: str, label: Any) -> None:
    df = FRAME_KINDS[frame](_exp_frame())
    check_raises(
        InputError,
        rf"^control == {re.escape(repr(label))} is not a value of column 'arm'",
        _frame_calls(df, control=label)[call],
    )


@pytest.mark.parametrize("frame", sorted(FRAME_KINDS))
@pytest.mark.parametrize("call", ["ttest", "ztest", "proportions", "ratio", "experiment"])
def test_unknown_variant_column(frame: str, call: str) -> None:
    df = FRAME_KINDS[frame](_exp_frame())
    calls = _frame_calls(df, control="c", variant="group")
    check_raises(InputError, r"^variant == 'group' is not a column of the data", calls[call])


@pytest.mark.parametrize("frame", sorted(FRAME_KINDS))
@pytest.mark.parametrize(
    ("call", "arg"),
    [
        ("ttest", "metric"),
        ("ztest", "metric"),
        ("proportions", "metric"),
        ("ratio", "numerator"),
        ("ratio", "denominator"),
    ],
)
def test_unknown_metric_column_functions(frame: str, call: str, arg: str) -> None:
    df = FRAME_KINDS[frame](_exp_frame())
    check_raises(
        InputError,
        rf"^{arg} == 'nope' is not a column of the data",
        _frame_calls(df, control="c", **{arg: "nope"})[call],
    )


@pytest.mark.parametrize("frame", sorted(FRAME_KINDS))
@pytest.mark.parametrize(
    ("metric", "arg"),
    [
        (neyman.Mean("nope"), "column"),
        (neyman.Proportion("nope"), "column"),
        (neyman.Ratio("nope", "den"), "numerator"),
        (neyman.Ratio("num", "nope"), "denominator"),
    ],
)
def test_unknown_metric_column_experiment(frame: str, metric: Any, arg: str) -> None:
    exp = neyman.Experiment(FRAME_KINDS[frame](_exp_frame()), variant="arm", control="c")
    check_raises(
        InputError,
        rf"^(Mean\.|Proportion\.|Ratio\.)?{arg} == 'nope' is not a column of the data",
        exp.analyze,
        neyman.Mean("y"),
        metric,
    )


@pytest.mark.parametrize("frame", sorted(FRAME_KINDS))
def test_unknown_unit_column(frame: str) -> None:
    check_raises(
        InputError,
        r"^unit == 'user' is not a column of the data",
        neyman.Experiment,
        FRAME_KINDS[frame](_exp_frame()),
        variant="arm",
        control="c",
        unit="user",
    )


def _missing_variant_frames() -> list[Any]:
    base = _exp_frame()
    arm_none = base.assign(arm=["c", "t", None, "t", "c", "t"])
    arm_nan = base.assign(arm=pd.Series(["c", "t", np.nan, "t", "c", "t"], dtype=object))
    arm_cat = base.assign(arm=pd.Categorical(["c", "t", None, "t", "c", "t"]))
    arm_str = base.assign(arm=pd.Series(["c", "t", pd.NA, "t", "c", "t"], dtype="string"))
    return [
        pytest.param(arm_none, id="pandas-object-None"),
        pytest.param(arm_nan, id="pandas-object-NaN"),
        pytest.param(arm_cat, id="pandas-categorical-NaN"),
        pytest.param(arm_str, id="pandas-string-NA"),
        pytest.param(pl.from_pandas(arm_none), id="polars-null"),
        pytest.param(pa.Table.from_pandas(arm_none, preserve_index=False), id="arrow-null"),
    ]


@pytest.mark.parametrize("df", _missing_variant_frames())
@pytest.mark.parametrize("call", ["ttest", "ztest", "proportions", "ratio", "experiment"])
def test_missing_variant_values(df: Any, call: str) -> None:
    check_raises(
        InputError,
        r"^variant column 'arm' has 1 missing values?",
        _frame_calls(df, control="c")[call],
    )


def test_frame_without_variant_or_control() -> None:
    df = _exp_frame()
    check_raises(InputError, r"variant=.*control=", neyman.ttest, df, metric="y")
    check_raises(InputError, r"variant=.*control=", neyman.ttest, df, metric="y", variant="arm")
    check_raises(InputError, r"metric=", neyman.ttest, df, variant="arm", control="c")


@pytest.mark.parametrize("frame", sorted(FRAME_KINDS))
def test_experiment_duplicated_unit(frame: str) -> None:
    df = _exp_frame().assign(u=[10, 11, 12, 13, 10, 11])
    check_raises(
        InputError,
        r"^unit column 'u' has 2 repeated values",
        neyman.Experiment,
        FRAME_KINDS[frame](df),
        variant="arm",
        control="c",
        unit="u",
    )


def test_experiment_data_not_a_frame() -> None:
    check_raises(
        InputTypeError,
        r"^data must be a pandas, polars or pyarrow data frame",
        neyman.Experiment,
        np.ones(4),
        variant="arm",
        control="c",
    )


# --------------------------------------------------------------------------------------------
# planned_split
# --------------------------------------------------------------------------------------------

PLANNED_SPLIT_ERRORS = [
    pytest.param(
        {"c": 0.5, "x": 0.5},
        InputError,
        r"planned_split names arms not in the data: "
        r"\['x'\]",
        id="unknown-arm",
    ),
    pytest.param(
        {"c": 1.0}, InputError, r"planned_split gives no weight for arms \['t'\]", id="missing-arm"
    ),
    pytest.param(
        [0.5, 0.25, 0.25],
        InputError,
        r"planned_split has 3 weights but the data have 2 arms",
        id="too-long",
    ),
    pytest.param(
        [1.0], InputError, r"planned_split has 1 weights? but the data have 2 arms", id="too-short"
    ),
    pytest.param([1.0, -1.0], InputError, r"planned_split weights must be positive", id="negative"),
    pytest.param(
        {"c": -0.5, "t": 1.5},
        InputError,
        r"planned_split weights must be positive",
        id="negative-dict",
    ),
    pytest.param([1.0, 0.0], InputError, r"planned_split weights must be positive", id="zero"),
    pytest.param(
        [1.0, math.nan], InputError, r"planned_split weights must be positive and finite", id="nan"
    ),
    pytest.param(
        [1.0, math.inf], InputError, r"planned_split weights must be positive and finite", id="inf"
    ),
    pytest.param(
        ["a", "b"], InputTypeError, r"planned_split weights must be numbers", id="strings"
    ),
    pytest.param(
        {"c": None, "t": 1.0}, InputTypeError, r"planned_split weights must be numbers", id="None"
    ),
]


@pytest.mark.parametrize(("split", "cls", "match"), PLANNED_SPLIT_ERRORS)
def test_planned_split_experiment(split: Any, cls: type[Exception], match: str) -> None:
    check_raises(
        cls,
        match,
        neyman.Experiment,
        _exp_frame(),
        variant="arm",
        control="c",
        planned_split=split,
    )


@pytest.mark.parametrize(("split", "cls", "match"), PLANNED_SPLIT_ERRORS)
def test_planned_split_srm(split: Any, cls: type[Exception], match: str) -> None:
    check_raises(cls, match, neyman.srm, {"c": 103, "t": 97}, split)


def test_planned_split_srm_list_observed() -> None:
    check_raises(
        InputError,
        r"planned_split has 3 weights but the data have 2 arms",
        neyman.srm,
        [103, 97],
        [1.0, 1.0, 1.0],
    )


@pytest.mark.parametrize(
    ("observed", "cls", "match"),
    [
        ([10, -12], InputError, r"observed counts must be non-negative"),
        ([10, 12.5], InputTypeError, r"observed counts must be integers"),
        ([10, "12"], InputTypeError, r"observed counts must be integers"),
        ([10], InputError, r"observed: at least two arms are needed"),
        ([0, 0], InputError, r"observed: no units were observed"),
    ],
)
def test_srm_bad_observed(observed: Any, cls: type[Exception], match: str) -> None:
    check_raises(cls, match, neyman.srm, observed)


@pytest.mark.parametrize("alpha", [0.0, 1.0, 1.5, -0.01, math.nan])
def test_srm_alpha_out_of_range_names_alpha(alpha: float) -> None:
    check_raises(
        InputError,
        r"^alpha == .*must be strictly between 0 and 1",
        neyman.srm,
        [10, 12],
        alpha=alpha,
    )


def test_experiment_srm_alpha_out_of_range_names_srm_alpha() -> None:
    check_raises(
        InputError,
        r"^srm_alpha == 1\.5",
        neyman.Experiment,
        _exp_frame(),
        variant="arm",
        control="c",
        srm_alpha=1.5,
    )


# --------------------------------------------------------------------------------------------
# Options: confidence_level, alternative, relative_ci, ci_method, nan_policy
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("entry", ENTRIES, **ENTRY_IDS)
@pytest.mark.parametrize("level", [0.0, 1.0, 1.5, -0.05, 95, math.nan, math.inf, -math.inf])
def test_confidence_level_out_of_range(entry: Entry, level: float) -> None:
    exc = check_raises(
        InputError,
        r"^confidence_level == .*, must be strictly between 0 and 1",
        entry.call,
        *good_data(entry),
        confidence_level=level,
    )
    shown = str(exc).split(",")[0].removeprefix("confidence_level == ")
    assert float(shown) == level or (math.isnan(level) and shown == "nan")


@pytest.mark.parametrize("entry", ENTRIES, **ENTRY_IDS)
@pytest.mark.parametrize("level", ["0.95", None, [0.95], 1j])
def test_confidence_level_wrong_type(entry: Entry, level: Any) -> None:
    check_raises(
        InputTypeError,
        r"^confidence_level must be a float, got",
        entry.call,
        *good_data(entry),
        confidence_level=level,
    )


@pytest.mark.parametrize("entry", ENTRIES, **ENTRY_IDS)
@pytest.mark.parametrize(
    "alternative", ["larger", "two_sided", "two.sided", "smaller", "Greater", "", None, 1]
)
def test_alternative_unknown(entry: Entry, alternative: Any) -> None:
    exc = check_raises(
        InputError,
        rf"^alternative == {re.escape(repr(alternative))}, must be one of",
        entry.call,
        *good_data(entry),
        alternative=alternative,
    )
    for allowed in ("'two-sided'", "'less'", "'greater'"):
        assert allowed in str(exc)


@pytest.mark.parametrize("entry", ENTRIES, **ENTRY_IDS)
@pytest.mark.parametrize("value", ["bootstrap", "Delta", "", None])
def test_relative_ci_unknown(entry: Entry, value: Any) -> None:
    exc = check_raises(
        InputError,
        rf"^relative_ci == {re.escape(repr(value))}, must be one of",
        entry.call,
        *good_data(entry),
        relative_ci=value,
    )
    assert "'delta'" in str(exc)
    assert "'fieller'" in str(exc)


@pytest.mark.parametrize("entry", ENTRIES, **ENTRY_IDS)
@pytest.mark.parametrize("value", ["drop", "ignore", "Omit", None])
def test_nan_policy_unknown(entry: Entry, value: Any) -> None:
    exc = check_raises(
        InputError,
        rf"^nan_policy == {re.escape(repr(value))}, must be one of",
        entry.call,
        *good_data(entry),
        nan_policy=value,
    )
    for allowed in ("'propagate'", "'raise'", "'omit'"):
        assert allowed in str(exc)


@pytest.mark.parametrize("value", ["wilson", "agresti-caffo", None])
def test_ci_method_unknown(value: Any) -> None:
    pattern = rf"^ci_method == {re.escape(repr(value))}, must be one of 'newcombe', 'wald'"
    check_raises(InputError, pattern, neyman.proportions, PROP_C, PROP_T, ci_method=value)
    exp = neyman.Experiment(_exp_frame(), variant="arm", control="c")
    check_raises(InputError, pattern, exp.analyze, neyman.Proportion("z", ci_method=value))


@pytest.mark.parametrize("value", ["t", "welsh", None])
def test_mean_test_unknown(value: Any) -> None:
    exp = neyman.Experiment(_exp_frame(), variant="arm", control="c")
    check_raises(
        InputError,
        rf"^test == {re.escape(repr(value))}, must be one of 'welch', 'student', 'z'",
        exp.analyze,
        neyman.Mean("y", test=value),
    )


# --------------------------------------------------------------------------------------------
# Experiment.analyze
# --------------------------------------------------------------------------------------------


def test_analyze_without_metrics() -> None:
    exp = neyman.Experiment(_exp_frame(), variant="arm", control="c")
    check_raises(InputError, r"at least one metric", exp.analyze)


@pytest.mark.parametrize(
    "metric",
    [
        pytest.param("y", id="str"),
        pytest.param(neyman.Mean, id="class"),
        pytest.param({"column": "y"}, id="dict"),
        pytest.param(neyman.MeanStats(3, 1.0, 1.0), id="MeanStats"),
        pytest.param(None, id="None"),
    ],
)
def test_analyze_non_metric(metric: Any) -> None:
    exp = neyman.Experiment(_exp_frame(), variant="arm", control="c")
    exc = check_raises(
        InputTypeError,
        r"^metrics must be neyman.Mean, Proportion or Ratio, got",
        exp.analyze,
        metric,
    )
    assert type(metric).__name__ in str(exc)
    # also when it follows a valid metric
    check_raises(InputTypeError, r"^metrics must be", exp.analyze, neyman.Mean("y"), metric)


def test_metric_column_not_a_string() -> None:
    exp = neyman.Experiment(_exp_frame(), variant="arm", control="c")
    check_raises(
        InputTypeError, r"^Mean.column must be a column name \(str\)", exp.analyze, neyman.Mean(3)
    )  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# set_num_threads
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "cls", "match"),
    [
        (0, InputError, r"^n == 0, must be at least 1"),
        (-1, InputError, r"^n == -1, must be at least 1"),
        (1.5, InputTypeError, r"^n must be an int, got float"),
        (2.0, InputTypeError, r"^n must be an int, got float"),
        ("2", InputTypeError, r"^n must be an int, got str"),
        (True, InputTypeError, r"^n must be an int, got bool"),
        (None, InputTypeError, r"^n must be an int, got NoneType"),
    ],
)
def test_set_num_threads_bad(n: Any, cls: type[Exception], match: str) -> None:
    before = neyman.get_num_threads()
    check_raises(cls, match, neyman.set_num_threads, n)
    assert neyman.get_num_threads() == before


# --------------------------------------------------------------------------------------------
# Pre-aggregated statistics
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "cls", "match"),
    [
        (
            lambda: neyman.MeanStats.from_sums(-1, 1.0, 1.0),
            InputError,
            r"^n == -1, must be non-negative",
        ),
        (
            lambda: neyman.MeanStats.from_sums(2.5, 1.0, 1.0),
            InputTypeError,
            r"^n must be an integer count, got float",
        ),
        (
            lambda: neyman.MeanStats.from_sums(True, 1.0, 1.0),
            InputTypeError,
            r"^n must be an integer count, got bool",
        ),
        (lambda: neyman.MeanStats.from_sums(3, math.inf, 1.0), InputError, r"^sum.*finite"),
        (lambda: neyman.MeanStats.from_sums(3, math.nan, 1.0), InputError, r"^sum.*finite"),
        (lambda: neyman.MeanStats.from_sums(3, 1.0, math.inf), InputError, r"^sum.*finite"),
        (
            lambda: neyman.MeanStats.from_sums(3, 1.0, -1.0),
            InputError,
            r"^sum_sq: a sum of squares cannot be negative",
        ),
        (
            lambda: neyman.MeanStats.from_mean_std(-2, 1.0, 1.0),
            InputError,
            r"^n == -2, must be non-negative",
        ),
        (lambda: neyman.MeanStats.from_mean_std(3, 1.0, -1.0), InputError, r"^std"),
        (
            lambda: neyman.RatioStats.from_sums(-1, 1.0, 1.0, 1.0, 1.0, 1.0),
            InputError,
            r"^n == -1, must be non-negative",
        ),
        (
            lambda: neyman.RatioStats.from_sums(3, 1.0, 1.0, -1.0, 1.0, 1.0),
            InputError,
            r"^sum_num_sq\b.*(negative|non-negative)",
        ),
        (
            lambda: neyman.RatioStats.from_sums(3, 1.0, 1.0, 1.0, -1.0, 1.0),
            InputError,
            r"^sum_den_sq\b.*(negative|non-negative)",
        ),
        (
            lambda: neyman.RatioStats.from_sums(3, 1.0, math.nan, 1.0, 1.0, 1.0),
            InputError,
            r"^sum_den\b.*finite",
        ),
        (
            lambda: neyman.RatioStats.from_sums(3, 1.0, 1.0, 1.0, 1.0, math.inf),
            InputError,
            r"^sum_num_den\b.*finite",
        ),
    ],
    ids=[
        "mean-from_sums-negative-n",
        "mean-from_sums-float-n",
        "mean-from_sums-bool-n",
        "mean-from_sums-inf-sum",
        "mean-from_sums-nan-sum",
        "mean-from_sums-inf-sum_sq",
        "mean-from_sums-negative-sum_sq",
        "mean-from_mean_std-negative-n",
        "mean-from_mean_std-negative-std",
        "ratio-from_sums-negative-n",
        "ratio-from_sums-negative-sum_num_sq",
        "ratio-from_sums-negative-sum_den_sq",
        "ratio-from_sums-nan",
        "ratio-from_sums-inf",
    ],
)
def test_stats_constructors_bad(call: Callable[[], Any], cls: type[Exception], match: str) -> None:
    check_raises(cls, match, call)


@pytest.mark.parametrize("arm", ["control", "treatment"])
@pytest.mark.parametrize(("n", "word"), [(0, "observations"), (1, "observation")])
def test_stats_too_few(arm: str, n: int, word: str) -> None:
    good_m = neyman.MeanStats(10, 1.0, 4.0)
    bad_m = neyman.MeanStats(n, 1.0, 0.0)
    args = (bad_m, good_m) if arm == "control" else (good_m, bad_m)
    pattern = rf"^{arm} has {n} {word}; at least 2 are needed"
    check_raises(InsufficientDataError, pattern, neyman.ttest, *args)
    check_raises(InsufficientDataError, pattern, neyman.ztest, *args)
    good_r = neyman.RatioStats(10, 1.0, 2.0, 2.0, 1.0, 0.5)
    bad_r = neyman.RatioStats(n, 1.0, 2.0, 0.0, 0.0, 0.0)
    args_r = (bad_r, good_r) if arm == "control" else (good_r, bad_r)
    check_raises(InsufficientDataError, pattern, neyman.ratio, *args_r)


@pytest.mark.parametrize("arm", ["control", "treatment"])
@pytest.mark.parametrize(
    ("fields", "cls", "match"),
    [
        ((-3, 1.0, 1.0), InputError, r"^n == -3, must be non-negative"),
        ((3.5, 1.0, 1.0), InputTypeError, r"^n must be an integer count, got float"),
        (("3", 1.0, 1.0), InputTypeError, r"^n must be an integer count, got str"),
        ((3, 1.0, -1.0), InputError, r"^m2 == -1\.0, must be non-negative"),
        ((3, math.inf, 1.0), InputError, r"^mean == inf, must be finite"),
        ((3, math.nan, 1.0), InputError, r"^mean == nan, must be finite"),
        ((3, 1.0, math.inf), InputError, r"^m2 == inf, must be finite"),
        ((3, "1.0", 1.0), InputTypeError, r"^mean must be a number, got str"),
    ],
    ids=[
        "negative-n",
        "float-n",
        "str-n",
        "negative-m2",
        "inf-mean",
        "nan-mean",
        "inf-m2",
        "str-mean",
    ],
)
def test_mean_stats_bad_fields(
    arm: str, fields: tuple[Any, ...], cls: type[Exception], match: str
) -> None:
    def build_and_use() -> Any:
        bad = neyman.MeanStats(*fields)
        good = neyman.MeanStats(10, 1.0, 4.0)
        return neyman.ttest(*((bad, good) if arm == "control" else (good, bad)))

    check_raises(cls, match, build_and_use)


@pytest.mark.parametrize("arm", ["control", "treatment"])
@pytest.mark.parametrize(
    ("fields", "cls", "match"),
    [
        ((-3, 1.0, 2.0, 2.0, 1.0, 0.5), InputError, r"^n == -3, must be non-negative"),
        ((2.5, 1.0, 2.0, 2.0, 1.0, 0.5), InputTypeError, r"^n must be an integer count"),
        ((10, 1.0, 2.0, -2.0, 1.0, 0.5), InputError, r"^c_num_num == -2\.0, must be non-negative"),
        ((10, 1.0, 2.0, 2.0, -1.0, 0.5), InputError, r"^c_den_den == -1\.0, must be non-negative"),
        ((10, math.nan, 2.0, 2.0, 1.0, 0.5), InputError, r"^mean_num == nan, must be finite"),
        ((10, 1.0, math.inf, 2.0, 1.0, 0.5), InputError, r"^mean_den == inf, must be finite"),
        ((10, 1.0, 2.0, 2.0, 1.0, -math.inf), InputError, r"^c_num_den == -inf, must be finite"),
    ],
    ids=[
        "negative-n",
        "float-n",
        "negative-c_num_num",
        "negative-c_den_den",
        "nan-mean_num",
        "inf-mean_den",
        "inf-c_num_den",
    ],
)
def test_ratio_stats_bad_fields(
    arm: str, fields: tuple[Any, ...], cls: type[Exception], match: str
) -> None:
    def build_and_use() -> Any:
        bad = neyman.RatioStats(*fields)
        good = neyman.RatioStats(10, 1.0, 2.0, 2.0, 1.0, 0.5)
        return neyman.ratio(*((bad, good) if arm == "control" else (good, bad)))

    check_raises(cls, match, build_and_use)


# --------------------------------------------------------------------------------------------
# Argument combinations
# --------------------------------------------------------------------------------------------


def test_missing_treatment() -> None:
    check_raises(InputError, r"treatment arm", neyman.ttest, [1.0, 2.0, 3.0])
    check_raises(InputError, r"treatment arm", neyman.proportions, [0.0, 1.0, 1.0])


def test_empty_mapping_of_arms() -> None:
    check_raises(InputError, r"mapping of treatment arms is empty", neyman.ttest, [1.0, 2.0], {})


def test_ratio_needs_four_arrays() -> None:
    check_raises(InputError, r"four arrays", neyman.ratio, [1.0, 2.0], [1.0, 2.0], [1.0, 2.0])


def test_ratio_mappings_with_different_arms() -> None:
    check_raises(
        InputError,
        r"same arm labels",
        neyman.ratio,
        [1.0, 2.0, 3.0],
        [1.0, 1.0, 1.0],
        {"a": [1.0, 2.0, 3.0]},
        {"b": [1.0, 1.0, 1.0]},
    )


def test_frame_options_with_arrays() -> None:
    check_raises(
        InputError,
        r"variant are for data-frame input",
        neyman.ttest,
        [1.0, 2.0],
        [2.0, 3.0],
        metric="y",
    )
