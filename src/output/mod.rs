//! Outputs: the Parquet files, the manifest, and the directory they land in.
//!
//! Column names live in [`col`]. Timestamps are written as microsecond UTC
//! timestamps with the zone recorded (`Datetime(µs, "UTC")`), text
//! dimensions as enums (dictionary-encoded, categories sorted so the same
//! data gives the same bytes), counts as 64-bit integers. Each file carries
//! key-value metadata: tool version, schema version, as-of and policy hash.
//!
//! A run writes into a temporary directory beside the target and renames it
//! into place only when every file is complete.

pub mod guard;
pub mod lock;

use std::fs::File;
use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::{Error, Result};

/// Version of the output schema; bumped on any incompatible change.
pub const SCHEMA_VERSION: &str = "1";

/// Output column names.
pub mod col {
    /// Case id.
    pub const CASE_ID: &str = "case_id";
    /// Account id.
    pub const ACCOUNT_ID: &str = "account_id";
    /// Tier of the contract in force at creation.
    pub const TIER: &str = "tier";
    /// Region of the contract in force at creation.
    pub const REGION: &str = "region";
    /// Product.
    pub const PRODUCT: &str = "product";
    /// Priority in force when the measurement ended.
    pub const PRIORITY: &str = "priority";
    /// Priority at creation.
    pub const INITIAL_PRIORITY: &str = "initial_priority";
    /// Priority changes that took effect.
    pub const PRIORITY_CHANGES: &str = "priority_changes";
    /// Creation instant.
    pub const CREATED_AT: &str = "created_at";
    /// Clock start in force.
    pub const CLOCK_START: &str = "clock_start";
    /// Coverage in force.
    pub const COVERAGE: &str = "coverage";
    /// Target in force, business minutes.
    pub const TARGET_MINUTES: &str = "target_minutes";
    /// Deadline in force.
    pub const DEADLINE: &str = "deadline";
    /// First public agent response.
    pub const FIRST_RESPONSE_AT: &str = "first_response_at";
    /// Business minutes from clock start to first response.
    pub const RESPONSE_BUSINESS_MINUTES: &str = "response_business_minutes";
    /// met | breached | pending | excluded.
    pub const OUTCOME: &str = "outcome";
    /// Business minutes past the target.
    pub const BREACH_BUSINESS_MINUTES: &str = "breach_business_minutes";
    /// Quarter of creation in the report zone (`2026-Q3`).
    pub const PERIOD: &str = "period";
    /// Month of creation in the report zone (`2026-07`).
    pub const MONTH: &str = "month";
}

/// Builds a text column whose type is an enum of its sorted distinct values.
pub fn enum_column(name: &str, values: &[Option<&str>]) -> Result<Column> {
    let distinct: PlHashSet<&str> = values.iter().flatten().copied().collect();
    let mut cats: Vec<&str> = distinct.into_iter().collect();
    cats.sort_unstable();
    let frozen = FrozenCategories::new(cats.iter().copied()).map_err(internal)?;
    let dtype = DataType::from_frozen_categories(frozen);
    let series = Series::new(name.into(), values);
    Ok(series.cast(&dtype).map_err(internal)?.into_column())
}

/// The values of column `name` of `df` as owned text (any type cast to text).
pub fn text_values(df: &DataFrame, name: &str) -> Result<Vec<Option<String>>> {
    let s = df
        .column(name)
        .map_err(internal)?
        .as_materialized_series()
        .cast(&DataType::String)
        .map_err(internal)?;
    Ok(s.str()
        .map_err(internal)?
        .iter()
        .map(|v| v.map(str::to_string))
        .collect())
}

/// Builds a UTC microsecond timestamp column.
pub fn timestamp_column(name: &str, values: Vec<Option<i64>>) -> Column {
    Int64Chunked::from_iter_options(name.into(), values.into_iter())
        .into_datetime(TimeUnit::Microseconds, Some(TimeZone::UTC))
        .into_column()
}

/// Turns a polars error into an internal error.
pub fn internal(e: PolarsError) -> Error {
    Error::Internal(e.to_string())
}

/// Casts every `String` column of `df` to an enum of its values.
pub fn strings_to_enums(df: &DataFrame) -> Result<DataFrame> {
    let mut cols = Vec::with_capacity(df.width());
    for c in df.columns() {
        if c.dtype() == &DataType::String {
            let ca = c.as_materialized_series().str().expect("string").clone();
            let values: Vec<Option<&str>> = ca.iter().collect();
            cols.push(enum_column(c.name(), &values)?);
        } else {
            cols.push(c.clone());
        }
    }
    DataFrame::new(df.height(), cols).map_err(internal)
}

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

/// File name of the data of every partition of a hive layout.
pub const PART_FILE: &str = "part-0.parquet";

/// One partition of a hive layout: `COLUMN=VALUE/part-0.parquet`.
#[derive(Debug)]
pub struct Partition {
    /// The partition value (`2026-Q3`).
    pub value: String,
    /// Its rows, enum columns as plain strings, the partition column restored last.
    pub frame: DataFrame,
    /// The file's key-value metadata, without the Arrow schema hint.
    pub metadata: Vec<(String, String)>,
}

/// Writes `df` hive-style under `dir`: one `COLUMN=VALUE/part-0.parquet` per
/// distinct value of `column`, in sorted order, without that column (readers
/// restore it from the path). `metadata(value)` gives each file's key-value
/// metadata. Every file has `df`'s types, so an enum column has the same
/// categories in every partition, as polars requires to read the layout as
/// one table. Returns each value with its row count.
pub fn write_partitioned(
    df: &DataFrame,
    dir: &Path,
    column: &str,
    metadata: &dyn Fn(&str) -> Vec<(String, String)>,
) -> Result<Vec<(String, usize)>> {
    let write_err = |path: &Path, e: std::io::Error| Error::Write {
        path: path.into(),
        reason: e.to_string(),
    };
    std::fs::create_dir_all(dir).map_err(|e| write_err(dir, e))?;
    let keys = df
        .column(column)
        .map_err(internal)?
        .as_materialized_series()
        .cast(&DataType::String)
        .map_err(internal)?;
    let keys = keys.str().map_err(internal)?;
    if keys.null_count() > 0 {
        return Err(Error::Internal(format!(
            "a null `{column}` cannot name a partition"
        )));
    }
    let values: std::collections::BTreeSet<&str> = keys.iter().flatten().collect();
    let mut written = Vec::with_capacity(values.len());
    for value in values {
        if value.is_empty() || value.starts_with('.') || value.contains(['/', '\\', '=']) {
            return Err(Error::Internal(format!(
                "`{value}` cannot name a partition"
            )));
        }
        let mut part = df
            .filter(&keys.equal(value))
            .map_err(internal)?
            .drop(column)
            .map_err(internal)?;
        let sub = dir.join(format!("{column}={value}"));
        std::fs::create_dir(&sub).map_err(|e| write_err(&sub, e))?;
        write_parquet(&mut part, &sub.join(PART_FILE), &metadata(value))?;
        written.push((value.to_string(), part.height()));
    }
    Ok(written)
}

/// Reads a hive layout written by [`write_partitioned`]: every
/// `COLUMN=VALUE/part-0.parquet` under `dir` (hidden entries skipped), sorted
/// by value.
pub fn read_partitions(dir: &Path, column: &str) -> Result<Vec<Partition>> {
    let unusable = |path: &Path, reason: String| Error::Input {
        path: path.into(),
        reason,
    };
    let entries = std::fs::read_dir(dir).map_err(|source| Error::Read {
        path: dir.into(),
        source,
    })?;
    let prefix = format!("{column}=");
    let mut parts = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| Error::Read {
            path: dir.into(),
            source,
        })?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let Some(value) = name.strip_prefix(&prefix) else {
            return Err(unusable(
                &entry.path(),
                format!("not a `{prefix}…` partition directory"),
            ));
        };
        let path = entry.path().join(PART_FILE);
        let file = File::open(&path).map_err(|source| Error::Read {
            path: path.clone(),
            source,
        })?;
        let mut reader = ParquetReader::new(file);
        let metadata: Vec<(String, String)> = reader
            .get_metadata()
            .map_err(|e| unusable(&path, e.to_string()))?
            .key_value_metadata
            .iter()
            .flatten()
            .filter(|kv| kv.key != ARROW_SCHEMA_KEY)
            .map(|kv| (kv.key.clone(), kv.value.clone().unwrap_or_default()))
            .collect();
        let df = reader
            .finish()
            .map_err(|e| unusable(&path, e.to_string()))?;
        let mut columns = Vec::with_capacity(df.width() + 1);
        for c in df.columns() {
            columns.push(match c.dtype() {
                DataType::Enum(..) | DataType::Categorical(..) => {
                    c.cast(&DataType::String).map_err(internal)?
                }
                _ => c.clone(),
            });
        }
        columns.push(Column::new(column.into(), vec![value; df.height()]));
        let frame =
            DataFrame::new(df.height(), columns).map_err(|e| unusable(&path, e.to_string()))?;
        parts.push(Partition {
            value: value.to_string(),
            frame,
            metadata,
        });
    }
    parts.sort_by(|a, b| a.value.cmp(&b.value));
    Ok(parts)
}

/// `case_slt` as written: text dimensions as enums, `case_id` (unique, so
/// nothing to share) as plain text in the first column.
pub fn case_slt_for_writing(case_slt: &DataFrame) -> Result<DataFrame> {
    let mut typed = strings_to_enums(&case_slt.drop_many([col::CASE_ID]))?;
    typed
        .insert_column(0, case_slt.column(col::CASE_ID).map_err(internal)?.clone())
        .map_err(internal)?;
    Ok(typed)
}

/// Writes `case_slt` (text columns as plain strings, as built by `slt
/// report`) hive-style by `period` into `dir`, each file with `metadata`.
///
/// With `keep_from` (the `case_slt/` of the report being updated), the
/// partitions there whose period has no case in this run are kept: their
/// rows and their own key-value metadata (the as-of and policy of the run
/// that measured them) are written again with this run's, so that every
/// partition shares one set of enum categories. Returns every row of the
/// layout when a partition was kept (for the aggregates), and a description
/// of each partition for the manifest.
pub fn write_case_slt_by_period(
    case_slt: &DataFrame,
    dir: &Path,
    metadata: &[(String, String)],
    keep_from: Option<&Path>,
) -> Result<(Option<DataFrame>, serde_json::Value)> {
    let periods = case_slt
        .column(col::PERIOD)
        .map_err(internal)?
        .as_materialized_series()
        .cast(&DataType::String)
        .map_err(internal)?;
    let measured: std::collections::BTreeSet<&str> =
        periods.str().map_err(internal)?.iter().flatten().collect();
    let mut kept = Vec::new();
    if let Some(old) = keep_from {
        if old.is_dir() {
            for part in read_partitions(old, col::PERIOD)? {
                if measured.contains(part.value.as_str()) {
                    continue;
                }
                let version = part
                    .metadata
                    .iter()
                    .find(|(k, _)| k == "slt_schema_version")
                    .map(|(_, v)| v.as_str());
                if version != Some(SCHEMA_VERSION) {
                    return Err(Error::Input {
                        path: old.join(format!("{}={}", col::PERIOD, part.value)),
                        reason: format!(
                            "written with output schema version {}, this slt writes {SCHEMA_VERSION}: rerun every period without --update",
                            version.unwrap_or("(none)")
                        ),
                    });
                }
                kept.push(part);
            }
        } else if old.with_extension("parquet").exists() {
            return Err(Error::Usage(format!(
                "--update: `{}` holds case_slt.parquet, not a partitioned case_slt/ (write it once with --partition-by period, without --update)",
                old.parent().unwrap_or(old).display()
            )));
        }
    }
    let names: Vec<PlSmallStr> = case_slt.get_column_names_owned();
    let mut all = case_slt.clone();
    for part in &kept {
        let rows = part
            .frame
            .select(names.iter().cloned())
            .and_then(|f| all.vstack_mut(&f).map(|_| ()));
        rows.map_err(|e| Error::Input {
            path: keep_from
                .unwrap_or(dir)
                .join(format!("{}={}", col::PERIOD, part.value)),
            reason: format!("cannot be kept: {e}"),
        })?;
    }
    let typed = case_slt_for_writing(&all)?;
    let metadata_of = |value: &str| {
        kept.iter()
            .find(|p| p.value == value)
            .map(|p| p.metadata.clone())
            .unwrap_or_else(|| metadata.to_vec())
    };
    let written = write_partitioned(&typed, dir, col::PERIOD, &metadata_of)?;
    let describe: serde_json::Map<String, serde_json::Value> = written
        .iter()
        .map(|(value, rows)| {
            let meta = metadata_of(value);
            let get = |key: &str| meta.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
            let source = if kept.iter().any(|p| &p.value == value) {
                "kept"
            } else {
                "this run"
            };
            (
                value.clone(),
                serde_json::json!({
                    "path": format!("case_slt/{}={value}/{PART_FILE}", col::PERIOD),
                    "cases": rows,
                    "measured_by": source,
                    "slt_as_of": get("slt_as_of"),
                    "slt_policy_sha256": get("slt_policy_sha256"),
                }),
            )
        })
        .collect();
    Ok((
        (!kept.is_empty()).then_some(all),
        serde_json::Value::Object(describe),
    ))
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
    ParquetWriter::new(&mut buf)
        .finish(&mut df.clear())
        .map_err(internal)?;
    let mut reader = ParquetReader::new(std::io::Cursor::new(buf));
    let metadata = reader.get_metadata().map_err(internal)?;
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

/// A directory being written: files go to a temporary sibling that replaces
/// the target only in [`Staging::commit`].
#[derive(Debug)]
pub struct Staging {
    target: PathBuf,
    temp: PathBuf,
}

impl Staging {
    /// Creates the temporary directory beside `target`.
    pub fn new(target: &Path) -> Result<Self> {
        let parent = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&parent).map_err(|e| Error::Write {
            path: parent.clone(),
            reason: e.to_string(),
        })?;
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "report".into());
        let temp = parent.join(format!(".{name}.tmp-{}", std::process::id()));
        if temp.exists() {
            std::fs::remove_dir_all(&temp).map_err(|e| Error::Write {
                path: temp.clone(),
                reason: e.to_string(),
            })?;
        }
        std::fs::create_dir(&temp).map_err(|e| Error::Write {
            path: temp.clone(),
            reason: e.to_string(),
        })?;
        Ok(Staging {
            target: target.to_path_buf(),
            temp,
        })
    }

    /// The staging directory itself.
    pub fn dir(&self) -> &Path {
        &self.temp
    }

    /// Path of an output file inside the staging directory.
    pub fn file(&self, name: &str) -> PathBuf {
        self.temp.join(name)
    }

    /// Replaces the target with the staged directory.
    pub fn commit(self) -> Result<()> {
        let write_err = |path: &Path, e: std::io::Error| Error::Write {
            path: path.into(),
            reason: e.to_string(),
        };
        if !self.target.exists() {
            return std::fs::rename(&self.temp, &self.target)
                .map_err(|e| write_err(&self.target, e));
        }
        // Swap the two directories in one step, so a reader (or a kill at any
        // moment) sees either the old report or the new one, never neither.
        // The old report is then in the temporary path, removed on drop.
        if exchange(&self.temp, &self.target).is_ok() {
            return Ok(());
        }
        // Filesystems without an atomic exchange: two renames.
        let old = self.temp.with_file_name(format!(
            "{}.old",
            self.temp.file_name().expect("named").to_string_lossy()
        ));
        std::fs::rename(&self.target, &old).map_err(|e| write_err(&self.target, e))?;
        std::fs::rename(&self.temp, &self.target).map_err(|e| write_err(&self.target, e))?;
        std::fs::remove_dir_all(&old).map_err(|e| write_err(&old, e))?;
        Ok(())
    }
}

/// Atomically exchanges two paths (Linux `renameat2(RENAME_EXCHANGE)`).
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    use rustix::fs::{renameat_with, RenameFlags, CWD};
    renameat_with(CWD, a, CWD, b, RenameFlags::EXCHANGE).map_err(std::io::Error::from)
}

#[cfg(not(target_os = "linux"))]
fn exchange(_: &Path, _: &Path) -> std::io::Result<()> {
    Err(std::io::ErrorKind::Unsupported.into())
}

impl Drop for Staging {
    fn drop(&mut self) {
        // Not committed (an error): leave no partial output behind.
        if self.temp.exists() {
            let _ = std::fs::remove_dir_all(&self.temp);
        }
    }
}
