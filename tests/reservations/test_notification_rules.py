"""Which reservation changes queue which messages, to whom, once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from respijt import clock
from respijt.models import OutboxMessage
from respijt.reservations import notices, steps
from respijt.reservations.expiry import expire_overdue_holds
from tests.scheduling import PROVIDER, STAFF_MOBILE, hold, sms_unit

REQUESTER_MOBILE = "+31611112222"


def _messages(db) -> list[tuple[str, str]]:
    rows = db.session.execute(
        select(OutboxMessage.template, OutboxMessage.recipient).order_by(OutboxMessage.id)
    )
    return [(template, recipient) for template, recipient in rows]


@pytest.fixture()
def requester_known(monkeypatch):
    """A stay made without a care request has no requester mobile; stand in for one here."""
    monkeypatch.setattr(
        notices, "requester_recipient", lambda session, reservation: REQUESTER_MOBILE
    )


def test_provider_is_asked_to_confirm_and_nothing_goes_to_an_unknown_requester(db, make):
    unit = sms_unit(make, confirm=True)
    reservation = hold(db.session, unit)
    db.session.commit()
    assert _messages(db) == []  # a plain hold is nobody's news yet
    steps.confirm_by_requester(
        db.session, reservation, caller=PROVIDER, now=clock.now(), provider_confirm_hours=24
    )
    db.session.commit()
    assert _messages(db) == [("reservation_confirm_request", STAFF_MOBILE)]
    steps.confirm_by_provider(db.session, reservation, caller=PROVIDER, now=clock.now())
    db.session.commit()
    # The confirmation is for the requester; without a known mobile nothing is queued.
    assert _messages(db) == [("reservation_confirm_request", STAFF_MOBILE)]


def test_confirmation_reaches_the_requester_when_their_mobile_is_known(db, make, requester_known):
    unit = sms_unit(make, confirm=True)
    reservation = hold(db.session, unit, confirm=True)
    steps.confirm_by_provider(db.session, reservation, caller=PROVIDER, now=clock.now())
    db.session.commit()
    assert _messages(db) == [
        ("reservation_confirm_request", STAFF_MOBILE),
        ("reservation_confirmed", REQUESTER_MOBILE),
    ]


def test_a_stay_confirmed_without_the_provider_is_announced_to_them(db, make, requester_known):
    unit = sms_unit(make, confirm=False)
    hold(db.session, unit, confirm=True)
    db.session.commit()
    assert sorted(_messages(db)) == [
        ("reservation_confirmed", REQUESTER_MOBILE),
        ("reservation_new", STAFF_MOBILE),
    ]


def test_decline_and_cancellation_reach_whom_they_concern(db, make, requester_known):
    unit = sms_unit(make, confirm=True, capacity=3)
    declined = hold(db.session, unit, confirm=True)
    steps.decline_by_provider(db.session, declined, caller=PROVIDER, now=clock.now(), reason="vol")
    cancelled = hold(db.session, unit, confirm=True)
    steps.cancel(
        db.session, cancelled, party="requester", caller=PROVIDER, now=clock.now(), reason="x"
    )
    plain = hold(db.session, unit)
    steps.cancel(
        db.session, plain, party="requester", caller=PROVIDER, now=clock.now(), reason=None
    )
    db.session.commit()
    assert _messages(db) == [
        ("reservation_confirm_request", STAFF_MOBILE),
        ("reservation_declined", REQUESTER_MOBILE),
        ("reservation_confirm_request", STAFF_MOBILE),
        ("reservation_cancelled", STAFF_MOBILE),
        ("reservation_cancelled", REQUESTER_MOBILE),
    ]


def test_expiry_of_an_unanswered_reservation_tells_both_sides_once(db, make, requester_known):
    start = clock.now()
    unit = sms_unit(make, confirm=True)
    waiting = hold(db.session, unit, confirm=True, now=start)
    hold(db.session, unit, now=start)  # a plain hold that lapses: no message
    db.session.commit()
    later = start + timedelta(hours=25)
    assert expire_overdue_holds(db.session, later) == 2
    assert expire_overdue_holds(db.session, later) == 0
    db.session.commit()
    messages = _messages(db)
    assert messages[1:] == [
        ("reservation_expired_provider", STAFF_MOBILE),
        ("reservation_expired", REQUESTER_MOBILE),
    ]
    body = db.session.scalars(
        select(OutboxMessage.body).where(OutboxMessage.template == "reservation_expired")
    ).one()
    assert waiting.short_code in body


def test_a_date_change_sends_the_new_dates(db, make):
    unit = sms_unit(make, confirm=True)
    reservation = hold(db.session, unit, confirm=True)
    new_arrival = reservation.arrival + timedelta(days=1)
    steps.change_dates(
        db.session,
        reservation,
        arrival=new_arrival,
        departure=reservation.departure + timedelta(days=1),
        caller=PROVIDER,
        now=clock.now(),
        today=clock.today(),
    )
    db.session.commit()
    assert _messages(db)[-1] == ("reservation_dates_changed", STAFF_MOBILE)
    message = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc())).first()
    assert message.context["arrival"] == new_arrival.isoformat()
