//! Quantiles of arms and their comparison with the order-statistic interval.

use neyman_core::estimators::quantile::{arm_quantiles, quantile_test, ArmQuantile};
use neyman_core::inference::Alternative;
use numpy::PyReadonlyArray1;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::convert::{contiguous, slice};
use crate::errors::{run, run_detached};

/// `(estimate, se, n, lower, upper)` of each arm's `q`-quantile (`codes`: arm of each row).
#[pyfunction]
pub fn quantile_arms(
    py: Python<'_>,
    values: PyReadonlyArray1<'_, f64>,
    codes: PyReadonlyArray1<'_, i32>,
    names: Vec<String>,
    q: f64,
) -> PyResult<Vec<(f64, f64, u64, f64, f64)>> {
    let v = slice("values", &values)?;
    let c = contiguous(&codes)?;
    let arms = run_detached(py, || arm_quantiles(v, c, &names, q))?;
    Ok(arms
        .into_iter()
        .map(|a| (a.estimate, a.se, a.n, a.lower, a.upper))
        .collect())
}

/// The comparison of a treatment arm's quantile with the control's: each `(estimate, se, n)`;
/// `opts` `(alternative, confidence_level)`.
#[pyfunction]
pub fn quantile_compare<'py>(
    py: Python<'py>,
    control: (f64, f64, u64),
    treatment: (f64, f64, u64),
    opts: (String, f64),
) -> PyResult<Bound<'py, PyDict>> {
    let arm = |(estimate, se, n): (f64, f64, u64)| ArmQuantile {
        estimate,
        se,
        n,
        lower: f64::NAN,
        upper: f64::NAN,
    };
    let alt = run(|| Alternative::parse(&opts.0))?;
    let r = run(|| quantile_test(&arm(control), &arm(treatment), alt, opts.1))?;
    let d = PyDict::new(py);
    d.set_item("effect", r.effect)?;
    d.set_item("se", r.se)?;
    d.set_item("ci_low", r.ci_low)?;
    d.set_item("ci_high", r.ci_high)?;
    d.set_item("statistic", r.statistic)?;
    d.set_item("pvalue", r.pvalue)?;
    d.set_item("rel_effect", r.rel_effect)?;
    d.set_item("rel_se", r.rel_se)?;
    d.set_item("rel_ci_low", r.rel_ci_low)?;
    d.set_item("rel_ci_high", r.rel_ci_high)?;
    Ok(d)
}
