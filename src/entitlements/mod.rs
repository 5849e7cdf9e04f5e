//! Entitlements: what a tier's contract promises besides response targets
//! (`docs/rules.md`, "Entitlements"), and whether it was kept. Pure rules on
//! judged rows: no polars, no I/O.
//!
//! - **Contract years.** An account's contract rows are merged into *spans*:
//!   consecutive rows (one's `valid_to` equal to the next one's
//!   `valid_from`) of the same tier are one span, whatever their regions; a
//!   tier change (an upgrade) or a gap starts a new span. Contract year `n`
//!   of a span starts on the `n − 1`-th anniversary of the span's first
//!   `valid_from`, taken on the wall clock of that row's region (29 February
//!   → 28 February), and ends at the next anniversary or at the span's end,
//!   whichever comes first. A year cut short by the span's end is entitled
//!   pro rata (rounded half up): 4 a year over half a year is 2.
//! - **Yearly services** ([`Service::ServiceReview`], [`Service::ExpertSession`],
//!   [`Service::FieldActivity`]) are counted per contract year; their
//!   [`Status`] compares what was delivered by the as-of instant with the
//!   pro-rata share of the year elapsed ([`status`]).
//! - **Launch Advisory**: in year 1 of a span, a Launch Advisory delivered
//!   by the as-of instant sets the field activities of that year to the
//!   policy's `launch_advisory_first_year_field_activities` (0 by default).
//! - **Findings**: more named contacts on a product than the tier allows at
//!   some moment ([`contact_breaches`]); a phone case whose initial priority
//!   the tier has no phone support for; a case in a language its product
//!   is not supported in; a service delivered to a tier that does not
//!   include it (see [`crate::policy::entitlements`]).
//!
//! The numbers (4 reviews, 15 contacts, …) live in the policy file's
//! `[entitlements]` section ([`crate::policy::entitlements`]); the
//! `engagements` and `contacts` tables are judged by [`crate::ingest`];
//! [`check`] runs the rules over them.

pub mod check;

use chrono::{Months, Timelike};
use chrono_tz::Tz;
use std::sync::Arc;

use crate::calendar::zone::resolve_local;
use crate::model::Contract;
#[cfg(doc)]
use crate::model::Service;
use crate::timestamp::{to_datetime, Instant};

/// Where a yearly entitlement stands at the as-of instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    /// Everything entitled was delivered, and no more.
    Delivered,
    /// Not all delivered yet, but at least the whole services due by now.
    OnTrack,
    /// Fewer delivered than the whole services due by now.
    Behind,
    /// More delivered than entitled.
    Over,
    /// Nothing entitled, nothing delivered.
    NotEntitled,
}

impl Status {
    /// Every status, in order.
    pub const ALL: [Status; 5] = [
        Status::Delivered,
        Status::OnTrack,
        Status::Behind,
        Status::Over,
        Status::NotEntitled,
    ];

    /// Name in outputs.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Delivered => "delivered",
            Status::OnTrack => "on_track",
            Status::Behind => "behind",
            Status::Over => "over",
            Status::NotEntitled => "not_entitled",
        }
    }
}

// ---- contract years ----

/// Contiguous contract rows of one tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// Tier index.
    pub tier: usize,
    /// Zone of the first row's region.
    pub zone: Tz,
    /// First instant in force.
    pub from: Instant,
    /// First instant no longer in force (`None`: open-ended).
    pub to: Option<Instant>,
}

impl Span {
    /// Whether the span is in force at `t`.
    pub fn in_force(&self, t: Instant) -> bool {
        self.from <= t && self.to.is_none_or(|to| t < to)
    }
}

/// Merges an account's contract rows (non-overlapping) into spans: rows that
/// follow each other without a gap and have the same tier are one span.
pub fn spans(rows: &[Contract]) -> Vec<Span> {
    let mut sorted = rows.to_vec();
    sorted.sort_by_key(|r| r.from);
    let mut out: Vec<Span> = Vec::new();
    for r in sorted {
        match out.last_mut() {
            Some(last) if last.tier == r.tier && last.to == Some(r.from) => last.to = r.to,
            _ => out.push(Span {
                tier: r.tier,
                zone: r.zone,
                from: r.from,
                to: r.to,
            }),
        }
    }
    out
}

/// One contract year of a span.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContractYear {
    /// 1 for the span's first year.
    pub number: u32,
    /// Tier of the span.
    pub tier: usize,
    /// The anniversary that starts it.
    pub start: Instant,
    /// The next anniversary, or the span's end if that comes first.
    pub end: Instant,
    /// The next anniversary (equal to `end` for a whole year).
    pub anniversary: Instant,
}

/// `from` plus `years` years on the wall clock of `zone`.
fn anniversary(zone: Tz, from: Instant, years: u32) -> Option<Instant> {
    let local = to_datetime(from).with_timezone(&zone).naive_local();
    let shifted = local.checked_add_months(Months::new(years.checked_mul(12)?))?;
    let sub_second = i64::from(local.nanosecond() % 1_000_000_000) / 1000;
    Some(resolve_local(zone, shifted.with_nanosecond(0)?) + sub_second)
}

/// The contract years of `span` that have begun by `as_of`, in order.
pub fn contract_years(span: &Span, as_of: Instant) -> Vec<ContractYear> {
    let mut years = Vec::new();
    let mut start = span.from;
    let mut number = 1;
    while start <= as_of && span.to.is_none_or(|to| start < to) {
        let Some(next) = anniversary(span.zone, span.from, number) else {
            break;
        };
        let end = span.to.map_or(next, |to| to.min(next));
        years.push(ContractYear {
            number,
            tier: span.tier,
            start,
            end,
            anniversary: next,
        });
        start = end;
        number += 1;
    }
    years
}

/// Services entitled in `year` for a tier counting `per_year` of them: the
/// whole count for a whole year, pro rata (rounded half up) for a year cut
/// short by the span's end.
pub fn entitled(per_year: u32, year: &ContractYear) -> u32 {
    let (part, whole) = (
        (year.end - year.start) as i128,
        (year.anniversary - year.start) as i128,
    );
    if part >= whole || whole <= 0 {
        return per_year;
    }
    ((i128::from(per_year) * part * 2 + whole) / (2 * whole)) as u32
}

/// Share of `year` elapsed at `as_of`, in `[0, 1]`, as `(elapsed, length)`.
fn elapsed(year: &ContractYear, as_of: Instant) -> (i128, i128) {
    let length = (year.end - year.start).max(1) as i128;
    (((as_of - year.start) as i128).clamp(0, length), length)
}

/// The pro-rata share of `entitled` due by `as_of`: `entitled × elapsed /
/// length of the year`.
pub fn expected_by_now(entitled: u32, year: &ContractYear, as_of: Instant) -> f64 {
    let (e, l) = elapsed(year, as_of);
    f64::from(entitled) * (e as f64 / l as f64)
}

/// Whole services due by `as_of`: the integer part of [`expected_by_now`],
/// computed exactly.
pub fn due_by_now(entitled: u32, year: &ContractYear, as_of: Instant) -> u32 {
    let (e, l) = elapsed(year, as_of);
    (i128::from(entitled) * e / l) as u32
}

/// The status of a yearly entitlement: `not_entitled` when nothing is
/// entitled and nothing was delivered; `over` when more was delivered than
/// entitled; `delivered` when exactly the entitlement was; `on_track` while
/// at least every whole service due by now was delivered; else `behind`.
pub fn status(entitled: u32, delivered: u32, due: u32) -> Status {
    if delivered > entitled {
        Status::Over
    } else if entitled == 0 {
        Status::NotEntitled
    } else if delivered == entitled {
        Status::Delivered
    } else if delivered >= due {
        Status::OnTrack
    } else {
        Status::Behind
    }
}

// ---- named contacts ----

/// One contact named on a product over `[from, to)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Named {
    /// Contact id.
    pub contact_id: Arc<str>,
    /// When the contact was named.
    pub from: Instant,
    /// When the contact was removed (`None`: still named).
    pub to: Option<Instant>,
}

/// A stretch of time during which a product had more named contacts than
/// the tier in force allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactBreach {
    /// Tier in force (a tier change ends one breach and may start another).
    pub tier: usize,
    /// First instant over the limit.
    pub from: Instant,
    /// First instant back within it (`None`: still over at the as-of instant).
    pub until: Option<Instant>,
    /// The limit of the tier.
    pub allowed: u32,
    /// The most contacts named at once during the breach.
    pub peak: u32,
    /// The contacts named at the first moment of the peak, sorted.
    pub named_at_peak: Vec<String>,
}

/// Every breach of the named-contact limit of one account on one product,
/// up to `as_of`. `limit(tier)` is the tier's limit; outside every span no
/// limit applies. Changes at one instant apply together (intervals are
/// half-open, so a contact replaced at the same instant is no breach).
pub fn contact_breaches(
    named: &[Named],
    spans: &[Span],
    limit: impl Fn(usize) -> u32,
    as_of: Instant,
) -> Vec<ContactBreach> {
    let mut instants: Vec<Instant> = named
        .iter()
        .flat_map(|n| [Some(n.from), n.to])
        .chain(spans.iter().flat_map(|s| [Some(s.from), s.to]))
        .flatten()
        .filter(|&t| t <= as_of)
        .collect();
    instants.sort_unstable();
    instants.dedup();
    let mut out: Vec<ContactBreach> = Vec::new();
    let mut open: Option<ContactBreach> = None;
    for t in instants {
        // Counted without a list: the names are only wanted at a new peak.
        let active = || {
            named
                .iter()
                .filter(move |n| n.from <= t && n.to.is_none_or(|to| t < to))
        };
        let count = active().count() as u32;
        let tier = spans.iter().find(|s| s.in_force(t)).map(|s| s.tier);
        let over = tier
            .map(|tier| (tier, limit(tier)))
            .filter(|&(_, allowed)| count > allowed);
        match (over, open.as_mut()) {
            (Some((tier, _)), Some(b)) if b.tier == tier => {
                if count > b.peak {
                    b.peak = count;
                    b.named_at_peak = ids(active());
                }
            }
            (Some((tier, allowed)), _) => {
                if let Some(mut b) = open.take() {
                    b.until = Some(t);
                    out.push(b);
                }
                open = Some(ContactBreach {
                    tier,
                    from: t,
                    until: None,
                    allowed,
                    peak: count,
                    named_at_peak: ids(active()),
                });
            }
            (None, Some(_)) => {
                let mut b = open.take().expect("open");
                b.until = Some(t);
                out.push(b);
            }
            (None, None) => {}
        }
    }
    out.extend(open);
    out
}

fn ids<'n>(active: impl Iterator<Item = &'n Named>) -> Vec<String> {
    let mut v: Vec<String> = active.map(|n| n.contact_id.to_string()).collect();
    v.sort();
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timestamp::{format_rfc3339, parse_rfc3339};

    fn t(s: &str) -> Instant {
        parse_rfc3339(s).unwrap()
    }

    fn zone(name: &str) -> Tz {
        name.parse().unwrap()
    }

    fn policy() -> crate::policy::entitlements::EntitlementPolicy {
        crate::policy::Policy::bundled().entitlements
    }

    fn row(tier: usize, from: &str, to: Option<&str>) -> Contract {
        Contract {
            tier,
            region: 0,
            zone: zone("Europe/London"),
            from: t(from),
            to: to.map(t),
        }
    }

    const ELITE: usize = 0; // tiers sort by name: Elite, Online
    const ONLINE: usize = 1;

    #[test]
    fn upgrade_starts_a_new_span_and_a_region_change_does_not() {
        let rows = [
            row(ONLINE, "2024-01-01T00:00:00Z", Some("2025-07-01T00:00:00Z")),
            row(ELITE, "2025-07-01T00:00:00Z", Some("2026-02-01T00:00:00Z")),
            row(ELITE, "2026-02-01T00:00:00Z", None),
        ];
        let s = spans(&rows);
        assert_eq!(s.len(), 2);
        assert_eq!(
            (s[0].tier, s[0].to),
            (ONLINE, Some(t("2025-07-01T00:00:00Z")))
        );
        assert_eq!(
            (s[1].tier, s[1].from, s[1].to),
            (ELITE, t("2025-07-01T00:00:00Z"), None)
        );
        // A gap splits even the same tier.
        let gap = spans(&[
            row(ELITE, "2024-01-01T00:00:00Z", Some("2024-06-01T00:00:00Z")),
            row(ELITE, "2024-07-01T00:00:00Z", None),
        ]);
        assert_eq!(gap.len(), 2);
    }

    #[test]
    fn contract_years_follow_the_local_anniversary_across_dst() {
        // 2024-07-06 local midnight in London is BST, 23:00Z the day before,
        // and so is every anniversary; the span's end cuts year 3 short.
        let span = Span {
            tier: ELITE,
            zone: zone("Europe/London"),
            from: t("2024-07-06T00:00:00+01:00"),
            to: Some(t("2026-10-01T00:00:00Z")),
        };
        let years = contract_years(&span, t("2026-12-31T23:00:00Z"));
        let shown: Vec<(u32, String, String)> = years
            .iter()
            .map(|y| (y.number, format_rfc3339(y.start), format_rfc3339(y.end)))
            .collect();
        assert_eq!(
            shown,
            [
                (
                    1,
                    "2024-07-05T23:00:00Z".into(),
                    "2025-07-05T23:00:00Z".into()
                ),
                (
                    2,
                    "2025-07-05T23:00:00Z".into(),
                    "2026-07-05T23:00:00Z".into()
                ),
                (
                    3,
                    "2026-07-05T23:00:00Z".into(),
                    "2026-10-01T00:00:00Z".into()
                ),
            ]
        );
        // The third year is cut short: 87 days of 365 → 4 × 0.238 = 0.95 → 1.
        assert_eq!(entitled(4, &years[2]), 1);
        assert_eq!(entitled(4, &years[1]), 4);
        // Years not begun by the as-of instant are not reported.
        assert_eq!(contract_years(&span, t("2025-07-05T22:59:59Z")).len(), 1);
        assert!(contract_years(&span, t("2024-07-05T22:59:59Z")).is_empty());
    }

    #[test]
    fn leap_day_anniversary_is_28_february() {
        let span = Span {
            tier: ELITE,
            zone: zone("Asia/Tokyo"),
            from: t("2024-02-29T00:00:00+09:00"),
            to: None,
        };
        let y = contract_years(&span, t("2025-03-01T00:00:00Z"));
        assert_eq!(format_rfc3339(y[0].end), "2025-02-27T15:00:00Z");
    }

    #[test]
    fn pro_rata_status_at_a_quarter_boundary() {
        // Year 2026-01-01 .. 2027-01-01 (365 days); 4 reviews a year.
        let y = ContractYear {
            number: 2,
            tier: ELITE,
            start: t("2026-01-01T00:00:00Z"),
            end: t("2027-01-01T00:00:00Z"),
            anniversary: t("2027-01-01T00:00:00Z"),
        };
        // 1 July 00:00 is day 181 of 365: 4 × 181/365 = 1.9836 due, 1 whole.
        let as_of = t("2026-07-01T00:00:00Z");
        assert!((expected_by_now(4, &y, as_of) - 4.0 * 181.0 / 365.0).abs() < 1e-12);
        assert_eq!(due_by_now(4, &y, as_of), 1);
        assert_eq!(status(4, 1, 1), Status::OnTrack);
        assert_eq!(status(4, 0, 1), Status::Behind);
        // 2 July 12:00: 182.5 / 365 = exactly half → 2 due.
        assert_eq!(due_by_now(4, &y, t("2026-07-02T12:00:00Z")), 2);
        assert_eq!(due_by_now(4, &y, t("2026-07-02T11:59:59Z")), 1);
        // After the year, everything is due.
        assert_eq!(due_by_now(4, &y, t("2028-01-01T00:00:00Z")), 4);
        assert_eq!(status(4, 4, 4), Status::Delivered);
        assert_eq!(status(4, 3, 4), Status::Behind);
        assert_eq!(status(4, 5, 4), Status::Over);
        assert_eq!(status(0, 0, 0), Status::NotEntitled);
        assert_eq!(status(0, 1, 0), Status::Over);
    }

    fn named(id: &str, from: &str, to: Option<&str>) -> Named {
        Named {
            contact_id: id.into(),
            from: t(from),
            to: to.map(t),
        }
    }

    #[test]
    fn fifth_online_contact_is_a_breach_until_one_is_removed() {
        let spans = [Span {
            tier: ONLINE,
            zone: zone("UTC"),
            from: t("2026-01-01T00:00:00Z"),
            to: None,
        }];
        let mut n: Vec<Named> = (1..=4)
            .map(|i| named(&format!("c{i}"), "2026-01-05T00:00:00Z", None))
            .collect();
        // A replacement at the very instant of a removal is no breach.
        n[3].to = Some(t("2026-03-01T00:00:00Z"));
        n.push(named("c5", "2026-03-01T00:00:00Z", None));
        // c6 joins on 1 May; c1 leaves on 10 May.
        n[0].to = Some(t("2026-05-10T00:00:00Z"));
        n.push(named("c6", "2026-05-01T00:00:00Z", None));
        let p = policy();
        let b = contact_breaches(
            &n,
            &spans,
            |tier| p.tiers[tier].named_contacts_per_product,
            t("2026-12-31T00:00:00Z"),
        );
        assert_eq!(b.len(), 1);
        assert_eq!(
            (b[0].from, b[0].until),
            (t("2026-05-01T00:00:00Z"), Some(t("2026-05-10T00:00:00Z")))
        );
        assert_eq!((b[0].allowed, b[0].peak), (4, 5));
        assert_eq!(b[0].named_at_peak, ["c1", "c2", "c3", "c5", "c6"]);
    }

    #[test]
    fn upgrade_ends_a_contact_breach_and_as_of_leaves_it_open() {
        let spans = [
            Span {
                tier: ONLINE,
                zone: zone("UTC"),
                from: t("2026-01-01T00:00:00Z"),
                to: Some(t("2026-07-01T00:00:00Z")),
            },
            Span {
                tier: ELITE,
                zone: zone("UTC"),
                from: t("2026-07-01T00:00:00Z"),
                to: None,
            },
        ];
        let mut n: Vec<Named> = (1..=6)
            .map(|i| named(&format!("c{i:02}"), "2026-02-01T00:00:00Z", None))
            .collect();
        let limit = |tier: usize| policy().tiers[tier].named_contacts_per_product;
        let b = contact_breaches(&n, &spans, limit, t("2026-12-31T00:00:00Z"));
        assert_eq!(b.len(), 1);
        assert_eq!(
            (b[0].tier, b[0].until, b[0].peak),
            (ONLINE, Some(t("2026-07-01T00:00:00Z")), 6)
        );
        // Sixteen under Elite from November, still named at the as-of instant.
        n.extend((7..=16).map(|i| named(&format!("c{i:02}"), "2026-11-01T00:00:00Z", None)));
        let b = contact_breaches(&n, &spans, limit, t("2026-12-31T00:00:00Z"));
        assert_eq!(b.len(), 2);
        assert_eq!(
            (b[1].tier, b[1].from, b[1].until, b[1].allowed, b[1].peak),
            (ELITE, t("2026-11-01T00:00:00Z"), None, 15, 16)
        );
        // Contacts named after the as-of instant have not been named yet.
        let b = contact_breaches(&n, &spans, limit, t("2026-10-31T00:00:00Z"));
        assert_eq!(b.len(), 1);
    }
}
