//! Attainment groups: `attainment.parquet` (period × tier × priority ×
//! region) and `account_attainment.parquet` (period × account × priority).
//!
//! The queries in `sql/` are the one definition of these numbers; they run
//! unchanged in polars SQL ([`run_query`]) and DuckDB, and CI runs them on
//! slt's `case_slt` output and compares with slt's files to 1e-9. slt
//! computes the same numbers natively ([`aggregates`]): one sort of the
//! cases by group, each group's response minutes sorted on their own, and a
//! linear scan, instead of a per-group `QUANTILE_CONT` over a million tiny
//! groups. The native result is the SQL result to the bit (same rows, same
//! order, the same interpolation arithmetic as polars' `QUANTILE_CONT`),
//! its text columns already the enums they are written as: the tests in
//! `tests/it/outputs.rs` compare the two on generated exports.

use polars::prelude::*;
use polars::sql::SQLContext;
use rayon::prelude::*;

use crate::model::{CaseRow, Priority};
use crate::output::frames::enum_column_of_ranks;
use crate::Result;

/// `attainment.parquet`: period × tier × priority × region.
pub const ATTAINMENT_SQL: &str = include_str!("../sql/attainment.sql");
/// `account_attainment.parquet`: period × account × priority.
pub const ACCOUNT_ATTAINMENT_SQL: &str = include_str!("../sql/account_attainment.sql");

/// Runs one aggregate query over `case_slt` (registered under that name).
pub fn run_query(case_slt: &DataFrame, sql: &str) -> Result<DataFrame> {
    let mut ctx = SQLContext::new();
    ctx.register("case_slt", case_slt.clone().lazy());
    Ok(ctx.execute(sql).and_then(|lf| lf.collect())?)
}

/// `attainment.parquet` and `account_attainment.parquet`, as
/// `sql/attainment.sql` and `sql/account_attainment.sql` compute them:
/// made side by side, sharing the ranks of the period labels.
pub fn aggregates(cases: &[CaseRow]) -> Result<(DataFrame, DataFrame)> {
    // Period labels ranked in text order (`month` rows sort before
    // `quarter` rows, and labels of one type never meet the other's).
    let periods = Ranks::of(cases, |c| [c.period(), c.month()]);
    let (attainment, account_attainment) = rayon::join(
        || attainment(cases, &periods),
        || account_attainment(cases, &periods),
    );
    Ok((attainment?, account_attainment?))
}

/// `attainment.parquet`: period × tier × priority × region.
fn attainment(cases: &[CaseRow], periods: &Ranks) -> Result<DataFrame> {
    let tiers = Ranks::of(cases, |c| [&*c.tier]);
    let regions = Ranks::of(cases, |c| [&*c.region]);
    let groups = groups(cases, periods, |c| {
        (tiers.rank(&c.tier) << 16) | (priority_rank(c.priority) << 12) | regions.rank(&c.region)
    });
    let priorities = Priority::ALL.map(Priority::as_str);
    let columns: [Dimension; 3] = [
        ("tier", &tiers.sorted, &|d| d >> 16),
        ("priority", &priorities, &|d| (d >> 12) & 0xf),
        ("region", &regions.sorted, &|d| d & 0xfff),
    ];
    frame(&groups, periods, &columns)
}

/// `account_attainment.parquet`: period × account × priority.
fn account_attainment(cases: &[CaseRow], periods: &Ranks) -> Result<DataFrame> {
    let accounts = Ranks::of(cases, |c| [&*c.account_id]);
    let groups = groups(cases, periods, |c| {
        (accounts.rank(&c.account_id) << 4) | priority_rank(c.priority)
    });
    let priorities = Priority::ALL.map(Priority::as_str);
    let columns: [Dimension; 2] = [
        ("account_id", &accounts.sorted, &|d| d >> 4),
        ("priority", &priorities, &|d| d & 0xf),
    ];
    frame(&groups, periods, &columns)
}

/// A dimension column of an aggregate: its name, its values in text
/// order, and how a group's packed dimensions give its value's rank.
type Dimension<'a> = (&'a str, &'a [&'a str], &'a (dyn Fn(u64) -> u64 + Sync));

fn priority_rank(p: Priority) -> u64 {
    p.index() as u64
}

/// The distinct values of a dimension in text order, so that ranks sort
/// as the text does (`ORDER BY`). A row's text is shared (an interned
/// `Arc<str>`), so a value is found by its address, not hashed as text:
/// [`Ranks::rank`] knows only the values it was made from, and two
/// addresses holding the same text have the same rank.
struct Ranks<'a> {
    sorted: Vec<&'a str>,
    index: PlHashMap<(usize, usize), u64>,
}

impl<'a> Ranks<'a> {
    /// The ranks of the values `values` gives for each case (the cases
    /// walked in parallel, a map of the addresses seen per slice, one
    /// slice per thread: in slices of 2^16 cases, each slice's map held
    /// most of the accounts, and merging them cost more than filling them).
    fn of<const N: usize>(
        cases: &'a [CaseRow],
        values: impl Fn(&'a CaseRow) -> [&'a str; N] + Sync,
    ) -> Ranks<'a> {
        let slice = cases
            .len()
            .div_ceil(rayon::current_num_threads().max(1))
            .max(1 << 16);
        let seen = cases
            .par_chunks(slice)
            .map(|chunk| {
                let mut seen: PlHashMap<(usize, usize), &'a str> = PlHashMap::default();
                // A case's value is often the one before's (the same month,
                // tier, region): that one is not hashed again.
                let mut before = [(0, 0); N];
                for c in chunk {
                    for (k, v) in values(c).into_iter().enumerate() {
                        if address(v) != before[k] {
                            before[k] = address(v);
                            seen.entry(address(v)).or_insert(v);
                        }
                    }
                }
                seen
            })
            .reduce(PlHashMap::default, |mut all, part| {
                for (k, v) in part {
                    all.entry(k).or_insert(v);
                }
                all
            });
        let mut sorted: Vec<&'a str> = seen.values().copied().collect();
        sorted.sort_unstable();
        sorted.dedup();
        let index = seen
            .into_iter()
            .map(|(k, v)| {
                let rank = sorted.binary_search(&v).expect("a value seen") as u64;
                (k, rank)
            })
            .collect();
        Ranks { sorted, index }
    }

    fn rank(&self, value: &str) -> u64 {
        self.index[&address(value)]
    }
}

/// Where a text is, and how long: the same address and length are the
/// same text.
fn address(text: &str) -> (usize, usize) {
    (text.as_ptr() as usize, text.len())
}

/// One group's numbers.
#[derive(Debug, Clone, PartialEq)]
struct Group {
    /// `quarter` or `month`.
    quarter: bool,
    /// The period label's rank (see [`groups`]).
    period: u64,
    /// The other dimensions, packed by the caller.
    dims: u64,
    /// met, breached, pending, excluded.
    outcomes: [i64; 4],
    p50: Option<f64>,
    p90: Option<f64>,
}

/// Every group of the cases under `dims` (the dimensions other than the
/// period, packed in text order in at most [`DIMS_BITS`] bits), for
/// quarters and months, sorted as the queries' `ORDER BY period_type,
/// period, …`.
fn groups(cases: &[CaseRow], periods: &Ranks, dims: impl Fn(&CaseRow) -> u64 + Sync) -> Vec<Group> {
    // Month groups sort before quarter groups: each period type is its own
    // pass, so that one entry per case is held at a time.
    let mut all = period_groups(cases, periods, &dims, false);
    all.append(&mut period_groups(cases, periods, &dims, true));
    all
}

/// Bits of a group's packed dimensions other than the period.
const DIMS_BITS: u32 = 44;

/// The groups of one period type (`quarter` or month), sorted by key.
fn period_groups(
    cases: &[CaseRow],
    periods: &Ranks<'_>,
    dims: &(impl Fn(&CaseRow) -> u64 + Sync),
    quarter: bool,
) -> Vec<Group> {
    // One entry per case, 16 bytes: its key (period rank, dimensions, and
    // in the lowest two bits the outcome, so that a group is a run of keys
    // equal but for those) and its response minutes (the bits of a
    // non-negative float, which sort as the float does; none: u64::MAX).
    // Sorted by key alone; each group's minutes are then sorted on their own.
    assert!(
        periods.sorted.len() <= 1 << (64 - DIMS_BITS - 2),
        "more period labels than a key holds"
    );
    let mut entries: Vec<(u64, u64)> = cases
        .par_iter()
        .map(|c| {
            let label = if quarter { c.period() } else { c.month() };
            let group = (periods.rank(label) << DIMS_BITS) | dims(c);
            let minutes = c.response_minutes.map_or(u64::MAX, f64::to_bits);
            ((group << 2) | c.outcome.index() as u64, minutes)
        })
        .collect();
    entries.par_sort_unstable_by_key(|e| e.0);
    if entries.is_empty() {
        // No case (a shard of a small export may have none): no group.
        return Vec::new();
    }
    let mut starts: Vec<usize> = vec![0];
    starts.extend((1..entries.len()).filter(|&i| entries[i].0 >> 2 != entries[i - 1].0 >> 2));
    starts.push(entries.len());
    starts
        .par_windows(2)
        .map_init(Vec::new, |minutes: &mut Vec<f64>, w| {
            let run = &entries[w[0]..w[1]];
            let group = run[0].0 >> 2;
            let mut outcomes = [0i64; 4];
            for e in run {
                outcomes[(e.0 & 3) as usize] += 1;
            }
            minutes.clear();
            minutes.extend(
                run.iter()
                    .filter(|e| e.1 != u64::MAX)
                    .map(|e| f64::from_bits(e.1)),
            );
            minutes.sort_unstable_by(f64::total_cmp);
            let nulls = run.len() - minutes.len();
            Group {
                quarter,
                period: group >> DIMS_BITS,
                dims: group & ((1 << DIMS_BITS) - 1),
                outcomes,
                p50: quantile(minutes, nulls, 0.5),
                p90: quantile(minutes, nulls, 0.9),
            }
        })
        .collect()
}

/// The `q` quantile of a group whose responses are `sorted` (ascending)
/// and which has `nulls` cases without one, with linear interpolation
/// exactly as polars' `QUANTILE_CONT` computes it, to the bit: the nulls
/// sort first, the position is `(n − 1) · q + nulls` over the `n` values,
/// and the result `proportion · (upper − lower) + lower` (the fraction of
/// that position, so a group's nulls shift its rounding).
fn quantile(sorted: &[f64], nulls: usize, q: f64) -> Option<f64> {
    let n = sorted.len();
    match n {
        0 => None,
        1 => Some(sorted[0]),
        _ => {
            let length = n + nulls;
            let float_idx = (n as f64 - 1.0) * q + nulls as f64;
            let idx = (float_idx as usize).min(length - 1);
            let top = float_idx.ceil() as usize;
            let lower = sorted[idx - nulls];
            if idx == top {
                return Some(lower);
            }
            let upper = sorted[idx + 1 - nulls];
            if lower == upper {
                Some(lower)
            } else {
                Some((float_idx - idx as f64) * (upper - lower) + lower)
            }
        }
    }
}

/// The aggregate frame: `period_type`, `period`, the dimension columns,
/// then the counts, attainment and percentiles, typed as the SQL's output
/// but for the text columns, which are enums of the values they hold (as
/// [`crate::output::frames::strings_to_enums`] makes them when written),
/// built from the ranks without a column of text.
fn frame(groups: &[Group], periods: &Ranks, dims: &[Dimension]) -> Result<DataFrame> {
    // The text columns side by side, and beside them the numbers.
    let (texts, mut numbers) = rayon::join(
        || text_columns(groups, periods, dims),
        || number_columns(groups),
    );
    let mut columns = texts?;
    columns.append(&mut numbers);
    Ok(DataFrame::new(groups.len(), columns)?)
}

/// The aggregate's text columns, side by side: `period_type`, `period`,
/// then `dims`.
fn text_columns(groups: &[Group], periods: &Ranks, dims: &[Dimension]) -> Result<Vec<Column>> {
    /// Where a column's rank comes from.
    #[derive(Clone, Copy)]
    enum Of {
        PeriodType,
        Period,
        Dim(usize),
    }
    let mut specs: Vec<(&str, &[&str], Of)> = vec![
        ("period_type", &["month", "quarter"], Of::PeriodType),
        ("period", &periods.sorted, Of::Period),
    ];
    specs.extend(
        dims.iter()
            .enumerate()
            .map(|(i, &(name, texts, _))| (name, texts, Of::Dim(i))),
    );
    specs
        .into_par_iter()
        .map(|(name, texts, of)| {
            let rank = |g: &Group| match of {
                Of::PeriodType => u64::from(g.quarter),
                Of::Period => g.period,
                Of::Dim(i) => (dims[i].2)(g.dims),
            };
            let codes: Vec<u32> = groups.iter().map(|g| rank(g) as u32).collect();
            enum_column_of_ranks(name, texts, &codes)
        })
        .collect()
}

/// The aggregate's counts, attainment and percentiles, in one pass over
/// the groups.
fn number_columns(groups: &[Group]) -> Vec<Column> {
    let mut columns = Vec::with_capacity(8);
    let n = groups.len();
    let mut counts: [Vec<i64>; 5] = std::array::from_fn(|_| Vec::with_capacity(n));
    let mut ratios: [Vec<Option<f64>>; 3] = std::array::from_fn(|_| Vec::with_capacity(n));
    for g in groups {
        let [cases, met, breached, pending, excluded] = &mut counts;
        cases.push(g.outcomes.iter().sum());
        met.push(g.outcomes[0]);
        breached.push(g.outcomes[1]);
        pending.push(g.outcomes[2]);
        excluded.push(g.outcomes[3]);
        let decided = g.outcomes[0] + g.outcomes[1];
        let [attainment, p50, p90] = &mut ratios;
        attainment.push((decided > 0).then(|| g.outcomes[0] as f64 / decided as f64));
        p50.push(g.p50);
        p90.push(g.p90);
    }
    let names = ["cases", "met", "breached", "pending", "excluded"];
    columns.extend(
        names
            .into_iter()
            .zip(counts)
            .map(|(name, values)| Column::new(name.into(), values)),
    );
    let names = [
        "attainment",
        "p50_response_business_minutes",
        "p90_response_business_minutes",
    ];
    columns.extend(
        names
            .into_iter()
            .zip(ratios)
            .map(|(name, values)| Column::new(name.into(), values)),
    );
    columns
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    /// A case with `account` as its account id (the rest fixed).
    fn case_of(account: &Arc<str>) -> CaseRow {
        use crate::model::{Outcome, PeriodLabels, Reason};
        CaseRow {
            case_id: "C".into(),
            account_id: Arc::clone(account),
            tier: "Elite".into(),
            region: "EMEA".into(),
            product: None,
            priority: Priority::P2,
            initial_priority: Priority::P2,
            priority_changes: 0,
            created_at: 0,
            clock_start: 0,
            coverage: crate::calendar::Coverage::Always,
            target_minutes: 60,
            deadline: 0,
            first_response_at: None,
            response_minutes: None,
            outcome: Outcome::Pending,
            breach_minutes: None,
            labels: Arc::new(PeriodLabels {
                period: "2026-Q1".into(),
                month: "2026-01".into(),
            }),
            reason: Reason::OpenBeforeDeadline,
        }
    }

    /// Runs of one shared id, the same text at other addresses, and
    /// different ids of the same length one after another, over more
    /// cases than one thread's slice: every distinct text is ranked, in
    /// text order, whatever address it is at.
    #[test]
    fn account_ranks_follow_text_order_over_runs_copies_and_slices() {
        let texts = ["A-07", "A-03", "B", "A-10", "A-03", "", "A-07", "ZZ"];
        let shared: Vec<Arc<str>> = texts.iter().map(|&t| Arc::from(t)).collect();
        let cases: Vec<CaseRow> = (0..300_000usize)
            .map(|i| {
                let k = (i / (1 + i % 5) + i * 7) % texts.len();
                if i % 11 == 0 {
                    // The same text at an address of its own.
                    case_of(&Arc::from(texts[k]))
                } else {
                    case_of(&shared[k])
                }
            })
            .collect();
        let ranks = Ranks::of(&cases, |c| [&*c.account_id]);
        let mut expected: Vec<&str> = texts.to_vec();
        expected.sort_unstable();
        expected.dedup();
        assert_eq!(ranks.sorted, expected);
        for c in &cases {
            let rank = ranks.rank(&c.account_id) as usize;
            assert_eq!(expected[rank], &*c.account_id);
        }
    }

    #[test]
    fn quantiles_interpolate_linearly_between_closest_ranks() {
        let v = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert_eq!(quantile(&v, 0, 0.5), Some(3.0));
        assert_eq!(quantile(&v, 0, 0.1), Some(1.4));
        assert_eq!(quantile(&v, 0, 0.9), Some(4.6));
        assert_eq!(quantile(&[7.5], 3, 0.9), Some(7.5));
        assert_eq!(quantile(&[], 2, 0.5), None);
        assert_eq!(quantile(&[2.0, 2.0, 9.0], 0, 0.25), Some(2.0));
        // Nulls do not change the value, only the rounding of its position.
        let with_nulls = quantile(&v, 3, 0.9).unwrap();
        assert!((with_nulls - 4.6).abs() < 1e-12);
    }
}
