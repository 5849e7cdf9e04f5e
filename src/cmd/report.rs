//! `slt report`: export → measured cases → attainment Parquet, rejects,
//! entitlements, charts and a manifest, written atomically (see
//! [`crate::pipeline`] and [`crate::output::write`]).

use std::path::{Path, PathBuf};

use serde_json::json;

use crate::cli::ReportArgs;
use crate::config::Settings;
use crate::ingest::Input;
use crate::output::guard::OutputKind;
use crate::output::lock::Lock;
use crate::output::manifest::Manifest;
use crate::output::write::{write_report, Layout};
use crate::progress::{LogFormat, Progress};
use crate::{pipeline, review, Error, Exit, Result};

/// Runs `slt report`.
pub fn run(args: ReportArgs, log_format: LogFormat) -> Result<Exit> {
    let out = match (&args.out, &args.measure.input) {
        (Some(out), _) => out.clone(),
        (None, None) => PathBuf::from("reports/demo"),
        (None, Some(_)) => return Err(Error::Usage("--out DIR is required with --input".into())),
    };
    let mut settings = Settings::from_args(&args.measure)?;
    if let Some(shard) = args.shard {
        if args.measure.as_of.is_none() {
            return Err(Error::Usage(format!(
                "--shard {shard} needs --as-of: every shard must measure as of the same instant (e.g. --as-of 2026-12-31T23:59:59Z)"
            )));
        }
        settings.shard = Some(shard);
    }
    settings.check_out(&out, OutputKind::Report)?;
    if let Some(n) = args.threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global()
            .map_err(|e| Error::Internal(e.to_string()))?;
    }
    let _lock = Lock::acquire(&out)?;
    let progress = Progress::new("report", args.quiet, log_format);
    // Never freed: the process ends once the report is written, and
    // freeing a million rows one allocation at a time costs a tenth of a
    // second or more for nothing.
    let mut run = std::mem::ManuallyDrop::new(pipeline::run(&settings, &progress)?);
    if let Some(max) = args.max_rejected {
        refuse_too_many_rejected(&run.manifest, max, &out)?;
    }
    let stage = progress.stage("write", None);
    let layout = Layout {
        partition_by: args.partition_by,
        update: args.update,
    };
    let demo = matches!(settings.input, Input::Demo) && settings.shard.is_none();
    let measured = run.cases.len();
    let files = write_report(&mut run, &settings.policy, &out, layout, |dir| {
        if demo {
            review::write_demo_pack(&settings, dir)?;
        }
        Ok(())
    })?;
    stage.finish(
        &format!("{files} files into {}", out.display()),
        json!({ "out": out.display().to_string(), "files": files }),
    );
    let outcomes = &run.manifest.outcomes;
    let message = format!(
        "{} cases measured (met {}, breached {}, pending {}, excluded {}), {} rows rejected; wrote {}",
        measured,
        outcomes["met"],
        outcomes["breached"],
        outcomes["pending"],
        outcomes["excluded"],
        run.rejected_rows(),
        out.display()
    );
    let fields = json!({
        "cases_measured": measured,
        "outcomes": outcomes,
        "rows_rejected": run.rejected_rows(),
        "out": out.display().to_string(),
    });
    if args.fail_on_rejects && run.rejected_rows() > 0 {
        let warning = format!(
            "{} rows rejected (--fail-on-rejects): see `{}`",
            run.rejected_rows(),
            out.join("rejects.parquet").display()
        );
        progress.done_with_warning(&message, fields, &warning);
        return Ok(Exit::Rejects);
    }
    progress.done(&message, fields);
    Ok(Exit::Success)
}

/// `--max-rejected`: refuses (exit 1, nothing written) when the share of
/// rejected rows of any table exceeds `max`, naming the worst table.
fn refuse_too_many_rejected(manifest: &Manifest, max: f64, out: &Path) -> Result<()> {
    let share = |read: u64, rejected: u64| rejected as f64 / read as f64;
    let worst = manifest
        .tables
        .all()
        .into_iter()
        .filter(|(_, t)| t.rows_read > 0 && t.rows_rejected as f64 > max * t.rows_read as f64)
        .max_by(|a, b| {
            share(a.1.rows_read, a.1.rows_rejected)
                .total_cmp(&share(b.1.rows_read, b.1.rows_rejected))
        });
    match worst {
        None => Ok(()),
        Some((table, t)) => Err(Error::TooManyRejected(format!(
            "{} of {} `{table}` rows rejected ({:.1} %), more than --max-rejected {max}; nothing written, `{}` left as it was",
            t.rows_rejected,
            t.rows_read,
            100.0 * share(t.rows_read, t.rows_rejected),
            out.display()
        ))),
    }
}
