//! The pack's files: `review.html` ([`super::html`]), `cases.csv`,
//! `entitlements.csv`, the charts and `manifest.json`, written into a
//! staging directory and swapped in whole. The CSVs are for people: times
//! are RFC 3339 with the offset of the account's region zone (exact, and
//! on the customer's clock), and every text cell that a spreadsheet would
//! run as a formula gets a leading `'` ([`crate::output::spreadsheet`]).

use std::path::Path;

use super::Pack;
use crate::output::guard::OutputKind;
use crate::output::spreadsheet::csv_document;
use crate::output::Staging;
use crate::present::local_rfc3339;
use crate::timestamp::format_rfc3339;
use crate::{charts, Error, Result};

/// The pack's files besides the charts, in the order they are written.
pub const PACK_FILES: [&str; 4] = [
    "review.html",
    "cases.csv",
    "entitlements.csv",
    "manifest.json",
];

/// Writes a pack into `out`, atomically.
pub fn write_pack(pack: &Pack, out: &Path) -> Result<()> {
    let staging = Staging::new(out)?;
    write_files(pack, staging.dir())?;
    staging.commit()
}

/// Writes the pack's files into the directory `dir`.
pub fn write_files(pack: &Pack, dir: &Path) -> Result<()> {
    charts::write_charts(&pack.charts, |name| dir.join(name))?;
    let write = |name: &str, bytes: &[u8]| {
        let path = dir.join(name);
        std::fs::write(&path, bytes).map_err(|e| Error::Write {
            path,
            reason: e.to_string(),
        })
    };
    write("review.html", super::html::html(pack)?.as_bytes())?;
    write("cases.csv", cases_csv(pack)?.as_bytes())?;
    write("entitlements.csv", entitlements_csv(pack)?.as_bytes())?;
    write("manifest.json", pack_manifest(pack).as_bytes())
}

/// `cases.csv`: the quarter's breached, excluded and still-pending cases
/// as of the cut, with the reason code and the sentence of the page.
pub fn cases_csv(pack: &Pack) -> Result<String> {
    let t = |i: Option<i64>| i.map(|i| local_rfc3339(i, pack.zone)).unwrap_or_default();
    let rows = pack.cases.iter().map(|c| {
        let r = &c.row;
        vec![
            r.case_id.to_string(),
            r.priority.to_string(),
            r.initial_priority.to_string(),
            t(Some(r.created_at)),
            t(Some(r.deadline)),
            t(r.first_response_at),
            t(c.closed_at),
            r.breach_minutes
                .map(|m| format!("{m:.1}"))
                .unwrap_or_default(),
            r.outcome.as_str().to_string(),
            r.reason.as_str().to_string(),
            c.sentence.clone(),
        ]
    });
    csv_document(
        &[
            "case_id",
            "priority",
            "initial_priority",
            "created_at",
            "deadline",
            "first_response_at",
            "closed_at",
            "minutes_late",
            "outcome",
            "reason",
            "explanation",
        ],
        rows,
    )
}

/// `entitlements.csv`: one row per yearly service of the contract year in
/// force at the cut, counted as of the cut (only the header when no
/// contract year is in force then).
pub fn entitlements_csv(pack: &Pack) -> Result<String> {
    let rows = pack.entitlements.iter().flat_map(|y| {
        y.rows.iter().map(|r| {
            vec![
                r.service.as_str().to_string(),
                r.year.number.to_string(),
                local_rfc3339(r.year.start, pack.zone),
                local_rfc3339(r.year.end, pack.zone),
                r.entitled.to_string(),
                r.delivered.to_string(),
                r.entitled.saturating_sub(r.delivered).to_string(),
                r.status.as_str().to_string(),
            ]
        })
    });
    csv_document(
        &[
            "entitlement",
            "contract_year",
            "year_start",
            "year_end",
            "entitled",
            "delivered",
            "remaining",
            "status",
        ],
        rows,
    )
}

/// The pack's `manifest.json`: what it is, for whom, as of when. It also
/// marks the directory as an slt review pack, which a later `slt review`
/// may replace (see [`crate::output::guard`]). No wall clock: the same
/// inputs give the same bytes.
pub fn pack_manifest(pack: &Pack) -> String {
    let files: Vec<&str> = PACK_FILES
        .iter()
        .copied()
        .chain(charts::CHART_FILES)
        .collect();
    let manifest = serde_json::json!({
        "tool": "slt",
        "kind": OutputKind::Review.as_str(),
        "version": env!("CARGO_PKG_VERSION"),
        "account": pack.account,
        "period": pack.period(),
        "as_of": format_rfc3339(pack.as_of),
        "figures_as_of": format_rfc3339(pack.cut),
        "period_start": format_rfc3339(pack.start),
        "period_end": format_rfc3339(pack.end),
        "time_zone": pack.zone.name(),
        "report_time_zone": pack.report_time_zone,
        "files": files,
    });
    serde_json::to_string_pretty(&manifest).expect("json") + "\n"
}
