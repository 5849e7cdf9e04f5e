//! Export files → judged rows, and rejects. Nothing is lost: every data
//! row of every table is either used or rejected with a reason.
//!
//! Two stages: [`read`] takes the `accounts` table as read (a CSV table
//! parsed whole into its fields' text, `records`; another format into a
//! DataFrame), and opens the others present — `cases`, `events` and the
//! optional `engagements` and `contacts` — to be read in pieces as they
//! are judged (`stream`: a CSV or Parquet table of those is never held
//! whole; a CSV piece is parsed straight into its fields' text,
//! `records`; an NDJSON one is read whole); [`judge`](fn@judge) resolves
//! each table's canonical columns through the [`Mapping`] and runs its
//! judge — `accounts` (contracts), [`cases`], then `events` beside
//! `engagements` and `contacts` — each using what the earlier ones
//! accepted. What comes out ([`Ingested`]) is plain
//! Rust data; the DataFrames are dropped.

mod accounts;
pub mod cases;
mod contacts;
pub mod contracts;
mod engagements;
mod events;
mod ids;
pub mod judge;
pub mod read;
pub(crate) use text::trimmed_values;
mod records;
mod stream;
mod text;

pub use contracts::{Contracts, NoContract};
pub use judge::{Locator, Reject, RejectReason, RejectRow, RejectRows, Rejects};
pub use read::{
    read_all, read_vendor, Format, Input, Origins, Source, SourceFile, VendorImport, READ_IN_PIECES,
};

use crate::mapping::Mapping;
use crate::model::{Case, Contact, Engagement, Event, Table};
use crate::policy::Policy;
use crate::shard::Shard;
use crate::timestamp::Instant;
use crate::Result;

/// Row accounting of one table: read = used + rejected.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Data rows in the file.
    pub read: u64,
    /// Rows used.
    pub used: u64,
    /// Rows rejected.
    pub rejected: u64,
    /// With `--shard`: rows another shard uses or reports (`read = used +
    /// rejected + elsewhere`); 0 without.
    pub elsewhere: u64,
}

/// How the as-of instant was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AsOfSource {
    /// Given with `--as-of`.
    Flag,
    /// The latest `created_at`, `closed_at` or event `at` among the rows used.
    LatestInExport,
}

impl AsOfSource {
    /// Name in the manifest.
    pub fn as_str(self) -> &'static str {
        match self {
            AsOfSource::Flag => "flag",
            AsOfSource::LatestInExport => "latest_in_export",
        }
    }
}

/// Every table judged: what the later stages need, and the accounting.
#[derive(Debug)]
pub struct Ingested {
    /// The files read, in [`Table::ALL`] order (absent optional tables left out).
    pub files: Vec<SourceFile>,
    /// Every account's contracts.
    pub contracts: Contracts,
    /// Cases to measure, in file order.
    pub cases: Vec<Case>,
    /// Events of those cases, in file order.
    pub events: Vec<Event>,
    /// Services delivered.
    pub engagements: Vec<Engagement>,
    /// Contacts named.
    pub contacts: Vec<Contact>,
    /// Rows that can't be used (and vendor records rejected on import).
    pub rejects: Rejects,
    /// For a vendor export (`--source`): what its importer did.
    pub import: Option<VendorImport>,
    /// Data rows read per table, in [`Table::ALL`] order.
    read: [u64; Table::ALL.len()],
    /// With `--shard`: rows per table that other shards use or report.
    elsewhere: [u64; Table::ALL.len()],
    /// Canonical column → name in the file, per table (for rejects found
    /// after judging: a case the calendar cannot measure).
    column_names: Vec<(Table, &'static str, String)>,
}

impl Ingested {
    /// Read, used and rejected rows of `table` (zero for an absent table).
    pub fn counts(&self, table: Table) -> Counts {
        let read = self.read[table as usize];
        let rejected = self.rejects.count(table);
        let elsewhere = self.elsewhere[table as usize];
        Counts {
            read,
            used: read - rejected - elsewhere,
            rejected,
            elsewhere,
        }
    }

    /// Keeps what shard `shard` measures and reports (see [`crate::shard`]):
    /// its cases and their events; in shards other than the first, no
    /// reject (the export is judged whole in every shard, so the first
    /// reports every row rejected while reading) and none of the shared
    /// tables' rows. The rows left out are counted as `elsewhere`.
    pub fn keep_shard(&mut self, shard: Shard) {
        let first = shard.is_first();
        let cases_before = self.cases.len() as u64;
        let events_before = self.events.len() as u64;
        // New index of each case kept (u32::MAX: another shard's).
        let mut new_index = Vec::with_capacity(self.cases.len());
        let mut kept = 0u32;
        for c in &self.cases {
            if shard.contains(&c.id) {
                new_index.push(kept);
                kept += 1;
            } else {
                new_index.push(u32::MAX);
            }
        }
        let mut i = 0;
        self.cases.retain(|_| {
            i += 1;
            new_index[i - 1] != u32::MAX
        });
        self.events
            .retain_mut(|e| match new_index[e.case() as usize] {
                u32::MAX => false,
                case => {
                    *e = e.with_case(case);
                    true
                }
            });
        let mut elsewhere = [0u64; Table::ALL.len()];
        elsewhere[Table::Cases as usize] = cases_before - self.cases.len() as u64;
        elsewhere[Table::Events as usize] = events_before - self.events.len() as u64;
        if !first {
            for t in Table::ALL {
                elsewhere[t as usize] = match t {
                    // Every row not used here: used elsewhere or rejected (reported by shard 1).
                    Table::Cases => self.read[t as usize] - self.cases.len() as u64,
                    Table::Events => self.read[t as usize] - self.events.len() as u64,
                    _ => self.read[t as usize],
                };
            }
            self.rejects.clear();
        }
        self.elsewhere = elsewhere;
    }

    /// The file of `table`, if the export has one.
    pub fn file(&self, table: Table) -> Option<&SourceFile> {
        self.files.iter().find(|f| f.table == table)
    }

    /// The name in the file of canonical column `canonical` of `table`.
    pub fn column_name<'a>(&'a self, table: Table, canonical: &'a str) -> &'a str {
        self.column_names
            .iter()
            .find(|(t, c, _)| *t == table && *c == canonical)
            .map_or(canonical, |(_, _, name)| name.as_str())
    }

    /// The as-of instant: `--as-of` when given, else the latest
    /// `created_at`, `closed_at` or event `at` among the rows used (`None`
    /// when there is none).
    pub fn as_of(&self, flag: Option<Instant>) -> Option<(Instant, AsOfSource)> {
        if let Some(t) = flag {
            return Some((t, AsOfSource::Flag));
        }
        self.cases
            .iter()
            .flat_map(|c| [Some(c.created_at), c.closed_at])
            .flatten()
            .chain(self.events.iter().map(|e| e.at))
            .max()
            .map(|t| (t, AsOfSource::LatestInExport))
    }
}

/// Judges the tables read: every required column of every table first (a
/// missing one is an error before anything is judged), then each table.
/// `as_of` is `--as-of`: cases created after it are rejected. `import` is
/// what a vendor importer made of the export (`--source`), whose rejects
/// join the tables'.
pub fn judge(
    mut sources: Vec<Source>,
    mapping: &Mapping,
    policy: &Policy,
    as_of: Option<Instant>,
    import: Option<VendorImport>,
) -> Result<Ingested> {
    let mut columns: Vec<text::Columns> = sources
        .iter()
        .map(|s| text::Columns::of(s, mapping))
        .collect::<Result<_>>()?;
    let source = |t: Table| sources.iter().position(|s| s.table() == t);
    let mut rejects = Rejects::default();
    for s in &sources {
        rejects.locate(s.table(), s.path(), s.origins.clone());
    }
    for r in import.iter().flat_map(|i| &i.rejects) {
        rejects.push_import(import_reject(r));
    }
    let mut interner = judge::Interner::default();
    let mut read = [0u64; Table::ALL.len()];
    for s in &sources {
        read[s.table() as usize] = s.frame.height() as u64;
    }
    let required = |t: Table| source(t).expect("read_all reads every required table");
    let (a, c, e) = (
        required(Table::Accounts),
        required(Table::Cases),
        required(Table::Events),
    );
    let (g, k) = (source(Table::Engagements), source(Table::Contacts));
    let contracts = accounts::judge(
        &sources[a],
        &columns[a],
        mapping,
        policy,
        &mut interner,
        &mut rejects,
    );
    let pieces = sources[c].pieces.take();
    let (cases, pieces) = cases::judge_all(
        &sources[c],
        pieces,
        &columns[c],
        &cases::Judging {
            mapping,
            contracts: &contracts,
            as_of,
        },
        &mut interner,
        &mut rejects,
    )?;
    if let Some((pieces, rows)) = pieces {
        read[Table::Cases as usize] = rows;
        sources[c].file.sha256 = Some(pieces.sha256()?);
    }
    // The accounts' and cases' text is no longer needed: let it go before
    // the events, the largest table, are judged.
    for i in [a, c] {
        sources[i].frame = polars::prelude::DataFrame::empty();
        columns[i] = text::Columns::released(sources[i].table());
    }
    // The events (which need the cases) and the optional tables (which
    // need only the contracts) are judged side by side; their rejects are
    // put back in table order.
    let mut optional_rejects = rejects.sibling();
    // Each optional table is read in pieces and judged as they come, or,
    // read whole, its text let go as soon as it is judged.
    let mut own = |i: Option<usize>| {
        i.map(|i| {
            let empty = Source {
                file: sources[i].file.clone(),
                frame: polars::prelude::DataFrame::empty(),
                origins: None,
                pieces: None,
                parsed: None,
            };
            let released = text::Columns::released(sources[i].table());
            let mut source = std::mem::replace(&mut sources[i], empty);
            let pieces = source.pieces.take();
            (
                i,
                source,
                pieces,
                std::mem::replace(&mut columns[i], released),
            )
        })
    };
    let (g, k) = (own(g), own(k));
    let pieces = sources[e].pieces.take();
    let (events, optional) = rayon::join(
        || {
            events::judge_all(
                &sources[e],
                pieces,
                &columns[e],
                mapping,
                &cases,
                &mut rejects,
            )
        },
        || -> Result<_> {
            let judging = engagements::Judging {
                mapping,
                contracts: &contracts,
                interner: &interner,
            };
            // Side by side too, each with its own rejects (the
            // contacts' put after the engagements').
            let mut contact_rejects = optional_rejects.sibling();
            let (engagements, contacts) = rayon::join(
                || -> Result<_> {
                    let Some((i, source, pieces, cols)) = g else {
                        return Ok(None);
                    };
                    let judged = engagements::judge_all(
                        &source,
                        pieces,
                        &cols,
                        &judging,
                        &mut optional_rejects,
                    )?;
                    Ok(Some((i, judged)))
                },
                || -> Result<_> {
                    let Some((i, source, pieces, cols)) = k else {
                        return Ok(None);
                    };
                    let judged = contacts::judge_all(
                        (&source, pieces, &cols),
                        mapping,
                        &contracts,
                        &interner,
                        &mut contact_rejects,
                    )?;
                    Ok(Some((i, judged)))
                },
            );
            let engagements = engagements?;
            optional_rejects.append(contact_rejects);
            let contacts = contacts?;
            Ok((engagements, contacts))
        },
    );
    let events = read_to_the_end(&mut sources, &mut read, Some((e, events?)))?;
    let (engagements, contacts) = optional?;
    let engagements = read_to_the_end(&mut sources, &mut read, engagements)?;
    let contacts = read_to_the_end(&mut sources, &mut read, contacts)?;
    rejects.append(optional_rejects);
    let column_names = sources
        .iter()
        .flat_map(|s| {
            let t = s.table();
            t.columns().iter().map(move |c| {
                (
                    t,
                    c.name(),
                    mapping.source_column(t.name(), c.name()).to_string(),
                )
            })
        })
        .collect();
    Ok(Ingested {
        files: sources.into_iter().map(|s| s.file).collect(),
        contracts,
        cases: cases.cases,
        events,
        engagements,
        contacts,
        rejects,
        import,
        read,
        elsewhere: [0; Table::ALL.len()],
        column_names,
    })
}

/// The rows judged of `sources[i]`, for `judged = Some((i, (rows,
/// read)))`; for a table read in pieces (`read`), its file's hash and data
/// rows noted.
fn read_to_the_end<T>(
    sources: &mut [Source],
    read: &mut [u64],
    judged: Option<(usize, judge::Judged<T>)>,
) -> Result<Vec<T>> {
    let Some((i, (rows, pieces))) = judged else {
        return Ok(Vec::new());
    };
    if let Some((pieces, data_rows)) = pieces {
        read[sources[i].table() as usize] = data_rows;
        sources[i].file.sha256 = Some(pieces.sha256()?);
    }
    Ok(rows)
}

/// A vendor importer's reject as a row of `rejects`: the canonical table it
/// was to become a row of, row number 0 (it never became one), the vendor
/// field as the column.
fn import_reject(r: &crate::vendor::Reject) -> Reject {
    let table = match r.table {
        crate::vendor::Table::Cases => Table::Cases,
        crate::vendor::Table::Events => Table::Events,
    };
    Reject {
        table,
        row_number: 0,
        key: r.key.clone(),
        column: r.field.clone(),
        value: r.value.clone(),
        reason: RejectReason::of_vendor(&r.reason),
        file: r.file.clone(),
        locator: r.locator.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::read::{read_all_in_pieces, Input};
    use super::*;

    /// The demo's events with what makes CSV hard: quoted line breaks and
    /// quotes, CRLF line ends, blank lines, a ragged row, bytes that are
    /// not UTF-8, and rows that are rejected for what they say.
    fn hostile_events() -> Vec<u8> {
        let demo = include_str!("../../fixtures/demo/events.csv");
        let mut lines = demo.lines();
        let header = lines.next().unwrap();
        let mut out = format!("{header}\r\n").into_bytes();
        for (i, line) in lines.enumerate() {
            out.extend_from_slice(line.as_bytes());
            out.extend_from_slice(if i % 3 == 0 { b"\r\n" } else { b"\n" });
            match i {
                5 => out.extend_from_slice(
                    b"C-NOPE,2026-01-01T00:00:00Z,agent_response,\"a\nb \"\"q\"\"\"\n",
                ),
                9 => out.extend_from_slice(b"\n"),
                14 => out.extend_from_slice(b"C-1,2026-01-01T00:00:00Z\n"),
                20 => out.extend_from_slice(b"C-1,\xff\xfe,agent_response,\n"),
                27 => out.extend_from_slice(b"\"C-2\",\"2026-13-01T00:00:00Z\",\"x\ny\",\n"),
                _ => {}
            }
        }
        out
    }

    /// The demo's cases with the same, and rows sharing a case id pieces
    /// apart: identical (collapse into the first), differing (all
    /// rejected, the first included), and differing with no contract
    /// (rejected as duplicates, not for the account).
    fn hostile_cases() -> Vec<u8> {
        let demo = include_str!("../../fixtures/demo/cases.csv");
        let lines: Vec<&str> = demo.lines().collect();
        let mut out = format!("{}\r\n", lines[0]).into_bytes();
        for (i, line) in lines[1..].iter().enumerate() {
            out.extend_from_slice(line.as_bytes());
            out.extend_from_slice(if i % 4 == 0 { b"\r\n" } else { b"\n" });
            match i {
                3 => out.extend_from_slice(format!("{}\n", lines[1]).as_bytes()),
                7 => out.extend_from_slice(b"C-X1,ACC-NOPE,Adobe Commerce,P3,2026-01-01T08:18:39Z,,web,en,\n"),
                9 => out.extend_from_slice(b"\n"),
                11 => out.extend_from_slice(b"C-X2,ACC-NOPE,Adobe Commerce,P3,2026-01-01T08:18:39Z,,web,en,\n"),
                14 => out.extend_from_slice(b"C-X3,ACC-0038\n"),
                20 => out.extend_from_slice(b"C-X4,ACC-0038,\xff,P3,2026-01-01T08:18:39Z,,web,en,\n"),
                27 => out.extend_from_slice(
                    b"C-X5,ACC-0038,\"Adobe\nCommerce \"\"x\"\"\",P3,2026-01-01T08:18:39Z,,web,en,\n",
                ),
                2900 => out.extend_from_slice(format!("{}\r\n", lines[10]).as_bytes()),
                2950 => {
                    out.extend_from_slice(lines[20].replace(",P3,", ",P1,").replace(",P4,", ",P2,").as_bytes());
                    out.extend_from_slice(b"\n");
                    out.extend_from_slice(b"C-X2,ACC-NOPE,Adobe Commerce,P4,2026-01-01T08:18:39Z,,web,en,\n");
                }
                _ => {}
            }
        }
        out
    }

    /// A directory holding the demo's `tables`, for a test to add the others.
    fn demo_tables(tables: &[&str]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for t in tables {
            let from = format!("{}/fixtures/demo/{t}.csv", env!("CARGO_MANIFEST_DIR"));
            std::fs::copy(from, dir.path().join(format!("{t}.csv"))).unwrap();
        }
        dir
    }

    fn judged(dir: &std::path::Path, piece_size: Option<(usize, usize)>) -> Ingested {
        let sources = read_all_in_pieces(
            &Input::Dir(dir.to_path_buf()),
            piece_size,
            &read::READ_IN_PIECES,
        )
        .unwrap();
        let streamed = sources.iter().any(|s| s.pieces.is_some());
        assert_eq!(streamed, piece_size.is_some());
        judge(sources, &Mapping::default(), &Policy::bundled(), None, None).unwrap()
    }

    #[test]
    fn cases_and_events_read_in_pieces_judge_as_the_whole_files_do() {
        let dir = demo_tables(&["accounts", "engagements", "contacts"]);
        std::fs::write(dir.path().join("cases.csv"), hostile_cases()).unwrap();
        std::fs::write(dir.path().join("events.csv"), hostile_events()).unwrap();
        let whole = judged(dir.path(), None);
        assert!(
            whole.rejects.count(Table::Events) >= 4,
            "{:?}",
            whole.rejects.rows()
        );
        let reasons = |table: Table| -> Vec<(u64, RejectReason)> {
            let rows = whole.rejects.rows().iter().filter(|r| r.table == table);
            rows.map(|r| (r.row_number, r.reason)).collect()
        };
        // What the hostile rows are judged, read whole (the pieces must
        // agree): rows 1 and 5 are the same, rows 24 and 2959 differ in
        // priority, rows 15 and 2960 have no contract and differ.
        let cases = reasons(Table::Cases);
        for (row, reason) in [
            (5, RejectReason::IdenticalDuplicate),
            (2908, RejectReason::IdenticalDuplicate),
            (24, RejectReason::ConflictingDuplicate),
            (2959, RejectReason::ConflictingDuplicate),
            (10, RejectReason::UnknownAccount),
            (15, RejectReason::ConflictingDuplicate),
            (2960, RejectReason::ConflictingDuplicate),
            (19, RejectReason::RaggedRow),
            (26, RejectReason::NotUtf8),
        ] {
            assert!(cases.contains(&(row, reason)), "row {row}: {cases:?}");
        }
        for piece_bytes in [1, 7, 100, 1000, 1 << 20] {
            let pieces = judged(dir.path(), Some((piece_bytes, 1)));
            assert!(pieces.cases == whole.cases, "pieces of {piece_bytes}");
            let first_difference = |a: &[Event], b: &[Event]| {
                let at = a.iter().zip(b).position(|(x, y)| x != y);
                (a.len(), at, at.map(|i| (a[i], b[i])))
            };
            assert_eq!(
                first_difference(&pieces.events, &whole.events),
                (whole.events.len(), None, None),
                "pieces of {piece_bytes}"
            );
            for (p, w) in pieces.rejects.rows().iter().zip(whole.rejects.rows()) {
                assert_eq!(p, w, "pieces of {piece_bytes}");
            }
            assert_eq!(pieces.rejects.rows().len(), whole.rejects.rows().len());
            assert_eq!(pieces.files, whole.files, "pieces of {piece_bytes}");
            for t in Table::ALL {
                assert_eq!(pieces.counts(t), whole.counts(t));
            }
        }
    }

    /// The demo's engagements and contacts made hostile, each given rows
    /// that repeat one far above them — identical (plain, quoted or
    /// padded), or differing only in how a timestamp is written, or
    /// overlapping in time — judged read in pieces of any size as read
    /// whole: the same rows kept, the same rejects (whose values show the
    /// timestamps as written), in the same order.
    #[test]
    fn engagements_and_contacts_read_in_pieces_judge_as_the_whole_files_do() {
        let dir = demo_tables(&["accounts", "cases", "events"]);
        let mut engagements = hostile("engagements");
        for row in [
            // Row 1 again (identical), quoted and padded (identical), and
            // row 2 with its instant written with an offset (conflicting).
            "EN-00001,ACC-0017,expert_session,,2024-02-01T01:00:00Z,Adobe Commerce",
            "\"EN-00001\", ACC-0017 ,\"expert_session\",,2024-02-01T01:00:00Z,Adobe Commerce",
            "EN-00002,ACC-0017,field_activity,strategic,2024-03-15T00:00:00+01:00,Adobe Commerce",
        ] {
            engagements.extend_from_slice(format!("\r\n{row}").as_bytes());
        }
        std::fs::write(dir.path().join("engagements.csv"), engagements).unwrap();
        let mut contacts = hostile("contacts");
        for row in [
            // Row 1 again (identical), row 2 added at the same instant
            // written otherwise (overlapping), row 1 again later, while
            // still named (overlapping), row 1 removed at a far-future
            // sentinel (overlapping).
            "ACC-0001,Adobe Journey Optimizer,CT-0001-01,2022-06-17T16:00:00Z,",
            "ACC-0001,Adobe Journey Optimizer,CT-0001-03,2022-06-21t20:00:00.000Z,",
            "ACC-0001,Adobe Journey Optimizer,CT-0001-01,2023-01-02T03:04:05+02:00,2024-01-01T00:00:00Z",
            "ACC-0001,Adobe Journey Optimizer,CT-0001-01,2022-06-17T16:00:00Z,9999-12-31",
        ] {
            contacts.extend_from_slice(format!("\r\n{row}").as_bytes());
        }
        std::fs::write(dir.path().join("contacts.csv"), contacts).unwrap();
        let whole = judged(dir.path(), None);
        let rejected = |table: Table| -> Vec<(RejectReason, Option<String>)> {
            let rows = whole.rejects.rows().iter().filter(|r| r.table == table);
            rows.map(|r| (r.reason, r.value.map(str::to_string)))
                .collect()
        };
        let (e, c) = (rejected(Table::Engagements), rejected(Table::Contacts));
        for (reason, value) in [
            (RejectReason::IdenticalDuplicate, "EN-00001"),
            (RejectReason::ConflictingDuplicate, "EN-00002"),
        ] {
            let found = e.iter().filter(|r| r == &&(reason, Some(value.into())));
            assert_eq!(found.count(), 2, "{reason:?} {value}: {e:?}");
        }
        for (reason, value) in [
            (RejectReason::IdenticalDuplicate, "2022-06-17T16:00:00Z"),
            (RejectReason::OverlappingContact, "2022-06-21t20:00:00.000Z"),
            (
                RejectReason::OverlappingContact,
                "2023-01-02T03:04:05+02:00",
            ),
            (RejectReason::OverlappingContact, "2022-06-17T16:00:00Z"),
        ] {
            assert!(
                c.contains(&(reason, Some(value.into()))),
                "{reason:?} {value}: {c:?}"
            );
        }
        for reason in [RejectReason::RaggedRow, RejectReason::NotUtf8] {
            assert!(e.iter().any(|r| r.0 == reason), "{reason:?}: {e:?}");
            assert!(c.iter().any(|r| r.0 == reason), "{reason:?}: {c:?}");
        }
        for piece_bytes in [1, 7, 100, 1000, 1 << 20] {
            let pieces = judged(dir.path(), Some((piece_bytes, 1)));
            let what = format!("pieces of {piece_bytes}");
            assert!(pieces.engagements == whole.engagements, "{what}");
            assert!(pieces.contacts == whole.contacts, "{what}");
            assert_judged_alike(&pieces, &whole, &what);
        }
    }

    /// A demo table with what makes CSV hard, every few rows: a byte order
    /// mark, CRLF line ends, quoted values (one with a line break, a comma
    /// and quotes), a ragged row, a row with a field too many, bytes that
    /// are not UTF-8, spaces around a row, blank lines, no final line end.
    fn hostile(table: &str) -> Vec<u8> {
        let path = format!("{}/fixtures/demo/{table}.csv", env!("CARGO_MANIFEST_DIR"));
        let demo = std::fs::read_to_string(path).unwrap();
        let mut lines = demo.lines();
        let mut out = b"\xef\xbb\xbf".to_vec();
        out.extend_from_slice(lines.next().unwrap().as_bytes());
        for (i, line) in lines.enumerate() {
            out.extend_from_slice(b"\r\n");
            let fields: Vec<&str> = line.split(',').collect();
            let row = match i % 9 {
                1 => fields
                    .iter()
                    .map(|f| format!("\"{f}\""))
                    .collect::<Vec<_>>()
                    .join(","),
                2 => fields[..fields.len() - 1].join(","),
                3 => line.replacen('-', "\u{fffd}", 1),
                4 => format!(" {line} "),
                5 => format!("\r\n{line}"),
                6 => {
                    let last = fields.len() - 1;
                    format!("{},\"multi\nline, \"\"q\"\"\"", fields[..last].join(","))
                }
                7 => format!("{line},"),
                _ => line.to_string(),
            };
            let bytes = row.into_bytes();
            if i % 9 == 3 {
                // The replacement character's bytes, made invalid.
                let bad: Vec<u8> = String::from_utf8(bytes)
                    .unwrap()
                    .replace('\u{fffd}', "\u{1}")
                    .into_bytes()
                    .into_iter()
                    .map(|b| if b == 1 { 0xff } else { b })
                    .collect();
                out.extend_from_slice(&bad);
            } else {
                out.extend_from_slice(&bytes);
            }
        }
        out
    }

    /// The tables read whole for a report (accounts) are parsed by the
    /// pieces' parser, and by polars otherwise; engagements and contacts,
    /// read in pieces, judge as polars reads them whole: hostile files
    /// judge the same either way.
    #[test]
    fn tables_parsed_whole_judge_as_polars_reads_them() {
        let dir = demo_tables(&["cases", "events"]);
        for t in ["accounts", "engagements", "contacts"] {
            std::fs::write(dir.path().join(format!("{t}.csv")), hostile(t)).unwrap();
        }
        let by_polars = judged(dir.path(), None);
        let parsed_sources = read_all_in_pieces(
            &Input::Dir(dir.path().to_path_buf()),
            Some((1 << 20, 1)),
            &read::READ_IN_PIECES,
        )
        .unwrap();
        for s in &parsed_sources {
            let whole = !read::READ_IN_PIECES.contains(&s.table());
            assert_eq!(s.parsed.is_some(), whole, "{:?}", s.table());
        }
        let parsed = judge(
            parsed_sources,
            &Mapping::default(),
            &Policy::bundled(),
            None,
            None,
        )
        .unwrap();
        for (table, reason) in [
            (Table::Accounts, RejectReason::RaggedRow),
            (Table::Engagements, RejectReason::NotUtf8),
            (Table::Contacts, RejectReason::RaggedRow),
        ] {
            let found = by_polars.rejects.rows().iter();
            let mut found = found.filter(|r| r.table == table);
            assert!(found.any(|r| r.reason == reason), "{table:?} {reason:?}");
        }
        assert!(parsed.engagements.len() > 100 && parsed.contacts.len() > 100);
        assert!(parsed.engagements == by_polars.engagements);
        assert!(parsed.contacts == by_polars.contacts);
        assert_eq!(parsed.contracts.accounts(), by_polars.contracts.accounts());
        assert_judged_alike(&parsed, &by_polars, "parsed whole");
    }

    /// `a` and `b` judged every row alike: the same cases, events and
    /// rejects, files and counts.
    fn assert_judged_alike(a: &Ingested, b: &Ingested, what: &str) {
        assert_rows_judged_alike(a, b, what);
        assert_eq!(a.files, b.files, "{what}");
    }

    /// `a` and `b` judged every row alike, as [`assert_judged_alike`],
    /// their files perhaps not the same bytes (nor their hashes).
    fn assert_rows_judged_alike(a: &Ingested, b: &Ingested, what: &str) {
        assert!(a.cases == b.cases, "{what}");
        assert!(a.events == b.events, "{what}");
        assert!(
            a.rejects.rows().iter().eq(b.rejects.rows().iter()),
            "{what}"
        );
        for t in Table::ALL {
            assert_eq!(a.counts(t), b.counts(t), "{what}");
        }
    }

    /// A header name with spaces around it is not the canonical name, in
    /// a table parsed whole as in one read by polars: the same error, the
    /// name as written shown beside a near match.
    #[test]
    fn a_spaced_header_name_is_missing_whether_parsed_whole_or_read_by_polars() {
        let dir = demo_tables(&["cases", "events", "engagements"]);
        let accounts =
            include_str!("../../fixtures/demo/accounts.csv").replacen(",region,", ", region ,", 1);
        std::fs::write(dir.path().join("accounts.csv"), accounts).unwrap();
        let error = |piece_size| {
            let input = Input::Dir(dir.path().to_path_buf());
            let sources = read_all_in_pieces(&input, piece_size, &read::READ_IN_PIECES).unwrap();
            let judged = judge(sources, &Mapping::default(), &Policy::bundled(), None, None);
            judged.err().map(|e| e.to_string())
        };
        let parsed = error(Some((1 << 20, 1)));
        assert!(
            parsed
                .as_deref()
                .is_some_and(|e| e.contains("missing column `region`")
                    && e.contains("did you mean ` region `?")),
            "{parsed:?}"
        );
        assert_eq!(parsed, error(None));
    }

    /// Events listed in no particular order (shuffled, as an export
    /// sorted by time or by nothing lists them), with ids no case has,
    /// ids of rejected cases, rows with no id and rows before their case's
    /// creation among them: each row is judged as in the cases' order,
    /// read whole or in pieces.
    #[test]
    fn events_listed_out_of_the_cases_order_judge_as_in_order() {
        let dir = demo_tables(&["accounts"]);
        std::fs::write(dir.path().join("cases.csv"), hostile_cases()).unwrap();
        let demo = include_str!("../../fixtures/demo/events.csv");
        let header = demo.lines().next().unwrap();
        let mut rows: Vec<String> = demo.lines().skip(1).map(str::to_string).collect();
        for k in 0..50 {
            rows.insert(
                k * 97,
                format!("C-NOPE{k},2026-01-01T00:00:00Z,agent_response,"),
            );
            rows.insert(
                k * 89 + 3,
                ",2026-01-01T00:00:00Z,agent_response,".to_string(),
            );
            let case = k * 59 + 1;
            rows.insert(
                k * 83 + 5,
                format!("C-{case:07},2025-12-31T00:00:00Z,agent_response,"),
            );
        }
        let write = |rows: &[String]| {
            std::fs::write(
                dir.path().join("events.csv"),
                format!("{header}\n{}\n", rows.join("\n")),
            )
            .unwrap()
        };
        // What each event or reject says, whatever its row.
        let judged_rows = |ingested: &Ingested| {
            let cases = &ingested.cases;
            let mut events: Vec<_> = ingested
                .events
                .iter()
                .map(|e| {
                    (
                        cases[e.case() as usize].id.clone(),
                        e.at,
                        e.kind() as u8,
                        e.priority(),
                    )
                })
                .collect();
            events.sort();
            let mut rejects: Vec<_> = ingested
                .rejects
                .rows()
                .iter()
                .filter(|r| r.table == Table::Events)
                .map(|r| {
                    (
                        r.key.map(str::to_string),
                        r.column.to_string(),
                        r.value.map(str::to_string),
                        r.reason,
                    )
                })
                .collect();
            rejects.sort();
            (events, rejects)
        };
        write(&rows);
        let in_order = judged(dir.path(), None);
        let want = judged_rows(&in_order);
        assert!(want.0.len() > 12_000, "{}", want.0.len());
        let reasons: Vec<RejectReason> = want.1.iter().map(|r| r.3).collect();
        for reason in [
            RejectReason::UnknownCase,
            RejectReason::CaseRejected,
            RejectReason::MissingValue,
            RejectReason::BeforeCaseCreation,
        ] {
            assert!(reasons.contains(&reason), "{reason:?}: {reasons:?}");
        }
        // Shuffled (a stride through the rows), then reversed.
        let n = rows.len();
        let stride = (7919..).find(|s| gcd(*s, n) == 1).unwrap();
        let shuffled: Vec<String> = (0..n).map(|k| rows[k * stride % n].clone()).collect();
        let reversed: Vec<String> = rows.iter().rev().cloned().collect();
        for (name, order) in [("shuffled", shuffled), ("reversed", reversed)] {
            write(&order);
            for piece_bytes in [None, Some((20_000, 1))] {
                let ingested = judged(dir.path(), piece_bytes);
                assert!(ingested.cases == in_order.cases, "{name}");
                assert!(
                    judged_rows(&ingested) == want,
                    "{name}, pieces {piece_bytes:?}"
                );
            }
        }
    }

    fn gcd(a: usize, b: usize) -> usize {
        if b == 0 {
            a
        } else {
            gcd(b, a % b)
        }
    }

    #[test]
    fn parquet_cases_and_events_read_in_slices_judge_as_the_whole_files_do() {
        use polars::prelude::*;
        let dir = tempfile::tempdir().unwrap();
        let from = format!("{}/fixtures/demo/accounts.csv", env!("CARGO_MANIFEST_DIR"));
        std::fs::copy(from, dir.path().join("accounts.csv")).unwrap();
        std::fs::write(dir.path().join("cases.csv"), hostile_cases()).unwrap();
        for t in ["cases", "events"] {
            let from = match t {
                "cases" => dir.path().join("cases.csv"),
                _ => format!("{}/fixtures/demo/{t}.csv", env!("CARGO_MANIFEST_DIR")).into(),
            };
            let mut frame = CsvReadOptions::default()
                .with_infer_schema_length(Some(0))
                .with_parse_options(
                    CsvParseOptions::default().with_encoding(CsvEncoding::LossyUtf8),
                )
                .with_ignore_errors(true)
                .try_into_reader_with_file_path(Some(from))
                .unwrap()
                .finish()
                .unwrap();
            let file = std::fs::File::create(dir.path().join(format!("{t}.parquet"))).unwrap();
            ParquetWriter::new(file)
                .with_row_group_size(Some(1000))
                .finish(&mut frame)
                .unwrap();
        }
        std::fs::remove_file(dir.path().join("cases.csv")).unwrap();
        let whole = judged(dir.path(), None);
        assert!(whole.events.len() > 10_000);
        let duplicates = whole.rejects.rows().iter().filter(|r| {
            matches!(
                r.reason,
                RejectReason::IdenticalDuplicate | RejectReason::ConflictingDuplicate
            )
        });
        assert!(duplicates.count() >= 6, "{:?}", whole.rejects.rows());
        for piece_rows in [7, 999, 1000, 4097, 1 << 20] {
            let pieces = judged(dir.path(), Some((1 << 20, piece_rows)));
            assert_judged_alike(&pieces, &whole, &format!("slices of {piece_rows}"));
        }
    }

    /// Timestamps typed in a Parquet export (any unit, with or without a
    /// time zone) are judged as their text in UTC would be: the same
    /// cases, events, contacts and engagements, the same rejects with the
    /// same values, whether an instant is read as itself (inside slt's
    /// range) or through its text (outside it, or without a zone), read
    /// whole or in slices. The contract bounds are typed too: the judge
    /// reads them through their text, made once per column. Edge values
    /// are planted: the first and last instants of the range and the ones
    /// just outside it, a far-future end, sub-microsecond and negative
    /// nanoseconds, nulls.
    #[test]
    fn typed_timestamps_judge_as_their_utc_text_does() {
        use crate::timestamp::{format_rfc3339, parse_rfc3339, MAX_INSTANT, MIN_INSTANT};
        use polars::prelude::*;

        let read_csv = |bytes: Vec<u8>| {
            CsvReadOptions::default()
                .with_infer_schema_length(Some(0))
                .with_parse_options(
                    CsvParseOptions::default().with_encoding(CsvEncoding::LossyUtf8),
                )
                .with_ignore_errors(true)
                .into_reader_with_file_handle(std::io::Cursor::new(bytes))
                .finish()
                .unwrap()
        };
        let demo = |t: &str| {
            std::fs::read(format!(
                "{}/fixtures/demo/{t}.csv",
                env!("CARGO_MANIFEST_DIR")
            ))
            .unwrap()
        };
        let edges = [
            MIN_INSTANT - 1,
            MIN_INSTANT,
            MAX_INSTANT - 1,
            MAX_INSTANT,
            MAX_INSTANT + 86_400_000_000 * 365 * 50,
            -1,
        ];
        // (table, column, unit, zoned): each variant types the columns so.
        let variants: [[(&str, &str, TimeUnit, bool); 8]; 2] = [
            [
                ("accounts", "valid_from", TimeUnit::Microseconds, true),
                ("accounts", "valid_to", TimeUnit::Nanoseconds, true),
                ("cases", "created_at", TimeUnit::Nanoseconds, true),
                ("cases", "closed_at", TimeUnit::Milliseconds, true),
                ("events", "at", TimeUnit::Microseconds, true),
                ("engagements", "delivered_at", TimeUnit::Milliseconds, true),
                ("contacts", "added_at", TimeUnit::Microseconds, true),
                ("contacts", "removed_at", TimeUnit::Nanoseconds, true),
            ],
            [
                ("accounts", "valid_from", TimeUnit::Milliseconds, true),
                ("accounts", "valid_to", TimeUnit::Microseconds, true),
                ("cases", "created_at", TimeUnit::Microseconds, true),
                ("cases", "closed_at", TimeUnit::Microseconds, true),
                ("events", "at", TimeUnit::Nanoseconds, true),
                ("engagements", "delivered_at", TimeUnit::Microseconds, false),
                ("contacts", "added_at", TimeUnit::Milliseconds, true),
                ("contacts", "removed_at", TimeUnit::Microseconds, false),
            ],
        ];
        for variant in variants {
            // Both exports are written to one directory in turn, so that
            // the rejects name the same files.
            let dir = tempfile::tempdir().unwrap();
            let mut frames = Vec::new();
            for table in ["accounts", "cases", "events", "engagements", "contacts"] {
                let bytes = match table {
                    "cases" => hostile_cases(),
                    _ => demo(table),
                };
                let (mut typed_frame, mut text_frame) = (read_csv(bytes.clone()), read_csv(bytes));
                let typed_here = variant.iter().enumerate().filter(|(_, v)| v.0 == table);
                for (k, &(_, column, unit, zoned)) in typed_here {
                    let per_micro = match unit {
                        TimeUnit::Nanoseconds => 1000,
                        TimeUnit::Microseconds => 1,
                        TimeUnit::Milliseconds => 1,
                    };
                    let texts = typed_frame.column(column).unwrap().str().unwrap().clone();
                    // The instants as the unit holds them, edges planted
                    // every 97 rows, not the same in two columns of a row
                    // (nanoseconds a little past the micro).
                    let values: Vec<Option<i64>> = texts
                        .iter()
                        .enumerate()
                        .map(|(i, t)| {
                            let planted = (i % 97 == 5).then(|| edges[(i / 97 + k) % edges.len()]);
                            // A bare date (a contract bound) as midnight UTC.
                            let date = |t: &str| {
                                let d = chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d").ok()?;
                                Some(
                                    d.and_time(chrono::NaiveTime::MIN)
                                        .and_utc()
                                        .timestamp_micros(),
                                )
                            };
                            let parsed = |t: &str| parse_rfc3339(t).ok().or_else(|| date(t));
                            let t = planted.or_else(|| t.and_then(parsed))?;
                            Some(match unit {
                                TimeUnit::Milliseconds => t.div_euclid(1000),
                                _ => t.saturating_mul(per_micro) + (per_micro - 1) * (i as i64 % 2),
                            })
                        })
                        .collect();
                    // What the export would have written as text: the
                    // instant in UTC (a finer unit truncated toward the
                    // past), as slt's range clamps it, `Z` only if zoned.
                    let rendered: Vec<Option<String>> = values
                        .iter()
                        .map(|&v| {
                            let micros = match unit {
                                TimeUnit::Nanoseconds => v?.div_euclid(1000),
                                TimeUnit::Microseconds => v?,
                                TimeUnit::Milliseconds => v?.saturating_mul(1000),
                            };
                            let t = format_rfc3339(micros.clamp(MIN_INSTANT, MAX_INSTANT));
                            Some(if zoned {
                                t
                            } else {
                                t.trim_end_matches('Z').into()
                            })
                        })
                        .collect();
                    let zone = zoned.then(|| {
                        TimeZone::opt_try_new(Some(if column == "created_at" {
                            "Asia/Tokyo"
                        } else {
                            "UTC"
                        }))
                        .unwrap()
                        .unwrap()
                    });
                    let instants =
                        Int64Chunked::from_iter_options(column.into(), values.into_iter())
                            .into_datetime(unit, zone)
                            .into_column();
                    typed_frame.with_column(instants).unwrap();
                    let strings =
                        StringChunked::from_iter_options(column.into(), rendered.into_iter());
                    text_frame.with_column(strings.into_column()).unwrap();
                }
                frames.push((table, typed_frame, text_frame));
            }
            let write = |typed: bool| {
                for (table, typed_frame, text_frame) in &frames {
                    let mut frame = if typed { typed_frame } else { text_frame }.clone();
                    let file = std::fs::File::create(dir.path().join(format!("{table}.parquet")));
                    ParquetWriter::new(file.unwrap())
                        .with_row_group_size(Some(1000))
                        .finish(&mut frame)
                        .unwrap();
                }
            };
            write(false);
            let as_text = judged(dir.path(), None);
            let reasons: std::collections::BTreeSet<RejectReason> =
                as_text.rejects.rows().iter().map(|r| r.reason).collect();
            for reason in [
                RejectReason::OutOfRange,
                RejectReason::ClosedBeforeCreated,
                RejectReason::BeforeCaseCreation,
                RejectReason::IdenticalDuplicate,
            ] {
                assert!(reasons.contains(&reason), "{reason:?}: {reasons:?}");
            }
            let naive = variant.iter().any(|v| !v.3);
            let without_offset = RejectReason::TimestampWithoutOffset;
            assert_eq!(reasons.contains(&without_offset), naive, "{reasons:?}");
            assert!(as_text.events.len() > 10_000 && as_text.contacts.len() > 100);
            write(true);
            for piece_size in [None, Some((1 << 20, 999))] {
                let as_typed = judged(dir.path(), piece_size);
                let what = format!("{variant:?}, pieces {piece_size:?}");
                assert_rows_judged_alike(&as_typed, &as_text, &what);
                assert!(as_typed.engagements == as_text.engagements, "{what}");
                assert!(as_typed.contacts == as_text.contacts, "{what}");
            }
        }
    }

    #[test]
    fn a_contact_named_again_over_overlapping_time_is_rejected_and_a_later_naming_kept() {
        let dir = demo_tables(&["accounts", "cases", "events"]);
        // Rows 1-2: the same naming twice (identical duplicate); row 3
        // overlaps row 1 with another end; row 4 names C1 again after
        // row 1 ended; row 5 is C1 on another product; row 6 overlaps row
        // 4 and is listed before it in time order, so row 4 is the late one.
        let contacts = "account_id,product,contact_id,added_at,removed_at\n\
            ACC-0001,Adobe Commerce,C1,2024-01-01T00:00:00Z,2024-06-01T00:00:00Z\n\
            ACC-0001,Adobe Commerce,C1,2024-01-01T00:00:00Z,2024-06-01T00:00:00Z\n\
            ACC-0001,Adobe Commerce,C1,2024-03-01T00:00:00Z,2024-09-01T00:00:00Z\n\
            ACC-0001,Adobe Commerce,C1,2024-08-01T00:00:00Z,\n\
            ACC-0001,Adobe Analytics,C1,2024-01-01T00:00:00Z,\n\
            ACC-0001,Adobe Commerce,C1,2024-07-01T00:00:00Z,2024-08-15T00:00:00Z\n";
        std::fs::write(dir.path().join("contacts.csv"), contacts).unwrap();
        let ingested = judged(dir.path(), None);
        let kept: Vec<u32> = ingested.contacts.iter().map(|c| c.row).collect();
        assert_eq!(kept, [0, 4, 5]);
        let rejected: Vec<(u64, RejectReason)> = ingested
            .rejects
            .rows()
            .iter()
            .filter(|r| r.table == Table::Contacts)
            .map(|r| (r.row_number, r.reason))
            .collect();
        assert_eq!(
            rejected,
            [
                (2, RejectReason::IdenticalDuplicate),
                (3, RejectReason::OverlappingContact),
                (4, RejectReason::OverlappingContact),
            ]
        );
        assert_eq!(ingested.counts(Table::Contacts).rejected, 3);
    }
}
