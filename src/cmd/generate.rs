//! `slt generate`: a seeded synthetic export (the demo, or millions of cases).

use std::io::Write;

use crate::cli::GenerateArgs;
use crate::generate::{generate, GenerateOptions};
use crate::{Error, Exit, Result};

/// Runs `slt generate`.
pub fn run(args: GenerateArgs) -> Result<Exit> {
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
    writeln!(
        std::io::stderr(),
        "slt: wrote {} accounts, {} cases, {} events to {}",
        summary.accounts,
        summary.cases,
        summary.events,
        args.out.display()
    )
    .map_err(Error::Stdout)?;
    Ok(Exit::Success)
}
