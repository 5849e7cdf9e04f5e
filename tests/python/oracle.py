"""An independent Python oracle of slt's per-case measurement (SLT-SPEC §3–4).

Written from SLT-SPEC.md and the README's "Choices where the spec is silent",
not from the Rust source, with the standard library only (zoneinfo, datetime,
tomllib). Instants are integers: microseconds since the Unix epoch, UTC.

Used by test_oracle.py, which compares it case by case with `slt report`.
"""

from __future__ import annotations

import csv
import re
import tomllib
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

US = 1_000_000  # microseconds per second
MIN = 60 * US  # microseconds per minute
UTC = timezone.utc
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
DAY_NAMES = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


# ---------------------------------------------------------------- instants


def to_us(dt: datetime) -> int:
    """An aware datetime as microseconds since the epoch."""
    return (dt - EPOCH) // timedelta(microseconds=1)


def from_us(us: int) -> datetime:
    return EPOCH + timedelta(microseconds=us)


def fmt(us: int | None) -> str:
    if us is None:
        return "null"
    return from_us(us).strftime("%Y-%m-%dT%H:%M:%S.%fZ").replace(".000000Z", "Z")


_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$"
)
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


def parse_instant(text: str) -> int:
    """RFC 3339 with a required offset; fractional seconds truncated to µs."""
    m = _RFC3339.match(text.strip())
    if not m:
        raise ValueError(f"not an RFC 3339 instant: {text!r}")
    y, mo, d, h, mi, s = (int(g) for g in m.groups()[:6])
    frac = m.group(7)
    micros = int((frac[1:] + "000000")[:6]) if frac else 0
    off = m.group(8)
    if off in ("Z", "z"):
        tz = UTC
    else:
        sign = -1 if off[0] == "-" else 1
        tz = timezone(sign * timedelta(hours=int(off[1:3]), minutes=int(off[4:6])))
    return to_us(datetime(y, mo, d, h, mi, s, micros, tzinfo=tz))


def local_to_us(naive: datetime, tz: ZoneInfo) -> int:
    """A wall-clock time in `tz` as an instant.

    SLT-SPEC §3: a time in a spring-forward gap moves to the first instant
    after the gap (the transition itself); a time in a fall-back fold takes
    the earlier of its two instants.
    """
    a = naive.replace(tzinfo=tz, fold=0)
    b = naive.replace(tzinfo=tz, fold=1)
    oa, ob = a.utcoffset(), b.utcoffset()
    if oa == ob:
        return to_us(a)
    ua = to_us(naive.replace(tzinfo=UTC)) - oa // timedelta(microseconds=1)
    ub = to_us(naive.replace(tzinfo=UTC)) - ob // timedelta(microseconds=1)

    def wall(us: int) -> datetime:
        return from_us(us).astimezone(tz).replace(tzinfo=None, fold=0)

    if wall(ua) == naive and wall(ub) == naive:  # fold: the earlier instant
        return min(ua, ub)
    # Gap: the transition instant lies in (min, max]; find the first second
    # whose offset differs from the one just before the gap.
    lo, hi = min(ua, ub), max(ua, ub)
    before = from_us(lo).astimezone(tz).utcoffset()
    lo_s, hi_s = lo // US, -(-hi // US)
    while lo_s + 1 < hi_s:
        mid = (lo_s + hi_s) // 2
        if from_us(mid * US).astimezone(tz).utcoffset() == before:
            lo_s = mid
        else:
            hi_s = mid
    return hi_s * US


def local_date(us: int, tz: ZoneInfo) -> date:
    return from_us(us).astimezone(tz).date()


def parse_bound(text: str, tz: ZoneInfo) -> int:
    """A contract bound: an instant, or a bare date = local midnight in `tz`."""
    m = _DATE.match(text.strip())
    if m:
        y, mo, d = (int(g) for g in m.groups())
        return local_to_us(datetime(y, mo, d), tz)
    return parse_instant(text)


# ------------------------------------------------------------------ policy


def _hhmm(text: str) -> int:
    h, m = text.split(":")
    return int(h) * 60 + int(m)


@dataclass(frozen=True)
class Target:
    coverage: str
    minutes: int


class Policy:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.raw = tomllib.loads(self.path.read_text())
        rules = self.raw["rules"]
        self.priority_change = rules.get("priority_change", "restart")
        assert self.priority_change in ("restart", "from_creation")
        # "region": each case's period in its region's zone; else one zone.
        report = rules.get("report_time_zone", "UTC")
        self.report_tz = None if report == "region" else ZoneInfo(report)
        self.coverages = self.raw["coverage"]
        self.regions = self.raw["regions"]
        self.targets = self.raw["targets"]
        self.overrides = self.raw.get("coverage_overrides", [])
        for ov in self.overrides:
            unknown = set(ov) - {"regions", "priorities", "tiers", "coverage"}
            assert not unknown, f"oracle does not know override keys {unknown}"

    def zone(self, region: str) -> ZoneInfo:
        return ZoneInfo(self.regions[region]["time_zone"])

    def period_tz(self, region: str) -> ZoneInfo:
        """The zone a case's month and quarter are taken in."""
        return self.zone(region) if self.report_tz is None else self.report_tz

    def business_day_minutes(self, region: str) -> int:
        r = self.regions[region]
        if "business_day_minutes" in r:
            return int(r["business_day_minutes"])
        return _hhmm(r["close"]) - _hhmm(r["open"])

    def target(self, tier: str, region: str, priority: str) -> Target:
        entry = self.targets[tier][priority]
        coverage = entry["coverage"]
        if "minutes" in entry:
            minutes = entry["minutes"]
        else:
            minutes = entry["business_days"] * self.business_day_minutes(region)
        for ov in self.overrides:  # later overrides win
            if (
                region in ov.get("regions", [region])
                and priority in ov.get("priorities", [priority])
                and tier in ov.get("tiers", [tier])
            ):
                coverage = ov["coverage"]
        return Target(coverage, int(minutes))


def load_holidays(path: Path) -> dict[str, set[date]]:
    out: dict[str, set[date]] = {}
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            out.setdefault(row["region"], set()).add(date.fromisoformat(row["date"]))
    return out


# ---------------------------------------------------------------- calendar


class Calendar:
    """Coverage calendars as day-by-day windows [open, close) of instants."""

    def __init__(self, policy: Policy, holidays: dict[str, set[date]]):
        self.policy = policy
        self.holidays = holidays
        self._window = lru_cache(maxsize=None)(self._window_uncached)

    def _window_uncached(self, region: str, coverage: str, day: date):
        """The covered window of local `day` (or None)."""
        cov = self.policy.coverages[coverage]
        reg = self.policy.regions[region]
        if DAY_NAMES[day.weekday()] not in cov["days"]:
            return None
        if cov.get("remove_holidays", False) and day in self.holidays.get(region, ()):
            return None  # the whole local day is removed
        tz = self.policy.zone(region)
        open_ = _hhmm(cov.get("open", reg["open"]))
        close = _hhmm(cov.get("close", reg["close"]))
        base = datetime(day.year, day.month, day.day)
        o = local_to_us(base + timedelta(minutes=open_), tz)
        c = local_to_us(base + timedelta(minutes=close), tz)
        return (o, c) if c > o else None

    def windows_from(self, region: str, coverage: str, start: int):
        """Windows with close > start, in order (the first may begin before)."""
        day = local_date(start, self.policy.zone(region)) - timedelta(days=1)
        empty = 0
        while True:
            w = self._window(region, coverage, day)
            day += timedelta(days=1)
            if w is None:
                empty += 1
                if empty > 3700:
                    raise RuntimeError(f"no coverage for {region}/{coverage} after {fmt(start)}")
                continue
            empty = 0
            if w[1] > start:
                yield w

    def elapsed(self, region: str, coverage: str, a: int, b: int) -> int:
        """Covered microseconds in [a, b); b < a is an error."""
        if b < a:
            raise ValueError("elapsed from a later instant to an earlier one")
        if coverage == "24x7":
            return b - a
        total = 0
        for o, c in self.windows_from(region, coverage, a):
            if o >= b:
                break
            total += min(c, b) - max(o, a)
        return total

    def deadline(self, region: str, coverage: str, start: int, minutes: float) -> int:
        """The last instant at which covered time since `start` is <= minutes."""
        remaining = round(minutes * MIN)
        if remaining == 0:
            return start  # adding 0 returns the start, even outside coverage
        if coverage == "24x7":
            return start + remaining
        it = self.windows_from(region, coverage, start)
        for o, c in it:
            o = max(o, start)
            avail = c - o
            if remaining < avail:
                return o + remaining
            remaining -= avail
            if remaining == 0:  # runs out at the close: the next opening
                return next(it)[0]
        raise AssertionError("unreachable")


# ---------------------------------------------------------------- measuring


@dataclass
class Contract:
    tier: str
    region: str
    valid_from: int
    valid_to: int | None


@dataclass
class Event:
    at: int
    kind: str
    value: str
    order: int  # position in the file


@dataclass
class Case:
    case_id: str
    account_id: str
    priority: str
    created_at: int
    closed_at: int | None
    events: list


# docs/outputs.md: every `case_slt.reason` and the one outcome it gives.
REASON_OUTCOME = {
    "answered_in_time": "met",
    "answered_late": "breached",
    "unanswered_past_deadline": "breached",
    "closed_after_deadline_unanswered": "breached",
    "closed_before_deadline_unanswered": "excluded",
    "open_before_deadline": "pending",
}


def contract_at(contracts: list[Contract], at: int) -> Contract | None:
    found = [
        c for c in contracts if c.valid_from <= at and (c.valid_to is None or at < c.valid_to)
    ]
    assert len(found) <= 1, "overlapping contracts"
    return found[0] if found else None


def quarter_month(us: int, tz: ZoneInfo) -> tuple[str, str]:
    d = from_us(us).astimezone(tz)
    return f"{d.year:04d}-Q{(d.month - 1) // 3 + 1}", f"{d.year:04d}-{d.month:02d}"


def measure(case: Case, contract: Contract, policy: Policy, cal: Calendar, as_of: int,
            rule: str | None = None) -> dict:
    """One case's row of case_slt, by SLT-SPEC §4 and the README's choices."""
    rule = rule or policy.priority_change
    tier, region = contract.tier, contract.region
    created = case.created_at
    # Closure happened only if at or before the as-of instant.
    closed = case.closed_at if case.closed_at is not None and case.closed_at <= as_of else None
    events = sorted(case.events, key=lambda e: (e.at, e.order))

    # First public agent response: happened by as-of, not after closure.
    response = None
    for e in events:
        if e.kind == "agent_response" and e.at <= as_of and (closed is None or e.at <= closed):
            response = e.at
            break

    priority = case.priority
    clock_start = created
    target = policy.target(tier, region, priority)
    deadline = cal.deadline(region, target.coverage, clock_start, target.minutes)
    changes = 0
    for e in events:
        if e.kind != "priority_change":
            continue
        t = e.at
        if t > as_of:
            break  # has not happened yet
        if response is not None and t >= response:
            break  # at or after the first response: changes nothing
        if closed is not None and t >= closed:
            break  # at or after closure: changes nothing
        if t > deadline:
            break  # the deadline in force passed: the measurement ended
        if e.value == priority:
            continue  # a "change" to the priority in force
        priority = e.value
        target = policy.target(tier, region, priority)
        clock_start = t if rule == "restart" else created
        deadline = cal.deadline(region, target.coverage, clock_start, target.minutes)
        changes += 1

    rbm = None
    breach = None
    # The reason, decided from the same facts as the outcome (SLT-SPEC §4),
    # then the outcome read off it: each reason belongs to one outcome.
    if response is not None:
        rbm_us = cal.elapsed(region, target.coverage, clock_start, response)
        rbm = rbm_us / MIN
        if response <= deadline:
            reason = "answered_in_time"
        else:
            reason = "answered_late"
            breach = (rbm_us - target.minutes * MIN) / MIN
    elif closed is not None:
        if closed <= deadline:
            reason = "closed_before_deadline_unanswered"
        else:
            reason = "closed_after_deadline_unanswered"
    elif as_of <= deadline:
        reason = "open_before_deadline"
    else:
        reason = "unanswered_past_deadline"
    outcome = REASON_OUTCOME[reason]

    period, month = quarter_month(created, policy.period_tz(region))
    return {
        "case_id": case.case_id,
        "account_id": case.account_id,
        "tier": tier,
        "region": region,
        "priority": priority,
        "initial_priority": case.priority,
        "priority_changes": changes,
        "created_at": created,
        "clock_start": clock_start,
        "coverage": target.coverage,
        "target_minutes": target.minutes,
        "deadline": deadline,
        "first_response_at": response,
        "response_business_minutes": rbm,
        "outcome": outcome,
        "breach_business_minutes": breach,
        "period": period,
        "month": month,
        "reason": reason,
    }


# ---------------------------------------------------------------- exports


def read_csv(path: Path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def load_export(input_dir: Path, policy: Policy, rejected: dict[str, set[int]]):
    """The rows slt used (rows not in rejects), as oracle objects.

    `rejected` maps a table name to the 1-based data row numbers slt
    rejected; the oracle does not re-implement row validation.
    """
    input_dir = Path(input_dir)
    contracts: dict[str, list[Contract]] = {}
    for i, row in enumerate(read_csv(input_dir / "accounts.csv"), start=1):
        if i in rejected.get("accounts", ()):
            continue
        tz = policy.zone(row["region"])
        contracts.setdefault(row["account_id"], []).append(
            Contract(
                row["tier"],
                row["region"],
                parse_bound(row["valid_from"], tz),
                parse_bound(row["valid_to"], tz) if row.get("valid_to") else None,
            )
        )
    cases: dict[str, Case] = {}
    for i, row in enumerate(read_csv(input_dir / "cases.csv"), start=1):
        if i in rejected.get("cases", ()):
            continue
        assert row["case_id"] not in cases, f"duplicate case {row['case_id']} not rejected"
        cases[row["case_id"]] = Case(
            row["case_id"],
            row["account_id"],
            row["priority"],
            parse_instant(row["created_at"]),
            parse_instant(row["closed_at"]) if row.get("closed_at") else None,
            [],
        )
    for i, row in enumerate(read_csv(input_dir / "events.csv"), start=1):
        if i in rejected.get("events", ()):
            continue
        case = cases.get(row["case_id"])
        assert case is not None, f"events row {i}: used, but its case {row['case_id']} was not"
        case.events.append(Event(parse_instant(row["at"]), row["kind"], row.get("value") or "", i))
    return contracts, cases


def default_as_of(cases: dict[str, Case]) -> int:
    """The latest created_at, closed_at or event `at` among the rows used."""
    latest = None
    for c in cases.values():
        for t in [c.created_at, c.closed_at, *(e.at for e in c.events)]:
            if t is not None and (latest is None or t > latest):
                latest = t
    return latest
