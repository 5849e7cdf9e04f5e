//! The optional `engagements` table → services delivered.
//!
//! An engagement needs an account with a contract in force when it was
//! delivered (which gives the tier it counts against), a known `kind`
//! (through `[values.kind]`) and an RFC 3339 `delivered_at`; a
//! `field_activity` also needs its track (`technical` or `strategic`,
//! through `[values.track]`). Rows sharing an `engagement_id` collapse into
//! the first when identical, and are all rejected when they differ.
//!
//! Rows are judged in parts side by side
//! ([`super::judge::judge_rows_side_by_side`]); repeated ids are settled
//! once every part is judged.

use std::borrow::Cow;

use super::contracts::{Contracts, NoContract};
use super::judge::{
    duplicates, judge_rows_side_by_side, readable_account, required_instant, Interner,
    RejectReason, Rejecter, Rejects,
};
use super::read::Source;
use super::text::{unreadable, Columns, Texts};
use crate::mapping::Mapping;
use crate::model::{Engagement, Service, Table, Track};

/// Judges every row of the engagements table.
pub(crate) fn judge(
    source: &Source,
    cols: &Columns,
    mapping: &Mapping,
    contracts: &Contracts,
    interner: &Interner,
    rejects: &mut Rejects,
) -> Vec<Engagement> {
    let broken = unreadable(source);
    let accounts = cols.get("account_id");
    let texts = RowTexts {
        kinds: cols.get("kind"),
        tracks: cols.get("track"),
        ids: cols.get("engagement_id"),
        products: cols.get("product"),
    };
    let height = source.frame.height();
    let candidates = judge_rows_side_by_side(
        rejects,
        Table::Engagements,
        height,
        Interner::default,
        |r, own, i| {
            contracts.look_ahead(i, height, |k| accounts.get(k));
            let account = readable_account(r, i, &broken, &accounts, cols)?;
            let judging = (cols, &texts, mapping, contracts);
            engagement(r, i, account, judging, (interner, own))
        },
    );
    let mut r = rejects.of(Table::Engagements);
    let ids = cols.get("engagement_id");
    let signature = |i: usize| {
        ["account_id", "kind", "track", "delivered_at", "product"].map(|c| cols.get(c).value(i))
    };
    let mut dups = duplicates(
        candidates
            .iter()
            .enumerate()
            .filter_map(|(k, e): (usize, &Engagement)| {
                let row = e.row as usize;
                ids.get(row).map(|id| (k, row, id))
            }),
        |a, b| signature(a) == signature(b),
    );
    dups.sort_by_key(|d| candidates[d.candidate].row);
    let mut drop = vec![false; candidates.len()];
    for d in dups {
        drop[d.candidate] = true;
        let i = candidates[d.candidate].row as usize;
        r.reject(
            i,
            accounts.get(i),
            cols.name("engagement_id"),
            ids.get(i),
            d.reason,
        );
    }
    candidates
        .into_iter()
        .zip(drop)
        .filter(|(_, d)| !d)
        .map(|(e, _)| e)
        .collect()
}

/// The columns an engagement is read from, looked up once.
struct RowTexts<'t> {
    kinds: Texts<'t>,
    tracks: Texts<'t>,
    ids: Texts<'t>,
    products: Texts<'t>,
}

/// Row `i` (of `account`) as an engagement, or `None` once rejected.
fn engagement(
    r: &mut Rejecter,
    i: usize,
    account: &str,
    (cols, texts, mapping, contracts): (&Columns, &RowTexts, &Mapping, &Contracts),
    (interned, own): (&Interner, &mut Interner),
) -> Option<Engagement> {
    let key = Some(account);
    let kinds = texts.kinds;
    let Some(service) = kinds
        .get(i)
        .and_then(|k| Service::parse(mapping.value("kind", k)))
    else {
        let reason = match kinds.get(i) {
            None => RejectReason::MissingValue,
            Some(_) => RejectReason::UnknownEngagementKind,
        };
        r.reject(i, key, cols.name("kind"), kinds.get(i), reason);
        return None;
    };
    let delivered_at = required_instant(r, i, key, cols, "delivered_at")?;
    // The track matters for field activities only; elsewhere it is ignored.
    let tracks = texts.tracks;
    let track = if service == Service::FieldActivity {
        match tracks
            .get(i)
            .map(|t| Track::parse(mapping.value("track", t)))
        {
            Some(Some(t)) => Some(t),
            Some(None) => {
                let reason = RejectReason::UnknownTrack;
                r.reject(i, key, cols.name("track"), tracks.get(i), reason);
                return None;
            }
            None => {
                let reason = RejectReason::MissingValue;
                r.reject(i, key, cols.name("track"), None, reason);
                return None;
            }
        }
    } else {
        None
    };
    // The account's shared id comes with its contract.
    let (shared, tier) = match contracts.in_force(account, delivered_at) {
        Ok((id, c)) => (id.clone(), c.tier),
        Err(why) => {
            let (column, value) = match why {
                NoContract::NoneInForce => ("delivered_at", cols.get("delivered_at").value(i)),
                _ => ("account_id", key.map(Cow::Borrowed)),
            };
            r.reject(i, key, cols.name(column), value.as_deref(), why.reason());
            return None;
        }
    };
    Some(Engagement {
        row: i as u32,
        account: shared,
        id: texts.ids.get(i).map(Box::from),
        service,
        track,
        delivered_at,
        product: texts.products.get(i).map(|p| interned.or(own, p)),
        tier,
    })
}
