//! Fuzzing the ingest and the measurement with generated hostile exports
//! (proptest): any mix of valid and broken rows — malformed, offset-less or
//! impossible timestamps, unknown values, duplicate ids, quotes, commas,
//! newlines, bytes that are not UTF-8, ragged rows — must never panic, and
//! per table rows read = rows used + rows rejected must hold. The calendar
//! operations get any instant slt can parse (1900–2199) and any target
//! against calendars built for a few years only: an answer that is
//! consistent, or a range error, never a panic or a wrapped number. Policy
//! schedules (`week`, `days`, `open`/`close`, `business_day_minutes`,
//! `[coverage.24x7]`) and holiday lists with partial closures get bad
//! windows, overlaps, `25:00`, ends before starts, unknown weekdays and
//! half-given ranges: one clear line naming the file, or calendars that
//! answer consistently.
//!
//! Run longer with `PROPTEST_CASES=5000 cargo test --release --test it fuzz::`, or
//! for a bounded time with `scripts/fuzz SECONDS` (a new seed every round).
//! A failing case proptest finds is kept under `tests/it/fuzz.proptest-regressions`
//! and replayed first on every run.

use proptest::prelude::*;
use slt::calendar::holidays::Holidays;
use slt::calendar::{CalendarError, Coverage};
use slt::ingest::{judge, read_all, Input, READ_IN_PIECES};
use slt::mapping::Mapping;
use slt::measure::{calendars_for, measure_all, measure_all_in_place};
use slt::model::Table;
use slt::policy::Policy;
use slt::timestamp::{MAX_INSTANT, MIN_INSTANT};

/// `default` cases per property, or `PROPTEST_CASES` when it is set (as
/// `scripts/fuzz` does): `with_cases` alone would ignore the variable.
fn config(default: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default);
    ProptestConfig::with_cases(cases)
}

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
    #![proptest_config(config(256))]

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
        let sources = read_all(&Input::Dir(dir.path().to_path_buf()), &READ_IN_PIECES);
        prop_assert!(sources.is_ok(), "a generated file was refused: {:?}", sources.err());
        let ingested = judge(sources.unwrap(), &Mapping::default(), &policy, None, None);
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
            // Measuring with the events sorted in place gives the same.
            let mut events = ingested.events.clone();
            // And the progress it tells adds up to every case.
            let told = std::sync::atomic::AtomicU64::new(0);
            let tell = |n: u64| {
                told.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
            };
            let in_place = measure_all_in_place(&ingested.cases, &mut events, &policy, &calendars, as_of, &tell);
            prop_assert_eq!(format!("{in_place:?}"), format!("{results:?}"));
            prop_assert_eq!(told.into_inner(), ingested.cases.len() as u64);
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
    #![proptest_config(config(2000))]

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

// ---- weekly schedules and partial closures ----

/// A TOML basic string holding `s` exactly.
fn toml_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Clock-like text: valid times, `24:00`, `25:00`, minutes past 59, one
/// digit, garbage.
fn clock_text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => (0u32..=26, prop::sample::select(vec![0u32, 15, 30, 59, 60])).prop_map(|(h, m)| format!("{h:02}:{m:02}")),
        1 => prop::sample::select(vec!["24:00", "25:00", "9:00", "09:5", "", " ", "12", "ab:cd", "-1:00", "+9:00", "１２:００", "12:00:00", "23:59"]).prop_map(str::to_string),
        1 => "[0-9:\\- ]{0,7}",
    ]
}

fn window_text() -> impl Strategy<Value = String> {
    prop_oneof![
        5 => (clock_text(), clock_text()).prop_map(|(a, b)| format!("{a}-{b}")),
        1 => prop::sample::select(vec!["08:00-12:00", "13:00-17:00", "00:00-24:00", "24:00-24:00", "12:00-08:00", "9-17", "-", "08:00-", "-12:00", "08:00-12:00-13:00", "08:00–12:00", " 08:00 - 12:00 "]).prop_map(str::to_string),
        1 => any::<String>(),
    ]
}

/// One region's keys, in any combination, mostly hostile.
fn hostile_region_text() -> impl Strategy<Value = String> {
    let day_name = prop::sample::select(vec![
        "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun", "monday", "Mun", "", "SUNDAY", "Mon ",
    ]);
    let week = prop::collection::vec(
        (
            day_name.clone().prop_map(str::to_string),
            prop::collection::vec(window_text(), 0..4),
        ),
        0..5,
    );
    (
        prop::sample::select(vec![
            "Europe/London",
            "Asia/Jerusalem",
            "Australia/Lord_Howe",
            "Mars/Olympus",
            "",
        ]),
        prop::option::of(clock_text()),
        prop::option::of(clock_text()),
        prop::option::of(prop::collection::vec(day_name, 0..4)),
        prop::option::of(week),
        prop::option::of(minutes_value()),
    )
        .prop_map(|(zone, open, close, days, week, minutes)| {
            let mut lines = vec![format!("time_zone = {}", toml_string(zone))];
            if let Some(o) = open {
                lines.push(format!("open = {}", toml_string(&o)));
            }
            if let Some(c) = close {
                lines.push(format!("close = {}", toml_string(&c)));
            }
            if let Some(days) = days {
                let names: Vec<String> = days.iter().map(|d| toml_string(d)).collect();
                lines.push(format!("days = [{}]", names.join(", ")));
            }
            if let Some(m) = minutes {
                lines.push(format!("business_day_minutes = {m}"));
            }
            if let Some(week) = week {
                lines.push(week_line(&week));
            }
            lines.join("\n")
        })
}

fn minutes_value() -> impl Strategy<Value = u64> {
    prop_oneof![
        Just(0u64),
        1u64..2000,
        Just(u64::from(u32::MAX)),
        Just(1u64 << 40)
    ]
}

fn week_line(week: &[(String, Vec<String>)]) -> String {
    let days: Vec<String> = week
        .iter()
        .map(|(day, windows)| {
            let ws: Vec<String> = windows.iter().map(|w| toml_string(w)).collect();
            format!("{} = [{}]", toml_string(day), ws.join(", "))
        })
        .collect();
    format!("week = {{ {} }}", days.join(", "))
}

/// A weekly schedule that is valid (sorted, disjoint quarter-hour windows,
/// split shifts included) but for, sometimes, one hostile window.
fn mostly_valid_region_text() -> impl Strategy<Value = String> {
    let day = prop::collection::vec(0u32..=96, 0..7).prop_map(|mut cuts| {
        cuts.sort_unstable();
        cuts.dedup();
        cuts.chunks_exact(2)
            .map(|p| {
                let clock = |q: u32| format!("{:02}:{:02}", q / 4, (q % 4) * 15);
                format!("{}-{}", clock(p[0]), clock(p[1]))
            })
            .collect::<Vec<_>>()
    });
    (
        prop::sample::select(vec![
            "Europe/London",
            "Asia/Jerusalem",
            "Australia/Lord_Howe",
        ]),
        prop::array::uniform7(day),
        prop::option::of((0usize..7, window_text())),
        prop::option::of(minutes_value()),
    )
        .prop_map(|(zone, days, hostile, minutes)| {
            let names = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
            let mut week: Vec<(String, Vec<String>)> = names
                .iter()
                .zip(days)
                .map(|(n, d)| (n.to_string(), d))
                .collect();
            if let Some((d, w)) = hostile {
                week[d].1.push(w);
            }
            let mut lines = vec![format!("time_zone = {}", toml_string(zone))];
            if let Some(m) = minutes {
                lines.push(format!("business_day_minutes = {m}"));
            }
            lines.push(week_line(&week));
            lines.join("\n")
        })
}

fn region_text() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => hostile_region_text(),
        3 => mostly_valid_region_text(),
        1 => (clock_text(), clock_text()).prop_map(|(o, c)| format!(
            "time_zone = \"Europe/London\"\nopen = {}\nclose = {}\ndays = [\"Sun\", \"Mon\", \"Thu\"]",
            toml_string(&o),
            toml_string(&c)
        )),
    ]
}

/// The bundled policy with `[regions.EMEA]` replaced, an optional
/// `[coverage.24x7]` and the P4 business days changed.
fn policy_text() -> impl Strategy<Value = String> {
    (
        region_text(),
        prop::sample::select(vec![
            "",
            "[coverage.24x7]\n",
            "[coverage.24x7]\nremove_holidays = true\n",
            "[coverage.24x7]\nremove_holidays = false\n",
            "[coverage.24x7]\nremove_holidays = \"yes\"\n",
        ]),
        prop::sample::select(vec![1u64, 3, 4_000_000_000, 1 << 33]),
    )
        .prop_map(|(region, always, days)| {
            let bundled = slt::policy::BUNDLED_TOML;
            let start = bundled.find("[regions.EMEA]").unwrap();
            let end = start + bundled[start..].find("[regions.APAC]").unwrap();
            format!(
                "{}[regions.EMEA]\n{region}\n\n{}",
                &bundled[..start],
                &bundled[end..]
            )
            .replace("[coverage.24x5]", &format!("{always}[coverage.24x5]"))
            .replace("business_days = 3", &format!("business_days = {days}"))
        })
}

fn holiday_csv() -> impl Strategy<Value = String> {
    let header = prop::sample::select(vec![
        "region,date,name",
        "region,date,name,start,end",
        "region,date,name,start,end",
        "region,date,name,start",
        "region,date,end,start,name",
        "region,date,name,end",
    ]);
    let range = prop_oneof![
        // A valid part of a day, often around the clock changes.
        3 => (0u32..=96, 0u32..=96).prop_map(|(a, b)| {
            let clock = |q: u32| format!("{:02}:{:02}", q / 4, (q % 4) * 15);
            vec![clock(a.min(b)), clock(a.max(b))]
        }),
        1 => Just(vec![String::new(), String::new()]),
        1 => Just(vec![]),
        2 => prop::collection::vec(clock_text(), 0..4),
    ];
    let row = (
        prop::sample::select(vec!["EMEA", "EMEA", "APAC", "", "Mars"]),
        prop::sample::select(vec![
            "2026-10-25",
            "2026-03-29",
            "2026-12-24",
            "2026-06-08",
            "2026-06-09",
            "2026-02-30",
            "26-12-24",
        ]),
        range,
    )
        .prop_map(|(region, date, rest)| {
            let mut fields = vec![region.to_string(), date.to_string(), "x".to_string()];
            fields.extend(rest);
            fields.join(",")
        });
    (header, prop::collection::vec(row, 0..8))
        .prop_map(|(h, rows)| format!("{h}\n{}\n", rows.join("\n")))
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn hostile_schedules_and_closures_are_refused_clearly_or_answer_consistently(
        policy in policy_text(),
        holidays in holiday_csv(),
        a in 1_767_225_600_000_000i64..1_798_761_600_000_000,
        span in 0i64..(40 * 86_400_000_000),
        target in prop_oneof![0i64..(100 * 60_000_000), 0i64..(100_000 * 60_000_000)],
    ) {
        let policy = match slt::policy::Policy::parse(&policy, "p.toml") {
            Ok(p) => p,
            Err(e) => {
                // One line naming the file and, for a value, the key.
                let text = e.to_string();
                prop_assert!(text.starts_with("p.toml: ") && !text.contains('\n'), "{text}");
                return Ok(());
            }
        };
        let holidays = match slt::calendar::holidays::Holidays::parse_csv(&holidays, "h.csv") {
            Ok(h) => h,
            Err(e) => {
                let text = e.to_string();
                prop_assert!(text.starts_with("h.csv: ") && !text.contains('\n'), "{text}");
                return Ok(());
            }
        };
        let calendars = policy.calendars(&holidays, 2025..=2027);
        let emea = policy.region_index("EMEA").unwrap();
        for coverage in Coverage::ALL {
            let calendar = calendars.get(emea, coverage);
            let covered = calendar.elapsed(a, a + span).unwrap();
            prop_assert!((0..=span).contains(&covered));
            match calendar.deadline(a, target) {
                Ok(d) => prop_assert_eq!(calendar.elapsed(a, d), Ok(target)),
                Err(CalendarError::OutOfRange { .. }) => prop_assert!(target > 0),
                Err(e) => prop_assert!(false, "unexpected {e}"),
            }
        }
    }
}
