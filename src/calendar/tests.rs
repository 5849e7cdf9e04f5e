//! Calendar tests: the spec's worked examples, DST and holiday edge cases in
//! every region, and property tests against a day-by-day oracle.

use std::sync::OnceLock;

use chrono::{Datelike, Duration, NaiveDate};
use proptest::prelude::*;

use super::*;
use crate::calendar::holidays::Holidays;
use crate::policy::{Calendars, Policy};
use crate::timestamp::{format_rfc3339, parse_rfc3339, MICROS_PER_MINUTE};

struct Fixture {
    policy: Policy,
    holidays: Holidays,
    calendars: Calendars,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let policy = Policy::bundled();
        let holidays = Holidays::bundled();
        let calendars = policy.calendars(&holidays, 2019..=2031);
        Fixture {
            policy,
            holidays,
            calendars,
        }
    })
}

fn cal(region: &str, coverage: Coverage) -> &'static Calendar {
    let f = fixture();
    f.calendars
        .get(f.policy.region_index(region).unwrap(), coverage)
}

fn t(s: &str) -> Instant {
    parse_rfc3339(s).unwrap()
}

fn minutes(c: &Calendar, a: &str, b: &str) -> f64 {
    micros_to_minutes(c.elapsed(t(a), t(b)).unwrap())
}

fn deadline(c: &Calendar, a: &str, target_minutes: i64) -> String {
    format_rfc3339(
        c.deadline(t(a), target_minutes * MICROS_PER_MINUTE)
            .unwrap(),
    )
}

/// A calendar open all day every day (or a custom daily window) in one zone,
/// to put DST transitions *inside* the window.
fn every_day(zone: &str, open: u32, close: u32) -> Calendar {
    Calendar::weekly(
        &WeeklyWindow::daily(zone.parse().unwrap(), [true; 7], open, close),
        2025..=2027,
    )
}

use Coverage::{Always, BusinessHours, Weekdays};

// ---- the worked examples of docs/rules.md (calendar parts) ----

#[test]
fn spec_example_1_emea_friday_afternoon_across_spring_forward() {
    let c = cal("EMEA", BusinessHours);
    assert_eq!(
        deadline(c, "2026-03-27T15:00:00Z", 240),
        "2026-03-30T10:00:00Z"
    );
    assert_eq!(
        minutes(c, "2026-03-27T15:00:00Z", "2026-03-30T10:30:00+01:00"),
        210.0
    );
}

#[test]
fn spec_example_2_elite_p1_around_midnight_utc() {
    let c = cal("EMEA", Always);
    assert_eq!(
        minutes(c, "2026-07-04T23:55:00Z", "2026-07-05T00:12:00Z"),
        17.0
    );
    assert_eq!(
        deadline(c, "2026-07-04T23:55:00Z", 15),
        "2026-07-05T00:10:00Z"
    );
}

#[test]
fn spec_example_3_americas_24x5_friday_night_resumes_monday_midnight() {
    let c = cal("Americas", Weekdays);
    assert_eq!(
        deadline(c, "2026-05-15T23:50:00-07:00", 30),
        "2026-05-18T07:20:00Z"
    );
    assert_eq!(
        minutes(c, "2026-05-16T06:50:00Z", "2026-05-18T00:15:00-07:00"),
        25.0
    );
}

#[test]
fn spec_example_4_japan_business_hours_after_close() {
    let c = cal("Japan", BusinessHours);
    assert_eq!(
        deadline(c, "2026-10-14T17:20:00+09:00", 30),
        "2026-10-15T00:20:00Z"
    );
}

#[test]
fn spec_example_5_apac_easter_holidays_and_end_of_dst() {
    let c = cal("APAC", BusinessHours);
    assert_eq!(
        deadline(c, "2026-04-02T10:00:00+11:00", 3 * 480),
        "2026-04-09T00:00:00Z"
    );
    assert_eq!(
        minutes(c, "2026-04-02T10:00:00+11:00", "2026-04-09T10:00:00+10:00"),
        1440.0
    );
}

#[test]
fn spec_example_6_restart_and_from_creation_deadlines() {
    assert_eq!(
        deadline(cal("EMEA", BusinessHours), "2026-06-09T09:00:00+01:00", 360),
        "2026-06-09T14:00:00Z"
    );
    let c = cal("EMEA", Always);
    assert_eq!(
        deadline(c, "2026-06-09T10:00:00+01:00", 60),
        "2026-06-09T10:00:00Z"
    );
    assert_eq!(
        minutes(c, "2026-06-09T10:00:00+01:00", "2026-06-09T11:10:00+01:00"),
        70.0
    );
    assert_eq!(
        deadline(c, "2026-06-09T09:00:00+01:00", 60),
        "2026-06-09T09:00:00Z"
    );
    assert_eq!(
        minutes(c, "2026-06-09T09:00:00+01:00", "2026-06-09T11:10:00+01:00"),
        130.0
    );
}

#[test]
fn spec_example_7_target_running_out_at_close_lands_on_next_opening() {
    let c = cal("EMEA", BusinessHours);
    assert_eq!(
        deadline(c, "2026-03-27T13:00:00Z", 240),
        "2026-03-30T08:00:00Z"
    );
    assert_eq!(
        minutes(c, "2026-03-27T13:00:00Z", "2026-03-27T17:40:00Z"),
        240.0
    );
}

// ---- DST across business hours, per region ----

#[test]
fn americas_business_hours_across_spring_forward_and_fall_back() {
    let c = cal("Americas", BusinessHours);
    assert_eq!(
        minutes(c, "2026-03-06T12:00:00-08:00", "2026-03-09T12:00:00-07:00"),
        690.0
    );
    assert_eq!(
        deadline(c, "2026-03-06T12:00:00-08:00", 690),
        "2026-03-09T19:00:00Z"
    );
    assert_eq!(
        deadline(c, "2026-10-30T12:00:00-07:00", 690),
        "2026-11-02T20:00:00Z"
    );
    // The Monday window opens at 06:00 local: 13:00Z in PDT, 14:00Z in PST.
    assert!(c.is_open(t("2026-03-09T13:00:00Z")) && !c.is_open(t("2026-03-02T13:00:00Z")));
}

#[test]
fn americas_24x5_weekend_across_spring_forward() {
    let c = cal("Americas", Weekdays);
    assert_eq!(
        minutes(c, "2026-03-06T23:00:00-08:00", "2026-03-09T01:00:00-07:00"),
        120.0
    );
}

#[test]
fn emea_business_hours_across_fall_back() {
    let c = cal("EMEA", BusinessHours);
    assert_eq!(
        deadline(c, "2026-10-23T15:00:00+01:00", 240),
        "2026-10-26T11:00:00Z"
    );
}

#[test]
fn apac_business_hours_across_october_spring_forward_and_labour_day() {
    // Fri 2 Oct 15:00 AEST; Sydney springs forward Sun 4 Oct; Mon 5 Oct is
    // Labour Day in NSW; Tue 6 Oct 09:00–11:00 AEDT gives the other 120.
    let c = cal("APAC", BusinessHours);
    assert_eq!(
        deadline(c, "2026-10-02T15:00:00+10:00", 240),
        "2026-10-06T00:00:00Z"
    );
}

#[test]
fn japan_ignores_other_zones_dst_changes() {
    let c = cal("Japan", BusinessHours);
    assert_eq!(
        minutes(c, "2026-03-06T09:00:00+09:00", "2026-03-09T17:30:00+09:00"),
        1020.0
    );
    assert_eq!(
        minutes(c, "2026-10-23T09:00:00+09:00", "2026-10-26T17:30:00+09:00"),
        1020.0
    );
}

// ---- DST inside the window: 23- and 25-hour days, edges in gaps and folds ----

#[test]
fn spring_forward_day_counts_23_hours_fall_back_day_25() {
    let cases = [
        (
            "America/Los_Angeles",
            "2026-03-08T00:00:00-08:00",
            "2026-03-09T00:00:00-07:00",
            23,
        ),
        (
            "America/Los_Angeles",
            "2026-11-01T00:00:00-07:00",
            "2026-11-02T00:00:00-08:00",
            25,
        ),
        (
            "Europe/London",
            "2026-03-29T00:00:00Z",
            "2026-03-30T00:00:00+01:00",
            23,
        ),
        (
            "Europe/London",
            "2026-10-25T00:00:00+01:00",
            "2026-10-26T00:00:00Z",
            25,
        ),
        (
            "Australia/Sydney",
            "2026-10-04T00:00:00+10:00",
            "2026-10-05T00:00:00+11:00",
            23,
        ),
        (
            "Australia/Sydney",
            "2026-04-05T00:00:00+11:00",
            "2026-04-06T00:00:00+10:00",
            25,
        ),
        (
            "Asia/Tokyo",
            "2026-03-08T00:00:00+09:00",
            "2026-03-09T00:00:00+09:00",
            24,
        ),
    ];
    for (zone, a, b, hours) in cases {
        let c = every_day(zone, 0, 86_400);
        assert_eq!(minutes(&c, a, b), f64::from(hours * 60), "{zone} {a}");
        // Outside any window the same span of a 9–17 calendar counts 8 hours.
        let office = every_day(zone, 9 * 3600, 17 * 3600);
        assert_eq!(minutes(&office, a, b), 480.0, "{zone} {a}");
    }
}

#[test]
fn window_edge_in_spring_forward_gap_opens_after_the_gap() {
    // 02:30–05:00 on 2026-03-08 in Los Angeles: 02:30 does not exist, the
    // window opens at 03:00 PDT (10:00Z) and closes at 05:00 PDT (12:00Z).
    let c = every_day("America/Los_Angeles", 2 * 3600 + 1800, 5 * 3600);
    assert_eq!(
        minutes(&c, "2026-03-08T00:00:00Z", "2026-03-09T00:00:00Z"),
        120.0
    );
    assert!(c.is_open(t("2026-03-08T10:00:00Z")));
    assert!(!c.is_open(t("2026-03-08T09:59:59Z")));
    // London, Sydney: the same rule.
    let london = every_day("Europe/London", 3600 + 1800, 3 * 3600);
    assert_eq!(
        minutes(&london, "2026-03-29T00:00:00Z", "2026-03-30T00:00:00Z"),
        60.0
    );
    let sydney = every_day("Australia/Sydney", 2 * 3600 + 1800, 4 * 3600);
    assert_eq!(
        minutes(&sydney, "2026-10-03T14:00:00Z", "2026-10-04T13:00:00Z"),
        60.0
    );
}

#[test]
fn window_edge_in_fall_back_fold_takes_the_earlier_instant() {
    // 01:30–03:00 on 2026-11-01 in LA: opens 01:30 PDT (08:30Z), closes 03:00 PST (11:00Z).
    let c = every_day("America/Los_Angeles", 3600 + 1800, 3 * 3600);
    assert_eq!(
        minutes(&c, "2026-11-01T00:00:00Z", "2026-11-02T00:00:00Z"),
        150.0
    );
    assert!(c.is_open(t("2026-11-01T08:30:00Z")));
    let london = every_day("Europe/London", 3600 + 1800, 2 * 3600);
    // Opens 01:30 BST (00:30Z), closes 02:00 GMT (02:00Z).
    assert_eq!(
        minutes(&london, "2026-10-25T00:00:00Z", "2026-10-25T12:00:00Z"),
        90.0
    );
    let sydney = every_day("Australia/Sydney", 2 * 3600 + 1800, 3 * 3600);
    // Opens 02:30 AEDT (15:30Z), closes 03:00 AEST (17:00Z) on 2026-04-05.
    assert_eq!(
        minutes(&sydney, "2026-04-04T12:00:00Z", "2026-04-05T12:00:00Z"),
        90.0
    );
}

// ---- holidays and weekends, per region ----

#[test]
fn americas_observed_independence_day_is_closed() {
    let c = cal("Americas", BusinessHours);
    assert_eq!(
        deadline(c, "2026-07-02T17:00:00-07:00", 60),
        "2026-07-06T13:30:00Z"
    );
}

#[test]
fn emea_easter_holidays_are_closed_but_24x5_is_not() {
    let c = cal("EMEA", BusinessHours);
    assert_eq!(
        deadline(c, "2026-04-02T16:00:00+01:00", 120),
        "2026-04-07T09:00:00Z"
    );
    assert_eq!(
        minutes(
            cal("EMEA", Weekdays),
            "2026-04-03T00:00:00+01:00",
            "2026-04-04T00:00:00+01:00"
        ),
        1440.0
    );
}

#[test]
fn japan_sports_day_is_closed() {
    let c = cal("Japan", BusinessHours);
    assert_eq!(
        deadline(c, "2026-10-09T17:00:00+09:00", 60),
        "2026-10-13T00:30:00Z"
    );
}

#[test]
fn apac_good_friday_removes_the_local_day_not_the_utc_day() {
    let c = cal("APAC", BusinessHours);
    // Thu 2 April 17:00 AEDT = 06:00Z; Fri 3 April is closed in Sydney.
    assert_eq!(
        minutes(c, "2026-04-02T06:00:00Z", "2026-04-06T22:59:00Z"),
        0.0
    );
}

#[test]
fn weekends_count_nothing_in_every_region() {
    for region in ["Americas", "EMEA", "APAC", "Japan"] {
        let zone = fixture().policy.regions[fixture().policy.region_index(region).unwrap()].zone;
        let sat = crate::calendar::zone::resolve_local(
            zone,
            NaiveDate::from_ymd_opt(2026, 6, 13)
                .unwrap()
                .and_hms_opt(0, 0, 0)
                .unwrap(),
        );
        let mon = sat + 2 * 86_400 * 1_000_000;
        for coverage in [Weekdays, BusinessHours] {
            assert_eq!(
                cal(region, coverage).elapsed(sat, mon).unwrap(),
                0,
                "{region} {coverage}"
            );
        }
        assert_eq!(
            cal(region, Always).elapsed(sat, mon).unwrap(),
            2 * 86_400 * 1_000_000
        );
    }
}

// ---- degenerate and edge instants ----

#[test]
fn start_equal_to_end_is_zero_and_start_after_end_is_an_error() {
    for region in ["Americas", "EMEA", "APAC", "Japan"] {
        for coverage in Coverage::ALL {
            let c = cal(region, coverage);
            assert_eq!(
                c.elapsed(t("2026-06-10T10:00:00Z"), t("2026-06-10T10:00:00Z"))
                    .unwrap(),
                0
            );
            let err = c
                .elapsed(t("2026-06-10T10:00:01Z"), t("2026-06-10T10:00:00Z"))
                .unwrap_err();
            assert!(matches!(err, CalendarError::StartAfterEnd { .. }));
            assert_eq!(
                err.to_string(),
                "start `2026-06-10T10:00:01Z` is after end `2026-06-10T10:00:00Z`"
            );
        }
    }
}

#[test]
fn emea_forty_day_span_counts_thirty_business_days() {
    let c = cal("EMEA", BusinessHours);
    assert_eq!(
        minutes(c, "2026-06-01T00:00:00Z", "2026-07-11T00:00:00Z"),
        30.0 * 480.0
    );
}

#[test]
fn forty_day_spans_match_the_oracle_in_every_region() {
    for region in ["Americas", "EMEA", "APAC", "Japan"] {
        for coverage in [Weekdays, BusinessHours] {
            for start in [
                "2026-03-01T05:17:00Z",
                "2026-09-20T22:03:00Z",
                "2026-12-10T00:00:00Z",
            ] {
                let a = t(start);
                let b = a + 40 * 86_400 * 1_000_000;
                assert_eq!(
                    cal(region, coverage).elapsed(a, b).unwrap(),
                    oracle_elapsed(region, coverage, a, b),
                    "{region} {coverage} {start}"
                );
            }
        }
    }
}

#[test]
fn instants_exactly_on_window_edges() {
    let c = cal("EMEA", BusinessHours);
    let open = "2026-06-08T08:00:00Z"; // Mon 09:00 BST
    let close = "2026-06-08T16:00:00Z"; // Mon 17:00 BST
    assert_eq!(minutes(c, open, close), 480.0);
    assert!(c.is_open(t(open)) && !c.is_open(t(close)));
    assert_eq!(minutes(c, close, "2026-06-09T08:00:00Z"), 0.0);
    assert_eq!(deadline(c, open, 480), "2026-06-09T08:00:00Z");
    assert_eq!(deadline(c, open, 479), "2026-06-08T15:59:00Z");
    assert_eq!(deadline(c, close, 1), "2026-06-09T08:01:00Z");
    // A target of 0 returns the start unchanged, even outside coverage.
    assert_eq!(
        deadline(c, "2026-06-13T12:00:00Z", 0),
        "2026-06-13T12:00:00Z"
    );
    // 24x5 closes at Friday 24:00: a target running out then lands on Monday 00:00.
    let w = cal("EMEA", Weekdays);
    assert_eq!(
        deadline(w, "2026-06-12T23:30:00+01:00", 30),
        "2026-06-14T23:00:00Z"
    );
}

#[test]
fn out_of_range_is_an_error_not_a_guess() {
    let c = cal("EMEA", BusinessHours);
    let err = c
        .elapsed(t("2010-01-01T00:00:00Z"), t("2026-01-01T00:00:00Z"))
        .unwrap_err();
    assert!(matches!(err, CalendarError::OutOfRange { .. }), "{err}");
    assert!(c
        .deadline(t("2031-12-30T00:00:00Z"), 100_000 * MICROS_PER_MINUTE)
        .is_err());
    assert!(c.deadline(t("2026-01-01T00:00:00Z"), -1).is_err());
}

// ---- the oracle: day by day, for tests only ----

fn oracle_elapsed(region: &str, coverage: Coverage, a: Instant, b: Instant) -> i64 {
    let f = fixture();
    let r = f.policy.region_index(region).unwrap();
    let window = f.policy.window(r, coverage, &f.holidays).expect("not 24x7");
    oracle_window_elapsed(&window, a, b)
}

/// Covered time of `window` in `[a, b)`, day by day and independently of
/// the table: each local day's windows are resolved to UTC, that day's
/// closures (resolved the same way) are cut out *in UTC*, and what is left
/// is intersected with `[a, b)` and summed. No merging, no prefix sums: if
/// two days' parts overlapped, the sum would count twice and differ.
fn oracle_window_elapsed(window: &WeeklyWindow, a: Instant, b: Instant) -> i64 {
    let first = crate::timestamp::to_datetime(a).date_naive() - Duration::days(2);
    let last = crate::timestamp::to_datetime(b).date_naive() + Duration::days(2);
    let mut total = 0;
    let mut day = first;
    while day <= last {
        let at = |secs: u32| {
            let (d, s) = if secs >= 86_400 {
                (day + Duration::days(1), secs - 86_400)
            } else {
                (day, secs)
            };
            crate::calendar::zone::resolve_local(
                window.zone,
                d.and_hms_opt(s / 3600, (s / 60) % 60, s % 60).unwrap(),
            )
        };
        let wd = day.weekday().num_days_from_monday() as usize;
        let mut parts: Vec<(Instant, Instant)> = window.week[wd]
            .iter()
            .map(|&(o, c)| (at(o), at(c.min(86_400))))
            .collect();
        for closure in window.closures.iter().filter(|c| c.date == day) {
            let (cs, ce) = (at(closure.start), at(closure.end.min(86_400)));
            parts = parts
                .into_iter()
                .flat_map(|(s, e)| [(s, e.min(cs)), (s.max(ce), e)])
                .filter(|(s, e)| e > s)
                .collect();
        }
        for (open, close) in parts {
            let (lo, hi) = (open.max(a), close.min(b));
            if hi > lo {
                total += hi - lo;
            }
        }
        day += Duration::days(1);
    }
    total
}

/// Covered time of `window` in `[a, b)`, minute by minute in UTC, from the
/// gap/fold rule stated as a property of the wall clock rather than of
/// resolved edges: an instant is covered iff the highest wall-clock
/// reading shown so far (the reading itself, except during the repeated
/// hour of a fold, where it stays at the reading just before the clocks
/// went back) falls in an open window of its local day and in no closure.
/// A window edge in a gap then opens at the first instant after the gap,
/// and one in a fold at the earlier of its two instants. Every edge and
/// transition of the zones used falls on a whole UTC minute, so a minute
/// is covered or not as a whole.
fn scan_oracle_elapsed(window: &WeeklyWindow, a: Instant, b: Instant) -> i64 {
    use chrono::{TimeZone, Timelike};
    const MINUTE: i64 = 60_000_000;
    let covered = |t: chrono::NaiveDateTime| {
        let (day, s) = (t.date(), t.num_seconds_from_midnight());
        let wd = day.weekday().num_days_from_monday() as usize;
        window.week[wd].iter().any(|&(o, c)| o <= s && s < c)
            && !window
                .closures
                .iter()
                .any(|c| c.date == day && c.start <= s && s < c.end)
    };
    // Start a day early so that the high-water mark of a fold is known.
    let mut m = (a.div_euclid(MINUTE) - 24 * 60) * MINUTE;
    let mut high = chrono::NaiveDateTime::MIN;
    let mut total = 0;
    while m < b {
        let utc = chrono::DateTime::from_timestamp_micros(m)
            .unwrap()
            .naive_utc();
        high = high.max(window.zone.from_utc_datetime(&utc).naive_local());
        let (lo, hi) = (m.max(a), (m + MINUTE).min(b));
        if hi > lo && covered(high) {
            total += hi - lo;
        }
        m += MINUTE;
    }
    total
}

// ---- properties ----

const REGIONS: [&str; 4] = ["Americas", "EMEA", "APAC", "Japan"];
/// 2025-01-01T00:00:00Z .. 2028-01-01T00:00:00Z in seconds.
const FROM: i64 = 1_735_689_600;
const TO: i64 = 1_830_297_600;
const MAX_SPAN: i64 = 40 * 86_400;

fn coverage_strategy() -> impl Strategy<Value = Coverage> {
    prop_oneof![Just(Always), Just(Weekdays), Just(BusinessHours)]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn elapsed_is_additive(r in 0usize..4, c in coverage_strategy(), a in FROM..TO, d1 in 0..MAX_SPAN, d2 in 0..MAX_SPAN) {
        let cal = cal(REGIONS[r], c);
        let (a, b, e) = (a * 1_000_000, (a + d1) * 1_000_000, (a + d1 + d2) * 1_000_000 + 123_456);
        prop_assert_eq!(cal.elapsed(a, b).unwrap() + cal.elapsed(b, e).unwrap(), cal.elapsed(a, e).unwrap());
    }

    #[test]
    fn deadline_then_elapsed_gives_back_the_target(r in 0usize..4, c in coverage_strategy(), a in FROM..TO, target_s in 0i64..(30 * 86_400)) {
        let cal = cal(REGIONS[r], c);
        let (a, target) = (a * 1_000_000, target_s * 1_000_000);
        let d = cal.deadline(a, target).unwrap();
        prop_assert!(d >= a);
        prop_assert_eq!(cal.elapsed(a, d).unwrap(), target);
        // The deadline is the *last* such instant: one microsecond later is over.
        if target > 0 {
            prop_assert!(cal.elapsed(a, d + 1).unwrap() > target);
        }
    }

    #[test]
    fn elapsed_then_deadline_lands_at_or_after_the_end(r in 0usize..4, c in coverage_strategy(), a in FROM..TO, d in 1..MAX_SPAN) {
        let cal = cal(REGIONS[r], c);
        let (a, b) = (a * 1_000_000, (a + d) * 1_000_000);
        let e = cal.elapsed(a, b).unwrap();
        let back = cal.deadline(a, e).unwrap();
        prop_assert!(back >= b || e == 0);
        if cal.is_open(b) && e > 0 {
            prop_assert_eq!(back, b);
        }
    }

    #[test]
    fn elapsed_is_at_most_wall_clock_and_24x7_is_wall_clock(r in 0usize..4, c in coverage_strategy(), a in FROM..TO, d in 0..MAX_SPAN) {
        let (a, b) = (a * 1_000_000, (a + d) * 1_000_000);
        prop_assert!(cal(REGIONS[r], c).elapsed(a, b).unwrap() <= b - a);
        prop_assert_eq!(cal(REGIONS[r], Always).elapsed(a, b).unwrap(), b - a);
    }

    #[test]
    fn elapsed_matches_the_day_by_day_oracle(r in 0usize..4, bh in any::<bool>(), a in FROM..TO, d in 0..MAX_SPAN) {
        let c = if bh { BusinessHours } else { Weekdays };
        let (a, b) = (a * 1_000_000, (a + d) * 1_000_000);
        prop_assert_eq!(cal(REGIONS[r], c).elapsed(a, b).unwrap(), oracle_elapsed(REGIONS[r], c, a, b));
    }
}

// ---- weekly schedules: fixtures/policies/schedules.toml ----
//
// Berlin: Mon–Thu 08:00–12:00 and 13:00–17:00, Fri 08:00–12:00 and
// 13:00–15:00, Sat 09:00–13:00 (CET +01:00, CEST +02:00 from 29 March to
// 25 October 2026). TelAviv: Sun–Thu 09:00–18:00, Asia/Jerusalem (IST
// +02:00, IDT +03:00 from Friday 27 March to Sunday 25 October 2026).
// Holidays: fixtures/policies/schedules-holidays.csv.

struct ScheduleFixture {
    policy: Policy,
    calendars: Calendars,
}

fn schedules() -> &'static ScheduleFixture {
    static F: OnceLock<ScheduleFixture> = OnceLock::new();
    F.get_or_init(|| {
        let policy = Policy::parse(
            include_str!("../../fixtures/policies/schedules.toml"),
            "schedules.toml",
        )
        .unwrap();
        let holidays = Holidays::parse_csv(
            include_str!("../../fixtures/policies/schedules-holidays.csv"),
            "schedules-holidays.csv",
        )
        .unwrap();
        let calendars = policy.calendars(&holidays, 2025..=2027);
        ScheduleFixture { policy, calendars }
    })
}

fn sched(region: &str, coverage: Coverage) -> &'static Calendar {
    let f = schedules();
    f.calendars
        .get(f.policy.region_index(region).unwrap(), coverage)
}

#[test]
fn berlin_lunch_break_crossed_by_an_interval_counts_only_the_open_hours() {
    let c = sched("Berlin", BusinessHours);
    // Mon 8 June 2026, 11:00 → 14:00 CEST: 11–12 and 13–14.
    assert_eq!(
        minutes(c, "2026-06-08T11:00:00+02:00", "2026-06-08T14:00:00+02:00"),
        120.0
    );
    // Inside the break: only 13:00–13:30 counts.
    assert_eq!(
        minutes(c, "2026-06-08T12:30:00+02:00", "2026-06-08T13:30:00+02:00"),
        30.0
    );
    assert!(!c.is_open(t("2026-06-08T10:00:00Z")) && c.is_open(t("2026-06-08T11:00:00Z")));
}

#[test]
fn berlin_deadline_running_out_at_noon_is_due_at_one() {
    let c = sched("Berlin", BusinessHours);
    // 2 hours from 10:00 CEST run out at the 12:00 close: due at 13:00 CEST.
    assert_eq!(
        deadline(c, "2026-06-08T10:00:00+02:00", 120),
        "2026-06-08T11:00:00Z"
    );
    // A response at 12:59 is within: 120 business minutes.
    assert_eq!(
        minutes(c, "2026-06-08T10:00:00+02:00", "2026-06-08T12:59:00+02:00"),
        120.0
    );
    // One more minute lands after the break.
    assert_eq!(
        deadline(c, "2026-06-08T10:00:00+02:00", 121),
        "2026-06-08T11:01:00Z"
    );
    // Started during the break, the clock starts at 13:00.
    assert_eq!(
        deadline(c, "2026-06-08T12:10:00+02:00", 30),
        "2026-06-08T11:30:00Z"
    );
}

#[test]
fn berlin_short_friday_rolls_into_saturday_morning() {
    let c = sched("Berlin", BusinessHours);
    // Fri 12 June 14:00–15:00 CEST gives 60; Saturday 09:00–10:00 the rest.
    assert_eq!(
        deadline(c, "2026-06-12T14:00:00+02:00", 120),
        "2026-06-13T08:00:00Z"
    );
    // Friday is 360 minutes long, Monday 480.
    assert_eq!(
        minutes(c, "2026-06-12T00:00:00+02:00", "2026-06-13T00:00:00+02:00"),
        360.0
    );
    assert_eq!(
        minutes(c, "2026-06-08T00:00:00+02:00", "2026-06-09T00:00:00+02:00"),
        480.0
    );
}

#[test]
fn berlin_saturday_morning_counts_and_a_target_ending_at_its_close_lands_on_monday() {
    let c = sched("Berlin", BusinessHours);
    // Friday 360 + Saturday 240, Sunday closed.
    assert_eq!(
        minutes(c, "2026-06-12T00:00:00+02:00", "2026-06-15T00:00:00+02:00"),
        600.0
    );
    // 2 hours from Saturday 11:00 run out at the 13:00 close: Monday 08:00 CEST.
    assert_eq!(
        deadline(c, "2026-06-13T11:00:00+02:00", 120),
        "2026-06-15T06:00:00Z"
    );
}

#[test]
fn berlin_saturday_morning_then_monday_across_spring_forward() {
    let c = sched("Berlin", BusinessHours);
    // Sat 28 March 12:00 CET (11:00Z): 60 minutes to 13:00; the clocks go
    // forward on Sunday; Monday opens at 08:00 CEST (06:00Z).
    assert_eq!(
        minutes(c, "2026-03-28T12:00:00+01:00", "2026-03-30T09:00:00+02:00"),
        120.0
    );
    assert_eq!(
        deadline(c, "2026-03-28T12:00:00+01:00", 90),
        "2026-03-30T06:30:00Z"
    );
}

#[test]
fn berlin_business_day_of_uneven_days_is_business_day_minutes_of_office_time() {
    let f = schedules();
    let berlin = f.policy.region_index("Berlin").unwrap();
    let elite = f.policy.tier_index("Elite").unwrap();
    let p4 = f.policy.target(elite, berlin, crate::model::Priority::P4);
    assert_eq!((p4.coverage, p4.minutes), (BusinessHours, 480));
    let c = sched("Berlin", BusinessHours);
    // From Monday 08:00 a whole Monday: runs out at 17:00, due Tuesday 08:00.
    assert_eq!(
        deadline(c, "2026-06-08T08:00:00+02:00", 480),
        "2026-06-09T06:00:00Z"
    );
    // From Friday 08:00: Friday's 360, then 120 of Saturday: 11:00 CEST.
    assert_eq!(
        deadline(c, "2026-06-12T08:00:00+02:00", 480),
        "2026-06-13T09:00:00Z"
    );
    let tel_aviv = f.policy.region_index("TelAviv").unwrap();
    assert_eq!(f.policy.regions[tel_aviv].business_day_minutes, 540);
}

#[test]
fn tel_aviv_sunday_to_thursday_week_across_the_october_fall_back() {
    let c = sched("TelAviv", BusinessHours);
    // Thu 22 October 16:00 IDT (13:00Z): 120 minutes to 18:00. Friday and
    // Saturday are the weekend; Israel leaves DST on Sunday 25 October at
    // 02:00, so Sunday opens at 09:00 IST = 07:00Z; 120 more → 11:00 IST.
    assert_eq!(
        deadline(c, "2026-10-22T16:00:00+03:00", 240),
        "2026-10-25T09:00:00Z"
    );
    assert_eq!(
        minutes(c, "2026-10-22T13:00:00Z", "2026-10-25T09:00:00Z"),
        240.0
    );
    assert_eq!(
        minutes(c, "2026-10-23T00:00:00+03:00", "2026-10-25T00:00:00+03:00"),
        0.0
    );
}

#[test]
fn tel_aviv_sunday_to_thursday_week_across_the_friday_spring_forward() {
    let c = sched("TelAviv", BusinessHours);
    // Thu 26 March 17:00 IST (15:00Z): 60 minutes; the clocks go forward on
    // Friday 27 March; Sunday 29 March opens at 09:00 IDT = 06:00Z.
    assert_eq!(
        deadline(c, "2026-03-26T17:00:00+02:00", 120),
        "2026-03-29T07:00:00Z"
    );
    // Monday 09:00 IDT is open there, Friday 11:00 IDT is not.
    assert!(c.is_open(t("2026-03-30T06:00:00Z")));
    assert!(!c.is_open(t("2026-03-27T08:00:00Z")));
}

#[test]
fn half_day_closure_on_the_day_of_a_dst_change() {
    // TelAviv closes at 13:00 on Sunday 25 October 2026, the day Israel
    // leaves DST (02:00 IDT → 01:00 IST): 09:00–13:00 IST = 07:00Z–11:00Z.
    let c = sched("TelAviv", BusinessHours);
    assert_eq!(
        minutes(c, "2026-10-25T00:00:00+03:00", "2026-10-26T00:00:00+02:00"),
        240.0
    );
    assert!(!c.is_open(t("2026-10-25T11:00:00Z")));
    // 2 hours from 12:00 IST: 60 to the closure, then Monday 09:00–10:00 IST.
    assert_eq!(
        deadline(c, "2026-10-25T12:00:00+02:00", 120),
        "2026-10-26T08:00:00Z"
    );
    // On 24x7 (holidays removed) the same local day is 25 hours long; the
    // closure removes 13:00–24:00 IST (11 hours): 14 hours count.
    let all = sched("TelAviv", Always);
    assert_eq!(
        minutes(
            all,
            "2026-10-25T00:00:00+03:00",
            "2026-10-26T00:00:00+02:00"
        ),
        14.0 * 60.0
    );
}

#[test]
fn half_day_closure_edges_in_a_fold_and_in_a_gap_follow_the_rule() {
    let policy = Policy::parse(
        include_str!("../../fixtures/policies/schedules.toml"),
        "schedules.toml",
    )
    .unwrap();
    let holidays = Holidays::parse_csv(
        "region,date,name,start,end\nEMEA,2026-10-25,fold,01:30,12:00\nEMEA,2026-03-29,gap,01:30,12:00\n",
        "h.csv",
    )
    .unwrap();
    let emea = policy.region_index("EMEA").unwrap();
    let c = policy.calendar(emea, Always, &holidays, 2026..=2026);
    // 25 October, London, a 25-hour day: the closure opens at the first
    // 01:30 (BST, 00:30Z) and ends at 12:00 GMT (12:00Z): 11.5 h closed.
    assert_eq!(
        minutes(&c, "2026-10-25T00:00:00+01:00", "2026-10-26T00:00:00Z"),
        13.5 * 60.0
    );
    assert!(c.is_open(t("2026-10-25T00:29:59Z")) && !c.is_open(t("2026-10-25T00:30:00Z")));
    // 29 March, a 23-hour day: 01:30 does not exist, the closure starts at
    // the end of the gap (02:00 BST, 01:00Z) and ends at 12:00 BST (11:00Z).
    assert_eq!(
        minutes(&c, "2026-03-29T00:00:00Z", "2026-03-30T00:00:00+01:00"),
        13.0 * 60.0
    );
    assert!(c.is_open(t("2026-03-29T00:59:59Z")) && !c.is_open(t("2026-03-29T01:00:00Z")));
}

#[test]
fn christmas_is_closed_on_24x7_when_holidays_are_removed() {
    let c = sched("Berlin", Always);
    // Heiligabend closes from 12:00; the 25th and 26th whole; the 27th is open.
    assert_eq!(
        minutes(c, "2026-12-24T11:00:00+01:00", "2026-12-27T01:00:00+01:00"),
        120.0
    );
    // 15 minutes from 11:50: 10 before the closure, 5 after midnight on the 27th.
    assert_eq!(
        deadline(c, "2026-12-24T11:50:00+01:00", 15),
        "2026-12-26T23:05:00Z"
    );
    // A region without holidays in the list is open around the clock.
    assert_eq!(
        minutes(
            sched("Japan", Always),
            "2026-12-24T00:00:00Z",
            "2026-12-27T00:00:00Z"
        ),
        3.0 * 1440.0
    );
}

#[test]
fn bundled_24x7_keeps_holidays_and_has_no_table() {
    // Christmas Day in EMEA counts on 24x7 by default (no `[coverage.24x7]`).
    let c = cal("EMEA", Always);
    assert_eq!(
        minutes(c, "2026-12-25T00:00:00Z", "2026-12-26T00:00:00Z"),
        1440.0
    );
    // No table: any year answers.
    assert!(c
        .elapsed(t("1901-01-01T00:00:00Z"), t("2199-01-01T00:00:00Z"))
        .is_ok());
}

#[test]
fn windows_that_touch_merge_so_a_target_running_out_there_stays_there() {
    let zone: Tz = "Europe/Berlin".parse().unwrap();
    let mut week: [Vec<(u32, u32)>; 7] = Default::default();
    week[0] = vec![(8 * 3600, 12 * 3600), (12 * 3600, 17 * 3600)];
    week[1] = vec![(20 * 3600, 86_400)];
    week[2] = vec![(0, 2 * 3600)];
    let c = Calendar::weekly(
        &WeeklyWindow {
            zone,
            week,
            closures: vec![],
        },
        2026..=2026,
    );
    // Monday 08:00–12:00 + 12:00–17:00 is one window: 12:00 is no close.
    assert_eq!(
        deadline(&c, "2026-06-08T10:00:00+02:00", 120),
        "2026-06-08T10:00:00Z"
    );
    // Tuesday 24:00 and Wednesday 00:00 are the same instant: no close.
    assert_eq!(
        deadline(&c, "2026-06-09T23:00:00+02:00", 60),
        "2026-06-09T22:00:00Z"
    );
    assert_eq!(
        minutes(&c, "2026-06-09T00:00:00Z", "2026-06-11T00:00:00Z"),
        360.0
    );
}

#[test]
fn unsorted_and_overlapping_windows_given_directly_are_normalised() {
    let zone: Tz = "Europe/London".parse().unwrap();
    let mut week: [Vec<(u32, u32)>; 7] = Default::default();
    week[0] = vec![
        (13 * 3600, 17 * 3600),
        (9 * 3600, 12 * 3600),
        (11 * 3600, 14 * 3600),
        (20 * 3600, 90_000),
    ];
    let closures = vec![
        Closure {
            date: NaiveDate::from_ymd_opt(2026, 6, 15).unwrap(),
            start: 16 * 3600,
            end: 99_999,
        },
        Closure::whole_day(NaiveDate::from_ymd_opt(2026, 6, 8).unwrap()),
    ];
    let c = Calendar::weekly(
        &WeeklyWindow {
            zone,
            week,
            closures,
        },
        2026..=2026,
    );
    // 09:00–17:00 and 20:00–24:00: 12 hours on Monday 1 June.
    assert_eq!(
        minutes(&c, "2026-06-01T00:00:00+01:00", "2026-06-02T00:00:00+01:00"),
        720.0
    );
    // Closed all of 8 June; 9:00–16:00 on 15 June.
    assert_eq!(
        minutes(&c, "2026-06-08T00:00:00+01:00", "2026-06-09T00:00:00+01:00"),
        0.0
    );
    assert_eq!(
        minutes(&c, "2026-06-15T00:00:00+01:00", "2026-06-16T00:00:00+01:00"),
        420.0
    );
}

// ---- properties of generated weekly schedules ----

/// Zones with DST on different rules (Jerusalem on a Friday, Lord Howe by
/// half an hour, Chatham at 02:45), half-hour offsets and none, each with
/// the local date of a 2026 transition (any date for zones without DST):
/// closures and questions gather around it.
const ZONE_FOCUS: [(&str, u32, u32); 16] = [
    ("Europe/London", 3, 29),
    ("Europe/London", 10, 25),
    ("Europe/Berlin", 3, 29),
    ("Europe/Berlin", 10, 25),
    ("America/Los_Angeles", 3, 8),
    ("America/Los_Angeles", 11, 1),
    ("Australia/Sydney", 4, 5),
    ("Australia/Sydney", 10, 4),
    ("Asia/Jerusalem", 3, 27),
    ("Asia/Jerusalem", 10, 25),
    ("Australia/Lord_Howe", 4, 5),
    ("Australia/Lord_Howe", 10, 4),
    ("America/St_Johns", 11, 1),
    ("Pacific/Chatham", 9, 27),
    ("Asia/Kolkata", 6, 1),
    ("Asia/Tokyo", 3, 8),
];

/// One day's windows from quarter-hour cut points, many of them between
/// 00:00 and 04:00 where the clocks change: sorted, disjoint.
fn day_strategy() -> impl Strategy<Value = Vec<(u32, u32)>> {
    let cut = prop_oneof![0u32..=96, 0u32..=16];
    prop_oneof![
        1 => Just(vec![]),
        1 => Just(vec![(0, 86_400)]),
        4 => prop::collection::vec(cut, 0..7).prop_map(|mut cuts| {
            cuts.sort_unstable();
            cuts.dedup();
            cuts.chunks_exact(2).map(|p| (p[0] * 900, p[1] * 900)).collect()
        }),
    ]
}

/// A generated schedule in a zone with closures on the days `closure_days`
/// around a transition date, and that date's 00:00 UTC in seconds.
fn schedule_strategy(
    closure_days: std::ops::Range<i64>,
) -> impl Strategy<Value = (WeeklyWindow, i64)> {
    let edge = prop_oneof![0u32..=96, 0u32..=16];
    let closure = (
        closure_days,
        prop_oneof![
            Just(None),
            (edge.clone(), edge)
                .prop_map(|(a, b)| (a != b).then(|| (a.min(b) * 900, a.max(b) * 900)))
        ],
    );
    (
        prop::sample::select(ZONE_FOCUS.to_vec()),
        prop::array::uniform7(day_strategy()),
        prop::collection::vec(closure, 0..8),
    )
        .prop_map(|((zone, m, d), week, closures)| {
            let focus = NaiveDate::from_ymd_opt(2026, m, d).unwrap();
            let closures = closures
                .into_iter()
                .map(|(offset, range)| {
                    let date = focus + Duration::days(offset);
                    match range {
                        None => Closure::whole_day(date),
                        Some((start, end)) => Closure { date, start, end },
                    }
                })
                .collect();
            let window = WeeklyWindow {
                zone: zone.parse().unwrap(),
                week,
                closures,
            };
            let at = focus.and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp();
            (window, at)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn generated_schedules_are_additive_and_within_wall_time(
        (w, focus) in schedule_strategy(-10..30),
        start in -10 * 86_400i64..30 * 86_400,
        d1 in 0..MAX_SPAN,
        d2 in 0..MAX_SPAN,
    ) {
        let cal = Calendar::weekly(&w, 2025..=2027);
        let a = (focus + start) * 1_000_000 + 250_000;
        let (b, e) = (a + d1 * 1_000_000, a + (d1 + d2) * 1_000_000 + 123);
        let (ab, be, ae) = (cal.elapsed(a, b).unwrap(), cal.elapsed(b, e).unwrap(), cal.elapsed(a, e).unwrap());
        prop_assert_eq!(ab + be, ae);
        prop_assert!((0..=b - a).contains(&ab));
        prop_assert!(ae <= e - a);
    }

    #[test]
    fn generated_schedules_deadline_then_elapsed_gives_back_the_target(
        (w, focus) in schedule_strategy(-10..30),
        start in -10 * 86_400i64..30 * 86_400,
        share in 0.0f64..3.0,
    ) {
        let cal = Calendar::weekly(&w, 2025..=2027);
        let a = (focus + start) * 1_000_000;
        // Up to three weeks' worth of the schedule's open time.
        let target = (w.open_seconds_per_week() as f64 * share) as i64 * 1_000_000;
        match cal.deadline(a, target) {
            Ok(d) => {
                prop_assert!(d >= a);
                prop_assert_eq!(cal.elapsed(a, d).unwrap(), target);
                if target > 0 {
                    // The last such instant, and never a close: it is open.
                    prop_assert!(cal.elapsed(a, d + 1).unwrap() > target);
                    prop_assert!(cal.is_open(d), "deadline {} is not open", format_rfc3339(d));
                }
            }
            // Closures may eat the rest of the table.
            Err(CalendarError::OutOfRange { .. }) => prop_assert!(target > 0),
            Err(e) => prop_assert!(false, "unexpected {e}"),
        }
    }

    #[test]
    fn generated_schedules_match_the_day_by_day_oracle(
        (w, focus) in schedule_strategy(-10..30),
        start in -10 * 86_400i64..30 * 86_400,
        d in 0..MAX_SPAN,
    ) {
        let cal = Calendar::weekly(&w, 2025..=2027);
        let (a, b) = ((focus + start) * 1_000_000 + 7, (focus + start + d) * 1_000_000);
        prop_assert_eq!(cal.elapsed(a, b).unwrap(), oracle_window_elapsed(&w, a, b));
    }

    #[test]
    fn generated_schedules_match_a_minute_by_minute_wall_clock_scan(
        (w, focus) in schedule_strategy(-2..4),
        start in -2 * 86_400i64..86_400,
        d in 0..(4 * 86_400i64),
    ) {
        let cal = Calendar::weekly(&w, 2025..=2027);
        let (a, b) = ((focus + start) * 1_000_000 + 31, (focus + start + d) * 1_000_000);
        prop_assert_eq!(cal.elapsed(a, b).unwrap(), scan_oracle_elapsed(&w, a, b));
    }
}

#[test]
fn the_bundled_calendars_match_the_minute_scan_across_each_dst_change() {
    // The scan oracle checks the production calendars too, over the days
    // around every 2026 transition of the four regions.
    for region in REGIONS {
        let f = fixture();
        let r = f.policy.region_index(region).unwrap();
        for coverage in [Weekdays, BusinessHours] {
            let w = f.policy.window(r, coverage, &f.holidays).unwrap();
            for (_, m, d) in ZONE_FOCUS {
                let a = NaiveDate::from_ymd_opt(2026, m, d)
                    .unwrap()
                    .and_hms_opt(0, 0, 0)
                    .unwrap()
                    .and_utc()
                    .timestamp_micros()
                    - 3 * 86_400_000_000;
                let b = a + 6 * 86_400_000_000;
                assert_eq!(
                    cal(region, coverage).elapsed(a, b).unwrap(),
                    scan_oracle_elapsed(&w, a, b),
                    "{region} {coverage} {m}-{d}"
                );
            }
        }
    }
}
