"""A family without a mobile: what would have been an SMS becomes an e-mail (when the contact
gave an address) or a call-back task for the meldpunt (a landline only), never dropped.

The text is the SMS template's, rendered the same way (no client data). An e-mail carries the
family's signed link; a call-back task does not (the meldpunt reads the news out, the link is a
credential). The stored text holds a placeholder for the link, never the link itself: it is
made when the e-mail goes out (`mail_text`), from the scheduler (`send_family_mail`), after
the commit.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select, update

from respijt.care_requests import status_link
from respijt.database import DbSession
from respijt.messages import send_time_link, texts
from respijt.models import CareRequest, FamilyNotice
from respijt.privacy.access_log import Anonymiser, register_anonymiser

SUBJECT = "respijt: nieuws over uw aanvraag"


def kind_for(care_request: CareRequest) -> str:
    return "email" if care_request.contact_email else "callback"


def tell(
    session: DbSession,
    care_request: CareRequest,
    *,
    template: str,
    context: dict[str, Any],
    dedupe_key: str,
    now: datetime,
) -> bool:
    """Queue the family's message by e-mail or as a call-back task. True if it was new."""
    key = f"family:{dedupe_key}"[:200]
    if session.scalar(select(FamilyNotice.id).where(FamilyNotice.dedupe_key == key)):
        return False
    kind = kind_for(care_request)
    text_context = dict(context)
    if kind == "callback":
        text_context["link"] = None
    session.add(
        FamilyNotice(
            dedupe_key=key,
            request_id=care_request.id,
            region_id=care_request.region_id,
            kind=kind,
            template=template,
            body=texts.render(template, text_context)[:1000],
            status="pending",
            created_at=now,
        )
    )
    session.flush()
    return True


def open_callbacks(session: DbSession, region_ids: list[int]) -> list[FamilyNotice]:
    """The call-back tasks still to do in these regions, oldest first."""
    if not region_ids:
        return []
    return list(
        session.scalars(
            select(FamilyNotice)
            .where(
                FamilyNotice.kind == "callback",
                FamilyNotice.status == "pending",
                FamilyNotice.region_id.in_(region_ids),
            )
            .order_by(FamilyNotice.created_at, FamilyNotice.id)
        )
    )


def callback_done(
    session: DbSession, notice_id: int, *, region_ids: list[int], by: str, now: datetime
) -> FamilyNotice | None:
    notice = session.get(FamilyNotice, notice_id)
    if notice is None or notice.kind != "callback" or notice.region_id not in region_ids:
        return None
    if notice.status == "pending":
        notice.status = "done"
        notice.done_at = now
        notice.done_by = by
        session.flush()
    return notice


def pending_mail(session: DbSession, limit: int = 50) -> list[FamilyNotice]:
    return list(
        session.scalars(
            select(FamilyNotice)
            .where(FamilyNotice.kind == "email", FamilyNotice.status == "pending")
            .order_by(FamilyNotice.id)
            .limit(limit)
        )
    )


def mail_text(session: DbSession, notice: FamilyNotice) -> str:
    """The e-mail's text as it goes out now: the family's link made now in place of the
    placeholder, or the text without it when the request's names were cleared."""
    link = status_link.link_when_sent(session, notice.care_request.reference)
    return send_time_link.text_with_link(notice.body, link)


def mark_failed(session: DbSession, notice_id: int) -> None:
    notice = session.get(FamilyNotice, notice_id)
    if notice is not None:
        notice.status = "failed"
        session.flush()


# --- retention: the texts go with the request's names (privacy.purge) ------------------------


def _notices_due() -> ColumnElement[bool]:
    anonymised = select(CareRequest.id).where(CareRequest.anonymised_at.is_not(None))
    return FamilyNotice.request_id.in_(anonymised) & (FamilyNotice.body != "")


def _count_notices(session: DbSession, cutoff: datetime, open_statuses: object) -> int:
    query = select(func.count()).select_from(FamilyNotice).where(_notices_due())
    return int(session.scalar(query) or 0)


def _clear_notices(
    session: DbSession, cutoff: datetime, now: datetime, open_statuses: object
) -> int:
    """The texts kept for a family without a mobile (their reference and link) of requests
    whose names were cleared."""
    result = session.execute(
        update(FamilyNotice)
        .where(_notices_due())
        .values(body="")
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


register_anonymiser(Anonymiser("family_notice", _count_notices, _clear_notices))
