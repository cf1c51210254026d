//! Group codes: the arm (or group) of each row, as any signed integer type the caller has (an
//! `int8` arm column is read in place, without conversion). Negative codes mark rows in no group.

use crate::error::{NeymanError, Result};
use crate::parallel::reduce_blocks;
pub use crate::simd::Int;

/// An integer group code (`i8` to `i64`); [`Int::index`] gives it as `i64`.
pub trait Code: Int + Ord {
    /// The code of group `v` (small enough for every code type).
    fn of(v: u8) -> Self;
    /// How many of `codes` equal `code`: sums of 0/1 at the codes' own width over chunks short
    /// enough not to overflow, so the comparison and the sum vectorise at full width.
    fn count_eq(codes: &[Self], code: Self) -> u64;
}

macro_rules! impl_code {
    ($($t:ty => $u:ty),*) => {$(
        impl Code for $t {
            #[inline(always)]
            fn of(v: u8) -> Self {
                v as $t
            }

            fn count_eq(codes: &[Self], code: Self) -> u64 {
                const CHUNK: usize = if <$u>::BITS >= 32 { 1 << 20 } else { 1 << (<$u>::BITS - 1) };
                codes
                    .chunks(CHUNK)
                    .map(|ch| ch.iter().map(|&c| <$u>::from(c == code)).sum::<$u>() as u64)
                    .sum()
            }

        }
    )*};
}

impl_code!(i8 => u8, i16 => u16, i32 => u32, i64 => u64);

/// The largest code if it is not below `n_groups` (negative codes are allowed: rows in no group).
/// A max-fold in the codes' own type, which vectorises at its width, rather than a search. The
/// kernels call it on each sub-block while it is in cache, not as a pass of its own.
pub fn out_of_range<C: Code>(codes: &[C], n_groups: usize) -> Option<i64> {
    let &first = codes.first()?;
    let max = codes
        .iter()
        .fold(first, |m, &c| if c > m { c } else { m })
        .index();
    (max >= 0 && max as u64 >= n_groups as u64).then_some(max)
}

/// The error for group code `bad` when there are `n_groups` groups.
pub fn out_of_range_error(bad: i64, n_groups: usize) -> NeymanError {
    NeymanError::invalid(
        "codes",
        format!("group code {bad} is out of range for {n_groups} groups"),
    )
}

/// Smallest and largest code, and, when every code is in `0..limit`, the number of rows of each
/// code `0..=max`: what labelling an integer arm column needs, in one parallel pass (per block, a
/// min/max fold, then one vectorised equality count per code above 0 while the block is in
/// cache; code 0 has the remaining rows).
#[derive(Clone, Debug, PartialEq)]
pub struct CodeSummary {
    /// Smallest code.
    pub min: i64,
    /// Largest code.
    pub max: i64,
    /// Rows of each code `0..=max`; `None` if a code is negative or not below `limit`.
    pub counts: Option<Vec<u64>>,
}

/// [`CodeSummary`] of `codes` (`None` if there are no rows).
pub fn code_summary<C: Code>(codes: &[C], limit: u8) -> Result<Option<CodeSummary>> {
    let map = |r: std::ops::Range<usize>| {
        let block = &codes[r];
        // One fold in the codes' own type, so it vectorises at its width.
        let first = block.first().copied().unwrap_or(C::of(0));
        let (lo, hi) = block.iter().fold((first, first), |(lo, hi), &c| {
            (if c < lo { c } else { lo }, if c > hi { c } else { hi })
        });
        let (min, max) = (lo.index(), hi.index());
        let counts = (min >= 0 && max < i64::from(limit)).then(|| {
            // Codes 1..=max counted; code 0 has the rest of the rows.
            let mut counts: Vec<u64> = (0..=max as u8)
                .map(|v| {
                    if v == 0 {
                        0
                    } else {
                        C::count_eq(block, C::of(v))
                    }
                })
                .collect();
            counts[0] = block.len() as u64 - counts.iter().sum::<u64>();
            counts
        });
        CodeSummary { min, max, counts }
    };
    let merge = |a: CodeSummary, b: CodeSummary| {
        let counts = match (a.counts, b.counts) {
            (Some(x), Some(y)) => {
                let (mut long, short) = if x.len() >= y.len() { (x, y) } else { (y, x) };
                for (l, s) in long.iter_mut().zip(&short) {
                    *l += s;
                }
                Some(long)
            }
            _ => None,
        };
        CodeSummary {
            min: a.min.min(b.min),
            max: a.max.max(b.max),
            counts,
        }
    };
    reduce_blocks(codes.len(), map, merge)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_check() {
        let c: Vec<i8> = vec![0, 1, 1, 2, 0, 1];
        assert_eq!(out_of_range(&c, 3), None);
        assert_eq!(out_of_range(&[-1i32, 0], 1), None);
        assert_eq!(out_of_range(&c, 2), Some(2));
    }

    #[test]
    fn summary_counts_each_code() {
        // Over several parallel blocks, with codes that reach 2 only in the last one.
        let n = 200_000;
        let c: Vec<i8> = (0..n)
            .map(|i| i8::from(i % 3 == 0) + i8::from(i > n - 5))
            .collect();
        let s = code_summary(&c, 64).unwrap().unwrap();
        let want: Vec<u64> = (0..3)
            .map(|v| c.iter().filter(|&&x| x == v).count() as u64)
            .collect();
        assert_eq!((s.min, s.max, s.counts), (0, 2, Some(want.clone())));
        let c16: Vec<i16> = c.iter().map(|&x| i16::from(x)).collect();
        let c32: Vec<i32> = c.iter().map(|&x| i32::from(x)).collect();
        assert_eq!(
            code_summary(&c16, 64).unwrap().unwrap().counts,
            Some(want.clone())
        );
        assert_eq!(code_summary(&c32, 64).unwrap().unwrap().counts, Some(want));
        let s = code_summary(&[3i64, -1, 5], 64).unwrap().unwrap();
        assert_eq!((s.min, s.max, s.counts), (-1, 5, None));
        assert_eq!(code_summary(&[70i32], 64).unwrap().unwrap().counts, None);
        assert_eq!(code_summary::<i16>(&[], 64).unwrap(), None);
    }
}
