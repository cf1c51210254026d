"""Thread-pool settings."""

from __future__ import annotations

from neyman import _neyman
from neyman.errors import InputError, InputTypeError


def get_num_threads() -> int:
    """Number of threads neyman's kernels use.

    Set at first use from ``NEYMAN_NUM_THREADS`` (default: all cores).

    Examples
    --------
    >>> import neyman
    >>> neyman.get_num_threads() >= 1
    True
    """
    return int(_neyman.get_num_threads())


def set_num_threads(n: int) -> None:
    """Use ``n`` threads from now on. Results do not depend on it; only speed does.

    Examples
    --------
    >>> import neyman
    >>> before = neyman.get_num_threads()
    >>> neyman.set_num_threads(1); neyman.get_num_threads()
    1
    >>> neyman.set_num_threads(before)
    """
    if isinstance(n, bool) or not isinstance(n, int):
        raise InputTypeError(f"n must be an int, got {type(n).__name__}")
    if n < 1:
        raise InputError(f"n == {n}, must be at least 1")
    _neyman.set_num_threads(n)
