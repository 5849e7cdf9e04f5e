//! Command-line types. The doc comments here are the `--help` text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Did the support organisation keep the response times it promised?
///
/// slt measures every case of an exported case history against its
/// initial-response target, in business time, and writes attainment per
/// tier × priority × region × period as Parquet.
///
/// Exit codes: 0 report written; 1 written but rows were rejected and
/// --fail-on-rejects was given; 2 usage error; 3 unusable input, policy,
/// holiday or mapping file (nothing written); 4 another run holds the output
/// lock; 5 output could not be written or internal error.
#[derive(Debug, Parser)]
#[command(name = "slt", version, about, long_about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Business-time arithmetic: "why is this case breached?".
    #[command(subcommand)]
    Calendar(CalendarCommand),
}

/// `slt calendar …`
#[derive(Debug, Subcommand)]
pub enum CalendarCommand {
    /// Business minutes between two instants in a coverage calendar.
    ///
    /// Prints the covered minutes in [START, END). With --batch, reads a CSV
    /// with columns region,coverage,start,end and writes it to standard
    /// output with a `business_minutes` column added.
    Elapsed(ElapsedArgs),
    /// The deadline of a target of MINUTES business minutes added at START.
    ///
    /// Prints the deadline as RFC 3339 UTC. With --batch, reads a CSV with
    /// columns region,coverage,start,minutes and writes it to standard output
    /// with a `deadline` column added.
    Deadline(DeadlineArgs),
}

/// Flags shared by the calendar commands.
#[derive(Debug, Args)]
pub struct CalendarOptions {
    /// Billing region (as named in the policy: Americas, EMEA, APAC, Japan).
    #[arg(long, required_unless_present = "batch")]
    pub region: Option<String>,
    /// Coverage: 24x7, 24x5 or business_hours.
    #[arg(long, required_unless_present = "batch")]
    pub coverage: Option<String>,
    /// Answer every row of this CSV instead of one question.
    #[arg(long, value_name = "FILE.csv")]
    pub batch: Option<PathBuf>,
    /// Policy file replacing the bundled default policy.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Holiday list (CSV region,date,name) replacing the bundled one.
    #[arg(long, value_name = "FILE")]
    pub holidays: Option<PathBuf>,
}

/// `slt calendar elapsed`
#[derive(Debug, Args)]
pub struct ElapsedArgs {
    #[command(flatten)]
    pub options: CalendarOptions,
    /// Start instant, RFC 3339 with offset.
    #[arg(required_unless_present = "batch", allow_hyphen_values = true)]
    pub start: Option<String>,
    /// End instant, RFC 3339 with offset.
    #[arg(required_unless_present = "batch", allow_hyphen_values = true)]
    pub end: Option<String>,
}

/// `slt calendar deadline`
#[derive(Debug, Args)]
pub struct DeadlineArgs {
    #[command(flatten)]
    pub options: CalendarOptions,
    /// Start instant, RFC 3339 with offset.
    #[arg(required_unless_present = "batch", allow_hyphen_values = true)]
    pub start: Option<String>,
    /// Target in business minutes (decimals allowed).
    #[arg(required_unless_present = "batch")]
    pub minutes: Option<String>,
}
