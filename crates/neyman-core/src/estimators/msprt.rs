//! The mixture sequential probability ratio test (mSPRT) with a normal mixture (Johari, Koomen,
//! Pekelis and Walsh 2022, "Always valid inference: continuous monitoring of A/B tests",
//! Operations Research 70(3)): at each look, the normal-mixture likelihood ratio of the current
//! estimate and its variance ([`crate::inference::mixture`]); the always-valid p-value is the
//! running minimum of `1 / Lambda`, the always-valid interval the running intersection of the
//! looks' intervals `{theta0 : Lambda < 1 / alpha}`. Both hold their level whenever the analyst
//! looks, and however often (for Gaussian estimates; asymptotically for means).
//!
//! The mixing variance `tau2` must be fixed before the data are seen. [`horizon_mixing_variance`]
//! gives the rule the package documents: the `tau2` that makes the interval at a planned horizon
//! (the estimate's variance `v_h` then) as narrow as possible.

use crate::error::{NeymanError, Result};
use crate::inference::mixture::{look, pvalue, Path, START};
use crate::inference::options::Alternative;
use crate::inference::roots::brent;
use rayon::prelude::*;

/// Options of a path of looks.
#[derive(Clone, Copy, Debug)]
pub struct MsprtOptions {
    /// The mixing variance `tau2` (> 0).
    pub tau2: f64,
    /// The effect under the null hypothesis.
    pub null: f64,
    /// The level: the p-value is compared with it and the interval has coverage `1 - alpha`.
    pub alpha: f64,
    /// Direction of the alternative.
    pub alternative: Alternative,
}

fn check(opts: &MsprtOptions) -> Result<()> {
    if !(opts.tau2 > 0.0 && opts.tau2.is_finite()) {
        return Err(NeymanError::invalid(
            "mixing_variance",
            format!("must be positive and finite, got {}", opts.tau2),
        ));
    }
    if !(opts.alpha > 0.0 && opts.alpha < 1.0) {
        return Err(NeymanError::invalid(
            "alpha",
            format!("must lie in (0, 1), got {}", opts.alpha),
        ));
    }
    if !opts.null.is_finite() {
        return Err(NeymanError::invalid("null", "must be finite"));
    }
    Ok(())
}

/// The always-valid path of one sequence of looks (`estimates[k]`, `variances[k]`), continuing
/// from `start` (the state after earlier looks, or `None`).
pub fn path(
    estimates: &[f64],
    variances: &[f64],
    opts: &MsprtOptions,
    start: Option<(f64, f64, f64)>,
) -> Result<Path> {
    check(opts)?;
    if estimates.len() != variances.len() {
        return Err(NeymanError::LengthMismatch {
            arg: "variance".into(),
            other: "effect".into(),
            len: variances.len(),
            other_len: estimates.len(),
        });
    }
    let mut out = Path::default();
    for (&e, &v) in estimates.iter().zip(variances) {
        let (ll, lo, hi) = look(e, v, opts.tau2, opts.null, opts.alpha, opts.alternative)?;
        out.push(ll, lo, hi, start.unwrap_or(START));
    }
    Ok(out)
}

/// Paths of many sequences at once: `estimates` and `variances` hold `n_series` rows of
/// `n_looks` looks (row-major); each row has its own mixing variance (`tau2[row]`). Rows are
/// processed in parallel chunks written in place; each row's numbers depend on that row alone,
/// so not on the threads.
pub fn paths(
    estimates: &[f64],
    variances: &[f64],
    tau2: &[f64],
    n_looks: usize,
    opts: &MsprtOptions,
) -> Result<Path> {
    let n_series = tau2.len();
    let len = n_series * n_looks;
    if estimates.len() != len || variances.len() != len {
        return Err(NeymanError::invalid(
            "effect",
            format!("must hold {n_series} x {n_looks} values, one per series and look"),
        ));
    }
    check(&MsprtOptions { tau2: 1.0, ..*opts })?;
    let mut out = Path {
        log_lambda: vec![0.0; len],
        pvalue: vec![0.0; len],
        ci_low: vec![0.0; len],
        ci_high: vec![0.0; len],
    };
    if len == 0 {
        return Ok(out);
    }
    // Rows per task: about 16k looks.
    let rows = (16_384 / n_looks.max(1)).max(1);
    let chunk = rows * n_looks;
    let pool = crate::parallel::pool()?;
    let two_sided = opts.alternative == Alternative::TwoSided;
    let two_log = -2.0 * opts.alpha.ln();
    pool.install(|| {
        out.log_lambda
            .par_chunks_mut(chunk)
            .zip(out.pvalue.par_chunks_mut(chunk))
            .zip(out.ci_low.par_chunks_mut(chunk))
            .zip(out.ci_high.par_chunks_mut(chunk))
            .enumerate()
            .try_for_each(|(c, (((ll, p), lo), hi))| -> Result<()> {
                let first = c * rows;
                for (r, row) in (first..).zip(0..ll.len() / n_looks) {
                    let o = MsprtOptions {
                        tau2: tau2[r],
                        ..*opts
                    };
                    check(&o)?;
                    let (mut pmin, mut lmax, mut hmin) = START;
                    for k in 0..n_looks {
                        let i = r * n_looks + k;
                        let j = row * n_looks + k;
                        let (l, a, b) = if two_sided {
                            two_sided_look(estimates[i] - o.null, variances[i], o.tau2, two_log)
                                .map(|(l, h)| (l, estimates[i] - h, estimates[i] + h))
                                .ok_or_else(|| bad_look(estimates[i], variances[i]))?
                        } else {
                            look(
                                estimates[i],
                                variances[i],
                                o.tau2,
                                o.null,
                                o.alpha,
                                o.alternative,
                            )?
                        };
                        pmin = pmin.min(pvalue(l));
                        lmax = lmax.max(a);
                        hmin = hmin.min(b);
                        ll[j] = l;
                        p[j] = pmin;
                        lo[j] = lmax;
                        hi[j] = hmin;
                    }
                }
                Ok(())
            })
    })?;
    Ok(out)
}

/// `log Lambda` and the half-width of a two-sided look, `c = 2 log(1 / alpha)` computed once
/// (the formulas of [`crate::inference::mixture`]); `None` for a variance that is not positive
/// and finite or a non-finite estimate.
#[inline]
fn two_sided_look(d: f64, v: f64, tau2: f64, c: f64) -> Option<(f64, f64)> {
    if !(v > 0.0 && v.is_finite() && d.is_finite()) {
        return None;
    }
    let s = v + tau2;
    let log_sv = (s / v).ln();
    let ll = -0.5 * log_sv + tau2 * d * d / (2.0 * v * s);
    Some((ll, (v * s / tau2 * (c + log_sv)).sqrt()))
}

fn bad_look(estimate: f64, variance: f64) -> NeymanError {
    NeymanError::invalid(
        "variance",
        format!(
            "each look needs a finite estimate and a positive variance, got {estimate} and {variance}"
        ),
    )
}

/// The mixing variance that makes the two-sided interval at the planned horizon, where the
/// estimate's variance is `v_h`, as narrow as possible: the minimiser over `tau2 = v_h r` of
/// `(1 + r) / r (2 log(1 / alpha) + log(1 + r))` (the squared half-width over `v_h`), whose
/// derivative in `r` vanishes where `log(1 + r) + 2 log(1 / alpha) = r` (Brent's method).
pub fn horizon_mixing_variance(v_h: f64, alpha: f64) -> Result<f64> {
    if !(v_h > 0.0 && v_h.is_finite()) {
        return Err(NeymanError::invalid(
            "planned_n",
            "the variance of the estimate at the planned horizon must be positive and finite",
        ));
    }
    if !(alpha > 0.0 && alpha < 1.0) {
        return Err(NeymanError::invalid(
            "alpha",
            format!("must lie in (0, 1), got {alpha}"),
        ));
    }
    let c = -2.0 * alpha.ln();
    // g(r) = r - log(1 + r) - c: g(0) = -c < 0 and g(c + 1 + log(...)) > 0 for r large.
    let g = |r: f64| Ok(r - (1.0 + r).ln() - c);
    let mut hi = c + 1.0;
    while g(hi)? <= 0.0 {
        hi *= 2.0;
    }
    let r = brent("alpha", g, 0.0, hi, 1e-14)?;
    Ok(v_h * r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inference::mixture::{half_width, log_ratio};

    fn opts(alternative: Alternative) -> MsprtOptions {
        MsprtOptions {
            tau2: 0.5,
            null: 0.0,
            alpha: 0.05,
            alternative,
        }
    }

    #[test]
    fn interval_ends_are_where_the_ratio_reaches_one_over_alpha() {
        for alt in [
            Alternative::TwoSided,
            Alternative::Greater,
            Alternative::Less,
        ] {
            let o = opts(alt);
            let (_, lo, hi) = look(0.3, 0.02, o.tau2, 0.0, 0.05, alt)
                .map_err(|e| e.to_string())
                .unwrap();
            for end in [lo, hi].into_iter().filter(|v| v.is_finite()) {
                let ll = log_ratio(0.3 - end, 0.02, o.tau2, alt);
                assert!((ll - (1.0f64 / 0.05).ln()).abs() < 1e-9, "{alt:?} {ll}");
            }
        }
    }

    #[test]
    fn running_minimum_and_intersection() {
        let o = opts(Alternative::TwoSided);
        let p = path(&[0.5, 0.0, 0.1], &[0.04, 0.02, 0.01], &o, None).unwrap();
        assert!(p.pvalue.windows(2).all(|w| w[1] <= w[0]));
        assert!(p.ci_low.windows(2).all(|w| w[1] >= w[0]));
        assert!(p.ci_high.windows(2).all(|w| w[1] <= w[0]));
        let rows = paths(
            &[0.5, 0.0, 0.1, 0.5, 0.0, 0.1],
            &[0.04, 0.02, 0.01, 0.04, 0.02, 0.01],
            &[0.5, 0.5],
            3,
            &o,
        )
        .unwrap();
        assert_eq!(rows.pvalue[..3], p.pvalue[..]);
        assert_eq!(rows.pvalue[3..], p.pvalue[..]);
    }

    #[test]
    fn horizon_rule_minimises_the_width() {
        let tau2 = horizon_mixing_variance(0.01, 0.05).unwrap();
        let w = |t: f64| half_width(0.01, t, 0.05, Alternative::TwoSided).unwrap();
        assert!(w(tau2) <= w(tau2 * 1.01) && w(tau2) <= w(tau2 * 0.99));
    }
}
