"""Who may see which care request: decided in the query, so others get 404."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import false, or_, select

from respijt import duty
from respijt.auth import Caller, in_visible_regions, visible_regions
from respijt.care_requests.common import normalise_reference
from respijt.database import DbSession
from respijt.errors import NotFound
from respijt.models import (
    CareRequest,
    Reservation,
)


def restrict_to_visible(query: Any, caller: Caller, now: datetime) -> Any:
    """Narrow a SELECT of care requests to those this caller may see."""
    if caller.role == "verwijzer":
        return query.where(CareRequest.caller == caller.key)
    if caller.role == "meldpunt":
        assert caller.provider_id is not None
        # On duty in the request's region, or they took or booked it themselves.
        return query.where(
            or_(
                CareRequest.caller == caller.key,
                CareRequest.region_id.in_(duty.on_duty_region_ids(caller.provider_id, now)),
                CareRequest.id.in_(
                    select(Reservation.request_id).where(Reservation.caller == caller.key)
                ),
            )
        )
    if caller.role == "public":
        return query.where(CareRequest.reference == caller.key.removeprefix("link:"))
    if caller.role in ("coordinator", "admin"):
        return query.where(in_visible_regions(visible_regions(caller), CareRequest.region_id))
    return query.where(false())


def visible_request_query(caller: Caller, reference: str, now: datetime) -> Any:
    """The request by reference, restricted to what this caller may see (404 otherwise)."""
    query = select(CareRequest).where(CareRequest.reference == normalise_reference(reference))
    return restrict_to_visible(query, caller, now)


def get_request(session: DbSession, caller: Caller, reference: str, now: datetime) -> CareRequest:
    found = session.scalar(visible_request_query(caller, reference, now))
    if found is None:
        raise NotFound("Deze aanvraag bestaat niet.")
    return found
