//! Typed rows → the output DataFrames, built once: `case_slt`, `rejects`,
//! `entitlements` and `entitlement_findings`. Column names live in
//! [`col`]; text dimensions are enums (dictionary-encoded, categories
//! sorted so the same data gives the same bytes), timestamps microsecond
//! UTC, counts 64-bit integers.

use polars::prelude::*;
use rayon::prelude::*;

use std::fmt::Write as _;
use std::sync::Arc;

use crate::aggregate::{self, Codes, Dimensions};
use crate::calendar::Coverage;
use crate::entitlements::check::{Finding, YearRow};
use crate::ingest::{RejectRow, Rejects};
use crate::model::{CaseRow, Outcome, Priority, Reason, Table};
use crate::policy::Policy;
use crate::Result;

/// Output column names.
pub mod col {
    /// Case id.
    pub const CASE_ID: &str = "case_id";
    /// Account id.
    pub const ACCOUNT_ID: &str = "account_id";
    /// Tier of the contract in force at creation.
    pub const TIER: &str = "tier";
    /// Region of the contract in force at creation.
    pub const REGION: &str = "region";
    /// Product.
    pub const PRODUCT: &str = "product";
    /// Priority in force when the measurement ended.
    pub const PRIORITY: &str = "priority";
    /// Priority at creation.
    pub const INITIAL_PRIORITY: &str = "initial_priority";
    /// Priority changes that took effect.
    pub const PRIORITY_CHANGES: &str = "priority_changes";
    /// Creation instant.
    pub const CREATED_AT: &str = "created_at";
    /// Clock start in force.
    pub const CLOCK_START: &str = "clock_start";
    /// Coverage in force.
    pub const COVERAGE: &str = "coverage";
    /// Target in force, business minutes.
    pub const TARGET_MINUTES: &str = "target_minutes";
    /// Deadline in force.
    pub const DEADLINE: &str = "deadline";
    /// First public agent response.
    pub const FIRST_RESPONSE_AT: &str = "first_response_at";
    /// Business minutes from clock start to first response.
    pub const RESPONSE_BUSINESS_MINUTES: &str = "response_business_minutes";
    /// met | breached | pending | excluded.
    pub const OUTCOME: &str = "outcome";
    /// Business minutes past the target.
    pub const BREACH_BUSINESS_MINUTES: &str = "breach_business_minutes";
    /// Quarter of creation in the report zone (`2026-Q3`).
    pub const PERIOD: &str = "period";
    /// Month of creation in the report zone (`2026-07`).
    pub const MONTH: &str = "month";
    /// Why the case has its outcome (`answered_late`, …): the last column.
    pub const REASON: &str = "reason";
    /// Shards only: the case's 0-based row in the cases table.
    pub const SOURCE_ROW: &str = "source_row";
}

/// Builds a text column whose type is an enum of its sorted distinct values.
pub fn enum_column(name: &str, values: &[Option<&str>]) -> Result<Column> {
    Ok(shared_enum_columns(&[(name, values)])?.remove(0))
}

/// Builds text columns sharing one enum: the sorted distinct values of them
/// all. Each value is hashed once, unless it is the value before it
/// (tables listed by account, one row per account and year and service,
/// repeat each value for a run of rows: 4.4 M rows, 500,000 accounts in
/// `entitlements.parquet`); the enum is built from its codes, never by
/// casting text.
pub fn shared_enum_columns(columns: &[(&str, &[Option<&str>])]) -> Result<Vec<Column>> {
    let mut index: PlHashMap<&str, u32> = PlHashMap::default();
    let first_seen: Vec<Vec<Option<u32>>> = columns
        .iter()
        .map(|(_, values)| {
            let mut before: Option<(&str, u32)> = None;
            values
                .iter()
                .map(|v| {
                    v.map(|s| match before {
                        Some((text, slot)) if text == s => slot,
                        _ => {
                            let next = index.len() as u32;
                            let slot = *index.entry(s).or_insert(next);
                            before = Some((s, slot));
                            slot
                        }
                    })
                })
                .collect()
        })
        .collect();
    let mut texts = vec![""; index.len()];
    for (text, slot) in index {
        texts[slot as usize] = text;
    }
    let names = columns.iter().map(|(name, _)| *name);
    enum_columns_of_slots(names, &texts, first_seen)
}

/// An enum column of `codes`, each the position of its text in `texts`
/// (sorted, distinct): the enum is the texts the codes use, as
/// [`enum_column`] makes it of the same values, built without hashing one.
pub fn enum_column_of_ranks(
    name: &str,
    texts: &[&str],
    codes: impl Iterator<Item = u32> + Clone,
) -> Result<Column> {
    Ok(enum_columns_of_ranks(&[name], texts, &[codes])?.remove(0))
}

/// Enum columns named `names` sharing one enum, each of its `codes` (the
/// positions of their texts in `texts`, sorted and distinct): the enum is
/// the texts any of them uses, as [`shared_enum_columns`] makes it of the
/// same values.
pub fn enum_columns_of_ranks<I: Iterator<Item = u32> + Clone>(
    names: &[&str],
    texts: &[&str],
    codes: &[I],
) -> Result<Vec<Column>> {
    debug_assert!(texts.windows(2).all(|w| w[0] < w[1]), "sorted, distinct");
    let mut used = vec![false; texts.len()];
    for codes in codes {
        codes.clone().for_each(|c| used[c as usize] = true);
    }
    let present: Vec<&str> = texts
        .iter()
        .zip(&used)
        .filter_map(|(t, u)| u.then_some(*t))
        .collect();
    let mut renumbered = vec![0u32; texts.len()];
    let mut next = 0;
    for (slot, u) in renumbered.iter_mut().zip(&used) {
        *slot = next;
        next += u32::from(*u);
    }
    let codes = codes
        .iter()
        .map(|codes| codes.clone().map(|c| Some(renumbered[c as usize])))
        .collect();
    enum_columns_of_sorted(names.iter().copied(), &present, codes)
}

/// Enum columns named `names` from their codes, each a slot of `texts`
/// (one text may fill several slots): the enum is the sorted distinct
/// texts, each code replaced by its text's position.
fn enum_columns_of_slots<'a, C: IntoIterator<Item = Option<u32>>>(
    names: impl Iterator<Item = &'a str>,
    texts: &[&str],
    codes: Vec<C>,
) -> Result<Vec<Column>> {
    // The slots in their texts' order; a slot's rank is how many distinct
    // texts come before its own. (Sorting the texts, then searching each
    // among them, compared each text twice as often: a third of making
    // `case_slt`'s account column at 500,000 accounts.)
    let mut order: Vec<u32> = (0..texts.len() as u32).collect();
    order.sort_unstable_by_key(|&slot| texts[slot as usize]);
    let mut cats: Vec<&str> = Vec::with_capacity(texts.len());
    let mut rank = vec![0u32; texts.len()];
    for &slot in &order {
        let text = texts[slot as usize];
        if cats.last() != Some(&text) {
            cats.push(text);
        }
        rank[slot as usize] = cats.len() as u32 - 1;
    }
    let codes = codes
        .into_iter()
        .map(|codes| codes.into_iter().map(|c| c.map(|c| rank[c as usize])))
        .collect();
    enum_columns_of_sorted(names, &cats, codes)
}

/// Enum columns named `names` sharing the enum of `cats` (sorted,
/// distinct), each of its codes (positions in `cats`).
fn enum_columns_of_sorted<'a, C: Iterator<Item = Option<u32>>>(
    names: impl Iterator<Item = &'a str>,
    cats: &[&str],
    codes: Vec<C>,
) -> Result<Vec<Column>> {
    let frozen = FrozenCategories::new(cats.iter().copied())?;
    let dtype = DataType::from_frozen_categories(frozen);
    let physical = dtype.cat_physical()?;
    Ok(names
        .zip(codes)
        .map(|(name, codes)| enum_series(name.into(), codes, &dtype, physical).into_column())
        .collect())
}

/// The values of column `name` of `df` as owned text (any type cast to text).
pub fn text_values(df: &DataFrame, name: &str) -> Result<Vec<Option<String>>> {
    let s = df
        .column(name)?
        .as_materialized_series()
        .cast(&DataType::String)?;
    Ok(s.str()?.iter().map(|v| v.map(str::to_string)).collect())
}

/// Builds a UTC microsecond timestamp column.
pub fn timestamp_column(name: &str, values: impl IntoIterator<Item = Option<i64>>) -> Column {
    Int64Chunked::from_iter_options(name.into(), values.into_iter())
        .into_datetime(TimeUnit::Microseconds, Some(TimeZone::UTC))
        .into_column()
}

/// Casts every `String` column of `df` to an enum of its values.
pub fn strings_to_enums(df: &DataFrame) -> Result<DataFrame> {
    let mut cols = Vec::with_capacity(df.width());
    for c in df.columns() {
        if c.dtype() == &DataType::String {
            let ca = c.as_materialized_series().str().expect("string").clone();
            let values: Vec<Option<&str>> = ca.iter().collect();
            cols.push(enum_column(c.name(), &values)?);
        } else {
            cols.push(c.clone());
        }
    }
    Ok(DataFrame::new(df.height(), cols)?)
}

/// `case_slt` as written: text dimensions as enums, `case_id` (unique, so
/// nothing to share) as plain text in the first column. `period` and
/// `month` share one enum (every quarter and month label, sorted), so that
/// a reader's `UNION ALL` of the two (`sql/attainment.sql`) combines them:
/// polars refuses two different enums.
pub fn case_slt_for_writing(case_slt: &DataFrame) -> Result<DataFrame> {
    let mut typed = strings_to_enums(&case_slt.drop_many([col::CASE_ID]))?;
    typed.insert_column(0, case_slt.column(col::CASE_ID)?.clone())?;
    let labels = |name: &str| -> Result<Vec<Option<&str>>> {
        Ok(case_slt.column(name)?.str()?.iter().collect())
    };
    let (periods, months) = (labels(col::PERIOD)?, labels(col::MONTH)?);
    let shared = shared_enum_columns(&[(col::PERIOD, &periods), (col::MONTH, &months)])?;
    for column in shared {
        let at = typed
            .get_column_index(column.name())
            .expect("case_slt column");
        typed.replace_column(at, column)?;
    }
    Ok(typed)
}

/// The `case_slt` frame of measured cases, as written: `case_id` plain
/// text, the other text dimensions enums built straight from the rows'
/// ranks ([`Dimensions`]: account, tier, region, and `period` and `month`
/// sharing one enum, as [`case_slt_for_writing`] makes them) or their
/// shared texts (product). No column of text is copied on the way: at
/// 10 M cases the frame is built beside the rows (see [`case_slt_of`]).
/// The rows are walked a few times, not once per column: the numbers in
/// one pass, the dimensions slt names itself (priorities, coverage,
/// outcome, reason) in another, each side by side with the others.
pub fn case_slt(rows: &[CaseRow]) -> Result<DataFrame> {
    let dims = Dimensions::of(rows);
    let ids = rows.iter().map(|r| &*r.case_id);
    let (ids, others) = rayon::join(
        || StringChunked::from_iter_values(col::CASE_ID.into(), ids),
        || case_slt_columns(rows, &dims),
    );
    case_slt_frame(rows.len(), ids.into_column(), others?)
}

/// [`case_slt`] of rows given up for it (`slt report` writes them and
/// needs them no more), with their ranks (`dims`, [`Dimensions::of`] the
/// same rows, made for the aggregates), and what `beside` makes of them
/// meanwhile (the charts' data). Each row's id moves into the `case_id`
/// column as the column is made, its own copy freed there and then, so
/// that no id is held twice; the rows go once the frame is made. On a
/// 10 M-case export with 41-byte ids, the most the write stage held fell
/// from 4.2 GiB (rows, ids, frame and the file being encoded) to 3.7 GiB.
pub fn case_slt_of<T: Send>(
    mut rows: Vec<CaseRow>,
    dims: Dimensions,
    beside: impl FnOnce(&[CaseRow]) -> T + Send,
) -> (Result<DataFrame>, T) {
    let none: Arc<str> = Arc::from("");
    let ids: Vec<Arc<str>> = rows
        .iter_mut()
        .map(|r| std::mem::replace(&mut r.case_id, Arc::clone(&none)))
        .collect();
    // The ids' column first, their copies freed as it is made (and their
    // pages given back), then the other columns.
    let (ids, made) = rayon::join(
        || StringChunked::from_iter_values(col::CASE_ID.into(), ids.into_iter()),
        || beside(&rows),
    );
    crate::allocator::release_free_pages();
    let frame = case_slt_columns(&rows, &dims)
        .and_then(|others| case_slt_frame(rows.len(), ids.into_column(), others));
    // Every name left in a row is shared, and lives as long as slt: only
    // the vector is freed, not a reference count per name per row given
    // back (0.6 s at 10 M cases, for nothing).
    rows.into_iter().for_each(std::mem::forget);
    (frame, made)
}

/// Every column of `case_slt` but `case_id`. The account, tier, region,
/// period and month columns are made of the rows' ranks (`dims`), the
/// product's of the rows' texts.
fn case_slt_columns(rows: &[CaseRow], dims: &Dimensions) -> Result<Vec<Column>> {
    assert_eq!(rows.len(), dims.codes.len(), "the ranks of these rows");
    let of_ranks = |name: &'static str, texts: &[Box<str>], code: fn(&Codes) -> u32| {
        enum_column_of_ranks(name, &aggregate::texts(texts), dims.codes.iter().map(code))
            .map(|c| vec![c])
    };
    let enums = |name: &'static str, f: RowText| -> Make<'_> {
        Box::new(move || row_enum_columns(rows, &[(name, f)]))
    };
    let columns: Vec<Make> = vec![
        Box::new(move || of_ranks(col::ACCOUNT_ID, &dims.accounts, |k| k.account)),
        Box::new(move || of_ranks(col::TIER, &dims.tiers, |k| k.tier)),
        Box::new(move || of_ranks(col::REGION, &dims.regions, |k| k.region)),
        enums(col::PRODUCT, |r| r.product.as_deref()),
        Box::new(|| {
            // `period` and `month` share one enum: every label either holds.
            let label = |quarter: bool| {
                dims.codes.iter().map(move |k| match quarter {
                    true => dims.quarter(k),
                    false => k.month,
                })
            };
            enum_columns_of_ranks(
                &[col::PERIOD, col::MONTH],
                &aggregate::texts(&dims.periods),
                &[label(true), label(false)],
            )
        }),
        Box::new(|| named_columns(rows)),
        Box::new(|| Ok(number_columns(rows))),
    ];
    Ok(columns
        .par_iter()
        .map(|make| make())
        .collect::<Result<Vec<_>>>()?
        .into_iter()
        .flatten()
        .collect())
}

/// The `case_slt` frame of its columns, in the order written.
fn case_slt_frame(height: usize, ids: Column, mut made: Vec<Column>) -> Result<DataFrame> {
    made.push(ids);
    let mut ordered = Vec::with_capacity(CASE_SLT_COLUMNS.len());
    for name in CASE_SLT_COLUMNS {
        let at = made
            .iter()
            .position(|c| c.name().as_str() == name)
            .expect("every case_slt column is made");
        ordered.push(made.swap_remove(at));
    }
    Ok(DataFrame::new(height, ordered)?)
}

/// The columns of `case_slt`, in order.
const CASE_SLT_COLUMNS: [&str; 20] = [
    col::CASE_ID,
    col::ACCOUNT_ID,
    col::TIER,
    col::REGION,
    col::PRODUCT,
    col::PRIORITY,
    col::INITIAL_PRIORITY,
    col::PRIORITY_CHANGES,
    col::CREATED_AT,
    col::CLOCK_START,
    col::COVERAGE,
    col::TARGET_MINUTES,
    col::DEADLINE,
    col::FIRST_RESPONSE_AT,
    col::RESPONSE_BUSINESS_MINUTES,
    col::OUTCOME,
    col::BREACH_BUSINESS_MINUTES,
    col::PERIOD,
    col::MONTH,
    col::REASON,
];

/// The number and timestamp columns of `case_slt`, in one pass, each
/// built in place as it will be held (a value and a validity bit a row).
fn number_columns(rows: &[CaseRow]) -> Vec<Column> {
    type Ints = PrimitiveChunkedBuilder<Int64Type>;
    type Floats = PrimitiveChunkedBuilder<Float64Type>;
    let n = rows.len();
    let ints = |name: &str| Ints::new(name.into(), n);
    let (mut changes, mut targets) = (ints(col::PRIORITY_CHANGES), ints(col::TARGET_MINUTES));
    let (mut created, mut starts) = (ints(col::CREATED_AT), ints(col::CLOCK_START));
    let (mut deadlines, mut responses) = (ints(col::DEADLINE), ints(col::FIRST_RESPONSE_AT));
    let mut minutes = Floats::new(col::RESPONSE_BUSINESS_MINUTES.into(), n);
    let mut breaches = Floats::new(col::BREACH_BUSINESS_MINUTES.into(), n);
    for r in rows {
        changes.append_value(i64::from(r.priority_changes));
        targets.append_value(r.target_minutes);
        created.append_value(r.created_at);
        starts.append_value(r.clock_start);
        deadlines.append_value(r.deadline);
        responses.append_option(r.first_response_at);
        minutes.append_option(r.response_minutes);
        breaches.append_option(r.breach_minutes);
    }
    let instant = |b: Ints| {
        b.finish()
            .into_datetime(TimeUnit::Microseconds, Some(TimeZone::UTC))
            .into_column()
    };
    vec![
        changes.finish().into_column(),
        targets.finish().into_column(),
        instant(created),
        instant(starts),
        instant(deadlines),
        instant(responses),
        minutes.finish().into_column(),
        breaches.finish().into_column(),
    ]
}

/// The columns of the dimensions slt names itself (priorities, coverage,
/// outcome, reason), in one pass: each value's position in its type's
/// list, then the enum of the values present, as [`enum_column`] makes
/// it of their text.
fn named_columns(rows: &[CaseRow]) -> Result<Vec<Column>> {
    let texts = |all: &[&'static str]| all.to_vec();
    let lists: [(&str, Vec<&'static str>); 5] = [
        (col::PRIORITY, texts(&Priority::ALL.map(Priority::as_str))),
        (
            col::INITIAL_PRIORITY,
            texts(&Priority::ALL.map(Priority::as_str)),
        ),
        (col::COVERAGE, texts(&Coverage::ALL.map(Coverage::as_str))),
        (col::OUTCOME, texts(&Outcome::ALL.map(Outcome::as_str))),
        (col::REASON, texts(&Reason::ALL.map(Reason::as_str))),
    ];
    let mut codes: [Vec<u32>; 5] = std::array::from_fn(|_| Vec::with_capacity(rows.len()));
    for r in rows {
        codes[0].push(r.priority.index() as u32);
        codes[1].push(r.initial_priority.index() as u32);
        codes[2].push(position(&Coverage::ALL, &r.coverage));
        codes[3].push(position(&Outcome::ALL, &r.outcome));
        codes[4].push(position(&Reason::ALL, &r.reason));
    }
    lists
        .iter()
        .zip(codes)
        .map(|((name, list), codes)| {
            // The list in text order, and each value's place in it.
            let mut sorted: Vec<(&str, u32)> = list.iter().copied().zip(0..).collect();
            sorted.sort_unstable();
            let mut place = vec![0u32; list.len()];
            for (at, (_, was)) in sorted.iter().enumerate() {
                place[*was as usize] = at as u32;
            }
            let texts: Vec<&str> = sorted.iter().map(|(t, _)| *t).collect();
            enum_column_of_ranks(name, &texts, codes.iter().map(|&c| place[c as usize]))
        })
        .collect()
}

/// Where `value` is in `all`.
fn position<T: PartialEq>(all: &[T], value: &T) -> u32 {
    all.iter().position(|v| v == value).expect("in its list") as u32
}

/// Makes one or more columns of a frame.
type Make<'a> = Box<dyn Fn() -> Result<Vec<Column>> + Send + Sync + 'a>;

/// How a text dimension is read off a row.
type RowText = for<'r> fn(&'r CaseRow) -> Option<&'r str>;

/// Columns of the rows' text dimensions sharing one enum (the sorted
/// distinct values of them all), as [`shared_enum_columns`] makes them
/// from text. A row's text is shared (an interned `Arc<str>`, a `&'static
/// str`), so each value is found by its address, not hashed as text: a
/// few thousand distinct values over millions of rows. Two addresses
/// holding the same text are one category.
fn row_enum_columns(rows: &[CaseRow], columns: &[(&str, RowText)]) -> Result<Vec<Column>> {
    const NONE: u32 = u32::MAX;
    let mut slots: PlHashMap<(usize, usize), u32> = PlHashMap::default();
    let mut texts: Vec<&str> = Vec::new();
    let codes: Vec<Vec<u32>> = columns
        .iter()
        .map(|(_, f)| {
            rows.iter()
                .map(|r| match f(r) {
                    None => NONE,
                    Some(text) => *slots
                        .entry((text.as_ptr() as usize, text.len()))
                        .or_insert_with(|| {
                            texts.push(text);
                            texts.len() as u32 - 1
                        }),
                })
                .collect()
        })
        .collect();
    let codes = codes
        .into_iter()
        .map(|codes| codes.into_iter().map(|c| (c != NONE).then_some(c)));
    enum_columns_of_slots(
        columns.iter().map(|(name, _)| *name),
        &texts,
        codes.collect(),
    )
}

/// An enum column of `dtype` from its codes (category positions), in the
/// physical type polars chose for that many categories; the codes are
/// below the count, so each narrowing is exact.
fn enum_series(
    name: PlSmallStr,
    codes: impl Iterator<Item = Option<u32>>,
    dtype: &DataType,
    physical: CategoricalPhysical,
) -> Series {
    match physical {
        CategoricalPhysical::U8 => CategoricalChunked::<Categorical8Type>::from_cats_and_dtype(
            UInt8Chunked::from_iter_options(name, codes.map(|c| c.map(|c| c as u8))),
            dtype.clone(),
        )
        .into_series(),
        CategoricalPhysical::U16 => CategoricalChunked::<Categorical16Type>::from_cats_and_dtype(
            UInt16Chunked::from_iter_options(name, codes.map(|c| c.map(|c| c as u16))),
            dtype.clone(),
        )
        .into_series(),
        CategoricalPhysical::U32 => CategoricalChunked::<Categorical32Type>::from_cats_and_dtype(
            UInt32Chunked::from_iter_options(name, codes),
            dtype.clone(),
        )
        .into_series(),
    }
}

/// A shard's `case_slt` (`slt report --shard`): every text dimension as
/// plain text, so that all shards read as one table whatever values each
/// holds, and a last column `source_row`, the case's 0-based row in the
/// cases table, by which `slt merge` restores the single run's order.
pub fn shard_case_slt(
    case_slt: &DataFrame,
    source_rows: impl Iterator<Item = u32>,
) -> Result<DataFrame> {
    let mut df = as_text(case_slt)?;
    df.with_column(Column::new(
        col::SOURCE_ROW.into(),
        source_rows.map(i64::from).collect::<Vec<i64>>(),
    ))?;
    Ok(df)
}

/// `df` with every enum column cast back to plain text: `case_slt` as the
/// SQL of `sql/` and the partitioned layout take it.
pub fn as_text(df: &DataFrame) -> Result<DataFrame> {
    let mut cols = Vec::with_capacity(df.width());
    for c in df.columns() {
        cols.push(if matches!(c.dtype(), DataType::Enum(..)) {
            c.cast(&DataType::String)?
        } else {
            c.clone()
        });
    }
    Ok(DataFrame::new(df.height(), cols)?)
}

/// The `rejects` frame, sorted by table and row (vendor records rejected
/// on import, row 0, first, in the importer's order).
pub fn rejects(rejects: &Rejects) -> Result<DataFrame> {
    let rows = rejects.rows();
    // Sorted by table and row, the list's order kept among equals (its
    // place last in the key): places, not the rejects, are sorted.
    let mut order: Vec<(Table, u64, u32)> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| (r.table, r.row_number, i as u32))
        .collect();
    order.sort_unstable();
    let sorted = || order.iter().map(|&(_, _, i)| rows.get(i as usize));
    let text = |name: &str, f: for<'r> fn(RejectRow<'r>) -> Option<&'r str>| {
        let values: Vec<Option<&str>> = sorted().map(f).collect();
        Ok(Column::new(name.into(), values))
    };
    type Make<'a> = &'a (dyn Fn() -> Result<Column> + Sync);
    let columns: [Make; 9] = [
        &|| {
            enum_column(
                "table",
                &sorted().map(|r| Some(r.table.name())).collect::<Vec<_>>(),
            )
        },
        &|| {
            let numbers: Vec<i64> = sorted().map(|r| r.row_number as i64).collect();
            Ok(Column::new("row_number".into(), numbers))
        },
        &|| text("key", |r| r.key),
        &|| text("column", |r| Some(r.column)),
        &|| text("value", |r| r.value),
        &|| text("reason", |r| Some(r.reason.phrase())),
        &|| {
            enum_column(
                "reason_code",
                &sorted().map(|r| Some(r.reason.code())).collect::<Vec<_>>(),
            )
        },
        &|| text("file", |r| Some(r.file)),
        &|| {
            // Each `row N` written into one buffer, not a string of its own.
            let mut locators = StringChunkedBuilder::new("locator".into(), order.len());
            let mut buffer = String::new();
            for r in sorted() {
                buffer.clear();
                write!(buffer, "{}", r.locator).expect("a string takes any text");
                locators.append_value(&buffer);
            }
            Ok(locators.finish().into_column())
        },
    ];
    let columns = columns
        .par_iter()
        .map(|make| make())
        .collect::<Result<Vec<_>>>()?;
    Ok(DataFrame::new(order.len(), columns)?)
}

/// `entitlements.parquet`: one row per account × contract year × yearly service.
pub fn entitlements(policy: &Policy, rows: &[YearRow]) -> Result<DataFrame> {
    let accounts: Vec<Option<&str>> = rows.iter().map(|r| Some(&*r.account)).collect();
    let tiers: Vec<Option<&str>> = rows
        .iter()
        .map(|r| Some(policy.tiers[r.tier].as_str()))
        .collect();
    let services: Vec<Option<&str>> = rows.iter().map(|r| Some(r.service.as_str())).collect();
    let statuses: Vec<Option<&str>> = rows.iter().map(|r| Some(r.status.as_str())).collect();
    let int = |f: fn(&YearRow) -> u32| rows.iter().map(|r| i64::from(f(r))).collect::<Vec<i64>>();
    let columns = vec![
        enum_column("account_id", &accounts)?,
        enum_column("tier", &tiers)?,
        Column::new("contract_year".into(), int(|r| r.year.number)),
        timestamp_column("year_start", rows.iter().map(|r| Some(r.year.start))),
        timestamp_column("year_end", rows.iter().map(|r| Some(r.year.end))),
        enum_column("entitlement", &services)?,
        Column::new("entitled".into(), int(|r| r.entitled)),
        Column::new("delivered".into(), int(|r| r.delivered)),
        Column::new(
            "remaining".into(),
            int(|r| r.entitled.saturating_sub(r.delivered)),
        ),
        Column::new(
            "expected_by_now".into(),
            rows.iter().map(|r| r.expected).collect::<Vec<f64>>(),
        ),
        enum_column("status", &statuses)?,
    ];
    Ok(DataFrame::new(rows.len(), columns)?)
}

/// `entitlement_findings.parquet`: one row per breach.
pub fn findings(policy: &Policy, rows: &[Finding]) -> Result<DataFrame> {
    let count = |f: fn(&Finding) -> Option<u32>| {
        rows.iter().map(|r| f(r).map(i64::from)).collect::<Vec<_>>()
    };
    let tiers: Vec<Option<&str>> = rows
        .iter()
        .map(|r| Some(policy.tiers[r.tier].as_str()))
        .collect();
    let dim =
        |f: for<'r> fn(&'r Finding) -> Option<&'r str>| rows.iter().map(f).collect::<Vec<_>>();
    let columns = vec![
        enum_column("rule", &dim(|r| Some(r.rule.as_str())))?,
        enum_column("account_id", &dim(|r| Some(&*r.account)))?,
        enum_column("tier", &tiers)?,
        enum_column("product", &dim(|r| r.product.as_deref()))?,
        timestamp_column("at", rows.iter().map(|r| Some(r.at))),
        timestamp_column("until", rows.iter().map(|r| r.until)),
        Column::new("allowed".into(), count(|r| r.allowed)),
        Column::new("observed".into(), count(|r| r.observed)),
        enum_column("evidence_kind", &dim(|r| Some(r.evidence_kind)))?,
        Column::new(
            "evidence".into(),
            rows.iter().map(|r| r.evidence.as_str()).collect::<Vec<_>>(),
        ),
        Column::new(
            "detail".into(),
            rows.iter().map(|r| r.detail.as_str()).collect::<Vec<_>>(),
        ),
    ];
    Ok(DataFrame::new(rows.len(), columns)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The column polars itself makes of `values`: text cast to the enum
    /// of their sorted distinct values.
    fn cast_by_polars(name: &str, values: &[Option<&str>], all: &[&str]) -> Series {
        let mut cats: Vec<&str> = all.to_vec();
        cats.sort_unstable();
        cats.dedup();
        let dtype = DataType::from_frozen_categories(FrozenCategories::new(cats).unwrap());
        Series::new(name.into(), values).cast(&dtype).unwrap()
    }

    /// The codes of an enum column.
    fn codes_of(s: &Series) -> Vec<Option<u32>> {
        let codes = s.cast(&DataType::UInt32).unwrap();
        codes.u32().unwrap().iter().collect()
    }

    /// Codes and texts of an enum column, to compare two of them.
    fn codes_and_texts(s: &Series) -> (Series, Series) {
        (
            s.cast(&DataType::UInt32).unwrap(),
            s.cast(&DataType::String).unwrap(),
        )
    }

    proptest! {
        #[test]
        fn enum_columns_in_runs_or_not_are_what_polars_casts_the_text_to(
            picks in prop::collection::vec(prop::collection::vec(0usize..7, 0..60), 1..3),
        ) {
            // Copies of each text at different addresses, a missing value
            // among them, and runs of repeats as the picks fall.
            let words = ["b", "a", "ab", "", "b", "zz", "a"];
            let owned: Vec<String> = words.iter().map(|w| w.to_string()).collect();
            let values: Vec<Vec<Option<&str>>> = picks
                .iter()
                .map(|p| {
                    p.iter()
                        .map(|&i| (i != 5).then(|| if i % 2 == 0 { owned[i].as_str() } else { words[i] }))
                        .collect()
                })
                .collect();
            let named: Vec<(&str, &[Option<&str>])> = values
                .iter()
                .enumerate()
                .map(|(i, v)| (["x", "y"][i], v.as_slice()))
                .collect();
            let made = shared_enum_columns(&named).unwrap();
            let all: Vec<&str> = values.iter().flatten().flatten().copied().collect();
            for ((name, v), column) in named.iter().zip(&made) {
                let want = cast_by_polars(name, v, &all);
                let got = column.as_materialized_series();
                prop_assert_eq!(got.dtype(), want.dtype());
                let (got, want) = (codes_and_texts(got), codes_and_texts(&want));
                prop_assert!(got.0.equals_missing(&want.0), "codes {:?} vs {:?}", got.0, want.0);
                prop_assert!(got.1.equals_missing(&want.1));
            }
        }
    }

    #[test]
    fn a_run_of_one_value_then_another_with_the_same_text_elsewhere_is_one_category() {
        let (a1, a2) = ("acct".to_string(), "acct".to_string());
        let values = [
            Some(a1.as_str()),
            Some(a1.as_str()),
            Some("b"),
            Some(a2.as_str()),
            None,
        ];
        let column = enum_column("account_id", &values).unwrap();
        let codes = codes_of(column.as_materialized_series());
        assert_eq!(codes, [Some(0), Some(0), Some(1), Some(0), None]);
    }

    #[test]
    fn slots_holding_the_same_text_are_one_category_in_text_order() {
        // As rows' shared texts give them: one text at two addresses.
        let texts = ["b", "a", "b", "c"];
        let codes = vec![vec![Some(0), Some(1), Some(2), None, Some(3), Some(2)]];
        let made = enum_columns_of_slots(std::iter::once("x"), &texts, codes).unwrap();
        let codes = codes_of(made[0].as_materialized_series());
        assert_eq!(codes, [Some(1), Some(0), Some(1), None, Some(2), Some(1)]);
        let texts: Vec<Option<String>> =
            text_values(&DataFrame::new(6, made).unwrap(), "x").unwrap();
        assert_eq!(texts[4].as_deref(), Some("c"));
    }
}
