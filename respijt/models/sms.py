"""SMS traffic with Twilio: delivery status events, opt-outs, inbound messages, webhook receipts.

The outbound message rows themselves live in the outbox (`models/outbox.py`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from respijt.models.base import Base, UTCDateTime

INBOUND_COMMANDS = (
    "opt_out",
    "opt_in",
    "confirm",
    "decline",
    "location_ok",
    "satisfaction",
    "other",
)


class MessageStatusEvent(Base):
    """One delivery status callback from Twilio, appended as it came (late, twice, out of order)."""

    __tablename__ = "message_status_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    sid: Mapped[str] = mapped_column(String(64), index=True)  # Twilio MessageSid
    status: Mapped[str] = mapped_column(String(20))
    error_code: Mapped[int | None] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    raw: Mapped[dict[str, Any]] = mapped_column(JSON)


class SmsOptOut(Base):
    """A number that texted STOP (or similar): nothing is sent to it until it texts START."""

    __tablename__ = "sms_opt_out"
    __table_args__ = (CheckConstraint("number LIKE '+%'", name="number_e164"),)

    number: Mapped[str] = mapped_column(String(20), primary_key=True)  # E.164
    since: Mapped[datetime] = mapped_column(UTCDateTime)
    keyword: Mapped[str] = mapped_column(String(20))


class InboundMessage(Base):
    """Every SMS received, with what we made of it."""

    __tablename__ = "inbound_message"
    __table_args__ = (
        CheckConstraint(
            "command IN ('" + "', '".join(INBOUND_COMMANDS) + "')", name="known_command"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sid: Mapped[str] = mapped_column(String(64), unique=True)
    from_number: Mapped[str] = mapped_column(String(20), index=True)
    to_number: Mapped[str] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(String(1600))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    command: Mapped[str] = mapped_column(String(20))
    outcome: Mapped[str] = mapped_column(String(30))
    reservation_id: Mapped[int | None] = mapped_column(ForeignKey("reservation.id"))


class TwilioWebhookReceipt(Base):
    """An `I-Twilio-Idempotency-Token` already handled: a retry of it has no second effect."""

    __tablename__ = "twilio_webhook_receipt"

    token: Mapped[str] = mapped_column(String(100), primary_key=True)
    endpoint: Mapped[str] = mapped_column(String(20))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
