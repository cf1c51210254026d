"""What the sequential methods share: the rule that turns a sequence of looks (estimate, variance,
units) into always-valid p-values and intervals (``Rule``, ``run``), and the result of a look
(``look_result``). The paths are computed in the core (``msprt_paths``,
``confidence_sequence_path``); the public modules are :mod:`neyman.msprt`,
:mod:`neyman.confidence_sequence` and :mod:`neyman.monitor`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from neyman import _neyman
from neyman._results import AnalysisResult, SequentialResult, TestResult
from neyman._validate import ALTERNATIVES, check_bool, check_choice, check_unit_interval
from neyman.errors import InputError, InputTypeError
from neyman.group_sequential import GroupSequentialDesign

METHODS = ("msprt", "confidence_sequence", "group_sequential")
_LABELS = {
    "msprt": "msprt",
    "confidence_sequence": "confidence-sequence",
    "group_sequential": "group-sequential",
}

FloatArray = npt.NDArray[np.float64]


def _positive(name: str, value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise InputTypeError(f"{name} must be a number, got {type(value).__name__}")
    v = float(value)
    if not (v > 0 and math.isfinite(v)):
        raise InputError(f"{name} must be positive and finite, got {value!r}")
    return v


@dataclass(frozen=True)
class Rule:
    """How looks are tested: the method, its level and alternative, and its tuning (for the
    mSPRT one of ``mixing_variance``, ``mde``, ``planned_n``; for confidence sequences
    ``tuning``). ``relative``: the p-value tests the relative effect."""

    method: str
    alpha: float = 0.05
    alternative: str = "two-sided"
    mixing_variance: float | None = None
    mde: float | None = None
    planned_n: float | None = None
    tuning: float = 5000.0
    relative: bool = False
    null: float = 0.0
    design: Any = None

    @classmethod
    def checked(cls, method: str, **kw: Any) -> Rule:
        """The rule with every option checked, naming the argument."""
        check_choice("method", method, METHODS)
        alpha = check_unit_interval("alpha", kw.get("alpha", 0.05))
        alternative = check_choice("alternative", kw.get("alternative", "two-sided"), ALTERNATIVES)
        relative = check_bool("relative", kw.get("relative", False))
        mixing = _positive("mixing_variance", kw.get("mixing_variance"))
        mde = _positive("mde", kw.get("mde"))
        planned = _positive("planned_n", kw.get("planned_n"))
        tuning = _positive("tuning", kw.get("tuning", 5000.0))
        options = (("mixing_variance", mixing), ("mde", mde), ("planned_n", planned))
        given = [name for name, v in options if v is not None]
        if method == "msprt" and len(given) != 1:
            raise InputError(
                "the mSPRT needs exactly one of mixing_variance=, mde= or planned_n= (fixed before "
                f"the data are seen); got {given or 'none'}"
            )
        if method == "confidence_sequence" and given:
            raise InputError(
                f"{given[0]}= is an mSPRT option; confidence sequences take tuning= (the sample "
                "size where the interval is tightest)"
            )
        design = kw.get("design")
        if method == "group_sequential":
            if not isinstance(design, GroupSequentialDesign):
                raise InputTypeError(
                    "method='group_sequential' needs design=neyman.GroupSequentialDesign(...), "
                    f"got {type(design).__name__}"
                )
            if given != ["planned_n"]:
                raise InputError(
                    "method='group_sequential' needs planned_n= (the units, both arms, at the "
                    "design's last look: the information fraction of a look is its units over "
                    f"planned_n) and no mixing_variance= or mde=; got {given or 'none'}"
                )
            if (alpha, alternative) != (design.alpha, design.alternative) and (
                alpha != 0.05 or alternative != "two-sided"
            ):
                raise InputError(
                    "alpha and alternative come from the design; they differ from its "
                    f"alpha={design.alpha} and alternative={design.alternative!r}"
                )
            alpha, alternative = design.alpha, design.alternative
        elif design is not None:
            raise InputError("design= is for method='group_sequential'")
        return cls(
            method,
            alpha,
            alternative,
            mixing,
            mde,
            planned,
            float(tuning or 5000.0),
            relative,
            design=design,
        )

    def mixing_for(self, variance: float, n: float, scale: float = 1.0) -> float:
        """The mSPRT's mixing variance for an estimate with ``variance`` from ``n`` units:
        ``mixing_variance`` as given; ``mde ** 2`` (the mixture's spread is the smallest effect
        worth detecting); or, with ``planned_n``, the one that makes the two-sided interval at
        ``planned_n`` units narrowest (``variance * n / planned_n`` is the estimate's variance
        then). ``scale`` converts a mixing variance given for the absolute effect to the relative
        one (``1 / control_value ** 2``) and back. NaN for confidence sequences."""
        if self.method != "msprt":
            return math.nan
        if self.planned_n is not None:
            return float(_neyman.msprt_horizon_tau2(variance * n / self.planned_n, self.alpha))
        tau2 = self.mixing_variance if self.mixing_variance is not None else (self.mde or 0.0) ** 2
        return tau2 * scale


def run(
    rule: Rule,
    estimates: Sequence[float],
    variances: Sequence[float],
    n_units: Sequence[float],
    tau2: float,
) -> dict[str, FloatArray]:
    """The always-valid path (running minimum p-value and intersected interval) of one series."""
    e = np.ascontiguousarray(estimates, dtype=np.float64)
    v = np.ascontiguousarray(variances, dtype=np.float64)
    if rule.method == "group_sequential":
        return _group_sequential(rule, e, v, np.asarray(n_units, dtype=np.float64))
    if rule.method == "msprt":
        t = np.array([tau2], dtype=np.float64)
        return dict(_neyman.msprt_paths(e, v, t, len(e), (rule.null, rule.alpha, rule.alternative)))
    n = np.ascontiguousarray(n_units, dtype=np.float64)
    return dict(
        _neyman.confidence_sequence_path(
            e, v, n, (rule.tuning, rule.null, rule.alpha, rule.alternative)
        )
    )


def _group_sequential(
    rule: Rule, e: FloatArray, v: FloatArray, n: FloatArray
) -> dict[str, FloatArray]:
    """Repeated confidence intervals (estimate -+ the look's efficacy bound times its standard
    error, simultaneously valid over the looks; Jennison and Turnbull 2000, ch. 9), intersected
    over the looks, and the repeated p-value at the last look, the design's bounds evaluated at
    the observed information fractions ``n / planned_n``."""
    t = n / float(rule.planned_n or 1.0)
    se = np.sqrt(v)
    bounds = rule.design.bounds(t)
    c = np.abs(np.asarray(bounds.z_bounds, dtype=np.float64))
    inf = np.full(len(e), np.inf)
    lo = e - c * se if rule.alternative != "less" else -inf
    hi = e + c * se if rule.alternative != "greater" else inf
    pvalue = np.full(len(e), math.nan)
    pvalue[-1] = rule.design.repeated_pvalue(t, e / se)
    return {
        "pvalue": pvalue,
        "ci_low": np.maximum.accumulate(lo),
        "ci_high": np.minimum.accumulate(hi),
    }


def look_result(
    base: TestResult,
    rule: Rule,
    look: int,
    absolute: dict[str, FloatArray],
    rel: dict[str, FloatArray],
    tau2: float,
) -> SequentialResult:
    """The result of the last look of the paths ``absolute`` and ``rel``: the fixed-horizon
    comparison ``base`` with its intervals and p-value replaced by the always-valid ones."""
    main = rel if rule.relative else absolute
    fields = {f.name: getattr(base, f.name) for f in dataclasses.fields(TestResult) if f.init}
    fields.update(
        ci_low=float(absolute["ci_low"][-1]),
        ci_high=float(absolute["ci_high"][-1]),
        rel_ci_low=float(rel["ci_low"][-1]),
        rel_ci_high=float(rel["ci_high"][-1]),
        pvalue=float(main["pvalue"][-1]),
        confidence_level=1.0 - rule.alpha,
        alternative=rule.alternative,
        method=f"{base.method}-{_LABELS[rule.method]}",
        _refit=None,
    )
    return SequentialResult(
        **fields,
        sequential_method=_LABELS[rule.method],
        look=look,
        mixing_variance=tau2,
        relative=rule.relative,
        fixed_pvalue=base.pvalue,
        fixed_ci_low=base.ci_low,
        fixed_ci_high=base.ci_high,
    )


def one_look(comparison: Any, rule: Rule) -> AnalysisResult:
    """Every row of a fixed-horizon comparison as the first look of a sequential test."""
    if isinstance(comparison, TestResult):
        rows: tuple[TestResult, ...] = (comparison,)
        srm = None
    elif isinstance(comparison, AnalysisResult):
        rows, srm = comparison.comparisons, comparison.srm
    else:
        raise InputTypeError(
            "comparison must be a result of neyman.ttest, ztest, proportions, ratio, cuped or "
            f"regression_adjust (a TestResult or AnalysisResult), got {type(comparison).__name__}"
        )
    out = []
    for r in rows:
        n = float(r.n_control + r.n_treatment)
        v, rv = r.se**2, r.rel_se**2
        if not (v > 0 and math.isfinite(v)):
            raise InputError(
                f"metric {r.metric!r}, arm {r.treatment!r}: the effect's standard error is "
                f"{r.se}; a sequential test needs a positive, finite one"
            )
        scale = 1.0 / r.control_value**2 if r.control_value else math.nan
        if rule.relative:
            tau2_rel = rule.mixing_for(rv, n)
            tau2_abs = tau2_rel / scale if scale == scale else math.nan
        else:
            tau2_abs = rule.mixing_for(v, n)
            tau2_rel = tau2_abs * scale
        absolute = run(rule, [r.effect], [v], [n], tau2_abs)
        rel = relative_path(rule, [r.rel_effect], [rv], [n], tau2_rel)
        out.append(look_result(r, rule, 1, absolute, rel, tau2_rel if rule.relative else tau2_abs))
    return AnalysisResult(tuple(out), srm=srm)


def relative_path(
    rule: Rule,
    estimates: Sequence[float],
    variances: Sequence[float],
    n_units: Sequence[float],
    tau2: float,
) -> dict[str, FloatArray]:
    """The path of the relative effect; NaN where it is undefined (a zero control mean)."""
    ok = all(math.isfinite(x) for x in estimates) and all(v > 0 for v in variances)
    if not ok or (rule.method == "msprt" and not (tau2 > 0 and math.isfinite(tau2))):
        nan = np.full(len(estimates), math.nan)
        return {"pvalue": nan, "ci_low": nan, "ci_high": nan, "log_lambda": nan}
    return run(rule, estimates, variances, n_units, tau2)
