"""The outbox: `queue()` writes a message in the caller's transaction; dispatch sends it later.

Invariant 7: a message is written in the same transaction as the change that causes it, sent at
most once per dedupe key, and a failed send is retried, never lost. Dispatch claims each due row
(pending → sending) and commits just before it talks to the backend about that row, so a crash
mid-send leaves that one `sending` row for reconciliation instead of a second SMS.

Functions here flush, never commit; the dispatch job is the transaction edge.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import phonenumbers
from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from respijt import clock
from respijt.database import DbSession
from respijt.messages import delivery
from respijt.messages.backends import SendResult
from respijt.messages.quiet_hours import next_allowed_send_time
from respijt.messages.send_time_link import stored_context
from respijt.messages.texts import render
from respijt.models import OutboxMessage

MAX_ATTEMPTS = 8
# Twilio's "the recipient texted STOP" refusal.
UNSUBSCRIBED = "21610"
OPTED_OUT = "opted_out"
NOT_A_MOBILE = "not_a_mobile"
AMBIGUOUS = "ambiguous"  # the backend could not tell whether the provider took the message
# A pending message this long past due means nobody is dispatching (health reports it).
OVERDUE_AFTER = timedelta(minutes=5)
# Every alert meant for a phone (meldpunt/alerts.py) has a dedupe key that starts with this, so
# the undelivered ones can be counted (the console, /health) without knowing who sent them.
ALERT_PREFIX = "alert:"
NO_RECIPIENT = "no_recipient"
UNDELIVERED_STATUSES = ("failed", "undelivered", "skipped")
# How far back /health looks for alerts that reached nobody.
ALERT_WINDOW = timedelta(days=7)


def _parse_number(number: str | None) -> tuple[str | None, bool]:
    """(E.164 or None when invalid, whether it is a mobile number) — phonenumbers, region NL."""
    if not number:
        return None, False
    try:
        parsed = phonenumbers.parse(number, "NL")
    except phonenumbers.NumberParseException:
        return None, False
    if not phonenumbers.is_valid_number(parsed):
        return None, False
    mobile = phonenumbers.number_type(parsed) in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    )
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164), mobile


def sms_number(number: str | None) -> str | None:
    """`number` as E.164 when it is a valid mobile number, else None."""
    e164, mobile = _parse_number(number)
    return e164 if mobile else None


def queue(
    session: DbSession,
    *,
    recipient: str,
    template: str,
    context: Mapping[str, Any],
    dedupe_key: str,
    urgent: bool = False,
    send_after: datetime | None = None,
    now: datetime | None = None,
    region_id: int | None = None,
    channel: str = "sms",
) -> bool:
    """Write one message to the outbox in the current transaction. True if it was new.

    `channel` "email" sends the same text by e-mail to the address in `recipient` (alerts whose
    recipients have no mobile number, `messages/mail.py`).

    `region_id` is the region the message is about (the care request's, the stay's location's,
    the rota's): coordinators list only their own regions' messages; None: admins only.

    A second call with the same dedupe key does nothing (INSERT … ON CONFLICT DO NOTHING),
    so notices and jobs may run twice without a second message. A recipient that is not a valid
    mobile number is kept as a `skipped` row that says why, so nobody waits for it in vain.
    """
    at = now or clock.now()
    e164: str | None = recipient
    number: str | None = recipient if "@" in recipient else None
    if channel != "email":
        e164, mobile = _parse_number(recipient)
        number = e164 if mobile else None
    stored, shown = stored_context(context)
    values = {
        "dedupe_key": dedupe_key,
        "channel": channel,
        "recipient": (e164 or recipient)[:254],
        "template": template,
        "context": stored,
        "body": render(template, shown),
        "urgent": urgent,
        "status": "pending" if number else "skipped",
        "attempts": 0,
        "next_attempt_at": send_after or at,
        "created_at": at,
        "region_id": region_id,
        "error_code": None if number else NOT_A_MOBILE,
        "last_error": None if number else "Niet verstuurd: geen geldig mobiel nummer.",
    }
    return _insert_once(session, values)


def _insert_once(session: DbSession, values: dict[str, Any]) -> bool:
    """Insert the outbox row unless one with its dedupe key exists. True if it was new."""
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = (
        insert(OutboxMessage)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(OutboxMessage.id)
    )
    return session.execute(statement).first() is not None


def record_undeliverable(
    session: DbSession,
    *,
    template: str,
    context: Mapping[str, Any],
    dedupe_key: str,
    now: datetime,
    region_id: int | None,
    reason: str | None = None,
) -> bool:
    """An alert with nobody to send it to: kept as a `failed` row (never a quiet `skipped`),
    so the console and /health show it, with `reason` (why, and what to do). True if new."""
    stored, shown = stored_context(context)
    values = {
        "dedupe_key": dedupe_key,
        "channel": "sms",
        "recipient": "",
        "template": template,
        "context": stored,
        "body": render(template, shown),
        "urgent": True,
        "status": "failed",
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
        "region_id": region_id,
        "error_code": NO_RECIPIENT,
        "last_error": (
            reason
            or "Niet verstuurd: geen mobiel nummer en geen e-mailadres bekend "
            "voor dienst, achterwacht of coördinator."
        )[:500],
    }
    return _insert_once(session, values)


def _undelivered_alert(since: datetime) -> Any:
    return (
        OutboxMessage.dedupe_key.startswith(ALERT_PREFIX, autoescape=True),
        OutboxMessage.status.in_(UNDELIVERED_STATUSES),
        OutboxMessage.created_at >= since,
    )


def undelivered_alerts(
    session: DbSession, region_ids: Sequence[int], *, since: datetime
) -> list[OutboxMessage]:
    """Alerts about these regions since `since` that reached nobody, newest first."""
    if not region_ids:
        return []
    return list(
        session.scalars(
            select(OutboxMessage)
            .where(*_undelivered_alert(since), OutboxMessage.region_id.in_(list(region_ids)))
            .order_by(OutboxMessage.id.desc())
            .limit(50)
        )
    )


def skip_if_pending(session: DbSession, dedupe_key: str, reason: str) -> bool:
    """Withdraw a message that has not gone out yet because it is no longer true."""
    result = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.dedupe_key == dedupe_key, OutboxMessage.status == "pending")
        .values(status="skipped", error_code="superseded", last_error=reason[:500])
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def due_ids(session: DbSession, now: datetime, limit: int = 100) -> list[int]:
    """Ids of up to `limit` pending messages due at `now`: urgent first, then oldest due, then
    in the order they were queued."""
    return list(
        session.scalars(
            select(OutboxMessage.id)
            .where(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now)
            .order_by(OutboxMessage.urgent.desc(), OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(limit)
        )
    )


def claim(session: DbSession, message_id: int, now: datetime) -> OutboxMessage | None:
    """Move one pending message to `sending` (a conditional UPDATE); None if another
    dispatcher took it first or it is no longer pending.

    The caller commits the claim right before it hands this message to the backend, and
    claims the next one only after: a crash leaves at most the one message in flight
    `sending` (its outcome unknown, reconciled later), while the rest stay `pending` and go
    out with the next run. The claim time goes into `next_attempt_at`, so a row left
    `sending` can be found and released.
    """
    result = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.status == "pending")
        .values(status="sending", attempts=OutboxMessage.attempts + 1, next_attempt_at=now)
        .execution_options(synchronize_session=False)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        return None
    message = session.get(OutboxMessage, message_id, populate_existing=True)
    assert message is not None
    return message


# On the copy a backend gets: provider ids of other rows to the same number, which a lookup of
# "was this message sent before?" must not take for this row's (an identical text sent earlier).
TAKEN_SIDS = "taken_provider_ids"


def unattached_copy(message: OutboxMessage, session: DbSession | None = None) -> OutboxMessage:
    """A copy of the row's columns that belongs to no session (the backend only reads it).

    With `session`, a row that will be reconciled at the provider (a retry, or an ambiguous
    send) also carries TAKEN_SIDS: what other rows to its recipient were sent as.
    """
    columns = OutboxMessage.__table__.columns.keys()
    copy = OutboxMessage(**{name: getattr(message, name) for name in columns})
    if session is not None and (message.attempts > 1 or message.error_code == AMBIGUOUS):
        taken = session.scalars(
            select(OutboxMessage.provider_message_id).where(
                OutboxMessage.recipient == message.recipient,
                OutboxMessage.id != message.id,
                OutboxMessage.provider_message_id.is_not(None),
            )
        )
        setattr(copy, TAKEN_SIDS, frozenset(taken))
    return copy


def skip_opted_out(
    session: DbSession, claimed: Sequence[OutboxMessage], now: datetime
) -> list[OutboxMessage]:
    """Mark claimed messages to numbers that texted STOP as `skipped`; returns the others."""
    opted_out = delivery.opted_out_numbers(session, (m.recipient for m in claimed))
    remaining: list[OutboxMessage] = []
    for message in claimed:
        if message.recipient not in opted_out:
            remaining.append(message)
            continue
        message.status = "skipped"
        message.attempts = max(0, message.attempts - 1)  # nothing was attempted
        message.error_code = OPTED_OUT
        message.last_error = (
            "Niet verstuurd: de ontvanger heeft zich met STOP afgemeld voor sms van respijt."
        )
    session.flush()
    return remaining


def defer_for_quiet_hours(session: DbSession, now: datetime, quiet_hours: str | None) -> int:
    """During quiet hours, move due non-urgent messages to the end of them; urgent ones go."""
    resume = next_allowed_send_time(now, urgent=False, quiet_hours=quiet_hours)
    if resume <= now:
        return 0
    result = session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.status == "pending",
            OutboxMessage.urgent.is_(False),
            OutboxMessage.next_attempt_at <= now,
        )
        .values(next_attempt_at=resume)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def release_stuck(session: DbSession, now: datetime, older_than: timedelta) -> int:
    """Put messages left `sending` (a dispatcher died mid-send) back to `pending`.

    Marked ambiguous: the backend first asks the provider whether it has the message, and only
    sends it again if it never arrived.
    """
    result = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.status == "sending", OutboxMessage.next_attempt_at < now - older_than)
        .values(
            status="pending",
            next_attempt_at=now,
            error_code=AMBIGUOUS,
            last_error="Verzenden onderbroken; wordt eerst nagegaan bij de provider.",
        )
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter: base·2^(n-1), at most `max_delay`, then a random part
    of it dropped (`jitter` 0.5: between half and all of it), so retries do not stampede."""

    max_attempts: int = MAX_ATTEMPTS
    base: timedelta = timedelta(minutes=1)
    max_delay: timedelta = timedelta(hours=1)
    jitter: float = 0.5

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> RetryPolicy:
        return cls(
            max_attempts=int(config.get("RESPIJT_OUTBOX_MAX_ATTEMPTS", MAX_ATTEMPTS)),
            base=timedelta(seconds=float(config.get("RESPIJT_OUTBOX_RETRY_BASE_SECONDS", 60))),
            max_delay=timedelta(
                seconds=float(config.get("RESPIJT_OUTBOX_RETRY_MAX_SECONDS", 3600))
            ),
        )

    def delay(self, attempts: int, rng: random.Random | None = None) -> timedelta:
        full = min(self.max_delay, self.base * (2 ** max(0, min(attempts - 1, 30))))
        keep = 1.0 - self.jitter * (rng or random).random()
        return full * keep


# Delivery news from Twilio that may already be in when a send is recorded (callbacks can
# arrive before the dispatcher commits, or before a lost answer is reconciled).
_FINAL_OUTBOX_STATUS = delivery.OUTBOX_FINAL_STATUS


def record_result(
    session: DbSession,
    message_id: int,
    result: SendResult,
    now: datetime,
    policy: RetryPolicy | None = None,
) -> str:
    """Store what the backend said about a claimed message; returns the new status."""
    policy = policy or RetryPolicy()
    message = session.get(OutboxMessage, message_id, populate_existing=True)
    if message is None or message.status != "sending":
        return message.status if message else "missing"
    error = (result.error or "")[:500] or None
    if result.outcome == "sent":
        message.status = "sent"
        message.sent_at = now
        message.provider_message_id = result.provider_message_id
        message.last_error = None
        message.error_code = None
        if result.provider_message_id:
            status, code = delivery.current_status(session, result.provider_message_id)
            if status in _FINAL_OUTBOX_STATUS:
                message.status = _FINAL_OUTBOX_STATUS[status]
                message.error_code = str(code) if code is not None else None
    elif result.error_code == UNSUBSCRIBED:
        message.status = "skipped"
        message.error_code = UNSUBSCRIBED
        message.last_error = "Niet verstuurd: de ontvanger heeft zich afgemeld (Twilio 21610)."
        delivery.record_opt_out(session, message.recipient, "21610", now)
    elif result.outcome == "transient" and message.attempts < policy.max_attempts:
        message.status = "pending"
        message.next_attempt_at = now + policy.delay(message.attempts)
        message.last_error = error
        message.error_code = result.error_code
    else:
        message.status = "failed"
        message.last_error = error
        message.error_code = result.error_code
    session.flush()
    return message.status


def outbox_health(session: DbSession, now: datetime) -> dict[str, int]:
    """Counts for /health: pending messages long past due, stuck sends, failures, and the
    alerts of the last 7 days that reached nobody (failed, undelivered or skipped)."""
    overdue = session.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .where(
            OutboxMessage.status.in_(("pending", "sending")),
            OutboxMessage.next_attempt_at <= now - OVERDUE_AFTER,
        )
    )
    failed = session.scalar(
        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "failed")
    )
    pending = session.scalar(
        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "pending")
    )
    alerts = session.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .where(*_undelivered_alert(now - ALERT_WINDOW))
    )
    return {
        "overdue": int(overdue or 0),
        "failed": int(failed or 0),
        "pending": int(pending or 0),
        "alerts_undelivered": int(alerts or 0),
    }


def list_messages(
    session: DbSession,
    *,
    status: str | None = None,
    limit: int = 100,
    regions: frozenset[int] | None = None,
) -> list[OutboxMessage]:
    """Messages newest first, optionally of one status (the coordinator's view of failures);
    only those about one of `regions` when given (None: every region)."""
    query = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
    if regions is not None:
        query = query.where(OutboxMessage.region_id.in_(regions))
    if status:
        query = query.where(OutboxMessage.status == status)
    return list(session.scalars(query))


def mask_number(number: str) -> str:
    """'+31612345678' → '+316******78': enough to tell numbers apart, not to call one."""
    if len(number) <= 6:
        return "*" * len(number)
    return number[:4] + "*" * (len(number) - 6) + number[-2:]
