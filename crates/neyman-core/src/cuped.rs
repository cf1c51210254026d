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

use crate::comoments::CoMoments;
use crate::error::{NeymanError, Result};
use crate::inference::{compare_general, Comparison, Options, Reference, RelativeInputs};

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

/// A CUPED comparison: the adjusted result, the unadjusted one beside it, theta, and the ratio of
/// adjusted to unadjusted variance of the effect.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Adjusted {
    /// The adjusted comparison (`treatment_value` is `M_c + effect`).
    pub adjusted: Comparison,
    /// The same comparison without adjustment.
    pub unadjusted: Comparison,
    /// The pooled coefficient.
    pub theta: f64,
    /// `Var(adjusted effect) / Var(unadjusted effect)`; `1 - rho^2` in large samples.
    pub variance_ratio: f64,
}

/// `v_c`, `v_t`: variances of the two arms' (adjusted) contributions to the effect; `v_n`,
/// `v_mc`, `cov_n_mc`: variance of `N = M_c + effect`, of the control metric `M_c`, and their
/// covariance, for the relative effect `N / M_c - 1`.
fn compare_with(
    m_c: f64,
    n_val: f64,
    (v_c, v_t): (f64, f64),
    (v_n, v_mc, cov_n_mc): (f64, f64, f64),
    test: AdjustedTest,
    n_control: u64,
    n_treatment: u64,
    opts: &Options,
) -> Result<Comparison> {
    let (nc, nt) = (n_control as f64, n_treatment as f64);
    let var = v_c + v_t;
    let reference = match test {
        AdjustedTest::Z => Reference::Normal,
        AdjustedTest::Welch => {
            Reference::T(var * var / (v_c * v_c / (nc - 1.0) + v_t * v_t / (nt - 1.0)))
        }
    };
    let rel = RelativeInputs {
        v_num: v_n,
        v_den: v_mc,
        cov: cov_n_mc,
    };
    compare_general(
        m_c,
        n_val,
        var,
        var.sqrt(),
        reference,
        rel,
        (n_control, n_treatment),
        opts,
    )
}

/// CUPED comparison of two arms; `pooled` is the linearisation of both arms together (for theta).
pub fn cuped_test(
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
    let (n_c, n_t) = (control.n, treatment.n);
    let adjusted = compare_with(
        control.m,
        n_val,
        (v_c, v_t),
        (v_n, u_c, cov_n_mc),
        test,
        n_c,
        n_t,
        opts,
    )?;
    let unadjusted = compare_with(
        control.m,
        treatment.m,
        (u_c, u_t),
        (u_t, u_c, 0.0),
        test,
        n_c,
        n_t,
        opts,
    )?;
    Ok(Adjusted {
        adjusted,
        unadjusted,
        theta,
        variance_ratio: var_adj / (u_c + u_t),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::comoments::comoments_of;

    #[test]
    fn theta_and_adjustment_by_hand() {
        // control: y = 1,2,3,4 x = 1,2,3,5 ; treatment: y = 3,5,6,8 x = 2,3,3,6.
        let yc = [1.0, 2.0, 3.0, 4.0];
        let xc = [1.0, 2.0, 3.0, 5.0];
        let yt = [3.0, 5.0, 6.0, 8.0];
        let xt = [2.0, 3.0, 3.0, 6.0];
        let c = comoments_of(&[&yc, &xc], &["y", "x"]).unwrap().comoments;
        let t = comoments_of(&[&yt, &xt], &["y", "x"]).unwrap().comoments;
        let mut p = c;
        p.merge(&t);
        let (lc, lt, lp) = (
            linearize_mean("control", &c).unwrap(),
            linearize_mean("treatment", &t).unwrap(),
            linearize_mean("pooled", &p).unwrap(),
        );
        let r = cuped_test(&lc, &lt, &lp, AdjustedTest::Welch, &Options::default()).unwrap();
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
        let s = comoments_of(&[&[1.0, 2.0, 4.0], &[1.0, 1.0, 1.0]], &["y", "x"])
            .unwrap()
            .comoments;
        let l = linearize_mean("control", &s).unwrap();
        assert!(matches!(
            cuped_test(&l, &l, &l, AdjustedTest::Z, &Options::default()),
            Err(NeymanError::ZeroVariance { .. })
        ));
    }
}
