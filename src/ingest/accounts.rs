//! The `accounts` table → every account's contracts.
//!
//! A row is a contract: `account_id`, `tier` and `region` (names of the
//! policy, through the mapping's value maps), `valid_from` and an optional
//! `valid_to`, half-open. A bound is an RFC 3339 instant or a bare date
//! (local midnight in the row's region); a `valid_to` in a year after 2199
//! means open-ended. Rows of one account that overlap are all rejected:
//! slt cannot know which contract was in force.

use polars::prelude::{PlHashMap as HashMap, PlHashSet as HashSet};
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
    let mut rows: HashMap<Arc<str>, Vec<(usize, Contract)>> = HashMap::default();
    let mut known: HashSet<Arc<str>> = HashSet::default();
    for i in 0..source.frame.height() {
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
            Ok(c) => rows.entry(id).or_default().push((i, c)),
            Err((column, value, reason)) => r.reject(i, Some(&id), column, value, reason),
        }
    }
    // Overlapping contract rows of one account: every row involved is rejected.
    let mut by_account = HashMap::with_capacity_and_hasher(rows.len(), Default::default());
    for (id, mut list) in rows {
        list.sort_by_key(|(i, c)| (c.from, *i));
        let overlapping = overlaps(&list);
        if overlapping.iter().any(|b| *b) {
            let froms = cols.get("valid_from");
            for ((i, _), _) in list.iter().zip(&overlapping).filter(|(_, b)| **b) {
                let reason = RejectReason::OverlappingContracts;
                r.reject(
                    *i,
                    Some(&id),
                    cols.name("valid_from"),
                    froms.get(*i),
                    reason,
                );
            }
        }
        let kept = list
            .into_iter()
            .zip(overlapping)
            .filter(|(_, bad)| !bad)
            .map(|((_, c), _)| c)
            .collect();
        by_account.insert(id, kept);
    }
    Contracts::new(by_account, known)
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
fn overlaps(rows: &[(usize, Contract)]) -> Vec<bool> {
    let mut bad = vec![false; rows.len()];
    for a in 0..rows.len() {
        for b in a + 1..rows.len() {
            let (ca, cb) = (rows[a].1, rows[b].1);
            if ca.to.is_none_or(|to| cb.from < to) {
                bad[a] = true;
                bad[b] = true;
            }
        }
    }
    bad
}
