//! The index of case ids: which judged case an id names, built side by side.
//!
//! One hash map of every id, built row after row, was two seconds on one
//! thread at 10 M cases: a cache miss per id, for a map of a quarter of a
//! gibibyte. Here each id is hashed once (in parallel), the ids are split
//! into [`SHARDS`] shards by bits of that hash, and each shard's table is
//! built on its own, side by side, small enough to stay in the cache.
//!
//! Each shard keeps its ids' bytes and each case's creation too, side by
//! side in one record per id, its table holding only a tag of each id's
//! hash and where its record starts (eight bytes a slot): finding an id,
//! and checking an event against its case's creation, reads the shard's
//! table and one record, never the judged case. Reaching into the cases
//! cost two cache misses more per event (the case, then its id). And ids
//! looked up in no particular order ([`IdIndex::find_each`]) have each
//! lookup's slot and record asked of memory a few lookups before it is
//! made, so the cache misses of several lookups overlap: an export whose
//! events are not listed in the cases' order (shuffled, or by time) pays
//! one on nearly every row. (Sorting the lookups by shard, so that each
//! shard was read while in the cache, had saved most of 3 s of a 5 s run
//! on a shuffled 1 M export when each lookup waited on its misses; with
//! the misses overlapped, that sort — a copy of every id looked up, on
//! one thread — no longer paid for itself: as fast without it on the UUID
//! and the shuffled 1 M exports.)

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
///
/// Its table is open addressing with linear probing, each slot eight
/// bytes: a tag of the id's hash and where its record starts. A slot's
/// place is the hash's low bits, so a lookup knows which slot to read
/// from the hash alone, and [`IdIndex::find_each`] can ask for the slots,
/// then the records, of lookups still to come while it finishes one
/// (hashbrown's table hid where an id's slot is: its lookups waited on
/// three cache misses one after the other, 10–15 % of the CPU of an
/// export whose events do not follow its cases).
#[derive(Debug, Default)]
struct Shard {
    /// A power of two of slots (or none when the shard has no id), at most
    /// two thirds full: [`EMPTY`], or the tag ([`tag`]) in the high half and
    /// the record's start plus one in the low half.
    slots: Vec<u64>,
    /// Records one after the other, each [`RECORD_HEAD`] bytes (the
    /// case's place, the id's length, the case's creation; little-endian)
    /// then the id's bytes. A place of [`DROPPED`] is an id no longer
    /// indexed ([`IdIndex::renumber`]).
    records: Vec<u8>,
}

/// A slot with no id.
const EMPTY: u64 = 0;

/// The place of a dropped id's record.
const DROPPED: u32 = u32::MAX;

/// Bytes of a record before its id.
const RECORD_HEAD: usize = 16;

/// The tag of a hash kept in its slot: bits 40–63, which neither the slot's
/// place (the low bits) nor the shard (bits 32–39) uses.
fn tag(hash: u64) -> u64 {
    hash >> 40
}

impl Shard {
    /// A shard of `count` ids, each of which (with its hash) is offered by
    /// `ids` in ascending place order: the first place of an id is kept,
    /// and `(first place, later place)` returned for each later one.
    fn build<'a>(
        count: usize,
        record_bytes: usize,
        ids: impl Iterator<Item = (u64, &'a [u8], CaseRef)>,
    ) -> (Shard, Vec<(u32, u32)>) {
        if count == 0 {
            return (Shard::default(), Vec::new());
        }
        let slots = (count + count / 2).next_power_of_two().max(8);
        let mut shard = Shard {
            slots: vec![EMPTY; slots],
            records: Vec::with_capacity(record_bytes),
        };
        let mut repeats = Vec::new();
        for (hash, text, found) in ids {
            match shard.probe(hash, text) {
                Ok(r) => repeats.push((u32_at(&shard.records, r), found.place)),
                Err(slot) => {
                    let start = shard.push(text, found);
                    shard.slots[slot] = tag(hash) << 32 | u64::from(start + 1);
                }
            }
        }
        (shard, repeats)
    }

    /// Where the record of `text` (hashed to `hash`) starts, or the empty
    /// slot where it would go.
    fn probe(&self, hash: u64, text: &[u8]) -> Result<usize, usize> {
        let mask = self.slots.len() - 1;
        let mut at = hash as usize & mask;
        loop {
            let slot = self.slots[at];
            if slot == EMPTY {
                return Err(at);
            }
            if slot >> 32 == tag(hash) {
                let r = (slot as u32 - 1) as usize;
                if id_of(&self.records, r) == text {
                    return Ok(r);
                }
            }
            at = (at + 1) & mask;
        }
    }

    fn find(&self, hash: u64, text: &[u8]) -> Option<CaseRef> {
        if self.slots.is_empty() {
            return None;
        }
        let r = self.probe(hash, text).ok()?;
        let found = found_at(&self.records, r);
        (found.place != DROPPED).then_some(found)
    }

    /// Asks the processor for the slot `hash` is looked up at first.
    fn prefetch_slot(&self, hash: u64) {
        if let Some(slot) = self
            .slots
            .get(hash as usize & self.slots.len().wrapping_sub(1))
        {
            prefetch(std::ptr::from_ref(slot).cast());
        }
    }

    /// Asks the processor for the record of the first slot from where
    /// `hash` is looked up whose tag is the hash's (the slots are expected
    /// in the cache: [`Shard::prefetch_slot`] a while before): its first
    /// byte and the last of an id `len` bytes long, which most records
    /// have on another cache line.
    fn prefetch_record(&self, hash: u64, len: usize) {
        let mask = self.slots.len().wrapping_sub(1);
        let mut at = hash as usize & mask;
        while let Some(&slot) = self.slots.get(at) {
            if slot == EMPTY {
                return;
            }
            if slot >> 32 == tag(hash) {
                let r = (slot as u32 - 1) as usize;
                if let Some(record) = self.records.get(r) {
                    prefetch(record);
                }
                if let Some(last) = self.records.get(r + RECORD_HEAD + len.saturating_sub(1)) {
                    prefetch(last);
                }
                return;
            }
            at = (at + 1) & mask;
        }
    }

    /// Appends the record of `text` naming `found`; returns where it starts.
    fn push(&mut self, text: &[u8], found: CaseRef) -> u32 {
        let records = &mut self.records;
        // Below u32::MAX: a slot holds the start plus one.
        let start = u32::try_from(records.len())
            .ok()
            .filter(|&s| s < u32::MAX)
            .expect("a shard's ids fit in 4 GiB");
        let len = u32::try_from(text.len()).expect("an id fits in 4 GiB");
        records.extend_from_slice(&found.place.to_le_bytes());
        records.extend_from_slice(&len.to_le_bytes());
        records.extend_from_slice(&found.created_at.to_le_bytes());
        records.extend_from_slice(text);
        start
    }
}

/// A hint to the processor to bring the cache line of `at` in: a lookup
/// to come will read it. Nothing else (it reads nothing, never faults).
#[inline(always)]
#[allow(unsafe_code)]
pub(crate) fn prefetch(at: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is a hint: it dereferences nothing, cannot fault
    // on any address, and changes no state the program can see.
    // (`_mm_prefetch` has no safe form; slt's only other `unsafe` is the
    // allocator's.)
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(at.cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = at;
}

/// The four bytes at `at` of `records`, as a number.
fn u32_at(records: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(records[at..at + 4].try_into().expect("four bytes"))
}

/// The id of the record at `r`.
fn id_of(records: &[u8], r: usize) -> &[u8] {
    let len = u32_at(records, r + 4) as usize;
    &records[r + RECORD_HEAD..][..len]
}

/// What the record at `r` names.
fn found_at(records: &[u8], r: usize) -> CaseRef {
    CaseRef {
        place: u32_at(records, r),
        created_at: i64::from_le_bytes(records[r + 8..r + 16].try_into().expect("eight bytes")),
    }
}

/// How many lookups ahead [`IdIndex::find_each`] asks for a lookup's slot
/// (and half as many, its record).
const AHEAD: usize = 32;

/// How many ids ahead [`IdIndex::build`] asks for an id's case (and
/// half as many, its text).
const BUILD_AHEAD: usize = 16;

/// The hash an id is found by.
pub fn hash(id: &str) -> u64 {
    xxh3_64(id.as_bytes())
}

/// The shard of a hash: bits 32–39, which neither a slot's place in its
/// shard (the low bits) nor its tag (bits 40–63) uses.
fn shard(hash: u64) -> usize {
    (hash >> 32) as usize % SHARDS
}

impl IdIndex {
    /// Indexes `count` ids, the id at place `k` being `id(k)`, of a case
    /// created at `created_at(k)`: each id at its first place. Also
    /// returns, for every later place whose id an earlier place has,
    /// `(first place, later place)`, in no given order.
    ///
    /// `fetch(k)` asks memory for what `id(k)` and `created_at(k)` read
    /// (the case at place `k`; a hint, nothing more): a shard's ids are
    /// read a few places apart in a table of cases far larger than the
    /// cache, a miss for each case and another for its id's text, so each
    /// is asked for [`BUILD_AHEAD`] ids before it is read, its text half
    /// as many before.
    pub fn build<'a>(
        count: usize,
        id: impl Fn(u32) -> &'a str + Sync,
        created_at: impl Fn(u32) -> Instant + Sync,
        fetch: impl Fn(u32) + Sync,
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
                let case_ahead = |j: usize| {
                    if let Some(&(k, _)) = members.get(j + BUILD_AHEAD) {
                        fetch(k);
                    }
                };
                let record_bytes = members
                    .iter()
                    .enumerate()
                    .map(|(j, &(k, _))| {
                        case_ahead(j);
                        RECORD_HEAD + id(k).len()
                    })
                    .sum();
                // Places in ascending order: the first place of an id is
                // the one kept.
                let ids = members.iter().enumerate().map(|(j, &(k, h))| {
                    case_ahead(j);
                    if let Some(&(k, _)) = members.get(j + BUILD_AHEAD / 2) {
                        // Its case was asked for a while ago.
                        let text = id(k).as_bytes();
                        if let (Some(first), Some(last)) = (text.first(), text.last()) {
                            prefetch(first);
                            prefetch(last);
                        }
                    }
                    let found = CaseRef {
                        place: k,
                        created_at: created_at(k),
                    };
                    (h, id(k).as_bytes(), found)
                });
                Shard::build(members.len(), record_bytes, ids)
            })
            .unzip();
        (IdIndex { shards }, repeats.into_iter().flatten().collect())
    }

    /// The case of `text`.
    pub fn find(&self, text: &str) -> Option<CaseRef> {
        let h = hash(text);
        self.shards.get(shard(h))?.find(h, text.as_bytes())
    }

    /// The case of each of `queries` — `(k, hash(text(k)))` — told to
    /// `answer(k, found)`, in the order given. Each lookup's slot is asked
    /// of memory [`AHEAD`] lookups before it is made, and its record half
    /// as many before, so the cache misses of several lookups overlap
    /// instead of following one another.
    pub fn find_each<'a>(
        &self,
        queries: &[(u32, u64)],
        text: impl Fn(u32) -> &'a str,
        mut answer: impl FnMut(u32, Option<CaseRef>),
    ) {
        if self.shards.is_empty() {
            queries.iter().for_each(|&(k, _)| answer(k, None));
            return;
        }
        let shard_of = |h: u64| &self.shards[shard(h)];
        for &(_, h) in queries.iter().take(AHEAD) {
            shard_of(h).prefetch_slot(h);
        }
        for &(k, h) in queries.iter().take(AHEAD / 2) {
            shard_of(h).prefetch_record(h, text(k).len());
        }
        for (i, &(k, h)) in queries.iter().enumerate() {
            if let Some(&(_, ahead)) = queries.get(i + AHEAD) {
                shard_of(ahead).prefetch_slot(ahead);
            }
            if let Some(&(q, ahead)) = queries.get(i + AHEAD / 2) {
                shard_of(ahead).prefetch_record(ahead, text(q).len());
            }
            answer(k, shard_of(h).find(h, text(k).as_bytes()));
        }
    }

    /// Moves every id to `new_place(its place)`, and drops it where that is
    /// `None` (its record stays, unused).
    pub fn renumber(&mut self, new_place: impl Fn(u32) -> Option<u32> + Sync) {
        self.shards.par_iter_mut().for_each(|shard| {
            let records = &mut shard.records;
            for &slot in &shard.slots {
                if slot == EMPTY {
                    continue;
                }
                let r = (slot as u32 - 1) as usize;
                let place = u32_at(records, r);
                if place == DROPPED {
                    continue;
                }
                let to = new_place(place).unwrap_or(DROPPED);
                records[r..][..4].copy_from_slice(&to.to_le_bytes());
            }
        });
    }

    /// How many ids are indexed.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .flat_map(|s| {
                s.slots
                    .iter()
                    .filter(|&&slot| slot != EMPTY)
                    .map(move |&slot| (s, slot))
            })
            .filter(|(s, slot)| u32_at(&s.records, (*slot as u32 - 1) as usize) != DROPPED)
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ids given the same hash (one home slot, one tag), the last slot of
    /// the table among them: each is told apart by its text, found past
    /// the others and past the table's end, a repeat of one is reported,
    /// and an id with that hash but no record is not found.
    #[test]
    fn ids_sharing_a_hash_are_found_by_their_text_past_the_tables_end() {
        // Eight slots for five ids: the home slot of `last` is slot 7.
        let last = 7 | 0xabcdef << 40;
        let ids: Vec<(u64, &[u8], u32)> = vec![
            (last, b"A-1", 0),
            (last, b"A-2", 1),
            (3, b"B", 2),
            (last, b"A-3", 3),
            (last, b"A-2", 4),
        ];
        let entries = ids.iter().map(|&(h, text, k)| {
            let found = CaseRef {
                place: k,
                created_at: -i64::from(k),
            };
            (h, text, found)
        });
        let (shard, repeats) = Shard::build(ids.len(), 0, entries);
        assert_eq!(shard.slots.len(), 8);
        assert_eq!(repeats, vec![(1, 4)]);
        let found = |h, text: &[u8]| shard.find(h, text).map(|c| (c.place, c.created_at));
        assert_eq!(found(last, b"A-1"), Some((0, 0)));
        assert_eq!(found(last, b"A-2"), Some((1, -1)));
        assert_eq!(found(last, b"A-3"), Some((3, -3)));
        assert_eq!(found(3, b"B"), Some((2, -2)));
        assert_eq!(found(last, b"A-4"), None);
        assert_eq!(found(3, b"A-1"), None, "the right text in the wrong place");
        // Slots 7, 0 and 1 hold the `A`s (past the end), 3 holds `B`.
        let held: Vec<bool> = shard.slots.iter().map(|&s| s != EMPTY).collect();
        assert_eq!(held, [true, true, false, true, false, false, false, true]);
    }

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
        let (index, mut repeats) = IdIndex::build(ids.len(), id, |k| i64::from(k) * 10, |_| {});
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
    /// answered once, in the order asked.
    #[test]
    fn ids_found_all_at_once_are_found_as_one_by_one_in_order() {
        let ids: Vec<String> = (0..20_000).map(|k| format!("{k:x}-case")).collect();
        let (index, _) = IdIndex::build(
            ids.len(),
            |k| ids[k as usize].as_str(),
            |k| -i64::from(k),
            |_| {},
        );
        // Queries: every 7th id backwards, repeats, and ids no case has.
        let asked: Vec<String> = (0..30_000u32)
            .rev()
            .map(|q| match q % 3 {
                0 => format!("{:x}-case", (q * 7) % 20_000),
                1 => format!("{:x}-case", q % 50),
                _ => format!("{q:x}-other"),
            })
            .collect();
        let queries: Vec<(u32, u64)> = (0..asked.len() as u32)
            .map(|q| (q, hash(&asked[q as usize])))
            .collect();
        let mut answers = Vec::new();
        let text = |q: u32| asked[q as usize].as_str();
        index.find_each(&queries, text, |k, found| answers.push((k, found)));
        assert_eq!(answers.len(), asked.len());
        for (q, (k, found)) in answers.into_iter().enumerate() {
            assert_eq!(k as usize, q, "answered in the order asked");
            assert_eq!(found, index.find(&asked[q]), "{}", asked[q]);
            assert_eq!(found.is_some(), !asked[q].ends_with("other"));
        }
        let mut none = Vec::new();
        IdIndex::default().find_each(&[(4, hash("a"))], |_| "a", |k, f| none.push((k, f)));
        assert_eq!(none, vec![(4, None)]);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(500))]
        /// Any ids (short, from two letters: many repeats, the empty id
        /// among them), any lookups, any of the first places dropped: the
        /// index answers as a map of each id's first place does, before
        /// and after renumbering, one by one and all at once.
        #[test]
        fn the_index_answers_as_a_map_of_first_places(
            ids in proptest::collection::vec("[ab]{0,7}", 0..400),
            asked in proptest::collection::vec("[ab]{0,8}", 0..200),
            dropped in proptest::collection::vec(proptest::bool::ANY, 400),
        ) {
            let (mut index, mut repeats) =
                IdIndex::build(
                    ids.len(),
                    |k| ids[k as usize].as_str(),
                    |k| i64::from(k) * 7,
                    |_| {},
                );
            let mut first: std::collections::HashMap<&str, u32> = Default::default();
            let mut want_repeats = Vec::new();
            for (k, text) in ids.iter().enumerate() {
                let f = *first.entry(text.as_str()).or_insert(k as u32);
                if f != k as u32 {
                    want_repeats.push((f, k as u32));
                }
            }
            repeats.sort_unstable();
            want_repeats.sort_unstable();
            proptest::prop_assert_eq!(repeats, want_repeats);
            let model = |text: &str, place: &dyn Fn(u32) -> Option<u32>| {
                first.get(text).and_then(|&k| {
                    place(k).map(|p| CaseRef { place: p, created_at: i64::from(k) * 7 })
                })
            };
            let check = |index: &IdIndex, place: &dyn Fn(u32) -> Option<u32>| {
                let queries: Vec<(u32, u64)> =
                    (0..asked.len() as u32).map(|q| (q, hash(&asked[q as usize]))).collect();
                let mut answers = Vec::new();
                index.find_each(&queries, |q| asked[q as usize].as_str(), |q, f| answers.push((q, f)));
                let want: Vec<_> = asked
                    .iter()
                    .enumerate()
                    .map(|(q, text)| (q as u32, model(text, place)))
                    .collect();
                for text in ids.iter().chain(&asked) {
                    proptest::prop_assert_eq!(index.find(text), model(text, place), "{:?}", text);
                }
                proptest::prop_assert_eq!(answers, want);
                Ok(())
            };
            check(&index, &Some)?;
            // The first places not dropped close up, in order.
            let kept: Vec<u32> = {
                let mut firsts: Vec<u32> = first.values().copied().collect();
                firsts.sort_unstable();
                firsts.retain(|&k| !dropped[k as usize]);
                firsts
            };
            let new_place = |k: u32| kept.binary_search(&k).ok().map(|p| p as u32);
            index.renumber(new_place);
            proptest::prop_assert_eq!(index.len(), kept.len());
            check(&index, &new_place)?;
        }
    }

    #[test]
    fn renumbering_moves_kept_ids_and_forgets_dropped_ones() {
        let ids: Vec<String> = (0..1000).map(|k| format!("id{k}")).collect();
        let (mut index, repeats) =
            IdIndex::build(ids.len(), |k| ids[k as usize].as_str(), i64::from, |_| {});
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
