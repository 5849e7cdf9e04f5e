//! The account's cases in the pack: measured as of the cut with the code
//! that fills `case_slt` (so a case reads the same in `slt explain` run
//! with `--as-of` at the cut), the cases listed with their sentence, the
//! attainment per priority against the previous quarter (the counts and
//! percentiles by `sql/account_attainment.sql`), the contract's targets,
//! and the charts.

use std::collections::{BTreeSet, HashMap};

use polars::prelude::*;

use super::{CaseLine, ContractTargets, Previous, PriorityStats, Scope};
use crate::aggregate::{run_query, ACCOUNT_ATTAINMENT_SQL};
use crate::charts::data;
use crate::charts::Charts;
use crate::config::Settings;
use crate::measure::{measure_case_traced, Clock, Effect, Trace};
use crate::model::{CaseRow, Event, Outcome, Priority};
use crate::output::frames;
use crate::pipeline::{Judged, RowNames};
use crate::present;
use crate::timestamp::Instant;
use crate::Result;

/// The priority changes that took effect.
#[derive(Debug, Default)]
struct History(Vec<(Instant, Priority, Priority)>);

impl Trace for History {
    const ON: bool = true;
    fn change(&mut self, event: &Event, from: Priority, effect: Effect, clock: &Clock) {
        if effect == Effect::TookEffect {
            self.0.push((event.at, from, clock.priority));
        }
    }
}

/// The account's cases created by the cut, measured as of it.
#[derive(Debug, Default)]
pub(crate) struct Measured {
    /// Their `case_slt` rows.
    pub rows: Vec<CaseRow>,
    /// Index of each in the judged cases.
    pub indices: Vec<usize>,
    /// Closure by the cut.
    pub closed: Vec<Option<Instant>>,
    /// Priority changes that took effect.
    pub history: Vec<Vec<(Instant, Priority, Priority)>>,
    /// Region index of each.
    pub regions: Vec<usize>,
    /// Cases the calendars cannot measure (`outside_calendar` in a report):
    /// 1-based rows of the cases file.
    pub unmeasurable: Vec<u64>,
}

/// Measures the account's cases created by the cut, as of the cut.
pub(crate) fn measure(judged: &Judged, settings: &Settings, scope: &Scope) -> Result<Measured> {
    let ingested = &judged.ingested;
    let mine: Vec<usize> = ingested
        .cases
        .iter()
        .enumerate()
        .filter(|(_, c)| *c.account == *scope.account && c.created_at <= scope.cut)
        .map(|(i, _)| i)
        .collect();
    let slot: HashMap<u32, usize> = mine
        .iter()
        .enumerate()
        .map(|(k, &i)| (i as u32, k))
        .collect();
    let mut events: Vec<Vec<Event>> = vec![Vec::new(); mine.len()];
    for e in &ingested.events {
        if let Some(&k) = slot.get(&e.case()) {
            events[k].push(*e);
        }
    }
    let calendars = judged.calendars(settings);
    let mut names = RowNames::new(&settings.policy);
    let mut out = Measured::default();
    for (k, &i) in mine.iter().enumerate() {
        let case = &ingested.cases[i];
        let evs = &mut events[k];
        evs.sort_by_key(|e| (e.at, e.row));
        let mut history = History::default();
        match measure_case_traced(
            case,
            evs,
            &settings.policy,
            &calendars,
            scope.cut,
            &mut history,
        ) {
            Ok(m) => {
                out.rows.push(names.case_row(case, &m));
                out.indices.push(i);
                out.closed.push(case.closed_at.filter(|&c| c <= scope.cut));
                out.history.push(history.0);
                out.regions.push(usize::from(case.region));
            }
            Err(_) => out.unmeasurable.push(u64::from(case.row) + 1),
        }
    }
    Ok(out)
}

impl Measured {
    /// The rows created in the quarter.
    pub(crate) fn in_period(&self, scope: &Scope) -> Vec<&CaseRow> {
        let label = scope.quarter.label();
        self.rows.iter().filter(|r| r.period() == label).collect()
    }

    /// The quarter's breached, excluded and still-pending cases, by
    /// creation, each with its sentence (times on the account's clock).
    pub(crate) fn lines(&self, scope: &Scope, settings: &Settings) -> Vec<CaseLine> {
        let label = scope.quarter.label();
        let mut lines: Vec<CaseLine> = self
            .rows
            .iter()
            .enumerate()
            .filter(|(_, r)| r.period() == label && r.outcome != Outcome::Met)
            .map(|(k, r)| CaseLine {
                row: r.clone(),
                closed_at: self.closed[k],
                history: self.history[k].clone(),
                sentence: crate::explain::sentence(
                    r,
                    &settings.policy.regions[self.regions[k]],
                    scope.zone,
                    self.closed[k],
                    scope.cut,
                ),
            })
            .collect();
        lines.sort_by(|a, b| {
            (a.row.created_at, &a.row.case_id).cmp(&(b.row.created_at, &b.row.case_id))
        });
        lines
    }
}

/// The `(tier, region)` labels of some rows, sorted.
fn contracts_of<'a>(rows: impl Iterator<Item = &'a CaseRow>) -> BTreeSet<(String, String)> {
    rows.map(|r| (r.tier.to_string(), r.region.to_string()))
        .collect()
}

/// Per priority and `all`: this quarter against the previous one (counts
/// as of the cut), the median and 90th percentile of this quarter's
/// response times by `sql/account_attainment.sql`, and whether the change
/// means anything; and what the previous quarter is.
pub(crate) fn stats(
    measured: &Measured,
    scope: &Scope,
    settings: &Settings,
) -> Result<(Vec<PriorityStats>, Previous)> {
    let (label, before) = (scope.quarter.label(), scope.quarter.previous().label());
    let current: Vec<CaseRow> = measured.in_period(scope).into_iter().cloned().collect();
    let previous_rows: Vec<&CaseRow> = measured
        .rows
        .iter()
        .filter(|r| r.period() == before)
        .collect();
    let (now, then) = (
        contracts_of(current.iter()),
        contracts_of(previous_rows.iter().copied()),
    );
    let previous = if previous_rows.is_empty() {
        if scope.export_first >= scope.start {
            Previous::BeforeExport
        } else {
            Previous::NoCases
        }
    } else if now == then {
        Previous::Same
    } else {
        let words = |s: &BTreeSet<(String, String)>| {
            s.iter()
                .map(|(t, r)| format!("{t}, {r}"))
                .collect::<Vec<_>>()
                .join("; ")
        };
        Previous::Changed {
            from: words(&then),
            to: words(&now),
        }
    };
    // A priority compares when its targets are the same in both quarters.
    let policy = &settings.policy;
    let targets = |s: &BTreeSet<(String, String)>, p: Priority| -> BTreeSet<(&'static str, u32)> {
        s.iter()
            .filter_map(|(t, r)| Some((policy.tier_index(t)?, policy.region_index(r)?)))
            .map(|(t, r)| policy.target(t, r, p))
            .map(|t| (t.coverage.as_str(), t.minutes))
            .collect()
    };
    let comparable = |p: Priority| match previous {
        Previous::Same => true,
        Previous::Changed { .. } => targets(&now, p) == targets(&then, p),
        _ => false,
    };
    let mut both: Vec<CaseRow> = current.clone();
    both.extend(previous_rows.iter().map(|r| (*r).clone()));
    let (_, rows) = data::comparison(&both, &label);
    let percentiles = percentiles(&current, &label)?;
    let all_comparable = Priority::ALL.iter().all(|&p| comparable(p));
    let stats = rows
        .into_iter()
        .map(|row| {
            let priority = Priority::ALL
                .iter()
                .copied()
                .find(|p| p.as_str() == row.label);
            let (p50, p90) = percentiles.get(&row.label).copied().unwrap_or((None, None));
            PriorityStats {
                label: row.label.clone(),
                comparable: priority.map_or(all_comparable, comparable),
                comparison: row,
                p50,
                p90,
            }
        })
        .collect();
    Ok((stats, previous))
}

/// A median and a 90th percentile, business minutes.
type Percentiles = (Option<f64>, Option<f64>);

/// Median and 90th percentile of business minutes to the first response
/// per priority and for `all`, by `sql/account_attainment.sql` (the one
/// definition of the aggregates) over the quarter's rows.
fn percentiles(rows: &[CaseRow], label: &str) -> Result<HashMap<String, Percentiles>> {
    let mut out = HashMap::new();
    if rows.is_empty() {
        return Ok(out);
    }
    let frame = frames::as_text(&frames::case_slt(rows)?)?;
    let mut all = frame.clone();
    all.with_column(Column::new(
        frames::col::PRIORITY.into(),
        vec!["all"; rows.len()],
    ))?;
    for df in [frame, all] {
        let result = run_query(&df, ACCOUNT_ATTAINMENT_SQL)?;
        let kind = frames::text_values(&result, "period_type")?;
        let period = frames::text_values(&result, "period")?;
        let priority = frames::text_values(&result, "priority")?;
        let float = |name: &str| -> Result<Vec<Option<f64>>> {
            Ok(result.column(name)?.f64()?.iter().collect())
        };
        let (p50, p90) = (
            float("p50_response_business_minutes")?,
            float("p90_response_business_minutes")?,
        );
        for i in 0..result.height() {
            if kind[i].as_deref() == Some("quarter") && period[i].as_deref() == Some(label) {
                if let Some(p) = &priority[i] {
                    out.insert(p.clone(), (p50[i], p90[i]));
                }
            }
        }
    }
    Ok(out)
}

/// The account's contracts in force during the previous or this quarter
/// (up to the cut), consecutive rows of one tier and region merged, each
/// with its targets in words.
pub(crate) fn contract_targets(scope: &Scope, settings: &Settings) -> Vec<ContractTargets> {
    let policy = &settings.policy;
    let mut out: Vec<ContractTargets> = Vec::new();
    let mut keys: Vec<(usize, usize)> = Vec::new();
    for c in &scope.contracts {
        let overlaps = c.from <= scope.cut && c.to.is_none_or(|to| to > scope.previous_start);
        if !overlaps {
            continue;
        }
        if let (Some(last), Some(key)) = (out.last_mut(), keys.last()) {
            if *key == (c.tier, c.region) && last.to == Some(c.from) {
                last.to = c.to;
                continue;
            }
        }
        let region = &policy.regions[c.region];
        let targets = Priority::ALL.map(|p| {
            let t = policy.target(c.tier, c.region, p);
            (
                present::target(t.minutes, t.coverage, region),
                present::coverage(t.coverage, region),
            )
        });
        keys.push((c.tier, c.region));
        out.push(ContractTargets {
            tier: policy.tiers[c.tier].clone(),
            region: region.name.clone(),
            from: c.from,
            to: c.to,
            targets,
        });
    }
    out
}

/// The four charts of the account, as of the cut: the heatmap of the
/// quarter, the trend and volume over the twelve months ending with it
/// (never before the export's first month), the response distribution of
/// the quarter.
pub(crate) fn charts(measured: &Measured, scope: &Scope, settings: &Settings) -> Charts {
    let policy = &settings.policy;
    let period = scope.quarter.label();
    let account = &*scope.account;
    let in_period: Vec<CaseRow> = measured.in_period(scope).into_iter().cloned().collect();
    let tiers: Vec<String> = policy
        .tiers
        .iter()
        .filter(|t| in_period.iter().any(|c| *c.tier == ***t))
        .cloned()
        .collect();
    let regions: Vec<String> = policy
        .regions
        .iter()
        .map(|r| r.name.clone())
        .filter(|r| in_period.iter().any(|c| *c.region == **r))
        .collect();
    let end = scope.quarter.months()[2].label();
    let first = scope.month(scope.export_first).label();
    let start = data::months_before(&end, 11)
        .expect("a valid month")
        .max(first);
    let months = data::month_range(&start, &end);
    let goal = policy.attainment_goal;
    let window = format!("{account}, {} to {end}", months.first().unwrap_or(&start));
    let (quarter, all) = (data::Tally::of(&in_period), data::Tally::of(&measured.rows));
    Charts {
        heatmap: data::heatmap(&quarter, &period, &tiers, &regions, goal, account),
        trend: data::Trend {
            highlight: data::highlight(&months, &period),
            ..data::trend(&all, &months, goal, &window)
        },
        response: data::response(&quarter, &tiers, &format!("{account}, {period}")),
        volume: data::Volume {
            highlight: data::highlight(&months, &period),
            ..data::volume(&all, &months, &window)
        },
    }
}
