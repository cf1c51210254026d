"""Result objects: frozen dataclasses with one display mixin.

A comparison is a :class:`TestResult`; families add their own fields by extension
(:class:`AdjustedResult` for regression adjustment and post-stratification, :class:`CupedResult`
for CUPED), so no result carries fields that do not apply to it. Several comparisons and the SRM
check of the experiment make an :class:`AnalysisResult`.

Every result prints as an aligned text table (3 significant digits with trailing zeros kept,
percentages for relative effects, n per arm, the method and a significance marker), renders as
styled, self-contained HTML in Jupyter (no JavaScript), and converts to a dict, a pandas
DataFrame or a polars DataFrame. Raw floats stay available as attributes.

>>> import neyman
>>> res = neyman.ttest([1.0, 2.0, 3.0, 4.0], [2.0, 3.5, 4.0, 6.5])
>>> lines = repr(res).splitlines()
>>> lines[0]
"vs control 'control': two-sided, 95% CI (relative: delta)"
>>> lines[1].split()
['metric', 'treatment', 'method', 'n_control', 'n_treatment', 'control_value', 'treatment_value',
'effect', 'ci', 'rel_effect', 'rel_ci', 'pvalue', 'sig']
>>> lines[2].split()
['x', 'treatment', 'welch', '4', '4', '2.50', '4.00', '1.50', '[-1.37,', '4.37]', '60.0%',
'[-80.7%,', '201%]', '0.241']
>>> lines[3]
'sig: * where pvalue < 0.05 (1 - confidence_level)'
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, NamedTuple, overload

import numpy as np

from neyman._validate import check_unit_interval
from neyman.errors import InputError, InputTypeError

__all__ = [
    "AdjustedResult",
    "AnalysisResult",
    "ConfidenceInterval",
    "CupedResult",
    "OLSResult",
    "PermutationResult",
    "QuantileResult",
    "SRMResult",
    "SequentialPath",
    "SequentialResult",
    "SequentialSRMResult",
    "TestResult",
    "WildBootstrapResult",
    "experiment_html",
    "experiment_text",
]

# --------------------------------------------------------------------------------------------
# Number formatting
# --------------------------------------------------------------------------------------------

_SIG = 3
_PERCENT_FIELDS = {"rel_effect", "rel_ci_low", "rel_ci_high", "rel_se", "share", "planned_share"}


def _plural(n: int, noun: str) -> str:
    """``"1 metric"``, ``"2 metrics"``."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def format_number(x: float, sig: int = _SIG) -> str:
    """``x`` with ``sig`` significant digits, trailing zeros kept.

    Positional between 0.001 and 1e6 (``"0.110"``, ``"0.0969"``, ``"12.0"``, ``"1235"``: numbers
    of 1000 and more are rounded to whole units rather than padded with zeros), scientific outside
    (``"6.50e-05"``); ``"0"``, ``"nan"``, ``"inf"`` and ``"-inf"`` as such.

    >>> [format_number(v) for v in (0.11, 0.0969, 0.2, 0.4, 12, 1234.5, 6.5e-5, 0.0, -0.099996)]
    ['0.110', '0.0969', '0.200', '0.400', '12.0', '1234', '6.50e-05', '0', '-0.100']
    """
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if x == 0:
        return "0"
    ax = abs(x)
    if ax < 1e-3 or ax >= 1e6:
        return f"{x:.{sig - 1}e}"
    exponent = math.floor(math.log10(ax))
    decimals = max(0, sig - 1 - exponent)
    text = f"{x:.{decimals}f}"
    # Rounding may carry into the next power of ten (0.099996 -> 0.1000): one decimal fewer.
    if decimals > 0 and abs(float(text)) >= 10.0 ** (exponent + 1):
        text = f"{x:.{decimals - 1}f}"
    return text


def format_percent(x: float, sig: int = _SIG) -> str:
    """A fraction as a percentage with ``sig`` significant digits (``0.0512 -> "5.12%"``)."""
    x = float(x)
    if not math.isfinite(x):
        return format_number(x)
    return format_number(100.0 * x, sig) + "%"


def format_value(name: str, value: Any) -> str:
    """How one cell prints: 3 significant digits, percentages for relative effects and shares."""
    if value is None:
        return ""
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        if name in _PERCENT_FIELDS:
            return format_percent(float(value))
        return format_number(float(value))
    if isinstance(value, _Interval):
        fmt = format_percent if value.percent else format_number
        return f"[{fmt(value.low)}, {fmt(value.high)}]"
    return str(value)


@dataclass(frozen=True)
class _Interval:
    """A display cell holding an interval."""

    low: float
    high: float
    percent: bool = False


# --------------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------------

# Columns that hold text (left-aligned); every other column is right-aligned.
_TEXT_COLUMNS = {
    "metric",
    "method",
    "control",
    "treatment",
    "arm",
    "sig",
    "covariate",
    "coefficient",
    "param",  # the wild cluster bootstrap's
    "weights",
    "quantity",
    "solved",
}

_STYLE = """<style>
.neyman-result{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;font-size:13px;
margin:0.5em 0;color:inherit}
.neyman-result table{border-collapse:collapse;font-variant-numeric:tabular-nums}
.neyman-result caption{caption-side:top;text-align:left;font-weight:600;padding:0.2em 0 0.4em}
.neyman-result th{text-align:right;border-bottom:1px solid #888;padding:0.25em 0.7em;
font-weight:600;white-space:nowrap}
.neyman-result td{text-align:right;padding:0.2em 0.7em;white-space:nowrap}
.neyman-result th.text,.neyman-result td.text{text-align:left}
.neyman-result tbody tr:nth-child(even){background:rgba(127,127,127,0.08)}
.neyman-result tr.neyman-pos td.effect{color:#15803d;font-weight:600}
.neyman-result tr.neyman-neg td.effect{color:#b91c1c;font-weight:600}
.neyman-result td.sig{font-weight:700;text-align:center}
.neyman-result .neyman-srm{background:#b91c1c;color:#fff;font-weight:700;padding:0.5em 0.8em;
margin:0 0 0.4em;border-radius:3px}
.neyman-result .neyman-footer{margin:0.3em 0 0;font-size:12px;opacity:0.8}
</style>"""


def _align_right(column: str) -> bool:
    return column not in _TEXT_COLUMNS


def text_table(columns: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> str:
    """Aligned plain-text table: text left-aligned, numbers right-aligned."""
    cells = [[format_value(c, r.get(c)) for c in columns] for r in rows]
    widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(columns)]

    def line(values: Sequence[str]) -> str:
        parts = [
            v.rjust(w) if _align_right(c) else v.ljust(w)
            for v, w, c in zip(values, widths, columns, strict=True)
        ]
        return "  ".join(parts).rstrip()

    return "\n".join([line(list(columns)), *(line(row) for row in cells)])


def html_table(
    columns: Sequence[str],
    rows: Sequence[Mapping[str, Any]],
    caption: str = "",
    *,
    row_classes: Sequence[str] | None = None,
) -> str:
    """An escaped HTML table (no JavaScript; the style comes from :func:`html_block`)."""

    def cls(c: str) -> str:
        names = [c.replace("_", "-")] if c in ("effect", "sig") else []
        if not _align_right(c):
            names.append("text")
        return f' class="{" ".join(names)}"' if names else ""

    head = "".join(f"<th{cls(c)}>{html.escape(c)}</th>" for c in columns)
    body = []
    for k, r in enumerate(rows):
        rc = row_classes[k] if row_classes is not None and row_classes[k] else ""
        tr = f'<tr class="{html.escape(rc)}">' if rc else "<tr>"
        tds = "".join(f"<td{cls(c)}>{html.escape(format_value(c, r.get(c)))}</td>" for c in columns)
        body.append(f"{tr}{tds}</tr>")
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def html_block(inner: str, *, banner: str = "", footer: Sequence[str] = ()) -> str:
    """Wrap escaped HTML in a styled ``div.neyman-result``: an optional red banner (escaped here)
    above, footer lines (escaped here) below."""
    top = f'<div class="neyman-srm" role="alert">{html.escape(banner)}</div>' if banner else ""
    foot = "".join(f'<p class="neyman-footer">{html.escape(line)}</p>' for line in footer if line)
    return f'<div class="neyman-result">{_STYLE}{top}{inner}{foot}</div>'


class DisplayMixin:
    """Text, HTML, pandas and polars views of a result, built from ``_display_rows()`` (the
    formatted table) and ``_records()`` (the full flat records)."""

    def _display_columns(self) -> tuple[str, ...]:
        raise NotImplementedError

    def _display_rows(self) -> list[dict[str, Any]]:
        return self._records()

    def _row_classes(self) -> list[str] | None:
        return None

    def _records(self) -> list[dict[str, Any]]:
        raise NotImplementedError

    def _caption(self) -> str:
        return ""

    def _banner(self) -> str:
        """A warning that must not be missed (sample-ratio mismatch), shown above the table."""
        return ""

    def _footer(self) -> list[str]:
        return []

    def __repr__(self) -> str:
        parts = [
            self._banner(),
            self._caption(),
            text_table(self._display_columns(), self._display_rows()),
            *self._footer(),
        ]
        return "\n".join(p for p in parts if p)

    def __str__(self) -> str:
        return self.__repr__()

    def _repr_html_(self) -> str:
        table = html_table(
            self._display_columns(),
            self._display_rows(),
            self._caption(),
            row_classes=self._row_classes(),
        )
        return html_block(table, banner=self._banner(), footer=self._footer())

    def to_pandas(self) -> Any:
        """The full records as a pandas DataFrame (pandas is imported lazily)."""
        import pandas as pd

        return pd.DataFrame.from_records(self._records())

    def to_polars(self) -> Any:
        """The full records as a polars DataFrame (polars is imported lazily)."""
        import polars as pl

        return pl.DataFrame(self._records(), infer_schema_length=None)


# --------------------------------------------------------------------------------------------
# Comparisons
# --------------------------------------------------------------------------------------------


class ConfidenceInterval(NamedTuple):
    """A confidence interval, as returned by :meth:`TestResult.confidence_interval`."""

    low: float
    high: float


def _at_level(res: Any, confidence_level: float | None) -> Any:
    """``res`` itself at its own level (or ``None``), else recomputed by its ``_refit`` hook."""
    if confidence_level is None:
        return res
    level = check_unit_interval("confidence_level", confidence_level)
    if level == res.confidence_level:
        return res
    if res._refit is None:
        raise InputError(
            f"confidence_level == {level}: this result cannot be recomputed at another level (it "
            f"was built without its statistics); it holds the {res.confidence_level:g} interval "
            "only"
        )
    return res._refit(level)


_UNADJUSTED_FIELDS = ("effect", "se", "ci_low", "ci_high", "pvalue")


def _is_significant(c: TestResult) -> bool:
    """``pvalue < alpha`` with ``alpha = 1 - confidence_level`` (False for a NaN p-value).

    ``alpha`` is rounded to 12 decimals, so ``1 - 0.95`` is 0.05, not 0.050000000000000044, and a
    p-value of exactly 0.05 is not significant at 95%.
    """
    return bool(c.pvalue < round(1.0 - c.confidence_level, 12))


@dataclass(frozen=True, repr=False)
class TestResult(DisplayMixin):
    """One treatment-versus-control comparison (the base of every comparison result).

    Families extend it: :class:`AdjustedResult` (regression adjustment, post-stratification) and
    :class:`CupedResult` (CUPED) add their own fields.

    Attributes
    ----------
    metric : str
        Metric name (the column, or ``"x"`` for arrays).
    method : str
        The test: ``"welch"``, ``"student"``, ``"z"``, ``"proportions-z"``, ``"ratio-delta"``, or
        an adjusted method (``"cuped-welch"``, ``"lin"``, ...).
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
        Interval on ``rel_effect`` by ``relative_ci`` (delta method or Fieller; Fieller's may be
        unbounded).
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

    Examples
    --------
    >>> import neyman
    >>> res = neyman.ttest([1.0, 2.0, 3.0, 4.0], [2.0, 3.5, 4.0, 6.5])
    >>> res.method, res.n_control, round(res.effect, 3), res.significant
    ('welch', 4, 1.5, False)
    >>> lo, hi = res.confidence_interval()
    >>> round(lo, 3), round(hi, 3)
    (-1.368, 4.368)
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
    # Set by the engine: the same comparison recomputed at another confidence level (a picklable
    # callable, e.g. a functools.partial). Private: never shown, compared or exported.
    _refit: Callable[[float], TestResult] | None = field(
        default=None, repr=False, compare=False, kw_only=True
    )

    @property
    def significant(self) -> bool:
        """``pvalue < 1 - confidence_level``: the interval excludes zero."""
        return _is_significant(self)

    def _public_fields(self) -> list[str]:
        return [f.name for f in fields(self) if not f.name.startswith("_")]

    def record(self) -> dict[str, Any]:
        """A flat dict of every public field; adjusted results replace ``unadjusted`` by
        ``unadjusted_effect``, ``unadjusted_se``, ``unadjusted_ci_low``, ``unadjusted_ci_high``
        and ``unadjusted_pvalue``."""
        out = {name: getattr(self, name) for name in self._public_fields() if name != "unadjusted"}
        if "unadjusted" in self._public_fields():
            u = getattr(self, "unadjusted", None)
            for name in _UNADJUSTED_FIELDS:
                out[f"unadjusted_{name}"] = getattr(u, name) if u is not None else None
        return out

    def to_dict(self) -> dict[str, Any]:
        """Every public field as a plain dict (a nested result, ``unadjusted``, as a dict)."""
        out: dict[str, Any] = {}
        for name in self._public_fields():
            value = getattr(self, name)
            out[name] = value.to_dict() if isinstance(value, TestResult) else value
        return out

    def confidence_interval(
        self, confidence_level: float | None = None, *, relative: bool = False
    ) -> ConfidenceInterval:
        """The confidence interval on the effect, at the result's level or recomputed at another.

        Parameters
        ----------
        confidence_level : float, optional
            Strictly between 0 and 1. ``None`` (or the result's own level) gives the stored
            interval; another level recomputes the comparison from its statistics.
        relative : bool, default False
            The interval on the relative effect (``rel_ci_low``, ``rel_ci_high``) instead of the
            absolute one.

        Returns
        -------
        ConfidenceInterval
            A named tuple ``(low, high)``; one end is infinite for one-sided alternatives, both may
            be for an unbounded Fieller interval.

        Raises
        ------
        InputError
            ``confidence_level`` is not strictly between 0 and 1, or the result was built without
            the statistics needed to recompute it (a result made by hand).
        InputTypeError
            ``confidence_level`` is not a number, or ``relative`` not a bool.

        Examples
        --------
        >>> import neyman
        >>> res = neyman.ttest([1.0, 2.0, 3.0, 4.0], [2.0, 3.5, 4.0, 6.5])
        >>> ci = res.confidence_interval()
        >>> ci.low == res.ci_low and ci.high == res.ci_high
        True
        >>> res.confidence_interval(relative=True) == (res.rel_ci_low, res.rel_ci_high)
        True
        """
        if not isinstance(relative, bool):
            raise InputTypeError(f"relative must be a bool, got {type(relative).__name__}")
        res: TestResult = _at_level(self, confidence_level)
        if relative:
            return ConfidenceInterval(res.rel_ci_low, res.rel_ci_high)
        return ConfidenceInterval(res.ci_low, res.ci_high)

    def plot(self, ax: Any = None) -> Any:
        """Forest plot of this comparison's relative effect; see :meth:`AnalysisResult.plot`."""
        return AnalysisResult((self,)).plot(ax=ax)

    # Display -------------------------------------------------------------------------------

    def _display_columns(self) -> tuple[str, ...]:
        return _display_columns_for([self])

    def _display_rows(self) -> list[dict[str, Any]]:
        return [_display_row(self)]

    def _row_classes(self) -> list[str]:
        return [_row_class(self)]

    def _records(self) -> list[dict[str, Any]]:
        return [self.record()]

    def _caption(self) -> str:
        return _caption_for([self])

    def _footer(self) -> list[str]:
        return [_significance_note([self])]


@dataclass(frozen=True, repr=False)
class AdjustedResult(TestResult):
    """A comparison adjusted by covariates (regression adjustment, post-stratification), with the
    unadjusted comparison beside it.

    Attributes
    ----------
    covariate : str
        The covariate(s) used, comma-separated.
    variance_ratio : float
        Variance of the adjusted effect over that of the unadjusted one (below 1 when the
        covariates help; about ``1 - R^2``).
    unadjusted : TestResult
        The same comparison without adjustment.

    Every field of :class:`TestResult` too.
    """

    covariate: str
    variance_ratio: float
    unadjusted: TestResult


@dataclass(frozen=True, repr=False)
class CupedResult(AdjustedResult):
    """A CUPED comparison (one pre-experiment covariate, pooled coefficient).

    Attributes
    ----------
    theta : float
        The pooled CUPED coefficient.

    Every field of :class:`AdjustedResult` too.

    Examples
    --------
    >>> import numpy as np, neyman
    >>> rng = np.random.default_rng(1)
    >>> x_c, x_t = rng.normal(0, 1, 500), rng.normal(0, 1, 500)
    >>> res = neyman.cuped(x_c + rng.normal(0, 1, 500), x_c, x_t + rng.normal(0, 1, 500), x_t)
    >>> type(res).__name__, res.covariate, res.unadjusted.method
    ('CupedResult', 'x', 'welch')
    """

    theta: float


@dataclass(frozen=True, repr=False)
class ClusteredResult(TestResult):
    """A comparison with cluster-robust variance: units randomised in clusters, or analysed at a
    finer level than the one randomised (sessions of users, user-days).

    The arms' means (adjusted means with covariates) are the coefficients of the regression of
    the metric on arm indicators (and centred covariates), fitted from per-cluster sums; the
    effect's variance is cluster-robust (``vcov_type``) and its reference is Student's t with the
    Bell-McCaffrey degrees of freedom (CR2) or ``n_clusters - 1`` (CR0, CR1, CR3).

    Attributes
    ----------
    cluster : str
        The column of cluster ids.
    vcov_type : str
        'CR0', 'CR1', 'CR2' or 'CR3'.
    n_clusters : int
        Clusters with rows in the comparison's data.
    icc : float
        Intra-cluster correlation of the model's residuals (one-way ANOVA estimator).
    design_effect : float
        Clustered variance of the effect over its variance were the units independent (classical
        OLS): what clustering costs.
    effective_n : float
        ``(n_control + n_treatment) / design_effect``: the independent units worth as much.
    covariate : str
        The covariates adjusted for, comma-separated ('' when none).

    Every field of :class:`TestResult` too.

    Examples
    --------
    >>> import numpy as np, pandas as pd, neyman
    >>> rng = np.random.default_rng(3)
    >>> city = rng.integers(0, 40, 4000)
    >>> arm = np.where(city % 2 == 0, "control", "treatment")
    >>> y = 1.0 + 0.1 * (arm == "treatment") + rng.normal(0, 0.5, 40)[city] + rng.normal(0, 1, 4000)
    >>> df = pd.DataFrame({"arm": arm, "city": city, "y": y})
    >>> res = neyman.ttest(df, metric="y", variant="arm", control="control", cluster="city")[0]
    >>> type(res).__name__, res.vcov_type, res.n_clusters, res.design_effect > 10
    ('ClusteredResult', 'CR2', 40, True)
    """

    cluster: str
    vcov_type: str
    n_clusters: int
    icc: float
    design_effect: float
    effective_n: float
    covariate: str = ""


@dataclass(frozen=True, repr=False)
class QuantileResult(TestResult):
    """A comparison of a quantile between two arms (:func:`neyman.quantile`,
    :class:`neyman.Quantile`): ``control_value`` and ``treatment_value`` are the arms'
    ``q``-quantiles, ``effect`` their difference, ``rel_effect`` the relative difference; the
    standard errors come from the order-statistic interval of each arm's quantile (Deng et al.
    2018), the reference is normal (``df`` is infinite).

    Attributes
    ----------
    q : float
        The quantile compared.

    Every field of :class:`TestResult` too.

    Examples
    --------
    >>> import numpy as np, neyman
    >>> rng = np.random.default_rng(1)
    >>> res = neyman.quantile(rng.exponential(1.0, 5000), rng.exponential(1.1, 5000), q=0.5)
    >>> type(res).__name__, res.q, res.method
    ('QuantileResult', 0.5, 'quantile-0.5')
    """

    q: float


@dataclass(frozen=True, repr=False)
class SequentialResult(TestResult):
    """A comparison at one look of a sequential test: ``ci_low``/``ci_high`` (and
    ``rel_ci_low``/``rel_ci_high``) are always-valid intervals and ``pvalue`` an always-valid
    p-value, which keep their level however often and whenever the analyst looks (the running
    intersection and minimum over the looks so far). ``confidence_level`` is ``1 - alpha``.

    Attributes
    ----------
    sequential_method : str
        'msprt' (Johari et al. 2022) or 'confidence-sequence' (Waudby-Smith et al. 2023).
    look : int
        The look (1 for the first).
    mixing_variance : float
        The mSPRT's mixing variance on the scale tested (NaN for confidence sequences, whose
        mixing variance is ``rho^2`` times the per-unit variance at each look).
    relative : bool
        Whether ``pvalue`` tests the relative effect (else the absolute one).
    fixed_pvalue, fixed_ci_low, fixed_ci_high : float
        The fixed-horizon p-value and interval of the same look: valid only if this were the one
        look planned.

    Every field of :class:`TestResult` too.

    Examples
    --------
    >>> import numpy as np, neyman
    >>> rng = np.random.default_rng(2)
    >>> a, b = rng.normal(0, 1, 5000), rng.normal(0.1, 1, 5000)
    >>> res = neyman.msprt(neyman.ttest(a, b), mde=0.05)[0]
    >>> res.pvalue >= res.fixed_pvalue, res.ci_low < res.fixed_ci_low
    (True, True)
    """

    sequential_method: str
    look: int
    mixing_variance: float
    relative: bool
    fixed_pvalue: float
    fixed_ci_low: float
    fixed_ci_high: float


# --------------------------------------------------------------------------------------------
# Display of comparisons
# --------------------------------------------------------------------------------------------

_BASE_DISPLAY = (
    "metric",
    "treatment",
    "method",
    "n_control",
    "n_treatment",
    "control_value",
    "treatment_value",
    "effect",
    "ci",
    "rel_effect",
    "rel_ci",
    "pvalue",
    "sig",
)
_ADJUSTED_DISPLAY = ("variance_ratio", "unadjusted_pvalue")


# Clustered rows: the clusters, the design effect (what clustering cost) and the df.
_CLUSTERED_DISPLAY = ("n_clusters", "design_effect", "df")

# Sequential rows: the look and the fixed-horizon p-value beside the always-valid one.
_SEQUENTIAL_DISPLAY = ("look", "fixed_pvalue")


def _display_columns_for(comparisons: Sequence[TestResult]) -> tuple[str, ...]:
    """Display columns: a control column when the controls differ; adjusted results add the
    variance ratio and the unadjusted p-value."""
    cols: tuple[str, ...] = _BASE_DISPLAY
    if len({c.control for c in comparisons}) > 1:
        cols = ("metric", "control", *cols[1:])
    if any(isinstance(c, AdjustedResult) for c in comparisons):
        cols = (*cols, *_ADJUSTED_DISPLAY)
    if any(isinstance(c, ClusteredResult) for c in comparisons):
        cols = (*cols, *_CLUSTERED_DISPLAY)
    if any(isinstance(c, SequentialResult) for c in comparisons):
        cols = (*cols, *_SEQUENTIAL_DISPLAY)
    return cols


def _display_row(c: TestResult) -> dict[str, Any]:
    row = c.record()
    row["ci"] = _Interval(c.ci_low, c.ci_high)
    row["rel_ci"] = _Interval(c.rel_ci_low, c.rel_ci_high, percent=True)
    row["sig"] = "*" if c.significant else ""
    return row


def _row_class(c: TestResult) -> str:
    if not c.significant:
        return ""
    return "neyman-pos" if c.effect > 0 else "neyman-neg" if c.effect < 0 else ""


def _caption_for(comparisons: Sequence[TestResult]) -> str:
    """The options shared by every row (``"mixed"`` where they differ)."""
    if not comparisons:
        return ""

    def shared(values: Iterable[str]) -> str:
        distinct = list(dict.fromkeys(values))
        return distinct[0] if len(distinct) == 1 else "mixed"

    controls = list(dict.fromkeys(c.control for c in comparisons))
    vs = f"vs control {controls[0]!r}: " if len(controls) == 1 else ""
    level = shared(f"{100 * c.confidence_level:g}%" for c in comparisons)
    alternative = shared(c.alternative for c in comparisons)
    relative = shared(c.relative_ci for c in comparisons)
    return f"{vs}{alternative}, {level} CI (relative: {relative})"


def _significance_note(comparisons: Sequence[TestResult]) -> str:
    if not comparisons:
        return ""
    alphas = {round(1.0 - c.confidence_level, 12) for c in comparisons}
    bound = f"{alphas.pop():g}" if len(alphas) == 1 else ""
    where = f"pvalue < {bound} (1 - confidence_level)" if bound else "pvalue < 1 - confidence_level"
    return f"sig: * where {where}"


def _union_records(records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Records with the same keys in the same order (None where a row lacks a field); the widest
    record's order first."""
    keys: dict[str, None] = {}
    for r in sorted(records, key=len, reverse=True):
        keys.update(dict.fromkeys(r))
    return [{k: r.get(k) for k in keys} for r in records]


# --------------------------------------------------------------------------------------------
# SRM
# --------------------------------------------------------------------------------------------


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

    Examples
    --------
    >>> import neyman
    >>> print(neyman.srm({"control": 5050, "treatment": 4950}))
    arm        observed  expected   share  planned_share
    control        5050      5000  50.5%          50.0%
    treatment      4950      5000  49.5%          50.0%
    SRM check: chi2 = 1.00 on 1 df, p = 0.317 (ok; alpha = 0.001)
    """

    statistic: float
    pvalue: float
    df: float
    observed: dict[Any, int]
    expected: dict[Any, float]
    alpha: float
    mismatch: bool

    def _display_columns(self) -> tuple[str, ...]:
        return ("arm", "observed", "expected", "share", "planned_share")

    def _records(self) -> list[dict[str, Any]]:
        total = sum(self.observed.values())
        return [
            {
                "arm": str(arm),
                "observed": int(n),
                "expected": float(self.expected[arm]),
                "share": n / total if total else math.nan,
                "planned_share": self.expected[arm] / total if total else math.nan,
            }
            for arm, n in self.observed.items()
        ]

    def _banner(self) -> str:
        return self.warning()

    def _footer(self) -> list[str]:
        return [self.summary()]

    def warning(self) -> str:
        """A one-line warning when ``mismatch``, else ``""``."""
        if not self.mismatch:
            return ""
        return (
            f"SAMPLE RATIO MISMATCH (p = {format_number(self.pvalue)} < alpha = {self.alpha:g}): "
            "the arm sizes differ from the planned split; do not trust the effects"
        )

    def summary(self) -> str:
        """One line: the chi-square statistic, p-value and verdict."""
        verdict = "MISMATCH: do not trust the effects" if self.mismatch else "ok"
        return (
            f"SRM check: chi2 = {format_number(self.statistic)} on {int(self.df)} df, "
            f"p = {format_number(self.pvalue)} ({verdict}; alpha = {self.alpha:g})"
        )

    def to_dict(self) -> dict[str, Any]:
        """All fields as a plain dict (the dicts copied)."""
        return {
            f.name: dict(getattr(self, f.name))
            if isinstance(getattr(self, f.name), dict)
            else getattr(self, f.name)
            for f in fields(self)
        }


@dataclass(frozen=True, repr=False)
class SequentialPath(DisplayMixin):
    """Always-valid p-values and intervals of one or several series of looks (the last axis is
    the look): the running minimum of the looks' p-values and the running intersection of their
    intervals.

    Attributes
    ----------
    method : str
        'msprt' or 'confidence-sequence'.
    pvalue, ci_low, ci_high : numpy.ndarray
        Shape of the input: ``(looks,)`` or ``(series, looks)``.
    log_lambda : numpy.ndarray
        The log mixture likelihood ratio of each look (not cumulated).
    alpha : float
    alternative : str

    Examples
    --------
    >>> import neyman
    >>> path = neyman.msprt_path([0.3, 0.2, 0.25], [0.04, 0.02, 0.01], mixing_variance=0.04)
    >>> path.pvalue.round(4).tolist()
    [0.8058, 0.8058, 0.1835]
    """

    method: str
    pvalue: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    log_lambda: np.ndarray
    alpha: float
    alternative: str

    def _display_columns(self) -> tuple[str, ...]:
        cols = ("look", "pvalue", "ci_low", "ci_high")
        return ("series", *cols) if self.pvalue.ndim == 2 else cols

    def _records(self) -> list[dict[str, Any]]:
        p = np.atleast_2d(self.pvalue)
        lo, hi = np.atleast_2d(self.ci_low), np.atleast_2d(self.ci_high)
        rows = []
        for s in range(p.shape[0]):
            for k in range(p.shape[1]):
                row = {"look": k + 1, "pvalue": float(p[s, k])}
                row.update(ci_low=float(lo[s, k]), ci_high=float(hi[s, k]))
                rows.append({"series": s, **row} if self.pvalue.ndim == 2 else row)
        return rows

    def _caption(self) -> str:
        level = f"{100 * (1 - self.alpha):g}%"
        return f"{self.method}: always-valid p-values and {level} intervals, {self.alternative}"


@dataclass(frozen=True, repr=False)
class PermutationResult(DisplayMixin):
    """A permutation (randomisation) test of two arms (:func:`neyman.permutation_test`).

    Attributes
    ----------
    statistic : float
        The observed statistic (``statistic_name``: the difference of means, or relative lift).
    pvalue : float
    null_distribution : numpy.ndarray
        The statistic under each reassignment drawn (or every one, when ``exact``); read-only.
    n_resamples : int
        Its length.
    exact : bool
        Whether every reassignment was enumerated.
    n_control, n_treatment : int
        Rows of each arm.
    n_clusters : int or None
        Clusters re-randomised (None: units).
    alternative : str
    statistic_name : str

    Examples
    --------
    >>> import neyman
    >>> print(neyman.permutation_test([1.0, 2.0], [3.0, 5.0], n_resamples=float("inf")))
    permutation test (exact, 6 arrangements), two-sided
    statistic  pvalue  n_control  n_treatment
         2.50   0.333          2            2
    """

    statistic: float
    pvalue: float
    null_distribution: np.ndarray
    n_resamples: int
    exact: bool
    n_control: int
    n_treatment: int
    n_clusters: int | None
    alternative: str
    statistic_name: str

    def _display_columns(self) -> tuple[str, ...]:
        cols = ("statistic", "pvalue", "n_control", "n_treatment")
        return (*cols, "n_clusters") if self.n_clusters is not None else cols

    def _records(self) -> list[dict[str, Any]]:
        row = {
            "statistic": self.statistic,
            "pvalue": self.pvalue,
            "n_control": self.n_control,
            "n_treatment": self.n_treatment,
        }
        if self.n_clusters is not None:
            row["n_clusters"] = self.n_clusters
        return [row]

    def _caption(self) -> str:
        how = (
            f"exact, {self.n_resamples:,} arrangements"
            if self.exact
            else f"{self.n_resamples:,} random reassignments"
        )
        unit = ", clusters re-randomised" if self.n_clusters is not None else ""
        return f"permutation test ({how}{unit}), {self.alternative}"

    def to_dict(self) -> dict[str, Any]:
        """All fields as a plain dict (the null distribution as an array)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True, repr=False)
class SequentialSRMResult(SRMResult):
    """An anytime-valid sample-ratio-mismatch check (Lindon and Malek 2022): ``pvalue`` is the
    running minimum over the looks of ``1 / BF``, the Dirichlet-multinomial Bayes factor against
    the planned split, valid however often the split is checked. ``statistic`` is ``log BF`` at
    the last look; ``df`` is NaN.

    Attributes
    ----------
    looks : int
        Looks so far.
    concentration : float
        The Dirichlet prior's concentration ``c`` (prior ``Dirichlet(c p)``).

    Every field of :class:`SRMResult` too.

    Examples
    --------
    >>> import neyman
    >>> res = neyman.sequential_srm([[510, 490], [5200, 4800]])
    >>> res.looks, res.mismatch
    (2, False)
    """

    looks: int = 1
    concentration: float = 100.0

    def summary(self) -> str:
        """One line: the Bayes factor, the anytime-valid p-value and the verdict."""
        verdict = "MISMATCH: do not trust the effects" if self.mismatch else "ok"
        return (
            f"sequential SRM check: log BF = {format_number(self.statistic)} after "
            f"{self.looks} {'look' if self.looks == 1 else 'looks'}, anytime-valid "
            f"p = {format_number(self.pvalue)} ({verdict}; alpha = {self.alpha:g})"
        )


# --------------------------------------------------------------------------------------------
# Wild cluster bootstrap
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class WildBootstrapResult(DisplayMixin):
    """A restricted wild cluster bootstrap (WCR) test of one linear hypothesis in OLS, and its
    confidence interval by test inversion (see :func:`neyman.wild_cluster_bootstrap`).

    Attributes
    ----------
    param : str
        The hypothesis' coefficient (a column of ``X``) or contrast.
    estimate : float
        The OLS estimate of the coefficient or contrast.
    se : float
        Its cluster-robust (CR1) standard error.
    statistic : float
        The CR1 t statistic ``(estimate - null) / se``.
    pvalue : float
        The bootstrap p-value for ``alternative``.
    ci_low, ci_high : float
        The confidence interval by inverting the bootstrap test: the nulls the test does not reject
        at ``1 - confidence_level`` (infinite on an open side, or where no null is rejected).
    null : float
        The value tested.
    n_clusters : int
        Clusters ``G``.
    n : int
        Rows used.
    n_resamples : int
        Replicates used: ``2**G`` under full enumeration, else those asked for.
    full_enumeration : bool
        Whether every Rademacher sign vector was used (deterministic).
    weights : str
        ``'rademacher'`` or ``'webb'``.
    alternative, confidence_level : str, float
        The options of the test.
    bootstrap_statistics : numpy.ndarray
        ``t*`` of every replicate at the null, in replicate order (read-only; not in ``to_dict``).
    """

    param: str
    estimate: float
    se: float
    statistic: float
    pvalue: float
    ci_low: float
    ci_high: float
    null: float
    n_clusters: int
    n: int
    n_resamples: int
    full_enumeration: bool
    weights: str
    alternative: str
    confidence_level: float
    bootstrap_statistics: np.ndarray = field(repr=False, compare=False, kw_only=True)
    # The same test at another confidence level, with the same replicates (private).
    _refit: Callable[[float], WildBootstrapResult] | None = field(
        default=None, repr=False, compare=False, kw_only=True
    )

    @property
    def significant(self) -> bool:
        """``pvalue < 1 - confidence_level``."""
        return bool(self.pvalue < round(1.0 - self.confidence_level, 12))

    def confidence_interval(self, confidence_level: float | None = None) -> ConfidenceInterval:
        """The interval at the result's level, or inverted again at another from the same
        replicates."""
        res: WildBootstrapResult = _at_level(self, confidence_level)
        return ConfidenceInterval(res.ci_low, res.ci_high)

    def to_dict(self) -> dict[str, Any]:
        """Every public field but ``bootstrap_statistics``, as a plain dict."""
        skip = ("bootstrap_statistics",)
        return {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if not f.name.startswith("_") and f.name not in skip
        }

    def _display_columns(self) -> tuple[str, ...]:
        return ("param", "estimate", "se", "statistic", "ci", "pvalue", "n_clusters", "sig")

    def _records(self) -> list[dict[str, Any]]:
        return [self.to_dict()]

    def _display_rows(self) -> list[dict[str, Any]]:
        row = self.to_dict()
        row["ci"] = _Interval(self.ci_low, self.ci_high)
        row["sig"] = "*" if self.significant else ""
        return [row]

    def _caption(self) -> str:
        draws = (
            f"all {self.n_resamples} sign vectors"
            if self.full_enumeration
            else f"{self.n_resamples} resamples"
        )
        return (
            f"wild cluster bootstrap (WCR, {self.weights}, {draws}): "
            f"H0 {self.param} = {self.null:g}, {self.alternative}, "
            f"{100 * self.confidence_level:g}% CI by test inversion"
        )

    def _footer(self) -> list[str]:
        alpha = round(1.0 - self.confidence_level, 12)
        return [f"sig: * where pvalue < {alpha:g} (1 - confidence_level)"]


# --------------------------------------------------------------------------------------------
# Several comparisons
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class AnalysisResult(DisplayMixin):
    """Several comparisons (metrics x treatment arms) and the SRM check of the experiment.

    Iterate over it; select by position (``res[0]``, a :class:`TestResult`), slice (``res[1:3]``),
    metric (``res["revenue"]``, an :class:`AnalysisResult` of that metric's rows) or metric and
    treatment arm (``res["revenue", "treatment_a"]``, a :class:`TestResult`), or with
    :meth:`filter`; convert with :meth:`to_pandas` / :meth:`to_polars`; :meth:`plot` draws a forest
    plot of relative effects.

    Attributes
    ----------
    comparisons : tuple of TestResult
        One row per metric and treatment arm; no two with the same metric and treatment.
    srm : SRMResult or None
        The sample-ratio-mismatch check of the experiment.

    Raises
    ------
    InputError
        Two comparisons have the same metric and treatment arm.
    InputTypeError
        A comparison is not a :class:`TestResult`.

    Examples
    --------
    >>> import neyman, pandas as pd
    >>> df = pd.DataFrame({"arm": ["c", "a", "b"] * 4,
    ...                    "revenue": [1.0, 2, 3, 2, 3, 5, 1, 2, 2, 3, 4, 4],
    ...                    "converted": [0, 1, 1, 0, 1, 0, 1, 1, 1, 0, 0, 1]})
    >>> res = neyman.Experiment(df, variant="arm", control="c").analyze(
    ...     neyman.Mean("revenue"), neyman.Proportion("converted"))
    >>> len(res), len(res["revenue"]), res["revenue", "b"].treatment
    (4, 2, 'b')
    >>> [(c.metric, c.treatment) for c in res.filter(treatment="a")]
    [('revenue', 'a'), ('converted', 'a')]
    """

    comparisons: tuple[TestResult, ...]
    srm: SRMResult | None = None

    def __post_init__(self) -> None:
        comparisons = tuple(self.comparisons)
        seen: set[tuple[str, str]] = set()
        for c in comparisons:
            if not isinstance(c, TestResult):
                raise InputTypeError(
                    f"comparisons must be neyman.TestResult objects, got {type(c).__name__}"
                )
            key = (c.metric, c.treatment)
            if key in seen:
                raise InputError(f"two metrics are named {c.metric!r}; give one a name=...")
            seen.add(key)
        object.__setattr__(self, "comparisons", comparisons)

    def __len__(self) -> int:
        return len(self.comparisons)

    def __iter__(self) -> Iterator[TestResult]:
        return iter(self.comparisons)

    @property
    def metrics(self) -> list[str]:
        """Metric names, in order of first appearance."""
        return list(dict.fromkeys(c.metric for c in self.comparisons))

    @property
    def treatments(self) -> list[str]:
        """Treatment arm labels, in order of first appearance."""
        return list(dict.fromkeys(c.treatment for c in self.comparisons))

    def _names(self, values: Sequence[str]) -> str:
        return ", ".join(repr(v) for v in values) if values else "none"

    def _unknown_metric(self, metric: object) -> KeyError:
        names = self.metrics
        return KeyError(
            f"no metric {metric!r}; the {_plural(len(names), 'metric')}: {self._names(names)}"
        )

    @overload
    def __getitem__(self, key: int) -> TestResult: ...
    @overload
    def __getitem__(self, key: slice) -> AnalysisResult: ...
    @overload
    def __getitem__(self, key: str) -> AnalysisResult: ...
    @overload
    def __getitem__(self, key: tuple[str, Any]) -> TestResult: ...
    def __getitem__(self, key: int | slice | str | tuple[str, Any]) -> TestResult | AnalysisResult:
        if isinstance(key, int | np.integer) and not isinstance(key, bool):
            return self.comparisons[int(key)]
        if isinstance(key, slice):
            return AnalysisResult(self.comparisons[key], srm=self.srm)
        if isinstance(key, str):
            rows = tuple(c for c in self.comparisons if c.metric == key)
            if not rows:
                raise self._unknown_metric(key)
            return AnalysisResult(rows, srm=self.srm)
        if isinstance(key, tuple) and len(key) == 2:
            metric, arm = key
            for c in self.comparisons:
                if c.metric == metric and c.treatment == str(arm):
                    return c
            if metric not in self.metrics:
                raise self._unknown_metric(metric)
            arms = [c.treatment for c in self.comparisons if c.metric == metric]
            raise KeyError(
                f"no treatment arm {arm!r} for metric {metric!r}; its "
                f"{_plural(len(arms), 'treatment arm')}: {self._names(arms)}"
            )
        raise TypeError(
            "an AnalysisResult is indexed by position, slice, metric name or (metric, treatment), "
            f"got {type(key).__name__}"
        )

    def filter(
        self,
        *,
        metric: str | Sequence[str] | None = None,
        treatment: Any = None,
        significant: bool | None = None,
    ) -> AnalysisResult:
        """The comparisons that match every criterion given, with the same SRM check.

        Parameters
        ----------
        metric : str or sequence of str, optional
            Keep these metrics.
        treatment : label or sequence of labels, optional
            Keep these treatment arms (compared as strings, like ``res[metric, arm]``).
        significant : bool, optional
            ``True``: keep rows with ``pvalue < 1 - confidence_level``; ``False``: the others
            (NaN p-values included).

        Returns
        -------
        AnalysisResult

        Raises
        ------
        KeyError
            A metric or treatment arm that the result does not have (the message lists those it
            has).
        InputTypeError
            ``significant`` is not None or a bool.

        Examples
        --------
        >>> import neyman
        >>> res = neyman.ttest([1.0, 2.0, 3.0, 4.0],
        ...                    {"a": [2.0, 3.5, 4.0, 6.5], "b": [5.0, 6.0, 7.0, 8.0]})
        >>> [c.treatment for c in res.filter(significant=True)]
        ['b']
        """
        if significant is not None and not isinstance(significant, bool | np.bool_):
            raise InputTypeError(
                f"significant must be None, True or False, got {type(significant).__name__}"
            )
        rows: Iterable[TestResult] = self.comparisons
        if metric is not None:
            wanted = [metric] if isinstance(metric, str) else list(metric)
            for m in wanted:
                if m not in self.metrics:
                    raise self._unknown_metric(m)
            rows = [c for c in rows if c.metric in wanted]
        if treatment is not None:
            many = isinstance(
                treatment, Sequence | set | frozenset | np.ndarray
            ) and not isinstance(treatment, str)
            arms = [str(t) for t in (treatment if many else [treatment])]
            for a in arms:
                if a not in self.treatments:
                    names = self.treatments
                    raise KeyError(
                        f"no treatment arm {a!r}; the "
                        f"{_plural(len(names), 'treatment arm')}: {self._names(names)}"
                    )
            rows = [c for c in rows if c.treatment in arms]
        if significant is not None:
            rows = [c for c in rows if c.significant == bool(significant)]
        return AnalysisResult(tuple(rows), srm=self.srm)

    # Display -------------------------------------------------------------------------------

    def _display_columns(self) -> tuple[str, ...]:
        return _display_columns_for(self.comparisons)

    def _display_rows(self) -> list[dict[str, Any]]:
        return _union_records([_display_row(c) for c in self.comparisons])

    def _row_classes(self) -> list[str]:
        return [_row_class(c) for c in self.comparisons]

    def _records(self) -> list[dict[str, Any]]:
        return _union_records([c.record() for c in self.comparisons])

    def _caption(self) -> str:
        return _caption_for(self.comparisons)

    def _banner(self) -> str:
        return self.srm.warning() if self.srm is not None else ""

    def _footer(self) -> list[str]:
        return [
            _significance_note(self.comparisons),
            self.srm.summary() if self.srm is not None else "",
        ]

    def __repr__(self) -> str:
        if not self.comparisons:
            parts = [self._banner(), "no comparisons", *self._footer()]
            return "\n".join(p for p in parts if p)
        return super().__repr__()

    def to_dict(self) -> dict[str, Any]:
        """``{"comparisons": [...], "srm": {...} or None}``."""
        return {
            "comparisons": [c.to_dict() for c in self.comparisons],
            "srm": self.srm.to_dict() if self.srm is not None else None,
        }

    def plot(self, ax: Any = None) -> Any:
        """Forest plot of relative effects with their intervals (matplotlib, imported lazily).

        Each comparison is a point (its relative effect, in percent) and a line (its interval),
        coloured green when significantly positive, red when significantly negative, grey
        otherwise. An interval that is open on one side (one-sided alternatives) or unbounded
        (Fieller, when the control mean is not significantly non-zero) ends in an arrow towards
        the edge of the plot.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional
            Axes to draw on; a new figure is made when omitted.

        Returns
        -------
        matplotlib.axes.Axes

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> import neyman
        >>> res = neyman.ttest([1.0, 2.0, 3.0, 4.0], [2.0, 3.5, 4.0, 6.5], alternative="greater")
        >>> ax = res.plot()
        >>> [t.get_text() for t in ax.get_legend().get_texts()][-1]
        'open-ended interval'
        >>> import matplotlib.pyplot as plt; plt.close("all")
        """
        import matplotlib.pyplot as plt
        from matplotlib.lines import Line2D

        rows = self.comparisons
        if ax is None:
            _, ax = plt.subplots(figsize=(7, 0.5 * len(rows) + 1.5))
        y = np.arange(len(rows), dtype=float)[::-1]
        est = np.array([100 * c.rel_effect for c in rows], dtype=float)
        lo = np.array([100 * c.rel_ci_low for c in rows], dtype=float)
        hi = np.array([100 * c.rel_ci_high for c in rows], dtype=float)

        colors = {"pos": "tab:green", "neg": "tab:red", "ns": "tab:gray"}
        kinds = [
            ("pos" if c.effect > 0 else "neg" if c.effect < 0 else "ns") if c.significant else "ns"
            for c in rows
        ]
        finite = np.concatenate([v[np.isfinite(v)] for v in (est, lo, hi)] + [np.zeros(1)])
        left, right = float(finite.min()), float(finite.max())
        pad = 0.1 * (right - left) if right > left else 1.0
        left, right = left - pad, right + pad

        open_ended = False
        for k, c in enumerate(rows):
            color = colors[kinds[k]]
            # The finite part of the interval: from a finite end (or the estimate) to the other.
            start = lo[k] if np.isfinite(lo[k]) else est[k]
            stop = hi[k] if np.isfinite(hi[k]) else est[k]
            if not np.isfinite(start) and np.isfinite(stop):
                start = stop
            if not np.isfinite(stop) and np.isfinite(start):
                stop = start
            # Both ends and the estimate unknown but the interval unbounded: draw from 0.
            anchor_lo = start if np.isfinite(start) else 0.0
            anchor_hi = stop if np.isfinite(stop) else 0.0
            if np.isfinite(start) and np.isfinite(stop):
                ax.hlines(y[k], start, stop, colors=color, linewidth=2)
            for end, edge, anchor in ((lo[k], 0.0, anchor_lo), (hi[k], 1.0, anchor_hi)):
                if np.isinf(end):
                    open_ended = True
                    ax.annotate(
                        "",
                        xy=(edge, y[k]),
                        xycoords=ax.get_yaxis_transform(),
                        xytext=(anchor, y[k]),
                        textcoords="data",
                        arrowprops={"arrowstyle": "-|>", "color": color, "linewidth": 2},
                    )
            del c
        ax.scatter(est, y, color=[colors[k] for k in kinds], zorder=3)
        ax.axvline(0, color="black", linewidth=0.8)
        ax.set_xlim(left, right)
        ax.set_yticks(y, [f"{c.metric}: {c.treatment}" for c in rows])
        ax.set_ylim(-0.7, len(rows) - 0.3)
        ax.set_xlabel("relative effect (%)")
        if rows:
            ax.set_title(self._caption())
        handles = [
            Line2D([], [], color=colors["pos"], marker="o", label="significant, positive"),
            Line2D([], [], color=colors["neg"], marker="o", label="significant, negative"),
            Line2D([], [], color=colors["ns"], marker="o", label="not significant"),
        ]
        if open_ended:
            handles.append(
                Line2D(
                    [], [], color="black", marker=">", markevery=[1], label="open-ended interval"
                )
            )
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
        return ax


# --------------------------------------------------------------------------------------------
# Experiment
# --------------------------------------------------------------------------------------------


def _experiment_parts(
    variant: str,
    control: Any,
    counts: Mapping[Any, int],
    n_rows: int | None,
    unit: str | None,
    srm: SRMResult | None,
) -> tuple[str, list[dict[str, Any]], tuple[str, ...], str, list[str]]:
    total = sum(int(n) for n in counts.values())
    n = total if n_rows is None else int(n_rows)
    caption = f"Experiment: {_plural(n, 'row')}, variant column {variant!r}, control {control!r}"
    if unit is not None:
        caption += f", one row per {unit!r}"
    planned: dict[str, float] = {}
    if srm is not None:
        exp_total = sum(srm.expected.values())
        planned = {str(a): e / exp_total for a, e in srm.expected.items()} if exp_total else {}
    rows = [
        {
            "arm": str(arm) + (" (control)" if arm == control else ""),
            "rows": int(c),
            "share": int(c) / total if total else math.nan,
            **({"planned_share": planned.get(str(arm), math.nan)} if planned else {}),
        }
        for arm, c in counts.items()
    ]
    columns: tuple[str, ...] = ("arm", "rows", "share")
    if planned:
        columns = (*columns, "planned_share")
    banner = srm.warning() if srm is not None else ""
    footer = [srm.summary()] if srm is not None else []
    return caption, rows, columns, banner, footer


def experiment_text(
    *,
    variant: str,
    control: Any,
    counts: Mapping[Any, int],
    n_rows: int | None = None,
    unit: str | None = None,
    srm: SRMResult | None = None,
) -> str:
    """The text view of an experiment: its variant column, control, arms with their row counts
    and shares, and the SRM check (a warning line first when it fails).

    Parameters
    ----------
    variant : str
        The variant column.
    control : object
        The control label.
    counts : mapping
        Rows per arm label, in display order.
    n_rows : int, optional
        Rows of the frame (default: the sum of ``counts``).
    unit : str, optional
        The randomisation-unit column, when one row per unit was checked.
    srm : SRMResult, optional
        The sample-ratio-mismatch check; adds the planned shares.

    Returns
    -------
    str

    Examples
    --------
    >>> import neyman
    >>> from neyman._results import experiment_text
    >>> counts = {"control": 5050, "treatment": 4950}
    >>> print(experiment_text(variant="arm", control="control", counts=counts,
    ...                       srm=neyman.srm(counts)))
    Experiment: 10000 rows, variant column 'arm', control 'control'
    arm                 rows   share  planned_share
    control (control)   5050  50.5%          50.0%
    treatment           4950  49.5%          50.0%
    SRM check: chi2 = 1.00 on 1 df, p = 0.317 (ok; alpha = 0.001)
    """
    caption, rows, columns, banner, footer = _experiment_parts(
        variant, control, counts, n_rows, unit, srm
    )
    parts = [banner, caption, text_table(columns, rows), *footer]
    return "\n".join(p for p in parts if p)


def experiment_html(
    *,
    variant: str,
    control: Any,
    counts: Mapping[Any, int],
    n_rows: int | None = None,
    unit: str | None = None,
    srm: SRMResult | None = None,
) -> str:
    """The HTML view of an experiment (styled, escaped, no JavaScript): the same content as
    :func:`experiment_text`, with a red banner at the top when the SRM check fails.

    Examples
    --------
    >>> from neyman._results import experiment_html
    >>> out = experiment_html(variant="arm", control="c", counts={"c": 10, "t<1>": 12})
    >>> "t&lt;1&gt;" in out and "<script" not in out
    True
    """
    caption, rows, columns, banner, footer = _experiment_parts(
        variant, control, counts, n_rows, unit, srm
    )
    return html_block(html_table(columns, rows, caption), banner=banner, footer=footer)


# --------------------------------------------------------------------------------------------
# Regressions
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, repr=False, eq=False)
class OLSResult(DisplayMixin):
    """A least-squares fit with cluster-robust (or heteroskedasticity-robust) inference, from
    :func:`neyman.ols`.

    Attributes
    ----------
    names : tuple of str
        Coefficient names.
    params, se, df, statistic, pvalue, ci_low, ci_high : numpy.ndarray
        Per coefficient: estimate, standard error, degrees of freedom of its t reference, t
        statistic against 0, p-value and confidence interval.
    vcov : numpy.ndarray
        The ``p x p`` covariance matrix of the coefficients.
    n : int
        Rows used.
    n_clusters : int
        Clusters with rows (the smaller count with two-way clustering; ``n`` without clusters).
    vcov_type : str
        ``'CR0'``, ``'CR1'``, ``'CR2'`` or ``'CR3'``.
    confidence_level : float
    alternative : str
    icc : float
        Intra-cluster correlation of the residuals (one-way ANOVA estimator; NaN without clusters,
        with two-way clustering or without an intercept or arms).
    design_effect : numpy.ndarray
        Per coefficient: clustered variance over the classical i.i.d. OLS variance.
    n_effective : numpy.ndarray
        Per coefficient: ``n / design_effect``, the i.i.d. sample size with the same precision.
    """

    names: tuple[str, ...]
    params: np.ndarray
    se: np.ndarray
    vcov: np.ndarray
    df: np.ndarray
    statistic: np.ndarray
    pvalue: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    n: int
    n_clusters: int
    vcov_type: str
    confidence_level: float
    alternative: str
    icc: float
    design_effect: np.ndarray
    n_effective: np.ndarray
    _refit: Callable[[float], tuple[np.ndarray, np.ndarray]] | None = field(
        default=None, compare=False
    )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, OLSResult):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]

    def confidence_interval(self, confidence_level: float | None = None) -> ConfidenceInterval:
        """Intervals of every coefficient at another level (arrays ``low`` and ``high``)."""
        if confidence_level is None:
            return ConfidenceInterval(self.ci_low, self.ci_high)  # type: ignore[arg-type]
        level = check_unit_interval("confidence_level", confidence_level)
        if self._refit is None:
            raise InputError("this result cannot recompute its intervals")
        low, high = self._refit(level)
        return ConfidenceInterval(low, high)  # type: ignore[arg-type]

    def to_dict(self) -> dict[str, Any]:
        """Every field as plain Python values (lists for arrays)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            if f.name.startswith("_"):
                continue
            v = getattr(self, f.name)
            out[f.name] = v.tolist() if isinstance(v, np.ndarray) else v
        out["names"] = list(self.names)
        return out

    def _records(self) -> list[dict[str, Any]]:
        return [
            {
                "coefficient": name,
                "estimate": float(self.params[k]),
                "se": float(self.se[k]),
                "df": float(self.df[k]),
                "statistic": float(self.statistic[k]),
                "pvalue": float(self.pvalue[k]),
                "ci_low": float(self.ci_low[k]),
                "ci_high": float(self.ci_high[k]),
                "design_effect": float(self.design_effect[k]),
                "n_effective": float(self.n_effective[k]),
            }
            for k, name in enumerate(self.names)
        ]

    def _display_columns(self) -> tuple[str, ...]:
        return ("coefficient", "estimate", "se", "df", "ci", "pvalue", "design_effect", "sig")

    def _display_rows(self) -> list[dict[str, Any]]:
        alpha = round(1.0 - self.confidence_level, 12)
        return [
            {
                **r,
                "ci": _Interval(r["ci_low"], r["ci_high"]),
                "sig": "*" if r["pvalue"] < alpha else "",
            }
            for r in self._records()
        ]

    def _caption(self) -> str:
        df = " (Bell-McCaffrey df)" if self.vcov_type == "CR2" else ""
        level = format_percent(self.confidence_level).replace(".0%", "%")
        return (
            f"OLS: vcov {self.vcov_type}{df}, n {self.n}, {_plural(self.n_clusters, 'cluster')},"
            f" {self.alternative}, {level} CI"
        )

    def _footer(self) -> list[str]:
        icc = (
            "" if math.isnan(self.icc) else f"intra-cluster correlation {format_number(self.icc)}; "
        )
        alpha = round(1.0 - self.confidence_level, 12)
        return [f"{icc}sig: * where pvalue < {alpha:g} (1 - confidence_level)"]
