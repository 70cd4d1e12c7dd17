"""What the rota tells people: gap alerts to coordinators, shift reminders, handover notes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import func, select

from respijt import clock
from respijt.database import DbSession
from respijt.errors import Forbidden, InvalidInput
from respijt.meldpunt import alerts
from respijt.meldpunt.generation import find_gaps, pool, record_event
from respijt.messages import outbox
from respijt.models import HandoverNote, Provider, Region, RotaShift, RotaSwap

# --- changes: overrides and swaps tell both sides ------------------------------------------

# A change this close to its start skips the quiet hours: the provider must know tonight.
SOON = timedelta(hours=24)


@dataclass
class Told:
    """Who hears of a rota change: the providers an SMS was queued for, and those without a
    mobile number (a visible failed row instead: someone must call them)."""

    sent: list[str] = field(default_factory=list)
    unreachable: list[str] = field(default_factory=list)

    def __iadd__(self, other: Told) -> Told:
        self.sent += other.sent
        self.unreachable += other.unreachable
        return self


def _tell(
    session: DbSession,
    provider_id: int,
    region_id: int,
    template: str,
    starts_at: datetime,
    ends_at: datetime,
    dedupe_key: str,
    now: datetime,
) -> Told:
    provider = session.get(Provider, provider_id)
    region = session.get(Region, region_id)
    assert region is not None
    told = Told()
    if provider is None:
        return told
    context = {
        "region": region.code,
        "starts_at": starts_at.isoformat(),
        "ends_at": ends_at.isoformat(),
    }
    recipient = alerts.provider_mobile(provider)
    if recipient is None:
        alerts.record_undeliverable(
            session,
            region_id=region_id,
            template=template,
            context=context,
            key=dedupe_key,
            now=now,
            reason=f"Niet verstuurd: {provider.name} heeft geen mobiel nummer. Bel de aanbieder "
            "en vraag een mobiel nummer voor het meldpunt.",
        )
        told.unreachable.append(provider.name)
        return told
    if outbox.queue(
        session,
        recipient=recipient,
        template=template,
        context=context,
        dedupe_key=dedupe_key,
        urgent=starts_at - now < SOON,
        now=now,
        region_id=region_id,
    ):
        told.sent.append(provider.name)
    return told


def tell_swap_done(session: DbSession, swap: RotaSwap, shift: RotaShift, now: datetime) -> Told:
    """A completed swap: the one who offered the shift hears it was taken over, the one who
    took it that the duty is theirs."""
    assert swap.taken_by_id is not None
    told = _tell(
        session,
        swap.offered_by_id,
        swap.region_id,
        "rota_swap_done_offerer",
        shift.starts_at,
        shift.ends_at,
        f"rota-swap:{swap.id}:done:offered",
        now,
    )
    told += _tell(
        session,
        swap.taken_by_id,
        swap.region_id,
        "rota_swap_done_taker",
        shift.starts_at,
        shift.ends_at,
        f"rota-swap:{swap.id}:done:taken",
        now,
    )
    return told


def tell_swap_refused(session: DbSession, swap: RotaSwap, now: datetime) -> Told:
    """A refused swap: both sides hear the rota stays as it was (the taker only if there was
    one)."""
    shift = session.get(RotaShift, swap.shift_id)
    assert shift is not None
    sides = [("offered", swap.offered_by_id)]
    if swap.taken_by_id is not None:
        sides.append(("taken", swap.taken_by_id))
    told = Told()
    for side, provider_id in sides:
        told += _tell(
            session,
            provider_id,
            swap.region_id,
            "rota_swap_refused",
            shift.starts_at,
            shift.ends_at,
            f"rota-swap:{swap.id}:refused:{side}",
            now,
        )
    return told


def tell_override(
    session: DbSession,
    region_id: int,
    *,
    provider_id: int | None,
    starts_at: datetime,
    ends_at: datetime,
    cut: list[tuple[int, datetime, datetime]],
    now: datetime,
) -> Told:
    """An override: the provider put on duty hears its new shift, every provider whose duty it
    cut hears which part it no longer has (`cut`: provider, from, to)."""
    key = (
        f"rota-override:{region_id}:{starts_at.isoformat()}:{ends_at.isoformat()}:{now.isoformat()}"
    )
    told = Told()
    if provider_id is not None:
        told += _tell(
            session,
            provider_id,
            region_id,
            "rota_override_on",
            starts_at,
            ends_at,
            f"{key}:on:{provider_id}",
            now,
        )
    for other, frm, to in cut:
        if other != provider_id:
            told += _tell(
                session, other, region_id, "rota_override_off", frm, to, f"{key}:off:{other}", now
            )
    return told


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
                # In UTC: the same gap read back from the database or still in memory (a
                # shift just shortened, in local time) gives the same key.
                key=f"rota-gap:{region.id}:{gap_start.astimezone(UTC).isoformat()}",
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
