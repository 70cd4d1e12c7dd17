"""NEN 7513 rows where client data left, changed or was read without one: claims exports, a
provider's SMS answer, the API's access-log read, the verwijzer's list, and a denied probe
with a reference longer than the log's column."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from respijt import clock
from respijt.models import AccessLog, CareRequest, Reservation
from respijt.people.caller import Caller
from respijt.reservations import holds
from tests.accounts_support import web_login
from tests.care_request_helpers import body, create
from tests.claims_helpers import deliver, freeze, request, stay, tariff

STAFF = "+31612345678"
STRANGER = "+31611112222"


def _rows(db: Any, after: int = 0) -> list[AccessLog]:
    db.session.expire_all()
    return list(
        db.session.scalars(select(AccessLog).where(AccessLog.id > after).order_by(AccessLog.id))
    )


def _last_id(db: Any) -> int:
    rows = _rows(db)
    return rows[-1].id if rows else 0


def test_a_claims_export_and_each_read_of_it_log_one_row_per_stay(client, db, make):
    freeze(date(2027, 3, 1))
    region = make.region()
    delft = make.municipality("GM0503", region=region, name="Delft")
    provider = make.provider(name="Zorg Delft", regions=[region], agb_code="12345678")
    location = make.location(provider=provider, municipality=delft)
    unit = make.unit(location=location, capacity=3, funding_routes=["wmo"])
    tariff(db.session, delft, 10500, date(2027, 1, 1))
    care_request = request(db.session, delft)
    with_request = stay(db.session, unit, date(2027, 3, 18), date(2027, 3, 22), care_request)
    plain = stay(db.session, unit, date(2027, 3, 2), date(2027, 3, 5))
    deliver(db.session, plain)
    deliver(db.session, with_request)
    freeze(date(2027, 4, 9))
    token = make.token("provider", provider)
    expected = {care_request.reference, f"reservation:{plain.id}"}

    before = _last_id(db)
    created = client.post("/api/v1/claims/exports", json={"month": "2027-03"}, headers=token)
    assert created.status_code == 201, created.get_data(as_text=True)
    rows = _rows(db, before)
    assert {r.client_reference for r in rows} == expected and len(rows) == 2
    assert {(r.action, r.event, r.outcome, r.role) for r in rows} == {
        ("claims.export", "export", "success", "provider")
    }
    assert all(r.actor.startswith("token:") and r.region_id == region.id for r in rows)

    export_id = created.get_json()["export"]["id"]
    for query, event in (("", "read"), ("?format=csv", "export")):
        before = _last_id(db)
        read = client.get(f"/api/v1/claims/exports/{export_id}{query}", headers=token)
        assert read.status_code == 200
        rows = _rows(db, before)
        assert {r.client_reference for r in rows} == expected and len(rows) == 2
        assert {(r.action, r.event) for r in rows} == {("claims.export_read", event)}


def _awaiting(db: Any, make: Any) -> Reservation:
    provider = make.provider(staff_mobiles=["06 12345678"])
    unit = make.unit(location=make.location(provider=provider), requires_provider_confirmation=True)
    arrival = clock.today() + timedelta(days=7)
    reservation, _ = holds.place_hold(
        db.session,
        unit_id=unit.id,
        arrival=arrival,
        departure=arrival + timedelta(days=3),
        caller=Caller("token:1", "verwijzer"),
        now=clock.now(),
        today=clock.today(),
        hold_minutes=15,
        provider_confirm_hours=24,
        confirm=True,
    )
    db.session.commit()
    return reservation


def test_a_providers_sms_answer_is_logged_as_a_change_by_that_number(db, make, fake_twilio_server):
    reservation = _awaiting(db, make)
    before = _last_id(db)
    fake_twilio_server.send_inbound(STRANGER, f"JA {reservation.short_code}")
    fake_twilio_server.send_inbound(STAFF, f"JA {reservation.short_code}")
    fake_twilio_server.send_inbound(STAFF, f"JA {reservation.short_code}")  # again: refused
    rows = _rows(db, before)
    assert [(r.actor, r.role, r.action, r.event, r.outcome) for r in rows] == [
        (f"sms:{STRANGER}", "public", "reservation.confirm", "change", "denied"),
        (f"sms:{STAFF}", "provider", "reservation.confirm", "change", "success"),
        (f"sms:{STAFF}", "provider", "reservation.confirm", "change", "failed"),
    ]
    assert {r.client_reference for r in rows} == {f"reservation:{reservation.id}"}
    assert rows[1].provider_id == reservation.unit.location.provider_id


def test_reading_the_access_log_through_the_api_is_logged(client, db, make):
    coordinator = make.token("coordinator")
    before = _last_id(db)
    response = client.get("/api/v1/access-log?client_reference=R-ABC123", headers=coordinator)
    assert response.status_code == 200
    [row] = _rows(db, before)
    assert (row.action, row.event, row.client_reference, row.role, row.outcome) == (
        "access_log.read",
        "read",
        "R-ABC123",
        "coordinator",
        "success",
    )


def test_the_verwijzers_list_logs_one_row_per_client_shown(client, db, make):
    municipality = make.municipality(region=make.region())
    user = make.user("verwijzer", organisation="Wijkteam")
    caller = Caller(key=f"user:{user.id}", role="verwijzer")
    arrival = clock.today() + timedelta(days=7)
    for name in ("Ans", "Bep"):
        data = body(municipality, arrival, arrival + timedelta(days=2))
        create(db.session, {**data, "client": {"first_name": name, "birth_year": 1940}}, caller)
    web_login(client, user)
    before = _last_id(db)
    listing = client.get("/verwijzer/aanvragen").get_data(as_text=True)
    assert "Ans" in listing and "Bep" in listing
    rows = _rows(db, before)
    references = set(db.session.scalars(select(CareRequest.reference)))
    assert {r.client_reference for r in rows} == references and len(rows) == 2
    assert {(r.action, r.event, r.actor) for r in rows} == {
        ("care_request.list", "search", f"user:{user.id}")
    }


def test_a_reference_longer_than_the_log_column_is_a_logged_404(client, db, make):
    meldpunt = make.token("meldpunt", make.provider(regions=[make.region()], pool=True))
    reference = "R-" + "X" * 80
    before = _last_id(db)
    response = client.get(f"/api/v1/requests/{reference}", headers=meldpunt)
    assert response.status_code == 404 and response.mimetype == "application/problem+json"
    [row] = _rows(db, before)
    assert (row.action, row.outcome) == ("care_request.read", "denied")
    assert row.client_reference == reference[:60]
    # The same for a write, refused by the role before the body is read.
    before = _last_id(db)
    refused = client.post(
        f"/api/v1/requests/{reference}/close",
        headers=make.token("coordinator"),
        json={"reason": "geen plek"},
    )
    assert refused.status_code == 404
    [row] = _rows(db, before)
    assert row.outcome == "denied" and row.client_reference == reference[:60]
