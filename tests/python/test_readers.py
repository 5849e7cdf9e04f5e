"""Every output of `slt report`, read by pyarrow, pandas, polars and DuckDB.

The promise (docs/outputs.md): the same rows in every reader, timestamps as
time-zone-aware UTC instants that agree to the microsecond, text dimensions
as categories with their values intact, and slt's key-value metadata
visible.
"""

import duckdb
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

OUTPUTS = ["case_slt", "attainment", "account_attainment", "rejects"]
TIMESTAMPS = ["created_at", "clock_start", "deadline", "first_response_at"]
METADATA = ["slt_version", "slt_schema_version", "slt_as_of", "slt_policy_sha256"]


def path(report, name):
    return report / f"{name}.parquet"


def duck(p):
    return duckdb.sql(f"SELECT * FROM read_parquet('{p}')")


@pytest.mark.parametrize("name", OUTPUTS)
def test_same_rows_and_columns_in_every_reader(report, manifest, name):
    p = path(report, name)
    table = pq.read_table(p)
    frame = pd.read_parquet(p)
    pl_frame = pl.read_parquet(p)
    relation = duck(p)
    rows = table.num_rows
    assert rows > 0
    assert len(frame) == rows
    assert pl_frame.height == rows
    assert relation.count("*").fetchall()[0][0] == rows
    columns = table.column_names
    assert list(frame.columns) == columns
    assert pl_frame.columns == columns
    assert relation.columns == columns
    if name == "case_slt":
        assert rows == manifest["cases_measured"]
    if name == "rejects":
        assert rows == manifest["rows_rejected"]


@pytest.mark.parametrize("name", OUTPUTS)
def test_no_type_that_older_readers_reject(report, name):
    """string, never large_string or string_view; dictionaries of string."""
    schema = pq.read_schema(path(report, name))
    for field in schema:
        t = field.type
        if pa.types.is_dictionary(t):
            t = t.value_type
        assert not pa.types.is_large_string(t), field
        assert not pa.types.is_string_view(t), field
        assert not pa.types.is_binary_view(t), field


@pytest.mark.parametrize("name", OUTPUTS)
def test_key_value_metadata_in_every_reader(report, manifest, name):
    p = path(report, name)
    expected = {
        "slt_version": manifest["version"],
        "slt_schema_version": manifest["schema_version"],
        "slt_as_of": manifest["as_of"],
        "slt_policy_sha256": manifest["policy"]["sha256"],
    }
    raw = pq.read_metadata(p).metadata
    assert {k: raw[k.encode()].decode() for k in METADATA} == expected
    assert {k: v for k, v in pl.read_parquet_metadata(p).items() if k in METADATA} == expected
    rows = duckdb.sql(
        f"SELECT decode(key), decode(value) FROM parquet_kv_metadata('{p}')"
    ).fetchall()
    assert {k: v for k, v in rows if k in METADATA} == expected


def epoch_us_pandas(series):
    """Microseconds since the epoch, None for NaT."""
    assert isinstance(series.dtype, pd.DatetimeTZDtype), series.dtype
    assert str(series.dtype.tz) == "UTC"
    delta = series - pd.Timestamp(0, tz="UTC")
    return [None if pd.isna(d) else d // pd.Timedelta(microseconds=1) for d in delta]


@pytest.mark.parametrize("column", TIMESTAMPS)
def test_timestamps_are_utc_instants_equal_across_readers(report, column):
    p = path(report, "case_slt")
    arrow_col = pq.read_table(p, columns=[column]).column(column)
    assert arrow_col.type == pa.timestamp("us", tz="UTC")
    expected = arrow_col.cast(pa.int64()).to_pylist()

    assert epoch_us_pandas(pd.read_parquet(p, columns=[column])[column]) == expected

    pl_col = pl.read_parquet(p, columns=[column])[column]
    assert pl_col.dtype == pl.Datetime("us", "UTC")
    assert pl_col.dt.epoch("us").to_list() == expected

    kind, values = duckdb.sql(
        f"SELECT typeof(any_value({column})), list(epoch_us({column}) ORDER BY file_row_number) "
        f"FROM read_parquet('{p}', file_row_number = true)"
    ).fetchall()[0]
    assert kind == "TIMESTAMP WITH TIME ZONE"
    assert values == expected
    # As Python datetimes, every reader gives aware UTC instants.
    first = pd.read_parquet(p, columns=[column])[column].dropna().iloc[0]
    assert first.tzinfo is not None and first.utcoffset().total_seconds() == 0
    assert pl_col.drop_nulls()[0].tzinfo is not None


def dictionary_columns(p):
    return [f.name for f in pq.read_schema(p) if pa.types.is_dictionary(f.type)]


@pytest.mark.parametrize("name", OUTPUTS)
def test_categories_intact_in_every_reader(report, name):
    p = path(report, name)
    table = pq.read_table(p)
    frame = pd.read_parquet(p)
    pl_frame = pl.read_parquet(p)
    dims = dictionary_columns(p)
    assert dims, "text dimensions are dictionary-encoded"
    shared = {"period", "month"} if name == "case_slt" else set()
    labels = {v for c in shared for v in table.column(c).cast(pa.string()).to_pylist()}
    for c in dims:
        values = table.column(c).cast(pa.string()).to_pylist()
        # case_slt's period and month share one enum: every label of both.
        pool = labels if c in shared else set(values)
        categories = sorted(v for v in pool if v is not None)
        # pandas: a Categorical whose categories are the sorted values.
        assert isinstance(frame[c].dtype, pd.CategoricalDtype), c
        assert list(frame[c].cat.categories) == categories, c
        assert frame[c].astype(object).where(frame[c].notna(), None).tolist() == values
        # polars: an Enum over the same categories, same values.
        assert isinstance(pl_frame[c].dtype, pl.Enum), c
        assert pl_frame[c].dtype.categories.to_list() == categories, c
        assert pl_frame[c].cast(pl.String).to_list() == values
        # DuckDB: plain text, same values.
        got = [r[0] for r in duckdb.sql(f'SELECT "{c}" FROM read_parquet(\'{p}\')').fetchall()]
        assert got == values, c


def test_case_slt_outcomes_and_tiers_are_the_documented_lists(report):
    frame = pd.read_parquet(path(report, "case_slt"))
    assert list(frame["outcome"].cat.categories) == ["breached", "excluded", "met", "pending"]
    assert list(frame["tier"].cat.categories) == ["Elite", "Online"]
    assert list(frame["region"].cat.categories) == ["APAC", "Americas", "EMEA", "Japan"]
    assert set(frame["coverage"].cat.categories) <= {"24x5", "24x7", "business_hours"}
    assert frame["case_id"].is_unique


def test_counts_are_int64_and_floats_float64_in_pandas(report):
    frame = pd.read_parquet(path(report, "attainment"))
    for c in ["cases", "met", "breached", "pending", "excluded"]:
        assert frame[c].dtype == "int64", c
    for c in ["attainment", "p50_response_business_minutes", "p90_response_business_minutes"]:
        assert frame[c].dtype == "float64", c
    assert ((frame["met"] + frame["breached"] + frame["pending"] + frame["excluded"]) == frame["cases"]).all()
