//! Writing one Parquet file: zstd, statistics, slt's key-value metadata,
//! and an Arrow schema hint every Arrow reader accepts.

use std::fs::File;
use std::path::Path;

use polars::prelude::*;

use crate::{Error, Result};

/// Writes `df` as Parquet with slt's key-value metadata.
///
/// The `ARROW:schema` hint is polars' own with its string and binary *view*
/// types replaced by the classic `string` and `binary` (see
/// [`arrow_schema_hint`]): the data pages are the same plain `BYTE_ARRAY`
/// either way, but Arrow readers older than 15 (pyarrow 14, still common)
/// refuse the whole file on a view type in the hint.
pub fn write_parquet(df: &mut DataFrame, path: &Path, metadata: &[(String, String)]) -> Result<()> {
    let mut key_values = vec![(ARROW_SCHEMA_KEY.to_string(), arrow_schema_hint(df)?)];
    key_values.extend(
        metadata
            .iter()
            .filter(|(k, _)| k != ARROW_SCHEMA_KEY)
            .cloned(),
    );
    let file = File::create(path).map_err(|e| Error::Write {
        path: path.into(),
        reason: e.to_string(),
    })?;
    ParquetWriter::new(file)
        .with_compression(ParquetCompression::Zstd(None))
        .with_statistics(StatisticsOptions::default())
        .with_key_value_metadata(Some(KeyValueMetadata::from_static(key_values)))
        .finish(df)
        .map_err(|e| Error::Write {
            path: path.into(),
            reason: e.to_string(),
        })?;
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

/// Decodes standard base64 (padding optional); `None` on a bad character.
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let digits: Vec<u32> = text
        .trim_end_matches('=')
        .bytes()
        .map(|c| BASE64.iter().position(|&d| d == c).map(|v| v as u32))
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
