//! Sample-ratio mismatch check: Pearson's chi-square goodness-of-fit test of the realised arm
//! counts against the planned allocation, `X^2 = sum (o_i - N p_i)^2 / (N p_i)` on `k - 1` degrees
//! of freedom (Fabijan et al. 2019 recommend flagging p < 0.0005).

use crate::error::{NeymanError, Result};
use crate::inference::chi2_sf;

/// Result of the chi-square goodness-of-fit test.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Srm {
    /// Pearson's chi-square statistic.
    pub statistic: f64,
    /// Upper-tail p-value.
    pub pvalue: f64,
    /// Degrees of freedom, `k - 1`.
    pub df: f64,
}

/// Chi-square test of `observed` counts against planned `weights` (normalised to sum to 1).
pub fn srm_test(observed: &[f64], weights: &[f64]) -> Result<Srm> {
    if observed.len() != weights.len() {
        return Err(NeymanError::LengthMismatch {
            arg: "planned_split".into(),
            other: "observed counts".into(),
            len: weights.len(),
            other_len: observed.len(),
        });
    }
    if observed.len() < 2 {
        return Err(NeymanError::invalid(
            "observed",
            "at least two arms are needed",
        ));
    }
    if weights.iter().any(|w| !(w.is_finite() && *w > 0.0)) {
        return Err(NeymanError::invalid(
            "planned_split",
            "every weight must be positive and finite",
        ));
    }
    if observed.iter().any(|o| !(o.is_finite() && *o >= 0.0)) {
        return Err(NeymanError::invalid(
            "observed",
            "counts must be non-negative",
        ));
    }
    let total: f64 = observed.iter().sum();
    if total <= 0.0 {
        return Err(NeymanError::invalid("observed", "no units were observed"));
    }
    let wsum: f64 = weights.iter().sum();
    let statistic: f64 = observed
        .iter()
        .zip(weights)
        .map(|(o, w)| {
            let e = total * w / wsum;
            (o - e) * (o - e) / e
        })
        .sum();
    let df = (observed.len() - 1) as f64;
    Ok(Srm {
        statistic,
        pvalue: chi2_sf(statistic, df)?,
        df,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_worked_chi_square() {
        // 520 vs 480 against 50/50: (20^2 + 20^2)/500 = 1.6 on 1 df, p = 0.2059032.
        let r = srm_test(&[520.0, 480.0], &[1.0, 1.0]).unwrap();
        assert!((r.statistic - 1.6).abs() < 1e-12);
        assert!(
            (r.pvalue - 0.205_903_210_155_4).abs() < 1e-9,
            "{}",
            r.pvalue
        );
    }
}
