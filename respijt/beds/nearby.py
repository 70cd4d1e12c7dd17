"""Search near where the client lives: the places that can take a client from their gemeente.

The client's home is a gemeente (CBS code). Its centre is the municipality's own latitude and
longitude where the registry has them, else the shipped table `respijt/data/gemeente_centres.csv`
(provenance in docs/open-data.md). A place counts as near when it lies in the client's region
(any distance) or within `max_km` of the home's centre (neighbouring regions). Distances are
great-circle kilometres from the home's centre to the location (its own coordinates, else its
gemeente's centre), computed here: no request leaves the site. Nearest first.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, replace
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import select

from respijt.beds.availability import SearchFilters, search
from respijt.codes import CARE_LEVEL_ORDER
from respijt.database import DbSession
from respijt.models import Location, Municipality, Region

CENTRES_FILE = Path(__file__).resolve().parent.parent / "data" / "gemeente_centres.csv"


@dataclass(frozen=True)
class Home:
    """The client's gemeente: where distances are measured from."""

    code: str
    name: str
    region_id: int | None
    region_code: str | None
    latitude: float | None
    longitude: float | None


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine) in kilometres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 6371.0 * 2 * math.asin(math.sqrt(a))


@lru_cache(maxsize=1)
def shipped_centres() -> dict[str, tuple[float, float]]:
    """CBS code → (latitude, longitude) from the shipped table."""
    with CENTRES_FILE.open(encoding="utf-8", newline="") as handle:
        return {
            row["code"].upper(): (float(row["latitude"]), float(row["longitude"]))
            for row in csv.DictReader(handle)
        }


def _centre(code: str, lat: float | None, lon: float | None) -> tuple[float | None, float | None]:
    if lat is not None and lon is not None:
        return lat, lon
    return shipped_centres().get(code.upper(), (None, None))


def find_home(session: DbSession, code: str) -> Home | None:
    """The gemeente with this CBS code, or None when the service does not know it."""
    row = session.execute(
        select(
            Municipality.code,
            Municipality.name,
            Municipality.region_id,
            Region.code,
            Municipality.latitude,
            Municipality.longitude,
        )
        .outerjoin(Region, Region.id == Municipality.region_id)
        .where(Municipality.code == code.strip().upper())
    ).first()
    if row is None:
        return None
    lat, lon = _centre(row[0], row[4], row[5])
    return Home(row[0], row[1], row[2], row[3], lat, lon)


def codes_near(session: DbSession, home: Home, max_km: float) -> tuple[str, ...]:
    """The CBS codes of the home's region and of every gemeente whose centre lies within
    `max_km` (plus a margin: a location may lie a little off its gemeente's centre)."""
    codes: list[str] = []
    rows = session.execute(
        select(
            Municipality.code, Municipality.region_id, Municipality.latitude, Municipality.longitude
        )
    ).all()
    for code, region_id, lat, lon in rows:
        if code == home.code or (home.region_id is not None and region_id == home.region_id):
            codes.append(code)
            continue
        lat, lon = _centre(code, lat, lon)
        if None in (lat, lon, home.latitude, home.longitude):
            continue
        km = distance_km(home.latitude, home.longitude, lat, lon)  # type: ignore[arg-type]
        if km <= max_km + 10:
            codes.append(code)
    return tuple(sorted(codes))


def fits_care(unit: dict[str, Any], care_level: str | None, funding: str | None) -> bool:
    """A unit takes this care level (a higher level takes a lower need) and funding route."""
    if care_level in CARE_LEVEL_ORDER and unit["care_level"] in CARE_LEVEL_ORDER:
        if CARE_LEVEL_ORDER.index(unit["care_level"]) < CARE_LEVEL_ORDER.index(care_level):
            return False
    return not funding or funding in unit["funding_routes"]


def narrow(
    locations: list[dict[str, Any]], care_level: str | None, funding: str | None
) -> list[dict[str, Any]]:
    """Keep the units that take this care level and funding route; drop empty locations."""
    if not care_level and not funding:
        return locations
    kept = []
    for location in locations:
        units = [u for u in location["units"] if fits_care(u, care_level, funding)]
        if units:
            kept.append({**location, "units": units})
    return kept


def _location_points(
    session: DbSession, location_ids: list[int]
) -> dict[int, tuple[float | None, float | None]]:
    if not location_ids:
        return {}
    rows = session.execute(
        select(
            Location.id,
            Location.latitude,
            Location.longitude,
            Municipality.code,
            Municipality.latitude,
            Municipality.longitude,
        )
        .join(Municipality, Municipality.id == Location.municipality_id)
        .where(Location.id.in_(location_ids))
    ).all()
    points: dict[int, tuple[float | None, float | None]] = {}
    for location_id, lat, lon, code, m_lat, m_lon in rows:
        if lat is not None and lon is not None:
            points[location_id] = (lat, lon)
        else:
            points[location_id] = _centre(code, m_lat, m_lon)
    return points


def order_by_distance(
    session: DbSession, locations: list[dict[str, Any]], home: Home, max_km: float
) -> list[dict[str, Any]]:
    """Each location with `distance_km` (one decimal, None where unknown), those beyond
    `max_km` outside the home's region left out, nearest first."""
    points = _location_points(session, [loc["id"] for loc in locations])
    kept = []
    for location in locations:
        lat, lon = points.get(location["id"], (None, None))
        km: float | None = None
        if None not in (lat, lon, home.latitude, home.longitude):
            km = round(distance_km(home.latitude, home.longitude, lat, lon), 1)  # type: ignore[arg-type]
        in_region = (
            home.region_code is not None
            and location["region"] is not None
            and location["region"]["code"] == home.region_code
        )
        if not in_region and (km is None or km > max_km):
            continue
        location["distance_km"] = km
        kept.append(location)
    kept.sort(key=lambda loc: (loc["distance_km"] is None, loc["distance_km"] or 0, loc["name"]))
    return kept


def search_near(
    session: DbSession,
    filters: SearchFilters,
    home: Home,
    max_km: float,
    night_from: date,
    night_to: date,
    now: datetime,
    stale_after_hours: int,
    *,
    care_level: str | None = None,
    funding: str | None = None,
    encoded: bool = False,
) -> dict[str, Any]:
    """The availability answer for a client living in `home`: the places of the home's
    region and those within `max_km`, fitting the filters, nearest first, each with
    `distance_km`."""
    near_filters = replace(filters, municipalities=codes_near(session, home, max_km))
    result = search(
        session, near_filters, night_from, night_to, now, stale_after_hours, encoded=encoded
    )
    locations = narrow(result["locations"], care_level, funding)
    result["locations"] = order_by_distance(session, locations, home, max_km)
    return result


def distance_words(km: float | None) -> str:
    """The distance as a person says it: "ongeveer 12 km", "minder dan 1 km"."""
    if km is None:
        return ""
    if km < 1:
        return "minder dan 1 km"
    return f"ongeveer {round(km)} km"
