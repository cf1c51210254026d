//! `CoMoments<K>`: count, means and the co-moment matrix (sums of cross-products of deviations) of
//! K variables observed together, mergeable.
//!
//! The merge is the multivariate form of Chan, Golub and LeVeque (1979):
//! `C = C_a + C_b + (n_a n_b / n) d d'`, `d = mean_b - mean_a`. Slices reduce in blocks by the
//! corrected two-pass algorithm, as in [`crate::moments`]. Ratio metrics use K = 2 (numerator,
//! denominator); CUPED uses K = 2 (outcome, covariate).

use crate::codes::{out_of_range, Code};
use crate::error::{NeymanError, Result};
use crate::moments::{INNER_BLOCK, LANES};
use crate::parallel::reduce_blocks;

/// Count, means and co-moment matrix of K jointly observed variables.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CoMoments<const K: usize> {
    /// Number of rows.
    pub n: u64,
    /// Means of each variable.
    pub mean: [f64; K],
    /// `c[i][j] = sum over rows of (x_i - mean_i)(x_j - mean_j)`.
    pub c: [[f64; K]; K],
}

impl<const K: usize> Default for CoMoments<K> {
    fn default() -> Self {
        Self {
            n: 0,
            mean: [0.0; K],
            c: [[0.0; K]; K],
        }
    }
}

impl<const K: usize> CoMoments<K> {
    /// Empty statistic.
    pub fn new() -> Self {
        Self::default()
    }

    /// Add one row (multivariate Welford).
    pub fn update(&mut self, x: &[f64; K]) {
        self.n += 1;
        let nf = self.n as f64;
        let mut d = [0.0; K];
        for i in 0..K {
            d[i] = x[i] - self.mean[i];
            self.mean[i] += d[i] / nf;
        }
        for i in 0..K {
            for j in 0..K {
                self.c[i][j] += d[i] * (x[j] - self.mean[j]);
            }
        }
    }

    /// Merge another statistic into this one.
    pub fn merge(&mut self, o: &CoMoments<K>) {
        if o.n == 0 {
            return;
        }
        if self.n == 0 {
            *self = *o;
            return;
        }
        let (na, nb) = (self.n as f64, o.n as f64);
        let n = na + nb;
        let f = na * nb / n;
        let mut d = [0.0; K];
        for i in 0..K {
            d[i] = o.mean[i] - self.mean[i];
        }
        for i in 0..K {
            for j in 0..K {
                self.c[i][j] += o.c[i][j] + f * d[i] * d[j];
            }
            self.mean[i] += d[i] * (nb / n);
        }
        self.n += o.n;
    }

    /// Sample covariance of variables `i` and `j` (`n - 1` denominator; NaN when `n < 2`).
    pub fn cov(&self, i: usize, j: usize) -> f64 {
        if self.n < 2 {
            f64::NAN
        } else {
            self.c[i][j] / (self.n - 1) as f64
        }
    }
}

impl CoMoments<2> {
    /// Build from pre-aggregated sums: count, sums of x and y, sums of squares and the cross-sum.
    /// `names` are the caller's names of `(sxx, syy, sxy)`, used in errors.
    pub fn from_sums(
        n: u64,
        (sx, sy, sxx, syy, sxy): (f64, f64, f64, f64, f64),
        names: [&str; 3],
    ) -> Result<Self> {
        if [sx, sy, sxx, syy, sxy].iter().any(|v| !v.is_finite()) {
            return Err(NeymanError::invalid(
                "sums",
                "pre-aggregated sums must be finite",
            ));
        }
        if sxx < 0.0 || syy < 0.0 {
            return Err(NeymanError::invalid(
                if sxx < 0.0 { names[0] } else { names[1] },
                "a sum of squares cannot be negative",
            ));
        }
        if n == 0 {
            return Ok(Self::new());
        }
        let nf = n as f64;
        let (mx, my) = (sx / nf, sy / nf);
        let (cxx, cyy) = (sxx - sx * mx, syy - sy * my);
        for (c, raw, arg) in [(cxx, sxx, names[0]), (cyy, syy, names[1])] {
            if c < -1e-9 * raw {
                return Err(NeymanError::invalid(
                    arg,
                    "is less than sum^2 / n; no data have these sums",
                ));
            }
        }
        let (cxx, cyy) = (cxx.max(0.0), cyy.max(0.0));
        let cxy = sxy - sx * my;
        // Cauchy-Schwarz, with room for the rounding of co-moments computed from raw sums.
        let slack = 1e-9 * (sxx * syy).sqrt();
        if cxy.abs() > (cxx * cyy).sqrt() * (1.0 + 1e-9) + slack {
            return Err(NeymanError::invalid(
                names[2],
                "the cross-sum implies a correlation beyond +/-1; no data have these sums",
            ));
        }
        Ok(Self {
            n,
            mean: [mx, my],
            c: [[cxx, cxy], [cxy, cyy]],
        })
    }
}

/// Co-moments over the rows where every variable is finite, and how many rows were skipped.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SliceCoMoments<const K: usize> {
    /// Co-moments over complete (all-finite) rows.
    pub comoments: CoMoments<K>,
    /// Rows with at least one NaN (and no infinity).
    pub n_nan: u64,
    /// Rows with at least one infinity.
    pub n_inf: u64,
}

impl<const K: usize> Default for SliceCoMoments<K> {
    fn default() -> Self {
        Self {
            comoments: CoMoments::new(),
            n_nan: 0,
            n_inf: 0,
        }
    }
}

impl<const K: usize> SliceCoMoments<K> {
    fn merge(mut self, o: SliceCoMoments<K>) -> Self {
        self.comoments.merge(&o.comoments);
        self.n_nan += o.n_nan;
        self.n_inf += o.n_inf;
        self
    }
}

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
) -> Result<Vec<SliceCoMoments<K>>> {
    let len = check_lengths(cols, names)?;
    if let Some(g) = codes {
        if g.len() != len {
            return Err(NeymanError::LengthMismatch {
                arg: "codes".into(),
                other: names[0].into(),
                len: g.len(),
                other_len: len,
            });
        }
        if let Some(bad) = out_of_range(g, n_groups) {
            return Err(NeymanError::invalid(
                "codes",
                format!("group code {bad} is out of range for {n_groups} groups"),
            ));
        }
    } else if n_groups != 1 {
        return Err(NeymanError::invalid(
            "n_groups",
            "without codes there is exactly one group",
        ));
    }
    let map = |r: std::ops::Range<usize>| -> Vec<SliceCoMoments<K>> {
        let mut acc = vec![SliceCoMoments::<K>::default(); n_groups];
        let mut start = r.start;
        while start < r.end {
            let end = (start + INNER_BLOCK).min(r.end);
            let block: [&[f64]; K] = std::array::from_fn(|a| &cols[a][start..end]);
            match codes {
                None => {
                    let part = ungrouped_block(&block);
                    acc[0] = acc[0].merge(part);
                }
                Some(g) => {
                    let parts = grouped_block(&block, &g[start..end], n_groups);
                    for (a, p) in acc.iter_mut().zip(parts) {
                        *a = a.merge(p);
                    }
                }
            }
            start = end;
        }
        acc
    };
    let merge = |a: Vec<SliceCoMoments<K>>, b: Vec<SliceCoMoments<K>>| {
        a.into_iter().zip(b).map(|(x, y)| x.merge(y)).collect()
    };
    Ok(
        reduce_blocks(len, map, merge)?
            .unwrap_or_else(|| vec![SliceCoMoments::default(); n_groups]),
    )
}

/// Co-moments of an all-finite block by the corrected two-pass algorithm, in two fused,
/// vectorised passes (K = 1 or 2; other K take the scatter path). `None` if any value is not
/// finite.
#[inline(always)]
fn finite_block<const K: usize>(cols: &[&[f64]; K]) -> Option<CoMoments<K>> {
    weighted_block::<K, false>(cols, &[])
}

/// The fused two-pass kernel over the rows with weight 1 (weights are 0 or 1; `WEIGHTED = false`
/// means every row). Pass one gives the count and sums; pass two the sums of deviations and of
/// their products around the first-pass means, corrected as in Chan, Golub and LeVeque (1983,
/// eq. 1.7). Rows of weight 0 add exact zeros because every value is finite. `None` when a value is
/// not finite, the block is empty, or K > 2.
#[inline(always)]
fn weighted_block<const K: usize, const WEIGHTED: bool>(
    cols: &[&[f64]; K],
    w: &[f64],
) -> Option<CoMoments<K>> {
    let n = cols[0].len();
    if n == 0 || K > 2 {
        return None;
    }
    let x = cols[0];
    let y = if K == 2 { cols[K - 1] } else { cols[0] };
    const ONES: [f64; LANES] = [1.0; LANES];
    let wt = |i: usize| if WEIGHTED { w[i] } else { 1.0 };
    // A fixed-size view, so the lane loops carry no bounds checks and vectorise.
    let lanes_of = |i: usize| -> &[f64; LANES] {
        if WEIGHTED {
            <&[f64; LANES]>::try_from(&w[i..i + LANES]).unwrap_or(&ONES)
        } else {
            &ONES
        }
    };
    // Pass one: count and sums.
    let (mut c, mut sx, mut sy) = ([0.0f64; LANES], [0.0f64; LANES], [0.0f64; LANES]);
    let full = n / LANES * LANES;
    let mut i = 0;
    while i < full {
        let (xl, yl, ws) = (&x[i..i + LANES], &y[i..i + LANES], lanes_of(i));
        for l in 0..LANES {
            let wl = ws[l];
            c[l] += wl;
            sx[l] += wl * xl[l];
            if K == 2 {
                sy[l] += wl * yl[l];
            }
        }
        i += LANES;
    }
    for (l, r) in (full..n).enumerate() {
        c[l] += wt(r);
        sx[l] += wt(r) * x[r];
        if K == 2 {
            sy[l] += wt(r) * y[r];
        }
    }
    let count: f64 = c.iter().sum();
    let (tx, ty): (f64, f64) = (sx.iter().sum(), sy.iter().sum());
    // A finite sum means no NaN or infinity in the column (either would propagate through the
    // weighted sum, since 0 * NaN is NaN).
    if !tx.is_finite() || !ty.is_finite() {
        return None;
    }
    if count == 0.0 {
        return Some(CoMoments::new());
    }
    let (mx, my) = (tx / count, if K == 2 { ty / count } else { tx / count });
    // Pass two: deviations and their products.
    let (mut dx, mut dy) = ([0.0f64; LANES], [0.0f64; LANES]);
    let (mut dxx, mut dyy, mut dxy) = ([0.0f64; LANES], [0.0f64; LANES], [0.0f64; LANES]);
    let mut i = 0;
    while i < full {
        let (xl, yl, ws) = (&x[i..i + LANES], &y[i..i + LANES], lanes_of(i));
        for l in 0..LANES {
            let wl = ws[l];
            let a = wl * (xl[l] - mx);
            dx[l] += a;
            dxx[l] += a * a;
            if K == 2 {
                let b = wl * (yl[l] - my);
                dy[l] += b;
                dyy[l] += b * b;
                dxy[l] += a * b;
            }
        }
        i += LANES;
    }
    for (l, r) in (full..n).enumerate() {
        let a = wt(r) * (x[r] - mx);
        dx[l] += a;
        dxx[l] += a * a;
        if K == 2 {
            let b = wt(r) * (y[r] - my);
            dy[l] += b;
            dyy[l] += b * b;
            dxy[l] += a * b;
        }
    }
    let sum = |v: [f64; LANES]| -> f64 { v.iter().sum() };
    let (s1x, s1y) = (sum(dx), sum(dy));
    let mut out = CoMoments::<K> {
        n: count as u64,
        ..CoMoments::new()
    };
    out.mean[0] = mx + s1x / count;
    out.c[0][0] = (sum(dxx) - s1x * s1x / count).max(0.0);
    if K == 2 {
        out.mean[K - 1] = my + s1y / count;
        out.c[K - 1][K - 1] = (sum(dyy) - s1y * s1y / count).max(0.0);
        let cxy = sum(dxy) - s1x * s1y / count;
        out.c[0][K - 1] = cxy;
        out.c[K - 1][0] = cxy;
    }
    Some(out)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn finite_block_avx2<const K: usize>(cols: &[&[f64]; K]) -> Option<CoMoments<K>> {
    finite_block(cols)
}

/// One ungrouped block: the vectorised all-finite path (on AVX2 when the CPU has it; same order
/// of operations, identical results), else the masked path.
fn ungrouped_block<const K: usize>(cols: &[&[f64]; K]) -> SliceCoMoments<K> {
    #[cfg(target_arch = "x86_64")]
    let fast = if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2, checked just above.
        unsafe { finite_block_avx2(cols) }
    } else {
        finite_block(cols)
    };
    #[cfg(not(target_arch = "x86_64"))]
    let fast = finite_block(cols);
    match fast {
        Some(comoments) => SliceCoMoments {
            comoments,
            n_nan: 0,
            n_inf: 0,
        },
        None => masked_block(cols, |_| 0, 1).pop().unwrap_or_default(),
    }
}

/// One grouped block. The scatter into per-group sums keeps `ILP` copies of the accumulators
/// (row `i` goes to copy `i % ILP`), so consecutive rows of one group do not wait on each other;
/// the copies merge in a fixed order.
fn grouped_block<const K: usize, C: Code>(
    cols: &[&[f64]; K],
    g: &[C],
    n_groups: usize,
) -> Vec<SliceCoMoments<K>> {
    if n_groups <= MAX_MASKED_GROUPS {
        #[cfg(target_arch = "x86_64")]
        let fast = if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2, checked just above.
            unsafe { grouped_finite_block_avx2(cols, g, n_groups) }
        } else {
            grouped_finite_block(cols, g, n_groups)
        };
        #[cfg(not(target_arch = "x86_64"))]
        let fast = grouped_finite_block(cols, g, n_groups);
        if let Some(parts) = fast {
            return parts;
        }
    }
    masked_block(cols, |i| g[i].index(), n_groups)
}

/// Up to this many groups (experiment arms), a block is reduced by one vectorised masked pass per
/// group rather than by a scatter.
const MAX_MASKED_GROUPS: usize = 8;

/// Per-group co-moments of an all-finite block: for each group, a buffer of 0/1 weights marks its
/// rows and the fused weighted kernel runs over the block. `None` if any value is not finite (or
/// K > 2), so the caller takes the scatter path.
#[inline(always)]
fn grouped_finite_block<const K: usize, C: Code>(
    cols: &[&[f64]; K],
    g: &[C],
    n_groups: usize,
) -> Option<Vec<SliceCoMoments<K>>> {
    let mut wbuf = [0.0f64; INNER_BLOCK];
    let w = &mut wbuf[..g.len()];
    let mut out = Vec::with_capacity(n_groups);
    for k in 0..n_groups {
        let code = k as i64;
        for (wv, &c) in w.iter_mut().zip(g) {
            *wv = f64::from(u8::from(c.index() == code));
        }
        out.push(SliceCoMoments {
            comoments: weighted_block::<K, true>(cols, w)?,
            n_nan: 0,
            n_inf: 0,
        });
    }
    Some(out)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn grouped_finite_block_avx2<const K: usize, C: Code>(
    cols: &[&[f64]; K],
    g: &[C],
    n_groups: usize,
) -> Option<Vec<SliceCoMoments<K>>> {
    grouped_finite_block(cols, g, n_groups)
}

/// 1.0 where the code equals `code`, else 0.0.
#[inline(always)]
pub(crate) fn weights<C: Code>(codes: &[C], code: i64) -> [f64; LANES] {
    let mut w = [0.0f64; LANES];
    for (wl, &c) in w.iter_mut().zip(codes) {
        *wl = f64::from(u8::from(c.index() == code));
    }
    w
}

const ILP: usize = 4;

/// Corrected two-pass co-moments per group of the rows of a block whose values are all finite;
/// other rows are counted as NaN or infinite. `group(i) < 0` skips row `i`.
fn masked_block<const K: usize>(
    cols: &[&[f64]; K],
    group: impl Fn(usize) -> i64,
    n_groups: usize,
) -> Vec<SliceCoMoments<K>> {
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
                        let v = if a == b { v.max(0.0) } else { v };
                        block.c[a][b] = v;
                        block.c[b][a] = v;
                    }
                }
            }
            SliceCoMoments {
                comoments: block,
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
) -> Result<SliceCoMoments<K>> {
    let mut v = grouped_comoments_of(cols, names, None::<&[i32]>, 1)?;
    Ok(v.pop().unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn hand_worked_covariance() {
        // x = 1,2,3,4; y = 2,4,5,9: means 2.5, 5; cxx 5, cyy 26, cxy 11.
        let r = comoments_of(&[&[1.0, 2.0, 3.0, 4.0], &[2.0, 4.0, 5.0, 9.0]], &["x", "y"]).unwrap();
        let c = r.comoments;
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
        assert_eq!((r.comoments.n, r.n_nan, r.n_inf), (2, 1, 1));
    }

    #[test]
    fn fast_masked_and_grouped_paths_agree() {
        let x: Vec<f64> = (0..10_000)
            .map(|i| ((i * 7919) % 997) as f64 * 0.37 - 50.0)
            .collect();
        let y: Vec<f64> = (0..10_000)
            .map(|i| ((i * 104_729) % 991) as f64 * 0.11 + 3.0)
            .collect();
        let fast = comoments_of(&[&x, &y], &["x", "y"]).unwrap().comoments;
        let zeros = vec![0i32; x.len()];
        let grouped =
            grouped_comoments_of(&[&x, &y], &["x", "y"], Some(&zeros), 1).unwrap()[0].comoments;
        let scatter = masked_block(&[&x[..4096], &y[..4096]], |_| 0, 1)[0].comoments;
        let masked = grouped_finite_block(&[&x[..4096], &y[..4096]], &zeros[..4096], 1).unwrap()[0]
            .comoments;
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
            let whole = comoments_of(&[&xs, &ys], &["x", "y"]).unwrap().comoments;
            let mut a = CoMoments::<2>::new();
            rows[..cut].iter().for_each(|r| a.update(&[r.0, r.1]));
            let b = comoments_of(&[&xs[cut..], &ys[cut..]], &["x", "y"]).unwrap().comoments;
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
