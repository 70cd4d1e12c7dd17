"""Capacity publication: the beds a unit offers per night, set for ranges of nights at once.

Plain functions over a session: they flush, never commit, and raise DomainError subclasses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, select, update

from respijt.database import DbSession
from respijt.errors import CapacityBelowReserved, InvalidInput
from respijt.models import AvailabilityChange, NightInventory, Unit
from respijt.reservations.expiry import expire_overdue_on_nights
from respijt.reservations.nights import lock_nights, nights_reserved_above


@dataclass(frozen=True)
class CapacityRange:
    night_from: date
    night_to: date  # exclusive
    capacity: int


def _runs(rows: Sequence[tuple[date, int]]) -> list[dict[str, Any]]:
    """Compress (night, value) rows into half-open runs of equal value."""
    runs: list[dict[str, Any]] = []
    for night, value in rows:
        if runs and runs[-1]["capacity"] == value and runs[-1]["to"] == night.isoformat():
            runs[-1]["to"] = (night + timedelta(days=1)).isoformat()
        else:
            runs.append(
                {
                    "from": night.isoformat(),
                    "to": (night + timedelta(days=1)).isoformat(),
                    "capacity": value,
                }
            )
    return runs


def validate_capacity_ranges(
    ranges: Sequence[CapacityRange], *, today: date, horizon_days: int, max_capacity: int
) -> None:
    problems: list[dict[str, str]] = []
    horizon_end = today + timedelta(days=horizon_days)
    for i, r in enumerate(ranges):
        name = f"ranges[{i}]"
        if r.night_to <= r.night_from:
            problems.append(
                {"name": f"{name}.to", "code": "range", "reason": "'to' moet na 'from' liggen."}
            )
        if r.night_from < today:
            problems.append(
                {
                    "name": f"{name}.from",
                    "code": "past",
                    "reason": "Nachten in het verleden kunnen niet meer worden gewijzigd.",
                }
            )
        if r.night_to > horizon_end:
            problems.append(
                {
                    "name": f"{name}.to",
                    "code": "horizon",
                    "reason": f"Capaciteit kan tot {horizon_days} dagen vooruit worden opgegeven "
                    f"(tot {horizon_end.isoformat()}).",
                }
            )
        if not 0 <= r.capacity <= max_capacity:
            problems.append(
                {
                    "name": f"{name}.capacity",
                    "code": "range",
                    "reason": f"Capaciteit moet tussen 0 en {max_capacity} liggen.",
                }
            )
    ordered = sorted(ranges, key=lambda r: r.night_from)
    for a, b in zip(ordered, ordered[1:], strict=False):
        if b.night_from < a.night_to:
            problems.append(
                {
                    "name": "ranges",
                    "code": "overlap",
                    "reason": f"Perioden overlappen ({a.night_from.isoformat()}–"
                    f"{a.night_to.isoformat()} en {b.night_from.isoformat()}–"
                    f"{b.night_to.isoformat()}).",
                }
            )
    if problems:
        raise InvalidInput("De opgegeven capaciteit is ongeldig.", problems)


def publish_capacity(
    session: DbSession,
    unit: Unit,
    ranges: Sequence[CapacityRange],
    *,
    actor: str,
    channel: str,
    now: datetime,
    today: date,
    horizon_days: int,
    max_capacity: int,
) -> list[AvailabilityChange]:
    """Set the beds offered per night for each range, all or nothing.

    Overdue holds on the touched nights are expired first (invariant 3); a capacity below what
    is reserved is refused naming the nights (invariant 5), backed by a conditional UPDATE and
    the CHECK constraint.
    """
    if unit.retired_at is not None:
        raise InvalidInput("Deze eenheid is buiten gebruik gesteld.")
    validate_capacity_ranges(
        ranges, today=today, horizon_days=horizon_days, max_capacity=max_capacity
    )
    changes: list[AvailabilityChange] = []
    too_low: list[date] = []
    for r in sorted(ranges, key=lambda r: r.night_from):
        expire_overdue_on_nights(
            session, unit_id=unit.id, night_from=r.night_from, night_to=r.night_to, now=now
        )
        rows = lock_nights(session, unit.id, r.night_from, r.night_to)
        too_low.extend(row.night for row in rows if row.reserved > r.capacity)
        if too_low:
            continue
        wanted = (r.night_to - r.night_from).days
        if len(rows) != wanted:
            raise InvalidInput(
                "Voor een deel van deze nachten is nog geen voorraad aangemaakt.",
                [{"name": "ranges", "code": "horizon", "reason": "Buiten de horizon."}],
            )
        result = session.execute(
            update(NightInventory)
            .where(
                and_(
                    NightInventory.unit_id == unit.id,
                    NightInventory.night >= r.night_from,
                    NightInventory.night < r.night_to,
                    NightInventory.reserved <= r.capacity,
                )
            )
            .values(capacity=r.capacity)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != wanted:  # type: ignore[attr-defined]
            raise CapacityBelowReserved(
                nights_reserved_above(session, unit.id, r.night_from, r.night_to, r.capacity)
            )
        change = AvailabilityChange(
            unit_id=unit.id,
            night_from=r.night_from,
            night_to=r.night_to,
            new_capacity=r.capacity,
            old_capacities=_runs([(row.night, row.capacity) for row in rows]),
            actor=actor,
            channel=channel,
            changed_at=now,
        )
        session.add(change)
        changes.append(change)
    if too_low:
        raise CapacityBelowReserved(sorted(too_low))
    unit.location.last_confirmed_at = now
    session.flush()
    return changes


def capacity_changes(session: DbSession, unit_id: int, limit: int) -> list[AvailabilityChange]:
    """The latest capacity changes of a unit, newest first."""
    return list(
        session.scalars(
            select(AvailabilityChange)
            .where(AvailabilityChange.unit_id == unit_id)
            .order_by(AvailabilityChange.id.desc())
            .limit(limit)
        )
    )


def nights_of(
    session: DbSession, unit_id: int, first: date, last: date
) -> dict[date, NightInventory]:
    """A unit's night rows from `first` up to (not including) `last`, by night."""
    return {
        row.night: row
        for row in session.scalars(
            select(NightInventory).where(
                NightInventory.unit_id == unit_id,
                NightInventory.night >= first,
                NightInventory.night < last,
            )
        )
    }
