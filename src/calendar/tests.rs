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
        &WeeklyWindow {
            zone: zone.parse().unwrap(),
            days: [true; 7],
            open,
            close,
            closed_dates: vec![],
        },
        2025..=2027,
    )
}

use Coverage::{Always, BusinessHours, Weekdays};

// ---- SLT-SPEC §4 worked examples (calendar parts) ----

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
    let first = crate::timestamp::to_datetime(a).date_naive() - Duration::days(2);
    let last = crate::timestamp::to_datetime(b).date_naive() + Duration::days(2);
    let mut total = 0;
    let mut day = first;
    while day <= last {
        let wd = day.weekday().num_days_from_monday() as usize;
        if window.days[wd] && !window.closed_dates.contains(&day) {
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
            let (open, close) = (at(window.open), at(window.close));
            let (lo, hi) = (open.max(a), close.min(b));
            if hi > lo {
                total += hi - lo;
            }
        }
        day += Duration::days(1);
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
