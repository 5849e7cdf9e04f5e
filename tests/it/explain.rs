//! `slt explain`: agreement with `case_slt` on every case of whole
//! generated exports (the library, case by case and field by field), the
//! JSON of the binary against `case_slt.parquet` for every reason, the
//! worked examples as golden text, and the one-line refusals.

use std::path::{Path, PathBuf};

use crate::common::{slt, stderr, stdout};
use polars::prelude::*;
use slt::cli::MeasureArgs;
use slt::config::Settings;
use slt::explain::Explainer;
use slt::generate::{generate, GenerateOptions};
use slt::model::Reason;
use slt::pipeline;
use slt::progress::Progress;

/// The bundled policy with `from` replaced by `to`, written into `dir`.
fn policy_with(dir: &Path, name: &str, from: &str, to: &str) -> PathBuf {
    let text = slt::policy::BUNDLED_TOML;
    assert_eq!(text.matches(from).count(), 1, "{from}");
    let path = dir.join(name);
    std::fs::write(&path, text.replace(from, to)).unwrap();
    path
}

/// Explains every case `slt report` measured, and every case it rejected,
/// and checks each against the report.
fn agree_on_every_case(input: &Path, policy: Option<PathBuf>, as_of: Option<&str>) -> usize {
    let settings = Settings::from_args(&MeasureArgs {
        input: Some(input.to_path_buf()),
        as_of: as_of.map(String::from),
        policy,
        ..MeasureArgs::default()
    })
    .unwrap();
    let run = pipeline::run(&settings, &Progress::silent()).unwrap();
    let judged = pipeline::judged(&settings, &Progress::silent()).unwrap();
    assert_eq!(judged.as_of, run.as_of);
    let explainer = Explainer::new(&judged, &settings);
    let mut reasons = std::collections::BTreeSet::new();
    for row in &run.cases {
        let e = explainer.explain(&row.case_id).unwrap();
        assert_eq!(&e.row, row, "{}", row.case_id);
        reasons.insert(row.reason);
        // The JSON carries the row under case_slt's names.
        let json = e.to_json();
        assert_eq!(json["case_id"], *row.case_id);
        assert_eq!(json["reason"], row.reason.as_str());
        assert_eq!(json["outcome"], row.outcome.as_str());
        assert_eq!(
            json["response_business_minutes"].as_f64(),
            row.response_minutes
        );
        assert_eq!(json["breach_business_minutes"].as_f64(), row.breach_minutes);
        assert_eq!(json["priority_changes"], row.priority_changes);
        // Steps in time order, ending with the outcome and its reason.
        let steps = json["steps"].as_array().unwrap();
        assert!(steps
            .iter()
            .all(|s| s["at"].is_string() && s["kind"].is_string()));
        assert!(
            e.steps.windows(2).all(|w| w[0].at <= w[1].at),
            "{}",
            row.case_id
        );
        let outcome = e.steps.iter().find(|s| s.kind == "outcome").unwrap();
        assert_eq!(outcome.fields["reason"], row.reason.as_str());
        let took = e
            .steps
            .iter()
            .filter(|s| s.kind == "priority_change" && s.fields["took_effect"] == true)
            .count();
        assert_eq!(took as u32, row.priority_changes, "{}", row.case_id);
        // The windows counted add up to the response's business minutes.
        if let Some(m) = row.response_minutes {
            let counted: f64 = e
                .steps
                .iter()
                .filter(|s| s.kind.starts_with("coverage_window"))
                .map(|s| s.fields["business_minutes"].as_f64().unwrap())
                .sum();
            assert!(
                (counted - m).abs() < 1e-6,
                "{}: {counted} vs {m}",
                row.case_id
            );
        }
    }
    // A case the report rejected has no clock: one line, exit 3.
    for r in run
        .rejects
        .rows()
        .iter()
        .filter(|r| r.table == slt::model::Table::Cases)
    {
        let Some(id) = r.key else { continue };
        if run.cases.iter().any(|c| &*c.case_id == id.trim()) {
            continue; // a duplicate row of a case measured once
        }
        let err = explainer.explain(id).unwrap_err();
        assert_eq!(err.exit_code(), slt::Exit::Input, "{id}");
        assert!(!err.to_string().contains('\n'));
    }
    assert!(reasons.len() >= 4, "{reasons:?}");
    run.cases.len()
}

#[test]
fn explain_agrees_with_case_slt_on_every_case_of_generated_exports() {
    let dir = tempfile::tempdir().unwrap();
    let export = |name: &str, opts: GenerateOptions| {
        let out = dir.path().join(name);
        generate(&opts, &out).unwrap();
        out
    };
    let demo = export("demo", GenerateOptions::default());
    assert!(agree_on_every_case(&demo, None, None) >= 3000);
    let other = export(
        "other",
        GenerateOptions {
            seed: 31337,
            cases: 1500,
            accounts: 120,
            year: 2027,
            bad_rows: true,
        },
    );
    agree_on_every_case(&other, None, None);
    // The other priority-change rule, periods cut in each region's zone,
    // and an as-of instant in the middle of the data (pending cases,
    // events and closures that have not happened yet).
    let from_creation = policy_with(
        dir.path(),
        "from_creation.toml",
        "priority_change = \"restart\"",
        "priority_change = \"from_creation\"",
    );
    agree_on_every_case(&demo, Some(from_creation), None);
    let region = policy_with(
        dir.path(),
        "region.toml",
        "report_time_zone = \"UTC\"",
        "report_time_zone = \"region\"",
    );
    agree_on_every_case(&demo, Some(region), Some("2026-07-15T13:07:41+02:00"));
}

/// The binary's JSON, read back as a client would, against
/// `case_slt.parquet`: every field of a few cases of each reason.
#[test]
fn explain_json_matches_case_slt_parquet_for_every_reason() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("export");
    generate(&GenerateOptions::default(), &input).unwrap();
    let out = dir.path().join("report");
    let (i, o) = (input.to_str().unwrap(), out.to_str().unwrap());
    assert!(slt(&["report", "--input", i, "--out", o, "-q"])
        .status
        .success());
    let df = ParquetReader::new(std::fs::File::open(out.join("case_slt.parquet")).unwrap())
        .finish()
        .unwrap();
    let text = |name: &str| -> Vec<Option<String>> {
        let s = df.column(name).unwrap().cast(&DataType::String).unwrap();
        s.str()
            .unwrap()
            .iter()
            .map(|v| v.map(String::from))
            .collect()
    };
    let reasons = text("reason");
    let changed: Vec<i64> = df
        .column("priority_changes")
        .unwrap()
        .i64()
        .unwrap()
        .iter()
        .map(|v| v.unwrap())
        .collect();
    let mut picked: Vec<usize> = Vec::new();
    for reason in Reason::ALL {
        picked.extend(
            (0..df.height())
                .filter(|&k| reasons[k].as_deref() == Some(reason.as_str()))
                .take(3),
        );
    }
    picked.extend((0..df.height()).filter(|&k| changed[k] > 0).take(4));
    assert!(picked.len() >= 15);
    for k in picked {
        let row = df.get_row(k).unwrap();
        let id = match &row.0[0] {
            AnyValue::String(s) => s.to_string(),
            other => other.to_string(),
        };
        let o = slt(&["explain", &id, "--input", i, "--format", "json"]);
        assert!(o.status.success(), "{id}: {}", stderr(&o));
        let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let keys: Vec<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut expected: Vec<&str> = df.get_column_names().iter().map(|n| n.as_str()).collect();
        expected.push("steps");
        let (mut k1, mut k2) = (keys.clone(), expected.clone());
        k1.sort_unstable();
        k2.sort_unstable();
        assert_eq!(k1, k2, "{id}: the case_slt fields, and steps");
        for (c, value) in df.columns().iter().zip(&row.0) {
            let name = c.name().as_str();
            let got = &json[name];
            let want = match value {
                AnyValue::Null => serde_json::Value::Null,
                AnyValue::Datetime(us, _, _) => {
                    serde_json::Value::String(slt::timestamp::format_rfc3339(*us))
                }
                AnyValue::Int64(n) => serde_json::json!(n),
                AnyValue::Float64(x) => serde_json::json!(x),
                other => serde_json::Value::String(other.to_string().trim_matches('"').to_string()),
            };
            if let AnyValue::Float64(x) = value {
                // serde_json's parser may be one ulp off (no
                // `float_roundtrip`): read the number's text with Rust's.
                let raw = stdout(&o);
                let key = format!("\"{name}\": ");
                let at = raw.find(&key).unwrap() + key.len();
                let token = raw[at..].split([',', '\n']).next().unwrap();
                assert_eq!(token.parse::<f64>().unwrap(), *x, "{id}.{name}");
                continue;
            }
            assert_eq!(got, &want, "{id}.{name}");
        }
    }
}

const ACCOUNTS: &str = "account_id,tier,region,valid_from,valid_to
O-EMEA,Online,EMEA,2025-01-01,
E-AM,Elite,Americas,2025-01-01,
";

// Worked examples 6 (an upgrade restarts the clock) and 3 (24x5 over a
// weekend in Los Angeles); a case closed unanswered with a reply after the
// closure; changes that do not take effect; a row with an offset-less time.
const CASES: &str =
    "case_id,account_id,product,priority,created_at,closed_at,channel,language,contact_id
EX6,O-EMEA,Analytics,P3,2026-06-09T09:00:00+01:00,,web,en,c
EX3,E-AM,Target,P2,2026-05-15T23:50:00-07:00,,web,en,c
WD,O-EMEA,Analytics,P2,2026-03-27T13:00:00Z,2026-03-27T14:00:00Z,web,en,c
NOOP,E-AM,Target,P3,2026-05-18T09:00:00-07:00,,web,en,c
BAD,E-AM,Target,P3,2026-05-18T09:00:00,,web,en,c
";

const EVENTS: &str = "case_id,at,kind,value
EX6,2026-06-09T09:00:30+01:00,auto_response,
EX6,2026-06-09T10:00:00+01:00,priority_change,P1
EX6,2026-06-09T11:10:00+01:00,agent_response,
EX3,2026-05-18T00:15:00-07:00,agent_response,
WD,2026-03-27T13:30:00Z,internal_note,
WD,2026-03-27T14:30:00Z,agent_response,
NOOP,2026-05-18T09:10:00-07:00,priority_change,P3
NOOP,2026-05-18T09:20:00-07:00,agent_response,
NOOP,2026-05-18T09:20:00-07:00,priority_change,P1
";

fn small_export(dir: &Path) -> String {
    let input = dir.join("in");
    std::fs::create_dir_all(&input).unwrap();
    std::fs::write(input.join("accounts.csv"), ACCOUNTS).unwrap();
    std::fs::write(input.join("cases.csv"), CASES).unwrap();
    std::fs::write(input.join("events.csv"), EVENTS).unwrap();
    input.to_str().unwrap().to_string()
}

/// The worked examples, step by step: golden text (tests/it/snapshots/).
#[test]
fn explain_tells_the_worked_examples_step_by_step() {
    let dir = tempfile::tempdir().unwrap();
    let input = small_export(dir.path());
    let mut seen = String::new();
    for id in ["EX6", "EX3", "WD", "NOOP"] {
        let o = slt(&["explain", id, "--input", &input]);
        assert!(o.status.success(), "{id}: {}", stderr(&o));
        assert_eq!(stderr(&o), "", "nothing on stderr");
        seen.push_str(&stdout(&o));
        seen.push_str("\n---\n\n");
    }
    insta::assert_snapshot!(seen);
    // Example 6 in JSON: restarted at the upgrade, reported as P1.
    let o = slt(&["explain", "EX6", "--input", &input, "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(json["priority"], "P1");
    assert_eq!(json["initial_priority"], "P3");
    assert_eq!(json["clock_start"], "2026-06-09T09:00:00Z");
    assert_eq!(json["deadline"], "2026-06-09T10:00:00Z");
    assert_eq!(json["response_business_minutes"], 70.0);
    assert_eq!(json["breach_business_minutes"], 10.0);
    assert_eq!(json["reason"], "answered_late");
    let kinds: Vec<&str> = json["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "contract",
            "created",
            "clock_start",
            "event_not_counted",
            "priority_change",
            "coverage_window",
            "first_response",
            "outcome"
        ]
    );
}

#[test]
fn explain_of_an_unknown_or_rejected_case_is_one_line_with_exit_3() {
    let dir = tempfile::tempdir().unwrap();
    let input = small_export(dir.path());
    let root = dir.path().to_str().unwrap();
    let mut seen = String::new();
    for id in ["EX7", "ex6", "BAD", "NOTHING-LIKE-IT"] {
        let o = slt(&["explain", id, "--input", &input]);
        assert_eq!(o.status.code(), Some(3), "{id}");
        assert_eq!(stdout(&o), "");
        let err = stderr(&o).replace(root, "…");
        assert_eq!(err.lines().count(), 1, "{err}");
        seen.push_str(&format!("{id}: {err}"));
    }
    insta::assert_snapshot!(seen);
}

/// The README's example is the binary's output, to the byte.
#[test]
fn readme_explain_example_is_what_slt_prints() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let start = readme
        .find("$ slt explain C-0000253\n")
        .expect("the example");
    let block = &readme[start + "$ slt explain C-0000253\n".len()..];
    let shown = &block[..block.find("```").unwrap()];
    let o = slt(&["explain", "C-0000253"]);
    assert!(o.status.success());
    assert_eq!(
        stdout(&o),
        shown,
        "update the README's `slt explain` example"
    );
}
