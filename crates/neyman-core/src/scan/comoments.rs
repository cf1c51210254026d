//! The one co-moments kernel: per-group [`CoMoments`] of K columns in one pass (moments are the
//! case K = 1).
//!
//! Rows are cut into parallel blocks ([`crate::parallel`]) and each block into cache-resident
//! sub-blocks of 4,096 rows, reduced by the corrected two-pass algorithm (Chan, Golub
//! and LeVeque 1983, eq. 1.7), whose error does not grow with the mean's magnitude, or by one pass
//! around a shift close to the mean (the shifted algorithm of the same paper); sub-blocks and
//! blocks merge in order (Chan, Golub and LeVeque 1979), so the result is one pass over memory
//! and independent of the thread count.

use crate::error::{NeymanError, Result};
use crate::parallel::reduce_blocks;
use crate::scan::codes::{out_of_range, out_of_range_error, Code};
use crate::scan::{check_magnitudes, Scanned, INNER_BLOCK};
use crate::simd::{self, with_lanes, Isa, Lanes, LANES, PAIR_LANES};
use crate::stats::CoMoments;

fn check_lengths<const K: usize>(cols: &[&[f64]; K], names: &[&str; K]) -> Result<usize> {
    let len = cols.first().map_or(0, |c| c.len());
    for k in 1..K {
        if cols[k].len() != len {
            return Err(NeymanError::LengthMismatch {
                arg: names[k].into(),
                other: names[0].into(),
                len: cols[k].len(),
                other_len: len,
            });
        }
    }
    Ok(len)
}

/// Per-group co-moments of K columns in one pass. `codes[i]` is the group of row `i` (negative: no
/// group, skipped); with `codes = None` every row is in group 0. Rows with a non-finite value in
/// any column are counted, not used.
pub fn grouped_comoments_of<const K: usize, C: Code>(
    cols: &[&[f64]; K],
    names: &[&str; K],
    codes: Option<&[C]>,
    n_groups: usize,
) -> Result<Vec<Scanned<CoMoments<K>>>> {
    Ok(grouped_comoments_counting(cols, names, codes, n_groups, &[])?.0)
}

/// [`grouped_comoments_of`], and for each column index in `nonnegative`, the number of its values
/// below zero over all rows (what a ratio metric's denominator must not have). They are counted
/// sub-block by sub-block while the rows are in cache, so the check costs no extra pass over
/// memory.
pub fn grouped_comoments_counting<const K: usize, C: Code>(
    cols: &[&[f64]; K],
    names: &[&str; K],
    codes: Option<&[C]>,
    n_groups: usize,
    nonnegative: &[usize],
) -> Result<(Vec<Scanned<CoMoments<K>>>, Vec<u64>)> {
    if let Some(&bad) = nonnegative.iter().find(|&&k| k >= K) {
        return Err(NeymanError::invalid(
            "nonnegative",
            format!("column {bad} does not exist ({K} columns)"),
        ));
    }
    let len = check_lengths(cols, names)?;
    let isa = simd::chosen()?;
    if let Some(g) = codes {
        if g.len() != len {
            return Err(NeymanError::LengthMismatch {
                arg: "codes".into(),
                other: names[0].into(),
                len: g.len(),
                other_len: len,
            });
        }
    } else if n_groups != 1 {
        return Err(NeymanError::invalid(
            "n_groups",
            "without codes there is exactly one group",
        ));
    }
    // Per block range: the statistics, the negative counts, and the largest out-of-range code
    // (each sub-block's codes are checked while in cache; a bad sub-block is not reduced).
    type Part<const K: usize> = (Vec<Scanned<CoMoments<K>>>, Vec<u64>, Option<i64>);
    let map = |r: std::ops::Range<usize>| -> Part<K> {
        let mut acc = vec![Scanned::<CoMoments<K>>::default(); n_groups];
        let mut negative = vec![0u64; nonnegative.len()];
        let mut bad_code = None;
        // Each group's mean in the previous block of this range: the shift of its next one-pass
        // reduction (in a range's first block, the group's first row).
        let mut shifts = vec![None; n_groups];
        let mut start = r.start;
        while start < r.end {
            let end = (start + INNER_BLOCK).min(r.end);
            if let Some(bad) = codes.and_then(|g| out_of_range(&g[start..end], n_groups)) {
                bad_code = bad_code.max(Some(bad));
                start = end;
                continue;
            }
            let block: [&[f64]; K] = std::array::from_fn(|a| &cols[a][start..end]);
            for (count, &k) in negative.iter_mut().zip(nonnegative) {
                *count += block[k].iter().map(|&v| u64::from(v < 0.0)).sum::<u64>();
            }
            match codes {
                None => {
                    let part = ungrouped_block(&block, isa);
                    acc[0] = acc[0].merge(part);
                }
                Some(g) => {
                    let parts = grouped_block(&block, &g[start..end], n_groups, &mut shifts, isa);
                    for (a, p) in acc.iter_mut().zip(parts) {
                        *a = a.merge(p);
                    }
                }
            }
            start = end;
        }
        (acc, negative, bad_code)
    };
    let merge = |(a, na, ba): Part<K>, (b, nb, bb): Part<K>| {
        let stats = a.into_iter().zip(b).map(|(x, y)| x.merge(y)).collect();
        (
            stats,
            na.iter().zip(&nb).map(|(x, y)| x + y).collect(),
            ba.max(bb),
        )
    };
    match reduce_blocks(len, map, merge)? {
        Some((_, _, Some(bad))) => Err(out_of_range_error(bad, n_groups)),
        Some((stats, negative, None)) => {
            check_magnitudes(&stats, names)?;
            Ok((stats, negative))
        }
        None => Ok((
            vec![Scanned::default(); n_groups],
            vec![0; nonnegative.len()],
        )),
    }
}

/// Co-moments of an all-finite block by the corrected two-pass algorithm, in two fused,
/// vectorised passes (K = 1 or 2; other K take the scatter path). `None` if any value is not
/// finite.
#[inline(always)]
fn finite_block<const K: usize, L: Lanes>(cols: &[&[f64]; K], lanes: L) -> Option<CoMoments<K>> {
    fused_block::<K, false, i8, L>(cols, &[], 0, lanes)
}

/// Count of the taken rows of a block and the sums of a shifted pass over them: deviations of x
/// and y from the shift, squares of each, cross-products.
struct ShiftedSums {
    count: u64,
    shift: (f64, f64),
    /// Sums of `a = x - shift.0` and `b = y - shift.1`.
    s1: [f64; 2],
    /// Sums of `a a`, `b b`, `a b`.
    s2: [f64; 3],
}

impl ShiftedSums {
    /// Whether every sum is finite (a NaN or infinity among the taken values makes some sum not).
    fn finite(&self) -> bool {
        self.s1.iter().chain(&self.s2).all(|v| v.is_finite())
    }

    /// Whether the shift is close enough to the mean for the one-pass formula `sum a a - (sum
    /// a)^2 / n` to keep its accuracy: the mean offset takes at most 15/16 of the raw sum of
    /// squares, so the subtraction loses at most four bits (Chan, Golub and LeVeque 1983).
    fn shift_is_close<const K: usize>(&self) -> bool {
        let n = self.count as f64;
        let close = |s1: f64, s2: f64| s1 * s1 <= 0.9375 * n * s2;
        close(self.s1[0], self.s2[0]) && (K == 1 || close(self.s1[1], self.s2[1]))
    }

    /// The co-moments: means `shift + sum a / n`, co-moments `sum a b - sum a sum b / n`.
    fn comoments<const K: usize>(&self) -> CoMoments<K> {
        let mut out = CoMoments::<K>::new();
        if self.count == 0 {
            return out;
        }
        let n = self.count as f64;
        let [s1x, s1y] = self.s1;
        let [sxx, syy, sxy] = self.s2;
        out.n = self.count;
        out.mean[0] = self.shift.0 + s1x / n;
        out.c[0][0] = (sxx - s1x * s1x / n).max(0.0);
        if K == 2 {
            out.mean[K - 1] = self.shift.1 + s1y / n;
            out.c[K - 1][K - 1] = (syy - s1y * s1y / n).max(0.0);
            let cxy = sxy - s1x * s1y / n;
            out.c[0][K - 1] = cxy;
            out.c[K - 1][0] = cxy;
        }
        out
    }
}

/// One shifted pass over the taken rows of a block (pass two of the fused kernel, then the rows
/// after the last full lane group), its lane sums added in lane order.
#[inline(always)]
fn shifted_sums<const K: usize, const MASKED: bool, C: Code, L: Lanes>(
    x: &[f64],
    y: &[f64],
    rows: (&[C], i64),
    shift: (f64, f64),
    lanes: L,
    ahead: usize,
) -> ShiftedSums {
    let (p2, count) = lanes.pass2::<K, MASKED, C>(x, y, rows, shift, ahead);
    let [dx, dy, dxx, dyy, dxy] = p2;
    let sum = |v: [f64; LANES]| -> f64 { v.iter().sum() };
    ShiftedSums {
        count: count.iter().sum(),
        shift,
        s1: [sum(dx), sum(dy)],
        s2: [sum(dxx), sum(dyy), sum(dxy)],
    }
}

/// Both groups of a two-group block in one pass around a common shift (rows with other codes are
/// in neither): the codes and values are read once for both groups. Each group's count is taken
/// from the codes.
#[inline(always)]
fn pair_sums<const K: usize, C: Code, L: Lanes>(
    xy: (&[f64], &[f64]),
    codes: &[C],
    shift: (f64, f64),
    lanes: L,
    ahead: usize,
) -> [ShiftedSums; 2] {
    let acc = lanes.pair::<K, C>(xy, codes, shift, ahead);
    let sum = |v: [f64; PAIR_LANES]| -> f64 { v.iter().sum() };
    [0u8, 1].map(|g| {
        let s = acc[usize::from(g)];
        ShiftedSums {
            count: C::count_eq(codes, C::of(g)),
            shift,
            s1: [sum(s[0]), sum(s[1])],
            s2: [sum(s[2]), sum(s[3]), sum(s[4])],
        }
    })
}

/// The columns of a block as the kernel's `(x, y)` (y is x when K = 1), or `None` if K > 2 or
/// the lengths differ.
fn pair<'a, const K: usize, const MASKED: bool, C: Code>(
    cols: &[&'a [f64]; K],
    codes: &[C],
) -> Option<(&'a [f64], &'a [f64])> {
    let x = cols[0];
    let y = cols[K - 1];
    (K <= 2 && y.len() == x.len() && (!MASKED || codes.len() == x.len())).then_some((x, y))
}

/// One pass over the taken rows of a block around a known shift (typically the group's mean in
/// the previous block): the co-moments, or `None` if a taken value is not finite or the shift
/// is too far from this block's mean for the one-pass formula (see
/// [`ShiftedSums::shift_is_close`]); the caller then runs the two-pass [`fused_block`].
#[inline(always)]
fn shifted_block<const K: usize, C: Code, L: Lanes>(
    cols: &[&[f64]; K],
    codes: &[C],
    code: i64,
    lanes: L,
    shift: (f64, f64),
    ahead: usize,
) -> Option<CoMoments<K>> {
    let (x, y) = pair::<K, true, C>(cols, codes)?;
    let sums = shifted_sums::<K, true, C, L>(x, y, (codes, code), shift, lanes, ahead);
    (sums.finite() && sums.shift_is_close::<K>()).then(|| sums.comoments())
}

/// The fused two-pass kernel over the taken rows of a block: every row if not `MASKED`, else the
/// rows whose code is `code` (the mask is computed from the codes inside the passes, so nothing
/// is gathered or copied). Pass one gives the count and sums; pass two the sums of deviations and
/// of their products around the first-pass means, corrected as in Chan, Golub and LeVeque (1983,
/// eq. 1.7). Rows not taken add exact zeros whatever their values. `lanes` runs the passes
/// (every implementation gives the same bits). `None` when a taken value is not finite, or
/// K > 2.
#[inline(always)]
fn fused_block<const K: usize, const MASKED: bool, C: Code, L: Lanes>(
    cols: &[&[f64]; K],
    codes: &[C],
    code: i64,
    lanes: L,
) -> Option<CoMoments<K>> {
    let (x, y) = pair::<K, MASKED, C>(cols, codes)?;
    let rows = (codes, code);
    // Pass one: count and sums.
    let p1 = lanes.pass1::<K, MASKED, C>(x, y, rows);
    let [c, sx, sy] = p1;
    let count: f64 = c.iter().sum();
    let (tx, ty): (f64, f64) = (sx.iter().sum(), sy.iter().sum());
    // A finite sum means no NaN or infinity among the taken values (either would propagate).
    if !tx.is_finite() || !ty.is_finite() {
        return None;
    }
    if count == 0.0 {
        return Some(CoMoments::new());
    }
    let shift = (tx / count, if K == 2 { ty / count } else { tx / count });
    // Pass two: deviations from the pass-one means and their products, then the correction.
    let sums = shifted_sums::<K, MASKED, C, L>(x, y, rows, shift, lanes, 0);
    sums.finite().then(|| sums.comoments())
}

/// One ungrouped block: the fused all-finite path (AVX2 when the CPU has it; identical
/// results), else the masked path.
pub(crate) fn ungrouped_block<const K: usize>(
    cols: &[&[f64]; K],
    isa: Isa,
) -> Scanned<CoMoments<K>> {
    let fast = with_lanes!(isa, l => finite_block(cols, l));
    match fast {
        Some(comoments) => Scanned {
            stats: comoments,
            n_nan: 0,
            n_inf: 0,
        },
        // One column: eight masked lanes, the historical moments kernel (its bits are kept).
        None if K == 1 => masked_lanes(cols),
        None => masked_block(cols, |_| 0, 1).pop().unwrap_or_default(),
    }
}

/// Corrected two-pass co-moments of the complete rows (every value finite) of a block in
/// `LANES` accumulators, row `i` in lane `i % LANES`; the other rows are counted as NaN (no
/// infinity) or infinite. The ungrouped slow path for blocks with non-finite values.
pub(crate) fn masked_lanes<const K: usize>(cols: &[&[f64]; K]) -> Scanned<CoMoments<K>> {
    let n = cols[0].len();
    let row_ok = |i: usize| cols.iter().all(|c| c[i].is_finite());
    let mut s = [[0.0f64; LANES]; K];
    let mut c = [0u64; LANES];
    for i in 0..n {
        let ok = row_ok(i);
        let l = i % LANES;
        for a in 0..K {
            s[a][l] += if ok { cols[a][i] } else { 0.0 };
        }
        c[l] += u64::from(ok);
    }
    let count: u64 = c.iter().sum();
    let n_bad = n as u64 - count;
    let n_inf = (0..n)
        .filter(|&i| cols.iter().any(|c| c[i].is_infinite()))
        .count() as u64;
    let (n_nan, n_inf) = (n_bad - n_inf, n_inf);
    if count == 0 {
        return Scanned {
            stats: CoMoments::new(),
            n_nan,
            n_inf,
        };
    }
    let nf = count as f64;
    let mean: [f64; K] = std::array::from_fn(|a| s[a].iter().sum::<f64>() / nf);
    let mut d1 = [[0.0f64; LANES]; K];
    let mut d2 = [[[0.0f64; LANES]; K]; K];
    for i in 0..n {
        let ok = row_ok(i);
        let l = i % LANES;
        let d: [f64; K] = std::array::from_fn(|a| if ok { cols[a][i] - mean[a] } else { 0.0 });
        for a in 0..K {
            d1[a][l] += d[a];
            for b in a..K {
                d2[a][b][l] += d[a] * d[b];
            }
        }
    }
    let sd1: [f64; K] = std::array::from_fn(|a| d1[a].iter().sum());
    let mut out = CoMoments::<K> {
        n: count,
        mean: std::array::from_fn(|a| mean[a] + sd1[a] / nf),
        c: [[0.0; K]; K],
    };
    for a in 0..K {
        for b in a..K {
            let v = d2[a][b].iter().sum::<f64>() - sd1[a] * sd1[b] / nf;
            // Clipped at zero, but a NaN (squares that overflowed) is kept.
            let v = if a == b && v < 0.0 { 0.0 } else { v };
            out.c[a][b] = v;
            out.c[b][a] = v;
        }
    }
    Scanned {
        stats: out,
        n_nan,
        n_inf,
    }
}

/// One grouped block: with few groups and K <= 2, each group is reduced by the masked kernels
/// (AVX2 when available) while the block stays in cache: one pass around the group's mean in the
/// previous block (or its first row here) when that shift is close enough, else the fused
/// two-pass kernel. A block with a non-finite value in some group, or many groups, takes the
/// scatter path that keeps `ILP` copies of the accumulators (row `i` goes to copy `i % ILP`,
/// merged in a fixed order), so consecutive rows of one group do not wait on each other. The
/// result depends only on the block and `shifts`, both fixed by the row range, so it does not
/// depend on the thread count.
fn grouped_block<const K: usize, C: Code>(
    cols: &[&[f64]; K],
    g: &[C],
    n_groups: usize,
    shifts: &mut [Option<(f64, f64)>],
    isa: Isa,
) -> Vec<Scanned<CoMoments<K>>> {
    if n_groups <= MAX_FUSED_GROUPS && K <= 2 {
        let fused = with_lanes!(isa, l => fused_groups(cols, g, n_groups, shifts, l));
        if let Some(parts) = fused {
            return parts;
        }
    }
    masked_block(cols, |i| g[i].index(), n_groups)
}

/// How far ahead (in rows) the first pass over a sub-block prefetches: 2 KiB of each column, well
/// inside L1, and far enough to cover memory latency at the pass's pace.
const PREFETCH_ROWS: usize = 256;

/// Up to this many groups (experiment arms), a block is reduced group by group by the masked
/// kernels; more groups take the scatter path, whose cost does not grow with their number.
const MAX_FUSED_GROUPS: usize = 16;

/// Each group of a block by the masked kernels (K <= 2), updating each group's shift to its mean
/// in this block. `None` if a value of some group's rows is not finite, so the caller takes the
/// scatter path.
fn fused_groups<const K: usize, C: Code, L: Lanes>(
    cols: &[&[f64]; K],
    g: &[C],
    n_groups: usize,
    shifts: &mut [Option<(f64, f64)>],
    lanes: L,
) -> Option<Vec<Scanned<CoMoments<K>>>> {
    // A group with no shift yet (the first sub-block of a block) starts from its first row here,
    // if that row is finite; the closeness check then decides whether one pass suffices.
    for (k, shift) in shifts.iter_mut().enumerate().take(n_groups) {
        if shift.is_none() {
            let first = g.iter().position(|c| c.index() == k as i64);
            *shift = first
                .map(|i| (cols[0][i], cols[K - 1][i]))
                .filter(|(a, b)| a.is_finite() && b.is_finite());
        }
    }
    let mut out = Vec::with_capacity(n_groups);
    // Two groups with known shifts: one pass for both around the midpoint of their shifts (arms
    // of an experiment differ by far less than their spread); a group for which that is too far
    // from its mean in this block is redone alone.
    let mut paired = [None, None];
    if let ([Some(s0), Some(s1)], Some(xy)) = (&shifts[..], pair::<K, true, C>(cols, g)) {
        let mid = (0.5 * (s0.0 + s1.0), 0.5 * (s0.1 + s1.1));
        let sums = pair_sums::<K, C, L>(xy, g, mid, lanes, PREFETCH_ROWS);
        paired = sums.map(|s| (s.finite() && s.shift_is_close::<K>()).then(|| s.comoments()));
    }
    for (k, shift) in shifts.iter_mut().enumerate().take(n_groups) {
        let code = k as i64;
        let ahead = if k == 0 { PREFETCH_ROWS } else { 0 };
        let comoments = match paired.get(k).copied().flatten() {
            Some(c) => c,
            None => shift
                .and_then(|s| shifted_block::<K, C, L>(cols, g, code, lanes, s, ahead))
                .or_else(|| fused_block::<K, true, C, L>(cols, g, code, lanes))?,
        };
        if comoments.n > 0 {
            *shift = Some((comoments.mean[0], comoments.mean[K - 1]));
        }
        out.push(Scanned {
            stats: comoments,
            n_nan: 0,
            n_inf: 0,
        });
    }
    Some(out)
}

const ILP: usize = 4;

/// Corrected two-pass co-moments per group of the rows of a block whose values are all finite;
/// other rows are counted as NaN or infinite. `group(i) < 0` skips row `i`.
fn masked_block<const K: usize>(
    cols: &[&[f64]; K],
    group: impl Fn(usize) -> i64,
    n_groups: usize,
) -> Vec<Scanned<CoMoments<K>>> {
    let n = cols[0].len();
    let mut s = vec![[[0.0f64; K]; ILP]; n_groups];
    let mut c = vec![[0u64; ILP]; n_groups];
    let mut nan = vec![0u64; n_groups];
    let mut inf = vec![0u64; n_groups];
    for i in 0..n {
        let k = group(i);
        if k < 0 {
            continue;
        }
        let k = k as usize;
        let row: [f64; K] = std::array::from_fn(|a| cols[a][i]);
        if row.iter().all(|x| x.is_finite()) {
            let lane = i % ILP;
            c[k][lane] += 1;
            for a in 0..K {
                s[k][lane][a] += row[a];
            }
        } else if row.iter().any(|x| x.is_infinite()) {
            inf[k] += 1;
        } else {
            nan[k] += 1;
        }
    }
    let count: Vec<u64> = c.iter().map(|l| l.iter().sum()).collect();
    let mean: Vec<[f64; K]> = (0..n_groups)
        .map(|k| {
            std::array::from_fn(|a| {
                if count[k] > 0 {
                    s[k].iter().map(|l| l[a]).sum::<f64>() / count[k] as f64
                } else {
                    0.0
                }
            })
        })
        .collect();
    let mut d1 = vec![[[0.0f64; K]; ILP]; n_groups];
    let mut d2 = vec![[[[0.0f64; K]; K]; ILP]; n_groups];
    for i in 0..n {
        let k = group(i);
        if k < 0 {
            continue;
        }
        let k = k as usize;
        let row: [f64; K] = std::array::from_fn(|a| cols[a][i]);
        if !row.iter().all(|x| x.is_finite()) {
            continue;
        }
        let lane = i % ILP;
        let d: [f64; K] = std::array::from_fn(|a| row[a] - mean[k][a]);
        for a in 0..K {
            d1[k][lane][a] += d[a];
            for b in a..K {
                d2[k][lane][a][b] += d[a] * d[b];
            }
        }
    }
    (0..n_groups)
        .map(|k| {
            let mut block = CoMoments::<K>::new();
            if count[k] > 0 {
                let nf = count[k] as f64;
                block.n = count[k];
                let s1: [f64; K] = std::array::from_fn(|a| d1[k].iter().map(|l| l[a]).sum());
                for a in 0..K {
                    block.mean[a] = mean[k][a] + s1[a] / nf;
                    for b in a..K {
                        let v = d2[k].iter().map(|l| l[a][b]).sum::<f64>() - s1[a] * s1[b] / nf;
                        // Clipped at zero, but a NaN (squares that overflowed) is kept.
                        let v = if a == b && v < 0.0 { 0.0 } else { v };
                        block.c[a][b] = v;
                        block.c[b][a] = v;
                    }
                }
            }
            Scanned {
                stats: block,
                n_nan: nan[k],
                n_inf: inf[k],
            }
        })
        .collect()
}

/// Co-moments of K columns over all rows (one group).
pub fn comoments_of<const K: usize>(
    cols: &[&[f64]; K],
    names: &[&str; K],
) -> Result<Scanned<CoMoments<K>>> {
    let mut v = grouped_comoments_of(cols, names, None::<&[i32]>, 1)?;
    Ok(v.pop().unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simd::{Int, Scalar};
    use proptest::prelude::*;

    #[test]
    fn hand_worked_covariance() {
        // x = 1,2,3,4; y = 2,4,5,9: means 2.5, 5; cxx 5, cyy 26, cxy 11.
        let r = comoments_of(&[&[1.0, 2.0, 3.0, 4.0], &[2.0, 4.0, 5.0, 9.0]], &["x", "y"]).unwrap();
        let c = r.stats;
        assert_eq!(c.n, 4);
        assert_eq!(c.mean, [2.5, 5.0]);
        assert!((c.c[0][0] - 5.0).abs() < 1e-12);
        assert!((c.c[1][1] - 26.0).abs() < 1e-12);
        assert!((c.c[0][1] - 11.0).abs() < 1e-12);
    }

    #[test]
    fn incomplete_rows_are_counted() {
        let r = comoments_of(
            &[&[1.0, f64::NAN, 3.0, 4.0], &[2.0, 4.0, f64::INFINITY, 9.0]],
            &["x", "y"],
        )
        .unwrap();
        assert_eq!((r.stats.n, r.n_nan, r.n_inf), (2, 1, 1));
    }

    #[test]
    fn fast_masked_and_grouped_paths_agree() {
        let x: Vec<f64> = (0..10_000)
            .map(|i| ((i * 7919) % 997) as f64 * 0.37 - 50.0)
            .collect();
        let y: Vec<f64> = (0..10_000)
            .map(|i| ((i * 104_729) % 991) as f64 * 0.11 + 3.0)
            .collect();
        let fast = comoments_of(&[&x, &y], &["x", "y"]).unwrap().stats;
        let zeros = vec![0i32; x.len()];
        let grouped =
            grouped_comoments_of(&[&x, &y], &["x", "y"], Some(&zeros), 1).unwrap()[0].stats;
        let scatter = masked_block(&[&x[..4096], &y[..4096]], |_| 0, 1)[0].stats;
        let masked = fused_groups(
            &[&x[..4096], &y[..4096]],
            &zeros[..4096],
            1,
            &mut [None],
            Scalar,
        )
        .unwrap()[0]
            .stats;
        assert_eq!(scatter.n, masked.n);
        for a in 0..2 {
            assert!((scatter.mean[a] - masked.mean[a]).abs() < 1e-12);
            assert!((scatter.c[a][a] - masked.c[a][a]).abs() <= 1e-9 * scatter.c[a][a]);
        }
        assert_eq!(fast.n, grouped.n);
        for a in 0..2 {
            assert!((fast.mean[a] - grouped.mean[a]).abs() < 1e-12);
            for b in 0..2 {
                assert!(
                    (fast.c[a][b] - grouped.c[a][b]).abs() <= 1e-9 * fast.c[a][a].abs().max(1.0)
                );
            }
        }
    }

    #[test]
    fn two_group_fused_matches_scatter() {
        let x: Vec<f64> = (0..4096)
            .map(|i| ((i * 7919) % 997) as f64 * 0.37 - 50.0)
            .collect();
        let y: Vec<f64> = (0..4096)
            .map(|i| ((i * 104_729) % 991) as f64 * 0.11 + 3.0)
            .collect();
        let g: Vec<i8> = (0..4096).map(|i| (((i * 31) >> 2) % 3) as i8 - 1).collect();
        let cols = [&x[..], &y[..]];
        let fast = fused_groups(&cols, &g, 2, &mut [None, None], Scalar).unwrap();
        let slow = masked_block(&cols, |i| g[i].index(), 2);
        for k in 0..2 {
            assert_eq!(fast[k].stats.n, slow[k].stats.n);
            for a in 0..2 {
                assert!((fast[k].stats.mean[a] - slow[k].stats.mean[a]).abs() < 1e-12);
                let c = slow[k].stats.c[a][a];
                assert!((fast[k].stats.c[a][a] - c).abs() <= 1e-10 * c);
            }
        }
    }

    #[test]
    fn every_implementation_gives_identical_bits() {
        let x: Vec<f64> = (0..4093)
            .map(|i| ((i * 7919) % 997) as f64 * 0.37 - 50.0)
            .collect();
        let y: Vec<f64> = (0..4093)
            .map(|i| ((i * 104_729) % 991) as f64 * 0.11 + 3.0)
            .collect();
        // Codes of every width, with rows in no group (-1), so each mask load is exercised.
        let g8: Vec<i8> = (0..4093).map(|i| (i % 3) as i8 - 1).collect();
        let g16: Vec<i16> = g8.iter().map(|&c| i16::from(c)).collect();
        let g32: Vec<i32> = g8.iter().map(|&c| i32::from(c)).collect();
        let g64: Vec<i64> = g8.iter().map(|&c| i64::from(c)).collect();
        let cols = [&x[..], &y[..]];
        for isa in simd::available() {
            with_lanes!(isa, l => {
                for code in [0i64, 1] {
                    let scalar = fused_block::<2, true, i8, _>(&cols, &g8, code, Scalar);
                    assert!(scalar.is_some());
                    assert_eq!(fused_block::<2, true, i8, _>(&cols, &g8, code, l), scalar);
                    assert_eq!(fused_block::<2, true, i16, _>(&cols, &g16, code, l), scalar);
                    assert_eq!(fused_block::<2, true, i32, _>(&cols, &g32, code, l), scalar);
                    assert_eq!(fused_block::<2, true, i64, _>(&cols, &g64, code, l), scalar);
                    assert_eq!(
                        fused_block::<1, true, i32, _>(&[&x[..]], &g32, code, l),
                        fused_block::<1, true, i32, _>(&[&x[..]], &g32, code, Scalar)
                    );
                }
                assert_eq!(
                    fused_block::<2, false, i8, _>(&cols, &[], 0, l),
                    fused_block::<2, false, i8, _>(&cols, &[], 0, Scalar)
                );
                // Whole kernels: the ungrouped and grouped blocks.
                assert_eq!(ungrouped_block(&cols, isa), ungrouped_block(&cols, Isa::Scalar));
                let mut shifts = [None, None];
                let mut scalar_shifts = [None, None];
                assert_eq!(
                    grouped_block(&cols, &g16, 2, &mut shifts, isa),
                    grouped_block(&cols, &g16, 2, &mut scalar_shifts, Isa::Scalar)
                );
                assert_eq!(shifts, scalar_shifts);
            });
        }
    }

    #[test]
    fn two_group_pass_matches_one_group_passes() {
        // Odd length (a scalar tail), rows of no group (-1), shifts off the means.
        let x: Vec<f64> = (0..4093)
            .map(|i| ((i * 7919) % 997) as f64 * 0.37 - 50.0)
            .collect();
        let y: Vec<f64> = (0..4093)
            .map(|i| ((i * 104_729) % 991) as f64 * 0.11 + 3.0)
            .collect();
        let g: Vec<i16> = (0..4093).map(|i| ((i * 13) % 5) as i16 % 3 - 1).collect();
        let shift = (-40.0, 50.0);
        let scalar = pair_sums::<2, i16, _>((&x, &y), &g, shift, Scalar, 0);
        for isa in simd::available() {
            let other = with_lanes!(isa, l => pair_sums::<2, i16, _>((&x, &y), &g, shift, l, 64));
            for k in 0..2 {
                assert_eq!(other[k].count, scalar[k].count);
                assert_eq!(other[k].s1, scalar[k].s1);
                assert_eq!(other[k].s2, scalar[k].s2);
            }
        }
        for (k, pair) in scalar.iter().enumerate() {
            let one = shifted_sums::<2, true, i16, _>(&x, &y, (&g, k as i64), shift, Scalar, 0);
            assert_eq!(pair.count, one.count);
            let (a, b) = (pair.comoments::<2>(), one.comoments::<2>());
            for i in 0..2 {
                assert!((a.mean[i] - b.mean[i]).abs() <= 1e-12 * b.mean[i].abs());
                for j in 0..2 {
                    assert!((a.c[i][j] - b.c[i][j]).abs() <= 1e-11 * b.c[i][i]);
                }
            }
        }
    }

    #[test]
    fn grouped_matches_each_arm_alone_on_awkward_data() {
        // Each arm's rows taken out and reduced alone (the ungrouped two-pass path) must match
        // the grouped kernels, whatever the layout: arms far apart (so a shared shift is
        // refused), rows sorted by arm (arms absent from whole blocks), rows in no arm, a NaN in
        // one block, a level shift halfway through, three arms (one pass per arm).
        let n = 300_000usize;
        let noise = |i: usize| ((i.wrapping_mul(2_654_435_761) >> 7) % 1000) as f64 / 1000.0 - 0.5;
        type Layout = (Vec<i32>, Box<dyn Fn(usize, i32) -> (f64, f64)>, usize);
        let layouts: Vec<Layout> = vec![
            (
                (0..n).map(|i| (i % 2) as i32).collect(),
                Box::new(move |i, k| (1e9 * f64::from(k) + noise(i), 3.0 * noise(i + 7))),
                2,
            ),
            (
                (0..n).map(|i| i32::from(i >= n / 3)).collect(),
                Box::new(move |i, _| (noise(i), noise(i) + noise(i + 1))),
                2,
            ),
            (
                (0..n).map(|i| (i % 3) as i32 - 1).collect(),
                Box::new(move |i, _| (noise(i) + if i > n / 2 { 1e6 } else { 0.0 }, noise(i + 3))),
                2,
            ),
            (
                (0..n).map(|i| (i % 3) as i32).collect(),
                Box::new(move |i, k| (f64::from(k) + noise(i), noise(i + 5))),
                3,
            ),
        ];
        for (case, (g, value, n_groups)) in layouts.iter().enumerate() {
            let mut x: Vec<f64> = (0..n).map(|i| value(i, g[i]).0).collect();
            let y: Vec<f64> = (0..n).map(|i| value(i, g[i]).1).collect();
            x[100_000] = f64::NAN;
            let grouped =
                grouped_comoments_of(&[&x, &y], &["x", "y"], Some(&g[..]), *n_groups).unwrap();
            for k in 0..*n_groups {
                let rows: Vec<usize> = (0..n).filter(|&i| g[i] == k as i32).collect();
                let xs: Vec<f64> = rows.iter().map(|&i| x[i]).collect();
                let ys: Vec<f64> = rows.iter().map(|&i| y[i]).collect();
                let alone = comoments_of(&[&xs, &ys], &["x", "y"]).unwrap();
                let got = grouped[k];
                assert_eq!(
                    (got.stats.n, got.n_nan, got.n_inf),
                    (alone.stats.n, alone.n_nan, alone.n_inf),
                    "case {case} arm {k}"
                );
                // Both paths merge sub-block co-moments (Chan et al.), whose mean differences
                // carry the rounding of means of size |mean|: a relative error of about
                // eps |mean| / sd a merge, over at most n / 4096 merges. Hence the bound
                // n / 4096 * eps * (1 + |mean| / sd), plus 1e-12 for the sums themselves.
                let merges = (rows.len() / 4096 + 1) as f64;
                let cond = |a: usize| {
                    let c = alone.stats;
                    1.0 + c.mean[a].abs() / (c.c[a][a] / c.n as f64).sqrt()
                };
                for a in 0..2 {
                    let (m, m0) = (got.stats.mean[a], alone.stats.mean[a]);
                    assert!(
                        (m - m0).abs() <= 1e-13 * m0.abs().max(1.0),
                        "case {case} arm {k}"
                    );
                    for b in 0..2 {
                        let scale = (alone.stats.c[a][a] * alone.stats.c[b][b]).sqrt();
                        let rel = 1e-12 + merges * f64::EPSILON * cond(a).max(cond(b));
                        let (c, c0) = (got.stats.c[a][b], alone.stats.c[a][b]);
                        assert!(
                            (c - c0).abs() <= rel * scale,
                            "case {case} arm {k}: {c} {c0}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn negatives_are_counted_in_the_listed_columns() {
        // Over several parallel blocks; NaN is not below zero, -inf is; rows of no group count.
        let n = 200_003usize;
        let x: Vec<f64> = (0..n)
            .map(|i| if i % 1000 == 7 { -1.0 } else { 1.0 })
            .collect();
        let mut y: Vec<f64> = (0..n).map(|i| (i % 5) as f64).collect();
        y[3] = f64::NAN;
        y[4] = f64::NEG_INFINITY;
        y[n - 1] = -0.5;
        let g: Vec<i8> = (0..n).map(|i| (i % 3) as i8 - 1).collect();
        let want_x = (0..n).filter(|i| i % 1000 == 7).count() as u64;
        for codes in [None, Some(&g[..])] {
            let n_groups = if codes.is_some() { 2 } else { 1 };
            let (_, neg) =
                grouped_comoments_counting(&[&x, &y], &["x", "y"], codes, n_groups, &[1, 0])
                    .unwrap();
            assert_eq!(neg, vec![2, want_x]);
        }
        let err = grouped_comoments_counting(&[&x, &y], &["x", "y"], None::<&[i8]>, 1, &[2]);
        assert_eq!(err.unwrap_err().arg(), "nonnegative");
    }

    #[test]
    fn a_code_out_of_range_in_any_block_is_an_error() {
        // Checked sub-block by sub-block: a bad code only near the end still fails the call, with
        // the largest bad code named; the binary tallies check the same way.
        let n = 200_000usize;
        let x: Vec<f64> = (0..n).map(|i| i as f64).collect();
        let mut g: Vec<i16> = (0..n).map(|i| (i % 2) as i16).collect();
        g[n - 3] = 4;
        g[70_000] = 3;
        let err = grouped_comoments_of(&[&x[..]], &["x"], Some(&g[..]), 2).unwrap_err();
        assert_eq!(err.arg(), "codes");
        assert!(err
            .to_string()
            .contains("group code 4 is out of range for 2 groups"));
        let ones = vec![1.0; n];
        let err = crate::scan::binary_counts_of(&ones, Some(&g[..]), 2).unwrap_err();
        assert!(err
            .to_string()
            .contains("group code 4 is out of range for 2 groups"));
        g[n - 3] = 1;
        g[70_000] = -1;
        assert!(grouped_comoments_of(&[&x[..]], &["x"], Some(&g[..]), 2).is_ok());
    }

    #[test]
    fn far_shift_falls_back_to_two_passes() {
        // A shift far from this block's mean is refused; the grouped result does not change.
        let x: Vec<f64> = (0..3000).map(|i| 1e6 + f64::from(i % 7)).collect();
        let g = vec![0i8; 3000];
        let near = shifted_block::<1, i8, _>(&[&x[..]], &g, 0, Scalar, (1e6 + 3.0, 0.0), 0);
        let far = shifted_block::<1, i8, _>(&[&x[..]], &g, 0, Scalar, (0.0, 0.0), 0);
        assert!(near.is_some());
        assert!(far.is_none());
        let mut shifts = [Some((0.0, 0.0))];
        let got = fused_groups(&[&x[..]], &g, 1, &mut shifts, Scalar).unwrap()[0].stats;
        let two_pass = fused_block::<1, true, i8, _>(&[&x[..]], &g, 0, Scalar).unwrap();
        assert_eq!(got, two_pass);
        assert_eq!(shifts[0], Some((two_pass.mean[0], two_pass.mean[0])));
    }

    #[test]
    fn values_outside_the_group_do_not_matter() {
        // A NaN or infinity on a row of another group, or of no group, is masked out exactly.
        let mut x: Vec<f64> = (0..1000).map(|i| f64::from(i) * 0.5).collect();
        let g: Vec<i32> = (0..1000).map(|i| i % 3 - 1).collect();
        let clean = fused_block::<1, true, i32, _>(&[&x[..]], &g, 0, Scalar);
        x[0] = f64::NAN; // code -1
        x[2] = f64::INFINITY; // code 1
        for isa in simd::available() {
            with_lanes!(isa, l => {
                assert_eq!(fused_block::<1, true, i32, _>(&[&x[..]], &g, 0, l), clean);
                assert_eq!(fused_block::<1, true, i32, _>(&[&x[..]], &g, 1, l), None);
            });
        }
    }

    #[test]
    fn length_mismatch_is_an_error() {
        let e = comoments_of(&[&[1.0, 2.0], &[1.0]], &["numerator", "denominator"]).unwrap_err();
        assert_eq!(e.arg(), "denominator");
    }

    proptest! {
        #[test]
        fn update_and_merge_agree(rows in prop::collection::vec((-1e3f64..1e3, -1e3f64..1e3), 2..200), cut in 0usize..200) {
            let cut = cut.min(rows.len());
            let xs: Vec<f64> = rows.iter().map(|r| r.0).collect();
            let ys: Vec<f64> = rows.iter().map(|r| r.1).collect();
            let whole = comoments_of(&[&xs, &ys], &["x", "y"]).unwrap().stats;
            let mut a = CoMoments::<2>::new();
            rows[..cut].iter().for_each(|r| a.update(&[r.0, r.1]));
            let b = comoments_of(&[&xs[cut..], &ys[cut..]], &["x", "y"]).unwrap().stats;
            a.merge(&b);
            prop_assert_eq!(a.n, whole.n);
            for i in 0..2 {
                prop_assert!((a.mean[i] - whole.mean[i]).abs() < 1e-9);
                for j in 0..2 {
                    prop_assert!((a.c[i][j] - whole.c[i][j]).abs() < 1e-7 * (1.0 + whole.c[i][j].abs()));
                }
            }
        }
    }
}
