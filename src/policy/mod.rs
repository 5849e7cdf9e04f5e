//! The policy: tier × priority × region → coverage and target. Pure.
//!
//! Every rule `docs/rules.md` marks "(policy)" lives in a TOML policy file, never
//! in code: region zones and office hours, the 24x5 week, business-day
//! length, the tier × priority targets, the Japan rule (as a coverage
//! override) and the priority-change rule. `fixtures/policy.toml` is the
//! default, embedded in the binary; `--policy FILE` replaces it. Validation
//! names the key at fault (`regions.EMEA.time_zone`, `targets.Elite.P3`).

pub mod entitlements;

use std::collections::BTreeMap;
use std::ops::RangeInclusive;

use chrono_tz::Tz;
use serde::Deserialize;

use crate::calendar::holidays::Holidays;
use crate::calendar::{parse_weekday, Calendar, Coverage, WeeklyWindow};
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
    #[serde(rename = "24x5")]
    weekdays: RawWeekdays,
    business_hours: RawBusinessHours,
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
    open: String,
    close: String,
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
    /// Office opening, seconds after local midnight.
    pub open: u32,
    /// Office close, seconds after local midnight (86 400 = 24:00).
    pub close: u32,
    /// Length of one business day in minutes.
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
    /// Zone for month and quarter periods.
    pub report_zone: Tz,
    /// Attainment goal, 0–1.
    pub attainment_goal: f64,
    /// Regions, sorted by name.
    pub regions: Vec<Region>,
    /// Tiers, sorted by name.
    pub tiers: Vec<String>,
    weekdays: RawWindow,
    business_days: [bool; 7],
    remove_holidays_business: bool,
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

/// Parses `hh:mm` (or `24:00`) into seconds after midnight.
fn parse_clock(s: &str) -> Option<u32> {
    let (h, m) = s.trim().split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    if m > 59 || h > 24 || (h == 24 && m != 0) {
        return None;
    }
    Some(h * 3600 + m * 60)
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
                .ok_or_else(|| invalid(key, format!("`{s}` is not a time `hh:mm` (00:00–24:00)")))
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

        let report_zone = zone("rules.report_time_zone".into(), &raw.rules.report_time_zone)?;
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

        if raw.regions.is_empty() {
            return Err(invalid("regions".into(), "no region defined".into()));
        }
        let mut regions = Vec::new();
        for (name, r) in &raw.regions {
            let key = |k: &str| format!("regions.{name}.{k}");
            let open = clock(key("open"), &r.open)?;
            let close = clock(key("close"), &r.close)?;
            if close <= open {
                return Err(invalid(
                    key("close"),
                    format!("window ends before it starts ({} ≤ {})", r.close, r.open),
                ));
            }
            let business_day_minutes = r.business_day_minutes.unwrap_or((close - open) / 60);
            if business_day_minutes == 0 {
                return Err(invalid(
                    key("business_day_minutes"),
                    "must be positive".into(),
                ));
            }
            regions.push(Region {
                name: name.clone(),
                zone: zone(key("time_zone"), &r.time_zone)?,
                open,
                close,
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
                        (None, Some(d)) => d * region.business_day_minutes,
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
            business_days,
            remove_holidays_business: raw.coverage.business_hours.remove_holidays,
            targets,
            entitlements,
        })
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

    /// The weekly window of `coverage` in `region`, with its holidays;
    /// `None` for `24x7`.
    pub fn window(
        &self,
        region: usize,
        coverage: Coverage,
        holidays: &Holidays,
    ) -> Option<WeeklyWindow> {
        let r = &self.regions[region];
        let (days, open, close, remove) = match coverage {
            Coverage::Always => return None,
            Coverage::Weekdays => (
                self.weekdays.days,
                self.weekdays.open,
                self.weekdays.close,
                self.weekdays.remove_holidays,
            ),
            Coverage::BusinessHours => (
                self.business_days,
                r.open,
                r.close,
                self.remove_holidays_business,
            ),
        };
        Some(WeeklyWindow {
            zone: r.zone,
            days,
            open,
            close,
            closed_dates: if remove {
                holidays.dates(&r.name).to_vec()
            } else {
                Vec::new()
            },
        })
    }

    /// Builds every calendar of every region for `years`.
    pub fn calendars(&self, holidays: &Holidays, years: RangeInclusive<i32>) -> Calendars {
        let always = Calendar::always();
        let by_region = (0..self.regions.len())
            .map(|r| {
                [Coverage::Weekdays, Coverage::BusinessHours].map(|c| {
                    Calendar::weekly(
                        &self.window(r, c, holidays).expect("not 24x7"),
                        years.clone(),
                    )
                })
            })
            .collect();
        Calendars { always, by_region }
    }
}

/// Every coverage calendar of every region of a policy, built for a range of years.
#[derive(Debug, Clone)]
pub struct Calendars {
    always: Calendar,
    /// `[24x5, business_hours]` per region index.
    by_region: Vec<[Calendar; 2]>,
}

impl Calendars {
    /// The calendar of `coverage` in region `region` (index).
    #[inline]
    pub fn get(&self, region: usize, coverage: Coverage) -> &Calendar {
        match coverage {
            Coverage::Always => &self.always,
            Coverage::Weekdays => &self.by_region[region][0],
            Coverage::BusinessHours => &self.by_region[region][1],
        }
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
