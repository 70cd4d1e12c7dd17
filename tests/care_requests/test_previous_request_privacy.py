"""`previous_request` links a new request to an earlier one of the same client. It must not
tell a stranger whether a reference exists, nor the birth year behind it."""

from __future__ import annotations

from datetime import timedelta

from tests.care_request_helpers import freeze_start, json_body


def _setup(client, make):
    today = freeze_start()
    municipality = make.municipality()
    make.unit(location=make.location(municipality=municipality))
    owner = make.token("verwijzer")
    arrival, departure = today + timedelta(days=7), today + timedelta(days=10)
    first = client.post(
        "/api/v1/requests", json=json_body(municipality, arrival, departure), headers=owner
    )
    assert first.status_code == 201, first.get_data(as_text=True)

    def again(headers, reference, birth_year=1941, mobile="06 12345678"):
        later_arrival = arrival + timedelta(days=30)
        data = json_body(
            municipality,
            later_arrival,
            later_arrival + timedelta(days=3),
            previous_request=reference,
            client={"first_name": "Jan", "birth_year": birth_year},
            contact={"name": "Marja", "mobile": mobile},
        )
        return client.post("/api/v1/requests", json=data, headers=headers or {})

    return first.get_json()["reference"], owner, again


def _refusal(response) -> dict:
    assert response.status_code == 422, response.get_data(as_text=True)
    body = response.get_json(force=True)
    return {"detail": body["detail"], "invalidParams": body["invalidParams"]}


def test_someone_else_learns_nothing_from_a_previous_reference(client, make):
    reference, _, again = _setup(client, make)
    stranger = make.token("verwijzer")
    right_year = _refusal(again(stranger, reference, 1941))
    wrong_year = _refusal(again(stranger, reference, 1950))
    missing = _refusal(again(stranger, "R-ZZZZZZ", 1941))
    assert right_year == wrong_year == missing
    assert [p["name"] for p in missing["invalidParams"]] == ["previous_request"]
    # Anonymously, with another mobile number: the same answer.
    assert _refusal(again(None, reference, 1941, mobile="06 87654321")) == missing


def test_the_owner_and_the_same_contact_can_link_an_earlier_request(client, make):
    reference, owner, again = _setup(client, make)
    linked = again(owner, reference)
    assert linked.status_code == 201 and linked.get_json()["previous_request"] == reference
    assert _refusal(again(owner, reference, 1950))["invalidParams"][0]["name"] == "previous_request"
    public = again(None, reference)  # the same contact mobile that received the first SMS
    assert public.status_code == 201 and public.get_json()["previous_request"] == reference


def test_a_request_without_mobile_or_a_purged_one_cannot_be_linked(client, make, db):
    from sqlalchemy import select

    from respijt import clock
    from respijt.models import CareRequest

    today = freeze_start()
    municipality = make.municipality()
    make.unit(location=make.location(municipality=municipality))
    owner = make.token("verwijzer")
    arrival, departure = today + timedelta(days=7), today + timedelta(days=10)
    landline_only = json_body(
        municipality, arrival, departure, contact={"name": "Marja", "phone": "030 1234567"}
    )
    first = client.post("/api/v1/requests", json=landline_only, headers=owner)
    assert first.status_code == 201, first.get_data(as_text=True)
    reference = first.get_json()["reference"]

    def again(headers, contact):
        later = arrival + timedelta(days=30)
        data = json_body(
            municipality,
            later,
            later + timedelta(days=3),
            previous_request=reference,
            contact=contact,
        )
        return client.post("/api/v1/requests", json=data, headers=headers or {})

    missing = _refusal(
        client.post(
            "/api/v1/requests",
            json=json_body(
                municipality,
                arrival + timedelta(days=30),
                arrival + timedelta(days=33),
                previous_request="R-ZZZZZZ",
                contact={"name": "Iemand", "phone": "020 7654321"},
            ),
        )
    )
    # A stranger without a mobile number matches the stored "" of a no-mobile request: refused.
    assert _refusal(again(None, {"name": "Iemand", "phone": "020 7654321"})) == missing
    assert _refusal(again(None, {"name": "Iemand", "email": "a@example.nl"})) == missing
    # A purged request is never linked, not even by its owner.
    assert again(owner, {"name": "Marja", "phone": "030 1234567"}).status_code == 201
    earlier = db.session.scalar(select(CareRequest).where(CareRequest.reference == reference))
    earlier.anonymised_at = clock.now()
    db.session.commit()
    assert _refusal(again(owner, {"name": "Marja", "phone": "030 1234567"})) == missing


def test_the_meldpunt_links_only_within_the_regions_it_serves(client, make):
    today = freeze_start()
    here, there = make.region(), make.region()
    municipality = make.municipality(region=there)
    make.unit(location=make.location(municipality=municipality))
    arrival = today + timedelta(days=7)
    first = client.post(
        "/api/v1/requests",
        json=json_body(municipality, arrival, arrival + timedelta(days=3)),
        headers=make.token("verwijzer"),
    )
    reference = first.get_json()["reference"]
    later = json_body(
        municipality,
        arrival + timedelta(days=30),
        arrival + timedelta(days=33),
        previous_request=reference,
    )
    elsewhere = make.token("meldpunt", provider=make.provider(regions=[here], pool=True))
    refused = _refusal(client.post("/api/v1/requests", json=later, headers=elsewhere))
    assert [p["name"] for p in refused["invalidParams"]] == ["previous_request"]
    on_duty = make.token("meldpunt", provider=make.provider(regions=[there], pool=True))
    linked = client.post("/api/v1/requests", json=later, headers=on_duty)
    assert linked.status_code == 201, linked.get_data(as_text=True)
    assert linked.get_json()["previous_request"] == reference
