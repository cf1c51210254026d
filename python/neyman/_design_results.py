"""Results of experiment design: power, MDE by duration, simulated power and covariate balance.

Frozen dataclasses with the display mixin of :mod:`neyman._results`: a sentence and an aligned text
table as ``repr``, escaped HTML in Jupyter, ``to_dict``, ``to_pandas`` and ``to_polars``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from neyman._results import DisplayMixin, SRMResult, format_number, format_percent

__all__ = ["BalanceResult", "DurationResult", "PowerResult", "SimulationResult"]


def _effect_text(effect: float, relative: bool) -> str:
    return format_percent(effect) if relative else format_number(effect)


def _n_text(n: float) -> str:
    """Units as a whole number when they are one, else 3 significant digits."""
    return str(int(n)) if float(n).is_integer() else format_number(n)


@dataclass(frozen=True, repr=False)
class PowerResult(DisplayMixin):
    """The power equation of a two-arm (or many-to-one) comparison, with its unknown solved.

    Attributes
    ----------
    solved : str
        Which quantity was solved for: ``"effect"``, ``"n"``, ``"power"`` or ``"alpha"``.
    effect : float
        Effect (``treatment - control``; relative to ``baseline`` when ``relative``).
    n : float
        Control units (fractional when solved: round up to plan).
    n_treatment : float
        Units of each treatment arm, ``ratio * n``.
    n_total : float
        Units of all arms.
    power : float
        Power of each treatment-versus-control comparison.
    alpha : float
        Familywise significance level.
    method : str
        The test (``"t"``, ``"z"``, ``"proportions-pooled"``, ``"proportions-unpooled"``,
        ``"proportions-arcsine"``).
    alternative : str
        ``'two-sided'``, ``'less'`` or ``'greater'``.
    relative : bool
        Whether ``effect`` and ``margin`` are relative to ``baseline``.
    baseline : float
        Control mean or proportion (NaN when not needed).
    sd : float
        Per-unit standard deviation (NaN for proportions).
    ratio : float
        ``n_treatment / n``.
    arms : int
        Arms, the control included.
    correction : str
        How ``alpha`` is split over several treatment arms.
    margin : float
        Non-inferiority margin (0 for a superiority test).
    variance_factor : float
        Multiplier of the per-unit variance: design effect times ``1 - variance_reduction``.
    critical : float
        Critical value of the test statistic.
    df : float
        Degrees of freedom (``inf`` for z-tests).
    se : float
        Standard error of the effect (absolute units) under the alternative.
    sequential : str
        ``"fixed"``, or the sequential design given as ``power(sequential=...)``
        (``"group-sequential"`` or ``"msprt"``): ``n`` is then the maximum sample size.
    inflation_factor : float
        Maximum over fixed sample size at the same alpha and power (1 for a fixed design).
    expected_n_h0, expected_n_h1 : float
        Expected total units under the null and at ``effect`` (``n_total`` for a fixed design).
    """

    solved: str
    effect: float
    n: float
    n_treatment: float
    n_total: float
    power: float
    alpha: float
    method: str
    alternative: str
    relative: bool
    baseline: float
    sd: float
    ratio: float
    arms: int
    correction: str
    margin: float
    variance_factor: float
    critical: float
    df: float
    se: float
    sequential: str = "fixed"
    inflation_factor: float = 1.0
    expected_n_h0: float = math.nan
    expected_n_h1: float = math.nan

    def sentence(self) -> str:
        """The result in one sentence."""
        effect = _effect_text(self.effect, self.relative)
        kind = "a relative effect" if self.relative else "an effect"
        arms = (
            f"{_n_text(self.n)} control and {_n_text(self.n_treatment)} treatment units"
            if self.arms == 2
            else f"{_n_text(self.n)} control units and {_n_text(self.n_treatment)} in each of "
            f"{self.arms - 1} treatment arms"
        )
        margin = f", margin {_effect_text(self.margin, self.relative)}" if self.margin else ""
        return (
            f"{arms} ({_n_text(self.n_total)} in total) detect {kind} of {effect} with "
            f"power {format_percent(self.power)} at alpha = {format_number(self.alpha)} "
            f"({self.alternative} {self.method}{margin}); solved for {self.solved}."
        )

    def to_dict(self) -> dict[str, Any]:
        """Every field as a plain dict."""
        return asdict(self)

    def _caption(self) -> str:
        return self.sentence()

    def _display_columns(self) -> tuple[str, ...]:
        return ("quantity", "value", "solved")

    def _records(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        names = ["effect", "n", "n_treatment", "n_total", "power", "alpha"]
        if self.sequential != "fixed":
            names += ["inflation_factor", "expected_n_h0", "expected_n_h1"]
        for name in names:
            value = getattr(self, name)
            rows.append(
                {"quantity": name, "value": value, "solved": "<-" if name == self.solved else ""}
            )
        return rows

    def _display_rows(self) -> list[dict[str, Any]]:
        rows = self._records()
        for r in rows:
            v = r["value"]
            if r["quantity"] == "effect":
                r["value"] = _effect_text(v, self.relative)
            elif r["quantity"] in ("power",):
                r["value"] = format_percent(v)
            elif r["quantity"].startswith(("n", "expected_n")):
                r["value"] = _n_text(v)
        return rows


@dataclass(frozen=True, repr=False)
class DurationResult(DisplayMixin):
    """The minimum detectable effect for each number of days an experiment could run.

    Attributes
    ----------
    metric : str
        The metric (a column, or ``"num/den"`` for a ratio).
    rows : tuple of dict
        One per duration: ``days``, ``units`` (first seen by then), ``n_control``, ``sd``
        (per unit), ``variance_reduction`` (CUPED's, 0 without a covariate), ``design_effect``,
        ``mde`` (absolute), ``rel_mde`` (relative to the metric's value), and ``mde_cuped``,
        ``rel_mde_cuped`` with a covariate.
    power, alpha : float
        The targets.
    alternative : str
        Direction of the test.
    covariate : str or None
        The CUPED covariate.
    icc : float
        Intra-cluster correlation (NaN without ``cluster``).
    """

    metric: str
    rows: tuple[dict[str, Any], ...]
    power: float
    alpha: float
    alternative: str
    covariate: str | None = None
    icc: float = math.nan
    _columns: tuple[str, ...] = field(default=(), compare=False)

    def _display_columns(self) -> tuple[str, ...]:
        return self._columns

    def _records(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self.rows]

    def _display_rows(self) -> list[dict[str, Any]]:
        out = []
        for r in self.rows:
            d = dict(r)
            for k in ("rel_mde", "rel_mde_cuped", "variance_reduction"):
                if k in d:
                    d[k] = format_percent(d[k])
            out.append(d)
        return out

    def _caption(self) -> str:
        extra = f", CUPED with {self.covariate}" if self.covariate else ""
        icc = f", icc {format_number(self.icc)}" if not math.isnan(self.icc) else ""
        return (
            f"MDE of {self.metric} by duration: power {format_percent(self.power)}, "
            f"alpha {format_number(self.alpha)}, {self.alternative}{extra}{icc}"
        )

    def to_dict(self) -> dict[str, Any]:
        """Every field as a plain dict (rows as a list of dicts)."""
        return {
            "metric": self.metric,
            "rows": [dict(r) for r in self.rows],
            "power": self.power,
            "alpha": self.alpha,
            "alternative": self.alternative,
            "covariate": self.covariate,
            "icc": self.icc,
        }

    def plot(self, ax: Any = None, *, relative: bool = True) -> Any:
        """MDE against days (matplotlib, imported lazily); returns the axes."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 3.5))
        prefix = "rel_" if relative else ""
        days = [r["days"] for r in self.rows]
        scale = 100.0 if relative else 1.0
        ax.plot(days, [scale * r[f"{prefix}mde"] for r in self.rows], marker="o", label="MDE")
        if self.covariate:
            ax.plot(
                days,
                [scale * r[f"{prefix}mde_cuped"] for r in self.rows],
                marker="o",
                label=f"MDE with CUPED ({self.covariate})",
            )
        ax.set_xlabel("days")
        ax.set_ylabel("relative MDE (%)" if relative else "MDE")
        ax.set_title(self._caption(), fontsize=9)
        ax.legend()
        return ax


@dataclass(frozen=True, repr=False)
class SimulationResult(DisplayMixin):
    """Power (or, with no effect, the false-positive rate) estimated by simulation.

    Attributes
    ----------
    power : float
        Share of simulated experiments that rejected.
    mc_se : float
        Its Monte-Carlo standard error, ``sqrt(power (1 - power) / n_sims)``.
    rejections, n_sims : int
        Experiments that rejected, and simulated.
    n_control, n_treatment : int
        Units per arm of each experiment.
    effect : float
        Size of the perturbation.
    perturbation : str
        ``'additive'``, ``'multiplicative'`` or ``'binary'``.
    model : str
        ``'normal'``, ``'lognormal'``, ``'bernoulli'`` or ``'resampling'``.
    analysis : str
        ``'welch'``, ``'proportions'`` or ``'cuped'``.
    alpha : float
        Significance level.
    alternative : str
        Direction of the test.
    seed : int
        Seed of the random streams (the same seed gives the same result on any thread count).
    """

    power: float
    mc_se: float
    rejections: int
    n_sims: int
    n_control: int
    n_treatment: int
    effect: float
    perturbation: str
    model: str
    analysis: str
    alpha: float
    alternative: str
    seed: int

    def to_dict(self) -> dict[str, Any]:
        """Every field as a plain dict."""
        return asdict(self)

    def _caption(self) -> str:
        what = "false-positive rate (A/A)" if self.effect == 0 else "power"
        return (
            f"Simulated {what}: {format_percent(self.power)} +/- {format_percent(self.mc_se)} "
            f"(Monte-Carlo SE) over {self.n_sims} experiments of {self.n_control} + "
            f"{self.n_treatment} units; {self.model} data, {self.perturbation} effect "
            f"{format_number(self.effect)}, {self.analysis} at alpha {format_number(self.alpha)}"
        )

    def _display_columns(self) -> tuple[str, ...]:
        return ("power", "mc_se", "rejections", "n_sims", "n_control", "n_treatment")

    def _records(self) -> list[dict[str, Any]]:
        return [{c: getattr(self, c) for c in self._display_columns()}]


@dataclass(frozen=True, repr=False)
class BalanceResult(DisplayMixin):
    """Covariate balance of an assignment: the SRM check and, per treatment arm, standardized mean
    differences and an omnibus test.

    Attributes
    ----------
    srm : SRMResult
        Chi-square check of the arm sizes against the planned weights.
    rows : tuple of dict
        One per (treatment arm, covariate): ``treatment``, ``covariate``, ``mean_control``,
        ``mean_treatment``, ``smd``.
    omnibus : tuple of dict
        One per treatment arm: ``treatment``, ``statistic`` (Hansen and Bowers' chi-square),
        ``df``, ``pvalue``.
    control : object
        The control arm.
    """

    srm: SRMResult
    rows: tuple[dict[str, Any], ...]
    omnibus: tuple[dict[str, Any], ...]
    control: Any

    def _display_columns(self) -> tuple[str, ...]:
        return ("treatment", "covariate", "mean_control", "mean_treatment", "smd")

    def _records(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self.rows]

    def _caption(self) -> str:
        return f"Covariate balance against control {self.control!r} (smd: standardized difference)"

    def _banner(self) -> str:
        return self.srm.warning()

    def _footer(self) -> list[str]:
        lines = [
            f"omnibus ({o['treatment']}): chi2 = {format_number(o['statistic'])} on "
            f"{int(o['df'])} df, p = {format_number(o['pvalue'])} (Hansen and Bowers 2008)"
            for o in self.omnibus
        ]
        return [*lines, self.srm.summary()]

    def to_dict(self) -> dict[str, Any]:
        """Every field as plain dicts and lists."""
        return {
            "srm": self.srm.to_dict(),
            "rows": [dict(r) for r in self.rows],
            "omnibus": [dict(o) for o in self.omnibus],
            "control": self.control,
        }
