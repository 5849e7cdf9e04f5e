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

use super::judge::{duplicates, Contracts, Interner, NoContract, RejectReason, Rejects};
use super::read::Source;
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

/// Judges every row of the cases table.
pub(crate) fn judge(
    source: &Source,
    cols: &Columns,
    mapping: &Mapping,
    contracts: &Contracts,
    as_of: Option<Instant>,
    interner: &mut Interner,
    rejects: &mut Rejects,
) -> JudgedCases {
    let before = rejects.rows().len();
    let candidates = candidates(source, cols, mapping, as_of, rejects);
    let ids = cols.get("case_id");
    // Duplicate case ids: identical rows (every canonical column) collapse
    // into the first; rows that differ are all rejected.
    let signature = |i: usize| -> Vec<Option<&str>> {
        source
            .table()
            .columns()
            .iter()
            .map(|c| cols.get(c.name()).get(i))
            .collect()
    };
    let dups = duplicates(
        candidates
            .iter()
            .enumerate()
            .map(|(k, c)| (k, c.row, ids.get(c.row).expect("checked"))),
        |a, b| signature(a) == signature(b),
    );
    let mut drop = vec![false; candidates.len()];
    let mut r = rejects.of(Table::Cases);
    for d in dups {
        drop[d.candidate] = true;
        let row = candidates[d.candidate].row;
        r.reject(
            row,
            ids.get(row),
            cols.name("case_id"),
            ids.get(row),
            d.reason,
        );
    }

    let (accounts, createds) = (cols.get("account_id"), cols.get("created_at"));
    let (products, channels, languages) = (
        cols.get("product"),
        cols.get("channel"),
        cols.get("language"),
    );
    let mut judged = JudgedCases::default();
    for (c, _) in candidates.iter().zip(&drop).filter(|(_, d)| !**d) {
        let i = c.row;
        let account = accounts.get(i).expect("checked");
        let (account, contract) = match contracts.in_force(account, c.created_at) {
            Ok(found) => found,
            Err(why) => {
                let (column, value) = match why {
                    NoContract::NoneInForce => ("created_at", createds.get(i)),
                    _ => ("account_id", accounts.get(i)),
                };
                r.reject(i, ids.get(i), cols.name(column), value, why.reason());
                continue;
            }
        };
        let id: Arc<str> = ids.get(i).expect("checked").into();
        judged.index.insert(id.clone(), judged.cases.len() as u32);
        judged.cases.push(Case {
            row: i as u32,
            id,
            account: account.clone(),
            tier: contract.tier,
            region: contract.region,
            priority: c.priority,
            created_at: c.created_at,
            closed_at: c.closed_at,
            product: products.get(i).map(|v| interner.get(v)),
            channel: channels.get(i).map(|v| interner.get(v)),
            language: languages.get(i).map(|v| interner.get(v)),
        });
    }
    judged.rejected_ids = rejects.rows()[before..]
        .iter()
        .filter_map(|rj| rj.key.clone())
        .filter(|k| !judged.index.contains_key(k.as_str()))
        .collect();
    judged
}

/// The rows that pass the checks of a single row, in file order.
fn candidates(
    source: &Source,
    cols: &Columns,
    mapping: &Mapping,
    as_of: Option<Instant>,
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
        if let Some(why) = broken.get(i) {
            r.reject_unreadable(i, why);
            continue;
        }
        let key = ids.get(i);
        let missing = RejectReason::MissingValue;
        if key.is_none() {
            r.reject(i, None, cols.name("case_id"), None, missing);
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
            r.reject(i, key, cols.name("account_id"), None, reason);
            continue;
        }
        let priority = match priorities
            .get(i)
            .map(|p| mapping.value("priority", p).parse::<Priority>())
        {
            Some(Ok(p)) => p,
            Some(Err(_)) => {
                let reason = RejectReason::UnknownPriority;
                r.reject(i, key, cols.name("priority"), priorities.get(i), reason);
                continue;
            }
            None => {
                // A vendor case whose priority was never set: no target is guessed.
                let reason = if derived {
                    RejectReason::UnknownPriority
                } else {
                    missing
                };
                r.reject(i, key, cols.name("priority"), None, reason);
                continue;
            }
        };
        let created_at = match createds.get(i).map(parse_rfc3339) {
            Some(Ok(t)) => t,
            Some(Err(e)) => {
                let reason = RejectReason::of_timestamp(&e);
                r.reject(i, key, cols.name("created_at"), createds.get(i), reason);
                continue;
            }
            None => {
                r.reject(i, key, cols.name("created_at"), None, missing);
                continue;
            }
        };
        let closed_at = match closeds.get(i).map(parse_rfc3339) {
            Some(Ok(t)) if t < created_at => {
                let reason = RejectReason::ClosedBeforeCreated;
                r.reject(i, key, cols.name("closed_at"), closeds.get(i), reason);
                continue;
            }
            Some(Ok(t)) => Some(t),
            Some(Err(e)) => {
                let reason = RejectReason::of_timestamp(&e);
                r.reject(i, key, cols.name("closed_at"), closeds.get(i), reason);
                continue;
            }
            None => None,
        };
        if as_of.is_some_and(|as_of| created_at > as_of) {
            let reason = RejectReason::CreatedAfterAsOf;
            r.reject(i, key, cols.name("created_at"), createds.get(i), reason);
            continue;
        }
        out.push(Candidate {
            row: i,
            priority,
            created_at,
            closed_at,
        });
    }
    out
}
