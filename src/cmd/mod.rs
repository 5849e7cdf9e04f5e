//! One module per subcommand, each with its `run`: parse, call the
//! library, print. Commands never import each other.

pub mod calendar;
pub mod explain;
pub mod generate;
pub mod import;
pub mod merge;
pub mod query;
pub mod report;
pub mod review;

use crate::{cli, Exit, Result};

/// Runs one command line.
pub fn run(cli: cli::Cli) -> Result<Exit> {
    match cli.command {
        cli::Command::Report(args) => report::run(args, cli.log_format),
        cli::Command::Calendar(args) => calendar::run(args, cli.log_format),
        cli::Command::Generate(args) => generate::run(args, cli.log_format),
        cli::Command::Review(args) => review::run(args, cli.log_format),
        cli::Command::Import(args) => import::run(args, cli.log_format),
        cli::Command::Merge(args) => merge::run(args, cli.log_format),
        cli::Command::Query(args) => query::run(args),
        cli::Command::Explain(args) => explain::run(args, cli.log_format),
    }
}
