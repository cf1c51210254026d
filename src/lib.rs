//! The compiled surface of neyman: `neyman._neyman`.
//!
//! Bindings only. Each function converts its arguments, runs the core with the GIL released through
//! [`run_detached`] (which also turns a panic into an exception), and maps [`NeymanError`] to the
//! exception hierarchy declared once in `neyman/errors.py`. Statistics live in `neyman-core`.
//!
//! | function | core |
//! | --- | --- |
//! | `moments`, `grouped_moments`, `moments_from_sums` | `moments` |
//! | `grouped_comoments2`, `comoments2_from_sums` | `comoments` |
//! | `grouped_binary_counts` | `proportions::binary_counts_of` |
//! | `mean_test`, `proportion_test`, `ratio_test`, `srm_test` | `means`, `proportions`, `ratio`, `srm` |
//! | `get_num_threads`, `set_num_threads`, `floor_sum` | `parallel` |

use neyman_core::comoments::{grouped_comoments_of, CoMoments, SliceCoMoments};
use neyman_core::inference::{Alternative, Comparison, Options, RelativeCi};
use neyman_core::means::{mean_test as core_mean_test, MeanTest};
use neyman_core::moments::{grouped_moments_of, moments_of, Moments, SliceMoments};
use neyman_core::proportions::{
    binary_counts_of, proportion_test as core_proportion_test, Counts, ProportionCi,
};
use neyman_core::{parallel, ratio, srm, NeymanError};
use numpy::PyReadonlyArray1;
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// Map a core error to the matching class of `neyman.errors`.
fn to_pyerr(py: Python<'_>, e: NeymanError) -> PyErr {
    let class = match e {
        NeymanError::InvalidArgument { .. } => "InputError",
        NeymanError::TooFewObservations { .. } => "InsufficientDataError",
        NeymanError::ZeroVariance { .. } => "ZeroVarianceError",
        NeymanError::LengthMismatch { .. } => "LengthMismatchError",
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

/// Run `f` without the GIL; map its error, and turn a panic into a Python exception.
fn run_detached<T, F>(py: Python<'_>, f: F) -> PyResult<T>
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

fn slice<'a>(name: &str, a: &'a PyReadonlyArray1<'_, f64>) -> PyResult<&'a [f64]> {
    a.as_slice()
        .map_err(|_| PyValueError::new_err(format!("{name}: array must be C-contiguous")))
}

fn codes_slice<'a>(a: &'a Option<PyReadonlyArray1<'_, i32>>) -> PyResult<Option<&'a [i32]>> {
    a.as_ref()
        .map(|c| {
            c.as_slice()
                .map_err(|_| PyValueError::new_err("codes: array must be C-contiguous"))
        })
        .transpose()
}

type MomentsTuple = (u64, f64, f64, u64, u64);

fn moments_tuple(s: &SliceMoments) -> MomentsTuple {
    (s.moments.n, s.moments.mean, s.moments.m2, s.n_nan, s.n_inf)
}

type BinaryTuple = (u64, u64, u64, u64, u64);

type CoMomentsTuple = (u64, f64, f64, f64, f64, f64, u64, u64);

fn comoments_tuple(s: &SliceCoMoments<2>) -> CoMomentsTuple {
    let c = &s.comoments;
    (
        c.n, c.mean[0], c.mean[1], c.c[0][0], c.c[1][1], c.c[0][1], s.n_nan, s.n_inf,
    )
}

fn options(
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
    codes: PyReadonlyArray1<'_, i32>,
    n_groups: usize,
) -> PyResult<Vec<MomentsTuple>> {
    let xs = slice("x", &x)?;
    let g = codes
        .as_slice()
        .map_err(|_| PyValueError::new_err("codes: array must be C-contiguous"))?;
    run_detached(py, || {
        grouped_moments_of(xs, g, n_groups).map(|v| v.iter().map(moments_tuple).collect())
    })
}

/// `(n, mean, m2)` from a count, a sum and a sum of squares.
#[pyfunction]
fn moments_from_sums(py: Python<'_>, n: u64, sum: f64, sum_sq: f64) -> PyResult<(u64, f64, f64)> {
    run_detached(py, || {
        Moments::from_sums(n, sum, sum_sq).map(|m| (m.n, m.mean, m.m2))
    })
}

/// Per-group co-moments of two columns: `(n, mean_x, mean_y, cxx, cyy, cxy, n_nan, n_inf)`.
#[pyfunction]
#[pyo3(signature = (x, y, codes, n_groups, names))]
fn grouped_comoments2(
    py: Python<'_>,
    x: PyReadonlyArray1<'_, f64>,
    y: PyReadonlyArray1<'_, f64>,
    codes: Option<PyReadonlyArray1<'_, i32>>,
    n_groups: usize,
    names: (String, String),
) -> PyResult<Vec<CoMomentsTuple>> {
    let xs = slice(&names.0, &x)?;
    let ys = slice(&names.1, &y)?;
    let g = codes_slice(&codes)?;
    run_detached(py, || {
        grouped_comoments_of(
            &[xs, ys],
            &[names.0.as_str(), names.1.as_str()],
            g,
            n_groups,
        )
        .map(|v| v.iter().map(comoments_tuple).collect())
    })
}

/// `(n, mean_x, mean_y, cxx, cyy, cxy)` from pre-aggregated sums.
#[pyfunction]
fn comoments2_from_sums(
    py: Python<'_>,
    n: u64,
    sum_x: f64,
    sum_y: f64,
    sum_xx: f64,
    sum_yy: f64,
    sum_xy: f64,
) -> PyResult<(u64, f64, f64, f64, f64, f64)> {
    run_detached(py, || {
        CoMoments::<2>::from_sums(n, sum_x, sum_y, sum_xx, sum_yy, sum_xy)
            .map(|c| (c.n, c.mean[0], c.mean[1], c.c[0][0], c.c[1][1], c.c[0][1]))
    })
}

/// Per-group `(trials, successes, n_nan, n_inf, n_invalid)` of a 0/1 column.
#[pyfunction]
#[pyo3(signature = (x, codes, n_groups))]
fn grouped_binary_counts(
    py: Python<'_>,
    x: PyReadonlyArray1<'_, f64>,
    codes: Option<PyReadonlyArray1<'_, i32>>,
    n_groups: usize,
) -> PyResult<Vec<BinaryTuple>> {
    let xs = slice("x", &x)?;
    let g = codes_slice(&codes)?;
    run_detached(py, || {
        binary_counts_of(xs, g, n_groups).map(|v| {
            v.iter()
                .map(|b| (b.trials, b.successes, b.n_nan, b.n_inf, b.n_invalid))
                .collect()
        })
    })
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

/// Plain parallel sum: the memory-bandwidth floor for benchmarks.
#[pyfunction]
fn floor_sum(py: Python<'_>, x: PyReadonlyArray1<'_, f64>) -> PyResult<f64> {
    let xs = slice("x", &x)?;
    run_detached(py, || parallel::floor_sum(xs))
}

/// The compiled module.
#[pymodule]
fn _neyman(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(moments, m)?)?;
    m.add_function(wrap_pyfunction!(grouped_moments, m)?)?;
    m.add_function(wrap_pyfunction!(moments_from_sums, m)?)?;
    m.add_function(wrap_pyfunction!(grouped_comoments2, m)?)?;
    m.add_function(wrap_pyfunction!(comoments2_from_sums, m)?)?;
    m.add_function(wrap_pyfunction!(grouped_binary_counts, m)?)?;
    m.add_function(wrap_pyfunction!(mean_test, m)?)?;
    m.add_function(wrap_pyfunction!(proportion_test, m)?)?;
    m.add_function(wrap_pyfunction!(ratio_test, m)?)?;
    m.add_function(wrap_pyfunction!(srm_test, m)?)?;
    m.add_function(wrap_pyfunction!(get_num_threads, m)?)?;
    m.add_function(wrap_pyfunction!(set_num_threads, m)?)?;
    m.add_function(wrap_pyfunction!(floor_sum, m)?)?;
    Ok(())
}
