"""Reservations through the HTTP API: status codes, problem+json, who may do what."""

from __future__ import annotations

import sqlite3
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from respijt import clock
from respijt.database import sqlite as database
from respijt.models import ApiToken, NightInventory, Reservation
from respijt.people.tokens import token_digest
from tests.api.test_api_registry import assert_problem


def _setup(make, *, needs_confirmation=False, capacity=1):
    provider = make.provider()
    unit = make.unit(
        location=make.location(provider=provider),
        capacity=capacity,
        requires_provider_confirmation=needs_confirmation,
    )
    return provider, unit, make.token("provider", provider), make.token("meldpunt", make.provider())


def _body(unit, start, nights=3, **extra):
    return {
        "unit_id": unit.id,
        "arrival": start.isoformat(),
        "departure": (start + timedelta(days=nights)).isoformat(),
        **extra,
    }


def test_hold_then_confirm_then_read(client, make, today):
    provider, unit, provider_h, meldpunt_h = _setup(make)
    start = today + timedelta(days=4)
    created = client.post("/api/v1/reservations", json=_body(unit, start), headers=meldpunt_h)
    assert created.status_code == 201, created.get_data(as_text=True)
    body = created.get_json()
    assert body["status"] == "held" and body["expires_at"].endswith("Z")
    assert created.headers["Location"] == f"/api/v1/reservations/{body['id']}"
    confirmed = client.post(f"/api/v1/reservations/{body['id']}/confirm", headers=meldpunt_h)
    assert confirmed.get_json()["status"] == "confirmed"
    seen = client.get(f"/api/v1/reservations/{body['id']}", headers=provider_h).get_json()
    assert [h["to_status"] for h in seen["history"]] == ["held", "confirmed"]


def test_idempotency_key_replays_and_refuses_a_different_body(client, make, db, today):
    _, unit, _, meldpunt_h = _setup(make, capacity=5)
    start = today + timedelta(days=4)
    headers = {**meldpunt_h, "Idempotency-Key": "abc-123"}
    first = client.post("/api/v1/reservations", json=_body(unit, start), headers=headers)
    again = client.post("/api/v1/reservations", json=_body(unit, start), headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.get_json()["id"] == again.get_json()["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert db.session.get(NightInventory, (unit.id, start)).reserved == 1
    other = client.post("/api/v1/reservations", json=_body(unit, start, nights=4), headers=headers)
    assert assert_problem(other, 422)["type"].endswith("idempotency_conflict")


def test_full_nights_answer_409_naming_them(client, make, today):
    _, unit, _, meldpunt_h = _setup(make)
    start = today + timedelta(days=4)
    client.post(
        "/api/v1/reservations",
        json=_body(unit, start + timedelta(days=2), nights=1),
        headers=meldpunt_h,
    )
    body = assert_problem(
        client.post("/api/v1/reservations", json=_body(unit, start), headers=meldpunt_h), 409
    )
    assert body["nights"] == [(start + timedelta(days=2)).isoformat()]
    assert "Vol" in body["detail"]


def test_provider_confirms_or_declines_what_awaits_it(client, make, today):
    provider, unit, provider_h, meldpunt_h = _setup(make, needs_confirmation=True, capacity=2)
    start = today + timedelta(days=4)
    a = client.post(
        "/api/v1/reservations", json=_body(unit, start, confirm=True), headers=meldpunt_h
    )
    b = client.post(
        "/api/v1/reservations", json=_body(unit, start, confirm=True), headers=meldpunt_h
    )
    assert a.get_json()["status"] == b.get_json()["status"] == "awaiting_provider"
    ok = client.post(f"/api/v1/reservations/{a.get_json()['id']}/confirm", headers=provider_h)
    assert ok.get_json()["status"] == "confirmed"
    no = client.post(
        f"/api/v1/reservations/{b.get_json()['id']}/decline",
        json={"reason": "Vol door ziekte personeel"},
        headers=provider_h,
    )
    assert no.get_json()["status"] == "declined"
    # The meldpunt cannot decline on the provider's behalf.
    assert_problem(
        client.post(f"/api/v1/reservations/{a.get_json()['id']}/decline", headers=meldpunt_h), 403
    )


def test_another_providers_reservation_does_not_exist_for_you(client, make, today):
    _, unit, _, meldpunt_h = _setup(make, needs_confirmation=True)
    stranger = make.token("provider", make.provider())
    start = today + timedelta(days=4)
    rid = client.post(
        "/api/v1/reservations", json=_body(unit, start, confirm=True), headers=meldpunt_h
    ).get_json()["id"]
    for method, path in [
        ("get", ""),
        ("post", "/confirm"),
        ("post", "/decline"),
        ("post", "/cancel"),
    ]:
        response = getattr(client, method)(f"/api/v1/reservations/{rid}{path}", headers=stranger)
        assert_problem(response, 404)
    assert_problem(client.get("/api/v1/reservations/99999", headers=meldpunt_h), 404)


def test_cancel_releases_and_date_change_conflict_keeps_everything(client, make, db, today):
    _, unit, provider_h, meldpunt_h = _setup(make)
    start = today + timedelta(days=4)
    rid = client.post(
        "/api/v1/reservations", json=_body(unit, start, confirm=True), headers=meldpunt_h
    ).get_json()["id"]
    client.post(
        "/api/v1/reservations",
        json=_body(unit, start + timedelta(days=3), nights=1),
        headers=meldpunt_h,
    )
    moved = client.put(
        f"/api/v1/reservations/{rid}/dates",
        headers=provider_h,
        json={"arrival": start.isoformat(), "departure": (start + timedelta(days=4)).isoformat()},
    )
    assert_problem(moved, 409)
    no_reason = client.post(f"/api/v1/reservations/{rid}/cancel", headers=provider_h, json={})
    assert_problem(no_reason, 422)
    done = client.post(
        f"/api/v1/reservations/{rid}/cancel",
        headers=provider_h,
        json={"reason": "Opname verschoven"},
    )
    assert done.get_json()["status"] == "cancelled"
    db.session.expire_all()
    assert db.session.get(NightInventory, (unit.id, start)).reserved == 0


def test_expired_hold_cannot_be_confirmed_through_the_api(client, make, today):
    _, unit, _, meldpunt_h = _setup(make)
    start = today + timedelta(days=4)
    rid = client.post(
        "/api/v1/reservations", json=_body(unit, start), headers=meldpunt_h
    ).get_json()["id"]
    clock.freeze(clock.now() + timedelta(minutes=16))
    body = assert_problem(
        client.post(f"/api/v1/reservations/{rid}/confirm", headers=meldpunt_h), 409
    )
    assert body["type"].endswith("hold_expired") and "verlopen" in body["detail"]


def test_reservation_input_errors(client, make, today):
    provider, unit, provider_h, meldpunt_h = _setup(make)
    bad = client.post(
        "/api/v1/reservations", json={"unit_id": unit.id, "arrival": "gisteren"}, headers=meldpunt_h
    )
    names = {p["name"] for p in assert_problem(bad, 422)["invalidParams"]}
    assert {"arrival", "departure"} <= names
    past = client.post(
        "/api/v1/reservations", headers=meldpunt_h, json=_body(unit, today - timedelta(days=2))
    )
    assert_problem(past, 422)
    assert_problem(
        client.post("/api/v1/reservations", json=_body(unit, today), headers=provider_h), 403
    )
    assert_problem(client.post("/api/v1/reservations", json=_body(unit, today)), 401)


def test_reservation_body_is_what_the_documented_schema_dumps(client, make, db, today):
    """The API builds reservation bodies by hand (for speed); they must equal the schema's."""
    from respijt.api.schemas import ReservationSchema, reservation_body
    from respijt.models import Reservation
    from respijt.people.caller import Caller
    from respijt.reservations import steps

    provider, unit, provider_h, meldpunt_h = _setup(make, needs_confirmation=True)
    start = today + timedelta(days=4)
    body = _body(unit, start, expected_arrival_time="14:30")
    created = client.post("/api/v1/reservations", json=body, headers=meldpunt_h).get_json()
    client.post(f"/api/v1/reservations/{created['id']}/confirm", headers=meldpunt_h)
    reservation = db.session.get(Reservation, created["id"])
    steps.cancel(
        db.session,
        reservation,
        party="requester",
        caller=Caller(key="token:x", role="meldpunt", provider_id=provider.id),
        now=clock.now(),
        reason="Opname verplaatst",
    )
    db.session.flush()
    db.session.refresh(reservation)
    assert [e.to_status for e in reservation.events] == ["held", "awaiting_provider", "cancelled"]
    assert reservation_body(reservation) == ReservationSchema().dump(reservation)
    assert created == {**ReservationSchema().dump(reservation), **_first_answer(created)}


def _first_answer(created):
    # The POST answered while the reservation was still held, with one history row.
    return {k: created[k] for k in ("status", "expires_at", "history")}


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # the write lock up front
def test_sqlite_checks_the_token_without_taking_the_write_lock(app, client, db, make, today):
    """On SQLite the token is read outside the write transaction: a request is authenticated
    and its body validated while another writer holds the lock (it used to wait for the lock
    from its token lookup on, through parsing). The token's use is still recorded."""
    provider, unit, provider_h, meldpunt_h = _setup(make)
    start = today + timedelta(days=4)
    created = client.post("/api/v1/reservations", json=_body(unit, start), headers=meldpunt_h)
    assert created.status_code == 201
    seen = client.get(f"/api/v1/reservations/{created.get_json()['id']}", headers=provider_h)
    assert seen.status_code == 200  # both tokens used once: last_used_at is recent
    secret = meldpunt_h["Authorization"].removeprefix("Bearer ")
    token = db.session.scalar(select(ApiToken).where(ApiToken.digest == token_digest(secret)))
    assert token is not None and token.last_used_at is not None
    body, later = _body(unit, start), _body(unit, start + timedelta(days=7))
    db.session.commit()  # the test's own transaction would hold the lock otherwise
    other = sqlite3.connect(db.engine.url.database, timeout=0)
    try:
        other.execute("BEGIN IMMEDIATE")  # another writer holds the lock
        bad = client.post(
            "/api/v1/reservations",
            json={**body, "arrival": "gisteren"},
            headers=meldpunt_h,
        )
        assert_problem(bad, 422)
    finally:
        other.rollback()
        other.close()
    # A wrong role is refused before the body is read; the refusal is logged (a write).
    wrong_role = client.post("/api/v1/reservations", json=body, headers=provider_h)
    assert_problem(wrong_role, 403)
    again = client.post("/api/v1/reservations", json=later, headers=meldpunt_h)
    assert again.status_code == 201, again.get_data(as_text=True)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # SQLite's busy write lock
def test_a_writer_gets_a_lock_held_briefly_and_keeps_its_busy_timeout(
    app, client, db, make, today, monkeypatch
):
    """BEGIN IMMEDIATE waits for the lock in steps of its own (database._begin_immediate),
    not in SQLite's busy handler (1, 2, 5 … ms): the hold goes through once the other writer
    is done, and the connection's busy_timeout is back for every other statement."""
    _, unit, _, meldpunt_h = _setup(make)
    db.session.commit()
    steps: list[float] = []
    sleep = database.time.sleep

    def spy(seconds: float) -> None:
        steps.append(seconds)
        sleep(seconds)

    monkeypatch.setattr(database.time, "sleep", spy)
    other = sqlite3.connect(db.engine.url.database, timeout=0, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    release = threading.Timer(0.05, other.rollback)
    release.start()
    try:
        created = client.post(
            "/api/v1/reservations", json=_body(unit, today + timedelta(days=4)), headers=meldpunt_h
        )
    finally:
        release.join()
        other.close()
    assert created.status_code == 201, created.get_data(as_text=True)
    assert steps and max(steps) <= database.LOCK_WAIT_MAX_SECONDS  # it waited, in short steps
    timeout = db.session.connection().exec_driver_sql("PRAGMA busy_timeout").scalar()
    assert timeout == database._busy_timeout_ms > 0


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # SQLite's busy write lock
def test_a_write_lock_busy_past_its_timeout_answers_503_and_writes_nothing(
    app, client, db, make, today, monkeypatch
):
    """Another writer keeps the lock longer than busy_timeout: the hold is retried, then
    refused with the Dutch 503 problem (was a bare driver error and a 500)."""
    _, unit, _, meldpunt_h = _setup(make)
    body = _body(unit, today + timedelta(days=4))
    db.session.commit()
    monkeypatch.setattr(database, "_busy_timeout_ms", 20)
    monkeypatch.setitem(app.config, "RESPIJT_TX_RETRIES", 1)
    db.engine.pool.dispose()  # new connections take the short timeout
    other = sqlite3.connect(db.engine.url.database, timeout=0)
    try:
        other.execute("BEGIN IMMEDIATE")
        busy = client.post("/api/v1/reservations", json=body, headers=meldpunt_h)
        assert_problem(busy, 503)
        assert "druk" in busy.get_json()["detail"]
    finally:
        other.rollback()
        other.close()
        db.engine.pool.dispose()
    assert db.session.scalar(select(func.count()).select_from(Reservation)) == 0
