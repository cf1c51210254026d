"""Property tests (hypothesis) of the result objects: formatting, selection, conversions, refit.

What is checked:

(a) Number formatting: every finite non-zero float prints with exactly 3 significant digits
    (trailing zeros kept), and the printed number is the float rounded to 3 significant digits:
    parsed back, it is within half a unit in the third digit (``5e-3`` relative, plus ``1e-12``
    relative for the decimal conversion) -- except for 1000 <= |x| < 1e6, which prints as a whole
    number (within 0.5 absolute). Percentages are the same digits of ``100 * x`` with ``%``.
(b) Selection partitions the rows: ``res[metric]`` over every metric, ``filter(significant=True)``
    and ``filter(significant=False)``, and ``res[i:j]`` give exactly the rows of the tuple, in
    order; every ``(metric, treatment)`` key finds its row.
(c) Conversions: ``to_dict``, records, ``to_pandas`` and ``to_polars`` carry each field's value for
    any mix of plain, adjusted and CUPED rows (adjusted fields None/NaN/null elsewhere), and a
    pickled result compares equal.
(d) ``confidence_interval``: for any level in (0, 1), the interval from a hand-written ``_refit``
    (Welch with scipy) contains the interval at any lower level (nesting), and at the result's own
    level it is the stored one without calling ``_refit``.

Independent reference: the formatting is compared with Python's ``decimal`` rounding of the same
float; the rest are invariances with no pinned values.
"""

from __future__ import annotations

import dataclasses
import decimal
import functools
import math
import pickle
import re
from typing import Any

import neyman
import numpy as np
import pytest
import scipy.stats
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from neyman._results import format_number, format_percent

SETTINGS = settings(deadline=None, max_examples=60, suppress_health_check=[HealthCheck.too_slow])

# --------------------------------------------------------------------------------------------
# (a) Number formatting
# --------------------------------------------------------------------------------------------

FINITE = st.floats(allow_nan=False, allow_infinity=False).filter(lambda v: v != 0)


def _significant_digits(text: str) -> str:
    mantissa = text.lstrip("-").split("e")[0].replace(".", "")
    return mantissa.lstrip("0")


@SETTINGS
@given(x=FINITE)
def test_three_significant_digits(x: float) -> None:
    text = format_number(x)
    assert re.fullmatch(r"-?(\d+(\.\d+)?|\d\.\d\de[+-]\d+)", text), text
    assert text.startswith("-") == (x < 0)
    back = float(text)
    if 1000 <= abs(x) < 1e6:
        assert "." not in text
        assert abs(back - x) <= 0.5 + 1e-9 * abs(x)
        return
    assert len(_significant_digits(text)) == 3, text
    want = float(decimal.Context(prec=3).create_decimal(x))
    # Python's rounding of the float and the decimal module's agree up to a tie in the 4th digit.
    assert back == want or math.isclose(back, x, rel_tol=5e-3 + 1e-12), (x, text, want)


@SETTINGS
@given(x=st.floats(-1e3, 1e3, allow_nan=False).filter(lambda v: abs(v) > 1e-7))
def test_percent_is_the_same_digits(x: float) -> None:
    text = format_percent(x)
    assert text.endswith("%")
    assert text[:-1] == format_number(100 * x)


# --------------------------------------------------------------------------------------------
# Hand-built results
# --------------------------------------------------------------------------------------------

_BASE = {
    "method": "welch",
    "control": "c",
    "control_value": 10.0,
    "treatment_value": 11.0,
    "effect": 1.0,
    "se": 0.5,
    "ci_low": 0.0,
    "ci_high": 2.0,
    "rel_effect": 0.1,
    "rel_se": 0.05,
    "rel_ci_low": 0.0,
    "rel_ci_high": 0.2,
    "statistic": 2.0,
    "df": 30.0,
    "n_control": 16,
    "n_treatment": 17,
    "alternative": "two-sided",
    "confidence_level": 0.95,
    "relative_ci": "delta",
}


def _row(metric: str, arm: str, kind: int, pvalue: float) -> neyman.TestResult:
    plain = neyman.TestResult(metric=metric, treatment=arm, pvalue=pvalue, **_BASE)  # type: ignore[arg-type]
    if kind == 0:
        return plain
    extra: dict[str, Any] = {"covariate": "x", "variance_ratio": 0.5, "unadjusted": plain}
    if kind == 1:
        return neyman.AdjustedResult(metric=metric, treatment=arm, pvalue=pvalue, **_BASE, **extra)  # type: ignore[arg-type]
    return neyman.CupedResult(
        metric=metric,
        treatment=arm,
        pvalue=pvalue,
        theta=0.7,
        **_BASE,  # type: ignore[arg-type]
        **extra,
    )


@st.composite
def analyses(draw: st.DrawFn) -> neyman.AnalysisResult:
    metrics = draw(st.lists(st.sampled_from("abcde"), min_size=1, max_size=4, unique=True))
    arms = draw(st.lists(st.sampled_from(["t1", "t2", "t3"]), min_size=1, max_size=3, unique=True))
    rows = []
    for m in metrics:
        for a in arms:
            kind = draw(st.integers(0, 2))
            p = draw(st.one_of(st.floats(0, 1), st.just(math.nan)))
            rows.append(_row(m, a, kind, p))
    order = draw(st.permutations(range(len(rows))))
    return neyman.AnalysisResult(tuple(rows[i] for i in order))


# --------------------------------------------------------------------------------------------
# (b) Selection
# --------------------------------------------------------------------------------------------


@SETTINGS
@given(res=analyses(), i=st.integers(-5, 15), j=st.integers(-5, 15))
def test_selection_partitions(res: neyman.AnalysisResult, i: int, j: int) -> None:
    rows = res.comparisons
    by_metric = [c for m in res.metrics for c in res[m]]
    assert sorted(map(id, by_metric)) == sorted(map(id, rows))
    for m in res.metrics:
        assert res[m].comparisons == tuple(c for c in rows if c.metric == m)
        assert res.filter(metric=m).comparisons == res[m].comparisons
    sig, rest = res.filter(significant=True), res.filter(significant=False)
    assert tuple(c for c in rows if c in sig.comparisons) == sig.comparisons
    assert len(sig) + len(rest) == len(res)
    assert all(c.pvalue < 0.05 for c in sig)
    assert not any(c.pvalue < 0.05 for c in rest)
    assert res[i:j].comparisons == rows[i:j]
    for c in rows:
        assert res[c.metric, c.treatment] is c
    for a in res.treatments:
        assert res.filter(treatment=a).comparisons == tuple(c for c in rows if c.treatment == a)


# --------------------------------------------------------------------------------------------
# (c) Conversions
# --------------------------------------------------------------------------------------------


def _same(a: Any, b: Any) -> bool:
    if a is None:
        return b is None or (isinstance(b, float) and math.isnan(b))
    if isinstance(a, float) and math.isnan(a):
        return b is None or math.isnan(b)
    return bool(a == b)


@SETTINGS
@given(res=analyses())
def test_conversions_carry_every_field(res: neyman.AnalysisResult) -> None:
    pdf = res.to_pandas()
    pl_df = res.to_polars()
    records = res._records()
    assert list(pdf.columns) == list(records[0]) == pl_df.columns
    for i, c in enumerate(res):
        own = c.record()
        d = c.to_dict()
        for name, value in own.items():
            assert _same(value, records[i][name]), name
            assert _same(value, pdf[name].iloc[i]), name
            assert _same(value, pl_df[name][i]), name
            if not name.startswith("unadjusted_"):
                assert _same(value, d[name]), name
        for name in set(records[i]) - set(own):
            assert records[i][name] is None, name
            assert pl_df[name][i] is None, name
        if isinstance(c, neyman.AdjustedResult):
            assert d["unadjusted"] == c.unadjusted.to_dict()
    back = pickle.loads(pickle.dumps(res))
    assert repr(back) == repr(res)
    if not any(math.isnan(c.pvalue) for c in res):  # NaN != NaN once unpickled
        assert back == res


# --------------------------------------------------------------------------------------------
# (d) confidence_interval
# --------------------------------------------------------------------------------------------


def _welch(c: tuple[float, ...], t: tuple[float, ...], level: float) -> neyman.TestResult:
    ref = scipy.stats.ttest_ind(t, c, equal_var=False)
    lo, hi = ref.confidence_interval(level)
    mc = float(np.mean(c))
    fields = {**_BASE, "confidence_level": level, "ci_low": float(lo), "ci_high": float(hi)}
    fields.update(rel_ci_low=float(lo) / mc, rel_ci_high=float(hi) / mc)
    return neyman.TestResult(
        metric="y",
        treatment="t",
        pvalue=float(ref.pvalue),
        _refit=functools.partial(_welch, c, t),
        **fields,  # type: ignore[arg-type]
    )


def _fail(level: float) -> neyman.TestResult:
    raise AssertionError("_refit called at the result's own level")


SAMPLES = st.lists(st.floats(1, 100), min_size=3, max_size=30).filter(
    lambda v: max(v) - min(v) > 1e-3
)


@SETTINGS
@given(
    c=SAMPLES,
    t=SAMPLES,
    levels=st.lists(st.floats(0.01, 0.999), min_size=2, max_size=2, unique=True),
)
def test_intervals_nest(c: list[float], t: list[float], levels: list[float]) -> None:
    res = _welch(tuple(c), tuple(t), 0.95)
    low_level, high_level = sorted(levels)
    narrow = res.confidence_interval(low_level)
    wide = res.confidence_interval(high_level)
    assert wide.low <= narrow.low <= narrow.high <= wide.high
    rel_narrow = res.confidence_interval(low_level, relative=True)
    assert rel_narrow == pytest.approx((narrow.low / np.mean(c), narrow.high / np.mean(c)))
    own = dataclasses.replace(res, _refit=_fail)
    assert own.confidence_interval(0.95) == (res.ci_low, res.ci_high)
    assert own.confidence_interval() == (res.ci_low, res.ci_high)
