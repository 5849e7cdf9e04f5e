//! The index of case ids: which judged case an id names, built side by side.
//!
//! One hash map of every id, built row after row, was two seconds on one
//! thread at 10 M cases: a cache miss per id, for a map of a quarter of a
//! gibibyte. Here each id is hashed once (in parallel), the ids are split
//! into [`SHARDS`] shards by bits of that hash, and each shard's table is
//! built on its own, side by side, small enough to stay in the cache.
//!
//! Each shard keeps its ids' bytes and each case's creation too, side by
//! side in one record per id, its table holding only where each record
//! starts (four bytes a slot): finding an id, and checking an event
//! against its case's creation, reads the shard's table and one record,
//! never the judged case. Reaching into the cases cost two
//! cache misses more per event (the case, then its id). And ids looked up
//! in no particular order ([`IdIndex::find_all`]) are taken shard by
//! shard, so each shard is read while it is in the cache: an export whose
//! events are not listed in the cases' order (shuffled, or by time) pays
//! that on every row — 3 s of a 5 s run on a shuffled 1 M export before.

use hashbrown::hash_table::{Entry, HashTable};
use rayon::prelude::*;
use xxhash_rust::xxh3::xxh3_64;

use crate::timestamp::Instant;

/// Shards of the index (a power of two, at most 256: a shard number is a byte).
const SHARDS: usize = 256;

/// Case ids → places, in shards.
#[derive(Debug, Default)]
pub struct IdIndex {
    /// Empty, or [`SHARDS`] shards.
    shards: Vec<Shard>,
}

/// What the index tells of an id: its judged case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaseRef {
    /// The case's place in the judged cases.
    pub place: u32,
    /// The case's creation.
    pub created_at: Instant,
}

/// The ids of one shard.
#[derive(Debug, Default)]
struct Shard {
    /// One slot per id: where its record starts in `records`. Four bytes a
    /// slot, so the table stays small; the record then holds all the rest,
    /// so a lookup reads the table and one record, not a slot and then the
    /// id's bytes elsewhere (a cache miss less per event on an export whose
    /// events do not follow its cases).
    table: HashTable<u32>,
    /// Records one after the other, each [`RECORD_HEAD`] bytes (the
    /// case's place, the id's length, the case's creation; little-endian)
    /// then the id's bytes.
    records: Vec<u8>,
}

/// Bytes of a record before its id.
const RECORD_HEAD: usize = 16;

impl Shard {
    fn find(&self, hash: u64, text: &[u8]) -> Option<CaseRef> {
        self.table
            .find(hash, |&r| id_of(&self.records, r) == text)
            .map(|&r| found_at(&self.records, r))
    }

    /// Appends the record of `text` naming `found`; returns where it starts.
    fn push(records: &mut Vec<u8>, text: &[u8], found: CaseRef) -> u32 {
        let start = u32::try_from(records.len()).expect("a shard's ids fit in 4 GiB");
        let len = u32::try_from(text.len()).expect("an id fits in 4 GiB");
        records.extend_from_slice(&found.place.to_le_bytes());
        records.extend_from_slice(&len.to_le_bytes());
        records.extend_from_slice(&found.created_at.to_le_bytes());
        records.extend_from_slice(text);
        start
    }
}

/// The four bytes at `at` of `records`, as a number.
fn u32_at(records: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(records[at..at + 4].try_into().expect("four bytes"))
}

/// The id of the record at `r`.
fn id_of(records: &[u8], r: u32) -> &[u8] {
    let r = r as usize;
    let len = u32_at(records, r + 4) as usize;
    &records[r + RECORD_HEAD..][..len]
}

/// What the record at `r` names.
fn found_at(records: &[u8], r: u32) -> CaseRef {
    let r = r as usize;
    CaseRef {
        place: u32_at(records, r),
        created_at: i64::from_le_bytes(records[r + 8..r + 16].try_into().expect("eight bytes")),
    }
}

/// A query of [`IdIndex::find_all`], its text at `start..start + len` of
/// the copied texts.
#[derive(Debug, Clone, Copy, Default)]
struct Query {
    k: u32,
    hash: u64,
    start: usize,
    len: usize,
}

/// The hash an id is found by.
pub fn hash(id: &str) -> u64 {
    xxh3_64(id.as_bytes())
}

/// The shard of a hash: bits 32–39, which a table of fewer than 2^32
/// buckets never uses to choose a bucket, nor to tag one (the top 7 bits).
fn shard(hash: u64) -> usize {
    (hash >> 32) as usize % SHARDS
}

impl IdIndex {
    /// Indexes `count` ids, the id at place `k` being `id(k)`, of a case
    /// created at `created_at(k)`: each id at its first place. Also
    /// returns, for every later place whose id an earlier place has,
    /// `(first place, later place)`, in no given order.
    pub fn build<'a>(
        count: usize,
        id: impl Fn(u32) -> &'a str + Sync,
        created_at: impl Fn(u32) -> Instant + Sync,
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
                let mut records = Vec::with_capacity(
                    members
                        .iter()
                        .map(|&(k, _)| RECORD_HEAD + id(k).len())
                        .sum(),
                );
                let mut repeats = Vec::new();
                // Places in ascending order: the first place of an id is
                // the one inserted.
                for (k, h) in members {
                    let text = id(k).as_bytes();
                    let entry = table.entry(
                        h,
                        |&r: &u32| id_of(&records, r) == text,
                        |&r: &u32| xxh3_64(id_of(&records, r)),
                    );
                    match entry {
                        Entry::Occupied(first) => {
                            repeats.push((found_at(&records, *first.get()).place, k))
                        }
                        Entry::Vacant(slot) => {
                            let found = CaseRef {
                                place: k,
                                created_at: created_at(k),
                            };
                            slot.insert(Shard::push(&mut records, text, found));
                        }
                    }
                }
                (Shard { table, records }, repeats)
            })
            .unzip();
        (IdIndex { shards }, repeats.into_iter().flatten().collect())
    }

    /// The case of `text`.
    pub fn find(&self, text: &str) -> Option<CaseRef> {
        let h = hash(text);
        self.shards.get(shard(h))?.find(h, text.as_bytes())
    }

    /// The case of each of `queries` — `(k, hash(text(k)))` — as `(k,
    /// found)`, in no given order. Taken shard by shard, side by side.
    pub fn find_all<'a>(
        &self,
        queries: Vec<(u32, u64)>,
        text: impl Fn(u32) -> &'a str + Sync,
    ) -> Vec<(u32, Option<CaseRef>)> {
        if self.shards.is_empty() {
            return queries.into_iter().map(|(k, _)| (k, None)).collect();
        }
        // A counting sort of the queries by shard, their text copied in
        // the same order: each shard then reads its queries' text one
        // after the other rather than strided through the whole piece of
        // the file (a TLB miss each).
        let mut starts = vec![0usize; SHARDS + 1];
        let mut byte_starts = vec![0usize; SHARDS + 1];
        for &(k, h) in &queries {
            starts[shard(h) + 1] += 1;
            byte_starts[shard(h) + 1] += text(k).len();
        }
        for s in 0..SHARDS {
            starts[s + 1] += starts[s];
            byte_starts[s + 1] += byte_starts[s];
        }
        let (mut next, mut next_byte) = (starts.clone(), byte_starts.clone());
        let mut sorted = vec![Query::default(); queries.len()];
        let mut bytes = vec![0u8; byte_starts[SHARDS]];
        for (k, hash) in queries {
            let s = shard(hash);
            let t = text(k).as_bytes();
            let start = next_byte[s];
            bytes[start..start + t.len()].copy_from_slice(t);
            sorted[next[s]] = Query {
                k,
                hash,
                start,
                len: t.len(),
            };
            next[s] += 1;
            next_byte[s] += t.len();
        }
        // In shard order, side by side: each worker takes a stretch of
        // whole shards' queries, one after the other.
        sorted
            .par_iter()
            .map(|q| {
                let shard = &self.shards[shard(q.hash)];
                (q.k, shard.find(q.hash, &bytes[q.start..][..q.len]))
            })
            .collect()
    }

    /// Moves every id to `new_place(its place)`, and drops it where that is
    /// `None` (its record stays, unused).
    pub fn renumber(&mut self, new_place: impl Fn(u32) -> Option<u32> + Sync) {
        self.shards.par_iter_mut().for_each(|shard| {
            let records = &mut shard.records;
            shard
                .table
                .retain(|&mut r| match new_place(u32_at(records, r as usize)) {
                    Some(to) => {
                        records[r as usize..][..4].copy_from_slice(&to.to_le_bytes());
                        true
                    }
                    None => false,
                })
        });
    }

    /// How many ids are indexed.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| s.table.len()).sum()
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
        let (index, mut repeats) = IdIndex::build(ids.len(), id, |k| i64::from(k) * 10);
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
            let found = CaseRef {
                place: k,
                created_at: i64::from(k) * 10,
            };
            assert_eq!(index.find(text), Some(found), "{text}");
        }
        assert_eq!(index.find("C-50000x"), None);
        assert_eq!(IdIndex::default().find("C-1"), None);
    }

    /// Ids looked up all at once, in no order, some twice, some unknown:
    /// each answer is what looking it up alone gives, and every query is
    /// answered once.
    #[test]
    fn ids_found_all_at_once_are_found_as_one_by_one() {
        let ids: Vec<String> = (0..20_000).map(|k| format!("{k:x}-case")).collect();
        let (index, _) = IdIndex::build(ids.len(), |k| ids[k as usize].as_str(), |k| -i64::from(k));
        // Queries: every 7th id backwards, repeats, and ids no case has.
        let asked: Vec<String> = (0..30_000u32)
            .rev()
            .map(|q| match q % 3 {
                0 => format!("{:x}-case", (q * 7) % 20_000),
                1 => format!("{:x}-case", q % 50),
                _ => format!("{q:x}-other"),
            })
            .collect();
        let queries = (0..asked.len() as u32)
            .map(|q| (q, hash(&asked[q as usize])))
            .collect();
        let mut answers = index.find_all(queries, |q| asked[q as usize].as_str());
        answers.sort_unstable_by_key(|a| a.0);
        assert_eq!(answers.len(), asked.len());
        for (q, (k, found)) in answers.into_iter().enumerate() {
            assert_eq!(k as usize, q);
            assert_eq!(found, index.find(&asked[q]), "{}", asked[q]);
            assert_eq!(found.is_some(), !asked[q].ends_with("other"));
        }
        let none = IdIndex::default().find_all(vec![(4, hash("a"))], |_| "a");
        assert_eq!(none, vec![(4, None)]);
    }

    #[test]
    fn renumbering_moves_kept_ids_and_forgets_dropped_ones() {
        let ids: Vec<String> = (0..1000).map(|k| format!("id{k}")).collect();
        let (mut index, repeats) =
            IdIndex::build(ids.len(), |k| ids[k as usize].as_str(), i64::from);
        assert!(repeats.is_empty());
        // Drop every third id; the others close up.
        index.renumber(|k| (k % 3 != 0).then(|| k - k / 3 - 1));
        let kept: Vec<&String> = ids
            .iter()
            .enumerate()
            .filter(|(k, _)| k % 3 != 0)
            .map(|(_, t)| t)
            .collect();
        assert_eq!(index.len(), kept.len());
        for (k, text) in ids.iter().enumerate() {
            let want = (k % 3 != 0).then(|| CaseRef {
                place: kept.iter().position(|t| *t == text).unwrap() as u32,
                created_at: k as i64,
            });
            assert_eq!(index.find(text), want, "{text}");
        }
    }
}
