"""Leegstand register: per unit and period, the bed-nights published as available, how many were
used by stays, how many were kept free for respite and nobody used, and the occupancy rate.

Published bed-nights come from `night_inventory.capacity` ("beschikbaar gesteld", reserved beds
included). Used bed-nights are the nights of reservations that are `confirmed`, `checked_in` or
`completed`: a completed stay no longer counts in `night_inventory.reserved`, so the register
counts stays, not the inventory counter. Holds are transient and do not count as used.
Per night, used is capped at capacity, so kept free = Σ max(capacity − used, 0).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, case, func, select

from respijt import formatting
from respijt.claims.months import stays_in
from respijt.database import DbSession
from respijt.models import Location, Municipality, NightInventory, Provider, Reservation, Unit
from respijt.people.caller import in_visible_regions
from respijt.reservations.workflow import CHECKED_IN, COMPLETED, CONFIRMED

USED_STATUSES = (CONFIRMED, CHECKED_IN, COMPLETED)


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
    unit_rows = {row[0]: row for row in session.execute(units.order_by(Unit.id))}
    if not unit_rows:
        return []
    # Counted in the database, not night by night in Python: a national year is millions of
    # nights. The units are given as the same query, never as a list of ids.
    unit_ids = units.with_only_columns(Unit.id).scalar_subquery()
    published_nights = (
        NightInventory.night >= night_from,
        NightInventory.night < night_to,
        NightInventory.capacity > 0,
        NightInventory.unit_id.in_(unit_ids),
    )
    published = {
        unit_id: (nights, beds)
        for unit_id, nights, beds in session.execute(
            select(
                NightInventory.unit_id,
                func.count(),
                func.sum(NightInventory.capacity),
            )
            .where(*published_nights)
            .group_by(NightInventory.unit_id)
        )
    }
    # Per published night the stays on it, capped at that night's capacity. Driven by the
    # stays: each one looks up only its own nights, clipped to the period (a night bound that
    # is a constant would make the database walk every night of the period per stay).
    first = case((Reservation.arrival > night_from, Reservation.arrival), else_=night_from)
    last = case((Reservation.departure < night_to, Reservation.departure), else_=night_to)
    per_night = (
        select(
            NightInventory.unit_id.label("unit_id"),
            NightInventory.capacity.label("capacity"),
            func.count().label("used"),
        )
        .select_from(Reservation)
        .join(
            NightInventory,
            and_(
                NightInventory.unit_id == Reservation.unit_id,
                NightInventory.night >= first,
                NightInventory.night < last,
            ),
        )
        .where(
            *stays_in(night_from, night_to),
            Reservation.status.in_(USED_STATUSES),
            Reservation.unit_id.in_(unit_ids),
            NightInventory.capacity > 0,
        )
        .group_by(NightInventory.unit_id, NightInventory.night, NightInventory.capacity)
        .subquery()
    )
    used = dict(
        session.execute(
            select(
                per_night.c.unit_id,
                func.sum(
                    case(
                        (per_night.c.used < per_night.c.capacity, per_night.c.used),
                        else_=per_night.c.capacity,
                    )
                ),
            ).group_by(per_night.c.unit_id)
        ).all()
    )
    result = []
    for unit_id, (nights, beds) in published.items():
        row = unit_rows[unit_id]
        taken = int(used.get(unit_id) or 0)
        result.append(
            UnitOccupancy(
                unit_id=unit_id,
                unit_name=row[1],
                location_name=row[2],
                provider_id=row[3],
                provider_name=row[4],
                municipality_code=row[5],
                municipality_name=row[6],
                nights=int(nights),
                published=int(beds),
                used=taken,
                kept_free=int(beds) - taken,
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


def total_occupancy(rows: list[UnitOccupancy]) -> dict[str, object]:
    published = sum(r.published for r in rows)
    used = sum(r.used for r in rows)
    return {
        "published_bed_nights": published,
        "used_bed_nights": used,
        "kept_free_bed_nights": published - used,
        "occupancy": None if published == 0 else round(used / published, 4),
    }
