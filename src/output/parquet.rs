//! Writing one Parquet file: zstd, statistics, slt's key-value metadata,
//! and an Arrow schema hint every Arrow reader accepts. A frame is written
//! whole ([`write_parquet`]), or made and written a window of row groups
//! at a time ([`write_parquet_in_windows`]), with the same bytes.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::ops::Range;
use std::path::Path;

use polars::frame::chunk_df_for_writing;
use polars::prelude::*;
use polars_arrow::record_batch::RecordBatch;
use polars_parquet::write::{array_to_columns, compress, CompressedPage, Version, WriteOptions};
use rayon::prelude::*;

use crate::{Error, Result};

/// Writes `df` as Parquet with slt's key-value metadata.
///
/// The `ARROW:schema` hint is polars' own with its string and binary *view*
/// types replaced by the classic `string` and `binary` (see
/// [`arrow_schema_hint`]): the data pages are the same plain `BYTE_ARRAY`
/// either way, but Arrow readers older than 15 (pyarrow 14, still common)
/// refuse the whole file on a view type in the hint.
pub fn write_parquet(df: &mut DataFrame, path: &Path, metadata: &[(String, String)]) -> Result<()> {
    write_in_row_groups(df, path, metadata, ROW_GROUP_ROWS)
}

/// Writes the frame of `height` rows that `make` makes a run of rows of
/// at a time (`make(0..0)` its empty frame), as [`write_parquet`] writes
/// the whole frame — the same bytes — when that frame's columns are each
/// one chunk, as slt makes them. Only the rows of the row groups being
/// encoded and written are held as a frame, never the whole: at 10 M cases
/// `case_slt` is 1.5 GiB as one frame.
pub fn write_parquet_in_windows(
    path: &Path,
    metadata: &[(String, String)],
    height: usize,
    make: impl Fn(Range<usize>) -> Result<DataFrame> + Sync,
) -> Result<()> {
    windows_of_groups(path, metadata, height, ROW_GROUP_ROWS, make)
}

/// Rows in a row group: polars' default, which slt's files have always had.
const ROW_GROUP_ROWS: usize = 512 * 512;

/// The rows of each row group polars' writer makes of a frame of `height`
/// rows whose columns are each one chunk (`chunk_df_for_writing`): the
/// whole frame up to `group_rows` rows; beyond, `height / group_rows`
/// groups, each of that share of the rows but the last, which has the rest.
fn row_groups(height: usize, group_rows: usize) -> Vec<Range<usize>> {
    if height == 0 {
        return Vec::new();
    }
    let groups = (height / group_rows).max(1);
    let rows = height / groups;
    (0..groups)
        .map(|g| {
            g * rows..if g + 1 == groups {
                height
            } else {
                (g + 1) * rows
            }
        })
        .collect()
}

/// [`write_parquet`] with row groups of `row_group_rows` rows.
fn write_in_row_groups(
    df: &mut DataFrame,
    path: &Path,
    metadata: &[(String, String)],
    row_group_rows: usize,
) -> Result<()> {
    let failed = |e: PolarsError| write_failed(path, e);
    let empty = df.clear();
    let chunked = chunk_df_for_writing(df, row_group_rows).map_err(failed)?;
    let groups: Vec<RecordBatch> = chunked
        .iter_chunks(CompatLevel::newest(), false)
        .filter(|group| !group.is_empty())
        .collect();
    let at_once = rayon::current_num_threads();
    let windows: Vec<&[RecordBatch]> = groups.chunks(at_once).collect();
    write_groups(path, metadata, &empty, windows.len(), |w| {
        Ok(windows[w].to_vec())
    })
}

/// [`write_parquet_in_windows`] with the row groups polars cuts for
/// `row_group_rows` rows ([`row_groups`]).
fn windows_of_groups(
    path: &Path,
    metadata: &[(String, String)],
    height: usize,
    row_group_rows: usize,
    make: impl Fn(Range<usize>) -> Result<DataFrame> + Sync,
) -> Result<()> {
    let empty = make(0..0)?;
    let groups = row_groups(height, row_group_rows);
    let windows: Vec<&[Range<usize>]> = groups.chunks(rayon::current_num_threads()).collect();
    write_groups(path, metadata, &empty, windows.len(), |w| {
        let window = windows[w];
        let start = window[0].start;
        let frame = make(start..window[window.len() - 1].end)?;
        window
            .iter()
            .map(|g| {
                let group = frame.slice((g.start - start) as i64, g.len());
                let mut chunks = group.iter_chunks(CompatLevel::newest(), false);
                match (chunks.next(), chunks.next()) {
                    (Some(batch), None) => Ok(batch),
                    _ => Err(Error::Internal(format!(
                        "rows {}..{} of {} are not one chunk",
                        g.start,
                        g.end,
                        path.display()
                    ))),
                }
            })
            .collect()
    })
}

/// A failure to write `path`.
fn write_failed(path: &Path, e: impl ToString) -> Error {
    Error::Write {
        path: path.into(),
        reason: e.to_string(),
    }
}

/// One column of one row group, encoded and compressed: its leaves' pages.
type Pages = Vec<Vec<CompressedPage>>;

/// A window of row groups encoded: each group's rows, then each group's
/// columns' pages, group after group.
type Encoded = (Vec<u64>, Vec<Pages>);

/// Writes the file of the frame whose empty frame is `empty`, its row
/// groups given a window at a time by `window(0..windows)`.
///
/// What polars' own `finish` writes, page for page: the same row groups,
/// encodings and options. But `finish` encodes and compresses each page on
/// the one thread that writes it; here every column of a window's row
/// groups is encoded and compressed side by side while the window before
/// it is written.
fn write_groups(
    path: &Path,
    metadata: &[(String, String)],
    empty: &DataFrame,
    windows: usize,
    window: impl Fn(usize) -> Result<Vec<RecordBatch>> + Sync,
) -> Result<()> {
    let mut key_values = vec![(ARROW_SCHEMA_KEY.to_string(), arrow_schema_hint(empty)?)];
    key_values.extend(
        metadata
            .iter()
            .filter(|(k, _)| k != ARROW_SCHEMA_KEY)
            .cloned(),
    );
    let io_failed = |e: std::io::Error| write_failed(path, e);
    // polars writes each page header and page on its own: buffered, a
    // write to the file is a mebibyte, not a few hundred bytes (26,000
    // writes for the 1 M-case export's reports before).
    let mut file = BufWriter::with_capacity(1 << 20, File::create(path).map_err(io_failed)?);
    let failed = |e: PolarsError| write_failed(path, e);
    let (compression, statistics) = (ParquetCompression::Zstd(None), StatisticsOptions::default());
    let mut writer = ParquetWriter::new(&mut file)
        .with_compression(compression)
        .with_statistics(statistics)
        .with_key_value_metadata(Some(KeyValueMetadata::from_static(key_values)))
        .batched(empty.schema())
        .map_err(failed)?;
    let options = WriteOptions {
        statistics,
        version: Version::V1,
        compression: compression.into(),
        data_page_size: None,
    };
    let encodings = get_encodings(&empty.schema().to_arrow(CompatLevel::newest()));
    let types = writer.parquet_schema().fields().to_vec();
    let columns = types.len();
    let encode = |(group, column): (&RecordBatch, usize)| -> PolarsResult<Pages> {
        let leaves = array_to_columns(
            &group.columns()[column],
            types[column].clone(),
            options,
            &encodings[column],
        )?;
        leaves
            .into_iter()
            .map(|pages| {
                pages
                    .map(|page| Ok(compress(page?, Vec::new(), options.compression)?))
                    .collect()
            })
            .collect()
    };
    // A window's row groups, every column of each encoded side by side.
    let encode_window = |w: usize| -> Result<Encoded> {
        let groups = window(w)?;
        let pages = groups
            .iter()
            .flat_map(|group| (0..columns).map(move |column| (group, column)))
            .collect::<Vec<_>>()
            .into_par_iter()
            .map(encode)
            .collect::<PolarsResult<Vec<_>>>()
            .map_err(failed)?;
        Ok((groups.iter().map(|g| g.len() as u64).collect(), pages))
    };
    type Writer<'w> = polars::io::parquet::write::BatchedWriter<&'w mut BufWriter<File>>;
    let write_window = |writer: &mut Writer, (rows, encoded): (Vec<u64>, Vec<_>)| {
        let mut encoded = encoded.into_iter();
        for rows in rows {
            let pages: Vec<Vec<CompressedPage>> =
                encoded.by_ref().take(columns).flatten().collect();
            writer.write_row_group(rows, &pages)?;
        }
        PolarsResult::Ok(())
    };
    // Each window is made and encoded while the one before it is written.
    let mut encoded = None;
    for w in 0..windows {
        let (written, next) = rayon::join(
            || match encoded.take() {
                Some(before) => write_window(&mut writer, before),
                None => Ok(()),
            },
            || encode_window(w),
        );
        written.map_err(failed)?;
        encoded = Some(next?);
    }
    if let Some(last) = encoded {
        write_window(&mut writer, last).map_err(failed)?;
    }
    writer.finish().map_err(failed)?;
    // Flushed here, where a failure is seen (dropping would hide it).
    file.flush().map_err(io_failed)?;
    Ok(())
}

/// Key of the Arrow schema hint in a Parquet file's key-value metadata.
pub const ARROW_SCHEMA_KEY: &str = "ARROW:schema";

/// The `ARROW:schema` hint polars writes for `df`, with `string_view` and
/// `binary_view` replaced by `string` and `binary`.
///
/// polars' Parquet writer always hints view types and takes a hint given in
/// the key-value metadata instead of its own, so slt asks polars for its hint
/// (by writing the empty frame to memory) and rewrites the type tags in the
/// serialized schema. Both are empty flatbuffer tables, so only a tag byte
/// changes and the result is as deterministic as polars' own.
pub fn arrow_schema_hint(df: &DataFrame) -> Result<String> {
    let mut buf = Vec::new();
    ParquetWriter::new(&mut buf).finish(&mut df.clear())?;
    let mut reader = ParquetReader::new(std::io::Cursor::new(buf));
    let metadata = reader.get_metadata()?;
    let hint = metadata
        .key_value_metadata
        .iter()
        .flatten()
        .find(|kv| kv.key == ARROW_SCHEMA_KEY)
        .and_then(|kv| kv.value.clone())
        .ok_or_else(|| Error::Internal("polars wrote no ARROW:schema hint".into()))?;
    let bad = || Error::Internal("unexpected ARROW:schema hint from polars".into());
    let mut ipc = base64_decode(&hint).ok_or_else(bad)?;
    downgrade_view_types(&mut ipc).ok_or_else(bad)?;
    Ok(base64_encode(&ipc))
}

/// Arrow `Type` union tags (Schema.fbs): `BinaryView` → `Binary`, `Utf8View` → `Utf8`.
const VIEW_TO_CLASSIC: [(u8, u8); 2] = [(23, 4), (24, 5)];

/// Rewrites view type tags in a serialized Arrow IPC schema message (legacy
/// framing: optional `0xFFFFFFFF`, length, flatbuffer `Message`). `None` when
/// the bytes are not laid out as expected.
fn downgrade_view_types(ipc: &mut [u8]) -> Option<()> {
    fn u16_at(b: &[u8], p: usize) -> Option<usize> {
        Some(u16::from_le_bytes(b.get(p..p + 2)?.try_into().ok()?) as usize)
    }
    fn u32_at(b: &[u8], p: usize) -> Option<usize> {
        Some(u32::from_le_bytes(b.get(p..p + 4)?.try_into().ok()?) as usize)
    }
    /// Position of field `index` of the table at `table` (`Some(None)`: absent).
    fn field(b: &[u8], table: usize, index: usize) -> Option<Option<usize>> {
        let soffset = i32::from_le_bytes(b.get(table..table + 4)?.try_into().ok()?);
        let vtable = table.checked_add_signed(-(soffset as isize))?;
        let slot = 4 + 2 * index;
        if slot + 2 > u16_at(b, vtable)? {
            return Some(None);
        }
        let offset = u16_at(b, vtable + slot)?;
        Some((offset != 0).then_some(table + offset))
    }
    fn deref(b: &[u8], p: usize) -> Option<usize> {
        p.checked_add(u32_at(b, p)?)
    }
    /// Patches every `Field` of the vector at `vector`, and their children.
    fn fields(b: &mut [u8], vector: usize, depth: usize) -> Option<()> {
        if depth > 64 {
            return None;
        }
        for k in 0..u32_at(b, vector)? {
            let f = deref(b, vector + 4 + 4 * k)?;
            if let Some(p) = field(b, f, 2)? {
                let tag = b.get_mut(p)?;
                if let Some(&(_, to)) = VIEW_TO_CLASSIC.iter().find(|(from, _)| from == tag) {
                    *tag = to;
                }
            }
            if let Some(p) = field(b, f, 5)? {
                let children = deref(b, p)?;
                fields(b, children, depth + 1)?;
            }
        }
        Some(())
    }
    let start = if ipc.get(..4)? == [0xFF; 4] { 8 } else { 4 };
    let b = ipc.get_mut(start..)?;
    let message = deref(b, 0)?;
    // Message { version, header_type, header, ... }; header type 1 = Schema.
    if *b.get(field(b, message, 1)??)? != 1 {
        return None;
    }
    let schema = deref(b, field(b, message, 2)??)?;
    // Schema { endianness, fields, ... }
    match field(b, schema, 1)? {
        Some(p) => {
            let vector = deref(b, p)?;
            fields(b, vector, 0)
        }
        None => Some(()),
    }
}

const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding.
fn base64_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | (u32::from(b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(BASE64[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Each byte's base64 digit, [`NOT_BASE64`] for a byte that is none.
const BASE64_DIGITS: [u8; 256] = {
    let mut digits = [NOT_BASE64; 256];
    let mut d = 0;
    while d < BASE64.len() {
        digits[BASE64[d] as usize] = d as u8;
        d += 1;
    }
    digits
};

/// In [`BASE64_DIGITS`], a byte that is not a base64 digit.
const NOT_BASE64: u8 = u8::MAX;

/// Decodes standard base64 (padding optional); `None` on a bad character.
/// The digits are looked up in a table: a hint names every category of
/// the file's enums (40,000 account ids are megabytes of base64), and
/// searching the alphabet for each took 0.1 s a report.
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let digits: Vec<u32> = text
        .trim_end_matches('=')
        .bytes()
        .map(|c| match BASE64_DIGITS[usize::from(c)] {
            NOT_BASE64 => None,
            d => Some(u32::from(d)),
        })
        .collect::<Option<_>>()?;
    let mut out = Vec::with_capacity(digits.len() * 3 / 4);
    for chunk in digits.chunks(4) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &d)| n | (d << (18 - 6 * i)));
        for i in 0..chunk.len().saturating_sub(1) {
            out.push((n >> (16 - 8 * i)) as u8);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips_every_byte_and_refuses_other_characters() {
        let bytes: Vec<u8> = (0..=255u8).chain((0..=255u8).rev()).collect();
        for len in 0..bytes.len() {
            let text = base64_encode(&bytes[..len]);
            assert_eq!(
                base64_decode(&text).as_deref(),
                Some(&bytes[..len]),
                "{len} bytes"
            );
        }
        // RFC 4648's example, and its digits 62 and 63.
        assert_eq!(base64_encode(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64_decode("+/+/").unwrap(), [0xfb, 0xff, 0xbf]);
        for bad in ["Zm9v!mFy", "Zm9v YmFy", "Zm9v-mFy", "Zm9v_mFy", "Zm\u{e9}"] {
            assert_eq!(base64_decode(bad), None, "{bad}");
        }
    }

    /// A frame with every kind of column slt writes: text with nulls, an
    /// enum, integers, floats with nulls, UTC timestamps, booleans.
    fn frame(rows: usize) -> DataFrame {
        let text: Vec<Option<String>> = (0..rows)
            .map(|i| (i % 7 != 3).then(|| format!("case-{i:06}")))
            .collect();
        let kinds = FrozenCategories::new(["met", "breached", "pending"]).unwrap();
        let outcome = Series::new(
            "outcome".into(),
            (0..rows)
                .map(|i| ["met", "breached", "pending"][i % 3])
                .collect::<Vec<_>>(),
        )
        .cast(&DataType::from_frozen_categories(kinds))
        .unwrap();
        let at = Series::new(
            "at".into(),
            (0..rows as i64)
                .map(|i| 1_780_000_000_000_000 + i * 61_000_000)
                .collect::<Vec<_>>(),
        )
        .cast(&DataType::Datetime(
            TimeUnit::Microseconds,
            Some(TimeZone::UTC),
        ))
        .unwrap();
        DataFrame::new(
            rows,
            vec![
                Column::new("case_id".into(), text),
                outcome.into(),
                Column::new(
                    "minutes".into(),
                    (0..rows)
                        .map(|i| (i % 5 != 0).then_some(i as f64 / 4.0))
                        .collect::<Vec<_>>(),
                ),
                Column::new("n".into(), (0..rows as i64).collect::<Vec<_>>()),
                at.into(),
                Column::new(
                    "late".into(),
                    (0..rows).map(|i| i % 2 == 0).collect::<Vec<_>>(),
                ),
            ],
        )
        .unwrap()
    }

    /// The pages encoded side by side are written as polars' own writer
    /// writes them: the same bytes, for one row group, for fewer row groups
    /// than are encoded at once, and for many more, with the last one short
    /// or long — whether the frame is given whole or made a window of row
    /// groups at a time.
    #[test]
    fn row_groups_encoded_side_by_side_give_polars_own_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let metadata = vec![("slt".to_string(), "test".to_string())];
        let shapes = [
            (0, 7),
            (5, 7),
            (7, 7),
            (8, 7),
            (13, 7),
            (14, 7),
            (20, 7),
            (1000, 7),
            (1000, 1000),
            (999, 10),
            (1001, 10),
        ];
        for (rows, group) in shapes {
            let mut df = frame(rows);
            let ours = dir.path().join("ours.parquet");
            write_in_row_groups(&mut df, &ours, &metadata, group).unwrap();

            let mut key_values = vec![(
                ARROW_SCHEMA_KEY.to_string(),
                arrow_schema_hint(&df).unwrap(),
            )];
            key_values.extend(metadata.iter().cloned());
            let theirs = dir.path().join("theirs.parquet");
            ParquetWriter::new(File::create(&theirs).unwrap())
                .with_compression(ParquetCompression::Zstd(None))
                .with_statistics(StatisticsOptions::default())
                .with_key_value_metadata(Some(KeyValueMetadata::from_static(key_values)))
                .with_row_group_size(Some(group))
                .finish(&mut df)
                .unwrap();
            let windowed = dir.path().join("windowed.parquet");
            let whole = df.clone();
            windows_of_groups(&windowed, &metadata, rows, group, |r| {
                let most = 2 * group * rayon::current_num_threads();
                assert!(r.len() < most, "a window of row groups, not the frame");
                Ok(whole.slice(r.start as i64, r.len()))
            })
            .unwrap();
            let (ours, theirs) = (std::fs::read(ours).unwrap(), std::fs::read(theirs).unwrap());
            assert!(
                ours == theirs,
                "{rows} rows in groups of {group}: not polars' bytes"
            );
            assert!(
                std::fs::read(windowed).unwrap() == theirs,
                "{rows} rows in groups of {group}, made a window at a time: not polars' bytes"
            );

            let back = ParquetReader::new(std::io::Cursor::new(ours))
                .finish()
                .unwrap();
            assert!(
                back.equals_missing(&df),
                "{rows} rows in groups of {group} read back differ"
            );
        }
    }
}
