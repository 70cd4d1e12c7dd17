"""booking.place_simple_hold (the API's hold without a care request) against place_hold, and
the API's way with booking.place_plain_hold first.

All run the same statements and guards; the simple one answers with a HoldView instead of an
ORM object. The plain one runs on a DriverTransaction and declines (None, nothing changed)
whatever is not the common case, which place_simple_hold then explains. Every rule is checked
on all three ways, and the view must equal what the database holds.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy.exc import DBAPIError

from respijt import clock
from respijt.database import DriverTransaction, run_in_transaction
from respijt.errors import IdempotencyConflict, InvalidInput, NoBedFree, NotFound
from respijt.models import NightInventory, Reservation
from respijt.people.caller import Caller
from respijt.reservations import holds as booking
from respijt.reservations.check import find_inventory_mismatches

MELDPUNT = Caller("token:1", "meldpunt", None)
NOON = datetime(2027, 1, 20, 11, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen_clock():
    clock.freeze(NOON)
    yield
    clock.freeze(None)


def _simple(db, unit_id, arrival, departure, minutes, **kw):
    return booking.place_simple_hold(
        db.session,
        unit_id=unit_id,
        arrival=arrival,
        departure=departure,
        caller=MELDPUNT,
        now=clock.now(),
        today=clock.today(),
        hold_minutes=minutes,
        **kw,
    )


def _full(db, unit_id, arrival, departure, minutes, **kw):
    reservation, replayed = booking.place_hold(
        db.session,
        unit_id=unit_id,
        arrival=arrival,
        departure=departure,
        caller=MELDPUNT,
        now=clock.now(),
        today=clock.today(),
        hold_minutes=minutes,
        provider_confirm_hours=24,
        **kw,
    )
    return booking.HoldView.of(reservation), replayed


def _plain(db, unit_id, arrival, departure, minutes, ways, **kw):
    """As the API: place_plain_hold on a driver transaction; when it declines, the simple way.
    `ways` records what the plain way did: held, refused (as the simple way would) or
    declined (left it to the simple way)."""
    db.session.commit()  # the test's own transaction would keep SQLite's write lock
    checked_out = db.engine.pool.checkedout()
    tx = DriverTransaction(db.engine, one_statement=True)  # as the API runs it
    run = run_in_transaction
    try:
        view = run(
            tx,
            lambda: booking.place_plain_hold(
                tx,
                unit_id=unit_id,
                arrival=arrival,
                departure=departure,
                caller=MELDPUNT,
                now=clock.now(),
                today=clock.today(),
                hold_minutes=minutes,
                **kw,
            ),
        )
    except NoBedFree:
        ways.append("refused")
        raise
    finally:
        assert db.engine.pool.checkedout() == checked_out  # given back, either way
    ways.append("held" if view is not None else "declined")
    if view is not None:
        return view, False
    return run_in_transaction(
        db.session, lambda: _simple(db, unit_id, arrival, departure, minutes, **kw)
    )


@pytest.fixture(params=["simple", "full", "plain"])
def hold(request, db):
    if request.param == "plain":
        ways: list[str] = []

        def plain(unit, arrival, departure, minutes=15, **kw):
            return _plain(db, unit.id, arrival, departure, minutes, ways, **kw)

        plain.ways = ways
        return plain
    place = _simple if request.param == "simple" else _full

    def run(unit, arrival, departure, minutes=15, **kw):
        return run_in_transaction(
            db.session, lambda: place(db, unit.id, arrival, departure, minutes, **kw)
        )

    run.ways = None
    return run


def _reserved(db, unit, start, count):
    db.session.expire_all()
    return [
        db.session.get(NightInventory, (unit.id, start + timedelta(days=i))).reserved
        for i in range(count)
    ]


def test_the_view_is_what_the_database_holds(db, make, hold):
    unit = make.unit(capacity=2, requires_provider_confirmation=True)
    a = clock.today() + timedelta(days=7)
    view, replayed = hold(unit, a, a + timedelta(days=3), expected_arrival_time="14:00")
    assert not replayed
    assert (view.status, view.nights, view.unit_id) == ("held", 3, unit.id)
    assert view.expires_at == NOON + timedelta(minutes=15)
    assert view.requires_provider_confirmation is True
    assert len(view.short_code) == 6 and set(view.short_code) <= set(booking.SHORT_CODE_ALPHABET)
    assert [(e.from_status, e.to_status, e.actor) for e in view.history] == [
        (None, "held", MELDPUNT.key)
    ]
    db.session.expire_all()
    assert booking.HoldView.of(db.session.get(Reservation, view.id)) == view
    assert _reserved(db, unit, a - timedelta(days=1), 5) == [0, 1, 1, 1, 0]
    assert find_inventory_mismatches(db.session) == []
    assert hold.ways in (None, ["held"])


def test_a_full_night_refuses_the_whole_stay_and_names_it(db, make, hold):
    unit = make.unit(capacity=1)
    a = clock.today() + timedelta(days=3)
    hold(unit, a + timedelta(days=4), a + timedelta(days=5))
    with pytest.raises(NoBedFree) as caught:
        hold(unit, a, a + timedelta(days=5))
    assert caught.value.nights == [a + timedelta(days=4)]
    # The plain way (SQLite) took the four free nights, then refused and gave them back.
    assert _reserved(db, unit, a, 5) == [0, 0, 0, 0, 1]
    assert db.session.query(Reservation).count() == 1
    # Every night full: PostgreSQL's statement names the free ones (none); SQLite's took
    # nothing, and asks whether the stay is allowed: it is, so no explaining path either.
    with pytest.raises(NoBedFree) as caught:
        hold(unit, a + timedelta(days=4), a + timedelta(days=5))
    assert caught.value.nights == [a + timedelta(days=4)]
    assert hold.ways in (None, ["held", "refused", "refused"])
    assert _reserved(db, unit, a, 5) == [0, 0, 0, 0, 1]


def test_unit_rules_and_unknown_units_are_refused_in_dutch(db, make, hold):
    unit = make.unit(capacity=1, min_nights=2, max_nights=3, arrival_weekdays="5")
    friday = clock.today() + timedelta(days=(4 - clock.today().weekday()) % 7 + 7)
    with pytest.raises(InvalidInput, match="2 tot 3 nachten"):
        hold(unit, friday, friday + timedelta(days=1))
    with pytest.raises(InvalidInput, match="vrijdag"):
        hold(unit, friday + timedelta(days=1), friday + timedelta(days=3))
    with pytest.raises(InvalidInput):
        hold(unit, clock.today() - timedelta(days=1), clock.today() + timedelta(days=1))
    with pytest.raises(NotFound):
        hold(SimpleNamespace(id=unit.id + 100_000), friday, friday + timedelta(days=2))
    assert db.session.query(Reservation).count() == 0


def test_an_overdue_hold_on_the_nights_is_expired_first(db, make, hold):
    unit = make.unit(capacity=1)
    a = clock.today() + timedelta(days=5)
    old, _ = hold(unit, a, a + timedelta(days=2))
    clock.freeze(NOON + timedelta(minutes=15))  # exactly at its expiry, no sweep ran
    new, _ = hold(unit, a, a + timedelta(days=2))
    db.session.expire_all()
    assert db.session.get(Reservation, old.id).status == "expired"
    assert new.status == "held"
    # This hold took the explaining path (the guarded UPDATE refused the overdue nights).
    assert booking.HoldView.of(db.session.get(Reservation, new.id)) == new
    assert _reserved(db, unit, a, 2) == [1, 1]
    assert find_inventory_mismatches(db.session) == []
    assert hold.ways in (None, ["held", "declined"])


def test_idempotency_key_replays_and_refuses_another_body(db, make, hold):
    unit = make.unit(capacity=3)
    a = clock.today() + timedelta(days=2)
    first, replayed = hold(
        unit, a, a + timedelta(days=2), idempotency_key="k", body_fingerprint="f"
    )
    again, replayed_again = hold(
        unit, a, a + timedelta(days=2), idempotency_key="k", body_fingerprint="f"
    )
    assert (replayed, replayed_again) == (False, True)
    assert again == first
    assert _reserved(db, unit, a, 2) == [1, 1]
    with pytest.raises(IdempotencyConflict):
        hold(unit, a, a + timedelta(days=3), idempotency_key="k", body_fingerprint="other")
    # A used key is left to the simple way, which replays or refuses.
    assert hold.ways in (None, ["held", "declined", "declined"])


def test_a_plain_hold_that_fails_leaves_nothing_and_gives_the_connection_back(db, make):
    """A driver error inside the plain way: SQLAlchemy's error, rolled back, connection back."""
    unit = make.unit(capacity=1)
    unit_id = unit.id  # read now: after the commit it would be loaded again
    a = clock.today() + timedelta(days=2)
    db.session.commit()
    checked_out = db.engine.pool.checkedout()
    tx = DriverTransaction(db.engine)

    def hold_then_break():
        view = booking.place_plain_hold(
            tx,
            unit_id=unit_id,
            arrival=a,
            departure=a + timedelta(days=2),
            caller=MELDPUNT,
            now=clock.now(),
            today=clock.today(),
            hold_minutes=15,
        )
        assert view is not None
        cursor = tx.cursor()
        try:
            cursor.execute("INSERT INTO no_such_table VALUES (1)")
        except db.engine.dialect.loaded_dbapi.Error as exc:
            raise tx.error("INSERT", None, exc) from exc

    with pytest.raises(DBAPIError):
        run_in_transaction(tx, hold_then_break, retries=0)
    assert db.engine.pool.checkedout() == checked_out
    tx.commit()  # nothing begun: nothing to do
    assert db.engine.pool.checkedout() == checked_out
    assert _reserved(db, unit, a, 2) == [0, 0]
    assert db.session.query(Reservation).count() == 0
