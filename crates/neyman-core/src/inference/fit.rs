//! The fit of an adjustment (regression, post-stratification): the adjusted mean of every arm with
//! their covariance matrix and the arms' unadjusted moments, and the comparison of a treatment arm
//! with the control from it. Shared by the estimators that produce a fit, so that none imports
//! another.

use crate::error::{NeymanError, Result};
use crate::inference::adjusted::Adjusted;
use crate::inference::compare::{compare, Arm, Contrast};
use crate::inference::distributions::Reference;
use crate::inference::means::unpooled_difference;
use crate::inference::options::Options;
use crate::stats::Moments;

/// Heteroskedasticity-consistent covariance estimator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CovType {
    /// White's estimator.
    HC0,
    /// HC0 scaled by `n / (n - p)`.
    HC1,
    /// Residuals scaled by `1 / (1 - h_ii)`.
    HC2,
}

impl CovType {
    /// Parse `'HC0'`, `'HC1'` or `'HC2'`.
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "HC0" => Ok(CovType::HC0),
            "HC1" => Ok(CovType::HC1),
            "HC2" => Ok(CovType::HC2),
            _ => Err(NeymanError::invalid(
                "cov_type",
                format!("{s:?} is not one of 'HC0', 'HC1', 'HC2'"),
            )),
        }
    }
}

/// Adjusted means of every arm and their sandwich covariance, with unadjusted moments.
#[derive(Clone, Debug, PartialEq)]
pub struct Fit {
    /// Rows used per arm.
    pub n: Vec<u64>,
    /// Rows of an arm skipped because the outcome or a covariate was NaN or a category missing.
    pub n_incomplete: Vec<u64>,
    /// Rows of an arm with an infinite outcome or covariate.
    pub n_inf: Vec<u64>,
    /// Adjusted mean of each arm at the pooled covariate means.
    pub adjusted: Vec<f64>,
    /// Covariance matrix of `adjusted`.
    pub vcov: Vec<Vec<f64>>,
    /// Unadjusted mean of each arm (same rows).
    pub mean: Vec<f64>,
    /// Unadjusted sample variance of each arm (`n - 1` denominator).
    pub var: Vec<f64>,
    /// Number of model parameters.
    pub p: usize,
}

/// Compare arm `g` with the control (arm 0) from a fit: the adjusted effect `a_g - a_0` with its
/// sandwich variance against the normal, the relative effect `a_g / a_0 - 1` by the delta method
/// or Fieller with the covariance of the two adjusted means, and the unadjusted z-test beside it.
pub fn compare_fit(fit: &Fit, g: usize, opts: &Options) -> Result<Adjusted> {
    let (a0, ag) = (fit.adjusted[0], fit.adjusted[g]);
    let (v00, vgg, v0g) = (fit.vcov[0][0], fit.vcov[g][g], fit.vcov[0][g]);
    let var = (vgg + v00 - 2.0 * v0g).max(0.0);
    let unadjusted_var = fit.var[0] / fit.n[0] as f64 + fit.var[g] / fit.n[g] as f64;
    // An exact fit leaves only rounding in the adjusted variance.
    if var <= 1e-12 * unadjusted_var {
        return Err(NeymanError::ZeroVariance {
            arg: "y".into(),
            msg: "the adjusted standard error is zero (the covariates explain the outcome exactly)"
                .into(),
        });
    }
    let contrast = Contrast {
        control: Arm {
            value: a0,
            var: v00,
            n: fit.n[0],
        },
        treatment: Arm {
            value: ag,
            var: vgg,
            n: fit.n[g],
        },
        cov: v0g,
        var_effect: var,
        se_test: var.sqrt(),
        reference: Reference::Normal,
    };
    let adjusted = compare(&contrast, opts)?;
    let moments = |k: usize| Moments {
        n: fit.n[k],
        mean: fit.mean[k],
        m2: fit.var[k] * (fit.n[k] as f64 - 1.0),
    };
    let unadjusted = unpooled_difference(&moments(0), &moments(g), false, opts)?;
    Ok(Adjusted {
        adjusted,
        unadjusted,
        theta: f64::NAN,
        variance_ratio: var / (unadjusted.se * unadjusted.se),
    })
}
