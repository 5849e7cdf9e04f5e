//! One run at a time per output directory.
//!
//! `slt report --out DIR` (and `slt review --out DIR`) holds `DIR.lock` (a file beside `DIR`, since `DIR`
//! itself is replaced whole) for the length of the run. The file names its
//! holder: pid and start time. A second run exits at once with exit code 4
//! and that holder in the message. A lock whose process is gone (a run killed
//! with SIGKILL) is stale and is taken over; staging directories such a run
//! left behind are removed.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// A held lock; released (the file removed) on drop.
#[derive(Debug)]
pub struct Lock {
    path: PathBuf,
}

fn lock_path(out: &Path) -> PathBuf {
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "report".into());
    out.with_file_name(format!("{name}.lock"))
}

/// Whether process `pid` is alive (Linux: `/proc/PID` exists).
fn alive(pid: u32) -> bool {
    pid == std::process::id() || Path::new(&format!("/proc/{pid}")).exists()
}

fn holder(text: &str) -> Option<(u32, String)> {
    let mut pid = None;
    let mut started = String::new();
    for line in text.lines() {
        if let Some(v) = line.strip_prefix("pid=") {
            pid = v.trim().parse().ok();
        } else if let Some(v) = line.strip_prefix("started=") {
            started = v.trim().to_string();
        }
    }
    pid.map(|p| (p, started))
}

impl Lock {
    /// Takes the lock of output directory `out`.
    pub fn acquire(out: &Path) -> Result<Lock> {
        let path = lock_path(out);
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| Error::Write {
                path: parent.into(),
                reason: e.to_string(),
            })?;
        }
        let content = format!(
            "pid={}\nstarted={}\n",
            std::process::id(),
            chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        );
        for _ in 0..2 {
            match OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(mut f) => {
                    f.write_all(content.as_bytes()).map_err(|e| Error::Write {
                        path: path.clone(),
                        reason: e.to_string(),
                    })?;
                    remove_stale_staging(out);
                    return Ok(Lock { path });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let text = std::fs::read_to_string(&path).unwrap_or_default();
                    match holder(&text) {
                        Some((pid, started)) if alive(pid) => {
                            return Err(Error::Locked(format!(
                                "`{}` is being written by another slt run (pid {pid}, started {started}); lock file `{}`",
                                out.display(),
                                path.display()
                            )));
                        }
                        // Stale (its process is gone) or unreadable: take it over.
                        _ => {
                            let _ = std::fs::remove_file(&path);
                        }
                    }
                }
                Err(e) => {
                    return Err(Error::Write {
                        path,
                        reason: e.to_string(),
                    })
                }
            }
        }
        Err(Error::Locked(format!(
            "could not take the lock `{}`",
            path.display()
        )))
    }
}

/// Removes `.NAME.tmp-*` directories beside `out`: with the lock held, any
/// such directory was left by a run that died.
fn remove_stale_staging(out: &Path) {
    let Some(name) = out.file_name().map(|n| n.to_string_lossy().into_owned()) else {
        return;
    };
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let prefix = format!(".{name}.tmp-");
    if let Ok(entries) = std::fs::read_dir(&parent) {
        for entry in entries.flatten() {
            if entry.file_name().to_string_lossy().starts_with(&prefix) {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_holder_is_refused_with_the_first_holders_pid() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("report");
        let held = Lock::acquire(&out).unwrap();
        let err = Lock::acquire(&out).unwrap_err().to_string();
        assert!(
            err.contains(&format!("pid {}", std::process::id())),
            "{err}"
        );
        drop(held);
        Lock::acquire(&out).unwrap();
    }

    #[test]
    fn stale_lock_of_a_dead_process_is_taken_over_and_its_staging_removed() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("report");
        // No process has pid 4 194 999 (above the largest pid_max, 2^22).
        std::fs::write(
            dir.path().join("report.lock"),
            "pid=4194999\nstarted=2026-01-01T00:00:00Z\n",
        )
        .unwrap();
        std::fs::create_dir(dir.path().join(".report.tmp-4194999")).unwrap();
        let _lock = Lock::acquire(&out).unwrap();
        assert!(!dir.path().join(".report.tmp-4194999").exists());
        let text = std::fs::read_to_string(dir.path().join("report.lock")).unwrap();
        assert!(text.starts_with(&format!("pid={}\n", std::process::id())));
    }
}
