"""Withdrawal, closing without a fit, expiry of passed dates, and the lead time."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select

from respijt.care_requests.offers import offers_of
from respijt.care_requests.status import set_status
from respijt.care_requests.workflow import (
    REQUEST_EXPIRED,
    REQUEST_NEW,
    REQUEST_NO_FIT,
    REQUEST_WAITLISTED,
    REQUEST_WITHDRAWN,
)
from respijt.database import DbSession
from respijt.models import CareRequest
from respijt.people.caller import Caller
from respijt.reservations import steps
from respijt.reservations.workflow import AWAITING_PROVIDER, HELD


def withdraw(
    session: DbSession,
    care_request: CareRequest,
    *,
    caller: Caller,
    now: datetime,
    reason: str | None,
) -> CareRequest:
    """The requester withdraws: the request closes first, then its open holds are released."""
    set_status(
        session,
        care_request,
        REQUEST_WITHDRAWN,
        party="requester",
        actor=caller.key,
        now=now,
        reason=reason or "Ingetrokken door de aanvrager",
    )
    for reservation in offers_of(session, care_request):
        if reservation.status in (HELD, AWAITING_PROVIDER):
            if reservation.expires_at is not None and reservation.expires_at <= now:
                continue  # the sweep releases it
            steps.cancel(
                session,
                reservation,
                party="requester",
                caller=caller,
                now=now,
                reason="Aanvraag ingetrokken",
            )
    return care_request


def close_without_fit(
    session: DbSession, care_request: CareRequest, *, caller: Caller, now: datetime, reason: str
) -> CareRequest:
    return set_status(
        session,
        care_request,
        REQUEST_NO_FIT,
        party="meldpunt",
        actor=caller.key,
        now=now,
        reason=reason,
    )


def expire_past_requests(session: DbSession, *, now: datetime, today: date) -> int:
    """Requests that can no longer start (arrival + flexibility has passed) expire.

    Offered requests are left to the hold sweep: a hold never outlives its arrival day, and
    when it lapses the request comes back here as new or waitlisted.
    """
    candidates = session.scalars(
        select(CareRequest)
        .where(
            CareRequest.status.in_((REQUEST_NEW, REQUEST_WAITLISTED)),
            CareRequest.arrival < today,
        )
        .order_by(CareRequest.id)
    ).all()
    count = 0
    for care_request in candidates:
        if care_request.arrival + timedelta(days=care_request.flexibility_days) >= today:
            continue
        set_status(
            session,
            care_request,
            REQUEST_EXPIRED,
            party="system",
            actor="system",
            now=now,
            reason="De gewenste data zijn voorbij zonder plaatsing.",
        )
        count += 1
    return count


def lead_time_hours(care_request: CareRequest) -> float | None:
    """Doorlooptijd: from the request to its placement, in hours."""
    if care_request.placed_at is None:
        return None
    return round((care_request.placed_at - care_request.created_at).total_seconds() / 3600, 2)
