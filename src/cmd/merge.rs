//! `slt merge`: shards of `slt report --shard I/N` → one report (see
//! [`crate::merge`]), written as `slt report` writes.

use serde_json::json;

use crate::cli::{MeasureArgs, MergeArgs};
use crate::config::Settings;
use crate::output::guard::OutputKind;
use crate::output::lock::Lock;
use crate::output::write::{write_report, Layout};
use crate::progress::{LogFormat, Progress};
use crate::{merge, Exit, Result};

/// Runs `slt merge`.
pub fn run(args: MergeArgs, log_format: LogFormat) -> Result<Exit> {
    let settings = Settings::from_args(&MeasureArgs {
        policy: args.policy.clone(),
        holidays: args.holidays.clone(),
        mapping: args.mapping.clone(),
        ..MeasureArgs::default()
    })?;
    settings.check_out(&args.out, OutputKind::Report)?;
    for shard in &args.shards {
        if shard == &args.out {
            return Err(crate::Error::Usage(format!(
                "--out `{}` is one of the shards: merge into another directory",
                args.out.display()
            )));
        }
    }
    let _lock = Lock::acquire(&args.out)?;
    let progress = Progress::new("merge", args.quiet, log_format);
    let stage = progress.stage("merge", None);
    // Never freed: the process ends once the report is written.
    let mut run = std::mem::ManuallyDrop::new(merge::merge(&args.shards, &settings)?);
    stage.finish(
        &format!("{} shards, {} cases", args.shards.len(), run.cases.len()),
        json!({ "shards": args.shards.len(), "cases": run.cases.len() }),
    );
    let stage = progress.stage("write", None);
    let layout = Layout {
        partition_by: args.partition_by,
        update: false,
    };
    let measured = run.cases.len();
    let files = write_report(&mut run, &settings.policy, &args.out, layout, |_| Ok(()))?;
    stage.finish(
        &format!("{files} files into {}", args.out.display()),
        json!({ "out": args.out.display().to_string(), "files": files }),
    );
    progress.done(
        &format!(
            "{} cases merged from {} shards, {} rows rejected; wrote {}",
            measured,
            args.shards.len(),
            run.rejected_rows(),
            args.out.display()
        ),
        json!({ "cases_measured": measured, "rows_rejected": run.rejected_rows() }),
    );
    Ok(Exit::Success)
}
