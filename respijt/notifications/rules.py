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
from respijt.database import DbSession
from respijt.models import Location, Provider, Reservation, ReservationEvent, Unit
from respijt.notifications import outbox
from respijt.workflow import (
    AWAITING_PROVIDER,
    CANCELLED,
    CHECKED_IN,
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
    """The contact mobile of whoever asked for this stay, when one is known.

    Reservations do not carry contact details; the care request does (contact.mobile). Until
    care requests exist nobody is known, so requester messages are simply not queued. The
    request issue makes this return the request's contact mobile.
    """
    return None


# --- reservations ---------------------------------------------------------------------------


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
            now=now,
        ):
            queued += 1
    return queued


def request_changed(
    session: DbSession, care_request: Any, *, previous: str | None, now: datetime
) -> None:
    """A care request entered `care_request.status` (from `previous`, None when created)."""


def waitlist_offer_made(
    session: DbSession, care_request: Any, reservation: Any, *, now: datetime
) -> None:
    """The waitlist job held a bed for a waiting request: tell the requester (signed link)."""


def request_needs_attention(session: DbSession, care_request: Any, *, now: datetime) -> None:
    """An urgent request has no fit: alert the meldpunt on duty in its region at once."""
