//! One customer's quarterly service-review pack, as a library: built from
//! a [`Run`], written by `slt review` (and beside the demo report).
//!
//! The pack keeps one account and one quarter:
//!
//! - the four charts of `slt report`, filtered to the account (SVG and PNG):
//!   the heatmap of the quarter, and the trend and volume over the twelve
//!   months ending with it (never before the export's first month);
//! - `cases.csv`: its breached and still-pending cases of the quarter;
//! - `review.html`: a self-contained page (inline SVG, inline CSS, no
//!   network, prints on A4 landscape) with a short summary, the attainment
//!   against the previous quarter, the account's entitlements, the charts
//!   and the cases;
//! - `manifest.json`: what the pack is (it marks the directory as an slt
//!   review pack, which a later `slt review` may replace).
//!
//! An account with no case in the export, or none in the quarter, is a
//! one-line error (exit 3) and nothing is written.

use std::fmt::Write as _;
use std::path::Path;

use chrono_tz::Tz;

use crate::charts::data::{self, ComparisonRow};
use crate::charts::{self, CaseRow, Charts, Counts};
use crate::entitlements::check::{Finding, YearRow};
use crate::model::Outcome;
use crate::output::guard::OutputKind;
use crate::output::Staging;
use crate::pipeline::Run;
use crate::policy::Policy;
use crate::timestamp::{format_rfc3339, to_datetime};
use crate::{Error, Result};

/// The account and quarter of the demo pack that `slt report` writes beside
/// the demo report (`reports/demo/review-ACC-0012-2026-Q3/`).
pub const DEMO_REVIEW: (&str, &str) = ("ACC-0012", "2026-Q3");

/// Writes the demo pack ([`DEMO_REVIEW`]) into `dir` (the demo report's
/// staging directory), under `review-ACC-0012-2026-Q3/`.
pub fn write_demo_pack(run: &Run, policy: &Policy, dir: &Path) -> Result<()> {
    let (account, period) = DEMO_REVIEW;
    let pack = pack_of(run, policy, account, period)?;
    let sub = dir.join(format!("review-{account}-{period}"));
    std::fs::create_dir(&sub).map_err(|e| Error::Write {
        path: sub.clone(),
        reason: e.to_string(),
    })?;
    write_files(&pack, &sub)
}

/// Everything in one review pack, before it is written.
#[derive(Debug, Clone)]
pub struct Pack {
    /// The account.
    pub account: String,
    /// The account's contract-year rows.
    pub entitlements: Vec<YearRow>,
    /// The account's entitlement findings.
    pub findings: Vec<Finding>,
    /// The quarter under review.
    pub period: String,
    /// Tier and region of the account's cases in the quarter (usually one).
    pub contracts: Vec<(String, String)>,
    /// Outcome counts of the quarter.
    pub counts: Counts,
    /// The quarter before.
    pub previous_period: String,
    /// Attainment per priority (and `all`) against the quarter before.
    pub comparison: Vec<ComparisonRow>,
    /// Breached and still-pending cases of the quarter, by creation.
    pub issues: Vec<CaseRow>,
    /// The charts, filtered to the account.
    pub charts: Charts,
    /// Attainment goal.
    pub goal: f64,
    /// The as-of instant (RFC 3339).
    pub as_of: String,
    /// Zone the times in the pack are shown in.
    pub zone: Tz,
}

/// The pack of `account` for `period` from a finished run.
pub fn pack_of(run: &Run, policy: &Policy, account: &str, period: &str) -> Result<Pack> {
    let source = run
        .manifest
        .tables
        .cases
        .file
        .clone()
        .unwrap_or_else(|| "cases".into());
    if !run.cases.iter().any(|c| *c.account_id == *account) {
        return Err(Error::Input {
            path: source.into(),
            reason: unknown_account(run, account),
        });
    }
    let mut pack =
        pack(&run.cases, policy, account, period, &run.manifest.as_of).map_err(|reason| {
            Error::Input {
                path: source.into(),
                reason,
            }
        })?;
    let ent = &run.entitlements;
    pack.entitlements = ent
        .years
        .iter()
        .filter(|y| &*y.account == account)
        .cloned()
        .collect();
    pack.findings = ent
        .findings
        .iter()
        .filter(|f| &*f.account == account)
        .cloned()
        .collect();
    Ok(pack)
}

/// Why `account` has no measured case: its contract rows were all
/// rejected, or it is not in the export (with near matches).
fn unknown_account(run: &Run, account: &str) -> String {
    let contract_rejects: Vec<&crate::ingest::Reject> = run
        .rejects
        .rows()
        .iter()
        .filter(|r| r.table == crate::model::Table::Accounts && r.key.as_deref() == Some(account))
        .collect();
    if let Some(first) = contract_rejects.iter().min_by_key(|r| r.row_number) {
        return format!(
            "account `{account}` has no usable contract: its {} contract {} rejected (row {}: {}), so none of its cases could be measured",
            contract_rejects.len(),
            if contract_rejects.len() == 1 { "row was" } else { "rows were" },
            first.row_number,
            first.reason,
        );
    }
    let known: std::collections::BTreeSet<&str> =
        run.cases.iter().map(|c| &*c.account_id).collect();
    format!(
        "no measured case of account `{account}` in the export{}",
        crate::suggest::did_you_mean(account, known)
    )
}

/// The pack of `account` for `period`; `Err` is the reason there is none.
pub fn pack(
    all: &[CaseRow],
    policy: &Policy,
    account: &str,
    period: &str,
    as_of: &str,
) -> std::result::Result<Pack, String> {
    let cases: Vec<CaseRow> = all
        .iter()
        .filter(|c| *c.account_id == *account)
        .cloned()
        .collect();
    let Some((first, last)) = data::month_span(&cases) else {
        return Err(format!("no measured case of account `{account}`"));
    };
    let in_period: Vec<CaseRow> = cases
        .iter()
        .filter(|c| *c.period == *period)
        .cloned()
        .collect();
    if in_period.is_empty() {
        return Err(format!(
            "account `{account}` has no case created in {period} (its cases were created from {first} to {last})"
        ));
    }
    // Tier and region as in the policy's order, those the quarter's cases had.
    let tiers: Vec<String> = policy
        .tiers
        .iter()
        .filter(|t| in_period.iter().any(|c| *c.tier == ***t))
        .cloned()
        .collect();
    let regions: Vec<String> = policy
        .regions
        .iter()
        .map(|r| r.name.clone())
        .filter(|r| in_period.iter().any(|c| *c.region == **r))
        .collect();
    let contracts = tiers
        .iter()
        .flat_map(|t| regions.iter().map(move |r| (t.clone(), r.clone())))
        .filter(|(t, r)| in_period.iter().any(|c| *c.tier == **t && *c.region == **r))
        .collect();

    let end = data::quarter_months(period).expect("a valid quarter")[2].clone();
    let export_first = data::month_span(all)
        .map(|(a, _)| a)
        .unwrap_or_else(|| first.clone());
    let start = data::months_before(&end, 11)
        .expect("a valid month")
        .max(export_first);
    let months = data::month_range(&start, &end);
    let goal = policy.attainment_goal;
    let window = format!("{account}, {} to {}", months.first().unwrap_or(&start), end);
    let charts = Charts {
        heatmap: data::heatmap(&in_period, period, &tiers, &regions, goal, account),
        trend: data::Trend {
            highlight: data::highlight(&months, period),
            ..data::trend(&cases, &months, goal, &window)
        },
        response: data::response(&in_period, &tiers, &format!("{account}, {period}")),
        volume: data::Volume {
            highlight: data::highlight(&months, period),
            ..data::volume(&cases, &months, &window)
        },
    };
    let (previous_period, comparison) = data::comparison(&cases, period);
    Ok(Pack {
        account: account.to_string(),
        entitlements: Vec::new(),
        findings: Vec::new(),
        period: period.to_string(),
        contracts,
        counts: Counts::of(&in_period),
        previous_period,
        comparison,
        issues: data::open_issues(&cases, period)
            .into_iter()
            .cloned()
            .collect(),
        charts,
        goal,
        as_of: as_of.to_string(),
        zone: policy.period_zone(0),
    })
}

/// Writes a pack into `out`, atomically.
pub fn write_pack(pack: &Pack, out: &Path) -> Result<()> {
    let staging = Staging::new(out)?;
    write_files(pack, staging.dir())?;
    staging.commit()
}

/// Writes the pack's files into the directory `dir`.
fn write_files(pack: &Pack, dir: &Path) -> Result<()> {
    charts::write_charts(&pack.charts, |name| dir.join(name))?;
    let write = |name: &str, bytes: &[u8]| {
        let path = dir.join(name);
        std::fs::write(&path, bytes).map_err(|e| Error::Write {
            path,
            reason: e.to_string(),
        })
    };
    write("cases.csv", cases_csv(pack)?.as_bytes())?;
    write("review.html", html(pack)?.as_bytes())?;
    write("manifest.json", pack_manifest(pack).as_bytes())
}

/// The pack's `manifest.json`: what it is, for whom, as of when. It also
/// marks the directory as an slt review pack, which a later `slt review`
/// may replace (see [`crate::output::guard`]). No wall clock: the same
/// inputs give the same bytes.
fn pack_manifest(pack: &Pack) -> String {
    let manifest = serde_json::json!({
        "tool": "slt",
        "kind": OutputKind::Review.as_str(),
        "version": env!("CARGO_PKG_VERSION"),
        "account": pack.account,
        "period": pack.period,
        "as_of": pack.as_of,
    });
    serde_json::to_string_pretty(&manifest).expect("json") + "\n"
}

/// `cases.csv`: the breached and pending cases, instants in RFC 3339 UTC.
pub fn cases_csv(pack: &Pack) -> Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let err = |e: csv::Error| Error::Internal(e.to_string());
    w.write_record([
        "case_id",
        "priority",
        "created_at",
        "deadline",
        "first_response_at",
        "minutes_late",
        "outcome",
    ])
    .map_err(err)?;
    for c in &pack.issues {
        w.write_record([
            c.case_id.to_string(),
            c.priority.to_string(),
            format_rfc3339(c.created_at),
            format_rfc3339(c.deadline),
            c.first_response_at.map(format_rfc3339).unwrap_or_default(),
            c.breach_minutes
                .map(|m| format!("{m:.1}"))
                .unwrap_or_default(),
            c.outcome.as_str().to_string(),
        ])
        .map_err(err)?;
    }
    let bytes = w.into_inner().map_err(|e| Error::Internal(e.to_string()))?;
    Ok(String::from_utf8(bytes).expect("utf-8"))
}

/// An entitlement row as the cells of the pack's table: contract year,
/// year start, entitlement, entitled, delivered, remaining, expected by
/// now, status.
fn entitlement_cells(y: &YearRow) -> [String; 8] {
    [
        y.year.number.to_string(),
        to_datetime(y.year.start)
            .format("%Y-%m-%d %H:%M:%S%.6f%:z")
            .to_string(),
        y.service.as_str().to_string(),
        y.entitled.to_string(),
        y.delivered.to_string(),
        y.entitled.saturating_sub(y.delivered).to_string(),
        format!("{:?}", y.expected),
        y.status.as_str().to_string(),
    ]
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn local_time(t: i64, zone: Tz) -> String {
    to_datetime(t)
        .with_timezone(&zone)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// "92.9 % (13 of 14 met)", or why there is no attainment.
fn attainment_text(c: &Counts) -> String {
    match c.attainment_label() {
        Some(label) => format!("{label} ({} of {} met)", c.met, c.decided()),
        None if c.cases == 0 => "no cases".to_string(),
        None => format!("n/a ({} pending, {} excluded)", c.pending, c.excluded),
    }
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The summary paragraphs, as plain text (escaped when put in HTML).
pub fn summary(pack: &Pack) -> Vec<String> {
    let c = &pack.counts;
    let goal = data::goal_label(pack.goal);
    let contracts: Vec<String> = pack
        .contracts
        .iter()
        .map(|(t, r)| format!("{t}, {r}"))
        .collect();
    let mut rest = vec![format!("{} breached", c.breached)];
    if c.pending > 0 {
        rest.push(format!("{} still pending", c.pending));
    }
    if c.excluded > 0 {
        rest.push(format!(
            "{} excluded (closed without a response before the deadline)",
            c.excluded
        ));
    }
    let mut out = vec![format!(
        "{} ({}) opened {} in {}: {} met the initial-response target, {}.",
        pack.account,
        contracts.join("; "),
        plural(c.cases, "case", "cases"),
        pack.period,
        c.met,
        rest.join(", ")
    )];
    let all = pack.comparison.last().expect("an `all` row");
    let versus = match (all.previous.attainment_label(), all.change_label()) {
        (Some(prev), Some(change)) => format!("{} in {} ({change}).", prev, pack.previous_period),
        _ => format!(
            "No case of {} was decided, so there is nothing to compare with.",
            pack.previous_period
        ),
    };
    out.push(match c.attainment_label() {
        Some(label) => {
            let at = data::Band::of(c, pack.goal) == data::Band::AtGoal;
            format!(
                "Attainment was {label} against a goal of {goal}: {} the goal. Previous quarter: {versus}",
                if at { "at or above" } else { "below" }
            )
        }
        None => format!("No case of {} is decided yet, so there is no attainment. {versus}", pack.period),
    });
    let below: Vec<String> = pack
        .comparison
        .iter()
        .take(4)
        .filter(|r| {
            matches!(
                data::Band::of(&r.current, pack.goal),
                data::Band::NearGoal | data::Band::BelowGoal
            )
        })
        .map(|r| format!("{} at {}", r.label, attainment_text(&r.current)))
        .collect();
    if below.is_empty() {
        out.push(format!(
            "Every priority with decided cases met the {goal} goal."
        ));
    } else {
        out.push(format!("Below the {goal} goal: {}.", below.join(", ")));
    }
    out.push(match (c.breached, c.pending) {
        (0, 0) => "No case was breached or is still pending.".to_string(),
        (b, 0) => format!(
            "The {} listed at the end.",
            plural(b, "breached case is", "breached cases are")
        ),
        (0, p) => format!(
            "The {} listed at the end.",
            plural(p, "pending case is", "pending cases are")
        ),
        (b, p) => format!("The {b} breached and {p} still-pending cases are listed at the end."),
    });
    out
}

const CSS: &str = "
body { font-family: 'DejaVu Sans', 'Helvetica Neue', Arial, sans-serif; color: #1a1a1a; margin: 2rem auto; max-width: 1100px; padding: 0 1rem; line-height: 1.45; }
h1 { font-size: 1.8rem; margin-bottom: .2rem; }
h2 { font-size: 1.3rem; margin-top: 2rem; border-bottom: 1px solid #ccc; padding-bottom: .2rem; }
.meta { color: #5f6368; margin-top: 0; }
.summary p { margin: .4rem 0; }
table { border-collapse: collapse; width: 100%; font-size: .92rem; }
th, td { border-bottom: 1px solid #e3e5e8; padding: .35rem .6rem; text-align: left; vertical-align: top; }
th { background: #f3f4f6; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.breached td:last-child { color: #b3261e; font-weight: bold; }
figure { margin: 1.2rem 0; break-inside: avoid; page-break-inside: avoid; }
figure svg { width: 100%; height: auto; display: block; border: 1px solid #e3e5e8; }
footer { color: #5f6368; font-size: .8rem; margin-top: 2rem; }
@page { size: A4 landscape; margin: 12mm; }
@media print {
  body { margin: 0; max-width: none; font-size: 10pt; }
  h2 { break-after: avoid; page-break-after: avoid; }
  figure { break-before: page; page-break-before: always; }
  thead { display: table-header-group; }
  tr { break-inside: avoid; page-break-inside: avoid; }
}
";

/// `review.html`: summary, comparison, charts and cases in one file.
pub fn html(pack: &Pack) -> Result<String> {
    let mut h = String::new();
    let title = format!("Service review: {}, {}", pack.account, pack.period);
    let zone = pack.zone.name();
    let contracts: Vec<String> = pack
        .contracts
        .iter()
        .map(|(t, r)| format!("{t} · {r}"))
        .collect();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<h1>{}</h1>\n<p class=\"meta\">{} · measured as of {} · attainment goal {} · times in {}</p>\n",
        escape(&title),
        escape(&title),
        escape(&contracts.join("; ")),
        escape(&pack.as_of),
        data::goal_label(pack.goal),
        escape(zone)
    );
    h.push_str("<section class=\"summary\">\n<h2>Summary</h2>\n");
    for p in summary(pack) {
        let _ = writeln!(h, "<p>{}</p>", escape(&p));
    }
    h.push_str("</section>\n");

    let _ = write!(
        h,
        "<section>\n<h2>Attainment against the previous quarter</h2>\n<table>\n<thead><tr><th>priority</th><th class=\"num\">{}</th><th class=\"num\">{}</th><th class=\"num\">change</th></tr></thead>\n<tbody>\n",
        escape(&pack.previous_period),
        escape(&pack.period)
    );
    for r in &pack.comparison {
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            escape(&r.label),
            escape(&attainment_text(&r.previous)),
            escape(&attainment_text(&r.current)),
            escape(&r.change_label().unwrap_or_else(|| "—".into()))
        );
    }
    h.push_str("</tbody>\n</table>\n<p class=\"meta\">Attainment = met ÷ (met + breached); pending and excluded cases are not in it.</p>\n</section>\n");

    h.push_str("<section>\n<h2>Entitlements</h2>\n");
    if pack.entitlements.is_empty() {
        h.push_str("<p>No entitlement row for this account.</p>\n");
    } else {
        h.push_str("<table>\n<thead><tr><th>contract year</th><th>year start</th><th>entitlement</th><th class=\"num\">entitled</th><th class=\"num\">delivered</th><th class=\"num\">remaining</th><th class=\"num\">expected by now</th><th>status</th></tr></thead>\n<tbody>\n");
        for row in &pack.entitlements {
            h.push_str("<tr>");
            for (i, cell) in entitlement_cells(row).iter().enumerate() {
                let class = if (3..=6).contains(&i) {
                    " class=\"num\""
                } else {
                    ""
                };
                let _ = write!(h, "<td{class}>{}</td>", escape(cell));
            }
            h.push_str("</tr>\n");
        }
        h.push_str("</tbody>\n</table>\n");
    }
    if pack.findings.is_empty() {
        h.push_str("<p>No entitlement finding for this account.</p>\n");
    } else {
        h.push_str("<h3>Findings</h3>\n<table>\n<thead><tr><th>rule</th><th>product</th><th>evidence</th><th>detail</th></tr></thead>\n<tbody>\n");
        for f in &pack.findings {
            h.push_str("<tr>");
            let product = f.product.clone().unwrap_or_default();
            for cell in [f.rule.as_str(), &product, &f.evidence, &f.detail] {
                let _ = write!(h, "<td>{}</td>", escape(cell));
            }
            h.push_str("</tr>\n");
        }
        h.push_str("</tbody>\n</table>\n");
    }
    h.push_str("</section>\n");

    h.push_str("<section>\n<h2>Charts</h2>\n");
    for (name, chart) in pack.charts.named() {
        let svg = charts::render_svg(chart)?;
        let svg = svg.trim_start_matches(|c: char| c != '<');
        let svg = match svg.strip_prefix("<?xml") {
            Some(rest) => &rest[rest.find("?>").map_or(0, |i| i + 2)..],
            None => svg,
        };
        let _ = writeln!(h, "<figure id=\"{name}\">\n{}\n</figure>", svg.trim());
    }
    h.push_str("</section>\n");

    let _ = write!(
        h,
        "<section>\n<h2>Breached and pending cases, {}</h2>\n",
        escape(&pack.period)
    );
    if pack.issues.is_empty() {
        h.push_str("<p>No case of the quarter was breached or is still pending.</p>\n");
    } else {
        let _ = write!(
            h,
            "<table>\n<thead><tr><th>case</th><th>priority</th><th>created</th><th>deadline</th><th>responded</th><th class=\"num\">business minutes late</th><th>outcome</th></tr></thead>\n<tbody>\n"
        );
        for c in &pack.issues {
            let responded = match c.first_response_at {
                Some(t) => local_time(t, pack.zone),
                None if c.outcome == Outcome::Pending => "not yet".to_string(),
                None => "no response".to_string(),
            };
            let late = c
                .breach_minutes
                .map(|m| format!("{m:.1}"))
                .unwrap_or_else(|| "—".into());
            let _ = writeln!(
                h,
                "<tr class=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
                c.outcome.as_str(),
                escape(&c.case_id),
                c.priority,
                local_time(c.created_at, pack.zone),
                local_time(c.deadline, pack.zone),
                escape(&responded),
                late,
                c.outcome.as_str()
            );
        }
        h.push_str("</tbody>\n</table>\n");
    }
    h.push_str("</section>\n");
    let _ = write!(
        h,
        "<footer>Written by slt {} from the measured export; the same charts are beside this file as SVG and PNG, the cases as cases.csv.</footer>\n</body>\n</html>\n",
        env!("CARGO_PKG_VERSION")
    );
    Ok(h)
}
