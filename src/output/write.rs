//! Writing a whole report: every Parquet file, the charts and the manifest
//! into a staging directory beside `--out`, swapped in only when complete.
//! Anything else the run writes (the demo's review pack) goes into the
//! same staging directory, so a failure anywhere leaves `--out` as it was.

use std::path::Path;

use rayon::prelude::*;

use super::frames::{self, col, strings_to_enums};
use super::parquet::{write_parquet, write_parquet_in_windows};
use super::partition::write_case_slt_by_period;
use super::staging::Staging;
use crate::aggregate::{run_query, ACCOUNT_ATTAINMENT_SQL, ATTAINMENT_SQL};
use crate::cli::PartitionBy;
use crate::pipeline::Run;
use crate::policy::Policy;
use crate::{Error, Result};

/// What writing `case_slt` partitioned gives: the partitions, and with
/// `--update` the aggregates of every partition kept.
struct Partitioned {
    partitions: serde_json::Value,
    aggregates: Option<(polars::prelude::DataFrame, polars::prelude::DataFrame)>,
}

/// How `case_slt` is laid out.
#[derive(Debug, Clone, Copy, Default)]
pub struct Layout {
    /// `--partition-by`: hive-style `case_slt/period=…/part-0.parquet`.
    pub partition_by: Option<PartitionBy>,
    /// `--update`: keep the partitions of the existing report this run
    /// measured no case for, and aggregate over every partition.
    pub update: bool,
}

/// Writes every output of `run` into `out`, atomically; `extra` may add
/// files to the staging directory (given as its argument) before the swap.
/// Returns how many outputs the manifest lists.
///
/// `case_slt` is written, the charts drawn and the other tables written
/// side by side (the aggregates of a partitioned `--update` last: they
/// are of every partition kept). `case_slt` is made here of `run.cases`
/// (and `run.dimensions`), taken for it and given back once every file is
/// written: written a window of row groups at a time
/// ([`write_parquet_in_windows`]), its frame is never held whole beside
/// the rows — at 10 M cases each is well over a gibibyte. Split by
/// period, or as a shard, the whole frame is made.
pub fn write_report(
    run: &mut Run,
    policy: &Policy,
    out: &Path,
    layout: Layout,
    extra: impl FnOnce(&Path) -> Result<()>,
) -> Result<usize> {
    let staging = Staging::new(out)?;
    let metadata = run.manifest.parquet_metadata();
    let mut manifest = run.manifest.clone();
    let rows = std::mem::take(&mut run.cases);
    let dims = std::mem::take(&mut run.dimensions);
    let plan = frames::CaseSlt::new(&rows, &dims)?;
    // Written a window of row groups at a time, unless it is split by
    // period or becomes a shard: then the whole frame is made.
    let source_rows = run.source_rows.take();
    let whole = match (&source_rows, layout.partition_by) {
        (None, None) => None,
        (None, Some(_)) => Some(plan.frame(0..plan.height())?),
        (Some(source_rows), _) => Some(frames::shard_case_slt(
            &plan.frame(0..plan.height())?,
            source_rows.iter().copied(),
        )?),
    };
    type Make<'a> = &'a (dyn Fn() -> Result<polars::prelude::DataFrame> + Sync);
    let write_all = |tables: &[(&str, Make)]| {
        tables.par_iter().try_for_each(|(name, make)| {
            write_parquet(&mut make()?, &staging.file(name), &metadata)
        })
    };
    // The other files are independent of case_slt and of each other: each
    // made and written beside it. Only the aggregates of a partitioned
    // `--update` wait for it: they cover every partition kept.
    let partitioned = layout.partition_by.is_some();
    let entitlements = || frames::entitlements(policy, &run.entitlements.years);
    let findings = || frames::findings(policy, &run.entitlements.findings);
    let rejects = || frames::rejects(&run.rejects);
    let attainment = || strings_to_enums(&run.attainment);
    let account_attainment = || strings_to_enums(&run.account_attainment);
    let aggregates: [(&str, Make); 2] = [
        ("attainment.parquet", &attainment),
        ("account_attainment.parquet", &account_attainment),
    ];
    let mut beside: Vec<(&str, Make)> = vec![
        ("entitlements.parquet", &entitlements),
        ("entitlement_findings.parquet", &findings),
        ("rejects.parquet", &rejects),
    ];
    if !partitioned {
        beside.extend(aggregates);
    }
    let ((written, drawn), others) = rayon::join(
        || {
            rayon::join(
                || -> Result<Option<Partitioned>> {
                    let path = staging.file("case_slt.parquet");
                    match (layout.partition_by, &whole) {
                        (None, None) => {
                            write_parquet_in_windows(&path, &metadata, plan.height(), |rows| {
                                plan.frame(rows)
                            })
                            .map(|()| None)
                        }
                        (None, Some(shard)) => {
                            write_parquet(&mut shard.clone(), &path, &metadata).map(|()| None)
                        }
                        (Some(PartitionBy::Period), whole) => {
                            let whole = whole.as_ref().expect("the whole frame, to split");
                            let keep_from = layout.update.then(|| out.join("case_slt"));
                            let (all, partitions) = write_case_slt_by_period(
                                &frames::as_text(whole)?,
                                &staging.file("case_slt"),
                                &metadata,
                                keep_from.as_deref(),
                            )?;
                            let aggregates = match all {
                                Some(all) => Some((
                                    run_query(&all, ATTAINMENT_SQL)?,
                                    run_query(&all, ACCOUNT_ATTAINMENT_SQL)?,
                                )),
                                None => None,
                            };
                            Ok(Some(Partitioned {
                                partitions,
                                aggregates,
                            }))
                        }
                    }
                },
                || {
                    let charts = crate::charts::report_charts(&rows, policy);
                    crate::charts::write_charts(&charts, |name| staging.file(name))
                },
            )
        },
        || write_all(&beside),
    );
    let written = written?;
    drawn?;
    others?;
    if let Some(p) = written {
        for output in manifest.outputs.iter_mut() {
            if output == "case_slt.parquet" {
                *output = "case_slt/".into();
            }
        }
        manifest.case_slt_partitioned_by = Some(col::PERIOD.into());
        manifest.case_slt_partitions = Some(p.partitions);
        match &p.aggregates {
            None => write_all(&aggregates)?,
            Some((every, every_account)) => {
                let attainment = || strings_to_enums(every);
                let account_attainment = || strings_to_enums(every_account);
                write_all(&[
                    ("attainment.parquet", &attainment),
                    ("account_attainment.parquet", &account_attainment),
                ])?;
            }
        }
    }
    drop((whole, plan));
    // The rows go back to the run: its owner frees them or, ending the
    // process, need not — a million rows freed one allocation at a time
    // (their ids) is a tenth of a second for nothing.
    run.cases = rows;
    run.dimensions = dims;
    let path = staging.file("manifest.json");
    std::fs::write(&path, manifest.to_json()).map_err(|e| Error::Write {
        path,
        reason: e.to_string(),
    })?;
    extra(staging.dir())?;
    staging.commit()?;
    Ok(manifest.outputs.len())
}
