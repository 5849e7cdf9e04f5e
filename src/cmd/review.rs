//! `slt review`: one customer's quarterly service-review pack (see
//! [`crate::review`]).

use crate::charts::data;
use crate::cli::ReviewArgs;
use crate::config::Settings;
use crate::model::Quarter;
use crate::output::guard::OutputKind;
use crate::output::lock::Lock;
use crate::progress::{LogFormat, Progress};
use crate::review::{build, write_pack};
use crate::{Error, Exit, Result};

/// Runs `slt review`.
pub fn run(args: ReviewArgs, log_format: LogFormat) -> Result<Exit> {
    if Quarter::parse(&args.period).is_none() {
        return Err(Error::Usage(format!(
            "--period: `{}` is not a quarter (expected YYYY-Qn, e.g. 2026-Q3)",
            args.period
        )));
    }
    let settings = Settings::from_args(&args.measure)?;
    settings.check_out(&args.out, OutputKind::Review)?;
    let _lock = Lock::acquire(&args.out)?;
    let progress = Progress::new("review", args.quiet, log_format);
    let pack = build(&settings, &args.account, &args.period, &progress)?;
    let stage = progress.stage("write", None);
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
            pack.period(),
            data::cases_label(c.cases),
            c.met,
            c.breached,
            c.pending,
            c.excluded,
            args.out.display()
        ),
        serde_json::json!({
            "account": pack.account,
            "period": pack.period(),
            "figures_as_of": crate::timestamp::format_rfc3339(pack.cut),
            "cases": c.cases,
            "outcomes": { "met": c.met, "breached": c.breached, "pending": c.pending, "excluded": c.excluded },
            "out": args.out.display().to_string(),
        }),
    );
    Ok(Exit::Success)
}
