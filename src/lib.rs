//! slt measures exported support cases against the initial-response targets
//! promised to each customer, and reports attainment.
//!
//! The pipeline runs one way ([`pipeline::run`]): **read** the export's
//! tables ([`ingest::read`]) → **judge** every row into typed cases, events
//! and contracts, or a reject with its reason ([`ingest`]) → **measure**
//! every case against its target in business time, in parallel
//! ([`measure`], calling the pure [`calendar`] through the [`policy`]) →
//! **entitlements** (contract years and findings, [`entitlements`]) →
//! **aggregate** (attainment per tier × priority × region × period, with the
//! SQL in `sql/`, [`aggregate`]) → **write** ([`output`]: Parquet, the
//! manifest and the [`charts`], atomically). [`review`] builds one
//! customer's quarterly pack from the judged export, every number as of the
//! quarter's end; [`explain`] tells one case's clock step by step, measured
//! by the same traced code as `case_slt` ([`measure::measure_case_traced`]);
//! [`present`] words values for people. [`config`] turns flags into
//! [`config::Settings`]; [`cmd`] holds the thin subcommands; [`model`] the
//! domain's nouns. The rules are in `docs/rules.md`, the outputs in
//! `docs/outputs.md`.
//!
//! Glossary: a *target* is the business time allowed before the first public
//! agent response; *coverage* says which instants count (`24x7`, `24x5`,
//! `business_hours`); the *deadline* is the last instant at which the target
//! is still kept; *attainment* is met / (met + breached); *business minutes*
//! are covered minutes; a *reject* is an input row that can't be used, kept
//! with its reason so that rows read = rows used + rows rejected; a
//! *reason* is why a case has its outcome (`answered_late`, …).

pub mod aggregate;
pub mod allocator;
pub mod calendar;
pub mod charts;
pub mod cli;
pub mod cmd;
pub mod config;
pub mod entitlements;
pub mod error;
pub mod explain;
pub mod generate;
pub mod ingest;
pub mod mapping;
pub mod measure;
pub mod merge;
pub mod model;
pub mod output;
pub mod pipeline;
pub mod policy;
pub mod present;
pub mod progress;
pub mod query;
pub mod questions;
pub mod review;
pub mod shard;
pub mod suggest;
pub mod timestamp;
mod toml_error;
pub mod vendor;

pub use error::{Error, Exit, Result};
