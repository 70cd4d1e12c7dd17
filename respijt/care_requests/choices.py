"""The requester's (or the verwijzer's) own choice among the options shown: `choose_option`
holds the chosen bed at once through `offers.offer_bed`, the one way a bed is offered.

Decided (docs/family.md, "De familie kiest zelf"): choosing holds the bed for the request's
normal offer time; the choice is not yet the acceptance. The family then accepts the offer on
the same page (`answers.accept_offer`), and where the unit needs the provider's yes the stay
waits for it, as for any offer. One active offer per request (`offers.offer_bed` refuses a
second); a series is placed stay by stay by the meldpunt or the verwijzer, not chosen here.

Possession of the phone authorises the family: whoever holds only the token that the form or
the API handed back when the request was made may look, but cannot hold a bed before the link
of the SMS was opened once (`link_opened`). A verwijzer chooses for the requests they made.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select

from respijt.care_requests.common import problem
from respijt.care_requests.offers import offer_bed, prefer_option, preferred_option
from respijt.database import DbSession
from respijt.errors import Forbidden, InvalidInput, InvalidTransition
from respijt.models import CareRequest, RequestOption, Reservation, Unit
from respijt.people.caller import Caller
from respijt.reservations import workflow

LINK_NOT_OPENED = (
    "Open eerst de link in de sms die u van respijt kreeg. Daarna kunt u zelf een plek kiezen."
)


def link_opened(care_request: CareRequest, *, now: datetime) -> bool:
    """The SMS link of this request was opened: remember the first time. True when this was
    the first time."""
    if care_request.link_opened_at is not None:
        return False
    care_request.link_opened_at = now
    return True


def _shown_option(
    session: DbSession,
    care_request: CareRequest,
    unit_id: int,
    arrival: date | None,
    departure: date | None,
    *,
    caller: Caller,
) -> RequestOption:
    """The latest option shown to this caller for this unit (with these dates, when given),
    for the request's current dates: its nights, arriving within its flexibility. An option
    shown to someone else, or before the dates changed, does not count."""
    flex = timedelta(days=care_request.flexibility_days or 0)
    nights = care_request.departure - care_request.arrival
    query = select(RequestOption).where(
        RequestOption.request_id == care_request.id,
        RequestOption.unit_id == unit_id,
        RequestOption.shown_to == caller.key,
        RequestOption.arrival >= care_request.arrival - flex,
        RequestOption.arrival <= care_request.arrival + flex,
    )
    if arrival is not None:
        query = query.where(RequestOption.arrival == arrival)
    if departure is not None:
        query = query.where(RequestOption.departure == departure)
    option = next(
        (
            shown
            for shown in session.scalars(query.order_by(RequestOption.id.desc()).limit(20))
            if shown.departure - shown.arrival == nights
        ),
        None,
    )
    if option is None:
        raise InvalidInput(
            "Deze plek is niet als mogelijkheid getoond.",
            [problem("unit_id", "not_shown", "Kies een van de getoonde plekken.")],
        )
    return option


def prefer_shown_option(
    session: DbSession, care_request: CareRequest, *, unit_id: int, caller: Caller, now: datetime
) -> RequestOption:
    """The requester's preference: only an option shown to this same caller for the
    request's current dates (as for choosing), never one shown to someone else or before
    the dates changed."""
    _shown_option(session, care_request, unit_id, None, None, caller=caller)
    return prefer_option(session, care_request, unit_id=unit_id, now=now)


def choose_option(
    session: DbSession,
    care_request: CareRequest,
    *,
    unit_id: int,
    caller: Caller,
    now: datetime,
    today: date,
    hold_minutes: float,
    provider_confirm_hours: float,
    arrival: date | None = None,
    departure: date | None = None,
) -> Reservation:
    """The requester (signed link) or the verwijzer chooses one of the options shown: it
    becomes the preference and the bed is held at once for the request's offer time. The face
    logs the access (one row: the request's change), as for every step.

    Who may see the request is checked before (`access.get_request`). Raises Forbidden for a
    link whose SMS was never opened, InvalidTransition for a series or when an offer is
    already running, InvalidInput for an option never shown, NoBedFree when it went meanwhile.
    """
    workflow.ensure_may(caller.role, workflow.RESERVATION_HOLD)
    if caller.role == workflow.PUBLIC_ROLE and not caller.by_sms_link:
        raise Forbidden(LINK_NOT_OPENED)
    if care_request.is_series:
        raise InvalidTransition(
            "Voor een reeks kiest het meldpunt of de verwijzer een plek per verblijf."
        )
    option = _shown_option(session, care_request, unit_id, arrival, departure, caller=caller)
    prefer_option(session, care_request, unit_id=unit_id, now=now)
    reservation, _ = offer_bed(
        session,
        care_request,
        unit_id=unit_id,
        arrival=option.arrival,
        departure=option.departure,
        caller=caller,
        now=now,
        today=today,
        hold_minutes=hold_minutes,
        provider_confirm_hours=provider_confirm_hours,
    )
    return reservation


@dataclass(frozen=True)
class FamilyChoice:
    """What the requester (family or verwijzer) preferred or chose, for the meldpunt's page."""

    location_name: str
    unit_name: str
    arrival: date
    departure: date
    at: datetime
    by: str
    held: bool


def family_choice(session: DbSession, care_request: CareRequest) -> FamilyChoice | None:
    option = preferred_option(session, care_request.id)
    if option is None:
        return None
    unit = session.get_one(Unit, option.unit_id)
    # Only the requester prefers (WHO_MAY request.prefer): the family or the verwijzer.
    by = "de verwijzer" if care_request.caller_role == "verwijzer" else "de familie"
    return FamilyChoice(
        location_name=unit.location.name,
        unit_name=unit.name,
        arrival=option.arrival,
        departure=option.departure,
        at=option.preferred_at or option.shown_at,
        by=by,
        held=option.chosen_at is not None,
    )
