//! `slt query`: one ad-hoc SQL statement over a report directory's tables,
//! printed as an aligned table, or written as CSV or Parquet.
//!
//! Every `NAME.parquet` in the directory is the table `NAME`; a directory
//! `NAME/` holding a hive layout (`NAME/period=2026-Q3/part-0.parquet`, as
//! `slt report --partition-by period` writes `case_slt`) is the table `NAME`
//! with its partition column restored. Enum columns are registered as plain
//! text, so `WHERE region = 'Mars'` is simply false rather than an error.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use polars::prelude::*;
use polars::sql::SQLContext;

use crate::cli::{QueryArgs, QueryFormat};
use crate::output::write_parquet;
use crate::{Error, Exit, Result};

/// Runs `slt query`.
pub fn run(args: QueryArgs) -> Result<Exit> {
    if args.format == QueryFormat::Parquet && args.output.is_none() {
        return Err(Error::Usage("--format parquet needs --output FILE".into()));
    }
    let tables = tables(&args.dir)?;
    let mut result = execute(&tables, &args.sql)?;
    match (args.format, &args.output) {
        (QueryFormat::Parquet, Some(path)) => write_parquet(&mut result, path, &[])?,
        (format, Some(path)) => {
            let file = std::fs::File::create(path).map_err(|e| Error::Write {
                path: path.clone(),
                reason: e.to_string(),
            })?;
            let mut out = std::io::BufWriter::new(file);
            render(&mut result, format, &mut out)
                .and_then(|()| out.flush())
                .map_err(|e| Error::Write {
                    path: path.clone(),
                    reason: e.to_string(),
                })?;
        }
        (format, None) => {
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            render(&mut result, format, &mut out)
                .and_then(|()| out.flush())
                .map_err(Error::Stdout)?;
        }
    }
    Ok(Exit::Success)
}

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

/// Writes `df` to `out` as an aligned table or CSV.
fn render(df: &mut DataFrame, format: QueryFormat, out: &mut dyn Write) -> std::io::Result<()> {
    match format {
        QueryFormat::Csv => CsvWriter::new(&mut *out)
            .include_header(true)
            .finish(df)
            .map_err(|e| std::io::Error::other(e.to_string())),
        QueryFormat::Table | QueryFormat::Parquet => write_table(df, out),
    }
}

/// An aligned text table: a header, a rule, one line per row (numbers on
/// the right), and the row count.
fn write_table(df: &DataFrame, out: &mut dyn Write) -> std::io::Result<()> {
    let columns = df.columns();
    let header: Vec<String> = columns.iter().map(|c| c.name().to_string()).collect();
    let mut rows = Vec::with_capacity(df.height());
    for i in 0..df.height() {
        let row = columns
            .iter()
            .map(|c| c.get(i).map(|v| cell(&v)))
            .collect::<PolarsResult<Vec<String>>>()
            .map_err(std::io::Error::other)?;
        rows.push(row);
    }
    let widths: Vec<usize> = (0..columns.len())
        .map(|j| {
            let width = |s: &String| s.chars().count();
            rows.iter()
                .map(|r| width(&r[j]))
                .chain([width(&header[j])])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let numeric: Vec<bool> = columns
        .iter()
        .map(|c| c.dtype().is_primitive_numeric())
        .collect();
    let line = |fields: &[String], right: &[bool]| {
        let padded: Vec<String> = fields
            .iter()
            .zip(&widths)
            .zip(right)
            .map(|((text, &width), &right)| {
                if right {
                    format!("{text:>width$}")
                } else {
                    format!("{text:<width$}")
                }
            })
            .collect();
        padded.join("  ").trim_end().to_string()
    };
    writeln!(out, "{}", line(&header, &vec![false; columns.len()]))?;
    let rule: Vec<String> = widths.iter().map(|&w| "-".repeat(w)).collect();
    writeln!(out, "{}", rule.join("  "))?;
    for row in &rows {
        writeln!(out, "{}", line(row, &numeric))?;
    }
    let n = df.height();
    writeln!(out, "({n} row{})", if n == 1 { "" } else { "s" })
}

/// One value as table text: nulls empty, floats to at most six decimals.
fn cell(value: &AnyValue) -> String {
    match value {
        AnyValue::Null => String::new(),
        AnyValue::String(s) => (*s).to_string(),
        AnyValue::StringOwned(s) => s.to_string(),
        AnyValue::Float64(x) => float(*x),
        AnyValue::Float32(x) => float(f64::from(*x)),
        other => other.to_string(),
    }
}

fn float(x: f64) -> String {
    let text = format!("{x:.6}");
    let text = text.trim_end_matches('0');
    text.strip_suffix('.')
        .map(|t| format!("{t}.0"))
        .unwrap_or_else(|| text.to_string())
}
