//! Zendesk Support: `tickets-page-N.json` (Incremental Ticket Export,
//! cursor-based), `ticket_audits-page-N.json` (List Ticket Audits),
//! `users.json`, `organizations.json` and `ticket_fields.json`.
//!
//! - A case is a ticket (a ticket repeated by the time-based export keeps its
//!   greatest `generated_timestamp`, the later one on a tie); a deleted
//!   ticket is rejected and its audits skipped.
//! - Audits are sorted by (`created_at`, `id`) per ticket, events in array
//!   order. The creation audit's `Create priority` gives the priority at
//!   creation; its `Comment` is the description, never a reply.
//! - A `Comment` is an agent response (public, author an agent), an internal
//!   note (private, author an agent) or a customer message; a trigger's
//!   `Notification` to the requester, in an audit with no public agent
//!   comment, is the automatic acknowledgement.
//! - `Change` events of `priority` are priority changes; of `status`,
//!   closures (into {solved, closed}), reopenings (out of it) or status
//!   changes. `closed_at` is the last transition into the set when the
//!   ticket's status at export is in it.
//!
//! Pages are read and parsed in parallel into compact records; the rules and
//! their sources are in `docs/vendors.md`.

use polars::prelude::{InitHashMaps, PlHashMap as HashMap, PlHashSet as HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;
use serde::Deserialize;

use super::json::{self, file_name, Compact, Each, Obj, Scalar, Seq};
use super::settings::{FieldRef, ZENDESK_CHANNEL, ZENDESK_ORGANIZATION};
use super::{
    event_key, instant, language_of_label, reason, Case, Collector, Event, EventKind, Imported,
    Locator, Origin, Rej, Short, SourceKind, SourceSettings, Staged, Table, Unattributed,
    UnsetPriority, VendorError,
};
use crate::timestamp::Instant;

/// Stem of the ticket pages.
pub(crate) const TICKETS: &str = "tickets";
/// Stem of the audit pages.
pub(crate) const AUDITS: &str = "ticket_audits";
/// The reference files.
pub(crate) const USERS: &str = "users.json";
/// Organizations (read for counts only: `organization_id` is the account id).
pub(crate) const ORGANIZATIONS: &str = "organizations.json";
/// Ticket fields (product and language drop-downs).
pub(crate) const TICKET_FIELDS: &str = "ticket_fields.json";

// ---- JSON shapes (only the fields read) ----

#[derive(Default, Deserialize)]
#[serde(default)]
struct TicketsPage<'a> {
    #[serde(borrow)]
    tickets: Seq<Obj<Ticket<'a>>>,
    #[serde(borrow)]
    end_of_stream: Scalar<'a>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct Ticket<'a> {
    #[serde(borrow)]
    id: Scalar<'a>,
    #[serde(borrow)]
    created_at: Scalar<'a>,
    #[serde(borrow)]
    generated_timestamp: Scalar<'a>,
    #[serde(borrow)]
    organization_id: Scalar<'a>,
    #[serde(borrow)]
    requester_id: Scalar<'a>,
    #[serde(borrow)]
    priority: Scalar<'a>,
    #[serde(borrow)]
    status: Scalar<'a>,
    #[serde(borrow)]
    via: Obj<Via<'a>>,
    #[serde(borrow)]
    custom_fields: Seq<Obj<CustomField<'a>>>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct Via<'a> {
    #[serde(borrow)]
    channel: Scalar<'a>,
    #[serde(borrow)]
    source: Obj<ViaSource<'a>>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct ViaSource<'a> {
    #[serde(borrow)]
    rel: Scalar<'a>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct CustomField<'a> {
    #[serde(borrow)]
    id: Scalar<'a>,
    #[serde(borrow)]
    value: Scalar<'a>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct AuditsPage<'a> {
    #[serde(borrow)]
    audits: Each<Obj<Audit<'a>>>,
    #[serde(borrow)]
    meta: Obj<Meta<'a>>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct Meta<'a> {
    #[serde(borrow)]
    has_more: Scalar<'a>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct Audit<'a> {
    #[serde(borrow)]
    id: Scalar<'a>,
    #[serde(borrow)]
    ticket_id: Scalar<'a>,
    #[serde(borrow)]
    created_at: Scalar<'a>,
    #[serde(borrow)]
    via: Obj<Via<'a>>,
    #[serde(borrow)]
    events: Each<Obj<AuditEvent<'a>>>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct AuditEvent<'a> {
    #[serde(borrow, rename = "type")]
    kind: Scalar<'a>,
    #[serde(borrow)]
    field_name: Scalar<'a>,
    #[serde(borrow)]
    value: Scalar<'a>,
    #[serde(borrow)]
    previous_value: Scalar<'a>,
    #[serde(borrow)]
    author_id: Scalar<'a>,
    #[serde(borrow)]
    public: Scalar<'a>,
    #[serde(borrow)]
    via: Obj<Via<'a>>,
    #[serde(borrow)]
    recipients: Seq<Scalar<'a>>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct UsersFile<'a> {
    #[serde(borrow)]
    users: Seq<Obj<User<'a>>>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct User<'a> {
    #[serde(borrow)]
    id: Scalar<'a>,
    #[serde(borrow)]
    role: Scalar<'a>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct OrganizationsFile<'a> {
    #[serde(borrow)]
    organizations: Seq<Scalar<'a>>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct FieldsFile<'a> {
    #[serde(borrow)]
    ticket_fields: Seq<Obj<TicketField<'a>>>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct TicketField<'a> {
    #[serde(borrow)]
    id: Scalar<'a>,
    #[serde(borrow)]
    title: Scalar<'a>,
    #[serde(borrow)]
    custom_field_options: Seq<Obj<FieldOption<'a>>>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct FieldOption<'a> {
    #[serde(borrow)]
    name: Scalar<'a>,
    #[serde(borrow)]
    value: Scalar<'a>,
}

// ---- reference data ----

/// A ticket field resolved from `ticket_fields.json`: its id and option
/// value → option name.
struct ResolvedField {
    id: i128,
    options: HashMap<String, String>,
}

impl ResolvedField {
    /// The ticket's value of this field: the option's name for a drop-down,
    /// else the value as text.
    fn value_of(&self, ticket: &Ticket) -> Option<String> {
        let v = ticket
            .custom_fields
            .items()
            .iter()
            .filter_map(Obj::get)
            .find(|f| f.id.as_int() == Some(self.id))?;
        let text = v.value.id_text()?;
        Some(
            self.options
                .get(text.as_ref())
                .cloned()
                .unwrap_or_else(|| text.into_owned()),
        )
    }
}

fn resolve_field(
    fields: &[Obj<TicketField>],
    wanted: &FieldRef,
    path: &Path,
) -> Result<Option<ResolvedField>, VendorError> {
    let by_id = wanted.name.parse::<i128>().ok();
    let found = fields.iter().filter_map(Obj::get).find(|f| match by_id {
        Some(id) => f.id.as_int() == Some(id),
        None => f
            .title
            .as_str()
            .is_some_and(|t| t.trim().eq_ignore_ascii_case(&wanted.name)),
    });
    let Some(field) = found else {
        if wanted.explicit {
            return Err(VendorError::Unreadable {
                path: path.to_path_buf(),
                reason: format!(
                    "no ticket field `{}` (named in the mapping's `[source] fields`)",
                    wanted.name
                ),
            });
        }
        return Ok(None);
    };
    let Some(id) = field.id.as_int() else {
        return Err(VendorError::Unreadable {
            path: path.to_path_buf(),
            reason: format!("ticket field `{}` has no numeric id", wanted.name),
        });
    };
    let options = field
        .custom_field_options
        .items()
        .iter()
        .filter_map(Obj::get)
        .filter_map(|o| {
            Some((
                o.value.id_text()?.into_owned(),
                o.name.as_str()?.to_string(),
            ))
        })
        .collect();
    Ok(Some(ResolvedField { id, options }))
}

/// How a Zendesk user's comments count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Agent,
    EndUser,
    Automation,
}

// ---- compact records ----

struct TicketRec {
    file: u32,
    index: u32,
    /// The id, or the value shown in the reject.
    id: Result<u64, Option<String>>,
    generated: i128,
    deleted: bool,
    status: Option<String>,
    created_text: Option<String>,
    created: Result<Instant, String>,
    /// `Ok(None)`: no organization; `Err(shown)`: malformed.
    account: Result<Option<String>, Option<String>>,
    requester: Option<u64>,
    priority: Option<String>,
    channel: Option<String>,
    product: Option<String>,
    language: Option<String>,
}

enum EvKind {
    /// A `Create` event of `priority` (its value: the priority at creation).
    CreatePriority(Option<Short>),
    /// Another `Create` event (skipped; it marks the creation audit).
    Create,
    /// `Change priority`: new value (`Err(shown)` when not a string).
    ChangePriority(Result<Option<Short>, Option<String>>, Option<Short>),
    /// `Change status`: new and previous value.
    ChangeStatus(Option<Short>, Option<Short>),
    /// `Comment`: author (`Err(shown)` when not an id) and `public`.
    Comment(Result<Option<u64>, Option<String>>, Option<bool>),
    /// `Notification`: sent by a trigger (`None` until the audit's `via`
    /// stands in for a missing own one), and to whom.
    Notification(Option<bool>, Vec<u64>),
    /// Other events, skipped.
    Other,
    /// Not an object, or no `type`.
    Malformed(String),
}

struct EvRec {
    index: u32,
    kind: EvKind,
}

struct AuditRec {
    file: u32,
    index: u32,
    id: Option<u64>,
    ticket: Result<u64, Option<String>>,
    at_text: Short,
    at: Result<Instant, String>,
    creation: bool,
    /// Why the audit as a whole is unreadable (then it counts as one record).
    malformed: Option<String>,
    /// The events that need their ticket to be judged.
    events: Vec<EvRec>,
    /// Events skipped whatever their ticket (`Create`s other than the
    /// priority, other `Change`s and event types), counted and dropped
    /// while the page is read.
    skipped: u32,
}

fn text(s: &Scalar) -> Option<String> {
    s.text().map(str::to_string)
}

fn short(s: &Scalar) -> Option<Short> {
    s.text().map(Short::new)
}

fn shown_id(s: &Scalar) -> Result<u64, Option<String>> {
    s.as_id().ok_or_else(|| s.shown())
}

fn via_is_trigger(via: Option<&Via>) -> bool {
    via.is_some_and(|v| {
        v.channel.as_str() == Some("rule")
            && v.source.get().and_then(|s| s.rel.as_str()) == Some("trigger")
    })
}

impl Compact for Obj<AuditEvent<'_>> {
    type Out = EvRec;

    fn compact(self, index: u32) -> EvRec {
        let kind = match self.get() {
            None => EvKind::Malformed("the event is not a JSON object".into()),
            Some(e) => match e.kind.as_str() {
                None => EvKind::Malformed("the event has no `type`".into()),
                Some("Create") => {
                    if e.field_name.as_str() == Some("priority") {
                        EvKind::CreatePriority(short(&e.value))
                    } else {
                        EvKind::Create
                    }
                }
                Some("Change") => match e.field_name.as_str() {
                    Some("priority") => EvKind::ChangePriority(
                        match &e.value {
                            Scalar::Str(_) => Ok(short(&e.value)),
                            v if v.is_null() => Ok(None),
                            v => Err(v.shown()),
                        },
                        short(&e.previous_value),
                    ),
                    Some("status") => {
                        EvKind::ChangeStatus(short(&e.value), short(&e.previous_value))
                    }
                    _ => EvKind::Other,
                },
                Some("Comment") => EvKind::Comment(
                    if e.author_id.is_null() {
                        Ok(None)
                    } else {
                        e.author_id
                            .as_id()
                            .map(Some)
                            .ok_or_else(|| e.author_id.shown())
                    },
                    e.public.as_bool(),
                ),
                Some("Notification") => EvKind::Notification(
                    e.via.get().map(|v| via_is_trigger(Some(v))),
                    e.recipients
                        .items()
                        .iter()
                        .filter_map(Scalar::as_id)
                        .collect(),
                ),
                Some(_) => EvKind::Other,
            },
        };
        EvRec { index, kind }
    }
}

impl Compact for Obj<Audit<'_>> {
    type Out = AuditRec;

    /// The audit's file is set by the caller.
    fn compact(self, index: u32) -> AuditRec {
        let Obj::Valid(a) = self else {
            return AuditRec {
                file: 0,
                index,
                id: None,
                ticket: Err(None),
                at_text: Short::new(""),
                at: Err(String::new()),
                creation: false,
                malformed: Some("the audit is not a JSON object".into()),
                events: Vec::new(),
                skipped: 0,
            };
        };
        let at_text = Short::new(a.created_at.as_str().unwrap_or("").trim());
        let at = match &a.created_at {
            Scalar::Str(s) => instant(s),
            Scalar::Missing => Err("no created_at".into()),
            other => Err(format!(
                "created_at is not a string: {}",
                other.shown().unwrap_or_default()
            )),
        };
        let malformed =
            (!a.events.is_array()).then(|| "the audit has no `events` array".to_string());
        // A notification without its own `via` takes the audit's.
        let audit_trigger = via_is_trigger(a.via.get());
        let mut events = a.events.into_items();
        let mut creation = false;
        for e in &mut events {
            match &mut e.kind {
                EvKind::Create | EvKind::CreatePriority(_) => creation = true,
                EvKind::Notification(trigger, _) => {
                    trigger.get_or_insert(audit_trigger);
                }
                _ => {}
            }
        }
        let before = events.len();
        // (The description stays: whether it is a public agent comment
        // decides the audit's acknowledgements.)
        events.retain(|e| !matches!(e.kind, EvKind::Create | EvKind::Other));
        let skipped = (before - events.len()) as u32;
        AuditRec {
            file: 0,
            index,
            id: a.id.as_id(),
            ticket: shown_id(&a.ticket_id),
            at_text,
            at,
            creation,
            malformed,
            events,
            skipped,
        }
    }
}

struct TicketFields {
    product: Option<ResolvedField>,
    language: Option<ResolvedField>,
    organization: Option<ResolvedField>,
    channel: Option<ResolvedField>,
}

fn ticket_rec(t: &Obj<Ticket>, file: u32, index: u32, fields: &TicketFields) -> TicketRec {
    let Some(t) = t.get() else {
        return TicketRec {
            file,
            index,
            id: Err(Some("the ticket is not a JSON object".into())),
            generated: 0,
            deleted: false,
            status: None,
            created_text: None,
            created: Err(String::new()),
            account: Ok(None),
            requester: None,
            priority: None,
            channel: None,
            product: None,
            language: None,
        };
    };
    let created_text = t.created_at.shown();
    let created = match &t.created_at {
        Scalar::Str(s) => instant(s),
        Scalar::Missing => Err("no created_at".into()),
        other => Err(format!(
            "created_at is not a string: {}",
            other.shown().unwrap_or_default()
        )),
    };
    let account = match &fields.organization {
        Some(f) => Ok(f.value_of(t)),
        None => match &t.organization_id {
            v if v.is_null() => Ok(None),
            v => v
                .as_id()
                .map(|id| Some(id.to_string()))
                .ok_or_else(|| v.shown()),
        },
    };
    let channel = match &fields.channel {
        Some(f) => super::channel_of_label(f.value_of(t).as_deref()),
        None => channel_of_via(t.via.get().and_then(|v| v.channel.as_str())),
    };
    let status = text(&t.status);
    TicketRec {
        file,
        index,
        id: shown_id(&t.id),
        generated: t.generated_timestamp.as_int().unwrap_or(i128::MIN),
        deleted: status.as_deref() == Some("deleted"),
        status,
        created_text,
        created,
        account,
        requester: t.requester_id.as_id(),
        priority: text(&t.priority),
        channel: Some(channel.to_string()),
        product: fields.product.as_ref().and_then(|f| f.value_of(t)),
        language: Some(
            language_of_label(
                fields
                    .language
                    .as_ref()
                    .and_then(|f| f.value_of(t))
                    .as_deref(),
            )
            .to_string(),
        ),
    }
}

/// The canonical channel of a ticket's `via.channel`.
fn channel_of_via(channel: Option<&str>) -> &'static str {
    match channel.map(str::trim) {
        Some("email") => "email",
        Some("voice") => "phone",
        Some("chat" | "native_messaging") => "chat",
        _ => "web",
    }
}

/// Imports a Zendesk export: the reference files, then the ticket and
/// audit pages (read in parallel), the cases, and the audits' events.
pub(super) fn import(dir: &Path, settings: &SourceSettings) -> Result<Imported, VendorError> {
    let ticket_pages = json::page_files(dir, TICKETS)?;
    let audit_pages = json::page_files(dir, AUDITS)?;
    let users_bytes = super::read_file(dir, USERS)?;
    let orgs_bytes = super::read_file(dir, ORGANIZATIONS)?;
    let fields_bytes = super::read_file(dir, TICKET_FIELDS)?;

    let mut out = Collector::new(SourceKind::Zendesk);
    let roles = read_users(&users_bytes, dir, settings, &mut out)?;
    count_organizations(&orgs_bytes, dir, &mut out)?;
    let fields = read_ticket_fields(&fields_bytes, dir, settings, &mut out)?;

    let ticket_files: Vec<u32> = ticket_pages
        .iter()
        .map(|p| out.file(file_name(p)))
        .collect();
    let audit_files: Vec<u32> = audit_pages.iter().map(|p| out.file(file_name(p))).collect();
    let tickets = read_ticket_pages(&ticket_pages, &ticket_files, &fields);
    let audits = read_audit_pages(&audit_pages, &audit_files);
    let all_tickets = tickets?;
    let all_audits = audits?;

    let (superseded, kept) = supersede_repeats(&all_tickets, &mut out);
    let index = AuditIndex::new(&all_audits, kept, &mut out);
    let rules = Rules::new(settings, roles);
    let (cases, state) = build_cases(
        &all_tickets,
        &superseded,
        kept,
        &all_audits,
        &index,
        &rules,
        &mut out,
    );
    let tickets = EventTickets::new(&index.ticket_order, state, all_tickets.len() as u64);
    let staged = build_events(&all_audits, &index, &tickets, &rules, &mut out);
    // The page records are no longer needed while events are ordered.
    drop((all_audits, all_tickets, index, tickets));
    Ok(out.finish(cases, staged))
}

// ---- reference files ----

/// Reads `users.json` into each user's role: an automation user of the
/// settings, an agent (by the settings' ids or roles) or an end user.
/// Automation and agent ids absent from the file still count.
fn read_users(
    bytes: &[u8],
    dir: &Path,
    settings: &SourceSettings,
    out: &mut Collector,
) -> Result<HashMap<u64, Role>, VendorError> {
    let users_path = dir.join(USERS);
    let users_file: UsersFile = json::parse(bytes, &users_path)?;
    if !users_file.users.is_array() {
        return Err(VendorError::Unreadable {
            path: users_path,
            reason: "no `users` array".into(),
        });
    }
    let agent_ids: HashSet<&str> = settings.agents.users.iter().map(String::as_str).collect();
    let automation_ids: HashSet<&str> = settings
        .automation_users
        .iter()
        .map(String::as_str)
        .collect();
    let mut roles: HashMap<u64, Role> = HashMap::new();
    for u in users_file.users.items().iter().filter_map(Obj::get) {
        let Some(id) = u.id.as_id() else { continue };
        let key = id.to_string();
        let role = if automation_ids.contains(key.as_str()) {
            Role::Automation
        } else if agent_ids.contains(key.as_str())
            || u.role
                .as_str()
                .is_some_and(|r| settings.agents.roles.iter().any(|a| a == r.trim()))
        {
            Role::Agent
        } else {
            Role::EndUser
        };
        roles.insert(id, role);
    }
    // Automation or agent ids absent from users.json still count.
    for id in &settings.agents.users {
        if let Ok(id) = id.parse::<u64>() {
            roles.entry(id).or_insert(Role::Agent);
        }
    }
    for id in &settings.automation_users {
        if let Ok(id) = id.parse::<u64>() {
            roles.insert(id, Role::Automation);
        }
    }
    out.lookup(USERS.to_string(), users_file.users.items().len() as u64);
    Ok(roles)
}

/// Checks `organizations.json` and counts its organizations (read for the
/// counts only: a ticket's `organization_id` is its account id).
fn count_organizations(bytes: &[u8], dir: &Path, out: &mut Collector) -> Result<(), VendorError> {
    let orgs_path = dir.join(ORGANIZATIONS);
    let orgs: OrganizationsFile = json::parse(bytes, &orgs_path)?;
    if !orgs.organizations.is_array() {
        return Err(VendorError::Unreadable {
            path: orgs_path,
            reason: "no `organizations` array".into(),
        });
    }
    out.lookup(
        ORGANIZATIONS.to_string(),
        orgs.organizations.items().len() as u64,
    );
    Ok(())
}

/// Resolves the settings' product and language fields in
/// `ticket_fields.json`, and the organization and channel ones when the
/// settings name a custom field instead of the ticket's own.
fn read_ticket_fields(
    bytes: &[u8],
    dir: &Path,
    settings: &SourceSettings,
    out: &mut Collector,
) -> Result<TicketFields, VendorError> {
    let fields_path = dir.join(TICKET_FIELDS);
    let fields_file: FieldsFile = json::parse(bytes, &fields_path)?;
    if !fields_file.ticket_fields.is_array() {
        return Err(VendorError::Unreadable {
            path: fields_path,
            reason: "no `ticket_fields` array".into(),
        });
    }
    let list = fields_file.ticket_fields.items();
    let custom = |f: &FieldRef, default: &str| {
        if f.name == default {
            Ok(None)
        } else {
            resolve_field(list, f, &fields_path)
        }
    };
    let fields = TicketFields {
        product: resolve_field(list, &settings.fields.product, &fields_path)?,
        language: resolve_field(list, &settings.fields.language, &fields_path)?,
        organization: custom(&settings.fields.organization, ZENDESK_ORGANIZATION)?,
        channel: custom(&settings.fields.channel, ZENDESK_CHANNEL)?,
    };
    out.lookup(TICKET_FIELDS.to_string(), list.len() as u64);
    Ok(fields)
}

// ---- pages ----

/// Reads the ticket pages in parallel into compact records, in page
/// order; the last page must say the stream has ended.
fn read_ticket_pages(
    pages: &[PathBuf],
    files: &[u32],
    fields: &TicketFields,
) -> Result<Vec<TicketRec>, VendorError> {
    let tickets: Vec<Result<(Vec<TicketRec>, bool), VendorError>> = pages
        .par_iter()
        .zip(files)
        .map_init(Vec::new, |buffer, (path, &file)| {
            let bytes = json::read_into(path, buffer)?;
            let page: TicketsPage = json::parse(bytes, path)?;
            if !page.tickets.is_array() {
                return Err(VendorError::Unreadable {
                    path: path.clone(),
                    reason: "no `tickets` array (expected an Incremental Ticket Export page)"
                        .into(),
                });
            }
            let recs = page
                .tickets
                .items()
                .iter()
                .enumerate()
                .map(|(i, t)| ticket_rec(t, file, i as u32, fields))
                .collect();
            Ok((recs, page.end_of_stream.as_bool() == Some(true)))
        })
        .collect();
    let total: usize = tickets.iter().flatten().map(|(r, _)| r.len()).sum();
    let mut all_tickets: Vec<TicketRec> = Vec::with_capacity(total);
    let mut last_end = false;
    for t in tickets {
        let (recs, end) = t?;
        all_tickets.extend(recs);
        last_end = end;
    }
    if !last_end {
        let last = pages.last().expect("at least one page");
        return Err(VendorError::Unreadable {
            path: last.clone(),
            reason: "the last tickets page does not say `\"end_of_stream\": true`: the export is incomplete (fetch the next page from its `after_url`)".into(),
        });
    }
    Ok(all_tickets)
}

/// Reads the audit pages in parallel into compact records, in page order;
/// the last page must not say that more follow.
fn read_audit_pages(pages: &[PathBuf], files: &[u32]) -> Result<Vec<AuditRec>, VendorError> {
    let audits: Vec<Result<(Vec<AuditRec>, bool), VendorError>> = pages
        .par_iter()
        .zip(files)
        .map_init(Vec::new, |buffer, (path, &file)| {
            let bytes = json::read_into(path, buffer)?;
            let page: AuditsPage = json::parse(bytes, path)?;
            if !page.audits.is_array() {
                return Err(VendorError::Unreadable {
                    path: path.clone(),
                    reason: "no `audits` array (expected a List Ticket Audits page)".into(),
                });
            }
            let more = page.meta.get().and_then(|m| m.has_more.as_bool()) == Some(true);
            let mut recs = page.audits.into_items();
            for r in &mut recs {
                r.file = file;
            }
            Ok((recs, more))
        })
        .collect();
    let total: usize = audits.iter().flatten().map(|(r, _)| r.len()).sum();
    let mut all_audits: Vec<AuditRec> = Vec::with_capacity(total);
    let mut last_more = false;
    for a in audits {
        let (recs, more) = a?;
        all_audits.extend(recs);
        last_more = more;
    }
    if last_more {
        let last = pages.last().expect("at least one page");
        return Err(VendorError::Unreadable {
            path: last.clone(),
            reason: "the last audits page says `\"has_more\": true`: the export is incomplete (fetch the next page from `links.next`)".into(),
        });
    }
    Ok(all_audits)
}

// ---- ordering tickets and audits ----

/// Counts every ticket read, and marks the repeats that another copy of
/// the same ticket supersedes (the greatest `generated_timestamp` is kept,
/// the later one on a tie). Returns the marks and how many ids are kept.
fn supersede_repeats(tickets: &[TicketRec], out: &mut Collector) -> (Vec<bool>, usize) {
    for t in tickets {
        out.read(t.file, 1);
    }
    let mut kept: HashMap<u64, usize> = HashMap::with_capacity(tickets.len());
    let mut superseded = vec![false; tickets.len()];
    for (i, t) in tickets.iter().enumerate() {
        if let Ok(id) = t.id {
            match kept.get(&id) {
                Some(&j) if tickets[j].generated > t.generated => superseded[i] = true,
                Some(&j) => {
                    superseded[j] = true;
                    kept.insert(id, i);
                }
                None => {
                    kept.insert(id, i);
                }
            }
        }
    }
    (superseded, kept.len())
}

/// The audits of each ticket in (`created_at`, `id`) order, and the
/// tickets of the audits by first appearance.
struct AuditIndex {
    /// Per audit: an earlier audit has its id (its events are skipped).
    duplicate: Vec<bool>,
    /// The readable, unrepeated audits with a ticket id, by (ticket,
    /// `created_at`, `id`, position).
    sorted: Vec<u32>,
    /// Each ticket's range in `sorted`.
    by_ticket: HashMap<u64, (usize, usize)>,
    /// The tickets of the audits by first appearance (absent ones are
    /// grouped so).
    ticket_order: Vec<u64>,
}

impl AuditIndex {
    /// Counts the records of every audit read and indexes the audits;
    /// `tickets` is a capacity hint.
    fn new(audits: &[AuditRec], tickets: usize, out: &mut Collector) -> Self {
        for a in audits {
            out.read(
                a.file,
                if a.malformed.is_some() {
                    1
                } else {
                    a.events.len() as u64 + u64::from(a.skipped)
                },
            );
        }
        let duplicate = Self::duplicates(audits);
        let sorted = Self::sort(audits, &duplicate);
        let by_ticket = Self::ranges(audits, &sorted, tickets);
        let ticket_order = Self::ticket_order(audits, &duplicate, by_ticket.len());
        AuditIndex {
            duplicate,
            sorted,
            by_ticket,
            ticket_order,
        }
    }

    /// Marks each audit whose id an earlier audit already had.
    fn duplicates(audits: &[AuditRec]) -> Vec<bool> {
        let mut seen_audits: HashSet<u64> = HashSet::with_capacity(audits.len());
        let mut duplicate_audit = vec![false; audits.len()];
        for (i, a) in audits.iter().enumerate() {
            if let Some(id) = a.id {
                if !seen_audits.insert(id) {
                    duplicate_audit[i] = true;
                }
            }
        }
        duplicate_audit
    }

    /// The usable audits (readable, not repeated, with a ticket id) in
    /// (ticket, `created_at`, `id`, position) order: one sort of indices.
    fn sort(audits: &[AuditRec], duplicate: &[bool]) -> Vec<u32> {
        let mut sorted: Vec<u32> = (0..audits.len() as u32)
            .filter(|&i| {
                let a = &audits[i as usize];
                a.malformed.is_none() && !duplicate[i as usize] && a.ticket.is_ok()
            })
            .collect();
        sorted.par_sort_unstable_by_key(|&i| {
            let a = &audits[i as usize];
            (
                a.ticket.as_ref().copied().unwrap_or(0),
                a.at.as_ref().copied().unwrap_or(i64::MIN),
                a.id.unwrap_or(0),
                i,
            )
        });
        sorted
    }

    /// Each ticket's range in the sorted audits.
    fn ranges(
        audits: &[AuditRec],
        sorted: &[u32],
        capacity: usize,
    ) -> HashMap<u64, (usize, usize)> {
        let mut by_ticket: HashMap<u64, (usize, usize)> = HashMap::with_capacity(capacity);
        let mut k = 0;
        while k < sorted.len() {
            let t = *audits[sorted[k] as usize]
                .ticket
                .as_ref()
                .expect("filtered");
            let mut e = k;
            while e < sorted.len() && audits[sorted[e] as usize].ticket.as_ref() == Ok(&t) {
                e += 1;
            }
            by_ticket.insert(t, (k, e));
            k = e;
        }
        by_ticket
    }

    /// The tickets of the readable, unrepeated audits by first appearance.
    fn ticket_order(audits: &[AuditRec], duplicate: &[bool], capacity: usize) -> Vec<u64> {
        let mut ticket_order: Vec<u64> = Vec::with_capacity(capacity);
        let mut seen: HashSet<u64> = HashSet::with_capacity(capacity);
        for (i, a) in audits.iter().enumerate() {
            if a.malformed.is_some() || duplicate[i] {
                continue;
            }
            if let Ok(t) = a.ticket {
                if seen.insert(t) {
                    ticket_order.push(t);
                }
            }
        }
        ticket_order
    }

    /// The audits of ticket `id` (indices), in order.
    fn of_ticket(&self, id: u64) -> &[u32] {
        self.by_ticket
            .get(&id)
            .map_or(&[][..], |&(k, e)| &self.sorted[k..e])
    }
}

// ---- judging ----

/// What judging tickets and audits needs besides the records: the
/// settings, each user's role and the closed statuses.
struct Rules<'s> {
    settings: &'s SourceSettings,
    roles: HashMap<u64, Role>,
    closed: HashSet<&'s str>,
    unattributed: Unattributed,
}

impl<'s> Rules<'s> {
    fn new(settings: &'s SourceSettings, roles: HashMap<u64, Role>) -> Self {
        Rules {
            settings,
            roles,
            closed: settings
                .closed_statuses
                .iter()
                .flatten()
                .map(String::as_str)
                .collect(),
            unattributed: Unattributed::of(settings),
        }
    }

    /// Whether a status is one of the closed statuses.
    fn is_closed(&self, s: Option<&str>) -> bool {
        s.is_some_and(|s| self.closed.contains(s))
    }

    /// Whether a user is a known agent.
    fn is_agent(&self, user: &u64) -> bool {
        self.roles.get(user) == Some(&Role::Agent)
    }
}

/// What became of a ticket id, for the events of its audits.
#[derive(Debug, Clone, Copy)]
struct TicketState {
    /// The group its events are ordered in (the ticket's position).
    group: u64,
    /// Its case was accepted.
    accepted: bool,
    /// It was deleted (its events are skipped).
    deleted: bool,
    requester: Option<u64>,
}

/// A reject of a ticket record.
fn ticket_reject(
    t: &TicketRec,
    field: &str,
    value: Option<String>,
    reason: String,
    detail: String,
) -> Rej {
    Rej::new(
        Locator::Ticket(t.index),
        Table::Cases,
        t.id.as_ref().ok().map(u64::to_string),
        field,
        value,
        reason,
        detail,
    )
}

/// Turns the tickets into cases, in file order: a ticket without a valid
/// id or deleted is rejected, a superseded repeat skipped. Returns the
/// cases and what became of each ticket id.
fn build_cases(
    tickets: &[TicketRec],
    superseded: &[bool],
    kept: usize,
    audits: &[AuditRec],
    index: &AuditIndex,
    rules: &Rules,
    out: &mut Collector,
) -> (Vec<Case>, HashMap<u64, TicketState>) {
    let mut cases: Vec<Case> = Vec::with_capacity(kept);
    let mut state: HashMap<u64, TicketState> = HashMap::with_capacity(kept);
    for (i, t) in tickets.iter().enumerate() {
        let Some(id) = ticket_id(t, out) else {
            continue;
        };
        if superseded[i] {
            out.skipped(t.file, 1);
            continue;
        }
        let group = i as u64;
        let accepted = if t.deleted {
            out.reject(
                t.file,
                ticket_reject(
                    t,
                    "status",
                    t.status.clone(),
                    reason::DELETED_TICKET.into(),
                    "the ticket was deleted".into(),
                ),
            );
            false
        } else {
            match ticket_case(t, id, audits, index.of_ticket(id), rules) {
                Ok(case) => {
                    out.rows(t.file, 1);
                    cases.push(case);
                    true
                }
                Err(r) => {
                    out.reject(t.file, *r);
                    false
                }
            }
        };
        let ticket = TicketState {
            group,
            accepted,
            deleted: t.deleted,
            requester: t.requester,
        };
        state.insert(id, ticket);
    }
    (cases, state)
}

/// The ticket's id, or `None` once the ticket is rejected for lacking a
/// valid one (or for not being an object).
fn ticket_id(t: &TicketRec, out: &mut Collector) -> Option<u64> {
    let shown = match &t.id {
        Ok(id) => return Some(*id),
        Err(shown) => shown,
    };
    let detail = match shown {
        Some(s) if s == "the ticket is not a JSON object" => {
            out.reject(
                t.file,
                ticket_reject(t, "", None, reason::MALFORMED_RECORD.into(), s.clone()),
            );
            return None;
        }
        Some(s) => format!("ticket id `{s}` is not a positive integer"),
        None => "the ticket has no id".to_string(),
    };
    out.reject(
        t.file,
        ticket_reject(t, "id", shown.clone(), reason::malformed_id("id"), detail),
    );
    None
}

/// The case of a ticket that is not deleted, with its priority at
/// creation and closure from its audits (`order`: indices into `audits`),
/// or the reject that stops it.
fn ticket_case(
    t: &TicketRec,
    id: u64,
    audits: &[AuditRec],
    order: &[u32],
    rules: &Rules,
) -> Result<Case, Box<Rej>> {
    let account = match &t.account {
        Ok(a) => a.clone(),
        Err(shown) => {
            return Err(Box::new(ticket_reject(
                t,
                "organization_id",
                shown.clone(),
                reason::malformed_id("organization_id"),
                "organization_id is not a positive integer".into(),
            )));
        }
    };
    let created_at = match &t.created {
        Ok(c) => *c,
        Err(e) => {
            return Err(Box::new(ticket_reject(
                t,
                "created_at",
                t.created_text.clone(),
                reason::malformed_timestamp("created_at"),
                e.clone(),
            )));
        }
    };
    let history = TicketHistory::of(audits, order, rules);
    let initial = history.initial_priority(t.priority.as_deref(), rules.settings.unset_priority);
    let closed_at = if rules.is_closed(t.status.as_deref()) {
        match history.last_closure {
            Some(at) => Some(at),
            None => {
                return Err(Box::new(ticket_reject(
                    t,
                    "status",
                    t.status.clone(),
                    reason::MISSING_AUDITS.into(),
                    "the ticket is solved or closed but no audit shows the transition (an archived ticket? add its audits from /api/v2/tickets/{id}/audits)".into(),
                )));
            }
        }
    } else {
        None
    };
    Ok(Case {
        case_id: Arc::from(id.to_string()),
        account_id: account,
        product: t.product.clone(),
        priority: initial.and_then(|p| rules.settings.priority_of(p)),
        created_at,
        closed_at,
        channel: t.channel.clone(),
        language: t.language.clone(),
        contact_id: t.requester.map(|r| r.to_string()),
        origin: Origin {
            file: t.file,
            locator: Locator::Ticket(t.index),
        },
    })
}

/// What a ticket's audits say about its case: the priority at creation
/// and the last closure.
struct TicketHistory<'a> {
    /// The creation audit's `Create priority` value.
    created_priority: Option<Option<&'a str>>,
    /// The previous value of the first dated priority change.
    first_change_prev: Option<Option<&'a str>>,
    /// The first priority a dated change sets.
    first_set: Option<&'a str>,
    /// The last dated transition into the closed statuses.
    last_closure: Option<Instant>,
}

impl<'a> TicketHistory<'a> {
    /// Reads the audits `order` (indices into `audits`), in order.
    fn of(audits: &'a [AuditRec], order: &[u32], rules: &Rules) -> Self {
        let mut h = TicketHistory {
            created_priority: None,
            first_change_prev: None,
            first_set: None,
            last_closure: None,
        };
        for &ai in order {
            let a = &audits[ai as usize];
            for e in &a.events {
                match &e.kind {
                    EvKind::CreatePriority(v) if a.creation && h.created_priority.is_none() => {
                        h.created_priority = Some(v.as_ref().map(Short::as_str));
                    }
                    EvKind::ChangePriority(v, prev) if a.at.is_ok() => {
                        if h.first_change_prev.is_none() {
                            h.first_change_prev = Some(prev.as_ref().map(Short::as_str));
                        }
                        if h.first_set.is_none() {
                            if let Ok(Some(v)) = v {
                                h.first_set = Some(v.as_str());
                            }
                        }
                    }
                    EvKind::ChangeStatus(v, prev) => {
                        if let Ok(at) = a.at {
                            if rules.is_closed(v.as_ref().map(Short::as_str))
                                && !rules.is_closed(prev.as_ref().map(Short::as_str))
                            {
                                h.last_closure = Some(at);
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
        h
    }

    /// The priority label at creation: the creation audit's, else the
    /// previous value of the first change, else the ticket's at export;
    /// when that is unset, the first one set (`unset_priority =
    /// "first_set"`) or none.
    fn initial_priority(
        &self,
        at_export: Option<&'a str>,
        unset: UnsetPriority,
    ) -> Option<&'a str> {
        let initial = match (self.created_priority, self.first_change_prev) {
            (Some(v), _) => v,
            (None, Some(prev)) => prev,
            (None, None) => at_export,
        };
        match (initial, unset) {
            (Some(v), _) => Some(v),
            (None, UnsetPriority::FirstSet) => self.first_set,
            (None, UnsetPriority::Empty) => None,
        }
    }
}

// ---- events ----

/// The tickets the audits name: what became of each, and the one id text
/// their events share.
struct EventTickets {
    state: HashMap<u64, TicketState>,
    /// One shared id text per ticket of the audits.
    names: HashMap<u64, Arc<str>>,
    /// The group of each ticket absent from the pages, after the tickets'.
    absent_group: HashMap<u64, u64>,
}

impl EventTickets {
    /// `order`: the tickets of the audits by first appearance; `base`: the
    /// number of tickets read (the first absent ticket's group).
    fn new(order: &[u64], state: HashMap<u64, TicketState>, base: u64) -> Self {
        let names: HashMap<u64, Arc<str>> = order
            .iter()
            .map(|t| (*t, Arc::from(t.to_string())))
            .collect();
        let mut absent_group: HashMap<u64, u64> = HashMap::new();
        for t in order {
            if !state.contains_key(t) {
                let n = absent_group.len() as u64;
                absent_group.insert(*t, base + n);
            }
        }
        EventTickets {
            state,
            names,
            absent_group,
        }
    }

    /// What became of ticket `t`; a ticket absent from the pages counts as
    /// accepted, in its own group.
    fn state_of(&self, t: &u64) -> TicketState {
        self.state.get(t).copied().unwrap_or_else(|| TicketState {
            group: self.absent_group[t],
            accepted: true,
            deleted: false,
            requester: None,
        })
    }

    /// Whether ticket `t` is absent from the pages.
    fn is_absent(&self, t: &u64) -> bool {
        !self.state.contains_key(t)
    }
}

/// Turns the audits into events, in file order: an unreadable audit is
/// one reject, a repeated one's events are skipped.
fn build_events(
    audits: &[AuditRec],
    index: &AuditIndex,
    tickets: &EventTickets,
    rules: &Rules,
    out: &mut Collector,
) -> Vec<Staged> {
    let mut staged: Vec<Staged> = Vec::with_capacity(audits.len() * 2);
    for (i, a) in audits.iter().enumerate() {
        if let Some(why) = &a.malformed {
            out.reject(
                a.file,
                Rej::new(
                    Locator::Audit(a.index),
                    Table::Events,
                    None,
                    "",
                    None,
                    reason::MALFORMED_RECORD.into(),
                    why.clone(),
                ),
            );
            continue;
        }
        out.skipped(a.file, u64::from(a.skipped));
        if index.duplicate[i] {
            out.skipped(a.file, a.events.len() as u64);
            continue;
        }
        let audit = AuditView::new(i, a, tickets, rules);
        for e in &a.events {
            audit.event(e, rules, out, &mut staged);
        }
    }
    staged
}

/// What an audit event is, before anything about its ticket or time.
enum Class {
    Skip,
    Event(EventKind, Option<String>),
    /// Field, value, reason and detail of the reject.
    Reject(&'static str, Option<String>, String, String),
}

/// One readable audit, with what its events need of its ticket.
struct AuditView<'a> {
    /// Its position among the audits read.
    position: usize,
    audit: &'a AuditRec,
    ticket_text: Arc<str>,
    /// `None`: the ticket id is malformed.
    ticket_state: Option<TicketState>,
    /// The ticket is absent from the pages.
    absent: bool,
    /// The audit has a public comment by an agent (the description counts).
    public_agent_comment: bool,
}

impl<'a> AuditView<'a> {
    fn new(position: usize, a: &'a AuditRec, tickets: &EventTickets, rules: &Rules) -> Self {
        let ticket_text: Arc<str> = match &a.ticket {
            Ok(t) => tickets.names[t].clone(),
            Err(shown) => Arc::from(shown.as_deref().unwrap_or("")),
        };
        let public_agent_comment = a.events.iter().any(|e| {
            matches!(&e.kind, EvKind::Comment(Ok(Some(author)), Some(true))
                if rules.is_agent(author))
        });
        AuditView {
            position,
            audit: a,
            ticket_text,
            ticket_state: a.ticket.as_ref().ok().map(|t| tickets.state_of(t)),
            absent: a.ticket.as_ref().is_ok_and(|t| tickets.is_absent(t)),
            public_agent_comment,
        }
    }

    /// A reject of event `e` of the audit.
    fn reject(
        &self,
        e: &EvRec,
        field: &str,
        value: Option<String>,
        reason: String,
        detail: String,
    ) -> Rej {
        Rej::new(
            Locator::AuditEvent(self.audit.index, e.index),
            Table::Events,
            Some(event_key(&self.ticket_text, self.audit.at_text.as_str())),
            field,
            value,
            reason,
            detail,
        )
    }

    /// Judges one event of the audit: classed on its own, then skipped,
    /// rejected or staged by its ticket and the audit's time.
    fn event(&self, e: &EvRec, rules: &Rules, out: &mut Collector, staged: &mut Vec<Staged>) {
        let a = self.audit;
        if let EvKind::Malformed(why) = &e.kind {
            out.reject(
                a.file,
                self.reject(e, "", None, reason::MALFORMED_RECORD.into(), why.clone()),
            );
            return;
        }
        let class = self.classify(&e.kind, rules);
        if matches!(class, Class::Skip) {
            out.skipped(a.file, 1);
            return;
        }
        let Some((group, at)) = self.placed(e, out) else {
            return;
        };
        match class {
            Class::Skip => unreachable!("handled above"),
            Class::Reject(field, value, reason, detail) => {
                out.reject(a.file, self.reject(e, field, value, reason, detail));
            }
            Class::Event(kind, value) => {
                out.rows(a.file, 1);
                staged.push(Staged {
                    group,
                    seq: (
                        a.id.unwrap_or(0),
                        (self.position as u64) << 20 | u64::from(e.index),
                    ),
                    event: Event {
                        case_id: self.ticket_text.clone(),
                        at,
                        kind,
                        value,
                        origin: Origin {
                            file: a.file,
                            locator: Locator::AuditEvent(a.index, e.index),
                        },
                    },
                });
            }
        }
    }

    /// The group and time of an event that is not skipped by its ticket,
    /// or `None` once it is skipped (deleted ticket) or rejected (malformed
    /// ticket id, rejected ticket, malformed audit time).
    fn placed(&self, e: &EvRec, out: &mut Collector) -> Option<(u64, Instant)> {
        let a = self.audit;
        let Some(ticket) = self.ticket_state else {
            out.reject(
                a.file,
                self.reject(
                    e,
                    "ticket_id",
                    a.ticket.as_ref().err().cloned().flatten(),
                    reason::malformed_id("ticket_id"),
                    "ticket_id is not a positive integer".into(),
                ),
            );
            return None;
        };
        if ticket.deleted {
            out.skipped(a.file, 1);
            return None;
        }
        if !ticket.accepted {
            let ticket_text = &self.ticket_text;
            out.reject(
                a.file,
                self.reject(
                    e,
                    "ticket_id",
                    Some(ticket_text.to_string()),
                    reason::CASE_REJECTED.into(),
                    format!("ticket `{ticket_text}` was rejected"),
                ),
            );
            return None;
        }
        let at = match &a.at {
            Ok(t) => *t,
            Err(why) => {
                out.reject(
                    a.file,
                    self.reject(
                        e,
                        "created_at",
                        Some(a.at_text.as_str().to_string()).filter(|s| !s.is_empty()),
                        reason::malformed_timestamp("created_at"),
                        why.clone(),
                    ),
                );
                return None;
            }
        };
        Some((ticket.group, at))
    }

    /// What an event of the audit is, before anything about its ticket or
    /// time.
    fn classify(&self, kind: &EvKind, rules: &Rules) -> Class {
        match kind {
            EvKind::CreatePriority(_) | EvKind::Create | EvKind::Other => Class::Skip,
            EvKind::Malformed(_) => unreachable!("handled by the caller"),
            EvKind::ChangePriority(v, _) => priority_change(v, rules),
            EvKind::ChangeStatus(v, prev) => {
                match (
                    rules.is_closed(prev.as_ref().map(Short::as_str)),
                    rules.is_closed(v.as_ref().map(Short::as_str)),
                ) {
                    (false, true) => Class::Event(EventKind::Closed, None),
                    (true, false) => Class::Event(EventKind::Reopened, None),
                    _ => Class::Event(
                        EventKind::StatusChange,
                        v.as_ref().map(|v| v.as_str().to_string()),
                    ),
                }
            }
            EvKind::Comment(_, _) if self.audit.creation => Class::Skip, // the description
            EvKind::Comment(author, public) => comment(author, *public, rules),
            EvKind::Notification(trigger, recipients) => {
                let to_requester = match self.ticket_state {
                    Some(TicketState {
                        requester: Some(requester),
                        ..
                    }) => recipients.contains(&requester),
                    // Without the ticket, any recipient who is not an agent.
                    _ => self.absent && recipients.iter().any(|r| !rules.is_agent(r)),
                };
                if *trigger == Some(true) && to_requester && !self.public_agent_comment {
                    Class::Event(EventKind::AutoResponse, None)
                } else {
                    Class::Skip
                }
            }
        }
    }
}

/// A `Change` of `priority` to `v`: a priority change when its label is in
/// the priority map.
fn priority_change(v: &Result<Option<Short>, Option<String>>, rules: &Rules) -> Class {
    match v {
        Ok(Some(label)) => match rules.settings.priority_of(label.as_str()) {
            Some(p) => Class::Event(EventKind::PriorityChange, Some(p.as_str().to_string())),
            None => Class::Reject(
                "priority",
                Some(label.as_str().to_string()),
                reason::unmapped_value("priority"),
                format!("priority `{}` is not in the priority map", label.as_str()),
            ),
        },
        Ok(None) => Class::Reject(
            "priority",
            Some("null".into()),
            reason::unmapped_value("priority"),
            "a priority change to no priority".into(),
        ),
        Err(shown) => Class::Reject(
            "priority",
            shown.clone(),
            reason::unmapped_value("priority"),
            "the priority is not a string".into(),
        ),
    }
}

/// A `Comment` other than the description, by its author's role and
/// `public`; an unknown or missing author as the settings say.
fn comment(
    author: &Result<Option<u64>, Option<String>>,
    public: Option<bool>,
    rules: &Rules,
) -> Class {
    let role = match author {
        Ok(Some(id)) => rules.roles.get(id).copied().ok_or(reason::UNKNOWN_AUTHOR),
        Ok(None) => Err(reason::MISSING_AUTHOR),
        Err(_) => Err(reason::MISSING_AUTHOR),
    };
    match (role, public) {
        (_, None) => Class::Reject(
            "public",
            None,
            reason::unmapped_value("public"),
            "the comment's `public` is not true or false".into(),
        ),
        (Ok(Role::Agent), Some(true)) => Class::Event(EventKind::AgentResponse, None),
        (Ok(Role::Agent), Some(false)) => Class::Event(EventKind::InternalNote, None),
        (Ok(Role::Automation), Some(true)) => Class::Event(EventKind::AutoResponse, None),
        (Ok(Role::Automation), Some(false)) => Class::Event(EventKind::InternalNote, None),
        (Ok(Role::EndUser), _) => Class::Event(EventKind::CustomerUpdate, None),
        (Err(code), _) => match &rules.unattributed {
            Unattributed::Skip => Class::Skip,
            Unattributed::Event(k) => Class::Event(*k, None),
            Unattributed::Reject => {
                let shown = match author {
                    Ok(Some(id)) => Some(id.to_string()),
                    Ok(None) => None,
                    Err(s) => s.clone(),
                };
                let detail = if code == reason::UNKNOWN_AUTHOR {
                    "the comment's author is not in users.json".to_string()
                } else {
                    "the comment has no author_id".to_string()
                };
                Class::Reject("author_id", shown, code.to_string(), detail)
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn via_channels_map_to_canonical_channels() {
        assert_eq!(channel_of_via(Some("email")), "email");
        assert_eq!(channel_of_via(Some("web")), "web");
        assert_eq!(channel_of_via(Some("web_form")), "web");
        assert_eq!(channel_of_via(Some("api")), "web");
        assert_eq!(channel_of_via(Some("voice")), "phone");
        assert_eq!(channel_of_via(Some("chat")), "chat");
        assert_eq!(channel_of_via(Some("native_messaging")), "chat");
        assert_eq!(channel_of_via(Some("twitter")), "web");
        assert_eq!(channel_of_via(None), "web");
    }
}
