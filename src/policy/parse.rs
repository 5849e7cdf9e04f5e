//! Reading a policy file: the TOML as written ([`RawPolicy`]), checked key
//! by key into a [`Policy`]. Each part of the file has its own step
//! (rules, the 24x5 week, each region's office hours, the targets, the
//! coverage overrides), and every refusal names the dotted key at fault.

use std::collections::BTreeMap;

use chrono_tz::Tz;
use serde::Deserialize;

use super::entitlements::{EntitlementPolicy, RawEntitlements};
use super::{
    Policy, PolicyError, PriorityChangeRule, RawWindow, Region, ReportZone, Target, WEEKDAY_NAMES,
};
use crate::calendar::{parse_clock, parse_weekday, Coverage};
use crate::model::Priority;

/// The most tiers, and the most regions, a policy may define.
const MAX_NAMED: usize = 256;

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

/// Targets per tier, region and priority: `targets[tier][region][priority]`.
type Targets = Vec<Vec<[Target; 4]>>;

/// A region's week and, when every open day has the same length, that length in minutes.
type Week = ([Vec<(u32, u32)>; 7], Option<u32>);

impl Policy {
    /// Parses and validates a policy; `source_name` names it in errors.
    pub fn parse(text: &str, source_name: &str) -> Result<Self, PolicyError> {
        let raw: RawPolicy = toml::from_str(text).map_err(|e| PolicyError::Syntax {
            source_name: source_name.to_string(),
            message: crate::toml_error::one_line(text, &e),
        })?;
        let check = Check { source_name };
        let report_zone = check.report_zone(&raw.rules)?;
        if !(0.0..=1.0).contains(&raw.rules.attainment_goal) {
            return Err(check.invalid(
                "rules.attainment_goal",
                format!("{} is not between 0 and 1", raw.rules.attainment_goal),
            ));
        }
        let weekdays = check.weekdays(&raw.coverage.weekdays)?;
        let business_days = check.days(
            "coverage.business_hours.days",
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
            return Err(check.invalid("regions", "no region defined"));
        }
        // A judged case holds its tier and region as a byte each.
        if raw.regions.len() > MAX_NAMED {
            let n = raw.regions.len();
            return Err(check.invalid(
                "regions",
                format!("{n} regions, more than the {MAX_NAMED} a policy may define"),
            ));
        }
        let regions = raw
            .regions
            .iter()
            .map(|(name, r)| check.region(name, r, business_days, in_business_days.as_deref()))
            .collect::<Result<Vec<_>, _>>()?;

        if raw.targets.is_empty() {
            return Err(check.invalid("targets", "no tier defined"));
        }
        if raw.targets.len() > MAX_NAMED {
            let n = raw.targets.len();
            return Err(check.invalid(
                "targets",
                format!("{n} tiers, more than the {MAX_NAMED} a policy may define"),
            ));
        }
        let tiers: Vec<String> = raw.targets.keys().cloned().collect();
        let entitlements = EntitlementPolicy::from_raw(&raw.entitlements, &tiers)
            .map_err(|(key, reason)| check.invalid(key, reason))?;
        let mut targets = check.targets(&raw.targets, &regions)?;
        for (i, o) in raw.coverage_overrides.iter().enumerate() {
            check.apply_override(i, o, &tiers, &regions, &mut targets)?;
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
}

/// The checks of one policy file, naming it in every refusal.
struct Check<'a> {
    source_name: &'a str,
}

impl Check<'_> {
    /// `key` holds a value that parses but makes no sense.
    fn invalid(&self, key: impl Into<String>, reason: impl Into<String>) -> PolicyError {
        PolicyError::Invalid {
            source_name: self.source_name.to_string(),
            key: key.into(),
            reason: reason.into(),
        }
    }

    fn zone(&self, key: String, name: &str) -> Result<Tz, PolicyError> {
        name.parse::<Tz>()
            .map_err(|_| self.invalid(key, format!("unknown time zone `{name}`")))
    }

    fn clock(&self, key: String, s: &str) -> Result<u32, PolicyError> {
        parse_clock(s)
            .ok_or_else(|| self.invalid(key, format!("`{s}` is not a time `HH:MM` (00:00–24:00)")))
    }

    fn days(&self, key: impl Into<String>, names: &[String]) -> Result<[bool; 7], PolicyError> {
        let key = key.into();
        let mut set = [false; 7];
        for n in names {
            let d = parse_weekday(n)
                .ok_or_else(|| self.invalid(key.clone(), format!("`{n}` is not a weekday")))?;
            set[d.num_days_from_monday() as usize] = true;
        }
        Ok(set)
    }

    /// `rules.report_time_zone`: `region`, or one zone.
    fn report_zone(&self, rules: &RawRules) -> Result<ReportZone, PolicyError> {
        let key = "rules.report_time_zone";
        Ok(match rules.report_time_zone.as_str() {
            "region" => ReportZone::Region,
            name => ReportZone::Zone(self.zone(key.into(), name).map_err(|_| {
                self.invalid(
                    key,
                    format!("unknown time zone `{name}` (expected `UTC`, `region`, or a zone such as `Europe/London`)"),
                )
            })?),
        })
    }

    /// `[coverage.24x5]`: its days and one daily window.
    fn weekdays(&self, w: &RawWeekdays) -> Result<RawWindow, PolicyError> {
        let weekdays = RawWindow {
            days: self.days("coverage.24x5.days", &w.days)?,
            open: self.clock("coverage.24x5.open".into(), &w.open)?,
            close: self.clock("coverage.24x5.close".into(), &w.close)?,
            remove_holidays: w.remove_holidays,
        };
        if weekdays.close <= weekdays.open {
            return Err(self.invalid("coverage.24x5.close", "window ends before it starts"));
        }
        Ok(weekdays)
    }

    /// `[regions.NAME]`: zone, office hours (a `week`, or `open`/`close` on
    /// `days` or the business-hours days) and the business day's length.
    fn region(
        &self,
        name: &str,
        r: &RawRegion,
        business_days: [bool; 7],
        in_business_days: Option<&str>,
    ) -> Result<Region, PolicyError> {
        let key = |k: &str| format!("regions.{name}.{k}");
        let (week, uniform) = match &r.week {
            Some(week) => self.weekly(name, r, week)?,
            None => self.office_hours(name, r, business_days)?,
        };
        let business_day_minutes = match (r.business_day_minutes, uniform, in_business_days) {
            (Some(0), _, _) => {
                return Err(self.invalid(key("business_day_minutes"), "must be positive"))
            }
            (Some(m), _, _) => m,
            (None, Some(m), _) => m,
            (None, None, Some(target)) => {
                let listed: Vec<String> = day_lengths(&week)
                    .iter()
                    .map(|&(d, m)| format!("{} {m} min", WEEKDAY_NAMES[d]))
                    .collect();
                return Err(self.invalid(
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
        Ok(Region {
            name: name.to_string(),
            zone: self.zone(key("time_zone"), &r.time_zone)?,
            week,
            business_day_minutes,
        })
    }

    /// A region's `week`: windows per weekday, alone (not with `open`,
    /// `close` or `days`), each day given once, some day open.
    fn weekly(
        &self,
        name: &str,
        r: &RawRegion,
        week: &BTreeMap<String, Vec<String>>,
    ) -> Result<Week, PolicyError> {
        let key = |k: &str| format!("regions.{name}.{k}");
        for (k, given) in [
            ("open", r.open.is_some()),
            ("close", r.close.is_some()),
            ("days", r.days.is_some()),
        ] {
            if given {
                return Err(self.invalid(
                    key(k),
                    "`week` replaces `open`, `close` and `days`: give either `week` or those",
                ));
            }
        }
        let mut parsed: [Option<Vec<(u32, u32)>>; 7] = Default::default();
        for (day_name, windows) in week {
            let day_key = key(&format!("week.{day_name}"));
            let d = parse_weekday(day_name).ok_or_else(|| {
                self.invalid(
                    day_key.clone(),
                    format!("`{day_name}` is not a weekday (expected Mon, Tue, Wed, Thu, Fri, Sat or Sun)"),
                )
            })?;
            let slot = &mut parsed[d.num_days_from_monday() as usize];
            if slot.is_some() {
                return Err(self.invalid(
                    day_key,
                    format!(
                        "{} is given twice",
                        WEEKDAY_NAMES[d.num_days_from_monday() as usize]
                    ),
                ));
            }
            *slot = Some(parse_day(windows).map_err(|e| self.invalid(day_key, e))?);
        }
        let week = parsed.map(Option::unwrap_or_default);
        if week.iter().all(Vec::is_empty) {
            return Err(self.invalid(key("week"), "no day has an open window"));
        }
        // One business day's length when every open day has the same.
        let lengths = day_lengths(&week);
        let uniform = lengths
            .windows(2)
            .all(|w| w[0].1 == w[1].1)
            .then(|| lengths[0].1);
        Ok((week, uniform))
    }

    /// A region's `open` and `close`, on its `days` (or the business-hours days).
    fn office_hours(
        &self,
        name: &str,
        r: &RawRegion,
        business_days: [bool; 7],
    ) -> Result<Week, PolicyError> {
        let key = |k: &str| format!("regions.{name}.{k}");
        let (open_text, close_text) = match (&r.open, &r.close) {
            (Some(o), Some(c)) => (o, c),
            (None, Some(_)) => return Err(self.invalid(key("open"), "missing (`close` is given)")),
            (Some(_), None) => return Err(self.invalid(key("close"), "missing (`open` is given)")),
            (None, None) => {
                return Err(self.invalid(
                    format!("regions.{name}"),
                    "office hours missing: give `open` and `close`, or a `week`",
                ))
            }
        };
        let open = self.clock(key("open"), open_text)?;
        let close = self.clock(key("close"), close_text)?;
        if close <= open {
            return Err(self.invalid(
                key("close"),
                format!("window ends before it starts ({close_text} ≤ {open_text})"),
            ));
        }
        let on = match &r.days {
            None => business_days,
            Some(list) => {
                let on = self.days(key("days"), list)?;
                if !on.contains(&true) {
                    return Err(self.invalid(key("days"), "no working day"));
                }
                on
            }
        };
        let week = on.map(|d| if d { vec![(open, close)] } else { Vec::new() });
        Ok((week, Some((close - open) / 60)))
    }

    /// `[targets.TIER.Pn]` for every tier, region and priority.
    fn targets(
        &self,
        raw: &BTreeMap<String, BTreeMap<String, RawTarget>>,
        regions: &[Region],
    ) -> Result<Targets, PolicyError> {
        let mut targets = Vec::new();
        for (tier, by_priority) in raw {
            for p in by_priority.keys() {
                if p.parse::<Priority>().is_err() {
                    return Err(self.invalid(
                        format!("targets.{tier}.{p}"),
                        "unknown priority (expected P1–P4)",
                    ));
                }
            }
            let mut per_region = Vec::new();
            for region in regions {
                let mut row = [Target {
                    coverage: Coverage::Always,
                    minutes: 0,
                }; 4];
                for p in Priority::ALL {
                    let key = format!("targets.{tier}.{p}");
                    let t = by_priority
                        .get(p.as_str())
                        .ok_or_else(|| self.invalid(key.clone(), "missing priority"))?;
                    row[p.index()] = self.target(&key, t, region)?;
                }
                per_region.push(row);
            }
            targets.push(per_region);
        }
        Ok(targets)
    }

    /// One target in one region: its coverage, and `minutes` or
    /// `business_days` (of that region's business day).
    fn target(&self, key: &str, t: &RawTarget, region: &Region) -> Result<Target, PolicyError> {
        let coverage: Coverage = t
            .coverage
            .parse()
            .map_err(|e: String| self.invalid(format!("{key}.coverage"), e))?;
        let minutes = match (t.minutes, t.business_days) {
            (Some(m), None) => m,
            (None, Some(d)) => d.checked_mul(region.business_day_minutes).ok_or_else(|| {
                self.invalid(
                    format!("{key}.business_days"),
                    format!(
                        "{d} business days of {} minutes is too long",
                        region.business_day_minutes
                    ),
                )
            })?,
            _ => return Err(self.invalid(key, "give exactly one of `minutes` or `business_days`")),
        };
        Ok(Target { coverage, minutes })
    }

    /// `[[coverage_overrides]]` number `i`: a coverage for some tiers,
    /// regions and priorities (all of each when not listed).
    fn apply_override(
        &self,
        i: usize,
        o: &RawOverride,
        tiers: &[String],
        regions: &[Region],
        targets: &mut Targets,
    ) -> Result<(), PolicyError> {
        let key = |k: &str| format!("coverage_overrides[{i}].{k}");
        let coverage: Coverage = o
            .coverage
            .parse()
            .map_err(|e: String| self.invalid(key("coverage"), e))?;
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
                            .ok_or_else(|| self.invalid(key(k), format!("unknown name `{n}`")))
                    })
                    .collect(),
            }
        };
        let region_names: Vec<String> = regions.iter().map(|r| r.name.clone()).collect();
        let priority_names: Vec<String> = Priority::ALL.iter().map(|p| p.to_string()).collect();
        let ts = pick(&o.tiers, tiers, "tiers")?;
        let rs = pick(&o.regions, &region_names, "regions")?;
        let ps = pick(&o.priorities, &priority_names, "priorities")?;
        for &t in &ts {
            for &r in &rs {
                for &p in &ps {
                    targets[t][r][p].coverage = coverage;
                }
            }
        }
        Ok(())
    }
}
