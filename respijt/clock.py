"""The one source of 'now', so tests can move time without sleeping."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Europe/Amsterdam")

_frozen: datetime | None = None


def now() -> datetime:
    """Current time, timezone-aware UTC."""
    return _frozen if _frozen is not None else datetime.now(UTC)


def today() -> date:
    """Today's date in Europe/Amsterdam: the night that starts this evening."""
    return now().astimezone(LOCAL_TZ).date()


def freeze(at: datetime | None) -> None:
    """Fix the clock at `at` (aware), or release it with None. For tests and simulations."""
    global _frozen
    if at is not None and at.tzinfo is None:
        raise ValueError("freeze() needs an aware datetime")
    _frozen = at.astimezone(UTC) if at is not None else None


@lru_cache(maxsize=4096)
def local_midnight_utc(day: date) -> datetime:
    """The UTC instant at which `day` starts in Europe/Amsterdam."""
    return datetime(day.year, day.month, day.day, tzinfo=LOCAL_TZ).astimezone(UTC)


def midnight_offsets(first: date, last: date) -> list[tuple[date, timedelta]]:
    """How far local midnight lies before midnight UTC, from `first` to `last` (inclusive):
    (the day it starts, the offset), one entry per change, the first entry on `first`."""
    runs: list[tuple[date, timedelta]] = []
    day = first
    while day <= last:
        offset = datetime(day.year, day.month, day.day, tzinfo=LOCAL_TZ).utcoffset()
        assert offset is not None
        if not runs or runs[-1][1] != offset:
            runs.append((day, offset))
        day += timedelta(days=1)
    return runs
