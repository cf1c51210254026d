//! A hint that a cache line will soon be written, for kernels that scatter rows into per-group
//! slots too many to stay in cache (per-cluster sums): issued a few rows ahead, it overlaps the
//! misses instead of paying them one after another. A no-op off x86_64.
#![allow(unsafe_code)]

/// Ask the processor to bring the cache line holding `slot` into the caches.
#[inline(always)]
pub fn prefetch<T>(slot: &T) {
    #[cfg(target_arch = "x86_64")]
    {
        let p = slot as *const T as *const i8;
        // SAFETY: a prefetch never faults and reads nothing visible; `p` comes from a reference,
        // and `_mm_prefetch` is SSE, part of the x86_64 baseline.
        unsafe { std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = slot;
}
