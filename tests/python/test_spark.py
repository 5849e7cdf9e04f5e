"""The Spark spelling of sql/: sql/spark/*.sql, run with pyspark in local mode.

Spark has no QUANTILE_CONT, so sql/spark/NAME.sql is sql/NAME.sql with
PERCENTILE(x, q) in its place and nothing else changed: the first tests hold
the two together token for token. The others load slt's `case_slt` into one
local Spark session (shared by the module) and run each Spark file over the
plain report and over the partitioned layout (`period` restored from the
paths by Spark's partition discovery); the result must equal the aggregate
slt wrote, as tests/python/test_sql.py requires of DuckDB: same columns,
same rows in the same order, counts equal, floats within 1e-9.

Needs Java 17 or later (`java` on PATH or $JAVA_HOME) and pyspark, pinned
in requirements.txt. Missing either FAILS these tests with the reason; they
never skip. Run alone with

    python -m venv .venv && .venv/bin/pip install -r tests/python/requirements.txt
    SLT_BIN=target/release/slt .venv/bin/python -m pytest -q tests/python/test_spark.py

(20–40 s on 2 cores, about 10 s of it the JVM and session starting).
"""

import os
import re
import shutil
import subprocess
import warnings
from datetime import timezone

import pyarrow.parquet as pq
import pytest

from conftest import REPO
from test_readme import snippets
from test_sql import SQL_FILES, assert_same, expected_rows

try:
    import pyspark
    from pyspark.sql import SparkSession
    from pyspark.sql import types as T
except ImportError as error:  # reported by the `spark` fixture, as a failure
    pyspark = None
    PYSPARK_IMPORT_ERROR = error

SPARK_DIR = REPO / "sql" / "spark"
ORIGINAL, SPARK = "QUANTILE_CONT", "PERCENTILE"
TEXT_COLUMNS = ["case_id", "account_id", "tier", "region", "product", "priority",
                "initial_priority", "coverage", "outcome", "period", "month"]
TIMESTAMP_COLUMNS = ["created_at", "clock_start", "deadline", "first_response_at"]

# --- The Spark files are the originals but for the percentile function. ---

TOKEN = re.compile(
    r"""
      (?P<space>\s+)
    | (?P<comment>--[^\n]*|/\*.*?\*/)
    | (?P<string>'(?:[^']|'')*')
    | (?P<quoted>"(?:[^"]|"")*"|`[^`]*`)
    | (?P<number>\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+)
    | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
    | (?P<symbol><=|>=|<>|!=|\|\||::|[-+*/%=<>(),.;\[\]])
    """,
    re.X | re.S,
)


def tokens(text: str) -> list[str]:
    """SQL tokens, comments and white space dropped; an unknown character
    is an error, so nothing escapes the comparison."""
    out, pos = [], 0
    while pos < len(text):
        m = TOKEN.match(text, pos)
        assert m, f"unexpected character at {pos}: {text[pos:pos + 20]!r}"
        if m.lastgroup not in ("space", "comment"):
            out.append(m.group())
        pos = m.end()
    return out


def spark_spelling(original: list[str]) -> list[str]:
    return [SPARK if t.upper() == ORIGINAL else t for t in original]


def test_every_query_has_a_spark_spelling():
    assert sorted(p.name for p in SPARK_DIR.glob("*.sql")) == [p.name for p in SQL_FILES]


@pytest.mark.parametrize("sql", SQL_FILES, ids=lambda p: p.name)
def test_spark_file_is_the_original_but_for_the_percentile(sql):
    original = tokens(sql.read_text())
    spark = tokens((SPARK_DIR / sql.name).read_text())
    assert original.count(ORIGINAL) == 4 and ORIGINAL not in spark
    assert spark == spark_spelling(original), (
        f"sql/spark/{sql.name} drifted from sql/{sql.name}: they may differ only in "
        f"{SPARK}(x, q) for {ORIGINAL}(x, q) (and comments)"
    )


def test_the_token_comparison_sees_a_one_token_change():
    text = (SPARK_DIR / "attainment.sql").read_text()
    assert tokens(text.replace("0.9)", "0.95)")) != tokens(text)
    assert tokens(text.replace("'met'", "'Met'", 1)) != tokens(text)
    assert tokens(text.replace("outcome", "outcome\n-- a comment\n", 1)) == tokens(text)


# --- One local Spark session for the module. ---

LOG4J2 = """\
# Root at WARN, the level Spark gives an interactive (pyspark) driver, so it
# does not announce a change of level; the console prints errors only.
rootLogger.level = warn
rootLogger.appenderRef.console.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.filter.threshold.type = ThresholdFilter
appender.console.filter.threshold.level = error
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{HH:mm:ss} %p %c{1}: %m%n
"""


def java_major_version() -> int:
    home = os.environ.get("JAVA_HOME")
    java = os.path.join(home, "bin", "java") if home else shutil.which("java")
    if not java or not os.path.exists(java):
        where = f"$JAVA_HOME/bin/java ({java}) does not exist" if home else "no `java` on PATH, no $JAVA_HOME"
        pytest.fail(f"the Spark tests need Java 17 or later: {where}")
    done = subprocess.run([java, "-version"], capture_output=True, text=True)
    m = re.search(r'version "(\d+)(?:\.(\d+))?', done.stderr)
    if done.returncode != 0 or not m:
        pytest.fail(f"the Spark tests need Java 17 or later: `{java} -version` said {done.stderr!r}")
    major = int(m.group(1))
    return int(m.group(2)) if major == 1 else major


@pytest.fixture(scope="module")
def checkout(report, tmp_path_factory):
    """A directory with reports/demo and sql/, as after `slt report` in the
    repository: the Spark driver starts there, so the README's relative
    paths resolve in the JVM as they do in Python."""
    root = tmp_path_factory.mktemp("checkout")
    (root / "reports").mkdir()
    os.symlink(report, root / "reports" / "demo")
    os.symlink(REPO / "sql", root / "sql")
    return root


@pytest.fixture(scope="module")
def spark(checkout, tmp_path_factory):
    if pyspark is None:
        pytest.fail(
            f"the Spark tests need pyspark ({PYSPARK_IMPORT_ERROR}): "
            "pip install -r tests/python/requirements.txt"
        )
    major = java_major_version()
    if major < 17:
        pytest.fail(f"the Spark tests need Java 17 or later (pyspark {pyspark.__version__}); found Java {major}")
    scratch = tmp_path_factory.mktemp("spark")
    (scratch / "log4j2.properties").write_text(LOG4J2)
    java_options = " ".join([
        f"-Dlog4j2.configurationFile={(scratch / 'log4j2.properties').as_uri()}",
        # A short-lived JVM: the C1 compiler only starts and warms up faster.
        "-XX:TieredStopAtLevel=1",
        "-XX:+UseSerialGC",
    ])
    builder = (
        SparkSession.builder.master("local[1]")
        .appName("slt-tests")
        .config("spark.driver.memory", "512m")
        .config("spark.driver.extraJavaOptions", java_options)
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.local.dir", str(scratch / "local"))
        .config("spark.sql.warehouse.dir", str(scratch / "warehouse"))
        # Instants in case_slt are UTC; show and cast them in UTC too.
        .config("spark.sql.session.timeZone", "UTC")
        # `period=2026-Q3` is text; never let discovery guess a type.
        .config("spark.sql.sources.partitionColumnTypeInference.enabled", "false")
    )
    with warnings.catch_warnings(), pytest.MonkeyPatch.context() as mp:
        # pyspark warns that it does not fully support pandas 3; these tests
        # never convert to or from pandas.
        warnings.filterwarnings("ignore", "PySpark does not yet fully support pandas", FutureWarning)
        mp.chdir(checkout)  # the JVM's working directory
        session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def load_case_slt(spark, path):
    cases = spark.read.parquet(str(path))
    cases.createOrReplaceTempView("case_slt")
    return cases


def run_spark(spark, sql):
    result = spark.sql((SPARK_DIR / sql.name).read_text())
    return result.columns, [tuple(row) for row in result.collect()]


# --- What Spark reads. ---


def test_spark_reads_dictionaries_as_text_and_instants_as_timestamps(spark, report, partitioned):
    for path in (report / "case_slt.parquet", partitioned / "case_slt"):
        schema = load_case_slt(spark, path).schema
        for c in TEXT_COLUMNS:
            assert schema[c].dataType == T.StringType(), (path, c, schema[c].dataType)
        for c in TIMESTAMP_COLUMNS:
            # TIMESTAMP (with local time zone), not TIMESTAMP_NTZ: an instant.
            assert schema[c].dataType == T.TimestampType(), (path, c, schema[c].dataType)
        assert schema["response_business_minutes"].dataType == T.DoubleType()
        assert schema["target_minutes"].dataType == T.LongType()


def test_spark_sees_the_same_instants_and_labels(spark, report, partitioned):
    want = {
        r["case_id"]: (r["period"], r["created_at"].astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S"))
        for r in pq.read_table(report / "case_slt.parquet", columns=["case_id", "period", "created_at"]).to_pylist()
    }
    for path in (report / "case_slt.parquet", partitioned / "case_slt"):
        load_case_slt(spark, path)
        got = spark.sql(
            "SELECT case_id, period, CAST(date_trunc('SECOND', created_at) AS STRING) FROM case_slt"
        ).collect()
        assert {r[0]: (r[1], r[2]) for r in got} == want, path


def test_spark_orders_text_by_bytes(spark):
    words = ["Americas", "APAC", "EMEA", "Japan", "apac", "Zürich", "Zurich", "2026-Q1", "2026-01", "month", "quarter"]
    values = ", ".join(f"('{w}')" for w in words)
    got = [r[0] for r in spark.sql(f"SELECT w FROM VALUES {values} AS t(w) ORDER BY w").collect()]
    assert got == sorted(words, key=lambda w: w.encode())


# --- The Spark files equal slt's aggregates. ---


@pytest.mark.parametrize("sql", SQL_FILES, ids=lambda p: p.name)
def test_spark_sql_file_equals_slt_aggregate(spark, report, sql):
    load_case_slt(spark, report / "case_slt.parquet")
    assert_same(*run_spark(spark, sql), *expected_rows(report, sql.stem), "spark")


@pytest.mark.parametrize("sql", SQL_FILES, ids=lambda p: p.name)
def test_spark_sql_file_over_the_partitioned_layout(spark, report, partitioned, sql):
    cases = load_case_slt(spark, partitioned / "case_slt")
    assert sorted(r[0] for r in cases.select("period").distinct().collect()) == sorted(
        p.name.split("=", 1)[1] for p in (partitioned / "case_slt").iterdir()
    )
    assert_same(*run_spark(spark, sql), *expected_rows(partitioned, sql.stem), "spark (partitioned)")
    assert expected_rows(partitioned, sql.stem) == expected_rows(report, sql.stem)


@pytest.mark.parametrize("sql", SQL_FILES, ids=lambda p: p.name)
def test_spark_sql_file_over_the_merged_report(spark, sharded, sql):
    _, merged = sharded
    load_case_slt(spark, merged / "case_slt.parquet")
    assert_same(*run_spark(spark, sql), *expected_rows(merged, sql.stem), "spark (merged)")


@pytest.mark.parametrize("sql", SQL_FILES, ids=lambda p: p.name)
def test_spark_sql_file_over_all_shards_as_one_table(spark, sharded, sql):
    # Shards write their text dimensions as plain strings: Spark reads the
    # shards' files together as one table (no conflicting directories).
    shards, merged = sharded
    cases = spark.read.parquet(*[str(s / "case_slt.parquet") for s in shards])
    cases.createOrReplaceTempView("case_slt")
    assert cases.count() == pq.read_metadata(merged / "case_slt.parquet").num_rows
    assert_same(*run_spark(spark, sql), *expected_rows(merged, sql.stem), "spark (shards)")


def test_readme_pyspark_snippet(spark, checkout, monkeypatch):
    # The snippet's getOrCreate() returns this module's session.
    (code,) = [c for c in snippets() if "pyspark" in c]
    monkeypatch.chdir(checkout)
    spark.catalog.dropTempView("case_slt")
    exec(compile(code, "README.md", "exec"), {})
    assert spark.table("case_slt").count() == pq.read_metadata(checkout / "reports/demo/case_slt.parquet").num_rows
