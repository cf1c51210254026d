//! CUPED: variance reduction with one pre-experiment covariate (Deng, Xu, Kohavi and Walker 2013).
//!
//! Each arm's metric `M` (a mean, or a ratio of means) and covariate `C` (a mean, or a ratio of
//! means) are linearised by the delta method into per-unit variances `v_MM`, `v_CC` and covariance
//! `v_MC`. The coefficient `theta = v_MC / v_CC` is computed once on both arms pooled (the union of
//! their units), as in Deng et al. (2013, sec. 3.3) and tea-tasting. The adjusted effect is
//!
//! `effect = (M_t - M_c) - theta (C_t - C_c)`,
//! `Var = sum over arms of (v_MM - 2 theta v_MC + theta^2 v_CC) / n`.
//!
//! The relative effect is `effect / M_c`. Its delta-method variance includes the covariance between
//! the adjusted difference and the control metric (growthbook PR #3610 fixed the omission): with
//! `N = M_c + effect = M_t - theta C_t + theta C_c`, `Var(N) = v_t + theta^2 v_CC,c / n_c` and
//! `Cov(N, M_c) = theta v_MC,c / n_c`.
//!
//! Columns far from unit scale are first rescaled by powers of two (exact), so products such as
//! `theta^2 v_CC` neither overflow nor underflow; the results are scaled back.

use crate::error::{NeymanError, Result};
use crate::inference::compare::column_scales;
use crate::inference::means::welch_df;
use crate::inference::{compare, Adjusted, Arm, Comparison, Contrast, Options, Reference};
use crate::stats::CoMoments;

/// A metric and its covariate in one arm, linearised: values and per-unit (co)variances.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Linearized {
    /// Units.
    pub n: u64,
    /// Metric value (mean or ratio of means).
    pub m: f64,
    /// Covariate value (mean or ratio of means).
    pub c: f64,
    /// Per-unit variance of the metric.
    pub vmm: f64,
    /// Per-unit variance of the covariate.
    pub vcc: f64,
    /// Per-unit covariance of metric and covariate.
    pub vmc: f64,
}

/// Linearise a mean metric with a mean covariate from the co-moments of (y, x).
pub fn linearize_mean(arg: &str, s: &CoMoments<2>) -> Result<Linearized> {
    need_two(arg, s.n)?;
    Ok(Linearized {
        n: s.n,
        m: s.mean[0],
        c: s.mean[1],
        vmm: s.cov(0, 0),
        vcc: s.cov(1, 1),
        vmc: s.cov(0, 1),
    })
}

/// Linearise a ratio metric `num / den` with a ratio covariate `num_cov / den_cov` from the
/// co-moments of (num, den, num_cov, den_cov): gradients `(1/m_d, -m_n/m_d^2)` of each ratio
/// applied to the covariance matrix (delta method, Deng, Knoblich and Lu 2018).
pub fn linearize_ratio(arg: &str, s: &CoMoments<4>) -> Result<Linearized> {
    need_two(arg, s.n)?;
    for (i, what) in [(1, "denominator"), (3, "covariate denominator")] {
        if s.mean[i] <= 0.0 {
            return Err(NeymanError::invalid(
                arg,
                format!(
                    "the mean {what} is {}; a ratio needs a positive denominator",
                    s.mean[i]
                ),
            ));
        }
    }
    let gm = [
        1.0 / s.mean[1],
        -s.mean[0] / (s.mean[1] * s.mean[1]),
        0.0,
        0.0,
    ];
    let gc = [
        0.0,
        0.0,
        1.0 / s.mean[3],
        -s.mean[2] / (s.mean[3] * s.mean[3]),
    ];
    let quad = |a: &[f64; 4], b: &[f64; 4]| -> f64 {
        let mut q = 0.0;
        for i in 0..4 {
            for j in 0..4 {
                q += a[i] * s.cov(i, j) * b[j];
            }
        }
        q
    };
    Ok(Linearized {
        n: s.n,
        m: s.mean[0] / s.mean[1],
        c: s.mean[2] / s.mean[3],
        vmm: quad(&gm, &gm).max(0.0),
        vcc: quad(&gc, &gc).max(0.0),
        vmc: quad(&gm, &gc),
    })
}

fn need_two(arg: &str, n: u64) -> Result<()> {
    if n < 2 {
        return Err(NeymanError::TooFewObservations {
            arg: arg.into(),
            n,
            needed: 2,
        });
    }
    Ok(())
}

/// Reference distribution for an adjusted comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AdjustedTest {
    /// Student's t with Welch-Satterthwaite degrees of freedom on the adjusted variances.
    Welch,
    /// Standard normal.
    Z,
}

impl AdjustedTest {
    /// Parse `'welch'` or `'z'`.
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "welch" => Ok(AdjustedTest::Welch),
            "z" => Ok(AdjustedTest::Z),
            _ => Err(NeymanError::invalid(
                "test",
                format!("{s:?} is not one of 'welch', 'z'"),
            )),
        }
    }
}

/// The variances behind one CUPED comparison: `v_c`, `v_t` of the two arms' (adjusted)
/// contributions to the effect; `v_n`, `v_mc`, `cov`: variance of `N = M_c + effect`, of the
/// control metric `M_c`, and their covariance, for the relative effect `N / M_c - 1`.
struct Variances {
    v_c: f64,
    v_t: f64,
    v_n: f64,
    v_mc: f64,
    cov: f64,
}

/// Compare `M_c` with `n_val` (the adjusted or unadjusted treatment value).
fn compare_with(
    (control, treatment): (&Linearized, &Linearized),
    n_val: f64,
    v: Variances,
    test: AdjustedTest,
    opts: &Options,
) -> Result<Comparison> {
    let (nc, nt) = (control.n as f64, treatment.n as f64);
    let var = v.v_c + v.v_t;
    let reference = match test {
        AdjustedTest::Z => Reference::Normal,
        AdjustedTest::Welch => Reference::T(welch_df(v.v_c, nc, v.v_t, nt)),
    };
    let contrast = Contrast {
        control: Arm {
            value: control.m,
            var: v.v_mc,
            n: control.n,
        },
        treatment: Arm {
            value: n_val,
            var: v.v_n,
            n: treatment.n,
        },
        cov: v.cov,
        var_effect: var,
        se_test: var.sqrt(),
        reference,
    };
    compare(&contrast, opts)
}

/// CUPED comparison of two linearised arms; `pooled` is the linearisation of both arms together
/// (for theta).
pub fn adjusted_comparison(
    control: &Linearized,
    treatment: &Linearized,
    pooled: &Linearized,
    test: AdjustedTest,
    opts: &Options,
) -> Result<Adjusted> {
    // A constant covariate given as sums leaves a variance of rounding size, not zero.
    let constant = pooled.vcc <= 64.0 * f64::EPSILON * pooled.c * pooled.c;
    let theta = if pooled.vcc > 0.0 && !constant {
        pooled.vmc / pooled.vcc
    } else {
        return Err(NeymanError::ZeroVariance {
            arg: "covariate".into(),
            msg: "the covariate is constant across all units, so it cannot reduce variance".into(),
        });
    };
    let (nc, nt) = (control.n as f64, treatment.n as f64);
    let adj = |a: &Linearized| (a.vmm - 2.0 * theta * a.vmc + theta * theta * a.vcc).max(0.0);
    let (v_c, v_t) = (adj(control) / nc, adj(treatment) / nt);
    let (u_c, u_t) = (control.vmm / nc, treatment.vmm / nt);
    if u_c + u_t == 0.0 {
        return Err(NeymanError::ZeroVariance {
            arg: "control, treatment".into(),
            msg: "the metric is constant in both arms, so the standard error is zero".into(),
        });
    }
    let n_val = treatment.m - theta * (treatment.c - control.c);
    // N = M_t - theta C_t + theta C_c: its variance and covariance with M_c (module docs).
    let v_n = v_t + theta * theta * control.vcc / nc;
    let cov_n_mc = theta * control.vmc / nc;
    let var_adj = v_c + v_t;
    // An exact linear relation leaves only rounding in the adjusted variance.
    if var_adj <= 1e-12 * (u_c + u_t) {
        return Err(NeymanError::ZeroVariance {
            arg: "covariate".into(),
            msg:
                "the covariate explains the metric exactly, so the adjusted standard error is zero"
                    .into(),
        });
    }
    let arms = (control, treatment);
    let adjusted = compare_with(
        arms,
        n_val,
        Variances {
            v_c,
            v_t,
            v_n,
            v_mc: u_c,
            cov: cov_n_mc,
        },
        test,
        opts,
    )?;
    let unadjusted = compare_with(
        arms,
        treatment.m,
        Variances {
            v_c: u_c,
            v_t: u_t,
            v_n: u_t,
            v_mc: u_c,
            cov: 0.0,
        },
        test,
        opts,
    )?;
    Ok(Adjusted {
        adjusted,
        unadjusted,
        theta,
        variance_ratio: var_adj / (u_c + u_t),
    })
}

/// CUPED for a mean metric with a mean covariate, from each arm's co-moments of `(y, x)`: theta
/// from both arms pooled (merged here), then [`adjusted_comparison`]. Errors name `"control"`,
/// `"treatment"` or, for the pooled statistic, `"control, treatment"`.
pub fn cuped_test(
    control: &CoMoments<2>,
    treatment: &CoMoments<2>,
    test: AdjustedTest,
    opts: &Options,
) -> Result<Adjusted> {
    let s = column_scales([control, treatment]);
    let (c, t) = (control.scaled(&s), treatment.scaled(&s));
    let lc = linearize_mean("control", &c)?;
    let lt = linearize_mean("treatment", &t)?;
    let mut pooled = c;
    pooled.merge(&t);
    let lp = linearize_mean("control, treatment", &pooled)?;
    let r = adjusted_comparison(&lc, &lt, &lp, test, opts)?;
    // The metric was in units s[0], the covariate in s[1].
    Ok(unscaled(r, s[0], s[1]))
}

/// CUPED for a ratio metric `num / den` with a ratio covariate `num_cov / den_cov`, from each
/// arm's co-moments of `(num, den, num_cov, den_cov)`; as [`cuped_test`].
pub fn ratio_cuped_test(
    control: &CoMoments<4>,
    treatment: &CoMoments<4>,
    test: AdjustedTest,
    opts: &Options,
) -> Result<Adjusted> {
    let s = column_scales([control, treatment]);
    let (c, t) = (control.scaled(&s), treatment.scaled(&s));
    let lc = linearize_ratio("control", &c)?;
    let lt = linearize_ratio("treatment", &t)?;
    let mut pooled = c;
    pooled.merge(&t);
    let lp = linearize_ratio("control, treatment", &pooled)?;
    let r = adjusted_comparison(&lc, &lt, &lp, test, opts)?;
    Ok(unscaled(r, s[0] / s[1], s[2] / s[3]))
}

/// Back to the caller's units from a metric computed in units `a` and a covariate in units `b`
/// (powers of two): values, effects and intervals by `1 / a`, theta by `b / a`.
fn unscaled(mut r: Adjusted, a: f64, b: f64) -> Adjusted {
    if a == 1.0 && b == 1.0 {
        return r;
    }
    r.adjusted = r.adjusted.rescaled(1.0 / a);
    r.unadjusted = r.unadjusted.rescaled(1.0 / a);
    r.theta *= b / a;
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Co-moments by the multivariate Welford update (the kernels are in `scan`).
    fn comoments(y: &[f64], x: &[f64]) -> CoMoments<2> {
        let mut c = CoMoments::<2>::new();
        y.iter().zip(x).for_each(|(&a, &b)| c.update(&[a, b]));
        c
    }

    #[test]
    fn theta_and_adjustment_by_hand() {
        // control: y = 1,2,3,4 x = 1,2,3,5 ; treatment: y = 3,5,6,8 x = 2,3,3,6.
        let yc = [1.0, 2.0, 3.0, 4.0];
        let xc = [1.0, 2.0, 3.0, 5.0];
        let yt = [3.0, 5.0, 6.0, 8.0];
        let xt = [2.0, 3.0, 3.0, 6.0];
        let c = comoments(&yc, &xc);
        let t = comoments(&yt, &xt);
        let mut p = c;
        p.merge(&t);
        let (lc, lt, lp) = (
            linearize_mean("control", &c).unwrap(),
            linearize_mean("treatment", &t).unwrap(),
            linearize_mean("pooled", &p).unwrap(),
        );
        let r =
            adjusted_comparison(&lc, &lt, &lp, AdjustedTest::Welch, &Options::default()).unwrap();
        assert_eq!(
            cuped_test(&c, &t, AdjustedTest::Welch, &Options::default()).unwrap(),
            r
        );
        // Pooled over all 8 units: mean y 4, mean x 3.125.
        let ys: Vec<f64> = yc.iter().chain(&yt).copied().collect();
        let xs: Vec<f64> = xc.iter().chain(&xt).copied().collect();
        let (my, mx) = (4.0, 3.125);
        let sxy: f64 = ys.iter().zip(&xs).map(|(y, x)| (y - my) * (x - mx)).sum();
        let sxx: f64 = xs.iter().map(|x| (x - mx) * (x - mx)).sum();
        let theta = sxy / sxx;
        assert!((r.theta - theta).abs() < 1e-12);
        let effect = (5.5 - 2.5) - theta * (3.5 - 2.75);
        assert!((r.adjusted.effect - effect).abs() < 1e-12);
        assert!((r.unadjusted.effect - 3.0).abs() < 1e-12);
        assert!(r.variance_ratio < 1.0);
        // Relative effect: N = M_c + effect over M_c = 2.5, with the covariance term.
        let (nc, nt) = (4.0, 4.0);
        let v_t = (lt.vmm - 2.0 * theta * lt.vmc + theta * theta * lt.vcc) / nt;
        let v_n = v_t + theta * theta * lc.vcc / nc;
        let (v_m, cov) = (lc.vmm / nc, theta * lc.vmc / nc);
        let n_val = 2.5 + effect;
        let var = v_n / 6.25 - 2.0 * n_val * cov / 15.625 + n_val * n_val * v_m / 39.0625;
        assert!((r.adjusted.relative.effect - effect / 2.5).abs() < 1e-12);
        assert!((r.adjusted.relative.se - var.sqrt()).abs() < 1e-12);
    }

    #[test]
    fn constant_covariate_is_an_error() {
        let s = comoments(&[1.0, 2.0, 4.0], &[1.0, 1.0, 1.0]);
        let l = linearize_mean("control", &s).unwrap();
        assert!(matches!(
            adjusted_comparison(&l, &l, &l, AdjustedTest::Z, &Options::default()),
            Err(NeymanError::ZeroVariance { .. })
        ));
        assert!(matches!(
            cuped_test(&s, &s, AdjustedTest::Z, &Options::default()),
            Err(NeymanError::ZeroVariance { .. })
        ));
    }

    #[test]
    fn cuped_is_scale_safe() {
        let yc = [1.0, 2.0, 3.0, 4.0, 2.0];
        let xc = [1.0, 2.0, 3.0, 5.0, 1.5];
        let yt = [3.0, 5.0, 6.0, 8.0, 4.0];
        let xt = [2.0, 3.0, 3.0, 6.0, 2.5];
        let (c, t) = (comoments(&yc, &xc), comoments(&yt, &xt));
        let opts = Options {
            relative_ci: crate::inference::RelativeCi::Fieller,
            ..Options::default()
        };
        for test in [AdjustedTest::Welch, AdjustedTest::Z] {
            let one = cuped_test(&c, &t, test, &opts).unwrap();
            for (sy, sx) in [(1e80, 1e80), (1e-80, 1e-80), (1e80, 1e-80), (1.0, 1e150)] {
                let f = [sy, sx];
                let r = cuped_test(&c.scaled(&f), &t.scaled(&f), test, &opts).unwrap();
                let close = |a: f64, b: f64| a == b || (a - b).abs() <= 1e-11 * b.abs();
                let (a, o) = (r.adjusted, one.adjusted);
                assert!(close(a.df, o.df), "{sy} {sx}: {} vs {}", a.df, o.df);
                assert!(close(a.effect / sy, o.effect) && close(a.se / sy, o.se));
                assert!(close(a.statistic, o.statistic) && close(a.pvalue, o.pvalue));
                assert!(close(a.relative.ci_high, o.relative.ci_high));
                assert!(close(r.theta * sx / sy, one.theta));
                assert!(close(r.variance_ratio, one.variance_ratio));
            }
        }
    }
}
