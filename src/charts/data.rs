//! What each chart shows: pure functions from measured cases to plain
//! structs of points and labels. No plotters, no polars, no I/O, so the data
//! behind every chart is tested on hand-checked cases (see the tests below and
//! `tests/it/charts.rs`).
//!
//! Counting follows `sql/attainment.sql`: attainment = met / (met +
//! breached); pending and excluded cases are counted but not in the
//! denominator. A group with no cases is "no cases", never 0 %.

use std::collections::BTreeSet;

// foldhash, not std's SipHash: the tally hashes a group's address per case
// (at 10 M cases, a quarter of a second of SipHash).
use hashbrown::hash_map::Entry;
use hashbrown::HashMap;
use std::sync::Arc;

use rayon::prelude::*;

pub use crate::model::CaseRow;
use crate::model::{Outcome, Priority};

/// Outcome counts of a group of cases.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// All cases.
    pub cases: u64,
    /// Responded at or before the deadline.
    pub met: u64,
    /// Responded late, or not at all with the deadline passed.
    pub breached: u64,
    /// No response yet, deadline not passed.
    pub pending: u64,
    /// Closed with no response before the deadline.
    pub excluded: u64,
}

impl Counts {
    /// Counts the outcomes of `cases`.
    pub fn of<'a>(cases: impl IntoIterator<Item = &'a CaseRow>) -> Counts {
        let mut c = Counts::default();
        for case in cases {
            c.add(case.outcome);
        }
        c
    }

    /// Adds one case.
    pub fn add(&mut self, outcome: Outcome) {
        self.cases += 1;
        match outcome {
            Outcome::Met => self.met += 1,
            Outcome::Breached => self.breached += 1,
            Outcome::Pending => self.pending += 1,
            Outcome::Excluded => self.excluded += 1,
        }
    }

    /// Adds the counts of another group.
    pub fn merge(&mut self, other: Counts) {
        self.cases += other.cases;
        self.met += other.met;
        self.breached += other.breached;
        self.pending += other.pending;
        self.excluded += other.excluded;
    }

    /// Cases with a decided outcome: the attainment denominator.
    pub fn decided(&self) -> u64 {
        self.met + self.breached
    }

    /// met / (met + breached), `None` when nothing is decided.
    pub fn attainment(&self) -> Option<f64> {
        (self.decided() > 0).then(|| self.met as f64 / self.decided() as f64)
    }

    /// The attainment as a label (`97.5 %`), rounded *down* to a tenth so
    /// that "100.0 %" means every case met and "95.0 %" is never shown for
    /// 94.96 %; `None` when nothing is decided.
    pub fn attainment_label(&self) -> Option<String> {
        self.attainment_tenths().map(tenths_label)
    }

    /// The attainment in tenths of a percent, rounded down (`975` for
    /// 97.5 %); `None` when nothing is decided.
    pub fn attainment_tenths(&self) -> Option<u64> {
        (self.decided() > 0).then(|| self.met * 1000 / self.decided())
    }
}

fn tenths_label(tenths: u64) -> String {
    format!("{}.{} %", tenths / 10, tenths % 10)
}

/// A goal as a label (`95 %`, `97.5 %`).
pub fn goal_label(goal: f64) -> String {
    let tenths = (goal * 1000.0).round() as u64;
    if tenths.is_multiple_of(10) {
        format!("{} %", tenths / 10)
    } else {
        tenths_label(tenths)
    }
}

/// "1 case", "40 cases".
pub fn cases_label(n: u64) -> String {
    if n == 1 {
        "1 case".to_string()
    } else {
        format!("{n} cases")
    }
}

/// Points below the goal still coloured "near the goal" (amber).
pub const NEAR_GOAL: f64 = 0.10;

/// How a heatmap cell is coloured against the attainment goal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Band {
    /// Attainment at or above the goal.
    AtGoal,
    /// Below the goal by at most [`NEAR_GOAL`].
    NearGoal,
    /// Further below the goal.
    BelowGoal,
    /// Cases, but none decided yet (all pending or excluded).
    Undecided,
    /// No cases in the group.
    NoCases,
}

impl Band {
    /// The band of a group against `goal`.
    pub fn of(counts: &Counts, goal: f64) -> Band {
        // A tolerance so that 19/20 against 0.95 is at the goal.
        const EPS: f64 = 1e-9;
        match counts.attainment() {
            None if counts.cases == 0 => Band::NoCases,
            None => Band::Undecided,
            Some(a) if a + EPS >= goal => Band::AtGoal,
            Some(a) if a + EPS >= goal - NEAR_GOAL => Band::NearGoal,
            Some(_) => Band::BelowGoal,
        }
    }
}

/// One cell of the attainment heatmap.
#[derive(Debug, Clone, PartialEq)]
pub struct HeatmapCell {
    /// Row.
    pub priority: Priority,
    /// Column.
    pub region: String,
    /// Outcome counts.
    pub counts: Counts,
    /// Colour band.
    pub band: Band,
    /// Main label: the attainment, "no cases" or "n/a".
    pub label: String,
    /// Second line: the number of cases, or why there is no attainment.
    pub detail: String,
}

/// One tier of the heatmap: priority rows × region columns.
#[derive(Debug, Clone, PartialEq)]
pub struct HeatmapPanel {
    /// Tier name.
    pub tier: String,
    /// Cells, row-major: `cells[priority * regions + region]`.
    pub cells: Vec<HeatmapCell>,
}

/// Attainment heatmap: priority × region per tier, for one period.
#[derive(Debug, Clone, PartialEq)]
pub struct Heatmap {
    /// Chart title.
    pub title: String,
    /// Line under the title.
    pub subtitle: String,
    /// The period shown.
    pub period: String,
    /// Attainment goal (0–1).
    pub goal: f64,
    /// Rows.
    pub priorities: Vec<Priority>,
    /// Columns.
    pub regions: Vec<String>,
    /// One panel per tier.
    pub panels: Vec<HeatmapPanel>,
}

/// The heatmap of the cases created in `period`, one panel per tier.
pub fn heatmap(
    tally: &Tally,
    period: &str,
    tiers: &[String],
    regions: &[String],
    goal: f64,
    scope: &str,
) -> Heatmap {
    let mut groups: HashMap<(&str, &str, Priority), Counts> = HashMap::new();
    for g in tally.groups.iter().filter(|g| g.period == period) {
        groups
            .entry((g.tier, g.region, g.priority))
            .or_default()
            .merge(g.counts);
    }
    let panels = tiers
        .iter()
        .map(|tier| {
            let cells = Priority::ALL
                .iter()
                .flat_map(|&priority| regions.iter().map(move |region| (priority, region)))
                .map(|(priority, region)| {
                    let counts = groups
                        .get(&(tier.as_str(), region.as_str(), priority))
                        .copied()
                        .unwrap_or_default();
                    heatmap_cell(priority, region, counts, goal)
                })
                .collect();
            HeatmapPanel {
                tier: tier.clone(),
                cells,
            }
        })
        .collect();
    Heatmap {
        title: format!("Attainment by priority and region, {period} ({scope})"),
        subtitle: format!(
            "Goal {}. Each cell: attainment = met ÷ (met + breached), and cases created in {period}.",
            goal_label(goal)
        ),
        period: period.to_string(),
        goal,
        priorities: Priority::ALL.to_vec(),
        regions: regions.to_vec(),
        panels,
    }
}

fn heatmap_cell(priority: Priority, region: &str, counts: Counts, goal: f64) -> HeatmapCell {
    let band = Band::of(&counts, goal);
    let (label, detail) = match band {
        Band::NoCases => ("no cases".to_string(), String::new()),
        Band::Undecided => {
            let mut parts = Vec::new();
            if counts.pending > 0 {
                parts.push(format!("{} pending", counts.pending));
            }
            if counts.excluded > 0 {
                parts.push(format!("{} excluded", counts.excluded));
            }
            ("n/a".to_string(), parts.join(", "))
        }
        _ => (
            counts.attainment_label().expect("decided"),
            cases_label(counts.cases),
        ),
    };
    HeatmapCell {
        priority,
        region: region.to_string(),
        counts,
        band,
        label,
        detail,
    }
}

/// One priority's line on the trend chart.
#[derive(Debug, Clone, PartialEq)]
pub struct TrendSeries {
    /// The priority.
    pub priority: Priority,
    /// Attainment per month; `None` (a gap) when no case was decided.
    pub points: Vec<Option<f64>>,
    /// Counts per month.
    pub counts: Vec<Counts>,
}

/// Attainment per priority by month, with the goal.
#[derive(Debug, Clone, PartialEq)]
pub struct Trend {
    /// Chart title.
    pub title: String,
    /// Line under the title.
    pub subtitle: String,
    /// Attainment goal (0–1).
    pub goal: f64,
    /// The x axis, consecutive months.
    pub months: Vec<String>,
    /// One line per priority.
    pub series: Vec<TrendSeries>,
    /// Months shaded as the period under review.
    pub highlight: Option<Highlight>,
}

/// A run of months shaded on a monthly chart: the quarter under review.
#[derive(Debug, Clone, PartialEq)]
pub struct Highlight {
    /// Index of the first month.
    pub first: usize,
    /// Index of the last month.
    pub last: usize,
    /// Label (`2026-Q3`).
    pub label: String,
}

/// The months of quarter `period` within `months`, if any.
pub fn highlight(months: &[String], period: &str) -> Option<Highlight> {
    let quarter = quarter_months(period)?;
    let first = months.iter().position(|m| quarter.contains(m))?;
    let last = months.iter().rposition(|m| quarter.contains(m))?;
    Some(Highlight {
        first,
        last,
        label: period.to_string(),
    })
}

/// Attainment per priority for each of `months`.
pub fn trend(tally: &Tally, months: &[String], goal: f64, scope: &str) -> Trend {
    let mut groups: HashMap<(&str, Priority), Counts> = HashMap::new();
    for g in &tally.groups {
        groups
            .entry((g.month, g.priority))
            .or_default()
            .merge(g.counts);
    }
    let series = Priority::ALL
        .iter()
        .map(|&priority| {
            let counts: Vec<Counts> = months
                .iter()
                .map(|m| {
                    groups
                        .get(&(m.as_str(), priority))
                        .copied()
                        .unwrap_or_default()
                })
                .collect();
            TrendSeries {
                priority,
                points: counts.iter().map(Counts::attainment).collect(),
                counts,
            }
        })
        .collect();
    Trend {
        title: format!("Attainment by month and priority ({scope})"),
        subtitle: format!(
            "Attainment = met ÷ (met + breached) of the cases created each month; dashed line: goal {}.",
            goal_label(goal)
        ),
        goal,
        months: months.to_vec(),
        series,
        highlight: None,
    }
}

/// One tier's cumulative response curve in a priority panel.
#[derive(Debug, Clone, PartialEq)]
pub struct ResponseCurve {
    /// Tier name.
    pub tier: String,
    /// Distinct targets of these cases, business minutes, ascending.
    pub targets: Vec<i64>,
    /// Decided cases (met + breached): the denominator.
    pub decided: u64,
    /// Met cases (their share of `decided` is the attainment).
    pub met: u64,
    /// Decided cases with a response.
    pub answered: u64,
    /// Step points (business minutes, share of decided cases answered by
    /// then), from `(0, 0)`; a step at each distinct response time.
    pub steps: Vec<(f64, f64)>,
}

/// One priority's panel of the response distribution.
#[derive(Debug, Clone, PartialEq)]
pub struct ResponsePanel {
    /// The priority.
    pub priority: Priority,
    /// Right end of the x axis: twice the largest target (0 when empty).
    pub x_max: f64,
    /// One curve per tier with decided cases.
    pub curves: Vec<ResponseCurve>,
}

/// Per priority, the share of cases answered by x business minutes.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    /// Chart title.
    pub title: String,
    /// Line under the title.
    pub subtitle: String,
    /// P1 … P4.
    pub panels: Vec<ResponsePanel>,
}

/// The response distribution of the tallied cases, a curve per tier in
/// `tiers`.
pub fn response(tally: &Tally, tiers: &[String], scope: &str) -> Response {
    let mut groups: HashMap<(&str, Priority), Vec<&[&CaseRow]>> = HashMap::new();
    for g in tally.groups.iter().filter(|g| !g.decided.is_empty()) {
        groups
            .entry((g.tier, g.priority))
            .or_default()
            .push(&g.decided);
    }
    // The curves side by side: at 10 M cases each sorts millions of times.
    let panels = Priority::ALL
        .par_iter()
        .map(|&priority| {
            let curves: Vec<ResponseCurve> = tiers
                .par_iter()
                .filter_map(|tier| {
                    let group = groups.get(&(tier.as_str(), priority))?;
                    Some(response_curve(tier, group))
                })
                .collect();
            let x_max = 2.0
                * curves
                    .iter()
                    .flat_map(|c| c.targets.iter())
                    .copied()
                    .max()
                    .unwrap_or(0) as f64;
            ResponsePanel {
                priority,
                x_max,
                curves,
            }
        })
        .collect();
    Response {
        title: format!("Time to first response by priority ({scope})"),
        subtitle: "Share of decided cases (met + breached) answered within x business minutes. \
                   Dashed: the target; the curve's height there is the attainment."
            .to_string(),
        panels,
    }
}

/// The curve of the decided cases in `parts` (taken together).
fn response_curve(tier: &str, parts: &[&[&CaseRow]]) -> ResponseCurve {
    let group = || parts.iter().flat_map(|part| part.iter());
    let targets: BTreeSet<i64> = group().map(|c| c.target_minutes).collect();
    let mut times: Vec<f64> = group().filter_map(|c| c.response_minutes).collect();
    // Equal under `total_cmp` is the same bits: any sort gives one order.
    times.par_sort_unstable_by(f64::total_cmp);
    let decided = group().count() as u64;
    let mut steps = vec![(0.0, 0.0)];
    for (i, &t) in times.iter().enumerate() {
        let share = (i + 1) as f64 / decided as f64;
        match steps.last_mut() {
            Some(last) if last.0 == t => last.1 = share,
            _ => steps.push((t, share)),
        }
    }
    // A curve of millions of steps draws the same as one of a few thousand.
    const MAX_STEPS: usize = 2000;
    if steps.len() > MAX_STEPS + 1 {
        let last = *steps.last().expect("non-empty");
        let stride = steps.len().div_ceil(MAX_STEPS);
        steps = steps.into_iter().step_by(stride).collect();
        if steps.last() != Some(&last) {
            steps.push(last);
        }
    }
    let met = group().filter(|c| c.outcome == Outcome::Met).count() as u64;
    ResponseCurve {
        tier: tier.to_string(),
        targets: targets.into_iter().collect(),
        decided,
        met,
        answered: times.len() as u64,
        steps,
    }
}

/// Cases created per month by priority.
#[derive(Debug, Clone, PartialEq)]
pub struct Volume {
    /// Chart title.
    pub title: String,
    /// Line under the title.
    pub subtitle: String,
    /// The x axis, consecutive months.
    pub months: Vec<String>,
    /// Cases per month, `[P1, P2, P3, P4]`.
    pub counts: Vec<[u64; 4]>,
    /// Months shaded as the period under review.
    pub highlight: Option<Highlight>,
}

/// Cases created in each of `months`, by priority.
pub fn volume(tally: &Tally, months: &[String], scope: &str) -> Volume {
    let mut by_month: HashMap<&str, [u64; 4]> = HashMap::new();
    for g in &tally.groups {
        by_month.entry(g.month).or_default()[g.priority.index()] += g.counts.cases;
    }
    let counts = months
        .iter()
        .map(|m| by_month.get(m.as_str()).copied().unwrap_or_default())
        .collect();
    Volume {
        title: format!("Cases created per month by priority ({scope})"),
        subtitle: "All outcomes (met, breached, pending, excluded), under the priority each case is reported in."
            .to_string(),
        months: months.to_vec(),
        counts,
        highlight: None,
    }
}

/// Parses `YYYY-MM`.
fn parse_month(m: &str) -> Option<(i32, u32)> {
    let (y, mm) = m.split_once('-')?;
    if y.len() != 4 || mm.len() != 2 {
        return None;
    }
    let (y, mm): (i32, u32) = (y.parse().ok()?, mm.parse().ok()?);
    (1..=12).contains(&mm).then_some((y, mm))
}

/// Parses a quarter `YYYY-Qn` into (year, quarter 1–4).
pub fn parse_quarter(period: &str) -> Option<(i32, u32)> {
    let (y, q) = period.split_once("-Q")?;
    if y.len() != 4 || q.len() != 1 {
        return None;
    }
    let (y, q): (i32, u32) = (y.parse().ok()?, q.parse().ok()?);
    (1..=4).contains(&q).then_some((y, q))
}

/// The quarter before `period` (`2026-Q1` → `2025-Q4`).
pub fn previous_quarter(period: &str) -> Option<String> {
    let (y, q) = parse_quarter(period)?;
    Some(if q == 1 {
        format!("{}-Q4", y - 1)
    } else {
        format!("{y}-Q{}", q - 1)
    })
}

/// The three months of a quarter.
pub fn quarter_months(period: &str) -> Option<[String; 3]> {
    let (y, q) = parse_quarter(period)?;
    let first = (q - 1) * 3 + 1;
    Some([0, 1, 2].map(|i| format!("{y}-{:02}", first + i)))
}

/// Every month from `first` to `last` inclusive (`YYYY-MM`); empty when
/// `first` is after `last` or either is malformed.
pub fn month_range(first: &str, last: &str) -> Vec<String> {
    let (Some(a), Some(b)) = (parse_month(first), parse_month(last)) else {
        return Vec::new();
    };
    let index = |(y, m): (i32, u32)| i64::from(y) * 12 + i64::from(m) - 1;
    (index(a)..=index(b))
        .map(|i| format!("{}-{:02}", i.div_euclid(12), i.rem_euclid(12) + 1))
        .collect()
}

/// The month `n` months before `month` (`YYYY-MM`).
pub fn months_before(month: &str, n: u32) -> Option<String> {
    let (y, m) = parse_month(month)?;
    let i = i64::from(y) * 12 + i64::from(m) - 1 - i64::from(n);
    Some(format!("{}-{:02}", i.div_euclid(12), i.rem_euclid(12) + 1))
}

/// What the charts count of some cases, gathered in one pass: outcome
/// counts, and the decided cases, per quarter, month, tier, region and
/// priority of creation.
///
/// A report holds millions of cases and four charts read them: the pass is
/// made side by side, a row's group found by the addresses of its shared
/// texts (month labels, tier, region), and the groups then merged by text,
/// so that equal texts at different addresses are one group.
#[derive(Debug, Default)]
pub struct Tally<'a> {
    /// Sorted by their texts and priority.
    groups: Vec<Group<'a>>,
}

/// The cases of one month, tier, region and priority.
#[derive(Debug)]
struct Group<'a> {
    period: &'a str,
    month: &'a str,
    tier: &'a str,
    region: &'a str,
    priority: Priority,
    counts: Counts,
    /// The met and breached cases, for the response curves.
    decided: Vec<&'a CaseRow>,
}

impl<'a> Group<'a> {
    fn of(c: &'a CaseRow) -> Group<'a> {
        Group {
            period: c.period(),
            month: c.month(),
            tier: &c.tier,
            region: &c.region,
            priority: c.priority,
            counts: Counts::default(),
            decided: Vec::new(),
        }
    }

    fn add(&mut self, c: &'a CaseRow) {
        self.counts.add(c.outcome);
        if matches!(c.outcome, Outcome::Met | Outcome::Breached) {
            self.decided.push(c);
        }
    }

    fn merge(&mut self, other: Group<'a>) {
        self.counts.merge(other.counts);
        self.decided.extend(other.decided);
    }
}

impl<'a> Tally<'a> {
    /// Counts `cases`.
    pub fn of(cases: &'a [CaseRow]) -> Tally<'a> {
        type Address = (usize, usize, usize, Priority);
        let address = |c: &CaseRow| -> Address {
            (
                Arc::as_ptr(&c.labels) as usize,
                Arc::as_ptr(&c.tier) as *const u8 as usize,
                Arc::as_ptr(&c.region) as *const u8 as usize,
                c.priority,
            )
        };
        fn merge_into<'a, K: Eq + std::hash::Hash>(
            map: &mut HashMap<K, Group<'a>>,
            key: K,
            group: Group<'a>,
        ) {
            match map.entry(key) {
                Entry::Occupied(mut e) => e.get_mut().merge(group),
                Entry::Vacant(e) => {
                    e.insert(group);
                }
            }
        }
        let by_address = cases
            .par_chunks(1 << 14)
            .fold(HashMap::<Address, Group>::new, |mut map, chunk| {
                for c in chunk {
                    map.entry(address(c)).or_insert_with(|| Group::of(c)).add(c);
                }
                map
            })
            .reduce(HashMap::new, |mut a, b| {
                for (key, group) in b {
                    merge_into(&mut a, key, group);
                }
                a
            });
        let mut by_text = HashMap::new();
        for group in by_address.into_values() {
            let key = (
                group.period,
                group.month,
                group.tier,
                group.region,
                group.priority,
            );
            merge_into(&mut by_text, key, group);
        }
        let mut groups: Vec<Group> = by_text.into_values().collect();
        groups.sort_by_key(|g| (g.period, g.month, g.tier, g.region, g.priority));
        Tally { groups }
    }

    /// The latest quarter with cases.
    pub fn latest_period(&self) -> Option<String> {
        self.groups
            .iter()
            .map(|g| g.period)
            .max()
            .map(str::to_string)
    }

    /// The first and last months with cases.
    pub fn month_span(&self) -> Option<(String, String)> {
        let first = self.groups.iter().map(|g| g.month).min()?;
        let last = self.groups.iter().map(|g| g.month).max()?;
        Some((first.to_string(), last.to_string()))
    }
}

/// Breached and still-pending cases created in `period`, by creation.
pub fn open_issues<'a>(cases: &'a [CaseRow], period: &str) -> Vec<&'a CaseRow> {
    let mut v: Vec<&CaseRow> = cases
        .iter()
        .filter(|c| {
            c.period() == period && matches!(c.outcome, Outcome::Breached | Outcome::Pending)
        })
        .collect();
    v.sort_by(|a, b| (a.created_at, &a.case_id).cmp(&(b.created_at, &b.case_id)));
    v
}

/// One row of the quarter-on-quarter comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct ComparisonRow {
    /// `P1` … `P4`, or `all`.
    pub label: String,
    /// The previous quarter.
    pub previous: Counts,
    /// The period under review.
    pub current: Counts,
}

impl ComparisonRow {
    /// Change in attainment between the labels shown, as a label
    /// (`+2.1 points`); `None` unless both quarters have decided cases.
    pub fn change_label(&self) -> Option<String> {
        let d =
            self.current.attainment_tenths()? as i64 - self.previous.attainment_tenths()? as i64;
        let sign = match d {
            0 => "±",
            d if d > 0 => "+",
            _ => "−",
        };
        Some(format!("{sign}{}.{} points", d.abs() / 10, d.abs() % 10))
    }
}

/// Attainment in `period` against the quarter before, per priority and all.
pub fn comparison(cases: &[CaseRow], period: &str) -> (String, Vec<ComparisonRow>) {
    let previous = previous_quarter(period).unwrap_or_default();
    let counts = |p: &str, priority: Option<Priority>| {
        Counts::of(
            cases
                .iter()
                .filter(|c| c.period() == p && priority.is_none_or(|pr| c.priority == pr)),
        )
    };
    let mut rows: Vec<ComparisonRow> = Priority::ALL
        .iter()
        .map(|&pr| ComparisonRow {
            label: pr.as_str().to_string(),
            previous: counts(&previous, Some(pr)),
            current: counts(period, Some(pr)),
        })
        .collect();
    rows.push(ComparisonRow {
        label: "all".into(),
        previous: counts(&previous, None),
        current: counts(period, None),
    });
    (previous, rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn case(
        id: &str,
        tier: &str,
        region: &str,
        priority: Priority,
        month: &str,
        outcome: Outcome,
    ) -> CaseRow {
        let (y, m) = parse_month(month).unwrap();
        CaseRow {
            case_id: id.into(),
            account_id: "A".into(),
            tier: tier.into(),
            region: region.into(),
            product: None,
            priority,
            initial_priority: priority,
            priority_changes: 0,
            created_at: 0,
            clock_start: 0,
            coverage: crate::calendar::Coverage::Always,
            deadline: 0,
            first_response_at: None,
            response_minutes: None,
            target_minutes: 60,
            outcome,
            breach_minutes: None,
            labels: std::sync::Arc::new(crate::model::PeriodLabels {
                period: format!("{y}-Q{}", (m - 1) / 3 + 1).into(),
                month: month.into(),
            }),
            reason: match outcome {
                Outcome::Met => crate::model::Reason::AnsweredInTime,
                Outcome::Breached => crate::model::Reason::AnsweredLate,
                Outcome::Pending => crate::model::Reason::OpenBeforeDeadline,
                Outcome::Excluded => crate::model::Reason::ClosedBeforeDeadlineUnanswered,
            },
        }
    }

    /// The one-pass tally, across several parallel chunks and with equal
    /// texts at different addresses, counts what filtering the cases does.
    #[test]
    fn charts_of_many_cases_count_what_filtering_them_counts() {
        use Outcome::*;
        let shared: Vec<CaseRow> = (0..6)
            .map(|k| {
                let tier = ["Elite", "Online"][k % 2];
                let month = ["2026-05", "2026-06", "2026-07"][k % 3];
                case("s", tier, "EMEA", Priority::P1, month, Met)
            })
            .collect();
        // 40,000 cases (a few parallel chunks): half share their texts'
        // addresses with one of `shared`, half have their own.
        let cases: Vec<CaseRow> = (0..40_000usize)
            .map(|i| {
                let outcome = [Met, Breached, Pending, Excluded, Met][i % 5];
                let priority = Priority::ALL[(i / 5) % 4];
                let mut c = if i % 2 == 0 {
                    CaseRow {
                        priority,
                        outcome,
                        ..shared[(i / 20) % 6].clone()
                    }
                } else {
                    let tier = ["Elite", "Online"][(i / 20) % 2];
                    let month = ["2026-05", "2026-06", "2026-07"][(i / 20) % 3];
                    let region = ["EMEA", "Japan"][(i / 7) % 2];
                    case("o", tier, region, priority, month, outcome)
                };
                c.response_minutes = (outcome == Met || i % 3 == 0).then_some((i % 97) as f64);
                c.target_minutes = 30 + (i % 2) as i64 * 30;
                c
            })
            .collect();
        let naive = |keep: &dyn Fn(&CaseRow) -> bool| Counts::of(cases.iter().filter(|c| keep(c)));
        let tally = Tally::of(&cases);
        assert_eq!(tally.latest_period().as_deref(), Some("2026-Q3"));
        assert_eq!(
            tally.month_span(),
            Some(("2026-05".to_string(), "2026-07".to_string()))
        );

        let tiers = ["Elite".to_string(), "Online".to_string()];
        let regions = ["EMEA".to_string(), "Japan".to_string()];
        let h = heatmap(&tally, "2026-Q2", &tiers, &regions, 0.9, "test");
        for (panel, tier) in h.panels.iter().zip(&tiers) {
            for cell in &panel.cells {
                let want = naive(&|c| {
                    c.period() == "2026-Q2"
                        && *c.tier == **tier
                        && *c.region == *cell.region
                        && c.priority == cell.priority
                });
                assert_eq!(
                    cell.counts, want,
                    "{tier} {} {}",
                    cell.region, cell.priority
                );
            }
        }
        let months = month_range("2026-05", "2026-07");
        let t = trend(&tally, &months, 0.9, "test");
        let v = volume(&tally, &months, "test");
        for (s, &priority) in t.series.iter().zip(&Priority::ALL) {
            for (m, month) in months.iter().enumerate() {
                let want = naive(&|c| c.month() == month && c.priority == priority);
                assert_eq!(s.counts[m], want, "{month} {priority}");
                assert_eq!(
                    v.counts[m][priority.index()],
                    want.cases,
                    "{month} {priority}"
                );
            }
        }
        let r = response(&tally, &tiers, "test");
        for (panel, &priority) in r.panels.iter().zip(&Priority::ALL) {
            for curve in &panel.curves {
                let group: Vec<&CaseRow> = cases
                    .iter()
                    .filter(|c| *c.tier == *curve.tier && c.priority == priority)
                    .filter(|c| matches!(c.outcome, Met | Breached))
                    .collect();
                assert_eq!(
                    *curve,
                    response_curve(&curve.tier, &[&group[..]]),
                    "{priority}"
                );
            }
            assert_eq!(panel.curves.len(), 2, "{priority}");
        }
    }

    #[test]
    fn attainment_label_rounds_down_so_the_goal_is_never_shown_when_missed() {
        let c = |met, breached| Counts {
            cases: met + breached,
            met,
            breached,
            ..Counts::default()
        };
        assert_eq!(c(1899, 101).attainment_label().unwrap(), "94.9 %"); // 94.95 %
        assert_eq!(c(19, 1).attainment_label().unwrap(), "95.0 %");
        assert_eq!(c(9999, 1).attainment_label().unwrap(), "99.9 %");
        assert_eq!(c(2, 1).attainment_label().unwrap(), "66.6 %");
        assert_eq!(c(0, 3).attainment_label().unwrap(), "0.0 %");
        assert_eq!(c(0, 0).attainment_label(), None);
    }

    #[test]
    fn bands_against_the_goal() {
        let c = |met, breached, pending| Counts {
            cases: met + breached + pending,
            met,
            breached,
            pending,
            excluded: 0,
        };
        assert_eq!(Band::of(&c(19, 1, 0), 0.95), Band::AtGoal);
        assert_eq!(Band::of(&c(18, 2, 0), 0.95), Band::NearGoal);
        assert_eq!(Band::of(&c(17, 3, 0), 0.95), Band::NearGoal); // 85 %: exactly 10 points below
        assert_eq!(Band::of(&c(16, 4, 0), 0.95), Band::BelowGoal);
        assert_eq!(Band::of(&c(0, 0, 2), 0.95), Band::Undecided);
        assert_eq!(Band::of(&c(0, 0, 0), 0.95), Band::NoCases);
    }

    #[test]
    fn goal_labels() {
        assert_eq!(goal_label(0.95), "95 %");
        assert_eq!(goal_label(0.975), "97.5 %");
        assert_eq!(goal_label(1.0), "100 %");
    }

    #[test]
    fn empty_cells_say_no_cases_and_undecided_cells_say_why() {
        use Outcome::*;
        let cases = vec![
            case("a", "Elite", "EMEA", Priority::P1, "2026-07", Met),
            case("b", "Elite", "EMEA", Priority::P1, "2026-08", Breached),
            case("c", "Elite", "EMEA", Priority::P2, "2026-08", Pending),
            case("d", "Elite", "EMEA", Priority::P2, "2026-09", Excluded),
            case("e", "Elite", "EMEA", Priority::P3, "2026-06", Met), // another quarter
        ];
        let h = heatmap(
            &Tally::of(&cases),
            "2026-Q3",
            &["Elite".into()],
            &["EMEA".into(), "Japan".into()],
            0.95,
            "test",
        );
        let cells: Vec<(&str, &str, &str, Band)> = h.panels[0]
            .cells
            .iter()
            .map(|c| (&*c.region, c.label.as_str(), c.detail.as_str(), c.band))
            .collect();
        assert_eq!(
            cells,
            vec![
                ("EMEA", "50.0 %", "2 cases", Band::BelowGoal),
                ("Japan", "no cases", "", Band::NoCases),
                ("EMEA", "n/a", "1 pending, 1 excluded", Band::Undecided),
                ("Japan", "no cases", "", Band::NoCases),
                ("EMEA", "no cases", "", Band::NoCases),
                ("Japan", "no cases", "", Band::NoCases),
                ("EMEA", "no cases", "", Band::NoCases),
                ("Japan", "no cases", "", Band::NoCases),
            ]
        );
    }

    #[test]
    fn month_arithmetic_crosses_years() {
        assert_eq!(
            month_range("2025-11", "2026-02"),
            ["2025-11", "2025-12", "2026-01", "2026-02"]
        );
        assert!(month_range("2026-03", "2026-02").is_empty());
        assert_eq!(months_before("2026-03", 11).unwrap(), "2025-04");
        assert_eq!(previous_quarter("2026-Q1").unwrap(), "2025-Q4");
        assert_eq!(previous_quarter("2026-Q3").unwrap(), "2026-Q2");
        assert_eq!(
            quarter_months("2026-Q3").unwrap(),
            ["2026-07", "2026-08", "2026-09"]
        );
        let months = month_range("2026-01", "2026-08");
        assert_eq!(
            highlight(&months, "2026-Q3").map(|h| (h.first, h.last)),
            Some((6, 7))
        );
        assert_eq!(highlight(&months, "2026-Q4"), None);
        assert_eq!(parse_quarter("2026-Q5"), None);
        assert_eq!(parse_quarter("2026-07"), None);
        assert_eq!(parse_quarter("26-Q1"), None);
    }

    #[test]
    fn response_steps_share_ties_and_count_unanswered_breaches() {
        use Outcome::*;
        let mut cases = vec![
            case("a", "Elite", "EMEA", Priority::P1, "2026-07", Met),
            case("b", "Elite", "EMEA", Priority::P1, "2026-07", Met),
            case("c", "Elite", "EMEA", Priority::P1, "2026-07", Breached),
            case("d", "Elite", "EMEA", Priority::P1, "2026-07", Breached), // never answered
            case("e", "Elite", "EMEA", Priority::P1, "2026-07", Pending),  // not decided
        ];
        for (c, m) in cases
            .iter_mut()
            .zip([Some(5.0), Some(5.0), Some(20.0), None, None])
        {
            c.response_minutes = m;
            c.target_minutes = 15;
        }
        // Online's only P2 case is pending: no curve for it either.
        cases.push(case(
            "f",
            "Online",
            "EMEA",
            Priority::P2,
            "2026-07",
            Pending,
        ));
        let r = response(
            &Tally::of(&cases),
            &["Elite".into(), "Online".into()],
            "test",
        );
        let p1 = &r.panels[0];
        assert_eq!(p1.x_max, 30.0);
        assert_eq!(p1.curves.len(), 1, "Online has no P1 cases: no curve");
        let c = &p1.curves[0];
        assert_eq!(
            (c.decided, c.met, c.answered, c.targets.clone()),
            (4, 2, 3, vec![15])
        );
        assert_eq!(c.steps, vec![(0.0, 0.0), (5.0, 0.5), (20.0, 0.75)]);
        assert!(r.panels[1].curves.is_empty());
        assert_eq!(r.panels[1].x_max, 0.0);
    }
}
