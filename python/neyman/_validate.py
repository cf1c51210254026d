"""Argument checks shared by every public function, so that every message is worded the same way:
it names the argument, the value and what is allowed (``alpha == 1.5, must be strictly between 0
and 1``)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import numpy as np

from neyman.errors import InputError, InputTypeError

Alternative = Literal["two-sided", "less", "greater"]
NanPolicy = Literal["propagate", "raise", "omit"]
RelativeCI = Literal["delta", "fieller"]

ALTERNATIVES = ("two-sided", "less", "greater")
NAN_POLICIES = ("propagate", "raise", "omit")
RELATIVE_CIS = ("delta", "fieller")


def check_choice(name: str, value: object, choices: Sequence[str]) -> str:
    """``value`` must be one of ``choices``."""
    if not isinstance(value, str) or value not in choices:
        allowed = ", ".join(repr(c) for c in choices)
        raise InputError(f"{name} == {value!r}, must be one of {allowed}")
    return value


def check_unit_interval(name: str, value: object) -> float:
    """A float strictly between 0 and 1 (``confidence_level``, ``alpha``)."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.floating | np.integer):
        raise InputTypeError(f"{name} must be a float, got {type(value).__name__}")
    x = float(value)
    if not (0.0 < x < 1.0) or math.isnan(x):
        raise InputError(f"{name} == {x}, must be strictly between 0 and 1")
    return x


def check_confidence_level(confidence_level: object) -> float:
    """A float strictly between 0 and 1."""
    return check_unit_interval("confidence_level", confidence_level)


def check_count(name: str, value: object) -> int:
    """A non-negative whole number (Python or numpy integer, not bool)."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise InputTypeError(f"{name} must be an integer count, got {type(value).__name__}")
    n = int(value)
    if n < 0:
        raise InputError(f"{name} == {n}, must be non-negative")
    return n


def check_finite(name: str, value: object, *, nonnegative: bool = False) -> float:
    """A finite float (optionally >= 0)."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.floating | np.integer):
        raise InputTypeError(f"{name} must be a number, got {type(value).__name__}")
    x = float(value)
    if not math.isfinite(x):
        raise InputError(f"{name} == {x}, must be finite")
    if nonnegative and x < 0:
        raise InputError(f"{name} == {x}, must be non-negative")
    return x


def check_options(
    alternative: object, confidence_level: object, relative_ci: object, nan_policy: object
) -> tuple[str, float, str, str]:
    """Validate the options every comparison takes."""
    return (
        check_choice("alternative", alternative, ALTERNATIVES),
        check_confidence_level(confidence_level),
        check_choice("relative_ci", relative_ci, RELATIVE_CIS),
        check_choice("nan_policy", nan_policy, NAN_POLICIES),
    )


def check_bool(name: str, value: object) -> bool:
    """``True`` or ``False`` (numpy booleans too); a string such as ``"False"`` is refused."""
    if isinstance(value, bool | np.bool_):
        return bool(value)
    raise InputTypeError(f"{name} must be True or False, got {value!r}")


def column_list(name: str, value: object) -> list[str]:
    """A column name or a sequence of column names, as a list."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if not isinstance(value, Sequence) or not all(isinstance(v, str) for v in value):
        raise InputTypeError(
            f"{name} must be a column name or a list of column names, got {value!r}"
        )
    return list(value)


def check_seed(rng: object) -> int:
    """The 64-bit seed of the core's random streams from ``rng``: an int in [0, 2**64), a
    ``numpy.random.Generator`` (which draws one), or None (a fresh one)."""

    if rng is None:
        rng = np.random.default_rng()
    if isinstance(rng, np.random.Generator):
        return int(rng.integers(0, 2**64, dtype=np.uint64))
    if isinstance(rng, int | np.integer) and not isinstance(rng, bool | np.bool_):
        seed = int(rng)
        if not 0 <= seed < 2**64:
            raise InputError(f"rng == {seed}, must be a seed in [0, 2**64)")
        return seed
    raise InputTypeError(
        f"rng must be an int seed, a numpy.random.Generator or None, got {type(rng).__name__}"
    )
