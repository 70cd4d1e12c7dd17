"""What the rota tells people: gap alerts to coordinators, shift reminders, handover notes."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import func, select

from respijt import clock
from respijt.database import DbSession
from respijt.errors import Forbidden, InvalidInput
from respijt.meldpunt import alerts
from respijt.meldpunt.generation import find_gaps, pool, record_event
from respijt.messages import outbox
from respijt.models import HandoverNote, Region, RotaShift

# --- gaps and reminders ---------------------------------------------------------------------


def alert_gaps(
    session: DbSession, *, now: datetime, horizon_days: int, region_id: int | None = None
) -> int:
    """Alert the region's coordinator once per gap in the horizon (deduped by its start): their
    mobile, else by e-mail, else a visible failure (`meldpunt.alerts`).

    Regions without a pool have no meldpunt and are skipped.
    """
    queued = 0
    end = now + timedelta(days=horizon_days)
    regions = select(Region).order_by(Region.id)
    if region_id is not None:
        regions = regions.where(Region.id == region_id)
    for region in session.scalars(regions):
        if not pool(session, region.id):
            continue
        gaps = find_gaps(session, region.id, now, end)
        for gap_start, gap_end in gaps:
            # Nobody is on duty in a gap: the coordinator's mobile, else e-mail, else visible.
            queued += alerts.send_alert(
                session,
                region_id=region.id,
                template="rota_gap",
                context={
                    "region": region.code,
                    "starts_at": gap_start.isoformat(),
                    "ends_at": gap_end.isoformat(),
                },
                key=f"rota-gap:{region.id}:{gap_start.isoformat()}",
                now=now,
                start="coordinator",
                urgent=gap_start - now < timedelta(hours=24),
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
        # A reminder, not an alert: the mobile when there is one, else the duty phone (a
        # landline ends as a `skipped` row that says so).
        phone = alerts.provider_mobile(shift.provider) or shift.provider.duty_phone
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
            region_id=shift.region_id,
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
    record_event(
        session, region_id, "handover_note", f"provider:{provider_id}", now, shift_id=shift.id
    )
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
