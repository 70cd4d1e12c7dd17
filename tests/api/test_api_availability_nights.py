"""The API's `nights`, aggregated per unit by the database, against the plain search of the pages:
every night of the window in order, live holds taken, overdue holds given back, 0 past the horizon.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson
import pytest

from respijt import clock
from respijt.beds import availability
from respijt.database import read_only, run_in_transaction
from respijt.people.caller import Caller
from respijt.reservations import holds

NOON = datetime(2027, 1, 20, 11, 0, tzinfo=UTC)
MELDPUNT = Caller("token:1", "meldpunt", None)


@pytest.fixture(autouse=True)
def frozen_clock():
    clock.freeze(NOON)
    yield
    clock.freeze(None)


def hold(db, unit, arrival, departure):
    def work():
        return holds.place_hold(
            db.session,
            unit_id=unit.id,
            arrival=arrival,
            departure=departure,
            caller=MELDPUNT,
            now=clock.now(),
            today=clock.today(),
            hold_minutes=15,
            provider_confirm_hours=24,
        )

    return run_in_transaction(db.session, work)


def api_nights(client, region, night_from, night_to) -> dict[int, list[dict]]:
    response = client.get(f"/api/v1/availability?from={night_from}&to={night_to}&region={region}")
    assert response.status_code == 200
    body = response.get_json()
    return {u["id"]: u["nights"] for loc in body["locations"] for u in loc["units"]}


def page_nights(db, region, night_from, night_to) -> dict[int, list[dict]]:
    with read_only():
        result = availability.search(
            db.session,
            availability.SearchFilters(region=region),
            night_from,
            night_to,
            clock.now(),
            72,
        )
    db.session.rollback()
    return {u["id"]: u["nights"] for loc in result["locations"] for u in loc["units"]}


def test_api_nights_count_live_holds_give_back_overdue_ones_and_end_at_the_horizon(
    client, db, make, app
):
    region = make.region()
    location = make.location(municipality=make.municipality(region=region))
    plain = make.unit(location=location, capacity=3)
    live = make.unit(location=location, capacity=2)
    overdue = make.unit(location=location, capacity=2)
    start = clock.today() + timedelta(days=5)
    hold(db, overdue, start + timedelta(days=1), start + timedelta(days=3))
    clock.freeze(NOON + timedelta(minutes=30))  # that hold is overdue now, not yet swept
    hold(db, live, start, start + timedelta(days=2))

    nights = api_nights(client, region.code, start, start + timedelta(days=4))
    days = [(start + timedelta(days=i)).isoformat() for i in range(4)]
    assert nights[plain.id] == [{"date": d, "free": 3} for d in days]
    assert [n["free"] for n in nights[live.id]] == [1, 1, 2, 2]
    assert [n["free"] for n in nights[overdue.id]] == [2, 2, 2, 2]
    assert nights == page_nights(db, region.code, start, start + timedelta(days=4))

    horizon_end = clock.today() + timedelta(days=app.config["RESPIJT_HORIZON_DAYS"])
    across = (horizon_end - timedelta(days=2), horizon_end + timedelta(days=2))
    nights = api_nights(client, region.code, *across)
    assert [n["free"] for n in nights[plain.id]] == [3, 3, 0, 0]
    assert [n["date"] for n in nights[plain.id]] == [
        (across[0] + timedelta(days=i)).isoformat() for i in range(4)
    ]
    assert nights == page_nights(db, region.code, *across)


def test_complete_units_without_overdue_holds_take_the_aggregated_way(db, make):
    unit = make.unit(capacity=4)
    other = make.unit(capacity=1)
    start = clock.today() + timedelta(days=2)
    hold(db, other, start, start + timedelta(days=1))
    clock.freeze(NOON + timedelta(minutes=30))
    with read_only():
        nights = availability.encoded_nights_per_unit(
            db.session, [unit.id, other.id], start, start + timedelta(days=3), clock.now()
        )
    db.session.rollback()
    assert isinstance(nights[unit.id], orjson.Fragment)
    assert orjson.loads(orjson.dumps(nights[unit.id])) == [
        {"date": (start + timedelta(days=i)).isoformat(), "free": 4} for i in range(3)
    ]
    assert nights[other.id] == [
        {"date": (start + timedelta(days=i)).isoformat(), "free": 1} for i in range(3)
    ]
