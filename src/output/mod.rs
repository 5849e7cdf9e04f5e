//! Outputs: the Parquet files, the manifest, the charts, and the directory
//! they land in.
//!
//! [`frames`] builds the output tables from the run's typed rows;
//! [`parquet`] writes one file (UTC timestamps with the zone recorded,
//! key-value metadata: tool version, schema version, as-of and policy
//! hash); [`partition`] writes `case_slt` hive-style; [`manifest`] is the
//! run's `manifest.json`; [`write`](mod@write) puts a whole report into a
//! [`staging`] directory beside `--out` and swaps it in when complete.
//! [`guard`] refuses an `--out` slt must not replace; [`lock`] keeps one
//! run at a time per `--out`. [`spreadsheet`] keeps the CSVs meant for
//! people from carrying live spreadsheet formulas.

pub mod frames;
pub mod guard;
pub mod lock;
pub mod manifest;
pub mod parquet;
pub mod partition;
pub mod spreadsheet;
pub mod staging;
pub mod write;

pub use frames::{col, enum_column, text_values, timestamp_column};
pub use parquet::write_parquet;
pub use staging::Staging;

/// Version of the output schema; bumped on any incompatible change (see
/// `docs/outputs.md`: 2 made `rejects.reason` a fixed phrase and added
/// `rejects.reason_code`).
pub const SCHEMA_VERSION: &str = "2";
