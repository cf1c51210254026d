//! Difference in means of two independent arms: Welch's t-test (default), Student's pooled t-test
//! and the large-sample z-test.
//!
//! Welch (1947): `se^2 = s_t^2/n_t + s_c^2/n_c`, Welch-Satterthwaite degrees of freedom
//! `df = se^4 / ((s_t^2/n_t)^2/(n_t-1) + (s_c^2/n_c)^2/(n_c-1))`.
//! Student: pooled `s_p^2 = (M2_t + M2_c)/(n_t + n_c - 2)`, `se^2 = s_p^2 (1/n_t + 1/n_c)`,
//! `df = n_t + n_c - 2`. z-test: the Welch standard error against the standard normal.

use crate::error::{NeymanError, Result};
use crate::inference::means::{check_arms, unpooled_difference};
use crate::inference::{compare, Arm, Comparison, Contrast, Options, Reference};
use crate::stats::Moments;

/// Which difference-in-means test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MeanTest {
    /// Welch's unequal-variance t-test.
    Welch,
    /// Student's equal-variance (pooled) t-test.
    Student,
    /// Large-sample z-test with unpooled variance.
    Z,
}

impl MeanTest {
    /// Parse `'welch'`, `'student'` or `'z'`.
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "welch" => Ok(MeanTest::Welch),
            "student" => Ok(MeanTest::Student),
            "z" => Ok(MeanTest::Z),
            _ => Err(NeymanError::invalid(
                "test",
                format!("{s:?} is not one of 'welch', 'student', 'z'"),
            )),
        }
    }
}

/// Compare the means of two arms from their moments. Scale-safe: data near 1e+80 or 1e-80 give
/// the same t, p, df and relative effects as data near 1.
pub fn mean_test(
    control: &Moments,
    treatment: &Moments,
    test: MeanTest,
    opts: &Options,
) -> Result<Comparison> {
    match test {
        MeanTest::Welch => unpooled_difference(control, treatment, true, opts),
        MeanTest::Z => unpooled_difference(control, treatment, false, opts),
        MeanTest::Student => {
            check_arms(control, treatment)?;
            let (nc, nt) = (control.n as f64, treatment.n as f64);
            let sp2 = (control.m2 + treatment.m2) / (nc + nt - 2.0);
            let (vc, vt) = (sp2 / nc, sp2 / nt);
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
            let reference = Reference::T(nc + nt - 2.0);
            compare(
                &Contrast::independent(c, t, (vc + vt).sqrt(), reference),
                opts,
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Moments by Welford's update (the kernels are in `scan`, which comes later).
    fn m(xs: &[f64]) -> Moments {
        let mut m = Moments::new();
        xs.iter().for_each(|&x| m.update(x));
        m
    }

    #[test]
    fn welch_hand_worked() {
        // control 1..5 (mean 3, var 2.5), treatment 2,4,6,8,10 (mean 6, var 10):
        // se^2 = 0.5 + 2 = 2.5, t = 3/sqrt(2.5) = 1.897366596, df = 6.25/(0.0625+1) = 5.882352941.
        let c = m(&[1.0, 2.0, 3.0, 4.0, 5.0]);
        let t = m(&[2.0, 4.0, 6.0, 8.0, 10.0]);
        let r = mean_test(&c, &t, MeanTest::Welch, &Options::default()).unwrap();
        assert!((r.effect - 3.0).abs() < 1e-12);
        assert!((r.statistic - 1.897_366_596_101_028).abs() < 1e-12);
        assert!((r.df - 5.882_352_941_176_47).abs() < 1e-9);
        assert!((r.relative.effect - 1.0).abs() < 1e-12);
    }

    #[test]
    fn student_df() {
        let c = m(&[1.0, 2.0, 3.0, 4.0, 5.0]);
        let t = m(&[2.0, 4.0, 6.0, 8.0, 10.0]);
        let r = mean_test(&c, &t, MeanTest::Student, &Options::default()).unwrap();
        assert_eq!(r.df, 8.0);
        // pooled variance (10 + 40)/8 = 6.25, se = 2.5 * sqrt(0.4)
        assert!((r.se - 2.5 * 0.4f64.sqrt()).abs() < 1e-12);
    }

    #[test]
    fn rejects_one_row_and_constant_arms() {
        let one = m(&[1.0]);
        let c = m(&[1.0, 2.0]);
        let e = mean_test(&c, &one, MeanTest::Welch, &Options::default()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "treatment has 1 observation; at least 2 are needed"
        );
        let k = m(&[3.0, 3.0, 3.0]);
        assert!(matches!(
            mean_test(&k, &k, MeanTest::Welch, &Options::default()),
            Err(NeymanError::ZeroVariance { .. })
        ));
    }

    #[test]
    fn scale_invariance_at_extreme_scales() {
        // Welch's df used to form se^4 and overflow ("degrees of freedom are NaN") at 1e+80.
        let c = m(&[1.0, 2.0, 3.0, 4.0, 5.0]);
        let t = m(&[2.0, 4.0, 6.0, 8.0, 10.0]);
        for test in [MeanTest::Welch, MeanTest::Student, MeanTest::Z] {
            for ci in [
                crate::inference::RelativeCi::Delta,
                crate::inference::RelativeCi::Fieller,
            ] {
                let opts = Options {
                    relative_ci: ci,
                    ..Options::default()
                };
                let one = mean_test(&c, &t, test, &opts).unwrap();
                for s in [2f64.powi(266), 2f64.powi(-266), 1e80, 1e-80] {
                    let r = mean_test(&c.scaled(s), &t.scaled(s), test, &opts).unwrap();
                    let close = |a: f64, b: f64| a == b || (a - b).abs() <= 1e-12 * b.abs();
                    assert!(
                        close(r.df, one.df),
                        "{test:?} {s}: df {} vs {}",
                        r.df,
                        one.df
                    );
                    assert!(close(r.statistic, one.statistic));
                    assert!(close(r.pvalue, one.pvalue));
                    assert!(close(r.effect / s, one.effect));
                    assert!(close(r.se / s, one.se));
                    assert!(close(r.ci_low / s, one.ci_low) && close(r.ci_high / s, one.ci_high));
                    assert!(close(r.relative.effect, one.relative.effect));
                    assert!(close(r.relative.se, one.relative.se));
                    assert!(close(r.relative.ci_low, one.relative.ci_low));
                    assert!(close(r.relative.ci_high, one.relative.ci_high));
                }
            }
        }
    }
}
