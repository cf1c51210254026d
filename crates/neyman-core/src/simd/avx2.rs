//! The AVX2 implementation of the lane primitives: the same operations on the same lanes as
//! [`Scalar`](crate::simd::Scalar) (lanes 0-3 and 4-7 in two registers, multiply then add, no fused multiply-add;
//! rows not taken become `+0.0` by an AND with the mask), so results are identical. Arm masks come
//! from the codes inside the passes (`vpcmpeqq` on the codes sign-extended to 64 bits), so
//! nothing is gathered or copied.

#![allow(unsafe_code)]

use crate::simd::scalar;
use crate::simd::{BinarySums, Int, Lanes, PairSums, Pass1, Pass2, LANES, PAIR_LANES};

/// Proof that the CPU supports AVX2: only [`Avx2::detect`] makes one.
#[derive(Clone, Copy, Debug)]
pub struct Avx2 {
    _detected: (),
}

impl Avx2 {
    /// The token, if this CPU supports AVX2 (detected once, then cached by std).
    pub fn detect() -> Option<Avx2> {
        #[cfg(target_arch = "x86_64")]
        {
            std::arch::is_x86_feature_detected!("avx2").then_some(Avx2 { _detected: () })
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            None
        }
    }
}

/// All-ones in the 64-bit lanes of rows `i..i + 4` whose code equals `code`, else zero: the codes
/// are sign-extended to 64 bits and compared.
///
/// # Safety
/// The CPU must support AVX2 and `codes` must hold rows `i..i + 4`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
unsafe fn code_mask<C: Int>(
    codes: &[C],
    i: usize,
    code: std::arch::x86_64::__m256i,
) -> std::arch::x86_64::__m256d {
    use std::arch::x86_64::*;
    let p = codes.as_ptr().add(i);
    let wide = match std::mem::size_of::<C>() {
        1 => _mm256_cvtepi8_epi64(_mm_cvtsi32_si128(std::ptr::read_unaligned(p.cast::<i32>()))),
        2 => _mm256_cvtepi16_epi64(_mm_loadl_epi64(p.cast::<__m128i>())),
        4 => _mm256_cvtepi32_epi64(_mm_loadu_si128(p.cast::<__m128i>())),
        _ => _mm256_loadu_si256(p.cast::<__m256i>()),
    };
    _mm256_castsi256_pd(_mm256_cmpeq_epi64(wide, code))
}

/// Prefetches row `i + ahead` of x (and of y when K = 2), one cache line each; nothing when
/// `ahead` is 0. Called once per eight rows, so the lines ahead are requested as the pass goes.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
fn prefetch<const K: usize>((x, y): (&[f64], &[f64]), i: usize, ahead: usize) {
    use std::arch::x86_64::*;
    if ahead > 0 {
        // A prefetch never faults, so the address may lie past the slice (wrapping_add keeps the
        // pointer arithmetic defined).
        _mm_prefetch::<_MM_HINT_T0>(x.as_ptr().wrapping_add(i + ahead).cast::<i8>());
        if K == 2 {
            _mm_prefetch::<_MM_HINT_T0>(y.as_ptr().wrapping_add(i + ahead).cast::<i8>());
        }
    }
}

/// Pass one with AVX2: the same operations on the same lanes as [`pass1_scalar`] (lanes 0-3 and
/// 4-7 in two registers, multiply then add, no fused multiply-add; rows not taken become `+0.0`
/// by an AND with the mask), so results are identical.
///
/// # Safety
/// The CPU must support AVX2; `full <= x.len()`, `full <= y.len()`, and `full <= codes.len()` if
/// `MASKED`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn pass1_avx2<const K: usize, const MASKED: bool, C: Int>(
    x: &[f64],
    y: &[f64],
    (codes, code): (&[C], i64),
    full: usize,
) -> Pass1 {
    use std::arch::x86_64::*;
    let one = _mm256_set1_pd(1.0);
    let vcode = _mm256_set1_epi64x(code);
    let mut v = [_mm256_setzero_pd(); 6];
    let mut i = 0;
    while i < full {
        for h in 0..2 {
            let at = i + 4 * h;
            let m = if MASKED {
                code_mask(codes, at, vcode)
            } else {
                _mm256_castsi256_pd(_mm256_set1_epi64x(-1))
            };
            let pick = |v: __m256d| if MASKED { _mm256_and_pd(m, v) } else { v };
            v[h] = _mm256_add_pd(v[h], pick(one));
            v[2 + h] = _mm256_add_pd(v[2 + h], pick(_mm256_loadu_pd(x.as_ptr().add(at))));
            if K == 2 {
                v[4 + h] = _mm256_add_pd(v[4 + h], pick(_mm256_loadu_pd(y.as_ptr().add(at))));
            }
        }
        i += LANES;
    }
    let mut acc = [[0.0f64; LANES]; 3];
    for (k, a) in acc.iter_mut().enumerate() {
        _mm256_storeu_pd(a.as_mut_ptr(), v[2 * k]);
        _mm256_storeu_pd(a.as_mut_ptr().add(4), v[2 * k + 1]);
    }
    acc
}

/// Pass two with AVX2, identical in results to [`pass2_scalar`] (the count of a lane goes up by
/// one where its mask is all-ones, i.e. minus one as an integer).
///
/// # Safety
/// As for [`pass1_avx2`].
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn pass2_avx2<const K: usize, const MASKED: bool, C: Int>(
    x: &[f64],
    y: &[f64],
    (codes, code): (&[C], i64),
    full: usize,
    (mx, my): (f64, f64),
    ahead: usize,
) -> (Pass2, [u64; LANES]) {
    use std::arch::x86_64::*;
    let (vmx, vmy) = (_mm256_set1_pd(mx), _mm256_set1_pd(my));
    let vcode = _mm256_set1_epi64x(code);
    let mut v = [_mm256_setzero_pd(); 10];
    let mut cnt = [_mm256_setzero_si256(); 2];
    let mut i = 0;
    while i < full {
        prefetch::<K>((x, y), i, ahead);
        for h in 0..2 {
            let at = i + 4 * h;
            let m = if MASKED {
                code_mask(codes, at, vcode)
            } else {
                _mm256_castsi256_pd(_mm256_set1_epi64x(-1))
            };
            if MASKED {
                cnt[h] = _mm256_sub_epi64(cnt[h], _mm256_castpd_si256(m));
            }
            let pick = |v: __m256d| if MASKED { _mm256_and_pd(m, v) } else { v };
            let a = pick(_mm256_sub_pd(_mm256_loadu_pd(x.as_ptr().add(at)), vmx));
            v[h] = _mm256_add_pd(v[h], a);
            v[4 + h] = _mm256_add_pd(v[4 + h], _mm256_mul_pd(a, a));
            if K == 2 {
                let b = pick(_mm256_sub_pd(_mm256_loadu_pd(y.as_ptr().add(at)), vmy));
                v[2 + h] = _mm256_add_pd(v[2 + h], b);
                v[6 + h] = _mm256_add_pd(v[6 + h], _mm256_mul_pd(b, b));
                v[8 + h] = _mm256_add_pd(v[8 + h], _mm256_mul_pd(a, b));
            }
        }
        i += LANES;
    }
    let mut acc = [[0.0f64; LANES]; 5];
    for (k, a) in acc.iter_mut().enumerate() {
        _mm256_storeu_pd(a.as_mut_ptr(), v[2 * k]);
        _mm256_storeu_pd(a.as_mut_ptr().add(4), v[2 * k + 1]);
    }
    let mut count = [(full / LANES) as u64; LANES];
    if MASKED {
        _mm256_storeu_si256(count.as_mut_ptr().cast::<__m256i>(), cnt[0]);
        _mm256_storeu_si256(count.as_mut_ptr().add(4).cast::<__m256i>(), cnt[1]);
    }
    (acc, count)
}

/// The two-group pass with AVX2 over the first `full` rows (a multiple of 8), identical in
/// results to [`pair_row`] on each row: the codes and values are read once, each row's deviation
/// from the common shift is taken once, then masked into each group's accumulators (ten
/// registers; the counts come from the codes alone). Prefetches the rows `ahead` further on
/// (0: none), one cache line of each column per eight rows.
///
/// # Safety
/// The CPU must support AVX2; `full <= x.len()`, `full <= y.len()`, `full <= codes.len()`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn pair_avx2<const K: usize, C: Int>(
    (x, y): (&[f64], &[f64]),
    codes: &[C],
    shift: (f64, f64),
    full: usize,
    ahead: usize,
) -> PairSums {
    use std::arch::x86_64::*;
    let (sx, sy) = (_mm256_set1_pd(shift.0), _mm256_set1_pd(shift.1));
    let code1 = _mm256_set1_epi64x(1);
    let mut v = [[_mm256_setzero_pd(); 5]; 2];
    let mut i = 0;
    while i < full {
        prefetch::<K>((x, y), i, ahead);
        for h in 0..2 {
            let at = i + 4 * h;
            let m = [
                code_mask(codes, at, _mm256_setzero_si256()),
                code_mask(codes, at, code1),
            ];
            let a = _mm256_sub_pd(_mm256_loadu_pd(x.as_ptr().add(at)), sx);
            let b = if K == 2 {
                _mm256_sub_pd(_mm256_loadu_pd(y.as_ptr().add(at)), sy)
            } else {
                a
            };
            for g in 0..2 {
                let ag = _mm256_and_pd(m[g], a);
                v[g][0] = _mm256_add_pd(v[g][0], ag);
                v[g][2] = _mm256_add_pd(v[g][2], _mm256_mul_pd(ag, ag));
                if K == 2 {
                    let bg = _mm256_and_pd(m[g], b);
                    v[g][1] = _mm256_add_pd(v[g][1], bg);
                    v[g][3] = _mm256_add_pd(v[g][3], _mm256_mul_pd(bg, bg));
                    v[g][4] = _mm256_add_pd(v[g][4], _mm256_mul_pd(ag, bg));
                }
            }
        }
        i += 8;
    }
    let mut acc: PairSums = [[[0.0; PAIR_LANES]; 5]; 2];
    for g in 0..2 {
        for k in 0..5 {
            _mm256_storeu_pd(acc[g][k].as_mut_ptr(), v[g][k]);
        }
    }
    acc
}

/// The binary tally compiled for AVX2: the portable loop, vectorised at full width.
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn binary_avx2<C: Int>(xs: &[f64], codes: Option<&[C]>, code: i64) -> BinarySums {
    scalar::binary_sums(xs, codes, code)
}

#[cfg(target_arch = "x86_64")]
impl Lanes for Avx2 {
    fn pass1<const K: usize, const MASKED: bool, C: Int>(
        self,
        x: &[f64],
        y: &[f64],
        rows: (&[C], i64),
    ) -> Pass1 {
        let n = scalar::rows_of(x, y, rows.0, MASKED);
        let full = n / LANES * LANES;
        // SAFETY: `self` proves AVX2; `full <= n`, the length of every slice read.
        let mut acc = unsafe { pass1_avx2::<K, MASKED, C>(x, y, rows, full) };
        scalar::pass1_tail::<K, MASKED, C>(&mut acc, (x, y), rows, (full, n));
        acc
    }

    fn pass2<const K: usize, const MASKED: bool, C: Int>(
        self,
        x: &[f64],
        y: &[f64],
        rows: (&[C], i64),
        shift: (f64, f64),
        ahead: usize,
    ) -> (Pass2, [u64; LANES]) {
        let n = scalar::rows_of(x, y, rows.0, MASKED);
        let full = n / LANES * LANES;
        // SAFETY: as in `pass1`.
        let (mut acc, mut count) =
            unsafe { pass2_avx2::<K, MASKED, C>(x, y, rows, full, shift, ahead) };
        scalar::pass2_tail::<K, MASKED, C>((&mut acc, &mut count), (x, y), rows, (full, n), shift);
        (acc, count)
    }

    fn pair<const K: usize, C: Int>(
        self,
        xy: (&[f64], &[f64]),
        codes: &[C],
        shift: (f64, f64),
        ahead: usize,
    ) -> PairSums {
        let n = scalar::rows_of(xy.0, xy.1, codes, true);
        let full = n / 8 * 8;
        // SAFETY: as in `pass1`.
        let mut acc = unsafe { pair_avx2::<K, C>(xy, codes, shift, full, ahead) };
        scalar::pair_tail::<K, C>(&mut acc, xy, codes, (full, n), shift);
        acc
    }

    fn binary<C: Int>(self, xs: &[f64], codes: Option<&[C]>, code: i64) -> BinarySums {
        // SAFETY: `self` proves AVX2.
        unsafe { binary_avx2(xs, codes, code) }
    }
}

/// Without x86_64 there is no token, so these never run; they keep the type usable.
#[cfg(not(target_arch = "x86_64"))]
impl Lanes for Avx2 {
    fn pass1<const K: usize, const MASKED: bool, C: Int>(
        self,
        x: &[f64],
        y: &[f64],
        rows: (&[C], i64),
    ) -> Pass1 {
        scalar::Scalar.pass1::<K, MASKED, C>(x, y, rows)
    }

    fn pass2<const K: usize, const MASKED: bool, C: Int>(
        self,
        x: &[f64],
        y: &[f64],
        rows: (&[C], i64),
        shift: (f64, f64),
        ahead: usize,
    ) -> (Pass2, [u64; LANES]) {
        scalar::Scalar.pass2::<K, MASKED, C>(x, y, rows, shift, ahead)
    }

    fn pair<const K: usize, C: Int>(
        self,
        xy: (&[f64], &[f64]),
        codes: &[C],
        shift: (f64, f64),
        ahead: usize,
    ) -> PairSums {
        scalar::Scalar.pair::<K, C>(xy, codes, shift, ahead)
    }

    fn binary<C: Int>(self, xs: &[f64], codes: Option<&[C]>, code: i64) -> BinarySums {
        scalar::Scalar.binary(xs, codes, code)
    }
}
