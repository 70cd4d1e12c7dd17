"""Free beds per unit per night, for the public search.

Built on Core queries into plain dicts: this is the hottest read of the service, and it must
stay close to the cost of the raw SQL (bench/availability.py measures that).
Holds past their expiry never block a bed (invariant 3): their nights are added back here,
before any sweep has run.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import exists, select

from respijt.database import DbSession
from respijt.models import (
    Location,
    Municipality,
    NightInventory,
    Provider,
    Region,
    Reservation,
    Unit,
    UnitTargetGroup,
)
from respijt.registry import is_stale
from respijt.workflow import EXPIRING_RESERVATION_STATUSES


@dataclass(frozen=True)
class SearchFilters:
    municipality: str | None = None
    region: str | None = None
    target_group: str | None = None
    wheelchair: bool = False
    location_id: int | None = None


def iso_utc(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def _unit_filter(filters: SearchFilters) -> Any:
    """Select ids of units in service that match the filters."""
    query = (
        select(Unit.id)
        .join(Location, Location.id == Unit.location_id)
        .where(Unit.retired_at.is_(None))
    )
    if filters.location_id is not None:
        query = query.where(Location.id == filters.location_id)
    if filters.municipality or filters.region:
        query = query.join(Municipality, Municipality.id == Location.municipality_id)
    if filters.municipality:
        query = query.where(Municipality.code == filters.municipality.upper())
    if filters.region:
        query = query.join(Region, Region.id == Municipality.region_id).where(
            Region.code == filters.region
        )
    if filters.target_group:
        query = query.where(
            exists().where(
                UnitTargetGroup.unit_id == Unit.id,
                UnitTargetGroup.target_group == filters.target_group,
            )
        )
    if filters.wheelchair:
        query = query.where(Unit.wheelchair.is_(True))
    return query


def location_rows(
    session: DbSession, filters: SearchFilters, now: datetime, stale_after_hours: int
) -> tuple[list[dict[str, Any]], dict[int, dict[str, Any]]]:
    """Locations with their matching units as dicts; also a unit id → unit dict index."""
    unit_ids = _unit_filter(filters).subquery()
    rows = session.execute(
        select(
            Unit.id,
            Unit.name,
            Unit.wheelchair,
            Unit.requires_provider_confirmation,
            Unit.care_level,
            Unit.min_nights,
            Unit.max_nights,
            Unit.funding_routes,
            Location.id,
            Location.name,
            Location.postcode,
            Location.last_confirmed_at,
            Provider.id,
            Provider.name,
            Municipality.code,
            Municipality.name,
            Region.code,
            Region.name,
        )
        .join(Location, Location.id == Unit.location_id)
        .join(Provider, Provider.id == Location.provider_id)
        .join(Municipality, Municipality.id == Location.municipality_id)
        .outerjoin(Region, Region.id == Municipality.region_id)
        .where(Unit.id.in_(select(unit_ids.c.id)))
        .order_by(Location.name, Location.id, Unit.id)
    ).all()
    groups: dict[int, list[str]] = defaultdict(list)
    if rows:
        for unit_id, group in session.execute(
            select(UnitTargetGroup.unit_id, UnitTargetGroup.target_group)
            .where(UnitTargetGroup.unit_id.in_(select(unit_ids.c.id)))
            .order_by(UnitTargetGroup.unit_id, UnitTargetGroup.target_group)
        ):
            groups[unit_id].append(group)
    locations: list[dict[str, Any]] = []
    by_id: dict[int, dict[str, Any]] = {}
    units: dict[int, dict[str, Any]] = {}
    for (
        unit_id,
        unit_name,
        wheelchair,
        needs_confirmation,
        care_level,
        min_nights,
        max_nights,
        funding_routes,
        location_id,
        location_name,
        postcode,
        confirmed_at,
        provider_id,
        provider_name,
        municipality_code,
        municipality_name,
        region_code,
        region_name,
    ) in rows:
        location = by_id.get(location_id)
        if location is None:
            location = {
                "id": location_id,
                "name": location_name,
                "postcode": postcode,
                "provider": {"id": provider_id, "name": provider_name},
                "municipality": {"code": municipality_code, "name": municipality_name},
                "region": {"code": region_code, "name": region_name} if region_code else None,
                "updated_at": iso_utc(confirmed_at),
                "stale": is_stale(confirmed_at, now, stale_after_hours),
                "units": [],
            }
            by_id[location_id] = location
            locations.append(location)
        unit = {
            "id": unit_id,
            "name": unit_name,
            "target_groups": groups.get(unit_id, []),
            "wheelchair": wheelchair,
            "requires_provider_confirmation": needs_confirmation,
            "care_level": care_level,
            "min_nights": min_nights,
            "max_nights": max_nights,
            "funding_routes": funding_routes,
        }
        location["units"].append(unit)
        units[unit_id] = unit
    return locations, units


def location_without_units(
    location: Location, now: datetime, stale_after_hours: int
) -> dict[str, Any]:
    """The location dict for a location none of whose units is in service."""
    municipality = location.municipality
    region = municipality.region
    return {
        "id": location.id,
        "name": location.name,
        "postcode": location.postcode,
        "provider": {"id": location.provider.id, "name": location.provider.name},
        "municipality": {"code": municipality.code, "name": municipality.name},
        "region": {"code": region.code, "name": region.name} if region else None,
        "updated_at": iso_utc(location.last_confirmed_at),
        "stale": is_stale(location.last_confirmed_at, now, stale_after_hours),
        "units": [],
    }


def free_beds_per_night(
    session: DbSession,
    unit_ids_query: Any,
    night_from: date,
    night_to: date,
    now: datetime,
) -> dict[int, dict[date, int]]:
    """unit id → night → free beds, counting overdue holds as free."""
    free: dict[int, dict[date, int]] = defaultdict(dict)
    for unit_id, night, capacity, reserved in session.execute(
        select(
            NightInventory.unit_id,
            NightInventory.night,
            NightInventory.capacity,
            NightInventory.reserved,
        ).where(
            NightInventory.unit_id.in_(unit_ids_query),
            NightInventory.night >= night_from,
            NightInventory.night < night_to,
        )
    ):
        free[unit_id][night] = capacity - reserved
    for unit_id, arrival, departure in session.execute(
        select(Reservation.unit_id, Reservation.arrival, Reservation.departure).where(
            Reservation.status.in_(EXPIRING_RESERVATION_STATUSES),
            Reservation.expires_at <= now,
            Reservation.arrival < night_to,
            Reservation.departure > night_from,
            Reservation.unit_id.in_(unit_ids_query),
        )
    ):
        nights = free.get(unit_id, {})
        night = max(arrival, night_from)
        while night < min(departure, night_to):
            if night in nights:
                nights[night] += 1
            night += timedelta(days=1)
    return free


def search(
    session: DbSession,
    filters: SearchFilters,
    night_from: date,
    night_to: date,
    now: datetime,
    stale_after_hours: int,
) -> dict[str, Any]:
    """The availability answer of DESIGN §7: locations → units → nights with free beds."""
    locations, units = location_rows(session, filters, now, stale_after_hours)
    if units:
        free = free_beds_per_night(session, list(units), night_from, night_to, now)
    else:
        free = {}
    days = [night_from + timedelta(days=i) for i in range((night_to - night_from).days)]
    iso_days = [d.isoformat() for d in days]
    for unit_id, unit in units.items():
        per_night = free.get(unit_id, {})
        unit["nights"] = [
            {"date": iso, "free": per_night.get(day, 0)}
            for day, iso in zip(days, iso_days, strict=True)
        ]
    return {"from": night_from.isoformat(), "to": night_to.isoformat(), "locations": locations}
