//! `BinaryCounts`: trials and successes of a 0/1 outcome, as integers, so merging loses nothing
//! however many rows.

use crate::error::{NeymanError, Result};

/// Trials and successes of one arm (pure counts).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BinaryCounts {
    /// Number of trials (rows equal to 0 or 1).
    pub trials: u64,
    /// Number of successes (rows equal to 1).
    pub successes: u64,
}

impl BinaryCounts {
    /// Build from counts; `successes <= trials`.
    pub fn from_parts(successes: u64, trials: u64) -> Result<Self> {
        if successes > trials {
            return Err(NeymanError::invalid(
                "successes",
                format!("{successes} exceeds trials = {trials}"),
            ));
        }
        Ok(Self { trials, successes })
    }

    /// Add the counts of disjoint rows.
    pub fn merge(&mut self, other: &BinaryCounts) {
        self.trials += other.trials;
        self.successes += other.successes;
    }

    /// Merged copy.
    pub fn merged(mut self, other: &BinaryCounts) -> BinaryCounts {
        self.merge(other);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_merge_and_validate() {
        let a = BinaryCounts::from_parts(3, 10).unwrap();
        let b = BinaryCounts::from_parts(0, 5).unwrap();
        assert_eq!(
            a.merged(&b),
            BinaryCounts {
                trials: 15,
                successes: 3
            }
        );
        assert_eq!(
            BinaryCounts::from_parts(11, 10).unwrap_err().arg(),
            "successes"
        );
    }
}
