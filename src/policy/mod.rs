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
mod parse;

use std::ops::RangeInclusive;

use chrono_tz::Tz;
use serde::Deserialize;

use crate::calendar::holidays::Holidays;
use crate::calendar::{Calendar, Coverage, WeeklyWindow, DAY_SECONDS};
use crate::model::Priority;
use crate::timestamp::MICROS_PER_MINUTE;
use entitlements::EntitlementPolicy;

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

impl Policy {
    /// The bundled default policy.
    pub fn bundled() -> Self {
        Self::parse(BUNDLED_TOML, "fixtures/policy.toml").expect("the bundled policy is valid")
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
    fn a_policy_of_256_regions_is_read_and_one_more_refused() {
        // The four regions, and `extra` more of the same hours.
        let with = |extra: usize| {
            let mut text = BUNDLED_TOML.to_string();
            for i in 0..extra {
                text.push_str(&format!(
                    "\n[regions.R{i}]\ntime_zone = \"UTC\"\nopen = \"09:00\"\nclose = \"17:00\"\n"
                ));
            }
            Policy::parse(&text, "p.toml")
        };
        let most = with(252).unwrap();
        assert_eq!(most.regions.len(), 256);
        assert_eq!(
            with(253).unwrap_err().to_string(),
            "p.toml: `regions`: 257 regions, more than the 256 a policy may define"
        );
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
