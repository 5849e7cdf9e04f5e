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
    /// How progress and errors are written to standard error: `text` (a
    /// progress bar per stage on a terminal, one plain line per stage
    /// otherwise, e.g. under cron) or `json` (one JSON object per line, for
    /// log collectors). --quiet silences everything but errors.
    #[arg(
        long,
        value_enum,
        global = true,
        default_value = "text",
        value_name = "FORMAT"
    )]
    pub log_format: crate::progress::LogFormat,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Measure every case of an export and write attainment Parquet.
    ///
    /// Without --input, runs on the demo export embedded in slt and writes
    /// to reports/demo.
    Report(ReportArgs),
    /// Business-time arithmetic: "why is this case breached?".
    #[command(subcommand)]
    Calendar(CalendarCommand),
    /// Write a realistic synthetic export (seeded, reproducible).
    Generate(GenerateArgs),
    /// Write one customer's quarterly service-review pack.
    ///
    /// Measures the export as `slt report` does, then writes into --out the
    /// four charts filtered to the account (SVG and PNG), its breached and
    /// still-pending cases of the quarter (cases.csv), and review.html: a
    /// self-contained page with a short summary, the attainment against the
    /// previous quarter, the charts and the cases. Exits 3, writing nothing,
    /// when the account has no cases in the export or none in the quarter.
    Review(ReviewArgs),
    /// Turn a vendor's native export into slt's canonical tables.
    ///
    /// Reads --input as `slt report --source SOURCE` would, and writes into
    /// --out what slt made of it: cases.csv and events.csv (RFC 3339 UTC),
    /// the accounts (and engagements, contacts) tables copied as they are,
    /// import_rejects.csv (every vendor record it could not use, with file,
    /// locator, field and reason), import_files.csv (per vendor file:
    /// records read = rows + skipped + rejected) and a manifest.
    Import(ImportArgs),
    /// Explain one case's clock, step by step.
    ///
    /// Reads and judges the export as `slt report` does (same flags), then
    /// measures that one case with the same code and prints: the contract
    /// in force, the initial priority and target, the clock start, each
    /// priority change (took effect or not, and why), the coverage windows
    /// counted (on the region's wall clock), the deadline, each event that
    /// did not stop the clock and why, the first response, and the outcome
    /// with its reason. --format json prints the case's case_slt fields
    /// under the same names, with `reason` and `steps`. Exits 3 with one
    /// line (and near matches) for an id the export does not have.
    ///
    /// Example: slt explain C-000123 --input exports/latest --format json
    Explain(ExplainArgs),
    /// Put the shards of `slt report --shard I/N` back together.
    ///
    /// Checks that the shards agree (same count, each shard once, same
    /// as-of, policy, holidays, mapping and schema) and refuses with one
    /// line otherwise; then writes what one `slt report` on the whole
    /// export writes, byte for byte (the manifest adds `merged_from`).
    ///
    /// Example: slt merge --out reports/nightly shards/1 shards/2 shards/3
    Merge(MergeArgs),
    /// Run an SQL query against a report directory's tables.
    ///
    /// Every NAME.parquet in DIR is a table NAME (case_slt, attainment,
    /// account_attainment, entitlements, entitlement_findings, rejects); a
    /// partitioned case_slt/ directory is the table case_slt, its period
    /// restored. Text columns compare as plain
    /// text. Exit 2 on bad SQL or an unknown table, 3 when DIR has no tables.
    ///
    /// Example: slt query reports/demo "SELECT region, avg(attainment) FROM
    /// attainment GROUP BY region ORDER BY region"
    Query(QueryArgs),
}

/// What to measure and how: the flags `report`, `review` and `explain` share.
#[derive(Debug, Default, Clone, Args)]
pub struct MeasureArgs {
    /// Directory holding accounts, cases and events (and optionally
    /// engagements and contacts), each as .csv, .parquet or .ndjson.
    /// Default: the bundled demo export.
    #[arg(long, value_name = "DIR")]
    pub input: Option<PathBuf>,
    /// Measure as of this instant (RFC 3339 with offset). Default: the
    /// latest created_at, closed_at or event in the export, never the clock.
    #[arg(long, value_name = "RFC3339", allow_hyphen_values = true)]
    pub as_of: Option<String>,
    /// Policy file replacing the bundled default policy.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Holiday list (CSV region,date,name, optional start,end to close part
    /// of a day) replacing the bundled one.
    #[arg(long, value_name = "FILE")]
    pub holidays: Option<PathBuf>,
    /// Mapping file renaming the export's columns and values (TOML); with
    /// --source, its `[source]` section holds the organisation's settings.
    #[arg(long, value_name = "FILE")]
    pub mapping: Option<PathBuf>,
    /// What --input holds: slt's canonical tables, or a vendor's native
    /// export (with a canonical accounts table keyed by the vendor's
    /// account ids): salesforce (Bulk API / Data Loader CSV), zendesk (API
    /// JSON pages), jsm (Jira Service Management REST JSON pages).
    #[arg(long, value_enum, default_value_t = Source::Canonical, value_name = "SOURCE")]
    pub source: Source,
}

/// `--source`: what an export directory holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Source {
    /// slt's canonical tables (accounts, cases, events, …).
    #[default]
    Canonical,
    /// Salesforce Service Cloud CSV files.
    Salesforce,
    /// Zendesk API JSON pages.
    Zendesk,
    /// Jira Service Management REST JSON pages.
    Jsm,
}

impl Source {
    /// The vendor, unless canonical.
    pub fn vendor(self) -> Option<crate::vendor::SourceKind> {
        use crate::vendor::SourceKind;
        match self {
            Source::Canonical => None,
            Source::Salesforce => Some(SourceKind::Salesforce),
            Source::Zendesk => Some(SourceKind::Zendesk),
            Source::Jsm => Some(SourceKind::Jsm),
        }
    }
}

/// `slt import`
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The vendor whose native export --input holds.
    #[arg(value_enum, value_name = "SOURCE")]
    pub source: crate::vendor::SourceKind,
    /// Directory holding the vendor's export files.
    #[arg(long, value_name = "DIR")]
    pub input: PathBuf,
    /// Directory receiving the canonical tables (replaced whole, atomically).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Mapping file whose `[source]` section holds the organisation's settings.
    #[arg(long, value_name = "FILE")]
    pub mapping: Option<PathBuf>,
    /// Print nothing on success.
    #[arg(long, short)]
    pub quiet: bool,
}

/// `slt explain`
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The case to explain (its `case_id` in the export).
    #[arg(value_name = "CASE_ID", allow_hyphen_values = true)]
    pub case_id: String,
    /// What to measure, as for `slt report`.
    #[command(flatten)]
    pub measure: MeasureArgs,
    /// Output format: the steps as text for people, or one JSON object.
    #[arg(long, value_enum, default_value_t = ExplainFormat::Text)]
    pub format: ExplainFormat,
}

/// `slt explain --format`
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExplainFormat {
    /// The steps, one line each, times on the region's wall clock.
    Text,
    /// One JSON object: the case_slt fields, `reason` and `steps`.
    Json,
}

/// `slt report`
#[derive(Debug, Default, Args)]
pub struct ReportArgs {
    /// What to measure.
    #[command(flatten)]
    pub measure: MeasureArgs,
    /// Directory receiving the outputs (replaced whole, atomically; see the
    /// README for what slt refuses to replace). Default: reports/demo for
    /// the demo export; required with --input.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Exit with code 1 (after writing the report) when any row was rejected.
    #[arg(long)]
    pub fail_on_rejects: bool,
    /// Refuse to write (exit 1, --out left as it was) when more than this
    /// share of any table's rows was rejected, e.g. 0.05 for 5 %.
    #[arg(long, value_name = "FRACTION", value_parser = parse_fraction)]
    pub max_rejected: Option<f64>,
    /// Print nothing on success.
    #[arg(long, short)]
    pub quiet: bool,
    /// Worker threads for measuring (default: all cores).
    #[arg(long, value_name = "N", value_parser = parse_threads)]
    pub threads: Option<usize>,
    /// Write case_slt hive-style, one directory per quarter
    /// (case_slt/period=2026-Q3/part-0.parquet), instead of case_slt.parquet.
    #[arg(long, value_enum, value_name = "COLUMN")]
    pub partition_by: Option<PartitionBy>,
    /// With --partition-by: keep the partitions of the existing --out that
    /// this run measured no case for; replace the others. Aggregates are
    /// recomputed over all partitions. Each run must cover whole periods.
    #[arg(long, requires = "partition_by")]
    pub update: bool,
    /// Measure only shard I of N: the cases whose case_id hashes to it
    /// (FNV-1a 64 of the id, mod N, plus 1), judging the export whole.
    /// Needs --as-of, the same in every shard; `slt merge` puts the shards
    /// back together. Not with --partition-by (merge partitions).
    #[arg(long, value_name = "I/N", conflicts_with = "partition_by")]
    pub shard: Option<crate::shard::Shard>,
}

/// `slt merge`
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The shards' report directories (each written by `slt report --shard I/N`).
    #[arg(value_name = "SHARD_DIR", required = true)]
    pub shards: Vec<PathBuf>,
    /// Directory receiving the merged report (replaced whole, atomically).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// The policy the shards ran with (checked against their manifests).
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// The holiday list the shards ran with (checked).
    #[arg(long, value_name = "FILE")]
    pub holidays: Option<PathBuf>,
    /// The mapping file the shards ran with (checked).
    #[arg(long, value_name = "FILE")]
    pub mapping: Option<PathBuf>,
    /// Write case_slt hive-style, one directory per quarter, as `slt report
    /// --partition-by period` does.
    #[arg(long, value_enum, value_name = "COLUMN")]
    pub partition_by: Option<PartitionBy>,
    /// Print nothing on success.
    #[arg(long, short)]
    pub quiet: bool,
}

/// What `--partition-by` splits `case_slt` on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PartitionBy {
    /// The quarter of creation (`period`, e.g. 2026-Q3).
    Period,
}

/// `slt query`
#[derive(Debug, Args)]
pub struct QueryArgs {
    /// Report directory (the --out of slt report).
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// The SQL statement (polars SQL; see sql/README.md for the portable subset).
    #[arg(value_name = "SQL")]
    pub sql: String,
    /// Output format: an aligned table for people, CSV, or Parquet.
    #[arg(long, value_enum, default_value_t = QueryFormat::Table)]
    pub format: QueryFormat,
    /// Write to FILE instead of standard output (required for parquet).
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// `slt query --format`
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum QueryFormat {
    /// Aligned columns with a header.
    Table,
    /// CSV with a header.
    Csv,
    /// Parquet (needs --output).
    Parquet,
}

/// `slt review`
#[derive(Debug, Args)]
pub struct ReviewArgs {
    /// The account to review (its `account_id` in the export).
    #[arg(long, value_name = "ID")]
    pub account: String,
    /// The quarter of case creation to review, e.g. 2026-Q3.
    #[arg(long, value_name = "YYYY-Qn")]
    pub period: String,
    /// Directory receiving the pack (replaced whole, atomically).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// What to measure, as for `slt report`.
    #[command(flatten)]
    pub measure: MeasureArgs,
    /// Print nothing on success.
    #[arg(long, short)]
    pub quiet: bool,
}

/// `slt generate`
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Directory receiving the export: accounts.csv, cases.csv, events.csv,
    /// engagements.csv and contacts.csv, with a manifest.json.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Number of cases.
    #[arg(long, default_value_t = 3000)]
    pub cases: usize,
    /// Number of accounts.
    #[arg(long, default_value_t = 40)]
    pub accounts: usize,
    /// Random seed: the same seed gives the same bytes.
    #[arg(long, default_value_t = 2026)]
    pub seed: u64,
    /// Calendar year the cases are created in.
    #[arg(long, default_value_t = 2026)]
    pub year: i32,
    /// Do not inject the handful of deliberately bad rows.
    #[arg(long)]
    pub no_bad_rows: bool,
    /// Write the export in a vendor's native files instead of the canonical
    /// cases.csv and events.csv: salesforce (Case.csv, CaseHistory.csv,
    /// EmailMessage.csv, CaseComment.csv, User.csv, CaseStatus.csv), zendesk
    /// (tickets and ticket_audits pages, users.json, organizations.json,
    /// ticket_fields.json) or jsm (issues pages, organizations.json,
    /// service-desk-team.json). accounts.csv stays canonical, keyed by the
    /// vendor's account ids.
    #[arg(long, value_enum, value_name = "VENDOR")]
    pub source: Option<crate::vendor::SourceKind>,
    /// Print nothing on success.
    #[arg(long, short)]
    pub quiet: bool,
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
    /// Holiday list (CSV region,date,name, optional start,end to close part
    /// of a day) replacing the bundled one.
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

/// `--threads`: a positive number.
fn parse_threads(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("`{text}` is not a number of threads")),
    }
}

/// `--max-rejected`: a share between 0 and 1.
fn parse_fraction(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(x) if (0.0..=1.0).contains(&x) => Ok(x),
        _ => Err(format!(
            "`{text}` is not a fraction between 0 and 1 (e.g. 0.05 for 5 %)"
        )),
    }
}

/// A clap error as one line: the message, its tips, and which `--help` to
/// read (`unexpected argument '--fail-on-reject' found; a similar argument
/// exists: '--fail-on-rejects' (see `slt report --help`)`).
pub fn one_line(err: &clap::Error, args: &[String]) -> String {
    let text = err.to_string();
    let mut parts: Vec<String> = Vec::new();
    let cli = <Cli as clap::CommandFactory>::command();
    let is_subcommand = |a: &&String| cli.get_subcommands().any(|c| c.get_name() == a.as_str());
    let mut command = match args.iter().skip(1).find(is_subcommand) {
        Some(sub) => format!("slt {sub}"),
        None => String::from("slt"),
    };
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if let Some(usage) = line.strip_prefix("Usage: ") {
            command = usage
                .split_whitespace()
                .take_while(|w| !w.starts_with(['[', '<', '-']))
                .collect::<Vec<_>>()
                .join(" ");
        } else if let Some(tip) = line.strip_prefix("tip: ") {
            parts.push(tip.to_string());
        } else if parts.is_empty() {
            parts.push(line.strip_prefix("error: ").unwrap_or(line).to_string());
        }
    }
    if parts.is_empty() {
        parts.push("invalid command line".into());
    }
    format!("{} (see `{command} --help`)", parts.join("; "))
}
