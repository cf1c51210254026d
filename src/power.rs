//! Analytic power: the solve for the unknown of effect, n, power and alpha; the design effect;
//! the variance, CUPED reduction and intra-cluster correlation of pre-period data; and the
//! distributions power needs (noncentral t, Dunnett's critical value), exposed for tests.

use neyman_core::estimators::power::{self as core, Design, Metric, ProportionVariance};
use neyman_core::inference::distributions::nct_cdf as core_nct_cdf;
use neyman_core::inference::multiplicity::{critical_value, Correction};
use neyman_core::inference::Alternative;
use numpy::PyReadonlyArray1;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::convert::slice;
use crate::errors::{input_error, run_detached, to_pyerr};

/// The design, read from a dict built by `neyman.design`.
#[derive(FromPyObject)]
#[pyo3(from_item_all)]
pub struct DesignArgs {
    metric: String,
    sd: f64,
    baseline: f64,
    t_test: bool,
    variance: String,
    alternative: String,
    ratio: f64,
    treatments: usize,
    correction: String,
    margin: f64,
    relative: bool,
    variance_factor: f64,
    cluster_size: f64,
}

fn design(a: &DesignArgs) -> PyResult<Design> {
    let metric = match a.metric.as_str() {
        "mean" => Metric::Mean {
            sd: a.sd,
            baseline: a.baseline,
            t_test: a.t_test,
        },
        "proportion" => Metric::Proportion {
            baseline: a.baseline,
            variance: ProportionVariance::parse(&a.variance).map_err(to_pyerr)?,
        },
        other => {
            return Err(input_error(
                "metric",
                format!("unknown metric kind {other:?}"),
            ))
        }
    };
    Ok(Design {
        metric,
        alternative: Alternative::parse(&a.alternative).map_err(to_pyerr)?,
        ratio: a.ratio,
        treatments: a.treatments,
        correction: Correction::parse(&a.correction).map_err(to_pyerr)?,
        margin: a.margin,
        relative: a.relative,
        variance_factor: a.variance_factor,
        cluster_size: a.cluster_size,
    })
}

/// Solve for the one of `effect`, `n`, `power`, `alpha` given as None; a dict of all four and
/// `critical`, `df`, `se`.
#[pyfunction]
pub fn power_solve<'py>(
    py: Python<'py>,
    design_args: DesignArgs,
    effect: Option<f64>,
    n: Option<f64>,
    power: Option<f64>,
    alpha: Option<f64>,
) -> PyResult<Bound<'py, PyDict>> {
    let d = design(&design_args)?;
    let s = run_detached(py, || core::solve(&d, effect, n, power, alpha))?;
    let out = PyDict::new(py);
    out.set_item("effect", s.effect)?;
    out.set_item("n", s.n)?;
    out.set_item("power", s.power)?;
    out.set_item("alpha", s.alpha)?;
    out.set_item("critical", s.critical)?;
    out.set_item("df", s.df)?;
    out.set_item("se", s.se)?;
    Ok(out)
}

/// Design effect `1 + ((cv^2 + 1) m - 1) icc` (Eldridge et al. 2006).
#[pyfunction]
pub fn design_effect(py: Python<'_>, icc: f64, cluster_size: f64, cv: f64) -> PyResult<f64> {
    run_detached(py, || core::design_effect(icc, cluster_size, cv))
}

/// `(n, value, variance, variance_reduction)` per day for the units first seen by it (None while
/// fewer than two).
type HistoryRow = Option<(u64, f64, f64, f64)>;

/// Per-day cumulative per-unit variance and CUPED reduction of pre-period data.
#[pyfunction]
#[pyo3(signature = (numerator, denominator, covariate, day, n_days))]
pub fn history_by_day(
    py: Python<'_>,
    numerator: PyReadonlyArray1<'_, f64>,
    denominator: Option<PyReadonlyArray1<'_, f64>>,
    covariate: Option<PyReadonlyArray1<'_, f64>>,
    day: PyReadonlyArray1<'_, i32>,
    n_days: usize,
) -> PyResult<Vec<HistoryRow>> {
    let num = slice("metric", &numerator)?;
    let den = denominator
        .as_ref()
        .map(|d| slice("denominator", d))
        .transpose()?;
    let cov = covariate
        .as_ref()
        .map(|c| slice("covariate", c))
        .transpose()?;
    let days = day
        .as_slice()
        .map_err(|_| input_error("date", "the array must be C-contiguous"))?;
    let rows = run_detached(py, || core::history_by_day(num, den, cov, days, n_days))?;
    Ok(rows
        .into_iter()
        .map(|r| r.map(|h| (h.n, h.value, h.variance, h.variance_reduction)))
        .collect())
}

/// `(icc, mean cluster size, cv of sizes)` by one-way ANOVA.
#[pyfunction]
pub fn icc_anova(
    py: Python<'_>,
    values: PyReadonlyArray1<'_, f64>,
    cluster: PyReadonlyArray1<'_, i32>,
    n_clusters: usize,
) -> PyResult<(f64, f64, f64)> {
    let v = slice("metric", &values)?;
    let c = cluster
        .as_slice()
        .map_err(|_| input_error("cluster", "the array must be C-contiguous"))?;
    run_detached(py, || core::icc_anova(v, c, n_clusters))
}

/// Noncentral t cdf `P(T <= t)` with `df` degrees of freedom and noncentrality `nc`.
#[pyfunction]
pub fn nct_cdf(py: Python<'_>, t: f64, df: f64, nc: f64) -> PyResult<f64> {
    run_detached(py, || core_nct_cdf(t, df, nc))
}

/// Critical value of `k` comparisons with a shared control (correlation `rho`) at familywise
/// `alpha`: `correction` is `'none'`, `'bonferroni'` or `'dunnett'`; `df` infinite for z.
#[pyfunction]
pub fn multiple_critical_value(
    py: Python<'_>,
    alpha: f64,
    k: usize,
    rho: f64,
    df: f64,
    alternative: &str,
    correction: &str,
) -> PyResult<f64> {
    let alt = Alternative::parse(alternative).map_err(to_pyerr)?;
    let corr = Correction::parse(correction).map_err(to_pyerr)?;
    run_detached(py, || critical_value(alpha, k, rho, df, alt, corr))
}
