//! What every two-arm comparison shares: the alternative hypothesis, the reference distribution,
//! critical values, p-values, intervals, and the relative effect by the delta method or by
//! Fieller's theorem.
//!
//! Relative effect: `r = m_t / m_c - 1`. Delta method (first-order Taylor expansion):
//! `Var(r) = v_t / m_c^2 - 2 m_t c / m_c^3 + m_t^2 v_c / m_c^4`, with `c = Cov(m_t, m_c)` (zero for
//! independent arms). Fieller (1954): the set of `rho` with
//! `(m_t - rho m_c)^2 <= q^2 (v_t - 2 rho c + rho^2 v_c)`, bounded when `m_c^2 > q^2 v_c`, i.e. when
//! the control mean is itself significantly non-zero; otherwise the interval is unbounded.

use statrs::distribution::{ChiSquared, Continuous, ContinuousCDF, Normal, StudentsT};

use crate::error::{NeymanError, Result};

/// Direction of the alternative hypothesis, for `effect = treatment - control`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Alternative {
    /// `effect != 0`.
    TwoSided,
    /// `effect < 0`.
    Less,
    /// `effect > 0`.
    Greater,
}

impl Alternative {
    /// Parse `'two-sided'`, `'less'` or `'greater'`.
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "two-sided" => Ok(Alternative::TwoSided),
            "less" => Ok(Alternative::Less),
            "greater" => Ok(Alternative::Greater),
            _ => Err(NeymanError::invalid(
                "alternative",
                format!("{s:?} is not one of 'two-sided', 'less', 'greater'"),
            )),
        }
    }
}

/// How the interval on the relative effect is built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RelativeCi {
    /// Delta method: symmetric, `r +/- q se(r)`.
    Delta,
    /// Fieller's theorem: exact for normal estimates, asymmetric, possibly unbounded.
    Fieller,
}

impl RelativeCi {
    /// Parse `'delta'` or `'fieller'`.
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "delta" => Ok(RelativeCi::Delta),
            "fieller" => Ok(RelativeCi::Fieller),
            _ => Err(NeymanError::invalid(
                "relative_ci",
                format!("{s:?} is not one of 'delta', 'fieller'"),
            )),
        }
    }
}

/// Reference distribution of a test statistic.
#[derive(Clone, Copy, Debug)]
pub enum Reference {
    /// Standard normal (z-tests, large-sample tests).
    Normal,
    /// Student's t with the given degrees of freedom.
    T(f64),
}

impl Reference {
    /// Degrees of freedom (infinite for the normal).
    pub fn df(&self) -> f64 {
        match self {
            Reference::Normal => f64::INFINITY,
            Reference::T(df) => *df,
        }
    }

    fn cdf_sf(&self, x: f64) -> Result<(f64, f64)> {
        match *self {
            Reference::Normal => {
                let d =
                    Normal::new(0.0, 1.0).map_err(|e| NeymanError::invalid("df", e.to_string()))?;
                Ok((d.cdf(x), d.sf(x)))
            }
            // The expansion's error grows like (t^2 / df)^5: used where that is negligible.
            Reference::T(df) if df > CORNISH_FISHER_DF && x * x < df / 50.0 => {
                // statrs' t tail loses digits at large df (1e-7 relative at 2e7): map t to the
                // normal deviate z with t = CF(z) and use the normal tails.
                let z = cornish_fisher_inverse(x, df);
                let d =
                    Normal::new(0.0, 1.0).map_err(|e| NeymanError::invalid("df", e.to_string()))?;
                Ok((d.cdf(z), d.sf(z)))
            }
            Reference::T(df) => {
                let d = StudentsT::new(0.0, 1.0, df)
                    .map_err(|e| NeymanError::invalid("df", format!("{df}: {e}")))?;
                Ok((d.cdf(x), d.sf(x)))
            }
        }
    }

    /// Quantile function.
    pub fn ppf(&self, p: f64) -> Result<f64> {
        match *self {
            Reference::Normal => Ok(Normal::new(0.0, 1.0)
                .map_err(|e| NeymanError::invalid("df", e.to_string()))?
                .inverse_cdf(p)),
            Reference::T(df) => {
                let d = StudentsT::new(0.0, 1.0, df)
                    .map_err(|e| NeymanError::invalid("df", format!("{df}: {e}")))?;
                Ok(t_quantile(&d, df, p))
            }
        }
    }

    /// Critical value `q` such that `estimate -/+ q se` is the interval of the given level.
    pub fn critical(&self, alternative: Alternative, confidence_level: f64) -> Result<f64> {
        check_confidence_level(confidence_level)?;
        match alternative {
            Alternative::TwoSided => self.ppf(0.5 + confidence_level / 2.0),
            _ => self.ppf(confidence_level),
        }
    }

    /// p-value of an observed statistic.
    pub fn pvalue(&self, statistic: f64, alternative: Alternative) -> Result<f64> {
        if statistic.is_nan() {
            return Ok(f64::NAN);
        }
        match alternative {
            Alternative::TwoSided => {
                let (_, sf) = self.cdf_sf(statistic.abs())?;
                Ok((2.0 * sf).min(1.0))
            }
            Alternative::Greater => Ok(self.cdf_sf(statistic)?.1),
            Alternative::Less => Ok(self.cdf_sf(statistic)?.0),
        }
    }
}

/// Above this many degrees of freedom the t quantile comes from the Cornish-Fisher expansion.
const CORNISH_FISHER_DF: f64 = 1000.0;

/// Student-t quantile.
///
/// For `df > 1000`: the Cornish-Fisher expansion around the normal quantile (Abramowitz and Stegun
/// 1964, eq. 26.7.5, terms to `1/df^4`), whose error is below `1e-15` there; statrs'
/// `inverse_cdf` loses accuracy as df grows (1e-3 relative at 2e6) and does not return above about
/// 1.6e7. For smaller df: statrs' `inverse_cdf` polished by Newton steps on the tail probability
/// on the side of `p`, so that `p` near 1 loses no digits.
fn t_quantile(d: &StudentsT, df: f64, p: f64) -> f64 {
    if df > CORNISH_FISHER_DF {
        let z = match Normal::new(0.0, 1.0) {
            Ok(n) => n.inverse_cdf(p),
            Err(_) => return f64::NAN,
        };
        return cornish_fisher(z, df).0;
    }
    let mut x = d.inverse_cdf(p);
    if !x.is_finite() {
        return x;
    }
    let upper = p > 0.5;
    let target = if upper { 1.0 - p } else { p };
    for _ in 0..8 {
        let density = d.pdf(x);
        if density <= 0.0 || !density.is_finite() {
            break;
        }
        // The residual of the tail probability; the upper tail falls as x grows.
        let step = if upper {
            (d.sf(x) - target) / density
        } else {
            (d.cdf(x) - target) / density
        };
        x += if upper { step } else { -step };
        if step.abs() <= 1e-15 * x.abs().max(1.0) {
            break;
        }
    }
    x
}

/// The Cornish-Fisher expansion of the t quantile at normal deviate `z` (Abramowitz and Stegun
/// 1964, eq. 26.7.5, terms to `1/df^4`) and its derivative in `z`.
fn cornish_fisher(z: f64, df: f64) -> (f64, f64) {
    let z2 = z * z;
    // g_k(z) as polynomials in z^2 times z, and their derivatives.
    let g1 = (z2 + 1.0) * z / 4.0;
    let g2 = ((5.0 * z2 + 16.0) * z2 + 3.0) * z / 96.0;
    let g3 = (((3.0 * z2 + 19.0) * z2 + 17.0) * z2 - 15.0) * z / 384.0;
    let g4 = ((((79.0 * z2 + 776.0) * z2 + 1482.0) * z2 - 1920.0) * z2 - 945.0) * z / 92160.0;
    let d1 = (3.0 * z2 + 1.0) / 4.0;
    let d2 = ((25.0 * z2 + 48.0) * z2 + 3.0) / 96.0;
    let d3 = (((21.0 * z2 + 95.0) * z2 + 51.0) * z2 - 15.0) / 384.0;
    let d4 = ((((711.0 * z2 + 5432.0) * z2 + 7410.0) * z2 - 5760.0) * z2 - 945.0) / 92160.0;
    let t = z + (g1 + (g2 + (g3 + g4 / df) / df) / df) / df;
    let dt = 1.0 + (d1 + (d2 + (d3 + d4 / df) / df) / df) / df;
    (t, dt)
}

/// The normal deviate `z` with `cornish_fisher(z, df) = t`, by Newton's method from `z = t`.
fn cornish_fisher_inverse(t: f64, df: f64) -> f64 {
    if !t.is_finite() {
        return t;
    }
    let mut z = t;
    for _ in 0..50 {
        let (f, fp) = cornish_fisher(z, df);
        let step = (f - t) / fp;
        z -= step;
        if step.abs() <= 1e-16 * z.abs().max(1.0) {
            break;
        }
    }
    z
}

/// Upper-tail probability of a chi-square statistic.
pub fn chi2_sf(statistic: f64, df: f64) -> Result<f64> {
    let d = ChiSquared::new(df).map_err(|e| NeymanError::invalid("df", format!("{df}: {e}")))?;
    Ok(d.sf(statistic))
}

/// `confidence_level` must lie strictly between 0 and 1.
pub fn check_confidence_level(cl: f64) -> Result<()> {
    if cl.is_finite() && cl > 0.0 && cl < 1.0 {
        Ok(())
    } else {
        Err(NeymanError::invalid(
            "confidence_level",
            format!("{cl} is not strictly between 0 and 1"),
        ))
    }
}

/// `estimate -/+ q se`, open on the side the alternative does not bound.
pub fn interval(estimate: f64, se: f64, q: f64, alternative: Alternative) -> (f64, f64) {
    match alternative {
        Alternative::TwoSided => (estimate - q * se, estimate + q * se),
        Alternative::Greater => (estimate - q * se, f64::INFINITY),
        Alternative::Less => (f64::NEG_INFINITY, estimate + q * se),
    }
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

/// Relative effect of two estimates with variances `v_t`, `v_c` and covariance `cov`, at critical
/// value `q`. NaN throughout when the control estimate is zero (the ratio is undefined).
pub fn relative(
    m_t: f64,
    m_c: f64,
    v_t: f64,
    v_c: f64,
    cov: f64,
    q: f64,
    alternative: Alternative,
    method: RelativeCi,
) -> Relative {
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
        RelativeCi::Fieller => fieller(m_t, m_c, v_t, v_c, cov, q, alternative),
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
fn fieller(
    m_t: f64,
    m_c: f64,
    v_t: f64,
    v_c: f64,
    cov: f64,
    q: f64,
    alternative: Alternative,
) -> (f64, f64) {
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

/// Options shared by every comparison.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// Alternative hypothesis.
    pub alternative: Alternative,
    /// Level of the intervals, in (0, 1).
    pub confidence_level: f64,
    /// Interval method for the relative effect.
    pub relative_ci: RelativeCi,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            alternative: Alternative::TwoSided,
            confidence_level: 0.95,
            relative_ci: RelativeCi::Delta,
        }
    }
}

/// Variances and covariance behind the relative effect `numerator / denominator - 1`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RelativeInputs {
    /// Variance of the numerator (the treatment value).
    pub v_num: f64,
    /// Variance of the denominator (the control value).
    pub v_den: f64,
    /// Their covariance.
    pub cov: f64,
}

/// Assemble a comparison: `effect = treatment_value - control_value` with variance `var_effect`,
/// tested as `effect / se_test` (`se_test` may differ from the interval's standard error: pooled
/// variance under the null for proportions), and the relative effect from `rel`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn compare_general(
    control_value: f64,
    treatment_value: f64,
    var_effect: f64,
    se_test: f64,
    reference: Reference,
    rel: RelativeInputs,
    (n_control, n_treatment): (u64, u64),
    opts: &Options,
) -> Result<Comparison> {
    let effect = treatment_value - control_value;
    let se = var_effect.max(0.0).sqrt();
    let q = reference.critical(opts.alternative, opts.confidence_level)?;
    let (ci_low, ci_high) = interval(effect, se, q, opts.alternative);
    let statistic = effect / se_test;
    let pvalue = reference.pvalue(statistic, opts.alternative)?;
    let relative = relative(
        treatment_value,
        control_value,
        rel.v_num,
        rel.v_den,
        rel.cov,
        q,
        opts.alternative,
        opts.relative_ci,
    );
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
        df: reference.df(),
        n_control,
        n_treatment,
    })
}

/// A comparison of two independent estimates with variances `v_c`, `v_t`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn compare(
    control_value: f64,
    treatment_value: f64,
    v_c: f64,
    v_t: f64,
    se_test: f64,
    reference: Reference,
    n_control: u64,
    n_treatment: u64,
    opts: &Options,
) -> Result<Comparison> {
    let rel = RelativeInputs {
        v_num: v_t,
        v_den: v_c,
        cov: 0.0,
    };
    compare_general(
        control_value,
        treatment_value,
        v_c + v_t,
        se_test,
        reference,
        rel,
        (n_control, n_treatment),
        opts,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_critical_values() {
        let q = Reference::Normal
            .critical(Alternative::TwoSided, 0.95)
            .unwrap();
        assert!((q - 1.959_963_984_540_054).abs() < 1e-9);
        let q = Reference::Normal
            .critical(Alternative::Greater, 0.95)
            .unwrap();
        assert!((q - 1.644_853_626_951_472_2).abs() < 1e-9);
    }

    #[test]
    fn t_critical_value_from_table() {
        // t_{0.975, 10} = 2.228138851986 (standard tables).
        let q = Reference::T(10.0)
            .critical(Alternative::TwoSided, 0.95)
            .unwrap();
        assert!((q - 2.228_138_851_986).abs() < 1e-8, "{q}");
    }

    #[test]
    fn t_quantile_at_large_df() {
        // scipy.stats.t.ppf(0.975, df) for df = 1e6, 2e7, 1e3, 100; t.ppf(0.025, 3).
        for (df, p, expect) in [
            (1e6, 0.975, 1.959_966_356_814_107),
            (2e7, 0.975, 1.959_964_103_153_622),
            (1e3, 0.975, 1.962_339_080_826_408_3),
            (1001.0, 0.9995, 3.300_272_876_066_040_3),
            (100.0, 0.975, 1.983_971_518_523_551_5),
            (3.0, 0.025, -3.182_446_305_283_708_6),
        ] {
            let q = Reference::T(df).ppf(p).unwrap();
            assert!(
                (q - expect).abs() < 1e-12 * expect.abs(),
                "df {df}: {q} vs {expect}"
            );
        }
    }

    #[test]
    fn t_tails_at_large_df() {
        // scipy.special.stdtr(df, -t) for (df, t).
        for (df, t, expect) in [
            (1e8, 1.7248, 0.042_281_762_427_076_965),
            (2e7, 2.5, 0.006_209_669_297_032_201),
            (5e3, 3.0, 0.001_356_554_512_142_895_4),
            (1e6, 6.0, 9.869_249_061_772_15e-10),
            // Far tail at moderate df: statrs' own t tail (the expansion is not used there).
            (2e3, 16.0, 1.294_530_050_151_009_8e-54),
        ] {
            let p = Reference::T(df).pvalue(t, Alternative::Greater).unwrap();
            // statrs' normal tail (erfc) is good to about 1e-10 relative; statrs' t tail was off
            // by 1e-6 at df 1e8 before this path.
            assert!(
                (p - expect).abs() < 1e-9 * expect,
                "df {df} t {t}: {p} vs {expect}"
            );
        }
    }

    #[test]
    fn confidence_level_domain() {
        assert!(check_confidence_level(1.0).is_err());
        assert!(check_confidence_level(0.0).is_err());
        assert!(check_confidence_level(f64::NAN).is_err());
        assert!(check_confidence_level(0.9).is_ok());
    }

    #[test]
    fn fieller_brackets_delta_for_precise_control() {
        let r = relative(
            11.0,
            10.0,
            0.04,
            0.04,
            0.0,
            1.96,
            Alternative::TwoSided,
            RelativeCi::Fieller,
        );
        let d = relative(
            11.0,
            10.0,
            0.04,
            0.04,
            0.0,
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
            mt,
            mc,
            vt,
            vc,
            0.0,
            1.96,
            Alternative::TwoSided,
            RelativeCi::Fieller,
        );
        let d = relative(
            mt,
            mc,
            vt,
            vc,
            0.0,
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
            1.0,
            0.1,
            1.0,
            1.0,
            0.0,
            1.96,
            Alternative::TwoSided,
            RelativeCi::Fieller,
        );
        assert!(r.ci_low.is_infinite() && r.ci_high.is_infinite());
    }
}
