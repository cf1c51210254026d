//! The one-pass kernel that fills [`ClusterSums`] from columns, without materialising a design
//! matrix: each row's design is built inside the kernel from the outcome, the numeric covariates,
//! the arm code and the cluster code (see [`Layout`]), as a sparse vector, and its cross-products
//! are added to its cluster's packed sums.
//!
//! The reference point of the shifted sums is the mean of the complete rows of the first block
//! (serial, so it does not depend on threads): close enough to the pooled mean to keep the sums
//! small, and one pass over the data. The estimator re-centres at the pooled means exactly.
//!
//! The rows are reduced by [`reduce_blocks_of`] with blocks of at least `clusters x tri(p + 1)`
//! rows (a multiple of [`PAR_BLOCK`]): each block fills a dense partial of every cluster, and a
//! block size chosen from the input's shape keeps the merges a small part of the work, while the
//! result stays bit-identical on any number of threads. Two-way clustering calls the kernel once
//! per cluster column (and once for their intersection): three passes.

use crate::error::{NeymanError, Result};
use crate::parallel::{reduce_blocks_of, PAR_BLOCK};
use crate::simd::prefetch::prefetch;

/// Rows ahead at which the kernel prefetches a cluster's slot.
const PREFETCH: usize = 32;
use crate::stats::cluster::{packed, tri};
use crate::stats::{ClusterKeys, ClusterSums, Layout};

/// The columns of a cluster-robust regression.
pub struct ClusterDesign<'a> {
    /// Outcome.
    pub y: &'a [f64],
    /// Numeric covariates with their names.
    pub numeric: Vec<(&'a str, &'a [f64])>,
    /// Arm code of each row (`0..labels.len()`, negative: in no arm, skipped) and the arms'
    /// labels: one indicator column per arm replaces the intercept.
    pub arms: Option<(&'a [i32], Vec<String>)>,
    /// With arms: Lin's interacted model (indicator of each treatment arm times each covariate).
    pub interacted: bool,
    /// An intercept column (without arms).
    pub intercept: bool,
    /// Cluster code of each row (`0..keys.len()`); `None`: all rows in one cluster.
    pub cluster: Option<&'a [u32]>,
    /// The key of each cluster code (distinct).
    pub keys: ClusterKeys,
}

impl ClusterDesign<'_> {
    /// The model's columns.
    pub fn layout(&self) -> Layout {
        Layout {
            intercept: self.intercept,
            arms: self.arms.as_ref().map(|a| a.1.clone()).unwrap_or_default(),
            numeric: self.numeric.iter().map(|(n, _)| n.to_string()).collect(),
            interacted: self.interacted,
        }
    }

    fn check(&self) -> Result<()> {
        let n = self.y.len();
        let mismatch = |arg: &str, len: usize| NeymanError::LengthMismatch {
            arg: arg.into(),
            other: "y".into(),
            len,
            other_len: n,
        };
        for (name, x) in &self.numeric {
            if x.len() != n {
                return Err(mismatch(name, x.len()));
            }
        }
        if let Some((a, labels)) = &self.arms {
            if a.len() != n {
                return Err(mismatch("arms", a.len()));
            }
            if let Some(&bad) = a.iter().find(|&&g| g >= 0 && g as usize >= labels.len()) {
                return Err(NeymanError::invalid(
                    "arms",
                    format!("arm code {bad} is out of range"),
                ));
            }
        }
        if let Some(c) = self.cluster {
            if c.len() != n {
                return Err(mismatch("cluster", c.len()));
            }
        } else if self.keys.len() != 1 {
            return Err(NeymanError::invalid(
                "keys",
                "one key is needed when all rows are one cluster",
            ));
        }
        Ok(())
    }

    /// Whether row `i` is usable: `Ok(Some(arm))`, `Ok(None)` outside the arms, or its NaN (false)
    /// or infinity (true).
    #[inline]
    fn row(&self, i: usize) -> std::result::Result<Option<usize>, bool> {
        let arm = match &self.arms {
            Some((a, _)) if a[i] < 0 => return Ok(None),
            Some((a, _)) => a[i] as usize,
            None => 0,
        };
        let mut bad = !self.y[i].is_finite();
        for (_, x) in &self.numeric {
            bad |= !x[i].is_finite();
        }
        if bad {
            let inf =
                self.y[i].is_infinite() || self.numeric.iter().any(|(_, x)| x[i].is_infinite());
            return Err(inf);
        }
        Ok(Some(arm))
    }

    /// The non-zero entries of `z~` for a complete row, in increasing column order.
    #[inline]
    fn entries(&self, i: usize, arm: usize, l: &Shape, shift: &[f64], out: &mut Vec<(usize, f64)>) {
        out.clear();
        if l.n_constant > 0 {
            out.push((if l.arms { arm } else { 0 }, 1.0));
        }
        for (j, (_, x)) in self.numeric.iter().enumerate() {
            out.push((l.n_constant + j, x[i] - shift[j]));
        }
        if l.interactions && arm >= 1 {
            let k = self.numeric.len();
            let first = l.n_constant + k + (arm - 1) * k;
            for (j, (_, x)) in self.numeric.iter().enumerate() {
                out.push((first + j, x[i] - shift[j]));
            }
        }
        out.push((l.p, self.y[i] - shift[self.numeric.len()]));
    }
}

/// What the kernel needs of the layout.
struct Shape {
    n_constant: usize,
    arms: bool,
    interactions: bool,
    p: usize,
}

/// The mean of the complete rows of the first block: the reference point (zeros when the model
/// has no constant, or no complete row is found there).
fn reference_point(d: &ClusterDesign, layout: &Layout) -> Vec<f64> {
    let k = d.numeric.len();
    let mut s = vec![0.0; k + 1];
    if layout.n_constant() == 0 {
        return s;
    }
    let mut n = 0.0;
    for i in 0..d.y.len().min(PAR_BLOCK) {
        if let Ok(Some(_)) = d.row(i) {
            n += 1.0;
            for (j, (_, x)) in d.numeric.iter().enumerate() {
                s[j] += x[i];
            }
            s[k] += d.y[i];
        }
    }
    if n > 0.0 {
        s.iter_mut().for_each(|v| *v /= n);
    }
    s
}

struct Part {
    n: Vec<u64>,
    sums: Vec<f64>,
    nan: u64,
    inf: u64,
    bad_code: Option<u32>,
}

impl Part {
    fn add(mut self, o: Part) -> Part {
        self.n.iter_mut().zip(&o.n).for_each(|(a, b)| *a += b);
        self.sums.iter_mut().zip(&o.sums).for_each(|(a, b)| *a += b);
        self.nan += o.nan;
        self.inf += o.inf;
        self.bad_code = self.bad_code.or(o.bad_code);
        self
    }
}

/// Per-cluster sums of the design and outcome of `d`; see the module docs.
pub fn cluster_sums(d: &ClusterDesign) -> Result<ClusterSums> {
    d.check()?;
    let layout = d.layout();
    let g = d.keys.len();
    let w = layout.width();
    let t = tri(w);
    let shape = Shape {
        n_constant: layout.n_constant(),
        arms: !layout.arms.is_empty(),
        interactions: layout.interacted && layout.arms.len() > 1,
        p: layout.p(),
    };
    let shift = reference_point(d, &layout);
    let xs: Vec<&[f64]> = d.numeric.iter().map(|(_, x)| *x).collect();
    let k = xs.len();
    let nc = shape.n_constant;
    let arms = d.arms.as_ref().map(|a| a.0);
    // Rows are added as a dense z (zeros where an arm's columns do not apply): for the few
    // columns of these models a dense triangle update is faster than sparse bookkeeping. Counts
    // come from the constant columns' diagonal (exact below 2^53) when the model has one.
    let count_rows = nc == 0;
    let map = |r: std::ops::Range<usize>| -> Part {
        let mut part = Part {
            n: vec![0; if count_rows { g } else { 0 }],
            sums: vec![0.0; g * t],
            nan: 0,
            inf: 0,
            bad_code: None,
        };
        let mut z = vec![0.0; w];
        let mut vals = vec![0.0; k];
        let end = r.end;
        for i in r {
            // Prefetch the slot of a row a little ahead (both cache lines of a slot > 64 bytes).
            if let Some(codes) = d.cluster {
                if PREFETCH > 0 && i + PREFETCH < end {
                    let c = codes[i + PREFETCH] as usize;
                    if c < g {
                        prefetch(&part.sums[c * t]);
                        prefetch(&part.sums[c * t + t - 1]);
                    }
                }
            }
            let arm = match arms {
                Some(a) if a[i] < 0 => continue,
                Some(a) => a[i] as usize,
                None => 0,
            };
            let yi = d.y[i];
            let mut finite = yi.is_finite();
            for (v, x) in vals.iter_mut().zip(&xs) {
                *v = x[i];
                finite &= v.is_finite();
            }
            if !finite {
                if yi.is_infinite() || vals.iter().any(|v| v.is_infinite()) {
                    part.inf += 1;
                } else {
                    part.nan += 1;
                }
                continue;
            }
            let c = d.cluster.map_or(0, |c| c[i]) as usize;
            if c >= g {
                part.bad_code = part.bad_code.or(Some(c as u32));
                continue;
            }
            if shape.arms {
                z.iter_mut().for_each(|v| *v = 0.0);
                z[arm] = 1.0;
            } else if nc > 0 {
                z[0] = 1.0;
            }
            for j in 0..k {
                z[nc + j] = vals[j] - shift[j];
            }
            if shape.interactions && arm >= 1 {
                let first = nc + k + (arm - 1) * k;
                for j in 0..k {
                    z[first + j] = z[nc + j];
                }
            }
            z[shape.p] = yi - shift[k];
            if count_rows {
                part.n[c] += 1;
            }
            let s = &mut part.sums[c * t..(c + 1) * t];
            let mut q = 0;
            for a in 0..w {
                let za = z[a];
                for (acc, zb) in s[q..q + w - a].iter_mut().zip(&z[a..]) {
                    *acc += za * zb;
                }
                q += w - a;
            }
        }
        part
    };
    let block = (g * t).div_ceil(PAR_BLOCK).max(1) * PAR_BLOCK;
    let part = reduce_blocks_of(d.y.len(), block, map, Part::add)?.unwrap_or(Part {
        n: vec![0; g],
        sums: vec![0.0; g * t],
        nan: 0,
        inf: 0,
        bad_code: None,
    });
    let n = if count_rows {
        part.n
    } else {
        (0..g)
            .map(|c| {
                let sc = &part.sums[c * t..(c + 1) * t];
                (0..nc).map(|b| sc[packed(w, b, b)]).sum::<f64>() as u64
            })
            .collect()
    };
    if let Some(bad) = part.bad_code {
        return Err(NeymanError::invalid(
            "cluster",
            format!("cluster code {bad} is out of range ({g} keys)"),
        ));
    }
    ClusterSums::from_parts(
        layout,
        shift,
        d.keys.clone(),
        n,
        part.sums,
        part.nan,
        part.inf,
    )
}

/// Per-cluster sums of a ratio metric as the weighted fit of `num / den` on arm indicators with
/// weights `den`: its coefficients are `sum(num) / sum(den)` per arm and its cluster scores the
/// linearised `sum(num - R den)` (the delta method, cluster-robust). Per cluster: `X'WX` (each
/// arm's summed denominators, diagonal), `X'Wy` (each arm's summed numerators) and `y'Wy`
/// (`sum num^2 / den`; a row with a zero denominator adds its numerator to the scores only).
/// Rows outside the arms are skipped, rows with a NaN or an infinity in either column counted and
/// skipped. One pass, blocks as [`cluster_sums`], so the sums do not depend on the thread count.
pub fn ratio_cluster_sums(
    num: &[f64],
    den: &[f64],
    arms: &[i32],
    labels: Vec<String>,
    cluster: &[u32],
    keys: ClusterKeys,
) -> Result<ClusterSums> {
    let n = num.len();
    for (arg, len) in [
        ("denominator", den.len()),
        ("arms", arms.len()),
        ("cluster", cluster.len()),
    ] {
        if len != n {
            return Err(NeymanError::LengthMismatch {
                arg: arg.into(),
                other: "numerator".into(),
                len,
                other_len: n,
            });
        }
    }
    let k = labels.len();
    if let Some(&bad) = arms.iter().find(|&&a| a >= 0 && a as usize >= k) {
        return Err(NeymanError::invalid(
            "arms",
            format!("arm code {bad} is out of range"),
        ));
    }
    let layout = Layout {
        intercept: false,
        arms: labels,
        numeric: Vec::new(),
        interacted: false,
    };
    let (g, w) = (keys.len(), k + 1);
    let t = tri(w);
    let map = |r: std::ops::Range<usize>| -> Part {
        let mut part = Part {
            n: vec![0; g],
            sums: vec![0.0; g * t],
            nan: 0,
            inf: 0,
            bad_code: None,
        };
        for i in r {
            let Ok(arm) = usize::try_from(arms[i]) else {
                continue;
            };
            let (y, d) = (num[i], den[i]);
            if !(y.is_finite() && d.is_finite()) {
                if y.is_infinite() || d.is_infinite() {
                    part.inf += 1;
                } else {
                    part.nan += 1;
                }
                continue;
            }
            let c = cluster[i] as usize;
            if c >= g {
                part.bad_code = part.bad_code.or(Some(c as u32));
                continue;
            }
            part.n[c] += 1;
            let s = &mut part.sums[c * t..(c + 1) * t];
            s[packed(w, arm, arm)] += d;
            s[packed(w, arm, k)] += y;
            if d > 0.0 {
                s[packed(w, k, k)] += y * y / d;
            }
        }
        part
    };
    let block = (g * t).div_ceil(PAR_BLOCK).max(1) * PAR_BLOCK;
    let part = reduce_blocks_of(n, block, map, Part::add)?.unwrap_or(Part {
        n: vec![0; g],
        sums: vec![0.0; g * t],
        nan: 0,
        inf: 0,
        bad_code: None,
    });
    if let Some(bad) = part.bad_code {
        return Err(NeymanError::invalid(
            "cluster",
            format!("cluster code {bad} is out of range ({g} keys)"),
        ));
    }
    ClusterSums::from_parts(
        layout,
        vec![0.0],
        keys,
        part.n,
        part.sums,
        part.nan,
        part.inf,
    )
}

/// Dense codes of integer cluster ids whose range is small (at most `4 n + 65,536` values, so
/// the lookup table stays `O(rows)`): `(codes, keys)` with `keys` sorted and `codes[i]` the
/// position of `ids[i]` in them. `None` when the range is wider (the caller hashes instead), or
/// when there are more than `u32::MAX` distinct ids. Three passes: the range (parallel), the ids
/// present, the codes (parallel); the codes do not depend on the thread count.
pub fn dense_codes(ids: &[i64]) -> Result<Option<(Vec<u32>, Vec<i64>)>> {
    if ids.is_empty() {
        return Ok(Some((Vec::new(), Vec::new())));
    }
    let range = reduce_blocks_of(
        ids.len(),
        PAR_BLOCK,
        |r| {
            ids[r]
                .iter()
                .fold((i64::MAX, i64::MIN), |(lo, hi), &v| (lo.min(v), hi.max(v)))
        },
        |a, b| (a.0.min(b.0), a.1.max(b.1)),
    )?;
    let Some((lo, hi)) = range else {
        return Ok(None);
    };
    let span = (hi as i128 - lo as i128) as u128 + 1;
    if span > (4 * ids.len() as u128 + 65_536) {
        return Ok(None);
    }
    let span = span as usize;
    let mut lut = vec![0u32; span];
    for &v in ids {
        lut[(v - lo) as usize] = 1;
    }
    let mut keys = Vec::new();
    for (j, slot) in lut.iter_mut().enumerate() {
        if *slot == 1 {
            if keys.len() >= u32::MAX as usize {
                return Ok(None);
            }
            *slot = keys.len() as u32;
            keys.push(lo + j as i64);
        }
    }
    let mut codes = vec![0u32; ids.len()];
    if ids.len() <= 2 * PAR_BLOCK {
        // Small input: waking the pool costs more than the work.
        for (o, &v) in codes.iter_mut().zip(ids) {
            *o = lut[(v - lo) as usize];
        }
        return Ok(Some((codes, keys)));
    }
    let pool = crate::parallel::pool()?;
    pool.install(|| {
        use rayon::prelude::*;
        codes
            .par_chunks_mut(PAR_BLOCK)
            .zip(ids.par_chunks(PAR_BLOCK))
            .for_each(|(out, src)| {
                for (o, &v) in out.iter_mut().zip(src) {
                    *o = lut[(v - lo) as usize];
                }
            });
    });
    Ok(Some((codes, keys)))
}

/// Fold the complete rows of `d` in one more pass (blocks of [`PAR_BLOCK`] rows merged along
/// the fixed tree): `row(acc, entries)` sees each row's non-zero entries of `z~` around `shift`
/// (the design, then `y` at column `p`). For the estimators that need the rows again (each row
/// its own cluster).
pub fn fold_rows<S, I, R, M>(
    d: &ClusterDesign,
    shift: &[f64],
    init: I,
    row: R,
    merge: M,
) -> Result<S>
where
    S: Send,
    I: Fn() -> S + Sync + Send,
    R: Fn(&mut S, &[(usize, f64)]) + Sync + Send,
    M: Fn(S, S) -> S,
{
    d.check()?;
    let layout = d.layout();
    let shape = Shape {
        n_constant: layout.n_constant(),
        arms: !layout.arms.is_empty(),
        interactions: layout.interacted && layout.arms.len() > 1,
        p: layout.p(),
    };
    let map = |r: std::ops::Range<usize>| -> S {
        let mut acc = init();
        let mut e: Vec<(usize, f64)> = Vec::with_capacity(shape.p + 1);
        for i in r {
            if let Ok(Some(arm)) = d.row(i) {
                d.entries(i, arm, &shape, shift, &mut e);
                row(&mut acc, &e);
            }
        }
        acc
    };
    Ok(reduce_blocks_of(d.y.len(), PAR_BLOCK, map, merge)?.unwrap_or_else(init))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_by_hand_and_lin_design() {
        // y = (1, 2, 3, 5), x = (0, 1, 2, 4), arms (0, 1, 1, 0), clusters (0, 0, 1, 1).
        let y = [1.0, 2.0, 3.0, 5.0];
        let x = [0.0, 1.0, 2.0, 4.0];
        let arms = [0, 1, 1, 0];
        let cl = [0u32, 0, 1, 1];
        let d = ClusterDesign {
            y: &y,
            numeric: vec![("x", &x)],
            arms: Some((&arms, vec!["c".into(), "t".into()])),
            interacted: true,
            intercept: true,
            cluster: Some(&cl),
            keys: ClusterKeys::Str(vec!["b".into(), "a".into()]),
        };
        let s = cluster_sums(&d).unwrap();
        assert_eq!(s.layout.names(), ["c", "t", "x", "t:x"]);
        // Shift: means of x (1.75) and y (2.75). Keys sorted: "a" (code 1) first.
        assert_eq!(s.shift, vec![1.75, 2.75]);
        assert_eq!(s.keys, ClusterKeys::Str(vec!["a".into(), "b".into()]));
        let w = 5;
        let a = s.cluster(0);
        // Cluster "a": rows (t, x 2, y 3) and (c, x 4, y 5).
        assert_eq!(a[packed(w, 0, 0)], 1.0);
        assert_eq!(a[packed(w, 1, 1)], 1.0);
        assert_eq!(a[packed(w, 0, 1)], 0.0);
        assert_eq!(a[packed(w, 2, 2)], 0.25 * 0.25 + 2.25 * 2.25);
        assert_eq!(a[packed(w, 3, 3)], 0.25 * 0.25);
        assert_eq!(a[packed(w, 3, 4)], 0.25 * 0.25);
        assert_eq!(a[packed(w, 1, 3)], 0.25);
        assert_eq!(s.n, vec![2, 2]);
    }

    #[test]
    fn dense_codes_of_integer_ids() {
        let (codes, keys) = dense_codes(&[7, -2, 7, 3, -2]).unwrap().unwrap();
        assert_eq!(keys, vec![-2, 3, 7]);
        assert_eq!(codes, vec![2, 0, 2, 1, 0]);
        assert!(dense_codes(&[0, i64::MAX]).unwrap().is_none());
        assert!(dense_codes(&[i64::MIN, i64::MAX]).unwrap().is_none());
    }

    #[test]
    fn nan_rows_counted_and_codes_checked() {
        let y = [1.0, f64::NAN, 3.0, f64::INFINITY];
        let x = [0.0, 1.0, 2.0, 4.0];
        let cl = [0u32, 0, 1, 1];
        let mut d = ClusterDesign {
            y: &y,
            numeric: vec![("x", &x)],
            arms: None,
            interacted: false,
            intercept: true,
            cluster: Some(&cl),
            keys: ClusterKeys::Int(vec![10, 20]),
        };
        let s = cluster_sums(&d).unwrap();
        assert_eq!((s.n_nan, s.n_inf, s.n.clone()), (1, 1, vec![1, 1]));
        let bad = [0u32, 0, 2, 1];
        d.cluster = Some(&bad);
        assert_eq!(cluster_sums(&d).unwrap_err().arg(), "cluster");
        let short = [0u32];
        d.cluster = Some(&short);
        assert_eq!(cluster_sums(&d).unwrap_err().arg(), "cluster");
    }
}
