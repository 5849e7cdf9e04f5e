//! The optional `engagements` table → services delivered.
//!
//! An engagement needs an account with a contract in force when it was
//! delivered (which gives the tier it counts against), a known `kind`
//! (through `[values.kind]`) and an RFC 3339 `delivered_at`; a
//! `field_activity` also needs its track (`technical` or `strategic`,
//! through `[values.track]`). Rows sharing an `engagement_id` collapse into
//! the first when identical, and are all rejected when they differ.
//!
//! The table is read in pieces (`judge_all`), the rows of each judged in
//! parts side by side ([`super::judge::judge_rows_side_by_side`]); since
//! rows sharing an id may lie pieces apart, each row is kept as its
//! engagement and a 128-bit signature of its values, and repeated ids are
//! settled once every piece is judged.

use std::borrow::Cow;

use xxhash_rust::xxh3::xxh3_128;

use super::contracts::{Contracts, NoContract};
use super::judge::{
    duplicates, judge_in_pieces, judge_rows_side_by_side, readable_account, required_instant,
    Interner, Judged, RejectReason, Rejecter, Rejects,
};
use super::read::Source;
use super::stream::Pieces;
use super::text::{unreadable, Columns, Texts};
use crate::mapping::Mapping;
use crate::model::{Engagement, Service, Table, Track};

/// What every row of the engagements table is judged with.
pub(crate) struct Judging<'a> {
    /// The export's mapping (column names, kind and track values).
    pub(crate) mapping: &'a Mapping,
    /// The accounts' contracts.
    pub(crate) contracts: &'a Contracts,
    /// The texts shared so far (products).
    pub(crate) interner: &'a Interner,
}

/// Judges every row of the engagements table: the rows of its frame, or,
/// for a table read in pieces, each piece as it is read (its text let go
/// before the next is read); then the rows sharing an `engagement_id`.
pub(crate) fn judge_all(
    source: &Source,
    pieces: Option<Pieces>,
    cols: &Columns,
    with: &Judging,
    rejects: &mut Rejects,
) -> crate::Result<Judged<Engagement>> {
    let mut state = (Found::default(), rejects);
    let read = judge_in_pieces(
        (source, pieces, cols),
        with.mapping,
        &mut state,
        |(found, rejects), part, part_cols, first_row| {
            found.add(part, part_cols, first_row, with, rejects);
        },
        // Room for every engagement at once: growing by doubling would
        // copy them and hold up to twice their size.
        |(found, _), rows| {
            let more = rows.saturating_sub(found.engagements.len());
            found.engagements.reserve(more);
            found.signatures.reserve(more);
        },
    )?;
    let (found, rejects) = state;
    Ok((found.finish(cols, rejects), read))
}

/// The engagements of every piece judged so far, before repeated ids are
/// settled.
#[derive(Default)]
struct Found {
    /// Every row that passed the checks of a single row, in file order.
    engagements: Vec<Engagement>,
    /// Each one's signature ([`signature`]).
    signatures: Vec<u128>,
}

impl Found {
    /// The rows of one piece, whose first row is data row `first_row` of
    /// the file.
    fn add(
        &mut self,
        source: &Source,
        cols: &Columns,
        first_row: usize,
        with: &Judging,
        rejects: &mut Rejects,
    ) {
        let broken = unreadable(source);
        let accounts = cols.get("account_id");
        let texts = RowTexts {
            kinds: cols.get("kind"),
            tracks: cols.get("track"),
            ids: cols.get("engagement_id"),
            products: cols.get("product"),
        };
        let signed = SIGNED.map(|c| cols.get(c));
        let height = source.frame.height();
        let judged = judge_rows_side_by_side(
            rejects,
            (Table::Engagements, first_row),
            height,
            || (Interner::default(), Vec::new()),
            |r, (own, buffer), i| {
                let contracts = with.contracts;
                contracts.look_ahead(i, height, |k| accounts.get(k));
                let account = readable_account(r, i, &broken, &accounts, cols)?;
                let judging = (cols, &texts, with.mapping, contracts);
                let e = engagement(r, (first_row, i), account, judging, (with.interner, own))?;
                Some((e, signature(&signed, i, buffer)))
            },
        );
        self.engagements.reserve(judged.len());
        self.signatures.reserve(judged.len());
        for (e, signature) in judged {
            self.engagements.push(e);
            self.signatures.push(signature);
        }
    }

    /// Every piece judged: rows sharing an `engagement_id` collapse into
    /// the first when identical (the same signature) and are all rejected
    /// when they differ.
    fn finish(self, cols: &Columns, rejects: &mut Rejects) -> Vec<Engagement> {
        let Found {
            engagements,
            signatures,
        } = self;
        let mut dups = duplicates(
            engagements
                .iter()
                .enumerate()
                .filter_map(|(k, e)| e.id.as_deref().map(|id| (k, k, id))),
            |a, b| signatures[a] == signatures[b],
        );
        drop(signatures);
        dups.sort_by_key(|d| engagements[d.candidate].row);
        let mut drop = vec![false; engagements.len()];
        let mut r = rejects.of(Table::Engagements);
        for d in dups {
            drop[d.candidate] = true;
            let e = &engagements[d.candidate];
            let column = cols.name("engagement_id");
            r.reject(
                e.row as usize,
                Some(&e.account),
                column,
                e.id.as_deref(),
                d.reason,
            );
        }
        engagements
            .into_iter()
            .zip(drop)
            .filter(|(_, d)| !d)
            .map(|(e, _)| e)
            .collect()
    }
}

/// The columns whose values tell rows sharing an `engagement_id` identical
/// or not.
const SIGNED: [&str; 5] = ["account_id", "kind", "track", "delivered_at", "product"];

/// Row `i`'s signature: a 128-bit hash of its values in the columns
/// [`SIGNED`], each as [`Texts::identify`] tells it: equal signatures are
/// equal values (but for a hash collision, one in 2^128).
fn signature(signed: &[Texts; 5], i: usize, buffer: &mut Vec<u8>) -> u128 {
    buffer.clear();
    for values in signed {
        values.identify(i, buffer);
    }
    xxh3_128(buffer)
}

/// The columns an engagement is read from, looked up once.
struct RowTexts<'t> {
    kinds: Texts<'t>,
    tracks: Texts<'t>,
    ids: Texts<'t>,
    products: Texts<'t>,
}

/// Row `i` of the piece whose first row is data row `first_row` of the
/// file (of `account`) as an engagement, or `None` once rejected.
fn engagement(
    r: &mut Rejecter,
    (first_row, i): (usize, usize),
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
        row: (first_row + i) as u32,
        account: shared,
        id: texts.ids.get(i).map(Box::from),
        service,
        track,
        delivered_at,
        product: texts.products.get(i).map(|p| interned.or(own, p)),
        tier,
    })
}
