//! What every table's judge shares: rejects and their accounting, the
//! contract bounds, duplicate ids and interned text (the contract in force
//! is [`super::contracts`]'s).
//!
//! Nothing is lost: every data row a judge reads is either used or pushed
//! to [`Rejects`] with the table, row, key, column, value and reason, and
//! [`Rejects`] counts them per table, so that rows read = rows used + rows
//! rejected holds by construction ([`super::Ingested::counts`]).

use polars::prelude::PlHashMap as HashMap;
use std::sync::Arc;

use super::read::Origins;
use super::text::{Columns, Texts};
use crate::calendar::zone::resolve_local;
use crate::model::Table;
use crate::timestamp::{
    is_open_end_sentinel, parse_rfc3339, Instant, TimestampError, MAX_INSTANT, MIN_INSTANT,
};

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
    /// The offending value, as read (for an unreadable row: what is wrong with it).
    pub value: Option<String>,
    /// What is wrong: a fixed phrase and a stable code.
    pub reason: RejectReason,
    /// The file the row came from (for a row derived from a vendor export,
    /// the vendor file); filled in by [`Rejects::push`] when left empty.
    pub file: String,
    /// Where in that file: `row N` (CSV, Parquet, NDJSON) or the vendor
    /// record (`row N` of a Salesforce CSV, a JSON pointer such as
    /// `/audits/12/events/2`); filled in with `file`.
    pub locator: String,
}

/// Why a row is rejected: one fixed phrase per kind of problem, and a
/// stable snake_case code (`rejects.reason` and `rejects.reason_code`), so
/// that `GROUP BY reason` gives a handful of groups. The ids and values are
/// in the reject's `key`, `column` and `value`, never in the phrase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RejectReason {
    /// A CSV row with more or fewer fields than the header.
    RaggedRow,
    /// A value whose bytes are not UTF-8.
    NotUtf8,
    /// An NDJSON line that is not JSON.
    NotJson,
    /// An NDJSON line that is JSON but not an object.
    NotJsonObject,
    /// A required value is empty.
    MissingValue,
    /// Not an RFC 3339 timestamp at all.
    MalformedTimestamp,
    /// A date and time without `Z` or `±hh:mm`: slt never guesses a zone.
    TimestampWithoutOffset,
    /// 30 February, month 13.
    ImpossibleDate,
    /// 24:30, a leap second.
    ImpossibleTime,
    /// `+25:00`.
    ImpossibleOffset,
    /// Outside 1900–2199.
    OutOfRange,
    /// A tier the policy does not define.
    UnknownTier,
    /// A region the policy does not define.
    UnknownRegion,
    /// Not P1–P4 (after the mapping).
    UnknownPriority,
    /// Not one of the event kinds.
    UnknownEventKind,
    /// Not one of the engagement kinds.
    UnknownEngagementKind,
    /// A field activity's track is neither `technical` nor `strategic`.
    UnknownTrack,
    /// `valid_to` not after `valid_from`, `removed_at` not after `added_at`.
    EndNotAfterStart,
    /// Contract rows of one account that overlap (all are rejected).
    OverlappingContracts,
    /// `closed_at` before `created_at`.
    ClosedBeforeCreated,
    /// A case created after `--as-of`: it has not happened yet.
    CreatedAfterAsOf,
    /// A row identical to an earlier one with the same id (collapsed into it).
    IdenticalDuplicate,
    /// Rows sharing an id with different content (all are rejected).
    ConflictingDuplicate,
    /// The accounts table does not name the account.
    UnknownAccount,
    /// Every contract row of the account was rejected.
    AccountWithoutContract,
    /// The account has no contract in force at the row's instant.
    NoContractInForce,
    /// An event of a case the cases table does not have.
    UnknownCase,
    /// An event of a case that was rejected.
    CaseRejected,
    /// An event before its case was created.
    BeforeCaseCreation,
    /// A contact named again on a product while already named there.
    OverlappingContact,
    /// A case outside the years slt's calendars cover (1900–2199).
    OutsideCalendar,
    /// A vendor id not in the vendor's id format (a Salesforce report's
    /// 15-character id, a Zendesk id written as text).
    MalformedId,
    /// A vendor value the settings map to nothing (an unmapped priority).
    UnmappedValue,
    /// A message whose author is not in the vendor's user export.
    UnknownUser,
    /// A message whose author cannot be classified.
    UnknownAuthor,
    /// A message without an author.
    MissingAuthor,
    /// A ticket the vendor reports as deleted.
    DeletedTicket,
    /// A vendor record of the wrong shape (a ragged CSV row, a JSON value
    /// that is not an object).
    MalformedRecord,
    /// A closed Zendesk ticket without the audit that closed it (archived).
    MissingAudits,
    /// A JSM issue whose comment or changelog list the export truncated.
    Truncated,
}

impl RejectReason {
    /// Every reason, in the order `docs/outputs.md` lists them.
    pub const ALL: [RejectReason; 40] = [
        RejectReason::RaggedRow,
        RejectReason::NotUtf8,
        RejectReason::NotJson,
        RejectReason::NotJsonObject,
        RejectReason::MissingValue,
        RejectReason::MalformedTimestamp,
        RejectReason::TimestampWithoutOffset,
        RejectReason::ImpossibleDate,
        RejectReason::ImpossibleTime,
        RejectReason::ImpossibleOffset,
        RejectReason::OutOfRange,
        RejectReason::UnknownTier,
        RejectReason::UnknownRegion,
        RejectReason::UnknownPriority,
        RejectReason::UnknownEventKind,
        RejectReason::UnknownEngagementKind,
        RejectReason::UnknownTrack,
        RejectReason::EndNotAfterStart,
        RejectReason::OverlappingContracts,
        RejectReason::ClosedBeforeCreated,
        RejectReason::CreatedAfterAsOf,
        RejectReason::IdenticalDuplicate,
        RejectReason::ConflictingDuplicate,
        RejectReason::UnknownAccount,
        RejectReason::AccountWithoutContract,
        RejectReason::NoContractInForce,
        RejectReason::UnknownCase,
        RejectReason::CaseRejected,
        RejectReason::BeforeCaseCreation,
        RejectReason::OverlappingContact,
        RejectReason::OutsideCalendar,
        RejectReason::MalformedId,
        RejectReason::UnmappedValue,
        RejectReason::UnknownUser,
        RejectReason::UnknownAuthor,
        RejectReason::MissingAuthor,
        RejectReason::DeletedTicket,
        RejectReason::MalformedRecord,
        RejectReason::MissingAudits,
        RejectReason::Truncated,
    ];

    /// The stable code (`rejects.reason_code`).
    pub fn code(self) -> &'static str {
        self.names().0
    }

    /// The fixed phrase (`rejects.reason`).
    pub fn phrase(self) -> &'static str {
        self.names().1
    }

    fn names(self) -> (&'static str, &'static str) {
        use RejectReason as R;
        match self {
            R::RaggedRow => (
                "ragged_row",
                "row has a different number of fields than the header",
            ),
            R::NotUtf8 => ("not_utf8", "value is not valid UTF-8"),
            R::NotJson => ("not_json", "line is not valid JSON"),
            R::NotJsonObject => ("not_json_object", "line is not a JSON object"),
            R::MissingValue => ("missing_value", "missing value in a required column"),
            R::MalformedTimestamp => ("malformed_timestamp", "not an RFC 3339 timestamp"),
            R::TimestampWithoutOffset => (
                "timestamp_without_offset",
                "timestamp without a UTC offset: slt never guesses a time zone",
            ),
            R::ImpossibleDate => ("impossible_date", "not a real calendar date"),
            R::ImpossibleTime => ("impossible_time", "not a real time of day"),
            R::ImpossibleOffset => ("impossible_offset", "impossible UTC offset"),
            R::OutOfRange => (
                "out_of_range",
                "outside the supported range 1900-01-01 to 2199-12-31",
            ),
            R::UnknownTier => ("unknown_tier", "tier not defined in the policy"),
            R::UnknownRegion => ("unknown_region", "region not defined in the policy"),
            R::UnknownPriority => ("unknown_priority", "priority is not P1, P2, P3 or P4"),
            R::UnknownEventKind => ("unknown_event_kind", "unknown event kind"),
            R::UnknownEngagementKind => ("unknown_engagement_kind", "unknown engagement kind"),
            R::UnknownTrack => (
                "unknown_track",
                "field activity track is not technical or strategic",
            ),
            R::EndNotAfterStart => ("end_not_after_start", "end is not after start"),
            R::OverlappingContracts => (
                "overlapping_contracts",
                "contract rows of one account overlap",
            ),
            R::ClosedBeforeCreated => ("closed_before_created", "closed_at is before created_at"),
            R::CreatedAfterAsOf => (
                "created_after_as_of",
                "created after --as-of: the case has not happened yet",
            ),
            R::IdenticalDuplicate => (
                "identical_duplicate",
                "identical duplicate of an earlier row (collapsed)",
            ),
            R::ConflictingDuplicate => (
                "conflicting_duplicate",
                "duplicate id with different content",
            ),
            R::UnknownAccount => ("unknown_account", "unknown account"),
            R::AccountWithoutContract => (
                "account_without_contract",
                "account has only rejected contract rows",
            ),
            R::NoContractInForce => (
                "no_contract_in_force",
                "account has no contract in force at that instant",
            ),
            R::UnknownCase => ("unknown_case", "unknown case"),
            R::CaseRejected => ("case_rejected", "its case was rejected"),
            R::BeforeCaseCreation => ("before_case_creation", "event before its case's creation"),
            R::OverlappingContact => (
                "overlapping_contact",
                "the contact is already named on this product",
            ),
            R::OutsideCalendar => ("outside_calendar", "outside the years the calendars cover"),
            R::MalformedId => ("malformed_id", "not a valid id of the vendor"),
            R::UnmappedValue => ("unmapped_value", "value the source settings map to nothing"),
            R::UnknownUser => ("unknown_user", "author not in the vendor's user export"),
            R::UnknownAuthor => ("unknown_author", "author cannot be classified"),
            R::MissingAuthor => ("missing_author", "message without an author"),
            R::DeletedTicket => ("deleted_ticket", "the vendor reports the ticket deleted"),
            R::MalformedRecord => ("malformed_record", "record of the wrong shape"),
            R::MissingAudits => (
                "missing_audits",
                "closed ticket without the audit that closed it",
            ),
            R::Truncated => ("truncated", "the export truncated the record's list"),
        }
    }

    /// The reason of a vendor importer's reject code (`malformed_id:Id`,
    /// `deleted_ticket`, …: the part before `:`, the field being the
    /// reject's column).
    pub fn of_vendor(code: &str) -> RejectReason {
        use RejectReason as R;
        match code.split(':').next().unwrap_or(code) {
            "malformed_id" => R::MalformedId,
            "malformed_timestamp" => R::MalformedTimestamp,
            "unmapped_value" => R::UnmappedValue,
            "unknown_user" => R::UnknownUser,
            "unknown_author" => R::UnknownAuthor,
            "missing_author" => R::MissingAuthor,
            "deleted_ticket" => R::DeletedTicket,
            "case_rejected" => R::CaseRejected,
            "missing_audits" => R::MissingAudits,
            "truncated" => R::Truncated,
            _ => R::MalformedRecord,
        }
    }

    /// The reason a timestamp parse error gives.
    pub fn of_timestamp(e: &TimestampError) -> RejectReason {
        match e {
            TimestampError::Empty => RejectReason::MissingValue,
            TimestampError::Malformed(_) => RejectReason::MalformedTimestamp,
            TimestampError::MissingOffset(_) => RejectReason::TimestampWithoutOffset,
            TimestampError::ImpossibleDate(_) => RejectReason::ImpossibleDate,
            TimestampError::ImpossibleTime(_) => RejectReason::ImpossibleTime,
            TimestampError::ImpossibleOffset(_) => RejectReason::ImpossibleOffset,
            TimestampError::OutOfRange(_) => RejectReason::OutOfRange,
        }
    }
}

impl std::fmt::Display for RejectReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.phrase())
    }
}

/// Every rejected row of a run, counted per table, and the vendor records
/// an importer rejected before they became rows.
///
/// A reject is held compactly: its key and value in one text shared by
/// all, its column name once per name, its file and `row N` locator
/// derived from the table's source when that is where they come from.
/// An export with a million bad rows held each as five strings of its
/// own, 380 bytes a reject: 400 MiB more than the same export without
/// them.
#[derive(Debug, Default, Clone)]
pub struct Rejects {
    rows: Vec<Stored>,
    /// The rejects' keys and values, one after the other.
    text: String,
    /// Column names, each once; `Stored::column` is a place here.
    columns: Vec<String>,
    /// Where each name is in `columns`.
    column_places: HashMap<String, u32>,
    /// Files and locators given with a reject (vendor records, rejects
    /// read back), not derived.
    given: Vec<(String, String)>,
    per_table: [u64; Table::ALL.len()],
    imported: u64,
    /// Where each table's rows come from, to name a reject's file and locator.
    sources: Vec<(Table, String, Option<Arc<Origins>>)>,
}

/// A reject as [`Rejects`] holds it.
#[derive(Debug, Clone, Copy)]
struct Stored {
    row_number: u64,
    /// Where its key starts in `Rejects::text`; its value follows.
    text: usize,
    /// Bytes of the key and of the value, [`ABSENT`] for none.
    key_len: u32,
    value_len: u32,
    /// Its column name's place in `Rejects::columns`.
    column: u32,
    place: Place,
    table: Table,
    reason: RejectReason,
}

/// The length of a key or value that is absent.
const ABSENT: u32 = u32::MAX;

/// Where a reject's file and locator come from.
#[derive(Debug, Clone, Copy)]
enum Place {
    /// `row N` of the file of `Rejects::sources[i]`.
    Source(u32),
    /// `row N` of no known file.
    Row,
    /// `Rejects::given[i]`.
    Given(u32),
}

/// A reject as [`Rejects`] lists it: [`Reject`]'s fields, its text
/// borrowed from the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectRow<'a> {
    /// Table of the row.
    pub table: Table,
    /// 1-based data row in its file (0 for a vendor record rejected on import).
    pub row_number: u64,
    /// The row's case id (cases, events) or account id (the other tables), where readable.
    pub key: Option<&'a str>,
    /// Column at fault, as named in the file.
    pub column: &'a str,
    /// The offending value, as read.
    pub value: Option<&'a str>,
    /// What is wrong.
    pub reason: RejectReason,
    /// The file the row came from.
    pub file: &'a str,
    /// Where in that file.
    pub locator: Locator<'a>,
}

/// Where in its file a listed reject is: `row N`, or as given (a vendor
/// record such as `/audits/12/events/2`). Written out by `Display`, so
/// that a list of a million rejects makes no string per row to read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Locator<'a> {
    /// `row N`.
    Row(u64),
    /// As given.
    Given(&'a str),
}

impl std::fmt::Display for Locator<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Locator::Row(n) => write!(f, "row {n}"),
            Locator::Given(text) => f.write_str(text),
        }
    }
}

/// The rejects of a [`Rejects`], in the order they were found.
#[derive(Debug, Clone, Copy)]
pub struct RejectRows<'a> {
    list: &'a Rejects,
}

impl<'a> RejectRows<'a> {
    /// How many.
    pub fn len(&self) -> usize {
        self.list.rows.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.list.rows.is_empty()
    }

    /// The `i`-th.
    pub fn get(&self, i: usize) -> RejectRow<'a> {
        self.list.view(&self.list.rows[i])
    }

    /// Each, in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = RejectRow<'a>> + 'a {
        let list = self.list;
        list.rows.iter().map(move |s| list.view(s))
    }
}

impl<'a> IntoIterator for RejectRows<'a> {
    type Item = RejectRow<'a>;
    type IntoIter = Box<dyn ExactSizeIterator<Item = RejectRow<'a>> + 'a>;
    fn into_iter(self) -> Self::IntoIter {
        Box::new(self.iter())
    }
}

impl RejectRow<'_> {
    /// The reject as an owned [`Reject`].
    pub fn to_owned(&self) -> Reject {
        Reject {
            table: self.table,
            row_number: self.row_number,
            key: self.key.map(str::to_string),
            column: self.column.to_string(),
            value: self.value.map(str::to_string),
            reason: self.reason,
            file: self.file.to_string(),
            locator: self.locator.to_string(),
        }
    }
}

impl Rejects {
    /// Names where the rows of `table` come from: the file `path` (rows
    /// located as `row N`), or, for a table derived from a vendor export,
    /// each row's vendor record.
    pub fn locate(&mut self, table: Table, path: &str, origins: Option<Arc<Origins>>) {
        self.sources.push((table, path.to_string(), origins));
    }

    /// Records a rejected row (its file and locator filled in when empty).
    pub fn push(&mut self, mut reject: Reject) {
        self.per_table[reject.table as usize] += 1;
        let given = !reject.file.is_empty();
        self.record_owned(&mut reject, given);
    }

    /// [`Rejects::record`] of `reject`, its file and locator given or not.
    fn record_owned(&mut self, reject: &mut Reject, given: bool) {
        let given = given.then(|| {
            let file = std::mem::take(&mut reject.file);
            (file, std::mem::take(&mut reject.locator))
        });
        self.record(
            reject.table,
            reject.row_number,
            reject.key.as_deref(),
            &reject.column,
            reject.value.as_deref(),
            reject.reason,
            given,
        );
    }

    /// Holds a reject: its file and locator `given`, or else found from
    /// where its table's rows come from.
    #[allow(clippy::too_many_arguments)]
    fn record(
        &mut self,
        table: Table,
        row_number: u64,
        key: Option<&str>,
        column: &str,
        value: Option<&str>,
        reason: RejectReason,
        given: Option<(String, String)>,
    ) {
        let place = match given {
            Some(given) => self.give(given),
            None => {
                let source = self.sources.iter().position(|(t, _, _)| *t == table);
                let origin = source.and_then(|i| {
                    let o = self.sources[i].2.as_ref()?;
                    o.locate(row_number.checked_sub(1)? as usize)
                });
                match (origin, source) {
                    (Some(found), _) => self.give(found),
                    (None, Some(i)) => Place::Source(i as u32),
                    (None, None) => Place::Row,
                }
            }
        };
        let text = self.text.len();
        let mut len = |t: Option<&str>| match t {
            Some(t) => {
                self.text.push_str(t);
                u32::try_from(t.len()).expect("a value under 4 GiB")
            }
            None => ABSENT,
        };
        let (key_len, value_len) = (len(key), len(value));
        let column = self.column_place(column);
        self.rows.push(Stored {
            row_number,
            text,
            key_len,
            value_len,
            column,
            place,
            table,
            reason,
        });
    }

    /// Where column name `name` is in `columns`, added if new.
    fn column_place(&mut self, name: &str) -> u32 {
        if let Some(&c) = self.column_places.get(name) {
            return c;
        }
        let c = self.columns.len() as u32;
        self.columns.push(name.to_string());
        self.column_places.insert(name.to_string(), c);
        c
    }

    fn give(&mut self, given: (String, String)) -> Place {
        self.given.push(given);
        Place::Given(self.given.len() as u32 - 1)
    }

    /// The reject `s` as listed.
    fn view<'a>(&'a self, s: &Stored) -> RejectRow<'a> {
        let part = |at: usize, len: u32| (len != ABSENT).then(|| &self.text[at..at + len as usize]);
        let key = part(s.text, s.key_len);
        let value = part(s.text + key.map_or(0, str::len), s.value_len);
        let row = Locator::Row(s.row_number);
        let (file, locator) = match s.place {
            Place::Source(i) => (self.sources[i as usize].1.as_str(), row),
            Place::Row => ("", row),
            Place::Given(i) => {
                let (file, locator) = &self.given[i as usize];
                (file.as_str(), Locator::Given(locator))
            }
        };
        RejectRow {
            table: s.table,
            row_number: s.row_number,
            key,
            column: &self.columns[s.column as usize],
            value,
            reason: s.reason,
            file,
            locator,
        }
    }

    /// Records a vendor record an importer rejected: not a row of any
    /// table (its `row_number` is 0), counted apart.
    pub fn push_import(&mut self, mut reject: Reject) {
        self.imported += 1;
        self.record_owned(&mut reject, true);
    }

    /// Vendor records the importer rejected.
    pub fn imported(&self) -> u64 {
        self.imported
    }

    /// A recorder for the rows of `table`.
    pub(crate) fn of(&mut self, table: Table) -> Rejecter<'_> {
        self.of_piece(table, 0)
    }

    /// A recorder for the rows of a piece of `table` whose first row is
    /// data row `first_row` of the file: its row `i` is the file's
    /// `first_row + i`.
    pub(crate) fn of_piece(&mut self, table: Table, first_row: usize) -> Rejecter<'_> {
        Rejecter {
            table,
            rejects: self,
            first_row,
        }
    }

    /// Rows of `table` rejected.
    pub fn count(&self, table: Table) -> u64 {
        self.per_table[table as usize]
    }

    /// Rows rejected in all tables, and vendor records rejected on import.
    pub fn total(&self) -> u64 {
        self.per_table.iter().sum::<u64>() + self.imported
    }

    /// The rejects, in the order they were found.
    pub fn rows(&self) -> RejectRows<'_> {
        RejectRows { list: self }
    }

    /// An empty list that locates rows as this one does, for tables judged
    /// in parallel; [`Rejects::append`] brings its rejects back.
    pub(crate) fn sibling(&self) -> Rejects {
        Rejects {
            sources: self.sources.clone(),
            ..Rejects::default()
        }
    }

    /// Adds `other`'s rejects after this list's (`other` a
    /// [`Rejects::sibling`] of it: its rows' sources are this list's).
    pub(crate) fn append(&mut self, other: Rejects) {
        let (text, given) = (self.text.len(), self.given.len() as u32);
        self.text.push_str(&other.text);
        self.given.extend(other.given);
        let columns: Vec<u32> = other
            .columns
            .iter()
            .map(|name| self.column_place(name))
            .collect();
        self.rows.extend(other.rows.into_iter().map(|s| Stored {
            text: s.text + text,
            column: columns[s.column as usize],
            place: match s.place {
                Place::Given(i) => Place::Given(i + given),
                place => place,
            },
            ..s
        }));
        for (mine, theirs) in self.per_table.iter_mut().zip(other.per_table) {
            *mine += theirs;
        }
        self.imported += other.imported;
    }

    /// Forgets every reject (another shard reports them), keeping where
    /// each table's rows come from.
    pub fn clear(&mut self) {
        self.rows.clear();
        self.text.clear();
        self.given.clear();
        self.per_table = [0; Table::ALL.len()];
        self.imported = 0;
    }

    /// Rejects as read back from shards' `rejects.parquet`, in order
    /// (`slt merge`): counted as they were when found.
    pub fn from_rows(rows: impl IntoIterator<Item = Reject>) -> Rejects {
        let mut out = Rejects::default();
        for r in rows {
            if r.row_number == 0 {
                out.push_import(r);
            } else {
                out.push(r);
            }
        }
        out
    }
}

/// Records the rejects of one table.
pub(crate) struct Rejecter<'a> {
    table: Table,
    rejects: &'a mut Rejects,
    /// The file's data row that row 0 is (a piece's first row).
    first_row: usize,
}

impl Rejecter<'_> {
    /// Rejects 0-based data row `row` (of the piece whose first row is
    /// `first_row`; reported 1-based, as a row of the file).
    pub(crate) fn reject(
        &mut self,
        row: usize,
        key: Option<&str>,
        column: &str,
        value: Option<&str>,
        reason: RejectReason,
    ) {
        let rejects = &mut *self.rejects;
        let row = (self.first_row + row) as u64 + 1;
        rejects.record(self.table, row, key, column, value, reason, None);
        rejects.per_table[self.table as usize] += 1;
    }

    /// Rejects row `row`, which could not be read at all: `broken` is its
    /// [`super::read::BROKEN_COLUMN`] value, `CODE<TAB>DETAIL`.
    pub(crate) fn reject_unreadable(&mut self, row: usize, broken: &str) {
        let (code, detail) = broken.split_once('\t').unwrap_or((broken, ""));
        let reason = match code {
            "ragged_row" => RejectReason::RaggedRow,
            "not_utf8" => RejectReason::NotUtf8,
            "not_json_object" => RejectReason::NotJsonObject,
            _ => RejectReason::NotJson,
        };
        let (column, value) = match reason {
            RejectReason::NotUtf8 => (detail, None),
            _ => ("", Some(detail).filter(|d| !d.is_empty())),
        };
        self.reject(row, None, column, value, reason);
    }
}

/// Judges rows `0..height` of `table` (of the piece whose first row is
/// data row `first_row` of the file) in parts of [`ROWS_PER_PART`] side
/// by side: `judge` sees each row once, in file order within its part,
/// with a rejecter of that part's own list and a state of its own, made
/// by `state`. Returns what it kept, in file order, the parts' rejects
/// added to `rejects` in file order: the same rows and rejects as one pass
/// over every row. The parts are judged [`PARTS_AT_ONCE`] at a time, each
/// wave's rows moved into the result before the next: the parts of the
/// whole table held at once beside the result were 0.2–0.4 GiB more at
/// peak on 6 M engagements.
pub(crate) fn judge_rows_side_by_side<T: Send, S>(
    rejects: &mut Rejects,
    (table, first_row): (Table, usize),
    height: usize,
    state: impl Fn() -> S + Sync,
    judge: impl Fn(&mut Rejecter, &mut S, usize) -> Option<T> + Sync,
) -> Vec<T> {
    use rayon::prelude::*;
    let blank = rejects.sibling();
    let part = |p: usize| {
        let (mut own, mut s) = (blank.sibling(), state());
        let mut r = own.of_piece(table, first_row);
        let rows = p * ROWS_PER_PART..height.min((p + 1) * ROWS_PER_PART);
        let kept: Vec<T> = rows.filter_map(|i| judge(&mut r, &mut s, i)).collect();
        (kept, own)
    };
    let mut kept = Vec::with_capacity(height);
    let parts = height.div_ceil(ROWS_PER_PART);
    for wave in (0..parts).step_by(PARTS_AT_ONCE) {
        let judged: Vec<(Vec<T>, Rejects)> = (wave..parts.min(wave + PARTS_AT_ONCE))
            .into_par_iter()
            .map(part)
            .collect();
        for (part, own) in judged {
            kept.extend(part);
            rejects.append(own);
        }
    }
    kept
}

/// Rows of a part judged by [`judge_rows_side_by_side`].
const ROWS_PER_PART: usize = 1 << 15;

/// Parts judged at once by [`judge_rows_side_by_side`].
const PARTS_AT_ONCE: usize = 8;

/// The account id of row `i`, or `None` once the row is rejected as
/// unreadable or without an account id.
pub(crate) fn readable_account<'a>(
    r: &mut Rejecter,
    i: usize,
    broken: &Texts,
    accounts: &Texts<'a>,
    cols: &Columns,
) -> Option<&'a str> {
    if let Some(why) = broken.get(i) {
        r.reject_unreadable(i, why);
        return None;
    }
    let id = accounts.get(i);
    if id.is_none() {
        let column = cols.name("account_id");
        r.reject(i, None, column, None, RejectReason::MissingValue);
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
    match texts.instant(i) {
        Some(Ok(t)) => Some(t),
        Some(Err(e)) => {
            let reason = RejectReason::of_timestamp(&e);
            let value = texts.value(i);
            r.reject(i, key, cols.name(canonical), value.as_deref(), reason);
            None
        }
        None => {
            let reason = RejectReason::MissingValue;
            r.reject(i, key, cols.name(canonical), None, reason);
            None
        }
    }
}

/// Parses a contract bound: an RFC 3339 instant, or a bare `YYYY-MM-DD`
/// meaning local midnight starting that day in the contract's region.
pub(crate) fn parse_bound(text: &str, zone: chrono_tz::Tz) -> Result<Instant, RejectReason> {
    if text.len() == 10 {
        let date = bare_date(text).ok_or(RejectReason::ImpossibleDate)?;
        let t = resolve_local(zone, date.and_time(chrono::NaiveTime::MIN));
        if !(MIN_INSTANT..MAX_INSTANT).contains(&t) {
            return Err(RejectReason::OutOfRange);
        }
        return Ok(t);
    }
    parse_rfc3339(text).map_err(|e| RejectReason::of_timestamp(&e))
}

/// A bare date as chrono's `%Y-%m-%d` reads it: `YYYY-MM-DD` in digits
/// read straight (chrono parses its format string on every call), anything
/// else by chrono itself.
fn bare_date(text: &str) -> Option<chrono::NaiveDate> {
    let b = text.as_bytes();
    let digits = |r: std::ops::Range<usize>| {
        b[r].iter().try_fold(0u32, |n, &d| {
            d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0'))
        })
    };
    if let [_, _, _, _, b'-', _, _, b'-', _, _] = b {
        if let (Some(y), Some(m), Some(d)) = (digits(0..4), digits(5..7), digits(8..10)) {
            return chrono::NaiveDate::from_ymd_opt(i32::try_from(y).ok()?, m, d);
        }
    }
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()
}

/// An end bound (`valid_to`): as [`parse_bound`], or `None` (open-ended)
/// for a far-future sentinel such as `9999-12-31`
/// ([`is_open_end_sentinel`]).
pub(crate) fn parse_end_bound(
    text: &str,
    zone: chrono_tz::Tz,
) -> Result<Option<Instant>, RejectReason> {
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
    /// The shared copy of `text`, if it was seen before (for rows judged
    /// side by side, the interner only read).
    pub(crate) fn find<'t>(&self, text: Option<&'t str>) -> Seen<'t> {
        match text {
            None => Seen::Absent,
            Some(text) => match self.seen.get_key_value(text) {
                Some((k, _)) => Seen::Shared(k.clone()),
                None => Seen::New(text),
            },
        }
    }

    /// This interner's copy of `text` if it has one, else `own`'s (for
    /// rows judged side by side, each part with an interner of its own).
    pub(crate) fn or(&self, own: &mut Interner, text: &str) -> Arc<str> {
        match self.seen.get_key_value(text) {
            Some((k, _)) => k.clone(),
            None => own.get(text),
        }
    }

    /// Room for `more` texts not seen before.
    pub(crate) fn reserve(&mut self, more: usize) {
        self.seen.reserve(more);
    }

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

/// A value looked up in an [`Interner`] without changing it.
pub(crate) enum Seen<'t> {
    /// No value.
    Absent,
    /// The shared copy of the value.
    Shared(Arc<str>),
    /// A value not seen before.
    New(&'t str),
}

impl Seen<'_> {
    /// The value's shared copy, a new value shared from now on.
    pub(crate) fn shared(self, interner: &mut Interner) -> Option<Arc<str>> {
        match self {
            Seen::Absent => None,
            Seen::Shared(text) => Some(text),
            Seen::New(text) => Some(interner.get(text)),
        }
    }
}

/// The rows a table's judge kept, and for a table read in pieces the file
/// (read to its end, for its hash) and how many data rows it held.
pub(crate) type Judged<T> = (Vec<T>, Option<(super::stream::Pieces, u64)>);

/// Judges a table: read whole (`pieces` `None`), its own rows with `cols`
/// in one call of `judge`; or read in pieces ([`super::stream`]), handing
/// `judge` one part at a time, with its columns and the file row of its
/// first data row, while the next piece is read (and hashed) beside it: a
/// CSV piece is parsed straight into its fields' text as it is read
/// ([`super::records`], parts of about a megabyte parsed side by side), a
/// Parquet piece is judged in the reader's chunks, each read in place.
/// At most two pieces are held: the one judged and the next, read and
/// parsed; each piece's text is let go once judged. After the first
/// piece, `expect` is told about how many rows the whole file holds (an
/// estimate, for reserving room). Returns, for a table read in pieces,
/// the file, read to its end (for its hash), and its data rows.
pub(crate) fn judge_in_pieces<S: Send>(
    (source, pieces, cols): (
        &super::read::Source,
        Option<super::stream::Pieces>,
        &Columns,
    ),
    mapping: &crate::mapping::Mapping,
    state: &mut S,
    mut judge: impl FnMut(&mut S, &super::read::Source, &Columns, usize) + Send,
    mut expect: impl FnMut(&mut S, usize),
) -> crate::Result<Option<(super::stream::Pieces, u64)>> {
    let Some(mut pieces) = pieces else {
        judge(state, source, cols, 0);
        return Ok(None);
    };
    use super::read::Source;
    use super::stream::{Pieces, RawPiece};
    use polars::prelude::DataFrame;
    // The header's length and column names (every CSV piece starts with it).
    let header = match &pieces {
        Pieces::Csv(p) => (p.header().len(), super::records::header(p.header())),
        Pieces::Parquet(_) => (0, Vec::new()),
    };
    let part = |frame: DataFrame| Source {
        file: source.file.clone(),
        frame,
        origins: None,
        pieces: None,
        parsed: None,
    };
    // A piece as read, and its size; a CSV piece parsed as it is read.
    enum Ready {
        Csv(Vec<super::records::Records>),
        Frame(DataFrame),
    }
    let prepare = |raw: RawPiece| {
        let size = raw.size();
        let ready = match raw {
            RawPiece::Csv(bytes) => Ready::Csv(super::records::parse(bytes, header.0, &header.1)),
            RawPiece::Frame(frame) => Ready::Frame(frame),
        };
        (size, ready)
    };
    let mut rows = 0usize;
    let mut next = pieces.next_piece()?.map(prepare);
    while let Some((size, ready)) = next.take() {
        let (judged, following) = rayon::join(
            || -> crate::Result<usize> {
                let mut judged = 0;
                match ready {
                    Ready::Csv(parts) => {
                        for records in parts {
                            let n = records.len();
                            let frame = super::read::rows_frame(&records);
                            let piece = part(frame);
                            let records = std::sync::Arc::new(records);
                            let part_cols =
                                Columns::of_records(&piece, mapping, &records, &header.1)?;
                            judge(state, &piece, &part_cols, rows + judged);
                            judged += n;
                        }
                    }
                    Ready::Frame(mut frame) => {
                        for chunk in frame.split_chunks() {
                            let piece = part(chunk);
                            let part_cols = Columns::of(&piece, mapping)?;
                            judge(state, &piece, &part_cols, rows + judged);
                            judged += piece.frame.height();
                        }
                    }
                }
                Ok(judged)
            },
            // The next piece is read and parsed while this one is judged:
            // the parse fills the gaps the judging leaves (rows kept in
            // file order on one thread, the tail of each part's rows).
            || pieces.next_piece().map(|raw| raw.map(prepare)),
        );
        let first = rows == 0;
        rows += judged?;
        if first {
            if let Some(hint) = pieces.rows_hint(size, rows) {
                expect(state, hint);
            }
        }
        next = following?;
    }
    Ok(Some((pieces, rows as u64)))
}

/// A row that shares its id with others: identical rows collapse into the
/// first (the others are rejected), rows that differ are all rejected,
/// since slt cannot know which one is right.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Duplicate {
    /// Index of the row among the candidates.
    pub(crate) candidate: usize,
    /// [`RejectReason::IdenticalDuplicate`] or [`RejectReason::ConflictingDuplicate`].
    pub(crate) reason: RejectReason,
}

/// The duplicates among `candidates` (candidate index, 0-based file row,
/// id), compared with `same(row_a, row_b)`. Rows without an id are never
/// duplicates. Only the few ids that repeat are grouped ([`repeated`]; in
/// id order, members in file order).
pub(crate) fn duplicates<'a>(
    candidates: impl IntoIterator<Item = (usize, usize, &'a str)>,
    same: impl Fn(usize, usize) -> bool,
) -> Vec<Duplicate> {
    let candidates: Vec<(usize, usize, &str)> = candidates.into_iter().collect();
    let ids: Vec<&str> = candidates.iter().map(|c| c.2).collect();
    let mut groups = repeated(&ids);
    groups.sort_by(|a, b| ids[a[0]].cmp(ids[b[0]]));
    let mut out = Vec::new();
    for group in &groups {
        let members: Vec<(usize, usize)> = group
            .iter()
            .map(|&i| (candidates[i].0, candidates[i].1))
            .collect();
        settle(&members, &same, &mut out);
    }
    out
}

/// The places of `keys` that hold a key held more than once, a group per
/// such key: its places in order, the groups in the order of their first
/// place. Every key's hash is sorted beside its place, so that equal keys
/// are neighbours; only places sharing a hash are compared. No table of
/// every key is built: on hundreds of thousands of keys a hash map's
/// slots were a cache miss each, and its memory page faults.
pub(crate) fn repeated<K: Eq + std::hash::Hash + Sync>(keys: &[K]) -> Vec<Vec<usize>> {
    use std::hash::BuildHasher;
    let state = polars::prelude::PlRandomState::default();
    repeated_by(keys, |k| state.hash_one(k))
}

/// [`repeated`], keys hashed by `hash`.
fn repeated_by<K: Eq + Sync>(keys: &[K], hash: impl Fn(&K) -> u64 + Sync) -> Vec<Vec<usize>> {
    use rayon::prelude::*;
    let mut hashed: Vec<(u64, usize)> = keys
        .par_iter()
        .enumerate()
        .map(|(i, k)| (hash(k), i))
        .collect();
    hashed.par_sort_unstable();
    let mut groups = Vec::new();
    for run in hashed.chunk_by(|a, b| a.0 == b.0).filter(|r| r.len() > 1) {
        // Places in order; keys that only share a hash are told apart.
        let mut left: Vec<usize> = run.iter().map(|&(_, i)| i).collect();
        while let Some(&first) = left.first() {
            let (same, rest): (Vec<usize>, Vec<usize>) =
                left.iter().partition(|&&i| keys[i] == keys[first]);
            if same.len() > 1 {
                groups.push(same);
            }
            left = rest;
        }
    }
    groups.sort_unstable_by_key(|g| g[0]);
    groups
}

/// The rejects of one group of rows sharing an id, (candidate index, row)
/// in file order: when every row is the same as the first (`same` on
/// rows), the others collapse into it; otherwise all are rejected.
pub(crate) fn settle(
    group: &[(usize, usize)],
    same: &impl Fn(usize, usize) -> bool,
    out: &mut Vec<Duplicate>,
) {
    let first = group[0].1;
    let identical = group.iter().all(|&(_, row)| same(row, first));
    let reason = if identical {
        RejectReason::IdenticalDuplicate
    } else {
        RejectReason::ConflictingDuplicate
    };
    let rejected = group.iter().skip(usize::from(identical));
    out.extend(rejected.map(|&(candidate, _)| Duplicate { candidate, reason }));
}

#[cfg(test)]
mod tests {
    use super::*;
    use polars::prelude::PlHashSet as HashSet;

    proptest::proptest! {
        /// A bare date read straight is read as chrono's `%Y-%m-%d` reads
        /// it: ten characters of digits, dashes, signs and spaces (short
        /// fields, signed years, a stray character where a digit goes, in
        /// the date's shape or not), and every real or impossible date of
        /// years 0–9999 (days past the month's end, month 0 or 13).
        #[test]
        fn a_bare_date_reads_as_chronos_format_reads_it(
            text in proptest::prop_oneof![
                "[0-9+ -]{10}",
                "[0-9+ -][0-9]{3}-[0-9]{2}-[0-9]{2}",
                "[0-9]{4}-[0-9 +-][0-9]-[0-9][0-9 +-]",
                "[0-9]{2}[0-9 +-]{2}-[0-9]{2}-[0-9 +-]{2}",
            ],
            (y, m, d) in (0u32..10_000, 0u32..14, 0u32..33),
        ) {
            let chrono = |t: &str| chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d").ok();
            proptest::prop_assert_eq!(bare_date(&text), chrono(&text), "{}", text);
            let date = format!("{y:04}-{m:02}-{d:02}");
            proptest::prop_assert_eq!(bare_date(&date), chrono(&date), "{}", date);
        }
    }

    #[test]
    fn rows_judged_side_by_side_come_back_as_one_pass_gives_them() {
        // Rows over several parts, some kept, some rejected (in varying
        // columns, a part's state carried from row to row within it), and
        // a reject already in the list before them; the rows those of the
        // file's first piece or of a piece further on.
        for first_row in [0, 1000] {
            rows_of_a_piece_judged_side_by_side_come_back_as_one_pass_gives_them(first_row);
        }
    }

    fn rows_of_a_piece_judged_side_by_side_come_back_as_one_pass_gives_them(first_row: usize) {
        let height = 3 * ROWS_PER_PART + 17;
        let judge = |r: &mut Rejecter, seen: &mut usize, i: usize| {
            *seen += 1;
            if i % 7 == 3 || i % 1000 == 999 {
                let column = if i.is_multiple_of(2) {
                    "kind"
                } else {
                    "delivered_at"
                };
                let value = format!("v{i} after {seen}");
                r.reject(
                    i,
                    Some("A-1"),
                    column,
                    Some(&value),
                    RejectReason::MissingValue,
                );
                return None;
            }
            Some((i, *seen))
        };
        let start = || {
            let mut list = Rejects::default();
            list.locate(Table::Engagements, "engagements.csv", None);
            list.of(Table::Accounts)
                .reject(4, None, "tier", None, RejectReason::MissingValue);
            list
        };

        let (mut serial, mut side_by_side) = (start(), start());
        let mut seen = 0;
        let mut r = serial.of_piece(Table::Engagements, first_row);
        let one_pass: Vec<(usize, usize)> = (0..height)
            .filter_map(|i| {
                // One pass's count restarts where a part would.
                if i.is_multiple_of(ROWS_PER_PART) {
                    seen = 0;
                }
                judge(&mut r, &mut seen, i)
            })
            .collect();
        let parts = judge_rows_side_by_side(
            &mut side_by_side,
            (Table::Engagements, first_row),
            height,
            || 0,
            judge,
        );

        assert_eq!(parts, one_pass);
        assert!(one_pass.len() > 3 * ROWS_PER_PART / 2);
        let rows =
            |list: &Rejects| -> Vec<Reject> { list.rows().iter().map(|r| r.to_owned()).collect() };
        assert_eq!(rows(&side_by_side), rows(&serial));
        assert_eq!(
            side_by_side.count(Table::Engagements),
            serial.count(Table::Engagements)
        );
        assert_eq!(side_by_side.count(Table::Accounts), 1);
        // Row 3 of the piece, reported 1-based as a row of the file.
        let first = side_by_side
            .rows()
            .iter()
            .find(|r| r.table == Table::Engagements);
        assert_eq!(first.map(|r| r.row_number), Some(first_row as u64 + 4));
    }

    #[test]
    fn rejects_held_compactly_read_back_as_they_were_pushed() {
        let reject =
            |table, row_number, key: Option<&str>, column: &str, value: Option<&str>| Reject {
                table,
                row_number,
                key: key.map(str::to_string),
                column: column.to_string(),
                value: value.map(str::to_string),
                reason: RejectReason::MissingValue,
                file: String::new(),
                locator: String::new(),
            };
        let mut list = Rejects::default();
        list.locate(Table::Cases, "cases.csv", None);
        list.locate(Table::Events, "events.csv", None);
        let mut sibling = list.sibling();
        list.push(reject(Table::Cases, 7, Some("C-1"), "priority", Some("")));
        list.push(reject(Table::Accounts, 2, None, "tier", None));
        let mut given = reject(Table::Events, 3, Some(""), "at", Some("x"));
        (given.file, given.locator) = ("audits.json".into(), "/audits/1".into());
        list.push(given.clone());
        let mut imported = reject(Table::Events, 0, Some("T-9"), "status", Some("é"));
        (imported.file, imported.locator) = ("tickets.json".into(), "/tickets/4".into());
        sibling.push_import(imported.clone());
        sibling.of(Table::Events).reject(
            41,
            Some("C-2"),
            "kind",
            Some("typo"),
            RejectReason::UnknownEventKind,
        );
        sibling.push(reject(Table::Cases, 9, Some("C-3"), "priority", None));
        list.append(sibling);

        let located = |mut r: Reject, file: &str| {
            (r.file, r.locator) = (file.to_string(), format!("row {}", r.row_number));
            r
        };
        let mut unknown_kind = reject(Table::Events, 42, Some("C-2"), "kind", Some("typo"));
        unknown_kind.reason = RejectReason::UnknownEventKind;
        let want = vec![
            located(
                reject(Table::Cases, 7, Some("C-1"), "priority", Some("")),
                "cases.csv",
            ),
            located(reject(Table::Accounts, 2, None, "tier", None), ""),
            given,
            imported,
            located(unknown_kind, "events.csv"),
            located(
                reject(Table::Cases, 9, Some("C-3"), "priority", None),
                "cases.csv",
            ),
        ];
        let got: Vec<Reject> = list.rows().iter().map(|r| r.to_owned()).collect();
        assert_eq!(got, want);
        assert_eq!(
            (list.count(Table::Cases), list.count(Table::Events)),
            (2, 2)
        );
        assert_eq!((list.imported(), list.total()), (1, 6));
        list.clear();
        assert!(list.rows().is_empty());
        list.push(reject(Table::Cases, 1, Some("C-4"), "priority", None));
        assert_eq!(list.rows().get(0).file, "cases.csv");
    }

    #[test]
    fn identical_duplicates_collapse_and_differing_ones_are_all_rejected() {
        // Rows 0, 2 share id A and are identical; rows 1, 3 share B and differ.
        let rows = [("A", "x"), ("B", "y"), ("A", "x"), ("B", "z")];
        let found = duplicates(rows.iter().enumerate().map(|(i, r)| (i, i, r.0)), |a, b| {
            rows[a] == rows[b]
        });
        assert_eq!(
            found,
            [
                Duplicate {
                    candidate: 2,
                    reason: RejectReason::IdenticalDuplicate
                },
                Duplicate {
                    candidate: 1,
                    reason: RejectReason::ConflictingDuplicate
                },
                Duplicate {
                    candidate: 3,
                    reason: RejectReason::ConflictingDuplicate
                },
            ]
        );
    }

    /// What [`repeated`] must answer: each key held more than once, its
    /// places in order, the keys in the order of their first place.
    fn repeated_as_a_map(keys: &[String]) -> Vec<Vec<usize>> {
        let mut places: std::collections::BTreeMap<&str, Vec<usize>> = Default::default();
        for (i, k) in keys.iter().enumerate() {
            places.entry(k).or_default().push(i);
        }
        let mut groups: Vec<Vec<usize>> = places.into_values().filter(|p| p.len() > 1).collect();
        groups.sort_by_key(|g| g[0]);
        groups
    }

    proptest::proptest! {
        /// Any keys (from two letters: many repeats, the empty key among
        /// them), hashed well, by their length only, or all to one hash:
        /// keys sharing a hash are told apart by comparing them.
        #[test]
        fn repeated_keys_are_grouped_as_a_map_groups_them_whatever_their_hashes(
            keys in proptest::collection::vec("[ab]{0,4}", 0..200)
        ) {
            let want = repeated_as_a_map(&keys);
            proptest::prop_assert_eq!(repeated(&keys), want.clone());
            proptest::prop_assert_eq!(repeated_by(&keys, |k| k.len() as u64), want.clone());
            proptest::prop_assert_eq!(repeated_by(&keys, |_| 7), want);
        }
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
        assert_eq!(
            parse_bound("9999-12-31", tokyo),
            Err(RejectReason::OutOfRange)
        );
        assert_eq!(
            parse_bound("2026-02-30", tokyo),
            Err(RejectReason::ImpossibleDate)
        );
    }

    #[test]
    fn every_reason_has_its_own_snake_case_code_and_phrase() {
        let mut codes = HashSet::default();
        let mut phrases = HashSet::default();
        for r in RejectReason::ALL {
            assert!(
                r.code()
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
                "{r:?}"
            );
            assert!(codes.insert(r.code()), "{r:?}");
            assert!(phrases.insert(r.phrase()), "{r:?}");
            assert!(!r.phrase().contains('`'), "a phrase holds no value: {r:?}");
        }
    }
}
