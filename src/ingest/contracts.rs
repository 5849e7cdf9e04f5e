//! Every account's contracts, as judged: the one rule for the contract in
//! force, and the lookup of an account's contracts by the id a row names.
//!
//! Every case, engagement and contact row looks up its account. A hash map
//! of shared ids to vectors of contracts cost four cache misses a lookup,
//! one after the other (the map's control bytes, its bucket, the id's text,
//! the contract rows): 3.5 s of CPU for 6.1 M engagements over 500,000
//! accounts, and 5–6 % of a 1 M-case run with 40,000 accounts with UUID ids.
//! Here the table is open addressing over eight-byte slots (a tag of the
//! id's hash and the account's place), so where a lookup goes is known from
//! the hash alone, and a judge looping over rows asks memory for the slot,
//! then the account, then its id and contracts, of rows a few ahead
//! (`Contracts::look_ahead`): the misses of several lookups overlap, as
//! the case-id index's do (`ingest::ids`).

use std::sync::Arc;

use polars::prelude::PlHashSet as HashSet;
use xxhash_rust::xxh3::xxh3_64;

use super::ids::prefetch;
use super::judge::RejectReason;
use crate::model::Contract;
use crate::timestamp::Instant;

/// Every account's contract rows, as judged: the one place that says
/// which contract is in force.
#[derive(Debug, Default)]
pub struct Contracts {
    /// Accounts with a used row, sorted by id.
    accounts: Vec<Account>,
    /// The used rows, each account's together and sorted by `from`.
    rows: Vec<Contract>,
    /// A power of two of slots (none when no account has a used row), at
    /// most two thirds full: [`EMPTY`], or the tag of the id's hash
    /// ([`tag`]) in the high half and the account's place plus one in the
    /// low half.
    slots: Vec<u64>,
    /// Every account id the accounts table names (used rows or not).
    known: HashSet<Arc<str>>,
}

/// An account with used contract rows.
#[derive(Debug)]
struct Account {
    /// Its shared id.
    id: Arc<str>,
    /// Where its rows start in [`Contracts::rows`].
    first: u32,
    /// How many there are.
    len: u32,
}

/// A slot with no account.
const EMPTY: u64 = 0;

/// Why a row that refers to an account has no contract to go by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoContract {
    /// The accounts table does not name the account.
    UnknownAccount,
    /// It does, but every one of its rows was rejected.
    OnlyRejectedRows,
    /// It has contracts, none in force at the instant asked.
    NoneInForce,
}

/// How many rows ahead of the one judged [`Contracts::look_ahead`] asks
/// for a lookup's slot, its account, then its id and contracts.
const AHEAD: [usize; 3] = [12, 8, 4];

/// The part of an id's hash a slot keeps, to skip most other ids' slots
/// without reading their text.
fn tag(hash: u64) -> u64 {
    hash >> 32
}

impl Contracts {
    /// Contracts from the used rows: `listed`, each account with used rows
    /// sorted by id and where its rows are in `rows` (sorted by `from`),
    /// and `known`, the ids of every account named.
    pub(crate) fn new(
        listed: Vec<(Arc<str>, std::ops::Range<usize>)>,
        rows: Vec<Contract>,
        known: HashSet<Arc<str>>,
    ) -> Self {
        let count = |n: usize| u32::try_from(n).expect("fewer than 2^32 contract rows");
        let accounts: Vec<Account> = listed
            .into_iter()
            .map(|(id, at)| Account {
                id,
                first: count(at.start),
                len: count(at.len()),
            })
            .collect();
        let mut slots = if accounts.is_empty() {
            Vec::new()
        } else {
            vec![EMPTY; (accounts.len() * 3 / 2 + 1).next_power_of_two()]
        };
        let mask = slots.len().wrapping_sub(1);
        for (place, account) in accounts.iter().enumerate() {
            let hash = xxh3_64(account.id.as_bytes());
            let mut at = hash as usize & mask;
            while slots[at] != EMPTY {
                at = (at + 1) & mask;
            }
            slots[at] = tag(hash) << 32 | (place as u64 + 1);
        }
        Contracts {
            accounts,
            rows,
            slots,
            known,
        }
    }

    /// The account named `id`, if it has used rows.
    fn find(&self, id: &str) -> Option<&Account> {
        let hash = xxh3_64(id.as_bytes());
        self.candidates(hash).find(|account| *account.id == *id)
    }

    /// The accounts whose slots, from where `hash` is looked up, carry its
    /// tag, in probe order: the account named by an id of that hash, if
    /// any, is among them.
    fn candidates(&self, hash: u64) -> impl Iterator<Item = &Account> {
        let mask = self.slots.len().wrapping_sub(1);
        let start = hash as usize & mask;
        let slots = self.slots.get(start..).unwrap_or_default();
        let wrapped = self.slots.get(..start).unwrap_or_default();
        slots
            .iter()
            .chain(wrapped)
            .take_while(|&&slot| slot != EMPTY)
            .filter(move |&&slot| slot >> 32 == tag(hash))
            .map(|&slot| &self.accounts[(slot as u32 - 1) as usize])
    }

    /// The rows of `account`.
    fn rows_of(&self, account: &Account) -> &[Contract] {
        let first = account.first as usize;
        &self.rows[first..first + account.len as usize]
    }

    /// Asks memory, while row `i` of `height` is judged, for what looking
    /// up the accounts of the rows a few ahead will read (`account(k)`:
    /// the id row `k` names, if any): the slot of one far ahead, the
    /// account of one nearer (its slot read by now), and the id and
    /// contract rows of the nearest. A hint only: no answer changes.
    pub(crate) fn look_ahead<'t>(
        &self,
        i: usize,
        height: usize,
        account: impl Fn(usize) -> Option<&'t str>,
    ) {
        if self.slots.is_empty() {
            return;
        }
        let hash_of = |ahead: usize| {
            let k = i + ahead;
            (k < height)
                .then(|| account(k))
                .flatten()
                .map(|id| xxh3_64(id.as_bytes()))
        };
        if let Some(hash) = hash_of(AHEAD[0]) {
            let at = hash as usize & (self.slots.len() - 1);
            prefetch(std::ptr::from_ref(&self.slots[at]).cast());
        }
        if let Some(account) = hash_of(AHEAD[1]).and_then(|h| self.candidates(h).next()) {
            prefetch(std::ptr::from_ref(account).cast());
        }
        if let Some(account) = hash_of(AHEAD[2]).and_then(|h| self.candidates(h).next()) {
            prefetch(account.id.as_ptr());
            if let Some(row) = self.rows.get(account.first as usize) {
                prefetch(std::ptr::from_ref(row).cast());
            }
        }
    }

    /// The account's used contract rows, sorted by `from`, or why there are none.
    pub fn rows(&self, account: &str) -> Result<&[Contract], NoContract> {
        self.account(account).map(|(_, rows)| rows)
    }

    /// The account's shared id and its used contract rows, sorted by
    /// `from`, or why there are none.
    pub fn account(&self, account: &str) -> Result<(&Arc<str>, &[Contract]), NoContract> {
        match self.find(account) {
            Some(found) => Ok((&found.id, self.rows_of(found))),
            None if self.known.contains(account) => Err(NoContract::OnlyRejectedRows),
            None => Err(NoContract::UnknownAccount),
        }
    }

    /// The account's shared id and its contract in force at `t`.
    pub fn in_force(
        &self,
        account: &str,
        t: Instant,
    ) -> Result<(&Arc<str>, &Contract), NoContract> {
        let (id, rows) = self.account(account)?;
        rows.iter()
            .find(|c| c.in_force(t))
            .map(|c| (id, c))
            .ok_or(NoContract::NoneInForce)
    }

    /// Every account with a used contract row, sorted by id.
    pub fn accounts(&self) -> Vec<(&Arc<str>, &[Contract])> {
        self.accounts
            .iter()
            .map(|account| (&account.id, self.rows_of(account)))
            .collect()
    }
}

impl NoContract {
    /// The reject reason.
    pub(crate) fn reason(&self) -> RejectReason {
        match self {
            NoContract::UnknownAccount => RejectReason::UnknownAccount,
            NoContract::OnlyRejectedRows => RejectReason::AccountWithoutContract,
            NoContract::NoneInForce => RejectReason::NoContractInForce,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use polars::prelude::PlHashMap as HashMap;

    /// The contracts of `by_account` (rows in any order, an account with
    /// none among them), `known` naming every account.
    fn contracts_of(
        by_account: HashMap<Arc<str>, Vec<Contract>>,
        known: HashSet<Arc<str>>,
    ) -> Contracts {
        let mut listed: Vec<_> = by_account.into_iter().collect();
        listed.sort_by(|a, b| a.0.cmp(&b.0));
        let (mut accounts, mut rows) = (Vec::new(), Vec::new());
        for (id, mut list) in listed {
            list.sort_by_key(|c| c.from);
            let first = rows.len();
            rows.extend(list);
            if rows.len() > first {
                accounts.push((id, first..rows.len()));
            }
        }
        Contracts::new(accounts, rows, known)
    }

    fn contract(from: i64, to: Option<i64>) -> Contract {
        Contract {
            tier: 0,
            region: 0,
            zone: chrono_tz::UTC,
            from,
            to,
        }
    }

    #[test]
    fn the_contract_in_force_and_why_there_is_none() {
        let c = contract;
        let mut by_account = HashMap::default();
        by_account.insert(Arc::from("A"), vec![c(20, None), c(10, Some(20))]);
        by_account.insert(Arc::from("R"), vec![]);
        let known = ["A", "R"].into_iter().map(Arc::from).collect();
        let contracts = contracts_of(by_account, known);
        assert_eq!(contracts.in_force("A", 20).unwrap().1.from, 20);
        assert_eq!(contracts.in_force("A", 19).unwrap().1.from, 10);
        assert_eq!(
            contracts.in_force("A", 9).unwrap_err(),
            NoContract::NoneInForce
        );
        assert_eq!(
            contracts.in_force("R", 15).unwrap_err(),
            NoContract::OnlyRejectedRows
        );
        assert_eq!(
            contracts.in_force("Z", 15).unwrap_err(),
            NoContract::UnknownAccount
        );
    }

    proptest::proptest! {
        /// Any set of accounts (short ids from few letters: prefixes of
        /// each other, the empty id among them), each with some rows or
        /// none: every id, named or not, is answered as a map of the
        /// accounts answers it, and hints asked at any row change nothing.
        #[test]
        fn every_lookup_answers_as_a_map_of_the_accounts_does(
            listed in proptest::collection::btree_map("[abc]{0,5}", 0usize..3, 0..300),
            asked in proptest::collection::vec("[abcd]{0,5}", 0..100),
        ) {
            let mut by_account = HashMap::default();
            let mut known = HashSet::default();
            for (id, n) in &listed {
                let id: Arc<str> = Arc::from(id.as_str());
                known.insert(id.clone());
                let rows = (0..*n).rev().map(|k| contract(10 * k as i64, Some(10 * k as i64 + 10)));
                by_account.insert(id, rows.collect::<Vec<_>>());
            }
            let contracts = contracts_of(by_account, known);
            let texts: Vec<&str> = asked.iter().chain(listed.keys()).map(String::as_str).collect();
            for (i, id) in texts.iter().enumerate() {
                contracts.look_ahead(i, texts.len(), |k| Some(texts[k]));
                let want = match listed.get(*id) {
                    None => Err(NoContract::UnknownAccount),
                    Some(0) => Err(NoContract::OnlyRejectedRows),
                    Some(&n) => Ok(n),
                };
                let got = contracts.account(id).map(|(shared, rows)| {
                    assert_eq!(&**shared, *id);
                    assert!(rows.windows(2).all(|w| w[0].from < w[1].from));
                    rows.len()
                });
                proptest::prop_assert_eq!(got, want);
            }
            let every: Vec<&str> = contracts.accounts().iter().map(|(id, _)| &***id).collect();
            let want: Vec<&str> = listed.iter().filter(|(_, n)| **n > 0).map(|(id, _)| id.as_str()).collect();
            proptest::prop_assert_eq!(every, want);
        }
    }

    #[test]
    fn an_id_is_found_past_the_tables_end_behind_another_with_its_tag() {
        // An id whose lookup starts at the last slot, a different id of
        // its length with the same tag there, and the id itself in the
        // first slot.
        let id = (0..)
            .map(|n| format!("A-{n}"))
            .find(|id| xxh3_64(id.as_bytes()) & 3 == 3)
            .unwrap();
        let t = tag(xxh3_64(id.as_bytes()));
        let account = |id: &str, first: u32| Account {
            id: Arc::from(id),
            first,
            len: 1,
        };
        let decoy = "Z".repeat(id.len());
        let contracts = Contracts {
            accounts: vec![account(&decoy, 0), account(&id, 1)],
            rows: vec![contract(0, None), contract(5, None)],
            slots: vec![t << 32 | 2, EMPTY, EMPTY, t << 32 | 1],
            known: HashSet::default(),
        };
        let (shared, rows) = contracts.account(&id).unwrap();
        assert_eq!((&**shared, rows[0].from), (id.as_str(), 5));
        assert_eq!(
            contracts.account(&decoy).unwrap_err(),
            NoContract::UnknownAccount,
            "not where its own hash starts"
        );
        contracts.look_ahead(0, 20, |_| Some(id.as_str()));
    }
}
