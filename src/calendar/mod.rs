//! Business-time arithmetic: how much *covered* time passes between two
//! instants, and on which instant a target lands. Pure: no polars, no I/O.
//!
//! A [`Calendar`] is a coverage calendar of one region (SLT-SPEC §3): `24x7`,
//! `24x5` or `business_hours`. It is built once, for a range of years, as a
//! sorted table of open intervals `[start, end)` in UTC with a prefix sum of
//! open microseconds, so that
//!
//! - [`Calendar::elapsed`] is two binary searches, and
//! - [`Calendar::deadline`] is one binary search on the prefix sums,
//!
//! whatever the length of the interval. Local windows are wall-clock times
//! resolved through chrono-tz with the gap/fold rule of [`zone`]; a holiday
//! removes the whole local calendar day.
//!
//! Glossary: *coverage* is the set of instants that count; *business time* is
//! covered time; a *target* is an amount of business time; the *deadline* of
//! a target added at `start` is the last instant at which the business time
//! elapsed since `start` is still within the target.

pub mod holidays;
pub mod zone;

use std::fmt;
use std::ops::RangeInclusive;
use std::str::FromStr;

use chrono::{Datelike, Days, NaiveDate, NaiveTime, Weekday};
use chrono_tz::Tz;

use crate::timestamp::{format_rfc3339, Instant};

/// Which instants count towards a target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Coverage {
    /// Every instant counts.
    Always,
    /// Monday 00:00 to Friday 24:00 in the region's zone (policy-defined).
    Weekdays,
    /// The region's office hours, Monday–Friday, minus its public holidays.
    BusinessHours,
}

impl Coverage {
    /// All coverages, in a stable order.
    pub const ALL: [Coverage; 3] = [
        Coverage::Always,
        Coverage::Weekdays,
        Coverage::BusinessHours,
    ];

    /// The name used in files and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Coverage::Always => "24x7",
            Coverage::Weekdays => "24x5",
            Coverage::BusinessHours => "business_hours",
        }
    }
}

impl fmt::Display for Coverage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Coverage {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "24x7" => Ok(Coverage::Always),
            "24x5" => Ok(Coverage::Weekdays),
            "business_hours" => Ok(Coverage::BusinessHours),
            other => Err(format!(
                "unknown coverage `{other}` (expected `24x7`, `24x5` or `business_hours`)"
            )),
        }
    }
}

/// Why a calendar question has no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    /// Elapsed time from a later instant to an earlier one.
    #[error("start `{}` is after end `{}`", format_rfc3339(*start), format_rfc3339(*end))]
    StartAfterEnd {
        /// The later instant given as start.
        start: Instant,
        /// The earlier instant given as end.
        end: Instant,
    },
    /// A negative target.
    #[error("target must not be negative (got {0} µs)")]
    NegativeTarget(i64),
    /// An instant (or a deadline) outside the years the calendar was built for.
    #[error("`{}` is outside the calendar's range {first_year}–{last_year}", format_rfc3339(*instant))]
    OutOfRange {
        /// The offending instant (for a deadline: the last instant the table covers).
        instant: Instant,
        /// First year of the table.
        first_year: i32,
        /// Last year of the table.
        last_year: i32,
    },
}

/// A weekly local window in one zone, with an optional list of removed days.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeeklyWindow {
    /// Zone whose wall clock the window follows.
    pub zone: Tz,
    /// Open days, indexed Monday = 0 … Sunday = 6.
    pub days: [bool; 7],
    /// Opening time, seconds after local midnight.
    pub open: u32,
    /// Closing time, seconds after local midnight (86 400 = 24:00).
    pub close: u32,
    /// Local calendar days removed whole (public holidays); sorted.
    pub closed_dates: Vec<NaiveDate>,
}

/// A coverage calendar: open intervals in UTC plus prefix sums.
#[derive(Debug, Clone)]
pub struct Calendar {
    kind: Kind,
}

#[derive(Debug, Clone)]
enum Kind {
    Always,
    Table(Table),
}

#[derive(Debug, Clone)]
struct Table {
    /// Interval starts, sorted, disjoint intervals.
    starts: Vec<Instant>,
    /// Interval ends (exclusive).
    ends: Vec<Instant>,
    /// `cum[i]` = open microseconds in intervals `0..i`; `cum.len() == starts.len() + 1`.
    cum: Vec<i64>,
    /// First instant covered by the table.
    from: Instant,
    /// First instant no longer covered by the table.
    to: Instant,
    first_year: i32,
    last_year: i32,
}

impl Calendar {
    /// The `24x7` calendar: every instant counts.
    pub fn always() -> Self {
        Calendar { kind: Kind::Always }
    }

    /// Builds the table of a weekly window for local calendar years `years`.
    ///
    /// The table spans local midnight of 1 January of the first year to local
    /// midnight of 1 January after the last year; questions outside that span
    /// are [`CalendarError::OutOfRange`].
    pub fn weekly(window: &WeeklyWindow, years: RangeInclusive<i32>) -> Self {
        let (first_year, last_year) = (*years.start(), *years.end());
        let midnight = NaiveTime::MIN;
        let first_day = NaiveDate::from_ymd_opt(first_year, 1, 1).expect("valid year");
        let end_day = NaiveDate::from_ymd_opt(last_year + 1, 1, 1).expect("valid year");
        let from = zone::resolve_local(window.zone, first_day.and_time(midnight));
        let to = zone::resolve_local(window.zone, end_day.and_time(midnight));
        let mut starts = Vec::new();
        let mut ends: Vec<Instant> = Vec::new();
        let mut day = first_day;
        while day < end_day {
            let weekday = day.weekday().num_days_from_monday() as usize;
            if window.days[weekday] && window.closed_dates.binary_search(&day).is_err() {
                let open = local_instant(window.zone, day, window.open);
                let close = local_instant(window.zone, day, window.close);
                if close > open {
                    if ends.last() == Some(&open) {
                        *ends.last_mut().expect("non-empty") = close;
                    } else {
                        starts.push(open);
                        ends.push(close);
                    }
                }
            }
            day = day + Days::new(1);
        }
        let mut cum = Vec::with_capacity(starts.len() + 1);
        cum.push(0);
        let mut total = 0i64;
        for (s, e) in starts.iter().zip(&ends) {
            total += e - s;
            cum.push(total);
        }
        Calendar {
            kind: Kind::Table(Table {
                starts,
                ends,
                cum,
                from,
                to,
                first_year,
                last_year,
            }),
        }
    }

    /// Covered microseconds in `[start, end)`.
    ///
    /// ```
    /// use slt::calendar::{Calendar, WeeklyWindow};
    /// use slt::timestamp::{parse_rfc3339, MICROS_PER_MINUTE};
    /// // EMEA office hours 09:00–17:00 Europe/London, Mon–Fri, no holidays.
    /// let emea = Calendar::weekly(&WeeklyWindow {
    ///     zone: "Europe/London".parse().unwrap(),
    ///     days: [true, true, true, true, true, false, false],
    ///     open: 9 * 3600,
    ///     close: 17 * 3600,
    ///     closed_dates: vec![],
    /// }, 2026..=2026);
    /// // Friday 15:00 GMT to Monday 10:30 BST, across the spring-forward weekend.
    /// let start = parse_rfc3339("2026-03-27T15:00:00Z").unwrap();
    /// let end = parse_rfc3339("2026-03-30T10:30:00+01:00").unwrap();
    /// assert_eq!(emea.elapsed(start, end).unwrap(), 210 * MICROS_PER_MINUTE);
    /// ```
    pub fn elapsed(&self, start: Instant, end: Instant) -> Result<i64, CalendarError> {
        if start > end {
            return Err(CalendarError::StartAfterEnd { start, end });
        }
        match &self.kind {
            Kind::Always => Ok(end - start),
            Kind::Table(t) => {
                t.check(start)?;
                t.check(end)?;
                Ok(t.open_before(end) - t.open_before(start))
            }
        }
    }

    /// The deadline of `target` microseconds of covered time added at `start`:
    /// the last instant at which the covered time elapsed since `start` is
    /// still within `target`. A target running out exactly at a window's
    /// close lands on the next opening; a target of 0 returns `start`.
    ///
    /// ```
    /// use slt::calendar::{Calendar, WeeklyWindow};
    /// use slt::timestamp::{format_rfc3339, parse_rfc3339, MICROS_PER_MINUTE};
    /// let emea = Calendar::weekly(&WeeklyWindow {
    ///     zone: "Europe/London".parse().unwrap(),
    ///     days: [true, true, true, true, true, false, false],
    ///     open: 9 * 3600,
    ///     close: 17 * 3600,
    ///     closed_dates: vec![],
    /// }, 2026..=2026);
    /// // 4 business hours from Friday 13:00 GMT run out at the 17:00 close:
    /// // the deadline is Monday's opening, 09:00 BST.
    /// let start = parse_rfc3339("2026-03-27T13:00:00Z").unwrap();
    /// let deadline = emea.deadline(start, 240 * MICROS_PER_MINUTE).unwrap();
    /// assert_eq!(format_rfc3339(deadline), "2026-03-30T08:00:00Z");
    /// ```
    pub fn deadline(&self, start: Instant, target: i64) -> Result<Instant, CalendarError> {
        if target < 0 {
            return Err(CalendarError::NegativeTarget(target));
        }
        match &self.kind {
            Kind::Always => Ok(start + target),
            Kind::Table(t) => {
                t.check(start)?;
                if target == 0 {
                    return Ok(start);
                }
                let goal = t.open_before(start) + target;
                // k = number of intervals that close at or before the goal.
                let k = t.cum[1..].partition_point(|&c| c <= goal);
                if k == t.starts.len() {
                    return Err(CalendarError::OutOfRange {
                        instant: t.to,
                        first_year: t.first_year,
                        last_year: t.last_year,
                    });
                }
                Ok(t.starts[k] + (goal - t.cum[k]))
            }
        }
    }

    /// Whether `t` is covered (inside an open interval).
    pub fn is_open(&self, t: Instant) -> bool {
        match &self.kind {
            Kind::Always => true,
            Kind::Table(table) => {
                let i = table.starts.partition_point(|&s| s <= t);
                i > 0 && t < table.ends[i - 1]
            }
        }
    }
}

impl Table {
    fn check(&self, t: Instant) -> Result<(), CalendarError> {
        if t < self.from || t > self.to {
            return Err(CalendarError::OutOfRange {
                instant: t,
                first_year: self.first_year,
                last_year: self.last_year,
            });
        }
        Ok(())
    }

    /// Open microseconds from the table's start up to `t` (exclusive).
    #[inline]
    fn open_before(&self, t: Instant) -> i64 {
        let i = self.starts.partition_point(|&s| s <= t);
        if i == 0 {
            return 0;
        }
        let k = i - 1;
        self.cum[k] + (t.min(self.ends[k]) - self.starts[k])
    }
}

/// Local wall-clock `seconds` after midnight of `day` in `zone` (86 400 is
/// the next midnight), resolved with the gap/fold rule.
fn local_instant(zone: Tz, day: NaiveDate, seconds: u32) -> Instant {
    let (day, seconds) = if seconds >= 86_400 {
        (day + Days::new(1), seconds - 86_400)
    } else {
        (day, seconds)
    };
    let time = NaiveTime::from_num_seconds_from_midnight_opt(seconds, 0).expect("seconds < 86400");
    zone::resolve_local(zone, day.and_time(time))
}

/// Parses a weekday name (`Mon`, `monday`, …).
pub fn parse_weekday(s: &str) -> Option<Weekday> {
    s.trim().parse::<Weekday>().ok()
}

/// The calendar years to build so that questions about instants in
/// `[lo, hi]` can be answered: one year of margin on each side, within the
/// 1900–2199 range slt supports.
pub fn years_spanning(lo: Instant, hi: Instant) -> RangeInclusive<i32> {
    let year = |t: Instant| crate::timestamp::to_datetime(t).year();
    (year(lo) - 1).max(1900)..=(year(hi) + 1).min(2199)
}

/// Converts microseconds of business time to (fractional) minutes.
pub fn micros_to_minutes(micros: i64) -> f64 {
    micros as f64 / crate::timestamp::MICROS_PER_MINUTE as f64
}

#[cfg(test)]
mod tests;
