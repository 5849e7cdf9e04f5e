//! One module per subcommand, each with its `run`.

pub mod calendar;
pub mod generate;
pub mod query;
pub mod report;
pub mod review;

use std::path::Path;

use crate::calendar::holidays::Holidays;
use crate::ingest::Input;
use crate::policy::Policy;
use crate::{Error, Result};

/// The export to read: `--input DIR` (which must be a directory), or the
/// bundled demo.
pub fn input_of(dir: Option<&Path>) -> Result<Input> {
    let Some(dir) = dir else {
        return Ok(Input::Demo);
    };
    match std::fs::metadata(dir) {
        Ok(m) if m.is_dir() => Ok(Input::Dir(dir.to_path_buf())),
        Ok(_) => Err(Error::Input {
            path: dir.into(),
            reason: "is a file; --input takes the directory holding accounts, cases and events"
                .into(),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(Error::Input {
            path: dir.into(),
            reason:
                "no such directory; --input takes the directory holding accounts, cases and events"
                    .into(),
        }),
        Err(source) => Err(Error::Read {
            path: dir.into(),
            source,
        }),
    }
}

/// The files named by flags (`--policy`, …) that were given.
pub fn flag_files<'a>(flags: &[(&'static str, Option<&'a Path>)]) -> Vec<(&'static str, &'a Path)> {
    flags
        .iter()
        .filter_map(|(flag, path)| path.map(|p| (*flag, p)))
        .collect()
}

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
