"""Expiry of overdue holds: the sweep, and expire-before-write on the nights a change touches.

A hold is released exactly once because only the UPDATE that flips its status releases its
nights (invariant 3). Functions flush, never commit.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from respijt import clock
from respijt.database import DbSession
from respijt.models import Reservation, ReservationEvent
from respijt.reservations.changes import announce
from respijt.reservations.nights import release_nights
from respijt.reservations.past_months import note_changed_nights
from respijt.reservations.workflow import (
    EXPIRED,
    EXPIRING_RESERVATION_STATUSES,
)


def hold_expiry(now: datetime, minutes: float, arrival: date) -> datetime:
    """now + lifetime, but never later than the start of the arrival day (local time).

    For an arrival today the start has passed; the cap is then the end of the arrival day.
    """
    cap = clock.local_midnight_utc(arrival)
    if cap <= now:
        cap = clock.local_midnight_utc(arrival + timedelta(days=1))
    return min(now + timedelta(minutes=minutes), cap)


def _expire_where(session: DbSession, now: datetime, *conditions: Any) -> list[Reservation]:
    """Flip overdue holds matching `conditions` to expired and release their nights, once each."""
    released: list[Reservation] = []
    for status in EXPIRING_RESERVATION_STATUSES:
        rows = session.execute(
            update(Reservation)
            .where(
                Reservation.status == status,
                Reservation.expires_at <= now,
                *conditions,
            )
            .values(status=EXPIRED, updated_at=now)
            .returning(
                Reservation.id, Reservation.unit_id, Reservation.arrival, Reservation.departure
            )
            .execution_options(synchronize_session=False)
        ).all()
        for rid, unit_id, arrival, departure in sorted(rows, key=lambda r: (r[1], r[2])):
            release_nights(session, unit_id, arrival, departure)
            note_changed_nights(session, arrival, departure, now)
            session.add(
                ReservationEvent(
                    reservation_id=rid,
                    from_status=status,
                    to_status=EXPIRED,
                    actor="system",
                    reason="Niet op tijd bevestigd",
                    at=now,
                )
            )
            released.append(session.get(Reservation, rid, populate_existing=True))  # type: ignore[arg-type]
    if released:
        session.flush()
        for reservation in released:
            announce(session, reservation, previous=None, now=now)
    return released


def expire_overdue_holds(session: DbSession, now: datetime) -> int:
    """The sweep: release every hold or provider wait past its expiry. Returns how many."""
    return len(_expire_where(session, now))


def expire_overdue_on_nights(
    session: DbSession, *, unit_id: int, night_from: date, night_to: date, now: datetime
) -> int:
    """Release overdue holds of one unit that touch the range, before a write needs those nights."""
    if session.scalar(_overdue_on_nights(unit_id, night_from, night_to, now).limit(1)) is None:
        return 0
    return _expire_overdue_found(session, unit_id, night_from, night_to, now)


def _overdue_conditions(unit_id: Any, night_from: date, night_to: date) -> tuple[Any, ...]:
    return (
        Reservation.unit_id == unit_id,
        Reservation.arrival < night_to,
        Reservation.departure > night_from,
    )


def _overdue_on_nights(unit_id: Any, night_from: date, night_to: date, now: datetime) -> Any:
    """SELECT of the overdue holds of a unit that touch a range (unit_id may be a column)."""
    return select(Reservation.id).where(
        Reservation.status.in_(EXPIRING_RESERVATION_STATUSES),
        Reservation.expires_at <= now,
        *_overdue_conditions(unit_id, night_from, night_to),
    )


def _expire_overdue_found(
    session: DbSession, unit_id: int, night_from: date, night_to: date, now: datetime
) -> int:
    return len(_expire_where(session, now, *_overdue_conditions(unit_id, night_from, night_to)))
