//! Charts and the service-review pack, end to end: the data behind each
//! chart on a tiny hand-checked export, the images (they decode, have the
//! expected size, and draw text with no system font), and `slt review`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common::stderr;
use polars::prelude::*;
use slt::charts::data::{Band, Highlight};
use slt::charts::{self, CaseRow, CHART_FILES};
use slt::cli::MeasureArgs;
use slt::config::Settings;
use slt::model::Priority;
use slt::pipeline::{self, Run};
use slt::policy::Policy;

/// Runs slt with no fontconfig: the charts must not need system fonts.
fn slt(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_slt"))
        .args(args)
        .env("FONTCONFIG_FILE", "/dev/null")
        .env("FONTCONFIG_PATH", "/dev/null")
        .output()
        .expect("slt runs")
}

const ACCOUNTS: &str = "account_id,tier,region,valid_from,valid_to
E-EMEA,Elite,EMEA,2025-01-01,
O-EMEA,Online,EMEA,2025-01-01,
";

// Elite P1: 24x7, 15 min; Online P1: 24x7, 60 min; Elite P2 in EMEA: 24x5, 30 min.
const CASES: &str =
    "case_id,account_id,product,priority,created_at,closed_at,channel,language,contact_id
A1,E-EMEA,Analytics,P1,2026-07-06T10:00:00Z,,web,en,c
A2,E-EMEA,Analytics,P1,2026-07-07T10:00:00Z,,web,en,c
A3,E-EMEA,Analytics,P1,2026-08-03T10:00:00Z,,web,en,c
A4,E-EMEA,Analytics,P1,2026-04-01T10:00:00Z,,web,en,c
A5,O-EMEA,Analytics,P1,2026-07-08T10:00:00Z,,web,en,c
A6,E-EMEA,Analytics,P2,2026-09-30T12:00:00Z,,web,en,c
A7,E-EMEA,Analytics,P1,2026-09-01T10:00:00Z,2026-09-01T10:05:00Z,web,en,c
";

const EVENTS: &str = "case_id,at,kind,value
A1,2026-07-06T10:05:00Z,agent_response,
A2,2026-07-07T10:20:00Z,agent_response,
A3,2026-08-03T10:10:00Z,agent_response,
A4,2026-04-01T10:01:00Z,agent_response,
A5,2026-07-08T11:30:00Z,agent_response,
";

const AS_OF: &str = "2026-09-30T12:10:00Z";

fn export(dir: &Path) -> PathBuf {
    let input = dir.join("in");
    std::fs::create_dir_all(&input).unwrap();
    std::fs::write(input.join("accounts.csv"), ACCOUNTS).unwrap();
    std::fs::write(input.join("cases.csv"), CASES).unwrap();
    std::fs::write(input.join("events.csv"), EVENTS).unwrap();
    input
}

/// A measured run and the policy it was measured with.
struct Built {
    policy: Policy,
    run: Run,
}

fn built(measure: MeasureArgs) -> Built {
    let settings = Settings::from_args(&measure).unwrap();
    let run = pipeline::run(&settings, &slt::progress::Progress::silent()).unwrap();
    Built {
        policy: settings.policy,
        run,
    }
}

fn tiny() -> (tempfile::TempDir, PathBuf, Vec<CaseRow>, Built) {
    let dir = tempfile::tempdir().unwrap();
    let input = export(dir.path());
    let report = built(MeasureArgs {
        input: Some(input.clone()),
        as_of: Some(AS_OF.into()),
        ..MeasureArgs::default()
    });
    let cases = report.run.cases.clone();
    (dir, input, cases, report)
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn heatmap_data_of_the_latest_quarter_labels_every_cell() {
    let (_dir, _, cases, report) = tiny();
    let c = charts::report_charts(&cases, &report.policy);
    let h = &c.heatmap;
    assert_eq!(h.period, "2026-Q3", "A4 is in Q2; the latest quarter is Q3");
    assert_eq!(
        h.title,
        "Attainment by priority and region, 2026-Q3 (all accounts)"
    );
    assert_eq!(h.regions, strings(&["APAC", "Americas", "EMEA", "Japan"]));
    let tiers: Vec<&str> = h.panels.iter().map(|p| p.tier.as_str()).collect();
    assert_eq!(tiers, ["Elite", "Online"]);
    let labelled = |tier: usize| -> Vec<String> {
        h.panels[tier]
            .cells
            .iter()
            .filter(|c| c.band != Band::NoCases)
            .map(|c| {
                format!(
                    "{} {}: {} / {} / {:?}",
                    c.priority, c.region, c.label, c.detail, c.band
                )
            })
            .collect()
    };
    // Elite EMEA P1: A1 met, A2 breached, A3 met, A7 excluded (withdrawn).
    // Elite EMEA P2: A6 still pending at the as-of instant.
    assert_eq!(
        labelled(0),
        [
            "P1 EMEA: 66.6 % / 4 cases / BelowGoal",
            "P2 EMEA: n/a / 1 pending / Undecided"
        ]
    );
    // Online EMEA P1: A5 answered after 90 min against 60: 0 %, from one real case.
    assert_eq!(labelled(1), ["P1 EMEA: 0.0 % / 1 case / BelowGoal"]);
    // Every other cell says "no cases", never 0 %.
    let empty: Vec<&str> = h
        .panels
        .iter()
        .flat_map(|p| &p.cells)
        .filter(|c| c.band == Band::NoCases)
        .map(|c| c.label.as_str())
        .collect();
    assert_eq!(empty.len(), 2 * 16 - 3);
    assert!(empty.iter().all(|l| *l == "no cases"));
}

#[test]
fn trend_data_has_gaps_where_nothing_was_decided() {
    let (_dir, _, cases, report) = tiny();
    let t = charts::report_charts(&cases, &report.policy).trend;
    assert_eq!(
        t.months,
        strings(&["2026-04", "2026-05", "2026-06", "2026-07", "2026-08", "2026-09"])
    );
    assert_eq!(t.goal, 0.95);
    let p1 = &t.series[0];
    assert_eq!(p1.priority, Priority::P1);
    // 07: A1 met, A2 and A5 breached; 09: A7 excluded only.
    assert_eq!(
        p1.points,
        [Some(1.0), None, None, Some(1.0 / 3.0), Some(1.0), None]
    );
    assert_eq!(p1.counts[5].cases, 1);
    assert_eq!(p1.counts[5].excluded, 1);
    assert_eq!(
        t.series[1].points,
        [None, None, None, None, None, None],
        "P2: A6 is pending"
    );
    assert_eq!(t.series[1].counts[5].pending, 1);
    assert!(t.series[2]
        .points
        .iter()
        .chain(&t.series[3].points)
        .all(Option::is_none));
    assert_eq!(t.highlight, None);
}

#[test]
fn response_data_steps_per_tier_with_targets() {
    let (_dir, _, cases, report) = tiny();
    let r = charts::report_charts(&cases, &report.policy).response;
    let p1 = &r.panels[0];
    assert_eq!(
        p1.x_max, 120.0,
        "twice the largest P1 target (Online, 60 min)"
    );
    let elite = &p1.curves[0];
    assert_eq!(
        (
            elite.tier.as_str(),
            elite.decided,
            elite.met,
            elite.answered
        ),
        ("Elite", 4, 3, 4)
    );
    assert_eq!(elite.targets, [15]);
    assert_eq!(
        elite.steps,
        [
            (0.0, 0.0),
            (1.0, 0.25),
            (5.0, 0.5),
            (10.0, 0.75),
            (20.0, 1.0)
        ]
    );
    let online = &p1.curves[1];
    assert_eq!(
        (online.tier.as_str(), online.decided, online.met),
        ("Online", 1, 0)
    );
    assert_eq!(online.targets, [60]);
    assert_eq!(online.steps, [(0.0, 0.0), (90.0, 1.0)]);
    for p in &r.panels[1..] {
        assert!(
            p.curves.is_empty(),
            "{}: pending cases draw no curve",
            p.priority
        );
    }
}

#[test]
fn volume_data_counts_every_outcome_per_month() {
    let (_dir, _, cases, report) = tiny();
    let v = charts::report_charts(&cases, &report.policy).volume;
    assert_eq!(v.months.len(), 6);
    assert_eq!(
        v.counts,
        [
            [1, 0, 0, 0],
            [0; 4],
            [0; 4],
            [3, 0, 0, 0],
            [1, 0, 0, 0],
            [1, 1, 0, 0]
        ]
    );
}

#[test]
fn review_pack_data_compares_with_the_previous_quarter() {
    let (_dir, input, _, report) = tiny();
    let settings = Settings::from_args(&MeasureArgs {
        input: Some(input),
        as_of: Some(AS_OF.into()),
        ..MeasureArgs::default()
    })
    .unwrap();
    let pack = slt::review::build(
        &settings,
        "E-EMEA",
        "2026-Q3",
        &slt::progress::Progress::silent(),
    )
    .unwrap();
    assert_eq!(
        (pack.tier.as_str(), pack.region.as_str()),
        ("Elite", "EMEA")
    );
    // The as-of instant is before the quarter's end: the figures are as of it.
    assert_eq!(pack.cut, report.run.as_of);
    assert!(!pack.complete());
    assert_eq!(
        (pack.counts.cases, pack.counts.met, pack.counts.breached),
        (5, 2, 1)
    );
    assert_eq!((pack.counts.pending, pack.counts.excluded), (1, 1));
    assert_eq!(pack.previous_period(), "2026-Q2");
    assert_eq!(pack.previous, slt::review::Previous::Same);
    let rows: Vec<String> = pack
        .stats
        .iter()
        .map(|s| {
            let r = &s.comparison;
            format!(
                "{}: {} → {} ({})",
                r.label,
                r.previous.attainment_label().unwrap_or("-".into()),
                r.current.attainment_label().unwrap_or("-".into()),
                r.change_label().unwrap_or("-".into())
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            "P1: 100.0 % → 66.6 % (−33.4 points)",
            "P2: - → - (-)",
            "P3: - → - (-)",
            "P4: - → - (-)",
            "all: 100.0 % → 66.6 % (−33.4 points)",
        ]
    );
    // Percentiles by sql/account_attainment.sql: P1 answered in 5, 10 and 20 min.
    assert_eq!(
        (pack.stats[0].p50, pack.stats[0].p90),
        (Some(10.0), Some(18.0))
    );
    let listed: Vec<(&str, &str, &str)> = pack
        .cases
        .iter()
        .map(|c| {
            (
                &*c.row.case_id,
                c.row.outcome.as_str(),
                c.row.reason.as_str(),
            )
        })
        .collect();
    assert_eq!(
        listed,
        [
            ("A2", "breached", "answered_late"),
            ("A7", "excluded", "closed_before_deadline_unanswered"),
            ("A6", "pending", "open_before_deadline"),
        ]
    );
    assert_eq!(
        pack.cases[0].sentence,
        "Due Tue 7 Jul 2026 11:15 BST, answered Tue 7 Jul 2026 11:20 BST: 5 min of business time late."
    );
    // The account's charts: one tier, one region; trend and volume up to the
    // quarter's end, from the export's first month, the quarter shaded.
    let h = &pack.charts.heatmap;
    assert_eq!((h.panels.len(), h.regions.clone()), (1, strings(&["EMEA"])));
    assert_eq!(h.panels[0].cells[0].label, "66.6 %");
    assert_eq!(
        pack.charts.trend.months.first().map(String::as_str),
        Some("2026-04")
    );
    assert_eq!(
        pack.charts.volume.counts,
        [
            [1, 0, 0, 0],
            [0; 4],
            [0; 4],
            [2, 0, 0, 0],
            [1, 0, 0, 0],
            [1, 1, 0, 0]
        ]
    );
    assert_eq!(
        pack.charts.trend.highlight,
        Some(Highlight {
            first: 3,
            last: 5,
            label: "2026-Q3".into()
        })
    );
    assert_eq!(
        slt::review::html::summary(&pack)[..3],
        [
            "E-EMEA (Elite support, EMEA) opened 5 cases in Q3 2026: 2 answered within target, 1 breached \
             (answered late, or not answered by the deadline), 1 closed without a response before its deadline \
             (withdrawn, not counted) and 1 still open within its deadline.",
            "Attainment, the share of decided cases answered within target, was 66.6 % (2 of 3): below our \
             internal goal of 95 %.",
            "In Q2 2026 it was 100.0 % (−33.4 points).",
        ]
    );
}

/// Decodes a PNG fully; returns (width, height, RGB(A) bytes, channels).
fn decode_png(path: &Path) -> (u32, u32, Vec<u8>, usize) {
    let decoder = png::Decoder::new(std::fs::File::open(path).unwrap());
    let mut reader = decoder
        .read_info()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader
        .next_frame(&mut buf)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    buf.truncate(info.buffer_size());
    (info.width, info.height, buf, info.color_type.samples())
}

fn check_images(dir: &Path) {
    for f in CHART_FILES {
        let path = dir.join(f);
        assert!(path.exists(), "{} missing", path.display());
        if f.ends_with(".png") {
            let (w, h, px, channels) = decode_png(&path);
            assert_eq!((w, h), (1600, 900), "{f}");
            // The title (top left) was drawn: dark pixels where text goes.
            let dark = (20..70)
                .flat_map(|y| (40..600).map(move |x| (y * w as usize + x) * channels))
                .filter(|&i| px[i] < 80 && px[i + 1] < 80 && px[i + 2] < 80)
                .count();
            assert!(dark > 500, "{f}: no title text drawn ({dark} dark pixels)");
        } else {
            let svg = std::fs::read_to_string(&path).unwrap();
            assert!(
                svg.contains(r#"width="1600" height="900" viewBox="0 0 1600 900""#),
                "{f}"
            );
            assert!(svg.contains("<text"), "{f}: no text");
            assert!(svg.trim_end().ends_with("</svg>"), "{f}");
        }
    }
}

#[test]
fn report_writes_every_chart_with_no_system_fonts_and_the_same_bytes_twice() {
    let dir = tempfile::tempdir().unwrap();
    let input = export(dir.path());
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    for out in [&a, &b] {
        let o = slt(&[
            "report",
            "--input",
            input.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--as-of",
            AS_OF,
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    check_images(&a);
    for f in CHART_FILES {
        assert!(
            std::fs::read(a.join(f)).unwrap() == std::fs::read(b.join(f)).unwrap(),
            "{f} differs between runs"
        );
    }
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(a.join("manifest.json")).unwrap()).unwrap();
    let outputs: Vec<&str> = manifest["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    for f in CHART_FILES {
        assert!(outputs.contains(&f), "{f} not in the manifest's outputs");
    }
    // Not only the charts: every file of the report, manifest included.
    let mut names: Vec<String> = std::fs::read_dir(&a)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert!(names.len() > CHART_FILES.len(), "{names:?}");
    for f in &names {
        assert!(
            std::fs::read(a.join(f)).unwrap() == std::fs::read(b.join(f)).unwrap(),
            "{f} differs between runs"
        );
    }
}

#[test]
fn review_writes_a_self_contained_pack() {
    let dir = tempfile::tempdir().unwrap();
    let input = export(dir.path());
    let out = dir.path().join("pack");
    let o = slt(&[
        "review",
        "--account",
        "E-EMEA",
        "--period",
        "2026-Q3",
        "--input",
        input.to_str().unwrap(),
        "--as-of",
        AS_OF,
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        stderr(&o)
            .lines()
            .last()
            .unwrap()
            .split("; wrote")
            .next()
            .unwrap(),
        "slt: review of E-EMEA for 2026-Q3: 5 cases (met 2, breached 1, pending 1, excluded 1)"
    );
    check_images(&out);
    let csv = std::fs::read_to_string(out.join("cases.csv")).unwrap();
    assert_eq!(
        csv,
        "case_id,priority,initial_priority,created_at,deadline,first_response_at,closed_at,minutes_late,outcome,reason,explanation\n\
         A2,P1,P1,2026-07-07T11:00:00+01:00,2026-07-07T11:15:00+01:00,2026-07-07T11:20:00+01:00,,5.0,breached,answered_late,\
         \"Due Tue 7 Jul 2026 11:15 BST, answered Tue 7 Jul 2026 11:20 BST: 5 min of business time late.\"\n\
         A7,P1,P1,2026-09-01T11:00:00+01:00,2026-09-01T11:15:00+01:00,,2026-09-01T11:05:00+01:00,,excluded,\
         closed_before_deadline_unanswered,\"Closed Tue 1 Sep 2026 11:05 BST without a response, before its deadline of \
         Tue 1 Sep 2026 11:15 BST: withdrawn, so not counted in attainment.\"\n\
         A6,P2,P2,2026-09-30T13:00:00+01:00,2026-09-30T13:30:00+01:00,,,,pending,open_before_deadline,\
         Not answered yet as of Wed 30 Sep 2026 13:10 BST; due Wed 30 Sep 2026 13:30 BST.\n"
    );
    let html = std::fs::read_to_string(out.join("review.html")).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert_eq!(html.matches("<svg").count(), 4, "four inline charts");
    assert!(
        html.contains("was 66.6 % (2 of 3): below our internal goal of 95 %"),
        "summary"
    );
    assert!(html.contains(
        "<td class=\"id\">A2</td><td>P1</td><td>Analytics</td><td class=\"when\">Tue 7 Jul 2026 11:00 BST</td>"
    ));
    assert!(html.contains(
        "Not answered yet as of Wed 30 Sep 2026 13:10 BST; due Wed 30 Sep 2026 13:30 BST."
    ));
    // Self-contained: nothing fetched (the SVG namespace is a name, not a fetch).
    for needle in ["<script", "<link", "<img", "src=", "@import", "url("] {
        assert!(!html.contains(needle), "review.html contains `{needle}`");
    }
    assert!(html.contains("@media print"));
}

#[test]
fn review_of_an_unknown_account_is_one_line_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let input = export(dir.path());
    let out = dir.path().join("pack");
    let o = slt(&[
        "review",
        "--account",
        "NOPE",
        "--period",
        "2026-Q3",
        "--input",
        input.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(3));
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.ends_with("cases.csv: no account `NOPE` in the export\n"),
        "{err}"
    );
    assert!(!out.exists());
}

#[test]
fn review_of_an_empty_quarter_says_when_the_account_had_cases() {
    let dir = tempfile::tempdir().unwrap();
    let input = export(dir.path());
    let out = dir.path().join("pack");
    let o = slt(&[
        "review",
        "--account",
        "E-EMEA",
        "--period",
        "2026-Q1",
        "--input",
        input.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(3));
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.ends_with("account `E-EMEA` has no case created in 2026-Q1 (its cases were created from 2026-04 to 2026-09)\n"),
        "{err}"
    );
    assert!(!out.exists());
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers.len(), 1, "{leftovers:?}");
}

#[test]
fn review_period_must_be_a_quarter() {
    let o = slt(&[
        "review",
        "--account",
        "ACC-0012",
        "--period",
        "2026-07",
        "--out",
        "/nonexistent/pack",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        stderr(&o),
        "slt: --period: `2026-07` is not a quarter (expected YYYY-Qn, e.g. 2026-Q3)\n"
    );
}

/// The heatmap counts cases as `sql/attainment.sql` does.
#[test]
fn demo_heatmap_agrees_with_attainment_parquet() {
    let report = built(MeasureArgs::default());
    let h = charts::report_charts(&report.run.cases, &report.policy).heatmap;
    let a = report
        .run
        .attainment
        .clone()
        .lazy()
        .filter(
            col("period_type")
                .eq(lit("quarter"))
                .and(col("period").eq(lit(h.period.as_str()))),
        )
        .collect()
        .unwrap();
    let text = |name: &str| {
        let s = a.column(name).unwrap().cast(&DataType::String).unwrap();
        s.str()
            .unwrap()
            .iter()
            .map(|v| v.unwrap().to_string())
            .collect::<Vec<_>>()
    };
    let int = |name: &str| {
        a.column(name)
            .unwrap()
            .i64()
            .unwrap()
            .iter()
            .map(Option::unwrap)
            .collect::<Vec<_>>()
    };
    let (tier, priority, region) = (text("tier"), text("priority"), text("region"));
    let (n, met, breached) = (int("cases"), int("met"), int("breached"));
    let mut seen = 0;
    for panel in &h.panels {
        for cell in &panel.cells {
            let row = (0..a.height()).find(|&i| {
                tier[i] == panel.tier
                    && priority[i] == cell.priority.as_str()
                    && region[i] == cell.region
            });
            match row {
                Some(i) => {
                    seen += 1;
                    let c = &cell.counts;
                    assert_eq!(
                        (c.cases, c.met, c.breached),
                        (n[i] as u64, met[i] as u64, breached[i] as u64)
                    );
                }
                None => assert_eq!(cell.band, Band::NoCases),
            }
        }
    }
    assert_eq!(seen, a.height(), "every attainment row is a heatmap cell");
}
