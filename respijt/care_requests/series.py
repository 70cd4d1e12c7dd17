"""Series requests: each stay matched and held on its own, preferring one location."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime

from sqlalchemy import select

from respijt.care_requests.common import ensure_open
from respijt.care_requests.matching import Criteria, criteria_for, find_matches
from respijt.care_requests.offers import offer_bed
from respijt.database import DbSession
from respijt.errors import InvalidInput, NoBedFree
from respijt.models import (
    CareRequest,
    CareRequestStay,
    Location,
    Reservation,
    Unit,
)
from respijt.people.caller import Caller
from respijt.reservations.workflow import AWAITING_PROVIDER, HELD


@dataclass
class SeriesResult:
    held: list[Reservation]
    unplaced: list[CareRequestStay]


def hold_series(
    session: DbSession,
    care_request: CareRequest,
    *,
    caller: Caller,
    now: datetime,
    today: date,
    stale_after_hours: int,
    hold_minutes: float,
    provider_confirm_hours: float,
) -> SeriesResult:
    """Match and hold each open stay on its own, preferring the location of the stays already
    held or placed; stays that fit nowhere are marked unplaced and reported."""
    if not care_request.is_series:
        raise InvalidInput("Deze aanvraag is geen reeks.")
    ensure_open(care_request)
    held: list[Reservation] = []
    unplaced: list[CareRequestStay] = []
    preferred_locations: list[int] = [
        location_id
        for location_id in session.scalars(
            select(Location.id)
            .join(Unit, Unit.location_id == Location.id)
            .join(Reservation, Reservation.unit_id == Unit.id)
            .where(
                Reservation.request_id == care_request.id,
                Reservation.status.in_((HELD, AWAITING_PROVIDER, "confirmed")),
            )
        )
    ]
    for stay in care_request.stays:
        if stay.status not in ("open", "unplaced") or stay.arrival < today:
            continue
        criteria = criteria_for(
            session, care_request, arrival=stay.arrival, departure=stay.departure
        )
        # A series keeps its dates: each stay is matched on its own exact dates.
        criteria = _exact(criteria)
        matches = find_matches(
            session, criteria, now=now, today=today, stale_after_hours=stale_after_hours
        )
        matches.sort(key=lambda m: m.location["id"] not in preferred_locations)
        reservation = None
        for match in matches:
            try:
                reservation, _ = offer_bed(
                    session,
                    care_request,
                    unit_id=match.unit_id,
                    arrival=stay.arrival,
                    departure=stay.departure,
                    caller=caller,
                    now=now,
                    today=today,
                    hold_minutes=hold_minutes,
                    provider_confirm_hours=provider_confirm_hours,
                    record_choice=False,
                )
            except NoBedFree:
                continue
            break
        if reservation is None:
            stay.status = "unplaced"
            unplaced.append(stay)
            continue
        held.append(reservation)
        if match.location["id"] not in preferred_locations:
            preferred_locations.append(match.location["id"])
    session.flush()
    return SeriesResult(held, unplaced)


def _exact(criteria: Criteria) -> Criteria:
    return replace(criteria, flexibility_days=0)
