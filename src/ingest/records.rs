//! A piece of a CSV table read in pieces ([`super::stream`]) parsed
//! straight into the text of its fields: no DataFrame of text is built for
//! the cases and events, the largest tables. A piece reads as the
//! record-by-record reader of [`super::read`] reads a file (the `csv`
//! crate's state machine, [`csv_core`]), so a row reads the same whichever
//! reader meets it: blank lines are no rows; a row with another number of
//! fields than the header, or a value whose bytes are not UTF-8, is
//! unreadable and says why (`CODE<TAB>DETAIL`, as
//! [`super::read::BROKEN_COLUMN`] holds it).
//!
//! Most pieces hold no quote and are UTF-8 throughout: there a record is
//! a line (`\n`, `\r\n` or `\r`) and a field what lies between commas, so
//! the piece is cut at line ends into parts of about [`PART_BYTES`] split
//! side by side, each value read in place in the piece's text. A piece
//! with a quote, or bytes that are not UTF-8, goes through the state
//! machine: in parts cut at line ends where the quotes before are even,
//! side by side, if each part but the last then ends with a whole record;
//! otherwise (a stray quote inside a value threw the count off) in one
//! part, from its header row, as the file is read.
//!
//! The state machine takes a byte at a time: on an export that quotes
//! every value it was the largest single cost of a run. So a part in the
//! strict form most quoting writers produce ([`parse_strict`]: each value
//! either unquoted and quote-free, or wholly quoted with `""` for a quote;
//! every row as wide as the header; UTF-8) is read value by value with
//! `memchr`, and only a part that strays from it goes through the state
//! machine. Both read such a part the same: a property test holds them to it.

use std::sync::Arc;

use csv_core::{ReadRecordResult, Reader};
use rayon::prelude::*;

/// Bytes of a piece parsed on one thread, about (cut at a line end).
pub(crate) const PART_BYTES: usize = 1 << 20;

/// Rows of CSV as text: per row, each header column's value (none when
/// the row lacks the field or its bytes are not UTF-8).
#[derive(Debug, Default)]
pub(crate) struct Records {
    /// The values' text: the piece's (shared by its parts) or, for a piece
    /// read by the state machine, every readable value one after another.
    text: Arc<String>,
    /// Per row, per header column: the value's range in `text`.
    spans: Spans,
    /// Columns (the header's fields).
    width: usize,
    /// Rows that cannot be read, and why (`CODE<TAB>DETAIL`), in row order.
    broken: Vec<(usize, String)>,
}

impl Records {
    /// Rows.
    pub(crate) fn len(&self) -> usize {
        self.spans.len().checked_div(self.width).unwrap_or(0)
    }

    /// The value of column `column` at `row`, untrimmed (`""` when absent).
    #[inline]
    pub(crate) fn get(&self, row: usize, column: usize) -> &str {
        let (start, end) = self.spans.get(row * self.width + column);
        &self.text[start..end]
    }

    /// Row `row`'s text from its first value to its last, when that text
    /// is its values (trimmed, blank as none) joined by commas: each value
    /// right after the comma that ends the one before, and none beginning
    /// or ending with a byte that is not printable ASCII (so nothing to
    /// trim, no quote or line break around it). `None` for any other row.
    #[inline]
    pub(crate) fn joined(&self, row: usize) -> Option<&str> {
        let bytes = self.text.as_bytes();
        let plain = |(s, e): (usize, usize)| s == e || super::text::solid_ends(&bytes[s..e]);
        if self.width == 0 {
            return None;
        }
        let first = row * self.width;
        let (start, mut end) = self.spans.get(first);
        if !plain((start, end)) {
            return None;
        }
        for column in 1..self.width {
            let (s, e) = self.spans.get(first + column);
            if s != end + 1 || bytes[end] != b',' || !plain((s, e)) {
                return None;
            }
            end = e;
        }
        Some(&self.text[start..end])
    }

    /// Columns (the header's fields).
    pub(crate) fn width(&self) -> usize {
        self.width
    }

    /// The rows that cannot be read, and why, in row order.
    pub(crate) fn broken(&self) -> &[(usize, String)] {
        &self.broken
    }

    /// The parts of one piece ([`parse`]) as one run of rows, in order:
    /// parts that share the piece's text keep it, others' texts are put
    /// one after another.
    pub(crate) fn concat(parts: Vec<Records>) -> Records {
        let spans = parts.iter().map(|p| p.spans.len()).sum::<usize>();
        let mut parts = parts.into_iter();
        let Some(mut all) = parts.next() else {
            return Records::default();
        };
        all.spans.reserve_exact(spans - all.spans.len());
        let mut text: Option<String> = None;
        for part in parts {
            let rows = all.len();
            let offset = if Arc::ptr_eq(&part.text, &all.text) {
                0
            } else {
                let joined = text.get_or_insert_with(|| all.text.as_str().to_owned());
                let at = joined.len();
                joined.push_str(&part.text);
                at
            };
            all.spans.extend_shifted(&part.spans, offset);
            all.broken
                .extend(part.broken.into_iter().map(|(row, why)| (row + rows, why)));
        }
        if let Some(text) = text {
            all.text = Arc::new(text);
        }
        all
    }
}

/// Where each value of a [`Records`] lies in its text, start and end:
/// as `u32` while the text is under 4 GiB, as `usize` past that. The
/// spans are most of the memory of a table read whole (6.1 M engagements
/// of six columns: 585 MB of `usize` pairs, written when parsed and again
/// when the parts are joined, for 446 MB of text); as `u32`, half that.
#[derive(Debug)]
enum Spans {
    /// Every offset under 2^32.
    Narrow(Vec<[u32; 2]>),
    /// Some offset is not.
    Wide(Vec<[usize; 2]>),
}

impl Default for Spans {
    fn default() -> Self {
        Spans::Narrow(Vec::new())
    }
}

impl Spans {
    /// Room for `n` spans.
    fn with_capacity(n: usize) -> Spans {
        Spans::Narrow(Vec::with_capacity(n))
    }

    fn len(&self) -> usize {
        match self {
            Spans::Narrow(v) => v.len(),
            Spans::Wide(v) => v.len(),
        }
    }

    /// Span `i`.
    #[inline]
    fn get(&self, i: usize) -> (usize, usize) {
        match self {
            Spans::Narrow(v) => {
                let [s, e] = v[i];
                (s as usize, e as usize)
            }
            Spans::Wide(v) => {
                let [s, e] = v[i];
                (s, e)
            }
        }
    }

    /// Adds a span, made wide first if an offset needs it.
    #[inline]
    fn push(&mut self, start: usize, end: usize) {
        match self {
            Spans::Narrow(v) => match (u32::try_from(start), u32::try_from(end)) {
                (Ok(s), Ok(e)) => v.push([s, e]),
                _ => {
                    self.widen();
                    self.push(start, end);
                }
            },
            Spans::Wide(v) => v.push([start, end]),
        }
    }

    /// Every offset as `usize`.
    fn widen(&mut self) {
        if let Spans::Narrow(v) = self {
            let wide = v.iter().map(|&[s, e]| [s as usize, e as usize]).collect();
            *self = Spans::Wide(wide);
        }
    }

    fn reserve_exact(&mut self, n: usize) {
        match self {
            Spans::Narrow(v) => v.reserve_exact(n),
            Spans::Wide(v) => v.reserve_exact(n),
        }
    }

    /// Adds `other`'s spans, each moved `offset` bytes on.
    fn extend_shifted(&mut self, other: &Spans, offset: usize) {
        for i in 0..other.len() {
            let (s, e) = other.get(i);
            self.push(s + offset, e + offset);
        }
    }

    /// Every span.
    fn iter(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        (0..self.len()).map(|i| self.get(i))
    }
}

/// The column names of `header` (the header row), as the record reader
/// names them: trimmed, bytes that are not UTF-8 replaced.
pub(crate) fn header(header: &[u8]) -> Vec<String> {
    let mut reader = Reader::new();
    let mut out = vec![0u8; header.len() + 1];
    let mut ends = vec![0usize; 64];
    let (mut nin, mut nout, mut nend) = (0, 0, 0);
    loop {
        let (result, i, o, e) =
            reader.read_record(&header[nin..], &mut out[nout..], &mut ends[nend..]);
        (nin, nout, nend) = (nin + i, nout + o, nend + e);
        match result {
            ReadRecordResult::InputEmpty => {}
            ReadRecordResult::OutputFull => out.resize(out.len() * 2 + 1, 0),
            ReadRecordResult::OutputEndsFull => ends.resize(ends.len() * 2, 0),
            ReadRecordResult::Record | ReadRecordResult::End => break,
        }
    }
    let mut start = 0;
    ends[..nend]
        .iter()
        .map(|&end| {
            let name = String::from_utf8_lossy(&out[start..end]).trim().to_string();
            start = end;
            name
        })
        .collect()
}

/// The records of `piece` (its header row of `header` bytes, then whole
/// records), each read against the header's `names`, in file order.
pub(crate) fn parse(piece: Vec<u8>, header: usize, names: &[String]) -> Vec<Records> {
    parse_in(piece, header, names, PART_BYTES)
}

/// [`parse`] for a piece that is a whole table: in as few parts as there
/// are threads to parse them (fewer, larger parts: they are joined into
/// one run of rows afterwards, [`Records::concat`], which copies all but
/// the first).
pub(crate) fn parse_whole(piece: Vec<u8>, header: usize, names: &[String]) -> Vec<Records> {
    let every = (piece.len() / rayon::current_num_threads().max(1) + 1).max(PART_BYTES);
    parse_in(piece, header, names, every)
}

/// [`parse`], parts cut after every `every` bytes.
fn parse_in(piece: Vec<u8>, header: usize, names: &[String], every: usize) -> Vec<Records> {
    let header = header.min(piece.len());
    let piece = if memchr::memchr(b'"', &piece[header..]).is_none() {
        match String::from_utf8(piece) {
            Ok(text) => return split(Arc::new(text), header, names, every),
            Err(e) => e.into_bytes(),
        }
    } else {
        piece
    };
    // Cut where the quotes so far are even: a line end outside quotes when
    // the quoting is well formed. Each part but the last must then end
    // with a whole record; if one ends inside a quoted value instead (a
    // quote inside an unquoted value, read as a character, threw the
    // count off), the piece is read in one part.
    let body = &piece[header..];
    let ends = quoted_part_ends(body, every);
    if ends.len() > 1 {
        let starts = std::iter::once(0).chain(ends.iter().copied());
        let bounds: Vec<(usize, usize)> = starts.zip(ends.iter().copied()).collect();
        let parts: Vec<(Records, bool)> = bounds
            .into_par_iter()
            .map(|(start, end)| {
                let part = &body[start..end];
                parse_strict(part, names).unwrap_or_else(|| parse_part(part, 0, names))
            })
            .collect();
        if parts[..parts.len() - 1].iter().all(|(_, whole)| *whole) {
            return parts.into_iter().map(|(records, _)| records).collect();
        }
    } else if let Some((records, _)) = parse_strict(body, names) {
        return vec![records];
    }
    vec![parse_part(&piece, header, names).0]
}

/// Where the parts of `body` (which holds quotes) may end: at the first
/// line end after every `every` bytes where the quotes before it are
/// even, never before a byte order mark (a part's reader would drop it),
/// the last at the end of `body`. The quotes of each stretch are counted
/// in bulk; only the way from its end to the next line end is walked.
fn quoted_part_ends(body: &[u8], every: usize) -> Vec<usize> {
    let quotes = |bytes: &[u8]| bytes.iter().filter(|&&b| b == b'"').count();
    let mut ends = Vec::new();
    // Whether the quotes in `body[..at]` are odd.
    let (mut odd, mut at) = (false, 0);
    while at + every < body.len() {
        odd ^= quotes(&body[at..at + every]) % 2 == 1;
        at += every;
        while at < body.len() {
            let b = body[at];
            at += 1;
            if b == b'"' {
                odd = !odd;
            } else if b == b'\n' && !odd {
                if at < body.len() && !body[at..].starts_with(BOM) {
                    ends.push(at);
                }
                break;
            }
        }
    }
    ends.push(body.len());
    ends
}

/// The UTF-8 byte order mark, which a reader drops at the start of its input.
const BOM: &[u8] = b"\xef\xbb\xbf";

/// The records of a quote-free `text` after its header row (`header`
/// bytes), in parts side by side.
fn split(text: Arc<String>, header: usize, names: &[String], every: usize) -> Vec<Records> {
    let ends = part_ends(&text.as_bytes()[header..], every);
    let starts = std::iter::once(0).chain(ends.iter().copied());
    let parts: Vec<(usize, usize)> = starts.zip(ends.iter().copied()).collect();
    parts
        .into_par_iter()
        .map(|(start, end)| split_part(&text, header + start, header + end, names))
        .collect()
}

/// Where the parts of `body` end: at the first line end after every
/// `every` bytes, the last at the end of `body`.
fn part_ends(body: &[u8], every: usize) -> Vec<usize> {
    let mut ends = Vec::new();
    let mut from = every;
    while from < body.len() {
        let Some(p) = memchr::memchr(b'\n', &body[from..]) else {
            break;
        };
        let end = from + p + 1;
        if end < body.len() {
            ends.push(end);
        }
        from = end + every;
    }
    ends.push(body.len());
    ends
}

/// The records of `text[start..end]` (quote-free, whole lines): each
/// non-empty line a record, its fields between commas.
fn split_part(text: &Arc<String>, start: usize, end: usize, names: &[String]) -> Records {
    let bytes = &text.as_bytes()[..end];
    let width = names.len().max(1);
    let mut records = Records {
        text: Arc::clone(text),
        width,
        spans: Spans::with_capacity((end - start) / 8),
        broken: Vec::new(),
    };
    let mut at = start;
    loop {
        while at < end && matches!(bytes[at], b'\n' | b'\r') {
            at += 1;
        }
        if at >= end {
            break;
        }
        let row = records.len();
        let mut fields = 0;
        let mut from = at;
        loop {
            let stop = memchr::memchr3(b',', b'\n', b'\r', &bytes[at..]).map_or(end, |p| at + p);
            if fields < width {
                records.spans.push(from, stop);
            }
            fields += 1;
            at = stop;
            if stop < end && bytes[stop] == b',' {
                at += 1;
                from = at;
            } else {
                break;
            }
        }
        for _ in fields..width {
            records.spans.push(0, 0);
        }
        if fields != names.len() {
            records.broken.push((row, ragged(fields, names.len())));
        }
    }
    records
}

/// How a value of a part in the strict form ends ([`strict_value`]).
enum Value {
    /// At this byte: a comma, a line end, or the end of the bytes.
    EndsAt(usize),
    /// Inside a quoted value the end of the bytes leaves open.
    Open,
    /// Not in the strict form: a quote inside an unquoted value, or
    /// anything but a comma or a line end after a closing quote.
    Stray,
}

/// The value starting at `at` of `bytes`, read in the strict form: its
/// bytes (unquoted, `""` read as `"`) added to `out` when given. With
/// `complete`, the bytes end where the input does, so a quote as the last
/// byte closes its value; otherwise more may follow and it is left open.
#[inline]
fn strict_value(
    bytes: &[u8],
    mut at: usize,
    mut out: Option<&mut Vec<u8>>,
    complete: bool,
) -> Value {
    if bytes.get(at) != Some(&b'"') {
        let rest = &bytes[at.min(bytes.len())..];
        let stop = memchr::memchr3(b',', b'\n', b'\r', rest).unwrap_or(rest.len());
        if memchr::memchr(b'"', &rest[..stop]).is_some() {
            return Value::Stray;
        }
        if let Some(out) = out {
            out.extend_from_slice(&rest[..stop]);
        }
        return Value::EndsAt(at + stop);
    }
    at += 1;
    loop {
        let Some(p) = memchr::memchr(b'"', &bytes[at..]) else {
            return Value::Open;
        };
        if let Some(out) = out.as_deref_mut() {
            out.extend_from_slice(&bytes[at..at + p]);
        }
        at += p + 1;
        match bytes.get(at) {
            Some(b'"') => {
                if let Some(out) = out.as_deref_mut() {
                    out.push(b'"');
                }
                at += 1;
            }
            Some(b',' | b'\n' | b'\r') => return Value::EndsAt(at),
            None if complete => return Value::EndsAt(at),
            None => return Value::Open,
            Some(_) => return Value::Stray,
        }
    }
}

/// The records of `bytes` (whole records, no header row) read value by
/// value when the part is in the strict form: no byte order mark at its
/// start (the state machine would drop it), each value unquoted and
/// quote-free or wholly quoted, every row as wide as the header, every
/// value UTF-8. Then it reads exactly as [`parse_part`] reads it, and
/// whether its last record ended before the bytes did; `None` otherwise.
fn parse_strict(bytes: &[u8], names: &[String]) -> Option<(Records, bool)> {
    if names.is_empty() || bytes.starts_with(BOM) {
        return None;
    }
    let width = names.len();
    let mut out = Vec::with_capacity(bytes.len());
    let mut spans = Spans::with_capacity(bytes.len() / 8);
    let (mut at, mut whole) = (0, true);
    loop {
        while at < bytes.len() && matches!(bytes[at], b'\n' | b'\r') {
            at += 1;
        }
        if at >= bytes.len() {
            break;
        }
        let mut fields = 0;
        loop {
            let start = out.len();
            let Value::EndsAt(stop) = strict_value(bytes, at, Some(&mut out), true) else {
                return None;
            };
            fields += 1;
            if fields > width {
                return None;
            }
            spans.push(start, out.len());
            at = stop;
            if bytes.get(at) == Some(&b',') {
                at += 1;
            } else {
                whole = at < bytes.len();
                break;
            }
        }
        if fields != width {
            return None;
        }
    }
    let text = String::from_utf8(out).ok()?;
    // A character cut by a comma is valid across the two values, not in each.
    if !spans
        .iter()
        .all(|(s, e)| text.is_char_boundary(s) && text.is_char_boundary(e))
    {
        return None;
    }
    let records = Records {
        text: Arc::new(text),
        spans,
        width,
        broken: Vec::new(),
    };
    Some((records, whole))
}

/// The end (one past its line feed) of the last record of `bytes` (which
/// starts at a record's start, no header row) ended by a line feed, as
/// the state machine finds it, when `bytes` is in the strict form of
/// [`parse_strict`] up to where it stops (the last record may be cut
/// anywhere); `None` when it is not, and the state machine must look.
pub(crate) fn last_strict_record_end(bytes: &[u8]) -> Option<Option<usize>> {
    if bytes.starts_with(BOM) {
        return None;
    }
    let (mut at, mut last) = (0, None);
    loop {
        while at < bytes.len() && matches!(bytes[at], b'\n' | b'\r') {
            at += 1;
        }
        if at >= bytes.len() {
            return Some(last);
        }
        loop {
            let stop = match strict_value(bytes, at, None, false) {
                Value::Stray => return None,
                Value::Open => return Some(last),
                Value::EndsAt(stop) => stop,
            };
            match bytes.get(stop) {
                None => return Some(last),
                Some(b',') => at = stop + 1,
                Some(b'\n') => {
                    (last, at) = (Some(stop + 1), stop + 1);
                    break;
                }
                Some(_) if bytes.get(stop + 1) == Some(&b'\n') => {
                    (last, at) = (Some(stop + 2), stop + 2);
                    break;
                }
                Some(_) => {
                    at = stop + 1;
                    break;
                }
            }
        }
    }
}

/// Why a row with `fields` fields is unreadable under a header of `width`.
fn ragged(fields: usize, width: usize) -> String {
    format!("ragged_row\t{fields} fields, the header has {width}")
}

/// Reads every record of `bytes` (a header row of `header` bytes, then
/// records) against the header's `names` with the state machine, as the
/// file is read; and whether the last record ended before the input did
/// (not inside a quoted value the end of the input closed).
fn parse_part(bytes: &[u8], header: usize, names: &[String]) -> (Records, bool) {
    let width = names.len().max(1);
    let mut reader = Reader::new();
    let mut out = vec![0u8; bytes.len() + 1];
    let mut ends = vec![0usize; width + 1];
    let mut records = Records {
        width,
        spans: Spans::with_capacity(bytes.len() / 8),
        ..Records::default()
    };
    // Where the record being read starts in `out`, bytes of it so far,
    // fields of it so far, input read.
    let (mut start, mut len, mut fields, mut nin) = (0, 0, 0, 0);
    let mut whole = true;
    loop {
        // The reader takes no input as the end of it: a record it ends
        // then was ended by the input's end, not a line end.
        let at_end = nin >= bytes.len();
        let (result, i, o, e) =
            reader.read_record(&bytes[nin..], &mut out[start + len..], &mut ends[fields..]);
        (nin, len, fields) = (nin + i, len + o, fields + e);
        match result {
            ReadRecordResult::InputEmpty => {}
            ReadRecordResult::OutputFull => out.resize(out.len() * 2 + 1, 0),
            ReadRecordResult::OutputEndsFull => ends.resize(ends.len() * 2, 0),
            // The header row (a record ended by `\r\n` is reported at its `\r`).
            ReadRecordResult::Record if nin <= header => (len, fields) = (0, 0),
            ReadRecordResult::Record => {
                whole &= !at_end;
                start = records.add(&mut out, start, &ends[..fields], names);
                (len, fields) = (0, 0);
            }
            ReadRecordResult::End => break,
        }
    }
    out.truncate(start);
    records.text = Arc::new(String::from_utf8(out).expect("only UTF-8 values are kept"));
    (records, whole)
}

impl Records {
    /// Adds the record whose text starts at `out[start]`, its fields ending
    /// at `ends` (from `start`): its values in the header's columns, as the
    /// record reader reads them ([`super::read`]). Returns where its kept
    /// text ends: the values of columns past the header's, and any that are
    /// not UTF-8, are dropped from `out`.
    fn add(&mut self, out: &mut [u8], start: usize, ends: &[usize], names: &[String]) -> usize {
        let row = self.len();
        let width = self.width;
        let mut why = None;
        if ends.len() != names.len() {
            why = Some(ragged(ends.len(), names.len()));
        }
        let fields = ends.len().min(width);
        let kept = if fields == 0 { 0 } else { ends[fields - 1] };
        let field = |c: usize| (if c == 0 { 0 } else { ends[c - 1] }, ends[c]);
        if let Ok(text) = std::str::from_utf8(&out[start..start + kept]) {
            if (0..fields).all(|c| text.is_char_boundary(field(c).0)) {
                for c in 0..width {
                    let (s, e) = if c < fields { field(c) } else { (0, 0) };
                    self.spans.push(start + s, start + e);
                }
                self.finish(row, why);
                return start + kept;
            }
        }
        // Some value is not UTF-8: keep the others, moved up over it.
        let mut end = start;
        for c in 0..width {
            let (s, e) = if c < fields { field(c) } else { (0, 0) };
            if std::str::from_utf8(&out[start + s..start + e]).is_ok() {
                out.copy_within(start + s..start + e, end);
                self.spans.push(end, end + e - s);
                end += e - s;
            } else {
                let name = names.get(c).map_or("", String::as_str);
                why.get_or_insert_with(|| format!("not_utf8\t{name}"));
                self.spans.push(end, end);
            }
        }
        self.finish(row, why);
        end
    }

    fn finish(&mut self, row: usize, why: Option<String>) {
        if let Some(why) = why {
            self.broken.push((row, why));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::read::{read_frame_chunked, Format, BROKEN_COLUMN};
    use proptest::prelude::*;

    /// Every row's values (trimmed, blank as none) and why it is broken,
    /// as the records read them, quote-free parts cut after every `every`
    /// bytes.
    fn as_records(csv: &[u8], every: usize) -> Vec<(Vec<Option<String>>, Option<String>)> {
        let h = crate::ingest::stream::first_record_end(csv).unwrap_or(csv.len());
        let names = header(&csv[..h]);
        let mut rows = Vec::new();
        for records in parse_in(csv.to_vec(), h, &names, every) {
            for row in 0..records.len() {
                let values = (0..names.len())
                    .map(|c| Some(records.get(row, c).trim().to_string()).filter(|v| !v.is_empty()))
                    .collect();
                rows.push((values, broken_at(&records, row)));
            }
        }
        rows
    }

    /// [`as_records`], the parts joined into one run of rows first.
    fn as_joined(csv: &[u8], every: usize) -> Vec<(Vec<Option<String>>, Option<String>)> {
        let h = crate::ingest::stream::first_record_end(csv).unwrap_or(csv.len());
        let names = header(&csv[..h]);
        let records = Records::concat(parse_in(csv.to_vec(), h, &names, every));
        (0..records.len())
            .map(|row| {
                let values = (0..names.len())
                    .map(|c| Some(records.get(row, c).trim().to_string()).filter(|v| !v.is_empty()))
                    .collect();
                (values, broken_at(&records, row))
            })
            .collect()
    }

    /// The same, as a whole file is read into a frame (its columns in
    /// header order; polars keeps a header name's spaces, which the
    /// reading of the header, done once per file, judges).
    fn as_frame(csv: &[u8]) -> Vec<(Vec<Option<String>>, Option<String>)> {
        let frame = read_frame_chunked(csv, Format::Csv).unwrap();
        let text = |column: &polars::prelude::Column, row: usize| {
            column
                .str()
                .unwrap()
                .get(row)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let columns: Vec<_> = frame
            .columns()
            .iter()
            .filter(|c| c.name().as_str() != BROKEN_COLUMN)
            .collect();
        let broken = frame.column(BROKEN_COLUMN).ok();
        (0..frame.height())
            .map(|row| {
                let values = columns.iter().map(|c| text(c, row)).collect();
                (values, broken.and_then(|b| text(b, row)))
            })
            .collect()
    }

    #[test]
    fn a_piece_reads_as_the_whole_file_is_read_into_a_frame_in_parts_or_joined() {
        // (A one-column file is left out: polars reads its blank lines as
        // empty rows. The cases and events have several required columns.)
        let files: [&[u8]; 22] = [
            b"a,b\n1,2\n3,4\n",
            b"a,b\n1,2\n3,4",
            b"a,b\r\n1,2\r\n3,4\r\n",
            b"\xef\xbb\xbfa,b\n1,2\n",
            b"a,b\n1,2\n\n\n3,4\n",
            b"a,b\n\"x,y\",\"q\"\"r\"\n\"line\nbreak\",z\n",
            b"a,b\n1,2,3\n4\n5,6\n",
            b"a,b\n1,\xff\n\xfe,2\n3,4\n",
            b"a,b\n  1 , 2 \n,\n",
            b"a,b\n1,\"\"\n\"\",2\n",
            b"a,b\n\xc3\xa9,\xe2\x82\xac\n",
            b"a,b\n1,2\r\n3,4\n",
            b" a , b \n1,2\n",
            b"a,b,c\n1,2\n3,4,5,6\n7,8,9\n",
            b"a,b\nx\"y,z\n",
            b"a,b\n\xef\xbb\xbfx,1\n2,3\n",
            b"a,b\n\xef\xbb\xbf\"x\",1\n",
            b"a,b\n1,2\r3,4\n",
            b"a,b\n1,2\r\r\n,\n",
            b"a,b\n1,\"2\"\n\xef\xbb\xbf3,4\n",
            b"a,b\nx\"y,1\n2,3\n\"q\nr\",4\n5,6\n",
            b"a,b\n\"1\",\"x\r\ny\"\r\n\"2\",\"\"\"\"\r\n3,\"\"\n",
        ];
        for csv in files {
            let whole = as_frame(csv);
            for part in [1, 2, 3, 5, 1 << 20] {
                assert_eq!(
                    as_records(csv, part),
                    whole,
                    "{:?}, parts of {part}",
                    String::from_utf8_lossy(csv)
                );
                assert_eq!(
                    as_joined(csv, part),
                    whole,
                    "{:?}, parts of {part} joined",
                    String::from_utf8_lossy(csv)
                );
            }
        }
    }

    #[test]
    fn spans_past_four_gibibytes_are_kept_whole_and_earlier_ones_too() {
        let far = u32::MAX as usize + 7;
        let mut spans = Spans::with_capacity(2);
        spans.push(3, 5);
        assert!(matches!(spans, Spans::Narrow(_)));
        spans.push(far, far + 2);
        let mut joined = Spans::default();
        joined.extend_shifted(&Spans::Narrow(vec![[1, 2]]), 0);
        joined.extend_shifted(&spans, u32::MAX as usize);
        assert_eq!(spans.iter().collect::<Vec<_>>(), [(3, 5), (far, far + 2)]);
        let shift = u32::MAX as usize;
        assert_eq!(
            joined.iter().collect::<Vec<_>>(),
            [
                (1, 2),
                (shift + 3, shift + 5),
                (shift + far, shift + far + 2)
            ]
        );
    }

    #[test]
    fn a_value_split_inside_a_character_is_not_utf8() {
        // `é` is C3 A9: the two fields' bytes make a valid whole, not two
        // valid values.
        let names = header(b"a,b\n");
        let (records, whole) = parse_part(b"a,b\n\xc3,\xa9\n", 4, &names);
        assert!(whole);
        assert_eq!(records.broken(), &[(0, "not_utf8\ta".to_string())]);
        assert_eq!((records.get(0, 0), records.get(0, 1)), ("", ""));
    }

    #[test]
    fn parts_end_at_line_ends() {
        assert_eq!(part_ends(b"1,2\n3,4\n", 1), vec![4, 8]);
        assert_eq!(part_ends(b"1,2\n3,4\n", 100), vec![8]);
        assert_eq!(part_ends(b"1,2\r\n3,4", 1), vec![5, 8]);
        assert_eq!(part_ends(b"", 1), vec![0]);
    }

    #[test]
    fn quoted_parts_end_where_the_quotes_are_even() {
        assert_eq!(quoted_part_ends(b"\"a\nb\",1\n2,3\n", 1), vec![8, 12]);
        assert_eq!(quoted_part_ends(b"\"a\"\"\nb\",1\n", 1), vec![10]);
        assert_eq!(
            quoted_part_ends(b"1,\"x\"\n\xef\xbb\xbf2,3\n4\n", 1),
            vec![13, 15]
        );
    }

    #[test]
    fn a_part_that_ends_inside_a_quoted_value_is_not_whole() {
        let names = header(b"a,b\n");
        assert!(parse_part(b"1,\"x\"\n", 0, &names).1);
        assert!(parse_part(b"1,\"x\"\r\n", 0, &names).1);
        assert!(!parse_part(b"1,\"x\n", 0, &names).1);
        // A last record without a line end is ended by the input's end.
        assert!(!parse_part(b"1,2", 0, &names).1);
    }

    /// Why row `row` of `records` is broken, if it is.
    fn broken_at(records: &Records, row: usize) -> Option<String> {
        let found = records.broken().iter().find(|(r, _)| *r == row);
        found.map(|(_, why)| why.clone())
    }

    /// Every row's values (untrimmed) and why it is broken, and whether
    /// the last record ended before the bytes did.
    type Read = (Vec<(Vec<String>, Option<String>)>, bool);

    fn rows_of((records, whole): (Records, bool)) -> Read {
        let rows = (0..records.len())
            .map(|row| {
                let values = (0..records.width)
                    .map(|c| records.get(row, c).to_string())
                    .collect();
                (values, broken_at(&records, row))
            })
            .collect();
        (rows, whole)
    }

    /// Bytes that make CSV interesting: quotes, commas, every line end,
    /// a byte order mark, a character cut in two, bytes that are not UTF-8.
    const CSV_BYTES: &[u8] = b"a,\"\"\n\r\xef\xbb\xbf\xc3\xa9\xff";

    /// A value as a writer would quote it (or not), now and then strayed:
    /// mostly UTF-8, now and then a byte order mark, half a character or
    /// a byte that is not UTF-8.
    fn value() -> impl Strategy<Value = Vec<u8>> {
        let piece = prop_oneof![
            8 => prop::sample::select(vec![&b"a"[..], b",", b"\"", b"\n", b"\r", "\u{e9}".as_bytes()]),
            2 => prop::sample::select(vec![&b"\xef\xbb\xbf"[..], b"\xc3", b"\xa9", b"\xff"]),
        ];
        let text = prop::collection::vec(piece, 0..6).prop_map(|pieces| pieces.concat());
        (text, 0..8u8).prop_map(|(text, how)| match how {
            // Unquoted: what needs no quotes kept, now and then a stray quote.
            0..=2 => text
                .into_iter()
                .filter(|b| !b",\n\r\"".contains(b) || how == 2)
                .collect(),
            // Quoted, `"` doubled; now and then not, or text after the quote.
            _ => {
                let mut v = vec![b'"'];
                for b in text {
                    v.push(b);
                    if b == b'"' && how != 3 {
                        v.push(b'"');
                    }
                }
                v.push(b'"');
                if how == 4 {
                    v.push(b'x');
                }
                v
            }
        })
    }

    /// Rows of mostly two values, each ended by any line end (or none),
    /// blank lines between.
    fn csv() -> impl Strategy<Value = Vec<u8>> {
        let row = (
            prop::sample::select(vec![1usize, 2, 2, 2, 2, 3])
                .prop_flat_map(|n| prop::collection::vec(value(), n)),
            prop::sample::select(vec![&b"\n"[..], b"\r\n", b"\r", b"", b"\n\n", b"\r\n\r\n"]),
        );
        prop::collection::vec(row, 0..8).prop_map(|rows| {
            let mut out = Vec::new();
            for (values, end) in rows {
                out.extend_from_slice(&values.join(&b',')[..]);
                out.extend_from_slice(end);
            }
            out
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]

        #[test]
        fn a_part_in_the_strict_form_reads_as_the_state_machine_reads_it(
            bytes in prop_oneof![csv(), prop::collection::vec(prop::sample::select(CSV_BYTES), 0..24)]
        ) {
            let names = header(b"a,b\n");
            if let Some(strict) = parse_strict(&bytes, &names) {
                prop_assert_eq!(rows_of(strict), rows_of(parse_part(&bytes, 0, &names)));
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]

        #[test]
        fn the_last_record_end_in_the_strict_form_is_the_state_machines(
            bytes in prop_oneof![csv(), prop::collection::vec(prop::sample::select(CSV_BYTES), 0..24)],
            cut in 0..64usize,
        ) {
            // A piece's bytes end anywhere, inside a record or a value.
            let bytes = &bytes[..cut.min(bytes.len())];
            if let Some(end) = last_strict_record_end(bytes) {
                prop_assert_eq!(end, crate::ingest::stream::record_ends(bytes, false));
            }
        }
    }

    #[test]
    fn well_formed_quoting_is_read_in_the_strict_form_and_strays_are_not() {
        let names = header(b"a,b\n");
        let strict = |b: &[u8]| parse_strict(b, &names).map(rows_of);
        let row = |a: &str, b: &str| (vec![a.to_string(), b.to_string()], None);
        assert_eq!(
            strict(b"\"x,y\",\"q\"\"r\"\r\n\r\n\"line\nbreak\",z\n"),
            Some((vec![row("x,y", "q\"r"), row("line\nbreak", "z")], true))
        );
        assert_eq!(strict(b"1,\"2\""), Some((vec![row("1", "2")], false)));
        assert_eq!(
            strict(b"1,\r2,3\r"),
            Some((vec![row("1", ""), row("2", "3")], true))
        );
        for stray in [
            &b"x\"y,1\n"[..],
            b"\"x\"y,1\n",
            b"\"x,1\n",
            b"1,2,3\n",
            b"1\n",
            b"1,\xff\n",
            b"\xc3,\xa9\n",
            b"\xef\xbb\xbf1,2\n",
        ] {
            assert_eq!(strict(stray), None, "{:?}", String::from_utf8_lossy(stray));
        }
    }
}
