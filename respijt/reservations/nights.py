"""The night guard: take and give back nights of a unit's inventory, never past its capacity.

`reserved` only grows through a conditional UPDATE that cannot pass capacity; the number of rows
changed is compared with the nights wanted, and a shortfall raises (the edge rolls back).
Functions flush, never commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import and_, select, update

from respijt.database import DbSession
from respijt.errors import (
    NoBedFree,
)
from respijt.models import NightInventory


@dataclass(frozen=True)
class NightRow:
    night: date
    capacity: int
    reserved: int


def lock_nights(
    session: DbSession, unit_id: int, night_from: date, night_to: date
) -> list[NightRow]:
    """Read (and on PostgreSQL lock, in ascending order) the inventory rows of a range."""
    rows = session.execute(
        select(NightInventory.night, NightInventory.capacity, NightInventory.reserved)
        .where(
            NightInventory.unit_id == unit_id,
            NightInventory.night >= night_from,
            NightInventory.night < night_to,
        )
        .order_by(NightInventory.night)
        .with_for_update()
    )
    return [NightRow(*row) for row in rows]


def nights_reserved_above(
    session: DbSession, unit_id: int, night_from: date, night_to: date, capacity: int
) -> list[date]:
    return list(
        session.scalars(
            select(NightInventory.night)
            .where(
                NightInventory.unit_id == unit_id,
                NightInventory.night >= night_from,
                NightInventory.night < night_to,
                NightInventory.reserved > capacity,
            )
            .order_by(NightInventory.night)
        )
    )


def take_nights(session: DbSession, unit_id: int, night_from: date, night_to: date) -> None:
    """Reserve one bed on every night of the range, or raise NoBedFree naming the full nights.

    One conditional UPDATE that cannot pass capacity; if it changed fewer rows than nights
    wanted, the rows it did change are put back before raising, so nothing partial remains
    even before the edge rolls back.
    """
    wanted = (night_to - night_from).days
    if wanted <= 0:
        return
    taken = session.scalars(
        update(NightInventory)
        .where(
            and_(
                NightInventory.unit_id == unit_id,
                NightInventory.night >= night_from,
                NightInventory.night < night_to,
                NightInventory.reserved < NightInventory.capacity,
            )
        )
        .values(reserved=NightInventory.reserved + 1)
        .returning(NightInventory.night)
        .execution_options(synchronize_session=False)
    ).all()
    if len(taken) == wanted:
        return
    _give_back_and_refuse(session, unit_id, night_from, night_to, taken)


def _give_back_and_refuse(
    session: DbSession, unit_id: int, night_from: date, night_to: date, taken: Sequence[date]
) -> None:
    """Some nights of the range were taken, not all: put those back and name the full ones."""
    _give_back(session, unit_id, taken)
    _refuse_full(night_from, night_to, taken)


def _give_back(session: DbSession, unit_id: int, taken: Sequence[date]) -> None:
    if taken:
        session.execute(
            update(NightInventory)
            .where(NightInventory.unit_id == unit_id, NightInventory.night.in_(taken))
            .values(reserved=NightInventory.reserved - 1)
            .execution_options(synchronize_session=False)
        )


def _refuse_full(night_from: date, night_to: date, free: Sequence[date]) -> None:
    """Refuse naming every night of the range that is not in `free` (if there is one)."""
    got = set(free)
    full = [
        night_from + timedelta(days=i)
        for i in range((night_to - night_from).days)
        if night_from + timedelta(days=i) not in got
    ]
    if full:
        raise NoBedFree(full)


def release_nights(session: DbSession, unit_id: int, night_from: date, night_to: date) -> None:
    if night_to <= night_from:
        return
    session.execute(
        update(NightInventory)
        .where(
            NightInventory.unit_id == unit_id,
            NightInventory.night >= night_from,
            NightInventory.night < night_to,
        )
        .values(reserved=NightInventory.reserved - 1)
        .execution_options(synchronize_session=False)
    )
