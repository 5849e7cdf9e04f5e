//! `slt review`: one customer's quarterly service-review pack (see
//! [`crate::review`]).

use crate::charts::data;
use crate::cli::ReviewArgs;
use crate::config::Settings;
use crate::output::guard::OutputKind;
use crate::output::lock::Lock;
use crate::progress::{LogFormat, Progress};
use crate::review::{pack_of, write_pack};
use crate::{pipeline, Error, Exit, Result};

/// Runs `slt review`.
pub fn run(args: ReviewArgs, log_format: LogFormat) -> Result<Exit> {
    if data::parse_quarter(&args.period).is_none() {
        return Err(Error::Usage(format!(
            "--period: `{}` is not a quarter (expected YYYY-Qn, e.g. 2026-Q3)",
            args.period
        )));
    }
    let settings = Settings::from_args(&args.measure)?;
    settings.check_out(&args.out, OutputKind::Review)?;
    let _lock = Lock::acquire(&args.out)?;
    let progress = Progress::new("review", args.quiet, log_format);
    let run = pipeline::run(&settings, &progress)?;
    let stage = progress.stage("write", None);
    let pack = pack_of(&run, &settings.policy, &args.account, &args.period)?;
    write_pack(&pack, &args.out)?;
    stage.finish(
        &format!("review pack into {}", args.out.display()),
        serde_json::json!({ "out": args.out.display().to_string() }),
    );
    let c = &pack.counts;
    progress.done(
        &format!(
            "review of {} for {}: {} (met {}, breached {}, pending {}, excluded {}); wrote {}",
            pack.account,
            pack.period,
            data::cases_label(c.cases),
            c.met,
            c.breached,
            c.pending,
            c.excluded,
            args.out.display()
        ),
        serde_json::json!({
            "account": pack.account,
            "period": pack.period,
            "cases": c.cases,
            "outcomes": { "met": c.met, "breached": c.breached, "pending": c.pending, "excluded": c.excluded },
            "out": args.out.display().to_string(),
        }),
    );
    Ok(Exit::Success)
}
