//! Jira Service Management: `issues-page-N.json` (REST API v3
//! `search/jql` with `expand=changelog,names`), `organizations.json` and
//! `service-desk-team.json` (the agents: the project's "Service Desk Team"
//! role).
//!
//! - A case is an issue (`key`); its account is the single organization of
//!   its `Organizations` field; product, channel and language come from
//!   select fields found by name in the page's `names`.
//! - The changelog comes newest first: histories are sorted by (`created`,
//!   `id`). The earliest `priority` item's `fromString` is the priority at
//!   creation (else `fields.priority`).
//! - `resolution` items set → closed, cleared → reopened (the `status` item
//!   of the same history is part of that transition); other `status` items
//!   are status changes; `closed_at` is `fields.resolutiondate`.
//! - A comment by an `app` account is automatic; by a member of the agent
//!   team, public (`jsdPublic`) → agent response, else internal note; by
//!   anyone else, a customer message.
//!
//! Timestamps carry the exporting user's offset without a colon
//! (`.000-0500`). Pages are parsed in parallel, every issue judged on its
//! own; the rules and their sources are in `docs/vendors.md`.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;

use polars::prelude::{InitHashMaps, PlHashMap, PlHashSet as HashSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use super::json::{self, file_name, Obj, Scalar, Seq};
use super::settings::FieldRef;
use super::{
    event_key, instant, language_of_label, reason, Case, Collector, Event, EventKind, Imported,
    Locator, Origin, Rej, SourceKind, SourceSettings, Staged, Table, Unattributed, UnsetPriority,
    VendorError,
};
use crate::model::Priority;
use crate::timestamp::Instant;

/// Stem of the issue pages.
pub(crate) const ISSUES: &str = "issues";
/// Organizations (read for counts: the issue's Organizations field has the ids).
pub(crate) const ORGANIZATIONS: &str = "organizations.json";
/// The "Service Desk Team" project role: its user actors are the agents.
pub(crate) const TEAM: &str = "service-desk-team.json";

// ---- JSON shapes ----

/// Ids of the custom fields read, per page (the `names` map gives them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct CustomIds {
    organization: Option<String>,
    product: Option<String>,
    language: Option<String>,
    channel: Option<String>,
}

thread_local! {
    /// The custom field ids of the page being parsed on this thread: the
    /// `fields` object is read in one pass, keeping only these keys.
    static CUSTOM: RefCell<CustomIds> = RefCell::new(CustomIds::default());
}

/// Sets [`CUSTOM`] for the duration of one page's parse.
fn with_custom_ids<T>(ids: &CustomIds, f: impl FnOnce() -> T) -> T {
    let previous = CUSTOM.with(|c| c.replace(ids.clone()));
    let out = f();
    CUSTOM.with(|c| c.replace(previous));
    out
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct NamesOnly<'a> {
    #[serde(borrow)]
    names: Obj<HashMap<Cow<'a, str>, Scalar<'a>>>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct IssuesPage<'a> {
    #[serde(borrow)]
    issues: Seq<Obj<Issue<'a>>>,
    #[serde(borrow)]
    names: Obj<HashMap<Cow<'a, str>, Scalar<'a>>>,
    #[serde(borrow, rename = "nextPageToken")]
    next_page_token: Scalar<'a>,
    #[serde(borrow, rename = "isLast")]
    is_last: Scalar<'a>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct Issue<'a> {
    #[serde(borrow)]
    key: Scalar<'a>,
    #[serde(borrow)]
    fields: Obj<Fields<'a>>,
    #[serde(borrow)]
    changelog: Obj<Changelog<'a>>,
}

/// The issue fields slt reads; custom ones by the ids in [`CUSTOM`].
#[derive(Default)]
struct Fields<'a> {
    created: Scalar<'a>,
    updated: Scalar<'a>,
    resolutiondate: Scalar<'a>,
    priority: Obj<Named<'a>>,
    status: Obj<Named<'a>>,
    reporter: Obj<UserRef<'a>>,
    comment: Obj<CommentField<'a>>,
    organization: Custom<'a>,
    product: Custom<'a>,
    language: Custom<'a>,
    channel: Custom<'a>,
}

impl<'de: 'a, 'a> Deserialize<'de> for Fields<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Fields<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("the issue's fields")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let ids = CUSTOM.with(|c| c.borrow().clone());
                let mut f = Fields::default();
                while let Some(key) = map.next_key::<Scalar<'a>>()? {
                    match key.as_str().unwrap_or("") {
                        "created" => f.created = map.next_value()?,
                        "updated" => f.updated = map.next_value()?,
                        "resolutiondate" => f.resolutiondate = map.next_value()?,
                        "priority" => f.priority = map.next_value()?,
                        "status" => f.status = map.next_value()?,
                        "reporter" => f.reporter = map.next_value()?,
                        "comment" => f.comment = map.next_value()?,
                        k => {
                            let k = Some(k);
                            let mut value: Option<Custom<'a>> = None;
                            for (slot, id) in [
                                (&mut f.organization, &ids.organization),
                                (&mut f.product, &ids.product),
                                (&mut f.language, &ids.language),
                                (&mut f.channel, &ids.channel),
                            ] {
                                if id.as_deref() == k {
                                    if value.is_none() {
                                        value = Some(map.next_value()?);
                                    }
                                    *slot = value.clone().expect("read");
                                }
                            }
                            if value.is_none() {
                                map.next_value::<IgnoredAny>()?;
                            }
                        }
                    }
                }
                Ok(f)
            }
        }
        d.deserialize_map(V(std::marker::PhantomData))
    }
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct Named<'a> {
    #[serde(borrow)]
    name: Scalar<'a>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct UserRef<'a> {
    #[serde(borrow, rename = "accountId")]
    account_id: Scalar<'a>,
    #[serde(borrow, rename = "accountType")]
    account_type: Scalar<'a>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct CommentField<'a> {
    #[serde(borrow)]
    comments: Seq<Obj<Comment<'a>>>,
    #[serde(borrow)]
    total: Scalar<'a>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct Comment<'a> {
    #[serde(borrow)]
    id: Scalar<'a>,
    #[serde(borrow)]
    author: Obj<UserRef<'a>>,
    #[serde(borrow)]
    created: Scalar<'a>,
    #[serde(borrow, rename = "jsdPublic")]
    jsd_public: Scalar<'a>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct Changelog<'a> {
    #[serde(borrow)]
    histories: Seq<Obj<History<'a>>>,
    #[serde(borrow)]
    total: Scalar<'a>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct History<'a> {
    #[serde(borrow)]
    id: Scalar<'a>,
    #[serde(borrow)]
    created: Scalar<'a>,
    #[serde(borrow)]
    items: Seq<Obj<Item<'a>>>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct Item<'a> {
    #[serde(borrow)]
    field: Scalar<'a>,
    #[serde(borrow)]
    to: Scalar<'a>,
    #[serde(borrow, rename = "fromString")]
    from_string: Scalar<'a>,
    #[serde(borrow, rename = "toString")]
    to_string: Scalar<'a>,
}

#[derive(Clone, Default, Deserialize)]
#[serde(default)]
struct SelectValue<'a> {
    #[serde(borrow)]
    id: Scalar<'a>,
    #[serde(borrow)]
    value: Scalar<'a>,
    #[serde(borrow)]
    name: Scalar<'a>,
}

impl SelectValue<'_> {
    fn label(&self) -> Option<&str> {
        self.value.text().or(self.name.text())
    }
}

/// A custom field's value: a select (`{"value": …}`), a list of objects
/// (Organizations: `[{"id": …, "name": …}]`), text, or nothing.
#[derive(Default, Clone)]
enum Custom<'a> {
    #[default]
    Missing,
    Null,
    Text(Cow<'a, str>),
    Object(SelectValue<'a>),
    List(Vec<Obj<SelectValue<'a>>>),
    Other,
}

impl<'de: 'a, 'a> Deserialize<'de> for Custom<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Custom<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                SelectValue::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(Custom::Object)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut items = Vec::new();
                while let Some(e) = seq.next_element::<Obj<SelectValue<'a>>>()? {
                    items.push(e);
                }
                Ok(Custom::List(items))
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Custom::Text(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Custom::Text(Cow::Owned(v.to_string())))
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(Custom::Null)
            }
            fn visit_none<E>(self) -> Result<Self::Value, E> {
                Ok(Custom::Null)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                d.deserialize_any(self)
            }
            fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
                Ok(Custom::Other)
            }
            fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
                Ok(Custom::Other)
            }
            fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
                Ok(Custom::Other)
            }
            fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
                Ok(Custom::Other)
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

impl Custom<'_> {
    /// The label of a select (or of the first of a multi-select), or text.
    fn label(&self) -> Option<String> {
        match self {
            Custom::Text(t) => Some(t.trim().to_string()).filter(|t| !t.is_empty()),
            Custom::Object(v) => v.label().map(str::to_string),
            Custom::List(items) => items
                .iter()
                .filter_map(Obj::get)
                .find_map(|v| v.label().map(str::to_string)),
            _ => None,
        }
    }
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct Team<'a> {
    #[serde(borrow)]
    actors: Seq<Obj<Actor<'a>>>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct Actor<'a> {
    #[serde(borrow, rename = "type")]
    kind: Scalar<'a>,
    #[serde(borrow, rename = "displayName")]
    display_name: Scalar<'a>,
    #[serde(borrow, rename = "actorUser")]
    actor_user: Obj<UserRef<'a>>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct OrganizationsFile<'a> {
    #[serde(borrow)]
    values: Seq<Scalar<'a>>,
}

// ---- judging one issue ----

/// An issue judged on its own: its case or reject, its events and
/// rejects, and how many records it holds.
struct Judged {
    key: Option<String>,
    updated: Option<Instant>,
    case: Option<Case>,
    events: Vec<Staged>,
    rejects: Vec<Rej>,
    records: u64,
    rows: u64,
    skipped: u64,
}

/// Who counts as what, for comments.
struct People<'s> {
    agents: HashSet<String>,
    automation: HashSet<&'s str>,
}

fn is_issue_key(k: &str) -> bool {
    let Some((project, number)) = k.rsplit_once('-') else {
        return false;
    };
    let mut p = project.bytes();
    p.next().is_some_and(|b| b.is_ascii_alphabetic())
        && p.all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && !number.is_empty()
        && number.bytes().all(|b| b.is_ascii_digit())
}

fn timestamp(s: &Scalar, field: &str) -> Result<Instant, String> {
    match s {
        Scalar::Str(t) => instant(t),
        Scalar::Missing | Scalar::Null => Err(format!("no {field}")),
        other => Err(format!(
            "{field} is not a string: {}",
            other.shown().unwrap_or_default()
        )),
    }
}

/// Judges one issue on its own: its case (or the reject that stops it),
/// then its changelog items and its comments as events.
fn judge(
    issue: &Obj<Issue>,
    index: u32,
    file: u32,
    settings: &SourceSettings,
    people: &People,
    org_field: &str,
) -> Judged {
    let mut j = Judged {
        key: None,
        updated: None,
        case: None,
        events: Vec::new(),
        rejects: Vec::new(),
        records: 1,
        rows: 0,
        skipped: 0,
    };
    let Some(issue) = issue.get() else {
        j.rejects.push(Rej::new(
            Locator::Issue(index),
            Table::Cases,
            None,
            "",
            None,
            reason::MALFORMED_RECORD.into(),
            "the issue is not a JSON object",
        ));
        return j;
    };
    let empty = Fields::default();
    let fields = issue.fields.get().unwrap_or(&empty);
    let parts = IssueParts::of(issue, fields, index, file, settings);
    j.records += parts.records();
    j.updated = timestamp(&fields.updated, "updated").ok();
    j.key = issue
        .key
        .text()
        .filter(|k| is_issue_key(k))
        .map(str::to_string);
    let accepted = match parts.case(j.key.clone(), org_field) {
        Ok(case) => {
            j.case = Some(case);
            j.rows += 1;
            true
        }
        Err(r) => {
            j.rejects.push(*r);
            false
        }
    };
    parts.changelog_events(accepted, &mut j);
    parts.comment_events(accepted, people, &mut j);
    j
}

/// Whether a changelog item is of field `name` (compared without case).
fn field_is(item: &Item, name: &str) -> bool {
    item.field
        .as_str()
        .is_some_and(|f| f.trim().eq_ignore_ascii_case(name))
}

/// A changelog history with its timestamp, for the (`created`, `id`) order.
struct Dated<'i, 'a> {
    /// Its position in the changelog.
    pos: u32,
    at: Result<Instant, String>,
    at_text: String,
    id: i128,
    /// `None`: not an object.
    history: Option<&'i History<'a>>,
}

impl Dated<'_, '_> {
    /// The history's items that are objects (none when it is not one).
    fn items(&self) -> impl Iterator<Item = &Item<'_>> {
        self.history
            .map(|h| h.items.items())
            .unwrap_or(&[])
            .iter()
            .filter_map(Obj::get)
    }
}

/// What an issue's case and events are read from: its fields, comments
/// and changelog, the histories in (`created`, `id`) order.
struct IssueParts<'i, 'a> {
    issue: &'i Issue<'a>,
    fields: &'i Fields<'a>,
    comments: &'i [Obj<Comment<'a>>],
    changelog: Option<&'i Changelog<'a>>,
    histories: &'i [Obj<History<'a>>],
    sorted: Vec<Dated<'i, 'a>>,
    /// The key as given (empty when there is none).
    case_id: Arc<str>,
    index: u32,
    file: u32,
    settings: &'i SourceSettings,
    /// The settings' closed statuses, when they decide closure instead of
    /// the resolution.
    closed_by_status: Option<HashSet<&'i str>>,
}

impl<'i, 'a> IssueParts<'i, 'a> {
    fn of(
        issue: &'i Issue<'a>,
        fields: &'i Fields<'a>,
        index: u32,
        file: u32,
        settings: &'i SourceSettings,
    ) -> Self {
        let comments = fields
            .comment
            .get()
            .map(|c| c.comments.items())
            .unwrap_or(&[]);
        let changelog = issue.changelog.get();
        let histories = changelog.map(|c| c.histories.items()).unwrap_or(&[]);
        IssueParts {
            issue,
            fields,
            comments,
            changelog,
            histories,
            sorted: Self::sort_histories(histories),
            case_id: Arc::from(issue.key.text().unwrap_or("")),
            index,
            file,
            settings,
            closed_by_status: settings
                .closed_statuses
                .as_ref()
                .map(|v| v.iter().map(String::as_str).collect::<HashSet<&str>>()),
        }
    }

    /// The histories in (`created`, `id`) order, with their timestamps (the
    /// changelog comes newest first).
    fn sort_histories(histories: &'i [Obj<History<'a>>]) -> Vec<Dated<'i, 'a>> {
        let mut sorted: Vec<Dated> = histories
            .iter()
            .enumerate()
            .map(|(pos, h)| {
                let history = h.get();
                let created = history.map(|h| &h.created);
                Dated {
                    pos: pos as u32,
                    at: created.map_or(Err("the history is not an object".into()), |c| {
                        timestamp(c, "created")
                    }),
                    at_text: created
                        .and_then(Scalar::as_str)
                        .unwrap_or("")
                        .trim()
                        .to_string(),
                    id: history
                        .and_then(|h| h.id.as_str().and_then(|s| s.parse().ok()).or(h.id.as_int()))
                        .unwrap_or(0),
                    history,
                }
            })
            .collect();
        sorted.sort_by_key(|h| (h.at.as_ref().copied().unwrap_or(i64::MIN), h.id, h.pos));
        sorted
    }

    /// The records the issue holds besides itself: its comments and its
    /// histories' items (a history without an `items` array counts as one).
    fn records(&self) -> u64 {
        let mut records = self.comments.len() as u64;
        for h in self.histories {
            records += h
                .get()
                .filter(|h| h.items.is_array())
                .map_or(1, |h| h.items.items().len() as u64);
        }
        records
    }

    /// A reject of the issue's case.
    fn case_reject(
        &self,
        field: &str,
        value: Option<String>,
        reason: String,
        detail: String,
    ) -> Box<Rej> {
        Box::new(Rej::new(
            Locator::Issue(self.index),
            Table::Cases,
            Some(self.case_id.to_string()).filter(|k| !k.is_empty()),
            field,
            value,
            reason,
            detail,
        ))
    }

    /// The issue's case, or the reject that stops it: `key` is its valid
    /// issue key, `org_field` the name of the organizations field.
    fn case(&self, key: Option<String>, org_field: &str) -> Result<Case, Box<Rej>> {
        let fields = self.fields;
        let Some(key) = key else {
            return Err(self.case_reject(
                "key",
                self.issue.key.shown(),
                reason::malformed_id("key"),
                "not a Jira issue key (`PROJECT-123`)".into(),
            ));
        };
        self.check_complete(&key)?;
        let account_id = self.account(org_field)?;
        let created_at = timestamp(&fields.created, "created").map_err(|e| {
            self.case_reject(
                "created",
                fields.created.shown(),
                reason::malformed_timestamp("created"),
                e,
            )
        })?;
        let resolved_at = match &fields.resolutiondate {
            s if s.is_null() => None,
            s => Some(timestamp(s, "resolutiondate").map_err(|e| {
                self.case_reject(
                    "resolutiondate",
                    s.shown(),
                    reason::malformed_timestamp("resolutiondate"),
                    e,
                )
            })?),
        };
        let priority = self.initial_priority()?;
        Ok(Case {
            case_id: Arc::from(key),
            account_id,
            product: fields.product.label(),
            priority,
            created_at,
            closed_at: self.closed_at(resolved_at),
            channel: Some(super::channel_of_label(fields.channel.label().as_deref()).to_string()),
            language: Some(language_of_label(fields.language.label().as_deref()).to_string()),
            contact_id: fields
                .reporter
                .get()
                .and_then(|r| r.account_id.text())
                .map(str::to_string),
            origin: Origin {
                file: self.file,
                locator: Locator::Issue(self.index),
            },
        })
    }

    /// Refuses an issue whose comments or changelog histories the export
    /// truncated (their `total` exceeds what it holds).
    fn check_complete(&self, key: &str) -> Result<(), Box<Rej>> {
        let (comments, histories) = (self.comments, self.histories);
        if let Some(c) = self.fields.comment.get() {
            if c.total.as_int().is_some_and(|t| t > comments.len() as i128) {
                return Err(self.case_reject(
                    "comment",
                    c.total.shown(),
                    reason::truncated("comment"),
                    format!(
                        "the issue has {} comments, {} in the export: page /rest/api/3/issue/{key}/comment into it",
                        c.total.shown().unwrap_or_default(),
                        comments.len()
                    ),
                ));
            }
        }
        if let Some(c) = self.changelog {
            if c.total
                .as_int()
                .is_some_and(|t| t > histories.len() as i128)
            {
                return Err(self.case_reject(
                    "changelog",
                    c.total.shown(),
                    reason::truncated("changelog"),
                    format!(
                        "the issue has {} changelog histories, {} in the export: page /rest/api/3/issue/{key}/changelog into it",
                        c.total.shown().unwrap_or_default(),
                        histories.len()
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The account: the id of the issue's single organization (none when
    /// it has none; several are refused).
    fn account(&self, org_field: &str) -> Result<Option<String>, Box<Rej>> {
        let no_id = || {
            self.case_reject(
                org_field,
                None,
                reason::malformed_id(org_field),
                "the organization has no id".into(),
            )
        };
        Ok(match &self.fields.organization {
            Custom::Missing | Custom::Null => None,
            Custom::List(orgs) => {
                let ids: Vec<Option<String>> = orgs
                    .iter()
                    .map(|o| o.get().and_then(|o| o.id.id_text().map(Cow::into_owned)))
                    .collect();
                match ids.as_slice() {
                    [] => None,
                    [Some(id)] => Some(id.clone()),
                    [None] => return Err(no_id()),
                    several => {
                        let shown: Vec<String> = several
                            .iter()
                            .map(|i| i.clone().unwrap_or_default())
                            .collect();
                        return Err(self.case_reject(
                            org_field,
                            Some(shown.join(",")),
                            reason::unmapped_value(org_field),
                            "the issue belongs to several organizations: slt does not pick one"
                                .into(),
                        ));
                    }
                }
            }
            Custom::Object(o) => match o.id.id_text() {
                Some(id) => Some(id.into_owned()),
                None => return Err(no_id()),
            },
            Custom::Text(t) => Some(t.trim().to_string()).filter(|t| !t.is_empty()),
            Custom::Other => {
                return Err(self.case_reject(
                    org_field,
                    None,
                    reason::malformed_id(org_field),
                    "the organizations field is neither a list nor an object".into(),
                ))
            }
        })
    }

    /// The priority at creation: the earliest dated `priority` item's
    /// `fromString`, else `fields.priority`; when that is unset, the first
    /// one set (`unset_priority = "first_set"`) or none. A label outside the
    /// priority map is refused.
    fn initial_priority(&self) -> Result<Option<Priority>, Box<Rej>> {
        let priority_items: Vec<&Item> = self
            .sorted
            .iter()
            .filter(|h| h.at.is_ok())
            .filter_map(|h| h.history)
            .flat_map(|h| h.items.items().iter().filter_map(Obj::get))
            .filter(|i| field_is(i, "priority"))
            .collect();
        let label = match priority_items.first() {
            Some(first) => first.from_string.text(),
            None => self.fields.priority.get().and_then(|p| p.name.text()),
        };
        let label = match (label, self.settings.unset_priority) {
            (Some(l), _) => Some(l),
            (None, UnsetPriority::FirstSet) => {
                priority_items.iter().find_map(|i| i.to_string.text())
            }
            (None, UnsetPriority::Empty) => None,
        };
        match label {
            None => Ok(None),
            Some(l) => Ok(Some(self.settings.priority_of(l).ok_or_else(|| {
                self.case_reject(
                    "priority",
                    Some(l.to_string()),
                    reason::unmapped_value("priority"),
                    format!("priority `{l}` is not in the priority map; map it in the mapping's `[source] priority`"),
                )
            })?)),
        }
    }

    /// When the case closed: `resolutiondate`, or with the settings' closed
    /// statuses, the last dated transition into them when the status at
    /// export is one (else `resolutiondate`).
    fn closed_at(&self, resolved_at: Option<Instant>) -> Option<Instant> {
        let set = match &self.closed_by_status {
            None => return resolved_at,
            Some(set) => set,
        };
        let now_closed = self
            .fields
            .status
            .get()
            .and_then(|s| s.name.text())
            .is_some_and(|s| set.contains(s));
        let mut last = None;
        for h in self.sorted.iter().filter(|h| h.at.is_ok()) {
            for item in h.items() {
                if field_is(item, "status") {
                    let was = item.from_string.text().is_some_and(|s| set.contains(s));
                    let is = item.to_string.text().is_some_and(|s| set.contains(s));
                    if is && !was {
                        last = h.at.as_ref().ok().copied();
                    }
                }
            }
        }
        if now_closed {
            last.or(resolved_at)
        } else {
            None
        }
    }

    /// A reject of event `locator` of the issue, keyed by its time.
    fn event_reject(
        &self,
        locator: Locator,
        at_text: &str,
        field: &str,
        value: Option<String>,
        reason: String,
        detail: String,
    ) -> Rej {
        Rej::new(
            locator,
            Table::Events,
            Some(event_key(&self.case_id, at_text)),
            field,
            value,
            reason,
            detail,
        )
    }

    /// The reject of an event whose issue was rejected.
    fn case_rejected(&self, locator: Locator, at_text: &str) -> Rej {
        let case_id = &self.case_id;
        self.event_reject(
            locator,
            at_text,
            "key",
            Some(case_id.to_string()),
            reason::CASE_REJECTED.into(),
            format!("issue `{case_id}` was rejected"),
        )
    }

    /// An event of the issue, staged at `seq` within it.
    fn stage(
        &self,
        seq: (u64, u64),
        at: Instant,
        kind: EventKind,
        value: Option<String>,
        locator: Locator,
    ) -> Staged {
        Staged {
            group: 0,
            seq,
            event: Event {
                case_id: self.case_id.clone(),
                at,
                kind,
                value,
                origin: Origin {
                    file: self.file,
                    locator,
                },
            },
        }
    }

    /// The changelog items as events, history by history in order: each
    /// item classed on its own, then rejected with its issue or for its
    /// history's time.
    fn changelog_events(&self, accepted: bool, j: &mut Judged) {
        for (rank, h) in self.sorted.iter().enumerate() {
            let Some(history) = h.history.filter(|h| h.items.is_array()) else {
                j.rejects.push(Rej::new(
                    Locator::History(self.index, h.pos),
                    Table::Events,
                    None,
                    "",
                    None,
                    reason::MALFORMED_RECORD.into(),
                    "the history is not an object with an `items` array",
                ));
                continue;
            };
            let items = history.items.items();
            let has_resolution = items
                .iter()
                .filter_map(Obj::get)
                .any(|i| field_is(i, "resolution"));
            for (k, item) in items.iter().enumerate() {
                let locator = Locator::HistoryItem(self.index, h.pos, k as u32);
                let Some(item) = item.get() else {
                    j.rejects.push(self.event_reject(
                        locator,
                        &h.at_text,
                        "",
                        None,
                        reason::MALFORMED_RECORD.into(),
                        "the item is not a JSON object".into(),
                    ));
                    continue;
                };
                let class = match self.classify(item, has_resolution) {
                    Class::Skip => {
                        j.skipped += 1;
                        continue;
                    }
                    class => class,
                };
                if !accepted {
                    j.rejects.push(self.case_rejected(locator, &h.at_text));
                    continue;
                }
                let at = match &h.at {
                    Ok(t) => *t,
                    Err(e) => {
                        j.rejects.push(self.event_reject(
                            locator,
                            &h.at_text,
                            "created",
                            Some(h.at_text.clone()).filter(|s| !s.is_empty()),
                            reason::malformed_timestamp("created"),
                            e.clone(),
                        ));
                        continue;
                    }
                };
                match class {
                    Class::Skip => unreachable!("handled above"),
                    Class::Reject(field, value, reason, detail) => j
                        .rejects
                        .push(self.event_reject(locator, &h.at_text, field, value, reason, detail)),
                    Class::Event(kind, value) => {
                        j.rows += 1;
                        j.events.push(self.stage(
                            (rank as u64, k as u64),
                            at,
                            kind,
                            value,
                            locator,
                        ));
                    }
                }
            }
        }
    }

    /// What a changelog item is: a priority change; with the resolution
    /// deciding closure, a closure or reopening (`resolution`) or a status
    /// change (`status`, outside a history that sets the resolution); with
    /// closed statuses, a closure, reopening or status change (`status`).
    /// Anything else is skipped.
    fn classify(&self, item: &Item, has_resolution: bool) -> Class {
        if field_is(item, "priority") {
            return match item.to_string.text() {
                Some(l) => match self.settings.priority_of(l) {
                    Some(p) => {
                        Class::Event(EventKind::PriorityChange, Some(p.as_str().to_string()))
                    }
                    None => Class::Reject(
                        "priority",
                        Some(l.to_string()),
                        reason::unmapped_value("priority"),
                        format!("priority `{l}` is not in the priority map"),
                    ),
                },
                None => Class::Reject(
                    "priority",
                    None,
                    reason::unmapped_value("priority"),
                    "a priority change to no priority".into(),
                ),
            };
        }
        match &self.closed_by_status {
            None if field_is(item, "resolution") => {
                if item.to.is_null() {
                    Class::Event(EventKind::Reopened, None)
                } else {
                    Class::Event(EventKind::Closed, None)
                }
            }
            None if field_is(item, "status") && !has_resolution => Class::Event(
                EventKind::StatusChange,
                item.to_string.text().map(str::to_string),
            ),
            Some(set) if field_is(item, "status") => {
                let was = item.from_string.text().is_some_and(|s| set.contains(s));
                let is = item.to_string.text().is_some_and(|s| set.contains(s));
                match (was, is) {
                    (false, true) => Class::Event(EventKind::Closed, None),
                    (true, false) => Class::Event(EventKind::Reopened, None),
                    _ => Class::Event(
                        EventKind::StatusChange,
                        item.to_string.text().map(str::to_string),
                    ),
                }
            }
            _ => Class::Skip,
        }
    }

    /// The comments as events, in order: rejected with their issue or for
    /// their time, then classed by their author.
    fn comment_events(&self, accepted: bool, people: &People, j: &mut Judged) {
        let unattributed = Unattributed::of(self.settings);
        for (c, comment) in self.comments.iter().enumerate() {
            let locator = Locator::Comment(self.index, c as u32);
            let Some(comment) = comment.get() else {
                j.rejects.push(Rej::new(
                    locator,
                    Table::Events,
                    None,
                    "",
                    None,
                    reason::MALFORMED_RECORD.into(),
                    "the comment is not a JSON object",
                ));
                continue;
            };
            let at_text = comment.created.as_str().unwrap_or("").trim();
            if !accepted {
                j.rejects.push(self.case_rejected(locator, at_text));
                continue;
            }
            let at = match timestamp(&comment.created, "created") {
                Ok(t) => t,
                Err(e) => {
                    j.rejects.push(self.event_reject(
                        locator,
                        at_text,
                        "created",
                        comment.created.shown(),
                        reason::malformed_timestamp("created"),
                        e,
                    ));
                    continue;
                }
            };
            match comment_class(comment, people, &unattributed) {
                Class::Skip => j.skipped += 1,
                Class::Reject(field, value, reason, detail) => j
                    .rejects
                    .push(self.event_reject(locator, at_text, field, value, reason, detail)),
                Class::Event(kind, value) => {
                    j.rows += 1;
                    j.events
                        .push(self.stage((u64::MAX, c as u64), at, kind, value, locator));
                }
            }
        }
    }
}

/// What a changelog item or a comment is, before anything about its issue
/// or time.
enum Class {
    Skip,
    Event(EventKind, Option<String>),
    /// Field, value, reason and detail of the reject.
    Reject(&'static str, Option<String>, String, String),
}

/// What a comment is by its author: automatic (an `app` account or an
/// automation user), an agent's (public by `jsdPublic`: agent response,
/// else internal note), a customer message (anyone else); without an
/// author, as the settings say.
fn comment_class(comment: &Comment, people: &People, unattributed: &Unattributed) -> Class {
    let author = comment
        .author
        .get()
        .and_then(|a| a.account_id.text().map(|id| (id, a)));
    let Some((id, a)) = author else {
        return match unattributed {
            Unattributed::Skip => Class::Skip,
            Unattributed::Event(k) => Class::Event(*k, None),
            Unattributed::Reject => Class::Reject(
                "author",
                None,
                reason::MISSING_AUTHOR.into(),
                "the comment has no author accountId".into(),
            ),
        };
    };
    let kind = if a.account_type.as_str() == Some("app") || people.automation.contains(id) {
        EventKind::AutoResponse
    } else if people.agents.contains(id) {
        match &comment.jsd_public {
            Scalar::Missing | Scalar::Null | Scalar::Bool(true) => EventKind::AgentResponse,
            Scalar::Bool(false) => EventKind::InternalNote,
            other => {
                return Class::Reject(
                    "jsdPublic",
                    other.shown(),
                    reason::unmapped_value("jsdPublic"),
                    "jsdPublic is not true or false".into(),
                )
            }
        }
    } else {
        EventKind::CustomerUpdate
    };
    Class::Event(kind, None)
}

/// Custom field ids from a page's `names` (field id → name), for the
/// fields named in the settings (by name, or directly by id).
fn custom_ids(names: &HashMap<Cow<str>, Scalar>, settings: &SourceSettings) -> CustomIds {
    let find = |f: &FieldRef, fallback: Option<&str>| -> Option<String> {
        if names.contains_key(f.name.as_str()) || f.name.starts_with("customfield_") {
            return Some(f.name.clone());
        }
        names
            .iter()
            .filter(|(_, v)| v.as_str().is_some_and(|n| n.trim() == f.name))
            .map(|(k, _)| k.to_string())
            .min()
            .or_else(|| fallback.map(str::to_string))
    };
    CustomIds {
        organization: find(&settings.fields.organization, Some("customfield_10002")),
        product: find(&settings.fields.product, None),
        language: find(&settings.fields.language, None),
        channel: find(&settings.fields.channel, None),
    }
}

/// Imports a JSM export: the organizations and the agent team, then the
/// issue pages (each issue judged on its own, in parallel), keeping the
/// latest copy of an issue repeated across pages.
pub(super) fn import(dir: &Path, settings: &SourceSettings) -> Result<Imported, VendorError> {
    let pages = json::page_files(dir, ISSUES)?;
    let orgs_bytes = super::read_file(dir, ORGANIZATIONS)?;
    let team_bytes = super::read_file(dir, TEAM)?;
    let mut out = Collector::new(SourceKind::Jsm);

    count_organizations(&orgs_bytes, dir, &mut out)?;
    let people = read_team(&team_bytes, dir, settings, &mut out)?;
    let first_ids = first_page_ids(&pages[0], settings)?;
    let files: Vec<u32> = pages.iter().map(|p| out.file(file_name(p))).collect();
    let all = judge_pages(&pages, &files, &first_ids, settings, &people)?;
    let superseded = supersede_repeats(&all);
    let mut cases = Vec::with_capacity(all.len());
    let mut staged = Vec::new();
    for (group, ((file, j), gone)) in all.into_iter().zip(superseded).enumerate() {
        out.read(file, j.records);
        if gone {
            out.skipped(file, j.records);
            continue;
        }
        out.rows(file, j.rows);
        out.skipped(file, j.skipped);
        out.rejects(file, j.rejects);
        cases.extend(j.case);
        staged.extend(j.events.into_iter().map(|mut s| {
            s.group = group as u64;
            s
        }));
    }
    Ok(out.finish(cases, staged))
}

/// Checks `organizations.json` and counts its organizations (read for the
/// counts only: an issue's Organizations field has the ids).
fn count_organizations(bytes: &[u8], dir: &Path, out: &mut Collector) -> Result<(), VendorError> {
    let orgs_path = dir.join(ORGANIZATIONS);
    let orgs: OrganizationsFile = json::parse(bytes, &orgs_path)?;
    if !orgs.values.is_array() {
        return Err(VendorError::Unreadable {
            path: orgs_path,
            reason: "no `values` array (expected GET /rest/servicedeskapi/organization)".into(),
        });
    }
    out.lookup(ORGANIZATIONS.to_string(), orgs.values.items().len() as u64);
    Ok(())
}

/// Reads `service-desk-team.json` into who counts as what: its user actors
/// and the settings' agents are the agents, the settings' automation users
/// automatic; warns of group actors (not expanded) and of a team without
/// an agent.
fn read_team<'s>(
    bytes: &[u8],
    dir: &Path,
    settings: &'s SourceSettings,
    out: &mut Collector,
) -> Result<People<'s>, VendorError> {
    let team_path = dir.join(TEAM);
    let team: Team = json::parse(bytes, &team_path)?;
    if !team.actors.is_array() {
        return Err(VendorError::Unreadable {
            path: team_path,
            reason: "no `actors` array (expected GET /rest/api/3/project/KEY/role/ID)".into(),
        });
    }
    let mut agents: HashSet<String> = settings.agents.users.iter().cloned().collect();
    let mut groups: Vec<String> = Vec::new();
    for actor in team.actors.items().iter().filter_map(Obj::get) {
        match actor.kind.as_str() {
            Some("atlassian-user-role-actor") => {
                if let Some(id) = actor.actor_user.get().and_then(|u| u.account_id.text()) {
                    agents.insert(id.to_string());
                }
            }
            _ => groups.push(actor.display_name.text().unwrap_or("?").to_string()),
        }
    }
    out.lookup(TEAM.to_string(), team.actors.items().len() as u64);
    if !groups.is_empty() {
        out.warn(format!(
            "{TEAM}: group actors ({}) are not expanded: list their members' accountIds under `[source] agents = {{ users = [...] }}`, or their replies count as customer messages",
            groups.join(", ")
        ));
    }
    if agents.is_empty() {
        out.warn(format!(
            "{TEAM}: no agent: no comment can be an agent response"
        ));
    }
    Ok(People {
        agents,
        automation: settings
            .automation_users
            .iter()
            .map(String::as_str)
            .collect(),
    })
}

/// The custom field ids from the first page's `names` (the ids every page
/// is parsed with, unless its own `names` say otherwise).
fn first_page_ids(first: &Path, settings: &SourceSettings) -> Result<CustomIds, VendorError> {
    let first_bytes = std::fs::read(first).map_err(|source| VendorError::Read {
        path: first.to_path_buf(),
        source,
    })?;
    let names: NamesOnly = json::parse(&first_bytes, first)?;
    let empty = HashMap::new();
    Ok(custom_ids(names.names.get().unwrap_or(&empty), settings))
}

/// Parses the issue pages in parallel (each with the custom field ids of
/// its own `names`) and judges every issue; returns the judged issues in
/// page order with their file. The last page must say it is the last.
fn judge_pages(
    pages: &[PathBuf],
    files: &[u32],
    first_ids: &CustomIds,
    settings: &SourceSettings,
    people: &People,
) -> Result<Vec<(u32, Judged)>, VendorError> {
    let org_field = settings.fields.organization.name.as_str();
    let judged: Vec<Result<(Vec<Judged>, bool), VendorError>> = pages
        .par_iter()
        .zip(files)
        .map_init(Vec::new, |buffer, (path, &file)| {
            let bytes = json::read_into(path, buffer)?;
            let mut ids = first_ids.clone();
            let mut page: IssuesPage = with_custom_ids(&ids, || json::parse(bytes, path))?;
            let own = custom_ids(page.names.get().unwrap_or(&HashMap::new()), settings);
            if page.names.get().is_some() && own != ids {
                ids = own;
                page = with_custom_ids(&ids, || json::parse(bytes, path))?;
            }
            if !page.issues.is_array() {
                return Err(VendorError::Unreadable {
                    path: path.clone(),
                    reason: "no `issues` array (expected a search/jql page)".into(),
                });
            }
            let last = page.next_page_token.is_null() && page.is_last.as_bool() != Some(false);
            let judged = page
                .issues
                .items()
                .iter()
                .enumerate()
                .map(|(i, issue)| judge(issue, i as u32, file, settings, people, org_field))
                .collect();
            Ok((judged, last))
        })
        .collect();
    let mut all: Vec<(u32, Judged)> = Vec::new();
    let mut complete = false;
    for (page, &file) in judged.into_iter().zip(files) {
        let (issues, last) = page?;
        complete = last;
        all.extend(issues.into_iter().map(|j| (file, j)));
    }
    if !complete {
        return Err(VendorError::Unreadable {
            path: pages.last().expect("a page").clone(),
            reason: "the last issues page has a `nextPageToken` (or `\"isLast\": false`): the export is incomplete".into(),
        });
    }
    Ok(all)
}

/// Marks the copies of an issue repeated across pages that another copy
/// supersedes: the latest `updated` is kept (the later page on a tie), the
/// others are skipped whole.
fn supersede_repeats(all: &[(u32, Judged)]) -> Vec<bool> {
    let mut kept: PlHashMap<&str, usize> = PlHashMap::with_capacity(all.len());
    let mut superseded = vec![false; all.len()];
    for (i, (_, j)) in all.iter().enumerate() {
        if let Some(key) = j.key.as_deref() {
            match kept.get(key) {
                Some(&p) if all[p].1.updated > j.updated => superseded[i] = true,
                Some(&p) => {
                    superseded[p] = true;
                    kept.insert(key, i);
                }
                None => {
                    kept.insert(key, i);
                }
            }
        }
    }
    superseded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue_keys() {
        assert!(is_issue_key("SUP-1"));
        assert!(is_issue_key("SD_2-1234"));
        assert!(!is_issue_key("SUP"));
        assert!(!is_issue_key("1SUP-2"));
        assert!(!is_issue_key("SUP-"));
        assert!(!is_issue_key("SUP-1a"));
    }
}
