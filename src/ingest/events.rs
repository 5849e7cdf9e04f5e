//! The `events` table → events of the judged cases.
//!
//! An event needs a case that was judged usable, an RFC 3339 `at` not
//! before its case's creation, and a known `kind` (through the mapping's
//! `[values.kind]`); a `priority_change` needs its new priority in `value`
//! (through `[values.priority]`). Rows are judged in parallel: events are
//! the largest table.

use std::sync::{Mutex, PoisonError};

use rayon::prelude::*;

use super::cases::JudgedCases;
use super::judge::{judge_in_pieces, RejectReason, Rejects};
use super::read::Source;
use super::stream::Pieces;
use super::text::{self, unreadable, Columns};
use crate::mapping::Mapping;
use crate::model::{Event, EventKind, Priority, Table};
use crate::timestamp::parse_rfc3339;

/// Why an event row is rejected (judged in parallel, recorded in order).
/// Boxed in results: most rows are events, and an unboxed reject would
/// triple the size of every row's result.
struct Fault {
    column: String,
    value: Option<String>,
    reason: RejectReason,
}

/// The events judged, and for a table read in pieces the file (read to its
/// end, for its hash) and how many data rows it held.
type Judged = (Vec<Event>, Option<(Pieces, u64)>);

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
) -> crate::Result<Judged> {
    let mut events = Vec::new();
    let Some(pieces) = pieces else {
        judge(source, cols, mapping, cases, 0, rejects, &mut events);
        return Ok((events, None));
    };
    let mut state = (events, rejects);
    let read = judge_in_pieces(
        source,
        pieces,
        mapping,
        &mut state,
        |(events, rejects), part, part_cols, first_row| {
            judge(part, part_cols, mapping, cases, first_row, rejects, events);
        },
        // Room for every event at once: growing by doubling would copy
        // them and hold up to twice their size.
        |(events, _), rows| events.reserve(rows.saturating_sub(events.len())),
    )?;
    Ok((state.0, Some(read)))
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
    // Judged side by side straight into `events`; a row that is not an
    // event leaves a placeholder there, taken out below (faults are rare).
    let faults = Mutex::new(Vec::new());
    let start = events.len();
    events.par_extend((0..n).into_par_iter().map_init(
        || None,
        |last, i| {
            event(i, first_row + i, &texts, cols, mapping, cases, last).unwrap_or_else(|f| {
                faults
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push((i, f));
                PLACEHOLDER
            })
        },
    ));
    let mut faults = faults.into_inner().unwrap_or_else(PoisonError::into_inner);
    if faults.is_empty() {
        return;
    }
    faults.sort_unstable_by_key(|(i, _)| *i);
    let judged = &mut events[start..];
    let mut kept = 0;
    let mut next_fault = faults.iter().map(|(i, _)| *i).peekable();
    for i in 0..judged.len() {
        if next_fault.next_if_eq(&i).is_none() {
            judged[kept] = judged[i];
            kept += 1;
        }
    }
    events.truncate(start + kept);
    let case_ids = cols.get("case_id");
    let mut r = rejects.of(Table::Events);
    for (i, f) in faults {
        let row = first_row + i;
        if f.column.is_empty() {
            r.reject_unreadable(row, f.value.as_deref().unwrap_or(""));
        } else {
            r.reject(
                row,
                case_ids.get(i),
                &f.column,
                f.value.as_deref(),
                f.reason,
            );
        }
    }
}

/// What a rejected row leaves in the events until the piece is judged.
const PLACEHOLDER: Event = Event {
    case: u32::MAX,
    at: 0,
    kind: EventKind::InternalNote,
    priority: None,
    row: u32::MAX,
};

/// The columns an event is read from, looked up once.
struct Texts<'a> {
    broken: text::Texts<'a>,
    case_ids: text::Texts<'a>,
    ats: text::Texts<'a>,
    kinds: text::Texts<'a>,
    values: text::Texts<'a>,
}

/// The case id last found, and its case: exports list a case's events
/// together, so most rows look up the case of the row before, and the
/// others most often the case after it.
type LastCase<'t> = Option<(&'t str, u32)>;

/// Row `i` of the piece (data row `row` of the file) as an event, or why
/// it is not one.
fn event<'t>(
    i: usize,
    row: usize,
    texts: &Texts<'t>,
    cols: &Columns,
    mapping: &Mapping,
    cases: &JudgedCases,
    last: &mut LastCase<'t>,
) -> Result<Event, Box<Fault>> {
    let fail = |column: &str, value: Option<&str>, reason: RejectReason| {
        Box::new(Fault {
            column: cols.name(column).to_string(),
            value: value.map(str::to_string),
            reason,
        })
    };
    if let Some(why) = texts.broken.get(i) {
        // Recorded by `reject_unreadable`, which reads `CODE<TAB>DETAIL`.
        return Err(Box::new(Fault {
            column: String::new(),
            value: Some(why.to_string()),
            reason: RejectReason::NotJson,
        }));
    }
    let (case_ids, ats, kinds, values) = (texts.case_ids, texts.ats, texts.kinds, texts.values);
    let Some(case_id) = case_ids.get(i) else {
        return Err(fail("case_id", None, RejectReason::MissingValue));
    };
    let found = match *last {
        Some((id, case)) if id == case_id => Some(case),
        Some((_, case)) => cases.place_after(case, case_id),
        None => cases.place_of(case_id),
    };
    let Some(case) = found else {
        let reason = if cases.rejected_ids.contains(case_id) {
            RejectReason::CaseRejected
        } else {
            RejectReason::UnknownCase
        };
        return Err(fail("case_id", Some(case_id), reason));
    };
    *last = Some((case_id, case));
    let at = match ats.get(i).map(parse_rfc3339) {
        Some(Ok(t)) => t,
        Some(Err(e)) => return Err(fail("at", ats.get(i), RejectReason::of_timestamp(&e))),
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
        return Err(fail("kind", kinds.get(i), reason));
    };
    if at < cases.cases[case as usize].created_at {
        return Err(fail("at", ats.get(i), RejectReason::BeforeCaseCreation));
    }
    let priority = match kind {
        EventKind::PriorityChange => match values
            .get(i)
            .map(|v| mapping.value("priority", v).parse::<Priority>())
        {
            Some(Ok(p)) => Some(p),
            Some(Err(_)) => {
                return Err(fail("value", values.get(i), RejectReason::UnknownPriority))
            }
            None => return Err(fail("value", None, RejectReason::MissingValue)),
        },
        _ => None,
    };
    Ok(Event {
        case,
        at,
        kind,
        priority,
        row: row as u32,
    })
}
