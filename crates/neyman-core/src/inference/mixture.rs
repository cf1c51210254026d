//! The normal-mixture likelihood ratio of a Gaussian estimate, the boundary shared by the mSPRT
//! (Johari, Koomen, Pekelis and Walsh 2022) and the asymptotic confidence sequences of
//! Waudby-Smith, Arnold, Wu, Ramdas and Howard (2023), which is the same ratio with a mixing
//! variance proportional to the per-unit variance.
//!
//! An estimate `d` of `theta - theta0` with variance `v`, mixed over `theta ~ N(theta0, tau2)`:
//!
//! ```text
//! Lambda = sqrt(v / (v + tau2)) exp(tau2 d^2 / (2 v (v + tau2)))            (two-sided)
//! ```
//!
//! (Johari et al. 2022, eq. 11). Mixed over the half-normal `theta - theta0 > 0` (density twice
//! the normal's there), the one-sided ratio is
//!
//! ```text
//! Lambda+ = 2 sqrt(v / (v + tau2)) exp(tau2 d^2 / (2 v (v + tau2))) Phi(d tau / sqrt(v (v + tau2)))
//! ```
//!
//! (the Gaussian integral completed in `theta`), and `Lambda-` is `Lambda+` at `-d`. `1 / Lambda`
//! is an always-valid p-value once its running minimum is taken (Ville's inequality).

use crate::error::Result;
use crate::inference::distributions::norm_cdf;
use crate::inference::options::Alternative;
use crate::inference::roots::brent;

/// `log Lambda` of the estimate `d = estimate - null` with variance `v` and mixing variance `tau2`.
pub fn log_ratio(d: f64, v: f64, tau2: f64, alternative: Alternative) -> f64 {
    let s = v + tau2;
    let base = 0.5 * (v / s).ln() + tau2 * d * d / (2.0 * v * s);
    let z = tau2.sqrt() / (v * s).sqrt();
    match alternative {
        Alternative::TwoSided => base,
        Alternative::Greater => base + (2.0 * norm_cdf(d * z)).ln(),
        Alternative::Less => base + (2.0 * norm_cdf(-d * z)).ln(),
    }
}

/// Half-width `h` of the set `{theta0 : Lambda(estimate - theta0) < 1 / alpha}`: two-sided
/// `sqrt(v (v + tau2) / tau2 (2 log(1 / alpha) + log((v + tau2) / v)))` (Johari et al. 2022,
/// eq. 13); one-sided, the distance `h` with `log Lambda+(h) = log(1 / alpha)` (Brent's method:
/// `log Lambda+` increases in `d`), so the bound is `estimate - h` ('greater') or `estimate + h`
/// ('less').
pub fn half_width(v: f64, tau2: f64, alpha: f64, alternative: Alternative) -> Result<f64> {
    let target = -alpha.ln();
    let two = (v * (v + tau2) / tau2 * (2.0 * target + ((v + tau2) / v).ln())).sqrt();
    if alternative == Alternative::TwoSided {
        return Ok(two);
    }
    // log Lambda+(d) - target increases in d and is negative at d = 0 (log Lambda+(0) =
    // log sqrt(v / (v + tau2)) < 0 < target): widen [0, hi] until it changes sign.
    let f = |d: f64| Ok(log_ratio(d, v, tau2, Alternative::Greater) - target);
    let mut hi = two.max(f64::MIN_POSITIVE);
    for _ in 0..200 {
        if f(hi)? >= 0.0 {
            break;
        }
        hi *= 2.0;
    }
    brent("alpha", f, 0.0, hi, 1e-14 * two.max(1e-300))
}

/// The always-valid p-value of one look before the running minimum: `min(1, 1 / Lambda)`.
pub fn pvalue(log_lambda: f64) -> f64 {
    (-log_lambda).exp().min(1.0)
}

/// The always-valid state of a sequence of looks, one entry per look: the running minimum of the
/// p-values and the running intersection of the intervals, which keep their guarantees at every
/// look (the intersection is empty only on the event of probability at most `alpha` that the
/// sequence misses the truth; it is then reported as it is, `ci_low > ci_high`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Path {
    /// `log Lambda` of each look (not cumulated).
    pub log_lambda: Vec<f64>,
    /// Running minimum of `min(1, 1 / Lambda)`.
    pub pvalue: Vec<f64>,
    /// Running maximum of the looks' lower bounds (`-inf` for 'less').
    pub ci_low: Vec<f64>,
    /// Running minimum of the looks' upper bounds (`+inf` for 'greater').
    pub ci_high: Vec<f64>,
}

impl Path {
    /// Adds a look's `log Lambda` and interval, continuing the running minimum and intersection
    /// (from `start`, the state after earlier looks, for the first look of this path).
    pub fn push(&mut self, ll: f64, lo: f64, hi: f64, start: (f64, f64, f64)) {
        let (p0, lo0, hi0) = match self.pvalue.len() {
            0 => start,
            k => (self.pvalue[k - 1], self.ci_low[k - 1], self.ci_high[k - 1]),
        };
        self.log_lambda.push(ll);
        self.pvalue.push(p0.min(pvalue(ll)));
        self.ci_low.push(lo0.max(lo));
        self.ci_high.push(hi0.min(hi));
    }

    /// Appends the looks of `other` (another series), as they are.
    pub fn extend(&mut self, other: Path) {
        self.log_lambda.extend(other.log_lambda);
        self.pvalue.extend(other.pvalue);
        self.ci_low.extend(other.ci_low);
        self.ci_high.extend(other.ci_high);
    }
}

/// The state before any look: p-value 1 and the whole line.
pub const START: (f64, f64, f64) = (1.0, f64::NEG_INFINITY, f64::INFINITY);

/// `log Lambda` and the interval of one look of an estimate with variance `v` and mixing
/// variance `tau2` (`arg` names the variance in errors).
pub fn look(
    estimate: f64,
    v: f64,
    tau2: f64,
    null: f64,
    alpha: f64,
    alternative: Alternative,
) -> Result<(f64, f64, f64)> {
    if !(v > 0.0 && v.is_finite() && estimate.is_finite()) {
        return Err(crate::error::NeymanError::invalid(
            "variance",
            format!(
                "each look needs a finite estimate and a positive variance, got {estimate} and {v}"
            ),
        ));
    }
    if alternative == Alternative::TwoSided {
        // Both from one logarithm: log((v + tau2) / v) (eq. 11 and 13).
        let d = estimate - null;
        let s = v + tau2;
        let log_ratio_sv = (s / v).ln();
        let ll = -0.5 * log_ratio_sv + tau2 * d * d / (2.0 * v * s);
        let h = (v * s / tau2 * (-2.0 * alpha.ln() + log_ratio_sv)).sqrt();
        return Ok((ll, estimate - h, estimate + h));
    }
    let ll = log_ratio(estimate - null, v, tau2, alternative);
    let h = half_width(v, tau2, alpha, alternative)?;
    Ok(match alternative {
        Alternative::TwoSided => (ll, estimate - h, estimate + h),
        Alternative::Greater => (ll, estimate - h, f64::INFINITY),
        Alternative::Less => (ll, f64::NEG_INFINITY, estimate + h),
    })
}
