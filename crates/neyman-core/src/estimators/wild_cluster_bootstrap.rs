//! The restricted wild cluster bootstrap (WCR) of a linear hypothesis `c'beta = r` in OLS with
//! one-way clustering, by the "fast and wild" algorithm of Roodman, MacKinnon, Nielsen and Webb
//! (2019, *Stata Journal* 19(1), section 3): from per-cluster statistics only, so each replicate
//! costs `O(G p)` for `G` clusters and `p` regressors, never `O(rows)`.
//!
//! **Input** ([`ClusterBlocks`]): for each cluster `g`, the `p x p` block `G_g = X_g'X_g`, the
//! `p`-vector `X_g'y_g` and the row count `n_g`.
//!
//! **Formulas.** With `M = (X'X)^-1`, `b = M X'y` and the CR1 factor
//! `k = (N - 1) / (N - p) * G / (G - 1)` (Stata's, and wildboottest's `ssc`):
//!
//! - the CR1 t statistic: `t = (c'b - r) / se`, `se^2 = k sum_g (c'M (X_g'y_g - G_g b))^2`;
//! - the estimate under the null: `beta~ = b - M c (c'M c)^-1 (c'b - r)`, and the restricted
//!   scores `s_g = X_g'y_g - G_g beta~`;
//! - a replicate with cluster weights `v`: `b* - beta~ = M sum_g v_g s_g`; its bootstrap scores are
//!   `u*_h = v_h s_h - G_h M sum_g v_g s_g`. With the scalars `a_h = c'M s_h` and the vectors
//!   `beta_h = M G_h M c`, the numerator is `sum_g v_g a_g` and the CR1 variance is
//!   `k sum_h (v_h a_h - beta_h' sum_g v_g s_g)^2`, so `t* = numerator / se*`.
//!
//! **Confidence interval by test inversion** (Roodman et al. 2019, section 3.5). Moving the null
//! to `r + d` moves `beta~` by `d w` with `w = M c / (c'M c)`, and every restricted score by
//! `-d G_g w`: the numerator and each `z_h` are affine in `d`, so a replicate keeps five numbers
//! (`N0, N1` and the quadratic `q00, q01, q11` of its variance) and `t*(d)` for any `d` costs
//! `O(1)` with the same weights. The interval is the set of nulls whose bootstrap p-value is at
//! least `1 - confidence_level`: each end is bracketed outward from the CR1 interval (Student t,
//! `G - 1` df) and found by bisection to about 12 digits.
//!
//! **p-values** follow wildboottest (and boottest): two-sided symmetric `P(|t*| >= |t|)`,
//! `'greater'` `P(t* >= t)`, `'less'` `P(t* <= t)`, over the replicates. A replicate whose weights
//! are all equal (`v = +-1`, or any constant) has `t* = +-t` exactly, for every null; in floating
//! point it would count or not by rounding (wildboottest's strict `<` does the latter), so such
//! replicates are marked when drawn and counted as `t* = +-t` exactly, whatever the null. So with
//! full enumeration the p-value is at least `2 / 2^G`, and when that exceeds `1 - confidence_level`
//! the interval is the whole line.
//!
//! **Weights.** Rademacher (`+-1`) or Webb's six points. With Rademacher weights and
//! `2^G <= n_resamples` all `2^G` sign vectors are enumerated (deterministic): replicate `i` gives
//! cluster `g` the sign `+1` where bit `G - 1 - g` of `i` is set, the order of
//! `itertools.product([-1, 1], repeat=G)`. Otherwise replicates run in blocks of
//! [`REPLICATE_BLOCK`], block `j` drawing from `rng::block_rng(seed, j)`, one fresh set of draws
//! per replicate (`ceil(G / 64)` words for Rademacher signs, `G` for Webb weights), in parallel
//! through `parallel::reduce_indexed`: the same seed gives the same numbers on any thread count,
//! and Ctrl-C stops a long run between batches of blocks.

use crate::error::{NeymanError, Result};
use crate::inference::{check_confidence_level, Alternative, Reference};
use crate::linalg::spd_inverse;
use crate::parallel::{pool, reduce_indexed};
use crate::rng::{block_rng, rademacher_fill, webb_fill};

/// Replicates per block: each block has its own random stream, so this is part of the mapping
/// from a seed to the numbers.
pub const REPLICATE_BLOCK: usize = 4096;

/// Per-cluster statistics of a regression: `xtx` holds `G` row-major `p x p` blocks `X_g'X_g`,
/// `xty` the `G` vectors `X_g'y_g`, `n` the rows of each cluster.
#[derive(Clone, Copy, Debug)]
pub struct ClusterBlocks<'a> {
    /// Regressors (columns of `X`).
    pub p: usize,
    /// `G * p * p` values.
    pub xtx: &'a [f64],
    /// `G * p` values.
    pub xty: &'a [f64],
    /// `G` row counts.
    pub n: &'a [u64],
}

/// The distribution of the cluster weights.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Weights {
    /// `+-1` with probability 1/2 each.
    Rademacher,
    /// Webb's six points `+-sqrt(1/2), +-1, +-sqrt(3/2)`, 1/6 each.
    Webb,
}

impl Weights {
    /// Parse `'rademacher'` or `'webb'`.
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "rademacher" => Ok(Weights::Rademacher),
            "webb" => Ok(Weights::Webb),
            _ => Err(NeymanError::invalid(
                "weights",
                format!("{s:?} is not one of 'rademacher', 'webb'"),
            )),
        }
    }
}

/// What to test and how.
#[derive(Clone, Debug)]
pub struct WildOptions {
    /// The contrast `c` (one weight per column of `X`).
    pub contrast: Vec<f64>,
    /// The null value `r` of `c'beta`.
    pub null: f64,
    /// Distribution of the cluster weights.
    pub weights: Weights,
    /// Replicates asked for (fewer when all `2^G` sign vectors are enumerated).
    pub n_resamples: u64,
    /// Seed of the random streams.
    pub seed: u64,
    /// Alternative hypothesis.
    pub alternative: Alternative,
    /// Level of the interval.
    pub confidence_level: f64,
}

/// The test and interval.
#[derive(Clone, Debug, PartialEq)]
pub struct WildBootstrap {
    /// `c'b`.
    pub estimate: f64,
    /// Its CR1 standard error.
    pub se: f64,
    /// The CR1 t statistic `(c'b - r) / se`.
    pub statistic: f64,
    /// The bootstrap p-value.
    pub pvalue: f64,
    /// The interval by test inversion (infinite on the side a one-sided alternative leaves open,
    /// or where no null is rejected).
    pub ci_low: f64,
    /// Upper end.
    pub ci_high: f64,
    /// Replicates used.
    pub n_resamples: u64,
    /// Whether all `2^G` sign vectors were enumerated.
    pub full_enumeration: bool,
    /// Clusters `G`.
    pub n_clusters: usize,
    /// Rows `N`.
    pub n: u64,
    /// `t*` of each replicate at the null, in replicate order.
    pub bootstrap_statistics: Vec<f64>,
}

/// What a replicate keeps: `t*(d) = (n0 - d n1) / sqrt(k (q00 - 2 d q01 + d^2 q11))`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Replicate {
    n0: f64,
    n1: f64,
    q00: f64,
    q01: f64,
    q11: f64,
    /// `+1` or `-1` for weights that are all equal, of that sign (`t* = +-t` exactly), else 0.
    tie: f64,
}

/// Everything a replicate needs, computed once from the blocks (`O(G p^2)`). The per-cluster
/// vectors are stored by regressor (`p` rows of `G`), so that every loop of a replicate runs over
/// the clusters, contiguous.
struct Prepared {
    g: usize,
    p: usize,
    /// `a_g = c'M s_g`.
    a: Vec<f64>,
    /// `f_g = c'M G_g w`: how `a_g` moves with the null.
    f: Vec<f64>,
    /// `s_g` (restricted scores), `p x G`.
    s: Vec<f64>,
    /// `e_g = G_g w`, `p x G`.
    e: Vec<f64>,
    /// `beta_g = M G_g M c`, `p x G`.
    beta: Vec<f64>,
}

/// A dot product with four independent accumulators (a fixed grouping, so the same bits on any
/// machine, and one the compiler can vectorize).
fn dot(a: &[f64], b: &[f64]) -> f64 {
    let mut acc = [0.0f64; 4];
    let (ca, cb) = (a.chunks_exact(4), b.chunks_exact(4));
    let rest: f64 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for l in 0..4 {
            acc[l] += x[l] * y[l];
        }
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + rest
}

/// `out = A x` for a row-major `p x p` block `A`.
fn mat_vec(a: &[f64], x: &[f64], out: &mut [f64]) {
    let p = x.len();
    for (i, o) in out.iter_mut().enumerate() {
        *o = a[i * p..(i + 1) * p]
            .iter()
            .zip(x)
            .map(|(u, v)| u * v)
            .sum();
    }
}

/// Replicates computed together: their weights side by side, so that every inner loop runs over
/// independent replicates (vectorized by the compiler, with each replicate's sums in a fixed order
/// whatever the machine or thread).
const BATCH: usize = 16;

/// The sums of one batch, and its weights (`v[h][r]`: cluster `h`, replicate `r`).
struct Batch {
    v: Vec<[f64; BATCH]>,
    sv: Vec<[f64; BATCH]>,
    ev: Vec<[f64; BATCH]>,
    /// Weights of one replicate, as the draws fill them.
    one: Vec<f64>,
}

impl Prepared {
    fn batch(&self) -> Batch {
        Batch {
            v: vec![[0.0; BATCH]; self.g],
            sv: vec![[0.0; BATCH]; self.p],
            ev: vec![[0.0; BATCH]; self.p],
            one: vec![0.0; self.g],
        }
    }

    /// The five numbers of the first `count` replicates of the batch's weights.
    fn replicates(
        &self,
        b: &mut Batch,
        count: usize,
        ties: &[f64; BATCH],
        out: &mut Vec<Replicate>,
    ) {
        let (g, p) = (self.g, self.p);
        let mut n0 = [0.0; BATCH];
        let mut n1 = [0.0; BATCH];
        for sv in b.sv.iter_mut().chain(b.ev.iter_mut()) {
            *sv = [0.0; BATCH];
        }
        for h in 0..g {
            let vh = &b.v[h];
            let (ah, fh) = (self.a[h], self.f[h]);
            for r in 0..BATCH {
                n0[r] += ah * vh[r];
                n1[r] += fh * vh[r];
            }
            for j in 0..p {
                let (sjh, ejh) = (self.s[j * g + h], self.e[j * g + h]);
                let (sv, ev) = (&mut b.sv[j], &mut b.ev[j]);
                for r in 0..BATCH {
                    sv[r] += sjh * vh[r];
                    ev[r] += ejh * vh[r];
                }
            }
        }
        let mut q00 = [0.0; BATCH];
        let mut q01 = [0.0; BATCH];
        let mut q11 = [0.0; BATCH];
        for h in 0..g {
            let vh = &b.v[h];
            let (ah, fh) = (self.a[h], self.f[h]);
            let mut z0 = [0.0; BATCH];
            let mut z1 = [0.0; BATCH];
            for r in 0..BATCH {
                z0[r] = ah * vh[r];
                z1[r] = fh * vh[r];
            }
            for j in 0..p {
                let bjh = self.beta[j * g + h];
                let (sv, ev) = (&b.sv[j], &b.ev[j]);
                for r in 0..BATCH {
                    z0[r] -= bjh * sv[r];
                    z1[r] -= bjh * ev[r];
                }
            }
            for r in 0..BATCH {
                q00[r] += z0[r] * z0[r];
                q01[r] += z0[r] * z1[r];
                q11[r] += z1[r] * z1[r];
            }
        }
        out.extend((0..count).map(|r| Replicate {
            n0: n0[r],
            n1: n1[r],
            q00: q00[r],
            q01: q01[r],
            q11: q11[r],
            tie: ties[r],
        }));
    }

    /// Replicates `first..last`, batch by batch; `fill(i, v)` writes the weights of replicate `i`.
    fn run(&self, first: u64, last: u64, mut fill: impl FnMut(u64, &mut [f64])) -> Vec<Replicate> {
        let mut b = self.batch();
        let mut out = Vec::with_capacity((last - first) as usize);
        let mut i = first;
        let mut ties = [0.0; BATCH];
        while i < last {
            let count = ((last - i) as usize).min(BATCH);
            for r in 0..BATCH {
                if r < count {
                    fill(i + r as u64, &mut b.one);
                } else {
                    b.one.fill(0.0);
                }
                let v0 = b.one[0];
                ties[r] = if v0 != 0.0 && b.one.iter().all(|x| *x == v0) {
                    v0.signum()
                } else {
                    0.0
                };
                for (h, vh) in b.v.iter_mut().enumerate() {
                    vh[r] = b.one[h];
                }
            }
            self.replicates(&mut b, count, &ties, &mut out);
            i += count as u64;
        }
        out
    }

    /// Replicates `first..last` of the full enumeration.
    fn enumerate(&self, first: u64, last: u64) -> Vec<Replicate> {
        let g = self.g;
        self.run(first, last, |i, v| {
            for (c, x) in v.iter_mut().enumerate() {
                *x = if (i >> (g - 1 - c)) & 1 == 1 {
                    1.0
                } else {
                    -1.0
                };
            }
        })
    }

    /// `count` replicates drawn from the stream of block `block`.
    fn draw(&self, weights: Weights, seed: u64, block: u64, count: usize) -> Vec<Replicate> {
        let mut rng = block_rng(seed, block);
        self.run(0, count as u64, |_, v| match weights {
            Weights::Rademacher => rademacher_fill(&mut rng, v),
            Weights::Webb => webb_fill(&mut rng, v),
        })
    }
}

/// What [`count_hits`] counts: `|t*| >= thr`, or `sign t* >= thr` for `thr > 0` or `thr <= 0`.
const ABS_ABOVE: u8 = 0;
const ABOVE_POSITIVE: u8 = 1;
const ABOVE_NON_POSITIVE: u8 = 2;

/// The replicates of one task of a p-value, by field.
struct Columns<'a> {
    n0: &'a [f64],
    n1: &'a [f64],
    q00: &'a [f64],
    q01: &'a [f64],
    q11: &'a [f64],
    tie: &'a [f64],
}

/// Replicates whose `t*(d) = nd / sqrt(k q)` reaches the threshold (`kthr2 = k thr^2`), without a
/// square root or a division, branch-free so that the loop vectorizes; an undefined `0 / 0`
/// reaches nothing. A tied replicate (`t* = tie * t`) reaches it when `tie = +1`, and when
/// `tie = -1` if `mirror` says so.
fn count_hits<const KIND: u8>(c: &Columns, d: f64, sign: f64, kthr2: f64, mirror: bool) -> usize {
    let mut hits = 0usize;
    for i in 0..c.n0.len() {
        let nd = sign * (c.n0[i] - d * c.n1[i]);
        let q = (c.q00[i] - 2.0 * d * c.q01[i] + d * d * c.q11[i]).max(0.0);
        let defined = (q > 0.0) | (nd != 0.0);
        let hit = match KIND {
            ABS_ABOVE => nd * nd >= kthr2 * q,
            ABOVE_POSITIVE => (nd > 0.0) & (nd * nd >= kthr2 * q),
            _ => (nd >= 0.0) | (nd * nd <= kthr2 * q),
        };
        let tie = c.tie[i];
        let tied = (tie > 0.0) | ((tie < 0.0) & mirror);
        hits += usize::from(((tie == 0.0) & defined & hit) | tied);
    }
    hits
}

/// `sign` as a multiplier, with 0 (two-sided: the square decides) as 1.
#[inline]
fn sign_or_one(sign: f64) -> f64 {
    if sign < 0.0 {
        -1.0
    } else {
        1.0
    }
}

/// Replicates counted by one task of a p-value.
const PVALUE_CHUNK: usize = 1 << 15;

/// The bootstrap statistics and the observed one, as functions of the shift `d` of the null;
/// the replicates by field, for a p-value in one vectorizable pass.
struct Inversion {
    n0: Vec<f64>,
    n1: Vec<f64>,
    q00: Vec<f64>,
    q01: Vec<f64>,
    q11: Vec<f64>,
    tie: Vec<f64>,
    /// `c'b - r`.
    gap: f64,
    se: f64,
    k: f64,
    alternative: Alternative,
}

impl Inversion {
    fn new(reps: &[Replicate], gap: f64, se: f64, k: f64, alternative: Alternative) -> Self {
        let field = |f: fn(&Replicate) -> f64| reps.iter().map(f).collect::<Vec<f64>>();
        Inversion {
            n0: field(|r| r.n0),
            n1: field(|r| r.n1),
            q00: field(|r| r.q00),
            q01: field(|r| r.q01),
            q11: field(|r| r.q11),
            tie: field(|r| r.tie),
            gap,
            se,
            k,
            alternative,
        }
    }

    /// `t*` of every replicate at the shift `d`.
    fn t_stars(&self, d: f64) -> Vec<f64> {
        (0..self.n0.len())
            .map(|i| {
                let q = (self.q00[i] - 2.0 * d * self.q01[i] + d * d * self.q11[i]).max(0.0);
                (self.n0[i] - d * self.n1[i]) / (self.k * q).sqrt()
            })
            .collect()
    }

    /// The bootstrap p-value of the null `r + d`: the share of replicates whose `t*` reaches `t`
    /// in the alternative's direction (tied replicates exactly, see the module notes). Counted in
    /// chunks in the pool (a count of whole numbers: the same on any number of threads).
    fn pvalue(&self, d: f64) -> Result<f64> {
        let t = (self.gap - d) / self.se;
        // In terms of `sign * t* >= thr`; `mirror`: whether `t* = -t` reaches `t`.
        let (sign, thr, mirror) = match self.alternative {
            Alternative::TwoSided => (0.0, t.abs(), true),
            Alternative::Greater => (1.0, t, t <= 0.0),
            Alternative::Less => (-1.0, -t, t >= 0.0),
        };
        let kthr2 = self.k * thr * thr;
        let kind = if sign == 0.0 {
            ABS_ABOVE
        } else if thr > 0.0 {
            ABOVE_POSITIVE
        } else {
            ABOVE_NON_POSITIVE
        };
        let sign = sign_or_one(sign);
        let count = |r: std::ops::Range<usize>| -> usize {
            let c = Columns {
                n0: &self.n0[r.clone()],
                n1: &self.n1[r.clone()],
                q00: &self.q00[r.clone()],
                q01: &self.q01[r.clone()],
                q11: &self.q11[r.clone()],
                tie: &self.tie[r],
            };
            match kind {
                ABS_ABOVE => count_hits::<ABS_ABOVE>(&c, d, sign, kthr2, mirror),
                ABOVE_POSITIVE => count_hits::<ABOVE_POSITIVE>(&c, d, sign, kthr2, mirror),
                _ => count_hits::<ABOVE_NON_POSITIVE>(&c, d, sign, kthr2, mirror),
            }
        };
        let n = self.n0.len();
        let chunk = PVALUE_CHUNK;
        let hits: usize = if n <= chunk {
            count(0..n)
        } else {
            use rayon::prelude::*;
            pool()?.install(|| {
                (0..n.div_ceil(chunk))
                    .into_par_iter()
                    .map(|c| count(c * chunk..((c + 1) * chunk).min(n)))
                    .sum()
            })
        };
        Ok(hits as f64 / n as f64)
    }

    /// The end of the acceptance region `{d: p(d) >= alpha}` on the side `dir` (+1 up, -1 down),
    /// starting from the CR1 end `start`; infinite when no null that way is rejected.
    fn end(&self, alpha: f64, start: f64, step: f64, dir: f64) -> Result<f64> {
        let accepted = |d: f64| -> Result<bool> { Ok(self.pvalue(d)? >= alpha) };
        // Bracket: `inside` accepted, `outside` rejected.
        let (mut inside, mut outside) = if accepted(start)? {
            let mut inside = start;
            let mut k = 1.0;
            loop {
                let d = start + dir * step * k;
                if !d.is_finite() || k > 2f64.powi(60) {
                    return Ok(dir * f64::INFINITY);
                }
                if !accepted(d)? {
                    break (inside, d);
                }
                inside = d;
                k *= 2.0;
            }
        } else {
            let mut outside = start;
            let mut k = 1.0;
            loop {
                let d = start - dir * step * k;
                if !d.is_finite() || k > 2f64.powi(60) {
                    return Ok(f64::NAN);
                }
                if accepted(d)? {
                    break (d, outside);
                }
                outside = d;
                k *= 2.0;
            }
        };
        let scale = inside.abs().max(outside.abs()).max(self.se);
        for _ in 0..200 {
            let mid = 0.5 * (inside + outside);
            if (outside - inside).abs() <= 1e-12 * scale || mid == inside || mid == outside {
                break;
            }
            if accepted(mid)? {
                inside = mid;
            } else {
                outside = mid;
            }
        }
        Ok(inside)
    }
}

fn check_finite(name: &str, xs: &[f64]) -> Result<()> {
    match xs.iter().position(|x| !x.is_finite()) {
        None => Ok(()),
        Some(i) => Err(NeymanError::invalid(
            name,
            format!("value {i} is {}; the sums must be finite", xs[i]),
        )),
    }
}

/// The WCR wild cluster bootstrap test of `c'beta = r` and its interval (see the module notes).
pub fn wild_cluster_bootstrap(blocks: &ClusterBlocks, opts: &WildOptions) -> Result<WildBootstrap> {
    let p = blocks.p;
    let g = blocks.n.len();
    if p == 0 {
        return Err(NeymanError::invalid("X", "has no columns"));
    }
    if blocks.xtx.len() != g * p * p || blocks.xty.len() != g * p {
        return Err(NeymanError::invalid(
            "blocks",
            format!(
                "{g} clusters of {p} regressors need {} X'X values and {} X'y values, got {} \
                 and {}",
                g * p * p,
                g * p,
                blocks.xtx.len(),
                blocks.xty.len()
            ),
        ));
    }
    if g < 2 {
        return Err(NeymanError::TooFewObservations {
            arg: "cluster".into(),
            n: g as u64,
            needed: 2,
        });
    }
    if opts.contrast.len() != p {
        return Err(NeymanError::invalid(
            "param",
            format!(
                "the contrast has {} weights for {p} columns of X",
                opts.contrast.len()
            ),
        ));
    }
    check_finite("param", &opts.contrast)?;
    if opts.contrast.iter().all(|c| *c == 0.0) {
        return Err(NeymanError::invalid("param", "the contrast is zero"));
    }
    if !opts.null.is_finite() {
        return Err(NeymanError::invalid("null", "must be finite"));
    }
    if opts.n_resamples < 1 {
        return Err(NeymanError::invalid("n_resamples", "must be at least 1"));
    }
    check_confidence_level(opts.confidence_level)?;
    check_finite("X'X", blocks.xtx)?;
    check_finite("X'y", blocks.xty)?;
    let n: u64 = blocks.n.iter().sum();
    if n <= p as u64 {
        return Err(NeymanError::TooFewObservations {
            arg: "y".into(),
            n,
            needed: p as u64 + 1,
        });
    }

    // X'X, X'y and M.
    let mut xtx = vec![vec![0.0; p]; p];
    let mut xty = vec![0.0; p];
    for c in 0..g {
        for i in 0..p {
            xty[i] += blocks.xty[c * p + i];
            for j in 0..p {
                xtx[i][j] += blocks.xtx[(c * p + i) * p + j];
            }
        }
    }
    let m_rows = spd_inverse(&xtx).map_err(|k| {
        NeymanError::invalid(
            "X",
            format!("column {k} is a linear combination of the others (X'X is singular)"),
        )
    })?;
    let m: Vec<f64> = m_rows.concat();
    let c = &opts.contrast;
    let mut b = vec![0.0; p];
    mat_vec(&m, &xty, &mut b);
    let mut mc = vec![0.0; p];
    mat_vec(&m, c, &mut mc);
    let cmc = dot(c, &mc);
    if !cmc.is_finite() || cmc <= 0.0 {
        return Err(NeymanError::invalid(
            "param",
            "c'(X'X)^-1 c is not positive: the contrast is not estimable",
        ));
    }
    let estimate = dot(c, &b);
    let gap = estimate - opts.null;
    let w: Vec<f64> = mc.iter().map(|x| x / cmc).collect();
    let beta0: Vec<f64> = b.iter().zip(&w).map(|(bi, wi)| bi - wi * gap).collect();

    let k = (n as f64 - 1.0) / (n as f64 - p as f64) * g as f64 / (g as f64 - 1.0);
    let mut prep = Prepared {
        g,
        p,
        a: vec![0.0; g],
        f: vec![0.0; g],
        s: vec![0.0; g * p],
        e: vec![0.0; g * p],
        beta: vec![0.0; g * p],
    };
    let mut meat = 0.0;
    // The size of the terms whose difference the scores are: scores at rounding level of these
    // mean residuals of zero (y an exact linear function of X).
    let mut cancelled = 0.0;
    let (mut tmp, mut tmp2) = (vec![0.0; p], vec![0.0; p]);
    for c_ in 0..g {
        let gg = &blocks.xtx[c_ * p * p..(c_ + 1) * p * p];
        let xy = &blocks.xty[c_ * p..(c_ + 1) * p];
        // Unrestricted score, for the CR1 standard error.
        mat_vec(gg, &b, &mut tmp);
        let u: f64 = (0..p).map(|j| mc[j] * (xy[j] - tmp[j])).sum();
        let terms: f64 = (0..p)
            .map(|j| mc[j].abs() * (xy[j].abs() + tmp[j].abs()))
            .sum();
        meat += u * u;
        cancelled += terms * terms;
        mat_vec(gg, &beta0, &mut tmp);
        for j in 0..p {
            prep.s[j * g + c_] = xy[j] - tmp[j];
        }
        prep.a[c_] = (0..p).map(|j| mc[j] * prep.s[j * g + c_]).sum();
        mat_vec(gg, &w, &mut tmp);
        for j in 0..p {
            prep.e[j * g + c_] = tmp[j];
        }
        prep.f[c_] = (0..p).map(|j| mc[j] * tmp[j]).sum();
        mat_vec(gg, &mc, &mut tmp);
        mat_vec(&m, &tmp, &mut tmp2);
        for j in 0..p {
            prep.beta[j * g + c_] = tmp2[j];
        }
    }
    let se = (k * meat).sqrt();
    if !se.is_finite() || meat.sqrt() <= 1e-10 * cancelled.sqrt() {
        return Err(NeymanError::ZeroVariance {
            arg: "y".into(),
            msg: "the cluster-robust standard error of the contrast is zero (y is a linear \
                  function of X)"
                .into(),
        });
    }
    let statistic = gap / se;

    // Replicates, in blocks.
    let full_enumeration =
        opts.weights == Weights::Rademacher && g < 63 && (1u64 << g) <= opts.n_resamples;
    let total = if full_enumeration {
        1u64 << g
    } else {
        opts.n_resamples
    };
    let block = REPLICATE_BLOCK as u64;
    let n_blocks = usize::try_from(total.div_ceil(block))
        .map_err(|_| NeymanError::invalid("n_resamples", "is too large"))?;
    let prep = &prep;
    let map = |j: usize| {
        let first = j as u64 * block;
        let last = (first + block).min(total);
        let reps = if full_enumeration {
            prep.enumerate(first, last)
        } else {
            prep.draw(opts.weights, opts.seed, j as u64, (last - first) as usize)
        };
        vec![reps]
    };
    let merge = |mut a: Vec<Vec<Replicate>>, b: Vec<Vec<Replicate>>| {
        a.extend(b);
        a
    };
    let parts = reduce_indexed(n_blocks, map, merge)?.unwrap_or_default();
    let reps: Vec<Replicate> = parts.concat();

    let inv = Inversion::new(&reps, gap, se, k, opts.alternative);
    drop(reps);
    let pvalue = inv.pvalue(0.0)?;
    let bootstrap_statistics = inv.t_stars(0.0);

    // The interval, in terms of the shift d of the null: c'beta = null + d.
    let alpha = 1.0 - opts.confidence_level;
    let reference = Reference::T(g as f64 - 1.0);
    let q = reference.critical(opts.alternative, opts.confidence_level)?;
    let step = q.abs().max(1.0) * se;
    let upper = |inv: &Inversion| inv.end(alpha, gap + q * se, step, 1.0);
    let lower = |inv: &Inversion| inv.end(alpha, gap - q * se, step, -1.0);
    let (lo, hi) = match opts.alternative {
        Alternative::TwoSided => (lower(&inv)?, upper(&inv)?),
        Alternative::Greater => (lower(&inv)?, f64::INFINITY),
        Alternative::Less => (f64::NEG_INFINITY, upper(&inv)?),
    };
    Ok(WildBootstrap {
        estimate,
        se,
        statistic,
        pvalue,
        ci_low: opts.null + lo,
        ci_high: opts.null + hi,
        n_resamples: total,
        full_enumeration,
        n_clusters: g,
        n,
        bootstrap_statistics,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Small clustered data: rows `(cluster, x, y)` with an intercept, from a fixed recipe.
    fn rows(g: usize, per: usize) -> Vec<(usize, f64, f64)> {
        let mut out = Vec::new();
        for c in 0..g {
            let shock = ((c * 7 + 3) % 5) as f64 - 2.0;
            for i in 0..per + c % 3 {
                let x = ((c * 13 + i * 5) % 11) as f64 / 3.0 - 1.5;
                let noise = ((c * 31 + i * 17) % 13) as f64 / 6.0 - 1.0;
                out.push((c, x, 1.0 + 0.3 * x + shock * 0.5 + noise));
            }
        }
        out
    }

    /// The rows of [`rows`] and their per-cluster blocks (intercept and `x`).
    struct Fixture {
        data: Vec<(usize, f64, f64)>,
        xtx: Vec<f64>,
        xty: Vec<f64>,
        n: Vec<u64>,
    }

    impl Fixture {
        fn new(g: usize, per: usize) -> Self {
            let data = rows(g, per);
            let (xtx, xty, n) = blocks_of(&data, g);
            Fixture { data, xtx, xty, n }
        }

        fn blocks(&self) -> ClusterBlocks<'_> {
            ClusterBlocks {
                p: 2,
                xtx: &self.xtx,
                xty: &self.xty,
                n: &self.n,
            }
        }
    }

    fn blocks_of(data: &[(usize, f64, f64)], g: usize) -> (Vec<f64>, Vec<f64>, Vec<u64>) {
        let (mut xtx, mut xty, mut n) = (vec![0.0; g * 4], vec![0.0; g * 2], vec![0u64; g]);
        for &(c, x, y) in data {
            let row = [1.0, x];
            for i in 0..2 {
                xty[c * 2 + i] += row[i] * y;
                for j in 0..2 {
                    xtx[c * 4 + i * 2 + j] += row[i] * row[j];
                }
            }
            n[c] += 1;
        }
        (xtx, xty, n)
    }

    fn options(n_resamples: u64) -> WildOptions {
        WildOptions {
            contrast: vec![0.0, 1.0],
            null: 0.1,
            weights: Weights::Rademacher,
            n_resamples,
            seed: 7,
            alternative: Alternative::TwoSided,
            confidence_level: 0.9,
        }
    }

    /// The row-level bootstrap: `y* = X beta~ + v_g e~` row by row, refit, CR1 t of `c'b* - r`.
    fn direct_t(data: &[(usize, f64, f64)], g: usize, v: &[f64], r: f64) -> f64 {
        let fit = |ys: &[f64]| {
            let mut xtx = vec![vec![0.0; 2]; 2];
            let mut xty = [0.0; 2];
            for (&(_, x, _), y) in data.iter().zip(ys) {
                let row = [1.0, x];
                for i in 0..2 {
                    xty[i] += row[i] * y;
                    for j in 0..2 {
                        xtx[i][j] += row[i] * row[j];
                    }
                }
            }
            let m = spd_inverse(&xtx).unwrap();
            let b = [
                m[0][0] * xty[0] + m[0][1] * xty[1],
                m[1][0] * xty[0] + m[1][1] * xty[1],
            ];
            (m, b)
        };
        let ys: Vec<f64> = data.iter().map(|d| d.2).collect();
        let (_, b) = fit(&ys);
        // Restricted fit of c'beta = r with c = (0, 1): the slope fixed at r.
        let n = data.len() as f64;
        let icpt = data.iter().map(|d| d.2 - r * d.1).sum::<f64>() / n;
        let _ = b;
        let ystar: Vec<f64> = data
            .iter()
            .map(|&(c, x, y)| {
                let fitted = icpt + r * x;
                fitted + v[c] * (y - fitted)
            })
            .collect();
        let (m, bs) = fit(&ystar);
        let mut scores = vec![[0.0; 2]; g];
        for (&(c, x, _), y) in data.iter().zip(&ystar) {
            let e = y - bs[0] - bs[1] * x;
            scores[c][0] += e;
            scores[c][1] += x * e;
        }
        let var: f64 = scores
            .iter()
            .map(|s| {
                let u = m[1][0] * s[0] + m[1][1] * s[1];
                u * u
            })
            .sum();
        let k = (n - 1.0) / (n - 2.0) * g as f64 / (g as f64 - 1.0);
        (bs[1] - r) / (k * var).sqrt()
    }

    #[test]
    fn enumeration_matches_the_row_level_bootstrap() {
        let g = 6;
        let fx = Fixture::new(g, 9);
        let (data, blocks) = (&fx.data, fx.blocks());
        let res = wild_cluster_bootstrap(&blocks, &options(999)).unwrap();
        assert!(res.full_enumeration);
        assert_eq!(res.n_resamples, 64);
        assert_eq!(res.bootstrap_statistics.len(), 64);
        for (i, t) in res.bootstrap_statistics.iter().enumerate() {
            // itertools.product order: cluster 0 is the most significant bit, -1 first.
            let v: Vec<f64> = (0..g)
                .map(|c| {
                    if (i >> (g - 1 - c)) & 1 == 1 {
                        1.0
                    } else {
                        -1.0
                    }
                })
                .collect();
            let want = direct_t(data, g, &v, 0.1);
            assert!(
                (t - want).abs() < 1e-10 * want.abs().max(1.0),
                "{i}: {t} {want}"
            );
        }
        // v = 1 reproduces the observed statistic; the p-value counts it and its mirror.
        let last = res.bootstrap_statistics[63];
        assert!((last - res.statistic).abs() < 1e-10 * res.statistic.abs());
        let hits = res
            .bootstrap_statistics
            .iter()
            .filter(|t| t.abs() >= res.statistic.abs() * (1.0 - 1e-9))
            .count();
        assert!(hits >= 2);
        assert_eq!(res.pvalue, hits as f64 / 64.0);
    }

    #[test]
    fn interval_ends_are_where_the_pvalue_crosses_alpha() {
        let g = 12;
        let fx = Fixture::new(g, 6);
        let blocks = fx.blocks();
        let opts = options(2000);
        let res = wild_cluster_bootstrap(&blocks, &opts).unwrap();
        assert!(!res.full_enumeration && res.n_resamples == 2000);
        assert!(res.ci_low < res.estimate && res.estimate < res.ci_high);
        let width = res.ci_high - res.ci_low;
        let p_at = |null: f64| {
            let o = WildOptions {
                null,
                ..opts.clone()
            };
            wild_cluster_bootstrap(&blocks, &o).unwrap().pvalue
        };
        for (end, dir) in [(res.ci_low, -1.0), (res.ci_high, 1.0)] {
            assert!(p_at(end - dir * 1e-6 * width) >= 0.1);
            assert!(p_at(end + dir * 1e-6 * width) < 0.1);
        }
    }

    #[test]
    fn seeded_draws_repeat_and_blocks_do_not_depend_on_threads() {
        let g = 20;
        let fx = Fixture::new(g, 5);
        let (data, blocks) = (&fx.data, fx.blocks());
        let mut opts = options(3 * REPLICATE_BLOCK as u64 + 11);
        opts.weights = Weights::Webb;
        let a = wild_cluster_bootstrap(&blocks, &opts).unwrap();
        let b = wild_cluster_bootstrap(&blocks, &opts).unwrap();
        assert_eq!(a, b);
        // Replicate j of block 1 is drawn from block_rng(seed, 1): recompute one directly.
        let mut rng = block_rng(opts.seed, 1);
        let mut v = vec![0.0; g];
        webb_fill(&mut rng, &mut v);
        webb_fill(&mut rng, &mut v);
        let want = direct_t(data, g, &v, 0.1);
        let got = a.bootstrap_statistics[REPLICATE_BLOCK + 1];
        assert!((got - want).abs() < 1e-10 * want.abs().max(1.0));
    }

    #[test]
    fn too_few_sign_vectors_to_reject_give_the_whole_line() {
        // G = 4: the sign vectors +-1 reach |t| at every null, so p >= 2/16 > 0.1 everywhere.
        let fx = Fixture::new(4, 8);
        let res = wild_cluster_bootstrap(&fx.blocks(), &options(999)).unwrap();
        assert!(res.full_enumeration && res.pvalue >= 2.0 / 16.0);
        assert_eq!(
            (res.ci_low, res.ci_high),
            (f64::NEG_INFINITY, f64::INFINITY)
        );
        let far = WildOptions {
            null: 1e12,
            ..options(999)
        };
        let p = wild_cluster_bootstrap(&fx.blocks(), &far).unwrap().pvalue;
        assert!(p >= 2.0 / 16.0, "{p}");
    }

    #[test]
    fn bad_input_names_the_argument() {
        let fx = Fixture::new(4, 5);
        let blocks = fx.blocks();
        let one = ClusterBlocks {
            p: 2,
            xtx: &fx.xtx[..4],
            xty: &fx.xty[..2],
            n: &fx.n[..1],
        };
        let err = |b: &ClusterBlocks, o: WildOptions| wild_cluster_bootstrap(b, &o).unwrap_err();
        assert_eq!(err(&one, options(9)).arg(), "cluster");
        let mut o = options(9);
        o.contrast = vec![1.0];
        assert_eq!(err(&blocks, o).arg(), "param");
        assert_eq!(err(&blocks, options(0)).arg(), "n_resamples");
        // A column that is twice the intercept: X'X singular.
        let mut sing = fx.xtx.clone();
        for c in 0..4 {
            let n = sing[c * 4];
            sing[c * 4 + 1] = 2.0 * n;
            sing[c * 4 + 2] = 2.0 * n;
            sing[c * 4 + 3] = 4.0 * n;
        }
        let s = ClusterBlocks {
            xtx: &sing,
            ..blocks
        };
        assert_eq!(err(&s, options(9)).arg(), "X");
        assert!(Weights::parse("mammen").is_err());
    }
}
