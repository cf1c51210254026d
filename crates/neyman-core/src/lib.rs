//! # neyman-core
//!
//! Pure-Rust statistics for online controlled experiments (A/B tests). No Python here: slices in,
//! small structs out, [`NeymanError`] on failure.
//!
//! Every estimator is a mergeable sufficient statistic (update, merge, finalize). The modules,
//! in dependency order (each imports only modules above it):
//!
//! | module | holds |
//! | --- | --- |
//! | [`error`] | `NeymanError`: each variant names the argument and the problem |
//! | [`parallel`] | the dedicated thread pool, ordered block reduction, interrupt checks |
//! | [`simd`] | lane primitives as one trait, scalar and AVX2 implementations chosen once; the only `unsafe` |
//! | [`rng`] | counter-based random streams from (seed, block) and (seed, unit, replicate) |
//! | [`linalg`] | small dense algebra (Cholesky inverse, Jacobi eigendecomposition) for regression and cluster-robust variance |
//! | [`assignment`] | reproducible assignment of ids to arms by hashing (XXH3-64, versioned) |
//! | [`stats`] | the statistics: `Moments`, `CoMoments<K>`, `BinaryCounts`, `RegressionSums`, `ClusterSums` |
//! | [`scan`] | one-pass kernels that fill statistics from columns, grouped by arm codes or clusters |
//! | [`inference`] | distributions, the comparison, delta and Fieller intervals, `Adjusted`, roots, multiplicity |
//! | [`estimators`] | one file per estimator (means, proportions, ratio, CUPED, regression, SRM, cluster-robust OLS, wild cluster bootstrap, power, simulation, balance) |
//!
//! ```
//! use neyman_core::estimators::means::{mean_test, MeanTest};
//! use neyman_core::inference::Options;
//! use neyman_core::scan::moments_of;
//!
//! let control = moments_of(&[1.0, 2.0, 3.0, 4.0, 5.0]).unwrap().stats;
//! let treatment = moments_of(&[2.0, 4.0, 6.0, 8.0, 10.0]).unwrap().stats;
//! let r = mean_test(&control, &treatment, MeanTest::Welch, &Options::default()).unwrap();
//! assert!((r.effect - 3.0).abs() < 1e-12);
//! assert!(r.pvalue > 0.05 && r.pvalue < 0.2);
//! ```

#![deny(unsafe_code)]

pub mod assignment;
pub mod error;
pub mod estimators;
pub mod inference;
pub mod linalg;
pub mod parallel;
pub mod rng;
pub mod scan;
pub mod simd;
pub mod stats;

pub use error::{NeymanError, Result};
