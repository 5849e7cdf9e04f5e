//! The pipeline, one way: **read** every table → **judge** every row →
//! **measure** every case → **entitlements** → **aggregate**, from
//! [`Settings`] to a typed [`Run`] that the writers, the charts and the
//! review pack read. Nothing here writes a file.
//!
//! A run with no case to measure is an error (exit 3): slt never replaces
//! a good report with an empty one.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use polars::prelude::DataFrame;
use rayon::prelude::*;
use serde_json::json;

use crate::aggregate::{self, Dimensions};
use crate::calendar::{micros_to_minutes, CalendarError};
use crate::config::Settings;
use crate::entitlements::check::{self, Checked};
use crate::ingest::{self, AsOfSource, Ingested, Reject, RejectReason, RejectRow, Source};
use crate::measure::{calendars_for, measure_all_in_place, Measured};
use crate::model::{Case, CaseRow, Month, Outcome, PeriodLabels, Table};
use crate::output::manifest::{
    EntitlementSummary, Manifest, ShardEntry, SourceEntry, TableEntry, Tables, Timing,
};
use crate::output::SCHEMA_VERSION;
use crate::policy::Policy;
use crate::progress::Progress;
use crate::timestamp::{format_rfc3339, Instant};
use crate::{Error, Result};

/// Everything a finished run produced, before it is written.
#[derive(Debug)]
pub struct Run {
    /// The as-of instant.
    pub as_of: Instant,
    /// One row per measured case, in file order ([`crate::output::frames::case_slt`]
    /// makes them the `case_slt` frame; writing the report gives them up
    /// for it).
    pub cases: Vec<CaseRow>,
    /// The ranks of `cases`' text dimensions, which the aggregates were
    /// made of and `case_slt`'s enum columns are (given up with `cases`).
    pub dimensions: Dimensions,
    /// With `--shard`: each case's 0-based row in the cases table, in the
    /// order of `cases` (the shard's `case_slt` carries it as `source_row`).
    pub source_rows: Option<Vec<u32>>,
    /// `attainment.parquet`.
    pub attainment: DataFrame,
    /// `account_attainment.parquet`.
    pub account_attainment: DataFrame,
    /// What the entitlement rules found.
    pub entitlements: Checked,
    /// Every rejected row.
    pub rejects: ingest::Rejects,
    /// `manifest.json`.
    pub manifest: Manifest,
    /// Milliseconds per stage (logged, never written).
    pub timing: Timing,
}

impl Run {
    /// Rows rejected over all tables.
    pub fn rejected_rows(&self) -> u64 {
        self.rejects.total()
    }
}

/// Runs every stage on `settings`, telling `progress` as each ends.
pub fn run(settings: &Settings, progress: &Progress) -> Result<Run> {
    let mut timing = Timing::default();
    let read = read_stage(settings, progress, &mut timing)?;
    let mut ingested = validate_stage(settings, read, progress, &mut timing)?;

    let Some((as_of, as_of_source)) = ingested.as_of(settings.as_of) else {
        return Err(no_usable_case(&ingested));
    };
    if let Some(shard) = settings.shard {
        if ingested.cases.is_empty() {
            return Err(no_usable_case(&ingested));
        }
        // A shard may hold no case at all (a small export split many ways).
        ingested.keep_shard(shard);
    }
    crate::allocator::release_free_pages();
    let stage = progress.stage("measure", Some(ingested.cases.len() as u64));
    let calendars = calendars_for(
        &settings.policy,
        &settings.holidays,
        &ingested.cases,
        &ingested.events,
        as_of,
    );
    let results = measure_all_in_place(
        &ingested.cases,
        &mut ingested.events,
        &settings.policy,
        &calendars,
        as_of,
        &|n| stage.inc(n),
    );
    let measured = keep_measurable(&mut ingested, results);
    // Every event has done its work, and the calendars theirs: let them go
    // before the outputs are built.
    ingested.events = Vec::new();
    drop(calendars);
    if measured.is_empty() && settings.shard.is_none() {
        return Err(no_usable_case(&ingested));
    }
    timing.measure = millis(stage.finish(
        &format!("{} cases as of {}", measured.len(), format_rfc3339(as_of)),
        json!({ "cases": measured.len(), "as_of": format_rfc3339(as_of) }),
    ));

    let stage = progress.stage("entitlements", None);
    let mut checked = check::check(
        &settings.policy,
        &settings.mapping,
        &ingested,
        measured.iter().map(|(i, _)| &ingested.cases[i]),
        as_of,
    );
    if settings.shard.is_some_and(|s| !s.is_first()) {
        // The contract years and the findings not about a case come from
        // the shared tables: shard 1 reports them.
        checked.years.clear();
        checked.findings.retain(|f| f.evidence_kind == "case");
    }
    timing.entitlements = millis(stage.finish(
        &format!(
            "{} contract-year rows, {} findings",
            checked.years.len(),
            checked.findings.len()
        ),
        json!({ "rows": checked.years.len(), "findings": checked.findings.len() }),
    ));

    let stage = progress.stage("aggregate", None);
    let source_rows: Option<Vec<u32>> = settings.shard.map(|_| {
        measured
            .iter()
            .map(|(i, _)| ingested.cases[i].row)
            .collect()
    });
    // The judged cases and their measurements go as the rows are made.
    let cases = case_rows(settings, &mut ingested.cases, measured);
    // The optional tables' rows have done their work (entitlements): they
    // are freed beside the aggregation, not on their own after the run.
    let spent = (
        std::mem::take(&mut ingested.engagements),
        std::mem::take(&mut ingested.contacts),
    );
    let ((aggregates, dimensions), ()) = rayon::join(
        || {
            let dimensions = Dimensions::of(&cases);
            (aggregate::aggregates(&cases, &dimensions), dimensions)
        },
        || drop(spent),
    );
    let (attainment, account_attainment) = aggregates?;
    timing.aggregate = millis(stage.finish(
        &format!(
            "{} attainment groups, {} account groups",
            attainment.height(),
            account_attainment.height()
        ),
        json!({ "groups": attainment.height(), "account_groups": account_attainment.height() }),
    ));

    let manifest = manifest(settings, &ingested, &cases, &checked, as_of, as_of_source);
    Ok(Run {
        as_of,
        cases,
        dimensions,
        source_rows,
        attainment,
        account_attainment,
        entitlements: checked,
        rejects: ingested.rejects,
        manifest,
        timing,
    })
}

/// The read stage: every table of the export, as read. The one way slt
/// reads an export, for [`run`], [`judged`] and (through
/// [`read_stage_with`]) the review pack.
pub fn read_stage(settings: &Settings, progress: &Progress, timing: &mut Timing) -> Result<Read> {
    read_stage_with(settings, progress, timing, &ingest::READ_IN_PIECES)
}

/// [`read_stage`], with only the tables of `in_pieces` read in pieces as
/// they are judged (the others are read whole, their text kept until
/// judged).
pub fn read_stage_with(
    settings: &Settings,
    progress: &Progress,
    timing: &mut Timing,
    in_pieces: &[Table],
) -> Result<Read> {
    let stage = progress.stage("read", None);
    let read = read(settings, in_pieces)?;
    let rows: usize = read.sources.iter().map(|s| s.frame.height()).sum();
    // A table read in pieces is read as it is judged (validate).
    let later: Vec<&str> = read
        .sources
        .iter()
        .filter(|s| s.pieces.is_some())
        .map(|s| s.table().name())
        .collect();
    let note = if later.is_empty() {
        String::new()
    } else {
        format!("; {} read while judged", later.join(", "))
    };
    timing.read = millis(stage.finish(
        &format!("{} tables, {rows} rows{note}", read.sources.len()),
        json!({ "tables": read.sources.len(), "rows": rows, "read_while_judged": later }),
    ));
    Ok(read)
}

/// What the read stage read: the export's tables, and with `--source` the
/// vendor import they came from.
#[derive(Debug)]
pub struct Read {
    /// The canonical tables, as read (or as the importer made them).
    pub sources: Vec<Source>,
    /// The vendor import, with `--source`.
    pub import: Option<ingest::VendorImport>,
}

/// The export's tables as files, or, with `--source`, imported from the
/// vendor's native export.
fn read(settings: &Settings, in_pieces: &[Table]) -> Result<Read> {
    match (&settings.source, &settings.input) {
        (Some((kind, source_settings)), ingest::Input::Dir(dir)) => {
            let (sources, import) = ingest::read_vendor(dir, *kind, source_settings)?;
            Ok(Read {
                sources,
                import: Some(import),
            })
        }
        _ => Ok(Read {
            sources: ingest::read_all(&settings.input, in_pieces)?,
            import: None,
        }),
    }
}

/// The validate stage: every row judged into typed rows or a reject.
pub fn validate_stage(
    settings: &Settings,
    read: Read,
    progress: &Progress,
    timing: &mut Timing,
) -> Result<Ingested> {
    let stage = progress.stage("validate", None);
    let ingested = ingest::judge(
        read.sources,
        &settings.mapping,
        &settings.policy,
        settings.as_of,
        read.import,
    )?;
    let rejected = ingested.rejects.total();
    let used = Table::ALL
        .iter()
        .map(|&t| ingested.counts(t).used)
        .sum::<u64>();
    timing.validate = millis(stage.finish(
        &format!("{used} rows used, {rejected} rejected"),
        json!({ "rows_used": used, "rows_rejected": rejected }),
    ));
    Ok(ingested)
}

/// An export read and judged, with its as-of instant: what `slt explain`
/// and `slt review` measure from, without measuring every case.
#[derive(Debug)]
pub struct Judged {
    /// Every table judged.
    pub ingested: Ingested,
    /// The as-of instant (as [`run`] chooses it).
    pub as_of: Instant,
    /// How it was chosen.
    pub as_of_source: AsOfSource,
    /// The read and validate stages' times.
    pub timing: Timing,
}

impl Judged {
    /// The coverage calendars, for the years [`run`] builds them for (so
    /// that a case measures the same here as in `case_slt`).
    pub fn calendars(&self, settings: &Settings) -> crate::policy::Calendars {
        calendars_for(
            &settings.policy,
            &settings.holidays,
            &self.ingested.cases,
            &self.ingested.events,
            self.as_of,
        )
    }
}

/// Reads and judges the export, and chooses the as-of instant as [`run`]
/// does; an export with no case to measure is the same error.
pub fn judged(settings: &Settings, progress: &Progress) -> Result<Judged> {
    let mut timing = Timing::default();
    let read = read_stage(settings, progress, &mut timing)?;
    judge_sources(settings, read, progress, timing)
}

/// [`judged`] from tables already read.
pub fn judge_sources(
    settings: &Settings,
    read: Read,
    progress: &Progress,
    mut timing: Timing,
) -> Result<Judged> {
    let ingested = validate_stage(settings, read, progress, &mut timing)?;
    let Some((as_of, as_of_source)) = ingested.as_of(settings.as_of) else {
        return Err(no_usable_case(&ingested));
    };
    if ingested.cases.is_empty() {
        return Err(no_usable_case(&ingested));
    }
    Ok(Judged {
        ingested,
        as_of,
        as_of_source,
        timing,
    })
}

fn millis(d: std::time::Duration) -> u64 {
    d.as_millis() as u64
}

/// Why a run has no case to measure (exit 3: nothing is written, so that a
/// good report is never replaced by an empty one): an empty cases table, or
/// every row rejected, with the most common reason and where it first
/// occurs.
fn no_usable_case(ingested: &Ingested) -> Error {
    let path = ingested
        .file(Table::Cases)
        .map_or_else(|| "cases".into(), |f| f.path.clone().into());
    let read = ingested.counts(Table::Cases).read;
    if read == 0 {
        return Error::Input {
            path,
            reason: "no case to measure: the table has only its header; nothing written".into(),
        };
    }
    let mut by_reason: BTreeMap<&str, (u64, RejectRow)> = BTreeMap::new();
    for r in ingested
        .rejects
        .rows()
        .iter()
        .filter(|r| r.table == Table::Cases)
    {
        let entry = by_reason
            .entry(r.reason.phrase())
            .or_insert_with(|| (0, r.clone()));
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

/// Every case's measurement, by index in `ingested.cases`, kept as
/// measured (never copied): the cases the calendar could not measure,
/// rejected by [`keep_measurable`], are skipped when they are read.
struct Measurements {
    results: Vec<std::result::Result<Measured, CalendarError>>,
    measured: usize,
}

impl Measurements {
    /// Cases measured.
    fn len(&self) -> usize {
        self.measured
    }

    fn is_empty(&self) -> bool {
        self.measured == 0
    }

    /// Each case measured, with its index in `ingested.cases`, in order.
    fn iter(&self) -> impl Iterator<Item = (usize, &Measured)> + '_ {
        self.results
            .iter()
            .enumerate()
            .filter_map(|(i, r)| r.as_ref().ok().map(|m| (i, m)))
    }
}

/// Moves cases the calendar could not measure (outside its years) to the
/// rejects, with their events, and returns every measurement.
fn keep_measurable(
    ingested: &mut Ingested,
    results: Vec<std::result::Result<Measured, CalendarError>>,
) -> Measurements {
    let failed: Vec<usize> = results
        .iter()
        .enumerate()
        .filter_map(|(i, r)| r.is_err().then_some(i))
        .collect();
    let measured = Measurements {
        measured: results.len() - failed.len(),
        results,
    };
    if failed.is_empty() {
        return measured;
    }
    let created = ingested.column_name(Table::Cases, "created_at").to_string();
    let case_id = ingested.column_name(Table::Events, "case_id").to_string();
    for i in &failed {
        let case = &ingested.cases[*i];
        ingested.rejects.push(Reject {
            table: Table::Cases,
            row_number: u64::from(case.row) + 1,
            key: None,
            column: created.clone(),
            value: Some(format_rfc3339(case.created_at)),
            reason: RejectReason::OutsideCalendar,
            file: String::new(),
            locator: String::new(),
        });
    }
    let failed: HashSet<usize> = failed.into_iter().collect();
    let orphans: Vec<Reject> = ingested
        .events
        .iter()
        .filter(|e| failed.contains(&(e.case() as usize)))
        .map(|e| Reject {
            table: Table::Events,
            row_number: u64::from(e.row) + 1,
            key: None,
            column: case_id.clone(),
            value: None,
            reason: RejectReason::CaseRejected,
            file: String::new(),
            locator: String::new(),
        })
        .collect();
    // The events are in measuring order (by case): report them in file order.
    let mut orphans = orphans;
    orphans.sort_by_key(|r| r.row_number);
    for r in orphans {
        ingested.rejects.push(r);
    }
    measured
}

/// The measured cases as `case_slt` rows, in file order: tier and region
/// by name, period and month of creation in the report time zone.
///
/// The rows are made from the last case to the first, and the judged cases
/// and their measurements are given back a chunk at a time as they are
/// used (`cases` is left empty), so that the three shapes of a case are
/// never all held at once: at 10 M cases that is about 1 GiB less at the
/// run's peak.
///
/// A chunk's rows are made in parallel, each written in place. A case's
/// own texts (id, account, product) move into its row; the names many
/// rows share (tier, region, period labels) come from a [`RowNames`] of
/// the worker's own, not one for all: two threads counting references to
/// the same few names would wait on each other at every row. (The same
/// text at two addresses is one value wherever rows are read.)
fn case_rows(settings: &Settings, cases: &mut Vec<Case>, measured: Measurements) -> Vec<CaseRow> {
    case_rows_in_chunks(&settings.policy, cases, measured, 1 << 18)
}

/// [`case_rows`], `chunk` cases at a time.
fn case_rows_in_chunks(
    policy: &Policy,
    cases: &mut Vec<Case>,
    measured: Measurements,
    chunk: usize,
) -> Vec<CaseRow> {
    let Measurements {
        mut results,
        measured,
    } = measured;
    debug_assert_eq!(cases.len(), results.len(), "one measurement per case");
    let names = || RowNames::new(policy);
    let row = |names: &mut RowNames, (case, m): (Case, Measured)| names.row_of(case, &m);
    let mut rows = Vec::with_capacity(measured);
    // Chunks holding a case the calendar could not measure (rare).
    let mut kept: Vec<(Case, Measured)> = Vec::new();
    while !results.is_empty() {
        let start = results.len().saturating_sub(chunk);
        if results[start..].iter().all(Result::is_ok) {
            let measured = results.par_drain(start..).map(|m| match m {
                Ok(m) => m,
                Err(_) => unreachable!("every case of the chunk is measured"),
            });
            let chunk = cases.par_drain(start..).zip(measured);
            rows.par_extend(chunk.rev().map_init(names, row));
        } else {
            let chunk = cases.drain(start..).zip(results.drain(start..));
            kept.extend(chunk.filter_map(|(case, m)| Some((case, m.ok()?))));
            rows.par_extend(kept.par_drain(..).rev().map_init(names, row));
        }
        cases.shrink_to_fit();
        results.shrink_to_fit();
    }
    rows.reverse();
    rows
}

/// What turns a judged case and its measurement into a `case_slt` row:
/// tier and region names, and the period labels (shared, one per month).
/// The one place a [`CaseRow`] is made, for `slt report`, `slt review` and
/// `slt explain` alike.
#[derive(Debug)]
pub struct RowNames<'a> {
    policy: &'a Policy,
    tiers: Vec<Arc<str>>,
    regions: Vec<Arc<str>>,
    labels: BTreeMap<Month, Arc<PeriodLabels>>,
}

impl<'a> RowNames<'a> {
    /// The names of `policy`'s tiers and regions.
    pub fn new(policy: &'a Policy) -> Self {
        RowNames {
            policy,
            tiers: policy.tiers.iter().map(|t| t.as_str().into()).collect(),
            regions: policy
                .regions
                .iter()
                .map(|r| r.name.as_str().into())
                .collect(),
            labels: BTreeMap::new(),
        }
    }

    /// The `case_slt` row of `case` measured as `m`: period and month of
    /// `created_at` in the zone the policy cuts periods in
    /// ([`Policy::period_zone`]).
    pub fn case_row(&mut self, case: &Case, m: &Measured) -> CaseRow {
        self.row_of(case.clone(), m)
    }

    /// The month `case` was created in, in the zone the policy cuts
    /// periods in.
    fn month_of(&self, case: &Case) -> Month {
        Month::of(
            case.created_at,
            self.policy.period_zone(usize::from(case.region)),
        )
    }

    /// The labels of `month` (made once, then shared).
    fn labels(&mut self, month: Month) -> Arc<PeriodLabels> {
        let labels = self.labels.entry(month).or_insert_with(|| {
            Arc::new(PeriodLabels {
                period: month.quarter().label().into(),
                month: month.label().into(),
            })
        });
        Arc::clone(labels)
    }

    /// [`RowNames::case_row`] of a case given up for it: its own texts
    /// (id, account, product) move into the row.
    fn row_of(&mut self, case: Case, m: &Measured) -> CaseRow {
        let labels = self.labels(self.month_of(&case));
        let Case {
            id,
            account,
            tier,
            region,
            created_at,
            product,
            ..
        } = case;
        CaseRow {
            case_id: id,
            account_id: account,
            tier: self.tiers[usize::from(tier)].clone(),
            region: self.regions[usize::from(region)].clone(),
            product,
            priority: m.priority,
            initial_priority: m.initial_priority,
            priority_changes: m.priority_changes,
            created_at,
            clock_start: m.clock_start,
            coverage: m.coverage,
            target_minutes: i64::from(m.target_minutes),
            deadline: m.deadline,
            first_response_at: m.first_response_at,
            response_minutes: m.response_business.map(micros_to_minutes),
            outcome: m.outcome,
            breach_minutes: m.breach_business.map(micros_to_minutes),
            labels,
            reason: m.reason,
        }
    }
}

/// The run's manifest.
fn manifest(
    settings: &Settings,
    ingested: &Ingested,
    cases: &[CaseRow],
    checked: &Checked,
    as_of: Instant,
    as_of_source: AsOfSource,
) -> Manifest {
    let entry = |t: Table| {
        let counts = ingested.counts(t);
        let mut entry = TableEntry::new(ingested.file(t), counts);
        if settings.shard.is_some() {
            entry.rows_in_other_shards = Some(counts.elsewhere);
        }
        entry
    };
    // Counted side by side, by position in `Outcome::ALL` (a name lookup
    // per case was half a second at 10 M cases).
    let counts = cases
        .par_chunks(1 << 16)
        .map(|chunk| {
            let mut n = [0u64; Outcome::ALL.len()];
            for c in chunk {
                n[c.outcome.index()] += 1;
            }
            n
        })
        .reduce(
            || [0; Outcome::ALL.len()],
            |a, b| std::array::from_fn(|i| a[i] + b[i]),
        );
    let outcomes: BTreeMap<String, u64> = Outcome::ALL
        .iter()
        .map(|o| (o.as_str().to_string(), counts[o.index()]))
        .collect();
    let names = |m: BTreeMap<&str, u64>| m.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    Manifest {
        tool: "slt".into(),
        kind: Manifest::report_kind(),
        version: env!("CARGO_PKG_VERSION").into(),
        schema_version: SCHEMA_VERSION.into(),
        as_of: format_rfc3339(as_of),
        as_of_source: as_of_source.as_str().into(),
        priority_change_rule: settings.policy.priority_change.as_str().into(),
        report_time_zone: settings.policy.report_zone.name().into(),
        tables: Tables {
            accounts: entry(Table::Accounts),
            cases: entry(Table::Cases),
            events: entry(Table::Events),
            engagements: entry(Table::Engagements),
            contacts: entry(Table::Contacts),
        },
        policy: settings.policy_file.clone(),
        holidays: settings.holidays_file.clone(),
        mapping: settings.mapping_file.clone(),
        entitlements: EntitlementSummary {
            statuses: names(checked.statuses()),
            findings: names(checked.rules()),
        },
        cases_measured: cases.len() as u64,
        outcomes,
        rows_rejected: ingested.rejects.total(),
        outputs: [
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
        .map(String::from)
        .collect(),
        case_slt_partitioned_by: None,
        case_slt_partitions: None,
        source: ingested.import.as_ref().map(SourceEntry::of),
        shard: settings.shard.map(|s| ShardEntry {
            index: s.index,
            count: s.count,
            hash: crate::shard::HASH.into(),
        }),
        merged_from: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::Coverage;
    use crate::model::{Priority, Reason};

    /// Case `i` of a test export: an EMEA account, created `i` hours
    /// into 2026.
    fn case(i: u32) -> Case {
        let created_at = 1_767_225_600_000_000 + i64::from(i) * 3_600_000_000;
        Case {
            row: i,
            id: format!("C{i}").into(),
            account: "A1".into(),
            tier: 0,
            region: 0,
            priority: Priority::P2,
            created_at,
            closed_at: None,
            product: i.is_multiple_of(2).then(|| "Adobe Target".into()),
            channel: Some("web".into()),
            language: Some("en".into()),
        }
    }

    /// A measurement of case `i`, told apart by its target.
    fn measured(i: u32) -> Measured {
        let at = 1_767_225_600_000_000 + i64::from(i) * 3_600_000_000;
        Measured {
            priority: Priority::P2,
            initial_priority: Priority::P2,
            priority_changes: 0,
            clock_start: at,
            coverage: Coverage::Always,
            target_minutes: 60 + i,
            deadline: at + 3_600_000_000,
            first_response_at: None,
            response_business: None,
            outcome: Outcome::Pending,
            reason: Reason::OpenBeforeDeadline,
            breach_business: None,
        }
    }

    #[test]
    fn case_rows_keep_file_order_in_any_chunk_size_and_skip_unmeasured_cases() {
        let policy = Policy::bundled();
        let unmeasured = [0, 3, 4, 9, 16];
        let expect = |n: u32| -> Vec<CaseRow> {
            let mut names = RowNames::new(&policy);
            (0..n)
                .filter(|i| !unmeasured.contains(i))
                .map(|i| names.case_row(&case(i), &measured(i)))
                .collect()
        };
        for n in [0, 1, 5, 17] {
            for chunk in [1, 2, 3, 4, 7, 64] {
                let mut cases: Vec<Case> = (0..n).map(case).collect();
                let results = (0..n)
                    .map(|i| match unmeasured.contains(&i) {
                        true => Err(CalendarError::NegativeTarget(-1)),
                        false => Ok(measured(i)),
                    })
                    .collect();
                let count = (0..n).filter(|i| !unmeasured.contains(i)).count();
                let m = Measurements {
                    results,
                    measured: count,
                };
                let rows = case_rows_in_chunks(&policy, &mut cases, m, chunk);
                assert!(cases.is_empty(), "the judged cases are given up");
                assert_eq!(rows, expect(n), "{n} cases in chunks of {chunk}");
            }
        }
    }
}
