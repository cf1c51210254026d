"""Input conversion and validation shared by every public function.

Arrays become contiguous float64 without touching the caller's data (a copy is made only when the
dtype or layout requires one, and the original is never written). Series and frames of pandas,
polars and pyarrow go through narwhals.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import narwhals.stable.v2 as nw
import numpy as np
import numpy.typing as npt

from neyman import _neyman
from neyman.errors import InputError, InputTypeError

FloatArray = npt.NDArray[np.float64]


def is_frame(obj: Any) -> bool:
    """True for a pandas, polars, pyarrow (or other narwhals-supported) data frame."""
    if isinstance(obj, np.ndarray | list | tuple):
        return False
    try:
        nw.from_native(obj, eager_only=True)
    except TypeError:
        return False
    return True


def _dtype_problem(name: str, kind: str, allow_bool: bool) -> None:
    if kind == "b" and not allow_bool:
        raise InputTypeError(
            f"{name} has boolean dtype; pass numbers (for a 0/1 outcome use neyman.proportions)"
        )
    if kind not in "biuf":
        what = {"O": "object", "U": "string", "S": "bytes", "M": "datetime", "m": "timedelta"}
        raise InputTypeError(
            f"{name} has {what.get(kind, 'non-numeric')} dtype; numeric values are needed"
        )


def as_float_array(name: str, values: Any, *, allow_bool: bool = False) -> FloatArray:
    """1-D contiguous float64 view or copy of ``values``; the input is never modified.

    Nulls of pandas, polars and pyarrow become NaN, so ``nan_policy`` governs them.
    """
    if isinstance(values, np.ndarray):
        arr = values
    elif isinstance(values, list | tuple | range):
        try:
            arr = np.asarray(values)
        except (TypeError, ValueError) as exc:
            raise InputTypeError(f"{name} cannot be read as a numeric array: {exc}") from None
    else:
        if type(values).__module__.startswith("pyarrow") and not hasattr(values, "chunks"):
            # A plain pyarrow.Array: narwhals takes the ChunkedArray form.
            import pyarrow as pa

            if isinstance(values, pa.Array):
                values = pa.chunked_array([values])
        try:
            series = nw.from_native(values, series_only=True)
        except TypeError:
            if is_frame(values):
                raise InputTypeError(
                    f"{name} is a data frame; pass a column, or the frame with metric=... and "
                    "variant=..."
                ) from None
            raise InputTypeError(
                f"{name} must be an array or a series, got {type(values).__name__}"
            ) from None
        dtype = series.dtype
        if dtype == nw.Boolean:
            _dtype_problem(name, "b", allow_bool)
        if not (dtype.is_numeric() or dtype == nw.Boolean):
            raise InputTypeError(f"{name} has dtype {dtype}; numeric values are needed")
        native_dtype = getattr(nw.to_native(series), "dtype", None)
        numpy_backed = isinstance(native_dtype, np.dtype) and native_dtype.kind in "fiu"
        # A numpy-backed pandas column holds no nulls (missing floats are NaN, which the kernels
        # count), so its null count, a full pass in pandas, is skipped.
        if not numpy_backed and series.null_count() > 0:
            series = series.cast(nw.Float64).fill_null(float("nan"))
        arr = series.to_numpy()
    if arr.ndim != 1:
        raise InputError(f"{name} must be one-dimensional, got shape {arr.shape}")
    _dtype_problem(name, arr.dtype.kind, allow_bool)
    out = np.ascontiguousarray(arr, dtype=np.float64)
    if out is arr:
        # Same buffer as the caller's: mark our reference read-only so nothing here can write it.
        out = out.view()
        out.flags.writeable = False
    return out


def frame_column(df: Any, column: str, *, arg: str, allow_bool: bool = False) -> FloatArray:
    """Float64 values of ``df[column]``; names ``arg`` and the column in errors."""
    frame = nw.from_native(df, eager_only=True)
    if not isinstance(column, str):
        raise InputTypeError(f"{arg} must be a column name (str), got {type(column).__name__}")
    if column not in frame.columns:
        raise InputError(
            f"{arg} == {column!r} is not a column of the data; columns are {frame.columns}"
        )
    return as_float_array(f"column {column!r}", frame.get_column(column), allow_bool=allow_bool)


# Integer arm columns coded 0..k-1 with k at most this are labelled by one counting pass in Rust.
_FAST_LABELS = 64


class VariantCodes:
    """Integer codes of a variant column: control first, then the other arms in sorted order."""

    def __init__(
        self,
        labels: list[Any],
        codes: npt.NDArray[np.signedinteger[Any]],
        counts: list[int] | None = None,
    ) -> None:
        self.labels = labels
        self.codes = codes
        self._counts = counts

    def counts(self) -> list[int]:
        """Rows per arm, in label order."""
        if self._counts is None:
            self._counts = [int(c) for c in np.bincount(self.codes, minlength=self.n_groups)]
        return self._counts[: self.n_groups]

    @property
    def n_groups(self) -> int:
        return len(self.labels)


def variant_codes(df: Any, variant: str, control: Any) -> VariantCodes:
    """Map the variant column of ``df`` to int32 codes with the control arm as code 0."""
    frame = nw.from_native(df, eager_only=True)
    if not isinstance(variant, str):
        raise InputTypeError(f"variant must be a column name (str), got {type(variant).__name__}")
    if variant not in frame.columns:
        raise InputError(
            f"variant == {variant!r} is not a column of the data; columns are {frame.columns}"
        )
    if len(frame) == 0:
        raise InputError("data has no rows")
    col = frame.get_column(variant)
    if col.dtype.is_signed_integer() and control == 0:
        raw = col.to_numpy()
        if raw.dtype.kind == "i" and raw.flags.c_contiguous and len(raw):
            # Arms coded 0..k-1 with control 0: labels and counts in one pass in Rust, no hashing;
            # the kernels then read the column in place.
            summary = _neyman.code_summary(raw, _FAST_LABELS)
            counts = summary[2] if summary is not None else None
            if counts is not None and all(counts):
                return VariantCodes(list(range(len(counts))), raw, counts)
    n_null = col.null_count()
    if n_null:
        raise InputError(f"variant column {variant!r} has {n_null} missing values")
    labels = col.unique().to_list()
    if control not in labels:
        shown = sorted(labels, key=str)[:10]
        raise InputError(
            f"control == {control!r} is not a value of column {variant!r}; values are {shown}"
        )
    others = sorted((lab for lab in labels if lab != control), key=lambda v: (str(type(v)), v))
    ordered = [control, *others]
    if col.dtype.is_integer() and all(isinstance(v, int) for v in ordered):
        raw = col.to_numpy()
        if ordered == list(range(len(ordered))) and raw.dtype.kind == "i":
            # Arms already coded 0 (control), 1, 2, ...: the kernels read the column in place.
            return VariantCodes(ordered, np.ascontiguousarray(raw))
    codes = np.full(len(col), -1, dtype=np.int32)
    for k, label in enumerate(ordered):
        codes[(col == label).to_numpy()] = k
    return VariantCodes(ordered, codes)


def resolve_planned_split(planned_split: Any, labels: list[Any]) -> list[float]:
    """Weights of the planned allocation in the order of ``labels`` (equal if ``None``)."""
    if planned_split is None:
        return [1.0] * len(labels)
    if isinstance(planned_split, Mapping):
        unknown = [k for k in planned_split if k not in labels]
        if unknown:
            raise InputError(f"planned_split names arms not in the data: {unknown}")
        missing = [lab for lab in labels if lab not in planned_split]
        if missing:
            raise InputError(f"planned_split gives no weight for arms {missing}")
        weights = [planned_split[lab] for lab in labels]
    else:
        weights = list(planned_split)
        if len(weights) != len(labels):
            raise InputError(
                f"planned_split has {len(weights)} weights but the data have {len(labels)} arms"
            )
    try:
        out = [float(w) for w in weights]
    except (TypeError, ValueError):
        raise InputTypeError("planned_split weights must be numbers") from None
    if any(not (math.isfinite(w) and w > 0) for w in out):
        raise InputError(f"planned_split weights must be positive and finite, got {out}")
    return out
