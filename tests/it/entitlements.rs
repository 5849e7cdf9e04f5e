//! Entitlement compliance end to end (issue 7): tiny exports with the
//! optional `engagements` and `contacts` tables run through `slt report`,
//! every expected row worked out by hand; bad rows of both tables as
//! rejects; the demo's mix of statuses and findings.

use std::path::{Path, PathBuf};

use crate::common::{slt, stderr};
use polars::prelude::*;
use slt::timestamp::format_rfc3339;

fn read(path: &Path) -> DataFrame {
    ParquetReader::new(std::fs::File::open(path).unwrap())
        .finish()
        .unwrap()
}

fn manifest(out: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap()
}

/// Writes the tables given as `(file name, contents)` into `dir/in`.
fn export(dir: &Path, tables: &[(&str, &str)]) -> PathBuf {
    let input = dir.join("in");
    std::fs::create_dir_all(&input).unwrap();
    for (name, text) in tables {
        std::fs::write(input.join(name), text).unwrap();
    }
    input
}

/// Runs `slt report` on `input` into `dir/out` with `extra` flags; expects success.
fn report(dir: &Path, input: &Path, extra: &[&str]) -> PathBuf {
    let out = dir.join("out");
    let mut args = vec![
        "report",
        "--input",
        input.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ];
    args.extend(extra);
    let o = slt(&args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    out
}

/// Every row of `df` as `a|b|c` over `columns`: text as is, timestamps as
/// RFC 3339 UTC, nulls as `-`.
fn lines(df: &DataFrame, columns: &[&str]) -> Vec<String> {
    (0..df.height())
        .map(|i| {
            columns
                .iter()
                .map(|c| {
                    let col = df.column(c).unwrap();
                    match col.dtype() {
                        DataType::Datetime(..) => {
                            let v = col
                                .as_materialized_series()
                                .datetime()
                                .unwrap()
                                .physical()
                                .get(i);
                            v.map(format_rfc3339).unwrap_or_else(|| "-".into())
                        }
                        _ => match col.get(i).unwrap() {
                            AnyValue::Null => "-".into(),
                            v => v.to_string().trim_matches('"').to_string(),
                        },
                    }
                })
                .collect::<Vec<_>>()
                .join("|")
        })
        .collect()
}

const ONE_CASE: &str =
    "case_id,account_id,product,priority,created_at,closed_at,channel,language,contact_id
C1,E1,Adobe Analytics,P3,2026-02-02T10:00:00Z,,web,en,k1
";
const ONE_EVENT: &str = "case_id,at,kind,value
C1,2026-02-02T10:20:00Z,agent_response,
";

const YEAR_ACCOUNTS: &str = "account_id,tier,region,valid_from,valid_to
E1,Elite,EMEA,2026-01-01,
E2,Elite,Americas,2025-03-01,
O1,Online,EMEA,2025-06-01,
E3,Elite,APAC,2025-07-01,2026-01-01
";

const YEAR_ENGAGEMENTS: &str = "engagement_id,account_id,kind,track,delivered_at,product
N1,E1,service_review,,2026-02-10T10:00:00Z,
N2,E1,expert_session,,2026-03-10T10:00:00Z,Adobe Analytics
N3,E1,expert_session,,2026-05-10T10:00:00Z,Adobe Analytics
N4,E1,expert_session,,2026-08-01T10:00:00Z,Adobe Analytics
N5,E2,launch_advisory,,2025-04-01T17:00:00Z,Adobe Target
N6,E2,field_activity,technical,2025-09-01T17:00:00Z,Adobe Target
N7,E2,service_review,,2025-05-01T17:00:00Z,
N8,E2,service_review,,2025-08-01T17:00:00Z,
N9,E2,service_review,,2025-11-01T17:00:00Z,
N10,E2,service_review,,2026-02-01T17:00:00Z,
N11,E2,field_activity,strategic,2026-04-01T17:00:00Z,Adobe Target
N12,O1,expert_session,,2026-06-15T10:00:00Z,Adobe Campaign
N13,E3,service_review,,2025-08-01T00:00:00Z,
N14,E3,service_review,,2025-11-01T00:00:00Z,
N15,E3,expert_session,,2025-09-01T00:00:00Z,Adobe Target
N16,E3,field_activity,technical,2025-08-01T00:00:00Z,Adobe Target
N17,E3,field_activity,technical,2025-09-01T00:00:00Z,Adobe Target
N18,E3,field_activity,strategic,2025-10-01T00:00:00Z,Adobe Target
";

/// Contract years and pro-rata statuses at `--as-of 2026-07-01T00:00:00Z`:
///
/// - E1 (EMEA, from 2026-01-01 = 00:00Z): year 1, 181 of 365 days elapsed,
///   so 4 × 181/365 = 1.98 are expected and 1 whole review is due. One
///   review: on track; two sessions (a third after the as-of instant does
///   not count): on track; no field activity: behind.
/// - E2 (Americas, from 2025-03-01 = 08:00Z): year 1 had a Launch Advisory,
///   so no field activities (the one delivered is over); 4 reviews
///   delivered; no session: behind. Year 2 (from 2026-03-01 08:00Z) is
///   121 ⅔ of 365 days old: 1.33 expected, 1 due; one field activity on
///   track, no review and no session: behind.
/// - O1 (Online): nothing entitled; the expert session it got is over.
/// - E3 (APAC, 2025-07-01 to 2026-01-01 local = 2025-06-30T14:00Z to
///   2025-12-31T13:00Z): a year cut short at 183 d 23 h of 365 d, so
///   4 × 0.504 = 2 of each; two reviews delivered, one session behind,
///   three field activities over.
#[test]
fn contract_years_pro_rata_launch_advisory_and_a_short_year() {
    let dir = tempfile::tempdir().unwrap();
    let input = export(
        dir.path(),
        &[
            ("accounts.csv", YEAR_ACCOUNTS),
            ("cases.csv", ONE_CASE),
            ("events.csv", ONE_EVENT),
            ("engagements.csv", YEAR_ENGAGEMENTS),
        ],
    );
    let out = report(dir.path(), &input, &["--as-of", "2026-07-01T00:00:00Z"]);
    let df = read(&out.join("entitlements.parquet"));
    let cols = [
        "account_id",
        "tier",
        "contract_year",
        "year_start",
        "year_end",
        "entitlement",
        "entitled",
        "delivered",
        "remaining",
        "status",
    ];
    let e1 = "E1|Elite|1|2026-01-01T00:00:00Z|2027-01-01T00:00:00Z";
    let e2a = "E2|Elite|1|2025-03-01T08:00:00Z|2026-03-01T08:00:00Z";
    let e2b = "E2|Elite|2|2026-03-01T08:00:00Z|2027-03-01T08:00:00Z";
    let o1a = "O1|Online|1|2025-05-31T23:00:00Z|2026-05-31T23:00:00Z";
    let o1b = "O1|Online|2|2026-05-31T23:00:00Z|2027-05-31T23:00:00Z";
    let e3 = "E3|Elite|1|2025-06-30T14:00:00Z|2025-12-31T13:00:00Z";
    let expected = [
        format!("{e1}|service_review|4|1|3|on_track"),
        format!("{e1}|expert_session|4|2|2|on_track"),
        format!("{e1}|field_activity|4|0|4|behind"),
        format!("{e2a}|service_review|4|4|0|delivered"),
        format!("{e2a}|expert_session|4|0|4|behind"),
        format!("{e2a}|field_activity|0|1|0|over"),
        format!("{e2b}|service_review|4|0|4|behind"),
        format!("{e2b}|expert_session|4|0|4|behind"),
        format!("{e2b}|field_activity|4|1|3|on_track"),
        format!("{e3}|service_review|2|2|0|delivered"),
        format!("{e3}|expert_session|2|1|1|behind"),
        format!("{e3}|field_activity|2|3|0|over"),
        format!("{o1a}|service_review|0|0|0|not_entitled"),
        format!("{o1a}|expert_session|0|0|0|not_entitled"),
        format!("{o1a}|field_activity|0|0|0|not_entitled"),
        format!("{o1b}|service_review|0|0|0|not_entitled"),
        format!("{o1b}|expert_session|0|1|0|over"),
        format!("{o1b}|field_activity|0|0|0|not_entitled"),
    ];
    assert_eq!(lines(&df, &cols), expected);
    let expected_by_now: Vec<f64> = df
        .column("expected_by_now")
        .unwrap()
        .f64()
        .unwrap()
        .into_no_null_iter()
        .collect();
    let close = |got: f64, want: f64| assert!((got - want).abs() < 1e-9, "{got} != {want}");
    close(expected_by_now[0], 4.0 * 181.0 / 365.0);
    close(expected_by_now[3], 4.0);
    close(expected_by_now[5], 0.0);
    close(expected_by_now[6], 4.0 * (121.0 + 16.0 / 24.0) / 365.0);
    close(expected_by_now[9], 2.0);
    close(expected_by_now[16], 0.0);

    // The Online account's expert session is also a finding.
    let findings = read(&out.join("entitlement_findings.parquet"));
    assert_eq!(
        lines(&findings, &["rule", "account_id", "tier", "product", "at", "evidence_kind", "evidence", "detail"]),
        ["service_not_entitled|O1|Online|Adobe Campaign|2026-06-15T10:00:00Z|engagement|N12|`expert_session` delivered while the account is on Online, which does not include it"]
    );

    // The policy decides the counts: two reviews a year for Elite.
    let policy =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/policy.toml"))
            .unwrap()
            .replace(
                "yearly = { service_review = 4,",
                "yearly = { service_review = 2,",
            );
    let policy_path = dir.path().join("policy.toml");
    std::fs::write(&policy_path, policy).unwrap();
    std::fs::remove_dir_all(&out).unwrap();
    let out = report(
        dir.path(),
        &input,
        &[
            "--as-of",
            "2026-07-01T00:00:00Z",
            "--policy",
            policy_path.to_str().unwrap(),
        ],
    );
    let df = read(&out.join("entitlements.parquet"));
    let got = lines(
        &df,
        &[
            "account_id",
            "contract_year",
            "entitlement",
            "entitled",
            "delivered",
            "status",
        ],
    );
    assert_eq!(got[0], "E1|1|service_review|2|1|on_track");
    assert_eq!(got[3], "E2|1|service_review|2|4|over");
    assert_eq!(got[9], "E3|1|service_review|1|2|over");
}

const FINDING_ACCOUNTS: &str = "account_id,tier,region,valid_from,valid_to
O1,Online,EMEA,2026-01-01,
J1,Elite,Japan,2026-01-01,
U1,Online,Americas,2026-01-01,2026-03-01
U1,Elite,Americas,2026-03-01,
";

const FINDING_CASES: &str =
    "case_id,account_id,product,priority,created_at,closed_at,channel,language,contact_id
c1,O1,Adobe Analytics,P2,2026-02-02T10:00:00Z,,phone,en,k1
c2,O1,Adobe Analytics,P1,2026-02-03T10:00:00Z,,phone,en,k1
c3,J1,Adobe Target,P3,2026-02-04T10:00:00+09:00,,phone,ja,j1
c4,J1,Adobe Commerce,P3,2026-02-05T10:00:00+09:00,,web,ja,j1
c5,O1,Adobe Analytics,P3,2026-02-06T10:00:00Z,,chat,fr-FR,k2
c6,O1,Adobe Analytics,P4,2026-02-07T10:00:00Z,,email,,k2
c7,U1,Adobe Target,P3,2026-02-15T10:00:00-08:00,,phone,EN,u1
c8,U1,Adobe Target,P3,2026-03-15T10:00:00-07:00,,phone,en,u1
c9,O1,Adobe Analytics,P3,2026-02-09T10:00:00Z,,Phone,en,k3
c10,J1,Adobe Commerce,P2,2026-02-10T10:00:00+09:00,,phone,en-US,j2
";

const FINDING_EVENTS: &str = "case_id,at,kind,value
c9,2026-02-09T10:05:00Z,priority_change,P1
c9,2026-02-09T10:30:00Z,agent_response,
";

const FINDING_CONTACTS: &str = "account_id,product,contact_id,added_at,removed_at
O1,Adobe Analytics,k1,2026-01-05T09:00:00Z,
O1,Adobe Analytics,k2,2026-01-05T09:00:00Z,
O1,Adobe Analytics,k3,2026-01-05T09:00:00Z,
O1,Adobe Analytics,k4,2026-01-05T09:00:00Z,
O1,Adobe Analytics,k5,2026-01-20T09:00:00Z,2026-02-01T09:00:00Z
O1,Adobe Target,k1,2026-01-05T09:00:00Z,
O1,Adobe Target,k2,2026-01-05T09:00:00Z,
O1,Adobe Target,k3,2026-01-05T09:00:00Z,
O1,Adobe Target,k4,2026-01-05T09:00:00Z,2026-04-01T00:00:00Z
O1,Adobe Target,k6,2026-04-01T00:00:00Z,
U1,Adobe Target,u1,2026-01-10T17:00:00Z,
U1,Adobe Target,u2,2026-01-10T17:00:00Z,
U1,Adobe Target,u3,2026-01-10T17:00:00Z,
U1,Adobe Target,u4,2026-01-10T17:00:00Z,
U1,Adobe Target,u5,2026-01-10T17:00:00Z,
U1,Adobe Target,u6,2026-02-10T17:00:00Z,
";

const FINDING_ENGAGEMENTS: &str = "engagement_id,account_id,kind,track,delivered_at,product
N1,O1,service_review,,2026-02-01T10:00:00Z,
,U1,case_review,,2026-02-20T18:00:00Z,Adobe Target
N3,U1,case_review,,2026-03-20T17:00:00Z,Adobe Target
N4,J1,launch_advisory,,2026-01-20T01:00:00Z,Adobe Commerce
";

/// One finding per breach, worked out by hand:
///
/// - O1 (Online, 4 contacts per product): k5 makes five on Adobe Analytics
///   from 20 January until it leaves on 1 February. On Adobe Target k6
///   replaces k4 at the same instant: never five at once, no finding.
/// - U1 was Online until 1 March (Los Angeles midnight, 08:00Z), then
///   Elite: five contacts on Adobe Target from 10 January, six from 10
///   February — one breach that the upgrade ends, with the six at its peak.
/// - Phone: c1 (Online, P2) breaks it; c2 (Online, P1) and c3 (Elite) do
///   not; c7 is Online at creation (15 Feb) and P3 — a finding, c8 a month
///   later under Elite is not; c9 is judged on its initial priority P3 even
///   though it became P1 five minutes later (`Phone` is the phone channel).
/// - Language: c4 is Japanese on Adobe Commerce (English only); c5 is
///   `fr-FR`. c3 (`ja` on Adobe Target), c7 (`EN`), c10 (`en-US` on
///   Commerce) and c6 (no language) are fine.
/// - Services: O1's service review and U1's case review in February (still
///   Online) are not included; the row without an id is named by its row.
///   U1's case review in March (Elite) and J1's Launch Advisory are fine.
#[test]
fn findings_contacts_phone_language_and_services() {
    let dir = tempfile::tempdir().unwrap();
    let input = export(
        dir.path(),
        &[
            ("accounts.csv", FINDING_ACCOUNTS),
            ("cases.csv", FINDING_CASES),
            ("events.csv", FINDING_EVENTS),
            ("contacts.csv", FINDING_CONTACTS),
            ("engagements.csv", FINDING_ENGAGEMENTS),
        ],
    );
    let out = report(dir.path(), &input, &["--as-of", "2026-06-30T00:00:00Z"]);
    let df = read(&out.join("entitlement_findings.parquet"));
    let cols = [
        "account_id",
        "at",
        "rule",
        "tier",
        "product",
        "until",
        "allowed",
        "observed",
        "evidence_kind",
        "evidence",
    ];
    assert_eq!(
        lines(&df, &cols),
        [
            "J1|2026-02-05T01:00:00Z|unsupported_language|Elite|Adobe Commerce|-|-|-|case|c4",
            "O1|2026-01-20T09:00:00Z|too_many_named_contacts|Online|Adobe Analytics|2026-02-01T09:00:00Z|4|5|contact|k1,k2,k3,k4,k5",
            "O1|2026-02-01T10:00:00Z|service_not_entitled|Online|-|-|-|-|engagement|N1",
            "O1|2026-02-02T10:00:00Z|phone_not_entitled|Online|Adobe Analytics|-|-|-|case|c1",
            "O1|2026-02-06T10:00:00Z|unsupported_language|Online|Adobe Analytics|-|-|-|case|c5",
            "O1|2026-02-09T10:00:00Z|phone_not_entitled|Online|Adobe Analytics|-|-|-|case|c9",
            "U1|2026-01-10T17:00:00Z|too_many_named_contacts|Online|Adobe Target|2026-03-01T08:00:00Z|4|6|contact|u1,u2,u3,u4,u5,u6",
            "U1|2026-02-15T18:00:00Z|phone_not_entitled|Online|Adobe Target|-|-|-|case|c7",
            "U1|2026-02-20T18:00:00Z|service_not_entitled|Online|Adobe Target|-|-|-|engagement|row 2",
        ]
    );
    let details = lines(&df, &["detail"]);
    assert_eq!(
        details[0],
        "language `ja` is not supported for `Adobe Commerce` (supported: en)"
    );
    assert_eq!(
        details[1],
        "5 named contacts on `Adobe Analytics` at once; Online allows 4 per product"
    );
    assert_eq!(
        details[3],
        "phone case opened at P2; Online has phone support for P1 only"
    );
    assert_eq!(
        details[4],
        "language `fr-FR` is not supported for `Adobe Analytics` (supported: en, ja)"
    );
    let m = manifest(&out);
    assert_eq!(m["entitlements"]["findings"]["phone_not_entitled"], 3);
    assert_eq!(m["entitlements"]["findings"]["too_many_named_contacts"], 2);
    // An as-of instant before k5 was named: no breach on Adobe Analytics yet.
    // (Every case above is later, and a run needs one case to measure.)
    std::fs::remove_dir_all(&out).unwrap();
    std::fs::write(
        input.join("cases.csv"),
        format!("{FINDING_CASES}c0,O1,Adobe Analytics,P1,2026-01-10T10:00:00Z,,web,en,k1\n"),
    )
    .unwrap();
    let out = report(dir.path(), &input, &["--as-of", "2026-01-19T00:00:00Z"]);
    let early = lines(
        &read(&out.join("entitlement_findings.parquet")),
        &["rule", "account_id", "until"],
    );
    assert_eq!(early, ["too_many_named_contacts|U1|-"]);
}

#[test]
fn bad_engagement_and_contact_rows_are_rejected_with_reasons() {
    let dir = tempfile::tempdir().unwrap();
    let accounts = "account_id,tier,region,valid_from,valid_to\nE1,Elite,EMEA,2026-01-01,\nM1,Elite,Mars,2026-01-01,\n";
    let engagements = "engagement_id,account_id,kind,track,delivered_at,product
N1,E1,service_review,,2026-02-01T10:00:00Z,
N2,,service_review,,2026-02-01T10:00:00Z,
N3,E1,webinar,,2026-02-01T10:00:00Z,
N4,E1,field_activity,,2026-02-01T10:00:00Z,Adobe Target
N5,E1,field_activity,tactical,2026-02-01T10:00:00Z,Adobe Target
N6,E1,expert_session,,2026-02-30T10:00:00Z,
N7,X9,expert_session,,2026-02-01T10:00:00Z,
N8,E1,expert_session,,2025-06-01T10:00:00Z,
N1,E1,service_review,,2026-02-01T10:00:00Z,
N10,E1,field_activity,strategic,2026-03-01T10:00:00Z,Adobe Target
N11,M1,expert_session,,2026-02-01T10:00:00Z,
N12,E1,expert_session,,2026-02-02T10:00:00Z,
N12,E1,expert_session,,2026-02-03T10:00:00Z,
";
    let contacts = "account_id,product,contact_id,added_at,removed_at
E1,Adobe Target,k1,2026-01-05T09:00:00Z,
E1,,k2,2026-01-05T09:00:00Z,
E1,Adobe Target,k3,2026-01-05T09:00:00Z,2026-01-05T09:00:00Z
E1,Adobe Target,k4,2026-01-05T09:00:00,
X9,Adobe Target,k5,2026-01-05T09:00:00Z,
E1,Adobe Target,k1,2026-03-01T09:00:00Z,
E1,Adobe Target,,2026-01-05T09:00:00Z,
E1,Adobe Target,k1,2026-01-05T09:00:00Z,
";
    let input = export(
        dir.path(),
        &[
            ("accounts.csv", accounts),
            ("cases.csv", ONE_CASE),
            ("events.csv", ONE_EVENT),
            ("engagements.csv", engagements),
            ("contacts.csv", contacts),
        ],
    );
    let out = report(dir.path(), &input, &["--as-of", "2026-06-30T00:00:00Z"]);
    let m = manifest(&out);
    let counts = |t: &str| {
        let e = &m["tables"][t];
        (
            e["rows_read"].as_u64().unwrap(),
            e["rows_used"].as_u64().unwrap(),
            e["rows_rejected"].as_u64().unwrap(),
        )
    };
    assert_eq!(counts("engagements"), (13, 2, 11));
    assert_eq!(counts("contacts"), (8, 1, 7));
    assert_eq!(
        m["tables"]["engagements"]["file"],
        input.join("engagements.csv").display().to_string()
    );
    let rejects = read(&out.join("rejects.parquet"));
    assert_eq!(
        rejects.height() as u64,
        m["rows_rejected"].as_u64().unwrap()
    );
    let mine: Vec<String> = lines(
        &rejects,
        &["table", "row_number", "key", "column", "value", "reason"],
    )
    .into_iter()
    .filter(|l| l.starts_with("engagements|") || l.starts_with("contacts|"))
    .collect();
    assert_eq!(
        mine,
        [
            "engagements|2|-|account_id|-|missing value in a required column",
            "engagements|3|E1|kind|webinar|unknown engagement kind",
            "engagements|4|E1|track|-|missing value in a required column",
            "engagements|5|E1|track|tactical|field activity track is not technical or strategic",
            "engagements|6|E1|delivered_at|2026-02-30T10:00:00Z|not a real calendar date",
            "engagements|7|X9|account_id|X9|unknown account",
            "engagements|8|E1|delivered_at|2025-06-01T10:00:00Z|account has no contract in force at that instant",
            "engagements|9|E1|engagement_id|N1|identical duplicate of an earlier row (collapsed)",
            "engagements|11|M1|account_id|M1|account has only rejected contract rows",
            "engagements|12|E1|engagement_id|N12|duplicate id with different content",
            "engagements|13|E1|engagement_id|N12|duplicate id with different content",
            "contacts|2|E1|product|-|missing value in a required column",
            "contacts|3|E1|removed_at|2026-01-05T09:00:00Z|end is not after start",
            "contacts|4|E1|added_at|2026-01-05T09:00:00|timestamp without a UTC offset: slt never guesses a time zone",
            "contacts|5|X9|account_id|X9|unknown account",
            "contacts|6|E1|added_at|2026-03-01T09:00:00Z|the contact is already named on this product",
            "contacts|7|E1|contact_id|-|missing value in a required column",
            "contacts|8|E1|added_at|2026-01-05T09:00:00Z|identical duplicate of an earlier row (collapsed)",
        ]
    );
    // The rows used count: N1 and N10.
    let df = read(&out.join("entitlements.parquet"));
    assert_eq!(
        lines(&df, &["account_id", "entitlement", "delivered"]),
        [
            "E1|service_review|1",
            "E1|expert_session|0",
            "E1|field_activity|1"
        ]
    );
}

#[test]
fn a_missing_required_column_of_an_optional_table_is_a_one_line_error() {
    let dir = tempfile::tempdir().unwrap();
    let input = export(
        dir.path(),
        &[
            (
                "accounts.csv",
                "account_id,tier,region,valid_from,valid_to\nE1,Elite,EMEA,2026-01-01,\n",
            ),
            ("cases.csv", ONE_CASE),
            ("events.csv", ONE_EVENT),
            (
                "contacts.csv",
                "account_id,product,contact_id,removed_at\nE1,Adobe Target,k1,\n",
            ),
        ],
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
        err.contains("contacts.csv") && err.contains("missing column `added_at`"),
        "{err}"
    );
    assert!(!out.exists());
}

#[test]
fn without_the_optional_tables_everything_is_counted_as_not_delivered() {
    let dir = tempfile::tempdir().unwrap();
    let accounts = "account_id,tier,region,valid_from,valid_to\nE1,Elite,EMEA,2026-01-01,\n";
    let input = export(
        dir.path(),
        &[
            ("accounts.csv", accounts),
            ("cases.csv", ONE_CASE),
            ("events.csv", ONE_EVENT),
        ],
    );
    let out = report(dir.path(), &input, &["--as-of", "2026-12-31T00:00:00Z"]);
    let m = manifest(&out);
    for t in ["engagements", "contacts"] {
        assert_eq!(m["tables"][t]["file"], serde_json::Value::Null, "{t}");
        assert_eq!(m["tables"][t]["rows_read"], 0, "{t}");
    }
    let outputs: Vec<&str> = m["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(
        outputs.contains(&"entitlements.parquet")
            && outputs.contains(&"entitlement_findings.parquet")
    );
    let df = read(&out.join("entitlements.parquet"));
    assert_eq!(
        lines(&df, &["entitlement", "entitled", "delivered", "status"]),
        [
            "service_review|4|0|behind",
            "expert_session|4|0|behind",
            "field_activity|4|0|behind"
        ]
    );
    assert_eq!(read(&out.join("entitlement_findings.parquet")).height(), 0);
}

#[test]
fn demo_has_every_status_and_finding_kinds_and_generate_reproduces_its_tables() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo");
    let o = slt(&["report", "--out", out.to_str().unwrap(), "--quiet"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let df = read(&out.join("entitlements.parquet"));
    let statuses = df
        .column("status")
        .unwrap()
        .cast(&DataType::String)
        .unwrap();
    let mut seen: Vec<&str> = statuses.str().unwrap().iter().flatten().collect();
    seen.sort_unstable();
    seen.dedup();
    assert_eq!(
        seen,
        ["behind", "delivered", "not_entitled", "on_track", "over"]
    );
    let findings = read(&out.join("entitlement_findings.parquet"));
    let rules = findings
        .column("rule")
        .unwrap()
        .cast(&DataType::String)
        .unwrap();
    let mut rules: Vec<&str> = rules.str().unwrap().iter().flatten().collect();
    rules.sort_unstable();
    rules.dedup();
    // The demo's cases never put an Online non-P1 case on the phone.
    assert_eq!(
        rules,
        [
            "service_not_entitled",
            "too_many_named_contacts",
            "unsupported_language"
        ]
    );
    let m = manifest(&out);
    for t in ["engagements", "contacts"] {
        let e = &m["tables"][t];
        assert_eq!(e["file"], format!("(bundled demo) {t}.csv"));
        assert!(e["rows_read"].as_u64().unwrap() > 100, "{t}");
        assert_eq!(
            e["rows_read"],
            e["rows_used"].as_u64().unwrap() + e["rows_rejected"].as_u64().unwrap()
        );
    }
    let gen = dir.path().join("gen");
    let o = slt(&["generate", "--out", gen.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    for f in ["engagements.csv", "contacts.csv"] {
        let bundled = std::fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("fixtures/demo")
                .join(f),
        )
        .unwrap();
        assert!(
            std::fs::read(gen.join(f)).unwrap() == bundled,
            "{f}: run `slt generate --out fixtures/demo`"
        );
    }
}

#[test]
fn a_mapping_renames_the_columns_of_the_optional_tables_too() {
    let dir = tempfile::tempdir().unwrap();
    let input = export(
        dir.path(),
        &[
            (
                "accounts.csv",
                "account_id,tier,region,valid_from,valid_to\nE1,Elite,EMEA,2026-01-01,\n",
            ),
            ("cases.csv", ONE_CASE),
            ("events.csv", ONE_EVENT),
            (
                "contacts.csv",
                "Account,Product,Contact,Added,Removed\nE1,Adobe Target,k1,2026-01-05T00:00:00Z,\n",
            ),
            (
                "engagements.csv",
                "Id,Account,Type,track,When,product\nG1,E1,Service Review,,2026-02-01T10:00:00Z,\n",
            ),
        ],
    );
    let mapping = dir.path().join("mapping.toml");
    std::fs::write(
        &mapping,
        "[columns.contacts]\naccount_id = \"Account\"\nproduct = \"Product\"\ncontact_id = \"Contact\"\nadded_at = \"Added\"\nremoved_at = \"Removed\"\n\n\
         [columns.engagements]\nengagement_id = \"Id\"\naccount_id = \"Account\"\nkind = \"Type\"\ndelivered_at = \"When\"\n\n\
         [values.kind]\n\"Service Review\" = \"service_review\"\n",
    )
    .unwrap();
    let out = report(
        dir.path(),
        &input,
        &["--mapping", mapping.to_str().unwrap()],
    );
    let m = manifest(&out);
    for table in ["contacts", "engagements"] {
        assert_eq!(m["tables"][table]["rows_read"], 1, "{table}");
        assert_eq!(
            m["tables"][table]["rows_used"], 1,
            "{table}: {}",
            m["tables"][table]
        );
    }
    let rows = read(&out.join("entitlements.parquet"));
    let rows = lines(&rows, &["account_id", "entitlement", "delivered"]);
    assert!(
        rows.contains(&"E1|service_review|1".to_string()),
        "{rows:?}"
    );
}
