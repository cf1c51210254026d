//! What comparisons of two independent means share: the checks on each arm, the
//! Welch-Satterthwaite degrees of freedom, and the difference of means with unpooled variances
//! (Welch's t-test and the z-test; the unadjusted comparison beside a regression adjustment).
//!
//! Welch (1947): `se^2 = s_t^2/n_t + s_c^2/n_c`,
//! `df = se^4 / ((s_t^2/n_t)^2/(n_t-1) + (s_c^2/n_c)^2/(n_c-1))`.

use crate::error::{NeymanError, Result};
use crate::inference::compare::{compare, unit_scale, Arm, Comparison, Contrast};
use crate::inference::distributions::Reference;
use crate::inference::options::Options;
use crate::stats::Moments;

/// At least two observations per arm, and not both arms constant.
pub fn check_arms(control: &Moments, treatment: &Moments) -> Result<()> {
    for (arg, m) in [("control", control), ("treatment", treatment)] {
        if m.n < 2 {
            return Err(NeymanError::TooFewObservations {
                arg: arg.into(),
                n: m.n,
                needed: 2,
            });
        }
    }
    if control.m2 == 0.0 && treatment.m2 == 0.0 {
        return Err(NeymanError::ZeroVariance {
            arg: "control, treatment".into(),
            msg: "both arms are constant, so the standard error is zero and no test is defined"
                .into(),
        });
    }
    Ok(())
}

/// Welch-Satterthwaite degrees of freedom of `v_c + v_t`, the variances of two independent
/// estimates from `n_c` and `n_t` units. Variances far from 1 are first rescaled by a power of two
/// (exact; the result is scale-free), so `se^4` neither overflows nor underflows.
pub fn welch_df(v_c: f64, n_c: f64, v_t: f64, n_t: f64) -> f64 {
    let k = unit_scale(v_c.abs().max(v_t.abs()));
    let (v_c, v_t) = (v_c * k, v_t * k);
    let var = v_c + v_t;
    var * var / (v_c * v_c / (n_c - 1.0) + v_t * v_t / (n_t - 1.0))
}

/// The difference of two independent means with unpooled variances `s^2 / n`: against Student's
/// t with Welch-Satterthwaite degrees of freedom (`welch`), else against the standard normal.
pub fn unpooled_difference(
    control: &Moments,
    treatment: &Moments,
    welch: bool,
    opts: &Options,
) -> Result<Comparison> {
    check_arms(control, treatment)?;
    let (nc, nt) = (control.n as f64, treatment.n as f64);
    let vc = control.variance() / nc;
    let vt = treatment.variance() / nt;
    let reference = if welch {
        Reference::T(welch_df(vc, nc, vt, nt))
    } else {
        Reference::Normal
    };
    let c = Arm {
        value: control.mean,
        var: vc,
        n: control.n,
    };
    let t = Arm {
        value: treatment.mean,
        var: vt,
        n: treatment.n,
    };
    compare(
        &Contrast::independent(c, t, (vc + vt).sqrt(), reference),
        opts,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn welch_df_is_scale_free() {
        let df = welch_df(0.5, 5.0, 2.0, 5.0);
        assert!((df - 5.882_352_941_176_47).abs() < 1e-9);
        // Exactly at powers of two; to rounding at other scales.
        for s in [
            2f64.powi(600),
            2f64.powi(-600),
            2f64.powi(1000),
            2f64.powi(-1000),
        ] {
            assert_eq!(welch_df(0.5 * s, 5.0, 2.0 * s, 5.0), df, "scale {s}");
        }
        for s in [1e160, 1e-160, 1e300, 1e-300] {
            assert!((welch_df(0.5 * s, 5.0, 2.0 * s, 5.0) - df).abs() < 1e-12 * df);
        }
    }
}
