//! The restricted wild cluster bootstrap (WCR) from per-cluster blocks of `X'X` and `X'y`.

use neyman_core::estimators::wild_cluster_bootstrap::{
    wild_cluster_bootstrap, ClusterBlocks, Weights, WildOptions,
};
use neyman_core::inference::Alternative;
use numpy::IntoPyArray;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::cluster_robust::ClusterStats;
use crate::errors::{run, run_detached};

/// The WCR test of `contrast'beta = null` and its interval by test inversion, from the cluster
/// statistic of the regression (`scan_cluster`): the core unpacks it into per-cluster blocks
/// `X_g'X_g`, `X_g'y_g` and row counts, then runs every replicate from those. `test` is
/// `(weights, n_resamples, seed)`, `opts` `(alternative, confidence_level)`. A dict of the
/// result's fields, with `bootstrap_statistics` as an array.
#[pyfunction]
pub fn wild_cluster_bootstrap_test<'py>(
    py: Python<'py>,
    stats: &Bound<'py, ClusterStats>,
    contrast: Vec<f64>,
    null: f64,
    test: (String, u64, u64),
    opts: (String, f64),
) -> PyResult<Bound<'py, PyDict>> {
    let stats = &stats.get().inner;
    let (weights, n_resamples, seed) = test;
    let (alternative, confidence_level) = opts;
    let options = WildOptions {
        contrast,
        null,
        weights: run(|| Weights::parse(&weights))?,
        n_resamples,
        seed,
        alternative: run(|| Alternative::parse(&alternative))?,
        confidence_level,
    };
    let r = run_detached(py, || {
        let (xtx, xty, n) = stats.raw_blocks();
        let blocks = ClusterBlocks {
            p: stats.width() - 1,
            xtx: &xtx,
            xty: &xty,
            n: &n,
        };
        wild_cluster_bootstrap(&blocks, &options)
    })?;
    let out = PyDict::new(py);
    out.set_item("estimate", r.estimate)?;
    out.set_item("se", r.se)?;
    out.set_item("statistic", r.statistic)?;
    out.set_item("pvalue", r.pvalue)?;
    out.set_item("ci_low", r.ci_low)?;
    out.set_item("ci_high", r.ci_high)?;
    out.set_item("n_resamples", r.n_resamples)?;
    out.set_item("full_enumeration", r.full_enumeration)?;
    out.set_item("n_clusters", r.n_clusters)?;
    out.set_item("n", r.n)?;
    out.set_item(
        "bootstrap_statistics",
        r.bootstrap_statistics.into_pyarray(py),
    )?;
    Ok(out)
}
