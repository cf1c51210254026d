"""Shared helpers of the test suite (exact-exception checks, result comparisons), imported by the
test modules as `from tests.conftest import ...`.

Folders by kind: `reference/` (against independent implementations), `calibration/` (seeded
simulations of the statistical promise, marked `slow`), `properties/` (invariances, hypothesis),
`validation/` (bad input raises the documented exception). One file per capability.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import neyman
import pytest
from neyman import InputError, InputTypeError, NeymanError

# The floating-point fields of every TestResult (DESIGN.md section 3).
FLOAT_FIELDS = (
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
# Every field of the base TestResult, in order (DESIGN.md section 3).
BASE_FIELDS = [
    "metric",
    "method",
    "control",
    "treatment",
    *FLOAT_FIELDS,
    "n_control",
    "n_treatment",
    "alternative",
    "confidence_level",
    "relative_ci",
]
# The bundled example experiment.
DATA = Path(__file__).resolve().parents[1] / "data" / "example_experiment.parquet"
# Adjusted (CUPED, regression) results also carry the variance ratio.
ADJUSTED_FLOAT_FIELDS = (*FLOAT_FIELDS, "variance_ratio")
# Fields that become NaN under nan_policy='propagate'.
NAN_FIELDS = ("effect", "se", "ci_low", "ci_high", "statistic", "pvalue")


def check_raises(
    cls: type[Exception], match: str, func: Callable[..., Any], *args: Any, **kwargs: Any
) -> Exception:
    """``func(*args, **kwargs)`` raises exactly ``cls`` with a message matching ``match``.

    Every neyman exception is a ``NeymanError``; input errors are ``ValueError``, type errors are
    ``TypeError``.
    """
    with pytest.raises(cls, match=match) as info:
        func(*args, **kwargs)
    exc = info.value
    assert type(exc) is cls, f"expected exactly {cls.__name__}, got {type(exc).__name__}: {exc}"
    assert isinstance(exc, NeymanError)
    if issubclass(cls, InputError):
        assert isinstance(exc, ValueError)
    if issubclass(cls, InputTypeError):
        assert isinstance(exc, TypeError)
    return exc


def check_raises_one_of(
    classes: tuple[type[Exception], ...],
    match: str,
    func: Callable[..., Any],
    *args: Any,
    **kwargs: Any,
) -> Exception:
    """Like :func:`check_raises`, for a case where either of a few classes is documented."""
    with pytest.raises(classes, match=match) as info:
        func(*args, **kwargs)
    exc = info.value
    assert type(exc) in classes, f"got {type(exc).__name__}: {exc}"
    assert isinstance(exc, NeymanError)
    assert isinstance(exc, ValueError)
    return exc


def first(res: Any) -> neyman.TestResult:
    """The (first) comparison of a TestResult or an AnalysisResult."""
    if isinstance(res, neyman.AnalysisResult):
        assert len(res) >= 1
        return res[0]
    assert isinstance(res, neyman.TestResult)
    return res


def assert_close_results(
    r1: neyman.TestResult,
    r2: neyman.TestResult,
    rtol: float = 1e-12,
    fields: Sequence[str] = FLOAT_FIELDS,
) -> None:
    """Same comparison up to floating-point merge order (NaN equals NaN)."""
    for name in fields:
        a, b = getattr(r1, name), getattr(r2, name)
        same = a == b or (math.isnan(a) and math.isnan(b))
        assert same or math.isclose(a, b, rel_tol=rtol, abs_tol=0.0), (name, a, b)
    for name in ("n_control", "n_treatment", "metric", "control", "treatment", "method"):
        assert getattr(r1, name) == getattr(r2, name), name


def outputs_by_threads(script: str, threads: Sequence[int] = (1, 2)) -> dict[int, list[str]]:
    """The printed lines of ``script`` run in fresh interpreters with ``NEYMAN_NUM_THREADS`` set to
    each of ``threads`` (at once); each must succeed and print ``threads <n>`` first, which is
    checked and dropped."""
    procs = {
        n: subprocess.Popen(
            [sys.executable, "-c", script],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "NEYMAN_NUM_THREADS": str(n)},
        )
        for n in threads
    }
    outputs = {}
    for n, proc in procs.items():
        stdout, stderr = proc.communicate(timeout=120)
        assert proc.returncode == 0, stderr
        lines = stdout.splitlines()
        assert lines[0] == f"threads {n}"
        outputs[n] = lines[1:]
    return outputs
