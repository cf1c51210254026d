"""Bad input to the sequential methods: named exceptions, naming the argument (and the look)."""

from __future__ import annotations

import pickle

import neyman
import numpy as np
import pandas as pd
from neyman import InputError, InputTypeError

from tests.conftest import check_raises


def _df(seed: int = 0, arms: tuple[str, ...] = ("c", "t")) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    arm = rng.choice(arms, 200)
    return pd.DataFrame({"arm": arm, "y": rng.normal(size=200), "z": rng.normal(size=200)})


def test_msprt_options() -> None:
    res = neyman.ttest(_df(), metric="y", variant="arm", control="c")
    check_raises(
        InputError, r"exactly one of mixing_variance=, mde= or planned_n=", neyman.msprt, res
    )
    check_raises(
        InputError, r"exactly one of .*\['mde', 'planned_n'\]", neyman.msprt, res, mde=0.1,
        planned_n=1000,
    )  # fmt: skip
    check_raises(InputError, r"mde must be positive and finite", neyman.msprt, res, mde=-1.0)
    check_raises(InputTypeError, r"mde must be a number", neyman.msprt, res, mde="big")
    check_raises(InputError, r"alpha", neyman.msprt, res, mde=0.1, alpha=1.5)
    check_raises(
        InputError, r"alternative == 'bigger'", neyman.msprt, res, mde=0.1, alternative="bigger"
    )
    check_raises(InputTypeError, r"comparison must be a result of", neyman.msprt, [1, 2], mde=0.1)
    check_raises(
        InputError, r"mde= is an mSPRT option", neyman.Monitor, neyman.Mean("y"), variant="arm",
        control="c", method="confidence_sequence", mde=0.1,
    )  # fmt: skip


def test_paths_shapes_and_values() -> None:
    check_raises(
        InputError, r"same 1-D or 2-D shape", neyman.msprt_path, [0.1, 0.2], [0.01],
        mixing_variance=0.1,
    )  # fmt: skip
    check_raises(
        InputError, r"^variance: each look needs a finite estimate and a positive variance",
        neyman.msprt_path, [0.1], [0.0], mixing_variance=0.1,
    )  # fmt: skip
    check_raises(
        InputError, r"^mixing_variance: must be positive", neyman.msprt_path, [0.1], [0.01],
        mixing_variance=0.0,
    )  # fmt: skip
    check_raises(
        InputError, r"^n: each look needs at least one unit", neyman.confidence_sequence_path,
        [0.1], [0.01], [0],
    )  # fmt: skip
    check_raises(
        InputError, r"^tuning: must be positive", neyman.confidence_sequence_path, [0.1], [0.01],
        [10], tuning=-5.0,
    )  # fmt: skip


def test_sequential_srm_inputs() -> None:
    check_raises(
        InputError, r"^counts: look 1: arm 0 has 40 units, fewer than the 50",
        neyman.sequential_srm, [[50, 50], [40, 70]],
    )  # fmt: skip
    check_raises(
        InputError, r"counts: look 0: arm 1 has count 2.5", neyman.sequential_srm, [[3, 2.5]]
    )
    check_raises(
        InputError, r"weights has 3 entries for 2 arms", neyman.sequential_srm, [1, 2], [1, 1, 1]
    )
    check_raises(InputError, r"at least 2 arms", neyman.sequential_srm, [[5]])
    check_raises(
        InputError, r"concentration: must be positive", neyman.sequential_srm, [5, 5],
        concentration=0.0,
    )  # fmt: skip


def test_monitor_batches() -> None:
    mon = neyman.Monitor(neyman.Mean("y"), variant="arm", control="c", mde=0.1)
    check_raises(InputError, r"^look 1: the batch has no rows", mon.update, _df().iloc[:0])
    mon.update(_df(1))
    check_raises(
        InputError, r"^look 2: arms \['u'\] were not in the first look's arms",
        mon.update, _df(2, ("c", "t", "u")),
    )  # fmt: skip
    check_raises(
        InputError, r"^look 2: the batch's metrics differ from the declaration \(missing \['y'\], "
        r"undeclared \['z'\]\)", mon.update, {"z": {}},
    )  # fmt: skip
    check_raises(
        InputError, r"^look 2: control == 'c' is not a value of column 'arm'", mon.update,
        _df(3)[lambda d: d["arm"] == "t"],
    )  # fmt: skip
    check_raises(
        InputError, r"^look 2: split must give a share for each arm", mon.update, _df(4),
        split={"c": 1.0, "x": 1.0},
    )  # fmt: skip
    check_raises(
        InputError, r"split: arm 't' has share -1", mon.update, _df(4), split={"c": 1.0, "t": -1}
    )
    # A rejected batch changes nothing: the next good batch is look 2.
    assert mon.update(_df(5))[0].look == 2
    assert pickle.loads(pickle.dumps(mon)).looks == 2


def test_monitor_declaration() -> None:
    check_raises(
        InputError, r"give at least one metric", neyman.Monitor, variant="arm", control="c"
    )
    check_raises(
        InputTypeError, r"metrics must be neyman metrics", neyman.Monitor, "y", variant="arm",
        control="c", mde=0.1,
    )  # fmt: skip
    check_raises(
        InputError, r"two metrics have the same label", neyman.Monitor, neyman.Mean("y"),
        neyman.Mean("y"), variant="arm", control="c", mde=0.1,
    )  # fmt: skip
    check_raises(
        InputError, r"mde names metrics \['nope'\] that were not declared", neyman.Monitor,
        neyman.Mean("y"), variant="arm", control="c", mde={"nope": 0.1},
    )  # fmt: skip
    check_raises(
        InputError, r"method == 'bayes', must be one of", neyman.Monitor, neyman.Mean("y"),
        variant="arm", control="c", method="bayes",
    )  # fmt: skip
    check_raises(
        InputError, r"srm_alpha must lie in \(0, 1\)", neyman.Monitor, neyman.Mean("y"),
        variant="arm", control="c", mde=0.1, srm_alpha=2.0,
    )  # fmt: skip
    mon = neyman.Monitor(neyman.Mean("y"), variant="arm", control="c", mde=0.1)
    check_raises(InputError, r"no looks yet", mon.state)


def test_group_sequential_monitor_options() -> None:
    design = neyman.GroupSequentialDesign(3)
    mean = neyman.Mean("y")
    kw = {"variant": "arm", "control": "c", "method": "group_sequential"}
    check_raises(
        InputTypeError, r"needs design=neyman.GroupSequentialDesign", neyman.Monitor, mean,
        planned_n=1000, **kw,
    )  # fmt: skip
    check_raises(
        InputError, r"needs planned_n= .* got none", neyman.Monitor, mean, design=design, **kw
    )
    check_raises(
        InputError, r"got \['mde', 'planned_n'\]", neyman.Monitor, mean, design=design,
        planned_n=1000, mde=0.1, **kw,
    )  # fmt: skip
    check_raises(
        InputError, r"alpha and alternative come from the design", neyman.Monitor, mean,
        design=design, planned_n=1000, alpha=0.01, **kw,
    )  # fmt: skip
    check_raises(
        InputError, r"design= is for method='group_sequential'", neyman.Monitor, mean,
        variant="arm", control="c", mde=0.1, design=design,
    )  # fmt: skip
    check_raises(
        InputError, r"one finite z statistic per fraction", design.repeated_pvalue, [0.5], [1, 2]
    )


def test_monitor_looks_in_order() -> None:
    mon = neyman.Monitor(neyman.Mean("y"), variant="arm", control="c", mde=0.1)
    mon.update(_df(1), look=pd.Timestamp("2026-12-01"))
    check_raises(
        InputError, r"^look 2: look=Timestamp\('2026-12-01 00:00:00'\) does not come after",
        mon.update, _df(2), look=pd.Timestamp("2026-12-01"),
    )  # fmt: skip
    check_raises(
        InputTypeError, r"^look 2: look='x' cannot be ordered", mon.update, _df(2), look="x"
    )
    assert mon.update(_df(2), look=pd.Timestamp("2026-12-02"))[0].look == 2
