"""holds.place_simple_hold (the API's hold without a care request) against place_hold, and
the door the API and the bench call, holds.hold_bed.

All run the same statements and guards; the simple one answers with a HoldView instead of an
ORM object. Every rule is checked on all three ways, and the view must equal what the
database holds.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from respijt import clock
from respijt.database import run_in_transaction
from respijt.errors import IdempotencyConflict, InvalidInput, NoBedFree, NotFound
from respijt.models import NightInventory, Reservation
from respijt.people.caller import Caller
from respijt.reservations import holds
from respijt.reservations.check import find_inventory_mismatches

MELDPUNT = Caller("token:1", "meldpunt", None)
NOON = datetime(2027, 1, 20, 11, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen_clock():
    clock.freeze(NOON)
    yield
    clock.freeze(None)


def _simple(db, unit_id, arrival, departure, minutes, **kw):
    return holds.place_simple_hold(
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
    reservation, replayed = holds.place_hold(
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
    return holds.HoldView.of(reservation), replayed


def _door(db, unit_id, arrival, departure, minutes, **kw):
    return holds.hold_bed(
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


@pytest.fixture(params=["simple", "full", "door"])
def hold(request, db):
    place = {"simple": _simple, "full": _full, "door": _door}[request.param]

    def run(unit, arrival, departure, minutes=15, **kw):
        return run_in_transaction(
            db.session, lambda: place(db, unit.id, arrival, departure, minutes, **kw)
        )

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
    assert len(view.short_code) == 6 and set(view.short_code) <= set(holds.SHORT_CODE_ALPHABET)
    assert [(e.from_status, e.to_status, e.actor) for e in view.history] == [
        (None, "held", MELDPUNT.key)
    ]
    db.session.expire_all()
    assert holds.HoldView.of(db.session.get(Reservation, view.id)) == view
    assert _reserved(db, unit, a - timedelta(days=1), 5) == [0, 1, 1, 1, 0]
    assert find_inventory_mismatches(db.session) == []


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
    assert holds.HoldView.of(db.session.get(Reservation, new.id)) == new
    assert _reserved(db, unit, a, 2) == [1, 1]
    assert find_inventory_mismatches(db.session) == []


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


def test_a_hold_that_fails_later_in_its_transaction_leaves_nothing(db, make):
    """A driver error after the hold, in the same transaction: SQLAlchemy's error, all of it
    rolled back."""
    unit = make.unit(capacity=1)
    unit_id = unit.id  # read now: after the commit it would be loaded again
    a = clock.today() + timedelta(days=2)
    db.session.commit()

    def hold_then_break():
        view, _ = _door(db, unit_id, a, a + timedelta(days=2), 15)
        assert view is not None
        db.session.execute(text("INSERT INTO no_such_table VALUES (1)"))

    with pytest.raises(DBAPIError):
        run_in_transaction(db.session, hold_then_break, retries=0)
    assert _reserved(db, unit, a, 2) == [0, 0]
    assert db.session.query(Reservation).count() == 0
    assert find_inventory_mismatches(db.session) == []
