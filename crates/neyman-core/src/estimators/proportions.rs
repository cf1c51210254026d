//! Two independent proportions: the pooled z-test, Wald and Newcombe hybrid-score intervals for
//! the difference, and the relative lift.
//!
//! Test: `z = (p_t - p_c) / sqrt(p (1 - p) (1/n_t + 1/n_c))` with the pooled `p` (the score test
//! of `p_t = p_c`). Wald interval: `d +/- z sqrt(p_t(1-p_t)/n_t + p_c(1-p_c)/n_c)`. Newcombe (1998,
//! method 10): Wilson score intervals `(l_t, u_t)`, `(l_c, u_c)` for each arm, then
//! `[d - sqrt((p_t - l_t)^2 + (u_c - p_c)^2), d + sqrt((u_t - p_t)^2 + (p_c - l_c)^2)]`.
//! Relative lift `p_t / p_c - 1` by the delta method or Fieller with binomial variances.

use crate::error::{NeymanError, Result};
use crate::inference::{compare, Alternative, Arm, Comparison, Contrast, Options, Reference};
use crate::stats::BinaryCounts;

/// Interval method for the difference of proportions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProportionCi {
    /// Wald (normal approximation with unpooled variance).
    Wald,
    /// Newcombe's hybrid score interval (recommended for small counts or rare events).
    Newcombe,
}

impl ProportionCi {
    /// Parse `'wald'` or `'newcombe'`.
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "wald" => Ok(ProportionCi::Wald),
            "newcombe" => Ok(ProportionCi::Newcombe),
            _ => Err(NeymanError::invalid(
                "ci_method",
                format!("{s:?} is not one of 'wald', 'newcombe'"),
            )),
        }
    }
}

fn check(arg: &str, c: &BinaryCounts) -> Result<()> {
    if c.trials < 2 {
        return Err(NeymanError::TooFewObservations {
            arg: arg.into(),
            n: c.trials,
            needed: 2,
        });
    }
    if c.successes > c.trials {
        return Err(NeymanError::invalid(
            arg,
            format!(
                "successes = {} must be a whole number between 0 and trials = {}",
                c.successes, c.trials
            ),
        ));
    }
    Ok(())
}

/// Wilson score interval for one proportion at critical value `z` (Wilson 1927).
pub fn wilson(successes: f64, trials: f64, z: f64) -> (f64, f64) {
    let p = successes / trials;
    let z2 = z * z;
    let denom = 1.0 + z2 / trials;
    let center = (p + z2 / (2.0 * trials)) / denom;
    let half = z / denom * (p * (1.0 - p) / trials + z2 / (4.0 * trials * trials)).sqrt();
    ((center - half).max(0.0), (center + half).min(1.0))
}

/// Compare two proportions.
pub fn proportion_test(
    control: &BinaryCounts,
    treatment: &BinaryCounts,
    ci: ProportionCi,
    opts: &Options,
) -> Result<Comparison> {
    check("control", control)?;
    check("treatment", treatment)?;
    let (nc, nt) = (control.trials as f64, treatment.trials as f64);
    let (sc, st) = (control.successes as f64, treatment.successes as f64);
    let (pc, pt) = (sc / nc, st / nt);
    let pooled = (sc + st) / (nc + nt);
    if pooled == 0.0 || pooled == 1.0 {
        return Err(NeymanError::ZeroVariance {
            arg: "control, treatment".into(),
            msg: format!(
                "every observation in both arms is {}, so the z-test is undefined",
                pooled as u8
            ),
        });
    }
    let se_test = (pooled * (1.0 - pooled) * (1.0 / nc + 1.0 / nt)).sqrt();
    let vc = pc * (1.0 - pc) / nc;
    let vt = pt * (1.0 - pt) / nt;
    let c = Arm {
        value: pc,
        var: vc,
        n: control.trials,
    };
    let t = Arm {
        value: pt,
        var: vt,
        n: treatment.trials,
    };
    let mut out = compare(
        &Contrast::independent(c, t, se_test, Reference::Normal),
        opts,
    )?;
    if ci == ProportionCi::Newcombe {
        let z = Reference::Normal.critical(opts.alternative, opts.confidence_level)?;
        let (lt, ut) = wilson(st, nt, z);
        let (lc, uc) = wilson(sc, nc, z);
        let d = pt - pc;
        let lo = d - ((pt - lt).powi(2) + (uc - pc).powi(2)).sqrt();
        let hi = d + ((ut - pt).powi(2) + (pc - lc).powi(2)).sqrt();
        (out.ci_low, out.ci_high) = match opts.alternative {
            Alternative::TwoSided => (lo, hi),
            Alternative::Greater => (lo, f64::INFINITY),
            Alternative::Less => (f64::NEG_INFINITY, hi),
        };
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newcombe_published_example() {
        // Newcombe (1998), Table II, example (a): 56/70 vs 48/80, difference 0.2,
        // method 10 interval 0.0524 to 0.3339.
        let t = BinaryCounts {
            successes: 56,
            trials: 70,
        };
        let c = BinaryCounts {
            successes: 48,
            trials: 80,
        };
        let r = proportion_test(&c, &t, ProportionCi::Newcombe, &Options::default()).unwrap();
        assert!((r.effect - 0.2).abs() < 1e-12);
        assert!((r.ci_low - 0.0524).abs() < 5e-5, "{}", r.ci_low);
        assert!((r.ci_high - 0.3339).abs() < 5e-5, "{}", r.ci_high);
    }

    #[test]
    fn rejects_bad_counts() {
        let ok = BinaryCounts {
            successes: 1,
            trials: 10,
        };
        let bad = BinaryCounts {
            successes: 11,
            trials: 10,
        };
        assert!(proportion_test(&ok, &bad, ProportionCi::Wald, &Options::default()).is_err());
        let zero = BinaryCounts {
            successes: 0,
            trials: 10,
        };
        assert!(matches!(
            proportion_test(&zero, &zero, ProportionCi::Wald, &Options::default()),
            Err(NeymanError::ZeroVariance { .. })
        ));
    }
}
