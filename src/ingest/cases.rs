//! The `cases` table → cases ready to measure.
//!
//! A case needs an id, an account with a contract in force at its creation
//! (which gives its tier and region), a priority (through the mapping's
//! `[values.priority]`) and a `created_at`; an optional `closed_at` must
//! not be before it. With `--as-of`, a case created after it has not
//! happened yet and is rejected. Rows sharing a `case_id` collapse into the
//! first when identical, and are all rejected when they differ.
//!
//! The table is read in pieces (`judge_all`), the rows of a piece judged
//! in parallel; since rows sharing an id may lie pieces apart, each row is
//! kept as its typed case and a 128-bit signature of its text, and the
//! duplicates are settled once every piece is read.

use polars::prelude::PlHashSet as HashSet;
use rayon::prelude::*;
use std::sync::Arc;

use xxhash_rust::xxh3::xxh3_128;

use super::contracts::{Contracts, NoContract};
use super::ids::{prefetch, CaseRef, IdIndex};
use super::judge::{judge_in_pieces, settle, Interner, RejectReason, Rejects, Seen};
use super::read::Source;
use super::records::Records;
use super::stream::Pieces;
use super::text::{unreadable, Columns, Texts};
use crate::mapping::Mapping;
use crate::model::{Case, Event, Priority, Table};
use crate::timestamp::Instant;
use std::borrow::Cow;

/// The judged cases, and how events find theirs.
#[derive(Debug, Default)]
pub struct JudgedCases {
    /// Cases to measure, in file order.
    pub cases: Vec<Case>,
    /// Each case id's place in `cases` ([`JudgedCases::case_of`]).
    index: IdIndex,
    /// Ids of case rows that were rejected (their events are rejected with
    /// that reason rather than as unknown).
    pub rejected_ids: HashSet<String>,
}

impl JudgedCases {
    /// The case with id `id`: its place in `cases`, and its creation.
    pub fn case_of(&self, id: &str) -> Option<CaseRef> {
        self.index.find(id)
    }

    /// [`JudgedCases::case_of`] for an id met after the case at place
    /// `before`: exports list cases' events in the cases' order, so the
    /// case after it is tried first, without hashing (the judged cases'
    /// ids are unique: a match is the place).
    pub fn case_after(&self, before: u32, id: &str) -> Option<CaseRef> {
        let next = before.wrapping_add(1);
        match self.cases.get(next as usize) {
            Some(case) if &*case.id == id => Some(CaseRef {
                place: next,
                created_at: case.created_at,
            }),
            _ => self.case_of(id),
        }
    }

    /// The cases of many ids at once (the index's `find_each`).
    pub fn find_each<'a>(
        &self,
        queries: &[(u32, u64)],
        text: impl Fn(u32) -> &'a str,
        answer: impl FnMut(u32, Option<CaseRef>),
    ) {
        self.index.find_each(queries, text, answer)
    }
}

/// A row that passed the checks of a single row.
struct Candidate {
    priority: Priority,
    created_at: Instant,
    closed_at: Option<Instant>,
}

/// Why a candidate has no contract to go by (rejected unless it is a
/// duplicate, which is rejected as such).
struct NoContractFault {
    column: &'static str,
    value: Option<String>,
    reason: RejectReason,
}

/// The cases of every piece read so far, before duplicate ids are known:
/// duplicates may lie pieces apart, and rows that differ are all rejected,
/// the first included.
#[derive(Default)]
struct Found {
    /// Every row that passed the per-row checks, as a case (the tier and
    /// region of a row with a fault are meaningless), in file order.
    cases: Vec<Case>,
    /// Each case's signature: a 128-bit hash of every canonical column's
    /// value, by which rows sharing an id are told identical or not.
    signatures: Vec<u128>,
    /// Index in `cases` and why, of each case with no contract in force.
    faults: Vec<(usize, NoContractFault)>,
}

/// What every row of the cases table is judged with.
pub(crate) struct Judging<'a> {
    /// The export's mapping (column names, priority values).
    pub(crate) mapping: &'a Mapping,
    /// The accounts' contracts.
    pub(crate) contracts: &'a Contracts,
    /// `--as-of`, if given: a case created after it is rejected.
    pub(crate) as_of: Option<Instant>,
}

/// Judges every row of the cases table: the rows of its frame, or, for a
/// table read in pieces, each piece as it is read. Returns, for a table
/// read in pieces, the file (read to its end, for its hash) and its data
/// rows.
pub(crate) fn judge_all(
    source: &Source,
    pieces: Option<Pieces>,
    cols: &Columns,
    with: &Judging,
    interner: &mut Interner,
    rejects: &mut Rejects,
) -> crate::Result<(JudgedCases, Option<(Pieces, u64)>)> {
    let before = rejects.rows().len();
    let mut state = (Found::default(), interner, rejects);
    let read = judge_in_pieces(
        (source, pieces, cols),
        with.mapping,
        &mut state,
        |(found, interner, rejects), part, part_cols, first_row| {
            found.add(part, part_cols, first_row, with, interner, rejects);
        },
        |(found, _, _), rows| {
            found.cases.reserve(rows.saturating_sub(found.cases.len()));
            found
                .signatures
                .reserve(rows.saturating_sub(found.signatures.len()));
        },
    )?;
    let (found, _, rejects) = state;
    if found.cases.len() > Event::MAX_CASES {
        return Err(crate::Error::Input {
            path: source.path().into(),
            reason: format!(
                "{} cases to measure, more than one run takes ({}): split the export by account and run slt on each part",
                found.cases.len(),
                Event::MAX_CASES
            ),
        });
    }
    Ok((found.finish(cols, rejects, before), read))
}

impl Found {
    /// The rows of one piece (whose first row is data row `first_row` of
    /// the file): each checked alone, looked up in the contracts and
    /// signed, its product, channel and language found among the texts
    /// seen before, in parallel; then, in file order, rejected or kept
    /// (a text not seen before shared from then on).
    fn add(
        &mut self,
        source: &Source,
        cols: &Columns,
        first_row: usize,
        with: &Judging,
        interner: &mut Interner,
        rejects: &mut Rejects,
    ) {
        let (every, joined) = in_file_order(
            source
                .table()
                .columns()
                .iter()
                .map(|c| cols.get(c.name()))
                .collect(),
        );
        let texts = RowTexts {
            broken: unreadable(source),
            ids: cols.get("case_id"),
            accounts: cols.get("account_id"),
            priorities: cols.get("priority"),
            createds: cols.get("created_at"),
            closeds: cols.get("closed_at"),
            derived: source.origins.is_some(),
            every,
            joined,
        };
        let shared = [
            cols.get("product"),
            cols.get("channel"),
            cols.get("language"),
        ];
        let known: &Interner = interner;
        let height = source.frame.height();
        let checked: Vec<Result<Checked, RowFault>> = (0..height)
            .into_par_iter()
            .map_init(Vec::new, |buffer, i| {
                with.contracts
                    .look_ahead(i, height, |k| texts.accounts.get(k));
                let c = check(i, &texts, with)?;
                let contract = contract_of(i, &texts, with.contracts, c.created_at);
                Ok(Checked {
                    id: texts.ids.get(i).expect("checked").into(),
                    c,
                    contract,
                    signature: texts.signature(i, buffer),
                    shared: shared.map(|column| known.find(column.get(i))),
                })
            })
            .collect();
        let mut r = rejects.of(Table::Cases);
        for (i, checked) in checked.into_iter().enumerate() {
            let row = first_row + i;
            let Checked {
                id,
                c,
                contract,
                signature,
                shared,
            } = match checked {
                Ok(checked) => checked,
                Err(RowFault::Unreadable(why)) => {
                    r.reject_unreadable(row, why);
                    continue;
                }
                Err(RowFault::Reject {
                    key,
                    column,
                    value,
                    reason,
                }) => {
                    r.reject(row, key, cols.name(column), value.as_deref(), reason);
                    continue;
                }
            };
            let (account, tier, region) = match contract {
                Ok(found) => found,
                Err(fault) => {
                    self.faults.push((self.cases.len(), fault));
                    let account = texts.accounts.get(i).expect("checked");
                    (interner.get(account), 0, 0)
                }
            };
            let [product, channel, language] = shared.map(|found| found.shared(interner));
            self.signatures.push(signature);
            self.cases.push(Case {
                row: row as u32,
                id,
                account,
                tier: u8::try_from(tier).expect("a policy defines at most 256 tiers"),
                region: u8::try_from(region).expect("a policy defines at most 256 regions"),
                priority: c.priority,
                created_at: c.created_at,
                closed_at: c.closed_at,
                product,
                channel,
                language,
            });
        }
    }

    /// Every piece read: rows sharing a case id collapse into the first
    /// when identical (same signature) and are all rejected when they
    /// differ; then the rows with no contract in force are rejected, in
    /// file order; the rest are the cases to measure.
    fn finish(self, cols: &Columns, rejects: &mut Rejects, before: usize) -> JudgedCases {
        let Found {
            mut cases,
            signatures,
            faults,
        } = self;
        // Each id's first row goes into the index, and every later row
        // sharing it is noted beside that first row.
        let (mut index, mut repeats) = IdIndex::build(
            cases.len(),
            |k| &cases[k as usize].id,
            |k| cases[k as usize].created_at,
            |k| {
                if let Some(case) = cases.get(k as usize) {
                    // Both ends: a case may straddle two cache lines.
                    let at: *const u8 = std::ptr::from_ref(case).cast();
                    prefetch(at);
                    prefetch(at.wrapping_add(std::mem::size_of::<Case>() - 1));
                }
            },
        );
        // The groups of rows sharing an id, in id order, members in file
        // order: identical rows collapse into the first, rows that differ
        // are all rejected.
        repeats.sort_by(|a, b| {
            let id = |k: u32| &cases[k as usize].id;
            id(a.0).cmp(id(b.0)).then(a.1.cmp(&b.1))
        });
        let (mut dups, mut group) = (Vec::new(), Vec::new());
        for repeated in repeats.chunk_by(|a, b| a.0 == b.0) {
            // Candidates are compared by index: their signatures are in that order.
            let first = repeated[0].0 as usize;
            group.clear();
            group.push((first, first));
            group.extend(repeated.iter().map(|&(_, k)| (k as usize, k as usize)));
            settle(&group, &|a, b| signatures[a] == signatures[b], &mut dups);
        }
        let mut dropped = vec![false; cases.len()];
        let mut r = rejects.of(Table::Cases);
        let id_column = cols.name("case_id");
        for d in dups {
            dropped[d.candidate] = true;
            let case = &cases[d.candidate];
            let id = Some(&*case.id);
            r.reject(case.row as usize, id, id_column, id, d.reason);
        }
        drop(signatures);
        for (k, fault) in faults {
            if std::mem::replace(&mut dropped[k], true) {
                continue; // rejected as a duplicate
            }
            let case = &cases[k];
            let (column, value) = (cols.name(fault.column), fault.value.as_deref());
            r.reject(
                case.row as usize,
                Some(&case.id),
                column,
                value,
                fault.reason,
            );
        }
        // Each kept row's place once the dropped ones are gone; the index
        // keeps the ids of kept rows (a kept row is the first of its id).
        let mut kept = 0u32;
        let place: Vec<u32> = dropped
            .iter()
            .map(|&d| {
                kept += u32::from(!d);
                kept.wrapping_sub(1)
            })
            .collect();
        if dropped.contains(&true) {
            index.renumber(|k| (!dropped[k as usize]).then(|| place[k as usize]));
        }
        drop(place);
        let mut k = 0;
        cases.retain(|_| {
            k += 1;
            !dropped[k - 1]
        });
        cases.shrink_to_fit();
        let mut judged = JudgedCases {
            cases,
            index,
            rejected_ids: HashSet::default(),
        };
        judged.rejected_ids = rejects
            .rows()
            .iter()
            .skip(before)
            .filter_map(|rj| rj.key.map(str::to_string))
            .filter(|k| judged.case_of(k).is_none())
            .collect();
        judged
    }
}

/// The columns of one piece a case row is read from, looked up once.
struct RowTexts<'t> {
    broken: Texts<'t>,
    ids: Texts<'t>,
    accounts: Texts<'t>,
    priorities: Texts<'t>,
    createds: Texts<'t>,
    closeds: Texts<'t>,
    /// Rows made from a vendor export (`--source`).
    derived: bool,
    /// Every canonical column, in the file's order (read in pieces of
    /// CSV; else in canonical order): what a row's signature covers.
    every: Vec<Texts<'t>>,
    /// The piece's records, when `every` is all their columns in their
    /// order ([`in_file_order`]).
    joined: Option<&'t Records>,
}

impl RowTexts<'_> {
    /// Row `i`'s signature ([`signature`]).
    fn signature(&self, i: usize, buffer: &mut Vec<u8>) -> u128 {
        signature(&self.every, self.joined, i, buffer)
    }
}

/// The canonical columns `every` in the file's order (the same in every
/// piece: they share the header; columns not parsed from CSV last, in
/// canonical order), and the records they are read from when they are
/// all of those records' columns: a row's values joined by commas are
/// then [`Records::joined`]'s text.
fn in_file_order(mut every: Vec<Texts<'_>>) -> (Vec<Texts<'_>>, Option<&Records>) {
    every.sort_by_key(|values| match values {
        Texts::Records(_, column) => *column,
        _ => usize::MAX,
    });
    let joined = match every.first() {
        Some(Texts::Records(records, _)) => {
            let own = every.iter().enumerate().all(|(place, values)| {
                matches!(values, Texts::Records(r, column)
                    if std::ptr::eq(*r, *records) && *column == place)
            });
            (own && records.width() == every.len()).then_some(*records)
        }
        _ => None,
    };
    (every, joined)
}

/// Row `i`'s signature: a 128-bit hash of its values in the columns
/// `every`, by which rows sharing an id are told identical or not. What is
/// hashed is the values (trimmed, blank as missing) joined by commas when
/// none is a typed timestamp or holds a comma — for most rows of a CSV
/// piece of no column but the canonical ones (`joined`), the row's own
/// text, hashed where it lies; otherwise a byte no text holds (0xFF), then
/// each value as [`Texts::identify`] tells it. Either way equal
/// signatures are equal values (but for a hash collision, one in 2^128),
/// whichever way the values were written (quoted or not, padded or not).
fn signature(every: &[Texts], joined: Option<&Records>, i: usize, buffer: &mut Vec<u8>) -> u128 {
    if let Some(text) = joined.and_then(|records| records.joined(i)) {
        return xxh3_128(text.as_bytes());
    }
    buffer.clear();
    let mut plain = !every.iter().any(|v| matches!(v, Texts::Instants(_)));
    if plain {
        for (place, values) in every.iter().enumerate() {
            if place > 0 {
                buffer.push(b',');
            }
            if let Some(value) = values.get(i) {
                if value.contains(',') {
                    plain = false;
                    break;
                }
                buffer.extend_from_slice(value.as_bytes());
            }
        }
    }
    if !plain {
        buffer.clear();
        buffer.push(0xFF);
        for values in every {
            values.identify(i, buffer);
        }
    }
    xxh3_128(buffer)
}

/// A row that passed the checks of a single row, with its contract (or
/// why it has none) and its signature.
struct Checked<'t> {
    /// The row's `case_id`.
    id: Arc<str>,
    c: Candidate,
    contract: Result<(Arc<str>, usize, usize), NoContractFault>,
    signature: u128,
    /// `product`, `channel` and `language`, found among the texts seen
    /// before this piece (side by side), or new.
    shared: [Seen<'t>; 3],
}

/// Why a row is rejected by the checks of a single row.
enum RowFault<'t> {
    /// The row could not be read (`CODE<TAB>DETAIL`).
    Unreadable(&'t str),
    /// A value is missing or wrong.
    Reject {
        key: Option<&'t str>,
        column: &'static str,
        value: Option<Cow<'t, str>>,
        reason: RejectReason,
    },
}

/// The contract in force for row `i` of a piece (which passed [`check`]):
/// the account's shared id, tier and region, or why there is none.
fn contract_of(
    i: usize,
    texts: &RowTexts,
    contracts: &Contracts,
    created_at: Instant,
) -> Result<(Arc<str>, usize, usize), NoContractFault> {
    let account = texts.accounts.get(i).expect("checked");
    match contracts.in_force(account, created_at) {
        Ok((account, contract)) => Ok((account.clone(), contract.tier, contract.region)),
        Err(why) => {
            let (column, value) = match why {
                NoContract::NoneInForce => ("created_at", texts.createds.value(i)),
                _ => ("account_id", Some(Cow::Borrowed(account))),
            };
            Err(NoContractFault {
                column,
                value: value.map(Cow::into_owned),
                reason: why.reason(),
            })
        }
    }
}

/// The checks of a single row (`i` of its piece): an id, an account, a
/// known priority, a `created_at` (not after `--as-of`), a `closed_at` not
/// before it.
fn check<'t>(i: usize, texts: &RowTexts<'t>, with: &Judging) -> Result<Candidate, RowFault<'t>> {
    if let Some(why) = texts.broken.get(i) {
        return Err(RowFault::Unreadable(why));
    }
    let key = texts.ids.get(i);
    let fault = |column, value, reason| RowFault::Reject {
        key,
        column,
        value,
        reason,
    };
    let missing = RejectReason::MissingValue;
    if key.is_none() {
        return Err(fault("case_id", None, missing));
    }
    if texts.accounts.get(i).is_none() {
        // A vendor case without an account (a Zendesk ticket with no
        // organization) points nowhere rather than lacks a value.
        let reason = if texts.derived {
            RejectReason::UnknownAccount
        } else {
            missing
        };
        return Err(fault("account_id", None, reason));
    }
    let priorities = texts.priorities;
    let priority = match priorities
        .get(i)
        .map(|p| with.mapping.value("priority", p).parse::<Priority>())
    {
        Some(Ok(p)) => p,
        Some(Err(_)) => {
            let reason = RejectReason::UnknownPriority;
            return Err(fault(
                "priority",
                priorities.get(i).map(Cow::Borrowed),
                reason,
            ));
        }
        None => {
            // A vendor case whose priority was never set: no target is guessed.
            let reason = if texts.derived {
                RejectReason::UnknownPriority
            } else {
                missing
            };
            return Err(fault("priority", None, reason));
        }
    };
    let (createds, closeds) = (texts.createds, texts.closeds);
    let created_at = match createds.instant(i) {
        Some(Ok(t)) => t,
        Some(Err(e)) => {
            let reason = RejectReason::of_timestamp(&e);
            return Err(fault("created_at", createds.value(i), reason));
        }
        None => return Err(fault("created_at", None, missing)),
    };
    let closed_at = match closeds.instant(i) {
        Some(Ok(t)) if t < created_at => {
            let reason = RejectReason::ClosedBeforeCreated;
            return Err(fault("closed_at", closeds.value(i), reason));
        }
        Some(Ok(t)) => Some(t),
        Some(Err(e)) => {
            let reason = RejectReason::of_timestamp(&e);
            return Err(fault("closed_at", closeds.value(i), reason));
        }
        None => None,
    };
    if with.as_of.is_some_and(|as_of| created_at > as_of) {
        let reason = RejectReason::CreatedAfterAsOf;
        return Err(fault("created_at", createds.value(i), reason));
    }
    Ok(Candidate {
        priority,
        created_at,
        closed_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn judged(ids: &[&str]) -> JudgedCases {
        let cases: Vec<Case> = ids
            .iter()
            .enumerate()
            .map(|(row, id)| Case {
                row: row as u32,
                id: (*id).into(),
                account: "ACC-1".into(),
                tier: 0,
                region: 0,
                priority: Priority::P3,
                created_at: 60 * row as i64,
                closed_at: None,
                product: None,
                channel: None,
                language: None,
            })
            .collect();
        let (index, repeats) = IdIndex::build(
            cases.len(),
            |k| &cases[k as usize].id,
            |k| cases[k as usize].created_at,
            |_| {},
        );
        assert!(repeats.is_empty());
        JudgedCases {
            cases,
            index,
            rejected_ids: HashSet::default(),
        }
    }

    /// How a test row writes a value.
    #[derive(Debug, Clone, Copy)]
    enum Written {
        Plain,
        Quoted,
        Padded,
    }

    /// What a test row's cell may hold (`None`: blank); those with a
    /// comma or a quote are always written quoted.
    const VALUES: [Option<&str>; 7] = [
        None,
        Some("a"),
        Some("a b"),
        Some("2026-01-01T09:00:00Z"),
        Some("x,y"),
        Some("é"),
        Some("q\"q"),
    ];

    fn cell(value: Option<&str>, written: Written) -> String {
        let v = value.unwrap_or("");
        match written {
            _ if v.contains([',', '"']) => format!("\"{}\"", v.replace('"', "\"\"")),
            Written::Quoted => format!("\"{v}\""),
            Written::Plain => v.to_string(),
            Written::Padded => format!(" {v}  "),
        }
    }

    /// Each row's signature, as [`Found::add`] makes it, of `rows` written
    /// under a header of the cases' columns in the order `order` (and the
    /// extra column `other`, if given, last), and whether it was hashed
    /// where it lies ([`Records::joined`]).
    fn signatures(
        rows: &[([Option<&str>; 9], [Written; 9])],
        order: &[usize],
        other: bool,
    ) -> Vec<(u128, bool)> {
        let names: Vec<&str> = Table::Cases.columns().iter().map(|c| c.name()).collect();
        let mut header: Vec<&str> = order.iter().map(|&k| names[k]).collect();
        if other {
            header.push("note");
        }
        let mut csv = header.join(",") + "\n";
        for (values, written) in rows {
            let mut cells: Vec<String> =
                order.iter().map(|&k| cell(values[k], written[k])).collect();
            if other {
                cells.push("n".into());
            }
            csv += &(cells.join(",") + "\n");
        }
        let h = super::super::stream::first_record_end(csv.as_bytes()).unwrap();
        let columns = super::super::records::header(&csv.as_bytes()[..h]);
        let records = Records::concat(super::super::records::parse_whole(
            csv.into_bytes(),
            h,
            &columns,
        ));
        assert_eq!(records.len(), rows.len());
        let every = (0..names.len())
            .map(|k| Texts::Records(&records, order.iter().position(|&o| o == k).unwrap()))
            .collect();
        let (every, joined) = in_file_order(every);
        assert_eq!(joined.is_some(), !other, "every column the records have");
        let mut buffer = Vec::new();
        (0..rows.len())
            .map(|i| {
                let fast = joined.is_some_and(|r| r.joined(i).is_some());
                (signature(&every, joined, i, &mut buffer), fast)
            })
            .collect()
    }

    /// Mostly plain, so that rows hashed where they lie meet rows that are not.
    fn written() -> impl Strategy<Value = Written> {
        prop_oneof![
            16 => Just(Written::Plain),
            1 => Just(Written::Quoted),
            1 => Just(Written::Padded),
        ]
    }

    #[test]
    fn a_plain_row_is_hashed_where_it_lies_and_signs_as_its_values_written_otherwise() {
        use Written::{Padded, Plain, Quoted};
        let values = [
            Some("C-1"),
            Some("ACC-1"),
            Some("P1"),
            Some("2026-01-01T09:00:00Z"),
            None,
            Some("Adobe Analytics"),
            Some("web"),
            None,
            Some("CT-1"),
        ];
        let mut other = values;
        other[8] = Some("CT-2");
        let mut padded = [Plain; 9];
        padded[5] = Padded;
        // The generator's order: product before priority.
        let order = [0, 1, 5, 2, 3, 4, 6, 7, 8];
        let unquoted = [
            (values, [Plain; 9]),
            (values, [Padded; 9]),
            (values, padded),
            (other, [Plain; 9]),
        ];
        let signed = signatures(&unquoted, &order, false);
        let fast: Vec<bool> = signed.iter().map(|s| s.1).collect();
        assert_eq!(fast, [true, false, false, true]);
        assert!(signed[..3].iter().all(|s| s.0 == signed[0].0));
        assert_ne!(signed[3].0, signed[0].0);
        // A file with a quoted value is parsed otherwise: no row lies as
        // its values joined, and the rows sign as they did.
        let quoted = [unquoted[0], unquoted[1], (values, [Quoted; 9]), unquoted[3]];
        let signed_quoted = signatures(&quoted, &order, false);
        assert!(signed_quoted.iter().all(|s| !s.1));
        let sig = |signed: &[(u128, bool)]| signed.iter().map(|s| s.0).collect::<Vec<_>>();
        assert_eq!(
            sig(&signed_quoted),
            sig(&signed[..1].repeat(3))
                .into_iter()
                .chain([signed[3].0])
                .collect::<Vec<_>>()
        );
        // With a column slt does not read, no row is hashed where it lies.
        let signed_other = signatures(&unquoted, &order, true);
        assert!(signed_other.iter().all(|s| !s.1));
        assert_eq!(sig(&signed_other), sig(&signed));
    }

    proptest! {
        /// Rows sharing an id are told identical by their signatures: two
        /// rows' signatures are equal exactly when their values are
        /// (trimmed, blank as none), however each value is written —
        /// quoted, padded, in any column order, with a column slt does
        /// not read — and a row of plain values is hashed where it lies.
        #[test]
        fn row_signatures_are_equal_exactly_when_the_values_are(
            bases in proptest::collection::vec(
                proptest::array::uniform9(0..VALUES.len()), 1..4),
            rows in proptest::collection::vec(
                (0..3usize, proptest::array::uniform9(written()), proptest::option::of((0..9usize, 0..VALUES.len()))),
                1..10),
            order in Just((0..9).collect::<Vec<usize>>()).prop_shuffle(),
            other in proptest::bool::ANY,
            quotes in proptest::bool::ANY,
        ) {
            // Without quotes anywhere in the file, the rows are parsed in
            // place, and plain ones hashed where they lie.
            let value = |v: usize| match VALUES[v] {
                Some(text) if !quotes && text.contains([',', '"']) => None,
                value => value,
            };
            let rows: Vec<([Option<&str>; 9], [Written; 9])> = rows
                .iter()
                .map(|&(base, written, change)| {
                    let mut values = bases[base % bases.len()].map(value);
                    if let Some((k, v)) = change {
                        values[k] = value(v);
                    }
                    let written = written.map(|w| match w {
                        Written::Quoted if !quotes => Written::Plain,
                        w => w,
                    });
                    (values, written)
                })
                .collect();
            let signed = signatures(&rows, &order, other);
            for (a, (va, _)) in rows.iter().enumerate() {
                for (b, (vb, _)) in rows.iter().enumerate() {
                    prop_assert_eq!(signed[a].0 == signed[b].0, va == vb, "rows {} and {}", a, b);
                }
                // Hashed where it lies only when its text is its values joined.
                let plain = va.iter().zip(&rows[a].1).all(|(v, w)| {
                    matches!(w, Written::Plain)
                        && v.is_none_or(|v| v.is_ascii() && !v.contains([',', '"']))
                });
                prop_assert!(!signed[a].1 || (plain && !other), "row {} hashed where it lies", a);
            }
        }
    }

    #[test]
    fn an_id_met_after_a_case_is_found_next_to_it_or_anywhere_else() {
        let judged = judged(&["C-1", "C-2", "C-3", "C-4"]);
        // The case after it.
        assert_eq!(judged.case_after(1, "C-3").map(|f| f.place), Some(2));
        // Before it, far after it, itself.
        assert_eq!(judged.case_after(3, "C-1").map(|f| f.place), Some(0));
        assert_eq!(judged.case_after(0, "C-4").map(|f| f.place), Some(3));
        assert_eq!(judged.case_after(2, "C-3").map(|f| f.place), Some(2));
        // After the last case, and an id no case has.
        assert_eq!(judged.case_after(3, "C-2").map(|f| f.place), Some(1));
        assert_eq!(judged.case_after(1, "C-9").map(|f| f.place), None);
        assert_eq!(judged.case_after(3, "C-9").map(|f| f.place), None);
        assert_eq!(judged.case_after(u32::MAX, "C-1").map(|f| f.place), Some(0));
        // With its case's creation, found next to it or in the index.
        for before in [0, 1, 3] {
            let found = judged.case_after(before, "C-3").unwrap();
            assert_eq!((found.place, found.created_at), (2, 120));
        }
    }
}
