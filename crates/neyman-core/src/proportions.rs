//! Two independent proportions: the pooled z-test, Wald and Newcombe hybrid-score intervals for
//! the difference, and the relative lift.
//!
//! Test: `z = (p_t - p_c) / sqrt(p (1 - p) (1/n_t + 1/n_c))` with the pooled `p` (the score test
//! of `p_t = p_c`). Wald interval: `d +/- z sqrt(p_t(1-p_t)/n_t + p_c(1-p_c)/n_c)`. Newcombe (1998,
//! method 10): Wilson score intervals `(l_t, u_t)`, `(l_c, u_c)` for each arm, then
//! `[d - sqrt((p_t - l_t)^2 + (u_c - p_c)^2), d + sqrt((u_t - p_t)^2 + (p_c - l_c)^2)]`.
//! Relative lift `p_t / p_c - 1` by the delta method or Fieller with binomial variances.

use crate::codes::{out_of_range, out_of_range_error, Code};
use crate::comoments::weights;
use crate::error::{NeymanError, Result};
use crate::inference::{compare, Alternative, Comparison, Options, Reference};
use crate::moments::{INNER_BLOCK, LANES};
use crate::parallel::reduce_blocks;

/// Interval method for the difference of proportions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProportionCi {
    /// Wald (normal approximation with unpooled variance).
    Wald,
    /// Newcombe's hybrid score interval (recommended for small counts or rare events).
    Newcombe,
}

impl ProportionCi {
    /// Parse `'wald'` or `'newcombe'`.
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "wald" => Ok(ProportionCi::Wald),
            "newcombe" => Ok(ProportionCi::Newcombe),
            _ => Err(NeymanError::invalid(
                "ci_method",
                format!("{s:?} is not one of 'wald', 'newcombe'"),
            )),
        }
    }
}

/// Successes and trials of one arm.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Counts {
    /// Number of successes.
    pub successes: f64,
    /// Number of trials.
    pub trials: u64,
}

fn check(arg: &str, c: &Counts) -> Result<()> {
    if c.trials < 2 {
        return Err(NeymanError::TooFewObservations {
            arg: arg.into(),
            n: c.trials,
            needed: 2,
        });
    }
    if !(c.successes >= 0.0 && c.successes <= c.trials as f64) || c.successes.fract() != 0.0 {
        return Err(NeymanError::invalid(
            arg,
            format!(
                "successes = {} must be a whole number between 0 and trials = {}",
                c.successes, c.trials
            ),
        ));
    }
    Ok(())
}

/// Wilson score interval for one proportion at critical value `z` (Wilson 1927).
pub fn wilson(successes: f64, trials: f64, z: f64) -> (f64, f64) {
    let p = successes / trials;
    let z2 = z * z;
    let denom = 1.0 + z2 / trials;
    let center = (p + z2 / (2.0 * trials)) / denom;
    let half = z / denom * (p * (1.0 - p) / trials + z2 / (4.0 * trials * trials)).sqrt();
    ((center - half).max(0.0), (center + half).min(1.0))
}

/// Compare two proportions.
pub fn proportion_test(
    control: &Counts,
    treatment: &Counts,
    ci: ProportionCi,
    opts: &Options,
) -> Result<Comparison> {
    check("control", control)?;
    check("treatment", treatment)?;
    let (nc, nt) = (control.trials as f64, treatment.trials as f64);
    let (pc, pt) = (control.successes / nc, treatment.successes / nt);
    let pooled = (control.successes + treatment.successes) / (nc + nt);
    if pooled == 0.0 || pooled == 1.0 {
        return Err(NeymanError::ZeroVariance {
            arg: "control, treatment".into(),
            msg: format!(
                "every observation in both arms is {}, so the z-test is undefined",
                pooled as u8
            ),
        });
    }
    let se_test = (pooled * (1.0 - pooled) * (1.0 / nc + 1.0 / nt)).sqrt();
    let vc = pc * (1.0 - pc) / nc;
    let vt = pt * (1.0 - pt) / nt;
    let mut out = compare(
        pc,
        pt,
        vc,
        vt,
        se_test,
        Reference::Normal,
        control.trials,
        treatment.trials,
        opts,
    )?;
    if ci == ProportionCi::Newcombe {
        let z = Reference::Normal.critical(opts.alternative, opts.confidence_level)?;
        let (lt, ut) = wilson(treatment.successes, nt, z);
        let (lc, uc) = wilson(control.successes, nc, z);
        let d = pt - pc;
        let lo = d - ((pt - lt).powi(2) + (uc - pc).powi(2)).sqrt();
        let hi = d + ((ut - pt).powi(2) + (pc - lc).powi(2)).sqrt();
        (out.ci_low, out.ci_high) = match opts.alternative {
            Alternative::TwoSided => (lo, hi),
            Alternative::Greater => (lo, f64::INFINITY),
            Alternative::Less => (f64::NEG_INFINITY, hi),
        };
    }
    Ok(out)
}

/// Per-group tallies of a 0/1 outcome column.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct BinaryCounts {
    /// Rows equal to 0 or 1.
    pub trials: u64,
    /// Rows equal to 1.
    pub successes: u64,
    /// NaN rows.
    pub n_nan: u64,
    /// Infinite rows.
    pub n_inf: u64,
    /// Finite rows that are neither 0 nor 1.
    pub n_invalid: u64,
}

impl BinaryCounts {
    fn add(mut self, o: BinaryCounts) -> Self {
        self.trials += o.trials;
        self.successes += o.successes;
        self.n_nan += o.n_nan;
        self.n_inf += o.n_inf;
        self.n_invalid += o.n_invalid;
        self
    }
}

/// Count trials and successes of a 0/1 column per group in one pass (`codes = None`: one group;
/// negative codes: rows in no group). Integer counts, so nothing is lost however many rows.
pub fn binary_counts_of<C: Code>(
    xs: &[f64],
    codes: Option<&[C]>,
    n_groups: usize,
) -> Result<Vec<BinaryCounts>> {
    if let Some(g) = codes {
        if g.len() != xs.len() {
            return Err(NeymanError::LengthMismatch {
                arg: "codes".into(),
                other: "values".into(),
                len: g.len(),
                other_len: xs.len(),
            });
        }
    }
    // Per block range: the tallies and the largest out-of-range code (each sub-block's codes are
    // checked while in cache; a bad sub-block is not tallied).
    let map = |r: std::ops::Range<usize>| -> (Vec<BinaryCounts>, Option<i64>) {
        let mut acc = vec![BinaryCounts::default(); n_groups];
        let mut bad_code = None;
        let mut start = r.start;
        while start < r.end {
            let end = (start + INNER_BLOCK).min(r.end);
            let xb = &xs[start..end];
            let gb = codes.map(|g| &g[start..end]);
            if let Some(bad) = gb.and_then(|g| out_of_range(g, n_groups)) {
                bad_code = bad_code.max(Some(bad));
                start = end;
                continue;
            }
            let fast = if n_groups <= 8 {
                binary_block_dispatch(xb, gb, n_groups)
            } else {
                None
            };
            let part = fast.unwrap_or_else(|| binary_block_scalar(xb, gb, n_groups));
            for (a, p) in acc.iter_mut().zip(part) {
                *a = a.add(p);
            }
            start = end;
        }
        (acc, bad_code)
    };
    type Part = (Vec<BinaryCounts>, Option<i64>);
    let merge = |(a, ba): Part, (b, bb): Part| {
        let tallies = a.into_iter().zip(b).map(|(x, y)| x.add(y)).collect();
        (tallies, ba.max(bb))
    };
    match reduce_blocks(xs.len(), map, merge)? {
        Some((_, Some(bad))) => Err(out_of_range_error(bad, n_groups)),
        Some((tallies, None)) => Ok(tallies),
        None => Ok(vec![BinaryCounts::default(); n_groups]),
    }
}

/// Per-group tallies of a block, one row at a time (any values, any number of groups).
fn binary_block_scalar<C: Code>(
    xs: &[f64],
    codes: Option<&[C]>,
    n_groups: usize,
) -> Vec<BinaryCounts> {
    let mut acc = vec![BinaryCounts::default(); n_groups];
    for (i, &v) in xs.iter().enumerate() {
        let k = codes.map_or(0, |g| g[i].index());
        if k < 0 {
            continue;
        }
        let a = &mut acc[k as usize];
        if v == 0.0 || v == 1.0 {
            a.trials += 1;
            a.successes += (v == 1.0) as u64;
        } else if v.is_nan() {
            a.n_nan += 1;
        } else if v.is_infinite() {
            a.n_inf += 1;
        } else {
            a.n_invalid += 1;
        }
    }
    acc
}

/// Vectorised tallies of a block whose values are all 0 or 1, by arithmetic only: with 0/1 group
/// weights `w`, trials are `sum w`, successes `sum w x`, and `sum w |x (x - 1)|` is zero exactly
/// when every value is 0 or 1 (each term is non-negative and non-zero otherwise; NaN or infinity
/// make it non-finite). `None` when some value is neither, so the caller takes the scalar path.
#[inline(always)]
fn binary_block<C: Code>(
    xs: &[f64],
    codes: Option<&[C]>,
    n_groups: usize,
) -> Option<Vec<BinaryCounts>> {
    let mut out = Vec::with_capacity(n_groups);
    let full = xs.len() / LANES * LANES;
    for k in 0..n_groups {
        let code = k as i64;
        let mut rows = [0.0f64; LANES];
        let mut ones = [0.0f64; LANES];
        let mut bad = [0.0f64; LANES];
        let mut i = 0;
        while i < full {
            let xc = &xs[i..i + LANES];
            let w = match codes {
                Some(g) => weights(&g[i..i + LANES], code),
                None => [1.0; LANES],
            };
            for l in 0..LANES {
                rows[l] += w[l];
                ones[l] += w[l] * xc[l];
                bad[l] += w[l] * (xc[l] * (xc[l] - 1.0)).abs();
            }
            i += LANES;
        }
        for (l, row) in (full..xs.len()).enumerate() {
            if codes.is_none_or(|g| g[row].index() == code) {
                let x = xs[row];
                rows[l] += 1.0;
                ones[l] += x;
                bad[l] += (x * (x - 1.0)).abs();
            }
        }
        if bad.iter().sum::<f64>() != 0.0 {
            return None;
        }
        // Exact: at most INNER_BLOCK rows, and every term is 0 or 1.
        out.push(BinaryCounts {
            trials: rows.iter().sum::<f64>() as u64,
            successes: ones.iter().sum::<f64>() as u64,
            ..BinaryCounts::default()
        });
    }
    Some(out)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn binary_block_avx2<C: Code>(
    xs: &[f64],
    codes: Option<&[C]>,
    n_groups: usize,
) -> Option<Vec<BinaryCounts>> {
    binary_block(xs, codes, n_groups)
}

fn binary_block_dispatch<C: Code>(
    xs: &[f64],
    codes: Option<&[C]>,
    n_groups: usize,
) -> Option<Vec<BinaryCounts>> {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2, checked just above.
            return unsafe { binary_block_avx2(xs, codes, n_groups) };
        }
    }
    binary_block(xs, codes, n_groups)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_fast_path_matches_scalar() {
        let xs: Vec<f64> = (0..10_001)
            .map(|i| ((i * 7919) % 3 == 0) as u8 as f64)
            .collect();
        let codes: Vec<i32> = (0..10_001i32).map(|i| (i % 4) - 1).collect();
        let fast = binary_counts_of(&xs, Some(&codes), 3).unwrap();
        let slow = binary_block_scalar(&xs, Some(&codes), 3);
        assert_eq!(fast, slow);
        let mut odd = xs.clone();
        odd[5000] = 0.5;
        odd[6000] = f64::NAN;
        assert_eq!(
            binary_counts_of(&odd, Some(&codes), 3).unwrap(),
            binary_block_scalar(&odd, Some(&codes), 3)
        );
        let fast1 = binary_counts_of(&xs, None::<&[i32]>, 1).unwrap();
        assert_eq!(fast1, binary_block_scalar(&xs, None::<&[i32]>, 1));
    }

    #[test]
    fn binary_counts_tally() {
        let xs = [0.0, 1.0, 1.0, f64::NAN, 0.5, f64::INFINITY, 1.0];
        let codes = [0, 0, 1, 1, 0, 1, -1];
        let r = binary_counts_of(&xs, Some(&codes), 2).unwrap();
        assert_eq!((r[0].trials, r[0].successes, r[0].n_invalid), (2, 1, 1));
        assert_eq!(
            (r[1].trials, r[1].successes, r[1].n_nan, r[1].n_inf),
            (1, 1, 1, 1)
        );
    }

    #[test]
    fn newcombe_published_example() {
        // Newcombe (1998), Table II, example (a): 56/70 vs 48/80, difference 0.2,
        // method 10 interval 0.0524 to 0.3339.
        let t = Counts {
            successes: 56.0,
            trials: 70,
        };
        let c = Counts {
            successes: 48.0,
            trials: 80,
        };
        let r = proportion_test(&c, &t, ProportionCi::Newcombe, &Options::default()).unwrap();
        assert!((r.effect - 0.2).abs() < 1e-12);
        assert!((r.ci_low - 0.0524).abs() < 5e-5, "{}", r.ci_low);
        assert!((r.ci_high - 0.3339).abs() < 5e-5, "{}", r.ci_high);
    }

    #[test]
    fn rejects_bad_counts() {
        let ok = Counts {
            successes: 1.0,
            trials: 10,
        };
        let bad = Counts {
            successes: 11.0,
            trials: 10,
        };
        assert!(proportion_test(&ok, &bad, ProportionCi::Wald, &Options::default()).is_err());
        let zero = Counts {
            successes: 0.0,
            trials: 10,
        };
        assert!(matches!(
            proportion_test(&zero, &zero, ProportionCi::Wald, &Options::default()),
            Err(NeymanError::ZeroVariance { .. })
        ));
    }
}
