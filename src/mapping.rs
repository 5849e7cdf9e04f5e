//! Mapping files: rename an export's columns and values into the canonical
//! contract (`docs/rules.md`, section 6), e.g. Salesforce priorities `Critical` → `P1`.
//!
//! ```toml
//! [columns.cases]          # canonical name = name in the export
//! case_id = "CaseNumber"
//! created_at = "CreatedDate"
//!
//! [values.priority]        # value in the export = canonical value
//! Critical = "P1"
//! ```
//!
//! `[values.priority]` applies to `cases.priority` and to the `value` of
//! `priority_change` events; `[values.<column>]` applies to that canonical
//! column in every table. Values not listed pass through unchanged.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::{Error, Result};

/// A validated mapping (the empty mapping renames nothing).
#[derive(Debug, Clone, Default)]
pub struct Mapping {
    columns: BTreeMap<String, BTreeMap<String, String>>,
    values: BTreeMap<String, BTreeMap<String, String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMapping {
    #[serde(default)]
    columns: BTreeMap<String, BTreeMap<String, String>>,
    #[serde(default)]
    values: BTreeMap<String, BTreeMap<String, String>>,
}

/// Tables a mapping may rename columns of.
const TABLES: [&str; 5] = ["accounts", "cases", "events", "engagements", "contacts"];

impl Mapping {
    /// Parses a mapping file; `source_name` names it in errors.
    pub fn parse(text: &str, source_name: &str) -> Result<Self> {
        let raw: RawMapping = toml::from_str(text).map_err(|e| Error::Input {
            path: source_name.into(),
            reason: crate::toml_error::one_line(text, &e),
        })?;
        for table in raw.columns.keys() {
            if !TABLES.contains(&table.as_str()) {
                return Err(Error::Input {
                    path: source_name.into(),
                    reason: format!(
                        "`columns.{table}`: unknown table (expected accounts, cases, events, engagements or contacts)"
                    ),
                });
            }
        }
        Ok(Mapping {
            columns: raw.columns,
            values: raw.values,
        })
    }

    /// The name in the export of canonical column `canonical` of `table`.
    pub fn source_column<'a>(&'a self, table: &str, canonical: &'a str) -> &'a str {
        self.columns
            .get(table)
            .and_then(|m| m.get(canonical))
            .map(String::as_str)
            .unwrap_or(canonical)
    }

    /// Maps a value of canonical column `column` to its canonical value.
    #[inline]
    pub fn value<'a>(&'a self, column: &str, value: &'a str) -> &'a str {
        match self.values.get(column) {
            None => value,
            Some(m) => m.get(value).map(String::as_str).unwrap_or(value),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn salesforce_example_renames_columns_and_priorities() {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/mappings/salesforce.toml"
        ))
        .unwrap();
        let m = Mapping::parse(&text, "salesforce.toml").unwrap();
        assert_eq!(m.source_column("cases", "case_id"), "CaseNumber");
        assert_eq!(m.source_column("cases", "product"), "Product__c");
        assert_eq!(m.value("priority", "Critical"), "P1");
        assert_eq!(m.value("priority", "P3"), "P3");
    }

    #[test]
    fn unknown_table_is_refused() {
        let err = Mapping::parse("[columns.tickets]\nid = \"x\"\n", "m.toml").unwrap_err();
        assert!(
            err.to_string().contains("`columns.tickets`: unknown table"),
            "{err}"
        );
    }
}
