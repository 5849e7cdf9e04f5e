//! The `slt` binary: parse flags, run, turn the outcome into an exit code.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = slt::cli::Cli::parse();
    match slt::run(cli) {
        Ok(code) => ExitCode::from(code as u8),
        Err(err) => {
            if err.is_broken_pipe() {
                return ExitCode::SUCCESS;
            }
            eprintln!("slt: {err}");
            ExitCode::from(err.exit_code() as u8)
        }
    }
}
