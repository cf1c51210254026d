"""Reference tests for the sample-ratio-mismatch check: ``neyman.srm`` and ``Experiment(...).srm``.

What is checked, and against which independent reference:

- ``neyman.srm(observed, planned_split)`` against ``scipy.stats.chisquare(observed, f_exp)`` with
  ``f_exp = N w_i / sum(w)``: statistic, p-value, df (``k - 1``), the expected counts, and the
  ``mismatch`` flag (``pvalue < alpha``, with scipy's p-value). Two and three (and five) arms,
  equal and unequal planned splits given as lists or dicts, weights on any positive scale, counts
  from balanced to grossly mismatched (p ~ 1e-219).
- ``Experiment(df, variant=..., control=..., planned_split=...).analyze(...).srm`` (and
  ``Experiment.srm()``) on the example data (``data/example_experiment.parquet``, 200k users,
  planned 50/25/25) and on synthetic pandas and polars frames with an injected mismatch, against
  scipy on the frame's arm counts (counted by pandas / polars, not by neyman).

Tolerances (measured in brackets):

- ``RTOL = 1e-9`` for the statistic and expected counts: a short sum of ``(o - e)^2 / e`` terms,
  evaluated by both sides in float64 [max: identical].
- ``RTOL_P = 1e-8`` for p-values: statrs' regularised upper incomplete gamma against scipy's
  (Cephes ``chdtrc``), different algorithms for the same function [max 2e-14]. Five orders below
  reporting precision.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import neyman
import numpy as np
import pandas as pd
import polars as pl
import pytest
import scipy.stats

RTOL = 1e-9
RTOL_P = 1e-8
DATA = Path(__file__).resolve().parents[2] / "data" / "example_experiment.parquet"


def reference(observed: list[int], weights: list[float] | None) -> tuple[Any, np.ndarray]:
    obs = np.asarray(observed, dtype=np.float64)
    w = np.ones(len(obs)) if weights is None else np.asarray(weights, dtype=np.float64)
    f_exp = obs.sum() * w / w.sum()
    return scipy.stats.chisquare(obs, f_exp), f_exp


def assert_matches(
    res: neyman.SRMResult, observed: list[int], weights: list[float] | None, alpha: float
) -> None:
    ref, f_exp = reference(observed, weights)
    assert math.isclose(res.statistic, float(ref.statistic), rel_tol=RTOL, abs_tol=1e-12)
    assert math.isclose(res.pvalue, float(ref.pvalue), rel_tol=RTOL_P), (res.pvalue, ref.pvalue)
    assert res.df == len(observed) - 1
    assert list(res.observed.values()) == list(observed)
    np.testing.assert_allclose(list(res.expected.values()), f_exp, rtol=RTOL)
    assert res.mismatch == bool(ref.pvalue < alpha)


CASES = [
    # (observed, planned weights or None for equal)
    ([5000, 5000], None),
    ([5100, 4900], None),
    ([520, 480], [1, 1]),
    ([50_400, 49_600], [0.5, 0.5]),
    ([10_000, 11_000], None),
    ([52_000, 48_000], None),
    ([55_000, 45_000], None),
    ([7, 13], None),
    ([9000, 1000], [0.9, 0.1]),
    ([8800, 1200], [9, 1]),
    ([30_000, 20_000], [0.6, 0.4]),
    ([100_250, 49_750, 50_000], [2, 1, 1]),
    ([100_000, 50_000, 50_000], [0.5, 0.25, 0.25]),
    ([1000, 1000, 1000], None),
    ([1050, 980, 970], None),
    ([3000, 1500, 700], [50, 25, 25]),
    ([333, 333, 334], [1 / 3, 1 / 3, 1 / 3]),
    ([200, 210, 190, 205, 195], None),
    ([2000, 2100, 1900, 2050, 1500], None),
    ([400, 100, 100, 100, 300], [4, 1, 1, 1, 3]),
]


@pytest.mark.parametrize("alpha", [0.001, 0.05])
@pytest.mark.parametrize("form", ["list", "dict"])
@pytest.mark.parametrize(("observed", "weights"), CASES, ids=[str(c[0]) for c in CASES])
def test_srm_matches_scipy_chisquare(
    observed: list[int], weights: list[float] | None, form: str, alpha: float
) -> None:
    if form == "list":
        res = neyman.srm(observed, weights, alpha=alpha)
    else:
        labels = ["control", *[f"t{i}" for i in range(1, len(observed))]]
        split = None if weights is None else dict(zip(labels, weights, strict=True))
        res = neyman.srm(dict(zip(labels, observed, strict=True)), split, alpha=alpha)
        assert list(res.observed) == labels
    assert_matches(res, observed, weights, alpha)


def test_srm_dict_split_is_matched_by_label_not_order() -> None:
    observed = {"control": 9000, "treatment": 1000}
    res = neyman.srm(observed, {"treatment": 0.1, "control": 0.9})
    assert_matches(res, [9000, 1000], [0.9, 0.1], 0.001)


# --------------------------------------------------------------------------------------------------
# Experiment.srm on frames


def test_experiment_srm_on_example_data_matches_scipy() -> None:
    df = pd.read_parquet(DATA, columns=["arm", "revenue"])
    split = {"control": 0.5, "treatment_a": 0.25, "treatment_b": 0.25}
    exp = neyman.Experiment(df, variant="arm", control="control", planned_split=split)
    res = exp.analyze(neyman.Mean("revenue"))
    counts = df["arm"].value_counts()
    labels = ["control", "treatment_a", "treatment_b"]
    observed = [int(counts[a]) for a in labels]
    assert res.srm is not None
    assert set(res.srm.observed) == set(labels)
    obs_by_label = [res.srm.observed[a] for a in labels]
    assert obs_by_label == observed
    ref, f_exp = reference(observed, [split[a] for a in labels])
    assert math.isclose(res.srm.statistic, float(ref.statistic), rel_tol=RTOL)
    assert math.isclose(res.srm.pvalue, float(ref.pvalue), rel_tol=RTOL_P)
    assert res.srm.df == 2
    np.testing.assert_allclose([res.srm.expected[a] for a in labels], f_exp, rtol=RTOL)
    assert res.srm.mismatch == bool(ref.pvalue < 0.001)
    # Experiment.srm() is the same check
    direct = exp.srm()
    assert (direct.statistic, direct.pvalue) == (res.srm.statistic, res.srm.pvalue)


def _mismatched_arms() -> np.ndarray:
    # planned 50/30/20 but assignment drifts: the realised shares are about 50/31.5/18.5
    rng = np.random.default_rng(8)
    return rng.choice(np.array(["ctl", "a", "b"]), size=20_000, p=[0.5, 0.315, 0.185])


@pytest.mark.parametrize("split_form", ["dict", "list", "equal"])
@pytest.mark.parametrize("kind", ["pandas", "polars"])
def test_experiment_srm_on_frames_matches_scipy(kind: str, split_form: str) -> None:
    arms = _mismatched_arms()
    y = np.random.default_rng(9).normal(size=arms.size)
    if kind == "pandas":
        df: Any = pd.DataFrame({"arm": arms, "y": y})
        counts = df["arm"].value_counts().to_dict()
    else:
        df = pl.DataFrame({"arm": arms.tolist(), "y": y})
        counts = dict(df.group_by("arm").len().iter_rows())
    split_by_label = {"ctl": 0.5, "a": 0.3, "b": 0.2}
    exp_kwargs: dict[str, Any] = {}
    if split_form == "dict":
        exp_kwargs["planned_split"] = split_by_label
    res_exp = neyman.Experiment(df, variant="arm", control="ctl", **exp_kwargs)
    if split_form == "list":
        # a list follows the experiment's arm order
        res_exp = neyman.Experiment(
            df,
            variant="arm",
            control="ctl",
            planned_split=[split_by_label[a] for a in res_exp.arms],
        )
    labels = list(res_exp.arms)
    assert labels[0] == "ctl"
    assert sorted(labels) == ["a", "b", "ctl"]
    res = res_exp.analyze(neyman.Mean("y"))
    assert res.srm is not None
    observed = [int(counts[a]) for a in labels]
    weights = None if split_form == "equal" else [split_by_label[a] for a in labels]
    assert [res.srm.observed[a] for a in labels] == observed
    ref, f_exp = reference(observed, weights)
    assert math.isclose(res.srm.statistic, float(ref.statistic), rel_tol=RTOL)
    assert math.isclose(res.srm.pvalue, float(ref.pvalue), rel_tol=RTOL_P)
    np.testing.assert_allclose([res.srm.expected[a] for a in labels], f_exp, rtol=RTOL)
    assert res.srm.mismatch == bool(ref.pvalue < 0.001)
