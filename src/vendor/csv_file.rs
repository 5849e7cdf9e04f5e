//! Salesforce CSV files (Bulk API 2.0 / Data Loader): a header of API field
//! names, RFC 4180 quoting, UTF-8, empty cell = null.
//!
//! Rows are read with the `csv` crate into one reused `StringRecord` per
//! chunk (UTF-8 checked once per row, no allocation per row), in parallel: the data is cut into chunks at line ends that are
//! outside quotes (quote parity, counted in parallel), each chunk parsed on
//! its own. If any chunk yields a row of the wrong width, which a cut inside
//! a malformed quoted field could cause, the whole file is parsed again in
//! one piece, so results never depend on the cut.

use std::path::{Path, PathBuf};

use csv::{ByteRecord, StringRecord};
use rayon::prelude::*;

use super::VendorError;

/// Bytes per parallel chunk (roughly).
const CHUNK: usize = 4 << 20;

/// One CSV file, read whole.
pub(crate) struct CsvFile {
    /// Full path (for errors).
    pub(crate) path: PathBuf,
    /// File name (for rejects and counts).
    pub(crate) name: String,
    bytes: Vec<u8>,
    data_start: usize,
    /// Header names, trimmed.
    pub(crate) header: Vec<String>,
    /// Bytes per parallel chunk.
    chunk: usize,
}

/// One data row.
pub(crate) struct Row<'a> {
    rec: &'a StringRecord,
    width: usize,
    /// The column whose bytes are not UTF-8 (then no value is read).
    not_utf8: Option<usize>,
}

impl<'a> Row<'a> {
    /// The value of column `i`: `None` when empty (null), absent, or the
    /// row is not UTF-8.
    #[inline]
    pub(crate) fn get(&self, i: usize) -> Option<&'a str> {
        if self.not_utf8.is_some() {
            return None;
        }
        let v = self.rec.get(i)?.trim();
        (!v.is_empty()).then_some(v)
    }

    /// The value of an optional column.
    #[inline]
    pub(crate) fn opt(&self, i: Option<usize>) -> Option<&'a str> {
        i.and_then(|i| self.get(i))
    }

    /// Why the row cannot be read at all: bytes that are not UTF-8, or the
    /// wrong number of fields.
    pub(crate) fn unreadable(&self, header: &[String]) -> Option<String> {
        if let Some(c) = self.not_utf8 {
            let name = header.get(c).map_or("?", String::as_str);
            return Some(format!("column `{name}` is not valid UTF-8"));
        }
        if self.rec.len() != self.width {
            return Some(format!(
                "row has {} fields, the header has {}",
                self.rec.len(),
                self.width
            ));
        }
        None
    }
}

impl CsvFile {
    /// Reads `dir/name`; a missing file is [`VendorError::MissingFile`].
    pub(crate) fn open(dir: &Path, name: &str) -> Result<CsvFile, VendorError> {
        let bytes = super::read_file(dir, name)?;
        CsvFile::from_bytes(dir.join(name), bytes)
    }

    /// Reads `dir/name` if it exists.
    pub(crate) fn open_optional(dir: &Path, name: &str) -> Result<Option<CsvFile>, VendorError> {
        match super::read_optional(dir, name)? {
            None => Ok(None),
            Some(bytes) => CsvFile::from_bytes(dir.join(name), bytes).map(Some),
        }
    }

    /// A file already in memory.
    pub(crate) fn from_bytes(path: PathBuf, bytes: Vec<u8>) -> Result<CsvFile, VendorError> {
        let name = super::json::file_name(&path);
        let bom = if bytes.starts_with(b"\xef\xbb\xbf") {
            3
        } else {
            0
        };
        if bytes[bom..].iter().all(u8::is_ascii_whitespace) {
            return Err(VendorError::Unreadable {
                path,
                reason: "the file is empty (expected a header row of API field names)".into(),
            });
        }
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(&bytes[bom..]);
        let mut rec = ByteRecord::new();
        match reader.read_byte_record(&mut rec) {
            Ok(true) => {}
            Ok(false) => {
                return Err(VendorError::Unreadable {
                    path,
                    reason: "the file is empty (expected a header row of API field names)".into(),
                })
            }
            Err(e) => {
                return Err(VendorError::Unreadable {
                    path,
                    reason: format!("cannot read the header row: {e}"),
                })
            }
        }
        let header: Vec<String> = rec
            .iter()
            .map(|h| String::from_utf8_lossy(h).trim().to_string())
            .collect();
        let data_start = bom + reader.position().byte() as usize;
        Ok(CsvFile {
            path,
            name,
            bytes,
            data_start,
            header,
            chunk: CHUNK,
        })
    }

    /// The index of column `name`.
    pub(crate) fn col(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|h| h == name)
    }

    /// The index of a required column; its absence is an error naming the
    /// file and the column.
    pub(crate) fn require(&self, name: &str) -> Result<usize, VendorError> {
        self.col(name).ok_or_else(|| VendorError::Unreadable {
            path: self.path.clone(),
            reason: format!("missing column `{name}`"),
        })
    }

    /// Calls `f` on every data row, in parallel; the results come back in
    /// row order (element `i` is data row `i + 1`).
    pub(crate) fn map_rows<R, F>(&self, f: F) -> Result<Vec<R>, VendorError>
    where
        R: Send,
        F: Fn(&Row) -> R + Sync + Send,
    {
        let data = &self.bytes[self.data_start..];
        let width = self.header.len();
        let cuts = cut_points(data, self.chunk);
        if cuts.len() > 2 {
            let parts: Vec<Result<(Vec<R>, bool), VendorError>> = cuts
                .par_windows(2)
                .map(|w| self.parse(&data[w[0]..w[1]], width, &f))
                .collect();
            let mut out = Vec::new();
            let mut ragged = false;
            for p in parts {
                let (rows, r) = p?;
                ragged |= r;
                out.extend(rows);
            }
            if !ragged {
                return Ok(out);
            }
        }
        self.parse(data, width, &f).map(|(rows, _)| rows)
    }

    fn parse<R, F>(&self, data: &[u8], width: usize, f: &F) -> Result<(Vec<R>, bool), VendorError>
    where
        F: Fn(&Row) -> R,
    {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(data);
        let mut rec = StringRecord::new();
        let empty = StringRecord::new();
        let mut out = Vec::with_capacity(data.len() / 128);
        let mut ragged = false;
        loop {
            match reader.read_record(&mut rec) {
                Ok(false) => break,
                Ok(true) => {
                    // A blank line at the very end is not a row.
                    if rec.len() == 1 && rec.get(0).is_some_and(str::is_empty) && width != 1 {
                        continue;
                    }
                    ragged |= rec.len() != width;
                    out.push(f(&Row {
                        rec: &rec,
                        width,
                        not_utf8: None,
                    }));
                }
                Err(e) => match e.kind() {
                    csv::ErrorKind::Utf8 { err, .. } => out.push(f(&Row {
                        rec: &empty,
                        width,
                        not_utf8: Some(err.field()),
                    })),
                    _ => {
                        return Err(VendorError::Unreadable {
                            path: self.path.clone(),
                            reason: format!("not valid CSV: {e}"),
                        })
                    }
                },
            }
        }
        Ok((out, ragged))
    }
}

/// Offsets cutting `data` into chunks of about `chunk` bytes, each cut
/// just after a line end outside quotes; first 0, last `data.len()`.
fn cut_points(data: &[u8], chunk: usize) -> Vec<usize> {
    let n = data.len();
    let pieces = n / chunk;
    if pieces < 2 {
        return vec![0, n];
    }
    // Quote parity at the start of every piece, counted in parallel.
    let counts: Vec<usize> = (0..pieces)
        .into_par_iter()
        .map(|i| {
            let end = if i + 1 == pieces { n } else { (i + 1) * chunk };
            data[i * chunk..end].iter().filter(|&&b| b == b'"').count()
        })
        .collect();
    let mut cuts = vec![0];
    let mut quotes = 0usize;
    for (i, c) in counts.iter().enumerate().take(pieces - 1) {
        quotes += c;
        // Parity at byte (i + 1) * chunk; walk to the next line end outside quotes.
        let mut inside = quotes % 2 == 1;
        let mut j = (i + 1) * chunk;
        while j < n {
            match data[j] {
                b'"' => inside = !inside,
                b'\n' if !inside => break,
                _ => {}
            }
            j += 1;
        }
        let cut = (j + 1).min(n);
        if cut > *cuts.last().expect("non-empty") && cut < n {
            cuts.push(cut);
        }
    }
    cuts.push(n);
    cuts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_newlines_and_commas_survive_parallel_cuts() {
        let mut text = String::from("Id,Body\n");
        for i in 0..20_000 {
            text.push_str(&format!("{i},\"line one, still one\nline \"\"two\"\"\"\n"));
        }
        let mut file = CsvFile::from_bytes("x.csv".into(), text.into_bytes()).unwrap();
        file.chunk = 997;
        assert!(cut_points(&file.bytes[file.data_start..], file.chunk).len() > 100);
        let rows = file
            .map_rows(|r| (r.get(0).unwrap().to_string(), r.get(1).unwrap().len()))
            .unwrap();
        assert_eq!(rows.len(), 20_000);
        for (i, (id, len)) in rows.iter().enumerate() {
            assert_eq!(id, &i.to_string());
            assert_eq!(*len, "line one, still one\nline \"two\"".len());
        }
    }

    #[test]
    fn a_stray_quote_falls_back_to_one_piece_and_keeps_every_row() {
        // A bare quote inside an unquoted field flips the parity: the cuts
        // land inside rows, which come out ragged, so the file is read whole.
        let mut text = String::from("Id,Body,N\n");
        for i in 0..2_000 {
            let body = if i == 7 {
                "5\" screen".to_string()
            } else {
                format!("b{i}")
            };
            text.push_str(&format!("{i},{body},x\n"));
        }
        let mut file = CsvFile::from_bytes("x.csv".into(), text.into_bytes()).unwrap();
        file.chunk = 101;
        let header = file.header.clone();
        let rows = file
            .map_rows(|r| (r.get(0).map(str::to_string), r.unreadable(&header)))
            .unwrap();
        let whole = {
            file.chunk = usize::MAX;
            file.map_rows(|r| (r.get(0).map(str::to_string), r.unreadable(&header)))
                .unwrap()
        };
        assert_eq!(rows, whole);
    }

    #[test]
    fn bom_header_and_empty_cells() {
        let file = CsvFile::from_bytes(
            "Case.csv".into(),
            b"\xef\xbb\xbf\"Id\",\"AccountId\"\r\n\"500\",\"\"\r\n".to_vec(),
        )
        .unwrap();
        assert_eq!(file.header, vec!["Id", "AccountId"]);
        let rows = file
            .map_rows(|r| (r.get(0).map(str::to_string), r.get(1).is_none()))
            .unwrap();
        assert_eq!(rows, vec![(Some("500".to_string()), true)]);
        let err = file.require("Priority").unwrap_err();
        assert_eq!(err.to_string(), "Case.csv: missing column `Priority`");
    }

    #[test]
    fn empty_file_is_an_error() {
        let err = CsvFile::from_bytes("User.csv".into(), b"\n".to_vec())
            .err()
            .unwrap();
        assert!(
            err.to_string().starts_with("User.csv: the file is empty"),
            "{err}"
        );
    }

    #[test]
    fn ragged_rows_are_reported_per_row() {
        let file = CsvFile::from_bytes("a.csv".into(), b"A,B\n1,2\n1\n1,\xff\n".to_vec()).unwrap();
        let header = file.header.clone();
        let rows = file.map_rows(|r| r.unreadable(&header)).unwrap();
        assert_eq!(rows[0], None);
        assert_eq!(
            rows[1].as_deref(),
            Some("row has 1 fields, the header has 2")
        );
        assert_eq!(rows[2].as_deref(), Some("column `B` is not valid UTF-8"));
    }
}
