//! Sample-ratio mismatch: chi-square goodness of fit of arm counts to the planned split.

use neyman_core::estimators::srm;
use pyo3::prelude::*;

use crate::errors::run_detached;

/// `(statistic, pvalue, df)` of the observed counts against the planned weights.
#[pyfunction]
pub fn srm_test(
    py: Python<'_>,
    observed: Vec<f64>,
    weights: Vec<f64>,
) -> PyResult<(f64, f64, f64)> {
    run_detached(py, || {
        srm::srm_test(&observed, &weights).map(|s| (s.statistic, s.pvalue, s.df))
    })
}
