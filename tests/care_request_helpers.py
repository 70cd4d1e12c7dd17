"""Shared helpers for the care-request tests: a fixed clock, request bodies, domain shortcuts."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from respijt import clock
from respijt.care_requests import intake
from respijt.models import CareRequest, Municipality, Unit
from respijt.people.caller import Caller
from respijt.reservations import holds

# A Monday morning (10:00 in Amsterdam), so weekdays in tests are predictable.
START = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
STAFF = Caller(key="token:staff", role="coordinator")


def freeze_start() -> date:
    clock.freeze(START)
    return clock.today()


def body(municipality: Municipality | str, arrival: date, departure: date, **over: Any) -> dict:
    data: dict[str, Any] = {
        "requester": "mantelzorger",
        "client": {"first_name": "Jan", "birth_year": 1941},
        "municipality": municipality if isinstance(municipality, str) else municipality.code,
        "target_group": "ouderen",
        "care_level": "basic",
        "wheelchair": False,
        "arrival": arrival,
        "departure": departure,
        "flexibility_days": 0,
        "urgency": "planned",
        "reason": "vakantie",
        "funding": "wmo",
        "contact": {"name": "Marja", "mobile": "06 12345678"},
        "consent": True,
    }
    data.update(over)
    return data


def json_body(*args: Any, **kw: Any) -> dict:
    data = body(*args, **kw)
    for key in ("arrival", "departure"):
        data[key] = data[key].isoformat()
    return data


def create(session: Any, data: dict, caller: Caller = STAFF) -> CareRequest:
    care_request = intake.create_request(
        session,
        data,
        caller=caller,
        channel="api",
        now=clock.now(),
        today=clock.today(),
        stale_after_hours=72,
    )
    session.commit()
    return care_request


def occupy(session: Any, unit: Unit, arrival: date, departure: date) -> Any:
    """A confirmed reservation that takes one bed on each night."""
    reservation, _ = holds.place_hold(
        session,
        unit_id=unit.id,
        arrival=arrival,
        departure=departure,
        caller=STAFF,
        now=clock.now(),
        today=clock.today(),
        hold_minutes=15,
        provider_confirm_hours=24,
        confirm=True,
    )
    session.commit()
    return reservation


def later(**delta: Any) -> None:
    clock.freeze(clock.now() + timedelta(**delta))
