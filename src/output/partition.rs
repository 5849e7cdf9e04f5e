//! The hive layout of `case_slt` (`--partition-by period`):
//! `case_slt/period=2026-Q3/part-0.parquet`, and `--update`, which keeps the
//! partitions of the previous report that this run measured no case for.

use std::fs::File;
use std::path::Path;

use polars::prelude::*;

use super::frames::{case_slt_for_writing, col};
use super::parquet::{write_parquet, ARROW_SCHEMA_KEY};
use super::SCHEMA_VERSION;
use crate::{Error, Result};

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
        .column(column)?
        .as_materialized_series()
        .cast(&DataType::String)?;
    let keys = keys.str()?;
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
        let mut part = df.filter(&keys.equal(value))?.drop(column)?;
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
                DataType::Enum(..) | DataType::Categorical(..) => c.cast(&DataType::String)?,
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
        .column(col::PERIOD)?
        .as_materialized_series()
        .cast(&DataType::String)?;
    let measured: std::collections::BTreeSet<&str> = periods.str()?.iter().flatten().collect();
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
                if let Some(missing) = case_slt
                    .get_column_names()
                    .into_iter()
                    .find(|n| part.frame.column(n.as_str()).is_err())
                {
                    return Err(Error::Input {
                        path: old.join(format!("{}={}", col::PERIOD, part.value)),
                        reason: format!(
                            "written by an earlier slt, without the `{missing}` column: rerun every period without --update"
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
