"""Input conversion and validation shared by every public function.

Arrays become contiguous float64 without touching the caller's data (a copy is made only when the
dtype, byte order or layout requires one, and the original is never written). Series and frames of
pandas, polars and pyarrow go through narwhals. Label columns (the variant, categorical covariates)
become dense int32 codes through :func:`encode_labels`, vectorised on every backend.

Exceptions of narwhals, pandas, polars and pyarrow never escape from here: every conversion is
guarded and re-raised as :class:`~neyman.errors.InputTypeError` or
:class:`~neyman.errors.InputError` naming the argument.
"""

from __future__ import annotations

import math
import sys
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Literal

import narwhals.stable.v2 as nw
import numpy as np
import numpy.typing as npt
from narwhals.exceptions import DuplicateError

from neyman import _neyman
from neyman.errors import InputError, InputTypeError, LengthMismatchError, NeymanError

FloatArray = npt.NDArray[np.float64]
CodeArray = npt.NDArray[np.int32]

# float64 holds every integer of magnitude up to 2**53 exactly, and not all integers beyond.
_MAX_EXACT_INT = 2**53


@contextmanager
def _guard(name: str, what: str) -> Iterator[None]:
    """Re-raise any third-party exception inside the block as ``InputTypeError`` naming ``name``.

    neyman's own errors pass through unchanged; so do ``MemoryError`` and interrupts.
    """
    try:
        yield
    except (NeymanError, MemoryError):
        raise
    except Exception as exc:
        raise InputTypeError(f"{name} {what} ({type(exc).__name__}: {exc})") from exc


def _duplicated_columns(df: Any) -> list[Any]:
    """Column names that occur more than once in the native frame ``df`` (best effort)."""
    try:
        names = list(df.column_names) if hasattr(df, "column_names") else list(df.columns)
    except Exception:
        return []
    return [c for c, n in Counter(names).items() if n > 1]


def as_frame(df: Any, *, arg: str = "data") -> nw.DataFrame[Any]:
    """The narwhals frame of a pandas, polars or pyarrow data frame ``df``.

    Parameters
    ----------
    df : data frame
        A pandas, polars or pyarrow (or other narwhals-supported eager) data frame.
    arg : str, default "data"
        The argument name used in error messages.

    Returns
    -------
    narwhals.DataFrame
        A wrapper around ``df``; nothing is copied.

    Raises
    ------
    InputTypeError
        If ``df`` is not a data frame narwhals can read.
    InputError
        If ``df`` has duplicated column names (pandas and pyarrow allow them).
    """
    if isinstance(df, nw.DataFrame):
        return df
    try:
        return nw.from_native(df, eager_only=True)
    except TypeError:
        raise InputTypeError(
            f"{arg} must be a pandas, polars or pyarrow data frame, got {type(df).__name__}"
        ) from None
    except DuplicateError:
        dups = _duplicated_columns(df)
        raise InputError(
            f"{arg} has duplicated column names {dups}; every column needs a unique name "
            "(rename or drop the duplicates)"
        ) from None
    except (NeymanError, MemoryError):
        raise
    except Exception as exc:
        raise InputTypeError(
            f"{arg} cannot be read as a data frame ({type(exc).__name__}: {exc})"
        ) from exc


def frame_of(obj: Any) -> nw.DataFrame[Any] | None:
    """The narwhals frame of ``obj`` if it is a data frame (one conversion), else ``None``; a frame
    narwhals refuses (duplicated column names, ...) raises as :func:`as_frame` says."""
    if isinstance(obj, np.ndarray | list | tuple):
        return None
    if isinstance(obj, nw.DataFrame):
        return obj
    try:
        frame: nw.DataFrame[Any] = nw.from_native(obj, eager_only=True)
    except TypeError:
        return None
    except Exception:
        return as_frame(obj)
    return frame


def is_frame(obj: Any) -> bool:
    """True for a pandas, polars, pyarrow (or other narwhals-supported) data frame."""
    if isinstance(obj, np.ndarray | list | tuple):
        return False
    if isinstance(obj, nw.DataFrame):
        return True
    try:
        nw.from_native(obj, eager_only=True)
    except TypeError:
        return False
    except Exception:
        # A frame narwhals refuses (duplicated column names, ...): as_frame reports why.
        return True
    return True


def _native_byte_order(series: nw.Series[Any]) -> nw.Series[Any]:
    """``series`` with a numpy dtype in the machine's byte order (a converted copy if needed).

    A big-endian numpy column of a pandas frame is invisible to narwhals (dtype ``Unknown``) and
    to the Rust kernels; the caller's column is never changed in place.
    """
    native = series.to_native()
    dtype = getattr(native, "dtype", None)
    if isinstance(dtype, np.dtype) and not dtype.isnative:
        return nw.from_native(native.astype(dtype.newbyteorder("=")), series_only=True)
    return series


def get_column(frame: nw.DataFrame[Any], column: str) -> nw.Series[Any]:
    """Column ``column`` of ``frame`` as a narwhals series in native byte order."""
    with _guard(f"column {column!r}", "cannot be read"):
        return _native_byte_order(frame.get_column(column))


def _dtype_problem(name: str, kind: str, allow_bool: bool) -> None:
    if kind == "b" and not allow_bool:
        raise InputTypeError(
            f"{name} has boolean dtype; pass numbers (for a 0/1 outcome use neyman.proportions)"
        )
    if kind not in "biuf":
        what = {
            "O": "object",
            "U": "string",
            "S": "bytes",
            "M": "datetime",
            "m": "timedelta",
        }
        raise InputTypeError(
            f"{name} has {what.get(kind, 'non-numeric')} dtype; numeric values are needed"
        )


def _check_exact_integers(name: str, lo: Any, hi: Any) -> None:
    """Refuse integers that float64 would round (magnitude beyond 2**53)."""
    try:
        lo, hi = int(lo), int(hi)
    except (TypeError, ValueError):
        return  # no values (None, NaN or pandas.NA from an empty or all-null column)
    extreme = hi if hi >= -lo else lo
    if abs(extreme) > _MAX_EXACT_INT:
        raise InputError(
            f"{name} holds integers as large as {extreme} in magnitude; float64 holds integers "
            f"exactly only up to 2**53 = {_MAX_EXACT_INT}, so these would be rounded silently. "
            "Subtract an offset first (e.g. x - x.min()) or convert to float explicitly if the "
            "rounding is acceptable"
        )


def _check_integer_array(name: str, arr: npt.NDArray[Any]) -> None:
    """The 2**53 check of a 64-bit integer numpy array (a min and a max pass; the float64 copy
    that follows reads the whole array anyway)."""
    if arr.dtype.kind in "iu" and arr.dtype.itemsize >= 8 and arr.size:
        _check_exact_integers(name, arr.min(), arr.max())


_WIDE_INTS = (nw.Int64, nw.UInt64, nw.Int128, nw.UInt128)


def _dtype_text(series: nw.Series[Any]) -> str:
    dtype = series.dtype
    if dtype == nw.Unknown:
        return str(getattr(series.to_native(), "dtype", dtype))
    return str(dtype)


def _masked_as_float(
    name: str, values: np.ma.MaskedArray[Any, Any], allow_bool: bool
) -> FloatArray:
    """A numpy masked array as float64 with masked entries NaN (always a new array)."""
    data = np.ma.getdata(values)
    if data.ndim != 1:
        raise InputError(f"{name} must be one-dimensional, got shape {data.shape}")
    _dtype_problem(name, data.dtype.kind, allow_bool)
    mask = np.ma.getmaskarray(values)
    if data.dtype.kind in "iu" and data.dtype.itemsize >= 8:
        kept = data[~mask]
        _check_integer_array(name, kept)
    out = np.array(data, dtype=np.float64, order="C", copy=True)
    out[mask] = np.nan
    return out


def _series_to_numpy(name: str, series: nw.Series[Any], allow_bool: bool) -> npt.NDArray[Any]:
    """The values of a narwhals series as a numpy array (nulls become NaN)."""
    series = _native_byte_order(series)
    dtype = series.dtype
    if dtype == nw.Boolean:
        _dtype_problem(name, "b", allow_bool)
    if dtype == nw.Decimal:
        series = series.cast(nw.Float64)
    elif not (dtype.is_numeric() or dtype == nw.Boolean):
        raise InputTypeError(f"{name} has dtype {_dtype_text(series)}; numeric values are needed")
    elif any(dtype == t for t in _WIDE_INTS):
        # Checked here, before nulls or a 128-bit type force a cast to float (nulls skipped).
        _check_exact_integers(name, series.min(), series.max())
        if dtype == nw.Int128 or dtype == nw.UInt128:
            series = series.cast(nw.Float64)
    native_dtype = getattr(series.to_native(), "dtype", None)
    numpy_backed = isinstance(native_dtype, np.dtype) and native_dtype.kind in "fiu"
    # A numpy-backed pandas column holds no nulls (missing floats are NaN, which the kernels
    # count), so its null count, a full pass in pandas, is skipped.
    if not numpy_backed and series.null_count() > 0:
        series = series.cast(nw.Float64).fill_null(float("nan"))
    return series.to_numpy()


def as_float_array(name: str, values: Any, *, allow_bool: bool = False) -> FloatArray:
    """1-D contiguous float64 view or copy of ``values``; the input is never modified.

    Parameters
    ----------
    name : str
        The argument name used in error messages.
    values : array-like
        A numpy array (masked arrays included), list, tuple, range, or a pandas, polars or
        pyarrow series or array.
    allow_bool : bool, default False
        Accept booleans (as 0 and 1), for proportions.

    Returns
    -------
    numpy.ndarray
        float64, C-contiguous, in native byte order. When no conversion is needed this is a
        read-only view of the caller's buffer.

    Raises
    ------
    InputTypeError
        For non-numeric input (strings, objects, datetimes, booleans unless ``allow_bool``) or
        anything that cannot be read as an array.
    InputError
        For input that is not one-dimensional, or 64-bit integers beyond 2**53 in magnitude,
        which float64 cannot hold exactly.

    Notes
    -----
    Nulls of pandas, polars and pyarrow and the masked entries of a numpy masked array become
    NaN, so ``nan_policy`` governs them.
    """
    checked = False
    if isinstance(values, np.ma.MaskedArray):
        return _masked_as_float(name, values, allow_bool)
    if isinstance(values, np.ndarray):
        arr = values
    elif isinstance(values, list | tuple | range):
        try:
            arr = np.asarray(values)
        except (TypeError, ValueError, OverflowError) as exc:
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
        except (NeymanError, MemoryError):
            raise
        except Exception as exc:
            raise InputTypeError(
                f"{name} cannot be read as a series ({type(exc).__name__}: {exc})"
            ) from exc
        with _guard(name, "cannot be converted to float64"):
            arr = _series_to_numpy(name, series, allow_bool)
        checked = True
    if arr.ndim != 1:
        raise InputError(f"{name} must be one-dimensional, got shape {arr.shape}")
    _dtype_problem(name, arr.dtype.kind, allow_bool)
    if not checked:
        _check_integer_array(name, arr)
    out = np.ascontiguousarray(arr, dtype=np.float64)
    if out is arr:
        # Same buffer as the caller's: mark our reference read-only so nothing here can write it.
        out = out.view()
        out.flags.writeable = False
    return out


def frame_column(df: Any, column: str, *, arg: str, allow_bool: bool = False) -> FloatArray:
    """Float64 values of ``df[column]``; names ``arg`` and the column in errors."""
    frame = as_frame(df)
    if not isinstance(column, str):
        raise InputTypeError(f"{arg} must be a column name (str), got {type(column).__name__}")
    if column not in frame.columns:
        raise InputError(
            f"{arg} == {column!r} is not a column of the data; columns are {frame.columns}"
        )
    return as_float_array(f"column {column!r}", get_column(frame, column), allow_bool=allow_bool)


def check_aligned(name_a: str, a: Any, name_b: str, b: Any) -> None:
    """Refuse two pandas Series of one arm whose indexes differ.

    neyman matches the two arrays of an arm (a metric and its covariate, a numerator and its
    denominator) by position; pandas users expect rows matched by index label, so two Series
    with different indexes would silently pair the wrong rows.

    Parameters
    ----------
    name_a, name_b : str
        The argument names used in the message.
    a, b : object
        The two inputs. Anything but two pandas Series passes (numpy arrays, polars and pyarrow
        data have no index), and so do two Series with equal indexes.

    Raises
    ------
    InputError
        If both are pandas Series and their indexes are not equal.
    """
    pd = sys.modules.get("pandas")
    if pd is None or not (isinstance(a, pd.Series) and isinstance(b, pd.Series)):
        return
    if a.index is b.index or a.index.equals(b.index):
        return
    raise InputError(
        f"{name_a} and {name_b} are pandas Series with different indexes; neyman pairs their "
        "rows by position, not by index label. Align them first (e.g. with .reindex or "
        "pandas.concat(..., axis=1)), or pass .to_numpy() of each to pair them by position"
    )


# Integer arm columns coded 0..k-1 with k at most this are labelled by one counting pass in Rust.
_FAST_LABELS = 64


class LabelNotFoundError(InputError):
    """``encode_labels(..., first=...)`` was given a label that is not a value of the column."""

    def __init__(self, message: str, labels: list[Any]) -> None:
        super().__init__(message)
        self.labels = labels

    def shown(self) -> list[Any]:
        """Up to 10 of the column's labels, for a message."""
        return sorted(self.labels, key=str)[:10]


def _factorize_numpy(values: npt.NDArray[Any]) -> tuple[npt.NDArray[Any], list[Any]]:
    """Codes (-1 for NaN) and labels, in any order, of a numeric numpy array, vectorised."""
    n = len(values)
    if n == 0:
        return np.empty(0, dtype=np.int32), []
    kind = values.dtype.kind
    if kind in "iu":
        lo, hi = values.min(), values.max()
        span = int(hi) - int(lo)
        if span < max(n, 1 << 16):
            # A dense range: a lookup table instead of a sort (O(rows)).
            wide = values if values.dtype.itemsize == 8 else values.astype(np.int64)
            shifted = (wide - wide.dtype.type(lo)).astype(np.intp, copy=False)
            present = np.zeros(span + 1, dtype=bool)
            present[shifted] = True
            lut = np.cumsum(present, dtype=np.int32)
            lut -= 1
            return lut[shifted], [int(lo) + int(i) for i in np.flatnonzero(present)]
    uniq, inverse = np.unique(values, return_inverse=True)
    inverse = inverse.reshape(-1)
    if kind in "fc" and len(uniq) and np.isnan(uniq[-1]):
        # NaN (sorted last; numpy merges all NaN into one) is missing.
        inverse = inverse.astype(np.int32)
        inverse[inverse == len(uniq) - 1] = -1
        uniq = uniq[:-1]
    return inverse, uniq.tolist()


def _factorize_series(s: nw.Series[Any]) -> tuple[npt.NDArray[Any], list[Any]]:
    """Codes (-1 for missing) and labels, in any order, of a narwhals series, vectorised."""
    dtype = s.dtype
    wide = dtype == nw.Int128 or dtype == nw.UInt128
    if (dtype.is_numeric() and dtype != nw.Decimal and not wide) or dtype == nw.Boolean:
        if s.null_count() == 0:
            return _factorize_numpy(s.to_numpy())
        mask = s.is_null().to_numpy()
        sub, labels = _factorize_numpy(s.drop_nulls().to_numpy())
        codes = np.full(len(mask), -1, dtype=np.int32)
        codes[~mask] = sub
        return codes, labels
    native = s.to_native()
    impl = s.implementation
    if impl is nw.Implementation.PANDAS:
        import pandas as pd

        codes, uniques = pd.factorize(native, use_na_sentinel=True)
        return codes, list(uniques.tolist())
    if impl is nw.Implementation.PYARROW:
        import pyarrow as pa
        import pyarrow.compute as pc

        arr = native
        if pa.types.is_dictionary(arr.type):
            arr = arr.cast(arr.type.value_type)
        if arr.type == pa.string_view():
            arr = arr.cast(pa.large_string())
        elif arr.type == pa.binary_view():
            arr = arr.cast(pa.large_binary())
        uniq = pc.unique(arr).drop_null()
        idx = pc.index_in(arr, value_set=uniq).fill_null(-1)
        return np.asarray(idx, dtype=np.int32), uniq.to_pylist()
    if impl is nw.Implementation.POLARS:
        import polars as pl

        uniq = native.unique().drop_nulls()
        new = pl.Series(np.arange(len(uniq), dtype=np.int32))
        idx = native.replace_strict(uniq, new, default=-1, return_dtype=pl.Int32)
        return idx.to_numpy(), uniq.to_list()
    # Any other backend narwhals supports: hashing through narwhals.
    mask = s.is_null().to_numpy()
    kept = s.drop_nulls()
    labels = kept.unique().to_list()
    kept_codes = kept.replace_strict(labels, list(range(len(labels))), return_dtype=nw.Int32)
    codes = np.full(len(mask), -1, dtype=np.int32)
    codes[~mask] = kept_codes.to_numpy()
    return codes, labels


def _factorize(values: Any, name: str) -> tuple[npt.NDArray[Any], list[Any]]:
    """Codes and labels of a numpy array, or of a narwhals or native series."""
    if isinstance(values, np.ndarray):
        if values.ndim != 1:
            raise InputError(f"{name} must be one-dimensional, got shape {values.shape}")
        if values.dtype.kind in "biufc":
            return _factorize_numpy(values)
        pd = sys.modules.get("pandas")
        if pd is not None:
            codes, uniques = pd.factorize(values, use_na_sentinel=True)
            return codes, list(uniques.tolist())
        uniq, inverse = np.unique(values, return_inverse=True)
        return inverse.reshape(-1), uniq.tolist()
    if isinstance(values, nw.Series):
        s = values
    else:
        if type(values).__module__.startswith("pyarrow") and not hasattr(values, "chunks"):
            import pyarrow as pa

            if isinstance(values, pa.Array):
                values = pa.chunked_array([values])
        s = nw.from_native(values, series_only=True)
    s = _native_byte_order(s)
    if s.dtype.is_nested():
        raise InputTypeError(
            f"{name} has dtype {s.dtype}; labels must be scalars (strings, numbers, ...)"
        )
    return _factorize_series(s)


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except Exception:
        return False


def _sort_key_fallback(v: Any) -> tuple[str, str]:
    return (str(type(v)), repr(v))


def encode_labels(
    series: Any,
    *,
    name: str,
    first: Any = None,
    sort: bool = True,
    missing: Literal["code", "raise"] = "code",
) -> tuple[CodeArray, list[Any]]:
    """Dense int32 codes of a label column and the label of each code.

    One vectorised pass on every backend, never a loop over rows: a lookup table or
    ``numpy.unique`` for numeric data, ``pandas.factorize`` for pandas, ``pyarrow.compute.unique``
    and ``index_in`` for pyarrow (dictionary and ``string_view`` arrays are decoded first), and
    ``unique`` with ``replace_strict`` for polars (String, Categorical, Enum, temporal, Decimal).

    Parameters
    ----------
    series : array-like
        A pandas, polars or pyarrow series or array, a narwhals series, or a 1-D numpy array.
    name : str
        The column, as named in error messages (e.g. ``"variant column 'arm'"``).
    first : object, optional
        A label to put first (code 0), such as the control arm.
    sort : bool, default True
        Order the other labels by ``(str(type(v)), v)`` (by ``repr`` within a type whose values
        do not compare). With ``False`` the order is whatever the backend gives.
    missing : {"code", "raise"}, default "code"
        What to do with nulls and NaN: code them ``-1``, or raise.

    Returns
    -------
    codes : numpy.ndarray of int32
        The code of each row, ``-1`` for a missing value.
    labels : list
        ``labels[k]`` is the value coded ``k`` (Python scalars where the backend gives them).

    Raises
    ------
    InputError
        With ``missing="raise"``, if values are missing: ``"{name} has 3 missing values"``.
    LabelNotFoundError
        If ``first`` is not a value of the column (an :class:`InputError`).
    InputTypeError
        If the column cannot be encoded (nested types, unhashable values, ...).

    Examples
    --------
    >>> import numpy as np
    >>> codes, labels = encode_labels(np.array(["b", "c", "a", "b"]), name="x", first="c")
    >>> codes.tolist(), labels
    ([2, 0, 1, 2], ['c', 'a', 'b'])
    """
    if missing not in ("code", "raise"):
        raise ValueError(f"missing must be 'code' or 'raise', got {missing!r}")
    try:
        raw, found = _factorize(series, name)
    except (NeymanError, MemoryError):
        raise
    except Exception as exc:
        raise InputTypeError(
            f"{name} cannot be encoded as labels ({type(exc).__name__}: {exc})"
        ) from exc
    raw = np.asarray(raw)
    if missing == "raise":
        n_missing = int(np.count_nonzero(raw < 0))
        if n_missing:
            raise InputError(f"{name} has {n_missing} missing values")
    order = list(range(len(found)))
    if sort:
        try:
            order.sort(key=lambda i: (str(type(found[i])), found[i]))
        except Exception:
            order.sort(key=lambda i: _sort_key_fallback(found[i]))
    if first is not None:
        pos = next((j for j, i in enumerate(order) if _same(found[i], first)), None)
        if pos is None:
            raise LabelNotFoundError(f"{first!r} is not a value of {name}", found)
        order.insert(0, order.pop(pos))
    labels = [found[i] for i in order]
    if order != sorted(order):
        lut = np.empty(len(order) + 1, dtype=np.int32)
        lut[np.asarray(order, dtype=np.intp)] = np.arange(len(order), dtype=np.int32)
        lut[-1] = -1  # code -1 (missing) indexes the last entry
        codes = lut[raw]
    else:
        codes = np.ascontiguousarray(raw, dtype=np.int32)
    return codes, labels


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
    """Map the variant column of ``df`` to int32 codes with the control arm as code 0.

    Parameters
    ----------
    df : data frame
        pandas, polars or pyarrow.
    variant : str
        The arm column: any label type (strings, integers, categoricals, pyarrow dictionary or
        ``string_view`` arrays, dates, ...); missing labels are an error.
    control : object
        The control arm's label.

    Returns
    -------
    VariantCodes
        Labels (control first, the others sorted) and one code per row.
    """
    frame = as_frame(df)
    if not isinstance(variant, str):
        raise InputTypeError(f"variant must be a column name (str), got {type(variant).__name__}")
    if variant not in frame.columns:
        raise InputError(
            f"variant == {variant!r} is not a column of the data; columns are {frame.columns}"
        )
    if len(frame) == 0:
        raise InputError("data has no rows")
    col = get_column(frame, variant)
    if col.dtype.is_signed_integer() and _same(control, 0):
        with _guard(f"variant column {variant!r}", "cannot be read"):
            raw = col.to_numpy()
        if raw.dtype.kind == "i" and raw.flags.c_contiguous and len(raw):
            # Arms coded 0..k-1 with control 0: labels and counts in one pass in Rust, no hashing;
            # the kernels then read the column in place.
            summary = _neyman.code_summary(raw, _FAST_LABELS)
            counts = summary[2] if summary is not None else None
            if counts is not None and all(counts):
                return VariantCodes(list(range(len(counts))), raw, counts)
    try:
        codes, labels = encode_labels(
            col, name=f"variant column {variant!r}", first=control, missing="raise"
        )
    except LabelNotFoundError as exc:
        raise InputError(
            f"control == {control!r} is not a value of column {variant!r}; values are {exc.shown()}"
        ) from None
    return VariantCodes(labels, codes)


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


def _cluster_keys(labels: list[Any]) -> list[int] | list[str]:
    """Cluster ids as the core keys them: integers, or else their strings."""
    if all(isinstance(v, int | np.integer) and not isinstance(v, bool) for v in labels):
        return [int(v) for v in labels]
    return [str(v) for v in labels]


def cluster_codes(cluster: Any, n: int, name: str) -> tuple[npt.NDArray[np.uint32], list[Any]]:
    """uint32 codes and keys of one id column (``encode_labels``: a lookup table for dense
    integers, ``pandas.factorize`` speed otherwise); missing ids raise."""
    if isinstance(cluster, str) or not hasattr(cluster, "__len__"):
        raise InputTypeError(
            f"{name} must be an array of cluster ids, got {type(cluster).__name__}"
        )
    if len(cluster) != n:
        raise LengthMismatchError(f"{name} has length {len(cluster)} but y has length {n}")
    values = np.asarray(cluster) if isinstance(cluster, list | tuple) else cluster
    if not isinstance(values, np.ndarray) and getattr(values.dtype, "kind", "") in ("i", "u"):
        values = np.asarray(values)  # a pandas integer series: the dense path below
    if isinstance(values, np.ndarray) and values.ndim == 1 and values.dtype.kind in "iu":
        # Integer ids in a small range: a lookup table in the core (parallel, no hashing).
        wide = values.dtype.kind == "u" and values.dtype.itemsize == 8
        if not wide:
            ids = np.ascontiguousarray(values, dtype=np.int64)
            dense = _neyman.dense_cluster_codes(ids)
            if dense is not None:
                return dense
    if isinstance(values, np.ndarray) and values.dtype == object and "pandas" not in sys.modules:
        # Without pandas, numpy sorts object ids: missing ones (None, NaN) are found first.
        n_missing = sum(v is None or v != v for v in values.tolist())
        if n_missing:
            raise InputError(f"{name} has {n_missing} missing values")
    codes, labels = encode_labels(values, name=name, sort=False, missing="raise")
    return codes.view(np.uint32), _cluster_keys(labels)
