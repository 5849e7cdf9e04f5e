//! Writing a whole report: every Parquet file, the charts and the manifest
//! into a staging directory beside `--out`, swapped in only when complete.
//! Anything else the run writes (the demo's review pack) goes into the
//! same staging directory, so a failure anywhere leaves `--out` as it was.

use std::path::Path;

use rayon::prelude::*;

use super::frames::{self, col, strings_to_enums};
use super::parquet::write_parquet;
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
/// are of every partition kept). The `case_slt` frame is
/// made here, of `run.cases` given up for it (the charts' data taken
/// meanwhile, and `run.cases` left empty): at 10 M cases the rows and the
/// frame are each well over a gibibyte, and neither is needed once the
/// file is written.
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
    let (case_slt, charts) = frames::case_slt_of(rows, dims, |rows| {
        crate::charts::report_charts(rows, policy)
    });
    let case_slt = match run.source_rows.take() {
        None => case_slt?,
        Some(rows) => frames::shard_case_slt(&case_slt?, rows.into_iter())?,
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
                    match layout.partition_by {
                        None => write_parquet(
                            &mut case_slt.clone(),
                            &staging.file("case_slt.parquet"),
                            &metadata,
                        )
                        .map(|()| None),
                        Some(PartitionBy::Period) => {
                            let keep_from = layout.update.then(|| out.join("case_slt"));
                            let (all, partitions) = write_case_slt_by_period(
                                &frames::as_text(&case_slt)?,
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
                || crate::charts::write_charts(&charts, |name| staging.file(name)),
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
    drop(case_slt);
    let path = staging.file("manifest.json");
    std::fs::write(&path, manifest.to_json()).map_err(|e| Error::Write {
        path,
        reason: e.to_string(),
    })?;
    extra(staging.dir())?;
    staging.commit()?;
    Ok(manifest.outputs.len())
}
