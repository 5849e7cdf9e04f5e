//! End-to-end tests of the `slt` binary: the spec's worked examples as
//! golden cases through `slt report`, the calendar commands, row accounting
//! and rejects. One integration binary; tests are named for the scenario.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Output;

use crate::common::{slt, stderr, stdout};
use polars::prelude::*;

/// Every Parquet file a report writes.
const PARQUET_OUTPUTS: [&str; 6] = [
    "case_slt.parquet",
    "attainment.parquet",
    "account_attainment.parquet",
    "entitlements.parquet",
    "entitlement_findings.parquet",
    "rejects.parquet",
];

fn export(dir: &Path, accounts: &str, cases: &str, events: &str) -> PathBuf {
    let input = dir.join("in");
    std::fs::create_dir_all(&input).unwrap();
    std::fs::write(input.join("accounts.csv"), accounts).unwrap();
    std::fs::write(input.join("cases.csv"), cases).unwrap();
    std::fs::write(input.join("events.csv"), events).unwrap();
    input
}

fn read(path: &Path) -> DataFrame {
    ParquetReader::new(std::fs::File::open(path).unwrap())
        .finish()
        .unwrap()
}

/// Every column of the row whose `key` column equals `value`, as text.
fn row(df: &DataFrame, key: &str, value: &str) -> HashMap<String, String> {
    let keys = df.column(key).unwrap().cast(&DataType::String).unwrap();
    let keys = keys.str().unwrap();
    let i = keys
        .iter()
        .position(|k| k == Some(value))
        .unwrap_or_else(|| panic!("no row {key}={value}"));
    df.columns()
        .iter()
        .map(|c| {
            let v = c.get(i).unwrap();
            let text = match v {
                AnyValue::Null => "null".to_string(),
                other => other.to_string().trim_matches('"').to_string(),
            };
            (c.name().to_string(), text)
        })
        .collect()
}

const ACCOUNTS: &str = "account_id,tier,region,valid_from,valid_to
O-EMEA,Online,EMEA,2025-01-01,
E-EMEA,Elite,EMEA,2025-01-01,
E-AM,Elite,Americas,2025-01-01,
E-JP,Elite,Japan,2025-01-01,
O-APAC,Online,APAC,2025-01-01,
";

const CASES: &str =
    "case_id,account_id,product,priority,created_at,closed_at,channel,language,contact_id
EX1,O-EMEA,Adobe Analytics,P2,2026-03-27T15:00:00Z,,web,en,c1
EX2,E-EMEA,Adobe Analytics,P1,2026-07-04T23:55:00Z,,phone,en,c2
EX3,E-AM,Adobe Target,P2,2026-05-15T23:50:00-07:00,,web,en,c3
EX4,E-JP,Adobe Target,P2,2026-10-14T17:20:00+09:00,,web,ja,c4
EX5,O-APAC,Adobe Commerce,P4,2026-04-02T10:00:00+11:00,,web,en,c5
EX6,O-EMEA,Adobe Analytics,P3,2026-06-09T09:00:00+01:00,,web,en,c1
EX7,O-EMEA,Adobe Analytics,P2,2026-03-27T13:00:00Z,,web,en,c1
";

const EVENTS: &str = "case_id,at,kind,value
EX1,2026-03-27T15:00:05Z,auto_response,
EX1,2026-03-30T10:30:00+01:00,agent_response,
EX2,2026-07-05T00:12:00Z,agent_response,
EX3,2026-05-18T00:15:00-07:00,agent_response,
EX4,2026-10-15T09:10:00+09:00,agent_response,
EX5,2026-04-09T10:00:00+10:00,agent_response,
EX6,2026-06-09T10:00:00+01:00,priority_change,P1
EX6,2026-06-09T11:10:00+01:00,agent_response,
EX7,2026-03-27T17:40:00Z,agent_response,
";

fn worked_examples(policy: Option<&str>) -> (tempfile::TempDir, DataFrame) {
    let dir = tempfile::tempdir().unwrap();
    let input = export(dir.path(), ACCOUNTS, CASES, EVENTS);
    let out = dir.path().join("out");
    let mut args = vec![
        "report",
        "--input",
        input.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ];
    let policy_path = dir.path().join("policy.toml");
    if let Some(p) = policy {
        std::fs::write(&policy_path, p).unwrap();
        args.extend(["--policy", policy_path.to_str().unwrap()]);
    }
    let o = slt(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    let df = read(&out.join("case_slt.parquet"));
    (dir, df)
}

fn check(r: &HashMap<String, String>, expected: &[(&str, &str)]) {
    for (k, v) in expected {
        assert_eq!(r[*k], *v, "column {k} of {}", r["case_id"]);
    }
}

#[test]
fn spec_worked_examples_through_slt_report() {
    let (_dir, df) = worked_examples(None);
    assert_eq!(df.height(), 7);
    check(
        &row(&df, "case_id", "EX1"),
        &[
            ("tier", "Online"),
            ("region", "EMEA"),
            ("coverage", "business_hours"),
            ("target_minutes", "240"),
            ("deadline", "2026-03-30 10:00:00 UTC"),
            ("outcome", "met"),
            ("response_business_minutes", "210.0"),
            ("breach_business_minutes", "null"),
            ("period", "2026-Q1"),
            ("month", "2026-03"),
        ],
    );
    check(
        &row(&df, "case_id", "EX2"),
        &[
            ("coverage", "24x7"),
            ("target_minutes", "15"),
            ("outcome", "breached"),
            ("response_business_minutes", "17.0"),
            ("breach_business_minutes", "2.0"),
        ],
    );
    check(
        &row(&df, "case_id", "EX3"),
        &[
            ("coverage", "24x5"),
            ("deadline", "2026-05-18 07:20:00 UTC"),
            ("outcome", "met"),
            ("response_business_minutes", "25.0"),
        ],
    );
    check(
        &row(&df, "case_id", "EX4"),
        &[
            ("coverage", "business_hours"),
            ("target_minutes", "30"),
            ("deadline", "2026-10-15 00:20:00 UTC"),
            ("outcome", "met"),
            ("response_business_minutes", "20.0"),
        ],
    );
    check(
        &row(&df, "case_id", "EX5"),
        &[
            ("target_minutes", "1440"),
            ("deadline", "2026-04-09 00:00:00 UTC"),
            ("outcome", "met"),
            ("response_business_minutes", "1440.0"),
        ],
    );
    check(
        &row(&df, "case_id", "EX6"),
        &[
            ("priority", "P1"),
            ("initial_priority", "P3"),
            ("priority_changes", "1"),
            ("clock_start", "2026-06-09 09:00:00 UTC"),
            ("deadline", "2026-06-09 10:00:00 UTC"),
            ("outcome", "breached"),
            ("response_business_minutes", "70.0"),
            ("breach_business_minutes", "10.0"),
        ],
    );
    check(
        &row(&df, "case_id", "EX7"),
        &[
            ("deadline", "2026-03-30 08:00:00 UTC"),
            ("outcome", "met"),
            ("response_business_minutes", "240.0"),
        ],
    );
}

#[test]
fn spec_example_6_under_from_creation_rule() {
    let policy =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/policy.toml"))
            .unwrap()
            .replace(
                "priority_change = \"restart\"",
                "priority_change = \"from_creation\"",
            );
    let (_dir, df) = worked_examples(Some(&policy));
    check(
        &row(&df, "case_id", "EX6"),
        &[
            ("priority", "P1"),
            ("clock_start", "2026-06-09 08:00:00 UTC"),
            ("deadline", "2026-06-09 09:00:00 UTC"),
            ("outcome", "breached"),
            ("response_business_minutes", "130.0"),
            ("breach_business_minutes", "70.0"),
        ],
    );
}

#[test]
fn pending_excluded_and_breached_without_response_at_an_explicit_as_of() {
    let dir = tempfile::tempdir().unwrap();
    let cases =
        "case_id,account_id,product,priority,created_at,closed_at,channel,language,contact_id
OPEN,E-EMEA,x,P1,2026-07-01T10:00:00Z,,web,en,c
LATE,E-EMEA,x,P1,2026-07-01T09:00:00Z,,web,en,c
WITHDRAWN,E-EMEA,x,P1,2026-07-01T09:00:00Z,2026-07-01T09:15:00Z,web,en,c
CLOSEDLATE,E-EMEA,x,P1,2026-07-01T09:00:00Z,2026-07-01T09:15:01Z,web,en,c
AFTERCLOSE,E-EMEA,x,P1,2026-07-01T09:00:00Z,2026-07-01T09:05:00Z,web,en,c
FUTURE,E-EMEA,x,P1,2026-07-01T11:00:00Z,,web,en,c
";
    let events = "case_id,at,kind,value
OPEN,2026-07-01T10:00:10Z,auto_response,
OPEN,2026-07-01T10:20:00Z,agent_response,
AFTERCLOSE,2026-07-01T09:06:00Z,agent_response,
FUTURE,2026-07-01T11:01:00Z,agent_response,
";
    let input = export(dir.path(), ACCOUNTS, cases, events);
    let out = dir.path().join("out");
    let o = slt(&[
        "report",
        "--input",
        input.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--as-of",
        "2026-07-01T10:15:00Z",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let df = read(&out.join("case_slt.parquet"));
    // The response at 10:20 has not happened yet at 10:15: pending (deadline 10:15, as-of == deadline).
    check(
        &row(&df, "case_id", "OPEN"),
        &[("outcome", "pending"), ("first_response_at", "null")],
    );
    check(
        &row(&df, "case_id", "LATE"),
        &[("outcome", "breached"), ("breach_business_minutes", "null")],
    );
    check(
        &row(&df, "case_id", "WITHDRAWN"),
        &[("outcome", "excluded")],
    );
    check(
        &row(&df, "case_id", "CLOSEDLATE"),
        &[("outcome", "breached")],
    );
    // A response after closure does not count: closed within the target, so excluded.
    check(
        &row(&df, "case_id", "AFTERCLOSE"),
        &[("outcome", "excluded"), ("first_response_at", "null")],
    );
    let rejects = read(&out.join("rejects.parquet"));
    check(
        &row(&rejects, "key", "FUTURE"),
        &[
            ("table", "cases"),
            ("column", "created_at"),
            ("row_number", "6"),
        ],
    );
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["as_of"], "2026-07-01T10:15:00Z");
    assert_eq!(manifest["tables"]["cases"]["rows_rejected"], 1);
    assert_eq!(manifest["tables"]["events"]["rows_rejected"], 1);
}

#[test]
fn priority_change_rules_edge_instants() {
    let dir = tempfile::tempdir().unwrap();
    let cases =
        "case_id,account_id,product,priority,created_at,closed_at,channel,language,contact_id
SAME,E-EMEA,x,P3,2026-06-10T09:00:00Z,,web,en,c
ATRESPONSE,E-EMEA,x,P3,2026-06-10T09:00:00Z,,web,en,c
ATDEADLINE,E-EMEA,x,P1,2026-06-10T09:00:00Z,,web,en,c
AFTERDEADLINE,E-EMEA,x,P1,2026-06-10T09:00:00Z,,web,en,c
TWO,E-EMEA,x,P3,2026-06-10T09:00:00Z,,web,en,c
";
    let events = "case_id,at,kind,value
SAME,2026-06-10T09:10:00Z,priority_change,P3
SAME,2026-06-10T09:20:00Z,agent_response,
ATRESPONSE,2026-06-10T09:20:00Z,agent_response,
ATRESPONSE,2026-06-10T09:20:00Z,priority_change,P1
ATDEADLINE,2026-06-10T09:15:00Z,priority_change,P3
ATDEADLINE,2026-06-10T09:50:00Z,agent_response,
AFTERDEADLINE,2026-06-10T09:15:01Z,priority_change,P3
AFTERDEADLINE,2026-06-10T09:50:00Z,agent_response,
TWO,2026-06-10T09:30:00Z,priority_change,P1
TWO,2026-06-10T09:30:00Z,priority_change,P2
TWO,2026-06-10T10:05:00Z,agent_response,
";
    let input = export(dir.path(), ACCOUNTS, cases, events);
    let out = dir.path().join("out");
    let o = slt(&[
        "report",
        "--input",
        input.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let df = read(&out.join("case_slt.parquet"));
    check(
        &row(&df, "case_id", "SAME"),
        &[("priority_changes", "0"), ("outcome", "met")],
    );
    check(
        &row(&df, "case_id", "ATRESPONSE"),
        &[
            ("priority", "P3"),
            ("priority_changes", "0"),
            ("outcome", "met"),
        ],
    );
    // A change at the deadline instant still takes effect: P3 on 24x5 restarts at 09:15.
    check(
        &row(&df, "case_id", "ATDEADLINE"),
        &[
            ("priority", "P3"),
            ("clock_start", "2026-06-10 09:15:00 UTC"),
            ("outcome", "met"),
            ("response_business_minutes", "35.0"),
        ],
    );
    // One second later the P1 target had already been missed.
    check(
        &row(&df, "case_id", "AFTERDEADLINE"),
        &[
            ("priority", "P1"),
            ("outcome", "breached"),
            ("breach_business_minutes", "35.0"),
        ],
    );
    // Two changes at one instant apply in file order: P1 then P2 (24x5, 30 min from 09:30).
    check(
        &row(&df, "case_id", "TWO"),
        &[
            ("priority", "P2"),
            ("priority_changes", "2"),
            ("deadline", "2026-06-10 10:00:00 UTC"),
            ("outcome", "breached"),
        ],
    );
}

#[test]
fn demo_report_reconciles_rows_and_is_byte_identical_across_runs() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    for out in [&a, &b] {
        let o = slt(&["report", "--out", out.to_str().unwrap(), "--quiet"]);
        assert!(o.status.success(), "{}", stderr(&o));
        assert_eq!(stderr(&o), "");
    }
    for f in PARQUET_OUTPUTS {
        assert_eq!(
            std::fs::read(a.join(f)).unwrap(),
            std::fs::read(b.join(f)).unwrap(),
            "{f} differs between runs"
        );
    }
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(a.join("manifest.json")).unwrap()).unwrap();
    let rejects = read(&a.join("rejects.parquet"));
    let mut total_rejected = 0;
    for table in ["accounts", "cases", "events"] {
        let t = &manifest["tables"][table];
        let (read_, used, rejected) = (
            t["rows_read"].as_u64().unwrap(),
            t["rows_used"].as_u64().unwrap(),
            t["rows_rejected"].as_u64().unwrap(),
        );
        assert_eq!(read_, used + rejected, "{table}");
        assert!(rejected > 0, "the demo has bad {table} rows");
        total_rejected += rejected;
    }
    assert_eq!(rejects.height() as u64, total_rejected);
    let cases = read(&a.join("case_slt.parquet"));
    assert_eq!(
        cases.height() as u64,
        manifest["tables"]["cases"]["rows_used"].as_u64().unwrap()
    );
    // The demo's source lines: 3005 case rows, of which 5 are bad.
    assert_eq!(manifest["tables"]["cases"]["rows_read"], 3005);
}

#[test]
fn missing_column_is_one_clear_line_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let input = export(
        dir.path(),
        ACCOUNTS,
        &CASES.replace("created_at", "opened_at"),
        EVENTS,
    );
    let out = dir.path().join("out");
    let o = slt(&[
        "report",
        "--input",
        input.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(3));
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("cases.csv: missing column `created_at`"),
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
fn missing_table_is_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let input = export(dir.path(), ACCOUNTS, CASES, EVENTS);
    std::fs::remove_file(input.join("events.csv")).unwrap();
    let o = slt(&[
        "report",
        "--input",
        input.to_str().unwrap(),
        "--out",
        dir.path().join("o").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(3));
    assert!(
        stderr(&o)
            .contains("no `events` table (expected events.csv, events.parquet or events.ndjson)"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn rejects_name_table_row_column_and_reason() {
    let dir = tempfile::tempdir().unwrap();
    let accounts = format!("{ACCOUNTS}BAD,Gold,EMEA,2025-01-01,\nOVL,Online,EMEA,2025-01-01,2026-06-01\nOVL,Elite,EMEA,2026-05-01,\n");
    let cases =
        "case_id,account_id,product,priority,created_at,closed_at,channel,language,contact_id
A,O-EMEA,x,P2,2026-05-04T10:00:00,,web,en,c
B,O-EMEA,x,P5,2026-05-04T10:00:00Z,,web,en,c
C,NOPE,x,P2,2026-05-04T10:00:00Z,,web,en,c
D,O-EMEA,x,P2,2026-05-04T10:00:00Z,,web,en,c
D,O-EMEA,x,P2,2026-05-04T10:00:00Z,,web,en,c
E,O-EMEA,x,P2,2026-05-04T10:00:00Z,,web,en,c
E,O-EMEA,x,P3,2026-05-04T10:00:00Z,,web,en,c
F,OVL,x,P2,2026-05-04T10:00:00Z,,web,en,c
G,O-EMEA,x,P2,2024-05-04T10:00:00Z,,web,en,c
";
    let events = "case_id,at,kind,value
D,2026-05-04T09:00:00Z,agent_response,
D,2026-05-04T11:00:00Z,agent_response,
Z,2026-05-04T11:00:00Z,agent_response,
E,2026-05-04T11:00:00Z,agent_response,
D,2026-05-04T11:00:00Z,priority_change,P9
D,2026-05-04T11:00:00Z,teleport,
";
    let input = export(dir.path(), &accounts, cases, events);
    let out = dir.path().join("out");
    let o = slt(&[
        "report",
        "--input",
        input.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--fail-on-rejects",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let r = read(&out.join("rejects.parquet"));
    let reasons: Vec<String> = (0..r.height())
        .map(|i| {
            let g = |c: &str| match r.column(c).unwrap().get(i).unwrap() {
                AnyValue::Null => "-".to_string(),
                v => v.to_string().trim_matches('"').to_string(),
            };
            format!(
                "{} {} {} {} {} | {}",
                g("table"),
                g("row_number"),
                g("key"),
                g("column"),
                g("value"),
                g("reason")
            )
        })
        .collect();
    let expected = [
        "accounts 6 BAD tier Gold | tier not defined in the policy",
        "accounts 7 OVL valid_from 2025-01-01 | contract rows of one account overlap",
        "accounts 8 OVL valid_from 2026-05-01 | contract rows of one account overlap",
        "cases 1 A created_at 2026-05-04T10:00:00 | timestamp without a UTC offset: slt never guesses a time zone",
        "cases 2 B priority P5 | priority is not P1, P2, P3 or P4",
        "cases 3 C account_id NOPE | unknown account",
        "cases 5 D case_id D | identical duplicate of an earlier row (collapsed)",
        "cases 6 E case_id E | duplicate id with different content",
        "cases 7 E case_id E | duplicate id with different content",
        "cases 8 F account_id OVL | account has only rejected contract rows",
        "cases 9 G created_at 2024-05-04T10:00:00Z | account has no contract in force at that instant",
        "events 1 D at 2026-05-04T09:00:00Z | event before its case's creation",
        "events 3 Z case_id Z | unknown case",
        "events 4 E case_id E | its case was rejected",
        "events 5 D value P9 | priority is not P1, P2, P3 or P4",
        "events 6 D kind teleport | unknown event kind",
    ];
    assert_eq!(reasons, expected);
    // One fixed phrase per code: `GROUP BY reason` and `GROUP BY
    // reason_code` make the same groups.
    let pairs: std::collections::BTreeSet<(String, String)> = (0..r.height())
        .map(|i| {
            let g = |c: &str| r.column(c).unwrap().get(i).unwrap().to_string();
            (g("reason"), g("reason_code"))
        })
        .collect();
    let codes: std::collections::BTreeSet<&String> = pairs.iter().map(|(_, c)| c).collect();
    assert_eq!(pairs.len(), codes.len(), "{pairs:?}");
    assert!(
        codes.iter().any(|c| c.contains("timestamp_without_offset")),
        "{codes:?}"
    );
    let df = read(&out.join("case_slt.parquet"));
    assert_eq!(df.height(), 1);
    check(
        &row(&df, "case_id", "D"),
        &[
            ("outcome", "met"),
            ("first_response_at", "2026-05-04 11:00:00 UTC"),
        ],
    );
}

#[test]
fn calendar_elapsed_and_deadline_commands() {
    let o = slt(&[
        "calendar",
        "elapsed",
        "--region",
        "EMEA",
        "--coverage",
        "business_hours",
        "2026-03-27T15:00:00Z",
        "2026-03-30T10:30:00+01:00",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "210\n");
    let o = slt(&[
        "calendar",
        "deadline",
        "--region",
        "EMEA",
        "--coverage",
        "business_hours",
        "2026-03-27T15:00:00Z",
        "240",
    ]);
    assert_eq!(stdout(&o), "2026-03-30T10:00:00Z\n");
    let o = slt(&[
        "calendar",
        "elapsed",
        "--region",
        "EMEA",
        "--coverage",
        "24x7",
        "2026-03-27T15:00:01Z",
        "2026-03-27T15:00:00Z",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        stderr(&o),
        "slt: start `2026-03-27T15:00:01Z` is after end `2026-03-27T15:00:00Z`\n"
    );
    let o = slt(&[
        "calendar",
        "elapsed",
        "--region",
        "Mars",
        "--coverage",
        "24x7",
        "2026-03-27T15:00:00Z",
        "2026-03-27T15:00:00Z",
    ]);
    assert_eq!(
        stderr(&o),
        "slt: unknown region `Mars` (expected one of APAC, Americas, EMEA, Japan)\n"
    );
}

#[test]
fn calendar_batch_answers_every_row_and_names_bad_lines() {
    let dir = tempfile::tempdir().unwrap();
    let batch = dir.path().join("q.csv");
    std::fs::write(&batch, "id,region,coverage,start,end\n1,EMEA,business_hours,2026-03-27T15:00:00Z,2026-03-30T10:30:00+01:00\n2,Japan,business_hours,2026-10-14T17:20:00+09:00,yesterday\n3,Americas,24x5,2026-05-16T06:50:00Z,2026-05-18T00:15:00-07:00\n").unwrap();
    let o = slt(&["calendar", "elapsed", "--batch", batch.to_str().unwrap()]);
    assert!(o.status.success());
    assert_eq!(stdout(&o), "id,region,coverage,start,end,business_minutes\n1,EMEA,business_hours,2026-03-27T15:00:00Z,2026-03-30T10:30:00+01:00,210\n2,Japan,business_hours,2026-10-14T17:20:00+09:00,yesterday,\n3,Americas,24x5,2026-05-16T06:50:00Z,2026-05-18T00:15:00-07:00,25\n");
    assert!(
        stderr(&o).contains("q.csv: line 3: end: `yesterday` is not an RFC 3339 timestamp"),
        "{}",
        stderr(&o)
    );
    std::fs::write(&batch, "region,coverage,start,minutes\nAPAC,business_hours,2026-04-02T10:00:00+11:00,1440\nEMEA,24x7,2026-07-04T23:55:00Z,-5\n").unwrap();
    let o = slt(&["calendar", "deadline", "--batch", batch.to_str().unwrap()]);
    assert_eq!(stdout(&o), "region,coverage,start,minutes,deadline\nAPAC,business_hours,2026-04-02T10:00:00+11:00,1440,2026-04-09T00:00:00Z\nEMEA,24x7,2026-07-04T23:55:00Z,-5,\n");
    // For a log collector, the same warning as one JSON object.
    let o = slt(&[
        "calendar",
        "deadline",
        "--log-format",
        "json",
        "--batch",
        batch.to_str().unwrap(),
    ]);
    let warning: serde_json::Value = serde_json::from_str(stderr(&o).trim()).unwrap();
    assert_eq!(warning["level"], "warn");
    assert_eq!(warning["line"], 3);
    assert!(warning["message"].as_str().unwrap().contains("line 3: "));
}

/// Every row of a batch comes back with the header's number of fields:
/// a short row padded with empty fields, a long one cut, a row that is not
/// UTF-8 as empty fields, a quoted field as its text — each field its own
/// row's, whatever the rows around it held.
#[test]
fn calendar_batch_gives_back_each_row_as_the_header_lays_it_out() {
    let dir = tempfile::tempdir().unwrap();
    let batch = dir.path().join("q.csv");
    let mut input = b"id,region,coverage,start,end\n\
        1,EMEA,business_hours,2026-03-27T15:00:00Z,2026-03-30T10:30:00+01:00\n\
        2,Japan\n\
        3,\"Americas\",24x5,2026-05-16T06:50:00Z,2026-05-18T00:15:00-07:00,extra,more\n\
        4,EMEA,business_hours,"
        .to_vec();
    input.extend_from_slice(b"\xff\xfe,2026-03-30T10:30:00Z\n");
    input.extend_from_slice(
        b"5,\"EM\"\"EA, west\",24x7,2026-01-01T00:00:00Z,2026-01-02T00:00:00Z\n\
          6,APAC,business_hours,\"2026-04-02T10:00:00+11:00\",2026-04-09T00:00:00Z\n",
    );
    std::fs::write(&batch, input).unwrap();
    let o = slt(&["calendar", "elapsed", "--batch", batch.to_str().unwrap()]);
    assert!(o.status.success());
    assert_eq!(
        stdout(&o),
        "id,region,coverage,start,end,business_minutes\n\
         1,EMEA,business_hours,2026-03-27T15:00:00Z,2026-03-30T10:30:00+01:00,210\n\
         2,Japan,,,,\n\
         3,Americas,24x5,2026-05-16T06:50:00Z,2026-05-18T00:15:00-07:00,25\n\
         ,,,,,\n\
         5,\"EM\"\"EA, west\",24x7,2026-01-01T00:00:00Z,2026-01-02T00:00:00Z,\n\
         6,APAC,business_hours,2026-04-02T10:00:00+11:00,2026-04-09T00:00:00Z,1440\n"
    );
    let err = stderr(&o);
    for line in [3, 5, 6] {
        assert!(err.contains(&format!("q.csv: line {line}: ")), "{err}");
    }
}

/// `fixtures/policies/…`, the example schedules policy and its holidays.
fn example(file: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/policies")
        .join(file)
        .to_str()
        .unwrap()
        .to_string()
}

/// `slt calendar OP --policy schedules.toml --holidays schedules-holidays.csv …`.
fn schedule_calendar(op: &str, region: &str, coverage: &str, a: &str, b: &str) -> Output {
    let (policy, holidays) = (example("schedules.toml"), example("schedules-holidays.csv"));
    slt(&[
        "calendar",
        op,
        "--policy",
        &policy,
        "--holidays",
        &holidays,
        "--region",
        region,
        "--coverage",
        coverage,
        a,
        b,
    ])
}

#[test]
fn calendar_with_split_shifts_sunday_weeks_and_partial_closures() {
    let cases = [
        // Berlin lunch break crossed: 11–12 and 13–14.
        (
            "elapsed",
            "Berlin",
            "business_hours",
            "2026-06-08T11:00:00+02:00",
            "2026-06-08T14:00:00+02:00",
            "120",
        ),
        // Runs out at 12:00, due at 13:00 CEST.
        (
            "deadline",
            "Berlin",
            "business_hours",
            "2026-06-08T10:00:00+02:00",
            "120",
            "2026-06-08T11:00:00Z",
        ),
        // Short Friday, then Saturday morning.
        (
            "deadline",
            "Berlin",
            "business_hours",
            "2026-06-12T14:00:00+02:00",
            "120",
            "2026-06-13T08:00:00Z",
        ),
        // Sunday–Thursday across Israel's fall back; Sunday opens 09:00 IST.
        (
            "deadline",
            "TelAviv",
            "business_hours",
            "2026-10-22T16:00:00+03:00",
            "240",
            "2026-10-25T09:00:00Z",
        ),
        // Half-day closure from 13:00 on the DST day.
        (
            "elapsed",
            "TelAviv",
            "business_hours",
            "2026-10-25T00:00:00+03:00",
            "2026-10-26T00:00:00+02:00",
            "240",
        ),
        // 24x7 closes on holidays in this policy: Heiligabend from 12:00, 25th, 26th.
        (
            "elapsed",
            "Berlin",
            "24x7",
            "2026-12-24T11:00:00+01:00",
            "2026-12-27T01:00:00+01:00",
            "120",
        ),
        (
            "deadline",
            "Berlin",
            "24x7",
            "2026-12-24T11:50:00+01:00",
            "15",
            "2026-12-26T23:05:00Z",
        ),
        // The spec's regions keep the bundled hours.
        (
            "elapsed",
            "EMEA",
            "business_hours",
            "2026-03-27T15:00:00Z",
            "2026-03-30T10:30:00+01:00",
            "210",
        ),
    ];
    for (op, region, coverage, a, b, expected) in cases {
        let o = schedule_calendar(op, region, coverage, a, b);
        assert!(o.status.success(), "{}", stderr(&o));
        assert_eq!(
            stdout(&o),
            format!("{expected}\n"),
            "{op} {region} {coverage} {a} {b}"
        );
    }
}

#[test]
fn calendar_batch_with_a_schedule_policy() {
    let dir = tempfile::tempdir().unwrap();
    let batch = dir.path().join("q.csv");
    std::fs::write(&batch, "region,coverage,start,minutes\nBerlin,business_hours,2026-06-13T11:00:00+02:00,120\nTelAviv,business_hours,2026-03-26T17:00:00+02:00,120\nBerlin,24x5,2026-06-12T23:30:00+02:00,60\n").unwrap();
    let o = slt(&[
        "calendar",
        "deadline",
        "--policy",
        &example("schedules.toml"),
        "--holidays",
        &example("schedules-holidays.csv"),
        "--batch",
        batch.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "region,coverage,start,minutes,deadline\n\
         Berlin,business_hours,2026-06-13T11:00:00+02:00,120,2026-06-15T06:00:00Z\n\
         TelAviv,business_hours,2026-03-26T17:00:00+02:00,120,2026-03-29T07:00:00Z\n\
         Berlin,24x5,2026-06-12T23:30:00+02:00,60,2026-06-14T22:30:00Z\n"
    );
}

#[test]
fn calendar_deadline_on_a_saturday_morning_week_sizes_its_table_from_the_schedule() {
    // 4 hours a week: 3000 business minutes are 12½ weeks, 50 000 are ~4 years.
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("p.toml");
    let bundled =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/policy.toml"))
            .unwrap();
    std::fs::write(
        &policy,
        bundled.replacen(
            "open = \"09:00\"\nclose = \"17:00\"",
            "week = { Sat = [\"09:00-13:00\"] }",
            1,
        ),
    )
    .unwrap();
    let run = |minutes: &str| {
        slt(&[
            "calendar",
            "deadline",
            "--policy",
            policy.to_str().unwrap(),
            "--holidays",
            &example("schedules-holidays.csv"),
            "--region",
            "EMEA",
            "--coverage",
            "business_hours",
            "2026-01-03T09:00:00Z",
            minutes,
        ])
    };
    let o = run("3000");
    assert!(o.status.success(), "{}", stderr(&o));
    // 12 Saturdays of 240, then 120 on the 13th: 28 March 2026, 11:00 GMT.
    assert_eq!(stdout(&o), "2026-03-28T11:00:00Z\n");
    let o = run("50000");
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn report_measures_split_shifts_sunday_weeks_and_24x7_holidays() {
    let dir = tempfile::tempdir().unwrap();
    let input = export(
        dir.path(),
        "account_id,tier,region,valid_from,valid_to\nO-BER,Online,Berlin,2025-01-01,\nE-BER,Elite,Berlin,2025-01-01,\nO-TLV,Online,TelAviv,2025-01-01,\n",
        "case_id,account_id,product,priority,created_at,closed_at,channel,language,contact_id
B1,O-BER,Adobe Analytics,P2,2026-06-08T10:00:00+02:00,,web,en,c1
B2,E-BER,Adobe Analytics,P4,2026-06-12T08:00:00+02:00,,web,en,c2
B3,O-BER,Adobe Analytics,P1,2026-12-24T11:50:00+01:00,,phone,en,c1
T1,O-TLV,Adobe Target,P2,2026-10-22T16:00:00+03:00,,web,en,c3
",
        "case_id,at,kind,value
B1,2026-06-08T14:30:00+02:00,agent_response,
B2,2026-06-13T10:30:00+02:00,agent_response,
B3,2026-12-26T10:00:00+01:00,agent_response,
T1,2026-10-25T10:00:00+02:00,agent_response,
",
    );
    let out = dir.path().join("out");
    let o = slt(&[
        "report",
        "--input",
        input.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--policy",
        &example("schedules.toml"),
        "--holidays",
        &example("schedules-holidays.csv"),
        "--as-of",
        "2026-12-31T00:00:00Z",
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let df = read(&out.join("case_slt.parquet"));
    // Lunch break: 10–12 and 13–15 CEST; the response at 14:30 is 120 + 90 in.
    check(
        &row(&df, "case_id", "B1"),
        &[
            ("deadline", "2026-06-08 13:00:00 UTC"),
            ("outcome", "met"),
            ("response_business_minutes", "210.0"),
        ],
    );
    // One business day of 480 minutes: Friday's 360, then Saturday to 11:00.
    check(
        &row(&df, "case_id", "B2"),
        &[
            ("target_minutes", "480"),
            ("deadline", "2026-06-13 09:00:00 UTC"),
            ("outcome", "met"),
            ("response_business_minutes", "450.0"),
        ],
    );
    // 24x7 stops for Christmas: 10 minutes on the 24th, the rest on the 27th.
    check(
        &row(&df, "case_id", "B3"),
        &[
            ("coverage", "24x7"),
            ("deadline", "2026-12-26 23:50:00 UTC"),
            ("outcome", "met"),
            ("response_business_minutes", "10.0"),
        ],
    );
    // Sunday–Thursday, across the fall back.
    check(
        &row(&df, "case_id", "T1"),
        &[
            ("deadline", "2026-10-25 09:00:00 UTC"),
            ("outcome", "met"),
            ("response_business_minutes", "180.0"),
        ],
    );
}

#[test]
fn bad_schedules_and_closures_are_one_line_naming_key_window_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let bundled =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/policy.toml"))
            .unwrap();
    let policy = dir.path().join("p.toml");
    let holidays = dir.path().join("h.csv");
    let ask = |extra: &[&str]| {
        let mut args = vec![
            "calendar",
            "elapsed",
            "--region",
            "EMEA",
            "--coverage",
            "business_hours",
        ];
        args.extend(extra);
        args.extend(["2026-06-08T00:00:00Z", "2026-06-09T00:00:00Z"]);
        slt(&args)
    };
    let cases = [
        ("week = { Mon = [\"13:00-12:00\"] }", "`regions.EMEA.week.Mon`: window `13:00-12:00` ends before it starts"),
        ("week = { Mon = [\"08:00-12:00\", \"11:00-13:00\"] }", "`regions.EMEA.week.Mon`: window `11:00-13:00` overlaps `08:00-12:00`"),
        ("week = { Tue = [\"09:00-25:00\"] }", "`regions.EMEA.week.Tue`: window `09:00-25:00` has `25:00`, not a time `HH:MM` (00:00–24:00)"),
    ];
    for (week, expected) in cases {
        std::fs::write(
            &policy,
            bundled.replacen("open = \"09:00\"\nclose = \"17:00\"", week, 1),
        )
        .unwrap();
        let o = ask(&["--policy", policy.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(3));
        assert_eq!(
            stderr(&o),
            format!("slt: {}: {expected}\n", policy.display())
        );
    }
    std::fs::write(
        &holidays,
        "region,date,name,start,end\nEMEA,2026-06-08,Half day,13:00,12:00\n",
    )
    .unwrap();
    let o = ask(&["--holidays", holidays.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(3));
    assert_eq!(
        stderr(&o),
        format!(
            "slt: {}: line 2, column `end`: `12:00` is not after `start` `13:00`\n",
            holidays.display()
        )
    );
    // A partial closure that is valid: Monday 8 June closes at 13:00.
    std::fs::write(
        &holidays,
        "region,date,name,start,end\nEMEA,2026-06-08,Half day,13:00,24:00\n",
    )
    .unwrap();
    let o = ask(&["--holidays", holidays.to_str().unwrap()]);
    assert_eq!(stdout(&o), "240\n");
}

#[test]
fn generate_reproduces_the_bundled_demo_export() {
    let dir = tempfile::tempdir().unwrap();
    let o = slt(&["generate", "--out", dir.path().to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    for f in ["accounts.csv", "cases.csv", "events.csv"] {
        let bundled = std::fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("fixtures/demo")
                .join(f),
        )
        .unwrap();
        assert!(
            std::fs::read(dir.path().join(f)).unwrap() == bundled,
            "{f}: run `slt generate --out fixtures/demo`"
        );
    }
}

#[test]
fn outputs_are_byte_identical_whatever_the_number_of_threads() {
    let dir = tempfile::tempdir().unwrap();
    let runs: Vec<PathBuf> = ["1", "2", "4"]
        .iter()
        .map(|t| dir.path().join(format!("t{t}")))
        .collect();
    for (out, threads) in runs.iter().zip(["1", "2", "4"]) {
        let o = slt(&[
            "report",
            "--out",
            out.to_str().unwrap(),
            "--quiet",
            "--threads",
            threads,
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    for f in PARQUET_OUTPUTS {
        let first = std::fs::read(runs[0].join(f)).unwrap();
        for other in &runs[1..] {
            assert!(
                std::fs::read(other.join(f)).unwrap() == first,
                "{f} differs with {}",
                other.display()
            );
        }
    }
}

/// The stages `slt report` logs, in order.
const STAGES: [&str; 6] = [
    "read",
    "validate",
    "measure",
    "entitlements",
    "aggregate",
    "write",
];

#[test]
fn progress_without_a_terminal_is_one_plain_line_per_stage() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let o = slt(&["report", "--out", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), STAGES.len() + 1, "{err}");
    for (line, stage) in lines.iter().zip(STAGES) {
        assert!(line.starts_with(&format!("slt: {stage}: ")), "{line}");
        assert!(line.ends_with(" s)"), "{line}");
        assert!(!line.contains('\x1b'), "no terminal codes: {line:?}");
    }
    assert!(lines[2].contains("cases as of "), "{}", lines[2]);
    assert!(lines[6].starts_with("slt: ") && lines[6].contains(" cases measured (met "));
    assert!(o.stdout.is_empty(), "stdout stays for data");
}

#[test]
fn log_format_json_is_one_object_per_line_with_stage_timings() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let o = slt(&[
        "report",
        "--out",
        out.to_str().unwrap(),
        "--log-format",
        "json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let events: Vec<serde_json::Value> = stderr(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert_eq!(events.len(), STAGES.len() + 1);
    for (event, stage) in events.iter().zip(STAGES) {
        assert_eq!(event["level"], "info");
        assert_eq!(event["command"], "report");
        assert_eq!(event["event"], "stage");
        assert_eq!(event["stage"], stage);
        assert!(event["elapsed_ms"].is_u64(), "{event}");
        assert!(event["ts"].as_str().unwrap().ends_with('Z'), "{event}");
    }
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    let done = &events[STAGES.len()];
    assert_eq!(done["event"], "done");
    assert_eq!(done["outcomes"], manifest["outcomes"]);
    assert_eq!(done["rows_rejected"], manifest["rows_rejected"]);
    assert_eq!(events[1]["rows_rejected"], manifest["rows_rejected"]);
    assert_eq!(events[2]["cases"], manifest["cases_measured"]);
    // Timings are in the log only: the manifest is the same bytes run to run.
    assert!(manifest.get("timing_ms").is_none(), "{manifest}");
}

#[test]
fn quiet_prints_nothing_and_errors_stay_one_line_in_either_format() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let o = slt(&["report", "--out", out.to_str().unwrap(), "--quiet"]);
    assert!(o.status.success());
    assert_eq!(stderr(&o), "");

    let missing = dir.path().join("missing");
    let (missing, out) = (missing.to_str().unwrap(), out.to_str().unwrap());
    let o = slt(&["report", "--input", missing, "--out", out, "--quiet"]);
    assert_eq!(o.status.code(), Some(3));
    let text = stderr(&o);
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(
        text.starts_with("slt: ") && text.contains(missing),
        "{text}"
    );

    let o = slt(&[
        "report",
        "--log-format",
        "json",
        "--input",
        missing,
        "--out",
        out,
    ]);
    assert_eq!(o.status.code(), Some(3));
    let text = stderr(&o);
    assert_eq!(text.lines().count(), 1, "{text}");
    let error: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(error["level"], "error");
    assert_eq!(error["exit_code"], 3);
    assert!(error["message"].as_str().unwrap().contains(missing));
}

/// Every way a run can stop before writing anything, and the one line it
/// prints: a snapshot (tests/it/snapshots/), so that any change of wording is
/// reviewed. Paths are shown relative to the scenario's directory.
#[test]
fn every_refusal_is_one_line_naming_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_str().unwrap().to_string();
    let mut seen = String::new();
    let mut scenario = |name: &str, files: &[(&str, &str)], args: &[&str]| {
        let here = dir.path().join(name);
        std::fs::create_dir_all(here.join("in")).unwrap();
        for (file, text) in files {
            std::fs::write(here.join(file), text).unwrap();
        }
        let here_text = here.to_str().unwrap().to_string();
        let args: Vec<String> = args
            .iter()
            .map(|a| a.replace("{here}", &here_text))
            .collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = slt(&args);
        let err = stderr(&o).replace(&root, "…");
        assert_eq!(err.lines().count(), 1, "{name}: {err}");
        seen.push_str(&format!(
            "{name} (exit {}): {err}",
            o.status.code().unwrap()
        ));
    };
    let export = [
        ("in/accounts.csv", ACCOUNTS),
        ("in/cases.csv", CASES),
        ("in/events.csv", EVENTS),
    ];
    let report = ["report", "--input", "{here}/in", "--out", "{here}/out"];
    scenario("no_events_table", &export[..2], &report);
    let no_created = CASES.replace("created_at", "opened_at");
    scenario(
        "missing_column",
        &[export[0], ("in/cases.csv", &no_created), export[2]],
        &report,
    );
    scenario(
        "empty_file",
        &[("in/accounts.csv", "\n"), export[1], export[2]],
        &report,
    );
    let policy = |text: &'static str| [export[0], export[1], export[2], ("policy.toml", text)];
    let with_policy = [&report[..], &["--policy", "{here}/policy.toml"]].concat();
    scenario(
        "policy_bad_value",
        &policy("[rules]\npriority_change = \"sometimes\"\n"),
        &with_policy,
    );
    scenario(
        "policy_missing_section",
        &policy("[rules]\npriority_change = \"restart\"\n"),
        &with_policy,
    );
    let mapping = [
        export[0],
        export[1],
        export[2],
        ("m.toml", "[columns.tickets]\nid = \"Id\"\n"),
    ];
    scenario(
        "mapping_unknown_table",
        &mapping,
        &[&report[..], &["--mapping", "{here}/m.toml"]].concat(),
    );
    let holidays = [
        export[0],
        export[1],
        export[2],
        ("h.csv", "region,date,name\nEMEA,2026-02-30,Nope\n"),
    ];
    scenario(
        "holiday_impossible_date",
        &holidays,
        &[&report[..], &["--holidays", "{here}/h.csv"]].concat(),
    );
    scenario(
        "as_of_without_offset",
        &export,
        &[&report[..], &["--as-of", "2026-09-30T23:59:59"]].concat(),
    );
    scenario(
        "input_without_out",
        &export,
        &["report", "--input", "{here}/in"],
    );
    scenario(
        "locked",
        &[
            export[0],
            export[1],
            export[2],
            ("out.lock", "pid=1\nstarted=2026-11-26T08:00:00Z\n"),
        ],
        &report,
    );
    scenario(
        "out_is_the_input",
        &export,
        &["report", "--input", "{here}/in", "--out", "{here}/in"],
    );
    let header_only = CASES.lines().next().unwrap().to_string();
    scenario(
        "header_only_cases",
        &[export[0], ("in/cases.csv", &header_only), export[2]],
        &report,
    );
    scenario(
        "threads_zero",
        &export,
        &[&report[..], &["--threads", "0"]].concat(),
    );
    scenario(
        "mistyped_flag",
        &export,
        &[&report[..], &["--fail-on-reject"]].concat(),
    );
    scenario(
        "calendar_backwards",
        &[],
        &[
            "calendar",
            "elapsed",
            "--region",
            "EMEA",
            "--coverage",
            "business_hours",
            "2026-03-30T10:00:00Z",
            "2026-03-27T15:00:00Z",
        ],
    );
    insta::assert_snapshot!(seen);
}
