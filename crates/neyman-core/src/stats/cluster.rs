//! `ClusterSums`: per-cluster sufficient statistics of a linear model `y = X b + e`, the input of
//! cluster-robust variance (CR0-CR3) and, next, the wild cluster bootstrap.
//!
//! For each cluster `g` the statistic keeps `n_g` and the cross-products of `z = (x, y)` (the design
//! row and the outcome), packed as the upper triangle of a `(p + 1) x (p + 1)` matrix: `X_g'X_g`,
//! `X_g'y_g` and `y_g'y_g` in one block. Memory is `O(clusters x p^2)`, never `O(rows)`.
//!
//! **Shifted sums.** Sums of raw data with a large mean against their spread cancel (mean 1e8,
//! sd 1), so every numeric column and the outcome are stored shifted by a reference point `s`
//! (a vector with one entry per numeric covariate and one for `y`): the design row holds
//! `x_j - s_j` times the row's constant column (the intercept, or its arm indicator), and the
//! interaction of arm `a` with `x_j` holds `d_a (x_j - s_j)`. Because every row has exactly one
//! constant column equal to 1, the shift is a reparametrisation `x~ = T x` of the model with a
//! constant, which leaves fitted values, residuals, hat matrices and so every cluster-robust
//! variance unchanged; the estimator maps coefficients back (`b = T' b~ + s_y w`). Two statistics
//! with different shifts merge after an exact re-centring of one of them, `z' = (I + E) z`, with
//! `E` holding the shift differences on the rows of the shifted columns and the columns of their
//! constants, so `S' = (I + E) S (I + E)'` per cluster (the algebraic shift formula of Chan,
//! Golub and LeVeque 1983, in matrix form). A design with neither intercept nor arms has no
//! constant column: it is stored unshifted.
//!
//! **Clusters by key.** The cluster keys (integers or strings) are held in the statistic, sorted,
//! so [`ClusterSums::merge`] aligns clusters by key (a cluster split across chunks is summed) in a
//! merge-join, and the result does not depend on the merge order beyond float rounding.

use crate::error::{NeymanError, Result};
use crate::stats::checked_cancellation;

/// The keys of the clusters, in increasing order, without duplicates.
#[derive(Clone, Debug, PartialEq)]
pub enum ClusterKeys {
    /// Integer ids.
    Int(Vec<i64>),
    /// String ids.
    Str(Vec<String>),
}

impl ClusterKeys {
    /// Number of clusters.
    pub fn len(&self) -> usize {
        match self {
            ClusterKeys::Int(v) => v.len(),
            ClusterKeys::Str(v) => v.len(),
        }
    }

    /// Whether there is no cluster.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The key of cluster `g` for messages.
    pub fn label(&self, g: usize) -> String {
        match self {
            ClusterKeys::Int(v) => v.get(g).map(|k| k.to_string()).unwrap_or_default(),
            ClusterKeys::Str(v) => v.get(g).map(|k| format!("{k:?}")).unwrap_or_default(),
        }
    }

    /// The permutation that sorts the keys, or the first duplicated key.
    fn sorting(&self) -> std::result::Result<Vec<usize>, String> {
        let mut order: Vec<usize> = (0..self.len()).collect();
        match self {
            ClusterKeys::Int(v) => order.sort_by_key(|&i| v[i]),
            ClusterKeys::Str(v) => order.sort_by(|&i, &j| v[i].cmp(&v[j])),
        }
        for w in order.windows(2) {
            let same = match self {
                ClusterKeys::Int(v) => v[w[0]] == v[w[1]],
                ClusterKeys::Str(v) => v[w[0]] == v[w[1]],
            };
            if same {
                return Err(self.label(w[0]));
            }
        }
        Ok(order)
    }

    fn permuted(&self, order: &[usize]) -> ClusterKeys {
        match self {
            ClusterKeys::Int(v) => ClusterKeys::Int(order.iter().map(|&i| v[i]).collect()),
            ClusterKeys::Str(v) => ClusterKeys::Str(order.iter().map(|&i| v[i].clone()).collect()),
        }
    }
}

/// The columns of the design: `(intercept if no arms) + arm indicators + numeric covariates +
/// (with `interacted`) the indicator of each treatment arm `1..` times each covariate`, then `y`.
#[derive(Clone, Debug, PartialEq)]
pub struct Layout {
    /// An intercept column (ignored when there are arms: the indicators replace it).
    pub intercept: bool,
    /// Labels of the arms (empty: no arm indicators).
    pub arms: Vec<String>,
    /// Names of the numeric covariates.
    pub numeric: Vec<String>,
    /// Lin's interacted model (arm indicator times covariate, for arms after the first).
    pub interacted: bool,
}

impl Layout {
    /// Number of constant columns (intercept, or one indicator per arm).
    pub fn n_constant(&self) -> usize {
        if self.arms.is_empty() {
            usize::from(self.intercept)
        } else {
            self.arms.len()
        }
    }

    fn n_interactions(&self) -> usize {
        if self.interacted && self.arms.len() > 1 {
            (self.arms.len() - 1) * self.numeric.len()
        } else {
            0
        }
    }

    /// Number of coefficients `p`.
    pub fn p(&self) -> usize {
        self.n_constant() + self.numeric.len() + self.n_interactions()
    }

    /// Columns of the packed statistic: the design and `y`.
    pub fn width(&self) -> usize {
        self.p() + 1
    }

    /// Coefficient names.
    pub fn names(&self) -> Vec<String> {
        let mut out = Vec::with_capacity(self.p());
        if self.arms.is_empty() {
            if self.intercept {
                out.push("intercept".to_string());
            }
        } else {
            out.extend(self.arms.iter().cloned());
        }
        out.extend(self.numeric.iter().cloned());
        if self.n_interactions() > 0 {
            for a in &self.arms[1..] {
                out.extend(self.numeric.iter().map(|x| format!("{a}:{x}")));
            }
        }
        out
    }

    /// For column `k` of `z` (the design, then `y` at `p`): the shift entry it uses and the
    /// constant columns whose sum it is shifted by, `z~_k = z_k - s_j sum_{b in base} z_b`.
    pub fn shifted(&self, k: usize) -> Option<(usize, Vec<usize>)> {
        let c = self.n_constant();
        let kx = self.numeric.len();
        let p = self.p();
        if c == 0 {
            return None;
        }
        let all: Vec<usize> = (0..c).collect();
        if k < c {
            None
        } else if k < c + kx {
            Some((k - c, all))
        } else if k < p {
            let r = k - c - kx;
            Some((r % kx, vec![1 + r / kx]))
        } else if k == p {
            Some((kx, all))
        } else {
            None
        }
    }
}

/// Index of entry `(a, b)`, `a <= b`, of the packed upper triangle of a `w x w` matrix.
#[inline]
pub fn packed(w: usize, a: usize, b: usize) -> usize {
    let (a, b) = if a <= b { (a, b) } else { (b, a) };
    a * (2 * w - a + 1) / 2 + (b - a)
}

/// Entries of the packed upper triangle of a `w x w` matrix.
#[inline]
pub fn tri(w: usize) -> usize {
    w * (w + 1) / 2
}

/// Per-cluster sums of a linear model; see the module docs.
#[derive(Clone, Debug, PartialEq)]
pub struct ClusterSums {
    /// The design's columns.
    pub layout: Layout,
    /// Reference point: one entry per numeric covariate, then `y` (zeros without a constant).
    pub shift: Vec<f64>,
    /// Cluster keys, sorted.
    pub keys: ClusterKeys,
    /// Complete rows per cluster.
    pub n: Vec<u64>,
    /// Per cluster, the packed upper triangle of `sum z~ z~'` (`tri(width)` entries each).
    pub sums: Vec<f64>,
    /// Rows skipped for a NaN (and no infinity).
    pub n_nan: u64,
    /// Rows skipped for an infinity.
    pub n_inf: u64,
}

impl ClusterSums {
    /// Build from parts, checking the sizes; clusters are put in key order (duplicated keys are
    /// an error naming `keys`).
    pub fn from_parts(
        layout: Layout,
        shift: Vec<f64>,
        keys: ClusterKeys,
        n: Vec<u64>,
        sums: Vec<f64>,
        n_nan: u64,
        n_inf: u64,
    ) -> Result<Self> {
        let g = keys.len();
        let t = tri(layout.width());
        if n.len() != g {
            return Err(NeymanError::LengthMismatch {
                arg: "n".into(),
                other: "keys".into(),
                len: n.len(),
                other_len: g,
            });
        }
        if sums.len() != g * t {
            return Err(NeymanError::invalid(
                "sums",
                format!(
                    "must hold {t} packed cross-products per cluster ({g} clusters), got {} values",
                    sums.len()
                ),
            ));
        }
        if shift.len() != layout.numeric.len() + 1 {
            return Err(NeymanError::invalid(
                "shift",
                format!(
                    "must have one entry per covariate and one for y ({}), got {}",
                    layout.numeric.len() + 1,
                    shift.len()
                ),
            ));
        }
        if layout.n_constant() == 0 && shift.iter().any(|&s| s != 0.0) {
            return Err(NeymanError::invalid(
                "shift",
                "a design without intercept or arms cannot be shifted",
            ));
        }
        if let Some(bad) = shift.iter().chain(&sums).find(|v| !v.is_finite()) {
            return Err(NeymanError::invalid(
                "sums",
                format!("values must be finite, got {bad}"),
            ));
        }
        let order = keys.sorting().map_err(|k| {
            NeymanError::invalid("keys", format!("cluster {k} appears more than once"))
        })?;
        let sorted = order.iter().enumerate().all(|(i, &j)| i == j);
        let (keys, n, sums) = if sorted {
            (keys, n, sums)
        } else {
            let keys = keys.permuted(&order);
            let n = order.iter().map(|&i| n[i]).collect();
            let sums = order
                .iter()
                .flat_map(|&i| sums[i * t..(i + 1) * t].iter().copied())
                .collect();
            (keys, n, sums)
        };
        Ok(ClusterSums {
            layout,
            shift,
            keys,
            n,
            sums,
            n_nan,
            n_inf,
        })
    }

    /// From per-cluster raw sums of `k` numeric columns and `y` (e.g. SQL aggregates): `n`,
    /// `sum_x` (`G x k`), `sum_xx` (`G x k x k`), `sum_xy` (`G x k`), `sum_y` and `sum_yy`. The
    /// design is the columns (after an intercept when `intercept`). The sums are re-centred at
    /// the pooled means; raw sums that have cancelled too far to carry a column's variance are a
    /// [`NeymanError::PrecisionLoss`] naming the sum.
    #[allow(clippy::too_many_arguments)]
    pub fn from_sums(
        keys: ClusterKeys,
        names: Vec<String>,
        intercept: bool,
        n: Vec<u64>,
        sum_x: &[Vec<f64>],
        sum_xx: &[Vec<Vec<f64>>],
        sum_xy: &[Vec<f64>],
        sum_y: &[f64],
        sum_yy: &[f64],
    ) -> Result<Self> {
        let g = keys.len();
        let k = names.len();
        for (arg, len) in [
            ("n", n.len()),
            ("sum_x", sum_x.len()),
            ("sum_xx", sum_xx.len()),
            ("sum_xy", sum_xy.len()),
            ("sum_y", sum_y.len()),
            ("sum_yy", sum_yy.len()),
        ] {
            if len != g {
                return Err(NeymanError::LengthMismatch {
                    arg: arg.into(),
                    other: "keys".into(),
                    len,
                    other_len: g,
                });
            }
        }
        let shape = |arg: &str| {
            NeymanError::invalid(
                arg,
                format!("must have {k} values per cluster (one per column)"),
            )
        };
        if sum_x.iter().chain(sum_xy).any(|r| r.len() != k) {
            return Err(shape(if sum_x.iter().any(|r| r.len() != k) {
                "sum_x"
            } else {
                "sum_xy"
            }));
        }
        if sum_xx
            .iter()
            .any(|m| m.len() != k || m.iter().any(|r| r.len() != k))
        {
            return Err(NeymanError::invalid(
                "sum_xx",
                format!("must be a {k} x {k} matrix per cluster"),
            ));
        }
        let layout = Layout {
            intercept,
            arms: Vec::new(),
            numeric: names,
            interacted: false,
        };
        let w = layout.width();
        let c = usize::from(intercept);
        let t = tri(w);
        let mut sums = vec![0.0; g * t];
        for i in 0..g {
            let s = &mut sums[i * t..(i + 1) * t];
            let y = w - 1;
            if intercept {
                s[packed(w, 0, 0)] = n[i] as f64;
                for a in 0..k {
                    s[packed(w, 0, c + a)] = sum_x[i][a];
                }
                s[packed(w, 0, y)] = sum_y[i];
            }
            for a in 0..k {
                for b in a..k {
                    s[packed(w, c + a, c + b)] = sum_xx[i][a][b];
                }
                s[packed(w, c + a, y)] = sum_xy[i][a];
            }
            s[packed(w, y, y)] = sum_yy[i];
        }
        let raw = ClusterSums::from_parts(layout, vec![0.0; k + 1], keys, n, sums, 0, 0)?;
        if !intercept {
            return Ok(raw);
        }
        let total: f64 = raw.n.iter().sum::<u64>() as f64;
        if total == 0.0 {
            return Ok(raw);
        }
        let means: Vec<f64> = (0..=k)
            .map(|j| {
                let col = if j < k { c + j } else { w - 1 };
                raw.total(0, col) / total
            })
            .collect();
        let centred = raw.recentred(&means);
        for j in 0..=k {
            let col = if j < k { c + j } else { w - 1 };
            let arg = if j < k { "sum_xx" } else { "sum_yy" };
            checked_cancellation(
                arg,
                centred.total(col, col).max(0.0),
                raw.total(col, col),
                "per-cluster sums of data centred at a common reference (e.g. the overall mean)",
            )?;
        }
        Ok(centred)
    }

    /// Width of the packed matrices (`p + 1`).
    pub fn width(&self) -> usize {
        self.layout.width()
    }

    /// Number of clusters (with or without rows).
    pub fn n_clusters(&self) -> usize {
        self.keys.len()
    }

    /// Packed sums of cluster `g`.
    pub fn cluster(&self, g: usize) -> &[f64] {
        let t = tri(self.width());
        &self.sums[g * t..(g + 1) * t]
    }

    /// Entry `(a, b)` of the sum over all clusters.
    pub fn total(&self, a: usize, b: usize) -> f64 {
        let w = self.width();
        let t = tri(w);
        let i = packed(w, a, b);
        (0..self.n_clusters()).map(|g| self.sums[g * t + i]).sum()
    }

    /// The same statistic around another reference point (exact algebra; see the module docs).
    pub fn recentred(&self, shift: &[f64]) -> ClusterSums {
        let w = self.width();
        let t = tri(w);
        // E[k][b] = s_old - s_new on the rows of shifted columns and the columns of their bases.
        let mut e: Vec<(usize, usize, f64)> = Vec::new();
        for k in 0..w {
            if let Some((j, base)) = self.layout.shifted(k) {
                let d = self.shift[j] - shift[j];
                if d != 0.0 {
                    e.extend(base.into_iter().map(|b| (k, b, d)));
                }
            }
        }
        let mut out = self.clone();
        out.shift = shift.to_vec();
        if e.is_empty() {
            return out;
        }
        let mut full = vec![0.0; w * w];
        let mut es = vec![0.0; w * w];
        for g in 0..self.n_clusters() {
            let s = &self.sums[g * t..(g + 1) * t];
            for a in 0..w {
                for b in 0..w {
                    full[a * w + b] = s[packed(w, a, b)];
                }
            }
            // S' = S + E S + S E' + E S E'. (E S)[k][c] = sum over (k, b, d) of d S[b][c].
            es.iter_mut().for_each(|v| *v = 0.0);
            for &(k, b, d) in &e {
                for c in 0..w {
                    es[k * w + c] += d * full[b * w + c];
                }
            }
            let o = &mut out.sums[g * t..(g + 1) * t];
            for a in 0..w {
                for c in a..w {
                    // (E S E')[a][c] = sum over (c, b, d) in E of d (E S)[a][b].
                    let mut v = full[a * w + c] + es[a * w + c] + es[c * w + a];
                    for &(k, b, d) in &e {
                        if k == c {
                            v += d * es[a * w + b];
                        }
                    }
                    o[packed(w, a, c)] = v;
                }
            }
        }
        out
    }

    /// Per-cluster raw cross-products of the design and outcome, unshifted, for kernels that
    /// work cluster by cluster (the wild cluster bootstrap): `X_g'X_g` (`G x p x p`, row-major),
    /// `X_g'y_g` (`G x p`) and the row counts, in key order.
    pub fn raw_blocks(&self) -> (Vec<f64>, Vec<f64>, Vec<u64>) {
        let w = self.width();
        let p = w - 1;
        let raw = self.recentred(&vec![0.0; self.shift.len()]);
        let g = self.n_clusters();
        let mut xtx = vec![0.0; g * p * p];
        let mut xty = vec![0.0; g * p];
        for c in 0..g {
            let s = raw.cluster(c);
            for a in 0..p {
                for b in 0..p {
                    xtx[(c * p + a) * p + b] = s[packed(w, a, b)];
                }
                xty[c * p + a] = s[packed(w, a, p)];
            }
        }
        (xtx, xty, self.n.clone())
    }

    /// The statistic of both sets of rows: clusters aligned by key (a cluster present in both is
    /// summed), `other` re-centred at this statistic's reference point first.
    pub fn merge(&self, other: &ClusterSums) -> Result<ClusterSums> {
        if other.layout != self.layout {
            return Err(NeymanError::invalid(
                "other",
                format!(
                    "has columns {:?}; only statistics of the same model ({:?}) merge",
                    other.layout.names(),
                    self.layout.names()
                ),
            ));
        }
        let (other_nan, other_inf) = (other.n_nan, other.n_inf);
        let other = if other.shift == self.shift {
            std::borrow::Cow::Borrowed(other)
        } else {
            std::borrow::Cow::Owned(other.recentred(&self.shift))
        };
        let t = tri(self.width());
        let (ga, gb) = (self.n_clusters(), other.n_clusters());
        // Merge-join of the sorted keys: (index in self, index in other).
        let mut pairs: Vec<(Option<usize>, Option<usize>)> = Vec::with_capacity(ga.max(gb));
        let keys = match (&self.keys, &other.keys) {
            (ClusterKeys::Int(a), ClusterKeys::Int(b)) => ClusterKeys::Int(join(a, b, &mut pairs)),
            (ClusterKeys::Str(a), ClusterKeys::Str(b)) => ClusterKeys::Str(join(a, b, &mut pairs)),
            // An empty statistic merges with any: its key type is only a default.
            _ if ga == 0 || gb == 0 => {
                let mut out = if ga == 0 {
                    other.into_owned()
                } else {
                    self.clone()
                };
                out.n_nan = self.n_nan + other_nan;
                out.n_inf = self.n_inf + other_inf;
                return Ok(out);
            }
            _ => {
                return Err(NeymanError::invalid(
                    "other",
                    "cluster ids are integers in one statistic and strings in the other",
                ))
            }
        };
        let mut n = Vec::with_capacity(pairs.len());
        let mut sums = Vec::with_capacity(pairs.len() * t);
        for (a, b) in pairs {
            match (a, b) {
                (Some(i), Some(j)) => {
                    n.push(self.n[i] + other.n[j]);
                    sums.extend(
                        self.cluster(i)
                            .iter()
                            .zip(other.cluster(j))
                            .map(|(x, y)| x + y),
                    );
                }
                (Some(i), None) => {
                    n.push(self.n[i]);
                    sums.extend_from_slice(self.cluster(i));
                }
                (None, Some(j)) => {
                    n.push(other.n[j]);
                    sums.extend_from_slice(other.cluster(j));
                }
                (None, None) => {}
            }
        }
        Ok(ClusterSums {
            layout: self.layout.clone(),
            shift: self.shift.clone(),
            keys,
            n,
            sums,
            n_nan: self.n_nan + other.n_nan,
            n_inf: self.n_inf + other.n_inf,
        })
    }
}

/// The union of two sorted key lists, with where each key came from.
fn join<K: Ord + Clone>(
    a: &[K],
    b: &[K],
    pairs: &mut Vec<(Option<usize>, Option<usize>)>,
) -> Vec<K> {
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::with_capacity(a.len().max(b.len()));
    while i < a.len() || j < b.len() {
        let order = match (a.get(i), b.get(j)) {
            (Some(x), Some(y)) => x.cmp(y),
            (Some(_), None) => std::cmp::Ordering::Less,
            _ => std::cmp::Ordering::Greater,
        };
        match order {
            std::cmp::Ordering::Less => {
                out.push(a[i].clone());
                pairs.push((Some(i), None));
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                out.push(b[j].clone());
                pairs.push((None, Some(j)));
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                out.push(a[i].clone());
                pairs.push((Some(i), Some(j)));
                i += 1;
                j += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(intercept: bool) -> Layout {
        Layout {
            intercept,
            arms: Vec::new(),
            numeric: vec!["x".into()],
            interacted: false,
        }
    }

    /// Raw sums of rows `(x, y)` per cluster key, built by hand.
    fn raw(rows: &[(i64, f64, f64)]) -> ClusterSums {
        let mut keys: Vec<i64> = rows.iter().map(|r| r.0).collect();
        keys.sort();
        keys.dedup();
        let g = keys.len();
        let pos = |k: i64| keys.iter().position(|&v| v == k).unwrap_or(0);
        let mut n = vec![0; g];
        let (mut sx, mut sxx, mut sxy, mut sy, mut syy) = (
            vec![vec![0.0]; g],
            vec![vec![vec![0.0]]; g],
            vec![vec![0.0]; g],
            vec![0.0; g],
            vec![0.0; g],
        );
        for &(k, x, y) in rows {
            let i = pos(k);
            n[i] += 1;
            sx[i][0] += x;
            sxx[i][0][0] += x * x;
            sxy[i][0] += x * y;
            sy[i] += y;
            syy[i] += y * y;
        }
        ClusterSums::from_sums(
            ClusterKeys::Int(keys),
            vec!["x".into()],
            true,
            n,
            &sx,
            &sxx,
            &sxy,
            &sy,
            &syy,
        )
        .unwrap()
    }

    #[test]
    fn recentring_is_exact_and_merge_aligns_keys() {
        let rows = [
            (3, 1.0, 2.0),
            (1, 2.0, 1.0),
            (3, 4.0, 7.0),
            (2, 0.5, 1.5),
            (1, 3.0, 3.0),
        ];
        let whole = raw(&rows);
        assert_eq!(whole.keys, ClusterKeys::Int(vec![1, 2, 3]));
        // Shift at the pooled means (x: 2.1, y: 2.9); cluster 3 holds x - 2.1 = -1.1, 1.9.
        assert!((whole.shift[0] - 2.1).abs() < 1e-15);
        let c3 = whole.cluster(2);
        let w = whole.width();
        assert!((c3[packed(w, 1, 1)] - (1.1f64 * 1.1 + 1.9 * 1.9)).abs() < 1e-13);
        assert!((c3[packed(w, 0, 1)] - 0.8).abs() < 1e-14);
        // A cluster split across chunks (1 and 3 in both), merged in either order.
        let a = raw(&rows[..2]);
        let b = raw(&rows[2..]);
        for m in [a.merge(&b).unwrap(), b.merge(&a).unwrap()] {
            let m = m.recentred(&whole.shift);
            assert_eq!(m.n, whole.n);
            for (x, y) in m.sums.iter().zip(&whole.sums) {
                assert!((x - y).abs() < 1e-12, "{x} {y}");
            }
        }
        let back = whole.recentred(&[0.0, 0.0]).recentred(&whole.shift);
        for (x, y) in back.sums.iter().zip(&whole.sums) {
            assert!((x - y).abs() < 1e-13);
        }
    }

    #[test]
    fn raw_blocks_are_the_unshifted_cross_products() {
        let rows = [(3, 1.0, 2.0), (1, 2.0, 1.0), (3, 4.0, 7.0), (1, 3.0, 3.0)];
        let (xtx, xty, n) = raw(&rows).raw_blocks();
        assert_eq!(n, vec![2, 2]);
        // Cluster 1: rows (2, 1) and (3, 3); cluster 3: rows (1, 2) and (4, 7). X = [1, x].
        let want_xtx = [2.0, 5.0, 5.0, 13.0, 2.0, 5.0, 5.0, 17.0];
        let want_xty = [4.0, 11.0, 9.0, 30.0];
        for (got, want) in xtx.iter().zip(&want_xtx).chain(xty.iter().zip(&want_xty)) {
            assert!((got - want).abs() < 1e-13, "{got} {want}");
        }
    }

    #[test]
    fn errors_name_their_argument() {
        let l = layout(true);
        let parts = |keys: ClusterKeys, n: Vec<u64>, sums: usize| {
            ClusterSums::from_parts(l.clone(), vec![0.0; 2], keys, n, vec![0.0; sums], 0, 0)
        };
        let e = parts(ClusterKeys::Int(vec![1, 1]), vec![1, 1], 12);
        assert_eq!(e.unwrap_err().arg(), "keys");
        let e = parts(ClusterKeys::Int(vec![1]), vec![1], 5);
        assert_eq!(e.unwrap_err().arg(), "sums");
        let a = parts(ClusterKeys::Int(vec![1]), vec![1], 6).unwrap();
        let s = parts(ClusterKeys::Str(vec!["a".into()]), vec![1], 6).unwrap();
        assert_eq!(a.merge(&s).unwrap_err().arg(), "other");
        let no_const = ClusterSums::from_parts(
            layout(false),
            vec![1.0, 0.0],
            ClusterKeys::Int(vec![1]),
            vec![1],
            vec![0.0; 3],
            0,
            0,
        );
        assert_eq!(no_const.unwrap_err().arg(), "shift");
    }

    #[test]
    fn layout_of_lin_model() {
        let l = Layout {
            intercept: true,
            arms: vec!["c".into(), "t".into()],
            numeric: vec!["x".into(), "z".into()],
            interacted: true,
        };
        assert_eq!(l.names(), ["c", "t", "x", "z", "t:x", "t:z"]);
        assert_eq!(l.shifted(0), None);
        assert_eq!(l.shifted(3), Some((1, vec![0, 1])));
        assert_eq!(l.shifted(5), Some((1, vec![1])));
        assert_eq!(l.shifted(6), Some((2, vec![0, 1])));
        assert_eq!(packed(4, 2, 1), packed(4, 1, 2));
        assert_eq!(packed(4, 3, 3), tri(4) - 1);
    }

    #[test]
    fn precision_loss_of_raw_sums() {
        let rows: Vec<(i64, f64, f64)> = (0..2000)
            .map(|i| (i % 7, 1e9 + (i % 3) as f64, 1e9 + (i % 5) as f64))
            .collect();
        let mut keys: Vec<i64> = (0..7).collect();
        keys.sort();
        let mut n = vec![0u64; 7];
        let mut sx = vec![vec![0.0]; 7];
        let mut sxx = vec![vec![vec![0.0]]; 7];
        let mut sxy = vec![vec![0.0]; 7];
        let (mut sy, mut syy) = (vec![0.0; 7], vec![0.0; 7]);
        for &(k, x, y) in &rows {
            let i = k as usize;
            n[i] += 1;
            sx[i][0] += x;
            sxx[i][0][0] += x * x;
            sxy[i][0] += x * y;
            sy[i] += y;
            syy[i] += y * y;
        }
        let e = ClusterSums::from_sums(
            ClusterKeys::Int(keys),
            vec!["x".into()],
            true,
            n,
            &sx,
            &sxx,
            &sxy,
            &sy,
            &syy,
        );
        assert!(matches!(e, Err(NeymanError::PrecisionLoss { .. })));
    }
}
