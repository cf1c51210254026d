//! [`Moments`] of one column, for all rows or per group: the co-moments kernel of
//! [`crate::scan::comoments`] with K = 1, so there is one kernel to keep fast and exact.

use crate::error::{NeymanError, Result};
use crate::scan::codes::Code;
use crate::scan::comoments::grouped_comoments_of;
use crate::scan::Scanned;
use crate::stats::{CoMoments, Moments};

fn as_moments(p: &Scanned<CoMoments<1>>) -> Scanned<Moments> {
    Scanned {
        stats: Moments {
            n: p.stats.n,
            mean: p.stats.mean[0],
            m2: p.stats.c[0][0],
        },
        n_nan: p.n_nan,
        n_inf: p.n_inf,
    }
}

/// Moments of the finite values of `xs` in one parallel pass; NaN and infinities are counted, not
/// used, so the caller decides what they mean (`nan_policy`).
pub fn moments_of(xs: &[f64]) -> Result<Scanned<Moments>> {
    let parts = named_moments_of::<i8>(xs, "values", None, 1)?;
    Ok(parts.first().copied().unwrap_or_default())
}

/// Per-group moments of `xs`, where `codes[i]` is the group of row `i` (negative codes are rows in
/// no group and are skipped). One pass; each group's result is what [`moments_of`] gives on the
/// group's rows up to rounding.
pub fn grouped_moments_of<C: Code>(
    xs: &[f64],
    codes: &[C],
    n_groups: usize,
) -> Result<Vec<Scanned<Moments>>> {
    named_moments_of(xs, "values", Some(codes), n_groups)
}

/// Moments of `xs` per group (`codes = None`: one group of all rows), with the column called
/// `name` in errors (the argument or column the caller was given).
pub fn named_moments_of<C: Code>(
    xs: &[f64],
    name: &str,
    codes: Option<&[C]>,
    n_groups: usize,
) -> Result<Vec<Scanned<Moments>>> {
    if let Some(codes) = codes {
        if xs.len() != codes.len() {
            return Err(NeymanError::LengthMismatch {
                arg: name.into(),
                other: "codes".into(),
                len: xs.len(),
                other_len: codes.len(),
            });
        }
    }
    let parts = grouped_comoments_of::<1, C>(&[xs], &[name], codes, n_groups)?;
    Ok(parts.iter().map(as_moments).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn naive(xs: &[f64]) -> (f64, f64) {
        let n = xs.len() as f64;
        let m = xs.iter().sum::<f64>() / n;
        (m, xs.iter().map(|x| (x - m) * (x - m)).sum())
    }

    #[test]
    fn hand_worked_values() {
        // 2, 4, 4, 4, 5, 5, 7, 9: mean 5, M2 32 (population variance 4).
        let r = moments_of(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]).unwrap();
        assert_eq!(r.stats.n, 8);
        assert_eq!(r.stats.mean, 5.0);
        assert_eq!(r.stats.m2, 32.0);
        assert_eq!(r.stats.variance(), 32.0 / 7.0);
    }

    #[test]
    fn fast_and_masked_paths_agree() {
        let xs: Vec<f64> = (0..5000)
            .map(|i| ((i * 7919) % 997) as f64 * 0.37 - 50.0)
            .collect();
        let fast = as_moments(&crate::scan::comoments::ungrouped_block(
            &[&xs[..]],
            crate::simd::chosen().unwrap(),
        ))
        .stats;
        let slow = as_moments(&crate::scan::comoments::masked_lanes(&[&xs[..]])).stats;
        assert_eq!(fast.n, slow.n);
        assert!((fast.mean - slow.mean).abs() < 1e-12);
        assert!((fast.m2 - slow.m2).abs() <= 1e-12 * slow.m2);
    }

    #[test]
    fn counts_nan_and_inf() {
        let r = moments_of(&[1.0, f64::NAN, 3.0, f64::INFINITY, f64::NEG_INFINITY]).unwrap();
        assert_eq!((r.stats.n, r.n_nan, r.n_inf), (2, 1, 2));
        assert_eq!(r.stats.mean, 2.0);
    }

    #[test]
    fn large_offset_is_stable() {
        // Naive sum-of-squares loses every digit here; the two-pass kernel keeps them.
        let xs: Vec<f64> = (0..10_000).map(|i| 1e9 + (i % 7) as f64).collect();
        let r = moments_of(&xs).unwrap();
        let (m, m2) = naive(&xs);
        assert!((r.stats.mean - m).abs() < 1e-6);
        assert!((r.stats.m2 - m2).abs() / m2 < 1e-9);
    }

    #[test]
    fn from_sums_matches_data() {
        let xs = [1.0, 2.0, 3.5, -4.0];
        let s: f64 = xs.iter().sum();
        let ss: f64 = xs.iter().map(|x| x * x).sum();
        let a = Moments::from_sums(4, s, ss).unwrap();
        let b = moments_of(&xs).unwrap().stats;
        assert!((a.mean - b.mean).abs() < 1e-12 && (a.m2 - b.m2).abs() < 1e-12);
    }

    #[test]
    fn grouped_matches_ungrouped() {
        let xs: Vec<f64> = (0..200_000)
            .map(|i| ((i * 7919) % 1000) as f64 / 7.0)
            .collect();
        let codes: Vec<i32> = (0..200_000i32).map(|i| (i % 3) - 1).collect();
        let g = grouped_moments_of(&xs, &codes, 2).unwrap();
        for k in 0..2 {
            let sub: Vec<f64> = xs
                .iter()
                .zip(&codes)
                .filter(|(_, &c)| c == k as i32)
                .map(|(x, _)| *x)
                .collect();
            let r = moments_of(&sub).unwrap().stats;
            assert_eq!(g[k].stats.n, r.n);
            assert!((g[k].stats.mean - r.mean).abs() < 1e-10);
            assert!((g[k].stats.m2 - r.m2).abs() / r.m2 < 1e-10);
        }
    }

    proptest! {
        #[test]
        fn any_split_merges_to_the_whole(xs in prop::collection::vec(-1e6f64..1e6, 2..300), cut in 0usize..300) {
            let cut = cut.min(xs.len());
            let whole = moments_of(&xs).unwrap().stats;
            let mut a = Moments::new();
            xs[..cut].iter().for_each(|&x| a.update(x));
            let b = moments_of(&xs[cut..]).unwrap().stats;
            let m = a.merged(&b);
            prop_assert_eq!(m.n, whole.n);
            prop_assert!((m.mean - whole.mean).abs() <= 1e-9 * (1.0 + whole.mean.abs()));
            prop_assert!((m.m2 - whole.m2).abs() <= 1e-9 * (1.0 + whole.m2));
        }
    }

    #[test]
    fn values_beyond_float64_squares_are_named() {
        let base: Vec<f64> = (0..1000).map(|i| f64::from(i % 17) - 8.0).collect();
        // 1e+80 and 1e-80 are fine: moments scale exactly with the data (up to rounding).
        let one = moments_of(&base).unwrap().stats;
        for s in [1e80, 1e-80] {
            let xs: Vec<f64> = base.iter().map(|x| x * s).collect();
            let m = moments_of(&xs).unwrap().stats;
            assert!((m.m2 / (s * s) - one.m2).abs() <= 1e-12 * one.m2);
        }
        let big: Vec<f64> = base.iter().map(|x| (x + 100.0) * 1e160).collect();
        let e = moments_of(&big).unwrap_err();
        assert_eq!(e.arg(), "values");
        assert!(
            e.to_string().contains("~1e+162") && e.to_string().contains("overflow"),
            "{e}"
        );
        let spread: Vec<f64> = base.iter().map(|x| x * 1e160).collect();
        let e = moments_of(&spread).unwrap_err();
        assert!(e.to_string().contains("overflow"), "{e}");
        let tiny: Vec<f64> = base.iter().map(|x| x * 1e-160).collect();
        let e = moments_of(&tiny).unwrap_err();
        assert!(
            e.to_string().contains("~1e-159") && e.to_string().contains("subnormal"),
            "{e}"
        );
        // Named by column, grouped or not.
        let den: Vec<f64> = base.iter().map(|x| (x + 9.0) * 1e-200).collect();
        let codes: Vec<i8> = (0..1000).map(|i| (i % 2) as i8).collect();
        for g in [None, Some(&codes[..])] {
            let n_groups = if g.is_some() { 2 } else { 1 };
            let e = crate::scan::grouped_comoments_counting(
                &[&base, &den],
                &["clicks", "impressions"],
                g,
                n_groups,
                &[],
            )
            .unwrap_err();
            assert_eq!(e.arg(), "impressions");
        }
        // Exact zeros are not tiny values.
        assert_eq!(moments_of(&[0.0; 10]).unwrap().stats.m2, 0.0);
    }
}
