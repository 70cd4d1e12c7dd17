"""The last bed goes to exactly one caller: threads, processes and a real HTTP server.

Verified once by hand that these fail without the guard: with `reserved < capacity` removed
from nights.take_nights, every racer but one gets an IntegrityError from the CHECK
constraint instead of a clean NoBedFree/409, and the assertions below fail.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import requests

from respijt import clock, create_app
from respijt.database import run_in_transaction
from respijt.errors import NoBedFree
from respijt.models import NightInventory
from respijt.people.caller import Caller
from respijt.reservations import holds
from respijt.reservations.check import find_inventory_mismatches
from tests.browser.live_server import running_server
from tests.conftest import config_for_tests

RACERS = int(os.environ.get("RESPIJT_TEST_RACERS", "40"))


def _try_hold(app, unit_id, arrival, departure, n):
    with app.app_context():
        from respijt.extensions import db

        def work():
            return holds.place_hold(
                db.session,
                unit_id=unit_id,
                arrival=arrival,
                departure=departure,
                caller=Caller(f"token:{n}", "meldpunt"),
                now=clock.now(),
                today=clock.today(),
                hold_minutes=15,
                provider_confirm_hours=24,
            )[0].id

        try:
            return ("ok", run_in_transaction(db.session, work, retries=50))
        except NoBedFree:
            return ("full", None)
        finally:
            db.session.remove()


def _assert_one_winner(db, unit, arrival, nights, outcomes):
    counts = Counter(kind for kind, _ in outcomes)
    assert counts == {"ok": 1, "full": len(outcomes) - 1}, counts
    db.session.expire_all()
    rows = (
        db.session.query(NightInventory)
        .filter(
            NightInventory.unit_id == unit.id,
            NightInventory.night >= arrival,
            NightInventory.night < arrival + timedelta(days=nights),
        )
        .all()
    )
    assert [(r.reserved, r.capacity) for r in rows] == [(1, 1)] * nights
    assert find_inventory_mismatches(db.session) == []


@pytest.mark.slow
def test_last_bed_goes_to_exactly_one_of_forty_threads(app, db, make):
    unit = make.unit(capacity=1)
    arrival = clock.today() + timedelta(days=10)
    unit_id = unit.id  # read here: the ORM object belongs to this thread's session
    db.session.rollback()  # and end our own transaction: on SQLite it holds the write lock
    barrier = threading.Barrier(RACERS)

    def racer(n):
        barrier.wait()
        return _try_hold(app, unit_id, arrival, arrival + timedelta(days=7), n)

    with ThreadPoolExecutor(max_workers=RACERS) as pool:
        outcomes = list(pool.map(racer, range(RACERS)))
    _assert_one_winner(db, unit, arrival, 7, outcomes)


def _process_racer(url, unit_id, arrival, departure, n, barrier, results):
    app = create_app(config_for_tests(url))
    barrier.wait()
    results.put(_try_hold(app, unit_id, arrival, departure, n))


@pytest.mark.slow
def test_last_bed_goes_to_exactly_one_of_four_processes(app, db, make, database_url):
    unit = make.unit(capacity=1)
    arrival = clock.today() + timedelta(days=10)
    unit_id = unit.id
    db.session.rollback()
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(4), ctx.Queue()
    procs = [
        ctx.Process(
            target=_process_racer,
            args=(database_url, unit_id, arrival, arrival + timedelta(days=7), n, barrier, results),
        )
        for n in range(4)
    ]
    for p in procs:
        p.start()
    outcomes = [results.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=30)
        assert p.exitcode == 0
    _assert_one_winner(db, unit, arrival, 7, outcomes)


@pytest.fixture()
def live_server(database_url, db, tmp_path):
    with running_server(database_url, db, tmp_path, threads=16) as base:
        yield base


@pytest.mark.slow
def test_forty_concurrent_http_posts_give_one_201_and_thirty_nine_409(live_server, db, make):
    unit = make.unit(capacity=1)
    arrival = clock.today() + timedelta(days=10)
    headers = make.token("meldpunt", make.provider())
    body = {
        "unit_id": unit.id,
        "arrival": arrival.isoformat(),
        "departure": (arrival + timedelta(days=7)).isoformat(),
    }
    db.session.rollback()
    barrier = threading.Barrier(RACERS)

    def post(n):
        barrier.wait()
        r = requests.post(
            f"{live_server}/api/v1/reservations",
            json=body,
            headers={**headers, "Idempotency-Key": f"race-{n}"},
            timeout=60,
        )
        return r.status_code, r.headers.get("Content-Type"), r.json()

    with ThreadPoolExecutor(max_workers=RACERS) as pool:
        answers = list(pool.map(post, range(RACERS)))
    statuses = Counter(status for status, _, _ in answers)
    assert statuses == {201: 1, 409: RACERS - 1}, statuses
    conflict = next(body for status, _, body in answers if status == 409)
    assert conflict["nights"][0] == arrival.isoformat()
    assert all(ctype.startswith("application/problem+json") for s, ctype, _ in answers if s == 409)
    db.session.expire_all()
    assert find_inventory_mismatches(db.session) == []
    assert db.session.get(NightInventory, (unit.id, arrival)).reserved == 1


def test_overlapping_holds_through_the_door_take_every_night_or_none(app, db, make):
    """`hold_bed` as the API runs it: threads hold random overlapping stays on a 2-bed unit. A
    hold that found one night full must leave no night taken, or the counters drift from the
    reservations."""
    unit = make.unit(capacity=2)
    unit_id = unit.id
    first = clock.today() + timedelta(days=3)
    db.session.commit()

    def racer(n):
        rng = random.Random(n)
        held = 0
        with app.app_context():
            from respijt.extensions import db as _db

            for _ in range(5):
                arrival = first + timedelta(days=rng.randrange(8))
                departure = arrival + timedelta(days=rng.randrange(1, 5))
                try:
                    view, _ = run_in_transaction(
                        _db.session,
                        lambda arrival=arrival, departure=departure: holds.hold_bed(
                            _db.session,
                            unit_id=unit_id,
                            arrival=arrival,
                            departure=departure,
                            caller=Caller(f"token:{n}", "meldpunt"),
                            now=clock.now(),
                            today=clock.today(),
                            hold_minutes=15,
                            provider_confirm_hours=24,
                        ),
                        retries=50,
                    )
                except NoBedFree:
                    continue
                held += view is not None
        return held

    with ThreadPoolExecutor(max_workers=RACERS) as pool:
        held = sum(pool.map(racer, range(RACERS)))
    db.session.expire_all()
    assert held > 0
    assert find_inventory_mismatches(db.session) == []
    reserved = [
        row.reserved
        for row in db.session.query(NightInventory).filter(NightInventory.unit_id == unit_id)
    ]
    assert max(reserved) <= 2 and sum(reserved) > 0
