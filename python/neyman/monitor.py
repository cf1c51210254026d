"""Live monitoring of an experiment: :class:`Monitor` merges each look's statistics and keeps
always-valid p-values and intervals of every metric and arm, per ramp phase, with an
anytime-valid SRM check."""

from __future__ import annotations

import copy
import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Any

import numpy as np

from neyman._convert import as_frame, variant_codes
from neyman._results import AnalysisResult, SequentialResult, TestResult
from neyman._sequential import Rule, look_result, relative_path, run
from neyman._stats import merge_arms
from neyman.errors import InputError, InputTypeError, InsufficientDataError, NeymanError
from neyman.metrics import Metric
from neyman.sequential_srm import sequential_srm

__all__ = ["Monitor"]


@dataclass
class _Series:
    """One metric and treatment arm over the looks: the combined estimate, its variance and the
    units of each look, on both scales, and the mixing variances fixed at the first look."""

    effect: list[float] = field(default_factory=list)
    variance: list[float] = field(default_factory=list)
    rel_effect: list[float] = field(default_factory=list)
    rel_variance: list[float] = field(default_factory=list)
    n: list[float] = field(default_factory=list)
    tau2: float = math.nan
    tau2_rel: float = math.nan


@dataclass
class _Phase:
    """One ramp phase: its planned split, each metric's merged per-arm statistics, and the
    cumulative units per arm at each look of the phase (for its SRM check)."""

    split: dict[Any, float]
    stats: dict[str, dict[Any, Any]] = field(default_factory=dict)
    counts: list[list[float]] = field(default_factory=list)


class Monitor:
    """Follow an experiment look by look with always-valid inference.

    Declared once with its metrics and plan, then fed one batch per look (a day's rows, or
    per-arm statistics computed elsewhere), the monitor merges the batches (the statistics merge
    in the core) and returns the state of every metric and treatment arm: the estimate, an
    always-valid interval and p-value (the mSPRT or an asymptotic confidence sequence; running
    minimum and intersection over the looks), whether the boundary was crossed, and an
    anytime-valid SRM check. It pickles, so a daily job can store it and resume.

    **Ramps.** When the planned split changes between looks (5% of traffic to the treatment, then
    50%), pooling all days into one comparison is biased if the metric drifts over time: the
    treatment's units come mostly from the later days (Simpson's paradox across ramp phases;
    Kohavi, Tang and Xu 2020, ch. 15). The monitor keeps the statistics of each phase apart,
    compares the arms within each phase, and combines the phases' effects with weights
    proportional to their units (the post-stratified estimator with the phases as strata:
    ``effect = sum_p w_p effect_p``, ``variance = sum_p w_p^2 variance_p``, ``w_p = n_p / n``;
    Miratrix, Sekhon and Yu 2013), and checks SRM in each phase against that phase's split
    (the smallest phase p-value times the number of phases, Bonferroni). A phase whose arms cannot
    be compared yet (fewer than two units in an arm) is left out until they can.

    Parameters
    ----------
    *metrics : Metric
        ``neyman.Mean``, ``Proportion``, ``Ratio``, ``Mean(covariate=)`` (CUPED) ...: metrics with
        mergeable per-arm statistics (``Metric.aggregate``).
    variant : str
        The column of arm labels.
    control : object
        The control arm's label.
    split : mapping, optional
        The planned share of each arm (normalised; equal shares of the first batch's arms by
        default). A new split at :meth:`update` starts a new ramp phase.
    method : {'msprt', 'confidence_sequence', 'group_sequential'}, default 'msprt'
        'group_sequential' needs ``design=`` and ``planned_n=``: each look's information
        fraction is its units over ``planned_n``, the design's bounds are evaluated at the
        observed fractions (looks may come early or late), the interval is the repeated
        confidence interval (the estimate -+ the look's bound times its standard error;
        Jennison and Turnbull 2000, ch. 9) and the p-value the repeated p-value, below ``alpha``
        exactly when the boundary has been crossed.
    alpha : float, default 0.05
    alternative : {'two-sided', 'less', 'greater'}, default 'two-sided'
    mixing_variance, mde, planned_n : float or mapping
        For the mSPRT, exactly one per metric (see :func:`neyman.msprt`), for all metrics or as a
        mapping metric label -> value (``mde={"revenue": 0.5, "converted": 0.01}``); the mixing
        variance is fixed at each series' first look and kept.
    tuning : float, default 5000
        For confidence sequences (see :func:`neyman.confidence_sequence`).
    relative : bool, default False
        The p-value (and the boundary) tests the relative effect.
    srm_alpha : float, default 0.001
        Level of the sequential SRM check.
    design : GroupSequentialDesign, optional
        For ``method='group_sequential'`` (its ``alpha`` and ``alternative`` are the monitor's).

    Examples
    --------
    >>> import numpy as np, pandas as pd, neyman
    >>> rng = np.random.default_rng(0)
    >>> mon = neyman.Monitor(neyman.Mean("revenue"), variant="arm", control="c", mde=0.2)
    >>> for day in range(5):
    ...     arm = rng.choice(["c", "t"], 2000)
    ...     df = pd.DataFrame({"arm": arm, "revenue": rng.normal(1.0 + 0.1 * (arm == "t"), 1.0)})
    ...     state = mon.update(df)
    >>> r = state[0]
    >>> r.look, r.n_control + r.n_treatment, r.significant
    (5, 10000, True)
    >>> len(mon.history())
    5
    """

    def __init__(
        self,
        *metrics: Metric,
        variant: str,
        control: Any,
        split: Mapping[Any, float] | None = None,
        method: str = "msprt",
        alpha: float = 0.05,
        alternative: str = "two-sided",
        mixing_variance: float | None = None,
        mde: float | None = None,
        planned_n: float | None = None,
        tuning: float = 5000.0,
        relative: bool = False,
        srm_alpha: float = 0.001,
        design: Any = None,
    ) -> None:
        if not metrics:
            raise InputError("give at least one metric")
        for m in metrics:
            if not isinstance(m, Metric):
                raise InputTypeError(f"metrics must be neyman metrics, got {type(m).__name__}")
        labels = [m.label for m in metrics]
        if len(set(labels)) != len(labels):
            raise InputError(f"two metrics have the same label in {labels}; give one a name=")
        if not isinstance(variant, str):
            raise InputTypeError(f"variant must be a column name, got {type(variant).__name__}")
        self.metrics = tuple(metrics)
        self.variant = variant
        self.control = control

        def per_metric(name: str, value: Any, label: str) -> Any:
            if not isinstance(value, Mapping):
                return value
            unknown = [k for k in value if k not in labels]
            if unknown:
                raise InputError(f"{name} names metrics {unknown} that were not declared")
            return value.get(label)

        self.rules = {
            label: Rule.checked(
                method,
                alpha=alpha,
                alternative=alternative,
                mixing_variance=per_metric("mixing_variance", mixing_variance, label),
                mde=per_metric("mde", mde, label),
                planned_n=per_metric("planned_n", planned_n, label),
                tuning=tuning,
                relative=relative,
                design=design,
            )
            for label in labels
        }
        self.rule = self.rules[labels[0]]
        self.srm_alpha = float(srm_alpha)
        if not 0 < self.srm_alpha < 1:
            raise InputError(f"srm_alpha must lie in (0, 1), got {srm_alpha!r}")
        self._split = self._checked_split(split) if split is not None else None
        self._arms: list[Any] | None = None
        self._phases: list[_Phase] = []
        self._series: dict[tuple[str, Any], _Series] = {}
        self._states: list[AnalysisResult] = []
        self._labels: list[Any] = []

    # ------------------------------------------------------------------ inputs

    @staticmethod
    def _checked_split(split: Mapping[Any, float]) -> dict[Any, float]:
        if not isinstance(split, Mapping) or len(split) < 2:
            raise InputError("split must map at least two arms to their planned shares")
        out = {}
        for arm, share in split.items():
            v = float(share)
            if not (v > 0 and math.isfinite(v)):
                raise InputError(f"split: arm {arm!r} has share {share!r}; shares must be > 0")
            out[arm] = v
        total = sum(out.values())
        return {k: v / total for k, v in out.items()}

    @property
    def looks(self) -> int:
        """Looks so far."""
        return len(self._states)

    def _batch_stats(self, batch: Any, look: int) -> tuple[dict[str, dict[Any, Any]], list[Any]]:
        """Per-metric per-arm statistics of a batch (a frame, or a mapping metric label -> arm ->
        statistic) and the arms it holds."""
        where = f"look {look}"
        if isinstance(batch, Mapping):
            missing = [m.label for m in self.metrics if m.label not in batch]
            extra = [k for k in batch if k not in {m.label for m in self.metrics}]
            if missing or extra:
                raise InputError(
                    f"{where}: the batch's metrics differ from the declaration (missing "
                    f"{missing}, undeclared {extra})"
                )
            stats = {m.label: dict(batch[m.label]) for m in self.metrics}
            arms = list(next(iter(stats.values())))
            for label, per_arm in stats.items():
                if list(per_arm) != arms:
                    raise InputError(
                        f"{where}: metric {label!r} has arms {list(per_arm)}, others {arms}"
                    )
        else:
            frame = as_frame(batch)
            if len(frame) == 0:
                raise InputError(f"{where}: the batch has no rows (a look needs new data)")
            try:
                codes = variant_codes(frame, self.variant, self.control)
            except NeymanError as exc:
                raise type(exc)(f"{where}: {exc}") from None
            arms = list(codes.labels)
            stats = {}
            for m in self.metrics:
                try:
                    stats[m.label] = m.aggregate(frame, variant=self.variant, control=self.control)
                except NeymanError as exc:
                    raise type(exc)(f"{where}: metric {m.label!r}: {exc}") from None
        if self.control not in arms:
            raise InputError(f"{where}: the batch has no rows of the control {self.control!r}")
        return stats, arms

    @staticmethod
    def _units(stat: Any) -> float:
        for name in ("n", "trials"):
            if hasattr(stat, name):
                return float(getattr(stat, name))
        raise InputTypeError(f"cannot count the units of a {type(stat).__name__}")

    # ------------------------------------------------------------------ update

    def update(
        self, batch: Any, *, split: Mapping[Any, float] | None = None, look: Any = None
    ) -> AnalysisResult:
        """Add one look's batch and return the state of every metric and treatment arm.

        Parameters
        ----------
        batch : DataFrame or mapping
            The look's new rows (pandas, polars, pyarrow), or per-arm statistics computed
            elsewhere: ``{metric label: {arm: statistic}}`` as ``Metric.aggregate`` returns them
            (e.g. from SQL via ``MeanStats.from_sums``). Batches hold new units only.
        split : mapping, optional
            The planned split from this look on; a split different from the current one starts
            a new ramp phase.
        look : object, optional
            A label of the look that orders the looks (a date, a day number): it must come after
            the previous look's, so a day fed twice or out of order is refused.

        Returns
        -------
        AnalysisResult
            Rows of :class:`neyman.SequentialResult` (``look``, the always-valid ``pvalue``,
            ``ci_low``, ``ci_high``, ``rel_ci_low``, ``rel_ci_high``, ``significant`` when the
            boundary has been crossed) and ``srm``, a :class:`neyman.SequentialSRMResult`.

        Raises
        ------
        InputError
            The batch is empty, lacks the control, or its arms or metrics differ from the
            declaration (named with the look).
        """
        label = look
        look = self.looks + 1
        if label is not None and self._labels:
            last = self._labels[-1]
            try:
                ordered = bool(label > last)
            except TypeError:
                raise InputTypeError(
                    f"look {look}: look={label!r} cannot be ordered after look={last!r}"
                ) from None
            if not ordered:
                raise InputError(
                    f"look {look}: look={label!r} does not come after the previous look "
                    f"{last!r}; looks must be fed in order, each once"
                )
        stats, arms = self._batch_stats(batch, look)
        # A look that fails leaves the monitor as it was.
        saved = copy.deepcopy((self._arms, self._phases, self._series))
        try:
            state = self._add(look, stats, arms, split)
            if label is not None:
                self._labels.append(label)
            return state
        except BaseException:
            self._arms, self._phases, self._series = saved
            raise

    def _add(
        self,
        look: int,
        stats: dict[str, dict[Any, Any]],
        arms: list[Any],
        split: Mapping[Any, float] | None,
    ) -> AnalysisResult:
        if self._arms is None:
            self._arms = [self.control, *[a for a in arms if a != self.control]]
        unknown = [a for a in arms if a not in self._arms]
        if unknown:
            raise InputError(
                f"look {look}: arms {unknown} were not in the first look's arms {self._arms}"
            )
        new_split = self._checked_split(split) if split is not None else None
        if new_split is not None and set(new_split) != set(self._arms):
            raise InputError(f"look {look}: split must give a share for each arm {self._arms}")
        if not self._phases:
            first = new_split or self._split or dict.fromkeys(self._arms, 1 / len(self._arms))
            if set(first) != set(self._arms):
                raise InputError(f"split must give a share for each arm {self._arms}")
            self._phases.append(_Phase(first))
        elif new_split is not None and new_split != self._phases[-1].split:
            self._phases.append(_Phase(new_split))
        phase = self._phases[-1]
        for label, per_arm in stats.items():
            old = phase.stats.get(label, {})
            phase.stats[label] = merge_arms([old, per_arm]) if old else dict(per_arm)
        first_metric = phase.stats[self.metrics[0].label]
        phase.counts.append(
            [self._units(first_metric[a]) if a in first_metric else 0.0 for a in self._arms]
        )
        state = self._state(look)
        self._states.append(state)
        return state

    def _phase_rows(self, metric: Metric, phase: _Phase) -> dict[Any, TestResult]:
        """The fixed-horizon comparison of each treatment arm within one phase (arms that
        cannot be compared yet are left out)."""
        per_arm = phase.stats.get(metric.label, {})
        if self.control not in per_arm:
            return {}
        out = {}
        for arm in per_arm:
            if arm == self.control:
                continue
            pair = {self.control: per_arm[self.control], arm: per_arm[arm]}
            try:
                res = metric.compare(pair, control=self.control, nan_policy="omit")
            except InsufficientDataError:
                continue
            out[arm] = res[0]
        return out

    def _state(self, look: int) -> AnalysisResult:
        rows = []
        for metric in self.metrics:
            per_phase = [self._phase_rows(metric, p) for p in self._phases]
            assert self._arms is not None
            for arm in self._arms[1:]:
                parts = [r[arm] for r in per_phase if arm in r]
                if not parts:
                    continue
                rows.append(self._look_row(metric, arm, parts, look))
        srm = self._srm()
        return AnalysisResult(tuple(rows), srm=srm)

    def _look_row(
        self, metric: Metric, arm: Any, parts: list[TestResult], look: int
    ) -> SequentialResult:
        n = np.array([p.n_control + p.n_treatment for p in parts], dtype=np.float64)
        w = n / n.sum()
        effect = float(np.dot(w, [p.effect for p in parts]))
        variance = float(np.dot(w**2, [p.se**2 for p in parts]))
        rel_effect = float(np.dot(w, [p.rel_effect for p in parts]))
        rel_variance = float(np.dot(w**2, [p.rel_se**2 for p in parts]))
        base = parts[-1] if len(parts) == 1 else _combined(parts, effect, variance, rel_effect)
        rule = self.rules[metric.label]
        key = (metric.label, arm)
        s = self._series.setdefault(key, _Series())
        if not (variance > 0 and math.isfinite(variance)):
            raise InputError(
                f"look {look}: metric {metric.label!r}, arm {arm!r}: the effect's variance is "
                f"{variance}; a sequential test needs a positive one"
            )
        if math.isnan(s.tau2) and rule.method == "msprt":
            scale = 1.0 / base.control_value**2 if base.control_value else math.nan
            if rule.relative:
                s.tau2_rel = rule.mixing_for(rel_variance, float(n.sum()))
                s.tau2 = s.tau2_rel / scale
            else:
                s.tau2 = rule.mixing_for(variance, float(n.sum()))
                s.tau2_rel = s.tau2 * scale
        s.effect.append(effect)
        s.variance.append(variance)
        s.rel_effect.append(rel_effect)
        s.rel_variance.append(rel_variance)
        s.n.append(float(n.sum()))
        absolute = run(rule, s.effect, s.variance, s.n, s.tau2)
        rel = relative_path(rule, s.rel_effect, s.rel_variance, s.n, s.tau2_rel)
        tau2 = s.tau2_rel if rule.relative else s.tau2
        return look_result(base, rule, look, absolute, rel, tau2)

    def _srm(self) -> Any:
        results = []
        assert self._arms is not None
        for p in self._phases:
            results.append(
                sequential_srm(p.counts, [p.split[a] for a in self._arms], alpha=self.srm_alpha)
            )
        worst = min(results, key=lambda r: r.pvalue)
        if len(results) == 1:
            return _named(worst, self._arms)
        pvalue = min(1.0, worst.pvalue * len(results))
        return _named(worst, self._arms, pvalue=pvalue, alpha=self.srm_alpha)

    # ------------------------------------------------------------------ views

    def state(self) -> AnalysisResult:
        """The state after the last look."""
        if not self._states:
            raise InputError("the monitor has no looks yet; call update(batch) first")
        return self._states[-1]

    def history(self) -> list[dict[str, Any]]:
        """One record per look, metric and treatment arm: the look, the units, the estimate, the
        always-valid interval and p-value, the fixed-horizon p-value, and the phase count.
        ``pandas.DataFrame(mon.history())`` makes it a table."""
        out = []
        for state in self._states:
            for r in state:
                assert isinstance(r, SequentialResult)
                out.append(
                    {
                        "look": r.look,
                        "metric": r.metric,
                        "treatment": r.treatment,
                        "n": r.n_control + r.n_treatment,
                        "effect": r.effect,
                        "ci_low": r.ci_low,
                        "ci_high": r.ci_high,
                        "rel_effect": r.rel_effect,
                        "rel_ci_low": r.rel_ci_low,
                        "rel_ci_high": r.rel_ci_high,
                        "pvalue": r.pvalue,
                        "fixed_pvalue": r.fixed_pvalue,
                        "significant": r.significant,
                        "srm_pvalue": state.srm.pvalue if state.srm is not None else math.nan,
                    }
                )
        return out

    def plot(self, *, relative: bool = False, ax: Any = None) -> Any:
        """Each metric and arm's always-valid interval over the looks (matplotlib).

        Parameters
        ----------
        relative : bool, default False
            Draw the relative effect's interval.
        ax : matplotlib Axes, optional

        Returns
        -------
        matplotlib.axes.Axes
        """
        try:
            import matplotlib.pyplot as plt
        except ImportError as exc:  # pragma: no cover - optional dependency
            raise ImportError("Monitor.plot needs matplotlib: pip install matplotlib") from exc
        if ax is None:
            _, ax = plt.subplots(figsize=(7, 3.5))
        rows = self.history()
        pre = "rel_" if relative else ""
        for key in dict.fromkeys((r["metric"], r["treatment"]) for r in rows):
            sel = [r for r in rows if (r["metric"], r["treatment"]) == key]
            x = [r["look"] for r in sel]
            line = ax.plot(x, [r[f"{pre}effect"] for r in sel], label=f"{key[0]}: {key[1]}")[0]
            lo = np.array([r[f"{pre}ci_low"] for r in sel])
            hi = np.array([r[f"{pre}ci_high"] for r in sel])
            ax.fill_between(x, lo, hi, alpha=0.2, color=line.get_color())
        ax.axhline(0.0, color="grey", lw=0.8)
        ax.set_xlabel("look")
        ax.set_ylabel("relative effect" if relative else "effect")
        ax.legend(loc="best", fontsize="small")
        return ax

    def __repr__(self) -> str:
        names = ", ".join(m.label for m in self.metrics)
        head = f"Monitor({names}; {self.rule.method}, alpha={self.rule.alpha:g}, "
        head += f"{self.looks} looks, {len(self._phases)} phases)"
        return head if not self._states else f"{head}\n{self._states[-1]!r}"


def _combined(
    parts: list[TestResult], effect: float, variance: float, rel_effect: float
) -> TestResult:
    """A fixed-horizon row for the phases combined: the last phase's row with the combined
    estimate, its standard error and normal-theory interval and p-value (two-sided), and the
    units of all phases."""
    last = parts[-1]
    se = math.sqrt(variance)
    z = effect / se
    half = NormalDist().inv_cdf(0.5 + last.confidence_level / 2) * se
    fields = {f.name: getattr(last, f.name) for f in dataclasses.fields(TestResult) if f.init}
    fields.update(
        effect=effect,
        se=se,
        rel_effect=rel_effect,
        statistic=z,
        pvalue=math.erfc(abs(z) / math.sqrt(2.0)),
        ci_low=effect - half,
        ci_high=effect + half,
        n_control=sum(p.n_control for p in parts),
        n_treatment=sum(p.n_treatment for p in parts),
        method=f"{last.method}-phases",
        _refit=None,
    )
    return TestResult(**fields)


def _named(res: Any, arms: list[Any], **changes: Any) -> Any:
    observed = dict(zip(arms, res.observed.values(), strict=True))
    expected = dict(zip(arms, res.expected.values(), strict=True))
    pvalue = changes.get("pvalue", res.pvalue)
    return dataclasses.replace(
        res,
        observed=observed,
        expected=expected,
        pvalue=pvalue,
        mismatch=pvalue < res.alpha,
    )
