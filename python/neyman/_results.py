"""Result objects: frozen dataclasses with one display mixin.

Every result prints as an aligned text table (3 significant digits, percentages for relative
effects), renders as self-contained HTML in Jupyter, and converts to a dict, a pandas DataFrame or a
polars DataFrame. Raw floats stay available as attributes.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any, overload

import numpy as np

__all__ = ["AnalysisResult", "SRMResult", "TestResult"]

_PERCENT_FIELDS = {"rel_effect", "rel_ci_low", "rel_ci_high", "rel_se"}


def _fmt_float(x: float) -> str:
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if x == 0:
        return "0"
    if 1e-3 <= abs(x) < 1e6:
        text = np.format_float_positional(x, precision=3, unique=False, fractional=False, trim="k")
        return str(text).rstrip(".")
    return f"{x:.3g}"


def format_value(name: str, value: Any) -> str:
    """How one cell prints: 3 significant digits, percentages for relative effects."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        x = float(value)
        if name in _PERCENT_FIELDS and math.isfinite(x):
            return _fmt_float(100.0 * x) + "%"
        if name == "pvalue" and math.isfinite(x):
            return f"{x:.3g}"
        return _fmt_float(x)
    return str(value)


def text_table(columns: Sequence[str], rows: Sequence[dict[str, Any]]) -> str:
    """Aligned plain-text table: text left-aligned, numbers right-aligned."""
    cells = [[format_value(c, r.get(c)) for c in columns] for r in rows]
    widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(columns)]
    numeric = [
        all(isinstance(r.get(c), int | float | np.number) for r in rows) if rows else False
        for c in columns
    ]

    def line(values: Sequence[str]) -> str:
        parts = [
            v.rjust(w) if num else v.ljust(w)
            for v, w, num in zip(values, widths, numeric, strict=True)
        ]
        return "  ".join(parts).rstrip()

    out = [line(list(columns))]
    out.extend(line(row) for row in cells)
    return "\n".join(out)


def html_table(columns: Sequence[str], rows: Sequence[dict[str, Any]], caption: str = "") -> str:
    """Self-contained, escaped HTML table (no JavaScript)."""
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td style="text-align:right">{html.escape(format_value(c, r.get(c)))}</td>'
            for c in columns
        )
        + "</tr>"
        for r in rows
    )
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return f'<table class="neyman">{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


class DisplayMixin:
    """Text, HTML, dict, pandas and polars views of a result built from ``_records()``."""

    _display_columns: tuple[str, ...] = ()

    def _columns(self) -> tuple[str, ...]:
        return self._display_columns

    def _records(self) -> list[dict[str, Any]]:
        raise NotImplementedError

    def _caption(self) -> str:
        return ""

    def _footer(self) -> str:
        return ""

    def __repr__(self) -> str:
        parts = [
            self._caption(),
            text_table(self._columns(), self._records()),
            self._footer(),
        ]
        return "\n".join(p for p in parts if p)

    def __str__(self) -> str:
        return self.__repr__()

    def _repr_html_(self) -> str:
        footer = self._footer()
        foot = f"<p>{html.escape(footer)}</p>" if footer else ""
        return html_table(self._columns(), self._records(), self._caption()) + foot

    def to_pandas(self) -> Any:
        """The full records as a pandas DataFrame (pandas is imported lazily)."""
        import pandas as pd

        return pd.DataFrame.from_records(self._records())

    def to_polars(self) -> Any:
        """The full records as a polars DataFrame (polars is imported lazily)."""
        import polars as pl

        return pl.DataFrame(self._records())


_COMPARISON_COLUMNS = (
    "metric",
    "treatment",
    "control_value",
    "treatment_value",
    "effect",
    "ci_low",
    "ci_high",
    "rel_effect",
    "rel_ci_low",
    "rel_ci_high",
    "pvalue",
)


def _columns_for(comparisons: Sequence[TestResult]) -> tuple[str, ...]:
    """Display columns; adjusted results add the variance ratio and the unadjusted p-value."""
    if any(c.unadjusted is not None for c in comparisons):
        return (*_COMPARISON_COLUMNS, "variance_ratio", "unadjusted_pvalue")
    return _COMPARISON_COLUMNS


@dataclass(frozen=True, repr=False)
class TestResult(DisplayMixin):
    """One treatment-versus-control comparison.

    Attributes
    ----------
    metric : str
        Metric name (the column, or ``"x"`` for arrays).
    method : str
        The test: ``"welch"``, ``"student"``, ``"z"``, ``"proportions-z"`` or ``"ratio-delta"``.
    control, treatment : str
        Arm labels.
    control_value, treatment_value : float
        Mean, proportion or ratio in each arm.
    effect : float
        ``treatment_value - control_value``.
    se : float
        Standard error of ``effect``.
    ci_low, ci_high : float
        Confidence interval on ``effect`` (open on one side for one-sided alternatives).
    rel_effect : float
        ``treatment_value / control_value - 1``.
    rel_se : float
        Delta-method standard error of ``rel_effect``.
    rel_ci_low, rel_ci_high : float
        Interval on ``rel_effect`` by ``relative_ci`` (delta method or Fieller).
    statistic : float
        t or z statistic.
    pvalue : float
        p-value for ``alternative``.
    df : float
        Degrees of freedom (``inf`` for z-tests).
    n_control, n_treatment : int
        Observations used.
    alternative, confidence_level, relative_ci : str, float, str
        The options the result was computed with.
    covariate : str or None
        Adjusted results (CUPED): the covariate used.
    theta : float or None
        Adjusted results: the pooled CUPED coefficient.
    variance_ratio : float or None
        Adjusted results: variance of the adjusted effect over that of the unadjusted one (below 1
        when the covariate helps; about ``1 - rho^2``).
    unadjusted : TestResult or None
        Adjusted results: the same comparison without adjustment.
    """

    __test__ = False  # not a pytest test class

    metric: str
    method: str
    control: str
    treatment: str
    control_value: float
    treatment_value: float
    effect: float
    se: float
    ci_low: float
    ci_high: float
    rel_effect: float
    rel_se: float
    rel_ci_low: float
    rel_ci_high: float
    statistic: float
    pvalue: float
    df: float
    n_control: int
    n_treatment: int
    alternative: str
    confidence_level: float
    relative_ci: str
    covariate: str | None = None
    theta: float | None = None
    variance_ratio: float | None = None
    unadjusted: TestResult | None = None

    _display_columns = _COMPARISON_COLUMNS

    def _columns(self) -> tuple[str, ...]:
        return _columns_for([self])

    def _records(self) -> list[dict[str, Any]]:
        return [self.record()]

    def record(self) -> dict[str, Any]:
        """A flat dict of every field; for adjusted results the unadjusted effect, se, interval
        and p-value as ``unadjusted_effect``, ``unadjusted_se``, ``unadjusted_ci_low``,
        ``unadjusted_ci_high`` and ``unadjusted_pvalue`` (None otherwise)."""
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "unadjusted"}
        u = self.unadjusted
        for name in ("effect", "se", "ci_low", "ci_high", "pvalue"):
            out[f"unadjusted_{name}"] = getattr(u, name) if u is not None else None
        return out

    def _caption(self) -> str:
        level = f"{100 * self.confidence_level:g}"
        return (
            f"{self.method} test vs control {self.control!r}: {self.alternative}, {level}% CI "
            f"(relative: {self.relative_ci})"
        )

    def to_dict(self) -> dict[str, Any]:
        """All fields as a plain dict."""
        return asdict(self)

    def confidence_interval(self) -> tuple[float, float]:
        """``(ci_low, ci_high)`` on the absolute effect."""
        return (self.ci_low, self.ci_high)


@dataclass(frozen=True, repr=False)
class SRMResult(DisplayMixin):
    """Sample-ratio mismatch check: chi-square goodness of fit of arm sizes to the plan.

    Attributes
    ----------
    statistic : float
        Pearson's chi-square statistic.
    pvalue : float
        Its upper-tail p-value on ``df`` degrees of freedom.
    df : float
        Number of arms minus one.
    observed : dict
        Units per arm.
    expected : dict
        Units per arm expected under the planned split.
    alpha : float
        Threshold below which ``mismatch`` is true.
    mismatch : bool
        ``pvalue < alpha``: the allocation differs from the plan, and effects should not be trusted.
    """

    statistic: float
    pvalue: float
    df: float
    observed: dict[Any, int]
    expected: dict[Any, float]
    alpha: float
    mismatch: bool

    _display_columns = ("arm", "observed", "expected", "share", "planned_share")

    def _records(self) -> list[dict[str, Any]]:
        total = sum(self.observed.values())
        return [
            {
                "arm": str(arm),
                "observed": int(n),
                "expected": float(self.expected[arm]),
                "share": n / total,
                "planned_share": self.expected[arm] / total,
            }
            for arm, n in self.observed.items()
        ]

    def _footer(self) -> str:
        return self.summary()

    def summary(self) -> str:
        """One line: the chi-square statistic, p-value and verdict."""
        verdict = "MISMATCH: do not trust the effects" if self.mismatch else "ok"
        return (
            f"SRM check: chi2 = {_fmt_float(self.statistic)} on {int(self.df)} df, "
            f"p = {self.pvalue:.3g} ({verdict}; alpha = {self.alpha:g})"
        )

    def to_dict(self) -> dict[str, Any]:
        """All fields as a plain dict."""
        return asdict(self)


@dataclass(frozen=True, repr=False)
class AnalysisResult(DisplayMixin):
    """Several comparisons (metrics x treatment arms) and the SRM check of the experiment.

    Iterate over it, index it by position or by ``(metric, treatment)``, or convert it with
    :meth:`to_pandas` / :meth:`to_polars`; :meth:`plot` draws a forest plot of relative effects.
    """

    comparisons: tuple[TestResult, ...]
    srm: SRMResult | None = None

    _display_columns = _COMPARISON_COLUMNS

    def __len__(self) -> int:
        return len(self.comparisons)

    def __iter__(self) -> Iterator[TestResult]:
        return iter(self.comparisons)

    @overload
    def __getitem__(self, key: int) -> TestResult: ...
    @overload
    def __getitem__(self, key: tuple[str, Any]) -> TestResult: ...
    def __getitem__(self, key: int | tuple[str, Any]) -> TestResult:
        if isinstance(key, int):
            return self.comparisons[key]
        metric, arm = key
        for c in self.comparisons:
            if c.metric == metric and c.treatment == str(arm):
                return c
        raise KeyError(key)

    def _columns(self) -> tuple[str, ...]:
        return _columns_for(self.comparisons)

    def _records(self) -> list[dict[str, Any]]:
        return [c.record() for c in self.comparisons]

    def _caption(self) -> str:
        if not self.comparisons:
            return ""
        c = self.comparisons[0]
        level = f"{100 * c.confidence_level:g}"
        return f"vs control {c.control!r}: {c.alternative}, {level}% CI (relative: {c.relative_ci})"

    def _footer(self) -> str:
        return self.srm.summary() if self.srm is not None else ""

    def to_dict(self) -> dict[str, Any]:
        """``{"comparisons": [...], "srm": {...} or None}``."""
        return {
            "comparisons": [c.to_dict() for c in self.comparisons],
            "srm": self.srm.to_dict() if self.srm is not None else None,
        }

    def plot(self, ax: Any = None) -> Any:
        """Forest plot of relative effects with their intervals (matplotlib, imported lazily).

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional
            Axes to draw on; a new figure is made when omitted.

        Returns
        -------
        matplotlib.axes.Axes
        """
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(7, 0.5 * len(self.comparisons) + 1.2))
        labels = [f"{c.metric}: {c.treatment}" for c in self.comparisons]
        y = np.arange(len(self.comparisons))[::-1]
        est = np.array([100 * c.rel_effect for c in self.comparisons])
        lo = np.array([100 * c.rel_ci_low for c in self.comparisons])
        hi = np.array([100 * c.rel_ci_high for c in self.comparisons])
        finite_lo = np.where(np.isfinite(lo), lo, est)
        finite_hi = np.where(np.isfinite(hi), hi, est)
        colors = [
            "tab:green" if c.ci_low > 0 else "tab:red" if c.ci_high < 0 else "tab:gray"
            for c in self.comparisons
        ]
        ax.hlines(y, finite_lo, finite_hi, colors=colors, linewidth=2)
        ax.scatter(est, y, color=colors, zorder=3)
        ax.axvline(0, color="black", linewidth=0.8)
        ax.set_yticks(y, labels)
        ax.set_xlabel("relative effect (%)")
        if self.comparisons:
            ax.set_title(self._caption())
        return ax
