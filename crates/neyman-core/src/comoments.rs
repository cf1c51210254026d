//! `CoMoments<K>`: count, means and the co-moment matrix (sums of cross-products of deviations) of
//! K variables observed together, mergeable.
//!
//! The merge is the multivariate form of Chan, Golub and LeVeque (1979):
//! `C = C_a + C_b + (n_a n_b / n) d d'`, `d = mean_b - mean_a`. Slices reduce in blocks by the
//! corrected two-pass algorithm, as in [`crate::moments`]. Ratio metrics use K = 2 (numerator,
//! denominator); CUPED uses K = 2 (outcome, covariate).

use crate::error::{NeymanError, Result};
use crate::moments::INNER_BLOCK;
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
    pub fn from_sums(n: u64, sx: f64, sy: f64, sxx: f64, syy: f64, sxy: f64) -> Result<Self> {
        if [sx, sy, sxx, syy, sxy].iter().any(|v| !v.is_finite()) {
            return Err(NeymanError::invalid(
                "sums",
                "pre-aggregated sums must be finite",
            ));
        }
        if sxx < 0.0 || syy < 0.0 {
            return Err(NeymanError::invalid(
                "sum_sq",
                "a sum of squares cannot be negative",
            ));
        }
        if n == 0 {
            return Ok(Self::new());
        }
        let nf = n as f64;
        let (mx, my) = (sx / nf, sy / nf);
        let cxx = (sxx - sx * mx).max(0.0);
        let cyy = (syy - sy * my).max(0.0);
        let cxy = sxy - sx * my;
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
pub fn grouped_comoments_of<const K: usize>(
    cols: &[&[f64]; K],
    names: &[&str; K],
    codes: Option<&[i32]>,
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
        if let Some(&bad) = g.iter().find(|&&c| c >= 0 && c as usize >= n_groups) {
            return Err(NeymanError::invalid(
                "codes",
                format!("group code {bad} is out of range for {n_groups} groups"),
            ));
        }
    }
    let group = |i: usize| -> i32 { codes.map_or(0, |g| g[i]) };
    let map = |r: std::ops::Range<usize>| -> Vec<SliceCoMoments<K>> {
        let mut acc = vec![SliceCoMoments::<K>::default(); n_groups];
        let mut start = r.start;
        while start < r.end {
            let end = (start + INNER_BLOCK).min(r.end);
            let mut s = vec![[0.0f64; K]; n_groups];
            let mut c = vec![0u64; n_groups];
            let mut nan = vec![0u64; n_groups];
            let mut inf = vec![0u64; n_groups];
            for i in start..end {
                let k = group(i);
                if k < 0 {
                    continue;
                }
                let k = k as usize;
                let mut row = [0.0; K];
                let mut finite = true;
                for v in 0..K {
                    row[v] = cols[v][i];
                    finite &= row[v].is_finite();
                }
                if finite {
                    c[k] += 1;
                    for v in 0..K {
                        s[k][v] += row[v];
                    }
                } else if row.iter().any(|x| x.is_infinite()) {
                    inf[k] += 1;
                } else {
                    nan[k] += 1;
                }
            }
            let mut mean = vec![[0.0f64; K]; n_groups];
            for k in 0..n_groups {
                if c[k] > 0 {
                    for v in 0..K {
                        mean[k][v] = s[k][v] / c[k] as f64;
                    }
                }
            }
            let mut d1 = vec![[0.0f64; K]; n_groups];
            let mut d2 = vec![[[0.0f64; K]; K]; n_groups];
            for i in start..end {
                let k = group(i);
                if k < 0 {
                    continue;
                }
                let k = k as usize;
                let mut d = [0.0; K];
                let mut finite = true;
                for v in 0..K {
                    let x = cols[v][i];
                    finite &= x.is_finite();
                    d[v] = x - mean[k][v];
                }
                if !finite {
                    continue;
                }
                for a in 0..K {
                    d1[k][a] += d[a];
                    for b in a..K {
                        d2[k][a][b] += d[a] * d[b];
                    }
                }
            }
            for k in 0..n_groups {
                let mut block = CoMoments::<K>::new();
                if c[k] > 0 {
                    let nf = c[k] as f64;
                    block.n = c[k];
                    for a in 0..K {
                        block.mean[a] = mean[k][a] + d1[k][a] / nf;
                        for b in a..K {
                            let v = d2[k][a][b] - d1[k][a] * d1[k][b] / nf;
                            block.c[a][b] = v;
                            block.c[b][a] = v;
                        }
                    }
                }
                acc[k] = acc[k].merge(SliceCoMoments {
                    comoments: block,
                    n_nan: nan[k],
                    n_inf: inf[k],
                });
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

/// Co-moments of K columns over all rows (one group).
pub fn comoments_of<const K: usize>(
    cols: &[&[f64]; K],
    names: &[&str; K],
) -> Result<SliceCoMoments<K>> {
    let mut v = grouped_comoments_of(cols, names, None, 1)?;
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
