//! Attainment groups: runs the queries in `sql/` over the measured cases
//! through polars' SQL context. The same files run unchanged in DuckDB.

use polars::prelude::*;
use polars::sql::SQLContext;

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
