//! Difference in means of two independent arms: Welch's t-test (default), Student's pooled t-test
//! and the large-sample z-test.
//!
//! Welch (1947): `se^2 = s_t^2/n_t + s_c^2/n_c`, Welch-Satterthwaite degrees of freedom
//! `df = se^4 / ((s_t^2/n_t)^2/(n_t-1) + (s_c^2/n_c)^2/(n_c-1))`.
//! Student: pooled `s_p^2 = (M2_t + M2_c)/(n_t + n_c - 2)`, `se^2 = s_p^2 (1/n_t + 1/n_c)`,
//! `df = n_t + n_c - 2`. z-test: the Welch standard error against the standard normal.

use crate::error::{NeymanError, Result};
use crate::inference::{compare, Comparison, Options, Reference};
use crate::moments::Moments;

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

/// At least two observations per arm, and not both arms constant.
pub(crate) fn check_arms(control: &Moments, treatment: &Moments) -> Result<()> {
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

/// Compare the means of two arms from their moments.
pub fn mean_test(
    control: &Moments,
    treatment: &Moments,
    test: MeanTest,
    opts: &Options,
) -> Result<Comparison> {
    check_arms(control, treatment)?;
    let (nc, nt) = (control.n as f64, treatment.n as f64);
    let (vc, vt, reference) = match test {
        MeanTest::Welch | MeanTest::Z => {
            let vc = control.variance() / nc;
            let vt = treatment.variance() / nt;
            let reference = if test == MeanTest::Z {
                Reference::Normal
            } else {
                let df = (vc + vt).powi(2) / (vc * vc / (nc - 1.0) + vt * vt / (nt - 1.0));
                Reference::T(df)
            };
            (vc, vt, reference)
        }
        MeanTest::Student => {
            let sp2 = (control.m2 + treatment.m2) / (nc + nt - 2.0);
            (sp2 / nc, sp2 / nt, Reference::T(nc + nt - 2.0))
        }
    };
    compare(
        control.mean,
        treatment.mean,
        vc,
        vt,
        (vc + vt).sqrt(),
        reference,
        control.n,
        treatment.n,
        opts,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::moments::moments_of;

    fn m(xs: &[f64]) -> Moments {
        moments_of(xs).unwrap().moments
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
}
