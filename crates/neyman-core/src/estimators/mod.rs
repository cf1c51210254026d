//! One file per estimator, each finalizing a comparison from statistics (never from rows). No
//! estimator imports another: what they share lives in [`crate::inference`].
//!
//! | module | estimator |
//! | --- | --- |
//! | [`balance`] | covariate balance: standardized differences and Hansen and Bowers' omnibus test |
//! | [`means`] | Welch, Student and z tests for a difference in means |
//! | [`proportions`] | two proportions: pooled z-test, Wald and Newcombe intervals |
//! | [`ratio`] | ratio metrics by the delta method |
//! | [`cluster_robust`] | least squares with cluster-robust covariance (CR0-CR3, two-way), Bell-McCaffrey df, design effect |
//! | [`cuped`] | CUPED: one pre-experiment covariate, for means and ratio metrics |
//! | [`regression`] | regression adjustment (Lin 2013), HC0-HC2, categorical covariates by their structure |
//! | [`post_stratification`] | post-stratification from per-(stratum, arm) moments, `O(rows + levels x arms)` |
//! | [`power`] | analytic power, sample size, MDE and alpha by Brent's method; design effect, variance from history |
//! | [`simulation`] | power by simulation (parametric or resampled), seeded per block of experiments |
//! | [`srm`] | sample-ratio mismatch (chi-square goodness of fit) |
//! | [`wild_cluster_bootstrap`] | restricted wild cluster bootstrap ("fast and wild"), test inversion |

pub mod balance;
pub mod cluster_robust;
pub mod cuped;
pub mod means;
pub mod post_stratification;
pub mod power;
pub mod proportions;
pub mod ratio;
pub mod regression;
pub mod simulation;
pub mod srm;
pub mod wild_cluster_bootstrap;
