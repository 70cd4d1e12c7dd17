"""CSV onboarding: regions, municipalities (the CBS list), providers, locations and units.

All rows are validated in one transaction, each in its own savepoint; every bad row is reported
by line and column. The caller commits only when there are no errors and it is not a dry run.
Files may be separated by ';' (the Dutch default) or ','.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from respijt.beds import registry
from respijt.database import DbSession
from respijt.errors import DomainError, InvalidInput
from respijt.models import Location, Municipality, Provider, Region, Unit

KINDS = ("regions", "municipalities", "providers", "locations", "units")

COLUMNS: dict[str, tuple[list[str], list[str]]] = {
    # kind: (required columns, optional columns)
    "regions": (["code", "name"], ["meldpunt_number"]),
    "municipalities": (["code", "name"], ["region", "latitude", "longitude"]),
    "providers": (["name"], ["agb_code", "kvk_number", "duty_phone", "regions", "pool_regions"]),
    "locations": (
        ["provider", "name", "address", "postcode", "municipality"],
        ["latitude", "longitude", "contact_mobile", "languages"],
    ),
    "units": (
        ["provider", "location", "name", "target_groups", "default_capacity"],
        [
            "care_level",
            "wheelchair",
            "funding_routes",
            "min_nights",
            "max_nights",
            "arrival_weekdays",
            "requires_provider_confirmation",
        ],
    ),
}


@dataclass
class RowError:
    line: int
    column: str
    reason: str

    def __str__(self) -> str:
        return f"regel {self.line}, kolom {self.column}: {self.reason}"


@dataclass
class ImportResult:
    kind: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


class _CellError(Exception):
    def __init__(self, column: str, reason: str) -> None:
        super().__init__(reason)
        self.column = column
        self.reason = reason


def _list(value: str) -> list[str]:
    return [
        part.strip()
        for part in value.replace(";", ",").replace(" ", ",").split(",")
        if part.strip()
    ]


def _bool(row: dict[str, str], column: str) -> bool | None:
    raw = (row.get(column) or "").strip().lower()
    if raw == "":
        return None
    if raw in {"ja", "j", "yes", "true", "1", "x"}:
        return True
    if raw in {"nee", "n", "no", "false", "0"}:
        return False
    raise _CellError(column, "Gebruik ja of nee.")


def _int(row: dict[str, str], column: str) -> int | None:
    raw = (row.get(column) or "").strip()
    if raw == "":
        return None
    try:
        return int(raw)
    except ValueError:
        raise _CellError(column, f"'{raw}' is geen geheel getal.") from None


def _float(row: dict[str, str], column: str) -> float | None:
    raw = (row.get(column) or "").strip().replace(",", ".")
    if raw == "":
        return None
    try:
        return float(raw)
    except ValueError:
        raise _CellError(column, f"'{raw}' is geen getal.") from None


def _provider(session: DbSession, key: str) -> Provider:
    key = key.strip()
    found = session.scalar(
        select(Provider).where((Provider.name == key) | (Provider.agb_code == key)).limit(2)
    )
    if found is None:
        raise _CellError("provider", f"Aanbieder '{key}' bestaat niet (naam of AGB-code).")
    return found


def _import_region(session: DbSession, row: dict[str, str], ctx: dict[str, Any]) -> bool:
    code = row["code"].strip().upper()
    region = session.scalar(select(Region).where(Region.code == code))
    created = region is None
    if region is None:
        region = Region(code=code, name=row["name"].strip())
        session.add(region)
    region.name = row["name"].strip()
    number = (row.get("meldpunt_number") or "").strip()
    if number:
        region.meldpunt_number = registry.normalise_phone(number, "meldpunt_number", mobile=False)
    return created


def _import_municipality(session: DbSession, row: dict[str, str], ctx: dict[str, Any]) -> bool:
    code = row["code"].strip().upper()
    if len(code) != 6 or not code.startswith("GM") or not code[2:].isdigit():
        raise _CellError("code", "Een CBS-gemeentecode ziet eruit als GM0503.")
    municipality = session.scalar(select(Municipality).where(Municipality.code == code))
    created = municipality is None
    if municipality is None:
        municipality = Municipality(code=code, name=row["name"].strip())
        session.add(municipality)
    municipality.name = row["name"].strip()
    region_code = (row.get("region") or "").strip().upper()
    if region_code:
        region = session.scalar(select(Region).where(Region.code == region_code))
        if region is None:
            raise _CellError("region", f"Regio '{region_code}' bestaat niet.")
        municipality.region = region
    lat, lon = _float(row, "latitude"), _float(row, "longitude")
    if lat is not None:
        municipality.latitude = lat
    if lon is not None:
        municipality.longitude = lon
    return created


def _import_provider(session: DbSession, row: dict[str, str], ctx: dict[str, Any]) -> bool:
    name = row["name"].strip()
    pool = set(_list((row.get("pool_regions") or "").upper()))
    regions = set(_list((row.get("regions") or "").upper())) | pool
    memberships = [registry.RegionMembership(code, code in pool) for code in sorted(regions)]
    existing = session.scalar(select(Provider).where(Provider.name == name))
    fields: dict[str, Any] = {
        "agb_code": (row.get("agb_code") or "").strip() or None,
        "kvk_number": (row.get("kvk_number") or "").strip() or None,
        "duty_phone": (row.get("duty_phone") or "").strip() or None,
    }
    if existing is None:
        registry.create_provider(session, name=name, now=ctx["now"], regions=memberships, **fields)
        return True
    registry.update_provider(session, existing, regions=memberships, **fields)
    return False


def _import_location(session: DbSession, row: dict[str, str], ctx: dict[str, Any]) -> bool:
    provider = _provider(session, row["provider"])
    fields: dict[str, Any] = {
        "name": row["name"],
        "address": row["address"],
        "postcode": row["postcode"],
        "municipality": row["municipality"].strip(),
        "latitude": _float(row, "latitude"),
        "longitude": _float(row, "longitude"),
        "contact_mobile": (row.get("contact_mobile") or "").strip() or None,
    }
    if (row.get("languages") or "").strip():
        fields["languages"] = _list(row["languages"])
    existing = session.scalar(
        select(Location).where(
            Location.provider_id == provider.id, Location.name == row["name"].strip()
        )
    )
    if existing is None:
        registry.create_location(session, provider=provider, now=ctx["now"], **fields)
        return True
    registry.update_location(session, existing, **fields)
    return False


def _import_unit(session: DbSession, row: dict[str, str], ctx: dict[str, Any]) -> bool:
    provider = _provider(session, row["provider"])
    location = session.scalar(
        select(Location).where(
            Location.provider_id == provider.id, Location.name == row["location"].strip()
        )
    )
    if location is None:
        raise _CellError(
            "location", f"Locatie '{row['location']}' van {provider.name} bestaat niet."
        )
    capacity = _int(row, "default_capacity")
    if capacity is None or capacity < 0 or capacity > ctx["max_capacity"]:
        raise _CellError("default_capacity", f"Capaciteit tussen 0 en {ctx['max_capacity']}.")
    fields: dict[str, Any] = {
        "name": row["name"],
        "target_groups": _list(row["target_groups"].lower()),
        "default_capacity": capacity,
        "care_level": (row.get("care_level") or "").strip() or None,
        "wheelchair": _bool(row, "wheelchair"),
        "funding_routes": _list((row.get("funding_routes") or "").lower()) or None,
        "min_nights": _int(row, "min_nights"),
        "max_nights": _int(row, "max_nights"),
        "arrival_weekdays": (row.get("arrival_weekdays") or "").strip() or None,
        "requires_provider_confirmation": _bool(row, "requires_provider_confirmation"),
    }
    existing = session.scalar(
        select(Unit).where(Unit.location_id == location.id, Unit.name == row["name"].strip())
    )
    if existing is None:
        registry.create_unit(
            session,
            location=location,
            now=ctx["now"],
            today=ctx["today"],
            horizon_days=ctx["horizon_days"],
            **fields,
        )
        return True
    registry.update_unit(session, existing, **fields)
    return False


IMPORTERS: dict[str, Callable[[DbSession, dict[str, str], dict[str, Any]], bool]] = {
    "regions": _import_region,
    "municipalities": _import_municipality,
    "providers": _import_provider,
    "locations": _import_location,
    "units": _import_unit,
}


def read_rows(text: str) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """Header and (line number, row) pairs; the delimiter is sniffed (';' or ',')."""
    sample = text[:4096]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=";,")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    header = [h.strip() for h in (reader.fieldnames or [])]
    reader.fieldnames = header
    rows = []
    for row in reader:
        if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
            continue
        rows.append((reader.line_num, {k: (v or "") for k, v in row.items() if k}))
    return header, rows


def import_csv(
    session: DbSession,
    kind: str,
    text: str,
    *,
    now: datetime,
    today: date,
    horizon_days: int,
    max_capacity: int,
) -> ImportResult:
    """Validate and apply every row. The caller commits only if `result.ok` and not a dry run."""
    if kind not in IMPORTERS:
        raise InvalidInput(f"Onbekende soort '{kind}'; kies uit: {', '.join(KINDS)}.")
    result = ImportResult(kind=kind)
    header, rows = read_rows(text.lstrip("\ufeff"))
    required, optional = COLUMNS[kind]
    missing = [c for c in required if c not in header]
    if missing:
        result.errors.append(RowError(1, ", ".join(missing), "Kolom ontbreekt in de kopregel."))
    unknown = [c for c in header if c not in required and c not in optional]
    if unknown:
        result.errors.append(RowError(1, ", ".join(unknown), "Onbekende kolom."))
    if result.errors:
        return result
    ctx = {"now": now, "today": today, "horizon_days": horizon_days, "max_capacity": max_capacity}
    for line, row in rows:
        result.rows += 1
        empty = [c for c in required if not row.get(c, "").strip()]
        if empty:
            result.errors.extend(RowError(line, c, "Verplicht veld is leeg.") for c in empty)
            continue
        try:
            with session.begin_nested():
                created = IMPORTERS[kind](session, row, ctx)
                session.flush()
        except _CellError as exc:
            result.errors.append(RowError(line, exc.column, exc.reason))
            continue
        except InvalidInput as exc:
            if exc.params:
                result.errors.extend(RowError(line, p["name"], p["reason"]) for p in exc.params)
            else:
                result.errors.append(RowError(line, "-", exc.detail))
            continue
        except DomainError as exc:
            result.errors.append(RowError(line, "-", exc.detail))
            continue
        except IntegrityError:
            result.errors.append(RowError(line, "-", "Conflicteert met bestaande gegevens."))
            continue
        if created:
            result.created += 1
        else:
            result.updated += 1
    return result
