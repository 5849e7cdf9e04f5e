"""Shards (`slt report --shard I/N`) and their merge (`slt merge`), read by
the clients analysts use.

Every shard's `case_slt` writes its text dimensions as plain strings, so
polars, pandas (pyarrow) and DuckDB read all shards as one table; the SQL
of sql/ over that union gives the merged report's aggregates, and the
merged report's Parquet files are the single run's, byte for byte. (Spark:
tests/python/test_spark.py.)
"""

import json

import duckdb
import pandas as pd
import polars as pl
import pyarrow.parquet as pq
import pytest

from test_sql import SQL_FILES, assert_same, expected_rows

PARQUET = ["case_slt", "attainment", "account_attainment", "entitlements",
           "entitlement_findings", "rejects"]


def shard_files(shards):
    return [str(s / "case_slt.parquet") for s in shards]


def test_merged_parquet_files_are_the_single_run_byte_for_byte(report, sharded):
    _, merged = sharded
    for name in PARQUET:
        assert (merged / f"{name}.parquet").read_bytes() == (report / f"{name}.parquet").read_bytes(), name
    manifest = json.loads((merged / "manifest.json").read_text())
    assert len(manifest["merged_from"]) == len(sharded[0])


def test_each_shard_says_which_it_is_and_accounts_for_every_row(sharded):
    shards, _ = sharded
    for i, shard in enumerate(shards, start=1):
        m = json.loads((shard / "manifest.json").read_text())
        assert (m["shard"]["index"], m["shard"]["count"]) == (i, len(shards))
        for name, t in m["tables"].items():
            assert t["rows_read"] == t["rows_used"] + t["rows_rejected"] + t["rows_in_other_shards"], (i, name)
        # Shard metadata rides along in every Parquet file's key-value pairs.
        metadata = pq.read_metadata(shard / "case_slt.parquet").metadata
        assert metadata[b"slt_shard"].decode() == f"{i}/{len(shards)}"
        assert metadata[b"slt_as_of"].decode() == m["as_of"]


def test_polars_reads_all_shards_as_one_table(report, sharded):
    shards, _ = sharded
    cases = pl.read_parquet(shard_files(shards))
    assert cases.schema["account_id"] == pl.String
    single = pl.read_parquet(report / "case_slt.parquet")
    assert cases.height == single.height
    assert sorted(cases["case_id"].to_list()) == sorted(single["case_id"].to_list())
    # Back in the single run's order by source_row, every column equal.
    ordered = cases.sort("source_row").drop("source_row")
    assert ordered.rows() == single.with_columns(pl.col(pl.Enum).cast(pl.String)).rows()


def test_pandas_reads_all_shards_as_one_table(report, sharded):
    shards, _ = sharded
    frames = [pd.read_parquet(f) for f in shard_files(shards)]
    cases = pd.concat(frames, ignore_index=True)
    assert len(cases) == pq.read_metadata(report / "case_slt.parquet").num_rows
    # Text, not a categorical whose categories would differ per shard.
    assert pd.api.types.is_string_dtype(cases["account_id"].dtype)
    assert not isinstance(cases["account_id"].dtype, pd.CategoricalDtype)


@pytest.mark.parametrize("sql", SQL_FILES, ids=lambda p: p.name)
def test_sql_file_in_duckdb_over_all_shards_equals_the_merged_aggregate(sharded, sql):
    shards, merged = sharded
    files = ", ".join(f"'{f}'" for f in shard_files(shards))
    con = duckdb.connect()
    con.execute(f"CREATE VIEW case_slt AS SELECT * FROM read_parquet([{files}])")
    relation = con.sql(sql.read_text())
    assert_same(relation.columns, relation.fetchall(), *expected_rows(merged, sql.stem), "duckdb (shards)")


@pytest.mark.parametrize("sql", SQL_FILES, ids=lambda p: p.name)
def test_sql_file_in_polars_over_all_shards_equals_the_merged_aggregate(sharded, sql):
    shards, merged = sharded
    cases = pl.read_parquet(shard_files(shards))
    result = pl.SQLContext(case_slt=cases).execute(sql.read_text(), eager=True)
    assert_same(result.columns, result.rows(), *expected_rows(merged, sql.stem), "polars (shards)")
