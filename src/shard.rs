//! Shards: which cases one of N runs measures (`slt report --shard I/N`).
//!
//! A case belongs to shard `1 + FNV-1a-64(case_id) mod N`, the hash taken
//! over the UTF-8 bytes of the id as judged (surrounding spaces trimmed).
//! Every row carrying that id (every copy of a duplicate, every event of
//! the case) therefore lands in the same shard, whatever account or file
//! position it has. FNV-1a (64-bit: offset basis `0xcbf29ce484222325`,
//! prime `0x100000001b3`) is chosen because it is short to state and to
//! re-implement in any language, and stable forever: it is part of the
//! output contract (`docs/outputs.md`). Pure: no I/O.

use std::fmt;
use std::str::FromStr;

/// One shard of an N-way split: `index` in `1..=count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Shard {
    /// This shard, from 1.
    pub index: u32,
    /// How many shards in all.
    pub count: u32,
}

/// The hash rule, as the manifest names it.
pub const HASH: &str = "fnv1a64(case_id) mod count, plus 1";

/// FNV-1a, 64-bit, of `bytes`.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

impl Shard {
    /// The shard (from 1) that case `id` belongs to among `count`.
    pub fn of(id: &str, count: u32) -> u32 {
        1 + (fnv1a64(id.trim().as_bytes()) % u64::from(count)) as u32
    }

    /// Whether case `id` belongs to this shard.
    pub fn contains(&self, id: &str) -> bool {
        Shard::of(id, self.count) == self.index
    }

    /// Shard 1 reports what every shard reads alike: the shared tables'
    /// rows, every row rejected while reading, the findings that are not
    /// about a case.
    pub fn is_first(&self) -> bool {
        self.index == 1
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = String;

    /// `I/N`, with `1 ≤ I ≤ N`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("`{s}` is not a shard `I/N` with 1 ≤ I ≤ N (e.g. 2/4)");
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count): (u32, u32) = (
            i.trim().parse().map_err(|_| bad())?,
            n.trim().parse().map_err(|_| bad())?,
        );
        if index == 0 || count == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a64_matches_the_published_test_vectors() {
        // From the FNV reference (draft-eastlake-fnv): "" and "a", "foobar".
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn every_id_lands_in_exactly_one_shard_and_spaces_do_not_move_it() {
        for n in 1..=7 {
            for k in 0..500 {
                let id = format!("C-{k:06}");
                let owners: Vec<u32> = (1..=n)
                    .filter(|&i| Shard { index: i, count: n }.contains(&id))
                    .collect();
                assert_eq!(owners.len(), 1, "{id} among {n}");
                assert_eq!(Shard::of(&format!("  {id} "), n), owners[0]);
            }
        }
    }

    #[test]
    fn shards_are_roughly_even() {
        let n = 4;
        let mut counts = [0u32; 4];
        for k in 0..40_000 {
            counts[(Shard::of(&format!("C-{k:07}"), n) - 1) as usize] += 1;
        }
        for c in counts {
            assert!((9_000..11_000).contains(&c), "{counts:?}");
        }
    }

    #[test]
    fn shard_text_is_read_and_refused_in_one_phrase() {
        assert_eq!("2/4".parse::<Shard>(), Ok(Shard { index: 2, count: 4 }));
        assert_eq!("1/1".parse::<Shard>().unwrap().to_string(), "1/1");
        for bad in ["0/4", "5/4", "4", "a/b", "1/0", ""] {
            let e = bad.parse::<Shard>().unwrap_err();
            assert!(e.contains("I/N"), "{bad}: {e}");
        }
    }
}
