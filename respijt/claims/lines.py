"""Live claim segments: the nights of each stay in one month, split where the tariff changes.

Choices (see docs/adr/0010-claims-are-frozen-lines-corrected-by-credits.md):
- Funding route of a stay: the linked care request's `funding` (`reservation.request_id`); when
  there is no request, or it says `onbekend`, the unit's first funding route; else `onbekend`.
- Municipality: the client's (the care request's), because the client's gemeente pays Wmo; a
  stay without a request falls back to the location's municipality.
- Nights claimed: `completed` (its departure may have been shortened at check-out) and
  `checked_in` and `confirmed`. A segment is `provisional` while any of its nights is not yet
  delivered: every `confirmed` segment, and a `checked_in` segment that reaches today or later.
- A tariff that changes inside a month splits the stay's nights of that month into one segment
  per tariff, each with its own product code and price.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select

from respijt.claims.months import Month, overlap, stays_in
from respijt.database import DbSession
from respijt.models import CareRequest, Location, Reservation, Tariff, Unit
from respijt.people.caller import municipality_in_visible_regions
from respijt.reservations.workflow import CHECKED_IN, COMPLETED, CONFIRMED

CLAIMABLE_STATUSES = (COMPLETED, CHECKED_IN, CONFIRMED)
PAYERS = {"wmo": "gemeente", "elv": "zorgverzekeraar", "wlz": "zorgkantoor"}


def funding_of(request_funding: str | None, unit_routes: list[str]) -> str:
    if request_funding in PAYERS:
        return str(request_funding)
    for route in unit_routes or []:
        if route in PAYERS:
            return route
    return "onbekend"


@dataclass(frozen=True)
class Segment:
    """Consecutive nights of one stay in one month under one tariff."""

    reservation_id: int
    provider_id: int
    municipality_id: int
    location_id: int
    client_reference: str
    funding: str
    product_code: str | None
    price_cents: int | None
    period_from: date
    period_to: date  # exclusive
    provisional: bool

    @property
    def nights(self) -> int:
        return (self.period_to - self.period_from).days

    @property
    def amount_cents(self) -> int | None:
        return None if self.price_cents is None else self.price_cents * self.nights

    def key(self) -> tuple[object, ...]:
        return financial_key(self)


def financial_key(line: Any) -> tuple[object, ...]:
    """What a claim says financially: a change in any of these needs a correction. The same for
    a live segment and for a line already written (`ledger.LineView`), so the two compare."""
    return (
        line.municipality_id,
        line.location_id,
        line.funding,
        line.product_code,
        line.price_cents,
        line.period_from,
        line.period_to,
    )


def tariffs_for(
    session: DbSession, pairs: set[tuple[int, str]], night_from: date, night_to: date
) -> dict[tuple[int, str], list[Tariff]]:
    """Tariffs per (municipality, funding) valid on some night of [night_from, night_to)."""
    if not pairs:
        return {}
    municipality_ids = {m for m, _ in pairs}
    rows = session.scalars(
        select(Tariff)
        .where(
            Tariff.municipality_id.in_(municipality_ids),
            Tariff.valid_from < night_to,
            (Tariff.valid_to.is_(None)) | (Tariff.valid_to > night_from),
        )
        .order_by(Tariff.valid_from)
    ).all()
    found: dict[tuple[int, str], list[Tariff]] = defaultdict(list)
    for tariff in rows:
        found[(tariff.municipality_id, tariff.funding)].append(tariff)
    return found


def tariff_on(tariffs: list[Tariff], night: date) -> Tariff | None:
    for tariff in tariffs:
        if tariff.valid_from <= night and (tariff.valid_to is None or night < tariff.valid_to):
            return tariff
    return None


def month_segments(
    session: DbSession,
    month: Month,
    *,
    today: date,
    provider_id: int | None = None,
    regions: frozenset[int] | None = None,
) -> list[Segment]:
    """Every claimable segment of `month`, ordered by reservation and first night; only those
    whose municipality (the client's, else the location's) lies in `regions` when given."""
    query = (
        select(
            Reservation.id,
            Reservation.status,
            Reservation.arrival,
            Reservation.departure,
            Reservation.short_code,
            Location.id,
            Location.provider_id,
            Location.municipality_id,
            Unit.funding_routes,
            CareRequest.reference,
            CareRequest.funding,
            CareRequest.municipality_id,
        )
        .join(Unit, Unit.id == Reservation.unit_id)
        .join(Location, Location.id == Unit.location_id)
        .outerjoin(CareRequest, CareRequest.id == Reservation.request_id)
        .where(
            *stays_in(month.first, month.end),
            Reservation.status.in_(CLAIMABLE_STATUSES),
            municipality_in_visible_regions(
                regions, func.coalesce(CareRequest.municipality_id, Location.municipality_id)
            ),
        )
        .order_by(Reservation.id)
    )
    if provider_id is not None:
        query = query.where(Location.provider_id == provider_id)
    rows = session.execute(query).all()
    stays = []
    pairs: set[tuple[int, str]] = set()
    for row in rows:
        funding = funding_of(row[10], row[8])
        municipality_id = row[11] if row[11] is not None else row[7]
        pairs.add((municipality_id, funding))
        stays.append((row, funding, municipality_id))
    tariffs = tariffs_for(session, pairs, month.first, month.end)
    segments: list[Segment] = []
    for row, funding, municipality_id in stays:
        (res_id, status, arrival, departure, short_code, location_id, provider, *_rest) = row
        period = overlap(arrival, departure, month.first, month.end)
        assert period is not None
        choices = tariffs.get((municipality_id, funding), [])
        night = period[0]
        runs: list[tuple[Tariff | None, date, date]] = []
        while night < period[1]:
            tariff = tariff_on(choices, night)
            if runs and runs[-1][0] is tariff:
                runs[-1] = (tariff, runs[-1][1], night + timedelta(days=1))
            else:
                runs.append((tariff, night, night + timedelta(days=1)))
            night += timedelta(days=1)
        for tariff, start, end in runs:
            provisional = status == CONFIRMED or (status == CHECKED_IN and end > today)
            segments.append(
                Segment(
                    reservation_id=res_id,
                    provider_id=provider,
                    municipality_id=municipality_id,
                    location_id=location_id,
                    client_reference=row[9] or short_code,
                    funding=funding,
                    product_code=tariff.product_code if tariff else None,
                    price_cents=tariff.price_cents if tariff else None,
                    period_from=start,
                    period_to=end,
                    provisional=provisional,
                )
            )
    return segments
