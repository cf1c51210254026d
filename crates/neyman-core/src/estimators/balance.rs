//! Covariate balance of a treatment arm against the control: standardized mean differences and
//! an omnibus randomization test.
//!
//! Standardized mean difference of covariate `x` (Austin 2009, eq. 1):
//! `smd = (mean_t - mean_c) / sqrt((s_t^2 + s_c^2) / 2)`.
//!
//! Omnibus test (Hansen and Bowers 2008, *Statistical Science* 23(2), sec. 3.1): with the `k`
//! covariate means' difference `d = mean_t - mean_c` of the two arms' `N = n_t + n_c` units, its
//! covariance under complete random assignment of `n_t` of the `N` units is
//! `V = N / (n_t n_c (N - 1)) S`, `S` the scatter matrix `sum (x_i - xbar)(x_i - xbar)'` of the `N`
//! units pooled; `d' V^-1 d` is asymptotically chi-square on `k` degrees of freedom.

use crate::error::{NeymanError, Result};
use crate::inference::chi2_sf;
use crate::linalg::spd_inverse;

/// Balance of one treatment arm against the control.
#[derive(Clone, Debug, PartialEq)]
pub struct Balance {
    /// Control units.
    pub n_control: u64,
    /// Treatment units.
    pub n_treatment: u64,
    /// Per covariate: control mean.
    pub mean_control: Vec<f64>,
    /// Per covariate: treatment mean.
    pub mean_treatment: Vec<f64>,
    /// Per covariate: standardized mean difference.
    pub smd: Vec<f64>,
    /// Hansen and Bowers' chi-square statistic.
    pub statistic: f64,
    /// Its degrees of freedom (the number of covariates).
    pub df: f64,
    /// Its upper-tail p-value.
    pub pvalue: f64,
}

/// Means and scatter matrix of the rows of arm `code`.
fn arm_moments(cols: &[&[f64]], codes: &[i64], code: i64) -> (u64, Vec<f64>, Vec<Vec<f64>>) {
    let k = cols.len();
    let rows: Vec<usize> = (0..codes.len()).filter(|&i| codes[i] == code).collect();
    let n = rows.len() as f64;
    let mean: Vec<f64> = cols
        .iter()
        .map(|c| rows.iter().map(|&i| c[i]).sum::<f64>() / n)
        .collect();
    let mut s = vec![vec![0.0; k]; k];
    for &i in &rows {
        for a in 0..k {
            let da = cols[a][i] - mean[a];
            for b in a..k {
                s[a][b] += da * (cols[b][i] - mean[b]);
            }
        }
    }
    for a in 0..k {
        for b in 0..a {
            s[a][b] = s[b][a];
        }
    }
    (rows.len() as u64, mean, s)
}

/// Balance of arm `treatment` against arm 0 on the covariate columns `cols` (row-aligned with the
/// arm `codes`); `names` name the covariates in errors.
pub fn balance(
    cols: &[&[f64]],
    names: &[String],
    codes: &[i64],
    treatment: i64,
) -> Result<Balance> {
    let k = cols.len();
    if k == 0 {
        return Err(NeymanError::invalid(
            "covariates",
            "at least one covariate is needed",
        ));
    }
    for (c, name) in cols.iter().zip(names) {
        if c.len() != codes.len() {
            return Err(NeymanError::LengthMismatch {
                arg: name.clone(),
                other: "variant".into(),
                len: c.len(),
                other_len: codes.len(),
            });
        }
        if c.iter().any(|v| !v.is_finite()) {
            return Err(NeymanError::invalid(
                name.as_str(),
                "has NaN or infinite values",
            ));
        }
    }
    let (nc, mc, sc) = arm_moments(cols, codes, 0);
    let (nt, mt, st) = arm_moments(cols, codes, treatment);
    for (arg, n) in [("control", nc), ("treatment", nt)] {
        if n < 2 {
            return Err(NeymanError::TooFewObservations {
                arg: arg.into(),
                n,
                needed: 2,
            });
        }
    }
    let (ncf, ntf) = (nc as f64, nt as f64);
    let total = ncf + ntf;
    let d: Vec<f64> = (0..k).map(|a| mt[a] - mc[a]).collect();
    let mut smd = Vec::with_capacity(k);
    for a in 0..k {
        let pooled = ((sc[a][a] / (ncf - 1.0) + st[a][a] / (ntf - 1.0)) / 2.0).sqrt();
        smd.push(if pooled > 0.0 {
            d[a] / pooled
        } else {
            f64::NAN
        });
    }
    // Pooled scatter of the two arms' units (Chan et al. merge) scaled to V.
    let w = ncf * ntf / total;
    let scale = total / (ncf * ntf * (total - 1.0));
    let v: Vec<Vec<f64>> = (0..k)
        .map(|a| {
            (0..k)
                .map(|b| scale * (sc[a][b] + st[a][b] + w * d[a] * d[b]))
                .collect()
        })
        .collect();
    let inv = spd_inverse(&v).map_err(|j| {
        NeymanError::invalid(
            names.get(j).map(String::as_str).unwrap_or("covariates"),
            "is constant or a linear combination of the covariates before it",
        )
    })?;
    let mut statistic = 0.0;
    for a in 0..k {
        for b in 0..k {
            statistic += d[a] * inv[a][b] * d[b];
        }
    }
    let df = k as f64;
    Ok(Balance {
        n_control: nc,
        n_treatment: nt,
        mean_control: mc,
        mean_treatment: mt,
        smd,
        statistic,
        df,
        pvalue: chi2_sf(statistic, df)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_covariate_is_the_squared_permutation_z() {
        // One covariate: d^2 / Var(d) with Var(d) = N s^2_pooled (N - 1)/N / (n_t n_c)... checked
        // by hand: x = [1, 2, 3 | 4, 5, 6], d = 3, S = 17.5, V = 6 / (9 * 5) * 17.5 = 7/3.
        let x = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let codes = [0, 0, 0, 1, 1, 1];
        let b = balance(&[&x], &["x".into()], &codes, 1).unwrap();
        assert!(
            (b.statistic - 9.0 / (7.0 / 3.0)).abs() < 1e-12,
            "{}",
            b.statistic
        );
        assert!((b.smd[0] - 3.0).abs() < 1e-12);
    }
}
