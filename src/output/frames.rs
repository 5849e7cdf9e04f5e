//! Typed rows → the output DataFrames, built once: `case_slt`, `rejects`,
//! `entitlements` and `entitlement_findings`. Column names live in
//! [`col`](mod@col); text dimensions are enums (dictionary-encoded, categories
//! sorted so the same data gives the same bytes), timestamps microsecond
//! UTC, counts 64-bit integers.

use polars::prelude::*;
use rayon::prelude::*;

use std::fmt::Write as _;

use crate::aggregate::{self, Codes, Dimensions};
use crate::calendar::Coverage;
use crate::entitlements::check::{Finding, YearRow};
use crate::entitlements::Status;
use crate::ingest::{RejectRow, Rejects};
use crate::model::{CaseRow, Outcome, Priority, Reason, Service, Table};
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
    enum_columns_of_every_slot(names, &texts, first_seen)
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
    let mut used = vec![false; texts.len()];
    for codes in codes {
        codes.clone().for_each(|c| used[c as usize] = true);
    }
    let made = RankedEnum::of_sorted(texts, &used)?;
    Ok(names
        .iter()
        .zip(codes)
        .map(|(name, codes)| made.column(name, codes.clone().map(Some)))
        .collect())
}

/// An enum column of `codes`, each a slot of `texts` (the texts in any
/// order, one text possibly in several slots: a policy's tiers, say): the
/// enum is the sorted distinct texts the codes use, as [`enum_column`]
/// makes it of the same values, without a list of the texts or a hash of
/// each.
pub fn enum_column_of_slots(
    name: &str,
    texts: &[&str],
    codes: impl Iterator<Item = u32> + Clone,
) -> Result<Column> {
    let mut used = vec![false; texts.len()];
    codes.clone().for_each(|c| used[c as usize] = true);
    let made = RankedEnum::of_slots(texts, |slot| used[slot])?;
    Ok(made.column(name, codes.map(Some)))
}

/// Enum columns named `names` from their codes, each a slot of `texts`
/// (one text may fill several slots): the enum is the sorted distinct
/// texts of every slot, used or not (unlike [`enum_column_of_slots`],
/// whose enum holds only the texts its codes use), each code replaced by
/// its text's position.
fn enum_columns_of_every_slot<'a, C: IntoIterator<Item = Option<u32>>>(
    names: impl Iterator<Item = &'a str>,
    texts: &[&str],
    codes: Vec<C>,
) -> Result<Vec<Column>> {
    let made = RankedEnum::of_slots(texts, |_| true)?;
    Ok(names
        .zip(codes)
        .map(|(name, codes)| made.column(name, codes.into_iter()))
        .collect())
}

/// An enum made once for a whole column (the sorted distinct texts the
/// column uses), and where each code of the column's texts falls in it:
/// the series of any run of the column's rows is made of their codes,
/// every run with the same enum, so that a frame made a window of rows at
/// a time ([`CaseSlt::frame`]) is the whole frame's slices.
struct RankedEnum {
    dtype: DataType,
    physical: CategoricalPhysical,
    /// A code → its text's position in the enum.
    place: Vec<u32>,
}

impl RankedEnum {
    /// The enum of the `texts` (sorted, distinct) whose code (position in
    /// `texts`) is `used`.
    fn of_sorted(texts: &[&str], used: &[bool]) -> Result<RankedEnum> {
        debug_assert!(texts.windows(2).all(|w| w[0] < w[1]), "sorted, distinct");
        let mut cats: Vec<&str> = Vec::new();
        let mut place = vec![0u32; texts.len()];
        for ((text, used), place) in texts.iter().zip(used).zip(&mut place) {
            *place = cats.len() as u32;
            if *used {
                cats.push(text);
            }
        }
        RankedEnum::of(&cats, place)
    }

    /// The enum of the texts of the slots that are `used`, the texts in
    /// any order, one text possibly in several slots
    /// ([`aggregate::rank_texts`]).
    fn of_slots(texts: &[&str], used: impl Fn(usize) -> bool) -> Result<RankedEnum> {
        let (cats, place) = aggregate::rank_texts(texts, used);
        RankedEnum::of(&cats, place)
    }

    /// The enum of `cats` (sorted, distinct), a code being at `place[code]`.
    fn of(cats: &[&str], place: Vec<u32>) -> Result<RankedEnum> {
        let frozen = FrozenCategories::new(cats.iter().copied())?;
        let dtype = DataType::from_frozen_categories(frozen);
        let physical = dtype.cat_physical()?;
        Ok(RankedEnum {
            dtype,
            physical,
            place,
        })
    }

    /// The column `name` of these codes.
    fn column(&self, name: &str, codes: impl Iterator<Item = Option<u32>>) -> Column {
        let codes = codes.map(|c| c.map(|c| self.place[c as usize]));
        enum_series(name.into(), codes, &self.dtype, self.physical).into_column()
    }
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
/// shared texts (product). See [`CaseSlt`].
pub fn case_slt(rows: &[CaseRow]) -> Result<DataFrame> {
    let dims = Dimensions::of(rows);
    CaseSlt::new(rows, &dims)?.frame(0..rows.len())
}

/// `case_slt` of measured cases, prepared once for all of them: each enum
/// column's enum (the texts the whole column uses) and how a row's value
/// finds its place in it. Any run of rows then makes its frame
/// ([`CaseSlt::frame`]), the whole frame's slice: `slt report` writes the
/// file a window of row groups at a time, never holding the whole frame
/// (1.5 GiB at 10 M cases, beside the rows it is made of).
pub struct CaseSlt<'r> {
    rows: &'r [CaseRow],
    dims: &'r Dimensions,
    account: RankedEnum,
    tier: RankedEnum,
    region: RankedEnum,
    /// `period` and `month`'s one enum: every label either holds.
    labels: RankedEnum,
    product: RankedEnum,
    /// Each product text's slot in `product`, by its address: a row's
    /// product is shared (interned), so it is found by its address, not
    /// hashed as text; two addresses holding the same text are one category.
    products: PlHashMap<(usize, usize), u32>,
    /// The enums of the dimensions slt names itself ([`NAMED`]).
    named: Vec<RankedEnum>,
}

/// Every value a dimension slt names itself can take.
type Values = fn() -> Vec<&'static str>;

/// The dimensions slt names itself, each with every value it can take.
const NAMED: [(&str, Values); 5] = [
    (col::PRIORITY, || {
        Priority::ALL.map(Priority::as_str).to_vec()
    }),
    (col::INITIAL_PRIORITY, || {
        Priority::ALL.map(Priority::as_str).to_vec()
    }),
    (col::COVERAGE, || {
        Coverage::ALL.map(Coverage::as_str).to_vec()
    }),
    (col::OUTCOME, || Outcome::ALL.map(Outcome::as_str).to_vec()),
    (col::REASON, || Reason::ALL.map(Reason::as_str).to_vec()),
];

/// A row's values of [`NAMED`], each its place in its list.
fn named_codes(r: &CaseRow) -> [u32; 5] {
    [
        r.priority.index() as u32,
        r.initial_priority.index() as u32,
        position(&Coverage::ALL, &r.coverage),
        position(&Outcome::ALL, &r.outcome),
        position(&Reason::ALL, &r.reason),
    ]
}

impl<'r> CaseSlt<'r> {
    /// Prepares `case_slt` of `rows`, `dims` being their ranks
    /// ([`Dimensions::of`] the same rows, made for the aggregates). The
    /// ranks are walked once for the values they use, and the rows once
    /// for their products and named values, side by side.
    pub fn new(rows: &'r [CaseRow], dims: &'r Dimensions) -> Result<CaseSlt<'r>> {
        assert_eq!(rows.len(), dims.codes.len(), "the ranks of these rows");
        let (ranked, of_rows) = rayon::join(
            || -> Result<[RankedEnum; 4]> {
                let used = |texts: &[Box<str>]| vec![false; texts.len()];
                let (mut accounts, mut tiers) = (used(&dims.accounts), used(&dims.tiers));
                let (mut regions, mut labels) = (used(&dims.regions), used(&dims.periods));
                for k in &dims.codes {
                    accounts[k.account as usize] = true;
                    tiers[k.tier as usize] = true;
                    regions[k.region as usize] = true;
                    labels[k.month as usize] = true;
                    labels[dims.quarter(k) as usize] = true;
                }
                let of = |texts: &[Box<str>], used: &[bool]| {
                    RankedEnum::of_sorted(&aggregate::texts(texts), used)
                };
                Ok([
                    of(&dims.accounts, &accounts)?,
                    of(&dims.tiers, &tiers)?,
                    of(&dims.regions, &regions)?,
                    of(&dims.periods, &labels)?,
                ])
            },
            || -> Result<_> {
                let mut products: PlHashMap<(usize, usize), u32> = PlHashMap::default();
                let mut texts: Vec<&str> = Vec::new();
                let lists = NAMED.map(|(_, all)| all());
                let mut used = lists.clone().map(|list| vec![false; list.len()]);
                for r in rows {
                    if let Some(p) = r.product.as_deref() {
                        products.entry(aggregate::address(p)).or_insert_with(|| {
                            texts.push(p);
                            texts.len() as u32 - 1
                        });
                    }
                    for (used, code) in used.iter_mut().zip(named_codes(r)) {
                        used[code as usize] = true;
                    }
                }
                let product = RankedEnum::of_slots(&texts, |_| true)?;
                let named = lists
                    .iter()
                    .zip(&used)
                    .map(|(list, used)| RankedEnum::of_slots(list, |c| used[c]))
                    .collect::<Result<Vec<_>>>()?;
                Ok((product, products, named))
            },
        );
        let [account, tier, region, labels] = ranked?;
        let (product, products, named) = of_rows?;
        Ok(CaseSlt {
            rows,
            dims,
            account,
            tier,
            region,
            labels,
            product,
            products,
            named,
        })
    }

    /// How many rows.
    pub fn height(&self) -> usize {
        self.rows.len()
    }

    /// The frame of rows `range`: the whole frame's slice, each column one
    /// chunk. The rows are walked a few times, not once per column: the
    /// numbers in one pass, the named dimensions in another, the product
    /// in a third, side by side.
    pub fn frame(&self, range: std::ops::Range<usize>) -> Result<DataFrame> {
        let rows = &self.rows[range.clone()];
        let codes = &self.dims.codes[range];
        fn ranked<'a>(
            made: &'a RankedEnum,
            name: &'static str,
            codes: &'a [Codes],
            code: fn(&Codes) -> u32,
        ) -> Make<'a> {
            Box::new(move || Ok(vec![made.column(name, codes.iter().map(|k| Some(code(k))))]))
        }
        let columns: Vec<Make> = vec![
            Box::new(|| {
                let ids = rows.iter().map(|r| &*r.case_id);
                let ids = StringChunked::from_iter_values(col::CASE_ID.into(), ids);
                Ok(vec![ids.into_column()])
            }),
            ranked(&self.account, col::ACCOUNT_ID, codes, |k| k.account),
            ranked(&self.tier, col::TIER, codes, |k| k.tier),
            ranked(&self.region, col::REGION, codes, |k| k.region),
            Box::new(|| {
                let quarters = codes.iter().map(|k| Some(self.dims.quarter(k)));
                let months = codes.iter().map(|k| Some(k.month));
                Ok(vec![
                    self.labels.column(col::PERIOD, quarters),
                    self.labels.column(col::MONTH, months),
                ])
            }),
            Box::new(|| {
                let slot = |p: &str| self.products[&aggregate::address(p)];
                let products = rows.iter().map(|r| r.product.as_deref().map(slot));
                Ok(vec![self.product.column(col::PRODUCT, products)])
            }),
            Box::new(|| Ok(self.named_columns(rows))),
            Box::new(|| Ok(number_columns(rows))),
        ];
        let made = columns
            .par_iter()
            .map(|make| make())
            .collect::<Result<Vec<_>>>()?
            .into_iter()
            .flatten()
            .collect();
        case_slt_frame(rows.len(), made)
    }

    /// The columns of [`NAMED`] of `rows`, in one pass.
    fn named_columns(&self, rows: &[CaseRow]) -> Vec<Column> {
        let mut codes: [Vec<u32>; 5] = std::array::from_fn(|_| Vec::with_capacity(rows.len()));
        for r in rows {
            for (codes, code) in codes.iter_mut().zip(named_codes(r)) {
                codes.push(code);
            }
        }
        NAMED
            .iter()
            .zip(&self.named)
            .zip(codes)
            .map(|(((name, _), made), codes)| made.column(name, codes.into_iter().map(Some)))
            .collect()
    }
}

/// The `case_slt` frame of its columns, in the order written.
fn case_slt_frame(height: usize, mut made: Vec<Column>) -> Result<DataFrame> {
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

/// Where `value` is in `all`.
fn position<T: PartialEq>(all: &[T], value: &T) -> u32 {
    all.iter().position(|v| v == value).expect("in its list") as u32
}

/// Makes one or more columns of a frame.
type Make<'a> = Box<dyn Fn() -> Result<Vec<Column>> + Send + Sync + 'a>;

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
    // The tiers, services and statuses, a handful of texts each, made
    // from their place in the policy's tiers and their number, not from
    // each row's text listed and hashed (4.4 M rows at 500,000 accounts).
    let tiers: Vec<&str> = policy.tiers.iter().map(String::as_str).collect();
    let mut services = [""; Service::ALL.len()];
    for s in Service::ALL {
        services[s as usize] = s.as_str();
    }
    let mut statuses = [""; Status::ALL.len()];
    for s in Status::ALL {
        statuses[s as usize] = s.as_str();
    }
    let int = |f: fn(&YearRow) -> u32| rows.iter().map(|r| i64::from(f(r))).collect::<Vec<i64>>();
    let columns = vec![
        enum_column("account_id", &accounts)?,
        enum_column_of_slots("tier", &tiers, rows.iter().map(|r| r.tier as u32))?,
        Column::new("contract_year".into(), int(|r| r.year.number)),
        timestamp_column("year_start", rows.iter().map(|r| Some(r.year.start))),
        timestamp_column("year_end", rows.iter().map(|r| Some(r.year.end))),
        enum_column_of_slots(
            "entitlement",
            &services,
            rows.iter().map(|r| r.service as u32),
        )?,
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
        enum_column_of_slots("status", &statuses, rows.iter().map(|r| r.status as u32))?,
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

    proptest! {
        #[test]
        fn enum_column_of_slots_is_the_enum_column_of_the_slots_texts(
            codes in prop::collection::vec(0u32..6, 0..60),
        ) {
            // Slots in no order, one text in two of them, some unused.
            let texts = ["over", "behind", "delivered", "behind", "on_track", "not_entitled"];
            let values: Vec<Option<&str>> = codes.iter().map(|&c| Some(texts[c as usize])).collect();
            let want = enum_column("status", &values).unwrap();
            let got = enum_column_of_slots("status", &texts, codes.iter().copied()).unwrap();
            let (got, want) = (got.as_materialized_series(), want.as_materialized_series());
            prop_assert_eq!(got.dtype(), want.dtype());
            let (got, want) = (codes_and_texts(got), codes_and_texts(want));
            prop_assert!(got.0.equals_missing(&want.0), "codes {:?} vs {:?}", got.0, want.0);
            prop_assert!(got.1.equals_missing(&want.1));
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
        let made = enum_columns_of_every_slot(std::iter::once("x"), &texts, codes).unwrap();
        let codes = codes_of(made[0].as_materialized_series());
        assert_eq!(codes, [Some(1), Some(0), Some(1), None, Some(2), Some(1)]);
        let texts: Vec<Option<String>> =
            text_values(&DataFrame::new(6, made).unwrap(), "x").unwrap();
        assert_eq!(texts[4].as_deref(), Some("c"));
    }
}
