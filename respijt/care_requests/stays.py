"""A placed stay as the family follows it: where to go, when, what to bring, whom to call;
and the family's own cancellation of a confirmed stay until a set moment before arrival.

The cancellation goes through `reservations.steps.cancel` (party "requester"), which records
the reason and announces the change, so the provider is told by SMS (reservations/notices.py)
and the request follows the reservation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from respijt import clock
from respijt.care_requests.access import get_offer
from respijt.care_requests.common import problem
from respijt.care_requests.offers import offers_of
from respijt.database import DbSession
from respijt.errors import InvalidInput, InvalidTransition
from respijt.models import CareRequest, Reservation
from respijt.people.caller import Caller
from respijt.reservations import steps, workflow
from respijt.reservations.workflow import CONFIRMED

# The same list for every stay: the provider phones about anything else.
WHAT_TO_BRING = (
    "medicijnen voor alle dagen, met de medicijnlijst van de apotheek",
    "kleding, nachtkleding en toiletspullen",
    "hulpmiddelen, zoals rollator, rolstoel of gehoorapparaat",
    "identiteitsbewijs en zorgpas",
)


def cancel_deadline(arrival: date, cancel_hours: int) -> datetime:
    """The last moment the family may cancel a confirmed stay online: `cancel_hours` before
    the start (00:00 Europe/Amsterdam) of the arrival day."""
    return clock.local_midnight_utc(arrival) - timedelta(hours=cancel_hours)


@dataclass(frozen=True)
class PlacedStay:
    reservation: Reservation
    location_name: str
    address: str
    municipality: str
    arrival: date
    departure: date
    arrival_time: str | None
    phone: str | None
    cancel_until: datetime
    may_cancel: bool


def placed_stays(
    session: DbSession, care_request: CareRequest, *, now: datetime, cancel_hours: int
) -> list[PlacedStay]:
    """The request's confirmed stays with what the family needs to know to go there."""
    stays = []
    for reservation in offers_of(session, care_request):
        if reservation.status != CONFIRMED:
            continue
        location = reservation.unit.location
        until = cancel_deadline(reservation.arrival, cancel_hours)
        stays.append(
            PlacedStay(
                reservation=reservation,
                location_name=location.name,
                address=f"{location.address}, {location.postcode}",
                municipality=location.municipality.name,
                arrival=reservation.arrival,
                departure=reservation.departure,
                arrival_time=reservation.expected_arrival_time,
                phone=location.contact_mobile or location.provider.duty_phone,
                cancel_until=until,
                may_cancel=now < until,
            )
        )
    return stays


def cancel_stay(
    session: DbSession,
    care_request: CareRequest,
    reservation_id: int,
    *,
    caller: Caller,
    now: datetime,
    reason: str | None,
    cancel_hours: int,
) -> Reservation:
    """The requester cancels a confirmed stay of this request, with a reason, until
    `cancel_deadline`; the provider hears by SMS."""
    reservation = get_offer(session, care_request, reservation_id)
    if reservation.status != CONFIRMED:
        raise InvalidTransition("Alleen een bevestigd verblijf kunt u hier annuleren.")
    workflow.ensure_may(caller.role, workflow.RESERVATION_CANCEL_STAY)
    if not (reason and reason.strip()):
        raise InvalidInput(
            "Geef een reden voor het annuleren.",
            [problem("reason", "required", "Schrijf kort waarom het logeren niet doorgaat.")],
        )
    if now >= cancel_deadline(reservation.arrival, cancel_hours):
        raise InvalidTransition(
            "Annuleren via de website kan niet meer zo kort voor de aankomst. Bel de logeerlocatie."
        )
    steps.cancel(
        session, reservation, party="requester", caller=caller, now=now, reason=reason.strip()
    )
    session.refresh(care_request)
    return reservation
