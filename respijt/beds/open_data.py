"""Open availability data: free beds per gemeente and target group per night.

An aggregate of what the providers publish (docs/open-data.md): no client, no reservation, no
unit or location is named, only counts per gemeente (where the beds are), target group and
night. A unit that takes several target groups counts in each of them. Overdue holds count as
free, as in the search (`availability.free_beds_per_night`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from respijt.beds.availability import SearchFilters, free_beds_per_night, location_rows
from respijt.codes import TARGET_GROUPS
from respijt.database import DbSession

# The nights of the feed: from today, four weeks.
FEED_NIGHTS = 28

CSV_HEADER = (
    "Gemeentecode",
    "Gemeente",
    "Doelgroepcode",
    "Doelgroep",
    "Nacht",
    "Vrije bedden",
    "Eenheden",
)


@dataclass(frozen=True)
class FeedRow:
    municipality_code: str
    municipality_name: str
    target_group: str
    night: date
    free_beds: int
    units: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "municipalityCode": self.municipality_code,
            "municipalityName": self.municipality_name,
            "targetGroup": self.target_group,
            "night": self.night.isoformat(),
            "freeBeds": self.free_beds,
            "units": self.units,
        }

    def as_cells(self) -> tuple[Any, ...]:
        return (
            self.municipality_code,
            self.municipality_name,
            self.target_group,
            TARGET_GROUPS.get(self.target_group, self.target_group),
            self.night.isoformat(),
            self.free_beds,
            self.units,
        )


def free_beds_feed(
    session: DbSession,
    *,
    today: date,
    now: datetime,
    nights: int = FEED_NIGHTS,
    municipality: str | None = None,
    region: str | None = None,
) -> list[FeedRow]:
    """One row per gemeente × target group × night, for every gemeente with a unit in
    service (0 where none is free), ordered by gemeente code, target group and night."""
    # Staleness plays no part in the counts; the hours only fill a field not used here.
    locations, units = location_rows(
        session, SearchFilters(municipality=municipality, region=region), now, 72
    )
    municipality_of: dict[int, tuple[str, str]] = {}
    for location in locations:
        for unit in location["units"]:
            place = location["municipality"]
            municipality_of[unit["id"]] = (place["code"], place["name"])
    night_to = today + timedelta(days=nights)
    free = free_beds_per_night(session, list(units), today, night_to, now) if units else {}
    days = [today + timedelta(days=i) for i in range(nights)]
    totals: dict[tuple[str, str, str], list[int]] = {}
    unit_counts: dict[tuple[str, str, str], int] = defaultdict(int)
    for unit_id, unit in units.items():
        code, name = municipality_of[unit_id]
        per_night = free.get(unit_id, {})
        for group in unit["target_groups"]:
            key = (code, name, group)
            counts = totals.setdefault(key, [0] * nights)
            unit_counts[key] += 1
            for i, day in enumerate(days):
                counts[i] += max(0, per_night.get(day, 0))
    rows: list[FeedRow] = []
    for (code, name, group), counts in sorted(totals.items()):
        units_here = unit_counts[(code, name, group)]
        rows.extend(
            FeedRow(code, name, group, day, count, units_here)
            for day, count in zip(days, counts, strict=True)
        )
    return rows
