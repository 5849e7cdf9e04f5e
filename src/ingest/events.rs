//! The `events` table → events of the judged cases.
//!
//! An event needs a case that was judged usable, an RFC 3339 `at` not
//! before its case's creation, and a known `kind` (through the mapping's
//! `[values.kind]`); a `priority_change` needs its new priority in `value`
//! (through `[values.priority]`). Rows are judged in parallel: events are
//! the largest table.

use rayon::prelude::*;

use super::cases::JudgedCases;
use super::ids::{hash, CaseRef};
use super::judge::{judge_in_pieces, Judged, RejectReason, Rejects};
use super::read::Source;
use super::stream::Pieces;
use super::text::{self, unreadable, Columns};
use crate::mapping::Mapping;
use crate::model::{Event, EventKind, Priority, Table};
use std::borrow::Cow;

/// Why an event row is rejected (judged in parallel, recorded in order):
/// its column's name and its value borrowed from the piece, so that a
/// million bad rows make no string of their own here (but for a typed
/// timestamp's value, made text for its row). A row's result is
/// unwrapped as soon as it is made, never stored.
struct Fault<'t> {
    column: &'t str,
    value: Option<Cow<'t, str>>,
    reason: RejectReason,
}

/// Judges every row of the events table: the rows of its frame, or, for a
/// table read in pieces, each piece as it is read (its text let go before
/// the next is read).
pub(crate) fn judge_all(
    source: &Source,
    pieces: Option<Pieces>,
    cols: &Columns,
    mapping: &Mapping,
    cases: &JudgedCases,
    rejects: &mut Rejects,
) -> crate::Result<Judged<Event>> {
    let mut state = (Vec::new(), rejects);
    let read = judge_in_pieces(
        (source, pieces, cols),
        mapping,
        &mut state,
        |(events, rejects), part, part_cols, first_row| {
            judge(part, part_cols, mapping, cases, first_row, rejects, events);
        },
        // Room for every event at once: growing by doubling would copy
        // them and hold up to twice their size.
        |(events, _), rows| events.reserve(rows.saturating_sub(events.len())),
    )?;
    Ok((state.0, read))
}

/// Judges every row of `source` (whose first row is data row `first_row`
/// of its file), in parallel, onto `events`; rejects are recorded in row
/// order.
fn judge(
    source: &Source,
    cols: &Columns,
    mapping: &Mapping,
    cases: &JudgedCases,
    first_row: usize,
    rejects: &mut Rejects,
    events: &mut Vec<Event>,
) {
    let n = source.frame.height();
    let texts = Texts {
        broken: unreadable(source),
        case_ids: cols.get("case_id"),
        ats: cols.get("at"),
        kinds: cols.get("kind"),
        values: cols.get("value"),
    };
    let found = find_cases(texts.case_ids, n, cases);
    // Judged side by side straight into `events`, a run of rows each; a
    // row that is not an event leaves a placeholder there, taken out below,
    // and its fault in its run's list (the lists in row order, so no lock
    // is shared and no sort needed).
    let start = events.len();
    events.resize(start + n, PLACEHOLDER);
    let faults: Vec<Vec<(usize, Fault)>> = events[start..]
        .par_chunks_mut(RUN)
        .zip(found.par_chunks(RUN))
        .enumerate()
        .map(|(run, (slots, found))| {
            let mut faults = Vec::new();
            for (j, (slot, &case)) in slots.iter_mut().zip(found).enumerate() {
                let i = run * RUN + j;
                match event(i, first_row + i, &texts, cols, mapping, cases, case) {
                    Ok(e) => *slot = e,
                    Err(f) => faults.push((i, f)),
                }
            }
            faults
        })
        .collect();
    drop(found);
    if faults.iter().all(Vec::is_empty) {
        return;
    }
    let judged = &mut events[start..];
    let mut kept = 0;
    let mut next_fault = faults.iter().flatten().map(|(i, _)| *i).peekable();
    for i in 0..judged.len() {
        if next_fault.next_if_eq(&i).is_none() {
            judged[kept] = judged[i];
            kept += 1;
        }
    }
    events.truncate(start + kept);
    let case_ids = cols.get("case_id");
    let mut r = rejects.of(Table::Events);
    for (i, f) in faults.into_iter().flatten() {
        let row = first_row + i;
        if f.column.is_empty() {
            r.reject_unreadable(row, f.value.as_deref().unwrap_or(""));
        } else {
            r.reject(row, case_ids.get(i), f.column, f.value.as_deref(), f.reason);
        }
    }
}

/// What a rejected row leaves in the events until the piece is judged.
const PLACEHOLDER: Event = Event::new(0, 0, EventKind::InternalNote, None, u32::MAX);

/// The columns an event is read from, looked up once.
struct Texts<'a> {
    broken: text::Texts<'a>,
    case_ids: text::Texts<'a>,
    ats: text::Texts<'a>,
    kinds: text::Texts<'a>,
    values: text::Texts<'a>,
}

/// Rows whose cases are found one after the other, each run side by side.
const RUN: usize = 4096;

/// New ids of a run compared with the case after the one before, after
/// which, if fewer than a quarter were that case, the rest of the run is
/// looked up all together.
const TRIES: usize = 16;

/// The case of each of the `n` rows of a piece: `None` where the row has
/// no id or its id names no judged case.
///
/// Exports mostly list a case's events together and in the cases' order:
/// a row with the id of the row before has its case, and a new id is first
/// compared with the case after the one found last. Where that mostly
/// fails (events shuffled, or listed by time), the rest of the run is
/// looked up all together ([`JudgedCases::find_each`]), their cache misses
/// overlapping rather than one after another.
fn find_cases(case_ids: text::Texts, n: usize, cases: &JudgedCases) -> Vec<Option<CaseRef>> {
    let mut found = vec![None; n];
    found
        .par_chunks_mut(RUN)
        .enumerate()
        .for_each(|(run, found)| {
            let mut pending = Vec::new();
            // The id of the row before and its case (or its hash, while
            // it waits to be looked up).
            let mut last: Option<(&str, Result<Option<CaseRef>, u64>)> = None;
            // The place of the case found last; how many new ids were
            // compared with the case after it, and how many were that case.
            let (mut before, mut tries, mut hits) = (None::<u32>, 0usize, 0usize);
            for (j, slot) in found.iter_mut().enumerate() {
                let i = run * RUN + j;
                let Some(id) = case_ids.get(i) else {
                    continue;
                };
                let answer = match last {
                    Some((last_id, answer)) if last_id == id => answer,
                    _ if tries >= TRIES && hits * 4 < tries => Err(hash(id)),
                    _ => {
                        let case = match before {
                            Some(b) => {
                                tries += 1;
                                cases.case_after(b, id)
                            }
                            None => cases.case_of(id),
                        };
                        if let Some(c) = case {
                            hits +=
                                usize::from(before.is_some_and(|b| c.place == b.wrapping_add(1)));
                            before = Some(c.place);
                        }
                        Ok(case)
                    }
                };
                match answer {
                    Ok(case) => *slot = case,
                    Err(h) => pending.push((i as u32, h)),
                }
                last = Some((id, answer));
            }
            let texts = |i: u32| case_ids.get(i as usize).unwrap_or_default();
            cases.find_each(&pending, texts, |i, case| {
                found[i as usize - run * RUN] = case;
            });
        });
    found
}

/// Row `i` of the piece (data row `row` of the file), whose id names
/// `case` ([`find_cases`]), as an event, or why it is not one.
fn event<'t>(
    i: usize,
    row: usize,
    texts: &Texts<'t>,
    cols: &'t Columns,
    mapping: &Mapping,
    cases: &JudgedCases,
    case: Option<CaseRef>,
) -> Result<Event, Fault<'t>> {
    let fail = |column: &str, value: Option<Cow<'t, str>>, reason: RejectReason| Fault {
        column: cols.name(column),
        value,
        reason,
    };
    if let Some(why) = texts.broken.get(i) {
        // Recorded by `reject_unreadable`, which reads `CODE<TAB>DETAIL`.
        return Err(Fault {
            column: "",
            value: Some(Cow::Borrowed(why)),
            reason: RejectReason::NotJson,
        });
    }
    let (case_ids, ats, kinds, values) = (texts.case_ids, texts.ats, texts.kinds, texts.values);
    let Some(case_id) = case_ids.get(i) else {
        return Err(fail("case_id", None, RejectReason::MissingValue));
    };
    let Some(CaseRef {
        place: case,
        created_at,
    }) = case
    else {
        let reason = if cases.rejected_ids.contains(case_id) {
            RejectReason::CaseRejected
        } else {
            RejectReason::UnknownCase
        };
        return Err(fail("case_id", Some(Cow::Borrowed(case_id)), reason));
    };
    let at = match ats.instant(i) {
        Some(Ok(t)) => t,
        Some(Err(e)) => return Err(fail("at", ats.value(i), RejectReason::of_timestamp(&e))),
        None => return Err(fail("at", None, RejectReason::MissingValue)),
    };
    let Some(kind) = kinds
        .get(i)
        .and_then(|k| EventKind::parse(mapping.value("kind", k)))
    else {
        let reason = match kinds.get(i) {
            None => RejectReason::MissingValue,
            Some(_) => RejectReason::UnknownEventKind,
        };
        return Err(fail("kind", kinds.value(i), reason));
    };
    if at < created_at {
        return Err(fail("at", ats.value(i), RejectReason::BeforeCaseCreation));
    }
    let priority = match kind {
        EventKind::PriorityChange => match values
            .get(i)
            .map(|v| mapping.value("priority", v).parse::<Priority>())
        {
            Some(Ok(p)) => Some(p),
            Some(Err(_)) => {
                return Err(fail(
                    "value",
                    values.value(i),
                    RejectReason::UnknownPriority,
                ))
            }
            None => return Err(fail("value", None, RejectReason::MissingValue)),
        },
        _ => None,
    };
    Ok(Event::new(case, at, kind, priority, row as u32))
}
