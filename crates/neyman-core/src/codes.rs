//! Group codes: the arm (or group) of each row, as any signed integer type the caller has (an
//! `int8` arm column is read in place, without conversion). Negative codes mark rows in no group.

/// An integer group code.
pub trait Code: Copy + Send + Sync + 'static {
    /// The code as `i64` (negative: no group).
    fn index(self) -> i64;
}

macro_rules! impl_code {
    ($($t:ty),*) => {$(
        impl Code for $t {
            #[inline(always)]
            fn index(self) -> i64 {
                self as i64
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_check() {
        let c: Vec<i8> = vec![0, 1, 1, 2, 0, 1];
        assert_eq!(out_of_range(&c, 3), None);
        assert_eq!(out_of_range(&[-1i32, 0], 1), None);
        assert_eq!(out_of_range(&c, 2), Some(2));
    }
}
