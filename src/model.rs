//! The domain's nouns, shared by every stage: priorities, outcomes, the
//! input tables and their canonical columns, judged cases, events and
//! contracts, the measured case row, and calendar periods.
//!
//! Plain data: no polars, no I/O. The rules that give these values meaning
//! are in [`crate::policy`] (targets), [`crate::measure`] (one case) and
//! [`crate::entitlements`] (contract years); `docs/rules.md` says them in
//! words.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use chrono::Datelike;
use chrono_tz::Tz;

use crate::calendar::Coverage;
use crate::timestamp::{to_datetime, Instant};

/// A case priority.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Priority {
    /// Production down, data loss, major degradation.
    P1,
    /// Major degradation or potential data loss.
    P2,
    /// Minor or no degradation, workaround exists.
    P3,
    /// General question or enhancement request.
    P4,
}

impl Priority {
    /// All priorities, most urgent first.
    pub const ALL: [Priority; 4] = [Priority::P1, Priority::P2, Priority::P3, Priority::P4];

    /// 0 for P1 … 3 for P4.
    pub fn index(self) -> usize {
        self as usize
    }

    /// `P1` … `P4`.
    pub fn as_str(self) -> &'static str {
        ["P1", "P2", "P3", "P4"][self.index()]
    }
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Priority {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "P1" => Ok(Priority::P1),
            "P2" => Ok(Priority::P2),
            "P3" => Ok(Priority::P3),
            "P4" => Ok(Priority::P4),
            other => Err(format!(
                "unknown priority `{other}` (expected P1, P2, P3 or P4)"
            )),
        }
    }
}

/// The outcome of one case at the as-of instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Outcome {
    /// First response at or before the deadline.
    Met,
    /// Responded late, or no response and the deadline has passed.
    Breached,
    /// No response yet and the deadline has not passed.
    Pending,
    /// Closed with no response at or before the deadline (withdrawn).
    Excluded,
}

impl Outcome {
    /// Every outcome, in output order.
    pub const ALL: [Outcome; 4] = [
        Outcome::Met,
        Outcome::Breached,
        Outcome::Pending,
        Outcome::Excluded,
    ];

    /// Position in [`Outcome::ALL`].
    pub fn index(self) -> usize {
        match self {
            Outcome::Met => 0,
            Outcome::Breached => 1,
            Outcome::Pending => 2,
            Outcome::Excluded => 3,
        }
    }

    /// Name in outputs.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Met => "met",
            Outcome::Breached => "breached",
            Outcome::Pending => "pending",
            Outcome::Excluded => "excluded",
        }
    }

    /// Parses an outcome's name.
    pub fn parse(s: &str) -> Option<Outcome> {
        Outcome::ALL.into_iter().find(|o| o.as_str() == s)
    }
}

/// Why a case has its outcome: a stable snake_case code (`case_slt.reason`,
/// and the `reason` of `slt explain`). Each reason belongs to exactly one
/// [`Outcome`]; together they tell apart the cases an outcome lumps
/// together (a breach answered late, never answered, or closed unanswered
/// after the deadline).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Reason {
    /// Met: the first response came at or before the deadline.
    AnsweredInTime,
    /// Breached: the first response came after the deadline.
    AnsweredLate,
    /// Breached: no response, still open, and the deadline has passed.
    UnansweredPastDeadline,
    /// Breached: closed without a response after the deadline.
    ClosedAfterDeadlineUnanswered,
    /// Excluded: closed without a response at or before the deadline.
    ClosedBeforeDeadlineUnanswered,
    /// Pending: no response yet, still open, and the deadline not passed.
    OpenBeforeDeadline,
}

impl Reason {
    /// Every reason, in output order.
    pub const ALL: [Reason; 6] = [
        Reason::AnsweredInTime,
        Reason::AnsweredLate,
        Reason::UnansweredPastDeadline,
        Reason::ClosedAfterDeadlineUnanswered,
        Reason::ClosedBeforeDeadlineUnanswered,
        Reason::OpenBeforeDeadline,
    ];

    /// The code in outputs.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::AnsweredInTime => "answered_in_time",
            Reason::AnsweredLate => "answered_late",
            Reason::UnansweredPastDeadline => "unanswered_past_deadline",
            Reason::ClosedAfterDeadlineUnanswered => "closed_after_deadline_unanswered",
            Reason::ClosedBeforeDeadlineUnanswered => "closed_before_deadline_unanswered",
            Reason::OpenBeforeDeadline => "open_before_deadline",
        }
    }

    /// The outcome this reason gives.
    pub fn outcome(self) -> Outcome {
        match self {
            Reason::AnsweredInTime => Outcome::Met,
            Reason::AnsweredLate
            | Reason::UnansweredPastDeadline
            | Reason::ClosedAfterDeadlineUnanswered => Outcome::Breached,
            Reason::ClosedBeforeDeadlineUnanswered => Outcome::Excluded,
            Reason::OpenBeforeDeadline => Outcome::Pending,
        }
    }

    /// Parses a reason's code.
    pub fn parse(s: &str) -> Option<Reason> {
        Reason::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// The input tables: three required, two optional.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Table {
    /// Contract rows.
    Accounts,
    /// One row per case.
    Cases,
    /// Case history events.
    Events,
    /// Services delivered (optional; see [`crate::entitlements`]).
    Engagements,
    /// Named support contacts (optional; see [`crate::entitlements`]).
    Contacts,
}

impl Table {
    /// Every table, in reading order.
    pub const ALL: [Table; 5] = [
        Table::Accounts,
        Table::Cases,
        Table::Events,
        Table::Engagements,
        Table::Contacts,
    ];

    /// The tables every export must have.
    pub const REQUIRED: [Table; 3] = [Table::Accounts, Table::Cases, Table::Events];

    /// File stem and name in outputs.
    pub fn name(self) -> &'static str {
        match self {
            Table::Accounts => "accounts",
            Table::Cases => "cases",
            Table::Events => "events",
            Table::Engagements => "engagements",
            Table::Contacts => "contacts",
        }
    }

    /// Whether an export must have this table.
    pub fn required(self) -> bool {
        Table::REQUIRED.contains(&self)
    }

    /// The table's canonical columns, required ones first (see [`Column`]).
    pub fn columns(self) -> &'static [Column] {
        use Column as C;
        match self {
            Table::Accounts => &[
                C::Req("account_id"),
                C::Req("tier"),
                C::Req("region"),
                C::Req("valid_from"),
                C::Opt("valid_to"),
            ],
            Table::Cases => &[
                C::Req("case_id"),
                C::Req("account_id"),
                C::Req("priority"),
                C::Req("created_at"),
                C::Opt("closed_at"),
                C::Opt("product"),
                C::Opt("channel"),
                C::Opt("language"),
                C::Opt("contact_id"),
            ],
            Table::Events => &[
                C::Req("case_id"),
                C::Req("at"),
                C::Req("kind"),
                C::Opt("value"),
            ],
            Table::Engagements => &[
                C::Req("account_id"),
                C::Req("kind"),
                C::Req("delivered_at"),
                C::Opt("engagement_id"),
                C::Opt("track"),
                C::Opt("product"),
            ],
            Table::Contacts => &[
                C::Req("account_id"),
                C::Req("product"),
                C::Req("contact_id"),
                C::Req("added_at"),
                C::Opt("removed_at"),
            ],
        }
    }

    /// Parses a table's name.
    pub fn parse(name: &str) -> Option<Table> {
        Table::ALL.into_iter().find(|t| t.name() == name)
    }
}

/// A canonical column of an input table: required or optional.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    /// A column every file of the table must have.
    Req(&'static str),
    /// A column the file may leave out.
    Opt(&'static str),
}

impl Column {
    /// The canonical name.
    pub fn name(self) -> &'static str {
        match self {
            Column::Req(n) | Column::Opt(n) => n,
        }
    }

    /// Whether the column is required.
    pub fn required(self) -> bool {
        matches!(self, Column::Req(_))
    }
}

/// Event kinds of the canonical export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// A public agent response: the one that stops the clock.
    AgentResponse,
    /// An automatic acknowledgement (does not count).
    AutoResponse,
    /// An internal note (does not count).
    InternalNote,
    /// A customer update (does not count).
    CustomerUpdate,
    /// A priority change; the new priority is in `value`.
    PriorityChange,
    /// A status change (informative).
    StatusChange,
    /// Closed (informative; closure is `cases.closed_at`).
    Closed,
    /// Reopened (informative).
    Reopened,
}

impl EventKind {
    /// Every kind, in the order the docs list them.
    pub const ALL: [EventKind; 8] = [
        EventKind::AgentResponse,
        EventKind::AutoResponse,
        EventKind::InternalNote,
        EventKind::CustomerUpdate,
        EventKind::PriorityChange,
        EventKind::StatusChange,
        EventKind::Closed,
        EventKind::Reopened,
    ];

    /// Name in exports.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::AgentResponse => "agent_response",
            EventKind::AutoResponse => "auto_response",
            EventKind::InternalNote => "internal_note",
            EventKind::CustomerUpdate => "customer_update",
            EventKind::PriorityChange => "priority_change",
            EventKind::StatusChange => "status_change",
            EventKind::Closed => "closed",
            EventKind::Reopened => "reopened",
        }
    }

    /// Parses an exact kind name (surrounding blanks ignored).
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        EventKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// A contract in force: half-open `[from, to)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Contract {
    /// Tier index in the policy.
    pub tier: usize,
    /// Region index in the policy.
    pub region: usize,
    /// Zone of the region (contract years are counted on its wall clock).
    pub zone: Tz,
    /// First instant in force.
    pub from: Instant,
    /// First instant no longer in force (`None`: open-ended).
    pub to: Option<Instant>,
}

impl Contract {
    /// Whether the contract is in force at `t`.
    pub fn in_force(&self, t: Instant) -> bool {
        self.from <= t && self.to.is_none_or(|to| t < to)
    }
}

/// A judged case, ready to measure. Text dimensions are shared
/// (`Arc<str>`): a handful of distinct values over millions of cases.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    /// 0-based data row in its file.
    pub row: u32,
    /// `case_id`.
    pub id: Arc<str>,
    /// `account_id`.
    pub account: Arc<str>,
    /// Tier index of the contract in force at creation.
    pub tier: u8,
    /// Region index of the contract in force at creation.
    pub region: u8,
    /// Priority at creation.
    pub priority: Priority,
    /// Creation instant.
    pub created_at: Instant,
    /// Closure instant, if any.
    pub closed_at: Option<Instant>,
    /// `product`, if given.
    pub product: Option<Arc<str>>,
    /// `channel`, if given (entitlements: phone support).
    pub channel: Option<Arc<str>>,
    /// `language`, if given (entitlements: supported languages).
    pub language: Option<Arc<str>>,
}

/// A judged event, ready to measure, in 16 bytes (an export of 10 M cases
/// holds 50 M of them): its case and what it is share one word.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Event {
    /// When it happened.
    pub at: Instant,
    /// 0-based row in the events file: the order of same-instant events.
    pub row: u32,
    /// The case's index (the low 28 bits) and what the event is (the high
    /// 4: a kind's place in [`EventKind::ALL`], or 8 + the new priority's
    /// index for a priority change).
    case_and_what: u32,
}

impl Event {
    /// How many judged cases events can name: 2^28, 268 M.
    pub const MAX_CASES: usize = 1 << 28;
    const CASE_BITS: u32 = 28;
    const CASE_MASK: u32 = (1 << Self::CASE_BITS) - 1;

    /// The event of case `case` (below [`Event::MAX_CASES`]) at `at`, of
    /// `kind`, from row `row`; `priority` is the new priority of a
    /// priority change (ignored for any other kind).
    pub const fn new(
        case: u32,
        at: Instant,
        kind: EventKind,
        priority: Option<Priority>,
        row: u32,
    ) -> Event {
        assert!(
            case <= Self::CASE_MASK,
            "a case index beyond Event::MAX_CASES"
        );
        let what = match (kind, priority) {
            (EventKind::PriorityChange, Some(p)) => 8 + p as u32,
            _ => kind as u32,
        };
        Event {
            at,
            row,
            case_and_what: case | (what << Self::CASE_BITS),
        }
    }

    /// Index of its case in the judged cases.
    #[inline]
    pub fn case(&self) -> u32 {
        self.case_and_what & Self::CASE_MASK
    }

    /// The same event, of the case at index `case` (cases renumbered).
    pub fn with_case(self, case: u32) -> Event {
        assert!(
            case <= Self::CASE_MASK,
            "a case index beyond Event::MAX_CASES"
        );
        Event {
            case_and_what: (self.case_and_what & !Self::CASE_MASK) | case,
            ..self
        }
    }

    /// What it is.
    #[inline]
    pub fn kind(&self) -> EventKind {
        match self.case_and_what >> Self::CASE_BITS {
            what @ 0..8 => EventKind::ALL[what as usize],
            _ => EventKind::PriorityChange,
        }
    }

    /// New priority of a priority change.
    #[inline]
    pub fn priority(&self) -> Option<Priority> {
        match self.case_and_what >> Self::CASE_BITS {
            what @ 8.. => Some(Priority::ALL[what as usize - 8]),
            _ => None,
        }
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event")
            .field("case", &self.case())
            .field("at", &self.at)
            .field("kind", &self.kind())
            .field("priority", &self.priority())
            .field("row", &self.row)
            .finish()
    }
}

/// Kinds of engagement (the `kind` column of `engagements`): the services a
/// tier may include.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Service {
    /// A service review (Elite: 4 a year).
    ServiceReview,
    /// A 60-minute expert session (Elite: 4 a year).
    ExpertSession,
    /// A field service activity, technical or strategic (Elite: 4 a year).
    FieldActivity,
    /// Launch Advisory for a new solution (Elite).
    LaunchAdvisory,
    /// A case review (Elite).
    CaseReview,
}

impl Service {
    /// Every service, in output order.
    pub const ALL: [Service; 5] = [
        Service::ServiceReview,
        Service::ExpertSession,
        Service::FieldActivity,
        Service::LaunchAdvisory,
        Service::CaseReview,
    ];

    /// Name as in exports and outputs.
    pub fn as_str(self) -> &'static str {
        match self {
            Service::ServiceReview => "service_review",
            Service::ExpertSession => "expert_session",
            Service::FieldActivity => "field_activity",
            Service::LaunchAdvisory => "launch_advisory",
            Service::CaseReview => "case_review",
        }
    }

    /// Parses an exact service name.
    pub fn parse(s: &str) -> Option<Service> {
        Service::ALL.into_iter().find(|k| k.as_str() == s.trim())
    }
}

/// Track of a field activity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Track {
    /// Health audit, monitoring, activation, integrations, troubleshooting…
    Technical,
    /// Maturity roadmap, use cases, reporting, best practices…
    Strategic,
}

impl Track {
    /// Parses `technical` or `strategic`.
    pub fn parse(s: &str) -> Option<Track> {
        match s.trim() {
            "technical" => Some(Track::Technical),
            "strategic" => Some(Track::Strategic),
            _ => None,
        }
    }

    /// Name as in exports.
    pub fn as_str(self) -> &'static str {
        match self {
            Track::Technical => "technical",
            Track::Strategic => "strategic",
        }
    }
}

/// A delivered service (an `engagements` row), judged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Engagement {
    /// 0-based data row in its file.
    pub row: u32,
    /// Account id.
    pub account: Arc<str>,
    /// `engagement_id`, when the table has one.
    pub id: Option<Box<str>>,
    /// What was delivered.
    pub service: Service,
    /// Track of a field activity.
    pub track: Option<Track>,
    /// When it was delivered.
    pub delivered_at: Instant,
    /// Product it was about, if given (one shared copy per product).
    pub product: Option<Arc<str>>,
    /// Tier index of the contract in force at `delivered_at`.
    pub tier: usize,
}

impl Engagement {
    /// Its `engagement_id`, or `row N` (1-based data row) without one.
    pub fn evidence(&self) -> String {
        self.id
            .as_deref()
            .map_or_else(|| format!("row {}", self.row + 1), str::to_string)
    }
}

/// A contact named on a product (a `contacts` row), judged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    /// 0-based data row in its file.
    pub row: u32,
    /// Account id.
    pub account: Arc<str>,
    /// Product the contact is named on (one shared copy per product).
    pub product: Arc<str>,
    /// Contact id.
    pub contact_id: Arc<str>,
    /// When the contact was named.
    pub added_at: Instant,
    /// When the contact was removed (`None`: still named).
    pub removed_at: Option<Instant>,
}

/// One measured case: a row of `case_slt`, as the aggregates, the charts
/// and the review pack read it.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseRow {
    /// Case id.
    pub case_id: Arc<str>,
    /// Account id.
    pub account_id: Arc<str>,
    /// Tier of the contract in force at creation.
    pub tier: Arc<str>,
    /// Region of the contract in force at creation.
    pub region: Arc<str>,
    /// Product, if given.
    pub product: Option<Arc<str>>,
    /// Priority the case is reported under (in force when the measurement ended).
    pub priority: Priority,
    /// Priority at creation.
    pub initial_priority: Priority,
    /// Priority changes that took effect.
    pub priority_changes: u32,
    /// Creation instant.
    pub created_at: Instant,
    /// Clock start in force.
    pub clock_start: Instant,
    /// Coverage in force.
    pub coverage: Coverage,
    /// Target in force, business minutes.
    pub target_minutes: i64,
    /// Deadline in force.
    pub deadline: Instant,
    /// First public agent response that counted.
    pub first_response_at: Option<Instant>,
    /// Business minutes from clock start to the response.
    pub response_minutes: Option<f64>,
    /// Outcome at the as-of instant.
    pub outcome: Outcome,
    /// Business minutes past the target (breached cases with a response).
    pub breach_minutes: Option<f64>,
    /// Quarter and month of creation in the report zone, shared by every
    /// case of that month ([`CaseRow::period`], [`CaseRow::month`]).
    pub labels: Arc<PeriodLabels>,
    /// Why the case has its outcome.
    pub reason: Reason,
}

impl CaseRow {
    /// Quarter of creation in the report zone (`2026-Q3`).
    pub fn period(&self) -> &str {
        &self.labels.period
    }

    /// Month of creation in the report zone (`2026-07`).
    pub fn month(&self) -> &str {
        &self.labels.month
    }
}

/// The labels of a month of creation: its quarter (`2026-Q3`) and itself
/// (`2026-07`). One pair is shared by every case of the month, so that a
/// row holds one pointer for both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeriodLabels {
    /// Quarter (`2026-Q3`).
    pub period: Box<str>,
    /// Month (`2026-07`).
    pub month: Box<str>,
}

/// A calendar month, as periods are cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    /// Year.
    pub year: i32,
    /// 1–12.
    pub month: u32,
}

impl Month {
    /// The month of instant `t` on the wall clock of `zone`.
    pub fn of(t: Instant, zone: Tz) -> Month {
        let local = to_datetime(t).with_timezone(&zone);
        Month {
            year: local.year(),
            month: local.month(),
        }
    }

    /// `2026-07`.
    pub fn label(self) -> String {
        format!("{}-{:02}", self.year, self.month)
    }

    /// The quarter it falls in.
    pub fn quarter(self) -> Quarter {
        Quarter {
            year: self.year,
            quarter: (self.month - 1) / 3 + 1,
        }
    }
}

/// A calendar quarter: the `period` of a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Quarter {
    /// Year.
    pub year: i32,
    /// 1–4.
    pub quarter: u32,
}

impl Quarter {
    /// `2026-Q3`.
    pub fn label(self) -> String {
        format!("{}-Q{}", self.year, self.quarter)
    }

    /// Parses `YYYY-Qn`.
    pub fn parse(s: &str) -> Option<Quarter> {
        let (y, q) = s.split_once("-Q")?;
        let (year, quarter) = (y.parse().ok()?, q.parse().ok()?);
        (y.len() == 4 && (1..=4).contains(&quarter)).then_some(Quarter { year, quarter })
    }

    /// The quarter before.
    pub fn previous(self) -> Quarter {
        if self.quarter == 1 {
            Quarter {
                year: self.year - 1,
                quarter: 4,
            }
        } else {
            Quarter {
                year: self.year,
                quarter: self.quarter - 1,
            }
        }
    }

    /// Its three months.
    pub fn months(self) -> [Month; 3] {
        let first = (self.quarter - 1) * 3 + 1;
        [0, 1, 2].map(|i| Month {
            year: self.year,
            month: first + i,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timestamp::parse_rfc3339;

    #[test]
    fn an_event_gives_back_its_case_kind_priority_and_row_in_16_bytes() {
        assert_eq!(std::mem::size_of::<Event>(), 16);
        let last = (Event::MAX_CASES - 1) as u32;
        let priorities = std::iter::once(None).chain(Priority::ALL.map(Some));
        for kind in EventKind::ALL {
            for priority in priorities.clone() {
                for case in [0, 1, 123_456, last] {
                    let e = Event::new(case, -42, kind, priority, 7);
                    assert_eq!((e.case(), e.at, e.kind(), e.row), (case, -42, kind, 7));
                    // Only a priority change carries its new priority.
                    let carried = priority.filter(|_| kind == EventKind::PriorityChange);
                    assert_eq!(e.priority(), carried, "{kind:?} {priority:?}");
                    let moved = e.with_case(last - case);
                    assert_eq!(moved.case(), last - case);
                    assert_eq!((moved.kind(), moved.priority()), (e.kind(), e.priority()));
                }
            }
        }
    }

    #[test]
    #[should_panic(expected = "beyond Event::MAX_CASES")]
    fn an_event_refuses_a_case_index_it_cannot_hold() {
        Event::new(Event::MAX_CASES as u32, 0, EventKind::Closed, None, 0);
    }

    #[test]
    fn a_case_created_on_the_last_evening_of_a_quarter_in_los_angeles() {
        // 30 Sep 18:55 PDT is 1 Oct 01:55 UTC.
        let t = parse_rfc3339("2026-09-30T18:55:00-07:00").unwrap();
        let la: Tz = "America/Los_Angeles".parse().unwrap();
        assert_eq!(Month::of(t, la).quarter().label(), "2026-Q3");
        assert_eq!(Month::of(t, Tz::UTC).quarter().label(), "2026-Q4");
        assert_eq!(Month::of(t, Tz::UTC).label(), "2026-10");
    }

    #[test]
    fn an_outcome_and_a_priority_index_their_lists() {
        for (i, o) in Outcome::ALL.iter().enumerate() {
            assert_eq!(o.index(), i, "{o:?}");
        }
        for (i, p) in Priority::ALL.iter().enumerate() {
            assert_eq!(p.index(), i, "{p:?}");
        }
    }

    #[test]
    fn quarters_parse_and_step_back_across_years() {
        let q = Quarter::parse("2026-Q1").unwrap();
        assert_eq!(q.previous().label(), "2025-Q4");
        assert_eq!(
            q.months().map(Month::label),
            ["2026-01", "2026-02", "2026-03"]
        );
        assert!(Quarter::parse("2026-Q5").is_none());
        assert!(Quarter::parse("26-Q1").is_none());
    }

    #[test]
    fn every_reason_has_one_outcome_and_every_outcome_a_reason() {
        for r in Reason::ALL {
            assert_eq!(Reason::parse(r.as_str()), Some(r));
        }
        for o in Outcome::ALL {
            assert!(Reason::ALL.iter().any(|r| r.outcome() == o), "{o:?}");
        }
    }

    #[test]
    fn every_table_lists_its_required_columns_first() {
        for t in Table::ALL {
            let cols = t.columns();
            let first_optional = cols
                .iter()
                .position(|c| !c.required())
                .unwrap_or(cols.len());
            assert!(
                cols[first_optional..].iter().all(|c| !c.required()),
                "{t:?}"
            );
            assert_eq!(Table::parse(t.name()), Some(t));
        }
    }
}
