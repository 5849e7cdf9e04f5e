//! Salesforce Service Cloud: `Case.csv`, `CaseHistory.csv`,
//! `EmailMessage.csv`, `CaseComment.csv`, `User.csv` and the optional
//! `CaseStatus.csv`, as Bulk API 2.0 or Data Loader write them (API field
//! names, UTF-8, `.000Z` timestamps).
//!
//! - A case is `Case.Id`; its priority at creation is the `OldValue` of its
//!   earliest `Priority` history row (same-instant rows ordered along their
//!   `OldValue` → `NewValue` chain), else `Case.Priority`.
//! - `CaseHistory` `Priority` rows are priority changes; `Status` rows are
//!   closures (into a closed status), reopenings (out of one) or status
//!   changes. Other fields and deleted rows are skipped.
//! - An incoming `EmailMessage` is a customer message; an outgoing one is an
//!   agent response when its creator is an agent (`UserType` `Standard`),
//!   else an automatic one. Drafts and deleted mail are skipped.
//! - A `CaseComment` not published is an internal note; a published one is an
//!   agent response (agent), a customer message (portal user) or an
//!   automatic one (anyone else).
//!
//! Rows are judged in parallel; the rules and their sources are in
//! `docs/vendors.md`.

use std::sync::Arc;

use polars::prelude::{InitHashMaps, PlHashMap as HashMap, PlHashSet as HashSet};

use rayon::prelude::*;

use super::csv_file::{CsvFile, Row};
use super::{
    event_key, instant, reason, Case, Collector, Event, EventKind, Imported, Locator, Origin, Rej,
    Short, SourceKind, SourceSettings, Staged, Table, Unattributed, VendorError,
};
use crate::model::Priority;
use crate::timestamp::Instant;

/// The files of a Salesforce export, in reading order.
pub(crate) const FILES: [&str; 5] = [
    "Case.csv",
    "CaseHistory.csv",
    "EmailMessage.csv",
    "CaseComment.csv",
    "User.csv",
];
/// The optional closed-status table.
pub(crate) const CASE_STATUS: &str = "CaseStatus.csv";

/// Portal (customer) user types, compared without case.
const PORTAL_TYPES: [&str; 6] = [
    "CspLitePortal",
    "PowerCustomerSuccess",
    "CustomerSuccess",
    "PowerPartner",
    "Guest",
    "SelfService",
];

/// EmailMessage `Status` codes and their picklist labels.
const EMAIL_STATUSES: [&str; 6] = ["New", "Read", "Replied", "Sent", "Forwarded", "Draft"];
const DRAFT: u8 = 5;

/// How a user's messages count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum UserClass {
    Agent,
    Portal,
    Automation,
}

/// A Salesforce id: 18 characters `[A-Za-z0-9]` (a 15-character id is what
/// a report export writes, with zone-less local times: refused).
pub(crate) fn is_id(s: &str) -> bool {
    s.len() == 18 && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

fn truthy(v: Option<&str>) -> Option<bool> {
    match v {
        None => Some(false),
        Some(v) if v.eq_ignore_ascii_case("true") || v == "1" => Some(true),
        Some(v) if v.eq_ignore_ascii_case("false") || v == "0" => Some(false),
        Some(_) => None,
    }
}

fn email_status(v: Option<&str>) -> Option<u8> {
    let v = v?;
    if let Ok(code) = v.parse::<u8>() {
        return (code <= DRAFT).then_some(code);
    }
    EMAIL_STATUSES
        .iter()
        .position(|l| l.eq_ignore_ascii_case(v))
        .map(|i| i as u8)
}

/// Imports a Salesforce export: the files (opened in parallel), the users
/// and closed statuses, the cases with their priority at creation from
/// the history, then the history rows, mail and comments as events.
pub(super) fn import(
    dir: &std::path::Path,
    settings: &SourceSettings,
) -> Result<Imported, VendorError> {
    let files = Files::open(dir)?;
    let mut out = Collector::new(SourceKind::Salesforce);
    let f_case = out.file(files.case.name.clone());
    let f_history = out.file(files.history.name.clone());
    let f_email = out.file(files.email.name.clone());
    let f_comment = out.file(files.comment.name.clone());

    let users = read_users(&files.user, settings, &mut out)?;
    let closed = closed_statuses(files.status.as_ref(), settings, &mut out)?;

    // ---- Case.csv, and the row of each case id ----
    let cases = read_cases(&files.case, settings)?;
    drop(files.case);
    let row_of = case_rows(&cases);

    // ---- CaseHistory.csv: priority at creation, then the cases ----
    let history = read_history(&files.history, &row_of)?;
    drop(files.history);
    let (rank, initial) = order_history(&history, cases.len(), settings);
    let (accepted, known) = accept_cases(cases, &initial, row_of, settings, f_case, &mut out);
    drop(initial);

    // ---- events ----
    let mut absent = AbsentCases::new(known.ok.len());
    let mut staged: Vec<Staged> = Vec::with_capacity(history.len() + files.email.header.len());
    let judge = HistoryEvents {
        settings,
        closed: &closed,
        known: &known,
        file: f_history,
    };
    judge.stage_all(history, &rank, &mut absent, &mut out, &mut staged);

    // ---- EmailMessage and CaseComment ----
    for (file, csv, kind, seq) in [
        (f_email, &files.email, Message::Email, 1u64),
        (f_comment, &files.comment, Message::Comment, 2u64),
    ] {
        let rows = read_messages(csv, kind, settings, &users, &known, file)?;
        stage_messages(rows, file, seq, &mut absent, &mut out, &mut staged);
    }
    Ok(out.finish(accepted, staged))
}

/// The files of an export, opened.
struct Files {
    case: CsvFile,
    history: CsvFile,
    email: CsvFile,
    comment: CsvFile,
    user: CsvFile,
    /// `CaseStatus.csv`, when there is one.
    status: Option<CsvFile>,
}

impl Files {
    /// Opens the files in parallel, once every required one is known to be
    /// there; the first error in reading order is returned.
    fn open(dir: &std::path::Path) -> Result<Files, VendorError> {
        // Every required file must be there before anything is read.
        for name in FILES {
            if !dir.join(name).is_file() {
                return Err(VendorError::MissingFile {
                    dir: dir.to_path_buf(),
                    file: name.to_string(),
                });
            }
        }
        let opened: Vec<Result<Option<CsvFile>, VendorError>> = (0..=FILES.len())
            .into_par_iter()
            .map(|i| match FILES.get(i) {
                Some(name) => CsvFile::open(dir, name).map(Some),
                None => CsvFile::open_optional(dir, CASE_STATUS),
            })
            .collect();
        let mut opened = opened.into_iter();
        let mut next = || -> Result<CsvFile, VendorError> {
            Ok(opened
                .next()
                .expect("one per file")?
                .expect("required file"))
        };
        let case = next()?;
        let history = next()?;
        let email = next()?;
        let comment = next()?;
        let user = next()?;
        let status = opened.next().expect("status slot")?;
        Ok(Files {
            case,
            history,
            email,
            comment,
            user,
            status,
        })
    }
}

/// The row of each case id in Case.csv (its first, for a repeated id; a
/// rejected row counts when it has an id).
fn case_rows(cases: &[CaseOut]) -> HashMap<Arc<str>, u32> {
    let mut row_of: HashMap<Arc<str>, u32> = HashMap::with_capacity(cases.len());
    for (i, c) in cases.iter().enumerate() {
        let id = match c {
            CaseOut::Case(c) => Some(c.id.clone()),
            CaseOut::Reject(r) => r.key.as_deref().map(Arc::from),
        };
        if let Some(id) = id {
            row_of.entry(id).or_insert(i as u32);
        }
    }
    row_of
}

/// The label at creation of a case from its history: `None` without
/// priority history, `Some(None)` for an empty one.
type Initial<'h> = Option<Option<&'h str>>;

/// Orders the history of each case: the `Priority` and `Status` rows of
/// known cases with a valid time, grouped by case, each field's rows in
/// their chain order. Returns each history row's rank in that order and
/// each case's priority label at creation.
fn order_history<'h>(
    history: &'h [HistOut],
    n_cases: usize,
    settings: &SourceSettings,
) -> (Vec<u32>, Vec<Initial<'h>>) {
    let (start, by_case) = group_by_case(history, n_cases);
    let per_case: Vec<(Vec<(u32, u32)>, Initial)> = (0..n_cases)
        .into_par_iter()
        .map(|c| {
            let rows = &by_case[start[c] as usize..start[c + 1] as usize];
            order_case(history, rows, settings)
        })
        .collect();
    let mut rank: Vec<u32> = vec![0; history.len()];
    for (ranks, _) in &per_case {
        for &(i, k) in ranks {
            rank[i as usize] = k;
        }
    }
    let initial = per_case.into_iter().map(|(_, initial)| initial).collect();
    (rank, initial)
}

/// The dated rows of known cases, grouped by case row (a counting sort):
/// case `c`'s rows are `by_case[start[c]..start[c + 1]]`, in file order.
fn group_by_case(history: &[HistOut], n_cases: usize) -> (Vec<u32>, Vec<u32>) {
    let mut start = vec![0u32; n_cases + 1];
    for h in history {
        if let HistOut::Row(r) = h {
            if let (Some(case), Some(_)) = (r.case, r.at) {
                start[case as usize + 1] += 1;
            }
        }
    }
    for i in 1..start.len() {
        start[i] += start[i - 1];
    }
    let mut by_case = vec![0u32; start[n_cases] as usize];
    let mut fill = start.clone();
    for (i, h) in history.iter().enumerate() {
        if let HistOut::Row(r) = h {
            if let (Some(case), Some(_)) = (r.case, r.at) {
                let slot = &mut fill[case as usize];
                by_case[*slot as usize] = i as u32;
                *slot += 1;
            }
        }
    }
    (start, by_case)
}

/// One case's history `rows` (indices into `history`): the rank of each
/// row among its field's rows, (history row, rank) pairs, and the
/// priority label at creation (the earliest `Priority` row's `OldValue`;
/// when empty, the first one set with `unset_priority = "first_set"`).
fn order_case<'h>(
    history: &'h [HistOut],
    rows: &[u32],
    settings: &SourceSettings,
) -> (Vec<(u32, u32)>, Initial<'h>) {
    if rows.is_empty() {
        return (Vec::new(), None);
    }
    let row = |i: u32| match &history[i as usize] {
        HistOut::Row(r) => r,
        _ => unreachable!("only rows are grouped"),
    };
    let mut ranks = Vec::with_capacity(rows.len());
    let mut initial = None;
    for field in [Field::Priority, Field::Status] {
        let mut of_field: Vec<u32> = rows
            .iter()
            .copied()
            .filter(|&i| row(i).field == field)
            .collect();
        of_field.sort_by_key(|&i| (row(i).at, i));
        let refs: Vec<&HistRow> = of_field.iter().map(|&i| row(i)).collect();
        // Only rows sharing an instant need the chain.
        let order = if refs.windows(2).any(|w| w[0].at == w[1].at) {
            chain_order(&refs)
        } else {
            (0..refs.len()).collect()
        };
        for (k, &j) in order.iter().enumerate() {
            ranks.push((of_field[j], k as u32));
        }
        if field == Field::Priority && !order.is_empty() {
            let first = refs[order[0]];
            initial = Some(match (first.old_value(), settings.unset_priority) {
                (Some(old), _) => Some(old),
                (None, super::UnsetPriority::FirstSet) => {
                    order.iter().find_map(|&j| refs[j].new_value())
                }
                (None, super::UnsetPriority::Empty) => None,
            });
        }
    }
    (ranks, initial)
}

/// The case rows of Case.csv as the events see them.
struct KnownCases {
    /// The row of each case id.
    row_of: HashMap<Arc<str>, u32>,
    /// Per case row: a row of its id was accepted (duplicates are the
    /// pipeline's to judge).
    ok: Vec<bool>,
    /// Per case row: the id of an accepted case, shared by its events.
    ids: Vec<Option<Arc<str>>>,
}

/// Accepts the case rows whose priority at creation (from the history,
/// else `Case.Priority`) is in the priority map, rejecting the others;
/// counts Case.csv.
fn accept_cases(
    cases: Vec<CaseOut>,
    initial: &[Initial],
    row_of: HashMap<Arc<str>, u32>,
    settings: &SourceSettings,
    f_case: u32,
    out: &mut Collector,
) -> (Vec<Case>, KnownCases) {
    let n_cases = cases.len();
    let mut accepted: Vec<Case> = Vec::with_capacity(n_cases);
    let mut ok = vec![false; n_cases];
    let mut ids: Vec<Option<Arc<str>>> = vec![None; n_cases];
    out.read(f_case, n_cases as u64);
    let mut case_rejects: Vec<Rej> = Vec::new();
    for (i, c) in cases.into_iter().enumerate() {
        let locator = Locator::Row(i as u64 + 1);
        let c = match c {
            CaseOut::Reject(mut r) => {
                r.locator = locator;
                case_rejects.push(*r);
                continue;
            }
            CaseOut::Case(c) => c,
        };
        let label = match &initial[i] {
            Some(label) => *label,
            None => c.priority.as_deref(),
        };
        let priority = match label {
            None => None,
            Some(l) => match settings.priority_of(l) {
                Some(p) => Some(p),
                None => {
                    case_rejects.push(Rej::new(
                        locator,
                        Table::Cases,
                        Some(c.id.to_string()),
                        "Priority",
                        Some(l.to_string()),
                        reason::unmapped_value("Priority"),
                        unmapped_detail("priority", l, settings),
                    ));
                    continue;
                }
            },
        };
        let first = row_of.get(&*c.id).copied().unwrap_or(i as u32) as usize;
        ok[first] = true;
        ids[first] = Some(c.id.clone());
        accepted.push(c.into_case(priority, f_case, locator));
    }
    out.rows(f_case, accepted.len() as u64);
    out.rejects(f_case, case_rejects);
    (accepted, KnownCases { row_of, ok, ids })
}

/// The groups of cases absent from Case.csv: after the case rows, by first
/// appearance.
struct AbsentCases {
    base: u64,
    groups: HashMap<String, (u64, Arc<str>)>,
}

impl AbsentCases {
    fn new(n_cases: usize) -> Self {
        AbsentCases {
            base: n_cases as u64,
            groups: HashMap::new(),
        }
    }

    /// The group and shared id text of absent case `id`.
    fn group(&mut self, id: &str) -> (u64, Arc<str>) {
        let n = self.groups.len() as u64;
        let base = self.base;
        self.groups
            .entry(id.to_string())
            .or_insert_with(|| (base + n, Arc::from(id)))
            .clone()
    }
}

/// Turns CaseHistory rows into events.
struct HistoryEvents<'a> {
    settings: &'a SourceSettings,
    closed: &'a HashSet<String>,
    known: &'a KnownCases,
    file: u32,
}

impl HistoryEvents<'_> {
    /// Stages the events of the history rows, in file order (`rank`: each
    /// row's position in its case's chain order), counting CaseHistory.csv.
    fn stage_all(
        &self,
        history: Vec<HistOut>,
        rank: &[u32],
        absent: &mut AbsentCases,
        out: &mut Collector,
        staged: &mut Vec<Staged>,
    ) {
        let file = self.file;
        out.read(file, history.len() as u64);
        for (i, h) in history.into_iter().enumerate() {
            let locator = Locator::Row(i as u64 + 1);
            match h {
                HistOut::Skip => out.skipped(file, 1),
                HistOut::Reject(mut r) => {
                    r.locator = locator;
                    out.reject(file, *r);
                }
                HistOut::Row(r) => match self.event(&r, locator, absent) {
                    Ok((group, event)) => {
                        out.rows(file, 1);
                        staged.push(Staged {
                            group,
                            seq: (0, u64::from(rank[i])),
                            event,
                        });
                    }
                    Err(r) => out.reject(file, *r),
                },
            }
        }
    }

    /// The event of a `Priority` or `Status` row with its group, or its
    /// reject: its case was rejected, its time is not one, or its new
    /// priority is not in the priority map.
    fn event(
        &self,
        r: &HistRow,
        locator: Locator,
        absent: &mut AbsentCases,
    ) -> Result<(u64, Event), Box<Rej>> {
        let key = || Some(event_key(r.case_id.as_str(), r.at_text.as_str()));
        let (group, case_id) = match r.case {
            Some(c) if !self.known.ok[c as usize] => {
                return Err(Box::new(case_rejected(
                    locator,
                    key(),
                    "CaseId",
                    r.case_id.as_str(),
                )));
            }
            Some(c) => (
                u64::from(c),
                self.known.ids[c as usize].clone().expect("accepted"),
            ),
            None => absent.group(r.case_id.as_str()),
        };
        let Some(at) = r.at else {
            let detail = match instant(r.at_text.as_str()) {
                Err(e) if !r.at_text.as_str().is_empty() => e,
                _ => "empty CreatedDate".to_string(),
            };
            return Err(Box::new(Rej::new(
                locator,
                Table::Events,
                key(),
                "CreatedDate",
                Some(r.at_text.as_str().to_string()).filter(|t| !t.is_empty()),
                reason::malformed_timestamp("CreatedDate"),
                detail,
            )));
        };
        let (kind, value) = self.change(r).map_err(|(label, detail)| {
            Box::new(Rej::new(
                locator,
                Table::Events,
                key(),
                "NewValue",
                label,
                reason::unmapped_value("NewValue"),
                detail,
            ))
        })?;
        let event = Event {
            case_id,
            at,
            kind,
            value,
            origin: Origin {
                file: self.file,
                locator,
            },
        };
        Ok((group, event))
    }

    /// What a row changes: a priority change (or the unmapped `NewValue`
    /// and why), or a closure, reopening or status change.
    fn change(&self, r: &HistRow) -> Result<(EventKind, Option<String>), (Option<String>, String)> {
        match r.field {
            Field::Priority => match r.new_value().map(|l| (l, self.settings.priority_of(l))) {
                Some((_, Some(p))) => Ok((EventKind::PriorityChange, Some(p.as_str().to_string()))),
                other => {
                    let label = other.map(|(l, _)| l.to_string());
                    let detail = match &label {
                        Some(l) => unmapped_detail("priority", l, self.settings),
                        None => "a priority change to no priority".to_string(),
                    };
                    Err((label, detail))
                }
            },
            Field::Status => {
                let was = r.old_value().is_some_and(|s| self.closed.contains(s));
                let is = r.new_value().is_some_and(|s| self.closed.contains(s));
                Ok(match (was, is) {
                    (false, true) => (EventKind::Closed, None),
                    (true, false) => (EventKind::Reopened, None),
                    _ => (EventKind::StatusChange, r.new_value().map(str::to_string)),
                })
            }
        }
    }
}

/// Stages the judged rows of EmailMessage.csv or CaseComment.csv (`seq`:
/// the file's place among the events of an instant), counting the file.
fn stage_messages(
    rows: Vec<MsgOut>,
    file: u32,
    seq: u64,
    absent: &mut AbsentCases,
    out: &mut Collector,
    staged: &mut Vec<Staged>,
) {
    out.read(file, rows.len() as u64);
    for (i, m) in rows.into_iter().enumerate() {
        let locator = Locator::Row(i as u64 + 1);
        match m {
            MsgOut::Skip => out.skipped(file, 1),
            MsgOut::Reject(mut r) => {
                r.locator = locator;
                out.reject(file, *r);
            }
            MsgOut::Event(mut s) => {
                s.seq = (seq, i as u64);
                s.event.origin.locator = locator;
                out.rows(file, 1);
                staged.push(s);
            }
            MsgOut::Absent(id, mut s) => {
                let (group, case_id) = absent.group(id.as_str());
                s.group = group;
                s.seq = (seq, i as u64);
                s.event.case_id = case_id;
                s.event.origin.locator = locator;
                out.rows(file, 1);
                staged.push(s);
            }
        }
    }
}

fn unmapped_detail(what: &str, label: &str, settings: &SourceSettings) -> String {
    let known: Vec<&str> = settings.priority.keys().map(String::as_str).collect();
    format!(
        "{what} `{label}` is not in the priority map ({}); map it in the mapping's `[source] priority`",
        known.join(", ")
    )
}

fn case_rejected(locator: Locator, key: Option<String>, field: &str, case_id: &str) -> Rej {
    Rej::new(
        locator,
        Table::Events,
        key,
        field,
        Some(case_id.to_string()),
        reason::CASE_REJECTED.to_string(),
        format!("case `{case_id}` was rejected"),
    )
}

// ---- User.csv, CaseStatus.csv ----

fn read_users(
    file: &CsvFile,
    settings: &SourceSettings,
    out: &mut Collector,
) -> Result<HashMap<String, UserClass>, VendorError> {
    let id = file.require("Id")?;
    let user_type = file.require("UserType")?;
    let agents: HashSet<&str> = settings.agents.users.iter().map(String::as_str).collect();
    let automation: HashSet<&str> = settings
        .automation_users
        .iter()
        .map(String::as_str)
        .collect();
    let rows = file.map_rows(|r| {
        let id = r.get(id)?;
        let t = r.get(user_type).unwrap_or("");
        let class = if agents.contains(id) {
            UserClass::Agent
        } else if automation.contains(id) {
            UserClass::Automation
        } else if settings
            .agents
            .user_types
            .iter()
            .any(|a| a.eq_ignore_ascii_case(t))
        {
            UserClass::Agent
        } else if PORTAL_TYPES.iter().any(|p| p.eq_ignore_ascii_case(t)) {
            UserClass::Portal
        } else {
            UserClass::Automation
        };
        Some((id.to_string(), class))
    })?;
    out.lookup(file.name.clone(), rows.len() as u64);
    Ok(rows.into_iter().flatten().collect())
}

fn closed_statuses(
    file: Option<&CsvFile>,
    settings: &SourceSettings,
    out: &mut Collector,
) -> Result<HashSet<String>, VendorError> {
    let from_file = match file {
        None => None,
        Some(file) => {
            let label = file.require("MasterLabel")?;
            let is_closed = file.require("IsClosed")?;
            let api = file.col("ApiName");
            let rows = file.map_rows(|r| {
                if truthy(r.get(is_closed)) != Some(true) {
                    return Vec::new();
                }
                [r.get(label), r.opt(api)]
                    .into_iter()
                    .flatten()
                    .map(str::to_string)
                    .collect()
            })?;
            out.lookup(file.name.clone(), rows.len() as u64);
            Some(rows.into_iter().flatten().collect::<HashSet<String>>())
        }
    };
    Ok(match (&settings.closed_statuses, from_file) {
        (Some(list), _) => list.iter().cloned().collect(),
        (None, Some(set)) if !set.is_empty() => set,
        _ => std::iter::once("Closed".to_string()).collect(),
    })
}

// ---- Case.csv ----

struct CaseRow {
    id: Arc<str>,
    account: Option<String>,
    product: Option<String>,
    /// `Case.Priority`: the value at export.
    priority: Option<String>,
    created_at: Instant,
    closed_at: Option<Instant>,
    channel: Option<String>,
    language: Option<String>,
    contact: Option<String>,
}

impl CaseRow {
    /// The case of an accepted row, at `priority`.
    fn into_case(self, priority: Option<Priority>, file: u32, locator: Locator) -> Case {
        Case {
            case_id: self.id,
            account_id: self.account,
            product: self.product,
            priority,
            created_at: self.created_at,
            closed_at: self.closed_at,
            channel: self.channel,
            language: self.language,
            contact_id: self.contact,
            origin: Origin { file, locator },
        }
    }
}

enum CaseOut {
    Case(CaseRow),
    Reject(Box<Rej>),
}

fn column(file: &CsvFile, field: &super::settings::FieldRef) -> Result<Option<usize>, VendorError> {
    match file.col(&field.name) {
        Some(i) => Ok(Some(i)),
        None if field.explicit => file.require(&field.name).map(Some),
        None => Ok(None),
    }
}

/// Reads Case.csv: each row's case, or the reject that stops it (its
/// locator is set by the caller).
fn read_cases(file: &CsvFile, settings: &SourceSettings) -> Result<Vec<CaseOut>, VendorError> {
    let columns = CaseColumns::of(file, settings)?;
    let header = &file.header;
    file.map_rows(|r| match columns.case(r, header) {
        Ok(case) => CaseOut::Case(case),
        Err(r) => CaseOut::Reject(r),
    })
}

/// The columns of Case.csv that are read.
struct CaseColumns<'s> {
    id: usize,
    account: usize,
    created: usize,
    is_closed: usize,
    closed: usize,
    priority: usize,
    channel: Option<usize>,
    product: Option<usize>,
    language: Option<usize>,
    contact: Option<usize>,
    /// The account column's name.
    account_name: &'s str,
}

/// A reject of a Case.csv row, with a placeholder locator.
fn case_reject(
    key: Option<&str>,
    field: &str,
    value: Option<&str>,
    reason: String,
    detail: String,
) -> Box<Rej> {
    Box::new(Rej::new(
        Locator::Row(0),
        Table::Cases,
        key.map(str::to_string),
        field,
        value.map(str::to_string),
        reason,
        detail,
    ))
}

impl<'s> CaseColumns<'s> {
    /// Finds the columns: the required ones, and the optional ones that
    /// the mapping names.
    fn of(file: &CsvFile, settings: &'s SourceSettings) -> Result<Self, VendorError> {
        let id = file.require("Id")?;
        let account = match column(file, &settings.fields.organization)? {
            Some(i) => i,
            None => file.require(&settings.fields.organization.name)?,
        };
        Ok(CaseColumns {
            id,
            account,
            created: file.require("CreatedDate")?,
            is_closed: file.require("IsClosed")?,
            closed: file.require("ClosedDate")?,
            priority: file.require("Priority")?,
            channel: column(file, &settings.fields.channel)?,
            product: column(file, &settings.fields.product)?,
            language: column(file, &settings.fields.language)?,
            contact: file.col("ContactId"),
            account_name: settings.fields.organization.name.as_str(),
        })
    }

    /// One row's case: its ids must be Salesforce ids, its `CreatedDate`
    /// a timestamp, its closure readable.
    fn case(&self, r: &Row, header: &[String]) -> Result<CaseRow, Box<Rej>> {
        if let Some(why) = r.unreadable(header) {
            let key = r.get(self.id).filter(|v| is_id(v));
            return Err(case_reject(
                key,
                "",
                None,
                reason::MALFORMED_RECORD.into(),
                why,
            ));
        }
        let key = r.get(self.id);
        let Some(case_id) = key.filter(|v| is_id(v)) else {
            return Err(case_reject(
                key,
                "Id",
                key,
                reason::malformed_id("Id"),
                id_detail(key),
            ));
        };
        let account_id = r.get(self.account);
        if let Some(a) = account_id {
            if !is_id(a) {
                let name = self.account_name;
                return Err(case_reject(
                    key,
                    name,
                    Some(a),
                    reason::malformed_id(name),
                    id_detail(Some(a)),
                ));
            }
        }
        let created_text = r.get(self.created);
        let created_at = match created_text.map(instant) {
            Some(Ok(t)) => t,
            Some(Err(e)) => {
                return Err(case_reject(
                    key,
                    "CreatedDate",
                    created_text,
                    reason::malformed_timestamp("CreatedDate"),
                    e,
                ))
            }
            None => {
                return Err(case_reject(
                    key,
                    "CreatedDate",
                    None,
                    reason::malformed_timestamp("CreatedDate"),
                    "empty CreatedDate".into(),
                ))
            }
        };
        Ok(CaseRow {
            id: Arc::from(case_id),
            account: account_id.map(str::to_string),
            product: r.opt(self.product).map(str::to_string),
            priority: r.get(self.priority).map(str::to_string),
            created_at,
            closed_at: self.closed_at(r, key)?,
            channel: r.opt(self.channel).map(str::to_lowercase),
            language: r.opt(self.language).map(str::to_string),
            contact: r.opt(self.contact).map(str::to_string),
        })
    }

    /// `ClosedDate` when `IsClosed` is true (then it must be a timestamp),
    /// else none.
    fn closed_at(&self, r: &Row, key: Option<&str>) -> Result<Option<Instant>, Box<Rej>> {
        match truthy(r.get(self.is_closed)) {
            Some(false) => Ok(None),
            Some(true) => {
                let text = r.get(self.closed);
                match text.map(instant) {
                    Some(Ok(t)) => Ok(Some(t)),
                    Some(Err(e)) => Err(case_reject(
                        key,
                        "ClosedDate",
                        text,
                        reason::malformed_timestamp("ClosedDate"),
                        e,
                    )),
                    None => Err(case_reject(
                        key,
                        "ClosedDate",
                        None,
                        reason::malformed_timestamp("ClosedDate"),
                        "IsClosed is true but ClosedDate is empty".into(),
                    )),
                }
            }
            None => {
                let v = r.get(self.is_closed);
                Err(case_reject(
                    key,
                    "IsClosed",
                    v,
                    reason::unmapped_value("IsClosed"),
                    "IsClosed is neither true nor false".into(),
                ))
            }
        }
    }
}

fn id_detail(v: Option<&str>) -> String {
    match v {
        None => "empty id".into(),
        Some(v) if v.len() == 15 => format!(
            "`{v}` is a 15-character id, as a report export writes it: export with the API or Data Loader (18-character ids, UTC times)"
        ),
        Some(v) => format!("`{v}` is not an 18-character Salesforce id"),
    }
}

// ---- CaseHistory.csv ----

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Priority,
    Status,
}

struct HistRow {
    /// Row of the case in Case.csv (`None`: not in the export).
    case: Option<u32>,
    case_id: Short,
    at_text: Short,
    /// `None`: empty or not a timestamp.
    at: Option<Instant>,
    field: Field,
    old: Option<Short>,
    new: Option<Short>,
}

impl HistRow {
    fn old_value(&self) -> Option<&str> {
        self.old.as_ref().map(Short::as_str)
    }
    fn new_value(&self) -> Option<&str> {
        self.new.as_ref().map(Short::as_str)
    }
}

enum HistOut {
    Skip,
    Reject(Box<Rej>),
    Row(HistRow),
}

fn read_history(
    file: &CsvFile,
    row_of: &HashMap<Arc<str>, u32>,
) -> Result<Vec<HistOut>, VendorError> {
    let case_id = file.require("CaseId")?;
    let created = file.require("CreatedDate")?;
    let field = file.require("Field")?;
    let old = file.require("OldValue")?;
    let new = file.require("NewValue")?;
    let deleted = file.col("IsDeleted");
    let header = &file.header;
    file.map_rows(|r| {
        let placeholder = Locator::Row(0);
        if let Some(why) = r.unreadable(header) {
            return HistOut::Reject(Box::new(Rej::new(
                placeholder,
                Table::Events,
                None,
                "",
                None,
                reason::MALFORMED_RECORD.into(),
                why,
            )));
        }
        if truthy(r.opt(deleted)) == Some(true) {
            return HistOut::Skip;
        }
        let f = match r.get(field) {
            Some(f) if f.eq_ignore_ascii_case("Priority") => Field::Priority,
            Some(f) if f.eq_ignore_ascii_case("Status") => Field::Status,
            _ => return HistOut::Skip,
        };
        let at_text = r.get(created).unwrap_or("");
        let parent = r.get(case_id);
        let Some(parent) = parent.filter(|p| is_id(p)) else {
            return HistOut::Reject(Box::new(Rej::new(
                placeholder,
                Table::Events,
                parent.map(|p| event_key(p, at_text)),
                "CaseId",
                parent.map(str::to_string),
                reason::malformed_id("CaseId"),
                id_detail(parent),
            )));
        };
        HistOut::Row(HistRow {
            case: row_of.get(parent).copied(),
            case_id: Short::new(parent),
            at_text: Short::new(at_text),
            at: instant(at_text).ok(),
            field: f,
            old: r.get(old).map(Short::new),
            new: r.get(new).map(Short::new),
        })
    })
}

/// Orders one case's rows of one field, sorted by (instant, file row),
/// along the `OldValue` → `NewValue` chain within each instant: from the
/// previous instant's last `NewValue` (at the first instant, from the row
/// whose `OldValue` no other row there produces); file order breaks ties.
/// Returns indices into `rows`.
fn chain_order(rows: &[&HistRow]) -> Vec<usize> {
    let mut order = Vec::with_capacity(rows.len());
    let mut current: Option<Option<&str>> = None;
    let mut i = 0;
    while i < rows.len() {
        let at = rows[i].at;
        let mut j = i;
        while j < rows.len() && rows[j].at == at {
            j += 1;
        }
        let mut remaining: Vec<usize> = (i..j).collect();
        while !remaining.is_empty() {
            let follows =
                current.and_then(|cur| remaining.iter().position(|&k| rows[k].old_value() == cur));
            let pick = follows
                .or_else(|| {
                    remaining.iter().position(|&k| {
                        !remaining.iter().any(|&m| {
                            m != k
                                && rows[m].new_value().is_some()
                                && rows[m].new_value() == rows[k].old_value()
                        })
                    })
                })
                .unwrap_or(0);
            let k = remaining.remove(pick);
            current = Some(rows[k].new_value());
            order.push(k);
        }
        i = j;
    }
    order
}

// ---- EmailMessage.csv, CaseComment.csv ----

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Message {
    Email,
    Comment,
}

enum MsgOut {
    Skip,
    Reject(Box<Rej>),
    /// An event of a case in Case.csv (its locator and order are set by the caller).
    Event(Staged),
    /// An event of a case absent from Case.csv, whose id it carries.
    Absent(Short, Staged),
}

/// Reads EmailMessage.csv or CaseComment.csv: each row's event (with its
/// case's group; its locator and order are set by the caller), skip or
/// reject.
fn read_messages(
    file: &CsvFile,
    kind: Message,
    settings: &SourceSettings,
    users: &HashMap<String, UserClass>,
    known: &KnownCases,
    file_index: u32,
) -> Result<Vec<MsgOut>, VendorError> {
    let judge = MessageJudge {
        columns: MessageColumns::of(file, kind)?,
        kind,
        settings,
        users,
        known,
        file_index,
        unattributed: Unattributed::of(settings),
        header: &file.header,
    };
    file.map_rows(|r| judge.row(r))
}

/// The columns of a message file that are read.
struct MessageColumns {
    parent: usize,
    creator: usize,
    deleted: Option<usize>,
    /// The time column's name and index.
    time_field: &'static str,
    time: usize,
    /// Mail only.
    status: Option<usize>,
    incoming: Option<usize>,
    from: Option<usize>,
    /// Comments only.
    published: Option<usize>,
}

impl MessageColumns {
    /// Finds the columns of a mail or comment file.
    fn of(file: &CsvFile, kind: Message) -> Result<Self, VendorError> {
        let parent = file.require("ParentId")?;
        let creator = file.require("CreatedById")?;
        let deleted = file.col("IsDeleted");
        let (time_field, time, status, incoming, from, published) = match kind {
            Message::Email => (
                "MessageDate",
                file.require("MessageDate")?,
                Some(file.require("Status")?),
                Some(file.require("Incoming")?),
                file.col("FromAddress"),
                None,
            ),
            Message::Comment => (
                "CreatedDate",
                file.require("CreatedDate")?,
                None,
                None,
                None,
                Some(file.require("IsPublished")?),
            ),
        };
        Ok(MessageColumns {
            parent,
            creator,
            deleted,
            time_field,
            time,
            status,
            incoming,
            from,
            published,
        })
    }
}

/// Judges the rows of one message file.
struct MessageJudge<'a> {
    columns: MessageColumns,
    kind: Message,
    settings: &'a SourceSettings,
    users: &'a HashMap<String, UserClass>,
    known: &'a KnownCases,
    file_index: u32,
    unattributed: Unattributed,
    header: &'a [String],
}

impl MessageJudge<'_> {
    /// One row: deleted rows and drafts are skipped; the parent must be a
    /// case id, its case not rejected, the mail status and the time
    /// readable; then the row is classed.
    fn row(&self, r: &Row) -> MsgOut {
        let cols = &self.columns;
        let placeholder = Locator::Row(0);
        if let Some(why) = r.unreadable(self.header) {
            return MsgOut::Reject(Box::new(Rej::new(
                placeholder,
                Table::Events,
                None,
                "",
                None,
                reason::MALFORMED_RECORD.into(),
                why,
            )));
        }
        if truthy(r.opt(cols.deleted)) == Some(true) {
            return MsgOut::Skip;
        }
        let status_code = cols.status.map(|s| email_status(r.get(s)));
        if status_code == Some(Some(DRAFT)) {
            return MsgOut::Skip;
        }
        let at_text = r.get(cols.time).unwrap_or("");
        let (case_id, row) = match self.case_of(r, at_text) {
            Ok(case) => case,
            Err(r) => return MsgOut::Reject(r),
        };
        let reject = |field: &str, value: Option<&str>, reason: String, detail: String| {
            MsgOut::Reject(Box::new(Rej::new(
                placeholder,
                Table::Events,
                Some(event_key(case_id, at_text)),
                field,
                value.map(str::to_string),
                reason,
                detail,
            )))
        };
        if status_code == Some(None) {
            let v = cols.status.and_then(|s| r.get(s));
            return reject(
                "Status",
                v,
                reason::unmapped_value("Status"),
                "not an EmailMessage status (0–5 or New, Read, Replied, Sent, Forwarded, Draft)"
                    .into(),
            );
        }
        let time_field = cols.time_field;
        let at = match (at_text.is_empty(), instant(at_text)) {
            (true, _) => {
                return reject(
                    time_field,
                    None,
                    reason::malformed_timestamp(time_field),
                    format!("empty {time_field}"),
                )
            }
            (false, Err(e)) => {
                return reject(
                    time_field,
                    Some(at_text),
                    reason::malformed_timestamp(time_field),
                    e,
                )
            }
            (false, Ok(t)) => t,
        };
        self.classify(r, reject, |kind| self.event(kind, at, row, case_id))
    }

    /// The row's case: `ParentId`, which must be a case id, and the case's
    /// row in Case.csv (`None`: absent); a rejected case rejects the row.
    fn case_of<'r>(&self, r: &Row<'r>, at_text: &str) -> Result<(&'r str, Option<u32>), Box<Rej>> {
        let placeholder = Locator::Row(0);
        let parent_id = r.get(self.columns.parent);
        let Some(case_id) = parent_id.filter(|p| is_id(p)) else {
            return Err(Box::new(Rej::new(
                placeholder,
                Table::Events,
                parent_id.map(|p| event_key(p, at_text)),
                "ParentId",
                parent_id.map(str::to_string),
                reason::malformed_id("ParentId"),
                id_detail(parent_id),
            )));
        };
        // The case: in Case.csv (accepted or rejected), or absent.
        let row = self.known.row_of.get(case_id).copied();
        if let Some(i) = row {
            if !self.known.ok[i as usize] {
                return Err(Box::new(case_rejected(
                    placeholder,
                    Some(event_key(case_id, at_text)),
                    "ParentId",
                    case_id,
                )));
            }
        }
        Ok((case_id, row))
    }

    /// The event of kind `kind` at `at` of case `case_id` (`row`: its row
    /// in Case.csv, `None` when absent).
    fn event(&self, kind: EventKind, at: Instant, row: Option<u32>, case_id: &str) -> MsgOut {
        let staged = |group: u64, case_id: Arc<str>| Staged {
            group,
            seq: (0, 0),
            event: Event {
                case_id,
                at,
                kind,
                value: None,
                origin: Origin {
                    file: self.file_index,
                    locator: Locator::Row(0),
                },
            },
        };
        match row {
            Some(i) => MsgOut::Event(staged(
                u64::from(i),
                self.known.ids[i as usize].clone().expect("ids of rows"),
            )),
            None => MsgOut::Absent(Short::new(case_id), staged(0, Arc::from(""))),
        }
    }

    /// What a readable row is: incoming mail a customer message (no user
    /// lookup: its creator is the Email-to-Case automated user), outgoing
    /// mail from an automation address automatic, an unpublished comment
    /// an internal note; else by its creator's class, an unknown creator
    /// as the settings say.
    fn classify<'r>(
        &self,
        r: &Row<'r>,
        reject: impl Fn(&str, Option<&'r str>, String, String) -> MsgOut,
        event: impl Fn(EventKind) -> MsgOut,
    ) -> MsgOut {
        let cols = &self.columns;
        // Incoming mail first: its creator is the Email-to-Case automated
        // user, a Standard user; no user lookup.
        if let Some(c) = cols.incoming {
            match truthy(r.get(c)) {
                Some(true) => return event(EventKind::CustomerUpdate),
                Some(false) => {}
                None => {
                    return reject(
                        "Incoming",
                        r.get(c),
                        reason::unmapped_value("Incoming"),
                        "Incoming is neither true nor false".into(),
                    )
                }
            }
            if let Some(address) = r.opt(cols.from) {
                if self
                    .settings
                    .automation_addresses
                    .iter()
                    .any(|a| a.eq_ignore_ascii_case(address))
                {
                    return event(EventKind::AutoResponse);
                }
            }
        }
        if let Some(c) = cols.published {
            match truthy(r.get(c)) {
                Some(false) => return event(EventKind::InternalNote),
                Some(true) => {}
                None => {
                    return reject(
                        "IsPublished",
                        r.get(c),
                        reason::unmapped_value("IsPublished"),
                        "IsPublished is neither true nor false".into(),
                    )
                }
            }
        }
        let author = r.get(cols.creator);
        let class = author.and_then(|a| self.users.get(a));
        let kind = match (class, self.kind) {
            (Some(UserClass::Agent), _) => EventKind::AgentResponse,
            (Some(UserClass::Portal), Message::Comment) => EventKind::CustomerUpdate,
            (Some(_), _) => EventKind::AutoResponse,
            (None, _) => {
                return match self.unattributed {
                    Unattributed::Skip => MsgOut::Skip,
                    Unattributed::Event(k) => event(k),
                    Unattributed::Reject => reject(
                        "CreatedById",
                        author,
                        reason::UNKNOWN_USER.into(),
                        format!(
                            "creator `{}` is not in User.csv (export inactive users too)",
                            author.unwrap_or("")
                        ),
                    ),
                }
            }
        };
        event(kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(_row: usize, at: i64, old: Option<&str>, new: Option<&str>) -> HistRow {
        HistRow {
            case: None,
            case_id: Short::new("c"),
            at_text: Short::new(""),
            at: Some(at),
            field: Field::Priority,
            old: old.map(Short::new),
            new: new.map(Short::new),
        }
    }

    #[test]
    fn same_instant_history_follows_the_value_chain_not_file_order() {
        // At t=1: file order High→Critical, Medium→High, Low→Medium: the
        // chain starts with the row whose old value no row produces (Low).
        let rows = [
            h(0, 1, Some("High"), Some("Critical")),
            h(1, 1, Some("Medium"), Some("High")),
            h(2, 1, Some("Low"), Some("Medium")),
            // At t=2 the chain continues from Critical.
            h(3, 2, Some("Low"), Some("High")),
            h(4, 2, Some("Critical"), Some("Low")),
        ];
        let refs: Vec<&HistRow> = rows.iter().collect();
        assert_eq!(chain_order(&refs), vec![2, 1, 0, 4, 3]);
    }

    #[test]
    fn a_cycle_at_one_instant_falls_back_to_file_order() {
        let rows = [
            h(0, 1, Some("High"), Some("Low")),
            h(1, 1, Some("Low"), Some("High")),
        ];
        let refs: Vec<&HistRow> = rows.iter().collect();
        assert_eq!(chain_order(&refs), vec![0, 1]);
    }

    #[test]
    fn ids_are_18_characters() {
        assert!(is_id("5003000000D8cuIAAR"));
        assert!(!is_id("5003000000D8cuI"));
        assert!(!is_id("5003000000D8cuI-AR"));
    }

    #[test]
    fn email_status_codes_and_labels() {
        assert_eq!(email_status(Some("5")), Some(DRAFT));
        assert_eq!(email_status(Some("Draft")), Some(DRAFT));
        assert_eq!(email_status(Some("3")), Some(3));
        assert_eq!(email_status(Some("9")), None);
        assert_eq!(email_status(None), None);
    }
}
