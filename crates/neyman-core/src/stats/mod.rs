//! The statistics: small mergeable structs of sufficient statistics, and nothing else (no
//! kernels, no tests of hypotheses). Each has its data, `update` where rows come one at a time,
//! `merge` (two statistics of disjoint rows combine exactly), and constructors from pre-aggregated
//! parts (`from_parts`, validated) or raw sums (`from_sums`, checked for cancellation).
//!
//! | statistic | holds |
//! | --- | --- |
//! | [`Moments`] | n, mean, M2 |
//! | [`CoMoments`] | n, means, co-moment matrix of K variables |
//! | [`BinaryCounts`] | trials, successes |
//! | [`RegressionSums`] | raw sums of one arm for regression adjustment |
//! | [`ClusterSums`] | per-cluster cross-products of a linear model's design and outcome, by key |

pub mod binary;
pub mod cluster;
pub mod comoments;
pub mod moments;
pub mod regression;

pub use binary::BinaryCounts;
pub use cluster::{ClusterKeys, ClusterSums, Layout};
pub use comoments::CoMoments;
pub use moments::Moments;
pub use regression::RegressionSums;

use crate::error::{NeymanError, Result};

/// Sums of squares at or below `2^53` hold integer data exactly: sums that cancel completely there
/// are taken to come from constant data; above it, from data whose spread the sums cannot carry.
const EXACT_SUMS: f64 = 9_007_199_254_740_992.0;

/// Loss of precision tolerated in a sum of squared deviations from raw sums: the rounding bound
/// may reach this fraction of the result (about six correct digits remain).
const MAX_RELATIVE_ROUNDING: f64 = 1e-6;

/// Check a sum of squared deviations `m2 = sum_sq - sum^2 / n` computed from raw sums (already
/// clipped at zero), and return the value to use.
///
/// The subtraction's rounding error is about `eps * sum_sq`; when that bound exceeds
/// [`MAX_RELATIVE_ROUNDING`] of `m2`, the sums have cancelled and `m2` is noise (data with mean
/// 1e8 and standard deviation 1 give 0 or 4 times the truth from 1e5 rows): a
/// [`NeymanError::PrecisionLoss`] naming `arg`. Complete cancellation of small sums (at most
/// [`EXACT_SUMS`], a few units of rounding) is what constant data give, e.g. `n = 4` rows of 3 or
/// ten rows of 0.1: there the result is exactly 0, a zero-variance statistic, not an error.
pub(crate) fn checked_cancellation(arg: &str, m2: f64, sum_sq: f64, centred: &str) -> Result<f64> {
    let rounding = f64::EPSILON * sum_sq.abs();
    if rounding <= MAX_RELATIVE_ROUNDING * m2 {
        return Ok(m2);
    }
    let complete = m2 <= 64.0 * rounding;
    if complete && sum_sq.abs() <= EXACT_SUMS {
        return Ok(0.0);
    }
    let lost = if m2 > 0.0 {
        format!(
            "loses about {:.0} of its 16 significant digits",
            (sum_sq.abs() / m2).log10().clamp(1.0, 16.0)
        )
    } else {
        "loses all 16 significant digits".to_string()
    };
    Err(NeymanError::PrecisionLoss {
        arg: arg.into(),
        msg: format!(
            "the sums have cancelled: sum of squares - sum^2 / n {lost} (the mean is large \
             against the spread, so these sums cannot carry the variance); pass the centred \
             statistics instead: {centred}"
        ),
    })
}
