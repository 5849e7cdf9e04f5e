//! Attainment groups: `attainment.parquet` (period × tier × priority ×
//! region) and `account_attainment.parquet` (period × account × priority).
//!
//! The queries in `sql/` are the one definition of these numbers; they run
//! unchanged in polars SQL ([`run_query`]) and DuckDB, and CI runs them on
//! slt's `case_slt` output and compares with slt's files to 1e-9. slt
//! computes the same numbers natively ([`aggregates`]): one sort of the
//! cases by group, each group's response minutes sorted on their own, and a
//! linear scan, instead of a per-group `QUANTILE_CONT` over a million tiny
//! groups. The cases' text dimensions are ranked once ([`Dimensions`]),
//! for the aggregates and for `case_slt`'s enum columns alike. The native result is the SQL result to the bit (same rows, same
//! order, the same interpolation arithmetic as polars' `QUANTILE_CONT`),
//! its text columns already the enums they are written as: the tests in
//! `tests/it/outputs.rs` compare the two on generated exports.

use polars::prelude::*;
use polars::sql::SQLContext;
use rayon::prelude::*;

use crate::model::{CaseRow, PeriodLabels, Priority};
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
/// `sql/attainment.sql` and `sql/account_attainment.sql` compute them,
/// made side by side of the cases and their ranks ([`Dimensions::of`]
/// the same cases).
pub fn aggregates(cases: &[CaseRow], dims: &Dimensions) -> Result<(DataFrame, DataFrame)> {
    assert_eq!(cases.len(), dims.codes.len(), "the ranks of these cases");
    let (attainment, account_attainment) = rayon::join(
        || attainment(cases, dims),
        || account_attainment(cases, dims),
    );
    Ok((attainment?, account_attainment?))
}

/// `attainment.parquet`: period × tier × priority × region.
fn attainment(cases: &[CaseRow], dims: &Dimensions) -> Result<DataFrame> {
    assert!(
        dims.regions.len() <= 1 << 12 && dims.tiers.len() <= 1 << (DIMS_BITS - 16),
        "more tiers or regions than a key holds"
    );
    let groups = groups(cases, dims, |c, k| {
        (u64::from(k.tier) << 16) | (priority_rank(c.priority) << 12) | u64::from(k.region)
    });
    let priorities = Priority::ALL.map(Priority::as_str);
    let (tiers, regions) = (texts(&dims.tiers), texts(&dims.regions));
    let columns: [Dimension; 3] = [
        ("tier", &tiers, &|d| d >> 16),
        ("priority", &priorities, &|d| (d >> 12) & 0xf),
        ("region", &regions, &|d| d & 0xfff),
    ];
    frame(&groups, dims, &columns)
}

/// `account_attainment.parquet`: period × account × priority.
fn account_attainment(cases: &[CaseRow], dims: &Dimensions) -> Result<DataFrame> {
    let groups = groups(cases, dims, |c, k| {
        (u64::from(k.account) << 4) | priority_rank(c.priority)
    });
    let priorities = Priority::ALL.map(Priority::as_str);
    let accounts = texts(&dims.accounts);
    let columns: [Dimension; 2] = [
        ("account_id", &accounts, &|d| d >> 4),
        ("priority", &priorities, &|d| d & 0xf),
    ];
    frame(&groups, dims, &columns)
}

/// A dimension column of an aggregate: its name, its values in text
/// order, and how a group's packed dimensions give its value's rank.
type Dimension<'a> = (&'a str, &'a [&'a str], &'a (dyn Fn(u64) -> u64 + Sync));

fn priority_rank(p: Priority) -> u64 {
    p.index() as u64
}

/// Texts as the `&str`s a column is made of.
pub fn texts(all: &[Box<str>]) -> Vec<&str> {
    all.iter().map(|t| &**t).collect()
}

/// The text dimensions of the measured cases, ranked once: each
/// dimension's distinct values in text order (so that ranks sort as the
/// text does, `ORDER BY`), and each case's ranks. The aggregates group by
/// the ranks, and `case_slt`'s enum columns are made of them
/// ([`crate::output::frames::CaseSlt`]): a row's text is looked up
/// once, not once for each aggregate, period type and column.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Dimensions {
    /// Account ids, in text order.
    pub accounts: Vec<Box<str>>,
    /// Tiers, in text order.
    pub tiers: Vec<Box<str>>,
    /// Regions, in text order.
    pub regions: Vec<Box<str>>,
    /// Every quarter and month label, in text order (`2026-01` sorts
    /// before `2026-Q1`; `case_slt`'s `period` and `month` share them).
    pub periods: Vec<Box<str>>,
    /// For a month label's place in `periods`, its quarter's place.
    quarter_of: Vec<u32>,
    /// Each case's ranks, in the cases' order.
    pub codes: Vec<Codes>,
}

/// One case's ranks among the values of [`Dimensions`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Codes {
    /// Its account id's place in `accounts`.
    pub account: u32,
    /// Its month label's place in `periods`.
    pub month: u32,
    /// Its tier's place in `tiers`.
    pub tier: u32,
    /// Its region's place in `regions`.
    pub region: u32,
}

impl Dimensions {
    /// The ranks of `cases`' accounts, tiers, regions and period labels.
    ///
    /// A row's texts are shared (interned `Arc<str>`s, one pair of labels
    /// per month), so a value is found by its address, not hashed as text;
    /// two addresses holding the same text have the same rank. The cases
    /// are walked once, in one slice per thread, each slice numbering the
    /// addresses it meets (a value at the address the case before had is
    /// not looked up again) and writing each case's numbers; once every
    /// value is known and sorted, each slice's numbers become ranks.
    pub fn of(cases: &[CaseRow]) -> Dimensions {
        let slice = cases
            .len()
            .div_ceil(rayon::current_num_threads().max(1))
            .max(1 << 16);
        let mut codes = vec![Codes::default(); cases.len()];
        let slices: Vec<Slots> = cases
            .par_chunks(slice)
            .zip(codes.par_chunks_mut(slice))
            .map(|(chunk, codes)| Slots::of(chunk, codes))
            .collect();
        // Each dimension's distinct texts in text order, and for each
        // slice, each of its numbers' rank.
        let rank = |k: usize| {
            // The slices share most of their values (the same addresses):
            // each address's text is ranked once ([`rank_texts`]).
            let mut at: PlHashMap<(usize, usize), &str> = PlHashMap::default();
            for s in &slices {
                at.extend(s.texts[k].iter().map(|&t| (address(t), t)));
            }
            let (addresses, texts): (Vec<(usize, usize)>, Vec<&str>) = at.into_iter().unzip();
            let (sorted, rank) = rank_texts(&texts, |_| true);
            let rank_of: PlHashMap<(usize, usize), u32> = addresses.into_iter().zip(rank).collect();
            let ranks: Vec<Vec<u32>> = slices
                .iter()
                .map(|s| s.texts[k].iter().map(|&t| rank_of[&address(t)]).collect())
                .collect();
            (sorted, ranks)
        };
        let [accounts, tiers, regions] = [0, 1, 2].map(rank);
        // Period labels: each month's pair gives its month's place and,
        // through `quarter_of`, its quarter's.
        let mut periods: Vec<&str> = slices
            .iter()
            .flat_map(|s| &s.labels)
            .flat_map(|l| [&*l.period, &*l.month])
            .collect();
        periods.sort_unstable();
        periods.dedup();
        let mut quarter_of = vec![0; periods.len()];
        let months: Vec<Vec<u32>> = slices
            .iter()
            .map(|s| {
                s.labels
                    .iter()
                    .map(|l| {
                        let month = place(&periods, &l.month);
                        quarter_of[month as usize] = place(&periods, &l.period);
                        month
                    })
                    .collect()
            })
            .collect();
        codes
            .par_chunks_mut(slice)
            .enumerate()
            .for_each(|(s, codes)| {
                for k in codes {
                    *k = Codes {
                        account: accounts.1[s][k.account as usize],
                        month: months[s][k.month as usize],
                        tier: tiers.1[s][k.tier as usize],
                        region: regions.1[s][k.region as usize],
                    };
                }
            });
        let owned = |texts: Vec<&str>| texts.into_iter().map(Box::from).collect();
        Dimensions {
            accounts: owned(accounts.0),
            tiers: owned(tiers.0),
            regions: owned(regions.0),
            periods: owned(periods),
            quarter_of,
            codes,
        }
    }

    /// A case's quarter label's place in `periods`.
    pub fn quarter(&self, codes: &Codes) -> u32 {
        self.quarter_of[codes.month as usize]
    }
}

/// The sorted distinct texts of the slots of `texts` that are `used` (the
/// texts in any order, one text possibly in several slots), and each
/// slot's rank among them: the slots are put in their texts' order and a
/// slot's rank is how many distinct texts come before its own, counted
/// as they are walked (searching each text among the sorted texts
/// compared it 19 times more at 500,000 accounts). An unused slot's rank
/// is 0.
pub(crate) fn rank_texts<'t>(
    texts: &[&'t str],
    used: impl Fn(usize) -> bool,
) -> (Vec<&'t str>, Vec<u32>) {
    let mut order: Vec<u32> = (0..texts.len() as u32)
        .filter(|&slot| used(slot as usize))
        .collect();
    order.par_sort_unstable_by_key(|&slot| texts[slot as usize]);
    let mut sorted: Vec<&str> = Vec::with_capacity(order.len());
    let mut rank = vec![0u32; texts.len()];
    for slot in order {
        let text = texts[slot as usize];
        if sorted.last() != Some(&text) {
            sorted.push(text);
        }
        rank[slot as usize] = sorted.len() as u32 - 1;
    }
    (sorted, rank)
}

/// `text`'s place in `sorted`, which holds it.
fn place(sorted: &[&str], text: &str) -> u32 {
    sorted.binary_search(&text).expect("a value seen") as u32
}

/// The values one slice of cases holds, each numbered as first met (by
/// address): the account ids, tiers, regions, and the period labels.
#[derive(Default)]
struct Slots<'a> {
    texts: [Vec<&'a str>; 3],
    labels: Vec<&'a PeriodLabels>,
}

impl<'a> Slots<'a> {
    /// The values of `cases`, and in `codes` each case's numbers.
    fn of(cases: &'a [CaseRow], codes: &mut [Codes]) -> Slots<'a> {
        let mut slots = Slots::default();
        let mut numbers: [PlHashMap<(usize, usize), u32>; 3] = Default::default();
        let mut label_numbers: PlHashMap<usize, u32> = PlHashMap::default();
        // The case before's addresses and numbers.
        let mut before = [((0, 0), 0); 3];
        let mut labels_before = (0, 0);
        for (c, out) in cases.iter().zip(codes) {
            let texts: [&str; 3] = [&c.account_id, &c.tier, &c.region];
            let mut number = [0; 3];
            for (k, text) in texts.into_iter().enumerate() {
                let at = address(text);
                if at != before[k].0 {
                    let seen = &mut slots.texts[k];
                    let n = *numbers[k].entry(at).or_insert_with(|| {
                        seen.push(text);
                        seen.len() as u32 - 1
                    });
                    before[k] = (at, n);
                }
                number[k] = before[k].1;
            }
            let at = std::sync::Arc::as_ptr(&c.labels) as usize;
            if at != labels_before.0 {
                let seen = &mut slots.labels;
                let n = *label_numbers.entry(at).or_insert_with(|| {
                    seen.push(&c.labels);
                    seen.len() as u32 - 1
                });
                labels_before = (at, n);
            }
            *out = Codes {
                account: number[0],
                month: labels_before.1,
                tier: number[1],
                region: number[2],
            };
        }
        slots
    }
}

/// Where a text is, and how long: the same address and length are the
/// same text.
pub(crate) fn address(text: &str) -> (usize, usize) {
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
fn groups(
    cases: &[CaseRow],
    dims: &Dimensions,
    packed: impl Fn(&CaseRow, &Codes) -> u64 + Sync,
) -> Vec<Group> {
    // One entry per case, 16 bytes: its key (period rank, dimensions, and
    // in the lowest two bits the outcome, so that a group is a run of keys
    // equal but for those) and its response minutes (the bits of a
    // non-negative float, which sort as the float does; none: u64::MAX).
    assert!(
        dims.periods.len() <= 1 << (64 - DIMS_BITS - 2),
        "more period labels than a key holds"
    );
    let mut entries: Vec<(u64, u64)> = cases
        .par_iter()
        .zip(&dims.codes)
        .map(|(c, k)| {
            let group = (u64::from(k.month) << DIMS_BITS) | packed(c, k);
            let minutes = c.response_minutes.map_or(u64::MAX, f64::to_bits);
            ((group << 2) | c.outcome.index() as u64, minutes)
        })
        .collect();
    // Month groups sort before quarter groups. The quarters' entries are
    // the months', each relabelled with its month's quarter (the cases
    // are not read again).
    let mut all = period_groups(&mut entries, false);
    let shift = DIMS_BITS + 2;
    entries.par_iter_mut().for_each(|e| {
        let quarter = u64::from(dims.quarter_of[(e.0 >> shift) as usize]);
        e.0 = (quarter << shift) | (e.0 & ((1 << shift) - 1));
    });
    all.append(&mut period_groups(&mut entries, true));
    all
}

/// Bits of a group's packed dimensions other than the period.
const DIMS_BITS: u32 = 44;

/// The groups of one period type (`quarter` or month) of its entries (see
/// [`groups`]), sorted by key: the entries are sorted by key alone, then
/// each group's minutes on their own.
fn period_groups(entries: &mut [(u64, u64)], quarter: bool) -> Vec<Group> {
    entries.par_sort_unstable_by_key(|e| e.0);
    if entries.is_empty() {
        // No case (a shard of a small export may have none): no group.
        return Vec::new();
    }
    let entries = &*entries;
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
fn frame(groups: &[Group], ranked: &Dimensions, dims: &[Dimension]) -> Result<DataFrame> {
    // The text columns side by side, and beside them the numbers.
    let periods = texts(&ranked.periods);
    let (texts, mut numbers) = rayon::join(
        || text_columns(groups, &periods, dims),
        || number_columns(groups),
    );
    let mut columns = texts?;
    columns.append(&mut numbers);
    Ok(DataFrame::new(groups.len(), columns)?)
}

/// The aggregate's text columns, side by side: `period_type`, `period`,
/// then `dims`.
fn text_columns(groups: &[Group], periods: &[&str], dims: &[Dimension]) -> Result<Vec<Column>> {
    /// Where a column's rank comes from.
    #[derive(Clone, Copy)]
    enum Of {
        PeriodType,
        Period,
        Dim(usize),
    }
    let mut specs: Vec<(&str, &[&str], Of)> = vec![
        ("period_type", &["month", "quarter"], Of::PeriodType),
        ("period", periods, Of::Period),
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
            enum_column_of_ranks(name, texts, groups.iter().map(|g| rank(g) as u32))
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
    /// cases than one thread's slice; tiers, regions and months likewise:
    /// every distinct text is ranked, in text order, whatever address it
    /// is at, and each case's quarter is its month's.
    #[test]
    fn ranks_follow_text_order_over_runs_copies_and_slices() {
        use crate::model::PeriodLabels;
        let texts = ["A-07", "A-03", "B", "A-10", "A-03", "", "A-07", "ZZ"];
        let shared: Vec<Arc<str>> = texts.iter().map(|&t| Arc::from(t)).collect();
        let tiers: [Arc<str>; 2] = ["Online".into(), "Elite".into()];
        let regions: [Arc<str>; 3] = ["EMEA".into(), "AMER".into(), "APJ".into()];
        let labels = |month: u32| {
            Arc::new(PeriodLabels {
                period: format!("2026-Q{}", (month - 1) / 3 + 1).into(),
                month: format!("2026-{month:02}").into(),
            })
        };
        let months: Vec<Arc<PeriodLabels>> = (1..=12).map(labels).collect();
        let cases: Vec<CaseRow> = (0..300_000usize)
            .map(|i| {
                let k = (i / (1 + i % 5) + i * 7) % texts.len();
                let mut case = if i % 11 == 0 {
                    // The same text at an address of its own.
                    case_of(&Arc::from(texts[k]))
                } else {
                    case_of(&shared[k])
                };
                case.tier = match i % 13 {
                    0 => Arc::from(&*tiers[i % 2]),
                    _ => Arc::clone(&tiers[(i / 7) % 2]),
                };
                case.region = Arc::clone(&regions[(i / 1000) % 3]);
                let month = (i / 25_000) % 12;
                case.labels = match i % 17 {
                    0 => labels(month as u32 + 1),
                    _ => Arc::clone(&months[month]),
                };
                case
            })
            .collect();
        let dims = Dimensions::of(&cases);
        let sorted = |all: &[&str]| {
            let mut all = all.to_vec();
            all.sort_unstable();
            all.dedup();
            all.into_iter().map(Box::from).collect::<Vec<Box<str>>>()
        };
        assert_eq!(dims.accounts, sorted(&texts));
        assert_eq!(dims.tiers, sorted(&["Online", "Elite"]));
        assert_eq!(dims.regions, sorted(&["EMEA", "AMER", "APJ"]));
        let all_labels: Vec<&str> = months
            .iter()
            .flat_map(|l| [&*l.period, &*l.month])
            .collect();
        assert_eq!(dims.periods, sorted(&all_labels));
        assert_eq!(dims.codes.len(), cases.len());
        for (c, k) in cases.iter().zip(&dims.codes) {
            assert_eq!(&*dims.accounts[k.account as usize], &*c.account_id);
            assert_eq!(&*dims.tiers[k.tier as usize], &*c.tier);
            assert_eq!(&*dims.regions[k.region as usize], &*c.region);
            assert_eq!(&*dims.periods[k.month as usize], c.month());
            assert_eq!(&*dims.periods[dims.quarter(k) as usize], c.period());
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
