"""The leegstand figures of each unit over a range of nights, counted from the nights and the
stays themselves (`claims.leegstand` says what they mean).

Counted in the database, not night by night in Python: a national year is millions of nights.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import and_, case, func, select

from respijt.claims.months import stays_in
from respijt.database import DbSession
from respijt.models import NightInventory, Reservation
from respijt.reservations.workflow import CHECKED_IN, COMPLETED, CONFIRMED

USED_STATUSES = (CONFIRMED, CHECKED_IN, COMPLETED)


@dataclass(frozen=True)
class NightCount:
    nights: int  # nights with beds offered
    published: int  # bed-nights offered
    used: int  # bed-nights taken by stays, capped at the beds offered per night

    def __add__(self, other: NightCount) -> NightCount:
        return NightCount(
            self.nights + other.nights, self.published + other.published, self.used + other.used
        )


def count_nights(
    session: DbSession, unit_ids: Any, night_from: date, night_to: date
) -> dict[int, NightCount]:
    """Per unit of `unit_ids` (a subquery) that offered beds in [night_from, night_to)."""
    published_nights = (
        NightInventory.night >= night_from,
        NightInventory.night < night_to,
        NightInventory.capacity > 0,
        NightInventory.unit_id.in_(unit_ids),
    )
    published = {
        unit_id: (int(nights), int(beds))
        for unit_id, nights, beds in session.execute(
            select(NightInventory.unit_id, func.count(), func.sum(NightInventory.capacity))
            .where(*published_nights)
            .group_by(NightInventory.unit_id)
        )
    }
    if not published:
        return {}
    # Per published night the stays on it, capped at that night's capacity. Driven by the
    # stays: each one looks up only its own nights, clipped to the period (a night bound that
    # is a constant would make the database walk every night of the period per stay).
    first = case((Reservation.arrival > night_from, Reservation.arrival), else_=night_from)
    last = case((Reservation.departure < night_to, Reservation.departure), else_=night_to)
    per_night = (
        select(
            NightInventory.unit_id.label("unit_id"),
            NightInventory.capacity.label("capacity"),
            func.count().label("used"),
        )
        .select_from(Reservation)
        .join(
            NightInventory,
            and_(
                NightInventory.unit_id == Reservation.unit_id,
                NightInventory.night >= first,
                NightInventory.night < last,
                # The period's bounds too: PostgreSQL seeks a stay's nights by these.
                NightInventory.night >= night_from,
                NightInventory.night < night_to,
            ),
        )
        .where(
            *stays_in(night_from, night_to),
            Reservation.status.in_(USED_STATUSES),
            Reservation.unit_id.in_(unit_ids),
            NightInventory.capacity > 0,
        )
        .group_by(NightInventory.unit_id, NightInventory.night, NightInventory.capacity)
        .subquery()
    )
    used = dict(
        session.execute(
            select(
                per_night.c.unit_id,
                func.sum(
                    case(
                        (per_night.c.used < per_night.c.capacity, per_night.c.used),
                        else_=per_night.c.capacity,
                    )
                ),
            ).group_by(per_night.c.unit_id)
        ).all()
    )
    return {
        unit_id: NightCount(nights, beds, int(used.get(unit_id) or 0))
        for unit_id, (nights, beds) in published.items()
    }
