//! Group codes: the arm (or group) of each row, as any signed integer type the caller has (an
//! `int8` arm column is read in place, without conversion). Negative codes mark rows in no group.

/// An integer group code.
pub trait Code: Copy + Ord + Send + Sync + 'static {
    /// The code as `i64` (negative: no group).
    fn index(self) -> i64;
    /// The code `v` in this type (`v` must fit).
    fn from_index(v: i64) -> Self;
}

macro_rules! impl_code {
    ($($t:ty),*) => {$(
        impl Code for $t {
            #[inline(always)]
            fn index(self) -> i64 {
                self as i64
            }
            #[inline(always)]
            fn from_index(v: i64) -> Self {
                v as $t
            }
        }
    )*};
}

impl_code!(i8, i16, i32, i64);

/// The largest code if it is not below `n_groups` (negative codes are allowed: rows in no group).
/// A max-fold, which vectorises, rather than a search.
pub fn out_of_range<C: Code>(codes: &[C], n_groups: usize) -> Option<i64> {
    let max = codes.iter().fold(i64::MIN, |m, c| m.max(c.index()));
    (max >= 0 && max as u64 >= n_groups as u64).then_some(max)
}

/// Rows per code for codes in `0..limit`, in one parallel pass: `(min, counts)`, or `None` when a
/// code is negative or not below `limit` (the caller then labels the column another way).
pub fn code_counts<C: Code>(codes: &[C], limit: usize) -> crate::error::Result<Option<Vec<u64>>> {
    let map = |r: std::ops::Range<usize>| -> (i64, i64, Vec<u64>) {
        let block = &codes[r];
        let (lo, hi) = block.iter().fold((i64::MAX, i64::MIN), |(lo, hi), c| {
            (lo.min(c.index()), hi.max(c.index()))
        });
        let mut counts = vec![0u64; limit];
        if lo >= 0 && (hi as u64) < limit as u64 {
            // One vectorised equality count per code present in the range: for the few arms of
            // an experiment this beats incrementing counters, which serialise on memory.
            for (v, count) in counts.iter_mut().enumerate().take(hi as usize + 1) {
                let code = C::from_index(v as i64);
                *count = block.iter().filter(|&&c| c == code).count() as u64;
            }
        }
        (lo, hi, counts)
    };
    let merge = |a: (i64, i64, Vec<u64>), b: (i64, i64, Vec<u64>)| {
        let counts = a.2.iter().zip(&b.2).map(|(x, y)| x + y).collect();
        (a.0.min(b.0), a.1.max(b.1), counts)
    };
    let out = crate::parallel::reduce_blocks(codes.len(), map, merge)?;
    Ok(match out {
        Some((lo, hi, counts)) if lo >= 0 && (hi as u64) < limit as u64 => Some(counts),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_range() {
        let c: Vec<i8> = vec![0, 1, 1, 2, 0, 1];
        assert_eq!(code_counts(&c, 4).unwrap(), Some(vec![2, 3, 1, 0]));
        assert_eq!(code_counts(&c, 2).unwrap(), None);
        let neg: Vec<i32> = vec![0, -1];
        assert_eq!(code_counts(&neg, 4).unwrap(), None);
        assert_eq!(out_of_range(&c, 3), None);
        assert_eq!(out_of_range(&c, 2), Some(2));
    }
}
