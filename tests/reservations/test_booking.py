"""holds.py called directly: holds, expiry, confirm, decline, cancel, date changes, no-show."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from respijt import clock
from respijt.beds import availability, capacity, registry
from respijt.database import run_in_transaction
from respijt.errors import (
    CapacityBelowReserved,
    HoldExpired,
    IdempotencyConflict,
    InvalidInput,
    InvalidTransition,
    NoBedFree,
    UnitHasFutureReservations,
)
from respijt.models import NightInventory, Reservation, ReservationEvent
from respijt.people.caller import Caller
from respijt.reservations import holds, steps
from respijt.reservations.check import find_inventory_mismatches
from respijt.reservations.expiry import expire_overdue_holds

MELDPUNT = Caller("token:1", "meldpunt", None)
PROVIDER = Caller("token:2", "provider", None)
NOON = datetime(2027, 1, 20, 11, 0, tzinfo=UTC)  # 12:00 in Amsterdam


@pytest.fixture(autouse=True)
def frozen_clock():
    clock.freeze(NOON)
    yield
    clock.freeze(None)


def hold(db, unit, arrival, departure, *, caller=MELDPUNT, minutes=15, **kw):
    def work():
        reservation, _ = holds.place_hold(
            db.session,
            unit_id=unit.id,
            arrival=arrival,
            departure=departure,
            caller=caller,
            now=clock.now(),
            today=clock.today(),
            hold_minutes=minutes,
            provider_confirm_hours=24,
            **kw,
        )
        return reservation

    return run_in_transaction(db.session, work)


def reserved(db, unit, start, count):
    db.session.expire_all()
    return [
        db.session.get(NightInventory, (unit.id, start + timedelta(days=i))).reserved
        for i in range(count)
    ]


def free(db, unit, start, count):
    result = availability.free_beds_per_night(
        db.session, [unit.id], start, start + timedelta(days=count), clock.now()
    )
    return [result[unit.id][start + timedelta(days=i)] for i in range(count)]


def assert_consistent(db):
    db.session.rollback()
    assert find_inventory_mismatches(db.session) == []


def in_tx(db, fn, *args, **kwargs):
    return run_in_transaction(db.session, lambda: fn(db.session, *args, **kwargs))


def test_hold_takes_one_bed_for_every_night_of_a_half_open_stay(db, make):
    unit = make.unit(capacity=2)
    a = clock.today() + timedelta(days=7)
    reservation = hold(db, unit, a, a + timedelta(days=3))
    assert reservation.status == "held"
    assert reservation.nights == 3
    assert reserved(db, unit, a - timedelta(days=1), 5) == [0, 1, 1, 1, 0]
    assert reservation.expires_at == NOON + timedelta(minutes=15)
    assert [e.to_status for e in reservation.events] == ["held"]
    assert_consistent(db)


def test_partial_overlap_reserves_nothing_and_names_the_full_night(db, make):
    unit = make.unit(capacity=1)
    a = clock.today() + timedelta(days=3)
    hold(db, unit, a + timedelta(days=4), a + timedelta(days=5))  # the 5th night is taken
    with pytest.raises(NoBedFree) as caught:
        hold(db, unit, a, a + timedelta(days=5))
    assert caught.value.nights == [a + timedelta(days=4)]
    assert reserved(db, unit, a, 5) == [0, 0, 0, 0, 1]
    assert db.session.query(Reservation).count() == 1
    assert_consistent(db)


def test_stay_across_a_month_boundary(db, make):
    unit = make.unit(capacity=1)
    clock.freeze(datetime(2027, 1, 10, 9, tzinfo=UTC))
    arrival, departure = datetime(2027, 1, 29).date(), datetime(2027, 2, 3).date()
    reservation = hold(db, unit, arrival, departure)
    assert reservation.nights == 5
    assert reserved(db, unit, arrival, 5) == [1] * 5
    assert free(db, unit, arrival, 5) == [0] * 5
    assert_consistent(db)


def test_same_idempotency_key_returns_the_first_result_and_other_body_is_refused(db, make):
    unit = make.unit(capacity=3)
    a = clock.today() + timedelta(days=2)
    first = hold(db, unit, a, a + timedelta(days=2), idempotency_key="k1", body_fingerprint="f1")
    again = hold(db, unit, a, a + timedelta(days=2), idempotency_key="k1", body_fingerprint="f1")
    assert again.id == first.id
    assert reserved(db, unit, a, 2) == [1, 1]
    with pytest.raises(IdempotencyConflict):
        hold(db, unit, a, a + timedelta(days=3), idempotency_key="k1", body_fingerprint="f2")
    # The key is per caller: another caller may use the same key.
    other = hold(
        db,
        unit,
        a,
        a + timedelta(days=2),
        caller=Caller("token:9", "meldpunt"),
        idempotency_key="k1",
        body_fingerprint="f1",
    )
    assert other.id != first.id


def test_expired_hold_stops_counting_at_once_and_cannot_be_confirmed(db, make):
    unit = make.unit(capacity=1)
    a = clock.today() + timedelta(days=5)
    reservation = hold(db, unit, a, a + timedelta(days=2))
    assert free(db, unit, a, 2) == [0, 0]
    clock.freeze(NOON + timedelta(minutes=15))  # exactly at expires_at
    assert free(db, unit, a, 2) == [1, 1]  # before any sweep
    with pytest.raises(HoldExpired):
        in_tx(
            db,
            steps.confirm_by_requester,
            db.session.get(Reservation, reservation.id),
            caller=MELDPUNT,
            now=clock.now(),
            provider_confirm_hours=24,
        )
    # A new hold on those nights expires the old one first, releasing it exactly once.
    newer = hold(db, unit, a, a + timedelta(days=2))
    assert newer.status == "held"
    assert db.session.get(Reservation, reservation.id).status == "expired"
    assert reserved(db, unit, a, 2) == [1, 1]
    assert in_tx(db, expire_overdue_holds, clock.now()) == 0
    assert_consistent(db)


def test_sweep_releases_each_overdue_hold_once(db, make):
    unit = make.unit(capacity=3)
    a = clock.today() + timedelta(days=5)
    for _ in range(3):
        hold(db, unit, a, a + timedelta(days=2))
    clock.freeze(NOON + timedelta(hours=1))
    assert in_tx(db, expire_overdue_holds, clock.now()) == 3
    assert in_tx(db, expire_overdue_holds, clock.now()) == 0
    assert reserved(db, unit, a, 2) == [0, 0]
    events = db.session.query(ReservationEvent).filter_by(to_status="expired").count()
    assert events == 3
    assert_consistent(db)


def test_confirm_just_before_expiry_wins_and_double_confirm_is_refused(db, make):
    unit = make.unit(capacity=1)
    a = clock.today() + timedelta(days=5)
    reservation = hold(db, unit, a, a + timedelta(days=2))
    clock.freeze(NOON + timedelta(minutes=14, seconds=59))
    in_tx(
        db,
        steps.confirm_by_requester,
        reservation,
        caller=MELDPUNT,
        now=clock.now(),
        provider_confirm_hours=24,
    )
    assert reservation.status == "confirmed" and reservation.expires_at is None
    with pytest.raises(InvalidTransition):
        in_tx(
            db,
            steps.confirm_by_requester,
            db.session.get(Reservation, reservation.id),
            caller=MELDPUNT,
            now=clock.now(),
            provider_confirm_hours=24,
        )
    clock.freeze(NOON + timedelta(days=1))
    assert in_tx(db, expire_overdue_holds, clock.now()) == 0  # confirmed never expires
    statuses = [e.to_status for e in db.session.get(Reservation, reservation.id).events]
    assert statuses == ["held", "confirmed"]
    assert_consistent(db)


def test_unit_needing_provider_confirmation_waits_then_provider_confirms(db, make):
    unit = make.unit(capacity=1, requires_provider_confirmation=True)
    a = clock.today() + timedelta(days=5)
    reservation = hold(db, unit, a, a + timedelta(days=2))
    in_tx(
        db,
        steps.confirm_by_requester,
        reservation,
        caller=MELDPUNT,
        now=clock.now(),
        provider_confirm_hours=24,
    )
    assert reservation.status == "awaiting_provider"
    assert reservation.expires_at == NOON + timedelta(hours=24)
    assert free(db, unit, a, 2) == [0, 0]  # still holding the nights
    in_tx(db, steps.confirm_by_provider, reservation, caller=PROVIDER, now=clock.now())
    assert reservation.status == "confirmed"
    assert_consistent(db)


def test_unanswered_provider_wait_expires_like_a_hold(db, make):
    unit = make.unit(capacity=1, requires_provider_confirmation=True)
    a = clock.today() + timedelta(days=5)
    reservation = hold(db, unit, a, a + timedelta(days=2))
    in_tx(
        db,
        steps.confirm_by_requester,
        reservation,
        caller=MELDPUNT,
        now=clock.now(),
        provider_confirm_hours=24,
    )
    clock.freeze(NOON + timedelta(hours=24))
    with pytest.raises(HoldExpired):
        in_tx(
            db,
            steps.confirm_by_provider,
            db.session.get(Reservation, reservation.id),
            caller=PROVIDER,
            now=clock.now(),
        )
    assert in_tx(db, expire_overdue_holds, clock.now()) == 1
    assert reserved(db, unit, a, 2) == [0, 0]
    assert_consistent(db)


def test_hold_never_expires_later_than_the_start_of_its_arrival_day(db, make):
    unit = make.unit(capacity=1, requires_provider_confirmation=True)
    tomorrow = clock.today() + timedelta(days=1)
    reservation = hold(db, unit, tomorrow, tomorrow + timedelta(days=2), minutes=60 * 48)
    assert reservation.expires_at == clock.local_midnight_utc(tomorrow)
    in_tx(
        db,
        steps.confirm_by_requester,
        reservation,
        caller=MELDPUNT,
        now=clock.now(),
        provider_confirm_hours=24,
    )
    assert reservation.expires_at == clock.local_midnight_utc(tomorrow)


def test_provider_decline_releases_the_nights(db, make):
    unit = make.unit(capacity=1, requires_provider_confirmation=True)
    a = clock.today() + timedelta(days=5)
    reservation = hold(db, unit, a, a + timedelta(days=3))
    in_tx(
        db,
        steps.confirm_by_requester,
        reservation,
        caller=MELDPUNT,
        now=clock.now(),
        provider_confirm_hours=24,
    )
    in_tx(
        db,
        steps.decline_by_provider,
        reservation,
        caller=PROVIDER,
        now=clock.now(),
        reason="Geen personeel",
    )
    assert reservation.status == "declined"
    assert reserved(db, unit, a, 3) == [0, 0, 0]
    assert reservation.events[-1].reason == "Geen personeel"
    assert_consistent(db)


def test_cancel_releases_nights_and_a_confirmed_cancel_needs_a_reason(db, make):
    unit = make.unit(capacity=1)
    a = clock.today() + timedelta(days=5)
    reservation = hold(db, unit, a, a + timedelta(days=3), confirm=True)
    assert reservation.status == "confirmed"
    with pytest.raises(InvalidInput):
        in_tx(
            db,
            steps.cancel,
            reservation,
            party="requester",
            caller=MELDPUNT,
            now=clock.now(),
            reason="",
        )
    in_tx(
        db,
        steps.cancel,
        db.session.get(Reservation, reservation.id),
        party="provider",
        caller=PROVIDER,
        now=clock.now(),
        reason="Operatie uitgesteld",
    )
    assert reserved(db, unit, a, 3) == [0, 0, 0]
    with pytest.raises(InvalidTransition):  # cancelling twice releases nothing twice
        in_tx(
            db,
            steps.cancel,
            db.session.get(Reservation, reservation.id),
            party="provider",
            caller=PROVIDER,
            now=clock.now(),
            reason="nogmaals",
        )
    assert_consistent(db)


def test_date_change_takes_new_nights_before_releasing_old(db, make):
    unit = make.unit(capacity=1)
    a = clock.today() + timedelta(days=5)
    reservation = hold(db, unit, a, a + timedelta(days=3), confirm=True)
    in_tx(
        db,
        steps.change_dates,
        reservation,
        arrival=a + timedelta(days=1),
        departure=a + timedelta(days=6),
        caller=MELDPUNT,
        now=clock.now(),
        today=clock.today(),
    )
    assert reserved(db, unit, a, 7) == [0, 1, 1, 1, 1, 1, 0]
    assert "datum:" in reservation.events[-1].detail
    assert_consistent(db)


def test_failed_date_change_keeps_the_original_nights(db, make):
    unit = make.unit(capacity=1)
    a = clock.today() + timedelta(days=5)
    reservation = hold(db, unit, a, a + timedelta(days=3), confirm=True)
    hold(db, unit, a + timedelta(days=4), a + timedelta(days=5))  # blocks the extension
    with pytest.raises(NoBedFree) as caught:
        in_tx(
            db,
            steps.change_dates,
            db.session.get(Reservation, reservation.id),
            arrival=a,
            departure=a + timedelta(days=5),
            caller=MELDPUNT,
            now=clock.now(),
            today=clock.today(),
        )
    assert caught.value.nights == [a + timedelta(days=4)]
    db.session.expire_all()
    again = db.session.get(Reservation, reservation.id)
    assert (again.arrival, again.departure) == (a, a + timedelta(days=3))
    assert reserved(db, unit, a, 5) == [1, 1, 1, 0, 1]
    assert_consistent(db)


def test_check_in_check_out_early_and_no_show(db, make):
    unit = make.unit(capacity=2)
    a = clock.today() + timedelta(days=1)
    stay = hold(db, unit, a, a + timedelta(days=4), confirm=True)
    other = hold(db, unit, a, a + timedelta(days=4), confirm=True)
    with pytest.raises(InvalidInput):  # not before the arrival day
        in_tx(db, steps.check_in, stay, caller=PROVIDER, now=clock.now(), today=clock.today())
    clock.freeze(NOON + timedelta(days=1))
    in_tx(
        db,
        steps.check_in,
        db.session.get(Reservation, stay.id),
        caller=PROVIDER,
        now=clock.now(),
        today=clock.today(),
    )
    in_tx(
        db,
        steps.mark_no_show,
        db.session.get(Reservation, other.id),
        caller=PROVIDER,
        now=clock.now(),
        today=clock.today(),
    )
    assert reserved(db, unit, a, 4) == [1, 1, 1, 1]
    clock.freeze(NOON + timedelta(days=3))  # leaves two nights early
    done = in_tx(
        db,
        steps.check_out,
        db.session.get(Reservation, stay.id),
        caller=PROVIDER,
        now=clock.now(),
        today=clock.today(),
    )
    assert done.status == "completed" and done.departure == a + timedelta(days=2)
    assert reserved(db, unit, a, 4) == [0, 0, 0, 0]
    assert_consistent(db)


def test_capacity_cut_expires_overdue_holds_first_and_refuses_below_reserved(db, make):
    unit = make.unit(capacity=1)
    a = clock.today() + timedelta(days=5)
    hold(db, unit, a, a + timedelta(days=2))
    cut = [capacity.CapacityRange(a, a + timedelta(days=2), 0)]
    kwargs = dict(actor="test", channel="api", horizon_days=120, max_capacity=50)
    with pytest.raises(CapacityBelowReserved):
        in_tx(
            db,
            capacity.publish_capacity,
            db.session.get(type(unit), unit.id),
            cut,
            now=clock.now(),
            today=clock.today(),
            **kwargs,
        )
    clock.freeze(NOON + timedelta(hours=1))  # the hold is overdue now
    in_tx(
        db,
        capacity.publish_capacity,
        db.session.get(type(unit), unit.id),
        cut,
        now=clock.now(),
        today=clock.today(),
        **kwargs,
    )
    assert reserved(db, unit, a, 2) == [0, 0]
    assert_consistent(db)


def test_unit_with_future_reservation_cannot_be_retired(db, make):
    unit = make.unit(capacity=1)
    a = clock.today() + timedelta(days=5)
    hold(db, unit, a, a + timedelta(days=2), confirm=True)
    with pytest.raises(UnitHasFutureReservations):
        in_tx(
            db,
            registry.retire_unit,
            db.session.get(type(unit), unit.id),
            clock.now(),
            clock.today(),
        )


def test_stay_outside_unit_rules_is_refused_in_dutch(db, make):
    unit = make.unit(capacity=1, min_nights=2, max_nights=3, arrival_weekdays="5")
    friday = clock.today() + timedelta(days=(4 - clock.today().weekday()) % 7 + 7)
    with pytest.raises(InvalidInput, match="2 tot 3 nachten"):
        hold(db, unit, friday, friday + timedelta(days=1))
    with pytest.raises(InvalidInput, match="vrijdag"):
        hold(db, unit, friday + timedelta(days=1), friday + timedelta(days=3))
    with pytest.raises(InvalidInput):
        hold(db, unit, clock.today() - timedelta(days=1), clock.today() + timedelta(days=1))
    assert hold(db, unit, friday, friday + timedelta(days=2)).status == "held"


def test_check_finds_a_corrupted_night(db, make):
    unit = make.unit(capacity=2)
    a = clock.today() + timedelta(days=5)
    hold(db, unit, a, a + timedelta(days=2))
    row = db.session.get(NightInventory, (unit.id, a))
    row.reserved = 2
    db.session.commit()
    [mismatch] = find_inventory_mismatches(db.session)
    assert (mismatch.unit_id, mismatch.night, mismatch.reserved, mismatch.expected) == (
        unit.id,
        a,
        2,
        1,
    )
