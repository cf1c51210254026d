"""Statistics as objects: they merge (in the core), pickle, cross processes, and finalize to the
same numbers as one pass over the rows.

Exactness: a merge of chunks is compared with the one-pass statistic to 1e-12 relative (the Chan
merge regroups floating-point sums, so bits may differ in general); where the chunks are whole
65,536-row blocks and the first chunk has a power-of-two number of blocks no smaller than the
second, the one-pass reduction merges exactly the same partial statistics in the same order, and
the comparison is bit for bit.
"""

from __future__ import annotations

import math
import multiprocessing
import pickle
from typing import Any

import neyman
import numpy as np
import pandas as pd
import pytest

BLOCK = 65536

METRICS = [
    neyman.Mean("y"),
    neyman.Mean("y", covariate="x"),
    neyman.Proportion("b"),
    neyman.Proportion("b", covariate="x"),
    neyman.Ratio("num", "den"),
    neyman.Ratio("num", "den", numerator_covariate="num_pre", denominator_covariate="den_pre"),
]


def frame(n: int, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(10.0, 2.0, n)
    den_pre = rng.poisson(8, n) + 1.0
    den = den_pre + rng.poisson(2, n)
    return pd.DataFrame(
        {
            "arm": rng.choice(np.array(["c", "t", "u"]), n),
            "y": 1.0 + 0.8 * x + rng.normal(0.0, 1.0, n),
            "x": x,
            "b": (rng.random(n) < 0.2).astype(np.float64),
            "num": rng.binomial(den.astype(int), 0.1).astype(np.float64),
            "den": den,
            "num_pre": rng.binomial(den_pre.astype(int), 0.1).astype(np.float64),
            "den_pre": den_pre,
        }
    )


def _merge(parts: list[dict[Any, Any]]) -> dict[Any, Any]:
    return neyman.merge_arms(parts)


def _aggregate(metric: neyman.Metric, df: pd.DataFrame) -> bytes:
    """What a worker process does: aggregate its chunk and send the pickled statistics back."""
    return pickle.dumps(metric.aggregate(df, variant="arm", control="c"))


@pytest.mark.parametrize("metric", METRICS, ids=lambda m: type(m).__name__ + str(m.columns()))
def test_pickle_round_trip_is_equal(metric: neyman.Metric) -> None:
    stats = metric.aggregate(frame(5000), variant="arm", control="c")
    for s in stats.values():
        back = pickle.loads(pickle.dumps(s))
        assert back == s
        assert type(back) is type(s)
        assert back.to_dict() == s.to_dict()
        assert repr(back) == repr(s)


@pytest.mark.parametrize("metric", METRICS, ids=lambda m: type(m).__name__ + str(m.columns()))
@pytest.mark.parametrize("split", [1, 17, 2500, 4999])
def test_merged_chunks_finalize_like_one_pass(metric: neyman.Metric, split: int) -> None:
    df = frame(5000)
    one = metric.aggregate(df, variant="arm", control="c")
    parts = [
        metric.aggregate(df.iloc[:split], variant="arm", control="c"),
        metric.aggregate(df.iloc[split:], variant="arm", control="c"),
    ]
    merged = _merge(parts)
    assert set(merged) == set(one)
    for arm in one:
        a, b = merged[arm].to_dict(), one[arm].to_dict()
        for key in a:
            np.testing.assert_allclose(a[key], b[key], rtol=1e-12, atol=1e-9, err_msg=key)
    res_merged = metric.compare(merged, control="c")
    res_one = metric.compare(one, control="c")
    for r1, r2 in zip(res_merged, res_one, strict=True):
        for f in ("effect", "se", "ci_low", "ci_high", "pvalue", "rel_effect"):
            assert math.isclose(getattr(r1, f), getattr(r2, f), rel_tol=1e-9, abs_tol=1e-12), f


def test_two_processes_bit_for_bit() -> None:
    # Two halves of whole blocks (2 + 2 of 65,536 rows), aggregated in two worker processes,
    # pickled, merged and finalized: the same bits as one pass over the whole frame.
    df = frame(4 * BLOCK, seed=3)
    halves = [df.iloc[: 2 * BLOCK].reset_index(drop=True), df.iloc[2 * BLOCK :]]
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(2) as pool:
        blobs = pool.starmap(_aggregate, [(m, h) for m in METRICS for h in halves])
    for i, metric in enumerate(METRICS):
        parts = [pickle.loads(b) for b in blobs[2 * i : 2 * i + 2]]
        merged = _merge(parts)
        one = metric.aggregate(df, variant="arm", control="c")
        assert merged == one, metric
        r_merged = metric.compare(merged, control="c")
        r_one = metric.compare(one, control="c")
        assert [r.to_dict() for r in r_merged] == [r.to_dict() for r in r_one]
        # ... and the same as Experiment.analyze, which is aggregate then finalize.
        r_exp = neyman.Experiment(df, variant="arm", control="c").analyze(metric)
        assert [r.pvalue for r in r_exp] == [r.pvalue for r in r_one]


def test_merge_is_the_core_merge_of_stats() -> None:
    a = neyman.MeanStats(3, 2.0, 2.0)  # 1, 2, 3
    b = neyman.MeanStats(2, 5.0, 2.0)  # 4, 6
    m = a.merge(b)
    x = np.array([1.0, 2.0, 3.0, 4.0, 6.0])
    assert m.n == 5
    assert math.isclose(m.mean, x.mean(), rel_tol=1e-15)
    assert math.isclose(m.m2, float(((x - x.mean()) ** 2).sum()), rel_tol=1e-14)
    p = neyman.ProportionStats(3, 10).merge(neyman.ProportionStats(np.int64(4), 5))
    assert (p.successes, p.trials) == (7, 15)
    # A statistic is frozen: its fields cannot be set.
    with pytest.raises(AttributeError):
        a.n = 4  # type: ignore[misc]


def test_nan_counts_merge_and_propagate() -> None:
    df = frame(2000)
    df.loc[5, "y"] = np.nan
    metric = neyman.Mean("y")
    parts = [
        metric.aggregate(df.iloc[:1000], variant="arm", control="c"),
        metric.aggregate(df.iloc[1000:], variant="arm", control="c"),
    ]
    merged = _merge(parts)
    assert sum(s.n_nan for s in merged.values()) == 1
    res = metric.compare(merged, control="c")
    arm = df.loc[5, "arm"]
    assert any(math.isnan(r.effect) for r in res) or arm == "c"
    omitted = metric.compare(merged, control="c", nan_policy="omit")
    direct = neyman.Experiment(df, variant="arm", control="c").analyze(metric, nan_policy="omit")
    for r1, r2 in zip(omitted, direct, strict=True):
        assert math.isclose(r1.pvalue, r2.pvalue, rel_tol=1e-9)


def test_from_sums_and_centred_forms_agree() -> None:
    rng = np.random.default_rng(4)
    x = rng.normal(3.0, 1.5, 1000)
    s1 = neyman.MeanStats.from_sums(x.size, float(x.sum()), float((x * x).sum()))
    s2 = neyman.MeanStats(x.size, float(x.mean()), float(((x - x.mean()) ** 2).sum()))
    assert math.isclose(s1.mean, s2.mean, rel_tol=1e-13)
    assert math.isclose(s1.m2, s2.m2, rel_tol=1e-10)
    assert s1.to_dict()["n"] == 1000


def test_merge_arms_unions_arms() -> None:
    a = {"c": neyman.MeanStats(2, 1.0, 2.0)}
    b = {"c": neyman.MeanStats(2, 3.0, 2.0), "t": neyman.MeanStats(3, 1.0, 1.0)}
    out = neyman.merge_arms([a, b])
    assert list(out) == ["c", "t"]
    assert out["c"].n == 4
    assert out["t"].n == 3


@pytest.mark.parametrize("scale", [1e80, 1e-80, 2.0**200, 3e-70])
def test_scale_equivariance(scale: float) -> None:
    # Moments are scale-equivariant: t, p, df and relative effects do not change with the unit of
    # the data, and effects, standard errors and intervals scale with it (issue #8: data at 1e80
    # used to give "degrees of freedom are NaN").
    rng = np.random.default_rng(12)
    x_c, x_t = rng.normal(10, 2, 500), rng.normal(10, 2, 600)
    y_c = x_c + rng.normal(0, 1, 500)
    y_t = x_t + 0.3 + rng.normal(0, 1, 600)
    den_c, den_t = rng.poisson(8, 500) + 1.0, rng.poisson(8, 600) + 1.0
    # (function, arguments, which arguments carry the unit, options); a ratio's denominators keep
    # theirs so that the ratio scales.
    cases = [
        (neyman.ttest, (y_c, y_t), (0, 1), {}),
        (neyman.ttest, (y_c, y_t), (0, 1), {"relative_ci": "fieller"}),
        (neyman.ztest, (y_c, y_t), (0, 1), {}),
        (neyman.cuped, (y_c, x_c, y_t, x_t), (0, 1, 2, 3), {}),
        (neyman.ratio, (y_c, den_c, y_t, den_t), (0, 2), {"relative_ci": "fieller"}),
    ]
    for func, args, unit, kw in cases:
        base = func(*args, **kw)
        scaled = func(*(a * scale if i in unit else a for i, a in enumerate(args)), **kw)
        for f in ("statistic", "pvalue", "df", "rel_effect", "rel_ci_low", "rel_ci_high"):
            b, s = getattr(base, f), getattr(scaled, f)
            assert math.isclose(b, s, rel_tol=1e-10, abs_tol=1e-300) or b == s, (func, f, b, s)
        for f in ("effect", "se", "ci_low", "ci_high", "control_value"):
            b, s = getattr(base, f) * scale, getattr(scaled, f)
            assert math.isclose(b, s, rel_tol=1e-10), (func, f, b, s)


@pytest.mark.parametrize("scale", [1e80, 1e-80, 2.0**200, 3e-70])
@pytest.mark.parametrize("categorical", [None, ["city"], ["city", "platform"]])
@pytest.mark.parametrize("interaction", [True, False])
def test_regression_scale_equivariance(
    scale: float, categorical: list[str] | None, interaction: bool
) -> None:
    # Regression adjustment works on exactly rescaled data (powers of two): with the outcome and a
    # covariate at 1e80 its sandwich sums (fourth powers) used to overflow (issue #8). Scaling the
    # outcome scales effects and errors; scaling a covariate by any factor changes nothing.
    rng = np.random.default_rng(14)
    n = 1500
    arm = rng.choice(["c", "t"], n)
    x = rng.normal(10, 2, n)
    city = rng.integers(0, 12, n)
    platform = rng.choice(["ios", "web", "android"], n)
    y = x + 0.3 * (arm == "t") + 0.1 * city + rng.normal(0, 1 + 0.2 * np.abs(x - 10), n)
    frame = {"arm": arm, "city": city, "platform": platform}

    def fit(sy: float, sx: float) -> Any:
        df = pd.DataFrame({**frame, "y": y * sy, "x": x * sx})
        return neyman.regression_adjust(
            df,
            metric="y",
            variant="arm",
            control="c",
            covariates=["x"],
            categorical=categorical,
            interaction=interaction,
        )[0]

    base = fit(1.0, 1.0)
    for sy, sx in [(scale, scale), (scale, 1 / scale), (1.0, scale)]:
        scaled = fit(sy, sx)
        for f in ("statistic", "pvalue", "df", "rel_effect"):
            b, s = getattr(base, f), getattr(scaled, f)
            assert math.isclose(b, s, rel_tol=1e-10), (f, sy, sx, b, s)
        for f in ("effect", "se", "ci_low", "ci_high"):
            b, s = getattr(base, f) * sy, getattr(scaled, f)
            assert math.isclose(b, s, rel_tol=1e-10), (f, sy, sx, b, s)
    for beyond in (1e160, 1e-165):
        with pytest.raises(neyman.InputError, match=r"y: values of magnitude .*rescale"):
            fit(beyond, 1.0)


@pytest.mark.parametrize("scale", [1e160, 1e-165, 1e-310])
def test_beyond_float64_squares_is_named(scale: float) -> None:
    # Squares beyond float64's normal range (overflow, or subnormal data): an error naming the
    # argument (arrays) or the column (frames), never "both arms are constant" or NaN df.
    rng = np.random.default_rng(13)
    a, b = rng.normal(10, 2, 100) * scale, rng.normal(10, 2, 100) * scale
    with pytest.raises(neyman.InputError, match=r"^control: values of magnitude .*rescale"):
        neyman.ttest(a, b)
    df = pd.DataFrame({"arm": ["c", "t"] * 100, "y": np.concatenate([a, b])})
    with pytest.raises(neyman.InputError, match=r"^y: values of magnitude .*rescale"):
        neyman.ttest(df, metric="y", variant="arm", control="c")
