//! The crate's error type, worded for the person running slt, and the exit
//! codes it maps to.

use std::path::PathBuf;

use crate::calendar::holidays::HolidayError;
use crate::policy::PolicyError;

/// Exit codes (documented in the README and `slt --help`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Exit {
    /// The report was written (rejected rows, if any, are counted in it).
    Success = 0,
    /// The report was written but rows were rejected and `--fail-on-rejects`
    /// was given; or, with `--max-rejected`, too many were and nothing was written.
    Rejects = 1,
    /// Bad flags or arguments.
    Usage = 2,
    /// The input, policy, holiday or mapping file can't be used: nothing written.
    Input = 3,
    /// Another run holds the output directory's lock.
    Locked = 4,
    /// Writing outputs failed, or slt itself failed.
    Internal = 5,
}

/// Everything that can stop slt.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A flag or argument that makes no sense.
    #[error("{0}")]
    Usage(String),
    /// The policy file is invalid.
    #[error(transparent)]
    Policy(#[from] PolicyError),
    /// The holiday file is invalid.
    #[error(transparent)]
    Holidays(#[from] HolidayError),
    /// An input file or directory that can't be used as a whole.
    #[error("{path}: {reason}")]
    Input {
        /// The file at fault.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// Reading a file failed.
    #[error("cannot read `{path}`: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Writing an output failed.
    #[error("cannot write `{path}`: {reason}")]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// Another run holds the lock.
    #[error("{0}")]
    Locked(String),
    /// Too many rows were rejected (`--max-rejected`): nothing written.
    #[error("{0}")]
    TooManyRejected(String),
    /// Writing to standard output failed.
    #[error("cannot write to standard output: {0}")]
    Stdout(std::io::Error),
    /// A DataFrame operation on slt's own data failed: a bug.
    #[error("internal error: {0}")]
    Polars(#[from] polars::error::PolarsError),
    /// A bug or an unexpected failure inside slt.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> Exit {
        match self {
            Error::Usage(_) => Exit::Usage,
            Error::Policy(_) | Error::Holidays(_) | Error::Input { .. } | Error::Read { .. } => {
                Exit::Input
            }
            Error::Locked(_) => Exit::Locked,
            Error::TooManyRejected(_) => Exit::Rejects,
            Error::Write { .. } | Error::Stdout(_) | Error::Polars(_) | Error::Internal(_) => {
                Exit::Internal
            }
        }
    }

    /// Whether this is a closed pipe on standard output (`slt … | head`).
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, Error::Stdout(e) if e.kind() == std::io::ErrorKind::BrokenPipe)
    }
}

/// Shorthand for results in slt.
pub type Result<T, E = Error> = std::result::Result<T, E>;
