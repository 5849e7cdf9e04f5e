//! slt measures exported support cases against the initial-response targets
//! promised to each customer, and reports attainment.
//!
//! The pipeline, one way: **ingest** (export files → validated rows, rejects)
//! → **measure** (each case against its target, in parallel, calling the pure
//! **calendar** core through the **policy**) → **aggregate** (attainment per
//! tier × priority × region × period, with the SQL in `sql/`) → **output**
//! (Parquet, manifest) and **charts** (SVG and PNG; a service-review pack
//! per account and quarter).
//!
//! Glossary: a *target* is the business time allowed before the first public
//! agent response; *coverage* says which instants count (`24x7`, `24x5`,
//! `business_hours`); the *deadline* is the last instant at which the target
//! is still kept; *attainment* is met / (met + breached); *business minutes*
//! are covered minutes.

pub mod aggregate;
pub mod calendar;
pub mod charts;
pub mod cli;
pub mod cmd;
pub mod entitlements;
pub mod error;
pub mod generate;
pub mod ingest;
pub mod lock;
pub mod mapping;
pub mod measure;
pub mod output;
pub mod policy;
pub mod progress;
pub mod timestamp;
pub mod vendor;

pub use error::{Error, Exit, Result};

/// Runs one command line.
pub fn run(cli: cli::Cli) -> Result<Exit> {
    match cli.command {
        cli::Command::Report(args) => cmd::report::run(args, cli.log_format),
        cli::Command::Calendar(args) => cmd::calendar::run(args, cli.log_format),
        cli::Command::Generate(args) => cmd::generate::run(args, cli.log_format),
        cli::Command::Review(args) => cmd::review::run(args, cli.log_format),
        cli::Command::Query(args) => cmd::query::run(args),
    }
}
