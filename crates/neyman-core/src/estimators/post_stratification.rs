//! Post-stratification (Miratrix, Sekhon and Yu 2013) in `O(rows + levels x arms)`: Lin's
//! interacted regression with one categorical covariate, from per-(stratum, arm) moments.
//!
//! With strata `s = 0..L`, arms `g = 0..G`, cell counts `n_gs`, means `ybar_gs` and sums of squared
//! deviations `M2_gs`, pooled shares `w_s = N_s / N` (`N_s = sum_g n_gs`), the interacted model of
//! [`crate::estimators::regression`] (`z = (1, D_1 - w_1, ..., D_{L-1} - w_{L-1})` per arm) is saturated within
//! every arm, so:
//!
//! - the adjusted mean of arm `g` (its intercept at the pooled covariate means) is
//!   `a_g = sum_s w_s ybar_gs`: the weight of a unit of cell `(g, s)` in it is `w_s / n_gs`;
//! - the residual of a unit is `y - ybar_gs` and its leverage `1 / n_gs`;
//! - the sandwich variance of `a_g`, the sum over units of (weight^2 x HC weight x residual^2), is
//!   `HC0: sum_s w_s^2 M2_gs / n_gs^2`, `HC1: HC0 x N / (N - p)` with `p = G L` (the interacted
//!   model's parameters), `HC2: sum_s w_s^2 M2_gs / (n_gs (n_gs - 1))` (`e^2 / (1 - 1/n_gs)`);
//! - arms share no rows and no parameters, so the adjusted means are uncorrelated.
//!
//! The checks are the regression's, in its order, stated in closed form: no complete row; an arm
//! with fewer than 2 rows, or not more rows than the `L` columns of its `z`; then the first
//! column of the block-diagonal `Z'Z` (arm by arm, level by level) that Cholesky finds dependent:
//! column `j >= 1` (`D_j - w_j`) of arm `g` is a combination of the intercept and `D_1..D_{j-1}`
//! exactly when level `j` is empty in arm `g`, or when level `0` and every level after `j` are
//! empty there (then `D_j = 1 - D_1 - ... - D_{j-1}`); then, for HC2, a cell with one unit
//! (leverage 1). The messages are the regression's, so both paths fail alike.
//!
//! One grouped pass: each block of rows sums counts and values per cell, then deviations from the
//! block's cell means (the corrected two-pass algorithm, Chan, Golub and LeVeque 1983), and blocks
//! merge in order by Chan's formula, so results do not depend on the thread count. Finalize is
//! `O(levels x arms)`.

use crate::error::{NeymanError, Result};
use crate::inference::{CovType, Fit};
use crate::parallel::{reduce_blocks, PAR_BLOCK};
use crate::stats::Moments;

/// Per-(stratum, arm) moments of the outcome, with the skipped rows of each arm.
#[derive(Clone, Debug, PartialEq)]
pub struct CellMoments {
    /// Number of strata (levels).
    pub n_levels: usize,
    /// Number of arms.
    pub n_arms: usize,
    /// Moments of cell `(s, g)` at index `s * n_arms + g`.
    pub cells: Vec<Moments>,
    /// Rows of each arm skipped for a NaN outcome or a missing stratum (negative code).
    pub n_incomplete: Vec<u64>,
    /// Rows of each arm with an infinite outcome.
    pub n_inf: Vec<u64>,
}

impl CellMoments {
    /// Empty statistic.
    pub fn new(n_levels: usize, n_arms: usize) -> Self {
        CellMoments {
            n_levels,
            n_arms,
            cells: vec![Moments::new(); n_levels * n_arms],
            n_incomplete: vec![0; n_arms],
            n_inf: vec![0; n_arms],
        }
    }

    /// Moments of stratum `s` in arm `g`.
    pub fn cell(&self, s: usize, g: usize) -> &Moments {
        &self.cells[s * self.n_arms + g]
    }

    /// Merge the statistic of other rows (same levels and arms) into this one (Chan et al.).
    pub fn merge(&mut self, other: &CellMoments) {
        for (a, b) in self.cells.iter_mut().zip(&other.cells) {
            a.merge(b);
        }
        for g in 0..self.n_arms.min(other.n_arms) {
            self.n_incomplete[g] += other.n_incomplete[g];
            self.n_inf[g] += other.n_inf[g];
        }
    }
}

/// A block's partial statistic, and the first out-of-range codes met (row, code).
struct Part {
    stats: CellMoments,
    bad_level: Option<(usize, i32)>,
    bad_arm: Option<(usize, i32)>,
}

fn earliest(a: Option<(usize, i32)>, b: Option<(usize, i32)>) -> Option<(usize, i32)> {
    match (a, b) {
        (Some(x), Some(y)) => Some(if x.0 <= y.0 { x } else { y }),
        (x, None) => x,
        (None, y) => y,
    }
}

/// Cells whose partial statistics are cheap enough to keep one per block of rows; with more
/// cells the rows are reduced as a single block (serially), so memory stays `O(cells)`.
const MAX_CELLS_PER_BLOCK: usize = PAR_BLOCK / 4;

/// Corrected two-pass moments of rows `r` per cell.
fn block_cells(
    y: &[f64],
    strata: &[i32],
    n_levels: usize,
    arms: &[i32],
    n_arms: usize,
    r: std::ops::Range<usize>,
) -> Part {
    let cells = n_levels * n_arms;
    let mut out = Part {
        stats: CellMoments::new(n_levels, n_arms),
        bad_level: None,
        bad_arm: None,
    };
    let mut count = vec![0u64; cells];
    let mut sum = vec![0.0f64; cells];
    // Cell of a complete row, or None (skipped, counted or out of range).
    let cell_of = |i: usize, out: &mut Part| -> Option<usize> {
        let (g, s, v) = (arms[i], strata[i], y[i]);
        if s >= 0 && s as usize >= n_levels {
            out.bad_level = earliest(out.bad_level, Some((i, s)));
            return None;
        }
        if g < 0 {
            return None;
        }
        if g as usize >= n_arms {
            out.bad_arm = earliest(out.bad_arm, Some((i, g)));
            return None;
        }
        let g = g as usize;
        if v.is_infinite() {
            out.stats.n_inf[g] += 1;
            None
        } else if v.is_nan() || s < 0 {
            out.stats.n_incomplete[g] += 1;
            None
        } else {
            Some(s as usize * n_arms + g)
        }
    };
    for i in r.clone() {
        if let Some(c) = cell_of(i, &mut out) {
            count[c] += 1;
            sum[c] += y[i];
        }
    }
    let shift: Vec<f64> = count
        .iter()
        .zip(&sum)
        .map(|(&n, &s)| if n > 0 { s / n as f64 } else { 0.0 })
        .collect();
    let mut d1 = vec![0.0f64; cells];
    let mut d2 = vec![0.0f64; cells];
    for i in r {
        let (g, s, v) = (arms[i], strata[i], y[i]);
        if g < 0 || g as usize >= n_arms || s < 0 || s as usize >= n_levels || !v.is_finite() {
            continue;
        }
        let c = s as usize * n_arms + g as usize;
        let d = v - shift[c];
        d1[c] += d;
        d2[c] += d * d;
    }
    for c in 0..cells {
        let n = count[c];
        if n > 0 {
            let nf = n as f64;
            out.stats.cells[c] = Moments {
                n,
                mean: shift[c] + d1[c] / nf,
                m2: (d2[c] - d1[c] * d1[c] / nf).max(0.0),
            };
        }
    }
    out
}

/// Per-(stratum, arm) moments of `y` in one grouped pass. `strata[i]` is the level of row `i`
/// (`0..n_levels`; negative: missing, the row is incomplete), `arms[i]` its arm (`0..n_arms`;
/// negative: in no arm, skipped). `name` is the stratum column's name, for errors.
pub fn cell_moments(
    y: &[f64],
    strata: &[i32],
    n_levels: usize,
    arms: &[i32],
    n_arms: usize,
    name: &str,
) -> Result<CellMoments> {
    let n = y.len();
    let mismatch = |arg: &str, len: usize| NeymanError::LengthMismatch {
        arg: arg.into(),
        other: "y".into(),
        len,
        other_len: n,
    };
    if arms.len() != n {
        return Err(mismatch("arms", arms.len()));
    }
    if strata.len() != n {
        return Err(mismatch(name, strata.len()));
    }
    let map = |r: std::ops::Range<usize>| block_cells(y, strata, n_levels, arms, n_arms, r);
    let merge = |mut a: Part, b: Part| {
        a.stats.merge(&b.stats);
        a.bad_level = earliest(a.bad_level, b.bad_level);
        a.bad_arm = earliest(a.bad_arm, b.bad_arm);
        a
    };
    let part = if n_levels.saturating_mul(n_arms) > MAX_CELLS_PER_BLOCK {
        Some(map(0..n))
    } else {
        reduce_blocks(n, map, merge)?
    };
    let part = part.unwrap_or_else(|| Part {
        stats: CellMoments::new(n_levels, n_arms),
        bad_level: None,
        bad_arm: None,
    });
    if let Some((_, bad)) = part.bad_level {
        return Err(NeymanError::invalid(
            name,
            format!("level code {bad} is out of range"),
        ));
    }
    if let Some((_, bad)) = part.bad_arm {
        return Err(NeymanError::invalid(
            "arms",
            format!("arm code {bad} is out of range"),
        ));
    }
    Ok(part.stats)
}

/// The first column of arm `g`'s `z` that the regression's Cholesky finds dependent on earlier
/// ones (see the module notes), or None when the arm has a unit in every level.
fn first_dependent_level(cells: &CellMoments, g: usize) -> Option<usize> {
    let empty = |s: usize| cells.cell(s, g).n == 0;
    let first_empty = (1..cells.n_levels).find(|&s| empty(s));
    let last_occupied = if empty(0) {
        (1..cells.n_levels).rev().find(|&s| !empty(s))
    } else {
        None
    };
    match (first_empty, last_occupied) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Lin's interacted adjustment by one categorical covariate (post-stratification) from cell
/// moments: the same [`Fit`] as [`crate::regression::regression_adjust`] on that design, with the
/// same errors (see the module notes). `name` and `level_names` name the covariate's dummies in
/// messages (`name=level`); `arm_labels` the arms.
pub fn post_stratify(
    cells: &CellMoments,
    name: &str,
    level_names: &[String],
    arm_labels: &[String],
    cov_type: CovType,
) -> Result<Fit> {
    let (levels, arms) = (cells.n_levels, cells.n_arms);
    if arms < 2 {
        return Err(NeymanError::invalid("arms", "at least two arms are needed"));
    }
    let label = |g: usize| {
        arm_labels
            .get(g)
            .cloned()
            .unwrap_or_else(|| format!("arm {g}"))
    };
    let arm_n: Vec<u64> = (0..arms)
        .map(|g| (0..levels).map(|s| cells.cell(s, g).n).sum())
        .collect();
    let n_total: u64 = arm_n.iter().sum();
    if n_total == 0 {
        return Err(NeymanError::TooFewObservations {
            arg: "data".into(),
            n: 0,
            needed: 2,
        });
    }
    for (g, &n) in arm_n.iter().enumerate() {
        if n < 2 {
            return Err(NeymanError::TooFewObservations {
                arg: format!("arm '{}'", label(g)),
                n,
                needed: 2,
            });
        }
    }
    // Width of z: the intercept and L - 1 dummies.
    let dz = levels.max(1);
    for (g, &n) in arm_n.iter().enumerate() {
        if (n as usize) <= dz {
            return Err(NeymanError::TooFewObservations {
                arg: format!("arm '{}' (with {} covariate columns)", label(g), dz - 1),
                n,
                needed: dz as u64 + 1,
            });
        }
    }
    for g in 0..arms {
        if let Some(j) = first_dependent_level(cells, g) {
            let level = level_names
                .get(j)
                .cloned()
                .unwrap_or_else(|| format!("level {j}"));
            let what = format!("{name}={level}");
            return Err(NeymanError::ZeroVariance {
                msg: format!(
                    "covariate {what} is constant or collinear with the other covariates in arm \
                     {:?}, so the adjustment is not identified",
                    label(g)
                ),
                arg: what,
            });
        }
    }
    let p = arms * dz;
    if n_total as usize <= p {
        return Err(NeymanError::TooFewObservations {
            arg: "data".into(),
            n: n_total,
            needed: p as u64 + 1,
        });
    }
    if cov_type == CovType::HC2 && cells.cells.iter().any(|c| c.n == 1) {
        return Err(NeymanError::invalid(
            "cov_type",
            "a unit has leverage 1 (a category with a single unit in an arm), so HC2 is undefined; \
             merge rare categories or use cov_type='HC1'",
        ));
    }
    let nf = n_total as f64;
    let share: Vec<f64> = (0..levels)
        .map(|s| (0..arms).map(|g| cells.cell(s, g).n).sum::<u64>() as f64 / nf)
        .collect();
    let scale = if cov_type == CovType::HC1 {
        nf / (nf - p as f64)
    } else {
        1.0
    };
    let mut adjusted = Vec::with_capacity(arms);
    let mut variance = Vec::with_capacity(arms);
    let (mut mean, mut var) = (Vec::with_capacity(arms), Vec::with_capacity(arms));
    for g in 0..arms {
        let (mut a, mut v) = (0.0, 0.0);
        let mut whole = Moments::new();
        for (s, &w) in share.iter().enumerate() {
            let c = cells.cell(s, g);
            let n = c.n as f64;
            a += w * c.mean;
            // Squared weight of a unit, w_s^2 / n_gs^2, times its sum of HC-weighted e^2.
            v += w
                * w
                * match cov_type {
                    CovType::HC2 => c.m2 / (n * (n - 1.0)),
                    CovType::HC0 | CovType::HC1 => c.m2 / (n * n),
                };
            whole.merge(c);
        }
        adjusted.push(a);
        variance.push(scale * v);
        mean.push(whole.mean);
        var.push(whole.m2 / (whole.n as f64 - 1.0));
    }
    let vcov = (0..arms)
        .map(|i| {
            (0..arms)
                .map(|j| if i == j { variance[i] } else { 0.0 })
                .collect()
        })
        .collect();
    Ok(Fit {
        n: arm_n,
        n_incomplete: cells.n_incomplete.clone(),
        n_inf: cells.n_inf.clone(),
        adjusted,
        vcov,
        mean,
        var,
        p,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::estimators::regression::{regression_adjust, Design};
    use crate::inference::compare_fit;
    use crate::inference::Options;

    /// A deterministic pseudo-random stream in [0, 1) (no dependency on a generator crate).
    fn uniform(seed: u64) -> impl FnMut() -> f64 {
        let mut s = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        move || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    struct Data {
        y: Vec<f64>,
        s: Vec<i32>,
        arm: Vec<i32>,
    }

    fn data(n: usize, levels: usize, arms: usize, seed: u64) -> Data {
        let mut u = uniform(seed);
        let (mut y, mut s, mut arm) = (vec![], vec![], vec![]);
        for _ in 0..n {
            let g = (u() * arms as f64) as i32;
            let l = (u().powf(1.5) * levels as f64) as i32; // unequal strata sizes
            y.push(10.0 + l as f64 * 0.7 + g as f64 * 0.3 + (1.0 + l as f64 * 0.05) * (u() - 0.5));
            s.push(l);
            arm.push(g);
        }
        Data { y, s, arm }
    }

    fn both(d: &Data, levels: usize, arms: usize, cov: CovType) -> (Result<Fit>, Result<Fit>) {
        let names: Vec<String> = (0..levels).map(|l| format!("v{l}")).collect();
        let labels: Vec<String> = (0..arms).map(|g| format!("a{g}")).collect();
        let design = Design {
            y: &d.y,
            numeric: vec![],
            categorical: vec![("s", &d.s, levels)],
            level_names: vec![names.clone()],
            arms: &d.arm,
            n_arms: arms,
            interacted: true,
            cov_type: cov,
        };
        let dense = regression_adjust(&design, &labels);
        let fast = cell_moments(&d.y, &d.s, levels, &d.arm, arms, "s")
            .and_then(|c| post_stratify(&c, "s", &names, &labels, cov));
        (dense, fast)
    }

    fn close(a: f64, b: f64, rtol: f64) -> bool {
        (a - b).abs() <= rtol * a.abs().max(b.abs()) + 1e-300
    }

    #[test]
    fn matches_the_dense_regression() {
        for (levels, arms, seed) in [(2, 2, 1), (7, 3, 2), (30, 2, 3)] {
            let d = data(4000, levels, arms, seed);
            for cov in [CovType::HC0, CovType::HC1, CovType::HC2] {
                let (dense, fast) = both(&d, levels, arms, cov);
                let (dense, fast) = (dense.unwrap(), fast.unwrap());
                assert_eq!(dense.n, fast.n);
                assert_eq!(dense.p, fast.p);
                for g in 0..arms {
                    assert!(close(dense.adjusted[g], fast.adjusted[g], 1e-12));
                    assert!(close(dense.mean[g], fast.mean[g], 1e-12));
                    assert!(close(dense.var[g], fast.var[g], 1e-10));
                    for h in 0..arms {
                        let (a, b) = (dense.vcov[g][h], fast.vcov[g][h]);
                        if g == h {
                            assert!(close(a, b, 1e-9), "{cov:?} {a} {b}");
                        } else {
                            assert!(a.abs() <= 1e-12 * dense.vcov[g][g] && b == 0.0);
                        }
                    }
                }
                let opts = Options::default();
                for g in 1..arms {
                    let r1 = compare_fit(&dense, g, &opts).unwrap();
                    let r2 = compare_fit(&fast, g, &opts).unwrap();
                    assert!(close(r1.adjusted.se, r2.adjusted.se, 1e-9));
                    assert!(close(r1.variance_ratio, r2.variance_ratio, 1e-9));
                }
            }
        }
    }

    #[test]
    fn counts_skipped_rows_like_the_regression() {
        let mut d = data(3000, 5, 2, 9);
        d.y[3] = f64::NAN;
        d.y[10] = f64::INFINITY;
        d.s[11] = -1;
        d.arm[12] = -1;
        let (dense, fast) = both(&d, 5, 2, CovType::HC1);
        let (dense, fast) = (dense.unwrap(), fast.unwrap());
        assert_eq!(dense.n_incomplete, fast.n_incomplete);
        assert_eq!(dense.n_inf, fast.n_inf);
        assert_eq!(dense.n, fast.n);
    }

    fn same_error(d: &Data, levels: usize, arms: usize, cov: CovType) -> NeymanError {
        let (dense, fast) = both(d, levels, arms, cov);
        let (e1, e2) = (dense.unwrap_err(), fast.unwrap_err());
        assert_eq!(e1, e2);
        e2
    }

    #[test]
    fn empty_cells_fail_like_the_regression() {
        let base = data(600, 6, 3, 4);
        // Level `l` removed from arm `g` (rows moved to arm -1).
        let cases: &[&[(i32, i32)]] = &[
            &[(1, 3)],
            &[(2, 0)],
            &[(0, 5)],
            &[(1, 0), (1, 5), (1, 4)],
            &[(2, 0), (2, 2)],
            &[(0, 1), (1, 1), (2, 1), (1, 2)],
        ];
        for drop in cases {
            let mut d = Data {
                y: base.y.clone(),
                s: base.s.clone(),
                arm: base.arm.clone(),
            };
            for i in 0..d.y.len() {
                if drop.iter().any(|&(g, l)| d.arm[i] == g && d.s[i] == l) {
                    d.arm[i] = -1;
                }
            }
            let e = same_error(&d, 6, 3, CovType::HC2);
            assert!(matches!(e, NeymanError::ZeroVariance { .. }), "{e}");
        }
        // Only level 0 present in one arm beyond the others: the last occupied level is flagged.
        let mut d = data(600, 3, 2, 5);
        for i in 0..d.y.len() {
            if d.arm[i] == 1 && d.s[i] != 1 {
                d.arm[i] = -1;
            }
        }
        same_error(&d, 3, 2, CovType::HC1);
    }

    #[test]
    fn too_few_rows_and_singletons_fail_like_the_regression() {
        // 12 levels, 3 arms, 30 rows: an arm with not more rows than columns.
        let d = data(30, 12, 3, 6);
        let e = same_error(&d, 12, 3, CovType::HC1);
        assert!(matches!(e, NeymanError::TooFewObservations { .. }));
        // One row in an arm.
        let mut d = data(200, 2, 2, 7);
        let keep = d.arm.iter().position(|&g| g == 1).unwrap();
        for i in 0..d.y.len() {
            if d.arm[i] == 1 && i != keep {
                d.arm[i] = -1;
            }
        }
        same_error(&d, 2, 2, CovType::HC1);
        // A singleton cell: HC2 fails, HC1 works.
        let mut d = data(400, 3, 2, 8);
        let mut first = true;
        for i in 0..d.y.len() {
            if d.arm[i] == 1 && d.s[i] == 2 {
                if !first {
                    d.arm[i] = -1;
                }
                first = false;
            }
        }
        let e = same_error(&d, 3, 2, CovType::HC2);
        assert_eq!(e.arg(), "cov_type");
        let (dense, fast) = both(&d, 3, 2, CovType::HC1);
        let (dense, fast) = (dense.unwrap(), fast.unwrap());
        assert!(close(dense.vcov[1][1], fast.vcov[1][1], 1e-9));
        // No complete row at all.
        let d = Data {
            y: vec![f64::NAN; 10],
            s: vec![0; 10],
            arm: vec![0, 1, 0, 1, 0, 1, 0, 1, 0, 1],
        };
        same_error(&d, 2, 2, CovType::HC2);
    }

    #[test]
    fn out_of_range_codes_are_errors() {
        let d = data(100, 3, 2, 10);
        let mut bad = d.s.clone();
        bad[40] = 3;
        bad[7] = 5;
        let e = cell_moments(&d.y, &bad, 3, &d.arm, 2, "s").unwrap_err();
        assert_eq!(e.to_string(), "s: level code 5 is out of range");
        let mut arms = d.arm.clone();
        arms[9] = 2;
        let e = cell_moments(&d.y, &d.s, 3, &arms, 2, "s").unwrap_err();
        assert_eq!(e.arg(), "arms");
        let e = cell_moments(&d.y[1..], &d.s, 3, &d.arm, 2, "s").unwrap_err();
        assert!(matches!(e, NeymanError::LengthMismatch { .. }));
    }

    #[test]
    fn blocks_and_one_pass_agree() {
        // More rows than a block: the parallel reduction merges blocks in order.
        let d = data(3 * PAR_BLOCK + 123, 40, 3, 11);
        let a = cell_moments(&d.y, &d.s, 40, &d.arm, 3, "s").unwrap();
        let one = block_cells(&d.y, &d.s, 40, &d.arm, 3, 0..d.y.len()).stats;
        for (x, y) in a.cells.iter().zip(&one.cells) {
            assert_eq!(x.n, y.n);
            assert!(close(x.mean, y.mean, 1e-13));
            assert!(close(x.m2, y.m2, 1e-11));
        }
        // More cells than a block keeps partials for: one serial pass, same moments as by hand.
        let levels = MAX_CELLS_PER_BLOCK / 2 + 7;
        let d = data(2 * PAR_BLOCK, levels, 3, 12);
        let a = cell_moments(&d.y, &d.s, levels, &d.arm, 3, "s").unwrap();
        let mut by_hand = vec![Moments::new(); levels * 3];
        for i in 0..d.y.len() {
            by_hand[d.s[i] as usize * 3 + d.arm[i] as usize].update(d.y[i]);
        }
        for (x, y) in a.cells.iter().zip(&by_hand) {
            assert_eq!(x.n, y.n);
            assert!(close(x.mean, y.mean, 1e-12));
            assert!((x.m2 - y.m2).abs() <= 1e-10 * (1.0 + y.m2));
        }
    }
}
