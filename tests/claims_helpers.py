"""Helpers for the claims, leegstand and KPI tests: a fixed clock, stays through the real
reservation functions, care requests written directly (their intake is tested elsewhere)."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from respijt import clock
from respijt.claims import ledger, months, tariffs
from respijt.models import CareRequest, Municipality, Reservation, Unit
from respijt.people.caller import Caller
from respijt.reservations import holds, steps

_refs = itertools.count(1)
STAFF = Caller(key="token:staff", role="coordinator")
PROVIDER = Caller(key="token:provider", role="provider")


def at(day: date, hour: int = 9) -> datetime:
    """A moment on `day`, Amsterdam-independent (UTC): 09:00 is 10:00 or 11:00 local."""
    return datetime.combine(day, time(hour), tzinfo=UTC)


def freeze(day: date, hour: int = 9) -> None:
    clock.freeze(at(day, hour))


def request(
    session: Any,
    municipality: Municipality,
    *,
    funding: str = "wmo",
    arrival: date = date(2027, 3, 18),
    departure: date = date(2027, 4, 8),
    status: str = "new",
    created_at: datetime | None = None,
    placed_at: datetime | None = None,
    target_group: str = "ouderen",
    contact_mobile: str = "+31612345678",
) -> CareRequest:
    created = created_at or clock.now()
    care_request = CareRequest(
        reference=f"R-T{next(_refs):06d}",
        channel="api",
        requester_type="verwijzer",
        caller="token:staff",
        caller_role="coordinator",
        client_name="J.",
        birth_year=1941,
        municipality_id=municipality.id,
        region_id=municipality.region_id,
        target_group=target_group,
        care_level="basic",
        wheelchair=False,
        arrival=arrival,
        departure=departure,
        flexibility_days=0,
        urgency="planned",
        reason="vakantie",
        funding=funding,
        contact_name="Marja",
        contact_mobile=contact_mobile,
        consent_at=created,
        status=status,
        created_at=created,
        updated_at=created,
        placed_at=placed_at,
    )
    session.add(care_request)
    session.commit()
    return care_request


def stay(
    session: Any,
    unit: Unit,
    arrival: date,
    departure: date,
    care_request: CareRequest | None = None,
    caller: Caller = STAFF,
) -> Reservation:
    """A confirmed reservation through the reservations room (the clock must be before arrival)."""
    reservation, _ = holds.place_hold(
        session,
        unit_id=unit.id,
        arrival=arrival,
        departure=departure,
        caller=caller,
        now=clock.now(),
        today=clock.today(),
        hold_minutes=15,
        provider_confirm_hours=24,
        confirm=True,
        request_id=care_request.id if care_request else None,
    )
    session.commit()
    return reservation


def check_in(session: Any, reservation: Reservation) -> None:
    freeze(reservation.arrival, 14)
    steps.check_in(session, reservation, caller=PROVIDER, now=clock.now(), today=clock.today())
    session.commit()


def check_out(session: Any, reservation: Reservation, on: date | None = None) -> None:
    freeze(on or reservation.departure, 10)
    steps.check_out(session, reservation, caller=PROVIDER, now=clock.now(), today=clock.today())
    session.commit()


def deliver(session: Any, reservation: Reservation, leave_on: date | None = None) -> None:
    check_in(session, reservation)
    check_out(session, reservation, leave_on)


def tariff(session: Any, municipality: Municipality, price: int, valid_from: date, **kw: Any):
    result = tariffs.add_tariff(
        session,
        municipality=municipality.code,
        funding=kw.get("funding", "wmo"),
        product_code=kw.get("product_code", "45A07"),
        price_cents=price,
        valid_from=valid_from,
        valid_to=kw.get("valid_to"),
        now=clock.now(),
    )
    session.commit()
    return result


def lines(session: Any, month: str, provider_id: int | None = None) -> list[ledger.LineView]:
    return ledger.month_lines(
        session, months.Month.parse(month), today=clock.today(), provider_id=provider_id
    )


def days(start: date, n: int) -> date:
    return start + timedelta(days=n)
