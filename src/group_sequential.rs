//! Group-sequential designs: spending bounds, futility, inflation and the mSPRT's power.

use neyman_core::estimators::group_sequential::{
    bounds_at, crossing, design, msprt_power, Boundary, DesignOptions, Spending,
};
use neyman_core::inference::Alternative;
use numpy::{IntoPyArray, PyReadonlyArray1};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::convert::slice;
use crate::errors::{run, run_detached};

type Opts = (
    f64,
    bool,
    String,
    Option<f64>,
    f64,
    Option<String>,
    Option<f64>,
    usize,
);

fn options(o: Opts) -> PyResult<DesignOptions> {
    let (alpha, two_sided, boundary, param, power, futility, fparam, r) = o;
    run(|| {
        Ok(DesignOptions {
            alpha,
            two_sided,
            boundary: Boundary::parse(&boundary, param)?,
            power,
            futility: match futility {
                Some(f) => Some(Spending::parse("futility", &f, fparam)?),
                None => None,
            },
            r,
        })
    })
}

/// The design at planned fractions; `opts` `(alpha, two_sided, spending, gamma_or_rho, power,
/// futility, futility_param, r)`.
#[pyfunction]
pub fn gsd_design<'py>(
    py: Python<'py>,
    fractions: PyReadonlyArray1<'_, f64>,
    opts: Opts,
) -> PyResult<Bound<'py, PyDict>> {
    let t = slice("information_fractions", &fractions)?;
    let o = options(opts)?;
    let d = run_detached(py, || design(t, &o))?;
    let out = PyDict::new(py);
    out.set_item("efficacy", d.efficacy.into_pyarray(py))?;
    out.set_item("futility", d.futility.into_pyarray(py))?;
    out.set_item("alpha_spent", d.alpha_spent.into_pyarray(py))?;
    out.set_item("beta_spent", d.beta_spent.into_pyarray(py))?;
    out.set_item("cross_h0", d.cross_h0.into_pyarray(py))?;
    out.set_item("cross_h1", d.cross_h1.into_pyarray(py))?;
    out.set_item("drift", d.drift)?;
    out.set_item("drift_fixed", d.drift_fixed)?;
    out.set_item("inflation", d.inflation)?;
    out.set_item("expected_h0", d.expected_h0)?;
    out.set_item("expected_h1", d.expected_h1)?;
    Ok(out)
}

/// Bounds at observed fractions of a design with drift `drift`: `(efficacy, futility,
/// alpha_spent)`.
#[pyfunction]
pub fn gsd_bounds<'py>(
    py: Python<'py>,
    fractions: PyReadonlyArray1<'_, f64>,
    opts: Opts,
    drift: f64,
) -> PyResult<Bound<'py, PyDict>> {
    let t = slice("information_fractions", &fractions)?;
    let o = options(opts)?;
    let (b, f, s) = run_detached(py, || bounds_at(t, &o, drift))?;
    let out = PyDict::new(py);
    out.set_item("efficacy", b.into_pyarray(py))?;
    out.set_item("futility", f.into_pyarray(py))?;
    out.set_item("alpha_spent", s.into_pyarray(py))?;
    Ok(out)
}

/// Per-look first-crossing probabilities (`upper`, `lower`) of bounds under `drift`.
#[pyfunction]
pub fn gsd_crossing<'py>(
    py: Python<'py>,
    fractions: PyReadonlyArray1<'_, f64>,
    upper: PyReadonlyArray1<'_, f64>,
    lower: PyReadonlyArray1<'_, f64>,
    drift: f64,
    r: usize,
) -> PyResult<Bound<'py, PyDict>> {
    let (t, u, l) = (
        slice("information_fractions", &fractions)?,
        slice("upper", &upper)?,
        slice("lower", &lower)?,
    );
    if u.len() != t.len() || l.len() != t.len() {
        return run(|| {
            Err(neyman_core::NeymanError::invalid(
                "bounds",
                "one bound per look is needed",
            ))
        });
    }
    let (a, b) = run_detached(py, || Ok(crossing(t, u, l, drift, r)))?;
    let out = PyDict::new(py);
    out.set_item("upper", a.into_pyarray(py))?;
    out.set_item("lower", b.into_pyarray(py))?;
    Ok(out)
}

/// Power of the normal-mixture mSPRT watched at fractions of its horizon (variance 1 there).
#[pyfunction]
pub fn gsd_msprt_power(
    py: Python<'_>,
    fractions: PyReadonlyArray1<'_, f64>,
    drift: f64,
    tau2: f64,
    alpha: f64,
    alternative: String,
    r: usize,
) -> PyResult<f64> {
    let t = slice("looks", &fractions)?;
    let alt = run(|| Alternative::parse(&alternative))?;
    run_detached(py, || msprt_power(t, drift, tau2, alpha, alt, r))
}
