//! Covariate balance: standardized mean differences and Hansen and Bowers' omnibus test.

use neyman_core::estimators::balance as core;
use numpy::PyReadonlyArray1;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::convert::slice;
use crate::errors::{input_error, run_detached};

/// Balance of arm `treatment` against arm 0 on the covariate columns.
#[pyfunction]
pub fn balance_test<'py>(
    py: Python<'py>,
    columns: Vec<PyReadonlyArray1<'py, f64>>,
    names: Vec<String>,
    codes: PyReadonlyArray1<'py, i64>,
    treatment: i64,
) -> PyResult<Bound<'py, PyDict>> {
    let cols: Vec<&[f64]> = columns
        .iter()
        .zip(&names)
        .map(|(c, n)| slice(n, c))
        .collect::<PyResult<_>>()?;
    let g = codes
        .as_slice()
        .map_err(|_| input_error("variant", "the array must be C-contiguous"))?;
    let b = run_detached(py, || core::balance(&cols, &names, g, treatment))?;
    let out = PyDict::new(py);
    out.set_item("n_control", b.n_control)?;
    out.set_item("n_treatment", b.n_treatment)?;
    out.set_item("mean_control", b.mean_control)?;
    out.set_item("mean_treatment", b.mean_treatment)?;
    out.set_item("smd", b.smd)?;
    out.set_item("statistic", b.statistic)?;
    out.set_item("df", b.df)?;
    out.set_item("pvalue", b.pvalue)?;
    Ok(out)
}
