"""Properties of the Monitor: feeding it look by look equals analysing the cumulative data; a
pickled monitor continues identically; statistics computed elsewhere give the same state as the
rows; each treatment arm keeps its own sequence."""

from __future__ import annotations

import pickle
from typing import Any

import neyman
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st


def _days(seed: int, n_days: int = 6, arms: tuple[str, ...] = ("c", "t", "u")) -> list[Any]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n_days):
        arm = rng.choice(arms, 1500)
        y = rng.lognormal(0.0, 1.0, 1500) * (1 + 0.05 * (arm == "t"))
        conv = (rng.random(1500) < 0.1 + 0.02 * (arm == "t")).astype(float)
        out.append(
            pd.DataFrame({"arm": arm, "y": y, "conv": conv, "x": y + rng.normal(0, 1, 1500)})
        )
    return out


METRICS = (
    neyman.Mean("y"),
    neyman.Proportion("conv"),
    neyman.Mean("y", covariate="x", name="y_cuped"),
)


@pytest.mark.parametrize("method", ["msprt", "confidence_sequence"])
def test_look_by_look_equals_the_cumulative_analysis(method: str) -> None:
    days = _days(1)
    opts: dict[str, Any] = {"planned_n": 20_000} if method == "msprt" else {"tuning": 5000.0}
    mon = neyman.Monitor(*METRICS, variant="arm", control="c", method=method, **opts)
    for k, day in enumerate(days, start=1):
        state = mon.update(day)
        upto = pd.concat(days[:k])
        fixed = neyman.Experiment(upto, variant="arm", control="c").analyze(*METRICS)
        for row, ref in zip(state, fixed, strict=True):
            assert (row.metric, row.treatment) == (ref.metric, ref.treatment)
            assert row.effect == pytest.approx(ref.effect, rel=1e-12, abs=1e-15)
            assert row.fixed_pvalue == pytest.approx(ref.pvalue, rel=1e-9, abs=1e-15)
            assert row.look == k
    # The last look's p-value is the running minimum over the cumulative analyses' looks.
    last = mon.state()[0]
    path_in = [
        neyman.Experiment(pd.concat(days[:k]), variant="arm", control="c").analyze(METRICS[0])[0]
        for k in range(1, len(days) + 1)
    ]
    effect = [r.effect for r in path_in]
    var = [r.se**2 for r in path_in]
    n = [r.n_control + r.n_treatment for r in path_in]
    if method == "msprt":
        path = neyman.msprt_path(effect, var, mixing_variance=last.mixing_variance)
    else:
        path = neyman.confidence_sequence_path(effect, var, n, tuning=5000.0)
    assert last.pvalue == pytest.approx(path.pvalue[-1], rel=1e-9)
    assert last.ci_low == pytest.approx(path.ci_low[-1], rel=1e-9)


def test_pickled_monitor_continues_identically() -> None:
    days = _days(2)
    mon = neyman.Monitor(*METRICS, variant="arm", control="c", mde=0.05)
    for day in days[:3]:
        mon.update(day)
    copy = pickle.loads(pickle.dumps(mon))
    for day in days[3:]:
        a, b = mon.update(day), copy.update(day)
        assert a.to_pandas().equals(b.to_pandas())
    assert mon.history() == copy.history()


def test_statistics_batches_equal_rows() -> None:
    days = _days(3)
    by_rows = neyman.Monitor(*METRICS, variant="arm", control="c", mde=0.05)
    by_stats = neyman.Monitor(*METRICS, variant="arm", control="c", mde=0.05)
    for day in days:
        a = by_rows.update(day)
        batch = {m.label: m.aggregate(day, variant="arm", control="c") for m in METRICS}
        b = by_stats.update(batch)
    assert a.to_pandas().equals(b.to_pandas())


def test_each_arm_keeps_its_own_sequence() -> None:
    days = _days(4)
    three = neyman.Monitor(neyman.Mean("y"), variant="arm", control="c", mde=0.05)
    two = neyman.Monitor(neyman.Mean("y"), variant="arm", control="c", mde=0.05)
    for day in days:
        s3 = three.update(day)
        s2 = two.update(day[day["arm"] != "u"])
    t3 = next(r for r in s3 if r.treatment == "t")
    assert len(s3) == 2
    assert (t3.effect, t3.pvalue, t3.ci_low, t3.ci_high) == (
        s2[0].effect,
        s2[0].pvalue,
        s2[0].ci_low,
        s2[0].ci_high,
    )


def test_group_sequential_monitor_uses_the_design_at_observed_fractions() -> None:
    """The Monitor's group-sequential rows: the repeated confidence interval is the estimate -+
    the design's bound at the observed fraction times the standard error (intersected over the
    looks), and the repeated p-value is below alpha exactly when the design's test has crossed."""
    design = neyman.GroupSequentialDesign(4, spending="pocock")
    mon = neyman.Monitor(
        neyman.Mean("y"), variant="arm", control="c", method="group_sequential", design=design,
        planned_n=9000,
    )  # fmt: skip
    effects, ses, ns = [], [], []
    for day in _days(6, n_days=5, arms=("c", "t")):
        r = mon.update(day)[0]
        effects.append(r.effect)
        ses.append(r.se)
        ns.append(r.n_control + r.n_treatment)
        t = np.array(ns) / 9000
        bounds = design.bounds(t)
        half = np.abs(bounds.z_bounds) * np.array(ses)
        assert r.ci_low == pytest.approx(np.max(np.array(effects) - half), rel=1e-12)
        assert r.ci_high == pytest.approx(np.min(np.array(effects) + half), rel=1e-12)
        crossed = bounds.test(np.array(effects) / np.array(ses)).reject
        assert (r.pvalue < design.alpha) == crossed


@settings(max_examples=30, deadline=None)
@given(
    z=st.lists(st.floats(-4, 4), min_size=1, max_size=4),
    spending=st.sampled_from(["obrien-fleming", "pocock"]),
    alternative=st.sampled_from(["two-sided", "greater", "less"]),
)
def test_repeated_pvalue_below_alpha_iff_crossed(
    z: list[float], spending: str, alternative: str
) -> None:
    alpha = 0.05 if alternative == "two-sided" else 0.025
    design = neyman.GroupSequentialDesign(
        4, spending=spending, alternative=alternative, alpha=alpha
    )
    t = np.array([0.2, 0.45, 0.7, 1.0])[: len(z)]
    p = design.repeated_pvalue(t, z)
    crossed = design.bounds(t).test(z).reject
    # Away from the boundary itself (the bisection's 1e-6 relative tolerance).
    if abs(p - alpha) > 1e-5 * alpha:
        assert (p < alpha) == crossed
