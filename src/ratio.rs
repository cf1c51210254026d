//! Ratio metrics by the delta method: `RatioStats` (co-moments of numerator and denominator per
//! unit), the scan, and the test.

use neyman_core::estimators::ratio::ratio_test as core_ratio_test;
use numpy::PyReadonlyArray1;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::comparison::comparison_dict;
use crate::convert::{options, Codes};
use crate::errors::run_detached;
use crate::two_variable_stats;

two_variable_stats! {
    /// Statistics of one arm for a ratio metric (numerator / denominator per unit): the count of
    /// units, the means of numerator and denominator, their co-moments (sums of squared and cross
    /// deviations), and the units left out because a value was NaN.
    ///
    /// Frozen, mergeable (``a.merge(b)``, in the Rust core), picklable; ``from_sums`` takes SQL
    /// aggregates.
    ///
    /// Examples
    /// --------
    /// >>> import neyman
    /// >>> s = neyman.RatioStats.from_sums(
    /// ...     n=4, sum_num=10.0, sum_den=20.0, sum_num_sq=30.0, sum_den_sq=126.0, sum_num_den=61.0
    /// ... )
    /// >>> s.mean_num / s.mean_den
    /// 0.5
    RatioStats, "RatioStats",
    fields: (mean_num, mean_den, c_num_num, c_den_den, c_num_den),
    sums: (sum_num, sum_den, sum_num_sq, sum_den_sq, sum_num_den)
}

/// Per group: the statistics, the infinite rows, and the negative denominators (counted by the
/// kernel while the rows are in cache).
#[pyfunction]
#[pyo3(signature = (num, den, codes, n_groups, names))]
pub fn scan_ratio(
    py: Python<'_>,
    num: PyReadonlyArray1<'_, f64>,
    den: PyReadonlyArray1<'_, f64>,
    codes: Option<Codes<'_>>,
    n_groups: usize,
    names: (String, String),
) -> PyResult<(Vec<RatioStats>, Vec<u64>, u64)> {
    let nm = [names.0.as_str(), names.1.as_str()];
    let (stats, n_inf, negative) =
        crate::comoments::scan::<2>(py, [&num, &den], nm, codes.as_ref(), n_groups, &[1])?;
    let stats = stats.iter().map(RatioStats::from_scan).collect();
    Ok((stats, n_inf, negative.first().copied().unwrap_or(0)))
}

/// Ratio-metric test.
#[pyfunction]
pub fn ratio_test<'py>(
    py: Python<'py>,
    control: &Bound<'py, RatioStats>,
    treatment: &Bound<'py, RatioStats>,
    opts: (String, f64, String),
) -> PyResult<Bound<'py, PyDict>> {
    let (c, t) = (control.get().inner, treatment.get().inner);
    let opts = options(opts)?;
    let r = run_detached(py, || core_ratio_test(&c, &t, &opts))?;
    comparison_dict(py, &r)
}
