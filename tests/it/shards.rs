//! `slt report --shard I/N` and `slt merge`: shards that add up to the
//! single run byte for byte, on an export whose duplicate case ids span
//! accounts; the checks merge makes before writing anything.

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::common::{slt, stderr};
use polars::prelude::*;

const AS_OF: &str = "2026-12-31T23:59:59Z";

fn ok(args: &[&str]) {
    let o = slt(args);
    assert!(o.status.success(), "{args:?}: {}", stderr(&o));
}

/// A generated export (with its bad rows) plus duplicate case ids across
/// accounts: 40 ids copied with another account (every copy rejected) and
/// 15 copied as they are (collapsed into the first), appended at the end.
fn export(root: &Path) -> PathBuf {
    let dir = root.join("in");
    ok(&[
        "generate",
        "--cases",
        "2500",
        "--accounts",
        "50",
        "--seed",
        "17",
        "--out",
        dir.to_str().unwrap(),
        "--quiet",
    ]);
    let path = dir.join("cases.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let mut out = text.clone();
    for k in 0..40 {
        let (row, other) = (lines[1 + k * 37], lines[2 + k * 41]);
        let mut fields: Vec<&str> = row.split(',').collect();
        let other_account = other.split(',').nth(1).unwrap();
        if fields[1] == other_account {
            continue;
        }
        fields[1] = other_account;
        out.push_str(&fields.join(","));
        out.push('\n');
    }
    for k in 0..15 {
        out.push_str(lines[5 + k * 53]);
        out.push('\n');
    }
    std::fs::write(&path, out).unwrap();
    dir
}

fn report(input: &Path, out: &Path, extra: &[&str]) {
    let mut args = vec![
        "report",
        "--input",
        input.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--as-of",
        AS_OF,
        "--quiet",
    ];
    args.extend_from_slice(extra);
    ok(&args);
}

/// Runs the `n` shards of `input` under `root`, returning their directories.
fn shards(input: &Path, root: &Path, n: u32) -> Vec<PathBuf> {
    (1..=n)
        .map(|i| {
            let dir = root.join(format!("shard-{i}-of-{n}"));
            report(input, &dir, &["--shard", &format!("{i}/{n}")]);
            dir
        })
        .collect()
}

fn merge(out: &Path, shards: &[PathBuf], extra: &[&str]) -> Output {
    let mut args = vec!["merge", "--out", out.to_str().unwrap(), "--quiet"];
    args.extend_from_slice(extra);
    args.extend(shards.iter().map(|s| s.to_str().unwrap()));
    slt(&args)
}

fn manifest(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap()
}

/// Every file under `dir`, relative, sorted.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p.strip_prefix(dir).unwrap().to_path_buf());
            }
        }
    }
    out.sort();
    out
}

/// `merged` holds the same files as `single`, byte for byte, but for the
/// manifest's `merged_from`.
fn assert_same_report(single: &Path, merged: &Path, what: &str) {
    assert_eq!(files(single), files(merged), "{what}");
    for f in files(single) {
        if f.as_os_str() == "manifest.json" {
            continue;
        }
        assert!(
            std::fs::read(single.join(&f)).unwrap() == std::fs::read(merged.join(&f)).unwrap(),
            "{what}: {} differs from the single run's",
            f.display()
        );
    }
    let mut m = manifest(merged);
    assert!(m["merged_from"].is_array(), "{what}");
    m.as_object_mut().unwrap().remove("merged_from");
    assert_eq!(m, manifest(single), "{what}: manifest");
}

#[test]
fn merged_shards_are_the_single_run_byte_for_byte_for_1_2_4_and_7_shards() {
    let dir = tempfile::tempdir().unwrap();
    let input = export(dir.path());
    let single = dir.path().join("single");
    report(&input, &single, &[]);
    let rejected = manifest(&single)["tables"]["cases"]["rows_rejected"]
        .as_u64()
        .unwrap();
    assert!(rejected >= 80, "the duplicates are rejected: {rejected}");
    for n in [1, 2, 4, 7] {
        let parts = shards(&input, dir.path(), n);
        let merged = dir.path().join(format!("merged-{n}"));
        let o = merge(&merged, &parts, &[]);
        assert!(o.status.success(), "{n}: {}", stderr(&o));
        assert_same_report(&single, &merged, &format!("{n} shards"));
        // Every shard says which it is and accounts for every row read.
        for (i, part) in parts.iter().enumerate() {
            let m = manifest(part);
            assert_eq!(m["shard"]["index"], i as u64 + 1);
            assert_eq!(m["shard"]["count"], n);
            for (table, t) in m["tables"].as_object().unwrap() {
                let n = |k: &str| t[k].as_u64().unwrap();
                assert_eq!(
                    n("rows_read"),
                    n("rows_used") + n("rows_rejected") + n("rows_in_other_shards"),
                    "shard {}: {table}",
                    i + 1
                );
            }
        }
    }
}

#[test]
fn merge_can_partition_as_a_single_run_does() {
    let dir = tempfile::tempdir().unwrap();
    let input = export(dir.path());
    let single = dir.path().join("single");
    report(&input, &single, &["--partition-by", "period"]);
    let parts = shards(&input, dir.path(), 3);
    let merged = dir.path().join("merged");
    let o = merge(&merged, &parts, &["--partition-by", "period"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_same_report(&single, &merged, "partitioned");
}

#[test]
fn every_copy_of_a_duplicate_id_and_every_event_land_in_the_id_s_shard() {
    let dir = tempfile::tempdir().unwrap();
    let input = export(dir.path());
    let parts = shards(&input, dir.path(), 4);
    let mut total = 0;
    let mut frames = Vec::new();
    for (i, part) in parts.iter().enumerate() {
        let file = std::fs::File::open(part.join("case_slt.parquet")).unwrap();
        let df = ParquetReader::new(file).finish().unwrap();
        // Plain text dimensions: the shards union whatever values each has.
        assert_eq!(df.column("account_id").unwrap().dtype(), &DataType::String);
        for id in df
            .column("case_id")
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .flatten()
        {
            assert_eq!(slt::shard::Shard::of(id, 4), i as u32 + 1, "{id}");
        }
        total += df.height();
        frames.push(df);
    }
    let mut all = frames[0].clone();
    for df in &frames[1..] {
        all.vstack_mut(df).unwrap();
    }
    assert_eq!(all.height(), total);
    let single = dir.path().join("single");
    report(&input, &single, &[]);
    assert_eq!(
        total as u64,
        manifest(&single)["cases_measured"].as_u64().unwrap()
    );
}

#[test]
fn shard_without_as_of_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let input = export(dir.path());
    let o = slt(&[
        "report",
        "--input",
        input.to_str().unwrap(),
        "--out",
        dir.path().join("s").to_str().unwrap(),
        "--shard",
        "1/2",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--as-of"), "{}", stderr(&o));
    assert_eq!(stderr(&o).trim().lines().count(), 1, "{}", stderr(&o));
    assert!(!dir.path().join("s").exists());
}

#[test]
fn merge_refuses_shards_that_do_not_make_one_run_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let input = export(dir.path());
    let parts = shards(&input, dir.path(), 3);
    let other_as_of = dir.path().join("other");
    ok(&[
        "report",
        "--input",
        input.to_str().unwrap(),
        "--out",
        other_as_of.to_str().unwrap(),
        "--as-of",
        "2026-11-30T00:00:00Z",
        "--shard",
        "2/3",
        "--quiet",
    ]);
    let single = dir.path().join("single");
    report(&input, &single, &[]);
    let policy = dir.path().join("policy.toml");
    std::fs::write(
        &policy,
        std::fs::read_to_string("fixtures/policy.toml")
            .unwrap()
            .replace("attainment_goal = 0.95", "attainment_goal = 0.9"),
    )
    .unwrap();
    let out = dir.path().join("merged");
    let cases: Vec<(Vec<PathBuf>, Vec<&str>, &str)> = vec![
        (parts[..2].to_vec(), vec![], "shard 3/3 missing"),
        (
            vec![parts[0].clone(), parts[1].clone(), parts[1].clone()],
            vec![],
            "give each shard once",
        ),
        (
            vec![parts[0].clone(), other_as_of.clone(), parts[2].clone()],
            vec![],
            "as_of",
        ),
        (vec![single.clone()], vec![], "not a shard"),
        (
            parts.clone(),
            vec!["--policy", policy.to_str().unwrap()],
            "--policy",
        ),
    ];
    for (dirs, extra, expected) in cases {
        let o = merge(&out, &dirs, &extra);
        let err = stderr(&o);
        assert!(!o.status.success(), "{expected}");
        assert!(err.contains(expected), "{expected}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        assert!(!out.exists(), "{expected}: nothing written");
    }
}

#[test]
fn shards_with_no_case_are_written_and_merge_back() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    ok(&[
        "generate",
        "--cases",
        "3",
        "--accounts",
        "2",
        "--no-bad-rows",
        "--out",
        input.to_str().unwrap(),
        "--quiet",
    ]);
    let single = dir.path().join("single");
    report(&input, &single, &[]);
    let parts = shards(&input, dir.path(), 7);
    let empty = parts
        .iter()
        .filter(|p| manifest(p)["cases_measured"] == 0)
        .count();
    assert!(empty >= 4, "{empty} empty shards of 7 for 3 cases");
    let merged = dir.path().join("merged");
    let o = merge(&merged, &parts, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_same_report(&single, &merged, "7 shards of 3 cases");
}
