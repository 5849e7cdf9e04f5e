//! `slt generate`: a seeded synthetic export (the demo, or millions of
//! cases), canonical or in a vendor's native files (`--source`).
//!
//! The export is written like every slt output: into a staging directory
//! beside `--out`, swapped in when complete, with a `manifest.json` (kind
//! `export`) that lets a later `slt generate` replace it; `--out` is guarded
//! like `slt report`'s ([`crate::output::guard`]).

use crate::cli::GenerateArgs;
use crate::generate::vendor::generate_vendor;
use crate::generate::{generate, GenerateOptions};
use crate::output::guard::{self, OutputKind};
use crate::output::lock::Lock;
use crate::output::Staging;
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
    guard::check(&args.out, OutputKind::Export, guard::Inputs::default())?;
    let _lock = Lock::acquire(&args.out)?;
    let staging = Staging::new(&args.out)?;
    let write_error = |e: std::io::Error| Error::Write {
        path: args.out.clone(),
        reason: e.to_string(),
    };
    let (message, fields) = match args.source {
        Some(kind) => {
            let summary = generate_vendor(&options, kind, staging.dir()).map_err(write_error)?;
            (
                format!(
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
            )
        }
        None => {
            let summary = generate(&options, staging.dir()).map_err(write_error)?;
            (
                format!(
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
            )
        }
    };
    let manifest = serde_json::json!({
        "tool": "slt",
        "kind": OutputKind::Export.as_str(),
        "version": env!("CARGO_PKG_VERSION"),
        "generated": {
            "source": args.source.map_or("canonical", |k| k.name()),
            "seed": options.seed,
            "cases": options.cases,
            "accounts": options.accounts,
            "year": options.year,
            "bad_rows": options.bad_rows,
        },
    });
    let path = staging.file("manifest.json");
    std::fs::write(
        &path,
        serde_json::to_string_pretty(&manifest).expect("json") + "\n",
    )
    .map_err(|e| Error::Write {
        path,
        reason: e.to_string(),
    })?;
    staging.commit()?;
    Progress::new("generate", args.quiet, log_format).done(&message, fields);
    Ok(Exit::Success)
}
