"""Reactions and complaints from the public pages, stored minimally in the database.

When, which page, the rating and the words given, and the region when the visitor came from a
gemeente's link. No account, no name, no phone number is asked. Rows live in `complaint`, so
backups hold them; the retention job removes them after RESPIJT_COMPLAINT_RETENTION_DAYS. The
words can still name someone, so every reading is written to the access log by the face that
shows them. Plain functions over a session: they flush, never commit.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select

from respijt.database import DbSession
from respijt.models import Complaint, Municipality
from respijt.models.complaint import RATINGS
from respijt.people.caller import in_visible_regions

MAX_MESSAGE = 2000
MAX_PAGE = 200


def store_feedback(
    session: DbSession,
    *,
    now: datetime,
    page: str,
    message: str,
    rating: str | None,
    municipality_code: str | None = None,
) -> Complaint:
    """One row for one submitted form; the region follows from the gemeente, if given."""
    region_id = None
    if municipality_code:
        region_id = session.scalar(
            select(Municipality.region_id).where(Municipality.code == municipality_code.upper())
        )
    complaint = Complaint(
        created_at=now,
        region_id=region_id,
        rating=rating if rating in RATINGS else None,
        page=page.strip()[:MAX_PAGE],
        message=message.strip()[:MAX_MESSAGE],
    )
    session.add(complaint)
    session.flush()
    return complaint


def list_complaints(
    session: DbSession, regions: frozenset[int] | None, *, limit: int = 500
) -> list[Complaint]:
    """Newest first. `regions` from `auth.visible_regions()`: None sees every row (also
    those without a region), a set only the rows of those regions."""
    query = (
        select(Complaint)
        .where(in_visible_regions(regions, Complaint.region_id))
        .order_by(Complaint.created_at.desc(), Complaint.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


def retention_cutoff(now: datetime, retention_days: int) -> datetime:
    return now - timedelta(days=retention_days)


def count_due(session: DbSession, cutoff: datetime) -> int:
    query = select(func.count()).select_from(Complaint).where(Complaint.created_at < cutoff)
    return int(session.scalar(query) or 0)


def purge_complaints(session: DbSession, cutoff: datetime) -> int:
    """Remove the rows submitted before `cutoff`; returns how many."""
    result = session.execute(delete(Complaint).where(Complaint.created_at < cutoff))
    return int(result.rowcount)  # type: ignore[attr-defined]
