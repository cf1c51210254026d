//! # neyman-core
//!
//! Pure-Rust statistics for online controlled experiments (A/B tests). No Python here: slices in,
//! small structs out, [`NeymanError`] on failure.
//!
//! Every estimator is a mergeable sufficient statistic (update, merge, finalize):
//!
//! | module | statistic or test |
//! | --- | --- |
//! | [`moments`] | `Moments`: n, mean, M2 (Welford update, Chan merge), one-pass parallel kernels |
//! | [`codes`] | group codes of any signed integer type |
//! | [`comoments`] | `CoMoments<K>`: means and co-moment matrix of K variables |
//! | [`inference`] | alternatives, reference distributions, intervals, relative effects (delta, Fieller) |
//! | [`cuped`] | CUPED: one pre-experiment covariate, for means and ratio metrics |
//! | [`means`] | Welch, Student and z tests for a difference in means |
//! | [`proportions`] | two proportions: pooled z-test, Wald and Newcombe intervals |
//! | [`regression`] | regression adjustment (Lin 2013), post-stratification, HC0-HC2 |
//! | [`ratio`] | ratio metrics by the delta method |
//! | [`srm`] | sample-ratio mismatch (chi-square goodness of fit) |
//! | [`parallel`] | the dedicated thread pool and order-preserving block reduction |
//!
//! ```
//! use neyman_core::{moments::moments_of, means::{mean_test, MeanTest}, inference::Options};
//! let control = moments_of(&[1.0, 2.0, 3.0, 4.0, 5.0]).unwrap().moments;
//! let treatment = moments_of(&[2.0, 4.0, 6.0, 8.0, 10.0]).unwrap().moments;
//! let r = mean_test(&control, &treatment, MeanTest::Welch, &Options::default()).unwrap();
//! assert!((r.effect - 3.0).abs() < 1e-12);
//! assert!(r.pvalue > 0.05 && r.pvalue < 0.2);
//! ```

pub mod codes;
pub mod comoments;
pub mod cuped;
pub mod error;
pub mod inference;
pub mod means;
pub mod moments;
pub mod parallel;
pub mod post_stratification;
pub mod proportions;
pub mod ratio;
pub mod regression;
pub mod srm;

pub use error::{NeymanError, Result};
