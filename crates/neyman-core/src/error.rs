//! The one error type of the core. Every variant names the argument at fault and the problem, so the
//! binding layer can map it to a Python exception without losing the message.

use std::fmt;

/// Errors raised by the statistics core. No data path panics; each failure is one of these.
#[derive(Debug, Clone, PartialEq)]
pub enum NeymanError {
    /// An option or argument has a value outside its domain (`confidence_level = 1.5`).
    InvalidArgument { arg: String, msg: String },
    /// Too few usable observations to estimate what was asked.
    TooFewObservations { arg: String, n: u64, needed: u64 },
    /// Too few clusters (distinct ids with usable rows) for a cluster-robust variance.
    TooFewClusters { arg: String, n: u64, needed: u64 },
    /// The data carry no variation, so a standard error is zero and no test is defined.
    ZeroVariance { arg: String, msg: String },
    /// Two inputs that must align do not (`numerator` and `denominator` lengths).
    LengthMismatch {
        arg: String,
        other: String,
        len: usize,
        other_len: usize,
    },
    /// Pre-aggregated sums have cancelled so far that the statistic they imply carries too few
    /// correct digits (`sum_sq - sum^2 / n` for data whose mean is large against its spread).
    PrecisionLoss { arg: String, msg: String },
    /// The caller asked to stop (Ctrl-C) while a long kernel ran; see
    /// [`crate::parallel::set_interrupt_check`].
    Interrupted,
}

impl NeymanError {
    /// Shorthand for [`NeymanError::InvalidArgument`].
    pub fn invalid(arg: impl Into<String>, msg: impl Into<String>) -> Self {
        NeymanError::InvalidArgument {
            arg: arg.into(),
            msg: msg.into(),
        }
    }

    /// Name of the argument the error is about.
    pub fn arg(&self) -> &str {
        match self {
            NeymanError::InvalidArgument { arg, .. }
            | NeymanError::TooFewObservations { arg, .. }
            | NeymanError::TooFewClusters { arg, .. }
            | NeymanError::ZeroVariance { arg, .. }
            | NeymanError::LengthMismatch { arg, .. }
            | NeymanError::PrecisionLoss { arg, .. } => arg,
            NeymanError::Interrupted => "",
        }
    }
}

impl fmt::Display for NeymanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NeymanError::InvalidArgument { arg, msg } => write!(f, "{arg}: {msg}"),
            NeymanError::TooFewObservations { arg, n, needed } => {
                let noun = if *n == 1 {
                    "observation"
                } else {
                    "observations"
                };
                write!(f, "{arg} has {n} {noun}; at least {needed} are needed")
            }
            NeymanError::TooFewClusters { arg, n, needed } => {
                let noun = if *n == 1 { "cluster" } else { "clusters" };
                write!(f, "{arg} has {n} {noun}; at least {needed} are needed")
            }
            NeymanError::ZeroVariance { arg, msg } => write!(f, "{arg}: {msg}"),
            NeymanError::LengthMismatch {
                arg,
                other,
                len,
                other_len,
            } => write!(
                f,
                "{arg} has length {len} but {other} has length {other_len}; they must match"
            ),
            NeymanError::PrecisionLoss { arg, msg } => write!(f, "{arg}: {msg}"),
            NeymanError::Interrupted => write!(f, "interrupted"),
        }
    }
}

impl std::error::Error for NeymanError {}

/// Result alias used throughout the core.
pub type Result<T> = std::result::Result<T, NeymanError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precision_loss_names_its_argument() {
        let e = NeymanError::PrecisionLoss {
            arg: "sum_sq".into(),
            msg: "the sums have cancelled".into(),
        };
        assert_eq!(e.to_string(), "sum_sq: the sums have cancelled");
        assert_eq!(e.arg(), "sum_sq");
    }
}
