//! An unknown `NEYMAN_SIMD` is an error naming it, from every kernel. A test binary of its own,
//! so the variable is set before the implementation is chosen.

use neyman_core::scan::{binary_counts_of, moments_of};

#[test]
fn unknown_simd_setting_is_an_error() {
    std::env::set_var("NEYMAN_SIMD", "avx512-please");
    let e = moments_of(&[1.0, 2.0, 3.0]).unwrap_err();
    assert_eq!(e.arg(), "NEYMAN_SIMD");
    assert!(e.to_string().contains("'scalar'"), "{e}");
    let e = binary_counts_of(&[1.0, 0.0], None::<&[i8]>, 1).unwrap_err();
    assert_eq!(e.arg(), "NEYMAN_SIMD");
}
