//! What every statistic object shares: `to_dict`, `repr`, pickling by `__reduce__` (the
//! constructor's arguments in order), and the checked `other` of `merge`.

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple, PyType};
use pyo3::PyClass;

use crate::errors::InputTypeError;

/// Field names and values of a statistic, in the order of its constructor's arguments.
pub type Fields<'py> = Vec<(&'static str, Bound<'py, PyAny>)>;

/// `{"n": ..., "mean": ..., ...}`.
pub fn dict_of<'py>(py: Python<'py>, fields: Fields<'py>) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    for (k, v) in fields {
        d.set_item(k, v)?;
    }
    Ok(d)
}

/// `Name(n=4, mean=2.5, m2=5.0)`: Python's repr of each field; a zero `n_nan` is left out.
pub fn repr_of(name: &str, fields: Fields<'_>) -> PyResult<String> {
    let mut parts = Vec::with_capacity(fields.len());
    for (k, v) in fields {
        if k == "n_nan" && v.extract::<u64>().is_ok_and(|n| n == 0) {
            continue;
        }
        parts.push(format!("{k}={}", v.repr()?));
    }
    Ok(format!("{name}({})", parts.join(", ")))
}

/// `(type(self), constructor arguments)`, so that `pickle` rebuilds an equal statistic.
pub fn reduce_of<'py, T: PyClass>(
    slf: &Bound<'py, T>,
    fields: Fields<'py>,
) -> PyResult<(Bound<'py, PyType>, Bound<'py, PyTuple>)> {
    let args = PyTuple::new(slf.py(), fields.into_iter().map(|(_, v)| v))?;
    Ok((slf.as_any().get_type(), args))
}

/// The argument of `merge` as a statistic of the same type, or an error naming both types.
pub fn same_type<'a, 'py, T: PyClass>(
    name: &str,
    other: &'a Bound<'py, PyAny>,
) -> PyResult<&'a Bound<'py, T>> {
    other.cast::<T>().map_err(|_| {
        let got = other
            .get_type()
            .name()
            .map(|n| n.to_string())
            .unwrap_or_default();
        InputTypeError::new_err(format!(
            "other is a {got}; a {name} merges only with another {name}"
        ))
    })
}

/// The `#[pymethods]` of a statistic class: its own methods, then `to_dict`, `__repr__` and
/// `__reduce__` built from its `fields()` (the constructor's arguments in order).
#[macro_export]
macro_rules! statistic_methods {
    ($ty:ident, $name:expr, { $($body:tt)* }) => {
        #[pyo3::pymethods]
        impl $ty {
            $($body)*

            /// The numbers as a dict.
            fn to_dict<'py>(
                &self,
                py: pyo3::Python<'py>,
            ) -> pyo3::PyResult<pyo3::Bound<'py, pyo3::types::PyDict>> {
                $crate::statistic::dict_of(py, self.fields(py)?)
            }

            fn __repr__(&self, py: pyo3::Python<'_>) -> pyo3::PyResult<String> {
                $crate::statistic::repr_of($name, self.fields(py)?)
            }

            fn __reduce__<'py>(
                slf: &pyo3::Bound<'py, Self>,
            ) -> pyo3::PyResult<(
                pyo3::Bound<'py, pyo3::types::PyType>,
                pyo3::Bound<'py, pyo3::types::PyTuple>,
            )> {
                let fields = slf.get().fields(slf.py())?;
                $crate::statistic::reduce_of(slf, fields)
            }
        }
    };
}
