//! `slt explain CASE_ID`: one case's clock, step by step (see
//! [`crate::explain`]), as text or one JSON object on standard output.

use std::io::Write;

use crate::cli::{ExplainArgs, ExplainFormat};
use crate::config::Settings;
use crate::explain::explain;
use crate::progress::{LogFormat, Progress};
use crate::{pipeline, Error, Exit, Result};

/// Runs `slt explain`.
pub fn run(args: ExplainArgs, log_format: LogFormat) -> Result<Exit> {
    let settings = Settings::from_args(&args.measure)?;
    let progress = Progress::new("explain", true, log_format);
    let judged = pipeline::judged(&settings, &progress)?;
    let explanation = explain(&judged, &settings, &args.case_id)?;
    let text = match args.format {
        ExplainFormat::Text => explanation.to_text(),
        ExplainFormat::Json => {
            serde_json::to_string_pretty(&explanation.to_json()).expect("json") + "\n"
        }
    };
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(Error::Stdout)?;
    Ok(Exit::Success)
}
