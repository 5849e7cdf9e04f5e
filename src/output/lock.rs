//! One run at a time per output directory.
//!
//! A run that writes `DIR` holds `DIR.lock` (a file beside `DIR`, since `DIR`
//! itself is replaced whole) for as long as it runs. The file names its
//! holder (pid and start time) and the holder keeps an advisory lock
//! (`flock`) on it, which the kernel releases when the process ends, however
//! it ends.
//!
//! Taking the lock never reads a file that may still be being written, and
//! never deletes one another run may hold:
//!
//! 1. the run writes its candidate lock file under a temporary name and
//!    locks it, so the file is complete and held before anyone can see it;
//! 2. it links the candidate into place (`link` fails if `DIR.lock` exists:
//!    exclusive creation, so of many runs starting together exactly one
//!    wins);
//! 3. if `DIR.lock` exists, the run tries to lock that file: if it can't,
//!    a live run holds it (exit 4, naming the holder). If it can, its holder
//!    is gone (killed with SIGKILL, say): the run atomically renames its own
//!    candidate over it, still holding the stale file's lock so that no
//!    other run can take it over at the same time, then removes the staging
//!    directories the dead run left.
//!
//! A lock file written by an older slt (no `flock`) whose process is still
//! alive is respected.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// A held lock; released (the file removed, then unlocked) on drop.
#[derive(Debug)]
pub struct Lock {
    path: PathBuf,
    /// The open, locked lock file: the kernel's lock lives as long as it.
    _file: File,
}

/// `DIR.lock` beside `DIR`.
pub fn lock_path(out: &Path) -> PathBuf {
    out.with_file_name(format!("{}.lock", file_name(out)))
}

fn file_name(out: &Path) -> String {
    out.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "report".into())
}

fn parent_of(out: &Path) -> PathBuf {
    match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Whether process `pid` is alive (Linux: `/proc/PID` exists).
fn alive(pid: u32) -> bool {
    pid == std::process::id() || Path::new(&format!("/proc/{pid}")).exists()
}

/// The holder named in a lock file's text: pid and start time.
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

fn write_error(path: &Path, e: std::io::Error) -> Error {
    Error::Write {
        path: path.into(),
        reason: e.to_string(),
    }
}

/// Whether `file` is the file currently at `path`.
fn is_at(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

/// Numbers the candidate lock files this process makes.
static NEXT_CANDIDATE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// What one attempt at taking the lock found.
enum Attempt {
    Taken(File),
    Held(String),
    Retry,
}

impl Lock {
    /// Takes the lock of output directory `out` (creating its parent
    /// directory if needed), or says who holds it.
    pub fn acquire(out: &Path) -> Result<Lock> {
        let path = lock_path(out);
        let parent = parent_of(out);
        std::fs::create_dir_all(&parent).map_err(|e| write_error(&parent, e))?;
        let content = format!(
            "pid={}\nstarted={}\n",
            std::process::id(),
            chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        );
        let mut held_by = String::new();
        for _ in 0..100 {
            // Unique within the process too: a candidate is only ever
            // linked, renamed or removed by the attempt that made it.
            let n = NEXT_CANDIDATE.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let candidate = parent.join(format!(
                ".{}.lock-tmp-{}-{n}",
                file_name(out),
                std::process::id()
            ));
            let result = Self::attempt(out, &path, &candidate, &content);
            let _ = std::fs::remove_file(&candidate);
            match result? {
                Attempt::Taken(file) => {
                    remove_stale_staging(out);
                    return Ok(Lock { path, _file: file });
                }
                Attempt::Held(who) => return Err(Error::Locked(who)),
                Attempt::Retry => {
                    held_by = format!("could not take the lock `{}`", path.display());
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
            }
        }
        Err(Error::Locked(held_by))
    }

    fn attempt(out: &Path, path: &Path, candidate: &Path, content: &str) -> Result<Attempt> {
        // 1. A complete, locked candidate under a private name.
        let mut file = OpenOptions::new()
            .write(true)
            .read(true)
            .create_new(true)
            .open(candidate)
            .map_err(|e| write_error(candidate, e))?;
        file.write_all(content.as_bytes())
            .map_err(|e| write_error(candidate, e))?;
        file.try_lock().map_err(|e| Error::Write {
            path: candidate.into(),
            reason: e.to_string(),
        })?;
        // 2. Exclusive creation.
        match std::fs::hard_link(candidate, path) {
            Ok(()) => return Ok(Attempt::Taken(file)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(write_error(path, e)),
        }
        // 3. Held, or stale?
        let existing = match File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Attempt::Retry),
            Err(e) => return Err(write_error(path, e)),
        };
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let who = holder(&text);
        match existing.try_lock() {
            Err(TryLockError::WouldBlock) => match who {
                Some((pid, started)) if alive(pid) => {
                    Ok(Attempt::Held(held_message(out, path, pid, &started)))
                }
                // Its holder died and another run is taking it over.
                _ => Ok(Attempt::Retry),
            },
            Err(TryLockError::Error(e)) => Err(write_error(path, e)),
            Ok(()) => {
                if let Some((pid, started)) = who.filter(|(pid, _)| alive(*pid)) {
                    // An older slt, which does not `flock`, still running.
                    return Ok(Attempt::Held(held_message(out, path, pid, &started)));
                }
                if !is_at(&existing, path) {
                    return Ok(Attempt::Retry);
                }
                // Stale, and ours to replace: no other run can lock it now.
                std::fs::rename(candidate, path).map_err(|e| write_error(path, e))?;
                drop(existing);
                Ok(Attempt::Taken(file))
            }
        }
    }
}

fn held_message(out: &Path, path: &Path, pid: u32, started: &str) -> String {
    format!(
        "`{}` is being written by another slt run (pid {pid}, started {started}); lock file `{}`",
        out.display(),
        path.display()
    )
}

/// Removes what a dead run left beside `out`: its staging directories
/// (`.NAME.tmp-PID`, `.NAME.tmp-PID.old`) and candidate lock files
/// (`.NAME.lock-tmp-PID-N`) whose process is gone. Called with the lock held,
/// so no live run is writing a staging directory.
fn remove_stale_staging(out: &Path) {
    let name = file_name(out);
    let staging = format!(".{name}.tmp-");
    let candidate = format!(".{name}.lock-tmp-");
    let Ok(entries) = std::fs::read_dir(parent_of(out)) else {
        return;
    };
    for entry in entries.flatten() {
        let file = entry.file_name().to_string_lossy().into_owned();
        if let Some(rest) = file.strip_prefix(&staging) {
            let pid = rest.strip_suffix(".old").unwrap_or(rest);
            if pid.parse::<u32>().is_ok_and(|p| p != std::process::id()) {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        } else if let Some(rest) = file.strip_prefix(&candidate) {
            let pid = rest.split('-').next().and_then(|p| p.parse::<u32>().ok());
            if pid.is_some_and(|p| !alive(p)) {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        // Removed while still locked: a run that opened it meanwhile finds,
        // once it can lock it, that it is no longer the file at the path.
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

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
        // Nothing but the lock file's absence is left behind.
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert!(left.is_empty(), "{left:?}");
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
        std::fs::write(dir.path().join(".report.lock-tmp-4194999-0"), "pid=").unwrap();
        std::fs::write(dir.path().join("notes.txt"), "mine").unwrap();
        let _lock = Lock::acquire(&out).unwrap();
        assert!(!dir.path().join(".report.tmp-4194999").exists());
        assert!(!dir.path().join(".report.lock-tmp-4194999-0").exists());
        assert!(dir.path().join("notes.txt").exists());
        let text = std::fs::read_to_string(dir.path().join("report.lock")).unwrap();
        assert!(text.starts_with(&format!("pid={}\n", std::process::id())));
    }

    #[test]
    fn an_unlocked_lock_file_of_a_live_process_is_respected() {
        // What an older slt (no flock) leaves while it runs: pid 1 is alive.
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("report");
        std::fs::write(
            dir.path().join("report.lock"),
            "pid=1\nstarted=2026-01-01T00:00:00Z\n",
        )
        .unwrap();
        let err = Lock::acquire(&out).unwrap_err().to_string();
        assert!(err.contains("pid 1,"), "{err}");
    }

    #[test]
    fn many_runs_starting_together_never_hold_the_lock_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let out = Arc::new(dir.path().join("report"));
        let holders = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let taken = Arc::new(AtomicUsize::new(0));
        let barrier = Arc::new(std::sync::Barrier::new(16));
        let threads: Vec<_> = (0..16)
            .map(|_| {
                let (out, holders, most, taken, barrier) = (
                    out.clone(),
                    holders.clone(),
                    most.clone(),
                    taken.clone(),
                    barrier.clone(),
                );
                std::thread::spawn(move || {
                    barrier.wait();
                    for _ in 0..20 {
                        if let Ok(lock) = Lock::acquire(&out) {
                            let now = holders.fetch_add(1, Ordering::SeqCst) + 1;
                            most.fetch_max(now, Ordering::SeqCst);
                            taken.fetch_add(1, Ordering::SeqCst);
                            std::thread::yield_now();
                            holders.fetch_sub(1, Ordering::SeqCst);
                            drop(lock);
                        }
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(most.load(Ordering::SeqCst), 1);
        assert!(taken.load(Ordering::SeqCst) > 0);
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert!(left.is_empty(), "{left:?}");
    }
}
