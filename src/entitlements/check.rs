//! The entitlement rules run over one export's judged rows: one
//! [`YearRow`] per account × contract year × yearly service, and one
//! [`Finding`] per breach, with its evidence. Typed rows; the output frames
//! are built in [`crate::output::frames`].

use rayon::prelude::*;
use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::sync::Arc;
use xxhash_rust::xxh3::Xxh3DefaultBuilder;

use super::{
    contact_breaches, contract_years, due_by_now, entitled, expected_by_now, spans, status,
    ContractYear, Named, Status,
};
use crate::ingest::Ingested;
use crate::mapping::Mapping;
use crate::model::{Case, Engagement, Priority, Service};
use crate::policy::entitlements::{language_supported, phone_allowed};
use crate::policy::Policy;
use crate::timestamp::Instant;

/// What the entitlement rules found in one run.
#[derive(Debug, Default)]
pub struct Checked {
    /// `entitlements.parquet`: account × contract year × yearly service.
    pub years: Vec<YearRow>,
    /// `entitlement_findings.parquet`: sorted by account, `at`, rule.
    pub findings: Vec<Finding>,
}

impl Checked {
    /// How many year rows have each status, by name.
    pub fn statuses(&self) -> BTreeMap<&'static str, u64> {
        let mut out = BTreeMap::new();
        for y in &self.years {
            *out.entry(y.status.as_str()).or_default() += 1;
        }
        out
    }

    /// How many findings break each rule, by name.
    pub fn rules(&self) -> BTreeMap<&'static str, u64> {
        let mut out = BTreeMap::new();
        for f in &self.findings {
            *out.entry(f.rule.as_str()).or_default() += 1;
        }
        out
    }
}

/// Runs every entitlement rule at `as_of` over the judged rows and the
/// `measured` cases.
pub fn check<'a>(
    policy: &Policy,
    mapping: &Mapping,
    ingested: &Ingested,
    measured: impl IntoIterator<Item = &'a Case> + Send,
    as_of: Instant,
) -> Checked {
    // Four independent checks, side by side; the findings are put
    // together in the same order whichever ends first.
    let ((years, mut findings), (of_cases, of_services)) = rayon::join(
        || {
            rayon::join(
                || yearly_rows(policy, ingested, as_of),
                || contact_findings(policy, ingested, as_of),
            )
        },
        || {
            rayon::join(
                || case_findings(policy, mapping, measured),
                || service_findings(policy, &ingested.engagements, as_of),
            )
        },
    );
    findings.extend(of_cases);
    findings.extend(of_services);
    sort_findings(&mut findings);
    Checked { years, findings }
}

/// Findings in output order: by account, `at`, rule, then evidence
/// (stable: ties keep the order they were found in).
pub fn sort_findings(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        (&a.account, a.at, a.rule, &a.evidence).cmp(&(&b.account, b.at, b.rule, &b.evidence))
    });
}

/// One yearly service of one contract year of one account.
#[derive(Debug, Clone, PartialEq)]
pub struct YearRow {
    /// Account id.
    pub account: Arc<str>,
    /// Tier index of the span the year belongs to.
    pub tier: usize,
    /// The contract year.
    pub year: ContractYear,
    /// The service.
    pub service: Service,
    /// What the tier promises this year (pro rata for a year cut short).
    pub entitled: u32,
    /// Engagements of that service in the year, delivered by the as-of instant.
    pub delivered: u32,
    /// `entitled` × the share of the year elapsed at the as-of instant.
    pub expected: f64,
    /// Where it stands.
    pub status: Status,
}

/// Every account's year rows, in account order: the accounts side by
/// side, each with its delivered engagements (grouped by account first,
/// looked up by id), counted per contract year ([`AccountYear`]); then
/// the rows, one per year and yearly service, made side by side straight
/// into a list of their exact number. Made account by account into lists
/// of unknown length, they were copied as those grew and again when put
/// together: three times the rows' memory, faulted in page by page
/// (4.4 M rows, 1.1 GB, a fifth of the page faults of a run of 500,000
/// accounts).
fn yearly_rows(policy: &Policy, ingested: &Ingested, as_of: Instant) -> Vec<YearRow> {
    let ent = &policy.entitlements;
    let services = ent.yearly_services();
    let by_account = delivered_by_account(&ingested.engagements, as_of);
    let accounts = ingested.contracts.accounts();
    let years: Vec<AccountYear> = accounts
        .par_iter()
        .flat_map_iter(|&(account, rows)| {
            let delivered = by_account.of(account);
            let mut out = Vec::new();
            for span in spans(rows) {
                for year in contract_years(&span, as_of) {
                    let mut counts = [0; Service::ALL.len()];
                    for e in &delivered {
                        if year.start <= e.delivered_at && e.delivered_at < year.end {
                            counts[e.service as usize] += 1;
                        }
                    }
                    out.push(AccountYear {
                        account,
                        tier: span.tier,
                        year,
                        counts,
                    });
                }
            }
            out
        })
        .collect();
    let year_row = |k: usize| {
        let AccountYear {
            account,
            tier,
            year,
            counts,
        } = &years[k / services.len()];
        let service = services[k % services.len()];
        let launch_advisory = year.number == 1 && counts[Service::LaunchAdvisory as usize] > 0;
        let mut per_year = ent.tiers[*tier].yearly.get(&service).copied().unwrap_or(0);
        if service == Service::FieldActivity && launch_advisory && per_year > 0 {
            per_year = ent.launch_advisory_first_year_field_activities;
        }
        let entitled = entitled(per_year, year);
        let count = counts[service as usize];
        YearRow {
            account: (*account).clone(),
            tier: *tier,
            year: *year,
            service,
            entitled,
            delivered: count,
            expected: expected_by_now(entitled, year, as_of),
            status: status(entitled, count, due_by_now(entitled, year, as_of)),
        }
    };
    let mut rows = Vec::new();
    (0..years.len() * services.len())
        .into_par_iter()
        .map(year_row)
        .collect_into_vec(&mut rows);
    rows
}

/// One contract year of one account, with the engagements delivered in
/// it counted by service (indexed by the service's number, `service as
/// usize`).
struct AccountYear<'a> {
    account: &'a Arc<str>,
    tier: usize,
    year: ContractYear,
    counts: [u32; Service::ALL.len()],
}

/// The engagements delivered by `as_of`, grouped by account: their places
/// sorted by the address of their account's shared id (an engagement's
/// account is the contracts' shared id, so one address is one account),
/// and each account's runs of that list (one per address, should two
/// copies of one id be met). The places are sorted side by side and only
/// the runs, one per account, go into a map by id: a map entry per
/// engagement, on one thread, was 1.8 s of 6.1 M engagements over 500,000
/// accounts.
fn delivered_by_account(engagements: &[Engagement], as_of: Instant) -> ByAccount<'_> {
    let mut order: Vec<(usize, u32)> = engagements
        .par_iter()
        .enumerate()
        .filter(|(_, e)| e.delivered_at <= as_of)
        .map(|(i, e)| (Arc::as_ptr(&e.account) as *const u8 as usize, i as u32))
        .collect();
    order.par_sort_unstable();
    let mut runs: HashMap<&str, Vec<Range<usize>>, Xxh3DefaultBuilder> = HashMap::default();
    let mut start = 0;
    for run in order.chunk_by(|a, b| a.0 == b.0) {
        let account = &*engagements[run[0].1 as usize].account;
        runs.entry(account)
            .or_default()
            .push(start..start + run.len());
        start += run.len();
    }
    ByAccount {
        engagements,
        order,
        runs,
    }
}

/// Engagements grouped by account ([`delivered_by_account`]).
struct ByAccount<'a> {
    engagements: &'a [Engagement],
    order: Vec<(usize, u32)>,
    runs: HashMap<&'a str, Vec<Range<usize>>, Xxh3DefaultBuilder>,
}

impl<'a> ByAccount<'a> {
    /// The engagements of `account`.
    fn of(&self, account: &str) -> Vec<&'a Engagement> {
        self.runs
            .get(account)
            .into_iter()
            .flatten()
            .flat_map(|run| &self.order[run.clone()])
            .map(|&(_, i)| &self.engagements[i as usize])
            .collect()
    }
}

/// The rules a finding can break.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Rule {
    /// More named contacts on one product at once than the tier allows.
    TooManyNamedContacts,
    /// A phone case at an initial priority the tier has no phone support for.
    PhoneNotEntitled,
    /// A case in a language its product is not supported in.
    UnsupportedLanguage,
    /// A service delivered while the tier does not include it.
    ServiceNotEntitled,
}

impl Rule {
    /// Every rule, in order.
    pub const ALL: [Rule; 4] = [
        Rule::TooManyNamedContacts,
        Rule::PhoneNotEntitled,
        Rule::UnsupportedLanguage,
        Rule::ServiceNotEntitled,
    ];

    /// Name in outputs.
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::TooManyNamedContacts => "too_many_named_contacts",
            Rule::PhoneNotEntitled => "phone_not_entitled",
            Rule::UnsupportedLanguage => "unsupported_language",
            Rule::ServiceNotEntitled => "service_not_entitled",
        }
    }
}

/// One breach of an entitlement rule, with its evidence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The rule broken.
    pub rule: Rule,
    /// Account id.
    pub account: Arc<str>,
    /// Tier index in force at `at`.
    pub tier: usize,
    /// Product, when the evidence has one.
    pub product: Option<String>,
    /// When the breach began.
    pub at: Instant,
    /// Contacts: first instant back within the limit.
    pub until: Option<Instant>,
    /// Contacts: the tier's limit.
    pub allowed: Option<u32>,
    /// Contacts: the most named at once during the breach.
    pub observed: Option<u32>,
    /// `contact`, `case` or `engagement`.
    pub evidence_kind: &'static str,
    /// The ids, comma-separated.
    pub evidence: String,
    /// The breach in a sentence.
    pub detail: String,
}

/// The named-contact findings, by account then product (in text order),
/// each product's contacts in file order: the contacts sorted so, then
/// each (account, product) run judged on its own, side by side.
fn contact_findings(policy: &Policy, ingested: &Ingested, as_of: Instant) -> Vec<Finding> {
    let contacts = &ingested.contacts;
    // Sorted by (account, product), a run keeping its contacts in file
    // order: each text ranked once among the few distinct ones, then the
    // contacts sorted by their ranks and row (comparing the texts in the
    // sort was most of the stage, with long account ids).
    // Exports list an account's contacts together: a text the same as the
    // row before's takes its rank without a lookup.
    let accounts = text_ranks(contacts.par_iter().map(|c| &*c.account));
    let products = text_ranks(contacts.par_iter().map(|c| &*c.product));
    let mut order: Vec<(u32, u32, u32)> = contacts
        .par_iter()
        .enumerate()
        .map_init(
            || (Ranked::default(), Ranked::default()),
            |(account, product), (i, c)| {
                let a = account.rank(&accounts, &c.account);
                (a, product.rank(&products, &c.product), i as u32)
            },
        )
        .collect();
    order.par_sort_unstable();
    let order: Vec<u32> = order.into_iter().map(|(_, _, i)| i).collect();
    let key = |i: u32| {
        let c = &contacts[i as usize];
        (&*c.account, &*c.product)
    };
    let runs: Vec<&[u32]> = order.chunk_by(|&a, &b| key(a) == key(b)).collect();
    let limit = |tier: usize| policy.entitlements.tiers[tier].named_contacts_per_product;
    let run_findings = |run: &&[u32]| {
        let first = &contacts[run[0] as usize];
        let (account, product) = (&first.account, &first.product);
        let list: Vec<Named> = run
            .iter()
            .map(|&i| {
                let c = &contacts[i as usize];
                Named {
                    contact_id: c.contact_id.clone(),
                    from: c.added_at,
                    to: c.removed_at,
                }
            })
            .collect();
        let spans = spans(ingested.contracts.rows(account).unwrap_or_default());
        contact_breaches(&list, &spans, limit, as_of)
            .into_iter()
            .map(|b| Finding {
                rule: Rule::TooManyNamedContacts,
                account: account.clone(),
                tier: b.tier,
                product: Some(product.to_string()),
                at: b.from,
                until: b.until,
                allowed: Some(b.allowed),
                observed: Some(b.peak),
                evidence_kind: "contact",
                evidence: b.named_at_peak.join(","),
                detail: format!(
                    "{} named contacts on `{product}` at once; {} allows {} per product",
                    b.peak, policy.tiers[b.tier], b.allowed
                ),
            })
            .collect::<Vec<_>>()
    };
    runs.par_iter().flat_map_iter(run_findings).collect()
}

/// The last text ranked on a thread, and its rank.
#[derive(Default)]
struct Ranked<'t>(Option<(&'t str, u32)>);

impl<'t> Ranked<'t> {
    /// The rank of `text` in `ranks`, looked up unless it is the last one's.
    fn rank(&mut self, ranks: &hashbrown::HashMap<&str, u32>, text: &'t str) -> u32 {
        match self.0 {
            Some((last, rank)) if last == text => rank,
            _ => {
                let rank = ranks[text];
                self.0 = Some((text, rank));
                rank
            }
        }
    }
}

/// Each distinct text of `texts` and its rank in text order (a text the
/// same as the one before it is not hashed again).
fn text_ranks<'t>(
    texts: impl ParallelIterator<Item = &'t str>,
) -> hashbrown::HashMap<&'t str, u32> {
    let mut distinct: Vec<&str> = texts
        .fold(
            || (hashbrown::HashSet::<&str>::default(), None),
            |(mut seen, last), t| {
                if last != Some(t) {
                    seen.insert(t);
                }
                (seen, Some(t))
            },
        )
        .map(|(seen, _)| seen)
        .reduce(hashbrown::HashSet::default, |mut a, b| {
            a.extend(b);
            a
        })
        .into_iter()
        .collect();
    distinct.sort_unstable();
    distinct
        .into_iter()
        .enumerate()
        .map(|(rank, t)| (t, rank as u32))
        .collect()
}

fn case_findings<'a>(
    policy: &Policy,
    mapping: &Mapping,
    measured: impl IntoIterator<Item = &'a Case>,
) -> Vec<Finding> {
    let ent = &policy.entitlements;
    let mut out = Vec::new();
    for case in measured {
        let product = case.product.as_deref();
        let finding = |rule: Rule, detail: String| Finding {
            rule,
            account: case.account.clone(),
            tier: usize::from(case.tier),
            product: product.map(str::to_string),
            at: case.created_at,
            until: None,
            allowed: None,
            observed: None,
            evidence_kind: "case",
            evidence: case.id.to_string(),
            detail,
        };
        if let Some(channel) = case.channel.as_deref().map(|c| mapping.value("channel", c)) {
            if !phone_allowed(ent, usize::from(case.tier), channel, case.priority) {
                let allowed: Vec<&str> = Priority::ALL
                    .iter()
                    .filter(|p| ent.tiers[usize::from(case.tier)].phone[p.index()])
                    .map(|p| p.as_str())
                    .collect();
                let allowed = if allowed.is_empty() {
                    "no priority".to_string()
                } else {
                    allowed.join(", ") + " only"
                };
                out.push(finding(
                    Rule::PhoneNotEntitled,
                    format!(
                        "phone case opened at {}; {} has phone support for {allowed}",
                        case.priority,
                        policy.tiers[usize::from(case.tier)]
                    ),
                ));
            }
        }
        if let Some(language) = case
            .language
            .as_deref()
            .map(|l| mapping.value("language", l))
        {
            if !language_supported(ent, product, language) {
                let list = product
                    .and_then(|p| ent.product_languages.get(p))
                    .unwrap_or(&ent.languages);
                let what = product
                    .map(|p| format!("for `{p}`"))
                    .unwrap_or_else(|| "(no product)".into());
                out.push(finding(
                    Rule::UnsupportedLanguage,
                    format!(
                        "language `{language}` is not supported {what} (supported: {})",
                        list.join(", ")
                    ),
                ));
            }
        }
    }
    out
}

fn service_findings(policy: &Policy, engagements: &[Engagement], as_of: Instant) -> Vec<Finding> {
    engagements
        .iter()
        .filter(|e| e.delivered_at <= as_of && !policy.entitlements.includes(e.tier, e.service))
        .map(|e| {
            let tier = &policy.tiers[e.tier];
            Finding {
                rule: Rule::ServiceNotEntitled,
                account: e.account.clone(),
                tier: e.tier,
                product: e.product.as_deref().map(str::to_string),
                at: e.delivered_at,
                until: None,
                allowed: None,
                observed: None,
                evidence_kind: "engagement",
                evidence: e.evidence(),
                detail: format!(
                    "`{}` delivered while the account is on {tier}, which does not include it",
                    e.service.as_str()
                ),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// Texts in runs and not (few letters: many repeats), ranked as
        /// the contacts are: each gets its place among the sorted
        /// distinct texts, whether the one before it was the same or not.
        #[test]
        fn texts_in_runs_or_not_get_their_place_in_text_order(
            texts in proptest::collection::vec("[ab]{0,2}", 0..80)
        ) {
            let ranks = text_ranks(texts.par_iter().map(String::as_str));
            let mut sorted: Vec<&str> = texts.iter().map(String::as_str).collect();
            sorted.sort_unstable();
            sorted.dedup();
            let mut last = Ranked::default();
            for t in &texts {
                let want = sorted.binary_search(&t.as_str()).unwrap() as u32;
                proptest::prop_assert_eq!(last.rank(&ranks, t), want);
            }
            proptest::prop_assert_eq!(ranks.len(), sorted.len());
        }
    }

    #[test]
    fn engagements_group_by_account_text_whatever_copy_of_the_id_they_hold() {
        // Two copies of account A's id (as a hand-built export may hold),
        // one of B's; rows interleaved, one delivered after the as-of.
        let (a1, a2, b): (Arc<str>, Arc<str>, Arc<str>) = ("A".into(), "A".into(), "B".into());
        let engagement = |row: u32, account: &Arc<str>, at: Instant| Engagement {
            row,
            account: account.clone(),
            id: None,
            service: Service::ServiceReview,
            track: None,
            delivered_at: at,
            product: None,
            tier: 0,
        };
        let all = [
            engagement(0, &a1, 10),
            engagement(1, &b, 10),
            engagement(2, &a2, 10),
            engagement(3, &a1, 99),
            engagement(4, &a2, 20),
            engagement(5, &a1, 30),
        ];
        let grouped = delivered_by_account(&all, 50);
        let rows = |account: &str| {
            let mut rows: Vec<u32> = grouped.of(account).iter().map(|e| e.row).collect();
            rows.sort_unstable();
            rows
        };
        assert_eq!(rows("A"), [0, 2, 4, 5]);
        assert_eq!(rows("B"), [1]);
        assert!(rows("C").is_empty());
    }

    #[test]
    fn text_ranks_follow_text_order_and_equal_texts_share_a_rank() {
        // Equal texts at different addresses, and more texts than one
        // worker's share.
        let owned: Vec<String> = (0..5000)
            .map(|i| format!("acc-{:04}", (i * 7919) % 1000))
            .collect();
        let ranks = text_ranks(owned.par_iter().map(String::as_str));
        assert_eq!(ranks.len(), 1000);
        for (text, rank) in &ranks {
            assert_eq!(*text, format!("acc-{rank:04}"));
        }
    }
}
