//! Ratio metrics (sum of numerator / sum of denominator per arm, randomised by unit) by the delta
//! method (Deng, Knoblich and Lu 2018, eq. 2):
//! `Var(X/Y) ~ (1/n) [s_x^2/m_y^2 - 2 m_x s_xy/m_y^3 + m_x^2 s_y^2/m_y^4]`,
//! with per-unit sample moments of numerator `x` and denominator `y` (`n - 1` denominators).
//! The two arms are independent; the effect is tested with a z statistic.

use crate::comoments::CoMoments;
use crate::error::{NeymanError, Result};
use crate::inference::{compare, Comparison, Options, Reference};

/// Ratio of means of one arm and its delta-method variance.
pub fn ratio_and_variance(arg: &str, s: &CoMoments<2>) -> Result<(f64, f64)> {
    if s.n < 2 {
        return Err(NeymanError::TooFewObservations {
            arg: arg.into(),
            n: s.n,
            needed: 2,
        });
    }
    let (mx, my) = (s.mean[0], s.mean[1]);
    if my <= 0.0 {
        return Err(NeymanError::invalid(
            arg,
            format!("the mean denominator is {my}; a ratio metric needs a positive denominator"),
        ));
    }
    let n = s.n as f64;
    let (sxx, syy, sxy) = (s.cov(0, 0), s.cov(1, 1), s.cov(0, 1));
    let var = (sxx / (my * my) - 2.0 * mx * sxy / my.powi(3) + mx * mx * syy / my.powi(4)) / n;
    Ok((mx / my, var.max(0.0)))
}

/// Compare ratio metrics of two arms from their (numerator, denominator) co-moments.
pub fn ratio_test(
    control: &CoMoments<2>,
    treatment: &CoMoments<2>,
    opts: &Options,
) -> Result<Comparison> {
    let (rc, vc) = ratio_and_variance("control", control)?;
    let (rt, vt) = ratio_and_variance("treatment", treatment)?;
    if vc == 0.0 && vt == 0.0 {
        return Err(NeymanError::ZeroVariance {
            arg: "control, treatment".into(),
            msg: "the per-unit ratio is constant in both arms, so the standard error is zero"
                .into(),
        });
    }
    compare(
        rc,
        rt,
        vc,
        vt,
        (vc + vt).sqrt(),
        Reference::Normal,
        control.n,
        treatment.n,
        opts,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::comoments::comoments_of;

    #[test]
    fn delta_variance_hand_worked() {
        // x = 1,2,3,4; y = 2,4,5,9: mx 2.5, my 5, sxx 5/3, syy 26/3, sxy 11/3, n = 4.
        let s = comoments_of(&[&[1.0, 2.0, 3.0, 4.0], &[2.0, 4.0, 5.0, 9.0]], &["x", "y"])
            .unwrap()
            .comoments;
        let (r, v) = ratio_and_variance("control", &s).unwrap();
        let expect = (5.0 / 3.0 / 25.0 - 2.0 * 2.5 * (11.0 / 3.0) / 125.0
            + 6.25 * (26.0 / 3.0) / 625.0)
            / 4.0;
        assert!((r - 0.5).abs() < 1e-12);
        assert!((v - expect).abs() < 1e-12);
    }

    #[test]
    fn rejects_nonpositive_denominator() {
        let s = CoMoments::<2>::from_sums(3, (1.0, 0.0, 1.0, 0.0, 0.0), ["a", "b", "c"]).unwrap();
        assert!(ratio_and_variance("control", &s).is_err());
    }
}
