"""Retention, as the scheduler calls it: `respijt.privacy.purge` with the configured periods."""

from __future__ import annotations

from datetime import datetime

from respijt import privacy
from respijt.database import DbSession


def run_retention(
    session: DbSession, now: datetime, *, access_log_years: int = 5, retention_days: int = 365
) -> int:
    """Remove access-log rows past RESPIJT_ACCESS_LOG_YEARS and anonymise records past
    RESPIJT_RETENTION_DAYS; returns the rows removed or anonymised. Flushes only."""
    report = privacy.purge(
        session,
        now,
        dry_run=False,
        access_log_years=access_log_years,
        retention_days=retention_days,
    )
    return report.access_log_rows + sum(report.anonymised.values())
