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
//!
//! A `[source]` section holds the settings of a vendor import (`--source
//! salesforce|zendesk|jsm`, see [`crate::vendor::settings`]). The importer
//! then produces the cases and events itself, so a mapping with `[source]`
//! refuses `[values.priority]` (the importer's priority map is the one
//! strict map) and `[columns.cases]` / `[columns.events]`; `[columns.accounts]`
//! and the other `[values.*]` still apply to what the importer wrote.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::vendor::{RawSource, SourceKind, SourceSettings, VendorError};
use crate::{Error, Result};

/// A validated mapping (the empty mapping renames nothing).
#[derive(Debug, Clone, Default)]
pub struct Mapping {
    columns: BTreeMap<String, BTreeMap<String, String>>,
    values: BTreeMap<String, BTreeMap<String, String>>,
    source: Option<SourceSettings>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMapping {
    #[serde(default)]
    columns: BTreeMap<String, BTreeMap<String, String>>,
    #[serde(default)]
    values: BTreeMap<String, BTreeMap<String, String>>,
    #[serde(default)]
    source: Option<RawSource>,
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
        let source = match raw.source {
            None => None,
            Some(source) => {
                let refuse = |what: &str| {
                    Error::Input {
                    path: source_name.into(),
                    reason: format!(
                        "`{what}` cannot be used with `[source]`: the vendor importer writes the canonical cases and events itself (set priorities in `[source] priority`)"
                    ),
                }
                };
                if raw.values.contains_key("priority") {
                    return Err(refuse("values.priority"));
                }
                for table in ["cases", "events"] {
                    if raw.columns.contains_key(table) {
                        return Err(refuse(&format!("columns.{table}")));
                    }
                }
                Some(source.resolve().map_err(|reason| Error::Input {
                    path: source_name.into(),
                    reason,
                })?)
            }
        };
        Ok(Mapping {
            columns: raw.columns,
            values: raw.values,
            source,
        })
    }

    /// The `[source]` settings, if the mapping has the section.
    pub fn source(&self) -> Option<&SourceSettings> {
        self.source.as_ref()
    }

    /// The settings of a `kind` import: the mapping's `[source]` (whose
    /// `kind` must be `kind`), else the vendor's defaults.
    pub fn source_settings(
        &self,
        kind: SourceKind,
    ) -> std::result::Result<SourceSettings, VendorError> {
        match &self.source {
            None => Ok(SourceSettings::defaults(kind)),
            Some(s) if s.kind == kind => Ok(s.clone()),
            Some(s) => Err(VendorError::KindMismatch {
                mapping: s.kind,
                asked: kind,
            }),
        }
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
    fn vendor_source_examples_parse_with_their_kind() {
        for (file, kind) in [
            ("salesforce-source.toml", SourceKind::Salesforce),
            ("zendesk-source.toml", SourceKind::Zendesk),
            ("jsm-source.toml", SourceKind::Jsm),
        ] {
            let path = format!("{}/fixtures/mappings/{file}", env!("CARGO_MANIFEST_DIR"));
            let text = std::fs::read_to_string(&path).unwrap();
            let m = Mapping::parse(&text, file).unwrap_or_else(|e| panic!("{file}: {e}"));
            assert_eq!(m.source().map(|s| s.kind), Some(kind), "{file}");
            assert!(m.source_settings(kind).is_ok());
            let other = SourceKind::ALL.into_iter().find(|k| *k != kind).unwrap();
            assert!(m.source_settings(other).is_err());
        }
    }

    #[test]
    fn a_mapping_without_source_gives_vendor_defaults() {
        let m = Mapping::parse("[values.tier]\nStandard = \"Online\"\n", "m.toml").unwrap();
        assert!(m.source().is_none());
        assert_eq!(
            m.source_settings(SourceKind::Jsm).unwrap(),
            SourceSettings::defaults(SourceKind::Jsm)
        );
    }

    #[test]
    fn source_refuses_priority_values_and_case_columns() {
        let err = Mapping::parse(
            "[source]\nkind = \"salesforce\"\n[values.priority]\nCritical = \"P1\"\n",
            "m.toml",
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("m.toml: `values.priority` cannot be used with `[source]`"),
            "{err}"
        );
        let err = Mapping::parse(
            "[source]\nkind = \"zendesk\"\n[columns.events]\nat = \"created\"\n",
            "m.toml",
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("`columns.events` cannot be used"),
            "{err}"
        );
        // Accounts columns and other value maps still apply.
        let m = Mapping::parse(
            "[source]\nkind = \"jsm\"\n[columns.accounts]\ntier = \"plan\"\n[values.channel]\nweb = \"portal\"\n",
            "m.toml",
        )
        .unwrap();
        assert_eq!(m.source_column("accounts", "tier"), "plan");
        assert_eq!(m.value("channel", "web"), "portal");
    }

    #[test]
    fn unknown_source_key_is_named_with_its_line() {
        let err = Mapping::parse("[source]\nkind = \"jsm\"\nagent = []\n", "m.toml").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("m.toml: line 3, column 1: unknown field `agent`"),
            "{err}"
        );
        let err = Mapping::parse(
            "[source]\nkind = \"jsm\"\npriority = { Lowest = \"P5\" }\n",
            "m.toml",
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "m.toml: `source.priority.Lowest`: `P5` is not a priority (expected P1, P2, P3 or P4)"
        );
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
