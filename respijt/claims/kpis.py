"""The figures a gemeente steers on, as aggregates with small cells suppressed.

Period: care requests created in [from, to) (dates in Europe/Amsterdam); occupancy over the
nights of [from, to); freshness at `now`. The `municipality` filter is the client's gemeente for
demand figures and the location's gemeente for supply figures. The `provider` filter narrows the
supply figures (occupancy, freshness) and neutrality; demand figures (requests, placement, unmet
demand) belong to the region, not to one provider, and ignore it.

Figures from other modules plug in through `register_kpi_source()`; the meldpunt call stats and
the SMS satisfaction (answers for stays that ended in the period, by the client's gemeente and
the stay's provider) are built in.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import case, func, select

from respijt import clock, formatting
from respijt.beds.registry import is_stale
from respijt.care_requests.workflow import (
    REQUEST_EXPIRED,
    REQUEST_NO_FIT,
    REQUEST_PLACED,
    REQUEST_WAITLISTED,
)
from respijt.claims.leegstand import period_occupancy
from respijt.claims.months import Month
from respijt.claims.suppression import THRESHOLD, Suppressor
from respijt.codes import TARGET_GROUPS
from respijt.database import DbSession
from respijt.models import (
    CareRequest,
    Location,
    Municipality,
    Provider,
    RequestOption,
    Reservation,
    Unit,
)
from respijt.models.base import hours_before_day, microseconds_between
from respijt.people.caller import in_visible_regions, municipality_in_visible_regions
from respijt.reservations.workflow import CHECKED_IN, COMPLETED, CONFIRMED

UNMET_STATUSES = (REQUEST_WAITLISTED, REQUEST_EXPIRED, REQUEST_NO_FIT)
FUNDING_CHOICES = ("wmo", "elv", "wlz", "onbekend")
PLACED_STAY_STATUSES = (CONFIRMED, CHECKED_IN, COMPLETED)


@dataclass(frozen=True)
class KpiFilter:
    night_from: date
    night_to: date  # exclusive
    municipality: str | None = None
    provider_id: int | None = None
    # A coordinator's regions (`auth.visible_regions()`): every figure counts only their
    # municipalities (clients' for demand, locations' for supply); None: every region.
    regions: frozenset[int] | None = None


KpiSource = Callable[[DbSession, KpiFilter, Suppressor, datetime], dict[str, Any] | None]
PLUGGABLE = ("meldpunt_calls", "satisfaction")
_sources: dict[str, KpiSource] = {}


def register_kpi_source(name: str, source: KpiSource) -> None:
    """Let another module supply one figure, e.g. `meldpunt_calls` or `satisfaction`.

    The source gets the filter and the suppressor (to report counts of people through it) and
    returns a dict of aggregates, or None when it has nothing for the period.
    """
    if name not in PLUGGABLE:
        raise ValueError(f"unknown KPI source {name!r}")
    _sources[name] = source


def _built_in_source(name: str) -> KpiSource | None:
    """The figures respijt itself can supply; a registered source takes precedence."""
    if name == "meldpunt_calls":
        from respijt.meldpunt.phone import meldpunt_calls_kpi

        return meldpunt_calls_kpi
    if name == "satisfaction":
        from respijt.reservations.satisfaction import satisfaction_kpi

        return satisfaction_kpi
    return None


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile: the smallest value with at least `fraction` of values at or
    below it (p90 of ten values is the ninth)."""
    ordered = sorted(values)
    return ordered[max(math.ceil(fraction * len(ordered)), 1) - 1]


def _share(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(part / whole, 4)


# What the figures read of the requests: counted in the database, never loaded row by row (a
# national year is 100,000 requests).
def _request_query(f: KpiFilter, *columns: Any) -> Any:
    """The period's requests (created in [from, to), local dates) within the filters."""
    query = (
        select(*columns)
        .select_from(CareRequest)
        .where(
            CareRequest.created_at >= clock.local_midnight_utc(f.night_from),
            CareRequest.created_at < clock.local_midnight_utc(f.night_to),
            municipality_in_visible_regions(f.regions, CareRequest.municipality_id),
        )
    )
    if f.municipality:
        query = query.join(Municipality, Municipality.id == CareRequest.municipality_id).where(
            Municipality.code == f.municipality
        )
    return query


_PLACED = (CareRequest.status == REQUEST_PLACED, CareRequest.placed_at.is_not(None))


def _lead_time_hours(session: DbSession, f: KpiFilter) -> list[float]:
    """From request to placement, in hours, per placed request."""
    lead = microseconds_between(CareRequest.created_at, CareRequest.placed_at)
    return [
        us / 1_000_000 / 3600 for us in session.scalars(_request_query(f, lead).where(*_PLACED))
    ]


def _placed_before_arrival(session: DbSession, f: KpiFilter) -> int:
    """Placed requests placed before the desired arrival day began (local midnight)."""
    first, last = session.execute(
        _request_query(f, func.min(CareRequest.arrival), func.max(CareRequest.arrival)).where(
            *_PLACED
        )
    ).one()
    if first is None:
        return 0
    # Local midnight in UTC: an hour before midnight UTC in winter, two in summer.
    runs = clock.midnight_offsets(first, last)
    hours = [int(offset.total_seconds()) // 3600 for _, offset in runs]
    midnight: Any = hours_before_day(CareRequest.arrival, hours[-1])
    if len(runs) > 1:
        midnight = case(
            *(
                (CareRequest.arrival < start, hours_before_day(CareRequest.arrival, before))
                for (start, _), before in zip(runs[1:], hours, strict=False)
            ),
            else_=midnight,
        )
    return int(
        session.scalar(
            _request_query(f, func.count()).where(*_PLACED, CareRequest.placed_at < midnight)
        )
        or 0
    )


def _demand(session: DbSession, f: KpiFilter, s: Suppressor) -> dict[str, Any]:
    has_placed = CareRequest.placed_at.is_not(None)
    keys = (
        CareRequest.status,
        CareRequest.target_group,
        CareRequest.municipality_id,
        CareRequest.funding,
        has_placed,
    )
    groups = session.execute(_request_query(f, *keys, func.count()).group_by(*keys)).all()
    total = 0
    placed = 0
    by_status: Counter[str] = Counter()
    by_group: Counter[str] = Counter()
    by_place_id: Counter[int] = Counter()
    funding: Counter[str] = Counter()
    for status, group, municipality_id, route, was_placed, n in groups:
        total += n
        by_status[status] += n
        if status == REQUEST_PLACED and was_placed:
            placed += n
            funding[route] += n
        if status in UNMET_STATUSES:
            by_group[group] += n
            by_place_id[municipality_id] += n
    unmet = sum(by_group.values())
    codes = dict(
        session.execute(
            select(Municipality.id, Municipality.code).where(Municipality.id.in_(by_place_id))
        ).all()
    )
    by_place = Counter({codes[mid]: n for mid, n in by_place_id.items()})
    hours = _lead_time_hours(session, f) if placed else []
    before = _placed_before_arrival(session, f) if placed else 0
    return {
        "requests": {
            "total": s.count("requests.total", total),
            "placed": s.count("requests.placed", placed),
        },
        "placement_rate": s.statistic("placement_rate", total, _share(placed, total)),
        "lead_time_hours": {
            "count": s.count("lead_time_hours.count", len(hours)),
            "median": s.statistic(
                "lead_time_hours.median",
                len(hours),
                round(statistics.median(hours), 2) if hours else None,
            ),
            "p90": s.statistic(
                "lead_time_hours.p90",
                len(hours),
                round(percentile(hours, 0.9), 2) if hours else None,
            ),
        },
        "placed_before_desired_arrival": {
            "count": s.count("placed_before_desired_arrival.count", before),
            "share": s.statistic(
                "placed_before_desired_arrival.share", placed, _share(before, placed)
            ),
        },
        "unmet_demand": {
            "total": s.count("unmet_demand.total", unmet),
            "by_status": s.breakdown(
                "unmet_demand.by_status", {k: by_status.get(k, 0) for k in UNMET_STATUSES}
            ),
            "by_target_group": s.breakdown(
                "unmet_demand.by_target_group",
                {k: by_group.get(k, 0) for k in sorted(set(TARGET_GROUPS) | by_group.keys())},
            ),
            "by_municipality": s.breakdown(
                "unmet_demand.by_municipality", dict(sorted(by_place.items()))
            ),
        },
        "funding_chosen": s.breakdown(
            "funding_chosen", {k: funding.get(k, 0) for k in FUNDING_CHOICES}
        ),
    }


def _freshness(
    session: DbSession, f: KpiFilter, now: datetime, stale_after_hours: int
) -> dict[str, Any]:
    query = (
        select(Location.last_confirmed_at)
        .join(Municipality, Municipality.id == Location.municipality_id)
        .where(
            Location.units.any(Unit.retired_at.is_(None)),
            in_visible_regions(f.regions, Municipality.region_id),
        )
    )
    if f.municipality:
        query = query.where(Municipality.code == f.municipality)
    if f.provider_id is not None:
        query = query.where(Location.provider_id == f.provider_id)
    confirmed = list(session.scalars(query))
    stale = sum(1 for at in confirmed if is_stale(at, now, stale_after_hours))
    ages = [(now - at).total_seconds() / 3600 for at in confirmed if at is not None]
    return {
        "locations": len(confirmed),
        "fresh": len(confirmed) - stale,
        "stale": stale,
        "share_fresh": _share(len(confirmed) - stale, len(confirmed)),
        "median_age_hours": round(statistics.median(ages), 1) if ages else None,
        "stale_after_hours": stale_after_hours,
    }


def _neutrality(session: DbSession, f: KpiFilter, s: Suppressor) -> list[dict[str, Any]]:
    """Per meldpunt provider: placements it made in its own beds, against the share of its own
    units among the options shown for those same requests ("Plaatsingen in eigen bedden"). Not
    the per-shift count of `claims.neutrality`, which weighs offers against the free beds."""
    # The period's requests as a subquery: an IN list of a national year's ids is too long.
    request_ids = _request_query(f, CareRequest.id).scalar_subquery()
    query = (
        select(Reservation.caller_provider_id, Reservation.request_id, Location.provider_id)
        .join(Unit, Unit.id == Reservation.unit_id)
        .join(Location, Location.id == Unit.location_id)
        .where(
            Reservation.request_id.in_(request_ids),
            Reservation.caller_role == "meldpunt",
            Reservation.caller_provider_id.is_not(None),
            Reservation.status.in_(PLACED_STAY_STATUSES),
        )
    )
    if f.provider_id is not None:
        query = query.where(Reservation.caller_provider_id == f.provider_id)
    placements: dict[int, list[tuple[int, bool]]] = defaultdict(list)
    for meldpunt, request_id, owner in session.execute(query).all():
        assert meldpunt is not None and request_id is not None
        placements[meldpunt].append((request_id, owner == meldpunt))
    if not placements:
        return []
    handled = query.with_only_columns(Reservation.request_id).scalar_subquery()
    options: dict[int, set[tuple[int, int]]] = defaultdict(set)
    for request_id, unit_id, owner in session.execute(
        select(RequestOption.request_id, RequestOption.unit_id, Location.provider_id)
        .join(Unit, Unit.id == RequestOption.unit_id)
        .join(Location, Location.id == Unit.location_id)
        .where(RequestOption.request_id.in_(handled))
    ):
        options[request_id].add((unit_id, owner))
    names = dict(
        session.execute(
            select(Provider.id, Provider.name).where(Provider.id.in_(placements.keys()))
        ).all()
    )
    result = []
    for meldpunt in sorted(placements, key=lambda p: names[p]):
        rows = placements[meldpunt]
        own = sum(1 for _, is_own in rows if is_own)
        shown = [opt for rid in {rid for rid, _ in rows} for opt in options[rid]]
        own_shown = sum(1 for _, owner in shown if owner == meldpunt)
        path = f"neutrality.{meldpunt}"
        result.append(
            {
                "provider": {"id": meldpunt, "name": names[meldpunt]},
                "placements": s.count(f"{path}.placements", len(rows)),
                "own_placements": s.count(f"{path}.own_placements", own),
                "own_placement_share": s.statistic(
                    f"{path}.own_placement_share", len(rows), _share(own, len(rows))
                ),
                "options_shown": len(shown),
                "own_options": own_shown,
                "own_option_share": _share(own_shown, len(shown)),
            }
        )
    return result


def _occupancy(session: DbSession, f: KpiFilter) -> dict[str, object]:
    return period_occupancy(
        session,
        f.night_from,
        f.night_to,
        provider_id=f.provider_id,
        municipality_code=f.municipality,
        regions=f.regions,
    )


def kpi_figures(
    session: DbSession, f: KpiFilter, *, now: datetime, stale_after_hours: int
) -> dict[str, Any]:
    """Every figure for the period and filters; counts of 1–4 people are `null`, and listed in
    `suppression.cells`."""
    s = Suppressor()
    figures: dict[str, Any] = {
        "period": {"from": f.night_from.isoformat(), "to": f.night_to.isoformat()},
        "filters": {"municipality": f.municipality, "provider": f.provider_id},
    }
    figures.update(_demand(session, f, s))
    figures["occupancy"] = _occupancy(session, f)
    figures["freshness"] = _freshness(session, f, now, stale_after_hours)
    figures["neutrality"] = _neutrality(session, f, s)
    for name in PLUGGABLE:
        source = _sources.get(name) or _built_in_source(name)
        figures[name] = source(session, f, s, now) if source is not None else None
    figures["suppression"] = {
        "threshold": THRESHOLD,
        "rule": f"Aantallen van 1 tot en met {THRESHOLD - 1} personen en cijfers over minder "
        f"dan {THRESHOLD} personen worden niet getoond.",
        "cells": s.paths,
    }
    return figures


SERIES_FIELDS = (
    "requests",
    "placed",
    "placement_rate",
    "lead_time_median_hours",
    "unmet_demand",
    "occupancy",
)


def monthly_series(session: DbSession, f: KpiFilter) -> list[dict[str, Any]]:
    """The headline figures per calendar month of the period, for the dashboard's charts.
    Each month is suppressed on its own; `suppressed` names the fields hidden that month."""
    rows: list[dict[str, Any]] = []
    month = Month.of(f.night_from)
    while month.first < f.night_to:
        part = replace(
            f, night_from=max(month.first, f.night_from), night_to=min(month.end, f.night_to)
        )
        s = Suppressor()
        k = _demand(session, part, s)
        cells = set(s.paths)
        rows.append(
            {
                "month": str(month),
                "requests": k["requests"]["total"],
                "placed": k["requests"]["placed"],
                "placement_rate": k["placement_rate"],
                "lead_time_median_hours": k["lead_time_hours"]["median"],
                "unmet_demand": k["unmet_demand"]["total"],
                "occupancy": _occupancy(session, part)["occupancy"],
                "suppressed": [
                    name
                    for name, path in (
                        ("requests", "requests.total"),
                        ("placed", "requests.placed"),
                        ("placement_rate", "placement_rate"),
                        ("lead_time_median_hours", "lead_time_hours.median"),
                        ("unmet_demand", "unmet_demand.total"),
                    )
                    if path in cells
                ],
            }
        )
        month = month.next()
    return rows


def flatten(figures: dict[str, Any], decimal_comma: bool = False) -> list[tuple[str, str]]:
    """(figure path, value) rows for the CSV; a suppressed cell reads '<5'."""
    hidden = set(figures.get("suppression", {}).get("cells", []))
    rows: list[tuple[str, str]] = []

    def walk(path: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                walk(f"{path}.{key}" if path else str(key), item)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                key = (
                    item["provider"]["id"]
                    if isinstance(item, dict) and "provider" in item
                    else index
                )
                walk(f"{path}.{key}", item)
        elif value is None:
            rows.append((path, f"<{THRESHOLD}" if path in hidden else ""))
        elif isinstance(value, bool):
            rows.append((path, "ja" if value else "nee"))
        elif isinstance(value, float):
            rows.append((path, formatting.csv_number(value, comma=decimal_comma)))
        else:
            rows.append((path, str(value)))

    walk("", {k: v for k, v in figures.items() if k != "suppression"})
    return rows
