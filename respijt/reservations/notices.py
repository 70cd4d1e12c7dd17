"""The SMS a reservation's changes send, and to whom: provider and requester on each status
change, new dates, the reminder the day before arrival, the question after departure.

`reservations.changes.announce` calls `reservation_changed` inside the change's transaction; each
message goes into the outbox in that same transaction (DESIGN invariant 7), so a rolled-back
change sends nothing. These functions decide *what* to tell *whom*; the messages room decides
*how*. The care request's own notices (the offer with its signed link, the request's status) are
in `care_requests/notices.py`.

Contexts hold only non-personal values (short code, location name, dates): never a client's
name or care needs. Dedupe keys name the reservation and the status it entered, which the state
machine enters at most once, so a rule that runs twice queues one message.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from respijt import clock
from respijt.database import DbSession
from respijt.messages import outbox, send_time_link, texts
from respijt.models import CareRequest, CareRequestStay, Location, Provider, Reservation
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


def _no_link(session: DbSession, reservation: Any) -> send_time_link.SendTimeLink | None:
    return None


# The requester's signed link (made when the message is sent, never stored) for a reservation
# made for a care request: set by care_requests.notices, which knows who may have one; none
# without.
requester_link: Callable[[DbSession, Any], send_time_link.SendTimeLink | None] = _no_link


def _nobody(session: DbSession, reservation: Any, **message: Any) -> None:
    return None


# A requester without a mobile gets the message another way (e-mail or a call-back task): set
# by care_requests.notices; nothing without.
requester_without_mobile: Callable[..., None] = _nobody


def _party_context(
    session: DbSession, reservation: Any, party: str, context: dict[str, Any]
) -> dict[str, Any]:
    """A copy of `context`, with the requester's signed link for the requester (None for the
    provider, and where there is none: the templates say `{% if link %}`)."""
    message_context = dict(context)
    message_context["link"] = requester_link(session, reservation) if party == "requester" else None
    return message_context


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


# --- reservations ---------------------------------------------------------------------------


def region_of(reservation: Any) -> int | None:
    """A reservation's message belongs to the region of the stay's location."""
    return reservation.unit.location.municipality.region_id


def reservation_context(reservation: Any) -> dict[str, Any]:
    """What every reservation message may say: short code, location, dates, nights."""
    location = reservation.unit.location
    return {
        "code": reservation.short_code,
        "location": location.name,
        "arrival": reservation.arrival.isoformat(),
        "departure": reservation.departure.isoformat(),
        "nights": reservation.nights,
    }


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
    """A reservation entered `reservation.status` (from `previous`, None when created)."""
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
            if party == "requester":
                requester_without_mobile(
                    session,
                    reservation,
                    template=template,
                    context=_party_context(
                        session, reservation, party, reservation_context(reservation)
                    ),
                    dedupe_key=f"reservation:{reservation.id}:{reservation.status}:{party}",
                    now=now,
                )
            continue
        if template == "reservation_confirmed" and _series_confirmed(
            session, reservation, recipient, now
        ):
            continue
        if context is None:
            context = reservation_context(reservation)
        message_context = _party_context(session, reservation, party, context)
        if template == "reservation_confirm_request" and reservation.expires_at is not None:
            message_context["deadline"] = reservation.expires_at.isoformat()
        outbox.queue(
            session,
            recipient=recipient,
            template=template,
            context=message_context,
            dedupe_key=f"reservation:{reservation.id}:{reservation.status}:{party}",
            urgent=template == "reservation_confirm_request",
            region_id=region_of(reservation),
            now=now,
        )


# A series' message names this many arrival dates, then "en N meer".
STAYS_NAMED = 4


def stays_in_words(reservations: list[Reservation]) -> str:
    """The stays of a series, short enough for an SMS: "De Linde 5 mrt, 2 apr (2 nachten)";
    per location when they are at several, at most STAYS_NAMED dates, then "en N meer"."""
    by_location: dict[str, list[Reservation]] = {}
    for reservation in reservations:
        by_location.setdefault(reservation.unit.location.name, []).append(reservation)
    parts, named = [], 0
    for name, stays in by_location.items():
        dates = [texts.format_date_nl(r.arrival) for r in stays[: max(STAYS_NAMED - named, 0)]]
        named += len(dates)
        if dates:
            parts.append(f"{name} {', '.join(dates)}")
    text = "; ".join(parts)
    if len(reservations) > named:
        text += f" en {len(reservations) - named} meer"
    nights = {r.nights for r in reservations}
    if len(nights) == 1:
        count = nights.pop()
        text += f" (telkens {count} {'nacht' if count == 1 else 'nachten'})"
    return text


def _series_confirmed(
    session: DbSession, reservation: Reservation, recipient: str, now: datetime
) -> bool:
    """A stay of a series was confirmed: one message names every confirmed stay of the series
    (when one JA accepts them all, one SMS, not one per stay). Each confirmation in the same
    transaction queues it again with the stays so far and withdraws the one before. False for a
    reservation that is no series stay."""
    if reservation.request_id is None or (
        session.scalar(
            select(CareRequestStay.id).where(CareRequestStay.reservation_id == reservation.id)
        )
        is None
    ):
        return False
    confirmed = list(
        session.scalars(
            select(Reservation)
            .join(CareRequestStay, CareRequestStay.reservation_id == Reservation.id)
            .where(
                CareRequestStay.request_id == reservation.request_id,
                Reservation.status == CONFIRMED,
            )
            .order_by(Reservation.arrival, Reservation.id)
        )
    )
    reference = session.scalar(
        select(CareRequest.reference).where(CareRequest.id == reservation.request_id)
    )

    def key(count: int) -> str:
        return f"request:{reservation.request_id}:series-confirmed:{now.isoformat()}:{count}"

    outbox.skip_if_pending(
        session,
        key(len(confirmed) - 1),
        "Niet verstuurd: vervangen door het bericht met alle bevestigde verblijven.",
    )
    outbox.queue(
        session,
        recipient=recipient,
        template="reservation_series_confirmed",
        context={
            "reference": reference,
            "count": len(confirmed),
            "stays_text": stays_in_words(confirmed),
        },
        dedupe_key=key(len(confirmed)),
        region_id=region_of(reservation),
        now=now,
    )
    return True


def reservation_dates_changed(session: DbSession, reservation: Any, *, now: datetime) -> None:
    """The stay of a reservation moved, grew or shrank: tell both sides the new dates."""
    if reservation.status not in (AWAITING_PROVIDER, CONFIRMED, CHECKED_IN):
        return  # a plain hold is the requester's own screen, not news for anyone
    context = reservation_context(reservation)
    for party in ("provider", "requester"):
        recipient = _recipient(session, reservation, party)
        if not recipient:
            if party == "requester":
                requester_without_mobile(
                    session,
                    reservation,
                    template="reservation_dates_changed",
                    context=_party_context(session, reservation, party, context),
                    dedupe_key=(
                        f"reservation:{reservation.id}:dates:{reservation.arrival.isoformat()}:"
                        f"{reservation.departure.isoformat()}:{now.isoformat()}:{party}"
                    ),
                    now=now,
                )
            continue
        outbox.queue(
            session,
            recipient=recipient,
            template="reservation_dates_changed",
            context=_party_context(session, reservation, party, context),
            dedupe_key=(
                f"reservation:{reservation.id}:dates:{reservation.arrival.isoformat()}:"
                f"{reservation.departure.isoformat()}:{now.isoformat()}:{party}"
            ),
            region_id=region_of(reservation),
            now=now,
        )


# --- reminders ------------------------------------------------------------------------------


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
            requester_without_mobile(
                session,
                reservation,
                template="reservation_reminder",
                context=_party_context(
                    session, reservation, "requester", reservation_context(reservation)
                ),
                dedupe_key=f"reservation:{reservation.id}:reminder:{reservation.arrival.isoformat()}",
                now=now,
            )
            continue
        queued += outbox.queue(
            session,
            recipient=recipient,
            template="reservation_reminder",
            context=_party_context(
                session, reservation, "requester", reservation_context(reservation)
            ),
            dedupe_key=f"reservation:{reservation.id}:reminder:{reservation.arrival.isoformat()}",
            region_id=region_of(reservation),
            now=now,
        )
    return queued
