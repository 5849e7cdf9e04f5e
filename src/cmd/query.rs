//! `slt query`: one ad-hoc SQL statement over a report directory's tables
//! (see [`crate::query`]), printed as an aligned table, or written as CSV
//! (text cells that a spreadsheet would run as a formula get a leading
//! `'`, see [`crate::output::spreadsheet`]) or Parquet.

use std::io::Write;

use polars::prelude::*;

use crate::cli::{QueryArgs, QueryFormat};
use crate::output::spreadsheet::neutralise_frame;
use crate::output::write_parquet;
use crate::query::{execute, tables};
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

/// Writes `df` to `out` as an aligned table or CSV.
fn render(df: &mut DataFrame, format: QueryFormat, out: &mut dyn Write) -> std::io::Result<()> {
    match format {
        // Instants as RFC 3339 UTC (`2026-03-02T09:30:00Z`), as everywhere
        // else slt writes text; slt's timestamps are all UTC.
        QueryFormat::Csv => neutralise_frame(df)
            .map_err(|e| std::io::Error::other(e.to_string()))
            .and_then(|mut safe| {
                CsvWriter::new(&mut *out)
                    .include_header(true)
                    .with_datetime_format(Some("%Y-%m-%dT%H:%M:%S%.fZ".into()))
                    .finish(&mut safe)
                    .map_err(|e| std::io::Error::other(e.to_string()))
            }),
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
