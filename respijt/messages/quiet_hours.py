"""Quiet hours (`RESPIJT_QUIET_HOURS`, default 21:00-08:00 Europe/Amsterdam; empty = none).

Non-urgent messages wait until the quiet hours end; urgent ones go at once.
"""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

from respijt.clock import LOCAL_TZ

DEFAULT_QUIET_HOURS = "21:00-08:00"
_PATTERN = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


def parse_quiet_hours(value: str | None) -> tuple[time, time] | None:
    """ "21:00-08:00" → (21:00, 08:00); empty → None. Raises ValueError on anything else."""
    if value is None or not value.strip():
        return None
    match = _PATTERN.match(value)
    if match is None:
        raise ValueError(f"quiet hours must look like 21:00-08:00, got {value!r}")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if not (0 <= h1 < 24 and 0 <= h2 < 24 and m1 < 60 and m2 < 60):
        raise ValueError(f"quiet hours out of range: {value!r}")
    start, end = time(h1, m1), time(h2, m2)
    return None if start == end else (start, end)


def _in_window(moment: time, start: time, end: time) -> bool:
    if start < end:
        return start <= moment < end
    return moment >= start or moment < end  # the window wraps past midnight


def next_allowed_send_time(
    now: datetime, urgent: bool, quiet_hours: str | None = DEFAULT_QUIET_HOURS
) -> datetime:
    """When a message due `now` (aware) may go out: `now`, or the end of the quiet hours (UTC)."""
    window = parse_quiet_hours(quiet_hours)
    if urgent or window is None:
        return now
    start, end = window
    local = now.astimezone(LOCAL_TZ)
    if not _in_window(local.time().replace(tzinfo=None), start, end):
        return now
    end_day = local.date()
    if local.time() >= end:  # in the evening part of a wrapping window: ends tomorrow
        end_day += timedelta(days=1)
    wall = datetime.combine(end_day, end, tzinfo=LOCAL_TZ)
    # A wall time inside a DST gap does not exist; round trip through UTC normalises it.
    return wall.astimezone(now.tzinfo)
