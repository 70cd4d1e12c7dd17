"""Retention, as the scheduler calls it: `respijt.privacy.access_log.purge` with the configured
periods."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

from respijt.database import DbSession
from respijt.messages import delivery
from respijt.privacy import access_log as privacy

# Twilio retries a webhook for at most a day; a token older than this can no longer come back.
WEBHOOK_RECEIPT_KEEP = timedelta(days=7)


def run_retention(
    session: DbSession,
    now: datetime,
    *,
    open_request_statuses: Collection[str],
    access_log_years: int = 5,
    retention_days: int = 365,
    complaint_retention_days: int = 365,
) -> int:
    """Remove access-log rows past RESPIJT_ACCESS_LOG_YEARS, anonymise records past
    RESPIJT_RETENTION_DAYS, remove complaints past RESPIJT_COMPLAINT_RETENTION_DAYS and forget
    old Twilio webhook tokens; returns the rows removed or anonymised. A care request whose
    status is in `open_request_statuses` keeps its fields. Flushes only."""
    report = privacy.purge(
        session,
        now,
        dry_run=False,
        open_request_statuses=open_request_statuses,
        access_log_years=access_log_years,
        retention_days=retention_days,
        complaint_retention_days=complaint_retention_days,
    )
    receipts = delivery.purge_webhook_receipts(session, now - WEBHOOK_RECEIPT_KEEP)
    return (
        report.access_log_rows + sum(report.anonymised.values()) + report.complaint_rows + receipts
    )
