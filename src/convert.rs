//! Conversions from Python arguments: read-only slices of numpy arrays, arm codes of any signed
//! integer type, counts and finite numbers (naming the argument in every error), and options.

use neyman_core::inference::{Alternative, Options, RelativeCi};
use neyman_core::NeymanError;
use numpy::PyReadonlyArray1;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyFloat};

use crate::errors::{input_error, run, type_error, InputError, InputTypeError};

/// The contiguous data of a read-only float64 array.
pub fn slice<'a>(name: &str, a: &'a PyReadonlyArray1<'_, f64>) -> PyResult<&'a [f64]> {
    a.as_slice()
        .map_err(|_| input_error(name, "the array must be C-contiguous"))
}

/// Named read-only float64 columns as `(name, slice)` pairs (each must be C-contiguous).
pub fn named_slices<'a>(
    columns: &'a [(String, PyReadonlyArray1<'_, f64>)],
) -> PyResult<Vec<(&'a str, &'a [f64])>> {
    columns
        .iter()
        .map(|(n, a)| Ok((n.as_str(), slice(n, a)?)))
        .collect()
}

/// Group codes as the caller's integer array (int8 to int64), read in place.
#[derive(FromPyObject)]
pub enum Codes<'py> {
    I8(PyReadonlyArray1<'py, i8>),
    I16(PyReadonlyArray1<'py, i16>),
    I32(PyReadonlyArray1<'py, i32>),
    I64(PyReadonlyArray1<'py, i64>),
}

/// The contiguous data of a read-only integer array.
pub fn contiguous<'a, T: numpy::Element>(a: &'a PyReadonlyArray1<'_, T>) -> PyResult<&'a [T]> {
    a.as_slice()
        .map_err(|_| input_error("codes", "the array must be C-contiguous"))
}

/// Run `$body` with `$g` bound to the codes as `Option<&[C]>` for the array's integer type.
#[macro_export]
macro_rules! with_codes {
    ($codes:expr, $g:ident => $body:expr) => {
        match $codes {
            None => {
                let $g: Option<&[i32]> = None;
                $body
            }
            Some($crate::convert::Codes::I8(a)) => {
                let $g = Some($crate::convert::contiguous(a)?);
                $body
            }
            Some($crate::convert::Codes::I16(a)) => {
                let $g = Some($crate::convert::contiguous(a)?);
                $body
            }
            Some($crate::convert::Codes::I32(a)) => {
                let $g = Some($crate::convert::contiguous(a)?);
                $body
            }
            Some($crate::convert::Codes::I64(a)) => {
                let $g = Some($crate::convert::contiguous(a)?);
                $body
            }
        }
    };
}

fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "object".into())
}

fn is_bool(obj: &Bound<'_, PyAny>) -> bool {
    obj.is_instance_of::<PyBool>() || type_name(obj) == "bool" || type_name(obj) == "bool_"
}

/// Python's spelling of a float in messages (`nan`, `inf`, `-4.0`).
pub fn float_repr(x: f64) -> String {
    if x.is_nan() {
        "nan".into()
    } else if x.is_infinite() {
        if x > 0.0 { "inf" } else { "-inf" }.into()
    } else {
        format!("{x:?}")
    }
}

/// A non-negative whole number: a Python or numpy integer, or a float holding a whole number (what
/// a pandas sum returns). Booleans and fractions are refused.
pub fn count(name: &str, obj: &Bound<'_, PyAny>) -> PyResult<u64> {
    let refuse = || {
        InputTypeError::new_err(format!(
            "{name} must be an integer count, got {}",
            type_name(obj)
        ))
    };
    if is_bool(obj) {
        return Err(refuse());
    }
    if obj.is_instance_of::<PyFloat>() || type_name(obj).starts_with("float") {
        let x: f64 = obj.extract().map_err(|_| refuse())?;
        if !x.is_finite() || x.fract() != 0.0 {
            return Err(refuse());
        }
        if x < 0.0 {
            return Err(InputError::new_err(format!(
                "{name} == {}, must be non-negative",
                float_repr(x)
            )));
        }
        // Whole floats up to 2**53 are exact; beyond, the count itself is uncertain.
        if x > 9_007_199_254_740_992.0 {
            return Err(InputError::new_err(format!(
                "{name} == {}: a float count beyond 2**53 is not exact; pass an integer",
                float_repr(x)
            )));
        }
        return Ok(x as u64);
    }
    let index = obj.call_method0("__index__").map_err(|_| refuse())?;
    if let Ok(n) = index.extract::<u64>() {
        return Ok(n);
    }
    match index.extract::<i128>() {
        Ok(n) if n < 0 => Err(InputError::new_err(format!(
            "{name} == {n}, must be non-negative"
        ))),
        _ => Err(InputError::new_err(format!(
            "{name} == {}, is larger than the largest count neyman holds (2**64 - 1)",
            index.str().map(|s| s.to_string()).unwrap_or_default()
        ))),
    }
}

/// A finite float (a Python or numpy number; not a bool or a string).
pub fn finite(name: &str, obj: &Bound<'_, PyAny>) -> PyResult<f64> {
    if is_bool(obj) {
        return Err(InputTypeError::new_err(format!(
            "{name} must be a number, got bool"
        )));
    }
    let x: f64 = obj.extract().map_err(|_| {
        InputTypeError::new_err(format!("{name} must be a number, got {}", type_name(obj)))
    })?;
    if !x.is_finite() {
        return Err(InputError::new_err(format!(
            "{name} == {}, must be finite",
            float_repr(x)
        )));
    }
    Ok(x)
}

/// A finite float that is not negative.
pub fn nonnegative(name: &str, obj: &Bound<'_, PyAny>) -> PyResult<f64> {
    let x = finite(name, obj)?;
    if x < 0.0 {
        return Err(InputError::new_err(format!(
            "{name} == {}, must be non-negative",
            float_repr(x)
        )));
    }
    Ok(x)
}

/// A sequence of finite floats of length `k` (`k = None`: any length).
pub fn finite_vec(name: &str, obj: &Bound<'_, PyAny>, k: Option<usize>) -> PyResult<Vec<f64>> {
    let items: Vec<Bound<'_, PyAny>> = obj
        .try_iter()
        .map_err(|_| type_error(name, "must be a sequence of numbers"))?
        .collect::<PyResult<_>>()?;
    if let Some(k) = k {
        if items.len() != k {
            return Err(InputError::new_err(format!(
                "{name} needs {k} values, got {}",
                items.len()
            )));
        }
    }
    items.iter().map(|v| finite(name, v)).collect()
}

/// A `k x k` matrix of finite floats given as a sequence of sequences.
pub fn finite_matrix(name: &str, obj: &Bound<'_, PyAny>, k: usize) -> PyResult<Vec<Vec<f64>>> {
    let rows: Vec<Bound<'_, PyAny>> = obj
        .try_iter()
        .map_err(|_| type_error(name, "must be a matrix (a sequence of rows)"))?
        .collect::<PyResult<_>>()?;
    if rows.len() != k {
        return Err(InputError::new_err(format!(
            "{name} must be a {k} x {k} matrix"
        )));
    }
    rows.iter()
        .map(|r| {
            finite_vec(name, r, None).and_then(|v| {
                if v.len() == k {
                    Ok(v)
                } else {
                    Err(InputError::new_err(format!(
                        "{name} must be a {k} x {k} matrix"
                    )))
                }
            })
        })
        .collect()
}

/// The options every comparison takes: `(alternative, confidence_level, relative_ci)`.
pub fn options(opts: (String, f64, String)) -> PyResult<Options> {
    let (alternative, confidence_level, relative_ci) = opts;
    run(|| {
        Ok::<_, NeymanError>(Options {
            alternative: Alternative::parse(&alternative)?,
            confidence_level,
            relative_ci: RelativeCi::parse(&relative_ci)?,
        })
    })
}
