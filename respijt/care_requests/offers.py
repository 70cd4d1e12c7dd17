"""Options shown, the requester's preference, the option chosen, and the offers (holds)
made for a request: `offer_bed` is the one way a bed is offered."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import insert, select, update

from respijt.care_requests.common import (
    ensure_open,
    problem,
)
from respijt.care_requests.matching import Match, request_matches
from respijt.care_requests.workflow import OPEN_REQUEST_STATUSES
from respijt.database import DbSession
from respijt.errors import InvalidInput, InvalidTransition
from respijt.models import (
    CareRequest,
    CareRequestStay,
    RequestOption,
    Reservation,
    ReservationEvent,
)
from respijt.people.caller import Caller
from respijt.reservations import holds
from respijt.reservations.workflow import AWAITING_PROVIDER, DECLINED, HELD

# How many options a request's page and the API show by default: the same list in both.
OPTIONS_SHOWN = 10


def declined_units(session: DbSession, request_id: int) -> dict[int, str]:
    """The units whose provider declined an offer for this request, with the latest reason."""
    rows = session.execute(
        select(Reservation.unit_id, ReservationEvent.reason)
        .join(ReservationEvent, ReservationEvent.reservation_id == Reservation.id)
        .where(Reservation.request_id == request_id, ReservationEvent.to_status == DECLINED)
        .order_by(ReservationEvent.id)
    ).all()
    return {unit_id: reason or "Geen reden gegeven" for unit_id, reason in rows}


def declined_last(matches: list[Match], declined: dict[int, str]) -> list[Match]:
    """The same options with those of units that declined this request moved last (in their
    own order), each with the reason: a unit that just said no is never the first choice."""
    for match in matches:
        match.declined_reason = declined.get(match.unit_id)
    return [m for m in matches if m.declined_reason is None] + [
        m for m in matches if m.declined_reason is not None
    ]


def matches_for(
    session: DbSession,
    care_request: CareRequest,
    *,
    caller: Caller,
    now: datetime,
    today: date,
    stale_after_hours: int,
    limit: int,
) -> list[Match]:
    """Rank the options and record which were shown to whom. Units that declined this request
    come last, with their reason (`declined_last`)."""
    if care_request.status not in OPEN_REQUEST_STATUSES:
        return []
    matches = request_matches(
        session,
        care_request,
        now=now,
        today=today,
        stale_after_hours=stale_after_hours,
        limit=limit,
    )
    matches = declined_last(matches, declined_units(session, care_request.id))
    if matches:
        # One INSERT executed for all rows, no ORM objects: nothing reads them back here.
        session.execute(
            _INSERT_OPTION,
            [
                {
                    "request_id": care_request.id,
                    "unit_id": match.unit_id,
                    "arrival": match.arrival,
                    "departure": match.departure,
                    "rank": rank,
                    "score": match.score,
                    "reasons": match.reasons,
                    "shown_at": now,
                    "shown_to": caller.key,
                }
                for rank, match in enumerate(matches, start=1)
            ],
        )
    return matches


_INSERT_OPTION = insert(RequestOption)


def _latest_option(session: DbSession, request_id: int, unit_id: int) -> RequestOption | None:
    return session.scalar(
        select(RequestOption)
        .where(RequestOption.request_id == request_id, RequestOption.unit_id == unit_id)
        .order_by(RequestOption.id.desc())
        .limit(1)
    )


def preferred_option(session: DbSession, request_id: int) -> RequestOption | None:
    return session.scalar(
        select(RequestOption)
        .where(RequestOption.request_id == request_id, RequestOption.preferred_at.is_not(None))
        .order_by(RequestOption.preferred_at.desc(), RequestOption.id.desc())
        .limit(1)
    )


def prefer_option(
    session: DbSession, care_request: CareRequest, *, unit_id: int, now: datetime
) -> RequestOption:
    """The requester's own pick among the options shown to them."""
    ensure_open(care_request)
    option = _latest_option(session, care_request.id, unit_id)
    if option is None:
        raise InvalidInput(
            "Deze eenheid is niet als mogelijkheid getoond.",
            [problem("unit_id", "not_shown", "Kies een van de getoonde mogelijkheden.")],
        )
    session.execute(
        update(RequestOption)
        .where(RequestOption.request_id == care_request.id)
        .values(preferred_at=None)
        .execution_options(synchronize_session=False)
    )
    option.preferred_at = now
    session.flush()
    return option


def _check_choice(
    session: DbSession,
    care_request: CareRequest,
    *,
    unit_id: int,
    caller: Caller,
    reason: str | None,
) -> None:
    """The meldpunt must explain taking another option than the one the requester preferred."""
    preferred = preferred_option(session, care_request.id)
    if (
        caller.role == "meldpunt"
        and preferred is not None
        and preferred.unit_id != unit_id
        and not (reason and reason.strip())
    ):
        raise InvalidInput(
            "De aanvrager koos een andere mogelijkheid; geef een reden voor deze keuze.",
            [problem("choice_reason", "required", "Reden verplicht bij afwijken van de voorkeur.")],
        )


def _write_choice(
    session: DbSession,
    care_request: CareRequest,
    *,
    unit_id: int,
    arrival: date,
    departure: date,
    caller: Caller,
    reason: str | None,
    now: datetime,
) -> RequestOption:
    """Mark the option taken (a new one when these dates were never shown)."""
    option = _latest_option(session, care_request.id, unit_id)
    if option is None or (option.arrival, option.departure) != (arrival, departure):
        option = RequestOption(
            request_id=care_request.id,
            unit_id=unit_id,
            arrival=arrival,
            departure=departure,
            rank=0,
            score=0.0,
            reasons=[],
            shown_at=now,
            shown_to=caller.key,
        )
        session.add(option)
    option.chosen_at = now
    option.chosen_by = caller.key
    option.choice_reason = reason.strip() if reason else None
    session.flush()
    return option


def active_offer(session: DbSession, request_id: int) -> Reservation | None:
    return session.scalar(
        select(Reservation)
        .where(
            Reservation.request_id == request_id,
            Reservation.status.in_((HELD, AWAITING_PROVIDER, "confirmed", "checked_in")),
        )
        .limit(1)
    )


def _check_offer(
    session: DbSession,
    care_request: CareRequest,
    *,
    unit_id: int,
    arrival: date,
    caller: Caller,
    reason: str | None,
) -> CareRequestStay | None:
    """The rules before a bed is offered for a request; returns the series stay it serves."""
    ensure_open(care_request)
    stay = None
    if care_request.is_series:
        stay = session.scalar(
            select(CareRequestStay).where(
                CareRequestStay.request_id == care_request.id,
                CareRequestStay.arrival == arrival,
                CareRequestStay.reservation_id.is_(None),
            )
        )
        if stay is None:
            raise InvalidInput(
                "Deze datum is geen open verblijf van de reeks.",
                [problem("arrival", "not_in_series", "Kies de aankomst van een open verblijf.")],
            )
    elif active_offer(session, care_request.id) is not None:
        raise InvalidTransition(
            "Voor deze aanvraag loopt al een reservering; annuleer die eerst of wijs het aanbod af."
        )
    _check_choice(session, care_request, unit_id=unit_id, caller=caller, reason=reason)
    return stay


def offer_bed(
    session: DbSession,
    care_request: CareRequest,
    *,
    unit_id: int,
    arrival: date,
    departure: date,
    caller: Caller,
    now: datetime,
    today: date,
    hold_minutes: float,
    provider_confirm_hours: float,
    reason: str | None = None,
    record_choice: bool = True,
    confirm: bool = False,
    idempotency_key: str | None = None,
    body_fingerprint: str | None = None,
    expected_arrival_time: str | None = None,
) -> tuple[Reservation, bool]:
    """Offer a bed for a care request: the request's rules, the hold, the option marked as
    chosen, and the series stay it serves. Returns (reservation, replayed).

    Every face offers a bed through here: the API, the meldpunt's page, the waitlist and a
    series. The rules are checked before the hold and the choice is written after it, so a
    hold refused for want of a bed (NoBedFree, which the waitlist and a series catch to try
    the next match) leaves nothing behind. A series records no choice: its stays are matched
    one by one, never picked from the options shown. A request with an Idempotency-Key that
    was used before answers with the first reservation before any rule is checked again.
    """
    replay = (
        idempotency_key is not None
        and holds.find_by_idempotency_key(session, caller, idempotency_key) is not None
    )
    stay = None
    if not replay:
        stay = _check_offer(
            session, care_request, unit_id=unit_id, arrival=arrival, caller=caller, reason=reason
        )
    reservation, replayed = holds.place_hold(
        session,
        unit_id=unit_id,
        arrival=arrival,
        departure=departure,
        caller=caller,
        now=now,
        today=today,
        hold_minutes=hold_minutes,
        provider_confirm_hours=provider_confirm_hours,
        idempotency_key=idempotency_key,
        body_fingerprint=body_fingerprint,
        confirm=confirm,
        expected_arrival_time=expected_arrival_time,
        request_id=care_request.id,
    )
    if replayed:
        return reservation, True
    if record_choice:
        _write_choice(
            session,
            care_request,
            unit_id=unit_id,
            arrival=arrival,
            departure=departure,
            caller=caller,
            reason=reason,
            now=now,
        )
    link_stay(session, stay, reservation)
    return reservation, False


def link_stay(session: DbSession, stay: CareRequestStay | None, reservation: Reservation) -> None:
    if stay is None:
        return
    stay.reservation_id = reservation.id
    stay.status = "placed" if reservation.status == "confirmed" else "offered"
    session.flush()


def offers_of(session: DbSession, care_request: CareRequest) -> list[Reservation]:
    return list(
        session.scalars(
            select(Reservation)
            .where(Reservation.request_id == care_request.id)
            .order_by(Reservation.arrival, Reservation.id)
        )
    )
