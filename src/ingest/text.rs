//! An input table's columns as text: every canonical column resolved
//! through the mapping to its name in the file, values read in place,
//! trimmed, empty as missing. Typed Parquet and NDJSON columns are
//! rendered to text first (so one strict parser judges every value), but
//! for timestamp columns: their instants are read as their UTC text would
//! be, without making it ([`InstantColumn`]).

use polars::prelude::*;

use std::sync::Arc;

use super::read::{Source, BROKEN_COLUMN};
use super::records::Records;
use crate::mapping::Mapping;
use crate::model::Table;
use crate::timestamp::{
    format_rfc3339, is_open_end_sentinel, parse_rfc3339, Instant, TimestampError, MAX_INSTANT,
    MIN_INSTANT,
};
use crate::{Error, Result};
use std::borrow::Cow;

/// Column `canonical` of `source` (renamed through the mapping): one
/// chunk of text, or a typed timestamp column's instants; `None` when an
/// optional column is absent.
fn column_values(
    source: &Source,
    mapping: &Mapping,
    canonical: &str,
    required: bool,
) -> Result<Option<Values>> {
    let name = mapping.source_column(source.table().name(), canonical);
    let Ok(column) = source.frame.column(name) else {
        if required {
            return Err(Error::Input {
                path: source.path().into(),
                reason: missing_column(source, name, canonical),
            });
        }
        return Ok(None);
    };
    let series = column.as_materialized_series();
    let values = match series.dtype() {
        DataType::String => series.str().expect("string").clone(),
        DataType::Datetime(unit, zone) => {
            let ca = series.datetime().expect("datetime").physical();
            return Ok(Some(Values::Instants(InstantColumn::new(
                ca,
                *unit,
                zone.is_some(),
            ))));
        }
        _ => series
            .cast(&DataType::String)
            .map_err(|e| Error::Input {
                path: source.path().into(),
                reason: format!("column `{name}` cannot be read as text: {e}"),
            })?
            .str()
            .expect("cast to string")
            .clone(),
    };
    Ok(Some(Values::Column(values.rechunk().into_owned())))
}

/// A typed timestamp column (Parquet) as instants. Its text, what
/// slt would have read had the export written it out (RFC 3339 in UTC,
/// `Z`, no offset for a column without a time zone), is made only when
/// asked for ([`InstantColumn::text`]): an instant in slt's range reads
/// as itself ([`Texts::instant`]), and any other value as its text does,
/// so that typed and text columns are judged alike.
pub(crate) struct InstantColumn {
    /// Microseconds since the epoch (a unit finer than that truncated,
    /// toward the past; a coarser one saturating).
    micros: Int64Chunked,
    /// Whether the column has a time zone: without one, no instant is
    /// known (the text has no offset, and is rejected as such).
    zoned: bool,
    /// The whole column as text, made the first time a value's text is
    /// read through [`Texts::get`].
    text: std::sync::OnceLock<StringChunked>,
}

impl InstantColumn {
    fn new(physical: &Int64Chunked, unit: TimeUnit, zoned: bool) -> InstantColumn {
        let micros = match unit {
            TimeUnit::Microseconds => physical.rechunk().into_owned(),
            TimeUnit::Nanoseconds => physical
                .apply_values(|v| v.div_euclid(1000))
                .rechunk()
                .into_owned(),
            TimeUnit::Milliseconds => physical
                .apply_values(|v| v.saturating_mul(1000))
                .rechunk()
                .into_owned(),
        };
        InstantColumn {
            micros,
            zoned,
            text: std::sync::OnceLock::new(),
        }
    }

    /// The microseconds at `row`, `None` when null.
    #[inline]
    fn micros(&self, row: usize) -> Option<Instant> {
        match self.micros.chunks().first() {
            Some(_) => self.micros.downcast_as_array().get(row),
            None => None,
        }
    }

    /// The instant `t` of this column as text: RFC 3339 in UTC, clamped
    /// to slt's range (so that an instant past it reads as out of range),
    /// without its `Z` when the column has no time zone.
    fn render(&self, t: Instant) -> String {
        let text = format_rfc3339(t.clamp(MIN_INSTANT, MAX_INSTANT));
        if self.zoned {
            text
        } else {
            // A naive timestamp: no offset, so it will be rejected.
            text.trim_end_matches('Z').to_string()
        }
    }

    /// `t` as an instant of slt's range, when it reads as itself: a
    /// zoned column's value inside `[MIN_INSTANT, MAX_INSTANT)`.
    #[inline]
    fn in_range(&self, t: Instant) -> Option<Instant> {
        (self.zoned && (MIN_INSTANT..MAX_INSTANT).contains(&t)).then_some(t)
    }

    /// The whole column as text, made once.
    fn text(&self) -> &StringChunked {
        self.text.get_or_init(|| {
            StringChunked::from_iter_options(
                self.micros.name().clone(),
                self.micros.iter().map(|t| t.map(|t| self.render(t))),
            )
            .rechunk()
            .into_owned()
        })
    }
}

/// The trimmed values of canonical column `canonical` of `source` (empty
/// as missing), whichever way the table was read; `None` when the table
/// lacks a required column, or the file the column.
pub(crate) fn trimmed_values(
    source: &Source,
    mapping: &Mapping,
    canonical: &str,
) -> Option<Vec<Option<String>>> {
    let columns = Columns::of(source, mapping).ok()?;
    let found = columns.find(canonical).2.is_some();
    let texts = columns.get(canonical);
    found.then(|| {
        (0..source.frame.height())
            .map(|i| texts.get(i).map(str::to_string))
            .collect()
    })
}

/// Why a required column is missing, and what to do: the columns found, a
/// near match, the mapping line that would rename it, or a hint that the
/// file is not comma-separated.
fn missing_column(source: &Source, name: &str, canonical: &str) -> String {
    let found: Vec<&str> = match &source.parsed {
        Some(parsed) => parsed.names.iter().map(String::as_str).collect(),
        None => source
            .frame
            .get_column_names()
            .into_iter()
            .map(|c| c.as_str())
            .filter(|c| *c != BROKEN_COLUMN)
            .collect(),
    };
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
    let table = source.table().name();
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
/// fifth of the peak memory): from a column of text, or from a piece's
/// parsed records ([`Records`]).
#[derive(Clone, Copy)]
pub(crate) enum Texts<'a> {
    /// The column is absent.
    Absent,
    /// A one-chunk string column.
    Column(&'a <StringType as PolarsDataType>::Array),
    /// Column `.1` of parsed records.
    Records(&'a Records, usize),
    /// A typed timestamp column.
    Instants(&'a InstantColumn),
}

impl<'a> Texts<'a> {
    /// The values of a one-chunk string column (see [`text_column`]); a
    /// column without chunks has no rows.
    pub(crate) fn of(ca: &'a StringChunked) -> Texts<'a> {
        if ca.chunks().len() == 1 {
            Texts::Column(ca.downcast_as_array())
        } else {
            Texts::Absent
        }
    }

    /// The value at `row`: `None` when null, blank, or the column is absent.
    /// A typed timestamp column is made text whole the first time (the
    /// judges read its instants with [`Texts::instant`] instead).
    #[inline]
    pub(crate) fn get(&self, row: usize) -> Option<&'a str> {
        let text = match *self {
            Texts::Absent => None,
            Texts::Column(array) => array.get(row),
            Texts::Records(records, column) => Some(records.get(row, column)),
            Texts::Instants(instants) => {
                let text = instants.text();
                let one_chunk = text.chunks().len() == 1;
                one_chunk
                    .then(|| text.downcast_as_array().get(row))
                    .flatten()
            }
        };
        text.map(trim).filter(|s| !s.is_empty())
    }

    /// The value at `row` as an instant, as [`parse_rfc3339`] reads its
    /// text (`None` when there is no value): a typed column's instant in
    /// slt's range is read as itself, without text.
    #[inline]
    pub(crate) fn instant(&self, row: usize) -> Option<Result<Instant, TimestampError>> {
        match *self {
            Texts::Instants(instants) => instants.micros(row).map(|t| match instants.in_range(t) {
                Some(t) => Ok(t),
                None => parse_rfc3339(&instants.render(t)),
            }),
            _ => self.get(row).map(parse_rfc3339),
        }
    }

    /// The value at `row` as an end instant: `None` when there is none or
    /// it is a far-future sentinel ([`is_open_end_sentinel`]), else as
    /// [`Texts::instant`].
    #[inline]
    pub(crate) fn end_instant(&self, row: usize) -> Option<Result<Instant, TimestampError>> {
        match *self {
            Texts::Instants(instants) => {
                let t = instants.micros(row)?;
                match instants.in_range(t) {
                    Some(t) => Some(Ok(t)),
                    None => {
                        let text = instants.render(t);
                        (!is_open_end_sentinel(&text)).then(|| parse_rfc3339(&text))
                    }
                }
            }
            _ => self
                .get(row)
                .filter(|t| !is_open_end_sentinel(t))
                .map(parse_rfc3339),
        }
    }

    /// The value at `row` as a reject shows it: [`Texts::get`]'s text, a
    /// typed column's value made text for that row alone.
    pub(crate) fn value(&self, row: usize) -> Option<Cow<'a, str>> {
        match *self {
            Texts::Instants(instants) => {
                instants.micros(row).map(|t| Cow::Owned(instants.render(t)))
            }
            _ => self.get(row).map(Cow::Borrowed),
        }
    }

    /// Appends what tells row `row`'s value from another row's of the same
    /// column to `buffer`: a missing value, the text, or a typed column's
    /// instant as it reads (clamped to slt's range, as its text is), each
    /// told from the others by a first byte.
    pub(crate) fn identify(&self, row: usize, buffer: &mut Vec<u8>) {
        match *self {
            Texts::Instants(instants) => match instants.micros(row) {
                None => buffer.push(0),
                Some(t) => {
                    buffer.push(2);
                    let t = t.clamp(MIN_INSTANT, MAX_INSTANT);
                    buffer.extend_from_slice(&t.to_le_bytes());
                }
            },
            _ => match self.get(row) {
                None => buffer.push(0),
                Some(v) => {
                    buffer.push(1);
                    buffer.extend_from_slice(&(v.len() as u64).to_le_bytes());
                    buffer.extend_from_slice(v.as_bytes());
                }
            },
        }
    }
}

/// `text` without leading and trailing whitespace, as [`str::trim`]; most
/// values have none, which two byte tests tell without decoding them.
#[inline]
fn trim(text: &str) -> &str {
    if solid_ends(text.as_bytes()) {
        text
    } else {
        text.trim()
    }
}

/// Whether `bytes` begin and end with printable ASCII: a byte that is a
/// whole character and not whitespace, so nothing to trim (and no quote
/// or line break of the file's around them).
#[inline]
pub(super) fn solid_ends(bytes: &[u8]) -> bool {
    let solid = |b: &u8| *b > b' ' && *b < 0x80;
    bytes.first().is_some_and(solid) && bytes.last().is_some_and(solid)
}

/// Why each row could not be read at all (ragged CSV rows, NDJSON lines
/// that are not JSON): the hidden column the readers add when any row is.
pub(crate) fn unreadable(source: &Source) -> Texts<'_> {
    source
        .frame
        .column(BROKEN_COLUMN)
        .ok()
        .and_then(|c| c.str().ok())
        .map_or(Texts::Absent, Texts::of)
}

/// The canonical columns of one table, resolved through the mapping: a
/// missing required column is an error (naming what was found), a missing
/// optional one has no values.
pub(crate) struct Columns {
    table: Table,
    /// Canonical name, name in the file, values.
    columns: Vec<(&'static str, String, Option<Values>)>,
}

/// Where a column's values are.
enum Values {
    /// A column of text.
    Column(StringChunked),
    /// A column of parsed records.
    Records(Arc<Records>, usize),
    /// A typed timestamp column.
    Instants(InstantColumn),
}

impl Columns {
    /// No column at all: what is left of a table once it is judged and its
    /// text let go (never looked up again).
    pub(crate) fn released(table: Table) -> Columns {
        Columns {
            table,
            columns: Vec::new(),
        }
    }

    /// Resolves every canonical column of `source`'s table.
    pub(crate) fn of(source: &Source, mapping: &Mapping) -> Result<Columns> {
        if let Some(parsed) = &source.parsed {
            return Columns::resolve(source, mapping, |canonical, name, required| {
                match parsed.names.iter().position(|n| n == name) {
                    Some(at) => Ok(Some(Values::Records(Arc::clone(&parsed.records), at))),
                    None if required => Err(Error::Input {
                        path: source.path().into(),
                        reason: missing_column(source, name, canonical),
                    }),
                    None => Ok(None),
                }
            });
        }
        Columns::resolve(source, mapping, |canonical, _, required| {
            column_values(source, mapping, canonical, required)
        })
    }

    /// Resolves every canonical column of `source`'s table in `records`, a
    /// piece of its file whose header names its columns `names` (the
    /// header was checked when the file was opened: a required column
    /// missing here is the file's header changing, an error all the same).
    pub(crate) fn of_records(
        source: &Source,
        mapping: &Mapping,
        records: &Arc<Records>,
        names: &[String],
    ) -> Result<Columns> {
        Columns::resolve(source, mapping, |_, name, required| {
            match names.iter().position(|n| n == name) {
                Some(at) => Ok(Some(Values::Records(Arc::clone(records), at))),
                None if required => Err(Error::Input {
                    path: source.path().into(),
                    reason: format!("missing column `{name}` in the header row"),
                }),
                None => Ok(None),
            }
        })
    }

    /// Every canonical column of `source`'s table, named through the
    /// mapping, its values found by `values` (canonical name, name in the
    /// file, whether required).
    fn resolve(
        source: &Source,
        mapping: &Mapping,
        values: impl Fn(&str, &str, bool) -> Result<Option<Values>>,
    ) -> Result<Columns> {
        let table = source.table();
        let columns = table
            .columns()
            .iter()
            .map(|c| {
                let name = mapping.source_column(table.name(), c.name()).to_string();
                let found = values(c.name(), &name, c.required())?;
                Ok((c.name(), name, found))
            })
            .collect::<Result<_>>()?;
        Ok(Columns { table, columns })
    }

    fn find(&self, canonical: &str) -> &(&'static str, String, Option<Values>) {
        self.columns
            .iter()
            .find(|(c, _, _)| *c == canonical)
            .unwrap_or_else(|| panic!("`{canonical}` is not a column of {:?}", self.table))
    }

    /// The values of `canonical` (none when the file lacks the column).
    pub(crate) fn get(&self, canonical: &str) -> Texts<'_> {
        match &self.find(canonical).2 {
            None => Texts::Absent,
            Some(Values::Column(ca)) => Texts::of(ca),
            Some(Values::Records(records, at)) => Texts::Records(records, *at),
            Some(Values::Instants(instants)) => Texts::Instants(instants),
        }
    }

    /// The name of `canonical` in the file, for rejects (as the mapping
    /// names it, when an optional column is absent).
    pub(crate) fn name(&self, canonical: &str) -> &str {
        &self.find(canonical).1
    }
}

#[cfg(test)]
mod tests {
    use super::trim;

    #[test]
    fn trimming_agrees_with_the_standard_trim_on_every_kind_of_edge() {
        let edges = [
            "",
            " ",
            "a",
            "ab",
            " a",
            "a ",
            "\ta\r",
            "\u{b}a",
            "a\u{b}",
            "\u{c}x\u{c}",
            "\u{a0}a",
            "a\u{a0}",
            "\u{3000}é\u{3000}",
            "é",
            "éa",
            "aé",
            "\u{85}a",
            "a\u{2028}",
            "\u{7f}a\u{7f}",
            "\u{1c}a\u{1f}",
            " \u{a0} ",
        ];
        for text in edges {
            assert_eq!(trim(text), text.trim(), "{text:?}");
        }
    }
}
