"""Property tests (hypothesis) for variance reduction: CUPED and regression adjustment.

What is checked:

(a) Chunk-merge invariance: ``CupedStats.from_sums`` over per-chunk sums, added up, gives the
    same ``cuped`` result as the raw arrays. Values are integers times a power of two, so every
    chunk sum and every total is exact in float64: two different splits give bit-identical
    results (asserted exactly), and the sums path is compared with the array path at
    ``rtol = 1e-9``. The sums path forms co-moments as ``sum_ab - sum_a sum_b / n``, which costs
    ``eps * K`` relative with ``K = sum_sq / M2 <= 1e3`` (the strategy's filter), i.e. about
    2e-13; the adjusted variance ``c_yy - 2 theta c_xy + theta^2 c_xx`` divides that by the
    share of variance left after adjustment, which the filter keeps >= 1e-2, so the two paths
    agree to about 2e-11, and 1e-9 leaves margin. Quantities that are differences of means
    (effect, CI bounds, adjusted means) get the same relative tolerance times their natural
    scale ``max|y| + |theta| max|x|`` (their rounding is absolute, so a relative test is
    meaningless when they are near 0); statistic and p-value that over se; relative effects are
    compared when the control mean is away from 0 (as in tests/test_properties.py).
(b) Thread-count invariance: on more than 200k rows (several blocks of 65536 per array), results
    are identical (exact equality of every float) with ``set_num_threads(1)`` and ``(2)`` for
    ``cuped`` (arrays, mapping, frame), ``Experiment.analyze`` with Mean/Proportion/Ratio
    covariates (Ratio-CUPED) and ``regression_adjust`` (Lin and additive, HC0-HC2, categorical
    covariates, ``missing_covariate='indicator'``; post-stratification on 5 and 300 levels, and
    300 levels with a numeric and a second categorical covariate). The thread count is restored
    afterwards.
(c) ``nan_policy='omit'`` equals dropping the incomplete rows first, for ``cuped`` (arrays and
    frames) and ``regression_adjust``. Both calls see the same values in the same order; only
    the grouping of floating-point merges inside the kernel may differ, a few ulp on these
    samples of at most 160 well-conditioned rows (covariates and outcome drawn with
    ``max|v| / sd <= 50`` in practice), so the comparison is ``rtol = 1e-12``, with effects,
    CI bounds and adjusted means at ``1e-12 * se`` absolute and the statistic and p-value at
    ``1e-12`` absolute (the p-value's derivative in the statistic is below 1). 1e-12 still
    catches any row kept or dropped wrongly (that changes results at order 1/n).
(d) Invariances of the estimators themselves: adding a constant to the covariate(s), multiplying
    them by a non-zero constant, and permuting the rows of the frame leave effect, se and the
    rest unchanged up to rounding, checked at ``rtol = 1e-9`` (effects and CI bounds at
    ``1e-9 * se`` absolute, statistic and p-value at ``1e-9`` absolute). CUPED's theta is
    computed from centred co-moments and the regression centres covariates at their pooled
    means, so a shift ``c`` only perturbs the covariate's low-order bits (relative
    ``eps * |c| / sd(x) <= 2e-12`` for the shifts drawn, ``|c| <= 1e4 sd(x)``); a scale ``k``
    changes theta to ``theta / k`` and leaves the products exact up to one rounding each;
    a permutation changes only summation order (``n * eps`` relative at most, n <= 400).

Independent reference: these are invariances, so each side of a comparison is computed along a
different path (per-chunk sums vs one pass over the arrays, numpy/pandas NaN removal vs
``nan_policy``, one vs two threads, transformed vs original data); no value produced by neyman
is pinned.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from typing import Any

import neyman
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tests.conftest import ADJUSTED_FLOAT_FIELDS as FLOAT_FIELDS

BLOCK = 65536

SETTINGS = settings(
    deadline=None,
    max_examples=25,
    suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow],
)

# Differences of means: compared at an absolute tolerance on the scale of se.
LOCATION_FIELDS = ("control_value", "treatment_value", "effect", "ci_low", "ci_high")


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def _same(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


def rows_of(res: Any) -> list[neyman.TestResult]:
    return list(res) if isinstance(res, neyman.AnalysisResult) else [res]


def assert_identical(r1: neyman.TestResult, r2: neyman.TestResult) -> None:
    """Exact equality of every float (NaN equal to NaN), also of the unadjusted comparison."""
    for name in FLOAT_FIELDS:
        a, b = getattr(r1, name), getattr(r2, name)
        assert _same(a, b), (name, a, b)
    theta1, theta2 = getattr(r1, "theta", None), getattr(r2, "theta", None)
    assert theta1 is None or _same(theta1, theta2), ("theta", theta1, theta2)
    for name in ("n_control", "n_treatment", "method", "metric", "control", "treatment"):
        assert getattr(r1, name) == getattr(r2, name), name
    u1, u2 = r1.unadjusted, r2.unadjusted
    for name in FLOAT_FIELDS[:-1]:
        assert _same(getattr(u1, name), getattr(u2, name)), ("unadjusted", name)


def assert_close(
    r1: neyman.TestResult, r2: neyman.TestResult, *, rtol: float, loc_scale: float | None = None
) -> None:
    """``r1`` and ``r2`` agree to ``rtol``.

    se, df, rel_se and variance_ratio: relative. Adjusted means, effect and CI bounds: absolute
    ``rtol * loc_scale`` (default: se). Statistic and p-value: absolute ``rtol * loc_scale / se``.
    Relative effects: relative, plus ``rtol * rel_se`` absolute.
    """
    se = r2.se
    assert se > 0
    scale = se if loc_scale is None else loc_scale
    for name in FLOAT_FIELDS:
        a, b = getattr(r1, name), getattr(r2, name)
        if _same(a, b):
            continue
        if name in LOCATION_FIELDS:
            abs_tol = rtol * scale
        elif name in ("statistic", "pvalue"):
            abs_tol = rtol * scale / se
        elif name in ("rel_effect", "rel_ci_low", "rel_ci_high"):
            abs_tol = rtol * r2.rel_se * max(1.0, scale / se)
        else:
            abs_tol = 0.0
        assert math.isclose(a, b, rel_tol=rtol, abs_tol=abs_tol), (name, a, b)
    for name in ("n_control", "n_treatment", "method", "alternative", "control", "treatment"):
        assert getattr(r1, name) == getattr(r2, name), name


def assert_all_close(res1: Any, res2: Any, *, rtol: float) -> None:
    rows1, rows2 = rows_of(res1), rows_of(res2)
    assert len(rows1) == len(rows2)
    for a, b in zip(rows1, rows2, strict=True):
        assert a.metric == b.metric
        assert_close(a, b, rtol=rtol)


# --------------------------------------------------------------------------------------------
# (a) Chunk-merge invariance of CupedStats.from_sums
# --------------------------------------------------------------------------------------------


@st.composite
def chunkings(draw: Any, n: int) -> list[tuple[int, int]]:
    """A random split of ``range(n)`` into consecutive chunks (empty chunks allowed)."""
    cuts = sorted(draw(st.lists(st.integers(0, n), max_size=6)))
    bounds = [0, *cuts, n]
    return list(itertools.pairwise(bounds))


DYADIC_SCALES = st.sampled_from([1.0, 2.0**-10, 2.0**8, 0.5])


@st.composite
def exact_arm(draw: Any, slope: int) -> tuple[np.ndarray, np.ndarray]:
    """Integer (x, y) pairs times powers of two, y = slope * x + noise: all sums exact."""
    pairs = draw(
        st.lists(
            st.tuples(st.integers(-(2**12), 2**12), st.integers(-(2**12), 2**12)),
            min_size=3,
            max_size=120,
        )
    )
    x = np.array([p[0] for p in pairs], dtype=np.float64)
    y = slope * x + np.array([p[1] for p in pairs], dtype=np.float64)
    return y * draw(DYADIC_SCALES), x * draw(DYADIC_SCALES)


def comoments(y: np.ndarray, x: np.ndarray) -> tuple[float, float, float]:
    dy, dx = y - y.mean(), x - x.mean()
    return float(dy @ dy), float(dx @ dx), float(dx @ dy)


def well_conditioned(arms: list[tuple[np.ndarray, np.ndarray]]) -> bool:
    """Sums path accurate (K <= 1e3) and the adjusted variance not a cancellation (>= 1e-2)."""
    y_all = np.concatenate([a[0] for a in arms])
    x_all = np.concatenate([a[1] for a in arms])
    cyy, cxx, cxy = comoments(y_all, x_all)
    if cxx <= 0 or cyy <= 0:
        return False
    theta = cxy / cxx
    for y, x in arms:
        ayy, axx, axy = comoments(y, x)
        if ayy <= 0 or axx <= 0:
            return False
        if float(y @ y) > 1e3 * ayy or float(x @ x) > 1e3 * axx:
            return False
        gross = ayy + 2 * abs(theta * axy) + theta * theta * axx
        if ayy - 2 * theta * axy + theta * theta * axx < 1e-2 * gross:
            return False
    return True


def stats_from_chunks(
    y: np.ndarray, x: np.ndarray, chunks: list[tuple[int, int]]
) -> neyman.CupedStats:
    """Per-chunk SQL-style sums, added up (exact for these dyadic integers)."""
    n, sy, sx, syy, sxx, sxy = 0, 0.0, 0.0, 0.0, 0.0, 0.0
    for a, b in chunks:
        yc, xc = y[a:b], x[a:b]
        n += yc.size
        sy += math.fsum(yc)
        sx += math.fsum(xc)
        syy += math.fsum(yc * yc)
        sxx += math.fsum(xc * xc)
        sxy += math.fsum(xc * yc)
    return neyman.CupedStats.from_sums(n, sy, sx, syy, sxx, sxy)


@st.composite
def chunked_pair(draw: Any) -> Any:
    slope = draw(st.integers(-3, 3))
    control, treatment = draw(exact_arm(slope)), draw(exact_arm(slope))
    assume(well_conditioned([control, treatment]))
    splits = [draw(chunkings(a[0].size)) for a in (control, treatment) for _ in range(2)]
    return control, treatment, splits


@SETTINGS
@given(
    data=chunked_pair(),
    test=st.sampled_from(["welch", "z"]),
    alternative=st.sampled_from(["two-sided", "less", "greater"]),
    relative_ci=st.sampled_from(["delta", "fieller"]),
)
def test_cuped_chunk_merge_equals_arrays(
    data: Any, test: str, alternative: str, relative_ci: str
) -> None:
    (yc, xc), (yt, xt), (split_c1, split_c2, split_t1, split_t2) = data
    opts = {"test": test, "alternative": alternative, "relative_ci": relative_ci}
    sc1, sc2 = stats_from_chunks(yc, xc, split_c1), stats_from_chunks(yc, xc, split_c2)
    st1, st2 = stats_from_chunks(yt, xt, split_t1), stats_from_chunks(yt, xt, split_t2)
    # exact sums: any split gives the same statistics and the same result, bit for bit
    assert sc1 == sc2
    assert st1 == st2
    by_sums = neyman.cuped(sc1, st1, **opts)
    assert_identical(by_sums, neyman.cuped(sc2, st2, **opts))
    by_arrays = neyman.cuped(yc, xc, yt, xt, **opts)
    theta = by_arrays.theta
    scale = float(np.max(np.abs(np.r_[yc, yt]))) + abs(theta) * float(np.max(np.abs(np.r_[xc, xt])))
    assert_close(by_sums, by_arrays, rtol=1e-9, loc_scale=scale)
    y_all, x_all = np.r_[yc, yt], np.r_[xc, xt]
    cyy, cxx, _ = comoments(y_all, x_all)
    assert math.isclose(by_sums.theta, theta, rel_tol=1e-9, abs_tol=1e-9 * math.sqrt(cyy / cxx))
    assert by_sums.n_control == yc.size
    assert by_sums.n_treatment == yt.size


# --------------------------------------------------------------------------------------------
# (b) Thread-count invariance
# --------------------------------------------------------------------------------------------


@pytest.fixture
def restore_threads() -> Iterator[None]:
    before = neyman.get_num_threads()
    try:
        yield
    finally:
        neyman.set_num_threads(before)


def _big_frame(seed: int, extra: int) -> pd.DataFrame:
    """Three arms (int codes, control 0 at 1/2, two treatments at 1/4) on > 200k rows, so every
    arm spans more than one 65536-row block; NaN sprinkled over the covariates."""
    rng = np.random.default_rng(seed)
    n = 4 * BLOCK + 2 * extra + 3
    arm = np.where(rng.random(n) < 0.5, 0, np.where(rng.random(n) < 0.5, 1, 2)).astype(np.int32)
    x = rng.lognormal(1.0, 0.8, n)
    den_pre = rng.poisson(8.0, n) + 1.0
    den = rng.poisson(8.0, n) + 1.0
    df = pd.DataFrame(
        {
            "arm": arm,
            "y": 0.7 * x + rng.lognormal(0.0, 1.0, n) + 0.05 * arm,
            "x": x,
            "x2": rng.normal(0.0, 1.0, n),
            "conv": (rng.random(n) < 0.1 + 0.01 * arm).astype(np.float64),
            "conv_pre": (rng.random(n) < 0.1).astype(np.float64),
            "num": rng.binomial(den.astype(np.int64), 0.1).astype(np.float64),
            "den": den,
            "num_pre": rng.binomial(den_pre.astype(np.int64), 0.1).astype(np.float64),
            "den_pre": den_pre,
            "country": rng.integers(0, 5, n),
            "city": rng.integers(0, 300, n).astype(np.int32),
        }
    )
    df.loc[rng.integers(0, n, 400), "x"] = np.nan
    df.loc[rng.integers(0, n, 300), "num_pre"] = np.nan
    return df


def _all_adjusted(df: pd.DataFrame) -> list[Any]:
    arm = df["arm"].to_numpy()
    y, x = df["y"].to_numpy(), df["x"].to_numpy()
    c, a, b = arm == 0, arm == 1, arm == 2
    exp = neyman.Experiment(df, variant="arm", control=0)
    reg = {"metric": "y", "variant": "arm", "control": 0}
    return [
        neyman.cuped(y[c], x[c], y[a], x[a], nan_policy="omit"),
        neyman.cuped(
            y[c],
            x[c],
            {"a": y[a], "b": y[b]},
            {"a": x[a], "b": x[b]},
            nan_policy="omit",
            test="z",
            relative_ci="fieller",
        ),
        neyman.cuped(df, metric="y", covariate="x", nan_policy="omit", variant="arm", control=0),
        exp.analyze(
            neyman.Mean("y", covariate="x"),
            neyman.Proportion("conv", covariate="conv_pre"),
            neyman.Ratio(
                "num", "den", numerator_covariate="num_pre", denominator_covariate="den_pre"
            ),
            neyman.Mean(
                "y", covariate=["x", "x2"], categorical="country", cov_type="HC1", name="y lin"
            ),
            neyman.Mean("y", strata="country", name="y strata"),
            neyman.Mean("y", strata="city", cov_type="HC1", name="y city"),
            nan_policy="omit",
        ),
        neyman.regression_adjust(
            df, covariates="x2", categorical=["city", "country"], **reg, nan_policy="omit"
        ),
        neyman.regression_adjust(
            df, covariates=["x", "x2"], categorical="country", **reg, nan_policy="omit"
        ),
        neyman.regression_adjust(
            df, covariates=["x", "x2"], interaction=False, cov_type="HC0", **reg, nan_policy="omit"
        ),
        neyman.regression_adjust(df, covariates=["x", "x2"], missing_covariate="indicator", **reg),
    ]


@settings(deadline=None, max_examples=2)
@given(seed=st.integers(0, 2**32 - 1), extra=st.integers(1, BLOCK))
def test_thread_count_invariance(seed: int, extra: int) -> None:
    df = _big_frame(seed, extra)
    before = neyman.get_num_threads()
    try:
        neyman.set_num_threads(1)
        one = _all_adjusted(df)
        neyman.set_num_threads(2)
        two = _all_adjusted(df)
    finally:
        neyman.set_num_threads(before)
    assert neyman.get_num_threads() == before
    assert len(one) == len(two)
    for r1, r2 in zip(one, two, strict=True):
        rows1, rows2 = rows_of(r1), rows_of(r2)
        assert len(rows1) == len(rows2)
        for a, b in zip(rows1, rows2, strict=True):
            assert_identical(a, b)
            assert math.isfinite(a.pvalue)
            assert a.n_control > BLOCK


# --------------------------------------------------------------------------------------------
# Frames for (c) and (d)
# --------------------------------------------------------------------------------------------


@st.composite
def frames(draw: Any, min_arm: int = 12, max_arm: int = 80) -> pd.DataFrame:
    """A control/treatment frame with correlated covariates, a 3-level categorical balanced
    within each arm, 0/1 outcomes and ratio columns."""
    seed = draw(st.integers(0, 2**32 - 1))
    n_c, n_t = draw(st.integers(min_arm, max_arm)), draw(st.integers(min_arm, max_arm))
    rng = np.random.default_rng(seed)
    n = n_c + n_t
    mu_x, sd_x = draw(st.sampled_from([0.0, 10.0, -300.0])), draw(st.sampled_from([0.1, 1.0, 50.0]))
    rho = draw(st.sampled_from([0.0, 0.3, 0.8, 0.95]))
    x = rng.normal(mu_x, sd_x, n)
    z = (x - mu_x) / sd_x
    y = 5.0 + rho * z + math.sqrt(1 - rho * rho) * rng.normal(0.0, 1.0, n)
    y[n_c:] += draw(st.sampled_from([0.0, 0.2, -0.5]))
    den = rng.poisson(6.0, n) + 1.0
    den_pre = rng.poisson(6.0, n) + 1.0
    levels = np.array(["p", "q", "r"])
    g = np.r_[levels[np.arange(n_c) % 3], levels[np.arange(n_t) % 3]]
    return pd.DataFrame(
        {
            "arm": np.array(["c"] * n_c + ["t"] * n_t),
            "y": y,
            "x": x,
            "x2": rng.normal(2.0, 3.0, n) + 0.5 * z,
            "g": g,
            "b": (rng.random(n) < 0.3 + 0.1 * (z > 0)).astype(np.float64),
            "num": rng.binomial(den.astype(np.int64), 0.2).astype(np.float64),
            "den": den,
            "num_pre": rng.binomial(den_pre.astype(np.int64), 0.2).astype(np.float64),
            "den_pre": den_pre,
        }
    )


def _cuped_arrays(df: pd.DataFrame, cov: str = "x", **kw: Any) -> Any:
    c, t = df[df["arm"] == "c"], df[df["arm"] == "t"]
    return neyman.cuped(
        c["y"].to_numpy(), c[cov].to_numpy(), t["y"].to_numpy(), t[cov].to_numpy(), **kw
    )


def _cuped_frame(df: pd.DataFrame, cov: str = "x", **kw: Any) -> Any:
    return neyman.cuped(df, metric="y", covariate=cov, variant="arm", control="c", **kw)


def _regression(df: pd.DataFrame, covs: tuple[str, ...] = ("x", "x2"), **kw: Any) -> Any:
    return neyman.regression_adjust(
        df, metric="y", variant="arm", control="c", covariates=list(covs), categorical="g", **kw
    )


REG_OPTIONS = st.fixed_dictionaries(
    {
        "interaction": st.booleans(),
        "cov_type": st.sampled_from(["HC0", "HC1", "HC2"]),
    }
)


# --------------------------------------------------------------------------------------------
# (c) nan_policy='omit' equals dropping rows first
# --------------------------------------------------------------------------------------------


@st.composite
def frames_with_nan(draw: Any) -> pd.DataFrame:
    """A frame with NaN in y, x or x2 in at most 4 rows per arm (each level of g keeps at least
    2 units per arm, so the regression stays identified and no unit has leverage 1)."""
    df = draw(frames(min_arm=18))
    n_c = int((df["arm"] == "c").sum())
    n = len(df)
    rows_c = draw(st.lists(st.integers(0, n_c - 1), min_size=0, max_size=4, unique=True))
    rows_t = draw(st.lists(st.integers(n_c, n - 1), min_size=0, max_size=4, unique=True))
    assume(rows_c or rows_t)
    columns = draw(
        st.lists(
            st.sampled_from(["y", "x", "x2"]),
            min_size=len(rows_c) + len(rows_t),
            max_size=len(rows_c) + len(rows_t),
        )
    )
    out = df.copy()
    for row, col in zip(rows_c + rows_t, columns, strict=True):
        out.loc[row, col] = np.nan
    return out


@SETTINGS
@given(df=frames_with_nan(), test=st.sampled_from(["welch", "z"]))
def test_cuped_omit_equals_dropping(df: pd.DataFrame, test: str) -> None:
    complete = df[["y", "x"]].notna().all(axis=1)
    dropped = df[complete].reset_index(drop=True)
    for call in (_cuped_arrays, _cuped_frame):
        omitted = call(df, nan_policy="omit", test=test)
        reference = call(dropped, test=test)
        assert_all_close(omitted, reference, rtol=1e-12)
        for a, b in zip(rows_of(omitted), rows_of(reference), strict=True):
            assert math.isclose(a.theta, b.theta, rel_tol=1e-12, abs_tol=1e-12 * abs(b.theta))
            assert a.n_control == int(complete[df["arm"] == "c"].sum())
            assert a.n_treatment == int(complete[df["arm"] == "t"].sum())


@SETTINGS
@given(df=frames_with_nan(), opts=REG_OPTIONS)
def test_regression_omit_equals_dropping(df: pd.DataFrame, opts: dict[str, Any]) -> None:
    complete = df[["y", "x", "x2"]].notna().all(axis=1)
    dropped = df[complete].reset_index(drop=True)
    omitted = _regression(df, nan_policy="omit", **opts)
    reference = _regression(dropped, **opts)
    assert_all_close(omitted, reference, rtol=1e-12)
    assert omitted[0].n_control == int(complete[df["arm"] == "c"].sum())
    assert omitted[0].n_treatment == int(complete[df["arm"] == "t"].sum())


# --------------------------------------------------------------------------------------------
# (d) Shift, scale and row order of the covariates
# --------------------------------------------------------------------------------------------

SHIFTS = st.sampled_from([-1e4, -7.5, 0.3, 12.0, 1e3])  # in units of sd(x)
SCALES = st.sampled_from([2.0**-7, 3.7, 1e-3, 1e4, -2.5, -1.0])


def _shifted(df: pd.DataFrame, columns: list[str], shifts: list[float]) -> pd.DataFrame:
    out = df.copy()
    for col, c in zip(columns, shifts, strict=True):
        out[col] = out[col] + c * float(out[col].std())
    return out


def _scaled(df: pd.DataFrame, columns: list[str], scales: list[float]) -> pd.DataFrame:
    out = df.copy()
    for col, k in zip(columns, scales, strict=True):
        out[col] = out[col] * k
    return out


@SETTINGS
@given(df=frames(), shift=SHIFTS, scale=SCALES)
def test_cuped_covariate_shift_and_scale(df: pd.DataFrame, shift: float, scale: float) -> None:
    for call in (_cuped_arrays, _cuped_frame):
        base = call(df)
        assert_all_close(call(_shifted(df, ["x"], [shift])), base, rtol=1e-9)
        scaled = call(_scaled(df, ["x"], [scale]))
        assert_all_close(scaled, base, rtol=1e-9)
        # theta scales inversely with the covariate
        for a, b in zip(rows_of(scaled), rows_of(base), strict=True):
            sd_ratio = float(df["y"].std() / df["x"].std())
            assert math.isclose(a.theta * scale, b.theta, rel_tol=1e-9, abs_tol=1e-9 * sd_ratio)


@SETTINGS
@given(
    df=frames(),
    shifts=st.lists(SHIFTS, min_size=2, max_size=2),
    scales=st.lists(SCALES, min_size=2, max_size=2),
    opts=REG_OPTIONS,
)
def test_regression_covariate_shift_and_scale(
    df: pd.DataFrame, shifts: list[float], scales: list[float], opts: dict[str, Any]
) -> None:
    base = _regression(df, **opts)
    assert_all_close(_regression(_shifted(df, ["x", "x2"], shifts), **opts), base, rtol=1e-9)
    assert_all_close(_regression(_scaled(df, ["x", "x2"], scales), **opts), base, rtol=1e-9)


@SETTINGS
@given(df=frames(), perm_seed=st.integers(0, 2**32 - 1), opts=REG_OPTIONS)
def test_row_order_does_not_matter(df: pd.DataFrame, perm_seed: int, opts: dict[str, Any]) -> None:
    order = np.random.default_rng(perm_seed).permutation(len(df))
    shuffled = df.iloc[order].reset_index(drop=True)
    assert_all_close(_cuped_frame(shuffled), _cuped_frame(df), rtol=1e-9)
    assert_all_close(_regression(shuffled, **opts), _regression(df, **opts), rtol=1e-9)
    metrics = (
        neyman.Mean("y", covariate="x", test="z"),
        neyman.Proportion("b", covariate="x"),
        neyman.Ratio("num", "den", numerator_covariate="num_pre", denominator_covariate="den_pre"),
        neyman.Mean("y", strata="g", cov_type=opts["cov_type"], name="y strata"),
    )
    assert_all_close(
        neyman.Experiment(shuffled, variant="arm", control="c").analyze(*metrics),
        neyman.Experiment(df, variant="arm", control="c").analyze(*metrics),
        rtol=1e-9,
    )
