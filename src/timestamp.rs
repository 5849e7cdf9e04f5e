//! Strict RFC 3339 timestamps ↔ UTC instants in microseconds.
//!
//! Every instant inside slt is an [`Instant`]: microseconds since the Unix
//! epoch, UTC. Exports give timestamps as RFC 3339 text with a required
//! offset (`Z`, `+09:00`, `-07:00`); this module parses them exactly and says
//! precisely why a string is not one ([`TimestampError`]), so ingest can turn
//! the reason into a reject. Nothing is guessed: no offset, a space instead of
//! `T`, 30 February, `24:30` or `+25:00` are all errors.
//!
//! Choices (documented in the README): `T`/`Z` may be lower case as RFC 3339
//! allows; fractional seconds beyond microseconds are truncated; a leap second
//! (`:60`) is rejected; `-00:00` means UTC.

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};

/// Microseconds since 1970-01-01T00:00:00Z.
pub type Instant = i64;

/// Microseconds in one second.
pub const MICROS_PER_SECOND: i64 = 1_000_000;
/// Microseconds in one minute.
pub const MICROS_PER_MINUTE: i64 = 60 * MICROS_PER_SECOND;

/// Earliest instant slt accepts: 1900-01-01T00:00:00Z.
pub const MIN_INSTANT: Instant = -2_208_988_800 * MICROS_PER_SECOND;
/// First instant slt no longer accepts: 2200-01-01T00:00:00Z.
pub const MAX_INSTANT: Instant = 7_258_118_400 * MICROS_PER_SECOND;

/// Why a string is not an RFC 3339 timestamp with an offset.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimestampError {
    /// The text is empty.
    #[error("empty timestamp")]
    Empty,
    /// The text does not have the `YYYY-MM-DDThh:mm:ss` shape.
    #[error(
        "`{0}` is not an RFC 3339 timestamp (expected `YYYY-MM-DDThh:mm:ss[.fff]` and an offset)"
    )]
    Malformed(String),
    /// Date and time are there but no offset: the instant is unknown.
    #[error("`{0}` has no UTC offset (add `Z` or `±hh:mm`); slt never guesses a time zone")]
    MissingOffset(String),
    /// The calendar date does not exist (30 February, month 13).
    #[error("`{0}` is not a real calendar date")]
    ImpossibleDate(String),
    /// The clock time does not exist (24:30, 10:61, a leap second).
    #[error("`{0}` is not a real time of day")]
    ImpossibleTime(String),
    /// The offset is out of range (`+25:00`).
    #[error("`{0}` has an impossible UTC offset")]
    ImpossibleOffset(String),
    /// Outside the years slt supports.
    #[error("`{0}` is outside the supported range 1900-01-01 to 2199-12-31")]
    OutOfRange(String),
}

fn digits(b: &[u8]) -> Option<u32> {
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(b.iter().fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0')))
}

/// Parses an RFC 3339 timestamp with an offset into a UTC [`Instant`].
///
/// ```
/// use slt::timestamp::{parse_rfc3339, format_rfc3339};
/// let t = parse_rfc3339("2026-03-30T11:00:00+01:00").unwrap();
/// assert_eq!(format_rfc3339(t), "2026-03-30T10:00:00Z");
/// assert!(parse_rfc3339("2026-03-30T11:00:00").is_err()); // no offset
/// ```
pub fn parse_rfc3339(text: &str) -> Result<Instant, TimestampError> {
    let s = text.trim();
    if s.is_empty() {
        return Err(TimestampError::Empty);
    }
    let b = s.as_bytes();
    let malformed = || TimestampError::Malformed(s.to_string());
    // YYYY-MM-DD?hh:mm:ss
    if b.len() < 19
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't')
        || b[13] != b':'
        || b[16] != b':'
    {
        return Err(malformed());
    }
    let year = digits(&b[0..4]).ok_or_else(malformed)?;
    let month = digits(&b[5..7]).ok_or_else(malformed)?;
    let day = digits(&b[8..10]).ok_or_else(malformed)?;
    let hour = digits(&b[11..13]).ok_or_else(malformed)?;
    let minute = digits(&b[14..16]).ok_or_else(malformed)?;
    let second = digits(&b[17..19]).ok_or_else(malformed)?;
    let mut i = 19;
    let mut micros: i64 = 0;
    if i < b.len() && b[i] == b'.' {
        let frac_start = i + 1;
        let mut j = frac_start;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        if j == frac_start {
            return Err(malformed());
        }
        let mut scale = 100_000i64;
        for &d in &b[frac_start..j.min(frac_start + 6)] {
            micros += i64::from(d - b'0') * scale;
            scale /= 10;
        }
        i = j;
    }
    let offset_seconds: i64 = match b.get(i) {
        None => return Err(TimestampError::MissingOffset(s.to_string())),
        Some(b'Z' | b'z') if i + 1 == b.len() => 0,
        Some(sign @ (b'+' | b'-')) if b.len() == i + 6 && b[i + 3] == b':' => {
            let oh = digits(&b[i + 1..i + 3]).ok_or_else(malformed)?;
            let om = digits(&b[i + 4..i + 6]).ok_or_else(malformed)?;
            if oh > 23 || om > 59 {
                return Err(TimestampError::ImpossibleOffset(s.to_string()));
            }
            let v = i64::from(oh * 3600 + om * 60);
            if *sign == b'-' {
                -v
            } else {
                v
            }
        }
        Some(_) => return Err(malformed()),
    };
    let days = days_from_civil(i64::from(year), month, day)
        .ok_or_else(|| TimestampError::ImpossibleDate(s.to_string()))?;
    if hour > 23 || minute > 59 || second > 59 {
        return Err(TimestampError::ImpossibleTime(s.to_string()));
    }
    let local_seconds = days * 86_400 + i64::from(hour * 3600 + minute * 60 + second);
    let t = (local_seconds - offset_seconds) * MICROS_PER_SECOND + micros;
    if !(MIN_INSTANT..MAX_INSTANT).contains(&t) {
        return Err(TimestampError::OutOfRange(s.to_string()));
    }
    Ok(t)
}

/// Whether `text` is a far-future "open-ended" sentinel, as CRMs write an
/// end that never comes: a real date (`9999-12-31`) or RFC 3339 timestamp
/// (`9999-12-31T23:59:59Z`) in a year after 2199. Only end columns
/// (`valid_to`, `removed_at`) accept it; it means "no end".
///
/// ```
/// use slt::timestamp::is_open_end_sentinel;
/// assert!(is_open_end_sentinel("9999-12-31"));
/// assert!(is_open_end_sentinel("9999-12-31T23:59:59Z"));
/// assert!(!is_open_end_sentinel("2199-12-31"));
/// assert!(!is_open_end_sentinel("9999-02-30"));
/// assert!(!is_open_end_sentinel("9999-12-31T23:59:59")); // no offset
/// ```
pub fn is_open_end_sentinel(text: &str) -> bool {
    let t = text.trim();
    let year = t.get(0..4).and_then(|y| digits(y.as_bytes()));
    if year.is_none_or(|y| y <= 2199) {
        return false;
    }
    if t.len() == 10 {
        return NaiveDate::parse_from_str(t, "%Y-%m-%d").is_ok();
    }
    matches!(parse_rfc3339(t), Err(TimestampError::OutOfRange(_)))
}

/// Parses a vendor export's timestamp: RFC 3339 as [`parse_rfc3339`]
/// reads it, and also with an offset written without a colon (`±hhmm`), as
/// Salesforce Data Loader (`2026-01-01T08:18:39.000+0000`) and the Jira REST
/// API (`2027-12-31T12:57:33.000-0500`) write it. The offset is honoured
/// exactly; a timestamp without one, or in a report's local format
/// (`3/27/2026 8:00 AM`), is still an error. [`parse_rfc3339`] itself keeps
/// refusing `±hhmm`: canonical input must be RFC 3339.
///
/// ```
/// use slt::timestamp::{parse_vendor, format_rfc3339};
/// let t = parse_vendor("2027-12-31T12:57:33.000-0500").unwrap();
/// assert_eq!(format_rfc3339(t), "2027-12-31T17:57:33Z");
/// assert!(parse_vendor("2027-12-31T12:57:33.000").is_err());
/// ```
pub fn parse_vendor(text: &str) -> Result<Instant, TimestampError> {
    let s = text.trim();
    let b = s.as_bytes();
    let n = b.len();
    // `…ss[.fff]±hhmm`: a sign, four digits, after a digit of the time.
    // Rewritten with the colon on the stack (no allocation per timestamp).
    if (24..=63).contains(&n)
        && matches!(b[n - 5], b'+' | b'-')
        && b[n - 4..].iter().all(u8::is_ascii_digit)
        && b[n - 6].is_ascii_digit()
    {
        let mut buf = [0u8; 64];
        buf[..n - 2].copy_from_slice(&b[..n - 2]);
        buf[n - 2] = b':';
        buf[n - 1..=n].copy_from_slice(&b[n - 2..]);
        let fixed = std::str::from_utf8(&buf[..=n]).expect("ASCII digits and the original text");
        return parse_rfc3339(fixed).map_err(|e| match e {
            // Report the text as written, not the repaired one.
            TimestampError::Malformed(_) => TimestampError::Malformed(s.to_string()),
            TimestampError::ImpossibleDate(_) => TimestampError::ImpossibleDate(s.to_string()),
            TimestampError::ImpossibleTime(_) => TimestampError::ImpossibleTime(s.to_string()),
            TimestampError::ImpossibleOffset(_) => TimestampError::ImpossibleOffset(s.to_string()),
            TimestampError::OutOfRange(_) => TimestampError::OutOfRange(s.to_string()),
            other => other,
        });
    }
    parse_rfc3339(s)
}

/// Days from 1970-01-01 to `year-month-day` in the proleptic Gregorian
/// calendar, or `None` for a day that does not exist. Integer arithmetic
/// (H. Hinnant's `days_from_civil`): every timestamp of an export goes
/// through it, and chrono's date type took a tenth of the parse.
fn days_from_civil(year: i64, month: u32, day: u32) -> Option<i64> {
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let length = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    if day == 0 || day > length {
        return None;
    }
    // Years from March: the leap day ends the year.
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * i64::from((month + 9) % 12) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    Some(era * 146_097 + day_of_era - 719_468)
}

/// Converts an instant to a chrono UTC date-time.
pub fn to_datetime(t: Instant) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(t).expect("instants are within chrono's range")
}

/// Converts a chrono date-time to an instant.
pub fn from_datetime<Tz: chrono::TimeZone>(t: &DateTime<Tz>) -> Instant {
    t.timestamp_micros()
}

/// Formats an instant as RFC 3339 UTC (`Z`), with fractional seconds only when
/// the instant has them.
pub fn format_rfc3339(t: Instant) -> String {
    to_datetime(t).to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Datelike;

    /// Every day of years 0 to 9999, and every impossible day next to
    /// them (day 0, day 29–32 of each month, months 0 and 13), against
    /// chrono.
    #[test]
    fn days_from_civil_agrees_with_chrono_on_every_day_of_ten_millennia() {
        let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
        for year in 0..=9999 {
            for month in 0..=13 {
                for day in (0..=1).chain(28..=32) {
                    let chrono = NaiveDate::from_ymd_opt(year, month, day)
                        .map(|d| d.signed_duration_since(epoch).num_days());
                    assert_eq!(
                        days_from_civil(i64::from(year), month, day),
                        chrono,
                        "{year}-{month}-{day}"
                    );
                }
            }
            // Every day of the year, in order, one after the other.
            let first = days_from_civil(i64::from(year), 1, 1).unwrap();
            let mut date = NaiveDate::from_ymd_opt(year, 1, 1).unwrap();
            for n in 0.. {
                if date.year() != year {
                    break;
                }
                assert_eq!(
                    days_from_civil(i64::from(year), date.month(), date.day()),
                    Some(first + n),
                    "{date}"
                );
                date = date.succ_opt().unwrap();
            }
        }
    }

    #[test]
    fn offsets_are_honoured_exactly() {
        let z = parse_rfc3339("2026-07-05T00:12:00Z").unwrap();
        assert_eq!(parse_rfc3339("2026-07-05T09:12:00+09:00").unwrap(), z);
        assert_eq!(parse_rfc3339("2026-07-04T17:12:00-07:00").unwrap(), z);
        assert_eq!(parse_rfc3339("2026-07-05T00:12:00-00:00").unwrap(), z);
        assert_eq!(format_rfc3339(z), "2026-07-05T00:12:00Z");
    }

    #[test]
    fn fractional_seconds_truncate_to_microseconds() {
        let t = parse_rfc3339("2026-03-02T10:15:30.2509999Z").unwrap();
        assert_eq!(t % MICROS_PER_SECOND, 250_999);
        assert_eq!(format_rfc3339(t), "2026-03-02T10:15:30.250999Z");
    }

    #[test]
    fn no_guessing() {
        use TimestampError::*;
        let cases = [
            ("2026-05-04T10:00:00", "MissingOffset"),
            ("2026-05-04 10:00:00Z", "Malformed"),
            ("2026-02-30T10:00:00Z", "ImpossibleDate"),
            ("2026-13-01T10:00:00Z", "ImpossibleDate"),
            ("2026-05-04T24:30:00Z", "ImpossibleTime"),
            ("2026-05-04T23:59:60Z", "ImpossibleTime"),
            ("2026-05-04T10:00:00+25:00", "ImpossibleOffset"),
            ("2026-05-04T10:00:00+0900", "Malformed"),
            ("yesterday", "Malformed"),
            ("", "Empty"),
            ("9999-12-31T00:00:00Z", "OutOfRange"),
            ("1850-01-01T00:00:00Z", "OutOfRange"),
            ("2026-05-04T10:00:00.Z", "Malformed"),
        ];
        for (text, want) in cases {
            let err = parse_rfc3339(text).unwrap_err();
            let got = match err {
                Empty => "Empty",
                Malformed(_) => "Malformed",
                MissingOffset(_) => "MissingOffset",
                ImpossibleDate(_) => "ImpossibleDate",
                ImpossibleTime(_) => "ImpossibleTime",
                ImpossibleOffset(_) => "ImpossibleOffset",
                OutOfRange(_) => "OutOfRange",
            };
            assert_eq!(got, want, "{text}");
        }
    }

    #[test]
    fn vendor_offsets_without_colon_are_honoured_exactly() {
        let z = parse_rfc3339("2026-01-01T08:18:39Z").unwrap();
        assert_eq!(parse_vendor("2026-01-01T08:18:39.000+0000").unwrap(), z);
        assert_eq!(parse_vendor("2026-01-01T08:18:39.000Z").unwrap(), z);
        assert_eq!(parse_vendor("2026-01-01T03:18:39.000-0500").unwrap(), z);
        assert_eq!(parse_vendor("2026-01-01T04:18:39-0400").unwrap(), z);
        assert_eq!(parse_vendor("2026-01-01T17:18:39.000+09:00").unwrap(), z);
        assert_eq!(parse_vendor("2026-01-01T08:18:39.5Z").unwrap(), z + 500_000);
        // The canonical parser keeps refusing the colon-less offset.
        assert!(parse_rfc3339("2026-01-01T08:18:39.000+0000").is_err());
    }

    #[test]
    fn vendor_report_formats_and_naive_times_are_refused() {
        for text in [
            "3/27/2026 8:00 AM",
            "2026-03-27T15:00:00.000",
            "2026-03-27 15:00:00",
            "2026-03-27T15:00:00+05",
            "2026-03-27T15:00:00+2500",
            "2026-02-30T15:00:00.000+0000",
            "",
        ] {
            assert!(parse_vendor(text).is_err(), "{text}");
        }
        assert_eq!(
            parse_vendor("2026-02-30T15:00:00.000+0000").unwrap_err(),
            TimestampError::ImpossibleDate("2026-02-30T15:00:00.000+0000".into())
        );
    }

    #[test]
    fn dates_before_1970_are_fine() {
        let t = parse_rfc3339("1969-12-31T23:59:59.5Z").unwrap();
        assert_eq!(t, -500_000);
        assert_eq!(format_rfc3339(t), "1969-12-31T23:59:59.500Z");
    }

    proptest::proptest! {
        /// Every instant of slt's range reads back from its text as itself
        /// and is no open-end sentinel (what lets a typed timestamp column
        /// be read without text), and the instants just outside it are out
        /// of range.
        #[test]
        fn an_instant_in_range_reads_back_from_its_text(
            t in MIN_INSTANT..MAX_INSTANT,
            past in 1i64..1_000_000_000_000_000,
        ) {
            let text = format_rfc3339(t);
            proptest::prop_assert_eq!(parse_rfc3339(&text), Ok(t));
            proptest::prop_assert!(!is_open_end_sentinel(&text));
            for outside in [MIN_INSTANT - past, MAX_INSTANT + past - 1] {
                let parsed = parse_rfc3339(&format_rfc3339(outside));
                proptest::prop_assert!(matches!(parsed, Err(TimestampError::OutOfRange(_))));
            }
        }
    }
}
