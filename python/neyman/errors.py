"""The exceptions neyman raises.

Every exception derives from :class:`NeymanError`. Problems with the input also derive from
:class:`ValueError` or :class:`TypeError`, so ordinary ``except ValueError`` clauses keep working.
The Rust core maps its errors onto these classes by name.
"""

from __future__ import annotations

__all__ = [
    "InputError",
    "InputTypeError",
    "InsufficientDataError",
    "LengthMismatchError",
    "NeymanError",
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
