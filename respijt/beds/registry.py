"""Providers, locations, units and the night inventory (capacity publication: `capacity.py`).

Plain functions over a session: they flush, never commit, and raise DomainError subclasses.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import phonenumbers
from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import selectinload

from respijt import formatting
from respijt.codes import ALL_WEEKDAYS, CARE_LEVELS, FUNDING_ROUTES, TARGET_GROUPS
from respijt.database import DbSession
from respijt.errors import (
    InvalidInput,
    NotFound,
    UnitHasFutureReservations,
)
from respijt.models import (
    Location,
    Municipality,
    NightInventory,
    Provider,
    ProviderRegion,
    Region,
    Reservation,
    Unit,
    UnitTargetGroup,
)
from respijt.reservations.workflow import ACTIVE_RESERVATION_STATUSES

# --- validation helpers -------------------------------------------------------------------


def normalise_phone(raw: str, field: str, *, mobile: bool) -> str:
    """Parse a Dutch phone number to E.164, or raise InvalidInput naming the field."""
    try:
        parsed = phonenumbers.parse(raw, "NL")
    except phonenumbers.NumberParseException:
        parsed = None
    if parsed is None or not phonenumbers.is_valid_number(parsed):
        raise InvalidInput(
            "Ongeldig telefoonnummer.",
            [{"name": field, "code": "phone", "reason": "Geen geldig telefoonnummer."}],
        )
    if mobile and phonenumbers.number_type(parsed) not in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ):
        raise InvalidInput(
            "Dit moet een mobiel nummer zijn.",
            [{"name": field, "code": "mobile", "reason": "Geen mobiel nummer (06-nummer)."}],
        )
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _check_codes(values: Iterable[str], allowed: dict[str, str], field: str) -> list[str]:
    result = []
    for value in values:
        if value not in allowed:
            raise InvalidInput(
                f"Onbekende waarde '{value}'.",
                [
                    {
                        "name": field,
                        "code": "unknown_code",
                        "reason": f"Onbekende waarde '{value}'; kies uit: {', '.join(allowed)}.",
                    }
                ],
            )
        if value not in result:
            result.append(value)
    return result


def municipality_by_code(
    session: DbSession, code: str, field: str = "municipality"
) -> Municipality:
    found = session.scalar(select(Municipality).where(Municipality.code == code.upper()))
    if found is None:
        raise InvalidInput(
            f"Onbekende gemeente '{code}'.",
            [{"name": field, "code": "unknown_municipality", "reason": "Onbekende CBS-code."}],
        )
    return found


def get_or_404(session: DbSession, model: type[Any], object_id: int, label: str) -> Any:
    obj = session.get(model, object_id)
    if obj is None:
        raise NotFound(f"{label} {object_id} bestaat niet.")
    return obj


# --- providers ------------------------------------------------------------------------------


@dataclass
class RegionMembership:
    region_code: str
    in_pool: bool = False
    pool_weight: int = 1


def create_provider(
    session: DbSession,
    *,
    name: str,
    now: datetime,
    agb_code: str | None = None,
    kvk_number: str | None = None,
    duty_phone: str | None = None,
    staff_mobiles: Sequence[str] = (),
    regions: Sequence[RegionMembership] = (),
) -> Provider:
    provider = Provider(name=name.strip(), created_at=now, staff_mobiles=[])
    with session.no_autoflush:
        session.add(provider)
        update_provider(
            session,
            provider,
            agb_code=agb_code,
            kvk_number=kvk_number,
            duty_phone=duty_phone,
            staff_mobiles=staff_mobiles,
            regions=regions,
        )
    return provider


def update_provider(session: DbSession, provider: Provider, **changes: Any) -> Provider:
    if changes.get("name") is not None:
        provider.name = changes["name"].strip()
    for key in ("agb_code", "kvk_number"):
        if key in changes and changes[key] is not None:
            setattr(provider, key, changes[key] or None)
    if changes.get("duty_phone"):
        provider.duty_phone = normalise_phone(changes["duty_phone"], "duty_phone", mobile=False)
    if changes.get("staff_mobiles") is not None:
        provider.staff_mobiles = [
            normalise_phone(m, "staff_mobiles", mobile=True) for m in changes["staff_mobiles"]
        ]
    if changes.get("regions") is not None:
        wanted: dict[int, RegionMembership] = {}
        for membership in changes["regions"]:
            region = session.scalar(select(Region).where(Region.code == membership.region_code))
            if region is None:
                raise InvalidInput(
                    f"Onbekende regio '{membership.region_code}'.",
                    [{"name": "regions", "code": "unknown_region", "reason": "Onbekende regio."}],
                )
            wanted[region.id] = membership
        provider.regions = [
            ProviderRegion(region_id=rid, in_pool=m.in_pool, pool_weight=m.pool_weight)
            for rid, m in wanted.items()
        ]
    session.flush()
    return provider


# --- locations ------------------------------------------------------------------------------


def create_location(
    session: DbSession, *, provider: Provider, now: datetime, **fields: Any
) -> Location:
    location = Location(provider=provider, created_at=now, languages=["nl"])
    with session.no_autoflush:
        session.add(location)
        _apply_location_fields(session, location, fields, creating=True)
    return location


def update_location(session: DbSession, location: Location, **fields: Any) -> Location:
    _apply_location_fields(session, location, fields, creating=False)
    return location


def _apply_location_fields(
    session: DbSession, location: Location, fields: dict[str, Any], *, creating: bool
) -> None:
    for key in ("name", "address"):
        if fields.get(key) is not None:
            setattr(location, key, fields[key].strip())
    if fields.get("postcode") is not None:
        postcode = fields["postcode"].replace(" ", "").upper()
        if len(postcode) != 6 or not postcode[:4].isdigit() or not postcode[4:].isalpha():
            raise InvalidInput(
                "Ongeldige postcode.",
                [{"name": "postcode", "code": "postcode", "reason": "Gebruik 1234AB."}],
            )
        location.postcode = postcode
    if fields.get("municipality") is not None:
        location.municipality = municipality_by_code(session, fields["municipality"])
    for key in ("latitude", "longitude"):
        if key in fields:
            setattr(location, key, fields[key])
    if fields.get("contact_mobile"):
        location.contact_mobile = normalise_phone(
            fields["contact_mobile"], "contact_mobile", mobile=True
        )
    elif fields.get("contact_mobile") == "":  # emptied on purpose; None (not given) keeps it
        location.contact_mobile = None
    if fields.get("languages") is not None:
        location.languages = sorted({lang.strip().lower() for lang in fields["languages"]})
    if creating:
        missing = [k for k in ("name", "address", "postcode") if not getattr(location, k, None)]
        if location.municipality is None:
            missing.append("municipality")
        if missing:
            raise InvalidInput(
                "Verplichte velden ontbreken.",
                [
                    {"name": k, "code": "required", "reason": "Dit veld is verplicht."}
                    for k in missing
                ],
            )
    session.flush()


def is_stale(last_confirmed_at: datetime | None, now: datetime, stale_after_hours: int) -> bool:
    return last_confirmed_at is None or now - last_confirmed_at > timedelta(hours=stale_after_hours)


def confirm_location(session: DbSession, location: Location, now: datetime) -> Location:
    """'Nothing changed': the figures are fresh as of now."""
    location.last_confirmed_at = now
    session.flush()
    return location


def confirm_provider_locations(session: DbSession, provider_id: int | None, now: datetime) -> int:
    """'Nothing changed' for every location of one provider at once; how many were confirmed."""
    result = session.execute(
        update(Location)
        .where(Location.provider_id == provider_id)
        .values(last_confirmed_at=now)
        .execution_options(synchronize_session="fetch")
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


# --- units ----------------------------------------------------------------------------------


def create_unit(
    session: DbSession,
    *,
    location: Location,
    now: datetime,
    today: date,
    horizon_days: int,
    **fields: Any,
) -> Unit:
    unit = Unit(
        location=location,
        created_at=now,
        funding_routes=["wmo"],
        care_level="basic",
        wheelchair=False,
        min_nights=1,
        max_nights=28,
        arrival_weekdays=ALL_WEEKDAYS,
        requires_provider_confirmation=False,
        default_capacity=0,
    )
    if not fields.get("target_groups"):
        raise InvalidInput(
            "Kies minstens één doelgroep.",
            [{"name": "target_groups", "code": "required", "reason": "Dit veld is verplicht."}],
        )
    with session.no_autoflush:
        session.add(unit)
        update_unit(session, unit, **fields)
    extend_horizon(session, today=today, horizon_days=horizon_days, unit_ids=[unit.id])
    return unit


def update_unit(session: DbSession, unit: Unit, **fields: Any) -> Unit:
    if fields.get("name") is not None:
        unit.name = fields["name"].strip()
    if fields.get("target_groups") is not None:
        groups = _check_codes(fields["target_groups"], TARGET_GROUPS, "target_groups")
        unit.target_group_rows = [UnitTargetGroup(target_group=g) for g in groups]
    if fields.get("care_level") is not None:
        unit.care_level = _check_codes([fields["care_level"]], CARE_LEVELS, "care_level")[0]
    if fields.get("funding_routes") is not None:
        unit.funding_routes = _check_codes(
            fields["funding_routes"], FUNDING_ROUTES, "funding_routes"
        )
    for key in ("wheelchair", "requires_provider_confirmation"):
        if fields.get(key) is not None:
            setattr(unit, key, bool(fields[key]))
    for key in ("min_nights", "max_nights", "default_capacity"):
        if fields.get(key) is not None:
            setattr(unit, key, int(fields[key]))
    if fields.get("arrival_weekdays") is not None:
        days = "".join(sorted(set(str(fields["arrival_weekdays"]))))
        if not days or any(d not in ALL_WEEKDAYS for d in days):
            raise InvalidInput(
                "Ongeldige aankomstdagen.",
                [
                    {
                        "name": "arrival_weekdays",
                        "code": "weekdays",
                        "reason": "Gebruik cijfers 1 (maandag) t/m 7 (zondag), bijv. '15'.",
                    }
                ],
            )
        unit.arrival_weekdays = days
    if unit.min_nights < 1 or unit.max_nights < unit.min_nights:
        raise InvalidInput(
            "Minimum en maximum aantal nachten kloppen niet.",
            [
                {
                    "name": "max_nights",
                    "code": "range",
                    "reason": "Minimaal 1 nacht en maximum niet lager dan minimum.",
                }
            ],
        )
    if unit.default_capacity < 0:
        raise InvalidInput(
            "Capaciteit kan niet negatief zijn.",
            [{"name": "default_capacity", "code": "range", "reason": "Minimaal 0."}],
        )
    session.flush()
    return unit


def retire_unit(session: DbSession, unit: Unit, now: datetime, today: date) -> Unit:
    """Take a unit out of service; refused while it still has current or future reservations."""
    pending = session.scalar(
        select(func.count())
        .select_from(Reservation)
        .where(
            Reservation.unit_id == unit.id,
            Reservation.status.in_(ACTIVE_RESERVATION_STATUSES),
            Reservation.departure > today,
        )
    )
    if pending:
        raise UnitHasFutureReservations(
            "Deze eenheid heeft nog "
            + formatting.counted(
                pending,
                "lopende of toekomstige reservering",
                "lopende of toekomstige reserveringen",
            )
            + "; "
            "annuleer of verplaats die eerst."
        )
    unit.retired_at = now
    session.execute(
        update(NightInventory)
        .where(NightInventory.unit_id == unit.id, NightInventory.night >= today)
        .values(capacity=0)
    )
    session.flush()
    return unit


def retire_location(session: DbSession, location: Location, now: datetime, today: date) -> int:
    """Take a location out of service: every unit of it in service is retired (`retire_unit`),
    all or nothing; the location and its history stay. Returns how many units were retired."""
    units = [unit for unit in location.units if unit.retired_at is None]
    for unit in units:
        try:
            retire_unit(session, unit, now, today)
        except UnitHasFutureReservations as exc:
            raise UnitHasFutureReservations(f"{unit.name}: {exc.detail}") from exc
    return len(units)


# --- inventory ------------------------------------------------------------------------------


def extend_horizon(
    session: DbSession,
    *,
    today: date,
    horizon_days: int,
    unit_ids: Sequence[int] | None = None,
    batch_size: int = 5000,
) -> int:
    """Create missing night rows up to today + horizon from each unit's default capacity.

    Idempotent: only nights after a unit's last existing night (or from today) are added.
    Returns the number of rows inserted.
    """
    last_night = (
        select(Unit.id, Unit.default_capacity, func.max(NightInventory.night))
        .outerjoin(NightInventory, NightInventory.unit_id == Unit.id)
        .where(Unit.retired_at.is_(None))
        .group_by(Unit.id, Unit.default_capacity)
    )
    if unit_ids is not None:
        last_night = last_night.where(Unit.id.in_(unit_ids))
    end = today + timedelta(days=horizon_days)
    inserted = 0
    batch: list[dict[str, Any]] = []
    for unit_id, default_capacity, last in session.execute(last_night):
        start = today if last is None else max(today, last + timedelta(days=1))
        night = start
        while night < end:
            batch.append(
                {"unit_id": unit_id, "night": night, "capacity": default_capacity, "reserved": 0}
            )
            night += timedelta(days=1)
            if len(batch) >= batch_size:
                session.execute(insert(NightInventory), batch)
                inserted += len(batch)
                batch = []
    if batch:
        session.execute(insert(NightInventory), batch)
        inserted += len(batch)
    return inserted


# --- reads for the faces --------------------------------------------------------------------


def provider_locations(session: DbSession, provider_id: int | None) -> list[Location]:
    """A provider's own locations with their units, by name."""
    return list(
        session.scalars(
            select(Location)
            .where(Location.provider_id == provider_id)
            .options(selectinload(Location.units))
            .order_by(Location.name, Location.id)
        )
    )


def provider_unit(session: DbSession, provider_id: int | None, unit_id: int) -> Unit:
    """A unit of the provider's own locations; another provider's unit does not exist (404)."""
    unit = session.scalar(
        select(Unit)
        .join(Location, Location.id == Unit.location_id)
        .where(Unit.id == unit_id, Location.provider_id == provider_id)
    )
    if unit is None:
        raise NotFound("Deze eenheid bestaat niet.")
    return unit


def regions_with_pools(session: DbSession) -> list[dict[str, Any]]:
    """Every region with its municipalities, meldpunt number and the providers in its pool."""
    regions = session.scalars(
        select(Region).options(selectinload(Region.municipalities)).order_by(Region.code)
    ).all()
    pools: dict[int, list[dict[str, Any]]] = {}
    for region_id, provider_id, name in session.execute(
        select(ProviderRegion.region_id, Provider.id, Provider.name)
        .join(Provider, Provider.id == ProviderRegion.provider_id)
        .where(ProviderRegion.in_pool.is_(True))
        .order_by(Provider.name)
    ):
        pools.setdefault(region_id, []).append({"id": provider_id, "name": name})
    return [
        {
            "code": r.code,
            "name": r.name,
            "meldpunt_number": r.meldpunt_number,
            "municipalities": [{"code": m.code, "name": m.name} for m in r.municipalities],
            "pool": pools.get(r.id, []),
        }
        for r in regions
    ]
