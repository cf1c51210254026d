//! The anytime-valid SRM test over looks.

use neyman_core::estimators::sequential_srm::sequential_srm;
use numpy::IntoPyArray;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::errors::run_detached;

/// `log_bf` and the running `pvalue` of cumulative arm counts at each look (row-major, one count
/// per arm), against the planned `weights`, with the prior `concentration`.
#[pyfunction]
pub fn sequential_srm_path<'py>(
    py: Python<'py>,
    counts: Vec<f64>,
    weights: Vec<f64>,
    concentration: f64,
) -> PyResult<Bound<'py, PyDict>> {
    let s = run_detached(py, || sequential_srm(&counts, &weights, concentration, 1.0))?;
    let d = PyDict::new(py);
    d.set_item("log_bf", s.log_bf.into_pyarray(py))?;
    d.set_item("pvalue", s.pvalue.into_pyarray(py))?;
    Ok(d)
}
