//! Tallies of a 0/1 outcome column per group: [`BinaryCounts`] (integers, so nothing is lost
//! however many rows), with the NaN, infinite and other invalid values counted apart.

use crate::error::{NeymanError, Result};
use crate::parallel::reduce_blocks;
use crate::scan::codes::{out_of_range, out_of_range_error, Code};
use crate::scan::{ScannedBinary, INNER_BLOCK};
use crate::simd::{self, with_lanes, Lanes};
use crate::stats::BinaryCounts;

impl ScannedBinary {
    fn add(mut self, o: ScannedBinary) -> Self {
        self.stats.merge(&o.stats);
        self.n_nan += o.n_nan;
        self.n_inf += o.n_inf;
        self.n_invalid += o.n_invalid;
        self
    }
}

/// Count trials and successes of a 0/1 column per group in one pass (`codes = None`: one group;
/// negative codes: rows in no group). Integer counts, so nothing is lost however many rows.
pub fn binary_counts_of<C: Code>(
    xs: &[f64],
    codes: Option<&[C]>,
    n_groups: usize,
) -> Result<Vec<ScannedBinary>> {
    if let Some(g) = codes {
        if g.len() != xs.len() {
            return Err(NeymanError::LengthMismatch {
                arg: "codes".into(),
                other: "values".into(),
                len: g.len(),
                other_len: xs.len(),
            });
        }
    }
    let isa = simd::chosen()?;
    // Per block range: the tallies and the largest out-of-range code (each sub-block's codes are
    // checked while in cache; a bad sub-block is not tallied).
    let map = |r: std::ops::Range<usize>| -> (Vec<ScannedBinary>, Option<i64>) {
        let mut acc = vec![ScannedBinary::default(); n_groups];
        let mut bad_code = None;
        let mut start = r.start;
        while start < r.end {
            let end = (start + INNER_BLOCK).min(r.end);
            let xb = &xs[start..end];
            let gb = codes.map(|g| &g[start..end]);
            if let Some(bad) = gb.and_then(|g| out_of_range(g, n_groups)) {
                bad_code = bad_code.max(Some(bad));
                start = end;
                continue;
            }
            let fast = if n_groups <= 8 {
                with_lanes!(isa, l => binary_block(xb, gb, n_groups, l))
            } else {
                None
            };
            let part = fast.unwrap_or_else(|| binary_block_scalar(xb, gb, n_groups));
            for (a, p) in acc.iter_mut().zip(part) {
                *a = a.add(p);
            }
            start = end;
        }
        (acc, bad_code)
    };
    type Part = (Vec<ScannedBinary>, Option<i64>);
    let merge = |(a, ba): Part, (b, bb): Part| {
        let tallies = a.into_iter().zip(b).map(|(x, y)| x.add(y)).collect();
        (tallies, ba.max(bb))
    };
    match reduce_blocks(xs.len(), map, merge)? {
        Some((_, Some(bad))) => Err(out_of_range_error(bad, n_groups)),
        Some((tallies, None)) => Ok(tallies),
        None => Ok(vec![ScannedBinary::default(); n_groups]),
    }
}

/// Per-group tallies of a block, one row at a time (any values, any number of groups).
fn binary_block_scalar<C: Code>(
    xs: &[f64],
    codes: Option<&[C]>,
    n_groups: usize,
) -> Vec<ScannedBinary> {
    let mut acc = vec![ScannedBinary::default(); n_groups];
    for (i, &v) in xs.iter().enumerate() {
        let k = codes.map_or(0, |g| g[i].index());
        if k < 0 {
            continue;
        }
        let a = &mut acc[k as usize];
        if v == 0.0 || v == 1.0 {
            a.stats.trials += 1;
            a.stats.successes += (v == 1.0) as u64;
        } else if v.is_nan() {
            a.n_nan += 1;
        } else if v.is_infinite() {
            a.n_inf += 1;
        } else {
            a.n_invalid += 1;
        }
    }
    acc
}

/// Vectorised tallies of a block whose values are all 0 or 1, by arithmetic only: with 0/1 group
/// weights `w`, trials are `sum w`, successes `sum w x`, and `sum w |x (x - 1)|` is zero exactly
/// when every value is 0 or 1 (each term is non-negative and non-zero otherwise; NaN or infinity
/// make it non-finite). `None` when some value is neither, so the caller takes the scalar path.
fn binary_block<C: Code, L: Lanes>(
    xs: &[f64],
    codes: Option<&[C]>,
    n_groups: usize,
    lanes: L,
) -> Option<Vec<ScannedBinary>> {
    let mut out = Vec::with_capacity(n_groups);
    for k in 0..n_groups {
        let [rows, ones, bad] = lanes.binary(xs, codes, k as i64);
        if bad.iter().sum::<f64>() != 0.0 {
            return None;
        }
        // Exact: at most INNER_BLOCK rows, and every term is 0 or 1.
        out.push(ScannedBinary {
            stats: BinaryCounts {
                trials: rows.iter().sum::<f64>() as u64,
                successes: ones.iter().sum::<f64>() as u64,
            },
            ..ScannedBinary::default()
        });
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_fast_path_matches_scalar() {
        let xs: Vec<f64> = (0..10_001)
            .map(|i| ((i * 7919) % 3 == 0) as u8 as f64)
            .collect();
        let codes: Vec<i32> = (0..10_001i32).map(|i| (i % 4) - 1).collect();
        let fast = binary_counts_of(&xs, Some(&codes), 3).unwrap();
        let slow = binary_block_scalar(&xs, Some(&codes), 3);
        assert_eq!(fast, slow);
        let mut odd = xs.clone();
        odd[5000] = 0.5;
        odd[6000] = f64::NAN;
        assert_eq!(
            binary_counts_of(&odd, Some(&codes), 3).unwrap(),
            binary_block_scalar(&odd, Some(&codes), 3)
        );
        let fast1 = binary_counts_of(&xs, None::<&[i32]>, 1).unwrap();
        assert_eq!(fast1, binary_block_scalar(&xs, None::<&[i32]>, 1));
        // Every implementation, block by block.
        for isa in simd::available() {
            let block = &xs[..4096];
            let got = with_lanes!(isa, l => binary_block(block, Some(&codes[..4096]), 3, l));
            assert_eq!(
                got,
                Some(binary_block_scalar(block, Some(&codes[..4096]), 3))
            );
        }
    }

    #[test]
    fn binary_counts_tally() {
        let xs = [0.0, 1.0, 1.0, f64::NAN, 0.5, f64::INFINITY, 1.0];
        let codes = [0, 0, 1, 1, 0, 1, -1];
        let r = binary_counts_of(&xs, Some(&codes), 2).unwrap();
        assert_eq!(
            (r[0].stats.trials, r[0].stats.successes, r[0].n_invalid),
            (2, 1, 1)
        );
        assert_eq!(
            (
                r[1].stats.trials,
                r[1].stats.successes,
                r[1].n_nan,
                r[1].n_inf
            ),
            (1, 1, 1, 1)
        );
    }
}
