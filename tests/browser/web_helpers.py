"""Helpers for the web-page tests: a request with an offer, CSRF tokens from forms."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from respijt import clock
from respijt.care_requests import intake, offers
from respijt.models import CareRequest, Location, Unit
from respijt.people.caller import Caller

STAFF = Caller(key="token:web-staff", role="coordinator")


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html
    )
    assert match, "no CSRF token in the form"
    return match.group(1)


def request_with_offer(
    session: Any,
    mobile: str = "06 87654321",
    *,
    unit: Unit | None = None,
    caller: Caller = STAFF,
    client: str = "Jan",
    channel: str = "phone",
    hold: bool = True,
) -> tuple[CareRequest, Any]:
    """A care request and a held offer (a hold for it) at `unit`, by default the first unit
    without provider confirmation; `hold=False` leaves the request with its matches only (the
    reservation is then None). The caller commits."""
    unit = (
        unit
        or session.scalars(
            select(Unit)
            .where(Unit.requires_provider_confirmation.is_(False), Unit.retired_at.is_(None))
            .order_by(Unit.id)
        ).first()
    )
    assert unit is not None
    location = session.get(Location, unit.location_id)
    arrival = clock.today() + timedelta(days=10)
    while str(arrival.isoweekday()) not in unit.arrival_weekdays:
        arrival += timedelta(days=1)
    departure = arrival + timedelta(days=unit.min_nights)
    care_request = intake.create_request(
        session,
        {
            "client": {"first_name": client, "birth_year": 1940},
            "municipality": location.municipality.code,
            "target_group": unit.target_groups[0],
            "arrival": arrival,
            "departure": departure,
            "reason": "vakantie",
            "contact": {"name": "Marja", "mobile": mobile},
            "consent": True,
        },
        caller=caller,
        channel=channel,
        now=clock.now(),
        today=clock.today(),
        stale_after_hours=10_000,
    )
    if not hold:
        session.flush()
        return care_request, None
    reservation, _ = offers.offer_bed(
        session,
        care_request,
        unit_id=unit.id,
        arrival=arrival,
        departure=departure,
        caller=STAFF,
        now=clock.now(),
        today=clock.today(),
        hold_minutes=24 * 60,
        provider_confirm_hours=24,
    )
    session.flush()
    return care_request, reservation
