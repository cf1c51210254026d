//! Difference in means: `MeanStats` (moments of one arm), the scan that fills them per arm, and the
//! Welch, Student and z tests.

use neyman_core::estimators::means::{mean_test as core_mean_test, MeanTest};
use neyman_core::scan::{named_moments_of, Scanned};
use neyman_core::stats::Moments;
use numpy::PyReadonlyArray1;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyType};

use crate::comparison::comparison_dict;
use crate::convert::{count, finite, nonnegative, options, slice, Codes};
use crate::errors::{run, run_detached};
use crate::statistic::{same_type, Fields};
use crate::statistic_methods;
use crate::with_codes;

/// Moments of one arm for a difference in means: count, mean and M2 (sum of squared deviations
/// from the mean, ``variance * (n - 1)``), and the number of NaN values left out.
///
/// A frozen, mergeable statistic: ``a.merge(b)`` is the statistic of both sets of rows (Chan et al.
/// merge, in the Rust core), it pickles, and ``to_dict()`` shows its numbers. Give the centred form
/// ``MeanStats(n, mean, m2)`` when you can; ``from_sums`` (count, sum, sum of squares, as SQL
/// returns them) loses precision when the mean is large against the spread, and raises
/// ``PrecisionLossError`` when too few digits are left.
///
/// Examples
/// --------
/// >>> import neyman
/// >>> s = neyman.MeanStats.from_sums(n=4, sum=10.0, sum_sq=30.0)
/// >>> s
/// MeanStats(n=4, mean=2.5, m2=5.0)
/// >>> s.merge(neyman.MeanStats(2, 4.0, 2.0)).to_dict()
/// {'n': 6, 'mean': 3.0, 'm2': 10.0, 'n_nan': 0}
#[pyclass(frozen, eq, module = "neyman", name = "MeanStats")]
#[derive(Clone, PartialEq)]
pub struct MeanStats {
    pub inner: Moments,
    pub n_nan: u64,
}

impl MeanStats {
    fn from_scan(s: &Scanned<Moments>) -> Self {
        MeanStats {
            inner: s.stats,
            n_nan: s.n_nan,
        }
    }

    fn fields<'py>(&self, py: Python<'py>) -> PyResult<Fields<'py>> {
        Ok(vec![
            ("n", self.inner.n.into_pyobject(py)?.into_any()),
            ("mean", self.inner.mean.into_pyobject(py)?.into_any()),
            ("m2", self.inner.m2.into_pyobject(py)?.into_any()),
            ("n_nan", self.n_nan.into_pyobject(py)?.into_any()),
        ])
    }
}

statistic_methods!(MeanStats, "MeanStats", {
    #[new]
    #[pyo3(signature = (n, mean, m2, n_nan = None))]
    fn new(
        n: &Bound<'_, PyAny>,
        mean: &Bound<'_, PyAny>,
        m2: &Bound<'_, PyAny>,
        n_nan: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let (n, mean, m2) = (
            count("n", n)?,
            finite("mean", mean)?,
            nonnegative("m2", m2)?,
        );
        let n_nan = n_nan.map_or(Ok(0), |v| count("n_nan", v))?;
        let inner = run(|| Moments::from_parts(n, mean, m2))?;
        Ok(MeanStats { inner, n_nan })
    }

    /// From a count, a sum and a sum of squares (``COUNT(*)``, ``SUM(x)``, ``SUM(x * x)``).
    #[classmethod]
    fn from_sums(
        _cls: &Bound<'_, PyType>,
        n: &Bound<'_, PyAny>,
        sum: &Bound<'_, PyAny>,
        sum_sq: &Bound<'_, PyAny>,
    ) -> PyResult<Self> {
        let (n, sum, sum_sq) = (
            count("n", n)?,
            finite("sum", sum)?,
            finite("sum_sq", sum_sq)?,
        );
        let inner = run(|| Moments::from_sums(n, sum, sum_sq))?;
        Ok(MeanStats { inner, n_nan: 0 })
    }

    /// From a count, a mean and a sample standard deviation (``ddof=1``).
    #[classmethod]
    fn from_mean_std(
        _cls: &Bound<'_, PyType>,
        n: &Bound<'_, PyAny>,
        mean: &Bound<'_, PyAny>,
        std: &Bound<'_, PyAny>,
    ) -> PyResult<Self> {
        let (n, mean, sd) = (
            count("n", n)?,
            finite("mean", mean)?,
            nonnegative("std", std)?,
        );
        let inner = run(|| Moments::from_mean_std(n, mean, sd))?;
        Ok(MeanStats { inner, n_nan: 0 })
    }

    /// The statistic of both sets of rows.
    fn merge(&self, other: &Bound<'_, PyAny>) -> PyResult<Self> {
        let o = same_type::<MeanStats>("MeanStats", other)?.get();
        Ok(MeanStats {
            inner: self.inner.merged(&o.inner),
            n_nan: self.n_nan + o.n_nan,
        })
    }

    /// Number of observations.
    #[getter]
    fn n(&self) -> u64 {
        self.inner.n
    }

    /// Their mean.
    #[getter]
    fn mean(&self) -> f64 {
        self.inner.mean
    }

    /// Sum of squared deviations from the mean.
    #[getter]
    fn m2(&self) -> f64 {
        self.inner.m2
    }

    /// NaN values left out of the moments (``nan_policy`` decides what they mean).
    #[getter]
    fn n_nan(&self) -> u64 {
        self.n_nan
    }

    /// Sample variance (``n - 1`` in the denominator; NaN below two observations).
    #[getter]
    fn variance(&self) -> f64 {
        self.inner.variance()
    }
});

/// Moments per group of `x` (`codes = None`: one group), and the infinite values of each group;
/// `name` is the argument or column, for errors.
#[pyfunction]
#[pyo3(signature = (x, codes, n_groups, name))]
pub fn scan_mean(
    py: Python<'_>,
    x: PyReadonlyArray1<'_, f64>,
    codes: Option<Codes<'_>>,
    n_groups: usize,
    name: &str,
) -> PyResult<(Vec<MeanStats>, Vec<u64>)> {
    let xs = slice(name, &x)?;
    let scanned = with_codes!(codes.as_ref(), g => run_detached(py, || {
        named_moments_of(xs, name, g, n_groups)
    }))?;
    Ok((
        scanned.iter().map(MeanStats::from_scan).collect(),
        scanned.iter().map(|s| s.n_inf).collect(),
    ))
}

/// Difference-in-means test (`test`: 'welch', 'student' or 'z').
#[pyfunction]
pub fn mean_test<'py>(
    py: Python<'py>,
    control: &Bound<'py, MeanStats>,
    treatment: &Bound<'py, MeanStats>,
    test: &str,
    opts: (String, f64, String),
) -> PyResult<Bound<'py, PyDict>> {
    let (c, t) = (control.get().inner, treatment.get().inner);
    let opts = options(opts)?;
    let r = run_detached(py, || core_mean_test(&c, &t, MeanTest::parse(test)?, &opts))?;
    comparison_dict(py, &r)
}
