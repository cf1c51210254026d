//! The relative effect `r = m_t / m_c - 1` of two estimates, by the delta method or by
//! Fieller's theorem.
//!
//! Delta method (first-order Taylor expansion):
//! `Var(r) = v_t / m_c^2 - 2 m_t c / m_c^3 + m_t^2 v_c / m_c^4`, with `c = Cov(m_t, m_c)` (zero for
//! independent arms). Fieller (1954): the set of `rho` with
//! `(m_t - rho m_c)^2 <= q^2 (v_t - 2 rho c + rho^2 v_c)`, bounded when `m_c^2 > q^2 v_c`, i.e. when
//! the control mean is itself significantly non-zero; otherwise the interval is unbounded.

use crate::inference::distributions::interval;
use crate::inference::options::{Alternative, RelativeCi};

/// Two estimates whose ratio `num / den` is wanted, with their variances and covariance.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Quotient {
    /// The numerator estimate (the treatment value, `m_t`).
    pub num: f64,
    /// The denominator estimate (the control value, `m_c`).
    pub den: f64,
    /// Variance of the numerator.
    pub v_num: f64,
    /// Variance of the denominator.
    pub v_den: f64,
    /// Their covariance (0 for independent arms).
    pub cov: f64,
}

/// Relative effect `m_t / m_c - 1`, its delta-method standard error and its interval.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Relative {
    /// `m_t / m_c - 1`.
    pub effect: f64,
    /// Delta-method standard error.
    pub se: f64,
    /// Lower bound (delta or Fieller).
    pub ci_low: f64,
    /// Upper bound (delta or Fieller).
    pub ci_high: f64,
}

/// Relative effect `num / den - 1` of a [`Quotient`] at critical value `q`. NaN throughout when
/// the control estimate is zero (the ratio is undefined).
pub fn relative(e: &Quotient, q: f64, alternative: Alternative, method: RelativeCi) -> Relative {
    let Quotient {
        num: m_t,
        den: m_c,
        v_num: v_t,
        v_den: v_c,
        cov,
    } = *e;
    if m_c == 0.0 || !m_c.is_finite() {
        return Relative {
            effect: f64::NAN,
            se: f64::NAN,
            ci_low: f64::NAN,
            ci_high: f64::NAN,
        };
    }
    let ratio = m_t / m_c;
    let var =
        v_t / (m_c * m_c) - 2.0 * m_t * cov / (m_c * m_c * m_c) + m_t * m_t * v_c / m_c.powi(4);
    let se = var.max(0.0).sqrt();
    let (lo, hi) = match method {
        RelativeCi::Delta => interval(ratio, se, q, alternative),
        RelativeCi::Fieller => fieller(e, q, alternative),
    };
    Relative {
        effect: ratio - 1.0,
        se,
        ci_low: lo - 1.0,
        ci_high: hi - 1.0,
    }
}

/// Fieller interval for `m_t / m_c` (Fieller 1954; see also Franz 2007, eq. 5-8).
///
/// Roots of `a rho^2 - 2 b rho + c = 0` with `a = m_c^2 - q^2 v_c`, `b = m_t m_c - q^2 cov`,
/// `c = m_t^2 - q^2 v_t`; the discriminant is computed in expanded form. When `a <= 0` the confidence set is unbounded and the whole line is returned.
fn fieller(e: &Quotient, q: f64, alternative: Alternative) -> (f64, f64) {
    let Quotient {
        num: m_t,
        den: m_c,
        v_num: v_t,
        v_den: v_c,
        cov,
    } = *e;
    let q2 = q * q;
    let a = m_c * m_c - q2 * v_c;
    let b = m_t * m_c - q2 * cov;
    // b^2 - a c, expanded so that the m_t^2 m_c^2 terms, which cancel, are never formed: with
    // precise estimates they are far larger than the result.
    let disc = q2 * (m_c * m_c * v_t + m_t * m_t * v_c - 2.0 * m_t * m_c * cov)
        + q2 * q2 * (cov * cov - v_c * v_t);
    if a <= 0.0 || disc < 0.0 {
        return (f64::NEG_INFINITY, f64::INFINITY);
    }
    let root = disc.sqrt();
    let (lo, hi) = ((b - root) / a, (b + root) / a);
    match alternative {
        Alternative::TwoSided => (lo, hi),
        Alternative::Greater => (lo, f64::INFINITY),
        Alternative::Less => (f64::NEG_INFINITY, hi),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fieller_brackets_delta_for_precise_control() {
        let r = relative(
            &Quotient {
                num: 11.0,
                den: 10.0,
                v_num: 0.04,
                v_den: 0.04,
                cov: 0.0,
            },
            1.96,
            Alternative::TwoSided,
            RelativeCi::Fieller,
        );
        let d = relative(
            &Quotient {
                num: 11.0,
                den: 10.0,
                v_num: 0.04,
                v_den: 0.04,
                cov: 0.0,
            },
            1.96,
            Alternative::TwoSided,
            RelativeCi::Delta,
        );
        assert!((r.effect - 0.1).abs() < 1e-12);
        assert!((r.ci_low - d.ci_low).abs() < 5e-3 && (r.ci_high - d.ci_high).abs() < 5e-3);
    }

    #[test]
    fn fieller_is_stable_for_large_means() {
        // Means near 1e9 with unit variances: the naive discriminant b^2 - ac cancels to noise.
        let (mt, mc, vt, vc) = (1e9 + 0.3, 1e9, 0.004, 0.005);
        let f = relative(
            &Quotient {
                num: mt,
                den: mc,
                v_num: vt,
                v_den: vc,
                cov: 0.0,
            },
            1.96,
            Alternative::TwoSided,
            RelativeCi::Fieller,
        );
        let d = relative(
            &Quotient {
                num: mt,
                den: mc,
                v_num: vt,
                v_den: vc,
                cov: 0.0,
            },
            1.96,
            Alternative::TwoSided,
            RelativeCi::Delta,
        );
        assert!(f.ci_low.is_finite() && f.ci_high.is_finite());
        assert!((f.ci_low - d.ci_low).abs() < 1e-15 && (f.ci_high - d.ci_high).abs() < 1e-15);
    }

    #[test]
    fn fieller_unbounded_when_control_not_significant() {
        let r = relative(
            &Quotient {
                num: 1.0,
                den: 0.1,
                v_num: 1.0,
                v_den: 1.0,
                cov: 0.0,
            },
            1.96,
            Alternative::TwoSided,
            RelativeCi::Fieller,
        );
        assert!(r.ci_low.is_infinite() && r.ci_high.is_infinite());
    }
}
