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

/// The first code that is neither negative nor below `n_groups`, if any.
pub fn out_of_range<C: Code>(codes: &[C], n_groups: usize) -> Option<i64> {
    codes
        .iter()
        .map(|c| c.index())
        .find(|&c| c >= 0 && c as u64 >= n_groups as u64)
}
