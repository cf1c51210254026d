//! Asymptotic confidence sequences (Waudby-Smith, Arnold, Wu, Ramdas and Howard 2023,
//! "Time-uniform central limit theory and asymptotic confidence sequences", Annals of Statistics;
//! arXiv 2103.06476v7), the method GrowthBook uses. With `N` units in all and `s2 = N v` the
//! per-unit variance of the difference (`v` the estimate's variance), the two-sided boundary is
//! (eq. 9 there)
//!
//! ```text
//! estimate +- sqrt(s2) sqrt(2 (N rho^2 + 1) / (N rho)^2 log(sqrt(N rho^2 + 1) / alpha))
//! ```
//!
//! and the p-value `min(1, 1 / e)` with `e = exp(rho^2 N d^2 / v / (2 (N rho^2 + 1))) /
//! sqrt(N rho^2 + 1)` (eq. 155). That is the normal-mixture ratio of
//! [`crate::inference::mixture`] with mixing variance `tau2 = rho^2 s2`, so the one-sided sequences
//! are its half-normal form. `rho` comes from the tuning parameter `eta` (the sample size at which
//! the boundary is tightest), eq. 161: `rho^2 = (-2 log alpha + log(-2 log alpha + 1)) / eta`.

use crate::error::{NeymanError, Result};
use crate::inference::mixture::{look, Path, START};
use crate::inference::options::Alternative;

/// `rho^2` of the tuning parameter `eta` at level `alpha` (eq. 161).
pub fn rho2(tuning: f64, alpha: f64) -> Result<f64> {
    if !(tuning > 0.0 && tuning.is_finite()) {
        return Err(NeymanError::invalid(
            "tuning",
            format!("must be positive and finite, got {tuning}"),
        ));
    }
    if !(alpha > 0.0 && alpha < 1.0) {
        return Err(NeymanError::invalid(
            "alpha",
            format!("must lie in (0, 1), got {alpha}"),
        ));
    }
    let l = -2.0 * alpha.ln();
    Ok((l + (l + 1.0).ln()) / tuning)
}

/// The confidence sequence over looks: `estimates[k]` with variance `variances[k]` from
/// `n_units[k]` units in all (both arms), continuing from `start`.
#[allow(clippy::too_many_arguments)]
pub fn path(
    estimates: &[f64],
    variances: &[f64],
    n_units: &[f64],
    tuning: f64,
    null: f64,
    alpha: f64,
    alternative: Alternative,
    start: Option<(f64, f64, f64)>,
) -> Result<Path> {
    let r2 = rho2(tuning, alpha)?;
    if estimates.len() != variances.len() || estimates.len() != n_units.len() {
        return Err(NeymanError::LengthMismatch {
            arg: "variance".into(),
            other: "effect".into(),
            len: variances.len().min(n_units.len()),
            other_len: estimates.len(),
        });
    }
    let mut out = Path::default();
    for ((&e, &v), &n) in estimates.iter().zip(variances).zip(n_units) {
        if !(n >= 1.0 && n.is_finite()) {
            return Err(NeymanError::invalid(
                "n",
                format!("each look needs at least one unit, got {n}"),
            ));
        }
        let tau2 = r2 * v * n;
        let (ll, lo, hi) = look(e, v, tau2, null, alpha, alternative)?;
        out.push(ll, lo, hi, start.unwrap_or(START));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closed_form_of_eq_9_and_155() {
        // gbstats' formulas written out: N = 2000, variance of the difference 0.004, d = 0.1.
        let (n, v, d, alpha, eta): (f64, f64, f64, f64, f64) = (2000.0, 0.004, 0.1, 0.05, 5000.0);
        let rho2 = ((-2.0 * alpha.ln()) + (-2.0 * alpha.ln() + 1.0).ln()) / eta;
        let s2 = v * n;
        let width = s2.sqrt()
            * (2.0 * (n * rho2 + 1.0) * ((n * rho2 + 1.0).sqrt() / alpha).ln() / (n * n * rho2))
                .sqrt();
        let st2 = d * d * n / v;
        let e = (rho2 * st2 / (2.0 * (n * rho2 + 1.0))).exp() / (n * rho2 + 1.0).sqrt();
        let p = path(
            &[d],
            &[v],
            &[n],
            eta,
            0.0,
            alpha,
            Alternative::TwoSided,
            None,
        )
        .unwrap();
        assert!((p.ci_high[0] - d - width).abs() < 1e-12 * width);
        assert!((p.pvalue[0] - (1.0 / e).min(1.0)).abs() < 1e-12);
    }
}
