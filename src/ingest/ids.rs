//! The index of case ids: which judged case an id names, built side by side.
//!
//! One hash map of every id, built row after row, was two seconds on one
//! thread at 10 M cases: a cache miss per id, for a map of a quarter of a
//! gibibyte. Here each id is hashed once (in parallel), the ids are split
//! into [`SHARDS`] shards by bits of that hash, and each shard's table is
//! built on its own, side by side, small enough to stay in the cache. A
//! table holds only places (`u32`, the case's index in the judged cases);
//! the ids stay in the cases and are read only to tell two ids apart.

use hashbrown::hash_table::{Entry, HashTable};
use rayon::prelude::*;
use xxhash_rust::xxh3::xxh3_64;

/// Shards of the index (a power of two, at most 256: a shard number is a byte).
const SHARDS: usize = 256;

/// Case ids → places, in shards.
#[derive(Debug, Default)]
pub struct IdIndex {
    /// Empty, or [`SHARDS`] tables of places.
    shards: Vec<HashTable<u32>>,
}

fn hash(id: &str) -> u64 {
    xxh3_64(id.as_bytes())
}

/// The shard of a hash: bits 32–39, which a table of fewer than 2^32
/// buckets never uses to choose a bucket, nor to tag one (the top 7 bits).
fn shard(hash: u64) -> usize {
    (hash >> 32) as usize % SHARDS
}

impl IdIndex {
    /// Indexes `count` ids, the id at place `k` being `id(k)`: each id at
    /// its first place. Also returns, for every later place whose id an
    /// earlier place has, `(first place, later place)`, in no given order.
    pub fn build<'a>(
        count: usize,
        id: impl Fn(u32) -> &'a str + Sync,
    ) -> (IdIndex, Vec<(u32, u32)>) {
        assert!(u32::try_from(count).is_ok(), "more ids than a u32 counts");
        let hashes: Vec<u64> = (0..count as u32)
            .into_par_iter()
            .map(|k| hash(id(k)))
            .collect();
        let mut sizes = vec![0usize; SHARDS];
        for &h in &hashes {
            sizes[shard(h)] += 1;
        }
        let mut members: Vec<Vec<(u32, u64)>> =
            sizes.iter().map(|&n| Vec::with_capacity(n)).collect();
        for (k, &h) in hashes.iter().enumerate() {
            members[shard(h)].push((k as u32, h));
        }
        drop(hashes);
        let (shards, repeats): (Vec<_>, Vec<Vec<(u32, u32)>>) = members
            .into_par_iter()
            .map(|members| {
                let mut table = HashTable::with_capacity(members.len());
                let mut repeats = Vec::new();
                // Places in ascending order: the first place of an id is
                // the one inserted.
                for (k, h) in members {
                    let text = id(k);
                    match table.entry(h, |&j| id(j) == text, |&j| hash(id(j))) {
                        Entry::Occupied(first) => repeats.push((*first.get(), k)),
                        Entry::Vacant(slot) => {
                            slot.insert(k);
                        }
                    }
                }
                (table, repeats)
            })
            .unzip();
        (IdIndex { shards }, repeats.into_iter().flatten().collect())
    }

    /// The place of `text`, the id at place `k` being `id(k)`.
    pub fn get<'a>(&self, text: &str, id: impl Fn(u32) -> &'a str) -> Option<u32> {
        let h = hash(text);
        self.shards
            .get(shard(h))?
            .find(h, |&j| id(j) == text)
            .copied()
    }

    /// Moves every id to `new_place(its place)`, and drops it where that is
    /// `None`.
    pub fn renumber(&mut self, new_place: impl Fn(u32) -> Option<u32> + Sync) {
        self.shards.par_iter_mut().for_each(|table| {
            table.retain(|k| match new_place(*k) {
                Some(to) => {
                    *k = to;
                    true
                }
                None => false,
            })
        });
    }

    /// How many ids are indexed.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.shards.iter().map(HashTable::len).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ids repeated at several places, near and far apart: each found at its
    /// first place, every later one reported once; unknown ids not found.
    #[test]
    fn ids_are_found_at_their_first_place_and_repeats_reported() {
        let ids: Vec<String> = (0..50_000)
            .map(|k| match k % 10 {
                3 => format!("C-{}", k / 2), // repeats an earlier id (or a later one's)
                _ => format!("C-{k}"),
            })
            .collect();
        let id = |k: u32| ids[k as usize].as_str();
        let (index, mut repeats) = IdIndex::build(ids.len(), id);
        let mut first: std::collections::HashMap<&str, u32> = Default::default();
        let mut want = Vec::new();
        for (k, text) in ids.iter().enumerate() {
            let f = *first.entry(text).or_insert(k as u32);
            if f != k as u32 {
                want.push((f, k as u32));
            }
        }
        repeats.sort_unstable();
        assert!(!want.is_empty());
        assert_eq!(repeats, want);
        assert_eq!(index.len(), first.len());
        for (text, &k) in &first {
            assert_eq!(index.get(text, id), Some(k), "{text}");
        }
        assert_eq!(index.get("C-50000x", id), None);
        assert_eq!(IdIndex::default().get("C-1", id), None);
    }

    #[test]
    fn renumbering_moves_kept_ids_and_forgets_dropped_ones() {
        let ids: Vec<String> = (0..1000).map(|k| format!("id{k}")).collect();
        let (mut index, repeats) = IdIndex::build(ids.len(), |k| ids[k as usize].as_str());
        assert!(repeats.is_empty());
        // Drop every third id; the others close up.
        index.renumber(|k| (k % 3 != 0).then(|| k - k / 3 - 1));
        let kept: Vec<&String> = ids
            .iter()
            .enumerate()
            .filter(|(k, _)| k % 3 != 0)
            .map(|(_, t)| t)
            .collect();
        let id = |k: u32| kept[k as usize].as_str();
        assert_eq!(index.len(), kept.len());
        for (k, text) in ids.iter().enumerate() {
            let want = (k % 3 != 0).then(|| kept.iter().position(|t| *t == text).unwrap() as u32);
            assert_eq!(index.get(text, id), want, "{text}");
        }
    }
}
