"""`slt explain --format json` against `case_slt.parquet` read by pyarrow.

For a few cases of every reason (and every case whose priority changed) of
the demo report: the JSON has exactly the case_slt columns plus `steps`,
every value equal (instants as RFC 3339 UTC, nulls as null), the reason is
the one outcome's, and the steps are in time order, the last being the
outcome's.
"""

import json
from datetime import timezone

import pyarrow.parquet as pq

import oracle as O


def rfc3339(ts):
    text = ts.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")
    text = text.rstrip("0").rstrip(".")
    return text + "Z"


def test_explain_json_is_the_case_slt_row(slt, report):
    table = pq.read_table(report / "case_slt.parquet")
    rows = table.to_pylist()
    picked = {}
    for r in rows:
        key = r["reason"]
        if len(picked.setdefault(key, [])) < 2:
            picked[key].append(r)
    assert set(picked) == set(O.REASON_OUTCOME)
    changed = [r for r in rows if r["priority_changes"] > 0][:3]
    for r in [*changed, *(x for v in picked.values() for x in v)]:
        done = slt("explain", r["case_id"], "--format", "json")
        got = json.loads(done.stdout)
        assert set(got) == set(table.column_names) | {"steps"}
        for name, value in r.items():
            if hasattr(value, "tzinfo"):
                value = rfc3339(value)
            assert got[name] == value, (r["case_id"], name, got[name], value)
        assert O.REASON_OUTCOME[got["reason"]] == got["outcome"]
        ats = [s["at"] for s in got["steps"]]
        assert ats == sorted(ats, key=O.parse_instant)
        assert [s["kind"] for s in got["steps"]].count("outcome") == 1
