//! The service-review pack as a manager sends it (issue 14): every number
//! as of the end of the quarter (entitlements recounted from the
//! engagements table, cases against a report measured `--as-of` the same
//! instant), findings of the quarter only, the contract's changes flagged,
//! local times and the quarter cut the policy names, the account's
//! rejected rows counted, no empty section, a print layout without forced
//! page breaks, and hostile values kept inert in the HTML and the CSVs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::common::{slt, stderr};
use slt::cli::MeasureArgs;
use slt::config::Settings;
use slt::model::Table;
use slt::pipeline;
use slt::progress::Progress;
use slt::review::{build, html, Pack, Previous};
use slt::timestamp::{format_rfc3339, parse_rfc3339};

fn demo() -> Settings {
    Settings::from_args(&MeasureArgs::default()).unwrap()
}

fn pack(settings: &Settings, account: &str, period: &str) -> Pack {
    build(settings, account, period, &Progress::silent())
        .unwrap_or_else(|e| panic!("{account} {period}: {e}"))
}

/// `entitlements.csv` recounted from the engagements table as read: for
/// each yearly service, the engagements of the account delivered in
/// `[year_start, year_end)` and by the pack's instant.
#[test]
fn entitlements_are_counted_as_of_the_quarters_end_and_recount_from_the_engagements() {
    let settings = demo();
    let table = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo/engagements.csv"),
    )
    .unwrap();
    let mut reader = csv::Reader::from_reader(table.as_bytes());
    let engagements: Vec<(String, String, i64)> = reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            (
                r[1].to_string(),
                r[2].to_string(),
                parse_rfc3339(&r[4]).unwrap(),
            )
        })
        .collect();
    let accounts = ["ACC-0012", "ACC-0009", "ACC-0017", "ACC-0027", "ACC-0001"];
    let mut checked = 0;
    for account in accounts {
        for period in ["2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"] {
            let p = pack(&settings, account, period);
            let doc = slt::review::files::entitlements_csv(&p).unwrap();
            let mut rows = csv::Reader::from_reader(doc.as_bytes());
            assert_eq!(
                rows.headers().unwrap().iter().collect::<Vec<_>>(),
                [
                    "entitlement",
                    "contract_year",
                    "year_start",
                    "year_end",
                    "entitled",
                    "delivered",
                    "remaining",
                    "status"
                ]
            );
            for r in rows.records() {
                let r = r.unwrap();
                let (start, end) = (parse_rfc3339(&r[2]).unwrap(), parse_rfc3339(&r[3]).unwrap());
                assert!(
                    start <= p.cut && p.cut < end,
                    "the year in force at the cut"
                );
                let delivered = engagements
                    .iter()
                    .filter(|(a, k, t)| {
                        a == account && *k == r[0] && start <= *t && *t < end && *t <= p.cut
                    })
                    .count();
                assert_eq!(
                    r[5].parse::<usize>().unwrap(),
                    delivered,
                    "{account} {period} {}",
                    &r[0]
                );
                let entitled: usize = r[4].parse().unwrap();
                assert_eq!(
                    r[6].parse::<usize>().unwrap(),
                    entitled.saturating_sub(delivered)
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= 45, "{checked}");
    // The example: by 30 September ACC-0012 had 3 of each.
    let q3 = pack(&settings, "ACC-0012", "2026-Q3");
    let year = q3.entitlements.as_ref().unwrap();
    let delivered: Vec<u32> = year.rows.iter().map(|r| r.delivered).collect();
    assert_eq!(delivered, [3, 3, 3]);
    assert_eq!(format_rfc3339(q3.cut), "2026-09-30T23:59:59.999999Z");
    assert!(q3.complete());
}

/// The pack's cases are those of a report measured `--as-of` the pack's
/// instant: same rows, same counts.
#[test]
fn pack_cases_are_measured_as_of_the_quarters_end() {
    let settings = demo();
    let p = pack(&settings, "ACC-0012", "2026-Q3");
    let at = Settings::from_args(&MeasureArgs {
        as_of: Some(format_rfc3339(p.cut)),
        ..MeasureArgs::default()
    })
    .unwrap();
    let run = pipeline::run(&at, &Progress::silent()).unwrap();
    let rows: Vec<&slt::model::CaseRow> = run
        .cases
        .iter()
        .filter(|c| &*c.account_id == "ACC-0012" && c.period() == "2026-Q3")
        .collect();
    assert_eq!(p.counts.cases as usize, rows.len());
    assert_eq!(
        p.counts,
        slt::charts::Counts::of(rows.iter().copied()),
        "outcomes as of the cut"
    );
    for line in &p.cases {
        let row = rows.iter().find(|r| r.case_id == line.row.case_id).unwrap();
        assert_eq!(&line.row, *row);
    }
}

#[test]
fn findings_are_those_of_the_quarter_with_markup_removed() {
    let settings = demo();
    let p = pack(&settings, "ACC-0035", "2026-Q4");
    assert!(
        !p.findings.is_empty() && p.findings.len() < 24,
        "{}",
        p.findings.len()
    );
    for f in &p.findings {
        assert!(p.start <= f.at && f.at < p.end, "{f:?}");
        assert!(!f.detail.contains('`'), "{}", f.detail);
    }
    // ACC-0009's contact breach of its Online years ended at its upgrade
    // (1 July 2026, local midnight): a Q3 cut on the account's clock does
    // not show it.
    let region = dir_with_policy(
        "report_time_zone = \"UTC\"",
        "report_time_zone = \"region\"",
    );
    let by_region = Settings::from_args(&MeasureArgs {
        policy: Some(region.1.clone()),
        ..MeasureArgs::default()
    })
    .unwrap();
    let q3 = pack(&by_region, "ACC-0009", "2026-Q3");
    assert!(q3.findings.is_empty(), "{:?}", q3.findings);
    assert_eq!(q3.report_time_zone, "region");
}

/// The bundled policy with one change, in a temporary directory.
fn dir_with_policy(from: &str, to: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("policy.toml");
    assert_eq!(slt::policy::BUNDLED_TOML.matches(from).count(), 1);
    std::fs::write(&path, slt::policy::BUNDLED_TOML.replace(from, to)).unwrap();
    (dir, path)
}

#[test]
fn an_upgrade_is_not_compared_with_the_online_quarter() {
    let p = pack(&demo(), "ACC-0009", "2026-Q3");
    assert_eq!(
        p.previous,
        Previous::Changed {
            from: "Online, Americas".into(),
            to: "Elite, Americas".into()
        }
    );
    assert_eq!(p.contracts.len(), 2, "both contracts' targets are shown");
    assert!(p.stats.iter().all(|s| !s.comparable));
    let page = html::html(&p).unwrap();
    assert!(page.contains("new target"));
    assert!(
        !page.contains("points</td>"),
        "no change shown across contracts"
    );
    assert!(html::summary(&p)
        .iter()
        .any(|s| s.contains("the contract changed from Online, Americas to Elite, Americas")));
}

#[test]
fn an_online_account_without_entitlements_gets_one_line() {
    let p = pack(&demo(), "ACC-0001", "2026-Q2");
    assert!(p.entitlements.as_ref().unwrap().nothing_included());
    let summary = html::summary(&p);
    assert!(summary
        .iter()
        .any(|s| s == "Online support includes no service reviews, expert sessions or field service activities."));
    let page = html::html(&p).unwrap();
    assert!(!page.contains("<h2>Entitlements"));
}

#[test]
fn the_accounts_rejected_rows_are_counted_with_their_reasons() {
    // C-0001787 (ACC-0003, priority P5) is row 1787 of the demo's cases.
    let p = pack(&demo(), "ACC-0003", "2026-Q3");
    let group = p
        .rejects
        .iter()
        .find(|g| g.code == "unknown_priority")
        .expect("the P5 case");
    assert_eq!(
        (group.table, group.rows, group.first.clone()),
        (Table::Cases, 1, vec![1787])
    );
    let page = html::html(&p).unwrap();
    assert!(
        page.contains("<h2>Data we could not use (1 row)</h2>"),
        "{}",
        &page[..200]
    );
    let q4 = pack(&demo(), "ACC-0012", "2026-Q4");
    assert!(q4.rejects.is_empty());
    assert!(html::summary(&q4)
        .contains(&"Every row of this account's data in the export could be used.".to_string()));
}

/// Every `<section>` has content beyond its heading, every table a row;
/// no section is forced onto a new printed page; the page prints on A4.
#[test]
fn no_section_is_empty_and_the_print_layout_forces_no_page_break() {
    let settings = demo();
    for (account, period) in [
        ("ACC-0012", "2026-Q3"),
        ("ACC-0001", "2026-Q2"),
        ("ACC-0009", "2026-Q3"),
        ("ACC-0003", "2026-Q4"),
        ("ACC-0035", "2026-Q4"),
    ] {
        let page = html::html(&pack(&settings, account, period)).unwrap();
        for section in page.split("<section").skip(1) {
            let body = &section[..section.find("</section>").unwrap()];
            let after_heading = &body[body.find("</h2>").unwrap() + 5..];
            assert!(
                after_heading.contains("<p")
                    || after_heading.contains("<tr")
                    || after_heading.contains("<figure"),
                "{account} {period}: empty section {}",
                &body[..body.find("</h2>").unwrap()]
            );
        }
        for table in page.split("<tbody>").skip(1) {
            assert!(
                table[..table.find("</tbody>").unwrap()].contains("<tr"),
                "{account}: empty table"
            );
        }
        assert!(page.contains("@page { size: A4 portrait"));
        assert!(!page.contains("break-before: page"), "no forced page break");
        assert_eq!(page.matches("<figure").count(), 4);
        assert!(page.contains("figure { margin: 0; break-inside: avoid"));
        for raw in ["service_review", "expert_session", "`", "+00:00", ".000000"] {
            assert!(
                !page.contains(raw),
                "{account} {period}: raw `{raw}` in the page"
            );
        }
        assert!(page.contains("internal goal"));
        assert!(page.contains("rounded down"));
    }
}

const ACCOUNTS: &str = "account_id,tier,region,valid_from,valid_to
AM,Elite,Americas,2025-01-01,
JP,Online,Japan,2025-01-01,
";

// AM1: 30 Sep 18:55 PDT is 1 Oct in UTC. JP1: 1 Oct 05:07 JST is 30 Sep in
// UTC; answered an hour after its 15:00 JST deadline.
const CASES: &str =
    "case_id,account_id,product,priority,created_at,closed_at,channel,language,contact_id
AM1,AM,Target,P2,2026-09-30T18:55:00-07:00,,web,en,c
AM2,AM,Target,P1,2026-08-03T09:00:00-07:00,,web,en,c
JP1,JP,Target,P3,2026-10-01T05:07:00+09:00,,web,ja,c
JP2,JP,Target,P3,2026-09-15T10:00:00+09:00,,web,ja,c
";

const EVENTS: &str = "case_id,at,kind,value
AM1,2026-09-30T19:10:00-07:00,agent_response,
AM2,2026-08-03T09:10:00-07:00,agent_response,
JP1,2026-10-01T16:00:00+09:00,agent_response,
JP2,2026-09-15T10:30:00+09:00,agent_response,
";

fn local_export(dir: &Path) -> PathBuf {
    let input = dir.join("in");
    std::fs::create_dir_all(&input).unwrap();
    std::fs::write(input.join("accounts.csv"), ACCOUNTS).unwrap();
    std::fs::write(input.join("cases.csv"), CASES).unwrap();
    std::fs::write(input.join("events.csv"), EVENTS).unwrap();
    input
}

#[test]
fn times_are_local_and_the_quarter_is_cut_as_the_policy_says() {
    let dir = tempfile::tempdir().unwrap();
    let input = local_export(dir.path());
    let (_keep, region) = dir_with_policy(
        "report_time_zone = \"UTC\"",
        "report_time_zone = \"region\"",
    );
    let settings = |policy: Option<PathBuf>| {
        Settings::from_args(&MeasureArgs {
            input: Some(input.clone()),
            policy,
            ..MeasureArgs::default()
        })
        .unwrap()
    };
    let (utc, local) = (settings(None), settings(Some(region)));
    let ids = |p: &Pack| -> Vec<String> {
        let mut v: Vec<String> = p
            .charts
            .volume
            .counts
            .iter()
            .map(|c| c.iter().sum::<u64>().to_string())
            .collect();
        v.retain(|n| n != "0");
        v
    };
    // In UTC, AM1 falls in Q4; on Los Angeles' clock it is in Q3.
    let am_utc = pack(&utc, "AM", "2026-Q3");
    let am_local = pack(&local, "AM", "2026-Q3");
    assert_eq!(
        (am_utc.counts.cases, am_local.counts.cases),
        (1, 2),
        "{:?}",
        ids(&am_utc)
    );
    assert_eq!(am_local.zone.name(), "America/Los_Angeles");
    assert_eq!(format_rfc3339(am_local.end), "2026-10-01T07:00:00Z");
    let page = html::html(&am_local).unwrap();
    assert!(
        page.contains("times in America/Los_Angeles (PDT)"),
        "{}",
        &page[..900]
    );
    assert!(page.contains("report_time_zone = &quot;region&quot;"));
    let page = html::html(&am_utc).unwrap();
    assert!(page.contains("1 Jul 2026 to 30 Sep 2026 (UTC)"));
    assert!(page.contains("report_time_zone = &quot;UTC&quot;"));
    // JP1, a Q3 case in UTC, reads on Tokyo's clock; at the end of the UTC
    // quarter (09:00 JST) it was still open, so the Q3 pack has it pending.
    let jp = pack(&utc, "JP", "2026-Q3");
    let jp1 = jp.cases.iter().find(|c| &*c.row.case_id == "JP1").unwrap();
    assert_eq!(
        jp1.sentence,
        "Not answered yet as of Thu 1 Oct 2026 08:59:59 JST; due Thu 1 Oct 2026 15:00 JST."
    );
    let q4 = pack(&local, "JP", "2026-Q4");
    assert_eq!(
        q4.cases[0].sentence,
        "Due Thu 1 Oct 2026 15:00 JST, answered Thu 1 Oct 2026 16:00 JST: 1 h of business time late."
    );
    let page = html::html(&jp).unwrap();
    assert!(page.contains("<td class=\"when\">Thu 1 Oct 2026 05:07 JST</td>"));
    let jp_local = pack(&local, "JP", "2026-Q3");
    assert!(
        jp_local.cases.iter().all(|c| &*c.row.case_id != "JP1"),
        "in Q4 on Tokyo's clock"
    );
}

const HOSTILE_ACCOUNTS: &str = "account_id,tier,region,valid_from,valid_to
H<b>x</b>,Online,EMEA,2025-01-01,
";

const HOSTILE_CASES: &str = "case_id,account_id,product,priority,created_at,closed_at,channel,language,contact_id
\"=HYPERLINK(\"\"http://evil.example/\"\",\"\"x\"\")<script>alert(1)</script>\",H<b>x</b>,<script>alert(1)</script>,P1,2026-07-06T10:00:00Z,,web,<img src=x onerror=alert(1)>,c
+SUM(1),H<b>x</b>,<img src=x onerror=alert(2)>,P1,2026-07-07T10:00:00Z,,web,en,c
@cmd,H<b>x</b>,Analytics,P1,2026-07-08T10:00:00Z,,web,en,c
";

const HOSTILE_EVENTS: &str = "case_id,at,kind,value
+SUM(1),2026-07-07T12:00:00Z,agent_response,
@cmd,2026-07-08T10:05:00Z,agent_response,
";

/// Values come from the export: HTML stays escaped (case id, product,
/// language, account), and every CSV meant for people neutralises
/// spreadsheet formulas: the pack's and `slt query --format csv`.
#[test]
fn hostile_values_stay_inert_in_the_page_and_the_spreadsheets() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::create_dir_all(&input).unwrap();
    std::fs::write(input.join("accounts.csv"), HOSTILE_ACCOUNTS).unwrap();
    std::fs::write(input.join("cases.csv"), HOSTILE_CASES).unwrap();
    std::fs::write(input.join("events.csv"), HOSTILE_EVENTS).unwrap();
    let out = dir.path().join("pack");
    let (i, o) = (input.to_str().unwrap(), out.to_str().unwrap());
    let run = slt(&[
        "review",
        "--account",
        "H<b>x</b>",
        "--period",
        "2026-Q3",
        "--input",
        i,
        "--out",
        o,
        "-q",
        "--as-of",
        "2026-07-31T00:00:00Z",
    ]);
    assert!(run.status.success(), "{}", stderr(&run));
    let page = std::fs::read_to_string(out.join("review.html")).unwrap();
    for raw in ["<script", "<img", "<b>x</b>"] {
        assert!(!page.contains(raw), "{raw}");
    }
    assert!(
        page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "product escaped"
    );
    assert!(
        page.contains("&lt;img src=x onerror=alert(1)&gt;"),
        "language escaped (in the finding)"
    );
    assert!(
        page.contains("=HYPERLINK(&quot;http://evil.example/&quot;,&quot;x&quot;)&lt;script&gt;"),
        "case id escaped"
    );
    assert!(page.contains("H&lt;b&gt;x&lt;/b&gt;"), "account escaped");
    for svg in ["attainment_heatmap.svg", "attainment_trend.svg"] {
        let text = std::fs::read_to_string(out.join(svg)).unwrap();
        assert!(!text.contains("<b>x</b>"), "{svg}");
    }
    let cases = std::fs::read_to_string(out.join("cases.csv")).unwrap();
    let mut reader = csv::Reader::from_reader(cases.as_bytes());
    let ids: BTreeMap<String, String> = reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            (r[0].to_string(), r[9].to_string())
        })
        .collect();
    assert_eq!(
        ids.keys().cloned().collect::<Vec<_>>(),
        [
            "'+SUM(1)",
            "'=HYPERLINK(\"http://evil.example/\",\"x\")<script>alert(1)</script>",
        ],
        "{cases}"
    );
    // `slt query --format csv` over a report of the same export.
    let report = dir.path().join("report");
    let r = report.to_str().unwrap();
    assert!(slt(&["report", "--input", i, "--out", r, "-q"])
        .status
        .success());
    let q = slt(&[
        "query",
        r,
        "SELECT case_id, account_id, product, target_minutes FROM case_slt ORDER BY created_at",
        "--format",
        "csv",
    ]);
    assert!(q.status.success(), "{}", stderr(&q));
    let text = String::from_utf8(q.stdout).unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let first: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect();
    assert_eq!(
        first[0][0],
        "'=HYPERLINK(\"http://evil.example/\",\"x\")<script>alert(1)</script>"
    );
    assert_eq!(first[1][0], "'+SUM(1)");
    assert_eq!(first[2][0], "'@cmd");
    assert_eq!(
        first[1][2], "<img src=x onerror=alert(2)>",
        "not a formula: left as is"
    );
    assert_eq!(first[0][3], "60", "numbers untouched");
}
