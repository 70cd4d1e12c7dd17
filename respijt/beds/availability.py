"""Free beds per unit per night, for the public search.

Built on Core queries into plain dicts: this is the hottest read of the service, and it must
stay close to the cost of the raw SQL (bench/availability.py measures that).
Holds past their expiry never block a bed (invariant 3): their nights are added back here,
before any sweep has run.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any

import orjson
from sqlalchemy import Date, String, bindparam, cast, exists, func, select, text
from sqlalchemy.orm import aliased

from respijt.beds.registry import is_stale
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
from respijt.models.base import UTCDateTime
from respijt.reservations.workflow import EXPIRING_RESERVATION_STATUSES


@dataclass(frozen=True)
class SearchFilters:
    municipality: str | None = None
    region: str | None = None
    target_group: str | None = None
    wheelchair: bool = False
    location_id: int | None = None
    # Locations in any of these municipalities (CBS codes): the search near a client's home.
    municipalities: tuple[str, ...] | None = None


def iso_utc(value: datetime | None) -> str | None:
    if value is None:
        return None
    # Same text as strftime("%Y-%m-%dT%H:%M:%SZ"), at a tenth of the cost.
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds") + "Z"


def _unit_conditions(filters: SearchFilters) -> list[Any]:
    """WHERE conditions selecting the units in service that match the filters.

    Values are bind parameters (see `_unit_params`), so one statement per *shape* of filter is
    built and compiled once. They go straight into the one query that joins unit → location →
    municipality → region, so the database starts from the narrowest filter (a region, a
    municipality) and walks indexes: the cost follows the size of the answer, not the country.
    """
    conditions: list[Any] = [Unit.retired_at.is_(None)]
    if filters.location_id is not None:
        conditions.append(Location.id == bindparam("location_id"))
    if filters.municipality:
        conditions.append(Municipality.code == bindparam("municipality"))
    if filters.municipalities is not None:
        conditions.append(Municipality.code.in_(bindparam("municipalities", expanding=True)))
    if filters.region:
        conditions.append(Region.code == bindparam("region"))
    if filters.target_group:
        conditions.append(
            exists().where(
                _FILTER_GROUP.unit_id == Unit.id,
                _FILTER_GROUP.target_group == bindparam("target_group"),
            )
        )
    if filters.wheelchair:
        conditions.append(Unit.wheelchair.is_(True))
    return conditions


def _unit_params(filters: SearchFilters) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if filters.location_id is not None:
        params["location_id"] = filters.location_id
    if filters.municipality:
        params["municipality"] = filters.municipality.upper()
    if filters.region:
        params["region"] = filters.region
    if filters.target_group:
        params["target_group"] = filters.target_group
    if filters.municipalities is not None:
        params["municipalities"] = list(filters.municipalities)
    return params


def _shape(filters: SearchFilters) -> tuple[bool, ...]:
    return (
        filters.location_id is not None,
        bool(filters.municipality),
        bool(filters.region),
        bool(filters.target_group),
        filters.wheelchair,
        filters.municipalities is not None,
    )


_FILTER_GROUP = aliased(UnitTargetGroup)

# IN lists are sent in chunks: SQLite allows 32,766 bound parameters, PostgreSQL 65,535.
_IN_CHUNK = 5000


@lru_cache(maxsize=256)
def _json_list(raw: str | None) -> tuple[str, ...]:
    """A JSON list column read as text and parsed once per distinct value (few exist)."""
    return tuple(json.loads(raw)) if raw else ()


@lru_cache(maxsize=64)
def _location_rows_statement(shape: tuple[bool, ...]) -> Any:
    """The units-with-location query for one shape of filter (built once, values bound)."""
    filters = SearchFilters(
        location_id=0 if shape[0] else None,
        municipality="x" if shape[1] else None,
        region="x" if shape[2] else None,
        target_group="x" if shape[3] else None,
        wheelchair=shape[4],
        municipalities=("x",) if shape[5] else None,
    )
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
    return query.where(*_unit_conditions(filters)).order_by(Location.name, Location.id, Unit.id)


def location_rows(
    session: DbSession, filters: SearchFilters, now: datetime, stale_after_hours: int
) -> tuple[list[dict[str, Any]], dict[int, dict[str, Any]]]:
    """Locations with their matching units as dicts; also a unit id → unit dict index.

    One query, one row per unit; target groups come aggregated as "a,b" and are sorted here.
    Executed as Core on the session's connection: plain rows, no ORM loading machinery.
    """
    rows = (
        session.connection()
        .execute(_location_rows_statement(_shape(filters)), _unit_params(filters))
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
    nights_statement, overdue_statement = _free_beds_statements()
    for params in _chunks(unit_ids, night_from, night_to):
        for unit_id, night, free_beds in connection.execute(nights_statement, params).all():
            free[unit_id][night] = free_beds
        overdue = connection.execute(overdue_statement, {**params, "now": now}).all()
        _add_overdue_holds(free, overdue, night_from, night_to)
    return free


def _chunks(unit_ids: list[int], night_from: date, night_to: date) -> Iterator[dict[str, Any]]:
    for start in range(0, len(unit_ids), _IN_CHUNK):
        yield {
            "unit_ids": unit_ids[start : start + _IN_CHUNK],
            "night_from": night_from,
            "night_to": night_to,
        }


def _add_overdue_holds(
    free: dict[int, dict[date, int]], overdue: Any, night_from: date, night_to: date
) -> None:
    """Give back the bed of every (unit id, arrival, departure) hold past its expiry."""
    for unit_id, arrival, departure in overdue:
        nights = free.get(unit_id, {})
        night = max(arrival, night_from)
        while night < min(departure, night_to):
            if night in nights:
                nights[night] += 1
            night += timedelta(days=1)


def _iso_days(night_from: date, night_to: date) -> list[tuple[date, str]]:
    days = (night_from + timedelta(days=i) for i in range((night_to - night_from).days))
    return [(day, day.isoformat()) for day in days]


def _night_list(per_night: dict[date, int], iso_days: list[tuple[date, str]]) -> list[Any]:
    """The `nights` of a unit in the answer: every night of the window, 0 where none is known."""
    return [{"date": iso, "free": per_night.get(day, 0)} for day, iso in iso_days]


def encoded_nights_per_unit(
    session: DbSession,
    unit_ids: list[int],
    night_from: date,
    night_to: date,
    now: datetime,
) -> dict[int, Any]:
    """unit id → its `nights` for the API answer, mostly as ready JSON text.

    The same list as `_night_list(free_beds_per_night(…))`, but the database aggregates each
    unit's nights into one row (its nights and free beds as comma-separated text, in the same
    order), and the JSON text `[{"date":"…","free":…},…]` is one string formatting per unit
    into a template made once per request; `orjson.dumps` writes the `orjson.Fragment` as is.
    So Python handles one row per unit instead of one per night. The fast way is taken only
    when the unit has every night of the window, in order — checked by comparing the nights as
    aggregated with the window's dates (the aggregates have no ORDER BY of their own, see
    `_aggregated_nights_statement`; a unit aggregated out of order just takes the slow way) —
    and has no overdue hold to give back (rare; asked in the same statement); otherwise the
    unit's list is built in Python.
    """
    if not unit_ids:
        return {}
    iso_days = _iso_days(night_from, night_to)
    expected = ",".join(iso for _, iso in iso_days)
    template = "[" + ",".join('{"date":"' + iso + '","free":%s}' for _, iso in iso_days) + "]"
    connection = session.connection()
    dialect = connection.dialect.name
    params = {
        # One parameter for any number of units: a JSON list on SQLite, an array on PostgreSQL.
        "unit_ids": orjson.dumps(unit_ids).decode() if dialect == "sqlite" else unit_ids,
        "night_from": night_from,
        "night_to": night_to,
        "now": now,
    }
    nights: dict[int, Any] = {}
    slow: dict[int, dict[date, int]] = {}
    with_overdue: list[int] = []
    statement = _aggregated_nights_statement(dialect)
    for unit_id, nights_text, free_text, overdue in connection.execute(statement, params).all():
        if nights_text == expected and not overdue:
            nights[unit_id] = orjson.Fragment(template % tuple(free_text.split(",")))
            continue
        slow[unit_id] = {
            date.fromisoformat(night): int(free)
            for night, free in zip(nights_text.split(","), free_text.split(","), strict=True)
        }
        if overdue:
            with_overdue.append(unit_id)
    if with_overdue:
        _, overdue_statement = _free_beds_statements()
        for chunk in _chunks(with_overdue, night_from, night_to):
            rows = connection.execute(overdue_statement, {**chunk, "now": now}).all()
            _add_overdue_holds(slow, rows, night_from, night_to)
    for unit_id in unit_ids:
        if unit_id not in nights:
            nights[unit_id] = _night_list(slow.get(unit_id, {}), iso_days)
    return nights


@lru_cache(maxsize=4)
def _aggregated_nights_statement(dialect: str) -> Any:
    """Per unit with nights in the window: its nights ("2026-11-29,2026-11-30,…") and free beds
    ("3,0,…") in the same order, and whether it has overdue holds on them; built once per
    dialect, values bound.

    The aggregates take the rows in the order they come: in primary-key order from the index
    on SQLite, from a sorted subquery on PostgreSQL (an ORDER BY inside `string_agg` sorts each
    unit's rows again and cost more than the whole index scan). Callers check the order.
    """
    if dialect == "postgresql":
        columns = "string_agg(night::text, ','), string_agg((capacity - reserved)::text, ',')"
        rows = (
            "(SELECT unit_id, night, capacity, reserved FROM night_inventory "
            "WHERE unit_id = ANY(:unit_ids) AND night >= :night_from AND night < :night_to "
            "ORDER BY unit_id, night) AS n"
        )
    else:  # SQLite stores a Date as its ISO text
        columns = "group_concat(night, ','), group_concat(capacity - reserved, ',')"
        rows = (
            "night_inventory AS n WHERE unit_id IN (SELECT value FROM json_each(:unit_ids)) "
            "AND night >= :night_from AND night < :night_to"
        )
    statuses = ", ".join(f"'{status}'" for status in EXPIRING_RESERVATION_STATUSES)
    return text(
        f"SELECT n.unit_id, {columns}, EXISTS (SELECT 1 FROM reservation r "
        f"WHERE r.unit_id = n.unit_id AND r.status IN ({statuses}) "
        "AND r.expires_at <= :now AND r.arrival < :night_to AND r.departure > :night_from) "
        f"FROM {rows} GROUP BY n.unit_id"
    ).bindparams(
        bindparam("night_from", type_=Date),
        bindparam("night_to", type_=Date),
        bindparam("now", type_=UTCDateTime()),
    )


@lru_cache(maxsize=1)
def _free_beds_statements() -> tuple[Any, Any]:
    """Nights of a list of units, and their overdue holds; built once, values bound."""
    unit_ids: Any = bindparam("unit_ids", expanding=True)
    night_from = bindparam("night_from", type_=Date)
    night_to = bindparam("night_to", type_=Date)
    nights = select(
        NightInventory.unit_id,
        NightInventory.night,
        NightInventory.capacity - NightInventory.reserved,
    ).where(
        NightInventory.unit_id.in_(unit_ids),
        NightInventory.night >= night_from,
        NightInventory.night < night_to,
    )
    overdue = select(Reservation.unit_id, Reservation.arrival, Reservation.departure).where(
        Reservation.status.in_(EXPIRING_RESERVATION_STATUSES),
        Reservation.expires_at <= bindparam("now", type_=UTCDateTime()),
        Reservation.arrival < night_to,
        Reservation.departure > night_from,
        Reservation.unit_id.in_(unit_ids),
    )
    return nights, overdue


def search(
    session: DbSession,
    filters: SearchFilters,
    night_from: date,
    night_to: date,
    now: datetime,
    stale_after_hours: int,
    *,
    encoded: bool = False,
) -> dict[str, Any]:
    """The availability answer of DESIGN §7: locations → units → nights with free beds.

    `encoded=True` (the API, which writes the answer with orjson) gives each unit's `nights`
    as the JSON text of `encoded_nights_per_unit`; the pages get plain lists.
    """
    locations, units = location_rows(session, filters, now, stale_after_hours)
    unit_ids = list(units)
    if encoded:
        nights = encoded_nights_per_unit(session, unit_ids, night_from, night_to, now)
        for unit_id, unit in units.items():
            unit["nights"] = nights[unit_id]
    else:
        free = free_beds_per_night(session, unit_ids, night_from, night_to, now) if units else {}
        iso_days = _iso_days(night_from, night_to)
        for unit_id, unit in units.items():
            unit["nights"] = _night_list(free.get(unit_id, {}), iso_days)
    return {"from": night_from.isoformat(), "to": night_to.isoformat(), "locations": locations}
