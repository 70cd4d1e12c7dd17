"""Rank the units that fit a care request. The rules are documented in docs/matching.md.

1. Hard filters: in service, target group, care level (a higher level takes a lower need),
   wheelchair, funding route, min/max nights, arrival weekday, and a free bed on every night
   (overdue holds count as free, as in `availability.free_beds_per_night`).
2. A score from place (same municipality > same region > elsewhere, closer first), continuity
   (an earlier stay of the same client there), language and the freshness of the figures.
   The provider on duty gets no bonus: duty is not an input here at all.
3. Equal scores are ordered by a rotation seeded by the request's reference, so every provider
   comes first for some requests.
4. Where the exact dates do not fit a unit, the nearest dates within the request's flexibility
   that do fit are offered for it instead, ranked after the exact fits.

What a request asks (`Criteria`, `criteria_for`) is built in `criteria.py`; both names are
imported from here too, so a caller builds the criteria and ranks with one module.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import String, cast, exists, or_, select

from respijt.beds.availability import free_beds_per_night, iso_utc
from respijt.beds.nearby import distance_km
from respijt.beds.registry import is_stale
from respijt.care_requests.criteria import Criteria as Criteria
from respijt.care_requests.criteria import criteria_for as criteria_for
from respijt.codes import CARE_LEVEL_ORDER, LANGUAGES
from respijt.database import DbSession
from respijt.models import (
    CareRequest,
    Location,
    Municipality,
    Provider,
    Region,
    Unit,
    UnitTargetGroup,
)

# Score weights; see docs/matching.md (at most 2.0 with a preference, 1.0 without).
W_SAME_MUNICIPALITY = 0.40
W_SAME_REGION = 0.20
W_CLOSENESS = 0.10  # scaled down linearly to 0 at CLOSENESS_KM
CLOSENESS_KM = 100.0
W_CONTINUITY = 0.25
W_PREFERENCE = 1.0  # the place the family chose in the search: first whenever it fits
W_LANGUAGE = 0.15
W_FRESHNESS = 0.10  # scaled down per whole day to 0 when the figures go stale


@dataclass
class Match:
    unit_id: int
    unit_name: str
    provider_id: int
    location: dict[str, Any]
    arrival: date
    departure: date
    exact: bool
    score: float
    reasons: list[str] = field(default_factory=list)
    rotation: str = ""
    requires_provider_confirmation: bool = False
    # Set when the unit declined this request before: it is then ranked last.
    declined_reason: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "unit_id": self.unit_id,
            "unit_name": self.unit_name,
            "location": self.location,
            "arrival": self.arrival.isoformat(),
            "departure": self.departure.isoformat(),
            "exact_dates": self.exact,
            "score": self.score,
            "reasons": self.reasons,
            "requires_provider_confirmation": self.requires_provider_confirmation,
            "declined_reason": self.declined_reason,
        }


def _nights_word(days: int) -> str:
    return "1 dag" if days == 1 else f"{days} dagen"


def freshness_reason(confirmed_at: datetime | None, now: datetime) -> tuple[str, int | None]:
    if confirmed_at is None:
        return "gegevens nooit bevestigd", None
    days = max(0, (now - confirmed_at).days)
    if days == 0:
        return "gegevens van vandaag", 0
    return f"gegevens {_nights_word(days)} oud", days


def rotation_key(reference: str, provider_id: int) -> str:
    """Deterministic per request, different across requests: ties take turns."""
    return hashlib.sha256(f"{reference}:{provider_id}".encode()).hexdigest()


@lru_cache(maxsize=256)
def _json_list(raw: str | None) -> tuple[str, ...]:
    """A JSON list column read as text and parsed once per distinct value (few exist)."""
    return tuple(json.loads(raw)) if raw else ()


def _candidate_rows(session: DbSession, criteria: Criteria, *, nearby: bool = False) -> list[Any]:
    """Every unit in the country that passes the filters that need no nights; with `nearby`
    only those in the request's region or at a location of an earlier stay.

    Core on the session's connection (plain rows, no ORM loading, as it reads every unit in
    the country); the JSON lists (funding routes, languages) come as text and are parsed per value.
    """
    levels = CARE_LEVEL_ORDER[CARE_LEVEL_ORDER.index(criteria.care_level) :]
    query = (
        select(
            Unit.id,
            Unit.name,
            Unit.arrival_weekdays,
            cast(Unit.funding_routes, String),
            Unit.requires_provider_confirmation,
            Location.id,
            Location.name,
            Location.postcode,
            Location.latitude,
            Location.longitude,
            cast(Location.languages, String),
            Location.last_confirmed_at,
            Provider.id,
            Provider.name,
            Municipality.id,
            Municipality.code,
            Municipality.name,
            Municipality.region_id,
            Municipality.latitude,
            Municipality.longitude,
            Region.code,
            Region.name,
        )
        .join(Location, Location.id == Unit.location_id)
        .join(Provider, Provider.id == Location.provider_id)
        .join(Municipality, Municipality.id == Location.municipality_id)
        .outerjoin(Region, Region.id == Municipality.region_id)
        .where(
            Unit.retired_at.is_(None),
            Unit.care_level.in_(levels),
            Unit.min_nights <= criteria.nights,
            Unit.max_nights >= criteria.nights,
            exists().where(
                UnitTargetGroup.unit_id == Unit.id,
                UnitTargetGroup.target_group == criteria.target_group,
            ),
        )
    )
    if criteria.wheelchair:
        query = query.where(Unit.wheelchair.is_(True))
    if nearby:
        in_region = Municipality.region_id == criteria.region_id
        kept = set(criteria.previous_location_ids)
        if criteria.preferred_location_id is not None:
            kept.add(criteria.preferred_location_id)
        if kept:
            in_region = or_(in_region, Location.id.in_(sorted(kept)))
        query = query.where(in_region)
    rows = session.connection().execute(query).all()
    if criteria.funding == "onbekend":
        return list(rows)
    return [row for row in rows if criteria.funding in _json_list(row[3])]


def _fits(free: dict[date, int], arrival: date, nights: int, weekdays: str) -> bool:
    if str(arrival.isoweekday()) not in weekdays:
        return False
    return all(free.get(arrival + timedelta(days=i), 0) > 0 for i in range(nights))


def _shifts(flexibility: int) -> list[int]:
    """Nearest first; later before earlier on equal distance (a carer rarely gains by earlier)."""
    out: list[int] = []
    for d in range(1, flexibility + 1):
        out.extend((d, -d))
    return out


def _score(
    criteria: Criteria, row: Any, now: datetime, stale_after_hours: int
) -> tuple[float, list[str]]:
    reasons: list[str] = []
    return _score_value(criteria, row, now, stale_after_hours, reasons), reasons


def _score_value(
    criteria: Criteria,
    row: Any,
    now: datetime,
    stale_after_hours: int,
    reasons: list[str] | None = None,
) -> float:
    """The score of a candidate row; its reasons are appended to `reasons` when given (the
    ranking scores every candidate in the country, the texts are only needed for those shown)."""
    (
        _uid,
        _uname,
        _wd,
        _funding,
        _confirm,
        location_id,
        _lname,
        _postcode,
        loc_lat,
        loc_lon,
        languages,
        confirmed_at,
        _pid,
        _pname,
        municipality_id,
        _mcode,
        _mname,
        region_id,
        mun_lat,
        mun_lon,
        _rcode,
        _rname,
    ) = row
    score = 0.0
    if municipality_id == criteria.municipality_id:
        score += W_SAME_MUNICIPALITY
        if reasons is not None:
            reasons.append("zelfde gemeente")
    elif criteria.region_id is not None and region_id == criteria.region_id:
        score += W_SAME_REGION
        if reasons is not None:
            reasons.append("zelfde regio")
    elif reasons is not None:
        reasons.append("buiten de regio")
    lat, lon = (loc_lat, loc_lon) if loc_lat is not None else (mun_lat, mun_lon)
    if None not in (lat, lon, criteria.latitude, criteria.longitude):
        km = distance_km(criteria.latitude, criteria.longitude, lat, lon)  # type: ignore[arg-type]
        score += W_CLOSENESS * max(0.0, 1.0 - km / CLOSENESS_KM)
        if km >= 1 and reasons is not None:
            reasons.append(f"op {round(km)} km")
    if location_id in criteria.previous_location_ids:
        score += W_CONTINUITY
        if reasons is not None:
            reasons.append("eerder gelogeerd")
    if location_id == criteria.preferred_location_id:
        score += W_PREFERENCE
        if reasons is not None:
            reasons.append("voorkeur van de aanvrager")
    if (
        criteria.language
        and criteria.language != "nl"
        and criteria.language in _json_list(languages)
    ):
        score += W_LANGUAGE
        if reasons is not None:
            reasons.append(f"spreekt {LANGUAGES.get(criteria.language, criteria.language)}")
    if reasons is not None:
        text, days = freshness_reason(confirmed_at, now)
        reasons.append(text)
    else:
        days = None if confirmed_at is None else max(0, (now - confirmed_at).days)
    stale_days = max(1, stale_after_hours // 24)
    if days is not None and not is_stale(confirmed_at, now, stale_after_hours):
        score += W_FRESHNESS * max(0.0, (stale_days - days) / stale_days)
    return round(score, 3)


def _elsewhere_ceiling(criteria: Criteria) -> float:
    """The highest score a unit outside the region, at no location of an earlier stay nor the
    preferred one (both are read with the region's candidates), can get:
    no place or continuity points, full closeness and freshness, the language if asked."""
    ceiling = W_CLOSENESS + W_FRESHNESS
    if criteria.language and criteria.language != "nl":
        ceiling += W_LANGUAGE
    return round(ceiling, 3)


# Candidates whose nights are read per round trip when only the best exact fits are wanted.
_BATCH = 50


def _match(
    criteria: Criteria,
    row: Any,
    arrival: date,
    shift: int,
    now: datetime,
    stale_after_hours: int,
) -> Match:
    score, reasons = _score(criteria, row, now, stale_after_hours)
    if shift:
        direction = "later" if shift > 0 else "eerder"
        reasons.insert(0, f"andere data: {_nights_word(abs(shift))} {direction}")
    return Match(
        unit_id=row[0],
        unit_name=row[1],
        provider_id=row[12],
        location={
            "id": row[5],
            "name": row[6],
            "postcode": row[7],
            "provider": {"id": row[12], "name": row[13]},
            "municipality": {"code": row[15], "name": row[16]},
            "region": {"code": row[20], "name": row[21]} if row[20] else None,
            "updated_at": iso_utc(row[11]),
            "stale": is_stale(row[11], now, stale_after_hours),
        },
        arrival=arrival,
        departure=arrival + timedelta(days=criteria.nights),
        exact=shift == 0,
        score=score,
        reasons=reasons,
        rotation=rotation_key(criteria.reference, row[12]),
        requires_provider_confirmation=bool(row[4]),
    )


def _best_exact(
    session: DbSession,
    criteria: Criteria,
    rows: list[Any],
    *,
    now: datetime,
    today: date,
    stale_after_hours: int,
    limit: int,
    exclude: frozenset[tuple[int, date]],
) -> list[Match] | None:
    """The first `limit` units that fit the exact dates in ranking order, or None when fewer
    than `limit` do (then the other dates take part in the answer too).

    Exact fits rank before every other-date option, and among themselves by (score, rotation,
    unit id), which needs no nights: so the candidates are scored first (numbers only) and their
    nights read best first, a batch at a time, until `limit` fit. This gives the same answer as
    ranking every unit in the country, for the nights of a few dozen units instead of all.
    """
    arrival, nights = criteria.arrival, criteria.nights
    if arrival < today:
        return None
    rotations: dict[int, str] = {}
    ranked: list[tuple[float, str, int, Any]] = []
    for row in rows:
        if (row[0], arrival) in exclude:
            continue
        provider_id = row[12]
        rotation = rotations.get(provider_id)
        if rotation is None:
            rotation = rotations[provider_id] = rotation_key(criteria.reference, provider_id)
        ranked.append((-_score_value(criteria, row, now, stale_after_hours), rotation, row[0], row))
    ranked.sort(key=lambda item: item[:3])
    chosen: list[Match] = []
    for start in range(0, len(ranked), _BATCH):
        batch = ranked[start : start + _BATCH]
        free = free_beds_per_night(
            session, [item[2] for item in batch], arrival, criteria.departure, now
        )
        for _, _, unit_id, row in batch:
            if _fits(free.get(unit_id, {}), arrival, nights, row[2]):
                chosen.append(_match(criteria, row, arrival, 0, now, stale_after_hours))
                if len(chosen) == limit:
                    return chosen
    return None


def request_matches(session: DbSession, care_request: CareRequest, **options: Any) -> list[Match]:
    """`find_matches` (with its keyword `options`) for what the care request asks."""
    return find_matches(session, criteria_for(session, care_request), **options)


def find_matches(
    session: DbSession,
    criteria: Criteria,
    *,
    now: datetime,
    today: date,
    stale_after_hours: int,
    limit: int | None = None,
    exclude: frozenset[tuple[int, date]] = frozenset(),
) -> list[Match]:
    """Units that fit, best first. `exclude` holds (unit id, arrival) pairs not to offer again.

    With a limit, the region (and earlier stays) is tried first: when its `limit` best exact
    fits all score above anything a unit elsewhere can reach, they are the answer. Otherwise
    the whole country is ranked. Either way the answer is that of ranking every unit.
    """
    limited = limit is not None and limit > 0

    def best_of(rows: list[Any]) -> list[Match] | None:
        assert limit is not None
        return _best_exact(
            session,
            criteria,
            rows,
            now=now,
            today=today,
            stale_after_hours=stale_after_hours,
            limit=limit,
            exclude=exclude,
        )

    if limited and criteria.region_id is not None:
        best = best_of(_candidate_rows(session, criteria, nearby=True))
        if best is not None and best[-1].score > _elsewhere_ceiling(criteria):
            return best
    rows = _candidate_rows(session, criteria)
    if not rows:
        return []
    if limited:
        best = best_of(rows)
        if best is not None:
            return best
    flex = criteria.flexibility_days
    window_from = max(today, criteria.arrival - timedelta(days=flex))
    window_to = criteria.departure + timedelta(days=flex)
    if window_to <= window_from:
        return []
    free = free_beds_per_night(session, [row[0] for row in rows], window_from, window_to, now)
    nights = criteria.nights
    matches: list[Match] = []
    for row in rows:
        unit_id, weekdays = row[0], row[2]
        unit_free = free.get(unit_id, {})
        chosen: tuple[date, int] | None = None
        for shift in [0, *_shifts(flex)]:
            arrival = criteria.arrival + timedelta(days=shift)
            if arrival < today or (unit_id, arrival) in exclude:
                continue
            if _fits(unit_free, arrival, nights, weekdays):
                chosen = (arrival, shift)
                break
        if chosen is None:
            continue
        matches.append(_match(criteria, row, chosen[0], chosen[1], now, stale_after_hours))
    matches.sort(
        key=lambda m: (
            not m.exact,
            -m.score,
            abs((m.arrival - criteria.arrival).days),
            m.rotation,
            m.unit_id,
        )
    )
    return matches[:limit] if limit is not None else matches
