//! Multiplicity: the critical value that splits `alpha` over `k` treatment-versus-control
//! comparisons.
//!
//! Bonferroni: the single-comparison critical value at `alpha / k`. Dunnett (1955): the value `c`
//! with `P(max_i |T_i| <= c) = 1 - alpha` (two-sided) or `P(max_i T_i <= c) = 1 - alpha`
//! (one-sided), where the `T_i` share the control arm and so have equal correlation
//! `rho = n_t / (n_t + n_c)`. For equicorrelated normals, `Z_i = sqrt(rho) Z_0 + sqrt(1 - rho) E_i`
//! reduces the `k`-dimensional probability to one integral (Dunnett and Sobel 1955; Hochberg and
//! Tamhane 1987, eq. 3.2.5):
//! `P = int phi(z) [Phi((c + sqrt(rho) z) / sqrt(1 - rho)) - Phi((-c + sqrt(rho) z) / sqrt(1 - rho))]^k dz`,
//! and for Student's t with `df` degrees of freedom to a second integral over the scale
//! `s = sqrt(chi2_df / df)`, `P_t(c) = int f_s(s) P_normal(c s) ds`. Both integrals are computed by
//! composite Gauss-Legendre quadrature (20 points per panel), and `c` by Brent's method.

use statrs::function::gamma::ln_gamma;

use crate::error::{NeymanError, Result};
use crate::inference::distributions::{norm_cdf, norm_ppf, Reference};
use crate::inference::options::Alternative;
use crate::inference::roots::brent;

/// How `alpha` is split over several comparisons with the control.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Correction {
    /// No split: each comparison at `alpha`.
    None,
    /// `alpha / k` per comparison.
    Bonferroni,
    /// Dunnett's many-to-one critical value (exact familywise `alpha`).
    Dunnett,
}

impl Correction {
    /// Parse `'none'`, `'bonferroni'` or `'dunnett'`.
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "none" => Ok(Correction::None),
            "bonferroni" => Ok(Correction::Bonferroni),
            "dunnett" => Ok(Correction::Dunnett),
            _ => Err(NeymanError::invalid(
                "correction",
                format!("{s:?} is not one of 'none', 'bonferroni', 'dunnett'"),
            )),
        }
    }
}

/// 20-point Gauss-Legendre nodes and weights on [-1, 1] (positive half; symmetric).
const GL_X: [f64; 10] = [
    0.07652652113349734,
    0.22778585114164507,
    0.37370608871541955,
    0.5108670019508271,
    0.636053680726515,
    0.7463319064601508,
    0.8391169718222188,
    0.912234428251326,
    0.9639719272779138,
    0.993128599185095,
];
const GL_W: [f64; 10] = [
    0.15275338713072628,
    0.14917298647260424,
    0.1420961093183824,
    0.1316886384491769,
    0.1181945319615186,
    0.1019301198172407,
    0.08327674157670471,
    0.06267204833410879,
    0.040601429800386446,
    0.017614007139150893,
];

/// `int_lo^hi f` by composite 20-point Gauss-Legendre on `panels` equal panels.
fn quadrature<F: FnMut(f64) -> f64>(mut f: F, lo: f64, hi: f64, panels: usize) -> f64 {
    let h = (hi - lo) / panels as f64;
    let mut total = 0.0;
    for p in 0..panels {
        let mid = lo + (p as f64 + 0.5) * h;
        let half = 0.5 * h;
        let mut s = 0.0;
        for (x, w) in GL_X.iter().zip(GL_W.iter()) {
            s += w * (f(mid - half * x) + f(mid + half * x));
        }
        total += s * half;
    }
    total
}

/// The familywise error `1 - P(max_i |Z_i| <= c)` (two-sided) or `1 - P(max_i Z_i <= c)` for `k`
/// standard normals with equal correlation `rho` in `[0, 1)`, computed from the tails so that tiny
/// levels keep their digits: with `t(z)` the conditional probability that one statistic exceeds
/// `c`, the integrand is `1 - (1 - t)^k = -expm1(k ln1p(-t))`.
fn equicorrelated_normal(c: f64, k: usize, rho: f64, two_sided: bool) -> f64 {
    let (a, b) = (rho.sqrt(), (1.0 - rho).sqrt());
    let inv_sqrt_2pi = 1.0 / (2.0 * std::f64::consts::PI).sqrt();
    let k = k as f64;
    quadrature(
        |z| {
            let density = inv_sqrt_2pi * (-0.5 * z * z).exp();
            let mut tail = norm_cdf(-(c + a * z) / b);
            if two_sided {
                tail += norm_cdf((-c + a * z) / b);
            }
            density * -(k * (-tail.min(1.0)).ln_1p()).exp_m1()
        },
        -9.0,
        9.0,
        24,
    )
}

/// The familywise error for the multivariate t with `df` degrees of freedom (infinite: the
/// normal). The outer
/// integral runs over `v = ln s`, where the density relative to its mode at `s = 1` is
/// `exp(df g(s))`, `g(s) = ln s - (s^2 - 1) / 2`. Since `g(s) <= ln s + 1/2`, `g(s) <= -(1 - s)^2`
/// below 1 and `g(s) <= -(s - 1)^2 / 2` above, the relative density is below `e^-40` outside
/// `[max(e^(-40/df - 1/2), 1 - sqrt(40/df)), 1 + sqrt(80/df)]`: small df (a long left tail of `s`
/// against very large critical values) and large df (mass close to 1) are both resolved.
fn equicorrelated(c: f64, k: usize, rho: f64, df: f64, two_sided: bool) -> f64 {
    if df.is_infinite() || df > 1e6 {
        return equicorrelated_normal(c, k, rho, two_sided);
    }
    // Density of s = sqrt(chi2_df / df): 2 (df/2)^(df/2) s^(df-1) e^(-df s^2 / 2) / Gamma(df/2),
    // times ds = s dv.
    let h = df / 2.0;
    let log_norm = std::f64::consts::LN_2 + h * h.ln() - ln_gamma(h);
    let lo = (-40.0 / df - 0.5).exp().max(1.0 - (40.0 / df).sqrt());
    let hi = 1.0 + (80.0 / df).sqrt();
    quadrature(
        |v| {
            let s = v.exp();
            let density = (log_norm + df * v - h * s * s).exp();
            density * equicorrelated_normal(c * s, k, rho, two_sided)
        },
        lo.ln(),
        hi.ln(),
        12,
    )
}

/// Critical value of `k` comparisons with a shared control at familywise level `alpha`, for
/// statistics with correlation `rho` and `df` degrees of freedom (infinite for z): the test
/// rejects comparison `i` when `|T_i| > c` (two-sided), `T_i > c` (greater) or `T_i < -c` (less).
pub fn critical_value(
    alpha: f64,
    k: usize,
    rho: f64,
    df: f64,
    alternative: Alternative,
    correction: Correction,
) -> Result<f64> {
    if !(alpha > 0.0 && alpha < 1.0) {
        return Err(NeymanError::invalid(
            "alpha",
            format!("{alpha} is not strictly between 0 and 1"),
        ));
    }
    if k == 0 {
        return Err(NeymanError::invalid(
            "arms",
            "at least one treatment arm is needed",
        ));
    }
    let two_sided = alternative == Alternative::TwoSided;
    let per_test = |a: f64| -> Result<f64> {
        let q = if two_sided { 1.0 - a / 2.0 } else { 1.0 - a };
        if df.is_infinite() {
            norm_ppf(q)
        } else {
            Reference::T(df).ppf(q)
        }
    };
    match correction {
        Correction::None => per_test(alpha),
        Correction::Bonferroni => per_test(alpha / k as f64),
        Correction::Dunnett if k == 1 => per_test(alpha),
        Correction::Dunnett => {
            if !(0.0..1.0).contains(&rho) {
                return Err(NeymanError::invalid(
                    "ratio",
                    format!("correlation {rho} of the comparisons must lie in [0, 1)"),
                ));
            }
            // Between the single-test value and Bonferroni's (which is conservative).
            let lo = per_test(alpha)? - 1e-9;
            let hi = per_test(alpha / k as f64)? + 1e-6;
            brent(
                "alpha",
                |c| Ok(alpha - equicorrelated(c, k, rho, df, two_sided)),
                lo,
                hi,
                1e-13,
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dunnett_table_values() {
        let dunnett = |k: usize, rho: f64, alternative: Alternative| {
            critical_value(
                0.05,
                k,
                rho,
                f64::INFINITY,
                alternative,
                Correction::Dunnett,
            )
            .unwrap()
        };
        // Dunnett (1964, Biometrics 20, table II): two-sided 5%, infinite df, rho = 1/2:
        // k = 2: 2.21, k = 4: 2.44; one-sided (Dunnett 1955, table 1a): k = 2: 1.92.
        for (k, alternative, table) in [
            (2, Alternative::TwoSided, 2.21),
            (4, Alternative::TwoSided, 2.44),
            (2, Alternative::Greater, 1.92),
        ] {
            let c = dunnett(k, 0.5, alternative);
            assert!((c - table).abs() < 0.005, "{k}: {c}");
        }
        // k = 1 is the single test; rho = 0 is Sidak's independent split.
        let c = dunnett(1, 0.5, Alternative::TwoSided);
        assert!((c - 1.959_963_984_540_054).abs() < 1e-9);
        let c = dunnett(3, 0.0, Alternative::Greater);
        let sidak = Reference::Normal.ppf(0.95f64.powf(1.0 / 3.0)).unwrap();
        assert!((c - sidak).abs() < 1e-9, "{c} vs {sidak}");
    }
}
