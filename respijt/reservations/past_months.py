"""Changes to stays in months that are already over, counted per month.

Reports keep a month's figures once it is over (`claims.occupancy_months`); a stay can still
change there afterwards (a no-show reported late, a confirmed stay moved away from its past
nights). Every status or date change of a stay passes `note_changed_nights`, which raises the
month's count in `stay_month_change` in the same transaction, so figures counted before it are
known to be out of date. Changes to this month or later write nothing.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from respijt import clock
from respijt.database import DbSession
from respijt.models import StayMonthChange


def months_before_this_one(night_from: date, night_to: date, today: date) -> list[date]:
    """The first days of the months before `today`'s month with a night in [from, to)."""
    this_month = today.replace(day=1)
    months: list[date] = []
    month = night_from.replace(day=1)
    while month < night_to and month < this_month:
        months.append(month)
        month = (month + timedelta(days=32)).replace(day=1)
    return months


def note_changed_nights(
    session: DbSession, night_from: date, night_to: date, now: datetime
) -> None:
    """A stay's nights in [night_from, night_to) changed (status or dates)."""
    months = months_before_this_one(night_from, night_to, now.astimezone(clock.LOCAL_TZ).date())
    if not months:
        return
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    for month in months:
        statement = insert(StayMonthChange).values(month=month, changes=1)
        session.execute(
            statement.on_conflict_do_update(
                index_elements=["month"],
                set_={"changes": StayMonthChange.changes + 1},
            )
        )
