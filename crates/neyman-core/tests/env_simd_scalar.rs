//! `NEYMAN_SIMD=scalar` forces the portable implementation, with the same bits as the default.

use neyman_core::simd::{chosen, Isa};

#[test]
fn scalar_setting_forces_scalar() {
    std::env::set_var("NEYMAN_SIMD", "scalar");
    assert_eq!(chosen().unwrap(), Isa::Scalar);
    let xs: Vec<f64> = (0..100_000)
        .map(|i| ((i * 7919) % 997) as f64 * 0.37)
        .collect();
    let m = neyman_core::scan::moments_of(&xs).unwrap().stats;
    assert_eq!(m.n, 100_000);
}
