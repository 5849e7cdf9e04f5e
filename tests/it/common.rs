//! What the integration modules share: running the release binary and
//! reading what it printed.

use std::process::{Command, Output};

/// Runs `slt` with `args`.
pub fn slt(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_slt"))
        .args(args)
        .output()
        .expect("slt runs")
}

/// What a run printed on stdout.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// What a run printed on stderr.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
