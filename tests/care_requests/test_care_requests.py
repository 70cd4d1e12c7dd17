"""Care requests follow their reservations; the database backs the request invariants."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from respijt import clock
from respijt.care_requests import common
from respijt.care_requests.workflow import REQUEST_TRANSITIONS, check_request_transition
from respijt.errors import InvalidTransition
from respijt.models import CareRequest
from respijt.people.caller import Caller
from respijt.reservations import holds, steps
from respijt.reservations.expiry import expire_overdue_holds
from tests.care_request_helpers import STAFF, body, create, freeze_start, later


def _hold_for(db, care_request, unit, *, confirm=False):
    reservation, _ = holds.place_hold(
        db.session,
        unit_id=unit.id,
        arrival=care_request.arrival,
        departure=care_request.departure,
        caller=STAFF,
        now=clock.now(),
        today=clock.today(),
        hold_minutes=15,
        provider_confirm_hours=24,
        confirm=confirm,
        request_id=care_request.id,
    )
    db.session.commit()
    db.session.refresh(care_request)
    return reservation


def test_a_lapsed_or_declined_offer_sends_the_request_back_to_matching(db, make):
    today = freeze_start()
    municipality = make.municipality()
    unit = make.unit(
        location=make.location(municipality=municipality), requires_provider_confirmation=True
    )
    care_request = create(
        db.session, body(municipality, today + timedelta(days=5), today + timedelta(days=7))
    )
    assert care_request.status == "new"
    _hold_for(db, care_request, unit)
    assert care_request.status == "offered" and care_request.first_offered_at == clock.now()
    later(minutes=16)
    expire_overdue_holds(db.session, clock.now())
    db.session.commit()
    db.session.refresh(care_request)
    assert care_request.status == "new"
    assert care_request.events[-1].reason == "Aanbod verlopen"

    reservation = _hold_for(db, care_request, unit, confirm=True)
    assert reservation.status == "awaiting_provider" and care_request.status == "offered"
    provider = Caller(key="token:p", role="provider", provider_id=unit.location.provider_id)
    steps.decline_by_provider(
        db.session, reservation, caller=provider, now=clock.now(), reason="vol"
    )
    db.session.commit()
    db.session.refresh(care_request)
    assert care_request.status == "new"

    placed = _hold_for(db, care_request, unit, confirm=True)
    steps.confirm_by_provider(db.session, placed, caller=provider, now=clock.now())
    db.session.commit()
    db.session.refresh(care_request)
    assert care_request.status == "placed"
    steps.cancel(
        db.session, placed, party="provider", caller=provider, now=clock.now(), reason="brand"
    )
    db.session.commit()
    db.session.refresh(care_request)
    assert care_request.status == "new"  # a cancelled stay goes back to matching
    assert [e.to_status for e in care_request.events] == [
        "new",
        "offered",
        "new",
        "offered",
        "new",
        "offered",
        "placed",
        "new",
    ]


def test_request_transitions_are_data_and_refuse_the_rest():
    assert ("withdrawn", "offered") not in REQUEST_TRANSITIONS
    with pytest.raises(InvalidTransition, match="Ingetrokken"):
        check_request_transition("withdrawn", "offered", "system")
    with pytest.raises(InvalidTransition, match="niet aan u"):
        check_request_transition("new", "no_fit", "requester")
    check_request_transition("waitlisted", "offered", "system")


def test_references_have_no_look_alike_characters_and_are_read_loosely():
    for _ in range(200):
        reference = common.new_reference()
        assert reference.startswith("R-") and len(reference) == 8
        assert not set(reference[2:]) & set("0OQ1IL2Z5S8B6G")
    assert common.normalise_reference(" r7k3p9a ") == "R-7K3P9A"


def test_the_database_refuses_impossible_requests(db, make):
    today = freeze_start()
    municipality = make.municipality()
    make.unit(location=make.location(municipality=municipality))
    care_request = create(
        db.session, body(municipality, today + timedelta(days=5), today + timedelta(days=7))
    )
    for values in (
        {"status": "lost"},
        {"departure": care_request.arrival},
        {"urgency": "asap"},
        {"funding": "eigen"},
        {"flexibility_days": -1},
    ):
        with pytest.raises(IntegrityError):
            db.session.execute(
                update(CareRequest).where(CareRequest.id == care_request.id).values(**values)
            )
            db.session.flush()
        db.session.rollback()
