//! `RegressionSums`: the raw sums of one arm that regression adjustment from pre-aggregated data
//! needs (count, sums of the outcome and its square, of each covariate, of outcome times
//! covariate, and of covariate products). Sums add, so merging is elementwise addition.

use crate::error::{NeymanError, Result};

/// Pre-aggregated sums of one arm for regression adjustment (e.g. from SQL).
#[derive(Clone, Debug, PartialEq)]
pub struct RegressionSums {
    /// Units.
    pub n: u64,
    /// Sum of y.
    pub sum_y: f64,
    /// Sum of y^2.
    pub sum_y_sq: f64,
    /// Sums of each covariate.
    pub sum_x: Vec<f64>,
    /// Sums of y times each covariate.
    pub sum_xy: Vec<f64>,
    /// Sums of products of covariates (k x k).
    pub sum_xx: Vec<Vec<f64>>,
}

impl RegressionSums {
    /// Build from the sums; `sum_x` and `sum_xy` must have one entry per covariate and `sum_xx`
    /// be square of that size.
    pub fn from_parts(
        n: u64,
        sum_y: f64,
        sum_y_sq: f64,
        sum_x: Vec<f64>,
        sum_xy: Vec<f64>,
        sum_xx: Vec<Vec<f64>>,
    ) -> Result<Self> {
        let k = sum_x.len();
        if sum_xy.len() != k {
            return Err(NeymanError::LengthMismatch {
                arg: "sum_xy".into(),
                other: "sum_x".into(),
                len: sum_xy.len(),
                other_len: k,
            });
        }
        if sum_xx.len() != k || sum_xx.iter().any(|r| r.len() != k) {
            return Err(NeymanError::invalid(
                "sum_xx",
                format!("must be a {k} x {k} matrix (one row and column per covariate)"),
            ));
        }
        Ok(Self {
            n,
            sum_y,
            sum_y_sq,
            sum_x,
            sum_xy,
            sum_xx,
        })
    }

    /// Number of covariates.
    pub fn k(&self) -> usize {
        self.sum_x.len()
    }

    /// Add the sums of disjoint rows (same covariates).
    pub fn merge(&mut self, o: &RegressionSums) -> Result<()> {
        if o.k() != self.k() {
            return Err(NeymanError::invalid(
                "sums",
                format!(
                    "cannot merge sums of {} covariates into sums of {}",
                    o.k(),
                    self.k()
                ),
            ));
        }
        self.n += o.n;
        self.sum_y += o.sum_y;
        self.sum_y_sq += o.sum_y_sq;
        let add = |a: &mut [f64], b: &[f64]| a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
        add(&mut self.sum_x, &o.sum_x);
        add(&mut self.sum_xy, &o.sum_xy);
        for (a, b) in self.sum_xx.iter_mut().zip(&o.sum_xx) {
            add(a, b);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_checked_and_merge_adds() {
        let a = RegressionSums::from_parts(2, 3.0, 5.0, vec![1.0], vec![2.0], vec![vec![1.0]]);
        let mut a = a.unwrap();
        let b = RegressionSums::from_parts(1, 1.0, 1.0, vec![2.0], vec![2.0], vec![vec![4.0]]);
        a.merge(&b.unwrap()).unwrap();
        assert_eq!(
            (a.n, a.sum_y, a.sum_x[0], a.sum_xx[0][0]),
            (3, 4.0, 3.0, 5.0)
        );
        let bad = RegressionSums::from_parts(2, 3.0, 5.0, vec![1.0], vec![], vec![vec![1.0]]);
        assert_eq!(bad.unwrap_err().arg(), "sum_xy");
        let bad = RegressionSums::from_parts(2, 3.0, 5.0, vec![1.0], vec![1.0], vec![]);
        assert_eq!(bad.unwrap_err().arg(), "sum_xx");
        let other = RegressionSums::from_parts(1, 1.0, 1.0, vec![], vec![], vec![]).unwrap();
        assert!(a.merge(&other).is_err());
    }
}
