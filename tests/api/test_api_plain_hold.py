"""POST /api/v1/reservations for a plain hold (no care request, no confirm): the busiest write.

Every body goes through the one schema, and every hold without a care request through the one
door, `holds.hold_bed`, in the request's session. The answers must not differ from any other
hold's: same status, same body, same access log, same errors.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from respijt.errors import DomainError
from respijt.models import AccessLog, ApiToken, NightInventory, Reservation
from respijt.reservations import holds
from respijt.reservations.check import find_inventory_mismatches
from tests.api.test_api_registry import assert_problem


@pytest.fixture()
def ways(monkeypatch):
    """What the door did for each POST: "held" (answered) or "refused" (raised)."""
    taken: list[str] = []
    hold_bed = holds.hold_bed

    def spy(*args, **kwargs):
        try:
            answer = hold_bed(*args, **kwargs)
        except DomainError:
            taken.append("refused")
            raise
        taken.append("held")
        return answer

    monkeypatch.setattr(holds, "hold_bed", spy)
    return taken


def _setup(make, capacity=1):
    provider = make.provider()
    unit = make.unit(location=make.location(provider=provider), capacity=capacity)
    meldpunt = make.token("meldpunt", make.provider())
    return unit, unit.id, unit.location.municipality.region_id, meldpunt


def _body(unit_id, start, nights=3, **extra):
    return {
        "unit_id": unit_id,
        "arrival": start.isoformat(),
        "departure": (start + timedelta(days=nights)).isoformat(),
        **extra,
    }


def _post(client, db, body, headers):
    db.session.commit()  # as in production: no transaction of the session is open yet
    return client.post("/api/v1/reservations", json=body, headers=headers)


def test_a_plain_hold_is_answered_and_logged_as_any_hold(client, db, make, today, ways):
    unit, unit_id, region_id, meldpunt = _setup(make, capacity=2)
    start = today + timedelta(days=4)
    created = _post(client, db, _body(unit_id, start, expected_arrival_time="09:30"), meldpunt)
    assert created.status_code == 201, created.get_data(as_text=True)
    assert ways == ["held"]
    body = created.get_json()
    assert created.headers["Location"] == f"/api/v1/reservations/{body['id']}"
    seen = client.get(f"/api/v1/reservations/{body['id']}", headers=meldpunt).get_json()
    assert body == seen  # what the door answered is what the database holds
    assert (body["status"], body["nights"], body["expected_arrival_time"]) == ("held", 3, "09:30")
    db.session.expire_all()
    assert [
        db.session.get(NightInventory, (unit_id, start + timedelta(days=i))).reserved
        for i in range(-1, 4)
    ] == [0, 1, 1, 1, 0]
    logged = db.session.scalars(
        select(AccessLog).where(AccessLog.action == "reservation.create")
    ).all()
    assert [(r.client_reference, r.outcome, r.role, r.region_id) for r in logged] == [
        (f"reservation:{body['id']}", "success", "meldpunt", region_id)
    ]
    assert find_inventory_mismatches(db.session) == []


def test_a_full_night_is_refused_by_the_plain_way_as_by_the_session(client, db, make, today, ways):
    _, unit_id, _, meldpunt = _setup(make, capacity=1)
    start = today + timedelta(days=4)
    assert (
        _post(client, db, _body(unit_id, start + timedelta(days=2), 1), meldpunt).status_code == 201
    )
    refused = _post(client, db, _body(unit_id, start, 3), meldpunt)
    problem = assert_problem(refused, 409)
    assert problem["nights"] == [(start + timedelta(days=2)).isoformat()]
    assert ways == ["held", "refused"]
    db.session.expire_all()
    # The two free nights the hold took were given back.
    assert [
        db.session.get(NightInventory, (unit_id, start + timedelta(days=i))).reserved
        for i in range(3)
    ] == [0, 0, 1]
    assert db.session.query(Reservation).count() == 1


def test_idempotency_key_on_the_plain_way(client, db, make, today, ways):
    _, unit_id, _, meldpunt = _setup(make, capacity=5)
    start = today + timedelta(days=4)
    headers = {**meldpunt, "Idempotency-Key": "bel-0612"}
    first = _post(client, db, _body(unit_id, start), headers)
    again = _post(client, db, _body(unit_id, start), headers)
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    assert ways == ["held", "held"]  # a used key is replayed by the same door
    assert_problem(_post(client, db, _body(unit_id, start, 4), headers), 422)
    db.session.expire_all()
    assert db.session.get(NightInventory, (unit_id, start)).reserved == 1


def test_bodies_off_the_plain_way_still_load_or_fail_in_dutch(client, db, make, today, ways):
    unit, unit_id, _, meldpunt = _setup(make, capacity=3)
    start = today + timedelta(days=4)
    as_text = _post(client, db, _body(str(unit_id), start), meldpunt)
    assert as_text.status_code == 201 and as_text.get_json()["unit_id"] == unit_id
    unknown = assert_problem(_post(client, db, _body(unit_id, start, note="x"), meldpunt), 422)
    assert any(error["name"].endswith("note") for error in unknown["invalidParams"])
    bad_time = _post(client, db, _body(unit_id, start, expected_arrival_time="25:00"), meldpunt)
    assert any(
        error["name"].endswith("expected_arrival_time")
        for error in assert_problem(bad_time, 422)["invalidParams"]
    )
    confirmed = _post(client, db, _body(unit_id, start, confirm=True), meldpunt)
    assert confirmed.status_code == 201 and confirmed.get_json()["status"] == "confirmed"
    # Loaded by webargs, the text id still makes a plain hold; confirm goes through the door too.
    assert ways == ["held", "held"]
    db.session.commit()
    not_json = client.post(
        "/api/v1/reservations",
        data="unit_id=1",
        headers={**meldpunt, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert_problem(not_json, 415)


def test_a_plain_hold_needs_a_requester_role(client, db, make, today, ways):
    unit, unit_id, _, _ = _setup(make)
    provider_token = make.token("provider", unit.location.provider)
    refused = _post(client, db, _body(unit_id, today + timedelta(days=4)), provider_token)
    assert_problem(refused, 403)
    assert ways == []
    assert db.session.query(Reservation).count() == 0


def test_the_token_is_read_and_its_use_recorded_outside_the_hold(client, db, make, today, ways):
    """The token's row is read in autocommit before the hold; its `last_used_at` update has a
    transaction of its own, committed, on both databases."""
    _, unit_id, _, meldpunt = _setup(make, capacity=2)
    db.session.execute(ApiToken.__table__.update().values(last_used_at=None))
    created = _post(client, db, _body(unit_id, today + timedelta(days=4)), meldpunt)
    assert created.status_code == 201 and ways == ["held"]
    db.session.expire_all()
    assert db.session.scalars(select(ApiToken.last_used_at)).all()[-1] is not None
    assert not db.session.get_bind().pool.checkedout() > 1


def test_who_may_hold_is_checked_before_any_body_is_read(client, db, make, today, ways):
    unit, unit_id, _, _ = _setup(make)
    provider_token = make.token("provider", unit.location.provider)
    body = _body(unit_id, today + timedelta(days=4))
    assert_problem(_post(client, db, body, {}), 401)
    assert_problem(_post(client, db, {"note": 1}, {}), 401)  # not a 422 about the body
    assert_problem(_post(client, db, {"note": 1}, provider_token), 403)
    assert ways == []
