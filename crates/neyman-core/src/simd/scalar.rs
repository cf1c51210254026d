//! The portable implementation of the lane primitives: eight accumulators in arrays, one row at
//! a time, which the compiler may vectorise without changing the order of operations. It also
//! defines the per-row steps the AVX2 implementation repeats for the rows after its last full
//! register.

use crate::simd::{BinarySums, Int, Lanes, PairSums, Pass1, Pass2, LANES, PAIR_LANES};

/// The portable implementation.
#[derive(Clone, Copy, Debug, Default)]
pub struct Scalar;

/// Whether row `i` is taken: every row if not `MASKED`, else the rows whose code is `code`.
#[inline(always)]
pub fn takes<const MASKED: bool, C: Int>(codes: &[C], code: i64, i: usize) -> bool {
    !MASKED || codes[i].index() == code
}

/// `v` on a taken row, else `+0.0` (the bits an AND with a zero mask gives).
#[inline(always)]
pub fn keep(take: bool, v: f64) -> f64 {
    if take {
        v
    } else {
        0.0
    }
}

/// Adds one row to lane `l` of pass one (count, x, y), or `+0.0` if it is not taken.
#[inline(always)]
pub fn pass1_row<const K: usize>(acc: &mut Pass1, l: usize, t: bool, (x, y): (f64, f64)) {
    acc[0][l] += keep(t, 1.0);
    acc[1][l] += keep(t, x);
    if K == 2 {
        acc[2][l] += keep(t, y);
    }
}

/// Adds one row to lane `l` of pass two: its deviations from the shift, their squares and
/// product, and its count; `+0.0` and no count if it is not taken.
#[inline(always)]
pub fn pass2_row<const K: usize>(
    (acc, count): (&mut Pass2, &mut [u64; LANES]),
    l: usize,
    t: bool,
    (x, y): (f64, f64),
    (mx, my): (f64, f64),
) {
    count[l] += u64::from(t);
    let a = keep(t, x - mx);
    acc[0][l] += a;
    acc[2][l] += a * a;
    if K == 2 {
        let b = keep(t, y - my);
        acc[1][l] += b;
        acc[3][l] += b * b;
        acc[4][l] += a * b;
    }
}

/// Pass one over the first `full` rows (a multiple of `LANES`), lane `l` taking rows `i % LANES == l`.
#[inline(always)]
pub fn pass1_scalar<const K: usize, const MASKED: bool, C: Int>(
    x: &[f64],
    y: &[f64],
    (codes, code): (&[C], i64),
    full: usize,
) -> Pass1 {
    let mut acc = [[0.0f64; LANES]; 3];
    let mut i = 0;
    while i < full {
        let (xl, yl) = (&x[i..i + LANES], &y[i..i + LANES]);
        for l in 0..LANES {
            let t = takes::<MASKED, C>(codes, code, i + l);
            pass1_row::<K>(&mut acc, l, t, (xl[l], yl[l]));
        }
        i += LANES;
    }
    acc
}

/// Pass two over the first `full` rows, same lanes as pass one: deviations from the shift
/// `(mx, my)`, their squares and cross-products, and the count of taken rows per lane.
#[inline(always)]
pub fn pass2_scalar<const K: usize, const MASKED: bool, C: Int>(
    x: &[f64],
    y: &[f64],
    (codes, code): (&[C], i64),
    full: usize,
    (mx, my): (f64, f64),
) -> (Pass2, [u64; LANES]) {
    let mut acc = [[0.0f64; LANES]; 5];
    let mut count = [0u64; LANES];
    let mut i = 0;
    while i < full {
        let (xl, yl) = (&x[i..i + LANES], &y[i..i + LANES]);
        for l in 0..LANES {
            let t = takes::<MASKED, C>(codes, code, i + l);
            pass2_row::<K>((&mut acc, &mut count), l, t, (xl[l], yl[l]), (mx, my));
        }
        i += LANES;
    }
    (acc, count)
}

/// Adds row `(x, y)` with code `code` to lane `l` of the two-group sums: its deviations from the
/// common shift, kept for its group and `+0.0` for the other (as in [`pass2_scalar`]).
#[inline(always)]
pub fn pair_row<const K: usize>(
    acc: &mut PairSums,
    l: usize,
    code: i64,
    (x, y): (f64, f64),
    shift: (f64, f64),
) {
    let (a, b) = (x - shift.0, y - shift.1);
    for (g, sums) in acc.iter_mut().enumerate() {
        let t = code == g as i64;
        let (ag, bg) = (keep(t, a), keep(t, b));
        sums[0][l] += ag;
        sums[2][l] += ag * ag;
        if K == 2 {
            sums[1][l] += bg;
            sums[3][l] += bg * bg;
            sums[4][l] += ag * bg;
        }
    }
}

/// 1.0 where the code equals `code`, else 0.0.
#[inline(always)]
pub fn weights<C: Int>(codes: &[C], code: i64) -> [f64; LANES] {
    let mut w = [0.0f64; LANES];
    for (wl, &c) in w.iter_mut().zip(codes) {
        *wl = f64::from(u8::from(c.index() == code));
    }
    w
}

/// The binary tally of group `code` over the first `full` rows (a multiple of `LANES`, weights
/// from the codes) and then the rest one row at a time (rows of other groups skipped).
#[inline(always)]
pub fn binary_sums<C: Int>(xs: &[f64], codes: Option<&[C]>, code: i64) -> BinarySums {
    let n = codes.map_or(xs.len(), |g| g.len().min(xs.len()));
    let xs = &xs[..n];
    let full = n / LANES * LANES;
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
    for (l, row) in (full..n).enumerate() {
        if codes.is_none_or(|g| g[row].index() == code) {
            let x = xs[row];
            rows[l] += 1.0;
            ones[l] += x;
            bad[l] += (x * (x - 1.0)).abs();
        }
    }
    [rows, ones, bad]
}

/// Rows every method reads: the columns' common length, and the codes' when they are read.
#[inline(always)]
pub fn rows_of<C>(x: &[f64], y: &[f64], codes: &[C], masked: bool) -> usize {
    let n = x.len().min(y.len());
    if masked {
        n.min(codes.len())
    } else {
        n
    }
}

/// Pass one over rows `full..n` (after the last full group of lanes), lane `l` for row `full + l`.
#[inline(always)]
pub fn pass1_tail<const K: usize, const MASKED: bool, C: Int>(
    acc: &mut Pass1,
    (x, y): (&[f64], &[f64]),
    (codes, code): (&[C], i64),
    (full, n): (usize, usize),
) {
    for (l, r) in (full..n).enumerate() {
        pass1_row::<K>(acc, l, takes::<MASKED, C>(codes, code, r), (x[r], y[r]));
    }
}

/// Pass two over rows `full..n`, as [`pass1_tail`].
#[inline(always)]
pub fn pass2_tail<const K: usize, const MASKED: bool, C: Int>(
    acc: (&mut Pass2, &mut [u64; LANES]),
    (x, y): (&[f64], &[f64]),
    (codes, code): (&[C], i64),
    (full, n): (usize, usize),
    shift: (f64, f64),
) {
    let (p2, count) = acc;
    for (l, r) in (full..n).enumerate() {
        let t = takes::<MASKED, C>(codes, code, r);
        pass2_row::<K>((&mut *p2, &mut *count), l, t, (x[r], y[r]), shift);
    }
}

/// The two-group pass over rows `from..n`, lane `r % PAIR_LANES` for row `r`.
#[inline(always)]
pub fn pair_tail<const K: usize, C: Int>(
    acc: &mut PairSums,
    (x, y): (&[f64], &[f64]),
    codes: &[C],
    (from, n): (usize, usize),
    shift: (f64, f64),
) {
    for r in from..n {
        pair_row::<K>(acc, r % PAIR_LANES, codes[r].index(), (x[r], y[r]), shift);
    }
}

impl Lanes for Scalar {
    fn pass1<const K: usize, const MASKED: bool, C: Int>(
        self,
        x: &[f64],
        y: &[f64],
        rows: (&[C], i64),
    ) -> Pass1 {
        let n = rows_of(x, y, rows.0, MASKED);
        let full = n / LANES * LANES;
        let mut acc = pass1_scalar::<K, MASKED, C>(x, y, rows, full);
        pass1_tail::<K, MASKED, C>(&mut acc, (x, y), rows, (full, n));
        acc
    }

    fn pass2<const K: usize, const MASKED: bool, C: Int>(
        self,
        x: &[f64],
        y: &[f64],
        rows: (&[C], i64),
        shift: (f64, f64),
        _ahead: usize,
    ) -> (Pass2, [u64; LANES]) {
        let n = rows_of(x, y, rows.0, MASKED);
        let full = n / LANES * LANES;
        let (mut acc, mut count) = pass2_scalar::<K, MASKED, C>(x, y, rows, full, shift);
        pass2_tail::<K, MASKED, C>((&mut acc, &mut count), (x, y), rows, (full, n), shift);
        (acc, count)
    }

    fn pair<const K: usize, C: Int>(
        self,
        xy: (&[f64], &[f64]),
        codes: &[C],
        shift: (f64, f64),
        _ahead: usize,
    ) -> PairSums {
        let n = rows_of(xy.0, xy.1, codes, true);
        let mut acc = [[[0.0; PAIR_LANES]; 5]; 2];
        pair_tail::<K, C>(&mut acc, xy, codes, (0, n), shift);
        acc
    }

    fn binary<C: Int>(self, xs: &[f64], codes: Option<&[C]>, code: i64) -> BinarySums {
        binary_sums(xs, codes, code)
    }
}
