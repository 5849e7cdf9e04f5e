//! `slt generate --source salesforce|zendesk|jsm`: the generated canonical
//! export, written in a vendor's native shapes, so that a user sees what
//! each export looks like and the benches can time the importers.
//!
//! The canonical export of [`super::generate_to_memory`] comes first; every
//! case and event is then written as the vendor records it (a priority
//! change as a `CaseHistory` row, an audit `Change`, a changelog item; a
//! reply as an `EmailMessage`, a `Comment` event, an issue comment…), with
//! the records an importer must skip (`created` and `ownerAssignment`
//! history rows, drafts, deleted rows, creation-audit descriptions, reply
//! notifications, assignee changes). `accounts.csv` stays canonical, keyed
//! by the vendor's account ids. Importing the files gives back the same
//! cases and events, through the id and value maps below
//! ([`vendor_case_id`], [`vendor_account_id`], [`vendor_contact_id`],
//! [`vendor_status`]), except what a vendor cannot hold: Zendesk times are
//! whole seconds, and the Zendesk and JSM language rule (`Japanese` → `ja`,
//! else `en`) turns `fr` and `de` into `en`.
//!
//! Ids: Salesforce 18-character ids with their real case-safe suffix
//! (`500…` cases, `001…` accounts, `003…` contacts, `005…` users); Zendesk
//! numbers; JSM issue keys `SUP-<n>` and numeric organization ids. JSM
//! times are written in `America/New_York` (`-0500`/`-0400`), as the
//! exporting user's profile zone.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::Path;

use chrono::{DateTime, Utc};

use super::{generate_to_memory, GenerateOptions};
use crate::timestamp::{parse_rfc3339, Instant, MICROS_PER_SECOND};
use crate::vendor::SourceKind;

/// What [`generate_vendor`] wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VendorSummary {
    /// Rows of the canonical `accounts.csv`.
    pub accounts: usize,
    /// Canonical cases rendered.
    pub cases: usize,
    /// Canonical events rendered.
    pub events: usize,
    /// Vendor files written (besides `accounts.csv`).
    pub files: usize,
}

// ---- the maps from canonical to vendor ----

/// The number of a canonical case id (`C-0000123` → 123).
pub fn case_number(case_id: &str) -> Option<u64> {
    case_id.strip_prefix("C-")?.parse().ok()
}

fn account_number(account_id: &str) -> Option<u64> {
    account_id.strip_prefix("ACC-")?.parse().ok()
}

/// `(account, contact)` numbers of a canonical contact (`CT-0012-03`).
fn contact_numbers(contact_id: &str) -> Option<(u64, u64)> {
    let (a, c) = contact_id.strip_prefix("CT-")?.split_once('-')?;
    Some((a.parse().ok()?, c.parse().ok()?))
}

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// An 18-character Salesforce id: key prefix, `n` in base 62 over 12
/// characters, and the case-safe checksum suffix.
pub fn salesforce_id(prefix: &str, n: u64) -> String {
    let mut body = [b'0'; 12];
    let mut v = n;
    for slot in body.iter_mut().rev() {
        *slot = BASE62[(v % 62) as usize];
        v /= 62;
    }
    let mut id = String::with_capacity(18);
    id.push_str(prefix);
    id.push_str(std::str::from_utf8(&body).expect("ASCII"));
    let bytes = id.as_bytes().to_vec();
    for chunk in bytes.chunks(5) {
        let mut bits = 0usize;
        for (i, b) in chunk.iter().enumerate() {
            if b.is_ascii_uppercase() {
                bits |= 1 << i;
            }
        }
        id.push(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"[bits] as char);
    }
    id
}

/// The vendor's case id of canonical case number `n`.
pub fn vendor_case_id(kind: SourceKind, n: u64) -> String {
    match kind {
        SourceKind::Salesforce => salesforce_id("500", n),
        SourceKind::Zendesk => (1000 + n).to_string(),
        SourceKind::Jsm => format!("SUP-{n}"),
    }
}

/// The vendor's account id of a canonical account id (`ACC-0012`).
pub fn vendor_account_id(kind: SourceKind, account_id: &str) -> String {
    let Some(n) = account_number(account_id) else {
        return account_id.to_string();
    };
    match kind {
        SourceKind::Salesforce => salesforce_id("001", n),
        SourceKind::Zendesk => (360_000_000_000 + n).to_string(),
        SourceKind::Jsm => (n + 100).to_string(),
    }
}

/// The vendor's contact (requester, reporter) id of a canonical contact id.
pub fn vendor_contact_id(kind: SourceKind, contact_id: &str) -> String {
    let Some((a, c)) = contact_numbers(contact_id) else {
        return contact_id.to_string();
    };
    match kind {
        SourceKind::Salesforce => salesforce_id("003", a * 100 + c),
        SourceKind::Zendesk => (370_000_000_000 + a * 100 + c).to_string(),
        SourceKind::Jsm => format!("qm:{a:08x}-{c:04x}"),
    }
}

/// The vendor's status of a canonical status value (`in_progress`,
/// `waiting_on_customer`, `on_hold`; `new`, `closed` for the start and the
/// closure).
pub fn vendor_status(kind: SourceKind, status: &str) -> String {
    let s = match (kind, status) {
        (SourceKind::Salesforce, "new") => "New",
        (SourceKind::Salesforce, "in_progress") => "In Progress",
        (SourceKind::Salesforce, "waiting_on_customer") => "Waiting on Customer",
        (SourceKind::Salesforce, "on_hold") => "On Hold",
        (SourceKind::Salesforce, "closed") => "Closed",
        (SourceKind::Zendesk, "new") => "new",
        (SourceKind::Zendesk, "in_progress") => "open",
        (SourceKind::Zendesk, "waiting_on_customer") => "pending",
        (SourceKind::Zendesk, "on_hold") => "hold",
        (SourceKind::Zendesk, "closed") => "solved",
        (SourceKind::Jsm, "new") => "Waiting for support",
        (SourceKind::Jsm, "in_progress") => "In Progress",
        (SourceKind::Jsm, "waiting_on_customer") => "Waiting for customer",
        (SourceKind::Jsm, "on_hold") => "Pending",
        (SourceKind::Jsm, "closed") => "Resolved",
        (_, other) => other,
    };
    s.to_string()
}

fn priority_label(kind: SourceKind, p: &str) -> String {
    let labels: [&str; 4] = match kind {
        SourceKind::Salesforce => ["Critical", "High", "Medium", "Low"],
        SourceKind::Zendesk => ["urgent", "high", "normal", "low"],
        SourceKind::Jsm => ["Highest", "High", "Medium", "Low"],
    };
    match p {
        "P1" => labels[0],
        "P2" => labels[1],
        "P3" => labels[2],
        "P4" => labels[3],
        other => other,
    }
    .to_string()
}

fn language_label(language: &str) -> &str {
    match language {
        "en" => "English",
        "ja" => "Japanese",
        "fr" => "French",
        "de" => "German",
        other => other,
    }
}

fn tag(label: &str) -> String {
    label
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// A deterministic draw in `0..n` from a case and an index.
fn pick(case: u64, i: u64, n: u64) -> u64 {
    let mut z = case.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ i.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    (z ^ (z >> 31)) % n.max(1)
}

const AGENTS: u64 = 24;

// ---- the canonical export, read back ----

/// A canonical timestamp: the instant, or the text that is not one (the
/// injected bad rows), written through to the vendor as it is.
#[derive(Debug, Clone)]
enum Time {
    At(Instant),
    Bad(String),
}

impl Time {
    fn of(text: &str) -> Time {
        parse_rfc3339(text).map_or_else(|_| Time::Bad(text.to_string()), Time::At)
    }
    fn instant(&self) -> Option<Instant> {
        match self {
            Time::At(t) => Some(*t),
            Time::Bad(_) => None,
        }
    }
}

struct CCase {
    id: String,
    num: u64,
    account: String,
    product: String,
    priority: String,
    created: Time,
    closed: Option<Time>,
    channel: String,
    language: String,
    contact: String,
}

struct CEvent {
    at: Time,
    kind: String,
    value: String,
}

fn read_canonical(
    opts: &GenerateOptions,
) -> (Vec<u8>, Vec<CCase>, HashMap<String, Vec<CEvent>>, usize) {
    let (accounts, cases, events, _) = generate_to_memory(opts);
    let mut out_cases = Vec::new();
    let mut reader = csv::Reader::from_reader(cases.as_slice());
    for rec in reader.records() {
        let r = rec.expect("generated CSV");
        let id = r[0].to_string();
        out_cases.push(CCase {
            num: case_number(&id).unwrap_or(0),
            id,
            account: r[1].to_string(),
            product: r[2].to_string(),
            priority: r[3].to_string(),
            created: Time::of(&r[4]),
            closed: (!r[5].is_empty()).then(|| Time::of(&r[5])),
            channel: r[6].to_string(),
            language: r[7].to_string(),
            contact: r[8].to_string(),
        });
    }
    let mut by_case: HashMap<String, Vec<(usize, CEvent)>> = HashMap::new();
    let mut n_events = 0;
    let mut reader = csv::Reader::from_reader(events.as_slice());
    for (row, rec) in reader.records().enumerate() {
        let r = rec.expect("generated CSV");
        n_events += 1;
        by_case.entry(r[0].to_string()).or_default().push((
            row,
            CEvent {
                at: Time::of(&r[1]),
                kind: r[2].to_string(),
                value: r[3].to_string(),
            },
        ));
    }
    let by_case = by_case
        .into_iter()
        .map(|(k, mut v)| {
            v.sort_by_key(|(row, e)| (e.at.instant().unwrap_or(i64::MAX), *row));
            (k, v.into_iter().map(|(_, e)| e).collect())
        })
        .collect();
    (accounts, out_cases, by_case, n_events)
}

/// `accounts.csv` with the vendor's account ids.
fn write_accounts(kind: SourceKind, accounts: &[u8], out_dir: &Path) -> io::Result<usize> {
    let mut reader = csv::Reader::from_reader(accounts);
    let mut w = csv::Writer::from_path(out_dir.join("accounts.csv"))?;
    w.write_record(reader.headers().map_err(io::Error::other)?)?;
    let mut n = 0;
    for rec in reader.records() {
        let r = rec.map_err(io::Error::other)?;
        let mut fields: Vec<String> = r.iter().map(str::to_string).collect();
        fields[0] = vendor_account_id(kind, &fields[0]);
        w.write_record(&fields)?;
        n += 1;
    }
    w.flush()?;
    Ok(n)
}

/// A case's timeline as vendor steps: the canonical events with the status
/// and priority before each.
struct Step<'a> {
    event: &'a CEvent,
    /// Priority label before (priority changes) / status before (status events).
    before: String,
    /// Priority label or status after.
    after: String,
}

fn timeline<'a>(
    kind: SourceKind,
    case: &CCase,
    events: &'a [CEvent],
) -> (Vec<Step<'a>>, String, String) {
    let mut priority = priority_label(kind, &case.priority);
    let mut status = "new".to_string();
    let mut steps = Vec::with_capacity(events.len());
    for e in events {
        let (before, after) = match e.kind.as_str() {
            "priority_change" => {
                let to = priority_label(kind, &e.value);
                let before = std::mem::replace(&mut priority, to.clone());
                (before, to)
            }
            "status_change" | "closed" | "reopened" => {
                let to = match e.kind.as_str() {
                    "status_change" => e.value.clone(),
                    "closed" => "closed".to_string(),
                    _ => "in_progress".to_string(),
                };
                let before = std::mem::replace(&mut status, to.clone());
                (before, to)
            }
            _ => (String::new(), String::new()),
        };
        steps.push(Step {
            event: e,
            before,
            after,
        });
    }
    (steps, priority, status)
}

fn utc(t: Instant) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(t).expect("generated instants are in range")
}

fn quote(out: &mut String, v: &str) {
    out.push('"');
    for c in v.chars() {
        if c == '"' {
            out.push('"');
        }
        out.push(c);
    }
    out.push('"');
}

/// A Salesforce CSV row, every field quoted as Bulk API 2.0 writes it.
fn csv_row(out: &mut String, fields: &[&str]) {
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        quote(out, f);
    }
    out.push('\n');
}

/// A JSON string.
fn js(v: &str) -> String {
    serde_json::to_string(v).expect("a string serializes")
}

/// Writes the vendor export of the generated canonical export into
/// `out_dir` (created if missing).
pub fn generate_vendor(
    opts: &GenerateOptions,
    kind: SourceKind,
    out_dir: &Path,
) -> io::Result<VendorSummary> {
    fs::create_dir_all(out_dir)?;
    let (accounts, cases, events, n_events) = read_canonical(opts);
    let accounts = write_accounts(kind, &accounts, out_dir)?;
    let files = match kind {
        SourceKind::Salesforce => salesforce(&cases, &events, out_dir)?,
        SourceKind::Zendesk => zendesk(&cases, &events, out_dir)?,
        SourceKind::Jsm => jsm(&cases, &events, out_dir)?,
    };
    Ok(VendorSummary {
        accounts,
        cases: cases.len(),
        events: n_events,
        files,
    })
}

// ---- Salesforce ----

fn sf_time(t: &Time) -> String {
    match t {
        Time::At(t) => utc(*t).format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        Time::Bad(text) => text.clone(),
    }
}

/// Writes the Salesforce files: per case its `Case.csv` row, its
/// `CaseHistory.csv` rows, its mail and comments; then `User.csv` and
/// `CaseStatus.csv`.
fn salesforce(
    cases: &[CCase],
    events: &HashMap<String, Vec<CEvent>>,
    dir: &Path,
) -> io::Result<usize> {
    let open = |name: &str| -> io::Result<BufWriter<File>> {
        Ok(BufWriter::with_capacity(
            1 << 17,
            File::create(dir.join(name))?,
        ))
    };
    let mut case_out = open("Case.csv")?;
    let mut history = open("CaseHistory.csv")?;
    let mut email = open("EmailMessage.csv")?;
    let mut comment = open("CaseComment.csv")?;
    case_out.write_all(b"\"Id\",\"CaseNumber\",\"AccountId\",\"ContactId\",\"OwnerId\",\"Subject\",\"Origin\",\"Priority\",\"Status\",\"Type\",\"Product__c\",\"Language__c\",\"IsClosed\",\"IsEscalated\",\"CreatedDate\",\"CreatedById\",\"ClosedDate\",\"LastModifiedDate\"\n")?;
    history.write_all(b"\"Id\",\"IsDeleted\",\"CaseId\",\"CreatedById\",\"CreatedDate\",\"Field\",\"OldValue\",\"NewValue\"\n")?;
    email.write_all(b"\"Id\",\"ParentId\",\"Incoming\",\"Status\",\"MessageDate\",\"CreatedDate\",\"CreatedById\",\"FromAddress\",\"FromName\",\"ToAddress\",\"Subject\",\"AutomationType\",\"IsDeleted\"\n")?;
    comment.write_all(b"\"Id\",\"ParentId\",\"IsPublished\",\"CommentBody\",\"CreatedById\",\"CreatedDate\",\"IsDeleted\"\n")?;
    let mut users = SfUsers::new();
    let mut ids = SfIds::default();
    let mut row = String::with_capacity(512);
    let mut crow = String::new();
    let empty = Vec::new();
    for case in cases {
        let evs = events.get(&case.id).unwrap_or(&empty);
        let (steps, priority, status) = timeline(SourceKind::Salesforce, case, evs);
        let c = SfCase::new(case, &users);
        row.clear();
        c.case_row(&mut row, evs, &priority, &status, &mut users);
        case_out.write_all(row.as_bytes())?;
        row.clear();
        c.history_rows(&mut row, &steps, &users, &mut ids.history);
        history.write_all(row.as_bytes())?;
        row.clear();
        crow.clear();
        let mut messages = SfMessages {
            case: &c,
            customer_address: format!("{}@customer.example", tag(&case.contact)),
            mail: &mut row,
            comments: &mut crow,
            ids: &mut ids,
        };
        messages.write(&steps, &users);
        email.write_all(row.as_bytes())?;
        comment.write_all(crow.as_bytes())?;
    }
    for w in [&mut case_out, &mut history, &mut email, &mut comment] {
        w.flush()?;
    }
    users.write(dir)?;
    write_sf_statuses(dir)?;
    Ok(6)
}

/// The agent a case's `i`-th draw names.
fn sf_agent(case: u64, i: u64) -> String {
    salesforce_id("005", 1 + pick(case, i, AGENTS))
}

/// The users the Salesforce rows name besides the agents: the Automated
/// Process and Automated Case users, and a portal user per contact.
struct SfUsers {
    autoproc: String,
    case_user: String,
    /// (portal user, contact) ids, by first appearance.
    portal: Vec<(String, String)>,
    seen_portal: std::collections::HashSet<String>,
}

impl SfUsers {
    fn new() -> Self {
        SfUsers {
            autoproc: salesforce_id("005", 900_001),
            case_user: salesforce_id("005", 900_002),
            portal: Vec::new(),
            seen_portal: std::collections::HashSet::new(),
        }
    }

    /// The portal user of a canonical contact (the Automated Case user
    /// when it is not a contact id).
    fn portal_user(&self, contact: &str) -> String {
        match contact_numbers(contact) {
            Some((a, c)) => salesforce_id("005", 1_000_000 + a * 100 + c),
            None => self.case_user.clone(),
        }
    }

    /// Writes `User.csv`: the agents (the last one inactive), the two
    /// automated users and the portal users.
    fn write(&self, dir: &Path) -> io::Result<()> {
        let mut users = String::from(
            "\"Id\",\"FirstName\",\"LastName\",\"Name\",\"Alias\",\"Username\",\"Email\",\"UserType\",\"IsActive\",\"Profile.Name\",\"ContactId\",\"AccountId\"\n",
        );
        for k in 1..=AGENTS {
            let id = salesforce_id("005", k);
            let name = format!("Agent {k:02}");
            csv_row(
                &mut users,
                &[
                    &id,
                    "Agent",
                    &format!("{k:02}"),
                    &name,
                    &format!("agt{k:02}"),
                    &format!("agent{k:02}@example.com"),
                    &format!("agent{k:02}@example.com"),
                    "Standard",
                    if k == AGENTS { "false" } else { "true" },
                    "Support Agent",
                    "",
                    "",
                ],
            );
        }
        csv_row(
            &mut users,
            &[
                &self.autoproc,
                "",
                "Automated Process",
                "Automated Process",
                "autoproc",
                "autoproc@00d.example",
                "",
                "AutomatedProcess",
                "true",
                "",
                "",
                "",
            ],
        );
        csv_row(
            &mut users,
            &[
                &self.case_user,
                "Automated",
                "Case User",
                "Automated Case User",
                "acase",
                "acase@example.com",
                "acase@example.com",
                "Standard",
                "true",
                "System Administrator",
                "",
                "",
            ],
        );
        for (user, contact) in &self.portal {
            csv_row(
                &mut users,
                &[
                    user,
                    "Portal",
                    "Customer",
                    "Portal Customer",
                    "pcust",
                    &format!("{user}@portal.example"),
                    "",
                    "CspLitePortal",
                    "true",
                    "Customer Community User",
                    contact,
                    "",
                ],
            );
        }
        fs::write(dir.join("User.csv"), users)
    }
}

/// Writes `CaseStatus.csv`: the statuses, `Closed` and `Resolved` closed.
fn write_sf_statuses(dir: &Path) -> io::Result<()> {
    let mut statuses = String::from(
        "\"Id\",\"MasterLabel\",\"ApiName\",\"IsClosed\",\"IsDefault\",\"SortOrder\"\n",
    );
    for (i, (label, closed)) in [
        ("New", false),
        ("In Progress", false),
        ("Waiting on Customer", false),
        ("On Hold", false),
        ("Closed", true),
        ("Resolved", true),
    ]
    .iter()
    .enumerate()
    {
        csv_row(
            &mut statuses,
            &[
                &salesforce_id("01J", i as u64 + 1),
                label,
                &label.replace(' ', "_"),
                if *closed { "true" } else { "false" },
                if i == 0 { "true" } else { "false" },
                &(i + 1).to_string(),
            ],
        );
    }
    fs::write(dir.join("CaseStatus.csv"), statuses)
}

/// The last ids given to history rows, mail and comments.
#[derive(Default)]
struct SfIds {
    history: u64,
    email: u64,
    comment: u64,
}

/// One case as its Salesforce rows name it.
struct SfCase<'c> {
    case: &'c CCase,
    id: String,
    created: String,
    /// `CreatedById`: an agent for a phone case, the Automated Case user
    /// for mail, else the contact's portal user.
    creator: String,
}

impl<'c> SfCase<'c> {
    fn new(case: &'c CCase, users: &SfUsers) -> Self {
        let creator = match case.channel.as_str() {
            "phone" => sf_agent(case.num, 0),
            "email" => users.case_user.clone(),
            _ => users.portal_user(&case.contact),
        };
        SfCase {
            case,
            id: vendor_case_id(SourceKind::Salesforce, case.num),
            created: sf_time(&case.created),
            creator,
        }
    }

    /// The `Case.csv` row, at the priority and status at export; notes the
    /// contact's portal user.
    fn case_row(
        &self,
        row: &mut String,
        evs: &[CEvent],
        priority: &str,
        status: &str,
        users: &mut SfUsers,
    ) {
        const K: SourceKind = SourceKind::Salesforce;
        let case = self.case;
        let closed = case.closed.as_ref().map(sf_time).unwrap_or_default();
        let last = evs
            .iter()
            .rev()
            .find_map(|e| e.at.instant())
            .map(|t| sf_time(&Time::At(t)))
            .unwrap_or_else(|| self.created.clone());
        let origin = match case.channel.as_str() {
            "email" => "Email",
            "phone" => "Phone",
            "chat" => "Chat",
            _ => "Web",
        };
        let contact = vendor_contact_id(K, &case.contact);
        if users.seen_portal.insert(case.contact.clone()) {
            let user = users.portal_user(&case.contact);
            users.portal.push((user, contact.clone()));
        }
        csv_row(
            row,
            &[
                &self.id,
                &format!("{:08}", case.num),
                &vendor_account_id(K, &case.account),
                &contact,
                &sf_agent(case.num, 1),
                &format!("{} issue #{}", case.product, case.num),
                origin,
                priority,
                &vendor_status(K, status),
                if case.priority == "P4" {
                    "Question"
                } else {
                    "Problem"
                },
                &case.product,
                &case.language,
                if case.closed.is_some() {
                    "true"
                } else {
                    "false"
                },
                "false",
                &self.created,
                &self.creator,
                &closed,
                &last,
            ],
        );
    }

    /// One `CaseHistory.csv` row, with the next history id.
    #[allow(clippy::too_many_arguments)]
    fn history_row(
        &self,
        row: &mut String,
        hid: &mut u64,
        deleted: bool,
        by: &str,
        at: &str,
        field: &str,
        old: &str,
        new: &str,
    ) {
        *hid += 1;
        csv_row(
            row,
            &[
                &salesforce_id("017", *hid),
                if deleted { "true" } else { "false" },
                &self.id,
                by,
                at,
                field,
                old,
                new,
            ],
        );
    }

    /// The history rows: the `created` row, an owner assignment (two rows,
    /// names then ids), the priority and status rows, and now and then a
    /// deleted row.
    fn history_rows(&self, row: &mut String, steps: &[Step], users: &SfUsers, hid: &mut u64) {
        const K: SourceKind = SourceKind::Salesforce;
        let case = self.case;
        let created = &self.created;
        self.history_row(row, hid, false, &self.creator, created, "created", "", "");
        let owner = sf_agent(case.num, 1);
        let autoproc = &users.autoproc;
        let owner_name = format!("Agent {}", &owner[12..15]);
        self.history_row(
            row,
            hid,
            false,
            autoproc,
            created,
            "Owner",
            "Support Queue",
            &owner_name,
        );
        let queue = salesforce_id("00G", 1);
        self.history_row(row, hid, false, autoproc, created, "Owner", &queue, &owner);
        for (i, s) in steps.iter().enumerate() {
            let at = sf_time(&s.event.at);
            let by = sf_agent(case.num, 10 + i as u64);
            match s.event.kind.as_str() {
                "priority_change" => {
                    self.history_row(row, hid, false, &by, &at, "Priority", &s.before, &s.after)
                }
                "status_change" | "closed" | "reopened" => self.history_row(
                    row,
                    hid,
                    false,
                    &by,
                    &at,
                    "Status",
                    &vendor_status(K, &s.before),
                    &vendor_status(K, &s.after),
                ),
                _ => {}
            }
        }
        if pick(case.num, 999, 150) == 0 {
            // A deleted row (queryAll exports them): skipped.
            let by = sf_agent(case.num, 2);
            self.history_row(row, hid, true, &by, created, "Status", "New", "Escalated");
        }
    }
}

/// Writes one case's replies and notes: as `EmailMessage.csv` rows for a
/// mail case, else as `CaseComment.csv` rows.
struct SfMessages<'a, 'c> {
    case: &'a SfCase<'c>,
    customer_address: String,
    /// The case's mail rows.
    mail: &'a mut String,
    /// The case's comment rows.
    comments: &'a mut String,
    ids: &'a mut SfIds,
}

impl SfMessages<'_, '_> {
    /// The rows of every reply, note and automatic response.
    fn write(&mut self, steps: &[Step], users: &SfUsers) {
        let num = self.case.case.num;
        let by_mail = self.case.case.channel == "email";
        for (i, s) in steps.iter().enumerate() {
            let at = sf_time(&s.event.at);
            let i = i as u64;
            match s.event.kind.as_str() {
                "auto_response" => {
                    self.email(&at, false, "3", &users.autoproc, "noreply@example.com")
                }
                "agent_response" => {
                    let by = sf_agent(num, 100 + i);
                    if by_mail {
                        if pick(num, 200 + i, 12) == 0 {
                            // A draft saved before sending: skipped.
                            self.email(&at, false, "5", &by, "support@example.com");
                        }
                        self.email(&at, false, "3", &by, "support@example.com");
                    } else {
                        self.note(
                            &at,
                            true,
                            &by,
                            "Thanks, we are looking into it.\nMore soon.",
                            false,
                        );
                    }
                }
                "customer_update" => {
                    if by_mail {
                        let from = self.customer_address.clone();
                        self.email(&at, true, "1", &users.case_user, &from);
                    } else {
                        let by = users.portal_user(&self.case.case.contact);
                        self.note(&at, true, &by, "Any \"news\", please?", false);
                    }
                }
                "internal_note" => {
                    let by = sf_agent(num, 100 + i);
                    if pick(num, 300 + i, 40) == 0 {
                        // A comment deleted later: skipped.
                        self.note(&at, true, &by, "wrong case", true);
                    }
                    self.note(&at, false, &by, "Checked the logs, escalating.", false);
                }
                _ => {}
            }
        }
    }

    /// One `EmailMessage.csv` row, with the next mail id.
    fn email(&mut self, at: &str, incoming: bool, status: &str, by: &str, from: &str) {
        self.ids.email += 1;
        csv_row(
            self.mail,
            &[
                &salesforce_id("02s", self.ids.email),
                &self.case.id,
                if incoming { "true" } else { "false" },
                status,
                at,
                at,
                by,
                from,
                if incoming { "Customer" } else { "Support" },
                if incoming {
                    "support@example.com"
                } else {
                    &self.customer_address
                },
                &format!("Re: case {:08}", self.case.case.num),
                "",
                "false",
            ],
        );
    }

    /// One `CaseComment.csv` row, with the next comment id.
    fn note(&mut self, at: &str, published: bool, by: &str, body: &str, deleted: bool) {
        self.ids.comment += 1;
        csv_row(
            self.comments,
            &[
                &salesforce_id("00a", self.ids.comment),
                &self.case.id,
                if published { "true" } else { "false" },
                body,
                by,
                at,
                if deleted { "true" } else { "false" },
            ],
        );
    }
}

// ---- Zendesk ----

fn zd_time(t: &Time) -> String {
    match t {
        Time::At(t) => utc(t.div_euclid(MICROS_PER_SECOND) * MICROS_PER_SECOND)
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string(),
        Time::Bad(text) => text.clone(),
    }
}

const ZD_PRODUCT_FIELD: u64 = 360_001_000_001;
const ZD_LANGUAGE_FIELD: u64 = 360_001_000_002;
const ZD_PAGE: usize = 1000;

fn zd_agent(case: u64, i: u64) -> u64 {
    380_000_000_001 + pick(case, i, AGENTS)
}

/// Writes the Zendesk files: the ticket pages and audit pages (each case's
/// ticket and audits as they come), then `users.json`,
/// `organizations.json` and `ticket_fields.json`.
fn zendesk(
    cases: &[CCase],
    events: &HashMap<String, Vec<CEvent>>,
    dir: &Path,
) -> io::Result<usize> {
    let mut w = ZdWriter {
        dir,
        products: Vec::new(),
        requesters: Vec::new(),
        orgs: Vec::new(),
        ticket_page: Vec::new(),
        audit_page: Vec::new(),
        ids: ZdIds {
            audit: 90_000_000_000,
            event: 91_000_000_000,
        },
        n_ticket_pages: cases.len().div_ceil(ZD_PAGE).max(1),
        ticket_pages: 0,
        audit_pages: 0,
    };
    let empty = Vec::new();
    for (ci, case) in cases.iter().enumerate() {
        let evs = events.get(&case.id).unwrap_or(&empty);
        w.case(case, evs)?;
        if w.ticket_page.len() == ZD_PAGE || ci + 1 == cases.len() {
            w.write_ticket_page()?;
        }
    }
    let mut files = w.ticket_pages;
    if cases.is_empty() {
        fs::write(
            dir.join("tickets-page-1.json"),
            "{\"tickets\":[],\"after_url\":null,\"after_cursor\":null,\"before_url\":null,\"before_cursor\":null,\"end_of_stream\":true}\n",
        )?;
        files += 1;
    }
    w.write_audit_page(true)?;
    files += w.audit_pages;
    w.write_users()?;
    w.write_organizations()?;
    w.write_ticket_fields()?;
    Ok(files + 3)
}

/// The ids of the last audit and audit event written.
struct ZdIds {
    audit: u64,
    event: u64,
}

impl ZdIds {
    /// An audit of `ticket` holding `events`, with the next audit id.
    fn audit(
        &mut self,
        ticket: &str,
        created_at: &str,
        author: i64,
        via: &str,
        events: Vec<String>,
    ) -> String {
        self.audit += 1;
        let audit_id = self.audit;
        format!(
            "{{\"id\":{audit_id},\"ticket_id\":{ticket},\"created_at\":{},\"author_id\":{author},\"metadata\":{{\"system\":{{}},\"custom\":{{}}}},\"via\":{via},\"events\":[{}]}}",
            js(created_at),
            events.join(",")
        )
    }

    /// An audit event of `body` (its fields but the id), with the next
    /// event id.
    fn event(&mut self, body: String) -> String {
        self.event += 1;
        format!("{{\"id\":{},{body}}}", self.event)
    }
}

const ZD_WEB_VIA: &str = "{\"channel\":\"web\",\"source\":{\"from\":{},\"to\":{},\"rel\":null}}";
const ZD_REPLY_TRIGGER: &str = "{\"channel\":\"rule\",\"source\":{\"to\":{},\"from\":{\"id\":360000000102,\"title\":\"Notify requester of comment update\"},\"rel\":\"trigger\"}}";
const ZD_ACK_TRIGGER: &str = "{\"channel\":\"rule\",\"source\":{\"to\":{},\"from\":{\"id\":360000000101,\"title\":\"Notify requester of received request\"},\"rel\":\"trigger\"}}";
const ZD_AGENT_TRIGGER: &str = "{\"channel\":\"rule\",\"source\":{\"to\":{},\"from\":{\"id\":360000000103,\"title\":\"Notify assignee of comment update\"},\"rel\":\"trigger\"}}";

/// The Zendesk export being written: the pages filling up, and what the
/// reference files list.
struct ZdWriter<'d> {
    dir: &'d Path,
    /// Products, by first appearance (the product field's options).
    products: Vec<String>,
    /// (requester, account number) of every ticket.
    requesters: Vec<(u64, Option<u64>)>,
    /// Organization ids, by first appearance.
    orgs: Vec<String>,
    ticket_page: Vec<String>,
    audit_page: Vec<String>,
    ids: ZdIds,
    n_ticket_pages: usize,
    /// Pages written so far.
    ticket_pages: usize,
    audit_pages: usize,
}

/// One case as its ticket and audits name it.
struct ZdCase<'c> {
    case: &'c CCase,
    ticket: String,
    requester: u64,
    /// An agent for a phone case, else the requester.
    submitter: u64,
    created: String,
    /// The ticket's `via.channel`.
    via: &'static str,
}

impl ZdWriter<'_> {
    /// Adds a case's ticket to the ticket page and its audits to the audit
    /// pages (writing each full audit page).
    fn case(&mut self, case: &CCase, evs: &[CEvent]) -> io::Result<()> {
        const K: SourceKind = SourceKind::Zendesk;
        let (steps, priority, status) = timeline(K, case, evs);
        let requester: u64 = vendor_contact_id(K, &case.contact)
            .parse()
            .unwrap_or(370_000_000_000);
        let org = vendor_account_id(K, &case.account);
        let submitter = if case.channel == "phone" {
            zd_agent(case.num, 0)
        } else {
            requester
        };
        self.requesters
            .push((requester, account_number(&case.account)));
        if !self.orgs.contains(&org) {
            self.orgs.push(org.clone());
        }
        if !self.products.contains(&case.product) {
            self.products.push(case.product.clone());
        }
        let c = ZdCase {
            case,
            ticket: vendor_case_id(K, case.num),
            requester,
            submitter,
            created: zd_time(&case.created),
            via: match case.channel.as_str() {
                "email" => "email",
                "phone" => "voice",
                "chat" => "chat",
                _ => "web",
            },
        };
        self.ticket_page
            .push(c.ticket_json(evs, &org, &priority, &status));
        let mut audits = c.audits(&steps, &mut self.ids);
        // Newest first, as List Ticket Audits returns them: order is not meaningful.
        audits.reverse();
        for a in audits {
            self.audit_page.push(a);
            if self.audit_page.len() == ZD_PAGE {
                self.write_audit_page(false)?;
            }
        }
        Ok(())
    }

    /// Writes the next tickets page (the last one ends the stream).
    fn write_ticket_page(&mut self) -> io::Result<()> {
        let page = self.ticket_pages + 1;
        let last = page == self.n_ticket_pages;
        let body = format!(
            "{{\"tickets\":[{}],\"after_url\":{},\"after_cursor\":{},\"before_url\":null,\"before_cursor\":null,\"end_of_stream\":{last}}}\n",
            self.ticket_page.join(","),
            if last { "null".into() } else { format!("\"https://example.zendesk.com/api/v2/incremental/tickets/cursor.json?cursor=t{page}\"") },
            if last { "null".into() } else { format!("\"t{page}\"") },
        );
        fs::write(self.dir.join(format!("tickets-page-{page}.json")), body)?;
        self.ticket_pages += 1;
        self.ticket_page.clear();
        Ok(())
    }

    /// Writes the next audits page (`last`: no more after it).
    fn write_audit_page(&mut self, last: bool) -> io::Result<()> {
        self.audit_pages += 1;
        let pages = self.audit_pages;
        let body = format!(
            "{{\"audits\":[{}],\"meta\":{{\"has_more\":{},\"after_cursor\":\"c{}\",\"before_cursor\":null}},\"links\":{{\"next\":{},\"prev\":null}}}}\n",
            self.audit_page.join(","),
            !last,
            pages,
            if last { "null".to_string() } else { format!("\"https://example.zendesk.com/api/v2/ticket_audits.json?page[after]=c{}\"", pages) }
        );
        fs::write(
            self.dir.join(format!("ticket_audits-page-{}.json", pages)),
            body,
        )?;
        self.audit_page.clear();
        Ok(())
    }

    /// Writes `users.json`: the agents (the first an admin), then each
    /// requester once, in id order.
    fn write_users(&mut self) -> io::Result<()> {
        let mut users: Vec<String> = Vec::new();
        for k in 0..AGENTS {
            let id = 380_000_000_001 + k;
            users.push(format!(
                "{{\"id\":{id},\"name\":\"Agent {k:02}\",\"email\":\"agent{k:02}@example.com\",\"role\":\"{}\",\"organization_id\":null,\"locale\":\"en-US\",\"active\":true}}",
                if k == 0 { "admin" } else { "agent" }
            ));
        }
        let requesters = &mut self.requesters;
        requesters.sort_unstable();
        requesters.dedup();
        for (id, account) in requesters.iter() {
            let org = account.map_or("null".to_string(), |a| (360_000_000_000 + a).to_string());
            users.push(format!(
                "{{\"id\":{id},\"name\":\"Customer {id}\",\"email\":\"c{id}@customer.example\",\"role\":\"end-user\",\"organization_id\":{org},\"locale\":\"en-US\",\"active\":true}}"
            ));
        }
        fs::write(
            self.dir.join("users.json"),
            format!("{{\"users\":[{}],\"meta\":{{\"has_more\":false}},\"links\":{{\"next\":null,\"prev\":null}}}}\n", users.join(",")),
        )
    }

    /// Writes `organizations.json`: the organizations of the tickets.
    fn write_organizations(&self) -> io::Result<()> {
        let orgs: Vec<String> = self
            .orgs
            .iter()
            .map(|o| format!("{{\"id\":{o},\"name\":\"Organization {o}\",\"domain_names\":[]}}"))
            .collect();
        fs::write(
            self.dir.join("organizations.json"),
            format!("{{\"organizations\":[{}],\"meta\":{{\"has_more\":false}},\"links\":{{\"next\":null,\"prev\":null}}}}\n", orgs.join(",")),
        )
    }

    /// Writes `ticket_fields.json`: the subject, and the product and
    /// language drop-downs with their options.
    fn write_ticket_fields(&self) -> io::Result<()> {
        let product_options: Vec<String> = self
            .products
            .iter()
            .enumerate()
            .map(|(i, p)| {
                format!(
                    "{{\"id\":{},\"name\":{},\"raw_name\":{},\"value\":{}}}",
                    360_002_000_000 + i as u64,
                    js(p),
                    js(p),
                    js(&tag(p))
                )
            })
            .collect();
        let language_options: Vec<String> = ["English", "Japanese", "French", "German"]
            .iter()
            .enumerate()
            .map(|(i, l)| {
                format!(
                    "{{\"id\":{},\"name\":\"{l}\",\"raw_name\":\"{l}\",\"value\":\"{}\"}}",
                    360_003_000_000 + i as u64,
                    tag(l)
                )
            })
            .collect();
        fs::write(
            self.dir.join("ticket_fields.json"),
            format!(
                "{{\"ticket_fields\":[{{\"id\":360000000010,\"type\":\"subject\",\"title\":\"Subject\",\"active\":true}},{{\"id\":{ZD_PRODUCT_FIELD},\"type\":\"tagger\",\"title\":\"Product\",\"active\":true,\"custom_field_options\":[{}]}},{{\"id\":{ZD_LANGUAGE_FIELD},\"type\":\"tagger\",\"title\":\"Support language\",\"active\":true,\"custom_field_options\":[{}]}}],\"next_page\":null,\"count\":3}}\n",
                product_options.join(","),
                language_options.join(",")
            ),
        )
    }
}

impl ZdCase<'_> {
    /// The ticket, at the priority and status at export.
    fn ticket_json(&self, evs: &[CEvent], org: &str, priority: &str, status: &str) -> String {
        const K: SourceKind = SourceKind::Zendesk;
        let case = self.case;
        let (ticket, via, created) = (&self.ticket, self.via, &self.created);
        let (requester, submitter) = (self.requester, self.submitter);
        let updated = evs
            .iter()
            .rev()
            .find_map(|e| e.at.instant())
            .map(|t| zd_time(&Time::At(t)))
            .unwrap_or_else(|| created.clone());
        let generated = evs
            .iter()
            .rev()
            .find_map(|e| e.at.instant())
            .or(case.created.instant())
            .unwrap_or(0)
            / MICROS_PER_SECOND;
        let priority_json = if priority.is_empty() {
            "null".to_string()
        } else {
            js(priority)
        };
        format!(
            "{{\"url\":\"https://example.zendesk.com/api/v2/tickets/{ticket}.json\",\"id\":{ticket},\"external_id\":null,\"via\":{{\"channel\":\"{via}\",\"source\":{{\"from\":{{}},\"to\":{{}},\"rel\":null}}}},\"created_at\":{},\"updated_at\":{},\"generated_timestamp\":{generated},\"type\":\"{}\",\"subject\":{},\"priority\":{priority_json},\"status\":\"{}\",\"requester_id\":{requester},\"submitter_id\":{submitter},\"assignee_id\":{},\"organization_id\":{org},\"group_id\":360000000001,\"tags\":[{}],\"custom_fields\":[{{\"id\":{ZD_PRODUCT_FIELD},\"value\":\"{}\"}},{{\"id\":{ZD_LANGUAGE_FIELD},\"value\":\"{}\"}}],\"is_public\":true}}",
            js(created),
            js(&updated),
            if case.priority == "P4" { "question" } else { "problem" },
            js(&format!("{} issue #{}", case.product, case.num)),
            vendor_status(K, status),
            zd_agent(case.num, 1),
            js(&tag(&case.product)),
            tag(&case.product),
            tag(language_label(&case.language)),
        )
    }

    /// The ticket's audits, oldest first: the creation audit (the
    /// description, the `Create` events and a notification to the
    /// assignee), then one per step.
    fn audits(&self, steps: &[Step], ids: &mut ZdIds) -> Vec<String> {
        let case = self.case;
        let (ticket, submitter, requester) = (&self.ticket, self.submitter, self.requester);
        let mut audits: Vec<String> = Vec::with_capacity(steps.len() + 1);
        let initial = priority_label(SourceKind::Zendesk, &case.priority);
        let creation = vec![
            ids.event(format!("\"type\":\"Comment\",\"author_id\":{submitter},\"body\":\"Help, please.\",\"public\":true,\"attachments\":[]")),
            ids.event(format!("\"type\":\"Create\",\"value\":{},\"field_name\":\"subject\"", js(&format!("{} issue #{}", case.product, case.num)))),
            ids.event("\"type\":\"Create\",\"value\":\"new\",\"field_name\":\"status\"".into()),
            ids.event(format!("\"type\":\"Create\",\"value\":{},\"field_name\":\"priority\"", if initial.is_empty() { "null".into() } else { js(&initial) })),
            ids.event(format!("\"type\":\"Create\",\"value\":\"{requester}\",\"field_name\":\"requester_id\"")),
            ids.event(format!("\"type\":\"Notification\",\"via\":{ZD_AGENT_TRIGGER},\"subject\":\"New ticket\",\"body\":\"A ticket was received.\",\"recipients\":[{}]", zd_agent(case.num, 1))),
        ];
        audits.push(ids.audit(
            ticket,
            &self.created,
            submitter as i64,
            &format!(
                "{{\"channel\":\"{}\",\"source\":{{\"from\":{{}},\"to\":{{}},\"rel\":null}}}}",
                self.via
            ),
            creation,
        ));
        for (i, s) in steps.iter().enumerate() {
            if let Some(audit) = self.step_audit(i, s, ids) {
                audits.push(audit);
            }
        }
        audits
    }

    /// The audit of step `i` (none for a step Zendesk does not record).
    fn step_audit(&self, i: usize, s: &Step, ids: &mut ZdIds) -> Option<String> {
        const K: SourceKind = SourceKind::Zendesk;
        let (ticket, requester) = (&self.ticket, self.requester);
        let at = zd_time(&s.event.at);
        let agent = zd_agent(self.case.num, 100 + i as u64);
        Some(match s.event.kind.as_str() {
            "auto_response" => {
                let events = vec![ids.event(format!("\"type\":\"Notification\",\"via\":{ZD_ACK_TRIGGER},\"subject\":\"Request received\",\"body\":\"Your request has been received.\",\"recipients\":[{requester}]"))];
                ids.audit(ticket, &at, -1, ZD_ACK_TRIGGER, events)
            }
            "agent_response" => {
                let events = vec![
                    ids.event(format!("\"type\":\"Comment\",\"author_id\":{agent},\"body\":\"We are on it.\",\"public\":true,\"attachments\":[]")),
                    ids.event(format!("\"type\":\"Notification\",\"via\":{ZD_REPLY_TRIGGER},\"subject\":\"Update\",\"body\":\"{{{{ticket.comments_formatted}}}}\",\"recipients\":[{requester}]")),
                ];
                ids.audit(ticket, &at, agent as i64, ZD_WEB_VIA, events)
            }
            "internal_note" => {
                let events = vec![ids.event(format!("\"type\":\"Comment\",\"author_id\":{agent},\"body\":\"Internal: checking logs.\",\"public\":false,\"attachments\":[]"))];
                ids.audit(ticket, &at, agent as i64, ZD_WEB_VIA, events)
            }
            "customer_update" => {
                let events = vec![
                    ids.event(format!("\"type\":\"Comment\",\"author_id\":{requester},\"body\":\"Any news?\",\"public\":true,\"attachments\":[]")),
                    ids.event(format!("\"type\":\"Notification\",\"via\":{ZD_AGENT_TRIGGER},\"subject\":\"Update\",\"body\":\"The requester replied.\",\"recipients\":[{}]", zd_agent(self.case.num, 1))),
                ];
                ids.audit(
                    ticket,
                    &at,
                    requester as i64,
                    "{\"channel\":\"email\",\"source\":{\"from\":{},\"to\":{},\"rel\":null}}",
                    events,
                )
            }
            "priority_change" => {
                let events = vec![ids.event(format!(
                    "\"type\":\"Change\",\"value\":{},\"field_name\":\"priority\",\"previous_value\":{}",
                    js(&s.after),
                    js(&s.before)
                ))];
                ids.audit(ticket, &at, agent as i64, ZD_WEB_VIA, events)
            }
            "status_change" | "closed" | "reopened" => {
                let events = vec![
                    ids.event(format!(
                        "\"type\":\"Change\",\"value\":{},\"field_name\":\"status\",\"previous_value\":{}",
                        js(&vendor_status(K, &s.after)),
                        js(&vendor_status(K, &s.before))
                    )),
                    ids.event("\"type\":\"Change\",\"value\":[\"followup\"],\"field_name\":\"tags\",\"previous_value\":[]".into()),
                ];
                ids.audit(ticket, &at, agent as i64, ZD_WEB_VIA, events)
            }
            _ => return None,
        })
    }
}

// ---- Jira Service Management ----

fn jsm_time(t: &Time) -> String {
    match t {
        Time::At(t) => utc(*t)
            .with_timezone(&chrono_tz::America::New_York)
            .format("%Y-%m-%dT%H:%M:%S%.3f%z")
            .to_string(),
        Time::Bad(text) => text.clone(),
    }
}

const JSM_PAGE: usize = 100;
const AUTOMATION_APP: &str = "557058:f58131cb-b67d-43c7-b30d-6b58d40bd077";

fn jsm_agent(case: u64, i: u64) -> String {
    format!("5b10ac8d82e05b22cc7d{:04x}", pick(case, i, AGENTS))
}

fn jsm_user(id: &str, name: &str, account_type: &str) -> String {
    format!(
        "{{\"accountId\":{},\"displayName\":{},\"active\":true,\"accountType\":\"{account_type}\"}}",
        js(id),
        js(name)
    )
}

/// Writes the JSM files: the issue pages (each case an issue with its
/// changelog and comments), then `organizations.json` and
/// `service-desk-team.json`.
fn jsm(cases: &[CCase], events: &HashMap<String, Vec<CEvent>>, dir: &Path) -> io::Result<usize> {
    let mut w = JsmWriter {
        dir,
        page: Vec::with_capacity(JSM_PAGE),
        pages: 0,
        n_pages: cases.len().div_ceil(JSM_PAGE).max(1),
        orgs: Vec::new(),
        seen_orgs: std::collections::HashSet::new(),
        ids: JsmIds {
            history: 10_000,
            comment: 20_000,
        },
    };
    let empty = Vec::new();
    for case in cases {
        let evs = events.get(&case.id).unwrap_or(&empty);
        let issue = w.issue(case, evs);
        w.page.push(issue);
        if w.page.len() == JSM_PAGE {
            w.write_page()?;
        }
    }
    if !w.page.is_empty() || w.pages == 0 {
        w.write_page()?;
    }
    w.write_organizations()?;
    write_jsm_team(dir)?;
    Ok(w.pages + 2)
}

/// The fields an export requests (`fields=`), as the page's `names` lists them.
const JSM_NAMES: &str = "{\"status\":\"Status\",\"priority\":\"Priority\",\"created\":\"Created\",\"updated\":\"Updated\",\"resolution\":\"Resolution\",\"resolutiondate\":\"Resolved\",\"reporter\":\"Reporter\",\"comment\":\"Comment\",\"customfield_10002\":\"Organizations\",\"customfield_10100\":\"Product\",\"customfield_10101\":\"Contact channel\",\"customfield_10102\":\"Support language\"}";

/// The ids of the last changelog history and comment written.
struct JsmIds {
    history: u64,
    comment: u64,
}

/// The JSM export being written: the issue page filling up, and the
/// organizations it names.
struct JsmWriter<'d> {
    dir: &'d Path,
    page: Vec<String>,
    /// Pages written so far.
    pages: usize,
    n_pages: usize,
    /// (organization id, canonical account id), by first appearance.
    orgs: Vec<(String, String)>,
    seen_orgs: std::collections::HashSet<String>,
    ids: JsmIds,
}

impl JsmWriter<'_> {
    /// Writes the next issues page (all but the last with a `nextPageToken`).
    fn write_page(&mut self) -> io::Result<()> {
        self.pages += 1;
        let last = self.pages == self.n_pages;
        let body = format!(
            "{{\"issues\":[{}],\"names\":{JSM_NAMES},{}\"isLast\":{last}}}\n",
            self.page.join(","),
            if last {
                String::new()
            } else {
                format!("\"nextPageToken\":\"tok{}\",", self.pages)
            }
        );
        fs::write(
            self.dir.join(format!("issues-page-{}.json", self.pages)),
            body,
        )?;
        self.page.clear();
        Ok(())
    }

    /// A case as an issue: its changelog (newest first) and comments, and
    /// its fields at export; notes its organization.
    fn issue(&mut self, case: &CCase, evs: &[CEvent]) -> String {
        const K: SourceKind = SourceKind::Jsm;
        let (steps, priority, status) = timeline(K, case, evs);
        let key = vendor_case_id(K, case.num);
        let org = vendor_account_id(K, &case.account);
        if self.seen_orgs.insert(org.clone()) {
            self.orgs.push((org.clone(), case.account.clone()));
        }
        let reporter = vendor_contact_id(K, &case.contact);
        let created = jsm_time(&case.created);
        let updated = evs
            .iter()
            .rev()
            .find_map(|e| e.at.instant())
            .map(|t| jsm_time(&Time::At(t)))
            .unwrap_or_else(|| created.clone());
        let channel = match case.channel.as_str() {
            "email" => "Email",
            "phone" => "Phone",
            "chat" => "Chat",
            _ => "Portal",
        };
        let mut changes = JsmChanges {
            ids: &mut self.ids,
            histories: Vec::new(),
            comments: Vec::new(),
        };
        changes.record(case.num, &steps, &reporter, &created);
        let JsmChanges {
            mut histories,
            comments,
            ..
        } = changes;
        histories.reverse(); // newest first, as the API returns them
        let resolved = case.closed.as_ref();
        format!(
            "{{\"id\":\"{}\",\"key\":\"{key}\",\"changelog\":{{\"startAt\":0,\"maxResults\":{},\"total\":{},\"histories\":[{}]}},\"fields\":{{\"status\":{{\"name\":{},\"statusCategory\":{{\"key\":\"{}\"}}}},\"priority\":{{\"name\":{},\"id\":\"3\"}},\"created\":{},\"updated\":{},\"resolution\":{},\"resolutiondate\":{},\"reporter\":{},\"comment\":{{\"comments\":[{}],\"maxResults\":{},\"total\":{},\"startAt\":0}},\"customfield_10002\":[{{\"id\":\"{org}\",\"name\":\"Organization {org}\",\"_links\":{{}}}}],\"customfield_10100\":{{\"self\":\"x\",\"value\":{},\"id\":\"10100\"}},\"customfield_10101\":{{\"self\":\"x\",\"value\":\"{channel}\",\"id\":\"10101\"}},\"customfield_10102\":{{\"self\":\"x\",\"value\":\"{}\",\"id\":\"10102\"}}}}}}",
            10_000 + case.num,
            histories.len(),
            histories.len(),
            histories.join(","),
            js(&vendor_status(K, &status)),
            if resolved.is_some() { "done" } else { "indeterminate" },
            js(&priority),
            js(&created),
            js(&updated),
            if resolved.is_some() { "{\"name\":\"Done\",\"id\":\"10000\"}" } else { "null" },
            resolved.map_or("null".to_string(), |t| js(&jsm_time(t))),
            jsm_user(&reporter, "Customer", "customer"),
            comments.join(","),
            comments.len(),
            comments.len(),
            js(&case.product),
            language_label(&case.language),
        )
    }

    /// Writes `organizations.json`: the organizations of the issues.
    fn write_organizations(&self) -> io::Result<()> {
        let values: Vec<String> = self
            .orgs
            .iter()
            .map(|(id, name)| format!("{{\"id\":\"{id}\",\"name\":{},\"_links\":{{\"self\":\"https://example.atlassian.net/rest/servicedeskapi/organization/{id}\"}}}}", js(name)))
            .collect();
        fs::write(
            self.dir.join("organizations.json"),
            format!(
                "{{\"size\":{},\"start\":0,\"limit\":{},\"isLastPage\":true,\"values\":[{}]}}\n",
                values.len(),
                values.len().max(50),
                values.join(",")
            ),
        )
    }
}

/// Writes `service-desk-team.json`: the agents as user actors of the
/// Service Desk Team role.
fn write_jsm_team(dir: &Path) -> io::Result<()> {
    let mut actors = String::new();
    for k in 0..AGENTS {
        if k > 0 {
            actors.push(',');
        }
        let _ = write!(
            actors,
            "{{\"id\":{},\"displayName\":\"Agent {k:02}\",\"type\":\"atlassian-user-role-actor\",\"actorUser\":{{\"accountId\":\"5b10ac8d82e05b22cc7d{k:04x}\"}}}}",
            30_000 + k
        );
    }
    fs::write(
        dir.join("service-desk-team.json"),
        format!("{{\"self\":\"https://example.atlassian.net/rest/api/3/project/SUP/role/10100\",\"name\":\"Service Desk Team\",\"id\":10100,\"description\":\"Agents of the service desk\",\"actors\":[{actors}]}}\n"),
    )
}

/// A changelog item.
fn jsm_item(
    field: &str,
    field_id: &str,
    from: Option<&str>,
    from_s: Option<&str>,
    to: Option<&str>,
    to_s: Option<&str>,
) -> String {
    let o = |v: Option<&str>| v.map_or("null".to_string(), js);
    format!(
        "{{\"field\":\"{field}\",\"fieldtype\":\"jira\",\"fieldId\":\"{field_id}\",\"from\":{},\"fromString\":{},\"to\":{},\"toString\":{}}}",
        o(from),
        o(from_s),
        o(to),
        o(to_s)
    )
}

/// One issue's changelog histories and comments, oldest first.
struct JsmChanges<'i> {
    ids: &'i mut JsmIds,
    histories: Vec<String>,
    comments: Vec<String>,
}

impl JsmChanges<'_> {
    /// A history of `items`, with the next history id.
    fn history(&mut self, author: &str, at: &str, items: Vec<String>) {
        self.ids.history += 1;
        self.histories.push(format!(
            "{{\"id\":\"{}\",\"author\":{author},\"created\":{},\"items\":[{}]}}",
            self.ids.history,
            js(at),
            items.join(",")
        ));
    }

    /// A comment, with the next comment id.
    fn comment(&mut self, author: &str, public: bool, at: &str) {
        self.ids.comment += 1;
        self.comments.push(format!(
            "{{\"id\":\"{}\",\"author\":{author},\"body\":{{\"type\":\"doc\",\"version\":1,\"content\":[{{\"type\":\"paragraph\",\"content\":[{{\"type\":\"text\",\"text\":\"Hello\"}}]}}]}},\"created\":{},\"jsdPublic\":{public}}}",
            self.ids.comment,
            js(at)
        ));
    }

    /// The automation's assignment at creation (skipped by the importer),
    /// then a comment or history per step of case `num`.
    fn record(&mut self, num: u64, steps: &[Step], reporter: &str, created: &str) {
        let app = jsm_user(AUTOMATION_APP, "Automation for Jira", "app");
        // Automation assigns the request at creation: skipped.
        let assignee = jsm_agent(num, 1);
        let assign = jsm_item(
            "assignee",
            "assignee",
            None,
            None,
            Some(&assignee),
            Some("Agent"),
        );
        self.history(&app, created, vec![assign]);
        for (i, s) in steps.iter().enumerate() {
            let at = jsm_time(&s.event.at);
            let agent_id = jsm_agent(num, 100 + i as u64);
            let agent = jsm_user(&agent_id, "Support Agent", "atlassian");
            match s.event.kind.as_str() {
                "agent_response" => self.comment(&agent, true, &at),
                "internal_note" => self.comment(&agent, false, &at),
                "customer_update" => {
                    self.comment(&jsm_user(reporter, "Customer", "customer"), true, &at)
                }
                "auto_response" => self.comment(&app, true, &at),
                _ => {
                    if let Some(items) = jsm_items(s) {
                        self.history(&agent, &at, items);
                    }
                }
            }
        }
    }
}

/// The changelog items of a priority or status step (none for others): a
/// closure or reopening sets or clears the resolution with its status.
fn jsm_items(s: &Step) -> Option<Vec<String>> {
    const K: SourceKind = SourceKind::Jsm;
    let (before, after) = (vendor_status(K, &s.before), vendor_status(K, &s.after));
    Some(match s.event.kind.as_str() {
        "priority_change" => vec![jsm_item(
            "priority",
            "priority",
            Some("3"),
            Some(&s.before),
            Some("2"),
            Some(&s.after),
        )],
        "status_change" => vec![jsm_item(
            "status",
            "status",
            Some("10001"),
            Some(&before),
            Some("10002"),
            Some(&after),
        )],
        "closed" => vec![
            jsm_item(
                "resolution",
                "resolution",
                None,
                None,
                Some("10000"),
                Some("Done"),
            ),
            jsm_item(
                "status",
                "status",
                Some("10001"),
                Some(&before),
                Some("10003"),
                Some(&after),
            ),
        ],
        "reopened" => vec![
            jsm_item(
                "resolution",
                "resolution",
                Some("10000"),
                Some("Done"),
                None,
                None,
            ),
            jsm_item(
                "status",
                "status",
                Some("10003"),
                Some(&before),
                Some("10001"),
                Some(&after),
            ),
        ],
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn salesforce_ids_carry_the_case_safe_suffix() {
        // The documented example pair: 15-character `a0D30000001n7Pi` → `a0D30000001n7PiEAI`.
        let id = "a0D30000001n7Pi";
        let mut suffix = String::new();
        for chunk in id.as_bytes().chunks(5) {
            let mut bits = 0usize;
            for (i, b) in chunk.iter().enumerate() {
                if b.is_ascii_uppercase() {
                    bits |= 1 << i;
                }
            }
            suffix.push(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"[bits] as char);
        }
        assert_eq!(suffix, "EAI");
        let s = salesforce_id("500", 123);
        assert_eq!(s.len(), 18);
        assert!(s.starts_with("50000000000001z"), "{s}");
        assert!(s.bytes().all(|b| b.is_ascii_alphanumeric()));
    }

    #[test]
    fn ids_map_back() {
        assert_eq!(case_number("C-0000123"), Some(123));
        assert_eq!(vendor_case_id(SourceKind::Jsm, 123), "SUP-123");
        assert_eq!(vendor_case_id(SourceKind::Zendesk, 123), "1123");
        assert_eq!(
            vendor_account_id(SourceKind::Zendesk, "ACC-0012"),
            "360000000012"
        );
        assert_eq!(
            vendor_contact_id(SourceKind::Zendesk, "CT-0012-03"),
            "370000001203"
        );
    }

    #[test]
    fn jsm_times_carry_new_york_offsets_without_colon() {
        let winter = parse_rfc3339("2026-01-15T17:00:00Z").unwrap();
        let summer = parse_rfc3339("2026-07-15T16:00:00.250Z").unwrap();
        assert_eq!(jsm_time(&Time::At(winter)), "2026-01-15T12:00:00.000-0500");
        assert_eq!(jsm_time(&Time::At(summer)), "2026-07-15T12:00:00.250-0400");
        assert_eq!(sf_time(&Time::At(summer)), "2026-07-15T16:00:00.250Z");
        assert_eq!(zd_time(&Time::At(summer)), "2026-07-15T16:00:00Z");
    }
}
