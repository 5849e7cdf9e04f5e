//! `review.html`: the pack as one self-contained page a manager can send
//! (inline CSS and SVG, nothing fetched, A4 portrait when printed).
//!
//! Every value from the export is escaped ([`escape`]); every number is
//! formatted for people (`1,440`, `92.6 %`, `3 h 42 min`, `Fri 15 May 2026
//! 17:30 PDT`), every code has a label (`service_review` → "Service
//! reviews"). Sections with nothing to show are left out and said so in
//! one line of the summary. The charts follow the attainment table (two
//! to a printed page, never split); the case, entitlement and reject
//! tables flow across pages; the page ends with how to read it (rounding,
//! the internal goal, the time zones).

use std::fmt::Write as _;

use super::{CaseLine, EntitlementYear, Pack, Previous};
use crate::charts::{self, Counts};
use crate::entitlements::Status;
use crate::model::{Outcome, Priority, Service, Table};
use crate::present::{self, local, local_date};
use crate::Result;

/// `s` safe in HTML text and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// What each priority means (docs/rules.md, section 2).
const MEANING: [&str; 4] = [
    "production down, data loss, major degradation",
    "major degradation or potential data loss",
    "minor or no degradation, a workaround exists",
    "a question or an enhancement request",
];

/// A service's name for people.
pub fn service_label(s: Service) -> &'static str {
    match s {
        Service::ServiceReview => "Service reviews",
        Service::ExpertSession => "Expert sessions (60 min)",
        Service::FieldActivity => "Field service activities",
        Service::LaunchAdvisory => "Launch Advisory",
        Service::CaseReview => "Case reviews",
    }
}

/// A status for people.
fn status_label(s: Status) -> &'static str {
    match s {
        Status::Delivered => "all delivered",
        Status::OnTrack => "on track",
        Status::Behind => "behind",
        Status::Over => "more than included",
        Status::NotEntitled => "not included",
    }
}

fn table_label(t: Table) -> &'static str {
    match t {
        Table::Accounts => "Contracts",
        Table::Cases => "Cases",
        Table::Events => "Case history events",
        Table::Engagements => "Services delivered",
        Table::Contacts => "Named contacts",
    }
}

/// `Q3 2026`.
fn quarter_words(p: &Pack) -> String {
    format!("Q{} {}", p.quarter.quarter, p.quarter.year)
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{} {}", present::number(n), if n == 1 { one } else { many })
}

/// "92.6 % (25 of 27)", or why there is none.
fn attainment_text(c: &Counts) -> String {
    match c.attainment_label() {
        Some(label) => format!(
            "{label} ({} of {})",
            present::number(c.met),
            present::number(c.decided())
        ),
        None if c.cases == 0 => "no cases".to_string(),
        None => "none decided".to_string(),
    }
}

/// The summary, as paragraphs of plain text (escaped when written).
pub fn summary(p: &Pack) -> Vec<String> {
    let c = &p.counts;
    let q = quarter_words(p);
    let mut parts = vec![format!("{} answered within target", present::number(c.met))];
    if c.breached > 0 {
        parts.push(format!(
            "{} breached (answered late, or not answered by the deadline)",
            present::number(c.breached)
        ));
    }
    if c.excluded > 0 {
        parts.push(format!(
            "{} closed without a response before {} deadline (withdrawn, not counted)",
            present::number(c.excluded),
            if c.excluded == 1 { "its" } else { "their" }
        ));
    }
    if c.pending > 0 {
        parts.push(format!(
            "{} still open within {} deadline",
            present::number(c.pending),
            if c.pending == 1 { "its" } else { "their" }
        ));
    }
    let mut out = vec![format!(
        "{} ({} support, {}) opened {} in {q}: {}.",
        p.account,
        p.tier,
        p.region,
        plural(c.cases, "case", "cases"),
        join_words(&parts)
    )];
    let goal = crate::charts::data::goal_label(p.goal);
    out.push(match c.attainment_label() {
        Some(label) => {
            let at = crate::charts::data::Band::of(c, p.goal) == crate::charts::data::Band::AtGoal;
            format!(
                "Attainment, the share of decided cases answered within target, was {label} ({} of {}): {} our internal goal of {goal}.",
                present::number(c.met),
                present::number(c.decided()),
                if at { "at or above" } else { "below" }
            )
        }
        None => format!("No case of {q} is decided yet, so there is no attainment."),
    });
    out.push(previous_sentence(p));
    if let Some(all) = p.stats.last() {
        if let (Some(p50), Some(p90)) = (all.p50, all.p90) {
            out.push(format!(
                "Half of the answered cases had their first response within {} of business time, and 90 % within {}.",
                present::minutes_statistic(p50),
                present::minutes_statistic(p90)
            ));
        }
    }
    out.push(entitlement_sentence(p));
    out.push(match p.findings.len() {
        0 => format!("No entitlement finding in {q}."),
        n => format!(
            "{} in {q}, listed below.",
            plural(n as u64, "entitlement finding", "entitlement findings")
        ),
    });
    let rejected: u64 = p.rejects.iter().map(|g| g.rows).sum();
    out.push(match rejected {
        0 => "Every row of this account's data in the export could be used.".to_string(),
        n => format!(
            "{} of this account's data could not be used; they are counted by reason under “Data we could not use”.",
            plural(n, "row", "rows")
        ),
    });
    out
}

fn join_words(parts: &[String]) -> String {
    match parts {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// How this quarter compares with the previous one, in a sentence.
fn previous_sentence(p: &Pack) -> String {
    let before = format!(
        "Q{} {}",
        p.quarter.previous().quarter,
        p.quarter.previous().year
    );
    let Some(all) = p.stats.last() else {
        return String::new();
    };
    match &p.previous {
        Previous::BeforeExport => format!(
            "The data starts on {}, so there is no earlier quarter to compare with.",
            local_date(p.export_first, p.zone)
        ),
        Previous::NoCases => format!("The account opened no case in {before}."),
        Previous::Changed { from, to } => format!(
            "{before} is not compared as a whole: the contract changed from {from} to {to}, and with it the targets; the table below compares only the priorities whose target stayed the same."
        ),
        Previous::Same => match (
            all.comparison.previous.attainment_label(),
            all.comparison.change_label(),
        ) {
            (Some(prev), Some(change)) => format!("In {before} it was {prev} ({change})."),
            _ => format!("No case of {before} was decided, so there is nothing to compare with."),
        },
    }
}

/// The entitlements in one sentence.
fn entitlement_sentence(p: &Pack) -> String {
    let Some(y) = &p.entitlements else {
        return "No contract year is in force at the end of the quarter, so no yearly service is counted.".into();
    };
    if y.nothing_included() {
        return format!(
            "{} support includes no service reviews, expert sessions or field service activities.",
            y.tier
        );
    }
    let items: Vec<String> = y
        .rows
        .iter()
        .filter(|r| r.entitled > 0 || r.delivered > 0)
        .map(|r| {
            format!(
                "{} of {} {}",
                r.delivered,
                r.entitled,
                service_label(r.service).to_lowercase()
            )
        })
        .collect();
    let remaining: u32 = y
        .rows
        .iter()
        .map(|r| r.entitled.saturating_sub(r.delivered))
        .sum();
    format!(
        "Contract year {} (from {} to {}): {} delivered by {}; {} for the rest of the year.",
        y.year.number,
        local_date(y.year.start, p.zone),
        local_date(y.year.end, p.zone),
        join_words(&items),
        local_date(p.cut, p.zone),
        match remaining {
            0 => "nothing remains".to_string(),
            n => format!("{} {}", n, if n == 1 { "remains" } else { "remain" }),
        }
    )
}

const CSS: &str = "
:root { color-scheme: light; }
body { font-family: 'DejaVu Sans', 'Helvetica Neue', Arial, sans-serif; color: #1a1a1a; margin: 2rem auto; max-width: 1100px; padding: 0 1.2rem; line-height: 1.45; font-size: 15px; }
h1 { font-size: 1.7rem; margin: 0 0 .2rem; }
h2 { font-size: 1.2rem; margin: 1.8rem 0 .5rem; border-bottom: 1px solid #ccc; padding-bottom: .2rem; }
h3 { font-size: 1rem; margin: 1rem 0 .4rem; }
.meta, .note { color: #555; }
.meta { margin: 0 0 1rem; }
.note { font-size: .85rem; margin: .4rem 0; }
.tiles { display: flex; flex-wrap: wrap; gap: .6rem; margin: .8rem 0; padding: 0; list-style: none; }
.tiles li { border: 1px solid #dde1e6; border-radius: 6px; padding: .45rem .8rem; min-width: 8rem; }
.tiles b { display: block; font-size: 1.3rem; }
.tiles span { color: #555; font-size: .85rem; }
.summary p { margin: .35rem 0; }
.wide { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: .88rem; margin: .3rem 0; }
th, td { border-bottom: 1px solid #e3e5e8; padding: .3rem .5rem; text-align: left; vertical-align: top; }
th { background: #f3f4f6; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.when, td.id { white-space: nowrap; }
th.group { text-align: center; border-bottom: 1px solid #d0d4da; }
table.cases td:last-child { width: 52%; }
.bad { color: #b3261e; font-weight: 600; }
.charts { display: grid; grid-template-columns: 1fr; gap: 1rem; }
figure { margin: 0; break-inside: avoid; page-break-inside: avoid; }
figure svg { width: 100%; height: auto; display: block; border: 1px solid #e3e5e8; }
ul.notes { padding-left: 1.2rem; }
ul.notes li { margin: .2rem 0; }
footer { color: #555; font-size: .8rem; margin-top: 1.5rem; }
@page { size: A4 portrait; margin: 14mm 12mm; }
@media print {
  body { margin: 0; max-width: none; padding: 0; font-size: 9.5pt; }
  .wide { overflow: visible; }
  h2 { break-after: avoid; page-break-after: avoid; margin-top: 1.2rem; }
  h3 { break-after: avoid; page-break-after: avoid; }
  table { font-size: 8.5pt; }
  thead { display: table-header-group; }
  tr, .tiles li { break-inside: avoid; page-break-inside: avoid; }
  .tiles li { min-width: 0; padding: 1.5mm 3mm; }
  .tiles b { font-size: 12pt; }
  .charts { gap: 4mm; }
  figure svg { max-height: 112mm; width: auto; max-width: 100%; margin: 0 auto; }
  ul.notes { columns: 2; column-gap: 6mm; font-size: 8.5pt; }
  ul.notes li { break-inside: avoid; }
}
";

/// `review.html`.
pub fn html(p: &Pack) -> Result<String> {
    let mut h = String::new();
    let title = format!("Service review: {}, {}", p.account, quarter_words(p));
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<header>\n<h1>{}</h1>\n<p class=\"meta\">{}</p>\n</header>\n",
        escape(&title),
        escape(&title),
        escape(&meta_line(p))
    );
    summary_section(&mut h, p);
    targets_section(&mut h, p);
    attainment_section(&mut h, p);
    notes_section(&mut h, p);
    charts_section(&mut h, p)?;
    cases_sections(&mut h, p);
    entitlements_section(&mut h, p);
    findings_section(&mut h, p);
    rejects_section(&mut h, p);
    h.push_str("</body>\n</html>\n");
    // Wide tables scroll on a narrow screen instead of widening the page.
    // (Values are escaped, so `<table` only ever comes from this module.)
    Ok(h.replace("<table", "<div class=\"wide\"><table")
        .replace("</table>", "</table></div>"))
}

/// `Elite support · Americas · 1 Jul 2026 to 30 Sep 2026 · times in … · figures as of …`.
fn meta_line(p: &Pack) -> String {
    let as_of = if p.complete() {
        format!(
            "figures as of the end of the quarter, {}",
            local(p.cut, p.zone)
        )
    } else {
        format!(
            "figures as of {} (the latest data; the quarter is not over)",
            local(p.cut, p.zone)
        )
    };
    // The quarter's days on the clock it is cut on.
    let cut_in = if p.period_zone == p.zone {
        String::new()
    } else {
        format!(" ({})", p.period_zone.name())
    };
    format!(
        "{} support · {} · {} to {}{cut_in} · times in {} ({}) · {as_of}",
        p.tier,
        p.region,
        local_date(p.start, p.period_zone),
        local_date(p.end - 1, p.period_zone),
        p.zone.name(),
        present::zone_abbreviation(p.cut, p.zone)
    )
}

fn summary_section(h: &mut String, p: &Pack) {
    let c = &p.counts;
    let all = p.stats.last();
    let tile = |h: &mut String, value: &str, label: &str| {
        let _ = write!(
            h,
            "<li><b>{}</b><span>{}</span></li>",
            escape(value),
            escape(label)
        );
    };
    h.push_str("<section class=\"summary\">\n<h2>Summary</h2>\n<ul class=\"tiles\">");
    tile(h, &present::number(c.cases), "cases opened");
    tile(
        h,
        &c.attainment_label().unwrap_or_else(|| "n/a".into()),
        &format!(
            "attainment (internal goal {})",
            crate::charts::data::goal_label(p.goal)
        ),
    );
    if let Some(change) = all
        .filter(|a| p.previous == Previous::Same && a.comparable)
        .and_then(|a| a.comparison.change_label())
    {
        tile(
            h,
            &change,
            &format!("against Q{}", p.quarter.previous().quarter),
        );
    }
    if let Some(p50) = all.and_then(|a| a.p50) {
        tile(h, &present::minutes_statistic(p50), "median first response");
    }
    tile(h, &present::number(c.breached), "breached");
    h.push_str("</ul>\n");
    for para in summary(p) {
        let _ = writeln!(h, "<p>{}</p>", escape(&para));
    }
    h.push_str("</section>\n");
}

fn targets_section(h: &mut String, p: &Pack) {
    h.push_str("<section>\n<h2>Your response targets</h2>\n<table>\n<thead><tr><th>priority</th><th>meaning</th>");
    for c in &p.contracts {
        let until = match c.to {
            Some(to) => format!("until {}", local_date(to - 1, p.zone)),
            None => "open-ended".into(),
        };
        let _ = write!(
            h,
            "<th>{} support, {}<br><span class=\"note\">from {}, {}</span></th>",
            escape(&c.tier),
            escape(&c.region),
            escape(&local_date(c.from, p.zone)),
            escape(&until)
        );
    }
    h.push_str("</tr></thead>\n<tbody>\n");
    for (i, pr) in Priority::ALL.iter().enumerate() {
        let _ = write!(h, "<tr><td>{pr}</td><td>{}</td>", MEANING[i]);
        for c in &p.contracts {
            let (target, coverage) = &c.targets[i];
            let _ = write!(
                h,
                "<td>first response within {}, counted {}</td>",
                escape(target),
                escape(coverage)
            );
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</tbody>\n</table>\n<p class=\"note\">A case is measured against the target of the contract in force when it was opened. Business time counts only the hours the target is counted in.</p>\n</section>\n");
}

fn attainment_section(h: &mut String, p: &Pack) {
    let (q, before) = (
        quarter_words(p),
        format!(
            "Q{} {}",
            p.quarter.previous().quarter,
            p.quarter.previous().year
        ),
    );
    let _ = write!(
        h,
        "<section>\n<h2>Attainment by priority</h2>\n<table>\n<thead><tr><th rowspan=\"2\">priority</th><th colspan=\"5\" class=\"group\">cases in {q}</th><th colspan=\"3\" class=\"group\">attainment</th><th colspan=\"2\" class=\"group\">first response</th></tr>\n<tr><th class=\"num\">all</th><th class=\"num\">met</th><th class=\"num\">breached</th><th class=\"num\">excluded</th><th class=\"num\">pending</th><th class=\"num\">{q}</th><th class=\"num\">{before}</th><th class=\"num\">change</th><th class=\"num\">median</th><th class=\"num\">90 % within</th></tr></thead>\n<tbody>\n"
    );
    for s in &p.stats {
        let (now, then) = (&s.comparison.current, &s.comparison.previous);
        if now.cases == 0 && then.cases == 0 {
            continue;
        }
        let change = if !s.comparable && then.cases > 0 {
            "new target".to_string()
        } else {
            s.comparison.change_label().unwrap_or_else(|| "—".into())
        };
        let stat = |m: Option<f64>| {
            m.map(present::minutes_statistic)
                .unwrap_or_else(|| "—".into())
        };
        let label = if s.label == "all" { "all" } else { &s.label };
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            escape(label),
            present::number(now.cases),
            present::number(now.met),
            present::number(now.breached),
            present::number(now.excluded),
            present::number(now.pending),
            escape(&attainment_text(now)),
            escape(&attainment_text(then)),
            escape(&change),
            stat(s.p50),
            stat(s.p90)
        );
    }
    h.push_str("</tbody>\n</table>\n<p class=\"note\">Attainment = met ÷ (met + breached), rounded down to a tenth of a percent. Excluded cases (closed by the customer before their deadline without a response) and pending cases (still open within their deadline) are not in it. Response times are business time to the first response, over the answered cases. “New target”: the contract changed between the quarters and with it this priority's target, so the change is not shown.</p>\n</section>\n");
}

/// `P1 target 15 minutes, counted around the clock (24x7).` for a case's row.
fn target_words(p: &Pack, r: &crate::model::CaseRow) -> String {
    let contract = p
        .contracts
        .iter()
        .find(|c| *c.tier == *r.tier && *c.region == *r.region);
    match contract {
        Some(c) => {
            let (target, how) = &c.targets[r.priority.index()];
            format!("{} target {target}, counted {how}.", r.priority)
        }
        None => format!(
            "{} target {} business minutes ({}).",
            r.priority,
            present::number(r.target_minutes.max(0) as u64),
            r.coverage.as_str()
        ),
    }
}

/// One table per kind of case listed: breached, excluded, pending.
fn cases_sections(h: &mut String, p: &Pack) {
    let kinds = [
        (Outcome::Breached, "Cases that missed their target"),
        (
            Outcome::Excluded,
            "Cases closed without a response before their deadline",
        ),
        (Outcome::Pending, "Cases still open within their deadline"),
    ];
    for (outcome, heading) in kinds {
        let cases: Vec<&CaseLine> = p
            .cases
            .iter()
            .filter(|c| c.row.outcome == outcome)
            .collect();
        if cases.is_empty() {
            continue;
        }
        let _ = write!(
            h,
            "<section>\n<h2>{heading} ({})</h2>\n<table class=\"cases\">\n<thead><tr><th>case</th><th>priority</th><th>product</th><th>opened</th><th>what happened</th></tr></thead>\n<tbody>\n",
            cases.len()
        );
        for c in cases {
            let r = &c.row;
            let mut priority = r.priority.to_string();
            for (at, from, to) in &c.history {
                let _ = write!(
                    priority,
                    "<br><span class=\"note\">{from} → {to} on {}</span>",
                    escape(&local(*at, p.zone))
                );
            }
            let _ = writeln!(
                h,
                "<tr><td class=\"id\">{}</td><td>{priority}</td><td>{}</td><td class=\"when\">{}</td><td>{} {}</td></tr>",
                escape(&r.case_id),
                escape(r.product.as_deref().unwrap_or("—")),
                escape(&local(r.created_at, p.zone)),
                escape(&target_words(p, r)),
                escape(&c.sentence)
            );
        }
        h.push_str("</tbody>\n</table>\n</section>\n");
    }
}

fn entitlements_section(h: &mut String, p: &Pack) {
    let Some(y) = &p.entitlements else { return };
    if y.nothing_included() && y.evidence.is_empty() {
        return; // one line in the summary
    }
    let _ = write!(
        h,
        "<section>\n<h2>Entitlements: contract year {}, {} to {}</h2>\n<table>\n<thead><tr><th>service</th><th class=\"num\">included this year</th><th class=\"num\">delivered by {}</th><th class=\"num\">remaining</th><th>status</th></tr></thead>\n<tbody>\n",
        y.year.number,
        escape(&local_date(y.year.start, p.zone)),
        escape(&local_date(y.year.end - 1, p.zone)),
        escape(&local_date(p.cut, p.zone))
    );
    for r in &y.rows {
        let status = status_label(r.status);
        let class = if r.status == Status::Behind {
            " class=\"bad\""
        } else {
            ""
        };
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td{class}>{status}</td></tr>",
            service_label(r.service),
            r.entitled,
            r.delivered,
            r.entitled.saturating_sub(r.delivered)
        );
    }
    h.push_str("</tbody>\n</table>\n");
    evidence_table(h, p, y);
    h.push_str("<p class=\"note\">“On track” means at least the services due by now were delivered: with 4 a year, one is due each quarter of the contract year. A year cut short by a change of contract is entitled pro rata.</p>\n</section>\n");
}

fn evidence_table(h: &mut String, p: &Pack, y: &EntitlementYear) {
    if y.evidence.is_empty() {
        h.push_str(
            "<p>No service was delivered in this contract year by the end of the quarter.</p>\n",
        );
        return;
    }
    h.push_str("<h3>Delivered this contract year</h3>\n<table>\n<thead><tr><th>date</th><th>service</th><th>reference</th><th>product</th><th>track</th></tr></thead>\n<tbody>\n");
    for e in &y.evidence {
        let _ = writeln!(
            h,
            "<tr><td class=\"when\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&local(e.delivered_at, p.zone)),
            service_label(e.service),
            escape(&e.id),
            escape(e.product.as_deref().unwrap_or("—")),
            e.track.map_or("—", |t| t.as_str())
        );
    }
    h.push_str("</tbody>\n</table>\n");
}

fn findings_section(h: &mut String, p: &Pack) {
    if p.findings.is_empty() {
        return;
    }
    let _ = write!(
        h,
        "<section>\n<h2>Entitlement findings in {} ({})</h2>\n<table>\n<thead><tr><th>finding</th><th>from</th><th>until</th><th>product</th><th>evidence</th><th>detail</th></tr></thead>\n<tbody>\n",
        quarter_words(p),
        p.findings.len()
    );
    for f in &p.findings {
        let until = match (f.rule, f.until) {
            (_, Some(t)) => local(t, p.zone),
            ("Too many named contacts", None) => "still at the end of the quarter".into(),
            _ => "—".into(),
        };
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td class=\"when\">{}</td><td class=\"when\">{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            f.rule,
            escape(&local(f.at, p.zone)),
            escape(&until),
            escape(f.product.as_deref().unwrap_or("—")),
            escape(&f.evidence),
            escape(&f.detail)
        );
    }
    h.push_str("</tbody>\n</table>\n</section>\n");
}

fn rejects_section(h: &mut String, p: &Pack) {
    if p.rejects.is_empty() {
        return;
    }
    let total: u64 = p.rejects.iter().map(|g| g.rows).sum();
    let _ = write!(
        h,
        "<section>\n<h2>Data we could not use ({})</h2>\n<p>These rows of the export name this account but could not be used, so they are not in the figures above.</p>\n<table>\n<thead><tr><th>data</th><th>reason</th><th class=\"num\">rows</th><th>first rows in the file</th></tr></thead>\n<tbody>\n",
        plural(total, "row", "rows")
    );
    for g in &p.rejects {
        let first: Vec<String> = g.first.iter().map(|n| present::number(*n)).collect();
        let more = if g.rows as usize > g.first.len() {
            ", …"
        } else {
            ""
        };
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td><td class=\"num\">{}</td><td>{}{more}</td></tr>",
            table_label(g.table),
            escape(g.reason),
            present::number(g.rows),
            first.join(", ")
        );
    }
    h.push_str("</tbody>\n</table>\n</section>\n");
}

fn charts_section(h: &mut String, p: &Pack) -> Result<()> {
    h.push_str("<section class=\"charts-section\">\n<h2>Charts</h2>\n<div class=\"charts\">\n");
    for (name, chart) in p.charts.named() {
        let svg = charts::render_svg(chart)?;
        let svg = svg.trim_start_matches(|c: char| c != '<');
        let svg = match svg.strip_prefix("<?xml") {
            Some(rest) => &rest[rest.find("?>").map_or(0, |i| i + 2)..],
            None => svg,
        };
        let _ = writeln!(h, "<figure id=\"{name}\">\n{}\n</figure>", svg.trim());
    }
    h.push_str("</div>\n</section>\n");
    Ok(())
}

fn notes_section(h: &mut String, p: &Pack) {
    let cut = if p.policy_cut_is_utc() {
        "in UTC (the policy's report_time_zone = \"UTC\"): a case belongs to the quarter of its creation in UTC, so a case opened on the evening of the quarter's last day in the Americas can fall in the next quarter".to_string()
    } else if p.report_time_zone == "region" {
        format!("in the account's region zone, {} (the policy's report_time_zone = \"region\"): a case belongs to the quarter of its creation on the customer's clock", p.zone.name())
    } else {
        format!("in {} (the policy's report_time_zone)", p.report_time_zone)
    };
    let items = [
        format!("Times are on the clock of the account's region, {}, with daylight saving time as it applies: the abbreviation after each time says which.", p.zone.name()),
        format!("The quarter is cut {cut}."),
        format!("Every figure is as of {}: cases are measured then (a case still open at that instant is pending), and services are counted as delivered by then. The previous quarter is measured at the same instant.", local(p.cut, p.zone)),
        "Attainment = met ÷ (met + breached). Percentages are rounded down to a tenth (so 95.0 % is never shown for 94.96 %); changes are in percentage points between the rounded figures.".to_string(),
        format!("The goal of {} is our internal target, not a contractual commitment: the contract promises each case's response target.", crate::charts::data::goal_label(p.goal)),
        "Business time counts only the hours a target is counted in (around the clock, Monday to Friday, or office hours minus public holidays). Case times are to the second; medians and 90th percentiles to a tenth of a minute (to the minute above an hour), by linear interpolation.".to_string(),
    ];
    h.push_str(
        "<section class=\"notes\">\n<h2>How to read this review</h2>\n<ul class=\"notes\">\n",
    );
    for i in items {
        let _ = writeln!(h, "<li>{}</li>", escape(&i));
    }
    let _ = write!(
        h,
        "</ul>\n<p class=\"note\">Written by slt {} from the export as of {}. Beside this page: cases.csv and entitlements.csv (for a spreadsheet), and the charts as SVG and PNG.</p>\n</section>\n",
        env!("CARGO_PKG_VERSION"),
        escape(&local(p.as_of, p.zone))
    );
}

impl Pack {
    /// Whether quarters are cut in UTC.
    fn policy_cut_is_utc(&self) -> bool {
        self.report_time_zone == "UTC"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_covers_text_and_attributes() {
        assert_eq!(
            escape("<img src=x onerror='alert(1)'> & \"q\""),
            "&lt;img src=x onerror=&#39;alert(1)&#39;&gt; &amp; &quot;q&quot;"
        );
    }

    #[test]
    fn lists_join_with_and() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(join_words(&s(&["a"])), "a");
        assert_eq!(join_words(&s(&["a", "b", "c"])), "a, b and c");
    }
}
