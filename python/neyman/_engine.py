"""The one path every comparison takes: per-arm statistics, then a finalize of each treatment arm
against the control, wrapped in result objects.

Statistics come from an estimator's scan over rows (one pass in Rust, all arms at once) or are given
(pre-aggregated, merged from chunks); whichever way, the same finalize runs. ``nan_policy`` and the
size rules are applied here, in one place, for every estimator. Python only names arms in messages
and shapes results; an estimator (``_estimators.py``) says which kernel and which finalize it uses.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from neyman._results import TestResult
from neyman._validate import check_options
from neyman.errors import InputError, InsufficientDataError, NeymanError

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


@dataclass(frozen=True)
class Options:
    """The options of every comparison, checked."""

    alternative: str
    confidence_level: float
    relative_ci: str
    nan_policy: str

    @classmethod
    def checked(
        cls, alternative: Any, confidence_level: Any, relative_ci: Any, nan_policy: Any
    ) -> Options:
        return cls(*check_options(alternative, confidence_level, relative_ci, nan_policy))

    def core(self) -> tuple[str, float, str]:
        """What the compiled finalizers take."""
        return (self.alternative, self.confidence_level, self.relative_ci)


class Estimator(Protocol):
    """What the engine needs of an estimator: the statistic it finalizes, how, and its result."""

    @property
    def stats_type(self) -> type: ...

    def finalize(self, control: Any, treatment: Any, opts: Options) -> dict[str, Any]: ...

    def result(self, values: dict[str, Any], common: dict[str, Any]) -> TestResult: ...


def plural(n: int, noun: str) -> str:
    """``"1 NaN value"``, ``"2 NaN values"``."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def arm_names(metric: str, labels: Sequence[Any]) -> list[str]:
    """How arms of a frame are named in messages."""
    return [f"arm {lab!r} of metric {metric!r}" for lab in labels]


def raise_counted(names: Sequence[str], counts: Sequence[int], what: str, verb: str = "") -> None:
    """An error for the first arm with a non-zero count (infinite values, values not 0/1, ...)."""
    for name, n in zip(names, counts, strict=False):
        if n:
            raise InputError(f"{name} has {plural(int(n), what)}{verb}")


def check_two_arms(labels: Sequence[Any], variant: str, control: Any) -> None:
    """A comparison needs the control and at least one treatment arm in the data."""
    if len(labels) < 2:
        raise InsufficientDataError(
            f"variant column {variant!r} holds only the control arm {control!r}; at least one "
            "treatment arm is needed"
        )


def apply_nan_policy(
    arm: str, n_nan: int, nan_policy: str, describe_nan: Callable[[], str] | None = None
) -> bool:
    """``nan_policy`` for an arm with ``n_nan`` missing values (or rows), the one place where it
    is applied: raise (naming the arm, and what is missing by ``describe_nan``), or say whether the
    result must propagate NaN (``'propagate'``; ``'omit'`` goes on without them)."""
    if n_nan:
        if nan_policy == "raise":
            what = describe_nan() if describe_nan is not None else plural(n_nan, "NaN value")
            raise InputError(f"{arm} has {what} (nan_policy='raise')")
        if nan_policy == "propagate":
            return True
    return False


def _check_arm(arm: str, s: Any, nan_policy: str, describe_nan: Callable[[], str] | None) -> bool:
    """Apply ``nan_policy`` and the size rules; True when the result must propagate NaN."""
    if apply_nan_policy(arm, s.n_nan, nan_policy, describe_nan):
        return True
    if s.n < 2:
        word = "observation" if s.n == 1 else "observations"
        extra = " after omitting NaN" if s.n_nan else ""
        raise InsufficientDataError(f"{arm} has {s.n} {word}{extra}; at least 2 are needed")
    return False


def _common(metric: str, control: Any, treatment: Any, opts: Options) -> dict[str, Any]:
    return {
        "metric": metric,
        "control": str(control),
        "treatment": str(treatment),
        "alternative": opts.alternative,
        "confidence_level": opts.confidence_level,
        "relative_ci": opts.relative_ci,
    }


def _rename_arms(exc: NeymanError, names: tuple[str, str]) -> NeymanError:
    """The core names the arms 'control' and 'treatment'; say which arms of the data they are."""
    msg = str(exc)
    for core_name, name in zip(("control", "treatment"), names, strict=True):
        if msg.startswith(f"{core_name}:") or msg.startswith(f"{core_name} "):
            return type(exc)(f"{name}{msg[len(core_name) :]}")
    return type(exc)(f"{names[0]} vs {names[1]}: {msg}")


def compare_pair(
    est: Estimator,
    metric: str,
    labels: tuple[Any, Any],
    stats: tuple[Any, Any],
    opts: Options,
    names: tuple[str, str],
    rename_errors: bool,
    confidence_level: float | None = None,
) -> TestResult:
    """One treatment against the control: finalize (or NaN under 'propagate') and wrap.

    ``confidence_level`` recomputes at another level (the results' ``confidence_interval``).
    """
    if confidence_level is not None:
        opts = dataclasses.replace(opts, confidence_level=confidence_level)
    control, treatment = stats
    propagate = _check_arm(names[0], control, opts.nan_policy, None) | _check_arm(
        names[1], treatment, opts.nan_policy, None
    )
    if propagate:
        values: dict[str, Any] = dict.fromkeys(NAN_FIELDS, math.nan)
    else:
        try:
            values = est.finalize(control, treatment, opts)
        except NeymanError as exc:
            if not rename_errors:
                raise
            raise _rename_arms(exc, names) from None
    used = [s.n + s.n_nan if propagate else s.n for s in stats]
    values["n_control"], values["n_treatment"] = used
    common = _common(metric, labels[0], labels[1], opts)
    refit = functools.partial(compare_pair, est, metric, labels, stats, opts, names, rename_errors)
    return est.result(values, {**common, "_refit": refit})


def compare_arms(
    est: Estimator,
    metric: str,
    labels: Sequence[Any],
    stats: Sequence[Any],
    opts: Options,
    *,
    names: Sequence[str] | None = None,
    describe_nan: Callable[[int], str] | None = None,
) -> list[TestResult]:
    """Each arm after the first against the first (the control).

    ``names`` are the arms' names in messages (default: ``arm 'b' of metric 'revenue'``);
    ``describe_nan(k)`` says which columns of arm ``k`` hold the NaN values, for the message of
    ``nan_policy='raise'``.
    """
    given_names = names is not None
    shown = list(names) if names is not None else arm_names(metric, labels)
    for k, s in enumerate(stats):
        if s.n_nan and opts.nan_policy == "raise":
            describe = functools.partial(describe_nan, k) if describe_nan is not None else None
            _check_arm(shown[k], s, "raise", describe)
    return [
        compare_pair(
            est,
            metric,
            (labels[0], labels[k]),
            (stats[0], stats[k]),
            opts,
            (shown[0], shown[k]),
            not given_names,
        )
        for k in range(1, len(stats))
    ]
