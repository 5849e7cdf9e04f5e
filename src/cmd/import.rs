//! `slt import SOURCE --input DIR --out DIR`: what slt makes of a vendor's
//! native export, as canonical tables a user can read and keep.
//!
//! Written like every slt output (guarded `--out`, a lock, a staging
//! directory swapped in when complete): `cases.csv` and `events.csv` as the
//! importer derives them, the export's own canonical tables (`accounts`,
//! and `engagements`, `contacts` when present) copied as they are,
//! `import_rejects.csv`, `import_files.csv` and a `manifest.json` (kind
//! `export`). `slt report --input OUT` then measures exactly what
//! `slt report --source SOURCE --input DIR` measures.

use std::path::Path;

use crate::cli::ImportArgs;
use crate::ingest::{Format, Input};
use crate::mapping::Mapping;
use crate::model::Table;
use crate::output::guard::{self, OutputKind};
use crate::output::lock::Lock;
use crate::output::Staging;
use crate::progress::{LogFormat, Progress};
use crate::{config, vendor, Error, Exit, Result};

/// Runs `slt import`.
pub fn run(args: ImportArgs, log_format: LogFormat) -> Result<Exit> {
    let Input::Dir(dir) = config::input_of(Some(&args.input))? else {
        unreachable!("an --input directory")
    };
    let files: Vec<(&'static str, &Path)> = args
        .mapping
        .iter()
        .map(|p| ("--mapping", p.as_path()))
        .collect();
    guard::check(
        &args.out,
        OutputKind::Export,
        guard::Inputs {
            dir: Some(&dir),
            files: &files,
        },
    )?;
    let mapping = match &args.mapping {
        None => Mapping::default(),
        Some(p) => {
            let text = std::fs::read_to_string(p).map_err(|source| Error::Read {
                path: p.clone(),
                source,
            })?;
            Mapping::parse(&text, &p.display().to_string())?
        }
    };
    let settings = mapping.source_settings(args.source)?;
    let _lock = Lock::acquire(&args.out)?;
    let progress = Progress::new("import", args.quiet, log_format);
    let stage = progress.stage("import", None);
    let imported = vendor::import(args.source, &dir, &settings)?;
    let staging = Staging::new(&args.out)?;
    vendor::write_dir(&imported, staging.dir()).map_err(|e| Error::Write {
        path: args.out.clone(),
        reason: e.to_string(),
    })?;
    let copied = copy_canonical_tables(&dir, staging.dir())?;
    let manifest = serde_json::json!({
        "tool": "slt",
        "kind": OutputKind::Export.as_str(),
        "version": env!("CARGO_PKG_VERSION"),
        "imported": {
            "source": args.source.name(),
            "input": dir.display().to_string(),
            "cases": imported.cases.len(),
            "events": imported.events.len(),
            "records_rejected": imported.rejects.len(),
            "copied": copied,
            "warnings": imported.warnings,
        },
    });
    let path = staging.file("manifest.json");
    std::fs::write(
        &path,
        serde_json::to_string_pretty(&manifest).expect("json") + "\n",
    )
    .map_err(|e| Error::Write {
        path,
        reason: e.to_string(),
    })?;
    staging.commit()?;
    stage.finish(
        &format!(
            "{} cases, {} events, {} records rejected",
            imported.cases.len(),
            imported.events.len(),
            imported.rejects.len()
        ),
        serde_json::json!({ "cases": imported.cases.len(), "events": imported.events.len() }),
    );
    for w in &imported.warnings {
        eprintln!("slt: warning: {w}");
    }
    progress.done(
        &format!(
            "imported a {} export: {} cases, {} events, {} records rejected (import_rejects.csv); wrote {}",
            args.source,
            imported.cases.len(),
            imported.events.len(),
            imported.rejects.len(),
            args.out.display()
        ),
        serde_json::json!({
            "source": args.source.name(),
            "cases": imported.cases.len(),
            "events": imported.events.len(),
            "records_rejected": imported.rejects.len(),
            "out": args.out.display().to_string(),
        }),
    );
    Ok(Exit::Success)
}

/// Copies the export's canonical tables (accounts, and engagements and
/// contacts when present) into `to`, byte for byte; returns their names.
fn copy_canonical_tables(from: &Path, to: &Path) -> Result<Vec<String>> {
    let mut copied = Vec::new();
    for table in [Table::Accounts, Table::Engagements, Table::Contacts] {
        for format in Format::ALL {
            let name = format!("{}.{}", table.name(), format.extension());
            let source = from.join(&name);
            if source.is_file() {
                std::fs::copy(&source, to.join(&name)).map_err(|e| Error::Write {
                    path: to.join(&name),
                    reason: e.to_string(),
                })?;
                copied.push(name);
            }
        }
    }
    if !copied.iter().any(|n| n.starts_with("accounts.")) {
        return Err(Error::Input {
            path: from.into(),
            reason: "no `accounts` table (expected accounts.csv, accounts.parquet or accounts.ndjson, keyed by the vendor's account ids)".into(),
        });
    }
    Ok(copied)
}
