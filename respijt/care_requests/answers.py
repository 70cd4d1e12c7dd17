"""The answer to an offer: accept it or decline it, one function each, called by every face.

An offer is a reservation held for a care request. Accepting it confirms the held bed (or sends
it on to the provider for units that need the provider's yes); declining it frees the bed and
the request goes back to the search. The reservation's step queues its notices and lets the
care request follow; the request is then read again, so the face answers with its new status.

The caller is whoever may answer for the requester: the requester through the signed link, the
verwijzer, or the meldpunt. Who may see the request is checked before (`access.get_request`).
"""

from __future__ import annotations

from datetime import datetime

from respijt.care_requests.access import get_offer
from respijt.database import DbSession
from respijt.errors import InvalidTransition
from respijt.models import CareRequest, Reservation
from respijt.people.caller import Caller
from respijt.reservations import steps, workflow

DECLINED_BY_REQUESTER = "Aanbod afgeslagen door de aanvrager"
NOT_AN_OFFER = (
    "Dit logeren is al geregeld; afslaan kan niet meer. Gebruik 'Verblijf annuleren' om het "
    "te annuleren."
)


def accept_offer(
    session: DbSession,
    care_request: CareRequest,
    reservation_id: int,
    *,
    caller: Caller,
    now: datetime,
    provider_confirm_hours: float,
) -> Reservation:
    """Accept the offer `reservation_id` of this request: held → confirmed or awaiting_provider."""
    reservation = get_offer(session, care_request, reservation_id)
    workflow.ensure_may(caller.role, workflow.RESERVATION_CONFIRM_HOLD)
    steps.confirm_by_requester(
        session, reservation, caller=caller, now=now, provider_confirm_hours=provider_confirm_hours
    )
    session.refresh(care_request)
    return reservation


def decline_offer(
    session: DbSession,
    care_request: CareRequest,
    reservation_id: int,
    *,
    caller: Caller,
    now: datetime,
    reason: str | None = None,
) -> Reservation:
    """Decline the offer `reservation_id` of this request: the bed is freed, the search goes on.
    Only an offer still held or awaiting the provider; a confirmed stay is cancelled instead
    (`stays.cancel_stay`, with the family's cancel deadline)."""
    reservation = get_offer(session, care_request, reservation_id)
    if reservation.status not in workflow.EXPIRING_RESERVATION_STATUSES:
        raise InvalidTransition(NOT_AN_OFFER)
    workflow.ensure_may(caller.role, workflow.reservation_action("cancel", reservation.status))
    steps.cancel(
        session,
        reservation,
        party="requester",
        caller=caller,
        now=now,
        reason=reason or DECLINED_BY_REQUESTER,
    )
    session.refresh(care_request)
    return reservation
