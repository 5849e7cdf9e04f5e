//! What every table's judge shares: rejects and their accounting, the
//! contract bounds, duplicate ids, interned text, and the one rule for the
//! contract in force.
//!
//! Nothing is lost: every data row a judge reads is either used or pushed
//! to [`Rejects`] with the table, row, key, column, value and reason, and
//! [`Rejects`] counts them per table, so that rows read = rows used + rows
//! rejected holds by construction ([`super::Ingested::counts`]).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use super::text::{Columns, Texts};
use crate::calendar::zone::resolve_local;
use crate::model::{Contract, Table};
use crate::timestamp::{is_open_end_sentinel, parse_rfc3339, Instant, MAX_INSTANT, MIN_INSTANT};

/// A row that can't be used, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reject {
    /// Table of the row.
    pub table: Table,
    /// 1-based data row in its file (the header is not a data row).
    pub row_number: u64,
    /// The row's case id (cases, events) or account id (the other tables), where readable.
    pub key: Option<String>,
    /// Column at fault, as named in the file.
    pub column: String,
    /// The offending value, as read.
    pub value: Option<String>,
    /// What is wrong, for a person.
    pub reason: String,
}

/// Every rejected row of a run, counted per table.
#[derive(Debug, Default, Clone)]
pub struct Rejects {
    rows: Vec<Reject>,
    per_table: [u64; Table::ALL.len()],
}

impl Rejects {
    /// Records a rejected row.
    pub fn push(&mut self, reject: Reject) {
        self.per_table[reject.table as usize] += 1;
        self.rows.push(reject);
    }

    /// A recorder for the rows of `table`.
    pub(crate) fn of(&mut self, table: Table) -> Rejecter<'_> {
        Rejecter {
            table,
            rejects: self,
        }
    }

    /// Rows of `table` rejected.
    pub fn count(&self, table: Table) -> u64 {
        self.per_table[table as usize]
    }

    /// Rows rejected in all tables.
    pub fn total(&self) -> u64 {
        self.per_table.iter().sum()
    }

    /// The rejects, in the order they were found.
    pub fn rows(&self) -> &[Reject] {
        &self.rows
    }
}

/// Records the rejects of one table.
pub(crate) struct Rejecter<'a> {
    table: Table,
    rejects: &'a mut Rejects,
}

impl Rejecter<'_> {
    /// Rejects 0-based data row `row` (reported 1-based).
    pub(crate) fn reject(
        &mut self,
        row: usize,
        key: Option<&str>,
        column: &str,
        value: Option<&str>,
        reason: impl Into<String>,
    ) {
        self.rejects.push(Reject {
            table: self.table,
            row_number: row as u64 + 1,
            key: key.map(str::to_string),
            column: column.to_string(),
            value: value.map(str::to_string),
            reason: reason.into(),
        });
    }
}

/// The account id of row `i`, or `None` once the row is rejected as
/// unreadable or without an account id.
pub(crate) fn readable_account<'a>(
    r: &mut Rejecter,
    i: usize,
    broken: &Texts,
    accounts: &Texts<'a>,
    cols: &Columns,
) -> Option<&'a str> {
    if let Some(reason) = broken.get(i) {
        r.reject(i, None, "", None, reason);
        return None;
    }
    let id = accounts.get(i);
    if id.is_none() {
        r.reject(i, None, cols.name("account_id"), None, "missing account_id");
    }
    id
}

/// The instant in required column `canonical` of row `i`, or `None` once
/// the row is rejected as missing it or holding no RFC 3339 instant.
pub(crate) fn required_instant(
    r: &mut Rejecter,
    i: usize,
    key: Option<&str>,
    cols: &Columns,
    canonical: &str,
) -> Option<Instant> {
    let texts = cols.get(canonical);
    match texts.get(i).map(parse_rfc3339) {
        Some(Ok(t)) => Some(t),
        Some(Err(e)) => {
            r.reject(i, key, cols.name(canonical), texts.get(i), e.to_string());
            None
        }
        None => {
            let reason = format!("missing {canonical}");
            r.reject(i, key, cols.name(canonical), None, reason);
            None
        }
    }
}

/// Parses a contract bound: an RFC 3339 instant, or a bare `YYYY-MM-DD`
/// meaning local midnight starting that day in the contract's region.
pub(crate) fn parse_bound(text: &str, zone: chrono_tz::Tz) -> Result<Instant, String> {
    if text.len() == 10 {
        let date = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .map_err(|_| format!("`{text}` is not a real calendar date"))?;
        let t = resolve_local(zone, date.and_time(chrono::NaiveTime::MIN));
        if !(MIN_INSTANT..MAX_INSTANT).contains(&t) {
            return Err(format!(
                "`{text}` is outside the supported range 1900-01-01 to 2199-12-31"
            ));
        }
        return Ok(t);
    }
    parse_rfc3339(text).map_err(|e| e.to_string())
}

/// An end bound (`valid_to`): as [`parse_bound`], or `None` (open-ended)
/// for a far-future sentinel such as `9999-12-31`
/// ([`is_open_end_sentinel`]).
pub(crate) fn parse_end_bound(text: &str, zone: chrono_tz::Tz) -> Result<Option<Instant>, String> {
    if is_open_end_sentinel(text) {
        return Ok(None);
    }
    parse_bound(text, zone).map(Some)
}

/// One shared copy per distinct text value (account ids, products,
/// channels): millions of rows, a handful of values.
#[derive(Debug, Default)]
pub(crate) struct Interner {
    seen: HashMap<Arc<str>, ()>,
}

impl Interner {
    /// The shared copy of `text`.
    pub(crate) fn get(&mut self, text: &str) -> Arc<str> {
        if let Some((k, _)) = self.seen.get_key_value(text) {
            return k.clone();
        }
        let k: Arc<str> = text.into();
        self.seen.insert(k.clone(), ());
        k
    }
}

/// A row that shares its id with others: identical rows collapse into the
/// first (the others are rejected), rows that differ are all rejected,
/// since slt cannot know which one is right.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Duplicate {
    /// Index of the row among the candidates.
    pub(crate) candidate: usize,
    /// Why it is rejected.
    pub(crate) reason: String,
}

/// The duplicates among `candidates` (candidate index, 0-based file row,
/// id), compared with `same(row_a, row_b)`; `column` names the id in
/// reasons. Rows without an id are never duplicates.
pub(crate) fn duplicates<'a>(
    candidates: impl IntoIterator<Item = (usize, usize, &'a str)>,
    same: impl Fn(usize, usize) -> bool,
    column: &str,
) -> Vec<Duplicate> {
    let mut groups: BTreeMap<&str, Vec<(usize, usize)>> = BTreeMap::new();
    for (k, row, id) in candidates {
        groups.entry(id).or_default().push((k, row));
    }
    let mut out = Vec::new();
    for group in groups.values().filter(|g| g.len() > 1) {
        let first = group[0].1;
        let identical = group.iter().all(|&(_, row)| same(row, first));
        let rows: Vec<String> = group.iter().map(|(_, row)| (row + 1).to_string()).collect();
        for (j, &(k, _)) in group.iter().enumerate() {
            if identical && j == 0 {
                continue;
            }
            let reason = if identical {
                format!("identical duplicate of row {} (collapsed)", first + 1)
            } else {
                format!(
                    "duplicate {column} with different content (rows {})",
                    rows.join(", ")
                )
            };
            out.push(Duplicate {
                candidate: k,
                reason,
            });
        }
    }
    out
}

/// Every account's contract rows, as judged: the one place that says
/// which contract is in force.
#[derive(Debug, Default)]
pub struct Contracts {
    /// Used rows per account id, sorted by `from`.
    by_account: HashMap<Arc<str>, Vec<Contract>>,
    /// Every account id the accounts table names (used rows or not).
    known: HashSet<Arc<str>>,
}

/// Why a row that refers to an account has no contract to go by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoContract {
    /// The accounts table does not name the account.
    UnknownAccount,
    /// It does, but every one of its rows was rejected.
    OnlyRejectedRows,
    /// It has contracts, none in force at the instant asked.
    NoneInForce,
}

impl Contracts {
    /// Contracts from the used rows, and the ids of every account named.
    pub(crate) fn new(
        by_account: HashMap<Arc<str>, Vec<Contract>>,
        known: HashSet<Arc<str>>,
    ) -> Self {
        let mut by_account = by_account;
        by_account.retain(|_, rows| !rows.is_empty());
        for rows in by_account.values_mut() {
            rows.sort_by_key(|c| c.from);
        }
        Contracts { by_account, known }
    }

    /// The account's used contract rows, sorted by `from`, or why there are none.
    pub fn rows(&self, account: &str) -> Result<&[Contract], NoContract> {
        match self.by_account.get(account) {
            Some(rows) => Ok(rows),
            None if self.known.contains(account) => Err(NoContract::OnlyRejectedRows),
            None => Err(NoContract::UnknownAccount),
        }
    }

    /// The account's shared id and its contract in force at `t`.
    pub fn in_force(
        &self,
        account: &str,
        t: Instant,
    ) -> Result<(&Arc<str>, &Contract), NoContract> {
        let (id, rows) = match self.by_account.get_key_value(account) {
            Some(found) => found,
            None => {
                return Err(self
                    .rows(account)
                    .err()
                    .unwrap_or(NoContract::UnknownAccount))
            }
        };
        rows.iter()
            .find(|c| c.in_force(t))
            .map(|c| (id, c))
            .ok_or(NoContract::NoneInForce)
    }

    /// Every account with a used contract row, sorted by id.
    pub fn accounts(&self) -> Vec<(&Arc<str>, &[Contract])> {
        let mut all: Vec<_> = self
            .by_account
            .iter()
            .map(|(id, rows)| (id, rows.as_slice()))
            .collect();
        all.sort_by(|a, b| a.0.cmp(b.0));
        all
    }
}

impl NoContract {
    /// The reject reason for a row of `account` whose instant is in `column`.
    pub(crate) fn reason(&self, account: &str, column: &str) -> String {
        match self {
            NoContract::UnknownAccount => format!("unknown account `{account}`"),
            NoContract::OnlyRejectedRows => {
                format!("account `{account}` has only rejected contract rows")
            }
            NoContract::NoneInForce => {
                format!("account `{account}` has no contract in force at {column}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_duplicates_collapse_and_differing_ones_are_all_rejected() {
        // Rows 0, 2 share id A and are identical; rows 1, 3 share B and differ.
        let rows = [("A", "x"), ("B", "y"), ("A", "x"), ("B", "z")];
        let found = duplicates(
            rows.iter().enumerate().map(|(i, r)| (i, i, r.0)),
            |a, b| rows[a] == rows[b],
            "case_id",
        );
        assert_eq!(
            found,
            [
                Duplicate {
                    candidate: 2,
                    reason: "identical duplicate of row 1 (collapsed)".into()
                },
                Duplicate {
                    candidate: 1,
                    reason: "duplicate case_id with different content (rows 2, 4)".into()
                },
                Duplicate {
                    candidate: 3,
                    reason: "duplicate case_id with different content (rows 2, 4)".into()
                },
            ]
        );
    }

    #[test]
    fn the_contract_in_force_and_why_there_is_none() {
        let utc = chrono_tz::UTC;
        let c = |from: i64, to: Option<i64>| Contract {
            tier: 0,
            region: 0,
            zone: utc,
            from,
            to,
        };
        let mut by_account = HashMap::new();
        by_account.insert(Arc::from("A"), vec![c(10, Some(20)), c(20, None)]);
        by_account.insert(Arc::from("R"), vec![]);
        let known = ["A", "R"].into_iter().map(Arc::from).collect();
        let contracts = Contracts::new(by_account, known);
        assert_eq!(contracts.in_force("A", 20).unwrap().1.from, 20);
        assert_eq!(contracts.in_force("A", 19).unwrap().1.from, 10);
        assert_eq!(
            contracts.in_force("A", 9).unwrap_err(),
            NoContract::NoneInForce
        );
        assert_eq!(
            contracts.in_force("R", 15).unwrap_err(),
            NoContract::OnlyRejectedRows
        );
        assert_eq!(
            contracts.in_force("Z", 15).unwrap_err(),
            NoContract::UnknownAccount
        );
    }

    #[test]
    fn a_far_future_end_is_open_ended_and_a_bare_date_is_local_midnight() {
        let tokyo: chrono_tz::Tz = "Asia/Tokyo".parse().unwrap();
        assert_eq!(parse_end_bound("9999-12-31", tokyo), Ok(None));
        assert_eq!(
            parse_end_bound("2026-01-01", tokyo)
                .unwrap()
                .map(crate::timestamp::format_rfc3339),
            Some("2025-12-31T15:00:00Z".to_string())
        );
        assert!(parse_bound("9999-12-31", tokyo).is_err());
    }
}
