"""From a search result to a request: the search's filters and the chosen place carried into
the request form (GET parameters of "Vraag een logeerbed aan", see `public._request_args`).

The chosen place is a preference (`CareRequest.preferred_location_id`): matching prefers its
units, nothing is held by it. Its name is shown on the form through the template global
`chosen_place`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from respijt.codes import CARE_LEVELS, FUNDING_ROUTES
from respijt.extensions import db
from respijt.models import Location, Municipality, Provider
from respijt.web import blp


def prefill_from_search(form: Any, args: Any) -> None:
    """The filters the requester form did not take before: care level, funding, the place."""
    if args.get("zorg") in CARE_LEVELS:
        form.care_level.data = args["zorg"]
    if args.get("financiering") in FUNDING_ROUTES:
        form.funding.data = args["financiering"]
    place = args.get("plek") or ""
    if place.isascii() and place.isdigit() and len(place) <= 9:
        form.preferred_location.data = place


@blp.app_template_global()
def chosen_place(location_id: Any) -> dict[str, str] | None:
    """Name, provider and gemeente of the place chosen in the search, or None."""
    raw = str(location_id or "")
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 9):
        return None
    row = db.session.execute(
        select(Location.name, Provider.name, Municipality.name)
        .join(Provider, Provider.id == Location.provider_id)
        .join(Municipality, Municipality.id == Location.municipality_id)
        .where(Location.id == int(raw))
    ).first()
    if row is None:
        return None
    return {"name": row[0], "provider": row[1], "municipality": row[2]}
