//! The result of an adjusted comparison (CUPED, regression adjustment): the adjusted comparison
//! with the unadjusted one beside it.

use crate::inference::compare::Comparison;

/// An adjusted comparison: the adjusted result, the unadjusted one beside it, the coefficient
/// (CUPED's theta; NaN for regression), and the ratio of adjusted to unadjusted variance of the
/// effect.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Adjusted {
    /// The adjusted comparison (`treatment_value` is `M_c + effect`).
    pub adjusted: Comparison,
    /// The same comparison without adjustment.
    pub unadjusted: Comparison,
    /// The pooled coefficient (CUPED's theta; NaN where there is no single coefficient).
    pub theta: f64,
    /// `Var(adjusted effect) / Var(unadjusted effect)`; `1 - rho^2` in large samples.
    pub variance_ratio: f64,
}
