//! Analytic power of a treatment-versus-control comparison, and the solve for whichever of effect,
//! sample size, power or alpha is unknown.
//!
//! With `n_c` control units, `n_t = ratio n_c` treatment units, a true effect `d` and the null
//! value `d0` (`-margin` for `greater`, `+margin` for `less`, 0 two-sided), the test statistic is
//! `(estimate - d0) / se0` and rejects beyond the critical value `c` (split over `k` treatment arms
//! by Bonferroni or Dunnett, see [`crate::inference::multiplicity`]):
//!
//! - means, t-test (as statsmodels `TTestIndPower`, R `power.t.test`): `se = sd sqrt(f (1/n_c +
//!   1/n_t))`, noncentrality `(d - d0) / se`, `df = n_c + n_t - 2` (of clusters when clustered), and
//!   power `P(T' > c) + P(T' < -c)` (two-sided) under the noncentral t;
//! - means, z-test (statsmodels `NormalIndPower`): the same with the normal;
//! - proportions (statsmodels `power_proportions_2indep`, R `power.prop.test`): `p_t = p_c + d`,
//!   `se1 = sqrt(f (p_t q_t / n_t + p_c q_c / n_c))` under the alternative; under the null the
//!   pooled `p = (n_t p_t + n_c p_c) / (n_t + n_c)` gives `se0 = sqrt(f p q (1/n_t + 1/n_c))`
//!   (`unpooled`: `se0 = se1`), and `power = Phi((d - d0)/se1 - c se0/se1)` (+ the other tail);
//! - proportions by Cohen's h (Cohen 1988, ch. 6; statsmodels `NormalIndPower` with
//!   `proportion_effectsize`): `h = 2 asin sqrt p_t - 2 asin sqrt p_c` against
//!   `se = sqrt(f (1/n_c + 1/n_t))`.
//!
//! `f` multiplies the per-unit variance: the design effect of cluster randomisation,
//! `1 + ((cv^2 + 1) m - 1) icc` for mean cluster size `m` whose sizes have coefficient of variation `cv`
//! (Eldridge, Ashby and Kerry 2006, eq. 3; `cv = 0` gives Kish's `1 + (m - 1) icc`), times `1 - R^2`
//! for CUPED (Deng et al. 2013: the variance falls by the squared correlation of metric and
//! covariate). The unknown is found by Brent's method ([`crate::inference::roots`]) to near machine
//! precision, so solving and evaluating invert each other.

use crate::error::{NeymanError, Result};
use crate::inference::distributions::{nct_cdf, nct_sf, norm_cdf};
use crate::inference::multiplicity::{critical_value, Correction};
use crate::inference::options::Alternative;
use crate::inference::roots::brent;
use crate::scan::{grouped_comoments_of, grouped_moments_of};
use crate::stats::CoMoments;

/// How the variance of a difference of proportions enters the test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProportionVariance {
    /// Pooled proportion under the null, unpooled under the alternative (score test).
    Pooled,
    /// Unpooled under both (Wald test).
    Unpooled,
    /// Cohen's h: the arcsine transform, unit variance.
    Arcsine,
}

impl ProportionVariance {
    /// Parse `'pooled'`, `'unpooled'` or `'arcsine'`.
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "pooled" => Ok(Self::Pooled),
            "unpooled" => Ok(Self::Unpooled),
            "arcsine" => Ok(Self::Arcsine),
            _ => Err(NeymanError::invalid(
                "variance",
                format!("{s:?} is not one of 'pooled', 'unpooled', 'arcsine'"),
            )),
        }
    }
}

/// What is compared.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Metric {
    /// A difference of means with per-unit standard deviation `sd` (both arms); `baseline` is the
    /// control mean (needed only for relative effects); `t_test` picks Student's t over z.
    Mean {
        sd: f64,
        baseline: f64,
        t_test: bool,
    },
    /// A difference of proportions with control proportion `baseline`.
    Proportion {
        baseline: f64,
        variance: ProportionVariance,
    },
}

/// Everything but the four quantities of the power equation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Design {
    /// The metric.
    pub metric: Metric,
    /// Direction of the test.
    pub alternative: Alternative,
    /// `n_treatment / n_control` (each treatment arm).
    pub ratio: f64,
    /// Number of treatment arms, each compared with the control.
    pub treatments: usize,
    /// How `alpha` is split over the treatment arms.
    pub correction: Correction,
    /// Non-inferiority (`greater`) or non-superiority (`less`) margin, `>= 0`, in effect units.
    pub margin: f64,
    /// Effects and margin are relative to the control value (`baseline`).
    pub relative: bool,
    /// Multiplier of the per-unit variance (design effect times `1 - R^2`).
    pub variance_factor: f64,
    /// Units per cluster (1 when units are randomised): t-test degrees of freedom count clusters.
    pub cluster_size: f64,
}

/// The four quantities, all known after a solve, and what the test used.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Solved {
    /// Effect (relative when the design is).
    pub effect: f64,
    /// Control units (each treatment arm has `ratio` times as many).
    pub n: f64,
    /// Power of each treatment-versus-control comparison.
    pub power: f64,
    /// Familywise significance level.
    pub alpha: f64,
    /// Critical value of the test statistic.
    pub critical: f64,
    /// Degrees of freedom (infinite for z-tests).
    pub df: f64,
    /// Standard error of the effect under the alternative (absolute units).
    pub se: f64,
}

fn check_design(d: &Design) -> Result<()> {
    if !(d.ratio.is_finite() && d.ratio > 0.0) {
        return Err(NeymanError::invalid(
            "ratio",
            format!("{} must be positive", d.ratio),
        ));
    }
    if d.treatments == 0 {
        return Err(NeymanError::invalid("arms", "at least two arms are needed"));
    }
    if !(d.margin.is_finite() && d.margin >= 0.0) {
        return Err(NeymanError::invalid(
            "margin",
            format!("{} must be non-negative", d.margin),
        ));
    }
    if d.margin > 0.0 && d.alternative == Alternative::TwoSided {
        return Err(NeymanError::invalid(
            "margin",
            "a non-inferiority margin needs a one-sided alternative ('greater' or 'less')",
        ));
    }
    if !(d.variance_factor.is_finite() && d.variance_factor > 0.0) {
        return Err(NeymanError::invalid(
            "variance_reduction",
            format!("the variance factor {} must be positive", d.variance_factor),
        ));
    }
    if !(d.cluster_size.is_finite() && d.cluster_size >= 1.0) {
        return Err(NeymanError::invalid(
            "cluster_size",
            format!("{} must be at least 1", d.cluster_size),
        ));
    }
    match d.metric {
        Metric::Mean { sd, baseline, .. } => {
            if !(sd.is_finite() && sd > 0.0) {
                return Err(NeymanError::invalid(
                    "sd",
                    format!("{sd} must be positive and finite"),
                ));
            }
            if d.relative && !(baseline.is_finite() && baseline != 0.0) {
                return Err(NeymanError::invalid(
                    "baseline",
                    "relative effects need a finite, non-zero baseline (the control mean)",
                ));
            }
        }
        Metric::Proportion { baseline, .. } => {
            if !(baseline > 0.0 && baseline < 1.0) {
                return Err(NeymanError::invalid(
                    "baseline",
                    format!("{baseline} is not strictly between 0 and 1"),
                ));
            }
        }
    }
    Ok(())
}

fn baseline(d: &Design) -> f64 {
    match d.metric {
        Metric::Mean { baseline, .. } | Metric::Proportion { baseline, .. } => baseline,
    }
}

/// Effect and margin in absolute units.
fn absolute(d: &Design, x: f64) -> f64 {
    if d.relative {
        x * baseline(d)
    } else {
        x
    }
}

/// The null value of the effect (absolute units).
fn null_value(d: &Design) -> f64 {
    let m = absolute(d, d.margin);
    match d.alternative {
        Alternative::Greater => -m,
        Alternative::Less => m,
        Alternative::TwoSided => 0.0,
    }
}

/// Degrees of freedom of the test at `n` control units.
fn degrees_of_freedom(d: &Design, n: f64) -> f64 {
    match d.metric {
        Metric::Mean { t_test: true, .. } => n * (1.0 + d.ratio) / d.cluster_size - 2.0,
        _ => f64::INFINITY,
    }
}

/// Correlation of two treatment-versus-control statistics that share the control arm.
fn shared_control_correlation(d: &Design) -> f64 {
    d.ratio / (1.0 + d.ratio)
}

fn critical(d: &Design, alpha: f64, df: f64) -> Result<f64> {
    critical_value(
        alpha,
        d.treatments,
        shared_control_correlation(d),
        df,
        d.alternative,
        d.correction,
    )
}

/// Power at an absolute effect, `n` control units and critical value `c` with `df` degrees of
/// freedom; also the standard error under the alternative.
fn power_at(d: &Design, effect: f64, n: f64, c: f64, df: f64) -> Result<(f64, f64)> {
    let (nc, nt) = (n, n * d.ratio);
    let inv = 1.0 / nc + 1.0 / nt;
    let f = d.variance_factor;
    let d0 = null_value(d);
    let greater = matches!(d.alternative, Alternative::Greater | Alternative::TwoSided);
    let less = matches!(d.alternative, Alternative::Less | Alternative::TwoSided);
    match d.metric {
        Metric::Mean { sd, t_test, .. } => {
            let se = sd * (f * inv).sqrt();
            let ncp = (effect - d0) / se;
            let mut p = 0.0;
            if t_test {
                if df.is_nan() || df <= 0.0 {
                    return Err(NeymanError::invalid(
                        "n",
                        format!("{n} control units leave {df} degrees of freedom"),
                    ));
                }
                if greater {
                    p += nct_sf(c, df, ncp)?;
                }
                if less {
                    p += nct_cdf(-c, df, ncp)?;
                }
            } else {
                if greater {
                    p += norm_cdf(ncp - c);
                }
                if less {
                    p += norm_cdf(-c - ncp);
                }
            }
            Ok((p.min(1.0), se))
        }
        Metric::Proportion { baseline, variance } => {
            let (pc, pt) = (baseline, baseline + effect);
            if !(pt > 0.0 && pt < 1.0) {
                return Err(NeymanError::invalid(
                    "effect",
                    format!("the treatment proportion {pc} + {effect} = {pt} is not in (0, 1)"),
                ));
            }
            let se1 = (f * (pt * (1.0 - pt) / nt + pc * (1.0 - pc) / nc)).sqrt();
            let (z, ratio_se) = match variance {
                ProportionVariance::Arcsine => {
                    let h = |p: f64| 2.0 * p.sqrt().asin();
                    let h0 = (pc + d0).clamp(0.0, 1.0);
                    ((h(pt) - h(h0)) / (f * inv).sqrt(), 1.0)
                }
                ProportionVariance::Unpooled => ((effect - d0) / se1, 1.0),
                ProportionVariance::Pooled => {
                    let pp = (nt * pt + nc * pc) / (nt + nc);
                    let se0 = (f * pp * (1.0 - pp) * inv).sqrt();
                    ((effect - d0) / se1, se0 / se1)
                }
            };
            let mut p = 0.0;
            if greater {
                p += norm_cdf(z - c * ratio_se);
            }
            if less {
                p += norm_cdf(-c * ratio_se - z);
            }
            Ok((p.min(1.0), se1))
        }
    }
}

/// Power of each comparison at `effect` (relative when the design is), `n` control units and
/// familywise `alpha`.
pub fn power(d: &Design, effect: f64, n: f64, alpha: f64) -> Result<f64> {
    Ok(evaluate(d, effect, n, alpha)?.power)
}

fn evaluate(d: &Design, effect: f64, n: f64, alpha: f64) -> Result<Solved> {
    check_design(d)?;
    check_n(n)?;
    check_effect(effect)?;
    let df = degrees_of_freedom(d, n);
    let c = critical(d, alpha, df)?;
    let (p, se) = power_at(d, absolute(d, effect), n, c, df)?;
    Ok(Solved {
        effect,
        n,
        power: p,
        alpha,
        critical: c,
        df,
        se,
    })
}

fn check_n(n: f64) -> Result<()> {
    if n.is_finite() && n > 0.0 {
        Ok(())
    } else {
        Err(NeymanError::invalid(
            "n",
            format!("{n} must be positive and finite"),
        ))
    }
}

fn check_effect(effect: f64) -> Result<()> {
    if effect.is_finite() {
        Ok(())
    } else {
        Err(NeymanError::invalid(
            "effect",
            format!("{effect} must be finite"),
        ))
    }
}

fn check_unit(arg: &str, x: f64) -> Result<()> {
    if x > 0.0 && x < 1.0 {
        Ok(())
    } else {
        Err(NeymanError::invalid(
            arg,
            format!("{x} is not strictly between 0 and 1"),
        ))
    }
}

/// Solve the power equation for the one quantity given as `None`.
pub fn solve(
    d: &Design,
    effect: Option<f64>,
    n: Option<f64>,
    power: Option<f64>,
    alpha: Option<f64>,
) -> Result<Solved> {
    check_design(d)?;
    let missing = [
        effect.is_none(),
        n.is_none(),
        power.is_none(),
        alpha.is_none(),
    ];
    let unknowns = missing.iter().filter(|m| **m).count();
    if unknowns != 1 {
        return Err(NeymanError::invalid(
            "effect, n, power, alpha",
            format!("exactly one must be None (to be solved for); {unknowns} are"),
        ));
    }
    if let Some(p) = power {
        check_unit("power", p)?;
    }
    if let Some(a) = alpha {
        check_unit("alpha", a)?;
    }
    if let Some(x) = n {
        check_n(x)?;
    }
    if let Some(e) = effect {
        check_effect(e)?;
    }
    match (effect, n, power, alpha) {
        (Some(e), Some(n), None, Some(a)) => evaluate(d, e, n, a),
        (Some(e), Some(n), Some(p), None) => solve_alpha(d, e, n, p),
        (Some(e), None, Some(p), Some(a)) => solve_n(d, e, p, a),
        (None, Some(n), Some(p), Some(a)) => solve_effect(d, n, p, a),
        _ => Err(NeymanError::invalid(
            "effect, n, power, alpha",
            "exactly one must be None",
        )),
    }
}

fn solve_alpha(d: &Design, effect: f64, n: f64, target: f64) -> Result<Solved> {
    let f = |a: f64| Ok(evaluate(d, effect, n, a)?.power - target);
    let (lo, hi) = (1e-10, 1.0 - 1e-10);
    if f(lo)? > 0.0 || f(hi)? < 0.0 {
        return Err(NeymanError::invalid(
            "power",
            format!("{target} is not reached by any alpha in (0, 1) at this effect and n"),
        ));
    }
    let a = brent("alpha", f, lo, hi, 1e-15)?;
    evaluate(d, effect, n, a)
}

/// The effect is on the side the alternative tests (positive for two-sided), away from the null.
fn effect_direction(d: &Design) -> f64 {
    if d.alternative == Alternative::Less {
        -1.0
    } else {
        1.0
    }
}

fn solve_n(d: &Design, effect: f64, target: f64, alpha: f64) -> Result<Solved> {
    let shift = (absolute(d, effect) - null_value(d)) * effect_direction(d);
    if shift == 0.0 {
        return Err(NeymanError::invalid(
            "effect",
            format!(
                "{effect} equals the null value: no sample size gives power above alpha; \
                 give the smallest effect worth detecting"
            ),
        ));
    }
    if shift < 0.0 {
        return Err(NeymanError::invalid(
            "effect",
            format!("{effect} lies on the side of the null the one-sided test cannot detect"),
        ));
    }
    if target <= alpha {
        return Err(NeymanError::invalid(
            "power",
            format!("{target} must exceed alpha = {alpha} (the power of a test with no effect)"),
        ));
    }
    // Smallest n searched: one degree of freedom for t-tests (the t quantiles below it are
    // astronomically large), else a tiny fraction of a unit.
    let lo = match d.metric {
        Metric::Mean { t_test: true, .. } => 3.0 * d.cluster_size / (1.0 + d.ratio),
        _ => 1e-9,
    };
    let f = |n: f64| Ok(evaluate(d, effect, n, alpha)?.power - target);
    if f(lo)? >= 0.0 {
        return Err(NeymanError::invalid(
            "power",
            format!("{target} is exceeded already at {lo} control units (one degree of freedom)"),
        ));
    }
    let mut hi = lo.max(1.0) * 2.0;
    while f(hi)? < 0.0 {
        hi *= 4.0;
        if hi > 1e18 {
            return Err(NeymanError::invalid(
                "power",
                format!("{target} is not reached with fewer than 1e18 units"),
            ));
        }
    }
    let n = brent("n", f, lo, hi, 1e-12)?;
    evaluate(d, effect, n, alpha)
}

fn solve_effect(d: &Design, n: f64, target: f64, alpha: f64) -> Result<Solved> {
    if target <= alpha {
        return Err(NeymanError::invalid(
            "power",
            format!("{target} must exceed alpha = {alpha} (the power of a test with no effect)"),
        ));
    }
    let dir = effect_direction(d);
    let scale = if d.relative { baseline(d) } else { 1.0 };
    let d0 = null_value(d) / scale;
    // Work on the distance u >= 0 from the null, in the units of `effect`.
    let at = |u: f64| d0 + dir * u;
    let f = |u: f64| Ok(evaluate(d, at(u), n, alpha)?.power - target);
    let upper = match d.metric {
        Metric::Proportion { baseline, .. } => {
            // The treatment proportion must stay inside (0, 1).
            let room = if dir > 0.0 { 1.0 - baseline } else { baseline };
            let u_max = (room * (1.0 - 1e-12) + dir * null_value(d)) / scale.abs();
            if u_max.is_nan() || u_max <= 0.0 || f(u_max)? < 0.0 {
                return Err(NeymanError::invalid(
                    "power",
                    format!("{target} is not reached by any effect at n = {n}"),
                ));
            }
            u_max
        }
        Metric::Mean { .. } => {
            let mut hi = evaluate(d, at(0.0), n, alpha)?.se / scale.abs();
            while f(hi)? < 0.0 {
                hi *= 2.0;
                if !hi.is_finite() {
                    return Err(NeymanError::invalid(
                        "power",
                        format!("{target} is not reached by any effect at n = {n}"),
                    ));
                }
            }
            hi
        }
    };
    let u = brent("effect", f, 0.0, upper, 1e-15 * upper)?;
    evaluate(d, at(u), n, alpha)
}

/// Design effect of cluster randomisation with mean cluster size `m`, coefficient of variation
/// `cv` of the sizes and intra-cluster correlation `icc`: `1 + ((cv^2 + 1) m - 1) icc` (Eldridge,
/// Ashby and Kerry 2006, eq. 3).
pub fn design_effect(icc: f64, cluster_size: f64, cv: f64) -> Result<f64> {
    if !(0.0..=1.0).contains(&icc) {
        return Err(NeymanError::invalid(
            "icc",
            format!("{icc} is not in [0, 1]"),
        ));
    }
    if !(cluster_size.is_finite() && cluster_size >= 1.0) {
        return Err(NeymanError::invalid(
            "cluster_size",
            format!("{cluster_size} must be at least 1"),
        ));
    }
    if !(cv.is_finite() && cv >= 0.0) {
        return Err(NeymanError::invalid(
            "cluster_size_cv",
            format!("{cv} must be non-negative"),
        ));
    }
    Ok(1.0 + ((cv * cv + 1.0) * cluster_size - 1.0) * icc)
}

/// What pre-period data say about a metric, for the units seen by one day.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct History {
    /// Units.
    pub n: u64,
    /// Metric value (mean, or ratio of means).
    pub value: f64,
    /// Per-unit variance of the metric (delta method for a ratio; `n - 1` denominators).
    pub variance: f64,
    /// Squared correlation of the (linearised) metric with the covariate: CUPED's variance
    /// reduction (0 without a covariate).
    pub variance_reduction: f64,
}

fn history_of(arg: &str, s: &CoMoments<3>, has_covariate: bool) -> Result<History> {
    if s.n < 2 {
        return Err(NeymanError::TooFewObservations {
            arg: arg.into(),
            n: s.n,
            needed: 2,
        });
    }
    let (mn, md) = (s.mean[0], s.mean[1]);
    if md.is_nan() || md <= 0.0 {
        return Err(NeymanError::invalid(
            arg,
            format!("the mean denominator is {md}; a ratio metric needs a positive denominator"),
        ));
    }
    // Linearisation of num/den: gradient (1/md, -mn/md^2) (Deng, Knoblich and Lu 2018).
    let g = [1.0 / md, -mn / (md * md)];
    let k = 1.0 / (s.n as f64 - 1.0);
    let vmm =
        k * (g[0] * g[0] * s.c[0][0] + 2.0 * g[0] * g[1] * s.c[0][1] + g[1] * g[1] * s.c[1][1]);
    let mut reduction = 0.0;
    if has_covariate {
        let vcc = k * s.c[2][2];
        let vmc = k * (g[0] * s.c[0][2] + g[1] * s.c[1][2]);
        if vcc > 0.0 && vmm > 0.0 {
            reduction = (vmc * vmc / (vmm * vcc)).clamp(0.0, 1.0);
        }
    }
    Ok(History {
        n: s.n,
        value: mn / md,
        variance: vmm.max(0.0),
        variance_reduction: reduction,
    })
}

/// Per-unit variance and CUPED reduction of a metric for the units first seen by each day:
/// `day[i]` in `0..n_days` is row `i`'s first day (one row per unit), `numerator` the metric (the
/// numerator of a ratio metric, whose `denominator` is given), `covariate` the pre-period
/// covariate. The per-day co-moments are merged cumulatively (units accumulate with days). Days
/// with fewer than two units so far are `None`.
pub fn history_by_day(
    numerator: &[f64],
    denominator: Option<&[f64]>,
    covariate: Option<&[f64]>,
    day: &[i32],
    n_days: usize,
) -> Result<Vec<Option<History>>> {
    let len = numerator.len();
    let ones;
    let den = match denominator {
        Some(d) => d,
        None => {
            ones = vec![1.0; len];
            &ones
        }
    };
    let zeros;
    let cov = match covariate {
        Some(c) => c,
        None => {
            zeros = vec![0.0; len];
            &zeros
        }
    };
    for (name, other) in [
        ("denominator", den.len()),
        ("covariate", cov.len()),
        ("date", day.len()),
    ] {
        if other != len {
            return Err(NeymanError::LengthMismatch {
                arg: name.into(),
                other: "metric".into(),
                len: other,
                other_len: len,
            });
        }
    }
    let parts = grouped_comoments_of::<3, i32>(
        &[numerator, den, cov],
        &["metric", "denominator", "covariate"],
        Some(day),
        n_days,
    )?;
    let mut acc = CoMoments::<3>::new();
    let mut out = Vec::with_capacity(n_days);
    for part in parts {
        if part.n_nan > 0 || part.n_inf > 0 {
            return Err(NeymanError::invalid(
                "history",
                "the metric, denominator or covariate has NaN or infinite values",
            ));
        }
        acc.merge(&part.stats);
        out.push(if acc.n >= 2 {
            Some(history_of("history", &acc, covariate.is_some())?)
        } else {
            None
        });
    }
    Ok(out)
}

/// Intra-cluster correlation of `values` by the one-way analysis-of-variance estimator
/// `(MSB - MSW) / (MSB + (m0 - 1) MSW)`, `m0 = (N - sum m_g^2 / N) / (G - 1)` (Donner 1986, eq. 6;
/// Eldridge et al. 2006), truncated at 0; also the mean cluster size and the coefficient of
/// variation of the sizes. `cluster[i]` in `0..n_clusters`.
pub fn icc_anova(values: &[f64], cluster: &[i32], n_clusters: usize) -> Result<(f64, f64, f64)> {
    let parts = grouped_moments_of(values, cluster, n_clusters)?;
    let groups: Vec<_> = parts.iter().filter(|p| p.stats.n > 0).collect();
    let g = groups.len();
    if g < 2 {
        return Err(NeymanError::TooFewObservations {
            arg: "cluster".into(),
            n: g as u64,
            needed: 2,
        });
    }
    if groups.iter().any(|p| p.n_nan > 0 || p.n_inf > 0) {
        return Err(NeymanError::invalid("metric", "has NaN or infinite values"));
    }
    let total: f64 = groups.iter().map(|p| p.stats.n as f64).sum();
    let grand: f64 = groups.iter().map(|p| p.stats.sum()).sum::<f64>() / total;
    let ssw: f64 = groups.iter().map(|p| p.stats.m2).sum();
    let ssb: f64 = groups
        .iter()
        .map(|p| p.stats.n as f64 * (p.stats.mean - grand).powi(2))
        .sum();
    let gf = g as f64;
    if total - gf < 1.0 {
        return Err(NeymanError::invalid(
            "cluster",
            "every cluster has one unit",
        ));
    }
    let msb = ssb / (gf - 1.0);
    let msw = ssw / (total - gf);
    let sum_sq: f64 = groups.iter().map(|p| (p.stats.n as f64).powi(2)).sum();
    let m0 = (total - sum_sq / total) / (gf - 1.0);
    let icc = if msb + (m0 - 1.0) * msw > 0.0 {
        ((msb - msw) / (msb + (m0 - 1.0) * msw)).max(0.0)
    } else {
        0.0
    };
    let mean = total / gf;
    let var_size = groups
        .iter()
        .map(|p| (p.stats.n as f64 - mean).powi(2))
        .sum::<f64>()
        / (gf - 1.0);
    Ok((icc, mean, var_size.sqrt() / mean))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t_design() -> Design {
        Design {
            metric: Metric::Mean {
                sd: 1.0,
                baseline: f64::NAN,
                t_test: true,
            },
            alternative: Alternative::TwoSided,
            ratio: 1.0,
            treatments: 1,
            correction: Correction::None,
            margin: 0.0,
            relative: false,
            variance_factor: 1.0,
            cluster_size: 1.0,
        }
    }

    #[test]
    fn r_power_t_test_examples() {
        // R: power.t.test(n = 20, delta = 1) gives 0.8689528 (upper tail only; the lower tail
        // adds about 1e-7 here); power.t.test(power = .90, delta = 1) gives n = 22.02110.
        let p = power(&t_design(), 1.0, 20.0, 0.05).unwrap();
        assert!((p - 0.868_952_8).abs() < 5e-7, "{p}");
        let s = solve(&t_design(), Some(1.0), None, Some(0.9), Some(0.05)).unwrap();
        assert!((s.n - 22.021_10).abs() < 1e-4, "{}", s.n);
    }

    #[test]
    fn solves_invert() {
        let d = t_design();
        let s = solve(&d, None, Some(100.0), Some(0.8), Some(0.05)).unwrap();
        let p = power(&d, s.effect, 100.0, 0.05).unwrap();
        assert!((p - 0.8).abs() < 1e-10, "{p}");
        let a = solve(&d, Some(0.3), Some(100.0), Some(0.7), None).unwrap();
        assert!((power(&d, 0.3, 100.0, a.alpha).unwrap() - 0.7).abs() < 1e-10);
        assert!(solve(&d, Some(0.0), None, Some(0.8), Some(0.05)).is_err());
        assert!(solve(&d, None, None, Some(0.8), Some(0.05)).is_err());
    }

    #[test]
    fn kish_design_effect() {
        assert!((design_effect(0.05, 21.0, 0.0).unwrap() - 2.0).abs() < 1e-15);
        // cv = 0.5: 1 + (1.25 * 21 - 1) 0.05.
        assert!((design_effect(0.05, 21.0, 0.5).unwrap() - 2.2625).abs() < 1e-15);
    }
}
