"""The estimators behind the metrics: for each, the statistic it aggregates to, the one-pass kernel
that fills that statistic per arm (``scan(arrays, columns, codes, names)``: the columns' values and
names, the arm codes, and the arms' names for messages), the finalize that compares two arms, and
the result family.

One class per estimator; the engine (``_engine.py``) runs any of them the same way, and a metric
(``metrics.py``) picks one from its options. Numbers happen in the Rust core: these classes only
call it and name the arms and columns in errors.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from neyman import _neyman
from neyman._convert import FloatArray, VariantCodes
from neyman._engine import Options, plural, raise_counted
from neyman._results import CupedResult, TestResult
from neyman._stats import CupedStats, MeanStats, ProportionStats, RatioCupedStats, RatioStats
from neyman.errors import InputError

__all__ = [
    "CupedEstimator",
    "MeanEstimator",
    "ProportionEstimator",
    "RatioCupedEstimator",
    "RatioEstimator",
]


def _codes(codes: VariantCodes | None) -> tuple[Any, int]:
    return (codes.codes, codes.n_groups) if codes is not None else (None, 1)


def _negative(column: str, n: int) -> None:
    if n:
        raise InputError(
            f"{column} has {plural(n, 'negative value')}; a ratio metric's denominator "
            "(impressions, sessions, ...) cannot be negative"
        )


@dataclass(frozen=True)
class MeanEstimator:
    """Difference in means: Welch's t (``'welch'``), Student's pooled t, or the z-test."""

    test: str = "welch"
    stats_type: ClassVar[type] = MeanStats

    def scan(
        self,
        arrays: Sequence[FloatArray],
        columns: Sequence[str],
        codes: VariantCodes | None,
        names: Sequence[str],
    ) -> list[MeanStats]:
        stats, n_inf = _neyman.scan_mean(arrays[0], *_codes(codes), columns[0])
        raise_counted(names, n_inf, "infinite value")
        return stats

    def finalize(self, control: Any, treatment: Any, opts: Options) -> dict[str, Any]:
        return _neyman.mean_test(control, treatment, self.test, opts.core())

    def result(self, values: dict[str, Any], common: dict[str, Any]) -> TestResult:
        return TestResult(method=self.test, **common, **values)


@dataclass(frozen=True)
class ProportionEstimator:
    """Two proportions: pooled z-test, Newcombe (``'newcombe'``) or Wald interval."""

    ci_method: str = "newcombe"
    stats_type: ClassVar[type] = ProportionStats

    def scan(
        self,
        arrays: Sequence[FloatArray],
        columns: Sequence[str],
        codes: VariantCodes | None,
        names: Sequence[str],
    ) -> list[ProportionStats]:
        stats, n_inf, n_invalid = _neyman.scan_proportion(arrays[0], *_codes(codes))
        for name, bad in zip(names, n_invalid, strict=False):
            if bad:
                verb = "is" if bad == 1 else "are"
                raise InputError(f"{name} has {plural(bad, 'value')} that {verb} neither 0 nor 1")
        raise_counted(names, n_inf, "infinite value")
        return stats

    def finalize(self, control: Any, treatment: Any, opts: Options) -> dict[str, Any]:
        return _neyman.proportion_test(control, treatment, self.ci_method, opts.core())

    def result(self, values: dict[str, Any], common: dict[str, Any]) -> TestResult:
        return TestResult(method="proportions-z", **common, **values)


@dataclass(frozen=True)
class RatioEstimator:
    """Ratio metric by the delta method (normal reference)."""

    stats_type: ClassVar[type] = RatioStats

    def scan(
        self,
        arrays: Sequence[FloatArray],
        columns: Sequence[str],
        codes: VariantCodes | None,
        names: Sequence[str],
    ) -> list[RatioStats]:
        stats, n_inf, n_negative = _neyman.scan_ratio(
            arrays[0], arrays[1], *_codes(codes), (columns[0], columns[1])
        )
        _negative(columns[1], n_negative)
        raise_counted(names, n_inf, "infinite value")
        return stats

    def finalize(self, control: Any, treatment: Any, opts: Options) -> dict[str, Any]:
        return _neyman.ratio_test(control, treatment, opts.core())

    def result(self, values: dict[str, Any], common: dict[str, Any]) -> TestResult:
        return TestResult(method="ratio-delta", **common, **values)


def _cuped_result(
    method: str,
    unadjusted_method: str,
    covariate: str | None,
    values: dict[str, Any],
    common: dict[str, Any],
) -> CupedResult:
    """A CUPED result with its unadjusted comparison beside (NaN under 'propagate')."""
    values = dict(values)
    unadjusted = values.pop("unadjusted", None)
    theta = values.pop("theta", float("nan"))
    variance_ratio = values.pop("variance_ratio", float("nan"))
    counts = {"n_control": values["n_control"], "n_treatment": values["n_treatment"]}
    if unadjusted is None:
        unadjusted = {k: float("nan") for k in values if k not in counts}
    unadjusted = {**unadjusted, **counts}
    plain = {k: v for k, v in common.items() if k != "_refit"}
    return CupedResult(
        method=method,
        covariate=covariate or "",
        theta=theta,
        variance_ratio=variance_ratio,
        unadjusted=TestResult(method=unadjusted_method, **plain, **unadjusted),
        **common,
        **values,
    )


@dataclass(frozen=True)
class CupedEstimator:
    """CUPED: a mean adjusted by one pre-experiment covariate (pooled theta), Welch or z."""

    test: str = "welch"
    covariate: str | None = None
    stats_type: ClassVar[type] = CupedStats

    def scan(
        self,
        arrays: Sequence[FloatArray],
        columns: Sequence[str],
        codes: VariantCodes | None,
        names: Sequence[str],
    ) -> list[CupedStats]:
        stats, n_inf = _neyman.scan_cuped(
            arrays[0], arrays[1], *_codes(codes), (columns[0], columns[1])
        )
        raise_counted(names, n_inf, "infinite value")
        return stats

    def finalize(self, control: Any, treatment: Any, opts: Options) -> dict[str, Any]:
        return _neyman.cuped_test(control, treatment, self.test, opts.core())

    def result(self, values: dict[str, Any], common: dict[str, Any]) -> TestResult:
        return _cuped_result(f"cuped-{self.test}", self.test, self.covariate, values, common)


@dataclass(frozen=True)
class RatioCupedEstimator:
    """A ratio metric adjusted by its pre-period ratio (CUPED on the linearised ratios)."""

    covariate: str | None = None
    stats_type: ClassVar[type] = RatioCupedStats

    def scan(
        self,
        arrays: Sequence[FloatArray],
        columns: Sequence[str],
        codes: VariantCodes | None,
        names: Sequence[str],
    ) -> list[RatioCupedStats]:
        stats, n_inf, n_negative = _neyman.scan_ratio_cuped(
            (arrays[0], arrays[1], arrays[2], arrays[3]),
            *_codes(codes),
            (columns[0], columns[1], columns[2], columns[3]),
        )
        for k, n in zip((1, 3), n_negative, strict=True):
            _negative(columns[k], n)
        raise_counted(names, n_inf, "infinite value")
        return stats

    def finalize(self, control: Any, treatment: Any, opts: Options) -> dict[str, Any]:
        return _neyman.ratio_cuped_test(control, treatment, opts.core())

    def result(self, values: dict[str, Any], common: dict[str, Any]) -> TestResult:
        return _cuped_result("ratio-cuped", "ratio-delta", self.covariate, values, common)
