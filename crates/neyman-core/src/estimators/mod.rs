//! One file per estimator, each finalizing a comparison from statistics (never from rows). No
//! estimator imports another: what they share lives in [`crate::inference`].
//!
//! | module | estimator |
//! | --- | --- |
//! | [`balance`] | covariate balance: standardized differences and Hansen and Bowers' omnibus test |
//! | [`confidence_sequence`] | asymptotic confidence sequences (Waudby-Smith et al. 2023), GrowthBook's method |
//! | [`means`] | Welch, Student and z tests for a difference in means |
//! | [`proportions`] | two proportions: pooled z-test, Wald and Newcombe intervals |
//! | [`quantile`] | difference and relative difference of quantiles, the order-statistic (outer) interval as a standard error (Deng et al. 2018) |
//! | [`ratio`] | ratio metrics by the delta method |
//! | [`cluster_robust`] | least squares with cluster-robust covariance (CR0-CR3, two-way), Bell-McCaffrey df, design effect |
//! | [`cuped`] | CUPED: one pre-experiment covariate, for means and ratio metrics |
//! | [`regression`] | regression adjustment (Lin 2013), HC0-HC2, categorical covariates by their structure |
//! | [`msprt`] | the normal-mixture mSPRT (Johari et al. 2022): always-valid p-values and intervals over looks |
//! | [`permutation`] | permutation (randomisation) tests of a mean difference or relative lift, Monte-Carlo or exact, units or clusters |
//! | [`post_stratification`] | post-stratification from per-(stratum, arm) moments, `O(rows + levels x arms)` |
//! | [`power`] | analytic power, sample size, MDE and alpha by Brent's method; design effect, variance from history |
//! | [`simulation`] | power by simulation (parametric or resampled), seeded per block of experiments |
//! | [`sequential_srm`] | anytime-valid SRM by the Dirichlet-multinomial Bayes factor (Lindon and Malek 2022) |
//! | [`srm`] | sample-ratio mismatch (chi-square goodness of fit) |
//! | [`wild_cluster_bootstrap`] | restricted wild cluster bootstrap ("fast and wild"), test inversion |
//! | [`group_sequential`] | group-sequential designs: Lan-DeMets spending bounds by recursive integration, futility, inflation, mSPRT power |

pub mod balance;
pub mod cluster_robust;
pub mod confidence_sequence;
pub mod cuped;
pub mod group_sequential;
pub mod means;
pub mod msprt;
pub mod permutation;
pub mod post_stratification;
pub mod power;
pub mod proportions;
pub mod quantile;
pub mod ratio;
pub mod regression;
pub mod sequential_srm;
pub mod simulation;
pub mod srm;
pub mod wild_cluster_bootstrap;
