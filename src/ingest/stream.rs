//! A CSV table read in pieces: the file is never held whole, nor is its
//! text as a table. Each piece ends where a record ends, carries the
//! header, and is parsed straight into its fields' text
//! ([`super::records`]) as the record-by-record reader reads a whole file
//! ([`super::read`]), so a row reads the same whichever piece holds it and
//! one bad row is still one reject. The file's SHA-256 is computed from
//! the pieces as they are read.
//!
//! The cases and events tables, the largest by far, are read this way:
//! each piece is judged into typed rows and its text let go before the
//! next is read. A Parquet table is read the same way, a slice of
//! [`PIECE_ROWS`] rows at a time ([`ParquetPieces`]).

use std::io::Read;
use std::path::PathBuf;

use polars::prelude::{DataFrame, ParquetReader, SerReader};
use sha2::{Digest, Sha256};

/// Rows per piece of a Parquet table: a quarter of a million, so that the
/// next piece is read while one is judged, and a table of a million rows
/// is not held whole (1 M-case export as Parquet: 0.1–0.2 s and 60–180 MiB
/// less than with pieces of 2^20 rows; the same with a writer's row groups
/// of 2^20 rows, which a piece then reads a quarter of).
pub const PIECE_ROWS: usize = 1 << 18;

/// A table being read in pieces.
#[derive(Debug)]
pub enum Pieces {
    /// A CSV file.
    Csv(CsvPieces),
    /// A Parquet file.
    Parquet(ParquetPieces),
}

/// One piece as read: CSV bytes still to be parsed, or rows.
pub enum RawPiece {
    /// The header, then whole records.
    Csv(Vec<u8>),
    /// Rows of a Parquet file.
    Frame(DataFrame),
}

impl RawPiece {
    /// Bytes (CSV) or rows (Parquet) in the piece, for [`Pieces::rows_hint`].
    pub fn size(&self) -> usize {
        match self {
            RawPiece::Csv(bytes) => bytes.len(),
            RawPiece::Frame(frame) => frame.height(),
        }
    }
}

impl Pieces {
    /// The next piece, or `None` at the end of the file.
    pub fn next_piece(&mut self) -> crate::Result<Option<RawPiece>> {
        match self {
            Pieces::Csv(p) => p
                .next_bytes()
                .map(|b| b.map(RawPiece::Csv))
                .map_err(|source| crate::Error::Read {
                    path: p.path().into(),
                    source,
                }),
            Pieces::Parquet(p) => p.next_frame().map(|f| f.map(RawPiece::Frame)),
        }
    }

    /// About how many rows the table holds, given the first piece's `size`
    /// ([`RawPiece::size`]) and its `rows`.
    pub fn rows_hint(&self, size: usize, rows: usize) -> Option<usize> {
        match self {
            Pieces::Csv(p) => p.rows_hint(size, rows),
            Pieces::Parquet(p) => Some(p.total),
        }
    }

    /// The file's SHA-256, hex, once every piece has been read.
    pub fn sha256(self) -> crate::Result<String> {
        match self {
            Pieces::Csv(p) => Ok(p.sha256()),
            Pieces::Parquet(p) => p.sha256(),
        }
    }
}

/// A Parquet file read a slice of rows at a time ([`PIECE_ROWS`]).
#[derive(Debug)]
pub struct ParquetPieces {
    path: PathBuf,
    /// Rows in the file.
    total: usize,
    /// The next row to read.
    next: usize,
    /// Rows per piece.
    piece_rows: usize,
}

impl ParquetPieces {
    /// Opens the Parquet file at `path`: its columns (as a frame with no
    /// row) and the reader of its rows.
    pub fn open(path: PathBuf, piece_rows: usize) -> crate::Result<(ParquetPieces, DataFrame)> {
        let mut reader = ParquetReader::new(open(&path)?);
        let total = reader.num_rows().map_err(|e| unreadable(&path, &e))?;
        let columns = reader
            .with_slice(Some((0, 0)))
            .finish()
            .map_err(|e| unreadable(&path, &e))?;
        Ok((
            ParquetPieces {
                path,
                total,
                next: 0,
                piece_rows: piece_rows.max(1),
            },
            columns,
        ))
    }

    fn next_frame(&mut self) -> crate::Result<Option<DataFrame>> {
        if self.next >= self.total {
            return Ok(None);
        }
        let n = self.piece_rows.min(self.total - self.next);
        // In the reader's chunks (judged one after another).
        let frame = ParquetReader::new(open(&self.path)?)
            .with_slice(Some((self.next, n)))
            .finish()
            .map_err(|e| unreadable(&self.path, &e))?;
        self.next += n;
        Ok(Some(frame))
    }

    fn sha256(self) -> crate::Result<String> {
        let mut file = open(&self.path)?;
        let mut hasher = Sha256::new();
        std::io::copy(&mut file, &mut hasher).map_err(|source| crate::Error::Read {
            path: self.path.clone(),
            source,
        })?;
        Ok(hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect())
    }
}

fn open(path: &std::path::Path) -> crate::Result<std::fs::File> {
    std::fs::File::open(path).map_err(|source| crate::Error::Read {
        path: path.into(),
        source,
    })
}

fn unreadable(path: &std::path::Path, e: &polars::prelude::PolarsError) -> crate::Error {
    super::read::unreadable_as(path, "parquet", e)
}

/// Bytes read from the file per piece (a piece is cut at the last record
/// end in it). Small enough that a piece's buffer, and what parsing it
/// allocates, come from the allocator's arenas and are reused piece after
/// piece: at 32 MiB (the mmap threshold, [`crate::allocator`]) each piece
/// was a fresh mapping, faulted in page by page and unmapped when judged,
/// and the 10 M-case export spent 18 s in the kernel instead of 8 s.
pub const PIECE_BYTES: usize = 4 << 20;

/// A CSV file being read in pieces.
pub struct CsvPieces {
    reader: Box<dyn Read + Send + Sync>,
    /// Path as shown to the user.
    path: String,
    /// The header line, with its line end.
    header: Vec<u8>,
    /// The header, then bytes read but not yet handed out (they start at a
    /// record's start).
    pending: Vec<u8>,
    hasher: Sha256,
    eof: bool,
    piece_bytes: usize,
    /// The file's size, when known.
    len: Option<u64>,
}

impl std::fmt::Debug for CsvPieces {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CsvPieces")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl CsvPieces {
    /// Starts reading `reader` (the file at `path`) in pieces of about
    /// `piece_bytes` bytes; reads up to the end of the header row.
    pub fn open(
        reader: Box<dyn Read + Send + Sync>,
        len: Option<u64>,
        path: String,
        piece_bytes: usize,
    ) -> std::io::Result<CsvPieces> {
        let mut pieces = CsvPieces {
            reader,
            path,
            header: Vec::new(),
            pending: Vec::new(),
            hasher: Sha256::new(),
            eof: false,
            piece_bytes: piece_bytes.max(1),
            len,
        };
        // The header ends at the first record end.
        loop {
            if let Some(end) = first_record_end(&pieces.pending) {
                pieces.header = pieces.pending[..end].to_vec();
                break;
            }
            if pieces.eof {
                pieces.header = pieces.pending.clone();
                if !pieces.header.ends_with(b"\n") {
                    pieces.header.push(b'\n');
                    pieces.pending.push(b'\n');
                }
                break;
            }
            pieces.fill(pieces.piece_bytes)?;
        }
        Ok(pieces)
    }

    /// About how many data rows the file holds, from the size of the file
    /// and of the first `bytes` bytes (header included), which held
    /// `rows` rows; rounded up a little, so that a vector of that capacity
    /// rarely has to grow.
    pub fn rows_hint(&self, bytes: usize, rows: usize) -> Option<usize> {
        let body = bytes.checked_sub(self.header.len()).filter(|b| *b > 0)?;
        let total = self.len?.saturating_sub(self.header.len() as u64);
        Some((total as f64 / body as f64 * rows as f64 * 1.02) as usize + 16)
    }

    /// The header row alone, for what the file's columns are.
    pub fn header(&self) -> &[u8] {
        &self.header
    }

    /// Path as shown to the user.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The file's SHA-256, hex, once every piece has been read.
    pub fn sha256(self) -> String {
        self.hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// Reads up to `n` more bytes into `pending`, hashing them.
    fn fill(&mut self, n: usize) -> std::io::Result<()> {
        let start = self.pending.len();
        self.pending.resize(start + n, 0);
        let mut got = 0;
        while got < n {
            match self.reader.read(&mut self.pending[start + got..]) {
                Ok(0) => {
                    self.eof = true;
                    break;
                }
                Ok(k) => got += k,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        self.pending.truncate(start + got);
        self.hasher.update(&self.pending[start..]);
        Ok(())
    }

    /// The next piece's bytes (the header, then whole records), or `None`
    /// at the end of the file.
    pub fn next_bytes(&mut self) -> std::io::Result<Option<Vec<u8>>> {
        let h = self.header.len();
        loop {
            // Empty lines are no rows: a piece must not start with one
            // (nor a piece of nothing but them).
            let blank = leading_empty_lines(&self.pending[h..]);
            self.pending.drain(h..h + blank);
            let body = &self.pending[h..];
            if self.eof {
                if body.iter().all(u8::is_ascii_whitespace) {
                    return Ok(None);
                }
                let piece = std::mem::replace(&mut self.pending, self.header.clone());
                return Ok(Some(piece));
            }
            if body.len() >= self.piece_bytes {
                if let Some(end) = last_record_end(body) {
                    let mut rest = self.header.clone();
                    rest.extend_from_slice(&body[end..]);
                    let mut piece = std::mem::replace(&mut self.pending, rest);
                    piece.truncate(h + end);
                    return Ok(Some(piece));
                }
            }
            self.fill(self.piece_bytes)?;
        }
    }
}

/// How many bytes of `buf` are empty lines (`\n` or `\r\n`) at its start.
fn leading_empty_lines(buf: &[u8]) -> usize {
    let mut i = 0;
    loop {
        match buf[i..] {
            [b'\n', ..] => i += 1,
            [b'\r', b'\n', ..] => i += 2,
            _ => return i,
        }
    }
}

/// The end (one past the line end) of the first complete record of `buf`,
/// read as the CSV readers read it (a line end inside quotes is data).
pub(super) fn first_record_end(buf: &[u8]) -> Option<usize> {
    record_ends(buf, true)
}

/// The end of the last complete record of `buf` (which starts at a
/// record's start).
fn last_record_end(buf: &[u8]) -> Option<usize> {
    if memchr::memchr(b'"', buf).is_none() {
        // No quote: every line end ends a record.
        return memchr::memrchr(b'\n', buf).map(|p| p + 1);
    }
    // The state machine walks a byte at a time: only when the quoting
    // strays from the strict form.
    super::records::last_strict_record_end(buf).unwrap_or_else(|| record_ends(buf, false))
}

/// Walks `buf` record by record with the CSV state machine; the end of the
/// first (or last) record that ends in a line feed.
pub(super) fn record_ends(buf: &[u8], first: bool) -> Option<usize> {
    let mut reader = csv_core::Reader::new();
    let mut out = vec![0u8; 1 << 16];
    let mut ends = vec![0usize; 256];
    let (mut pos, mut last) = (0, None);
    while pos < buf.len() {
        let (result, nin, _, _) = reader.read_record(&buf[pos..], &mut out, &mut ends);
        pos += nin;
        match result {
            csv_core::ReadRecordResult::Record => {
                // A record ended by `\r\n` is reported at its `\r`.
                let end = if buf.get(pos) == Some(&b'\n') && buf[pos - 1] == b'\r' {
                    pos + 1
                } else {
                    pos
                };
                if end > 0 && buf[end - 1] == b'\n' {
                    last = Some(end);
                    if first {
                        return last;
                    }
                }
            }
            csv_core::ReadRecordResult::InputEmpty | csv_core::ReadRecordResult::End => break,
            csv_core::ReadRecordResult::OutputFull | csv_core::ReadRecordResult::OutputEndsFull => {
            }
        }
    }
    last
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pieces_of(text: &str, size: usize) -> Vec<String> {
        let mut p = CsvPieces::open(
            Box::new(std::io::Cursor::new(text.as_bytes().to_vec())),
            None,
            "t".into(),
            size,
        )
        .unwrap();
        let mut out = Vec::new();
        while let Some(bytes) = p.next_bytes().unwrap() {
            out.push(String::from_utf8(bytes).unwrap());
        }
        out
    }

    #[test]
    fn pieces_end_at_record_ends_even_inside_quoted_line_breaks() {
        let text = "a,b\n1,\"x\ny\"\n2,\"q\"\"\n\"\n3,z\r\n4,w";
        for size in 1..text.len() + 2 {
            let pieces = pieces_of(text, size);
            let mut joined = String::new();
            for p in &pieces {
                assert!(p.starts_with("a,b\n"), "{p:?}");
                joined.push_str(&p["a,b\n".len()..]);
            }
            assert_eq!(format!("a,b\n{joined}"), text, "size {size}");
            for p in &pieces {
                // Every piece reads as whole records.
                let rows = csv::Reader::from_reader(p.as_bytes()).records().count();
                assert!(rows >= 1, "{p:?}");
            }
        }
    }

    #[test]
    fn a_quoted_header_line_break_is_part_of_the_header() {
        let pieces = pieces_of("\"a\nb\",c\n1,2\n", 1);
        assert_eq!(pieces, vec!["\"a\nb\",c\n1,2\n".to_string()]);
    }

    #[test]
    fn the_hash_is_of_the_whole_file() {
        let text = "a,b\n1,2\n3,4\n";
        let mut p = CsvPieces::open(
            Box::new(std::io::Cursor::new(text.as_bytes().to_vec())),
            None,
            "t".into(),
            3,
        )
        .unwrap();
        while p.next_bytes().unwrap().is_some() {}
        let expected: String = Sha256::digest(text.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(p.sha256(), expected);
    }
}
