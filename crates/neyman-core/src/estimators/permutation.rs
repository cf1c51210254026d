//! Permutation (randomisation) tests of a difference in means, or a relative lift, between two
//! arms of units: each unit carries a sum and a count (one row: its value and 1; a cluster: the
//! sum of its rows and their number, for re-randomisation at the cluster level).
//!
//! Under the sharp null the arm labels are exchangeable, so the statistic of every reassignment
//! of the treatment's `m` units is equally likely. Monte-Carlo: each replicate draws a uniform
//! random `m`-subset by a partial Fisher-Yates shuffle (`m` bounded draws, Lemire's method, of
//! the smaller arm's size), continuing from the previous replicate's arrangement (a partial
//! shuffle of any arrangement gives a uniform subset). Replicates run in fixed blocks of
//! [`BLOCK`], block `b` drawing from `rng::block_rng(seed, b)`: the same null distribution, in the
//! same order, on any number of threads. Exact: every `m`-subset once (lexicographic order).
//!
//! p-values as `scipy.stats.permutation_test` defines them: 'greater' counts replicates
//! `>= observed - gamma`, 'less' `<= observed + gamma` (`gamma = 1e-14 |observed|`, so ties in
//! floating point count), the count plus one over the replicates plus one for Monte-Carlo
//! (Phipson and Smyth 2010) and plain for exact tests; two-sided is twice the smaller, at most 1.

use rand::RngExt;

use crate::error::{NeymanError, Result};
use crate::inference::options::Alternative;
use crate::parallel::reduce_indexed;
use crate::rng::block_rng;

/// Replicates per block of the random stream.
pub const BLOCK: u64 = 64;

/// The largest exact enumeration.
pub const MAX_EXACT: f64 = 1e7;

/// The statistic compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Statistic {
    /// `mean_t - mean_c`.
    MeanDiff,
    /// `mean_t / mean_c - 1`.
    RelativeLift,
}

impl Statistic {
    /// Parse `'mean_diff'` or `'relative_lift'`.
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "mean_diff" => Ok(Statistic::MeanDiff),
            "relative_lift" => Ok(Statistic::RelativeLift),
            _ => Err(NeymanError::invalid(
                "statistic",
                format!("{s:?} is not one of 'mean_diff', 'relative_lift'"),
            )),
        }
    }

    #[inline]
    fn of(self, st: f64, nt: f64, s: f64, n: f64) -> f64 {
        let (mt, mc) = (st / nt, (s - st) / (n - nt));
        match self {
            Statistic::MeanDiff => mt - mc,
            Statistic::RelativeLift => mt / mc - 1.0,
        }
    }
}

/// The test's result.
#[derive(Clone, Debug, PartialEq)]
pub struct Permutation {
    /// The observed statistic.
    pub statistic: f64,
    /// The p-value.
    pub pvalue: f64,
    /// The statistic of each replicate (or arrangement).
    pub null: Vec<f64>,
    /// Whether every arrangement was enumerated.
    pub exact: bool,
}

/// `log C(n, m)`.
fn log_choose(n: usize, m: usize) -> f64 {
    use statrs::function::gamma::ln_gamma;
    ln_gamma(n as f64 + 1.0) - ln_gamma(m as f64 + 1.0) - ln_gamma((n - m) as f64 + 1.0)
}

/// The number of arrangements of `m` treatment units among `n` (as f64, may be huge).
pub fn arrangements(n: usize, m: usize) -> f64 {
    log_choose(n, m).exp().round()
}

/// The test: units `0..n_control` are the control's, the rest the treatment's; `sums` and
/// `counts` per unit; `n_resamples` replicates, or `None` for exact enumeration.
pub fn permutation_test(
    sums: &[f64],
    counts: &[f64],
    n_control: usize,
    statistic: Statistic,
    n_resamples: Option<u64>,
    seed: u64,
    alternative: Alternative,
) -> Result<Permutation> {
    let n = sums.len();
    if counts.len() != n {
        return Err(NeymanError::LengthMismatch {
            arg: "counts".into(),
            other: "sums".into(),
            len: counts.len(),
            other_len: n,
        });
    }
    if n_control < 1 || n_control >= n {
        return Err(NeymanError::invalid(
            "treatment",
            "both arms need at least one unit",
        ));
    }
    if let Some(bad) = sums.iter().chain(counts).find(|v| !v.is_finite()) {
        return Err(NeymanError::invalid(
            "values",
            format!("must be finite, got {bad}"),
        ));
    }
    let total: f64 = sums.iter().sum();
    let total_n: f64 = counts.iter().sum();
    let st: f64 = sums[n_control..].iter().sum();
    let nt: f64 = counts[n_control..].iter().sum();
    let observed = statistic.of(st, nt, total, total_n);
    let m_t = n - n_control;
    let (null, exact) = match n_resamples {
        None => {
            let count = arrangements(n, m_t);
            if count > MAX_EXACT {
                return Err(NeymanError::invalid(
                    "n_resamples",
                    format!(
                        "exact enumeration needs {count:.3e} arrangements of the {m_t} treatment \
                         units among {n}; at most {MAX_EXACT:.0e} are enumerated (give a number \
                         of resamples)"
                    ),
                ));
            }
            (
                exact_null(sums, counts, m_t, statistic, total, total_n),
                true,
            )
        }
        Some(0) => {
            return Err(NeymanError::invalid("n_resamples", "must be at least 1"));
        }
        Some(b) => (
            monte_carlo_null(sums, counts, m_t, statistic, total, total_n, b, seed)?,
            false,
        ),
    };
    let gamma = (1e-14 * observed).abs();
    let adjust = if exact { 0.0 } else { 1.0 };
    let b = null.len() as f64;
    let frac = |hits: usize| (hits as f64 + adjust) / (b + adjust);
    let greater = || frac(null.iter().filter(|&&v| v >= observed - gamma).count());
    let less = || frac(null.iter().filter(|&&v| v <= observed + gamma).count());
    let pvalue = match alternative {
        Alternative::Greater => greater(),
        Alternative::Less => less(),
        Alternative::TwoSided => (2.0 * greater().min(less())).min(1.0),
    };
    Ok(Permutation {
        statistic: observed,
        pvalue,
        null,
        exact,
    })
}

/// Every `m`-subset of the `n` units as the treatment, in lexicographic order.
fn exact_null(
    sums: &[f64],
    counts: &[f64],
    m: usize,
    statistic: Statistic,
    total: f64,
    total_n: f64,
) -> Vec<f64> {
    let n = sums.len();
    let mut idx: Vec<usize> = (0..m).collect();
    let mut out = Vec::new();
    loop {
        let st: f64 = idx.iter().map(|&i| sums[i]).sum();
        let nt: f64 = idx.iter().map(|&i| counts[i]).sum();
        out.push(statistic.of(st, nt, total, total_n));
        // The next combination: the rightmost index that can move, then the rest after it.
        let Some(i) = (0..m).rev().find(|&i| idx[i] < n - m + i) else {
            break;
        };
        idx[i] += 1;
        for j in i + 1..m {
            idx[j] = idx[j - 1] + 1;
        }
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn monte_carlo_null(
    sums: &[f64],
    counts: &[f64],
    m_t: usize,
    statistic: Statistic,
    total: f64,
    total_n: f64,
    n_resamples: u64,
    seed: u64,
) -> Result<Vec<f64>> {
    let n = sums.len();
    // Draw the smaller arm; the treatment's sums follow from the totals.
    let (m, drawn_is_treatment) = if m_t <= n - m_t {
        (m_t, true)
    } else {
        (n - m_t, false)
    };
    let n_blocks = n_resamples.div_ceil(BLOCK) as usize;
    let units: Vec<(f64, f64)> = sums.iter().copied().zip(counts.iter().copied()).collect();
    let out = reduce_indexed(
        n_blocks,
        |b| -> Vec<f64> {
            let mut rng = block_rng(seed, b as u64);
            let mut w = units.clone();
            let reps = BLOCK.min(n_resamples - b as u64 * BLOCK) as usize;
            let mut null = Vec::with_capacity(reps);
            for _ in 0..reps {
                let (mut s, mut c) = (0.0, 0.0);
                for i in 0..m {
                    let j = i + rng.random_range(0..n - i);
                    w.swap(i, j);
                    s += w[i].0;
                    c += w[i].1;
                }
                let (st, nt) = if drawn_is_treatment {
                    (s, c)
                } else {
                    (total - s, total_n - c)
                };
                null.push(statistic.of(st, nt, total, total_n));
            }
            null
        },
        |mut a, b| {
            a.extend(b);
            a
        },
    )?;
    Ok(out.unwrap_or_default())
}

/// The random-number floor of a permutation test: `count` bounded draws (Lemire, below `bound`)
/// from the same streams (blocks of `per_block`), summed so that none is optimised away.
pub fn index_floor(count: u64, bound: usize, per_block: u64, seed: u64) -> Result<f64> {
    let per_block = per_block.max(1);
    let n_blocks = count.div_ceil(per_block) as usize;
    let bound = bound.max(1);
    let total = reduce_indexed(
        n_blocks,
        |b| {
            let mut rng = block_rng(seed, b as u64);
            let m = per_block.min(count - b as u64 * per_block);
            let mut s = 0usize;
            for _ in 0..m {
                s = s.wrapping_add(rng.random_range(0..bound));
            }
            s as f64
        },
        |a, b| a + b,
    )?;
    Ok(total.unwrap_or(0.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_enumeration_counts_and_pvalue() {
        // Control 1, 2; treatment 3, 4: the observed difference 2 is the largest of C(4, 2) = 6.
        let s = [1.0, 2.0, 3.0, 4.0];
        let c = [1.0; 4];
        let r = permutation_test(
            &s,
            &c,
            2,
            Statistic::MeanDiff,
            None,
            0,
            Alternative::Greater,
        )
        .unwrap();
        assert_eq!(r.null.len(), 6);
        assert!((r.statistic - 2.0).abs() < 1e-15);
        assert!((r.pvalue - 1.0 / 6.0).abs() < 1e-15);
    }

    #[test]
    fn monte_carlo_is_seeded() {
        let s: Vec<f64> = (0..200).map(|i| f64::from(i % 17)).collect();
        let c = vec![1.0; 200];
        let run = |seed| {
            permutation_test(
                &s,
                &c,
                120,
                Statistic::MeanDiff,
                Some(500),
                seed,
                Alternative::TwoSided,
            )
            .unwrap()
        };
        assert_eq!(run(3), run(3));
        assert_ne!(run(3).null, run(4).null);
        assert_eq!(run(3).null.len(), 500);
    }
}
