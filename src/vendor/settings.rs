//! The `[source]` section of a mapping file: what one organisation's vendor
//! export needs beyond the vendor's defaults (priority labels, closed
//! statuses, automation users, custom field names, who counts as an agent,
//! how unattributable messages are treated).
//!
//! ```toml
//! [source]
//! kind = "zendesk"                       # must equal --source
//! closed_statuses = ["solved", "closed"]
//! automation_users = [381234567]         # their public comments -> auto_response
//! unknown_author = "reject"              # or "skip" | "customer_update"
//! unset_priority = "first_set"           # or "empty"
//! priority = { urgent = "P1", high = "P2", normal = "P3", low = "P4" }
//! fields = { product = "Product", language = 360001234567 }
//! agents = { users = [361111111] }       # former agents, whatever their role now
//! ```
//!
//! Every key is optional except `kind`; a missing key keeps the vendor's
//! default ([`SourceSettings::defaults`]). `priority`, when given, replaces
//! the default map whole. Unknown keys, and keys that do not apply to the
//! kind (`automation_addresses` outside Salesforce), are refused with a
//! message naming them.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;

use crate::model::Priority;

/// Which vendor an export comes from.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    /// Salesforce Service Cloud: Bulk API 2.0 / Data Loader CSV files.
    Salesforce,
    /// Zendesk Support: API JSON pages.
    Zendesk,
    /// Jira Service Management: REST API v3 JSON pages.
    Jsm,
}

impl SourceKind {
    /// All kinds.
    pub const ALL: [SourceKind; 3] = [SourceKind::Salesforce, SourceKind::Zendesk, SourceKind::Jsm];

    /// `salesforce`, `zendesk` or `jsm`.
    pub fn name(self) -> &'static str {
        match self {
            SourceKind::Salesforce => "salesforce",
            SourceKind::Zendesk => "zendesk",
            SourceKind::Jsm => "jsm",
        }
    }
}

impl fmt::Display for SourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What to do with a message whose author cannot be classified
/// (`unknown_user`, `unknown_author`, `missing_author`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnknownAuthor {
    /// Reject it with its reason (the default): nothing is guessed.
    #[default]
    Reject,
    /// Count it as skipped: it becomes no event.
    Skip,
    /// Take it as a customer message (it can then never stop the clock).
    CustomerUpdate,
}

/// The initial priority of a case created without one (Zendesk e-mail
/// tickets) whose priority was set later.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnsetPriority {
    /// The first value set is the priority from creation (the default; what
    /// Zendesk's own SLA policies do: targets count from creation once a
    /// policy applies).
    #[default]
    FirstSet,
    /// Leave the priority empty: the pipeline rejects the case
    /// (`unknown_priority`).
    Empty,
}

/// A field of the vendor export, by name or id, and whether the mapping
/// file named it (an explicitly named field that the export lacks is an
/// error; a default one is simply absent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldRef {
    /// Column name (Salesforce), ticket field title or id (Zendesk), field
    /// name or id (JSM).
    pub name: String,
    /// Given in the mapping file rather than defaulted.
    pub explicit: bool,
}

impl FieldRef {
    fn default_named(name: &str) -> Self {
        FieldRef {
            name: name.to_string(),
            explicit: false,
        }
    }
}

/// Where the case dimensions come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fields {
    /// `product`.
    pub product: FieldRef,
    /// `language`.
    pub language: FieldRef,
    /// `account_id`.
    pub organization: FieldRef,
    /// `channel`.
    pub channel: FieldRef,
}

/// Who counts as an agent (their public replies are `agent_response`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agents {
    /// Salesforce `User.UserType` values of agents (default `Standard`).
    pub user_types: Vec<String>,
    /// Zendesk `users.json` roles of agents (default `agent`, `admin`).
    pub roles: Vec<String>,
    /// User ids that are agents whatever their type, role or team (e.g.
    /// former agents, whose current role no longer says so).
    pub users: Vec<String>,
}

/// Validated settings of one vendor import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceSettings {
    /// The vendor.
    pub kind: SourceKind,
    /// Statuses that close a case. `None`: the vendor default (Salesforce:
    /// `CaseStatus.csv` rows with `IsClosed`, else `Closed`; Zendesk:
    /// `solved`, `closed`; JSM: the `resolution` field decides).
    pub closed_statuses: Option<Vec<String>>,
    /// User ids whose messages are automatic (`auto_response`).
    pub automation_users: Vec<String>,
    /// Salesforce sender addresses (`FromAddress`) of automatic mail,
    /// compared without case.
    pub automation_addresses: Vec<String>,
    /// Messages whose author cannot be classified.
    pub unknown_author: UnknownAuthor,
    /// Vendor priority label → canonical priority; unlisted labels are
    /// `unmapped_value`.
    pub priority: BTreeMap<String, Priority>,
    /// Case dimension fields.
    pub fields: Fields,
    /// Who counts as an agent.
    pub agents: Agents,
    /// A case created without a priority.
    pub unset_priority: UnsetPriority,
}

impl SourceSettings {
    /// The vendor's defaults.
    pub fn defaults(kind: SourceKind) -> Self {
        let labels: [&str; 4] = match kind {
            SourceKind::Salesforce => ["Critical", "High", "Medium", "Low"],
            SourceKind::Zendesk => ["urgent", "high", "normal", "low"],
            SourceKind::Jsm => ["Highest", "High", "Medium", "Low"],
        };
        let priority = labels
            .iter()
            .zip(Priority::ALL)
            .map(|(l, p)| (l.to_string(), p))
            .collect();
        let fields = match kind {
            SourceKind::Salesforce => Fields {
                product: FieldRef::default_named("Product__c"),
                language: FieldRef::default_named("Language__c"),
                organization: FieldRef::default_named("AccountId"),
                channel: FieldRef::default_named("Origin"),
            },
            SourceKind::Zendesk => Fields {
                product: FieldRef::default_named("Product"),
                language: FieldRef::default_named("Support language"),
                organization: FieldRef::default_named(ZENDESK_ORGANIZATION),
                channel: FieldRef::default_named(ZENDESK_CHANNEL),
            },
            SourceKind::Jsm => Fields {
                product: FieldRef::default_named("Product"),
                language: FieldRef::default_named("Support language"),
                organization: FieldRef::default_named("Organizations"),
                channel: FieldRef::default_named("Contact channel"),
            },
        };
        SourceSettings {
            kind,
            closed_statuses: match kind {
                SourceKind::Zendesk => Some(vec!["solved".into(), "closed".into()]),
                SourceKind::Salesforce | SourceKind::Jsm => None,
            },
            automation_users: Vec::new(),
            automation_addresses: Vec::new(),
            unknown_author: UnknownAuthor::Reject,
            priority,
            fields,
            agents: Agents {
                user_types: vec!["Standard".into()],
                roles: vec!["agent".into(), "admin".into()],
                users: Vec::new(),
            },
            unset_priority: UnsetPriority::FirstSet,
        }
    }

    /// The canonical priority of a vendor label (exact match, trimmed).
    pub fn priority_of(&self, label: &str) -> Option<Priority> {
        self.priority.get(label.trim()).copied()
    }
}

/// The default Zendesk organization field: the ticket's `organization_id`.
pub const ZENDESK_ORGANIZATION: &str = "organization_id";
/// The default Zendesk channel field: the ticket's `via.channel`.
pub const ZENDESK_CHANNEL: &str = "via.channel";

/// An id written as a TOML string or integer (Zendesk ids are numbers).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
enum Id {
    Text(String),
    Number(i64),
}

impl Id {
    fn text(self) -> String {
        match self {
            Id::Text(s) => s.trim().to_string(),
            Id::Number(n) => n.to_string(),
        }
    }
}

/// The `[source]` table as written (see the module docs).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSource {
    kind: SourceKind,
    #[serde(default)]
    closed_statuses: Option<Vec<String>>,
    #[serde(default)]
    automation_users: Option<Vec<Id>>,
    #[serde(default)]
    automation_addresses: Option<Vec<String>>,
    #[serde(default)]
    unknown_author: Option<UnknownAuthor>,
    #[serde(default)]
    unset_priority: Option<UnsetPriority>,
    #[serde(default)]
    priority: Option<BTreeMap<String, String>>,
    #[serde(default)]
    fields: Option<RawFields>,
    #[serde(default)]
    agents: Option<RawAgents>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFields {
    #[serde(default)]
    product: Option<Id>,
    #[serde(default)]
    language: Option<Id>,
    #[serde(default)]
    organization: Option<Id>,
    #[serde(default)]
    channel: Option<Id>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAgents {
    #[serde(default)]
    user_types: Option<Vec<String>>,
    #[serde(default)]
    roles: Option<Vec<String>>,
    #[serde(default)]
    users: Option<Vec<Id>>,
}

impl RawSource {
    /// The kind named in the section.
    pub fn kind(&self) -> SourceKind {
        self.kind
    }

    /// Validates the section into settings; the error names the key at
    /// fault (`source.priority.Lowest`).
    pub fn resolve(self) -> Result<SourceSettings, String> {
        let kind = self.kind;
        let mut s = SourceSettings::defaults(kind);
        let only = |key: &str, want: SourceKind| -> Result<(), String> {
            if kind == want {
                Ok(())
            } else {
                Err(format!(
                    "`source.{key}` applies to {want} exports only (this section is `kind = \"{kind}\"`)"
                ))
            }
        };
        if let Some(statuses) = self.closed_statuses {
            let statuses: Vec<String> =
                statuses.into_iter().map(|v| v.trim().to_string()).collect();
            if statuses.iter().any(String::is_empty) {
                return Err("`source.closed_statuses`: empty status name".into());
            }
            s.closed_statuses = Some(statuses);
        }
        if let Some(users) = self.automation_users {
            s.automation_users = users.into_iter().map(Id::text).collect();
        }
        if let Some(addresses) = self.automation_addresses {
            only("automation_addresses", SourceKind::Salesforce)?;
            s.automation_addresses = addresses
                .into_iter()
                .map(|a| a.trim().to_lowercase())
                .collect();
        }
        if let Some(u) = self.unknown_author {
            s.unknown_author = u;
        }
        if let Some(u) = self.unset_priority {
            s.unset_priority = u;
        }
        if let Some(map) = self.priority {
            if map.is_empty() {
                return Err("`source.priority` is empty: no case could get a priority".into());
            }
            s.priority = map
                .into_iter()
                .map(|(label, p)| {
                    p.parse::<Priority>()
                        .map(|p| (label.trim().to_string(), p))
                        .map_err(|_| {
                            format!(
                                "`source.priority.{label}`: `{p}` is not a priority (expected P1, P2, P3 or P4)"
                            )
                        })
                })
                .collect::<Result<_, _>>()?;
        }
        if let Some(fields) = self.fields {
            let set = |slot: &mut FieldRef, v: Option<Id>, key: &str| -> Result<(), String> {
                if let Some(v) = v {
                    let name = v.text();
                    if name.is_empty() {
                        return Err(format!("`source.fields.{key}` is empty"));
                    }
                    *slot = FieldRef {
                        name,
                        explicit: true,
                    };
                }
                Ok(())
            };
            set(&mut s.fields.product, fields.product, "product")?;
            set(&mut s.fields.language, fields.language, "language")?;
            set(
                &mut s.fields.organization,
                fields.organization,
                "organization",
            )?;
            set(&mut s.fields.channel, fields.channel, "channel")?;
        }
        if let Some(agents) = self.agents {
            if let Some(types) = agents.user_types {
                only("agents.user_types", SourceKind::Salesforce)?;
                s.agents.user_types = types.into_iter().map(|t| t.trim().to_string()).collect();
            }
            if let Some(roles) = agents.roles {
                only("agents.roles", SourceKind::Zendesk)?;
                s.agents.roles = roles.into_iter().map(|t| t.trim().to_string()).collect();
            }
            if let Some(users) = agents.users {
                s.agents.users = users.into_iter().map(Id::text).collect();
            }
        }
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<SourceSettings, String> {
        #[derive(Deserialize)]
        struct Wrap {
            source: RawSource,
        }
        toml::from_str::<Wrap>(text)
            .map_err(|e| e.message().to_string())?
            .source
            .resolve()
    }

    #[test]
    fn zendesk_defaults_without_keys() {
        let s = parse("[source]\nkind = \"zendesk\"\n").unwrap();
        assert_eq!(s, SourceSettings::defaults(SourceKind::Zendesk));
        assert_eq!(s.priority_of("urgent"), Some(Priority::P1));
        assert_eq!(s.priority_of("Urgent"), None);
        assert_eq!(
            s.closed_statuses.as_deref(),
            Some(&["solved".to_string(), "closed".to_string()][..])
        );
    }

    #[test]
    fn jsm_lowest_can_be_mapped_to_p4_and_replaces_the_map() {
        let s =
            parse("[source]\nkind = \"jsm\"\npriority = { Lowest = \"P4\", Highest = \"P1\" }\n")
                .unwrap();
        assert_eq!(s.priority_of("Lowest"), Some(Priority::P4));
        assert_eq!(
            s.priority_of("High"),
            None,
            "a given map replaces the default"
        );
    }

    #[test]
    fn ids_may_be_numbers_or_strings() {
        let s = parse(
            "[source]\nkind = \"zendesk\"\nautomation_users = [381234567, \"42\"]\nfields = { language = 360001 }\nagents = { users = [7], roles = [\"agent\"] }\n",
        )
        .unwrap();
        assert_eq!(s.automation_users, vec!["381234567", "42"]);
        assert_eq!(
            s.fields.language,
            FieldRef {
                name: "360001".into(),
                explicit: true
            }
        );
        assert!(!s.fields.product.explicit);
        assert_eq!(s.agents.users, vec!["7"]);
    }

    #[test]
    fn unknown_keys_are_named() {
        let err =
            parse("[source]\nkind = \"zendesk\"\nclosed_status = [\"solved\"]\n").unwrap_err();
        assert!(err.contains("unknown field `closed_status`"), "{err}");
        let err = parse("[source]\nkind = \"jsm\"\nfields = { prodcut = \"P\" }\n").unwrap_err();
        assert!(err.contains("unknown field `prodcut`"), "{err}");
    }

    #[test]
    fn keys_of_another_vendor_are_refused() {
        let err = parse("[source]\nkind = \"zendesk\"\nautomation_addresses = [\"noreply@x\"]\n")
            .unwrap_err();
        assert_eq!(
            err,
            "`source.automation_addresses` applies to salesforce exports only (this section is `kind = \"zendesk\"`)"
        );
        let err = parse("[source]\nkind = \"salesforce\"\nagents = { roles = [\"agent\"] }\n")
            .unwrap_err();
        assert!(
            err.starts_with("`source.agents.roles` applies to zendesk"),
            "{err}"
        );
    }

    #[test]
    fn bad_priority_and_unknown_author_values_are_refused() {
        let err = parse("[source]\nkind = \"salesforce\"\npriority = { Critical = \"P0\" }\n")
            .unwrap_err();
        assert_eq!(
            err,
            "`source.priority.Critical`: `P0` is not a priority (expected P1, P2, P3 or P4)"
        );
        let err =
            parse("[source]\nkind = \"salesforce\"\nunknown_author = \"guess\"\n").unwrap_err();
        assert!(err.contains("unknown variant `guess`"), "{err}");
        let err = parse("[source]\nkind = \"servicenow\"\n").unwrap_err();
        assert!(err.contains("unknown variant `servicenow`"), "{err}");
    }

    #[test]
    fn automation_addresses_compare_without_case() {
        let s = parse("[source]\nkind = \"salesforce\"\nautomation_addresses = [\"NoReply@Example.com \"]\nunknown_author = \"customer_update\"\n").unwrap();
        assert_eq!(s.automation_addresses, vec!["noreply@example.com"]);
        assert_eq!(s.unknown_author, UnknownAuthor::CustomerUpdate);
    }
}
