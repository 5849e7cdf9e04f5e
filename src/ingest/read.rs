//! Reading an export's files: every table present in `--input` (or the
//! demo embedded in the binary) as read, with its path, format and
//! SHA-256 — but the cases and events tables, which are opened here and
//! read in pieces as they are judged (`ingest::stream`). No judgement
//! here: [`super::judge`](fn@super::judge) and the per-table judges decide what each row
//! means.
//!
//! A table is `<dir>/<table>.csv`, `.parquet` or `.ndjson`. For a report
//! or a review, a CSV table read whole is parsed as the pieces of the
//! others are (`ingest::records`: one reader for every CSV table, and no
//! frame of its text, `read_parsed`). Otherwise (vendor imports' tables,
//! tests) CSV is read by
//! polars' fast reader, or record by record when that refuses the file
//! (ragged rows, bytes that are not UTF-8) or a row has fewer fields than
//! the header, so that one bad row is one reject and not a lost file;
//! NDJSON is read line by line for the same reason. Such rows carry their
//! problem in the hidden [`BROKEN_COLUMN`].

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use polars::prelude::*;
use rayon::prelude::*;
use sha2::{Digest, Sha256};

use super::records::Records;
use super::stream::{CsvPieces, ParquetPieces, Pieces, PIECE_BYTES, PIECE_ROWS};
use crate::model::Table;
use crate::vendor::SourceKind;
use crate::{Error, Result};

/// File formats, chosen by extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `.csv`, with a header row.
    Csv,
    /// `.parquet`.
    Parquet,
    /// `.ndjson`, one JSON object per line.
    Ndjson,
    /// Derived from a vendor's native export (`--source`).
    Vendor(SourceKind),
}

impl Format {
    /// The file extension; for a derived table, the vendor.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Parquet => "parquet",
            Format::Ndjson => "ndjson",
            Format::Vendor(kind) => kind.name(),
        }
    }
    /// Every format, in the order files are looked for.
    pub const ALL: [Format; 3] = [Format::Csv, Format::Parquet, Format::Ndjson];
}

/// Where the export comes from.
#[derive(Debug, Clone)]
pub enum Input {
    /// A directory holding the tables.
    Dir(PathBuf),
    /// The demo export embedded in the binary (`fixtures/demo/`).
    Demo,
}

/// The demo export, embedded so `slt report` works from any directory: every
/// table, in [`Table::ALL`] order.
const DEMO: [&[u8]; 5] = [
    include_bytes!("../../fixtures/demo/accounts.csv"),
    include_bytes!("../../fixtures/demo/cases.csv"),
    include_bytes!("../../fixtures/demo/events.csv"),
    include_bytes!("../../fixtures/demo/engagements.csv"),
    include_bytes!("../../fixtures/demo/contacts.csv"),
];

/// One table's file: what the manifest says of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    /// Which table.
    pub table: Table,
    /// Path as shown to the user (`(bundled demo) cases.csv` for the demo).
    pub path: String,
    /// Format read.
    pub format: Format,
    /// SHA-256 of the file's bytes, hex (none for a table derived from a
    /// vendor export: its files can be gigabytes).
    pub sha256: Option<String>,
}

/// One table as read from its file.
#[derive(Debug)]
pub struct Source {
    /// The file.
    pub file: SourceFile,
    /// The rows, every column as read.
    pub frame: DataFrame,
    /// For a table derived from a vendor export, each row's vendor record.
    pub origins: Option<Arc<Origins>>,
    /// For a table read in pieces (`ingest::stream`): the file, still to
    /// be read; `frame` then holds only its columns, no row.
    pub pieces: Option<Pieces>,
    /// For a CSV table parsed whole into its fields' text ([`read_parsed`]):
    /// its rows, whose values `frame` does not hold (only, when any row is
    /// unreadable, [`BROKEN_COLUMN`]).
    pub(crate) parsed: Option<Parsed>,
}

/// A CSV table's rows as parsed text ([`super::records`]), and its
/// columns' names as the header row gives them.
#[derive(Debug)]
pub(crate) struct Parsed {
    /// Every row.
    pub(crate) records: Arc<Records>,
    /// The header's column names.
    pub(crate) names: Vec<String>,
}

/// Where each row of a table derived from a vendor export came from.
#[derive(Debug, Default)]
pub struct Origins {
    /// The vendor files, as [`crate::vendor::Origin::file`] indexes them.
    pub files: Vec<String>,
    /// Per row, its vendor record.
    pub rows: Vec<crate::vendor::Origin>,
}

impl Origins {
    /// The vendor file and record of 0-based row `row`.
    pub fn locate(&self, row: usize) -> Option<(String, String)> {
        let o = self.rows.get(row)?;
        let file = self.files.get(o.file as usize)?.clone();
        Some((file, o.locator.to_string()))
    }
}

impl Source {
    /// The table.
    pub fn table(&self) -> Table {
        self.file.table
    }

    /// The path as shown to the user.
    pub fn path(&self) -> &str {
        &self.file.path
    }
}

fn hex_sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The file of `table` in `dir`: `None` when there is none and the table
/// is optional; an error when a required table is missing, a table has
/// more than one file, or a table's name is not a regular file (a
/// directory, a pipe, a link to nothing): never passed over as if the
/// table were absent, its rows lost without a word.
fn find_table(dir: &Path, table: Table) -> Result<Option<(PathBuf, Format)>> {
    let found: Vec<(PathBuf, Format)> = Format::ALL
        .iter()
        .map(|f| (dir.join(format!("{}.{}", table.name(), f.extension())), *f))
        .filter(|(p, _)| p.symlink_metadata().is_ok())
        .collect();
    if let Some((path, _)) = found.iter().find(|(p, _)| !p.is_file()) {
        let what = match std::fs::metadata(path) {
            Err(_) => "a link to nothing",
            Ok(m) if m.is_dir() => "a directory",
            Ok(_) => "not a regular file (a pipe, a socket or a device)",
        };
        return Err(Error::Input {
            path: path.clone(),
            reason: format!(
                "the `{}` table's name is {what}: slt reads each table from a file; write it to one (or remove the name)",
                table.name()
            ),
        });
    }
    match found.len() {
        1 => Ok(found.into_iter().next()),
        0 if !table.required() => Ok(None),
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

pub(super) fn read_frame_chunked(bytes: &[u8], format: Format) -> PolarsResult<DataFrame> {
    match format {
        Format::Csv => {
            // polars' fast reader first; on ragged rows or bytes that are not
            // UTF-8 it refuses the whole file, so fall back to reading row by
            // row and rejecting only the rows at fault.
            // It also reads a row with fewer fields than the header as if
            // the missing ones were empty: such a row is ragged, and the
            // record reader says so.
            let fast = CsvReadOptions::default()
                .with_has_header(true)
                .with_infer_schema_length(Some(0))
                .with_raise_if_empty(false)
                .into_reader_with_file_handle(Cursor::new(bytes))
                .finish();
            match fast {
                Ok(frame) if every_row_complete(bytes, frame.width(), frame.height()) => Ok(frame),
                _ => read_csv_rows(bytes),
            }
        }
        Format::Parquet => ParquetReader::new(Cursor::new(bytes)).finish(),
        Format::Ndjson => Ok(read_ndjson(bytes)),
        Format::Vendor(kind) => {
            polars_bail!(ComputeError: "a {kind} export is imported, not read as a table")
        }
    }
}

/// Whether every record of `bytes` (a header and `rows` rows, as polars
/// read them) has `width` fields: the commas outside quotes number
/// `width - 1` per record (a quote opens or closes a quoted field, `""`
/// does both). When they don't, or a quote stands in an unquoted field,
/// the records are read to count their fields.
fn every_row_complete(bytes: &[u8], width: usize, rows: usize) -> bool {
    let expected = (rows + 1) * width.saturating_sub(1);
    let (mut commas, mut quoted) = (0usize, false);
    for i in memchr::memchr2_iter(b',', b'"', bytes) {
        if bytes[i] == b'"' {
            quoted = !quoted;
        } else if !quoted {
            commas += 1;
        }
    }
    if commas == expected && !quoted {
        return true;
    }
    if memchr::memchr(b'"', bytes).is_none() {
        return false;
    }
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(false)
        .from_reader(bytes);
    let mut record = csv::ByteRecord::new();
    while let Ok(true) = reader.read_byte_record(&mut record) {
        if record.len() != width {
            return false;
        }
    }
    true
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
                        "ragged_row\t{} fields, the header has {}",
                        record.len(),
                        names.len()
                    ));
                }
                for (c, column) in columns.iter_mut().enumerate() {
                    let value = match record.get(c).map(std::str::from_utf8) {
                        Some(Ok(v)) if !v.is_empty() => Some(v.to_string()),
                        Some(Err(_)) => {
                            why.get_or_insert_with(|| format!("not_utf8\t{}", names[c]));
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
            Ok(_) => row_broken = Some("not_json_object\t".to_string()),
            Err(e) => row_broken = Some(format!("not_json\t{e}")),
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

/// Hidden column of a frame holding why a row could not be read at all:
/// `CODE<TAB>DETAIL`, as the judges' `reject_unreadable` reads it.
pub const BROKEN_COLUMN: &str = "__slt_unreadable_line";

/// The tables a report reads in pieces as they are judged: every table
/// but the accounts (which every other table's judge looks up).
pub const READ_IN_PIECES: [Table; 4] = [
    Table::Cases,
    Table::Events,
    Table::Engagements,
    Table::Contacts,
];

/// Reads every table of `input`: the three required ones (a missing one is
/// an error) and the optional ones that are present, in [`Table::ALL`]
/// order.
///
/// The tables of `in_pieces` (CSV or Parquet) are read in pieces as they
/// are judged: [`READ_IN_PIECES`] for a report, only the events for
/// `slt review`, which finds an account's rejected case rows in their text.
pub fn read_all(input: &Input, in_pieces: &[Table]) -> Result<Vec<Source>> {
    read_all_in_pieces(input, Some((PIECE_BYTES, PIECE_ROWS)), in_pieces)
}

/// [`read_all`], the tables of `in_pieces` (CSV or Parquet) read in pieces
/// of about `piece_size.0` bytes (CSV) or `piece_size.1` rows (Parquet) as
/// they are judged, or whole with `None`.
pub(crate) fn read_all_in_pieces(
    input: &Input,
    piece_size: Option<(usize, usize)>,
    in_pieces: &[Table],
) -> Result<Vec<Source>> {
    // The tables side by side (each file's hash beside its parse); the
    // first table's error in table order is the one reported.
    let read: Vec<Result<Option<Source>>> = Table::ALL
        .par_iter()
        .map(|&table| match piece_size {
            Some(size) if in_pieces.contains(&table) => match open_pieces(input, table, size)? {
                Some(source) => Ok(Some(source)),
                None => read_table(input, table),
            },
            Some(_) => read_parsed(input, table),
            None => read_table(input, table),
        })
        .collect();
    let mut sources = Vec::with_capacity(Table::ALL.len());
    for source in read {
        sources.extend(source?);
    }
    Ok(sources)
}

/// Reads one table: `None` for an absent optional table.
pub fn read_table(input: &Input, table: Table) -> Result<Option<Source>> {
    let (path, format, bytes) = match input {
        Input::Demo => (
            format!("(bundled demo) {}.csv", table.name()),
            Format::Csv,
            DEMO[table as usize].to_vec(),
        ),
        Input::Dir(dir) => {
            let Some((path, format)) = find_table(dir, table)? else {
                return Ok(None);
            };
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
    // Hash on one core while polars parses on the others; the file's bytes
    // are let go before the columns are made contiguous (one chunk per
    // column, so that every column is read in place later, [`Texts`]), so
    // that the file and the two copies of the table are never held at once.
    let (sha256, frame) = rayon::join(|| hex_sha256(&bytes), || read_frame_chunked(&bytes, format));
    drop(bytes);
    let frame = frame.map(|mut frame| {
        frame.rechunk_mut_par();
        frame
    });
    let frame = frame.map_err(|e| unreadable_as(&path, format.extension(), &e))?;
    Ok(Some(Source {
        file: SourceFile {
            table,
            path,
            format,
            sha256: Some(sha256),
        },
        frame,
        origins: None,
        pieces: None,
        parsed: None,
    }))
}

/// Reads one table whole: a CSV table as [`super::records`] parses the
/// pieces of a table read in pieces (one piece, the whole file, parts
/// parsed side by side), its rows' text never copied into a frame; any
/// other format as [`read_table`] reads it.
fn read_parsed(input: &Input, table: Table) -> Result<Option<Source>> {
    let (mut pieces, columns) = match open_csv(input, table, None)? {
        Opened::Csv(pieces, columns) => (*pieces, columns),
        Opened::Other(_) | Opened::NoHeader => return read_table(input, table),
        Opened::Absent => return Ok(None),
    };
    let path = pieces.path().to_string();
    let io = |source: std::io::Error| Error::Read {
        path: path.clone().into(),
        source,
    };
    // The columns are found by the names the tables read in pieces are
    // checked by (a name's spaces kept, as there); the records are read
    // against the header's fields, as a piece's are.
    let fields = super::records::header(pieces.header());
    let header = pieces.header().len();
    let mut parts = Vec::new();
    while let Some(piece) = pieces.next_bytes().map_err(io)? {
        parts.extend(super::records::parse_whole(piece, header, &fields));
    }
    let mut names: Vec<String> = columns
        .get_column_names()
        .into_iter()
        .map(|c| c.to_string())
        .collect();
    if names.len() != fields.len() {
        names = fields;
    }
    let records = Records::concat(parts);
    let frame = rows_frame(&records);
    Ok(Some(Source {
        file: SourceFile {
            table,
            path,
            format: Format::Csv,
            sha256: Some(pieces.sha256()),
        },
        frame,
        origins: None,
        pieces: None,
        parsed: Some(Parsed {
            records: Arc::new(records),
            names,
        }),
    }))
}

/// The frame standing for `records`' rows: as many rows, no column but,
/// when a row is unreadable, why ([`BROKEN_COLUMN`], where
/// [`super::text::unreadable`] looks).
pub(super) fn rows_frame(records: &Records) -> DataFrame {
    let rows = records.len();
    if records.broken().is_empty() {
        return DataFrame::empty_with_height(rows);
    }
    let mut why = vec![None; rows];
    for (row, w) in records.broken() {
        why[*row] = Some(w.as_str());
    }
    DataFrame::new(rows, vec![Column::new(BROKEN_COLUMN.into(), why)])
        .expect("one column of `rows` rows")
}

/// Opens a CSV or Parquet table to be read in pieces as it is judged: its
/// columns are read (they are checked before any table is judged), its
/// rows are not. `None` when the table is NDJSON (read whole instead).
fn open_pieces(
    input: &Input,
    table: Table,
    (piece_bytes, piece_rows): (usize, usize),
) -> Result<Option<Source>> {
    let (path, format, frame, pieces) = match open_csv(input, table, Some(piece_bytes))? {
        Opened::Csv(pieces, frame) => {
            let path = pieces.path().to_string();
            (path, Format::Csv, frame, Pieces::Csv(*pieces))
        }
        Opened::Other((path, Format::Parquet)) => {
            let (pieces, frame) = ParquetPieces::open(path.clone(), piece_rows)?;
            let path = path.display().to_string();
            (path, Format::Parquet, frame, Pieces::Parquet(pieces))
        }
        Opened::NoHeader => return read_table(input, table),
        Opened::Other(_) | Opened::Absent => return Ok(None),
    };
    Ok(Some(Source {
        file: SourceFile {
            table,
            path,
            format,
            sha256: None,
        },
        frame,
        origins: None,
        pieces: Some(pieces),
        parsed: None,
    }))
}

/// What opening a table's file gave ([`open_csv`]).
enum Opened {
    /// A CSV file, its header row read, and its columns (no row) as the
    /// header check reads them.
    Csv(Box<CsvPieces>, DataFrame),
    /// A file of another format.
    Other((PathBuf, Format)),
    /// A CSV file with no header row (an empty file, or blank lines
    /// first): read whole, which says so.
    NoHeader,
    /// No file: an absent optional table.
    Absent,
}

/// Opens the CSV file of `table` to be read in pieces of about
/// `piece_bytes` bytes (`None`: the whole file as one piece), and reads
/// its header row: the columns of every CSV table read through
/// [`CsvPieces`] are checked by the same names, with the same errors.
fn open_csv(input: &Input, table: Table, piece_bytes: Option<usize>) -> Result<Opened> {
    let (path, reader, len): (String, Box<dyn std::io::Read + Send + Sync>, _) = match input {
        Input::Demo => (
            format!("(bundled demo) {}.csv", table.name()),
            Box::new(DEMO[table as usize]),
            Some(DEMO[table as usize].len() as u64),
        ),
        Input::Dir(dir) => match find_table(dir, table)? {
            Some((path, Format::Csv)) => {
                let file = std::fs::File::open(&path).map_err(|source| Error::Read {
                    path: path.clone(),
                    source,
                })?;
                let len = file.metadata().ok().map(|m| m.len());
                (path.display().to_string(), Box::new(file), len)
            }
            Some(other) => return Ok(Opened::Other(other)),
            None => return Ok(Opened::Absent),
        },
    };
    // The whole file: its size and one byte more, to see its end (pieces
    // of the usual size when the size is not known).
    let whole = || {
        len.and_then(|n| usize::try_from(n).ok())
            .map_or(PIECE_BYTES, |n| n.saturating_add(1))
    };
    let piece_bytes = piece_bytes.unwrap_or_else(whole);
    let pieces =
        CsvPieces::open(reader, len, path.clone(), piece_bytes).map_err(|source| Error::Read {
            path: path.clone().into(),
            source,
        })?;
    if pieces.header().iter().all(u8::is_ascii_whitespace) {
        return Ok(Opened::NoHeader);
    }
    let columns = read_frame_chunked(pieces.header(), Format::Csv)
        .map_err(|e| unreadable_as(&path, "csv", &e))?;
    Ok(Opened::Csv(Box::new(pieces), columns))
}

/// The file at `path` cannot be read as `format`: the reader's first line.
pub(super) fn unreadable_as(path: impl AsRef<Path>, format: &str, e: &PolarsError) -> Error {
    Error::Input {
        path: path.as_ref().into(),
        reason: format!(
            "cannot read as {format}: {}",
            e.to_string().lines().next().unwrap_or_default()
        ),
    }
}

/// What an importer made of a vendor export beyond its rows: its rejects,
/// and per vendor file the accounting (records read = rows + skipped +
/// rejected), for the manifest.
#[derive(Debug, Clone)]
pub struct VendorImport {
    /// The vendor.
    pub kind: SourceKind,
    /// Records the importer rejected.
    pub rejects: Vec<crate::vendor::Reject>,
    /// Per data file accounting.
    pub files: Vec<crate::vendor::FileCount>,
    /// Reference files read.
    pub lookups: Vec<crate::vendor::LookupFile>,
    /// What belongs to no single record.
    pub warnings: Vec<String>,
}

/// Reads a vendor's native export in `dir` (`--source`): the canonical
/// `accounts` table (and `engagements`, `contacts` when present) as files,
/// and `cases` and `events` as the importer derives them, each row knowing
/// its vendor record.
pub fn read_vendor(
    dir: &Path,
    kind: SourceKind,
    settings: &crate::vendor::SourceSettings,
) -> Result<(Vec<Source>, VendorImport)> {
    let input = Input::Dir(dir.to_path_buf());
    let (imported, tables) = rayon::join(
        || crate::vendor::import(kind, dir, settings),
        || [Table::Accounts, Table::Engagements, Table::Contacts].map(|t| read_table(&input, t)),
    );
    let imported = imported?;
    let [accounts, engagements, contacts] = tables;
    let files: Vec<String> = imported.files.iter().map(|f| f.file.clone()).collect();
    let derived = |table: Table, frame: DataFrame, rows: Vec<crate::vendor::Origin>| Source {
        file: SourceFile {
            table,
            path: format!("{} ({kind} import)", dir.display()),
            format: Format::Vendor(kind),
            sha256: None,
        },
        frame,
        pieces: None,
        parsed: None,
        origins: Some(Arc::new(Origins {
            files: files.clone(),
            rows,
        })),
    };
    let (cases, events) = rayon::join(|| vendor_cases(&imported), || vendor_events(&imported));
    let mut sources = vec![accounts?.expect("accounts is required")];
    sources.push(derived(
        Table::Cases,
        cases?,
        imported.cases.iter().map(|c| c.origin).collect(),
    ));
    sources.push(derived(
        Table::Events,
        events?,
        imported.events.iter().map(|e| e.origin).collect(),
    ));
    sources.extend(engagements?);
    sources.extend(contacts?);
    let summary = VendorImport {
        kind,
        rejects: imported.rejects,
        files: imported.files,
        lookups: imported.lookups,
        warnings: imported.warnings,
    };
    Ok((sources, summary))
}

/// The imported cases as a `cases` frame of text, as a canonical file would hold them.
fn vendor_cases(imported: &crate::vendor::Imported) -> Result<DataFrame> {
    use crate::timestamp::format_rfc3339;
    let cases = &imported.cases;
    let text = |name: &str, f: &dyn Fn(&crate::vendor::Case) -> Option<String>| {
        Column::new(name.into(), cases.iter().map(f).collect::<Vec<_>>())
    };
    let columns = vec![
        text("case_id", &|c| Some(c.case_id.to_string())),
        text("account_id", &|c| c.account_id.clone()),
        text("product", &|c| c.product.clone()),
        text("priority", &|c| c.priority.map(|p| p.as_str().to_string())),
        text("created_at", &|c| Some(format_rfc3339(c.created_at))),
        text("closed_at", &|c| c.closed_at.map(format_rfc3339)),
        text("channel", &|c| c.channel.clone()),
        text("language", &|c| c.language.clone()),
        text("contact_id", &|c| c.contact_id.clone()),
    ];
    Ok(DataFrame::new(cases.len(), columns)?)
}

/// The imported events as an `events` frame of text.
fn vendor_events(imported: &crate::vendor::Imported) -> Result<DataFrame> {
    use crate::timestamp::format_rfc3339;
    let events = &imported.events;
    let columns = vec![
        Column::new(
            "case_id".into(),
            events.iter().map(|e| &*e.case_id).collect::<Vec<_>>(),
        ),
        Column::new(
            "at".into(),
            events
                .iter()
                .map(|e| format_rfc3339(e.at))
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "kind".into(),
            events.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>(),
        ),
        Column::new(
            "value".into(),
            events
                .iter()
                .map(|e| e.value.as_deref())
                .collect::<Vec<_>>(),
        ),
    ];
    Ok(DataFrame::new(events.len(), columns)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A table's name that is no regular file is an error naming it, not
    /// an absent table (whose rows would be lost without a word).
    #[test]
    fn a_table_name_that_is_not_a_regular_file_is_an_error_not_an_absent_table() {
        let dir = tempfile::tempdir().unwrap();
        let input = Input::Dir(dir.path().to_path_buf());
        assert!(matches!(read_table(&input, Table::Contacts), Ok(None)));
        let contacts = dir.path().join("contacts.csv");
        let error = |table| match read_table(&input, table) {
            Err(Error::Input { path, reason }) => (path, reason),
            other => panic!("{other:?}"),
        };
        std::fs::create_dir(&contacts).unwrap();
        let (path, reason) = error(Table::Contacts);
        assert_eq!(path, contacts);
        assert!(reason.contains("is a directory"), "{reason}");
        std::fs::remove_dir(&contacts).unwrap();
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(dir.path().join("gone.csv"), &contacts).unwrap();
            let (path, reason) = error(Table::Contacts);
            assert_eq!(path, contacts);
            assert!(reason.contains("a link to nothing"), "{reason}");
            std::fs::remove_file(&contacts).unwrap();
            let fifo = dir.path().join("engagements.csv");
            let made = std::process::Command::new("mkfifo").arg(&fifo).status();
            if made.is_ok_and(|s| s.success()) {
                let (path, reason) = error(Table::Engagements);
                assert_eq!(path, fifo);
                assert!(reason.contains("not a regular file"), "{reason}");
            }
        }
        std::fs::write(
            &contacts,
            "account_id,product,contact_id,added_at,removed_at\n",
        )
        .unwrap();
        assert!(matches!(read_table(&input, Table::Contacts), Ok(Some(_))));
    }
}
