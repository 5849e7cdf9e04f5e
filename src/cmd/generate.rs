//! `slt generate`: a seeded synthetic export (the demo, or millions of cases).
//!
//! The export is written like every slt output: into a staging directory
//! beside `--out`, swapped in when complete, with a `manifest.json` (kind
//! `export`) that lets a later `slt generate` replace it; `--out` is guarded
//! like `slt report`'s ([`crate::output::guard`]).

use crate::cli::GenerateArgs;
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
    let summary = generate(&options, staging.dir()).map_err(|e| Error::Write {
        path: args.out.clone(),
        reason: e.to_string(),
    })?;
    let manifest = serde_json::json!({
        "tool": "slt",
        "kind": OutputKind::Export.as_str(),
        "version": env!("CARGO_PKG_VERSION"),
        "generated": {
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
