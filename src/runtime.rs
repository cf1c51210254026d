//! The thread pool, arm-code summaries, and the memory-bandwidth floor used by the benchmarks.

use neyman_core::parallel;
use neyman_core::scan::code_summary as core_code_summary;
use numpy::PyReadonlyArray1;
use pyo3::prelude::*;

use crate::convert::{slice, Codes};
use crate::errors::run_detached;
use crate::with_codes;

/// Threads in neyman's pool.
#[pyfunction]
pub fn get_num_threads(py: Python<'_>) -> PyResult<usize> {
    run_detached(py, parallel::num_threads)
}

/// Resize neyman's pool.
#[pyfunction]
pub fn set_num_threads(py: Python<'_>, n: usize) -> PyResult<()> {
    run_detached(py, || parallel::set_num_threads(n))
}

/// `(min, max, counts)`: the smallest and largest code, and the rows of each code.
type CodeSummaryTuple = (i64, i64, Option<Vec<u64>>);

/// `(min, max, counts)` of integer arm codes in one pass; `counts` (rows of each code `0..=max`)
/// is `None` unless every code is in `0..limit`. `None` for no rows.
#[pyfunction]
pub fn code_summary(
    py: Python<'_>,
    codes: Codes<'_>,
    limit: u8,
) -> PyResult<Option<CodeSummaryTuple>> {
    with_codes!(Some(&codes), g => run_detached(py, || {
        core_code_summary(g.unwrap_or_default(), limit)
            .map(|s| s.map(|s| (s.min, s.max, s.counts)))
    }))
}

/// Plain parallel sum: the memory-bandwidth floor for benchmarks.
#[pyfunction]
pub fn floor_sum(py: Python<'_>, x: PyReadonlyArray1<'_, f64>) -> PyResult<f64> {
    let xs = slice("x", &x)?;
    run_detached(py, || parallel::floor_sum(xs))
}

/// The random-number floor of simulation power: `count` standard normals from the simulation's
/// streams (`per_block` per stream), summed.
#[pyfunction]
pub fn floor_normals(py: Python<'_>, count: usize, per_block: usize, seed: u64) -> PyResult<f64> {
    run_detached(py, || {
        neyman_core::estimators::simulation::normal_floor(count, per_block, seed)
    })
}

/// The random-number floor of a permutation test: `count` bounded draws below `bound` from the
/// engine's streams (`per_block` per stream), summed.
#[pyfunction]
pub fn floor_indices(
    py: Python<'_>,
    count: u64,
    bound: usize,
    per_block: u64,
    seed: u64,
) -> PyResult<f64> {
    run_detached(py, || {
        neyman_core::estimators::permutation::index_floor(count, bound, per_block, seed)
    })
}
