//! The `cases` table → cases ready to measure.
//!
//! A case needs an id, an account with a contract in force at its creation
//! (which gives its tier and region), a priority (through the mapping's
//! `[values.priority]`) and a `created_at`; an optional `closed_at` must
//! not be before it. With `--as-of`, a case created after it has not
//! happened yet and is rejected. Rows sharing a `case_id` collapse into the
//! first when identical, and are all rejected when they differ.
//!
//! The table is read in pieces (`judge_all`), the rows of a piece judged
//! in parallel; since rows sharing an id may lie pieces apart, each row is
//! kept as its typed case and a 128-bit signature of its text, and the
//! duplicates are settled once every piece is read.

use polars::prelude::PlHashSet as HashSet;
use rayon::prelude::*;
use std::sync::Arc;

use xxhash_rust::xxh3::xxh3_128;

use super::contracts::{Contracts, NoContract};
use super::ids::{CaseRef, IdIndex};
use super::judge::{judge_in_pieces, settle, Interner, RejectReason, Rejects, Seen};
use super::read::Source;
use super::stream::Pieces;
use super::text::{unreadable, Columns, Texts};
use crate::mapping::Mapping;
use crate::model::{Case, Event, Priority, Table};
use crate::timestamp::Instant;
use std::borrow::Cow;

/// The judged cases, and how events find theirs.
#[derive(Debug, Default)]
pub struct JudgedCases {
    /// Cases to measure, in file order.
    pub cases: Vec<Case>,
    /// Each case id's place in `cases` ([`JudgedCases::case_of`]).
    index: IdIndex,
    /// Ids of case rows that were rejected (their events are rejected with
    /// that reason rather than as unknown).
    pub rejected_ids: HashSet<String>,
}

impl JudgedCases {
    /// The case with id `id`: its place in `cases`, and its creation.
    pub fn case_of(&self, id: &str) -> Option<CaseRef> {
        self.index.find(id)
    }

    /// [`JudgedCases::case_of`] for an id met after the case at place
    /// `before`: exports list cases' events in the cases' order, so the
    /// case after it is tried first, without hashing (the judged cases'
    /// ids are unique: a match is the place).
    pub fn case_after(&self, before: u32, id: &str) -> Option<CaseRef> {
        let next = before.wrapping_add(1);
        match self.cases.get(next as usize) {
            Some(case) if &*case.id == id => Some(CaseRef {
                place: next,
                created_at: case.created_at,
            }),
            _ => self.case_of(id),
        }
    }

    /// The cases of many ids at once (the index's `find_each`).
    pub fn find_each<'a>(
        &self,
        queries: &[(u32, u64)],
        text: impl Fn(u32) -> &'a str,
        answer: impl FnMut(u32, Option<CaseRef>),
    ) {
        self.index.find_each(queries, text, answer)
    }
}

/// A row that passed the checks of a single row.
struct Candidate {
    priority: Priority,
    created_at: Instant,
    closed_at: Option<Instant>,
}

/// Why a candidate has no contract to go by (rejected unless it is a
/// duplicate, which is rejected as such).
struct NoContractFault {
    column: &'static str,
    value: Option<String>,
    reason: RejectReason,
}

/// The cases of every piece read so far, before duplicate ids are known:
/// duplicates may lie pieces apart, and rows that differ are all rejected,
/// the first included.
#[derive(Default)]
struct Found {
    /// Every row that passed the per-row checks, as a case (the tier and
    /// region of a row with a fault are meaningless), in file order.
    cases: Vec<Case>,
    /// Each case's signature: a 128-bit hash of every canonical column's
    /// value, by which rows sharing an id are told identical or not.
    signatures: Vec<u128>,
    /// Index in `cases` and why, of each case with no contract in force.
    faults: Vec<(usize, NoContractFault)>,
}

/// What every row of the cases table is judged with.
pub(crate) struct Judging<'a> {
    /// The export's mapping (column names, priority values).
    pub(crate) mapping: &'a Mapping,
    /// The accounts' contracts.
    pub(crate) contracts: &'a Contracts,
    /// `--as-of`, if given: a case created after it is rejected.
    pub(crate) as_of: Option<Instant>,
}

/// Judges every row of the cases table: the rows of its frame, or, for a
/// table read in pieces, each piece as it is read. Returns, for a table
/// read in pieces, the file (read to its end, for its hash) and its data
/// rows.
pub(crate) fn judge_all(
    source: &Source,
    pieces: Option<Pieces>,
    cols: &Columns,
    with: &Judging,
    interner: &mut Interner,
    rejects: &mut Rejects,
) -> crate::Result<(JudgedCases, Option<(Pieces, u64)>)> {
    let before = rejects.rows().len();
    let mut state = (Found::default(), interner, rejects);
    let read = match pieces {
        None => {
            let (found, interner, rejects) = &mut state;
            found.add(source, cols, 0, with, interner, rejects);
            None
        }
        Some(pieces) => Some(judge_in_pieces(
            source,
            pieces,
            with.mapping,
            &mut state,
            |(found, interner, rejects), part, part_cols, first_row| {
                found.add(part, part_cols, first_row, with, interner, rejects);
            },
            |(found, _, _), rows| {
                found.cases.reserve(rows.saturating_sub(found.cases.len()));
                found
                    .signatures
                    .reserve(rows.saturating_sub(found.signatures.len()));
            },
        )?),
    };
    let (found, _, rejects) = state;
    if found.cases.len() > Event::MAX_CASES {
        return Err(crate::Error::Input {
            path: source.path().into(),
            reason: format!(
                "{} cases to measure, more than one run takes ({}): split the export by account and run slt on each part",
                found.cases.len(),
                Event::MAX_CASES
            ),
        });
    }
    Ok((found.finish(cols, rejects, before), read))
}

impl Found {
    /// The rows of one piece (whose first row is data row `first_row` of
    /// the file): each checked alone, looked up in the contracts and
    /// signed, its product, channel and language found among the texts
    /// seen before, in parallel; then, in file order, rejected or kept
    /// (a text not seen before shared from then on).
    fn add(
        &mut self,
        source: &Source,
        cols: &Columns,
        first_row: usize,
        with: &Judging,
        interner: &mut Interner,
        rejects: &mut Rejects,
    ) {
        let texts = RowTexts {
            broken: unreadable(source),
            ids: cols.get("case_id"),
            accounts: cols.get("account_id"),
            priorities: cols.get("priority"),
            createds: cols.get("created_at"),
            closeds: cols.get("closed_at"),
            derived: source.origins.is_some(),
            every: source
                .table()
                .columns()
                .iter()
                .map(|c| cols.get(c.name()))
                .collect(),
        };
        let shared = [
            cols.get("product"),
            cols.get("channel"),
            cols.get("language"),
        ];
        let known: &Interner = interner;
        let height = source.frame.height();
        let checked: Vec<Result<Checked, RowFault>> = (0..height)
            .into_par_iter()
            .map_init(Vec::new, |buffer, i| {
                with.contracts
                    .look_ahead(i, height, |k| texts.accounts.get(k));
                let c = check(i, &texts, with)?;
                let contract = contract_of(i, &texts, with.contracts, c.created_at);
                Ok(Checked {
                    id: texts.ids.get(i).expect("checked").into(),
                    c,
                    contract,
                    signature: texts.signature(i, buffer),
                    shared: shared.map(|column| known.find(column.get(i))),
                })
            })
            .collect();
        let mut r = rejects.of(Table::Cases);
        for (i, checked) in checked.into_iter().enumerate() {
            let row = first_row + i;
            let Checked {
                id,
                c,
                contract,
                signature,
                shared,
            } = match checked {
                Ok(checked) => checked,
                Err(RowFault::Unreadable(why)) => {
                    r.reject_unreadable(row, why);
                    continue;
                }
                Err(RowFault::Reject {
                    key,
                    column,
                    value,
                    reason,
                }) => {
                    r.reject(row, key, cols.name(column), value.as_deref(), reason);
                    continue;
                }
            };
            let (account, tier, region) = match contract {
                Ok(found) => found,
                Err(fault) => {
                    self.faults.push((self.cases.len(), fault));
                    let account = texts.accounts.get(i).expect("checked");
                    (interner.get(account), 0, 0)
                }
            };
            let [product, channel, language] = shared.map(|found| found.shared(interner));
            self.signatures.push(signature);
            self.cases.push(Case {
                row: row as u32,
                id,
                account,
                tier: u8::try_from(tier).expect("a policy defines at most 256 tiers"),
                region: u8::try_from(region).expect("a policy defines at most 256 regions"),
                priority: c.priority,
                created_at: c.created_at,
                closed_at: c.closed_at,
                product,
                channel,
                language,
            });
        }
    }

    /// Every piece read: rows sharing a case id collapse into the first
    /// when identical (same signature) and are all rejected when they
    /// differ; then the rows with no contract in force are rejected, in
    /// file order; the rest are the cases to measure.
    fn finish(self, cols: &Columns, rejects: &mut Rejects, before: usize) -> JudgedCases {
        let Found {
            mut cases,
            signatures,
            faults,
        } = self;
        // Each id's first row goes into the index, and every later row
        // sharing it is noted beside that first row.
        let (mut index, mut repeats) = IdIndex::build(
            cases.len(),
            |k| &cases[k as usize].id,
            |k| cases[k as usize].created_at,
        );
        // The groups of rows sharing an id, in id order, members in file
        // order: identical rows collapse into the first, rows that differ
        // are all rejected.
        repeats.sort_by(|a, b| {
            let id = |k: u32| &cases[k as usize].id;
            id(a.0).cmp(id(b.0)).then(a.1.cmp(&b.1))
        });
        let (mut dups, mut group) = (Vec::new(), Vec::new());
        for repeated in repeats.chunk_by(|a, b| a.0 == b.0) {
            // Candidates are compared by index: their signatures are in that order.
            let first = repeated[0].0 as usize;
            group.clear();
            group.push((first, first));
            group.extend(repeated.iter().map(|&(_, k)| (k as usize, k as usize)));
            settle(&group, &|a, b| signatures[a] == signatures[b], &mut dups);
        }
        let mut dropped = vec![false; cases.len()];
        let mut r = rejects.of(Table::Cases);
        let id_column = cols.name("case_id");
        for d in dups {
            dropped[d.candidate] = true;
            let case = &cases[d.candidate];
            let id = Some(&*case.id);
            r.reject(case.row as usize, id, id_column, id, d.reason);
        }
        drop(signatures);
        for (k, fault) in faults {
            if std::mem::replace(&mut dropped[k], true) {
                continue; // rejected as a duplicate
            }
            let case = &cases[k];
            let (column, value) = (cols.name(fault.column), fault.value.as_deref());
            r.reject(
                case.row as usize,
                Some(&case.id),
                column,
                value,
                fault.reason,
            );
        }
        // Each kept row's place once the dropped ones are gone; the index
        // keeps the ids of kept rows (a kept row is the first of its id).
        let mut kept = 0u32;
        let place: Vec<u32> = dropped
            .iter()
            .map(|&d| {
                kept += u32::from(!d);
                kept.wrapping_sub(1)
            })
            .collect();
        if dropped.contains(&true) {
            index.renumber(|k| (!dropped[k as usize]).then(|| place[k as usize]));
        }
        drop(place);
        let mut k = 0;
        cases.retain(|_| {
            k += 1;
            !dropped[k - 1]
        });
        cases.shrink_to_fit();
        let mut judged = JudgedCases {
            cases,
            index,
            rejected_ids: HashSet::default(),
        };
        judged.rejected_ids = rejects
            .rows()
            .iter()
            .skip(before)
            .filter_map(|rj| rj.key.map(str::to_string))
            .filter(|k| judged.case_of(k).is_none())
            .collect();
        judged
    }
}

/// The columns of one piece a case row is read from, looked up once.
struct RowTexts<'t> {
    broken: Texts<'t>,
    ids: Texts<'t>,
    accounts: Texts<'t>,
    priorities: Texts<'t>,
    createds: Texts<'t>,
    closeds: Texts<'t>,
    /// Rows made from a vendor export (`--source`).
    derived: bool,
    /// Every canonical column, in order: what a row's signature covers.
    every: Vec<Texts<'t>>,
}

impl RowTexts<'_> {
    /// Row `i`'s signature: a 128-bit hash of every canonical column's
    /// value (a missing value told from an empty one), made in `buffer`.
    fn signature(&self, i: usize, buffer: &mut Vec<u8>) -> u128 {
        buffer.clear();
        for values in &self.every {
            values.identify(i, buffer);
        }
        xxh3_128(buffer)
    }
}

/// A row that passed the checks of a single row, with its contract (or
/// why it has none) and its signature.
struct Checked<'t> {
    /// The row's `case_id`.
    id: Arc<str>,
    c: Candidate,
    contract: Result<(Arc<str>, usize, usize), NoContractFault>,
    signature: u128,
    /// `product`, `channel` and `language`, found among the texts seen
    /// before this piece (side by side), or new.
    shared: [Seen<'t>; 3],
}

/// Why a row is rejected by the checks of a single row.
enum RowFault<'t> {
    /// The row could not be read (`CODE<TAB>DETAIL`).
    Unreadable(&'t str),
    /// A value is missing or wrong.
    Reject {
        key: Option<&'t str>,
        column: &'static str,
        value: Option<Cow<'t, str>>,
        reason: RejectReason,
    },
}

/// The contract in force for row `i` of a piece (which passed [`check`]):
/// the account's shared id, tier and region, or why there is none.
fn contract_of(
    i: usize,
    texts: &RowTexts,
    contracts: &Contracts,
    created_at: Instant,
) -> Result<(Arc<str>, usize, usize), NoContractFault> {
    let account = texts.accounts.get(i).expect("checked");
    match contracts.in_force(account, created_at) {
        Ok((account, contract)) => Ok((account.clone(), contract.tier, contract.region)),
        Err(why) => {
            let (column, value) = match why {
                NoContract::NoneInForce => ("created_at", texts.createds.value(i)),
                _ => ("account_id", Some(Cow::Borrowed(account))),
            };
            Err(NoContractFault {
                column,
                value: value.map(Cow::into_owned),
                reason: why.reason(),
            })
        }
    }
}

/// The checks of a single row (`i` of its piece): an id, an account, a
/// known priority, a `created_at` (not after `--as-of`), a `closed_at` not
/// before it.
fn check<'t>(i: usize, texts: &RowTexts<'t>, with: &Judging) -> Result<Candidate, RowFault<'t>> {
    if let Some(why) = texts.broken.get(i) {
        return Err(RowFault::Unreadable(why));
    }
    let key = texts.ids.get(i);
    let fault = |column, value, reason| RowFault::Reject {
        key,
        column,
        value,
        reason,
    };
    let missing = RejectReason::MissingValue;
    if key.is_none() {
        return Err(fault("case_id", None, missing));
    }
    if texts.accounts.get(i).is_none() {
        // A vendor case without an account (a Zendesk ticket with no
        // organization) points nowhere rather than lacks a value.
        let reason = if texts.derived {
            RejectReason::UnknownAccount
        } else {
            missing
        };
        return Err(fault("account_id", None, reason));
    }
    let priorities = texts.priorities;
    let priority = match priorities
        .get(i)
        .map(|p| with.mapping.value("priority", p).parse::<Priority>())
    {
        Some(Ok(p)) => p,
        Some(Err(_)) => {
            let reason = RejectReason::UnknownPriority;
            return Err(fault(
                "priority",
                priorities.get(i).map(Cow::Borrowed),
                reason,
            ));
        }
        None => {
            // A vendor case whose priority was never set: no target is guessed.
            let reason = if texts.derived {
                RejectReason::UnknownPriority
            } else {
                missing
            };
            return Err(fault("priority", None, reason));
        }
    };
    let (createds, closeds) = (texts.createds, texts.closeds);
    let created_at = match createds.instant(i) {
        Some(Ok(t)) => t,
        Some(Err(e)) => {
            let reason = RejectReason::of_timestamp(&e);
            return Err(fault("created_at", createds.value(i), reason));
        }
        None => return Err(fault("created_at", None, missing)),
    };
    let closed_at = match closeds.instant(i) {
        Some(Ok(t)) if t < created_at => {
            let reason = RejectReason::ClosedBeforeCreated;
            return Err(fault("closed_at", closeds.value(i), reason));
        }
        Some(Ok(t)) => Some(t),
        Some(Err(e)) => {
            let reason = RejectReason::of_timestamp(&e);
            return Err(fault("closed_at", closeds.value(i), reason));
        }
        None => None,
    };
    if with.as_of.is_some_and(|as_of| created_at > as_of) {
        let reason = RejectReason::CreatedAfterAsOf;
        return Err(fault("created_at", createds.value(i), reason));
    }
    Ok(Candidate {
        priority,
        created_at,
        closed_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn judged(ids: &[&str]) -> JudgedCases {
        let cases: Vec<Case> = ids
            .iter()
            .enumerate()
            .map(|(row, id)| Case {
                row: row as u32,
                id: (*id).into(),
                account: "ACC-1".into(),
                tier: 0,
                region: 0,
                priority: Priority::P3,
                created_at: 60 * row as i64,
                closed_at: None,
                product: None,
                channel: None,
                language: None,
            })
            .collect();
        let (index, repeats) = IdIndex::build(
            cases.len(),
            |k| &cases[k as usize].id,
            |k| cases[k as usize].created_at,
        );
        assert!(repeats.is_empty());
        JudgedCases {
            cases,
            index,
            rejected_ids: HashSet::default(),
        }
    }

    #[test]
    fn an_id_met_after_a_case_is_found_next_to_it_or_anywhere_else() {
        let judged = judged(&["C-1", "C-2", "C-3", "C-4"]);
        // The case after it.
        assert_eq!(judged.case_after(1, "C-3").map(|f| f.place), Some(2));
        // Before it, far after it, itself.
        assert_eq!(judged.case_after(3, "C-1").map(|f| f.place), Some(0));
        assert_eq!(judged.case_after(0, "C-4").map(|f| f.place), Some(3));
        assert_eq!(judged.case_after(2, "C-3").map(|f| f.place), Some(2));
        // After the last case, and an id no case has.
        assert_eq!(judged.case_after(3, "C-2").map(|f| f.place), Some(1));
        assert_eq!(judged.case_after(1, "C-9").map(|f| f.place), None);
        assert_eq!(judged.case_after(3, "C-9").map(|f| f.place), None);
        assert_eq!(judged.case_after(u32::MAX, "C-1").map(|f| f.place), Some(0));
        // With its case's creation, found next to it or in the index.
        for before in [0, 1, 3] {
            let found = judged.case_after(before, "C-3").unwrap();
            assert_eq!((found.place, found.created_at), (2, 120));
        }
    }
}
