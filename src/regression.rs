//! Regression adjustment (Lin 2013) and post-stratification: `RegressionStats` (per-arm sums from
//! SQL), the fit on rows (three mergeable passes in the core), and the fit from sums.

use neyman_core::estimators::regression::{fit_from_sums, regression_adjust, Design};
use neyman_core::inference::{compare_fit, Adjusted, CovType, Fit};
use neyman_core::stats::RegressionSums;
use neyman_core::NeymanError;
use numpy::PyReadonlyArray1;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple};

use crate::comparison::adjusted_dict;
use crate::convert::{count, finite, finite_vec, named_slices, nonnegative, options, slice};
use crate::errors::{input_error, run, run_detached, InputError, InputTypeError};
use crate::statistic::{same_type, Fields};
use crate::statistic_methods;

/// Pre-aggregated sums of one arm for regression adjustment, e.g. from SQL.
///
/// Parameters
/// ----------
/// n : int
///     Units.
/// sum_y, sum_y_sq : float
///     ``SUM(y)`` and ``SUM(y * y)``.
/// sum_x : sequence of float
///     ``SUM(x_j)`` for each covariate.
/// sum_xy : sequence of float
///     ``SUM(y * x_j)``.
/// sum_xx : sequence of sequences of float
///     ``SUM(x_i * x_j)`` (symmetric, k x k).
/// covariates : sequence of str
///     Covariate names, in the order of the sums.
///
/// Frozen, mergeable (``a.merge(b)`` adds the sums of two sets of rows with the same covariates),
/// picklable.
///
/// Examples
/// --------
/// >>> import numpy as np, neyman
/// >>> rng = np.random.default_rng(8)
/// >>> def sums(y, x):
/// ...     return neyman.RegressionStats(len(y), y.sum(), (y * y).sum(), [x.sum()],
/// ...                                   [(x * y).sum()], [[(x * x).sum()]], ["x"])
/// >>> x_c, x_t = rng.normal(0, 1, 3000), rng.normal(0, 1, 3000)
/// >>> y_c, y_t = x_c + rng.normal(0, 1, 3000), x_t + 0.1 + rng.normal(0, 1, 3000)
/// >>> res = neyman.regression_adjust({"c": sums(y_c, x_c), "t": sums(y_t, x_t)}, control="c")
/// >>> round(res[0].effect, 3), round(res[0].variance_ratio, 2)
/// (0.101, 0.5)
#[pyclass(frozen, eq, module = "neyman", name = "RegressionStats")]
#[derive(Clone, PartialEq)]
pub struct RegressionStats {
    pub inner: RegressionSums,
    pub covariates: Vec<String>,
}

impl RegressionStats {
    fn fields<'py>(&self, py: Python<'py>) -> PyResult<Fields<'py>> {
        let s = &self.inner;
        let rows: Vec<Bound<'py, PyTuple>> = s
            .sum_xx
            .iter()
            .map(|r| PyTuple::new(py, r))
            .collect::<PyResult<_>>()?;
        Ok(vec![
            ("n", s.n.into_pyobject(py)?.into_any()),
            ("sum_y", s.sum_y.into_pyobject(py)?.into_any()),
            ("sum_y_sq", s.sum_y_sq.into_pyobject(py)?.into_any()),
            ("sum_x", PyTuple::new(py, &s.sum_x)?.into_any()),
            ("sum_xy", PyTuple::new(py, &s.sum_xy)?.into_any()),
            ("sum_xx", PyTuple::new(py, rows)?.into_any()),
            ("covariates", PyTuple::new(py, &self.covariates)?.into_any()),
        ])
    }
}

fn covariate_names(obj: &Bound<'_, PyAny>) -> PyResult<Vec<String>> {
    let refuse = || {
        InputTypeError::new_err(format!(
            "covariates must be a column name or a list of column names, got {}",
            obj.repr().map(|r| r.to_string()).unwrap_or_default()
        ))
    };
    if let Ok(s) = obj.extract::<String>() {
        return Ok(vec![s]);
    }
    let items: Vec<Bound<'_, PyAny>> = obj
        .try_iter()
        .map_err(|_| refuse())?
        .collect::<PyResult<_>>()?;
    let names = items
        .iter()
        .map(|v| v.extract::<String>().map_err(|_| refuse()))
        .collect::<PyResult<Vec<_>>>()?;
    if names.is_empty() {
        return Err(input_error(
            "covariates",
            "at least one covariate is needed",
        ));
    }
    Ok(names)
}

fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("{n} {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

statistic_methods!(RegressionStats, "RegressionStats", {
    #[new]
    #[pyo3(signature = (n, sum_y, sum_y_sq, sum_x, sum_xy, sum_xx, covariates))]
    fn new(
        n: &Bound<'_, PyAny>,
        sum_y: &Bound<'_, PyAny>,
        sum_y_sq: &Bound<'_, PyAny>,
        sum_x: &Bound<'_, PyAny>,
        sum_xy: &Bound<'_, PyAny>,
        sum_xx: &Bound<'_, PyAny>,
        covariates: &Bound<'_, PyAny>,
    ) -> PyResult<Self> {
        let n = count("n", n)?;
        let sum_y = finite("sum_y", sum_y)?;
        let sum_y_sq = nonnegative("sum_y_sq", sum_y_sq)?;
        let covariates = covariate_names(covariates)?;
        let k = covariates.len();
        let vector = |name: &str, obj: &Bound<'_, PyAny>| -> PyResult<Vec<f64>> {
            let v = finite_vec(name, obj, None)?;
            if v.len() != k {
                return Err(InputError::new_err(format!(
                    "{name} has {} for {}",
                    plural(v.len(), "value"),
                    plural(k, "covariate")
                )));
            }
            Ok(v)
        };
        let sum_x = vector("sum_x", sum_x)?;
        let sum_xy = vector("sum_xy", sum_xy)?;
        let matrix_error = || InputError::new_err(format!("sum_xx must be a {k} x {k} matrix"));
        let rows: Vec<Bound<'_, PyAny>> = sum_xx
            .try_iter()
            .map_err(|_| matrix_error())?
            .collect::<PyResult<_>>()?;
        if rows.len() != k {
            return Err(matrix_error());
        }
        let sum_xx = rows
            .iter()
            .map(|r| {
                let v = finite_vec("sum_xx", r, None)?;
                if v.len() == k {
                    Ok(v)
                } else {
                    Err(matrix_error())
                }
            })
            .collect::<PyResult<Vec<_>>>()?;
        let inner = run(|| RegressionSums::from_parts(n, sum_y, sum_y_sq, sum_x, sum_xy, sum_xx))?;
        Ok(RegressionStats { inner, covariates })
    }

    /// The sums of both sets of rows (the covariates must match).
    fn merge(&self, other: &Bound<'_, PyAny>) -> PyResult<Self> {
        let o = same_type::<RegressionStats>("RegressionStats", other)?.get();
        if o.covariates != self.covariates {
            return Err(input_error(
                "other",
                format!(
                    "covariates {:?} differ from {:?}; only sums of the same covariates merge",
                    o.covariates, self.covariates
                ),
            ));
        }
        let mut inner = self.inner.clone();
        run(|| inner.merge(&o.inner))?;
        Ok(RegressionStats {
            inner,
            covariates: self.covariates.clone(),
        })
    }

    #[getter]
    fn n(&self) -> u64 {
        self.inner.n
    }

    #[getter]
    fn sum_y(&self) -> f64 {
        self.inner.sum_y
    }

    #[getter]
    fn sum_y_sq(&self) -> f64 {
        self.inner.sum_y_sq
    }

    #[getter]
    fn sum_x(&self) -> Vec<f64> {
        self.inner.sum_x.clone()
    }

    #[getter]
    fn sum_xy(&self) -> Vec<f64> {
        self.inner.sum_xy.clone()
    }

    #[getter]
    fn sum_xx(&self) -> Vec<Vec<f64>> {
        self.inner.sum_xx.clone()
    }

    #[getter]
    fn covariates(&self) -> Vec<String> {
        self.covariates.clone()
    }
});

/// Regression adjustment of `y` by numeric and categorical covariates; one dict per treatment arm
/// (codes `1..n_arms`) against the control (code 0), with the fit's counts. `arms` is the arm code
/// of each row with the arms' labels; `model` is
/// `(interacted, cov_type)`: Lin's interacted model or the additive one, and 'HC0', 'HC1' or 'HC2'.
#[pyfunction]
pub fn regression_test<'py>(
    py: Python<'py>,
    y: PyReadonlyArray1<'_, f64>,
    numeric: Vec<(String, PyReadonlyArray1<'_, f64>)>,
    categorical: Vec<(String, PyReadonlyArray1<'_, i32>, Vec<String>)>,
    arms: (PyReadonlyArray1<'_, i32>, Vec<String>),
    model: (bool, String),
    opts: (String, f64, String),
) -> PyResult<Bound<'py, PyDict>> {
    let ys = slice("y", &y)?;
    let num = named_slices(&numeric)?;
    let cat = categorical
        .iter()
        .map(|(n, a, l)| Ok((n.as_str(), crate::convert::contiguous(a)?, l.len())))
        .collect::<PyResult<Vec<_>>>()?;
    let (arms, arm_labels) = arms;
    let g = crate::convert::contiguous(&arms)?;
    let level_names: Vec<Vec<String>> = categorical.iter().map(|(_, _, l)| l.clone()).collect();
    let opts = options(opts)?;
    let (interacted, cov_type) = model;
    let (fit, results) = run_detached(py, || {
        let design = Design {
            y: ys,
            numeric: num,
            categorical: cat,
            level_names,
            arms: g,
            n_arms: arm_labels.len(),
            interacted,
            cov_type: CovType::parse(&cov_type)?,
        };
        let fit = regression_adjust(&design, &arm_labels)?;
        let results = compare_all(&fit, arm_labels.len(), &opts)?;
        Ok((fit, results))
    })?;
    fit_dict(py, &fit, &results)
}

/// Regression adjustment from per-arm `RegressionStats`; arm 0 is the control. Same output as
/// `regression_test`.
#[pyfunction]
pub fn regression_from_stats<'py>(
    py: Python<'py>,
    arms: Vec<Bound<'py, RegressionStats>>,
    arm_labels: Vec<String>,
    opts: (String, f64, String),
) -> PyResult<Bound<'py, PyDict>> {
    let sums: Vec<RegressionSums> = arms.iter().map(|a| a.get().inner.clone()).collect();
    let names = arms
        .first()
        .map(|a| a.get().covariates.clone())
        .unwrap_or_default();
    let opts = options(opts)?;
    let (fit, results) = run_detached(py, || {
        let fit = fit_from_sums(&sums, &names, &arm_labels)?;
        let results = compare_all(&fit, arm_labels.len(), &opts)?;
        Ok((fit, results))
    })?;
    fit_dict(py, &fit, &results)
}

fn compare_all(
    fit: &Fit,
    n_arms: usize,
    opts: &neyman_core::inference::Options,
) -> Result<Vec<Adjusted>, NeymanError> {
    (1..n_arms).map(|k| compare_fit(fit, k, opts)).collect()
}

pub fn fit_dict<'py>(
    py: Python<'py>,
    fit: &Fit,
    results: &[Adjusted],
) -> PyResult<Bound<'py, PyDict>> {
    let out = PyDict::new(py);
    let comparisons = PyList::empty(py);
    for r in results {
        comparisons.append(adjusted_dict(py, r, false)?)?;
    }
    out.set_item("comparisons", comparisons)?;
    out.set_item("n", fit.n.clone())?;
    out.set_item("n_incomplete", fit.n_incomplete.clone())?;
    out.set_item("n_inf", fit.n_inf.clone())?;
    out.set_item("n_params", fit.p)?;
    Ok(out)
}
