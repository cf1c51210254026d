//! Permutation (randomisation) tests.

use neyman_core::estimators::permutation::{permutation_test, Statistic};
use neyman_core::inference::Alternative;
use numpy::{IntoPyArray, PyReadonlyArray1};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::convert::slice;
use crate::errors::{run, run_detached};

/// The test of units `0..n_control` (control) against the rest: per-unit `sums` and `counts`;
/// `n_resamples` None for exact enumeration; `opts` `(statistic, alternative)`.
#[pyfunction]
pub fn permutation_test_units<'py>(
    py: Python<'py>,
    sums: PyReadonlyArray1<'_, f64>,
    counts: PyReadonlyArray1<'_, f64>,
    n_control: usize,
    n_resamples: Option<u64>,
    seed: u64,
    opts: (String, String),
) -> PyResult<Bound<'py, PyDict>> {
    let (s, c) = (slice("values", &sums)?, slice("counts", &counts)?);
    let statistic = run(|| Statistic::parse(&opts.0))?;
    let alternative = run(|| Alternative::parse(&opts.1))?;
    let r = run_detached(py, || {
        permutation_test(s, c, n_control, statistic, n_resamples, seed, alternative)
    })?;
    let d = PyDict::new(py);
    d.set_item("statistic", r.statistic)?;
    d.set_item("pvalue", r.pvalue)?;
    d.set_item("exact", r.exact)?;
    d.set_item("null_distribution", r.null.into_pyarray(py))?;
    Ok(d)
}
