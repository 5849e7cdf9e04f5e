//! `slt generate`: a seeded synthetic export (the demo, or millions of cases).

use crate::cli::GenerateArgs;
use crate::generate::{generate, GenerateOptions};
use crate::progress::{LogFormat, Progress};
use crate::{Error, Exit, Result};

/// Runs `slt generate`.
pub fn run(args: GenerateArgs, log_format: LogFormat) -> Result<Exit> {
    let options = GenerateOptions {
        seed: args.seed,
        cases: args.cases,
        accounts: args.accounts,
        year: args.year,
        bad_rows: !args.no_bad_rows,
    };
    let summary = generate(&options, &args.out).map_err(|e| Error::Write {
        path: args.out.clone(),
        reason: e.to_string(),
    })?;
    Progress::new("generate", args.quiet, log_format).done(
        &format!(
            "wrote {} accounts, {} cases, {} events to {}",
            summary.accounts,
            summary.cases,
            summary.events,
            args.out.display()
        ),
        serde_json::json!({
            "accounts": summary.accounts,
            "cases": summary.cases,
            "events": summary.events,
            "out": args.out.display().to_string(),
        }),
    );
    Ok(Exit::Success)
}
