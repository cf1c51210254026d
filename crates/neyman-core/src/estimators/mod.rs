//! One file per estimator, each finalizing a comparison from statistics.

pub mod regression;
