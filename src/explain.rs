//! `slt explain`: one case's clock, step by step, as a library.
//!
//! The case is measured by [`measure_case_traced`] — the very code that
//! fills `case_slt` — with a tracer that records what it saw: the clock at
//! creation, every priority change (took effect, or why not), every event
//! and whether it stopped the clock. This module only puts those facts in
//! order and in words: the contract in force, the target, the coverage
//! windows counted (on the region's wall clock), the deadline, the events
//! that did not count and why, the first response, the outcome and the
//! [`Reason`] with one sentence saying why. So `explain` and `case_slt`
//! cannot disagree: the fields of an [`Explanation`] are the case's
//! `case_slt` row ([`crate::pipeline::RowNames`]).
//!
//! Only the one case is measured: the export is read and judged (which
//! fixes the as-of instant and the contract in force), then its events are
//! picked out. On a million cases that is the read and validate stages
//! plus microseconds.

use chrono_tz::Tz;
use serde_json::{json, Map, Value};

use crate::calendar::{Calendar, CalendarError, Coverage};
use crate::config::Settings;
use crate::ingest::RejectReason;
use crate::measure::{measure_case_traced, Clock, Effect, Ended, Trace, Verdict};
use crate::model::{CaseRow, Event, EventKind, Outcome, Priority, Reason, Table};
use crate::pipeline::{Judged, RowNames};
use crate::policy::{Calendars, PriorityChangeRule, Region};
use crate::present;
use crate::timestamp::{format_rfc3339, Instant};
use crate::{Error, Result};

/// Coverage windows listed in full; beyond, the first and last halves and
/// one step counting the rest.
const MAX_WINDOWS: usize = 24;

/// One step of a case's clock.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// When it happened.
    pub at: Instant,
    /// What it is: `contract`, `created`, `clock_start`, `priority_change`,
    /// `event_not_counted`, `coverage_window`, `coverage_windows_omitted`,
    /// `first_response`, `closed`, `deadline_passed`, `as_of`, `outcome`.
    pub kind: &'static str,
    /// The step in a sentence, times on the region's wall clock.
    pub text: String,
    /// Facts of the step by name (JSON values), beside `at` and `kind`.
    pub fields: Map<String, Value>,
}

/// One case explained.
#[derive(Debug, Clone)]
pub struct Explanation {
    /// The case's `case_slt` row.
    pub row: CaseRow,
    /// The zone of the case's region: every time in [`Step::text`] is on its clock.
    pub zone: Tz,
    /// The as-of instant.
    pub as_of: Instant,
    /// The steps, in time order.
    pub steps: Vec<Step>,
    /// Why the case has its outcome, in one sentence.
    pub sentence: String,
}

/// What the measurement told the tracer.
#[derive(Debug, Default)]
struct Recorder {
    start: Option<Clock>,
    events: Vec<(Event, Verdict)>,
    changes: Vec<(Event, Priority, Effect, Clock)>,
}

impl Trace for Recorder {
    const ON: bool = true;
    fn start(&mut self, clock: &Clock) {
        self.start = Some(*clock);
    }
    fn event(&mut self, event: &Event, verdict: Verdict) {
        self.events.push((*event, verdict));
    }
    fn change(&mut self, event: &Event, from: Priority, effect: Effect, clock: &Clock) {
        self.changes.push((*event, from, effect, *clock));
    }
}

/// Explains cases of one judged export: the calendars are built once (for
/// the years `slt report` builds them for), then each case is measured
/// alone.
#[derive(Debug)]
pub struct Explainer<'a> {
    judged: &'a Judged,
    settings: &'a Settings,
    calendars: Calendars,
}

/// Explains case `case_id` of a judged export (see [`Explainer::explain`]).
pub fn explain(judged: &Judged, settings: &Settings, case_id: &str) -> Result<Explanation> {
    Explainer::new(judged, settings).explain(case_id)
}

impl<'a> Explainer<'a> {
    /// An explainer of the cases of `judged`, measured with `settings`.
    pub fn new(judged: &'a Judged, settings: &'a Settings) -> Self {
        Explainer {
            calendars: judged.calendars(settings),
            judged,
            settings,
        }
    }

    /// Explains case `case_id`. An id the export does not have, or a case
    /// slt rejected or cannot measure, is an [`Error::Input`] (exit 3) in
    /// one line, with near matches for an unknown id.
    pub fn explain(&self, case_id: &str) -> Result<Explanation> {
        let (judged, settings) = (self.judged, self.settings);
        let ingested = &judged.ingested;
        let policy = &settings.policy;
        let wanted = case_id.trim();
        let Some(index) = ingested.cases.iter().position(|c| *c.id == *wanted) else {
            return Err(not_found(judged, case_id));
        };
        let case = &ingested.cases[index];
        let mut events: Vec<Event> = ingested
            .events
            .iter()
            .filter(|e| e.case() as usize == index)
            .copied()
            .collect();
        events.sort_by_key(|e| (e.at, e.row));
        let mut recorder = Recorder::default();
        let measured = measure_case_traced(
            case,
            &events,
            policy,
            &self.calendars,
            judged.as_of,
            &mut recorder,
        )
        .map_err(|e| unmeasurable(judged, case_id, &e))?;
        let row = RowNames::new(policy).case_row(case, &measured);
        let region = &policy.regions[usize::from(case.region)];
        let facts = Facts {
            row: &row,
            region,
            region_index: usize::from(case.region),
            zone: region.zone,
            as_of: judged.as_of,
            closed: case.closed_at.filter(|&c| c <= judged.as_of),
            calendars: &self.calendars,
            settings,
        };
        let contract = ingested
            .contracts
            .in_force(&case.account, case.created_at)
            .ok()
            .map(|(_, c)| (c.from, c.to));
        let mut steps = facts.opening(&policy.tiers[usize::from(case.tier)], contract, &recorder);
        steps.extend(facts.changes(&recorder));
        steps.extend(facts.events(&recorder));
        steps.extend(facts.windows()?);
        let sentence = sentence(&row, region, facts.zone, facts.closed, judged.as_of);
        steps.extend(facts.ending(&sentence));
        steps.sort_by_key(|s| (s.at, rank(s.kind)));
        Ok(Explanation {
            zone: facts.zone,
            row,
            as_of: judged.as_of,
            steps,
            sentence,
        })
    }
}

/// Order of steps at the same instant.
fn rank(kind: &str) -> u8 {
    match kind {
        "contract" => 0,
        "created" => 1,
        "clock_start" => 2,
        "priority_change" | "event_not_counted" => 3,
        "coverage_window" | "coverage_windows_omitted" => 4,
        "first_response" => 5,
        "closed" => 6,
        "deadline_passed" => 7,
        "as_of" => 8,
        _ => 9,
    }
}

/// Why there is no such case: rejected (with the row and reason), or not in
/// the export (with near matches).
fn not_found(judged: &Judged, case_id: &str) -> Error {
    let ingested = &judged.ingested;
    let path = ingested
        .file(Table::Cases)
        .map_or_else(|| "cases".into(), |f| f.path.clone().into());
    let rejected = ingested
        .rejects
        .rows()
        .iter()
        .filter(|r| r.table == Table::Cases && r.key.map(str::trim) == Some(case_id.trim()))
        .min_by_key(|r| r.row_number);
    let reason = match rejected {
        Some(r) => format!(
            "case `{case_id}` was rejected, so it has no clock: row {}{}: {} (see rejects.parquet of `slt report`)",
            r.row_number,
            if r.column.is_empty() { String::new() } else { format!(", column `{}`", r.column) },
            r.reason.phrase()
        ),
        None => format!(
            "no case `{case_id}` in the export{}",
            crate::suggest::did_you_mean(case_id, ingested.cases.iter().map(|c| &*c.id))
        ),
    };
    Error::Input { path, reason }
}

/// A case the calendars cannot measure (`slt report` rejects it as
/// `outside_calendar`).
fn unmeasurable(judged: &Judged, case_id: &str, e: &CalendarError) -> Error {
    let path = judged
        .ingested
        .file(Table::Cases)
        .map_or_else(|| "cases".into(), |f| f.path.clone().into());
    Error::Input {
        path,
        reason: format!(
            "case `{case_id}` cannot be measured ({e}); `slt report` rejects it: {}",
            RejectReason::OutsideCalendar.phrase()
        ),
    }
}

/// What every step is built from.
struct Facts<'a> {
    row: &'a CaseRow,
    region: &'a Region,
    region_index: usize,
    zone: Tz,
    as_of: Instant,
    /// The closure, if it happened by the as-of instant.
    closed: Option<Instant>,
    calendars: &'a Calendars,
    settings: &'a Settings,
}

fn step(at: Instant, kind: &'static str, text: String, fields: Value) -> Step {
    let fields = match fields {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    Step {
        at,
        kind,
        text,
        fields,
    }
}

fn rfc(t: Instant) -> Value {
    Value::String(format_rfc3339(t))
}

impl Facts<'_> {
    fn local(&self, t: Instant) -> String {
        present::local(t, self.zone)
    }

    /// The calendar of `coverage` in the case's region, and whether it
    /// counts every instant (no table to ask about windows).
    fn calendar(&self, coverage: Coverage) -> (&Calendar, bool) {
        let always = self
            .settings
            .policy
            .window(self.region_index, coverage, &self.settings.holidays)
            .is_none();
        (self.calendars.get(self.region_index, coverage), always)
    }

    fn target_words(&self, minutes: u32, coverage: Coverage) -> String {
        format!(
            "{}, counted {}",
            present::target(minutes, coverage, self.region),
            present::coverage(coverage, self.region)
        )
    }

    /// When the measurement ended: the first response, the closure, the
    /// deadline passing unanswered, or the as-of instant.
    fn end(&self) -> Instant {
        let r = self.row;
        match r.reason {
            Reason::AnsweredInTime | Reason::AnsweredLate => r.first_response_at.expect("answered"),
            Reason::ClosedBeforeDeadlineUnanswered => self.closed.expect("closed"),
            Reason::ClosedAfterDeadlineUnanswered | Reason::UnansweredPastDeadline => r.deadline,
            Reason::OpenBeforeDeadline => self.as_of,
        }
    }

    /// The contract, the creation, the first clock start and deadline.
    fn opening(
        &self,
        tier: &str,
        contract: Option<(Instant, Option<Instant>)>,
        rec: &Recorder,
    ) -> Vec<Step> {
        let r = self.row;
        let start = rec.start.expect("the measurement starts");
        let mut steps = Vec::new();
        let bounds = match contract {
            Some((from, Some(to))) => {
                format!(", in force from {} to {}", self.local(from), self.local(to))
            }
            Some((from, None)) => format!(", in force from {}, open-ended", self.local(from)),
            None => String::new(),
        };
        steps.push(step(
            r.created_at,
            "contract",
            format!(
                "Contract in force at creation: {tier}, {} region, whose clock is {}{bounds}.",
                r.region,
                self.zone.name()
            ),
            json!({
                "tier": tier,
                "region": &*r.region,
                "time_zone": self.zone.name(),
                "valid_from": contract.map(|c| rfc(c.0)),
                "valid_to": contract.and_then(|c| c.1.map(rfc)),
            }),
        ));
        steps.push(step(
            r.created_at,
            "created",
            format!(
                "Created at {} as {}: the {tier} {} target is {}.",
                self.local(r.created_at),
                r.initial_priority,
                r.initial_priority,
                self.target_words(start.target.minutes, start.target.coverage)
            ),
            json!({
                "priority": r.initial_priority.as_str(),
                "coverage": start.target.coverage.as_str(),
                "target_minutes": start.target.minutes,
            }),
        ));
        steps.push(self.clock_step(&start, "clock_start", String::new()));
        steps
    }

    /// The clock starting (or restarting) with `clock`, and its deadline.
    fn clock_step(&self, clock: &Clock, kind: &'static str, lead: String) -> Step {
        let t = clock.clock_start;
        let (calendar, always) = self.calendar(clock.target.coverage);
        let counting = if !always && !calendar.is_open(t) {
            match calendar.deadline(t, 1) {
                Ok(next) => format!(
                    "; that is outside coverage, so counting starts at the next opening, {}",
                    self.local(next - 1)
                ),
                Err(_) => String::new(),
            }
        } else {
            String::new()
        };
        step(
            t,
            kind,
            format!(
                "{lead}Clock starts at {}{counting}. Deadline: {} ({}), when {} counted {} run out.",
                self.local(t),
                self.local(clock.deadline),
                format_rfc3339(clock.deadline),
                present::target(clock.target.minutes, clock.target.coverage, self.region),
                present::coverage(clock.target.coverage, self.region)
            ),
            json!({
                "priority": clock.priority.as_str(),
                "clock_start": rfc(t),
                "coverage": clock.target.coverage.as_str(),
                "target_minutes": clock.target.minutes,
                "deadline": rfc(clock.deadline),
            }),
        )
    }

    /// Every priority change: took effect (with the new clock), or why not.
    fn changes(&self, rec: &Recorder) -> Vec<Step> {
        let restart = self.settings.policy.priority_change == PriorityChangeRule::Restart;
        rec.changes
            .iter()
            .map(|(e, from, effect, clock)| {
                let to = e.priority().expect("validated priority change");
                let (took, why, text) = match effect {
                    Effect::TookEffect => {
                        let rule = if restart {
                            "the clock restarts (rule `restart`)"
                        } else {
                            "the clock stays at creation, the new target swapped in (rule `from_creation`)"
                        };
                        let mut s = self.clock_step(clock, "priority_change", format!(
                            "Priority changed from {from} to {to} at {}: it took effect; {rule}; target {}. ",
                            self.local(e.at),
                            self.target_words(clock.target.minutes, clock.target.coverage)
                        ));
                        s.at = e.at;
                        s.fields.insert("from".into(), json!(from.as_str()));
                        s.fields.insert("to".into(), json!(to.as_str()));
                        s.fields.insert("took_effect".into(), json!(true));
                        return s;
                    }
                    Effect::SamePriority => (
                        false,
                        "same_priority",
                        "it is the priority already in force, so nothing changes".to_string(),
                    ),
                    Effect::Ended(end) => (false, ended_code(*end), ended_words(*end, self, clock)),
                };
                step(
                    e.at,
                    "priority_change",
                    format!(
                        "Priority change from {from} to {to} at {} did not take effect: {text}.",
                        self.local(e.at)
                    ),
                    json!({ "from": from.as_str(), "to": to.as_str(), "took_effect": took, "why": why }),
                )
            })
            .collect()
    }

    /// Events that did not stop the clock: before the end of the
    /// measurement, and every agent response that came too late to count.
    fn events(&self, rec: &Recorder) -> Vec<Step> {
        let end = self.end();
        rec.events
            .iter()
            .filter(|(e, v)| match v {
                Verdict::Counts => false,
                Verdict::NotAResponse => e.at <= end,
                Verdict::AfterAsOf | Verdict::AfterClosure => true,
            })
            .map(|(e, v)| {
                let (why, words) = match v {
                    Verdict::AfterAsOf => (
                        "after_as_of",
                        format!("after the as-of instant ({}): it has not happened yet", self.local(self.as_of)),
                    ),
                    Verdict::AfterClosure => (
                        "after_closure",
                        format!(
                            "after the case was closed ({}): a reply to a closed case does not count",
                            self.closed.map(|c| self.local(c)).unwrap_or_default()
                        ),
                    ),
                    _ => ("not_a_public_response", not_a_response(e.kind()).to_string()),
                };
                step(
                    e.at,
                    "event_not_counted",
                    format!("{} at {}: does not stop the clock, {words}.", kind_words(e.kind()), self.local(e.at)),
                    json!({ "event_kind": e.kind().as_str(), "why": why }),
                )
            })
            .collect()
    }

    /// The coverage windows of the coverage in force counted from the clock
    /// start to the end of the measurement (the response, the closure, the
    /// deadline, or the as-of instant), on the region's wall clock.
    fn windows(&self) -> Result<Vec<Step>> {
        let r = self.row;
        let end = self.end();
        if end <= r.clock_start {
            return Ok(Vec::new());
        }
        let (calendar, always) = self.calendar(r.coverage);
        let spans = if always {
            vec![(r.clock_start, end)]
        } else {
            open_spans(calendar, r.clock_start, end)
                .map_err(|e| Error::Internal(format!("coverage windows: {e}")))?
        };
        let window = |&(a, b): &(Instant, Instant)| {
            let minutes = b - a;
            step(
                a,
                "coverage_window",
                format!(
                    "Counted {}: {} to {}.",
                    present::duration(minutes),
                    self.local(a),
                    self.local(b)
                ),
                json!({ "until": rfc(b), "business_minutes": crate::calendar::micros_to_minutes(minutes) }),
            )
        };
        if spans.len() <= MAX_WINDOWS {
            return Ok(spans.iter().map(window).collect());
        }
        let half = MAX_WINDOWS / 2;
        let (head, rest) = spans.split_at(half);
        let (middle, tail) = rest.split_at(rest.len() - half);
        let skipped: i64 = middle.iter().map(|(a, b)| b - a).sum();
        let mut steps: Vec<Step> = head.iter().map(window).collect();
        steps.push(step(
            middle[0].0,
            "coverage_window",
            format!(
                "… {} more coverage windows, {} counted in all, from {} to {}.",
                present::number(middle.len() as u64),
                present::duration(skipped),
                self.local(middle[0].0),
                self.local(middle[middle.len() - 1].1)
            ),
            json!({
                "until": rfc(middle[middle.len() - 1].1),
                "business_minutes": crate::calendar::micros_to_minutes(skipped),
                "windows": middle.len(),
            }),
        ));
        if let Some(last) = steps.last_mut() {
            last.kind = "coverage_windows_omitted";
        }
        steps.extend(tail.iter().map(window));
        Ok(steps)
    }

    /// The first response, the closure, the deadline passing, the as-of
    /// instant, and the outcome.
    fn ending(&self, sentence: &str) -> Vec<Step> {
        let r = self.row;
        let mut steps = Vec::new();
        if let (Some(t), Some(m)) = (r.first_response_at, r.response_minutes) {
            steps.push(step(
                t,
                "first_response",
                format!(
                    "First public agent response at {}: {} of business time after the clock start, against a target of {}.",
                    self.local(t),
                    present::minutes(m),
                    present::target(r.target_minutes as u32, r.coverage, self.region)
                ),
                json!({ "business_minutes": m }),
            ));
        }
        if let (Some(c), None) = (self.closed, r.first_response_at) {
            steps.push(step(
                c,
                "closed",
                format!("Closed at {} without a response.", self.local(c)),
                json!({}),
            ));
        }
        if r.first_response_at.is_none() && r.outcome == Outcome::Breached {
            steps.push(step(
                r.deadline,
                "deadline_passed",
                format!(
                    "The deadline, {}, passed without a response: the case is breached.",
                    self.local(r.deadline)
                ),
                json!({}),
            ));
        }
        if r.reason == Reason::OpenBeforeDeadline || r.reason == Reason::UnansweredPastDeadline {
            steps.push(step(
                self.as_of,
                "as_of",
                format!(
                    "Measured as of {}: no response yet.",
                    self.local(self.as_of)
                ),
                json!({}),
            ));
        }
        // The outcome comes last: at the as-of instant for a case still
        // open, at the closure for one closed unanswered after its deadline.
        let at = match r.reason {
            Reason::UnansweredPastDeadline | Reason::OpenBeforeDeadline => self.as_of,
            Reason::ClosedAfterDeadlineUnanswered => self.closed.unwrap_or(r.deadline),
            _ => self.end(),
        };
        steps.push(step(
            at,
            "outcome",
            format!(
                "Outcome: {} ({}). {sentence}",
                r.outcome.as_str(),
                r.reason.as_str()
            ),
            json!({ "outcome": r.outcome.as_str(), "reason": r.reason.as_str() }),
        ));
        steps
    }
}

fn ended_code(e: Ended) -> &'static str {
    match e {
        Ended::AfterAsOf => "after_as_of",
        Ended::AtOrAfterResponse => "at_or_after_response",
        Ended::AtOrAfterClosure => "at_or_after_closure",
        Ended::AfterDeadline => "after_deadline",
    }
}

fn ended_words(e: Ended, f: &Facts<'_>, clock: &Clock) -> String {
    match e {
        Ended::AfterAsOf => format!(
            "it is after the as-of instant ({}), so it has not happened yet",
            f.local(f.as_of)
        ),
        Ended::AtOrAfterResponse => "the case had been answered, so the measurement had ended".into(),
        Ended::AtOrAfterClosure => "the case had been closed, so the measurement had ended".into(),
        Ended::AfterDeadline => format!(
            "the deadline in force, {}, had passed without a response: the case was already breached",
            f.local(clock.deadline)
        ),
    }
}

fn kind_words(kind: EventKind) -> &'static str {
    match kind {
        EventKind::AgentResponse => "Agent response",
        EventKind::AutoResponse => "Automatic acknowledgement",
        EventKind::InternalNote => "Internal note",
        EventKind::CustomerUpdate => "Customer update",
        EventKind::PriorityChange => "Priority change",
        EventKind::StatusChange => "Status change",
        EventKind::Closed => "`closed` event",
        EventKind::Reopened => "`reopened` event",
    }
}

fn not_a_response(kind: EventKind) -> &'static str {
    match kind {
        EventKind::AutoResponse => "an automatic acknowledgement is not a response by an agent",
        EventKind::InternalNote => "an internal note is not seen by the customer",
        EventKind::CustomerUpdate => "it comes from the customer",
        EventKind::Closed | EventKind::Reopened => {
            "it is informative (closure is the case's `closed_at`)"
        }
        _ => "it is informative, not a response",
    }
}

/// The open spans of `calendar` within `[from, to)`, found with its public
/// questions only (is an instant open; how much is open between two
/// instants), so they are the calendar's own windows, holidays and DST
/// included.
fn open_spans(
    calendar: &Calendar,
    from: Instant,
    to: Instant,
) -> std::result::Result<Vec<(Instant, Instant)>, CalendarError> {
    let mut spans = Vec::new();
    let mut t = from;
    while t < to {
        if !calendar.is_open(t) {
            // The next opening: a target of 1 µs added at a closed instant
            // lands 1 µs after it. None within the calendar's years: done.
            let Ok(next) = calendar.deadline(t, 1).map(|d| d - 1) else {
                break;
            };
            if next >= to {
                break;
            }
            t = next.max(t + 1);
            continue;
        }
        // The largest d with [t, t + d) wholly open.
        if calendar.elapsed(t, to)? == to - t {
            spans.push((t, to));
            break;
        }
        let (mut lo, mut hi) = (1i64, to - t);
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if calendar.elapsed(t, t + mid)? == mid {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        spans.push((t, t + lo));
        t += lo;
    }
    Ok(spans)
}

/// Why the case has its outcome, in one sentence, times on `zone`'s clock
/// (targets in business days counted in `region`'s):
/// "Due Fri 15 May 2026 17:30 PDT, answered Mon 18 May 2026 09:12 PDT:
/// 42 min of business time late."
pub fn sentence(
    row: &CaseRow,
    region: &Region,
    zone: Tz,
    closed: Option<Instant>,
    as_of: Instant,
) -> String {
    let local = |t| present::local(t, zone);
    let due = local(row.deadline);
    match row.reason {
        Reason::AnsweredInTime => format!(
            "Answered {}, within the deadline of {due}: {} of business time against a target of {}.",
            local(row.first_response_at.expect("answered")),
            present::minutes(row.response_minutes.unwrap_or(0.0)),
            present::target(row.target_minutes as u32, row.coverage, region)
        ),
        Reason::AnsweredLate => format!(
            "Due {due}, answered {}: {} of business time late.",
            local(row.first_response_at.expect("answered")),
            present::minutes(row.breach_minutes.unwrap_or(0.0))
        ),
        Reason::UnansweredPastDeadline => format!(
            "Due {due}, and still unanswered as of {}.",
            local(as_of)
        ),
        Reason::ClosedAfterDeadlineUnanswered => format!(
            "Due {due}, closed {} without a response.",
            closed.map(local).unwrap_or_default()
        ),
        Reason::ClosedBeforeDeadlineUnanswered => format!(
            "Closed {} without a response, before its deadline of {due}: withdrawn, so not counted in attainment.",
            closed.map(local).unwrap_or_default()
        ),
        Reason::OpenBeforeDeadline => format!(
            "Not answered yet as of {}; due {due}.",
            local(as_of)
        ),
    }
}

impl Explanation {
    /// The `--format json` object: the case's `case_slt` fields under the
    /// same names (instants RFC 3339 UTC, null where `case_slt` has null),
    /// `reason`, and `steps` (each with `at`, `kind`, `local`, `text` and
    /// its facts).
    pub fn to_json(&self) -> Value {
        let r = &self.row;
        let steps: Vec<Value> = self
            .steps
            .iter()
            .map(|s| {
                let mut o = Map::new();
                o.insert("at".into(), rfc(s.at));
                o.insert("kind".into(), json!(s.kind));
                o.insert("local".into(), json!(present::local(s.at, self.zone)));
                o.insert("text".into(), json!(s.text));
                for (k, v) in &s.fields {
                    o.insert(k.clone(), v.clone());
                }
                Value::Object(o)
            })
            .collect();
        json!({
            "case_id": &*r.case_id,
            "account_id": &*r.account_id,
            "tier": &*r.tier,
            "region": &*r.region,
            "product": r.product.as_deref(),
            "priority": r.priority.as_str(),
            "initial_priority": r.initial_priority.as_str(),
            "priority_changes": r.priority_changes,
            "created_at": rfc(r.created_at),
            "clock_start": rfc(r.clock_start),
            "coverage": r.coverage.as_str(),
            "target_minutes": r.target_minutes,
            "deadline": rfc(r.deadline),
            "first_response_at": r.first_response_at.map(rfc),
            "response_business_minutes": r.response_minutes,
            "outcome": r.outcome.as_str(),
            "breach_business_minutes": r.breach_minutes,
            "period": r.period(),
            "month": r.month(),
            "reason": r.reason.as_str(),
            "steps": steps,
        })
    }

    /// The `--format text` page: a heading, the outcome and its sentence,
    /// then one line per step with its local time.
    pub fn to_text(&self) -> String {
        let r = &self.row;
        let priority = if r.priority == r.initial_priority {
            r.priority.to_string()
        } else {
            format!("{} (opened as {})", r.priority, r.initial_priority)
        };
        let mut out = format!(
            "Case {} · account {} · {} · {} · {priority} · period {}\nTimes in {} (the {} region's clock); measured as of {}.\n\nOutcome: {} ({}). {}\n\n",
            r.case_id,
            r.account_id,
            r.tier,
            r.region,
            r.period(),
            self.zone.name(),
            r.region,
            present::local(self.as_of, self.zone),
            r.outcome.as_str(),
            r.reason.as_str(),
            self.sentence
        );
        for s in &self.steps {
            out.push_str(&format!(
                "  {:<27}  {:<18}  {}\n",
                present::local(s.at, self.zone),
                s.kind,
                s.text
            ));
        }
        out
    }
}
