//! One module per subcommand, each with its `run`.

pub mod calendar;
pub mod generate;
pub mod query;
pub mod report;
pub mod review;

use std::path::Path;

use crate::calendar::holidays::Holidays;
use crate::policy::Policy;
use crate::{Error, Result};

/// Loads `--policy FILE`, or the bundled policy.
pub fn load_policy(path: Option<&Path>) -> Result<(Policy, String)> {
    match path {
        None => Ok((Policy::bundled(), crate::policy::BUNDLED_TOML.to_string())),
        Some(p) => {
            let text = std::fs::read_to_string(p).map_err(|source| Error::Read {
                path: p.into(),
                source,
            })?;
            Ok((Policy::parse(&text, &p.display().to_string())?, text))
        }
    }
}

/// Loads `--holidays FILE`, or the bundled list.
pub fn load_holidays(path: Option<&Path>) -> Result<(Holidays, String)> {
    match path {
        None => Ok((
            Holidays::bundled(),
            crate::calendar::holidays::BUNDLED_CSV.to_string(),
        )),
        Some(p) => {
            let text = std::fs::read_to_string(p).map_err(|source| Error::Read {
                path: p.into(),
                source,
            })?;
            Ok((Holidays::parse_csv(&text, &p.display().to_string())?, text))
        }
    }
}
