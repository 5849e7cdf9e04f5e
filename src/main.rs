//! The `slt` binary: parse flags, run, turn the outcome into an exit code.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = slt::cli::Cli::parse();
    let log_format = cli.log_format;
    match slt::run(cli) {
        Ok(code) => ExitCode::from(code as u8),
        Err(err) => {
            if err.is_broken_pipe() {
                return ExitCode::SUCCESS;
            }
            let code = err.exit_code() as u8;
            eprintln!(
                "{}",
                slt::progress::error_line(log_format, &err.to_string(), code)
            );
            ExitCode::from(code)
        }
    }
}
