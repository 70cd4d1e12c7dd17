"""Alerts meant for a phone, and the one rule for where they go.

An alert (a missed call with voicemail, a decline or expired offer on an urgent or soon
request, an urgent request without a fit, a gap in the rota) must reach someone who can act:

1. the on-duty provider's staff mobile (its duty phone when that is a mobile, else the first of
   its registered staff mobiles);
2. the backup's (the next provider in the rota), by the same rule;
3. the region's coordinator, when `coordinator_phone` is a mobile;
4. by e-mail, to the active coordinator accounts of the region (the outbox's `email` channel,
   sent with `messages/mail.py`);
5. nowhere: then the outbox keeps a `failed` row (`no_recipient`) that the console and
   `/health` show; an alert never ends as a quiet `skipped`.

Alerts about the rota itself (a gap) start at the coordinator (`start="coordinator"`): nobody
is on duty then. Every alert's dedupe key starts with `outbox.ALERT_PREFIX`, so the transport
can count the undelivered ones without knowing any room.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import select

from respijt.database import DbSession
from respijt.meldpunt import duty
from respijt.messages import outbox
from respijt.models import Provider, Region, User, UserRegion, UserRole

Start = Literal["duty", "coordinator"]


@dataclass(frozen=True)
class Recipient:
    channel: Literal["sms", "email"]
    address: str
    who: str  # "duty", "backup", "coordinator" (the mobile) or "coordinator-email"


def provider_mobile(provider: Provider | None) -> str | None:
    """A provider's number that takes SMS: its duty phone when that is a mobile, else the first
    registered staff mobile; None when it has neither."""
    if provider is None:
        return None
    number = outbox.sms_number(provider.duty_phone)
    if number:
        return number
    for staff in provider.staff_mobiles or []:
        number = outbox.sms_number(staff)
        if number:
            return number
    return None


def coordinator_emails(session: DbSession, region_id: int) -> list[str]:
    """The e-mail addresses of the region's active coordinator accounts, in account order."""
    return list(
        session.scalars(
            select(User.email)
            .join(UserRole, UserRole.user_id == User.id)
            .join(UserRegion, UserRegion.user_id == User.id)
            .where(
                UserRole.role == "coordinator",
                UserRegion.region_id == region_id,
                User.disabled_at.is_(None),
            )
            .order_by(User.id)
        )
    )


def recipient_for(
    session: DbSession, region_id: int, now: datetime, *, start: Start = "duty"
) -> Recipient | None:
    """The first of: duty mobile, backup mobile, coordinator mobile, coordinator e-mail."""
    if start == "duty":
        for who, provider in (
            ("duty", duty.duty_provider(session, region_id, now)),
            ("backup", duty.backup_provider(session, region_id, now)),
        ):
            number = provider_mobile(provider)
            if number:
                return Recipient("sms", number, who)
    region = session.get(Region, region_id)
    number = outbox.sms_number(region.coordinator_phone) if region is not None else None
    if number:
        return Recipient("sms", number, "coordinator")
    emails = coordinator_emails(session, region_id)
    if emails:
        return Recipient("email", emails[0], "coordinator-email")
    return None


def send_alert(
    session: DbSession,
    *,
    region_id: int,
    template: str,
    context: Mapping[str, Any],
    key: str,
    now: datetime,
    start: Start = "duty",
    urgent: bool = True,
) -> bool:
    """Queue one alert by the rule above (deduped by `key`): True when it is new. When it can
    go nowhere, the outbox holds a visible `failed` row instead."""
    dedupe_key = outbox.ALERT_PREFIX + key
    recipient = recipient_for(session, region_id, now, start=start)
    if recipient is None:
        return outbox.record_undeliverable(
            session,
            template=template,
            context=context,
            dedupe_key=dedupe_key,
            now=now,
            region_id=region_id,
        )
    return outbox.queue(
        session,
        recipient=recipient.address,
        template=template,
        context=context,
        dedupe_key=dedupe_key,
        urgent=urgent,
        now=now,
        region_id=region_id,
        channel=recipient.channel,
    )


def record_undeliverable(
    session: DbSession,
    *,
    region_id: int,
    template: str,
    context: Mapping[str, Any],
    key: str,
    now: datetime,
    reason: str | None = None,
) -> bool:
    """A message for a phone that has no number to go to (a provider without a mobile): a
    visible `failed` row, on the console ("Melding niet bezorgd") and in /health, never a quiet
    `skipped`. True when it is new."""
    return outbox.record_undeliverable(
        session,
        template=template,
        context=context,
        dedupe_key=outbox.ALERT_PREFIX + key,
        now=now,
        region_id=region_id,
        reason=reason,
    )


def undelivered_alerts(session: DbSession, region_ids: list[int], *, since: datetime) -> list[Any]:
    """Alerts about these regions since `since` that reached nobody (the console shows them)."""
    return outbox.undelivered_alerts(session, region_ids, since=since)
