"""Kept figures of finished months (claims.occupancy_months): the same figures as counting the
nights, used while no stay of the month changed since, and counted again after a late change.
And the request figures counted in the database, on the day a local day begins."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from respijt import clock
from respijt.claims import kpis, leegstand, occupancy_months
from respijt.models import CountedMonth, NightInventory, Reservation, StayMonthChange
from respijt.reservations import steps
from respijt.reservations.past_months import months_before_this_one
from tests.claims.test_kpis import MARCH, NOW, build
from tests.claims_helpers import PROVIDER, STAFF, request

# From mid-February to the day of the report: March whole, the rest in part.
PERIOD = kpis.KpiFilter(date(2027, 2, 15), date(2027, 4, 10))


def occupancy(db, f: kpis.KpiFilter = MARCH) -> dict:
    return kpis.kpi_figures(db.session, f, now=NOW, stale_after_hours=72)["occupancy"]


def register(db) -> dict[int, tuple[int, int, int]]:
    return {
        r.unit_id: (r.nights, r.published, r.used)
        for r in leegstand.unit_occupancy(db.session, MARCH.night_from, MARCH.night_to)
    }


def count_all(db) -> int:
    """Run the scheduler's step until every finished month is counted; how many runs counted."""
    runs = 0
    while occupancy_months.months_to_count(db.session, clock.today()):
        occupancy_months.count_next_month(db.session, clock.now())
        db.session.commit()
        runs += 1
    return runs


def test_kept_figures_of_a_finished_month_are_the_figures_counted_from_the_nights(db, make):
    data = build(db, make)
    counted = (occupancy(db), occupancy(db, PERIOD), register(db))
    assert counted[0]["used_bed_nights"] == 15

    assert count_all(db) == 1  # March: the first stay's month, up to the last finished one
    kept = db.session.get(CountedMonth, date(2027, 3, 1))
    assert kept is not None and kept.changes_seen == 0
    assert (occupancy(db), occupancy(db, PERIOD), register(db)) == counted

    # The report reads March from the kept figures now: a night changed behind the
    # application's back (a capacity of the past never changes through it) does not show.
    db.session.execute(
        update(NightInventory)
        .where(NightInventory.unit_id == data.uq.id, NightInventory.night == date(2027, 3, 20))
        .values(capacity=0)
    )
    db.session.commit()
    assert occupancy(db) == counted[0]
    # …while a period with March in part still counts those nights.
    part = kpis.KpiFilter(date(2027, 3, 2), date(2027, 4, 1))
    assert occupancy(db, part)["published_bed_nights"] == 93 - 3 - 1


@pytest.mark.parametrize("change", ["no_show", "moved"])
def test_a_late_change_to_a_stay_of_a_counted_month_shows_at_once_and_is_counted_again(
    db, make, change
):
    data = build(db, make)
    count_all(db)
    before = occupancy(db)
    stay = db.session.scalars(
        select(Reservation).where(
            Reservation.unit_id == data.uq.id, Reservation.arrival == date(2027, 3, 15)
        )
    ).one()  # one night, still confirmed on 10 April
    if change == "no_show":
        steps.mark_no_show(db.session, stay, caller=PROVIDER, now=clock.now(), today=clock.today())
    else:
        steps.change_dates(
            db.session,
            stay,
            arrival=date(2027, 4, 20),
            departure=date(2027, 4, 21),
            caller=STAFF,
            now=clock.now(),
            today=clock.today(),
        )
    db.session.commit()
    assert db.session.get(StayMonthChange, date(2027, 3, 1)).changes == 1

    after = occupancy(db)
    assert after["used_bed_nights"] == before["used_bed_nights"] - 1
    assert occupancy_months.months_to_count(db.session, clock.today()) == [date(2027, 3, 1)]
    assert count_all(db) == 1
    assert db.session.get(CountedMonth, date(2027, 3, 1)).changes_seen == 1
    assert occupancy(db) == after


def test_changes_to_this_month_and_later_are_not_noted(db, make):
    build(db, make)
    stay = db.session.scalars(
        select(Reservation).where(Reservation.arrival == date(2027, 4, 2))
    ).one()  # p3, April only
    steps.cancel(db.session, stay, party="requester", caller=STAFF, now=clock.now(), reason="x")
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(StayMonthChange)) == 0


def test_only_changes_to_the_months_before_this_one_are_noted():
    assert months_before_this_one(date(2027, 2, 27), date(2027, 4, 3), date(2027, 4, 1)) == [
        date(2027, 2, 1),
        date(2027, 3, 1),
    ]


def test_the_scheduler_waits_a_day_after_the_month_ends(db, make):
    build(db, make)
    assert occupancy_months.months_to_count(db.session, date(2027, 4, 1)) == []
    assert occupancy_months.months_to_count(db.session, date(2027, 4, 2)) == [date(2027, 3, 1)]


def _utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def test_placed_before_the_arrival_day_means_before_local_midnight_in_summer_and_winter(db, make):
    """22:30 UTC is 00:30 the next day in summer (not before) and 23:30 in winter (before)."""
    clock.freeze(_utc(2027, 1, 1, 9))
    place = make.municipality("GM0503", region=make.region(), name="Delft")
    cases = [
        # (placed at, desired arrival, placed before that day began?)
        (_utc(2027, 7, 9, 21, 30), date(2027, 7, 10), True),  # 23:30 local, 9 July
        (_utc(2027, 7, 9, 22, 30), date(2027, 7, 10), False),  # 00:30 local, 10 July
        (_utc(2027, 1, 9, 22, 30), date(2027, 1, 10), True),  # 23:30 local, 9 January
        (_utc(2027, 1, 9, 23, 30), date(2027, 1, 10), False),  # 00:30 local, 10 January
    ]
    for placed_at, arrival, _ in cases:
        for n in range(5):
            created = placed_at - timedelta(hours=n + 1, seconds=0.25)
            request(
                db.session,
                place,
                status="placed",
                arrival=arrival,
                departure=arrival + timedelta(days=3),
                created_at=created,
                placed_at=placed_at,
            )
    clock.freeze(NOW)
    k = kpis.kpi_figures(
        db.session,
        kpis.KpiFilter(date(2027, 1, 1), date(2027, 8, 1)),
        now=NOW,
        stale_after_hours=72,
    )
    assert k["placed_before_desired_arrival"] == {"count": 10, "share": 0.5}
    # Lead times of 1 to 5 hours and a quarter second, four of each: median 3.0, p90 5.0.
    assert k["lead_time_hours"] == {"count": 20, "median": 3.0, "p90": 5.0}


def test_lead_times_are_exact_to_the_microsecond(db, make):
    """10 h 0 min 17.9996 s is 10.00 h; counted to the millisecond it would round to 10.01."""
    clock.freeze(_utc(2027, 3, 1, 9))
    place = make.municipality("GM0503", region=make.region(), name="Delft")
    created = datetime(2027, 3, 2, 9, 0, 0, 400, tzinfo=UTC)
    for _ in range(5):
        request(
            db.session,
            place,
            status="placed",
            created_at=created,
            placed_at=created + timedelta(hours=10, seconds=17, microseconds=999_600),
        )
    clock.freeze(NOW)
    k = kpis.kpi_figures(db.session, MARCH, now=NOW, stale_after_hours=72)
    assert k["lead_time_hours"] == {"count": 5, "median": 10.0, "p90": 10.0}
    series = kpis.monthly_series(db.session, MARCH)
    assert series[0]["lead_time_median_hours"] == 10.0
