//! Synthetic canonical export: `accounts.csv`, `cases.csv` and `events.csv`,
//! and the optional `engagements.csv` and `contacts.csv` (see [`generate_entitlements_to_memory`]).
//!
//! [`generate`] writes a realistic, self-consistent support-case export in the
//! canonical columns of the SLT spec (section 5), for demos, tests and
//! benchmarks:
//!
//! - **accounts**: Online and Elite contracts (about 40% Elite) in all four
//!   billing regions, mostly opened on a bare date (local midnight in the
//!   region), some on an RFC 3339 instant, mostly open-ended. One account is
//!   upgraded from Online to Elite on 1 July of the generated year (two rows,
//!   the first's `valid_to` equal to the second's `valid_from`); with 11 or
//!   more accounts, one account starts on 1 April and one ends on 1 October.
//! - **cases**: created across the calendar year, weighted toward the
//!   region's local office hours on weekdays, with some nights and weekends;
//!   priorities about 5% P1, 20% P2, 45% P3, 30% P4; cases still open at the
//!   end of the year (mostly created in its last weeks) have no `closed_at`.
//! - **events**: automatic acknowledgements, a first agent response drawn in
//!   the case's coverage calendar (24x7, 24x5 or office hours, without public
//!   holidays) so that most cases meet their initial-response target and
//!   roughly one in ten breaches, follow-ups, notes, status changes,
//!   priority changes on about 5% of cases (upgrades, downgrades, a second
//!   change, a "change" to the same priority, one at the instant of the
//!   response), closures, rare reopenings, withdrawn cases (closed with no
//!   agent response) and open cases with no response yet. Nothing is later
//!   than the end of the year (the export instant). About 4 events per case;
//!   rows are grouped by case in time order except for about 1% that are
//!   moved a few rows, so readers must not rely on order.
//!
//! Timestamps are RFC 3339 with an offset: Americas cases in Los Angeles
//! local time (`-08:00` / `-07:00`), Japan cases in `+09:00`, EMEA and APAC
//! cases mostly in UTC (`Z`) and some in London / Sydney local time
//! (`+00:00`, `+01:00`, `+10:00`, `+11:00`); a few carry milliseconds.
//! The zone rules are built in (2020s rules of `America/Los_Angeles`,
//! `Europe/London`, `Australia/Sydney` and `Asia/Tokyo`) with Howard Hinnant's
//! civil-date algorithms, so the module depends on nothing outside `std`.
//!
//! **Determinism.** Everything comes from one `xoshiro256**` generator seeded
//! from [`GenerateOptions::seed`] through `SplitMix64`, and only from it: no
//! wall clock, no hash-map iteration, no platform math (logarithms are
//! computed with basic IEEE operations only). The same options therefore give
//! byte-identical files, on any platform.
//!
//! # Injected bad rows
//!
//! When [`GenerateOptions::bad_rows`] is true, exactly these nine rows are
//! added on top of the regular data (each appears exactly once; `Y` is
//! [`GenerateOptions::year`]); they are also listed in [`BAD_ROWS`]:
//!
//! | table | row |
//! |---|---|
//! | accounts | an extra account `ACC-<n+1>` with region `Mars` (no cases refer to it) |
//! | cases | `created_at` without an offset: `Y-05-04T10:00:00` |
//! | cases | impossible date: `created_at` `Y-02-30T10:00:00Z` |
//! | cases | unknown priority `P5` |
//! | cases | an exact duplicate of an existing case's row |
//! | cases | a case of account `ACC-9999`, which does not exist |
//! | events | an `agent_response` for case `C-0000000`, which does not exist |
//! | events | an `agent_response` two hours before its case's `created_at` |
//! | events | a `customer_update` whose `at` is `yesterday` |
//!
//! The four new bad cases take their own case ids and have no events, so
//! they do not cascade into further rejects; the bad events belong to
//! regular cases, which stay measurable without them.

use std::collections::VecDeque;
use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::Path;

mod entitlements;
pub mod vendor;
pub use entitlements::{generate_entitlements_to_memory, CONTACTS_HEADER, ENGAGEMENTS_HEADER};

/// Settings of one generated export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenerateOptions {
    /// Seed of the pseudo-random generator (default 2026).
    pub seed: u64,
    /// Number of regular cases (default 3000); bad rows come on top.
    pub cases: usize,
    /// Number of regular accounts (default 40); expected below 9998. With
    /// 0 accounts no cases are generated.
    pub accounts: usize,
    /// Calendar year in which the cases are created (default 2026); the
    /// export is taken at the start of the next year (UTC).
    pub year: i32,
    /// Inject the handful of bad rows listed in [`BAD_ROWS`] (default true).
    pub bad_rows: bool,
}

impl Default for GenerateOptions {
    /// The demo export: seed 2026, 3000 cases, 40 accounts, year 2026,
    /// with bad rows.
    fn default() -> Self {
        GenerateOptions {
            seed: 2026,
            cases: 3000,
            accounts: 40,
            year: 2026,
            bad_rows: true,
        }
    }
}

/// Data rows written per file (header excluded, injected bad rows included).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GenerateSummary {
    /// Rows of `accounts.csv` (an upgraded account has two rows).
    pub accounts: usize,
    /// Rows of `cases.csv`.
    pub cases: usize,
    /// Rows of `events.csv`.
    pub events: usize,
}

/// The bad rows injected when [`GenerateOptions::bad_rows`] is true, as
/// `(table, description)`: each is present exactly once.
pub const BAD_ROWS: &[(&str, &str)] = &[
    ("accounts", "extra account with unknown region `Mars`"),
    ("cases", "created_at without offset `<year>-05-04T10:00:00`"),
    ("cases", "impossible created_at `<year>-02-30T10:00:00Z`"),
    ("cases", "unknown priority `P5`"),
    ("cases", "exact duplicate of an existing case row"),
    ("cases", "unknown account `ACC-9999`"),
    ("events", "event for unknown case `C-0000000`"),
    ("events", "agent_response before its case's created_at"),
    ("events", "malformed at `yesterday`"),
];

/// Header row of `accounts.csv`.
pub const ACCOUNTS_HEADER: &str = "account_id,tier,region,valid_from,valid_to";
/// Header row of `cases.csv`.
pub const CASES_HEADER: &str =
    "case_id,account_id,product,priority,created_at,closed_at,channel,language,contact_id";
/// Header row of `events.csv`.
pub const EVENTS_HEADER: &str = "case_id,at,kind,value";

/// Write `accounts.csv`, `cases.csv` and `events.csv` into `out_dir`
/// (created if missing), replacing existing files.
pub fn generate(opts: &GenerateOptions, out_dir: &Path) -> io::Result<GenerateSummary> {
    fs::create_dir_all(out_dir)?;
    let open = |name: &str| -> io::Result<BufWriter<File>> {
        Ok(BufWriter::with_capacity(
            1 << 17,
            File::create(out_dir.join(name))?,
        ))
    };
    let mut accounts = open("accounts.csv")?;
    let mut cases = open("cases.csv")?;
    let mut events = open("events.csv")?;
    let summary = write_export(opts, &mut accounts, &mut cases, &mut events)?;
    accounts.flush()?;
    cases.flush()?;
    events.flush()?;
    let (engagements, contacts) = generate_entitlements_to_memory(opts);
    fs::write(out_dir.join("engagements.csv"), engagements)?;
    fs::write(out_dir.join("contacts.csv"), contacts)?;
    Ok(summary)
}

/// Same content as [`generate`] but into memory: `(accounts_csv, cases_csv,
/// events_csv, summary)`.
pub fn generate_to_memory(opts: &GenerateOptions) -> (Vec<u8>, Vec<u8>, Vec<u8>, GenerateSummary) {
    let (mut accounts, mut cases, mut events) = (Vec::new(), Vec::new(), Vec::new());
    let summary = write_export(opts, &mut accounts, &mut cases, &mut events)
        .expect("writing into a Vec<u8> cannot fail");
    (accounts, cases, events, summary)
}

// ---------------------------------------------------------------------------
// Pseudo-random numbers: xoshiro256** seeded through SplitMix64.

struct Rng {
    s: [u64; 4],
}

impl Rng {
    fn new(seed: u64) -> Self {
        let mut sm = seed;
        let mut next = || {
            sm = sm.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = sm;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        };
        Rng {
            s: [next(), next(), next(), next()],
        }
    }

    fn next_u64(&mut self) -> u64 {
        let result = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }

    /// Uniform in [0, 1).
    fn f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in 0..n (n > 0).
    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in lo..=hi.
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1) as u64) as i64
    }

    fn chance(&mut self, p: f64) -> bool {
        self.f64() < p
    }

    /// Exponential with the given mean.
    fn exp(&mut self, mean: f64) -> f64 {
        -mean * det_ln(1.0 - self.f64())
    }

    /// Index drawn from cumulative weights.
    fn pick_cumulative(&mut self, cumulative: &[f64]) -> usize {
        let total = cumulative[cumulative.len() - 1];
        let x = self.f64() * total;
        cumulative
            .partition_point(|&c| c <= x)
            .min(cumulative.len() - 1)
    }

    fn pick<T: Copy>(&mut self, weighted: &[(T, f64)]) -> T {
        let total: f64 = weighted.iter().map(|w| w.1).sum();
        let mut x = self.f64() * total;
        for &(item, w) in weighted {
            if x < w {
                return item;
            }
            x -= w;
        }
        weighted[weighted.len() - 1].0
    }
}

/// Natural logarithm from basic IEEE operations only (so results do not
/// depend on the platform's libm); accurate to ~1e-15 for x > 0.
fn det_ln(x: f64) -> f64 {
    if x <= 0.0 {
        return -745.0;
    }
    let bits = x.to_bits();
    let mut exponent = ((bits >> 52) & 0x7ff) as i64 - 1023;
    let mut m = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) | 0x3ff0_0000_0000_0000);
    if exponent == -1023 {
        // Subnormal: normalise by hand.
        let n = x * (1u64 << 54) as f64;
        return det_ln(n) - 54.0 * std::f64::consts::LN_2;
    }
    if m > std::f64::consts::SQRT_2 {
        m /= 2.0;
        exponent += 1;
    }
    let z = (m - 1.0) / (m + 1.0);
    let z2 = z * z;
    let mut term = z;
    let mut sum = 0.0;
    let mut k = 1.0;
    for _ in 0..14 {
        sum += term / k;
        term *= z2;
        k += 2.0;
    }
    2.0 * sum + exponent as f64 * std::f64::consts::LN_2
}

// ---------------------------------------------------------------------------
// Civil calendar (Howard Hinnant's algorithms) and zone rules.

const SEC_MS: i64 = 1_000;
const MIN_MS: i64 = 60_000;
const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 86_400_000;

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Proleptic Gregorian date of a day count since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// 0 = Monday … 6 = Sunday.
fn weekday(days: i64) -> i64 {
    (days + 3).rem_euclid(7)
}

/// Day number of the n-th (1-based) Sunday of a month.
fn nth_sunday(y: i64, m: i64, n: i64) -> i64 {
    let first = days_from_civil(y, m, 1);
    first + (6 - weekday(first)) + 7 * (n - 1)
}

/// Day number of the last Sunday of a month (m < 12).
fn last_sunday(y: i64, m: i64) -> i64 {
    let last = days_from_civil(y, m + 1, 1) - 1;
    last - (weekday(last) + 1) % 7
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Region {
    Americas,
    Emea,
    Apac,
    Japan,
}

impl Region {
    const ALL: [Region; 4] = [Region::Americas, Region::Emea, Region::Apac, Region::Japan];

    fn name(self) -> &'static str {
        match self {
            Region::Americas => "Americas",
            Region::Emea => "EMEA",
            Region::Apac => "APAC",
            Region::Japan => "Japan",
        }
    }

    /// Standard and (if any) daylight offsets in seconds.
    fn offsets(self) -> (i64, Option<i64>) {
        match self {
            Region::Americas => (-8 * 3600, Some(-7 * 3600)),
            Region::Emea => (0, Some(3600)),
            Region::Apac => (10 * 3600, Some(11 * 3600)),
            Region::Japan => (9 * 3600, None),
        }
    }

    /// Whether daylight time is in force at the UTC instant `t` (ms), from
    /// the rules of the year of `t`.
    fn is_dst_by_rule(self, t: i64) -> bool {
        let y = civil_from_days(t.div_euclid(DAY_MS)).0;
        match self {
            // 02:00 PST on the second Sunday of March (10:00 UTC) to 02:00
            // PDT on the first Sunday of November (09:00 UTC).
            Region::Americas => {
                let start = nth_sunday(y, 3, 2) * DAY_MS + 10 * HOUR_MS;
                let end = nth_sunday(y, 11, 1) * DAY_MS + 9 * HOUR_MS;
                (start..end).contains(&t)
            }
            // 01:00 UTC on the last Sundays of March and October.
            Region::Emea => {
                let start = last_sunday(y, 3) * DAY_MS + HOUR_MS;
                let end = last_sunday(y, 10) * DAY_MS + HOUR_MS;
                (start..end).contains(&t)
            }
            // Ends 03:00 AEDT on the first Sunday of April, starts 02:00 AEST
            // on the first Sunday of October: both 16:00 UTC the day before.
            Region::Apac => {
                let end = nth_sunday(y, 4, 1) * DAY_MS - 8 * HOUR_MS;
                let start = nth_sunday(y, 10, 1) * DAY_MS - 8 * HOUR_MS;
                t < end || t >= start
            }
            Region::Japan => false,
        }
    }

    /// UTC offset in seconds in force at the UTC instant `t` (ms).
    fn offset_secs(self, t: i64) -> i64 {
        let (std_off, dst_off) = self.offsets();
        let Some(dst_off) = dst_off else {
            return std_off;
        };
        let table = transitions(self);
        let dst = if (table.first_day..table.end_day).contains(&t.div_euclid(DAY_MS)) {
            // Transitions alternate; DST at the first year's start only in
            // the southern hemisphere.
            let crossed = table.instants.partition_point(|&x| x <= t);
            (crossed % 2 == 1) != table.dst_at_start
        } else {
            self.is_dst_by_rule(t)
        };
        if dst {
            dst_off
        } else {
            std_off
        }
    }

    /// UTC instant of a local wall-clock time (ms since the local epoch):
    /// the earlier instant in a repeated hour, the instant after the gap
    /// (shifted by the gap length) in a skipped hour.
    fn local_to_utc(self, local: i64) -> i64 {
        let (std_off, dst_off) = self.offsets();
        let std_t = local - std_off * SEC_MS;
        let Some(dst_off) = dst_off else {
            return std_t;
        };
        let dst_t = local - dst_off * SEC_MS;
        let std_ok = std_t + self.offset_secs(std_t) * SEC_MS == local;
        let dst_ok = dst_t + self.offset_secs(dst_t) * SEC_MS == local;
        match (std_ok, dst_ok) {
            (true, true) => std_t.min(dst_t),
            (false, true) => dst_t,
            _ => std_t,
        }
    }

    /// Office hours as minutes after local midnight (spec section 3).
    fn office_hours(self) -> (i64, i64) {
        match self {
            Region::Americas => (6 * 60, 17 * 60 + 30),
            Region::Emea | Region::Apac => (9 * 60, 17 * 60),
            Region::Japan => (9 * 60, 17 * 60 + 30),
        }
    }

    fn business_day_minutes(self) -> i64 {
        let (open, close) = self.office_hours();
        close - open
    }
}

/// DST transition instants of a region for the years 1970–2199, in order.
struct Transitions {
    first_day: i64,
    end_day: i64,
    dst_at_start: bool,
    instants: Vec<i64>,
}

fn transitions(region: Region) -> &'static Transitions {
    use std::sync::OnceLock;
    static TABLES: [OnceLock<Transitions>; 3] = [OnceLock::new(), OnceLock::new(), OnceLock::new()];
    let idx = match region {
        Region::Americas => 0,
        Region::Emea => 1,
        _ => 2,
    };
    TABLES[idx].get_or_init(|| {
        let (first, last) = (1970, 2199);
        let mut instants = Vec::new();
        for y in first..=last {
            let pair = match region {
                Region::Americas => [
                    nth_sunday(y, 3, 2) * DAY_MS + 10 * HOUR_MS,
                    nth_sunday(y, 11, 1) * DAY_MS + 9 * HOUR_MS,
                ],
                Region::Emea => [
                    last_sunday(y, 3) * DAY_MS + HOUR_MS,
                    last_sunday(y, 10) * DAY_MS + HOUR_MS,
                ],
                _ => [
                    nth_sunday(y, 4, 1) * DAY_MS - 8 * HOUR_MS,
                    nth_sunday(y, 10, 1) * DAY_MS - 8 * HOUR_MS,
                ],
            };
            instants.extend_from_slice(&pair);
        }
        let first_day = days_from_civil(first, 1, 1);
        Transitions {
            first_day,
            end_day: days_from_civil(last + 1, 1, 1),
            dst_at_start: region.is_dst_by_rule(first_day * DAY_MS),
            instants,
        }
    })
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tier {
    Online,
    Elite,
}

impl Tier {
    fn name(self) -> &'static str {
        match self {
            Tier::Online => "Online",
            Tier::Elite => "Elite",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Coverage {
    H24x7,
    H24x5,
    Business,
}

/// Coverage and initial-response target (minutes) of spec section 2.
fn policy(tier: Tier, priority: u8, region: Region) -> (Coverage, i64) {
    let day = region.business_day_minutes();
    let (coverage, minutes) = match (tier, priority) {
        (Tier::Online, 1) => (Coverage::H24x7, 60),
        (Tier::Elite, 1) => (Coverage::H24x7, 15),
        (Tier::Online, 2) => (Coverage::Business, 240),
        (Tier::Online, 3) => (Coverage::Business, 360),
        (Tier::Online, _) => (Coverage::Business, 3 * day),
        (Tier::Elite, 2) => (Coverage::H24x5, 30),
        (Tier::Elite, 3) => (Coverage::H24x5, 60),
        (Tier::Elite, _) => (Coverage::Business, day),
    };
    if region == Region::Japan && priority >= 2 {
        (Coverage::Business, minutes)
    } else {
        (coverage, minutes)
    }
}

/// The coverage window containing `t`, or the next one after it, as UTC ms
/// `[start, end)` (no public holidays).
fn window_at_or_after(coverage: Coverage, region: Region, t: i64) -> (i64, i64) {
    let local_day = (t + region.offset_secs(t) * SEC_MS).div_euclid(DAY_MS);
    match coverage {
        Coverage::H24x7 => (t, i64::MAX),
        Coverage::H24x5 => {
            let mut monday = local_day - weekday(local_day);
            loop {
                let start = region.local_to_utc(monday * DAY_MS);
                let end = region.local_to_utc((monday + 5) * DAY_MS);
                if end > t {
                    return (start, end);
                }
                monday += 7;
            }
        }
        Coverage::Business => {
            let (open, close) = region.office_hours();
            let mut day = local_day - 1;
            loop {
                if weekday(day) < 5 {
                    let start = region.local_to_utc(day * DAY_MS + open * MIN_MS);
                    let end = region.local_to_utc(day * DAY_MS + close * MIN_MS);
                    if end > t {
                        return (start, end);
                    }
                }
                day += 1;
            }
        }
    }
}

/// `start` plus `duration` ms of covered time.
fn add_covered(coverage: Coverage, region: Region, start: i64, duration: i64) -> i64 {
    if duration <= 0 || coverage == Coverage::H24x7 {
        return start + duration.max(0);
    }
    let mut t = start;
    let mut remaining = duration;
    loop {
        let (ws, we) = window_at_or_after(coverage, region, t);
        let s = t.max(ws);
        if remaining <= we - s {
            return s + remaining;
        }
        remaining -= we - s;
        t = we;
    }
}

// ---------------------------------------------------------------------------
// Text output helpers.

fn push_num(buf: &mut Vec<u8>, v: i64, width: usize) {
    let mut digits = [0u8; 20];
    let mut n = v.unsigned_abs();
    let mut len = 0;
    loop {
        digits[len] = b'0' + (n % 10) as u8;
        n /= 10;
        len += 1;
        if n == 0 {
            break;
        }
    }
    if v < 0 {
        buf.push(b'-');
    }
    for _ in len..width {
        buf.push(b'0');
    }
    for i in (0..len).rev() {
        buf.push(digits[i]);
    }
}

/// Two digits of `v` (0..=99).
fn push2(buf: &mut Vec<u8>, v: i64) {
    buf.extend_from_slice(&[b'0' + (v / 10) as u8, b'0' + (v % 10) as u8]);
}

fn push_date(buf: &mut Vec<u8>, days: i64) {
    let (y, m, d) = civil_from_days(days);
    if (0..=9999).contains(&y) {
        push2(buf, y / 100);
        push2(buf, y % 100);
    } else {
        push_num(buf, y, 4);
    }
    buf.push(b'-');
    push2(buf, m);
    buf.push(b'-');
    push2(buf, d);
}

/// RFC 3339 timestamp of the UTC instant `t` (ms): in the region's local
/// offset when `local`, else with `Z`. Milliseconds only when non-zero.
fn push_ts(buf: &mut Vec<u8>, region: Region, t: i64, local: bool) {
    let off = if local { region.offset_secs(t) } else { 0 };
    let lt = t + off * SEC_MS;
    push_date(buf, lt.div_euclid(DAY_MS));
    let ms = lt.rem_euclid(DAY_MS);
    buf.push(b'T');
    push2(buf, ms / HOUR_MS);
    buf.push(b':');
    push2(buf, ms / MIN_MS % 60);
    buf.push(b':');
    push2(buf, ms / SEC_MS % 60);
    if ms % SEC_MS != 0 {
        buf.push(b'.');
        push_num(buf, ms % SEC_MS, 3);
    }
    if local {
        buf.push(if off < 0 { b'-' } else { b'+' });
        let a = off.abs();
        push2(buf, a / 3600);
        buf.push(b':');
        push2(buf, a / 60 % 60);
    } else {
        buf.push(b'Z');
    }
}

fn push_case_id(buf: &mut Vec<u8>, id: usize) {
    buf.extend_from_slice(b"C-");
    push_num(buf, id as i64, 7);
}

fn push_account_id(buf: &mut Vec<u8>, num: usize) {
    buf.extend_from_slice(b"ACC-");
    push_num(buf, num as i64, 4);
}

// ---------------------------------------------------------------------------
// Accounts.

const PRODUCTS: [(&str, f64); 6] = [
    ("Adobe Experience Manager", 0.28),
    ("Adobe Analytics", 0.22),
    ("Adobe Commerce", 0.15),
    ("Adobe Target", 0.13),
    ("Adobe Campaign", 0.12),
    ("Adobe Journey Optimizer", 0.10),
];
const COMMERCE: usize = 2;
const PRODUCT_CUMULATIVE: [f64; 6] = [0.28, 0.50, 0.65, 0.78, 0.90, 1.0];

struct Contract {
    tier: Tier,
    from: i64,
    to: Option<i64>,
    from_text: String,
    to_text: String,
}

struct Account {
    num: usize,
    region: Region,
    contracts: Vec<Contract>,
    products: Vec<usize>,
    contacts: i64,
    /// Cases are created in `[active_from, active_to)` (UTC ms).
    active_from: i64,
    active_to: i64,
}

impl Account {
    fn tier_at(&self, t: i64) -> Tier {
        self.contracts
            .iter()
            .find(|c| c.from <= t && c.to.is_none_or(|to| t < to))
            .unwrap_or(&self.contracts[0])
            .tier
    }
}

/// A bound of a contract: a bare date (local midnight) or an instant.
fn bound_date(region: Region, days: i64) -> (i64, String) {
    let mut text = Vec::new();
    push_date(&mut text, days);
    (
        region.local_to_utc(days * DAY_MS),
        String::from_utf8(text).expect("ASCII"),
    )
}

fn bound_instant(region: Region, t: i64, local: bool) -> (i64, String) {
    let mut text = Vec::new();
    push_ts(&mut text, region, t, local);
    (t, String::from_utf8(text).expect("ASCII"))
}

fn make_accounts(rng: &mut Rng, n: usize, year: i64) -> Vec<Account> {
    let mut combos: Vec<(Tier, Region)> = Region::ALL
        .iter()
        .flat_map(|&r| [(Tier::Online, r), (Tier::Elite, r)])
        .collect();
    for i in (1..combos.len()).rev() {
        combos.swap(i, rng.below(i as u64 + 1) as usize);
    }
    let year_start = days_from_civil(year, 1, 1);
    let mut accounts = Vec::with_capacity(n);
    for i in 0..n {
        let (tier, region) = if n >= combos.len() && i < combos.len() {
            combos[i]
        } else {
            let tier = if rng.chance(0.375) {
                Tier::Elite
            } else {
                Tier::Online
            };
            let region = rng.pick(&[
                (Region::Americas, 0.38),
                (Region::Emea, 0.30),
                (Region::Apac, 0.16),
                (Region::Japan, 0.16),
            ]);
            (tier, region)
        };
        // Contract start: mostly a bare date, one in five an instant.
        let (from, from_text) = if i % 5 == 3 {
            let day = year_start - rng.range(40, 1200);
            let local = rng.chance(0.5);
            let t = if local {
                region.local_to_utc(day * DAY_MS)
            } else {
                day * DAY_MS + rng.range(0, 23) * HOUR_MS + rng.range(0, 3) * 15 * MIN_MS
            };
            bound_instant(region, t, local)
        } else if rng.chance(0.6) {
            bound_date(region, days_from_civil(year - 1, 1, 1))
        } else {
            bound_date(region, year_start - rng.range(30, 1500))
        };
        let (to, to_text) = if i % 10 == 6 {
            if rng.chance(0.5) {
                let (t, s) = bound_date(region, days_from_civil(year + 2, 1, 1));
                (Some(t), s)
            } else {
                let t = days_from_civil(year + 1, rng.range(3, 12), 1) * DAY_MS;
                let (t, s) = bound_instant(region, t, false);
                (Some(t), s)
            }
        } else {
            (None, String::new())
        };
        let mut products = Vec::new();
        let wanted = 1 + rng.below(3) as usize;
        while products.len() < wanted {
            let idx = rng.pick_cumulative(&PRODUCT_CUMULATIVE);
            if !products.contains(&idx) {
                products.push(idx);
            }
        }
        let contacts = match tier {
            Tier::Online => rng.range(2, 8),
            Tier::Elite => rng.range(6, 18),
        };
        accounts.push(Account {
            num: i + 1,
            region,
            contracts: vec![Contract {
                tier,
                from,
                to,
                from_text,
                to_text,
            }],
            products,
            contacts,
            active_from: from,
            active_to: to.unwrap_or(i64::MAX),
        });
    }
    // Special contracts: an upgrade, a new customer, a churned one.
    if n > 0 {
        let acc = &mut accounts[8.min(n - 1)];
        let (t, s) = bound_date(acc.region, days_from_civil(year, 7, 1));
        let first = &mut acc.contracts[0];
        first.tier = Tier::Online;
        first.to = Some(t);
        first.to_text = s.clone();
        acc.contracts.push(Contract {
            tier: Tier::Elite,
            from: t,
            to: None,
            from_text: s,
            to_text: String::new(),
        });
        acc.active_to = i64::MAX;
        acc.contacts = acc.contacts.max(6);
    }
    if n >= 11 {
        let acc = &mut accounts[9];
        let (t, s) = bound_date(acc.region, days_from_civil(year, 4, 1));
        acc.contracts[0].from = t;
        acc.contracts[0].from_text = s;
        acc.active_from = t;
        let acc = &mut accounts[10];
        let (t, s) = bound_instant(acc.region, days_from_civil(year, 10, 1) * DAY_MS, false);
        acc.contracts[0].to = Some(t);
        acc.contracts[0].to_text = s;
        acc.active_to = t;
    }
    accounts
}

fn write_accounts(
    out: &mut dyn Write,
    accounts: &[Account],
    mars: bool,
    row: &mut Vec<u8>,
) -> io::Result<usize> {
    out.write_all(ACCOUNTS_HEADER.as_bytes())?;
    out.write_all(b"\n")?;
    let mut rows = 0;
    for (i, acc) in accounts.iter().enumerate() {
        for c in &acc.contracts {
            row.clear();
            push_account_id(row, acc.num);
            row.push(b',');
            row.extend_from_slice(c.tier.name().as_bytes());
            row.push(b',');
            row.extend_from_slice(acc.region.name().as_bytes());
            row.push(b',');
            row.extend_from_slice(c.from_text.as_bytes());
            row.push(b',');
            row.extend_from_slice(c.to_text.as_bytes());
            row.push(b'\n');
            out.write_all(row)?;
            rows += 1;
        }
        if mars && i == accounts.len() / 2 {
            row.clear();
            push_account_id(row, accounts.len() + 1);
            row.extend_from_slice(b",Elite,Mars,");
            row.extend_from_slice(acc.contracts[0].from_text.as_bytes());
            row.extend_from_slice(b",\n");
            out.write_all(row)?;
            rows += 1;
        }
    }
    Ok(rows)
}

// ---------------------------------------------------------------------------
// Cases and events.

#[derive(Clone, Copy)]
struct Ev {
    at: i64,
    kind: &'static str,
    value: &'static str,
}

const PRIORITY_NAMES: [&str; 5] = ["", "P1", "P2", "P3", "P4"];

/// Per-case facts the event model needs.
struct CaseFacts {
    created: i64,
    region: Region,
    tier: Tier,
    priority: u8,
}

/// Seconds-resolution duration of `ratio` × `minutes`.
fn ratio_ms(ratio: f64, minutes: i64) -> i64 {
    ((ratio * minutes as f64 * 60.0) as i64).max(1) * SEC_MS
}

/// First agent response after `from` for a case at `priority`: most within
/// target, about 8–12% beyond it, with a long tail; a few exactly at it.
fn draw_response(rng: &mut Rng, tier: Tier, priority: u8, region: Region, from: i64) -> i64 {
    let (coverage, minutes) = policy(tier, priority, region);
    let breach = match tier {
        Tier::Online => 0.115,
        Tier::Elite => 0.075,
    };
    let u = rng.f64();
    let duration = if u < 0.004 {
        minutes * MIN_MS
    } else if u < 0.004 + breach {
        let over = if rng.chance(0.75) {
            rng.exp(0.4)
        } else {
            rng.exp(4.0)
        };
        ratio_ms(1.01 + over, minutes)
    } else {
        let v = rng.f64();
        ratio_ms(0.03 + 0.94 * v * v, minutes)
    };
    add_covered(coverage, region, from, duration)
}

fn other_priority(rng: &mut Rng, from: u8) -> u8 {
    let upgrade = match from {
        1 => false,
        4 => true,
        _ => rng.chance(0.55),
    };
    if upgrade {
        rng.range(1, i64::from(from) - 1) as u8
    } else {
        rng.range(i64::from(from) + 1, 4) as u8
    }
}

/// Builds the case's events (unsorted) into `evs`.
fn case_events(rng: &mut Rng, f: &CaseFacts, evs: &mut Vec<Ev>) {
    let c = f.created;
    let push = |evs: &mut Vec<Ev>, at: i64, kind: &'static str, value: &'static str| {
        evs.push(Ev { at, kind, value })
    };
    evs.clear();
    if rng.chance(0.9) {
        push(evs, c + rng.range(2, 120) * SEC_MS, "auto_response", "");
    }
    if rng.chance(0.03) {
        // Withdrawn: closed without any agent response, mostly in time.
        let (coverage, minutes) = policy(f.tier, f.priority, f.region);
        let ratio = if rng.chance(0.75) {
            0.05 + 0.85 * rng.f64()
        } else {
            1.3 + 4.0 * rng.f64()
        };
        let close = add_covered(coverage, f.region, c, ratio_ms(ratio, minutes)).max(c + MIN_MS);
        if rng.chance(0.4) {
            let at = c + ((close - c) as f64 * rng.f64()) as i64 / SEC_MS * SEC_MS;
            push(evs, at.max(c), "customer_update", "");
        }
        push(evs, close, "closed", "");
        return;
    }

    let mut response = draw_response(rng, f.tier, f.priority, f.region, c);
    // Priority changes: before the response, at it, or after it.
    let mut after_changes: Vec<(u8, f64)> = Vec::new();
    if rng.chance(0.05) {
        let mode = rng.f64();
        let first = if rng.chance(0.12) {
            f.priority
        } else {
            other_priority(rng, f.priority)
        };
        if mode < 0.5 {
            let span = (response - c) as f64 * (0.1 + 0.8 * rng.f64());
            let t1 = c + (span as i64 / SEC_MS).max(1) * SEC_MS;
            push(evs, t1, "priority_change", PRIORITY_NAMES[first as usize]);
            if first < f.priority && t1 < response {
                response = draw_response(rng, f.tier, first, f.region, t1);
            }
            if rng.chance(0.2) {
                let t2 = t1 + rng.range(5, 360) * MIN_MS;
                let second = other_priority(rng, first);
                push(evs, t2, "priority_change", PRIORITY_NAMES[second as usize]);
                if second < first && t2 < response {
                    response = draw_response(rng, f.tier, second, f.region, t2);
                }
            }
        } else if mode < 0.56 {
            push(
                evs,
                response,
                "priority_change",
                PRIORITY_NAMES[first as usize],
            );
        } else {
            after_changes.push((first, rng.f64()));
            if rng.chance(0.2) {
                after_changes.push((other_priority(rng, first), rng.f64()));
            }
        }
    }
    push(evs, response, "agent_response", "");
    if rng.chance(0.5) {
        push(
            evs,
            response + rng.range(0, 600) * SEC_MS,
            "status_change",
            "in_progress",
        );
    }
    let mean_days = [0.0, 0.8, 2.5, 5.0, 8.0][f.priority as usize];
    let mut resolution = rng.exp(mean_days * 86_400.0);
    if rng.chance(0.01) {
        resolution *= 8.0;
    }
    let close = response + (resolution as i64).max(600) * SEC_MS;
    let span = close - response;
    let within = |rng: &mut Rng| response + ((span as f64 * rng.f64()) as i64 / SEC_MS) * SEC_MS;
    for (p, _) in &after_changes {
        let at = within(rng).max(response + SEC_MS);
        push(evs, at, "priority_change", PRIORITY_NAMES[*p as usize]);
    }
    while rng.chance(0.4) {
        let at = within(rng).max(response + SEC_MS);
        let kind = rng.pick(&[
            ("agent_response", 0.4),
            ("customer_update", 0.35),
            ("internal_note", 0.25),
        ]);
        push(evs, at, kind, "");
        if kind == "agent_response" && rng.chance(0.3) {
            let status = if rng.chance(0.9) {
                "waiting_on_customer"
            } else {
                "on_hold"
            };
            push(evs, at + SEC_MS, "status_change", status);
        }
    }
    push(evs, close, "closed", "");
    if rng.chance(0.02) {
        let reopened = close + rng.range(60, 14_400) * MIN_MS;
        push(evs, reopened, "reopened", "");
        push(
            evs,
            reopened + rng.range(1, 600) * SEC_MS,
            "customer_update",
            "",
        );
        let answer = reopened + rng.range(10, 1440) * MIN_MS;
        push(evs, answer, "agent_response", "");
        push(evs, answer + rng.range(60, 7200) * MIN_MS, "closed", "");
    }
}

/// Delays about 1% of event rows by a few rows, so that readers cannot rely
/// on file order.
struct Shuffler {
    ring: VecDeque<Vec<u8>>,
    spare: Vec<Vec<u8>>,
    rows: usize,
}

impl Shuffler {
    const WINDOW: usize = 24;

    fn buffer(&mut self) -> Vec<u8> {
        let mut b = self.spare.pop().unwrap_or_default();
        b.clear();
        b
    }

    fn push(&mut self, row: Vec<u8>, rng: &mut Rng, out: &mut dyn Write) -> io::Result<()> {
        self.ring.push_back(row);
        self.rows += 1;
        let len = self.ring.len();
        if len >= 2 && rng.chance(0.006) {
            let j = rng.below(len as u64 - 1) as usize;
            self.ring.swap(j, len - 1);
        }
        if self.ring.len() > Self::WINDOW {
            let r = self.ring.pop_front().expect("non-empty");
            out.write_all(&r)?;
            self.spare.push(r);
        }
        Ok(())
    }

    fn finish(&mut self, out: &mut dyn Write) -> io::Result<()> {
        while let Some(r) = self.ring.pop_front() {
            out.write_all(&r)?;
        }
        Ok(())
    }
}

fn event_row(buf: &mut Vec<u8>, case_id: usize, at: &[u8], kind: &str, value: &str) {
    push_case_id(buf, case_id);
    buf.push(b',');
    buf.extend_from_slice(at);
    buf.push(b',');
    buf.extend_from_slice(kind.as_bytes());
    buf.push(b',');
    buf.extend_from_slice(value.as_bytes());
    buf.push(b'\n');
}

/// Bad case rows, anchored at the instant where they are inserted.
fn bad_case_rows(year: i64, accounts: &[Account]) -> Vec<(i64, String)> {
    let y = year;
    let acc = |i: usize| {
        let a = &accounts[i % accounts.len()];
        (a.num, PRODUCTS[a.products[0]].0)
    };
    let at = |m: i64, d: i64, h: i64| days_from_civil(y, m, d) * DAY_MS + h * HOUR_MS;
    let (a0, p0) = acc(0);
    let (a1, p1) = acc(1);
    let (a2, p2) = acc(2);
    let unknown = 9999.max(accounts.len() + 2);
    vec![
        (
            at(2, 28, 10),
            format!("{p1},P2,{y}-02-30T10:00:00Z,,email,en,CT-{a1:04}-01#{a1}"),
        ),
        (
            at(5, 4, 10),
            format!("{p0},P3,{y}-05-04T10:00:00,,web,en,CT-{a0:04}-01#{a0}"),
        ),
        (
            at(8, 12, 14),
            format!(
                "{p2},P5,{y}-08-12T14:30:00Z,{y}-08-14T09:00:00Z,web,en,CT-{a2:04}-02#{a2}"
            ),
        ),
        (
            at(10, 20, 0),
            format!(
                "Adobe Analytics,P3,{y}-10-20T09:15:00+09:00,{y}-10-21T11:00:00+09:00,chat,ja,CT-{unknown:04}-01#{unknown}"
            ),
        ),
    ]
}

/// Case volume per account, as cumulative weights: skewed, Elite accounts
/// busier.
fn case_weights(rng: &mut Rng, accounts: &[Account]) -> Vec<f64> {
    let mut cumulative = Vec::with_capacity(accounts.len());
    let mut total = 0.0;
    for (i, acc) in accounts.iter().enumerate() {
        let rank = ((i * 7 + 3) % accounts.len().max(1)) as f64 + 1.0;
        let mut w = 1.0 / (rank * rank.sqrt()).sqrt() * (0.5 + rng.f64());
        if acc.contracts.iter().any(|c| c.tier == Tier::Elite) {
            w *= 1.8;
        }
        if acc.contracts.len() > 1 {
            w = w.max(0.5);
        }
        total += w;
        cumulative.push(total);
    }
    cumulative
}

/// `n` creation instants with their account index, sorted: mostly office
/// hours on weekdays, within each account's active contracts.
fn creation_instants(
    rng: &mut Rng,
    accounts: &[Account],
    cumulative: &[f64],
    n: usize,
    year: i64,
) -> Vec<(i64, u32)> {
    let year_start = days_from_civil(year, 1, 1) * DAY_MS;
    let year_end = days_from_civil(year + 1, 1, 1) * DAY_MS;
    let year_days = days_from_civil(year + 1, 1, 1) - days_from_civil(year, 1, 1);
    let mut created: Vec<(i64, u32)> = Vec::with_capacity(n);
    for i in 0..n {
        let a = rng.pick_cumulative(cumulative);
        let acc = &accounts[a];
        let lo = acc.active_from.max(year_start);
        let hi = acc.active_to.min(year_end);
        let (open, close) = acc.region.office_hours();
        let mut t = lo;
        for _ in 0..100 {
            let day = days_from_civil(year, 1, 1) + rng.below(year_days as u64) as i64;
            let weekend = weekday(day) >= 5;
            if weekend && !rng.chance(0.12) {
                continue;
            }
            let minute = if !weekend && rng.chance(0.8) {
                let span = (close - open) as f64;
                let x = if rng.chance(0.5) {
                    (rng.f64() + rng.f64()) / 2.0
                } else {
                    rng.f64()
                };
                open + (x * span) as i64
            } else {
                rng.range(0, 1439)
            };
            let local = day * DAY_MS + minute * MIN_MS + rng.range(0, 59) * SEC_MS;
            let candidate = acc.region.local_to_utc(local);
            if (lo..hi).contains(&candidate) {
                t = candidate;
                break;
            }
        }
        if i % 500 == 0 {
            t += rng.range(1, 999);
        }
        created.push((t, a as u32));
    }
    created.sort_unstable();
    created
}

/// What one case is, drawn in a fixed order (so a seed gives the same export).
struct CaseDraw {
    priority: u8,
    product: usize,
    channel: &'static str,
    language: &'static str,
    contact: i64,
    /// Whether its timestamps are written in local time rather than UTC.
    local: bool,
}

fn draw_case(rng: &mut Rng, acc: &Account, tier: Tier) -> CaseDraw {
    let priority = rng.pick(&[(1u8, 0.05), (2, 0.20), (3, 0.45), (4, 0.30)]);
    let product = if acc.products.len() == 1 || rng.chance(0.5) {
        acc.products[0]
    } else {
        acc.products[1 + rng.below(acc.products.len() as u64 - 1) as usize]
    };
    let channel = match (priority, tier) {
        (1, _) => rng.pick(&[
            ("phone", 0.45),
            ("web", 0.35),
            ("chat", 0.1),
            ("email", 0.1),
        ]),
        (_, Tier::Online) => rng.pick(&[("web", 0.55), ("email", 0.25), ("chat", 0.2)]),
        (_, Tier::Elite) => rng.pick(&[
            ("web", 0.45),
            ("phone", 0.2),
            ("chat", 0.2),
            ("email", 0.15),
        ]),
    };
    let language = match acc.region {
        Region::Japan if product != COMMERCE && rng.chance(0.85) => "ja",
        Region::Emea => rng.pick(&[("en", 0.95), ("fr", 0.03), ("de", 0.02)]),
        _ => "en",
    };
    let v = rng.f64();
    let contact = 1 + (v * v * acc.contacts as f64) as i64;
    let local = match acc.region {
        Region::Americas | Region::Japan => true,
        Region::Emea | Region::Apac => rng.chance(0.15),
    };
    CaseDraw {
        priority,
        product,
        channel,
        language,
        contact,
        local,
    }
}

/// One `cases.csv` row into `row` (cleared first); `closed` is the closure
/// timestamp as written, or empty.
fn case_row(
    row: &mut Vec<u8>,
    id: usize,
    acc: &Account,
    draw: &CaseDraw,
    created: i64,
    closed: &[u8],
) {
    row.clear();
    push_case_id(row, id);
    row.push(b',');
    push_account_id(row, acc.num);
    row.push(b',');
    row.extend_from_slice(PRODUCTS[draw.product].0.as_bytes());
    row.push(b',');
    row.extend_from_slice(PRIORITY_NAMES[draw.priority as usize].as_bytes());
    row.push(b',');
    push_ts(row, acc.region, created, draw.local);
    row.push(b',');
    row.extend_from_slice(closed);
    row.push(b',');
    row.extend_from_slice(draw.channel.as_bytes());
    row.push(b',');
    row.extend_from_slice(draw.language.as_bytes());
    row.extend_from_slice(b",CT-");
    push_num(row, acc.num as i64, 4);
    row.push(b'-');
    push_num(row, draw.contact, 2);
    row.push(b'\n');
}

fn write_export(
    opts: &GenerateOptions,
    accounts_out: &mut dyn Write,
    cases_out: &mut dyn Write,
    events_out: &mut dyn Write,
) -> io::Result<GenerateSummary> {
    let mut rng = Rng::new(opts.seed);
    let year = i64::from(opts.year);
    let year_start = days_from_civil(year, 1, 1) * DAY_MS;
    let year_end = days_from_civil(year + 1, 1, 1) * DAY_MS;

    let accounts = make_accounts(&mut rng, opts.accounts, year);
    let mut row = Vec::with_capacity(256);
    let account_rows = write_accounts(accounts_out, &accounts, opts.bad_rows, &mut row)?;

    let cumulative = case_weights(&mut rng, &accounts);
    let n = if accounts.is_empty() { 0 } else { opts.cases };
    let created = creation_instants(&mut rng, &accounts, &cumulative, n, year);

    cases_out.write_all(CASES_HEADER.as_bytes())?;
    cases_out.write_all(b"\n")?;
    events_out.write_all(EVENTS_HEADER.as_bytes())?;
    events_out.write_all(b"\n")?;

    let bad = opts.bad_rows;
    let mut bad_cases = if bad && !accounts.is_empty() {
        bad_case_rows(year, &accounts)
    } else {
        Vec::new()
    };
    bad_cases.reverse(); // pop from the end in anchor order
    let dup_src = n / 2;
    let dup_emit = (n / 2 + (n / 10).max(1)).min(n.saturating_sub(1));
    let before_idx = n / 3;
    let malformed_idx = 2 * n / 3;
    let unknown_idx = n / 4;
    let mut dup_row: Vec<u8> = Vec::new();

    let mut shuffler = Shuffler {
        ring: VecDeque::with_capacity(Shuffler::WINDOW + 1),
        spare: Vec::new(),
        rows: 0,
    };
    let mut case_rows = 0;
    let mut next_id = 1usize;
    let mut evs: Vec<Ev> = Vec::with_capacity(32);
    let mut ts: Vec<u8> = Vec::with_capacity(40);
    let mut closed_ts: Vec<u8> = Vec::with_capacity(40);

    for (i, &(c, a)) in created.iter().enumerate() {
        while bad_cases.last().is_some_and(|b| b.0 <= c) {
            let (_, text) = bad_cases.pop().expect("non-empty");
            write_bad_case(cases_out, &mut row, next_id, &text)?;
            next_id += 1;
            case_rows += 1;
        }
        let id = next_id;
        next_id += 1;
        let acc = &accounts[a as usize];
        let region = acc.region;
        let tier = acc.tier_at(c);
        let draw = draw_case(&mut rng, acc, tier);
        let facts = CaseFacts {
            created: c,
            region,
            tier,
            priority: draw.priority,
        };
        case_events(&mut rng, &facts, &mut evs);
        evs.sort_by_key(|e| e.at);
        evs.retain(|e| e.at < year_end);
        let mut closed_at = None;
        for e in &evs {
            match e.kind {
                "closed" => closed_at = Some(e.at),
                "reopened" => closed_at = None,
                _ => {}
            }
        }

        closed_ts.clear();
        if let Some(t) = closed_at {
            push_ts(&mut closed_ts, region, t, draw.local);
        }
        case_row(&mut row, id, acc, &draw, c, &closed_ts);
        cases_out.write_all(&row)?;
        case_rows += 1;
        if bad && i == dup_src {
            dup_row.clone_from(&row);
        }
        if bad && i == dup_emit {
            cases_out.write_all(&dup_row)?;
            case_rows += 1;
        }

        // Event rows.
        for e in &evs {
            ts.clear();
            if e.kind == "closed" && Some(e.at) == closed_at {
                ts.extend_from_slice(&closed_ts);
            } else {
                push_ts(&mut ts, region, e.at, draw.local && !rng.chance(0.04));
            }
            let mut b = shuffler.buffer();
            event_row(&mut b, id, &ts, e.kind, e.value);
            shuffler.push(b, &mut rng, events_out)?;
        }
        if bad && i == before_idx {
            ts.clear();
            push_ts(&mut ts, region, c - 2 * HOUR_MS, draw.local);
            let mut b = shuffler.buffer();
            event_row(&mut b, id, &ts, "agent_response", "");
            shuffler.push(b, &mut rng, events_out)?;
        }
        if bad && i == malformed_idx {
            let mut b = shuffler.buffer();
            event_row(&mut b, id, b"yesterday", "customer_update", "");
            shuffler.push(b, &mut rng, events_out)?;
        }
        if bad && i == unknown_idx {
            ts.clear();
            push_ts(&mut ts, region, c + 5 * MIN_MS, false);
            let mut b = shuffler.buffer();
            event_row(&mut b, 0, &ts, "agent_response", "");
            shuffler.push(b, &mut rng, events_out)?;
        }
    }
    while let Some((_, text)) = bad_cases.pop() {
        write_bad_case(cases_out, &mut row, next_id, &text)?;
        next_id += 1;
        case_rows += 1;
    }
    if bad && n == 0 {
        let mut b = shuffler.buffer();
        let mut at = Vec::new();
        push_ts(&mut at, Region::Emea, year_start + 150 * DAY_MS, false);
        event_row(&mut b, 0, &at, "agent_response", "");
        shuffler.push(b, &mut rng, events_out)?;
    }
    shuffler.finish(events_out)?;

    Ok(GenerateSummary {
        accounts: account_rows,
        cases: case_rows,
        events: shuffler.rows,
    })
}

/// Writes a bad case row; `text` is everything after the account id, with
/// the account number appended after `#`.
fn write_bad_case(out: &mut dyn Write, row: &mut Vec<u8>, id: usize, text: &str) -> io::Result<()> {
    let (fields, account) = text.rsplit_once('#').expect("account marker");
    row.clear();
    push_case_id(row, id);
    row.push(b',');
    push_account_id(row, account.parse().expect("account number"));
    row.push(b',');
    row.extend_from_slice(fields.as_bytes());
    row.push(b'\n');
    out.write_all(row)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, BTreeSet};

    fn small(bad_rows: bool) -> GenerateOptions {
        GenerateOptions {
            cases: 4000,
            bad_rows,
            ..GenerateOptions::default()
        }
    }

    fn text(bytes: &[u8]) -> &str {
        std::str::from_utf8(bytes).expect("UTF-8")
    }

    fn rows(bytes: &[u8]) -> Vec<Vec<&str>> {
        text(bytes)
            .lines()
            .skip(1)
            .map(|l| l.split(',').collect())
            .collect()
    }

    fn num(s: &str) -> Option<i64> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        s.parse().ok()
    }

    fn days_in_month(y: i64, m: i64) -> i64 {
        days_from_civil(y + i64::from(m == 12), m % 12 + 1, 1) - days_from_civil(y, m, 1)
    }

    /// Strict RFC 3339 (`T`, required `Z` or ±hh:mm) to UTC ms.
    fn parse_ts(s: &str) -> Option<i64> {
        let b = s.as_bytes();
        if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' {
            return None;
        }
        if b[13] != b':' || b[16] != b':' {
            return None;
        }
        let (y, mo, d) = (num(&s[0..4])?, num(&s[5..7])?, num(&s[8..10])?);
        let (h, mi, se) = (num(&s[11..13])?, num(&s[14..16])?, num(&s[17..19])?);
        if !(1..=12).contains(&mo) || d < 1 || d > days_in_month(y, mo) {
            return None;
        }
        if h > 23 || mi > 59 || se > 59 {
            return None;
        }
        let mut rest = &s[19..];
        let mut ms = 0;
        if let Some(frac) = rest.strip_prefix('.') {
            let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 {
                return None;
            }
            let padded = format!("{:0<3}", &frac[..digits.min(3)]);
            ms = num(&padded)?;
            rest = &frac[digits..];
        }
        let offset = if rest == "Z" {
            0
        } else {
            let ob = rest.as_bytes();
            if ob.len() != 6 || (ob[0] != b'+' && ob[0] != b'-') || ob[3] != b':' {
                return None;
            }
            let (oh, om) = (num(&rest[1..3])?, num(&rest[4..6])?);
            if oh > 23 || om > 59 {
                return None;
            }
            let v = (oh * 60 + om) * MIN_MS;
            if ob[0] == b'-' {
                -v
            } else {
                v
            }
        };
        let local =
            days_from_civil(y, mo, d) * DAY_MS + h * HOUR_MS + mi * MIN_MS + se * SEC_MS + ms;
        Some(local - offset)
    }

    fn parse_date(s: &str) -> Option<i64> {
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let (y, m, d) = (num(&s[0..4])?, num(&s[5..7])?, num(&s[8..10])?);
        ((1..=12).contains(&m) && d >= 1 && d <= days_in_month(y, m))
            .then(|| days_from_civil(y, m, d))
    }

    fn region_named(name: &str) -> Option<Region> {
        Region::ALL.into_iter().find(|r| r.name() == name)
    }

    fn utc(y: i64, mo: i64, d: i64, h: i64, mi: i64, s: i64) -> i64 {
        days_from_civil(y, mo, d) * DAY_MS + h * HOUR_MS + mi * MIN_MS + s * SEC_MS
    }

    fn ts_string(region: Region, t: i64, local: bool) -> String {
        let mut b = Vec::new();
        push_ts(&mut b, region, t, local);
        String::from_utf8(b).unwrap()
    }

    #[test]
    fn same_seed_same_bytes_other_seed_other_bytes() {
        let a = generate_to_memory(&small(true));
        let b = generate_to_memory(&small(true));
        assert_eq!((&a.0, &a.1, &a.2, a.3), (&b.0, &b.1, &b.2, b.3));
        let c = generate_to_memory(&GenerateOptions {
            seed: 7,
            ..small(true)
        });
        assert_ne!(a.1, c.1);
        assert_ne!(a.2, c.2);
    }

    #[test]
    fn headers_are_canonical() {
        let (a, c, e, _) = generate_to_memory(&small(true));
        assert_eq!(text(&a).lines().next(), Some(ACCOUNTS_HEADER));
        assert_eq!(text(&c).lines().next(), Some(CASES_HEADER));
        assert_eq!(text(&e).lines().next(), Some(EVENTS_HEADER));
        assert_eq!(
            ACCOUNTS_HEADER,
            "account_id,tier,region,valid_from,valid_to"
        );
        assert_eq!(
            CASES_HEADER,
            "case_id,account_id,product,priority,created_at,closed_at,channel,language,contact_id"
        );
        assert_eq!(EVENTS_HEADER, "case_id,at,kind,value");
    }

    #[test]
    fn row_counts_match_summary() {
        for bad in [false, true] {
            let (a, c, e, s) = generate_to_memory(&small(bad));
            assert_eq!(text(&a).lines().count() - 1, s.accounts);
            assert_eq!(text(&c).lines().count() - 1, s.cases);
            assert_eq!(text(&e).lines().count() - 1, s.events);
            let extra = usize::from(bad);
            // 40 accounts + the upgrade's second row (+ Mars).
            assert_eq!(s.accounts, 41 + extra);
            assert_eq!(s.cases, 4000 + 5 * extra);
            assert!(rows(&a).iter().all(|r| r.len() == 5));
            assert!(rows(&c).iter().all(|r| r.len() == 9));
            assert!(rows(&e).iter().all(|r| r.len() == 4));
        }
    }

    #[test]
    fn generate_writes_the_memory_bytes() {
        let opts = GenerateOptions {
            cases: 300,
            ..GenerateOptions::default()
        };
        let dir = std::env::temp_dir().join(format!("slt-generate-test-{}", std::process::id()));
        let summary = generate(&opts, &dir).unwrap();
        let (a, c, e, s) = generate_to_memory(&opts);
        assert_eq!(summary, s);
        assert_eq!(fs::read(dir.join("accounts.csv")).unwrap(), a);
        assert_eq!(fs::read(dir.join("cases.csv")).unwrap(), c);
        assert_eq!(fs::read(dir.join("events.csv")).unwrap(), e);
        fs::remove_dir_all(&dir).unwrap();
    }

    /// Every timestamp field that fails strict parsing, as (table, text).
    fn unparsable(a: &[u8], c: &[u8], e: &[u8]) -> Vec<(&'static str, String)> {
        let mut bad = Vec::new();
        for r in rows(a) {
            for v in [r[3], r[4]] {
                if !(v.is_empty() && std::ptr::eq(v, r[4]))
                    && parse_ts(v).is_none()
                    && parse_date(v).is_none()
                {
                    bad.push(("accounts", v.to_string()));
                }
            }
        }
        for r in rows(c) {
            if parse_ts(r[4]).is_none() {
                bad.push(("cases", r[4].to_string()));
            }
            if !r[5].is_empty() && parse_ts(r[5]).is_none() {
                bad.push(("cases", r[5].to_string()));
            }
        }
        for r in rows(e) {
            if parse_ts(r[1]).is_none() {
                bad.push(("events", r[1].to_string()));
            }
        }
        bad
    }

    #[test]
    fn every_timestamp_parses_except_the_deliberate_ones() {
        let (a, c, e, _) = generate_to_memory(&small(false));
        assert!(unparsable(&a, &c, &e).is_empty());
        let (a, c, e, _) = generate_to_memory(&small(true));
        let bad = unparsable(&a, &c, &e);
        assert_eq!(
            bad,
            vec![
                ("cases", "2026-02-30T10:00:00Z".to_string()),
                ("cases", "2026-05-04T10:00:00".to_string()),
                ("events", "yesterday".to_string()),
            ]
        );
        // Every case and event timestamp has an explicit offset or Z.
        for r in rows(&c) {
            assert!(r[4] == "2026-05-04T10:00:00" || r[4].ends_with('Z') || r[4].len() >= 25);
        }
    }

    #[test]
    fn zone_offsets_follow_the_dst_rules() {
        let la = Region::Americas;
        assert_eq!(la.offset_secs(utc(2026, 3, 8, 9, 59, 59)), -8 * 3600);
        assert_eq!(la.offset_secs(utc(2026, 3, 8, 10, 0, 0)), -7 * 3600);
        assert_eq!(la.offset_secs(utc(2026, 11, 1, 8, 59, 59)), -7 * 3600);
        assert_eq!(la.offset_secs(utc(2026, 11, 1, 9, 0, 0)), -8 * 3600);
        assert_eq!(
            ts_string(la, utc(2026, 3, 8, 9, 59, 59), true),
            "2026-03-08T01:59:59-08:00"
        );
        assert_eq!(
            ts_string(la, utc(2026, 3, 8, 10, 0, 0), true),
            "2026-03-08T03:00:00-07:00"
        );
        let london = Region::Emea;
        assert_eq!(london.offset_secs(utc(2026, 3, 29, 0, 59, 59)), 0);
        assert_eq!(london.offset_secs(utc(2026, 3, 29, 1, 0, 0)), 3600);
        assert_eq!(london.offset_secs(utc(2026, 10, 25, 0, 59, 59)), 3600);
        assert_eq!(london.offset_secs(utc(2026, 10, 25, 1, 0, 0)), 0);
        assert_eq!(
            ts_string(london, utc(2026, 1, 5, 9, 0, 0), true),
            "2026-01-05T09:00:00+00:00"
        );
        let sydney = Region::Apac;
        assert_eq!(sydney.offset_secs(utc(2026, 4, 4, 15, 59, 59)), 11 * 3600);
        assert_eq!(sydney.offset_secs(utc(2026, 4, 4, 16, 0, 0)), 10 * 3600);
        assert_eq!(sydney.offset_secs(utc(2026, 10, 3, 15, 59, 59)), 10 * 3600);
        assert_eq!(sydney.offset_secs(utc(2026, 10, 3, 16, 0, 0)), 11 * 3600);
        assert_eq!(
            ts_string(sydney, utc(2026, 4, 9, 0, 0, 0), true),
            "2026-04-09T10:00:00+10:00"
        );
        assert_eq!(
            Region::Japan.offset_secs(utc(2026, 7, 1, 0, 0, 0)),
            9 * 3600
        );
        assert_eq!(
            ts_string(Region::Japan, utc(2026, 10, 15, 0, 20, 0) + 250, true),
            "2026-10-15T09:20:00.250+09:00"
        );
        assert_eq!(
            ts_string(Region::Japan, utc(2026, 3, 2, 10, 15, 30) + 250, false),
            "2026-03-02T10:15:30.250Z"
        );
    }

    /// The generator's own DST tables (written from the rules, so that it
    /// needs no time-zone library) against the tz database chrono-tz ships,
    /// an independent source: every week from 2008 (when the last of the
    /// three regions' current rules took effect) to 2037 (chrono-tz lists
    /// transitions up to then; see docs/rules.md), and both sides of every
    /// transition.
    #[test]
    fn transition_table_agrees_with_the_tz_database() {
        use chrono::{Offset, TimeZone};
        let zones = [
            (Region::Americas, "America/Los_Angeles"),
            (Region::Emea, "Europe/London"),
            (Region::Apac, "Australia/Sydney"),
            (Region::Japan, "Asia/Tokyo"),
        ];
        for (region, name) in zones {
            let tz: chrono_tz::Tz = name.parse().unwrap();
            let tzdb = |t: i64| {
                let dt = chrono::DateTime::from_timestamp_millis(t)
                    .unwrap()
                    .naive_utc();
                i64::from(tz.offset_from_utc_datetime(&dt).fix().local_minus_utc())
            };
            let mut t = utc(2008, 1, 1, 0, 0, 0);
            let end = utc(2038, 1, 1, 0, 0, 0);
            while t < end {
                assert_eq!(region.offset_secs(t), tzdb(t), "{name} at {t} ms");
                t += 7 * DAY_MS + 3 * HOUR_MS + 17 * MIN_MS;
            }
            if region == Region::Japan {
                continue;
            }
            for &edge in transitions(region)
                .instants
                .iter()
                .filter(|&&e| (utc(2008, 1, 1, 0, 0, 0)..end).contains(&e))
            {
                assert_eq!(region.offset_secs(edge), tzdb(edge), "{name} at {edge}");
                assert_eq!(
                    region.offset_secs(edge - 1),
                    tzdb(edge - 1),
                    "{name} before {edge}"
                );
            }
        }
    }

    #[test]
    fn local_times_in_gaps_and_overlaps() {
        let la = Region::Americas;
        // 02:30 on 2026-03-08 does not exist: moved to 03:30 PDT.
        let gap = la.local_to_utc(utc(2026, 3, 8, 2, 30, 0));
        assert_eq!(gap, utc(2026, 3, 8, 10, 30, 0));
        // 01:30 on 2026-11-01 happens twice: the earlier (PDT) instant.
        assert_eq!(
            la.local_to_utc(utc(2026, 11, 1, 1, 30, 0)),
            utc(2026, 11, 1, 8, 30, 0)
        );
        assert_eq!(
            Region::Emea.local_to_utc(utc(2026, 7, 1, 0, 0, 0)),
            utc(2026, 6, 30, 23, 0, 0)
        );
        assert_eq!(
            Region::Apac.local_to_utc(utc(2026, 4, 5, 2, 30, 0)),
            utc(2026, 4, 4, 15, 30, 0)
        );
    }

    #[test]
    fn civil_round_trip_and_weekdays() {
        for days in -800_000..800_000 {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(weekday(days_from_civil(2026, 3, 8)), 6);
        assert_eq!(weekday(days_from_civil(1970, 1, 1)), 3);
        assert_eq!(nth_sunday(2026, 3, 2), days_from_civil(2026, 3, 8));
        assert_eq!(last_sunday(2026, 10), days_from_civil(2026, 10, 25));
        assert_eq!(nth_sunday(2026, 4, 1), days_from_civil(2026, 4, 5));
    }

    #[test]
    fn covered_time_matches_the_spec_examples() {
        // Example 1: Online P2 EMEA, Fri 2026-03-27 15:00 UTC + 240 min.
        let t = add_covered(
            Coverage::Business,
            Region::Emea,
            utc(2026, 3, 27, 15, 0, 0),
            240 * MIN_MS,
        );
        assert_eq!(t, utc(2026, 3, 30, 10, 0, 0));
        // Example 3: Elite P2 Americas, Sat 06:50 UTC + 30 min on 24x5.
        let t = add_covered(
            Coverage::H24x5,
            Region::Americas,
            utc(2026, 5, 16, 6, 50, 0),
            30 * MIN_MS,
        );
        assert_eq!(t, utc(2026, 5, 18, 7, 20, 0));
        // Example 4: Japan business hours, Wed 17:20 JST + 30 min.
        let t = add_covered(
            Coverage::Business,
            Region::Japan,
            utc(2026, 10, 14, 8, 20, 0),
            30 * MIN_MS,
        );
        assert_eq!(t, utc(2026, 10, 15, 0, 20, 0));
    }

    #[test]
    fn det_ln_is_accurate() {
        for &x in &[
            1e-300f64, 1e-10, 0.001, 0.3, 0.5, 0.999, 1.0, 1.5, 2.0, 10.0, 1e10,
        ] {
            let expected: f64 = x.ln();
            assert!(
                (det_ln(x) - expected).abs() < 1e-12 * expected.abs().max(1.0),
                "{x}"
            );
        }
    }

    fn duplicate_lines(bytes: &[u8]) -> usize {
        let mut seen = BTreeSet::new();
        text(bytes).lines().filter(|l| !seen.insert(*l)).count()
    }

    #[test]
    fn bad_rows_present_exactly_once_each() {
        let (a, c, e, _) = generate_to_memory(&small(true));
        let (accounts, cases, events) = (rows(&a), rows(&c), rows(&e));
        let count =
            |rs: &[Vec<&str>], f: &dyn Fn(&Vec<&str>) -> bool| rs.iter().filter(|r| f(r)).count();
        assert_eq!(count(&accounts, &|r| r[2] == "Mars"), 1);
        assert_eq!(count(&accounts, &|r| region_named(r[2]).is_none()), 1);
        assert_eq!(count(&cases, &|r| r[4] == "2026-05-04T10:00:00"), 1);
        assert_eq!(count(&cases, &|r| r[4] == "2026-02-30T10:00:00Z"), 1);
        assert_eq!(count(&cases, &|r| r[3] == "P5"), 1);
        assert_eq!(
            count(&cases, &|r| !["P1", "P2", "P3", "P4"].contains(&r[3])),
            1
        );
        assert_eq!(count(&cases, &|r| r[1] == "ACC-9999"), 1);
        let known: BTreeSet<&str> = accounts.iter().map(|r| r[0]).collect();
        assert_eq!(count(&cases, &|r| !known.contains(r[1])), 1);
        assert_eq!(duplicate_lines(&c), 1);
        let ids: BTreeSet<&str> = cases.iter().map(|r| r[0]).collect();
        assert_eq!(ids.len(), cases.len() - 1);
        assert_eq!(count(&events, &|r| r[0] == "C-0000000"), 1);
        assert_eq!(count(&events, &|r| !ids.contains(r[0])), 1);
        assert_eq!(count(&events, &|r| r[1] == "yesterday"), 1);
        let created: BTreeMap<&str, i64> = cases
            .iter()
            .filter_map(|r| Some((r[0], parse_ts(r[4])?)))
            .collect();
        let early = count(
            &events,
            &|r| matches!((created.get(r[0]), parse_ts(r[1])), (Some(&c), Some(t)) if t < c),
        );
        assert_eq!(early, 1);
        // Bad cases have no events.
        for r in &cases {
            if parse_ts(r[4]).is_none() || r[3] == "P5" || r[1] == "ACC-9999" {
                assert_eq!(count(&events, &|e| e[0] == r[0]), 0);
            }
        }
        assert_eq!(BAD_ROWS.len(), 9);
    }

    #[test]
    fn no_bad_rows_when_disabled() {
        let (a, c, e, _) = generate_to_memory(&small(false));
        let (accounts, cases, events) = (rows(&a), rows(&c), rows(&e));
        assert!(accounts.iter().all(|r| region_named(r[2]).is_some()));
        assert!(accounts.iter().all(|r| r[1] == "Online" || r[1] == "Elite"));
        let known: BTreeSet<&str> = accounts.iter().map(|r| r[0]).collect();
        assert!(cases.iter().all(|r| known.contains(r[1])));
        assert!(cases
            .iter()
            .all(|r| ["P1", "P2", "P3", "P4"].contains(&r[3])));
        assert_eq!(duplicate_lines(&c), 0);
        let created: BTreeMap<&str, i64> = cases
            .iter()
            .map(|r| (r[0], parse_ts(r[4]).unwrap()))
            .collect();
        assert_eq!(created.len(), cases.len());
        let year_end = utc(2027, 1, 1, 0, 0, 0);
        for r in &events {
            let t = parse_ts(r[1]).unwrap();
            assert!(t >= created[r[0]] && t < year_end, "{r:?}");
        }
        for r in &cases {
            let t = parse_ts(r[4]).unwrap();
            assert!((utc(2026, 1, 1, 0, 0, 0)..year_end).contains(&t));
        }
    }

    /// Tier and region of each account's contracts: (from, to, tier, region).
    type Contracts<'a> = BTreeMap<&'a str, Vec<(i64, i64, &'a str, Region)>>;

    fn contracts<'a>(accounts: &[Vec<&'a str>]) -> Contracts<'a> {
        let mut map: Contracts = BTreeMap::new();
        for r in accounts {
            let region = region_named(r[2]).unwrap();
            let bound = |s: &str| {
                parse_ts(s).unwrap_or_else(|| region.local_to_utc(parse_date(s).unwrap() * DAY_MS))
            };
            let to = if r[4].is_empty() {
                i64::MAX
            } else {
                bound(r[4])
            };
            map.entry(r[0])
                .or_default()
                .push((bound(r[3]), to, r[1], region));
        }
        map
    }

    #[test]
    fn demo_export_is_realistic() {
        let (a, c, e, s) = generate_to_memory(&GenerateOptions {
            bad_rows: false,
            ..GenerateOptions::default()
        });
        let (accounts, cases, events) = (rows(&a), rows(&c), rows(&e));
        let contracts = contracts(&accounts);

        // Tiers × regions, ~40% Elite, one upgrade with matching bounds.
        let combos: BTreeSet<(&str, &str)> = accounts.iter().map(|r| (r[1], r[2])).collect();
        assert_eq!(combos.len(), 8);
        let elite = accounts.iter().filter(|r| r[1] == "Elite").count() as f64;
        assert!((0.3..0.55).contains(&(elite / accounts.len() as f64)));
        let upgraded: Vec<_> = contracts.iter().filter(|(_, v)| v.len() == 2).collect();
        assert_eq!(upgraded.len(), 1);
        let (id, rows2) = upgraded[0];
        assert_eq!((rows2[0].2, rows2[1].2), ("Online", "Elite"));
        assert_eq!(rows2[0].1, rows2[1].0);
        let up_rows: Vec<_> = accounts.iter().filter(|r| r[0] == *id).collect();
        assert_eq!(up_rows[0][4], up_rows[1][3]);
        assert!(accounts.iter().any(|r| parse_date(r[3]).is_some()));
        assert!(accounts.iter().any(|r| parse_ts(r[3]).is_some()));
        assert!(accounts.iter().filter(|r| r[4].is_empty()).count() > accounts.len() / 2);

        // Every case falls inside a contract of its account; both sides of
        // the upgrade have cases.
        let mut upgrade_sides = BTreeSet::new();
        let mut tier_of = BTreeMap::new();
        for r in &cases {
            let t = parse_ts(r[4]).unwrap();
            let k = contracts[r[1]]
                .iter()
                .find(|k| k.0 <= t && t < k.1)
                .unwrap_or_else(|| panic!("no contract for {r:?}"));
            if r[1] == *id {
                upgrade_sides.insert(k.2);
            }
            tier_of.insert(r[0], (k.2, k.3, t, r[3]));
        }
        assert_eq!(upgrade_sides.len(), 2);

        // Priority mix, offsets, fractional seconds, languages.
        let share =
            |p: &str| cases.iter().filter(|r| r[3] == p).count() as f64 / cases.len() as f64;
        assert!((0.03..0.08).contains(&share("P1")));
        assert!((0.40..0.50).contains(&share("P3")));
        let all_ts: Vec<&str> = cases
            .iter()
            .flat_map(|r| [r[4], r[5]])
            .chain(events.iter().map(|r| r[1]))
            .filter(|s| !s.is_empty())
            .collect();
        for form in [
            "Z", "+09:00", "-07:00", "-08:00", "+00:00", "+01:00", "+10:00", "+11:00",
        ] {
            assert!(all_ts.iter().any(|t| t.ends_with(form)), "{form}");
        }
        let fractional = all_ts.iter().filter(|t| t.contains('.')).count();
        assert!(fractional > 0 && fractional * 100 < all_ts.len());
        for lang in ["en", "ja", "fr", "de"] {
            assert!(cases.iter().any(|r| r[7] == lang), "{lang}");
        }

        // About 4 events per case, some order perturbation.
        let per_case = s.events as f64 / s.cases as f64;
        assert!((3.5..4.6).contains(&per_case), "{per_case}");
        let out_of_order = events
            .windows(2)
            .filter(|w| (w[0][0], parse_ts(w[0][1])) > (w[1][0], parse_ts(w[1][1])))
            .count();
        assert!(out_of_order > 0 && out_of_order * 50 < events.len());

        // Per case: first agent response, closures, priority changes.
        let mut first_response: BTreeMap<&str, i64> = BTreeMap::new();
        let mut changed = BTreeSet::new();
        let mut same_priority_change = false;
        for r in &events {
            let t = parse_ts(r[1]).unwrap();
            match r[2] {
                "agent_response" => {
                    let f = first_response.entry(r[0]).or_insert(t);
                    *f = (*f).min(t);
                }
                "priority_change" => {
                    assert!(["P1", "P2", "P3", "P4"].contains(&r[3]));
                    changed.insert(r[0]);
                    same_priority_change |= tier_of[r[0]].3 == r[3];
                }
                "status_change" => assert!(!r[3].is_empty()),
                _ => assert!(r[3].is_empty(), "{r:?}"),
            }
        }
        assert!(same_priority_change);
        let changed_share = changed.len() as f64 / cases.len() as f64;
        assert!((0.02..0.08).contains(&changed_share), "{changed_share}");
        for r in &cases {
            if !r[5].is_empty() {
                let closed = parse_ts(r[5]).unwrap();
                assert!(events
                    .iter()
                    .any(|e| e[0] == r[0] && e[2] == "closed" && parse_ts(e[1]) == Some(closed)));
            }
        }
        let open: Vec<_> = cases.iter().filter(|r| r[5].is_empty()).collect();
        assert!(!open.is_empty() && open.len() * 10 < cases.len());
        assert!(open.iter().any(|r| !first_response.contains_key(r[0])));
        let december = open.iter().filter(|r| r[4].starts_with("2026-12")).count();
        assert!(december * 10 > open.len() * 7);
        let withdrawn = cases
            .iter()
            .filter(|r| !r[5].is_empty() && !first_response.contains_key(r[0]))
            .count();
        assert!((0.01..0.06).contains(&(withdrawn as f64 / cases.len() as f64)));

        // Breach rate on cases without priority changes.
        let (mut met, mut breached) = (0, 0);
        for (case, &(tier, region, created, prio)) in &tier_of {
            let Some(&resp) = first_response.get(case) else {
                continue;
            };
            if changed.contains(case) {
                continue;
            }
            let tier = if tier == "Elite" {
                Tier::Elite
            } else {
                Tier::Online
            };
            let p = prio.as_bytes()[1] - b'0';
            let (coverage, minutes) = policy(tier, p, region);
            if resp <= add_covered(coverage, region, created, minutes * MIN_MS) {
                met += 1;
            } else {
                breached += 1;
            }
        }
        let rate = f64::from(breached) / f64::from(met + breached);
        assert!((0.05..0.15).contains(&rate), "breach rate {rate}");
    }

    #[test]
    fn tiny_and_empty_exports_work() {
        for (accounts, cases) in [(0, 10), (1, 0), (1, 1), (3, 20)] {
            for bad in [false, true] {
                let opts = GenerateOptions {
                    accounts,
                    cases,
                    bad_rows: bad,
                    ..GenerateOptions::default()
                };
                let (a, c, e, s) = generate_to_memory(&opts);
                assert_eq!(text(&a).lines().count() - 1, s.accounts);
                assert_eq!(text(&c).lines().count() - 1, s.cases);
                assert_eq!(text(&e).lines().count() - 1, s.events);
            }
        }
    }
}
