"""slt's per-case measurement against an independent oracle (tests/python/oracle.py).

The oracle is written from SLT-SPEC.md §3–4 and the README's "Choices where
the spec is silent", with zoneinfo and datetime only. It is first checked
against the spec's seven worked examples, then compared with `slt report`
case by case and field by field (instants to the microsecond, business
minutes within 1e-6) on synthetic exports: several `slt generate` seeds, the
`from_creation` priority-change rule, an explicit `--as-of` in the middle of
the data, and an adversarial export built here around window edges, DST
transitions, holidays, contract bounds and same-instant events.
"""

from __future__ import annotations

import csv
import hashlib
import json
import random
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import oracle as O
from conftest import REPO

POLICY = REPO / "fixtures" / "policy.toml"
HOLIDAYS = REPO / "fixtures" / "holidays.csv"

INSTANTS = ["created_at", "clock_start", "deadline", "first_response_at"]
MINUTES = ["response_business_minutes", "breach_business_minutes"]
EXACT = [
    "account_id", "tier", "region", "priority", "initial_priority", "priority_changes",
    "coverage", "target_minutes", "outcome", "period", "month", "reason",
]


def t(text: str) -> int:
    return O.parse_instant(text)


# ------------------------------------------------------ oracle on the spec


@pytest.fixture(scope="module")
def policy() -> O.Policy:
    return O.Policy(POLICY)


def one_case(policy, tier, region, priority, created, *, events=(), closed=None,
             as_of=None, holidays=None, rule=None):
    """The oracle's row for one case (no holidays unless given)."""
    cal = O.Calendar(policy, holidays or {})
    evs = [O.Event(t(at), kind, value, i) for i, (at, kind, value) in enumerate(events)]
    case = O.Case("C-1", "A-1", priority, t(created), t(closed) if closed else None, evs)
    if as_of is None:
        as_of = O.default_as_of({"C-1": case})
    contract = O.Contract(tier, region, t("2020-01-01T00:00:00Z"), None)
    return O.measure(case, contract, policy, cal, as_of, rule)


def test_example_1_online_p2_emea_across_the_bst_change(policy):
    row = one_case(policy, "Online", "EMEA", "P2", "2026-03-27T15:00:00+00:00",
                   events=[("2026-03-30T10:30:00+01:00", "agent_response", "")])
    assert (row["coverage"], row["target_minutes"]) == ("business_hours", 240)
    assert row["deadline"] == t("2026-03-30T10:00:00Z")
    assert row["outcome"] == "met"
    assert row["response_business_minutes"] == 210


def test_example_2_elite_p1_breached_by_two_minutes(policy):
    row = one_case(policy, "Elite", "EMEA", "P1", "2026-07-04T23:55:00Z",
                   events=[("2026-07-05T00:12:00Z", "agent_response", "")])
    assert (row["coverage"], row["target_minutes"]) == ("24x7", 15)
    assert row["response_business_minutes"] == 17
    assert row["outcome"] == "breached"
    assert row["breach_business_minutes"] == 2


def test_example_3_elite_p2_americas_24x5_over_the_weekend(policy):
    row = one_case(policy, "Elite", "Americas", "P2", "2026-05-15T23:50:00-07:00",
                   events=[("2026-05-18T00:15:00-07:00", "agent_response", "")])
    assert row["coverage"] == "24x5"
    assert row["deadline"] == t("2026-05-18T07:20:00Z")
    assert row["outcome"] == "met"
    assert row["response_business_minutes"] == 25


def test_example_4_japan_rule_puts_elite_p2_on_business_hours(policy):
    row = one_case(policy, "Elite", "Japan", "P2", "2026-10-14T17:20:00+09:00")
    assert (row["coverage"], row["target_minutes"]) == ("business_hours", 30)
    assert row["deadline"] == t("2026-10-15T00:20:00Z")


def test_example_5_online_p4_apac_over_easter_and_the_end_of_dst(policy):
    holidays = {"APAC": {date(2026, 4, 3), date(2026, 4, 6)}}
    row = one_case(policy, "Online", "APAC", "P4", "2026-04-02T10:00:00+11:00",
                   holidays=holidays)
    assert (row["coverage"], row["target_minutes"]) == ("business_hours", 1440)
    assert row["deadline"] == t("2026-04-09T00:00:00Z")
    # And with the shipped holiday list, which has both days.
    shipped = O.load_holidays(HOLIDAYS)
    assert {date(2026, 4, 3), date(2026, 4, 6)} <= shipped["APAC"]
    row = one_case(policy, "Online", "APAC", "P4", "2026-04-02T10:00:00+11:00",
                   holidays=shipped)
    assert row["deadline"] == t("2026-04-09T00:00:00Z")


def test_example_6_upgrade_restarts_the_clock(policy):
    events = [
        ("2026-06-09T10:00:00+01:00", "priority_change", "P1"),
        ("2026-06-09T11:10:00+01:00", "agent_response", ""),
    ]
    before = one_case(policy, "Online", "EMEA", "P3", "2026-06-09T09:00:00+01:00",
                      as_of=t("2026-06-09T09:30:00+01:00"), events=events)
    assert before["deadline"] == t("2026-06-09T15:00:00+01:00")
    assert before["outcome"] == "pending"

    row = one_case(policy, "Online", "EMEA", "P3", "2026-06-09T09:00:00+01:00",
                   events=events, rule="restart")
    assert row["clock_start"] == t("2026-06-09T10:00:00+01:00")
    assert row["deadline"] == t("2026-06-09T11:00:00+01:00")
    assert (row["priority"], row["priority_changes"], row["coverage"]) == ("P1", 1, "24x7")
    assert row["outcome"] == "breached"
    assert row["breach_business_minutes"] == 10
    assert row["response_business_minutes"] == 70

    row = one_case(policy, "Online", "EMEA", "P3", "2026-06-09T09:00:00+01:00",
                   events=events, rule="from_creation")
    assert row["clock_start"] == t("2026-06-09T09:00:00+01:00")
    assert row["deadline"] == t("2026-06-09T10:00:00+01:00")
    assert row["priority"] == "P1"
    assert row["outcome"] == "breached"
    assert row["response_business_minutes"] == 130


def test_example_7_target_ending_at_the_close_lands_on_the_next_opening(policy):
    row = one_case(policy, "Online", "EMEA", "P2", "2026-03-27T13:00:00+00:00",
                   events=[("2026-03-27T17:40:00+00:00", "agent_response", "")])
    assert row["deadline"] == t("2026-03-30T08:00:00Z")
    assert row["outcome"] == "met"
    assert row["response_business_minutes"] == 240


def test_oracle_calendar_rules(policy):
    cal = O.Calendar(policy, {})
    la = O.ZoneInfo("America/Los_Angeles")
    # Spring-forward gap (02:00 → 03:00 PDT on 2026-03-08): first instant after.
    assert O.local_to_us(datetime(2026, 3, 8, 2, 30), la) == t("2026-03-08T03:00:00-07:00")
    assert O.local_to_us(datetime(2026, 3, 8, 2, 0), la) == t("2026-03-08T03:00:00-07:00")
    # Fall-back fold (01:00–02:00 twice on 2026-11-01): the earlier instant.
    assert O.local_to_us(datetime(2026, 11, 1, 1, 30), la) == t("2026-11-01T01:30:00-07:00")
    # A 0 target is the start, even outside coverage; elapsed backwards is an error.
    sat = t("2026-05-16T12:00:00Z")
    assert cal.deadline("EMEA", "business_hours", sat, 0) == sat
    with pytest.raises(ValueError):
        cal.elapsed("EMEA", "24x5", sat, sat - 1)
    # 24x5 running out at Friday 24:00 → Monday 00:00.
    fri = t("2026-05-15T23:00:00+01:00")
    assert cal.deadline("EMEA", "24x5", fri, 60) == t("2026-05-18T00:00:00+01:00")
    # Holidays remove the whole local day: EMEA has Fri 25 and Mon 28 Dec 2026.
    hol = O.Calendar(policy, O.load_holidays(HOLIDAYS))
    assert hol.elapsed("EMEA", "business_hours", t("2026-12-24T16:00:00Z"),
                       t("2026-12-29T10:00:00Z")) == 120 * O.MIN
    assert hol.deadline("EMEA", "business_hours", t("2026-12-24T16:00:00Z"), 60) == t(
        "2026-12-29T09:00:00Z")


# ------------------------------------------------- slt against the oracle


def read_case_slt(path: Path) -> dict[str, dict]:
    table = pq.read_table(path)
    cols = {}
    for name in table.column_names:
        col = table.column(name)
        if pa.types.is_timestamp(col.type):
            assert col.type.unit == "us" and col.type.tz == "UTC", (name, col.type)
            col = col.cast(pa.int64())
        cols[name] = col.to_pylist()
    rows = [dict(zip(cols, vals)) for vals in zip(*cols.values())]
    ids = [r["case_id"] for r in rows]
    assert len(ids) == len(set(ids)), "case_id not unique in case_slt"
    return {r["case_id"]: r for r in rows}


def read_rejects(path: Path) -> tuple[dict[str, set[int]], list[dict]]:
    rows = pq.read_table(path).to_pylist()
    by_table: dict[str, set[int]] = {}
    for r in rows:
        by_table.setdefault(r["table"], set()).add(r["row_number"])
    return by_table, rows


def run_both(slt, tmp: Path, input_dir: Path, *, policy_path: Path = POLICY,
             holidays_path: Path = HOLIDAYS, as_of: str | None = None):
    """`slt report` and the oracle on one export; returns (mismatches, stats)."""
    out = tmp / "out"
    args = ["report", "--input", input_dir, "--out", out, "-q"]
    # The shipped policy and holidays are left to slt's embedded copies, which
    # must be those of fixtures/ that the oracle reads.
    if policy_path != POLICY:
        args += ["--policy", policy_path]
    if holidays_path != HOLIDAYS:
        args += ["--holidays", holidays_path]
    if as_of:
        args += ["--as-of", as_of]
    slt(*args)
    manifest = json.loads((out / "manifest.json").read_text())
    for key, path in (("policy", policy_path), ("holidays", holidays_path)):
        assert manifest[key]["sha256"] == hashlib.sha256(Path(path).read_bytes()).hexdigest(), key
    actual = read_case_slt(out / "case_slt.parquet")
    rejected, reject_rows = read_rejects(out / "rejects.parquet")

    policy = O.Policy(policy_path)
    cal = O.Calendar(policy, O.load_holidays(holidays_path))
    contracts, cases = O.load_export(input_dir, policy, rejected)
    mismatches = []

    if as_of:
        as_of_us = t(as_of)
        assert manifest["as_of_source"] == "flag"
    else:
        as_of_us = O.default_as_of(cases)
        assert manifest["as_of_source"] == "latest_in_export"
    assert t(manifest["as_of"]) == as_of_us, (manifest["as_of"], O.fmt(as_of_us))

    # The measured cases: every case row slt used, none it rejected.
    assert set(actual) == set(cases), (
        f"measured but rejected or unknown: {sorted(set(actual) - set(cases))[:10]}; "
        f"used but not measured: {sorted(set(cases) - set(actual))[:10]}"
    )
    assert all(c.created_at <= as_of_us for c in cases.values())
    if as_of:
        late = [r for r in reject_rows if r["table"] == "cases" and "as-of" in r["reason"]]
        assert late, "an --as-of in the middle of the data rejects the later cases"
    assert manifest["cases_measured"] == len(actual)

    want_outcomes = []
    for case_id, case in cases.items():
        contract = O.contract_at(contracts.get(case.account_id, []), case.created_at)
        assert contract is not None, f"{case_id}: measured without a contract in force"
        want = O.measure(case, contract, policy, cal, as_of_us)
        want_outcomes.append(want["outcome"])
        got = actual[case_id]
        for field in EXACT + INSTANTS:
            if want[field] != got[field]:
                show = O.fmt if field in INSTANTS else repr
                mismatches.append((field, case_id, show(want[field]), show(got[field])))
        for field in MINUTES:
            w, g = want[field], got[field]
            if (w is None) != (g is None) or (w is not None and abs(w - g) > 1e-6):
                mismatches.append((field, case_id, w, g))
    # The manifest's outcome counts, against the oracle's.
    counted = {k: v for k, v in manifest["outcomes"].items() if v}
    if counted != _count(want_outcomes):
        mismatches.append(("manifest.outcomes", "(all)", _count(want_outcomes), counted))
    stats = {
        "cases": len(actual),
        "outcomes": _count(r["outcome"] for r in actual.values()),
        "changed": sum(1 for r in actual.values() if r["priority_changes"]),
        "ids": set(actual),
    }
    return mismatches, stats


def _count(values) -> dict:
    out: dict = {}
    for v in values:
        out[v] = out.get(v, 0) + 1
    return out


def assert_agree(mismatches, stats):
    if not mismatches:
        return
    by_field: dict[str, list] = {}
    for field, case_id, want, got in mismatches:
        by_field.setdefault(field, []).append(f"{case_id}: oracle {want}, slt {got}")
    lines = [f"{len({m[1] for m in mismatches})} of {stats['cases']} cases disagree"]
    for field, items in sorted(by_field.items()):
        lines.append(f"  {field} ({len(items)}): " + "; ".join(items[:4]))
    pytest.fail("\n".join(lines), pytrace=False)


@pytest.mark.parametrize("seed,cases,extra", [
    (2026, 2000, ()),
    (7, 1500, ()),
    (31337, 1500, ("--accounts", 120, "--year", 2027)),
])
def test_generated_export_agrees_with_the_oracle(slt, tmp_path, seed, cases, extra):
    export = tmp_path / "export"
    slt("generate", "--out", export, "--cases", cases, "--seed", seed, *extra)
    mismatches, stats = run_both(slt, tmp_path, export)
    assert stats["cases"] >= cases - 10
    assert_agree(mismatches, stats)


def test_from_creation_rule_agrees_with_the_oracle(slt, tmp_path):
    text = POLICY.read_text()
    assert text.count('priority_change = "restart"') == 1
    policy_path = tmp_path / "policy.toml"
    policy_path.write_text(text.replace('priority_change = "restart"',
                                        'priority_change = "from_creation"'))
    export = tmp_path / "export"
    slt("generate", "--out", export, "--cases", 2000, "--seed", 4242)
    mismatches, stats = run_both(slt, tmp_path, export, policy_path=policy_path)
    assert stats["changed"] > 0
    assert_agree(mismatches, stats)


def test_periods_cut_in_each_region_zone_agree_with_the_oracle(slt, tmp_path):
    """`report_time_zone = "region"`: each case's quarter in its region's zone."""
    text = POLICY.read_text()
    assert text.count('report_time_zone = "UTC"') == 1
    policy_path = tmp_path / "policy.toml"
    policy_path.write_text(text.replace('report_time_zone = "UTC"',
                                        'report_time_zone = "region"'))
    export = tmp_path / "export"
    slt("generate", "--out", export, "--cases", 2000, "--seed", 909)
    mismatches, stats = run_both(slt, tmp_path, export, policy_path=policy_path)
    assert_agree(mismatches, stats)
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["report_time_zone"] == "region"
    # Some case is in another month than in UTC (Americas evenings, Japan mornings).
    cases = read_case_slt(tmp_path / "out" / "case_slt.parquet")
    utc = [O.quarter_month(c["created_at"], O.UTC)[1] for c in cases.values()]
    assert any(m != c["month"] for m, c in zip(utc, cases.values()))


def test_manifest_names_the_priority_change_rule_as_the_policy_does(slt, tmp_path):
    """The manifest's `priority_change_rule` is the policy's own value."""
    export = tmp_path / "export"
    slt("generate", "--out", export, "--cases", 50, "--seed", 1)
    for rule in ("restart", "from_creation"):
        policy_path = tmp_path / f"{rule}.toml"
        policy_path.write_text(POLICY.read_text().replace(
            'priority_change = "restart"', f'priority_change = "{rule}"'))
        out = tmp_path / rule
        slt("report", "--input", export, "--out", out, "-q", "--policy", policy_path)
        manifest = json.loads((out / "manifest.json").read_text())
        assert manifest["priority_change_rule"] == rule


def test_explicit_as_of_in_the_middle_agrees_with_the_oracle(slt, tmp_path):
    export = tmp_path / "export"
    slt("generate", "--out", export, "--cases", 2000, "--seed", 555)
    mismatches, stats = run_both(slt, tmp_path, export, as_of="2026-07-15T13:07:41+02:00")
    assert stats["outcomes"].get("pending", 0) > 0
    assert_agree(mismatches, stats)


# ------------------------------------------- the calendar kernel, fuzzed

# A policy whose window edges fall inside DST gaps and folds: business hours
# every day of the week, opening at 02:30 in Los Angeles (inside the March
# gap), 01:30 in London (inside the March gap and the October fold), 02:15 on
# Lord Howe Island (a 30-minute DST shift) and at midnight in Havana (whose
# clocks change at midnight); 24x5 moved to Sunday–Thursday with holidays
# removed, and holidays next to the days that have 23 or 25 hours.
EDGE_POLICY_CHANGES = [
    ('[coverage.24x5]\ndays = ["Mon", "Tue", "Wed", "Thu", "Fri"]\nopen = "00:00"\n'
     'close = "24:00"\nremove_holidays = false',
     '[coverage.24x5]\ndays = ["Sun", "Mon", "Tue", "Wed", "Thu"]\nopen = "00:00"\n'
     'close = "24:00"\nremove_holidays = true'),
    ('[coverage.business_hours]\ndays = ["Mon", "Tue", "Wed", "Thu", "Fri"]',
     '[coverage.business_hours]\ndays = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]'),
    ('time_zone = "America/Los_Angeles"\nopen = "06:00"',
     'time_zone = "America/Los_Angeles"\nopen = "02:30"'),
    ('time_zone = "Europe/London"\nopen = "09:00"', 'time_zone = "Europe/London"\nopen = "01:30"'),
    ('time_zone = "Australia/Sydney"\nopen = "09:00"',
     'time_zone = "Australia/Lord_Howe"\nopen = "02:15"'),
    ('time_zone = "Asia/Tokyo"\nopen = "09:00"', 'time_zone = "America/Havana"\nopen = "00:00"'),
    # Periods in a zone with a half-hour offset and DST.
    ('report_time_zone = "UTC"', 'report_time_zone = "America/St_Johns"'),
    # A business day shorter than the office hours, and days on 24x5.
    ('time_zone = "Europe/London"\nopen = "01:30"\nclose = "17:00"',
     'time_zone = "Europe/London"\nopen = "01:30"\nclose = "17:00"\nbusiness_day_minutes = 450'),
    ('P3 = { coverage = "24x5", minutes = 60 }', 'P3 = { coverage = "24x5", business_days = 1 }'),
    # Overrides in order: the later one wins.
    ('coverage = "business_hours"\n\n# Entitlements',
     'coverage = "business_hours"\n\n[[coverage_overrides]]\nregions = ["EMEA"]\n'
     'priorities = ["P3", "P4"]\ncoverage = "24x7"\n\n[[coverage_overrides]]\n'
     'regions = ["EMEA", "Japan"]\npriorities = ["P3"]\ncoverage = "24x5"\n\n# Entitlements'),
]
EDGE_HOLIDAYS = """region,date,name
Japan,2026-03-09,day after the gap
Japan,2026-10-31,day before the fold
APAC,2026-10-05,day after the gap
APAC,2026-04-04,day before the fold
Americas,2026-03-09,day after the gap
Americas,2026-11-02,day after the fold
EMEA,2026-10-26,day after the fold
EMEA,2026-12-25,Christmas Day
"""


def write_edge_policy(tmp: Path) -> tuple[Path, Path]:
    text = POLICY.read_text()
    for old, new in EDGE_POLICY_CHANGES:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    (tmp / "edge-policy.toml").write_text(text)
    (tmp / "edge-holidays.csv").write_text(EDGE_HOLIDAYS)
    return tmp / "edge-policy.toml", tmp / "edge-holidays.csv"


@lru_cache(maxsize=None)
def transitions(tz: O.ZoneInfo, year: int) -> list[int]:
    """The instants (µs) at which `tz` changes its UTC offset during `year`."""
    out = []
    hour = O.to_us(datetime(year, 1, 1, tzinfo=O.UTC))
    end = O.to_us(datetime(year + 1, 1, 1, tzinfo=O.UTC))
    prev = O.from_us(hour).astimezone(tz).utcoffset()
    while hour < end:
        nxt = hour + 900 * O.US
        off = O.from_us(nxt).astimezone(tz).utcoffset()
        if off != prev:
            lo, hi = hour // O.US, nxt // O.US
            while lo + 1 < hi:
                mid = (lo + hi) // 2
                if O.from_us(mid * O.US).astimezone(tz).utcoffset() == prev:
                    lo = mid
                else:
                    hi = mid
            out.append(hi * O.US)
            prev = off
        hour = nxt
    return out


def interesting_instants(rng, policy, cal, region, coverage, n) -> list[int]:
    """Starts and ends near window edges, DST transitions, or anywhere in 2026."""
    tz = policy.zone(region)
    trans = transitions(tz, 2026)
    year0 = O.to_us(datetime(2026, 1, 1, tzinfo=O.UTC))
    out = []
    for _ in range(n):
        kind = rng.random()
        if kind < 0.3:
            us = year0 + rng.randrange(360 * 86400) * O.US
        elif kind < 0.55 and trans or coverage == "24x7":
            us = rng.choice(trans or [year0]) + rng.randrange(-3 * 86400, 3 * 86400) * O.US
        else:
            base = year0 + rng.randrange(360 * 86400) * O.US
            if rng.random() < 0.5 and trans:
                base = rng.choice(trans) - 3 * 86400 * O.US
            o, c = next(cal.windows_from(region, coverage, base))
            us = rng.choice([o, c, o - O.US, c - O.US, o + O.US, c + O.US])
        if rng.random() < 0.1:
            us += rng.randrange(O.US)  # fractional seconds
        out.append(us)
    return out


def rfc3339_local(us: int, tz) -> str:
    """`us` written with the offset of `tz` (or Z), as an export would."""
    d = O.from_us(us).astimezone(tz)
    frac = f".{d.microsecond:06d}" if d.microsecond else ""
    off = d.strftime("%z")
    off = "Z" if off == "+0000" else f"{off[:3]}:{off[3:]}"
    return d.strftime("%Y-%m-%dT%H:%M:%S") + frac + off


def calendar_questions(policy, cal, seed, per_pair=120):
    rng = random.Random(seed)
    elapsed_rows, deadline_rows = [], []
    for region in policy.regions:
        tz = policy.zone(region)
        for coverage in ("24x7", "24x5", "business_hours"):
            starts = interesting_instants(rng, policy, cal, region, coverage, per_pair)
            ends = interesting_instants(rng, policy, cal, region, coverage, per_pair)
            for a, b in zip(starts, ends):
                if rng.random() < 0.5:
                    b = a + rng.randrange(0, 20 * 86400 * O.US)
                a, b = min(a, b), max(a, b)
                elapsed_rows.append((region, coverage, a, b, rfc3339_local(a, tz),
                                     rfc3339_local(b, O.UTC)))
            for a in starts:
                r = rng.random()
                if r < 0.3 and a % O.US == 0 and coverage != "24x7":
                    # A target that runs out exactly at a window's close.
                    wins = cal.windows_from(region, coverage, a)
                    for _ in range(rng.randrange(1, 8)):
                        o, c = next(wins)
                    minutes_us = cal.elapsed(region, coverage, a, c)
                    if minutes_us % O.MIN:
                        continue
                    text = str(minutes_us // O.MIN)
                elif r < 0.4:
                    text = rng.choice(["0", "0.5", "1", "15", "30.25", "690", "1440", "1530"])
                else:
                    text = str(rng.randrange(0, 6000))
                deadline_rows.append((region, coverage, a, text, rfc3339_local(a, tz)))
    return elapsed_rows, deadline_rows


def slt_batch(slt, tmp: Path, kind: str, header: str, rows, policy_path, holidays_path):
    path = tmp / f"{kind}.csv"
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header.split(","))
        w.writerows(rows)
    done = slt("calendar", kind, "--batch", path, "--policy", policy_path,
               "--holidays", holidays_path)
    assert not done.stderr.strip(), done.stderr
    return list(csv.DictReader(done.stdout.splitlines()))


@pytest.mark.parametrize("which", ["default", "dst_edges"])
def test_calendar_kernel_agrees_with_the_oracle(slt, tmp_path, which):
    if which == "default":
        policy_path, holidays_path = POLICY, HOLIDAYS
    else:
        policy_path, holidays_path = write_edge_policy(tmp_path)
    policy = O.Policy(policy_path)
    cal = O.Calendar(policy, O.load_holidays(holidays_path))
    elapsed_rows, deadline_rows = calendar_questions(policy, cal, seed=len(which))

    got = slt_batch(slt, tmp_path, "elapsed", "region,coverage,start,end",
                    [r[:2] + r[4:] for r in elapsed_rows], policy_path, holidays_path)
    assert len(got) == len(elapsed_rows)
    bad = []
    for (region, coverage, a, b, sa, sb), row in zip(elapsed_rows, got):
        want = cal.elapsed(region, coverage, a, b) / O.MIN
        if abs(float(row["business_minutes"]) - want) > 1e-6:
            bad.append(f"elapsed {region} {coverage} {sa} {sb}: oracle {want}, "
                       f"slt {row['business_minutes']}")

    got = slt_batch(slt, tmp_path, "deadline", "region,coverage,start,minutes",
                    [r[:2] + (r[4], r[3]) for r in deadline_rows], policy_path, holidays_path)
    assert len(got) == len(deadline_rows)
    for (region, coverage, a, minutes, sa), row in zip(deadline_rows, got):
        want = cal.deadline(region, coverage, a, float(minutes))
        if O.parse_instant(row["deadline"]) != want:
            bad.append(f"deadline {region} {coverage} {sa} + {minutes}: oracle {O.fmt(want)}, "
                       f"slt {row['deadline']}")
    n = len(elapsed_rows) + len(deadline_rows)
    assert not bad, f"{len(bad)} of {n} calendar answers disagree:\n" + "\n".join(bad[:15])


# ------------------------------------------------ an adversarial export

AS_OF = "2026-09-16T12:00:00Z"  # a Wednesday, inside every region's 24x5 day
FAR = O.parse_instant("2199-01-01T00:00:00Z")
PRIORITIES = ["P1", "P2", "P3", "P4"]
ODD_OFFSETS = ["+05:30", "-03:00", "+14:00", "-12:00", "+00:00", "-00:00"]


def write_instant(rng, us: int, tz) -> str:
    """`us` as RFC 3339 in some offset, sometimes with fractional digits
    beyond the microsecond (truncated by slt) or a lower-case t/z."""
    r = rng.random()
    if r < 0.4:
        zone = tz
    elif r < 0.7:
        zone = O.UTC
    else:
        off = rng.choice(ODD_OFFSETS)
        sign = -1 if off[0] == "-" else 1
        zone = O.timezone(sign * timedelta(hours=int(off[1:3]), minutes=int(off[4:6])))
    d = O.from_us(us).astimezone(zone)
    text = d.strftime("%Y-%m-%dT%H:%M:%S")
    if d.microsecond or rng.random() < 0.05:
        text += f".{d.microsecond:06d}" + ("" if rng.random() < 0.5 else str(rng.randrange(1000)))
    off = d.strftime("%z")
    off = f"{off[:3]}:{off[3:]}"
    if zone is O.UTC and rng.random() < 0.7:
        off = "Z"
    elif zone is not tz and zone is not O.UTC and off == "+00:00":
        off = rng.choice(["+00:00", "-00:00"])
    if rng.random() < 0.03:
        text, off = text.replace("T", "t"), off.replace("Z", "z")
    return text + off


def contract_layouts(policy, regions):
    """(account rows, cut instants) per region: contracts whose bounds are
    bare dates and instants, an upgrade, a downgrade, a region move, a gap."""
    rows, cuts = [], []
    n = 0
    for i, region in enumerate(regions):
        other = regions[(i + 1) % len(regions)]
        tz = policy.zone(region)

        def acc(*contracts):
            nonlocal n
            n += 1
            aid = f"ACC-{n:03d}"
            for tier, reg, vf, vt in contracts:
                rows.append({"account_id": aid, "tier": tier, "region": reg,
                             "valid_from": vf, "valid_to": vt})
            return aid

        acc(("Online", region, "2025-01-01", ""))
        acc(("Elite", region, "2024-12-31T15:00:00Z", ""))
        acc(("Online", region, "2025-01-01", "2026-06-01"), ("Elite", region, "2026-06-01", ""))
        cuts.append(O.parse_bound("2026-06-01", tz))
        acc(("Elite", region, "2025-01-01", "2026-08-17T10:30:00+02:00"),
            ("Online", region, "2026-08-17T10:30:00+02:00", ""))
        cuts.append(O.parse_instant("2026-08-17T10:30:00+02:00"))
        acc(("Online", region, "2025-01-01", "2026-03-10T07:00:00Z"),
            ("Elite", other, "2026-03-10T07:00:00Z", ""))
        cuts.append(O.parse_instant("2026-03-10T07:00:00Z"))
        acc(("Elite", region, "2025-01-01", "2026-04-01"), ("Elite", region, "2026-04-03", ""))
        cuts += [O.parse_bound("2026-04-01", tz), O.parse_bound("2026-04-03", tz)]
        # Bare dates are midnight in each row's own region: moving west on the
        # same date leaves a gap of a few hours between the two rows.
        west = regions[(i + 3) % len(regions)]
        first, second = (region, west) if policy.zone(region).utcoffset(
            datetime(2026, 5, 1)) > policy.zone(west).utcoffset(datetime(2026, 5, 1)) \
            else (west, region)
        if first != second:
            acc(("Online", first, "2025-01-01", "2026-05-01"),
                ("Elite", second, "2026-05-01", ""))
            cuts += [O.parse_bound("2026-05-01", policy.zone(first)),
                     O.parse_bound("2026-05-01", policy.zone(second))]
        # A contract starting on a DST-change day (a gap at midnight in Havana).
        acc(("Online", region, "2025-01-01", "2026-03-08"), ("Elite", region, "2026-03-08", ""))
        cuts.append(O.parse_bound("2026-03-08", tz))
    return rows, cuts


def adversarial_export(out: Path, policy: O.Policy, cal: O.Calendar, *, seed: int,
                       n_cases: int, rule: str, as_of: int | None = None):
    """Cases whose events sit on the edges the spec defines: responses,
    priority changes and closures at the deadline in force, one second
    either side, at the same instant as each other; creation at window
    edges, DST transitions, holidays and contract bounds; fractional seconds.

    Returns the case ids slt must measure (the others are in contract gaps
    or created after `as_of`)."""
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    regions = list(policy.regions)
    account_rows, cuts = contract_layouts(policy, regions)
    contracts: dict[str, list[O.Contract]] = {}
    for r in account_rows:
        tz = policy.zone(r["region"])
        contracts.setdefault(r["account_id"], []).append(O.Contract(
            r["tier"], r["region"], O.parse_bound(r["valid_from"], tz),
            O.parse_bound(r["valid_to"], tz) if r["valid_to"] else None))
    accounts = list(contracts)
    year0 = O.to_us(datetime(2026, 1, 1, tzinfo=O.UTC))
    anchor = as_of if as_of is not None else O.parse_instant(AS_OF)
    sec = O.US

    case_rows, event_rows, expected = [], [], []
    for k in range(1, n_cases + 1):
        case_id = f"C-{k:06d}"
        aid = rng.choice(accounts)
        home = contracts[aid][0].region
        tz = policy.zone(home)
        prio = rng.choice(PRIORITIES)
        r = rng.random()
        if r < 0.15:
            created = rng.choice(cuts) + rng.choice([0, -sec, sec, -1, 1, 3600 * sec])
        elif r < 0.4:
            region = home
            tier = "Elite" if rng.random() < 0.5 else "Online"
            cov = policy.target(tier, region, prio).coverage
            base = year0 + rng.randrange(350 * 86400) * sec
            if cov == "24x7":
                cov = "business_hours"
            o, c = next(cal.windows_from(region, cov, base))
            created = rng.choice([o, c, o - sec, c - sec, o + sec])
        elif r < 0.55:
            trans = transitions(tz, 2026) or [year0]
            created = rng.choice(trans) + rng.randrange(-2 * 86400, 2 * 86400) * sec
        elif r < 0.65:
            days = sorted(d for d in cal.holidays.get(home, ()) if d.year == 2026)
            d = rng.choice(days)
            created = O.local_to_us(datetime(d.year, d.month, d.day) +
                                    timedelta(seconds=rng.randrange(86400)), tz)
        elif r < 0.75:
            # Near the as-of anchor, some with a deadline exactly at it.
            created = anchor - rng.randrange(0, 3 * 86400) * sec
            if rng.random() < 0.05:
                created = anchor + rng.choice([0, 1])
        elif r < 0.82:
            # Near a month boundary (UTC), for period and month.
            month = datetime(2026, rng.randrange(2, 13), 1, tzinfo=O.UTC)
            created = O.to_us(month) + rng.randrange(-15 * 3600, 15 * 3600) * sec
        else:
            created = year0 + rng.randrange(355 * 86400) * sec
        if rng.random() < 0.08:
            created += rng.randrange(sec)

        contract = O.contract_at(contracts[aid], created)
        if contract is None:  # in a contract gap: slt rejects the case
            case_rows.append((case_id, aid, prio, write_instant(rng, created, tz), ""))
            continue
        region, tier = contract.region, contract.tier
        tz = policy.zone(region)
        if r >= 0.65 and r < 0.75 and rng.random() < 0.5:
            tgt = policy.target(tier, region, prio)
            guess = anchor - tgt.minutes * O.MIN
            if (guess > O.parse_instant("2026-01-01T00:00:00Z")
                    and O.contract_at(contracts[aid], guess) is contract
                    and cal.deadline(region, tgt.coverage, guess, tgt.minutes) == anchor):
                created = guess

        events: list[tuple[int, str, str]] = []

        def state():
            evs = [O.Event(at, kind, v, i) for i, (at, kind, v) in enumerate(events)]
            case = O.Case(case_id, aid, prio, created, None, evs)
            return O.measure(case, contract, policy, cal, FAR, rule)

        def near_anchor(us):
            if rng.random() < 0.12 and anchor >= created:
                return anchor + rng.choice([-sec, 0, 0, sec])
            return us

        last = created
        for _ in range(rng.choices([0, 1, 2, 3], [45, 25, 18, 12])[0]):
            st = state()
            dl = st["deadline"]
            r2 = rng.random()
            if r2 < 0.18:
                at = dl
            elif r2 < 0.28:
                at = dl + sec
            elif r2 < 0.38:
                at = last  # the same instant as the previous change (or creation)
            elif r2 < 0.48:
                at = dl + rng.randrange(1, 3 * 86400) * sec
            else:
                at = last + rng.randrange(0, max(1, (max(dl, last + sec) - last) // sec)) * sec
            at = max(created, near_anchor(at))
            value = st["priority"] if rng.random() < 0.15 else rng.choice(PRIORITIES)
            events.append((at, "priority_change", value))
            last = max(last, at)

        st = state()
        dl = st["deadline"]
        changes = [at for at, kind, _ in events if kind == "priority_change"]
        r3 = rng.random()
        response = None
        if r3 < 0.15:
            pass
        elif r3 < 0.3:
            response = dl
        elif r3 < 0.4:
            response = dl + sec
        elif r3 < 0.5:
            response = dl - sec
        elif r3 < 0.6 and changes:
            response = rng.choice(changes)
        elif r3 < 0.63:
            response = created
        else:
            span = max(dl - created, 60 * sec)
            response = created + rng.randrange(0, 2 * span // sec) * sec
        if response is not None:
            response = max(created, near_anchor(response))
            if rng.random() < 0.1:
                response += rng.randrange(sec)
            events.append((response, "agent_response", ""))
            if rng.random() < 0.3:
                events.append((response + rng.randrange(1, 86400) * sec, "agent_response", ""))
            if rng.random() < 0.3:  # a second agent response at the same instant
                events.append((response, "agent_response", ""))
        # Noise that never counts as a response.
        for kind in ("auto_response", "internal_note", "customer_update", "status_change"):
            if rng.random() < 0.4:
                at = created + rng.randrange(0, 86400) * sec
                events.append((at, kind, "in_progress" if kind == "status_change" else ""))

        st = state()
        dl = st["deadline"]
        r4 = rng.random()
        closed = None
        if r4 < 0.3:
            pass
        elif r4 < 0.42:
            closed = dl
        elif r4 < 0.52:
            closed = dl + sec
        elif r4 < 0.6 and response is not None:
            closed = response
        elif r4 < 0.7 and response is not None:
            closed = max(created, response - sec)
        elif r4 < 0.78 and changes:
            closed = rng.choice(changes)
        else:
            closed = created + rng.randrange(0, 10 * 86400) * sec
        if closed is not None:
            closed = max(created, near_anchor(closed))
            if rng.random() < 0.7:  # the closed event is informative only
                events.append((closed, "closed", ""))
            if rng.random() < 0.2:
                events.append((closed + 3600 * sec, "reopened", ""))

        case_rows.append((case_id, aid, prio, write_instant(rng, created, tz),
                          write_instant(rng, closed, tz) if closed is not None else ""))
        for at, kind, value in events:
            event_rows.append((case_id, write_instant(rng, at, tz), kind, value))
        if as_of is None or created <= as_of:
            expected.append(case_id)

    # The latest instant of the export is a closed_at with no `closed` event:
    # the default as-of must be taken from it.
    last_id, last_aid, last_prio, last_created, _ = case_rows[-1]
    if last_created and O.contract_at(contracts[last_aid], O.parse_instant(last_created)):
        case_rows[-1] = (last_id, last_aid, last_prio, last_created, "2027-06-30T23:59:59.5Z")
        event_rows = [e for e in event_rows if e[0] != last_id or e[2] != "closed"]

    with open(out / "accounts.csv", "w", newline="") as f:
        w = csv.DictWriter(f, ["account_id", "tier", "region", "valid_from", "valid_to"])
        w.writeheader()
        w.writerows(account_rows)
    with open(out / "cases.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["case_id", "account_id", "product", "priority", "created_at", "closed_at",
                    "channel", "language", "contact_id"])
        for case_id, aid, prio, created, closed in case_rows:
            w.writerow([case_id, aid, "Adobe Analytics", prio, created, closed, "web", "en", ""])
    rng.shuffle(event_rows)
    with open(out / "events.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["case_id", "at", "kind", "value"])
        w.writerows(event_rows)
    return expected


ADVERSARIAL = {
    "restart": dict(rule="restart"),
    "from_creation": dict(rule="from_creation"),
    "as_of": dict(rule="restart", as_of=AS_OF),
    "dst_edges": dict(rule="restart", edges=True),
}


@pytest.mark.parametrize("name", list(ADVERSARIAL))
def test_adversarial_export_agrees_with_the_oracle(slt, tmp_path, name):
    spec = ADVERSARIAL[name]
    if spec.get("edges"):
        policy_path, holidays_path = write_edge_policy(tmp_path)
    else:
        policy_path, holidays_path = POLICY, HOLIDAYS
    text = Path(policy_path).read_text()
    if spec["rule"] != "restart":
        text = text.replace('priority_change = "restart"', f'priority_change = "{spec["rule"]}"')
    policy_path = tmp_path / "adversarial-policy.toml"
    policy_path.write_text(text)
    policy = O.Policy(policy_path)
    cal = O.Calendar(policy, O.load_holidays(holidays_path))
    as_of = spec.get("as_of")
    export = tmp_path / "export"
    expected = adversarial_export(export, policy, cal, seed=len(name) * 7919, n_cases=4000,
                                  rule=spec["rule"], as_of=t(as_of) if as_of else None)
    mismatches, stats = run_both(slt, tmp_path, export, policy_path=policy_path,
                                 holidays_path=holidays_path, as_of=as_of)
    measured = stats["ids"]
    assert measured == set(expected), (
        f"measured, not expected: {sorted(measured - set(expected))[:10]}; "
        f"expected, not measured: {sorted(set(expected) - measured)[:10]}")
    assert_agree(mismatches, stats)
