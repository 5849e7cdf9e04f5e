//! Calendar questions, as `slt calendar elapsed|deadline` asks them: parsing
//! a question's fields against a policy, sizing the table it needs, and
//! answering it. Pure: reading and writing the CSV is the command's.

use crate::calendar::holidays::Holidays;
use crate::calendar::{micros_to_minutes, Calendar, Coverage};
use crate::policy::Policy;
use crate::timestamp::{format_rfc3339, parse_rfc3339, Instant, MICROS_PER_MINUTE};

/// The two questions.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Op {
    /// Business minutes in `[start, end)`.
    Elapsed,
    /// The deadline of a target added at `start`.
    Deadline,
}

impl Op {
    /// The CSV column holding the second operand.
    pub fn second_column(self) -> &'static str {
        match self {
            Op::Elapsed => "end",
            Op::Deadline => "minutes",
        }
    }
    /// The CSV column the answer is written to.
    pub fn answer_column(self) -> &'static str {
        match self {
            Op::Elapsed => "business_minutes",
            Op::Deadline => "deadline",
        }
    }
}

/// Parses a target in minutes (decimals allowed) into microseconds.
fn parse_minutes(text: &str) -> std::result::Result<i64, String> {
    let m: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a number of minutes"))?;
    if !m.is_finite() || !(0.0..=1e9).contains(&m) {
        return Err(format!(
            "`{text}` is not a number of minutes between 0 and 1e9"
        ));
    }
    Ok((m * MICROS_PER_MINUTE as f64).round() as i64)
}

/// One parsed question.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Question {
    /// Region index in the policy.
    pub region: usize,
    /// Coverage asked about.
    pub coverage: Coverage,
    /// Start instant.
    pub start: Instant,
    /// End instant (elapsed) or target microseconds (deadline).
    pub second: i64,
}

/// Parses one question's four fields; `Err` says what is wrong.
pub fn parse_question(
    policy: &Policy,
    region: &str,
    coverage: &str,
    start: &str,
    second: &str,
    op: Op,
) -> std::result::Result<Question, String> {
    let region_index = policy.region_index(region.trim()).ok_or_else(|| {
        let known: Vec<&str> = policy.regions.iter().map(|r| r.name.as_str()).collect();
        format!(
            "unknown region `{region}` (expected one of {})",
            known.join(", ")
        )
    })?;
    let coverage: Coverage = coverage.parse()?;
    let start = parse_rfc3339(start).map_err(|e| format!("start: {e}"))?;
    let second = match op {
        Op::Elapsed => parse_rfc3339(second).map_err(|e| format!("end: {e}"))?,
        Op::Deadline => parse_minutes(second)?,
    };
    Ok(Question {
        region: region_index,
        coverage,
        start,
        second,
    })
}

/// Nominal open minutes per week of every region × coverage (`[24x7, 24x5,
/// business_hours]`), before holidays, for sizing deadline tables.
pub fn weekly_minutes(policy: &Policy) -> Vec<[i64; 3]> {
    let none = Holidays::default();
    (0..policy.regions.len())
        .map(|r| {
            Coverage::ALL.map(|c| match policy.window(r, c, &none) {
                None => 7 * 24 * 60,
                Some(w) => (w.open_seconds_per_week() / 60) as i64,
            })
        })
        .collect()
}

/// The instant range a question touches, for sizing the calendar tables.
pub fn span(q: &Question, op: Op, weekly: &[[i64; 3]]) -> (Instant, Instant) {
    match op {
        Op::Elapsed => (q.start.min(q.second), q.start.max(q.second)),
        // Size generously: count on half of a year's weeks of the schedule's
        // open time (holidays rarely close more), and never on more than
        // 50 000 minutes a year (office hours give ~100 000).
        Op::Deadline => {
            let c = Coverage::ALL
                .iter()
                .position(|&c| c == q.coverage)
                .unwrap_or(0);
            let per_year = (weekly[q.region][c] * 26).min(50_000);
            let years = if per_year == 0 {
                i64::MAX
            } else {
                q.second / (per_year * MICROS_PER_MINUTE) + 1
            };
            let reach = years.saturating_mul(366 * 86_400 * 1_000_000);
            (
                q.start,
                q.start
                    .saturating_add(reach)
                    .min(crate::timestamp::MAX_INSTANT - 1),
            )
        }
    }
}

/// The answer as printed: minutes, or an RFC 3339 UTC deadline.
pub fn answer(calendar: &Calendar, q: &Question, op: Op) -> std::result::Result<String, String> {
    match op {
        Op::Elapsed => calendar
            .elapsed(q.start, q.second)
            .map(|m| micros_to_minutes(m).to_string())
            .map_err(|e| e.to_string()),
        Op::Deadline => calendar
            .deadline(q.start, q.second)
            .map(format_rfc3339)
            .map_err(|e| e.to_string()),
    }
}
