"""Property tests (hypothesis): chunk merging, ``nan_policy='omit'``, thread count, arm order.

What is checked:

(a) Merge/chunk invariance: statistics built from per-chunk sums (``MeanStats.from_sums``,
    ``RatioStats.from_sums``) over any split of the rows give the same test as the raw arrays.
    Values are integers times a power of two, so every chunk sum and every total is exact in
    float64: any two splits give bit-identical statistics (asserted exactly), and the sums path
    is compared with the array path at ``rtol = 1e-9``. The array path uses two-pass moments and
    the sums path ``sum_sq - sum^2/n``, whose cancellation costs ``eps * sum_sq / M2``; the
    strategies keep ``sum_sq / M2 <= 1e4`` (and the analogous ratio of raw to centred terms of the
    delta-method variance <= 1e5), so the two paths agree to about 1e-11, and 1e-9 leaves margin.
(b) ``nan_policy='omit'`` equals removing NaN with numpy first, for ``ttest``, ``ztest``,
    ``proportions`` and ``ratio``. Proportions are counts, so equality is exact. For means and
    ratios, skipping a NaN shifts which of the kernel's accumulators later values land in, so the
    comparison is ``rtol = 1e-12`` on quantities with an intrinsic scale (se, df) and
    ``1e-12 * max|x|`` on quantities that are differences of means (effect, CI bounds; their
    rounding error is about ``n * eps * max|x|`` with n <= 150, i.e. below 4e-14 * max|x|), with
    the statistic and p-value allowed the same error divided by se. The strategies keep
    ``max|x| / sd <= 100`` so that M2 itself is accurate to ~1e-13.
(c) Thread-count invariance: with more than 3 * 65536 rows (several parallel blocks), results are
    identical (exact equality) with ``set_num_threads(1)`` and ``set_num_threads(2)``, for
    ``ttest``, ``ztest``, ``proportions``, ``ratio`` and ``Experiment.analyze`` (random data and
    the example data set); and in fresh processes started with ``NEYMAN_NUM_THREADS=1`` and
    ``=2`` (``repr`` of every float). An invalid ``NEYMAN_NUM_THREADS`` is an InputError that
    names it; Ctrl-C (``_thread.interrupt_main``) stops a fit that takes about two seconds within
    0.7 s of the interrupt (DESIGN.md: "within a second"), and the pool works afterwards.
(d) Arm order and label type: relabelling arms (strings, integers, categoricals) gives identical
    numbers; reordering the rows of a frame gives the array-mode answer up to the tolerance of
    (b); swapping control and treatment negates effect and statistic and mirrors the interval
    exactly (IEEE rounding is symmetric in sign and addition is commutative).

Independent reference: these are invariances, so each side of a comparison is computed along a
different path (per-chunk sums vs one pass, numpy's NaN removal vs ``nan_policy``, one vs two
threads, swapped arguments); no value produced by neyman is pinned.
"""

from __future__ import annotations

import _thread
import itertools
import math
import os
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import neyman
import numpy as np
import pandas as pd
import polars as pl
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tests.conftest import FLOAT_FIELDS, outputs_by_threads

DATA = Path(__file__).resolve().parents[2] / "data" / "example_experiment.parquet"
BLOCK = 65536

SETTINGS = settings(
    deadline=None,
    max_examples=30,
    suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow],
)

# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def _same(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


def assert_equivalent(
    r1: neyman.TestResult, r2: neyman.TestResult, *, scale: float, rtol: float
) -> None:
    """``r1`` and ``r2`` are the same comparison up to rounding.

    ``scale`` is the largest magnitude entering a mean (max |x|), so a mean, an effect or a CI
    bound may differ by ``rtol * scale``; statistic and p-value by that over se (the p-value's
    derivative in the statistic is at most 0.8); se and df by ``rtol`` relative.
    """
    se = r2.se
    assert se > 0
    q_max = 20.0  # the critical value is below 13 for df >= 1 at the 95% level
    abs_tol = {
        "control_value": rtol * scale,
        "treatment_value": rtol * scale,
        "effect": rtol * scale,
        "ci_low": rtol * (scale + q_max * se),
        "ci_high": rtol * (scale + q_max * se),
        "statistic": rtol * (scale / se),
        "pvalue": rtol * (scale / se),
    }
    relative = tuple(f for f in FLOAT_FIELDS if f.startswith("rel_"))
    for name in (f for f in FLOAT_FIELDS if f not in relative):
        a, b = getattr(r1, name), getattr(r2, name)
        if _same(a, b):
            continue
        assert math.isclose(a, b, rel_tol=rtol, abs_tol=abs_tol.get(name, 0.0)), (name, a, b)
    # Relative effects divide by the control value: compare them when it is well away from 0.
    mc = r2.control_value
    if abs(mc) >= 0.1 * scale:
        k = 10.0 * scale / abs(mc)
        for name in relative:
            a, b = getattr(r1, name), getattr(r2, name)
            if _same(a, b):
                continue
            tol = rtol * k * (1.0 + abs(b) + q_max * abs(r2.rel_se))
            assert math.isclose(a, b, rel_tol=rtol, abs_tol=tol), (name, a, b)
    for name in ("n_control", "n_treatment", "method", "alternative"):
        assert getattr(r1, name) == getattr(r2, name), name


def assert_identical(r1: neyman.TestResult, r2: neyman.TestResult) -> None:
    for name in FLOAT_FIELDS:
        a, b = getattr(r1, name), getattr(r2, name)
        assert _same(a, b), (name, a, b)
    for name in ("n_control", "n_treatment", "method", "alternative", "metric"):
        assert getattr(r1, name) == getattr(r2, name), name


@st.composite
def chunkings(draw: Any, n: int) -> list[tuple[int, int]]:
    """A random split of ``range(n)`` into consecutive chunks (empty chunks allowed)."""
    cuts = sorted(draw(st.lists(st.integers(0, n), max_size=6)))
    bounds = [0, *cuts, n]
    return list(itertools.pairwise(bounds))


DYADIC_SCALES = st.sampled_from([1.0, 2.0**-10, 2.0**8, 0.5])


@st.composite
def exact_arm(draw: Any, min_size: int = 2, max_size: int = 150) -> np.ndarray:
    """Integers times a power of two: sums and sums of squares are exact in float64."""
    ints = draw(st.lists(st.integers(-(2**18), 2**18), min_size=min_size, max_size=max_size))
    return np.array(ints, dtype=np.float64) * draw(DYADIC_SCALES)


def well_conditioned(x: np.ndarray, kappa: float = 100.0) -> bool:
    """At least two values, and max|x| / sd <= kappa."""
    if x.size < 2:
        return False
    sd = float(np.std(x, ddof=1))
    return sd > 0 and float(np.max(np.abs(x))) <= kappa * sd


# --------------------------------------------------------------------------------------------
# (a) Merge / chunk invariance
# --------------------------------------------------------------------------------------------


def mean_stats_from_chunks(x: np.ndarray, chunks: list[tuple[int, int]]) -> neyman.MeanStats:
    n, s, ss = 0, 0.0, 0.0
    for a, b in chunks:
        part = x[a:b]
        n += part.size
        s += math.fsum(part)
        ss += math.fsum(part * part)
    return neyman.MeanStats.from_sums(n, s, ss)


@st.composite
def chunked_mean_arm(draw: Any) -> tuple[np.ndarray, list[tuple[int, int]], list[tuple[int, int]]]:
    x = draw(exact_arm())
    m2 = float(np.sum((x - x.mean()) ** 2))
    assume(m2 > 0 and float(np.sum(x * x)) <= 1e4 * m2)
    return x, draw(chunkings(x.size)), draw(chunkings(x.size))


@SETTINGS
@given(
    control=chunked_mean_arm(),
    treatment=chunked_mean_arm(),
    test=st.sampled_from(["welch", "student", "z"]),
    alternative=st.sampled_from(["two-sided", "less", "greater"]),
)
def test_mean_chunk_merge_equals_whole(
    control: Any, treatment: Any, test: str, alternative: str
) -> None:
    (xc, split_c1, split_c2), (xt, split_t1, split_t2) = control, treatment
    sc1, sc2 = mean_stats_from_chunks(xc, split_c1), mean_stats_from_chunks(xc, split_c2)
    st1, st2 = mean_stats_from_chunks(xt, split_t1), mean_stats_from_chunks(xt, split_t2)
    # exact sums: any split gives the same statistics, bit for bit
    assert sc1 == sc2
    assert st1 == st2
    assert sc1.n == xc.size
    func = neyman.ztest if test == "z" else neyman.ttest
    kw: dict[str, Any] = {"alternative": alternative}
    if test != "z":
        kw["equal_var"] = test == "student"
    from_sums = func(sc1, st1, **kw)
    from_arrays = func(xc, xt, **kw)
    scale = float(max(np.max(np.abs(xc)), np.max(np.abs(xt))))
    assert_equivalent(from_sums, from_arrays, scale=scale, rtol=1e-9)


def ratio_stats_from_chunks(
    num: np.ndarray, den: np.ndarray, chunks: list[tuple[int, int]]
) -> neyman.RatioStats:
    sums = np.zeros(5)
    n = 0
    for a, b in chunks:
        x, y = num[a:b], den[a:b]
        n += x.size
        sums += [math.fsum(x), math.fsum(y), math.fsum(x * x), math.fsum(y * y), math.fsum(x * y)]
    return neyman.RatioStats.from_sums(n, *(float(v) for v in sums))


def delta_terms(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Delta-method variance of mean(x)/mean(y) and the size of its raw (uncentred) terms."""
    n = x.size
    mx, my = x.mean(), y.mean()
    sxx, syy = np.var(x, ddof=1), np.var(y, ddof=1)
    sxy = float(np.cov(x, y, ddof=1)[0, 1])
    var = (sxx / my**2 - 2 * mx * sxy / my**3 + mx**2 * syy / my**4) / n
    raw = (
        np.sum(x * x) / my**2
        + 2 * abs(mx) * np.sum(np.abs(x * y)) / my**3
        + mx**2 * np.sum(y * y) / my**4
    ) / (n * (n - 1))
    return float(var), float(raw)


@st.composite
def ratio_arm(draw: Any, max_size: int = 120) -> tuple[np.ndarray, np.ndarray]:
    n = draw(st.integers(2, max_size))
    num = np.array(draw(st.lists(st.integers(0, 500), min_size=n, max_size=n)), dtype=float)
    den = np.array(draw(st.lists(st.integers(1, 300), min_size=n, max_size=n)), dtype=float)
    scale = draw(DYADIC_SCALES)
    num, den = num * scale, den * draw(DYADIC_SCALES)
    var, raw = delta_terms(num, den)
    assume(var > 0 and var >= 1e-5 * raw)
    return num, den


@SETTINGS
@given(
    control=ratio_arm(),
    treatment=ratio_arm(),
    data=st.data(),
    alternative=st.sampled_from(["two-sided", "less", "greater"]),
)
def test_ratio_chunk_merge_equals_whole(
    control: Any, treatment: Any, data: Any, alternative: str
) -> None:
    (nc, dc), (nt, dt) = control, treatment
    splits_c = [data.draw(chunkings(nc.size)) for _ in range(2)]
    splits_t = [data.draw(chunkings(nt.size)) for _ in range(2)]
    sc = [ratio_stats_from_chunks(nc, dc, s) for s in splits_c]
    stt = [ratio_stats_from_chunks(nt, dt, s) for s in splits_t]
    assert sc[0] == sc[1]
    assert stt[0] == stt[1]
    from_sums = neyman.ratio(sc[0], stt[0], alternative=alternative)
    from_arrays = neyman.ratio(nc, dc, nt, dt, alternative=alternative)
    # ratios: a value's rounding error is relative to the ratio itself
    scale = max(abs(from_arrays.control_value), abs(from_arrays.treatment_value))
    assert_equivalent(from_sums, from_arrays, scale=scale, rtol=1e-9)


# --------------------------------------------------------------------------------------------
# (b) nan_policy='omit' equals dropping NaN first
# --------------------------------------------------------------------------------------------


@st.composite
def arm_with_nan(draw: Any, binary: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(values with NaN, the same values with NaN removed by numpy)."""
    if binary:
        clean = np.array(
            draw(st.lists(st.integers(0, 1), min_size=2, max_size=150)), dtype=np.float64
        )
    else:
        ints = draw(st.lists(st.integers(-1000, 1000), min_size=2, max_size=150))
        clean = np.array(ints, dtype=np.float64) * draw(st.sampled_from([1.0, 0.1, 37.25, 1e-3]))
        assume(well_conditioned(clean))
    n_nan = draw(st.integers(0, 40))
    positions = sorted(draw(st.lists(st.integers(0, clean.size), min_size=n_nan, max_size=n_nan)))
    with_nan = np.insert(clean, positions, np.nan) if positions else clean.copy()
    return with_nan, with_nan[~np.isnan(with_nan)]


@SETTINGS
@given(
    control=arm_with_nan(),
    treatment=arm_with_nan(),
    test=st.sampled_from(["welch", "student", "z"]),
    relative_ci=st.sampled_from(["delta", "fieller"]),
)
def test_omit_equals_dropping_nan_means(
    control: Any, treatment: Any, test: str, relative_ci: str
) -> None:
    (c_nan, c), (t_nan, t) = control, treatment
    func = neyman.ztest if test == "z" else neyman.ttest
    kw: dict[str, Any] = {"relative_ci": relative_ci}
    if test != "z":
        kw["equal_var"] = test == "student"
    omitted = func(c_nan, t_nan, nan_policy="omit", **kw)
    dropped = func(c, t, **kw)
    assert (omitted.n_control, omitted.n_treatment) == (c.size, t.size)
    scale = float(max(np.max(np.abs(c)), np.max(np.abs(t))))
    assert_equivalent(omitted, dropped, scale=scale, rtol=1e-12)
    # the same through a mapping of arms and through a frame
    mapped = func(c_nan, {"b": t_nan}, nan_policy="omit", **kw)[0]
    assert_equivalent(mapped, dropped, scale=scale, rtol=1e-12)
    if test != "z":
        df = pd.DataFrame(
            {"arm": ["c"] * c_nan.size + ["t"] * t_nan.size, "y": np.r_[c_nan, t_nan]}
        )
        framed = func(df, metric="y", variant="arm", control="c", nan_policy="omit", **kw)[0]
        assert_equivalent(framed, dropped, scale=scale, rtol=1e-12)


@SETTINGS
@given(
    control=arm_with_nan(binary=True),
    treatment=arm_with_nan(binary=True),
    ci_method=st.sampled_from(["newcombe", "wald"]),
)
def test_omit_equals_dropping_nan_proportions(control: Any, treatment: Any, ci_method: str) -> None:
    (c_nan, c), (t_nan, t) = control, treatment
    pooled = (c.sum() + t.sum()) / (c.size + t.size)
    assume(0 < pooled < 1)
    omitted = neyman.proportions(c_nan, t_nan, nan_policy="omit", ci_method=ci_method)
    dropped = neyman.proportions(c, t, ci_method=ci_method)
    # counts are exact, so the results are identical
    assert_identical(omitted, dropped)
    assert (omitted.n_control, omitted.n_treatment) == (c.size, t.size)
    df = pd.DataFrame({"arm": ["c"] * c_nan.size + ["t"] * t_nan.size, "y": np.r_[c_nan, t_nan]})
    exp = neyman.Experiment(df, variant="arm", control="c")
    framed = exp.analyze(neyman.Proportion("y", ci_method=ci_method), nan_policy="omit")[0]
    for name in FLOAT_FIELDS:
        assert _same(getattr(framed, name), getattr(dropped, name)), name


@st.composite
def ratio_arm_with_nan(draw: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    num, den = draw(ratio_arm())
    n = num.size
    k = draw(st.integers(0, 30))
    pos = sorted(draw(st.lists(st.integers(0, n), min_size=k, max_size=k)))
    # a NaN row has NaN in the numerator, the denominator or both
    where = draw(st.lists(st.sampled_from(["num", "den", "both"]), min_size=k, max_size=k))
    num_nan = np.insert(num, pos, [np.nan if w in ("num", "both") else 1.0 for w in where])
    den_nan = np.insert(den, pos, [np.nan if w in ("den", "both") else 1.0 for w in where])
    return num_nan, den_nan, num, den


@SETTINGS
@given(control=ratio_arm_with_nan(), treatment=ratio_arm_with_nan())
def test_omit_equals_dropping_nan_ratio(control: Any, treatment: Any) -> None:
    nc_nan, dc_nan, nc, dc = control
    nt_nan, dt_nan, nt, dt = treatment
    omitted = neyman.ratio(nc_nan, dc_nan, nt_nan, dt_nan, nan_policy="omit")
    dropped = neyman.ratio(nc, dc, nt, dt)
    assert (omitted.n_control, omitted.n_treatment) == (nc.size, nt.size)
    scale = max(abs(dropped.control_value), abs(dropped.treatment_value))
    assert_equivalent(omitted, dropped, scale=scale, rtol=1e-12)


# --------------------------------------------------------------------------------------------
# (c) Thread-count invariance
# --------------------------------------------------------------------------------------------


@pytest.fixture
def restore_threads() -> Iterator[None]:
    before = neyman.get_num_threads()
    try:
        yield
    finally:
        neyman.set_num_threads(before)


def _big_inputs(seed: int, extra: int) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    n_c, n_t = 3 * BLOCK + extra, 3 * BLOCK + 2 * extra + 7
    c = rng.lognormal(1.0, 1.2, n_c)
    t = rng.lognormal(1.02, 1.2, n_t)
    c[rng.integers(0, n_c, 500)] = np.nan
    imp_c, imp_t = rng.poisson(20, n_c) + 1.0, rng.poisson(20, n_t) + 1.0
    clk_c = rng.binomial(imp_c.astype(np.int64), 0.05).astype(np.float64)
    clk_t = rng.binomial(imp_t.astype(np.int64), 0.052).astype(np.float64)
    clk_t[rng.integers(0, n_t, 300)] = np.nan
    conv_c = (rng.random(n_c) < 0.1).astype(np.float64)
    conv_t = (rng.random(n_t) < 0.105).astype(np.float64)
    n = n_c + n_t
    arms = np.array(["control", "a", "b"])[rng.integers(0, 3, n)]
    frame = pd.DataFrame(
        {
            "arm": arms,
            "y": np.r_[c, t],
            "conv": np.r_[conv_c, conv_t].astype(np.int8),
            "clicks": np.r_[clk_c, clk_t],
            "imps": np.r_[imp_c, imp_t],
        }
    )
    return {
        "c": c,
        "t": t,
        "clk_c": clk_c,
        "imp_c": imp_c,
        "clk_t": clk_t,
        "imp_t": imp_t,
        "conv_c": conv_c,
        "conv_t": conv_t,
        "frame": frame,
    }


def _all_results(d: dict[str, Any]) -> list[Any]:
    exp = neyman.Experiment(d["frame"], variant="arm", control="control")
    return [
        neyman.ttest(d["c"], d["t"], nan_policy="omit"),
        neyman.ttest(d["c"], d["t"], nan_policy="omit", equal_var=True, relative_ci="fieller"),
        neyman.ztest(d["c"], d["t"], nan_policy="omit"),
        neyman.ttest(d["t"], d["c"], nan_policy="omit", alternative="less"),
        neyman.proportions(d["conv_c"], d["conv_t"]),
        neyman.proportions(d["conv_c"], d["conv_t"], ci_method="wald"),
        neyman.ratio(d["clk_c"], d["imp_c"], d["clk_t"], d["imp_t"], nan_policy="omit"),
        exp.analyze(
            neyman.Mean("y"),
            neyman.Mean("imps", test="z"),
            neyman.Proportion("conv"),
            neyman.Ratio("clicks", "imps"),
            nan_policy="omit",
        ),
        neyman.ttest(d["frame"], metric="y", variant="arm", control="control", nan_policy="omit"),
    ]


@settings(deadline=None, max_examples=2)
@given(seed=st.integers(0, 2**32 - 1), extra=st.integers(1, BLOCK))
def test_thread_count_invariance(seed: int, extra: int) -> None:
    before = neyman.get_num_threads()
    data = _big_inputs(seed, extra)
    try:
        neyman.set_num_threads(1)
        one = _all_results(data)
        neyman.set_num_threads(2)
        two = _all_results(data)
    finally:
        neyman.set_num_threads(before)
    assert len(one) == len(two)
    for r1, r2 in zip(one, two, strict=True):
        assert r1 == r2
        rows1 = list(r1) if isinstance(r1, neyman.AnalysisResult) else [r1]
        rows2 = list(r2) if isinstance(r2, neyman.AnalysisResult) else [r2]
        for a, b in zip(rows1, rows2, strict=True):
            assert_identical(a, b)
            assert math.isfinite(a.pvalue)


@pytest.mark.usefixtures("restore_threads")
def test_thread_count_invariance_example_data() -> None:
    df = pd.read_parquet(DATA)
    assert len(df) > 3 * BLOCK

    def run() -> neyman.AnalysisResult:
        exp = neyman.Experiment(
            df,
            variant="arm",
            control="control",
            planned_split={"control": 0.5, "treatment_a": 0.25, "treatment_b": 0.25},
        )
        return exp.analyze(
            neyman.Mean("revenue"),
            neyman.Mean("revenue_pre"),
            neyman.Proportion("converted"),
            neyman.Ratio("clicks", "impressions"),
            nan_policy="omit",
        )

    neyman.set_num_threads(1)
    one = run()
    neyman.set_num_threads(2)
    two = run()
    assert one == two
    assert one.to_dict() == two.to_dict()


_SUBPROCESS_SCRIPT = textwrap.dedent(
    """
    import numpy as np, polars as pl, neyman
    print("threads", neyman.get_num_threads())
    rng = np.random.default_rng(12345)
    n = 3 * 65536 + 4321
    c = rng.lognormal(1.0, 1.0, n); t = rng.lognormal(1.01, 1.0, n + 999)
    c[::997] = np.nan
    imp_c = rng.poisson(20, n) + 1.0; imp_t = rng.poisson(20, n + 999) + 1.0
    clk_c = rng.binomial(imp_c.astype(np.int64), 0.05) * 1.0
    clk_t = rng.binomial(imp_t.astype(np.int64), 0.051) * 1.0
    conv_c = (rng.random(n) < 0.1) * 1.0; conv_t = (rng.random(n + 999) < 0.11) * 1.0
    results = [
        neyman.ttest(c, t, nan_policy="omit"),
        neyman.ztest(c, t, nan_policy="omit"),
        neyman.proportions(conv_c, conv_t),
        neyman.ratio(clk_c, imp_c, clk_t, imp_t),
    ]
    df = pl.DataFrame({{
        "arm": np.array(["control", "a", "b"])[rng.integers(0, 3, 2 * n + 999)],
        "y": np.r_[c, t], "conv": np.r_[conv_c, conv_t],
        "clicks": np.r_[clk_c, clk_t], "imps": np.r_[imp_c, imp_t],
    }})
    results += list(neyman.Experiment(df, variant="arm", control="control").analyze(
        neyman.Mean("y"), neyman.Proportion("conv"), neyman.Ratio("clicks", "imps"),
        nan_policy="omit"))
    fields = {fields!r}
    for r in results:
        print(r.metric, r.treatment, *(repr(getattr(r, f)) for f in fields))
    """
)


def test_thread_count_invariance_env_var() -> None:
    outputs = outputs_by_threads(_SUBPROCESS_SCRIPT.format(fields=FLOAT_FIELDS))
    assert len(outputs[1]) == 4 + 6
    assert outputs[1] == outputs[2]


@pytest.mark.parametrize("n", [10, 200_000])
@pytest.mark.parametrize("value", ["two", "abc", "0", "-1", "1.5"])
def test_invalid_thread_env_var_is_named(value: str, n: int) -> None:
    """A NEYMAN_NUM_THREADS that is not a positive integer is an InputError naming it, at first
    use, whatever the size of the input (10 rows run serially, 200,000 in the pool)."""
    script = (
        "import neyman, numpy as np\n"
        "try:\n"
        f"    neyman.ttest(np.arange({n}.0), np.arange({n}.0) + 1)\n"
        "except neyman.errors.InputError as e:\n"
        "    print(e)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "NEYMAN_NUM_THREADS": value},
    )
    assert out.returncode == 0, out.stderr
    assert "NEYMAN_NUM_THREADS" in out.stdout
    assert repr(value) in out.stdout.replace('"', "'")


def test_ctrl_c_interrupts_a_long_kernel() -> None:
    """Ctrl-C (simulated by ``_thread.interrupt_main``) stops a long kernel within a second.

    The fit (Lin's model with 20 covariates and two categoricals of 40 and 8 levels, 134
    columns, on 2M rows; rows are accumulated by their 23 non-zero entries, and one categorical
    alone would be solved by its arrow structure in a fraction of a second) takes about two
    seconds on two cores, after about 0.2 s in Python; the interrupt comes 0.5 s after the call.
    The KeyboardInterrupt must come from the kernel (its message says so) and within 0.7 s of the
    interrupt.
    """
    n = 2_000_000
    k = 20
    rng = np.random.default_rng(7)
    cols: dict[str, Any] = {f"x{i}": rng.normal(size=n) for i in range(k)}
    cols |= {"y": rng.normal(size=n), "arm": rng.integers(0, 2, n)}
    cols |= {"seg": rng.integers(0, 40, n), "seg2": rng.integers(0, 8, n)}
    df = pl.DataFrame(cols)
    kwargs: dict[str, Any] = {
        "metric": "y",
        "variant": "arm",
        "control": 0,
        "covariates": [f"x{i}" for i in range(k)],
        "categorical": ["seg", "seg2"],
    }
    timer = threading.Timer(0.5, _thread.interrupt_main)
    start = time.perf_counter()
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt, match="interrupted"):
            neyman.regression_adjust(df, **kwargs)
    finally:
        timer.cancel()
    assert time.perf_counter() - start < 1.2
    # The pool is usable afterwards, and the fit completes when left alone.
    res = neyman.regression_adjust(df.head(100_000), **kwargs)
    assert math.isfinite(res[0].pvalue)


# --------------------------------------------------------------------------------------------
# (d) Arm order, label type, swapping control and treatment
# --------------------------------------------------------------------------------------------

SWAP_ALTERNATIVE = {"two-sided": "two-sided", "less": "greater", "greater": "less"}


def assert_mirrored(r: neyman.TestResult, s: neyman.TestResult) -> None:
    """``s`` is ``r`` with control and treatment swapped (and the alternative mirrored)."""
    assert s.effect == -r.effect
    assert s.statistic == -r.statistic
    assert s.se == r.se
    assert s.pvalue == r.pvalue
    assert _same(s.df, r.df)
    assert s.ci_low == -r.ci_high
    assert s.ci_high == -r.ci_low
    assert (s.control_value, s.treatment_value) == (r.treatment_value, r.control_value)
    assert (s.n_control, s.n_treatment) == (r.n_treatment, r.n_control)


@SETTINGS
@given(
    control=exact_arm(),
    treatment=exact_arm(),
    test=st.sampled_from(["welch", "student", "z"]),
    alternative=st.sampled_from(["two-sided", "less", "greater"]),
)
def test_swap_arms_means(
    control: np.ndarray, treatment: np.ndarray, test: str, alternative: str
) -> None:
    assume(np.ptp(control) > 0 or np.ptp(treatment) > 0)
    func = neyman.ztest if test == "z" else neyman.ttest
    kw: dict[str, Any] = {}
    if test != "z":
        kw["equal_var"] = test == "student"
    r = func(control, treatment, alternative=alternative, **kw)
    s = func(treatment, control, alternative=SWAP_ALTERNATIVE[alternative], **kw)
    assert_mirrored(r, s)


@SETTINGS
@given(
    control=st.lists(st.integers(0, 1), min_size=2, max_size=200),
    treatment=st.lists(st.integers(0, 1), min_size=2, max_size=200),
    ci_method=st.sampled_from(["newcombe", "wald"]),
    alternative=st.sampled_from(["two-sided", "less", "greater"]),
)
def test_swap_arms_proportions(
    control: list[int], treatment: list[int], ci_method: str, alternative: str
) -> None:
    assume(0 < sum(control) + sum(treatment) < len(control) + len(treatment))
    r = neyman.proportions(control, treatment, ci_method=ci_method, alternative=alternative)
    s = neyman.proportions(
        treatment, control, ci_method=ci_method, alternative=SWAP_ALTERNATIVE[alternative]
    )
    assert_mirrored(r, s)


@SETTINGS
@given(
    control=ratio_arm(),
    treatment=ratio_arm(),
    alternative=st.sampled_from(["two-sided", "less", "greater"]),
)
def test_swap_arms_ratio(control: Any, treatment: Any, alternative: str) -> None:
    (nc, dc), (nt, dt) = control, treatment
    r = neyman.ratio(nc, dc, nt, dt, alternative=alternative)
    s = neyman.ratio(nt, dt, nc, dc, alternative=SWAP_ALTERNATIVE[alternative])
    assert_mirrored(r, s)


LABEL_SETS = {
    "str": ("control", "treatment_a", "treatment_b"),
    "str-reverse-sorted": ("zz", "mm", "aa"),
    "int": (0, 1, 2),
    "int-unordered": (5, -2, 9),
}


def _labelled_frame(
    arms: list[np.ndarray], order: list[int], labels: tuple[Any, ...], categorical: bool
) -> pd.DataFrame:
    """Rows of the arms in block order ``order``; within an arm, rows keep their order."""
    parts = [pd.DataFrame({"arm": [labels[k]] * arms[k].size, "y": arms[k]}) for k in order]
    df = pd.concat(parts, ignore_index=True)
    if categorical:
        df["arm"] = pd.Categorical(df["arm"])
    return df


@st.composite
def three_arms(draw: Any) -> list[np.ndarray]:
    arms = []
    for _ in range(3):
        ints = draw(st.lists(st.integers(-1000, 1000), min_size=2, max_size=80))
        x = np.array(ints, dtype=np.float64) * 0.25
        assume(well_conditioned(x))
        arms.append(x)
    return arms


@SETTINGS
@given(
    arms=three_arms(),
    order=st.permutations([0, 1, 2]),
    control=st.integers(0, 2),
    labels=st.sampled_from(sorted(LABEL_SETS)),
    categorical=st.booleans(),
    interleave=st.randoms(use_true_random=False),
)
def test_arm_order_and_label_type(
    arms: list[np.ndarray],
    order: list[int],
    control: int,
    labels: str,
    categorical: bool,
    interleave: Any,
) -> None:
    labs = LABEL_SETS[labels]
    canonical = _labelled_frame(arms, [0, 1, 2], LABEL_SETS["str"], categorical=False)
    reference = {
        r.treatment: r
        for r in neyman.ttest(
            canonical, metric="y", variant="arm", control=LABEL_SETS["str"][control]
        )
    }
    # same rows, other labels: identical numbers
    relabelled = _labelled_frame(arms, [0, 1, 2], labs, categorical)
    res = neyman.ttest(relabelled, metric="y", variant="arm", control=labs[control])
    assert len(res) == 2
    for k in range(3):
        if k == control:
            continue
        r = res["y", labs[k]]
        assert r.control == str(labs[control])
        assert_identical(r, reference[LABEL_SETS["str"][k]])
    # other block order, then rows shuffled across arms (each arm keeps its values): the same
    # answer as two arrays, up to the merge order
    reordered = _labelled_frame(arms, order, labs, categorical)
    perm = list(range(len(reordered)))
    interleave.shuffle(perm)
    shuffled = reordered.iloc[perm].reset_index(drop=True)
    for frame in (reordered, shuffled):
        res = neyman.Experiment(frame, variant="arm", control=labs[control]).analyze(
            neyman.Mean("y")
        )
        for k in range(3):
            if k == control:
                continue
            r = res["y", labs[k]]
            values = frame["y"].to_numpy()
            mask_c = (frame["arm"] == labs[control]).to_numpy()
            mask_t = (frame["arm"] == labs[k]).to_numpy()
            pair = neyman.ttest(values[mask_c], values[mask_t])
            scale = float(max(np.max(np.abs(arms[control])), np.max(np.abs(arms[k]))))
            assert_equivalent(r, pair, scale=scale, rtol=1e-12)
            assert_equivalent(r, reference[LABEL_SETS["str"][k]], scale=scale, rtol=1e-12)
