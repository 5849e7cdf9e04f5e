//! Hostile inputs: a corpus of broken exports, each with its expected
//! outcome. Every one either becomes rejects with reasons (and rows read =
//! rows used + rows rejected still holds) or one clear error line with exit
//! code 3 and nothing written; none panics.
//!
//! The corpus is built here from one small valid export by the edit each
//! scenario names, so each broken byte is visible in the test.

use std::path::PathBuf;
use std::process::{Command, Output};

use polars::prelude::*;

const ACCOUNTS: &str = "account_id,tier,region,valid_from,valid_to
A1,Online,EMEA,1960-01-01,
A2,Elite,Japan,2025-01-01T00:00:00+09:00,
";

const CASES: &str =
    "case_id,account_id,product,priority,created_at,closed_at,channel,language,contact_id
C1,A1,Adobe Analytics,P2,2026-03-27T15:00:00Z,,web,en,c1
C2,A2,Adobe Target,P3,2026-10-14T17:20:00+09:00,2026-10-20T10:00:00+09:00,phone,ja,c2
C3,A1,Adobe Analytics,P4,2026-06-01T08:00:00Z,,email,en,c1
";

const EVENTS: &str = "case_id,at,kind,value
C1,2026-03-30T10:30:00+01:00,agent_response,
C2,2026-10-15T09:10:00+09:00,agent_response,
C3,2026-06-01T09:00:00Z,internal_note,
C3,2026-06-02T09:00:00Z,agent_response,
";

struct Export {
    _dir: tempfile::TempDir,
    input: PathBuf,
    out: PathBuf,
}

fn export(accounts: &[u8], cases: &[u8], events: &[u8]) -> Export {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::create_dir_all(&input).unwrap();
    std::fs::write(input.join("accounts.csv"), accounts).unwrap();
    std::fs::write(input.join("cases.csv"), cases).unwrap();
    std::fs::write(input.join("events.csv"), events).unwrap();
    let out = dir.path().join("out");
    Export {
        _dir: dir,
        input,
        out,
    }
}

fn with_cases(cases: &[u8]) -> Export {
    export(ACCOUNTS.as_bytes(), cases, EVENTS.as_bytes())
}

fn with_events(events: &[u8]) -> Export {
    export(ACCOUNTS.as_bytes(), CASES.as_bytes(), events)
}

fn run(e: &Export) -> Output {
    Command::new(env!("CARGO_BIN_EXE_slt"))
        .args([
            "report",
            "--input",
            e.input.to_str().unwrap(),
            "--out",
            e.out.to_str().unwrap(),
            "--quiet",
        ])
        .output()
        .unwrap()
}

/// Runs slt, expects success, checks the accounting and returns
/// (read, used, rejected) per table and the rejects as `table row column | reason`.
fn accepted(e: &Export) -> ([(u64, u64, u64); 3], Vec<String>) {
    let o = run(e);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(e.out.join("manifest.json")).unwrap()).unwrap();
    let mut counts = [(0, 0, 0); 3];
    let mut total = 0;
    for (i, t) in ["accounts", "cases", "events"].iter().enumerate() {
        let g = |k: &str| m["tables"][t][k].as_u64().unwrap();
        counts[i] = (g("rows_read"), g("rows_used"), g("rows_rejected"));
        assert_eq!(
            counts[i].0,
            counts[i].1 + counts[i].2,
            "{t}: read = used + rejected"
        );
        total += counts[i].2;
    }
    let read = |name: &str| {
        ParquetReader::new(std::fs::File::open(e.out.join(name)).unwrap())
            .finish()
            .unwrap()
    };
    let rejects = read("rejects.parquet");
    assert_eq!(rejects.height() as u64, total);
    assert_eq!(read("case_slt.parquet").height() as u64, counts[1].1);
    let text = |c: &str, i: usize| match rejects.column(c).unwrap().get(i).unwrap() {
        AnyValue::Null => "-".to_string(),
        v => v.to_string().trim_matches('"').to_string(),
    };
    let lines = (0..rejects.height())
        .map(|i| {
            format!(
                "{} {} {} | {}",
                text("table", i),
                text("row_number", i),
                text("column", i),
                text("reason", i)
            )
        })
        .collect();
    (counts, lines)
}

/// The `case_id` column of the run's `case_slt.parquet`, in order.
fn case_ids(e: &Export) -> Vec<String> {
    let case_slt = ParquetReader::new(std::fs::File::open(e.out.join("case_slt.parquet")).unwrap())
        .finish()
        .unwrap();
    let ids = case_slt.column("case_id").unwrap().str().unwrap();
    ids.iter()
        .map(|id| id.expect("a case id").to_string())
        .collect()
}

/// Runs slt, expects exit 3 with one line naming the problem, and no output.
fn refused(e: &Export, needle: &str) {
    let o = run(e);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(err.contains(needle), "{err} should contain {needle}");
    assert!(!e.out.exists());
}

#[test]
fn baseline_export_is_fully_used() {
    let (counts, rejects) = accepted(&with_cases(CASES.as_bytes()));
    assert_eq!(counts, [(2, 2, 0), (3, 3, 0), (4, 4, 0)]);
    assert!(rejects.is_empty());
}

#[test]
fn empty_file_is_refused() {
    refused(
        &with_cases(b""),
        "cases.csv: the file is empty (expected a header row)",
    );
}

#[test]
fn header_only_file_is_zero_rows() {
    let (counts, _) = accepted(&with_events(b"case_id,at,kind,value\n"));
    assert_eq!(counts[2], (0, 0, 0));
}

#[test]
fn header_only_cases_is_no_usable_case_and_writes_nothing() {
    refused(
        &with_cases(CASES.lines().next().unwrap().as_bytes()),
        "no case to measure: the table has only its header; nothing written",
    );
}

#[test]
fn every_case_timestamp_rejected_is_no_usable_case_naming_the_reason() {
    let cases = CASES
        .replace("2026-03-27T15:00:00Z", "2026-03-27 15:00")
        .replace("2026-10-14T17:20:00+09:00", "14/10/2026")
        .replace("2026-06-01T08:00:00Z", "2026-06-01T08:00:00");
    refused(
        &with_cases(cases.as_bytes()),
        "no usable case: all 3 rows were rejected (most often:",
    );
}

#[test]
fn far_future_valid_to_is_open_ended() {
    let accounts = ACCOUNTS
        .replace(
            "A1,Online,EMEA,1960-01-01,",
            "A1,Online,EMEA,1960-01-01,9999-12-31",
        )
        .replace(
            "2025-01-01T00:00:00+09:00,",
            "2025-01-01T00:00:00+09:00,9999-12-31T23:59:59Z",
        );
    let (counts, rejects) = accepted(&export(
        accounts.as_bytes(),
        CASES.as_bytes(),
        EVENTS.as_bytes(),
    ));
    assert_eq!(counts, [(2, 2, 0), (3, 3, 0), (4, 4, 0)], "{rejects:?}");
}

#[test]
fn a_sentinel_is_still_a_real_date() {
    let accounts = ACCOUNTS.replace(
        "A1,Online,EMEA,1960-01-01,",
        "A1,Online,EMEA,1960-01-01,9999-02-30",
    );
    let (counts, rejects) = accepted(&export(
        accounts.as_bytes(),
        CASES.as_bytes(),
        EVENTS.as_bytes(),
    ));
    assert_eq!(counts[0], (2, 1, 1));
    assert!(
        rejects[0].starts_with("accounts 1 valid_to |"),
        "{rejects:?}"
    );
}

#[test]
fn extra_columns_are_ignored() {
    let cases = CASES
        .replace("contact_id\n", "contact_id,notes\n")
        .replace(",c1\n", ",c1,hello\n")
        .replace(",c2\n", ",c2,\n");
    let (counts, _) = accepted(&with_cases(cases.as_bytes()));
    assert_eq!(counts[1], (3, 3, 0));
}

#[test]
fn crlf_line_endings_and_a_byte_order_mark_change_nothing() {
    let cases = format!("\u{feff}{}", CASES.replace('\n', "\r\n"));
    let (counts, rejects) = accepted(&with_cases(cases.as_bytes()));
    assert_eq!(counts[1], (3, 3, 0));
    assert!(rejects.is_empty());
}

#[test]
fn quoted_newline_in_a_field_is_one_row() {
    let cases = CASES.replace("C3,A1,Adobe Analytics", "C3,A1,\"Adobe\nAnalytics\"");
    let (counts, _) = accepted(&with_cases(cases.as_bytes()));
    assert_eq!(counts[1], (3, 3, 0));
}

#[test]
fn ragged_row_is_rejected_alone() {
    let cases = format!("{CASES}C4,A1,x,P2\nC5,A1,x,P2,2026-06-01T08:00:00Z,,web,en,c,extra\n");
    let (counts, rejects) = accepted(&with_cases(cases.as_bytes()));
    assert_eq!(counts[1], (5, 3, 2));
    assert_eq!(
        rejects,
        [
            "cases 4  | row has a different number of fields than the header",
            "cases 5  | row has a different number of fields than the header"
        ]
    );
}

#[test]
fn a_row_short_of_fields_is_ragged_even_when_every_other_row_reads() {
    // polars' fast reader would take the missing fields as empty: the row
    // is rejected as the record reader sees it.
    let cases = format!("{CASES}C4,A1,x,P2,2026-06-01T08:00:00Z\n");
    let (counts, rejects) = accepted(&with_cases(cases.as_bytes()));
    assert_eq!(counts[1], (4, 3, 1));
    assert_eq!(
        rejects,
        ["cases 4  | row has a different number of fields than the header"]
    );
    let events = format!("{EVENTS}C1,2026-06-01T09:00:00Z,agent_response\n");
    let (counts, rejects) = accepted(&with_events(events.as_bytes()));
    assert_eq!(counts[2].2, 1, "{rejects:?}");
    assert!(
        rejects[0].ends_with("| row has a different number of fields than the header"),
        "{rejects:?}"
    );
}

#[test]
fn bytes_that_are_not_utf8_reject_their_row() {
    let mut cases = CASES.as_bytes().to_vec();
    cases.extend_from_slice(b"C4,A1,Adobe \xff\xfe,P2,2026-06-01T08:00:00Z,,web,en,c1\n");
    let (counts, rejects) = accepted(&with_cases(&cases));
    assert_eq!(counts[1], (4, 3, 1));
    assert_eq!(rejects, ["cases 4 product | value is not valid UTF-8"]);
}

#[test]
fn nul_bytes_in_text_are_kept_and_in_a_timestamp_rejected() {
    let cases = format!("{CASES}C4,A1,Adobe\0Target,P2,2026-06-01T08:00:00Z,,web,en,c1\nC5,A1,x,P2,2026-06-01T08:00\0:00Z,,web,en,c1\n");
    let (counts, rejects) = accepted(&with_cases(cases.as_bytes()));
    assert_eq!(counts[1], (5, 4, 1));
    assert!(
        rejects[0].starts_with("cases 5 created_at | "),
        "{rejects:?}"
    );
}

#[test]
fn ten_megabyte_field_is_read() {
    let big = "x".repeat(10 * 1024 * 1024);
    let cases = format!("{CASES}C4,A1,{big},P2,2026-06-01T08:00:00Z,,web,en,c1\n");
    let (counts, _) = accepted(&with_cases(cases.as_bytes()));
    assert_eq!(counts[1], (4, 4, 0));
}

#[test]
fn impossible_and_offsetless_timestamps_are_rejected() {
    let cases = format!(
        "{CASES}C4,A1,x,P2,2026-06-01T08:00:00,,web,en,c\nC5,A1,x,P2,9999-12-31T23:59:59Z,,web,en,c\nC6,A1,x,P2,2026-02-30T10:00:00Z,,web,en,c\nC7,A1,x,P2,2026-06-01 08:00:00Z,,web,en,c\n"
    );
    let (counts, rejects) = accepted(&with_cases(cases.as_bytes()));
    assert_eq!(counts[1], (7, 3, 4));
    assert_eq!(
        rejects,
        [
            "cases 4 created_at | timestamp without a UTC offset: slt never guesses a time zone",
            "cases 5 created_at | outside the supported range 1900-01-01 to 2199-12-31",
            "cases 6 created_at | not a real calendar date",
            "cases 7 created_at | not an RFC 3339 timestamp",
        ]
    );
}

#[test]
fn dates_before_1970_are_measured() {
    let cases = format!("{CASES}C4,A1,x,P1,1969-07-20T20:17:00Z,,web,en,c\n");
    let events = format!("{EVENTS}C4,1969-07-20T20:30:00Z,agent_response,\n");
    let (counts, _) = accepted(&export(
        ACCOUNTS.as_bytes(),
        cases.as_bytes(),
        events.as_bytes(),
    ));
    assert_eq!(counts[1], (4, 4, 0));
}

#[test]
fn a_case_whose_deadline_falls_past_2199_is_rejected_and_the_others_kept_in_order() {
    let cases = CASES.replacen(
        "\nC2,",
        "\nC4,A1,x,P4,2199-12-31T20:00:00Z,,web,en,c1\nC2,",
        1,
    );
    let e = with_cases(cases.as_bytes());
    let (counts, rejects) = accepted(&e);
    assert_eq!(counts[1], (4, 3, 1));
    assert_eq!(
        rejects,
        ["cases 2 created_at | outside the years the calendars cover"]
    );
    let ids = case_ids(&e);
    assert_eq!(ids, ["C1", "C2", "C3"]);
}

#[test]
fn a_cycle_of_priority_changes_is_counted_change_by_change() {
    let events = format!(
        "{EVENTS}C3,2026-06-01T08:01:00Z,priority_change,P3\nC3,2026-06-01T08:02:00Z,priority_change,P4\nC3,2026-06-01T08:03:00Z,priority_change,P3\nC3,2026-06-01T08:04:00Z,priority_change,P4\n"
    );
    let e = with_events(events.as_bytes());
    let (counts, _) = accepted(&e);
    assert_eq!(counts[2], (8, 8, 0));
    let df = ParquetReader::new(std::fs::File::open(e.out.join("case_slt.parquet")).unwrap())
        .finish()
        .unwrap();
    let changes = df.column("priority_changes").unwrap().i64().unwrap().get(2);
    assert_eq!(changes, Some(4));
}

fn parquet_bytes(mut df: DataFrame) -> Vec<u8> {
    let mut buf = Vec::new();
    ParquetWriter::new(&mut buf).finish(&mut df).unwrap();
    buf
}

#[test]
fn parquet_with_unexpected_types_is_judged_row_by_row() {
    let e = with_cases(CASES.as_bytes());
    std::fs::remove_file(e.input.join("cases.csv")).unwrap();
    let utc = |v: Vec<Option<i64>>, tz: Option<TimeZone>| {
        Int64Chunked::from_iter_options("created_at".into(), v.into_iter())
            .into_datetime(TimeUnit::Milliseconds, tz)
            .into_column()
    };
    let df = DataFrame::new(
        2,
        vec![
            Column::new("case_id".into(), [1i64, 2]),
            Column::new("account_id".into(), ["A1", "A1"]),
            Column::new("priority".into(), ["P2", "P3"]),
            utc(
                vec![Some(1_774_623_600_000), Some(1_780_300_800_000)],
                Some(TimeZone::UTC),
            ),
        ],
    )
    .unwrap();
    std::fs::write(e.input.join("cases.parquet"), parquet_bytes(df.clone())).unwrap();
    let (counts, _) = accepted(&e);
    assert_eq!(
        counts[1],
        (2, 2, 0),
        "integer ids are read as text, UTC timestamps as instants"
    );
    let ids = case_ids(&e);
    assert_eq!(ids, ["1", "2"], "the integer ids, as text, in case_slt");

    // A naive (zone-less) timestamp column: no offset, so every row is
    // rejected, and with no case left the run refuses and keeps the report.
    let naive = df
        .clone()
        .with_column(utc(vec![Some(1_774_623_600_000), None], None))
        .unwrap()
        .clone();
    std::fs::write(e.input.join("cases.parquet"), parquet_bytes(naive)).unwrap();
    let before = std::fs::read(e.out.join("case_slt.parquet")).unwrap();
    let o = run(&e);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("no usable case: all 2 rows were rejected"),
        "{err}"
    );
    assert!(err.contains("column `created_at`"), "{err}");
    assert_eq!(
        std::fs::read(e.out.join("case_slt.parquet")).unwrap(),
        before
    );
}

#[test]
fn truncated_parquet_is_refused() {
    let e = with_cases(CASES.as_bytes());
    std::fs::remove_file(e.input.join("cases.csv")).unwrap();
    let df = DataFrame::new(1, vec![Column::new("case_id".into(), ["C1"])]).unwrap();
    let bytes = parquet_bytes(df);
    std::fs::write(e.input.join("cases.parquet"), &bytes[..bytes.len() / 2]).unwrap();
    refused(&e, "cases.parquet: cannot read as parquet");
}

#[test]
fn ndjson_with_a_broken_line_rejects_that_line() {
    let e = with_events(EVENTS.as_bytes());
    std::fs::remove_file(e.input.join("events.csv")).unwrap();
    let lines = "{\"case_id\":\"C1\",\"at\":\"2026-03-30T10:30:00+01:00\",\"kind\":\"agent_response\",\"value\":null}\n{\"case_id\":\"C2\",\"at\":\n[1,2]\n{\"case_id\":\"C3\",\"at\":\"2026-06-02T09:00:00Z\",\"kind\":\"agent_response\"}\n";
    std::fs::write(e.input.join("events.ndjson"), lines).unwrap();
    let (counts, rejects) = accepted(&e);
    assert_eq!(counts[2], (4, 2, 2));
    assert!(
        rejects[0].starts_with("events 2  | line is not valid JSON"),
        "{rejects:?}"
    );
    assert_eq!(rejects[1], "events 3  | line is not a JSON object");
}

#[test]
fn two_files_for_one_table_are_refused() {
    let e = with_cases(CASES.as_bytes());
    std::fs::write(e.input.join("cases.ndjson"), "").unwrap();
    refused(&e, "more than one `cases` table");
}

#[test]
fn a_run_killed_at_any_moment_leaves_a_complete_readable_report() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    let out = dir.path().join("out");
    let slt = env!("CARGO_BIN_EXE_slt");
    let ok = |args: &[&str]| {
        let o = Command::new(slt).args(args).output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
    ok(&[
        "generate",
        "--cases",
        "60000",
        "--out",
        input.to_str().unwrap(),
    ]);
    let report = |as_of: &str| {
        vec![
            "report",
            "--input",
            input.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--quiet",
            "--as-of",
            as_of,
        ]
        .into_iter()
        .map(String::from)
        .collect::<Vec<_>>()
    };
    let (old, new) = ("2026-12-31T00:00:00Z", "2026-12-31T12:00:00Z");
    ok(&report(old).iter().map(String::as_str).collect::<Vec<_>>());
    let mut seen_new = false;
    for delay_ms in [0u64, 30, 100, 250, 500, 800, 1200, 2000, 4000] {
        let mut child = Command::new(slt).args(report(new)).spawn().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let _ = child.kill(); // SIGKILL
        child.wait().unwrap();
        // Whatever the moment, `out` is one complete report, old or new.
        let manifest: serde_json::Value =
            serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
        let as_of = manifest["as_of"].as_str().unwrap().to_string();
        assert!(as_of == old || as_of == new, "{as_of}");
        seen_new |= as_of == new;
        let cases = ParquetReader::new(std::fs::File::open(out.join("case_slt.parquet")).unwrap())
            .finish()
            .unwrap();
        assert_eq!(
            cases.height() as u64,
            manifest["tables"]["cases"]["rows_used"].as_u64().unwrap(),
            "after {delay_ms} ms"
        );
    }
    // The killed runs left a stale lock and staging directories: the next run
    // takes the lock over, cleans up, and completes.
    ok(&report(new).iter().map(String::as_str).collect::<Vec<_>>());
    let leftovers: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "in" && n != "out")
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    assert!(seen_new, "a run given 4 s completes");
}

#[test]
fn a_second_run_on_the_same_output_is_refused_naming_the_holder() {
    let e = with_cases(CASES.as_bytes());
    let lock = e.out.with_file_name("out.lock");
    std::fs::write(
        &lock,
        format!("pid={}\nstarted=2026-11-26T08:00:00Z\n", std::process::id()),
    )
    .unwrap();
    let o = run(&e);
    assert_eq!(o.status.code(), Some(4));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(&format!(
            "another slt run (pid {}, started 2026-11-26T08:00:00Z)",
            std::process::id()
        )),
        "{err}"
    );
    std::fs::remove_file(&lock).unwrap();
    assert_eq!(run(&e).status.code(), Some(0));
}

#[test]
fn a_review_pack_being_written_is_locked_too() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("pack");
    let lock = dir.path().join("pack.lock");
    std::fs::write(
        &lock,
        format!("pid={}\nstarted=2026-11-26T08:00:00Z\n", std::process::id()),
    )
    .unwrap();
    let review = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_slt"))
            .args([
                "review",
                "--account",
                "ACC-0012",
                "--period",
                "2026-Q3",
                "--out",
            ])
            .arg(&out)
            .output()
            .unwrap()
    };
    let o = review();
    assert_eq!(
        o.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(!out.exists());
    std::fs::remove_file(&lock).unwrap();
    let o = review();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(out.join("review.html").is_file());
    assert!(!lock.exists(), "released after the run");
}
