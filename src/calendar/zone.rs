//! Local wall-clock time → UTC instant, with one documented rule for DST.
//!
//! Office hours are wall-clock times in a region's zone, so the calendar must
//! turn "09:00 on 2026-03-29 in Europe/London" into an instant. Two local
//! times are special:
//!
//! - in a **gap** (spring forward: 01:30 on 2026-03-29 in London does not
//!   exist) the time moves to the first instant after the gap;
//! - in a **fold** (fall back: 01:30 on 2026-10-25 in London happens twice)
//!   the earlier of the two instants is taken.
//!
//! For folds this is RFC 5545's rule and jiff's "compatible"
//! disambiguation; for gaps slt moves to the end of the gap rather than
//! shifting by its length. `docs/rules.md` (section 3) makes it the
//! contract.

use chrono::{LocalResult, NaiveDateTime, Offset, TimeZone};
use chrono_tz::Tz;

use crate::timestamp::{Instant, MICROS_PER_SECOND};

/// Seconds since the epoch of a naive date-time read as if it were UTC.
fn naive_seconds(local: NaiveDateTime) -> i64 {
    local.and_utc().timestamp()
}

/// Local wall-clock seconds (as if UTC) shown in `tz` at the UTC second `utc`.
fn wall_seconds(tz: Tz, utc: i64) -> i64 {
    let dt = chrono::DateTime::from_timestamp(utc, 0).expect("in range");
    utc + i64::from(
        tz.offset_from_utc_datetime(&dt.naive_utc())
            .fix()
            .local_minus_utc(),
    )
}

/// Resolves a local wall-clock time in `tz` to an instant: a time in a DST gap
/// moves to the first instant after the gap, a time in a fold takes the
/// earlier instant.
///
/// ```
/// use chrono::NaiveDate;
/// use slt::calendar::zone::resolve_local;
/// use slt::timestamp::format_rfc3339;
/// let london: chrono_tz::Tz = "Europe/London".parse().unwrap();
/// // 01:30 does not exist on 2026-03-29 in London: the clocks jump 01:00 → 02:00.
/// let gap = NaiveDate::from_ymd_opt(2026, 3, 29).unwrap().and_hms_opt(1, 30, 0).unwrap();
/// assert_eq!(format_rfc3339(resolve_local(london, gap)), "2026-03-29T01:00:00Z");
/// // 01:30 happens twice on 2026-10-25: the earlier one (BST) is taken.
/// let fold = NaiveDate::from_ymd_opt(2026, 10, 25).unwrap().and_hms_opt(1, 30, 0).unwrap();
/// assert_eq!(format_rfc3339(resolve_local(london, fold)), "2026-10-25T00:30:00Z");
/// ```
pub fn resolve_local(tz: Tz, local: NaiveDateTime) -> Instant {
    let seconds = match tz.offset_from_local_datetime(&local) {
        LocalResult::Single(offset) => {
            naive_seconds(local) - i64::from(offset.fix().local_minus_utc())
        }
        LocalResult::Ambiguous(a, b) => {
            let sa = naive_seconds(local) - i64::from(a.fix().local_minus_utc());
            let sb = naive_seconds(local) - i64::from(b.fix().local_minus_utc());
            sa.min(sb)
        }
        LocalResult::None => first_instant_after_gap(tz, naive_seconds(local)),
    };
    seconds * MICROS_PER_SECOND
}

/// The transition instant of the gap that contains local wall time `wall`:
/// the smallest UTC second whose wall-clock reading is past `wall`.
/// Offsets are within ±26 h, so the transition lies within that of `wall`.
fn first_instant_after_gap(tz: Tz, wall: i64) -> i64 {
    let (mut lo, mut hi) = (wall - 26 * 3600, wall + 26 * 3600);
    // Invariant: wall_seconds(lo) <= wall < wall_seconds(hi).
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if wall_seconds(tz, mid) > wall {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    hi
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timestamp::format_rfc3339;
    use chrono::NaiveDate;

    fn local(y: i32, m: u32, d: u32, h: u32, min: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, m, d)
            .unwrap()
            .and_hms_opt(h, min, 0)
            .unwrap()
    }

    fn at(zone: &str, l: NaiveDateTime) -> String {
        format_rfc3339(resolve_local(zone.parse().unwrap(), l))
    }

    #[test]
    fn los_angeles_spring_forward_gap_moves_to_0300_pdt() {
        // 2026-03-08 02:30 does not exist in Los Angeles.
        assert_eq!(
            at("America/Los_Angeles", local(2026, 3, 8, 2, 30)),
            "2026-03-08T10:00:00Z"
        );
    }

    #[test]
    fn los_angeles_fall_back_fold_takes_pdt() {
        assert_eq!(
            at("America/Los_Angeles", local(2026, 11, 1, 1, 30)),
            "2026-11-01T08:30:00Z"
        );
    }

    #[test]
    fn sydney_october_gap_and_april_fold() {
        // 2026-10-04 02:30 does not exist in Sydney (02:00 AEST → 03:00 AEDT).
        assert_eq!(
            at("Australia/Sydney", local(2026, 10, 4, 2, 30)),
            "2026-10-03T16:00:00Z"
        );
        // 2026-04-05 02:30 happens twice; the AEDT one is earlier.
        assert_eq!(
            at("Australia/Sydney", local(2026, 4, 5, 2, 30)),
            "2026-04-04T15:30:00Z"
        );
    }

    #[test]
    fn tokyo_has_no_transitions() {
        assert_eq!(
            at("Asia/Tokyo", local(2026, 10, 14, 17, 20)),
            "2026-10-14T08:20:00Z"
        );
    }
}
