"""The verwijzer through the API with a token: a weekend a month as a real monthly rule (the
older `every_days` keeps working), one rule at a time; choose, hold, accept and change the
dates of the client's stay; continuity only with their own earlier request."""

from __future__ import annotations

from datetime import date, timedelta

from tests.care_request_helpers import freeze_start, json_body

PROBLEM = "application/problem+json"


def _world(make):
    region = make.region()
    municipality = make.municipality(region=region)
    unit = make.unit(
        location=make.location(municipality=municipality), requires_provider_confirmation=False
    )
    return municipality, unit


def test_a_weekend_a_month_through_the_api(client, make):
    freeze_start()  # Monday 1 March 2027
    municipality, _ = _world(make)
    verwijzer = make.token("verwijzer")
    data = json_body(municipality, date(2027, 3, 26), date(2027, 3, 28))
    data["series"] = {"weekend_of_month": -1, "until": "2027-05-31"}
    created = client.post("/api/v1/requests", headers=verwijzer, json=data)
    assert created.status_code == 201, created.get_data(as_text=True)
    series = created.get_json()["series"]
    assert series["weekend_of_month"] == -1 and series["rule"] == "Elke maand het laatste weekend"
    assert [s["arrival"] for s in series["stays"]] == ["2027-03-26", "2027-04-23", "2027-05-28"]

    data["series"] = {"every_days": 28, "until": "2027-05-31"}  # the older field
    older = client.post("/api/v1/requests", headers=verwijzer, json=data).get_json()
    assert [s["arrival"] for s in older["series"]["stays"]] == [
        "2027-03-26",
        "2027-04-23",
        "2027-05-21",
    ]

    data["series"] = {"weekend_of_month": 1, "every_weeks": 2, "until": "2027-05-31"}
    both = client.post("/api/v1/requests", headers=verwijzer, json=data)
    assert both.status_code == 422 and both.mimetype == PROBLEM
    assert "series" in both.get_data(as_text=True)


def test_the_verwijzer_chooses_holds_accepts_and_moves_the_stay(client, make):
    today = freeze_start()
    municipality, unit = _world(make)
    verwijzer = make.token("verwijzer")
    arrival = today + timedelta(days=10)
    created = client.post(
        "/api/v1/requests",
        headers=verwijzer,
        json=json_body(municipality, arrival, arrival + timedelta(days=2)),
    ).get_json()
    reference = created["reference"]
    matches = client.get(f"/api/v1/requests/{reference}/matches", headers=verwijzer).get_json()
    assert matches[0]["unit_id"] == unit.id
    held = client.post(
        "/api/v1/reservations",
        headers=verwijzer,
        json={
            "unit_id": unit.id,
            "arrival": arrival.isoformat(),
            "departure": (arrival + timedelta(days=2)).isoformat(),
            "request": reference,
        },
    )
    assert held.status_code == 201, held.get_data(as_text=True)
    reservation_id = held.get_json()["id"]
    accepted = client.post(
        f"/api/v1/requests/{reference}/offers/{reservation_id}/accept", headers=verwijzer
    )
    assert accepted.status_code == 200 and accepted.get_json()["status"] == "placed"
    moved = client.put(
        f"/api/v1/reservations/{reservation_id}/dates",
        headers=verwijzer,
        json={
            "arrival": (arrival + timedelta(days=1)).isoformat(),
            "departure": (arrival + timedelta(days=3)).isoformat(),
        },
    )
    assert moved.status_code == 200, moved.get_data(as_text=True)
    assert moved.get_json()["arrival"] == (arrival + timedelta(days=1)).isoformat()


def test_continuity_only_with_the_verwijzers_own_earlier_request(client, make):
    today = freeze_start()
    municipality, _ = _world(make)
    mine, other = make.token("verwijzer"), make.token("verwijzer")
    arrival = today + timedelta(days=10)
    body = json_body(municipality, arrival, arrival + timedelta(days=2))
    earlier = client.post("/api/v1/requests", headers=mine, json=body).get_json()["reference"]
    follow_up = {**body, "previous_request": earlier}
    linked = client.post("/api/v1/requests", headers=mine, json=follow_up)
    assert linked.status_code == 201 and linked.get_json()["previous_request"] == earlier
    wrong_year = {**follow_up, "client": {"first_name": "Jan", "birth_year": 1950}}
    assert client.post("/api/v1/requests", headers=mine, json=wrong_year).status_code == 422
    assert client.post("/api/v1/requests", headers=other, json=follow_up).status_code == 422
