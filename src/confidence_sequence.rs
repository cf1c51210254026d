//! Asymptotic confidence sequences over looks.

use neyman_core::estimators::confidence_sequence::path;
use neyman_core::inference::Alternative;
use numpy::PyReadonlyArray1;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::convert::slice;
use crate::errors::{run, run_detached};
use crate::msprt::path_dict;

/// The confidence sequence of one series of looks: estimates, their variances and the units in
/// all at each look; `opts` `(tuning, null, alpha, alternative)`.
#[pyfunction]
pub fn confidence_sequence_path<'py>(
    py: Python<'py>,
    estimates: PyReadonlyArray1<'_, f64>,
    variances: PyReadonlyArray1<'_, f64>,
    n_units: PyReadonlyArray1<'_, f64>,
    opts: (f64, f64, f64, String),
) -> PyResult<Bound<'py, PyDict>> {
    let (e, v, n) = (
        slice("effect", &estimates)?,
        slice("variance", &variances)?,
        slice("n", &n_units)?,
    );
    let (tuning, null, alpha, alternative) = opts;
    let alt = run(|| Alternative::parse(&alternative))?;
    let p = run_detached(py, || path(e, v, n, tuning, null, alpha, alt, None))?;
    path_dict(py, p)
}
