//! The optional `engagements` and `contacts` tables → validated rows and
//! rejects, with the same rules as the three required tables: every data
//! row is used or rejected with a reason, and a table that is absent has no
//! rows (it is not an error).
//!
//! Both tables refer to accounts, so this module also recovers each
//! account's contract rows from the `accounts` table as ingest used them
//! (the rows ingest did not reject).

use std::collections::{BTreeMap, HashMap, HashSet};

use super::{ContractRow, Kind, Track};
use crate::ingest::{
    self, text_column, unreadable, values, Counts, Ingested, Input, Reject, Rejecter, Source,
    Table, TextColumn, Texts,
};
use crate::mapping::Mapping;
use crate::policy::Policy;
use crate::timestamp::{parse_rfc3339, Instant};
use crate::Result;

/// A delivered service, ready to count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Engagement {
    /// 0-based data row in its file.
    pub row: u32,
    /// Account id.
    pub account: String,
    /// `engagement_id`, when the table has one.
    pub id: Option<String>,
    /// What was delivered.
    pub kind: Kind,
    /// Track of a field activity.
    pub track: Option<Track>,
    /// When it was delivered.
    pub delivered_at: Instant,
    /// Product it was about, if given.
    pub product: Option<String>,
    /// Tier index of the contract in force at `delivered_at`.
    pub tier: usize,
}

impl Engagement {
    /// Its `engagement_id`, or `row N` (1-based data row) without one.
    pub fn evidence(&self) -> String {
        self.id
            .clone()
            .unwrap_or_else(|| format!("row {}", self.row + 1))
    }
}

/// A contact named on a product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    /// 0-based data row in its file.
    pub row: u32,
    /// Account id.
    pub account: String,
    /// Product the contact is named on.
    pub product: String,
    /// Contact id.
    pub contact_id: String,
    /// When the contact was named.
    pub added_at: Instant,
    /// When the contact was removed (`None`: still named).
    pub removed_at: Option<Instant>,
}

/// One optional table as read and judged.
#[derive(Debug)]
pub struct Judged<T> {
    /// The file, when the input has one.
    pub source: Option<Source>,
    /// Rows used, in file order.
    pub rows: Vec<T>,
    /// Accounting (all zero without a file).
    pub counts: Counts,
}

impl<T> Judged<T> {
    /// A table read from `source`: the candidate rows not marked in
    /// `drop`, and `rejected` of its rows rejected.
    fn of(source: Source, candidates: Vec<T>, drop: Vec<bool>, rejected: u64) -> Judged<T> {
        let read = source.frame.height() as u64;
        let rows = candidates
            .into_iter()
            .zip(drop)
            .filter(|(_, d)| !d)
            .map(|(row, _)| row)
            .collect();
        Judged {
            source: Some(source),
            rows,
            counts: Counts {
                read,
                used: read - rejected,
                rejected,
            },
        }
    }
}

impl<T> Default for Judged<T> {
    /// An absent table: no file, no rows.
    fn default() -> Self {
        Judged {
            source: None,
            rows: Vec::new(),
            counts: Counts::default(),
        }
    }
}

/// Everything the entitlement rules read besides the cases.
#[derive(Debug)]
pub struct Loaded {
    /// Contract rows ingest used, per account id.
    pub contracts: BTreeMap<String, Vec<ContractRow>>,
    /// `engagements`.
    pub engagements: Judged<Engagement>,
    /// `contacts`.
    pub contacts: Judged<Contact>,
    /// Rejected rows of both tables.
    pub rejects: Vec<Reject>,
}

/// Reads and judges `engagements` and `contacts` for an export ingest has
/// already validated.
pub fn load(
    input: &Input,
    mapping: &Mapping,
    policy: &Policy,
    ingested: &Ingested,
) -> Result<Loaded> {
    let (contracts, known) = contracts(ingested, mapping, policy)?;
    let accounts = Accounts {
        contracts: &contracts,
        known: &known,
    };
    let mut rejects = Vec::new();
    let engagements = match ingest::read_optional_source(input, Table::Engagements)? {
        None => Judged::default(),
        Some(source) => judge_engagements(source, mapping, &accounts, &mut rejects)?,
    };
    let contacts = match ingest::read_optional_source(input, Table::Contacts)? {
        None => Judged::default(),
        Some(source) => judge_contacts(source, mapping, &accounts, &mut rejects)?,
    };
    Ok(Loaded {
        contracts,
        engagements,
        contacts,
        rejects,
    })
}

/// Contract rows per account id.
type Contracts = BTreeMap<String, Vec<ContractRow>>;

/// The contract rows ingest used (its accounts rows not rejected), per
/// account, and every account id the file names.
fn contracts(
    ingested: &Ingested,
    mapping: &Mapping,
    policy: &Policy,
) -> Result<(Contracts, HashSet<String>)> {
    let acc = &ingested.sources[Table::Accounts as usize];
    let rejected: HashSet<u64> = ingested
        .rejects
        .iter()
        .filter(|r| r.table == Table::Accounts)
        .map(|r| r.row_number)
        .collect();
    let n = acc.frame.height();
    let column = |c: &str, required: bool| text_column(acc, mapping, c, required);
    let (id, tier, region, from, to) = (
        column("account_id", true)?,
        column("tier", true)?,
        column("region", true)?,
        column("valid_from", true)?,
        column("valid_to", false)?,
    );
    let (ids, tiers, regions, froms, tos) = (
        values(&id),
        values(&tier),
        values(&region),
        values(&from),
        values(&to),
    );
    let mut out: BTreeMap<String, Vec<ContractRow>> = BTreeMap::new();
    let mut known = HashSet::new();
    for i in 0..n {
        let Some(id) = ids.get(i) else { continue };
        known.insert(id.to_string());
        if rejected.contains(&(i as u64 + 1)) {
            continue;
        }
        // Ingest accepted this row, so every value below parses.
        let tier = tiers
            .get(i)
            .and_then(|t| policy.tier_index(mapping.value("tier", t)));
        let region = regions
            .get(i)
            .and_then(|r| policy.region_index(mapping.value("region", r)));
        let (Some(tier), Some(region)) = (tier, region) else {
            continue;
        };
        let zone = policy.regions[region].zone;
        let Some(Ok(from)) = froms.get(i).map(|t| ingest::parse_bound(t, zone)) else {
            continue;
        };
        let to = match tos.get(i).map(|t| ingest::parse_end_bound(t, zone)) {
            Some(Ok(t)) => t,
            Some(Err(_)) => continue,
            None => None,
        };
        out.entry(id.to_string()).or_default().push(ContractRow {
            tier,
            zone,
            from,
            to,
        });
    }
    Ok((out, known))
}

struct Accounts<'a> {
    contracts: &'a BTreeMap<String, Vec<ContractRow>>,
    known: &'a HashSet<String>,
}

impl Accounts<'_> {
    /// The account's contract rows, or why the account can't be used.
    fn rows(&self, account: &str) -> std::result::Result<&[ContractRow], String> {
        match self.contracts.get(account) {
            Some(rows) => Ok(rows),
            None if self.known.contains(account) => Err(format!(
                "account `{account}` has only rejected contract rows"
            )),
            None => Err(format!("unknown account `{account}`")),
        }
    }
}

fn name(c: &Option<TextColumn>, fallback: &str) -> String {
    c.as_ref()
        .map(|c| c.name.clone())
        .unwrap_or_else(|| fallback.to_string())
}

/// The account id of row `i`, or `None` once the row is rejected as
/// unreadable or without an account id.
fn readable_account<'a>(
    r: &mut Rejecter,
    i: usize,
    broken: &Texts,
    account: &Texts<'a>,
    column: &Option<TextColumn>,
) -> Option<&'a str> {
    if let Some(reason) = broken.get(i) {
        r.reject(i, None, "", None, reason);
        return None;
    }
    let id = account.get(i);
    if id.is_none() {
        r.reject(
            i,
            None,
            &name(column, "account_id"),
            None,
            "missing account_id",
        );
    }
    id
}

/// The instant in required column `canonical` of row `i`, or `None` once
/// the row is rejected as missing it or holding no RFC 3339 instant.
fn required_instant(
    r: &mut Rejecter,
    i: usize,
    key: Option<&str>,
    texts: &Texts,
    column: &Option<TextColumn>,
    canonical: &str,
) -> Option<Instant> {
    match texts.get(i).map(parse_rfc3339) {
        Some(Ok(t)) => Some(t),
        Some(Err(e)) => {
            let column = name(column, canonical);
            r.reject(i, key, &column, texts.get(i), e.to_string());
            None
        }
        None => {
            let column = name(column, canonical);
            r.reject(i, key, &column, None, format!("missing {canonical}"));
            None
        }
    }
}

fn judge_engagements(
    source: Source,
    mapping: &Mapping,
    accounts: &Accounts,
    rejects: &mut Vec<Reject>,
) -> Result<Judged<Engagement>> {
    let column = |c: &str, required: bool| text_column(&source, mapping, c, required);
    let (c_account, c_kind, c_track, c_at, c_product, c_id) = (
        column("account_id", true)?,
        column("kind", true)?,
        column("track", false)?,
        column("delivered_at", true)?,
        column("product", false)?,
        column("engagement_id", false)?,
    );
    let n = source.frame.height();
    let (account, kind, track, at, product, id) = (
        values(&c_account),
        values(&c_kind),
        values(&c_track),
        values(&c_at),
        values(&c_product),
        values(&c_id),
    );
    let broken = unreadable(&source);
    let before = rejects.len();
    let mut r = Rejecter {
        table: Table::Engagements,
        rejects: &mut *rejects,
    };
    let mut candidates: Vec<Engagement> = Vec::with_capacity(n);
    for i in 0..n {
        let Some(acc) = readable_account(&mut r, i, &broken, &account, &c_account) else {
            continue;
        };
        let key = Some(acc);
        let Some(k) = kind
            .get(i)
            .and_then(|k| Kind::parse(mapping.value("kind", k)))
        else {
            let known: Vec<&str> = Kind::ALL.iter().map(|k| k.as_str()).collect();
            let reason = match kind.get(i) {
                None => "missing kind".to_string(),
                Some(_) => format!("unknown engagement kind (expected {})", known.join(", ")),
            };
            r.reject(i, key, &name(&c_kind, "kind"), kind.get(i), reason);
            continue;
        };
        let Some(delivered_at) = required_instant(&mut r, i, key, &at, &c_at, "delivered_at")
        else {
            continue;
        };
        // The track matters for field activities only; elsewhere it is ignored.
        let t = if k == Kind::FieldActivity {
            match track
                .get(i)
                .map(|t| Track::parse(mapping.value("track", t)))
            {
                Some(Some(t)) => Some(t),
                Some(None) => {
                    r.reject(
                        i,
                        key,
                        &name(&c_track, "track"),
                        track.get(i),
                        "unknown track (expected technical or strategic)",
                    );
                    continue;
                }
                None => {
                    r.reject(
                        i,
                        key,
                        &name(&c_track, "track"),
                        None,
                        "field_activity without a track (technical or strategic)",
                    );
                    continue;
                }
            }
        } else {
            None
        };
        let contract_rows = match accounts.rows(acc) {
            Ok(rows) => rows,
            Err(reason) => {
                r.reject(i, key, &name(&c_account, "account_id"), key, reason);
                continue;
            }
        };
        let Some(tier) = contract_rows
            .iter()
            .find(|c| c.from <= delivered_at && c.to.is_none_or(|to| delivered_at < to))
            .map(|c| c.tier)
        else {
            r.reject(
                i,
                key,
                &name(&c_at, "delivered_at"),
                at.get(i),
                format!("account `{acc}` has no contract in force at delivered_at"),
            );
            continue;
        };
        candidates.push(Engagement {
            row: i as u32,
            account: acc.to_string(),
            id: id.get(i).map(str::to_string),
            kind: k,
            track: t,
            delivered_at,
            product: product.get(i).map(str::to_string),
            tier,
        });
    }
    // Duplicate engagement ids: identical rows collapse into the first; rows
    // that differ are all rejected (slt does not guess which one is right).
    let signature = |i: usize| {
        (
            account.get(i),
            kind.get(i),
            track.get(i),
            at.get(i),
            product.get(i),
        )
    };
    let mut groups: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (k, e) in candidates.iter().enumerate() {
        if let Some(id) = id.get(e.row as usize) {
            groups.entry(id).or_default().push(k);
        }
    }
    let mut drop = vec![false; candidates.len()];
    let mut by_row: Vec<(usize, String, String)> = Vec::new();
    for group in groups.values().filter(|g| g.len() > 1) {
        let rows: Vec<usize> = group.iter().map(|&k| candidates[k].row as usize).collect();
        let identical = rows.iter().all(|&i| signature(i) == signature(rows[0]));
        for (j, &k) in group.iter().enumerate() {
            if identical && j == 0 {
                continue;
            }
            drop[k] = true;
            let reason = if identical {
                format!("identical duplicate of row {} (collapsed)", rows[0] + 1)
            } else {
                let list: Vec<String> = rows.iter().map(|i| (i + 1).to_string()).collect();
                format!(
                    "duplicate engagement_id with different content (rows {})",
                    list.join(", ")
                )
            };
            by_row.push((
                rows[j],
                id.get(rows[j]).unwrap_or_default().to_string(),
                reason,
            ));
        }
    }
    by_row.sort();
    for (i, value, reason) in by_row {
        r.reject(
            i,
            account.get(i),
            &name(&c_id, "engagement_id"),
            Some(&value),
            reason,
        );
    }
    let rejected = (rejects.len() - before) as u64;
    Ok(Judged::of(source, candidates, drop, rejected))
}

fn judge_contacts(
    source: Source,
    mapping: &Mapping,
    accounts: &Accounts,
    rejects: &mut Vec<Reject>,
) -> Result<Judged<Contact>> {
    let column = |c: &str, required: bool| text_column(&source, mapping, c, required);
    let (c_account, c_product, c_contact, c_added, c_removed) = (
        column("account_id", true)?,
        column("product", true)?,
        column("contact_id", true)?,
        column("added_at", true)?,
        column("removed_at", false)?,
    );
    let n = source.frame.height();
    let (account, product, contact, added, removed) = (
        values(&c_account),
        values(&c_product),
        values(&c_contact),
        values(&c_added),
        values(&c_removed),
    );
    let broken = unreadable(&source);
    let before = rejects.len();
    let mut r = Rejecter {
        table: Table::Contacts,
        rejects: &mut *rejects,
    };
    let mut candidates: Vec<Contact> = Vec::with_capacity(n);
    for i in 0..n {
        let Some(acc) = readable_account(&mut r, i, &broken, &account, &c_account) else {
            continue;
        };
        let key = Some(acc);
        let Some(prod) = product.get(i) else {
            r.reject(
                i,
                key,
                &name(&c_product, "product"),
                None,
                "missing product (contacts are named per product)",
            );
            continue;
        };
        let Some(contact_id) = contact.get(i) else {
            r.reject(
                i,
                key,
                &name(&c_contact, "contact_id"),
                None,
                "missing contact_id",
            );
            continue;
        };
        let Some(added_at) = required_instant(&mut r, i, key, &added, &c_added, "added_at") else {
            continue;
        };
        let removed_at = match removed
            .get(i)
            .filter(|t| !crate::timestamp::is_open_end_sentinel(t))
            .map(parse_rfc3339)
        {
            Some(Ok(t)) if t <= added_at => {
                r.reject(
                    i,
                    key,
                    &name(&c_removed, "removed_at"),
                    removed.get(i),
                    "removed_at is not after added_at",
                );
                continue;
            }
            Some(Ok(t)) => Some(t),
            Some(Err(e)) => {
                r.reject(
                    i,
                    key,
                    &name(&c_removed, "removed_at"),
                    removed.get(i),
                    e.to_string(),
                );
                continue;
            }
            None => None,
        };
        if let Err(reason) = accounts.rows(acc) {
            r.reject(i, key, &name(&c_account, "account_id"), key, reason);
            continue;
        }
        candidates.push(Contact {
            row: i as u32,
            account: acc.to_string(),
            product: prod.to_string(),
            contact_id: contact_id.to_string(),
            added_at,
            removed_at,
        });
    }
    // The same contact named twice on one product over overlapping time
    // would be counted twice: the earlier row (by added_at, then file order)
    // is kept, a later row that overlaps a kept one is rejected.
    let mut by_key: HashMap<(&str, &str, &str), Vec<usize>> = HashMap::new();
    for (k, c) in candidates.iter().enumerate() {
        by_key
            .entry((&c.account, &c.product, &c.contact_id))
            .or_default()
            .push(k);
    }
    let mut drop = vec![false; candidates.len()];
    let mut late: Vec<(usize, String)> = Vec::new();
    for group in by_key.values().filter(|g| g.len() > 1) {
        let mut order = group.clone();
        order.sort_by_key(|&k| (candidates[k].added_at, candidates[k].row));
        let mut kept: Vec<usize> = Vec::new();
        for k in order {
            let c = &candidates[k];
            let clash = kept.iter().copied().find(|&o| {
                let o = &candidates[o];
                c.added_at < o.removed_at.unwrap_or(Instant::MAX)
                    && o.added_at < c.removed_at.unwrap_or(Instant::MAX)
            });
            match clash {
                None => kept.push(k),
                Some(o) => {
                    drop[k] = true;
                    let (i, first) = (c.row as usize, candidates[o].row as usize);
                    let identical =
                        (added.get(i), removed.get(i)) == (added.get(first), removed.get(first));
                    let reason = if identical {
                        format!("identical duplicate of row {} (collapsed)", first + 1)
                    } else {
                        format!(
                            "overlaps row {}: the contact is already named on this product",
                            first + 1
                        )
                    };
                    late.push((i, reason));
                }
            }
        }
    }
    late.sort();
    for (i, reason) in late {
        r.reject(
            i,
            account.get(i),
            &name(&c_added, "added_at"),
            added.get(i),
            reason,
        );
    }
    let rejected = (rejects.len() - before) as u64;
    Ok(Judged::of(source, candidates, drop, rejected))
}
