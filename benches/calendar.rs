//! Calendar kernel throughput: `elapsed` and `deadline` over random
//! intervals of up to 30 days, on one core, in every region's business-hours
//! calendar, in the same regions with a split-shift week (a lunch break
//! every weekday and Saturday mornings: twice the intervals); and, as the
//! baseline a naive implementation would give, the same `elapsed`
//! questions answered by walking the days.
//!
//! `cargo bench --bench calendar` prints queries per second (criterion's
//! "thrpt", in elements/s); issue 15 asks for ≥ 20 M elapsed/s and ≥ 18 M
//! deadline/s on business hours.

use std::hint::black_box;

use chrono::{Datelike, Duration};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use slt::calendar::holidays::Holidays;
use slt::calendar::zone::resolve_local;
use slt::calendar::{Closure, Coverage};
use slt::policy::{Policy, BUNDLED_TOML};
use slt::timestamp::{to_datetime, Instant};

const N: usize = 100_000;
const FROM: i64 = 1_767_225_600; // 2026-01-01T00:00:00Z
const YEAR: i64 = 365 * 86_400;
const MAX_SPAN: i64 = 30 * 86_400;

fn queries() -> Vec<(usize, Instant, i64)> {
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    (0..N)
        .map(|_| {
            let region = (next() % 4) as usize;
            let start = FROM + (next() % YEAR as u64) as i64;
            let span = (next() % MAX_SPAN as u64) as i64;
            (region, start * 1_000_000, span * 1_000_000)
        })
        .collect()
}

/// The bundled policy with every region on a split-shift week: the
/// morning to 12:00, the afternoon from 13:00, and Saturday 09:00–12:00.
fn split_shift_policy() -> Policy {
    let mut text = BUNDLED_TOML.to_string();
    for (open, close) in [("06:00", "17:30"), ("09:00", "17:00"), ("09:00", "17:30")] {
        let day = format!("[\"{open}-12:00\", \"13:00-{close}\"]");
        text = text.replace(
            &format!("open = \"{open}\"\nclose = \"{close}\"\n"),
            &format!(
                "business_day_minutes = 480\nweek = {{ Mon = {day}, Tue = {day}, Wed = {day}, Thu = {day}, Fri = {day}, Sat = [\"09:00-12:00\"] }}\n"
            ),
        );
    }
    let policy = Policy::parse(&text, "split-shift").expect("valid split-shift policy");
    assert!(policy.regions.iter().all(|r| r.week[0].len() == 2));
    policy
}

fn bench(c: &mut Criterion) {
    let policy = Policy::bundled();
    let holidays = Holidays::bundled();
    let calendars = policy.calendars(&holidays, 2025..=2028);
    let split = split_shift_policy().calendars(&holidays, 2025..=2028);
    let qs = queries();
    let mut group = c.benchmark_group("calendar");
    group.throughput(Throughput::Elements(N as u64));
    group.bench_function("elapsed business_hours", |b| {
        b.iter(|| {
            let mut total = 0i64;
            for &(r, start, span) in &qs {
                total += calendars
                    .get(r, Coverage::BusinessHours)
                    .elapsed(start, start + span)
                    .unwrap();
            }
            black_box(total)
        })
    });
    group.bench_function("deadline business_hours", |b| {
        b.iter(|| {
            let mut total = 0i64;
            for &(r, start, span) in &qs {
                // Targets up to ~5 business days of the 30-day span.
                total += calendars
                    .get(r, Coverage::BusinessHours)
                    .deadline(start, span / 6)
                    .unwrap();
            }
            black_box(total)
        })
    });
    group.bench_function("elapsed 24x5", |b| {
        b.iter(|| {
            let mut total = 0i64;
            for &(r, start, span) in &qs {
                total += calendars
                    .get(r, Coverage::Weekdays)
                    .elapsed(start, start + span)
                    .unwrap();
            }
            black_box(total)
        })
    });
    group.bench_function("elapsed split-shift week", |b| {
        b.iter(|| {
            let mut total = 0i64;
            for &(r, start, span) in &qs {
                total += split
                    .get(r, Coverage::BusinessHours)
                    .elapsed(start, start + span)
                    .unwrap();
            }
            black_box(total)
        })
    });
    group.bench_function("deadline split-shift week", |b| {
        b.iter(|| {
            let mut total = 0i64;
            for &(r, start, span) in &qs {
                total += split
                    .get(r, Coverage::BusinessHours)
                    .deadline(start, span / 6)
                    .unwrap();
            }
            black_box(total)
        })
    });
    group.finish();

    // Baseline: walk the local days, as a naive implementation would.
    let naive_qs = &qs[..N / 100];
    let mut group = c.benchmark_group("baseline");
    group.throughput(Throughput::Elements(naive_qs.len() as u64));
    group.bench_function("elapsed business_hours, day by day", |b| {
        b.iter(|| {
            let mut total = 0i64;
            for &(r, start, span) in naive_qs {
                let window = policy
                    .window(r, Coverage::BusinessHours, &holidays)
                    .unwrap();
                let (a, z) = (start, start + span);
                let mut day = to_datetime(a).date_naive() - Duration::days(1);
                let last = to_datetime(z).date_naive() + Duration::days(1);
                while day <= last {
                    let wd = day.weekday().num_days_from_monday() as usize;
                    if window
                        .closures
                        .binary_search(&Closure::whole_day(day))
                        .is_err()
                    {
                        for &(open, close) in &window.week[wd] {
                            let at = |s: u32| {
                                resolve_local(
                                    window.zone,
                                    day.and_hms_opt(s / 3600, (s / 60) % 60, 0).unwrap(),
                                )
                            };
                            let (lo, hi) = (at(open).max(a), at(close).min(z));
                            total += (hi - lo).max(0);
                        }
                    }
                    day += Duration::days(1);
                }
            }
            black_box(total)
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
