"""What a care request asks of a unit, detached from the ORM so matching can run for any dates:
the request's place, needs and dates, and the locations of the client's earlier stays."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from respijt.database import DbSession
from respijt.models import CareRequest, Location, Reservation, Unit
from respijt.reservations.workflow import CHECKED_IN, COMPLETED, CONFIRMED

# How far back the chain of previous requests is followed for continuity.
CONTINUITY_DEPTH = 5
STAYED_STATUSES = (CONFIRMED, CHECKED_IN, COMPLETED)


@dataclass(frozen=True)
class Criteria:
    """What a request asks, detached from the ORM so matching can run for any dates."""

    reference: str
    municipality_id: int
    region_id: int | None
    latitude: float | None
    longitude: float | None
    target_group: str
    care_level: str
    wheelchair: bool
    funding: str
    language: str | None
    arrival: date
    departure: date
    flexibility_days: int = 0
    previous_location_ids: frozenset[int] = frozenset()
    # The place the family chose in the search (CareRequest.preferred_location_id).
    preferred_location_id: int | None = None

    @property
    def nights(self) -> int:
        return (self.departure - self.arrival).days


def previous_location_ids(session: DbSession, care_request: CareRequest) -> frozenset[int]:
    """Locations where the same client stayed, through the chain of previous requests."""
    request_ids: list[int] = []
    current = care_request.previous_request
    while current is not None and len(request_ids) < CONTINUITY_DEPTH:
        request_ids.append(current.id)
        current = current.previous_request
    if not request_ids:
        return frozenset()
    return frozenset(
        session.scalars(
            select(Location.id)
            .join(Unit, Unit.location_id == Location.id)
            .join(Reservation, Reservation.unit_id == Unit.id)
            .where(
                Reservation.request_id.in_(request_ids),
                Reservation.status.in_(STAYED_STATUSES),
            )
        )
    )


def criteria_for(
    session: DbSession,
    care_request: CareRequest,
    *,
    arrival: date | None = None,
    departure: date | None = None,
) -> Criteria:
    municipality = care_request.municipality
    return Criteria(
        reference=care_request.reference,
        municipality_id=municipality.id,
        region_id=municipality.region_id,
        latitude=municipality.latitude,
        longitude=municipality.longitude,
        target_group=care_request.target_group,
        care_level=care_request.care_level,
        wheelchair=care_request.wheelchair,
        funding=care_request.funding,
        language=care_request.language,
        arrival=arrival or care_request.arrival,
        departure=departure or care_request.departure,
        flexibility_days=care_request.flexibility_days,
        previous_location_ids=previous_location_ids(session, care_request),
        preferred_location_id=care_request.preferred_location_id,
    )
