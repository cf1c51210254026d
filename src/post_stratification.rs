//! Post-stratification: Lin's interacted adjustment by one categorical column from
//! per-(stratum, arm) moments, in `O(rows + levels x arms)`. Same output as `regression_test` on
//! that design.

use neyman_core::estimators::post_stratification::{cell_moments, post_stratify};
use neyman_core::inference::{compare_fit, CovType};
use neyman_core::NeymanError;
use numpy::PyReadonlyArray1;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::convert::{contiguous, options, slice};
use crate::errors::run_detached;
use crate::regression::fit_dict;

/// Post-stratified comparison of `y` (named `name`) on `strata`: the level code of each row
/// (`0..len(level_names)`, negative: missing) and the level names; `arms` is the arm code of each
/// row with the arms' labels. One dict per treatment arm (codes `1..n_arms`) against the control.
#[pyfunction]
pub fn post_stratified_test<'py>(
    py: Python<'py>,
    y: PyReadonlyArray1<'_, f64>,
    name: String,
    strata: (PyReadonlyArray1<'_, i32>, Vec<String>),
    arms: (PyReadonlyArray1<'_, i32>, Vec<String>),
    cov_type: &str,
    opts: (String, f64, String),
) -> PyResult<Bound<'py, PyDict>> {
    let ys = slice("y", &y)?;
    let (strata, level_names) = strata;
    let (arms, arm_labels) = arms;
    let s = contiguous(&strata)?;
    let g = contiguous(&arms)?;
    let opts = options(opts)?;
    let (fit, results) = run_detached(py, || {
        let cov = CovType::parse(cov_type)?;
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
