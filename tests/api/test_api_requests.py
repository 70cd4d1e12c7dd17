"""Care requests through the HTTP API: the full journey, validation, access, choices, offers."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from respijt import clock
from respijt.models import NightInventory, RequestOption
from tests.care_request_helpers import freeze_start, json_body, later

PROBLEM = "application/problem+json"


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    return response.get_json(force=True)


def _world(make, *, confirmation: bool = True):
    region = make.region()
    municipality = make.municipality(region=region)
    pool_provider = make.provider(regions=[region], pool=True)
    provider = make.provider(regions=[region])
    unit = make.unit(
        location=make.location(provider=provider, municipality=municipality),
        requires_provider_confirmation=confirmation,
    )
    return municipality, unit, pool_provider, provider


def test_full_journey_from_public_request_to_placed_with_lead_time(client, make):
    today = freeze_start()
    municipality, unit, pool_provider, provider = _world(make)
    other = make.unit(location=make.location(municipality=make.municipality()))
    meldpunt = make.token("meldpunt", pool_provider)
    arrival, departure = today + timedelta(days=7), today + timedelta(days=10)

    created = client.post("/api/v1/requests", json=json_body(municipality, arrival, departure))
    assert created.status_code == 201, created.get_data(as_text=True)
    request = created.get_json()
    reference, link = request["reference"], {"X-Request-Token": request["link_token"]}
    assert request["status"] == "new" and request["channel"] == "web"
    assert created.headers["Location"] == f"/api/v1/requests/{reference}"
    assert request["contact"]["mobile"] == "+31612345678"

    # The requester sees the options through the signed link; the shown ones are recorded.
    matches = client.get(f"/api/v1/requests/{reference}/matches", headers=link)
    assert matches.status_code == 200
    options = matches.get_json()
    assert [o["unit_id"] for o in options] == [unit.id, other.id]
    assert "zelfde gemeente" in options[0]["reasons"] and options[0]["score"] > options[1]["score"]
    assert (
        client.post(
            f"/api/v1/requests/{reference}/preference", json={"unit_id": unit.id}, headers=link
        ).status_code
        == 200
    )

    # The meldpunt on duty books the chosen unit for the request.
    later(hours=1)
    held = client.post(
        "/api/v1/reservations",
        headers=meldpunt | {"Idempotency-Key": "k1"},
        json={
            "unit_id": unit.id,
            "arrival": arrival.isoformat(),
            "departure": departure.isoformat(),
            "request": reference,
        },
    )
    assert held.status_code == 201, held.get_data(as_text=True)
    reservation = held.get_json()
    assert reservation["request_id"] is not None and reservation["status"] == "held"
    # A hold for a request is an offer the requester answers by SMS: RESPIJT_OFFER_HOURS.
    assert reservation["expires_at"] == (clock.now() + timedelta(hours=24)).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    state = client.get(f"/api/v1/requests/{reference}", headers=meldpunt).get_json()
    assert state["status"] == "offered" and [o["id"] for o in state["offers"]] == [
        reservation["id"]
    ]

    # The requester accepts the offer; the unit needs the provider's yes.
    accepted = client.post(
        f"/api/v1/requests/{reference}/offers/{reservation['id']}/accept", headers=link
    )
    assert accepted.status_code == 200, accepted.get_data(as_text=True)
    assert accepted.get_json()["offers"][0]["status"] == "awaiting_provider"
    assert accepted.get_json()["status"] == "offered"

    later(hours=2)
    confirmed = client.post(
        f"/api/v1/reservations/{reservation['id']}/confirm",
        headers=make.token("provider", provider),
    )
    assert confirmed.status_code == 200, confirmed.get_data(as_text=True)
    assert confirmed.get_json()["status"] == "confirmed"

    final = client.get(f"/api/v1/requests/{reference}", headers=link).get_json()
    assert final["status"] == "placed"
    assert final["lead_time_hours"] == 3.0
    assert final["placed_at"] == clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")
    assert [h["to_status"] for h in final["history"]] == ["new", "offered", "placed"]
    # Shown and chosen are on record.
    from respijt.extensions import db

    rows = db.session.scalars(select(RequestOption).order_by(RequestOption.id)).all()
    assert [(r.unit_id, r.rank, r.shown_to) for r in rows] == [
        (unit.id, 1, f"link:{reference}"),
        (other.id, 2, f"link:{reference}"),
    ]
    [chosen] = [r for r in rows if r.chosen_at is not None]
    assert chosen.unit_id == unit.id and chosen.preferred_at is not None
    assert chosen.chosen_by.startswith("token:")


def test_invalid_requests_answer_dutch_problems_naming_each_field(client, make):
    today = freeze_start()
    make.unit(min_nights=2, max_nights=14)
    data = json_body("GM0000", today - timedelta(days=1), today - timedelta(days=2))
    data.update(target_group="katten", consent=False)
    data["contact"]["mobile"] = "015 212 3456"  # a landline
    body = assert_problem(client.post("/api/v1/requests", json=data), 422)
    names = {p["name"]: p for p in body["invalidParams"]}
    assert set(names) == {
        "consent",
        "arrival",
        "departure",
        "municipality",
        "target_group",
        "contact.mobile",
    }
    assert names["arrival"]["reason"] == "Aankomst ligt in het verleden."
    assert names["departure"]["reason"] == "Vertrek moet na aankomst liggen."
    assert "Onbekende gemeente" in names["municipality"]["reason"]
    assert "doelgroep" in names["target_group"]["reason"]
    assert names["contact.mobile"]["code"] == "mobile"

    municipality = make.municipality()
    long = json_body(municipality, today + timedelta(days=3), today + timedelta(days=23))
    body = assert_problem(client.post("/api/v1/requests", json=long), 422)
    assert body["invalidParams"][0]["code"] == "stay_length"
    assert "2 tot 14 nachten" in body["invalidParams"][0]["reason"]

    sneaky = json_body(municipality, today + timedelta(days=3), today + timedelta(days=5))
    sneaky["bsn"] = "123456782"
    assert_problem(client.post("/api/v1/requests", json=sneaky), 422)
    sneaky = json_body(municipality, today + timedelta(days=3), today + timedelta(days=5))
    sneaky["client"]["first_name"] = "123456782"
    body = assert_problem(client.post("/api/v1/requests", json=sneaky), 422)
    assert body["invalidParams"][0]["name"] == "client.first_name"
    assert (
        client.post(
            "/api/v1/requests",
            json=json_body(municipality, today + timedelta(days=3), today + timedelta(days=5)),
        ).status_code
        == 201
    )


def test_only_the_right_people_see_a_request(client, make):
    today = freeze_start()
    municipality, unit, pool_provider, provider = _world(make)
    verwijzer = make.token("verwijzer")
    created = client.post(
        "/api/v1/requests",
        headers=verwijzer,
        json=json_body(municipality, today + timedelta(days=5), today + timedelta(days=8)),
    ).get_json()
    reference = created["reference"]
    assert created["requester"] == "verwijzer" and "link_token" not in created
    url = f"/api/v1/requests/{reference}"
    assert client.get(url, headers=verwijzer).status_code == 200
    assert client.get(url, headers=make.token("meldpunt", pool_provider)).status_code == 200
    assert client.get(url, headers=make.token("coordinator")).status_code == 200
    assert_problem(client.get(url, headers=make.token("verwijzer")), 404)
    assert_problem(client.get(url, headers=make.token("provider", provider)), 404)
    outsider = make.provider(regions=[make.region()], pool=True)
    assert_problem(client.get(url, headers=make.token("meldpunt", outsider)), 404)
    assert_problem(client.get(url), 401)
    assert_problem(client.get(url, headers={"X-Request-Token": "forged.token"}), 401)
    # A valid link for another request opens nothing here.
    other = client.post(
        "/api/v1/requests",
        json=json_body(municipality, today + timedelta(days=5), today + timedelta(days=8)),
    ).get_json()
    assert_problem(client.get(url, headers={"X-Request-Token": other["link_token"]}), 404)
    assert_problem(client.get(f"{url}/matches", headers=make.token("verwijzer")), 404)
    # Nor can another verwijzer book against it.
    assert_problem(
        client.post(
            "/api/v1/reservations",
            headers=make.token("verwijzer"),
            json={
                "unit_id": unit.id,
                "arrival": (today + timedelta(days=5)).isoformat(),
                "departure": (today + timedelta(days=8)).isoformat(),
                "request": reference,
            },
        ),
        404,
    )


def test_meldpunt_overriding_the_requesters_preference_must_give_a_reason(client, make):
    today = freeze_start()
    municipality, unit, pool_provider, _ = _world(make, confirmation=False)
    second = make.unit(location=make.location(municipality=municipality))
    meldpunt = make.token("meldpunt", pool_provider)
    arrival, departure = today + timedelta(days=6), today + timedelta(days=9)
    created = client.post("/api/v1/requests", json=json_body(municipality, arrival, departure))
    reference, link = (
        created.get_json()["reference"],
        {"X-Request-Token": created.get_json()["link_token"]},
    )
    client.get(f"/api/v1/requests/{reference}/matches", headers=link)
    assert (
        client.post(
            f"/api/v1/requests/{reference}/preference", json={"unit_id": unit.id}, headers=link
        ).status_code
        == 200
    )
    payload = {
        "unit_id": second.id,
        "arrival": arrival.isoformat(),
        "departure": departure.isoformat(),
        "request": reference,
    }
    body = assert_problem(client.post("/api/v1/reservations", headers=meldpunt, json=payload), 422)
    assert body["invalidParams"][0]["name"] == "choice_reason"
    payload["choice_reason"] = "Cliënt wil dichter bij de dochter logeren"
    response = client.post("/api/v1/reservations", headers=meldpunt, json=payload)
    assert response.status_code == 201, response.get_data(as_text=True)
    # One offer at a time for a single-stay request.
    payload["unit_id"] = unit.id
    assert_problem(client.post("/api/v1/reservations", headers=meldpunt, json=payload), 409)


def test_declining_an_offer_frees_the_bed_and_withdrawing_closes_the_request(client, make):
    today = freeze_start()
    municipality, unit, pool_provider, _ = _world(make, confirmation=False)
    meldpunt = make.token("meldpunt", pool_provider)
    arrival, departure = today + timedelta(days=6), today + timedelta(days=8)
    created = client.post("/api/v1/requests", json=json_body(municipality, arrival, departure))
    reference = created.get_json()["reference"]
    link = {"X-Request-Token": created.get_json()["link_token"]}
    payload = {
        "unit_id": unit.id,
        "arrival": arrival.isoformat(),
        "departure": departure.isoformat(),
        "request": reference,
    }
    first = client.post("/api/v1/reservations", headers=meldpunt, json=payload).get_json()
    declined = client.post(
        f"/api/v1/requests/{reference}/offers/{first['id']}/decline", headers=link, json={}
    )
    assert declined.status_code == 200, declined.get_data(as_text=True)
    assert declined.get_json()["status"] == "new"
    assert declined.get_json()["offers"][0]["status"] == "cancelled"

    second = client.post("/api/v1/reservations", headers=meldpunt, json=payload).get_json()
    assert second["status"] == "held"
    withdrawn = client.post(
        f"/api/v1/requests/{reference}/withdraw", headers=link, json={"reason": "opgelost"}
    )
    assert withdrawn.status_code == 200
    assert withdrawn.get_json()["status"] == "withdrawn"
    assert {o["status"] for o in withdrawn.get_json()["offers"]} == {"cancelled"}
    from respijt.extensions import db

    reserved = db.session.scalars(
        select(NightInventory.reserved).where(
            NightInventory.unit_id == unit.id, NightInventory.night == arrival
        )
    ).one()
    assert reserved == 0
    # A closed request takes no new holds and shows no matches; it has left the meldpunt's
    # view (need to know), so to the meldpunt it does not exist.
    assert_problem(client.post("/api/v1/reservations", headers=meldpunt, json=payload), 404)
    assert client.get(f"/api/v1/requests/{reference}/matches", headers=link).get_json() == []


def test_meldpunt_work_list_shows_urgent_requests_without_a_fit_first(client, make):
    today = freeze_start()
    municipality, unit, pool_provider, _ = _world(make)
    meldpunt = make.token("meldpunt", pool_provider)
    fits = client.post(
        "/api/v1/requests",
        json=json_body(municipality, today + timedelta(days=3), today + timedelta(days=5)),
    ).get_json()
    urgent = client.post(
        "/api/v1/requests",
        json=json_body(
            municipality,
            today + timedelta(days=1),
            today + timedelta(days=3),
            urgency="urgent",
            target_group="ggz",
        ),
    ).get_json()
    assert urgent["status"] == "waitlisted" and urgent["attention"]["reason"].startswith("Spoed")
    listed = client.get("/api/v1/requests?status=open", headers=meldpunt).get_json()["items"]
    assert [r["reference"] for r in listed] == [urgent["reference"], fits["reference"]]
    flagged = client.get("/api/v1/requests?attention=true", headers=meldpunt).get_json()["items"]
    assert [r["reference"] for r in flagged] == [urgent["reference"]]
    closed = client.post(
        f"/api/v1/requests/{urgent['reference']}/close",
        headers=meldpunt,
        json={"reason": "Crisisopvang via de huisarts"},
    )
    assert closed.status_code == 200 and closed.get_json()["status"] == "no_fit"
    assert closed.get_json()["closed_at"] is not None
    assert_problem(
        client.get("/api/v1/requests", headers=make.token("provider", pool_provider)), 403
    )


def test_series_hold_through_the_api_names_the_dates_it_could_not_place(client, make):
    today = freeze_start()
    municipality, unit, pool_provider, _ = _world(make, confirmation=False)
    meldpunt = make.token("meldpunt", pool_provider)
    arrival = today + timedelta(days=5)  # a Saturday: one weekend every four weeks
    data = json_body(municipality, arrival, arrival + timedelta(days=2), requester="mantelzorger")
    data["series"] = {"every_days": 28, "until": (arrival + timedelta(days=60)).isoformat()}
    created = client.post("/api/v1/requests", headers=meldpunt, json=data)
    assert created.status_code == 201, created.get_data(as_text=True)
    request = created.get_json()
    assert request["channel"] == "phone" and request["requester"] == "mantelzorger"
    assert [s["status"] for s in request["series"]["stays"]] == ["open"] * 3
    second = arrival + timedelta(days=28)
    from respijt.extensions import db

    db.session.execute(
        update(NightInventory)
        .where(NightInventory.unit_id == unit.id, NightInventory.night == second)
        .values(capacity=0)
    )
    db.session.commit()
    held = client.post(f"/api/v1/requests/{request['reference']}/series/hold", headers=meldpunt)
    assert held.status_code == 200, held.get_data(as_text=True)
    answer = held.get_json()
    assert [r["arrival"] for r in answer["held"]] == [
        arrival.isoformat(),
        (arrival + timedelta(days=56)).isoformat(),
    ]
    assert answer["unplaced"] == [
        {"arrival": second.isoformat(), "departure": (second + timedelta(days=2)).isoformat()}
    ]
    assert answer["request"]["status"] == "offered"
    assert [s["status"] for s in answer["request"]["series"]["stays"]] == [
        "offered",
        "unplaced",
        "offered",
    ]


def test_a_request_whose_reference_was_just_taken_draws_another(client, make, monkeypatch):
    """References are checked as free before use; two requests drawing the same one at the
    same instant both pass that check. The second meets the unique constraint and is run again
    with a new reference instead of failing with a 500."""
    from respijt.care_requests import intake

    today = freeze_start()
    municipality, *_ = _world(make)
    arrival, departure = today + timedelta(days=7), today + timedelta(days=10)
    first = client.post("/api/v1/requests", json=json_body(municipality, arrival, departure))
    assert first.status_code == 201, first.get_data(as_text=True)
    taken = first.get_json()["reference"]
    drawn = iter([taken, "R-CCCCCC"])  # as if the check had raced the first request
    monkeypatch.setattr(intake, "_unique_reference", lambda session: next(drawn))

    second = client.post("/api/v1/requests", json=json_body(municipality, arrival, departure))

    assert second.status_code == 201, second.get_data(as_text=True)
    assert second.get_json()["reference"] == "R-CCCCCC"


def test_a_preference_is_only_for_an_option_shown_to_the_requester(client, make):
    today = freeze_start()
    municipality, unit, pool_provider, _ = _world(make, confirmation=False)
    meldpunt = make.token("meldpunt", pool_provider)
    arrival, departure = today + timedelta(days=6), today + timedelta(days=9)
    created = client.post("/api/v1/requests", json=json_body(municipality, arrival, departure))
    reference, link = (
        created.get_json()["reference"],
        {"X-Request-Token": created.get_json()["link_token"]},
    )
    # The meldpunt looked at the options; the requester did not.
    assert client.get(f"/api/v1/requests/{reference}/matches", headers=meldpunt).status_code == 200
    refused = client.post(
        f"/api/v1/requests/{reference}/preference", json={"unit_id": unit.id}, headers=link
    )
    assert assert_problem(refused, 422)["invalidParams"][0]["code"] == "not_shown"
    client.get(f"/api/v1/requests/{reference}/matches", headers=link)
    chosen = client.post(
        f"/api/v1/requests/{reference}/preference", json={"unit_id": unit.id}, headers=link
    )
    assert chosen.status_code == 200, chosen.get_data(as_text=True)
    assert chosen.get_json()["unit_id"] == unit.id
