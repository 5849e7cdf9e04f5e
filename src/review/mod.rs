//! One customer's quarterly service-review pack, as a library: what the
//! manager sends the customer, every number as of the end of the reviewed
//! quarter. Built by [`build`] from the export; written by `slt review`
//! (and, for the demo, beside the demo report).
//!
//! **As of the quarter.** The pack's instant (its *cut*) is the end of the
//! quarter, or the export's as-of instant if that comes first: the
//! account's cases are measured as of the cut (a case still open on the
//! last evening is pending in the pack even if it was answered the next
//! morning), the entitlements are counted as of the cut, in the contract
//! year in force then, and the findings are those dated in the quarter (a
//! contact breach when it overlaps it). The previous quarter is measured
//! at the same cut, so the comparison is with what is known now.
//!
//! **Time.** Times are shown on the wall clock of the account's region
//! (the zone is named). The quarter is cut in the zone the policy's
//! `report_time_zone` says: UTC, or (`"region"`) the account's region zone;
//! the pack says which.
//!
//! The pack (see `docs/outputs.md`):
//!
//! - `review.html`: a self-contained page ([`html`]): a summary a customer
//!   understands, the targets of their tier, attainment per priority against
//!   the previous quarter (flagged when the contract changed), response
//!   times, the breached, excluded and pending cases each with its sentence,
//!   the entitlements with their evidence, the findings, the rejected rows,
//!   the charts, and how to read the numbers;
//! - `cases.csv` and `entitlements.csv` ([`files`]), safe to open in a
//!   spreadsheet;
//! - the four charts filtered to the account, SVG and PNG;
//! - `manifest.json`.
//!
//! An account the export does not have, one without a usable contract, or
//! one with no case created in the quarter, is a one-line error (exit 3)
//! and nothing is written.

mod cases;
mod evidence;
pub mod files;
pub mod html;

use std::path::Path;

use chrono::NaiveDate;
use chrono_tz::Tz;

use crate::charts::data::ComparisonRow;
use crate::charts::{Charts, Counts};
use crate::config::Settings;
use crate::entitlements::check::YearRow;
use crate::entitlements::ContractYear;
use crate::model::{CaseRow, Month, Priority, Quarter, Service, Table, Track};
use crate::pipeline::{self, Judged};
use crate::progress::Progress;
use crate::timestamp::Instant;
use crate::{Error, Result};

pub use files::write_pack;

/// The account and quarter of the demo pack that `slt report` writes beside
/// the demo report (`reports/demo/review-ACC-0012-2026-Q3/`).
pub const DEMO_REVIEW: (&str, &str) = ("ACC-0012", "2026-Q3");

/// Writes the demo pack ([`DEMO_REVIEW`]) into `dir` (the demo report's
/// staging directory), under `review-ACC-0012-2026-Q3/`, measured with the
/// report's settings.
pub fn write_demo_pack(settings: &Settings, dir: &Path) -> Result<()> {
    let (account, period) = DEMO_REVIEW;
    let pack = build(settings, account, period, &Progress::silent())?;
    let sub = dir.join(format!("review-{account}-{period}"));
    std::fs::create_dir(&sub).map_err(|e| Error::Write {
        path: sub.clone(),
        reason: e.to_string(),
    })?;
    files::write_files(&pack, &sub)
}

/// Everything in one review pack, before it is written.
#[derive(Debug, Clone)]
pub struct Pack {
    /// The account.
    pub account: String,
    /// The quarter under review.
    pub quarter: Quarter,
    /// The quarter's first instant, in [`Pack::period_zone`].
    pub start: Instant,
    /// The first instant after the quarter.
    pub end: Instant,
    /// The instant every number is as of: the quarter's last microsecond,
    /// or the export's as-of instant if earlier.
    pub cut: Instant,
    /// The export's as-of instant.
    pub as_of: Instant,
    /// The zone times are shown in: the account's region's.
    pub zone: Tz,
    /// The zone the quarter is cut in.
    pub period_zone: Tz,
    /// The policy's `report_time_zone` (`UTC`, `region`, or a zone).
    pub report_time_zone: String,
    /// Tier and region of the contract in force at the cut (or the last one).
    pub tier: String,
    /// Region of that contract.
    pub region: String,
    /// The account's contracts over the previous and this quarter, with the
    /// targets of each: usually one.
    pub contracts: Vec<ContractTargets>,
    /// Outcome counts of the quarter's cases, as of the cut.
    pub counts: Counts,
    /// Per priority and `all`: this quarter, the previous one, response times.
    pub stats: Vec<PriorityStats>,
    /// Whether the previous quarter compares.
    pub previous: Previous,
    /// The quarter's breached, excluded and still-pending cases, by creation.
    pub cases: Vec<CaseLine>,
    /// The contract year in force at the cut, with its evidence.
    pub entitlements: Option<EntitlementYear>,
    /// Entitlement findings dated in the quarter (contact breaches
    /// overlapping it).
    pub findings: Vec<FindingLine>,
    /// The account's rows the export could not use, grouped by reason.
    pub rejects: Vec<RejectGroup>,
    /// The charts, filtered to the account, as of the cut.
    pub charts: Charts,
    /// The policy's `attainment_goal`: an internal target.
    pub goal: f64,
    /// The export's first case creation.
    pub export_first: Instant,
}

impl Pack {
    /// `2026-Q3`.
    pub fn period(&self) -> String {
        self.quarter.label()
    }

    /// `2026-Q2`.
    pub fn previous_period(&self) -> String {
        self.quarter.previous().label()
    }

    /// Whether the cut is the end of the quarter (not an earlier as-of).
    pub fn complete(&self) -> bool {
        self.cut + 1 == self.end
    }
}

/// One contract of the account, with its targets per priority.
#[derive(Debug, Clone, PartialEq)]
pub struct ContractTargets {
    /// Tier.
    pub tier: String,
    /// Region.
    pub region: String,
    /// In force from.
    pub from: Instant,
    /// Until (`None`: open-ended).
    pub to: Option<Instant>,
    /// Per priority (P1–P4): the target and how it is counted, in words.
    pub targets: [(String, String); 4],
}

/// One row of the attainment table.
#[derive(Debug, Clone, PartialEq)]
pub struct PriorityStats {
    /// `P1` … `P4`, or `all`.
    pub label: String,
    /// This quarter and the previous one, counts as of the cut.
    pub comparison: ComparisonRow,
    /// Median business minutes to the first response (sql/account_attainment.sql).
    pub p50: Option<f64>,
    /// 90th percentile.
    pub p90: Option<f64>,
    /// Whether the change against the previous quarter means anything:
    /// false when the priority's target changed (a new contract).
    pub comparable: bool,
}

/// What the previous quarter is to this one.
#[derive(Debug, Clone, PartialEq)]
pub enum Previous {
    /// Same contract: the change in attainment is shown.
    Same,
    /// The tier or region changed, so targets differ: `from` and `to` are
    /// `Online, Americas`-style labels.
    Changed {
        /// Contracts of the previous quarter's cases.
        from: String,
        /// Contracts of this quarter's cases.
        to: String,
    },
    /// The export starts after the previous quarter ended.
    BeforeExport,
    /// The account has no case created in the previous quarter.
    NoCases,
}

/// A case listed in the pack, with its one-sentence explanation.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseLine {
    /// Its `case_slt` row, measured as of the cut.
    pub row: CaseRow,
    /// Closure, if it happened by the cut.
    pub closed_at: Option<Instant>,
    /// Priority changes that took effect: when, from, to.
    pub history: Vec<(Instant, Priority, Priority)>,
    /// Why it has its outcome.
    pub sentence: String,
}

/// The contract year in force at the cut, with its evidence.
#[derive(Debug, Clone, PartialEq)]
pub struct EntitlementYear {
    /// The year.
    pub year: ContractYear,
    /// Tier of the year's contract.
    pub tier: String,
    /// One row per yearly service, as of the cut.
    pub rows: Vec<YearRow>,
    /// The engagements delivered in the year by the cut, by delivery.
    pub evidence: Vec<Evidence>,
}

impl EntitlementYear {
    /// Whether the tier counts no yearly service and none was delivered
    /// (an Online account): one line in the pack, no table.
    pub fn nothing_included(&self) -> bool {
        self.rows
            .iter()
            .all(|r| r.entitled == 0 && r.delivered == 0)
    }
}

/// One engagement delivered.
#[derive(Debug, Clone, PartialEq)]
pub struct Evidence {
    /// What was delivered.
    pub service: Service,
    /// Its `engagement_id` (or `row N`).
    pub id: String,
    /// When.
    pub delivered_at: Instant,
    /// Product, if given.
    pub product: Option<String>,
    /// Track of a field activity.
    pub track: Option<Track>,
}

/// An entitlement finding, worded for the customer.
#[derive(Debug, Clone, PartialEq)]
pub struct FindingLine {
    /// `Too many named contacts`, …
    pub rule: &'static str,
    /// When it began.
    pub at: Instant,
    /// Contacts: when it ended (`None`: still over at the cut, or not a contact breach).
    pub until: Option<Instant>,
    /// Product.
    pub product: Option<String>,
    /// The ids, comma-separated.
    pub evidence: String,
    /// The finding in a sentence, without markup.
    pub detail: String,
}

/// The account's rejected rows of one table with one reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectGroup {
    /// The table.
    pub table: Table,
    /// The reason's phrase.
    pub reason: &'static str,
    /// Its code.
    pub code: &'static str,
    /// How many rows.
    pub rows: u64,
    /// The first few row numbers (1-based data rows).
    pub first: Vec<u64>,
}

/// Builds the pack of `account` for `period` (`YYYY-Qn`) from the export
/// `settings` names: read and judge it, measure the account's cases as of
/// the quarter's end, count its entitlements then.
pub fn build(
    settings: &Settings,
    account: &str,
    period: &str,
    progress: &Progress,
) -> Result<Pack> {
    let quarter = Quarter::parse(period).ok_or_else(|| {
        Error::Usage(format!(
            "--period: `{period}` is not a quarter (expected YYYY-Qn, e.g. 2026-Q3)"
        ))
    })?;
    let mut timing = crate::output::manifest::Timing::default();
    // The cases are read whole: a rejected case row is the account's only
    // by its text. The other large tables are read in pieces.
    let in_pieces = [Table::Events, Table::Engagements, Table::Contacts];
    let read = pipeline::read_stage_with(settings, progress, &mut timing, &in_pieces)?;
    let raw = evidence::RawRows::of(&read.sources, &settings.mapping, account);
    let judged = pipeline::judge_sources(settings, read, progress, timing)?;
    let scope = Scope::of(&judged, settings, account, quarter)?;

    let stage = progress.stage("measure", None);
    let measured = cases::measure(&judged, settings, &scope)?;
    let lines = measured.lines(&scope, settings);
    stage.finish(
        &format!(
            "{} cases of {account} as of the quarter's end",
            measured.rows.len()
        ),
        serde_json::json!({ "cases": measured.rows.len() }),
    );
    let stage = progress.stage("entitlements", None);
    let ev = evidence::Evidence::of(&judged, settings, &scope, &measured, &raw);
    stage.finish(
        &format!("{} findings in the quarter", ev.findings.len()),
        serde_json::json!({ "findings": ev.findings.len() }),
    );
    let in_period = measured.in_period(&scope);
    if in_period.is_empty() {
        return Err(no_case_in(&judged, settings, &scope));
    }
    let (stats, previous) = cases::stats(&measured, &scope, settings)?;
    Ok(Pack {
        account: account.to_string(),
        quarter,
        start: scope.start,
        end: scope.end,
        cut: scope.cut,
        as_of: judged.as_of,
        zone: scope.zone,
        period_zone: scope.period_zone,
        report_time_zone: settings.policy.report_zone.name().to_string(),
        tier: scope.tier.clone(),
        region: scope.region.clone(),
        contracts: cases::contract_targets(&scope, settings),
        counts: Counts::of(in_period.iter().copied()),
        stats,
        previous,
        cases: lines,
        entitlements: ev.year,
        findings: ev.findings,
        rejects: ev.rejects,
        charts: cases::charts(&measured, &scope, settings),
        goal: settings.policy.attainment_goal,
        export_first: scope.export_first,
    })
}

/// Why there is no pack: no case of the account created in the quarter
/// (with the months it had cases in, on the policy's period clock).
fn no_case_in(judged: &Judged, settings: &Settings, scope: &Scope) -> Error {
    let ingested = &judged.ingested;
    let path = ingested
        .file(Table::Cases)
        .map_or_else(|| "cases".into(), |f| f.path.clone().into());
    let account = &*scope.account;
    let months: Vec<Month> = ingested
        .cases
        .iter()
        .filter(|c| *c.account == *account)
        .map(|c| {
            Month::of(
                c.created_at,
                settings.policy.period_zone(usize::from(c.region)),
            )
        })
        .collect();
    let label = scope.quarter.label();
    let reason = match (months.iter().min(), months.iter().max()) {
        (Some(first), Some(last)) => format!(
            "account `{account}` has no case created in {label} (its cases were created from {} to {})",
            first.label(),
            last.label()
        ),
        _ => format!("account `{account}` has no case in the export"),
    };
    Error::Input { path, reason }
}

/// The account, its zones, the quarter's bounds and the cut.
#[derive(Debug)]
pub(crate) struct Scope {
    /// The account's shared id.
    pub account: std::sync::Arc<str>,
    /// The quarter.
    pub quarter: Quarter,
    /// Its bounds in the period zone, and the previous quarter's start.
    pub start: Instant,
    pub end: Instant,
    pub previous_start: Instant,
    /// Every number is as of this instant.
    pub cut: Instant,
    /// Display zone (the account's region's) and the zone quarters are cut in.
    pub zone: Tz,
    pub period_zone: Tz,
    /// Tier and region of the contract in force at the cut (or the last).
    pub tier: String,
    pub region: String,
    /// The account's contract rows.
    pub contracts: Vec<crate::model::Contract>,
    /// The export's first case creation.
    pub export_first: Instant,
}

impl Scope {
    fn of(judged: &Judged, settings: &Settings, account: &str, quarter: Quarter) -> Result<Scope> {
        let ingested = &judged.ingested;
        let policy = &settings.policy;
        let path: std::path::PathBuf = ingested
            .file(Table::Cases)
            .map_or_else(|| "cases".into(), |f| f.path.clone().into());
        let rows = ingested
            .contracts
            .rows(account)
            .map_err(|why| Error::Input {
                path: path.clone(),
                reason: evidence::no_account(judged, account, why),
            })?;
        let id = ingested
            .contracts
            .in_force(account, rows[0].from)
            .map(|(id, _)| id.clone())
            .unwrap_or_else(|_| account.into());
        // The contract in force at `t`, or the last one begun by then, or the first.
        let pick = |t: Instant| {
            rows.iter()
                .find(|c| c.in_force(t))
                .or_else(|| rows.iter().rev().find(|c| c.from <= t))
                .unwrap_or(&rows[0])
        };
        let bound = |zone: Tz, q: Quarter| -> Instant {
            let first = q.months()[0];
            let day = NaiveDate::from_ymd_opt(first.year, first.month, 1)
                .expect("a quarter's first day")
                .and_hms_opt(0, 0, 0)
                .expect("midnight");
            crate::calendar::zone::resolve_local(zone, day)
        };
        let next = Quarter {
            year: quarter.year + i32::from(quarter.quarter == 4),
            quarter: quarter.quarter % 4 + 1,
        };
        // The account's zone: its region's at the quarter's end (in UTC,
        // near enough to choose the contract).
        let zone = pick((bound(Tz::UTC, next) - 1).min(judged.as_of)).zone;
        let period_zone = match policy.report_zone {
            crate::policy::ReportZone::Zone(tz) => tz,
            crate::policy::ReportZone::Region => zone,
        };
        let bound = |q: Quarter| bound(period_zone, q);
        let (start, end) = (bound(quarter), bound(next));
        let cut = (end - 1).min(judged.as_of);
        if cut < start {
            return Err(Error::Input {
                path,
                reason: format!(
                    "{} had not begun at the export's as-of instant ({}): nothing to review",
                    quarter.label(),
                    crate::timestamp::format_rfc3339(judged.as_of)
                ),
            });
        }
        let contract = pick(cut);
        Ok(Scope {
            account: id,
            quarter,
            start,
            end,
            previous_start: bound(quarter.previous()),
            cut,
            zone,
            period_zone,
            tier: policy.tiers[contract.tier].clone(),
            region: policy.regions[contract.region].name.clone(),
            contracts: rows.to_vec(),
            export_first: ingested
                .cases
                .iter()
                .map(|c| c.created_at)
                .min()
                .unwrap_or(judged.as_of),
        })
    }

    /// The month of `t` in the period zone.
    pub(crate) fn month(&self, t: Instant) -> Month {
        Month::of(t, self.period_zone)
    }
}
