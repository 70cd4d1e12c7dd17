"""The one place where reads and changes of care requests are written to the access log.

NEN 7513 (DESIGN invariant 6): every read or change of client data writes an access-log row in
the same transaction, through `privacy.log_access` (the row carries the request's region, so a
coordinator sees the log of their own regions).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from respijt.care_requests import access, common, intake
from respijt.database import DbSession
from respijt.models import CareRequest, Location, Municipality, Reservation, Unit
from respijt.people.caller import Caller
from respijt.privacy import access_log as privacy
from respijt.reservations import fast_hold

ACTIONS = ("read", "search", "create", "change")
PURPOSE = "zorgbemiddeling"
_OUTCOMES = {"granted": "success", "denied": "denied", "failed": "failed"}


# Ids a reservation can have (a 32-bit column on PostgreSQL); a larger one is looked up never.
_MAX_ID = 2**31 - 1


def reference_as_logged(raw: str) -> str:
    """A reference typed by a caller as the access log records it: normalised, and cut to the
    column's length (a longer one names no request; the row must still be written)."""
    return privacy.fit_reference(common.normalise_reference(raw))


def reservation_reference(session: DbSession, reservation_id: int) -> str:
    """The access log's reference for a reservation's client: its care request's reference,
    so "who looked at request X" includes its reservations; else reservation:<id>. Looked up
    without visibility rules: it only labels the log row, it is never shown to the caller."""
    reference = None
    if 0 < reservation_id <= _MAX_ID:
        reference = session.scalar(
            select(CareRequest.reference)
            .join(Reservation, Reservation.request_id == CareRequest.id)
            .where(Reservation.id == reservation_id)
        )
    return reference or privacy.fit_reference(fast_hold.own_reference(reservation_id))


def log_request_access(
    session: DbSession,
    *,
    action: str,
    caller: Caller,
    reference: str | None,
    outcome: str,
) -> None:
    """Log one access to a care request: `action` in ACTIONS, `outcome` granted, denied or
    failed (refused by a rule).
    A search (no single reference) is logged once, with client reference "search"."""
    assert action in ACTIONS, action
    region_id = None
    if reference is not None:
        reference = privacy.fit_reference(reference)
        region_id = session.scalar(
            select(CareRequest.region_id).where(CareRequest.reference == reference)
        )
    privacy.log_access(
        session,
        action=f"care_request.{action}",
        event=action,
        caller=caller,
        client_reference=reference or "search",
        outcome=_OUTCOMES[outcome],
        purpose=PURPOSE,
        source=None,
        region_id=region_id,
    )


def get_logged_request(
    session: DbSession, caller: Caller, reference: str, *, action: str, now: datetime
) -> CareRequest:
    """The request as the caller may see it (`access.get_request`: else NotFound), its access
    logged as granted in the same transaction (a refusal: `refusal_logger`)."""
    found = access.get_request(session, caller, reference, now)
    log_request_access(
        session, action=action, caller=caller, reference=found.reference, outcome="granted"
    )
    return found


def refusal_logger(
    session: DbSession, *, caller: Caller, reference: str, action: str
) -> Callable[[str], None]:
    """What logs a refused access to the request `reference` (as typed), with its outcome: a
    refusal rolls back the face's transaction (and the granted row with it), so the face logs
    it afterwards in its own (`edge.transaction_logging_refusal`); one row per access."""

    def log_refusal(outcome: str) -> None:
        log_request_access(
            session,
            action=action,
            caller=caller,
            reference=reference_as_logged(reference),
            outcome=outcome,
        )

    return log_refusal


def log_requests_shown(
    session: DbSession, *, caller: Caller, shown: Sequence[CareRequest], source: str | None = None
) -> None:
    """A list that shows clients (names, birth years) logs one row per request shown, so "who
    looked at R-…" finds it; a list that showed nobody logs the search itself once."""
    if not shown:
        log_request_access(
            session, action="search", caller=caller, reference=None, outcome="granted"
        )
        return
    for care_request in shown:
        privacy.log_access(
            session,
            action="care_request.list",
            event="search",
            caller=caller,
            client_reference=care_request.reference,
            outcome="success",
            purpose=PURPOSE,
            source=source,
            region_id=care_request.region_id,
        )


def log_reservations_access(
    session: DbSession,
    *,
    caller: Caller,
    reservation_ids: Iterable[int],
    action: str,
    event: str,
    purpose: str,
    source: str | None = None,
) -> None:
    """One row per reservation (its client) in a batch, e.g. the lines of a claims export,
    under its access-log reference (`reservation_reference`) and its location's region."""
    ids = sorted(set(reservation_ids))
    if not ids:
        return
    rows = session.execute(
        select(Reservation.id, CareRequest.reference, Municipality.region_id)
        .join(Unit, Unit.id == Reservation.unit_id)
        .join(Location, Location.id == Unit.location_id)
        .join(Municipality, Municipality.id == Location.municipality_id)
        .outerjoin(CareRequest, CareRequest.id == Reservation.request_id)
        .where(Reservation.id.in_(ids))
        .order_by(Reservation.id)
    ).all()
    for reservation_id, reference, region_id in rows:
        privacy.log_access(
            session,
            action=action,
            event=event,
            caller=caller,
            client_reference=reference or fast_hold.own_reference(reservation_id),
            outcome="success",
            purpose=purpose,
            source=source,
            region_id=region_id,
        )


def log_reservation_list(
    session: DbSession,
    *,
    caller: Caller,
    shown_clients: Iterable[int],
    source: str | None,
) -> None:
    """A read of a reservations list: one `reservation.search` row for the read itself, and one
    `reservation.list` row per reservation whose client the list showed (a provider's own
    stays), so "who looked at R-…" finds it."""
    privacy.log_access(
        session,
        action="reservation.search",
        event="search",
        caller=caller,
        client_reference="search",
        outcome="success",
        purpose=PURPOSE,
        source=source,
    )
    log_reservations_access(
        session,
        caller=caller,
        reservation_ids=shown_clients,
        action="reservation.list",
        event="search",
        purpose=PURPOSE,
        source=source,
    )


def create_logged_request(
    session: DbSession,
    data: dict[str, Any],
    *,
    caller: Caller,
    channel: str,
    now: datetime,
    today: date,
    stale_after_hours: int,
) -> CareRequest:
    """Create a care request and log its creation in the same transaction: what the API, the
    public form, the verwijzer and the meldpunt all do when a request comes in."""
    created = intake.create_request(
        session,
        data,
        caller=caller,
        channel=channel,
        now=now,
        today=today,
        stale_after_hours=stale_after_hours,
    )
    log_request_access(
        session, action="create", caller=caller, reference=created.reference, outcome="granted"
    )
    return created
