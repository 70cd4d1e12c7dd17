"""Who may see which care request and which reservation: decided in the query, so others get
404 (DESIGN §2). The API, the pages and the use cases ask these functions; none decides on its
own. A reservation made for a request is seen by whoever sees the request (`get_offer`).

The meldpunt's need to know: only *open* requests (new, offered, waitlisted), and of those the
ones of a region where its provider is on duty now (plus RESPIJT_DUTY_GRACE_MINUTES), or that
it handled (`meldpunt_handled`), on duty or not. A placed or closed request leaves its view.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, false, func, or_, select, true

from respijt.care_requests.common import normalise_reference
from respijt.care_requests.workflow import OPEN_REQUEST_STATUSES
from respijt.database import DbSession
from respijt.errors import NotFound
from respijt.meldpunt import duty
from respijt.models import CareRequest, Location, Municipality, Reservation, ReservationEvent, Unit
from respijt.people.caller import (
    Caller,
    in_visible_regions,
    municipality_in_visible_regions,
    visible_regions,
)
from respijt.reservations.workflow import ACTIVE_RESERVATION_STATUSES

# The longest reference a request can have (the column's length): anything longer is unknown.
REFERENCE_MAX_LENGTH = 12


def meldpunt_handled(caller: Caller) -> ColumnElement[bool]:
    """A WHERE condition on CareRequest: the requests this meldpunt handled, from what the
    database records of who did what:

    - its provider's meldpunt took it (the creator columns: caller_role, caller_provider_id);
    - its provider's meldpunt placed a hold or offer for it (the reservation's creator columns);
    - this same person or token changed one of its reservations (the reservation's status
      history: confirmed or cancelled a hold someone else placed).

    Reading is not handling: the access log does not count, or a look would extend the look.
    """
    assert caller.provider_id is not None
    placed = select(Reservation.request_id).where(
        Reservation.caller_role == "meldpunt",
        Reservation.caller_provider_id == caller.provider_id,
        Reservation.request_id.is_not(None),
    )
    changed = (
        select(Reservation.request_id)
        .join(ReservationEvent, ReservationEvent.reservation_id == Reservation.id)
        .where(ReservationEvent.actor == caller.key, Reservation.request_id.is_not(None))
    )
    return or_(
        (CareRequest.caller_role == "meldpunt")
        & (CareRequest.caller_provider_id == caller.provider_id),
        CareRequest.id.in_(placed),
        CareRequest.id.in_(changed),
    )


def meldpunt_may_link(caller: Caller, now: datetime) -> ColumnElement[bool]:
    """The earlier requests the meldpunt may link by reference and birth year (any status: the
    earlier stay is usually over): one of a region it is on duty for, or one it handled."""
    assert caller.provider_id is not None
    return or_(
        CareRequest.region_id.in_(duty.on_duty_region_ids(caller.provider_id, now)),
        meldpunt_handled(caller),
    )


def restrict_to_visible(query: Any, caller: Caller, now: datetime) -> Any:
    """Narrow a SELECT of care requests to those this caller may see."""
    if caller.role == "verwijzer":
        return query.where(CareRequest.caller == caller.key)
    if caller.role == "meldpunt":
        assert caller.provider_id is not None
        return query.where(
            CareRequest.status.in_(OPEN_REQUEST_STATUSES),
            or_(
                CareRequest.region_id.in_(duty.on_duty_region_ids(caller.provider_id, now)),
                meldpunt_handled(caller),
            ),
        )
    if caller.role == "public":
        return query.where(CareRequest.reference == caller.key.removeprefix("link:"))
    if caller.role in ("coordinator", "admin"):
        return query.where(in_visible_regions(visible_regions(caller), CareRequest.region_id))
    return query.where(false())


def _visible_request_ids(caller: Caller, now: datetime) -> Any:
    return restrict_to_visible(select(CareRequest.id), caller, now)


def reservation_visibility(caller: Caller, now: datetime) -> ColumnElement[bool]:
    """A WHERE condition on a SELECT of Reservation joined with its Unit and Location: the
    reservations this caller may see. One made for a care request follows that request's
    visibility (above) for the meldpunt, a verwijzer and the family; a plain hold (no request,
    no client data) is seen by whoever placed it and, for the meldpunt, by its provider's
    meldpunt and the meldpunt on duty in the unit's region."""
    if caller.role == "provider":
        return Location.provider_id == caller.provider_id
    if caller.role == "meldpunt":
        assert caller.provider_id is not None
        unit_region = (
            select(Municipality.region_id)
            .where(Municipality.id == Location.municipality_id)
            .scalar_subquery()
        )
        plain = or_(
            Reservation.caller == caller.key,
            (Reservation.caller_role == "meldpunt")
            & (Reservation.caller_provider_id == caller.provider_id),
            unit_region.in_(duty.on_duty_region_ids(caller.provider_id, now)),
        )
        return or_(
            Reservation.request_id.in_(_visible_request_ids(caller, now)),
            and_(Reservation.request_id.is_(None), plain),
        )
    if caller.role == "verwijzer":
        return or_(
            Reservation.caller == caller.key,
            Reservation.request_id.in_(_visible_request_ids(caller, now)),
        )
    if caller.role == "public":
        return Reservation.request_id.in_(_visible_request_ids(caller, now))
    if caller.role == "coordinator":
        return municipality_in_visible_regions(visible_regions(caller), Location.municipality_id)
    if caller.role == "admin":
        return true()
    return false()


def get_reservation(
    session: DbSession, caller: Caller, reservation_id: int, now: datetime
) -> Reservation:
    """The reservation if this caller may see it, else NotFound (as if it did not exist)."""
    query = (
        select(Reservation)
        .join(Unit, Unit.id == Reservation.unit_id)
        .join(Location, Location.id == Unit.location_id)
        .where(Reservation.id == reservation_id, reservation_visibility(caller, now))
    )
    reservation = session.scalar(query)
    if reservation is None:
        raise NotFound("Deze reservering bestaat niet.")
    return reservation


def get_offer(session: DbSession, care_request: CareRequest, reservation_id: int) -> Reservation:
    """A reservation made for this request (one its viewer may see), else NotFound."""
    reservation = session.scalar(
        select(Reservation).where(
            Reservation.id == reservation_id, Reservation.request_id == care_request.id
        )
    )
    if reservation is None:
        raise NotFound("Dit aanbod hoort niet bij deze aanvraag.")
    return reservation


def is_possible_reference(reference: str) -> bool:
    """Whether `reference` could name a request at all (not longer than any reference)."""
    return len(normalise_reference(reference)) <= REFERENCE_MAX_LENGTH


def visible_request_query(caller: Caller, reference: str, now: datetime) -> Any:
    """The request by reference, restricted to what this caller may see (404 otherwise)."""
    query = select(CareRequest).where(CareRequest.reference == normalise_reference(reference))
    return restrict_to_visible(query, caller, now)


def get_request(session: DbSession, caller: Caller, reference: str, now: datetime) -> CareRequest:
    if not is_possible_reference(reference):
        raise NotFound("Deze aanvraag bestaat niet.")
    found = session.scalar(visible_request_query(caller, reference, now))
    if found is None:
        raise NotFound("Deze aanvraag bestaat niet.")
    return found


# The most reservations one page of a list shows.
PAGE_SIZE_MAX = 100


@dataclass(frozen=True)
class ReservationFilter:
    """What a reservations list asks for: a status, a location, arrivals in a period, a page."""

    status: str | None = None
    location_id: int | None = None
    arrival_from: date | None = None
    arrival_to: date | None = None
    # Stays not over on this day: departing on it or later, or still open (held, waiting for
    # the provider, confirmed, arrived) although their dates passed: a step is still to report.
    not_over_on: date | None = None
    page: int = 1
    page_size: int = 25
    sort: tuple[tuple[str, bool], ...] = ()  # (field, descending), before the default order


# The fields a reservations list may be sorted on (API names), and their columns.
RESERVATION_SORT_COLUMNS: dict[str, Any] = {
    "arrival": Reservation.arrival,
    "departure": Reservation.departure,
    "status": Reservation.status,
    "createdAt": Reservation.created_at,
}


@dataclass(frozen=True)
class ReservationRow:
    """One line of a reservations list; the client only for the provider that hosts the stay."""

    reservation: Reservation
    unit_name: str
    location_id: int
    location_name: str
    client_first_name: str | None
    client_birth_year: int | None


def _wanted(query: Any, caller: Caller, wanted: ReservationFilter, now: datetime) -> Any:
    """`query` (joined to Unit and Location) narrowed to what the caller may see and asks for."""
    query = query.where(reservation_visibility(caller, now))
    if wanted.status is not None:
        query = query.where(Reservation.status == wanted.status)
    if wanted.location_id is not None:
        query = query.where(Location.id == wanted.location_id)
    if wanted.arrival_from is not None:
        query = query.where(Reservation.arrival >= wanted.arrival_from)
    if wanted.arrival_to is not None:
        query = query.where(Reservation.arrival <= wanted.arrival_to)
    if wanted.not_over_on is not None:
        query = query.where(
            or_(
                Reservation.departure >= wanted.not_over_on,
                Reservation.status.in_(ACTIVE_RESERVATION_STATUSES),
            )
        )
    return query


def count_reservations(
    session: DbSession, caller: Caller, wanted: ReservationFilter, now: datetime
) -> int:
    """How many reservations the filter finds, over all pages."""
    query = (
        select(func.count(Reservation.id))
        .join(Unit, Unit.id == Reservation.unit_id)
        .join(Location, Location.id == Unit.location_id)
    )
    return int(session.scalar(_wanted(query, caller, wanted, now)) or 0)


def list_reservations(
    session: DbSession, caller: Caller, wanted: ReservationFilter, now: datetime
) -> tuple[list[ReservationRow], bool]:
    """One page of the reservations this caller may see (`reservation_visibility`), by arrival
    (or first by `wanted.sort`), and whether a next page exists. The client's first name and
    birth year are filled in only for a provider (its own stays); others see the stay, not who
    stays."""
    query = _wanted(
        select(Reservation, Unit.name, Location.id, Location.name)
        .join(Unit, Unit.id == Reservation.unit_id)
        .join(Location, Location.id == Unit.location_id),
        caller,
        wanted,
        now,
    )
    size = max(1, min(wanted.page_size, PAGE_SIZE_MAX))
    rows = session.execute(
        query.order_by(
            *[
                RESERVATION_SORT_COLUMNS[name].desc()
                if down
                else RESERVATION_SORT_COLUMNS[name].asc()
                for name, down in wanted.sort
            ],
            Reservation.arrival,
            Reservation.id,
        )
        .offset((max(wanted.page, 1) - 1) * size)
        .limit(size + 1)
    ).all()
    has_next = len(rows) > size
    rows = rows[:size]
    clients: dict[int, tuple[str, int]] = {}
    request_ids = {row[0].request_id for row in rows if row[0].request_id is not None}
    if caller.role == "provider" and request_ids:
        found = session.execute(
            select(CareRequest.id, CareRequest.client_name, CareRequest.birth_year).where(
                CareRequest.id.in_(request_ids)
            )
        )
        clients = {row[0]: (row[1], row[2]) for row in found}
    listed = []
    for reservation, unit_name, location_id, location_name in rows:
        client = clients.get(reservation.request_id or 0)
        listed.append(
            ReservationRow(
                reservation=reservation,
                unit_name=unit_name,
                location_id=location_id,
                location_name=location_name,
                client_first_name=client[0] if client else None,
                client_birth_year=client[1] if client else None,
            )
        )
    return listed, has_next
