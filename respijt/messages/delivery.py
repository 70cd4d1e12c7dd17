"""Delivery status from Twilio's callbacks, opt-outs, and seen webhook tokens.

Twilio's status callbacks arrive late, twice and out of order. Every callback is appended to
`message_status_event`; the message's current status is the highest-ranked status seen, and a
final status (delivered, undelivered, failed, canceled) is never left again.

Plain functions over a session: they flush, never commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from respijt.database import DbSession
from respijt.models import MessageStatusEvent, OutboxMessage, SmsOptOut, TwilioWebhookReceipt

# Twilio message statuses by progress. "read" only exists for WhatsApp; kept for completeness.
STATUS_RANK: dict[str, int] = {
    "accepted": 1,
    "scheduled": 1,
    "queued": 2,
    "sending": 3,
    "sent": 4,
    "delivered": 5,
    "undelivered": 5,
    "failed": 5,
    "canceled": 5,
    "read": 6,
}
FINAL_STATUSES = frozenset({"delivered", "undelivered", "failed", "canceled", "read"})


def next_status(current: str | None, new: str) -> str | None:
    """The status after `new` arrives: it only moves forward, never away from a final one."""
    if new not in STATUS_RANK:
        return current  # a status we do not know (yet): recorded, not acted upon
    if current is None:
        return new
    if current in FINAL_STATUSES:
        return current
    return new if STATUS_RANK[new] > STATUS_RANK.get(current, 0) else current


# Only final delivery news changes an outbox row that Twilio accepted ("sent"); the outbox
# keeps its own statuses, and its CHECK allows delivered, undelivered and failed.
OUTBOX_FINAL_STATUS = {
    "delivered": "delivered",
    "read": "delivered",
    "undelivered": "undelivered",
    "failed": "failed",
    "canceled": "failed",
}


def _update_outbox_row(session: DbSession, sid: str, status: str, error_code: int | None) -> None:
    """Move the outbox row Twilio knows as `sid` to a final status.

    One conditional UPDATE that only touches a row still at "sent" (accepted by Twilio), so a
    late or racing callback can never move a row back from a final status.
    """
    target = OUTBOX_FINAL_STATUS.get(status)
    if target is None:
        return
    values: dict[str, Any] = {"status": target}
    if error_code is not None:
        values["error_code"] = str(error_code)
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.provider_message_id == sid, OutboxMessage.status == "sent")
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def current_status(session: DbSession, sid: str) -> tuple[str | None, int | None]:
    """The status (and its error code) that the appended events of one message add up to."""
    status: str | None = None
    error_code: int | None = None
    for event_status, event_error in session.execute(
        select(MessageStatusEvent.status, MessageStatusEvent.error_code)
        .where(MessageStatusEvent.sid == sid)
        .order_by(MessageStatusEvent.id)
    ):
        new = next_status(status, event_status)
        if new != status:
            status, error_code = new, event_error
    return status, error_code


def apply_status(
    session: DbSession,
    sid: str,
    status: str,
    error_code: int | None,
    *,
    now: datetime,
    raw: Mapping[str, Any] | None = None,
) -> str | None:
    """Append one status event, bring the outbox row up to date, and return the message's
    resulting current status."""
    status = status.strip().lower()
    session.add(
        MessageStatusEvent(
            sid=sid, status=status, error_code=error_code, at=now, raw=dict(raw or {})
        )
    )
    session.flush()
    current, current_error = current_status(session, sid)
    if current is not None:
        _update_outbox_row(session, sid, current, current_error)
    return current


# --- opt-outs -------------------------------------------------------------------------------


def is_opted_out(session: DbSession, number: str) -> bool:
    """True when `number` (E.164) texted STOP and not START since: send nothing to it."""
    return session.get(SmsOptOut, number) is not None


def opted_out_numbers(session: DbSession, numbers: Iterable[str]) -> set[str]:
    wanted = sorted(set(numbers))
    if not wanted:
        return set()
    return set(session.scalars(select(SmsOptOut.number).where(SmsOptOut.number.in_(wanted))))


def record_opt_out(session: DbSession, number: str, keyword: str, now: datetime) -> SmsOptOut:
    existing = session.get(SmsOptOut, number)
    if existing is not None:
        return existing
    opt_out = SmsOptOut(number=number, since=now, keyword=keyword)
    session.add(opt_out)
    session.flush()
    return opt_out


def remove_opt_out(session: DbSession, number: str) -> bool:
    result = session.execute(
        delete(SmsOptOut)
        .where(SmsOptOut.number == number)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


# --- webhook idempotency --------------------------------------------------------------------


def claim_webhook_token(session: DbSession, token: str, endpoint: str, now: datetime) -> bool:
    """Record an `I-Twilio-Idempotency-Token`; False if it was handled before (a retry).

    Claimed in the same transaction as the webhook's effects, so a failed attempt leaves no
    claim behind and Twilio's retry is handled in full.
    """
    token = token[:100]
    if session.get(TwilioWebhookReceipt, token) is not None:
        return False
    try:
        with session.begin_nested():
            session.add(TwilioWebhookReceipt(token=token, endpoint=endpoint, received_at=now))
    except IntegrityError:  # a concurrent retry committed the same token first
        return False
    return True


def purge_webhook_receipts(session: DbSession, older_than: datetime) -> int:
    """Forget idempotency tokens older than Twilio's retry window (for the retention job)."""
    result = session.execute(
        delete(TwilioWebhookReceipt)
        .where(TwilioWebhookReceipt.received_at < older_than)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
