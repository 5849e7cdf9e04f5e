//! [`Imported`] as canonical text: `cases.csv` and `events.csv` in the
//! columns of SLT-SPEC §5 (instants as RFC 3339 UTC with `Z`), plus the
//! importer's rejects and per-file counts — what `slt import` writes, and
//! what `slt report` reads back like any canonical export.

use std::io;
use std::path::Path;

use super::Imported;
use crate::generate::{CASES_HEADER, EVENTS_HEADER};
use crate::timestamp::format_rfc3339;

/// Header of the importer's rejects.
pub const REJECTS_HEADER: &str = "file,locator,table,key,field,value,reason,detail";
/// Header of the per-file counts.
pub const FILES_HEADER: &str = "file,role,read,rows,skipped,rejected";

/// The canonical tables and the importer's accounting, as CSV bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// `cases.csv`.
    pub cases: Vec<u8>,
    /// `events.csv`.
    pub events: Vec<u8>,
    /// `import_rejects.csv`: one row per [`super::Reject`].
    pub rejects: Vec<u8>,
    /// `import_files.csv`: per vendor file, `role` `data` (records read =
    /// rows + skipped + rejected) or `lookup` (records read for reference).
    pub files: Vec<u8>,
}

fn writer() -> csv::Writer<Vec<u8>> {
    csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(Vec::new())
}

fn header(w: &mut csv::Writer<Vec<u8>>, header: &str) {
    w.write_record(header.split(','))
        .expect("writing to memory");
}

fn finish(w: csv::Writer<Vec<u8>>) -> Vec<u8> {
    w.into_inner().expect("writing to memory")
}

/// Renders `imported` as canonical CSV text.
pub fn render(imported: &Imported) -> Rendered {
    let (cases, events) = rayon::join(
        || {
            let mut w = writer();
            header(&mut w, CASES_HEADER);
            for c in &imported.cases {
                let o = |v: &Option<String>| v.clone().unwrap_or_default();
                w.write_record([
                    c.case_id.to_string(),
                    o(&c.account_id),
                    o(&c.product),
                    c.priority
                        .map(|p| p.as_str().to_string())
                        .unwrap_or_default(),
                    format_rfc3339(c.created_at),
                    c.closed_at.map(format_rfc3339).unwrap_or_default(),
                    o(&c.channel),
                    o(&c.language),
                    o(&c.contact_id),
                ])
                .expect("writing to memory");
            }
            finish(w)
        },
        || {
            let mut w = writer();
            header(&mut w, EVENTS_HEADER);
            for e in &imported.events {
                w.write_record([
                    &*e.case_id,
                    &format_rfc3339(e.at),
                    e.kind.as_str(),
                    e.value.as_deref().unwrap_or(""),
                ])
                .expect("writing to memory");
            }
            finish(w)
        },
    );
    let mut w = writer();
    header(&mut w, REJECTS_HEADER);
    for r in &imported.rejects {
        w.write_record([
            r.file.as_str(),
            &r.locator.to_string(),
            r.table.name(),
            r.key.as_deref().unwrap_or(""),
            &r.field,
            r.value.as_deref().unwrap_or(""),
            &r.reason,
            &r.detail,
        ])
        .expect("writing to memory");
    }
    let rejects = finish(w);
    let mut w = writer();
    header(&mut w, FILES_HEADER);
    for f in &imported.files {
        w.write_record([
            f.file.clone(),
            "data".into(),
            f.read.to_string(),
            f.rows.to_string(),
            f.skipped.to_string(),
            f.rejected.to_string(),
        ])
        .expect("writing to memory");
    }
    for l in &imported.lookups {
        w.write_record([
            l.file.clone(),
            "lookup".into(),
            l.records.to_string(),
            String::new(),
            String::new(),
            String::new(),
        ])
        .expect("writing to memory");
    }
    let files = finish(w);
    Rendered {
        cases,
        events,
        rejects,
        files,
    }
}

/// Writes [`render`]'s four files into `dir` (created if missing):
/// `cases.csv`, `events.csv`, `import_rejects.csv`, `import_files.csv`.
pub fn write_dir(imported: &Imported, dir: &Path) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let r = render(imported);
    std::fs::write(dir.join("cases.csv"), r.cases)?;
    std::fs::write(dir.join("events.csv"), r.events)?;
    std::fs::write(dir.join("import_rejects.csv"), r.rejects)?;
    std::fs::write(dir.join("import_files.csv"), r.files)?;
    Ok(())
}
