"""A provider's meldpunt shifts as an RFC 5545 calendar, behind a secret feed token.

Only the token's SHA-256 digest is stored. Functions flush, never commit.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from respijt.database import DbSession
from respijt.models import Provider, Region, RotaFeedToken, RotaShift


def feed_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_feed_token(session: DbSession, provider_id: int, now: datetime) -> str:
    """A new secret for the provider's iCal URL; the previous one stops working."""
    secret = secrets.token_urlsafe(32)
    row = session.get(RotaFeedToken, provider_id)
    if row is None:
        session.add(
            RotaFeedToken(provider_id=provider_id, digest=feed_digest(secret), created_at=now)
        )
    else:
        row.digest = feed_digest(secret)
        row.created_at = now
    session.flush()
    return secret


def provider_for_feed(session: DbSession, secret: str) -> Provider | None:
    row = session.scalars(
        select(RotaFeedToken).where(RotaFeedToken.digest == feed_digest(secret))
    ).first()
    return session.get(Provider, row.provider_id) if row is not None else None


def _ical_text(value: str) -> str:
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _fold(line: str) -> str:
    """RFC 5545 §3.1: lines longer than 75 octets continue on lines starting with a space."""
    raw = line.encode()
    if len(raw) <= 75:
        return line
    parts: list[str] = []
    current = b""
    limit = 75
    for char in line:
        encoded = char.encode()
        if len(current) + len(encoded) > limit:
            parts.append(current.decode())
            current = b""
            limit = 74  # the leading space counts
        current += encoded
    parts.append(current.decode())
    return "\r\n ".join(parts)


def _ical_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def ical_feed(session: DbSession, provider: Provider, now: datetime, host: str) -> str:
    """The provider's shifts (last 30 days and all ahead) as an RFC 5545 calendar."""
    shifts = session.scalars(
        select(RotaShift)
        .where(
            RotaShift.provider_id == provider.id,
            RotaShift.status == "active",
            RotaShift.ends_at > now - timedelta(days=30),
        )
        .order_by(RotaShift.starts_at)
    )
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//respijt//meldpunt rooster//NL",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{_ical_text('Meldpuntdiensten ' + provider.name)}",
    ]
    for shift in shifts:
        region = session.get(Region, shift.region_id)
        region_name = region.name if region else ""
        lines += [
            "BEGIN:VEVENT",
            f"UID:rota-shift-{shift.id}@{host}",
            f"DTSTAMP:{_ical_time(now)}",
            f"DTSTART:{_ical_time(shift.starts_at)}",
            f"DTEND:{_ical_time(shift.ends_at)}",
            f"SUMMARY:{_ical_text('Dienst meldpunt logeerzorg ' + region_name)}",
            f"DESCRIPTION:{_ical_text('U bent het meldpunt van ' + region_name + '.')}",
            "TRANSP:OPAQUE",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "".join(_fold(line) + "\r\n" for line in lines)
