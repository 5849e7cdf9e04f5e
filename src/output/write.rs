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
/// `case_slt` is written first, the charts drawn beside it. Its frame is
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
    let (mut attainment, mut account_attainment) =
        (run.attainment.clone(), run.account_attainment.clone());
    let (case_slt, charts) = frames::case_slt_of(std::mem::take(&mut run.cases), |rows| {
        crate::charts::report_charts(rows, policy)
    });
    let case_slt = match run.source_rows.take() {
        None => case_slt?,
        Some(rows) => frames::shard_case_slt(&case_slt?, rows.into_iter())?,
    };
    let (written, drawn) = rayon::join(
        || -> Result<()> {
            match layout.partition_by {
                None => write_parquet(
                    &mut case_slt.clone(),
                    &staging.file("case_slt.parquet"),
                    &metadata,
                ),
                Some(PartitionBy::Period) => {
                    let keep_from = layout.update.then(|| out.join("case_slt"));
                    let (all, partitions) = write_case_slt_by_period(
                        &frames::as_text(&case_slt)?,
                        &staging.file("case_slt"),
                        &metadata,
                        keep_from.as_deref(),
                    )?;
                    if let Some(all) = all {
                        attainment = run_query(&all, ATTAINMENT_SQL)?;
                        account_attainment = run_query(&all, ACCOUNT_ATTAINMENT_SQL)?;
                    }
                    for output in manifest.outputs.iter_mut() {
                        if output == "case_slt.parquet" {
                            *output = "case_slt/".into();
                        }
                    }
                    manifest.case_slt_partitioned_by = Some(col::PERIOD.into());
                    manifest.case_slt_partitions = Some(partitions);
                    Ok(())
                }
            }
        },
        || crate::charts::write_charts(&charts, |name| staging.file(name)),
    );
    written?;
    drawn?;
    drop(case_slt);
    // The other files are independent: each made and written side by side.
    type Make<'a> = &'a (dyn Fn() -> Result<polars::prelude::DataFrame> + Sync);
    let tables: [(&str, Make); 5] = [
        ("attainment.parquet", &|| strings_to_enums(&attainment)),
        ("account_attainment.parquet", &|| {
            strings_to_enums(&account_attainment)
        }),
        ("entitlements.parquet", &|| {
            frames::entitlements(policy, &run.entitlements.years)
        }),
        ("entitlement_findings.parquet", &|| {
            frames::findings(policy, &run.entitlements.findings)
        }),
        ("rejects.parquet", &|| frames::rejects(&run.rejects)),
    ];
    tables
        .par_iter()
        .try_for_each(|(name, make)| write_parquet(&mut make()?, &staging.file(name), &metadata))?;
    let path = staging.file("manifest.json");
    std::fs::write(&path, manifest.to_json()).map_err(|e| Error::Write {
        path,
        reason: e.to_string(),
    })?;
    extra(staging.dir())?;
    staging.commit()?;
    Ok(manifest.outputs.len())
}
