"""Neutrality of the meldpunt per region and month ("Eigen bedden aangeboden per dienst"): for
each duty shift, how often the provider on duty put its own beds forward, against its share of
the region's free beds.

Not the same figures as the KPI `neutrality` ("Plaatsingen in eigen bedden", `claims.kpis`):
that one counts, per meldpunt provider, the placements it made for the requests of a period and
the share of its own beds among their options, with no shifts and no free beds. This one counts
by the shift in which things happened:

- shown: the fitting beds the meldpunt saw during the shift (distinct request and unit,
  `request_option.shown_at` in the shift), and how many were the duty provider's own;
- offered: the beds the duty provider held for a request as meldpunt (reservations with
  `caller_role` meldpunt and its provider, made during the shift);
- chosen: of those, the offers the requester accepted (the reservation went from held to
  waiting for the provider or confirmed);
- confirmed: of those, the stays that are confirmed, checked in or completed;
- free beds: the bed-nights published and left free (`claims.leegstand`) over the nights of the
  shift, in the region, and the duty provider's part of them.

Counts of offers, choices and stays are counts of people: 1–4 is suppressed, as in the KPIs
(`claims.suppression`); the shares over fewer than 5 as well.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from respijt import clock
from respijt.claims.kpis import PLACED_STAY_STATUSES
from respijt.claims.leegstand import unit_occupancy
from respijt.claims.months import Month
from respijt.claims.suppression import Suppressor
from respijt.database import DbSession
from respijt.meldpunt.generation import shifts_between
from respijt.models import (
    CareRequest,
    Location,
    Provider,
    RequestOption,
    Reservation,
    ReservationEvent,
    Unit,
)
from respijt.reservations.workflow import AWAITING_PROVIDER, CONFIRMED, HELD


@dataclass
class Tally:
    """Raw counts for one shift or one provider over the month (never shown unsuppressed)."""

    shown: int = 0
    own_shown: int = 0
    offered: int = 0
    own_offered: int = 0
    chosen: int = 0
    own_chosen: int = 0
    confirmed: int = 0
    own_confirmed: int = 0
    free: int = 0
    own_free: int = 0

    def add(self, other: Tally) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class ShiftTally:
    provider_id: int
    starts_at: datetime
    ends_at: datetime
    holiday: bool
    kind: str
    tally: Tally = field(default_factory=Tally)


def _share(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(part / whole, 4)


def _nights(starts_at: datetime, ends_at: datetime) -> tuple[date, date]:
    """The nights of a shift: from its first local day up to (not including) the day it ends,
    at least one night."""
    first = starts_at.astimezone(clock.LOCAL_TZ).date()
    last = ends_at.astimezone(clock.LOCAL_TZ).date()
    return first, max(last, first + timedelta(days=1))


def _owner_of_units() -> Any:
    return (
        select(Unit.id, Location.provider_id)
        .join(Location, Location.id == Unit.location_id)
        .subquery()
    )


def _shift_tally(session: DbSession, region_id: int, shift: ShiftTally) -> None:
    owners = _owner_of_units()
    a, b, provider = shift.starts_at, shift.ends_at, shift.provider_id
    t = shift.tally
    shown = set(
        session.execute(
            select(RequestOption.request_id, RequestOption.unit_id, owners.c.provider_id)
            .join(CareRequest, CareRequest.id == RequestOption.request_id)
            .join(owners, owners.c.id == RequestOption.unit_id)
            .where(
                CareRequest.region_id == region_id,
                RequestOption.shown_at >= a,
                RequestOption.shown_at < b,
            )
        ).all()
    )
    t.shown = len(shown)
    t.own_shown = sum(1 for _, _, owner in shown if owner == provider)
    offers = session.execute(
        select(Reservation.id, Reservation.status, owners.c.provider_id)
        .join(CareRequest, CareRequest.id == Reservation.request_id)
        .join(owners, owners.c.id == Reservation.unit_id)
        .where(
            CareRequest.region_id == region_id,
            Reservation.caller_role == "meldpunt",
            Reservation.caller_provider_id == provider,
            Reservation.created_at >= a,
            Reservation.created_at < b,
        )
    ).all()
    accepted = (
        set(
            session.scalars(
                select(ReservationEvent.reservation_id).where(
                    ReservationEvent.reservation_id.in_([row[0] for row in offers]),
                    ReservationEvent.from_status == HELD,
                    ReservationEvent.to_status.in_((AWAITING_PROVIDER, CONFIRMED)),
                )
            )
        )
        if offers
        else set()
    )
    for reservation_id, status, owner in offers:
        own = owner == provider
        t.offered += 1
        t.own_offered += own
        if reservation_id in accepted or status in PLACED_STAY_STATUSES:
            t.chosen += 1
            t.own_chosen += own
        if status in PLACED_STAY_STATUSES:
            t.confirmed += 1
            t.own_confirmed += own
    night_from, night_to = _nights(a, b)
    for unit in unit_occupancy(session, night_from, night_to, regions=frozenset({region_id})):
        t.free += unit.kept_free
        if unit.provider_id == provider:
            t.own_free += unit.kept_free


def _figures(s: Suppressor, path: str, t: Tally) -> dict[str, Any]:
    """A tally as figures, through the suppression."""
    return {
        "shown": t.shown,
        "own_shown": t.own_shown,
        "own_shown_share": _share(t.own_shown, t.shown),
        "offered": s.count(f"{path}.offered", t.offered),
        "own_offered": s.count(f"{path}.own_offered", t.own_offered),
        "own_offered_share": s.statistic(
            f"{path}.own_offered_share", t.offered, _share(t.own_offered, t.offered)
        ),
        "chosen": s.count(f"{path}.chosen", t.chosen),
        "own_chosen": s.count(f"{path}.own_chosen", t.own_chosen),
        "own_chosen_share": s.statistic(
            f"{path}.own_chosen_share", t.chosen, _share(t.own_chosen, t.chosen)
        ),
        "confirmed": s.count(f"{path}.confirmed", t.confirmed),
        "own_confirmed": s.count(f"{path}.own_confirmed", t.own_confirmed),
        "own_confirmed_share": s.statistic(
            f"{path}.own_confirmed_share", t.confirmed, _share(t.own_confirmed, t.confirmed)
        ),
        "free_bed_nights": t.free,
        "own_free_bed_nights": t.own_free,
        "own_free_share": _share(t.own_free, t.free),
    }


def month_bounds(month: Month) -> tuple[datetime, datetime]:
    return clock.local_midnight_utc(month.first), clock.local_midnight_utc(month.end)


def neutrality_month(session: DbSession, region_id: int, month: Month) -> dict[str, Any]:
    """Per duty shift of the month (clipped to the month) and per duty provider: own beds
    shown, offered, chosen and confirmed against its share of the free beds."""
    start, end = month_bounds(month)
    rows = shifts_between(session, region_id, start, end)
    shifts = [
        ShiftTally(r.provider_id, max(r.starts_at, start), min(r.ends_at, end), r.holiday, r.kind)
        for r in rows
    ]
    for shift in shifts:
        _shift_tally(session, region_id, shift)
    names = dict(
        session.execute(
            select(Provider.id, Provider.name).where(
                Provider.id.in_({s.provider_id for s in shifts})
            )
        ).all()
    )
    s = Suppressor()
    per_provider: dict[int, Tally] = defaultdict(Tally)
    count: dict[int, int] = defaultdict(int)
    shift_rows = []
    for index, shift in enumerate(shifts):
        per_provider[shift.provider_id].add(shift.tally)
        count[shift.provider_id] += 1
        shift_rows.append(
            {
                "provider": {"id": shift.provider_id, "name": names[shift.provider_id]},
                "starts_at": shift.starts_at,
                "ends_at": shift.ends_at,
                "holiday": shift.holiday,
                "kind": shift.kind,
                **_figures(s, f"shifts.{index}", shift.tally),
            }
        )
    providers = [
        {
            "provider": {"id": pid, "name": names[pid]},
            "shifts": count[pid],
            **_figures(s, f"providers.{pid}", tally),
        }
        for pid, tally in sorted(per_provider.items(), key=lambda item: names[item[0]])
    ]
    return {
        "month": str(month),
        "shifts": shift_rows,
        "providers": providers,
        "suppressed": s.paths,
    }
