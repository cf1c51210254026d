//! Reproducible assignment of units to arms by hashing (version 1, pinned by tests).
//!
//! The hash is XXH3-64 (Collet, xxHash specification 0.8; the `xxhash-rust` crate at a pinned
//! version), which is defined bit for bit, so an id and a salt give the same arm on every machine,
//! process, thread count and version of neyman:
//!
//! 1. `key = XXH3_64(salt as UTF-8 bytes, seed 0)`;
//! 2. `h = XXH3_64(id bytes, seed key)`, the id bytes being the 8 little-endian bytes of a 64-bit
//!    integer id (unsigned ids by their two's-complement bits), or the UTF-8 bytes of a string id
//!    (so the integer `5` and the string `"5"` are different ids);
//! 3. `u = (h >> 11) 2^-53`, uniform on `[0, 1)`;
//! 4. the arm is the first `j` with `u < w_0 + ... + w_j` (cumulative weights summed in arm order,
//!    the last one replaced by 1).
//!
//! Stratified (balanced within strata): within each stratum the units are ranked by `h` (ties, of
//! probability `2^-64` per pair, by row), and the unit of rank `r` of a stratum of `N` gets the arm
//! of `u = (r + 1/2) / N`. The arms are then a random permutation of a split with each count within
//! one unit of `N w_j`; a unit's arm depends on the other units of its stratum, so it is stable for
//! a fixed list of units, not for one that grows.
//!
//! Duplicate ids are refused: the hashes are bucketed by their top bits and sorted in parallel, and
//! equal neighbours are checked against the ids themselves (distinct ids with equal hashes are
//! allowed).

use rayon::prelude::*;
use xxhash_rust::xxh3::{xxh3_64, xxh3_64_with_seed};

use crate::error::{NeymanError, Result};
use crate::parallel;

/// The version of the assignment scheme; a change to any step above is a new version.
pub const VERSION: u32 = 1;

/// Unit ids: 64-bit integers, or strings as UTF-8 bytes with `len + 1` offsets into them.
#[derive(Clone, Copy, Debug)]
pub enum Ids<'a> {
    /// Integer ids.
    Int(&'a [i64]),
    /// String ids: id `i` is `data[offsets[i]..offsets[i + 1]]`.
    Str { data: &'a [u8], offsets: &'a [i64] },
}

impl Ids<'_> {
    fn len(&self) -> usize {
        match self {
            Ids::Int(v) => v.len(),
            Ids::Str { offsets, .. } => offsets.len().saturating_sub(1),
        }
    }

    fn bytes(&self, i: usize) -> Result<&[u8]> {
        match self {
            Ids::Int(_) => Err(NeymanError::invalid("ids", "not string ids")),
            Ids::Str { data, offsets } => {
                let (a, b) = (offsets[i], offsets[i + 1]);
                if a < 0 || b < a || b as usize > data.len() {
                    return Err(NeymanError::invalid("ids", "string offsets out of range"));
                }
                Ok(&data[a as usize..b as usize])
            }
        }
    }

    fn hash(&self, i: usize, key: u64) -> Result<u64> {
        Ok(match self {
            Ids::Int(v) => int_hash(v[i], int_flip(key)),
            Ids::Str { .. } => xxh3_64_with_seed(self.bytes(i)?, key),
        })
    }

    fn same(&self, i: usize, j: usize) -> Result<bool> {
        Ok(match self {
            Ids::Int(v) => v[i] == v[j],
            Ids::Str { .. } => self.bytes(i)? == self.bytes(j)?,
        })
    }

    fn describe(&self, i: usize) -> String {
        match self {
            Ids::Int(v) => v[i].to_string(),
            Ids::Str { .. } => match self.bytes(i) {
                Ok(b) => format!("{:?}", String::from_utf8_lossy(b)),
                Err(_) => format!("at row {i}"),
            },
        }
    }
}

/// Bytes 8..16 and 16..24 of XXH3's default secret (xxHash specification, `kSecret`), as
/// little-endian words.
const SECRET_8: u64 = 0x1cad_21f7_2c81_017c;
const SECRET_16: u64 = 0xdb97_9083_e96d_d4de;

/// The per-salt constant of XXH3's 4-to-8-byte path (`XXH3_len_4to8_64b`):
/// `(secret[8..16] ^ secret[16..24]) - (seed ^ (bswap32(seed) << 32))`.
fn int_flip(key: u64) -> u64 {
    let seed = key ^ (u64::from((key as u32).swap_bytes()) << 32);
    (SECRET_8 ^ SECRET_16).wrapping_sub(seed)
}

/// XXH3-64 of the 8 little-endian bytes of `id` under the seed whose [`int_flip`] is `flip`: the
/// specification's 4-to-8-byte path written out (the two 32-bit halves swapped into one word,
/// xored with `flip`, then the `rrmxmx` avalanche with length 8), so that the assignment loop
/// inlines it. Equal to `xxh3_64_with_seed(&id.to_le_bytes(), key)` (tested here, and against
/// the `xxhash` package in Python).
#[inline(always)]
fn int_hash(id: i64, flip: u64) -> u64 {
    let bits = id as u64;
    let input64 = (bits >> 32).wrapping_add(bits << 32);
    let mut v = input64 ^ flip;
    v ^= v.rotate_left(49) ^ v.rotate_left(24);
    v = v.wrapping_mul(0x9fb2_1c65_1e98_df25);
    v ^= (v >> 35).wrapping_add(8);
    v = v.wrapping_mul(0x9fb2_1c65_1e98_df25);
    v ^ (v >> 28)
}

/// The hash key of a salt.
pub fn salt_key(salt: &str) -> u64 {
    xxh3_64(salt.as_bytes())
}

/// `u = (h >> 11) 2^-53` in `[0, 1)`.
fn unit_interval(h: u64) -> f64 {
    (h >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// Cumulative weights, the last exactly 1; the weights must be positive and sum to 1 (to 1e-9).
pub fn cumulative(weights: &[f64]) -> Result<Vec<f64>> {
    if weights.len() < 2 || weights.len() > 255 {
        return Err(NeymanError::invalid(
            "weights",
            format!("{} arms; between 2 and 255 are allowed", weights.len()),
        ));
    }
    if weights.iter().any(|w| !(w.is_finite() && *w > 0.0)) {
        return Err(NeymanError::invalid(
            "weights",
            "every weight must be positive",
        ));
    }
    let total: f64 = weights.iter().sum();
    if (total - 1.0).abs() > 1e-9 {
        return Err(NeymanError::invalid(
            "weights",
            format!("sum to {total}; they must sum to 1"),
        ));
    }
    let mut acc = 0.0;
    let mut cum: Vec<f64> = weights
        .iter()
        .map(|w| {
            acc += w;
            acc
        })
        .collect();
    if let Some(last) = cum.last_mut() {
        *last = 1.0;
    }
    Ok(cum)
}

/// The first arm whose cumulative weight exceeds `u`: the number of cumulative weights (all but
/// the last) at or below `u`, counted without branches (a random arm per unit defeats branch
/// prediction).
fn arm_of(u: f64, cum: &[f64]) -> u8 {
    cum[..cum.len() - 1].iter().map(|c| u8::from(u >= *c)).sum()
}

/// Refuse duplicate ids, given every id's hash. Equal ids have equal hashes, so the hashes are
/// scattered into 4,096 buckets by their top 12 bits (each bucket small enough to sort in cache),
/// the buckets sorted in parallel, and equal neighbours compared by id (distinct ids whose hashes
/// collide, with probability about `n^2 / 2^65`, are allowed).
fn check_unique(ids: &Ids<'_>, hashes: &[u64]) -> Result<()> {
    const BITS: u32 = 12;
    let n_buckets = 1usize << BITS;
    let bucket = |h: u64| (h >> (64 - BITS)) as usize;
    let mut counts = vec![0usize; n_buckets];
    for h in hashes {
        counts[bucket(*h)] += 1;
    }
    let mut next = Vec::with_capacity(n_buckets);
    let mut acc = 0;
    for c in &counts {
        next.push(acc);
        acc += c;
    }
    let mut scattered = vec![0u64; hashes.len()];
    for h in hashes {
        let b = bucket(*h);
        scattered[next[b]] = *h;
        next[b] += 1;
    }
    let mut parts: Vec<&mut [u64]> = Vec::with_capacity(n_buckets);
    let mut rest: &mut [u64] = &mut scattered;
    for c in &counts {
        let (head, tail) = rest.split_at_mut(*c);
        parts.push(head);
        rest = tail;
    }
    let repeated: Vec<u64> = parallel::pool()?.install(|| {
        parts
            .into_par_iter()
            .flat_map_iter(|part| {
                part.sort_unstable();
                part.windows(2)
                    .filter(|w| w[0] == w[1])
                    .map(|w| w[0])
                    .collect::<Vec<u64>>()
            })
            .collect()
    });
    if repeated.is_empty() {
        return Ok(());
    }
    let mut repeated = repeated;
    repeated.sort_unstable();
    // Rare: find the rows of each repeated hash and compare the ids themselves.
    let mut rows: Vec<(u64, usize)> = hashes
        .iter()
        .enumerate()
        .filter(|(_, h)| repeated.binary_search(h).is_ok())
        .map(|(i, h)| (*h, i))
        .collect();
    rows.sort_unstable();
    for group in rows.chunk_by(|a, b| a.0 == b.0) {
        for (a, (_, i)) in group.iter().enumerate() {
            for (_, j) in &group[a + 1..] {
                if ids.same(*i, *j)? {
                    return Err(NeymanError::invalid(
                        "ids",
                        format!(
                            "duplicate id {} (rows {i} and {j}); each unit must appear once",
                            ids.describe(*i)
                        ),
                    ));
                }
            }
        }
    }
    Ok(())
}

/// The arm (index into `weights`) of every id under `salt`; `strata` (codes `>= 0`, one per id)
/// balances the split within each stratum. See the module notes for the scheme.
pub fn assign(
    ids: Ids<'_>,
    weights: &[f64],
    salt: &str,
    strata: Option<&[i64]>,
    check_duplicates: bool,
) -> Result<Vec<u8>> {
    let cum = cumulative(weights)?;
    let n = ids.len();
    if n == 0 {
        return Err(NeymanError::TooFewObservations {
            arg: "ids".into(),
            n: 0,
            needed: 1,
        });
    }
    if let Ids::Str { offsets, .. } = ids {
        if offsets.len() != n + 1 {
            return Err(NeymanError::invalid(
                "ids",
                "string offsets must have len + 1 entries",
            ));
        }
    }
    let key = salt_key(salt);
    let pool = parallel::pool()?;
    const CHUNK: usize = 1 << 15;
    if let (Ids::Int(values), None, false) = (ids, strata, check_duplicates) {
        // The common case in one fused pass: hash and pick the arm, no hashes kept.
        // `u >= w_0 + ... + w_j` is `h >> 11 >= ceil(2^53 (w_0 + ... + w_j))` exactly (scaling
        // by 2^53 is exact), so the arm is a count of integer thresholds, without branches.
        let thresholds: Vec<u64> = cum[..cum.len() - 1]
            .iter()
            .map(|c| (c * (1u64 << 53) as f64).ceil() as u64)
            .collect();
        let mut arms = vec![0u8; n];
        let flip = int_flip(key);
        pool.install(|| {
            arms.par_chunks_mut(CHUNK)
                .zip(values.par_chunks(CHUNK))
                .for_each(|(out, v)| {
                    for (a, id) in out.iter_mut().zip(v) {
                        let x = int_hash(*id, flip) >> 11;
                        *a = thresholds.iter().map(|t| u8::from(x >= *t)).sum();
                    }
                })
        });
        return Ok(arms);
    }
    let mut hashes = vec![0u64; n];
    pool.install(|| {
        hashes
            .par_chunks_mut(CHUNK)
            .enumerate()
            .try_for_each(|(c, out)| -> Result<()> {
                let start = c * CHUNK;
                for (k, h) in out.iter_mut().enumerate() {
                    *h = ids.hash(start + k, key)?;
                }
                Ok(())
            })
    })?;
    if check_duplicates {
        check_unique(&ids, &hashes)?;
    }
    let mut arms = vec![0u8; n];
    match strata {
        None => pool.install(|| {
            arms.par_chunks_mut(CHUNK)
                .zip(hashes.par_chunks(CHUNK))
                .for_each(|(out, hs)| {
                    for (a, h) in out.iter_mut().zip(hs) {
                        *a = arm_of(unit_interval(*h), &cum);
                    }
                })
        }),
        Some(codes) => {
            if codes.len() != n {
                return Err(NeymanError::LengthMismatch {
                    arg: "strata".into(),
                    other: "ids".into(),
                    len: codes.len(),
                    other_len: n,
                });
            }
            if codes.iter().any(|c| *c < 0) {
                return Err(NeymanError::invalid("strata", "has missing values"));
            }
            let mut order: Vec<usize> = (0..n).collect();
            pool.install(|| order.par_sort_unstable_by_key(|&i| (codes[i], hashes[i], i)));
            for group in order.chunk_by(|a, b| codes[*a] == codes[*b]) {
                let size = group.len() as f64;
                for (r, &i) in group.iter().enumerate() {
                    arms[i] = arm_of((r as f64 + 0.5) / size, &cum);
                }
            }
        }
    }
    Ok(arms)
}

/// The per-id hashes `h` (step 2 of the scheme), for tests and audits.
pub fn hashes(ids: Ids<'_>, salt: &str) -> Result<Vec<u64>> {
    let key = salt_key(salt);
    (0..ids.len()).map(|i| ids.hash(i, key)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_vectors_of_xxh3() {
        // XXH3_64 of the empty input with seed 0 (xxHash's published test vector).
        assert_eq!(xxh3_64(b""), 0x2d06_8005_38d3_94c2);
    }

    #[test]
    fn integer_path_is_xxh3() {
        let mut x = 0x1234_5678_9abc_def0u64;
        for salt in ["", "s", "checkout-2026"] {
            let key = salt_key(salt);
            for _ in 0..2000 {
                x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                let id = x as i64;
                assert_eq!(
                    int_hash(id, int_flip(key)),
                    xxh3_64_with_seed(&id.to_le_bytes(), key)
                );
            }
        }
    }

    #[test]
    fn weights_and_errors() {
        assert!(cumulative(&[0.5, 0.4]).is_err());
        assert!(cumulative(&[1.0]).is_err());
        let arms = assign(Ids::Int(&[1, 2, 3, 4]), &[0.5, 0.5], "s", None, true).unwrap();
        assert_eq!(arms.len(), 4);
        assert!(assign(Ids::Int(&[1, 2, 1]), &[0.5, 0.5], "s", None, true).is_err());
        assert!(assign(Ids::Int(&[]), &[0.5, 0.5], "s", None, true).is_err());
    }

    #[test]
    fn stratified_split_is_balanced() {
        let ids: Vec<i64> = (0..1000).collect();
        let strata: Vec<i64> = ids.iter().map(|i| i % 3).collect();
        let arms = assign(Ids::Int(&ids), &[0.5, 0.5], "x", Some(&strata), true).unwrap();
        for s in 0..3 {
            let t = (0..1000)
                .filter(|&i| strata[i] == s && arms[i] == 1)
                .count() as i64;
            let size = (0..1000).filter(|&i| strata[i] == s).count() as i64;
            assert!((2 * t - size).abs() <= 1, "stratum {s}: {t} of {size}");
        }
    }
}
