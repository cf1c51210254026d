//! Anytime-valid sample-ratio mismatch test (Lindon and Malek 2022, "Anytime-valid inference for
//! multinomial count data", NeurIPS): the Bayes factor of a Dirichlet-multinomial alternative
//! against the planned split `p`, after `x_i` units in arm `i` (`n` in all):
//!
//! ```text
//! BF = Gamma(A) / Gamma(A + n) prod_i Gamma(a_i + x_i) / Gamma(a_i) / prod_i p_i^x_i
//! ```
//!
//! with prior `Dirichlet(a)`, `a_i = c p_i` and `A = c` (`c` the prior concentration; 100 is the
//! default of Optimizely's `ssrm` implementation). `BF` is a nonnegative martingale under the
//! planned split, so `min(1, 1 / max BF)` over the looks is an always-valid p-value (Ville), and
//! looking at cumulative counts at any looks (a subsequence of the units) keeps that.

use crate::error::{NeymanError, Result};
use statrs::function::gamma::ln_gamma;

/// The sequential SRM test at each look.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SrmPath {
    /// `log BF` at each look.
    pub log_bf: Vec<f64>,
    /// The running minimum of `min(1, 1 / BF)`.
    pub pvalue: Vec<f64>,
}

/// The test over looks: `counts` holds the cumulative count of each arm at each look (row-major,
/// `weights.len()` per look; counts never decrease), `weights` the planned split (normalised
/// here), `concentration` the prior's `c`; `start` the p-value after earlier looks.
pub fn sequential_srm(
    counts: &[f64],
    weights: &[f64],
    concentration: f64,
    start: f64,
) -> Result<SrmPath> {
    let k = weights.len();
    if k < 2 {
        return Err(NeymanError::invalid(
            "weights",
            "at least two arms are needed",
        ));
    }
    if weights.iter().any(|w| !(w.is_finite() && *w > 0.0)) {
        return Err(NeymanError::invalid(
            "weights",
            "planned shares must be positive and finite",
        ));
    }
    if !(concentration > 0.0 && concentration.is_finite()) {
        return Err(NeymanError::invalid(
            "concentration",
            format!("must be positive and finite, got {concentration}"),
        ));
    }
    if !counts.len().is_multiple_of(k) {
        return Err(NeymanError::invalid(
            "counts",
            format!(
                "must hold {k} counts per look (one per arm), got {} values",
                counts.len()
            ),
        ));
    }
    let total: f64 = weights.iter().sum();
    let p: Vec<f64> = weights.iter().map(|w| w / total).collect();
    let a: Vec<f64> = p.iter().map(|pi| concentration * pi).collect();
    let mut out = SrmPath::default();
    let mut best = start.min(1.0);
    let mut prev = vec![0.0; k];
    for (look, row) in counts.chunks_exact(k).enumerate() {
        for (i, (&x, &before)) in row.iter().zip(&prev).enumerate() {
            if !(x >= 0.0 && x.is_finite() && x.fract() == 0.0) {
                return Err(NeymanError::invalid(
                    "counts",
                    format!("look {look}: arm {i} has count {x}; counts are whole numbers >= 0"),
                ));
            }
            if x < before {
                return Err(NeymanError::invalid(
                    "counts",
                    format!(
                        "look {look}: arm {i} has {x} units, fewer than the {before} of the look \
                         before; counts are cumulative"
                    ),
                ));
            }
        }
        prev.copy_from_slice(row);
        let n: f64 = row.iter().sum();
        let mut log_bf = ln_gamma(concentration) - ln_gamma(concentration + n);
        for i in 0..k {
            log_bf += ln_gamma(a[i] + row[i]) - ln_gamma(a[i]);
            if row[i] > 0.0 {
                log_bf -= row[i] * p[i].ln();
            }
        }
        best = best.min((-log_bf).exp().min(1.0));
        out.log_bf.push(log_bf);
        out.pvalue.push(best);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bayes_factor_of_one_unit_is_one() {
        // One unit: BF = Gamma(c) / Gamma(c + 1) Gamma(a_i + 1) / Gamma(a_i) / p_i = a_i / (c p_i) = 1.
        let s = sequential_srm(&[1.0, 0.0], &[0.3, 0.7], 100.0, 1.0).unwrap();
        assert!(s.log_bf[0].abs() < 1e-12);
        let s = sequential_srm(&[50.0, 50.0, 600.0, 400.0], &[1.0, 1.0], 100.0, 1.0).unwrap();
        assert!(s.pvalue[1] < 1e-3 && s.pvalue[0] == 1.0);
        assert!(sequential_srm(&[5.0, 5.0, 4.0, 9.0], &[1.0, 1.0], 100.0, 1.0).is_err());
    }
}
