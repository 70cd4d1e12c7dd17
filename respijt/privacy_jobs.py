"""Retention, as the scheduler calls it. A placeholder until `respijt.privacy` lands.

The accounts issue writes `respijt/privacy.py` with the purge rules (access log after
RESPIJT_ACCESS_LOG_YEARS, …). At merge, `run_retention` calls its purge function; the
scheduler's registry and the daily schedule (never between 02:00 and 03:00) stay as they are.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from respijt.database import DbSession
from respijt.notifications import delivery

# Twilio retries a webhook for at most a day; a token older than this can no longer come back.
WEBHOOK_RECEIPT_KEEP = timedelta(days=7)


def run_retention(session: DbSession, now: datetime) -> int:
    """Delete what is kept past its retention period; returns the rows removed. Flushes only."""
    return delivery.purge_webhook_receipts(session, now - WEBHOOK_RECEIPT_KEEP)
