//! CUPED: `CupedStats` (co-moments of a metric and its pre-experiment covariate) and
//! `RatioCupedStats` (of a ratio's numerator, denominator and their pre-period values), their
//! scans, and the adjusted tests (pooled theta, merged in the core).

use neyman_core::estimators::cuped::{
    cuped_test as core_cuped_test, ratio_cuped_test as core_ratio_cuped_test, AdjustedTest,
};
use neyman_core::scan::Scanned;
use neyman_core::stats::CoMoments;
use numpy::PyReadonlyArray1;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple, PyType};

use crate::comparison::adjusted_dict;
use crate::convert::{count, finite_matrix, finite_vec, options, Codes};
use crate::errors::{run, run_detached};
use crate::statistic::{same_type, Fields};
use crate::statistic_methods;
use crate::two_variable_stats;

two_variable_stats! {
    /// Statistics of one arm for CUPED: a metric ``y`` and its pre-experiment covariate ``x`` per
    /// unit: the count, the means of ``y`` and ``x``, their co-moments (sums of squared and cross
    /// deviations), and the units left out because a value was NaN.
    ///
    /// Frozen, mergeable (``a.merge(b)``, in the Rust core), picklable; ``from_sums`` takes SQL
    /// aggregates.
    ///
    /// Examples
    /// --------
    /// >>> import neyman
    /// >>> s = neyman.CupedStats.from_sums(
    /// ...     n=4, sum_y=10.0, sum_x=11.0, sum_y_sq=30.0, sum_x_sq=39.0, sum_xy=34.0
    /// ... )
    /// >>> s.mean_y, s.mean_x, s.c_xy
    /// (2.5, 2.75, 6.5)
    CupedStats, "CupedStats",
    fields: (mean_y, mean_x, c_yy, c_xx, c_xy),
    sums: (sum_y, sum_x, sum_y_sq, sum_x_sq, sum_xy)
}

const RATIO_CUPED_NAMES: [&str; 4] = [
    "numerator",
    "denominator",
    "numerator covariate",
    "denominator covariate",
];

/// Statistics of one arm for a CUPED-adjusted ratio metric: numerator, denominator and their
/// pre-period covariates (in that order) per unit: the count, the four means, the 4 x 4 co-moment
/// matrix, and the units left out because a value was NaN.
///
/// Build it with ``from_sums`` from SQL: the count, the four sums, and the 4 x 4 matrix of sums of
/// products (``SUM(a * b)`` for every pair of the four columns). Frozen, mergeable, picklable.
///
/// Examples
/// --------
/// >>> import numpy as np, neyman
/// >>> rng = np.random.default_rng(9)
/// >>> def stats(n, lift):
/// ...     imp_pre = rng.poisson(20, n) + 1.0
/// ...     clk_pre = rng.binomial(imp_pre.astype(int), 0.05) * 1.0
/// ...     imp = imp_pre + rng.poisson(2, n)
/// ...     clk = rng.binomial(imp.astype(int), 0.05 * lift) * 1.0
/// ...     cols = np.column_stack([clk, imp, clk_pre, imp_pre])
/// ...     return neyman.RatioCupedStats.from_sums(n, cols.sum(0), cols.T @ cols)
/// >>> res = neyman.ratio(stats(5000, 1.0), stats(5000, 1.05))
/// >>> res.method, round(res.treatment_value / res.control_value - 1, 3)
/// ('ratio-cuped', 0.053)
#[pyclass(frozen, eq, module = "neyman", name = "RatioCupedStats")]
#[derive(Clone, PartialEq)]
pub struct RatioCupedStats {
    pub inner: CoMoments<4>,
    pub n_nan: u64,
}

impl RatioCupedStats {
    fn from_scan(s: &Scanned<CoMoments<4>>) -> Self {
        RatioCupedStats {
            inner: s.stats,
            n_nan: s.n_nan,
        }
    }

    fn fields<'py>(&self, py: Python<'py>) -> PyResult<Fields<'py>> {
        let c = &self.inner;
        let rows: Vec<Bound<'py, PyTuple>> =
            c.c.iter()
                .map(|r| PyTuple::new(py, r))
                .collect::<PyResult<_>>()?;
        Ok(vec![
            ("n", c.n.into_pyobject(py)?.into_any()),
            ("means", PyTuple::new(py, c.mean)?.into_any()),
            ("comoments", PyTuple::new(py, rows)?.into_any()),
            ("n_nan", self.n_nan.into_pyobject(py)?.into_any()),
        ])
    }
}

fn array4(v: Vec<f64>) -> [f64; 4] {
    std::array::from_fn(|a| v[a])
}

fn matrix4(m: Vec<Vec<f64>>) -> [[f64; 4]; 4] {
    std::array::from_fn(|a| std::array::from_fn(|b| m[a][b]))
}

statistic_methods!(RatioCupedStats, "RatioCupedStats", {
    #[new]
    #[pyo3(signature = (n, means, comoments, n_nan = None))]
    fn new(
        n: &Bound<'_, PyAny>,
        means: &Bound<'_, PyAny>,
        comoments: &Bound<'_, PyAny>,
        n_nan: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let n = count("n", n)?;
        let means = array4(finite_vec("means", means, Some(4))?);
        let c = matrix4(finite_matrix("comoments", comoments, 4)?);
        let n_nan = n_nan.map_or(Ok(0), |v| count("n_nan", v))?;
        let inner = run(|| CoMoments::<4>::from_parts(n, means, c, &RATIO_CUPED_NAMES))?;
        Ok(RatioCupedStats { inner, n_nan })
    }

    /// From a count, the sums of (numerator, denominator, numerator covariate, denominator
    /// covariate), and the 4 x 4 matrix of sums of their products.
    #[classmethod]
    fn from_sums(
        _cls: &Bound<'_, PyType>,
        n: &Bound<'_, PyAny>,
        sums: &Bound<'_, PyAny>,
        products: &Bound<'_, PyAny>,
    ) -> PyResult<Self> {
        let n = count("n", n)?;
        let sums = array4(finite_vec("sums", sums, Some(4))?);
        let products = matrix4(finite_matrix("products", products, 4)?);
        let inner =
            run(|| CoMoments::<4>::from_product_sums(n, &sums, &products, &RATIO_CUPED_NAMES))?;
        Ok(RatioCupedStats { inner, n_nan: 0 })
    }

    /// The statistic of both sets of rows.
    fn merge(&self, other: &Bound<'_, PyAny>) -> PyResult<Self> {
        let o = same_type::<RatioCupedStats>("RatioCupedStats", other)?.get();
        let mut inner = self.inner;
        inner.merge(&o.inner);
        Ok(RatioCupedStats {
            inner,
            n_nan: self.n_nan + o.n_nan,
        })
    }

    /// Number of units.
    #[getter]
    fn n(&self) -> u64 {
        self.inner.n
    }

    /// Means of numerator, denominator, numerator covariate and denominator covariate.
    #[getter]
    fn means(&self) -> (f64, f64, f64, f64) {
        let m = self.inner.mean;
        (m[0], m[1], m[2], m[3])
    }

    /// The 4 x 4 co-moment matrix.
    #[getter]
    fn comoments(&self) -> Vec<Vec<f64>> {
        self.inner.c.iter().map(|r| r.to_vec()).collect()
    }

    /// Rows left out because a value was NaN.
    #[getter]
    fn n_nan(&self) -> u64 {
        self.n_nan
    }
});

/// Per group: the CUPED statistics of (y, x) and the infinite rows.
#[pyfunction]
#[pyo3(signature = (y, x, codes, n_groups, names))]
pub fn scan_cuped(
    py: Python<'_>,
    y: PyReadonlyArray1<'_, f64>,
    x: PyReadonlyArray1<'_, f64>,
    codes: Option<Codes<'_>>,
    n_groups: usize,
    names: (String, String),
) -> PyResult<(Vec<CupedStats>, Vec<u64>)> {
    let nm = [names.0.as_str(), names.1.as_str()];
    let (stats, n_inf, _) =
        crate::comoments::scan::<2>(py, [&y, &x], nm, codes.as_ref(), n_groups, &[])?;
    Ok((stats.iter().map(CupedStats::from_scan).collect(), n_inf))
}

/// Per group: the statistics of (numerator, denominator, numerator covariate, denominator
/// covariate), the infinite rows, and the negative values of each denominator column.
#[pyfunction]
#[pyo3(signature = (cols, codes, n_groups, names))]
pub fn scan_ratio_cuped(
    py: Python<'_>,
    cols: [PyReadonlyArray1<'_, f64>; 4],
    codes: Option<Codes<'_>>,
    n_groups: usize,
    names: [String; 4],
) -> PyResult<(Vec<RatioCupedStats>, Vec<u64>, Vec<u64>)> {
    let nm: [&str; 4] = std::array::from_fn(|a| names[a].as_str());
    let refs: [&PyReadonlyArray1<'_, f64>; 4] = std::array::from_fn(|a| &cols[a]);
    let (stats, n_inf, negative) =
        crate::comoments::scan::<4>(py, refs, nm, codes.as_ref(), n_groups, &[1, 3])?;
    Ok((
        stats.iter().map(RatioCupedStats::from_scan).collect(),
        n_inf,
        negative,
    ))
}

/// CUPED test of a mean (`test`: 'welch' or 'z').
#[pyfunction]
pub fn cuped_test<'py>(
    py: Python<'py>,
    control: &Bound<'py, CupedStats>,
    treatment: &Bound<'py, CupedStats>,
    test: &str,
    opts: (String, f64, String),
) -> PyResult<Bound<'py, PyDict>> {
    let (c, t) = (control.get().inner, treatment.get().inner);
    let opts = options(opts)?;
    let r = run_detached(py, || {
        core_cuped_test(&c, &t, AdjustedTest::parse(test)?, &opts)
    })?;
    adjusted_dict(py, &r, true)
}

/// CUPED test of a ratio metric by its pre-period ratio (normal reference).
#[pyfunction]
pub fn ratio_cuped_test<'py>(
    py: Python<'py>,
    control: &Bound<'py, RatioCupedStats>,
    treatment: &Bound<'py, RatioCupedStats>,
    opts: (String, f64, String),
) -> PyResult<Bound<'py, PyDict>> {
    let (c, t) = (control.get().inner, treatment.get().inner);
    let opts = options(opts)?;
    let r = run_detached(py, || core_ratio_cuped_test(&c, &t, AdjustedTest::Z, &opts))?;
    adjusted_dict(py, &r, true)
}
