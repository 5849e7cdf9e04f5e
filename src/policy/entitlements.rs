//! The `[entitlements]` section of a policy: what each tier includes
//! besides response targets (in our words in
//! `docs/rules.md`): named contacts per product, the initial priorities a
//! phone case may have, services included and services counted per
//! contract year, and the languages support is given in. Pure: no polars,
//! no I/O.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::model::{Priority, Service};

/// The `[entitlements]` section of a policy file, as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEntitlements {
    languages: Vec<String>,
    #[serde(default)]
    product_languages: BTreeMap<String, Vec<String>>,
    launch_advisory_first_year_field_activities: u32,
    tiers: BTreeMap<String, RawTier>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTier {
    named_contacts_per_product: u32,
    phone_priorities: Vec<String>,
    #[serde(default)]
    services: Vec<String>,
    #[serde(default)]
    yearly: BTreeMap<String, u32>,
}

/// What one tier includes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TierEntitlements {
    /// Named support contacts allowed per product at any moment.
    pub named_contacts_per_product: u32,
    /// Initial priorities a phone case may have (`phone[priority.index()]`).
    pub phone: [bool; 4],
    /// Services included without a yearly count.
    pub services: Vec<Service>,
    /// Services counted per contract year, with their count.
    pub yearly: BTreeMap<Service, u32>,
}

/// The validated `[entitlements]` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntitlementPolicy {
    /// Languages support is given in (lower case), unless the product says otherwise.
    pub languages: Vec<String>,
    /// Languages per product, replacing `languages` for that product.
    pub product_languages: BTreeMap<String, Vec<String>>,
    /// Field activities in year 1 of a span when a Launch Advisory was delivered in it.
    pub launch_advisory_first_year_field_activities: u32,
    /// Per tier, in the policy's tier order.
    pub tiers: Vec<TierEntitlements>,
}

impl EntitlementPolicy {
    /// Validates the raw section against the policy's tiers (names sorted as
    /// in [`crate::policy::Policy::tiers`]). Errors are `(dotted key, reason)`.
    pub fn from_raw(raw: &RawEntitlements, tiers: &[String]) -> Result<Self, (String, String)> {
        let lang = |key: String, list: &[String]| -> Result<Vec<String>, (String, String)> {
            if list.is_empty() {
                return Err((key, "no language listed".into()));
            }
            list.iter()
                .map(|l| {
                    let code = language_code(l);
                    if code.is_empty() || !code.bytes().all(|b| b.is_ascii_lowercase()) {
                        Err((
                            key.clone(),
                            format!("`{l}` is not a language code such as `en`"),
                        ))
                    } else {
                        Ok(code)
                    }
                })
                .collect()
        };
        let languages = lang("entitlements.languages".into(), &raw.languages)?;
        let mut product_languages = BTreeMap::new();
        for (product, list) in &raw.product_languages {
            product_languages.insert(
                product.clone(),
                lang(format!("entitlements.product_languages.{product}"), list)?,
            );
        }
        for name in raw.tiers.keys() {
            if !tiers.contains(name) {
                return Err((
                    format!("entitlements.tiers.{name}"),
                    format!("unknown tier (the targets define {})", tiers.join(", ")),
                ));
            }
        }
        let kind = |key: &str, name: &str| {
            Service::parse(name).ok_or_else(|| {
                let known: Vec<&str> = Service::ALL.iter().map(|k| k.as_str()).collect();
                (
                    key.to_string(),
                    format!(
                        "unknown service `{name}` (expected one of {})",
                        known.join(", ")
                    ),
                )
            })
        };
        let mut out = Vec::with_capacity(tiers.len());
        for tier in tiers {
            let key = |k: &str| format!("entitlements.tiers.{tier}.{k}");
            let raw = raw.tiers.get(tier).ok_or_else(|| {
                (
                    format!("entitlements.tiers.{tier}"),
                    "missing tier".to_string(),
                )
            })?;
            let mut phone = [false; 4];
            for p in &raw.phone_priorities {
                let p: Priority = p.parse().map_err(|e| (key("phone_priorities"), e))?;
                phone[p.index()] = true;
            }
            let mut yearly = BTreeMap::new();
            for (name, &count) in &raw.yearly {
                yearly.insert(kind(&key("yearly"), name)?, count);
            }
            let mut services = Vec::new();
            for name in &raw.services {
                let k = kind(&key("services"), name)?;
                if yearly.contains_key(&k) {
                    return Err((
                        key("services"),
                        format!("`{name}` is also counted in `yearly`"),
                    ));
                }
                services.push(k);
            }
            out.push(TierEntitlements {
                named_contacts_per_product: raw.named_contacts_per_product,
                phone,
                services,
                yearly,
            });
        }
        Ok(EntitlementPolicy {
            languages,
            product_languages,
            launch_advisory_first_year_field_activities: raw
                .launch_advisory_first_year_field_activities,
            tiers: out,
        })
    }

    /// Services counted per contract year by at least one tier, in [`Service::ALL`] order.
    pub fn yearly_services(&self) -> Vec<Service> {
        Service::ALL
            .into_iter()
            .filter(|k| self.tiers.iter().any(|t| t.yearly.contains_key(k)))
            .collect()
    }

    /// Whether `tier` includes `service` (a yearly count above 0, or listed
    /// among its services).
    pub fn includes(&self, tier: usize, service: Service) -> bool {
        let t = &self.tiers[tier];
        t.services.contains(&service) || t.yearly.get(&service).is_some_and(|&n| n > 0)
    }
}

/// The primary language subtag, lower case: `en-US` → `en`, `JA` → `ja`.
pub fn language_code(language: &str) -> String {
    language
        .trim()
        .split(['-', '_'])
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase()
}

/// Whether support is given in `language` for `product` (its own list in
/// the policy, else the policy's `languages`).
pub fn language_supported(
    policy: &EntitlementPolicy,
    product: Option<&str>,
    language: &str,
) -> bool {
    let list = product
        .and_then(|p| policy.product_languages.get(p))
        .unwrap_or(&policy.languages);
    list.contains(&language_code(language))
}

/// Whether a case opened on `channel` at `initial` priority is within
/// `tier`'s phone support (always true for channels other than `phone`).
pub fn phone_allowed(
    policy: &EntitlementPolicy,
    tier: usize,
    channel: &str,
    initial: Priority,
) -> bool {
    !channel.trim().eq_ignore_ascii_case("phone") || policy.tiers[tier].phone[initial.index()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> EntitlementPolicy {
        crate::policy::Policy::bundled().entitlements
    }

    const ELITE: usize = 0; // tiers sort by name: Elite, Online
    const ONLINE: usize = 1;

    #[test]
    fn bundled_policy_matches_the_spec_table() {
        let p = policy();
        let elite = &p.tiers[ELITE];
        assert_eq!(elite.named_contacts_per_product, 15);
        assert_eq!(elite.phone, [true; 4]);
        assert_eq!(
            elite.yearly,
            BTreeMap::from([
                (Service::ServiceReview, 4),
                (Service::ExpertSession, 4),
                (Service::FieldActivity, 4)
            ])
        );
        assert_eq!(
            elite.services,
            [Service::LaunchAdvisory, Service::CaseReview]
        );
        let online = &p.tiers[ONLINE];
        assert_eq!(online.named_contacts_per_product, 4);
        assert_eq!(online.phone, [true, false, false, false]);
        assert!(online.yearly.is_empty() && online.services.is_empty());
        assert_eq!(p.launch_advisory_first_year_field_activities, 0);
        assert_eq!(
            p.yearly_services(),
            [
                Service::ServiceReview,
                Service::ExpertSession,
                Service::FieldActivity
            ]
        );
        assert!(p.includes(ELITE, Service::CaseReview) && !p.includes(ONLINE, Service::CaseReview));
    }

    #[test]
    fn phone_support_is_by_initial_priority() {
        let p = policy();
        assert!(phone_allowed(&p, ONLINE, "phone", Priority::P1));
        assert!(!phone_allowed(&p, ONLINE, "Phone", Priority::P2));
        assert!(phone_allowed(&p, ONLINE, "web", Priority::P4));
        assert!(phone_allowed(&p, ELITE, "phone", Priority::P4));
    }

    #[test]
    fn languages_english_and_japanese_except_commerce() {
        let p = policy();
        assert!(language_supported(&p, Some("Adobe Analytics"), "ja"));
        assert!(language_supported(&p, Some("Adobe Analytics"), "en-US"));
        assert!(language_supported(&p, None, "JA"));
        assert!(!language_supported(&p, Some("Adobe Commerce"), "ja"));
        assert!(language_supported(&p, Some("Adobe Commerce"), "en"));
        assert!(!language_supported(&p, Some("Adobe Analytics"), "fr"));
    }
}
