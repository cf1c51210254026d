//! Bindings of post-stratification (`neyman_core::post_stratification`): Lin's interacted
//! adjustment by one categorical column from per-(stratum, arm) moments, in `O(rows + levels x
//! arms)`. Same output as `regression_test` on that design.

use neyman_core::post_stratification::{cell_moments, post_stratify};
use neyman_core::regression::{compare_fit, CovType};
use neyman_core::NeymanError;
use numpy::PyReadonlyArray1;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::{fit_dict, options, run_detached, slice};

/// Post-stratified comparison of `y` on `strata` (level codes `0..len(level_names)`, negative:
/// missing); one dict per treatment arm (codes `1..n_arms`) against the control (code 0).
#[pyfunction]
#[allow(clippy::too_many_arguments)]
fn post_stratified_test<'py>(
    py: Python<'py>,
    y: PyReadonlyArray1<'_, f64>,
    name: String,
    strata: PyReadonlyArray1<'_, i32>,
    level_names: Vec<String>,
    arms: PyReadonlyArray1<'_, i32>,
    arm_labels: Vec<String>,
    cov_type: &str,
    alternative: &str,
    confidence_level: f64,
    relative_ci: &str,
) -> PyResult<Bound<'py, PyDict>> {
    let ys = slice("y", &y)?;
    let s = strata
        .as_slice()
        .map_err(|_| PyValueError::new_err(format!("{name}: array must be C-contiguous")))?;
    let g = arms
        .as_slice()
        .map_err(|_| PyValueError::new_err("arms: array must be C-contiguous"))?;
    let (fit, results) = run_detached(py, || {
        let cov = CovType::parse(cov_type)?;
        let opts = options(alternative, confidence_level, relative_ci)?;
        let n_arms = arm_labels.len();
        let cells = cell_moments(ys, s, level_names.len(), g, n_arms, &name)?;
        let fit = post_stratify(&cells, &name, &level_names, &arm_labels, cov)?;
        let results = (1..n_arms)
            .map(|k| compare_fit(&fit, k, &opts))
            .collect::<Result<Vec<_>, NeymanError>>()?;
        Ok((fit, results))
    })?;
    fit_dict(py, &fit, &results)
}

/// Add this file's functions to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(post_stratified_test, m)?)?;
    Ok(())
}
