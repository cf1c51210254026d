"""The one path every comparison takes: per-arm sufficient statistics, then a finalize per
treatment arm against the control, wrapped in result objects.

Per-arm statistics come from a Rust kernel over arrays (one arm at a time, or all arms at once by
variant codes) or from pre-aggregated statistics; whichever way, the same finalize runs. Python here
only applies ``nan_policy``, names arms in messages and shapes results.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from neyman import _neyman
from neyman._convert import FloatArray, VariantCodes
from neyman._results import CupedResult, TestResult
from neyman.errors import InputError, InsufficientDataError, NeymanError

Kind = Literal["mean", "proportion", "ratio", "cuped", "ratio_cuped"]

# The floating-point fields of a comparison; all NaN under nan_policy='propagate'.
NAN_FIELDS = (
    "control_value",
    "treatment_value",
    "effect",
    "se",
    "ci_low",
    "ci_high",
    "rel_effect",
    "rel_se",
    "rel_ci_low",
    "rel_ci_high",
    "statistic",
    "pvalue",
    "df",
)

METHOD_NAMES = {
    "welch": "welch",
    "student": "student",
    "z": "z",
    "wald": "proportions-z",
    "newcombe": "proportions-z",
    "delta": "ratio-delta",
    "cuped-welch": "cuped-welch",
    "cuped-z": "cuped-z",
    "ratio-cuped": "ratio-cuped",
}

# Kinds whose statistics are co-moments `(n, means, comoment matrix)`.
COMOMENT_KINDS = ("ratio", "cuped", "ratio_cuped")


@dataclass(frozen=True)
class ArmStats:
    """Sufficient statistics of one arm, with the rows that were NaN, infinite or invalid.

    ``values`` is ``(n, mean, m2)`` for means, ``(successes, trials)`` for proportions, and
    ``(n, means, comoments)`` for ratios and adjusted metrics (co-moments of the columns).
    """

    values: tuple[Any, ...]
    n: int
    n_nan: int = 0
    n_inf: int = 0
    n_invalid: int = 0


@dataclass(frozen=True)
class Options:
    alternative: str
    confidence_level: float
    relative_ci: str
    nan_policy: str


def arm_stats_from_arrays(
    kind: Kind, columns: Sequence[FloatArray], names: Sequence[str]
) -> ArmStats:
    """Statistics of one arm's arrays (one pass in Rust)."""
    return grouped_arm_stats(kind, columns, names, None)[0]


def grouped_arm_stats(
    kind: Kind,
    columns: Sequence[FloatArray],
    names: Sequence[str],
    codes: VariantCodes | None,
) -> list[ArmStats]:
    """Statistics of every arm in one pass over ``columns`` grouped by variant ``codes``."""
    n_groups = codes.n_groups if codes is not None else 1
    code_arr = codes.codes if codes is not None else None
    if kind == "mean":
        (x,) = columns
        if code_arr is None:
            rows = [_neyman.moments(x)]
        else:
            rows = _neyman.grouped_moments(x, code_arr, n_groups)
        return [
            ArmStats((n, mean, m2), n=n + n_nan, n_nan=n_nan, n_inf=n_inf)
            for n, mean, m2, n_nan, n_inf in rows
        ]
    if kind == "proportion":
        (x,) = columns
        counts = _neyman.grouped_binary_counts(x, code_arr, n_groups)
        return [
            ArmStats(
                (float(s), t), n=t + n_nan + n_inf + bad, n_nan=n_nan, n_inf=n_inf, n_invalid=bad
            )
            for t, s, n_nan, n_inf, bad in counts
        ]
    # A ratio metric's denominators (columns 1 and, with covariates, 3) must not be negative: the
    # kernel counts values below zero while it reads them.
    dens = {"ratio": [1], "ratio_cuped": [1, 3]}.get(kind, [])
    co_rows, negatives = _neyman.grouped_comoments(
        list(columns), code_arr, n_groups, list(names), dens
    )
    for k, n_negative in zip(dens, negatives, strict=True):
        if n_negative:
            raise InputError(
                f"{names[k]} has {n_negative} negative values; a ratio metric's denominator "
                "(impressions, sessions, ...) cannot be negative"
            )
    return [
        ArmStats(
            (n, tuple(means), tuple(tuple(r) for r in c)),
            n=n + n_nan + n_inf,
            n_nan=n_nan,
            n_inf=n_inf,
        )
        for n, means, c, n_nan, n_inf in co_rows
    ]


def plural(n: int, noun: str) -> str:
    """``"1 NaN value"``, ``"2 NaN values"``."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _check_arm(kind: Kind, arm: str, s: ArmStats, nan_policy: str) -> bool:
    """Apply ``nan_policy`` and the size rules; True when the result must propagate NaN."""
    if s.n_invalid:
        raise InputError(f"{arm} has {plural(s.n_invalid, 'value')} that are neither 0 nor 1")
    if s.n_inf:
        raise InputError(f"{arm} has {plural(s.n_inf, 'infinite value')}")
    if s.n_nan:
        if nan_policy == "raise":
            raise InputError(f"{arm} has {plural(s.n_nan, 'NaN value')} (nan_policy='raise')")
        if nan_policy == "propagate":
            return True
    used = _used(kind, s, False)
    needed = 2
    if used < needed:
        word = "observation" if used == 1 else "observations"
        extra = " after omitting NaN" if s.n_nan else ""
        raise InsufficientDataError(f"{arm} has {used} {word}{extra}; at least {needed} are needed")
    return False


def finalize(
    kind: Kind,
    method: str,
    control: ArmStats,
    treatment: ArmStats,
    opts: Options,
) -> dict[str, Any]:
    """Call the Rust finalize for one comparison."""
    if kind == "mean":
        c, t = control.values, treatment.values
        return _neyman.mean_test(
            (int(c[0]), c[1], c[2]),
            (int(t[0]), t[1], t[2]),
            method,
            opts.alternative,
            opts.confidence_level,
            opts.relative_ci,
        )
    if kind == "proportion":
        c, t = control.values, treatment.values
        return _neyman.proportion_test(
            (c[0], int(c[1])),
            (t[0], int(t[1])),
            method,
            opts.alternative,
            opts.confidence_level,
            opts.relative_ci,
        )
    c, t = control.values, treatment.values
    if kind == "ratio":
        return _neyman.ratio_test(
            _ratio6(c),
            _ratio6(t),
            opts.alternative,
            opts.confidence_level,
            opts.relative_ci,
        )
    return _neyman.cuped_test(
        "mean" if kind == "cuped" else "ratio",
        _comoments_arg(c),
        _comoments_arg(t),
        "welch" if method == "cuped-welch" else "z",
        opts.alternative,
        opts.confidence_level,
        opts.relative_ci,
    )


def _comoments_arg(v: tuple[Any, ...]) -> tuple[int, list[float], list[list[float]]]:
    n, means, c = v
    return int(n), list(means), [list(r) for r in c]


def _ratio6(v: tuple[Any, ...]) -> tuple[int, float, float, float, float, float]:
    n, (mx, my), ((cxx, cxy), (_, cyy)) = v
    return int(n), mx, my, cxx, cyy, cxy


def compare_arms(
    kind: Kind,
    method: str,
    metric: str,
    labels: Sequence[Any],
    stats: Sequence[ArmStats],
    opts: Options,
    *,
    arm_names: Sequence[str] | None = None,
    covariate: str | None = None,
) -> list[TestResult]:
    """Each arm after the first against the first (the control)."""
    names = (
        list(arm_names)
        if arm_names is not None
        else [f"arm {lab!r} of metric {metric!r}" for lab in labels]
    )
    propagate_c = _check_arm(kind, names[0], stats[0], opts.nan_policy)
    out = []
    for k in range(1, len(stats)):
        propagate_t = _check_arm(kind, names[k], stats[k], opts.nan_policy)
        if propagate_c or propagate_t:
            values: dict[str, Any] = dict.fromkeys(NAN_FIELDS, math.nan)
        else:
            try:
                values = finalize(kind, method, stats[0], stats[k], opts)
            except NeymanError as exc:
                if arm_names is not None:
                    raise
                raise type(exc)(f"metric {metric!r}, arm {labels[k]!r}: {exc}") from None
        values["n_control"] = _used(kind, stats[0], propagate_c)
        values["n_treatment"] = _used(kind, stats[k], propagate_t)
        common: dict[str, Any] = {
            "metric": metric,
            "control": str(labels[0]),
            "treatment": str(labels[k]),
            "alternative": opts.alternative,
            "confidence_level": opts.confidence_level,
            "relative_ci": opts.relative_ci,
        }
        if kind in ("cuped", "ratio_cuped"):
            unadjusted = values.pop("unadjusted", None)
            if unadjusted is None:  # propagated NaN
                unadjusted = dict.fromkeys(NAN_FIELDS, math.nan)
                values["theta"] = values["variance_ratio"] = math.nan
            unadjusted["n_control"] = values["n_control"]
            unadjusted["n_treatment"] = values["n_treatment"]
            base = "ratio-delta" if kind == "ratio_cuped" else METHOD_NAMES[method.split("-")[1]]
            values["unadjusted"] = TestResult(method=base, **common, **unadjusted)
            values["covariate"] = covariate
        cls = CupedResult if kind in ("cuped", "ratio_cuped") else TestResult
        out.append(cls(method=METHOD_NAMES[method], **common, **values))
    return out


def _used(kind: Kind, s: ArmStats, propagated: bool) -> int:
    if propagated:
        return s.n
    return int(s.values[1]) if kind == "proportion" else int(s.values[0])
