"""The monthly report per municipality: the same sections, in the same order, for every gemeente.

Data only; the page (`templates/reports/monthly.html`) lays it out. Counts of people go through
the same suppression as the KPIs.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from respijt.claims.kpis import KpiFilter, kpi_figures
from respijt.claims.ledger import NOTE, month_lines
from respijt.claims.leegstand import total_occupancy, unit_occupancy
from respijt.claims.months import Month
from respijt.claims.suppression import Suppressor
from respijt.codes import FUNDING_ROUTES, TARGET_GROUPS
from respijt.database import DbSession
from respijt.errors import NotFound
from respijt.models import Municipality, Provider


@dataclass(frozen=True)
class ClaimSummary:
    provider: str
    stays: int | None  # suppressed under 5
    nights: int
    provisional_nights: int
    amount_cents: int | None  # None while a night has no tariff


def _claim_summaries(
    session: DbSession, month: Month, municipality_id: int, today: date, s: Suppressor
) -> tuple[list[ClaimSummary], dict[str, int]]:
    # Only the lines of the gemeente's region are built: the nation's would be thrown away.
    region_id = session.scalar(
        select(Municipality.region_id).where(Municipality.id == municipality_id)
    )
    regions = frozenset({region_id}) if region_id is not None else None
    lines = [
        line
        for line in month_lines(session, month, today=today, regions=regions)
        if line.municipality_id == municipality_id
    ]
    stays: dict[int, set[int]] = defaultdict(set)
    nights: dict[int, int] = defaultdict(int)
    provisional: dict[int, int] = defaultdict(int)
    amounts: dict[int, int | None] = defaultdict(int)
    other: dict[str, int] = defaultdict(int)
    for line in lines:
        if not line.is_gemeente_claim:
            other[line.funding] += line.nights
            continue
        # The month as it stands now: exported lines that were credited cancel out.
        if line.kind == "claim":
            stays[line.provider_id].add(line.reservation_id)
        nights[line.provider_id] += line.nights
        if line.provisional:
            provisional[line.provider_id] += line.nights
        current = amounts[line.provider_id]
        amounts[line.provider_id] = (
            None if current is None or line.amount_cents is None else current + line.amount_cents
        )
    names = dict(
        session.execute(select(Provider.id, Provider.name).where(Provider.id.in_(nights))).all()
    )
    summaries = [
        ClaimSummary(
            provider=names[pid],
            stays=s.count(f"claims.{pid}.stays", len({r for r in stays[pid]})),
            nights=nights[pid],
            provisional_nights=provisional[pid],
            amount_cents=amounts[pid],
        )
        for pid in sorted(nights, key=lambda p: names[p])
    ]
    return summaries, dict(sorted(other.items()))


def monthly_report(
    session: DbSession,
    municipality_code: str,
    month: Month,
    *,
    now: datetime,
    today: date,
    stale_after_hours: int,
) -> dict[str, Any]:
    municipality = session.scalar(
        select(Municipality).where(Municipality.code == municipality_code)
    )
    if municipality is None:
        raise NotFound("Deze gemeente bestaat niet.")
    suppressor = Suppressor()
    summaries, other_nights = _claim_summaries(session, month, municipality.id, today, suppressor)
    units = unit_occupancy(session, month.first, month.end, municipality_code=municipality.code)
    figures = kpi_figures(
        session,
        KpiFilter(month.first, month.end, municipality=municipality.code),
        now=now,
        stale_after_hours=stale_after_hours,
    )
    return {
        "municipality": municipality,
        "region": municipality.region,
        "month": month,
        "generated_at": now,
        "note": NOTE,
        "claims": summaries,
        "claims_total_nights": sum(c.nights for c in summaries),
        "other_payer_nights": other_nights,
        "units": units,
        "occupancy": total_occupancy(units),
        "kpis": figures,
        "claim_cells_suppressed": bool(suppressor.paths),
        "target_group_labels": TARGET_GROUPS,
        "funding_labels": {**FUNDING_ROUTES, "onbekend": "Onbekend"},
    }
