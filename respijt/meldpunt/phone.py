"""Meldpunt phone routing: who to ring next, who took the call, voicemails and call-backs.

A call rings the duty provider, then the backup (the next provider in the rota), then the
region's coordinator, skipping numbers already tried. Voicemail answers calls too, so a leg
only counts as accepted when the callee pressed 1 after the whisper — our own record, never
Twilio's "completed". Every leg is a `CallLeg` row. Plain functions over a session; the
webhooks in respijt/api/twilio_voice.py are the transaction edge.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select, update

from respijt import clock
from respijt.database import DbSession
from respijt.errors import DomainError, NotFound
from respijt.meldpunt import alerts, duty
from respijt.models import (
    CallLeg,
    CareRequest,
    MeldpuntCall,
    Region,
    Voicemail,
)
from respijt.people.caller import in_visible_regions

ANSWERED_QUICKLY = timedelta(seconds=30)
DIAL_FAILURES = ("no-answer", "busy", "failed", "canceled")
_HOURS = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


def parse_opening_hours(value: str | None) -> tuple[time, time] | None:
    """`08:00-22:00` (local time, may wrap past midnight); empty or `24/7`: always open."""
    if value is None or not value.strip() or value.strip() == "24/7":
        return None
    match = _HOURS.match(value)
    if match is None:
        raise ValueError(f"RESPIJT_MELDPUNT_HOURS must look like 08:00-22:00, got {value!r}")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    start, end = time(h1, m1), time(h2, m2)
    return None if start == end else (start, end)


def is_open(now: datetime, setting: str | None) -> bool:
    window = parse_opening_hours(setting)
    if window is None:
        return True
    start, end = window
    moment = now.astimezone(clock.LOCAL_TZ).time()
    if start < end:
        return start <= moment < end
    return moment >= start or moment < end


def region_for_number(session: DbSession, to_number: str) -> Region | None:
    return session.scalars(select(Region).where(Region.meldpunt_number == to_number)).first()


def start_call(
    session: DbSession,
    *,
    call_sid: str,
    from_number: str,
    to_number: str,
    region: Region | None,
    now: datetime,
    status: str = "routing",
) -> MeldpuntCall:
    """The call row for `call_sid`, created once (a retried webhook finds it)."""
    call = session.scalars(select(MeldpuntCall).where(MeldpuntCall.call_sid == call_sid)).first()
    if call is not None:
        return call
    call = MeldpuntCall(
        call_sid=call_sid,
        region_id=region.id if region else None,
        from_number=from_number[:32],
        to_number=to_number[:32],
        status=status,
        started_at=now,
    )
    session.add(call)
    session.flush()
    return call


def _candidates(
    session: DbSession, region_id: int, now: datetime
) -> list[tuple[str, str, int | None]]:
    """(role, number, provider id) in the order they are rung."""
    found: list[tuple[str, str, int | None]] = []
    on_duty = duty.duty_provider(session, region_id, now)
    if on_duty is not None and on_duty.duty_phone:
        found.append(("duty", on_duty.duty_phone, on_duty.id))
    backup = duty.backup_provider(session, region_id, now)
    if backup is not None and backup.duty_phone:
        found.append(("backup", backup.duty_phone, backup.id))
    region = session.get(Region, region_id)
    if region is not None and region.coordinator_phone:
        found.append(("coordinator", region.coordinator_phone, None))
    return found


def fallback_numbers(session: DbSession, region_id: int) -> list[tuple[str, str]]:
    """(role, number) for the static fallback, rung in turn while respijt cannot be reached
    and so cannot know who is on duty: the region's coordinator line, then the duty phone of
    every pool provider (heaviest pool weight first, as `duty.backup_provider` picks), each
    number once."""
    found: list[tuple[str, str]] = []
    region = session.get(Region, region_id)
    if region is not None and region.coordinator_phone:
        found.append(("coordinator", region.coordinator_phone))
    for provider in duty.pool_providers(session, region_id):
        if provider.duty_phone and all(provider.duty_phone != n for _, n in found):
            found.append((f"pool:{provider.name}", provider.duty_phone))
    return found


def next_leg(session: DbSession, call: MeldpuntCall, now: datetime) -> CallLeg | None:
    """Start ringing the next number not tried yet; None when nobody is left."""
    if call.region_id is None:
        return None
    legs = list(session.scalars(select(CallLeg).where(CallLeg.call_id == call.id)))
    tried = {leg.number for leg in legs}
    for role, number, provider_id in _candidates(session, call.region_id, now):
        if number in tried:
            continue
        leg = CallLeg(
            call_id=call.id,
            seq=len(legs) + 1,
            role=role,
            number=number,
            provider_id=provider_id,
            started_at=now,
        )
        session.add(leg)
        session.flush()
        return leg
    return None


def get_leg(session: DbSession, leg_id: int) -> CallLeg:
    leg = session.get(CallLeg, leg_id)
    if leg is None:
        raise NotFound(f"Gesprekdeel {leg_id} bestaat niet.")
    return leg


def get_call(session: DbSession, call_id: int) -> MeldpuntCall:
    call = session.get(MeldpuntCall, call_id)
    if call is None:
        raise NotFound(f"Gesprek {call_id} bestaat niet.")
    return call


def accept_leg(session: DbSession, leg_id: int, now: datetime) -> bool:
    """The callee pressed 1. Only the first leg to accept wins (a conditional update)."""
    leg = get_leg(session, leg_id)
    won = session.execute(
        update(MeldpuntCall)
        .where(MeldpuntCall.id == leg.call_id, MeldpuntCall.answered_at.is_(None))
        .values(answered_at=now, status="answered", accepted_by_id=leg.provider_id)
        .execution_options(synchronize_session=False)
    )
    if not won.rowcount:  # type: ignore[attr-defined]
        return False
    leg.accepted_at = now
    session.flush()
    session.expire_all()
    return True


def after_leg(
    session: DbSession, leg_id: int, dial_status: str, call_status: str, now: datetime
) -> tuple[str, CallLeg | None]:
    """Twilio's <Dial> for this leg ended: log the outcome and say what comes next.

    ("done", None) when the callee accepted or the caller hung up, ("dial", leg) for the next
    number, ("voicemail", None) when nobody is left. A retried callback (the leg already ended)
    answers as the first one did, without ringing anyone new.
    """
    leg = get_leg(session, leg_id)
    first_time = leg.ended_at is None
    if first_time:
        leg.ended_at = now
        if leg.accepted_at is not None:
            leg.outcome = "accepted"
        elif dial_status in DIAL_FAILURES:
            leg.outcome = dial_status
        else:  # "completed" without a 1: a voicemail box, or a person who did not take it
            leg.outcome = "not-accepted"
        session.flush()
    if leg.accepted_at is not None:
        return "done", None
    call = get_call(session, leg.call_id)
    if not first_time:
        following = session.scalars(
            select(CallLeg).where(CallLeg.call_id == call.id, CallLeg.seq == leg.seq + 1)
        ).first()
        return ("dial", following) if following is not None else ("voicemail", None)
    if call_status in ("completed", "canceled"):  # the caller hung up while it rang
        mark_missed(session, call)
        return "done", None
    following = next_leg(session, call, now)
    return ("dial", following) if following is not None else ("voicemail", None)


def record_voicemail(
    session: DbSession,
    call: MeldpuntCall,
    *,
    recording_url: str | None,
    duration_seconds: int | None,
    now: datetime,
) -> Voicemail:
    """Store the voicemail and alert the meldpunt on duty (by the rule of `meldpunt.alerts`)
    with the number to call back."""
    existing = session.scalars(select(Voicemail).where(Voicemail.call_id == call.id)).first()
    if existing is not None:
        return existing
    voicemail = Voicemail(
        call_id=call.id,
        region_id=call.region_id,
        caller_number=call.from_number,
        recording_url=recording_url,
        duration_seconds=duration_seconds,
        created_at=now,
    )
    session.add(voicemail)
    call.status = "voicemail"
    session.flush()
    if call.region_id is not None:
        region = session.get(Region, call.region_id)
        assert region is not None
        # One alert, to the first who can read it: duty mobile, backup, coordinator, e-mail.
        alerts.send_alert(
            session,
            region_id=call.region_id,
            template="meldpunt_voicemail",
            context={"region": region.code, "caller": call.from_number},
            key=f"voicemail:{voicemail.id}",
            now=now,
        )
    return voicemail


def mark_missed(session: DbSession, call: MeldpuntCall) -> None:
    if call.status == "routing":
        call.status = "missed"
        session.flush()


# --- the console: call-back worklist, linking, weekly figures -------------------------------


class AlreadyDone(DomainError):
    status = 409
    title = "Al afgehandeld"
    code = "already_done"


def voicemails(session: DbSession, region_id: int | None, *, open_only: bool) -> list[Voicemail]:
    query = select(Voicemail).order_by(Voicemail.created_at)
    if region_id is not None:
        query = query.where(Voicemail.region_id == region_id)
    if open_only:
        query = query.where(Voicemail.done_at.is_(None))
    return list(session.scalars(query))


def mark_voicemail_done(
    session: DbSession, voicemail_id: int, *, actor: str, now: datetime
) -> Voicemail:
    voicemail = session.get(Voicemail, voicemail_id)
    if voicemail is None:
        raise NotFound(f"Voicemail {voicemail_id} bestaat niet.")
    if voicemail.done_at is not None:
        raise AlreadyDone("Deze terugbelactie is al afgehandeld.")
    voicemail.done_at = now
    voicemail.done_by = actor
    session.flush()
    return voicemail


def link_request(session: DbSession, call_id: int, reference: str) -> MeldpuntCall:
    call = get_call(session, call_id)
    request_id = session.scalar(select(CareRequest.id).where(CareRequest.reference == reference))
    if request_id is None:
        raise NotFound(f"Aanvraag {reference} bestaat niet.")
    call.care_request_id = request_id
    session.flush()
    return call


def week_bounds(week_start: date) -> tuple[datetime, datetime]:
    start = datetime.combine(week_start, time(0, 0), tzinfo=clock.LOCAL_TZ)
    end = datetime.combine(week_start + timedelta(days=7), time(0, 0), tzinfo=clock.LOCAL_TZ)
    return start, end


def call_stats(
    session: DbSession,
    start: datetime,
    end: datetime,
    region_id: int | None = None,
    regions: frozenset[int] | None = None,
) -> dict[str, int]:
    """Calls, answered (within 30 s), missed, voicemails and call-backs done in [start, end),
    for one region or, without `region_id`, for all of them (within `regions` when given:
    `auth.visible_regions()`)."""
    in_region = [in_visible_regions(regions, MeldpuntCall.region_id)]
    if region_id is not None:
        in_region.append(MeldpuntCall.region_id == region_id)
    calls = list(
        session.scalars(
            select(MeldpuntCall).where(
                *in_region,
                MeldpuntCall.started_at >= start,
                MeldpuntCall.started_at < end,
            )
        )
    )
    answered = [c for c in calls if c.answered_at is not None]
    quick = [c for c in answered if c.answered_at - c.started_at <= ANSWERED_QUICKLY]  # type: ignore[operator]
    voicemail_count = session.scalar(
        select(func.count())
        .select_from(Voicemail)
        .join(MeldpuntCall, MeldpuntCall.id == Voicemail.call_id)
        .where(*in_region, MeldpuntCall.started_at >= start, MeldpuntCall.started_at < end)
    )
    callbacks = session.scalar(
        select(func.count())
        .select_from(Voicemail)
        .where(
            in_visible_regions(regions, Voicemail.region_id),
            *([Voicemail.region_id == region_id] if region_id is not None else []),
            Voicemail.done_at >= start,
            Voicemail.done_at < end,
        )
    )
    return {
        "calls": len(calls),
        "answered": len(answered),
        "answered_within_30s": len(quick),
        "missed": sum(1 for c in calls if c.answered_at is None and c.status != "after_hours"),
        "after_hours": sum(1 for c in calls if c.status == "after_hours"),
        "voicemails": int(voicemail_count or 0),
        "callbacks": int(callbacks or 0),
    }


def meldpunt_calls_kpi(session: DbSession, f: Any, s: Any, now: datetime) -> dict[str, Any] | None:
    """The KPI `meldpunt_calls` (claims.kpis): calls in the period, and the share answered
    within 30 s, through the report's suppression (callers are people). None without calls."""
    stats = call_stats(
        session,
        clock.local_midnight_utc(f.night_from),
        clock.local_midnight_utc(f.night_to),
        regions=f.regions,
    )
    if not stats["calls"]:
        return None
    share = round(stats["answered_within_30s"] / stats["calls"], 4)
    return {
        "calls": s.count("meldpunt_calls.calls", stats["calls"]),
        "answered_within_30s": s.count(
            "meldpunt_calls.answered_within_30s", stats["answered_within_30s"]
        ),
        "answered_within_30s_share": s.statistic(
            "meldpunt_calls.answered_within_30s_share", stats["calls"], share
        ),
        "missed": s.count("meldpunt_calls.missed", stats["missed"]),
        "voicemails": s.count("meldpunt_calls.voicemails", stats["voicemails"]),
        "callbacks": s.count("meldpunt_calls.callbacks", stats["callbacks"]),
    }


def weekly_stats(session: DbSession, region_id: int, week_start: date) -> dict[str, Any]:
    """Calls, answered within 30 s, missed, voicemails and call-backs done, for one local week."""
    start, end = week_bounds(week_start)
    return {"week_start": week_start.isoformat(), **call_stats(session, start, end, region_id)}
