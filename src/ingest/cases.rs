//! The `cases` table → cases ready to measure.
//!
//! A case needs an id, an account with a contract in force at its creation
//! (which gives its tier and region), a priority (through the mapping's
//! `[values.priority]`) and a `created_at`; an optional `closed_at` must
//! not be before it. With `--as-of`, a case created after it has not
//! happened yet and is rejected. Rows sharing a `case_id` collapse into the
//! first when identical, and are all rejected when they differ.

use polars::prelude::{PlHashMap as HashMap, PlHashSet as HashSet};
use std::sync::Arc;

use xxhash_rust::xxh3::xxh3_128;

use super::judge::{
    duplicates, judge_in_pieces, Contracts, Interner, NoContract, RejectReason, Rejects,
};
use super::read::Source;
use super::stream::Pieces;
use super::text::{unreadable, Columns};
use crate::mapping::Mapping;
use crate::model::{Case, Priority, Table};
use crate::timestamp::{parse_rfc3339, Instant};

/// The judged cases, and how events find theirs.
#[derive(Debug, Default)]
pub struct JudgedCases {
    /// Cases to measure, in file order.
    pub cases: Vec<Case>,
    /// Index in `cases` of each case id.
    pub index: HashMap<Arc<str>, u32>,
    /// Ids of case rows that were rejected (their events are rejected with
    /// that reason rather than as unknown).
    pub rejected_ids: HashSet<String>,
}

/// A row that passed the per-row checks.
struct Candidate {
    row: usize,
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
    Ok((found.finish(cols, rejects, before), read))
}

impl Found {
    /// The rows of one piece (whose first row is data row `first_row` of
    /// the file): each checked alone, looked up in the contracts, and
    /// signed.
    fn add(
        &mut self,
        source: &Source,
        cols: &Columns,
        first_row: usize,
        with: &Judging,
        interner: &mut Interner,
        rejects: &mut Rejects,
    ) {
        let candidates = candidates(source, cols, with.mapping, with.as_of, first_row, rejects);
        let (ids, accounts, createds) = (
            cols.get("case_id"),
            cols.get("account_id"),
            cols.get("created_at"),
        );
        let (products, channels, languages) = (
            cols.get("product"),
            cols.get("channel"),
            cols.get("language"),
        );
        let columns: Vec<_> = source
            .table()
            .columns()
            .iter()
            .map(|c| cols.get(c.name()))
            .collect();
        let mut signature = Vec::new();
        for c in candidates {
            let i = c.row - first_row;
            let account = accounts.get(i).expect("checked");
            let (account, tier, region) = match with.contracts.in_force(account, c.created_at) {
                Ok((account, contract)) => (account.clone(), contract.tier, contract.region),
                Err(why) => {
                    let (column, value) = match why {
                        NoContract::NoneInForce => ("created_at", createds.get(i)),
                        _ => ("account_id", accounts.get(i)),
                    };
                    let fault = NoContractFault {
                        column,
                        value: value.map(str::to_string),
                        reason: why.reason(),
                    };
                    self.faults.push((self.cases.len(), fault));
                    (interner.get(account), 0, 0)
                }
            };
            signature.clear();
            for values in &columns {
                match values.get(i) {
                    None => signature.push(0),
                    Some(v) => {
                        signature.push(1);
                        signature.extend_from_slice(&(v.len() as u64).to_le_bytes());
                        signature.extend_from_slice(v.as_bytes());
                    }
                }
            }
            self.signatures.push(xxh3_128(&signature));
            self.cases.push(Case {
                row: c.row as u32,
                id: ids.get(i).expect("checked").into(),
                account,
                tier,
                region,
                priority: c.priority,
                created_at: c.created_at,
                closed_at: c.closed_at,
                product: products.get(i).map(|v| interner.get(v)),
                channel: channels.get(i).map(|v| interner.get(v)),
                language: languages.get(i).map(|v| interner.get(v)),
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
        let signature_of_row = |row: usize| {
            let k = cases
                .binary_search_by_key(&row, |c| c.row as usize)
                .expect("a candidate's row");
            signatures[k]
        };
        let dups = duplicates(
            cases
                .iter()
                .enumerate()
                .map(|(k, c)| (k, c.row as usize, &*c.id)),
            |a, b| signature_of_row(a) == signature_of_row(b),
        );
        drop(signatures);
        let mut dropped = vec![false; cases.len()];
        let mut r = rejects.of(Table::Cases);
        let id_column = cols.name("case_id");
        for d in dups {
            dropped[d.candidate] = true;
            let case = &cases[d.candidate];
            let id = Some(&*case.id);
            r.reject(case.row as usize, id, id_column, id, d.reason);
        }
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
        let mut k = 0;
        cases.retain(|_| {
            k += 1;
            !dropped[k - 1]
        });
        cases.shrink_to_fit();
        let mut judged = JudgedCases {
            index: HashMap::with_capacity_and_hasher(cases.len(), Default::default()),
            cases,
            rejected_ids: HashSet::default(),
        };
        for (i, case) in judged.cases.iter().enumerate() {
            judged.index.insert(case.id.clone(), i as u32);
        }
        judged.rejected_ids = rejects.rows()[before..]
            .iter()
            .filter_map(|rj| rj.key.clone())
            .filter(|k| !judged.index.contains_key(k.as_str()))
            .collect();
        judged
    }
}

/// The rows that pass the checks of a single row, in file order (`row`
/// counted from the file's first data row: this piece's is `first_row`).
fn candidates(
    source: &Source,
    cols: &Columns,
    mapping: &Mapping,
    as_of: Option<Instant>,
    first_row: usize,
    rejects: &mut Rejects,
) -> Vec<Candidate> {
    let mut r = rejects.of(Table::Cases);
    let broken = unreadable(source);
    let n = source.frame.height();
    let derived = source.origins.is_some();
    let (ids, accounts, priorities) = (
        cols.get("case_id"),
        cols.get("account_id"),
        cols.get("priority"),
    );
    let (createds, closeds) = (cols.get("created_at"), cols.get("closed_at"));
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let row = first_row + i;
        if let Some(why) = broken.get(i) {
            r.reject_unreadable(row, why);
            continue;
        }
        let key = ids.get(i);
        let missing = RejectReason::MissingValue;
        if key.is_none() {
            r.reject(row, None, cols.name("case_id"), None, missing);
            continue;
        }
        if accounts.get(i).is_none() {
            // A vendor case without an account (a Zendesk ticket with no
            // organization) points nowhere rather than lacks a value.
            let reason = if derived {
                RejectReason::UnknownAccount
            } else {
                missing
            };
            r.reject(row, key, cols.name("account_id"), None, reason);
            continue;
        }
        let priority = match priorities
            .get(i)
            .map(|p| mapping.value("priority", p).parse::<Priority>())
        {
            Some(Ok(p)) => p,
            Some(Err(_)) => {
                let reason = RejectReason::UnknownPriority;
                r.reject(row, key, cols.name("priority"), priorities.get(i), reason);
                continue;
            }
            None => {
                // A vendor case whose priority was never set: no target is guessed.
                let reason = if derived {
                    RejectReason::UnknownPriority
                } else {
                    missing
                };
                r.reject(row, key, cols.name("priority"), None, reason);
                continue;
            }
        };
        let created_at = match createds.get(i).map(parse_rfc3339) {
            Some(Ok(t)) => t,
            Some(Err(e)) => {
                let reason = RejectReason::of_timestamp(&e);
                r.reject(row, key, cols.name("created_at"), createds.get(i), reason);
                continue;
            }
            None => {
                r.reject(row, key, cols.name("created_at"), None, missing);
                continue;
            }
        };
        let closed_at = match closeds.get(i).map(parse_rfc3339) {
            Some(Ok(t)) if t < created_at => {
                let reason = RejectReason::ClosedBeforeCreated;
                r.reject(row, key, cols.name("closed_at"), closeds.get(i), reason);
                continue;
            }
            Some(Ok(t)) => Some(t),
            Some(Err(e)) => {
                let reason = RejectReason::of_timestamp(&e);
                r.reject(row, key, cols.name("closed_at"), closeds.get(i), reason);
                continue;
            }
            None => None,
        };
        if as_of.is_some_and(|as_of| created_at > as_of) {
            let reason = RejectReason::CreatedAfterAsOf;
            r.reject(row, key, cols.name("created_at"), createds.get(i), reason);
            continue;
        }
        out.push(Candidate {
            row,
            priority,
            created_at,
            closed_at,
        });
    }
    out
}
