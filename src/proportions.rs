//! Two proportions: `ProportionStats` (integer counts of one arm), the scan that counts a 0/1
//! column per arm, and the pooled z-test with Newcombe or Wald intervals.

use neyman_core::estimators::proportions::{proportion_test as core_test, ProportionCi};
use neyman_core::scan::{binary_counts_of, ScannedBinary};
use neyman_core::stats::BinaryCounts;
use numpy::PyReadonlyArray1;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyType};

use crate::comparison::comparison_dict;
use crate::convert::{count, options, slice, Codes};
use crate::errors::{run, run_detached};
use crate::statistic::{same_type, Fields};
use crate::statistic_methods;
use crate::with_codes;

/// Counts of one arm for a test of proportions: successes and trials (integers, so nothing is lost
/// however many rows), and the number of NaN values left out.
///
/// Counts may be given as Python or numpy integers, or as floats holding whole numbers (what a
/// pandas sum returns). Frozen, mergeable (``a.merge(b)`` adds the counts), picklable.
///
/// Examples
/// --------
/// >>> import neyman
/// >>> s = neyman.ProportionStats(successes=120, trials=1000)
/// >>> s
/// ProportionStats(successes=120, trials=1000)
/// >>> s.merge(neyman.ProportionStats(30, 500)).proportion
/// 0.1
#[pyclass(frozen, eq, module = "neyman", name = "ProportionStats")]
#[derive(Clone, PartialEq)]
pub struct ProportionStats {
    pub inner: BinaryCounts,
    pub n_nan: u64,
}

impl ProportionStats {
    fn fields<'py>(&self, py: Python<'py>) -> PyResult<Fields<'py>> {
        Ok(vec![
            (
                "successes",
                self.inner.successes.into_pyobject(py)?.into_any(),
            ),
            ("trials", self.inner.trials.into_pyobject(py)?.into_any()),
            ("n_nan", self.n_nan.into_pyobject(py)?.into_any()),
        ])
    }
}

statistic_methods!(ProportionStats, "ProportionStats", {
    #[new]
    #[pyo3(signature = (successes, trials, n_nan = None))]
    fn new(
        successes: &Bound<'_, PyAny>,
        trials: &Bound<'_, PyAny>,
        n_nan: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let (s, t) = (count("successes", successes)?, count("trials", trials)?);
        let n_nan = n_nan.map_or(Ok(0), |v| count("n_nan", v))?;
        if s > t {
            return Err(crate::errors::InputError::new_err(format!(
                "successes == {s} exceeds trials == {t}"
            )));
        }
        let inner = run(|| BinaryCounts::from_parts(s, t))?;
        Ok(ProportionStats { inner, n_nan })
    }

    /// From SQL aggregates: ``COUNT(*)`` and ``SUM(converted)``.
    #[classmethod]
    fn from_sums(
        _cls: &Bound<'_, PyType>,
        n: &Bound<'_, PyAny>,
        sum: &Bound<'_, PyAny>,
    ) -> PyResult<Self> {
        let (t, s) = (count("n", n)?, count("sum", sum)?);
        let inner = run(|| BinaryCounts::from_parts(s, t))?;
        Ok(ProportionStats { inner, n_nan: 0 })
    }

    /// The counts of both sets of rows.
    fn merge(&self, other: &Bound<'_, PyAny>) -> PyResult<Self> {
        let o = same_type::<ProportionStats>("ProportionStats", other)?.get();
        let mut inner = self.inner;
        inner.merge(&o.inner);
        Ok(ProportionStats {
            inner,
            n_nan: self.n_nan + o.n_nan,
        })
    }

    /// Number of successes (ones).
    #[getter]
    fn successes(&self) -> u64 {
        self.inner.successes
    }

    /// Number of trials.
    #[getter]
    fn trials(&self) -> u64 {
        self.inner.trials
    }

    /// Number of observations (the trials).
    #[getter]
    fn n(&self) -> u64 {
        self.inner.trials
    }

    /// NaN values left out of the counts.
    #[getter]
    fn n_nan(&self) -> u64 {
        self.n_nan
    }

    /// ``successes / trials`` (NaN without trials).
    #[getter]
    fn proportion(&self) -> f64 {
        if self.inner.trials == 0 {
            f64::NAN
        } else {
            self.inner.successes as f64 / self.inner.trials as f64
        }
    }
});

/// Counts per group of a 0/1 column, and per group the infinite values and the finite values that
/// are neither 0 nor 1.
#[pyfunction]
#[pyo3(signature = (x, codes, n_groups))]
pub fn scan_proportion(
    py: Python<'_>,
    x: PyReadonlyArray1<'_, f64>,
    codes: Option<Codes<'_>>,
    n_groups: usize,
) -> PyResult<(Vec<ProportionStats>, Vec<u64>, Vec<u64>)> {
    let xs = slice("x", &x)?;
    let scanned: Vec<ScannedBinary> =
        with_codes!(codes.as_ref(), g => run_detached(py, || binary_counts_of(xs, g, n_groups)))?;
    Ok((
        scanned
            .iter()
            .map(|s| ProportionStats {
                inner: s.stats,
                n_nan: s.n_nan,
            })
            .collect(),
        scanned.iter().map(|s| s.n_inf).collect(),
        scanned.iter().map(|s| s.n_invalid).collect(),
    ))
}

/// Two-proportion test (`ci_method`: 'newcombe' or 'wald').
#[pyfunction]
pub fn proportion_test<'py>(
    py: Python<'py>,
    control: &Bound<'py, ProportionStats>,
    treatment: &Bound<'py, ProportionStats>,
    ci_method: &str,
    opts: (String, f64, String),
) -> PyResult<Bound<'py, PyDict>> {
    let (c, t) = (control.get().inner, treatment.get().inner);
    let opts = options(opts)?;
    let r = run_detached(py, || {
        core_test(&c, &t, ProportionCi::parse(ci_method)?, &opts)
    })?;
    comparison_dict(py, &r)
}
