//! The optional `contacts` table → contacts named per product.
//!
//! A row names `contact_id` on `product` for an account with contracts,
//! over `[added_at, removed_at)` (`removed_at` empty, or in a year after
//! 2199: still named). The same contact named twice on one product over
//! overlapping time would be counted twice: the earlier row (by
//! `added_at`, then file order) is kept and a later row that overlaps a
//! kept one is rejected.
//!
//! The table is read in pieces (`judge_all`), the rows of each judged in
//! parts side by side ([`super::judge::judge_rows_side_by_side`]); since
//! the rows of one contact may lie pieces apart, overlaps are found once
//! every piece is judged, each row kept as its contact and, when they are
//! not as its instants render, its timestamps' text ([`Written`]).

use std::borrow::Cow;

use super::contracts::Contracts;
use super::judge::{
    judge_in_pieces, judge_rows_side_by_side, readable_account, required_instant, Interner, Judged,
    RejectReason, Rejecter, Rejects,
};
use super::read::Source;
use super::stream::Pieces;
use super::text::{unreadable, Columns, Texts};
use crate::mapping::Mapping;
use crate::model::{Contact, Table};
use crate::timestamp::{format_rfc3339, Instant};

/// Judges every row of the contacts table: the rows of its frame, or, for
/// a table read in pieces, each piece as it is read (its text let go
/// before the next is read); then the overlaps.
pub(crate) fn judge_all(
    (source, pieces, cols): (&Source, Option<Pieces>, &Columns),
    mapping: &Mapping,
    contracts: &Contracts,
    interner: &Interner,
    rejects: &mut Rejects,
) -> crate::Result<Judged<Contact>> {
    let mut state = (Found::default(), rejects);
    let read = judge_in_pieces(
        (source, pieces, cols),
        mapping,
        &mut state,
        |(found, rejects), part, part_cols, first_row| {
            for (c, w) in judge((part, part_cols, first_row), contracts, interner, rejects) {
                if let Some(w) = w {
                    found.written.push((found.contacts.len() as u32, w));
                }
                found.contacts.push(c);
            }
        },
        // Room for every contact at once: growing by doubling would copy
        // them and hold up to twice their size.
        |(found, _), rows| {
            let more = rows.saturating_sub(found.contacts.len());
            found.contacts.reserve(more);
        },
    )?;
    let (found, rejects) = state;
    let mut r = rejects.of(Table::Contacts);
    let mut late = overlapping(&found);
    late.sort();
    let Found { contacts, written } = found;
    let mut drop = vec![false; contacts.len()];
    for (row, k, reason) in late {
        drop[k] = true;
        let c = &contacts[k];
        let added = as_written(&written, k).added(c);
        r.reject(
            row,
            Some(&c.account),
            cols.name("added_at"),
            Some(&added),
            reason,
        );
    }
    Ok((
        contacts
            .into_iter()
            .zip(drop)
            .filter(|(_, d)| !d)
            .map(|(c, _)| c)
            .collect(),
        read,
    ))
}

/// The contacts of every piece judged so far, before overlaps are found.
#[derive(Default)]
struct Found {
    /// Every row that passed the checks of a single row, in file order.
    contacts: Vec<Contact>,
    /// The few whose timestamps are not as their instants render: their
    /// place in `contacts` (ascending) and their text.
    written: Vec<(u32, Written)>,
}

/// What contact `k` of `contacts` keeps of its timestamps' text.
fn as_written(written: &[(u32, Written)], k: usize) -> &Written {
    /// A contact whose timestamps are as their instants render.
    static RENDERED: Written = Written {
        added: None,
        removed: None,
    };
    match written.binary_search_by_key(&k, |&(place, _)| place as usize) {
        Ok(at) => &written[at].1,
        Err(_) => &RENDERED,
    }
}

/// A contact's `added_at` and `removed_at` as written, where they are not
/// what its instants render as: by these a later row naming the contact
/// again is told identical or overlapping, and the reject shows
/// `added_at`. A value of the form `YYYY-MM-DDTHH:MM:SSZ` is its instant's
/// [`format_rfc3339`] exactly (none is kept); any other is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Written {
    /// `added_at`'s text, unless it renders as written.
    added: Option<Box<str>>,
    /// `removed_at`'s text, unless it renders as written or is missing
    /// (a far-future sentinel, which has no instant, is kept).
    removed: Option<Box<str>>,
}

impl Written {
    /// What a row's `added_at` and `removed_at` values keep: `None` when
    /// both are as their instants render (or missing).
    fn of(added: Option<Cow<str>>, removed: Option<Cow<str>>) -> Option<Written> {
        let kept =
            |value: Option<Cow<str>>| value.filter(|v| !renders_as_written(v)).map(Box::from);
        let written = Written {
            added: kept(added),
            removed: kept(removed),
        };
        (written.added.is_some() || written.removed.is_some()).then_some(written)
    }

    /// `added_at` as written in `c`'s row.
    fn added(&self, c: &Contact) -> Cow<'_, str> {
        match &self.added {
            Some(text) => Cow::Borrowed(text),
            None => Cow::Owned(format_rfc3339(c.added_at)),
        }
    }

    /// `removed_at` as written in `c`'s row (`None`: missing).
    fn removed(&self, c: &Contact) -> Option<Cow<'_, str>> {
        match &self.removed {
            Some(text) => Some(Cow::Borrowed(text)),
            None => c.removed_at.map(|t| Cow::Owned(format_rfc3339(t))),
        }
    }
}

/// Whether a timestamp that parsed is of the form `YYYY-MM-DDTHH:MM:SSZ`:
/// then [`format_rfc3339`] of its instant is the same text (the fields sit
/// at fixed places, in range, with no fraction and no offset).
fn renders_as_written(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 20 && b[10] == b'T' && b[19] == b'Z'
}

/// Judges every row of a piece of the contacts table (whose first row is
/// data row `first_row` of the file).
fn judge(
    (source, cols, first_row): (&Source, &Columns, usize),
    contracts: &Contracts,
    interner: &Interner,
    rejects: &mut Rejects,
) -> Vec<(Contact, Option<Written>)> {
    let broken = unreadable(source);
    let texts = RowTexts {
        accounts: cols.get("account_id"),
        products: cols.get("product"),
        contact_ids: cols.get("contact_id"),
        added: cols.get("added_at"),
        removed: cols.get("removed_at"),
    };
    let height = source.frame.height();
    judge_rows_side_by_side(
        rejects,
        (Table::Contacts, first_row),
        height,
        Interner::default,
        |r, own, i| {
            contracts.look_ahead(i, height, |k| texts.accounts.get(k));
            let account = readable_account(r, i, &broken, &texts.accounts, cols)?;
            let c = contact(
                r,
                (first_row, i),
                account,
                (&texts, cols, contracts),
                (interner, own),
            )?;
            Some((c, Written::of(texts.added.value(i), texts.removed.value(i))))
        },
    )
}

/// The columns a contact is read from, looked up once.
struct RowTexts<'t> {
    accounts: Texts<'t>,
    products: Texts<'t>,
    contact_ids: Texts<'t>,
    added: Texts<'t>,
    removed: Texts<'t>,
}

/// Row `i` of the piece whose first row is data row `first_row` of the
/// file (of `account`) as a contact, or `None` once rejected.
fn contact(
    r: &mut Rejecter,
    (first_row, i): (usize, usize),
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
        row: (first_row + i) as u32,
        account: shared,
        product: interned.or(own, product),
        contact_id: contact_id.into(),
        added_at,
        removed_at,
    })
}

/// The candidates that overlap an earlier row of the same contact on the
/// same product: (file row, candidate index, reason).
fn overlapping(found: &Found) -> Vec<(usize, usize, RejectReason)> {
    let candidates = &found.contacts;
    // Most contacts are named once: only keys named again make a group
    // (rows in file order).
    let keys: Vec<(&str, &str, &str)> = candidates
        .iter()
        .map(|c| (&*c.account, &*c.product, &*c.contact_id))
        .collect();
    let groups = super::judge::repeated(&keys);
    drop(keys);
    let texts_of = |k: usize| {
        let (c, w) = (&candidates[k], as_written(&found.written, k));
        (w.added(c), w.removed(c))
    };
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
            let reason = if texts_of(k) == texts_of(o) {
                RejectReason::IdenticalDuplicate
            } else {
                RejectReason::OverlappingContact
            };
            late.push((c.row as usize, k, reason));
        }
    }
    late
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timestamp::{parse_rfc3339, MAX_INSTANT, MIN_INSTANT};
    use proptest::prelude::*;

    proptest! {
        /// A timestamp of the form `renders_as_written` trusts is its
        /// instant's rendering exactly, so a contact need not keep it; one
        /// of any other form that reads as the same instant is kept.
        #[test]
        fn a_timestamp_kept_only_when_it_is_not_as_its_instant_renders(
            seconds in MIN_INSTANT / 1_000_000..MAX_INSTANT / 1_000_000,
            micros in prop_oneof![Just(0i64), 1..1_000_000i64],
            form in 0..5usize,
        ) {
            let t = seconds * 1_000_000 + micros;
            let rendered = format_rfc3339(t);
            let written = match form {
                0 => rendered.clone(),
                1 => rendered.replacen('T', "t", 1),
                2 => rendered.replace('Z', "+00:00"),
                3 => rendered.replace('Z', "z"),
                _ => rendered.replace('Z', ".000Z"),
            };
            prop_assume!(parse_rfc3339(&written) == Ok(t));
            // Trusted only when it is the rendering; whole seconds in `Z`
            // are always trusted.
            if renders_as_written(&written) {
                prop_assert_eq!(&written, &rendered);
            }
            if micros == 0 && form == 0 {
                prop_assert!(renders_as_written(&written));
            }
            let kept = Written::of(Some(Cow::Borrowed(&written)), None);
            prop_assert_eq!(kept.is_none(), renders_as_written(&written));
        }
    }
}
