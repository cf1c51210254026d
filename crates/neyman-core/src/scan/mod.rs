//! One-pass kernels that fill statistics from columns, for all rows or grouped by arm codes.
//!
//! | module | fills |
//! | --- | --- |
//! | [`codes`] | the `Code` trait (arm codes of any signed integer type), `code_summary`, range checks |
//! | [`comoments`] | the one co-moments kernel: [`CoMoments`] of K columns per group |
//! | [`moments`] | [`Moments`] of one column, per group or not: the co-moments kernel with K = 1 |
//! | [`binary`] | [`BinaryCounts`] of a 0/1 column per group |
//! | [`cluster`] | [`crate::stats::ClusterSums`] of a linear model's design, built in the kernel, per cluster |
//!
//! Every kernel counts the values it cannot use (NaN, infinities; for 0/1 data also other values)
//! and leaves the decision to the caller (`nan_policy`). Values whose squares leave float64's
//! normal range (magnitudes beyond about 1e+150 or below 1e-150) are an error naming the column,
//! since no variance of them can be computed.

pub mod binary;
pub mod cluster;
pub mod codes;
pub mod comoments;
pub mod moments;

pub use binary::binary_counts_of;
pub use cluster::{cluster_sums, dense_codes, fold_rows, ratio_cluster_sums, ClusterDesign};
pub use codes::{code_summary, Code, CodeSummary};
pub use comoments::{comoments_of, grouped_comoments_counting, grouped_comoments_of};
pub use moments::{grouped_moments_of, moments_of, named_moments_of};

use crate::error::{NeymanError, Result};
use crate::stats::{BinaryCounts, CoMoments, Moments};

/// Rows reduced at once by the block kernels (32 KiB of float64, resident in L1/L2).
pub(crate) const INNER_BLOCK: usize = 4096;

/// A statistic over the usable rows, and how many rows were skipped as NaN or infinite.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Scanned<S> {
    /// The statistic over the rows whose values are all finite.
    pub stats: S,
    /// Rows with a NaN (and no infinity).
    pub n_nan: u64,
    /// Rows with an infinity.
    pub n_inf: u64,
}

impl<const K: usize> Scanned<CoMoments<K>> {
    /// Merge the scan of later rows.
    pub(crate) fn merge(mut self, o: Self) -> Self {
        self.stats.merge(&o.stats);
        self.n_nan += o.n_nan;
        self.n_inf += o.n_inf;
        self
    }
}

impl Scanned<Moments> {
    /// Merge the scan of later rows.
    pub fn merged(mut self, o: &Self) -> Self {
        self.stats.merge(&o.stats);
        self.n_nan += o.n_nan;
        self.n_inf += o.n_inf;
        self
    }
}

/// Per-group tallies of a 0/1 column: the counts, and the rows that could not be used.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ScannedBinary {
    /// Trials (rows equal to 0 or 1) and successes (rows equal to 1).
    pub stats: BinaryCounts,
    /// NaN rows.
    pub n_nan: u64,
    /// Infinite rows.
    pub n_inf: u64,
    /// Finite rows that are neither 0 nor 1.
    pub n_invalid: u64,
}

/// Beyond this magnitude the squares of values overflow float64 (1e+308).
const MAX_MAGNITUDE: f64 = 1e150;
/// Below this magnitude (and above zero) the squares of values are subnormal (below 2.2e-308),
/// so variances lose their digits.
const MIN_MAGNITUDE: f64 = 1e-150;

/// The error for a column whose values are too large or too small to square in float64, judged
/// from each group's mean and standard deviation (a NaN or infinite co-moment means the squares
/// overflowed).
pub(crate) fn check_magnitudes<const K: usize>(
    groups: &[Scanned<CoMoments<K>>],
    names: &[&str; K],
) -> Result<()> {
    for g in groups.iter().filter(|g| g.stats.n > 0) {
        for a in 0..K {
            let (mean, c) = (g.stats.mean[a], g.stats.c[a][a]);
            let sd = (c / g.stats.n as f64).sqrt();
            let magnitude = if !mean.is_finite() || !c.is_finite() {
                // The squares overflowed: say the mean's size when it tells.
                if mean.abs() > MAX_MAGNITUDE {
                    mean.abs()
                } else {
                    f64::INFINITY
                }
            } else {
                mean.abs().max(sd)
            };
            check_magnitude(names[a], magnitude)?;
        }
    }
    Ok(())
}

/// The error for a column of values of this magnitude (infinite: too large to say) when their
/// squares overflow float64 or are subnormal.
pub(crate) fn check_magnitude(name: &str, magnitude: f64) -> Result<()> {
    let exponent = || magnitude.log10().round() as i32;
    if magnitude > MAX_MAGNITUDE {
        let size = if magnitude.is_finite() {
            format!("values of magnitude ~1e{:+}", exponent())
        } else {
            "values too large".to_string()
        };
        return Err(NeymanError::invalid(
            name,
            format!("{size}: their squares overflow float64; rescale the data"),
        ));
    }
    if magnitude > 0.0 && magnitude < MIN_MAGNITUDE {
        return Err(NeymanError::invalid(
            name,
            format!(
                "values of magnitude ~1e{:+}: their squares are subnormal in float64, so their \
                 variance loses its digits; rescale the data",
                exponent()
            ),
        ));
    }
    Ok(())
}
