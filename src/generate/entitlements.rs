//! Synthetic `engagements.csv` and `contacts.csv` for the demo export: what
//! was delivered to each account, and who is named on each product.
//!
//! The accounts are those of [`super::generate`] (replayed from the same
//! seed, so the three other files are untouched); every random draw here
//! comes from a second generator seeded from the same seed, so the output
//! is as deterministic as the rest.
//!
//! - **engagements**: for every contract year of an Elite contract that
//!   began before the end of the generated year, service reviews, expert
//!   sessions and field activities (technical or strategic) spread over the
//!   year: mostly all four of each, sometimes one missing or late, rarely
//!   one extra; case reviews now and then; a Launch Advisory early in year
//!   one of a contract begun in the last two years, and then no field
//!   activities that year. A few Online accounts are given an expert session
//!   or a service review all the same. Nothing later than two days before
//!   the end of the generated year (before the export's as-of instant).
//! - **contacts**: each account names contacts on each of its products,
//!   `CT-<account>-<nn>` like the cases' contacts, within the tier's limit
//!   (4 Online, 15 Elite) — except some accounts with more contacts than
//!   that, which name them all — with some turnover: a contact removed and a
//!   replacement named a little later, or a little *before* (for a few days
//!   the product has one contact too many).

use std::io::{self, Write};

use super::GenerateOptions;
use super::{
    civil_from_days, days_from_civil, make_accounts, push_account_id, push_num, push_ts, weekday,
    Account, Region, Rng, Tier, DAY_MS, HOUR_MS, MIN_MS, PRODUCTS, SEC_MS,
};

/// Header row of `engagements.csv`.
pub const ENGAGEMENTS_HEADER: &str = "engagement_id,account_id,kind,track,delivered_at,product";
/// Header row of `contacts.csv`.
pub const CONTACTS_HEADER: &str = "account_id,product,contact_id,added_at,removed_at";

/// `(engagements_csv, contacts_csv)` of the export [`super::generate`] writes.
pub fn generate_entitlements_to_memory(opts: &GenerateOptions) -> (Vec<u8>, Vec<u8>) {
    let year = i64::from(opts.year);
    // Same seed, same first draws: the accounts of the main export.
    let accounts = make_accounts(&mut Rng::new(opts.seed), opts.accounts, year);
    let mut rng = Rng::new(opts.seed ^ 0x656e_7469_746c_6564);
    let end = days_from_civil(year + 1, 1, 1) * DAY_MS - 2 * DAY_MS;
    let mut engagements = Vec::new();
    let mut contacts = Vec::new();
    write_engagements(&mut engagements, &mut rng, &accounts, year, end)
        .expect("writing into a Vec<u8> cannot fail");
    write_contacts(&mut contacts, &mut rng, &accounts, end)
        .expect("writing into a Vec<u8> cannot fail");
    (engagements, contacts)
}

fn days_in_month(y: i64, m: i64) -> i64 {
    days_from_civil(y + i64::from(m == 12), m % 12 + 1, 1) - days_from_civil(y, m, 1)
}

/// `from` plus `years` years on the region's wall clock (29 Feb → 28 Feb).
fn anniversary(region: Region, from: i64, years: i64) -> i64 {
    let local = from + region.offset_secs(from) * SEC_MS;
    let (y, m, d) = civil_from_days(local.div_euclid(DAY_MS));
    let d = d.min(days_in_month(y + years, m));
    region.local_to_utc(days_from_civil(y + years, m, d) * DAY_MS + local.rem_euclid(DAY_MS))
}

/// A weekday office-hours instant near `t` in the region.
fn office_time(rng: &mut Rng, region: Region, t: i64) -> i64 {
    let mut day = (t + region.offset_secs(t) * SEC_MS).div_euclid(DAY_MS);
    while weekday(day) >= 5 {
        day += 1;
    }
    let minute = 9 * 60 + rng.range(0, 14) * 30;
    region.local_to_utc(day * DAY_MS + minute * MIN_MS)
}

struct Row {
    at: i64,
    account: usize,
    kind: &'static str,
    track: &'static str,
    product: Option<usize>,
}

fn write_engagements(
    out: &mut dyn Write,
    rng: &mut Rng,
    accounts: &[Account],
    year: i64,
    end: i64,
) -> io::Result<()> {
    let mut rows: Vec<Row> = Vec::new();
    let recent = days_from_civil(year - 1, 1, 1) * DAY_MS;
    for (a, acc) in accounts.iter().enumerate() {
        let product = |rng: &mut Rng| acc.products[rng.below(acc.products.len() as u64) as usize];
        // This account's rows are the tail of `rows` from here on.
        let first = rows.len();
        for c in &acc.contracts {
            let mut start = c.from;
            let mut number = 1;
            while start < end && c.to.is_none_or(|to| start < to) {
                let next = anniversary(acc.region, c.from, number);
                let stop = c.to.map_or(next, |to| to.min(next));
                let length = next - start;
                match c.tier {
                    Tier::Elite => {
                        let year = Year {
                            number,
                            start,
                            length,
                            first_of_recent: c.from >= recent,
                        };
                        elite_year(rng, &mut rows, a, acc, &year);
                    }
                    Tier::Online => {
                        if next > end - 365 * DAY_MS && rng.chance(0.12) {
                            let kind = if rng.chance(0.6) {
                                "expert_session"
                            } else {
                                "service_review"
                            };
                            let at = start + (rng.f64() * length as f64) as i64;
                            let product = (kind == "expert_session").then(|| product(rng));
                            rows.push(Row {
                                at,
                                account: a,
                                kind,
                                track: "",
                                product,
                            });
                        }
                    }
                }
                // Only what happened inside the contract and before the export
                // (other accounts' rows, before `first`, are not this one's).
                retain_from(&mut rows, first, |r| {
                    r.at < start || (r.at < stop && r.at < end)
                });
                start = stop;
                number += 1;
            }
        }
    }
    for r in rows.iter_mut() {
        r.at = office_time(rng, accounts[r.account].region, r.at);
    }
    rows.retain(|r| {
        let acc = &accounts[r.account];
        r.at < end
            && acc
                .contracts
                .iter()
                .any(|c| c.from <= r.at && c.to.is_none_or(|to| r.at < to))
    });
    rows.sort_by_key(|r| (r.at, accounts[r.account].num));
    write_engagement_rows(out, &rows, accounts)
}

/// `rows.retain(keep)` for the rows from `first` on, the others kept
/// untouched, in order: filtering the whole list each contract year made
/// the generator quadratic in accounts (16,000 accounts: 4 s).
fn retain_from(rows: &mut Vec<Row>, first: usize, keep: impl Fn(&Row) -> bool) {
    let mut kept = first;
    for i in first..rows.len() {
        if keep(&rows[i]) {
            rows.swap(kept, i);
            kept += 1;
        }
    }
    rows.truncate(kept);
}

/// One contract year of a span, as the engagement generator walks it.
struct Year {
    /// 1 for the span's first year.
    number: i64,
    start: i64,
    length: i64,
    /// Whether the span began recently enough for a Launch Advisory.
    first_of_recent: bool,
}

/// The engagements of one Elite contract year: every service on time, or
/// one missed, stalled after mid-year, late in each quarter, or delivered
/// once too often; a Launch Advisory in a recent span's first year; a few
/// case reviews.
fn elite_year(rng: &mut Rng, rows: &mut Vec<Row>, a: usize, acc: &Account, year: &Year) {
    let product = |rng: &mut Rng| acc.products[rng.below(acc.products.len() as u64) as usize];
    let due = |rng: &mut Rng, n: i64, j: i64, late: bool| {
        let slot = (j as f64 + if late { 0.85 } else { 0.2 + 0.6 * rng.f64() }) / n as f64;
        year.start + (slot * year.length as f64) as i64
    };
    let launch = year.number == 1 && year.first_of_recent && rng.chance(0.4);
    if launch {
        let at = year.start + rng.range(5, 50) * DAY_MS;
        rows.push(Row {
            at,
            account: a,
            kind: "launch_advisory",
            track: "",
            product: Some(acc.products[0]),
        });
    }
    // How the year went: every service on time; one
    // missed; one stalled after mid-year; one late in
    // each quarter; one delivered once too often.
    let profile = rng.f64();
    let odd = rng.below(3);
    for (k, kind) in ["service_review", "expert_session", "field_activity"]
        .into_iter()
        .enumerate()
    {
        if kind == "field_activity" && launch {
            continue;
        }
        let hit = odd == k as u64;
        let mut n = 4;
        let mut skip = None;
        let mut stop_after = 1.0;
        let late = hit && (0.78..0.90).contains(&profile);
        if hit && (0.45..0.65).contains(&profile) {
            skip = Some(rng.range(0, 3));
        } else if hit && (0.65..0.78).contains(&profile) {
            stop_after = 0.55;
        } else if hit && profile >= 0.94 {
            n = 5;
        }
        for j in 0..n {
            let at = due(rng, n, j, late);
            if skip == Some(j) || at > year.start + (stop_after * year.length as f64) as i64 {
                continue;
            }
            let track = match kind {
                "field_activity" if rng.chance(0.6) => "technical",
                "field_activity" => "strategic",
                _ => "",
            };
            let product = (kind != "service_review").then(|| product(rng));
            rows.push(Row {
                at,
                account: a,
                kind,
                track,
                product,
            });
        }
    }
    for _ in 0..rng.below(4) {
        let at = year.start + (rng.f64() * year.length as f64) as i64;
        rows.push(Row {
            at,
            account: a,
            kind: "case_review",
            track: "",
            product: Some(product(rng)),
        });
    }
}

/// `engagements.csv` from the rows, in order.
fn write_engagement_rows(
    out: &mut dyn Write,
    rows: &[Row],
    accounts: &[Account],
) -> io::Result<()> {
    out.write_all(ENGAGEMENTS_HEADER.as_bytes())?;
    out.write_all(b"\n")?;
    let mut line = Vec::with_capacity(128);
    for (i, r) in rows.iter().enumerate() {
        let acc = &accounts[r.account];
        line.clear();
        line.extend_from_slice(b"EN-");
        push_num(&mut line, i as i64 + 1, 5);
        line.push(b',');
        push_account_id(&mut line, acc.num);
        line.push(b',');
        line.extend_from_slice(r.kind.as_bytes());
        line.push(b',');
        line.extend_from_slice(r.track.as_bytes());
        line.push(b',');
        push_ts(
            &mut line,
            acc.region,
            r.at,
            matches!(acc.region, Region::Americas | Region::Japan),
        );
        line.push(b',');
        if let Some(p) = r.product {
            line.extend_from_slice(PRODUCTS[p].0.as_bytes());
        }
        line.push(b'\n');
        out.write_all(&line)?;
    }
    Ok(())
}

fn write_contacts(
    out: &mut dyn Write,
    rng: &mut Rng,
    accounts: &[Account],
    end: i64,
) -> io::Result<()> {
    out.write_all(CONTACTS_HEADER.as_bytes())?;
    out.write_all(b"\n")?;
    let mut line = Vec::with_capacity(128);
    for acc in accounts {
        let current = acc.contracts.last().expect("one contract at least");
        let limit = match current.tier {
            Tier::Online => 4,
            Tier::Elite => 15,
        };
        let opened = acc.contracts[0].from;
        let mut replacement = 50;
        for (j, &product) in acc.products.iter().enumerate() {
            let ids: Vec<i64> = if j == 0 {
                (1..=acc.contacts.min(limit)).collect()
            } else {
                let mut pool: Vec<i64> = (1..=acc.contacts).collect();
                for i in (1..pool.len()).rev() {
                    pool.swap(i, rng.below(i as u64 + 1) as usize);
                }
                pool.truncate(1 + rng.below(acc.contacts.min(limit) as u64) as usize);
                pool.sort_unstable();
                pool
            };
            // Some accounts name every contact they have on their main product.
            let extra = j == 0 && acc.contacts > limit && rng.chance(0.35);
            let mut named: Vec<(i64, i64, Option<i64>)> = Vec::new();
            for &id in &ids {
                let added = opened + rng.range(0, 45) * DAY_MS + rng.range(8, 17) * HOUR_MS;
                named.push((id, added, None));
            }
            if extra {
                for id in acc.contacts.min(limit) + 1..=acc.contacts {
                    let added = (end - 300 * DAY_MS).max(opened)
                        + rng.range(0, 250) * DAY_MS
                        + 10 * HOUR_MS;
                    named.push((id, added, None));
                }
            }
            // Turnover: a contact leaves, a replacement is named around then.
            let mut k = 0;
            while k < named.len() {
                let (_, added, _) = named[k];
                if added + 90 * DAY_MS < end && rng.chance(0.12) {
                    let removed = added
                        + 60 * DAY_MS
                        + (rng.f64() * (end - added - 90 * DAY_MS) as f64) as i64;
                    named[k].2 = Some(removed / MIN_MS * MIN_MS);
                    let gap = if rng.chance(0.3) {
                        -rng.range(2, 12)
                    } else {
                        rng.range(0, 20)
                    };
                    let next = removed + gap * DAY_MS + rng.range(1, 8) * HOUR_MS;
                    if next < end {
                        replacement += 1;
                        named.push((replacement, next / MIN_MS * MIN_MS, None));
                    }
                }
                k += 1;
            }
            named.sort_by_key(|&(id, added, _)| (added, id));
            for (id, added, removed) in named {
                line.clear();
                push_account_id(&mut line, acc.num);
                line.push(b',');
                line.extend_from_slice(PRODUCTS[product].0.as_bytes());
                line.extend_from_slice(b",CT-");
                push_num(&mut line, acc.num as i64, 4);
                line.push(b'-');
                push_num(&mut line, id, 2);
                line.push(b',');
                push_ts(&mut line, acc.region, added, false);
                line.push(b',');
                if let Some(t) = removed {
                    push_ts(&mut line, acc.region, t, false);
                }
                line.push(b'\n');
                out.write_all(&line)?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(at: i64, account: usize) -> Row {
        Row {
            at,
            account,
            kind: "case_review",
            track: "",
            product: None,
        }
    }

    #[test]
    fn filtering_an_accounts_rows_keeps_earlier_rows_and_the_order() {
        // Rows of accounts 0 and 1, then account 2's from place 4 on.
        let ats = [50, 10, 85, 20, 30, 90, 40, 95, 60];
        let mut rows: Vec<Row> = ats
            .iter()
            .enumerate()
            .map(|(i, &at)| row(at, if i < 4 { i % 2 } else { 2 }))
            .collect();
        retain_from(&mut rows, 4, |r| r.at < 80);
        let kept: Vec<(i64, usize)> = rows.iter().map(|r| (r.at, r.account)).collect();
        // Account 2's rows at 90 and 95 go; the others stay where they were
        // (85, before place 4, is not account 2's and stays too).
        assert_eq!(
            kept,
            [
                (50, 0),
                (10, 1),
                (85, 0),
                (20, 1),
                (30, 2),
                (40, 2),
                (60, 2)
            ]
        );
    }
}
