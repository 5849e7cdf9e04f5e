//! Export files → validated rows, and rejects. Nothing is lost: every data
//! row of every table is either used or rejected with a reason.
//!
//! Each table (`accounts`, `cases`, `events`) is read from `<dir>/<table>.csv`,
//! `.parquet` or `.ndjson` into a polars DataFrame, every needed column taken
//! as text (typed Parquet/NDJSON columns are rendered to text first, so one
//! parser judges every timestamp), renamed and value-mapped through the
//! [`Mapping`], and checked row by row. What comes out is plain Rust data for
//! [`crate::measure`] plus the list of [`Reject`]s.

use std::collections::HashMap;
use std::io::Cursor;
use std::path::{Path, PathBuf};

use polars::prelude::*;
use rayon::prelude::*;
use sha2::{Digest, Sha256};

use crate::calendar::zone::resolve_local;
use crate::mapping::Mapping;
use crate::policy::{Policy, Priority};
use crate::timestamp::{format_rfc3339, parse_rfc3339, Instant};
use crate::{Error, Result};

/// The three input tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Table {
    /// Contract rows.
    Accounts,
    /// One row per case.
    Cases,
    /// Case history events.
    Events,
    /// Services delivered (optional; see [`crate::entitlements`]).
    Engagements,
    /// Named support contacts (optional; see [`crate::entitlements`]).
    Contacts,
}

impl Table {
    /// All tables, in reading order.
    pub const ALL: [Table; 3] = [Table::Accounts, Table::Cases, Table::Events];

    /// File stem and name in outputs.
    pub fn name(self) -> &'static str {
        match self {
            Table::Accounts => "accounts",
            Table::Cases => "cases",
            Table::Events => "events",
            Table::Engagements => "engagements",
            Table::Contacts => "contacts",
        }
    }
}

/// File formats, chosen by extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `.csv`, with a header row.
    Csv,
    /// `.parquet`.
    Parquet,
    /// `.ndjson`, one JSON object per line.
    Ndjson,
}

impl Format {
    fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Parquet => "parquet",
            Format::Ndjson => "ndjson",
        }
    }
    const ALL: [Format; 3] = [Format::Csv, Format::Parquet, Format::Ndjson];
}

/// Where the export comes from.
#[derive(Debug, Clone)]
pub enum Input {
    /// A directory holding the three tables.
    Dir(PathBuf),
    /// The demo export embedded in the binary (`fixtures/demo/`).
    Demo,
}

/// The demo export, embedded so `slt report` works from any directory.
pub const DEMO: [(&str, &[u8]); 3] = [
    ("accounts", include_bytes!("../fixtures/demo/accounts.csv")),
    ("cases", include_bytes!("../fixtures/demo/cases.csv")),
    ("events", include_bytes!("../fixtures/demo/events.csv")),
];

/// The demo's optional tables, embedded like [`DEMO`].
pub const DEMO_OPTIONAL: [(&str, &[u8]); 2] = [
    (
        "engagements",
        include_bytes!("../fixtures/demo/engagements.csv"),
    ),
    ("contacts", include_bytes!("../fixtures/demo/contacts.csv")),
];

/// One table as read from its file.
#[derive(Debug)]
pub struct Source {
    /// Which table.
    pub table: Table,
    /// Path as shown to the user (`(bundled demo) cases.csv` for the demo).
    pub path: String,
    /// Format read.
    pub format: Format,
    /// SHA-256 of the file's bytes, hex.
    pub sha256: String,
    /// The rows, every column as read.
    pub frame: DataFrame,
}

/// A row that can't be used, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reject {
    /// Table of the row.
    pub table: Table,
    /// 1-based data row in its file (the header is not a data row).
    pub row_number: u64,
    /// The row's case id (cases, events) or account id (accounts), where readable.
    pub key: Option<String>,
    /// Column at fault, as named in the file.
    pub column: String,
    /// The offending value, as read.
    pub value: Option<String>,
    /// What is wrong, for a person.
    pub reason: String,
}

/// Row accounting of one table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Data rows in the file.
    pub read: u64,
    /// Rows used.
    pub used: u64,
    /// Rows rejected.
    pub rejected: u64,
}

/// A contract in force: half-open `[from, to)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Contract {
    /// Tier index in the policy.
    pub tier: usize,
    /// Region index in the policy.
    pub region: usize,
    /// First instant in force.
    pub from: Instant,
    /// First instant no longer in force (`None`: open-ended).
    pub to: Option<Instant>,
}

impl Contract {
    fn in_force(&self, t: Instant) -> bool {
        self.from <= t && self.to.is_none_or(|to| t < to)
    }
}

/// A case ready to measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Case {
    /// 0-based row index in the cases frame.
    pub row: u32,
    /// Tier index of the contract in force at creation.
    pub tier: usize,
    /// Region index of the contract in force at creation.
    pub region: usize,
    /// Priority at creation.
    pub priority: Priority,
    /// Creation instant.
    pub created_at: Instant,
    /// Closure instant, if any.
    pub closed_at: Option<Instant>,
}

/// Event kinds of the canonical export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// A public agent response: the one that stops the clock.
    AgentResponse,
    /// An automatic acknowledgement (does not count).
    AutoResponse,
    /// An internal note (does not count).
    InternalNote,
    /// A customer update (does not count).
    CustomerUpdate,
    /// A priority change; the new priority is in `value`.
    PriorityChange,
    /// A status change (informative).
    StatusChange,
    /// Closed (informative; closure is `cases.closed_at`).
    Closed,
    /// Reopened (informative).
    Reopened,
}

impl EventKind {
    fn parse(s: &str) -> Option<Self> {
        Some(match s.trim() {
            "agent_response" => EventKind::AgentResponse,
            "auto_response" => EventKind::AutoResponse,
            "internal_note" => EventKind::InternalNote,
            "customer_update" => EventKind::CustomerUpdate,
            "priority_change" => EventKind::PriorityChange,
            "status_change" => EventKind::StatusChange,
            "closed" => EventKind::Closed,
            "reopened" => EventKind::Reopened,
            _ => return None,
        })
    }
}

/// An event ready to measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event {
    /// Index of its case in [`Ingested::cases`].
    pub case: u32,
    /// When it happened.
    pub at: Instant,
    /// What it is.
    pub kind: EventKind,
    /// New priority of a priority change.
    pub priority: Option<Priority>,
    /// 0-based row in the events file: the order of same-instant events.
    pub row: u32,
}

/// How the as-of instant was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AsOfSource {
    /// Given with `--as-of`.
    Flag,
    /// The latest `created_at`, `closed_at` or event `at` among the rows used.
    LatestInExport,
}

/// Everything measure needs, plus the accounting.
#[derive(Debug)]
pub struct Ingested {
    /// The three tables as read.
    pub sources: Vec<Source>,
    /// Cases to measure, in file order.
    pub cases: Vec<Case>,
    /// Events of those cases, in file order.
    pub events: Vec<Event>,
    /// Rows that can't be used.
    pub rejects: Vec<Reject>,
    /// Accounting per table, in [`Table::ALL`] order.
    pub counts: [Counts; 3],
    /// The as-of instant.
    pub as_of: Instant,
    /// How it was chosen.
    pub as_of_source: AsOfSource,
    /// Canonical column → column name in the file, per table.
    pub column_names: HashMap<(Table, &'static str), String>,
}

// ---- reading files ----

fn hex_sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn find_table(dir: &Path, table: Table) -> Result<(PathBuf, Format)> {
    let found: Vec<(PathBuf, Format)> = Format::ALL
        .iter()
        .map(|f| (dir.join(format!("{}.{}", table.name(), f.extension())), *f))
        .filter(|(p, _)| p.is_file())
        .collect();
    match found.len() {
        1 => Ok(found.into_iter().next().expect("one")),
        0 => Err(Error::Input {
            path: dir.into(),
            reason: format!(
                "no `{0}` table (expected {0}.csv, {0}.parquet or {0}.ndjson)",
                table.name()
            ),
        }),
        _ => Err(Error::Input {
            path: dir.into(),
            reason: format!(
                "more than one `{}` table; keep one of {:?}",
                table.name(),
                found.iter().map(|f| &f.0).collect::<Vec<_>>()
            ),
        }),
    }
}

fn read_frame(bytes: &[u8], format: Format) -> PolarsResult<DataFrame> {
    // One chunk per column, so that every column is read in place later
    // ([`Texts`]) instead of being copied into one.
    let mut frame = read_frame_chunked(bytes, format)?;
    frame.rechunk_mut_par();
    Ok(frame)
}

fn read_frame_chunked(bytes: &[u8], format: Format) -> PolarsResult<DataFrame> {
    match format {
        Format::Csv => {
            // polars' fast reader first; on ragged rows or bytes that are not
            // UTF-8 it refuses the whole file, so fall back to reading row by
            // row and rejecting only the rows at fault.
            CsvReadOptions::default()
                .with_has_header(true)
                .with_infer_schema_length(Some(0))
                .with_raise_if_empty(false)
                .into_reader_with_file_handle(Cursor::new(bytes))
                .finish()
                .or_else(|_| read_csv_rows(bytes))
        }
        Format::Parquet => ParquetReader::new(Cursor::new(bytes)).finish(),
        Format::Ndjson => Ok(read_ndjson(bytes)),
    }
}

/// Reads CSV record by record with the `csv` crate: a record with the wrong
/// number of fields, or with bytes that are not UTF-8, becomes a row whose
/// [`BROKEN_COLUMN`] says why.
fn read_csv_rows(bytes: &[u8]) -> PolarsResult<DataFrame> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(true)
        .from_reader(bytes);
    let headers = reader
        .byte_headers()
        .map_err(|e| polars_err!(ComputeError: "cannot read the header row: {e}"))?
        .clone();
    let names: Vec<String> = headers
        .iter()
        .map(|h| String::from_utf8_lossy(h).trim().to_string())
        .collect();
    let mut columns: Vec<Vec<Option<String>>> = vec![Vec::new(); names.len()];
    let mut broken: Vec<Option<String>> = Vec::new();
    let mut record = csv::ByteRecord::new();
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let mut why = None;
                if record.len() != names.len() {
                    why = Some(format!(
                        "row has {} fields, the header has {}",
                        record.len(),
                        names.len()
                    ));
                }
                for (c, column) in columns.iter_mut().enumerate() {
                    let value = match record.get(c).map(std::str::from_utf8) {
                        Some(Ok(v)) if !v.is_empty() => Some(v.to_string()),
                        Some(Err(_)) => {
                            why.get_or_insert_with(|| {
                                format!("column `{}` is not valid UTF-8", names[c])
                            });
                            None
                        }
                        _ => None,
                    };
                    column.push(value);
                }
                broken.push(why);
            }
            Err(e) => {
                // An unrecoverable CSV error (e.g. I/O); the rest can't be read.
                polars_bail!(ComputeError: "{}", e.to_string().replace('\n', " "));
            }
        }
    }
    let rows = broken.len();
    let mut cols: Vec<Column> = names
        .iter()
        .zip(columns)
        .map(|(n, v)| Column::new(n.as_str().into(), v))
        .collect();
    if broken.iter().any(Option::is_some) {
        cols.push(Column::new(BROKEN_COLUMN.into(), broken));
    }
    DataFrame::new(rows, cols)
}

/// Reads NDJSON line by line, so that one broken line is one reject and not
/// a lost file. Every value becomes text (strings as they are, other JSON
/// values as JSON); a line that is not a JSON object becomes a row whose
/// [`BROKEN_COLUMN`] holds the parse error.
fn read_ndjson(bytes: &[u8]) -> DataFrame {
    let text = String::from_utf8_lossy(bytes);
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let mut names: Vec<String> = Vec::new();
    let mut index: PlHashMap<String, usize> = PlHashMap::new();
    let mut columns: Vec<Vec<Option<String>>> = Vec::new();
    let mut broken: Vec<Option<String>> = Vec::new();
    let mut rows = 0usize;
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let parsed = serde_json::from_str::<serde_json::Value>(line);
        let mut row_broken = None;
        match parsed {
            Ok(serde_json::Value::Object(map)) => {
                for (k, v) in map {
                    let slot = *index.entry(k.clone()).or_insert_with(|| {
                        names.push(k);
                        columns.push(vec![None; rows]);
                        columns.len() - 1
                    });
                    let value = match v {
                        serde_json::Value::Null => None,
                        serde_json::Value::String(s) => Some(s),
                        other => Some(other.to_string()),
                    };
                    columns[slot].push(value);
                }
            }
            Ok(_) => row_broken = Some("line is not a JSON object".to_string()),
            Err(e) => row_broken = Some(format!("line is not valid JSON: {e}")),
        }
        rows += 1;
        for c in columns.iter_mut() {
            c.resize(rows, None);
        }
        broken.push(row_broken);
    }
    let mut cols: Vec<Column> = names
        .iter()
        .zip(columns)
        .map(|(n, v)| Column::new(n.as_str().into(), v))
        .collect();
    if broken.iter().any(Option::is_some) {
        cols.push(Column::new(BROKEN_COLUMN.into(), broken));
    }
    DataFrame::new(rows, cols).expect("columns of equal length")
}

/// Column of an NDJSON frame holding why a line could not be read.
pub const BROKEN_COLUMN: &str = "__slt_unreadable_line";

/// Reads the three tables.
pub fn read_sources(input: &Input) -> Result<Vec<Source>> {
    Table::ALL
        .iter()
        .map(|&table| {
            let (path, format, bytes) = match input {
                Input::Demo => {
                    let bytes = DEMO[table as usize].1.to_vec();
                    (
                        format!("(bundled demo) {}.csv", table.name()),
                        Format::Csv,
                        bytes,
                    )
                }
                Input::Dir(dir) => {
                    let (path, format) = find_table(dir, table)?;
                    let bytes = std::fs::read(&path).map_err(|source| Error::Read {
                        path: path.clone(),
                        source,
                    })?;
                    (path.display().to_string(), format, bytes)
                }
            };
            if format == Format::Csv && bytes.iter().all(u8::is_ascii_whitespace) {
                return Err(Error::Input {
                    path: path.into(),
                    reason: "the file is empty (expected a header row)".into(),
                });
            }
            // Hash on one core while polars parses on the others.
            let (sha256, frame) = rayon::join(|| hex_sha256(&bytes), || read_frame(&bytes, format));
            let frame = frame.map_err(|e| Error::Input {
                path: path.clone().into(),
                reason: format!(
                    "cannot read as {}: {}",
                    format.extension(),
                    e.to_string().lines().next().unwrap_or_default()
                ),
            })?;
            Ok(Source {
                table,
                path,
                format,
                sha256,
                frame,
            })
        })
        .collect()
}

/// Reads an optional table (`engagements`, `contacts`): `None` when the
/// input has no file for it; a file that can't be read is an error, as for
/// the three required tables.
pub fn read_optional_source(input: &Input, table: Table) -> Result<Option<Source>> {
    let (path, format, bytes) = match input {
        Input::Demo => match DEMO_OPTIONAL.iter().find(|(name, _)| *name == table.name()) {
            Some((_, bytes)) => (
                format!("(bundled demo) {}.csv", table.name()),
                Format::Csv,
                bytes.to_vec(),
            ),
            None => return Ok(None),
        },
        Input::Dir(dir) => {
            if !Format::ALL.iter().any(|f| {
                dir.join(format!("{}.{}", table.name(), f.extension()))
                    .is_file()
            }) {
                return Ok(None);
            }
            let (path, format) = find_table(dir, table)?;
            let bytes = std::fs::read(&path).map_err(|source| Error::Read {
                path: path.clone(),
                source,
            })?;
            (path.display().to_string(), format, bytes)
        }
    };
    if format == Format::Csv && bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(Error::Input {
            path: path.into(),
            reason: "the file is empty (expected a header row)".into(),
        });
    }
    let frame = read_frame(&bytes, format).map_err(|e| Error::Input {
        path: path.clone().into(),
        reason: format!(
            "cannot read as {}: {}",
            format.extension(),
            e.to_string().lines().next().unwrap_or_default()
        ),
    })?;
    Ok(Some(Source {
        table,
        path,
        format,
        sha256: hex_sha256(&bytes),
        frame,
    }))
}

// ---- columns as text ----

/// A column as text, with its name in the file.
pub(crate) struct TextColumn {
    pub(crate) name: String,
    pub(crate) values: StringChunked,
}

pub(crate) fn text_column(
    source: &Source,
    mapping: &Mapping,
    canonical: &str,
    required: bool,
) -> Result<Option<TextColumn>> {
    let name = mapping.source_column(source.table.name(), canonical);
    let Ok(column) = source.frame.column(name) else {
        if required {
            return Err(Error::Input {
                path: source.path.clone().into(),
                reason: missing_column(source, name, canonical),
            });
        }
        return Ok(None);
    };
    let series = column.as_materialized_series();
    let values = match series.dtype() {
        DataType::String => series.str().expect("string").clone(),
        DataType::Datetime(unit, zone) => {
            let per_micro = match unit {
                TimeUnit::Nanoseconds => 1000,
                TimeUnit::Microseconds => 1,
                TimeUnit::Milliseconds => -1000,
            };
            let ca = series.datetime().expect("datetime").physical().clone();
            let has_zone = zone.is_some();
            StringChunked::from_iter_options(
                name.into(),
                ca.iter().map(|v| {
                    v.map(|v| {
                        let micros = if per_micro > 0 {
                            v.div_euclid(per_micro)
                        } else {
                            v.saturating_mul(-per_micro)
                        };
                        let text =
                            format_rfc3339(micros.clamp(
                                crate::timestamp::MIN_INSTANT,
                                crate::timestamp::MAX_INSTANT,
                            ));
                        if has_zone {
                            text
                        } else {
                            // A naive timestamp: no offset, so it will be rejected.
                            text.trim_end_matches('Z').to_string()
                        }
                    })
                }),
            )
        }
        _ => series
            .cast(&DataType::String)
            .map_err(|e| Error::Input {
                path: source.path.clone().into(),
                reason: format!("column `{name}` cannot be read as text: {e}"),
            })?
            .str()
            .expect("cast to string")
            .clone(),
    };
    Ok(Some(TextColumn {
        name: name.to_string(),
        values: values.rechunk().into_owned(),
    }))
}

/// Why a required column is missing, and what to do: the columns found, a
/// near match, the mapping line that would rename it, or a hint that the
/// file is not comma-separated.
fn missing_column(source: &Source, name: &str, canonical: &str) -> String {
    let found: Vec<&str> = source
        .frame
        .get_column_names()
        .into_iter()
        .map(|c| c.as_str())
        .filter(|c| *c != BROKEN_COLUMN)
        .collect();
    let hint = if name == canonical {
        String::new()
    } else {
        format!(" (canonical `{canonical}`)")
    };
    if let [only] = found.as_slice() {
        if let Some(sep) = [';', '\t', '|'].into_iter().find(|c| only.contains(*c)) {
            let shown = if sep == '\t' {
                "tab".to_string()
            } else {
                format!("`{sep}`")
            };
            return format!(
                "missing column `{name}`{hint}: the header is one column `{only}`, so the file looks {shown}-delimited; slt reads comma-separated CSV: export it with commas"
            );
        }
    }
    let table = source.table.name();
    let listed: Vec<String> = found.iter().take(12).map(|c| format!("`{c}`")).collect();
    let more = if found.len() > 12 { ", …" } else { "" };
    let near = crate::suggest::near_matches(name, found.iter().copied());
    let fix = match near.first() {
        Some(m) => format!(
            "; did you mean `{m}`? rename it in the file, or map it with --mapping: [columns.{table}] {canonical} = \"{m}\""
        ),
        None => format!(
            "; rename a column in the file, or map one with --mapping: [columns.{table}] {canonical} = \"<your column>\""
        ),
    };
    format!(
        "missing column `{name}`{hint} (found {}{more}){fix}",
        listed.join(", ")
    )
}

/// Trimmed, empty-as-missing values of an optional column, read in place
/// (no per-row copy: on big exports, a vector of them per column was a
/// fifth of the peak memory).
#[derive(Clone, Copy)]
pub(crate) struct Texts<'a>(Option<&'a <StringType as PolarsDataType>::Array>);

impl<'a> Texts<'a> {
    /// The values of a one-chunk string column (see [`text_column`]); a
    /// column without chunks has no rows.
    pub(crate) fn of(ca: &'a StringChunked) -> Texts<'a> {
        Texts((ca.chunks().len() == 1).then(|| ca.downcast_as_array()))
    }

    /// The value at `row`: `None` when null, blank, or the column is absent.
    #[inline]
    pub(crate) fn get(&self, row: usize) -> Option<&'a str> {
        self.0?.get(row).map(str::trim).filter(|s| !s.is_empty())
    }
}

/// The values of an optional column (see [`Texts`]).
pub(crate) fn values(col: &Option<TextColumn>) -> Texts<'_> {
    col.as_ref().map_or(Texts(None), |c| Texts::of(&c.values))
}

// ---- validation ----

/// Why each row could not be read at all (ragged CSV rows, NDJSON lines
/// that are not JSON): the hidden column the readers add when any row is.
pub(crate) fn unreadable(source: &Source) -> Texts<'_> {
    source
        .frame
        .column(BROKEN_COLUMN)
        .ok()
        .and_then(|c| c.str().ok())
        .map_or(Texts(None), Texts::of)
}

/// Records the rejects of one table.
pub(crate) struct Rejecter<'a> {
    pub(crate) table: Table,
    pub(crate) rejects: &'a mut Vec<Reject>,
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

/// Parses a contract bound: an RFC 3339 instant, or a bare `YYYY-MM-DD`
/// meaning local midnight starting that day in the contract's region.
pub(crate) fn parse_bound(text: &str, zone: chrono_tz::Tz) -> std::result::Result<Instant, String> {
    if text.len() == 10 {
        let date = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .map_err(|_| format!("`{text}` is not a real calendar date"))?;
        let t = resolve_local(zone, date.and_time(chrono::NaiveTime::MIN));
        if !(crate::timestamp::MIN_INSTANT..crate::timestamp::MAX_INSTANT).contains(&t) {
            return Err(format!(
                "`{text}` is outside the supported range 1900-01-01 to 2199-12-31"
            ));
        }
        return Ok(t);
    }
    parse_rfc3339(text).map_err(|e| e.to_string())
}

/// A contract's `valid_to`: a bound as for [`parse_bound`], or `None`
/// (open-ended) for a far-future sentinel such as `9999-12-31`
/// ([`crate::timestamp::is_open_end_sentinel`]).
pub(crate) fn parse_end_bound(
    text: &str,
    zone: chrono_tz::Tz,
) -> std::result::Result<Option<Instant>, String> {
    if crate::timestamp::is_open_end_sentinel(text) {
        return Ok(None);
    }
    parse_bound(text, zone).map(Some)
}

/// Why an event row is rejected (judged in parallel, recorded in order).
struct EventReject {
    column: String,
    value: Option<String>,
    reason: String,
}

/// Options that change validation.
#[derive(Debug, Clone, Copy, Default)]
pub struct IngestOptions {
    /// `--as-of`: cases created after it are rejected.
    pub as_of: Option<Instant>,
}

/// Validates tables already read.
pub fn validate(
    sources: Vec<Source>,
    mapping: &Mapping,
    policy: &Policy,
    options: IngestOptions,
) -> Result<Ingested> {
    let mut rejects = Vec::new();
    let mut column_names = HashMap::new();
    let mut counts = [Counts::default(); 3];

    // Every required column of every table first: a missing one is an error
    // before anything is judged.
    let acc = &sources[0];
    let a_id = text_column(acc, mapping, "account_id", true)?;
    let a_tier = text_column(acc, mapping, "tier", true)?;
    let a_region = text_column(acc, mapping, "region", true)?;
    let a_from = text_column(acc, mapping, "valid_from", true)?;
    let a_to = text_column(acc, mapping, "valid_to", false)?;
    let cs = &sources[1];
    let c_id = text_column(cs, mapping, "case_id", true)?;
    let c_account = text_column(cs, mapping, "account_id", true)?;
    let c_priority = text_column(cs, mapping, "priority", true)?;
    let c_created = text_column(cs, mapping, "created_at", true)?;
    let c_closed = text_column(cs, mapping, "closed_at", false)?;
    let c_others: Vec<Option<TextColumn>> = ["product", "channel", "language", "contact_id"]
        .iter()
        .map(|c| text_column(cs, mapping, c, false))
        .collect::<Result<_>>()?;
    let ev = &sources[2];
    let e_case = text_column(ev, mapping, "case_id", true)?;
    let e_at = text_column(ev, mapping, "at", true)?;
    let e_kind = text_column(ev, mapping, "kind", true)?;
    let e_value = text_column(ev, mapping, "value", false)?;

    for (table, canonical) in [
        (Table::Accounts, "account_id"),
        (Table::Accounts, "tier"),
        (Table::Accounts, "region"),
        (Table::Accounts, "valid_from"),
        (Table::Accounts, "valid_to"),
        (Table::Cases, "case_id"),
        (Table::Cases, "account_id"),
        (Table::Cases, "product"),
        (Table::Cases, "priority"),
        (Table::Cases, "created_at"),
        (Table::Cases, "closed_at"),
        (Table::Cases, "channel"),
        (Table::Cases, "language"),
        (Table::Cases, "contact_id"),
        (Table::Events, "case_id"),
        (Table::Events, "at"),
        (Table::Events, "kind"),
        (Table::Events, "value"),
    ] {
        column_names.insert(
            (table, canonical),
            mapping.source_column(table.name(), canonical).to_string(),
        );
    }

    // ---- accounts ----
    let n = acc.frame.height();
    counts[0].read = n as u64;
    let (ids, tiers, regions, froms, tos) = (
        values(&a_id),
        values(&a_tier),
        values(&a_region),
        values(&a_from),
        values(&a_to),
    );
    let col = |c: &Option<TextColumn>| c.as_ref().map(|c| c.name.clone()).unwrap_or_default();
    let mut contracts: PlHashMap<&str, Vec<(usize, Contract)>> = PlHashMap::new();
    {
        let mut r = Rejecter {
            table: Table::Accounts,
            rejects: &mut rejects,
        };
        let broken = unreadable(acc);
        for i in 0..n {
            if let Some(reason) = broken.get(i) {
                r.reject(i, None, "", None, reason);
                continue;
            }
            let key = ids.get(i);
            let Some(id) = key else {
                r.reject(i, None, &col(&a_id), None, "missing account_id");
                continue;
            };
            let tier_text = tiers.get(i).map(|t| mapping.value("tier", t));
            let Some(tier) = tier_text.and_then(|t| policy.tier_index(t)) else {
                r.reject(
                    i,
                    key,
                    &col(&a_tier),
                    tiers.get(i),
                    format!("unknown tier (expected one of {})", policy.tiers.join(", ")),
                );
                continue;
            };
            let region_text = regions.get(i).map(|t| mapping.value("region", t));
            let Some(region) = region_text.and_then(|t| policy.region_index(t)) else {
                let known: Vec<&str> = policy.regions.iter().map(|r| r.name.as_str()).collect();
                r.reject(
                    i,
                    key,
                    &col(&a_region),
                    regions.get(i),
                    format!("unknown region (expected one of {})", known.join(", ")),
                );
                continue;
            };
            let zone = policy.regions[region].zone;
            let from = match froms.get(i).map(|t| parse_bound(t, zone)) {
                Some(Ok(t)) => t,
                Some(Err(e)) => {
                    r.reject(i, key, &col(&a_from), froms.get(i), e);
                    continue;
                }
                None => {
                    r.reject(i, key, &col(&a_from), None, "missing valid_from");
                    continue;
                }
            };
            let to = match tos.get(i).map(|t| parse_end_bound(t, zone)) {
                Some(Ok(Some(t))) if t <= from => {
                    r.reject(
                        i,
                        key,
                        &col(&a_to),
                        tos.get(i),
                        "valid_to is not after valid_from",
                    );
                    continue;
                }
                Some(Ok(t)) => t,
                Some(Err(e)) => {
                    r.reject(i, key, &col(&a_to), tos.get(i), e);
                    continue;
                }
                None => None,
            };
            contracts.entry(id).or_default().push((
                i,
                Contract {
                    tier,
                    region,
                    from,
                    to,
                },
            ));
        }
        // Overlapping contract rows of one account: every row involved is rejected.
        for (id, rows) in contracts.iter_mut() {
            rows.sort_by_key(|(i, c)| (c.from, *i));
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
            if bad.iter().any(|b| *b) {
                let overlapping: Vec<String> = rows
                    .iter()
                    .zip(&bad)
                    .filter(|(_, b)| **b)
                    .map(|((i, _), _)| (i + 1).to_string())
                    .collect();
                for ((i, _), _) in rows.iter().zip(&bad).filter(|(_, b)| **b) {
                    r.reject(
                        *i,
                        Some(id),
                        &col(&a_from),
                        froms.get(*i),
                        format!(
                            "contract rows {} of account `{id}` overlap",
                            overlapping.join(", ")
                        ),
                    );
                }
                let mut k = 0;
                rows.retain(|_| {
                    k += 1;
                    !bad[k - 1]
                });
            }
        }
    }
    counts[0].rejected = rejects.len() as u64;
    counts[0].used = counts[0].read - counts[0].rejected;

    // ---- cases ----
    let n = cs.frame.height();
    counts[1].read = n as u64;
    let before = rejects.len();
    let (ids, accounts, priorities, createds, closeds) = (
        values(&c_id),
        values(&c_account),
        values(&c_priority),
        values(&c_created),
        values(&c_closed),
    );
    let others: Vec<Texts> = c_others.iter().map(values).collect();
    struct Candidate {
        row: usize,
        priority: Priority,
        created_at: Instant,
        closed_at: Option<Instant>,
    }
    let mut candidates: Vec<Candidate> = Vec::with_capacity(n);
    {
        let mut r = Rejecter {
            table: Table::Cases,
            rejects: &mut rejects,
        };
        let broken = unreadable(cs);
        for i in 0..n {
            if let Some(reason) = broken.get(i) {
                r.reject(i, None, "", None, reason);
                continue;
            }
            let key = ids.get(i);
            if key.is_none() {
                r.reject(i, None, &col(&c_id), None, "missing case_id");
                continue;
            }
            if accounts.get(i).is_none() {
                r.reject(i, key, &col(&c_account), None, "missing account_id");
                continue;
            }
            let priority = match priorities
                .get(i)
                .map(|p| mapping.value("priority", p).parse::<Priority>())
            {
                Some(Ok(p)) => p,
                Some(Err(e)) => {
                    r.reject(i, key, &col(&c_priority), priorities.get(i), e);
                    continue;
                }
                None => {
                    r.reject(i, key, &col(&c_priority), None, "missing priority");
                    continue;
                }
            };
            let created_at = match createds.get(i).map(parse_rfc3339) {
                Some(Ok(t)) => t,
                Some(Err(e)) => {
                    r.reject(i, key, &col(&c_created), createds.get(i), e.to_string());
                    continue;
                }
                None => {
                    r.reject(i, key, &col(&c_created), None, "missing created_at");
                    continue;
                }
            };
            let closed_at = match closeds.get(i).map(parse_rfc3339) {
                Some(Ok(t)) if t < created_at => {
                    r.reject(
                        i,
                        key,
                        &col(&c_closed),
                        closeds.get(i),
                        "closed_at is before created_at",
                    );
                    continue;
                }
                Some(Ok(t)) => Some(t),
                Some(Err(e)) => {
                    r.reject(i, key, &col(&c_closed), closeds.get(i), e.to_string());
                    continue;
                }
                None => None,
            };
            if let Some(as_of) = options.as_of {
                if created_at > as_of {
                    r.reject(
                        i,
                        key,
                        &col(&c_created),
                        createds.get(i),
                        "created after --as-of: the case has not happened yet",
                    );
                    continue;
                }
            }
            candidates.push(Candidate {
                row: i,
                priority,
                created_at,
                closed_at,
            });
        }
    }

    // Duplicate case ids: identical rows collapse into the first; rows that
    // differ are all rejected (slt does not guess which one is right).
    let signature = |i: usize| {
        let mut s = vec![
            ids.get(i),
            accounts.get(i),
            priorities.get(i),
            createds.get(i),
            closeds.get(i),
        ];
        s.extend(others.iter().map(|o| o.get(i)));
        s
    };
    let mut first_of: PlHashMap<&str, usize> = PlHashMap::with_capacity(candidates.len());
    let mut repeated: Vec<(usize, usize)> = Vec::new();
    for (k, c) in candidates.iter().enumerate() {
        let id = ids.get(c.row).expect("checked");
        match first_of.get(id) {
            Some(&first) => repeated.push((first, k)),
            None => {
                first_of.insert(id, k);
            }
        }
    }
    let mut by_first: std::collections::BTreeMap<usize, Vec<usize>> =
        std::collections::BTreeMap::new();
    for (first, k) in repeated {
        by_first.entry(first).or_insert_with(|| vec![first]).push(k);
    }
    let mut drop = vec![false; candidates.len()];
    {
        let mut r = Rejecter {
            table: Table::Cases,
            rejects: &mut rejects,
        };
        let groups: Vec<&Vec<usize>> = by_first.values().collect();
        for group in groups {
            let first = candidates[group[0]].row;
            let all_identical = group
                .iter()
                .all(|&k| signature(candidates[k].row) == signature(first));
            let rows: Vec<String> = group
                .iter()
                .map(|&k| (candidates[k].row + 1).to_string())
                .collect();
            for (j, &k) in group.iter().enumerate() {
                let row = candidates[k].row;
                if all_identical && j == 0 {
                    continue;
                }
                drop[k] = true;
                let reason = if all_identical {
                    format!("identical duplicate of row {} (collapsed)", first + 1)
                } else {
                    format!(
                        "duplicate case_id with different content (rows {})",
                        rows.join(", ")
                    )
                };
                r.reject(row, ids.get(row), &col(&c_id), ids.get(row), reason);
            }
        }
    }

    // Account and contract in force at creation.
    let mut cases = Vec::with_capacity(candidates.len());
    let mut case_index: PlHashMap<&str, u32> = PlHashMap::with_capacity(candidates.len());
    {
        let mut r = Rejecter {
            table: Table::Cases,
            rejects: &mut rejects,
        };
        for (k, c) in candidates.iter().enumerate() {
            if drop[k] {
                continue;
            }
            let i = c.row;
            let account = accounts.get(i).expect("checked");
            let Some(rows) = contracts.get(account) else {
                r.reject(
                    i,
                    ids.get(i),
                    &col(&c_account),
                    accounts.get(i),
                    format!("unknown account `{account}`"),
                );
                continue;
            };
            if rows.is_empty() {
                r.reject(
                    i,
                    ids.get(i),
                    &col(&c_account),
                    accounts.get(i),
                    format!("account `{account}` has only rejected contract rows"),
                );
                continue;
            }
            let Some((_, contract)) = rows.iter().find(|(_, ct)| ct.in_force(c.created_at)) else {
                r.reject(
                    i,
                    ids.get(i),
                    &col(&c_created),
                    createds.get(i),
                    format!("account `{account}` has no contract in force at created_at"),
                );
                continue;
            };
            case_index.insert(ids.get(i).expect("checked"), cases.len() as u32);
            cases.push(Case {
                row: i as u32,
                tier: contract.tier,
                region: contract.region,
                priority: c.priority,
                created_at: c.created_at,
                closed_at: c.closed_at,
            });
        }
    }
    counts[1].rejected = (rejects.len() - before) as u64;
    counts[1].used = counts[1].read - counts[1].rejected;
    // Ids of every case row that was rejected, to word event rejects precisely.
    let rejected_ids: PlHashSet<String> = rejects[before..]
        .iter()
        .filter_map(|rj| rj.key.clone())
        .filter(|k| !case_index.contains_key(k.as_str()))
        .collect();

    // ---- events ----
    let n = ev.frame.height();
    counts[2].read = n as u64;
    let before = rejects.len();
    let (e_cases, ats, kinds, vals) = (
        values(&e_case),
        values(&e_at),
        values(&e_kind),
        values(&e_value),
    );
    let broken = unreadable(ev);
    let (case_col, at_col, kind_col, value_col) =
        (col(&e_case), col(&e_at), col(&e_kind), col(&e_value));
    // Rows are judged in parallel; rejects are then collected in row order.
    // A reject is boxed: most rows are events, and an unboxed reject would
    // triple the size of every row's result.
    let judged: Vec<std::result::Result<Event, Box<EventReject>>> = (0..n)
        .into_par_iter()
        .map(|i| {
            let fail = |column: &str, value: Option<&str>, reason: String| {
                Box::new(EventReject {
                    column: column.to_string(),
                    value: value.map(str::to_string),
                    reason,
                })
            };
            if let Some(reason) = broken.get(i) {
                return Err(fail("", None, reason.to_string()));
            }
            let Some(case_id) = e_cases.get(i) else {
                return Err(fail(&case_col, None, "missing case_id".into()));
            };
            let Some(&case) = case_index.get(case_id) else {
                let reason = if rejected_ids.contains(case_id) {
                    format!("case `{case_id}` was rejected")
                } else {
                    format!("unknown case `{case_id}`")
                };
                return Err(fail(&case_col, Some(case_id), reason));
            };
            let at = match ats.get(i).map(parse_rfc3339) {
                Some(Ok(t)) => t,
                Some(Err(e)) => return Err(fail(&at_col, ats.get(i), e.to_string())),
                None => return Err(fail(&at_col, None, "missing at".into())),
            };
            let Some(kind) = kinds.get(i).and_then(|k| EventKind::parse(mapping.value("kind", k))) else {
                return Err(fail(&kind_col, kinds.get(i), "unknown event kind (expected agent_response, auto_response, internal_note, customer_update, priority_change, status_change, closed or reopened)".into()));
            };
            if at < cases[case as usize].created_at {
                return Err(fail(&at_col, ats.get(i), "event before its case's creation".into()));
            }
            let priority = if kind == EventKind::PriorityChange {
                match vals.get(i).map(|v| mapping.value("priority", v).parse::<Priority>()) {
                    Some(Ok(p)) => Some(p),
                    Some(Err(e)) => return Err(fail(&value_col, vals.get(i), e)),
                    None => {
                        return Err(fail(&value_col, None, "priority_change without a new priority in `value`".into()))
                    }
                }
            } else {
                None
            };
            Ok(Event { case, at, kind, priority, row: i as u32 })
        })
        .collect();
    let mut events = Vec::with_capacity(n);
    {
        let mut r = Rejecter {
            table: Table::Events,
            rejects: &mut rejects,
        };
        for (i, j) in judged.into_iter().enumerate() {
            match j {
                Ok(e) => events.push(e),
                Err(f) => r.reject(i, e_cases.get(i), &f.column, f.value.as_deref(), f.reason),
            }
        }
    }
    counts[2].rejected = (rejects.len() - before) as u64;
    counts[2].used = counts[2].read - counts[2].rejected;

    let (as_of, as_of_source) = match options.as_of {
        Some(t) => (t, AsOfSource::Flag),
        None => {
            let latest = cases
                .iter()
                .flat_map(|c| [Some(c.created_at), c.closed_at])
                .flatten()
                .chain(events.iter().map(|e| e.at))
                .max();
            (latest.unwrap_or(0), AsOfSource::LatestInExport)
        }
    };

    Ok(Ingested {
        sources,
        cases,
        events,
        rejects,
        counts,
        as_of,
        as_of_source,
        column_names,
    })
}
