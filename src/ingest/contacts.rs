//! The optional `contacts` table → contacts named per product.
//!
//! A row names `contact_id` on `product` for an account with contracts,
//! over `[added_at, removed_at)` (`removed_at` empty, or in a year after
//! 2199: still named). The same contact named twice on one product over
//! overlapping time would be counted twice: the earlier row (by
//! `added_at`, then file order) is kept and a later row that overlaps a
//! kept one is rejected.
//!
//! Rows are judged in parts side by side
//! ([`super::judge::judge_rows_side_by_side`]); overlaps are found once
//! every part is judged.

use super::contracts::Contracts;
use super::judge::{
    judge_rows_side_by_side, readable_account, required_instant, Interner, RejectReason, Rejecter,
    Rejects,
};
use super::read::Source;
use super::text::{unreadable, Columns, Texts};
use crate::model::{Contact, Table};
use crate::timestamp::Instant;

/// Judges every row of the contacts table.
pub(crate) fn judge(
    (source, cols): (&Source, &Columns),
    contracts: &Contracts,
    interner: &Interner,
    rejects: &mut Rejects,
) -> Vec<Contact> {
    let broken = unreadable(source);
    let texts = RowTexts {
        accounts: cols.get("account_id"),
        products: cols.get("product"),
        contact_ids: cols.get("contact_id"),
        removed: cols.get("removed_at"),
    };
    let height = source.frame.height();
    let candidates = judge_rows_side_by_side(
        rejects,
        Table::Contacts,
        height,
        Interner::default,
        |r, own, i| {
            contracts.look_ahead(i, height, |k| texts.accounts.get(k));
            let account = readable_account(r, i, &broken, &texts.accounts, cols)?;
            contact(r, i, account, (&texts, cols, contracts), (interner, own))
        },
    );
    let mut r = rejects.of(Table::Contacts);
    let mut late = overlapping(&candidates, cols);
    late.sort();
    let mut drop = vec![false; candidates.len()];
    let added = cols.get("added_at");
    for (i, k, reason) in late {
        drop[k] = true;
        r.reject(
            i,
            texts.accounts.get(i),
            cols.name("added_at"),
            added.value(i).as_deref(),
            reason,
        );
    }
    candidates
        .into_iter()
        .zip(drop)
        .filter(|(_, d)| !d)
        .map(|(c, _)| c)
        .collect()
}

/// The columns a contact is read from, looked up once.
struct RowTexts<'t> {
    accounts: Texts<'t>,
    products: Texts<'t>,
    contact_ids: Texts<'t>,
    removed: Texts<'t>,
}

/// Row `i` (of `account`) as a contact, or `None` once rejected.
fn contact(
    r: &mut Rejecter,
    i: usize,
    account: &str,
    (texts, cols, contracts): (&RowTexts, &Columns, &Contracts),
    (interned, own): (&Interner, &mut Interner),
) -> Option<Contact> {
    let key = Some(account);
    let missing = RejectReason::MissingValue;
    let Some(product) = texts.products.get(i) else {
        r.reject(i, key, cols.name("product"), None, missing);
        return None;
    };
    let Some(contact_id) = texts.contact_ids.get(i) else {
        r.reject(i, key, cols.name("contact_id"), None, missing);
        return None;
    };
    let added_at = required_instant(r, i, key, cols, "added_at")?;
    let removed = texts.removed;
    let removed_at = match removed.end_instant(i) {
        Some(Ok(t)) if t <= added_at => {
            let reason = RejectReason::EndNotAfterStart;
            let value = removed.value(i);
            r.reject(i, key, cols.name("removed_at"), value.as_deref(), reason);
            return None;
        }
        Some(Ok(t)) => Some(t),
        Some(Err(e)) => {
            let reason = RejectReason::of_timestamp(&e);
            let value = removed.value(i);
            r.reject(i, key, cols.name("removed_at"), value.as_deref(), reason);
            return None;
        }
        None => None,
    };
    // The account's shared id comes with its contracts.
    let shared = match contracts.account(account) {
        Ok((id, _)) => id.clone(),
        Err(why) => {
            r.reject(i, key, cols.name("account_id"), key, why.reason());
            return None;
        }
    };
    Some(Contact {
        row: i as u32,
        account: shared,
        product: interned.or(own, product),
        contact_id: contact_id.into(),
        added_at,
        removed_at,
    })
}

/// The candidates that overlap an earlier row of the same contact on the
/// same product: (file row, candidate index, reason).
fn overlapping(candidates: &[Contact], cols: &Columns) -> Vec<(usize, usize, RejectReason)> {
    let (added, removed) = (cols.get("added_at"), cols.get("removed_at"));
    // Most contacts are named once: only keys named again make a group
    // (rows in file order).
    let keys: Vec<(&str, &str, &str)> = candidates
        .iter()
        .map(|c| (&*c.account, &*c.product, &*c.contact_id))
        .collect();
    let groups = super::judge::repeated(&keys);
    drop(keys);
    let mut late = Vec::new();
    for mut order in groups {
        order.sort_by_key(|&k| (candidates[k].added_at, candidates[k].row));
        let mut kept: Vec<usize> = Vec::new();
        for k in order {
            let c = &candidates[k];
            let clash = kept.iter().copied().find(|&o| {
                let o = &candidates[o];
                c.added_at < o.removed_at.unwrap_or(Instant::MAX)
                    && o.added_at < c.removed_at.unwrap_or(Instant::MAX)
            });
            let Some(o) = clash else {
                kept.push(k);
                continue;
            };
            let (i, first) = (c.row as usize, candidates[o].row as usize);
            let identical =
                (added.value(i), removed.value(i)) == (added.value(first), removed.value(first));
            let reason = if identical {
                RejectReason::IdenticalDuplicate
            } else {
                RejectReason::OverlappingContact
            };
            late.push((i, k, reason));
        }
    }
    late
}
