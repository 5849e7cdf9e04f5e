//! `slt calendar elapsed|deadline`: the calendar engine on the command line,
//! one question or a CSV batch of millions (see [`crate::questions`]).

use std::io::Write;
use std::path::Path;

use crate::calendar::years_spanning;
use crate::cli::{CalendarCommand, CalendarOptions};
use crate::progress::{warning_line, LogFormat};
use crate::questions::{answer, parse_question, span, weekly_minutes, Op};
use crate::{Error, Exit, Result};

/// Runs `slt calendar …`.
pub fn run(command: CalendarCommand, log_format: LogFormat) -> Result<Exit> {
    match command {
        CalendarCommand::Elapsed(a) => match a.options.batch.as_deref() {
            Some(path) => batch(&a.options, path, Op::Elapsed, log_format),
            None => {
                let (start, end) = (a.start.unwrap_or_default(), a.end.unwrap_or_default());
                single(&a.options, &start, &end, Op::Elapsed)
            }
        },
        CalendarCommand::Deadline(a) => match a.options.batch.as_deref() {
            Some(path) => batch(&a.options, path, Op::Deadline, log_format),
            None => {
                let (start, minutes) = (a.start.unwrap_or_default(), a.minutes.unwrap_or_default());
                single(&a.options, &start, &minutes, Op::Deadline)
            }
        },
    }
}

fn single(options: &CalendarOptions, start: &str, second: &str, op: Op) -> Result<Exit> {
    let (policy, _) = crate::config::load_policy(options.policy.as_deref())?;
    let (holidays, _) = crate::config::load_holidays(options.holidays.as_deref())?;
    let region = options.region.as_deref().unwrap_or_default();
    let coverage = options.coverage.as_deref().unwrap_or_default();
    let q = parse_question(&policy, region, coverage, start, second, op).map_err(Error::Usage)?;
    let (lo, hi) = span(&q, op, &weekly_minutes(&policy));
    let calendar = policy.calendar(q.region, q.coverage, &holidays, years_spanning(lo, hi));
    let text = answer(&calendar, &q, op).map_err(Error::Usage)?;
    writeln!(std::io::stdout(), "{text}").map_err(Error::Stdout)?;
    Ok(Exit::Success)
}

fn batch(options: &CalendarOptions, path: &Path, op: Op, log_format: LogFormat) -> Result<Exit> {
    let warn = |line: usize, reason: &str| {
        eprintln!(
            "{}",
            warning_line(
                log_format,
                &format!("{}: line {line}: {reason}", path.display()),
                serde_json::json!({ "file": path.display().to_string(), "line": line }),
            )
        );
    };
    let (policy, _) = crate::config::load_policy(options.policy.as_deref())?;
    let (holidays, _) = crate::config::load_holidays(options.holidays.as_deref())?;
    let input_error = |reason: String| Error::Input {
        path: path.into(),
        reason,
    };
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(path)
        .map_err(|e| input_error(e.to_string()))?;
    let headers = reader
        .headers()
        .map_err(|e| input_error(e.to_string()))?
        .clone();
    let column = |name: &str| {
        headers
            .iter()
            .position(|h| h.trim_start_matches('\u{feff}').trim() == name)
            .ok_or_else(|| input_error(format!("missing column `{name}`")))
    };
    let cols = [
        column("region")?,
        column("coverage")?,
        column("start")?,
        column(op.second_column())?,
    ];

    // Each row is parsed as it is read, and its fields kept for the
    // output (the calendars are built once every question's years are
    // known) in one buffer: a record, four copies of its fields and a
    // vector per row cost more in the allocator than the answers took.
    let mut kept = Kept::default();
    let mut questions = Vec::new();
    let mut record = csv::StringRecord::new();
    for i in 0.. {
        let line = i + 2;
        let parsed = match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let field = |c: usize| record.get(c).unwrap_or("");
                let q = parse_question(
                    &policy,
                    field(cols[0]),
                    field(cols[1]),
                    field(cols[2]),
                    field(cols[3]),
                    op,
                );
                kept.push(Some(&record));
                q
            }
            Err(e) => {
                kept.push(None);
                Err(e.to_string())
            }
        };
        if let Err(reason) = &parsed {
            warn(line, reason);
        }
        questions.push(parsed.ok());
    }
    let weekly = weekly_minutes(&policy);
    let bounds = questions
        .iter()
        .flatten()
        .map(|q| span(q, op, &weekly))
        .reduce(|a, b| (a.0.min(b.0), a.1.max(b.1)));
    let calendars = bounds.map(|(lo, hi)| policy.calendars(&holidays, years_spanning(lo, hi)));

    let stdout = std::io::stdout();
    let mut out = csv::Writer::from_writer(std::io::BufWriter::new(stdout.lock()));
    let mut header: Vec<String> = headers.iter().map(str::to_string).collect();
    header.push(op.answer_column().to_string());
    let csv_err = |e: csv::Error| match e.into_kind() {
        csv::ErrorKind::Io(io) => Error::Stdout(io),
        other => Error::Internal(format!("{other:?}")),
    };
    out.write_record(&header).map_err(csv_err)?;
    for (i, q) in questions.iter().enumerate() {
        let value = match (q, &calendars) {
            (Some(q), Some(cals)) => match answer(cals.get(q.region, q.coverage), q, op) {
                Ok(v) => v,
                Err(reason) => {
                    warn(i + 2, &reason);
                    String::new()
                }
            },
            _ => String::new(),
        };
        // The row's fields, as many as the header has (padded with empty
        // ones, or cut), then the answer.
        let fields = kept.fields(i).chain(std::iter::repeat(""));
        let row = fields.take(headers.len()).chain([value.as_str()]);
        out.write_record(row).map_err(csv_err)?;
    }
    out.flush().map_err(Error::Stdout)?;
    Ok(Exit::Success)
}

/// The fields of every row of a batch, in one buffer.
#[derive(Default)]
struct Kept {
    /// Every field's text, one after the other.
    text: String,
    /// Where each field ends in `text`.
    ends: Vec<usize>,
    /// Each row's fields (a range of `ends`), `None` for a row unread.
    rows: Vec<Option<(usize, usize)>>,
}

impl Kept {
    /// Keeps the fields of the next row (`None`: it could not be read).
    fn push(&mut self, record: Option<&csv::StringRecord>) {
        let row = record.map(|record| {
            let first = self.ends.len();
            for field in record {
                self.text.push_str(field);
                self.ends.push(self.text.len());
            }
            (first, self.ends.len())
        });
        self.rows.push(row);
    }

    /// The fields of row `i` (none for a row unread).
    fn fields(&self, i: usize) -> impl Iterator<Item = &str> {
        let (first, end) = self.rows[i].unwrap_or((0, 0));
        (first..end).map(move |f| {
            let start = if f == 0 { 0 } else { self.ends[f - 1] };
            &self.text[start..self.ends[f]]
        })
    }
}
