//! The dedicated thread pool and the deterministic block reduction every kernel uses.
//!
//! Work is cut into fixed-size blocks of rows; blocks are reduced in parallel and their partial
//! statistics merged strictly in block order. The grouping of floating-point operations therefore
//! depends only on the block size, never on how many threads ran or how rayon scheduled them, so a
//! result is bit-identical on 1, 2 or 16 threads.
//!
//! The pool is sized by `NEYMAN_NUM_THREADS` (default: all cores) when first used, and can be
//! resized with [`set_num_threads`]. The variable is read once; an invalid value is an error on
//! every call of the pool API ([`reduce_blocks`], [`num_threads`]) whatever the input size, until
//! [`set_num_threads`] chooses a size explicitly.
//!
//! Reductions over many blocks run in batches; between batches the calling thread asks the
//! interrupt check (set by the Python bindings to look for Ctrl-C) whether to stop. The first
//! batch is one block per thread; each next one holds as many blocks as the last batch's pace
//! fits in [`BATCH_TARGET`]. A cheap kernel so runs in two batches, and a heavy one (a regression
//! with many covariates) still stops within a fraction of a second. Batching does not change the
//! result: blocks still merge in order.

use rayon::prelude::*;
use rayon::{ThreadPool, ThreadPoolBuilder};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock, RwLock};

use crate::error::{NeymanError, Result};

/// Rows per parallel block. A block's partial statistic is computed serially, then blocks merge in
/// order. 64k float64 rows is 512 KiB: large enough that merging costs nothing, small enough to
/// balance two to sixteen threads.
pub const PAR_BLOCK: usize = 1 << 16;

/// The time a batch of blocks aims at, between two interrupt checks.
pub const BATCH_TARGET: std::time::Duration = std::time::Duration::from_millis(25);

static POOL: RwLock<Option<Arc<ThreadPool>>> = RwLock::new(None);

static INTERRUPT_CHECK: OnceLock<fn() -> bool> = OnceLock::new();

/// `NEYMAN_NUM_THREADS`, read and validated once.
static ENV_THREADS: OnceLock<Result<usize>> = OnceLock::new();

/// Set once [`set_num_threads`] has sized the pool: the environment no longer matters.
static EXPLICIT: AtomicBool = AtomicBool::new(false);

/// The pool size the environment asks for, or the error naming `NEYMAN_NUM_THREADS`. Checked at
/// the start of every pool call, including the serial path for small inputs, so a bad value
/// never passes unnoticed.
fn env_threads() -> Result<usize> {
    ENV_THREADS.get_or_init(threads_from_env).clone()
}

/// The error of an invalid `NEYMAN_NUM_THREADS`, unless [`set_num_threads`] has sized the pool.
fn check_env() -> Result<()> {
    if EXPLICIT.load(Ordering::Acquire) {
        return Ok(());
    }
    env_threads().map(|_| ())
}

/// Install `check`, called on the calling thread between batches of a long reduction: when it
/// returns true the reduction stops with [`NeymanError::Interrupted`]. The first call wins.
pub fn set_interrupt_check(check: fn() -> bool) {
    let _ = INTERRUPT_CHECK.set(check);
}

/// Whether the installed check asks to stop (for kernels that batch work themselves, such as
/// simulated experiments).
pub fn interrupted() -> bool {
    INTERRUPT_CHECK.get().is_some_and(|check| check())
}

/// Threads from `NEYMAN_NUM_THREADS` (a positive integer), else all cores.
fn threads_from_env() -> Result<usize> {
    match std::env::var("NEYMAN_NUM_THREADS") {
        Ok(s) => match s.trim().parse::<usize>() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err(NeymanError::invalid(
                "NEYMAN_NUM_THREADS",
                format!("must be a positive integer (threads), got {s:?}"),
            )),
        },
        Err(_) => Ok(std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)),
    }
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
    let p = build_pool(env_threads()?)?;
    *guard = Some(Arc::clone(&p));
    Ok(p)
}

/// Number of threads in the pool.
pub fn num_threads() -> Result<usize> {
    check_env()?;
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
    EXPLICIT.store(true, Ordering::Release);
    Ok(())
}

/// Reduce `len` rows cut into [`PAR_BLOCK`]-sized blocks: `map` turns the row range of one block
/// into a partial statistic, and `merge` combines partials in block order along a fixed binary
/// tree (see [`BlockTree`]). Runs in the pool when there is more than one block, in batches with an
/// interrupt check between them (see the module notes); the result is identical either way.
pub fn reduce_blocks<S, M, F>(len: usize, map: M, merge: F) -> Result<Option<S>>
where
    S: Send,
    M: Fn(std::ops::Range<usize>) -> S + Sync + Send,
    F: Fn(S, S) -> S,
{
    reduce_blocks_of(len, PAR_BLOCK, map, merge)
}

/// [`reduce_blocks`] with blocks of `block` rows (at least one). For kernels whose partial
/// statistic is large (per-cluster sums), a block size chosen from the input's shape (never from
/// the thread count) keeps merging cheap while the result stays identical on any thread count.
pub fn reduce_blocks_of<S, M, F>(len: usize, block: usize, map: M, merge: F) -> Result<Option<S>>
where
    S: Send,
    M: Fn(std::ops::Range<usize>) -> S + Sync + Send,
    F: Fn(S, S) -> S,
{
    let block = block.max(1);
    let range_of = |b: usize| b * block..((b + 1) * block).min(len);
    reduce_indexed(len.div_ceil(block), |b| map(range_of(b)), merge)
}

/// Reduce `n_blocks` blocks given by index (rows, or replicates of a resampling method, each
/// block with its own random stream): `map` makes block `b`'s partial and `merge` combines
/// partials along the fixed tree of [`BlockTree`]. Runs in the pool when there is more than one
/// block, in batches with an interrupt check between them (see the module notes); the result does
/// not depend on the number of threads.
pub fn reduce_indexed<S, M, F>(n_blocks: usize, map: M, merge: F) -> Result<Option<S>>
where
    S: Send,
    M: Fn(usize) -> S + Sync + Send,
    F: Fn(S, S) -> S,
{
    check_env()?;
    if n_blocks <= 1 {
        return Ok((0..n_blocks).map(&map).reduce(merge));
    }
    let p = pool()?;
    let threads = p.current_num_threads().max(1);
    let mut batch = threads;
    let mut acc = BlockTree::new();
    let mut first = 0;
    while first < n_blocks {
        if first > 0 && interrupted() {
            return Err(NeymanError::Interrupted);
        }
        let last = (first + batch).min(n_blocks);
        let started = std::time::Instant::now();
        let parts: Vec<S> = p.install(|| (first..last).into_par_iter().map(&map).collect());
        // The next batch: as many blocks as fit in the target time at this batch's pace.
        let took = started.elapsed().as_secs_f64().max(1e-9);
        let pace = (last - first) as f64 * BATCH_TARGET.as_secs_f64() / took;
        batch = (pace.min(n_blocks as f64) as usize).max(threads);
        for part in parts {
            acc.push(part, &merge);
        }
        first = last;
    }
    Ok(acc.finish(&merge))
}

/// Merges block partials along a fixed binary tree, like a binary counter: two subtrees of `2^j`
/// blocks merge as soon as both exist, and the remaining subtrees (of decreasing sizes) merge from
/// the right at the end. The grouping depends only on the number of blocks, so results do not
/// depend on threads or batches; and a chunk of `2^j` whole blocks followed by a chunk of at most
/// `2^j` blocks, reduced separately and merged, gives the same bits as one pass over both (a
/// statistic merged across files or processes matches the one-pass result exactly).
pub struct BlockTree<S> {
    /// Subtrees with their levels (`2^level` blocks), levels strictly decreasing.
    stack: Vec<(u32, S)>,
}

impl<S> BlockTree<S> {
    /// No blocks yet.
    pub fn new() -> Self {
        BlockTree { stack: Vec::new() }
    }

    /// Add the next block's partial.
    pub fn push<F: Fn(S, S) -> S>(&mut self, part: S, merge: &F) {
        let mut node = (0, part);
        while let Some((level, _)) = self.stack.last() {
            if *level != node.0 {
                break;
            }
            let Some((level, left)) = self.stack.pop() else {
                break;
            };
            node = (level + 1, merge(left, node.1));
        }
        self.stack.push(node);
    }

    /// The merged statistic of every block pushed (`None` for none).
    pub fn finish<F: Fn(S, S) -> S>(mut self, merge: &F) -> Option<S> {
        let mut acc = self.stack.pop().map(|(_, s)| s)?;
        while let Some((_, left)) = self.stack.pop() {
            acc = merge(left, acc);
        }
        Some(acc)
    }
}

impl<S> Default for BlockTree<S> {
    fn default() -> Self {
        Self::new()
    }
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

#[cfg(test)]
mod tests {
    fn tree(blocks: std::ops::Range<usize>) -> String {
        let merge = |a: String, b: String| format!("({a}{b})");
        let mut t = BlockTree::new();
        for b in blocks {
            t.push(b.to_string(), &merge);
        }
        t.finish(&merge).unwrap_or_default()
    }

    #[test]
    fn block_tree_shape_and_split_invariance() {
        assert_eq!(tree(0..1), "0");
        assert_eq!(tree(0..4), "((01)(23))");
        assert_eq!(tree(0..7), "(((01)(23))((45)6))");
        // A first chunk of 2^j blocks and a second of at most 2^j: merging the two chunks' trees
        // is the tree of all blocks.
        for (j, second) in [(1usize, 1usize), (1, 2), (2, 3), (2, 4), (3, 5)] {
            let first = 1 << j;
            let whole = tree(0..first + second);
            let parts = format!("({}{})", tree(0..first), tree(first..first + second));
            assert_eq!(whole, parts, "{first} + {second} blocks");
        }
    }

    use super::*;
    use std::cell::Cell;

    thread_local! {
        /// Interrupt checks made on this thread, and the check at which to ask to stop (0: never).
        static CHECKS: Cell<(usize, usize)> = const { Cell::new((0, 0)) };
    }

    /// A check that only stops reductions started on the thread that armed it, so tests running
    /// in parallel are not disturbed.
    fn test_check() -> bool {
        CHECKS.with(|c| {
            let (made, stop_at) = c.get();
            c.set((made + 1, stop_at));
            stop_at > 0 && made + 1 >= stop_at
        })
    }

    #[test]
    fn batches_merge_in_order_and_stop_when_asked() {
        set_interrupt_check(test_check);
        // Blocks never touch data here: each reports its range (so order and coverage show)
        // after a millisecond, which paces the batches at about 50 blocks per thread.
        let n_blocks = 300;
        let len = n_blocks * PAR_BLOCK - 17;
        let map = |r: std::ops::Range<usize>| {
            std::thread::sleep(std::time::Duration::from_millis(1));
            vec![(r.start, r.end)]
        };
        let merge = |mut a: Vec<(usize, usize)>, b: Vec<(usize, usize)>| {
            a.extend(b);
            a
        };
        let all = reduce_blocks(len, map, merge).unwrap().unwrap_or_default();
        assert_eq!(all.len(), n_blocks);
        assert!(all.windows(2).all(|w| w[0].1 == w[1].0));
        assert_eq!((all[0].0, all[all.len() - 1].1), (0, len));
        // Checked between batches: more than once, and far fewer times than there are blocks.
        let made = CHECKS.with(Cell::get).0;
        assert!((2..n_blocks / 10).contains(&made), "{made} checks");
        CHECKS.with(|c| c.set((0, 2)));
        let stopped = reduce_blocks(len, map, merge);
        assert!(matches!(stopped, Err(NeymanError::Interrupted)));
        assert_eq!(CHECKS.with(Cell::get).0, 2);
        // One block: no batches, no check.
        CHECKS.with(|c| c.set((0, 1)));
        assert!(reduce_blocks(PAR_BLOCK, map, merge).is_ok());
        assert_eq!(CHECKS.with(Cell::get).0, 0);
    }
}
