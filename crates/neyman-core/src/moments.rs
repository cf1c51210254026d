//! `Moments`: count, mean and sum of squared deviations (M2) of one variable, mergeable.
//!
//! Single values update by Welford's recurrence (Welford 1962); partial statistics merge by the
//! pairwise formula of Chan, Golub and LeVeque (1979, eq. 2.1):
//! `M2 = M2_a + M2_b + d^2 n_a n_b / n`, `d = mean_b - mean_a`.
//! Slices are reduced in cache-sized blocks by the corrected two-pass algorithm (Chan, Golub and
//! LeVeque 1983, eq. 1.7), whose error does not grow with the mean's magnitude, and blocks merge in
//! order, so the result is one pass over memory and independent of the thread count.

use crate::codes::Code;
use crate::comoments::grouped_comoments_of;
use crate::error::{NeymanError, Result};
use crate::parallel::reduce_blocks;

/// Rows reduced at once by the two-pass block kernel (32 KiB of float64, resident in L1/L2).
pub(crate) const INNER_BLOCK: usize = 4096;
pub(crate) const LANES: usize = 8;

/// Count, mean and M2 (sum of squared deviations from the mean) of one variable.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Moments {
    /// Number of observations.
    pub n: u64,
    /// Arithmetic mean (0 when `n == 0`).
    pub mean: f64,
    /// Sum of squared deviations from the mean.
    pub m2: f64,
}

impl Moments {
    /// Empty statistic.
    pub fn new() -> Self {
        Self::default()
    }

    /// Build from pre-aggregated sums (count, sum, sum of squares), e.g. computed in SQL.
    ///
    /// `M2 = sum_sq - sum^2 / n` cancels badly when the mean is large relative to the standard
    /// deviation; a small negative result from rounding is clipped to zero, and sums that no data
    /// could produce (`sum_sq < sum^2 / n` beyond rounding) are an error.
    pub fn from_sums(n: u64, sum: f64, sum_sq: f64) -> Result<Self> {
        if !sum.is_finite() || !sum_sq.is_finite() {
            return Err(NeymanError::invalid("sum", "sums must be finite"));
        }
        if sum_sq < 0.0 {
            return Err(NeymanError::invalid(
                "sum_sq",
                "a sum of squares cannot be negative",
            ));
        }
        if n == 0 {
            return Ok(Self::new());
        }
        let nf = n as f64;
        let mean = sum / nf;
        let m2 = sum_sq - sum * mean;
        // Rounding can leave a tiny negative M2; a large one means the sums are inconsistent.
        if m2 < -1e-9 * sum_sq {
            return Err(NeymanError::invalid(
                "sum_sq",
                format!(
                    "{sum_sq} is less than sum^2 / n = {}; no data have these sums",
                    sum * mean
                ),
            ));
        }
        Ok(Self {
            n,
            mean,
            m2: m2.max(0.0),
        })
    }

    /// Add one observation (Welford).
    pub fn update(&mut self, x: f64) {
        self.n += 1;
        let d = x - self.mean;
        self.mean += d / self.n as f64;
        self.m2 += d * (x - self.mean);
    }

    /// Merge another statistic into this one (Chan et al.).
    pub fn merge(&mut self, other: &Moments) {
        if other.n == 0 {
            return;
        }
        if self.n == 0 {
            *self = *other;
            return;
        }
        let (na, nb) = (self.n as f64, other.n as f64);
        let n = na + nb;
        let d = other.mean - self.mean;
        self.mean += d * (nb / n);
        self.m2 += other.m2 + d * d * (na * nb / n);
        self.n += other.n;
    }

    /// Merged copy.
    pub fn merged(mut self, other: &Moments) -> Moments {
        self.merge(other);
        self
    }

    /// Sample variance with `n - 1` in the denominator (NaN when `n < 2`).
    pub fn variance(&self) -> f64 {
        if self.n < 2 {
            f64::NAN
        } else {
            self.m2 / (self.n - 1) as f64
        }
    }

    /// Sum of the observations.
    pub fn sum(&self) -> f64 {
        self.mean * self.n as f64
    }
}

/// Moments of the finite values of a slice, and how many values were NaN or infinite.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct SliceMoments {
    /// Moments over the finite values.
    pub moments: Moments,
    /// Number of NaN values skipped.
    pub n_nan: u64,
    /// Number of +inf or -inf values skipped.
    pub n_inf: u64,
}

impl SliceMoments {
    fn merge(mut self, other: SliceMoments) -> SliceMoments {
        self.moments.merge(&other.moments);
        self.n_nan += other.n_nan;
        self.n_inf += other.n_inf;
        self
    }
}

/// Sum of a block in `LANES` independent accumulators (a fixed order, so every build and every
/// instruction set gives the same bits).
#[inline(always)]
pub(crate) fn lane_sum(xs: &[f64]) -> f64 {
    let mut s = [0.0f64; LANES];
    let chunks = xs.chunks_exact(LANES);
    let rest = chunks.remainder();
    for ch in chunks {
        for l in 0..LANES {
            s[l] += ch[l];
        }
    }
    for (l, &v) in rest.iter().enumerate() {
        s[l] += v;
    }
    s.iter().sum()
}

/// Sums of deviations and of squared deviations from `mean`, in `LANES` accumulators.
#[inline(always)]
fn lane_deviations(xs: &[f64], mean: f64) -> (f64, f64) {
    let mut d1 = [0.0f64; LANES];
    let mut d2 = [0.0f64; LANES];
    let chunks = xs.chunks_exact(LANES);
    let rest = chunks.remainder();
    for ch in chunks {
        for l in 0..LANES {
            let d = ch[l] - mean;
            d1[l] += d;
            d2[l] += d * d;
        }
    }
    for (l, &v) in rest.iter().enumerate() {
        let d = v - mean;
        d1[l] += d;
        d2[l] += d * d;
    }
    (d1.iter().sum(), d2.iter().sum())
}

/// Corrected two-pass moments of a block whose values are all finite.
#[inline(always)]
fn finite_block(xs: &[f64]) -> Option<Moments> {
    let s = lane_sum(xs);
    // A finite sum means no NaN or infinity in the block (either would propagate).
    if !s.is_finite() || xs.is_empty() {
        return None;
    }
    let nf = xs.len() as f64;
    let mean = s / nf;
    let (sd1, sd2) = lane_deviations(xs, mean);
    Some(Moments {
        n: xs.len() as u64,
        mean: mean + sd1 / nf,
        m2: (sd2 - sd1 * sd1 / nf).max(0.0),
    })
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn finite_block_avx2(xs: &[f64]) -> Option<Moments> {
    finite_block(xs)
}

/// Fast path for all-finite blocks, with the same arithmetic on AVX2 (wider registers, same
/// order of operations, identical results) when the CPU has it.
fn finite_block_dispatch(xs: &[f64]) -> Option<Moments> {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2, checked just above.
            return unsafe { finite_block_avx2(xs) };
        }
    }
    finite_block(xs)
}

/// Corrected two-pass moments of the finite values of a small block.
fn block_moments(xs: &[f64]) -> SliceMoments {
    if let Some(moments) = finite_block_dispatch(xs) {
        return SliceMoments {
            moments,
            n_nan: 0,
            n_inf: 0,
        };
    }
    masked_block_moments(xs)
}

/// The slow path for a block with NaN or infinite values: they are counted and skipped.
fn masked_block_moments(xs: &[f64]) -> SliceMoments {
    let mut s = [0.0f64; LANES];
    let mut c = [0u64; LANES];
    let chunks = xs.chunks_exact(LANES);
    let rest = chunks.remainder();
    for ch in chunks {
        for l in 0..LANES {
            let v = ch[l];
            let ok = v.is_finite();
            s[l] += if ok { v } else { 0.0 };
            c[l] += ok as u64;
        }
    }
    for (l, &v) in rest.iter().enumerate() {
        let ok = v.is_finite();
        s[l] += if ok { v } else { 0.0 };
        c[l] += ok as u64;
    }
    let n: u64 = c.iter().sum();
    let n_bad = xs.len() as u64 - n;
    let nan = xs.iter().filter(|v| v.is_nan()).count() as u64;
    let (n_nan, n_inf) = (nan, n_bad - nan);
    if n == 0 {
        return SliceMoments {
            moments: Moments::new(),
            n_nan,
            n_inf,
        };
    }
    let mean = s.iter().sum::<f64>() / n as f64;
    let mut d1 = [0.0f64; LANES];
    let mut d2 = [0.0f64; LANES];
    let chunks = xs.chunks_exact(LANES);
    let rest = chunks.remainder();
    for ch in chunks {
        for l in 0..LANES {
            let v = ch[l];
            let d = if v.is_finite() { v - mean } else { 0.0 };
            d1[l] += d;
            d2[l] += d * d;
        }
    }
    for (l, &v) in rest.iter().enumerate() {
        let d = if v.is_finite() { v - mean } else { 0.0 };
        d1[l] += d;
        d2[l] += d * d;
    }
    let sd1: f64 = d1.iter().sum();
    let sd2: f64 = d2.iter().sum();
    let nf = n as f64;
    SliceMoments {
        moments: Moments {
            n,
            mean: mean + sd1 / nf,
            m2: (sd2 - sd1 * sd1 / nf).max(0.0),
        },
        n_nan,
        n_inf,
    }
}

fn serial_moments(xs: &[f64]) -> SliceMoments {
    xs.chunks(INNER_BLOCK)
        .map(block_moments)
        .reduce(SliceMoments::merge)
        .unwrap_or_default()
}

/// Moments of the finite values of `xs` in one parallel pass; NaN and infinities are counted, not
/// used, so the caller decides what they mean (`nan_policy`).
pub fn moments_of(xs: &[f64]) -> Result<SliceMoments> {
    Ok(
        reduce_blocks(xs.len(), |r| serial_moments(&xs[r]), SliceMoments::merge)?
            .unwrap_or_default(),
    )
}

/// Per-group moments of `xs`, where `codes[i]` is the group of row `i` (negative codes are rows in
/// no group and are skipped). One pass; each group's result is what [`moments_of`] gives on the
/// group's rows up to rounding.
pub fn grouped_moments_of<C: Code>(
    xs: &[f64],
    codes: &[C],
    n_groups: usize,
) -> Result<Vec<SliceMoments>> {
    if xs.len() != codes.len() {
        return Err(NeymanError::LengthMismatch {
            arg: "values".into(),
            other: "codes".into(),
            len: xs.len(),
            other_len: codes.len(),
        });
    }
    let parts = grouped_comoments_of::<1, C>(&[xs], &["values"], Some(codes), n_groups)?;
    Ok(parts
        .iter()
        .map(|p| SliceMoments {
            moments: Moments {
                n: p.comoments.n,
                mean: p.comoments.mean[0],
                m2: p.comoments.c[0][0],
            },
            n_nan: p.n_nan,
            n_inf: p.n_inf,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn naive(xs: &[f64]) -> (f64, f64) {
        let n = xs.len() as f64;
        let m = xs.iter().sum::<f64>() / n;
        (m, xs.iter().map(|x| (x - m) * (x - m)).sum())
    }

    #[test]
    fn hand_worked_values() {
        // 2, 4, 4, 4, 5, 5, 7, 9: mean 5, M2 32 (population variance 4).
        let r = moments_of(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]).unwrap();
        assert_eq!(r.moments.n, 8);
        assert_eq!(r.moments.mean, 5.0);
        assert_eq!(r.moments.m2, 32.0);
        assert_eq!(r.moments.variance(), 32.0 / 7.0);
    }

    #[test]
    fn fast_and_masked_paths_agree() {
        let xs: Vec<f64> = (0..5000)
            .map(|i| ((i * 7919) % 997) as f64 * 0.37 - 50.0)
            .collect();
        let fast = block_moments(&xs).moments;
        let slow = masked_block_moments(&xs).moments;
        assert_eq!(fast.n, slow.n);
        assert!((fast.mean - slow.mean).abs() < 1e-12);
        assert!((fast.m2 - slow.m2).abs() <= 1e-12 * slow.m2);
    }

    #[test]
    fn counts_nan_and_inf() {
        let r = moments_of(&[1.0, f64::NAN, 3.0, f64::INFINITY, f64::NEG_INFINITY]).unwrap();
        assert_eq!((r.moments.n, r.n_nan, r.n_inf), (2, 1, 2));
        assert_eq!(r.moments.mean, 2.0);
    }

    #[test]
    fn large_offset_is_stable() {
        // Naive sum-of-squares loses every digit here; the two-pass kernel keeps them.
        let xs: Vec<f64> = (0..10_000).map(|i| 1e9 + (i % 7) as f64).collect();
        let r = moments_of(&xs).unwrap();
        let (m, m2) = naive(&xs);
        assert!((r.moments.mean - m).abs() < 1e-6);
        assert!((r.moments.m2 - m2).abs() / m2 < 1e-9);
    }

    #[test]
    fn from_sums_matches_data() {
        let xs = [1.0, 2.0, 3.5, -4.0];
        let s: f64 = xs.iter().sum();
        let ss: f64 = xs.iter().map(|x| x * x).sum();
        let a = Moments::from_sums(4, s, ss).unwrap();
        let b = moments_of(&xs).unwrap().moments;
        assert!((a.mean - b.mean).abs() < 1e-12 && (a.m2 - b.m2).abs() < 1e-12);
    }

    #[test]
    fn grouped_matches_ungrouped() {
        let xs: Vec<f64> = (0..200_000)
            .map(|i| ((i * 7919) % 1000) as f64 / 7.0)
            .collect();
        let codes: Vec<i32> = (0..200_000i32).map(|i| (i % 3) - 1).collect();
        let g = grouped_moments_of(&xs, &codes, 2).unwrap();
        for k in 0..2 {
            let sub: Vec<f64> = xs
                .iter()
                .zip(&codes)
                .filter(|(_, &c)| c == k as i32)
                .map(|(x, _)| *x)
                .collect();
            let r = moments_of(&sub).unwrap().moments;
            assert_eq!(g[k].moments.n, r.n);
            assert!((g[k].moments.mean - r.mean).abs() < 1e-10);
            assert!((g[k].moments.m2 - r.m2).abs() / r.m2 < 1e-10);
        }
    }

    proptest! {
        #[test]
        fn any_split_merges_to_the_whole(xs in prop::collection::vec(-1e6f64..1e6, 2..300), cut in 0usize..300) {
            let cut = cut.min(xs.len());
            let whole = moments_of(&xs).unwrap().moments;
            let mut a = Moments::new();
            xs[..cut].iter().for_each(|&x| a.update(x));
            let b = moments_of(&xs[cut..]).unwrap().moments;
            let m = a.merged(&b);
            prop_assert_eq!(m.n, whole.n);
            prop_assert!((m.mean - whole.mean).abs() <= 1e-9 * (1.0 + whole.mean.abs()));
            prop_assert!((m.m2 - whole.m2).abs() <= 1e-9 * (1.0 + whole.m2));
        }
    }
}
