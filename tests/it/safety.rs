//! Never lose a user's data, never replace a good report with a worse one
//! (issue 11). Each scenario runs the release binary on real temporary
//! directories and checks the exit code, the single line on standard error,
//! and the SHA-256 of every file that existed before the run.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common::stderr;
use sha2::{Digest, Sha256};

const ACCOUNTS: &str = "account_id,tier,region,valid_from,valid_to
A1,Online,EMEA,2020-01-01,
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

fn slt_in(cwd: Option<&Path>, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_slt"));
    command.args(args);
    if let Some(dir) = cwd {
        command.current_dir(dir);
    }
    command.output().expect("slt runs")
}

fn slt(args: &[&str]) -> Output {
    slt_in(None, args)
}

fn write_export(dir: &Path, accounts: &str, cases: &str, events: &str) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("accounts.csv"), accounts).unwrap();
    std::fs::write(dir.join("cases.csv"), cases).unwrap();
    std::fs::write(dir.join("events.csv"), events).unwrap();
}

/// SHA-256 of every file under `root`, by path relative to it.
fn hashes(root: &Path) -> BTreeMap<PathBuf, String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let bytes = std::fs::read(&path).unwrap();
                let sha = Sha256::digest(&bytes)
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect();
                out.insert(path.strip_prefix(root).unwrap().to_path_buf(), sha);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

/// Runs slt in `root` and expects a refusal: `code`, one stderr line
/// containing `needle`, and every file under `root` exactly as before.
fn refused_in(root: &Path, cwd: Option<&Path>, args: &[&str], code: i32, needle: &str) -> String {
    let before = hashes(root);
    let o = slt_in(cwd, args);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(code), "{args:?}: {err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(err.contains(needle), "{err}\nshould contain: {needle}");
    assert_eq!(hashes(root), before, "{args:?} touched files");
    // Nothing new beside the files either: no lock, no staging directory.
    let leftovers: Vec<_> = walk_names(root)
        .into_iter()
        .filter(|n| n.contains(".lock") || n.contains(".tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    err
}

fn walk_names(root: &Path) -> Vec<String> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(root).unwrap().flatten() {
        names.push(entry.file_name().to_string_lossy().into_owned());
        if entry.path().is_dir() {
            names.extend(walk_names(&entry.path()));
        }
    }
    names
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

// ---- 1. the --out guard ----

#[test]
fn out_equal_to_input_is_refused_and_the_export_survives() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("selfout");
    write_export(&input, ACCOUNTS, CASES, EVENTS);
    refused_in(
        dir.path(),
        None,
        &["report", "--input", s(&input), "--out", s(&input)],
        2,
        "is the input directory",
    );
}

#[test]
fn out_holding_the_input_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let parent = dir.path().join("parent");
    write_export(&parent.join("exports"), ACCOUNTS, CASES, EVENTS);
    refused_in(
        dir.path(),
        None,
        &[
            "report",
            "--input",
            s(&parent.join("exports")),
            "--out",
            s(&parent),
        ],
        2,
        "contains the input directory",
    );
}

#[test]
fn out_inside_the_input_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("exports");
    write_export(&input, ACCOUNTS, CASES, EVENTS);
    refused_in(
        dir.path(),
        None,
        &[
            "report",
            "--input",
            s(&input),
            "--out",
            s(&input.join("report")),
        ],
        2,
        "lies inside the input directory",
    );
}

#[test]
fn a_directory_slt_did_not_write_is_never_emptied() {
    let dir = tempfile::tempdir().unwrap();
    let precious = dir.path().join("precious");
    std::fs::create_dir_all(precious.join("sub")).unwrap();
    std::fs::write(precious.join("notes.txt"), "do not lose me").unwrap();
    std::fs::write(precious.join("sub/more.txt"), "nor me").unwrap();
    let err = refused_in(
        dir.path(),
        None,
        &["report", "--out", s(&precious)],
        2,
        "is not empty and is not an slt report",
    );
    assert!(err.contains("give a new or empty directory"), "{err}");
}

#[test]
fn a_review_never_replaces_a_report_and_a_report_replaces_itself() {
    let dir = tempfile::tempdir().unwrap();
    let nightly = dir.path().join("reports/nightly");
    for _ in 0..2 {
        let o = slt(&["report", "--out", s(&nightly), "--quiet"]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    }
    refused_in(
        dir.path(),
        None,
        &[
            "review",
            "--account",
            "ACC-0012",
            "--period",
            "2026-Q3",
            "--out",
            s(&nightly),
        ],
        2,
        "holds an slt report, not an slt review pack",
    );
    let pack = dir.path().join("pack");
    let review = [
        "review",
        "--account",
        "ACC-0012",
        "--period",
        "2026-Q3",
        "--quiet",
        "--out",
        s(&pack),
    ];
    for _ in 0..2 {
        let o = slt(&review);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    }
    refused_in(
        dir.path(),
        None,
        &["report", "--out", s(&pack)],
        2,
        "holds an slt review, not an slt report",
    );
}

#[test]
fn a_file_as_out_is_refused_and_stays_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let afile = dir.path().join("afile");
    std::fs::write(&afile, "a regular file").unwrap();
    refused_in(
        dir.path(),
        None,
        &["report", "--out", s(&afile)],
        2,
        "exists and is not a directory",
    );
}

#[test]
fn the_current_directory_root_and_home_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    write_export(&dir.path().join("in"), ACCOUNTS, CASES, EVENTS);
    refused_in(
        dir.path(),
        Some(dir.path()),
        &["report", "--input", "in", "--out", "."],
        2,
        "is the current directory",
    );
    refused_in(
        dir.path(),
        Some(dir.path()),
        &["report", "--input", "in", "--out", "/"],
        2,
        "is the root directory",
    );
    let home = dir.path().join("home");
    std::fs::create_dir(&home).unwrap();
    let before = hashes(dir.path());
    let o = Command::new(env!("CARGO_BIN_EXE_slt"))
        .args(["report", "--out", s(&home)])
        .env("HOME", &home)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("home directory"), "{}", stderr(&o));
    assert_eq!(hashes(dir.path()), before);
}

#[test]
fn out_holding_the_policy_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("conf");
    std::fs::create_dir(&conf).unwrap();
    let bundled =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/policy.toml"))
            .unwrap();
    std::fs::write(conf.join("policy.toml"), bundled).unwrap();
    refused_in(
        dir.path(),
        None,
        &[
            "report",
            "--policy",
            s(&conf.join("policy.toml")),
            "--out",
            s(&conf),
        ],
        2,
        "contains the --policy file",
    );
}

#[test]
fn generate_refuses_a_foreign_directory_and_replaces_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let mine = dir.path().join("mine");
    std::fs::create_dir(&mine).unwrap();
    std::fs::write(mine.join("cases.csv"), "my own cases").unwrap();
    refused_in(
        dir.path(),
        None,
        &["generate", "--out", s(&mine), "--cases", "10"],
        2,
        "is not an export written by slt",
    );
    let gen = dir.path().join("gen");
    for _ in 0..2 {
        let o = slt(&["generate", "--out", s(&gen), "--cases", "10", "--quiet"]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    }
}

// ---- 2. no worse report over a good one ----

/// A good report in `out`, then a run on `cases` that must not touch it.
fn good_report_then(cases: &str, extra: &[&str], code: i32, needle: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good");
    write_export(&good, ACCOUNTS, CASES, EVENTS);
    let out = dir.path().join("out");
    let o = slt(&["report", "--input", s(&good), "--out", s(&out), "--quiet"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let bad = dir.path().join("bad");
    write_export(&bad, ACCOUNTS, cases, EVENTS);
    let args = [&["report", "--input", s(&bad), "--out", s(&out)][..], extra].concat();
    let err = refused_in(dir.path(), None, &args, code, needle);
    assert!(!err.contains("1970"), "{err}");
    err
}

#[test]
fn header_only_cases_keep_the_previous_report() {
    good_report_then(
        CASES.lines().next().unwrap(),
        &[],
        3,
        "no case to measure: the table has only its header; nothing written",
    );
}

#[test]
fn every_timestamp_rejected_keeps_the_previous_report() {
    let cases = CASES
        .replace("2026-03-27T15:00:00Z", "2026-03-27 15:00:00Z")
        .replace("2026-10-14T17:20:00+09:00", "14/10/2026 17:20")
        .replace("2026-06-01T08:00:00Z", "2026-06-01T08:00:00");
    let err = good_report_then(&cases, &[], 3, "no usable case: all 3 rows were rejected");
    assert!(err.contains("column `created_at`"), "{err}");
}

#[test]
fn an_as_of_before_every_case_keeps_the_previous_report() {
    let err = good_report_then(
        CASES,
        &["--as-of", "2020-01-01T00:00:00Z"],
        3,
        "no usable case",
    );
    assert!(err.contains("created after --as-of"), "{err}");
}

#[test]
fn max_rejected_refuses_above_the_share_and_writes_below_it() {
    // One of four cases (one without events) has an unknown priority.
    let cases = format!("{CASES}C4,A1,Adobe Analytics,P9,2026-06-01T08:00:00Z,,web,en,c1\n");
    let err = good_report_then(
        &cases,
        &["--max-rejected", "0.2"],
        1,
        "`cases` rows rejected",
    );
    assert!(err.contains("1 of 4"), "{err}");
    assert!(err.contains("25.0 %"), "{err}");
    assert!(err.contains("left as it was"), "{err}");

    let dir = tempfile::tempdir().unwrap();
    write_export(&dir.path().join("in"), ACCOUNTS, &cases, EVENTS);
    let out = dir.path().join("out");
    let o = slt(&[
        "report",
        "--input",
        s(&dir.path().join("in")),
        "--out",
        s(&out),
        "--quiet",
        "--max-rejected",
        "0.5",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(out.join("case_slt.parquet").is_file());
}

#[test]
fn max_rejected_outside_zero_to_one_is_a_usage_error() {
    let o = slt(&["report", "--out", "/nonexistent/x", "--max-rejected", "5"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
    assert!(stderr(&o).contains("between 0 and 1"), "{}", stderr(&o));
}

// ---- 3. sentinel dates ----

#[test]
fn open_ended_sentinels_keep_the_accounts_cases() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    let accounts = ACCOUNTS
        .replace(
            "A1,Online,EMEA,2020-01-01,",
            "A1,Online,EMEA,2020-01-01,9999-12-31T23:59:59Z",
        )
        .replace("+09:00,", "+09:00,9999-12-31");
    write_export(&input, &accounts, CASES, EVENTS);
    std::fs::write(
        input.join("contacts.csv"),
        "account_id,product,contact_id,added_at,removed_at\nA1,Adobe Analytics,c1,2025-01-01T00:00:00Z,9999-12-31T23:59:59Z\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    let o = slt(&["report", "--input", s(&input), "--out", s(&out), "--quiet"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(m["rows_rejected"], 0, "{m}");
    assert_eq!(m["cases_measured"], 3);
}

// ---- 4. cron and logs ----

fn export_with_one_reject(dir: &Path) -> PathBuf {
    let input = dir.join("in");
    write_export(
        &input,
        ACCOUNTS,
        CASES,
        &format!("{EVENTS}C1,yesterday,agent_response,\n"),
    );
    input
}

#[test]
fn quiet_fail_on_rejects_says_how_many_and_where_to_look() {
    let dir = tempfile::tempdir().unwrap();
    let input = export_with_one_reject(dir.path());
    let out = dir.path().join("nightly");
    let o = slt(&[
        "report",
        "--input",
        s(&input),
        "--out",
        s(&out),
        "--quiet",
        "--fail-on-rejects",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("slt: 1 rows rejected"), "{err}");
    assert!(
        err.contains(s(&out.join("rejects.parquet"))),
        "{err} names the rejects file"
    );
    assert!(out.join("rejects.parquet").is_file());
}

#[test]
fn json_done_carries_the_exit_code_and_warns_on_exit_one() {
    let dir = tempfile::tempdir().unwrap();
    let input = export_with_one_reject(dir.path());
    for (flags, code, level) in [
        (&["--fail-on-rejects"][..], 1, "warn"),
        (&[][..], 0, "info"),
    ] {
        let out = dir.path().join(format!("out{code}"));
        let args = [
            &[
                "--log-format",
                "json",
                "report",
                "--input",
                s(&input),
                "--out",
                s(&out),
            ][..],
            flags,
        ]
        .concat();
        let o = slt(&args);
        assert_eq!(o.status.code(), Some(code));
        let err = stderr(&o);
        let done: serde_json::Value = serde_json::from_str(err.lines().last().unwrap()).unwrap();
        assert_eq!(done["event"], "done", "{err}");
        assert_eq!(done["exit_code"], code);
        assert_eq!(done["level"], level);
    }
}

#[test]
fn usage_errors_are_one_line_and_one_json_object_when_asked() {
    let o = slt(&["report", "--fail-on-reject"]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("--fail-on-reject"), "{err}");
    assert!(err.contains("slt report --help"), "{err}");

    let o = slt(&["--log-format", "json", "report", "--threads", "0"]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    let v: serde_json::Value = serde_json::from_str(&err).unwrap();
    assert_eq!(v["level"], "error");
    assert_eq!(v["exit_code"], 2);
    assert!(v["message"].as_str().unwrap().contains("at least 1"), "{v}");
}

// ---- 5. errors that say what to do ----

#[test]
fn a_missing_input_directory_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("exports/2026-11-25");
    refused_in(
        dir.path(),
        None,
        &[
            "report",
            "--input",
            s(&missing),
            "--out",
            s(&dir.path().join("out")),
        ],
        3,
        "no such directory; --input takes the directory holding accounts, cases and events",
    );
}

#[test]
fn a_missing_column_lists_what_was_found_and_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    write_export(
        &input,
        ACCOUNTS,
        &CASES.replace("created_at", "Created_At"),
        EVENTS,
    );
    let err = refused_in(
        dir.path(),
        None,
        &[
            "report",
            "--input",
            s(&input),
            "--out",
            s(&dir.path().join("out")),
        ],
        3,
        "missing column `created_at`",
    );
    assert!(err.contains("did you mean `Created_At`?"), "{err}");
    assert!(err.contains("`case_id`, `account_id`"), "{err}");
    assert!(
        err.contains("--mapping: [columns.cases] created_at = \"Created_At\""),
        "{err}"
    );
}

#[test]
fn a_semicolon_delimited_file_is_recognised() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    write_export(&input, ACCOUNTS, &CASES.replace(',', ";"), EVENTS);
    refused_in(
        dir.path(),
        None,
        &[
            "report",
            "--input",
            s(&input),
            "--out",
            s(&dir.path().join("out")),
        ],
        3,
        "looks `;`-delimited",
    );
}

#[test]
fn demo_errors_name_no_file_the_user_does_not_have() {
    let dir = tempfile::tempdir().unwrap();
    let err = refused_in(
        dir.path(),
        None,
        &[
            "report",
            "--out",
            s(&dir.path().join("out")),
            "--as-of",
            "2000-01-01T00:00:00Z",
        ],
        3,
        "(bundled demo) cases.csv",
    );
    assert!(!err.contains("fixtures/demo"), "{err}");
}

#[test]
fn review_of_a_mistyped_account_suggests_the_right_one() {
    let dir = tempfile::tempdir().unwrap();
    refused_in(
        dir.path(),
        None,
        &[
            "review",
            "--account",
            "acc-0035",
            "--period",
            "2026-Q3",
            "--out",
            s(&dir.path().join("pack")),
        ],
        3,
        "did you mean `ACC-0035`?",
    );
}

#[test]
fn review_of_an_account_whose_contracts_were_all_rejected_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    let accounts = ACCOUNTS.replace("A1,Online,EMEA,2020-01-01,", "A1,Online,Mars,2020-01-01,");
    write_export(&input, &accounts, CASES, EVENTS);
    refused_in(
        dir.path(),
        None,
        &[
            "review",
            "--input",
            s(&input),
            "--account",
            "A1",
            "--period",
            "2026-Q1",
            "--out",
            s(&dir.path().join("pack")),
        ],
        3,
        "account `A1` has no usable contract: its 1 contract row was rejected",
    );
}

// ---- 7. the lock ----

#[test]
fn many_runs_started_together_never_write_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let children: Vec<_> = (0..8)
        .map(|_| {
            Command::new(env!("CARGO_BIN_EXE_slt"))
                .args(["report", "--out", s(&out), "--quiet"])
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let codes: Vec<i32> = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap().status.code().unwrap())
        .collect();
    assert!(codes.iter().all(|c| *c == 0 || *c == 4), "{codes:?}");
    assert!(codes.contains(&0), "{codes:?}");
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(m["kind"], "report");
    let left: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left, ["out"], "no lock or staging left behind");
}

// ---- 8. the README ----

#[test]
fn readme_says_how_slt_gets_on_the_path_without_a_third_setup_command() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let first_block = readme
        .split("```sh\n")
        .nth(1)
        .unwrap()
        .split("```")
        .next()
        .unwrap();
    let commands: Vec<&str> = first_block
        .lines()
        .filter(|l| !l.trim().is_empty())
        .collect();
    assert_eq!(commands.len(), 2, "{commands:?}");
    assert!(commands[0].starts_with("cargo run --release -- report"));
    assert!(commands[1].starts_with("cargo test --release"));
    assert!(readme.contains("`cargo install --path .`"));
}
