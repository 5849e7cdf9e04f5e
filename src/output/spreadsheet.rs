//! CSV for people, safe to open in a spreadsheet. Values come from the
//! export, so a case id such as `=HYPERLINK("http://…")` must not become a
//! live formula: a text cell that starts with `=`, `+`, `-`, `@`, a tab or
//! a carriage return is written with a leading `'` (OWASP's guidance on CSV
//! injection), which spreadsheets show as text. Numbers, instants and
//! empty cells are left alone. Used by every CSV meant for people: the
//! review pack's and `slt query --format csv`.

use std::borrow::Cow;

use polars::prelude::*;

use crate::{Error, Result};

/// The characters a spreadsheet may read as the start of a formula.
const TRIGGERS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// `cell`, with a leading `'` when a spreadsheet could take it for a formula.
pub fn neutralise(cell: &str) -> Cow<'_, str> {
    if cell.starts_with(TRIGGERS) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// `df` with every text column (string, enum, categorical) neutralised
/// cell by cell, as plain strings; other columns as they are.
pub fn neutralise_frame(df: &DataFrame) -> Result<DataFrame> {
    let mut columns = Vec::with_capacity(df.width());
    for c in df.columns() {
        let text = matches!(
            c.dtype(),
            DataType::String | DataType::Enum(..) | DataType::Categorical(..)
        );
        if !text {
            columns.push(c.clone());
            continue;
        }
        let s = c.as_materialized_series().cast(&DataType::String)?;
        let values: StringChunked = s
            .str()?
            .iter()
            .map(|v| v.map(|v| neutralise(v).into_owned()))
            .collect();
        columns.push(values.with_name(c.name().clone()).into_column());
    }
    Ok(DataFrame::new(df.height(), columns)?)
}

/// A CSV document with `header` and `rows`, every cell neutralised.
pub fn csv_document(
    header: &[&str],
    rows: impl IntoIterator<Item = Vec<String>>,
) -> Result<String> {
    let err = |e: csv::Error| Error::Internal(e.to_string());
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(header).map_err(err)?;
    for row in rows {
        w.write_record(row.iter().map(|c| neutralise(c).into_owned()))
            .map_err(err)?;
    }
    let bytes = w.into_inner().map_err(|e| Error::Internal(e.to_string()))?;
    Ok(String::from_utf8(bytes).expect("utf-8"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_starts_get_a_quote_and_the_rest_stays() {
        assert_eq!(
            neutralise("=HYPERLINK(\"http://x\")"),
            "'=HYPERLINK(\"http://x\")"
        );
        for bad in ["+1", "-2", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(neutralise(bad), format!("'{bad}"));
        }
        for fine in ["C-001", "ACC-0012", "", "a=b", " =x", "'quoted"] {
            assert_eq!(neutralise(fine), fine);
        }
    }

    #[test]
    fn only_text_columns_of_a_frame_are_touched() {
        let df = df!(
            "id" => ["=1+1", "C-1"],
            "n" => [-3i64, 4],
        )
        .unwrap();
        let safe = neutralise_frame(&df).unwrap();
        let ids: Vec<Option<&str>> = safe.column("id").unwrap().str().unwrap().iter().collect();
        assert_eq!(ids, [Some("'=1+1"), Some("C-1")]);
        assert_eq!(safe.column("n").unwrap(), df.column("n").unwrap());
        let doc = csv_document(&["a", "b"], [vec!["-x".to_string(), "y,z".to_string()]]).unwrap();
        assert_eq!(doc, "a,b\n'-x,\"y,z\"\n");
    }
}
