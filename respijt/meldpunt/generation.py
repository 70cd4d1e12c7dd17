"""Rota generation: handover patterns, holidays, weighted fair shares, and reads of the rota."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import holidays as holidays_lib
from sqlalchemy import func, select

from respijt import clock
from respijt.database import DbSession
from respijt.errors import NotFound
from respijt.models import ProviderRegion, Region, RotaEvent, RotaShift
from respijt.people.caller import in_visible_regions

DEFAULT_HANDOVER = time(9, 0)
FAIRNESS_WINDOW = timedelta(days=365)
WEEKDAYS = {
    "mon": 0,
    "ma": 0,
    "tue": 1,
    "di": 1,
    "wed": 2,
    "wo": 2,
    "thu": 3,
    "do": 3,
    "fri": 4,
    "vr": 4,
    "sat": 5,
    "za": 5,
    "sun": 6,
    "zo": 6,
}
_POINT = re.compile(r"^\s*([a-z]{2,3})\s+(\d{1,2}):(\d{2})\s*$", re.IGNORECASE)
_NAMED = re.compile(r"^\s*(weekly|daily)(?:@(\d{1,2}):(\d{2}))?\s*$", re.IGNORECASE)


# --- pattern and holidays -------------------------------------------------------------------


def parse_pattern(value: str | None) -> list[tuple[int, time]]:
    """Handover moments within a week, as (weekday, local time).

    `weekly` (Monday 09:00), `weekly@08:30`, `daily`, `daily@09:00`, or a custom list such as
    `MON 09:00, THU 17:00` (also Dutch: `ma 09:00, do 17:00`). Times in 02:00-03:00 are refused:
    that hour is missing or doubled when the clocks change.
    """
    raw = (value or "weekly").strip()
    named = _NAMED.match(raw)
    points: list[tuple[int, time]]
    if named:
        at = time(int(named.group(2)), int(named.group(3))) if named.group(2) else DEFAULT_HANDOVER
        points = [(0, at)] if named.group(1).lower() == "weekly" else [(d, at) for d in range(7)]
    else:
        points = []
        for part in raw.split(","):
            match = _POINT.match(part)
            if match is None or match.group(1).lower() not in WEEKDAYS:
                raise ValueError(f"rota pattern must be weekly, daily or 'MON 09:00, …': {raw!r}")
            hour, minute = int(match.group(2)), int(match.group(3))
            points.append((WEEKDAYS[match.group(1).lower()], time(hour, minute)))
    for _, at in points:
        if at.hour == 2:
            raise ValueError("rota handovers between 02:00 and 03:00 are refused (DST)")
    if not points:
        raise ValueError("rota pattern has no handover moments")
    return sorted(set(points))


def holiday_dates(setting: str | None, years: Iterable[int]) -> set[date]:
    """Public holidays that count for the rota.

    Empty: the `holidays` package's Dutch list. Otherwise a comma list of holiday names
    (Dutch, as the package spells them: `Eerste kerstdag`), `bevrijdingsdag` (5 May every year;
    the package has it only every fifth year) and ISO dates (`2026-12-31`).
    """
    years = sorted(set(years))
    known = holidays_lib.country_holidays("NL", years=years, language="nl")
    if not setting or not setting.strip():
        return set(known.keys())
    wanted: set[date] = set()
    for token in (t.strip() for t in setting.split(",")):
        if not token:
            continue
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", token):
            wanted.add(date.fromisoformat(token))
        elif token.lower() == "bevrijdingsdag":
            wanted.update(date(year, 5, 5) for year in years)
        else:
            matches = {d for d, name in known.items() if name.lower() == token.lower()}
            if not matches and not any(name.lower() == token.lower() for name in _names()):
                raise ValueError(f"unknown holiday in RESPIJT_ROTA_HOLIDAYS: {token!r}")
            wanted.update(matches)
    return wanted


_LIBERATION = {(5, 5): "Bevrijdingsdag"}


def holiday_names(setting: str | None, first: date, last: date) -> dict[date, str]:
    """The rota's public holidays from `first` to `last` (inclusive) with their Dutch names
    (`holiday_dates`' rules; a date of the setting without a name is "Feestdag")."""
    years = range(first.year, last.year + 1)
    known = holidays_lib.country_holidays("NL", years=years, language="nl")
    return {
        day: str(known.get(day) or _LIBERATION.get((day.month, day.day), "Feestdag")).capitalize()
        for day in sorted(holiday_dates(setting, years))
        if first <= day <= last
    }


def _names() -> set[str]:
    sample = holidays_lib.country_holidays("NL", years=range(2020, 2031), language="nl")
    return set(sample.values())


def handovers(
    pattern: Sequence[tuple[int, time]], start: datetime, end: datetime
) -> list[datetime]:
    """Every handover instant (UTC) in [start, end], each built from its own local date."""
    day = start.astimezone(clock.LOCAL_TZ).date() - timedelta(days=1)
    last = end.astimezone(clock.LOCAL_TZ).date() + timedelta(days=1)
    moments: list[datetime] = []
    while day <= last:
        for weekday, at in pattern:
            if day.weekday() == weekday:
                moment = datetime.combine(day, at, tzinfo=clock.LOCAL_TZ).astimezone(start.tzinfo)
                if start <= moment <= end:
                    moments.append(moment)
        day += timedelta(days=1)
    return sorted(moments)


def _holidays_in(starts_at: datetime, ends_at: datetime, dates: set[date]) -> int:
    """Holidays whose local noon falls in the shift: each holiday belongs to exactly one shift."""
    count = 0
    day = starts_at.astimezone(clock.LOCAL_TZ).date()
    while True:
        noon = datetime.combine(day, time(12, 0), tzinfo=clock.LOCAL_TZ)
        if noon >= ends_at:
            return count
        if noon >= starts_at and day in dates:
            count += 1
        day += timedelta(days=1)


# --- generation -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PoolMember:
    provider_id: int
    weight: int


def pool(session: DbSession, region_id: int) -> list[PoolMember]:
    rows = session.execute(
        select(ProviderRegion.provider_id, ProviderRegion.pool_weight)
        .where(
            ProviderRegion.region_id == region_id,
            ProviderRegion.in_pool.is_(True),
            ProviderRegion.pool_weight > 0,
        )
        .order_by(ProviderRegion.provider_id)
    )
    return [PoolMember(provider_id, weight) for provider_id, weight in rows]


def record_event(
    session: DbSession,
    region_id: int,
    kind: str,
    actor: str,
    now: datetime,
    shift_id: int | None = None,
    swap_id: int | None = None,
    **detail: Any,
) -> None:
    session.add(
        RotaEvent(
            region_id=region_id,
            kind=kind,
            shift_id=shift_id,
            swap_id=swap_id,
            actor=actor,
            detail=detail,
            at=now,
        )
    )


def _cost(
    member: PoolMember,
    hours: dict[int, float],
    holiday_load: dict[int, int],
    length: float,
    on_holiday: int,
) -> tuple[float, float, int]:
    """Load per unit of weight after taking the shift; holiday shifts go by holiday load first."""
    load = (hours[member.provider_id] + length) / member.weight
    if on_holiday:
        holiday = (holiday_load[member.provider_id] + on_holiday) / member.weight
        return (holiday, load, member.provider_id)
    return (load, holiday_load[member.provider_id] / member.weight, member.provider_id)


def generate_shifts(
    session: DbSession,
    region_id: int,
    *,
    now: datetime,
    horizon_days: int,
    pattern: Sequence[tuple[int, time]],
    holidays: set[date] | None = None,
    actor: str = "system",
) -> int:
    """Add shifts from the end of the rota (or the last handover before `now`) up to the horizon.

    Idempotent: a second run finds the rota already long enough and adds nothing.
    """
    members = pool(session, region_id)
    if not members:
        return 0
    horizon_end = now + timedelta(days=horizon_days)
    last_end = session.scalar(
        select(func.max(RotaShift.ends_at)).where(
            RotaShift.region_id == region_id, RotaShift.status == "active"
        )
    )
    if last_end is not None and last_end >= horizon_end:
        return 0
    previous = handovers(pattern, now - timedelta(days=8), now)
    start = previous[-1] if previous else now
    if last_end is not None and last_end > start:
        start = last_end
    boundaries = [
        b for b in handovers(pattern, start, horizon_end + timedelta(days=8)) if b > start
    ]
    spans: list[tuple[datetime, datetime]] = []
    cursor = start
    for boundary in boundaries:
        spans.append((cursor, boundary))
        cursor = boundary
        if cursor >= horizon_end:
            break
    if not spans:
        return 0
    if holidays is None:
        years = range(start.year - 1, horizon_end.year + 2)
        holidays = holiday_dates(None, years)

    hours: dict[int, float] = defaultdict(float)
    holiday_load: dict[int, int] = defaultdict(int)
    for shift in session.scalars(
        select(RotaShift).where(
            RotaShift.region_id == region_id,
            RotaShift.status == "active",
            RotaShift.ends_at > start - FAIRNESS_WINDOW,
        )
    ):
        hours[shift.provider_id] += (shift.ends_at - shift.starts_at).total_seconds() / 3600
        holiday_load[shift.provider_id] += _holidays_in(shift.starts_at, shift.ends_at, holidays)

    created = 0
    for starts_at, ends_at in spans:
        length = (ends_at - starts_at).total_seconds() / 3600
        on_holiday = _holidays_in(starts_at, ends_at, holidays)

        chosen = min(members, key=lambda m: _cost(m, hours, holiday_load, length, on_holiday))
        hours[chosen.provider_id] += length
        holiday_load[chosen.provider_id] += on_holiday
        session.add(
            RotaShift(
                region_id=region_id,
                provider_id=chosen.provider_id,
                starts_at=starts_at,
                ends_at=ends_at,
                kind="regular",
                status="active",
                holiday=bool(on_holiday),
                created_at=now,
            )
        )
        created += 1
    record_event(
        session,
        region_id,
        "generated",
        actor,
        now,
        shifts=created,
        starts_at=spans[0][0].isoformat(),
        ends_at=spans[-1][1].isoformat(),
    )
    session.flush()
    return created


def generate_all(
    session: DbSession,
    *,
    now: datetime,
    horizon_days: int,
    pattern: Sequence[tuple[int, time]],
    holiday_setting: str | None = None,
) -> int:
    end = now + timedelta(days=horizon_days)
    dates = holiday_dates(holiday_setting, range(now.year - 1, end.year + 2))
    total = 0
    for region_id in session.scalars(select(Region.id).order_by(Region.id)):
        total += generate_shifts(
            session,
            region_id,
            now=now,
            horizon_days=horizon_days,
            pattern=pattern,
            holidays=dates,
        )
    return total


# --- reads ----------------------------------------------------------------------------------


def shifts_between(
    session: DbSession, region_id: int, start: datetime, end: datetime
) -> list[RotaShift]:
    return list(
        session.scalars(
            select(RotaShift)
            .where(
                RotaShift.region_id == region_id,
                RotaShift.status == "active",
                RotaShift.starts_at < end,
                RotaShift.ends_at > start,
            )
            .order_by(RotaShift.starts_at)
        )
    )


def find_gaps(
    session: DbSession, region_id: int, start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """Stretches in [start, end) without an active shift."""
    gaps: list[tuple[datetime, datetime]] = []
    cursor = start
    for shift in shifts_between(session, region_id, start, end):
        if shift.starts_at > cursor:
            gaps.append((cursor, shift.starts_at))
        cursor = max(cursor, shift.ends_at)
    if cursor < end:
        gaps.append((cursor, end))
    return gaps


def region_by_code(session: DbSession, code: str, regions: frozenset[int] | None = None) -> Region:
    """The region by code; only among `regions` when given (`auth.visible_regions()`), so a
    coordinator asking for another region's rota gets the same 404 as for an unknown code."""
    region = session.scalars(
        select(Region).where(Region.code == code, in_visible_regions(regions, Region.id))
    ).first()
    if region is None:
        raise NotFound(f"Regio '{code}' bestaat niet.")
    return region
