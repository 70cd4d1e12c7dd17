"""The SMS the beds room sends: a reminder to a location whose published figures went stale.

Called by the scheduler's job inside its transaction; once per location per local day.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select

from respijt import clock
from respijt.database import DbSession
from respijt.messages import outbox
from respijt.models import Location, Unit
from respijt.reservations.notices import provider_recipient


def remind_stale_locations(session: DbSession, *, now: datetime, stale_after_hours: int) -> int:
    """Queue one reminder per stale location per local day; returns how many were queued.

    Stale: figures not confirmed for `stale_after_hours` (or never), with at least one unit in
    use. Idempotent per day through the dedupe key, so a second run the same day adds nothing.
    """
    cutoff = now - timedelta(hours=stale_after_hours)
    local_day = now.astimezone(clock.LOCAL_TZ).date().isoformat()
    in_use = select(Unit.id).where(Unit.location_id == Location.id, Unit.retired_at.is_(None))
    locations = session.scalars(
        select(Location)
        .where(
            or_(Location.last_confirmed_at.is_(None), Location.last_confirmed_at < cutoff),
            in_use.exists(),
        )
        .order_by(Location.id)
    )
    queued = 0
    for location in locations:
        recipient = location.contact_mobile or provider_recipient(location)
        if not recipient:
            continue
        last = location.last_confirmed_at
        if outbox.queue(
            session,
            recipient=recipient,
            template="location_stale_reminder",
            context={
                "location": location.name,
                "last_confirmed": last.astimezone(clock.LOCAL_TZ).date().isoformat()
                if last
                else None,
            },
            dedupe_key=f"stale-location:{location.id}:{local_day}",
            region_id=location.municipality.region_id,
            now=now,
        ):
            queued += 1
    return queued
