"""The waitlist: offer freed beds to waiting requests in a fair order, urgent first, then oldest.

`run_waitlist()` is one pass; it is idempotent and safe to run every minute. The scheduler's
`offer_waitlist` job runs it every RESPIJT_SCHEDULER_WAITLIST_SECONDS, so nights freed by a
cancellation, a decline, a lapsed offer or more capacity are offered at the next run;
`respijt waitlist offer` runs the same pass by hand. A pass:

1. releases lapsed holds first, so an unanswered offer sends its request back to the waitlist
   and frees its nights for the next request;
2. closes requests whose dates have passed as `expired`: unmet demand in the KPIs;
3. gives each waiting request that now fits one time-limited hold (an offer) on its best match,
   through `offers.offer_bed`, in the fair order of `waiting_requests`: urgency (spoed, then
   binnenkort, then gepland), then waiting time (the oldest request first). A request holds at
   most one offer at a time (it is `offered`, no longer `waitlisted`), and never gets the same
   unit and dates offered twice: the freed nights go to the next in line.

Withdrawn and closed requests are never waitlisted, so they never get offers.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import case, select

from respijt import clock
from respijt.care_requests import lifecycle, notices
from respijt.care_requests import offers as request_offers
from respijt.care_requests.matching import request_matches
from respijt.care_requests.workflow import REQUEST_WAITLISTED
from respijt.database import DbSession
from respijt.errors import DomainError, NoBedFree
from respijt.models import CareRequest, Reservation
from respijt.people.caller import Caller
from respijt.reservations.expiry import expire_overdue_holds

WAITLIST = Caller(key="system:waitlist", role="system")

log = logging.getLogger("respijt.waitlist")

URGENCY_RANK = case(
    (CareRequest.urgency == "urgent", 0),
    (CareRequest.urgency == "soon", 1),
    else_=2,
)


@dataclass(frozen=True)
class Offer:
    reference: str
    reservation_id: int
    unit_id: int
    arrival: date
    departure: date
    expires_at: datetime | None


@dataclass(frozen=True)
class WaitlistRun:
    """What one pass did: holds released, requests closed as unmet, offers made."""

    released: int
    closed: int
    offers: list[Offer]

    @property
    def rows(self) -> int:
        return self.released + self.closed + len(self.offers)


def waiting_requests(session: DbSession) -> list[CareRequest]:
    """Waiting single-stay requests in the order they are served: urgent first, then oldest."""
    return list(
        session.scalars(
            select(CareRequest)
            .where(
                CareRequest.status == REQUEST_WAITLISTED,
                CareRequest.series_every_days.is_(None),
            )
            .order_by(URGENCY_RANK, CareRequest.created_at, CareRequest.id)
        )
    )


def _offered_before(session: DbSession, request_id: int) -> frozenset[tuple[int, date]]:
    return frozenset(
        (unit_id, arrival)
        for unit_id, arrival in session.execute(
            select(Reservation.unit_id, Reservation.arrival).where(
                Reservation.request_id == request_id
            )
        )
    )


def run_waitlist(
    session: DbSession,
    now: datetime,
    *,
    offer_hours: float,
    stale_after_hours: int = 72,
    provider_confirm_hours: float = 24,
) -> WaitlistRun:
    """Run one waitlist pass at `now`: release lapsed holds, close passed requests, offer."""
    today = now.astimezone(clock.LOCAL_TZ).date()
    released = expire_overdue_holds(session, now)
    closed = lifecycle.expire_past_requests(session, now=now, today=today)
    offers: list[Offer] = []
    for care_request in waiting_requests(session):
        matches = request_matches(
            session,
            care_request,
            now=now,
            today=today,
            stale_after_hours=stale_after_hours,
            exclude=_offered_before(session, care_request.id),
        )
        for match in matches:
            try:
                # A savepoint per offer: a refusal undoes only this offer, not the whole pass.
                with session.begin_nested():
                    reservation, _ = request_offers.offer_bed(
                        session,
                        care_request,
                        unit_id=match.unit_id,
                        arrival=match.arrival,
                        departure=match.departure,
                        caller=WAITLIST,
                        now=now,
                        today=today,
                        hold_minutes=offer_hours * 60,
                        provider_confirm_hours=provider_confirm_hours,
                        reason="Aanbod van de wachtlijst",
                    )
            except NoBedFree:
                continue  # taken since the match was computed: try the next option
            except DomainError as exc:
                # Any other refusal skips this request for this pass; the others still get
                # their offers. Only the internal id and the error's code: no client data.
                log.warning(
                    "waitlist: request id=%s skipped this pass: %s", care_request.id, exc.code
                )
                break
            notices.waitlist_offer_made(session, care_request, reservation, now=now)
            offers.append(
                Offer(
                    reference=care_request.reference,
                    reservation_id=reservation.id,
                    unit_id=reservation.unit_id,
                    arrival=reservation.arrival,
                    departure=reservation.departure,
                    expires_at=reservation.expires_at,
                )
            )
            break
    session.flush()
    return WaitlistRun(released=released, closed=closed, offers=offers)
