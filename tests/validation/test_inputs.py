"""Input kinds and result objects: the caller's data stay untouched, every accepted input kind gives
the same answer, and results render.

What is checked:

- The caller's data are never modified (DESIGN.md section 6): numpy float64 / int / float32
  arrays, non-contiguous views (``x[::2]``, ``x[::-1]``), read-only arrays, pandas / polars /
  pyarrow series and frames are compared with a deep copy taken before each call, including calls
  that raise; the writeable flag and the base array of a view are checked too.
- All accepted input kinds agree: numpy float64/float32/int64/int32/int8 arrays, lists, tuples,
  pandas Series (numpy and nullable dtypes), polars Series, pyarrow Array and ChunkedArray, and
  pandas/polars/pyarrow frames. Values are small integers, exactly representable in every dtype,
  so every kind converts to the same float64 array and the results must be identical (exact
  equality of the result dataclasses). Nulls of nullable pandas dtypes, polars and pyarrow are
  treated as NaN: ``nan_policy`` applies to them.
- Variant labels: strings, integers, pandas categoricals, polars Categorical/Enum give identical
  numbers, and the control label may be any arm.
- Results render: ``repr`` names the metrics, ``_repr_html_`` is escaped HTML without scripts,
  ``to_dict`` / ``to_pandas`` / ``to_polars`` carry every field with the attribute values,
  ``AnalysisResult.plot()`` returns a matplotlib Axes (Agg backend), ``res[metric, arm]`` indexing,
  and result dataclasses are frozen.

Independent references and tolerances: the array results are anchored to
``scipy.stats.ttest_ind(..., equal_var=False)`` (Welch), to a hand computation of the pooled z
for proportions (``scipy.stats.norm`` for the p-value), and to the delta-method formula of Deng,
Knoblich and Lu (2018, eq. 2) written out in numpy for ratios, at ``rtol = 1e-10``: each is the
same closed form evaluated in float64 by independent code, which agree to ~1e-14 for moments; the
margin covers the p-value functions (neyman's t distribution agrees with scipy's to ~1e-10 in
relative terms in the tails). Frame results are compared with the array results at
``rtol = 1e-12``: the grouped kernel sees the same values in the same order, so only the grouping
of floating-point merges may differ (a few ulp); the same tolerance is used for
``nan_policy='omit'`` against dropping the nulls first (skipping a NaN can shift which
accumulator a value lands in). Comparisons between input kinds are exact.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import math
from collections.abc import Callable, Iterator
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.axes
import matplotlib.pyplot as plt
import neyman
import numpy as np
import pandas as pd
import polars as pl
import polars.testing
import pyarrow as pa
import pytest
import scipy.stats

from tests.conftest import BASE_FIELDS, DATA, FLOAT_FIELDS, assert_close_results

# The result fields documented in DESIGN.md section 3 (TestResult may carry more).
FIELDS = BASE_FIELDS


@pytest.fixture(autouse=True)
def _close_figures() -> Iterator[None]:
    yield
    plt.close("all")


# --------------------------------------------------------------------------------------------
# Snapshots: the caller's data before and after a call
# --------------------------------------------------------------------------------------------


def snapshot(obj: Any) -> Any:
    """A deep copy plus the flags a deep copy does not keep."""
    if isinstance(obj, np.ndarray):
        base = obj.base
        return {
            "copy": obj.copy(),
            "writeable": obj.flags.writeable,
            "strides": obj.strides,
            "dtype": obj.dtype,
            "base": None if base is None else (base, np.array(base, copy=True)),
        }
    if isinstance(obj, pd.DataFrame | pd.Series):
        return obj.copy(deep=True)
    if isinstance(obj, pl.DataFrame | pl.Series):
        return obj.clone()
    if isinstance(obj, pa.Table | pa.ChunkedArray | pa.Array):
        # Arrow data are immutable, but a buffer could still be written through numpy.
        return (
            obj.to_pylist() if not isinstance(obj, pa.Table) else obj.to_pydict(),
            obj.schema if isinstance(obj, pa.Table) else obj.type,
        )
    if isinstance(obj, list | tuple | dict):
        return copy.deepcopy(obj)
    raise TypeError(type(obj))


def _same_py(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_same_py(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same_py(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def assert_unchanged(obj: Any, snap: Any) -> None:
    if isinstance(obj, np.ndarray):
        assert obj.dtype == snap["dtype"]
        assert obj.strides == snap["strides"]
        assert obj.flags.writeable == snap["writeable"]
        np.testing.assert_array_equal(obj, snap["copy"], strict=True)
        assert obj.tobytes() == snap["copy"].tobytes()
        if snap["base"] is not None:
            base, base_copy = snap["base"]
            assert obj.base is base
            assert np.asarray(base).tobytes() == base_copy.tobytes()
    elif isinstance(obj, pd.DataFrame):
        pd.testing.assert_frame_equal(obj, snap, check_exact=True)
        assert obj.columns.tolist() == snap.columns.tolist()
    elif isinstance(obj, pd.Series):
        pd.testing.assert_series_equal(obj, snap, check_exact=True)
    elif isinstance(obj, pl.DataFrame):
        polars.testing.assert_frame_equal(obj, snap, check_exact=True)
    elif isinstance(obj, pl.Series):
        polars.testing.assert_series_equal(obj, snap, check_exact=True)
    elif isinstance(obj, pa.Table):
        assert obj.schema == snap[1]
        assert _same_py(obj.to_pydict(), snap[0])
    elif isinstance(obj, pa.ChunkedArray | pa.Array):
        assert obj.type == snap[1]
        assert _same_py(obj.to_pylist(), snap[0])
    else:
        assert _same_py(obj, snap)


def call_and_check(func: Callable[..., Any], *inputs: Any, **kwargs: Any) -> bool:
    """Call ``func(*inputs, **kwargs)``; check every input is unchanged; True if it raised."""
    snaps = [snapshot(x) for x in inputs]
    raised = False
    try:
        func(*inputs, **kwargs)
    except neyman.NeymanError:
        raised = True
    for x, s in zip(inputs, snaps, strict=True):
        assert_unchanged(x, s)
    return raised


# --------------------------------------------------------------------------------------------
# The caller's arrays are never modified
# --------------------------------------------------------------------------------------------


def _values(seed: int, n: int, *, nan: bool = True) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.integers(-50, 50, size=n).astype(np.float64)
    if nan:
        x[[1, n // 2, n - 2]] = np.nan
    return x


def _readonly(x: np.ndarray) -> np.ndarray:
    x = x.copy()
    x.flags.writeable = False
    return x


def _array_kinds() -> list[Any]:
    base = _values(1, 201)
    ints = np.arange(-30, 31, dtype=np.int64)
    return [
        pytest.param(_values(2, 101), id="float64"),
        pytest.param(_readonly(_values(3, 101)), id="float64-readonly"),
        pytest.param(base[::2], id="view-step2"),
        pytest.param(base[::-1], id="view-reversed"),
        pytest.param(_readonly(base)[1::3], id="readonly-view"),
        pytest.param(_values(4, 101).astype(np.float32), id="float32"),
        pytest.param(ints, id="int64"),
        pytest.param(ints.astype(np.int8)[::2], id="int8-view"),
        pytest.param(pd.Series(_values(5, 51)), id="pandas"),
        pytest.param(pd.Series([1, 2, None, 4, 5, 7], dtype="Int64"), id="pandas-Int64-NA"),
        pytest.param(pl.Series([1.0, 2.0, None, 4.0, 8.0]), id="polars-null"),
        pytest.param(pa.chunked_array([[1.0, None, 3.0], [4.0, 6.0]]), id="arrow-chunked"),
        pytest.param(pa.array([1.0, None, 3.0, 4.0, 6.0]), id="arrow-array"),
        pytest.param([1.0, math.nan, 3.0, 5.0], id="list"),
    ]


@pytest.mark.parametrize("x", _array_kinds())
def test_arrays_not_modified_mean_tests(x: Any) -> None:
    other = _values(9, 40)
    raised = 0
    for func in (neyman.ttest, neyman.ztest):
        for policy in ("propagate", "omit", "raise"):
            for alt in ("two-sided", "less"):
                raised += call_and_check(func, x, other, nan_policy=policy, alternative=alt)
                raised += call_and_check(func, other, x, nan_policy=policy, relative_ci="fieller")
        raised += call_and_check(lambda a, b, f=func: f(a, {"b": b, "c": b}), other, x)
    # inf in the other arm always raises; the caller's data must survive that too
    with_inf = np.append(_values(10, 10, nan=False), np.inf)
    raised += call_and_check(neyman.ttest, x, with_inf, nan_policy="omit")
    assert raised > 0


@pytest.mark.parametrize(
    "x",
    [
        pytest.param(np.array([0.0, 1.0, 1.0, np.nan, 0.0, 1.0]), id="float64"),
        pytest.param(_readonly(np.array([0.0, 1.0, 1.0, 0.0, 1.0, 1.0, 0.0])), id="readonly"),
        pytest.param(np.array([0, 1, 1, 0, 1, 1, 0, 0], dtype=np.int8)[::2], id="int8-view"),
        pytest.param(np.array([True, False, True, True]), id="bool"),
        pytest.param(pd.Series([True, None, False, True], dtype="boolean"), id="pandas-boolean"),
        pytest.param(pl.Series([1, None, 0, 1, 1], dtype=pl.Int8), id="polars-int8-null"),
        pytest.param(np.array([0.0, 1.0, 2.0, 1.0]), id="not-binary"),
    ],
)
def test_arrays_not_modified_proportions(x: Any) -> None:
    other = np.array([0.0, 1.0, 0.0, 0.0, 1.0, 1.0, 0.0])
    for policy in ("propagate", "omit", "raise"):
        for method in ("newcombe", "wald"):
            call_and_check(neyman.proportions, x, other, nan_policy=policy, ci_method=method)
            call_and_check(neyman.proportions, other, x, nan_policy=policy, ci_method=method)


@pytest.mark.parametrize("policy", ["propagate", "omit", "raise"])
def test_arrays_not_modified_ratio(policy: str) -> None:
    base_num = _values(11, 120)
    base_den = np.abs(_values(12, 120)) + 1.0
    num_c = base_num[::2]
    den_c = _readonly(base_den[::2].copy())
    num_t = pd.Series(base_num[1::2])
    den_t = pl.Series(base_den[1::2])
    call_and_check(neyman.ratio, num_c, den_c, num_t, den_t, nan_policy=policy)
    call_and_check(neyman.ratio, num_t, den_t, num_c, den_c, nan_policy=policy)
    # calls that raise: negative denominator, length mismatch, inf
    neg = den_c.copy()
    neg[3] = -1.0
    assert call_and_check(neyman.ratio, num_c, neg, num_t, den_t, nan_policy=policy)
    assert call_and_check(neyman.ratio, num_c, den_c[:-1], num_t, den_t, nan_policy=policy)
    with_inf = np.append(np.asarray(num_t), np.inf)
    den_long = np.append(np.asarray(den_t), 1.0)
    assert call_and_check(neyman.ratio, num_c, den_c, with_inf, den_long, nan_policy=policy)


def test_arrays_not_modified_when_raising() -> None:
    x = _values(13, 30)
    ro = _readonly(_values(14, 30))
    view = _values(15, 61)[::2]
    for a in (x, ro, view):
        assert call_and_check(neyman.ttest, a, view, nan_policy="raise")
        assert call_and_check(neyman.ttest, a, x, confidence_level=1.5)
        assert call_and_check(neyman.ttest, a, ro, alternative="larger")
        assert call_and_check(neyman.ttest, a, np.array([1.0]), nan_policy="omit")
        assert call_and_check(neyman.proportions, a, view)  # not 0/1


def _frame_data(n: int = 240) -> dict[str, Any]:
    rng = np.random.default_rng(21)
    arms = np.array(["control", "treatment_a", "treatment_b"])[rng.integers(0, 3, n)]
    revenue = rng.integers(0, 40, n).astype(np.float64)
    revenue[[3, 50, 77]] = np.nan
    return {
        "user": np.arange(n),
        "arm": arms,
        "revenue": revenue,
        "converted": rng.integers(0, 2, n).astype(np.int8),
        "clicks": rng.integers(0, 5, n),
        "impressions": rng.integers(5, 12, n).astype(np.float64),
    }


def _frames() -> list[Any]:
    data = _frame_data()
    pdf = pd.DataFrame(data)
    nullable = pdf.assign(
        revenue=pd.array(
            np.where(np.isnan(data["revenue"]), None, data["revenue"]), dtype="Float64"
        ),
        arm=pd.Categorical(pdf["arm"]),
    )
    return [
        pytest.param(pdf, id="pandas"),
        pytest.param(nullable, id="pandas-nullable-categorical"),
        pytest.param(pl.from_pandas(pdf), id="polars"),
        pytest.param(
            pl.from_pandas(pdf).with_columns(pl.col("arm").cast(pl.Categorical)),
            id="polars-categorical",
        ),
        pytest.param(pa.Table.from_pandas(pdf, preserve_index=False), id="pyarrow"),
    ]


@pytest.mark.parametrize("df", _frames())
def test_frames_not_modified(df: Any) -> None:
    raised = 0
    for policy in ("propagate", "omit", "raise"):
        kw = {"variant": "arm", "control": "control", "nan_policy": policy}
        raised += call_and_check(lambda d, kw=kw: neyman.ttest(d, metric="revenue", **kw), df)
        raised += call_and_check(lambda d, kw=kw: neyman.ztest(d, metric="revenue", **kw), df)
        raised += call_and_check(
            lambda d, kw=kw: neyman.proportions(d, metric="converted", **kw), df
        )
        raised += call_and_check(
            lambda d, kw=kw: neyman.ratio(d, numerator="clicks", denominator="impressions", **kw),
            df,
        )

        def analyze(d: Any, policy: str = policy) -> Any:
            exp = neyman.Experiment(
                d,
                variant="arm",
                control="control",
                unit="user",
                planned_split={"control": 1, "treatment_a": 1, "treatment_b": 1},
            )
            exp.srm()
            return exp.analyze(
                neyman.Mean("revenue"),
                neyman.Mean("clicks", test="z"),
                neyman.Proportion("converted"),
                neyman.Ratio("clicks", "impressions"),
                nan_policy=policy,
            )

        raised += call_and_check(analyze, df)
    # calls that raise for other reasons
    raised += call_and_check(
        lambda d: neyman.ttest(d, metric="revenue", variant="arm", control="nope"), df
    )
    raised += call_and_check(
        lambda d: neyman.Experiment(d, variant="arm", control="control").analyze(
            neyman.Proportion("clicks")
        ),
        df,
    )
    raised += call_and_check(
        lambda d: neyman.Experiment(d, variant="arm", control="control", unit="converted"), df
    )
    assert raised >= 6


# --------------------------------------------------------------------------------------------
# Every accepted input kind gives the same answer
# --------------------------------------------------------------------------------------------

CONTROL = [3, -1, 4, 1, -5, 9, 2, -6, 5, 3, 5, 8, -9, 7, 9, 3, 2, 3, 8, 4]
TREATMENT = [2, 7, 1, 8, 2, 8, 1, 8, 2, 8, 4, 5, 9, 0, 4, 5, 2, 3, 5, 3, 6, 0]


def _kinds(values: list[int]) -> list[tuple[str, Any]]:
    f64 = np.array(values, dtype=np.float64)
    strided = np.zeros(2 * len(values))
    strided[::2] = f64
    ro = f64.copy()
    ro.flags.writeable = False
    return [
        ("float64", f64),
        ("float32", f64.astype(np.float32)),
        ("int64", f64.astype(np.int64)),
        ("int32", f64.astype(np.int32)),
        ("int8", f64.astype(np.int8)),
        ("view", strided[::2]),
        ("readonly", ro),
        ("list-float", [float(v) for v in values]),
        ("list-int", list(values)),
        ("tuple", tuple(values)),
        ("pandas-float64", pd.Series(f64)),
        ("pandas-int64", pd.Series(values, dtype="int64")),
        ("pandas-Int64", pd.Series(values, dtype="Int64")),
        ("pandas-Float64", pd.Series(values, dtype="Float64")),
        ("pandas-arrow", pd.Series(values, dtype="float64[pyarrow]")),
        ("polars-f64", pl.Series(f64)),
        ("polars-i64", pl.Series(values, dtype=pl.Int64)),
        ("polars-f32", pl.Series(values, dtype=pl.Float32)),
        ("arrow-chunked", pa.chunked_array([f64[:7], f64[7:]])),
        ("arrow-chunked-int", pa.chunked_array([pa.array(values, type=pa.int64())])),
        ("arrow-array", pa.array(f64)),
        ("arrow-array-int", pa.array(values, type=pa.int32())),
    ]


KIND_NAMES = [name for name, _ in _kinds(CONTROL)]


def _welch_reference(c: np.ndarray, t: np.ndarray) -> dict[str, float]:
    ref = scipy.stats.ttest_ind(t, c, equal_var=False)
    return {
        "effect": float(np.mean(t) - np.mean(c)),
        "statistic": float(ref.statistic),
        "pvalue": float(ref.pvalue),
        "df": float(ref.df),
    }


def _assert_reference(res: neyman.TestResult, ref: dict[str, float], rtol: float) -> None:
    for name, value in ref.items():
        assert math.isclose(getattr(res, name), value, rel_tol=rtol), (name, res, value)


@pytest.mark.parametrize("kind", KIND_NAMES)
@pytest.mark.parametrize("func", [neyman.ttest, neyman.ztest])
def test_input_kinds_agree_means(kind: str, func: Callable[..., Any]) -> None:
    c = dict(_kinds(CONTROL))[kind]
    t = dict(_kinds(TREATMENT))[kind]
    ref_res = func(np.array(CONTROL, dtype=np.float64), np.array(TREATMENT, dtype=np.float64))
    res = func(c, t)
    assert res == ref_res
    # mixed kinds: control of this kind, treatment float64, and the reverse
    assert func(c, np.array(TREATMENT, dtype=np.float64)) == ref_res
    assert func(np.array(CONTROL, dtype=np.float64), t) == ref_res
    if func is neyman.ttest:
        _assert_reference(res, _welch_reference(np.array(CONTROL), np.array(TREATMENT)), 1e-10)


def _binary_kinds(values: list[int]) -> list[tuple[str, Any]]:
    b = np.array(values, dtype=bool)
    return [
        *_kinds(values),
        ("bool", b),
        ("list-bool", [bool(v) for v in values]),
        ("pandas-bool", pd.Series(b)),
        ("pandas-boolean", pd.Series(b, dtype="boolean")),
        ("polars-bool", pl.Series(b)),
        ("arrow-bool", pa.chunked_array([pa.array(b)])),
    ]


PROP_C = [0, 1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0]
PROP_T = [1, 1, 0, 1, 0, 0, 1, 0, 1, 1, 0, 0, 1, 0, 1, 0, 1, 1, 0, 0]
BINARY_KIND_NAMES = [name for name, _ in _binary_kinds(PROP_C)]


@pytest.mark.parametrize("kind", BINARY_KIND_NAMES)
def test_input_kinds_agree_proportions(kind: str) -> None:
    c = dict(_binary_kinds(PROP_C))[kind]
    t = dict(_binary_kinds(PROP_T))[kind]
    ref_res = neyman.proportions(np.array(PROP_C, dtype=float), np.array(PROP_T, dtype=float))
    res = neyman.proportions(c, t)
    assert res == ref_res
    assert res == neyman.proportions(
        neyman.ProportionStats(sum(PROP_C), len(PROP_C)),
        neyman.ProportionStats(sum(PROP_T), len(PROP_T)),
    )
    # hand computation: pooled z-test for two proportions
    nc, nt = len(PROP_C), len(PROP_T)
    pc, pt = sum(PROP_C) / nc, sum(PROP_T) / nt
    pooled = (sum(PROP_C) + sum(PROP_T)) / (nc + nt)
    z = (pt - pc) / math.sqrt(pooled * (1 - pooled) * (1 / nc + 1 / nt))
    ref = {"effect": pt - pc, "statistic": z, "pvalue": 2 * float(scipy.stats.norm.sf(abs(z)))}
    _assert_reference(res, ref, 1e-10)


NUM_C = [3, 0, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 3]
DEN_C = [5, 4, 6, 3, 8, 12, 5, 9, 7, 6, 6, 11, 10, 9, 12, 4]
NUM_T = [2, 7, 1, 8, 2, 8, 1, 8, 2, 8, 4, 5, 9, 0, 4, 5, 2, 3]
DEN_T = [4, 9, 3, 9, 5, 10, 2, 11, 3, 9, 6, 6, 12, 2, 6, 7, 3, 4]


def _delta_ratio(num: list[int], den: list[int]) -> tuple[float, float]:
    """Ratio of means and its delta-method variance (Deng, Knoblich, Lu 2018, eq. 2)."""
    x, y = np.array(num, dtype=float), np.array(den, dtype=float)
    n = x.size
    mx, my = x.mean(), y.mean()
    sxx, syy = x.var(ddof=1), y.var(ddof=1)
    sxy = float(np.cov(x, y, ddof=1)[0, 1])
    var = (sxx / my**2 - 2 * mx * sxy / my**3 + mx**2 * syy / my**4) / n
    return mx / my, var


@pytest.mark.parametrize("kind", KIND_NAMES)
def test_input_kinds_agree_ratio(kind: str) -> None:
    k = {name: i for i, name in enumerate(KIND_NAMES)}[kind]
    args = [_kinds(v)[k][1] for v in (NUM_C, DEN_C, NUM_T, DEN_T)]
    f = [np.array(v, dtype=np.float64) for v in (NUM_C, DEN_C, NUM_T, DEN_T)]
    ref_res = neyman.ratio(*f)
    res = neyman.ratio(*args)
    assert res == ref_res
    assert neyman.ratio(args[0], f[1], f[2], args[3]) == ref_res
    rc, vc = _delta_ratio(NUM_C, DEN_C)
    rt, vt = _delta_ratio(NUM_T, DEN_T)
    z = (rt - rc) / math.sqrt(vc + vt)
    ref = {
        "control_value": rc,
        "treatment_value": rt,
        "effect": rt - rc,
        "se": math.sqrt(vc + vt),
        "statistic": z,
        "pvalue": 2 * float(scipy.stats.norm.sf(abs(z))),
    }
    _assert_reference(res, ref, 1e-10)


def _experiment_pandas() -> pd.DataFrame:
    c, t = np.array(CONTROL, dtype=float), np.array(TREATMENT, dtype=float)
    n = min(len(c), len(t))
    # interleave the arms, then append the rest of the treatment arm
    arms = ["c", "t"] * n + ["t"] * (len(t) - n)
    y = np.concatenate([np.column_stack([c[:n], t[:n]]).ravel(), t[n:]])
    return pd.DataFrame({"arm": arms, "y": y})


def _as_frame(kind: str, df: pd.DataFrame) -> Any:
    if kind == "pandas":
        return df
    if kind == "pandas-nullable":
        return df.astype({"y": "Float64", "arm": "string"})
    if kind == "polars":
        return pl.from_pandas(df)
    if kind == "pyarrow":
        return pa.Table.from_pandas(df, preserve_index=False)
    raise ValueError(kind)


FRAME_KINDS = ["pandas", "pandas-nullable", "polars", "pyarrow"]


@pytest.mark.parametrize("kind", FRAME_KINDS)
def test_frame_kinds_agree(kind: str) -> None:
    df = _as_frame(kind, _experiment_pandas())
    res = neyman.ttest(df, metric="y", variant="arm", control="c")
    assert len(res) == 1
    reference = neyman.ttest(_experiment_pandas(), metric="y", variant="arm", control="c")
    assert res == reference
    exp = neyman.Experiment(df, variant="arm", control="c").analyze(neyman.Mean("y"))
    assert exp[0] == res[0]
    # and the same numbers as arrays, and as scipy
    arrays = neyman.ttest(np.array(CONTROL, dtype=float), np.array(TREATMENT, dtype=float))
    for name in FLOAT_FIELDS:
        assert math.isclose(getattr(res[0], name), getattr(arrays, name), rel_tol=1e-12), name
    assert (res[0].n_control, res[0].n_treatment) == (len(CONTROL), len(TREATMENT))
    assert (res[0].control, res[0].treatment) == ("c", "t")
    _assert_reference(res[0], _welch_reference(np.array(CONTROL), np.array(TREATMENT)), 1e-10)


# --------------------------------------------------------------------------------------------
# Nulls are NaN: nan_policy applies to them
# --------------------------------------------------------------------------------------------

WITH_NULL = [3.0, None, 4.0, 1.0, None, 9.0, 2.0, 6.0, 5.0, None]
NULL_FREE = np.array([v for v in WITH_NULL if v is not None])


def _null_kinds() -> list[Any]:
    return [
        pytest.param(pd.Series(WITH_NULL, dtype="Float64"), id="pandas-Float64"),
        pytest.param(
            pd.Series([None if v is None else int(v) for v in WITH_NULL], dtype="Int64"),
            id="pandas-Int64",
        ),
        pytest.param(pd.Series(WITH_NULL, dtype="float64[pyarrow]"), id="pandas-arrow"),
        pytest.param(pl.Series(WITH_NULL, dtype=pl.Float64), id="polars-f64"),
        pytest.param(pl.Series(WITH_NULL, dtype=pl.Int32, strict=False), id="polars-i32"),
        pytest.param(pa.chunked_array([WITH_NULL[:4], WITH_NULL[4:]]), id="arrow-chunked"),
        pytest.param(pa.array(WITH_NULL), id="arrow-array"),
        pytest.param(np.array([math.nan if v is None else v for v in WITH_NULL]), id="numpy-nan"),
    ]


@pytest.mark.parametrize("x", _null_kinds())
@pytest.mark.parametrize("arm", ["control", "treatment"])
def test_nulls_follow_nan_policy(x: Any, arm: str) -> None:
    other = np.array(TREATMENT, dtype=float)
    args = (x, other) if arm == "control" else (other, x)
    with pytest.raises(neyman.InputError, match=rf"^{arm} has 3 NaN values"):
        neyman.ttest(*args, nan_policy="raise")
    propagated = neyman.ttest(*args)
    for name in ("effect", "se", "ci_low", "ci_high", "statistic", "pvalue"):
        assert math.isnan(getattr(propagated, name)), name
    omitted = neyman.ttest(*args, nan_policy="omit")
    dropped = neyman.ttest(*((NULL_FREE, other) if arm == "control" else (other, NULL_FREE)))
    assert_close_results(omitted, dropped)


@pytest.mark.parametrize(
    "x",
    [
        pytest.param(
            pd.Series([True, None, False, True, None, False], dtype="boolean"), id="pandas-boolean"
        ),
        pytest.param(pd.Series([1, None, 0, 1, None, 0], dtype="Int8"), id="pandas-Int8"),
        pytest.param(pl.Series([True, None, False, True, None, False]), id="polars-bool"),
        pytest.param(pa.chunked_array([[1, None, 0], [1, None, 0]]), id="arrow-int"),
    ],
)
def test_binary_nulls_follow_nan_policy(x: Any) -> None:
    other = np.array(PROP_T, dtype=float)
    with pytest.raises(neyman.InputError, match=r"^control has 2 NaN values"):
        neyman.proportions(x, other, nan_policy="raise")
    assert math.isnan(neyman.proportions(x, other).pvalue)
    assert_close_results(
        neyman.proportions(x, other, nan_policy="omit"),
        neyman.proportions(np.array([1.0, 0.0, 1.0, 0.0]), other),
    )


@pytest.mark.parametrize("kind", ["pandas-nullable", "polars", "pyarrow"])
def test_frame_nulls_follow_nan_policy(kind: str) -> None:
    base = _experiment_pandas()
    null_rows = [2, 7, 30]
    y: list[float | None] = [None if i in null_rows else v for i, v in enumerate(base["y"])]
    with_null = pd.DataFrame({"arm": base["arm"], "y": pd.array(y, dtype="Float64")})
    if kind == "polars":
        df: Any = pl.DataFrame({"arm": list(base["arm"]), "y": y})
    elif kind == "pyarrow":
        df = pa.table({"arm": list(base["arm"]), "y": pa.array(y, type=pa.float64())})
    else:
        df = with_null
    n_null = {arm: sum(1 for i in null_rows if base["arm"][i] == arm) for arm in ("c", "t")}
    exp = neyman.Experiment(df, variant="arm", control="c")
    with pytest.raises(neyman.InputError, match=r"NaN values"):
        exp.analyze(neyman.Mean("y"), nan_policy="raise")
    first_bad = "c" if n_null["c"] else "t"
    with pytest.raises(
        neyman.InputError, match=rf"arm '{first_bad}' of metric 'y' has {n_null[first_bad]} NaN"
    ):
        neyman.ttest(df, metric="y", variant="arm", control="c", nan_policy="raise")
    assert math.isnan(exp.analyze(neyman.Mean("y"))[0].pvalue)
    omitted = exp.analyze(neyman.Mean("y"), nan_policy="omit")[0]
    dropped = base.drop(index=null_rows)
    reference = neyman.ttest(dropped, metric="y", variant="arm", control="c")[0]
    assert_close_results(omitted, reference)


# --------------------------------------------------------------------------------------------
# Variant labels
# --------------------------------------------------------------------------------------------

THREE_ARMS = {
    "a": [3.0, -1.0, 4.0, 1.0, -5.0, 9.0, 2.0, -6.0, 5.0],
    "b": [2.0, 7.0, 1.0, 8.0, 2.0, 8.0, 1.0, 8.0, 2.0, 8.0],
    "c": [1.0, 4.0, 1.0, 4.0, 2.0, 1.0, 3.0, 5.0],
}


def _three_arm_frame(labels: dict[str, Any]) -> pd.DataFrame:
    # rows interleaved, so no arm is contiguous
    rows: list[tuple[Any, float]] = []
    longest = max(len(v) for v in THREE_ARMS.values())
    for i in range(longest):
        for arm, values in THREE_ARMS.items():
            if i < len(values):
                rows.append((labels[arm], values[i]))
    return pd.DataFrame(rows, columns=["arm", "y"])


LABELINGS = {
    "str": {"a": "a", "b": "b", "c": "c"},
    "str-other": {"a": "zeta", "b": "alpha", "c": "Mu"},
    "int": {"a": 0, "b": 1, "c": 2},
    "int-unordered": {"a": 7, "b": -3, "c": 100},
}


def _labelled(kind: str, labels: dict[str, Any]) -> Any:
    df = _three_arm_frame(labels)
    if kind == "pandas-categorical":
        return df.assign(arm=pd.Categorical(df["arm"]))
    if kind == "pandas-int32":
        return df.astype({"arm": "int32"}) if isinstance(labels["a"], int) else df
    if kind == "polars":
        return pl.from_pandas(df)
    if kind == "polars-categorical":
        return pl.from_pandas(df).with_columns(pl.col("arm").cast(pl.String).cast(pl.Categorical))
    if kind == "polars-enum":
        cats = [str(v) for v in labels.values()]
        return pl.from_pandas(df).with_columns(pl.col("arm").cast(pl.String).cast(pl.Enum(cats)))
    if kind == "pyarrow":
        return pa.Table.from_pandas(df, preserve_index=False)
    return df


LABEL_FRAME_KINDS = [
    "pandas",
    "pandas-categorical",
    "pandas-int32",
    "polars",
    "polars-categorical",
    "polars-enum",
    "pyarrow",
]


@pytest.mark.parametrize("labeling", sorted(LABELINGS))
@pytest.mark.parametrize("kind", LABEL_FRAME_KINDS)
@pytest.mark.parametrize("control", ["a", "b", "c"])
def test_labels_and_any_control(labeling: str, kind: str, control: str) -> None:
    labels = LABELINGS[labeling]
    if kind.startswith(("polars-categorical", "polars-enum")):
        labels = {k: str(v) for k, v in labels.items()}
    df = _labelled(kind, labels)
    res = neyman.Experiment(df, variant="arm", control=labels[control]).analyze(neyman.Mean("y"))
    others = [arm for arm in THREE_ARMS if arm != control]
    assert len(res) == 2
    by_treatment = {r.treatment: r for r in res}
    assert set(by_treatment) == {str(labels[arm]) for arm in others}
    for arm in others:
        r = res["y", labels[arm]]
        assert r is by_treatment[str(labels[arm])]
        assert r.control == str(labels[control])
        ref = neyman.ttest(np.array(THREE_ARMS[control]), np.array(THREE_ARMS[arm]))
        for name in FLOAT_FIELDS:
            assert math.isclose(getattr(r, name), getattr(ref, name), rel_tol=1e-12), name
        assert (r.n_control, r.n_treatment) == (len(THREE_ARMS[control]), len(THREE_ARMS[arm]))
        _assert_reference(
            r, _welch_reference(np.array(THREE_ARMS[control]), np.array(THREE_ARMS[arm])), 1e-10
        )


@pytest.mark.parametrize("control", ["a", "b", "c"])
def test_label_type_does_not_change_numbers(control: str) -> None:
    results = []
    for labeling, labels in LABELINGS.items():
        for kind in LABEL_FRAME_KINDS:
            lab = labels
            if kind.startswith(("polars-categorical", "polars-enum")):
                lab = {k: str(v) for k, v in labels.items()}
            df = _labelled(kind, lab)
            res = neyman.ttest(df, metric="y", variant="arm", control=lab[control])
            inverse = {str(v): k for k, v in lab.items()}
            rows = sorted(
                (inverse[r.treatment], tuple(getattr(r, f) for f in FLOAT_FIELDS)) for r in res
            )
            results.append(((labeling, kind), rows))
    first_rows = results[0][1]
    for key, rows in results[1:]:
        assert rows == first_rows, key


def test_categorical_with_unused_category() -> None:
    df = _three_arm_frame(LABELINGS["str"])
    cat = df.assign(arm=pd.Categorical(df["arm"], categories=["a", "b", "c", "unused"]))
    res = neyman.ttest(cat, metric="y", variant="arm", control="a")
    assert [r.treatment for r in res] == ["b", "c"]
    assert res == neyman.ttest(df, metric="y", variant="arm", control="a")


def test_mapping_of_arms_matches_pairs() -> None:
    control = np.array(THREE_ARMS["a"])
    res = neyman.ttest(control, {"b": THREE_ARMS["b"], "c": THREE_ARMS["c"]})
    assert [r.treatment for r in res] == ["b", "c"]
    for r in res:
        pair = neyman.ttest(control, THREE_ARMS[r.treatment])
        for name in FLOAT_FIELDS:
            assert getattr(r, name) == getattr(pair, name), name


# --------------------------------------------------------------------------------------------
# Results render
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def example() -> neyman.AnalysisResult:
    df = pd.read_parquet(DATA)
    exp = neyman.Experiment(
        df,
        variant="arm",
        control="control",
        planned_split={"control": 0.5, "treatment_a": 0.25, "treatment_b": 0.25},
        unit="user_id",
    )
    return exp.analyze(
        neyman.Mean("revenue"),
        neyman.Proportion("converted"),
        neyman.Ratio("clicks", "impressions"),
    )


METRICS = ("revenue", "converted", "clicks/impressions")
ARMS = ("treatment_a", "treatment_b")


def test_analysis_repr(example: neyman.AnalysisResult) -> None:
    text = repr(example)
    assert str(example) == text
    for name in (*METRICS, *ARMS, "control", "effect", "pvalue"):
        assert name in text
    assert "SRM" in text
    assert len(example) == 6


def test_test_result_repr() -> None:
    res = neyman.Experiment(
        pd.DataFrame({"arm": ["c", "t"] * 4, "spend_eur": [1.0, 2, 3, 5, 2, 2, 4, 7]}),
        variant="arm",
        control="c",
    ).analyze(neyman.Mean("spend_eur"))
    assert "spend_eur" in repr(res[0])
    assert "spend_eur" in repr(res)
    arrays = neyman.ttest([1.0, 2.0, 3.0], [2.0, 4.0, 5.0])
    assert "welch" in repr(arrays)
    assert "%" in repr(arrays)  # relative effects as percentages


def test_html_is_escaped() -> None:
    evil = "<script>alert('x')</script>"
    df = pd.DataFrame(
        {"arm": ["c<b>", "t&u"] * 4, "y": [1.0, 2, 3, 5, 2, 2, 4, 7], "z": [0, 1, 1, 1, 0, 1, 0, 0]}
    )
    res = neyman.Experiment(df, variant="arm", control="c<b>").analyze(
        neyman.Mean("y", name=evil), neyman.Proportion("z", name="a & b")
    )
    for obj in (res, res[0]):
        out = obj._repr_html_()
        assert out.lstrip().startswith('<div class="neyman-result"><style>')
        assert "<table>" in out
        assert "<script" not in out.lower()
        assert "&lt;script&gt;" in out
        assert "<b>" not in out
        assert "c&lt;b&gt;" in out
        assert "t&amp;u" in out
    assert "a &amp; b" in res._repr_html_()
    srm_html = res.srm._repr_html_()
    assert "c&lt;b&gt;" in srm_html
    assert "<b>" not in srm_html
    assert evil in repr(res)  # the text view shows the name as given


def test_to_dict(example: neyman.AnalysisResult) -> None:
    d = example.to_dict()
    assert set(d) == {"comparisons", "srm"}
    assert len(d["comparisons"]) == 6
    for row, comp in zip(d["comparisons"], example, strict=True):
        assert set(FIELDS) <= set(row)
        for name in FIELDS:
            assert row[name] == getattr(comp, name), name
        assert comp.to_dict() == row
    srm = d["srm"]
    assert srm is not None
    for name in ("statistic", "pvalue", "df", "observed", "expected", "mismatch"):
        assert srm[name] == getattr(example.srm, name), name
    assert sum(srm["observed"].values()) == 200_000


def test_to_pandas(example: neyman.AnalysisResult) -> None:
    df = example.to_pandas()
    assert isinstance(df, pd.DataFrame)
    assert set(FIELDS) <= set(df.columns)
    assert len(df) == 6
    for i, comp in enumerate(example):
        for name in FIELDS:
            assert df[name].iloc[i] == getattr(comp, name), name
    one = example[0].to_pandas()
    assert len(one) == 1
    assert set(FIELDS) <= set(one.columns)
    srm_df = example.srm.to_pandas()
    assert len(srm_df) == 3


def test_to_polars(example: neyman.AnalysisResult) -> None:
    df = example.to_polars()
    assert isinstance(df, pl.DataFrame)
    assert set(FIELDS) <= set(df.columns)
    assert df.height == 6
    for i, comp in enumerate(example):
        for name in FIELDS:
            assert df[name][i] == getattr(comp, name), name
    assert example[1].to_polars().height == 1
    assert example.srm.to_polars().height == 3


def test_plot_returns_axes(example: neyman.AnalysisResult) -> None:
    ax = example.plot()
    assert isinstance(ax, matplotlib.axes.Axes)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert len(labels) == 6
    for metric in METRICS:
        assert any(metric in lab for lab in labels)
    _, own = plt.subplots()
    assert example.plot(ax=own) is own


def test_plot_with_unbounded_interval() -> None:
    # A one-sided alternative gives an interval open on one side; the plot must still draw.
    rng = np.random.default_rng(3)
    df = pd.DataFrame({"arm": ["c", "t"] * 50, "y": rng.normal(10.0, 1.0, 100)})
    res = neyman.Experiment(df, variant="arm", control="c").analyze(
        neyman.Mean("y"), alternative="greater"
    )
    assert math.isinf(res[0].ci_high)
    assert isinstance(res.plot(), matplotlib.axes.Axes)


def test_indexing(example: neyman.AnalysisResult) -> None:
    r = example["revenue", "treatment_a"]
    assert (r.metric, r.treatment, r.control) == ("revenue", "treatment_a", "control")
    assert example[0] is r
    assert example["clicks/impressions", "treatment_b"] is example[5]
    assert list(example) == list(example.comparisons)
    with pytest.raises(KeyError):
        example["revenue", "treatment_c"]
    with pytest.raises(KeyError):
        example["latency", "treatment_a"]
    with pytest.raises(IndexError):
        example[6]


def test_indexing_integer_labels() -> None:
    df = _three_arm_frame(LABELINGS["int"])
    res = neyman.ttest(df, metric="y", variant="arm", control=0)
    assert res["y", 1].treatment == "1"
    assert res["y", 2] is res[1]


def test_results_are_frozen(example: neyman.AnalysisResult) -> None:
    objects: list[tuple[Any, str, Any]] = [
        (example[0], "effect", 0.0),
        (example[0], "pvalue", 0.5),
        (example, "comparisons", ()),
        (example, "srm", None),
        (example.srm, "mismatch", True),
        (neyman.MeanStats(3, 1.0, 2.0), "n", 4),
        (neyman.ProportionStats(1, 3), "successes", 2),
        (neyman.RatioStats(3, 1.0, 2.0, 1.0, 1.0, 0.0), "mean_den", 3.0),
        (neyman.Mean("y"), "column", "z"),
        (neyman.Proportion("y"), "column", "z"),
        (neyman.Ratio("y", "z"), "denominator", "w"),
    ]
    for obj, name, value in objects:
        before = getattr(obj, name)
        # Statistic objects are frozen classes of the compiled module (AttributeError, of which
        # dataclasses' FrozenInstanceError is a subclass); results and metrics are dataclasses.
        stats = isinstance(obj, neyman.MeanStats | neyman.ProportionStats | neyman.RatioStats)
        expected = AttributeError if stats else dataclasses.FrozenInstanceError
        with pytest.raises(expected, match="not writable" if stats else None):
            setattr(obj, name, value)
        assert getattr(obj, name) == before
    with contextlib.suppress(TypeError):
        hash(example[0])  # hashable or not, hashing must not change anything
    assert example["revenue", "treatment_a"] is example[0]
