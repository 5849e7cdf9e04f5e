//! The outputs as an API: the schema of every Parquet file `slt report`
//! writes (docs/outputs.md), read back with arrow-rs's `parquet` crate — an
//! implementation independent of the polars writer — plus the partitioned
//! layout (`--partition-by period`, `--update`) and `slt query`.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Output;

use crate::common::{slt, stderr, stdout};
use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int64Type, TimestampMicrosecondType};
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::{DataType, SchemaRef, TimeUnit};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

/// Runs `slt report` on the demo export into `dir/name` with `extra` flags.
fn demo_report(dir: &Path, name: &str, extra: &[&str]) -> PathBuf {
    let out = dir.join(name);
    let mut args = vec!["report", "--out", out.to_str().unwrap(), "--quiet"];
    args.extend(extra);
    let o = slt(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    out
}

/// A Parquet file as arrow-rs reads it.
struct Table {
    schema: SchemaRef,
    batch: RecordBatch,
    metadata: HashMap<String, String>,
}

fn read(path: &Path) -> Table {
    let file = File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).unwrap();
    let metadata = builder
        .metadata()
        .file_metadata()
        .key_value_metadata()
        .into_iter()
        .flatten()
        .map(|kv| (kv.key.clone(), kv.value.clone().unwrap_or_default()))
        .collect();
    let schema = builder.schema().clone();
    let mut batches: Vec<RecordBatch> = builder
        .with_batch_size(1 << 20)
        .build()
        .unwrap()
        .map(|b| b.unwrap())
        .collect();
    let batch = match batches.len() {
        0 => RecordBatch::new_empty(schema.clone()),
        1 => batches.remove(0),
        n => panic!("{}: {n} batches", path.display()),
    };
    Table {
        schema,
        batch,
        metadata,
    }
}

impl Table {
    fn rows(&self) -> usize {
        self.batch.num_rows()
    }

    fn column(&self, name: &str) -> &ArrayRef {
        self.batch
            .column_by_name(name)
            .unwrap_or_else(|| panic!("no column {name}"))
    }

    /// A text column (plain or dictionary-encoded) as strings.
    fn text(&self, name: &str) -> Vec<Option<String>> {
        text(self.column(name))
    }

    fn int(&self, name: &str) -> Vec<Option<i64>> {
        self.column(name)
            .as_primitive::<Int64Type>()
            .iter()
            .collect()
    }

    fn float(&self, name: &str) -> Vec<Option<f64>> {
        self.column(name)
            .as_primitive::<Float64Type>()
            .iter()
            .collect()
    }

    fn micros(&self, name: &str) -> Vec<Option<i64>> {
        self.column(name)
            .as_primitive::<TimestampMicrosecondType>()
            .iter()
            .collect()
    }

    /// The sorted category list of a dictionary column.
    fn categories(&self, name: &str) -> Vec<String> {
        let dict = self.column(name).as_any_dictionary();
        let values = dict.values().as_string::<i32>();
        values.iter().map(|v| v.unwrap().to_string()).collect()
    }
}

fn text(array: &ArrayRef) -> Vec<Option<String>> {
    match array.data_type() {
        DataType::Utf8 => array
            .as_string::<i32>()
            .iter()
            .map(|v| v.map(str::to_string))
            .collect(),
        DataType::Dictionary(_, _) => {
            let dict = array.as_any_dictionary();
            let values = dict.values().as_string::<i32>();
            let keys = dict.normalized_keys();
            (0..array.len())
                .map(|i| array.is_valid(i).then(|| values.value(keys[i]).to_string()))
                .collect()
        }
        other => panic!("not a text column: {other}"),
    }
}

/// How a column is typed in the file.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    /// `string` (never `large_string` or `string_view`).
    Text,
    /// `dictionary<uint8|uint16|uint32, string>`, categories sorted.
    Dict,
    Int64,
    Float64,
    /// `timestamp[us, tz=UTC]`.
    Utc,
}

/// Column, kind, and whether nulls may occur (docs/outputs.md).
type Spec = [SpecRow];

/// One column of a [`Spec`].
type SpecRow = (&'static str, Kind, bool);

const CASE_SLT: &Spec = &[
    ("case_id", Kind::Text, false),
    ("account_id", Kind::Dict, false),
    ("tier", Kind::Dict, false),
    ("region", Kind::Dict, false),
    ("product", Kind::Dict, true),
    ("priority", Kind::Dict, false),
    ("initial_priority", Kind::Dict, false),
    ("priority_changes", Kind::Int64, false),
    ("created_at", Kind::Utc, false),
    ("clock_start", Kind::Utc, false),
    ("coverage", Kind::Dict, false),
    ("target_minutes", Kind::Int64, false),
    ("deadline", Kind::Utc, false),
    ("first_response_at", Kind::Utc, true),
    ("response_business_minutes", Kind::Float64, true),
    ("outcome", Kind::Dict, false),
    ("breach_business_minutes", Kind::Float64, true),
    ("period", Kind::Dict, false),
    ("month", Kind::Dict, false),
    ("reason", Kind::Dict, false),
];

const COUNTS: [(&str, Kind, bool); 8] = [
    ("cases", Kind::Int64, false),
    ("met", Kind::Int64, false),
    ("breached", Kind::Int64, false),
    ("pending", Kind::Int64, false),
    ("excluded", Kind::Int64, false),
    ("attainment", Kind::Float64, true),
    ("p50_response_business_minutes", Kind::Float64, true),
    ("p90_response_business_minutes", Kind::Float64, true),
];

fn attainment_spec() -> Vec<(&'static str, Kind, bool)> {
    let mut spec = vec![
        ("period_type", Kind::Dict, false),
        ("period", Kind::Dict, false),
        ("tier", Kind::Dict, false),
        ("priority", Kind::Dict, false),
        ("region", Kind::Dict, false),
    ];
    spec.extend(COUNTS);
    spec
}

fn account_attainment_spec() -> Vec<(&'static str, Kind, bool)> {
    let mut spec = vec![
        ("period_type", Kind::Dict, false),
        ("period", Kind::Dict, false),
        ("account_id", Kind::Dict, false),
        ("priority", Kind::Dict, false),
    ];
    spec.extend(COUNTS);
    spec
}

const REJECTS: &Spec = &[
    ("table", Kind::Dict, false),
    ("row_number", Kind::Int64, false),
    ("key", Kind::Text, true),
    ("column", Kind::Text, false),
    ("value", Kind::Text, true),
    ("reason", Kind::Text, false),
    ("reason_code", Kind::Dict, false),
    ("file", Kind::Text, false),
    ("locator", Kind::Text, false),
];

const ENTITLEMENTS: &Spec = &[
    ("account_id", Kind::Dict, false),
    ("tier", Kind::Dict, false),
    ("contract_year", Kind::Int64, false),
    ("year_start", Kind::Utc, false),
    ("year_end", Kind::Utc, false),
    ("entitlement", Kind::Dict, false),
    ("entitled", Kind::Int64, false),
    ("delivered", Kind::Int64, false),
    ("remaining", Kind::Int64, false),
    ("expected_by_now", Kind::Float64, false),
    ("status", Kind::Dict, false),
];

const FINDINGS: &Spec = &[
    ("rule", Kind::Dict, false),
    ("account_id", Kind::Dict, false),
    ("tier", Kind::Dict, false),
    ("product", Kind::Dict, true),
    ("at", Kind::Utc, false),
    ("until", Kind::Utc, true),
    ("allowed", Kind::Int64, true),
    ("observed", Kind::Int64, true),
    ("evidence_kind", Kind::Dict, false),
    ("evidence", Kind::Text, false),
    ("detail", Kind::Text, false),
];

/// Every Parquet file a report writes, with its schema.
fn parquet_outputs() -> Vec<(&'static str, Vec<SpecRow>)> {
    vec![
        ("case_slt.parquet", CASE_SLT.to_vec()),
        ("attainment.parquet", attainment_spec()),
        ("account_attainment.parquet", account_attainment_spec()),
        ("entitlements.parquet", ENTITLEMENTS.to_vec()),
        ("entitlement_findings.parquet", FINDINGS.to_vec()),
        ("rejects.parquet", REJECTS.to_vec()),
    ]
}

/// Asserts that `table` has exactly the columns of `spec`, in order, with
/// their types, and nulls only where allowed.
fn check_schema(file: &str, table: &Table, spec: &Spec) {
    let names: Vec<&str> = table
        .schema
        .fields()
        .iter()
        .map(|f| f.name().as_str())
        .collect();
    let expected: Vec<&str> = spec.iter().map(|(n, _, _)| *n).collect();
    assert_eq!(names, expected, "{file}: columns");
    for (name, kind, nullable) in spec {
        let field = table.schema.field_with_name(name).unwrap();
        let dtype = field.data_type();
        let ok = match kind {
            Kind::Text => dtype == &DataType::Utf8,
            Kind::Dict => matches!(dtype, DataType::Dictionary(k, v)
                if matches!(**k, DataType::UInt8 | DataType::UInt16 | DataType::UInt32) && **v == DataType::Utf8),
            Kind::Int64 => dtype == &DataType::Int64,
            Kind::Float64 => dtype == &DataType::Float64,
            Kind::Utc => {
                matches!(dtype, DataType::Timestamp(TimeUnit::Microsecond, Some(tz)) if &**tz == "UTC")
            }
        };
        assert!(ok, "{file}.{name}: {dtype} is not {kind:?}");
        let column = table.column(name);
        if !nullable {
            assert_eq!(column.null_count(), 0, "{file}.{name} has nulls");
        }
        if *kind == Kind::Dict {
            let cats = table.categories(name);
            let mut sorted = cats.clone();
            sorted.sort();
            sorted.dedup();
            assert_eq!(
                cats, sorted,
                "{file}.{name}: categories sorted and distinct"
            );
        }
    }
}

fn manifest(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap()
}

#[test]
fn every_output_has_the_documented_schema_types_and_metadata() {
    let dir = tempfile::tempdir().unwrap();
    let out = demo_report(dir.path(), "demo", &[]);
    let m = manifest(&out);
    let files = parquet_outputs();
    let listed: Vec<&str> = m["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|o| o.as_str().filter(|o| o.ends_with(".parquet")))
        .collect();
    let names: Vec<&str> = files.iter().map(|(f, _)| *f).collect();
    assert_eq!(
        listed, names,
        "every Parquet output the manifest lists is checked"
    );
    for (file, spec) in &files {
        let table = read(&out.join(file));
        assert!(table.rows() > 0, "{file}: the demo fills every output");
        check_schema(file, &table, spec);
        let kv = &table.metadata;
        assert_eq!(kv["slt_version"], env!("CARGO_PKG_VERSION"), "{file}");
        assert_eq!(kv["slt_schema_version"], "2", "{file}");
        assert_eq!(kv["slt_as_of"], m["as_of"].as_str().unwrap(), "{file}");
        assert_eq!(
            kv["slt_policy_sha256"],
            m["policy"]["sha256"].as_str().unwrap(),
            "{file}"
        );
        assert_eq!(kv["slt_policy_sha256"].len(), 64);
        assert!(kv.contains_key("ARROW:schema"), "{file}");
    }
    let cases = read(&out.join("case_slt.parquet"));
    assert_eq!(cases.rows() as u64, m["cases_measured"].as_u64().unwrap());
    assert_eq!(
        read(&out.join("rejects.parquet")).rows() as u64,
        m["rows_rejected"].as_u64().unwrap()
    );
    // The values behind the types: instants as UTC microseconds, a deadline
    // never before its clock start, outcomes from the closed list.
    let (start, deadline) = (cases.micros("clock_start"), cases.micros("deadline"));
    assert!(start.iter().zip(&deadline).all(|(s, d)| s <= d));
    assert_eq!(
        cases.categories("outcome"),
        ["breached", "excluded", "met", "pending"]
    );
    assert_eq!(cases.categories("tier"), ["Elite", "Online"]);
    // The demo has every reason, each with its one outcome.
    assert_eq!(
        cases.categories("reason"),
        [
            "answered_in_time",
            "answered_late",
            "closed_after_deadline_unanswered",
            "closed_before_deadline_unanswered",
            "open_before_deadline",
            "unanswered_past_deadline",
        ]
    );
    for (reason, outcome) in cases.text("reason").iter().zip(cases.text("outcome")) {
        let reason = slt::model::Reason::parse(reason.as_deref().unwrap()).unwrap();
        assert_eq!(reason.outcome().as_str(), outcome.unwrap());
    }
    // Period and month labels agree: 2026-07 is in 2026-Q3.
    for (p, m) in cases.text("period").iter().zip(cases.text("month")) {
        let (p, m) = (p.as_deref().unwrap(), m.unwrap());
        let month: u32 = m[5..].parse().unwrap();
        assert_eq!(p, format!("{}-Q{}", &m[..4], (month - 1) / 3 + 1));
    }
    // Attainment = met / (met + breached), null when both are 0.
    let agg = read(&out.join("attainment.parquet"));
    let (met, breached, att) = (agg.int("met"), agg.int("breached"), agg.float("attainment"));
    for i in 0..agg.rows() {
        let (met, breached) = (met[i].unwrap(), breached[i].unwrap());
        match att[i] {
            None => assert_eq!(met + breached, 0),
            Some(a) => assert!((a - met as f64 / (met + breached) as f64).abs() < 1e-12),
        }
    }
}

#[test]
fn partitioned_case_slt_is_hive_style_with_shared_categories_and_same_rows() {
    let dir = tempfile::tempdir().unwrap();
    let single = demo_report(dir.path(), "single", &[]);
    let parted = demo_report(dir.path(), "parted", &["--partition-by", "period"]);
    let again = demo_report(dir.path(), "again", &["--partition-by", "period"]);
    assert!(!parted.join("case_slt.parquet").exists());
    let whole = read(&single.join("case_slt.parquet"));
    let mut quarters: Vec<String> = std::fs::read_dir(parted.join("case_slt"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    quarters.sort();
    assert_eq!(
        quarters,
        [
            "period=2026-Q1",
            "period=2026-Q2",
            "period=2026-Q3",
            "period=2026-Q4"
        ]
    );
    let without_period: Vec<(&str, Kind, bool)> = CASE_SLT
        .iter()
        .copied()
        .filter(|(n, _, _)| *n != "period")
        .collect();
    let mut rows = 0;
    let mut ids = Vec::new();
    for q in &quarters {
        let rel = Path::new("case_slt").join(q).join("part-0.parquet");
        let part = read(&parted.join(&rel));
        check_schema(q, &part, &without_period);
        for (name, kind, _) in CASE_SLT {
            if *kind == Kind::Dict && *name != "period" {
                assert_eq!(
                    part.categories(name),
                    whole.categories(name),
                    "{q}.{name}: one category list across partitions"
                );
            }
        }
        let period = q.strip_prefix("period=").unwrap();
        let expected = whole
            .text("period")
            .iter()
            .filter(|p| p.as_deref() == Some(period))
            .count();
        assert_eq!(part.rows(), expected, "{q}");
        rows += part.rows();
        ids.extend(part.text("case_id"));
        assert_eq!(
            std::fs::read(parted.join(&rel)).unwrap(),
            std::fs::read(again.join(&rel)).unwrap(),
            "{q}: byte-identical across runs"
        );
    }
    assert_eq!(rows, whole.rows());
    let mut expected_ids = whole.text("case_id");
    expected_ids.sort();
    ids.sort();
    assert_eq!(ids, expected_ids);
    for f in ["attainment.parquet", "account_attainment.parquet"] {
        assert!(
            std::fs::read(single.join(f)).unwrap() == std::fs::read(parted.join(f)).unwrap(),
            "{f}: same aggregate whatever the layout"
        );
    }
    let m = manifest(&parted);
    assert_eq!(m["case_slt_partitioned_by"], "period");
    assert_eq!(m["outputs"][0], "case_slt/");
    assert_eq!(
        m["case_slt_partitions"]["2026-Q3"]["measured_by"],
        "this run"
    );
}

const ACCOUNTS: &str = "account_id,tier,region,valid_from,valid_to
E-EMEA,Elite,EMEA,2025-01-01,
";

fn export(dir: &Path, name: &str, cases: &str, events: &str) -> PathBuf {
    let input = dir.join(name);
    std::fs::create_dir_all(&input).unwrap();
    std::fs::write(input.join("accounts.csv"), ACCOUNTS).unwrap();
    std::fs::write(input.join("cases.csv"), cases).unwrap();
    std::fs::write(input.join("events.csv"), events).unwrap();
    input
}

const HEADER: &str =
    "case_id,account_id,product,priority,created_at,closed_at,channel,language,contact_id\n";

#[test]
fn update_replaces_only_the_periods_the_run_measured() {
    let dir = tempfile::tempdir().unwrap();
    let first = export(
        dir.path(),
        "first",
        &format!(
            "{HEADER}A1,E-EMEA,x,P1,2026-02-02T10:00:00Z,,web,en,c\n\
             A2,E-EMEA,x,P1,2026-02-03T10:00:00Z,,web,en,c\n\
             B1,E-EMEA,x,P1,2026-05-04T10:00:00Z,,web,en,c\n"
        ),
        "case_id,at,kind,value\nA1,2026-02-02T10:10:00Z,agent_response,\n\
         A2,2026-02-03T10:20:00Z,agent_response,\nB1,2026-05-04T10:30:00Z,agent_response,\n",
    );
    // A corrected export of Q2 only: B1 answered in time, and a new case.
    let second = export(
        dir.path(),
        "second",
        &format!(
            "{HEADER}B1,E-EMEA,x,P1,2026-05-04T10:00:00Z,,web,en,c\n\
             B2,E-EMEA,y,P1,2026-05-05T10:00:00Z,,web,en,c\n"
        ),
        "case_id,at,kind,value\nB1,2026-05-04T10:05:00Z,agent_response,\n\
         B2,2026-05-05T10:05:00Z,agent_response,\n",
    );
    let out = dir.path().join("report");
    let run = |input: &Path, extra: &[&str]| {
        let mut args = vec![
            "report",
            "--input",
            input.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--quiet",
            "--partition-by",
            "period",
        ];
        args.extend(extra);
        slt(&args)
    };
    let o = run(&first, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let q1 = out.join("case_slt/period=2026-Q1/part-0.parquet");
    let q1_as_of = read(&q1).metadata["slt_as_of"].clone();
    assert_eq!(q1_as_of, "2026-05-04T10:30:00Z");

    let o = run(&second, &["--update"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let kept = read(&q1);
    assert_eq!(
        kept.text("case_id"),
        [Some("A1".to_string()), Some("A2".to_string())]
    );
    assert_eq!(
        kept.metadata["slt_as_of"], q1_as_of,
        "kept with its own as-of"
    );
    assert_eq!(kept.categories("product"), ["x", "y"], "categories shared");
    let q2 = read(&out.join("case_slt/period=2026-Q2/part-0.parquet"));
    assert_eq!(
        q2.text("case_id"),
        [Some("B1".to_string()), Some("B2".to_string())]
    );
    assert_eq!(
        q2.text("outcome"),
        [Some("met".to_string()), Some("met".to_string())]
    );
    assert_eq!(q2.metadata["slt_as_of"], "2026-05-05T10:05:00Z");
    // The aggregates cover every partition, kept or new.
    let agg = read(&out.join("attainment.parquet"));
    let quarters: BTreeMap<String, (i64, i64)> = (0..agg.rows())
        .filter(|&i| agg.text("period_type")[i].as_deref() == Some("quarter"))
        .map(|i| {
            (
                agg.text("period")[i].clone().unwrap(),
                (agg.int("cases")[i].unwrap(), agg.int("met")[i].unwrap()),
            )
        })
        .collect();
    assert_eq!(
        quarters,
        BTreeMap::from([
            ("2026-Q1".to_string(), (2, 1)),
            ("2026-Q2".to_string(), (2, 2))
        ])
    );
    let m = manifest(&out);
    assert_eq!(m["case_slt_partitions"]["2026-Q1"]["measured_by"], "kept");
    assert_eq!(
        m["case_slt_partitions"]["2026-Q2"]["measured_by"],
        "this run"
    );
    assert_eq!(m["case_slt_partitions"]["2026-Q2"]["cases"], 2);

    // --update needs --partition-by, and a partitioned report to update.
    let o = slt(&["report", "--update", "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let flat = demo_report(dir.path(), "flat", &[]);
    let o = slt(&[
        "report",
        "--out",
        flat.to_str().unwrap(),
        "--partition-by",
        "period",
        "--update",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
    assert!(stderr(&o).contains("not a partitioned case_slt/"));
    assert!(flat.join("case_slt.parquet").exists(), "left as it was");
}

#[test]
fn query_prints_a_table_and_writes_csv_and_parquet() {
    let dir = tempfile::tempdir().unwrap();
    let out = demo_report(dir.path(), "demo", &[]);
    let d = out.to_str().unwrap();
    let sql =
        "SELECT region, CAST(count(*) AS BIGINT) AS cases, avg(response_business_minutes) AS mean \
               FROM case_slt WHERE tier = 'Elite' GROUP BY region ORDER BY region";
    let o = slt(&["query", d, sql]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("region"), "{text}");
    assert!(
        lines[0].contains("cases") && lines[0].contains("mean"),
        "{text}"
    );
    assert!(lines[1].starts_with("--------"), "{text}");
    assert!(lines[2].starts_with("APAC "), "{text}");
    assert_eq!(lines.len(), 2 + 4 + 1, "{text}");
    assert_eq!(*lines.last().unwrap(), "(4 rows)");

    let o = slt(&["query", d, sql, "--format", "csv"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let csv = stdout(&o);
    assert!(csv.starts_with("region,cases,mean\nAPAC,"), "{csv}");
    assert_eq!(csv.lines().count(), 5);

    let file = dir.path().join("q.parquet");
    let o = slt(&[
        "query",
        d,
        sql,
        "--format",
        "parquet",
        "--output",
        file.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let q = read(&file);
    assert_eq!(q.rows(), 4);
    assert_eq!(
        q.schema.field_with_name("region").unwrap().data_type(),
        &DataType::Utf8
    );
    let total: i64 = q.int("cases").iter().map(|c| c.unwrap()).sum();
    let elite = read(&out.join("case_slt.parquet"))
        .text("tier")
        .iter()
        .filter(|t| t.as_deref() == Some("Elite"))
        .count();
    assert_eq!(total as usize, elite);

    // The example runs as written.
    let o = slt(&[
        "query",
        d,
        "SELECT region, avg(attainment) FROM attainment GROUP BY region",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).ends_with("(4 rows)\n"), "{}", stdout(&o));
}

#[test]
fn query_reads_a_partitioned_layout_as_one_table() {
    let dir = tempfile::tempdir().unwrap();
    let single = demo_report(dir.path(), "single", &[]);
    let parted = demo_report(dir.path(), "parted", &["--partition-by", "period"]);
    let sql = "SELECT period, outcome, count(*) AS n, sum(target_minutes) AS t, min(created_at) AS first \
               FROM case_slt GROUP BY period, outcome ORDER BY period, outcome";
    let a = slt(&["query", single.to_str().unwrap(), sql, "--format", "csv"]);
    let b = slt(&["query", parted.to_str().unwrap(), sql, "--format", "csv"]);
    assert!(
        a.status.success() && b.status.success(),
        "{}{}",
        stderr(&a),
        stderr(&b)
    );
    assert_eq!(stdout(&a), stdout(&b));
    assert!(stdout(&a).lines().count() > 4);
}

#[test]
fn query_errors_are_one_line_with_exit_2_or_3() {
    let dir = tempfile::tempdir().unwrap();
    let out = demo_report(dir.path(), "demo", &[]);
    let d = out.to_str().unwrap();
    let one_line = |o: &Output, code: i32, needle: &str| {
        let err = stderr(o);
        assert_eq!(o.status.code(), Some(code), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.starts_with("slt: "), "{err}");
        assert!(err.contains(needle), "{needle} not in {err}");
        assert_eq!(stdout(o), "");
    };
    one_line(
        &slt(&["query", d, "SELECT * FROM nope"]),
        2,
        "tables: account_attainment, attainment, case_slt, entitlement_findings, entitlements, rejects",
    );
    one_line(
        &slt(&["query", d, "SELEC region FROM attainment"]),
        2,
        "query:",
    );
    one_line(
        &slt(&["query", d, "SELECT no_such_column FROM attainment"]),
        2,
        "no_such_column",
    );
    one_line(
        &slt(&["query", d, "SELECT 1", "--format", "parquet"]),
        2,
        "--output",
    );
    let missing = dir.path().join("missing");
    one_line(
        &slt(&["query", missing.to_str().unwrap(), "SELECT 1"]),
        3,
        "not a directory",
    );
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    one_line(
        &slt(&["query", empty.to_str().unwrap(), "SELECT 1"]),
        3,
        "no Parquet tables",
    );
}

/// A generated export of `cases` cases over `accounts` accounts (with the
/// generator's bad rows), in a temporary directory.
fn generated_export(seed: u64, cases: usize, accounts: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let options = slt::generate::GenerateOptions {
        seed,
        cases,
        accounts,
        year: 2026,
        bad_rows: true,
    };
    slt::generate::generate(&options, dir.path()).unwrap();
    dir
}

/// slt's runs on an export generated with `seed`, `cases` and `accounts`
/// and on the bundled demo (input `None`), each with its input.
fn generated_and_demo_runs(
    seed: u64,
    cases: usize,
    accounts: usize,
) -> Vec<(Option<PathBuf>, slt::pipeline::Run)> {
    use slt::cli::MeasureArgs;
    use slt::config::Settings;
    let dir = generated_export(seed, cases, accounts);
    [Some(dir.path().to_path_buf()), None]
        .into_iter()
        .map(|input| {
            let settings = Settings::from_args(&MeasureArgs {
                input: input.clone(),
                ..MeasureArgs::default()
            })
            .unwrap();
            let run = slt::pipeline::run(&settings, &slt::progress::Progress::silent()).unwrap();
            (input, run)
        })
        .collect()
}

/// slt computes the aggregates natively; `sql/` is their definition. On a
/// generated export (and the demo), the native frames equal what the SQL
/// gives in polars, row for row and bit for bit, their text columns the
/// very enums the writer makes of the SQL's text.
#[test]
fn native_aggregates_equal_the_sql_definitions() {
    use slt::aggregate::{aggregates, run_query, ACCOUNT_ATTAINMENT_SQL, ATTAINMENT_SQL};
    for (input, run) in generated_and_demo_runs(7, 20_000, 300) {
        let (attainment, account_attainment) = aggregates(&run.cases, &run.dimensions).unwrap();
        let case_slt = slt::output::frames::case_slt(&run.cases).unwrap();
        for (native, sql) in [
            (attainment, ATTAINMENT_SQL),
            (account_attainment, ACCOUNT_ATTAINMENT_SQL),
        ] {
            use slt::output::frames::{as_text, strings_to_enums};
            let by_sql = run_query(&as_text(&case_slt).unwrap(), sql).unwrap();
            let written = strings_to_enums(&by_sql).unwrap();
            assert_eq!(native.schema(), written.schema(), "{input:?}");
            assert!(
                native.equals_missing(&written),
                "{input:?}: the native frame is not the SQL's, as written"
            );
            let native = as_text(&native).unwrap();
            assert_eq!(native.schema(), by_sql.schema(), "{input:?}");
            assert_eq!(native.height(), by_sql.height(), "{input:?}");
            for (a, b) in native.columns().iter().zip(by_sql.columns()) {
                if !a
                    .as_materialized_series()
                    .equals_missing(b.as_materialized_series())
                {
                    for i in 0..a.len() {
                        let (x, y) = (a.get(i).unwrap(), b.get(i).unwrap());
                        if x != y {
                            eprintln!(
                                "row {i}: native {x:?} sql {y:?}; {:?}",
                                native.get_row(i).unwrap()
                            );
                            break;
                        }
                    }
                }
                assert!(
                    a.as_materialized_series()
                        .equals_missing(b.as_materialized_series()),
                    "{input:?}: column {} differs",
                    a.name()
                );
            }
        }
    }
}

/// `slt report` writes `case_slt` a window of row groups at a time, each
/// window's frame made of its rows alone: any run of rows makes the whole
/// frame's slice, enums and all — a window's enums are the whole
/// column's, not the values of its own rows — each column in one chunk.
#[test]
fn case_slt_made_a_window_at_a_time_is_the_whole_frame_sliced() {
    use slt::output::frames::{case_slt, CaseSlt};
    for (input, run) in generated_and_demo_runs(11, 5_000, 120) {
        let plan = CaseSlt::new(&run.cases, &run.dimensions).unwrap();
        let n = plan.height();
        assert_eq!(n, run.cases.len());
        let whole = plan.frame(0..n).unwrap();
        let of_rows = case_slt(&run.cases).unwrap();
        assert_eq!(whole.schema(), of_rows.schema(), "{input:?}");
        assert!(whole.equals_missing(&of_rows), "{input:?}");
        let cuts = [
            vec![0, n],
            vec![0, 0, 1.min(n), n / 3, n / 2, n.saturating_sub(1), n],
            vec![0, 7.min(n), 8.min(n), n],
        ];
        for cuts in cuts {
            for run in cuts.windows(2) {
                let (start, end) = (run[0], run[1]);
                let part = plan.frame(start..end).unwrap();
                assert_eq!(part.schema(), whole.schema(), "{input:?} {start}..{end}");
                assert!(
                    part.equals_missing(&whole.slice(start as i64, end - start)),
                    "{input:?}: rows {start}..{end} are not the whole frame's"
                );
                for c in part.columns() {
                    let chunks = c.as_materialized_series().n_chunks();
                    assert_eq!(chunks, 1, "{input:?} {start}..{end}: {}", c.name());
                }
            }
        }
    }
}

/// `case_slt`'s account, tier, region, period and month columns are made
/// of the ranks the aggregates use, not of the rows' text: on a generated
/// export (and the demo) each holds its rows' text, and the frame is what
/// the writer makes of its text read back (every text column hashed into
/// an enum of its values), column for column, enums and all.
#[test]
fn case_slt_of_ranks_is_the_frame_its_text_makes() {
    use slt::output::frames::{as_text, case_slt, case_slt_for_writing};
    for (input, run) in generated_and_demo_runs(13, 20_000, 400) {
        let made = case_slt(&run.cases).unwrap();
        let text = as_text(&made).unwrap();
        // Each row's own text, read back.
        type Field = fn(&slt::model::CaseRow) -> &str;
        let fields: [(&str, Field); 5] = [
            ("account_id", |r| &r.account_id),
            ("tier", |r| &r.tier),
            ("region", |r| &r.region),
            ("period", |r| r.period()),
            ("month", |r| r.month()),
        ];
        for (name, field) in fields {
            let column = text.column(name).unwrap().str().unwrap();
            let rows = run.cases.iter().map(|r| Some(field(r)));
            assert!(column.iter().eq(rows), "{input:?}: {name} is not the rows'");
        }
        let of_text = case_slt_for_writing(&text).unwrap();
        assert_eq!(made.schema(), of_text.schema(), "{input:?}");
        for (a, b) in made.columns().iter().zip(of_text.columns()) {
            assert!(
                a.as_materialized_series()
                    .equals_missing(b.as_materialized_series()),
                "{input:?}: column {} differs",
                a.name()
            );
        }
    }
}

/// A partition written before `case_slt` had its `reason` column cannot be
/// kept beside new ones: `--update` says so and leaves the report alone.
#[test]
fn update_refuses_a_partition_from_before_the_reason_column() {
    let dir = tempfile::tempdir().unwrap();
    let input = export(
        dir.path(),
        "in",
        &format!(
            "{HEADER}A1,E-EMEA,x,P1,2026-02-02T10:00:00Z,,web,en,c\n\
             B1,E-EMEA,x,P1,2026-05-04T10:00:00Z,,web,en,c\n"
        ),
        "case_id,at,kind,value\nA1,2026-02-02T10:10:00Z,agent_response,\n\
         B1,2026-05-04T10:30:00Z,agent_response,\n",
    );
    let out = dir.path().join("report");
    let args = |extra: &[&'static str]| {
        let mut a = vec![
            "report".to_string(),
            "--input".into(),
            input.to_str().unwrap().into(),
            "--out".into(),
            out.to_str().unwrap().into(),
            "--quiet".into(),
            "--partition-by".into(),
            "period".into(),
        ];
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };
    let run = |a: Vec<String>| {
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        slt(&a)
    };
    assert!(run(args(&[])).status.success());
    // Rewrite Q1 as an earlier slt wrote it: without `reason`.
    use polars::prelude::SerReader;
    let q1 = out.join("case_slt/period=2026-Q1/part-0.parquet");
    let mut old = polars::prelude::ParquetReader::new(File::open(&q1).unwrap())
        .finish()
        .unwrap()
        .drop("reason")
        .unwrap();
    let kv: Vec<(String, String)> = read(&q1)
        .metadata
        .into_iter()
        .filter(|(k, _)| k.starts_with("slt_"))
        .collect();
    slt::output::write_parquet(&mut old, &q1, &kv).unwrap();
    let before = std::fs::read(&q1).unwrap();
    // Q2 only: Q1 would be kept.
    std::fs::write(
        input.join("cases.csv"),
        format!("{HEADER}B1,E-EMEA,x,P1,2026-05-04T10:00:00Z,,web,en,c\n"),
    )
    .unwrap();
    std::fs::write(
        input.join("events.csv"),
        "case_id,at,kind,value\nB1,2026-05-04T10:30:00Z,agent_response,\n",
    )
    .unwrap();
    let o = run(args(&["--update"]));
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert_eq!(stderr(&o).lines().count(), 1);
    assert!(
        stderr(&o).contains("without the `reason` column: rerun every period without --update"),
        "{}",
        stderr(&o)
    );
    assert_eq!(std::fs::read(&q1).unwrap(), before, "left as it was");
}

/// Writing a report takes the run's rows to make `case_slt` of and gives
/// them back as they were, once every file is written: `slt report` then
/// never frees them (it ends), a library caller frees them as it likes.
#[test]
fn writing_a_report_gives_the_runs_rows_back_as_they_were() {
    use slt::cli::MeasureArgs;
    use slt::config::Settings;
    use slt::output::write::{write_report, Layout};
    let settings = Settings::from_args(&MeasureArgs::default()).unwrap();
    let mut run = slt::pipeline::run(&settings, &slt::progress::Progress::silent()).unwrap();
    let before = run.cases.clone();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report");
    let layout = Layout {
        partition_by: None,
        update: false,
    };
    write_report(&mut run, &settings.policy, &out, layout, |_| Ok(())).unwrap();
    assert!(before.len() > 1000);
    assert!(run.cases == before, "the rows changed in writing");
    assert_eq!(
        read(&out.join("case_slt.parquet")).batch.num_rows(),
        before.len()
    );
}
