"""The meldpunt duty rota per region: shifts generated ahead, overrides, swaps, gaps, reminders.

Shifts are defined in local wall-clock time (Europe/Amsterdam) and stored in UTC: every handover
is built from its own local date and time, so a week across a DST change is one local week
(167 or 169 hours), never 168 hours of real time. Shares follow the pool weights: each new
shift goes to the provider whose load per unit of weight would be lowest after taking it
(hours over the past year), and shifts holding a public holiday are dealt by the holiday load
first, so holidays rotate fairly too.

A shift's provider and start never change; an override shortens the shifts it cuts into or
replaces them, and a completed swap replaces the shift by a new row for the taker — so the
reminders (deduped per shift) follow whoever actually has the duty. Every change appends a
`RotaEvent`. Functions flush, never commit.
"""

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
from respijt.errors import DomainError, Forbidden, InvalidInput, NotFound
from respijt.models import (
    HandoverNote,
    ProviderRegion,
    Region,
    RotaEvent,
    RotaShift,
    RotaSwap,
)
from respijt.notifications import outbox

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


class RotaConflict(DomainError):
    status = 409
    title = "Wijziging rooster niet mogelijk"
    code = "rota_conflict"


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


def _event(
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
    _event(
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


def region_by_code(session: DbSession, code: str) -> Region:
    region = session.scalars(select(Region).where(Region.code == code)).first()
    if region is None:
        raise NotFound(f"Regio '{code}' bestaat niet.")
    return region


# --- overrides and swaps --------------------------------------------------------------------


def _shift_for_update(session: DbSession, shift_id: int) -> RotaShift:
    shift = session.scalars(
        select(RotaShift).where(RotaShift.id == shift_id).with_for_update()
    ).first()
    if shift is None:
        raise NotFound(f"Dienst {shift_id} bestaat niet.")
    return shift


def _ensure_serves(session: DbSession, provider_id: int, region_id: int) -> None:
    served = session.get(ProviderRegion, (provider_id, region_id))
    if served is None:
        raise InvalidInput(
            "Deze aanbieder werkt niet in deze regio.",
            [{"name": "provider_id", "code": "not_in_region", "reason": "Niet in deze regio."}],
        )


def apply_override(
    session: DbSession,
    region_id: int,
    *,
    provider_id: int | None,
    starts_at: datetime,
    ends_at: datetime,
    actor: str,
    now: datetime,
    reason: str | None = None,
) -> RotaShift | None:
    """The coordinator puts `provider_id` on duty for [starts_at, ends_at) (None: nobody).

    Shifts that overlap are shortened (the part before), continued by a new row (the part after),
    or replaced when covered entirely.
    """
    if ends_at <= starts_at:
        raise InvalidInput(
            "Het einde moet na het begin liggen.",
            [{"name": "ends_at", "code": "before_start", "reason": "Vóór het begin."}],
        )
    if ends_at <= now:
        raise InvalidInput(
            "Een wijziging in het verleden is niet mogelijk.",
            [{"name": "ends_at", "code": "in_past", "reason": "Ligt in het verleden."}],
        )
    if provider_id is not None:
        _ensure_serves(session, provider_id, region_id)
    overlapping = list(
        session.scalars(
            select(RotaShift)
            .where(
                RotaShift.region_id == region_id,
                RotaShift.status == "active",
                RotaShift.starts_at < ends_at,
                RotaShift.ends_at > starts_at,
            )
            .order_by(RotaShift.starts_at)
            .with_for_update()
        )
    )
    continuations: list[RotaShift] = []
    for shift in overlapping:
        if shift.ends_at > ends_at:
            continuations.append(
                RotaShift(
                    region_id=region_id,
                    provider_id=shift.provider_id,
                    starts_at=ends_at,
                    ends_at=shift.ends_at,
                    kind=shift.kind,
                    status="active",
                    holiday=shift.holiday,
                    replaces_id=shift.id,
                    created_at=now,
                )
            )
        if shift.starts_at < starts_at:
            shift.ends_at = starts_at
        else:
            shift.status = "replaced"
    session.flush()  # free the (region, start) slots before new rows take them
    created: RotaShift | None = None
    if provider_id is not None:
        created = RotaShift(
            region_id=region_id,
            provider_id=provider_id,
            starts_at=starts_at,
            ends_at=ends_at,
            kind="override",
            status="active",
            holiday=False,
            created_at=now,
        )
        session.add(created)
    session.add_all(continuations)
    session.flush()
    _event(
        session,
        region_id,
        "override",
        actor,
        now,
        shift_id=created.id if created else None,
        provider_id=provider_id,
        starts_at=starts_at.isoformat(),
        ends_at=ends_at.isoformat(),
        reason=reason,
        touched=[s.id for s in overlapping],
    )
    session.flush()
    return created


def offer_swap(
    session: DbSession, shift_id: int, *, provider_id: int, now: datetime, note: str | None = None
) -> RotaSwap:
    shift = _shift_for_update(session, shift_id)
    if shift.provider_id != provider_id:
        raise Forbidden("U kunt alleen een eigen dienst ter ruil aanbieden.")
    if shift.status != "active" or shift.starts_at <= now:
        raise RotaConflict("Alleen een dienst die nog moet beginnen kan worden geruild.")
    existing = session.scalars(
        select(RotaSwap).where(
            RotaSwap.shift_id == shift.id, RotaSwap.status.in_(("open", "taken"))
        )
    ).first()
    if existing is not None:
        raise RotaConflict("Voor deze dienst loopt al een ruilverzoek.", swap_id=existing.id)
    swap = RotaSwap(
        shift_id=shift.id,
        region_id=shift.region_id,
        offered_by_id=provider_id,
        status="open",
        note=note,
        created_at=now,
    )
    session.add(swap)
    session.flush()
    _event(
        session,
        shift.region_id,
        "swap_offered",
        f"provider:{provider_id}",
        now,
        shift_id=shift.id,
        swap_id=swap.id,
    )
    session.flush()
    return swap


def _swap_for_update(session: DbSession, swap_id: int) -> RotaSwap:
    swap = session.scalars(select(RotaSwap).where(RotaSwap.id == swap_id).with_for_update()).first()
    if swap is None:
        raise NotFound(f"Ruilverzoek {swap_id} bestaat niet.")
    return swap


def _complete_swap(session: DbSession, swap: RotaSwap, now: datetime, actor: str) -> RotaShift:
    shift = _shift_for_update(session, swap.shift_id)
    if shift.status != "active" or shift.provider_id != swap.offered_by_id or shift.ends_at <= now:
        swap.status = "refused"
        swap.decided_at = now
        session.flush()
        raise RotaConflict("De dienst is intussen gewijzigd; het ruilverzoek vervalt.")
    assert swap.taken_by_id is not None
    shift.status = "replaced"
    session.flush()
    replacement = RotaShift(
        region_id=shift.region_id,
        provider_id=swap.taken_by_id,
        starts_at=shift.starts_at,
        ends_at=shift.ends_at,
        kind="swap",
        status="active",
        holiday=shift.holiday,
        replaces_id=shift.id,
        created_at=now,
    )
    session.add(replacement)
    swap.status = "done"
    swap.decided_at = now
    session.flush()
    _event(
        session,
        shift.region_id,
        "swap_done",
        actor,
        now,
        shift_id=replacement.id,
        swap_id=swap.id,
        from_provider=swap.offered_by_id,
        to_provider=swap.taken_by_id,
    )
    session.flush()
    return replacement


def take_swap(
    session: DbSession, swap_id: int, *, provider_id: int, now: datetime, approval_required: bool
) -> RotaSwap:
    swap = _swap_for_update(session, swap_id)
    if swap.status != "open":
        raise RotaConflict("Dit ruilverzoek staat niet meer open.")
    if swap.offered_by_id == provider_id:
        raise RotaConflict("U kunt uw eigen dienst niet overnemen.")
    member = session.get(ProviderRegion, (provider_id, swap.region_id))
    if member is None or not member.in_pool:
        raise Forbidden("Alleen aanbieders uit de pool van deze regio kunnen een dienst overnemen.")
    swap.taken_by_id = provider_id
    swap.status = "taken"
    session.flush()
    _event(
        session,
        swap.region_id,
        "swap_taken",
        f"provider:{provider_id}",
        now,
        shift_id=swap.shift_id,
        swap_id=swap.id,
    )
    if not approval_required:
        _complete_swap(session, swap, now, f"provider:{provider_id}")
    session.flush()
    return swap


def approve_swap(session: DbSession, swap_id: int, *, actor: str, now: datetime) -> RotaSwap:
    swap = _swap_for_update(session, swap_id)
    if swap.status != "taken":
        raise RotaConflict("Alleen een overgenomen ruilverzoek kan worden goedgekeurd.")
    _complete_swap(session, swap, now, actor)
    return swap


def refuse_swap(session: DbSession, swap_id: int, *, actor: str, now: datetime) -> RotaSwap:
    swap = _swap_for_update(session, swap_id)
    if swap.status not in ("open", "taken"):
        raise RotaConflict("Dit ruilverzoek is al afgehandeld.")
    swap.status = "refused"
    swap.decided_at = now
    _event(
        session, swap.region_id, "swap_refused", actor, now, shift_id=swap.shift_id, swap_id=swap.id
    )
    session.flush()
    return swap


def withdraw_swap(session: DbSession, swap_id: int, *, provider_id: int, now: datetime) -> RotaSwap:
    swap = _swap_for_update(session, swap_id)
    if swap.offered_by_id != provider_id:
        raise Forbidden("Alleen de aanbieder die de dienst aanbood kan het verzoek intrekken.")
    if swap.status != "open":
        raise RotaConflict("Een ruilverzoek kan alleen worden ingetrokken zolang niemand het nam.")
    swap.status = "withdrawn"
    swap.decided_at = now
    _event(
        session,
        swap.region_id,
        "swap_withdrawn",
        f"provider:{provider_id}",
        now,
        shift_id=swap.shift_id,
        swap_id=swap.id,
    )
    session.flush()
    return swap


# --- gaps and reminders ---------------------------------------------------------------------


def alert_gaps(session: DbSession, *, now: datetime, horizon_days: int) -> int:
    """Queue one SMS to the region's coordinator per gap in the horizon (deduped by its start).

    Regions without a pool have no meldpunt and are skipped.
    """
    queued = 0
    end = now + timedelta(days=horizon_days)
    for region in session.scalars(select(Region).order_by(Region.id)):
        if not pool(session, region.id):
            continue
        gaps = find_gaps(session, region.id, now, end)
        if not gaps or not region.coordinator_phone:
            continue
        for gap_start, gap_end in gaps:
            queued += outbox.queue(
                session,
                recipient=region.coordinator_phone,
                template="rota_gap",
                context={
                    "region": region.code,
                    "starts_at": gap_start.isoformat(),
                    "ends_at": gap_end.isoformat(),
                },
                dedupe_key=f"rota-gap:{region.id}:{gap_start.isoformat()}",
                urgent=gap_start - now < timedelta(hours=24),
                now=now,
            )
    return queued


EVE_AT = time(18, 0)
START_WINDOW = timedelta(hours=12)
END_WINDOW = timedelta(hours=12)


def send_reminders(session: DbSession, *, now: datetime) -> int:
    """Reminders to the incoming provider (the day before at 18:00 and at the start) and to the
    outgoing one (at the end). Deduped per shift and kind, so each goes once; replaced shifts
    get none, so reminders follow overrides and swaps."""
    queued = 0
    shifts = session.scalars(
        select(RotaShift)
        .where(
            RotaShift.status == "active",
            RotaShift.starts_at <= now + timedelta(hours=40),
            RotaShift.ends_at > now - END_WINDOW,
        )
        .order_by(RotaShift.starts_at, RotaShift.id)
    )
    for shift in shifts:
        phone = shift.provider.duty_phone
        if not phone:
            continue
        region = session.get(Region, shift.region_id)
        assert region is not None
        eve = datetime.combine(
            shift.starts_at.astimezone(clock.LOCAL_TZ).date() - timedelta(days=1),
            EVE_AT,
            tzinfo=clock.LOCAL_TZ,
        )
        kind: str | None = None
        if eve <= now < shift.starts_at:
            kind = "eve"
        elif shift.starts_at <= now < min(shift.ends_at, shift.starts_at + START_WINDOW):
            kind = "start"
        elif shift.ends_at <= now < shift.ends_at + END_WINDOW:
            kind = "end"
        if kind is None:
            continue
        context = {
            "region": region.code,  # the code: a region's full name can fill an SMS
            "starts_at": shift.starts_at.isoformat(),
            "ends_at": shift.ends_at.isoformat(),
            "handover_count": (
                _open_note_count(session, shift.region_id, now) if kind == "start" else 0
            ),
        }
        queued += outbox.queue(
            session,
            recipient=phone,
            template=f"rota_reminder_{kind}",
            context=context,
            dedupe_key=f"rota:{shift.id}:{kind}",
            now=now,
        )
    return queued


# --- handover notes -------------------------------------------------------------------------

NOTE_DAYS = 14


def add_handover_note(
    session: DbSession,
    *,
    region_id: int,
    provider_id: int,
    body: str,
    now: datetime,
    grace: timedelta,
) -> HandoverNote:
    """The provider on duty (or just off duty, within the grace) leaves a note for the next."""
    text = " ".join(body.split())
    if not text:
        raise InvalidInput(
            "Een overdrachtsnotitie mag niet leeg zijn.",
            [{"name": "body", "code": "empty", "reason": "Leeg."}],
        )
    shift = session.scalars(
        select(RotaShift)
        .where(
            RotaShift.region_id == region_id,
            RotaShift.provider_id == provider_id,
            RotaShift.status == "active",
            RotaShift.starts_at <= now,
            RotaShift.ends_at > now - grace,
        )
        .order_by(RotaShift.starts_at.desc())
    ).first()
    if shift is None:
        raise Forbidden("Alleen de aanbieder die dienst heeft kan een overdrachtsnotitie maken.")
    note = HandoverNote(
        region_id=region_id,
        provider_id=provider_id,
        shift_id=shift.id,
        body=text[:2000],
        created_at=now,
    )
    session.add(note)
    session.flush()
    _event(session, region_id, "handover_note", f"provider:{provider_id}", now, shift_id=shift.id)
    session.flush()
    return note


def handover_notes(session: DbSession, region_id: int, now: datetime) -> list[HandoverNote]:
    """Notes of the last two weeks, newest first: the incoming provider reads these first."""
    return list(
        session.scalars(
            select(HandoverNote)
            .where(
                HandoverNote.region_id == region_id,
                HandoverNote.created_at > now - timedelta(days=NOTE_DAYS),
            )
            .order_by(HandoverNote.created_at.desc(), HandoverNote.id.desc())
        )
    )


def _open_note_count(session: DbSession, region_id: int, now: datetime) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(HandoverNote)
            .where(
                HandoverNote.region_id == region_id,
                HandoverNote.created_at > now - timedelta(days=2),
            )
        )
        or 0
    )
