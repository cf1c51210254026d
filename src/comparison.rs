//! Comparisons from the core as Python dicts (the Python layer wraps them in result objects).

use neyman_core::inference::{Adjusted, Comparison};
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// Every field of one comparison.
pub fn comparison_dict<'py>(py: Python<'py>, r: &Comparison) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("control_value", r.control_value)?;
    d.set_item("treatment_value", r.treatment_value)?;
    d.set_item("effect", r.effect)?;
    d.set_item("se", r.se)?;
    d.set_item("ci_low", r.ci_low)?;
    d.set_item("ci_high", r.ci_high)?;
    d.set_item("rel_effect", r.relative.effect)?;
    d.set_item("rel_se", r.relative.se)?;
    d.set_item("rel_ci_low", r.relative.ci_low)?;
    d.set_item("rel_ci_high", r.relative.ci_high)?;
    d.set_item("statistic", r.statistic)?;
    d.set_item("pvalue", r.pvalue)?;
    d.set_item("df", r.df)?;
    d.set_item("n_control", r.n_control)?;
    d.set_item("n_treatment", r.n_treatment)?;
    Ok(d)
}

/// An adjusted comparison: its fields, `variance_ratio`, `unadjusted` (a comparison dict), and
/// with `theta` CUPED's pooled coefficient (a regression has a vector of them, so none here).
pub fn adjusted_dict<'py>(
    py: Python<'py>,
    r: &Adjusted,
    theta: bool,
) -> PyResult<Bound<'py, PyDict>> {
    let d = comparison_dict(py, &r.adjusted)?;
    if theta {
        d.set_item("theta", r.theta)?;
    }
    d.set_item("variance_ratio", r.variance_ratio)?;
    d.set_item("unadjusted", comparison_dict(py, &r.unadjusted)?)?;
    Ok(d)
}
