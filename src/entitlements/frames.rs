//! The entitlement rules run over one export: `entitlements.parquet` (one
//! row per account × contract year × yearly service) and
//! `entitlement_findings.parquet` (one row per breach, with its evidence),
//! plus the rows and manifest entries of the two optional tables.

use std::collections::BTreeMap;

use polars::prelude::*;
use serde_json::json;

use super::input::{self, Engagement, Judged};
use super::{
    contact_breaches, contract_years, due_by_now, entitled, expected_by_now, language_supported,
    phone_allowed, spans, status, Kind, Named,
};
use crate::ingest::{text_column, values, Ingested, Input, Table};
use crate::mapping::Mapping;
use crate::measure::Measured;
use crate::output::{enum_column, internal, timestamp_column};
use crate::policy::{Policy, Priority};
use crate::timestamp::Instant;
use crate::Result;

/// File names of the two outputs.
pub const ENTITLEMENTS_FILE: &str = "entitlements.parquet";
/// File name of the findings.
pub const FINDINGS_FILE: &str = "entitlement_findings.parquet";

/// What the entitlement checks produced for one run.
#[derive(Debug)]
pub struct Checked {
    /// `entitlements.parquet`, dimensions as enums.
    pub entitlements: DataFrame,
    /// `entitlement_findings.parquet`, dimensions as enums.
    pub findings: DataFrame,
    /// Manifest entries of `engagements` and `contacts` (like the other tables').
    pub tables: Vec<(String, serde_json::Value)>,
    /// Rows rejected in both tables (already added to the ingested rejects).
    pub rejected: u64,
    /// Counts of statuses and finding rules, for the manifest.
    pub summary: serde_json::Value,
}

/// Reads `engagements` and `contacts`, moves their bad rows to
/// `ingested.rejects`, and runs every entitlement rule at the as-of instant
/// over the measured cases (`measured` indexes `ingested.cases`).
pub fn check(
    input: &Input,
    mapping: &Mapping,
    policy: &Policy,
    ingested: &mut Ingested,
    measured: &[(usize, Measured)],
) -> Result<Checked> {
    let loaded = input::load(input, mapping, policy, ingested)?;
    let as_of = ingested.as_of;
    let yearly = yearly_rows(policy, &loaded, as_of);
    let mut findings = contact_findings(policy, &loaded, as_of);
    findings.extend(case_findings(policy, mapping, ingested, measured)?);
    findings.extend(service_findings(policy, &loaded.engagements.rows, as_of));
    findings.sort_by(|a, b| {
        (&a.account, a.at, a.rule, &a.evidence).cmp(&(&b.account, b.at, b.rule, &b.evidence))
    });

    let mut statuses: BTreeMap<&str, u64> = BTreeMap::new();
    for y in &yearly {
        *statuses.entry(y.status.as_str()).or_default() += 1;
    }
    let mut rules: BTreeMap<&str, u64> = BTreeMap::new();
    for f in &findings {
        *rules.entry(f.rule.as_str()).or_default() += 1;
    }
    let summary = json!({ "statuses": statuses, "findings": rules });
    let tables = vec![
        table_entry("engagements", &loaded.engagements),
        table_entry("contacts", &loaded.contacts),
    ];
    let rejected = loaded.engagements.counts.rejected + loaded.contacts.counts.rejected;
    let entitlements = entitlements_frame(policy, &yearly)?;
    let findings = findings_frame(policy, &findings)?;
    ingested.rejects.extend(loaded.rejects);
    Ok(Checked {
        entitlements,
        findings,
        tables,
        rejected,
        summary,
    })
}

fn table_entry<T>(name: &str, t: &Judged<T>) -> (String, serde_json::Value) {
    let c = t.counts;
    let (file, format, sha) = match &t.source {
        Some(s) => (
            json!(s.path),
            json!(format!("{:?}", s.format).to_lowercase()),
            json!(s.sha256),
        ),
        None => (json!(null), json!(null), json!(null)),
    };
    (
        name.to_string(),
        json!({
            "file": file,
            "format": format,
            "sha256": sha,
            "rows_read": c.read,
            "rows_used": c.used,
            "rows_rejected": c.rejected,
        }),
    )
}

// ---- entitlements ----

struct YearRow<'a> {
    account: &'a str,
    tier: usize,
    year: super::ContractYear,
    kind: Kind,
    entitled: u32,
    delivered: u32,
    expected: f64,
    status: super::Status,
}

fn yearly_rows<'a>(policy: &Policy, loaded: &'a input::Loaded, as_of: Instant) -> Vec<YearRow<'a>> {
    let ent = &policy.entitlements;
    let kinds = ent.yearly_kinds();
    let mut by_account: BTreeMap<&str, Vec<&Engagement>> = BTreeMap::new();
    for e in loaded
        .engagements
        .rows
        .iter()
        .filter(|e| e.delivered_at <= as_of)
    {
        by_account.entry(e.account.as_str()).or_default().push(e);
    }
    let mut out = Vec::new();
    for (account, rows) in &loaded.contracts {
        let delivered = by_account
            .get(account.as_str())
            .map(Vec::as_slice)
            .unwrap_or_default();
        for span in spans(rows) {
            for year in contract_years(&span, as_of) {
                let within = |k: Kind| {
                    delivered.iter().filter(move |e| {
                        e.kind == k && year.start <= e.delivered_at && e.delivered_at < year.end
                    })
                };
                let launch_advisory =
                    year.number == 1 && within(Kind::LaunchAdvisory).next().is_some();
                for &kind in &kinds {
                    let mut per_year = ent.tiers[span.tier].yearly.get(&kind).copied().unwrap_or(0);
                    if kind == Kind::FieldActivity && launch_advisory && per_year > 0 {
                        per_year = ent.launch_advisory_first_year_field_activities;
                    }
                    let entitled = entitled(per_year, &year);
                    let count = within(kind).count() as u32;
                    out.push(YearRow {
                        account,
                        tier: span.tier,
                        year,
                        kind,
                        entitled,
                        delivered: count,
                        expected: expected_by_now(entitled, &year, as_of),
                        status: status(entitled, count, due_by_now(entitled, &year, as_of)),
                    });
                }
            }
        }
    }
    out
}

fn entitlements_frame(policy: &Policy, rows: &[YearRow]) -> Result<DataFrame> {
    let accounts: Vec<Option<&str>> = rows.iter().map(|r| Some(r.account)).collect();
    let tiers: Vec<Option<&str>> = rows
        .iter()
        .map(|r| Some(policy.tiers[r.tier].as_str()))
        .collect();
    let kinds: Vec<Option<&str>> = rows.iter().map(|r| Some(r.kind.as_str())).collect();
    let statuses: Vec<Option<&str>> = rows.iter().map(|r| Some(r.status.as_str())).collect();
    let int = |f: fn(&YearRow) -> u32| rows.iter().map(|r| i64::from(f(r))).collect::<Vec<i64>>();
    let columns = vec![
        enum_column("account_id", &accounts)?,
        enum_column("tier", &tiers)?,
        Column::new("contract_year".into(), int(|r| r.year.number)),
        timestamp_column(
            "year_start",
            rows.iter().map(|r| Some(r.year.start)).collect(),
        ),
        timestamp_column("year_end", rows.iter().map(|r| Some(r.year.end)).collect()),
        enum_column("entitlement", &kinds)?,
        Column::new("entitled".into(), int(|r| r.entitled)),
        Column::new("delivered".into(), int(|r| r.delivered)),
        Column::new(
            "remaining".into(),
            int(|r| r.entitled.saturating_sub(r.delivered)),
        ),
        Column::new(
            "expected_by_now".into(),
            rows.iter().map(|r| r.expected).collect::<Vec<f64>>(),
        ),
        enum_column("status", &statuses)?,
    ];
    DataFrame::new(rows.len(), columns).map_err(internal)
}

// ---- findings ----

/// The rules a finding can break.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Rule {
    TooManyNamedContacts,
    PhoneNotEntitled,
    UnsupportedLanguage,
    ServiceNotEntitled,
}

impl Rule {
    fn as_str(self) -> &'static str {
        match self {
            Rule::TooManyNamedContacts => "too_many_named_contacts",
            Rule::PhoneNotEntitled => "phone_not_entitled",
            Rule::UnsupportedLanguage => "unsupported_language",
            Rule::ServiceNotEntitled => "service_not_entitled",
        }
    }
}

struct Finding {
    rule: Rule,
    account: String,
    tier: usize,
    product: Option<String>,
    at: Instant,
    until: Option<Instant>,
    allowed: Option<u32>,
    observed: Option<u32>,
    evidence_kind: &'static str,
    evidence: String,
    detail: String,
}

fn contact_findings(policy: &Policy, loaded: &input::Loaded, as_of: Instant) -> Vec<Finding> {
    let mut named: BTreeMap<(&str, &str), Vec<Named>> = BTreeMap::new();
    for c in &loaded.contacts.rows {
        named
            .entry((&c.account, &c.product))
            .or_default()
            .push(Named {
                contact_id: c.contact_id.clone(),
                from: c.added_at,
                to: c.removed_at,
            });
    }
    let mut out = Vec::new();
    for ((account, product), list) in named {
        let spans = spans(
            loaded
                .contracts
                .get(account)
                .map(Vec::as_slice)
                .unwrap_or_default(),
        );
        let limit = |tier: usize| policy.entitlements.tiers[tier].named_contacts_per_product;
        for b in contact_breaches(&list, &spans, limit, as_of) {
            out.push(Finding {
                rule: Rule::TooManyNamedContacts,
                account: account.to_string(),
                tier: b.tier,
                product: Some(product.to_string()),
                at: b.from,
                until: b.until,
                allowed: Some(b.allowed),
                observed: Some(b.peak),
                evidence_kind: "contact",
                evidence: b.named_at_peak.join(","),
                detail: format!(
                    "{} named contacts on `{product}` at once; {} allows {} per product",
                    b.peak, policy.tiers[b.tier], b.allowed
                ),
            });
        }
    }
    out
}

fn case_findings(
    policy: &Policy,
    mapping: &Mapping,
    ingested: &Ingested,
    measured: &[(usize, Measured)],
) -> Result<Vec<Finding>> {
    let source = &ingested.sources[Table::Cases as usize];
    let column = |c: &str| text_column(source, mapping, c, false);
    let (c_id, c_account, c_product, c_channel, c_language) = (
        column("case_id")?,
        column("account_id")?,
        column("product")?,
        column("channel")?,
        column("language")?,
    );
    let (ids, accounts, products, channels, languages) = (
        values(&c_id),
        values(&c_account),
        values(&c_product),
        values(&c_channel),
        values(&c_language),
    );
    let ent = &policy.entitlements;
    let mut out = Vec::new();
    for (i, _) in measured {
        let case = &ingested.cases[*i];
        let row = case.row as usize;
        let (id, account, product) = (
            ids.get(row).unwrap_or_default(),
            accounts.get(row).unwrap_or_default(),
            products.get(row),
        );
        let finding = |rule: Rule, detail: String| Finding {
            rule,
            account: account.to_string(),
            tier: case.tier,
            product: product.map(str::to_string),
            at: case.created_at,
            until: None,
            allowed: None,
            observed: None,
            evidence_kind: "case",
            evidence: id.to_string(),
            detail,
        };
        if let Some(channel) = channels.get(row).map(|c| mapping.value("channel", c)) {
            if !phone_allowed(ent, case.tier, channel, case.priority) {
                let allowed: Vec<&str> = Priority::ALL
                    .iter()
                    .filter(|p| ent.tiers[case.tier].phone[p.index()])
                    .map(|p| p.as_str())
                    .collect();
                let allowed = if allowed.is_empty() {
                    "no priority".to_string()
                } else {
                    allowed.join(", ") + " only"
                };
                out.push(finding(
                    Rule::PhoneNotEntitled,
                    format!(
                        "phone case opened at {}; {} has phone support for {allowed}",
                        case.priority, policy.tiers[case.tier]
                    ),
                ));
            }
        }
        if let Some(language) = languages.get(row).map(|l| mapping.value("language", l)) {
            if !language_supported(ent, product, language) {
                let list = product
                    .and_then(|p| ent.product_languages.get(p))
                    .unwrap_or(&ent.languages);
                let what = product
                    .map(|p| format!("for `{p}`"))
                    .unwrap_or_else(|| "(no product)".into());
                out.push(finding(
                    Rule::UnsupportedLanguage,
                    format!(
                        "language `{language}` is not supported {what} (supported: {})",
                        list.join(", ")
                    ),
                ));
            }
        }
    }
    Ok(out)
}

fn service_findings(policy: &Policy, engagements: &[Engagement], as_of: Instant) -> Vec<Finding> {
    engagements
        .iter()
        .filter(|e| e.delivered_at <= as_of && !policy.entitlements.includes(e.tier, e.kind))
        .map(|e| {
            let tier = &policy.tiers[e.tier];
            Finding {
                rule: Rule::ServiceNotEntitled,
                account: e.account.clone(),
                tier: e.tier,
                product: e.product.clone(),
                at: e.delivered_at,
                until: None,
                allowed: None,
                observed: None,
                evidence_kind: "engagement",
                evidence: e.evidence(),
                detail: format!(
                    "`{}` delivered while the account is on {tier}, which does not include it",
                    e.kind.as_str()
                ),
            }
        })
        .collect()
}

fn findings_frame(policy: &Policy, rows: &[Finding]) -> Result<DataFrame> {
    let count = |f: fn(&Finding) -> Option<u32>| {
        rows.iter().map(|r| f(r).map(i64::from)).collect::<Vec<_>>()
    };
    let columns = vec![
        enum_column(
            "rule",
            &rows
                .iter()
                .map(|r| Some(r.rule.as_str()))
                .collect::<Vec<_>>(),
        )?,
        enum_column(
            "account_id",
            &rows
                .iter()
                .map(|r| Some(r.account.as_str()))
                .collect::<Vec<_>>(),
        )?,
        enum_column(
            "tier",
            &rows
                .iter()
                .map(|r| Some(policy.tiers[r.tier].as_str()))
                .collect::<Vec<_>>(),
        )?,
        enum_column(
            "product",
            &rows
                .iter()
                .map(|r| r.product.as_deref())
                .collect::<Vec<_>>(),
        )?,
        timestamp_column("at", rows.iter().map(|r| Some(r.at)).collect()),
        timestamp_column("until", rows.iter().map(|r| r.until).collect()),
        Column::new("allowed".into(), count(|r| r.allowed)),
        Column::new("observed".into(), count(|r| r.observed)),
        enum_column(
            "evidence_kind",
            &rows
                .iter()
                .map(|r| Some(r.evidence_kind))
                .collect::<Vec<_>>(),
        )?,
        Column::new(
            "evidence".into(),
            rows.iter().map(|r| r.evidence.as_str()).collect::<Vec<_>>(),
        ),
        Column::new(
            "detail".into(),
            rows.iter().map(|r| r.detail.as_str()).collect::<Vec<_>>(),
        ),
    ];
    DataFrame::new(rows.len(), columns).map_err(internal)
}
