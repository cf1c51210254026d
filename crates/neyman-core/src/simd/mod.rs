//! Explicit SIMD, kept in one place: the lane primitives of the kernels as one trait, [`Lanes`],
//! with a portable implementation ([`Scalar`]) and an AVX2 one ([`Avx2`]). The algorithms
//! (moments, co-moments, shifted, fused and two-group passes, binary counts) are written once over
//! the trait in [`crate::scan`]; the implementation is chosen once, at first use ([`chosen`]).
//! This is the only module with `unsafe` code (the AVX2 intrinsics).
//!
//! Both implementations perform the same floating-point operations on the same lanes in the same
//! order (multiply then add, no fused multiply-add; rows not taken add `+0.0`), so they give
//! identical bits; a test runs the same cases through every implementation this CPU has.
//!
//! `NEYMAN_SIMD` selects the implementation: unset or `auto` (AVX2 when the CPU has it, else
//! scalar), `scalar`, or `avx2` (an error on a CPU without it). Any other value is an
//! [`NeymanError::InvalidArgument`] naming `NEYMAN_SIMD`, returned by every kernel.

pub mod avx2;
pub mod prefetch;
pub mod scalar;

pub use avx2::Avx2;
pub use scalar::Scalar;

use std::sync::OnceLock;

use crate::error::{NeymanError, Result};

/// Independent accumulator lanes of the hot loops (two AVX2 registers of four).
pub const LANES: usize = 8;

/// Lane sums of pass one: counts, sums of x, sums of y.
pub type Pass1 = [[f64; LANES]; 3];
/// Lane sums of pass two: deviations of x and y, squares of each, cross-products.
pub type Pass2 = [[f64; LANES]; 5];

/// Lanes of the two-group pass: one AVX2 register of each accumulator.
pub const PAIR_LANES: usize = 4;

/// The two-group pass's lane sums, per group: sums of `a`, `b`, `a a`, `b b`, `a b` (deviations
/// from the common shift).
pub type PairSums = [[[f64; PAIR_LANES]; 5]; 2];

/// Lane sums of the binary tally of one group: rows, successes (`sum w x`) and the invalid-value
/// detector `sum w |x (x - 1)|`.
pub type BinarySums = [[f64; LANES]; 3];

mod sealed {
    pub trait Sealed {}
    impl Sealed for i8 {}
    impl Sealed for i16 {}
    impl Sealed for i32 {}
    impl Sealed for i64 {}
}

/// A signed integer group code as the kernels read it (`i8` to `i64`; sealed, so the AVX2 code
/// may load any of them by width).
pub trait Int: sealed::Sealed + Copy + Send + Sync + 'static {
    /// The code as `i64` (negative: no group).
    fn index(self) -> i64;
}

macro_rules! impl_int {
    ($($t:ty),*) => {$(
        impl Int for $t {
            #[inline(always)]
            fn index(self) -> i64 {
                self as i64
            }
        }
    )*};
}

impl_int!(i8, i16, i32, i64);

/// The lane primitives. Every method covers all rows of its slices (the common length of the
/// columns, and of the codes when they are read); row `i` goes to lane `i % LANES` (`i %
/// PAIR_LANES` for [`Lanes::pair`]), and lane sums are returned unreduced so the caller adds
/// them in a fixed order. "Taken" rows are every row, or with `MASKED` the rows whose code is
/// `code`; other rows add `+0.0` whatever their values.
pub trait Lanes: Copy + Send + Sync + 'static {
    /// Pass one of the two-pass kernel: lane sums of the count, x and y (y only when K = 2) of
    /// the taken rows.
    fn pass1<const K: usize, const MASKED: bool, C: Int>(
        self,
        x: &[f64],
        y: &[f64],
        rows: (&[C], i64),
    ) -> Pass1;

    /// A shifted pass: lane sums of `a = x - shift.0`, `b = y - shift.1`, `a a`, `b b`, `a b`
    /// (`[a, b, aa, bb, ab]`) over the taken rows, and the taken rows per lane. Prefetches
    /// `ahead` rows further on (0: none) where the implementation can.
    fn pass2<const K: usize, const MASKED: bool, C: Int>(
        self,
        x: &[f64],
        y: &[f64],
        rows: (&[C], i64),
        shift: (f64, f64),
        ahead: usize,
    ) -> (Pass2, [u64; LANES]);

    /// The two-group pass: for the rows of code 0 and of code 1 at once, the lane sums of a
    /// shifted pass around a common shift (rows of other codes in neither).
    fn pair<const K: usize, C: Int>(
        self,
        xy: (&[f64], &[f64]),
        codes: &[C],
        shift: (f64, f64),
        ahead: usize,
    ) -> PairSums;

    /// The binary tally of the rows of group `code` (every row without codes), see
    /// [`BinarySums`].
    fn binary<C: Int>(self, xs: &[f64], codes: Option<&[C]>, code: i64) -> BinarySums;
}

/// Which implementation of [`Lanes`] the kernels run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Isa {
    /// [`Scalar`]: portable, eight lanes in arrays the compiler may vectorise.
    Scalar,
    /// [`Avx2`]: explicit 256-bit registers.
    Avx2,
}

impl Isa {
    /// The AVX2 token when this is [`Isa::Avx2`] and the CPU has AVX2, else `None` (run
    /// [`Scalar`]).
    pub fn avx2(self) -> Option<Avx2> {
        match self {
            Isa::Avx2 => Avx2::detect(),
            Isa::Scalar => None,
        }
    }
}

/// The implementation for a value of `NEYMAN_SIMD` (`None`: unset).
pub fn choose(setting: Option<&str>) -> Result<Isa> {
    let best = || Avx2::detect().map_or(Isa::Scalar, |_| Isa::Avx2);
    match setting.map(str::trim) {
        None | Some("") | Some("auto") => Ok(best()),
        Some("scalar") => Ok(Isa::Scalar),
        Some("avx2") => Avx2::detect().map(|_| Isa::Avx2).ok_or_else(|| {
            NeymanError::invalid(
                "NEYMAN_SIMD",
                "'avx2' was asked for, but this CPU does not support AVX2",
            )
        }),
        Some(other) => Err(NeymanError::invalid(
            "NEYMAN_SIMD",
            format!("must be 'auto', 'scalar' or 'avx2', got {other:?}"),
        )),
    }
}

static CHOSEN: OnceLock<Result<Isa>> = OnceLock::new();

/// The implementation the kernels run, chosen once at first use from `NEYMAN_SIMD` and the CPU.
pub fn chosen() -> Result<Isa> {
    CHOSEN
        .get_or_init(|| choose(std::env::var("NEYMAN_SIMD").ok().as_deref()))
        .clone()
}

/// Every implementation this CPU can run (for tests that compare them).
pub fn available() -> Vec<Isa> {
    let mut out = vec![Isa::Scalar];
    if Avx2::detect().is_some() {
        out.push(Isa::Avx2);
    }
    out
}

/// Run `$body` with `$l` bound to the [`Lanes`] implementation of `$isa` (an [`Isa`]).
macro_rules! with_lanes {
    ($isa:expr, $l:ident => $body:expr) => {
        match $isa.avx2() {
            Some($l) => $body,
            None => {
                let $l = $crate::simd::Scalar;
                $body
            }
        }
    };
}
pub(crate) use with_lanes;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_setting_chooses_the_implementation() {
        assert_eq!(choose(Some("scalar")).unwrap(), Isa::Scalar);
        let best = choose(None).unwrap();
        assert_eq!(choose(Some("auto")).unwrap(), best);
        assert_eq!(best == Isa::Avx2, Avx2::detect().is_some());
        let e = choose(Some("sse9")).unwrap_err();
        assert_eq!(e.arg(), "NEYMAN_SIMD");
        assert!(e.to_string().contains("\"sse9\""), "{e}");
        assert_eq!(choose(Some("avx2")).is_ok(), Avx2::detect().is_some());
    }

    /// Columns with awkward values and codes of one width, and the lane results of every
    /// primitive for each case.
    fn cases() -> Vec<(Vec<f64>, Vec<f64>, Vec<i64>)> {
        let n = 4093;
        let x: Vec<f64> = (0..n)
            .map(|i| ((i * 7919) % 997) as f64 * 0.37 - 50.0)
            .collect();
        let y: Vec<f64> = (0..n)
            .map(|i| ((i * 104_729) % 991) as f64 * 0.11 + 3.0)
            .collect();
        let g: Vec<i64> = (0..n).map(|i| (((i * 31) >> 2) % 3) as i64 - 1).collect();
        let b: Vec<f64> = (0..n).map(|i| f64::from(u8::from(i % 7 < 3))).collect();
        let mut odd = b.clone();
        odd[17] = 0.5;
        odd[4000] = f64::NAN;
        let short: Vec<f64> = x[..13].to_vec();
        vec![
            (x.clone(), y.clone(), g.clone()),
            (x[..4088].to_vec(), y[..4088].to_vec(), g[..4088].to_vec()),
            (b.clone(), x.clone(), g.clone()),
            (odd, y, g.clone()),
            (short.clone(), short, g[..13].to_vec()),
        ]
    }

    fn run_all<L: Lanes, C: Int>(l: L, x: &[f64], y: &[f64], g: &[C]) -> Vec<u64> {
        let mut out: Vec<u64> = Vec::new();
        let push = |out: &mut Vec<u64>, v: &[f64]| out.extend(v.iter().map(|f| f.to_bits()));
        let shift = (-40.0, 50.0);
        for code in [0i64, 1] {
            for p in l.pass1::<2, true, C>(x, y, (g, code)) {
                push(&mut out, &p);
            }
            for p in l.pass1::<1, true, C>(x, x, (g, code)) {
                push(&mut out, &p);
            }
            let (p2, count) = l.pass2::<2, true, C>(x, y, (g, code), shift, 64);
            p2.iter().for_each(|p| push(&mut out, p));
            out.extend(count);
            let (p2, count) = l.pass2::<1, true, C>(x, x, (g, code), shift, 0);
            p2.iter().for_each(|p| push(&mut out, p));
            out.extend(count);
            let b = l.binary::<C>(x, Some(g), code);
            b.iter().for_each(|p| push(&mut out, p));
        }
        for p in l.pass1::<2, false, C>(x, y, (&[], 0)) {
            push(&mut out, &p);
        }
        let (p2, count) = l.pass2::<2, false, C>(x, y, (&[], 0), shift, 0);
        p2.iter().for_each(|p| push(&mut out, p));
        out.extend(count);
        let b = l.binary::<C>(x, None, 0);
        b.iter().for_each(|p| push(&mut out, p));
        for group in l.pair::<2, C>((x, y), g, shift, 64) {
            group.iter().for_each(|p| push(&mut out, p));
        }
        for group in l.pair::<1, C>((x, x), g, shift, 0) {
            group.iter().for_each(|p| push(&mut out, p));
        }
        out
    }

    fn run_isa<C: Int>(isa: Isa, x: &[f64], y: &[f64], g: &[C]) -> Vec<u64> {
        with_lanes!(isa, l => run_all(l, x, y, g))
    }

    #[test]
    fn every_implementation_gives_identical_bits() {
        for (case, (x, y, g)) in cases().iter().enumerate() {
            // Codes of every width, with rows in no group (-1), so each mask load is exercised.
            let g8: Vec<i8> = g.iter().map(|&c| c as i8).collect();
            let g16: Vec<i16> = g.iter().map(|&c| c as i16).collect();
            let g32: Vec<i32> = g.iter().map(|&c| c as i32).collect();
            let want = run_isa(Isa::Scalar, x, y, g);
            for isa in available() {
                assert_eq!(run_isa(isa, x, y, &g8), want, "{isa:?} i8 case {case}");
                assert_eq!(run_isa(isa, x, y, &g16), want, "{isa:?} i16 case {case}");
                assert_eq!(run_isa(isa, x, y, &g32), want, "{isa:?} i32 case {case}");
                assert_eq!(run_isa(isa, x, y, g), want, "{isa:?} i64 case {case}");
            }
        }
    }
}
