//! The comparison of two arms: what every estimator returns, assembled from each arm's estimate
//! and variance, the variance of the effect, and a reference distribution.
//!
//! Scale: moments are scale-equivariant, so t, p, df and relative effects are scale-invariant and
//! effect, standard error and interval scale with the data. Squares and fourth powers in the
//! formulas (`se^4` in Welch's df, `m_c^4` in the delta method, `q^4 v_c v_t` in Fieller) overflow
//! or underflow for data near 1e+80 or 1e-80, so inputs outside `2^-100 .. 2^100` are first
//! rescaled by an exact power of two ([`unit_scale`]) and the results scaled back; inside that
//! range nothing is rescaled, and rescaling by a power of two changes no bits anyway.

use crate::error::Result;
use crate::inference::distributions::{interval, Reference};
use crate::inference::options::Options;
use crate::inference::relative::{relative, Quotient, Relative};
use crate::stats::CoMoments;

/// One treatment-versus-control comparison: what every estimator returns.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Comparison {
    /// Estimate in the control arm (mean, proportion or ratio).
    pub control_value: f64,
    /// Estimate in the treatment arm.
    pub treatment_value: f64,
    /// `treatment_value - control_value`.
    pub effect: f64,
    /// Standard error of `effect`.
    pub se: f64,
    /// Interval on `effect`.
    pub ci_low: f64,
    /// Interval on `effect`.
    pub ci_high: f64,
    /// Relative effect, its delta-method standard error and interval.
    pub relative: Relative,
    /// Test statistic (t or z).
    pub statistic: f64,
    /// p-value for the chosen alternative.
    pub pvalue: f64,
    /// Degrees of freedom of the reference distribution (infinite for z).
    pub df: f64,
    /// Observations used in the control arm.
    pub n_control: u64,
    /// Observations used in the treatment arm.
    pub n_treatment: u64,
}

impl Comparison {
    /// The same comparison in units `f` times larger (`f` a power of two): values, effect,
    /// standard error and interval scale; relative effects, statistic, p-value and df do not.
    pub fn rescaled(mut self, f: f64) -> Comparison {
        if f == 1.0 {
            return self;
        }
        self.control_value *= f;
        self.treatment_value *= f;
        self.effect *= f;
        self.se *= f;
        self.ci_low *= f;
        self.ci_high *= f;
        self
    }
}

/// One arm's estimate: its value, the variance of that value, and the units behind it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Arm {
    /// The estimate (mean, proportion, ratio, adjusted mean).
    pub value: f64,
    /// Variance of `value`.
    pub var: f64,
    /// Units (observations) of the arm.
    pub n: u64,
}

/// What a comparison of a treatment arm with the control needs.
#[derive(Clone, Copy, Debug)]
pub struct Contrast {
    /// The control arm.
    pub control: Arm,
    /// The treatment arm.
    pub treatment: Arm,
    /// Covariance of the two values (0 for independent arms).
    pub cov: f64,
    /// Variance of `effect = treatment.value - control.value`.
    pub var_effect: f64,
    /// The standard error the test statistic divides by (may differ from the interval's: the
    /// pooled variance under the null for proportions).
    pub se_test: f64,
    /// Reference distribution of the statistic.
    pub reference: Reference,
}

impl Contrast {
    /// Two independent arms: `var_effect = v_c + v_t`, no covariance.
    pub fn independent(control: Arm, treatment: Arm, se_test: f64, reference: Reference) -> Self {
        Contrast {
            control,
            treatment,
            cov: 0.0,
            var_effect: control.var + treatment.var,
            se_test,
            reference,
        }
    }

    /// Largest magnitude among values and standard deviations.
    fn magnitude(&self) -> f64 {
        magnitude(&[
            self.control.value,
            self.treatment.value,
            self.control.var.abs().sqrt(),
            self.treatment.var.abs().sqrt(),
            self.var_effect.abs().sqrt(),
            self.se_test,
        ])
    }

    /// The contrast of the data times `s`.
    fn scaled(&self, s: f64) -> Contrast {
        let arm = |a: Arm| Arm {
            value: a.value * s,
            var: a.var * s * s,
            n: a.n,
        };
        Contrast {
            control: arm(self.control),
            treatment: arm(self.treatment),
            cov: self.cov * s * s,
            var_effect: self.var_effect * s * s,
            se_test: self.se_test * s,
            reference: self.reference,
        }
    }
}

/// Assemble a comparison: `effect = treatment - control` with variance `var_effect`, tested as
/// `effect / se_test`, and the relative effect `treatment / control - 1` from the arms'
/// variances and covariance. Scale-safe (see the module notes).
pub fn compare(contrast: &Contrast, opts: &Options) -> Result<Comparison> {
    let s = unit_scale(contrast.magnitude());
    if s == 1.0 {
        return compare_as_given(contrast, opts);
    }
    Ok(compare_as_given(&contrast.scaled(s), opts)?.rescaled(1.0 / s))
}

fn compare_as_given(c: &Contrast, opts: &Options) -> Result<Comparison> {
    let (control_value, treatment_value) = (c.control.value, c.treatment.value);
    let effect = treatment_value - control_value;
    let se = c.var_effect.max(0.0).sqrt();
    let q = c
        .reference
        .critical(opts.alternative, opts.confidence_level)?;
    let (ci_low, ci_high) = interval(effect, se, q, opts.alternative);
    let statistic = effect / c.se_test;
    let pvalue = c.reference.pvalue(statistic, opts.alternative)?;
    let quotient = Quotient {
        num: treatment_value,
        den: control_value,
        v_num: c.treatment.var,
        v_den: c.control.var,
        cov: c.cov,
    };
    let relative = relative(&quotient, q, opts.alternative, opts.relative_ci);
    Ok(Comparison {
        control_value,
        treatment_value,
        effect,
        se,
        ci_low,
        ci_high,
        relative,
        statistic,
        pvalue,
        df: c.reference.df(),
        n_control: c.control.n,
        n_treatment: c.treatment.n,
    })
}

/// Magnitudes from `2^-SAFE_EXP` to `2^SAFE_EXP` are finalized as given: their fourth powers
/// stay normal float64 numbers.
const SAFE_EXP: i32 = 100;

/// Largest finite absolute value of `xs` (0 if none).
pub fn magnitude(xs: &[f64]) -> f64 {
    xs.iter()
        .map(|x| x.abs())
        .filter(|x| x.is_finite())
        .fold(0.0, f64::max)
}

/// A power of two that brings `magnitude` near 1 when it lies outside `2^-100 .. 2^100`, else 1.
/// Multiplying by it is exact (barring overflow), so rescaled formulas round as the originals.
pub fn unit_scale(magnitude: f64) -> f64 {
    if !(magnitude.is_finite() && magnitude > 0.0) {
        return 1.0;
    }
    let e = (magnitude.log2().floor() as i32).clamp(-1000, 1000);
    if e.abs() <= SAFE_EXP {
        1.0
    } else {
        f64::from_bits(((1023 - e) as u64) << 52)
    }
}

/// Per-variable powers of two that bring the co-moments of both arms to unit scale (1 for a
/// variable already within `2^-100 .. 2^100`); see [`unit_scale`].
pub fn column_scales<const K: usize>(arms: [&CoMoments<K>; 2]) -> [f64; K] {
    std::array::from_fn(|i| {
        let m = arms
            .iter()
            .map(|a| {
                let sd = (a.c[i][i].abs() / a.n.max(1) as f64).sqrt();
                magnitude(&[a.mean[i], sd])
            })
            .fold(0.0, f64::max);
        unit_scale(m)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inference::options::Alternative;

    #[test]
    fn unit_scale_is_a_power_of_two_outside_the_safe_range() {
        assert_eq!(unit_scale(3.0), 1.0);
        assert_eq!(unit_scale(1e30), 1.0);
        assert_eq!(unit_scale(1e80) * 2f64.powi(265), 1.0);
        assert_eq!(unit_scale(1e-80), 2f64.powi(266));
        assert_eq!(unit_scale(0.0), 1.0);
        assert_eq!(unit_scale(f64::NAN), 1.0);
    }

    #[test]
    fn compare_is_scale_equivariant() {
        let arm = |value: f64, var: f64| Arm { value, var, n: 50 };
        let opts = Options {
            alternative: Alternative::TwoSided,
            confidence_level: 0.9,
            relative_ci: crate::inference::RelativeCi::Fieller,
        };
        let at = |s: f64| {
            let c = Contrast::independent(
                arm(10.0 * s, 0.04 * s * s),
                arm(11.0 * s, 0.05 * s * s),
                0.3 * s,
                Reference::T(97.0),
            );
            compare(&c, &opts).unwrap()
        };
        let one = at(1.0);
        for s in [1e80, 1e-80, 1e150, 1e-150] {
            let r = at(s);
            for (a, b) in [
                (r.effect / s, one.effect),
                (r.se / s, one.se),
                (r.ci_low / s, one.ci_low),
                (r.ci_high / s, one.ci_high),
                (r.relative.effect, one.relative.effect),
                (r.relative.se, one.relative.se),
                (r.relative.ci_low, one.relative.ci_low),
                (r.relative.ci_high, one.relative.ci_high),
                (r.statistic, one.statistic),
                (r.pvalue, one.pvalue),
            ] {
                assert!((a - b).abs() <= 1e-12 * b.abs(), "scale {s}: {a} vs {b}");
            }
        }
    }
}
