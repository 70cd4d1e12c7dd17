"""The outbox: `queue()` writes a message in the caller's transaction; dispatch sends it later.

Invariant 7: a message is written in the same transaction as the change that causes it, sent at
most once per dedupe key, and a failed send is retried, never lost. Dispatch claims due rows
(pending → sending) and commits before it talks to the backend, so a crash mid-send leaves a
`sending` row for reconciliation instead of a second SMS.

Functions here flush, never commit; the dispatch job is the transaction edge.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

import jinja2
from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from respijt import clock
from respijt.database import DbSession
from respijt.models import OutboxMessage
from respijt.notifications.backends import SendResult

TEMPLATE_DIR = os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
    "templates",
    "sms",
)
MAX_ATTEMPTS = 8
# A pending message this long past due means nobody is dispatching (health reports it).
OVERDUE_AFTER = timedelta(minutes=5)
MONTHS_NL = ("jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec")


def format_date_nl(value: str | date) -> str:
    """'2026-12-04' → '4 dec'. Short, so an SMS stays one segment."""
    day = date.fromisoformat(value) if isinstance(value, str) else value
    return f"{day.day} {MONTHS_NL[day.month - 1]}"


def format_datetime_nl(value: str | datetime) -> str:
    """A UTC instant as local wall-clock time: '4 dec 14:30'."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    local = moment.astimezone(clock.LOCAL_TZ)
    return f"{format_date_nl(local.date())} {local:%H:%M}"


_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
    autoescape=False,  # plain-text SMS, never HTML
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.filters["datum"] = format_date_nl
_env.filters["tijdstip"] = format_datetime_nl


def render(template: str, context: Mapping[str, Any]) -> str:
    """Render templates/sms/<template>.txt to one line of text."""
    text = _env.get_template(f"{template}.txt").render(**context)
    return " ".join(text.split())


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
) -> bool:
    """Write one message to the outbox in the current transaction. True if it was new.

    A second call with the same dedupe key does nothing (INSERT … ON CONFLICT DO NOTHING),
    so rules and jobs may run twice without a second message.
    """
    at = now or clock.now()
    values = {
        "dedupe_key": dedupe_key,
        "channel": "sms",
        "recipient": recipient,
        "template": template,
        "context": dict(context),
        "body": render(template, context),
        "urgent": urgent,
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": send_after or at,
        "created_at": at,
    }
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = (
        insert(OutboxMessage)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(OutboxMessage.id)
    )
    return session.execute(statement).first() is not None


def claim_due(session: DbSession, now: datetime, limit: int = 100) -> list[OutboxMessage]:
    """Move up to `limit` due pending messages to `sending` (one conditional UPDATE each).

    The caller commits the claim before sending, so no message is ever handed to the backend
    by two dispatchers, and a crash after the claim cannot cause a second send.
    """
    due_ids = list(
        session.scalars(
            select(OutboxMessage.id)
            .where(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now)
            .order_by(OutboxMessage.urgent.desc(), OutboxMessage.next_attempt_at)
            .limit(limit)
        )
    )
    claimed: list[OutboxMessage] = []
    for message_id in due_ids:
        result = session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, OutboxMessage.status == "pending")
            .values(status="sending", attempts=OutboxMessage.attempts + 1)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount:  # type: ignore[attr-defined]
            message = session.get(OutboxMessage, message_id, populate_existing=True)
            assert message is not None
            claimed.append(message)
    session.flush()
    return claimed


def retry_delay(attempts: int) -> timedelta:
    """Back off 1, 2, 4 … minutes, at most an hour."""
    return timedelta(minutes=min(60, 2 ** max(0, attempts - 1)))


def record_result(session: DbSession, message_id: int, result: SendResult, now: datetime) -> str:
    """Store what the backend said about a claimed message; returns the new status."""
    message = session.get(OutboxMessage, message_id, populate_existing=True)
    if message is None or message.status != "sending":
        return message.status if message else "missing"
    if result.outcome == "sent":
        message.status = "sent"
        message.sent_at = now
        message.provider_message_id = result.provider_message_id
        message.last_error = None
    elif result.outcome == "transient" and message.attempts < MAX_ATTEMPTS:
        message.status = "pending"
        message.next_attempt_at = now + retry_delay(message.attempts)
        message.last_error = (result.error or "")[:500] or None
        message.error_code = result.error_code
    else:
        message.status = "failed"
        message.last_error = (result.error or "")[:500] or None
        message.error_code = result.error_code
    session.flush()
    return message.status


def outbox_health(session: DbSession, now: datetime) -> dict[str, int]:
    """Counts for /health: pending messages long past due, stuck sends, and failures."""
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
    return {"overdue": int(overdue or 0), "failed": int(failed or 0), "pending": int(pending or 0)}
