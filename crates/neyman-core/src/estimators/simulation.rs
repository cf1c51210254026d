//! Power by simulation: many experiments drawn from a parametric model or resampled from
//! historical rows, a perturbation applied to the treatment arm, each analysed by a built-in test;
//! power is the share of experiments that reject, with its Monte-Carlo standard error
//! `sqrt(p (1 - p) / n_sims)`. With no perturbation (an A/A test) it is the false-positive rate.
//!
//! Models: normal `N(mean, sd^2)`, lognormal `exp(N(mu, sigma^2))`, Bernoulli `p`; for CUPED a
//! normal covariate `x = mean + sd z_1` and outcome `y = mean + sd (rho z_1 + sqrt(1 - rho^2) z_2)`.
//! Perturbations of the treatment arm: additive (`y + d`), multiplicative (`y (1 + d)`), and binary
//! lift (`p + d` for a Bernoulli model; for resampled 0/1 rows, a 0 becomes 1 with probability
//! `d / (1 - p)`, or a 1 becomes 0 with probability `-d / p`, `p` the historical rate).
//! Analyses: Welch's t (Welch 1947), the pooled two-proportion z-test, and CUPED (Deng et al.
//! 2013: `theta` from both arms pooled, the adjusted difference against Welch's t on the adjusted
//! variances).
//!
//! Randomness: experiments are cut into blocks of [`BLOCK`]; block `b` draws from the stream of
//! `(seed, b)` ([`crate::rng::block_rng`], the project's one derivation, pinned in `rng.rs`),
//! normals by rand_distr's ziggurat. Rejections are integers summed over blocks, so a seed gives
//! the same answer on any number of threads.

use rand::distr::Distribution;
use rand::RngExt;
use rand_distr::StandardNormal;
use rayon::prelude::*;

use crate::error::{NeymanError, Result};
use crate::inference::distributions::norm_ppf;
use crate::inference::means::welch_df;
use crate::inference::{Alternative, Reference};
use crate::parallel;
use crate::rng::block_rng;

/// Experiments per random stream.
pub const BLOCK: usize = 16;

/// The data-generating model of a parametric simulation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Model {
    /// `N(mean, sd^2)`; with `rho != 0` a covariate correlated `rho` with the outcome (CUPED).
    Normal { mean: f64, sd: f64, rho: f64 },
    /// `exp(N(mu, sigma^2))`.
    LogNormal { mu: f64, sigma: f64 },
    /// 0/1 with `P(1) = p`.
    Bernoulli { p: f64 },
}

/// What the treatment does.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Perturbation {
    /// `y + d`.
    Additive(f64),
    /// `y (1 + d)`.
    Multiplicative(f64),
    /// `p + d` for 0/1 outcomes.
    BinaryLift(f64),
}

impl Perturbation {
    /// Parse `'additive'`, `'multiplicative'` or `'binary'` with its size.
    pub fn parse(kind: &str, d: f64) -> Result<Self> {
        if !d.is_finite() {
            return Err(NeymanError::invalid(
                "effect",
                format!("{d} must be finite"),
            ));
        }
        match kind {
            "additive" => Ok(Self::Additive(d)),
            "multiplicative" => Ok(Self::Multiplicative(d)),
            "binary" => Ok(Self::BinaryLift(d)),
            _ => Err(NeymanError::invalid(
                "perturbation",
                format!("{kind:?} is not one of 'additive', 'multiplicative', 'binary'"),
            )),
        }
    }
}

/// The analysis applied to each simulated experiment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Analysis {
    /// Welch's t-test of the difference in means.
    Welch,
    /// Pooled two-proportion z-test.
    Proportions,
    /// CUPED with the covariate, against Welch's t.
    Cuped,
}

impl Analysis {
    /// Parse `'welch'`, `'proportions'` or `'cuped'`.
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "welch" => Ok(Self::Welch),
            "proportions" => Ok(Self::Proportions),
            "cuped" => Ok(Self::Cuped),
            _ => Err(NeymanError::invalid(
                "analysis",
                format!("{s:?} is not one of 'welch', 'proportions', 'cuped'"),
            )),
        }
    }
}

/// Sizes, level, direction and seed of a simulation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Plan {
    /// Control units per experiment.
    pub n_control: usize,
    /// Treatment units per experiment.
    pub n_treatment: usize,
    /// Number of simulated experiments.
    pub n_sims: usize,
    /// Significance level.
    pub alpha: f64,
    /// Direction of the test.
    pub alternative: Alternative,
    /// Seed of the streams.
    pub seed: u64,
}

/// Share of simulated experiments that rejected.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Simulated {
    /// `rejections / n_sims`.
    pub power: f64,
    /// Monte-Carlo standard error, `sqrt(power (1 - power) / n_sims)`.
    pub mc_se: f64,
    /// Experiments that rejected.
    pub rejections: u64,
    /// Experiments simulated.
    pub n_sims: u64,
}

/// Where the rows of each experiment come from.
enum Source<'a> {
    Model(Model),
    /// Historical outcome, optional covariate, and the outcome's mean (for binary lifts).
    Rows(&'a [f64], Option<&'a [f64]>, f64),
}

fn check_plan(plan: &Plan, analysis: Analysis) -> Result<()> {
    for (name, n) in [
        ("n_control", plan.n_control),
        ("n_treatment", plan.n_treatment),
    ] {
        if n < 2 {
            return Err(NeymanError::TooFewObservations {
                arg: name.into(),
                n: n as u64,
                needed: 2,
            });
        }
    }
    if plan.n_sims == 0 {
        return Err(NeymanError::invalid("n_sims", "must be at least 1"));
    }
    if !(plan.alpha > 0.0 && plan.alpha < 1.0) {
        return Err(NeymanError::invalid(
            "alpha",
            format!("{} is not strictly between 0 and 1", plan.alpha),
        ));
    }
    let _ = analysis;
    Ok(())
}

/// Whether the statistic `t` against `reference` rejects at `alpha`.
fn rejects(t: f64, reference: Reference, plan: &Plan) -> Result<bool> {
    if !t.is_finite() {
        return Ok(false);
    }
    Ok(reference.pvalue(t, plan.alternative)? < plan.alpha)
}

/// Mean and sum of squared deviations of a buffer (two passes, in cache).
fn mean_m2(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let m2 = xs.iter().map(|x| (x - mean) * (x - mean)).sum();
    (mean, m2)
}

/// Means and co-moments of (y, x) buffers.
fn co_moments(y: &[f64], x: &[f64]) -> (f64, f64, f64, f64, f64) {
    let (my, syy) = mean_m2(y);
    let (mx, sxx) = mean_m2(x);
    let sxy = y.iter().zip(x).map(|(a, b)| (a - my) * (b - mx)).sum();
    (my, mx, syy, sxx, sxy)
}

/// One experiment's buffers, reused across the experiments of a block.
struct Buffers {
    yc: Vec<f64>,
    yt: Vec<f64>,
    xc: Vec<f64>,
    xt: Vec<f64>,
}

fn perturb<R: rand::Rng>(y: f64, p: Perturbation, base_rate: f64, rng: &mut R) -> f64 {
    match p {
        Perturbation::Additive(d) => y + d,
        Perturbation::Multiplicative(d) => y * (1.0 + d),
        Perturbation::BinaryLift(d) => {
            let u: f64 = rng.random();
            if d > 0.0 && y == 0.0 && u < d / (1.0 - base_rate) {
                1.0
            } else if d < 0.0 && y == 1.0 && u < -d / base_rate {
                0.0
            } else {
                y
            }
        }
    }
}

fn fill<R: rand::Rng>(
    source: &Source<'_>,
    p: Perturbation,
    treated: bool,
    y: &mut [f64],
    x: &mut [f64],
    with_x: bool,
    rng: &mut R,
) {
    match *source {
        Source::Model(Model::Normal { mean, sd, rho }) => {
            let shift = if treated {
                match p {
                    Perturbation::Additive(d) => d,
                    _ => 0.0,
                }
            } else {
                0.0
            };
            if with_x {
                let s = (1.0 - rho * rho).max(0.0).sqrt();
                for (yi, xi) in y.iter_mut().zip(x.iter_mut()) {
                    let z1: f64 = StandardNormal.sample(rng);
                    let z2: f64 = StandardNormal.sample(rng);
                    *xi = mean + sd * z1;
                    *yi = mean + sd * (rho * z1 + s * z2) + shift;
                }
            } else {
                let m = mean + shift;
                for yi in y.iter_mut() {
                    let z: f64 = StandardNormal.sample(rng);
                    *yi = m + sd * z;
                }
            }
            if treated {
                if let Perturbation::Multiplicative(d) = p {
                    y.iter_mut().for_each(|v| *v *= 1.0 + d);
                }
            }
        }
        Source::Model(Model::LogNormal { mu, sigma }) => {
            for yi in y.iter_mut() {
                let z: f64 = StandardNormal.sample(rng);
                let v = (mu + sigma * z).exp();
                *yi = if treated {
                    perturb(v, p, f64::NAN, rng)
                } else {
                    v
                };
            }
        }
        Source::Model(Model::Bernoulli { p: rate }) => {
            let q = match (treated, p) {
                (true, Perturbation::BinaryLift(d)) => rate + d,
                _ => rate,
            };
            for yi in y.iter_mut() {
                let u: f64 = rng.random();
                let v = if u < q { 1.0 } else { 0.0 };
                *yi = match (treated, p) {
                    (true, Perturbation::BinaryLift(_)) | (false, _) => v,
                    (true, _) => perturb(v, p, rate, rng),
                };
            }
        }
        Source::Rows(hy, hx, base) => {
            let len = hy.len();
            for k in 0..y.len() {
                let i = rng.random_range(0..len);
                let v = hy[i];
                y[k] = if treated { perturb(v, p, base, rng) } else { v };
                if with_x {
                    if let Some(hx) = hx {
                        x[k] = hx[i];
                    }
                }
            }
        }
    }
}

/// Analyse one simulated experiment: does it reject?
fn analyse(b: &Buffers, analysis: Analysis, plan: &Plan, z_crit: f64) -> Result<bool> {
    let (nc, nt) = (b.yc.len() as f64, b.yt.len() as f64);
    match analysis {
        Analysis::Welch => {
            let (mc, m2c) = mean_m2(&b.yc);
            let (mt, m2t) = mean_m2(&b.yt);
            let (vc, vt) = (m2c / (nc - 1.0) / nc, m2t / (nt - 1.0) / nt);
            let t = (mt - mc) / (vc + vt).sqrt();
            rejects(t, Reference::T(welch_df(vc, nc, vt, nt)), plan)
        }
        Analysis::Proportions => {
            let (sc, st): (f64, f64) = (b.yc.iter().sum(), b.yt.iter().sum());
            let pooled = (sc + st) / (nc + nt);
            let se = (pooled * (1.0 - pooled) * (1.0 / nc + 1.0 / nt)).sqrt();
            let z = (st / nt - sc / nc) / se;
            if !z.is_finite() {
                return Ok(false);
            }
            Ok(match plan.alternative {
                Alternative::TwoSided => z.abs() > z_crit,
                Alternative::Greater => z > z_crit,
                Alternative::Less => z < -z_crit,
            })
        }
        Analysis::Cuped => {
            let (myc, mxc, syyc, sxxc, sxyc) = co_moments(&b.yc, &b.xc);
            let (myt, mxt, syyt, sxxt, sxyt) = co_moments(&b.yt, &b.xt);
            // theta on the union of both arms (Chan et al. merge of the co-moments).
            let w = nc * nt / (nc + nt);
            let (dy, dx) = (myt - myc, mxt - mxc);
            let sxx = sxxc + sxxt + w * dx * dx;
            let sxy = sxyc + sxyt + w * dx * dy;
            if sxx.is_nan() || sxx <= 0.0 {
                return Ok(false);
            }
            let theta = sxy / sxx;
            let adj = |syy: f64, sxx: f64, sxy: f64, n: f64| {
                (syy - 2.0 * theta * sxy + theta * theta * sxx) / (n - 1.0) / n
            };
            let (vc, vt) = (adj(syyc, sxxc, sxyc, nc), adj(syyt, sxxt, sxyt, nt));
            let t = (dy - theta * dx) / (vc + vt).sqrt();
            rejects(t, Reference::T(welch_df(vc, nc, vt, nt)), plan)
        }
    }
}

fn run(source: Source<'_>, p: Perturbation, analysis: Analysis, plan: &Plan) -> Result<Simulated> {
    check_plan(plan, analysis)?;
    let with_x = analysis == Analysis::Cuped;
    let z_crit = norm_ppf(if plan.alternative == Alternative::TwoSided {
        1.0 - plan.alpha / 2.0
    } else {
        1.0 - plan.alpha
    })?;
    let n_blocks = plan.n_sims.div_ceil(BLOCK);
    let block = |b: usize| -> Result<u64> {
        let mut rng = block_rng(plan.seed, b as u64);
        let mut buf = Buffers {
            yc: vec![0.0; plan.n_control],
            yt: vec![0.0; plan.n_treatment],
            xc: vec![0.0; if with_x { plan.n_control } else { 0 }],
            xt: vec![0.0; if with_x { plan.n_treatment } else { 0 }],
        };
        let mut count = 0;
        let experiments = BLOCK.min(plan.n_sims - b * BLOCK);
        for _ in 0..experiments {
            fill(
                &source,
                p,
                false,
                &mut buf.yc,
                &mut buf.xc,
                with_x,
                &mut rng,
            );
            fill(&source, p, true, &mut buf.yt, &mut buf.xt, with_x, &mut rng);
            if analyse(&buf, analysis, plan, z_crit)? {
                count += 1;
            }
        }
        Ok(count)
    };
    let pool = parallel::pool()?;
    let batch = 4 * pool.current_num_threads().max(1);
    let mut rejections = 0u64;
    let mut first = 0;
    while first < n_blocks {
        if first > 0 && parallel::interrupted() {
            return Err(NeymanError::Interrupted);
        }
        let last = (first + batch).min(n_blocks);
        let counts: Result<Vec<u64>> =
            pool.install(|| (first..last).into_par_iter().map(block).collect());
        rejections += counts?.iter().sum::<u64>();
        first = last;
    }
    let n = plan.n_sims as f64;
    let power = rejections as f64 / n;
    Ok(Simulated {
        power,
        mc_se: (power * (1.0 - power) / n).sqrt(),
        rejections,
        n_sims: plan.n_sims as u64,
    })
}

/// Power of `analysis` on experiments drawn from `model`, the treatment arm perturbed by `p`.
pub fn simulate_model(
    model: Model,
    p: Perturbation,
    analysis: Analysis,
    plan: &Plan,
) -> Result<Simulated> {
    match model {
        Model::Normal { sd, rho, .. } => {
            if !(sd.is_finite() && sd > 0.0) {
                return Err(NeymanError::invalid("sd", format!("{sd} must be positive")));
            }
            if !(-1.0..=1.0).contains(&rho) {
                return Err(NeymanError::invalid(
                    "rho",
                    format!("{rho} is not in [-1, 1]"),
                ));
            }
        }
        Model::LogNormal { mu, sigma } => {
            if !(mu.is_finite() && sigma.is_finite() && sigma > 0.0) {
                return Err(NeymanError::invalid(
                    "sigma",
                    format!("mu = {mu}, sigma = {sigma}: sigma must be positive"),
                ));
            }
        }
        Model::Bernoulli { p: rate } => {
            let q = match p {
                Perturbation::BinaryLift(d) => rate + d,
                _ => rate,
            };
            if !((0.0..=1.0).contains(&rate) && (0.0..=1.0).contains(&q)) {
                return Err(NeymanError::invalid(
                    "effect",
                    format!("the proportions {rate} and {q} must lie in [0, 1]"),
                ));
            }
        }
    }
    if analysis == Analysis::Cuped && !matches!(model, Model::Normal { .. }) {
        return Err(NeymanError::invalid(
            "analysis",
            "CUPED simulation needs the normal model (with rho) or historical rows",
        ));
    }
    run(Source::Model(model), p, analysis, plan)
}

/// Power of `analysis` on experiments whose rows are drawn with replacement from historical
/// `outcome` (and `covariate`, row-aligned, for CUPED), the treatment arm perturbed by `p`.
pub fn simulate_resampling(
    outcome: &[f64],
    covariate: Option<&[f64]>,
    p: Perturbation,
    analysis: Analysis,
    plan: &Plan,
) -> Result<Simulated> {
    if outcome.len() < 2 {
        return Err(NeymanError::TooFewObservations {
            arg: "history".into(),
            n: outcome.len() as u64,
            needed: 2,
        });
    }
    if outcome.iter().any(|v| !v.is_finite()) {
        return Err(NeymanError::invalid("metric", "has NaN or infinite values"));
    }
    if let Some(x) = covariate {
        if x.len() != outcome.len() {
            return Err(NeymanError::LengthMismatch {
                arg: "covariate".into(),
                other: "metric".into(),
                len: x.len(),
                other_len: outcome.len(),
            });
        }
        if x.iter().any(|v| !v.is_finite()) {
            return Err(NeymanError::invalid(
                "covariate",
                "has NaN or infinite values",
            ));
        }
    } else if analysis == Analysis::Cuped {
        return Err(NeymanError::invalid("covariate", "CUPED needs a covariate"));
    }
    let base = outcome.iter().sum::<f64>() / outcome.len() as f64;
    if let Perturbation::BinaryLift(d) = p {
        if outcome.iter().any(|v| *v != 0.0 && *v != 1.0) {
            return Err(NeymanError::invalid(
                "perturbation",
                "a binary lift needs 0/1 outcomes",
            ));
        }
        if !(base + d > 0.0 && base + d < 1.0 && base > 0.0 && base < 1.0) {
            return Err(NeymanError::invalid(
                "effect",
                format!("the rate {base} + {d} must lie in (0, 1)"),
            ));
        }
    }
    run(Source::Rows(outcome, covariate, base), p, analysis, plan)
}

/// The random-number floor of the simulation: `count` standard normals drawn from the same
/// streams (blocks of `per_block`), summed so that none is optimised away.
pub fn normal_floor(count: usize, per_block: usize, seed: u64) -> Result<f64> {
    let per_block = per_block.max(1);
    let n_blocks = count.div_ceil(per_block);
    let pool = parallel::pool()?;
    let sums: Vec<f64> = pool.install(|| {
        (0..n_blocks)
            .into_par_iter()
            .map(|b| {
                let mut rng = block_rng(seed, b as u64);
                let m = per_block.min(count - b * per_block);
                let mut s = 0.0;
                for _ in 0..m {
                    let z: f64 = StandardNormal.sample(&mut rng);
                    s += z;
                }
                s
            })
            .collect()
    });
    Ok(sums.iter().sum())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thread_invariant_and_seeded() {
        let plan = Plan {
            n_control: 50,
            n_treatment: 50,
            n_sims: 200,
            alpha: 0.05,
            alternative: Alternative::TwoSided,
            seed: 7,
        };
        let m = Model::Normal {
            mean: 0.0,
            sd: 1.0,
            rho: 0.0,
        };
        let a = simulate_model(m, Perturbation::Additive(0.5), Analysis::Welch, &plan).unwrap();
        let b = simulate_model(m, Perturbation::Additive(0.5), Analysis::Welch, &plan).unwrap();
        assert_eq!(a, b);
        assert!(a.power > 0.5 && a.power < 0.9, "{}", a.power);
    }
}
