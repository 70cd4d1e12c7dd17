"""Helpers for the scheduler and outbox tests: a provider that reads SMS, holds in the past."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from respijt import clock
from respijt.models import Reservation, Unit
from respijt.people.caller import Caller
from respijt.reservations import holds as booking

MELDPUNT = Caller(key="token:990", role="meldpunt", provider_id=None)
PROVIDER = Caller(key="token:991", role="provider", provider_id=None)
STAFF_MOBILE = "+31612345678"


def sms_unit(make: Any, *, capacity: int = 2, confirm: bool = True, name: str = "De Linde") -> Unit:
    """A unit whose provider registered a staff mobile, so provider messages have a recipient."""
    provider = make.provider(staff_mobiles=["06 12345678"])
    location = make.location(provider=provider, name=name)
    return make.unit(  # type: ignore[no-any-return]
        location=location, capacity=capacity, requires_provider_confirmation=confirm
    )


def hold(
    session: Any,
    unit: Unit,
    *,
    arrival: date | None = None,
    nights: int = 3,
    now: datetime | None = None,
    confirm: bool = False,
) -> Reservation:
    """Place (and optionally confirm) a hold at `now`; flushes, the caller commits."""
    at = now or clock.now()
    start = arrival or at.astimezone(clock.LOCAL_TZ).date() + timedelta(days=7)
    reservation, _ = booking.place_hold(
        session,
        unit_id=unit.id,
        arrival=start,
        departure=start + timedelta(days=nights),
        caller=MELDPUNT,
        now=at,
        today=at.astimezone(clock.LOCAL_TZ).date(),
        hold_minutes=15,
        provider_confirm_hours=24,
        confirm=confirm,
    )
    return reservation
