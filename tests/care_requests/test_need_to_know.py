"""The meldpunt's need to know (DESIGN §2): while on duty (plus the grace) the region's open
requests, and afterwards those it handled until they are placed or closed; nothing else."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from respijt import clock
from respijt.models import AccessLog, CareRequest, Reservation, RotaShift
from tests.accounts_support import web_login
from tests.care_request_helpers import freeze_start, json_body

PROBLEM = "application/problem+json"


@pytest.fixture()
def region_world(make: Any, db: Any) -> dict[str, Any]:
    freeze_start()
    region = make.region()
    municipality = make.municipality(region=region)
    duty_provider = make.provider(regions=[region], pool=True, on_duty=False)
    now = clock.now()
    shift = RotaShift(
        region_id=region.id,
        provider_id=duty_provider.id,
        starts_at=now - timedelta(hours=2),
        ends_at=now + timedelta(hours=2),
        kind="override",
        status="active",
        created_at=now,
    )
    db.session.add(shift)
    db.session.commit()
    provider = make.provider(regions=[region])
    unit = make.unit(location=make.location(provider=provider, municipality=municipality))
    checked_unit = make.unit(
        location=make.location(provider=provider, municipality=municipality),
        requires_provider_confirmation=True,
    )
    return {
        "region": region,
        "municipality": municipality,
        "duty_provider": duty_provider,
        "shift": shift,
        "unit": unit,
        "checked_unit": checked_unit,
        "meldpunt": make.token("meldpunt", duty_provider),
        "verwijzer": make.token("verwijzer"),
    }


def _request(client: Any, w: dict[str, Any], days: int = 7) -> str:
    arrival = clock.today() + timedelta(days=days)
    created = client.post(
        "/api/v1/requests",
        headers=w["verwijzer"],
        json=json_body(w["municipality"], arrival, arrival + timedelta(days=2)),
    )
    assert created.status_code == 201, created.get_data(as_text=True)
    return str(created.get_json()["reference"])


def _hold(client: Any, headers: dict[str, str], unit: Any, reference: str, **over: Any) -> Any:
    care_request = client.get(f"/api/v1/requests/{reference}", headers=headers).get_json()
    response = client.post(
        "/api/v1/reservations",
        headers=headers,
        json={
            "unit_id": unit.id,
            "arrival": care_request["arrival"],
            "departure": care_request["departure"],
            "request": reference,
            **over,
        },
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def _closed_and_open(client: Any, db: Any, w: dict[str, Any]) -> dict[str, str]:
    """One request of the region in each of open, withdrawn, placed and expired."""
    refs = {
        name: _request(client, w, days)
        for name, days in (("open", 7), ("withdrawn", 8), ("placed", 9), ("expired", 10))
    }
    withdrawn = client.post(
        f"/api/v1/requests/{refs['withdrawn']}/withdraw", headers=w["verwijzer"], json={}
    )
    assert withdrawn.status_code == 200
    placed = _hold(client, w["verwijzer"], w["unit"], refs["placed"], confirm=True)
    assert placed["status"] == "confirmed"
    db.session.execute(
        update(CareRequest).where(CareRequest.reference == refs["expired"]).values(status="expired")
    )
    db.session.commit()
    return refs


def test_the_meldpunt_on_duty_lists_and_reads_only_the_open_requests_of_its_region(
    client, db, make, region_world
):
    w = region_world
    refs = _closed_and_open(client, db, w)
    listed = client.get("/api/v1/requests", headers=w["meldpunt"]).get_json()["items"]
    assert {r["reference"] for r in listed} == {refs["open"]}
    for status in ("withdrawn", "placed", "expired"):
        narrowed = client.get(f"/api/v1/requests?status={status}", headers=w["meldpunt"])
        assert narrowed.get_json()["items"] == [], status
    assert client.get(f"/api/v1/requests/{refs['open']}", headers=w["meldpunt"]).status_code == 200
    for name in ("withdrawn", "placed", "expired"):
        response = client.get(f"/api/v1/requests/{refs[name]}", headers=w["meldpunt"])
        assert response.status_code == 404 and response.mimetype == PROBLEM, name
        body = response.get_data(as_text=True)
        assert "Marja" not in body and "+31612345678" not in body
    # The coordinator still reads them all (every read logged).
    coordinator = make.token("coordinator", regions=[w["region"]])
    everything = client.get("/api/v1/requests", headers=coordinator).get_json()["items"]
    assert {r["reference"] for r in everything} == set(refs.values())
    # The confirmed stay of the placed request is out of view as well.
    db.session.expire_all()
    placed_id = db.session.scalar(
        select(CareRequest.id).where(CareRequest.reference == refs["placed"])
    )
    stay_id = db.session.scalar(select(Reservation.id).where(Reservation.request_id == placed_id))
    assert client.get(f"/api/v1/reservations/{stay_id}", headers=w["meldpunt"]).status_code == 404


def test_the_meldpunt_pages_show_and_open_only_the_open_requests(
    app, client, db, make, region_world
):
    w = region_world
    refs = _closed_and_open(client, db, w)
    browser = app.test_client()
    web_login(browser, make.user("meldpunt", provider=w["duty_provider"]))
    console = browser.get("/meldpunt").get_data(as_text=True)
    assert refs["open"] in console
    assert browser.get(f"/meldpunt/aanvragen/{refs['open']}").status_code == 200
    for name in ("withdrawn", "placed", "expired"):
        assert refs[name] not in console, name
        assert browser.get(f"/meldpunt/aanvragen/{refs[name]}").status_code == 404, name
        db.session.expire_all()
        last = db.session.scalars(
            select(AccessLog)
            .where(AccessLog.client_reference == refs[name])
            .order_by(AccessLog.id.desc())
        ).first()
        assert (last.action, last.outcome, last.role) == ("care_request.read", "denied", "meldpunt")


def _end_shift(db: Any, w: dict[str, Any], app: Any) -> None:
    grace = timedelta(minutes=app.config["RESPIJT_DUTY_GRACE_MINUTES"])
    clock.freeze(w["shift"].ends_at + grace + timedelta(minutes=1))


def test_after_the_shift_the_meldpunt_keeps_what_it_handled_until_it_is_placed(
    app, client, db, make, region_world
):
    w = region_world
    meldpunt = w["meldpunt"]
    colleague = make.token("meldpunt", w["duty_provider"])
    offered = _request(client, w, 7)  # the meldpunt places an offer
    confirmed_by_it = _request(client, w, 8)  # the verwijzer holds, this meldpunt accepts
    untouched = _request(client, w, 9)
    offer = _hold(client, meldpunt, w["unit"], offered)
    theirs = _hold(client, w["verwijzer"], w["checked_unit"], confirmed_by_it)
    accepted = client.post(f"/api/v1/reservations/{theirs['id']}/confirm", headers=meldpunt)
    assert accepted.get_json()["status"] == "awaiting_provider"  # the request stays offered

    _end_shift(db, w, app)
    assert client.get(f"/api/v1/requests/{untouched}", headers=meldpunt).status_code == 404
    listed = {
        r["reference"] for r in client.get("/api/v1/requests", headers=meldpunt).get_json()["items"]
    }
    assert listed == {offered, confirmed_by_it}
    assert client.get(f"/api/v1/requests/{offered}", headers=meldpunt).status_code == 200
    assert client.get(f"/api/v1/reservations/{offer['id']}", headers=meldpunt).status_code == 200
    # Placed by its provider's meldpunt: a colleague keeps it too; accepted by this person only.
    assert client.get(f"/api/v1/requests/{offered}", headers=colleague).status_code == 200
    assert client.get(f"/api/v1/requests/{confirmed_by_it}", headers=colleague).status_code == 404

    # Placed: the meldpunt's part is over.
    link_accept = client.post(
        f"/api/v1/requests/{offered}/offers/{offer['id']}/accept", headers=w["verwijzer"]
    )
    assert link_accept.status_code == 200 and link_accept.get_json()["status"] == "placed"
    assert client.get(f"/api/v1/requests/{offered}", headers=meldpunt).status_code == 404
    assert client.get(f"/api/v1/reservations/{offer['id']}", headers=meldpunt).status_code == 404
    listed = {
        r["reference"] for r in client.get("/api/v1/requests", headers=meldpunt).get_json()["items"]
    }
    assert listed == {confirmed_by_it}
