"""GET /api/v1/reservations: each caller's own reservations only, filtered and paged, with one
access-log search row per read."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from respijt.models import AccessLog, CareRequest, Reservation
from tests.accounts_support import hold
from tests.api.test_api_registry import assert_problem
from tests.care_request_helpers import STAFF, body, create


@pytest.fixture()
def world(make, db, today):
    region = make.region()
    municipality = make.municipality(region=region)
    a, b = make.provider(regions=[region]), make.provider(regions=[region])
    near = make.location(provider=a, municipality=municipality, name="De Linde")
    far = make.location(provider=a, municipality=municipality, name="Het Anker")
    unit_near = make.unit(location=near, capacity=5)
    unit_far = make.unit(location=far, capacity=5)
    unit_b = make.unit(location=make.location(provider=b, municipality=municipality), capacity=5)
    verwijzer = make.token("verwijzer")
    other_verwijzer = make.token("verwijzer")
    meldpunt = make.token("meldpunt", make.provider())
    return {
        "a": make.token("provider", a),
        "b": make.token("provider", b),
        "near": near,
        "far": far,
        "unit_near": unit_near,
        "unit_far": unit_far,
        "unit_b": unit_b,
        "verwijzer": verwijzer,
        "other_verwijzer": other_verwijzer,
        "meldpunt": meldpunt,
        "municipality": municipality,
    }


def _codes(response):
    assert response.status_code == 200, response.get_data(as_text=True)
    return [item["short_code"] for item in response.get_json()["items"]]


def test_a_provider_sees_its_own_reservations_only(client, world, today):
    mine = hold(client, world["verwijzer"], world["unit_near"], today + timedelta(days=90))
    theirs = hold(client, world["verwijzer"], world["unit_b"], today + timedelta(days=90))
    response = client.get("/api/v1/reservations", headers=world["a"])
    assert _codes(response) == [mine["short_code"]]
    item = response.get_json()["items"][0]
    assert item["status"] == "held" and item["status_label"] == "Vastgehouden"
    assert item["unit"]["name"] == world["unit_near"].name
    assert item["location"] == {"id": world["near"].id, "name": "De Linde"}
    assert item["arrival"] == (today + timedelta(days=90)).isoformat()
    assert _codes(client.get("/api/v1/reservations", headers=world["b"])) == [theirs["short_code"]]


def test_the_provider_sees_the_clients_first_name_and_birth_year_only(client, db, world, today):
    held = hold(client, world["verwijzer"], world["unit_near"], today + timedelta(days=30))
    care_request = create(
        db.session,
        body(world["municipality"], today + timedelta(days=30), today + timedelta(days=32)),
        STAFF,
    )
    db.session.get(Reservation, held["id"]).request_id = care_request.id
    db.session.commit()
    item = client.get("/api/v1/reservations", headers=world["a"]).get_json()["items"][0]
    assert item["client"] == {"first_name": "Jan", "birth_year": 1941}
    shown = db.session.scalars(
        select(AccessLog).where(AccessLog.action == "reservation.list")
    ).all()
    assert [(row.client_reference, row.role) for row in shown] == [
        (care_request.reference, "provider")
    ]
    assert db.session.get(CareRequest, care_request.id).client_name == "Jan"
    # Whoever placed it sees the stay, not who stays.
    seen = client.get("/api/v1/reservations", headers=world["verwijzer"]).get_json()["items"]
    assert [i["short_code"] for i in seen] == [held["short_code"]]
    assert "client" not in seen[0]


def test_filters_status_location_and_period(client, world, today):
    first = hold(client, world["verwijzer"], world["unit_near"], today + timedelta(days=10))
    second = hold(
        client, world["verwijzer"], world["unit_far"], today + timedelta(days=40), confirm=True
    )
    third = hold(client, world["verwijzer"], world["unit_near"], today + timedelta(days=100))
    a = world["a"]
    assert _codes(client.get("/api/v1/reservations?status=confirmed", headers=a)) == [
        second["short_code"]
    ]
    near = world["near"].id
    assert _codes(client.get(f"/api/v1/reservations?location={near}", headers=a)) == [
        first["short_code"],
        third["short_code"],
    ]
    period = (
        f"arrivalFrom={(today + timedelta(days=11)).isoformat()}"
        f"&arrivalTo={(today + timedelta(days=100)).isoformat()}"
    )
    assert _codes(client.get(f"/api/v1/reservations?{period}", headers=a)) == [
        second["short_code"],
        third["short_code"],
    ]


@pytest.mark.parametrize(
    "query",
    [
        "status=unknown",
        "pageSize=0",
        "pageSize=101",
        "page=0",
        "arrivalFrom=morgen",
        "location=x",
        "colour=red",
        "arrivalFrom=2027-03-10&arrivalTo=2027-03-01",
    ],
)
def test_a_bad_filter_is_a_dutch_problem(client, world, query):
    response = client.get(f"/api/v1/reservations?{query}", headers=world["a"])
    assert_problem(response, 422)
    problem = response.get_json()
    assert problem["detail"] == "Een of meer velden zijn ongeldig."
    assert problem["invalidParams"] and all(p["reason"] for p in problem["invalidParams"])


def test_paging_with_next_and_previous_links(client, world, today):
    codes = [
        hold(client, world["verwijzer"], world["unit_near"], today + timedelta(days=5 + d))[
            "short_code"
        ]
        for d in range(5)
    ]
    first = client.get("/api/v1/reservations?pageSize=2&status=held", headers=world["a"])
    assert _codes(first) == codes[:2]
    links = first.get_json()["_links"]
    assert "prev" not in links
    assert links["next"]["href"] == "/api/v1/reservations?status=held&page=2&pageSize=2"
    second = client.get(links["next"]["href"], headers=world["a"])
    assert _codes(second) == codes[2:4]
    assert second.get_json()["_links"]["prev"]["href"].endswith("page=1&pageSize=2")
    last = client.get(second.get_json()["_links"]["next"]["href"], headers=world["a"])
    assert _codes(last) == codes[4:]
    assert "next" not in last.get_json()["_links"]


def test_meldpunt_and_verwijzer_see_only_what_they_may(client, world, today):
    by_verwijzer = hold(client, world["verwijzer"], world["unit_near"], today + timedelta(days=5))
    by_meldpunt = hold(client, world["meldpunt"], world["unit_b"], today + timedelta(days=6))
    assert _codes(client.get("/api/v1/reservations", headers=world["verwijzer"])) == [
        by_verwijzer["short_code"]
    ]
    assert _codes(client.get("/api/v1/reservations", headers=world["other_verwijzer"])) == []
    assert _codes(client.get("/api/v1/reservations", headers=world["meldpunt"])) == [
        by_meldpunt["short_code"]
    ]


def test_each_read_writes_one_search_row(client, db, world, today):
    hold(client, world["verwijzer"], world["unit_near"], today + timedelta(days=5))
    hold(client, world["verwijzer"], world["unit_far"], today + timedelta(days=6))
    client.get("/api/v1/reservations", headers=world["a"])
    rows = db.session.scalars(
        select(AccessLog).where(AccessLog.action == "reservation.search")
    ).all()
    assert len(rows) == 1
    assert rows[0].client_reference == "search"
    assert rows[0].outcome == "success" and rows[0].role == "provider"
    # No client was shown (plain holds): no per-client rows.
    assert not db.session.scalars(
        select(AccessLog).where(AccessLog.action == "reservation.list")
    ).all()


def test_anonymous_is_refused(client, world):
    assert client.get("/api/v1/reservations").status_code == 401
