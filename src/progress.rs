//! Telling whoever runs slt what it is doing: a progress bar per stage on a
//! terminal, one plain line per stage under cron (no terminal), one JSON
//! object per line with `--log-format json` for log collectors, nothing
//! with `--quiet`.
//!
//! Plain lines are held until the run succeeds, so that a failed run still
//! prints exactly one line, its reason (the stable command line's contract);
//! bars and JSON lines are live.
//!
//! Everything goes to standard error; standard output stays for data
//! (`slt calendar`, `slt query`). Log lines carry the wall clock (JSON's
//! `ts`), output files never do.

use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use clap::ValueEnum;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::{json, Map, Value};

/// `--log-format`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Progress bars on a terminal, plain lines otherwise.
    #[default]
    Text,
    /// One JSON object per line (`ts`, `level`, `event`, `message`, …).
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Silent,
    Bars,
    Lines,
    Json,
}

/// Where a run's progress goes, chosen once per run.
pub struct Progress {
    mode: Mode,
    command: &'static str,
    bars: Option<MultiProgress>,
    /// Plain lines waiting for the run to succeed.
    held: Mutex<Vec<String>>,
}

impl Progress {
    /// Bars when standard error is a terminal (and `TERM` is not `dumb`),
    /// plain lines otherwise; JSON lines when asked; nothing when quiet.
    pub fn new(command: &'static str, quiet: bool, format: LogFormat) -> Progress {
        let terminal =
            std::io::stderr().is_terminal() && std::env::var_os("TERM").is_none_or(|t| t != "dumb");
        let mode = match (quiet, format) {
            (true, _) => Mode::Silent,
            (false, LogFormat::Json) => Mode::Json,
            (false, LogFormat::Text) if terminal => Mode::Bars,
            (false, LogFormat::Text) => Mode::Lines,
        };
        let bars = (mode == Mode::Bars)
            .then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
        Progress {
            mode,
            command,
            bars,
            held: Mutex::default(),
        }
    }

    /// Reports nothing (library callers, tests).
    pub fn silent() -> Progress {
        Progress {
            mode: Mode::Silent,
            command: "",
            bars: None,
            held: Mutex::default(),
        }
    }

    /// Starts a stage; `total` makes it a bar over that many items, else a
    /// spinner.
    pub fn stage(&self, name: &'static str, total: Option<u64>) -> Stage<'_> {
        let bar = self.bars.as_ref().map(|multi| {
            let bar = match total {
                Some(n) => ProgressBar::new(n).with_style(style(
                    "{spinner:.cyan} {prefix:<13.bold} [{bar:32.cyan/blue}] {human_pos}/{human_len} {elapsed:>3} {msg}",
                )),
                None => ProgressBar::new_spinner()
                    .with_style(style("{spinner:.cyan} {prefix:<13.bold} {elapsed:>3} {msg}")),
            };
            let bar = multi.add(bar.with_prefix(name));
            bar.enable_steady_tick(Duration::from_millis(100));
            bar
        });
        Stage {
            progress: self,
            name,
            bar,
            started: Instant::now(),
        }
    }

    /// The run's last line: what it did. `fields` (a JSON object) is merged
    /// into the JSON line, with `exit_code` 0.
    pub fn done(&self, message: &str, fields: Value) {
        self.finish_run(message, fields, None);
    }

    /// The last line of a run that wrote its outputs but exits 1
    /// (`--fail-on-rejects`): `warning` says why and where to look. It is
    /// printed even with `--quiet`, so a cron log always has the reason; the
    /// JSON line has level `warn` and `exit_code` 1.
    pub fn done_with_warning(&self, message: &str, fields: Value, warning: &str) {
        self.finish_run(message, fields, Some(warning));
    }

    fn finish_run(&self, message: &str, fields: Value, warning: Option<&str>) {
        match self.mode {
            Mode::Silent => {}
            // Every stage has finished: its bar stays on screen as drawn.
            Mode::Bars => line(&format!("slt: {message}")),
            Mode::Lines => {
                let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
                for text in held.drain(..) {
                    line(&text);
                }
                line(&format!("slt: {message}"));
            }
            Mode::Json => {
                let mut fields = fields;
                if let Value::Object(map) = &mut fields {
                    map.insert("exit_code".into(), json!(u8::from(warning.is_some())));
                    if let Some(w) = warning {
                        map.insert("warning".into(), json!(w));
                    }
                }
                let level = if warning.is_some() { "warn" } else { "info" };
                self.json(level, "done", None, message, fields);
                return;
            }
        }
        if let Some(w) = warning {
            line(&format!("slt: {w}"));
        }
    }

    fn json(
        &self,
        level: &str,
        event: &str,
        stage: Option<(&str, Duration)>,
        message: &str,
        fields: Value,
    ) {
        line(&json_line(
            self.command,
            level,
            event,
            stage,
            message,
            fields,
        ));
    }
}

/// One JSON log line (no newline). `ts` is the wall clock, UTC.
fn json_line(
    command: &str,
    level: &str,
    event: &str,
    stage: Option<(&str, Duration)>,
    message: &str,
    fields: Value,
) -> String {
    let mut object = Map::new();
    object.insert(
        "ts".into(),
        json!(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
    );
    object.insert("level".into(), json!(level));
    if !command.is_empty() {
        object.insert("command".into(), json!(command));
    }
    object.insert("event".into(), json!(event));
    if let Some((name, took)) = stage {
        object.insert("stage".into(), json!(name));
        object.insert("elapsed_ms".into(), json!(took.as_millis() as u64));
    }
    object.insert("message".into(), json!(message));
    if let Value::Object(extra) = fields {
        for (k, v) in extra {
            object.entry(k).or_insert(v);
        }
    }
    Value::Object(object).to_string()
}

/// The line `main` prints when a command fails, in the chosen format.
pub fn error_line(format: LogFormat, message: &str, exit_code: u8) -> String {
    match format {
        LogFormat::Text => format!("slt: {message}"),
        LogFormat::Json => json_line(
            "",
            "error",
            "error",
            None,
            message,
            json!({ "exit_code": exit_code }),
        ),
    }
}

/// A line about one bad piece of input that does not stop the command
/// (`slt calendar --batch`): plain, or JSON with `fields` merged in.
pub fn warning_line(format: LogFormat, message: &str, fields: Value) -> String {
    match format {
        LogFormat::Text => format!("slt: {message}"),
        LogFormat::Json => json_line("", "warn", "warning", None, message, fields),
    }
}

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template)
        .expect("progress templates are valid")
        .progress_chars("=> ")
}

/// Writes one line to standard error; a closed standard error is ignored.
fn line(text: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{text}");
}

/// One stage of a run, from [`Progress::stage`] to [`Stage::finish`].
pub struct Stage<'a> {
    progress: &'a Progress,
    name: &'static str,
    bar: Option<ProgressBar>,
    started: Instant,
}

impl Stage<'_> {
    /// Advances a bar stage by `n` items (callable from worker threads).
    pub fn inc(&self, n: u64) {
        if let Some(bar) = &self.bar {
            bar.inc(n);
        }
    }

    /// Ends the stage with a one-line summary; returns how long it took.
    /// `fields` (a JSON object) is merged into the JSON line.
    pub fn finish(self, message: &str, fields: Value) -> Duration {
        let took = self.started.elapsed();
        match self.progress.mode {
            Mode::Silent => {}
            Mode::Bars => {
                if let Some(bar) = &self.bar {
                    bar.set_style(style("  {prefix:<13.bold} {msg}"));
                    bar.finish_with_message(format!("{message} ({})", seconds(took)));
                }
            }
            Mode::Lines => self
                .progress
                .held
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(format!("slt: {}: {message} ({})", self.name, seconds(took))),
            Mode::Json => {
                self.progress
                    .json("info", "stage", Some((self.name, took)), message, fields)
            }
        }
        took
    }
}

fn seconds(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_lines_carry_stage_timing_and_fields_without_overwriting_the_envelope() {
        let text = json_line(
            "report",
            "info",
            "stage",
            Some(("read", Duration::from_millis(1234))),
            "3 tables",
            json!({ "rows": 12, "event": "not me" }),
        );
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["command"], "report");
        assert_eq!(v["event"], "stage");
        assert_eq!(v["stage"], "read");
        assert_eq!(v["elapsed_ms"], 1234);
        assert_eq!(v["rows"], 12);
        assert_eq!(v["message"], "3 tables");
        assert!(v["ts"].as_str().unwrap().ends_with('Z'));
        assert!(!text.contains('\n'));
    }

    #[test]
    fn error_lines_are_plain_or_json_with_the_exit_code() {
        assert_eq!(
            error_line(LogFormat::Text, "no such file", 3),
            "slt: no such file"
        );
        let v: Value =
            serde_json::from_str(&error_line(LogFormat::Json, "no \"such\"\nfile", 3)).unwrap();
        assert_eq!(v["level"], "error");
        assert_eq!(v["exit_code"], 3);
        assert_eq!(v["message"], "no \"such\"\nfile");
    }
}
