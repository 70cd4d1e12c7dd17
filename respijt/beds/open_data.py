"""Open availability data: free beds per gemeente and target group per night.

An aggregate of what the providers publish (docs/open-data.md): no client, no reservation, no
unit or location is named, only counts per gemeente (where the beds are), target group and
night. A unit that takes several target groups counts in each of them. Overdue holds count as
free, as in the search (`availability.free_beds_per_night`, invariant 3).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from respijt.codes import TARGET_GROUPS
from respijt.database import DbSession
from respijt.models import (
    Location,
    Municipality,
    NightInventory,
    Region,
    Reservation,
    Unit,
    UnitTargetGroup,
)
from respijt.reservations.workflow import EXPIRING_RESERVATION_STATUSES

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


def _scope(query: Any, municipality: str | None, region: str | None) -> Any:
    """Join unit → its target groups → location → gemeente (→ region), units in service."""
    query = (
        query.join(UnitTargetGroup, UnitTargetGroup.unit_id == Unit.id)
        .join(Location, Location.id == Unit.location_id)
        .join(Municipality, Municipality.id == Location.municipality_id)
        .where(Unit.retired_at.is_(None))
    )
    if municipality:
        query = query.where(Municipality.code == municipality.upper())
    if region:
        query = query.join(Region, Region.id == Municipality.region_id).where(Region.code == region)
    return query


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
    service (0 where none is free), ordered by gemeente code, target group and night.

    The database adds up the nights (one GROUP BY); the few holds past their expiry, which
    still count in `reserved` until the sweep, are given back here."""
    night_to = today + timedelta(days=nights)
    key = (Municipality.code, Municipality.name, UnitTargetGroup.target_group)
    units = session.execute(
        _scope(
            select(*key, func.count(Unit.id.distinct())).select_from(Unit), municipality, region
        ).group_by(*key)
    ).all()
    index = {day: i for i, day in enumerate(today + timedelta(days=i) for i in range(nights))}
    totals: dict[tuple[str, str, str], list[int]] = {
        (code, name, group): [0] * nights for code, name, group, _ in units
    }
    sums = session.execute(
        _scope(
            select(
                *key,
                NightInventory.night,
                func.sum(NightInventory.capacity - NightInventory.reserved),
            )
            .select_from(NightInventory)
            .join(Unit, Unit.id == NightInventory.unit_id),
            municipality,
            region,
        )
        .where(NightInventory.night >= today, NightInventory.night < night_to)
        .group_by(*key, NightInventory.night)
    ).all()
    for code, name, group, night, free in sums:
        totals[(code, name, group)][index[night]] += max(0, int(free or 0))
    overdue = session.execute(
        _scope(
            select(*key, Reservation.arrival, Reservation.departure)
            .select_from(Reservation)
            .join(Unit, Unit.id == Reservation.unit_id),
            municipality,
            region,
        ).where(
            Reservation.status.in_(EXPIRING_RESERVATION_STATUSES),
            Reservation.expires_at <= now,
            Reservation.arrival < night_to,
            Reservation.departure > today,
        )
    ).all()
    for code, name, group, arrival, departure in overdue:
        night = max(arrival, today)
        while night < min(departure, night_to):
            totals[(code, name, group)][index[night]] += 1
            night += timedelta(days=1)
    counts = {(code, name, group): count for code, name, group, count in units}
    days = sorted(index)
    return [
        FeedRow(code, name, group, day, free, counts[(code, name, group)])
        for (code, name, group), per_night in sorted(totals.items())
        for day, free in zip(days, per_night, strict=True)
    ]
