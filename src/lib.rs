//! The compiled surface of neyman: `neyman._neyman`.
//!
//! Bindings only. Each function converts its arguments, runs the core with the GIL released through
//! [`run_detached`] (which also turns a panic into an exception), and maps [`NeymanError`] to the
//! exception hierarchy declared once in `neyman/errors.py`. Statistics live in `neyman-core`.
//!
//! | function | core |
//! | --- | --- |
//! | `moments`, `grouped_moments`, `moments_from_sums` | `moments` |
//! | `grouped_comoments`, `comoments2_from_sums`, `comoments4_from_sums` | `comoments` |
//! | `cuped_test` | `cuped` |
//! | `regression_test`, `regression_from_sums` | `regression` |
//! | `grouped_binary_counts` | `proportions::binary_counts_of` |
//! | `mean_test`, `proportion_test`, `ratio_test`, `srm_test` | `means`, `proportions`, `ratio`, `srm` |
//! | `get_num_threads`, `set_num_threads`, `floor_sum` | `parallel` |
//! | `code_summary` | `codes` |
//!
//! At import, the module installs a check for pending Python signals that long reductions call
//! between batches of blocks, so Ctrl-C stops them with `KeyboardInterrupt`.

use neyman_core::codes::{code_summary as core_code_summary, Code};
use neyman_core::comoments::{grouped_comoments_counting, CoMoments};
use neyman_core::cuped::{
    cuped_test as core_cuped_test, linearize_mean, linearize_ratio, AdjustedTest, Linearized,
};
use neyman_core::inference::{Alternative, Comparison, Options, RelativeCi};
use neyman_core::means::{mean_test as core_mean_test, MeanTest};
use neyman_core::moments::{grouped_moments_of, moments_of, Moments, SliceMoments};
use neyman_core::proportions::{
    binary_counts_of, proportion_test as core_proportion_test, Counts, ProportionCi,
};
use neyman_core::regression::{
    compare_fit, fit_from_sums, regression_adjust, ArmSums, CovType, Design,
};
use neyman_core::{parallel, ratio, srm, NeymanError};
use numpy::PyReadonlyArray1;
use pyo3::exceptions::{PyKeyboardInterrupt, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;

mod post_stratification;

/// Map a core error to the matching class of `neyman.errors`.
fn to_pyerr(py: Python<'_>, e: NeymanError) -> PyErr {
    let class = match e {
        NeymanError::InvalidArgument { .. } => "InputError",
        NeymanError::TooFewObservations { .. } => "InsufficientDataError",
        NeymanError::ZeroVariance { .. } => "ZeroVarianceError",
        NeymanError::LengthMismatch { .. } => "LengthMismatchError",
        NeymanError::Interrupted => return PyKeyboardInterrupt::new_err("interrupted"),
    };
    let msg = e.to_string();
    match py
        .import("neyman.errors")
        .and_then(|m| m.getattr(class))
        .and_then(|cls| cls.call1((msg.clone(),)))
    {
        Ok(exc) => PyErr::from_value(exc),
        Err(_) => PyValueError::new_err(msg),
    }
}

/// Whether Python has a pending signal whose handler raises (Ctrl-C): the interrupt check of long
/// reductions, called between batches of blocks on the thread that released the GIL.
fn python_interrupted() -> bool {
    Python::attach(|py| py.check_signals().is_err())
}

/// Run `f` without the GIL; map its error, and turn a panic into a Python exception.
pub(crate) fn run_detached<T, F>(py: Python<'_>, f: F) -> PyResult<T>
where
    F: FnOnce() -> Result<T, NeymanError> + Send,
    T: Send,
{
    let out = py.detach(|| std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)));
    match out {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(to_pyerr(py, e)),
        Err(_) => Err(PyRuntimeError::new_err(
            "internal error in neyman's Rust core (a bug: please report it with the input that caused it)",
        )),
    }
}

pub(crate) fn slice<'a>(name: &str, a: &'a PyReadonlyArray1<'_, f64>) -> PyResult<&'a [f64]> {
    a.as_slice()
        .map_err(|_| PyValueError::new_err(format!("{name}: array must be C-contiguous")))
}

/// Group codes as the caller's integer array (int8 to int64), read in place.
#[derive(FromPyObject)]
enum Codes<'py> {
    I8(PyReadonlyArray1<'py, i8>),
    I16(PyReadonlyArray1<'py, i16>),
    I32(PyReadonlyArray1<'py, i32>),
    I64(PyReadonlyArray1<'py, i64>),
}

fn contiguous<'a, T: numpy::Element>(a: &'a PyReadonlyArray1<'_, T>) -> PyResult<&'a [T]> {
    a.as_slice()
        .map_err(|_| PyValueError::new_err("codes: array must be C-contiguous"))
}

/// Run `$body` with `$g` bound to the codes as `Option<&[C]>` for the array's integer type.
macro_rules! with_codes {
    ($codes:expr, $g:ident => $body:expr) => {
        match $codes {
            None => {
                let $g: Option<&[i32]> = None;
                $body
            }
            Some(Codes::I8(a)) => {
                let $g = Some(contiguous(a)?);
                $body
            }
            Some(Codes::I16(a)) => {
                let $g = Some(contiguous(a)?);
                $body
            }
            Some(Codes::I32(a)) => {
                let $g = Some(contiguous(a)?);
                $body
            }
            Some(Codes::I64(a)) => {
                let $g = Some(contiguous(a)?);
                $body
            }
        }
    };
}

type MomentsTuple = (u64, f64, f64, u64, u64);

fn moments_tuple(s: &SliceMoments) -> MomentsTuple {
    (s.moments.n, s.moments.mean, s.moments.m2, s.n_nan, s.n_inf)
}

type BinaryTuple = (u64, u64, u64, u64, u64);

pub(crate) fn options(
    alternative: &str,
    confidence_level: f64,
    relative_ci: &str,
) -> Result<Options, NeymanError> {
    Ok(Options {
        alternative: Alternative::parse(alternative)?,
        confidence_level,
        relative_ci: RelativeCi::parse(relative_ci)?,
    })
}

fn comparison_dict<'py>(py: Python<'py>, r: &Comparison) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("control_value", r.control_value)?;
    d.set_item("treatment_value", r.treatment_value)?;
    d.set_item("effect", r.effect)?;
    d.set_item("se", r.se)?;
    d.set_item("ci_low", r.ci_low)?;
    d.set_item("ci_high", r.ci_high)?;
    d.set_item("rel_effect", r.relative.effect)?;
    d.set_item("rel_se", r.relative.se)?;
    d.set_item("rel_ci_low", r.relative.ci_low)?;
    d.set_item("rel_ci_high", r.relative.ci_high)?;
    d.set_item("statistic", r.statistic)?;
    d.set_item("pvalue", r.pvalue)?;
    d.set_item("df", r.df)?;
    d.set_item("n_control", r.n_control)?;
    d.set_item("n_treatment", r.n_treatment)?;
    Ok(d)
}

/// Moments of the finite values: `(n, mean, m2, n_nan, n_inf)`.
#[pyfunction]
fn moments(py: Python<'_>, x: PyReadonlyArray1<'_, f64>) -> PyResult<MomentsTuple> {
    let xs = slice("x", &x)?;
    run_detached(py, || moments_of(xs).map(|s| moments_tuple(&s)))
}

/// Per-group moments; `codes[i] < 0` skips row `i`.
#[pyfunction]
fn grouped_moments(
    py: Python<'_>,
    x: PyReadonlyArray1<'_, f64>,
    codes: Codes<'_>,
    n_groups: usize,
) -> PyResult<Vec<MomentsTuple>> {
    let xs = slice("x", &x)?;
    let codes = Some(&codes);
    with_codes!(codes, g => run_detached(py, || {
        let g = g.unwrap_or_default();
        grouped_moments_of(xs, g, n_groups).map(|v| v.iter().map(moments_tuple).collect())
    }))
}

/// `(n, mean, m2)` from a count, a sum and a sum of squares.
#[pyfunction]
fn moments_from_sums(py: Python<'_>, n: u64, sum: f64, sum_sq: f64) -> PyResult<(u64, f64, f64)> {
    run_detached(py, || {
        Moments::from_sums(n, sum, sum_sq).map(|m| (m.n, m.mean, m.m2))
    })
}

/// Per-group co-moments of 1 to 4 columns: `(n, means, comoment matrix, n_nan, n_inf)` per group,
/// and the number of values below zero in each column listed in `nonnegative`.
#[pyfunction]
#[pyo3(signature = (cols, codes, n_groups, names, nonnegative = Vec::new()))]
fn grouped_comoments(
    py: Python<'_>,
    cols: Vec<PyReadonlyArray1<'_, f64>>,
    codes: Option<Codes<'_>>,
    n_groups: usize,
    names: Vec<String>,
    nonnegative: Vec<usize>,
) -> PyResult<(Vec<CoMomentsRow>, Vec<u64>)> {
    if cols.len() != names.len() {
        return Err(PyValueError::new_err(
            "names: one name per column is needed",
        ));
    }
    let slices = cols
        .iter()
        .zip(&names)
        .map(|(c, n)| slice(n, c))
        .collect::<PyResult<Vec<&[f64]>>>()?;
    let nm: Vec<&str> = names.iter().map(String::as_str).collect();
    let nn = nonnegative.as_slice();
    with_codes!(codes.as_ref(), g => run_detached(py, || match slices.len() {
        1 => kernel::<1, _>(&slices, &nm, g, n_groups, nn),
        2 => kernel::<2, _>(&slices, &nm, g, n_groups, nn),
        3 => kernel::<3, _>(&slices, &nm, g, n_groups, nn),
        4 => kernel::<4, _>(&slices, &nm, g, n_groups, nn),
        k => Err(NeymanError::invalid(
            "cols",
            format!("{k} columns; 1 to 4 are supported"),
        )),
    }))
}

type CoMomentsRow = (u64, Vec<f64>, Vec<Vec<f64>>, u64, u64);

/// `(n, means, comoment matrix)` of one arm, as Python passes it.
type CoMomentsArg = (u64, Vec<f64>, Vec<Vec<f64>>);

fn kernel<const K: usize, C: Code>(
    slices: &[&[f64]],
    names: &[&str],
    codes: Option<&[C]>,
    n_groups: usize,
    nonnegative: &[usize],
) -> Result<(Vec<CoMomentsRow>, Vec<u64>), NeymanError> {
    let cols: [&[f64]; K] = std::array::from_fn(|a| slices[a]);
    let nm: [&str; K] = std::array::from_fn(|a| names[a]);
    let (stats, negative) = grouped_comoments_counting(&cols, &nm, codes, n_groups, nonnegative)?;
    let rows = stats
        .iter()
        .map(|s| {
            let c = &s.comoments;
            (
                c.n,
                c.mean.to_vec(),
                c.c.iter().map(|r| r.to_vec()).collect(),
                s.n_nan,
                s.n_inf,
            )
        })
        .collect();
    Ok((rows, negative))
}

fn comoments_from<const K: usize>(
    arg: &str,
    t: &CoMomentsArg,
) -> Result<CoMoments<K>, NeymanError> {
    let (n, mean, c) = t;
    if mean.len() != K || c.len() != K || c.iter().any(|r| r.len() != K) {
        return Err(NeymanError::invalid(
            arg,
            format!("statistics must describe {K} variables"),
        ));
    }
    Ok(CoMoments {
        n: *n,
        mean: std::array::from_fn(|a| mean[a]),
        c: std::array::from_fn(|a| std::array::from_fn(|b| c[a][b])),
    })
}

/// `(n, mean_x, mean_y, cxx, cyy, cxy)` from pre-aggregated sums; `names` are the caller's names of
/// the sums of squares and the cross-sum, for errors.
#[pyfunction]
#[pyo3(signature = (n, sum_x, sum_y, sum_xx, sum_yy, sum_xy, names = ("sum_x_sq".to_string(), "sum_y_sq".to_string(), "sum_xy".to_string())))]
fn comoments2_from_sums(
    py: Python<'_>,
    n: u64,
    sum_x: f64,
    sum_y: f64,
    sum_xx: f64,
    sum_yy: f64,
    sum_xy: f64,
    names: (String, String, String),
) -> PyResult<(u64, f64, f64, f64, f64, f64)> {
    run_detached(py, || {
        let nm = [names.0.as_str(), names.1.as_str(), names.2.as_str()];
        CoMoments::<2>::from_sums(n, (sum_x, sum_y, sum_xx, sum_yy, sum_xy), nm)
            .map(|c| (c.n, c.mean[0], c.mean[1], c.c[0][0], c.c[1][1], c.c[0][1]))
    })
}

/// `(n, means, comoment matrix)` of 4 variables from a count, their sums and the matrix of sums of
/// products (ratio CUPED from SQL aggregates).
#[pyfunction]
fn comoments4_from_sums(
    py: Python<'_>,
    n: u64,
    sums: [f64; 4],
    products: [[f64; 4]; 4],
    names: [String; 4],
) -> PyResult<CoMomentsArg> {
    run_detached(py, || {
        let nm: [&str; 4] = std::array::from_fn(|a| names[a].as_str());
        CoMoments::<4>::from_product_sums(n, &sums, &products, &nm).map(|c| {
            (
                c.n,
                c.mean.to_vec(),
                c.c.iter().map(|r| r.to_vec()).collect(),
            )
        })
    })
}

/// Per-group `(trials, successes, n_nan, n_inf, n_invalid)` of a 0/1 column.
#[pyfunction]
#[pyo3(signature = (x, codes, n_groups))]
fn grouped_binary_counts(
    py: Python<'_>,
    x: PyReadonlyArray1<'_, f64>,
    codes: Option<Codes<'_>>,
    n_groups: usize,
) -> PyResult<Vec<BinaryTuple>> {
    let xs = slice("x", &x)?;
    with_codes!(codes.as_ref(), g => run_detached(py, || {
        binary_counts_of(xs, g, n_groups).map(|v| {
            v.iter()
                .map(|b| (b.trials, b.successes, b.n_nan, b.n_inf, b.n_invalid))
                .collect()
        })
    }))
}

/// Difference-in-means test from `(n, mean, m2)` of each arm.
#[pyfunction]
fn mean_test<'py>(
    py: Python<'py>,
    control: (u64, f64, f64),
    treatment: (u64, f64, f64),
    test: &str,
    alternative: &str,
    confidence_level: f64,
    relative_ci: &str,
) -> PyResult<Bound<'py, PyDict>> {
    let as_m = |t: (u64, f64, f64)| Moments {
        n: t.0,
        mean: t.1,
        m2: t.2,
    };
    let (c, t) = (as_m(control), as_m(treatment));
    let r = run_detached(py, || {
        let kind = match test {
            "welch" => MeanTest::Welch,
            "student" => MeanTest::Student,
            "z" => MeanTest::Z,
            _ => {
                return Err(NeymanError::invalid(
                    "test",
                    format!("{test:?} is not one of 'welch', 'student', 'z'"),
                ))
            }
        };
        core_mean_test(
            &c,
            &t,
            kind,
            &options(alternative, confidence_level, relative_ci)?,
        )
    })?;
    comparison_dict(py, &r)
}

/// Two-proportion test from `(successes, trials)` of each arm.
#[pyfunction]
fn proportion_test<'py>(
    py: Python<'py>,
    control: (f64, u64),
    treatment: (f64, u64),
    ci_method: &str,
    alternative: &str,
    confidence_level: f64,
    relative_ci: &str,
) -> PyResult<Bound<'py, PyDict>> {
    let c = Counts {
        successes: control.0,
        trials: control.1,
    };
    let t = Counts {
        successes: treatment.0,
        trials: treatment.1,
    };
    let r = run_detached(py, || {
        core_proportion_test(
            &c,
            &t,
            ProportionCi::parse(ci_method)?,
            &options(alternative, confidence_level, relative_ci)?,
        )
    })?;
    comparison_dict(py, &r)
}

/// Ratio-metric test from `(n, mean_x, mean_y, cxx, cyy, cxy)` of each arm.
#[pyfunction]
fn ratio_test<'py>(
    py: Python<'py>,
    control: (u64, f64, f64, f64, f64, f64),
    treatment: (u64, f64, f64, f64, f64, f64),
    alternative: &str,
    confidence_level: f64,
    relative_ci: &str,
) -> PyResult<Bound<'py, PyDict>> {
    let as_c = |t: (u64, f64, f64, f64, f64, f64)| CoMoments::<2> {
        n: t.0,
        mean: [t.1, t.2],
        c: [[t.3, t.5], [t.5, t.4]],
    };
    let (c, t) = (as_c(control), as_c(treatment));
    let r = run_detached(py, || {
        ratio::ratio_test(
            &c,
            &t,
            &options(alternative, confidence_level, relative_ci)?,
        )
    })?;
    comparison_dict(py, &r)
}

/// CUPED comparison from per-arm co-moments `(n, means, comoment matrix)` of (y, x) for
/// `kind = "mean"` or of (num, den, num_cov, den_cov) for `kind = "ratio"`.
#[pyfunction]
fn cuped_test<'py>(
    py: Python<'py>,
    kind: &str,
    control: CoMomentsArg,
    treatment: CoMomentsArg,
    test: &str,
    alternative: &str,
    confidence_level: f64,
    relative_ci: &str,
) -> PyResult<Bound<'py, PyDict>> {
    let r = run_detached(py, || {
        let lin = |arg: &str,
                   t: &CoMomentsArg,
                   other: Option<&CoMomentsArg>|
         -> Result<Linearized, NeymanError> {
            match kind {
                "mean" => {
                    let mut s = comoments_from::<2>(arg, t)?;
                    if let Some(o) = other {
                        s.merge(&comoments_from::<2>(arg, o)?);
                    }
                    linearize_mean(arg, &s)
                }
                "ratio" => {
                    let mut s = comoments_from::<4>(arg, t)?;
                    if let Some(o) = other {
                        s.merge(&comoments_from::<4>(arg, o)?);
                    }
                    linearize_ratio(arg, &s)
                }
                _ => Err(NeymanError::invalid(
                    "kind",
                    format!("{kind:?} is not one of 'mean', 'ratio'"),
                )),
            }
        };
        let test = match test {
            "welch" => AdjustedTest::Welch,
            "z" => AdjustedTest::Z,
            _ => {
                return Err(NeymanError::invalid(
                    "test",
                    format!("{test:?} is not one of 'welch', 'z'"),
                ))
            }
        };
        let c = lin("control", &control, None)?;
        let t = lin("treatment", &treatment, None)?;
        let p = lin("control, treatment", &control, Some(&treatment))?;
        core_cuped_test(
            &c,
            &t,
            &p,
            test,
            &options(alternative, confidence_level, relative_ci)?,
        )
    })?;
    let d = comparison_dict(py, &r.adjusted)?;
    d.set_item("theta", r.theta)?;
    d.set_item("variance_ratio", r.variance_ratio)?;
    d.set_item("unadjusted", comparison_dict(py, &r.unadjusted)?)?;
    Ok(d)
}

/// Regression adjustment (Lin 2013 or additive) of `y` by numeric and categorical covariates; one
/// dict per treatment arm (codes `1..n_arms`) against the control (code 0), with the fit's counts.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
fn regression_test<'py>(
    py: Python<'py>,
    y: PyReadonlyArray1<'_, f64>,
    numeric: Vec<(String, PyReadonlyArray1<'_, f64>)>,
    categorical: Vec<(String, PyReadonlyArray1<'_, i32>, Vec<String>)>,
    arms: PyReadonlyArray1<'_, i32>,
    arm_labels: Vec<String>,
    interacted: bool,
    cov_type: &str,
    alternative: &str,
    confidence_level: f64,
    relative_ci: &str,
) -> PyResult<Bound<'py, PyDict>> {
    let ys = slice("y", &y)?;
    let num = numeric
        .iter()
        .map(|(n, a)| Ok((n.as_str(), slice(n, a)?)))
        .collect::<PyResult<Vec<_>>>()?;
    let cat = categorical
        .iter()
        .map(|(n, a, l)| {
            let c = a
                .as_slice()
                .map_err(|_| PyValueError::new_err(format!("{n}: array must be C-contiguous")))?;
            Ok((n.as_str(), c, l.len()))
        })
        .collect::<PyResult<Vec<_>>>()?;
    let g = arms
        .as_slice()
        .map_err(|_| PyValueError::new_err("arms: array must be C-contiguous"))?;
    let level_names: Vec<Vec<String>> = categorical.iter().map(|(_, _, l)| l.clone()).collect();
    let (fit, results) = run_detached(py, || {
        let design = Design {
            y: ys,
            numeric: num,
            categorical: cat,
            level_names,
            arms: g,
            n_arms: arm_labels.len(),
            interacted,
            cov_type: CovType::parse(cov_type)?,
        };
        let opts = options(alternative, confidence_level, relative_ci)?;
        let fit = regression_adjust(&design, &arm_labels)?;
        let results = (1..arm_labels.len())
            .map(|k| compare_fit(&fit, k, &opts))
            .collect::<Result<Vec<_>, NeymanError>>()?;
        Ok((fit, results))
    })?;
    fit_dict(py, &fit, &results)
}

/// Regression adjustment from per-arm sums `(n, sum_y, sum_y_sq, sum_x, sum_xy, sum_xx)`; arm 0 is
/// the control. Same output as `regression_test`.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
fn regression_from_sums<'py>(
    py: Python<'py>,
    arms: Vec<ArmSumsArg>,
    arm_labels: Vec<String>,
    covariates: Vec<String>,
    alternative: &str,
    confidence_level: f64,
    relative_ci: &str,
) -> PyResult<Bound<'py, PyDict>> {
    let (fit, results) = run_detached(py, || {
        let sums: Vec<ArmSums> = arms
            .into_iter()
            .map(|(n, sum_y, sum_y_sq, sum_x, sum_xy, sum_xx)| ArmSums {
                n,
                sum_y,
                sum_y_sq,
                sum_x,
                sum_xy,
                sum_xx,
            })
            .collect();
        let opts = options(alternative, confidence_level, relative_ci)?;
        let fit = fit_from_sums(&sums, &covariates, &arm_labels)?;
        let results = (1..arm_labels.len())
            .map(|k| compare_fit(&fit, k, &opts))
            .collect::<Result<Vec<_>, NeymanError>>()?;
        Ok((fit, results))
    })?;
    fit_dict(py, &fit, &results)
}

/// `(n, sum_y, sum_y_sq, sum_x, sum_xy, sum_xx)` of one arm.
type ArmSumsArg = (u64, f64, f64, Vec<f64>, Vec<f64>, Vec<Vec<f64>>);

pub(crate) fn fit_dict<'py>(
    py: Python<'py>,
    fit: &neyman_core::regression::Fit,
    results: &[neyman_core::cuped::Adjusted],
) -> PyResult<Bound<'py, PyDict>> {
    let out = PyDict::new(py);
    let comparisons = pyo3::types::PyList::empty(py);
    for r in results {
        let d = comparison_dict(py, &r.adjusted)?;
        d.set_item("variance_ratio", r.variance_ratio)?;
        d.set_item("unadjusted", comparison_dict(py, &r.unadjusted)?)?;
        comparisons.append(d)?;
    }
    out.set_item("comparisons", comparisons)?;
    out.set_item("n", fit.n.clone())?;
    out.set_item("n_incomplete", fit.n_incomplete.clone())?;
    out.set_item("n_inf", fit.n_inf.clone())?;
    out.set_item("n_params", fit.p)?;
    Ok(out)
}

/// Chi-square goodness of fit of arm counts: `(statistic, pvalue, df)`.
#[pyfunction]
fn srm_test(py: Python<'_>, observed: Vec<f64>, weights: Vec<f64>) -> PyResult<(f64, f64, f64)> {
    run_detached(py, || {
        srm::srm_test(&observed, &weights).map(|s| (s.statistic, s.pvalue, s.df))
    })
}

/// Threads in neyman's pool.
#[pyfunction]
fn get_num_threads(py: Python<'_>) -> PyResult<usize> {
    run_detached(py, parallel::num_threads)
}

/// Resize neyman's pool.
#[pyfunction]
fn set_num_threads(py: Python<'_>, n: usize) -> PyResult<()> {
    run_detached(py, || parallel::set_num_threads(n))
}

/// `(min, max, counts)`: the smallest and largest code, and the rows of each code.
type CodeSummaryTuple = (i64, i64, Option<Vec<u64>>);

/// `(min, max, counts)` of integer arm codes in one pass; `counts` (rows of each code `0..=max`)
/// is `None` unless every code is in `0..limit`. `None` for no rows.
#[pyfunction]
fn code_summary(py: Python<'_>, codes: Codes<'_>, limit: u8) -> PyResult<Option<CodeSummaryTuple>> {
    with_codes!(Some(&codes), g => run_detached(py, || {
        core_code_summary(g.unwrap_or_default(), limit)
            .map(|s| s.map(|s| (s.min, s.max, s.counts)))
    }))
}

/// Plain parallel sum: the memory-bandwidth floor for benchmarks.
#[pyfunction]
fn floor_sum(py: Python<'_>, x: PyReadonlyArray1<'_, f64>) -> PyResult<f64> {
    let xs = slice("x", &x)?;
    run_detached(py, || parallel::floor_sum(xs))
}

/// The compiled module.
#[pymodule]
fn _neyman(m: &Bound<'_, PyModule>) -> PyResult<()> {
    parallel::set_interrupt_check(python_interrupted);
    m.add_function(wrap_pyfunction!(moments, m)?)?;
    m.add_function(wrap_pyfunction!(code_summary, m)?)?;
    m.add_function(wrap_pyfunction!(grouped_moments, m)?)?;
    m.add_function(wrap_pyfunction!(moments_from_sums, m)?)?;
    m.add_function(wrap_pyfunction!(grouped_comoments, m)?)?;
    m.add_function(wrap_pyfunction!(cuped_test, m)?)?;
    m.add_function(wrap_pyfunction!(regression_test, m)?)?;
    m.add_function(wrap_pyfunction!(regression_from_sums, m)?)?;
    m.add_function(wrap_pyfunction!(comoments2_from_sums, m)?)?;
    m.add_function(wrap_pyfunction!(comoments4_from_sums, m)?)?;
    m.add_function(wrap_pyfunction!(grouped_binary_counts, m)?)?;
    m.add_function(wrap_pyfunction!(mean_test, m)?)?;
    m.add_function(wrap_pyfunction!(proportion_test, m)?)?;
    m.add_function(wrap_pyfunction!(ratio_test, m)?)?;
    m.add_function(wrap_pyfunction!(srm_test, m)?)?;
    m.add_function(wrap_pyfunction!(get_num_threads, m)?)?;
    m.add_function(wrap_pyfunction!(set_num_threads, m)?)?;
    m.add_function(wrap_pyfunction!(floor_sum, m)?)?;
    post_stratification::register(m)?;
    Ok(())
}
