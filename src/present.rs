//! How values are shown to people: instants on a region's wall clock with
//! the zone's abbreviation, business durations, counts with thousands
//! separators, coverages and targets in words. Shared by `slt explain`
//! ([`crate::explain`]) and the review pack ([`crate::review`]), so that a
//! case reads the same in both. Pure: no I/O.

use chrono::Timelike;
use chrono_tz::Tz;

use crate::calendar::Coverage;
use crate::policy::Region;
use crate::timestamp::{to_datetime, Instant, MICROS_PER_MINUTE, MICROS_PER_SECOND};

/// `Fri 15 May 2026 23:50 PDT` (seconds shown when not zero:
/// `23:50:07 PDT`).
pub fn local(t: Instant, zone: Tz) -> String {
    let d = to_datetime(t).with_timezone(&zone);
    let clock = if d.second() == 0 && d.nanosecond() == 0 {
        "%H:%M"
    } else {
        "%H:%M:%S"
    };
    d.format(&format!("%a %-d %b %Y {clock} %Z")).to_string()
}

/// `15 May 2026`: the local calendar day of `t` in `zone`.
pub fn local_date(t: Instant, zone: Tz) -> String {
    to_datetime(t)
        .with_timezone(&zone)
        .format("%-d %b %Y")
        .to_string()
}

/// `2026-05-15T23:50:00-07:00`: RFC 3339 with the zone's offset at `t`
/// (exact, and readable on the customer's clock).
pub fn local_rfc3339(t: Instant, zone: Tz) -> String {
    let d = to_datetime(t).with_timezone(&zone);
    let fraction = if d.nanosecond() == 0 { "" } else { "%.6f" };
    d.format(&format!("%Y-%m-%dT%H:%M:%S{fraction}%:z"))
        .to_string()
}

/// `PDT`, `BST`, `JST`: the zone's abbreviation at `t`.
pub fn zone_abbreviation(t: Instant, zone: Tz) -> String {
    to_datetime(t).with_timezone(&zone).format("%Z").to_string()
}

/// A business duration of `micros`: `25 min`, `4 h`, `3 h 42 min`,
/// `1 h 0 min 30 s` (seconds only when there are some; never rounded).
pub fn duration(micros: i64) -> String {
    let negative = micros < 0;
    let micros = micros.unsigned_abs() as i64;
    let minutes = micros / MICROS_PER_MINUTE;
    let seconds = (micros % MICROS_PER_MINUTE) / MICROS_PER_SECOND;
    let (h, m) = (minutes / 60, minutes % 60);
    let mut parts = Vec::new();
    if h > 0 {
        parts.push(format!("{} h", number(h as u64)));
    }
    if m > 0 || (h > 0 && seconds > 0) || (h == 0 && seconds == 0) {
        parts.push(format!("{m} min"));
    }
    if seconds > 0 {
        parts.push(format!("{seconds} s"));
    }
    let text = parts.join(" ");
    if negative {
        format!("−{text}")
    } else {
        text
    }
}

/// [`duration`] of a number of business minutes (`f64`, exact seconds / 60).
pub fn minutes(m: f64) -> String {
    duration((m * MICROS_PER_MINUTE as f64).round() as i64)
}

/// `1,440`: a count with thousands separators.
pub fn number(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `12.5 min`, `3 h 5 min`: a percentile of business minutes, to a tenth of
/// a minute under an hour and to the minute above (it is a statistic, not
/// one case's clock).
pub fn minutes_statistic(m: f64) -> String {
    if m < 60.0 {
        format!("{:.1} min", (m * 10.0).round() / 10.0)
    } else {
        duration((m.round() as i64) * MICROS_PER_MINUTE)
    }
}

/// How the coverage counts, in words, for `region`: `around the clock
/// (24x7)`, `around the clock from Monday to Friday (24x5)`, `in Americas
/// office hours (Mon–Fri 06:00–17:30)`.
pub fn coverage(coverage: Coverage, region: &Region) -> String {
    match coverage {
        Coverage::Always => "around the clock (24x7)".to_string(),
        Coverage::Weekdays => "around the clock from Monday to Friday (24x5)".to_string(),
        Coverage::BusinessHours => {
            format!("in {} office hours ({})", region.name, office_hours(region))
        }
    }
}

/// `Mon–Fri 06:00–17:30`, or each day's windows when the days differ.
pub fn office_hours(region: &Region) -> String {
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    let clock = |s: u32| format!("{:02}:{:02}", s / 3600, (s % 3600) / 60);
    let windows = |d: &Vec<(u32, u32)>| {
        d.iter()
            .map(|&(o, c)| format!("{}–{}", clock(o), clock(c)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    // Runs of consecutive days with the same windows.
    let mut runs: Vec<(usize, usize, String)> = Vec::new();
    for (i, day) in region.week.iter().enumerate() {
        if day.is_empty() {
            continue;
        }
        let w = windows(day);
        match runs.last_mut() {
            Some((_, last, lw)) if *last + 1 == i && *lw == w => *last = i,
            _ => runs.push((i, i, w)),
        }
    }
    runs.iter()
        .map(|(a, b, w)| {
            if a == b {
                format!("{} {w}", DAYS[*a])
            } else {
                format!("{}–{} {w}", DAYS[*a], DAYS[*b])
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// A target in words: `15 minutes`, `4 hours`, `1 business day (690
/// minutes)`.
pub fn target(minutes: u32, coverage: Coverage, region: &Region) -> String {
    let day = region.business_day_minutes;
    if coverage == Coverage::BusinessHours
        && day > 0
        && minutes >= day
        && minutes.is_multiple_of(day)
    {
        let n = minutes / day;
        return format!(
            "{n} business day{} ({} minutes)",
            if n == 1 { "" } else { "s" },
            number(u64::from(minutes))
        );
    }
    if minutes >= 60 && minutes.is_multiple_of(60) {
        let h = minutes / 60;
        return format!("{h} hour{}", if h == 1 { "" } else { "s" });
    }
    format!("{minutes} minutes")
}

/// Whether an instant falls on a whole minute.
pub fn whole_minute(t: Instant) -> bool {
    t.rem_euclid(MICROS_PER_MINUTE) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Policy;
    use crate::timestamp::parse_rfc3339;

    #[test]
    fn local_times_name_the_zone_on_both_sides_of_a_dst_change() {
        let la: Tz = "America/Los_Angeles".parse().unwrap();
        let t = parse_rfc3339("2026-05-16T06:50:00Z").unwrap();
        assert_eq!(local(t, la), "Fri 15 May 2026 23:50 PDT");
        let t = parse_rfc3339("2026-11-02T17:00:07Z").unwrap();
        assert_eq!(local(t, la), "Mon 2 Nov 2026 09:00:07 PST");
        assert_eq!(local_rfc3339(t, la), "2026-11-02T09:00:07-08:00");
        assert_eq!(local_date(t, la), "2 Nov 2026");
    }

    #[test]
    fn durations_read_as_hours_and_minutes_to_the_second() {
        assert_eq!(duration(25 * MICROS_PER_MINUTE), "25 min");
        assert_eq!(duration(240 * MICROS_PER_MINUTE), "4 h");
        assert_eq!(duration(222 * MICROS_PER_MINUTE), "3 h 42 min");
        assert_eq!(
            duration(60 * MICROS_PER_MINUTE + 30 * MICROS_PER_SECOND),
            "1 h 0 min 30 s"
        );
        assert_eq!(duration(0), "0 min");
        assert_eq!(duration(45 * MICROS_PER_SECOND), "45 s");
        assert_eq!(duration(-2 * MICROS_PER_MINUTE), "−2 min");
        assert_eq!(minutes(2.5), "2 min 30 s");
        assert_eq!(number(1_440), "1,440");
        assert_eq!(number(1_000_000), "1,000,000");
        assert_eq!(number(999), "999");
        assert_eq!(minutes_statistic(12.34), "12.3 min");
        assert_eq!(minutes_statistic(185.6), "3 h 6 min");
    }

    #[test]
    fn targets_and_coverage_in_words() {
        let p = Policy::bundled();
        let americas = &p.regions[p.region_index("Americas").unwrap()];
        assert_eq!(target(15, Coverage::Always, americas), "15 minutes");
        assert_eq!(target(240, Coverage::BusinessHours, americas), "4 hours");
        assert_eq!(
            target(690, Coverage::BusinessHours, americas),
            "1 business day (690 minutes)"
        );
        assert_eq!(
            coverage(Coverage::BusinessHours, americas),
            "in Americas office hours (Mon–Fri 06:00–17:30)"
        );
        assert_eq!(
            coverage(Coverage::Always, americas),
            "around the clock (24x7)"
        );
    }
}
