"""Result objects: the family types, ``confidence_interval``, selection, display, plots.

What is checked:

- Families: ``TestResult`` carries only the fields every comparison has; ``AdjustedResult`` adds
  ``covariate``, ``variance_ratio`` and ``unadjusted``; ``CupedResult`` adds ``theta``. Every
  entry point returns the right type (``ttest``/``ztest``/``proportions``/``ratio``: exactly
  ``TestResult``; ``cuped`` and ``Mean(covariate=...)``: ``CupedResult``; ``regression_adjust``
  and ``Mean(strata=...)``: ``AdjustedResult``), and the private ``_refit`` hook never appears in
  ``repr``, ``to_dict``, records, tables or equality.
- ``confidence_interval(level, relative=)``: the stored interval for ``None`` or the result's own
  level; another level goes through ``_refit``. The results here are built by hand with a
  ``_refit`` written in this file (Welch's interval recomputed with
  ``scipy.stats.ttest_ind(..., equal_var=False).confidence_interval``), and checked against
  ``neyman.ttest(..., confidence_level=level)`` at ``rtol = 1e-10`` (the tolerance of
  ``test_inputs.py`` for Welch against scipy: the same closed form in float64, with the margin for
  the t quantile). Bad levels (outside (0, 1), NaN, non-numbers), a non-bool ``relative`` and a
  missing ``_refit`` raise the documented exceptions with messages naming the argument.
- Selection: ``res[0]``, ``res[1:3]``, ``res["revenue"]`` (keeps ``srm``),
  ``res["revenue", "treatment_a"]``, ``res.filter(...)``; wrong keys raise ``KeyError`` listing the
  valid names; two rows with the same metric and treatment raise ``InputError``.
- Display: n per arm, method and a significance marker with its footer in text and HTML; numbers
  with 3 significant digits and trailing zeros kept; styled, escaped HTML without JavaScript; a
  red banner for a sample-ratio mismatch (text: a warning first line); ``experiment_text`` and
  ``experiment_html``.
- Conversions of mixed families (``to_dict``, ``to_pandas``, ``to_polars``): adjusted columns are
  None / NaN / null for unadjusted rows.
- ``plot()`` (Agg backend): open-ended ends (one-sided alternatives, an unbounded Fieller interval)
  are arrows (annotations with an arrow patch reaching the axes edge), bounded intervals are
  not, and the legend names the colours and the open-ended marker.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import pickle
from collections.abc import Iterator, Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import matplotlib.text
import neyman
import numpy as np
import pandas as pd
import polars as pl
import pytest
import scipy.stats
from neyman import InputError, InputTypeError
from neyman._results import (
    experiment_html,
    experiment_text,
    format_number,
    format_percent,
)

from tests.conftest import BASE_FIELDS, DATA, check_raises

RTOL = 1e-10

ADJUSTED_ONLY = ["covariate", "variance_ratio", "unadjusted"]


@pytest.fixture(autouse=True)
def _close_figures() -> Iterator[None]:
    yield
    plt.close("all")


# --------------------------------------------------------------------------------------------
# Hand-built results with a refit hook (Welch's interval from scipy)
# --------------------------------------------------------------------------------------------

_SCIPY_ALTERNATIVE = {"two-sided": "two-sided", "less": "less", "greater": "greater"}


def welch_result(
    control: Sequence[float],
    treatment: Sequence[float],
    confidence_level: float = 0.95,
    *,
    alternative: str = "two-sided",
    metric: str = "y",
    arm: str = "t",
    refit: bool = True,
) -> neyman.TestResult:
    """A Welch comparison computed with scipy; ``_refit`` recomputes it at another level."""
    c, t = np.asarray(control, dtype=float), np.asarray(treatment, dtype=float)
    ref = scipy.stats.ttest_ind(t, c, equal_var=False, alternative=alternative)
    lo, hi = ref.confidence_interval(confidence_level)
    mc, mt = float(c.mean()), float(t.mean())
    se = float(np.sqrt(c.var(ddof=1) / len(c) + t.var(ddof=1) / len(t)))
    hook = (
        functools.partial(
            welch_result, tuple(c), tuple(t), alternative=alternative, metric=metric, arm=arm
        )
        if refit
        else None
    )
    return neyman.TestResult(
        metric=metric,
        method="welch",
        control="c",
        treatment=arm,
        control_value=mc,
        treatment_value=mt,
        effect=mt - mc,
        se=se,
        ci_low=float(lo),
        ci_high=float(hi),
        rel_effect=(mt - mc) / mc,
        rel_se=se / abs(mc),
        rel_ci_low=float(lo) / mc,
        rel_ci_high=float(hi) / mc,
        statistic=float(ref.statistic),
        pvalue=float(ref.pvalue),
        df=float(ref.df),
        n_control=len(c),
        n_treatment=len(t),
        alternative=alternative,
        confidence_level=confidence_level,
        relative_ci="delta",
        _refit=hook,
    )


RNG = np.random.default_rng(20261202)
C = RNG.normal(10.0, 2.0, 40)
T = RNG.normal(10.8, 3.0, 55)


# --------------------------------------------------------------------------------------------
# Families
# --------------------------------------------------------------------------------------------


def test_base_has_only_common_fields() -> None:
    names = [f.name for f in dataclasses.fields(neyman.TestResult) if not f.name.startswith("_")]
    assert names == BASE_FIELDS
    adjusted = [f.name for f in dataclasses.fields(neyman.AdjustedResult)]
    assert adjusted[: len(BASE_FIELDS) + 1] == [*BASE_FIELDS, "_refit"]
    assert adjusted[len(BASE_FIELDS) + 1 :] == ADJUSTED_ONLY
    cuped = [f.name for f in dataclasses.fields(neyman.CupedResult)]
    assert cuped == [*adjusted, "theta"]
    assert issubclass(neyman.CupedResult, neyman.AdjustedResult)
    assert issubclass(neyman.AdjustedResult, neyman.TestResult)
    for name in ("AdjustedResult", "CupedResult", "ConfidenceInterval", "TestResult"):
        assert name in neyman.__all__
    plain = neyman.ttest(C, T)
    for name in (*ADJUSTED_ONLY, "theta"):
        assert not hasattr(plain, name), name


def _frame() -> pd.DataFrame:
    rng = np.random.default_rng(4)
    n = 600
    x = rng.normal(0, 1, n)
    return pd.DataFrame(
        {
            "arm": rng.choice(["c", "t"], n),
            "y": x + rng.normal(0, 1, n),
            "x": x,
            "b": rng.integers(0, 2, n),
            "g": rng.choice(["u", "v"], n),
        }
    )


def test_entry_points_return_their_family() -> None:
    df = _frame()
    c, t = df[df.arm == "c"], df[df.arm == "t"]
    assert type(neyman.ttest(c.y, t.y)) is neyman.TestResult
    assert type(neyman.ztest(c.y, t.y)) is neyman.TestResult
    assert type(neyman.proportions(c.b, t.b)) is neyman.TestResult
    assert type(neyman.ratio(c.y + 5, c.x + 5, t.y + 5, t.x + 5)) is neyman.TestResult
    cuped = neyman.cuped(c.y, c.x, t.y, t.x)
    assert type(cuped) is neyman.CupedResult
    assert cuped.covariate == "x"
    assert type(cuped.unadjusted) is neyman.TestResult
    reg = neyman.regression_adjust(df, metric="y", variant="arm", control="c", covariates="x")
    assert type(reg[0]) is neyman.AdjustedResult
    assert type(reg[0].unadjusted) is neyman.TestResult
    res = neyman.Experiment(df, variant="arm", control="c").analyze(
        neyman.Mean("y"),
        neyman.Mean("y", covariate="x", name="y cuped"),
        neyman.Mean("y", strata="g", name="y strata"),
        neyman.Proportion("b"),
    )
    assert [type(r).__name__ for r in res] == [
        "TestResult",
        "CupedResult",
        "AdjustedResult",
        "TestResult",
    ]


def test_refit_is_private() -> None:
    with_hook, without = welch_result(C, T), welch_result(C, T, refit=False)
    assert with_hook == without
    assert hash(with_hook) == hash(without)
    assert repr(with_hook) == repr(without)
    assert with_hook._repr_html_() == without._repr_html_()
    assert "_refit" not in with_hook.to_dict()
    assert "_refit" not in with_hook.record()
    assert "_refit" not in with_hook.to_pandas().columns
    assert "_refit" not in neyman.AnalysisResult((with_hook,)).to_polars().columns
    assert with_hook.to_dict() == without.to_dict()
    back = pickle.loads(pickle.dumps(with_hook))
    assert back == with_hook
    assert back.confidence_interval(0.8) == with_hook.confidence_interval(0.8)


def test_refit_is_keyword_only() -> None:
    values = [getattr(welch_result(C, T), name) for name in BASE_FIELDS]
    res = neyman.TestResult(*values)
    assert res._refit is None
    with pytest.raises(TypeError):
        neyman.TestResult(*values, None)  # type: ignore[misc]


# --------------------------------------------------------------------------------------------
# confidence_interval
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("alternative", ["two-sided", "less", "greater"])
@pytest.mark.parametrize("level", [0.5, 0.8, 0.9, 0.99, 0.999])
def test_confidence_interval_recomputes(alternative: str, level: float) -> None:
    res = welch_result(C, T, alternative=alternative)
    ci = res.confidence_interval(level)
    assert isinstance(ci, neyman.ConfidenceInterval)
    ref = neyman.ttest(C, T, alternative=alternative, confidence_level=level)
    for got, want in ((ci.low, ref.ci_low), (ci.high, ref.ci_high)):
        assert got == want or math.isclose(got, want, rel_tol=RTOL), (got, want)
    rel = res.confidence_interval(level, relative=True)
    assert rel == res._refit(level).confidence_interval(relative=True)  # type: ignore[misc]
    # The stored result is unchanged.
    assert res.confidence_level == 0.95


def test_confidence_interval_at_own_level() -> None:
    res = welch_result(C, T, refit=False)
    for level in (None, 0.95):
        ci = res.confidence_interval(level)
        assert ci == (res.ci_low, res.ci_high)
        assert (ci.low, ci.high) == (res.ci_low, res.ci_high)
        assert res.confidence_interval(level, relative=True) == (res.rel_ci_low, res.rel_ci_high)
    engine = neyman.ttest(C, T)
    assert engine.confidence_interval() == (engine.ci_low, engine.ci_high)


def test_confidence_interval_nested() -> None:
    res = welch_result(C, T)
    widths = [np.subtract(*res.confidence_interval(lv)[::-1]) for lv in (0.5, 0.8, 0.95, 0.99)]
    assert widths == sorted(widths)


@pytest.mark.parametrize(
    ("level", "cls", "match"),
    [
        (1.5, InputError, r"^confidence_level == 1\.5, must be strictly between 0 and 1$"),
        (0, InputError, r"^confidence_level == 0\.0, must be strictly between 0 and 1$"),
        (1, InputError, r"^confidence_level == 1\.0, must be strictly between 0 and 1$"),
        (-0.2, InputError, r"^confidence_level == -0\.2, must be strictly between 0 and 1$"),
        (math.nan, InputError, r"^confidence_level == nan, must be strictly between 0 and 1$"),
        ("0.9", InputTypeError, r"^confidence_level must be a float, got str$"),
        (True, InputTypeError, r"^confidence_level must be a float, got bool$"),
    ],
)
def test_confidence_interval_bad_level(level: Any, cls: type[Exception], match: str) -> None:
    for res in (welch_result(C, T), welch_result(C, T, refit=False)):
        check_raises(cls, match, res.confidence_interval, level)


def test_confidence_interval_without_refit() -> None:
    res = welch_result(C, T, refit=False)
    check_raises(
        InputError,
        r"^confidence_level == 0\.9: this result cannot be recomputed at another level",
        res.confidence_interval,
        0.9,
    )


def test_confidence_interval_bad_relative() -> None:
    check_raises(
        InputTypeError,
        r"^relative must be a bool, got str$",
        welch_result(C, T).confidence_interval,
        0.9,
        relative="yes",
    )


# --------------------------------------------------------------------------------------------
# Selection
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def example() -> neyman.AnalysisResult:
    df = pd.read_parquet(DATA)
    exp = neyman.Experiment(
        df,
        variant="arm",
        control="control",
        planned_split={"control": 0.5, "treatment_a": 0.25, "treatment_b": 0.25},
    )
    return exp.analyze(
        neyman.Mean("revenue"),
        neyman.Mean("revenue", covariate="revenue_pre", name="revenue cuped"),
        neyman.Proportion("converted"),
        neyman.Ratio("clicks", "impressions"),
        nan_policy="omit",  # new users have no pre-period revenue
    )


def test_select_by_position_and_slice(example: neyman.AnalysisResult) -> None:
    assert isinstance(example[0], neyman.TestResult)
    assert example[-1] is example.comparisons[-1]
    assert example[np.int64(2)] is example.comparisons[2]
    part = example[1:3]
    assert isinstance(part, neyman.AnalysisResult)
    assert part.comparisons == example.comparisons[1:3]
    assert part.srm is example.srm
    assert len(example[10:]) == 0


def test_select_by_metric(example: neyman.AnalysisResult) -> None:
    rev = example["revenue"]
    assert isinstance(rev, neyman.AnalysisResult)
    assert [(c.metric, c.treatment) for c in rev] == [
        ("revenue", "treatment_a"),
        ("revenue", "treatment_b"),
    ]
    assert rev.srm is example.srm
    assert rev["revenue", "treatment_b"] is example["revenue", "treatment_b"]
    assert example.metrics == ["revenue", "revenue cuped", "converted", "clicks/impressions"]
    assert example.treatments == ["treatment_a", "treatment_b"]


def test_select_wrong_keys(example: neyman.AnalysisResult) -> None:
    names = r"'revenue', 'revenue cuped', 'converted', 'clicks/impressions'"
    with pytest.raises(KeyError, match=rf"no metric 'latency'; the 4 metrics: {names}"):
        example["latency"]
    with pytest.raises(KeyError, match=rf"no metric 'latency'; the 4 metrics: {names}"):
        example["latency", "treatment_a"]
    with pytest.raises(
        KeyError,
        match=r"no treatment arm 'treatment_c' for metric 'revenue'; its 2 treatment arms: "
        r"'treatment_a', 'treatment_b'",
    ):
        example["revenue", "treatment_c"]
    one = example["converted"][:1]
    with pytest.raises(KeyError, match=r"the 1 metric: 'converted'"):
        one["revenue"]
    with pytest.raises(KeyError, match=r"its 1 treatment arm: 'treatment_a'"):
        one["converted", "treatment_b"]
    with pytest.raises(IndexError):
        example[8]
    with pytest.raises(TypeError, match=r"indexed by position, slice, metric name"):
        example[1.5]  # type: ignore[call-overload]


def test_filter(example: neyman.AnalysisResult) -> None:
    assert example.filter().comparisons == example.comparisons
    assert example.filter(metric="revenue").comparisons == example["revenue"].comparisons
    both = example.filter(metric=["converted", "revenue"], treatment="treatment_b")
    assert [(c.metric, c.treatment) for c in both] == [
        ("revenue", "treatment_b"),
        ("converted", "treatment_b"),
    ]
    sig = example.filter(significant=True)
    not_sig = example.filter(significant=False)
    assert len(sig) + len(not_sig) == len(example)
    assert all(c.pvalue < 0.05 for c in sig)
    assert all(not c.pvalue < 0.05 for c in not_sig)
    assert {c.metric for c in sig} >= {"clicks/impressions"}
    assert example.filter(significant=True).srm is example.srm
    with pytest.raises(KeyError, match=r"no metric 'nope'; the 4 metrics"):
        example.filter(metric="nope")
    with pytest.raises(KeyError, match=r"no treatment arm 'x'; the 2 treatment arms"):
        example.filter(treatment=["treatment_a", "x"])
    check_raises(
        InputTypeError,
        r"^significant must be None, True or False, got str$",
        example.filter,
        significant="yes",
    )


def test_filter_integer_labels() -> None:
    df = pd.DataFrame({"arm": [0, 1, 2] * 5, "y": np.arange(15.0) ** 1.5})
    res = neyman.ttest(df, metric="y", variant="arm", control=0)
    assert [c.treatment for c in res.filter(treatment=2)] == ["2"]
    assert [c.treatment for c in res.filter(treatment=[1, 2])] == ["1", "2"]
    assert [c.treatment for c in res.filter(treatment=np.array([2]))] == ["2"]


def test_duplicate_rows_rejected() -> None:
    a = welch_result(C, T, metric="revenue", arm="t")
    check_raises(
        InputError,
        r"^two metrics are named 'revenue'; give one a name=\.\.\.$",
        neyman.AnalysisResult,
        (a, welch_result(C[:20], T, metric="revenue", arm="t")),
    )
    ok = neyman.AnalysisResult((a, welch_result(C, T, metric="revenue", arm="u")))
    assert len(ok) == 2
    df = _frame()
    check_raises(
        InputError,
        r"^two metrics are named 'y'",
        neyman.Experiment(df, variant="arm", control="c").analyze,
        neyman.Mean("y"),
        neyman.Mean("y", test="z"),
    )
    check_raises(
        InputTypeError,
        r"^comparisons must be neyman\.TestResult objects, got dict$",
        neyman.AnalysisResult,
        (a, {"metric": "x"}),
    )


def test_comparisons_become_a_tuple() -> None:
    res = neyman.AnalysisResult([welch_result(C, T)])  # type: ignore[arg-type]
    assert isinstance(res.comparisons, tuple)


# --------------------------------------------------------------------------------------------
# Number formatting
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.11, "0.110"),
        (0.0969, "0.0969"),
        (0.2, "0.200"),
        (0.4, "0.400"),
        (1.0, "1.00"),
        (12.0, "12.0"),
        (99.95, "100"),
        (0.00099996, "1.00e-03"),
        (0.000999, "9.99e-04"),
        (-0.00068, "-6.80e-04"),
        (123.456, "123"),
        (1234.5, "1234"),
        (2.5e6, "2.50e+06"),
        (0.0, "0"),
        (-0.0, "0"),
        (math.nan, "nan"),
        (math.inf, "inf"),
        (-math.inf, "-inf"),
    ],
)
def test_format_number(value: float, text: str) -> None:
    assert format_number(value) == text


def test_format_percent() -> None:
    assert format_percent(0.002) == "0.200%"
    assert format_percent(0.0011) == "0.110%"
    assert format_percent(-0.0512) == "-5.12%"
    assert format_percent(math.inf) == "inf"


def test_neighbours_keep_trailing_zeros() -> None:
    a = dataclasses.replace(welch_result(C, T, refit=False), pvalue=0.11, effect=0.2)
    b = dataclasses.replace(a, treatment="u", pvalue=0.0969, effect=0.4)
    res = neyman.AnalysisResult((a, b))
    for out in (repr(res), res._repr_html_()):
        for text in ("0.110", "0.0969", "0.200", "0.400"):
            assert text in out, text
        assert "0.11 " not in out
        assert ">0.11<" not in out


# --------------------------------------------------------------------------------------------
# Text and HTML
# --------------------------------------------------------------------------------------------


def _rows(text: str) -> list[list[str]]:
    return [line.split() for line in text.splitlines()]


def test_text_shows_n_method_and_marker(example: neyman.AnalysisResult) -> None:
    text = repr(example)
    lines = text.splitlines()
    header = lines[1].split()
    for name in ("n_control", "n_treatment", "method", "sig", "ci", "rel_ci"):
        assert name in header, name
    assert "variance_ratio" in header  # an adjusted row is present
    assert lines[-2] == "sig: * where pvalue < 0.05 (1 - confidence_level)"
    assert lines[-1].startswith("SRM check:")
    body = lines[2:-2]
    assert len(body) == len(example)
    for line, c in zip(body, example, strict=True):
        assert c.method in line
        assert f" {c.n_control} " in line
        assert f" {c.n_treatment} " in line
    starred = [c for c, line in zip(example, body, strict=True) if " * " in f"{line} "]
    assert starred == [c for c in example if c.pvalue < 0.05]


def test_significance_follows_confidence_level() -> None:
    res = welch_result(C, T, refit=False)
    alpha = res.pvalue * 1.5
    loose = dataclasses.replace(res, confidence_level=1 - alpha)
    strict = dataclasses.replace(res, confidence_level=1 - res.pvalue / 2)
    assert loose.significant
    assert not strict.significant
    assert repr(loose).splitlines()[2].rstrip().endswith("*")
    assert not repr(strict).splitlines()[2].rstrip().endswith("*")
    nan = dataclasses.replace(res, pvalue=math.nan)
    assert not nan.significant
    mixed = neyman.AnalysisResult((loose, dataclasses.replace(strict, treatment="u")))
    assert "sig: * where pvalue < 1 - confidence_level" in repr(mixed)
    assert "mixed CI" in repr(mixed)


def test_one_sided_marker() -> None:
    res = neyman.ttest(C, T, alternative="greater")
    assert res.significant == (res.pvalue < 0.05)
    assert "inf]" in repr(res)


def test_html_is_styled_and_escaped() -> None:
    evil = "<script>alert('x')</script>"
    a = dataclasses.replace(welch_result(C, T, refit=False), metric=evil, treatment="t&u")
    out = neyman.AnalysisResult((a,))._repr_html_()
    assert out.startswith('<div class="neyman-result"><style>')
    assert out.endswith("</div>")
    style = out[out.index("<style>") + 7 : out.index("</style>")]
    for rule in style.replace("\n", "").split("}"):
        if rule:
            selectors = rule.split("{")[0]
            assert all(s.strip().startswith(".neyman-result") for s in selectors.split(","))
    assert "<script" not in out.lower()
    assert "javascript" not in out.lower()
    assert "onclick" not in out.lower()
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in out
    assert "t&amp;u" in out
    for name in ("n_control", "n_treatment", "method", "sig"):
        assert f">{name}</th>" in out
    assert ">welch<" in out
    assert ">40<" in out
    assert ">55<" in out
    assert 'class="neyman-footer">sig: * where pvalue &lt; 0.05' in out
    assert "neyman-srm" not in out.split("</style>")[1]


def test_html_marks_significant_rows() -> None:
    res = neyman.ttest(C, T)
    assert res.significant
    out = res._repr_html_()
    assert '<tr class="neyman-pos">' in out
    assert '<td class="sig text">*</td>' in out
    neg = neyman.ttest(T, C)
    assert '<tr class="neyman-neg">' in neg._repr_html_()


def _mismatch_srm() -> neyman.SRMResult:
    srm = neyman.srm({"c": 6000, "t<b>": 4000})
    assert srm.mismatch
    return srm


def test_srm_mismatch_cannot_be_missed() -> None:
    srm = _mismatch_srm()
    res = neyman.AnalysisResult((welch_result(C, T),), srm=srm)
    out = res._repr_html_()
    body = out.split("</style>", 1)[1]
    # The banner comes first, before the table.
    assert body.startswith('<div class="neyman-srm" role="alert">SAMPLE RATIO MISMATCH')
    assert body.index("neyman-srm") < body.index("<table>")
    assert "background:#b91c1c" in out
    text = repr(res)
    assert text.splitlines()[0].startswith("SAMPLE RATIO MISMATCH (p = ")
    assert "do not trust the effects" in text.splitlines()[0]
    assert srm._repr_html_().split("</style>", 1)[1].startswith('<div class="neyman-srm"')
    assert "t&lt;b&gt;" in srm._repr_html_()
    assert repr(srm).startswith("SAMPLE RATIO MISMATCH")
    # The selection keeps the check, so the banner stays.
    assert repr(res["y"]).startswith("SAMPLE RATIO MISMATCH")
    assert repr(res.filter(significant=False)).startswith("SAMPLE RATIO MISMATCH")
    ok = neyman.AnalysisResult((welch_result(C, T),), srm=neyman.srm({"c": 5000, "t": 5010}))
    assert "neyman-srm" not in ok._repr_html_().split("</style>", 1)[1]
    assert not repr(ok).startswith("SAMPLE")


def test_empty_result_renders() -> None:
    res = neyman.AnalysisResult(())
    assert "no comparisons" in repr(res)
    assert "<table>" in res._repr_html_()
    assert res.to_dict() == {"comparisons": [], "srm": None}


def test_experiment_text_and_html() -> None:
    counts = {"control": 5050, "t<1>": 4950}
    srm = neyman.srm(counts)
    text = experiment_text(variant="arm", control="control", counts=counts, srm=srm, unit="user")
    lines = text.splitlines()
    assert lines[0] == (
        "Experiment: 10000 rows, variant column 'arm', control 'control', one row per 'user'"
    )
    assert _rows(text)[1] == ["arm", "rows", "share", "planned_share"]
    assert _rows(text)[2] == ["control", "(control)", "5050", "50.5%", "50.0%"]
    assert _rows(text)[3] == ["t<1>", "4950", "49.5%", "50.0%"]
    assert lines[-1].startswith("SRM check: chi2 = 1.00 on 1 df")
    one = experiment_text(variant="arm", control="c", counts={"c": 1}, n_rows=1)
    assert one.splitlines()[0].startswith("Experiment: 1 row,")
    assert "planned_share" not in one
    assert "SRM" not in one
    out = experiment_html(variant="a<b>", control="control", counts=counts, srm=srm)
    assert out.startswith('<div class="neyman-result"><style>')
    assert "t&lt;1&gt;" in out
    assert "a&lt;b&gt;" in out
    assert "<script" not in out
    assert "neyman-srm" not in out.split("</style>")[1]
    bad = {"c": 6000, "t": 4000}
    out = experiment_html(variant="arm", control="c", counts=bad, srm=neyman.srm(bad))
    assert out.split("</style>", 1)[1].startswith('<div class="neyman-srm" role="alert">')
    assert experiment_text(variant="arm", control="c", counts=bad, srm=neyman.srm(bad)).startswith(
        "SAMPLE RATIO MISMATCH"
    )


# --------------------------------------------------------------------------------------------
# Conversions of mixed families
# --------------------------------------------------------------------------------------------


def test_records_of_mixed_families(example: neyman.AnalysisResult) -> None:
    records = example._records()
    keys = list(records[0])
    assert all(list(r) == keys for r in records)
    assert keys[: len(BASE_FIELDS)] == BASE_FIELDS
    for name in ("covariate", "variance_ratio", "theta", "unadjusted_effect", "unadjusted_pvalue"):
        assert name in keys
    plain, cuped = example["revenue", "treatment_a"], example["revenue cuped", "treatment_a"]
    assert isinstance(cuped, neyman.CupedResult)
    assert cuped.record()["unadjusted_effect"] == cuped.unadjusted.effect
    assert "covariate" not in plain.record()
    assert "theta" not in plain.to_dict()
    assert cuped.to_dict()["unadjusted"] == cuped.unadjusted.to_dict()
    assert cuped.to_dict()["theta"] == cuped.theta
    reg = neyman.regression_adjust(_frame(), metric="y", variant="arm", control="c", covariates="x")
    assert "theta" not in reg[0].to_dict()
    assert reg[0].record()["unadjusted_pvalue"] == reg[0].unadjusted.pvalue


def test_pandas_and_polars_of_mixed_families(example: neyman.AnalysisResult) -> None:
    df = example.to_pandas()
    assert len(df) == len(example)
    plain = df[df.metric == "revenue"]
    cuped = df[df.metric == "revenue cuped"]
    assert plain["theta"].isna().all()
    assert plain["covariate"].isna().all()
    assert plain["unadjusted_effect"].isna().all()
    assert cuped["theta"].notna().all()
    assert list(cuped["covariate"]) == ["revenue_pre"] * 2
    pdf = example.to_polars()
    assert pdf.height == len(example)
    assert pdf.filter(pl.col("metric") == "revenue")["theta"].null_count() == 2
    assert pdf["theta"].dtype == pl.Float64
    for i, c in enumerate(example):
        for name in BASE_FIELDS:
            assert pdf[name][i] == getattr(c, name), name


def test_polars_many_plain_rows_before_an_adjusted_one() -> None:
    # Schema inference must see every row: 150 plain rows, then a CUPED row.
    plain = [welch_result(C, T, refit=False, metric=f"m{i}") for i in range(150)]
    cuped = neyman.cuped(C, C * 0.5 + RNG.normal(0, 1, 40), T, T * 0.5 + RNG.normal(0, 1, 55))
    cuped = dataclasses.replace(cuped, metric="cuped")
    df = neyman.AnalysisResult((*plain, cuped)).to_polars()
    assert df.height == 151
    assert df["theta"][150] == cuped.theta
    assert df["covariate"][150] == "x"


# --------------------------------------------------------------------------------------------
# Forest plot
# --------------------------------------------------------------------------------------------


def _arrows(ax: Any) -> list[matplotlib.text.Annotation]:
    return [
        t
        for t in ax.texts
        if isinstance(t, matplotlib.text.Annotation) and t.arrow_patch is not None
    ]


def _legend(ax: Any) -> list[str]:
    legend = ax.get_legend()
    assert legend is not None
    return [t.get_text() for t in legend.get_texts()]


def test_plot_bounded_intervals_have_no_arrows(example: neyman.AnalysisResult) -> None:
    ax = example.plot()
    assert _arrows(ax) == []
    assert _legend(ax) == ["significant, positive", "significant, negative", "not significant"]
    assert len(ax.get_yticklabels()) == len(example)


@pytest.mark.parametrize(("alternative", "edge"), [("greater", 1.0), ("less", 0.0)])
def test_plot_one_sided_draws_arrows(alternative: str, edge: float) -> None:
    res = neyman.AnalysisResult(
        (welch_result(C, T, alternative=alternative), welch_result(C, T, arm="u"))
    )
    ax = res.plot()
    arrows = _arrows(ax)
    assert len(arrows) == 1
    (arrow,) = arrows
    assert arrow.xy[0] == edge  # the tip is at the axes edge (axes coordinates)
    # The arrow continues the finite part of the interval (finite end to estimate) to the edge.
    start = arrow.xyann[0]
    assert math.isclose(start, 100 * res[0].rel_effect)
    finite_end = res[0].rel_ci_low if alternative == "greater" else res[0].rel_ci_high
    segments = [seg for coll in ax.collections for seg in getattr(coll, "get_segments", list)()]
    assert any(
        sorted(seg[:, 0]) == pytest.approx(sorted([100 * finite_end, start])) for seg in segments
    )
    lo, hi = ax.get_xlim()
    assert lo < 100 * finite_end < hi
    assert _legend(ax)[-1] == "open-ended interval"


def test_plot_unbounded_fieller() -> None:
    rng = np.random.default_rng(3)
    res = neyman.ttest(rng.normal(0.02, 1, 50), rng.normal(0.1, 1, 50), relative_ci="fieller")
    assert (res.rel_ci_low, res.rel_ci_high) == (-math.inf, math.inf)
    ax = res.plot()
    arrows = _arrows(ax)
    assert sorted(a.xy[0] for a in arrows) == [0.0, 1.0]
    # Both arrows start from the estimate (no finite end) and the x-axis stays finite.
    for a in arrows:
        assert math.isclose(a.xyann[0], 100 * res.rel_effect)
    assert all(math.isfinite(v) for v in ax.get_xlim())
    assert "open-ended interval" in _legend(ax)


def test_plot_on_given_axes_and_nan_rows() -> None:
    _, own = plt.subplots()
    res = neyman.ttest(C, T)
    assert res.plot(ax=own) is own
    nan = dataclasses.replace(
        welch_result(C, T, refit=False),
        rel_effect=math.nan,
        rel_ci_low=math.nan,
        rel_ci_high=math.nan,
    )
    ax = neyman.AnalysisResult((nan, welch_result(C, T, arm="u"))).plot()
    assert all(math.isfinite(v) for v in ax.get_xlim())
