//! Quantiles of arms and their comparison with the order-statistic interval.

use neyman_core::estimators::quantile::{
    min_n, quantile_test, quantiles_by_code, quantiles_of_arrays, ArmOutcome, ArmQuantile,
};
use neyman_core::inference::Alternative;
use numpy::PyReadonlyArray1;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::convert::{contiguous, slice};
use crate::errors::{run, run_detached};

type Outcome = (f64, f64, u64, u64, u64, bool);

fn outcome(o: ArmOutcome) -> Outcome {
    match o.quantile {
        Some(a) => (a.estimate, a.se, o.n, o.n_nan, o.n_inf, true),
        None => (f64::NAN, f64::NAN, o.n, o.n_nan, o.n_inf, false),
    }
}

/// Per arm `(estimate, se, n, n_nan, n_inf, defined)` of the `q`-quantile, and the fewest
/// values that define it: from one array per arm (`codes` None) or from `values[0]` split by
/// `codes` into `k` arms.
#[pyfunction]
#[pyo3(signature = (values, q, codes=None, k=0))]
pub fn quantile_arms(
    py: Python<'_>,
    values: Vec<PyReadonlyArray1<'_, f64>>,
    q: f64,
    codes: Option<PyReadonlyArray1<'_, i32>>,
    k: usize,
) -> PyResult<(Vec<Outcome>, usize)> {
    let arrays = values
        .iter()
        .map(|v| slice("values", v))
        .collect::<PyResult<Vec<_>>>()?;
    let codes = codes.as_ref().map(contiguous).transpose()?;
    let out = run_detached(py, || match codes {
        Some(c) => quantiles_by_code(arrays.first().copied().unwrap_or(&[]), c, k, q),
        None => quantiles_of_arrays(&arrays, q),
    })?;
    Ok((out.into_iter().map(outcome).collect(), min_n(q)))
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
