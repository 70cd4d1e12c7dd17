"""Status changes of care requests, and how a request follows the reservations made for it.

Every change is one conditional UPDATE on (id, expected status), with a history row appended
and the request's notices queued in the same transaction. `follow_reservation` is called by
`reservations.changes.announce` after any status change of a reservation made for a request.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from respijt.care_requests import alerts, notices
from respijt.care_requests.workflow import (
    OPEN_REQUEST_STATUSES,
    REQUEST_EXPIRED,
    REQUEST_LABELS,
    REQUEST_NEW,
    REQUEST_NO_FIT,
    REQUEST_OFFERED,
    REQUEST_PLACED,
    REQUEST_WAITLISTED,
    REQUEST_WITHDRAWN,
    check_request_transition,
)
from respijt.database import DbSession
from respijt.errors import InvalidTransition
from respijt.models import CareRequest, CareRequestEvent, CareRequestStay, Reservation
from respijt.reservations.workflow import (
    ACTIVE_RESERVATION_STATUSES,
    AWAITING_PROVIDER,
    CANCELLED,
    CONFIRMED,
    DECLINED,
    EXPIRED,
    HELD,
)

# The step timestamp each status sets (the first time it is reached).
_STEP_COLUMNS = {
    REQUEST_OFFERED: "first_offered_at",
    REQUEST_WAITLISTED: "waitlisted_at",
    REQUEST_PLACED: "placed_at",
    REQUEST_WITHDRAWN: "closed_at",
    REQUEST_EXPIRED: "closed_at",
    REQUEST_NO_FIT: "closed_at",
}


def append_event(
    session: DbSession,
    care_request: CareRequest,
    from_status: str | None,
    to_status: str,
    actor: str,
    now: datetime,
    reason: str | None = None,
) -> None:
    session.add(
        CareRequestEvent(
            request_id=care_request.id,
            from_status=from_status,
            to_status=to_status,
            actor=actor,
            reason=reason,
            at=now,
        )
    )


def set_status(
    session: DbSession,
    care_request: CareRequest,
    target: str,
    *,
    party: str,
    actor: str,
    now: datetime,
    reason: str | None = None,
) -> CareRequest:
    """Move a request to `target` if the workflow allows it and nobody moved it meanwhile."""
    previous = care_request.status
    check_request_transition(previous, target, party)
    values: dict[str, Any] = {"status": target, "updated_at": now}
    column = _STEP_COLUMNS.get(target)
    if column and getattr(care_request, column) is None:
        values[column] = now
    if target not in (REQUEST_NEW, REQUEST_WAITLISTED):  # someone acted: no longer unattended
        values["attention_at"] = None
        values["attention_reason"] = None
    result = session.execute(
        update(CareRequest)
        .where(CareRequest.id == care_request.id, CareRequest.status == previous)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    session.refresh(care_request)
    if not result.rowcount:  # type: ignore[attr-defined]
        raise InvalidTransition(
            "De aanvraag is intussen gewijzigd (status "
            f"'{REQUEST_LABELS.get(care_request.status, care_request.status)}'); "
            "probeer het opnieuw."
        )
    append_event(session, care_request, previous, target, actor, now, reason)
    notices.request_changed(session, care_request, previous=previous, now=now)
    return care_request


def _back_to_matching(care_request: CareRequest) -> str:
    """Where a request goes when its offer lapses: back to the waitlist if it came from there."""
    return REQUEST_WAITLISTED if care_request.waitlisted_at is not None else REQUEST_NEW


def _has_active_reservation(session: DbSession, request_id: int, statuses: tuple[str, ...]) -> bool:
    return (
        session.scalar(
            select(Reservation.id)
            .where(Reservation.request_id == request_id, Reservation.status.in_(statuses))
            .limit(1)
        )
        is not None
    )


def _sync_stay(session: DbSession, reservation: Reservation) -> None:
    stay = session.scalar(
        select(CareRequestStay).where(
            CareRequestStay.request_id == reservation.request_id,
            CareRequestStay.reservation_id == reservation.id,
        )
    )
    if stay is None:
        return
    if reservation.status in (HELD, AWAITING_PROVIDER):
        stay.status = "offered"
    elif reservation.status == CONFIRMED:
        stay.status = "placed"
    elif reservation.status in (EXPIRED, DECLINED, CANCELLED):
        stay.status = "open"
        stay.reservation_id = None
    session.flush()


def follow_reservation(
    session: DbSession, reservation: Reservation, *, previous: str | None, now: datetime
) -> None:
    """Move the reservation's request along: hold → offered, confirmed → placed, and an
    expired, declined or cancelled offer back to matching (new, or waitlisted if it waited).
    The offer of a new hold is queued (or withdrawn once it is no news) on the way."""
    if reservation.request_id is None:
        return
    care_request = session.get(CareRequest, reservation.request_id)
    notices.reservation_changed(session, care_request, reservation, previous=previous, now=now)
    if care_request is None:
        return
    if care_request.is_series:
        _sync_stay(session, reservation)
    status = reservation.status
    current = care_request.status
    if current not in OPEN_REQUEST_STATUSES and current != REQUEST_PLACED:
        return  # withdrawn, expired or closed: nothing follows any more
    if status in (HELD, AWAITING_PROVIDER):
        if current in (REQUEST_NEW, REQUEST_WAITLISTED):
            set_status(
                session,
                care_request,
                REQUEST_OFFERED,
                party="system",
                actor=reservation.caller,
                now=now,
            )
        return
    if status == CONFIRMED:
        if care_request.is_series and _has_active_reservation(
            session, care_request.id, (HELD, AWAITING_PROVIDER)
        ):
            return  # other stays of the series still await an answer
        if current in (REQUEST_NEW, REQUEST_OFFERED, REQUEST_WAITLISTED):
            set_status(
                session, care_request, REQUEST_PLACED, party="system", actor="system", now=now
            )
        return
    if status in (EXPIRED, DECLINED, CANCELLED):
        if _has_active_reservation(session, care_request.id, ACTIVE_RESERVATION_STATUSES):
            if current == REQUEST_OFFERED and not _has_active_reservation(
                session, care_request.id, (HELD, AWAITING_PROVIDER)
            ):
                set_status(
                    session, care_request, REQUEST_PLACED, party="system", actor="system", now=now
                )
            return
        if current in (REQUEST_OFFERED, REQUEST_PLACED):
            reason = {
                EXPIRED: "Aanbod verlopen",
                DECLINED: "Afgewezen door de aanbieder",
                CANCELLED: "Reservering geannuleerd",
            }[status]
            set_status(
                session,
                care_request,
                _back_to_matching(care_request) if current == REQUEST_OFFERED else REQUEST_NEW,
                party="system",
                actor="system",
                now=now,
                reason=reason,
            )
            if not alerts.offer_ended(
                session, care_request, reservation, previous=previous, now=now
            ):
                _keep_urgent_in_view(session, care_request, now=now, reason=reason)


def _keep_urgent_in_view(
    session: DbSession, care_request: CareRequest, *, now: datetime, reason: str
) -> None:
    """Urgency belongs to the request, not to its latest offer: an urgent request whose offer
    ended waits without a bed again, so it goes back on the meldpunt's spoed list (the offer
    had cleared the flag)."""
    if care_request.urgency != "urgent":
        return
    care_request.attention_at = now
    care_request.attention_reason = (
        f"Spoed: {reason.lower()}; de aanvraag wacht weer op een passend logeerbed."
    )
    session.flush()
