//! Vendor exports → canonical cases and events (SLT-SPEC §5): Salesforce
//! (Bulk API 2.0 / Data Loader CSV), Zendesk (API JSON pages) and Jira
//! Service Management (REST API v3 JSON pages).
//!
//! [`import`] reads one vendor's native files from a directory and returns
//! [`Imported`]: the canonical [`Case`]s and [`Event`]s it derived, every
//! record it could not use as a [`Reject`] with a stable reason code, and per
//! vendor file the accounting *records read = turned into rows + skipped +
//! rejected* ([`FileCount`]). What is a reply, what the priority was at
//! creation, when a case closed: the rules are in `docs/vendors.md`, one
//! section per vendor, with every decision the vendors' documentation leaves
//! open.
//!
//! The module knows nothing of the pipeline: `accounts.csv` (canonical,
//! keyed by the vendor's account ids) is not read here, and the pipeline
//! judges what points nowhere (an unknown or empty account, an event of an
//! absent case, an empty priority). [`render`] writes the result as
//! canonical CSV text, which `slt report` reads like any canonical export.
//!
//! Reading is parallel (rayon) over page files and CSV chunks; records are
//! deserialized into borrowed, lenient structs (`vendor::json`), so a record of the
//! wrong shape is a reject and only a file that is not JSON or CSV at all is
//! an error.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;

use crate::model::Priority;
use crate::timestamp::{parse_vendor, Instant};

mod csv_file;
mod jsm;
mod json;
mod render;
mod salesforce;
pub mod settings;
mod zendesk;

pub use render::{render, write_dir, Rendered};
pub use settings::{RawSource, SourceKind, SourceSettings, UnknownAuthor, UnsetPriority};

/// Canonical event kinds (SLT-SPEC §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventKind {
    /// A public reply by a human agent: the one that stops the clock.
    AgentResponse,
    /// An automatic acknowledgement.
    AutoResponse,
    /// An internal note.
    InternalNote,
    /// A customer message.
    CustomerUpdate,
    /// A priority change; `value` is the new canonical priority.
    PriorityChange,
    /// A status change; `value` is the vendor's new status.
    StatusChange,
    /// A transition into a closed status.
    Closed,
    /// A transition out of a closed status.
    Reopened,
}

impl EventKind {
    /// The canonical name (`agent_response`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::AgentResponse => "agent_response",
            EventKind::AutoResponse => "auto_response",
            EventKind::InternalNote => "internal_note",
            EventKind::CustomerUpdate => "customer_update",
            EventKind::PriorityChange => "priority_change",
            EventKind::StatusChange => "status_change",
            EventKind::Closed => "closed",
            EventKind::Reopened => "reopened",
        }
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The canonical table a vendor record was to become a row of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Table {
    /// `cases`.
    Cases,
    /// `events`.
    Events,
}

impl Table {
    /// `cases` or `events`.
    pub fn name(self) -> &'static str {
        match self {
            Table::Cases => "cases",
            Table::Events => "events",
        }
    }
}

/// Where a record sits in its vendor file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Locator {
    /// 1-based CSV data row (the header is not a data row): `row N`.
    Row(u64),
    /// `/tickets/N` of a Zendesk tickets page.
    Ticket(u32),
    /// `/audits/N` of a Zendesk audits page (an audit that is not an object,
    /// or has no `events` array).
    Audit(u32),
    /// `/audits/N/events/M` of a Zendesk audits page.
    AuditEvent(u32, u32),
    /// `/issues/N` of a JSM issues page.
    Issue(u32),
    /// `/issues/N/fields/comment/comments/M` of a JSM issues page.
    Comment(u32, u32),
    /// `/issues/N/changelog/histories/M` of a JSM issues page (a history
    /// that is not an object, or has no `items` array).
    History(u32, u32),
    /// `/issues/N/changelog/histories/M/items/K` of a JSM issues page.
    HistoryItem(u32, u32, u32),
}

impl Locator {
    /// Record order within one file.
    fn sort_key(self) -> (u64, u32, u32, u32) {
        match self {
            Locator::Row(r) => (r, 0, 0, 0),
            Locator::Ticket(i) | Locator::Audit(i) | Locator::Issue(i) => (u64::from(i), 0, 0, 0),
            Locator::AuditEvent(a, e) => (u64::from(a), 1, e, 0),
            Locator::Comment(i, c) => (u64::from(i), 1, c, 0),
            Locator::History(i, h) => (u64::from(i), 2, h, 0),
            Locator::HistoryItem(i, h, k) => (u64::from(i), 2, h, k + 1),
        }
    }
}

impl fmt::Display for Locator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Locator::Row(r) => write!(f, "row {r}"),
            Locator::Ticket(i) => write!(f, "/tickets/{i}"),
            Locator::Audit(a) => write!(f, "/audits/{a}"),
            Locator::AuditEvent(a, e) => write!(f, "/audits/{a}/events/{e}"),
            Locator::Issue(i) => write!(f, "/issues/{i}"),
            Locator::Comment(i, c) => write!(f, "/issues/{i}/fields/comment/comments/{c}"),
            Locator::History(i, h) => write!(f, "/issues/{i}/changelog/histories/{h}"),
            Locator::HistoryItem(i, h, k) => {
                write!(f, "/issues/{i}/changelog/histories/{h}/items/{k}")
            }
        }
    }
}

/// Where a canonical row came from: a data file (index into
/// [`Imported::files`]) and the record in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Origin {
    /// Index of the file in [`Imported::files`].
    pub file: u32,
    /// The record in that file.
    pub locator: Locator,
}

/// A canonical case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    /// The vendor's case id (Salesforce `Case.Id`, Zendesk ticket id, JSM
    /// issue key), shared with the case's events.
    pub case_id: Arc<str>,
    /// The vendor's account id; `None` when empty (the pipeline rejects it).
    pub account_id: Option<String>,
    /// Product, as named in the vendor's field.
    pub product: Option<String>,
    /// Priority at creation; `None` when empty (the pipeline rejects it as
    /// an unknown priority).
    pub priority: Option<Priority>,
    /// Creation instant.
    pub created_at: Instant,
    /// Last transition into a closed state, when closed at export.
    pub closed_at: Option<Instant>,
    /// `email`, `phone`, `web`, `chat` (Salesforce: other origins lower-cased).
    pub channel: Option<String>,
    /// Language.
    pub language: Option<String>,
    /// The vendor's contact / requester / reporter id.
    pub contact_id: Option<String>,
    /// The vendor record.
    pub origin: Origin,
}

/// A canonical event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// The vendor's case id (possibly of a case absent from the export: the
    /// pipeline rejects it as an unknown case), shared with its case.
    pub case_id: Arc<str>,
    /// When it happened.
    pub at: Instant,
    /// What it is.
    pub kind: EventKind,
    /// `P1`…`P4` for a priority change; the vendor's status for a status change.
    pub value: Option<String>,
    /// The vendor record.
    pub origin: Origin,
}

impl Event {
    /// The new priority of a priority change.
    pub fn priority(&self) -> Option<Priority> {
        match self.kind {
            EventKind::PriorityChange => self.value.as_deref()?.parse().ok(),
            _ => None,
        }
    }
}

/// A vendor record the importer could not use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reject {
    /// Vendor file name (`Case.csv`, `ticket_audits-page-3.json`).
    pub file: String,
    /// The record in it.
    pub locator: Locator,
    /// Canonical table the record was to become a row of.
    pub table: Table,
    /// The case id, or `<case id>@<vendor timestamp>` for an event, where readable.
    pub key: Option<String>,
    /// Vendor field at fault (empty for a record unreadable as a whole).
    pub field: String,
    /// The offending value as read.
    pub value: Option<String>,
    /// Stable reason code: `malformed_id:<field>`, `malformed_timestamp:<field>`,
    /// `unmapped_value:<field>`, `unknown_user`, `unknown_author`,
    /// `missing_author`, `deleted_ticket`, `case_rejected`,
    /// `malformed_record`, `missing_audits`, `truncated:<list>`.
    pub reason: String,
    /// The same, for a person.
    pub detail: String,
}

/// Accounting of one vendor data file: `read = rows + skipped + rejected`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileCount {
    /// File name.
    pub file: String,
    /// Records read (CSV data rows; tickets; audit events; issues, comments
    /// and changelog items).
    pub read: u64,
    /// Records that became a canonical case or event.
    pub rows: u64,
    /// Records skipped as not about the case's conversation or clock.
    pub skipped: u64,
    /// Records rejected (see [`Imported::rejects`]).
    pub rejected: u64,
}

impl FileCount {
    /// Whether the identity holds.
    pub fn reconciles(&self) -> bool {
        self.read == self.rows + self.skipped + self.rejected
    }
}

/// A vendor file read for reference (users, statuses, fields,
/// organizations, the agent team): none of its records is a case or event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LookupFile {
    /// File name.
    pub file: String,
    /// Records in it.
    pub records: u64,
}

/// What the importer made of a vendor export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    /// The vendor.
    pub kind: SourceKind,
    /// Canonical cases, in vendor order.
    pub cases: Vec<Case>,
    /// Canonical events, grouped by case (in case order, then events of
    /// cases absent from the export by first appearance), in time order
    /// within a case; same-instant events keep vendor order.
    pub events: Vec<Event>,
    /// Records rejected, by file then record.
    pub rejects: Vec<Reject>,
    /// Per data file accounting, in reading order.
    pub files: Vec<FileCount>,
    /// Reference files read.
    pub lookups: Vec<LookupFile>,
    /// What the user should know that is no single record's fault (e.g. a
    /// JSM agent group that could not be expanded).
    pub warnings: Vec<String>,
}

impl Imported {
    /// Whether every data file's counts reconcile and match the rows and
    /// rejects returned.
    pub fn reconciles(&self) -> bool {
        let rows: u64 = self.files.iter().map(|f| f.rows).sum();
        let rejected: u64 = self.files.iter().map(|f| f.rejected).sum();
        self.files.iter().all(FileCount::reconciles)
            && rows == (self.cases.len() + self.events.len()) as u64
            && rejected == self.rejects.len() as u64
    }
}

/// Why a vendor export cannot be imported at all.
#[derive(Debug, thiserror::Error)]
pub enum VendorError {
    /// A required file is absent.
    #[error("{}: missing `{file}`", dir.display())]
    MissingFile {
        /// The export directory.
        dir: PathBuf,
        /// The file expected.
        file: String,
    },
    /// A file could not be read.
    #[error("cannot read `{}`: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A file is not usable as a whole (not JSON or CSV, a missing column,
    /// an incomplete page sequence).
    #[error("{}: {reason}", path.display())]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The mapping's `[source] kind` is not the `--source` asked for.
    #[error("the mapping's `[source]` is `kind = \"{mapping}\"` but the source is `{asked}`")]
    KindMismatch {
        /// Kind in the mapping.
        mapping: SourceKind,
        /// Kind asked for.
        asked: SourceKind,
    },
}

impl From<VendorError> for crate::Error {
    fn from(e: VendorError) -> Self {
        match e {
            VendorError::MissingFile { dir, file } => crate::Error::Input {
                path: dir,
                reason: format!("missing `{file}`"),
            },
            VendorError::Read { path, source } => crate::Error::Read { path, source },
            VendorError::Unreadable { path, reason } => crate::Error::Input { path, reason },
            e @ VendorError::KindMismatch { .. } => crate::Error::Usage(e.to_string()),
        }
    }
}

/// Imports the export of `source` found in `dir`, with `settings` (whose
/// kind must be `source`; [`SourceSettings::defaults`] for none).
pub fn import(
    source: SourceKind,
    dir: &Path,
    settings: &SourceSettings,
) -> Result<Imported, VendorError> {
    if settings.kind != source {
        return Err(VendorError::KindMismatch {
            mapping: settings.kind,
            asked: source,
        });
    }
    let imported = match source {
        SourceKind::Salesforce => salesforce::import(dir, settings)?,
        SourceKind::Zendesk => zendesk::import(dir, settings)?,
        SourceKind::Jsm => jsm::import(dir, settings)?,
    };
    debug_assert!(
        imported.reconciles(),
        "importer accounting does not reconcile"
    );
    Ok(imported)
}

// ---- shared by the vendor readers ----

/// Reason codes (the contract's, plus three of ours, see `docs/vendors.md`).
pub(crate) mod reason {
    pub(crate) fn malformed_id(field: &str) -> String {
        format!("malformed_id:{field}")
    }
    pub(crate) fn malformed_timestamp(field: &str) -> String {
        format!("malformed_timestamp:{field}")
    }
    pub(crate) fn unmapped_value(field: &str) -> String {
        format!("unmapped_value:{field}")
    }
    pub(crate) fn truncated(list: &str) -> String {
        format!("truncated:{list}")
    }
    pub(crate) const UNKNOWN_USER: &str = "unknown_user";
    pub(crate) const UNKNOWN_AUTHOR: &str = "unknown_author";
    pub(crate) const MISSING_AUTHOR: &str = "missing_author";
    pub(crate) const DELETED_TICKET: &str = "deleted_ticket";
    pub(crate) const CASE_REJECTED: &str = "case_rejected";
    pub(crate) const MALFORMED_RECORD: &str = "malformed_record";
    pub(crate) const MISSING_AUDITS: &str = "missing_audits";
}

/// A reject before its file name is known (readers work per file, possibly
/// in parallel; [`Collector`] names the file).
#[derive(Debug, Clone)]
pub(crate) struct Rej {
    pub(crate) locator: Locator,
    pub(crate) table: Table,
    pub(crate) key: Option<String>,
    pub(crate) field: String,
    pub(crate) value: Option<String>,
    pub(crate) reason: String,
    pub(crate) detail: String,
}

impl Rej {
    pub(crate) fn new(
        locator: Locator,
        table: Table,
        key: Option<String>,
        field: &str,
        value: Option<String>,
        reason: String,
        detail: impl Into<String>,
    ) -> Self {
        Rej {
            locator,
            table,
            key,
            field: field.to_string(),
            value,
            reason,
            detail: detail.into(),
        }
    }
}

/// An event with its sort position: events are ordered by (`group`, `at`,
/// `seq`), `group` being the case's position and `seq` the vendor order.
#[derive(Debug, Clone)]
pub(crate) struct Staged {
    pub(crate) group: u64,
    pub(crate) seq: (u64, u64),
    pub(crate) event: Event,
}

/// What happens to a message whose author cannot be classified.
pub(crate) enum Unattributed {
    Reject,
    Skip,
    Event(EventKind),
}

impl Unattributed {
    pub(crate) fn of(settings: &SourceSettings) -> Self {
        match settings.unknown_author {
            UnknownAuthor::Reject => Unattributed::Reject,
            UnknownAuthor::Skip => Unattributed::Skip,
            UnknownAuthor::CustomerUpdate => Unattributed::Event(EventKind::CustomerUpdate),
        }
    }
}

/// Gathers files, rows, skips and rejects into an [`Imported`].
pub(crate) struct Collector {
    kind: SourceKind,
    files: Vec<FileCount>,
    lookups: Vec<LookupFile>,
    rejects: Vec<(u32, Rej)>,
    warnings: Vec<String>,
}

impl Collector {
    pub(crate) fn new(kind: SourceKind) -> Self {
        Collector {
            kind,
            files: Vec::new(),
            lookups: Vec::new(),
            rejects: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// Registers a data file; its index is what [`Origin::file`] holds.
    pub(crate) fn file(&mut self, name: String) -> u32 {
        self.files.push(FileCount {
            file: name,
            ..FileCount::default()
        });
        (self.files.len() - 1) as u32
    }

    pub(crate) fn lookup(&mut self, name: String, records: u64) {
        self.lookups.push(LookupFile {
            file: name,
            records,
        });
    }

    pub(crate) fn warn(&mut self, warning: String) {
        self.warnings.push(warning);
    }

    pub(crate) fn read(&mut self, file: u32, n: u64) {
        self.files[file as usize].read += n;
    }

    pub(crate) fn rows(&mut self, file: u32, n: u64) {
        self.files[file as usize].rows += n;
    }

    pub(crate) fn skipped(&mut self, file: u32, n: u64) {
        self.files[file as usize].skipped += n;
    }

    pub(crate) fn reject(&mut self, file: u32, r: Rej) {
        self.files[file as usize].rejected += 1;
        self.rejects.push((file, r));
    }

    pub(crate) fn rejects(&mut self, file: u32, rs: Vec<Rej>) {
        for r in rs {
            self.reject(file, r);
        }
    }

    pub(crate) fn finish(self, cases: Vec<Case>, staged: Vec<Staged>) -> Imported {
        let events = order_events(staged);
        let mut rejects = self.rejects;
        rejects.sort_by_key(|(f, r)| (*f, r.locator.sort_key()));
        let files = self.files;
        let rejects = rejects
            .into_iter()
            .map(|(f, r)| Reject {
                file: files[f as usize].file.clone(),
                locator: r.locator,
                table: r.table,
                key: r.key,
                field: r.field,
                value: r.value,
                reason: r.reason,
                detail: r.detail,
            })
            .collect();
        Imported {
            kind: self.kind,
            cases,
            events,
            rejects,
            files,
            lookups: self.lookups,
            warnings: self.warnings,
        }
    }
}

/// Events in (`group`, `at`, `seq`) order. Readers mostly emit them
/// grouped already: then only each case's events are sorted, in parallel;
/// otherwise a counting sort groups them first (no global comparison sort
/// of the wide records).
fn order_events(staged: Vec<Staged>) -> Vec<Event> {
    let mut staged = staged;
    let grouped = staged.windows(2).all(|w| w[0].group <= w[1].group);
    if !grouped {
        // Counting sort by group: each element's place, then the
        // permutation applied in place by swaps (no second copy of the
        // wide records).
        let max = staged.iter().map(|s| s.group).max().unwrap_or(0) as usize;
        let mut next = vec![0u32; max + 2];
        for s in &staged {
            next[s.group as usize + 1] += 1;
        }
        for g in 1..next.len() {
            next[g] += next[g - 1];
        }
        let mut place: Vec<u32> = staged
            .iter()
            .map(|s| {
                let slot = &mut next[s.group as usize];
                *slot += 1;
                *slot - 1
            })
            .collect();
        for i in 0..staged.len() {
            while place[i] as usize != i {
                let j = place[i] as usize;
                staged.swap(i, j);
                place.swap(i, j);
            }
        }
    }
    staged
        .par_chunk_by_mut(|a, b| a.group == b.group)
        .for_each(|run| run.sort_by_key(|s| (s.event.at, s.seq)));
    staged.into_iter().map(|s| s.event).collect()
}

/// Short text (timestamps, labels) kept without a heap allocation when it
/// fits in 30 bytes: millions of vendor records carry one, and most are
/// only read back for the rare reject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Short {
    Inline(u8, [u8; 30]),
    Heap(Box<str>),
}

impl Short {
    pub(crate) fn new(s: &str) -> Self {
        if s.len() <= 30 {
            let mut buf = [0u8; 30];
            buf[..s.len()].copy_from_slice(s.as_bytes());
            Short::Inline(s.len() as u8, buf)
        } else {
            Short::Heap(s.into())
        }
    }

    pub(crate) fn as_str(&self) -> &str {
        match self {
            Short::Inline(len, buf) => {
                std::str::from_utf8(&buf[..*len as usize]).expect("copied from a str")
            }
            Short::Heap(s) => s,
        }
    }
}

/// Parses a vendor timestamp; the error is the reject detail.
pub(crate) fn instant(text: &str) -> Result<Instant, String> {
    parse_vendor(text).map_err(|e| e.to_string())
}

/// `<case id>@<vendor timestamp>`, the key of an event reject.
pub(crate) fn event_key(case_id: &str, at_text: &str) -> String {
    format!("{case_id}@{at_text}")
}

/// Reads a whole file; a missing file is [`VendorError::MissingFile`].
pub(crate) fn read_file(dir: &Path, name: &str) -> Result<Vec<u8>, VendorError> {
    let path = dir.join(name);
    match std::fs::read(&path) {
        Ok(bytes) => Ok(bytes),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(VendorError::MissingFile {
            dir: dir.to_path_buf(),
            file: name.to_string(),
        }),
        Err(source) => Err(VendorError::Read { path, source }),
    }
}

/// Reads an optional file: `None` when absent.
pub(crate) fn read_optional(dir: &Path, name: &str) -> Result<Option<Vec<u8>>, VendorError> {
    match read_file(dir, name) {
        Ok(b) => Ok(Some(b)),
        Err(VendorError::MissingFile { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The canonical channel of a vendor's channel label (JSM's `Contact
/// channel`, a Zendesk custom channel field), case-insensitively: `Email` →
/// email, `Phone` → phone, `Chat` → chat, `Portal` / `Web` and anything
/// else (or none) → web.
pub(crate) fn channel_of_label(label: Option<&str>) -> &'static str {
    match label.map(str::trim) {
        Some(l) if l.eq_ignore_ascii_case("email") => "email",
        Some(l) if l.eq_ignore_ascii_case("phone") => "phone",
        Some(l) if l.eq_ignore_ascii_case("chat") => "chat",
        _ => "web",
    }
}

/// The canonical language of a language option name: `Japanese` → `ja`
/// (case-insensitively), anything else (or none) → `en`.
pub(crate) fn language_of_label(label: Option<&str>) -> &'static str {
    match label.map(str::trim) {
        Some(l) if l.eq_ignore_ascii_case("japanese") => "ja",
        _ => "en",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locators_read_as_rows_and_json_pointers() {
        assert_eq!(Locator::Row(3).to_string(), "row 3");
        assert_eq!(
            Locator::AuditEvent(12, 2).to_string(),
            "/audits/12/events/2"
        );
        assert_eq!(
            Locator::HistoryItem(4, 1, 0).to_string(),
            "/issues/4/changelog/histories/1/items/0"
        );
        assert_eq!(
            Locator::Comment(0, 5).to_string(),
            "/issues/0/fields/comment/comments/5"
        );
    }

    #[test]
    fn channel_and_language_labels() {
        assert_eq!(channel_of_label(Some("Portal")), "web");
        assert_eq!(channel_of_label(Some("Email")), "email");
        assert_eq!(channel_of_label(Some("Phone")), "phone");
        assert_eq!(channel_of_label(Some("Chat")), "chat");
        assert_eq!(channel_of_label(Some("Carrier pigeon")), "web");
        assert_eq!(channel_of_label(None), "web");
        assert_eq!(language_of_label(Some("Japanese")), "ja");
        assert_eq!(language_of_label(Some("French")), "en");
        assert_eq!(language_of_label(None), "en");
    }

    #[test]
    fn settings_of_another_kind_are_refused() {
        let err = import(
            SourceKind::Jsm,
            Path::new("."),
            &SourceSettings::defaults(SourceKind::Zendesk),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "the mapping's `[source]` is `kind = \"zendesk\"` but the source is `jsm`"
        );
    }
}
