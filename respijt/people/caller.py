"""The acting party (`Caller`), its roles and the regions it may see. No Flask here: the API
layer resolves the header (API tokens: respijt/people/tokens.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, or_, select, true

from respijt.database import DbSession
from respijt.errors import InvalidInput, NotFound
from respijt.models import (
    Location,
    Municipality,
    Provider,
    ProviderRegion,
    Region,
    User,
)

ROLES = ("provider", "meldpunt", "verwijzer", "coordinator", "admin")
PROVIDER_BOUND_ROLES = ("provider", "meldpunt")


@dataclass(frozen=True)
class Caller:
    """Who acts: principal key ("token:3", "user:4"), role, and the provider they act for.

    `region_ids` narrows a coordinator to their regions (a person's, or a coordinator token's;
    None: every region, for admins and roles narrowed otherwise); read it through
    `visible_regions()`. `organisation` is a verwijzer's organisation, for the access log.
    `by_sms_link`: a requester (`link:<reference>`) who came through the SMS link.
    """

    key: str
    role: str
    provider_id: int | None = None
    user_id: int | None = None
    organisation: str | None = None
    region_ids: frozenset[int] | None = None
    # The requester came through the SMS link (the phone), not the form's own token.
    by_sms_link: bool = False


def caller_for_user(user: User, role: str) -> Caller:
    """The acting party for a person in one of their roles."""
    return Caller(
        key=f"user:{user.id}",
        role=role,
        provider_id=user.provider_id if role in PROVIDER_BOUND_ROLES else None,
        user_id=user.id,
        organisation=user.organisation,
        region_ids=frozenset(user.region_ids) if role == "coordinator" else None,
    )


# --- regions: the one place a coordinator is narrowed to their own regions ---------------------


def visible_regions(caller: Caller) -> frozenset[int] | None:
    """The regions this caller may see: a coordinator's own; None means every region (an admin,
    and roles narrowed by provider or authorship instead). Every query that lists or fetches
    region-bound data for a coordinator filters with `in_visible_regions()` on this."""
    return caller.region_ids if caller.role == "coordinator" else None


def in_visible_regions(regions: frozenset[int] | None, region_column: Any) -> ColumnElement[bool]:
    """A WHERE condition: the row's region (`region_column`) is one of `regions`
    (`visible_regions()`); always true when `regions` is None (every region)."""
    if regions is None:
        return true()
    return region_column.in_(regions)


def municipality_in_visible_regions(
    regions: frozenset[int] | None, municipality_column: Any
) -> ColumnElement[bool]:
    """A WHERE condition: the row's municipality (`municipality_column`, an id) lies in one of
    `regions`; always true when `regions` is None."""
    if regions is None:
        return true()
    return municipality_column.in_(
        select(Municipality.id).where(in_visible_regions(regions, Municipality.region_id))
    )


def provider_in_visible_regions(
    regions: frozenset[int] | None, provider_column: Any
) -> ColumnElement[bool]:
    """A WHERE condition: the provider (`provider_column`, an id) works in one of `regions`:
    it serves the region (provider_region) or has a location in one of its municipalities."""
    if regions is None:
        return true()
    serving = select(ProviderRegion.provider_id).where(
        in_visible_regions(regions, ProviderRegion.region_id)
    )
    located = select(Location.provider_id).where(
        municipality_in_visible_regions(regions, Location.municipality_id)
    )
    return or_(provider_column.in_(serving), provider_column.in_(located))


def ensure_visible_filters(
    session: DbSession,
    regions: frozenset[int] | None,
    *,
    municipality: str | None = None,
    provider_id: int | None = None,
) -> None:
    """Refuse (404) a report filter outside `regions`: a municipality (CBS code) that lies in
    another region, or a provider that serves none of them. The figures themselves are narrowed
    in their queries; this only keeps a filter from answering with an empty success."""
    if regions is None:
        return
    if municipality is not None and session.scalar(
        select(Municipality.id).where(
            Municipality.code == municipality,
            ~in_visible_regions(regions, Municipality.region_id),
        )
    ):
        raise NotFound(f"Gemeente '{municipality}' hoort niet bij uw regio's.")
    if provider_id is not None and not session.scalar(
        select(Provider.id).where(
            Provider.id == provider_id, provider_in_visible_regions(regions, Provider.id)
        )
    ):
        raise NotFound(f"Aanbieder {provider_id} bestaat niet in uw regio's.")


def region_ids_for_codes(session: DbSession, codes: list[str]) -> list[int]:
    """Region ids for region codes; an unknown code is refused (InvalidInput)."""
    found = dict(
        session.execute(select(Region.code, Region.id).where(Region.code.in_(codes))).all()
    )
    unknown = sorted(set(codes) - found.keys())
    if unknown:
        raise InvalidInput(f"Onbekende regio: {', '.join(unknown)}.")
    return sorted({found[code] for code in codes})
