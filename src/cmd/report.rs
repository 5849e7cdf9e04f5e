//! `slt report`: export → measured cases → attainment Parquet, rejects and
//! a manifest, written atomically.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::Datelike;
use polars::prelude::*;
use serde_json::json;

use crate::aggregate::{run_query, ACCOUNT_ATTAINMENT_SQL, ATTAINMENT_SQL};
use crate::calendar::{micros_to_minutes, years_spanning};
use crate::cli::{PartitionBy, ReportArgs};
use crate::ingest::{self, AsOfSource, Counts, Ingested, Input, Reject, Table};
use crate::mapping::Mapping;
use crate::measure::{measure_all_reporting, Measured, Outcome};
use crate::output::guard::{self, OutputKind};
use crate::output::lock::Lock;
use crate::output::{
    case_slt_for_writing, col, enum_column, internal, strings_to_enums, timestamp_column,
    write_case_slt_by_period, write_parquet, Staging, SCHEMA_VERSION,
};
use crate::policy::Policy;
use crate::progress::{LogFormat, Progress};
use crate::timestamp::{format_rfc3339, parse_rfc3339, to_datetime};
use crate::{Error, Exit, Result};

/// Everything a finished run produced, before it is written.
pub struct Report {
    /// One row per measured case (text dimensions as plain strings).
    pub case_slt: DataFrame,
    /// `attainment.parquet`.
    pub attainment: DataFrame,
    /// `account_attainment.parquet`.
    pub account_attainment: DataFrame,
    /// `rejects.parquet`.
    pub rejects: DataFrame,
    /// `manifest.json`.
    pub manifest: serde_json::Value,
    /// Rows rejected over all tables.
    pub rejected_rows: u64,
    /// `entitlements.parquet` (see [`crate::entitlements`]).
    pub entitlements: DataFrame,
    /// `entitlement_findings.parquet`.
    pub entitlement_findings: DataFrame,
    /// The policy the cases were measured with (charts colour against its goal).
    pub policy: Policy,
}

/// Runs `slt report`.
pub fn run(args: ReportArgs, log_format: LogFormat) -> Result<Exit> {
    let input = super::input_of(args.input.as_deref())?;
    let out = match (&args.out, &args.input) {
        (Some(out), _) => out.clone(),
        (None, None) => PathBuf::from("reports/demo"),
        (None, Some(_)) => return Err(Error::Usage("--out DIR is required with --input".into())),
    };
    let files = super::flag_files(&[
        ("--policy", args.policy.as_deref()),
        ("--holidays", args.holidays.as_deref()),
        ("--mapping", args.mapping.as_deref()),
    ]);
    guard::check(
        &out,
        OutputKind::Report,
        guard::Inputs {
            dir: args.input.as_deref(),
            files: &files,
        },
    )?;
    if let Some(n) = args.threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global()
            .map_err(|e| Error::Internal(e.to_string()))?;
    }
    let _lock = Lock::acquire(&out)?;
    let progress = Progress::new("report", args.quiet, log_format);
    let report = build(&args, &input, &progress)?;
    if let Some(max) = args.max_rejected {
        refuse_too_many_rejected(&report.manifest, max, &out)?;
    }
    let stage = progress.stage("write", None);
    write_as(&report, &out, args.partition_by, args.update)?;
    if matches!(input, Input::Demo) {
        super::review::write_demo_pack(&report, &out)?;
    }
    let files = report.manifest["outputs"].as_array().map_or(0, Vec::len);
    stage.finish(
        &format!("{files} files into {}", out.display()),
        json!({ "out": out.display().to_string(), "files": files }),
    );
    let outcomes = &report.manifest["outcomes"];
    let message = format!(
        "{} cases measured (met {}, breached {}, pending {}, excluded {}), {} rows rejected; wrote {}",
        report.case_slt.height(),
        outcomes["met"],
        outcomes["breached"],
        outcomes["pending"],
        outcomes["excluded"],
        report.rejected_rows,
        out.display()
    );
    let fields = json!({
        "cases_measured": report.case_slt.height(),
        "outcomes": outcomes,
        "rows_rejected": report.rejected_rows,
        "out": out.display().to_string(),
    });
    if args.fail_on_rejects && report.rejected_rows > 0 {
        let warning = format!(
            "{} rows rejected (--fail-on-rejects): see `{}`",
            report.rejected_rows,
            out.join("rejects.parquet").display()
        );
        progress.done_with_warning(&message, fields, &warning);
        return Ok(Exit::Rejects);
    }
    progress.done(&message, fields);
    Ok(Exit::Success)
}

/// `--max-rejected`: refuses (exit 1, nothing written) when the share of
/// rejected rows of any table exceeds `max`, naming the worst table.
fn refuse_too_many_rejected(manifest: &serde_json::Value, max: f64, out: &Path) -> Result<()> {
    let mut worst: Option<(String, u64, u64)> = None;
    for (name, t) in manifest["tables"].as_object().into_iter().flatten() {
        let read = t["rows_read"].as_u64().unwrap_or(0);
        let rejected = t["rows_rejected"].as_u64().unwrap_or(0);
        if read == 0 || rejected as f64 <= max * read as f64 {
            continue;
        }
        let share = rejected as f64 / read as f64;
        if worst
            .as_ref()
            .is_none_or(|(_, r, n)| share > *r as f64 / *n as f64)
        {
            worst = Some((name.clone(), rejected, read));
        }
    }
    match worst {
        None => Ok(()),
        Some((table, rejected, read)) => Err(Error::TooManyRejected(format!(
            "{rejected} of {read} `{table}` rows rejected ({}), more than --max-rejected {max}; nothing written, `{}` left as it was",
            percent(rejected, read),
            out.display()
        ))),
    }
}

/// `part / whole` as a percentage with one decimal.
fn percent(part: u64, whole: u64) -> String {
    format!("{:.1} %", 100.0 * part as f64 / whole as f64)
}

fn file_entry(path: Option<&Path>, bundled: &str, text: &str) -> serde_json::Value {
    use sha2::{Digest, Sha256};
    let sha: String = Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    json!({
        "file": path.map(|p| p.display().to_string()).unwrap_or_else(|| format!("(bundled) {bundled}")),
        "sha256": sha,
    })
}

/// Ingests, measures and aggregates, without writing anything, telling
/// `progress` as each stage ends.
pub fn build(args: &ReportArgs, input: &Input, progress: &Progress) -> Result<Report> {
    let stage = progress.stage("read", None);
    let (policy, policy_text) = super::load_policy(args.policy.as_deref())?;
    let (holidays, holidays_text) = super::load_holidays(args.holidays.as_deref())?;
    let (mapping, mapping_text) = match &args.mapping {
        None => (Mapping::default(), None),
        Some(p) => {
            let text = std::fs::read_to_string(p).map_err(|source| Error::Read {
                path: p.clone(),
                source,
            })?;
            (Mapping::parse(&text, &p.display().to_string())?, Some(text))
        }
    };
    let as_of = match &args.as_of {
        None => None,
        Some(text) => Some(parse_rfc3339(text).map_err(|e| Error::Usage(format!("--as-of: {e}")))?),
    };

    let sources = ingest::read_sources(input)?;
    let rows: usize = sources.iter().map(|s| s.frame.height()).sum();
    let t_read = stage.finish(
        &format!("{} tables, {rows} rows", sources.len()),
        json!({ "tables": sources.len(), "rows": rows }),
    );
    let stage = progress.stage("validate", None);
    let mut ingested =
        ingest::validate(sources, &mapping, &policy, ingest::IngestOptions { as_of })?;
    // Events are parsed and judged: their text, the largest table, is not
    // needed any more (measure, aggregate and write run without it).
    ingested.sources[Table::Events as usize].frame = DataFrame::empty();
    let (used, rejected) = ingested
        .counts
        .iter()
        .fold((0, 0), |(u, r), c| (u + c.used, r + c.rejected));
    let t_validate = stage.finish(
        &format!("{used} rows used, {rejected} rejected"),
        json!({ "rows_used": used, "rows_rejected": rejected }),
    );

    let stage = progress.stage("measure", Some(ingested.cases.len() as u64));
    let lo = ingested
        .cases
        .iter()
        .map(|c| c.created_at)
        .min()
        .unwrap_or(ingested.as_of);
    let hi = ingested
        .cases
        .iter()
        .filter_map(|c| c.closed_at)
        .chain(ingested.events.iter().map(|e| e.at))
        .chain([ingested.as_of])
        .max()
        .unwrap_or(ingested.as_of);
    let calendars = policy.calendars(&holidays, years_spanning(lo.min(hi), hi));
    let results = measure_all_reporting(
        &ingested.cases,
        &ingested.events,
        &policy,
        &calendars,
        ingested.as_of,
        &|n| stage.inc(n),
    );
    let measured = keep_measurable(&mut ingested, results);
    if measured.is_empty() {
        return Err(no_usable_case(&ingested));
    }
    let t_measure = stage.finish(
        &format!(
            "{} cases as of {}",
            measured.len(),
            format_rfc3339(ingested.as_of)
        ),
        json!({ "cases": measured.len(), "as_of": format_rfc3339(ingested.as_of) }),
    );
    let stage = progress.stage("entitlements", None);
    let checked =
        crate::entitlements::frames::check(input, &mapping, &policy, &mut ingested, &measured)?;
    let t_entitlements = stage.finish(
        &format!(
            "{} contract-year rows, {} findings",
            checked.entitlements.height(),
            checked.findings.height()
        ),
        json!({ "rows": checked.entitlements.height(), "findings": checked.findings.height() }),
    );

    let stage = progress.stage("aggregate", None);
    let case_slt = case_frame(&ingested, &measured, &policy)?;
    let attainment = run_query(&case_slt, ATTAINMENT_SQL)?;
    let account_attainment = run_query(&case_slt, ACCOUNT_ATTAINMENT_SQL)?;
    let rejects = rejects_frame(&ingested.rejects)?;
    let t_aggregate = stage.finish(
        &format!(
            "{} attainment groups, {} account groups",
            attainment.height(),
            account_attainment.height()
        ),
        json!({ "groups": attainment.height(), "account_groups": account_attainment.height() }),
    );

    let mut outcomes = BTreeMap::new();
    for o in [
        Outcome::Met,
        Outcome::Breached,
        Outcome::Pending,
        Outcome::Excluded,
    ] {
        outcomes.insert(o.as_str(), 0u64);
    }
    for (_, m) in &measured {
        *outcomes.get_mut(m.outcome.as_str()).expect("all outcomes") += 1;
    }
    let mut tables: serde_json::Map<String, serde_json::Value> = ingested
        .sources
        .iter()
        .map(|s| {
            let c: Counts = ingested.counts[s.table as usize];
            (
                s.table.name().to_string(),
                json!({
                    "file": s.path,
                    "format": format!("{:?}", s.format).to_lowercase(),
                    "sha256": s.sha256,
                    "rows_read": c.read,
                    "rows_used": c.used,
                    "rows_rejected": c.rejected,
                }),
            )
        })
        .collect();
    tables.extend(checked.tables);
    let rejected_rows = ingested.counts.iter().map(|c| c.rejected).sum::<u64>() + checked.rejected;
    let outputs: Vec<&str> = [
        "case_slt.parquet",
        "attainment.parquet",
        "account_attainment.parquet",
        "entitlements.parquet",
        "entitlement_findings.parquet",
        "rejects.parquet",
        "manifest.json",
    ]
    .into_iter()
    .chain(crate::charts::CHART_FILES)
    .collect();
    let manifest = json!({
        "tool": "slt",
        "kind": OutputKind::Report.as_str(),
        "version": env!("CARGO_PKG_VERSION"),
        "schema_version": SCHEMA_VERSION,
        "as_of": format_rfc3339(ingested.as_of),
        "as_of_source": match ingested.as_of_source { AsOfSource::Flag => "flag", AsOfSource::LatestInExport => "latest_in_export" },
        "priority_change_rule": policy.priority_change.as_str(),
        "report_time_zone": policy.report_zone.name(),
        "tables": tables,
        "policy": file_entry(args.policy.as_deref(), "fixtures/policy.toml", &policy_text),
        "holidays": file_entry(args.holidays.as_deref(), "fixtures/holidays.csv", &holidays_text),
        "mapping": mapping_text.map(|t| file_entry(args.mapping.as_deref(), "", &t)),
        "entitlements": checked.summary,
        "cases_measured": measured.len(),
        "outcomes": outcomes,
        "rows_rejected": rejected_rows,
        "outputs": outputs,
        "timing_ms": {
            "read": t_read.as_millis() as u64,
            "validate": t_validate.as_millis() as u64,
            "measure": t_measure.as_millis() as u64,
            "entitlements": t_entitlements.as_millis() as u64,
            "aggregate": t_aggregate.as_millis() as u64,
        },
    });
    let (entitlements, entitlement_findings) = (checked.entitlements, checked.findings);
    Ok(Report {
        case_slt,
        attainment,
        account_attainment,
        entitlements,
        entitlement_findings,
        rejects,
        manifest,
        rejected_rows,
        policy,
    })
}

/// Why a run has no case to measure (exit 3: nothing is written, so that a
/// good report is never replaced by an empty one): an empty cases table, or
/// every row rejected, with the most common reason and where it first
/// occurs.
fn no_usable_case(ingested: &Ingested) -> Error {
    let path = ingested.sources[Table::Cases as usize].path.clone().into();
    let read = ingested.counts[Table::Cases as usize].read;
    if read == 0 {
        return Error::Input {
            path,
            reason: "no case to measure: the table has only its header; nothing written".into(),
        };
    }
    let mut by_reason: BTreeMap<&str, (u64, &Reject)> = BTreeMap::new();
    for r in ingested.rejects.iter().filter(|r| r.table == Table::Cases) {
        let entry = by_reason.entry(r.reason.as_str()).or_insert((0, r));
        entry.0 += 1;
        if r.row_number < entry.1.row_number {
            entry.1 = r;
        }
    }
    let top = by_reason
        .iter()
        .max_by_key(|(reason, (n, _))| (*n, std::cmp::Reverse(*reason)));
    let detail = match top {
        Some((reason, (n, first))) => format!(
            " (most often: {reason}, {n} {}; first at row {}{})",
            if *n == 1 { "row" } else { "rows" },
            first.row_number,
            if first.column.is_empty() {
                String::new()
            } else {
                format!(", column `{}`", first.column)
            }
        ),
        None => String::new(),
    };
    Error::Input {
        path,
        reason: format!(
            "no usable case: all {read} {} rejected{detail}; nothing written",
            if read == 1 { "row was" } else { "rows were" }
        ),
    }
}

/// Moves cases the calendar could not measure (outside its years) to the
/// rejects, with their events, and returns the measured ones.
fn keep_measurable(
    ingested: &mut Ingested,
    results: Vec<std::result::Result<Measured, crate::calendar::CalendarError>>,
) -> Vec<(usize, Measured)> {
    let mut measured = Vec::with_capacity(results.len());
    let mut failed = Vec::new();
    for (i, r) in results.into_iter().enumerate() {
        match r {
            Ok(m) => measured.push((i, m)),
            Err(e) => failed.push((i, e)),
        }
    }
    if failed.is_empty() {
        return measured;
    }
    let failed_set: std::collections::HashSet<usize> = failed.iter().map(|(i, _)| *i).collect();
    for (i, e) in &failed {
        let case = ingested.cases[*i];
        ingested.rejects.push(Reject {
            table: Table::Cases,
            row_number: u64::from(case.row) + 1,
            key: None,
            column: ingested.column_names[&(Table::Cases, "created_at")].clone(),
            value: Some(format_rfc3339(case.created_at)),
            reason: format!("cannot be measured: {e}"),
        });
        ingested.counts[1].used -= 1;
        ingested.counts[1].rejected += 1;
    }
    for e in ingested
        .events
        .iter()
        .filter(|e| failed_set.contains(&(e.case as usize)))
    {
        ingested.rejects.push(Reject {
            table: Table::Events,
            row_number: u64::from(e.row) + 1,
            key: None,
            column: ingested.column_names[&(Table::Events, "case_id")].clone(),
            value: None,
            reason: "its case cannot be measured".into(),
        });
        ingested.counts[2].used -= 1;
        ingested.counts[2].rejected += 1;
    }
    measured
}

/// Column `canonical` of the cases source as text, trimmed, at `rows`,
/// named `name` (no copy per row but the text itself).
fn gather_text(
    ingested: &Ingested,
    canonical: &'static str,
    rows: &[u32],
    name: &str,
) -> Result<Column> {
    let source_name = &ingested.column_names[&(Table::Cases, canonical)];
    let frame = &ingested.sources[Table::Cases as usize].frame;
    let Ok(column) = frame.column(source_name) else {
        return Ok(Column::full_null(
            name.into(),
            rows.len(),
            &DataType::String,
        ));
    };
    // A no-op for text; typed Parquet columns (integer ids) become text.
    let series = column
        .as_materialized_series()
        .cast(&DataType::String)
        .map_err(internal)?;
    let ca = series.str().map_err(internal)?.rechunk();
    let texts = ingest::Texts::of(&ca);
    Ok(
        StringChunked::from_iter_options(name.into(), rows.iter().map(|&r| texts.get(r as usize)))
            .into_column(),
    )
}

/// The `case_slt` frame, text dimensions as plain strings.
pub fn case_frame(
    ingested: &Ingested,
    measured: &[(usize, Measured)],
    policy: &Policy,
) -> Result<DataFrame> {
    let cases: Vec<&ingest::Case> = measured.iter().map(|(i, _)| &ingested.cases[*i]).collect();
    let rows: Vec<u32> = cases.iter().map(|c| c.row).collect();
    let text = |canonical, name| gather_text(ingested, canonical, &rows, name);
    // Period and month labels, formatted once per distinct month.
    let zone = policy.report_zone;
    let mut labels: BTreeMap<(i32, u32), (String, String)> = BTreeMap::new();
    let months: Vec<(i32, u32)> = cases
        .iter()
        .map(|c| {
            let local = to_datetime(c.created_at).with_timezone(&zone);
            let (y, m) = (local.year(), local.month());
            labels
                .entry((y, m))
                .or_insert_with(|| (format!("{y}-Q{}", (m - 1) / 3 + 1), format!("{y}-{m:02}")));
            (y, m)
        })
        .collect();
    let period: Vec<&str> = months.iter().map(|k| labels[k].0.as_str()).collect();
    let month: Vec<&str> = months.iter().map(|k| labels[k].1.as_str()).collect();
    let ms = || measured.iter().map(|(_, m)| m);
    let columns = vec![
        text("case_id", col::CASE_ID)?,
        text("account_id", col::ACCOUNT_ID)?,
        Column::new(
            col::TIER.into(),
            cases
                .iter()
                .map(|c| policy.tiers[c.tier].as_str())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            col::REGION.into(),
            cases
                .iter()
                .map(|c| policy.regions[c.region].name.as_str())
                .collect::<Vec<_>>(),
        ),
        text("product", col::PRODUCT)?,
        Column::new(
            col::PRIORITY.into(),
            ms().map(|m| m.priority.as_str()).collect::<Vec<_>>(),
        ),
        Column::new(
            col::INITIAL_PRIORITY.into(),
            ms().map(|m| m.initial_priority.as_str())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            col::PRIORITY_CHANGES.into(),
            ms().map(|m| i64::from(m.priority_changes))
                .collect::<Vec<_>>(),
        ),
        timestamp_column(
            col::CREATED_AT,
            cases.iter().map(|c| Some(c.created_at)).collect(),
        ),
        timestamp_column(
            col::CLOCK_START,
            ms().map(|m| Some(m.clock_start)).collect(),
        ),
        Column::new(
            col::COVERAGE.into(),
            ms().map(|m| m.coverage.as_str()).collect::<Vec<_>>(),
        ),
        Column::new(
            col::TARGET_MINUTES.into(),
            ms().map(|m| i64::from(m.target_minutes))
                .collect::<Vec<_>>(),
        ),
        timestamp_column(col::DEADLINE, ms().map(|m| Some(m.deadline)).collect()),
        timestamp_column(
            col::FIRST_RESPONSE_AT,
            ms().map(|m| m.first_response_at).collect(),
        ),
        Column::new(
            col::RESPONSE_BUSINESS_MINUTES.into(),
            ms().map(|m| m.response_business.map(micros_to_minutes))
                .collect::<Vec<_>>(),
        ),
        Column::new(
            col::OUTCOME.into(),
            ms().map(|m| m.outcome.as_str()).collect::<Vec<_>>(),
        ),
        Column::new(
            col::BREACH_BUSINESS_MINUTES.into(),
            ms().map(|m| m.breach_business.map(micros_to_minutes))
                .collect::<Vec<_>>(),
        ),
        Column::new(col::PERIOD.into(), period),
        Column::new(col::MONTH.into(), month),
    ];
    DataFrame::new(measured.len(), columns).map_err(internal)
}

/// The `rejects` frame, sorted by table and row.
pub fn rejects_frame(rejects: &[Reject]) -> Result<DataFrame> {
    let mut sorted: Vec<&Reject> = rejects.iter().collect();
    sorted.sort_by_key(|r| (r.table, r.row_number));
    let columns = vec![
        enum_column(
            "table",
            &sorted
                .iter()
                .map(|r| Some(r.table.name()))
                .collect::<Vec<_>>(),
        )?,
        Column::new(
            "row_number".into(),
            sorted
                .iter()
                .map(|r| r.row_number as i64)
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "key".into(),
            sorted.iter().map(|r| r.key.as_deref()).collect::<Vec<_>>(),
        ),
        Column::new(
            "column".into(),
            sorted.iter().map(|r| r.column.as_str()).collect::<Vec<_>>(),
        ),
        Column::new(
            "value".into(),
            sorted
                .iter()
                .map(|r| r.value.as_deref())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "reason".into(),
            sorted.iter().map(|r| r.reason.as_str()).collect::<Vec<_>>(),
        ),
    ];
    DataFrame::new(sorted.len(), columns).map_err(internal)
}

/// Writes every output into `out`, atomically.
pub fn write(report: &Report, out: &Path) -> Result<()> {
    write_as(report, out, None, false)
}

/// Writes every output into `out`, atomically. With `partition_by`,
/// `case_slt` is a hive layout (`case_slt/period=2026-Q3/part-0.parquet`)
/// instead of one file; with `update` too, the partitions of the existing
/// `out` whose period has no case in this run are kept, and the aggregates
/// are recomputed over every partition.
pub fn write_as(
    report: &Report,
    out: &Path,
    partition_by: Option<PartitionBy>,
    update: bool,
) -> Result<()> {
    let staging = Staging::new(out)?;
    let m = &report.manifest;
    let metadata = vec![
        (
            "slt_version".to_string(),
            m["version"].as_str().unwrap_or_default().to_string(),
        ),
        ("slt_schema_version".to_string(), SCHEMA_VERSION.to_string()),
        (
            "slt_as_of".to_string(),
            m["as_of"].as_str().unwrap_or_default().to_string(),
        ),
        (
            "slt_policy_sha256".to_string(),
            m["policy"]["sha256"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        ),
    ];
    let mut manifest = report.manifest.clone();
    let (mut attainment, mut account_attainment) =
        (report.attainment.clone(), report.account_attainment.clone());
    match partition_by {
        None => write_parquet(
            &mut case_slt_for_writing(&report.case_slt)?,
            &staging.file("case_slt.parquet"),
            &metadata,
        )?,
        Some(PartitionBy::Period) => {
            let keep_from = update.then(|| out.join("case_slt"));
            let (all, partitions) = write_case_slt_by_period(
                &report.case_slt,
                &staging.file("case_slt"),
                &metadata,
                keep_from.as_deref(),
            )?;
            if let Some(all) = all {
                attainment = run_query(&all, ATTAINMENT_SQL)?;
                account_attainment = run_query(&all, ACCOUNT_ATTAINMENT_SQL)?;
            }
            for output in manifest["outputs"].as_array_mut().into_iter().flatten() {
                if output == "case_slt.parquet" {
                    *output = json!("case_slt/");
                }
            }
            manifest["case_slt_partitioned_by"] = json!(col::PERIOD);
            manifest["case_slt_partitions"] = partitions;
        }
    }
    write_parquet(
        &mut strings_to_enums(&attainment)?,
        &staging.file("attainment.parquet"),
        &metadata,
    )?;
    write_parquet(
        &mut strings_to_enums(&account_attainment)?,
        &staging.file("account_attainment.parquet"),
        &metadata,
    )?;
    write_parquet(
        &mut report.entitlements.clone(),
        &staging.file("entitlements.parquet"),
        &metadata,
    )?;
    write_parquet(
        &mut report.entitlement_findings.clone(),
        &staging.file("entitlement_findings.parquet"),
        &metadata,
    )?;
    write_parquet(
        &mut report.rejects.clone(),
        &staging.file("rejects.parquet"),
        &metadata,
    )?;
    crate::charts::write_report_charts(&report.case_slt, &report.policy, |name| {
        staging.file(name)
    })?;
    let manifest = serde_json::to_string_pretty(&manifest).expect("json") + "\n";
    let path = staging.file("manifest.json");
    std::fs::write(&path, manifest).map_err(|e| Error::Write {
        path,
        reason: e.to_string(),
    })?;
    staging.commit()
}
