//! The compiled surface of neyman: `neyman._neyman`.
//!
//! Bindings only: each function converts its arguments, runs the core with the GIL released
//! through [`errors::run_detached`] (which also turns a panic into an exception), and maps the
//! core's error through the one exhaustive mapping in [`errors`]. Nothing here computes or merges:
//! the statistic classes hold the core's structs and call the core's `merge` and `from_sums`.
//!
//! | file | Python names | core |
//! | --- | --- | --- |
//! | `means.rs` | `MeanStats`, `scan_mean`, `mean_test` | `stats::Moments`, `estimators::means` |
//! | `proportions.rs` | `ProportionStats`, `scan_proportion`, `proportion_test` | `stats::BinaryCounts`, `estimators::proportions` |
//! | `ratio.rs` | `RatioStats`, `scan_ratio`, `ratio_test` | `stats::CoMoments<2>`, `estimators::ratio` |
//! | `cuped.rs` | `CupedStats`, `RatioCupedStats`, `scan_cuped`, `scan_ratio_cuped`, `cuped_test`, `ratio_cuped_test` | `stats::CoMoments`, `estimators::cuped` |
//! | `regression.rs` | `RegressionStats`, `regression_test`, `regression_from_stats` | `stats::RegressionSums`, `estimators::regression` |
//! | `cluster_robust.rs` | `ClusterStats`, `scan_cluster`, `scan_ratio_cluster`, `cluster_ols`, `cluster_compare`, `cluster_ols_two_way`, `rows_ols`, `coefficient_test`, `dense_cluster_codes` | `stats::ClusterSums`, `scan::cluster`, `estimators::cluster_robust` |
//! | `post_stratification.rs` | `post_stratified_test` | `estimators::post_stratification` |
//! | `srm.rs` | `srm_test` | `estimators::srm` |
//! | `permutation.rs` | `permutation_test_units` | `estimators::permutation` |
//! | `quantile.rs` | `quantile_arms`, `quantile_compare` | `estimators::quantile` |
//! | `msprt.rs` | `msprt_paths`, `msprt_horizon_tau2` | `estimators::msprt`, `inference::mixture` |
//! | `group_sequential.rs` | `gsd_design`, `gsd_bounds`, `gsd_crossing`, `gsd_msprt_power` | `estimators::group_sequential` |
//! | `confidence_sequence.rs` | `confidence_sequence_path` | `estimators::confidence_sequence` |
//! | `sequential_srm.rs` | `sequential_srm_path` | `estimators::sequential_srm` |
//! | `wild_cluster_bootstrap.rs` | `wild_cluster_bootstrap_test` | `estimators::wild_cluster_bootstrap` |
//! | `power.rs` | `power_solve`, `design_effect`, `history_by_day`, `icc_anova`, `nct_cdf`, `multiple_critical_value` | `estimators::power`, `inference::{distributions, multiplicity}` |
//! | `simulation.rs` | `simulate_power`, `simulate_resampling` | `estimators::simulation` |
//! | `assignment.rs` | `assign_ints`, `assign_strings`, `assignment_hashes` | `assignment` |
//! | `balance.rs` | `balance_test` | `estimators::balance` |
//! | `runtime.rs` | `get_num_threads`, `set_num_threads`, `code_summary`, `floor_sum`, `floor_normals`, `floor_indices` | `parallel`, `scan::codes` |
//! | `comoments.rs` | the two-variable statistic classes and the co-moments scan they share | `scan` |
//! | `statistic.rs`, `comparison.rs`, `convert.rs`, `errors.rs` | shared conversions, dicts and errors | |
//!
//! At import, the module installs a check for pending Python signals that long reductions call
//! between batches of blocks, so Ctrl-C stops them with `KeyboardInterrupt`.

mod assignment;
mod balance;
mod cluster_robust;
mod comoments;
mod comparison;
mod confidence_sequence;
mod convert;
mod cuped;
mod errors;
mod group_sequential;
mod means;
mod msprt;
mod permutation;
mod post_stratification;
mod power;
mod proportions;
mod quantile;
mod ratio;
mod regression;
mod runtime;
mod sequential_srm;
mod simulation;
mod srm;
mod statistic;
mod wild_cluster_bootstrap;

use pyo3::prelude::*;

/// The compiled module.
#[pymodule]
mod _neyman {
    #[pymodule_export]
    use crate::assignment::{assign_ints, assign_strings, assignment_hashes};
    #[pymodule_export]
    use crate::balance::balance_test;
    #[pymodule_export]
    use crate::cluster_robust::{
        cluster_compare, cluster_ols, cluster_ols_two_way, coefficient_test, dense_cluster_codes,
        rows_ols, scan_cluster, scan_ratio_cluster, ClusterStats,
    };
    #[pymodule_export]
    use crate::confidence_sequence::confidence_sequence_path;
    #[pymodule_export]
    use crate::cuped::{
        cuped_test, ratio_cuped_test, scan_cuped, scan_ratio_cuped, CupedStats, RatioCupedStats,
    };
    #[pymodule_export]
    use crate::group_sequential::{gsd_bounds, gsd_crossing, gsd_design, gsd_msprt_power};
    #[pymodule_export]
    use crate::means::{mean_test, scan_mean, MeanStats};
    #[pymodule_export]
    use crate::msprt::{msprt_horizon_tau2, msprt_paths};
    #[pymodule_export]
    use crate::permutation::permutation_test_units;
    #[pymodule_export]
    use crate::post_stratification::post_stratified_test;
    #[pymodule_export]
    use crate::power::{
        design_effect, history_by_day, icc_anova, multiple_critical_value, nct_cdf, power_solve,
    };
    #[pymodule_export]
    use crate::proportions::{proportion_test, scan_proportion, ProportionStats};
    #[pymodule_export]
    use crate::quantile::{quantile_arms, quantile_compare};
    #[pymodule_export]
    use crate::ratio::{ratio_test, scan_ratio, RatioStats};
    #[pymodule_export]
    use crate::regression::{regression_from_stats, regression_test, RegressionStats};
    #[pymodule_export]
    use crate::runtime::{
        code_summary, floor_indices, floor_normals, floor_sum, get_num_threads, set_num_threads,
    };
    #[pymodule_export]
    use crate::sequential_srm::sequential_srm_path;
    #[pymodule_export]
    use crate::simulation::{simulate_power, simulate_resampling};
    #[pymodule_export]
    use crate::srm::srm_test;
    #[pymodule_export]
    use crate::wild_cluster_bootstrap::wild_cluster_bootstrap_test;

    use super::*;

    #[pymodule_init]
    fn init(_m: &Bound<'_, PyModule>) -> PyResult<()> {
        neyman_core::parallel::set_interrupt_check(crate::errors::python_interrupted);
        Ok(())
    }
}
