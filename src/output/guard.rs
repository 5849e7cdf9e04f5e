//! The `--out` guard: slt never deletes or overwrites what it did not write.
//!
//! Every command that writes a directory replaces its `--out` whole. Before
//! anything is touched (not even the lock), [`check`] refuses, with one line
//! saying what to do, an `--out` that:
//!
//! - is `/`, the home directory, the current directory, or an ancestor of
//!   one of them;
//! - is the input directory, an ancestor of it, or lies inside it;
//! - is, or contains, a file named by `--policy`, `--holidays` or
//!   `--mapping`;
//! - is a symbolic link, or exists and is not a directory;
//! - is a non-empty directory that is not a previous output of the same
//!   command: every directory slt writes holds a `manifest.json` with
//!   `"tool": "slt"` and its `"kind"` (`report`, `review`, `export`); a
//!   report manifest written before `kind` existed counts as a report.
//!
//! Paths are compared after resolving symbolic links in the part that
//! exists, so `exports/../exports` or a link to the export is still the
//! export.

use std::path::{Component, Path, PathBuf};

use crate::{Error, Result};

/// What a command writes into its `--out`; recorded as the manifest's `kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputKind {
    /// `slt report`: the Parquet outputs, charts and manifest.
    Report,
    /// `slt review`: one account's service-review pack.
    Review,
    /// `slt generate` and `slt import`: an export in canonical tables.
    Export,
}

impl OutputKind {
    /// The manifest's `kind`.
    pub fn as_str(self) -> &'static str {
        match self {
            OutputKind::Report => "report",
            OutputKind::Review => "review",
            OutputKind::Export => "export",
        }
    }

    fn described(self) -> &'static str {
        match self {
            OutputKind::Report => "an slt report",
            OutputKind::Review => "an slt review pack",
            OutputKind::Export => "an export written by slt",
        }
    }
}

/// The files a run reads, which its `--out` must not touch.
#[derive(Debug, Default, Clone, Copy)]
pub struct Inputs<'a> {
    /// `--input DIR`, when given.
    pub dir: Option<&'a Path>,
    /// `--policy`, `--holidays`, `--mapping` (flag name, path).
    pub files: &'a [(&'static str, &'a Path)],
}

/// Refuses an `--out` that replacing would lose something slt did not
/// write (see the module docs). `Ok` touches nothing.
pub fn check(out: &Path, kind: OutputKind, inputs: Inputs<'_>) -> Result<()> {
    let shown = out.display();
    let refuse = |why: String| Err(Error::Usage(format!("--out `{shown}` {why}")));
    let resolved = resolve(out).map_err(|e| Error::Usage(format!("--out `{shown}`: {e}")))?;

    if resolved.parent().is_none() {
        return refuse(
            "is the root directory; give a new directory, e.g. `--out reports/nightly`".into(),
        );
    }
    if let Ok(cwd) = std::env::current_dir().and_then(|d| d.canonicalize()) {
        if cwd.starts_with(&resolved) {
            let what = if cwd == resolved {
                "is the current directory"
            } else {
                "contains the current directory"
            };
            return refuse(format!(
                "{what}, which slt would replace whole; give a new directory, e.g. `--out reports/nightly`"
            ));
        }
    }
    if let Some(home) = std::env::var_os("HOME").and_then(|h| PathBuf::from(h).canonicalize().ok())
    {
        if home.starts_with(&resolved) {
            return refuse(
                "is or contains your home directory, which slt would replace whole; give a new directory, e.g. `--out reports/nightly`"
                    .into(),
            );
        }
    }
    if let Some(dir) = inputs.dir {
        if let Ok(input) = resolve(dir) {
            let input_shown = dir.display();
            if input == resolved {
                return refuse(format!(
                    "is the input directory: writing there would delete the export; give a directory outside `{input_shown}`"
                ));
            }
            if input.starts_with(&resolved) {
                return refuse(format!(
                    "contains the input directory `{input_shown}`: writing there would delete the export; give a directory outside it"
                ));
            }
            if resolved.starts_with(&input) {
                return refuse(format!(
                    "lies inside the input directory `{input_shown}`; give a directory outside the export"
                ));
            }
        }
    }
    for (flag, file) in inputs.files {
        if let Ok(file_resolved) = resolve(file) {
            if file_resolved.starts_with(&resolved) {
                return refuse(format!(
                    "contains the {flag} file `{}`, which slt would delete; give a directory that does not hold it",
                    file.display()
                ));
            }
        }
    }

    let meta = match std::fs::symlink_metadata(out) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return refuse(format!("cannot be examined: {e}")),
    };
    if meta.file_type().is_symlink() {
        return refuse(
            "is a symbolic link; give the directory it points to, or a new directory".into(),
        );
    }
    if !meta.is_dir() {
        return refuse(
            "exists and is not a directory; give a new directory path (slt creates it)".into(),
        );
    }
    let mut entries = std::fs::read_dir(out)
        .map_err(|e| Error::Usage(format!("--out `{shown}` cannot be read: {e}")))?;
    if entries.next().is_none() {
        return Ok(());
    }
    match previous_kind(out) {
        Some(found) if found == kind.as_str() => Ok(()),
        Some(found) => refuse(format!(
            "holds an slt {found}, not {}; give another directory (slt replaces --out whole)",
            kind.described()
        )),
        None => refuse(format!(
            "is not empty and is not {} (no slt `manifest.json`); slt replaces --out whole, so give a new or empty directory",
            kind.described()
        )),
    }
}

/// The `kind` of the slt output in `dir`, from its `manifest.json`
/// (`report` for a manifest older than the `kind` key).
fn previous_kind(dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(dir.join("manifest.json")).ok()?;
    let manifest: serde_json::Value = serde_json::from_str(&text).ok()?;
    if manifest.get("tool")?.as_str()? != "slt" {
        return None;
    }
    Some(match manifest.get("kind") {
        None => OutputKind::Report.as_str().to_string(),
        Some(kind) => kind.as_str()?.to_string(),
    })
}

/// `path` made absolute, with symbolic links resolved in its longest
/// existing prefix and `.`/`..` resolved in the rest.
fn resolve(path: &Path) -> std::io::Result<PathBuf> {
    let absolute = std::path::absolute(path)?;
    let mut existing = absolute.as_path();
    let mut rest = Vec::new();
    let base = loop {
        match existing.canonicalize() {
            Ok(p) => break p,
            Err(_) => match (existing.parent(), existing.file_name()) {
                (Some(parent), Some(name)) => {
                    rest.push(name.to_os_string());
                    existing = parent;
                }
                // `..` at the end of a path that does not exist: lexical.
                _ => break lexical(existing),
            },
        }
    };
    let mut resolved = base;
    for name in rest.iter().rev() {
        match Path::new(name).components().next() {
            Some(Component::ParentDir) => {
                resolved.pop();
            }
            Some(Component::CurDir) | None => {}
            _ => resolved.push(name),
        }
    }
    Ok(resolved)
}

fn lexical(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(out: &Path, kind: OutputKind, inputs: Inputs<'_>) -> String {
        check(out, kind, inputs).unwrap_err().to_string()
    }

    #[test]
    fn a_new_or_empty_directory_is_fine() {
        let dir = tempfile::tempdir().unwrap();
        check(
            &dir.path().join("new/deeper"),
            OutputKind::Report,
            Inputs::default(),
        )
        .unwrap();
        std::fs::create_dir(dir.path().join("empty")).unwrap();
        check(
            &dir.path().join("empty"),
            OutputKind::Review,
            Inputs::default(),
        )
        .unwrap();
    }

    #[test]
    fn input_itself_its_parent_and_its_subdirectory_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("exports");
        std::fs::create_dir(&input).unwrap();
        let inputs = Inputs {
            dir: Some(&input),
            files: &[],
        };
        let e = refusal(&input, OutputKind::Report, inputs);
        assert!(e.contains("is the input directory"), "{e}");
        let e = refusal(&input.join("../exports/."), OutputKind::Report, inputs);
        assert!(e.contains("is the input directory"), "{e}");
        let e = refusal(dir.path(), OutputKind::Report, inputs);
        assert!(e.contains("contains the input directory"), "{e}");
        let e = refusal(&input.join("out"), OutputKind::Report, inputs);
        assert!(e.contains("lies inside the input directory"), "{e}");
    }

    #[test]
    fn a_directory_holding_the_policy_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let policy = dir.path().join("conf/policy.toml");
        std::fs::create_dir(dir.path().join("conf")).unwrap();
        std::fs::write(&policy, "").unwrap();
        let files = [("--policy", policy.as_path())];
        let inputs = Inputs {
            dir: None,
            files: &files,
        };
        let e = refusal(&dir.path().join("conf"), OutputKind::Report, inputs);
        assert!(e.contains("contains the --policy file"), "{e}");
        let e = refusal(&policy, OutputKind::Report, inputs);
        assert!(e.contains("contains the --policy file"), "{e}");
    }

    #[test]
    fn a_file_a_link_and_a_foreign_directory_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("afile");
        std::fs::write(&file, "x").unwrap();
        let e = refusal(&file, OutputKind::Report, Inputs::default());
        assert!(e.contains("is not a directory"), "{e}");
        let precious = dir.path().join("precious");
        std::fs::create_dir_all(precious.join("sub")).unwrap();
        let e = refusal(&precious, OutputKind::Report, Inputs::default());
        assert!(e.contains("is not empty and is not an slt report"), "{e}");
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&precious, &link).unwrap();
        let e = refusal(&link, OutputKind::Report, Inputs::default());
        assert!(e.contains("symbolic link"), "{e}");
    }

    #[test]
    fn a_previous_output_is_replaced_only_by_the_same_command() {
        let dir = tempfile::tempdir().unwrap();
        let old = dir.path().join("old");
        std::fs::create_dir(&old).unwrap();
        std::fs::write(
            old.join("manifest.json"),
            r#"{"tool":"slt","version":"0.1.0"}"#,
        )
        .unwrap();
        check(&old, OutputKind::Report, Inputs::default()).unwrap();
        let e = refusal(&old, OutputKind::Review, Inputs::default());
        assert!(
            e.contains("holds an slt report, not an slt review pack"),
            "{e}"
        );
        std::fs::write(
            old.join("manifest.json"),
            r#"{"tool":"slt","kind":"review"}"#,
        )
        .unwrap();
        check(&old, OutputKind::Review, Inputs::default()).unwrap();
        std::fs::write(old.join("manifest.json"), r#"{"tool":"other"}"#).unwrap();
        refusal(&old, OutputKind::Review, Inputs::default());
    }

    #[test]
    fn root_and_ancestors_of_the_current_directory_are_refused() {
        let e = refusal(Path::new("/"), OutputKind::Report, Inputs::default());
        assert!(e.contains("root directory"), "{e}");
        let e = refusal(Path::new("."), OutputKind::Report, Inputs::default());
        assert!(e.contains("is the current directory"), "{e}");
        let e = refusal(Path::new(".."), OutputKind::Report, Inputs::default());
        assert!(e.contains("contains the current directory"), "{e}");
    }
}
