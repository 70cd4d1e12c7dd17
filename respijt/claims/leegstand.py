"""Leegstand register: per unit and period, the bed-nights published as available, how many were
used by stays, how many were kept free for respite and nobody used, and the occupancy rate.

Published bed-nights come from `night_inventory.capacity` ("beschikbaar gesteld", reserved beds
included). Used bed-nights are the nights of reservations that are `confirmed`, `checked_in` or
`completed`: a completed stay no longer counts in `night_inventory.reserved`, so the register
counts stays, not the inventory counter. Holds are transient and do not count as used.
Per night, used is capped at capacity, so kept free = Σ max(capacity − used, 0).

The months that are over are counted once and kept (`claims.occupancy_months`); the rest of a
period is counted from the nights themselves (`claims.night_counts`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select

from respijt import formatting
from respijt.claims import occupancy_months
from respijt.database import DbSession
from respijt.models import Location, Municipality, Provider, Unit
from respijt.people.caller import in_visible_regions


@dataclass(frozen=True)
class UnitOccupancy:
    unit_id: int
    unit_name: str
    location_name: str
    provider_id: int
    provider_name: str
    municipality_code: str
    municipality_name: str
    nights: int  # nights in the period with a published figure
    published: int  # bed-nights offered
    used: int  # bed-nights taken by stays (capped at capacity per night)
    kept_free: int  # published and left unreserved

    @property
    def occupancy(self) -> float | None:
        return None if self.published == 0 else round(self.used / self.published, 4)

    def as_dict(self) -> dict[str, object]:
        return {
            "unit": {"id": self.unit_id, "name": self.unit_name},
            "location": self.location_name,
            "provider": {"id": self.provider_id, "name": self.provider_name},
            "municipality": {"code": self.municipality_code, "name": self.municipality_name},
            "nights": self.nights,
            "published_bed_nights": self.published,
            "used_bed_nights": self.used,
            "kept_free_bed_nights": self.kept_free,
            "occupancy": self.occupancy,
        }


def _units(
    provider_id: int | None, municipality_code: str | None, regions: frozenset[int] | None
) -> Any:
    """The units of the filters, with the names the register shows."""
    units = (
        select(
            Unit.id,
            Unit.name,
            Location.name,
            Provider.id,
            Provider.name,
            Municipality.code,
            Municipality.name,
        )
        .join(Location, Location.id == Unit.location_id)
        .join(Provider, Provider.id == Location.provider_id)
        .join(Municipality, Municipality.id == Location.municipality_id)
        .where(in_visible_regions(regions, Municipality.region_id))
    )
    if provider_id is not None:
        units = units.where(Provider.id == provider_id)
    if municipality_code is not None:
        units = units.where(Municipality.code == municipality_code)
    return units


def unit_occupancy(
    session: DbSession,
    night_from: date,
    night_to: date,
    *,
    provider_id: int | None = None,
    municipality_code: str | None = None,
    regions: frozenset[int] | None = None,
) -> list[UnitOccupancy]:
    """One row per unit that published capacity in [night_from, night_to), of locations in
    `regions` when given (`auth.visible_regions()`)."""
    units = _units(provider_id, municipality_code, regions)
    unit_rows = {row[0]: row for row in session.execute(units.order_by(Unit.id))}
    if not unit_rows:
        return []
    # The units are given as the same query, never as a list of ids.
    unit_ids = units.with_only_columns(Unit.id).scalar_subquery()
    counts = occupancy_months.unit_counts(session, unit_ids, night_from, night_to)
    result = []
    for unit_id, count in counts.items():
        row = unit_rows[unit_id]
        result.append(
            UnitOccupancy(
                unit_id=unit_id,
                unit_name=row[1],
                location_name=row[2],
                provider_id=row[3],
                provider_name=row[4],
                municipality_code=row[5],
                municipality_name=row[6],
                nights=count.nights,
                published=count.published,
                used=count.used,
                kept_free=count.published - count.used,
            )
        )
    return sorted(result, key=lambda r: (r.provider_name, r.location_name, r.unit_id))


# The register's columns as in the monthly report and docs/exports.md.
REGISTER_HEADER = (
    "Maand",
    "Aanbieder",
    "Locatie",
    "Eenheidnummer",
    "Eenheid",
    "Gemeentecode",
    "Gemeente",
    "Nachten",
    "Bednachten beschikbaar gesteld",
    "Bednachten gebruikt",
    "Bednachten vrijgehouden, niet gebruikt",
    "Bezetting",
    "Voorlopig",
)


def share(value: float | None, decimal_comma: bool) -> str:
    """An occupancy (0 to 1) as a CSV cell: four decimals, empty when there is none."""
    return formatting.csv_number(value, 4, comma=decimal_comma)


def register_rows(
    rows: list[UnitOccupancy], month: str, *, complete: bool, decimal_comma: bool
) -> list[tuple[object, ...]]:
    """The register's CSV rows (`REGISTER_HEADER`); `complete`: the month is over."""
    return [
        (
            month,
            r.provider_name,
            r.location_name,
            r.unit_id,
            r.unit_name,
            r.municipality_code,
            r.municipality_name,
            r.nights,
            r.published,
            r.used,
            r.kept_free,
            share(r.occupancy, decimal_comma),
            "nee" if complete else "ja",
        )
        for r in rows
    ]


def period_occupancy(
    session: DbSession,
    night_from: date,
    night_to: date,
    *,
    provider_id: int | None = None,
    municipality_code: str | None = None,
    regions: frozenset[int] | None = None,
) -> dict[str, object]:
    """`total_occupancy` of the units `unit_occupancy` would list, without listing them."""
    unit_ids = (
        _units(provider_id, municipality_code, regions).with_only_columns(Unit.id).scalar_subquery()
    )
    count = occupancy_months.total_count(session, unit_ids, night_from, night_to)
    return _totals(count.published, count.used)


def total_occupancy(rows: list[UnitOccupancy]) -> dict[str, object]:
    return _totals(sum(r.published for r in rows), sum(r.used for r in rows))


def _totals(published: int, used: int) -> dict[str, object]:
    return {
        "published_bed_nights": published,
        "used_bed_nights": used,
        "kept_free_bed_nights": published - used,
        "occupancy": None if published == 0 else round(used / published, 4),
    }
