"""NEN 7513: every access to client data writes exactly one access-log row; the log cannot be
changed; cross-tenant guessing answers 404 and is logged as denied, never as success."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import DBAPIError

from respijt import clock
from respijt.models import AccessLog, Reservation
from respijt.privacy import access_log as privacy
from tests.accounts_support import hold


@pytest.fixture()
def world(make, today):
    """Region R with a meldpunt pool provider; providers A and B each with a unit in R."""
    region = make.region()
    municipality = make.municipality(region=region)
    pool = make.provider(regions=[region], pool=True)
    a = make.provider(regions=[region])
    b = make.provider(regions=[region])
    unit_a = make.unit(location=make.location(provider=a, municipality=municipality))
    unit_a_check = make.unit(
        location=unit_a.location, requires_provider_confirmation=True, capacity=2
    )
    unit_b = make.unit(location=make.location(provider=b, municipality=municipality))
    return {
        "region": region,
        "pool": pool,
        "unit_a": unit_a,
        "unit_a_check": unit_a_check,
        "unit_b": unit_b,
        "meldpunt": make.token("meldpunt", pool),
        "provider_a": make.token("provider", a),
        "provider_b": make.token("provider", b),
    }


def log_rows(db) -> list[AccessLog]:
    db.session.expire_all()
    return list(db.session.scalars(select(AccessLog).order_by(AccessLog.id)))


def test_every_client_data_endpoint_writes_exactly_one_row(client, db, world, today):
    w = world
    start = today + timedelta(days=10)
    calls = []  # (description, callable) → expected action

    def call(method, path, headers, action, **kw):
        before = len(log_rows(db))
        response = client.open(path, method=method, headers=headers, **kw)
        assert response.status_code in (200, 201), (path, response.get_data(as_text=True))
        rows = log_rows(db)
        assert len(rows) == before + 1, f"{method} {path} wrote {len(rows) - before} rows"
        row = rows[-1]
        assert (row.action, row.outcome) == (action, "success")
        assert row.region_id == w["region"].id and row.source == "127.0.0.1"
        assert row.purpose and row.role and row.actor.startswith("token:")
        calls.append((method, path.rsplit("/", 1)[-1]))
        return response.get_json()

    body = {
        "unit_id": w["unit_a"].id,
        "arrival": start.isoformat(),
        "departure": (start + timedelta(days=2)).isoformat(),
    }
    rid = call("POST", "/api/v1/reservations", w["meldpunt"], "reservation.create", json=body)["id"]
    assert log_rows(db)[-1].client_reference == f"reservation:{rid}"
    base = f"/api/v1/reservations/{rid}"
    call("GET", base, w["provider_a"], "reservation.read")
    call("POST", f"{base}/confirm", w["meldpunt"], "reservation.confirm")
    call(
        "PUT",
        f"{base}/dates",
        w["provider_a"],  # a confirmed stay: its provider or its requester (not the meldpunt)
        "reservation.change_dates",
        json={"arrival": start.isoformat(), "departure": (start + timedelta(days=3)).isoformat()},
    )
    clock.freeze(clock.local_midnight_utc(start) + timedelta(hours=14))
    call("POST", f"{base}/check-in", w["provider_a"], "reservation.check_in")
    call("POST", f"{base}/check-out", w["provider_a"], "reservation.check_out")
    clock.freeze(None)
    rid2 = hold(client, w["meldpunt"], w["unit_a"], start + timedelta(days=5), confirm=True)["id"]
    clock.freeze(clock.local_midnight_utc(start + timedelta(days=5)) + timedelta(hours=20))
    call("POST", f"/api/v1/reservations/{rid2}/no-show", w["provider_a"], "reservation.no_show")
    clock.freeze(None)
    rid3 = hold(client, w["meldpunt"], w["unit_a"], start + timedelta(days=20))["id"]
    call(
        "POST", f"/api/v1/reservations/{rid3}/cancel", w["meldpunt"], "reservation.cancel", json={}
    )
    rid4 = hold(client, w["meldpunt"], w["unit_a_check"], start, confirm=True)["id"]
    call(
        "POST",
        f"/api/v1/reservations/{rid4}/decline",
        w["provider_a"],
        "reservation.decline",
        json={},
    )
    # The list: one search row per read (these holds show no client), bound to no one region.
    before = len(log_rows(db))
    assert client.get("/api/v1/reservations", headers=w["provider_a"]).status_code == 200
    listed = [(r.action, r.outcome, r.client_reference) for r in log_rows(db)[before:]]
    assert listed == [("reservation.search", "success", "search")]
    calls.append(("GET", "reservations"))
    # The enumeration covers every reservation route: a new one must be added above.
    reservation_routes = {
        (method, rule.rule.rsplit("/", 1)[-1])
        for rule in client.application.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/reservations")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    covered = {(m, "<int:reservation_id>" if p.isdigit() else p) for m, p in calls}
    assert reservation_routes == covered


def test_provider_cannot_read_or_change_another_providers_reservation(client, db, world, today):
    w = world
    reservation = hold(client, w["meldpunt"], w["unit_a"], confirm=True)
    rid = reservation["id"]
    before = len(log_rows(db))
    base = f"/api/v1/reservations/{rid}"
    attempts = [
        ("GET", base, None),
        ("POST", f"{base}/confirm", None),
        ("POST", f"{base}/cancel", {}),
        ("POST", f"{base}/decline", {}),
        ("POST", f"{base}/check-in", None),
        (
            "PUT",
            f"{base}/dates",
            {"arrival": reservation["arrival"], "departure": reservation["departure"]},
        ),
    ]
    for method, path, body in attempts:
        response = client.open(path, method=method, headers=w["provider_b"], json=body)
        assert response.status_code == 404, (path, response.status_code)
        assert response.mimetype == "application/problem+json"
        # Same answer as an id that does not exist at all:
        missing = client.open(
            path.replace(base, "/api/v1/reservations/999999"),
            method=method,
            headers=w["provider_b"],
            json=body,
        )
        assert missing.get_json()["detail"] == response.get_json()["detail"]
    rows = log_rows(db)[before:]
    b_rows = [r for r in rows if r.client_reference == f"reservation:{rid}"]
    assert len(b_rows) == len(attempts)
    assert {r.outcome for r in b_rows} == {"denied"}
    db.session.expire_all()
    assert db.session.get(Reservation, rid).status == "confirmed"


def test_coordinator_sees_only_their_regions_and_lists_who_looked(client, db, make, world):
    w = world
    rid = hold(client, w["meldpunt"], w["unit_a"])["id"]
    own = make.user("coordinator", regions=[w["region"]])
    other = make.user("coordinator")  # another region

    from respijt.people import tokens

    def token(user):
        _, secret = tokens.create_token(
            db.session, role="coordinator", name="t", now=clock.now(), user_id=user.id
        )
        db.session.commit()
        return {"Authorization": f"Bearer {secret}"}

    own_token, other_token = token(own), token(other)
    assert client.get(f"/api/v1/reservations/{rid}", headers=other_token).status_code == 404
    assert client.get(f"/api/v1/reservations/{rid}", headers=own_token).status_code == 200
    client.get(f"/api/v1/reservations/{rid}", headers=w["provider_a"])
    response = client.get(
        f"/api/v1/access-log?client_reference=reservation:{rid}", headers=own_token
    )
    assert response.status_code == 200
    entries = response.get_json()["items"]
    assert [(e["action"], e["role"], e["outcome"]) for e in entries] == [
        ("reservation.create", "meldpunt", "success"),
        ("reservation.read", "coordinator", "success"),
        ("reservation.read", "provider", "success"),
    ]
    assert entries[1]["actor"] == f"user:{own.id}" and entries[0]["at"].endswith("Z")
    # The other region's coordinator sees no rows of this region (their denied read has none).
    response = client.get(
        f"/api/v1/access-log?client_reference=reservation:{rid}", headers=other_token
    )
    assert response.get_json()["items"] == []


def test_verwijzer_sees_only_their_own_reservations(client, make, world):
    w = world
    mine, theirs = make.token("verwijzer"), make.token("verwijzer")
    rid = hold(client, mine, w["unit_a"])["id"]
    assert client.get(f"/api/v1/reservations/{rid}", headers=mine).status_code == 200
    assert client.get(f"/api/v1/reservations/{rid}", headers=theirs).status_code == 404


def test_access_log_refuses_update_and_delete_from_the_application(db):
    from respijt.people.caller import Caller

    privacy.log_access(
        db.session,
        action="reservation.read",
        caller=Caller("token:1", "admin"),
        client_reference="reservation:1",
        outcome="success",
        purpose="test",
        source=None,
    )
    db.session.commit()
    for statement in (
        update(AccessLog).values(outcome="failed"),
        delete(AccessLog),
        text("UPDATE access_log SET actor = 'token:2'"),
        text("DELETE FROM access_log"),
    ):
        with pytest.raises(DBAPIError, match="append-only"):
            db.session.execute(statement)
            db.session.flush()
        db.session.rollback()
    row = db.session.scalar(select(AccessLog))
    db.session.delete(row)
    with pytest.raises(DBAPIError, match="append-only"):
        db.session.flush()
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(AccessLog)) == 1
    assert db.session.scalar(select(AccessLog.outcome)) == "success"


def test_meldpunt_sees_a_region_only_while_on_duty_plus_grace_and_afterwards_what_it_handled(
    client, db, make, world, app
):
    from respijt.models import RotaShift

    w = world
    region = w["region"]
    shift_provider = make.provider(regions=[region], pool=True, on_duty=False)
    meldpunt = make.token("meldpunt", shift_provider)
    start = clock.now()
    db.session.add(
        RotaShift(
            region_id=region.id,
            provider_id=shift_provider.id,
            starts_at=start - timedelta(hours=8),
            ends_at=start + timedelta(hours=1),
            kind="override",
            status="active",
            created_at=start,
        )
    )
    db.session.commit()
    rid = hold(client, make.token("verwijzer"), w["unit_a"])["id"]
    handled = hold(client, meldpunt, w["unit_a"], clock.today() + timedelta(days=40))["id"]
    outsider = make.token("meldpunt", make.provider(regions=[make.region()], pool=True))
    assert client.get(f"/api/v1/reservations/{rid}", headers=outsider).status_code == 404
    assert client.get(f"/api/v1/reservations/{rid}", headers=meldpunt).status_code == 200
    grace = timedelta(minutes=app.config["RESPIJT_DUTY_GRACE_MINUTES"])
    clock.freeze(start + timedelta(hours=1) + grace - timedelta(minutes=1))  # shift over, grace
    assert client.get(f"/api/v1/reservations/{rid}", headers=meldpunt).status_code == 200
    clock.freeze(start + timedelta(hours=1) + grace + timedelta(minutes=1))
    assert client.get(f"/api/v1/reservations/{rid}", headers=meldpunt).status_code == 404
    colleague = make.token("meldpunt", shift_provider)  # another meldpunt at the same provider
    assert client.get(f"/api/v1/reservations/{handled}", headers=colleague).status_code == 200


def test_a_refused_change_is_logged_once_as_failed(client, db, world):
    w = world
    rid = hold(client, w["meldpunt"], w["unit_a"], confirm=True)["id"]
    before = len(log_rows(db))
    response = client.post(f"/api/v1/reservations/{rid}/check-out", headers=w["provider_a"])
    assert response.status_code == 409
    rows = log_rows(db)[before:]
    assert [(r.action, r.outcome) for r in rows] == [("reservation.check_out", "failed")]
