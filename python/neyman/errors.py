"""The exceptions neyman raises.

Every exception derives from :class:`NeymanError`. Problems with the input also derive from
:class:`ValueError` or :class:`TypeError`, so ordinary ``except ValueError`` clauses keep working.
The compiled module raises these classes through typed handles (``src/errors.rs``), one arm per
variant of the core's error.
"""

from __future__ import annotations

__all__ = [
    "InputError",
    "InputTypeError",
    "InsufficientDataError",
    "LengthMismatchError",
    "NeymanError",
    "PrecisionLossError",
    "ZeroVarianceError",
]


class NeymanError(Exception):
    """Base class of every error raised by neyman."""


class InputError(NeymanError, ValueError):
    """An argument has a value neyman cannot use (NaN under ``nan_policy='raise'``, an unknown
    variant label, a confidence level outside (0, 1), ...)."""


class InputTypeError(NeymanError, TypeError):
    """An argument has the wrong type or dtype (strings or booleans where numbers are meant)."""


class InsufficientDataError(InputError):
    """Too few observations to estimate what was asked (an empty or one-row arm)."""


class ZeroVarianceError(InputError):
    """The data carry no variation, so the standard error is zero and no test is defined."""


class LengthMismatchError(InputError):
    """Inputs that must have the same length do not."""


class PrecisionLossError(InputError):
    """The input cannot be trusted to float64 precision: sums that cancel (``MeanStats.from_sums``
    with a mean far larger than the spread), integers beyond 2**53, values whose squares overflow.
    The message says what to pass instead (e.g. the centred form ``MeanStats(n, mean, m2)``)."""
