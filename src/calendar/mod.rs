//! Business-time arithmetic: how much *covered* time passes between two
//! instants, and on which instant a target lands. Pure: no polars, no I/O.
//!
//! A [`Calendar`] is a coverage calendar of one region (`docs/rules.md`, section 3; `docs/calendars.md`): `24x7`,
//! `24x5` or `business_hours`. Apart from plain `24x7`, it is built once, for
//! a range of years, from a [`WeeklyWindow`] (open windows per weekday, in
//! the region's wall-clock time, minus [`Closure`]s: whole or partial
//! holidays) as a sorted table of open intervals `[start, end)` in UTC with a
//! prefix sum of open microseconds, so that
//!
//! - [`Calendar::elapsed`] is two binary searches, and
//! - [`Calendar::deadline`] is one binary search on the prefix sums,
//!
//! whatever the length of the interval and however many windows a day has.
//! Local window and closure edges are wall-clock times resolved through
//! chrono-tz with the gap/fold rule of [`zone`]; a whole-day closure removes
//! the local calendar day (local midnight to the next local midnight).
//!
//! Glossary: *coverage* is the set of instants that count; *business time* is
//! covered time; a *target* is an amount of business time; the *deadline* of
//! a target added at `start` is the last instant at which the business time
//! elapsed since `start` is still within the target; a *window* is one open
//! span of a local day (`08:00-12:00`); a *closure* removes part or all of
//! one local day.

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
    /// Every instant counts (minus the region's holidays if the policy's
    /// `[coverage.24x7] remove_holidays` says so).
    Always,
    /// Monday 00:00 to Friday 24:00 in the region's zone (policy-defined).
    Weekdays,
    /// The region's weekly office hours, minus its public holidays.
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

/// Seconds in a local day's wall clock: `24:00`, the end of a window that
/// runs to midnight.
pub const DAY_SECONDS: u32 = 86_400;

/// A closure of one local calendar day of a region (a public holiday):
/// `[start, end)` local wall time of `date`, in seconds after local midnight.
/// A whole-day closure is `0..86 400`: local midnight to the next local
/// midnight. Edges are resolved with the gap/fold rule of [`zone`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Closure {
    /// The local calendar day.
    pub date: NaiveDate,
    /// First closed second after local midnight.
    pub start: u32,
    /// First second open again (86 400 = the next midnight).
    pub end: u32,
}

impl Closure {
    /// The whole local day `date`.
    pub const fn whole_day(date: NaiveDate) -> Self {
        Closure {
            date,
            start: 0,
            end: DAY_SECONDS,
        }
    }

    /// Whether the closure removes the whole local day.
    pub fn is_whole_day(&self) -> bool {
        self.start == 0 && self.end >= DAY_SECONDS
    }
}

/// A weekly schedule in one zone: open windows per weekday, minus closures.
///
/// Windows are local wall-clock `[open, close)` in seconds after local
/// midnight, within one day (`close` ≤ 86 400 = 24:00). The policy hands
/// over sorted, disjoint windows; [`Calendar::weekly`] sorts and merges
/// them anyway, so any value builds a consistent table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeeklyWindow {
    /// Zone whose wall clock the windows follow.
    pub zone: Tz,
    /// Open windows of each weekday, Monday = 0 … Sunday = 6; an empty list
    /// is a closed day.
    pub week: [Vec<(u32, u32)>; 7],
    /// Closures (public holidays, whole or partial days).
    pub closures: Vec<Closure>,
}

impl WeeklyWindow {
    /// The same window `open`–`close` (seconds after local midnight) on
    /// every day of `days` (Monday = 0), no closures.
    pub fn daily(zone: Tz, days: [bool; 7], open: u32, close: u32) -> Self {
        WeeklyWindow {
            zone,
            week: days.map(|d| if d { vec![(open, close)] } else { Vec::new() }),
            closures: Vec::new(),
        }
    }

    /// The same schedule with `closures` removed.
    pub fn with_closures(mut self, closures: Vec<Closure>) -> Self {
        self.closures = closures;
        self
    }

    /// Nominal open seconds in a week (wall-clock lengths, before closures).
    pub fn open_seconds_per_week(&self) -> u64 {
        normalized_week(&self.week)
            .iter()
            .flatten()
            .map(|&(o, c)| u64::from(c - o))
            .sum()
    }
}

/// Each day's windows sorted, clipped to the day, empty ones dropped and
/// overlapping or touching ones merged.
fn normalized_week(week: &[Vec<(u32, u32)>; 7]) -> [Vec<(u32, u32)>; 7] {
    week.clone().map(|mut day| {
        day.iter_mut().for_each(|w| w.1 = w.1.min(DAY_SECONDS));
        day.retain(|&(o, c)| c > o);
        day.sort_unstable();
        let mut merged: Vec<(u32, u32)> = Vec::with_capacity(day.len());
        for (o, c) in day {
            match merged.last_mut() {
                Some(last) if o <= last.1 => last.1 = last.1.max(c),
                _ => merged.push((o, c)),
            }
        }
        merged
    })
}

/// Calls `emit` with the parts of `[open, close)` that no closure (sorted
/// by start) covers.
fn subtract(open: u32, close: u32, closures: &[Closure], mut emit: impl FnMut(u32, u32)) {
    let mut from = open;
    for c in closures {
        if from >= close {
            return;
        }
        if c.start > from {
            let to = c.start.min(close);
            if to > from {
                emit(from, to);
            }
        }
        from = from.max(c.end);
    }
    if from < close {
        emit(from, close);
    }
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

    /// Builds the table of a weekly schedule for local calendar years `years`.
    ///
    /// Day by day, each window of the weekday minus that day's closures is
    /// resolved to UTC with the gap/fold rule (so a window a DST change
    /// shortens or lengthens counts its real length); windows that touch
    /// (one closing at 24:00, the next opening at 00:00; 12:00 and 12:00)
    /// merge into one interval. The table spans local midnight of 1 January
    /// of the first year to local midnight of 1 January after the last
    /// year; questions outside that span are [`CalendarError::OutOfRange`].
    ///
    /// ```
    /// use chrono::NaiveDate;
    /// use slt::calendar::{Calendar, Closure, WeeklyWindow};
    /// use slt::timestamp::{parse_rfc3339, MICROS_PER_MINUTE};
    /// // A Sunday–Thursday office, 09:00–18:00 in Israel, closing at 13:00 on
    /// // Sunday 25 October 2026, the day the clocks go back (02:00 IDT → 01:00 IST).
    /// let sunday_to_thursday = [true, true, true, true, false, false, true];
    /// let office = WeeklyWindow::daily(chrono_tz::Asia::Jerusalem, sunday_to_thursday, 9 * 3600, 18 * 3600)
    ///     .with_closures(vec![Closure {
    ///         date: NaiveDate::from_ymd_opt(2026, 10, 25).unwrap(),
    ///         start: 13 * 3600,
    ///         end: 24 * 3600,
    ///     }]);
    /// let calendar = Calendar::weekly(&office, 2026..=2026);
    /// // That Sunday counts 09:00–13:00 IST: 4 hours.
    /// let start = parse_rfc3339("2026-10-25T00:00:00+03:00").unwrap();
    /// let end = parse_rfc3339("2026-10-26T00:00:00+02:00").unwrap();
    /// assert_eq!(calendar.elapsed(start, end).unwrap(), 240 * MICROS_PER_MINUTE);
    /// ```
    pub fn weekly(window: &WeeklyWindow, years: RangeInclusive<i32>) -> Self {
        let (first_year, last_year) = (*years.start(), *years.end());
        let midnight = NaiveTime::MIN;
        let first_day = NaiveDate::from_ymd_opt(first_year, 1, 1).expect("valid year");
        let end_day = NaiveDate::from_ymd_opt(last_year + 1, 1, 1).expect("valid year");
        let from = zone::resolve_local(window.zone, first_day.and_time(midnight));
        let to = zone::resolve_local(window.zone, end_day.and_time(midnight));
        let week = normalized_week(&window.week);
        let mut closures = window.closures.clone();
        closures.sort_unstable();
        let mut next_closure = closures.partition_point(|c| c.date < first_day);
        let mut starts: Vec<Instant> = Vec::new();
        let mut ends: Vec<Instant> = Vec::new();
        let mut day = first_day;
        while day < end_day {
            let today_from = next_closure;
            while next_closure < closures.len() && closures[next_closure].date == day {
                next_closure += 1;
            }
            let today = &closures[today_from..next_closure];
            let weekday = day.weekday().num_days_from_monday() as usize;
            for &(open, close) in &week[weekday] {
                subtract(open, close, today, |o, c| {
                    let open = local_instant(window.zone, day, o);
                    let close = local_instant(window.zone, day, c);
                    if close <= open {
                        return; // wholly inside a spring-forward gap
                    }
                    match ends.last_mut() {
                        Some(last) if open <= *last => *last = (*last).max(close),
                        _ => {
                            starts.push(open);
                            ends.push(close);
                        }
                    }
                });
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
    /// let weekdays = [true, true, true, true, true, false, false];
    /// let emea = Calendar::weekly(
    ///     &WeeklyWindow::daily("Europe/London".parse().unwrap(), weekdays, 9 * 3600, 17 * 3600),
    ///     2026..=2026,
    /// );
    /// // Friday 15:00 GMT to Monday 10:30 BST, across the spring-forward weekend.
    /// let start = parse_rfc3339("2026-03-27T15:00:00Z").unwrap();
    /// let end = parse_rfc3339("2026-03-30T10:30:00+01:00").unwrap();
    /// assert_eq!(emea.elapsed(start, end).unwrap(), 210 * MICROS_PER_MINUTE);
    ///
    /// // Berlin with a lunch break, 08:00–12:00 and 13:00–17:00 on Mondays:
    /// // on Monday 30 March 2026 (the first day of CEST) 11:00 to 14:00
    /// // counts 2 hours, not 3.
    /// let mut week: [Vec<(u32, u32)>; 7] = Default::default();
    /// week[0] = vec![(8 * 3600, 12 * 3600), (13 * 3600, 17 * 3600)];
    /// let berlin = Calendar::weekly(
    ///     &WeeklyWindow { zone: chrono_tz::Europe::Berlin, week, closures: vec![] },
    ///     2026..=2026,
    /// );
    /// let start = parse_rfc3339("2026-03-30T11:00:00+02:00").unwrap();
    /// let end = parse_rfc3339("2026-03-30T14:00:00+02:00").unwrap();
    /// assert_eq!(berlin.elapsed(start, end).unwrap(), 120 * MICROS_PER_MINUTE);
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
    /// let weekdays = [true, true, true, true, true, false, false];
    /// let emea = Calendar::weekly(
    ///     &WeeklyWindow::daily("Europe/London".parse().unwrap(), weekdays, 9 * 3600, 17 * 3600),
    ///     2026..=2026,
    /// );
    /// // 4 business hours from Friday 13:00 GMT run out at the 17:00 close:
    /// // the deadline is Monday's opening, 09:00 BST.
    /// let start = parse_rfc3339("2026-03-27T13:00:00Z").unwrap();
    /// let deadline = emea.deadline(start, 240 * MICROS_PER_MINUTE).unwrap();
    /// assert_eq!(format_rfc3339(deadline), "2026-03-30T08:00:00Z");
    ///
    /// // The same before a lunch break: Berlin, 08:00–12:00 and 13:00–17:00.
    /// // One hour from 11:00 CEST on Monday 30 March 2026 runs out at 12:00,
    /// // so it is due when the afternoon opens, 13:00 CEST.
    /// let mut week: [Vec<(u32, u32)>; 7] = Default::default();
    /// week[0] = vec![(8 * 3600, 12 * 3600), (13 * 3600, 17 * 3600)];
    /// let berlin = Calendar::weekly(
    ///     &WeeklyWindow { zone: chrono_tz::Europe::Berlin, week, closures: vec![] },
    ///     2026..=2026,
    /// );
    /// let start = parse_rfc3339("2026-03-30T11:00:00+02:00").unwrap();
    /// let deadline = berlin.deadline(start, 60 * MICROS_PER_MINUTE).unwrap();
    /// assert_eq!(format_rfc3339(deadline), "2026-03-30T11:00:00Z");
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

/// Parses a local wall-clock time `HH:MM` (`00:00`–`24:00`, two digits
/// each) into seconds after midnight; `24:00` is the end of the day.
///
/// ```
/// use slt::calendar::parse_clock;
/// assert_eq!(parse_clock("13:30"), Some(13 * 3600 + 1800));
/// assert_eq!(parse_clock("24:00"), Some(86_400));
/// assert_eq!(parse_clock("25:00"), None);
/// assert_eq!(parse_clock("9:00"), None);
/// ```
pub fn parse_clock(s: &str) -> Option<u32> {
    let (h, m) = s.trim().split_once(':')?;
    let two_digits = |x: &str| x.len() == 2 && x.bytes().all(|b| b.is_ascii_digit());
    if !two_digits(h) || !two_digits(m) {
        return None;
    }
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    if m > 59 || h > 24 || (h == 24 && m != 0) {
        return None;
    }
    Some(h * 3600 + m * 60)
}

/// Formats seconds after local midnight as `HH:MM` (`24:00` for the end of
/// the day).
pub fn format_clock(seconds: u32) -> String {
    format!("{:02}:{:02}", seconds / 3600, (seconds / 60) % 60)
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
