//! `slt generate`: a seeded synthetic export (the demo, or millions of
//! cases), canonical or in a vendor's native files (`--source`).

use crate::cli::GenerateArgs;
use crate::generate::vendor::generate_vendor;
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
    if let Some(kind) = args.source {
        let summary = generate_vendor(&options, kind, &args.out).map_err(|e| Error::Write {
            path: args.out.clone(),
            reason: e.to_string(),
        })?;
        Progress::new("generate", args.quiet, log_format).done(
            &format!(
                "wrote a {kind} export of {} cases and {} events ({} files) and {} accounts to {}",
                summary.cases,
                summary.events,
                summary.files,
                summary.accounts,
                args.out.display()
            ),
            serde_json::json!({
                "source": kind.name(),
                "accounts": summary.accounts,
                "cases": summary.cases,
                "events": summary.events,
                "files": summary.files,
                "out": args.out.display().to_string(),
            }),
        );
        return Ok(Exit::Success);
    }
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
