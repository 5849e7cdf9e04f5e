//! `manifest.json`: what a report is, what it was made from, and the row
//! accounting that proves nothing was lost. A typed struct: every key is a
//! field, so a renamed key is a compile error, not empty metadata.
//!
//! The key order is the field order. Every Parquet file carries four of
//! these values as key-value metadata ([`Manifest::parquet_metadata`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::guard::OutputKind;
use super::SCHEMA_VERSION;
use crate::ingest::{Counts, SourceFile};

/// The whole manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Always `slt`.
    pub tool: String,
    /// `report` (see [`OutputKind`]).
    pub kind: String,
    /// slt's version.
    pub version: String,
    /// [`SCHEMA_VERSION`].
    pub schema_version: String,
    /// The as-of instant, RFC 3339 UTC.
    pub as_of: String,
    /// `flag` or `latest_in_export`.
    pub as_of_source: String,
    /// `restart` or `from_creation`.
    pub priority_change_rule: String,
    /// The zone periods are cut in.
    pub report_time_zone: String,
    /// Every input table, in input order.
    pub tables: Tables,
    /// The policy file.
    pub policy: FileEntry,
    /// The holiday list.
    pub holidays: FileEntry,
    /// The mapping file, if one was given.
    pub mapping: Option<FileEntry>,
    /// Counts of entitlement statuses and finding rules.
    pub entitlements: EntitlementSummary,
    /// Cases measured.
    pub cases_measured: u64,
    /// Cases per outcome, by name.
    pub outcomes: BTreeMap<String, u64>,
    /// Rows rejected over all tables.
    pub rows_rejected: u64,
    /// The files written, relative to the report directory.
    pub outputs: Vec<String>,
    /// `period` when `case_slt` is partitioned.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub case_slt_partitioned_by: Option<String>,
    /// The partitions, when `case_slt` is partitioned.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub case_slt_partitions: Option<serde_json::Value>,
    /// With `--source`: the vendor export and what its importer did.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub source: Option<SourceEntry>,
    /// With `--shard I/N`: which shard this report is.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub shard: Option<ShardEntry>,
    /// Written by `slt merge`: the shard directories merged, in shard order.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub merged_from: Option<Vec<String>>,
}

/// Which shard a report is (`slt report --shard I/N`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardEntry {
    /// This shard, from 1.
    pub index: u32,
    /// How many shards in all.
    pub count: u32,
    /// The rule placing a case in a shard.
    pub hash: String,
}

/// A vendor export (`--source`): per vendor file, the records read and
/// what became of them. For a data file, `read = rows + skipped +
/// rejected` (`rows` are the `cases` and `events` rows it gave, which the
/// `tables` entries then account for); a lookup file (users, statuses) is
/// read for reference.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceEntry {
    /// `salesforce`, `zendesk` or `jsm`.
    pub kind: String,
    /// Every vendor file read.
    pub files: Vec<VendorFileEntry>,
    /// Vendor records rejected on import (in `rejects.parquet` with row 0).
    pub records_rejected: u64,
    /// What belongs to no single record.
    pub warnings: Vec<String>,
}

/// One vendor file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VendorFileEntry {
    /// File name.
    pub file: String,
    /// `data` (cases and events come from it) or `lookup`.
    pub role: String,
    /// Records read.
    pub read: u64,
    /// Records that became a `cases` or `events` row (data files).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub rows: Option<u64>,
    /// Records skipped as not about the case's conversation or clock.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub skipped: Option<u64>,
    /// Records rejected.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub rejected: Option<u64>,
}

impl SourceEntry {
    /// The entry of an import.
    pub fn of(import: &crate::ingest::VendorImport) -> SourceEntry {
        let data = import.files.iter().map(|f| VendorFileEntry {
            file: f.file.clone(),
            role: "data".into(),
            read: f.read,
            rows: Some(f.rows),
            skipped: Some(f.skipped),
            rejected: Some(f.rejected),
        });
        let lookups = import.lookups.iter().map(|l| VendorFileEntry {
            file: l.file.clone(),
            role: "lookup".into(),
            read: l.records,
            rows: None,
            skipped: None,
            rejected: None,
        });
        SourceEntry {
            kind: import.kind.name().into(),
            files: data.chain(lookups).collect(),
            records_rejected: import.rejects.len() as u64,
            warnings: import.warnings.clone(),
        }
    }
}

/// The five input tables (an absent optional table has a null file).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tables {
    /// `accounts`.
    pub accounts: TableEntry,
    /// `cases`.
    pub cases: TableEntry,
    /// `events`.
    pub events: TableEntry,
    /// `engagements`.
    pub engagements: TableEntry,
    /// `contacts`.
    pub contacts: TableEntry,
}

impl Tables {
    /// Every table with its name, in input order.
    pub fn all(&self) -> [(&'static str, &TableEntry); 5] {
        [
            ("accounts", &self.accounts),
            ("cases", &self.cases),
            ("events", &self.events),
            ("engagements", &self.engagements),
            ("contacts", &self.contacts),
        ]
    }

    /// Every table's entry, in input order, to update.
    pub fn all_mut(&mut self) -> [&mut TableEntry; 5] {
        [
            &mut self.accounts,
            &mut self.cases,
            &mut self.events,
            &mut self.engagements,
            &mut self.contacts,
        ]
    }
}

/// One input table: its file and row accounting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableEntry {
    /// Path as given (null for an absent optional table).
    pub file: Option<String>,
    /// `csv`, `parquet` or `ndjson`.
    pub format: Option<String>,
    /// SHA-256 of the file.
    pub sha256: Option<String>,
    /// Data rows read.
    pub rows_read: u64,
    /// Rows used.
    pub rows_used: u64,
    /// Rows rejected.
    pub rows_rejected: u64,
    /// With `--shard`: rows another shard uses or reports, so that
    /// `rows_read = rows_used + rows_rejected + rows_in_other_shards`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub rows_in_other_shards: Option<u64>,
}

impl TableEntry {
    /// The entry of a table read from `file` (or absent), with its counts.
    pub fn new(file: Option<&SourceFile>, counts: Counts) -> Self {
        TableEntry {
            file: file.map(|f| f.path.clone()),
            format: file.map(|f| f.format.extension().to_string()),
            sha256: file.and_then(|f| f.sha256.clone()),
            rows_read: counts.read,
            rows_used: counts.used,
            rows_rejected: counts.rejected,
            rows_in_other_shards: None,
        }
    }
}

/// A configuration file and its hash.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileEntry {
    /// Path as given, or `(bundled) NAME`.
    pub file: String,
    /// SHA-256 of its text.
    pub sha256: String,
}

impl FileEntry {
    /// The entry of a file's `text`, read from `path` or bundled as `bundled`.
    pub fn new(path: Option<&std::path::Path>, bundled: &str, text: &str) -> Self {
        FileEntry {
            file: path
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| format!("(bundled) {bundled}")),
            sha256: sha256_hex(text.as_bytes()),
        }
    }
}

/// SHA-256 of `bytes`, hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Entitlement counts, for a glance at the manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntitlementSummary {
    /// Contract-year rows per status.
    pub statuses: BTreeMap<String, u64>,
    /// Findings per rule.
    pub findings: BTreeMap<String, u64>,
}

/// Milliseconds per stage, as the run's log lines give them. Not in the
/// manifest: the same export and flags give the same bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timing {
    /// Reading the files.
    pub read: u64,
    /// Judging every row.
    pub validate: u64,
    /// Measuring the cases.
    pub measure: u64,
    /// The entitlement rules.
    pub entitlements: u64,
    /// The aggregates.
    pub aggregate: u64,
}

impl Manifest {
    /// The key-value metadata every Parquet file of the report carries.
    pub fn parquet_metadata(&self) -> Vec<(String, String)> {
        let mut pairs = vec![
            ("slt_version".into(), self.version.clone()),
            ("slt_schema_version".into(), SCHEMA_VERSION.into()),
            ("slt_as_of".into(), self.as_of.clone()),
            ("slt_policy_sha256".into(), self.policy.sha256.clone()),
        ];
        if let Some(s) = &self.shard {
            pairs.push(("slt_shard".into(), format!("{}/{}", s.index, s.count)));
        }
        pairs
    }

    /// The manifest as written: pretty JSON and a final newline.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a manifest serializes") + "\n"
    }

    /// `report`.
    pub fn report_kind() -> String {
        OutputKind::Report.as_str().to_string()
    }
}
