//! The `slt` binary: parse flags, run, turn the outcome into an exit code.

use std::process::ExitCode;

use clap::error::ErrorKind;
use clap::Parser;
use slt::progress::{error_line, LogFormat};

fn main() -> ExitCode {
    slt::allocator::give_memory_back();
    let cli = match slt::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => return usage_error(err),
    };
    let log_format = cli.log_format;
    match slt::cmd::run(cli) {
        Ok(code) => ExitCode::from(code as u8),
        Err(err) => {
            if err.is_broken_pipe() {
                return ExitCode::SUCCESS;
            }
            let code = err.exit_code() as u8;
            eprintln!("{}", error_line(log_format, &err.to_string(), code));
            ExitCode::from(code)
        }
    }
}

/// A command line clap refused: `--help` and `--version` print as usual;
/// anything else is one line (exit 2), a JSON object under
/// `--log-format json`.
fn usage_error(err: clap::Error) -> ExitCode {
    if matches!(
        err.kind(),
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
    ) {
        let _ = err.print();
        return ExitCode::SUCCESS;
    }
    let args: Vec<String> = std::env::args().collect();
    let json = json_requested(&args);
    if err.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand && !json {
        let _ = err.print();
        return ExitCode::from(2);
    }
    let format = if json {
        LogFormat::Json
    } else {
        LogFormat::Text
    };
    eprintln!(
        "{}",
        error_line(format, &slt::cli::one_line(&err, &args), 2)
    );
    ExitCode::from(2)
}

/// Whether the raw arguments ask for `--log-format json`.
fn json_requested(args: &[String]) -> bool {
    args.iter().enumerate().any(|(i, a)| {
        a == "--log-format=json"
            || (a == "--log-format" && args.get(i + 1).is_some_and(|v| v == "json"))
    })
}
