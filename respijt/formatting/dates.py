"""Dates and times in Dutch words (Babel's nl_NL patterns), on Amsterdam's wall clock.

One style, the one the pages already used: a weekday and month abbreviated ("za 5 dec") where
space is short, written out ("zaterdag 5 december 2026") where a date stands alone.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache

from babel.dates import format_date

from respijt import clock

LOCALE = "nl_NL"


def _as_date(value: str | date) -> date:
    if isinstance(value, datetime):
        return value.date()
    return date.fromisoformat(value) if isinstance(value, str) else value


def _as_local(value: str | datetime) -> datetime:
    moment = (
        datetime.fromisoformat(value.replace("Z", "+00:00")) if isinstance(value, str) else value
    )
    return moment.astimezone(clock.LOCAL_TZ)


@lru_cache(maxsize=4096)
def _pattern(day: date, pattern: str) -> str:
    # Cached: a search page writes the same few nights for hundreds of units.
    return format_date(day, pattern, locale=LOCALE)


def date_short(value: str | date) -> str:
    """'2026-12-05' → 'za 5 dec' (weekday, day, month; the pages' short date)."""
    return _pattern(_as_date(value), "EEE d MMM")


def day_month(value: str | date) -> str:
    """'2026-12-05' → '5 dec': the short date without the weekday, where every character
    counts (an SMS stays one segment)."""
    return _pattern(_as_date(value), "d MMM")


def date_long(value: str | date) -> str:
    """'2026-12-05' → 'zaterdag 5 december 2026'."""
    return _pattern(_as_date(value), "EEEE d MMMM y")


def month_long(value: date) -> str:
    """The month of `value`: 'december 2026'."""
    return _pattern(value.replace(day=1), "MMMM y")


def month_short(value: date) -> str:
    """The month of `value`, short: 'dec 2026'."""
    return _pattern(value.replace(day=1), "MMM y")


def time_short(value: str | datetime) -> str:
    """An instant as Amsterdam's wall-clock time: '14:30'."""
    local = _as_local(value)
    return f"{local.hour:02d}:{local.minute:02d}"


def datetime_short(value: str | datetime) -> str:
    """An instant as local date and time, short: 'za 5 dec 14:30'."""
    local = _as_local(value)
    return f"{date_short(local.date())} {time_short(local)}"


def sms_datetime(value: str | datetime) -> str:
    """An instant for an SMS, short: '5 dec 14:30'."""
    local = _as_local(value)
    return f"{day_month(local.date())} {time_short(local)}"


def datetime_long(value: str | datetime | None, unknown: str = "onbekend") -> str:
    """An instant as local date and time in words: 'zaterdag 5 december 2026 om 14:30'."""
    if value is None:
        return unknown
    local = _as_local(value)
    return f"{date_long(local.date())} om {time_short(local)}"


def period_long(start: str | datetime, end: str | datetime) -> str:
    """A period between two instants in words, the date once when both fall on the same local
    day: 'dinsdag 8 december 2026, 09:00 tot 17:00'; across days each end in full:
    'dinsdag 8 december 2026 om 17:00 tot donderdag 10 december 2026 om 09:00'."""
    first, last = _as_local(start), _as_local(end)
    if first.date() == last.date():
        return f"{date_long(first.date())}, {time_short(first)} tot {time_short(last)}"
    return f"{datetime_long(first)} tot {datetime_long(last)}"
