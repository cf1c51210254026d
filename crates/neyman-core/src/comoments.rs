//! `CoMoments<K>`: count, means and the co-moment matrix (sums of cross-products of deviations) of
//! K variables observed together, mergeable.
//!
//! The merge is the multivariate form of Chan, Golub and LeVeque (1979):
//! `C = C_a + C_b + (n_a n_b / n) d d'`, `d = mean_b - mean_a`. Slices reduce in blocks by the
//! corrected two-pass algorithm, as in [`crate::moments`]. Ratio metrics use K = 2 (numerator,
//! denominator); CUPED uses K = 2 (outcome, covariate).

use crate::codes::{out_of_range, Code};
use crate::error::{NeymanError, Result};
use crate::moments::{lane_sum, INNER_BLOCK, LANES};
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

impl<const K: usize> CoMoments<K> {
    /// Build from pre-aggregated sums of K variables: count, sums, and the `K x K` matrix of sums
    /// of products. `names` name the variables in errors.
    pub fn from_product_sums(
        n: u64,
        sums: &[f64; K],
        products: &[[f64; K]; K],
        names: &[&str; K],
    ) -> Result<Self> {
        if sums
            .iter()
            .chain(products.iter().flatten())
            .any(|v| !v.is_finite())
        {
            return Err(NeymanError::invalid(
                "sums",
                "pre-aggregated sums must be finite",
            ));
        }
        if n == 0 {
            return Ok(Self::new());
        }
        let nf = n as f64;
        let mean: [f64; K] = std::array::from_fn(|a| sums[a] / nf);
        let mut c = [[0.0; K]; K];
        for a in 0..K {
            for b in 0..K {
                c[a][b] = products[a][b] - sums[a] * mean[b];
            }
        }
        for a in 0..K {
            if c[a][a] < -1e-9 * products[a][a].abs() {
                return Err(NeymanError::invalid(
                    names[a],
                    "its sum of squares is less than sum^2 / n; no data have these sums",
                ));
            }
            c[a][a] = c[a][a].max(0.0);
        }
        for a in 0..K {
            for b in 0..a {
                let slack = 1e-9 * (products[a][a].abs() * products[b][b].abs()).sqrt();
                if (c[a][b] - c[b][a]).abs() > slack + 1e-12 * c[a][b].abs() {
                    return Err(NeymanError::invalid(
                        "products",
                        "the matrix of sums of products must be symmetric",
                    ));
                }
                if c[a][b].abs() > (c[a][a] * c[b][b]).sqrt() * (1.0 + 1e-9) + slack {
                    return Err(NeymanError::invalid(
                        names[a],
                        format!(
                            "its cross-sum with {} implies a correlation beyond +/-1",
                            names[b]
                        ),
                    ));
                }
            }
        }
        Ok(Self { n, mean, c })
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
fn finite_block<const K: usize>(cols: &[&[f64]; K], simd: bool) -> Option<CoMoments<K>> {
    weighted_block::<K, false>(cols, &[], simd)
}

/// Lane sums of pass one: counts, sums of x, sums of y.
type Pass1 = [[f64; LANES]; 3];
/// Lane sums of pass two: deviations of x and y, squares of each, cross-products.
type Pass2 = [[f64; LANES]; 5];

/// Pass one over the first `full` rows (a multiple of `LANES`), lane `l` taking rows `i % LANES == l`.
#[inline(always)]
fn pass1_scalar<const K: usize, const W: bool>(
    x: &[f64],
    y: &[f64],
    w: &[f64],
    full: usize,
) -> Pass1 {
    const ONES: [f64; LANES] = [1.0; LANES];
    let mut acc = [[0.0f64; LANES]; 3];
    let mut i = 0;
    while i < full {
        // Fixed-size views, so the lane loops carry no bounds checks.
        let ws = if W {
            <&[f64; LANES]>::try_from(&w[i..i + LANES]).unwrap_or(&ONES)
        } else {
            &ONES
        };
        let (xl, yl) = (&x[i..i + LANES], &y[i..i + LANES]);
        for l in 0..LANES {
            acc[0][l] += ws[l];
            acc[1][l] += ws[l] * xl[l];
            if K == 2 {
                acc[2][l] += ws[l] * yl[l];
            }
        }
        i += LANES;
    }
    acc
}

/// Pass two over the first `full` rows, same lanes as pass one.
#[inline(always)]
fn pass2_scalar<const K: usize, const W: bool>(
    x: &[f64],
    y: &[f64],
    w: &[f64],
    full: usize,
    (mx, my): (f64, f64),
) -> Pass2 {
    const ONES: [f64; LANES] = [1.0; LANES];
    let mut acc = [[0.0f64; LANES]; 5];
    let mut i = 0;
    while i < full {
        let ws = if W {
            <&[f64; LANES]>::try_from(&w[i..i + LANES]).unwrap_or(&ONES)
        } else {
            &ONES
        };
        let (xl, yl) = (&x[i..i + LANES], &y[i..i + LANES]);
        for l in 0..LANES {
            let a = ws[l] * (xl[l] - mx);
            acc[0][l] += a;
            acc[2][l] += a * a;
            if K == 2 {
                let b = ws[l] * (yl[l] - my);
                acc[1][l] += b;
                acc[3][l] += b * b;
                acc[4][l] += a * b;
            }
        }
        i += LANES;
    }
    acc
}

/// Pass one with AVX2: the same operations on the same lanes as [`pass1_scalar`] (lanes 0-3 and
/// 4-7 in two registers, multiply then add, no fused multiply-add), so results are identical.
///
/// # Safety
/// The CPU must support AVX2; `full <= x.len()`, `full <= y.len()`, and `full <= w.len()` if `W`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn pass1_avx2<const K: usize, const W: bool>(
    x: &[f64],
    y: &[f64],
    w: &[f64],
    full: usize,
) -> Pass1 {
    use std::arch::x86_64::*;
    let one = _mm256_set1_pd(1.0);
    let mut v = [_mm256_setzero_pd(); 6];
    let mut i = 0;
    while i < full {
        let (w0, w1) = if W {
            (
                _mm256_loadu_pd(w.as_ptr().add(i)),
                _mm256_loadu_pd(w.as_ptr().add(i + 4)),
            )
        } else {
            (one, one)
        };
        v[0] = _mm256_add_pd(v[0], w0);
        v[1] = _mm256_add_pd(v[1], w1);
        let (x0, x1) = (
            _mm256_loadu_pd(x.as_ptr().add(i)),
            _mm256_loadu_pd(x.as_ptr().add(i + 4)),
        );
        v[2] = _mm256_add_pd(v[2], _mm256_mul_pd(w0, x0));
        v[3] = _mm256_add_pd(v[3], _mm256_mul_pd(w1, x1));
        if K == 2 {
            let (y0, y1) = (
                _mm256_loadu_pd(y.as_ptr().add(i)),
                _mm256_loadu_pd(y.as_ptr().add(i + 4)),
            );
            v[4] = _mm256_add_pd(v[4], _mm256_mul_pd(w0, y0));
            v[5] = _mm256_add_pd(v[5], _mm256_mul_pd(w1, y1));
        }
        i += LANES;
    }
    let mut acc = [[0.0f64; LANES]; 3];
    for (k, a) in acc.iter_mut().enumerate() {
        _mm256_storeu_pd(a.as_mut_ptr(), v[2 * k]);
        _mm256_storeu_pd(a.as_mut_ptr().add(4), v[2 * k + 1]);
    }
    acc
}

/// Pass two with AVX2, identical in results to [`pass2_scalar`].
///
/// # Safety
/// As for [`pass1_avx2`].
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn pass2_avx2<const K: usize, const W: bool>(
    x: &[f64],
    y: &[f64],
    w: &[f64],
    full: usize,
    (mx, my): (f64, f64),
) -> Pass2 {
    use std::arch::x86_64::*;
    let one = _mm256_set1_pd(1.0);
    let (vmx, vmy) = (_mm256_set1_pd(mx), _mm256_set1_pd(my));
    let mut v = [_mm256_setzero_pd(); 10];
    let mut i = 0;
    while i < full {
        let ws = if W {
            [
                _mm256_loadu_pd(w.as_ptr().add(i)),
                _mm256_loadu_pd(w.as_ptr().add(i + 4)),
            ]
        } else {
            [one, one]
        };
        for h in 0..2 {
            let at = i + 4 * h;
            let a = _mm256_mul_pd(
                ws[h],
                _mm256_sub_pd(_mm256_loadu_pd(x.as_ptr().add(at)), vmx),
            );
            v[h] = _mm256_add_pd(v[h], a);
            v[4 + h] = _mm256_add_pd(v[4 + h], _mm256_mul_pd(a, a));
            if K == 2 {
                let b = _mm256_mul_pd(
                    ws[h],
                    _mm256_sub_pd(_mm256_loadu_pd(y.as_ptr().add(at)), vmy),
                );
                v[2 + h] = _mm256_add_pd(v[2 + h], b);
                v[6 + h] = _mm256_add_pd(v[6 + h], _mm256_mul_pd(b, b));
                v[8 + h] = _mm256_add_pd(v[8 + h], _mm256_mul_pd(a, b));
            }
        }
        i += LANES;
    }
    let mut acc = [[0.0f64; LANES]; 5];
    for (k, a) in acc.iter_mut().enumerate() {
        _mm256_storeu_pd(a.as_mut_ptr(), v[2 * k]);
        _mm256_storeu_pd(a.as_mut_ptr().add(4), v[2 * k + 1]);
    }
    acc
}

/// The fused two-pass kernel over the rows with weight 1 (weights are 0 or 1; `WEIGHTED = false`
/// means every row). Pass one gives the count and sums; pass two the sums of deviations and of
/// their products around the first-pass means, corrected as in Chan, Golub and LeVeque (1983,
/// eq. 1.7). Rows of weight 0 add exact zeros because every value is finite. `simd` selects the
/// AVX2 passes (the caller has checked the CPU); they give the same bits. `None` when a value is
/// not finite, the block is empty, or K > 2.
#[inline(always)]
fn weighted_block<const K: usize, const WEIGHTED: bool>(
    cols: &[&[f64]; K],
    w: &[f64],
    simd: bool,
) -> Option<CoMoments<K>> {
    let n = cols[0].len();
    if n == 0 || K > 2 || (WEIGHTED && w.len() < n) {
        return None;
    }
    let x = cols[0];
    let y = if K == 2 { cols[K - 1] } else { cols[0] };
    if y.len() < n {
        return None;
    }
    let wt = |i: usize| if WEIGHTED { w[i] } else { 1.0 };
    let full = n / LANES * LANES;
    // Pass one: count and sums.
    #[cfg(target_arch = "x86_64")]
    let p1 = if simd {
        // SAFETY: `simd` is true only after AVX2 was detected; lengths were checked above.
        unsafe { pass1_avx2::<K, WEIGHTED>(x, y, w, full) }
    } else {
        pass1_scalar::<K, WEIGHTED>(x, y, w, full)
    };
    #[cfg(not(target_arch = "x86_64"))]
    let p1 = {
        let _ = simd;
        pass1_scalar::<K, WEIGHTED>(x, y, w, full)
    };
    let [mut c, mut sx, mut sy] = p1;
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
    #[cfg(target_arch = "x86_64")]
    let p2 = if simd {
        // SAFETY: as for pass one.
        unsafe { pass2_avx2::<K, WEIGHTED>(x, y, w, full, (mx, my)) }
    } else {
        pass2_scalar::<K, WEIGHTED>(x, y, w, full, (mx, my))
    };
    #[cfg(not(target_arch = "x86_64"))]
    let p2 = pass2_scalar::<K, WEIGHTED>(x, y, w, full, (mx, my));
    let [mut dx, mut dy, mut dxx, mut dyy, mut dxy] = p2;
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

/// Whether the AVX2 passes can run on this CPU (detected once, then cached by std).
fn has_avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// One ungrouped block: the fused all-finite path (AVX2 when the CPU has it; identical
/// results), else the masked path.
fn ungrouped_block<const K: usize>(cols: &[&[f64]; K]) -> SliceCoMoments<K> {
    match finite_block(cols, has_avx2()) {
        Some(comoments) => SliceCoMoments {
            comoments,
            n_nan: 0,
            n_inf: 0,
        },
        None => masked_block(cols, |_| 0, 1).pop().unwrap_or_default(),
    }
}

/// One grouped block: with few groups and K <= 2, each group's rows are gathered into contiguous
/// buffers and reduced by the fused kernel (AVX2 when available), so the cost does not grow with
/// the number of groups; a block with a non-finite value, or many groups, takes the scatter path
/// that keeps `ILP` copies of the accumulators (row `i` goes to copy `i % ILP`, merged in a fixed
/// order), so consecutive rows of one group do not wait on each other.
fn grouped_block<const K: usize, C: Code>(
    cols: &[&[f64]; K],
    g: &[C],
    n_groups: usize,
) -> Vec<SliceCoMoments<K>> {
    if n_groups <= MAX_GATHERED_GROUPS && K <= 2 {
        if let Some(parts) = gathered_block(cols, g, n_groups, has_avx2()) {
            return parts;
        }
    }
    masked_block(cols, |i| g[i].index(), n_groups)
}

/// Up to this many groups (experiment arms), a block is reduced by gathering.
const MAX_GATHERED_GROUPS: usize = 16;

thread_local! {
    /// Per-thread gather buffers, reused across blocks.
    static GATHER: std::cell::RefCell<Vec<f64>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Gather each group's rows of an all-finite block, then reduce each group with the fused kernel
/// (K <= 2). `None` if any value is not finite, so the caller takes the scatter path.
fn gathered_block<const K: usize, C: Code>(
    cols: &[&[f64]; K],
    g: &[C],
    n_groups: usize,
    simd: bool,
) -> Option<Vec<SliceCoMoments<K>>> {
    let n = g.len();
    GATHER.with(|cell| {
        let mut buf = cell.borrow_mut();
        // One column buffer per variable, each with room for every row plus one.
        let stride = n + 1;
        if buf.len() < K * stride {
            buf.resize(K * stride, 0.0);
        }
        let mut out = Vec::with_capacity(n_groups);
        // Two arms (an A/B test): one pass compacts both groups, with both write positions in
        // registers; the second group's columns start after the first's.
        let pair = if n_groups == 2 {
            if buf.len() < 2 * K * stride {
                buf.resize(2 * K * stride, 0.0);
            }
            let (b0, b1) = buf.split_at_mut(K * stride);
            let (mut m0, mut m1) = (0usize, 0usize);
            for (i, c) in g.iter().enumerate() {
                let k = c.index();
                for a in 0..K {
                    let v = cols[a][i];
                    b0[a * stride + m0] = v;
                    b1[a * stride + m1] = v;
                }
                m0 += usize::from(k == 0);
                m1 += usize::from(k == 1);
            }
            Some([m0, m1])
        } else {
            None
        };
        for k in 0..n_groups {
            let code = k as i64;
            let (base, m) = if let Some(ms) = pair {
                (k * K * stride, ms[k])
            } else {
                // Branchless stream compaction: store every row, advance only on a member of the
                // group, so the write position stays in a register.
                let mut m = 0usize;
                let (bx, by) = buf.split_at_mut(stride);
                for (i, c) in g.iter().enumerate() {
                    bx[m] = cols[0][i];
                    if K == 2 {
                        by[m] = cols[K - 1][i];
                    }
                    m += usize::from(c.index() == code);
                }
                (0, m)
            };
            if m == 0 {
                out.push(SliceCoMoments::default());
                continue;
            }
            let group: [&[f64]; K] =
                std::array::from_fn(|a| &buf[base + a * stride..base + a * stride + m]);
            out.push(SliceCoMoments {
                comoments: finite_block(&group, simd)?,
                n_nan: 0,
                n_inf: 0,
            });
        }
        // An empty group says nothing about the other rows: check them like the fused path does.
        if out.iter().any(|p| p.comoments.n == 0) && cols.iter().any(|c| !lane_sum(c).is_finite()) {
            return None;
        }
        Some(out)
    })
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
        let masked = gathered_block(&[&x[..4096], &y[..4096]], &zeros[..4096], 1, false).unwrap()
            [0]
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
    fn two_group_gather_matches_scatter() {
        let x: Vec<f64> = (0..4096)
            .map(|i| ((i * 7919) % 997) as f64 * 0.37 - 50.0)
            .collect();
        let y: Vec<f64> = (0..4096)
            .map(|i| ((i * 104_729) % 991) as f64 * 0.11 + 3.0)
            .collect();
        let g: Vec<i8> = (0..4096).map(|i| (((i * 31) >> 2) % 3) as i8 - 1).collect();
        let cols = [&x[..], &y[..]];
        let fast = gathered_block(&cols, &g, 2, false).unwrap();
        let slow = masked_block(&cols, |i| g[i].index(), 2);
        for k in 0..2 {
            assert_eq!(fast[k].comoments.n, slow[k].comoments.n);
            for a in 0..2 {
                assert!((fast[k].comoments.mean[a] - slow[k].comoments.mean[a]).abs() < 1e-12);
                let c = slow[k].comoments.c[a][a];
                assert!((fast[k].comoments.c[a][a] - c).abs() <= 1e-10 * c);
            }
        }
    }

    #[test]
    fn simd_and_scalar_passes_give_identical_bits() {
        if !has_avx2() {
            return;
        }
        let x: Vec<f64> = (0..4093)
            .map(|i| ((i * 7919) % 997) as f64 * 0.37 - 50.0)
            .collect();
        let y: Vec<f64> = (0..4093)
            .map(|i| ((i * 104_729) % 991) as f64 * 0.11 + 3.0)
            .collect();
        let w: Vec<f64> = (0..4093).map(|i| f64::from(u8::from(i % 3 != 0))).collect();
        let cols = [&x[..], &y[..]];
        assert_eq!(
            weighted_block::<2, true>(&cols, &w, true),
            weighted_block::<2, true>(&cols, &w, false)
        );
        assert_eq!(
            weighted_block::<2, false>(&cols, &[], true),
            weighted_block::<2, false>(&cols, &[], false)
        );
        assert_eq!(
            weighted_block::<1, true>(&[&x[..]], &w, true),
            weighted_block::<1, true>(&[&x[..]], &w, false)
        );
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
