"""The leegstand figures of months that are over, counted once per unit and kept.

A year's report would otherwise read every night of every unit again: two million for the
country. The scheduler counts one finished month per run (`count_next_month`, the job
`count_month_occupancy`), newest first, back to the month of the first stay, into
`unit_month_occupancy`. It records in `counted_month` how many changes to that month's stays
it saw (`stay_month_change`, raised by every later change: `reservations.past_months`).

A report takes a month's kept figures only while that number is still the month's
(`unit_counts`); the rest of its period, and a month whose stays changed since, it counts from
the nights themselves (`claims.night_counts`), so both ways give the same figures. The beds
offered on a past night never change: capacity is set for today and later only.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, insert, select

from respijt import clock
from respijt.claims.months import Month
from respijt.claims.night_counts import NightCount, count_nights
from respijt.database import DbSession
from respijt.models import CountedMonth, Reservation, StayMonthChange, Unit, UnitMonthOccupancy

_SUMS = (
    func.sum(UnitMonthOccupancy.nights),
    func.sum(UnitMonthOccupancy.published),
    func.sum(UnitMonthOccupancy.used),
)


def _whole_months(night_from: date, night_to: date) -> list[date]:
    """The first days of the months that lie entirely in [night_from, night_to)."""
    months = []
    month = Month.of(night_from)
    if month.first < night_from:
        month = month.next()
    while month.end <= night_to:
        months.append(month.first)
        month = month.next()
    return months


def _current(session: DbSession, months: list[date]) -> set[date]:
    """Those of `months` whose kept figures include every change to their stays."""
    if not months:
        return set()
    return set(
        session.scalars(
            select(CountedMonth.month)
            .outerjoin(StayMonthChange, StayMonthChange.month == CountedMonth.month)
            .where(
                CountedMonth.month.in_(months),
                CountedMonth.changes_seen == func.coalesce(StayMonthChange.changes, 0),
            )
        )
    )


def _kept_and_live(
    session: DbSession, night_from: date, night_to: date
) -> tuple[list[date], list[tuple[date, date]]]:
    """The whole months of [night_from, night_to) with current kept figures, and the ranges
    of nights between them that are to be counted from the nights."""
    kept = sorted(_current(session, _whole_months(night_from, night_to)))
    live = []
    start = night_from
    for month in kept:
        if start < month:
            live.append((start, month))
        start = Month.of(month).end
    if start < night_to:
        live.append((start, night_to))
    return kept, live


def unit_counts(
    session: DbSession, unit_ids: Any, night_from: date, night_to: date
) -> dict[int, NightCount]:
    """Per unit of `unit_ids` (a subquery) that offered beds in [night_from, night_to): kept
    figures for the whole months that have them, the rest counted from the nights."""
    kept, live = _kept_and_live(session, night_from, night_to)
    parts = [count_nights(session, unit_ids, start, end) for start, end in live]
    if kept:
        parts.append(
            {
                unit_id: NightCount(int(nights), int(published), int(used))
                for unit_id, nights, published, used in session.execute(
                    select(UnitMonthOccupancy.unit_id, *_SUMS)
                    .where(
                        UnitMonthOccupancy.month.in_(kept),
                        UnitMonthOccupancy.unit_id.in_(unit_ids),
                    )
                    .group_by(UnitMonthOccupancy.unit_id)
                )
            }
        )
    counts: dict[int, NightCount] = {}
    for part in parts:
        for unit_id, count in part.items():
            counts[unit_id] = counts[unit_id] + count if unit_id in counts else count
    return counts


def total_count(session: DbSession, unit_ids: Any, night_from: date, night_to: date) -> NightCount:
    """`unit_counts` added up over all units, without a row per unit for the kept months."""
    kept, live = _kept_and_live(session, night_from, night_to)
    total = NightCount(0, 0, 0)
    for start, end in live:
        for count in count_nights(session, unit_ids, start, end).values():
            total += count
    if kept:
        nights, published, used = session.execute(
            select(*_SUMS).where(
                UnitMonthOccupancy.month.in_(kept), UnitMonthOccupancy.unit_id.in_(unit_ids)
            )
        ).one()
        total += NightCount(int(nights or 0), int(published or 0), int(used or 0))
    return total


def months_to_count(session: DbSession, today: date) -> list[date]:
    """The finished months without current kept figures, newest first. A month counts as
    finished from the second day after it, so a change made on its last evening is in."""
    first_departure = session.scalar(select(func.min(Reservation.departure)))
    if first_departure is None:
        return []
    last = Month.of(today - timedelta(days=1))  # the month of yesterday is not finished
    months = []
    month = Month.of(first_departure - timedelta(days=1))  # the first stay's last night
    while month < last:
        months.append(month.first)
        month = month.next()
    current = _current(session, months)
    return [month for month in reversed(months) if month not in current]


def count_month(session: DbSession, month: Month, now: datetime) -> int:
    """Count every unit's figures of `month` and keep them. Returns the units counted."""
    # The changes are read before the nights: a change after this point makes the month
    # out of date again, never counted as if it were in.
    changes = (
        session.scalar(select(StayMonthChange.changes).where(StayMonthChange.month == month.first))
        or 0
    )
    counts = count_nights(session, select(Unit.id).scalar_subquery(), month.first, month.end)
    session.execute(delete(UnitMonthOccupancy).where(UnitMonthOccupancy.month == month.first))
    session.execute(delete(CountedMonth).where(CountedMonth.month == month.first))
    if counts:
        session.execute(
            insert(UnitMonthOccupancy),
            [
                {
                    "month": month.first,
                    "unit_id": unit_id,
                    "nights": count.nights,
                    "published": count.published,
                    "used": count.used,
                }
                for unit_id, count in counts.items()
            ],
        )
    session.add(CountedMonth(month=month.first, changes_seen=changes, counted_at=now))
    session.flush()
    return len(counts)


def count_next_month(session: DbSession, now: datetime) -> int:
    """The scheduler's step: count the newest finished month without current figures, if
    any. Returns the units counted (0 when every month is counted)."""
    pending = months_to_count(session, now.astimezone(clock.LOCAL_TZ).date())
    if not pending:
        return 0
    return count_month(session, Month.of(pending[0]), now)
