//! Cluster-robust least squares: `ClusterStats` (per-cluster sums, merged by key in the core), the
//! scan that fills it, and the fits (one-way, two-way, rows as clusters) and their tests.

use neyman_core::estimators::cluster_robust::{
    cluster_fit_contrasts, coefficient_tests, compare_arm, row_fit, two_way_fit, ClusterFit, Vcov,
};
use neyman_core::inference::Alternative;
use neyman_core::scan::{cluster_sums, dense_codes, ratio_cluster_sums, ClusterDesign};
use neyman_core::stats::cluster::tri;
use neyman_core::stats::{ClusterKeys, ClusterSums, Layout};
use numpy::ndarray::Array2;
use numpy::{IntoPyArray, PyReadonlyArray1, PyReadonlyArray2, PyReadonlyArray3};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use crate::comparison::comparison_dict;
use crate::convert::{contiguous, named_slices, options, slice};
use crate::errors::{run, run_detached, type_error};
use crate::statistic::{same_type, Fields};
use crate::statistic_methods;

/// Per-cluster sufficient statistics of a linear model: for each cluster its row count and the
/// cross-products of the design and the outcome (kept around a reference point), keyed by the
/// cluster ids. Memory is proportional to the clusters, not the rows.
///
/// Build it with :func:`neyman.cluster_stats` (from arrays) or :meth:`ClusterStats.from_sums`
/// (per-cluster aggregates, e.g. from SQL); fit it with :func:`neyman.ols`.
///
/// Frozen, mergeable (``a.merge(b)`` aligns clusters by id, so a cluster whose rows sit in both
/// chunks is summed), picklable.
///
/// Examples
/// --------
/// >>> import numpy as np, neyman
/// >>> rng = np.random.default_rng(3)
/// >>> g = rng.integers(0, 30, 600)
/// >>> x = rng.normal(size=600)
/// >>> y = 1 + 0.5 * x + rng.normal(size=30)[g] + rng.normal(size=600)
/// >>> a = neyman.cluster_stats(y[:300], x[:300], cluster=g[:300])
/// >>> b = neyman.cluster_stats(y[300:], x[300:], cluster=g[300:])
/// >>> both = a.merge(b)
/// >>> both.n_clusters, int(both.n.sum())
/// (30, 600)
/// >>> bool(np.allclose(neyman.ols(both).params, neyman.ols(y, x, cluster=g).params))
/// True
#[pyclass(frozen, eq, module = "neyman", name = "ClusterStats")]
#[derive(Clone, PartialEq)]
pub struct ClusterStats {
    pub inner: ClusterSums,
}

fn keys_of(obj: &Bound<'_, PyAny>) -> PyResult<ClusterKeys> {
    if let Ok(v) = obj.extract::<Vec<i64>>() {
        return Ok(ClusterKeys::Int(v));
    }
    if let Ok(v) = obj.extract::<Vec<String>>() {
        return Ok(ClusterKeys::Str(v));
    }
    Err(type_error(
        "keys",
        "cluster ids must all be integers or all be strings",
    ))
}

fn keys_list<'py>(py: Python<'py>, keys: &ClusterKeys) -> PyResult<Bound<'py, PyAny>> {
    Ok(match keys {
        ClusterKeys::Int(v) => PyList::new(py, v)?.into_any(),
        ClusterKeys::Str(v) => PyList::new(py, v)?.into_any(),
    })
}

impl ClusterStats {
    fn fields<'py>(&self, py: Python<'py>) -> PyResult<Fields<'py>> {
        let s = &self.inner;
        let t = tri(s.width());
        let sums = Array2::from_shape_vec((s.n_clusters(), t), s.sums.clone())
            .map_err(|e| type_error("sums", e))?;
        Ok(vec![
            ("keys", keys_list(py, &s.keys)?),
            ("n", s.n.clone().into_pyarray(py).into_any()),
            ("sums", sums.into_pyarray(py).into_any()),
            ("shift", PyList::new(py, &s.shift)?.into_any()),
            ("numeric", PyList::new(py, &s.layout.numeric)?.into_any()),
            ("arms", PyList::new(py, &s.layout.arms)?.into_any()),
            (
                "interacted",
                s.layout.interacted.into_pyobject(py)?.to_owned().into_any(),
            ),
            (
                "intercept",
                s.layout.intercept.into_pyobject(py)?.to_owned().into_any(),
            ),
            ("n_nan", s.n_nan.into_pyobject(py)?.into_any()),
            ("n_inf", s.n_inf.into_pyobject(py)?.into_any()),
        ])
    }
}

statistic_methods!(ClusterStats, "ClusterStats", {
    #[new]
    #[pyo3(signature = (keys, n, sums, shift, numeric, arms, interacted, intercept, n_nan=0, n_inf=0))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        keys: &Bound<'_, PyAny>,
        n: PyReadonlyArray1<'_, u64>,
        sums: PyReadonlyArray2<'_, f64>,
        shift: Vec<f64>,
        numeric: Vec<String>,
        arms: Vec<String>,
        interacted: bool,
        intercept: bool,
        n_nan: u64,
        n_inf: u64,
    ) -> PyResult<Self> {
        let keys = keys_of(keys)?;
        let n = n.as_array().to_vec();
        let sums: Vec<f64> = sums.as_array().iter().copied().collect();
        let layout = Layout {
            intercept,
            arms,
            numeric,
            interacted,
        };
        let inner = run(|| ClusterSums::from_parts(layout, shift, keys, n, sums, n_nan, n_inf))?;
        Ok(ClusterStats { inner })
    }

    /// From per-cluster aggregates: ``keys`` (ids), ``n`` (rows), ``sum_x`` (clusters x k),
    /// ``sum_xx`` (clusters x k x k), ``sum_xy`` (clusters x k), ``sum_y`` and ``sum_yy``
    /// (clusters); the design is the k columns ``names`` after an intercept (``intercept=True``).
    #[classmethod]
    #[pyo3(signature = (keys, n, sum_x, sum_xx, sum_xy, sum_y, sum_yy, names, intercept=true))]
    #[allow(clippy::too_many_arguments)]
    fn from_sums(
        _cls: &Bound<'_, pyo3::types::PyType>,
        keys: &Bound<'_, PyAny>,
        n: PyReadonlyArray1<'_, u64>,
        sum_x: PyReadonlyArray2<'_, f64>,
        sum_xx: PyReadonlyArray3<'_, f64>,
        sum_xy: PyReadonlyArray2<'_, f64>,
        sum_y: PyReadonlyArray1<'_, f64>,
        sum_yy: PyReadonlyArray1<'_, f64>,
        names: Vec<String>,
        intercept: bool,
    ) -> PyResult<Self> {
        let keys = keys_of(keys)?;
        let rows2 = |a: &PyReadonlyArray2<'_, f64>| -> Vec<Vec<f64>> {
            a.as_array().outer_iter().map(|r| r.to_vec()).collect()
        };
        let sx = rows2(&sum_x);
        let sxy = rows2(&sum_xy);
        let sxx: Vec<Vec<Vec<f64>>> = sum_xx
            .as_array()
            .outer_iter()
            .map(|m| m.outer_iter().map(|r| r.to_vec()).collect())
            .collect();
        let n = n.as_array().to_vec();
        let sy = sum_y.as_array().to_vec();
        let syy = sum_yy.as_array().to_vec();
        let inner =
            run(|| ClusterSums::from_sums(keys, names, intercept, n, &sx, &sxx, &sxy, &sy, &syy))?;
        Ok(ClusterStats { inner })
    }

    /// The statistic of both sets of rows (clusters aligned by id).
    fn merge(&self, other: &Bound<'_, PyAny>) -> PyResult<Self> {
        let o = same_type::<ClusterStats>("ClusterStats", other)?.get();
        let inner = run(|| self.inner.merge(&o.inner))?;
        Ok(ClusterStats { inner })
    }

    #[getter]
    fn keys<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        keys_list(py, &self.inner.keys)
    }

    #[getter]
    fn n<'py>(&self, py: Python<'py>) -> Bound<'py, numpy::PyArray1<u64>> {
        self.inner.n.clone().into_pyarray(py)
    }

    #[getter]
    fn n_clusters(&self) -> usize {
        self.inner.n_clusters()
    }

    #[getter]
    fn names(&self) -> Vec<String> {
        self.inner.layout.names()
    }

    #[getter]
    fn n_nan(&self) -> u64 {
        self.inner.n_nan
    }

    #[getter]
    fn n_inf(&self) -> u64 {
        self.inner.n_inf
    }
});

type Arms<'py> = Option<(PyReadonlyArray1<'py, i32>, Vec<String>)>;

/// The arm codes and labels as the core takes them.
fn arm_codes<'a>(arms: &'a Arms<'_>) -> PyResult<Option<(&'a [i32], Vec<String>)>> {
    match arms {
        Some((a, labels)) => Ok(Some((contiguous(a)?, labels.clone()))),
        None => Ok(None),
    }
}

/// Per-cluster sums of the design built from `y`, the `numeric` columns, the `arms` (codes and
/// labels), `interacted` and `intercept`, clustered by `cluster` (codes `0..len(keys)` as uint32,
/// and the key of each code).
#[pyfunction]
#[allow(clippy::too_many_arguments)]
pub fn scan_cluster(
    py: Python<'_>,
    y: PyReadonlyArray1<'_, f64>,
    numeric: Vec<(String, PyReadonlyArray1<'_, f64>)>,
    arms: Arms<'_>,
    interacted: bool,
    intercept: bool,
    cluster: PyReadonlyArray1<'_, u32>,
    keys: &Bound<'_, PyAny>,
) -> PyResult<ClusterStats> {
    let ys = slice("y", &y)?;
    let num = named_slices(&numeric)?;
    let arm = arm_codes(&arms)?;
    let codes = contiguous(&cluster)?;
    let keys = keys_of(keys)?;
    let inner = run_detached(py, || {
        cluster_sums(&ClusterDesign {
            y: ys,
            numeric: num,
            arms: arm,
            interacted,
            intercept,
            cluster: Some(codes),
            keys,
        })
    })?;
    Ok(ClusterStats { inner })
}

fn fit_dict<'py>(py: Python<'py>, f: ClusterFit) -> PyResult<Bound<'py, PyDict>> {
    let p = f.params.len();
    let d = PyDict::new(py);
    let vcov = Array2::from_shape_vec((p, p), f.vcov).map_err(|e| type_error("vcov", e))?;
    d.set_item("names", f.names)?;
    d.set_item("params", f.params.into_pyarray(py))?;
    d.set_item("vcov", vcov.into_pyarray(py))?;
    d.set_item("df", f.df.into_pyarray(py))?;
    d.set_item("contrast_df", f.contrast_df.into_pyarray(py))?;
    d.set_item("iid_var", f.iid_var.into_pyarray(py))?;
    d.set_item("n", f.n)?;
    d.set_item("n_clusters", f.n_clusters)?;
    d.set_item("n_nan", f.n_nan)?;
    d.set_item("n_inf", f.n_inf)?;
    d.set_item("icc", f.icc)?;
    d.set_item("psd", f.psd)?;
    d.set_item("vcov_type", f.vcov_type.name())?;
    Ok(d)
}

/// Cluster-robust fit of `stats` (`vcov`: 'CR0' to 'CR3'), with the degrees of freedom of the
/// `contrasts` (weights per coefficient) in `contrast_df`.
#[pyfunction]
#[pyo3(signature = (stats, vcov, contrasts=Vec::new()))]
pub fn cluster_ols<'py>(
    py: Python<'py>,
    stats: &Bound<'py, ClusterStats>,
    vcov: String,
    contrasts: Vec<Vec<f64>>,
) -> PyResult<Bound<'py, PyDict>> {
    let s = &stats.get().inner;
    let fit = run_detached(py, || {
        cluster_fit_contrasts(s, Vcov::parse(&vcov)?, &contrasts)
    })?;
    fit_dict(py, fit)
}

/// Two-way cluster-robust fit from the sums of the same rows clustered by `a`, `b` and both.
#[pyfunction]
pub fn cluster_ols_two_way<'py>(
    py: Python<'py>,
    a: &Bound<'py, ClusterStats>,
    b: &Bound<'py, ClusterStats>,
    ab: &Bound<'py, ClusterStats>,
    vcov: String,
) -> PyResult<Bound<'py, PyDict>> {
    let (a, b, ab) = (&a.get().inner, &b.get().inner, &ab.get().inner);
    let fit = run_detached(py, || two_way_fit(a, b, ab, Vcov::parse(&vcov)?))?;
    fit_dict(py, fit)
}

/// Each row its own cluster (heteroskedasticity-robust): two passes over the columns.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
pub fn rows_ols<'py>(
    py: Python<'py>,
    y: PyReadonlyArray1<'_, f64>,
    numeric: Vec<(String, PyReadonlyArray1<'_, f64>)>,
    arms: Arms<'_>,
    interacted: bool,
    intercept: bool,
    vcov: String,
) -> PyResult<Bound<'py, PyDict>> {
    let ys = slice("y", &y)?;
    let num = named_slices(&numeric)?;
    let arm = arm_codes(&arms)?;
    let fit = run_detached(py, || {
        let vcov = Vcov::parse(&vcov)?;
        let d = ClusterDesign {
            y: ys,
            numeric: num,
            arms: arm,
            interacted,
            intercept,
            cluster: None,
            keys: ClusterKeys::Int(vec![0]),
        };
        let s = cluster_sums(&d)?;
        row_fit(&d, &s, vcov)
    })?;
    fit_dict(py, fit)
}

/// Dense uint32 codes and sorted keys of int64 cluster ids with a small range, or `None`.
#[pyfunction]
#[allow(clippy::type_complexity)]
pub fn dense_cluster_codes<'py>(
    py: Python<'py>,
    ids: PyReadonlyArray1<'_, i64>,
) -> PyResult<Option<(Bound<'py, numpy::PyArray1<u32>>, Vec<i64>)>> {
    let ids = contiguous(&ids)?;
    let out = run_detached(py, || dense_codes(ids))?;
    Ok(out.map(|(codes, keys)| (codes.into_pyarray(py), keys)))
}

/// t-tests of coefficients against zero: `(se, statistic, pvalue, ci_low, ci_high)` arrays.
#[pyfunction]
#[allow(clippy::type_complexity)]
pub fn coefficient_test<'py>(
    py: Python<'py>,
    params: Vec<f64>,
    se: Vec<f64>,
    df: Vec<f64>,
    alternative: String,
    confidence_level: f64,
) -> PyResult<Bound<'py, PyDict>> {
    let t = run(|| {
        coefficient_tests(
            &params,
            &se,
            &df,
            Alternative::parse(&alternative)?,
            confidence_level,
        )
    })?;
    let d = PyDict::new(py);
    d.set_item("statistic", t.statistic.into_pyarray(py))?;
    d.set_item("pvalue", t.pvalue.into_pyarray(py))?;
    d.set_item("ci_low", t.ci_low.into_pyarray(py))?;
    d.set_item("ci_high", t.ci_high.into_pyarray(py))?;
    Ok(d)
}

/// Per-cluster sums of a ratio metric (the weighted fit of `num / den` on arm indicators, weights
/// `den`; see `scan::cluster::ratio_cluster_sums`).
#[pyfunction]
pub fn scan_ratio_cluster(
    py: Python<'_>,
    num: PyReadonlyArray1<'_, f64>,
    den: PyReadonlyArray1<'_, f64>,
    arms: PyReadonlyArray1<'_, i32>,
    labels: Vec<String>,
    cluster: PyReadonlyArray1<'_, u32>,
    keys: &Bound<'_, PyAny>,
) -> PyResult<ClusterStats> {
    let (num, den) = (slice("numerator", &num)?, slice("denominator", &den)?);
    let arms = contiguous(&arms)?;
    let codes = contiguous(&cluster)?;
    let keys = keys_of(keys)?;
    let inner = run_detached(py, || {
        ratio_cluster_sums(num, den, arms, labels, codes, keys)
    })?;
    Ok(ClusterStats { inner })
}

/// Every treatment arm of an arms model (`stats` scanned with arm indicators, arm 0 the control)
/// against the control, cluster-robust: one comparison dict per treatment arm with its design
/// effect and effective sample size, and the fit's ICC, cluster count and estimator. `n` holds
/// the rows of each arm.
#[pyfunction]
pub fn cluster_compare<'py>(
    py: Python<'py>,
    stats: &Bound<'py, ClusterStats>,
    vcov: String,
    n: Vec<u64>,
    opts: (String, f64, String),
) -> PyResult<Bound<'py, PyDict>> {
    let s = &stats.get().inner;
    let opts = options(opts)?;
    let arms = s.layout.arms.len();
    if arms < 2 || n.len() != arms {
        return Err(type_error(
            "stats",
            "an arms model with at least two arms and one count per arm",
        ));
    }
    let contrasts: Vec<Vec<f64>> = (1..arms)
        .map(|g| {
            let mut c = vec![0.0; s.layout.p()];
            c[0] = -1.0;
            c[g] = 1.0;
            c
        })
        .collect();
    let (fit, rows) = run_detached(py, || {
        let vcov = Vcov::parse(&vcov)?;
        let fit = cluster_fit_contrasts(s, vcov, &contrasts)?;
        let rows = (1..arms)
            .map(|g| {
                let df = if vcov == Vcov::CR2 {
                    fit.contrast_df[g - 1]
                } else {
                    fit.n_clusters as f64 - 1.0
                };
                compare_arm(&fit, g, df, (n[0], n[g]), &opts)
            })
            .collect::<neyman_core::error::Result<Vec<_>>>()?;
        Ok((fit, rows))
    })?;
    let out = PyDict::new(py);
    let list = PyList::empty(py);
    for (c, deff, n_eff) in &rows {
        let d = comparison_dict(py, c)?;
        d.set_item("design_effect", *deff)?;
        d.set_item("effective_n", *n_eff)?;
        list.append(d)?;
    }
    out.set_item("comparisons", list)?;
    out.set_item("icc", fit.icc)?;
    out.set_item("n_clusters", fit.n_clusters)?;
    out.set_item("vcov_type", fit.vcov_type.name())?;
    Ok(out)
}
