//! `Moments`: count, mean and sum of squared deviations (M2) of one variable, mergeable.
//!
//! Single values update by Welford's recurrence (Welford 1962); partial statistics merge by the
//! pairwise formula of Chan, Golub and LeVeque (1979, eq. 2.1):
//! `M2 = M2_a + M2_b + d^2 n_a n_b / n`, `d = mean_b - mean_a`. Columns are reduced by
//! [`crate::scan`].

use crate::error::{NeymanError, Result};
use crate::stats::checked_cancellation;

/// Count, mean and M2 (sum of squared deviations from the mean) of one variable.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Moments {
    /// Number of observations.
    pub n: u64,
    /// Arithmetic mean (0 when `n == 0`).
    pub mean: f64,
    /// Sum of squared deviations from the mean.
    pub m2: f64,
}

impl Moments {
    /// Empty statistic.
    pub fn new() -> Self {
        Self::default()
    }

    /// Build from the centred parts: count, mean and M2 (finite, `m2 >= 0`); the error names
    /// the bad field (`"mean"`, `"m2"`).
    pub fn from_parts(n: u64, mean: f64, m2: f64) -> Result<Self> {
        if !mean.is_finite() {
            return Err(NeymanError::invalid(
                "mean",
                format!("{mean} is not finite"),
            ));
        }
        if !m2.is_finite() || m2 < 0.0 {
            return Err(NeymanError::invalid(
                "m2",
                format!("{m2} must be finite and non-negative (a sum of squared deviations)"),
            ));
        }
        Ok(Self { n, mean, m2 })
    }

    /// Build from a count, a mean and a sample standard deviation (`ddof = 1`), as reports give
    /// them: `M2 = sd^2 (n - 1)`.
    pub fn from_mean_std(n: u64, mean: f64, sd: f64) -> Result<Self> {
        if !sd.is_finite() || sd < 0.0 {
            return Err(NeymanError::invalid(
                "std",
                format!("{sd} must be finite and non-negative"),
            ));
        }
        Self::from_parts(n, mean, sd * sd * n.saturating_sub(1) as f64)
    }

    /// Build from pre-aggregated sums (count, sum, sum of squares), e.g. computed in SQL.
    ///
    /// `M2 = sum_sq - sum^2 / n` cancels badly when the mean is large relative to the standard
    /// deviation; a small negative result from rounding is clipped to zero, sums that no data
    /// could produce (`sum_sq < sum^2 / n` beyond rounding) are an error, and sums that have
    /// cancelled beyond repair are a [`NeymanError::PrecisionLoss`] naming `sum_sq` (see
    /// [`crate::stats`]).
    pub fn from_sums(n: u64, sum: f64, sum_sq: f64) -> Result<Self> {
        if !sum.is_finite() || !sum_sq.is_finite() {
            return Err(NeymanError::invalid("sum", "sums must be finite"));
        }
        if sum_sq < 0.0 {
            return Err(NeymanError::invalid(
                "sum_sq",
                "a sum of squares cannot be negative",
            ));
        }
        if n == 0 {
            return Ok(Self::new());
        }
        let nf = n as f64;
        let mean = sum / nf;
        let m2 = sum_sq - sum * mean;
        // Rounding can leave a tiny negative M2; a large one means the sums are inconsistent.
        if m2 < -1e-9 * sum_sq {
            return Err(NeymanError::invalid(
                "sum_sq",
                format!(
                    "{sum_sq} is less than sum^2 / n = {}; no data have these sums",
                    sum * mean
                ),
            ));
        }
        let m2 = checked_cancellation(
            "sum_sq",
            m2.max(0.0),
            sum_sq,
            "(n, mean, m2), as in MeanStats(n, mean, m2)",
        )?;
        Ok(Self { n, mean, m2 })
    }

    /// Add one observation (Welford).
    pub fn update(&mut self, x: f64) {
        self.n += 1;
        let d = x - self.mean;
        self.mean += d / self.n as f64;
        self.m2 += d * (x - self.mean);
    }

    /// Merge another statistic into this one (Chan et al.).
    pub fn merge(&mut self, other: &Moments) {
        if other.n == 0 {
            return;
        }
        if self.n == 0 {
            *self = *other;
            return;
        }
        let (na, nb) = (self.n as f64, other.n as f64);
        let n = na + nb;
        let d = other.mean - self.mean;
        self.mean += d * (nb / n);
        self.m2 += other.m2 + d * d * (na * nb / n);
        self.n += other.n;
    }

    /// Merged copy.
    pub fn merged(mut self, other: &Moments) -> Moments {
        self.merge(other);
        self
    }

    /// Sample variance with `n - 1` in the denominator (NaN when `n < 2`).
    pub fn variance(&self) -> f64 {
        if self.n < 2 {
            f64::NAN
        } else {
            self.m2 / (self.n - 1) as f64
        }
    }

    /// Sum of the observations.
    pub fn sum(&self) -> f64 {
        self.mean * self.n as f64
    }

    /// The statistic of the data times `s` (a power of two, so exact barring overflow).
    pub fn scaled(&self, s: f64) -> Moments {
        Moments {
            n: self.n,
            mean: self.mean * s,
            m2: self.m2 * (s * s),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn from_mean_std_is_the_centred_form() {
        // 1, 2, 3, 4: mean 2.5, sd sqrt(5/3), M2 = 5.
        let m = Moments::from_mean_std(4, 2.5, (5.0f64 / 3.0).sqrt()).unwrap();
        assert!((m.m2 - 5.0).abs() < 1e-12);
        assert_eq!(Moments::from_mean_std(1, 3.0, 0.0).unwrap().m2, 0.0);
        assert!(Moments::from_mean_std(4, 2.5, -1.0).is_err());
    }

    use super::*;

    fn sums(xs: &[f64]) -> (f64, f64) {
        (xs.iter().sum(), xs.iter().map(|x| x * x).sum())
    }

    #[test]
    fn from_parts_names_the_bad_field() {
        assert!(Moments::from_parts(3, 1.0, 2.0).is_ok());
        assert_eq!(
            Moments::from_parts(3, f64::NAN, 2.0).unwrap_err().arg(),
            "mean"
        );
        assert_eq!(Moments::from_parts(3, 1.0, -1.0).unwrap_err().arg(), "m2");
        assert_eq!(
            Moments::from_parts(3, 1.0, f64::INFINITY)
                .unwrap_err()
                .arg(),
            "m2"
        );
    }

    #[test]
    fn from_sums_detects_cancellation() {
        // Mean 1e8, standard deviation 1, 1e5 rows: sum_sq ~ 1e21, whose rounding (~1e5) is
        // the size of M2 itself.
        let n = 100_000;
        let xs: Vec<f64> = (0..n)
            .map(|i| 1e8 + if i % 2 == 0 { 1.0 } else { -1.0 })
            .collect();
        let (s, ss) = sums(&xs);
        let e = Moments::from_sums(n as u64, s, ss).unwrap_err();
        assert!(matches!(e, NeymanError::PrecisionLoss { .. }), "{e}");
        assert_eq!(e.arg(), "sum_sq");
        assert!(e.to_string().contains("cancelled"), "{e}");
        assert!(e.to_string().contains("MeanStats(n, mean, m2)"), "{e}");
        // Mean 1e6: M2 keeps only a few digits, still an error; mean 1e3 keeps ten.
        let xs: Vec<f64> = (0..n).map(|i| 1e6 + f64::from(i % 3)).collect();
        let (s, ss) = sums(&xs);
        assert!(matches!(
            Moments::from_sums(n as u64, s, ss),
            Err(NeymanError::PrecisionLoss { .. })
        ));
        let xs: Vec<f64> = (0..n).map(|i| 1e3 + f64::from(i % 3)).collect();
        let (s, ss) = sums(&xs);
        let m = Moments::from_sums(n as u64, s, ss).unwrap();
        let mean = s / n as f64;
        let m2: f64 = xs.iter().map(|x| (x - mean) * (x - mean)).sum();
        assert!((m.m2 - m2).abs() < 1e-6 * m2);
    }

    #[test]
    fn constant_data_as_sums_have_zero_variance() {
        // Exact in float64: 4 rows of 3.
        let m = Moments::from_sums(4, 12.0, 36.0).unwrap();
        assert_eq!((m.mean, m.m2), (3.0, 0.0));
        // Ten rows of 0.1: the sums round, and cancel to a few ulp, not to zero.
        let xs = [0.1; 10];
        let (s, ss) = sums(&xs);
        assert_eq!(Moments::from_sums(10, s, ss).unwrap().m2, 0.0);
        // Constant data whose sums are too large to be exact cannot be told from lost digits.
        let e = Moments::from_sums(10, 1e9, 1e17).unwrap_err();
        assert!(matches!(e, NeymanError::PrecisionLoss { .. }));
    }

    #[test]
    fn from_sums_rejects_impossible_sums() {
        assert_eq!(
            Moments::from_sums(4, 10.0, 1.0).unwrap_err().arg(),
            "sum_sq"
        );
        assert_eq!(
            Moments::from_sums(4, f64::NAN, 1.0).unwrap_err().arg(),
            "sum"
        );
    }
}
