"""`slt report --partition-by period`: case_slt as a hive layout
(`case_slt/period=2026-Q3/part-0.parquet`) that every reader opens as one
table, or one quarter at a time, with the same rows as case_slt.parquet.
"""

import duckdb
import pandas as pd
import polars as pl
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

QUARTERS = ["2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"]


def test_layout_is_one_directory_per_quarter(partitioned):
    assert not (partitioned / "case_slt.parquet").exists()
    dirs = sorted(p.name for p in (partitioned / "case_slt").iterdir())
    assert dirs == [f"period={q}" for q in QUARTERS]
    for d in dirs:
        assert [p.name for p in (partitioned / "case_slt" / d).iterdir()] == ["part-0.parquet"]


def single(report):
    frame = pq.read_table(report / "case_slt.parquet").to_pandas()
    return frame.astype({c: str for c in frame.select_dtypes("category").columns})


def counts_by_period(frame):
    return frame.groupby(frame["period"].astype(str)).size().to_dict()


def test_every_reader_opens_the_layout_as_one_table(report, partitioned):
    root = partitioned / "case_slt"
    expected = single(report)
    want = counts_by_period(expected)

    table = pq.read_table(root)  # hive partitioning inferred from the paths
    assert table.num_rows == len(expected)
    assert counts_by_period(table.to_pandas()) == want

    frame = pd.read_parquet(root)
    assert counts_by_period(frame) == want

    pl_frame = pl.read_parquet(root, hive_partitioning=True)
    assert pl_frame.height == len(expected)
    assert pl_frame.group_by("period").len().sort("period").rows() == sorted(want.items())
    assert pl_frame.schema["created_at"] == pl.Datetime("us", "UTC")
    assert isinstance(pl_frame.schema["region"], pl.Enum)

    rows = duckdb.sql(
        f"SELECT period, count(*) FROM read_parquet('{root}/*/*.parquet', hive_partitioning = true) "
        "GROUP BY period ORDER BY period"
    ).fetchall()
    assert rows == sorted(want.items())


def test_rows_equal_the_single_file(report, partitioned):
    expected = single(report).sort_values("case_id").reset_index(drop=True)
    got = pl.read_parquet(partitioned / "case_slt", hive_partitioning=True)
    got = got.with_columns(pl.col(c).cast(pl.String) for c, t in got.schema.items() if isinstance(t, pl.Enum))
    got = got.select(expected.columns).sort("case_id").to_pandas()
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)


@pytest.mark.parametrize("quarter", QUARTERS)
def test_one_quarter_reads_without_the_others(report, partitioned, quarter):
    want = counts_by_period(single(report))[quarter]
    part = partitioned / "case_slt" / f"period={quarter}"
    # Straight to the directory: only that quarter's file is opened.
    assert pq.read_table(part).num_rows == want
    # Or a filter on the partition column, which prunes the other paths.
    dataset = ds.dataset(partitioned / "case_slt", partitioning="hive")
    fragments = list(dataset.get_fragments(filter=ds.field("period") == quarter))
    assert len(fragments) == 1
    assert dataset.to_table(filter=ds.field("period") == quarter).num_rows == want
    lazy = pl.scan_parquet(partitioned / "case_slt", hive_partitioning=True)
    assert lazy.filter(pl.col("period") == quarter).select(pl.len()).collect().item() == want
