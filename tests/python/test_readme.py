"""The README's "Opening the outputs" snippets run as written."""

import os
import re

from conftest import REPO


def snippets():
    text = (REPO / "README.md").read_text()
    section = text.split("## Opening the outputs", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, re.S)


def test_readme_snippets_open_the_outputs(report, tmp_path, monkeypatch):
    found = snippets()
    assert len(found) == 3, "pandas, DuckDB and PySpark"
    for code in found:
        assert len(code.strip().splitlines()) <= 4, code
    (tmp_path / "reports").mkdir()
    os.symlink(report, tmp_path / "reports" / "demo")
    os.symlink(REPO / "sql", tmp_path / "sql")
    monkeypatch.chdir(tmp_path)
    # The PySpark one runs in test_spark.py, in that module's Spark session.
    for code in (c for c in found if "pyspark" not in c):
        exec(compile(code, "README.md", "exec"), {})
