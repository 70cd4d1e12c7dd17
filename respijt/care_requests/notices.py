"""The SMS a care request's changes send, and to whom: received (with the signed link), back
on the waitlist, expired, closed; the offer of a held bed and its withdrawal; the alert to the
meldpunt on duty for an urgent request without a fit; the link sent again.

Called inside the change's transaction (`status.set_status`, `status.follow_reservation`,
intake and the waitlist); each message goes into the outbox in that same transaction, so a
rolled-back change sends nothing. Contexts hold only the reference, the stay's place and dates
and the signed link (made when the message is sent, never stored: `status_link`): never a
client's name or care needs.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from respijt.care_requests import no_mobile, status_link
from respijt.care_requests.workflow import (
    REQUEST_EXPIRED,
    REQUEST_NEW,
    REQUEST_NO_FIT,
    REQUEST_OFFERED,
    REQUEST_WAITLISTED,
)
from respijt.database import DbSession
from respijt.meldpunt import alerts
from respijt.messages import outbox
from respijt.messages.send_time_link import SendTimeLink
from respijt.models import CareRequest, Reservation
from respijt.reservations import notices as reservation_notices
from respijt.reservations.notices import reservation_context, stays_in_words
from respijt.reservations.workflow import HELD

# --- the request's status ----------------------------------------------------------------

# Which request statuses the requester hears about (and from which previous status).
_REQUEST_TEMPLATES: dict[str, str] = {
    REQUEST_NEW: "request_received",
    REQUEST_WAITLISTED: "request_waitlisted",
    REQUEST_EXPIRED: "request_expired",
    REQUEST_NO_FIT: "request_closed",
}


def _request_link(care_request: CareRequest) -> SendTimeLink | None:
    """The signed status link in every SMS to the family, whoever made the request (the public
    form, the meldpunt on the phone, a verwijzer): none when the verwijzer said the family is
    not to be contacted, as the messages then go to the verwijzer, who follows the request
    with their account."""
    if not care_request.contact_family:
        return None
    return status_link.send_time_link(care_request.reference)


def _tell_family(
    session: DbSession,
    care_request: Any,
    *,
    template: str,
    context: dict[str, Any],
    dedupe_key: str,
    urgent: bool,
    region_id: int | None,
    now: datetime,
) -> None:
    """An SMS to the family's mobile; without one, an e-mail or a call-back task
    (`no_mobile`): never dropped."""
    if not care_request.contact_mobile:
        no_mobile.tell(
            session,
            care_request,
            template=template,
            context=context,
            dedupe_key=dedupe_key,
            now=now,
        )
        return
    outbox.queue(
        session,
        recipient=care_request.contact_mobile,
        template=template,
        context=context,
        dedupe_key=dedupe_key,
        urgent=urgent,
        region_id=region_id,
        now=now,
    )


def _without_mobile(
    session: DbSession,
    reservation: Any,
    *,
    template: str,
    context: dict[str, Any],
    dedupe_key: str,
    now: datetime,
) -> None:
    """A reservation message for the requester of a care request without a mobile."""
    if reservation.request_id is None:
        return
    care_request = session.get(CareRequest, reservation.request_id)
    if care_request is None or care_request.contact_mobile or care_request.anonymised_at:
        return
    no_mobile.tell(
        session,
        care_request,
        template=template,
        context=context,
        dedupe_key=dedupe_key,
        now=now,
    )


def _reservation_link(session: DbSession, reservation: Any) -> SendTimeLink | None:
    if reservation.request_id is None:
        return None
    care_request = session.get(CareRequest, reservation.request_id)
    return _request_link(care_request) if care_request is not None else None


# Every reservation message to the requester of a care request carries the link too.
reservation_notices.requester_link = _reservation_link
reservation_notices.requester_without_mobile = _without_mobile


def request_changed(
    session: DbSession, care_request: Any, *, previous: str | None, now: datetime
) -> None:
    """A care request entered `care_request.status` (from `previous`, None when created).

    The requester hears: received (with the signed link), back on the waitlist after an offer
    lapsed, expired, closed by the meldpunt. The first wait on the waitlist is no news: the
    "received" message already says they will hear when there is an offer. Offers and
    placements come with their reservation's own messages.
    """
    status = care_request.status
    template = _REQUEST_TEMPLATES.get(status)
    if template is None or (status == REQUEST_NEW and previous is not None):
        return
    if status == REQUEST_WAITLISTED and previous != REQUEST_OFFERED:
        return
    context: dict[str, Any] = {"reference": care_request.reference}
    context["link"] = _request_link(care_request)
    _tell_family(
        session,
        care_request,
        template=template,
        context=context,
        dedupe_key=f"request:{care_request.id}:{status}:{now.isoformat()}"
        if status == REQUEST_WAITLISTED
        else f"request:{care_request.id}:{status}",
        # Someone who just asked waits for the reference and link: quiet hours do not apply.
        urgent=status == REQUEST_NEW,
        region_id=care_request.region_id,
        now=now,
    )


def waitlist_offer_made(
    session: DbSession, care_request: Any, reservation: Any, *, now: datetime
) -> None:
    """The waitlist job held a bed for a waiting request: tell the requester (signed link).

    Any hold for a request is an offer, so `reservation_changed` queues the same message (same
    dedupe key) when the hold is placed; this call makes sure of it for the waitlist.
    """
    queue_offer(session, care_request, reservation, now=now)


def _offer_key(request_id: int, reservation_id: int) -> str:
    return f"request:{request_id}:offer:{reservation_id}"


def _series_offer_key(request_id: int, now: datetime, count: int) -> str:
    return f"request:{request_id}:series-offer:{now.isoformat()}:{count}"


def queue_series_offer(session: DbSession, care_request: Any, *, now: datetime) -> None:
    """The offers of a series arrive in one SMS: every stay held for the request now, answered
    together with one JA or NEE (`replies`), or one by one through the link.

    Each hold of a series run (one transaction, one `now`) queues the message again with the
    stays held so far and withdraws the one before it, so one message with all of them goes
    out (the withdrawn rows stay as `skipped`, "superseded")."""
    held = list(
        session.scalars(
            select(Reservation)
            .where(Reservation.request_id == care_request.id, Reservation.status == HELD)
            .order_by(Reservation.arrival, Reservation.id)
        )
    )
    if not held:
        return
    deadlines = [r.expires_at for r in held if r.expires_at is not None]
    context: dict[str, Any] = {
        "reference": care_request.reference,
        "count": len(held),
        "stays_text": stays_in_words(held),
        "deadline": min(deadlines).isoformat() if deadlines else None,
        "link": _request_link(care_request),
    }
    outbox.skip_if_pending(
        session,
        _series_offer_key(care_request.id, now, len(held) - 1),
        "Niet verstuurd: vervangen door het bericht met alle verblijven van de reeks.",
    )
    outbox.queue(
        session,
        recipient=care_request.contact_mobile,
        template="request_series_offer",
        context=context,
        dedupe_key=_series_offer_key(care_request.id, now, len(held)),
        urgent=care_request.urgency == "urgent",
        region_id=care_request.region_id,
        now=now,
    )


def queue_offer(session: DbSession, care_request: Any, reservation: Any, *, now: datetime) -> None:
    """The requester may accept or decline the held bed: where, when, until when, and how.
    For a series, one message names every held stay (`queue_series_offer`)."""
    if care_request.is_series:
        queue_series_offer(session, care_request, now=now)
        return
    context = reservation_context(reservation)
    context["reference"] = care_request.reference
    context["deadline"] = reservation.expires_at.isoformat() if reservation.expires_at else None
    context["link"] = _request_link(care_request)
    _tell_family(
        session,
        care_request,
        template="request_offer",
        context=context,
        dedupe_key=_offer_key(care_request.id, reservation.id),
        urgent=care_request.urgency == "urgent",
        region_id=care_request.region_id,
        now=now,
    )


def reservation_changed(
    session: DbSession,
    care_request: CareRequest | None,
    reservation: Any,
    *,
    previous: str | None,
    now: datetime,
) -> None:
    """A reservation made for `care_request` entered its status: a new hold is an offer the
    requester answers (signed link); an offer taken, cancelled or lapsed before it went out is
    withdrawn from the outbox."""
    if reservation.status == HELD:
        if care_request is not None:
            queue_offer(session, care_request, reservation, now=now)
    elif previous == HELD:
        # Taken, cancelled or lapsed before the offer went out (say, in the quiet hours, or
        # confirmed at once by the meldpunt on the phone): it is no news any more.
        outbox.skip_if_pending(
            session,
            _offer_key(reservation.request_id, reservation.id),
            "Niet verstuurd: het aanbod was al afgehandeld.",
        )


def request_needs_attention(session: DbSession, care_request: Any, *, now: datetime) -> None:
    """An urgent request has no fit: alert the meldpunt on duty in its region at once (by the
    rule of `meldpunt.alerts`: duty mobile, backup, coordinator, e-mail, or visibly nowhere)."""
    if care_request.region_id is None:
        return
    flagged = (care_request.attention_at or now).isoformat()
    alerts.send_alert(
        session,
        region_id=care_request.region_id,
        template="request_attention",
        context={
            "reference": care_request.reference,
            "arrival": care_request.arrival.isoformat(),
        },
        key=f"request:{care_request.id}:attention:{flagged}",
        now=now,
    )


# --- the requester's link -------------------------------------------------------------------


def request_link_again(session: DbSession, care_request: Any, *, now: datetime) -> bool:
    """The requester asked for their link again (and waits for it): at most one SMS per
    request per hour. The SMS link (opening it proves the phone, as the first SMS does),
    made when the SMS is sent."""
    return outbox.queue(
        session,
        recipient=care_request.contact_mobile,
        template="request_link",
        context={
            "reference": care_request.reference,
            "link": status_link.send_time_link(care_request.reference),
        },
        dedupe_key=f"request-link:{care_request.reference}:{now:%Y%m%d%H}",
        urgent=True,
        region_id=care_request.region_id,
        now=now,
    )
