//! Regression adjustment of a difference in means by several covariates (Lin 2013), with
//! heteroskedasticity-robust (HC0, HC1, HC2) variance; post-stratification (Miratrix, Sekhon and
//! Yu 2013) is the special case of one categorical covariate.
//!
//! Covariates `x` (numeric columns, and categorical columns expanded to dummies inside the kernel,
//! first level dropped) are centred at their pooled means. With `z = (1, x - xbar)` per unit and
//! arm indicators `d_g`, the interacted model (Lin's estimator, the default) is
//! `y = sum_g d_g z' b_g + e`; the additive model (ANCOVA) is `y = sum_g a_g d_g + (x - xbar)' b + e`.
//! In both, the coefficient on `d_g` is the adjusted mean of arm `g` at `xbar`, and the effect of
//! treatment `g` is `a_g - a_0`. The variance is the sandwich `A M A`, `A = (Z'Z)^-1`,
//! `M = sum w_i e_i^2 z_i z_i'`, with `w = 1` (HC0), `n / (n - p)` (HC1), `1 / (1 - h_ii)` (HC2)
//! (MacKinnon and White 1985), exactly as statsmodels' `OLS(...).fit(cov_type=...)`.
//!
//! Three passes, each a mergeable sum over row blocks: pooled means; per-arm cross-products of
//! `(z, y)`; per-arm meat. Every sum is over data centred by the first pass, so cancellation stays
//! small. Because the design of an arm's row depends only on that row, all sums are kept per arm
//! and mapped into the full model afterwards.
//!
//! Rows are accumulated sparsely: `v = (1, x - xbar, dummies)` has `1 + k + n_categorical`
//! non-zeros (the dummies uncentred), and `z = C v` with `z_a = v_a - w_a` on the dummy columns
//! (`w` their pooled means), so `sum z z' = C (sum v v') C'` is formed once per arm from the sparse
//! sums; residuals and HC2 leverages use `C'b` and `C'AC`. A row costs `O(nnz^2)`, not
//! `O(width^2)`. Lin's `Z'Z` is block-diagonal by arm and is inverted block by block.
//!
//! With categorical covariates, both models are solved by their arrow structure ([`Arrow`]): the
//! categorical covariate with the most levels enters through per-level sums (its dummies'
//! cross-products are the diagonal of level counts), the numeric covariates and the dummies of the
//! other categorical covariates form a dense block of `k` columns, and the normal equations reduce
//! to that block's within-level cross-products (`one_categorical` for Lin's model,
//! `additive_one_categorical` for the additive one): `O(rows k^2 + levels k^2 + k^3)` instead of
//! `O(levels^3)`, with the dense fit only for the errors (and when `k` exceeds 64). One categorical
//! covariate alone in Lin's model (post-stratification) also has its own closed form in
//! [`crate::estimators::post_stratification`].

use crate::error::{NeymanError, Result};
use crate::inference::{CovType, Fit};
use crate::linalg::spd_inverse;
use crate::parallel::reduce_blocks;
use crate::scan::check_magnitude;
use crate::stats::RegressionSums;

/// The data of a regression adjustment. Arm codes `< 0` mark rows in no arm (skipped).
pub struct Design<'a> {
    /// Outcome.
    pub y: &'a [f64],
    /// Numeric covariates with their names.
    pub numeric: Vec<(&'a str, &'a [f64])>,
    /// Categorical covariates: name, level codes (`0..levels`, negative = missing) and level count.
    pub categorical: Vec<(&'a str, &'a [i32], usize)>,
    /// Display names of the levels of each categorical covariate (may be empty: numbered).
    pub level_names: Vec<Vec<String>>,
    /// Arm code of each row (`0` is the control).
    pub arms: &'a [i32],
    /// Number of arms.
    pub n_arms: usize,
    /// Lin's interacted model (true) or the additive model.
    pub interacted: bool,
    /// Variance estimator.
    pub cov_type: CovType,
}

impl Design<'_> {
    /// Width of `z = (1, x - xbar)`.
    fn d(&self) -> usize {
        1 + self.numeric.len()
            + self
                .categorical
                .iter()
                .map(|c| c.2.saturating_sub(1))
                .sum::<usize>()
    }

    fn n_params(&self) -> usize {
        let d = self.d();
        if self.interacted {
            self.n_arms * d
        } else {
            self.n_arms + d - 1
        }
    }

    /// Position in the full coefficient vector of element `j` of arm `g`'s `z`.
    fn pos(&self, g: usize, j: usize) -> usize {
        if self.interacted {
            g * self.d() + j
        } else if j == 0 {
            g
        } else {
            self.n_arms + j - 1
        }
    }

    fn names(&self) -> Vec<String> {
        let mut out = vec!["intercept".to_string()];
        out.extend(self.numeric.iter().map(|(n, _)| n.to_string()));
        for (c, (name, _, levels)) in self.categorical.iter().enumerate() {
            let label = |l: usize| {
                self.level_names
                    .get(c)
                    .and_then(|v| v.get(l))
                    .cloned()
                    .unwrap_or_else(|| format!("level {l}"))
            };
            out.extend((1..*levels).map(|l| format!("{name}={}", label(l))));
        }
        out
    }

    /// Row status: `Some(arm)` for a complete row, `None` when skipped; counts go to `bad`.
    #[inline]
    fn row(&self, i: usize) -> Row {
        let g = self.arms[i];
        if g < 0 {
            return Row::Skip;
        }
        let mut inf = self.y[i].is_infinite();
        let mut nan = self.y[i].is_nan();
        for (_, x) in &self.numeric {
            inf |= x[i].is_infinite();
            nan |= x[i].is_nan();
        }
        for (_, c, _) in &self.categorical {
            nan |= c[i] < 0;
        }
        if inf {
            Row::Inf(g as usize)
        } else if nan {
            Row::Incomplete(g as usize)
        } else {
            Row::Complete(g as usize)
        }
    }

    /// The non-zero entries of `v = (1, x - xbar, dummies)` for row `i`, in increasing column
    /// order: numeric covariates centred and scaled by `c`, dummies left uncentred (0/1), so a row has
    /// `1 + k + n_categorical` entries. `z = v - (0, 0, w)` with `w` the dummies' pooled means
    /// (see [`Design::dummy_means`]).
    #[inline]
    fn entries(&self, i: usize, c: &Centre, idx: &mut Vec<usize>, val: &mut Vec<f64>) {
        idx.clear();
        val.clear();
        idx.push(0);
        val.push(1.0);
        let mut j = 1;
        for (_, x) in &self.numeric {
            idx.push(j);
            val.push((x[i] - c.x[j]) * c.inv[j]);
            j += 1;
        }
        for (_, c, levels) in &self.categorical {
            let level = c[i] as usize;
            if level >= 1 {
                idx.push(j + level - 1);
                val.push(1.0);
            }
            j += levels.saturating_sub(1);
        }
    }

    /// `center` on the dummy columns, zero elsewhere (length `width`): the shift from `v` to `z`.
    fn dummy_means(&self, center: &[f64], width: usize) -> Vec<f64> {
        let first_dummy = 1 + self.numeric.len();
        (0..width)
            .map(|j| {
                if j >= first_dummy && j < self.d() {
                    center[j]
                } else {
                    0.0
                }
            })
            .collect()
    }
}

/// `C S C'` for `z = C v`, `z_a = v_a - w_a v_0` (`w_0 = 0`): a sum of `v v'` (upper triangle,
/// `width x width`) turned into the sum of `z z'` in `O(width^2)`, so rows are accumulated with
/// their sparse `v` and centred once.
fn centre_sums(s: &[f64], width: usize, w: &[f64]) -> Vec<f64> {
    let get = |a: usize, b: usize| {
        if a <= b {
            s[a * width + b]
        } else {
            s[b * width + a]
        }
    };
    let mut out = vec![0.0; width * width];
    let s00 = get(0, 0);
    for a in 0..width {
        let s0a = get(0, a);
        for b in a..width {
            out[a * width + b] = get(a, b) - w[a] * get(0, b) - w[b] * s0a + w[a] * w[b] * s00;
        }
    }
    out
}

enum Row {
    Skip,
    Inf(usize),
    Incomplete(usize),
    Complete(usize),
}

fn check_lengths(d: &Design) -> Result<()> {
    let n = d.y.len();
    let mismatch = |arg: &str, len: usize| NeymanError::LengthMismatch {
        arg: arg.into(),
        other: "y".into(),
        len,
        other_len: n,
    };
    if d.arms.len() != n {
        return Err(mismatch("arms", d.arms.len()));
    }
    for (name, x) in &d.numeric {
        if x.len() != n {
            return Err(mismatch(name, x.len()));
        }
    }
    for (name, c, levels) in &d.categorical {
        if c.len() != n {
            return Err(mismatch(name, c.len()));
        }
        if let Some(&bad) = c.iter().find(|&&v| v >= 0 && v as usize >= *levels) {
            return Err(NeymanError::invalid(
                *name,
                format!("level code {bad} is out of range"),
            ));
        }
    }
    if let Some(&bad) = d.arms.iter().find(|&&g| g >= 0 && g as usize >= d.n_arms) {
        return Err(NeymanError::invalid(
            "arms",
            format!("arm code {bad} is out of range"),
        ));
    }
    if d.n_arms < 2 {
        return Err(NeymanError::invalid("arms", "at least two arms are needed"));
    }
    Ok(())
}

/// Where the fit centres and how it scales each column: the pooled means of `z[1..]` (`x`, the
/// dummies' means being the level shares) and of `y`, and a power of two per numeric column and
/// for `y` that brings its largest magnitude near 1. Every pass works on `(x - xbar) * inv` and
/// `(y - ybar) * y_inv`; powers of two multiply exactly, so the scaling changes no digit, and the
/// sandwich sums (fourth powers of the data) neither overflow for data near 1e80 nor underflow
/// for data near 1e-80. The fit comes back in the data's units through [`Centre::unscale`]; an
/// outcome whose variance cannot be held in float64 (magnitudes beyond 1e+-150) is refused, as
/// the other estimators refuse it.
struct Centre {
    x: Vec<f64>,
    inv: Vec<f64>,
    ybar: f64,
    y_inv: f64,
}

impl Centre {
    /// The identity: no centring, no scaling (pass 1 sums the raw values).
    fn none(width: usize) -> Self {
        Centre {
            x: vec![0.0; width],
            inv: vec![1.0; width],
            ybar: 0.0,
            y_inv: 1.0,
        }
    }

    /// The centred, scaled outcome of row `i`.
    #[inline]
    fn y(&self, d: &Design, i: usize) -> f64 {
        (d.y[i] - self.ybar) * self.y_inv
    }

    /// The centred, scaled numeric covariate `j` (`0..k`) of row `i`.
    #[inline]
    fn x(&self, x: &[f64], j: usize, i: usize) -> f64 {
        (x[i] - self.x[j + 1]) * self.inv[j + 1]
    }

    /// A fit computed on the centred, scaled outcome, in the outcome's units.
    fn unscale(&self, mut fit: Fit) -> Fit {
        let s = 1.0 / self.y_inv;
        for a in fit.adjusted.iter_mut().chain(fit.mean.iter_mut()) {
            *a = self.ybar + *a * s;
        }
        for v in fit.var.iter_mut().chain(fit.vcov.iter_mut().flatten()) {
            *v *= s * s;
        }
        fit
    }
}

/// `2^-e` for the largest magnitude `2^e` of a column (1 for a column of zeros): an exact scale.
fn power_of_two_inverse(max_abs: f64) -> f64 {
    if max_abs > 0.0 && max_abs.is_finite() {
        let (_, e) = frexp(max_abs);
        // Subnormal data: stop at 2^1023, which stays finite.
        ((-e).min(1023) as f64).exp2()
    } else {
        1.0
    }
}

/// The binary exponent of `x` (`x = m 2^e`, `0.5 <= |m| < 1`), for finite non-zero `x`.
fn frexp(x: f64) -> (f64, i32) {
    let mut e = x.abs().log2().floor() as i32 + 1;
    // log2 can round across a power of two; settle the exponent exactly.
    while x.abs() >= (e as f64).exp2() {
        e += 1;
    }
    while x.abs() < ((e - 1) as f64).exp2() {
        e -= 1;
    }
    (x / (e as f64).exp2(), e)
}

/// Pass 1: pooled count and sums of `(y, z[1..])` over complete rows, and the largest magnitude
/// of `y` and of each numeric covariate; the [`Centre`] of the fit.
fn pooled_means(d: &Design) -> Result<Centre> {
    let width = d.d();
    let k = d.numeric.len();
    type Pass1 = (f64, Vec<f64>, f64, Vec<f64>);
    let map = |r: std::ops::Range<usize>| -> Pass1 {
        let mut s = vec![0.0; width];
        let mut big = vec![0.0f64; k + 1];
        let (mut n, mut sy) = (0.0, 0.0);
        let raw = Centre::none(width);
        let (mut idx, mut val) = (Vec::new(), Vec::new());
        for i in r {
            if let Row::Complete(_) = d.row(i) {
                d.entries(i, &raw, &mut idx, &mut val);
                n += 1.0;
                sy += d.y[i];
                big[0] = big[0].max(d.y[i].abs());
                for (&j, &v) in idx.iter().zip(&val).skip(1) {
                    s[j] += v;
                }
                for (b, v) in big[1..].iter_mut().zip(&val[1..=k]) {
                    *b = b.max(v.abs());
                }
            }
        }
        (n, s, sy, big)
    };
    let merge = |a: Pass1, b: Pass1| {
        (
            a.0 + b.0,
            a.1.iter().zip(&b.1).map(|(x, y)| x + y).collect(),
            a.2 + b.2,
            a.3.iter().zip(&b.3).map(|(x, y)| x.max(*y)).collect(),
        )
    };
    let (n, s, sy, big) = reduce_blocks(d.y.len(), map, merge)?.unwrap_or((
        0.0,
        vec![0.0; width],
        0.0,
        vec![0.0; k + 1],
    ));
    if n == 0.0 {
        return Err(NeymanError::TooFewObservations {
            arg: "data".into(),
            n: 0,
            needed: 2,
        });
    }
    // The fit is computed on scaled data, but its variances are in the outcome's units.
    check_magnitude("y", big[0])?;
    let mut x: Vec<f64> = s.iter().map(|v| v / n).collect();
    x[0] = 0.0;
    let mut inv = vec![1.0; width];
    for j in 0..k {
        inv[j + 1] = power_of_two_inverse(big[j + 1]);
    }
    Ok(Centre {
        x,
        inv,
        ybar: sy / n,
        y_inv: power_of_two_inverse(big[0]),
    })
}

/// Per-arm sums over rows: counts and a `(width x width)` upper-triangular matrix.
#[derive(Clone)]
struct ArmAccumulators {
    n: Vec<u64>,
    incomplete: Vec<u64>,
    inf: Vec<u64>,
    s: Vec<Vec<f64>>,
}

impl ArmAccumulators {
    fn new(arms: usize, width: usize) -> Self {
        ArmAccumulators {
            n: vec![0; arms],
            incomplete: vec![0; arms],
            inf: vec![0; arms],
            s: vec![vec![0.0; width * width]; arms],
        }
    }

    fn add(mut self, o: ArmAccumulators) -> Self {
        for g in 0..self.n.len() {
            self.n[g] += o.n[g];
            self.incomplete[g] += o.incomplete[g];
            self.inf[g] += o.inf[g];
            for (a, b) in self.s[g].iter_mut().zip(&o.s[g]) {
                *a += b;
            }
        }
        self
    }
}

/// Sum over complete rows of `weight(g, v, y) * u u'` (upper triangle, `width x width`), with
/// `v` the row's sparse entries (column indices and values, see [`Design::entries`]) and `u = v`,
/// or `u = (v, y - ybar)` (`y` in column `width - 1`) when `with_y`. A row costs `O(nnz^2)` with
/// `nnz = 1 + k + n_categorical`, not `O(width^2)`; [`centre_sums`] turns the sums into `z`'s.
fn arm_sums<F>(
    d: &Design,
    c: &Centre,
    width: usize,
    with_y: bool,
    weight: F,
) -> Result<ArmAccumulators>
where
    F: Fn(usize, &[usize], &[f64], f64) -> f64 + Sync + Send,
{
    let arms = d.n_arms;
    let map = |r: std::ops::Range<usize>| -> ArmAccumulators {
        let mut acc = ArmAccumulators::new(arms, width);
        let (mut idx, mut val) = (Vec::new(), Vec::new());
        for i in r {
            match d.row(i) {
                Row::Skip => {}
                Row::Inf(g) => acc.inf[g] += 1,
                Row::Incomplete(g) => acc.incomplete[g] += 1,
                Row::Complete(g) => {
                    d.entries(i, c, &mut idx, &mut val);
                    let y = c.y(d, i);
                    let w = weight(g, &idx, &val, y);
                    if with_y {
                        idx.push(width - 1);
                        val.push(y);
                    }
                    acc.n[g] += 1;
                    let s = &mut acc.s[g];
                    for a in 0..idx.len() {
                        let wa = w * val[a];
                        let row = &mut s[idx[a] * width..(idx[a] + 1) * width];
                        for b in a..idx.len() {
                            row[idx[b]] += wa * val[b];
                        }
                    }
                }
            }
        }
        acc
    };
    Ok(reduce_blocks(d.y.len(), map, ArmAccumulators::add)?
        .unwrap_or_else(|| ArmAccumulators::new(arms, width)))
}

/// Fit the adjustment model; see the module docs.
pub fn regression_adjust(d: &Design, arm_labels: &[String]) -> Result<Fit> {
    fit_model(d, arm_labels, true)
}

/// The widest dense block (numeric covariates and the dummies of every categorical covariate but
/// the one with the most levels) that the structured solves take; wider designs use the dense fit.
const ARROW_MAX_DENSE: usize = 64;

/// [`regression_adjust`]; `structured = false` skips the fits by structure (one categorical
/// covariate with the most levels, the rest dense) and always solves the dense normal equations
/// (tests compare the two).
fn fit_model(d: &Design, arm_labels: &[String], structured: bool) -> Result<Fit> {
    check_lengths(d)?;
    let c = pooled_means(d)?;
    let arrow = if structured { Arrow::of(d, &c) } else { None };
    let fit = match &arrow {
        Some(a) if d.interacted => one_categorical(d, &c, a)?,
        Some(a) => additive_one_categorical(d, &c, a)?,
        None => None,
    };
    let fit = match fit {
        Some(f) => f,
        None => dense_fit(d, arm_labels, &c)?,
    };
    Ok(c.unscale(fit))
}

/// The dense normal equations of the model (block by arm for Lin's), on the centred, scaled data
/// of `c`.
fn dense_fit(d: &Design, arm_labels: &[String], c: &Centre) -> Result<Fit> {
    let dz = d.d();
    let p = d.n_params();
    // Pass 2: per-arm cross-products of v = (z, y - ybar).
    let width = dz + 1;
    let shift = d.dummy_means(&c.x, width);
    let mut cross = arm_sums(d, c, width, true, |_, _, _, _| 1.0)?;
    for s in cross.s.iter_mut() {
        *s = centre_sums(s, width, &shift);
    }
    let label = |g: usize| {
        arm_labels
            .get(g)
            .cloned()
            .unwrap_or_else(|| format!("arm {g}"))
    };
    for g in 0..d.n_arms {
        if cross.n[g] < 2 {
            return Err(NeymanError::TooFewObservations {
                arg: format!("arm '{}'", label(g)),
                n: cross.n[g],
                needed: 2,
            });
        }
    }
    if d.interacted {
        for g in 0..d.n_arms {
            if (cross.n[g] as usize) <= dz {
                return Err(NeymanError::TooFewObservations {
                    arg: format!("arm '{}' (with {} covariate columns)", label(g), dz - 1),
                    n: cross.n[g],
                    needed: dz as u64 + 1,
                });
            }
        }
    }
    let mut xtx = vec![vec![0.0; p]; p];
    let mut xty = vec![0.0; p];
    for g in 0..d.n_arms {
        let s = &cross.s[g];
        for a in 0..dz {
            for b in a..dz {
                let v = s[a * width + b];
                let (pa, pb) = (d.pos(g, a), d.pos(g, b));
                xtx[pa][pb] += v;
                if pa != pb {
                    xtx[pb][pa] += v;
                }
            }
            xty[d.pos(g, a)] += s[a * width + dz];
        }
    }
    let names = d.names();
    // Lin's model is block-diagonal by arm: each block is inverted alone (the same Cholesky
    // steps, without the zero blocks between arms), O(arms dz^3) instead of O(p^3).
    let inverse = if d.interacted {
        let mut inv = vec![vec![0.0; p]; p];
        let mut failed = None;
        for g in 0..d.n_arms {
            let block: Vec<Vec<f64>> = (0..dz)
                .map(|a| (0..dz).map(|b| xtx[d.pos(g, a)][d.pos(g, b)]).collect())
                .collect();
            match spd_inverse(&block) {
                Ok(b) => {
                    for a in 0..dz {
                        for c in 0..dz {
                            inv[d.pos(g, a)][d.pos(g, c)] = b[a][c];
                        }
                    }
                }
                Err(k) => {
                    failed = Some(d.pos(g, k));
                    break;
                }
            }
        }
        failed.map_or(Ok(inv), Err)
    } else {
        spd_inverse(&xtx)
    };
    let inv = inverse.map_err(|k| {
        let (g, j) = (0..d.n_arms)
            .flat_map(|g| (0..dz).map(move |j| (g, j)))
            .find(|&(g, j)| d.pos(g, j) == k)
            .unwrap_or((0, 0));
        let what = names.get(j).cloned().unwrap_or_default();
        let arm = if d.interacted {
            format!(" in arm {:?}", label(g))
        } else {
            String::new()
        };
        let msg = if j == 0 {
            format!("the design is singular{arm}: too few rows for the number of covariates")
        } else {
            format!(
                "covariate {what} is constant or collinear with the other covariates{arm}, so \
                 the adjustment is not identified"
            )
        };
        NeymanError::ZeroVariance {
            arg: if j == 0 { "covariates".into() } else { what },
            msg,
        }
    })?;
    let beta: Vec<f64> = (0..p)
        .map(|i| (0..p).map(|j| inv[i][j] * xty[j]).sum())
        .collect();
    let n_total: u64 = cross.n.iter().sum();
    if n_total as usize <= p {
        return Err(NeymanError::TooFewObservations {
            arg: "data".into(),
            n: n_total,
            needed: p as u64 + 1,
        });
    }
    // Pass 3: per-arm meat sum w e^2 z z'.
    let arm_beta: Vec<Vec<f64>> = (0..d.n_arms)
        .map(|g| (0..dz).map(|j| beta[d.pos(g, j)]).collect())
        .collect();
    let arm_inv: Vec<Vec<f64>> = (0..d.n_arms)
        .map(|g| {
            let mut b = vec![0.0; dz * dz];
            for a in 0..dz {
                for c in 0..dz {
                    b[a * dz + c] = inv[d.pos(g, a)][d.pos(g, c)];
                }
            }
            b
        })
        .collect();
    // The same in v-space (z = v - (0, 0, w) v_0): z'b = v'bv, z'A z = v'Av v.
    let w = &shift[..dz];
    let arm_beta_v: Vec<Vec<f64>> = arm_beta
        .iter()
        .map(|b| {
            let mut bv = b.clone();
            bv[0] -= b.iter().zip(w).map(|(x, y)| x * y).sum::<f64>();
            bv
        })
        .collect();
    let arm_inv_v: Vec<Vec<f64>> = arm_inv
        .iter()
        .map(|a| {
            let aw: Vec<f64> = (0..dz)
                .map(|r| (0..dz).map(|c| a[r * dz + c] * w[c]).sum())
                .collect();
            let waw: f64 = aw.iter().zip(w).map(|(x, y)| x * y).sum();
            let mut av = a.clone();
            for r in 1..dz {
                av[r * dz] -= aw[r];
                av[r] -= aw[r];
            }
            av[0] += waw - 2.0 * aw[0];
            av
        })
        .collect();
    let cov_type = d.cov_type;
    let max_leverage = std::sync::Mutex::new(0.0f64);
    let mut meat = arm_sums(d, c, dz, false, |g, idx, val, y| {
        let bv = &arm_beta_v[g];
        let e = y - idx.iter().zip(val).map(|(&j, v)| bv[j] * v).sum::<f64>();
        let w = if cov_type == CovType::HC2 {
            let b = &arm_inv_v[g];
            let mut h = 0.0;
            for (&ja, &va) in idx.iter().zip(val) {
                let row = &b[ja * dz..(ja + 1) * dz];
                h += va
                    * idx
                        .iter()
                        .zip(val)
                        .map(|(&jb, vb)| row[jb] * vb)
                        .sum::<f64>();
            }
            if h > 1.0 - 1e-10 {
                if let Ok(mut m) = max_leverage.lock() {
                    *m = m.max(h);
                }
                0.0
            } else {
                1.0 / (1.0 - h)
            }
        } else {
            1.0
        };
        w * e * e
    })?;
    for s in meat.s.iter_mut() {
        *s = centre_sums(s, dz, w);
    }
    if max_leverage.lock().map(|m| *m > 0.0).unwrap_or(false) {
        return Err(NeymanError::invalid(
            "cov_type",
            "a unit has leverage 1 (a category with a single unit in an arm), so HC2 is undefined; \
             merge rare categories or use cov_type='HC1'",
        ));
    }
    let mut m = vec![vec![0.0; p]; p];
    for g in 0..d.n_arms {
        let s = &meat.s[g];
        for a in 0..dz {
            for b in a..dz {
                let v = s[a * dz + b];
                let (pa, pb) = (d.pos(g, a), d.pos(g, b));
                m[pa][pb] += v;
                if pa != pb {
                    m[pb][pa] += v;
                }
            }
        }
    }
    let scale = if cov_type == CovType::HC1 {
        n_total as f64 / (n_total as f64 - p as f64)
    } else {
        1.0
    };
    // V restricted to the arm intercepts: rows pos(g, 0) of A M A.
    let idx: Vec<usize> = (0..d.n_arms).map(|g| d.pos(g, 0)).collect();
    let am: Vec<Vec<f64>> = idx
        .iter()
        .map(|&r| {
            (0..p)
                .map(|c| (0..p).map(|k| inv[r][k] * m[k][c]).sum())
                .collect()
        })
        .collect();
    let vcov: Vec<Vec<f64>> = am
        .iter()
        .map(|row| {
            idx.iter()
                .map(|&c| scale * (0..p).map(|k| row[k] * inv[k][c]).sum::<f64>())
                .collect()
        })
        .collect();
    let width_y = dz;
    let mean: Vec<f64> = (0..d.n_arms)
        .map(|g| cross.s[g][width_y] / cross.n[g] as f64)
        .collect();
    let var: Vec<f64> = (0..d.n_arms)
        .map(|g| {
            let n = cross.n[g] as f64;
            let (s1, s2) = (cross.s[g][width_y], cross.s[g][width_y * width + width_y]);
            ((s2 - s1 * s1 / n) / (n - 1.0)).max(0.0)
        })
        .collect();
    Ok(Fit {
        n: cross.n,
        n_incomplete: cross.incomplete,
        n_inf: cross.inf,
        adjusted: idx.iter().map(|&k| beta[k]).collect(),
        vcov,
        mean,
        var,
        p,
    })
}

/// A design with categorical covariates seen by the structured solves: the categorical covariate
/// with the most levels (its codes, level count and the pooled shares of levels `1..L`) enters
/// through per-level sums; the numeric covariates and the dummies of the other categorical
/// covariates, centred at their pooled means, are the `k` dense columns. A row then costs
/// `O(k^2)` and the solve `O(levels k^2 + k^3)`, whatever the number of levels.
struct Arrow<'a> {
    codes: &'a [i32],
    levels: usize,
    share: Vec<f64>,
    k: usize,
    /// The other categorical covariates: codes, level count, offset of their dummies in `Centre::x`.
    others: Vec<(&'a [i32], usize, usize)>,
}

impl<'a> Arrow<'a> {
    /// `None` without a categorical covariate, or when the dense block would be wider than
    /// [`ARROW_MAX_DENSE`].
    fn of(d: &Design<'a>, c: &Centre) -> Option<Self> {
        let factor =
            (0..d.categorical.len()).max_by_key(|&j| (d.categorical[j].2, usize::MAX - j))?;
        let mut offset = 1 + d.numeric.len();
        let (mut others, mut share) = (vec![], vec![]);
        for (j, &(_, codes, levels)) in d.categorical.iter().enumerate() {
            let dummies = levels.saturating_sub(1);
            if j == factor {
                share = c.x[offset..offset + dummies].to_vec();
            } else {
                others.push((codes, levels, offset));
            }
            offset += dummies;
        }
        let k = d.numeric.len() + others.iter().map(|o| o.1.saturating_sub(1)).sum::<usize>();
        if k > ARROW_MAX_DENSE {
            return None;
        }
        let (_, codes, levels) = d.categorical[factor];
        Some(Arrow {
            codes,
            levels,
            share,
            k,
            others,
        })
    }

    /// The `k` dense covariates of row `i` (a complete row), centred and scaled.
    #[inline]
    fn fill(&self, d: &Design, c: &Centre, i: usize, out: &mut [f64]) {
        for (j, (_, x)) in d.numeric.iter().enumerate() {
            out[j] = c.x(x, j, i);
        }
        let mut pos = d.numeric.len();
        for &(codes, levels, offset) in &self.others {
            let level = codes[i] as usize;
            for l in 1..levels {
                out[pos] = if level == l { 1.0 } else { 0.0 } - c.x[offset + l - 1];
                pos += 1;
            }
        }
    }
}

/// Per-arm sums of Lin's model with numeric covariates and one categorical covariate, over
/// `u = (1, x - xbar, y - ybar)`: the dense sums of `u u'` (upper triangle, width `k + 2`), and
/// per level the sums of `u` (count, covariates, outcome).
#[derive(Clone)]
struct ArrowSums {
    width: usize,
    n: Vec<u64>,
    incomplete: Vec<u64>,
    inf: Vec<u64>,
    dense: Vec<Vec<f64>>,
    level: Vec<Vec<f64>>,
}

impl ArrowSums {
    fn new(arms: usize, width: usize, levels: usize) -> Self {
        ArrowSums {
            width,
            n: vec![0; arms],
            incomplete: vec![0; arms],
            inf: vec![0; arms],
            dense: vec![vec![0.0; width * width]; arms],
            level: vec![vec![0.0; levels * width]; arms],
        }
    }

    fn add(mut self, o: ArrowSums) -> Self {
        for g in 0..self.n.len() {
            self.n[g] += o.n[g];
            self.incomplete[g] += o.incomplete[g];
            self.inf[g] += o.inf[g];
            for (a, b) in self.dense[g].iter_mut().zip(&o.dense[g]) {
                *a += b;
            }
            for (a, b) in self.level[g].iter_mut().zip(&o.level[g]) {
                *a += b;
            }
        }
        self
    }

    /// Entry `(a, b)` of arm `g`'s sums of `u u'` (the upper triangle is stored).
    fn dense(&self, g: usize, a: usize, b: usize) -> f64 {
        self.dense[g][a.min(b) * self.width + a.max(b)]
    }

    /// The fit from these sums, the adjusted means and their covariance: the unadjusted mean and
    /// variance of each arm come from the sums of `y - ybar` (entry `width - 1`).
    fn into_fit(self, adjusted: Vec<f64>, vcov: Vec<Vec<f64>>, p: usize) -> Fit {
        let y = self.width - 1;
        let arms = self.n.len();
        let mean = (0..arms)
            .map(|g| self.dense(g, 0, y) / self.n[g] as f64)
            .collect();
        let var = (0..arms)
            .map(|g| {
                let n = self.n[g] as f64;
                let (s1, s2) = (self.dense(g, 0, y), self.dense(g, y, y));
                ((s2 - s1 * s1 / n) / (n - 1.0)).max(0.0)
            })
            .collect();
        Fit {
            n: self.n,
            n_incomplete: self.incomplete,
            n_inf: self.inf,
            adjusted,
            vcov,
            mean,
            var,
            p,
        }
    }
}

/// Per-arm sums of `u = (1, x - xbar, y - ybar)` over the complete rows of a design with one
/// categorical covariate: `u u'` (upper triangle, width `k + 2`) and, per level, `u` (see
/// [`ArrowSums`]).
fn arrow_sums(d: &Design, c: &Centre, arrow: &Arrow) -> Result<ArrowSums> {
    let (codes, levels) = (arrow.codes, arrow.levels);
    let (arms, k) = (d.n_arms, arrow.k);
    let m = k + 1;
    let width = k + 2;
    let map = |r: std::ops::Range<usize>| -> ArrowSums {
        let mut acc = ArrowSums::new(arms, width, levels);
        let mut u = vec![0.0; width];
        for i in r {
            match d.row(i) {
                Row::Skip => {}
                Row::Inf(g) => acc.inf[g] += 1,
                Row::Incomplete(g) => acc.incomplete[g] += 1,
                Row::Complete(g) => {
                    u[0] = 1.0;
                    arrow.fill(d, c, i, &mut u[1..m]);
                    u[m] = c.y(d, i);
                    acc.n[g] += 1;
                    let s = &mut acc.dense[g];
                    for a in 0..width {
                        for b in a..width {
                            s[a * width + b] += u[a] * u[b];
                        }
                    }
                    let l = codes[i] as usize;
                    for (t, v) in acc.level[g][l * width..(l + 1) * width].iter_mut().zip(&u) {
                        *t += v;
                    }
                }
            }
        }
        acc
    };
    Ok(reduce_blocks(d.y.len(), map, ArrowSums::add)?
        .unwrap_or_else(|| ArrowSums::new(arms, width, levels)))
}

/// Lin's model with one categorical covariate (levels `l = 1..L` as uncentred dummies `D_l`
/// beside `w = (1, x - xbar)`) solved by its arrow structure: with `B = sum w w'`, `e_l = sum_l
/// w`, `n_l` the level counts, `S = B - sum_l e_l e_l' / n_l` (the within-level cross-products),
/// the coefficients are `b_w = S^-1 (sum w y - sum_l e_l ybar_l)` and `b_l = ybar_l - m_l' b_w`
/// (`m_l = e_l / n_l`), the leverage of a unit of level `l` is `1/n_l + (w - m_l)' S^-1 (w - m_l)`
/// (level 0: `w' S^-1 w`), and the variance of the adjusted mean `c'b` (`c = (1, 0, pooled
/// shares)`) is `sum_i omega_i e_i^2 (q'v_i)^2` with `q = (V'V)^-1 c`. `O(rows k^2 + levels k^2 +
/// k^3)` per arm instead of `O(levels^3)`. `None` (the caller then fits the dense model, which
/// gives the error) when an arm has too few rows, a level is empty in an arm, `S` is not well
/// conditioned, or HC2 meets a leverage of 1.
fn one_categorical(d: &Design, c: &Centre, arrow: &Arrow) -> Result<Option<Fit>> {
    let (codes, levels) = (arrow.codes, arrow.levels);
    let (arms, k, dz) = (d.n_arms, arrow.k, d.d());
    let m = k + 1;
    let width = k + 2;
    let sums = arrow_sums(d, c, arrow)?;
    if sums.n.iter().any(|&n| (n as usize) <= dz) {
        return Ok(None);
    }
    let share = &arrow.share[..]; // pooled shares of levels 1..L
    let dense = |g: usize, a: usize, b: usize| sums.dense(g, a, b);
    // Per arm: S^-1, b_w, b_l, q_w, q_l.
    struct ArmSolve {
        s_inv: Vec<Vec<f64>>,
        b_w: Vec<f64>,
        b_l: Vec<f64>,
        q_w: Vec<f64>,
        q_l: Vec<f64>,
    }
    let mut solved = Vec::with_capacity(arms);
    for g in 0..arms {
        let lev = |l: usize| &sums.level[g][l * width..(l + 1) * width];
        if (1..levels).any(|l| lev(l)[0] == 0.0) {
            return Ok(None);
        }
        let mut s = vec![vec![0.0; m]; m];
        let mut t = vec![0.0; m];
        let mut t_c = vec![0.0; m];
        for a in 0..m {
            for b in 0..m {
                s[a][b] = dense(g, a, b);
            }
            t[a] = dense(g, a, m);
        }
        t_c[0] = 1.0;
        for l in 1..levels {
            let e = lev(l);
            let nl = e[0];
            for a in 0..m {
                for b in 0..m {
                    s[a][b] -= e[a] * e[b] / nl;
                }
                t[a] -= e[a] * e[m] / nl;
                t_c[a] -= e[a] * share[l - 1] / nl;
            }
        }
        // Within-level variation left in every column, relative to its raw sum of squares.
        if (0..m).any(|a| s[a][a].is_nan() || s[a][a] <= 1e-8 * dense(g, a, a)) {
            return Ok(None);
        }
        let Ok(s_inv) = spd_inverse(&s) else {
            return Ok(None);
        };
        let mul = |v: &[f64]| -> Vec<f64> {
            (0..m)
                .map(|a| (0..m).map(|b| s_inv[a][b] * v[b]).sum())
                .collect()
        };
        let (b_w, q_w) = (mul(&t), mul(&t_c));
        let dot = |e: &[f64], v: &[f64]| (0..m).map(|a| e[a] * v[a]).sum::<f64>();
        let b_l: Vec<f64> = (0..levels)
            .map(|l| {
                let e = lev(l);
                if l == 0 {
                    0.0
                } else {
                    (e[m] - dot(e, &b_w)) / e[0]
                }
            })
            .collect();
        let q_l: Vec<f64> = (0..levels)
            .map(|l| {
                let e = lev(l);
                if l == 0 {
                    0.0
                } else {
                    (share[l - 1] - dot(e, &q_w)) / e[0]
                }
            })
            .collect();
        solved.push(ArmSolve {
            s_inv,
            b_w,
            b_l,
            q_w,
            q_l,
        });
    }
    // Pass 3: sum over units of omega e^2 (q'v)^2 per arm.
    let cov_type = d.cov_type;
    let counts: Vec<Vec<f64>> = (0..arms)
        .map(|g| (0..levels).map(|l| sums.level[g][l * width]).collect())
        .collect();
    let means: Vec<Vec<f64>> = (0..arms)
        .map(|g| {
            (0..levels * m)
                .map(|j| {
                    let (l, a) = (j / m, j % m);
                    sums.level[g][l * width + a] / counts[g][l].max(1.0)
                })
                .collect()
        })
        .collect();
    let map = |r: std::ops::Range<usize>| -> (Vec<f64>, bool) {
        let mut acc = vec![0.0; arms];
        let mut leverage_one = false;
        let mut w = vec![0.0; m];
        let mut dev = vec![0.0; m];
        for i in r {
            let Row::Complete(g) = d.row(i) else {
                continue;
            };
            let a = &solved[g];
            w[0] = 1.0;
            arrow.fill(d, c, i, &mut w[1..]);
            let l = codes[i] as usize;
            let (bl, ql) = (a.b_l[l], a.q_l[l]);
            let fit: f64 = a.b_w.iter().zip(&w).map(|(b, x)| b * x).sum();
            let e = c.y(d, i) - fit - bl;
            let t = a.q_w.iter().zip(&w).map(|(b, x)| b * x).sum::<f64>() + ql;
            let omega = if cov_type == CovType::HC2 {
                let base = if l == 0 {
                    dev.copy_from_slice(&w);
                    0.0
                } else {
                    for j in 0..m {
                        dev[j] = w[j] - means[g][l * m + j];
                    }
                    1.0 / counts[g][l]
                };
                let quad: f64 = (0..m)
                    .map(|p| dev[p] * (0..m).map(|q| a.s_inv[p][q] * dev[q]).sum::<f64>())
                    .sum();
                let h = base + quad;
                if h > 1.0 - 1e-10 {
                    leverage_one = true;
                    0.0
                } else {
                    1.0 / (1.0 - h)
                }
            } else {
                1.0
            };
            acc[g] += omega * e * e * t * t;
        }
        (acc, leverage_one)
    };
    let merge = |mut a: (Vec<f64>, bool), b: (Vec<f64>, bool)| {
        for (x, y) in a.0.iter_mut().zip(&b.0) {
            *x += y;
        }
        (a.0, a.1 || b.1)
    };
    let (meat, leverage_one) =
        reduce_blocks(d.y.len(), map, merge)?.unwrap_or((vec![0.0; arms], false));
    if leverage_one {
        return Ok(None);
    }
    let p = d.n_params();
    let n_total: u64 = sums.n.iter().sum();
    let scale = if cov_type == CovType::HC1 {
        n_total as f64 / (n_total as f64 - p as f64)
    } else {
        1.0
    };
    let vcov = (0..arms)
        .map(|i| {
            (0..arms)
                .map(|j| if i == j { scale * meat[i] } else { 0.0 })
                .collect()
        })
        .collect();
    let adjusted = (0..arms)
        .map(|g| {
            let a = &solved[g];
            a.b_w[0] + (1..levels).map(|l| share[l - 1] * a.b_l[l]).sum::<f64>()
        })
        .collect();
    Ok(Some(sums.into_fit(adjusted, vcov, p)))
}

/// The additive model with one categorical covariate (levels `l = 1..L-1` as uncentred dummies
/// `D_l`) solved by its arrow structure, like [`one_categorical`] but with one pooled model: the
/// dense part is `w = (d_0, .., d_{G-1}, x - xbar)` (the arm indicators, which span the
/// intercept and the `G - 1` treatment dummies, then the centred numeric covariates), the sparse
/// part the level dummies, whose cross-products are the diagonal of level counts `n_l`; the cross
/// block holds the per-level sums `e_l = sum_l w` (per-arm counts and covariate sums of level
/// `l`). With `B = sum w w'` and `S = B - sum_l e_l e_l' / n_l` (`m = G + k` square), the
/// coefficients are `b_w = S^-1 (sum w y - sum_l e_l ybar_l)`, `b_l = ybar_l - m_l' b_w`
/// (`m_l = e_l / n_l`); the leverage of a unit of level `l` is `1/n_l + (w - m_l)' S^-1 (w - m_l)`
/// (level 0: `w' S^-1 w`). Centring the dummies (the dense fit's `z`) only moves the arm
/// coefficients, so the adjusted mean of arm `g` is `c_g'b`, `c_g = (1_g, 0, pooled shares)`, and
/// the sandwich of the adjusted means is `vcov[g][h] = sum_i omega_i e_i^2 (q_g'v_i) (q_h'v_i)`,
/// `q_g = (V'V)^-1 c_g` (by the same block solve), times `n / (n - p)` for HC1 with the dense
/// fit's `p = G + k + L - 1`. `O(rows (G + k)^2 + levels (G + k)^2 + (G + k)^3)` instead of
/// `O(levels^3)`. `None` (the caller then fits the dense model, which gives the error) when an
/// arm has fewer than 2 rows, there are no more rows than parameters, a level is empty, `S` is not
/// well conditioned, or HC2 meets a leverage of 1.
fn additive_one_categorical(d: &Design, c: &Centre, arrow: &Arrow) -> Result<Option<Fit>> {
    let (codes, levels) = (arrow.codes, arrow.levels);
    let (arms, k) = (d.n_arms, arrow.k);
    let width = k + 2; // per-arm u = (1, x - xbar, y - ybar)
    let m = arms + k; // w = (arm indicators, x - xbar)
    let sums = arrow_sums(d, c, arrow)?;
    let p = d.n_params();
    let n_total: u64 = sums.n.iter().sum();
    if sums.n.iter().any(|&n| n < 2) || n_total as usize <= p || levels == 0 {
        return Ok(None);
    }
    let share = &arrow.share[..]; // pooled shares of levels 1..L
    let dense = |g: usize, a: usize, b: usize| sums.dense(g, a, b);
    // Per level over all arms: e_l (length m), n_l and the sum of y - ybar.
    let mut e = vec![0.0; levels * m];
    let mut n_l = vec![0.0; levels];
    let mut y_l = vec![0.0; levels];
    for g in 0..arms {
        for l in 0..levels {
            let s = &sums.level[g][l * width..(l + 1) * width];
            e[l * m + g] = s[0];
            for a in 0..k {
                e[l * m + arms + a] += s[1 + a];
            }
            n_l[l] += s[0];
            y_l[l] += s[k + 1];
        }
    }
    if n_l.contains(&0.0) {
        return Ok(None);
    }
    // B = sum w w' and sum w y, from the per-arm sums.
    let mut b = vec![vec![0.0; m]; m];
    let mut t = vec![0.0; m];
    for g in 0..arms {
        b[g][g] = dense(g, 0, 0);
        t[g] = dense(g, 0, k + 1);
        for a in 0..k {
            b[g][arms + a] = dense(g, 0, 1 + a);
            b[arms + a][g] = dense(g, 0, 1 + a);
            t[arms + a] += dense(g, 1 + a, k + 1);
            for c in 0..k {
                b[arms + a][arms + c] += dense(g, 1 + a, 1 + c);
            }
        }
    }
    let mut s = b.clone();
    // Right-hand sides of the contrasts c_g reduced to the dense block: c_w - sum_l e_l c_l / n_l.
    let mut t_c: Vec<Vec<f64>> = (0..arms)
        .map(|g| (0..m).map(|a| if a == g { 1.0 } else { 0.0 }).collect())
        .collect();
    for l in 1..levels {
        let el = &e[l * m..(l + 1) * m];
        let nl = n_l[l];
        for a in 0..m {
            for c in 0..m {
                s[a][c] -= el[a] * el[c] / nl;
            }
            t[a] -= el[a] * y_l[l] / nl;
            for tc in t_c.iter_mut() {
                tc[a] -= el[a] * share[l - 1] / nl;
            }
        }
    }
    // Variation left in every dense column beside the level dummies, relative to its raw sum of
    // squares.
    if (0..m).any(|a| s[a][a].is_nan() || s[a][a] <= 1e-8 * b[a][a]) {
        return Ok(None);
    }
    let Ok(s_inv) = spd_inverse(&s) else {
        return Ok(None);
    };
    let mul = |v: &[f64]| -> Vec<f64> {
        (0..m)
            .map(|a| (0..m).map(|c| s_inv[a][c] * v[c]).sum())
            .collect()
    };
    let dot = |x: &[f64], v: &[f64]| x.iter().zip(v).map(|(a, b)| a * b).sum::<f64>();
    let b_w = mul(&t);
    let q_w: Vec<Vec<f64>> = t_c.iter().map(|tc| mul(tc)).collect();
    let b_l: Vec<f64> = (0..levels)
        .map(|l| {
            if l == 0 {
                0.0
            } else {
                (y_l[l] - dot(&e[l * m..(l + 1) * m], &b_w)) / n_l[l]
            }
        })
        .collect();
    let q_l: Vec<Vec<f64>> = q_w
        .iter()
        .map(|q| {
            (0..levels)
                .map(|l| {
                    if l == 0 {
                        0.0
                    } else {
                        (share[l - 1] - dot(&e[l * m..(l + 1) * m], q)) / n_l[l]
                    }
                })
                .collect()
        })
        .collect();
    // Level means m_l of w (level 0: zero, its leverage has no 1/n_l term).
    let level_means: Vec<f64> = (0..levels * m)
        .map(|j| {
            let l = j / m;
            if l == 0 {
                0.0
            } else {
                e[j] / n_l[l]
            }
        })
        .collect();
    // Pass 3: sum over units of omega e^2 (q_g'v) (q_h'v), upper triangle of arms x arms.
    let cov_type = d.cov_type;
    let map = |r: std::ops::Range<usize>| -> (Vec<f64>, bool) {
        let mut acc = vec![0.0; arms * arms];
        let mut leverage_one = false;
        let mut x = vec![0.0; k];
        let mut dev = vec![0.0; m];
        let mut tq = vec![0.0; arms];
        for i in r {
            let Row::Complete(g) = d.row(i) else {
                continue;
            };
            arrow.fill(d, c, i, &mut x);
            let l = codes[i] as usize;
            let res = c.y(d, i) - b_w[g] - dot(&b_w[arms..], &x) - b_l[l];
            for (h, t) in tq.iter_mut().enumerate() {
                let q = &q_w[h];
                *t = q[g] + dot(&q[arms..], &x) + q_l[h][l];
            }
            let omega = if cov_type == CovType::HC2 {
                let ml = &level_means[l * m..(l + 1) * m];
                for a in 0..arms {
                    dev[a] = if a == g { 1.0 } else { 0.0 } - ml[a];
                }
                for a in 0..k {
                    dev[arms + a] = x[a] - ml[arms + a];
                }
                let base = if l == 0 { 0.0 } else { 1.0 / n_l[l] };
                let quad: f64 = (0..m).map(|a| dev[a] * dot(&s_inv[a], &dev)).sum();
                let h = base + quad;
                if h > 1.0 - 1e-10 {
                    leverage_one = true;
                    0.0
                } else {
                    1.0 / (1.0 - h)
                }
            } else {
                1.0
            };
            let we = omega * res * res;
            for a in 0..arms {
                let wa = we * tq[a];
                for c in a..arms {
                    acc[a * arms + c] += wa * tq[c];
                }
            }
        }
        (acc, leverage_one)
    };
    let merge = |mut a: (Vec<f64>, bool), b: (Vec<f64>, bool)| {
        for (x, y) in a.0.iter_mut().zip(&b.0) {
            *x += y;
        }
        (a.0, a.1 || b.1)
    };
    let (meat, leverage_one) =
        reduce_blocks(d.y.len(), map, merge)?.unwrap_or((vec![0.0; arms * arms], false));
    if leverage_one {
        return Ok(None);
    }
    let scale = if cov_type == CovType::HC1 {
        n_total as f64 / (n_total as f64 - p as f64)
    } else {
        1.0
    };
    let vcov = (0..arms)
        .map(|i| {
            (0..arms)
                .map(|j| scale * meat[i.min(j) * arms + i.max(j)])
                .collect()
        })
        .collect();
    let adjusted = (0..arms)
        .map(|g| b_w[g] + (1..levels).map(|l| share[l - 1] * b_l[l]).sum::<f64>())
        .collect();
    Ok(Some(sums.into_fit(adjusted, vcov, p)))
}

/// Pre-aggregated sums of one arm for regression adjustment from SQL: count, sums of the outcome
/// and its square, sums of each covariate, of outcome times covariate, and of covariate products.
#[derive(Clone, Debug, PartialEq)]
pub struct ArmSums {
    /// Units.
    pub n: u64,
    /// Sum of y.
    pub sum_y: f64,
    /// Sum of y^2.
    pub sum_y_sq: f64,
    /// Sums of each covariate.
    pub sum_x: Vec<f64>,
    /// Sums of y times each covariate.
    pub sum_xy: Vec<f64>,
    /// Sums of products of covariates (k x k).
    pub sum_xx: Vec<Vec<f64>>,
}

/// Lin's interacted adjustment from per-arm sums, with the classical per-arm variance:
/// `a_g = ybar_g + b_g' (xbar - xbar_g)` with `b_g = S_xx,g^-1 S_xy,g` and pooled `xbar`, and
/// `Var(a_g) = s_g^2 (1/n_g + d' S_xx,g^-1 d)`, `d = xbar - xbar_g`, `s_g^2 = RSS_g / (n_g - k - 1)`,
/// which is what OLS of `y` on `x - xbar` fitted in each arm reports for its intercept. Without the
/// rows there are no residuals, so no heteroskedasticity-robust (HC) variance; in large samples the
/// two agree, since `d` vanishes under randomisation.
pub fn fit_from_sums(
    arms: &[RegressionSums],
    names: &[String],
    arm_labels: &[String],
) -> Result<Fit> {
    let k = names.len();
    let label = |g: usize| arm_labels.get(g).cloned().unwrap_or_else(|| g.to_string());
    if arms.len() < 2 {
        return Err(NeymanError::invalid("arms", "at least two arms are needed"));
    }
    let mut centred = Vec::with_capacity(arms.len());
    let total: f64 = arms.iter().map(|a| a.n as f64).sum();
    let mut pooled = vec![0.0; k];
    for (g, a) in arms.iter().enumerate() {
        let arg = format!("arm '{}'", label(g));
        if a.sum_x.len() != k
            || a.sum_xy.len() != k
            || a.sum_xx.len() != k
            || a.sum_xx.iter().any(|r| r.len() != k)
        {
            return Err(NeymanError::invalid(
                arg,
                format!("sums must describe {k} covariates"),
            ));
        }
        let finite = a.sum_y.is_finite()
            && a.sum_y_sq.is_finite()
            && a.sum_x
                .iter()
                .chain(&a.sum_xy)
                .chain(a.sum_xx.iter().flatten())
                .all(|v| v.is_finite());
        if !finite {
            return Err(NeymanError::invalid(arg, "sums must be finite"));
        }
        if (a.n as usize) < k + 2 {
            return Err(NeymanError::TooFewObservations {
                arg: format!("{arg} (with {k} covariates)"),
                n: a.n,
                needed: k as u64 + 2,
            });
        }
        let n = a.n as f64;
        let my = a.sum_y / n;
        let mx: Vec<f64> = a.sum_x.iter().map(|s| s / n).collect();
        let syy = a.sum_y_sq - n * my * my;
        if syy < -1e-9 * a.sum_y_sq {
            return Err(NeymanError::invalid(
                arg,
                "sum of y^2 is less than sum^2 / n; no data have these sums",
            ));
        }
        let sxy: Vec<f64> = (0..k).map(|i| a.sum_xy[i] - n * mx[i] * my).collect();
        let sxx: Vec<Vec<f64>> = (0..k)
            .map(|i| (0..k).map(|j| a.sum_xx[i][j] - n * mx[i] * mx[j]).collect())
            .collect();
        for (i, m) in mx.iter().enumerate() {
            pooled[i] += n * m / total;
        }
        centred.push((n, my, mx, syy.max(0.0), sxy, sxx));
    }
    let mut adjusted = Vec::new();
    let mut var_adj = Vec::new();
    let (mut mean, mut var) = (Vec::new(), Vec::new());
    for (g, (n, my, mx, syy, sxy, sxx)) in centred.iter().enumerate() {
        let inv = spd_inverse(sxx).map_err(|j| NeymanError::ZeroVariance {
            arg: names.get(j).cloned().unwrap_or_default(),
            msg: format!(
                "covariate {} is constant or collinear with the other covariates in arm '{}', so \
                 the adjustment is not identified",
                names.get(j).cloned().unwrap_or_default(),
                label(g)
            ),
        })?;
        let beta: Vec<f64> = (0..k)
            .map(|i| (0..k).map(|j| inv[i][j] * sxy[j]).sum())
            .collect();
        let d: Vec<f64> = (0..k).map(|i| pooled[i] - mx[i]).collect();
        let rss = (syy - beta.iter().zip(sxy).map(|(b, s)| b * s).sum::<f64>()).max(0.0);
        let s2 = rss / (n - k as f64 - 1.0);
        let quad: f64 = (0..k)
            .map(|i| d[i] * (0..k).map(|j| inv[i][j] * d[j]).sum::<f64>())
            .sum();
        adjusted.push(my + beta.iter().zip(&d).map(|(b, x)| b * x).sum::<f64>());
        var_adj.push(s2 * (1.0 / n + quad));
        mean.push(*my);
        var.push(syy / (n - 1.0));
    }
    let g = arms.len();
    let vcov = (0..g)
        .map(|i| {
            (0..g)
                .map(|j| if i == j { var_adj[i] } else { 0.0 })
                .collect()
        })
        .collect();
    Ok(Fit {
        n: arms.iter().map(|a| a.n).collect(),
        n_incomplete: vec![0; g],
        n_inf: vec![0; g],
        adjusted,
        vcov,
        mean,
        var,
        p: g * (k + 1),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_binary_covariate_is_post_stratification() {
        // Strata s in {0, 1}; the interacted estimate equals sum_s w_s (ybar_ts - ybar_cs) with
        // pooled stratum shares w_s.
        let y = [1.0, 2.0, 3.0, 5.0, 2.0, 4.0, 6.0, 9.0, 1.0, 7.0];
        let s = [0, 0, 1, 1, 0, 0, 1, 1, 0, 1];
        let arm = [0, 0, 0, 0, 1, 1, 1, 1, 0, 1];
        let d = Design {
            y: &y,
            numeric: vec![],
            categorical: vec![("s", &s, 2)],
            level_names: vec![],
            arms: &arm,
            n_arms: 2,
            interacted: true,
            cov_type: CovType::HC2,
        };
        let f = regression_adjust(&d, &[]).unwrap();
        let cell = |g: i32, st: i32| {
            let v: Vec<f64> = (0..10)
                .filter(|&i| arm[i] == g && s[i] == st)
                .map(|i| y[i])
                .collect();
            v.iter().sum::<f64>() / v.len() as f64
        };
        let w1 = 5.0 / 10.0;
        let expect = (1.0 - w1) * (cell(1, 0) - cell(0, 0)) + w1 * (cell(1, 1) - cell(0, 1));
        assert!((f.adjusted[1] - f.adjusted[0] - expect).abs() < 1e-12);
        assert_eq!(f.n, vec![5, 5]);
    }

    #[test]
    fn collinear_covariates_are_named() {
        let y = [1.0, 2.0, 3.0, 5.0, 2.0, 4.0, 6.0, 9.0];
        let x = [1.0, 2.0, 3.0, 4.0, 1.5, 2.5, 3.5, 4.5];
        let x2: Vec<f64> = x.iter().map(|v| 2.0 * v + 1.0).collect();
        let arm = [0, 0, 0, 0, 1, 1, 1, 1];
        let d = Design {
            y: &y,
            numeric: vec![("x", &x), ("x2", &x2)],
            categorical: vec![],
            level_names: vec![],
            arms: &arm,
            n_arms: 2,
            interacted: false,
            cov_type: CovType::HC1,
        };
        let e = regression_adjust(&d, &[]).unwrap_err();
        assert_eq!(e.arg(), "x2");
    }

    #[test]
    fn sums_match_rows_for_one_covariate() {
        // One covariate: the per-arm OLS intercept at the pooled mean, by hand.
        let y = [[1.0, 2.0, 3.0, 5.0, 4.0], [2.0, 4.0, 6.0, 9.0, 5.0]];
        let x = [[1.0, 2.0, 3.0, 4.0, 2.0], [1.5, 2.5, 3.5, 4.5, 2.0]];
        let arms: Vec<RegressionSums> = (0..2)
            .map(|g| RegressionSums {
                n: 5,
                sum_y: y[g].iter().sum(),
                sum_y_sq: y[g].iter().map(|v| v * v).sum(),
                sum_x: vec![x[g].iter().sum()],
                sum_xy: vec![y[g].iter().zip(&x[g]).map(|(a, b)| a * b).sum()],
                sum_xx: vec![vec![x[g].iter().map(|v| v * v).sum()]],
            })
            .collect();
        let f = fit_from_sums(&arms, &["x".to_string()], &[]).unwrap();
        let xbar = (x[0].iter().sum::<f64>() + x[1].iter().sum::<f64>()) / 10.0;
        for g in 0..2 {
            let (my, mx) = (
                y[g].iter().sum::<f64>() / 5.0,
                x[g].iter().sum::<f64>() / 5.0,
            );
            let sxy: f64 = y[g]
                .iter()
                .zip(&x[g])
                .map(|(a, b)| (a - my) * (b - mx))
                .sum();
            let sxx: f64 = x[g].iter().map(|b| (b - mx) * (b - mx)).sum();
            let b = sxy / sxx;
            assert!((f.adjusted[g] - (my + b * (xbar - mx))).abs() < 1e-12);
        }
    }

    #[test]
    fn one_categorical_by_its_structure_equals_the_dense_fit() {
        // Two numeric covariates and a 9-level categorical in Lin's model (the arrow solve),
        // against the same model by the dense normal equations, and with an extra one-level
        // categorical (no columns) through the arrow again.
        let n = 3000;
        let mut state = 12345u64;
        let mut u = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let (mut y, mut x1, mut x2, mut c, mut arm) = (vec![], vec![], vec![], vec![], vec![]);
        for _ in 0..n {
            let g = (u() * 3.0) as i32;
            let l = (u().powf(1.3) * 9.0) as i32;
            let (a, b) = (u() * 4.0 + l as f64 * 0.3, u() - 0.5);
            x1.push(a);
            x2.push(b);
            c.push(l);
            arm.push(g);
            let noise = (u() - 0.5) * (1.0 + a * 0.3);
            y.push(2.0 + 0.5 * l as f64 + (1.0 + 0.2 * g as f64) * a - b + 0.3 * g as f64 + noise);
        }
        let one = vec![0i32; n];
        for cov_type in [CovType::HC0, CovType::HC1, CovType::HC2] {
            let design = |extra: bool| Design {
                y: &y,
                numeric: vec![("x1", &x1), ("x2", &x2)],
                categorical: if extra {
                    vec![("c", &c, 9), ("one", &one, 1)]
                } else {
                    vec![("c", &c, 9)]
                },
                level_names: vec![],
                arms: &arm,
                n_arms: 3,
                interacted: true,
                cov_type,
            };
            let arrow = regression_adjust(&design(false), &[]).unwrap();
            assert_eq!(regression_adjust(&design(true), &[]).unwrap(), arrow);
            let dense = fit_model(&design(false), &[], false).unwrap();
            assert_eq!(arrow.n, dense.n);
            assert_eq!(arrow.p, dense.p);
            for g in 0..3 {
                let rel = |a: f64, b: f64| (a - b).abs() / b.abs();
                assert!(rel(arrow.adjusted[g], dense.adjusted[g]) < 1e-12);
                assert!(
                    rel(arrow.vcov[g][g], dense.vcov[g][g]) < 1e-10,
                    "{cov_type:?}"
                );
                assert!(rel(arrow.var[g], dense.var[g]) < 1e-12);
            }
        }
    }

    /// `(y, x1, x2, level codes, arm codes)`.
    type Columns = (Vec<f64>, Vec<f64>, Vec<f64>, Vec<i32>, Vec<i32>);

    /// `(name, level codes, x1, arm codes, levels)`.
    type Case = (&'static str, Vec<i32>, Vec<f64>, Vec<i32>, usize);

    /// Random design for the additive tests: `arms` arms, `levels` skewed levels, two numeric
    /// covariates, a few incomplete, infinite and out-of-arm rows.
    fn additive_data(n: usize, arms: usize, levels: usize, seed: u64) -> Columns {
        let mut state = seed;
        let mut u = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let (mut y, mut x1, mut x2, mut c, mut arm) = (vec![], vec![], vec![], vec![], vec![]);
        for i in 0..n {
            let g = (u() * arms as f64) as i32;
            let l = (u().powf(1.5) * levels as f64) as i32;
            let (a, b) = (u() * 4.0 + l as f64 * 0.3, u() - 0.5);
            let noise = (u() - 0.5) * (1.0 + a * 0.3 + g as f64);
            let mut yi = 2.0 + 0.5 * (l % 4) as f64 + (1.0 + 0.2 * g as f64) * a - b
                + 0.3 * g as f64
                + noise;
            let (mut a, mut l, mut g) = (a, l, g);
            match i % 97 {
                5 => a = f64::NAN,
                11 => l = -1,
                23 => yi = f64::INFINITY,
                31 => g = -1,
                _ => {}
            }
            y.push(yi);
            x1.push(a);
            x2.push(b);
            c.push(l);
            arm.push(g);
        }
        (y, x1, x2, c, arm)
    }

    fn assert_same_fit(a: &Fit, b: &Fit, what: &str) {
        let rel = |x: f64, y: f64| (x - y).abs() / y.abs().max(1e-300);
        assert_eq!(a.n, b.n, "{what}");
        assert_eq!(a.n_incomplete, b.n_incomplete, "{what}");
        assert_eq!(a.n_inf, b.n_inf, "{what}");
        assert_eq!(a.p, b.p, "{what}");
        let arms = b.n.len();
        for g in 0..arms {
            assert!(
                rel(a.adjusted[g], b.adjusted[g]) < 1e-12,
                "{what} adjusted {g}"
            );
            assert!(rel(a.mean[g], b.mean[g]) < 1e-12, "{what} mean {g}");
            assert!(rel(a.var[g], b.var[g]) < 1e-12, "{what} var {g}");
            for h in 0..arms {
                // Off-diagonal terms are differences of nearly equal sums; scale by the diagonal.
                let scale = (b.vcov[g][g] * b.vcov[h][h]).sqrt();
                let diff = (a.vcov[g][h] - b.vcov[g][h]).abs() / scale;
                assert!(diff < 1e-12, "{what} vcov {g} {h}: {diff:e}");
            }
        }
    }

    #[test]
    fn additive_one_categorical_by_its_structure_equals_the_dense_fit() {
        for (arms, levels, seed) in [(2, 5, 7u64), (3, 12, 99), (4, 30, 2024)] {
            let (y, x1, x2, c, arm) = additive_data(4000, arms, levels, seed);
            for k in 0..=2 {
                let numeric: Vec<(&str, &[f64])> = [("x1", &x1[..]), ("x2", &x2[..])][..k].to_vec();
                for cov_type in [CovType::HC0, CovType::HC1, CovType::HC2] {
                    let d = Design {
                        y: &y,
                        numeric: numeric.clone(),
                        categorical: vec![("c", &c, levels)],
                        level_names: vec![],
                        arms: &arm,
                        n_arms: arms,
                        interacted: false,
                        cov_type,
                    };
                    let sums_solved = {
                        let c = pooled_means(&d).unwrap();
                        let arrow = Arrow::of(&d, &c).unwrap();
                        additive_one_categorical(&d, &c, &arrow)
                            .unwrap()
                            .map(|f| c.unscale(f))
                    };
                    let fast = sums_solved.expect("the structured fit applies");
                    let dense = fit_model(&d, &[], false).unwrap();
                    assert_eq!(regression_adjust(&d, &[]).unwrap(), fast);
                    let what = format!("{arms} arms, {levels} levels, k={k}, {cov_type:?}");
                    assert_same_fit(&fast, &dense, &what);
                }
            }
        }
    }

    #[test]
    fn several_categorical_covariates_by_structure_equal_the_dense_fit() {
        // A 30-level covariate through the arrow, a 4-level and a 3-level one (derived from the
        // level code and the row) as dense dummies, with and without numeric covariates, in both
        // models: the structured solve against the dense normal equations.
        for (arms, seed) in [(2, 3u64), (3, 77)] {
            let (y, x1, x2, c, arm) = additive_data(5000, arms, 30, seed);
            let c2: Vec<i32> = (0..c.len()).map(|i| ((i * 7) % 4) as i32).collect();
            let c3: Vec<i32> = c
                .iter()
                .enumerate()
                .map(|(i, &l)| if l < 0 { 0 } else { (l + i as i32) % 3 })
                .collect();
            for k in [0, 2] {
                let numeric: Vec<(&str, &[f64])> = [("x1", &x1[..]), ("x2", &x2[..])][..k].to_vec();
                for interacted in [true, false] {
                    for cov_type in [CovType::HC0, CovType::HC1, CovType::HC2] {
                        let d = Design {
                            y: &y,
                            numeric: numeric.clone(),
                            categorical: vec![("c2", &c2, 4), ("c", &c, 30), ("c3", &c3, 3)],
                            level_names: vec![],
                            arms: &arm,
                            n_arms: arms,
                            interacted,
                            cov_type,
                        };
                        let c = pooled_means(&d).unwrap();
                        let arrow = Arrow::of(&d, &c).expect("the arrow applies");
                        assert_eq!((arrow.levels, arrow.k), (30, k + 3 + 2));
                        let solved = if interacted {
                            one_categorical(&d, &c, &arrow)
                        } else {
                            additive_one_categorical(&d, &c, &arrow)
                        };
                        let fast = c.unscale(solved.unwrap().expect("the structured fit applies"));
                        let dense = fit_model(&d, &[], false).unwrap();
                        assert_eq!(regression_adjust(&d, &[]).unwrap(), fast);
                        let what = format!("{arms} arms, k={k}, {interacted}, {cov_type:?}");
                        assert_same_fit(&fast, &dense, &what);
                    }
                }
            }
        }
    }

    #[test]
    fn scaled_data_give_the_scaled_fit() {
        // Multiplying y by s multiplies the adjusted means and their standard errors by s, and
        // scaling a covariate changes nothing: by powers of two exactly, by other factors to
        // rounding, from 1e-140 to 1e140 (the sandwich holds fourth powers of the data); an
        // outcome whose squares leave float64 is refused by name.
        let (y, x1, x2, c, arm) = additive_data(3000, 3, 8, 11);
        for cats in [0, 1] {
            for interacted in [true, false] {
                let fit = |sy: f64, sx: f64| {
                    let ys: Vec<f64> = y.iter().map(|v| v * sy).collect();
                    let xs: Vec<f64> = x1.iter().map(|v| v * sx).collect();
                    let d = Design {
                        y: &ys,
                        numeric: vec![("x1", &xs), ("x2", &x2)],
                        categorical: if cats == 1 {
                            vec![("c", &c, 8)]
                        } else {
                            vec![]
                        },
                        level_names: vec![],
                        arms: &arm,
                        n_arms: 3,
                        interacted,
                        cov_type: CovType::HC2,
                    };
                    regression_adjust(&d, &[])
                };
                for s in [1e160, 1e-160] {
                    let e = fit(s, 1.0).unwrap_err();
                    assert_eq!(e.arg(), "y");
                    assert!(e.to_string().contains("rescale the data"), "{e}");
                }
                let fit = |sy: f64, sx: f64| fit(sy, sx).unwrap();
                let base = fit(1.0, 1.0);
                for (sy, sx, tol) in [
                    (2f64.powi(260), 2f64.powi(-300), 0.0f64),
                    (1e140, 1e250, 1e-12),
                    (1e80, 1.0, 1e-12),
                    (1e-140, 1e-250, 1e-12),
                    (1e-80, 1e80, 1e-12),
                ] {
                    let f = fit(sy, sx);
                    for g in 0..3 {
                        let rel = |a: f64, b: f64| ((a - b) / b).abs();
                        let what = format!("{cats} {interacted} {sy:e} {sx:e} arm {g}");
                        assert!(
                            rel(f.adjusted[g] / sy, base.adjusted[g]) <= tol.max(1e-15),
                            "{what}"
                        );
                        assert!(
                            rel(f.vcov[g][g] / sy / sy, base.vcov[g][g]) <= tol.max(1e-13),
                            "{what}"
                        );
                        assert!(
                            rel(f.var[g] / sy / sy, base.var[g]) <= tol.max(1e-15),
                            "{what}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn additive_one_categorical_fails_like_the_dense_fit() {
        let (y, x1, _, c, arm) = additive_data(600, 3, 6, 5);
        let mut cases: Vec<Case> = vec![];
        // A level with one unit (HC2 leverage 1).
        let mut single = c.clone();
        single[0] = 6;
        cases.push(("singleton level", single, x1.clone(), arm.clone(), 7));
        // A level with no unit; level 0 empty.
        cases.push(("empty level", c.clone(), x1.clone(), arm.clone(), 7));
        let shifted: Vec<i32> = c.iter().map(|&l| if l >= 0 { l + 1 } else { l }).collect();
        cases.push(("level 0 empty", shifted, x1.clone(), arm.clone(), 7));
        // A covariate constant within levels; an arm that is a level.
        let within: Vec<f64> = c.iter().map(|&l| l as f64 * 0.5).collect();
        cases.push(("covariate of the level", c.clone(), within, arm.clone(), 6));
        let by_arm: Vec<i32> = arm
            .iter()
            .map(|&g| if g == 2 { 5 } else { g % 2 })
            .collect();
        cases.push(("arm is a level", by_arm, x1.clone(), arm.clone(), 6));
        // A one-row arm.
        let mut lonely = arm.clone();
        for g in lonely.iter_mut() {
            if *g == 2 {
                *g = 1;
            }
        }
        lonely[1] = 2;
        cases.push(("one-row arm", c.clone(), x1.clone(), lonely, 6));
        for (what, codes, x, arms, levels) in &cases {
            for cov_type in [CovType::HC0, CovType::HC1, CovType::HC2] {
                let d = Design {
                    y: &y,
                    numeric: vec![("x1", x)],
                    categorical: vec![("c", codes, *levels)],
                    level_names: vec![],
                    arms,
                    n_arms: 3,
                    interacted: false,
                    cov_type,
                };
                match (regression_adjust(&d, &[]), fit_model(&d, &[], false)) {
                    (Ok(a), Ok(b)) => assert_same_fit(&a, &b, what),
                    (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "{what}"),
                    (a, b) => panic!("{what} {cov_type:?}: {a:?} vs {b:?}"),
                }
            }
        }
    }

    #[test]
    fn inverse_of_spd() {
        let m = vec![vec![4.0, 2.0], vec![2.0, 3.0]];
        let inv = spd_inverse(&m).unwrap();
        // det 8: inverse [[3, -2], [-2, 4]] / 8.
        assert!((inv[0][0] - 0.375).abs() < 1e-15 && (inv[0][1] + 0.25).abs() < 1e-15);
        assert!((inv[1][1] - 0.5).abs() < 1e-15);
    }
}
