//! Ratio metrics (sum of numerator / sum of denominator per arm, randomised by unit) by the delta
//! method (Deng, Knoblich and Lu 2018, eq. 2):
//! `Var(X/Y) ~ (1/n) [s_x^2/m_y^2 - 2 m_x s_xy/m_y^3 + m_x^2 s_y^2/m_y^4]`,
//! with per-unit sample moments of numerator `x` and denominator `y` (`n - 1` denominators).
//! The two arms are independent; the effect is tested with a z statistic. Numerator and
//! denominator far from unit scale are first rescaled by powers of two (exact), so `m_y^4`
//! neither overflows nor underflows; the comparison is scaled back.

use crate::error::{NeymanError, Result};
use crate::inference::compare::column_scales;
use crate::inference::{compare, Arm, Comparison, Contrast, Options, Reference};
use crate::stats::CoMoments;

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
/// Scale-safe: t, p and relative effects do not depend on the units of either column.
pub fn ratio_test(
    control: &CoMoments<2>,
    treatment: &CoMoments<2>,
    opts: &Options,
) -> Result<Comparison> {
    let s = column_scales([control, treatment]);
    let (control, treatment) = (control.scaled(&s), treatment.scaled(&s));
    let (rc, vc) = ratio_and_variance("control", &control)?;
    let (rt, vt) = ratio_and_variance("treatment", &treatment)?;
    if vc == 0.0 && vt == 0.0 {
        return Err(NeymanError::ZeroVariance {
            arg: "control, treatment".into(),
            msg: "the per-unit ratio is constant in both arms, so the standard error is zero"
                .into(),
        });
    }
    let c = Arm {
        value: rc,
        var: vc,
        n: control.n,
    };
    let t = Arm {
        value: rt,
        var: vt,
        n: treatment.n,
    };
    let r = compare(
        &Contrast::independent(c, t, (vc + vt).sqrt(), Reference::Normal),
        opts,
    )?;
    // The ratio was computed in units s[0] / s[1] of the original.
    Ok(r.rescaled(s[1] / s[0]))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Co-moments by the multivariate Welford update (the kernels are in `scan`).
    fn comoments(x: &[f64], y: &[f64]) -> CoMoments<2> {
        let mut c = CoMoments::<2>::new();
        x.iter().zip(y).for_each(|(&a, &b)| c.update(&[a, b]));
        c
    }

    #[test]
    fn delta_variance_hand_worked() {
        // x = 1,2,3,4; y = 2,4,5,9: mx 2.5, my 5, sxx 5/3, syy 26/3, sxy 11/3, n = 4.
        let s = comoments(&[1.0, 2.0, 3.0, 4.0], &[2.0, 4.0, 5.0, 9.0]);
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

    #[test]
    fn ratio_is_scale_safe() {
        let c = comoments(&[1.0, 2.0, 3.0, 4.0, 2.5], &[2.0, 4.0, 5.0, 9.0, 3.0]);
        let t = comoments(&[2.0, 2.0, 4.0, 5.0, 1.0], &[2.0, 3.0, 5.0, 8.0, 2.0]);
        let opts = Options {
            relative_ci: crate::inference::RelativeCi::Fieller,
            ..Options::default()
        };
        let one = ratio_test(&c, &t, &opts).unwrap();
        for (sx, sy) in [
            (1e80, 1e80),
            (1e-80, 1e-80),
            (1e80, 1.0),
            (1.0, 1e-80),
            (1e150, 1e-150),
        ] {
            let f = [sx, sy];
            let r = ratio_test(&c.scaled(&f), &t.scaled(&f), &opts).unwrap();
            let u = sx / sy;
            let close = |a: f64, b: f64| a == b || (a - b).abs() <= 1e-12 * b.abs();
            assert!(close(r.effect / u, one.effect), "{sx} {sy}");
            assert!(close(r.se / u, one.se) && close(r.statistic, one.statistic));
            assert!(close(r.pvalue, one.pvalue));
            assert!(close(r.relative.ci_low, one.relative.ci_low));
            assert!(close(r.relative.se, one.relative.se));
        }
    }
}
