"""The meldpunt: its duty rota (shifts, swap requests, history, handover notes, iCal feeds)
and the phone calls routed to whoever is on duty (one row per leg), with voicemails."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from respijt.models.base import Base, UTCDateTime
from respijt.models.registry import Provider

SHIFT_KINDS = ("regular", "override", "swap")
SHIFT_STATUSES = ("active", "replaced")
SWAP_STATUSES = ("open", "taken", "done", "withdrawn", "refused")
CALL_STATUSES = ("routing", "answered", "voicemail", "missed", "after_hours")
LEG_ROLES = ("duty", "backup", "coordinator")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ('" + "', '".join(values) + "')"


class RotaShift(Base):
    """One provider on duty for a region from `starts_at` to `ends_at` (UTC, half-open).

    Shifts are never edited: an override or a swap marks the shift `replaced` and adds new rows,
    so a reminder (deduped per shift) follows the provider who actually has the duty. At most one
    active shift starts at a given instant per region (partial unique index).
    """

    __tablename__ = "rota_shift"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint(_in("kind", SHIFT_KINDS), name="known_kind"),
        CheckConstraint(_in("status", SHIFT_STATUSES), name="known_status"),
        Index(
            "uq_rota_shift_active_start",
            "region_id",
            "starts_at",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
        Index("ix_rota_shift_region_span", "region_id", "status", "ends_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"))
    provider_id: Mapped[int] = mapped_column(ForeignKey("provider.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(10), default="regular")
    status: Mapped[str] = mapped_column(String(10), default="active")
    holiday: Mapped[bool] = mapped_column(default=False)
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("rota_shift.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    provider: Mapped[Provider] = relationship()


class RotaSwap(Base):
    """A provider offers a shift; another takes it; a coordinator may have to approve."""

    __tablename__ = "rota_swap"
    __table_args__ = (CheckConstraint(_in("status", SWAP_STATUSES), name="known_status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shift_id: Mapped[int] = mapped_column(ForeignKey("rota_shift.id"), index=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    offered_by_id: Mapped[int] = mapped_column(ForeignKey("provider.id"))
    taken_by_id: Mapped[int | None] = mapped_column(ForeignKey("provider.id"))
    status: Mapped[str] = mapped_column(String(10), default="open")
    note: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RotaEvent(Base):
    """Appended history of every rota change; never edited."""

    __tablename__ = "rota_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    shift_id: Mapped[int | None] = mapped_column(ForeignKey("rota_shift.id"))
    swap_id: Mapped[int | None] = mapped_column(ForeignKey("rota_swap.id"))
    actor: Mapped[str] = mapped_column(String(60))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class HandoverNote(Base):
    """What the outgoing duty provider leaves the incoming one: open matters, no health data."""

    __tablename__ = "handover_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("provider.id"))
    shift_id: Mapped[int | None] = mapped_column(ForeignKey("rota_shift.id"))
    body: Mapped[str] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RotaFeedToken(Base):
    """The secret of a provider's iCal feed URL, stored as a SHA-256 digest."""

    __tablename__ = "rota_feed_token"

    provider_id: Mapped[int] = mapped_column(ForeignKey("provider.id"), primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class MeldpuntCall(Base):
    """One call to a region's meldpunt number, from Twilio's first webhook to its end."""

    __tablename__ = "meldpunt_call"
    __table_args__ = (CheckConstraint(_in("status", CALL_STATUSES), name="known_status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_sid: Mapped[str] = mapped_column(String(64), unique=True)
    region_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"), index=True)
    from_number: Mapped[str] = mapped_column(String(32))
    to_number: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(12), default="routing")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_by_id: Mapped[int | None] = mapped_column(ForeignKey("provider.id"))
    care_request_id: Mapped[int | None] = mapped_column(ForeignKey("care_request.id"))

    legs: Mapped[list[CallLeg]] = relationship(order_by="CallLeg.seq")


class CallLeg(Base):
    """One number tried for a call: who, when, and what came of it."""

    __tablename__ = "call_leg"
    __table_args__ = (CheckConstraint(_in("role", LEG_ROLES), name="known_role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("meldpunt_call.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(12))
    number: Mapped[str] = mapped_column(String(32))
    provider_id: Mapped[int | None] = mapped_column(ForeignKey("provider.id"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # accepted | no-answer | busy | failed | canceled | not-accepted (picked up, never pressed 1)
    outcome: Mapped[str | None] = mapped_column(String(20))


class Voicemail(Base):
    """A message left when nobody accepted: the meldpunt's call-back worklist."""

    __tablename__ = "voicemail"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("meldpunt_call.id"), unique=True)
    region_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"), index=True)
    caller_number: Mapped[str] = mapped_column(String(32))
    recording_url: Mapped[str | None] = mapped_column(String(500))
    duration_seconds: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_by: Mapped[str | None] = mapped_column(String(60))
