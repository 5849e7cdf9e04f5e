//! The account's entitlements, findings and rejected rows in the pack, as
//! of the cut: the contract year in force then, with every engagement that
//! counts (the evidence), the findings dated in the quarter (a contact
//! breach when it overlaps it), and every row of the account the export
//! could not use, grouped by reason, so that nothing vanishes silently.

use std::collections::{BTreeMap, HashSet};

use super::cases::Measured;
use super::{EntitlementYear, FindingLine, RejectGroup, Scope};
use crate::config::Settings;
use crate::entitlements::check::{self, Finding, Rule};
use crate::ingest::{NoContract, RejectReason, Source};
use crate::mapping::Mapping;
use crate::model::Table;
use crate::pipeline::Judged;

/// Row numbers shown per group of rejected rows.
const FIRST_ROWS: usize = 5;

/// The account's rows of the `cases` file as read, before judging: the
/// only way to know which rejected case rows (and their events) were the
/// account's, since a reject keeps the case id, not the account.
#[derive(Debug, Default)]
pub(crate) struct RawRows {
    /// 1-based data rows of the cases file naming the account.
    case_rows: HashSet<u64>,
    /// Their case ids.
    case_ids: HashSet<String>,
}

impl RawRows {
    /// The account's case rows among `sources` (through the mapping's
    /// column names; values trimmed as the judges trim them).
    pub(crate) fn of(sources: &[Source], mapping: &Mapping, account: &str) -> RawRows {
        let mut raw = RawRows::default();
        let Some(cases) = sources.iter().find(|s| s.table() == Table::Cases) else {
            return raw;
        };
        let text = |canonical: &str| crate::ingest::trimmed_values(cases, mapping, canonical);
        let (Some(accounts), Some(ids)) = (text("account_id"), text("case_id")) else {
            return raw;
        };
        let wanted = account.trim();
        for (i, (a, id)) in accounts.iter().zip(&ids).enumerate() {
            if a.as_deref() == Some(wanted) {
                raw.case_rows.insert(i as u64 + 1);
                if let Some(id) = id {
                    raw.case_ids.insert(id.clone());
                }
            }
        }
        raw
    }
}

/// Why `account` has no pack: not in the export (with near matches), or
/// its contract rows were all rejected.
pub(crate) fn no_account(judged: &Judged, account: &str, why: NoContract) -> String {
    let ingested = &judged.ingested;
    if why == NoContract::OnlyRejectedRows {
        let rejected: Vec<_> = ingested
            .rejects
            .rows()
            .iter()
            .filter(|r| r.table == Table::Accounts && r.key == Some(account))
            .collect();
        if let Some(first) = rejected.iter().min_by_key(|r| r.row_number) {
            return format!(
                "account `{account}` has no usable contract: its {} contract {} rejected (row {}: {}), so none of its cases could be measured",
                rejected.len(),
                if rejected.len() == 1 { "row was" } else { "rows were" },
                first.row_number,
                first.reason,
            );
        }
    }
    let known: Vec<&str> = ingested
        .contracts
        .accounts()
        .into_iter()
        .map(|(id, _)| &**id)
        .collect();
    format!(
        "no account `{account}` in the export{}",
        crate::suggest::did_you_mean(account, known)
    )
}

/// What the entitlement rules say about the account, as of the cut.
#[derive(Debug)]
pub(crate) struct Evidence {
    /// The contract year in force at the cut.
    pub year: Option<EntitlementYear>,
    /// Findings in the quarter.
    pub findings: Vec<FindingLine>,
    /// The account's rejected rows.
    pub rejects: Vec<RejectGroup>,
}

impl Evidence {
    /// Runs the entitlement rules as of the cut over the account's rows.
    pub(crate) fn of(
        judged: &Judged,
        settings: &Settings,
        scope: &Scope,
        measured: &Measured,
        raw: &RawRows,
    ) -> Evidence {
        let ingested = &judged.ingested;
        let checked = check::check(
            &settings.policy,
            &settings.mapping,
            ingested,
            measured.indices.iter().map(|&i| &ingested.cases[i]),
            scope.cut,
        );
        let account = &*scope.account;
        let rows: Vec<_> = checked
            .years
            .into_iter()
            .filter(|y| {
                &*y.account == account && y.year.start <= scope.cut && scope.cut < y.year.end
            })
            .collect();
        let year = rows.first().map(|first| {
            let y = first.year;
            let mut evidence: Vec<super::Evidence> = ingested
                .engagements
                .iter()
                .filter(|e| {
                    &*e.account == account
                        && y.start <= e.delivered_at
                        && e.delivered_at < y.end
                        && e.delivered_at <= scope.cut
                })
                .map(|e| super::Evidence {
                    service: e.service,
                    id: e.evidence(),
                    delivered_at: e.delivered_at,
                    product: e.product.as_deref().map(str::to_string),
                    track: e.track,
                })
                .collect();
            evidence.sort_by(|a, b| (a.delivered_at, &a.id).cmp(&(b.delivered_at, &b.id)));
            EntitlementYear {
                year: y,
                tier: settings.policy.tiers[first.tier].clone(),
                rows: rows.clone(),
                evidence,
            }
        });
        let findings = checked
            .findings
            .iter()
            .filter(|f| &*f.account == account && in_quarter(f, scope))
            .map(finding_line)
            .collect();
        Evidence {
            year,
            findings,
            rejects: rejects(judged, scope, measured, raw),
        }
    }
}

/// A finding dated in the quarter, or a contact breach overlapping it.
fn in_quarter(f: &Finding, scope: &Scope) -> bool {
    match f.rule {
        Rule::TooManyNamedContacts => {
            f.at < scope.end && f.until.is_none_or(|until| until > scope.start)
        }
        _ => scope.start <= f.at && f.at < scope.end,
    }
}

fn finding_line(f: &Finding) -> FindingLine {
    let rule = match f.rule {
        Rule::TooManyNamedContacts => "Too many named contacts",
        Rule::PhoneNotEntitled => "Phone support not included",
        Rule::UnsupportedLanguage => "Language not supported",
        Rule::ServiceNotEntitled => "Service not included",
    };
    FindingLine {
        rule,
        at: f.at,
        until: f.until,
        product: f.product.clone(),
        evidence: f.evidence.clone(),
        detail: plain(&f.detail),
    }
}

/// The finding's sentence without Markdown: `` `x` `` becomes “x”.
fn plain(detail: &str) -> String {
    let mut out = String::with_capacity(detail.len() + 8);
    let mut open = false;
    for c in detail.chars() {
        if c == '`' {
            out.push(if open { '”' } else { '“' });
            open = !open;
        } else {
            out.push(c);
        }
    }
    let mut chars = out.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => out,
    }
}

/// The account's rejected rows, grouped by table and reason: its contract,
/// engagement and contact rows (their key is the account), its case rows
/// (found in the file as read), their events (by case id), and its cases
/// the calendars cannot measure.
fn rejects(judged: &Judged, scope: &Scope, measured: &Measured, raw: &RawRows) -> Vec<RejectGroup> {
    let account = &*scope.account;
    let mut groups: BTreeMap<(Table, RejectReason), Vec<u64>> = BTreeMap::new();
    for r in judged.ingested.rejects.rows() {
        let key = r.key.map(str::trim);
        let mine = match r.table {
            Table::Cases => raw.case_rows.contains(&r.row_number),
            Table::Events => key.is_some_and(|k| raw.case_ids.contains(k)),
            _ => key == Some(account),
        };
        if mine {
            groups
                .entry((r.table, r.reason))
                .or_default()
                .push(r.row_number);
        }
    }
    for &row in &measured.unmeasurable {
        groups
            .entry((Table::Cases, RejectReason::OutsideCalendar))
            .or_default()
            .push(row);
    }
    groups
        .into_iter()
        .map(|((table, reason), mut rows)| {
            rows.sort_unstable();
            RejectGroup {
                table,
                reason: reason.phrase(),
                code: reason.code(),
                rows: rows.len() as u64,
                first: rows.into_iter().take(FIRST_ROWS).collect(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn findings_lose_their_markdown() {
        assert_eq!(
            plain("5 named contacts on `Adobe Analytics` at once; Online allows 4 per product"),
            "5 named contacts on “Adobe Analytics” at once; Online allows 4 per product"
        );
        assert_eq!(
            plain("language `ja` is not supported for `Adobe Commerce` (supported: en)"),
            "Language “ja” is not supported for “Adobe Commerce” (supported: en)"
        );
    }
}
