//! An invalid `NEYMAN_NUM_THREADS` is an error on the first use of the pool API whatever the
//! input size (it used to pass unnoticed until an input was large enough to run in parallel).
//! A test binary of its own, so the variable is set before anything reads it.

use neyman_core::parallel::{num_threads, reduce_blocks, set_num_threads};
use neyman_core::scan::moments_of;

#[test]
fn invalid_thread_count_is_an_error_for_any_input() {
    std::env::set_var("NEYMAN_NUM_THREADS", "abc");
    let small = moments_of(&[1.0, 2.0, 3.0]).unwrap_err();
    assert_eq!(small.arg(), "NEYMAN_NUM_THREADS");
    assert!(small.to_string().contains("\"abc\""), "{small}");
    let empty = reduce_blocks(0, |_| 0.0, |a, b| a + b).unwrap_err();
    assert_eq!(empty.arg(), "NEYMAN_NUM_THREADS");
    assert_eq!(num_threads().unwrap_err().arg(), "NEYMAN_NUM_THREADS");
    let large = moments_of(&vec![1.0; 300_000]).unwrap_err();
    assert_eq!(large.arg(), "NEYMAN_NUM_THREADS");
    // Sizing the pool explicitly overrides the environment.
    set_num_threads(2).unwrap();
    assert_eq!(num_threads().unwrap(), 2);
    assert_eq!(moments_of(&[1.0, 2.0, 3.0]).unwrap().stats.mean, 2.0);
}
