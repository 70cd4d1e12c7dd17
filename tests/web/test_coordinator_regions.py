"""Coordinators see their own regions, everywhere (issue 4).

Two regions, A and B. A coordinator of A — with a token bound to region A, with a token bound
to their account, and signed in on the web — sees A's claims, figures, reports, rota and
messages, and nothing of B's: B's rows are left out by the query, a filter on B answers 404, a
rota write in B answers 403. An admin sees both.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from respijt import clock
from respijt.care_requests import notices
from respijt.claims import ledger
from respijt.claims import months as claim_months
from respijt.errors import InvalidInput
from respijt.messages import outbox
from respijt.models import (
    ApiToken,
    Municipality,
    OutboxMessage,
    Provider,
    Region,
    Reservation,
    RotaShift,
    RotaSwap,
    Unit,
)
from respijt.people import caller as auth
from respijt.people import tokens
from tests.accounts_support import web_login
from tests.claims_helpers import freeze, request, stay, tariff

MARCH = "2027-03"
PERIOD = "from=2027-03-01&to=2027-04-01"


@dataclass
class Side:
    region: Region
    municipality: Municipality
    provider: Provider
    unit: Unit
    reservation: Reservation


@dataclass
class World:
    a: Side
    b: Side
    admin: dict[str, str]


def _side(make: Any, db: Any, code: str, requests: int) -> Side:
    region = make.region()
    municipality = make.municipality(code, region=region)
    provider = make.provider(regions=[region])
    location = make.location(provider=provider, municipality=municipality)
    unit = make.unit(location=location, capacity=2, funding_routes=["wmo"])
    tariff(db.session, municipality, 10000, date(2027, 1, 1))
    care_request = request(db.session, municipality)
    reservation = stay(db.session, unit, date(2027, 3, 10), date(2027, 3, 14), care_request)
    for _ in range(requests - 1):
        request(db.session, municipality)
    return Side(region, municipality, provider, unit, reservation)


def _world(make: Any, db: Any) -> World:
    freeze(date(2027, 3, 1))
    # Five requests in A, six in B: both above the suppression threshold.
    a = _side(make, db, "GM0001", requests=5)
    b = _side(make, db, "GM0002", requests=6)
    return World(a, b, make.token("admin"))


@pytest.fixture(params=["region-token", "user-token"])
def coordinator_a(request: pytest.FixtureRequest, make: Any, db: Any) -> tuple[World, Any]:
    """The world, and the Authorization header of a coordinator of region A: a token bound to
    region A, or a token bound to a person who coordinates region A."""
    world = _world(make, db)
    if request.param == "region-token":
        return world, make.token("coordinator", regions=[world.a.region])
    user = make.user("coordinator", regions=[world.a.region])
    _, secret = tokens.create_token(
        db.session, role="coordinator", name="van persoon", now=clock.now(), user_id=user.id
    )
    db.session.commit()
    return world, {"Authorization": f"Bearer {secret}"}


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status
    return dict(body)


# --- tokens ------------------------------------------------------------------------------------


def test_a_coordinator_token_needs_a_region_and_an_admin_token_stays_national(db, make):
    region, other = make.region(), make.region()
    now = clock.now()
    with pytest.raises(InvalidInput, match="regio"):
        tokens.create_token(db.session, role="coordinator", name="x", now=now)
    with pytest.raises(InvalidInput, match="Onbekende regio: XX"):
        tokens.create_token(db.session, role="coordinator", name="x", now=now, region_codes=["XX"])
    with pytest.raises(InvalidInput, match="hoort niet bij een regio"):
        tokens.create_token(db.session, role="admin", name="x", now=now, region_codes=[region.code])
    db.session.rollback()
    _, secret = tokens.create_token(
        db.session,
        role="coordinator",
        name="x",
        now=now,
        region_codes=[region.code, other.code],
    )
    _, admin = tokens.create_token(db.session, role="admin", name="x", now=now)
    db.session.commit()
    caller = tokens.resolve_token(db.session, secret, now)
    assert caller is not None and caller.region_ids == {region.id, other.id}
    assert auth.visible_regions(caller) == {region.id, other.id}
    national = tokens.resolve_token(db.session, admin, now)
    assert national is not None and auth.visible_regions(national) is None


def test_a_coordinator_token_without_regions_from_before_the_upgrade_sees_no_region(db, make):
    region = make.region()
    _, secret = tokens.create_token(
        db.session, role="coordinator", name="x", now=clock.now(), region_codes=[region.code]
    )
    db.session.commit()
    # What a token made before regions existed looks like: no api_token_region rows.
    token = db.session.scalars(select(ApiToken)).one()
    token.region_rows = []
    db.session.commit()
    caller = tokens.resolve_token(db.session, secret, clock.now())
    assert caller is not None and auth.visible_regions(caller) == frozenset()


def test_token_create_on_the_command_line_binds_a_coordinator_to_regions(app, db, make):
    region, other = make.region(), make.region()
    runner = app.test_cli_runner()

    def run(*args: str) -> Any:
        result = runner.invoke(args=list(args), catch_exceptions=False)
        db.session.rollback()
        return result

    refused = run("token", "create", "--role", "coordinator")
    assert refused.exit_code == 2 and "--region" in refused.output
    unknown = run("token", "create", "--role", "coordinator", "--region", "NOPE")
    assert unknown.exit_code == 2 and "Onbekende regio: NOPE" in unknown.output
    made = run(
        "token", "create", "--role", "coordinator", "--region", region.code, "--region", other.code
    )
    assert made.exit_code == 0, made.output
    secret = made.output.strip().splitlines()[-1]
    caller = tokens.resolve_token(db.session, secret, clock.now())
    assert caller is not None and caller.region_ids == {region.id, other.id}
    listed = run("token", "list")
    assert f"regio's={region.code},{other.code}" in listed.output or (
        f"regio's={other.code},{region.code}" in listed.output
    )
    assert run("token", "create", "--role", "admin").exit_code == 0


# --- claims ------------------------------------------------------------------------------------


def test_claims_of_another_region_are_neither_listed_nor_exported(client, db, coordinator_a):
    w, headers = coordinator_a
    body = client.get(f"/api/v1/claims?month={MARCH}", headers=headers).get_json()
    assert [line["reservation_id"] for line in body["lines"]] == [w.a.reservation.id]
    csv_text = client.get(f"/api/v1/claims?month={MARCH}&format=csv", headers=headers).data
    assert w.a.municipality.code.encode() in csv_text
    assert w.b.municipality.code.encode() not in csv_text
    everyone = client.get(f"/api/v1/claims?month={MARCH}", headers=w.admin).get_json()
    assert {line["reservation_id"] for line in everyone["lines"]} == {
        w.a.reservation.id,
        w.b.reservation.id,
    }
    # A filter on B is not an empty success.
    for query in (f"provider={w.b.provider.id}", f"municipality={w.b.municipality.code}"):
        _problem(client.get(f"/api/v1/claims?month={MARCH}&{query}", headers=headers), 404)
    mine = client.get(f"/api/v1/claims?month={MARCH}&provider={w.a.provider.id}", headers=headers)
    assert [line["reservation_id"] for line in mine.get_json()["lines"]] == [w.a.reservation.id]

    exports = {}
    for side in (w.a, w.b):
        export, _ = ledger.export_month(
            db.session,
            claim_months.Month.parse(MARCH),
            provider_id=side.provider.id,
            actor="token:admin",
            now=clock.now(),
            today=clock.today(),
        )
        assert export is not None
        exports[side.region.id] = export.id
    db.session.commit()
    own = client.get(f"/api/v1/claims/exports/{exports[w.a.region.id]}", headers=headers)
    assert [line["reservation_id"] for line in own.get_json()["lines"]] == [w.a.reservation.id]
    theirs = f"/api/v1/claims/exports/{exports[w.b.region.id]}"
    _problem(client.get(theirs, headers=headers), 404)
    _problem(client.get(theirs + "?format=csv", headers=headers), 404)
    assert client.get(theirs, headers=w.admin).status_code == 200


def test_a_coordinator_sets_tariffs_only_in_their_own_regions(client, db, coordinator_a):
    w, headers = coordinator_a
    body = {"funding": "wmo", "product_code": "45A09", "price": "99.00", "valid_from": "2028-01-01"}
    other = client.post(
        "/api/v1/tariffs", json={**body, "municipality": w.b.municipality.code}, headers=headers
    )
    assert "regio" in _problem(other, 403)["detail"]
    own = client.post(
        "/api/v1/tariffs", json={**body, "municipality": w.a.municipality.code}, headers=headers
    )
    assert own.status_code == 201, own.get_json()
    admin = client.post(
        "/api/v1/tariffs", json={**body, "municipality": w.b.municipality.code}, headers=w.admin
    )
    assert admin.status_code == 201, admin.get_json()


# --- KPIs and reports --------------------------------------------------------------------------


def test_kpis_and_reports_count_only_the_coordinators_own_regions(client, db, coordinator_a):
    w, headers = coordinator_a
    mine = client.get(f"/api/v1/reports/kpis?{PERIOD}", headers=headers).get_json()
    everyone = client.get(f"/api/v1/reports/kpis?{PERIOD}", headers=w.admin).get_json()
    assert (mine["requests"]["total"], everyone["requests"]["total"]) == (5, 11)
    assert mine["freshness"]["locations"] == 1 and everyone["freshness"]["locations"] == 2
    assert mine["occupancy"]["published_bed_nights"] < everyone["occupancy"]["published_bed_nights"]
    [month] = client.get(f"/api/v1/reports/kpis/months?{PERIOD}", headers=headers).get_json()
    assert month["requests"] == 5
    csv_text = client.get(f"/api/v1/reports/kpis?{PERIOD}&format=csv", headers=headers).data
    assert "\nAanvragen, totaal;5\n" in csv_text.decode("utf-8-sig")

    for query in (f"municipality={w.b.municipality.code}", f"provider={w.b.provider.id}"):
        for path in ("kpis", "kpis/months"):
            _problem(client.get(f"/api/v1/reports/{path}?{PERIOD}&{query}", headers=headers), 404)
        _problem(
            client.get(f"/api/v1/reports/leegstand?month={MARCH}&{query}", headers=headers), 404
        )
    assert (
        client.get(
            f"/api/v1/reports/kpis?{PERIOD}&municipality={w.b.municipality.code}", headers=w.admin
        ).get_json()["requests"]["total"]
        == 6
    )

    units = client.get(f"/api/v1/reports/leegstand?month={MARCH}", headers=headers).get_json()
    assert [u["unit"]["id"] for u in units["units"]] == [w.a.unit.id]
    all_units = client.get(f"/api/v1/reports/leegstand?month={MARCH}", headers=w.admin)
    assert {u["unit"]["id"] for u in all_units.get_json()["units"]} == {w.a.unit.id, w.b.unit.id}

    report = f"/reports/monthly/{{}}/{MARCH}"
    assert client.get(report.format(w.a.municipality.code), headers=headers).status_code == 200
    _problem(client.get(report.format(w.b.municipality.code), headers=headers), 404)
    assert client.get(report.format(w.b.municipality.code), headers=w.admin).status_code == 200


def test_the_coordinator_dashboard_shows_only_their_own_regions(client, db, make):
    w = _world(make, db)
    web_login(client, make.user("coordinator", regions=[w.a.region]))
    page = client.get("/coordinator/cijfers")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert w.a.municipality.name in html and w.b.municipality.name not in html
    assert w.a.provider.name in html and w.b.provider.name not in html
    csv_text = client.get("/coordinator/cijfers.csv").data
    assert "\nAanvragen, totaal;5\n" in csv_text.decode("utf-8-sig")
    months = client.get("/coordinator/cijfers-per-maand.csv?van=2027-03-01&tot=2027-04-01").data
    assert b"\n2027-03;5;" in months

    other = client.get(f"/coordinator/cijfers?gemeente={w.b.municipality.code}")
    assert other.status_code == 404
    text = other.get_data(as_text=True)
    assert 'id="gemeente-error"' in text and "hoort niet bij uw regio" in text
    provider = client.get(f"/coordinator/cijfers?aanbieder={w.b.provider.id}")
    assert provider.status_code == 404 and 'id="aanbieder-error"' in provider.get_data(as_text=True)
    # A download clicked in the browser: the Dutch "not found" page, no CSV and no JSON.
    for download in (
        f"/coordinator/cijfers.csv?gemeente={w.b.municipality.code}",
        f"/coordinator/cijfers-per-maand.csv?aanbieder={w.b.provider.id}",
    ):
        refused = client.get(download)
        assert refused.status_code == 404 and refused.mimetype == "text/html"
        assert "Deze pagina bestaat niet" in refused.get_data(as_text=True)

    rota_page = client.get("/coordinator/rooster").get_data(as_text=True)
    assert w.a.region.name in rota_page and w.b.region.name not in rota_page


# --- rota --------------------------------------------------------------------------------------


def _taken_swap(db: Any, side: Side, other: Provider) -> int:
    now = clock.now()
    shift = RotaShift(
        region_id=side.region.id,
        provider_id=side.provider.id,
        starts_at=now + timedelta(days=3),
        ends_at=now + timedelta(days=4),
        kind="regular",
        status="active",
        created_at=now,
    )
    db.session.add(shift)
    db.session.flush()
    swap = RotaSwap(
        shift_id=shift.id,
        region_id=side.region.id,
        offered_by_id=side.provider.id,
        taken_by_id=other.id,
        status="taken",
        created_at=now,
    )
    db.session.add(swap)
    db.session.commit()
    return swap.id


def test_another_regions_rota_answers_404_on_read_and_403_on_write(client, db, coordinator_a):
    w, headers = coordinator_a
    reads = (
        "/api/v1/rota/shifts?region={}&from=2027-03-01&to=2027-03-08",
        "/api/v1/rota/history?region={}",
        "/api/v1/rota/swaps?region={}",
        "/api/v1/rota/handover-notes?region={}",
        "/api/v1/meldpunt/voicemails?region={}",
        "/api/v1/meldpunt/calls?region={}&from=2027-03-01&to=2027-03-08",
        "/api/v1/meldpunt/stats?region={}&week=2027-03-01",
    )
    for path in reads:
        assert client.get(path.format(w.a.region.code), headers=headers).status_code == 200, path
        _problem(client.get(path.format(w.b.region.code), headers=headers), 404)
        assert client.get(path.format(w.b.region.code), headers=w.admin).status_code == 200, path

    override = {
        "provider_id": None,
        "starts_at": (clock.now() + timedelta(days=1)).isoformat(),
        "ends_at": (clock.now() + timedelta(days=1, hours=2)).isoformat(),
    }
    theirs = client.post(
        "/api/v1/rota/overrides", json={**override, "region": w.b.region.code}, headers=headers
    )
    _problem(theirs, 403)
    own = client.post(
        "/api/v1/rota/overrides", json={**override, "region": w.a.region.code}, headers=headers
    )
    assert own.status_code == 201, own.get_json()

    swap_b = _taken_swap(db, w.b, w.a.provider)
    swap_a = _taken_swap(db, w.a, w.b.provider)
    for action in ("approve", "refuse"):
        _problem(client.post(f"/api/v1/rota/swaps/{swap_b}/{action}", headers=headers), 403)
    db.session.expire_all()
    assert db.session.get(RotaSwap, swap_b).status == "taken"
    assert client.post(f"/api/v1/rota/swaps/{swap_a}/refuse", headers=headers).status_code == 200
    assert client.post(f"/api/v1/rota/swaps/{swap_b}/refuse", headers=w.admin).status_code == 200


# --- messages ----------------------------------------------------------------------------------


def test_a_coordinator_lists_only_the_messages_about_their_own_regions(client, db, coordinator_a):
    w, headers = coordinator_a
    for n, region_id in enumerate((w.a.region.id, w.b.region.id, None)):
        outbox.queue(
            db.session,
            recipient=f"+3161234567{n}",
            template="location_stale_reminder",
            context={"location": f"Locatie {n}", "last_confirmed": None},
            dedupe_key=f"test:{n}",
            region_id=region_id,
        )
    # A message a rule queues carries the region of what it is about: here B's request.
    care_request = request(db.session, w.b.municipality)
    notices.request_changed(db.session, care_request, previous=None, now=clock.now())
    db.session.commit()

    queued = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.dedupe_key == f"request:{care_request.id}:new")
    ).one()
    assert queued.region_id == w.b.region.id

    def regions(found: list[dict[str, Any]]) -> set[int | None]:
        ids = [m["id"] for m in found]
        rows = db.session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(ids))).all()
        return {m.region_id for m in rows}

    mine = client.get("/api/v1/messages", headers=headers).get_json()["items"]
    assert regions(mine) == {w.a.region.id}
    everyone = client.get("/api/v1/messages", headers=w.admin).get_json()["items"]
    assert regions(everyone) == {w.a.region.id, w.b.region.id, None}


# --- the registry ------------------------------------------------------------------------------


def test_a_coordinator_changes_only_providers_and_locations_in_their_own_regions(
    client, db, coordinator_a
):
    w, headers = coordinator_a
    location_b = w.b.unit.location_id
    _problem(
        client.patch(f"/api/v1/providers/{w.b.provider.id}", json={"name": "X"}, headers=headers),
        403,
    )
    _problem(
        client.patch(f"/api/v1/locations/{location_b}", json={"name": "X"}, headers=headers), 403
    )
    _problem(client.post(f"/api/v1/locations/{location_b}/confirm", headers=headers), 403)
    _problem(client.patch(f"/api/v1/units/{w.b.unit.id}", json={"name": "X"}, headers=headers), 403)
    own = client.patch(
        f"/api/v1/providers/{w.a.provider.id}", json={"name": "Zorg A"}, headers=headers
    )
    assert own.status_code == 200, own.get_json()
    admin = client.patch(
        f"/api/v1/providers/{w.b.provider.id}", json={"name": "Zorg B"}, headers=w.admin
    )
    assert admin.status_code == 200, admin.get_json()

    # A provider in both regions: A's coordinator sets its membership in A; B's stays.
    both = w.b.provider
    client.patch(
        f"/api/v1/providers/{both.id}",
        json={"regions": [{"code": w.b.region.code, "in_pool": True}, {"code": w.a.region.code}]},
        headers=w.admin,
    )
    into_b = client.patch(
        f"/api/v1/providers/{both.id}",
        json={"regions": [{"code": w.b.region.code}]},
        headers=headers,
    )
    _problem(into_b, 403)
    pooled = client.patch(
        f"/api/v1/providers/{both.id}",
        json={"regions": [{"code": w.a.region.code, "in_pool": True}]},
        headers=headers,
    )
    assert pooled.status_code == 200, pooled.get_json()
    db.session.expire_all()
    memberships = {(m.region_id, m.in_pool) for m in db.session.get(Provider, both.id).regions}
    assert memberships == {(w.a.region.id, True), (w.b.region.id, True)}

    def new_provider(*codes: str) -> Any:
        regions = [{"code": code} for code in codes]
        return client.post(
            "/api/v1/providers", json={"name": "Nieuw", "regions": regions}, headers=headers
        )

    _problem(new_provider(w.b.region.code), 403)
    _problem(new_provider(), 403)
    assert new_provider(w.a.region.code).status_code == 201

    # A location of their own provider, but in a municipality of region B: refused, too.
    def new_location(municipality: Municipality) -> Any:
        body = {
            "provider_id": w.a.provider.id,
            "name": "Nieuwe locatie",
            "address": "Dorpsstraat 1",
            "postcode": "1234AB",
            "municipality": municipality.code,
        }
        return client.post("/api/v1/locations", json=body, headers=headers)

    _problem(new_location(w.b.municipality), 403)
    created = new_location(w.a.municipality)
    assert created.status_code == 201, created.get_json()
    moved = client.patch(
        f"/api/v1/locations/{created.get_json()['id']}",
        json={"municipality": w.b.municipality.code},
        headers=headers,
    )
    _problem(moved, 403)
