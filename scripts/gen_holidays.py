#!/usr/bin/env python3
"""Regenerate fixtures/holidays.csv (public holidays per region) for slt.

Requires Python 3.11+ and the PyPI package ``holidays`` pinned to exactly
version 0.109 (see scripts/requirements-holidays.txt):

    python3 -m pip install -r scripts/requirements-holidays.txt
    python3 scripts/gen_holidays.py [--from 2020] [--to 2030] [--out fixtures/holidays.csv]

The script refuses to run with any other ``holidays`` version (holiday data
changes between releases), unless ``--allow-other-version`` is given.

Output: UTF-8, ``\\n`` line endings, header ``region,date,name``, ``date`` as
YYYY-MM-DD, rows sorted by region, then date, then name. One row per
(region, date); if the package gives several names for one date they are
sorted and joined with "; ". Names are CSV-quoted by the csv module when needed.

Regions and sources (only the package's default "public" category is used;
observed/substitute days are included, because offices close on them):

* Americas -- ``holidays.US()``: US federal holidays, no subdivision, with
  "(observed)" days, e.g. 2026-07-03 "Independence Day (observed)" and
  2021-12-31 "New Year's Day (observed)". Not included: the "government"
  category (Christmas Eve / day-after-Christmas closures by executive order,
  2025-01-09 Carter day of mourning) and the "unofficial" category.
* EMEA -- ``holidays.UK(subdiv="ENG")``: England & Wales bank holidays
  (``subdiv="WLS"`` gives identical dates for 2020-2030), including
  substitute days ("... (observed)") and one-off days: 2020-05-08 VE Day move
  of the May bank holiday, 2022-06-03 Platinum Jubilee, 2022-09-19 State
  Funeral of Queen Elizabeth II, 2023-05-08 Coronation of Charles III.
* APAC -- ``holidays.AU(subdiv="NSW")``: New South Wales public holidays,
  including substitute days, Easter Saturday and Easter Sunday (gazetted NSW
  public holidays). The NSW "Bank Holiday" (first Monday in August) is in the
  package's separate "bank" category since 2011 -- it applies to banks only,
  so it is EXCLUDED (and the script asserts it is absent). The package adds
  "ANZAC Day (observed)" Mondays in 2026 and 2027 only (special NSW rule) and
  2022-09-22 National Day of Mourning for Queen Elizabeth II.
* Japan -- ``holidays.JP(language="en_US")``: Japanese national holidays in
  English, including "Substitute Holiday" (振替休日) and "National Holiday"
  (国民の休日, the citizen's holiday, e.g. 2026-09-22), and the 2020/2021
  Olympic moves of Marine/Sports/Mountain Day.

The ``language`` argument is always passed explicitly: without it the package
picks names from the process locale (LANG/LC_*), which would make the output
environment-dependent (e.g. AU "Labor Day" vs "Labour Day", JP in Japanese).
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from pathlib import Path

PINNED_HOLIDAYS_VERSION = "0.109"

try:
    import holidays
except ImportError:  # pragma: no cover
    sys.exit(
        "error: the 'holidays' package is missing; run "
        "python3 -m pip install -r scripts/requirements-holidays.txt"
    )

# region -> (country class name, constructor kwargs)
REGIONS: dict[str, tuple[str, dict]] = {
    "Americas": ("US", {"language": "en_US"}),
    "EMEA": ("UK", {"subdiv": "ENG", "language": "en_GB"}),
    "APAC": ("AU", {"subdiv": "NSW", "language": "en_AU"}),
    "Japan": ("JP", {"language": "en_US"}),
}

# Names that must never appear (bank-only or non-public days).
EXCLUDED_NAMES: dict[str, set[str]] = {
    "APAC": {"Bank Holiday"},
}


def collect(region: str, year_from: int, year_to: int) -> list[tuple[str, str, str]]:
    country, kwargs = REGIONS[region]
    cls = getattr(holidays, country)
    # Populate one extra year on each side so observed days that spill across
    # a year boundary (e.g. 2021-12-31 for New Year's Day 2022) are present,
    # then keep only dates inside [year_from, year_to].
    cal = cls(years=range(year_from - 1, year_to + 2), **kwargs)
    rows = []
    for day in sorted(cal):
        if not (year_from <= day.year <= year_to):
            continue
        names = sorted(set(cal.get_list(day)))
        bad = EXCLUDED_NAMES.get(region, set()).intersection(names)
        if bad:
            raise SystemExit(f"error: {region} {day}: unexpected excluded holiday {sorted(bad)}")
        rows.append((region, day.isoformat(), "; ".join(names)))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--from", dest="year_from", type=int, default=2020,
                        help="first year, inclusive (default 2020)")
    parser.add_argument("--to", dest="year_to", type=int, default=2030,
                        help="last year, inclusive (default 2030)")
    parser.add_argument("--out", type=Path, default=Path("fixtures/holidays.csv"),
                        help="output CSV path (default fixtures/holidays.csv)")
    parser.add_argument("--allow-other-version", action="store_true",
                        help=f"run even if holidays != {PINNED_HOLIDAYS_VERSION}")
    args = parser.parse_args(argv)

    if args.year_from > args.year_to:
        parser.error("--from must be <= --to")
    if holidays.__version__ != PINNED_HOLIDAYS_VERSION and not args.allow_other_version:
        parser.error(
            f"holidays=={holidays.__version__} installed, but output is pinned to "
            f"holidays=={PINNED_HOLIDAYS_VERSION} (pass --allow-other-version to override)"
        )

    rows: list[tuple[str, str, str]] = []
    for region in REGIONS:
        rows.extend(collect(region, args.year_from, args.year_to))
    rows.sort()

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(("region", "date", "name"))
    writer.writerows(rows)

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(buf.getvalue().encode("utf-8"))
    print(f"wrote {len(rows)} rows to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
