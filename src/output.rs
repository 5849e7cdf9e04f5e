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
pub fn write_parquet(df: &mut DataFrame, path: &Path, metadata: &[(String, String)]) -> Result<()> {
    let file = File::create(path).map_err(|e| Error::Write { path: path.into(), reason: e.to_string() })?;
    ParquetWriter::new(file)
        .with_compression(ParquetCompression::Zstd(None))
        .with_statistics(StatisticsOptions::default())
        .with_key_value_metadata(Some(KeyValueMetadata::from_static(metadata.to_vec())))
        .finish(df)
        .map_err(|e| Error::Write { path: path.into(), reason: e.to_string() })?;
    Ok(())
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
        std::fs::create_dir_all(&parent).map_err(|e| Error::Write { path: parent.clone(), reason: e.to_string() })?;
        let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "report".into());
        let temp = parent.join(format!(".{name}.tmp-{}", std::process::id()));
        if temp.exists() {
            std::fs::remove_dir_all(&temp).map_err(|e| Error::Write { path: temp.clone(), reason: e.to_string() })?;
        }
        std::fs::create_dir(&temp).map_err(|e| Error::Write { path: temp.clone(), reason: e.to_string() })?;
        Ok(Staging { target: target.to_path_buf(), temp })
    }

    /// Path of an output file inside the staging directory.
    pub fn file(&self, name: &str) -> PathBuf {
        self.temp.join(name)
    }

    /// Replaces the target with the staged directory.
    pub fn commit(self) -> Result<()> {
        let write_err = |path: &Path, e: std::io::Error| Error::Write { path: path.into(), reason: e.to_string() };
        if self.target.exists() {
            let old = self.temp.with_file_name(format!(
                "{}.old",
                self.temp.file_name().expect("named").to_string_lossy()
            ));
            std::fs::rename(&self.target, &old).map_err(|e| write_err(&self.target, e))?;
            std::fs::rename(&self.temp, &self.target).map_err(|e| write_err(&self.target, e))?;
            std::fs::remove_dir_all(&old).map_err(|e| write_err(&old, e))?;
        } else {
            std::fs::rename(&self.temp, &self.target).map_err(|e| write_err(&self.target, e))?;
        }
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        // Not committed (an error): leave no partial output behind.
        if self.temp.exists() {
            let _ = std::fs::remove_dir_all(&self.temp);
        }
    }
}
