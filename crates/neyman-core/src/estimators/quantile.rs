//! Difference (and relative difference) of a quantile between two arms with an analytic interval
//! that needs no resampling: the order-statistic ("outer") confidence interval of each arm's
//! quantile turned into a standard error, as in Deng, Knoblich and Lu (2018), "Applying the delta
//! method in metric analytics: a practical guide with novel ideas", KDD, sec. 4.3.
//!
//! With `n` values of an arm, the number of them below its `q`-quantile is about
//! `Binomial(n, q)`, so the order statistics of ranks `L = floor(n q - z sqrt(n q (1 - q)))` and
//! `U = ceil(n q + z sqrt(n q (1 - q)))` (1-based) bracket the quantile with probability about
//! `1 - alpha` (`z = Phi^-1(1 - alpha / 2)`), whatever the distribution. The standard error of the
//! quantile is then `(x_(U) - x_(L)) / (2 z)` (the width of that interval over `2 z`), computed at
//! `z = Phi^-1(0.975)` and used at any level. The arms are independent, so the difference has
//! variance `se_t^2 + se_c^2`, and the relative difference `(Q_t - Q_c) / Q_c` the delta-method
//! variance `se_t^2 / Q_c^2 + Q_t^2 se_c^2 / Q_c^4`. The point estimate is numpy's default
//! quantile (linear interpolation between the order statistics of ranks `floor(h)` and
//! `floor(h) + 1`, `h = (n - 1) q`, 0-based).
//!
//! The order statistics are found by selection (`select_nth_unstable`, expected `O(n)`) on a copy
//! of the arm's finite values, ranks in increasing order so each selection works on what is left
//! to the right of the previous one.

use crate::error::{NeymanError, Result};
use crate::inference::distributions::{norm_cdf, norm_ppf};
use crate::inference::options::Alternative;

/// `z` of the order-statistic interval that defines the standard error.
const Z_SE: f64 = 1.959_963_984_540_054;

/// One arm's quantile and its standard error.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ArmQuantile {
    /// The quantile (numpy's linear interpolation).
    pub estimate: f64,
    /// `(x_(U) - x_(L)) / (2 z)`.
    pub se: f64,
    /// Finite values used.
    pub n: u64,
    /// The order statistics bracketing the quantile, ranks `L` and `U`.
    pub lower: f64,
    /// See `lower`.
    pub upper: f64,
}

/// The ranks (0-based) `L - 1` and `U - 1` of the outer interval for `n` values, or `None` when
/// `n` is too small for them to exist at this `q`.
pub fn outer_ranks(n: usize, q: f64) -> Option<(usize, usize)> {
    let nf = n as f64;
    let half = Z_SE * (nf * q * (1.0 - q)).sqrt();
    let lo = (nf * q - half).floor();
    let hi = (nf * q + half).ceil();
    if lo < 1.0 || hi > nf {
        return None;
    }
    Some((lo as usize - 1, hi as usize - 1))
}

/// The smallest number of values for which the outer interval exists at `q`.
pub fn min_n(q: f64) -> usize {
    (2..100_000_000)
        .find(|&n| outer_ranks(n, q).is_some())
        .unwrap_or(usize::MAX)
}

/// The quantile of one arm's values `v` (finite, owned: selection reorders them), `q` in (0, 1);
/// `None` when there are too few values for the order-statistic interval (see [`min_n`]).
pub fn arm_quantile(mut v: Vec<f64>, q: f64) -> Result<Option<ArmQuantile>> {
    if !(q > 0.0 && q < 1.0) {
        return Err(NeymanError::invalid(
            "q",
            format!("must lie in (0, 1), got {q}"),
        ));
    }
    let n = v.len();
    let Some((l, u)) = outer_ranks(n, q) else {
        return Ok(None);
    };
    let h = (n as f64 - 1.0) * q;
    let k = h.floor() as usize;
    let frac = h - k as f64;
    // Ranks in increasing order; each selection partitions the rest to its right.
    let mut ranks = vec![l, k, (k + 1).min(n - 1), u];
    ranks.sort_unstable();
    ranks.dedup();
    let mut at = [f64::NAN; 4];
    let mut start = 0;
    for (slot, &r) in ranks.iter().enumerate() {
        let (_, nth, _) = v[start..].select_nth_unstable_by(r - start, f64::total_cmp);
        at[slot] = *nth;
        start = r;
    }
    let get = |r: usize| {
        ranks
            .iter()
            .position(|&x| x == r)
            .map_or(f64::NAN, |i| at[i])
    };
    let (a, b) = (get(k), get((k + 1).min(n - 1)));
    let estimate = if frac == 0.0 { a } else { a + frac * (b - a) };
    let (lower, upper) = (get(l), get(u));
    Ok(Some(ArmQuantile {
        estimate,
        se: (upper - lower) / (2.0 * Z_SE),
        n: n as u64,
        lower,
        upper,
    }))
}

/// One arm: its quantile (`None`: too few finite values) and its NaN and infinite values.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ArmOutcome {
    /// The quantile of the finite values.
    pub quantile: Option<ArmQuantile>,
    /// Finite values.
    pub n: u64,
    /// NaN values.
    pub n_nan: u64,
    /// Infinite values.
    pub n_inf: u64,
}

fn finite_of<'a>(values: impl Iterator<Item = &'a f64>) -> (Vec<f64>, u64, u64) {
    let (mut v, mut nan, mut inf) = (Vec::new(), 0, 0);
    for &x in values {
        if x.is_finite() {
            v.push(x);
        } else if x.is_nan() {
            nan += 1;
        } else {
            inf += 1;
        }
    }
    (v, nan, inf)
}

fn outcomes(parts: Vec<(Vec<f64>, u64, u64)>, q: f64) -> Result<Vec<ArmOutcome>> {
    use rayon::prelude::*;
    let pool = crate::parallel::pool()?;
    pool.install(|| {
        parts
            .into_par_iter()
            .map(|(v, n_nan, n_inf)| {
                let n = v.len() as u64;
                Ok(ArmOutcome {
                    quantile: arm_quantile(v, q)?,
                    n,
                    n_nan,
                    n_inf,
                })
            })
            .collect()
    })
}

/// The quantile of each array (one per arm), the arms in parallel; the caller's data is copied
/// (its finite values), never reordered.
pub fn quantiles_of_arrays(arms: &[&[f64]], q: f64) -> Result<Vec<ArmOutcome>> {
    outcomes(arms.iter().map(|a| finite_of(a.iter())).collect(), q)
}

/// The quantile of each arm of `values` (arm codes `codes`, `0..k`; negative: in no arm): one
/// pass splits the values by arm, then the arms' selections run in parallel.
pub fn quantiles_by_code(
    values: &[f64],
    codes: &[i32],
    k: usize,
    q: f64,
) -> Result<Vec<ArmOutcome>> {
    if codes.len() != values.len() {
        return Err(NeymanError::LengthMismatch {
            arg: "codes".into(),
            other: "values".into(),
            len: codes.len(),
            other_len: values.len(),
        });
    }
    let mut parts: Vec<(Vec<f64>, u64, u64)> = vec![(Vec::new(), 0, 0); k];
    for (&x, &c) in values.iter().zip(codes) {
        if c < 0 || c as usize >= k {
            continue;
        }
        let p = &mut parts[c as usize];
        if x.is_finite() {
            p.0.push(x);
        } else if x.is_nan() {
            p.1 += 1;
        } else {
            p.2 += 1;
        }
    }
    outcomes(parts, q)
}

/// The comparison of two arms' quantiles.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct QuantileComparison {
    /// `Q_t - Q_c`.
    pub effect: f64,
    /// Its standard error.
    pub se: f64,
    /// Interval on the difference.
    pub ci_low: f64,
    /// See `ci_low`.
    pub ci_high: f64,
    /// `effect / se`.
    pub statistic: f64,
    /// Normal p-value.
    pub pvalue: f64,
    /// `(Q_t - Q_c) / Q_c`.
    pub rel_effect: f64,
    /// Delta-method standard error of `rel_effect`.
    pub rel_se: f64,
    /// Interval on the relative difference.
    pub rel_ci_low: f64,
    /// See `rel_ci_low`.
    pub rel_ci_high: f64,
}

/// Compare two arms' quantiles at `confidence_level`, normal reference.
pub fn quantile_test(
    c: &ArmQuantile,
    t: &ArmQuantile,
    alternative: Alternative,
    confidence_level: f64,
) -> Result<QuantileComparison> {
    crate::inference::check_confidence_level(confidence_level)?;
    let effect = t.estimate - c.estimate;
    let se = (t.se * t.se + c.se * c.se).sqrt();
    let rel_effect = effect / c.estimate;
    let rel_se = (t.se * t.se / c.estimate.powi(2)
        + t.estimate.powi(2) * c.se * c.se / c.estimate.powi(4))
    .sqrt();
    let two = alternative == Alternative::TwoSided;
    let zq = norm_ppf(if two {
        0.5 + confidence_level / 2.0
    } else {
        confidence_level
    })?;
    let bounds = |e: f64, s: f64| match alternative {
        Alternative::TwoSided => (e - zq * s, e + zq * s),
        Alternative::Greater => (e - zq * s, f64::INFINITY),
        Alternative::Less => (f64::NEG_INFINITY, e + zq * s),
    };
    let statistic = if se > 0.0 { effect / se } else { f64::NAN };
    let pvalue = match alternative {
        Alternative::TwoSided => 2.0 * norm_cdf(-statistic.abs()),
        Alternative::Greater => norm_cdf(-statistic),
        Alternative::Less => norm_cdf(statistic),
    };
    let (ci_low, ci_high) = bounds(effect, se);
    let (rel_ci_low, rel_ci_high) = if c.estimate != 0.0 {
        bounds(rel_effect, rel_se)
    } else {
        (f64::NAN, f64::NAN)
    };
    Ok(QuantileComparison {
        effect,
        se,
        ci_low,
        ci_high,
        statistic,
        pvalue,
        rel_effect: if c.estimate != 0.0 {
            rel_effect
        } else {
            f64::NAN
        },
        rel_se: if c.estimate != 0.0 { rel_se } else { f64::NAN },
        rel_ci_low,
        rel_ci_high,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numpy_quantile_and_outer_ranks() {
        let x: Vec<f64> = (0..101).rev().map(f64::from).collect();
        let one = |x: &[f64], q: f64| arm_quantile(x.to_vec(), q).unwrap();
        let a = one(&x, 0.5).unwrap();
        assert_eq!(a.estimate, 50.0);
        let a = one(&x, 0.255).unwrap();
        assert!((a.estimate - 25.5).abs() < 1e-12);
        // n q = 50.5, z sqrt(n q (1 - q)) = 9.8489...: ranks 40 and 61 (1-based), values 39, 60.
        let a = one(&x, 0.5).unwrap();
        assert_eq!((a.lower, a.upper), (39.0, 60.0));
        assert!(one(&x[..10], 0.99).is_none());
    }
}
