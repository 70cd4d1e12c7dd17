"""The inventory check: every night's `reserved` equals the active reservations on it."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select

from respijt.database import DbSession
from respijt.models import NightInventory, Reservation
from respijt.reservations.workflow import (
    ACTIVE_RESERVATION_STATUSES,
)


@dataclass(frozen=True)
class InventoryMismatch:
    unit_id: int
    night: date
    reserved: int | None  # None: the night has no inventory row
    expected: int


def find_inventory_mismatches(session: DbSession) -> list[InventoryMismatch]:
    """Invariant 2: reserved equals the active reservations covering each night."""
    expected: Counter[tuple[int, date]] = Counter()
    for unit_id, arrival, departure in session.execute(
        select(Reservation.unit_id, Reservation.arrival, Reservation.departure).where(
            Reservation.status.in_(ACTIVE_RESERVATION_STATUSES)
        )
    ):
        night = arrival
        while night < departure:
            expected[(unit_id, night)] += 1
            night += timedelta(days=1)
    actual: dict[tuple[int, date], int] = {
        (unit_id, night): reserved
        for unit_id, night, reserved in session.execute(
            select(NightInventory.unit_id, NightInventory.night, NightInventory.reserved).where(
                NightInventory.reserved != 0
            )
        )
    }
    mismatches = []
    for key in sorted(set(expected) | set(actual)):
        want = expected.get(key, 0)
        have = actual.get(key, 0)
        if want != have:
            if key not in actual:
                row_exists = session.scalar(
                    select(func.count())
                    .select_from(NightInventory)
                    .where(NightInventory.unit_id == key[0], NightInventory.night == key[1])
                )
                mismatches.append(
                    InventoryMismatch(key[0], key[1], 0 if row_exists else None, want)
                )
            else:
                mismatches.append(InventoryMismatch(key[0], key[1], have, want))
    return mismatches
