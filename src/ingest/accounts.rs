//! The `accounts` table → every account's contracts.
//!
//! A row is a contract: `account_id`, `tier` and `region` (names of the
//! policy, through the mapping's value maps), `valid_from` and an optional
//! `valid_to`, half-open. A bound is an RFC 3339 instant or a bare date
//! (local midnight in the row's region); a `valid_to` in a year after 2199
//! means open-ended. Rows of one account that overlap are all rejected:
//! slt cannot know which contract was in force.

use polars::prelude::PlHashSet as HashSet;
use std::sync::Arc;

use super::contracts::Contracts;
use super::judge::{parse_bound, parse_end_bound, Interner, RejectReason, Rejects};
use super::read::Source;
use super::text::{unreadable, Columns};
use crate::mapping::Mapping;
use crate::model::{Contract, Table};
use crate::policy::Policy;

/// Why a row is rejected: column, value, reason.
type Fault<'a> = (&'a str, Option<&'a str>, RejectReason);

/// Judges every row of the accounts table.
pub(crate) fn judge(
    source: &Source,
    cols: &Columns,
    mapping: &Mapping,
    policy: &Policy,
    interner: &mut Interner,
    rejects: &mut Rejects,
) -> Contracts {
    let mut r = rejects.of(Table::Accounts);
    let broken = unreadable(source);
    let ids = cols.get("account_id");
    let height = source.frame.height();
    interner.reserve(height);
    let mut known: HashSet<Arc<str>> =
        HashSet::with_capacity_and_hasher(height, Default::default());
    // Every row with a contract: its account, row and contract.
    let mut rows: Vec<(Arc<str>, usize, Contract)> = Vec::with_capacity(height);
    for i in 0..height {
        if let Some(why) = broken.get(i) {
            r.reject_unreadable(i, why);
            continue;
        }
        let Some(id) = ids.get(i) else {
            let reason = RejectReason::MissingValue;
            r.reject(i, None, cols.name("account_id"), None, reason);
            continue;
        };
        let id = interner.get(id);
        known.insert(id.clone());
        match contract(i, cols, mapping, policy) {
            Ok(c) => rows.push((id, i, c)),
            Err((column, value, reason)) => r.reject(i, Some(&id), column, value, reason),
        }
    }
    // Each account's rows together, accounts in id order, an account's
    // rows by `from` then row (rows of one account share one interned id).
    rows.sort_unstable_by(|a, b| {
        let by_id = a.0.cmp(&b.0);
        by_id.then(a.2.from.cmp(&b.2.from)).then(a.1.cmp(&b.1))
    });
    // Overlapping contract rows of one account: every row involved is
    // rejected; an account with no row left has no contract.
    let mut accounts = Vec::new();
    let mut kept = Vec::with_capacity(rows.len());
    let froms = cols.get("valid_from");
    for list in rows.chunk_by(|a, b| Arc::ptr_eq(&a.0, &b.0) || a.0 == b.0) {
        let overlapping = overlaps(list);
        let first = kept.len();
        for ((id, i, c), bad) in list.iter().zip(overlapping) {
            if bad {
                let reason = RejectReason::OverlappingContracts;
                let (column, value) = (cols.name("valid_from"), froms.get(*i));
                r.reject(*i, Some(id), column, value, reason);
            } else {
                kept.push(*c);
            }
        }
        if kept.len() > first {
            accounts.push((list[0].0.clone(), first..kept.len()));
        }
    }
    Contracts::new(accounts, kept, known)
}

/// The contract of row `i`, or why it has none.
fn contract<'a>(
    i: usize,
    cols: &'a Columns,
    mapping: &Mapping,
    policy: &Policy,
) -> Result<Contract, Fault<'a>> {
    let (tiers, regions) = (cols.get("tier"), cols.get("region"));
    let Some(tier) = tiers
        .get(i)
        .and_then(|t| policy.tier_index(mapping.value("tier", t)))
    else {
        return Err((cols.name("tier"), tiers.get(i), RejectReason::UnknownTier));
    };
    let Some(region) = regions
        .get(i)
        .and_then(|t| policy.region_index(mapping.value("region", t)))
    else {
        return Err((
            cols.name("region"),
            regions.get(i),
            RejectReason::UnknownRegion,
        ));
    };
    let zone = policy.regions[region].zone;
    let (froms, tos) = (cols.get("valid_from"), cols.get("valid_to"));
    let from = match froms.get(i).map(|t| parse_bound(t, zone)) {
        Some(Ok(t)) => t,
        Some(Err(e)) => return Err((cols.name("valid_from"), froms.get(i), e)),
        None => return Err((cols.name("valid_from"), None, RejectReason::MissingValue)),
    };
    let to = match tos.get(i).map(|t| parse_end_bound(t, zone)) {
        Some(Ok(Some(t))) if t <= from => {
            let reason = RejectReason::EndNotAfterStart;
            return Err((cols.name("valid_to"), tos.get(i), reason));
        }
        Some(Ok(t)) => t,
        Some(Err(e)) => return Err((cols.name("valid_to"), tos.get(i), e)),
        None => None,
    };
    Ok(Contract {
        tier,
        region,
        zone,
        from,
        to,
    })
}

/// Which rows of one account (sorted by `from`) overlap another.
fn overlaps(rows: &[(Arc<str>, usize, Contract)]) -> Vec<bool> {
    let mut bad = vec![false; rows.len()];
    for a in 0..rows.len() {
        for b in a + 1..rows.len() {
            let (ca, cb) = (rows[a].2, rows[b].2);
            if ca.to.is_none_or(|to| cb.from < to) {
                bad[a] = true;
                bad[b] = true;
            }
        }
    }
    bad
}
