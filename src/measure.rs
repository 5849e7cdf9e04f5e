//! Measuring cases: the rules of `docs/rules.md` ("How one case is
//! measured"), and the one place where judged rows meet the calendar (in
//! parallel, with rayon).
//!
//! [`measure_case`] is pure: one case, its events in time order, the policy,
//! the calendars and the as-of instant in; the measured case out.
//! [`measure_all`] groups events by case and runs it over every case.

use rayon::prelude::*;

use crate::calendar::holidays::Holidays;
use crate::calendar::{years_spanning, CalendarError, Coverage};
use crate::model::{Case, Event, EventKind, Outcome, Priority};
use crate::policy::{Calendars, Policy, PriorityChangeRule};
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
    /// Business time past the target, µs (breached cases with a response).
    pub breach_business: Option<i64>,
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
    let closed = case.closed_at.filter(|&c| c <= as_of);
    let first_response_at = events
        .iter()
        .filter(|e| {
            e.kind == EventKind::AgentResponse && e.at <= as_of && closed.is_none_or(|c| e.at <= c)
        })
        .map(|e| e.at)
        .min();

    let mut priority = case.priority;
    let mut target = policy.target(case.tier, case.region, priority);
    let mut clock_start = case.created_at;
    let mut deadline = calendars
        .get(case.region, target.coverage)
        .deadline(clock_start, target.micros())?;
    let mut changes = 0;
    for e in events
        .iter()
        .filter(|e| e.kind == EventKind::PriorityChange)
    {
        let t = e.at;
        let ended = t > as_of
            || first_response_at.is_some_and(|r| t >= r)
            || closed.is_some_and(|c| t >= c)
            || t > deadline;
        if ended {
            break;
        }
        let new = e.priority.expect("validated priority change");
        if new == priority {
            continue;
        }
        priority = new;
        changes += 1;
        target = policy.target(case.tier, case.region, priority);
        if policy.priority_change == PriorityChangeRule::Restart {
            clock_start = t;
        }
        deadline = calendars
            .get(case.region, target.coverage)
            .deadline(clock_start, target.micros())?;
    }

    let calendar = calendars.get(case.region, target.coverage);
    let (outcome, response_business, breach_business) = match first_response_at {
        Some(r) => {
            let business = calendar.elapsed(clock_start, r)?;
            if r <= deadline {
                (Outcome::Met, Some(business), None)
            } else {
                (
                    Outcome::Breached,
                    Some(business),
                    Some(business - target.micros()),
                )
            }
        }
        None => {
            let outcome = match closed {
                Some(c) if c <= deadline => Outcome::Excluded,
                Some(_) => Outcome::Breached,
                None if as_of <= deadline => Outcome::Pending,
                None => Outcome::Breached,
            };
            (outcome, None, None)
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
        outcome,
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
        offsets[e.case as usize + 1] += 1;
    }
    for i in 0..case_count {
        offsets[i + 1] += offsets[i];
    }
    let mut next = offsets.clone();
    let mut grouped = events.to_vec();
    for e in events {
        let slot = &mut next[e.case as usize];
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

/// Cases measured between two calls of the progress callback.
const PROGRESS_CHUNK: usize = 4096;

/// [`measure_all`], calling `done(n)` from the worker threads as each batch
/// of `n` cases is measured (for a progress bar). Results keep case order.
pub fn measure_all_reporting(
    cases: &[Case],
    events: &[Event],
    policy: &Policy,
    calendars: &Calendars,
    as_of: Instant,
    done: &(dyn Fn(u64) + Sync),
) -> Vec<Result<Measured, CalendarError>> {
    let (grouped, offsets) = group_events(cases.len(), events);
    cases
        .par_chunks(PROGRESS_CHUNK)
        .enumerate()
        .flat_map_iter(|(chunk, batch)| {
            let first = chunk * PROGRESS_CHUNK;
            let results: Vec<_> = batch
                .iter()
                .enumerate()
                .map(|(j, case)| {
                    let i = first + j;
                    measure_case(
                        case,
                        &grouped[offsets[i]..offsets[i + 1]],
                        policy,
                        calendars,
                        as_of,
                    )
                })
                .collect();
            done(batch.len() as u64);
            results
        })
        .collect()
}
