//! SQL over a report directory: every `NAME.parquet` is the table `NAME`;
//! a directory `NAME/` holding a hive layout
//! (`NAME/period=2026-Q3/part-0.parquet`, as `slt report --partition-by
//! period` writes `case_slt`) is the table `NAME` with its partition column
//! restored. Enum columns are registered as plain text, so
//! `WHERE region = 'Mars'` is simply false rather than an error.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use polars::prelude::*;
use polars::sql::SQLContext;

use crate::{Error, Result};

/// The tables of a report directory, by name: `NAME.parquet` files and
/// hive-partitioned `NAME/` directories.
pub fn tables(dir: &Path) -> Result<BTreeMap<String, PathBuf>> {
    let unusable = |reason: String| Error::Input {
        path: dir.into(),
        reason,
    };
    if !dir.is_dir() {
        return Err(unusable(
            "not a directory (give the --out of `slt report`)".into(),
        ));
    }
    let entries = std::fs::read_dir(dir).map_err(|source| Error::Read {
        path: dir.into(),
        source,
    })?;
    let mut tables = BTreeMap::new();
    for entry in entries {
        let path = entry
            .map_err(|source| Error::Read {
                path: dir.into(),
                source,
            })?
            .path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if name.starts_with('.') {
            continue;
        }
        let table = if path.is_file() {
            name.strip_suffix(".parquet").map(str::to_string)
        } else if path.is_dir() && is_hive_layout(&path) {
            Some(name.to_string())
        } else {
            None
        };
        if let Some(table) = table {
            tables.insert(table, path);
        }
    }
    if tables.is_empty() {
        return Err(unusable(
            "holds no Parquet tables (give the --out of `slt report`)".into(),
        ));
    }
    Ok(tables)
}

/// Whether `dir` holds `KEY=VALUE/` subdirectories only.
fn is_hive_layout(dir: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    let names: Vec<String> = entries
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    let visible: Vec<&String> = names.iter().filter(|n| !n.starts_with('.')).collect();
    !visible.is_empty()
        && visible
            .iter()
            .all(|n| n.contains('=') && dir.join(n).is_dir())
}

/// Runs `sql` over `tables`, each registered under its name.
pub fn execute(tables: &BTreeMap<String, PathBuf>, sql: &str) -> Result<DataFrame> {
    let mut ctx = SQLContext::new();
    for (name, path) in tables {
        ctx.register(name, scan(path)?);
    }
    let bad_sql = |e: PolarsError| {
        let message = e.to_string();
        let first = message
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .unwrap_or("invalid query")
            .to_string();
        let names: Vec<&str> = tables.keys().map(String::as_str).collect();
        if first.contains("relation") || first.contains("table") {
            Error::Usage(format!("query: {first} (tables: {})", names.join(", ")))
        } else {
            Error::Usage(format!("query: {first}"))
        }
    };
    ctx.execute(sql)
        .and_then(|lf| lf.collect())
        .map_err(bad_sql)
}

/// A lazy scan of one table, enum and categorical columns as text.
fn scan(path: &Path) -> Result<LazyFrame> {
    let unusable = |e: PolarsError| Error::Input {
        path: path.into(),
        reason: e.to_string(),
    };
    let source = PlRefPath::try_from_path(path).map_err(unusable)?;
    let mut args = ScanArgsParquet::default();
    if path.is_dir() {
        args.hive_options = HiveOptions {
            enabled: Some(true),
            try_parse_dates: false,
            ..HiveOptions::new_enabled()
        };
    }
    let mut lf = LazyFrame::scan_parquet(source, args).map_err(unusable)?;
    let schema = lf.collect_schema().map_err(unusable)?;
    let text: Vec<Expr> = schema
        .iter()
        .filter(|(_, dtype)| matches!(dtype, DataType::Enum(..) | DataType::Categorical(..)))
        .map(|(name, _)| col(name.clone()).cast(DataType::String))
        .collect();
    if !text.is_empty() {
        lf = lf.with_columns(text);
    }
    Ok(lf)
}
