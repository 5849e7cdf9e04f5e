"""The queries in sql/ are the single definition of each aggregate.

slt runs them through polars SQL; here each file runs unchanged in DuckDB
(and in Python polars' SQL) over `case_slt`, and the result must equal the
Parquet aggregate slt wrote: same rows in the same order, counts equal,
attainment and percentiles within 1e-9.
"""

import math
from pathlib import Path

import duckdb
import pandas as pd
import polars as pl
import pyarrow.parquet as pq
import pytest

from conftest import REPO

SQL_FILES = sorted((REPO / "sql").glob("*.sql"))
KEYS = {"period_type", "period", "tier", "priority", "region", "account_id"}
COUNTS = {"cases", "met", "breached", "pending", "excluded"}
TOLERANCE = 1e-9


def test_every_aggregate_has_a_query():
    assert [p.stem for p in SQL_FILES] == ["account_attainment", "attainment"]


def expected_rows(report: Path, name: str):
    table = pq.read_table(report / f"{name}.parquet")
    # Dictionary columns as plain text, for comparison with any engine.
    return table.column_names, [
        tuple(row[c] for c in table.column_names) for row in table.to_pylist()
    ]


def assert_same(columns, rows, exp_columns, exp_rows, engine):
    assert columns == exp_columns, engine
    assert len(rows) == len(exp_rows), engine
    for i, (got, want) in enumerate(zip(rows, exp_rows)):
        for c, g, w in zip(columns, got, want):
            where = f"{engine}: row {i} column {c}: {g!r} != {w!r}"
            if c in KEYS:
                assert str(g) == str(w), where
            elif c in COUNTS:
                assert isinstance(g, int) and g == w, where
            elif w is None or g is None:
                assert g is None and w is None, where
            else:
                assert math.isclose(g, w, rel_tol=0, abs_tol=TOLERANCE), where


def run_duckdb(source_sql: str, text: str):
    con = duckdb.connect()
    con.execute(f"CREATE VIEW case_slt AS {source_sql}")
    relation = con.sql(text)
    return relation.columns, relation.fetchall()


@pytest.mark.parametrize("sql", SQL_FILES, ids=lambda p: p.name)
def test_sql_file_in_duckdb_equals_slt_aggregate(report, sql):
    columns, rows = run_duckdb(
        f"SELECT * FROM read_parquet('{report / 'case_slt.parquet'}')", sql.read_text()
    )
    assert_same(columns, rows, *expected_rows(report, sql.stem), "duckdb")


@pytest.mark.parametrize("sql", SQL_FILES, ids=lambda p: p.name)
def test_sql_file_in_duckdb_over_the_partitioned_layout(report, partitioned, sql):
    glob = partitioned / "case_slt" / "*" / "*.parquet"
    columns, rows = run_duckdb(
        f"SELECT * FROM read_parquet('{glob}', hive_partitioning = true)", sql.read_text()
    )
    assert_same(columns, rows, *expected_rows(report, sql.stem), "duckdb (hive)")
    # The partitioned report's own aggregate is the same file content.
    assert expected_rows(partitioned, sql.stem) == expected_rows(report, sql.stem)


@pytest.mark.parametrize("sql", SQL_FILES, ids=lambda p: p.name)
def test_sql_file_in_python_polars_sql_on_the_file_as_read(report, sql):
    # No cast: `period` and `month` share one enum, so the UNION ALL of
    # quarter and month rows combines them in polars as it reads them.
    cases = pl.read_parquet(report / "case_slt.parquet")
    assert cases.schema["period"] == cases.schema["month"]
    result = pl.SQLContext(case_slt=cases).execute(sql.read_text(), eager=True)
    assert_same(result.columns, result.rows(), *expected_rows(report, sql.stem), "polars")


@pytest.mark.parametrize("sql", SQL_FILES, ids=lambda p: p.name)
def test_sql_file_in_python_polars_sql_over_the_partitioned_layout(report, partitioned, sql):
    cases = pl.read_parquet(partitioned / "case_slt", hive_partitioning=True)
    result = pl.SQLContext(case_slt=cases).execute(sql.read_text(), eager=True)
    assert_same(result.columns, result.rows(), *expected_rows(report, sql.stem), "polars (hive)")


@pytest.mark.parametrize("sql", SQL_FILES, ids=lambda p: p.name)
def test_sql_file_on_the_frame_pandas_reads(report, sql):
    # pandas has no SQL engine: DuckDB runs the file over the DataFrame as
    # pandas read it (categoricals, datetime64[us, UTC]).
    cases = pd.read_parquet(report / "case_slt.parquet")
    assert isinstance(cases["period"].dtype, pd.CategoricalDtype)
    con = duckdb.connect()
    con.register("case_slt", cases)
    relation = con.sql(sql.read_text())
    assert_same(
        relation.columns, relation.fetchall(), *expected_rows(report, sql.stem), "pandas"
    )


def quantile(values, q):
    """Linear interpolation between closest ranks (numpy's default, SQL's
    QUANTILE_CONT / PERCENTILE_CONT), written out here as an independent
    check of the percentiles slt wrote."""
    xs = sorted(values)
    if not xs:
        return None
    pos = (len(xs) - 1) * q
    lo = math.floor(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def test_percentiles_recomputed_from_the_cases(report):
    cases = pq.read_table(report / "case_slt.parquet").to_pylist()
    groups = {}
    for c in cases:
        for period_type, period in (("quarter", c["period"]), ("month", c["month"])):
            key = (period_type, period, c["tier"], c["priority"], c["region"])
            group = groups.setdefault(key, {"cases": 0, "minutes": []})
            group["cases"] += 1
            if c["response_business_minutes"] is not None:
                group["minutes"].append(c["response_business_minutes"])
    rows = pq.read_table(report / "attainment.parquet").to_pylist()
    assert len(rows) == len(groups)
    for r in rows:
        key = (r["period_type"], r["period"], r["tier"], r["priority"], r["region"])
        g = groups[key]
        assert r["cases"] == g["cases"], key
        for q, column in ((0.5, "p50_response_business_minutes"), (0.9, "p90_response_business_minutes")):
            want = quantile(g["minutes"], q)
            got = r[column]
            if want is None:
                assert got is None, key
            else:
                assert math.isclose(got, want, rel_tol=0, abs_tol=TOLERANCE), (key, column, got, want)
