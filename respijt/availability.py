"""Free beds per unit per night, for the public search.

Built on Core queries into plain dicts: this is the hottest read of the service, and it must
stay close to the cost of the raw SQL (bench/availability.py measures that).
Holds past their expiry never block a bed (invariant 3): their nights are added back here,
before any sweep has run.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import String, cast, exists, func, select
from sqlalchemy.orm import aliased

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
    # Same text as strftime("%Y-%m-%dT%H:%M:%SZ"), at a tenth of the cost.
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds") + "Z"


def _unit_conditions(filters: SearchFilters) -> list[Any]:
    """WHERE conditions selecting the units in service that match the filters.

    They go straight into the one query that joins unit → location → municipality → region, so
    the database starts from the narrowest filter (a region, a municipality) and walks indexes:
    the cost follows the size of the answer, not the size of the country.
    """
    conditions: list[Any] = [Unit.retired_at.is_(None)]
    if filters.location_id is not None:
        conditions.append(Location.id == filters.location_id)
    if filters.municipality:
        conditions.append(Municipality.code == filters.municipality.upper())
    if filters.region:
        conditions.append(Region.code == filters.region)
    if filters.target_group:
        conditions.append(
            exists().where(
                _FILTER_GROUP.unit_id == Unit.id,
                _FILTER_GROUP.target_group == filters.target_group,
            )
        )
    if filters.wheelchair:
        conditions.append(Unit.wheelchair.is_(True))
    return conditions


_FILTER_GROUP = aliased(UnitTargetGroup)

# IN lists are sent in chunks: SQLite allows 32,766 bound parameters, PostgreSQL 65,535.
_IN_CHUNK = 5000


@lru_cache(maxsize=256)
def _json_list(raw: str | None) -> tuple[str, ...]:
    """A JSON list column read as text and parsed once per distinct value (few exist)."""
    return tuple(json.loads(raw)) if raw else ()


def location_rows(
    session: DbSession, filters: SearchFilters, now: datetime, stale_after_hours: int
) -> tuple[list[dict[str, Any]], dict[int, dict[str, Any]]]:
    """Locations with their matching units as dicts; also a unit id → unit dict index.

    One query, one row per unit; target groups come aggregated as "a,b" and are sorted here.
    Executed as Core on the session's connection: plain rows, no ORM loading machinery.
    """
    groups = (
        select(func.aggregate_strings(UnitTargetGroup.target_group, ","))
        .where(UnitTargetGroup.unit_id == Unit.id)
        .scalar_subquery()
    )
    query = (
        select(
            Unit.id,
            Unit.name,
            Unit.wheelchair,
            Unit.requires_provider_confirmation,
            Unit.care_level,
            Unit.min_nights,
            Unit.max_nights,
            cast(Unit.funding_routes, String),
            groups,
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
        .select_from(Unit)
        .join(Location, Location.id == Unit.location_id)
        .join(Provider, Provider.id == Location.provider_id)
        .join(Municipality, Municipality.id == Location.municipality_id)
    )
    if filters.region:
        query = query.join(Region, Region.id == Municipality.region_id)
    else:
        query = query.outerjoin(Region, Region.id == Municipality.region_id)
    rows = (
        session.connection()
        .execute(
            query.where(*_unit_conditions(filters)).order_by(Location.name, Location.id, Unit.id)
        )
        .all()
    )
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
        target_groups,
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
            "target_groups": sorted(target_groups.split(",")) if target_groups else [],
            "wheelchair": wheelchair,
            "requires_provider_confirmation": needs_confirmation,
            "care_level": care_level,
            "min_nights": min_nights,
            "max_nights": max_nights,
            "funding_routes": list(_json_list(funding_routes)),
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
    unit_ids: list[int],
    night_from: date,
    night_to: date,
    now: datetime,
) -> dict[int, dict[date, int]]:
    """unit id → night → free beds, counting overdue holds as free (invariant 3).

    Core on the session's connection, rows fetched at once: this loop sees ~1,000 rows per search.
    """
    free: dict[int, dict[date, int]] = defaultdict(dict)
    connection = session.connection()
    for start in range(0, len(unit_ids), _IN_CHUNK):
        chunk = unit_ids[start : start + _IN_CHUNK]
        for unit_id, night, free_beds in connection.execute(
            select(
                NightInventory.unit_id,
                NightInventory.night,
                NightInventory.capacity - NightInventory.reserved,
            ).where(
                NightInventory.unit_id.in_(chunk),
                NightInventory.night >= night_from,
                NightInventory.night < night_to,
            )
        ).all():
            free[unit_id][night] = free_beds
        for unit_id, arrival, departure in connection.execute(
            select(Reservation.unit_id, Reservation.arrival, Reservation.departure).where(
                Reservation.status.in_(EXPIRING_RESERVATION_STATUSES),
                Reservation.expires_at <= now,
                Reservation.arrival < night_to,
                Reservation.departure > night_from,
                Reservation.unit_id.in_(chunk),
            )
        ).all():
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
    free = free_beds_per_night(session, list(units), night_from, night_to, now) if units else {}
    days = [night_from + timedelta(days=i) for i in range((night_to - night_from).days)]
    iso_days = [(day, day.isoformat()) for day in days]
    for unit_id, unit in units.items():
        per_night = free.get(unit_id, {})
        unit["nights"] = [{"date": iso, "free": per_night.get(day, 0)} for day, iso in iso_days]
    return {"from": night_from.isoformat(), "to": night_to.isoformat(), "locations": locations}
