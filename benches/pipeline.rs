//! The whole pipeline on a 100,000-case synthetic export (`slt generate`,
//! seed 2026): `pipeline::run` (read, judge, measure, entitlements,
//! aggregate: everything but writing files), and the measure stage alone on
//! all cores against the same stage on one core, the baseline.
//!
//! `cargo bench --bench pipeline` prints criterion's cases per second for
//! each, then the measured parallel speed-up (median of 5 runs each, same
//! process). Large runs (1 M, 10 M cases) are in the README's "Speed".

use std::hint::black_box;
use std::time::{Duration, Instant as Clock};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use slt::cli::MeasureArgs;
use slt::config::Settings;
use slt::generate::{generate, GenerateOptions};
use slt::ingest::{judge, read_all, Ingested, Input, READ_IN_PIECES};
use slt::measure::{calendars_for, measure_all};
use slt::pipeline;
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

fn ingested(settings: &Settings) -> Ingested {
    let sources = read_all(&settings.input, &READ_IN_PIECES).expect("read");
    judge(sources, &settings.mapping, &settings.policy, None, None).expect("judge")
}

fn bench(c: &mut Criterion) {
    let dir = export();
    let settings = Settings::from_args(&MeasureArgs {
        input: Some(dir.path().to_path_buf()),
        ..MeasureArgs::default()
    })
    .expect("settings");
    assert!(matches!(settings.input, Input::Dir(_)));
    let ingested = ingested(&settings);
    let (as_of, _) = ingested.as_of(None).expect("cases");
    let policy = &settings.policy;
    let calendars = calendars_for(
        policy,
        &settings.holidays,
        &ingested.cases,
        &ingested.events,
        as_of,
    );
    let measure = || measure_all(&ingested.cases, &ingested.events, policy, &calendars, as_of);
    let one_core = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("pool");

    let mut group = c.benchmark_group("pipeline");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(10))
        .throughput(Throughput::Elements(CASES as u64));
    group.bench_function("pipeline_run", |b| {
        b.iter(|| black_box(pipeline::run(&settings, &Progress::silent()).expect("run")))
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
