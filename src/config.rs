//! Flags → validated [`Settings`]: the one place where raw command-line
//! values become what the pipeline runs on.
//!
//! `--input` must be a directory; `--as-of` an RFC 3339 instant with an
//! offset; `--policy`, `--holidays` and `--mapping` files that parse (else
//! the bundled policy and holidays, and no mapping). Each file's hash goes
//! to the manifest.

use std::path::{Path, PathBuf};

use crate::calendar::holidays::{self, Holidays};
use crate::cli::MeasureArgs;
use crate::ingest::Input;
use crate::mapping::Mapping;
use crate::output::guard::{self, OutputKind};
use crate::output::manifest::FileEntry;
use crate::policy::{self, Policy};
use crate::timestamp::{parse_rfc3339, Instant};
use crate::vendor::{SourceKind, SourceSettings};
use crate::{Error, Result};

/// Everything a run is measured with.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The export.
    pub input: Input,
    /// `--as-of`, when given.
    pub as_of: Option<Instant>,
    /// The policy.
    pub policy: Policy,
    /// The holidays.
    pub holidays: Holidays,
    /// The mapping (empty without `--mapping`).
    pub mapping: Mapping,
    /// The policy file and its hash.
    pub policy_file: FileEntry,
    /// The holiday file and its hash.
    pub holidays_file: FileEntry,
    /// The mapping file and its hash, if one was given.
    pub mapping_file: Option<FileEntry>,
    /// `--source`: the vendor whose native export `--input` holds, and its
    /// settings (the mapping's `[source]`, else the vendor's defaults).
    pub source: Option<(SourceKind, SourceSettings)>,
    /// `slt report --shard I/N`: measure only that shard's cases.
    pub shard: Option<crate::shard::Shard>,
    /// The files the flags named, for the `--out` guard.
    flag_files: Vec<(&'static str, PathBuf)>,
}

impl Settings {
    /// Validates the flags and loads every file they name.
    pub fn from_args(args: &MeasureArgs) -> Result<Settings> {
        let input = input_of(args.input.as_deref())?;
        let as_of = match &args.as_of {
            None => None,
            Some(text) => {
                Some(parse_rfc3339(text).map_err(|e| Error::Usage(format!("--as-of: {e}")))?)
            }
        };
        let (policy, policy_text) = load_policy(args.policy.as_deref())?;
        let (holidays, holidays_text) = load_holidays(args.holidays.as_deref())?;
        let (mapping, mapping_file) = match &args.mapping {
            None => (Mapping::default(), None),
            Some(p) => {
                let text = read(p)?;
                let mapping = Mapping::parse(&text, &p.display().to_string())?;
                (mapping, Some(FileEntry::new(Some(p), "", &text)))
            }
        };
        let source = match args.source.vendor() {
            None => {
                if let Some(s) = mapping.source() {
                    return Err(Error::Usage(format!(
                        "--mapping: its `[source]` section is for a {} export: give --source {}",
                        s.kind, s.kind
                    )));
                }
                None
            }
            Some(kind) => {
                if matches!(input, Input::Demo) {
                    return Err(Error::Usage(format!(
                        "--source {kind} needs --input DIR (the bundled demo is canonical)"
                    )));
                }
                Some((kind, mapping.source_settings(kind)?))
            }
        };
        let flag_files = [
            ("--policy", &args.policy),
            ("--holidays", &args.holidays),
            ("--mapping", &args.mapping),
        ]
        .into_iter()
        .filter_map(|(flag, path)| path.clone().map(|p| (flag, p)))
        .collect();
        Ok(Settings {
            input,
            as_of,
            policy_file: FileEntry::new(
                args.policy.as_deref(),
                "fixtures/policy.toml",
                &policy_text,
            ),
            holidays_file: FileEntry::new(
                args.holidays.as_deref(),
                "fixtures/holidays.csv",
                &holidays_text,
            ),
            policy,
            holidays,
            mapping,
            mapping_file,
            source,
            shard: None,
            flag_files,
        })
    }

    /// Refuses an `--out` that writing `kind` there would lose data with
    /// (see [`guard`]).
    pub fn check_out(&self, out: &Path, kind: OutputKind) -> Result<()> {
        let files: Vec<(&'static str, &Path)> = self
            .flag_files
            .iter()
            .map(|(flag, p)| (*flag, p.as_path()))
            .collect();
        let dir = match &self.input {
            Input::Dir(dir) => Some(dir.as_path()),
            Input::Demo => None,
        };
        guard::check(out, kind, guard::Inputs { dir, files: &files })
    }
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|source| Error::Read {
        path: path.into(),
        source,
    })
}

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

/// Loads `--holidays FILE`, or the bundled list, with its text.
pub fn load_holidays(path: Option<&Path>) -> Result<(Holidays, String)> {
    match path {
        None => Ok((Holidays::bundled(), holidays::BUNDLED_CSV.to_string())),
        Some(p) => {
            let text = read(p)?;
            Ok((Holidays::parse_csv(&text, &p.display().to_string())?, text))
        }
    }
}

/// Loads `--policy FILE`, or the bundled policy, with its text.
pub fn load_policy(path: Option<&Path>) -> Result<(Policy, String)> {
    match path {
        None => Ok((Policy::bundled(), policy::BUNDLED_TOML.to_string())),
        Some(p) => {
            let text = read(p)?;
            Ok((Policy::parse(&text, &p.display().to_string())?, text))
        }
    }
}
