"""The message outbox: one row per message, written in the transaction that causes it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from respijt.models.base import Base, UTCDateTime

OUTBOX_STATUSES = ("pending", "sending", "sent", "delivered", "undelivered", "failed", "skipped")


class OutboxMessage(Base):
    """An outbound message. Sent at most once per `dedupe_key` (DESIGN invariant 7).

    `context` holds only non-personal values (reference, short code, location, dates); the
    recipient's number is the one personal datum, kept for sending and retention.
    """

    __tablename__ = "outbox_message"
    __table_args__ = (
        CheckConstraint(
            "status IN ('pending', 'sending', 'sent', 'delivered', 'undelivered', 'failed', "
            "'skipped')",
            name="known_status",
        ),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        Index("ix_outbox_message_status_next_attempt", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    channel: Mapped[str] = mapped_column(String(10), default="sms")
    # E.164 for SMS; an e-mail address for the `email` channel (alerts, meldpunt/alerts.py).
    recipient: Mapped[str] = mapped_column(String(254))
    template: Mapped[str] = mapped_column(String(60))  # name under templates/sms/
    context: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Rendered when queued; the family's signed link as "[link]", made only when sent.
    body: Mapped[str] = mapped_column(Text)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(500))
    provider_message_id: Mapped[str | None] = mapped_column(String(64), index=True)
    error_code: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The region the message is about (its request's, its stay's location's, or the rota's),
    # so a coordinator lists only their own regions' messages; None: admins only.
    region_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"), index=True)
