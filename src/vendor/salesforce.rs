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

use super::csv_file::CsvFile;
use super::{
    event_key, instant, reason, Case, Collector, Event, EventKind, Imported, Locator, Origin, Rej,
    Short, SourceKind, SourceSettings, Staged, Table, Unattributed, VendorError,
};
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

pub(super) fn import(
    dir: &std::path::Path,
    settings: &SourceSettings,
) -> Result<Imported, VendorError> {
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
    let case_file = next()?;
    let history_file = next()?;
    let email_file = next()?;
    let comment_file = next()?;
    let user_file = next()?;
    let status_file = opened.next().expect("status slot")?;

    let mut out = Collector::new(SourceKind::Salesforce);
    let f_case = out.file(case_file.name.clone());
    let f_history = out.file(history_file.name.clone());
    let f_email = out.file(email_file.name.clone());
    let f_comment = out.file(comment_file.name.clone());

    let users = read_users(&user_file, settings, &mut out)?;
    let closed = closed_statuses(status_file.as_ref(), settings, &mut out)?;

    // ---- Case.csv, and the row of each case id ----
    let cases = read_cases(&case_file, settings)?;
    drop(case_file);
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

    // ---- CaseHistory.csv: priority at creation, then the cases ----
    let history = read_history(&history_file, &row_of)?;
    drop(history_file);
    // Priority and Status rows of known cases with a valid time, grouped by
    // case row (counting sort), then each case's rows ordered: rank[i] is
    // row i's position in its case's chain order.
    let n_cases = cases.len();
    let mut start = vec![0u32; n_cases + 1];
    for h in &history {
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
    {
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
    }
    let row = |i: u32| match &history[i as usize] {
        HistOut::Row(r) => r,
        _ => unreachable!("only rows are grouped"),
    };
    // Per case: the rank of each of its rows and its initial priority label.
    // (history row, rank) pairs, and the label at creation (`None`: no
    // priority history; `Some(None)`: an empty one).
    type PerCase<'h> = (Vec<(u32, u32)>, Option<Option<&'h str>>);
    let per_case: Vec<PerCase> = (0..n_cases)
        .into_par_iter()
        .map(|c| {
            let rows = &by_case[start[c] as usize..start[c + 1] as usize];
            if rows.is_empty() {
                return (Vec::new(), None);
            }
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
        })
        .collect();
    let mut rank: Vec<u32> = vec![0; history.len()];
    for (ranks, _) in &per_case {
        for &(i, k) in ranks {
            rank[i as usize] = k;
        }
    }

    // A case id is accepted when one of its rows is (duplicates are the
    // pipeline's to judge).
    let mut accepted: Vec<Case> = Vec::with_capacity(n_cases);
    let mut ok = vec![false; n_cases];
    let mut ids: Vec<Option<Arc<str>>> = vec![None; n_cases];
    out.read(f_case, n_cases as u64);
    let mut case_rejects: Vec<Rej> = Vec::new();
    for (i, c) in cases.into_iter().enumerate() {
        let locator = Locator::Row(i as u64 + 1);
        match c {
            CaseOut::Reject(mut r) => {
                r.locator = locator;
                case_rejects.push(*r);
            }
            CaseOut::Case(c) => {
                let label = match &per_case[i].1 {
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
                accepted.push(Case {
                    case_id: c.id,
                    account_id: c.account,
                    product: c.product,
                    priority,
                    created_at: c.created_at,
                    closed_at: c.closed_at,
                    channel: c.channel,
                    language: c.language,
                    contact_id: c.contact,
                    origin: Origin {
                        file: f_case,
                        locator,
                    },
                });
            }
        }
    }
    drop(per_case);
    out.rows(f_case, accepted.len() as u64);
    out.rejects(f_case, case_rejects);

    // ---- events ----
    // Groups: the case's row in Case.csv, then absent cases by first appearance.
    let mut absent: HashMap<String, (u64, Arc<str>)> = HashMap::new();
    let mut absent_group = |id: &str| -> (u64, Arc<str>) {
        let n = absent.len() as u64;
        absent
            .entry(id.to_string())
            .or_insert_with(|| (n_cases as u64 + n, Arc::from(id)))
            .clone()
    };
    let mut staged: Vec<Staged> = Vec::with_capacity(history.len() + email_file.header.len());

    out.read(f_history, history.len() as u64);
    for (i, h) in history.into_iter().enumerate() {
        let locator = Locator::Row(i as u64 + 1);
        let r = match h {
            HistOut::Skip => {
                out.skipped(f_history, 1);
                continue;
            }
            HistOut::Reject(mut r) => {
                r.locator = locator;
                out.reject(f_history, *r);
                continue;
            }
            HistOut::Row(r) => r,
        };
        let key = || Some(event_key(r.case_id.as_str(), r.at_text.as_str()));
        let (group, case_id) = match r.case {
            Some(c) if !ok[c as usize] => {
                out.reject(
                    f_history,
                    case_rejected(locator, key(), "CaseId", r.case_id.as_str()),
                );
                continue;
            }
            Some(c) => (u64::from(c), ids[c as usize].clone().expect("accepted")),
            None => absent_group(r.case_id.as_str()),
        };
        let Some(at) = r.at else {
            let detail = match instant(r.at_text.as_str()) {
                Err(e) if !r.at_text.as_str().is_empty() => e,
                _ => "empty CreatedDate".to_string(),
            };
            out.reject(
                f_history,
                Rej::new(
                    locator,
                    Table::Events,
                    key(),
                    "CreatedDate",
                    Some(r.at_text.as_str().to_string()).filter(|t| !t.is_empty()),
                    reason::malformed_timestamp("CreatedDate"),
                    detail,
                ),
            );
            continue;
        };
        let (kind, value) = match r.field {
            Field::Priority => match r.new_value().map(|l| (l, settings.priority_of(l))) {
                Some((_, Some(p))) => (EventKind::PriorityChange, Some(p.as_str().to_string())),
                other => {
                    let label = other.map(|(l, _)| l.to_string());
                    let detail = match &label {
                        Some(l) => unmapped_detail("priority", l, settings),
                        None => "a priority change to no priority".to_string(),
                    };
                    out.reject(
                        f_history,
                        Rej::new(
                            locator,
                            Table::Events,
                            key(),
                            "NewValue",
                            label,
                            reason::unmapped_value("NewValue"),
                            detail,
                        ),
                    );
                    continue;
                }
            },
            Field::Status => {
                let was = r.old_value().is_some_and(|s| closed.contains(s));
                let is = r.new_value().is_some_and(|s| closed.contains(s));
                match (was, is) {
                    (false, true) => (EventKind::Closed, None),
                    (true, false) => (EventKind::Reopened, None),
                    _ => (EventKind::StatusChange, r.new_value().map(str::to_string)),
                }
            }
        };
        out.rows(f_history, 1);
        staged.push(Staged {
            group,
            seq: (0, u64::from(rank[i])),
            event: Event {
                case_id,
                at,
                kind,
                value,
                origin: Origin {
                    file: f_history,
                    locator,
                },
            },
        });
    }

    // ---- EmailMessage and CaseComment ----
    for (file, csv, kind, seq) in [
        (f_email, &email_file, Message::Email, 1u64),
        (f_comment, &comment_file, Message::Comment, 2u64),
    ] {
        let rows = read_messages(csv, kind, settings, &users, &row_of, &ok, &ids, file)?;
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
                    let (group, case_id) = absent_group(id.as_str());
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
    Ok(out.finish(accepted, staged))
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

fn read_cases(file: &CsvFile, settings: &SourceSettings) -> Result<Vec<CaseOut>, VendorError> {
    let id = file.require("Id")?;
    let account = match column(file, &settings.fields.organization)? {
        Some(i) => i,
        None => file.require(&settings.fields.organization.name)?,
    };
    let created = file.require("CreatedDate")?;
    let is_closed = file.require("IsClosed")?;
    let closed = file.require("ClosedDate")?;
    let priority = file.require("Priority")?;
    let channel = column(file, &settings.fields.channel)?;
    let product = column(file, &settings.fields.product)?;
    let language = column(file, &settings.fields.language)?;
    let contact = file.col("ContactId");
    let account_name = settings.fields.organization.name.as_str();
    let header = &file.header;
    file.map_rows(|r| {
        let placeholder = Locator::Row(0);
        let reject = |key: Option<&str>,
                      field: &str,
                      value: Option<&str>,
                      reason: String,
                      detail: String| {
            CaseOut::Reject(Box::new(Rej::new(
                placeholder,
                Table::Cases,
                key.map(str::to_string),
                field,
                value.map(str::to_string),
                reason,
                detail,
            )))
        };
        if let Some(why) = r.unreadable(header) {
            let key = r.get(id).filter(|v| is_id(v));
            return reject(key, "", None, reason::MALFORMED_RECORD.into(), why);
        }
        let key = r.get(id);
        let Some(case_id) = key.filter(|v| is_id(v)) else {
            return reject(key, "Id", key, reason::malformed_id("Id"), id_detail(key));
        };
        let account_id = r.get(account);
        if let Some(a) = account_id {
            if !is_id(a) {
                return reject(
                    key,
                    account_name,
                    Some(a),
                    reason::malformed_id(account_name),
                    id_detail(Some(a)),
                );
            }
        }
        let created_text = r.get(created);
        let created_at = match created_text.map(instant) {
            Some(Ok(t)) => t,
            Some(Err(e)) => {
                return reject(
                    key,
                    "CreatedDate",
                    created_text,
                    reason::malformed_timestamp("CreatedDate"),
                    e,
                )
            }
            None => {
                return reject(
                    key,
                    "CreatedDate",
                    None,
                    reason::malformed_timestamp("CreatedDate"),
                    "empty CreatedDate".into(),
                )
            }
        };
        let closed_at = match truthy(r.get(is_closed)) {
            Some(false) => None,
            Some(true) => {
                let text = r.get(closed);
                match text.map(instant) {
                    Some(Ok(t)) => Some(t),
                    Some(Err(e)) => {
                        return reject(
                            key,
                            "ClosedDate",
                            text,
                            reason::malformed_timestamp("ClosedDate"),
                            e,
                        )
                    }
                    None => {
                        return reject(
                            key,
                            "ClosedDate",
                            None,
                            reason::malformed_timestamp("ClosedDate"),
                            "IsClosed is true but ClosedDate is empty".into(),
                        )
                    }
                }
            }
            None => {
                let v = r.get(is_closed);
                return reject(
                    key,
                    "IsClosed",
                    v,
                    reason::unmapped_value("IsClosed"),
                    "IsClosed is neither true nor false".into(),
                );
            }
        };
        CaseOut::Case(CaseRow {
            id: Arc::from(case_id),
            account: account_id.map(str::to_string),
            product: r.opt(product).map(str::to_string),
            priority: r.get(priority).map(str::to_string),
            created_at,
            closed_at,
            channel: r.opt(channel).map(str::to_lowercase),
            language: r.opt(language).map(str::to_string),
            contact: r.opt(contact).map(str::to_string),
        })
    })
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

#[allow(clippy::too_many_arguments)]
fn read_messages(
    file: &CsvFile,
    kind: Message,
    settings: &SourceSettings,
    users: &HashMap<String, UserClass>,
    row_of: &HashMap<Arc<str>, u32>,
    ok: &[bool],
    ids: &[Option<Arc<str>>],
    file_index: u32,
) -> Result<Vec<MsgOut>, VendorError> {
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
    let header = &file.header;
    let unattributed = Unattributed::of(settings);
    file.map_rows(|r| {
        let placeholder = Locator::Row(0);
        if let Some(why) = r.unreadable(header) {
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
        if truthy(r.opt(deleted)) == Some(true) {
            return MsgOut::Skip;
        }
        let status_code = status.map(|s| email_status(r.get(s)));
        if status_code == Some(Some(DRAFT)) {
            return MsgOut::Skip;
        }
        let at_text = r.get(time).unwrap_or("");
        let parent_id = r.get(parent);
        let Some(case_id) = parent_id.filter(|p| is_id(p)) else {
            return MsgOut::Reject(Box::new(Rej::new(
                placeholder,
                Table::Events,
                parent_id.map(|p| event_key(p, at_text)),
                "ParentId",
                parent_id.map(str::to_string),
                reason::malformed_id("ParentId"),
                id_detail(parent_id),
            )));
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
        // The case: in Case.csv (accepted or rejected), or absent.
        let row = row_of.get(case_id).copied();
        if let Some(i) = row {
            if !ok[i as usize] {
                return MsgOut::Reject(Box::new(case_rejected(
                    placeholder,
                    Some(event_key(case_id, at_text)),
                    "ParentId",
                    case_id,
                )));
            }
        }
        if status_code == Some(None) {
            let v = status.and_then(|s| r.get(s));
            return reject(
                "Status",
                v,
                reason::unmapped_value("Status"),
                "not an EmailMessage status (0–5 or New, Read, Replied, Sent, Forwarded, Draft)"
                    .into(),
            );
        }
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
        let event = |kind: EventKind| {
            let staged = |group: u64, case_id: Arc<str>| Staged {
                group,
                seq: (0, 0),
                event: Event {
                    case_id,
                    at,
                    kind,
                    value: None,
                    origin: Origin {
                        file: file_index,
                        locator: placeholder,
                    },
                },
            };
            match row {
                Some(i) => MsgOut::Event(staged(
                    u64::from(i),
                    ids[i as usize].clone().expect("ids of rows"),
                )),
                None => MsgOut::Absent(Short::new(case_id), staged(0, Arc::from(""))),
            }
        };
        // Incoming mail first: its creator is the Email-to-Case automated
        // user, a Standard user; no user lookup.
        if let Some(c) = incoming {
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
            if let Some(address) = r.opt(from) {
                if settings
                    .automation_addresses
                    .iter()
                    .any(|a| a.eq_ignore_ascii_case(address))
                {
                    return event(EventKind::AutoResponse);
                }
            }
        }
        if let Some(c) = published {
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
        let author = r.get(creator);
        let class = author.and_then(|a| users.get(a));
        let kind = match (class, kind) {
            (Some(UserClass::Agent), _) => EventKind::AgentResponse,
            (Some(UserClass::Portal), Message::Comment) => EventKind::CustomerUpdate,
            (Some(_), _) => EventKind::AutoResponse,
            (None, _) => {
                return match unattributed {
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
    })
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
