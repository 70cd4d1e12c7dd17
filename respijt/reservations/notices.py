"""Notification rules: which message a domain change causes, and to whom.

Domain modules call these hooks inside their transaction; each queues its messages in the outbox
in that same transaction (DESIGN invariant 7), so a rolled-back change sends nothing. Rules
decide *what* to tell *whom*; the outbox and its backend decide *how*.

Contexts hold only non-personal values (short code, location name, dates): never a client's
name or care needs. Dedupe keys name the reservation and the status it entered, which the state
machine enters at most once, so a rule that runs twice queues one message.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select

from respijt import clock
from respijt.care_requests import status_link as links
from respijt.care_requests.workflow import (
    REQUEST_EXPIRED,
    REQUEST_NEW,
    REQUEST_NO_FIT,
    REQUEST_OFFERED,
    REQUEST_WAITLISTED,
)
from respijt.database import DbSession
from respijt.meldpunt import duty
from respijt.messages import outbox
from respijt.models import CareRequest, Location, Provider, Reservation, ReservationEvent, Unit
from respijt.reservations import satisfaction
from respijt.reservations.workflow import (
    AWAITING_PROVIDER,
    CANCELLED,
    CHECKED_IN,
    COMPLETED,
    CONFIRMED,
    DECLINED,
    EXPIRED,
    HELD,
)

# --- recipients -----------------------------------------------------------------------------


def provider_recipient(location: Location) -> str | None:
    """Where the provider reads reservation SMS: the first registered staff mobile (its
    replies can act on the reservation), else the location's contact mobile, else the duty
    phone."""
    provider: Provider = location.provider
    if provider.staff_mobiles:
        return provider.staff_mobiles[0]
    return location.contact_mobile or provider.duty_phone


def requester_recipient(session: DbSession, reservation: Reservation) -> str | None:
    """The contact mobile of the care request this stay is for; None for a reservation made
    without a request (nobody to tell)."""
    if reservation.request_id is None:
        return None
    care_request = session.get(CareRequest, reservation.request_id)
    return care_request.contact_mobile if care_request is not None else None


def duty_recipient(provider: Provider) -> str | None:
    """Where the meldpunt on duty reads alerts: its duty phone when that takes SMS (a mobile),
    else the first registered staff mobile."""
    if outbox.sms_number(provider.duty_phone):
        return provider.duty_phone
    return provider.staff_mobiles[0] if provider.staff_mobiles else None


# --- reservations ---------------------------------------------------------------------------


def _region_of(reservation: Reservation) -> int | None:
    """A reservation's message belongs to the region of the stay's location."""
    return reservation.unit.location.municipality.region_id


def _context(reservation: Reservation) -> dict[str, Any]:
    location = reservation.unit.location
    return {
        "code": reservation.short_code,
        "location": location.name,
        "arrival": reservation.arrival.isoformat(),
        "departure": reservation.departure.isoformat(),
        "nights": reservation.nights,
    }


def _status_entered_from(session: DbSession, reservation: Reservation) -> str | None:
    """The status the reservation left on its latest change (read from its history)."""
    return session.scalar(
        select(ReservationEvent.from_status)
        .where(
            ReservationEvent.reservation_id == reservation.id,
            ReservationEvent.to_status == reservation.status,
        )
        .order_by(ReservationEvent.id.desc())
        .limit(1)
    )


def _messages_for(
    session: DbSession, reservation: Reservation, previous: str | None
) -> Iterator[tuple[str, str]]:
    """(party, template) pairs for a reservation that just entered its status."""
    status = reservation.status
    if status == AWAITING_PROVIDER:
        yield "provider", "reservation_confirm_request"
    elif status == CONFIRMED:
        yield "requester", "reservation_confirmed"
        if previous == HELD:  # confirmed without the provider's yes: tell them it is coming
            yield "provider", "reservation_new"
    elif status == DECLINED:
        yield "requester", "reservation_declined"
    elif status == CANCELLED and previous != HELD:
        # A plain hold was never announced; cancelling it concerns nobody else.
        yield "provider", "reservation_cancelled"
        yield "requester", "reservation_cancelled"
    elif status == EXPIRED and previous == AWAITING_PROVIDER:
        yield "provider", "reservation_expired_provider"
        yield "requester", "reservation_expired"


def _recipient(session: DbSession, reservation: Reservation, party: str) -> str | None:
    if party == "provider":
        return provider_recipient(reservation.unit.location)
    return requester_recipient(session, reservation)


def reservation_changed(
    session: DbSession, reservation: Any, *, previous: str | None, now: datetime
) -> None:
    """A reservation entered `reservation.status` (from `previous`, None when created).

    The expiry sweep passes previous=None; the history row it appended tells where it came from.
    """
    if reservation.status == EXPIRED and previous is None:
        previous = _status_entered_from(session, reservation)
    if reservation.request_id is not None:
        if reservation.status == HELD:
            # A hold for a care request is an offer the requester answers (signed link).
            care_request = session.get(CareRequest, reservation.request_id)
            if care_request is not None:
                queue_offer(session, care_request, reservation, now=now)
        elif previous == HELD:
            # Taken, cancelled or lapsed before the offer went out (say, in the quiet hours,
            # or confirmed at once by the meldpunt on the phone): it is no news any more.
            outbox.skip_if_pending(
                session,
                _offer_key(reservation.request_id, reservation.id),
                "Niet verstuurd: het aanbod was al afgehandeld.",
            )
    if reservation.status == COMPLETED:
        # Checked out: the one question about the stay (never after a no-show or cancellation).
        satisfaction.ask_after_departure(
            session,
            reservation,
            recipient=requester_recipient(session, reservation),
            now=now,
        )
    context: dict[str, Any] | None = None
    for party, template in _messages_for(session, reservation, previous):
        recipient = _recipient(session, reservation, party)
        if not recipient:
            continue
        if context is None:
            context = _context(reservation)
        message_context = dict(context)
        if template == "reservation_confirm_request" and reservation.expires_at is not None:
            message_context["deadline"] = reservation.expires_at.isoformat()
        outbox.queue(
            session,
            recipient=recipient,
            template=template,
            context=message_context,
            dedupe_key=f"reservation:{reservation.id}:{reservation.status}:{party}",
            urgent=template == "reservation_confirm_request",
            region_id=_region_of(reservation),
            now=now,
        )


def reservation_dates_changed(session: DbSession, reservation: Any, *, now: datetime) -> None:
    """The stay of a reservation moved, grew or shrank: tell both sides the new dates."""
    if reservation.status not in (AWAITING_PROVIDER, CONFIRMED, CHECKED_IN):
        return  # a plain hold is the requester's own screen, not news for anyone
    context = _context(reservation)
    for party in ("provider", "requester"):
        recipient = _recipient(session, reservation, party)
        if not recipient:
            continue
        outbox.queue(
            session,
            recipient=recipient,
            template="reservation_dates_changed",
            context=context,
            dedupe_key=(
                f"reservation:{reservation.id}:dates:{reservation.arrival.isoformat()}:"
                f"{reservation.departure.isoformat()}:{now.isoformat()}:{party}"
            ),
            region_id=_region_of(reservation),
            now=now,
        )


# --- locations ------------------------------------------------------------------------------


def remind_stale_locations(session: DbSession, *, now: datetime, stale_after_hours: int) -> int:
    """Queue one reminder per stale location per local day; returns how many were queued.

    Stale: figures not confirmed for `stale_after_hours` (or never), with at least one unit in
    use. Idempotent per day through the dedupe key, so a second run the same day adds nothing.
    """
    cutoff = now - timedelta(hours=stale_after_hours)
    local_day = now.astimezone(clock.LOCAL_TZ).date().isoformat()
    in_use = select(Unit.id).where(Unit.location_id == Location.id, Unit.retired_at.is_(None))
    locations = session.scalars(
        select(Location)
        .where(
            or_(Location.last_confirmed_at.is_(None), Location.last_confirmed_at < cutoff),
            in_use.exists(),
        )
        .order_by(Location.id)
    )
    queued = 0
    for location in locations:
        recipient = location.contact_mobile or provider_recipient(location)
        if not recipient:
            continue
        last = location.last_confirmed_at
        if outbox.queue(
            session,
            recipient=recipient,
            template="location_stale_reminder",
            context={
                "location": location.name,
                "last_confirmed": last.astimezone(clock.LOCAL_TZ).date().isoformat()
                if last
                else None,
            },
            dedupe_key=f"stale-location:{location.id}:{local_day}",
            region_id=location.municipality.region_id,
            now=now,
        ):
            queued += 1
    return queued


def remind_arrivals_tomorrow(session: DbSession, *, now: datetime) -> int:
    """Queue the reminder the day before arrival for every confirmed stay arriving tomorrow
    (local date); once per reservation and arrival date, so reruns and date moves are safe."""
    tomorrow = now.astimezone(clock.LOCAL_TZ).date() + timedelta(days=1)
    reservations = session.scalars(
        select(Reservation)
        .where(Reservation.status == CONFIRMED, Reservation.arrival == tomorrow)
        .order_by(Reservation.id)
    )
    queued = 0
    for reservation in reservations:
        recipient = requester_recipient(session, reservation)
        if not recipient:
            continue
        queued += outbox.queue(
            session,
            recipient=recipient,
            template="reservation_reminder",
            context=_context(reservation),
            dedupe_key=f"reservation:{reservation.id}:reminder:{reservation.arrival.isoformat()}",
            region_id=_region_of(reservation),
            now=now,
        )
    return queued


# --- care requests --------------------------------------------------------------------------

# Which request statuses the requester hears about (and from which previous status).
_REQUEST_TEMPLATES: dict[str, str] = {
    REQUEST_NEW: "request_received",
    REQUEST_WAITLISTED: "request_waitlisted",
    REQUEST_EXPIRED: "request_expired",
    REQUEST_NO_FIT: "request_closed",
}


def _request_link(care_request: CareRequest) -> str | None:
    """The signed status link, for requests made through the public form (whoever made a
    request with an account follows it there)."""
    if care_request.caller_role != "public":
        return None
    return links.request_status_link(care_request.reference)


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
    if status == REQUEST_NEW:
        context["link"] = _request_link(care_request)
    outbox.queue(
        session,
        recipient=care_request.contact_mobile,
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
    dedupe key) when the hold is placed; this hook makes sure of it for the waitlist.
    """
    queue_offer(session, care_request, reservation, now=now)


def _offer_key(request_id: int, reservation_id: int) -> str:
    return f"request:{request_id}:offer:{reservation_id}"


def queue_offer(session: DbSession, care_request: Any, reservation: Any, *, now: datetime) -> None:
    """The requester may accept or decline the held bed: where, when, until when, and how."""
    context = _context(reservation)
    context["reference"] = care_request.reference
    context["deadline"] = reservation.expires_at.isoformat() if reservation.expires_at else None
    context["link"] = _request_link(care_request)
    outbox.queue(
        session,
        recipient=care_request.contact_mobile,
        template="request_offer",
        context=context,
        dedupe_key=_offer_key(care_request.id, reservation.id),
        urgent=care_request.urgency == "urgent",
        region_id=care_request.region_id,
        now=now,
    )


def request_needs_attention(session: DbSession, care_request: Any, *, now: datetime) -> None:
    """An urgent request has no fit: alert the meldpunt on duty in its region at once."""
    if care_request.region_id is None:
        return
    flagged = (care_request.attention_at or now).isoformat()
    for provider in duty.on_duty_providers(session, care_request.region_id, now):
        recipient = duty_recipient(provider)
        if not recipient:
            continue
        outbox.queue(
            session,
            recipient=recipient,
            template="request_attention",
            context={
                "reference": care_request.reference,
                "arrival": care_request.arrival.isoformat(),
            },
            dedupe_key=f"request:{care_request.id}:attention:{flagged}:{provider.id}",
            urgent=True,
            region_id=care_request.region_id,
            now=now,
        )


# --- the requester's link -------------------------------------------------------------------


def request_link_again(session: DbSession, care_request: Any, *, link: str, now: datetime) -> bool:
    """The requester asked for their link again (and waits for it): at most one SMS per
    request per hour."""
    return outbox.queue(
        session,
        recipient=care_request.contact_mobile,
        template="request_link",
        context={"reference": care_request.reference, "link": link},
        dedupe_key=f"request-link:{care_request.reference}:{now:%Y%m%d%H}",
        urgent=True,
        region_id=care_request.region_id,
        now=now,
    )
