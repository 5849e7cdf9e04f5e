//! Measuring cases: the rules of `docs/rules.md` ("How one case is
//! measured"), and the one place where judged rows meet the calendar (in
//! parallel, with rayon).
//!
//! [`measure_case`] is pure: one case, its events in time order, the policy,
//! the calendars and the as-of instant in; the measured case out, with the
//! [`Reason`] for its outcome. [`measure_case_traced`] is the same code
//! telling a [`Trace`] each step (`slt explain`, [`crate::explain`]);
//! [`measure_case`] runs it with [`NoTrace`], which compiles away.
//! [`measure_all`] groups events by case and runs it over every case.

use rayon::prelude::*;

use crate::calendar::holidays::Holidays;
use crate::calendar::{years_spanning, CalendarError, Coverage};
use crate::model::{Case, Event, EventKind, Outcome, Priority, Reason};
use crate::policy::{Calendars, Policy, PriorityChangeRule, Target};
use crate::timestamp::Instant;

/// One measured case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Measured {
    /// Priority in force when the measurement ended (the case is reported under it).
    pub priority: Priority,
    /// Priority at creation.
    pub initial_priority: Priority,
    /// Priority changes that took effect.
    pub priority_changes: u32,
    /// Clock start in force when the measurement ended.
    pub clock_start: Instant,
    /// Coverage in force.
    pub coverage: Coverage,
    /// Target in force, business minutes.
    pub target_minutes: u32,
    /// Deadline in force.
    pub deadline: Instant,
    /// First public agent response (at or before the as-of instant and the closure).
    pub first_response_at: Option<Instant>,
    /// Business time from the clock start to the first response, µs.
    pub response_business: Option<i64>,
    /// Met, breached, pending or excluded.
    pub outcome: Outcome,
    /// Why: the outcome's reason code.
    pub reason: Reason,
    /// Business time past the target, µs (breached cases with a response).
    pub breach_business: Option<i64>,
}

/// Whether an event (other than a priority change) is the kind of event
/// that stops the clock, and if not, why not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// A public agent response that counts (the earliest is the first response).
    Counts,
    /// Not a public agent response: an automatic acknowledgement, an
    /// internal note, a customer update, or an informative event.
    NotAResponse,
    /// An agent response after the as-of instant: it has not happened yet.
    AfterAsOf,
    /// An agent response after the case was closed.
    AfterClosure,
}

/// The one rule for which events stop the clock: an `agent_response` at
/// or before `as_of` and not after `closed` (the closure, if it happened by
/// `as_of`).
#[inline]
pub fn verdict(e: &Event, as_of: Instant, closed: Option<Instant>) -> Verdict {
    if e.kind() != EventKind::AgentResponse {
        Verdict::NotAResponse
    } else if e.at > as_of {
        Verdict::AfterAsOf
    } else if closed.is_some_and(|c| e.at > c) {
        Verdict::AfterClosure
    } else {
        Verdict::Counts
    }
}

/// Why a priority change did not take effect because the measurement had
/// already ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// The change is after the as-of instant: it has not happened yet.
    AfterAsOf,
    /// At or after the first response.
    AtOrAfterResponse,
    /// At or after the closure.
    AtOrAfterClosure,
    /// After the deadline in force: the case was already breached.
    AfterDeadline,
}

/// What a priority change did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// It took effect: new priority, coverage, target (and under `restart`,
    /// clock start), hence a new deadline.
    TookEffect,
    /// A "change" to the priority already in force: nothing.
    SamePriority,
    /// The measurement had ended.
    Ended(Ended),
}

/// The one rule for when a change comes too late: after `as_of`, at or
/// after the first response or the closure, or after the deadline in force.
#[inline]
fn ended(
    t: Instant,
    as_of: Instant,
    response: Option<Instant>,
    closed: Option<Instant>,
    deadline: Instant,
) -> Option<Ended> {
    if t > as_of {
        Some(Ended::AfterAsOf)
    } else if response.is_some_and(|r| t >= r) {
        Some(Ended::AtOrAfterResponse)
    } else if closed.is_some_and(|c| t >= c) {
        Some(Ended::AtOrAfterClosure)
    } else if t > deadline {
        Some(Ended::AfterDeadline)
    } else {
        None
    }
}

/// The clock as it stands after a step: what [`Trace`] is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clock {
    /// Priority in force.
    pub priority: Priority,
    /// Its target and coverage.
    pub target: Target,
    /// Clock start in force.
    pub clock_start: Instant,
    /// Deadline in force.
    pub deadline: Instant,
}

/// What [`measure_case_traced`] tells as it measures: the steps `slt
/// explain` prints. [`NoTrace`] (what [`measure_case`] uses) compiles to
/// nothing, so there is one implementation of the rules and `case_slt` and
/// `explain` cannot disagree.
pub trait Trace {
    /// Whether the tracer wants anything (lets the measurement skip the
    /// work only a tracer needs).
    const ON: bool;
    /// The clock at creation.
    fn start(&mut self, _clock: &Clock) {}
    /// An event other than a priority change, and whether it stops the clock.
    fn event(&mut self, _event: &Event, _verdict: Verdict) {}
    /// A priority change, what it did, and the clock after it.
    fn change(&mut self, _event: &Event, _from: Priority, _effect: Effect, _clock: &Clock) {}
}

/// The tracer that wants nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoTrace;

impl Trace for NoTrace {
    const ON: bool = false;
}

/// Measures one case. `events` are the case's events sorted by
/// (`at`, file row); events after `as_of` have not happened yet.
///
/// The measurement ends at the first response, at the closure, when the
/// deadline in force passes without a response (a change *at* the deadline
/// still takes effect), or at `as_of`, whichever comes first.
pub fn measure_case(
    case: &Case,
    events: &[Event],
    policy: &Policy,
    calendars: &Calendars,
    as_of: Instant,
) -> Result<Measured, CalendarError> {
    measure_case_traced(case, events, policy, calendars, as_of, &mut NoTrace)
}

/// [`measure_case`], telling `trace` every step.
pub fn measure_case_traced<T: Trace>(
    case: &Case,
    events: &[Event],
    policy: &Policy,
    calendars: &Calendars,
    as_of: Instant,
    trace: &mut T,
) -> Result<Measured, CalendarError> {
    let closed = case.closed_at.filter(|&c| c <= as_of);
    let first_response_at = events
        .iter()
        .filter(|e| verdict(e, as_of, closed) == Verdict::Counts)
        .map(|e| e.at)
        .min();
    if T::ON {
        for e in events
            .iter()
            .filter(|e| e.kind() != EventKind::PriorityChange)
        {
            trace.event(e, verdict(e, as_of, closed));
        }
    }

    let target = policy.target(
        usize::from(case.tier),
        usize::from(case.region),
        case.priority,
    );
    let mut clock = Clock {
        priority: case.priority,
        target,
        clock_start: case.created_at,
        deadline: calendars
            .get(usize::from(case.region), target.coverage)
            .deadline(case.created_at, target.micros())?,
    };
    trace.start(&clock);
    let mut changes = 0;
    let mut priority_changes = events
        .iter()
        .filter(|e| e.kind() == EventKind::PriorityChange);
    while let Some(e) = priority_changes.next() {
        let t = e.at;
        if let Some(why) = ended(t, as_of, first_response_at, closed, clock.deadline) {
            if T::ON {
                trace.change(e, clock.priority, Effect::Ended(why), &clock);
                for later in priority_changes {
                    let why = ended(later.at, as_of, first_response_at, closed, clock.deadline)
                        .unwrap_or(why);
                    trace.change(later, clock.priority, Effect::Ended(why), &clock);
                }
            }
            break;
        }
        let new = e.priority().expect("validated priority change");
        if new == clock.priority {
            if T::ON {
                trace.change(e, clock.priority, Effect::SamePriority, &clock);
            }
            continue;
        }
        let from = clock.priority;
        changes += 1;
        clock.priority = new;
        clock.target = policy.target(usize::from(case.tier), usize::from(case.region), new);
        if policy.priority_change == PriorityChangeRule::Restart {
            clock.clock_start = t;
        }
        clock.deadline = calendars
            .get(usize::from(case.region), clock.target.coverage)
            .deadline(clock.clock_start, clock.target.micros())?;
        trace.change(e, from, Effect::TookEffect, &clock);
    }

    let Clock {
        priority,
        target,
        clock_start,
        deadline,
    } = clock;
    let calendar = calendars.get(usize::from(case.region), target.coverage);
    let (reason, response_business, breach_business) = match first_response_at {
        Some(r) => {
            let business = calendar.elapsed(clock_start, r)?;
            if r <= deadline {
                (Reason::AnsweredInTime, Some(business), None)
            } else {
                (
                    Reason::AnsweredLate,
                    Some(business),
                    Some(business - target.micros()),
                )
            }
        }
        None => {
            let reason = match closed {
                Some(c) if c <= deadline => Reason::ClosedBeforeDeadlineUnanswered,
                Some(_) => Reason::ClosedAfterDeadlineUnanswered,
                None if as_of <= deadline => Reason::OpenBeforeDeadline,
                None => Reason::UnansweredPastDeadline,
            };
            (reason, None, None)
        }
    };
    Ok(Measured {
        priority,
        initial_priority: case.priority,
        priority_changes: changes,
        clock_start,
        coverage: target.coverage,
        target_minutes: target.minutes,
        deadline,
        first_response_at,
        response_business,
        outcome: reason.outcome(),
        reason,
        breach_business,
    })
}

/// The calendars every case needs: each region × coverage, built for the
/// calendar years its cases, their events and the as-of instant span.
pub fn calendars_for(
    policy: &Policy,
    holidays: &Holidays,
    cases: &[Case],
    events: &[Event],
    as_of: Instant,
) -> Calendars {
    let lo = cases.iter().map(|c| c.created_at).min().unwrap_or(as_of);
    let hi = cases
        .iter()
        .filter_map(|c| c.closed_at)
        .chain(events.iter().map(|e| e.at))
        .chain([as_of])
        .max()
        .unwrap_or(as_of);
    policy.calendars(holidays, years_spanning(lo.min(hi), hi))
}

/// Groups events by case, each group sorted by (`at`, file row).
/// Returns the events reordered and the start offset of each case's group
/// (`offsets.len() == cases + 1`).
pub fn group_events(case_count: usize, events: &[Event]) -> (Vec<Event>, Vec<usize>) {
    let mut offsets = vec![0usize; case_count + 1];
    for e in events {
        offsets[e.case() as usize + 1] += 1;
    }
    for i in 0..case_count {
        offsets[i + 1] += offsets[i];
    }
    let mut next = offsets.clone();
    let mut grouped = events.to_vec();
    for e in events {
        let slot = &mut next[e.case() as usize];
        grouped[*slot] = *e;
        *slot += 1;
    }
    // Each case's slice is already in file order; sort by time, stable.
    let mut rest: &mut [Event] = &mut grouped;
    let mut slices = Vec::with_capacity(case_count);
    for w in offsets.windows(2) {
        let (head, tail) = rest.split_at_mut(w[1] - w[0]);
        slices.push(head);
        rest = tail;
    }
    slices
        .into_par_iter()
        .for_each(|s| s.sort_by_key(|e| (e.at, e.row)));
    (grouped, offsets)
}

/// Measures every case in parallel. Results are in case order.
pub fn measure_all(
    cases: &[Case],
    events: &[Event],
    policy: &Policy,
    calendars: &Calendars,
    as_of: Instant,
) -> Vec<Result<Measured, CalendarError>> {
    measure_all_reporting(cases, events, policy, calendars, as_of, &|_| {})
}

/// Cases measured between two calls of the progress callback (about).
const PROGRESS_CHUNK: usize = 4096;

/// [`measure_all`], calling `done(n)` from the worker threads about every
/// `PROGRESS_CHUNK` (4096) cases measured, the `n`s adding up to every case (for
/// a progress bar). Results keep case order.
pub fn measure_all_reporting(
    cases: &[Case],
    events: &[Event],
    policy: &Policy,
    calendars: &Calendars,
    as_of: Instant,
    done: &(dyn Fn(u64) + Sync),
) -> Vec<Result<Measured, CalendarError>> {
    let (grouped, offsets) = group_events(cases.len(), events);
    measure_grouped(cases, &grouped, &offsets, policy, calendars, as_of, done)
}

/// [`measure_all_reporting`] with the events sorted in place (by case,
/// then time, then row) instead of copied: the events are left in that
/// order.
pub fn measure_all_in_place(
    cases: &[Case],
    events: &mut [Event],
    policy: &Policy,
    calendars: &Calendars,
    as_of: Instant,
    done: &(dyn Fn(u64) + Sync),
) -> Vec<Result<Measured, CalendarError>> {
    // Rows are unique, so the order is total and the same as
    // [`group_events`]' (stable by file order within a case and instant).
    events.par_sort_unstable_by_key(|e| (e.case(), e.at, e.row));
    let mut offsets = vec![0usize; cases.len() + 1];
    for e in events.iter() {
        offsets[e.case() as usize + 1] += 1;
    }
    for i in 0..cases.len() {
        offsets[i + 1] += offsets[i];
    }
    measure_grouped(cases, events, &offsets, policy, calendars, as_of, done)
}

/// Measures every case, its events being `grouped[offsets[i]..offsets[i + 1]]`.
fn measure_grouped(
    cases: &[Case],
    grouped: &[Event],
    offsets: &[usize],
    policy: &Policy,
    calendars: &Calendars,
    as_of: Instant,
    done: &(dyn Fn(u64) + Sync),
) -> Vec<Result<Measured, CalendarError>> {
    // Written straight into the one vector of results (an indexed
    // collect): gathering chunks' vectors and then joining them held the
    // results twice, at 10 M cases most of a gibibyte more at the peak.
    // Progress is told once per [`PROGRESS_CHUNK`] cases, by the case that
    // ends a chunk (each case is measured once: the counts add up to all).
    let n = cases.len();
    cases
        .par_iter()
        .enumerate()
        .map(|(i, case)| {
            let m = measure_case(
                case,
                &grouped[offsets[i]..offsets[i + 1]],
                policy,
                calendars,
                as_of,
            );
            if (i + 1) % PROGRESS_CHUNK == 0 {
                done(PROGRESS_CHUNK as u64);
            } else if i + 1 == n {
                done((n % PROGRESS_CHUNK) as u64);
            }
            m
        })
        .collect()
}
