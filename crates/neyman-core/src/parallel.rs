//! The dedicated thread pool and the deterministic block reduction every kernel uses.
//!
//! Work is cut into fixed-size blocks of rows; blocks are reduced in parallel and their partial
//! statistics merged strictly in block order. The grouping of floating-point operations therefore
//! depends only on the block size, never on how many threads ran or how rayon scheduled them, so a
//! result is bit-identical on 1, 2 or 16 threads.
//!
//! The pool is sized by `NEYMAN_NUM_THREADS` (default: all cores) when first used, and can be
//! resized with [`set_num_threads`].

use rayon::prelude::*;
use rayon::{ThreadPool, ThreadPoolBuilder};
use std::sync::{Arc, RwLock};

use crate::error::{NeymanError, Result};

/// Rows per parallel block. A block's partial statistic is computed serially, then blocks merge in
/// order. 64k float64 rows is 512 KiB: large enough that merging costs nothing, small enough to
/// balance two to sixteen threads.
pub const PAR_BLOCK: usize = 1 << 16;

static POOL: RwLock<Option<Arc<ThreadPool>>> = RwLock::new(None);

fn threads_from_env() -> usize {
    std::env::var("NEYMAN_NUM_THREADS")
        .ok()
        .and_then(|s| s.trim().parse::<usize>().ok())
        .filter(|&n| n > 0)
        .unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        })
}

fn build_pool(n: usize) -> Result<Arc<ThreadPool>> {
    ThreadPoolBuilder::new()
        .num_threads(n)
        .thread_name(|i| format!("neyman-{i}"))
        .build()
        .map(Arc::new)
        .map_err(|e| NeymanError::invalid("num_threads", format!("cannot start thread pool: {e}")))
}

/// The shared pool, created on first use.
pub fn pool() -> Result<Arc<ThreadPool>> {
    if let Ok(guard) = POOL.read() {
        if let Some(p) = guard.as_ref() {
            return Ok(Arc::clone(p));
        }
    }
    let mut guard = POOL
        .write()
        .map_err(|_| NeymanError::invalid("num_threads", "thread pool lock poisoned"))?;
    if let Some(p) = guard.as_ref() {
        return Ok(Arc::clone(p));
    }
    let p = build_pool(threads_from_env())?;
    *guard = Some(Arc::clone(&p));
    Ok(p)
}

/// Number of threads in the pool.
pub fn num_threads() -> Result<usize> {
    Ok(pool()?.current_num_threads())
}

/// Replace the pool with one of `n` threads (`n >= 1`).
pub fn set_num_threads(n: usize) -> Result<()> {
    if n == 0 {
        return Err(NeymanError::invalid("n", "must be at least 1"));
    }
    let p = build_pool(n)?;
    let mut guard = POOL
        .write()
        .map_err(|_| NeymanError::invalid("num_threads", "thread pool lock poisoned"))?;
    *guard = Some(p);
    Ok(())
}

/// Reduce `len` rows cut into [`PAR_BLOCK`]-sized blocks: `map` turns the row range of one block
/// into a partial statistic, `merge` folds partials left to right in block order. Runs in the pool
/// when there is more than one block; the result is identical either way.
pub fn reduce_blocks<S, M, F>(len: usize, map: M, merge: F) -> Result<Option<S>>
where
    S: Send,
    M: Fn(std::ops::Range<usize>) -> S + Sync + Send,
    F: Fn(S, S) -> S,
{
    let n_blocks = len.div_ceil(PAR_BLOCK);
    let range_of = |b: usize| b * PAR_BLOCK..((b + 1) * PAR_BLOCK).min(len);
    let parts: Vec<S> = if n_blocks <= 1 {
        (0..n_blocks).map(|b| map(range_of(b))).collect()
    } else {
        let p = pool()?;
        p.install(|| {
            (0..n_blocks)
                .into_par_iter()
                .map(|b| map(range_of(b)))
                .collect()
        })
    };
    Ok(parts.into_iter().reduce(merge))
}

/// A plain parallel sum with no statistics: the memory-bandwidth floor that benchmarks compare the
/// one-pass kernels against.
pub fn floor_sum(xs: &[f64]) -> Result<f64> {
    let map = |r: std::ops::Range<usize>| {
        let mut s = [0.0f64; 8];
        let ch = xs[r].chunks_exact(8);
        let rest: f64 = ch.remainder().iter().sum();
        for c in ch {
            for l in 0..8 {
                s[l] += c[l];
            }
        }
        s.iter().sum::<f64>() + rest
    };
    Ok(reduce_blocks(xs.len(), map, |a, b| a + b)?.unwrap_or(0.0))
}

/// Number of values below `bound` (NaN is not below anything), in one parallel pass.
pub fn count_below(xs: &[f64], bound: f64) -> Result<u64> {
    let map =
        |r: std::ops::Range<usize>| -> u64 { xs[r].iter().map(|&v| u64::from(v < bound)).sum() };
    Ok(reduce_blocks(xs.len(), map, |a, b| a + b)?.unwrap_or(0))
}
