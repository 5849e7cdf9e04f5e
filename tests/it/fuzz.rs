//! Fuzzing the ingest and the measurement with generated hostile exports
//! (proptest): any mix of valid and broken rows — malformed, offset-less or
//! impossible timestamps, unknown values, duplicate ids, quotes, commas,
//! newlines, bytes that are not UTF-8, ragged rows — must never panic, and
//! per table rows read = rows used + rows rejected must hold. The calendar
//! operations get any instant slt can parse (1900–2199) and any target
//! against calendars built for a few years only: an answer that is
//! consistent, or a range error, never a panic or a wrapped number.
//!
//! Run longer with `PROPTEST_CASES=5000 cargo test --release --test fuzz`, or
//! for a bounded time with `scripts/fuzz SECONDS` (a new seed every round).
//! A failing case proptest finds is kept under `tests/it/fuzz.proptest-regressions`
//! and replayed first on every run.

use proptest::prelude::*;
use slt::calendar::holidays::Holidays;
use slt::calendar::{CalendarError, Coverage};
use slt::ingest::{judge, read_all, Input};
use slt::mapping::Mapping;
use slt::measure::{calendars_for, measure_all};
use slt::model::Table;
use slt::policy::Policy;
use slt::timestamp::{MAX_INSTANT, MIN_INSTANT};

fn field() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => prop::sample::select(vec![
            "2026-03-27T15:00:00Z", "2026-10-14T17:20:00+09:00", "2026-05-15T23:50:00-07:00",
            "2026-03-29T01:30:00+01:00", "2026-04-05T02:30:00+10:00", "1969-12-31T23:59:59.999Z",
            "2026-03-27T15:00:00", "2026-02-30T10:00:00Z", "9999-12-31T23:59:59Z", "2026-03-27 15:00:00Z",
            "2026-03-27T24:30:00Z", "2026-03-27T10:00:00+25:00", "P1", "P2", "P3", "P4", "P5", "Critical",
            "Online", "Elite", "Gold", "EMEA", "APAC", "Americas", "Japan", "Mars", "agent_response",
            "auto_response", "priority_change", "closed", "reopened", "teleport", "A1", "A2", "C1", "C2", "C3",
            "", " ", "2025-01-01", "2027-01-01",
        ]).prop_map(|s| s.as_bytes().to_vec()),
        1 => prop::collection::vec(any::<u8>(), 0..12),
        1 => Just(b"\"a,b\nc\"".to_vec()),
    ]
}

fn table(header: &str, columns: usize) -> impl Strategy<Value = Vec<u8>> {
    let header = header.to_string();
    prop::collection::vec(
        prop::collection::vec(field(), columns.saturating_sub(1)..columns + 2),
        0..12,
    )
    .prop_map(move |rows| {
        let mut out = header.clone().into_bytes();
        out.push(b'\n');
        for row in rows {
            out.extend(row.join(&b","[..]));
            out.push(b'\n');
        }
        out
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn hostile_exports_never_panic_and_every_row_is_accounted_for(
        accounts in table("account_id,tier,region,valid_from,valid_to", 5),
        cases in table("case_id,account_id,product,priority,created_at,closed_at,channel,language,contact_id", 9),
        events in table("case_id,at,kind,value", 4),
    ) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("accounts.csv"), &accounts).unwrap();
        std::fs::write(dir.path().join("cases.csv"), &cases).unwrap();
        std::fs::write(dir.path().join("events.csv"), &events).unwrap();
        let policy = Policy::bundled();
        // Every generated file has a valid header: no file is refused whole,
        // every row is judged, and the rows must add up.
        let sources = read_all(&Input::Dir(dir.path().to_path_buf()));
        prop_assert!(sources.is_ok(), "a generated file was refused: {:?}", sources.err());
        let ingested = judge(sources.unwrap(), &Mapping::default(), &policy, None);
        prop_assert!(ingested.is_ok(), "a generated export was refused: {:?}", ingested.err());
        let ingested = ingested.unwrap();
        let mut rejected = 0;
        for t in Table::ALL {
            let c = ingested.counts(t);
            prop_assert_eq!(c.read, c.used + c.rejected);
            rejected += c.rejected;
        }
        prop_assert_eq!(ingested.rejects.rows().len() as u64, rejected);
        prop_assert_eq!(ingested.cases.len() as u64, ingested.counts(Table::Cases).used);
        prop_assert_eq!(ingested.events.len() as u64, ingested.counts(Table::Events).used);
        if let Some((as_of, _)) = ingested.as_of(None) {
            let calendars = calendars_for(&policy, &Holidays::bundled(), &ingested.cases, &ingested.events, as_of);
            let results = measure_all(&ingested.cases, &ingested.events, &policy, &calendars, as_of);
            prop_assert_eq!(results.len(), ingested.cases.len());
        }
    }
}

/// Instants anywhere slt accepts, weighted towards the calendars' own years
/// and their edges.
fn instant() -> impl Strategy<Value = i64> {
    const YEAR: i64 = 365 * 86_400 * 1_000_000;
    let y2025 = 1_735_689_600_000_000i64;
    prop_oneof![
        2 => MIN_INSTANT..MAX_INSTANT,
        3 => (y2025 - YEAR / 12)..(y2025 + 2 * YEAR + YEAR / 12),
        1 => prop::sample::select(vec![MIN_INSTANT, MAX_INSTANT - 1, y2025, y2025 - 1, y2025 + 2 * YEAR]),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn calendar_operations_on_any_instant_answer_consistently_or_refuse(
        region in 0usize..4,
        coverage in prop::sample::select(vec![Coverage::Always, Coverage::Weekdays, Coverage::BusinessHours]),
        a in instant(),
        b in instant(),
        target in prop_oneof![0i64..10_000_000_000, 0i64..(1_000_000_000i64 * 60_000_000), Just(0i64), -5i64..0],
    ) {
        let policy = Policy::bundled();
        let calendars = policy.calendars(&slt::calendar::holidays::Holidays::bundled(), 2025..=2026);
        let calendar = calendars.get(region, coverage);
        match calendar.elapsed(a, b) {
            Ok(covered) => {
                prop_assert!(a <= b);
                prop_assert!((0..=b - a).contains(&covered));
            }
            Err(CalendarError::StartAfterEnd { .. }) => prop_assert!(a > b),
            Err(CalendarError::OutOfRange { .. }) => prop_assert!(coverage != Coverage::Always),
            Err(e) => prop_assert!(false, "unexpected {e}"),
        }
        match calendar.deadline(a, target) {
            Ok(deadline) => {
                prop_assert!(target >= 0);
                prop_assert!(deadline >= a, "deadline {deadline} before start {a}");
                if coverage != Coverage::Always {
                    prop_assert_eq!(calendar.elapsed(a, deadline), Ok(target));
                }
            }
            Err(CalendarError::NegativeTarget(_)) => prop_assert!(target < 0),
            Err(CalendarError::OutOfRange { .. }) => prop_assert!(coverage != Coverage::Always),
            Err(e) => prop_assert!(false, "unexpected {e}"),
        }
    }
}
