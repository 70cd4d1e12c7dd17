"""The provider's attendance buttons (`steps.attendance_steps`) offer exactly the steps the
domain then accepts: check in and no-show of a confirmed stay, check out of a checked-in one,
on each day around the stay."""

from __future__ import annotations

from datetime import timedelta

from respijt import clock
from respijt.errors import DomainError
from respijt.models import Reservation
from respijt.people.caller import Caller
from respijt.reservations import steps
from tests.accounts_support import hold

PROVIDER = Caller(key="token:attendance-test", role="provider")
TAKE = {"check_in": steps.check_in, "check_out": steps.check_out, "no_show": steps.mark_no_show}


def _accepted(db, reservation_id, step, day):
    """Whether the domain takes `step` on `day`; nothing of it is kept."""
    savepoint = db.session.begin_nested()
    reservation = db.session.get(Reservation, reservation_id)
    try:
        TAKE[step](db.session, reservation, caller=PROVIDER, now=clock.now(), today=day)
    except DomainError:
        return False
    finally:
        savepoint.rollback()
        db.session.expire_all()
    return True


def test_the_buttons_are_the_steps_the_domain_accepts(client, db, make, today):
    unit = make.unit(capacity=2)
    arrival = today + timedelta(days=2)
    stay = hold(client, make.token("verwijzer"), unit, arrival, nights=3, confirm=True)
    days = [arrival + timedelta(days=offset) for offset in range(-2, 5)]
    for day in days:
        reservation = db.session.get(Reservation, stay["id"])
        offered = steps.attendance_steps(reservation, day)
        for step in TAKE:
            assert (step in offered) == _accepted(db, stay["id"], step, day), (step, day)
    reservation = db.session.get(Reservation, stay["id"])
    steps.check_in(db.session, reservation, caller=PROVIDER, now=clock.now(), today=arrival)
    db.session.flush()
    for day in days[2:]:
        reservation = db.session.get(Reservation, stay["id"])
        assert steps.attendance_steps(reservation, day) == ("check_out",)
        assert _accepted(db, stay["id"], "check_out", day)
        assert not _accepted(db, stay["id"], "check_in", day)
    db.session.rollback()


def _refused(db, reservation_id, step, day) -> str | None:
    """The domain's reason for refusing `step` on `day` (None when it takes it)."""
    savepoint = db.session.begin_nested()
    reservation = db.session.get(Reservation, reservation_id)
    try:
        TAKE[step](db.session, reservation, caller=PROVIDER, now=clock.now(), today=day)
    except DomainError as exc:
        return exc.detail
    finally:
        savepoint.rollback()
        db.session.expire_all()
    return None


def test_a_step_refused_on_its_day_gives_the_reason_the_buttons_go_by(client, db, make, today):
    unit = make.unit(capacity=2)
    arrival = today + timedelta(days=2)
    stay = hold(client, make.token("verwijzer"), unit, arrival, nights=3, confirm=True)
    for offset in range(-2, 5):
        day = arrival + timedelta(days=offset)
        reservation = db.session.get(Reservation, stay["id"])
        for step in ("check_in", "no_show"):  # the day rules of a confirmed stay
            said = steps.attendance_refusal(step, reservation, day)
            assert said == _refused(db, stay["id"], step, day), (step, day)
    early = arrival - timedelta(days=1)
    reservation = db.session.get(Reservation, stay["id"])
    assert "vanaf de aankomstdag" in (
        steps.attendance_refusal("check_in", reservation, early) or ""
    )
    assert steps.attendance_refusal("check_out", reservation, arrival) is not None  # not yet in
