//! Reference distributions of test statistics: critical values, p-values and intervals, with
//! Student-t quantiles accurate at any degrees of freedom (Cornish-Fisher above 1000), and the
//! noncentral t distribution that the power of a t-test needs.

use statrs::distribution::{ChiSquared, Continuous, ContinuousCDF, Normal, StudentsT};
use statrs::function::beta::checked_beta_reg;
use statrs::function::gamma::{checked_gamma_ur, ln_gamma};

use crate::error::{NeymanError, Result};
use crate::inference::options::Alternative;

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

/// Standard normal cdf from the regularized upper incomplete gamma function,
/// `Phi(x) = Q(1/2, x^2/2) / 2` for `x <= 0` (full relative accuracy in the lower tail) and
/// `1 - Q(1/2, x^2/2) / 2` above. statrs' `erfc` (and so its `Normal`) is good to about `1e-10`
/// only (`erfc(1/sqrt 2)` is off by `3e-11`), too coarse for power equations inverted to `1e-10`;
/// its incomplete gamma agrees with scipy's `erfc` to `1e-16`.
pub fn norm_cdf(x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    if x.is_infinite() {
        return if x > 0.0 { 1.0 } else { 0.0 };
    }
    if x == 0.0 {
        // statrs' incomplete gamma refuses x = 0 (where Q(1/2, 0) = 1).
        return 0.5;
    }
    let q = checked_gamma_ur(0.5, 0.5 * x * x).unwrap_or(f64::NAN);
    if x <= 0.0 {
        0.5 * q
    } else {
        1.0 - 0.5 * q
    }
}

/// Standard normal upper tail, `norm_cdf(-x)`.
pub fn norm_sf(x: f64) -> f64 {
    norm_cdf(-x)
}

/// Standard normal quantile: statrs' `inverse_cdf`, polished by Newton steps on [`norm_cdf`] on
/// the side of `p` (so `p` near 1 keeps its digits).
pub fn norm_ppf(p: f64) -> Result<f64> {
    let mut x = Reference::Normal.ppf(p)?;
    if !x.is_finite() {
        return Ok(x);
    }
    let density = |x: f64| (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt();
    for _ in 0..3 {
        let d = density(x);
        if d <= 0.0 {
            break;
        }
        let step = if p > 0.5 {
            ((1.0 - p) - norm_cdf(-x)) / d
        } else {
            (norm_cdf(x) - p) / d
        };
        x -= step;
    }
    Ok(x)
}

/// Cumulative distribution function of the noncentral t with `df` degrees of freedom and
/// noncentrality `nc`, `P(T <= t)` for `T = (Z + nc) / sqrt(V / df)`.
///
/// For `t >= 0` (Lenth 1989, AS 243, eq. 1; Guenther 1978):
/// `F(t) = Phi(-nc) + 1/2 sum_i [p_i I_x(i + 1/2, df/2) + q_i I_x(i + 1, df/2)]`,
/// `x = t^2 / (t^2 + df)`, `p_i = e^(-l) l^i / i!`, `q_i = nc e^(-l) l^i / (sqrt 2 Gamma(i + 3/2))`,
/// `l = nc^2 / 2`; for `t < 0`, `F(t; nc) = 1 - F(-t; -nc)`. As in Benton and Krishnamoorthy
/// (2003), the sum starts at the Poisson mode `i = floor(l)` and runs both ways until the weights
/// fall below `1e-20` (the incomplete-beta factors are at most 1), so large noncentralities lose
/// nothing; each `I_x` comes from statrs' regularized incomplete beta. Infinite `df` is the
/// normal, `Phi(t - nc)`.
pub fn nct_cdf(t: f64, df: f64, nc: f64) -> Result<f64> {
    if df.is_nan() || df <= 0.0 {
        return Err(NeymanError::invalid("df", format!("{df} must be positive")));
    }
    if t.is_nan() || nc.is_nan() || nc.is_infinite() {
        return Err(NeymanError::invalid(
            "nc",
            format!("t = {t}, nc = {nc} must be finite"),
        ));
    }
    if df.is_infinite() {
        return Ok(norm_cdf(t - nc));
    }
    if t.is_infinite() {
        return Ok(if t > 0.0 { 1.0 } else { 0.0 });
    }
    if t < 0.0 {
        return Ok(1.0 - nct_cdf_nonnegative(-t, df, -nc)?);
    }
    nct_cdf_nonnegative(t, df, nc)
}

/// Upper tail `P(T > t)` of the noncentral t.
pub fn nct_sf(t: f64, df: f64, nc: f64) -> Result<f64> {
    if df.is_infinite() && !t.is_nan() && nc.is_finite() {
        return Ok(norm_sf(t - nc));
    }
    // P(T > t; nc) = P(-T < -t; nc) = F(-t; -nc), computed on the side that keeps its digits.
    nct_cdf(-t, df, -nc)
}

fn nct_cdf_nonnegative(t: f64, df: f64, nc: f64) -> Result<f64> {
    if nc == 0.0 {
        return Ok(Reference::T(df).cdf_sf(t)?.0);
    }
    let beta = |a: f64, x: f64| -> Result<f64> {
        checked_beta_reg(a, df / 2.0, x)
            .map_err(|e| NeymanError::invalid("df", format!("incomplete beta at {df}: {e}")))
    };
    let x = t * t / (t * t + df);
    let lambda = nc * nc / 2.0;
    let ln_lambda = lambda.ln();
    let weights = |i: f64| -> (f64, f64) {
        let base = -lambda + i * ln_lambda;
        let p = (base - ln_gamma(i + 1.0)).exp();
        let q = nc * std::f64::consts::FRAC_1_SQRT_2 * (base - ln_gamma(i + 1.5)).exp();
        (p, q)
    };
    let term = |i: f64| -> Result<(f64, f64)> {
        let (p, q) = weights(i);
        if x == 0.0 {
            return Ok((0.0, p.abs() + q.abs()));
        }
        Ok((
            p * beta(i + 0.5, x)? + q * beta(i + 1.0, x)?,
            p.abs() + q.abs(),
        ))
    };
    const SMALL: f64 = 1e-20;
    let mode = lambda.floor();
    let mut sum = 0.0;
    // From the mode down to 0.
    let mut i = mode;
    while i >= 0.0 {
        let (v, w) = term(i)?;
        sum += v;
        if w < SMALL && i < mode {
            break;
        }
        i -= 1.0;
    }
    // From the mode up; the Poisson weights fall faster than geometrically past it.
    let mut i = mode + 1.0;
    let limit = mode + 1000.0 + 100.0 * lambda.sqrt();
    while i <= limit {
        let (v, w) = term(i)?;
        sum += v;
        if w < SMALL {
            break;
        }
        i += 1.0;
    }
    Ok((norm_cdf(-nc) + 0.5 * sum).clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn noncentral_t_against_scipy() {
        // scipy.stats.nct.cdf(t, df, nc) (scipy 1.17, Boost), to 1e-12.
        for (t, df, nc, expect) in [
            (2.0, 10.0, 1.0, 0.807_611_562_530_375_2),
            (-1.5, 5.0, 0.5, 0.039_267_674_661_968_69),
            (
                2.024_394_164_1,
                38.0,
                3.162_277_660_168_379_5,
                0.131_047_198_347_695_4,
            ),
            (30.0, 20.0, 25.0, 0.830_561_328_801_964_9),
        ] {
            let got = nct_cdf(t, df, nc).unwrap();
            assert!(
                (got - expect).abs() < 1e-12,
                "{t} {df} {nc}: {got} vs {expect}"
            );
        }
        // The normal cdf against scipy.special.ndtr.
        for (x, expect) in [
            (-1.0, 0.158_655_253_931_457_05),
            (1.0, 0.841_344_746_068_542_9),
            (-8.0, 6.220_960_574_271_74e-16),
        ] {
            let got = norm_cdf(x);
            assert!(
                (got - expect).abs() < 1e-15 * expect.max(1e-300) + 1e-300
                    || (got - expect).abs() < 2e-16,
                "{x}: {got} vs {expect}"
            );
        }
        // Zero noncentrality is the central t.
        let c = nct_cdf(1.0, 7.0, 0.0).unwrap();
        let s = nct_sf(-1.0, 7.0, 0.0).unwrap();
        assert!((c - s).abs() < 1e-15);
    }

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
}
