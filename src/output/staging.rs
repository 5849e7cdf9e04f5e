//! Atomic output directories: a run writes into a hidden sibling of its
//! `--out` and swaps it in only when every file is complete.

use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// A directory being written: files go to a temporary sibling that replaces
/// the target only in [`Staging::commit`].
#[derive(Debug)]
pub struct Staging {
    target: PathBuf,
    temp: PathBuf,
}

impl Staging {
    /// Creates the temporary directory beside `target`.
    pub fn new(target: &Path) -> Result<Self> {
        let parent = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&parent).map_err(|e| Error::Write {
            path: parent.clone(),
            reason: e.to_string(),
        })?;
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "report".into());
        let temp = parent.join(format!(".{name}.tmp-{}", std::process::id()));
        if temp.exists() {
            std::fs::remove_dir_all(&temp).map_err(|e| Error::Write {
                path: temp.clone(),
                reason: e.to_string(),
            })?;
        }
        std::fs::create_dir(&temp).map_err(|e| Error::Write {
            path: temp.clone(),
            reason: e.to_string(),
        })?;
        Ok(Staging {
            target: target.to_path_buf(),
            temp,
        })
    }

    /// The staging directory itself.
    pub fn dir(&self) -> &Path {
        &self.temp
    }

    /// Path of an output file inside the staging directory.
    pub fn file(&self, name: &str) -> PathBuf {
        self.temp.join(name)
    }

    /// Replaces the target with the staged directory.
    pub fn commit(self) -> Result<()> {
        let write_err = |path: &Path, e: std::io::Error| Error::Write {
            path: path.into(),
            reason: e.to_string(),
        };
        if !self.target.exists() {
            return std::fs::rename(&self.temp, &self.target)
                .map_err(|e| write_err(&self.target, e));
        }
        // Swap the two directories in one step, so a reader (or a kill at any
        // moment) sees either the old report or the new one, never neither.
        // The old report is then in the temporary path, removed on drop.
        if exchange(&self.temp, &self.target).is_ok() {
            return Ok(());
        }
        // Filesystems without an atomic exchange: two renames.
        let old = self.temp.with_file_name(format!(
            "{}.old",
            self.temp.file_name().expect("named").to_string_lossy()
        ));
        std::fs::rename(&self.target, &old).map_err(|e| write_err(&self.target, e))?;
        std::fs::rename(&self.temp, &self.target).map_err(|e| write_err(&self.target, e))?;
        std::fs::remove_dir_all(&old).map_err(|e| write_err(&old, e))?;
        Ok(())
    }
}

/// Atomically exchanges two paths (Linux `renameat2(RENAME_EXCHANGE)`).
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    use rustix::fs::{renameat_with, RenameFlags, CWD};
    renameat_with(CWD, a, CWD, b, RenameFlags::EXCHANGE).map_err(std::io::Error::from)
}

#[cfg(not(target_os = "linux"))]
fn exchange(_: &Path, _: &Path) -> std::io::Result<()> {
    Err(std::io::ErrorKind::Unsupported.into())
}

impl Drop for Staging {
    fn drop(&mut self) {
        // Not committed (an error): leave no partial output behind.
        if self.temp.exists() {
            let _ = std::fs::remove_dir_all(&self.temp);
        }
    }
}
