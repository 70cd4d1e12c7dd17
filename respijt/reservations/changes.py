"""The one call after any reservation status change: `announce`.

Every step that moves a reservation (the hold, confirm, decline, cancel, check-in and -out,
no-show, the expiry sweep) calls `announce` once, in its transaction: it queues the SMS the
change sends (`reservations/notices.py`) and lets the care request the reservation was made for
follow (`care_requests.status.follow_reservation`, which queues the request's own notices).

That second call is the one named exception to "no cycles between rooms": a care request makes
reservations, and a reservation made for a care request tells that request.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from respijt.care_requests.status import follow_reservation
from respijt.database import DbSession
from respijt.models import ReservationEvent
from respijt.reservations import notices
from respijt.reservations.workflow import EXPIRED


def _status_left(session: DbSession, reservation: Any) -> str | None:
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


def announce(session: DbSession, reservation: Any, *, previous: str | None, now: datetime) -> None:
    """`reservation` entered `reservation.status` from `previous` (None when it was created).

    The expiry sweep passes previous=None; the history row it appended tells where it came from.
    """
    if reservation.status == EXPIRED and previous is None:
        previous = _status_left(session, reservation)
    notices.reservation_changed(session, reservation, previous=previous, now=now)
    follow_reservation(session, reservation, previous=previous, now=now)
