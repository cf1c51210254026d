"""Input conversion (issue #8): defects a new user met, each through the public API.

What is checked:

- Label columns (the variant) are encoded by one vectorised encoder, whatever their type: strings
  (pandas object / ``string`` / ``string[pyarrow]`` / categorical, polars String / Categorical /
  Enum, pyarrow string / large_string / ``string_view`` / dictionary, chunked with a different
  dictionary per chunk), bytes (``binary_view``), integers (coded 0..k-1 or not, negative,
  sparse, beyond 2**53 and 2**63), floats, booleans, dates and time-zone-aware timestamps, Decimal,
  mixed Python objects. Every kind gives the numbers of the per-arm arrays, the control first and
  the other arms sorted. ``encode_labels`` itself is compared with a pandas reference (sorted
  levels, missing as -1) on every backend, as a drop-in for ``category_codes``.
- 64-bit integers that float64 cannot hold (beyond 2**53 in magnitude) raise ``InputError``
  naming the argument or column and the largest magnitude, for numpy int64 / uint64 (including
  uint64 beyond 2**63, which used to give "both arms are constant"), pandas (numpy and nullable),
  polars (Int64, UInt64, Int128) and pyarrow; +/-2**53 itself is accepted.
- numpy masked arrays: masked entries are NaN, so ``nan_policy`` governs them; the values under
  the mask are never read as numbers (a huge masked integer is not an error) or written.
- pandas Series pairs of one arm (``cuped(y_c, x_c, ...)``, ``ratio(num_c, den_c, ...)``) with
  different indexes are refused; equal indexes, numpy arrays and ``.to_numpy()`` pass.
- No third-party exception escapes: duplicated column names (pandas, pyarrow), ``string_view``
  and ``binary_view`` arm columns, big-endian numpy columns in pandas frames and big-endian
  arrays, object / categorical / datetime / Decimal / nested columns, nullable pandas dtypes,
  unhashable or un-encodable labels.
- The caller's data are never modified on any of these paths (compared with a deep copy).

Tolerances: frame results are compared with the per-arm array results at ``rtol = 1e-12`` (the
grouped kernel sees the same values in the same order; only merge grouping may differ by a few
ulp, as in ``test_inputs.py``). Results of two inputs holding identical float64 values through the
same path are compared exactly.
"""

from __future__ import annotations

import datetime
import decimal
import math
import re
from collections.abc import Callable
from typing import Any

import neyman
import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
from neyman import InputError, InputTypeError
from neyman._convert import encode_labels

from tests.conftest import FLOAT_FIELDS, check_raises
from tests.validation.test_inputs import assert_unchanged, call_and_check, snapshot

# --------------------------------------------------------------------------------------------
# Shared data: three arms, interleaved rows
# --------------------------------------------------------------------------------------------

N_PER_ARM = (40, 35, 30)


def _arm_values() -> list[np.ndarray]:
    rng = np.random.default_rng(8)
    return [np.round(rng.normal(10 + k, 2, n), 3) for k, n in enumerate(N_PER_ARM)]


def _interleaved() -> tuple[np.ndarray, np.ndarray]:
    """Arm index (0, 1, 2) and y of each row, arms in a shuffled order of rows."""
    values = _arm_values()
    arm = np.concatenate([np.full(n, k) for k, n in enumerate(N_PER_ARM)])
    y = np.concatenate(values)
    order = np.random.default_rng(9).permutation(len(y))
    return arm[order], y[order]


def _close(r: neyman.TestResult, ref: neyman.TestResult) -> None:
    for name in FLOAT_FIELDS:
        a, b = getattr(r, name), getattr(ref, name)
        assert a == b or math.isclose(a, b, rel_tol=1e-12), (name, a, b)
    assert (r.n_control, r.n_treatment) == (ref.n_control, ref.n_treatment)


def _check_three_arms(df: Any, labels: list[Any], control: int) -> None:
    """``df`` codes arm k as ``labels[k]``: every comparison matches the per-arm arrays, the
    control comes first and the others in sorted order; the frame is not modified."""
    snap = snapshot(df)
    res = neyman.ttest(df, metric="y", variant="arm", control=labels[control])
    assert_unchanged(df, snap)
    values = _arm_values()
    others = sorted(
        (k for k in range(3) if k != control), key=lambda k: (str(type(labels[k])), labels[k])
    )
    assert [r.treatment for r in res] == [str(labels[k]) for k in others]
    for r, k in zip(res, others, strict=True):
        assert r.control == str(labels[control])
        _close(r, neyman.ttest(values[control], values[k]))
    exp = neyman.Experiment(df, variant="arm", control=labels[control])
    assert exp.arms == [labels[control], *(labels[k] for k in others)]
    assert exp.srm().observed == {labels[k]: N_PER_ARM[k] for k in range(3)}


def nw_labels(df: Any) -> list[Any]:
    """The arm column as Python values."""
    if isinstance(df, pa.Table):
        return [str(v) for v in df.column("arm").to_pylist()]
    return [str(v) for v in df["arm"].to_list()]


def _label_frames() -> list[Any]:
    arm, y = _interleaved()
    s = np.array(["treat_b", "control", "treat_a"])[arm]
    base = pd.DataFrame({"arm": s, "y": y})
    pl_base = pl.DataFrame({"arm": s, "y": y})
    view = pl_base.to_arrow(compat_level=pl.CompatLevel.newest())
    table = pa.table({"arm": s, "y": y})
    half = len(y) // 2
    # one dictionary per chunk, in different orders
    chunked_dict = pa.Table.from_batches(
        [
            pa.record_batch({"arm": pa.array(s[:half]).dictionary_encode(), "y": y[:half]}),
            pa.record_batch(
                {
                    "arm": pa.DictionaryArray.from_arrays(
                        pa.array(
                            np.searchsorted(["control", "treat_a", "treat_b"], s[half:]),
                            pa.int32(),
                        ),
                        pa.array(["control", "treat_a", "treat_b"]),
                    ),
                    "y": y[half:],
                }
            ),
        ]
    )
    labels = ["treat_b", "control", "treat_a"]
    frames = [
        ("pandas-object", base),
        ("pandas-string", base.astype({"arm": "string"})),
        ("pandas-string-pyarrow", base.astype({"arm": "string[pyarrow]"})),
        ("pandas-categorical", base.assign(arm=pd.Categorical(s, categories=[*labels, "zz"]))),
        ("polars", pl_base),
        ("polars-categorical", pl_base.with_columns(pl.col("arm").cast(pl.Categorical))),
        (
            "polars-enum",
            pl_base.with_columns(pl.col("arm").cast(pl.Enum(["treat_a", *labels[:2]]))),
        ),
        ("pyarrow", table),
        ("pyarrow-large-string", table.set_column(0, "arm", pa.array(s, pa.large_string()))),
        ("pyarrow-string-view", view),
        ("pyarrow-dictionary", table.set_column(0, "arm", pa.array(s).dictionary_encode())),
        ("pyarrow-chunked-dictionaries", chunked_dict),
    ]
    return [pytest.param(df, labels, id=name) for name, df in frames]


@pytest.mark.parametrize(("df", "labels"), _label_frames())
@pytest.mark.parametrize("control", [0, 1, 2])
def test_string_label_kinds(df: Any, labels: list[Any], control: int) -> None:
    # the frame holds the labels it claims (the chunked dictionaries are built by hand)
    arm = _interleaved()[0]
    assert nw_labels(df) == [labels[k] for k in arm]
    _check_three_arms(df, labels, control)


def test_string_view_arm_column_from_polars() -> None:
    """The reported case: ``pl_df.to_arrow(compat_level=newest)`` used to raise
    ``ArrowNotImplementedError``."""
    arm, y = _interleaved()
    s = np.array(["c", "t1", "t2"])[arm]
    table = pl.DataFrame({"arm": s, "y": y}).to_arrow(compat_level=pl.CompatLevel.newest())
    assert table.schema.field("arm").type == pa.string_view()
    ref = neyman.ttest(pd.DataFrame({"arm": s, "y": y}), metric="y", variant="arm", control="c")
    for call in (
        lambda d: neyman.ttest(d, metric="y", variant="arm", control="c"),
        lambda d: neyman.Experiment(d, variant="arm", control="c").analyze(neyman.Mean("y")),
    ):
        res = call(table)
        assert [r.treatment for r in res] == ["t1", "t2"]
        for r, r0 in zip(res, ref, strict=True):
            _close(r, r0)


def test_binary_view_arm_column() -> None:
    arm, y = _interleaved()
    b = np.array([b"c", b"t1", b"t2"], dtype=object)[arm]
    table = pl.DataFrame({"arm": list(b), "y": y}).to_arrow(compat_level=pl.CompatLevel.newest())
    assert table.schema.field("arm").type == pa.binary_view()
    _check_three_arms(table, [b"c", b"t1", b"t2"], 0)


def _other_label_kinds() -> list[Any]:
    day = datetime.date(2024, 3, 1)
    one = datetime.timedelta(days=1)
    cases: dict[str, list[Any]] = {
        "int64-0-1-2": [0, 1, 2],
        "int8-unordered": [7, -3, 100],
        "int64-sparse": [10**12, -5, 3 * 10**15],
        "int64-beyond-2**53": [2**62 + 1, 2**62, 2**53 + 1],
        "uint64-beyond-2**63": [2**64 - 1, 2**63, 2**63 + 1],
        "float": [1.5, -0.5, 2.25],
        "date": [day, day + one, day - one],
        "datetime-tz": [datetime.datetime(2024, 1, d, tzinfo=datetime.UTC) for d in (3, 1, 2)],
        "decimal": [decimal.Decimal("1.5"), decimal.Decimal("0.5"), decimal.Decimal("2.0")],
    }
    return [pytest.param(name, labels, id=name) for name, labels in cases.items()]


def _frames_with_labels(name: str, labels: list[Any]) -> list[tuple[str, Any]]:
    arm, y = _interleaved()
    if name.startswith("uint64"):
        col = np.array(labels, dtype=np.uint64)[arm]
    elif name.startswith("int8"):
        col = np.array(labels, dtype=np.int8)[arm]
    elif name.startswith("int") or name == "float":
        col = np.array(labels)[arm]
    else:
        col = np.array(labels, dtype=object)[arm]
    frames: list[tuple[str, Any]] = []
    if name == "decimal":
        frames.append(("pandas", pd.DataFrame({"arm": col, "y": y})))
        frames.append(("pyarrow", pa.table({"arm": pa.array(list(col)), "y": y})))
        frames.append(("polars", pl.DataFrame({"arm": pl.Series(list(col)), "y": y})))
        return frames
    if name == "date":
        pdf = pd.DataFrame({"arm": list(col), "y": y})
        frames.append(("pandas-object", pdf))
        frames.append(("polars", pl.DataFrame({"arm": list(col), "y": y})))
        frames.append(("pyarrow", pa.table({"arm": pa.array(list(col)), "y": y})))
        return frames
    if name == "datetime-tz":
        pdf = pd.DataFrame({"arm": pd.to_datetime(list(col)), "y": y})
        frames.append(("pandas", pdf))
        frames.append(("polars", pl.from_pandas(pdf)))
        frames.append(("pyarrow", pa.Table.from_pandas(pdf, preserve_index=False)))
        return frames
    pdf = pd.DataFrame({"arm": col, "y": y})
    frames.append(("pandas", pdf))
    frames.append(("polars", pl.DataFrame({"arm": col, "y": y})))
    frames.append(("pyarrow", pa.table({"arm": col, "y": y})))
    if name.startswith("int"):
        frames.append(("pandas-Int64", pdf.astype({"arm": "Int64"})))
        frames.append(("pandas-categorical", pdf.assign(arm=pd.Categorical(col))))
    return frames


@pytest.mark.parametrize(("name", "labels"), _other_label_kinds())
@pytest.mark.parametrize("control", [0, 1, 2])
def test_other_label_kinds(name: str, labels: list[Any], control: int) -> None:
    for kind, df in _frames_with_labels(name, labels):
        try:
            _check_three_arms(df, labels, control)
        except AssertionError as exc:  # pragma: no cover - names the failing frame kind
            raise AssertionError(f"{kind}: {exc}") from exc


def test_mixed_object_labels() -> None:
    """Strings and integers in one pandas object column: sorted by type name, then value."""
    labels: list[Any] = ["b", 3, "a"]
    arm, y = _interleaved()
    df = pd.DataFrame({"arm": np.array(labels, dtype=object)[arm], "y": y})
    _check_three_arms(df, labels, 1)
    res = neyman.ttest(df, metric="y", variant="arm", control="b")
    assert [r.treatment for r in res] == ["3", "a"]  # <class 'int'> sorts before <class 'str'>


def test_boolean_labels() -> None:
    arm, y = _interleaved()
    keep = arm < 2
    for make in (pd.DataFrame, pl.DataFrame, pa.table):
        df = make({"arm": arm[keep] == 1, "y": y[keep]})
        res = neyman.ttest(df, metric="y", variant="arm", control=True)
        values = _arm_values()
        assert [r.treatment for r in res] == ["False"]
        _close(res[0], neyman.ttest(values[1], values[0]))


def test_many_labels() -> None:
    """300 arms: labels sorted, each comparison right (the encoder is one pass, not one per
    label)."""
    rng = np.random.default_rng(3)
    k, n = 300, 30_000
    arm = rng.integers(0, k, n)
    y = rng.normal(0, 1, n) + arm / k
    names = np.array([f"arm{i:03d}" for i in range(k)])
    cases: list[tuple[Any, Callable[[int], Any]]] = [
        (pd.DataFrame({"arm": names[arm], "y": y}), lambda i: f"arm{i:03d}"),
        (pl.DataFrame({"arm": names[arm], "y": y}), lambda i: f"arm{i:03d}"),
        (pa.table({"arm": names[arm], "y": y}), lambda i: f"arm{i:03d}"),
        (pd.DataFrame({"arm": arm * 1000 + 7, "y": y}), lambda i: i * 1000 + 7),
    ]
    for df, label in cases:
        res = neyman.ttest(df, metric="y", variant="arm", control=label(5))
        assert [r.treatment for r in res] == [str(label(i)) for i in range(k) if i != 5]
        for j in (0, 11, k - 1):
            r = res["y", label(j)]
            _close(r, neyman.ttest(y[arm == 5], y[arm == j]))


def test_missing_labels_nan_and_null() -> None:
    arm, y = _interleaved()
    lab = np.array([0.0, 1.0, 2.0])[arm]
    lab[[3, 8]] = np.nan
    for df in (
        pd.DataFrame({"arm": lab, "y": y}),
        pl.DataFrame({"arm": lab, "y": y}),  # NaN (not null) in polars
        pl.DataFrame({"arm": lab, "y": y}).with_columns(pl.col("arm").fill_nan(None)),
        pa.table({"arm": pa.array(lab, from_pandas=True), "y": y}),
        pd.DataFrame({"arm": pd.array(np.where(np.isnan(lab), None, lab), dtype="Int64"), "y": y}),
    ):
        check_raises(
            InputError,
            r"^variant column 'arm' has 2 missing values",
            neyman.ttest,
            df,
            metric="y",
            variant="arm",
            control=0,
        )


@pytest.mark.parametrize(
    "df",
    [
        pytest.param(pl.DataFrame({"arm": [[1], [2]] * 4, "y": np.arange(8.0)}), id="polars-list"),
        pytest.param(
            pl.DataFrame({"arm": [{"a": 1}, {"a": 2}] * 4, "y": np.arange(8.0)}), id="polars-struct"
        ),
        pytest.param(pa.table({"arm": [[1], [2]] * 4, "y": np.arange(8.0)}), id="pyarrow-list"),
    ],
)
def test_nested_label_column(df: Any) -> None:
    check_raises(
        InputTypeError,
        r"^variant column 'arm' has dtype (List|Struct).*labels must be scalars",
        neyman.ttest,
        df,
        metric="y",
        variant="arm",
        control=0,
    )


@pytest.mark.parametrize(
    "df",
    [
        pytest.param(pd.DataFrame({"arm": [[1], [2]] * 4, "y": np.arange(8.0)}), id="pandas-lists"),
        pytest.param(
            pl.DataFrame(
                {"arm": pl.Series([object(), object()] * 4, dtype=pl.Object), "y": np.arange(8.0)}
            ),
            id="polars-object",
        ),
    ],
)
def test_unencodable_label_column(df: Any) -> None:
    check_raises(
        InputTypeError,
        r"^variant column 'arm' (cannot be encoded as labels|has dtype)",
        neyman.ttest,
        df,
        metric="y",
        variant="arm",
        control=0,
    )


# --------------------------------------------------------------------------------------------
# encode_labels: the general encoder (control first; or sorted levels with missing -1)
# --------------------------------------------------------------------------------------------


def _reference_codes(values: list[Any]) -> tuple[list[int], list[Any]]:
    levels = sorted(
        {v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))},
        key=lambda v: (str(type(v)), v),
    )
    index = {v: i for i, v in enumerate(levels)}
    codes = [
        -1 if v is None or (isinstance(v, float) and math.isnan(v)) else index[v] for v in values
    ]
    return codes, levels


ENCODE_CASES = {
    "str": ["de", "fr", None, "us", "de", "fr", "de"],
    "int": [5, -2, 5, None, 40, -2, 0],
    "float": [0.5, math.nan, 2.5, -1.0, 0.5, None, 2.5],
}


def _encode_inputs(values: list[Any]) -> list[tuple[str, Any]]:
    is_str = isinstance(next(v for v in values if v is not None), str)
    out: list[tuple[str, Any]] = [
        ("pandas", pd.Series(values, dtype=object if is_str else None)),
        ("polars", pl.Series(values, strict=False)),
        (
            "pyarrow",
            pa.chunked_array(
                [pa.array(values[:3], from_pandas=True), pa.array(values[3:], from_pandas=True)]
            ),
        ),
        ("pyarrow-array", pa.array(values, from_pandas=True)),
    ]
    if is_str:
        out.append(("pandas-categorical", pd.Series(pd.Categorical(values))))
        out.append(("polars-categorical", pl.Series(values).cast(pl.Categorical)))
        out.append(("pyarrow-dictionary", pa.array(values).dictionary_encode()))
        out.append(("numpy-object", np.array(values, dtype=object)))
    elif all(v is not None for v in values):
        out.append(("numpy", np.array(values)))
    else:
        out.append(("numpy", np.array([math.nan if v is None else v for v in values], dtype=float)))
        if isinstance(values[0], int):
            out.append(("pandas-Int64", pd.Series(values, dtype="Int64")))
    return out


@pytest.mark.parametrize("case", sorted(ENCODE_CASES))
def test_encode_labels_sorted_levels_missing_minus_one(case: str) -> None:
    values = ENCODE_CASES[case]
    ref_codes, ref_levels = _reference_codes(values)
    for kind, series in _encode_inputs(values):
        codes, labels = encode_labels(series, name="column 'g'")
        assert codes.dtype == np.int32, kind
        assert codes.flags.c_contiguous, kind
        if case == "int" and kind == "numpy":
            continue  # no None in a numpy int array (covered by the other kinds)
        assert labels == ref_levels, kind
        assert codes.tolist() == ref_codes, kind
        # first moves one level to code 0, the rest stay sorted
        codes1, labels1 = encode_labels(series, name="column 'g'", first=ref_levels[-1])
        assert labels1 == [ref_levels[-1], *ref_levels[:-1]], kind
        assert [labels1[c] if c >= 0 else None for c in codes1] == [
            ref_levels[c] if c >= 0 else None for c in ref_codes
        ], kind
        # sort=False: any order, but codes and labels agree
        codes2, labels2 = encode_labels(series, name="column 'g'", sort=False)
        assert sorted(labels2, key=lambda v: (str(type(v)), v)) == ref_levels, kind
        assert [labels2[c] if c >= 0 else None for c in codes2] == [
            ref_levels[c] if c >= 0 else None for c in ref_codes
        ], kind
        check_raises(
            InputError,
            rf"^column 'g' has {ref_codes.count(-1)} missing values",
            encode_labels,
            series,
            name="column 'g'",
            missing="raise",
        )
        with pytest.raises(InputError, match="is not a value of column 'g'"):
            encode_labels(series, name="column 'g'", first="nope")


def test_encode_labels_matches_category_codes() -> None:
    """Drop-in for ``adjustment.category_codes`` (same codes; names are ``str`` of the labels)."""
    from neyman.adjustment import category_codes

    rng = np.random.default_rng(1)
    g = rng.choice(np.array(["us", "de", "fr", "jp"], dtype=object), 500)
    g[rng.random(500) < 0.05] = None
    frames: list[tuple[Any, Any]] = [
        (pd.DataFrame({"g": g}), pd.Series(g)),
        (pl.DataFrame({"g": list(g)}), pl.Series(list(g))),
        (pa.table({"g": list(g)}), pa.chunked_array([list(g)])),
    ]
    for df, series in frames:
        ref_codes, ref_names = category_codes(df, "g")
        codes, labels = encode_labels(series, name="column 'g'")
        assert codes.tolist() == ref_codes.tolist()
        assert [str(v) for v in labels] == ref_names


# --------------------------------------------------------------------------------------------
# 64-bit integers beyond 2**53
# --------------------------------------------------------------------------------------------

BIG = 2**53 + 1


def _big_message(name: str, value: int) -> str:
    return (
        rf"^{re.escape(name)} holds integers as large as {value} in magnitude; float64 holds "
        r"integers exactly only up to 2\*\*53.*(offset|explicitly)"
    )


@pytest.mark.parametrize(
    ("values", "extreme"),
    [
        pytest.param(np.array([1, 2, BIG], dtype=np.int64), BIG, id="int64"),
        pytest.param(np.array([-BIG, 2, 3], dtype=np.int64), -BIG, id="int64-negative"),
        pytest.param(np.array([1, 2, 2**63 + 5], dtype=np.uint64), 2**63 + 5, id="uint64-2**63"),
        pytest.param(np.array([1, 2, BIG], dtype=np.uint64), BIG, id="uint64"),
        pytest.param(np.array([1, 2, BIG], dtype=">i8"), BIG, id="int64-big-endian"),
        pytest.param([1, 2, BIG], BIG, id="list"),
        pytest.param(pd.Series([1, 2, BIG]), BIG, id="pandas"),
        pytest.param(pd.Series([1, None, BIG], dtype="Int64"), BIG, id="pandas-Int64-NA"),
        pytest.param(pd.Series([1, 2, 2**64 - 1], dtype="UInt64"), 2**64 - 1, id="pandas-UInt64"),
        pytest.param(pl.Series([1, None, BIG]), BIG, id="polars-null"),
        pytest.param(pl.Series([1, 2, 2**64 - 1], dtype=pl.UInt64), 2**64 - 1, id="polars-UInt64"),
        pytest.param(pl.Series([1, 2, 2**70], dtype=pl.Int128), 2**70, id="polars-Int128"),
        pytest.param(pa.chunked_array([[1, 2], [BIG]]), BIG, id="pyarrow"),
        pytest.param(pa.array([1, None, 2**64 - 1], pa.uint64()), 2**64 - 1, id="pyarrow-uint64"),
    ],
)
def test_integers_beyond_2_53_arrays(values: Any, extreme: int) -> None:
    ok = np.array([4.0, 5.0, 7.0])
    snap = snapshot(values)
    check_raises(InputError, _big_message("control", extreme), neyman.ttest, values, ok)
    check_raises(InputError, _big_message("treatment", extreme), neyman.ztest, ok, values)
    check_raises(
        InputError, _big_message("control covariate", extreme), neyman.cuped, ok, values, ok, ok
    )
    assert_unchanged(values, snap)


def test_uint64_beyond_2_63_was_both_arms_constant() -> None:
    c = np.array([2**63 + 1, 2**63 + 5, 2**63 + 9], dtype=np.uint64)
    t = np.array([2**63 + 2, 2**63 + 3, 2**63 + 7], dtype=np.uint64)
    check_raises(InputError, _big_message("control", 2**63 + 9), neyman.ttest, c, t)
    # the suggested fix works: an offset brings the values into range, exactly
    res = neyman.ttest(
        (c - np.uint64(2**63)).astype(np.int64), (t - np.uint64(2**63)).astype(np.int64)
    )
    ref = neyman.ttest(np.array([1.0, 5.0, 9.0]), np.array([2.0, 3.0, 7.0]))
    assert res == ref


@pytest.mark.parametrize("edge", [2**53, -(2**53)])
def test_integers_at_2_53_are_accepted(edge: int) -> None:
    x = np.array([edge, edge, edge - np.sign(edge) * 4], dtype=np.int64)
    res = neyman.ttest(x, np.array([edge, edge - np.sign(edge) * 2, edge], dtype=np.int64))
    assert res == neyman.ttest(
        x.astype(float), np.array([edge, edge - np.sign(edge) * 2, edge], dtype=float)
    )
    for s in (pd.Series(x), pl.Series(x), pa.chunked_array([x]), pd.Series(x, dtype="Int64")):
        assert neyman.ttest(s, np.array([float(edge)] * 2 + [1.0])).n_control == 3


@pytest.mark.parametrize(
    "values",
    [
        pytest.param(pd.Series([], dtype="int64"), id="pandas-empty"),
        pytest.param(pd.Series([], dtype="Int64"), id="pandas-Int64-empty"),
        pytest.param(pd.Series([None, None], dtype="Int64"), id="pandas-Int64-all-NA"),
        pytest.param(pl.Series([None, None], dtype=pl.UInt64), id="polars-all-null"),
        pytest.param(pa.chunked_array([[None, None]], pa.int64()), id="pyarrow-all-null"),
        pytest.param(np.array([], dtype=np.int64), id="numpy-empty"),
        pytest.param(np.ma.masked_array([1, 2], mask=[1, 1], dtype=np.int64), id="all-masked"),
    ],
)
def test_empty_or_all_missing_integers(values: Any) -> None:
    """No value to range-check: the usual size and NaN rules apply, no conversion error."""
    t = np.array([1.0, 2.0, 3.0])
    with pytest.raises((neyman.InsufficientDataError, InputError), match=r"^control has"):
        neyman.ttest(values, t, nan_policy="omit")


def _big_frames() -> list[Any]:
    arm = np.array([0, 1] * 4)
    y = np.array([1, 2, 3, BIG, 5, 6, 7, 8])
    pdf = pd.DataFrame({"arm": arm, "y": y, "x": np.arange(8)})
    return [
        pytest.param(pdf, id="pandas"),
        pytest.param(pdf.astype({"y": "Int64"}), id="pandas-Int64"),
        pytest.param(pdf.astype({"y": "uint64"}), id="pandas-uint64"),
        pytest.param(pl.from_pandas(pdf), id="polars"),
        pytest.param(pa.Table.from_pandas(pdf, preserve_index=False), id="pyarrow"),
    ]


@pytest.mark.parametrize("df", _big_frames())
def test_integers_beyond_2_53_frames(df: Any) -> None:
    msg = _big_message("column 'y'", BIG)
    kw: dict[str, Any] = {"variant": "arm", "control": 0}
    assert call_and_check(neyman.ttest, df, metric="y", **kw)
    check_raises(InputError, msg, neyman.ttest, df, metric="y", **kw)
    check_raises(InputError, msg, neyman.cuped, df, metric="x", covariate="y", **kw)
    check_raises(InputError, msg, neyman.ratio, df, numerator="y", denominator="x", **kw)
    exp = neyman.Experiment(df, **kw)
    check_raises(InputError, msg, exp.analyze, neyman.Mean("y"))
    check_raises(InputError, msg, exp.analyze, neyman.Mean("x", covariate="y"))


def test_int128_in_range_works() -> None:
    arm = [0, 1] * 4
    y = [1, 2, 3, 4, 5, 6, 7, 9]
    df = pl.DataFrame({"arm": arm, "y": pl.Series(y, dtype=pl.Int128)})
    ref = neyman.ttest(
        pl.DataFrame({"arm": arm, "y": pl.Series(y, dtype=pl.Float64)}),
        metric="y",
        variant="arm",
        control=0,
    )
    assert neyman.ttest(df, metric="y", variant="arm", control=0) == ref


# --------------------------------------------------------------------------------------------
# numpy masked arrays
# --------------------------------------------------------------------------------------------


def _masked(dtype: Any = float) -> np.ma.MaskedArray[Any, Any]:
    data = np.array([3, 1, 4, 1, 5, 9, 2, 6], dtype=dtype)
    return np.ma.masked_array(data, mask=[0, 0, 1, 0, 0, 1, 0, 0])


def _masked_snapshot(m: np.ma.MaskedArray[Any, Any]) -> tuple[bytes, bytes, bool, Any]:
    return (m.data.tobytes(), np.ma.getmaskarray(m).tobytes(), m.flags.writeable, m.fill_value)


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64, np.int32, ">f8", ">i8"])
def test_masked_arrays_are_nan(dtype: Any) -> None:
    m = _masked(dtype)
    t = np.array([2.0, 7.0, 1.0, 8.0, 2.0, 8.0])
    snap = _masked_snapshot(m)
    kept = m.compressed().astype(float)
    assert neyman.ttest(m, t, nan_policy="omit") == neyman.ttest(kept, t)
    assert neyman.ttest(t, m, nan_policy="omit") == neyman.ttest(t, kept)
    check_raises(
        InputError,
        r"^control has 2 NaN values \(nan_policy='raise'\)",
        neyman.ttest,
        m,
        t,
        nan_policy="raise",
    )
    res = neyman.ttest(m, t)  # propagate
    assert math.isnan(res.effect)
    assert res.n_control == 8
    # metric and covariate, masked in different places
    cov = np.ma.masked_array(np.arange(8.0), mask=[1, 0, 0, 0, 0, 0, 0, 0])
    both = ~(np.ma.getmaskarray(m) | np.ma.getmaskarray(cov))
    res = neyman.cuped(m, cov, t, t * 2, nan_policy="omit")
    ref = neyman.cuped(m.data[both].astype(float), cov.data[both], t, t * 2)
    _close(res, ref)
    assert _masked_snapshot(m) == snap


def test_masked_values_are_not_read() -> None:
    """A masked entry may hold anything (a sentinel beyond 2**53, NaN): it is never used."""
    m = np.ma.masked_array(np.array([1, 2, 3, 2**62], dtype=np.int64), mask=[0, 0, 0, 1])
    t = np.array([1.0, 2.0, 4.0])
    assert neyman.ttest(m, t, nan_policy="omit") == neyman.ttest(np.array([1.0, 2.0, 3.0]), t)
    unmasked_big = np.ma.masked_array(np.array([1, 2, 3, 2**62]), mask=[1, 0, 0, 0])
    check_raises(InputError, _big_message("control", 2**62), neyman.ttest, unmasked_big, t)


def test_masked_without_mask_and_boolean() -> None:
    plain = np.ma.masked_array(np.array([1.0, 2.0, 4.0]))
    t = np.array([2.0, 3.0, 5.0])
    assert neyman.ttest(plain, t) == neyman.ttest(np.array([1.0, 2.0, 4.0]), t)
    b = np.ma.masked_array(np.array([True, False, True, True]), mask=[0, 0, 0, 1])
    tb = np.array([True, False, False])
    snap = _masked_snapshot(b)
    res = neyman.proportions(b, tb, nan_policy="omit")
    assert res == neyman.proportions(np.array([True, False, True]), tb)
    check_raises(InputTypeError, r"^control has boolean dtype", neyman.ttest, b, tb)
    check_raises(
        InputError, r"^control must be one-dimensional", neyman.ttest, np.ma.ones((2, 2)), t
    )
    assert _masked_snapshot(b) == snap


# --------------------------------------------------------------------------------------------
# pandas Series pairs are matched by position: refuse different indexes
# --------------------------------------------------------------------------------------------


def _series_pair() -> tuple[pd.Series, pd.Series, pd.Series, pd.Series]:
    rng = np.random.default_rng(4)
    x_c, x_t = rng.normal(5, 1, 50), rng.normal(5, 1, 60)
    y_c = pd.Series(x_c + rng.normal(0, 0.5, 50), index=rng.permutation(50) + 100)
    y_t = pd.Series(x_t + rng.normal(0.3, 0.5, 60), index=np.arange(60))
    return y_c, pd.Series(x_c + 2.0, index=y_c.index), y_t, pd.Series(x_t + 2.0, index=y_t.index)


def test_series_pairs_same_index_pass() -> None:
    y_c, x_c, y_t, x_t = _series_pair()
    inputs = (y_c, x_c, y_t, x_t)
    assert not call_and_check(neyman.cuped, *inputs)
    assert not call_and_check(neyman.ratio, *inputs)
    numpy = [s.to_numpy() for s in inputs]
    assert neyman.cuped(*inputs) == neyman.cuped(*numpy)
    assert neyman.ratio(*inputs) == neyman.ratio(*numpy)
    # a Series with a numpy array: nothing to align
    assert neyman.cuped(y_c, x_c.to_numpy(), y_t, x_t) == neyman.cuped(*numpy)
    # equal, not identical, indexes
    assert neyman.cuped(y_c, x_c.set_axis(list(x_c.index)), y_t, x_t) == neyman.cuped(*numpy)


@pytest.mark.parametrize("func", [neyman.cuped, neyman.ratio])
def test_series_pairs_different_index_refused(func: Callable[..., Any]) -> None:
    y_c, x_c, y_t, x_t = _series_pair()
    parts = ("metric", "covariate") if func is neyman.cuped else ("numerator", "denominator")
    shuffled = x_c.sort_index()  # same values by label, other order: position pairing is wrong
    msg = (
        rf"^control {parts[0]} and control {parts[1]} are pandas Series with different indexes;"
        r".*by position, not by index label.*align.*\.to_numpy\(\)"
    )
    inputs = (y_c, shuffled, y_t, x_t)
    snaps = [snapshot(s) for s in inputs]
    with pytest.raises(InputError, match=re.compile(msg, re.IGNORECASE)):
        func(*inputs)
    for s, snap in zip(inputs, snaps, strict=True):
        assert_unchanged(s, snap)
    t_msg = rf"^treatment {parts[0]} and treatment {parts[1]} are pandas Series"
    check_raises(
        InputError,
        t_msg,
        func,
        y_c,
        x_c,
        y_t,
        x_t.set_axis(x_t.index + 1),
    )
    check_raises(
        InputError,
        rf"^treatment 'b' {parts[0]} and treatment 'b' {parts[1]}",
        func,
        y_c,
        x_c,
        {"b": y_t},
        {"b": x_t.set_axis(x_t.index[::-1])},
    )
    # the documented ways out
    aligned = func(y_c, shuffled.reindex(y_c.index), y_t, x_t)
    assert aligned == func(y_c, x_c, y_t, x_t)
    func(y_c.to_numpy(), shuffled.to_numpy(), y_t, x_t)


# --------------------------------------------------------------------------------------------
# Duplicated column names, big-endian columns, other dtypes: neyman errors, never raw ones
# --------------------------------------------------------------------------------------------


def _dup_frames() -> list[Any]:
    df = pd.DataFrame(
        [[0, 1.0, 2.0, 3.0], [1, 2.0, 3.0, 1.0], [0, 3.0, 5.0, 2.0], [1, 4.0, 4.0, 5.0]] * 3,
        columns=["arm", "y", "x", "x"],
    )
    table = pa.Table.from_arrays(
        [pa.array(df.iloc[:, i].to_numpy()) for i in range(4)], names=["arm", "y", "x", "x"]
    )
    return [pytest.param(df, id="pandas"), pytest.param(table, id="pyarrow")]


@pytest.mark.parametrize("df", _dup_frames())
def test_duplicated_column_names(df: Any) -> None:
    msg = r"^data has duplicated column names \['x'\]; every column needs a unique name"
    kw: dict[str, Any] = {"variant": "arm", "control": 0}
    calls: list[Callable[[], Any]] = [
        lambda: neyman.ttest(df, metric="y", **kw),  # the duplicate is not even used
        lambda: neyman.ztest(df, metric="y", **kw),
        lambda: neyman.proportions(df, metric="arm", **kw),
        lambda: neyman.ratio(df, numerator="y", denominator="x", **kw),
        lambda: neyman.cuped(df, metric="y", covariate="x", **kw),
        lambda: neyman.regression_adjust(df, metric="y", covariates="x", **kw),
        lambda: neyman.Experiment(df, **kw),
    ]
    snap = snapshot(df)
    for call in calls:
        check_raises(InputError, msg, call)
    assert_unchanged(df, snap)


def _raw_columns(df: pd.DataFrame) -> dict[str, tuple[Any, bytes]]:
    """Dtype and bytes of each column (``DataFrame.copy`` would convert big-endian columns to
    native order, so a deep copy cannot tell whether a column was converted in place)."""
    return {
        c: (df[c].dtype, df[c].to_numpy().tobytes() if df[c].dtype != object else None)
        for c in df.columns
    }


def _big_endian_frame() -> pd.DataFrame:
    arm, y = _interleaved()
    df = pd.DataFrame({"arm": arm.astype(">i8"), "g": np.array(["a", "b", "c"])[arm]})
    df["x"] = (y + np.random.default_rng(2).normal(0, 1, len(y))).astype(">f8")
    df["y"] = y.astype(">f8")
    df["y32"] = y.astype(">f4")
    df["yi"] = np.round(y * 1000).astype(">i8")
    df["yi4"] = np.round(y * 1000).astype(">i4")
    return df


@pytest.mark.parametrize("column", ["y", "y32", "yi", "yi4"])
@pytest.mark.parametrize(("variant", "control"), [("arm", 0), ("arm", 2), ("g", "b")])
def test_big_endian_pandas_columns(column: str, variant: str, control: Any) -> None:
    df = _big_endian_frame()
    assert df[column].dtype.byteorder == ">"
    native = df.astype(
        {c: df[c].dtype.newbyteorder("=") for c in ["arm", "x", "y", "y32", "yi", "yi4"]}
    )
    snap = _raw_columns(df)
    res = neyman.ttest(df, metric=column, variant=variant, control=control)
    assert res == neyman.ttest(native, metric=column, variant=variant, control=control)
    exp = neyman.Experiment(df, variant=variant, control=control)
    assert exp.analyze(neyman.Mean(column, covariate="x")) == neyman.Experiment(
        native, variant=variant, control=control
    ).analyze(neyman.Mean(column, covariate="x"))
    assert _raw_columns(df) == snap
    assert df[column].dtype.byteorder == ">"


@pytest.mark.parametrize("dtype", [">f8", ">f4", ">i8", ">i4", ">u8"])
def test_big_endian_arrays_and_series(dtype: str) -> None:
    c = np.array([3, 1, 4, 1, 5, 9, 2, 6], dtype=dtype)
    t = np.array([2, 7, 1, 8, 2, 8], dtype=dtype)
    ref = neyman.ttest(c.astype(float), t.astype(float))
    for a, b in ((c, t), (pd.Series(c), pd.Series(t)), (c[::2], t[::2])):
        snaps = [(x.dtype, np.asarray(x).tobytes()) for x in (a, b)]
        res = neyman.ttest(a, b)
        if a is c:
            assert res == ref
        else:
            assert res.n_control == len(a)
        assert [(x.dtype, np.asarray(x).tobytes()) for x in (a, b)] == snaps
    x_c = np.array([1, 2, 4, 1, 3, 8, 2, 5], dtype=dtype)
    x_t = np.array([3, 6, 1, 7, 3, 8], dtype=dtype)
    series = [pd.Series(v) for v in (c, x_c, t, x_t)]
    floats = [v.astype(float) for v in (c, x_c, t, x_t)]
    assert neyman.cuped(*series) == neyman.cuped(*floats)


@pytest.mark.parametrize(
    ("column", "match"),
    [
        (pd.Series([1.5, 2.5] * 4, dtype=object), r"has dtype Object; numeric values"),
        (pd.Series(["1", "2"] * 4, dtype=object), r"has dtype String; numeric values"),
        (pd.Categorical([1.5, 2.5] * 4), r"has dtype Categorical; numeric values"),
        (pd.date_range("2024-01-01", periods=8), r"has dtype Datetime.*; numeric values"),
        (pd.timedelta_range("1D", periods=8), r"has dtype Duration.*; numeric values"),
        (
            [decimal.Decimal(i) for i in range(8)],
            r"has dtype Object; numeric values",
        ),
        (np.arange(8) + 1j, r"has dtype complex128; numeric values"),
    ],
)
def test_non_numeric_pandas_columns(column: Any, match: str) -> None:
    df = pd.DataFrame({"arm": [0, 1] * 4, "y": column})
    snap = snapshot(df)
    check_raises(
        InputTypeError,
        r"^column 'y' " + match,
        neyman.ttest,
        df,
        metric="y",
        variant="arm",
        control=0,
    )
    assert_unchanged(df, snap)


def test_non_numeric_polars_and_arrow_columns() -> None:
    arm = [0, 1] * 4
    kw: dict[str, Any] = {"metric": "y", "variant": "arm", "control": 0}
    for df, match in (
        (pl.DataFrame({"arm": arm, "y": [[1.0]] * 8}), "List"),
        (pl.DataFrame({"arm": arm, "y": [{"a": 1.0}] * 8}), "Struct"),
        (
            pl.DataFrame({"arm": arm, "y": ["a"] * 8}).with_columns(
                pl.col("y").cast(pl.Categorical)
            ),
            "Categorical",
        ),
        (pa.table({"arm": arm, "y": pa.array([1.0, 2.0] * 4).dictionary_encode()}), "Categorical"),
        (pa.table({"arm": arm, "y": pa.array(["a"] * 8, pa.string_view())}), "String"),
    ):
        check_raises(InputTypeError, rf"^column 'y' has dtype {match}", neyman.ttest, df, **kw)


def test_decimal_columns_are_numbers() -> None:
    arm = [0, 1] * 4
    y = [decimal.Decimal(v) / 4 for v in (3, 1, 4, 1, 5, 9, 2, 6)]
    ref = neyman.ttest(pd.DataFrame({"arm": arm, "y": [float(v) for v in y]}), **_kw())
    for df in (pa.table({"arm": arm, "y": pa.array(y)}), pl.DataFrame({"arm": arm, "y": y})):
        assert neyman.ttest(df, **_kw()) == ref


def _kw() -> dict[str, Any]:
    return {"metric": "y", "variant": "arm", "control": 0}


def test_nullable_pandas_dtypes() -> None:
    arm = pd.array([0, 1] * 5, dtype="Int64")
    y = [3.0, 1.0, None, 1.0, 5.0, 9.0, 2.0, 6.0, 5.0, 3.0]
    plain = pd.DataFrame({"arm": [0, 1] * 5, "y": y})
    omit = neyman.ttest(plain, **_kw(), nan_policy="omit")
    for df in (
        pd.DataFrame({"arm": arm, "y": pd.array(y, dtype="Float64")}),
        pd.DataFrame(
            {"arm": arm, "y": pd.array([None if v is None else int(v) for v in y], dtype="Int64")}
        ),
        pd.DataFrame({"arm": arm.astype("string"), "y": pd.array(y, dtype="float64[pyarrow]")}),
    ):
        snap = snapshot(df)
        control: Any = "0" if df["arm"].dtype == "string" else 0
        res = neyman.ttest(df, metric="y", variant="arm", control=control, nan_policy="omit")
        for r, r0 in zip(res, omit, strict=True):
            _close(r, r0)
        assert_unchanged(df, snap)
    b = pd.DataFrame(
        {"arm": arm, "y": pd.array([True, False, None, True] * 2 + [True, True], dtype="boolean")}
    )
    res = neyman.proportions(b, **_kw(), nan_policy="omit")
    assert (res[0].n_control, res[0].n_treatment) == (3, 5)


def test_new_paths_leave_inputs_unchanged() -> None:
    """Every new conversion path, with a deep copy compared after the call (raising or not)."""
    arm, y = _interleaved()
    s = np.array(["c", "t1", "t2"])[arm]
    inputs: list[Any] = [
        pl.DataFrame({"arm": s, "y": y}).to_arrow(compat_level=pl.CompatLevel.newest()),
        pa.table({"arm": pa.array(s).dictionary_encode(), "y": y}),
        pd.DataFrame({"arm": pd.Categorical(s), "y": y.astype(np.float32)}),
        pl.DataFrame({"arm": s, "y": y}).with_columns(
            pl.col("arm").cast(pl.Enum(["t2", "c", "t1"]))
        ),
        pd.DataFrame({"arm": s, "y": np.arange(len(s), dtype=np.int64) + BIG}),
    ]
    for df in inputs:
        call_and_check(neyman.ttest, df, metric="y", variant="arm", control="c")
        call_and_check(
            lambda d: neyman.Experiment(d, variant="arm", control="c").analyze(neyman.Mean("y")),
            df,
        )
