//! The whole pipeline on a 100,000-case synthetic export (`slt generate`,
//! seed 2026): `report::build` (read, validate, measure, entitlements,
//! aggregate: everything but writing files), and the measure stage alone on
//! all cores against the same stage on one core, the baseline.
//!
//! `cargo bench --bench pipeline` prints criterion's cases per second for
//! each, then the measured parallel speed-up (median of 5 runs each, same
//! process). Large runs (1 M, 10 M cases) are in the README's "Speed".

use std::hint::black_box;
use std::time::{Duration, Instant as Clock};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use slt::calendar::holidays::Holidays;
use slt::calendar::years_spanning;
use slt::cli::ReportArgs;
use slt::cmd::report;
use slt::generate::{generate, GenerateOptions};
use slt::ingest::{read_sources, validate, IngestOptions, Ingested, Input};
use slt::mapping::Mapping;
use slt::measure::measure_all;
use slt::policy::Policy;
use slt::progress::Progress;

const CASES: usize = 100_000;

fn export() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let options = GenerateOptions {
        seed: 2026,
        cases: CASES,
        accounts: 40,
        year: 2026,
        bad_rows: true,
    };
    generate(&options, dir.path()).expect("generate");
    dir
}

fn ingested(dir: &std::path::Path, policy: &Policy) -> Ingested {
    let sources = read_sources(&Input::Dir(dir.to_path_buf())).expect("read");
    validate(
        sources,
        &Mapping::default(),
        policy,
        IngestOptions::default(),
    )
    .expect("validate")
}

fn bench(c: &mut Criterion) {
    let dir = export();
    let policy = Policy::bundled();
    let ingested = ingested(dir.path(), &policy);
    let lo = ingested
        .cases
        .iter()
        .map(|c| c.created_at)
        .min()
        .expect("cases");
    let calendars = policy.calendars(&Holidays::bundled(), years_spanning(lo, ingested.as_of));
    let measure = || {
        measure_all(
            &ingested.cases,
            &ingested.events,
            &policy,
            &calendars,
            ingested.as_of,
        )
    };
    let one_core = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("pool");

    let mut group = c.benchmark_group("pipeline");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(10))
        .throughput(Throughput::Elements(CASES as u64));
    let args = ReportArgs {
        input: Some(dir.path().to_path_buf()),
        ..ReportArgs::default()
    };
    let input = Input::Dir(dir.path().to_path_buf());
    group.bench_function("report_build", |b| {
        b.iter(|| black_box(report::build(&args, &input, &Progress::silent()).expect("build")))
    });
    group.bench_function("measure_all_cores", |b| b.iter(|| black_box(measure())));
    group.bench_function("measure_one_core_baseline", |b| {
        b.iter(|| one_core.install(|| black_box(measure())))
    });
    group.finish();

    let median = |run: &dyn Fn()| {
        let mut times: Vec<Duration> = (0..5)
            .map(|_| {
                let t = Clock::now();
                run();
                t.elapsed()
            })
            .collect();
        times.sort();
        times[2]
    };
    let parallel = median(&|| drop(black_box(measure())));
    let serial = median(&|| drop(one_core.install(|| black_box(measure()))));
    println!(
        "measure: {:.1} ms on {} threads vs {:.1} ms on one (baseline): {:.2}x",
        parallel.as_secs_f64() * 1e3,
        rayon::current_num_threads(),
        serial.as_secs_f64() * 1e3,
        serial.as_secs_f64() / parallel.as_secs_f64()
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
