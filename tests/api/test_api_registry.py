"""The public read API and the provider write API, through the test client."""

from __future__ import annotations

from datetime import timedelta

import pytest

from respijt import clock, formatting
from respijt.models import AvailabilityChange, NightInventory

PROBLEM = "application/problem+json"


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    body = response.get_json(force=True)
    assert body["status"] == status and body["title"] and body["detail"]
    return body


def test_availability_answers_free_beds_per_night_with_freshness(client, make, today):
    unit = make.unit(capacity=3, target_groups=["dementie"], wheelchair=True)
    start = today + timedelta(days=10)
    response = client.get(
        f"/api/v1/availability?from={start}&to={start + timedelta(days=3)}"
        f"&region={unit.location.municipality.region.code}&target_group=dementie"
    )
    assert response.status_code == 200
    assert response.headers["API-Version"]
    body = response.get_json()
    assert body["from"] == start.isoformat()
    [location] = body["locations"]
    assert location["stale"] is False
    assert location["updated_at"].endswith("Z")
    assert location["municipality"]["code"] == unit.location.municipality.code
    [unit_out] = location["units"]
    assert unit_out["id"] == unit.id
    assert [n["date"] for n in unit_out["nights"]] == [
        (start + timedelta(days=i)).isoformat() for i in range(3)
    ]
    assert all(n["free"] == 3 for n in unit_out["nights"])


def test_availability_filters_narrow_and_false_boolean_does_not(client, make, today):
    region = make.region()
    municipality = make.municipality(region=region)
    loc = make.location(municipality=municipality)
    chair = make.unit(location=loc, target_groups=["ouderen"], wheelchair=True)
    plain = make.unit(location=loc, target_groups=["ggz"], wheelchair=False)
    other = make.unit(target_groups=["ouderen"])  # another region
    rng = f"from={today + timedelta(days=1)}&to={today + timedelta(days=2)}"

    def unit_ids(query: str) -> set[int]:
        body = client.get(f"/api/v1/availability?{rng}&{query}").get_json()
        return {u["id"] for loc in body["locations"] for u in loc["units"]}

    assert unit_ids(f"region={region.code}") == {chair.id, plain.id}
    assert unit_ids(f"municipality={municipality.code}&target_group=ggz") == {plain.id}
    assert unit_ids("wheelchair=true") >= {chair.id} and plain.id not in unit_ids("wheelchair=true")
    assert unit_ids("wheelchair=false") >= {chair.id, plain.id, other.id}


def test_stale_location_is_reported_stale(client, make, db, today, app):
    unit = make.unit()
    unit.location.last_confirmed_at = clock.now() - timedelta(
        hours=app.config["RESPIJT_STALE_AFTER_HOURS"] + 1
    )
    db.session.commit()
    body = client.get(f"/api/v1/locations/{unit.location_id}").get_json()
    assert body["stale"] is True


@pytest.mark.parametrize(
    "query, name",
    [
        ("from=2026-13-01&to=2026-12-10", "from"),
        ("from=morgen&to=2026-12-10", "from"),
        ("to=2026-12-10", "from"),
        ("from=2026-12-10", "to"),
        ("from=2026-12-10&to=2026-12-09", "to"),
        ("from=2026-12-10&to=2026-12-10", "to"),
        ("from=2026-01-01&to=2027-01-03", "to"),
        ("from=2026-12-01&to=2026-12-03&colour=red", "colour"),
        ("from=2026-12-01&to=2026-12-03&target_group=katten", "target_group"),
        ("from=2026-12-01&to=2026-12-03&wheelchair=misschien", "wheelchair"),
    ],
)
def test_bad_availability_queries_are_dutch_problems(client, query, name):
    body = assert_problem(client.get(f"/api/v1/availability?{query}"), 422)
    assert any(p["name"] == name for p in body["invalidParams"]), body
    assert all(p["reason"] and p["code"] for p in body["invalidParams"])
    assert "Not a valid" not in str(body) and "Missing data" not in str(body)


def test_404_405_trailing_slash_and_malformed_json_are_problems(client, make):
    assert_problem(client.get("/api/v1/nothing"), 404)
    assert_problem(client.get("/api/v1/locations/"), 404)
    assert_problem(client.get("/api/v1/locations/99999"), 404)
    assert_problem(client.delete("/api/v1/regions"), 405)
    provider = make.provider()
    unit = make.unit(location=make.location(provider=provider))
    headers = make.token("provider", provider)
    response = client.put(
        f"/api/v1/units/{unit.id}/capacity",
        data="{not json",
        headers=headers,
        content_type="application/json",
    )
    assert_problem(response, 400)


def test_openapi_document_is_served(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    assert spec["servers"][0]["url"] == "/api/v1"
    assert "/availability" in spec["paths"]
    assert "/units/{unit_id}/capacity" in spec["paths"]


def test_health_answers_when_the_database_does(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.get_json()["database"] == "ok"


def test_regions_list_municipalities_number_and_pool(client, make):
    region = make.region(code="TST")
    make.municipality(region=region, code="GM0999", name="Testdorp")
    pooled = make.provider(name="Poolaanbieder", regions=[region], pool=True)
    make.provider(name="Buitenstaander", regions=[region], pool=False)
    [out] = [r for r in client.get("/api/v1/regions").get_json() if r["code"] == "TST"]
    assert out["meldpunt_number"].startswith("+31")
    assert out["municipalities"] == [{"code": "GM0999", "name": "Testdorp"}]
    assert out["pool"] == [{"id": pooled.id, "name": "Poolaanbieder"}]


# --- capacity -------------------------------------------------------------------------------


def _capacity(client, unit_id, headers, ranges):
    return client.put(f"/api/v1/units/{unit_id}/capacity", json={"ranges": ranges}, headers=headers)


def test_provider_publishes_capacity_for_ranges_and_it_is_logged(client, make, db, today):
    provider = make.provider()
    unit = make.unit(location=make.location(provider=provider), capacity=2)
    unit.location.last_confirmed_at = clock.now() - timedelta(days=10)
    db.session.commit()
    headers = make.token("provider", provider)
    a, b = today + timedelta(days=5), today + timedelta(days=8)
    response = _capacity(
        client,
        unit.id,
        headers,
        [
            {"from": a.isoformat(), "to": b.isoformat(), "capacity": 4},
            {"from": b.isoformat(), "to": (b + timedelta(days=1)).isoformat(), "capacity": 0},
        ],
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    log = response.get_json()
    assert [(c["from"], c["to"], c["capacity"]) for c in log] == [
        (a.isoformat(), b.isoformat(), 4),
        (b.isoformat(), (b + timedelta(days=1)).isoformat(), 0),
    ]
    assert log[0]["previous"] == [{"from": a.isoformat(), "to": b.isoformat(), "capacity": 2}]
    assert log[0]["channel"] == "api" and log[0]["actor"].startswith("token:")
    got = client.get(
        f"/api/v1/availability?from={a}&to={b + timedelta(days=2)}&municipality="
        f"{unit.location.municipality.code}"
    ).get_json()
    loc = got["locations"][0]
    assert [n["free"] for n in loc["units"][0]["nights"]] == [4, 4, 4, 0, 2]
    assert loc["stale"] is False  # publishing refreshes freshness
    assert db.session.query(AvailabilityChange).count() == 2


def test_capacity_below_reserved_is_refused_naming_the_nights(client, make, db, today):
    provider = make.provider()
    unit = make.unit(location=make.location(provider=provider), capacity=2)
    night = today + timedelta(days=3)
    row = db.session.get(NightInventory, (unit.id, night))
    row.reserved = 2  # as if two beds were taken (booking tests cover the real path)
    db.session.commit()
    headers = make.token("provider", provider)
    response = _capacity(
        client,
        unit.id,
        headers,
        [
            {
                "from": today.isoformat(),
                "to": (today + timedelta(days=7)).isoformat(),
                "capacity": 1,
            },
        ],
    )
    body = assert_problem(response, 409)
    # The detail names the night in words ("di 8 dec"), the field keeps ISO 8601.
    assert formatting.date_short(night) in body["detail"] and body["nights"] == [night.isoformat()]
    db.session.expire_all()
    assert db.session.get(NightInventory, (unit.id, today)).capacity == 2  # nothing applied
    assert db.session.query(AvailabilityChange).count() == 0


@pytest.mark.parametrize(
    "rng, field",
    [
        ({"from": "+1", "to": "+3", "capacity": -1}, "ranges[0].capacity"),
        ({"from": "+1", "to": "+3", "capacity": 100000}, "ranges[0].capacity"),
        ({"from": "+3", "to": "+1", "capacity": 1}, "ranges[0].to"),
        ({"from": "-2", "to": "+1", "capacity": 1}, "ranges[0].from"),
        ({"from": "+1", "to": "+500", "capacity": 1}, "ranges[0].to"),
        ({"from": "+1", "to": "+3", "capacity": "veel"}, "ranges[0].capacity"),
        ({"from": "+1", "to": "+3", "capacity": 1, "extra": 1}, "ranges[0].extra"),
    ],
)
def test_bad_capacity_input_is_refused_and_changes_nothing(client, make, db, today, rng, field):
    provider = make.provider()
    unit = make.unit(location=make.location(provider=provider), capacity=2)
    headers = make.token("provider", provider)
    payload = {
        k: (today + timedelta(days=int(v))).isoformat() if k in ("from", "to") else v
        for k, v in rng.items()
    }
    body = assert_problem(_capacity(client, unit.id, headers, [payload]), 422)
    assert any(p["name"] == field for p in body["invalidParams"]), body
    db.session.expire_all()
    assert {r.capacity for r in db.session.query(NightInventory).filter_by(unit_id=unit.id)} == {2}


def test_overlapping_ranges_are_refused(client, make, today):
    provider = make.provider()
    unit = make.unit(location=make.location(provider=provider))
    headers = make.token("provider", provider)
    d = lambda n: (today + timedelta(days=n)).isoformat()  # noqa: E731
    body = assert_problem(
        _capacity(
            client,
            unit.id,
            headers,
            [{"from": d(1), "to": d(5), "capacity": 1}, {"from": d(4), "to": d(6), "capacity": 2}],
        ),
        422,
    )
    assert body["invalidParams"][0]["code"] == "overlap"


def test_provider_token_cannot_touch_another_providers_unit(client, make, db, today):
    mine, theirs = make.provider(), make.provider()
    their_unit = make.unit(location=make.location(provider=theirs), capacity=2)
    headers = make.token("provider", mine)
    d = lambda n: (today + timedelta(days=n)).isoformat()  # noqa: E731
    assert_problem(
        _capacity(client, their_unit.id, headers, [{"from": d(1), "to": d(2), "capacity": 0}]), 403
    )
    assert_problem(
        client.post(f"/api/v1/locations/{their_unit.location_id}/confirm", headers=headers), 403
    )
    assert_problem(
        client.patch(f"/api/v1/units/{their_unit.id}", json={"name": "x"}, headers=headers), 403
    )
    db.session.expire_all()
    assert db.session.get(NightInventory, (their_unit.id, today + timedelta(days=1))).capacity == 2


def test_writes_need_a_valid_token(client, make, today):
    unit = make.unit()
    url = f"/api/v1/units/{unit.id}/capacity"
    body = {
        "ranges": [
            {
                "from": today.isoformat(),
                "to": (today + timedelta(days=1)).isoformat(),
                "capacity": 1,
            }
        ]
    }
    response = client.put(url, json=body)
    assert_problem(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert_problem(
        client.put(url, json=body, headers={"Authorization": "Bearer rsp_nonsense"}), 401
    )
    expired = make.token("provider", unit.location.provider, expires_in=timedelta(seconds=-1))
    assert_problem(client.put(url, json=body, headers=expired), 401)
    verwijzer = make.token("verwijzer")
    assert_problem(client.put(url, json=body, headers=verwijzer), 403)


def test_confirm_location_refreshes_freshness(client, make, db):
    provider = make.provider()
    location = make.location(provider=provider)
    location.last_confirmed_at = clock.now() - timedelta(days=30)
    db.session.commit()
    response = client.post(
        f"/api/v1/locations/{location.id}/confirm", headers=make.token("provider", provider)
    )
    assert response.status_code == 200
    assert response.get_json()["stale"] is False


# --- onboarding -----------------------------------------------------------------------------


def test_onboarding_provider_location_unit_through_the_api(client, make, db, today):
    region = make.region(code="ONB")
    municipality = make.municipality(region=region, code="GM0888")
    admin = make.token("coordinator")
    response = client.post(
        "/api/v1/providers",
        headers=admin,
        json={
            "name": "Nieuwe Zorg",
            "agb_code": "12345678",
            "duty_phone": "015 212 3456",
            "regions": [{"code": "ONB", "in_pool": True, "pool_weight": 2}],
        },
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    provider = response.get_json()
    assert provider["duty_phone"] == "+31152123456"
    assert provider["regions"] == [{"code": "ONB", "in_pool": True, "pool_weight": 2}]
    from respijt.models import Provider

    provider_headers = make.token("provider", db.session.get(Provider, provider["id"]))
    response = client.post(
        "/api/v1/locations",
        headers=provider_headers,
        json={
            "provider_id": provider["id"],
            "name": "Huize Nieuw",
            "address": "Laan 1",
            "postcode": "2611 ab",
            "municipality": municipality.code,
            "contact_mobile": "06 12345678",
            "languages": ["nl", "en"],
        },
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    location = response.get_json()
    assert location["municipality"]["code"] == "GM0888"
    response = client.post(
        "/api/v1/units",
        headers=provider_headers,
        json={
            "location_id": location["id"],
            "name": "Logeerkamers",
            "target_groups": ["dementie"],
            "default_capacity": 3,
            "requires_provider_confirmation": True,
            "max_nights": 21,
        },
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    unit = response.get_json()
    assert unit["target_groups"] == ["dementie"] and unit["default_capacity"] == 3
    # The inventory horizon was created from the default capacity.
    rows = db.session.query(NightInventory).filter_by(unit_id=unit["id"]).count()
    assert rows == client.application.config["RESPIJT_HORIZON_DAYS"]
    patched = client.patch(
        f"/api/v1/units/{unit['id']}",
        headers=provider_headers,
        json={"name": "Logeerkamers oost", "wheelchair": True},
    )
    assert patched.get_json()["name"] == "Logeerkamers oost" and patched.get_json()["wheelchair"]


def test_onboarding_validation_is_dutch_and_field_specific(client, make):
    provider = make.provider()
    headers = make.token("provider", provider)
    response = client.post(
        "/api/v1/locations",
        headers=headers,
        json={
            "provider_id": provider.id,
            "name": "X",
            "address": "Y",
            "postcode": "ABCD12",
            "municipality": "GM0503",
        },
    )
    body = assert_problem(response, 422)
    assert body["invalidParams"][0]["name"] in {"postcode", "municipality"}
    response = client.post(
        "/api/v1/units",
        headers=headers,
        json={
            "location_id": make.location(provider=provider).id,
            "name": "X",
            "target_groups": ["katten"],
            "default_capacity": 1,
        },
    )
    body = assert_problem(response, 422)
    assert body["invalidParams"][0]["name"].startswith("target_groups")
