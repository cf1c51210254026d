//! The normal-mixture mSPRT over looks, for many series at once.

use neyman_core::estimators::msprt::{horizon_mixing_variance, paths, MsprtOptions};
use neyman_core::inference::mixture::Path;
use neyman_core::inference::Alternative;
use numpy::{IntoPyArray, PyReadonlyArray1};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::convert::slice;
use crate::errors::{run, run_detached};

/// The path's arrays as a dict: `log_lambda`, `pvalue`, `ci_low`, `ci_high`.
pub fn path_dict<'py>(py: Python<'py>, p: Path) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("log_lambda", p.log_lambda.into_pyarray(py))?;
    d.set_item("pvalue", p.pvalue.into_pyarray(py))?;
    d.set_item("ci_low", p.ci_low.into_pyarray(py))?;
    d.set_item("ci_high", p.ci_high.into_pyarray(py))?;
    Ok(d)
}

/// Always-valid p-values and intervals of `len(tau2)` series of `n_looks` looks each
/// (`estimates` and `variances` row-major), `opts` `(null, alpha, alternative)`.
#[pyfunction]
pub fn msprt_paths<'py>(
    py: Python<'py>,
    estimates: PyReadonlyArray1<'_, f64>,
    variances: PyReadonlyArray1<'_, f64>,
    tau2: PyReadonlyArray1<'_, f64>,
    n_looks: usize,
    opts: (f64, f64, String),
) -> PyResult<Bound<'py, PyDict>> {
    let (e, v, t) = (
        slice("effect", &estimates)?,
        slice("variance", &variances)?,
        slice("mixing_variance", &tau2)?,
    );
    let (null, alpha, alternative) = opts;
    let o = MsprtOptions {
        tau2: 1.0,
        null,
        alpha,
        alternative: run(|| Alternative::parse(&alternative))?,
    };
    let p = run_detached(py, || paths(e, v, t, n_looks, &o))?;
    path_dict(py, p)
}

/// The mixing variance that makes the two-sided interval narrowest when the estimate's variance
/// is `v_h` (the planned horizon).
#[pyfunction]
pub fn msprt_horizon_tau2(v_h: f64, alpha: f64) -> PyResult<f64> {
    run(|| horizon_mixing_variance(v_h, alpha))
}
