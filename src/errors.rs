//! The one mapping from the core's [`NeymanError`] to Python exceptions, and [`run_detached`], the
//! helper through which every call releases the GIL.
//!
//! The exception classes are declared once, in `neyman/errors.py` (so that input errors can also
//! be `ValueError` or `TypeError`); here they are typed handles imported from there.

use neyman_core::NeymanError;
use pyo3::exceptions::{PyKeyboardInterrupt, PyRuntimeError};
use pyo3::prelude::*;

pyo3::import_exception!(neyman.errors, InputError);
pyo3::import_exception!(neyman.errors, InputTypeError);
pyo3::import_exception!(neyman.errors, InsufficientDataError);
pyo3::import_exception!(neyman.errors, ZeroVarianceError);
pyo3::import_exception!(neyman.errors, LengthMismatchError);
pyo3::import_exception!(neyman.errors, PrecisionLossError);

/// The Python exception of a core error: one arm per variant, no fallback.
pub fn to_pyerr(e: NeymanError) -> PyErr {
    let msg = e.to_string();
    match e {
        NeymanError::InvalidArgument { .. } => InputError::new_err(msg),
        NeymanError::TooFewObservations { .. } | NeymanError::TooFewClusters { .. } => {
            InsufficientDataError::new_err(msg)
        }
        NeymanError::ZeroVariance { .. } => ZeroVarianceError::new_err(msg),
        NeymanError::LengthMismatch { .. } => LengthMismatchError::new_err(msg),
        NeymanError::PrecisionLoss { .. } => PrecisionLossError::new_err(msg),
        NeymanError::Interrupted => PyKeyboardInterrupt::new_err(msg),
    }
}

/// An input error about argument `arg` (raised by the conversions of the binding layer).
pub fn input_error(arg: &str, msg: impl std::fmt::Display) -> PyErr {
    InputError::new_err(format!("{arg}: {msg}"))
}

/// A type error about argument `arg`.
pub fn type_error(arg: &str, msg: impl std::fmt::Display) -> PyErr {
    InputTypeError::new_err(format!("{arg}: {msg}"))
}

/// Whether Python has a pending signal whose handler raises (Ctrl-C): the interrupt check of long
/// reductions, called between batches of blocks on the thread that released the GIL.
pub fn python_interrupted() -> bool {
    Python::attach(|py| py.check_signals().is_err())
}

/// Run `f` without the GIL; map its error, and turn a panic into a Python exception.
pub fn run_detached<T, F>(py: Python<'_>, f: F) -> PyResult<T>
where
    F: FnOnce() -> Result<T, NeymanError> + Send,
    T: Send,
{
    let out = py.detach(|| std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)));
    match out {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(to_pyerr(e)),
        Err(_) => Err(PyRuntimeError::new_err(
            "internal error in neyman's Rust core (a bug: please report it with the input that caused it)",
        )),
    }
}

/// Run a cheap core call (a constructor, a merge) with the GIL held, mapping its error.
pub fn run<T>(f: impl FnOnce() -> Result<T, NeymanError>) -> PyResult<T> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(r) => r.map_err(to_pyerr),
        Err(_) => Err(PyRuntimeError::new_err(
            "internal error in neyman's Rust core (a bug: please report it with the input that caused it)",
        )),
    }
}
