//! `CoMoments<K>`: count, means and the co-moment matrix (sums of cross-products of deviations) of
//! K variables observed together, mergeable.
//!
//! The merge is the multivariate form of Chan, Golub and LeVeque (1979):
//! `C = C_a + C_b + (n_a n_b / n) d d'`, `d = mean_b - mean_a`. Ratio metrics use K = 2
//! (numerator, denominator); CUPED uses K = 2 (outcome, covariate), ratio CUPED K = 4.

use crate::error::{NeymanError, Result};
use crate::stats::checked_cancellation;

/// What a caller passes instead of sums that have cancelled.
const CENTRED: &str = "(n, means, co-moment matrix)";

/// Count, means and co-moment matrix of K jointly observed variables.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CoMoments<const K: usize> {
    /// Number of rows.
    pub n: u64,
    /// Means of each variable.
    pub mean: [f64; K],
    /// `c[i][j] = sum over rows of (x_i - mean_i)(x_j - mean_j)`.
    pub c: [[f64; K]; K],
}

impl<const K: usize> Default for CoMoments<K> {
    fn default() -> Self {
        Self {
            n: 0,
            mean: [0.0; K],
            c: [[0.0; K]; K],
        }
    }
}

impl<const K: usize> CoMoments<K> {
    /// Empty statistic.
    pub fn new() -> Self {
        Self::default()
    }

    /// Add one row (multivariate Welford).
    pub fn update(&mut self, x: &[f64; K]) {
        self.n += 1;
        let nf = self.n as f64;
        let mut d = [0.0; K];
        for i in 0..K {
            d[i] = x[i] - self.mean[i];
            self.mean[i] += d[i] / nf;
        }
        for i in 0..K {
            for j in 0..K {
                self.c[i][j] += d[i] * (x[j] - self.mean[j]);
            }
        }
    }

    /// Merge another statistic into this one.
    pub fn merge(&mut self, o: &CoMoments<K>) {
        if o.n == 0 {
            return;
        }
        if self.n == 0 {
            *self = *o;
            return;
        }
        let (na, nb) = (self.n as f64, o.n as f64);
        let n = na + nb;
        let f = na * nb / n;
        let mut d = [0.0; K];
        for i in 0..K {
            d[i] = o.mean[i] - self.mean[i];
        }
        for i in 0..K {
            for j in 0..K {
                self.c[i][j] += o.c[i][j] + f * d[i] * d[j];
            }
            self.mean[i] += d[i] * (nb / n);
        }
        self.n += o.n;
    }

    /// Sample covariance of variables `i` and `j` (`n - 1` denominator; NaN when `n < 2`).
    pub fn cov(&self, i: usize, j: usize) -> f64 {
        if self.n < 2 {
            f64::NAN
        } else {
            self.c[i][j] / (self.n - 1) as f64
        }
    }
}

impl<const K: usize> CoMoments<K> {
    /// Build from pre-aggregated sums of K variables: count, sums, and the `K x K` matrix of sums
    /// of products. `names` name the variables in errors; a variable whose sums have cancelled
    /// is a [`NeymanError::PrecisionLoss`] (see [`crate::stats`]).
    pub fn from_product_sums(
        n: u64,
        sums: &[f64; K],
        products: &[[f64; K]; K],
        names: &[&str; K],
    ) -> Result<Self> {
        if sums
            .iter()
            .chain(products.iter().flatten())
            .any(|v| !v.is_finite())
        {
            return Err(NeymanError::invalid(
                "sums",
                "pre-aggregated sums must be finite",
            ));
        }
        if n == 0 {
            return Ok(Self::new());
        }
        let nf = n as f64;
        let mean: [f64; K] = std::array::from_fn(|a| sums[a] / nf);
        let mut c = [[0.0; K]; K];
        for a in 0..K {
            for b in 0..K {
                c[a][b] = products[a][b] - sums[a] * mean[b];
            }
        }
        for a in 0..K {
            if c[a][a] < -1e-9 * products[a][a].abs() {
                return Err(NeymanError::invalid(
                    names[a],
                    "its sum of squares is less than sum^2 / n; no data have these sums",
                ));
            }
            c[a][a] = c[a][a].max(0.0);
        }
        for a in 0..K {
            for b in 0..a {
                let slack = 1e-9 * (products[a][a].abs() * products[b][b].abs()).sqrt();
                if (c[a][b] - c[b][a]).abs() > slack + 1e-12 * c[a][b].abs() {
                    return Err(NeymanError::invalid(
                        "products",
                        "the matrix of sums of products must be symmetric",
                    ));
                }
                if c[a][b].abs() > (c[a][a] * c[b][b]).sqrt() * (1.0 + 1e-9) + slack {
                    return Err(NeymanError::invalid(
                        names[a],
                        format!(
                            "its cross-sum with {} implies a correlation beyond +/-1",
                            names[b]
                        ),
                    ));
                }
            }
        }
        for a in 0..K {
            let kept = checked_cancellation(names[a], c[a][a], products[a][a], CENTRED)?;
            if kept == 0.0 {
                zero_variable(&mut c, a);
            }
        }
        Ok(Self { n, mean, c })
    }
}

impl CoMoments<2> {
    /// Build from pre-aggregated sums: count, sums of x and y, sums of squares and the cross-sum.
    /// `names` are the caller's names of `(sxx, syy, sxy)`, used in errors. Sums whose
    /// cancellation leaves too few digits are a [`NeymanError::PrecisionLoss`] naming the sum of
    /// squares (see [`crate::stats`]).
    pub fn from_sums(
        n: u64,
        (sx, sy, sxx, syy, sxy): (f64, f64, f64, f64, f64),
        names: [&str; 3],
    ) -> Result<Self> {
        if [sx, sy, sxx, syy, sxy].iter().any(|v| !v.is_finite()) {
            return Err(NeymanError::invalid(
                "sums",
                "pre-aggregated sums must be finite",
            ));
        }
        if sxx < 0.0 || syy < 0.0 {
            return Err(NeymanError::invalid(
                if sxx < 0.0 { names[0] } else { names[1] },
                "a sum of squares cannot be negative",
            ));
        }
        if n == 0 {
            return Ok(Self::new());
        }
        let nf = n as f64;
        let (mx, my) = (sx / nf, sy / nf);
        let (cxx, cyy) = (sxx - sx * mx, syy - sy * my);
        for (c, raw, arg) in [(cxx, sxx, names[0]), (cyy, syy, names[1])] {
            if c < -1e-9 * raw {
                return Err(NeymanError::invalid(
                    arg,
                    "is less than sum^2 / n; no data have these sums",
                ));
            }
        }
        let (cxx, cyy) = (cxx.max(0.0), cyy.max(0.0));
        let cxy = sxy - sx * my;
        // Cauchy-Schwarz, with room for the rounding of co-moments computed from raw sums.
        let slack = 1e-9 * (sxx * syy).sqrt();
        if cxy.abs() > (cxx * cyy).sqrt() * (1.0 + 1e-9) + slack {
            return Err(NeymanError::invalid(
                names[2],
                "the cross-sum implies a correlation beyond +/-1; no data have these sums",
            ));
        }
        let mut c = [[cxx, cxy], [cxy, cyy]];
        for (a, (raw, arg)) in [(sxx, names[0]), (syy, names[1])].into_iter().enumerate() {
            if checked_cancellation(arg, c[a][a], raw, CENTRED)? == 0.0 {
                zero_variable(&mut c, a);
            }
        }
        Ok(Self {
            n,
            mean: [mx, my],
            c,
        })
    }
}

/// A variable whose sums cancelled completely (constant data): its row and column of co-moments
/// are exactly zero.
fn zero_variable<const K: usize>(c: &mut [[f64; K]; K], a: usize) {
    for b in 0..K {
        c[a][b] = 0.0;
        c[b][a] = 0.0;
    }
}

impl<const K: usize> CoMoments<K> {
    /// Build from centred parts: count, means and co-moment matrix, which must be finite and
    /// symmetric, with non-negative diagonal and cross-moments within the Cauchy-Schwarz bound
    /// `|c_ij| <= sqrt(c_ii c_jj)` up to rounding (`(1 + 1e-9) sqrt(c_ii c_jj) + 1e-9 (c_ii +
    /// c_jj)`). `names` name the variables in errors.
    pub fn from_parts(n: u64, mean: [f64; K], c: [[f64; K]; K], names: &[&str; K]) -> Result<Self> {
        for a in 0..K {
            if !mean[a].is_finite() {
                return Err(NeymanError::invalid(
                    names[a],
                    format!("its mean is {}, not finite", mean[a]),
                ));
            }
            if !c[a].iter().all(|v| v.is_finite()) {
                return Err(NeymanError::invalid(
                    names[a],
                    "its co-moments must be finite",
                ));
            }
            if c[a][a] < 0.0 {
                return Err(NeymanError::invalid(
                    names[a],
                    format!(
                        "its sum of squared deviations is {}; it cannot be negative",
                        c[a][a]
                    ),
                ));
            }
        }
        for a in 0..K {
            for b in 0..a {
                if c[a][b] != c[b][a] {
                    return Err(NeymanError::invalid(
                        names[a],
                        format!("the co-moment matrix must be symmetric (with {})", names[b]),
                    ));
                }
                let bound = (c[a][a] * c[b][b]).sqrt() * (1.0 + 1e-9) + 1e-9 * (c[a][a] + c[b][b]);
                if c[a][b].abs() > bound {
                    return Err(NeymanError::invalid(
                        names[a],
                        format!(
                            "its co-moment with {} implies a correlation beyond +/-1",
                            names[b]
                        ),
                    ));
                }
            }
        }
        Ok(Self { n, mean, c })
    }

    /// The statistic of the data with variable `i` times `s[i]` (powers of two, so exact barring
    /// overflow).
    pub fn scaled(&self, s: &[f64; K]) -> CoMoments<K> {
        CoMoments {
            n: self.n,
            mean: std::array::from_fn(|i| self.mean[i] * s[i]),
            c: std::array::from_fn(|i| std::array::from_fn(|j| self.c[i][j] * (s[i] * s[j]))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_parts_checks_each_field() {
        let names = ["x", "y"];
        let ok = CoMoments::<2>::from_parts(4, [1.0, 2.0], [[5.0, 2.0], [2.0, 4.0]], &names);
        assert!(ok.is_ok());
        let bad_mean =
            CoMoments::<2>::from_parts(4, [1.0, f64::NAN], [[5.0, 2.0], [2.0, 4.0]], &names);
        assert_eq!(bad_mean.unwrap_err().arg(), "y");
        let negative = CoMoments::<2>::from_parts(4, [1.0, 2.0], [[-5.0, 0.0], [0.0, 4.0]], &names);
        assert_eq!(negative.unwrap_err().arg(), "x");
        let asym = CoMoments::<2>::from_parts(4, [1.0, 2.0], [[5.0, 2.0], [1.0, 4.0]], &names);
        assert!(asym.unwrap_err().to_string().contains("symmetric"));
        let beyond = CoMoments::<2>::from_parts(4, [1.0, 2.0], [[1.0, 3.0], [3.0, 4.0]], &names);
        assert!(beyond.unwrap_err().to_string().contains("correlation"));
        // On the bound (perfect correlation) is fine.
        assert!(
            CoMoments::<2>::from_parts(4, [1.0, 2.0], [[1.0, 2.0], [2.0, 4.0]], &names).is_ok()
        );
    }

    #[test]
    fn from_sums_detect_cancellation_in_each_variable() {
        // x with mean 1e8 and unit spread over 1e5 rows; y well conditioned.
        let n = 100_000u64;
        let x: Vec<f64> = (0..n)
            .map(|i| 1e8 + if i % 2 == 0 { 1.0 } else { -1.0 })
            .collect();
        let y: Vec<f64> = (0..n).map(|i| (i % 7) as f64).collect();
        let s = |v: &[f64]| v.iter().sum::<f64>();
        let p = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(u, v)| u * v).sum::<f64>();
        let sums = (s(&y), s(&x), p(&y, &y), p(&x, &x), p(&x, &y));
        let e = CoMoments::<2>::from_sums(n, sums, ["sum_y_sq", "sum_x_sq", "sum_xy"]).unwrap_err();
        assert!(matches!(e, NeymanError::PrecisionLoss { .. }));
        assert_eq!(e.arg(), "sum_x_sq");
        let cols = [&y[..], &x[..]];
        let sums4: [f64; 2] = std::array::from_fn(|a| s(cols[a]));
        let products: [[f64; 2]; 2] =
            std::array::from_fn(|a| std::array::from_fn(|b| p(cols[a], cols[b])));
        let e = CoMoments::<2>::from_product_sums(n, &sums4, &products, &["y", "x"]).unwrap_err();
        assert!(matches!(e, NeymanError::PrecisionLoss { .. }));
        assert_eq!(e.arg(), "x");
    }

    #[test]
    fn constant_variable_from_sums_is_exactly_zero() {
        // Ten rows of x = 0.1 beside a varying y: the sums round, x's row of co-moments is 0.
        let y: Vec<f64> = (0..10).map(f64::from).collect();
        let x = [0.1; 10];
        let s = |v: &[f64]| v.iter().sum::<f64>();
        let p = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(u, v)| u * v).sum::<f64>();
        let c = CoMoments::<2>::from_sums(
            10,
            (s(&y), s(&x), p(&y, &y), p(&x, &x), p(&x, &y)),
            ["a", "b", "c"],
        )
        .unwrap();
        assert_eq!((c.c[1][1], c.c[0][1], c.c[1][0]), (0.0, 0.0, 0.0));
        assert!((c.c[0][0] - 82.5).abs() < 1e-12);
        // Exact constant data (four rows of 3) stay a normal zero-variance statistic.
        let c =
            CoMoments::<2>::from_sums(4, (4.0, 12.0, 6.0, 36.0, 12.0), ["a", "b", "c"]).unwrap();
        assert_eq!(c.c[1][1], 0.0);
    }
}
