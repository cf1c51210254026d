//! The options every comparison takes: the alternative hypothesis, the interval level and the
//! interval method for the relative effect.

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
