//! Power by simulation: parametric or resampled experiments, seeded per block.

use neyman_core::estimators::simulation::{
    self as core, Analysis, Model, Perturbation, Plan, Simulated,
};
use neyman_core::inference::Alternative;
use numpy::PyReadonlyArray1;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::convert::slice;
use crate::errors::{input_error, run_detached, to_pyerr};

/// Sizes, level, direction and seed, read from a dict.
#[derive(FromPyObject)]
#[pyo3(from_item_all)]
pub struct PlanArgs {
    n_control: usize,
    n_treatment: usize,
    n_sims: usize,
    alpha: f64,
    alternative: String,
    seed: u64,
}

fn plan(a: &PlanArgs) -> PyResult<Plan> {
    Ok(Plan {
        n_control: a.n_control,
        n_treatment: a.n_treatment,
        n_sims: a.n_sims,
        alpha: a.alpha,
        alternative: Alternative::parse(&a.alternative).map_err(to_pyerr)?,
        seed: a.seed,
    })
}

fn result<'py>(py: Python<'py>, s: Simulated) -> PyResult<Bound<'py, PyDict>> {
    let out = PyDict::new(py);
    out.set_item("power", s.power)?;
    out.set_item("mc_se", s.mc_se)?;
    out.set_item("rejections", s.rejections)?;
    out.set_item("n_sims", s.n_sims)?;
    Ok(out)
}

/// Simulated power under a parametric model: `model` is `'normal'` (params mean, sd, rho),
/// `'lognormal'` (mu, sigma) or `'bernoulli'` (p).
#[pyfunction]
pub fn simulate_power<'py>(
    py: Python<'py>,
    model: &str,
    params: (f64, f64, f64),
    perturbation: &str,
    effect: f64,
    analysis: &str,
    plan_args: PlanArgs,
) -> PyResult<Bound<'py, PyDict>> {
    let (a, b, c) = params;
    let m = match model {
        "normal" => Model::Normal {
            mean: a,
            sd: b,
            rho: c,
        },
        "lognormal" => Model::LogNormal { mu: a, sigma: b },
        "bernoulli" => Model::Bernoulli { p: a },
        other => return Err(input_error("model", format!("unknown model {other:?}"))),
    };
    let p = Perturbation::parse(perturbation, effect).map_err(to_pyerr)?;
    let an = Analysis::parse(analysis).map_err(to_pyerr)?;
    let pl = plan(&plan_args)?;
    let s = run_detached(py, || core::simulate_model(m, p, an, &pl))?;
    result(py, s)
}

/// Simulated power resampling historical rows (with replacement) into each experiment.
#[pyfunction]
#[pyo3(signature = (outcome, covariate, perturbation, effect, analysis, plan_args))]
pub fn simulate_resampling<'py>(
    py: Python<'py>,
    outcome: PyReadonlyArray1<'_, f64>,
    covariate: Option<PyReadonlyArray1<'_, f64>>,
    perturbation: &str,
    effect: f64,
    analysis: &str,
    plan_args: PlanArgs,
) -> PyResult<Bound<'py, PyDict>> {
    let y = slice("metric", &outcome)?;
    let x = covariate
        .as_ref()
        .map(|c| slice("covariate", c))
        .transpose()?;
    let p = Perturbation::parse(perturbation, effect).map_err(to_pyerr)?;
    let an = Analysis::parse(analysis).map_err(to_pyerr)?;
    let pl = plan(&plan_args)?;
    let s = run_detached(py, || core::simulate_resampling(y, x, p, an, &pl))?;
    result(py, s)
}
