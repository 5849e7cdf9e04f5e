//! The policy: tier × priority × region → coverage and target. Pure.
//!
//! Every rule `docs/rules.md` marks "(policy)" lives in a TOML policy file,
//! never in code: region zones and office hours (one `open`/`close` window
//! on the region's `days`, or a weekly schedule `week` of windows per
//! weekday), the 24x5 week, business-day length, whether holidays close
//! 24x5 and 24x7, the tier × priority targets, the Japan rule (as a
//! coverage override) and the priority-change rule. `fixtures/policy.toml`
//! is the default, embedded in the binary; `--policy FILE` replaces it;
//! `docs/calendars.md` describes the calendar keys. Validation names the
//! key at fault (`regions.EMEA.time_zone`, `targets.Elite.P3`) and, for a
//! schedule, the window (`regions.Berlin.week.Mon`: window `13:00-12:00`).

pub mod entitlements;

use std::collections::BTreeMap;
use std::ops::RangeInclusive;

use chrono_tz::Tz;
use serde::Deserialize;

use crate::calendar::holidays::Holidays;
use crate::calendar::{parse_clock, parse_weekday, Calendar, Coverage, WeeklyWindow, DAY_SECONDS};
use crate::model::Priority;
use crate::timestamp::MICROS_PER_MINUTE;
use entitlements::{EntitlementPolicy, RawEntitlements};

/// The policy shipped with slt.
pub const BUNDLED_TOML: &str = include_str!("../../fixtures/policy.toml");

/// What a priority change does while the measurement runs (`docs/rules.md`, section 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PriorityChangeRule {
    /// The clock restarts at the change with the new coverage and target.
    Restart,
    /// The clock stays at creation; the new coverage and target are swapped in.
    FromCreation,
}

impl PriorityChangeRule {
    /// The rule's name as the policy file spells it (`restart`, `from_creation`).
    pub fn as_str(self) -> &'static str {
        match self {
            PriorityChangeRule::Restart => "restart",
            PriorityChangeRule::FromCreation => "from_creation",
        }
    }
}

/// The zone a case's month and quarter are taken in (`rules.report_time_zone`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportZone {
    /// One zone for every case (`"UTC"`, the default, or any IANA zone name).
    Zone(Tz),
    /// Each case in the zone of its region (`"region"`): a quarter ends at
    /// local midnight of the customer's office.
    Region,
}

impl ReportZone {
    /// The value as the policy file spells it (`UTC`, `Europe/London`, `region`).
    pub fn name(&self) -> &'static str {
        match self {
            ReportZone::Zone(tz) => tz.name(),
            ReportZone::Region => "region",
        }
    }
}

/// Why a policy file can't be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// Not TOML, or a key of the wrong type or an unknown key.
    #[error("{source_name}: {message}")]
    Syntax {
        /// File the policy came from.
        source_name: String,
        /// The TOML parser's message.
        message: String,
    },
    /// A value that parses but makes no sense.
    #[error("{source_name}: `{key}`: {reason}")]
    Invalid {
        /// File the policy came from.
        source_name: String,
        /// Dotted key at fault.
        key: String,
        /// What is wrong.
        reason: String,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    rules: RawRules,
    coverage: RawCoverages,
    regions: BTreeMap<String, RawRegion>,
    targets: BTreeMap<String, BTreeMap<String, RawTarget>>,
    #[serde(default)]
    coverage_overrides: Vec<RawOverride>,
    entitlements: RawEntitlements,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRules {
    priority_change: PriorityChangeRule,
    report_time_zone: String,
    attainment_goal: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCoverages {
    #[serde(rename = "24x7", default)]
    always: RawAlways,
    #[serde(rename = "24x5")]
    weekdays: RawWeekdays,
    business_hours: RawBusinessHours,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawAlways {
    #[serde(default)]
    remove_holidays: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWeekdays {
    days: Vec<String>,
    open: String,
    close: String,
    remove_holidays: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBusinessHours {
    days: Vec<String>,
    remove_holidays: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRegion {
    time_zone: String,
    open: Option<String>,
    close: Option<String>,
    days: Option<Vec<String>>,
    week: Option<BTreeMap<String, Vec<String>>>,
    business_day_minutes: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTarget {
    coverage: String,
    minutes: Option<u32>,
    business_days: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOverride {
    #[serde(default)]
    tiers: Option<Vec<String>>,
    #[serde(default)]
    regions: Option<Vec<String>>,
    #[serde(default)]
    priorities: Option<Vec<String>>,
    coverage: String,
}

/// One billing region: its zone and office hours.
#[derive(Debug, Clone, PartialEq)]
pub struct Region {
    /// Name as it appears in exports (`EMEA`).
    pub name: String,
    /// Zone of its wall clock.
    pub zone: Tz,
    /// Office hours per weekday (Monday = 0): sorted, disjoint local
    /// windows `[open, close)` in seconds after midnight (86 400 = 24:00);
    /// an empty list is a closed day.
    pub week: [Vec<(u32, u32)>; 7],
    /// Length of one business day in minutes (for targets in business days).
    pub business_day_minutes: u32,
}

/// The target of one tier × region × priority after every rule is applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    /// Which instants count.
    pub coverage: Coverage,
    /// Business minutes allowed before the initial response.
    pub minutes: u32,
}

impl Target {
    /// The target in microseconds.
    pub fn micros(self) -> i64 {
        i64::from(self.minutes) * MICROS_PER_MINUTE
    }
}

/// A validated policy.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Priority-change rule.
    pub priority_change: PriorityChangeRule,
    /// Zone for month and quarter periods: one zone, or each case's region's.
    pub report_zone: ReportZone,
    /// Attainment goal, 0–1.
    pub attainment_goal: f64,
    /// Regions, sorted by name.
    pub regions: Vec<Region>,
    /// Tiers, sorted by name.
    pub tiers: Vec<String>,
    weekdays: RawWindow,
    remove_holidays_business: bool,
    remove_holidays_always: bool,
    /// `targets[tier][region][priority]`.
    targets: Vec<Vec<[Target; 4]>>,
    /// What each tier includes besides targets (contacts, phone, services, languages).
    pub entitlements: EntitlementPolicy,
}

#[derive(Debug, Clone)]
struct RawWindow {
    days: [bool; 7],
    open: u32,
    close: u32,
    remove_holidays: bool,
}

const WEEKDAY_NAMES: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// Why one window string of a `week` can't be used (the key is added by the caller).
fn window_error(window: &str, reason: &str) -> String {
    format!("window `{window}` {reason}")
}

/// Parses one day's windows (`["08:00-12:00", "13:00-17:00"]`): each
/// `HH:MM-HH:MM` within the day, non-empty, sorted and not overlapping.
fn parse_day(windows: &[String]) -> Result<Vec<(u32, u32)>, String> {
    let mut day: Vec<(u32, u32)> = Vec::with_capacity(windows.len());
    let mut previous: Option<&str> = None;
    for text in windows {
        let w = text.trim();
        let Some((a, b)) = w.split_once('-').filter(|(_, b)| !b.contains('-')) else {
            return Err(window_error(w, "is not `HH:MM-HH:MM`"));
        };
        let clock = |part: &str| {
            parse_clock(part).ok_or_else(|| {
                if part.trim().is_empty() || !part.contains(':') {
                    window_error(w, "is not `HH:MM-HH:MM`")
                } else {
                    window_error(
                        w,
                        &format!("has `{}`, not a time `HH:MM` (00:00–24:00)", part.trim()),
                    )
                }
            })
        };
        let (open, close) = (clock(a)?, clock(b)?);
        if close < open {
            return Err(window_error(w, "ends before it starts"));
        }
        if close == open {
            return Err(window_error(w, "is empty (it ends when it starts)"));
        }
        if let (Some(&(p_open, p_close)), Some(p)) = (day.last(), previous) {
            if open < p_open {
                return Err(window_error(
                    w,
                    &format!("comes after `{p}`: list a day's windows in order"),
                ));
            }
            if open < p_close {
                return Err(window_error(w, &format!("overlaps `{p}`")));
            }
        }
        day.push((open, close));
        previous = Some(w);
    }
    Ok(day)
}

/// Wall-clock minutes of each open weekday (`Mon 480 min, Fri 360 min`), for messages.
fn day_lengths(week: &[Vec<(u32, u32)>; 7]) -> Vec<(usize, u32)> {
    week.iter()
        .enumerate()
        .map(|(d, w)| (d, w.iter().map(|&(o, c)| (c - o) / 60).sum::<u32>()))
        .filter(|&(_, m)| m > 0)
        .collect()
}

impl Policy {
    /// The bundled default policy.
    pub fn bundled() -> Self {
        Self::parse(BUNDLED_TOML, "fixtures/policy.toml").expect("the bundled policy is valid")
    }

    /// Parses and validates a policy; `source_name` names it in errors.
    pub fn parse(text: &str, source_name: &str) -> Result<Self, PolicyError> {
        let raw: RawPolicy = toml::from_str(text).map_err(|e| PolicyError::Syntax {
            source_name: source_name.to_string(),
            message: crate::toml_error::one_line(text, &e),
        })?;
        let invalid = |key: String, reason: String| PolicyError::Invalid {
            source_name: source_name.to_string(),
            key,
            reason,
        };
        let zone = |key: String, name: &str| -> Result<Tz, PolicyError> {
            name.parse::<Tz>()
                .map_err(|_| invalid(key, format!("unknown time zone `{name}`")))
        };
        let clock = |key: String, s: &str| -> Result<u32, PolicyError> {
            parse_clock(s)
                .ok_or_else(|| invalid(key, format!("`{s}` is not a time `HH:MM` (00:00–24:00)")))
        };
        let days = |key: String, names: &[String]| -> Result<[bool; 7], PolicyError> {
            let mut set = [false; 7];
            for n in names {
                let d = parse_weekday(n)
                    .ok_or_else(|| invalid(key.clone(), format!("`{n}` is not a weekday")))?;
                set[d.num_days_from_monday() as usize] = true;
            }
            Ok(set)
        };

        let report_zone = match raw.rules.report_time_zone.as_str() {
            "region" => ReportZone::Region,
            name => ReportZone::Zone(zone("rules.report_time_zone".into(), name).map_err(
                |_| {
                    invalid(
                        "rules.report_time_zone".into(),
                        format!("unknown time zone `{name}` (expected `UTC`, `region`, or a zone such as `Europe/London`)"),
                    )
                },
            )?),
        };
        if !(0.0..=1.0).contains(&raw.rules.attainment_goal) {
            return Err(invalid(
                "rules.attainment_goal".into(),
                format!("{} is not between 0 and 1", raw.rules.attainment_goal),
            ));
        }
        let w = &raw.coverage.weekdays;
        let weekdays = RawWindow {
            days: days("coverage.24x5.days".into(), &w.days)?,
            open: clock("coverage.24x5.open".into(), &w.open)?,
            close: clock("coverage.24x5.close".into(), &w.close)?,
            remove_holidays: w.remove_holidays,
        };
        if weekdays.close <= weekdays.open {
            return Err(invalid(
                "coverage.24x5.close".into(),
                "window ends before it starts".into(),
            ));
        }
        let business_days = days(
            "coverage.business_hours.days".into(),
            &raw.coverage.business_hours.days,
        )?;

        // The first target given in business days, if any: regions whose
        // days differ in length must then say how long a business day is.
        let in_business_days = raw.targets.iter().find_map(|(tier, by_priority)| {
            by_priority
                .iter()
                .find(|(_, t)| t.business_days.is_some())
                .map(|(p, _)| format!("targets.{tier}.{p}"))
        });

        if raw.regions.is_empty() {
            return Err(invalid("regions".into(), "no region defined".into()));
        }
        let mut regions = Vec::new();
        for (name, r) in &raw.regions {
            let key = |k: &str| format!("regions.{name}.{k}");
            let (week, uniform) = match &r.week {
                Some(week) => {
                    for (k, given) in [
                        ("open", r.open.is_some()),
                        ("close", r.close.is_some()),
                        ("days", r.days.is_some()),
                    ] {
                        if given {
                            return Err(invalid(
                                key(k),
                                "`week` replaces `open`, `close` and `days`: give either `week` or those".into(),
                            ));
                        }
                    }
                    let mut parsed: [Option<Vec<(u32, u32)>>; 7] = Default::default();
                    for (day_name, windows) in week {
                        let day_key = key(&format!("week.{day_name}"));
                        let d = parse_weekday(day_name).ok_or_else(|| {
                            invalid(
                                day_key.clone(),
                                format!("`{day_name}` is not a weekday (expected Mon, Tue, Wed, Thu, Fri, Sat or Sun)"),
                            )
                        })?;
                        let slot = &mut parsed[d.num_days_from_monday() as usize];
                        if slot.is_some() {
                            return Err(invalid(
                                day_key,
                                format!(
                                    "{} is given twice",
                                    WEEKDAY_NAMES[d.num_days_from_monday() as usize]
                                ),
                            ));
                        }
                        *slot = Some(parse_day(windows).map_err(|e| invalid(day_key, e))?);
                    }
                    let week = parsed.map(Option::unwrap_or_default);
                    if week.iter().all(Vec::is_empty) {
                        return Err(invalid(key("week"), "no day has an open window".into()));
                    }
                    // One business day's length when every open day has the same.
                    let lengths = day_lengths(&week);
                    let uniform = lengths
                        .windows(2)
                        .all(|w| w[0].1 == w[1].1)
                        .then(|| lengths[0].1);
                    (week, uniform)
                }
                None => {
                    let (open_text, close_text) = match (&r.open, &r.close) {
                        (Some(o), Some(c)) => (o, c),
                        (None, Some(_)) => {
                            return Err(invalid(key("open"), "missing (`close` is given)".into()))
                        }
                        (Some(_), None) => {
                            return Err(invalid(key("close"), "missing (`open` is given)".into()))
                        }
                        (None, None) => {
                            return Err(invalid(
                                format!("regions.{name}"),
                                "office hours missing: give `open` and `close`, or a `week`".into(),
                            ))
                        }
                    };
                    let open = clock(key("open"), open_text)?;
                    let close = clock(key("close"), close_text)?;
                    if close <= open {
                        return Err(invalid(
                            key("close"),
                            format!("window ends before it starts ({close_text} ≤ {open_text})"),
                        ));
                    }
                    let on = match &r.days {
                        None => business_days,
                        Some(list) => {
                            let on = days(key("days"), list)?;
                            if !on.contains(&true) {
                                return Err(invalid(key("days"), "no working day".into()));
                            }
                            on
                        }
                    };
                    let week = on.map(|d| if d { vec![(open, close)] } else { Vec::new() });
                    (week, Some((close - open) / 60))
                }
            };
            let business_day_minutes = match (r.business_day_minutes, uniform, &in_business_days) {
                (Some(0), _, _) => {
                    return Err(invalid(
                        key("business_day_minutes"),
                        "must be positive".into(),
                    ))
                }
                (Some(m), _, _) => m,
                (None, Some(m), _) => m,
                (None, None, Some(target)) => {
                    let lengths = day_lengths(&week);
                    let listed: Vec<String> = lengths
                        .iter()
                        .map(|&(d, m)| format!("{} {m} min", WEEKDAY_NAMES[d]))
                        .collect();
                    return Err(invalid(
                        key("business_day_minutes"),
                        format!(
                            "missing: the working days differ in length ({}) and `{target}` is given in `business_days`",
                            listed.join(", ")
                        ),
                    ));
                }
                // Uneven days and no target in business days: unused; the
                // longest day, so that the value means something.
                (None, None, None) => day_lengths(&week)
                    .iter()
                    .map(|&(_, m)| m)
                    .max()
                    .unwrap_or(0),
            };
            regions.push(Region {
                name: name.clone(),
                zone: zone(key("time_zone"), &r.time_zone)?,
                week,
                business_day_minutes,
            });
        }

        if raw.targets.is_empty() {
            return Err(invalid("targets".into(), "no tier defined".into()));
        }
        let tiers: Vec<String> = raw.targets.keys().cloned().collect();
        let entitlements = EntitlementPolicy::from_raw(&raw.entitlements, &tiers)
            .map_err(|(key, reason)| invalid(key, reason))?;
        let mut targets = Vec::new();
        for (tier, by_priority) in &raw.targets {
            for p in by_priority.keys() {
                if p.parse::<Priority>().is_err() {
                    return Err(invalid(
                        format!("targets.{tier}.{p}"),
                        "unknown priority (expected P1–P4)".into(),
                    ));
                }
            }
            let mut per_region = Vec::new();
            for region in &regions {
                let mut row = [Target {
                    coverage: Coverage::Always,
                    minutes: 0,
                }; 4];
                for p in Priority::ALL {
                    let key = format!("targets.{tier}.{p}");
                    let t = by_priority
                        .get(p.as_str())
                        .ok_or_else(|| invalid(key.clone(), "missing priority".into()))?;
                    let coverage: Coverage = t
                        .coverage
                        .parse()
                        .map_err(|e: String| invalid(format!("{key}.coverage"), e))?;
                    let minutes = match (t.minutes, t.business_days) {
                        (Some(m), None) => m,
                        (None, Some(d)) => {
                            d.checked_mul(region.business_day_minutes).ok_or_else(|| {
                                invalid(
                                    format!("{key}.business_days"),
                                    format!(
                                        "{d} business days of {} minutes is too long",
                                        region.business_day_minutes
                                    ),
                                )
                            })?
                        }
                        _ => {
                            return Err(invalid(
                                key,
                                "give exactly one of `minutes` or `business_days`".into(),
                            ))
                        }
                    };
                    row[p.index()] = Target { coverage, minutes };
                }
                per_region.push(row);
            }
            targets.push(per_region);
        }

        for (i, o) in raw.coverage_overrides.iter().enumerate() {
            let key = |k: &str| format!("coverage_overrides[{i}].{k}");
            let coverage: Coverage = o
                .coverage
                .parse()
                .map_err(|e: String| invalid(key("coverage"), e))?;
            let pick = |list: &Option<Vec<String>>,
                        all: &[String],
                        k: &str|
             -> Result<Vec<usize>, PolicyError> {
                match list {
                    None => Ok((0..all.len()).collect()),
                    Some(names) => names
                        .iter()
                        .map(|n| {
                            all.iter()
                                .position(|a| a == n)
                                .ok_or_else(|| invalid(key(k), format!("unknown name `{n}`")))
                        })
                        .collect(),
                }
            };
            let region_names: Vec<String> = regions.iter().map(|r| r.name.clone()).collect();
            let priority_names: Vec<String> = Priority::ALL.iter().map(|p| p.to_string()).collect();
            let ts = pick(&o.tiers, &tiers, "tiers")?;
            let rs = pick(&o.regions, &region_names, "regions")?;
            let ps = pick(&o.priorities, &priority_names, "priorities")?;
            for &t in &ts {
                for &r in &rs {
                    for &p in &ps {
                        targets[t][r][p].coverage = coverage;
                    }
                }
            }
        }

        Ok(Policy {
            priority_change: raw.rules.priority_change,
            report_zone,
            attainment_goal: raw.rules.attainment_goal,
            regions,
            tiers,
            weekdays,
            remove_holidays_business: raw.coverage.business_hours.remove_holidays,
            remove_holidays_always: raw.coverage.always.remove_holidays,
            targets,
            entitlements,
        })
    }

    /// The zone the month and quarter of a case of region `region` (index)
    /// are taken in.
    pub fn period_zone(&self, region: usize) -> Tz {
        match self.report_zone {
            ReportZone::Zone(tz) => tz,
            ReportZone::Region => self.regions[region].zone,
        }
    }

    /// Index of a region by name.
    pub fn region_index(&self, name: &str) -> Option<usize> {
        self.regions.iter().position(|r| r.name == name)
    }

    /// Index of a tier by name.
    pub fn tier_index(&self, name: &str) -> Option<usize> {
        self.tiers.iter().position(|t| t == name)
    }

    /// The target of a case of `priority` for `tier` in `region` (indices).
    pub fn target(&self, tier: usize, region: usize, priority: Priority) -> Target {
        self.targets[tier][region][priority.index()]
    }

    /// The weekly schedule of `coverage` in `region`, with its holidays
    /// (whole and partial days) when that coverage removes them; `None` for
    /// `24x7` unless `[coverage.24x7] remove_holidays` is set (every instant
    /// counts: no table needed).
    pub fn window(
        &self,
        region: usize,
        coverage: Coverage,
        holidays: &Holidays,
    ) -> Option<WeeklyWindow> {
        let r = &self.regions[region];
        let (window, remove) = match coverage {
            Coverage::Always if !self.remove_holidays_always => return None,
            Coverage::Always => (WeeklyWindow::daily(r.zone, [true; 7], 0, DAY_SECONDS), true),
            Coverage::Weekdays => (
                WeeklyWindow::daily(
                    r.zone,
                    self.weekdays.days,
                    self.weekdays.open,
                    self.weekdays.close,
                ),
                self.weekdays.remove_holidays,
            ),
            Coverage::BusinessHours => (
                WeeklyWindow {
                    zone: r.zone,
                    week: r.week.clone(),
                    closures: Vec::new(),
                },
                self.remove_holidays_business,
            ),
        };
        Some(if remove {
            window.with_closures(holidays.closures(&r.name).to_vec())
        } else {
            window
        })
    }

    /// The calendar of `coverage` in `region` for `years`.
    pub fn calendar(
        &self,
        region: usize,
        coverage: Coverage,
        holidays: &Holidays,
        years: RangeInclusive<i32>,
    ) -> Calendar {
        match self.window(region, coverage, holidays) {
            None => Calendar::always(),
            Some(window) => Calendar::weekly(&window, years),
        }
    }

    /// Builds every calendar of every region for `years`.
    pub fn calendars(&self, holidays: &Holidays, years: RangeInclusive<i32>) -> Calendars {
        let by_region = (0..self.regions.len())
            .map(|r| Coverage::ALL.map(|c| self.calendar(r, c, holidays, years.clone())))
            .collect();
        Calendars { by_region }
    }
}

/// Every coverage calendar of every region of a policy, built for a range of years.
#[derive(Debug, Clone)]
pub struct Calendars {
    /// Per region index, one calendar per coverage in [`Coverage::ALL`]
    /// order: `[24x7, 24x5, business_hours]`. Plain `24x7` is the
    /// table-free [`Calendar::always`].
    by_region: Vec<[Calendar; 3]>,
}

impl Calendars {
    /// The calendar of `coverage` in region `region` (index).
    #[inline]
    pub fn get(&self, region: usize, coverage: Coverage) -> &Calendar {
        let c = match coverage {
            Coverage::Always => 0,
            Coverage::Weekdays => 1,
            Coverage::BusinessHours => 2,
        };
        &self.by_region[region][c]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> Policy {
        Policy::bundled()
    }

    fn target(p: &Policy, tier: &str, region: &str, priority: Priority) -> Target {
        p.target(
            p.tier_index(tier).unwrap(),
            p.region_index(region).unwrap(),
            priority,
        )
    }

    #[test]
    fn bundled_targets_match_the_spec_table() {
        let p = policy();
        use Coverage::*;
        use Priority::*;
        let t = |tier, region, pr| {
            let t = target(&p, tier, region, pr);
            (t.coverage, t.minutes)
        };
        assert_eq!(t("Online", "EMEA", P1), (Always, 60));
        assert_eq!(t("Online", "EMEA", P2), (BusinessHours, 240));
        assert_eq!(t("Online", "EMEA", P3), (BusinessHours, 360));
        assert_eq!(t("Online", "EMEA", P4), (BusinessHours, 3 * 480));
        assert_eq!(t("Online", "Americas", P4), (BusinessHours, 3 * 690));
        assert_eq!(t("Elite", "EMEA", P1), (Always, 15));
        assert_eq!(t("Elite", "EMEA", P2), (Weekdays, 30));
        assert_eq!(t("Elite", "Americas", P3), (Weekdays, 60));
        assert_eq!(t("Elite", "APAC", P4), (BusinessHours, 480));
        // The Japan rule keeps the amount and limits coverage to business hours.
        assert_eq!(t("Elite", "Japan", P1), (Always, 15));
        assert_eq!(t("Elite", "Japan", P2), (BusinessHours, 30));
        assert_eq!(t("Elite", "Japan", P3), (BusinessHours, 60));
        assert_eq!(t("Elite", "Japan", P4), (BusinessHours, 510));
        assert_eq!(p.priority_change, PriorityChangeRule::Restart);
        assert_eq!(p.attainment_goal, 0.95);
    }

    fn err_of(edit: impl Fn(String) -> String) -> String {
        Policy::parse(&edit(BUNDLED_TOML.to_string()), "p.toml")
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn unknown_zone_names_the_key() {
        let e = err_of(|s| s.replace("Europe/London", "Europe/Londn"));
        assert_eq!(
            e,
            "p.toml: `regions.EMEA.time_zone`: unknown time zone `Europe/Londn`"
        );
    }

    #[test]
    fn report_time_zone_is_utc_a_zone_or_each_region() {
        let with = |value: &str| {
            Policy::parse(
                &BUNDLED_TOML.replace(
                    "report_time_zone = \"UTC\"",
                    &format!("report_time_zone = \"{value}\""),
                ),
                "p.toml",
            )
        };
        let p = policy();
        assert_eq!(p.report_zone, ReportZone::Zone(Tz::UTC));
        assert_eq!(p.period_zone(p.region_index("Japan").unwrap()), Tz::UTC);
        let p = with("region").unwrap();
        assert_eq!(p.report_zone.name(), "region");
        assert_eq!(
            p.period_zone(p.region_index("Americas").unwrap()),
            chrono_tz::America::Los_Angeles
        );
        assert_eq!(
            p.period_zone(p.region_index("Japan").unwrap()),
            chrono_tz::Asia::Tokyo
        );
        let p = with("Europe/Paris").unwrap();
        assert_eq!(p.period_zone(0), chrono_tz::Europe::Paris);
        assert_eq!(
            with("Region").unwrap_err().to_string(),
            "p.toml: `rules.report_time_zone`: unknown time zone `Region` (expected `UTC`, `region`, or a zone such as `Europe/London`)"
        );
    }

    #[test]
    fn window_ending_before_it_starts_names_the_key() {
        let e = err_of(|s| s.replacen("close = \"17:00\"", "close = \"08:00\"", 1));
        assert!(
            e.starts_with("p.toml: `regions.EMEA.close`: window ends before it starts"),
            "{e}"
        );
    }

    #[test]
    fn missing_priority_names_the_key() {
        let e = err_of(|s| s.replace("P3 = { coverage = \"24x5\", minutes = 60 }\n", ""));
        assert_eq!(e, "p.toml: `targets.Elite.P3`: missing priority");
    }

    #[test]
    fn unknown_key_is_a_syntax_error_naming_it() {
        let e = err_of(|s| s.replace("attainment_goal", "attainment_gaol"));
        assert!(e.contains("attainment_gaol"), "{e}");
    }

    /// The bundled policy with region `EMEA` replaced by `region` (TOML
    /// lines after `[regions.EMEA]`).
    fn with_emea(region: &str) -> String {
        let start = BUNDLED_TOML.find("[regions.EMEA]").unwrap();
        let end = start + BUNDLED_TOML[start..].find("[regions.APAC]").unwrap();
        format!(
            "{}[regions.EMEA]\n{region}\n\n{}",
            &BUNDLED_TOML[..start],
            &BUNDLED_TOML[end..]
        )
    }

    fn emea_err(region: &str) -> String {
        Policy::parse(&with_emea(region), "p.toml")
            .unwrap_err()
            .to_string()
    }

    fn emea(region: &str) -> Region {
        let p = Policy::parse(&with_emea(region), "p.toml").unwrap();
        p.regions[p.region_index("EMEA").unwrap()].clone()
    }

    const LONDON: &str = "time_zone = \"Europe/London\"";

    #[test]
    fn bundled_regions_keep_one_window_monday_to_friday() {
        let p = policy();
        let emea = &p.regions[p.region_index("EMEA").unwrap()];
        let office = vec![(9 * 3600, 17 * 3600)];
        assert_eq!(
            emea.week[..5],
            [
                office.clone(),
                office.clone(),
                office.clone(),
                office.clone(),
                office
            ]
        );
        assert!(emea.week[5].is_empty() && emea.week[6].is_empty());
        assert_eq!(emea.business_day_minutes, 480);
    }

    #[test]
    fn week_with_a_lunch_break_short_friday_and_saturday_morning_is_read() {
        let r = emea(&format!(
            "{LONDON}\nbusiness_day_minutes = 450\nweek = {{ Mon = [\"08:00-12:00\", \"13:00-17:00\"], friday = [\"08:00-12:00\"], Sat = [\"09:00-13:00\"], Sun = [] }}"
        ));
        assert_eq!(
            r.week[0],
            vec![(8 * 3600, 12 * 3600), (13 * 3600, 17 * 3600)]
        );
        assert!(r.week[1].is_empty());
        assert_eq!(r.week[4], vec![(8 * 3600, 12 * 3600)]);
        assert_eq!(r.week[5], vec![(9 * 3600, 13 * 3600)]);
        assert_eq!(r.business_day_minutes, 450);
        // Days of equal length need no business_day_minutes.
        let r = emea(&format!(
            "{LONDON}\nweek = {{ Mon = [\"08:00-12:00\", \"13:00-17:00\"], Tue = [\"09:00-17:00\"], Wed = [\"16:00-24:00\"] }}"
        ));
        assert_eq!(r.business_day_minutes, 480);
        assert_eq!(r.week[2], vec![(16 * 3600, 86_400)]);
    }

    #[test]
    fn region_days_give_a_sunday_to_thursday_week() {
        let r = emea(&format!(
            "{LONDON}\ndays = [\"Sun\", \"Mon\", \"Tue\", \"Wed\", \"Thu\"]\nopen = \"09:00\"\nclose = \"18:00\""
        ));
        let on: Vec<bool> = r.week.iter().map(|d| !d.is_empty()).collect();
        assert_eq!(on, [true, true, true, true, false, false, true]);
        assert_eq!(r.business_day_minutes, 540);
    }

    #[test]
    fn bad_weekly_schedules_name_the_key_and_the_window() {
        let week =
            |days: &str| format!("{LONDON}\nbusiness_day_minutes = 480\nweek = {{ {days} }}");
        let cases = [
            ("Mon = [\"13:00-12:00\"]", "p.toml: `regions.EMEA.week.Mon`: window `13:00-12:00` ends before it starts"),
            ("Mon = [\"09:00-25:00\"]", "p.toml: `regions.EMEA.week.Mon`: window `09:00-25:00` has `25:00`, not a time `HH:MM` (00:00–24:00)"),
            ("Mon = [\"09:00-12:60\"]", "p.toml: `regions.EMEA.week.Mon`: window `09:00-12:60` has `12:60`, not a time `HH:MM` (00:00–24:00)"),
            ("Tue = [\"9-17\"]", "p.toml: `regions.EMEA.week.Tue`: window `9-17` is not `HH:MM-HH:MM`"),
            ("Tue = [\"09:00\"]", "p.toml: `regions.EMEA.week.Tue`: window `09:00` is not `HH:MM-HH:MM`"),
            ("Tue = [\"09:00-12:00-13:00\"]", "p.toml: `regions.EMEA.week.Tue`: window `09:00-12:00-13:00` is not `HH:MM-HH:MM`"),
            ("Wed = [\"12:00-12:00\"]", "p.toml: `regions.EMEA.week.Wed`: window `12:00-12:00` is empty (it ends when it starts)"),
            ("Wed = [\"08:00-12:00\", \"11:00-14:00\"]", "p.toml: `regions.EMEA.week.Wed`: window `11:00-14:00` overlaps `08:00-12:00`"),
            ("Thu = [\"13:00-17:00\", \"08:00-12:00\"]", "p.toml: `regions.EMEA.week.Thu`: window `08:00-12:00` comes after `13:00-17:00`: list a day's windows in order"),
            ("Mun = [\"08:00-12:00\"]", "p.toml: `regions.EMEA.week.Mun`: `Mun` is not a weekday (expected Mon, Tue, Wed, Thu, Fri, Sat or Sun)"),
            ("Mon = [\"08:00-12:00\"], Monday = [\"13:00-17:00\"]", "p.toml: `regions.EMEA.week.Monday`: Mon is given twice"),
            ("Sat = []", "p.toml: `regions.EMEA.week`: no day has an open window"),
        ];
        for (days, expected) in cases {
            assert_eq!(emea_err(&week(days)), expected, "{days}");
        }
    }

    #[test]
    fn week_together_with_open_close_or_days_is_refused() {
        for (extra, key) in [
            ("open = \"09:00\"", "open"),
            ("close = \"17:00\"", "close"),
            ("days = [\"Mon\"]", "days"),
        ] {
            assert_eq!(
                emea_err(&format!("{LONDON}\n{extra}\nweek = {{ Mon = [\"09:00-17:00\"] }}")),
                format!("p.toml: `regions.EMEA.{key}`: `week` replaces `open`, `close` and `days`: give either `week` or those")
            );
        }
    }

    #[test]
    fn uneven_days_need_business_day_minutes_when_a_target_counts_business_days() {
        let uneven = format!("{LONDON}\nweek = {{ Mon = [\"08:00-12:00\", \"13:00-17:00\"], Fri = [\"08:00-14:00\"] }}");
        assert_eq!(
            emea_err(&uneven),
            "p.toml: `regions.EMEA.business_day_minutes`: missing: the working days differ in length (Mon 480 min, Fri 360 min) and `targets.Elite.P4` is given in `business_days`"
        );
        // Without any target in business days, it is not needed.
        let p = Policy::parse(
            &with_emea(&uneven)
                .replace("business_days = 1", "minutes = 480")
                .replace("business_days = 3", "minutes = 1440"),
            "p.toml",
        )
        .unwrap();
        assert_eq!(
            p.regions[p.region_index("EMEA").unwrap()].business_day_minutes,
            480
        );
        assert_eq!(
            emea_err(&format!("{uneven}\nbusiness_day_minutes = 0")),
            "p.toml: `regions.EMEA.business_day_minutes`: must be positive"
        );
    }

    #[test]
    fn region_hours_half_given_or_missing_are_refused() {
        assert_eq!(
            emea_err(&format!("{LONDON}\nopen = \"09:00\"")),
            "p.toml: `regions.EMEA.close`: missing (`open` is given)"
        );
        assert_eq!(
            emea_err(&format!("{LONDON}\nclose = \"09:00\"")),
            "p.toml: `regions.EMEA.open`: missing (`close` is given)"
        );
        assert_eq!(
            emea_err(LONDON),
            "p.toml: `regions.EMEA`: office hours missing: give `open` and `close`, or a `week`"
        );
        assert_eq!(
            emea_err(&format!(
                "{LONDON}\nopen = \"09:00\"\nclose = \"17:00\"\ndays = []"
            )),
            "p.toml: `regions.EMEA.days`: no working day"
        );
        assert_eq!(
            emea_err(&format!(
                "{LONDON}\nopen = \"09:00\"\nclose = \"17:00\"\ndays = [\"Mon\", \"Caturday\"]"
            )),
            "p.toml: `regions.EMEA.days`: `Caturday` is not a weekday"
        );
        assert_eq!(
            emea_err(&format!("{LONDON}\nopen = \"09:00\"\nclose = \"25:00\"")),
            "p.toml: `regions.EMEA.close`: `25:00` is not a time `HH:MM` (00:00–24:00)"
        );
    }

    #[test]
    fn coverage_24x7_remove_holidays_defaults_to_false() {
        let p = policy();
        assert!(p
            .window(0, Coverage::Always, &Holidays::bundled())
            .is_none());
        let text = BUNDLED_TOML.replace(
            "[coverage.24x5]",
            "[coverage.24x7]\nremove_holidays = true\n\n[coverage.24x5]",
        );
        let p = Policy::parse(&text, "p.toml").unwrap();
        let emea = p.region_index("EMEA").unwrap();
        let w = p
            .window(emea, Coverage::Always, &Holidays::bundled())
            .unwrap();
        assert_eq!(w.week, std::array::from_fn(|_| vec![(0, 86_400)]));
        assert!(!w.closures.is_empty());
        let text = BUNDLED_TOML.replace("[coverage.24x5]", "[coverage.24x7]\n\n[coverage.24x5]");
        assert!(Policy::parse(&text, "p.toml")
            .unwrap()
            .window(emea, Coverage::Always, &Holidays::bundled())
            .is_none());
        let text = BUNDLED_TOML.replace(
            "[coverage.24x5]",
            "[coverage.24x7]\nopen = \"00:00\"\n\n[coverage.24x5]",
        );
        let e = Policy::parse(&text, "p.toml").unwrap_err().to_string();
        assert!(e.contains("unknown field `open`"), "{e}");
    }

    #[test]
    fn the_example_schedules_policy_is_valid() {
        let p = Policy::parse(
            include_str!("../../fixtures/policies/schedules.toml"),
            "fixtures/policies/schedules.toml",
        )
        .unwrap();
        let berlin = &p.regions[p.region_index("Berlin").unwrap()];
        assert_eq!(berlin.business_day_minutes, 480);
        assert_eq!(
            berlin.week[4],
            vec![(8 * 3600, 12 * 3600), (13 * 3600, 15 * 3600)]
        );
    }

    #[test]
    fn from_creation_rule_is_read() {
        let p = Policy::parse(
            &BUNDLED_TOML.replace("\"restart\"", "\"from_creation\""),
            "p",
        )
        .unwrap();
        assert_eq!(p.priority_change, PriorityChangeRule::FromCreation);
    }
}
