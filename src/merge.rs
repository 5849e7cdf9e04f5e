//! `slt merge`: the reports of `slt report --shard I/N` put back together
//! into what one `slt report` on the whole export writes.
//!
//! Every shard judged the whole export alike and measured its own cases
//! ([`crate::shard`]). So the merged report is rebuilt from the shards'
//! typed rows, through the same code as a single run: the cases of every
//! shard's `case_slt` in the export's order (`source_row`), the rejects
//! (shard 1 has every row rejected while reading; each shard the cases it
//! could not measure), the contract years (shard 1) and the findings (shard
//! 1's not about a case, each shard's about its cases), then the aggregates,
//! charts and manifest as [`crate::output::write::write_report`] writes
//! them. The shards must agree first: same count, each present once, same
//! as-of, policy, holidays, mapping, schema and input files.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use polars::prelude::*;
use rayon::prelude::*;

use crate::aggregate;
use crate::config::Settings;
use crate::entitlements::check::{sort_findings, Checked, Finding, Rule, YearRow};
use crate::entitlements::{ContractYear, Status};
use crate::ingest::{Reject, RejectReason, Rejects};
use crate::model::{CaseRow, Outcome, PeriodLabels, Priority, Reason, Service, Table};
use crate::output::frames::{self, col};
use crate::output::manifest::{Manifest, Timing};
use crate::output::SCHEMA_VERSION;
use crate::pipeline::Run;
use crate::policy::Policy;
use crate::timestamp::parse_rfc3339;
use crate::{Error, Result};

/// One shard's report directory, read.
struct ShardDir {
    dir: PathBuf,
    manifest: Manifest,
}

/// Reads, checks and merges the shards in `dirs` into a [`Run`], as if
/// `slt report` had measured the whole export with `settings`' policy,
/// holidays and mapping.
pub fn merge(dirs: &[PathBuf], settings: &Settings) -> Result<Run> {
    let shards = check(dirs, settings)?;
    let as_of = parse_rfc3339(&shards[0].manifest.as_of).map_err(|_| {
        refuse(
            &shards[0].dir,
            format!("as_of `{}` is not RFC 3339", shards[0].manifest.as_of),
        )
    })?;
    let policy = &settings.policy;

    // The shards are read side by side, then put together in shard order.
    let parts = shards
        .par_iter()
        .map(|s| {
            Ok((
                read_cases(&s.dir.join("case_slt.parquet"))?,
                read_rejects(&s.dir.join("rejects.parquet"))?,
                read_findings(&s.dir.join("entitlement_findings.parquet"), policy)?,
            ))
        })
        .collect::<Result<Vec<_>>>()?;
    let mut rows: Vec<(i64, CaseRow)> = Vec::new();
    let mut rejects = Vec::new();
    let mut findings = Vec::new();
    for (r, j, f) in parts {
        rows.extend(r);
        rejects.extend(j);
        findings.extend(f);
    }
    rows.par_sort_unstable_by_key(|(row, _)| *row);
    let cases: Vec<CaseRow> = rows.into_iter().map(|(_, c)| c).collect();
    sort_findings(&mut findings);
    let years = read_years(&shards[0].dir.join("entitlements.parquet"), policy)?;
    let entitlements = Checked { years, findings };
    let rejects = Rejects::from_rows(rejects);

    let manifest = merged_manifest(&shards, &cases, &entitlements, &rejects)?;
    let dimensions = aggregate::Dimensions::of(&cases);
    let (attainment, account_attainment) = aggregate::aggregates(&cases, &dimensions)?;
    Ok(Run {
        as_of,
        attainment,
        account_attainment,
        cases,
        dimensions,
        source_rows: None,
        entitlements,
        rejects,
        manifest,
        timing: Timing::default(),
    })
}

/// A one-line refusal naming the shard directory.
fn refuse(dir: &Path, reason: String) -> Error {
    Error::Input {
        path: dir.to_path_buf(),
        reason,
    }
}

/// Reads every shard's manifest and checks that they are the N shards of
/// one run, made with `settings`' files.
fn check(dirs: &[PathBuf], settings: &Settings) -> Result<Vec<ShardDir>> {
    let mut shards = Vec::with_capacity(dirs.len());
    for dir in dirs {
        let path = dir.join("manifest.json");
        let text = std::fs::read_to_string(&path).map_err(|e| {
            refuse(
                dir,
                format!("no readable manifest.json ({e}): not an slt report directory"),
            )
        })?;
        let manifest: Manifest = serde_json::from_str(&text)
            .map_err(|e| refuse(dir, format!("manifest.json is not an slt manifest ({e})")))?;
        if manifest.shard.is_none() {
            return Err(refuse(
                dir,
                "not a shard (its manifest has no `shard`): write shards with `slt report --shard I/N`".into(),
            ));
        }
        if manifest.schema_version != SCHEMA_VERSION {
            return Err(refuse(
                dir,
                format!(
                    "written with schema version {}, this slt writes {SCHEMA_VERSION}: rerun the shard",
                    manifest.schema_version
                ),
            ));
        }
        if manifest.case_slt_partitioned_by.is_some() {
            return Err(refuse(
                dir,
                "case_slt is partitioned: shards are written whole".into(),
            ));
        }
        shards.push(ShardDir {
            dir: dir.clone(),
            manifest,
        });
    }
    shards.sort_by_key(|s| s.manifest.shard.as_ref().map(|e| e.index));
    check_split(&shards)?;
    check_agree(&shards)?;
    check_flags(&shards[0].manifest, settings)?;
    Ok(shards)
}

/// The shards are the N of one split: the same count, each index once, none missing.
fn check_split(shards: &[ShardDir]) -> Result<()> {
    let first = &shards[0];
    let entry = |s: &ShardDir| s.manifest.shard.clone().expect("checked");
    let count = entry(first).count;
    for (k, s) in shards.iter().enumerate() {
        let e = entry(s);
        if e.count != count {
            return Err(refuse(
                &s.dir,
                format!(
                    "is shard {}/{}, but {} is shard {}/{count}: shards of different splits",
                    e.index,
                    e.count,
                    first.dir.display(),
                    entry(first).index
                ),
            ));
        }
        if k > 0 && e.index == entry(&shards[k - 1]).index {
            return Err(refuse(
                &s.dir,
                format!(
                    "is shard {}/{count}, as is {}: give each shard once",
                    e.index,
                    shards[k - 1].dir.display()
                ),
            ));
        }
    }
    let present: Vec<u32> = shards.iter().map(|s| entry(s).index).collect();
    let missing: Vec<String> = (1..=count)
        .filter(|i| !present.contains(i))
        .map(|i| format!("{i}/{count}"))
        .collect();
    if !missing.is_empty() {
        return Err(Error::Usage(format!(
            "shard {} missing: give all {count} shards of the split",
            missing.join(", ")
        )));
    }
    Ok(())
}

/// Every shard ran as the first did: same instant, tool, rules, files.
fn check_agree(shards: &[ShardDir]) -> Result<()> {
    let first = &shards[0];
    for s in &shards[1..] {
        let (a, b) = (&first.manifest, &s.manifest);
        let differs = |what: &str, x: &str, y: &str| {
            refuse(
                &s.dir,
                format!(
                    "{what} `{y}` differs from {}'s `{x}`: shards must come from one run",
                    first.dir.display()
                ),
            )
        };
        for (what, x, y) in [
            ("as_of", &a.as_of, &b.as_of),
            ("version", &a.version, &b.version),
            (
                "priority_change_rule",
                &a.priority_change_rule,
                &b.priority_change_rule,
            ),
            ("report_time_zone", &a.report_time_zone, &b.report_time_zone),
            ("policy sha256", &a.policy.sha256, &b.policy.sha256),
            ("holidays sha256", &a.holidays.sha256, &b.holidays.sha256),
        ] {
            if x != y {
                return Err(differs(what, x, y));
            }
        }
        let mapping = |m: &Manifest| {
            m.mapping
                .as_ref()
                .map_or("none".to_string(), |f| f.sha256.clone())
        };
        if mapping(a) != mapping(b) {
            return Err(differs("mapping sha256", &mapping(a), &mapping(b)));
        }
        for ((name, x), (_, y)) in a.tables.all().into_iter().zip(b.tables.all()) {
            if (&x.sha256, x.rows_read) != (&y.sha256, y.rows_read) {
                return Err(differs(
                    &format!("{name} table"),
                    x.sha256.as_deref().unwrap_or("absent"),
                    y.sha256.as_deref().unwrap_or("absent"),
                ));
            }
        }
    }
    Ok(())
}

/// `--policy`, `--holidays` and `--mapping` are the files the shards ran with.
fn check_flags(theirs: &Manifest, settings: &Settings) -> Result<()> {
    let mapping = settings.mapping_file.as_ref().map(|f| &f.sha256);
    for (flag, given, used) in [
        (
            "--policy",
            Some(&settings.policy_file.sha256),
            Some(&theirs.policy.sha256),
        ),
        (
            "--holidays",
            Some(&settings.holidays_file.sha256),
            Some(&theirs.holidays.sha256),
        ),
        (
            "--mapping",
            mapping,
            theirs.mapping.as_ref().map(|f| &f.sha256),
        ),
    ] {
        if given != used {
            return Err(Error::Usage(format!(
                "{flag}: not the file the shards ran with (theirs: {}); pass the same {flag} as the shards",
                match flag {
                    "--policy" => theirs.policy.file.clone(),
                    "--holidays" => theirs.holidays.file.clone(),
                    _ => theirs.mapping.as_ref().map_or("no mapping".into(), |f| f.file.clone()),
                }
            )));
        }
    }
    Ok(())
}

/// The merged manifest: shard 1's, with the counts of all shards.
fn merged_manifest(
    shards: &[ShardDir],
    cases: &[CaseRow],
    checked: &Checked,
    rejects: &Rejects,
) -> Result<Manifest> {
    let mut m = shards[0].manifest.clone();
    m.shard = None;
    m.merged_from = Some(shards.iter().map(|s| s.dir.display().to_string()).collect());
    let summed: Vec<_> = shards.iter().map(|s| s.manifest.tables.all()).collect();
    for (k, entry) in m.tables.all_mut().into_iter().enumerate() {
        entry.rows_used = summed.iter().map(|t| t[k].1.rows_used).sum();
        entry.rows_rejected = summed.iter().map(|t| t[k].1.rows_rejected).sum();
        entry.rows_in_other_shards = None;
        if entry.rows_read != entry.rows_used + entry.rows_rejected {
            return Err(refuse(
                &shards[0].dir,
                format!(
                    "{} table: the shards account for {} of {} rows read: a shard is not of this split",
                    Table::ALL[k].name(),
                    entry.rows_used + entry.rows_rejected,
                    entry.rows_read
                ),
            ));
        }
    }
    let names = |c: std::collections::BTreeMap<&str, u64>| {
        c.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
    };
    m.entitlements.statuses = names(checked.statuses());
    m.entitlements.findings = names(checked.rules());
    m.cases_measured = cases.len() as u64;
    for (name, n) in m.outcomes.iter_mut() {
        *n = cases.iter().filter(|c| c.outcome.as_str() == name).count() as u64;
    }
    m.rows_rejected = rejects.total();
    Ok(m)
}

/// Reads a Parquet file whole.
fn read_parquet(path: &Path) -> Result<DataFrame> {
    let file = File::open(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    ParquetReader::new(file)
        .finish()
        .map_err(|e| refuse(path, e.to_string()))
}

/// Typed access to a shard's columns, naming the file in errors.
struct Columns<'a> {
    path: &'a Path,
    df: DataFrame,
}

impl Columns<'_> {
    fn text(&self, name: &str) -> Result<Vec<Option<String>>> {
        frames::text_values(&self.df, name).map_err(|_| self.missing(name))
    }

    fn int(&self, name: &str) -> Result<Vec<Option<i64>>> {
        let c = self.df.column(name).map_err(|_| self.missing(name))?;
        let c = c.cast(&DataType::Int64).map_err(|_| self.missing(name))?;
        Ok(c.i64()?.iter().collect())
    }

    fn float(&self, name: &str) -> Result<Vec<Option<f64>>> {
        let c = self.df.column(name).map_err(|_| self.missing(name))?;
        Ok(c.f64().map_err(|_| self.missing(name))?.iter().collect())
    }

    fn missing(&self, name: &str) -> Error {
        refuse(
            self.path,
            format!("no usable column `{name}`: not written by this slt"),
        )
    }

    fn bad(&self, row: usize, name: &str, value: &str) -> Error {
        refuse(
            self.path,
            format!(
                "row {}: `{name}` = `{value}` is not a value slt writes",
                row + 1
            ),
        )
    }
}

/// The first of `all` whose name is `text`.
fn named<T: Copy>(all: &[T], name: fn(T) -> &'static str, text: &str) -> Option<T> {
    all.iter().copied().find(|v| name(*v) == text)
}

/// A shard's `case_slt` as rows, each with its `source_row`. Text is
/// borrowed from the frame and shared (one allocation per distinct value).
fn read_cases(path: &Path) -> Result<Vec<(i64, CaseRow)>> {
    let c = Columns {
        path,
        df: read_parquet(path)?,
    };
    let text = |name: &str| -> Result<Vec<Option<&str>>> {
        let column = c.df.column(name).map_err(|_| c.missing(name))?;
        Ok(column.str().map_err(|_| c.missing(name))?.iter().collect())
    };
    let (ids, accounts, tiers, regions, products) = (
        text(col::CASE_ID)?,
        text(col::ACCOUNT_ID)?,
        text(col::TIER)?,
        text(col::REGION)?,
        text(col::PRODUCT)?,
    );
    let (priorities, initials, coverages, outcomes, periods, months, reasons) = (
        text(col::PRIORITY)?,
        text(col::INITIAL_PRIORITY)?,
        text(col::COVERAGE)?,
        text(col::OUTCOME)?,
        text(col::PERIOD)?,
        text(col::MONTH)?,
        text(col::REASON)?,
    );
    let (changes, created, start, target, deadline, response, source) = (
        c.int(col::PRIORITY_CHANGES)?,
        c.int(col::CREATED_AT)?,
        c.int(col::CLOCK_START)?,
        c.int(col::TARGET_MINUTES)?,
        c.int(col::DEADLINE)?,
        c.int(col::FIRST_RESPONSE_AT)?,
        c.int(col::SOURCE_ROW)?,
    );
    let (minutes, breach) = (
        c.float(col::RESPONSE_BUSINESS_MINUTES)?,
        c.float(col::BREACH_BUSINESS_MINUTES)?,
    );
    let mut interned: PlHashMap<&str, Arc<str>> = PlHashMap::default();
    let mut arc = |v| share(&mut interned, v);
    let mut labels: PlHashMap<(&str, &str), Arc<PeriodLabels>> = PlHashMap::default();
    let mut out = Vec::with_capacity(c.df.height());
    for i in 0..c.df.height() {
        let req = |v: Option<i64>, name: &str| v.ok_or_else(|| c.bad(i, name, "null"));
        let value = |v: &[Option<&str>], name: &str| -> Result<String> {
            v[i].map(str::to_string)
                .ok_or_else(|| c.bad(i, name, "null"))
        };
        let priority = |v: &[Option<&str>], name: &str| -> Result<Priority> {
            let t = v[i].unwrap_or_default();
            t.parse().map_err(|_| c.bad(i, name, t))
        };
        let coverage = coverages[i]
            .and_then(|t| t.parse().ok())
            .ok_or_else(|| c.bad(i, col::COVERAGE, coverages[i].unwrap_or_default()))?;
        let outcome = outcomes[i]
            .and_then(|t| named(&Outcome::ALL, Outcome::as_str, t))
            .ok_or_else(|| c.bad(i, col::OUTCOME, outcomes[i].unwrap_or_default()))?;
        let reason = reasons[i]
            .and_then(|t| named(&Reason::ALL, Reason::as_str, t))
            .ok_or_else(|| c.bad(i, col::REASON, reasons[i].unwrap_or_default()))?;
        let row = CaseRow {
            case_id: value(&ids, col::CASE_ID)?.into(),
            account_id: arc(accounts[i]),
            tier: arc(tiers[i]),
            region: arc(regions[i]),
            product: products[i].map(|p| arc(Some(p))),
            priority: priority(&priorities, col::PRIORITY)?,
            initial_priority: priority(&initials, col::INITIAL_PRIORITY)?,
            priority_changes: req(changes[i], col::PRIORITY_CHANGES)? as u32,
            created_at: req(created[i], col::CREATED_AT)?,
            clock_start: req(start[i], col::CLOCK_START)?,
            coverage,
            target_minutes: req(target[i], col::TARGET_MINUTES)?,
            deadline: req(deadline[i], col::DEADLINE)?,
            first_response_at: response[i],
            response_minutes: minutes[i],
            outcome,
            breach_minutes: breach[i],
            labels: labels
                .entry((
                    periods[i].unwrap_or_default(),
                    months[i].unwrap_or_default(),
                ))
                .or_insert_with_key(|(period, month)| {
                    Arc::new(PeriodLabels {
                        period: (*period).into(),
                        month: (*month).into(),
                    })
                })
                .clone(),
            reason,
        };
        out.push((req(source[i], col::SOURCE_ROW)?, row));
    }
    Ok(out)
}

/// `v` as shared text: the one allocation of its value in `interned`.
fn share<'a>(interned: &mut PlHashMap<&'a str, Arc<str>>, v: Option<&'a str>) -> Arc<str> {
    let v = v.unwrap_or_default();
    interned.entry(v).or_insert_with(|| Arc::from(v)).clone()
}

/// A shard's `rejects.parquet` as rejects, in its order.
fn read_rejects(path: &Path) -> Result<Vec<Reject>> {
    let c = Columns {
        path,
        df: read_parquet(path)?,
    };
    let (tables, rows, keys, columns, values, codes, files, locators) = (
        c.text("table")?,
        c.int("row_number")?,
        c.text("key")?,
        c.text("column")?,
        c.text("value")?,
        c.text("reason_code")?,
        c.text("file")?,
        c.text("locator")?,
    );
    let t = |v: &Option<String>| v.clone().unwrap_or_default();
    (0..c.df.height())
        .map(|i| {
            let table = named(&Table::ALL, Table::name, &t(&tables[i]))
                .ok_or_else(|| c.bad(i, "table", &t(&tables[i])))?;
            let reason = RejectReason::ALL
                .iter()
                .copied()
                .find(|r| r.code() == t(&codes[i]))
                .ok_or_else(|| c.bad(i, "reason_code", &t(&codes[i])))?;
            Ok(Reject {
                table,
                row_number: rows[i].unwrap_or_default() as u64,
                key: keys[i].clone(),
                column: t(&columns[i]),
                value: values[i].clone(),
                reason,
                file: t(&files[i]),
                locator: t(&locators[i]),
            })
        })
        .collect()
}

/// A shard's `entitlement_findings.parquet` as findings.
fn read_findings(path: &Path, policy: &Policy) -> Result<Vec<Finding>> {
    let c = Columns {
        path,
        df: read_parquet(path)?,
    };
    let (rules, accounts, tiers, products, kinds, evidence, details) = (
        c.text("rule")?,
        c.text("account_id")?,
        c.text("tier")?,
        c.text("product")?,
        c.text("evidence_kind")?,
        c.text("evidence")?,
        c.text("detail")?,
    );
    let (at, until, allowed, observed) = (
        c.int("at")?,
        c.int("until")?,
        c.int("allowed")?,
        c.int("observed")?,
    );
    let t = |v: &Option<String>| v.clone().unwrap_or_default();
    (0..c.df.height())
        .map(|i| {
            let rule = named(&Rule::ALL, Rule::as_str, &t(&rules[i]))
                .ok_or_else(|| c.bad(i, "rule", &t(&rules[i])))?;
            let tier = policy
                .tier_index(&t(&tiers[i]))
                .ok_or_else(|| c.bad(i, "tier", &t(&tiers[i])))?;
            let evidence_kind = ["contact", "case", "engagement"]
                .into_iter()
                .find(|k| *k == t(&kinds[i]))
                .ok_or_else(|| c.bad(i, "evidence_kind", &t(&kinds[i])))?;
            Ok(Finding {
                rule,
                account: t(&accounts[i]).into(),
                tier,
                product: products[i].clone(),
                at: at[i].ok_or_else(|| c.bad(i, "at", "null"))?,
                until: until[i],
                allowed: allowed[i].map(|v| v as u32),
                observed: observed[i].map(|v| v as u32),
                evidence_kind,
                evidence: t(&evidence[i]),
                detail: t(&details[i]),
            })
        })
        .collect()
}

/// Shard 1's `entitlements.parquet` as contract-year rows.
fn read_years(path: &Path, policy: &Policy) -> Result<Vec<YearRow>> {
    let c = Columns {
        path,
        df: read_parquet(path)?,
    };
    let (accounts, tiers, services, statuses) = (
        c.text("account_id")?,
        c.text("tier")?,
        c.text("entitlement")?,
        c.text("status")?,
    );
    let (numbers, starts, ends, entitled, delivered) = (
        c.int("contract_year")?,
        c.int("year_start")?,
        c.int("year_end")?,
        c.int("entitled")?,
        c.int("delivered")?,
    );
    let expected = c.float("expected_by_now")?;
    let t = |v: &Option<String>| v.clone().unwrap_or_default();
    (0..c.df.height())
        .map(|i| {
            let tier = policy
                .tier_index(&t(&tiers[i]))
                .ok_or_else(|| c.bad(i, "tier", &t(&tiers[i])))?;
            let service = named(&Service::ALL, Service::as_str, &t(&services[i]))
                .ok_or_else(|| c.bad(i, "entitlement", &t(&services[i])))?;
            let status = named(&Status::ALL, Status::as_str, &t(&statuses[i]))
                .ok_or_else(|| c.bad(i, "status", &t(&statuses[i])))?;
            let instant = |v: Option<i64>, name: &str| v.ok_or_else(|| c.bad(i, name, "null"));
            let end = instant(ends[i], "year_end")?;
            Ok(YearRow {
                account: t(&accounts[i]).into(),
                tier,
                year: ContractYear {
                    number: numbers[i].unwrap_or_default() as u32,
                    tier,
                    start: instant(starts[i], "year_start")?,
                    end,
                    // Not written; not needed to write the row again.
                    anniversary: end,
                },
                service,
                entitled: entitled[i].unwrap_or_default() as u32,
                delivered: delivered[i].unwrap_or_default() as u32,
                expected: expected[i].unwrap_or_default(),
                status,
            })
        })
        .collect()
}
