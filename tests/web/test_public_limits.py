"""Public writes are limited per client address and per target mobile, on the web and in the
API; `POST /api/v1/requests` replays a retry with the same `Idempotency-Key`."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from respijt import clock, create_app
from respijt.models import CareRequest, OutboxMessage, RequestIdempotency
from tests.browser.web_helpers import csrf_token
from tests.care_request_helpers import freeze_start, json_body
from tests.conftest import config_for_tests

PER_ADDRESS = 3
PER_MOBILE = 2
PER_EMAIL = 2
TARGET = "+31687654321"


@pytest.fixture()
def limited(database_url, db):
    app = create_app(
        config_for_tests(database_url)
        | {
            "RESPIJT_RATELIMIT": True,
            "RESPIJT_PUBLIC_LIMIT_PER_ADDRESS": f"{PER_ADDRESS} per hour",
            "RESPIJT_PUBLIC_LIMIT_PER_MOBILE": f"{PER_MOBILE} per day",
            "RESPIJT_PUBLIC_LIMIT_PER_EMAIL": f"{PER_EMAIL} per day",
        }
    )
    yield app
    with app.app_context():
        from respijt.extensions import db as extension

        extension.engine.dispose()


@pytest.fixture()
def municipality(make, db):
    freeze_start()
    municipality = make.municipality(code="GM0503", name="Delft")
    make.unit(location=make.location(municipality=municipality))
    code = municipality.code
    db.session.commit()  # the limited app writes from its own connections
    return code


def _count(db, model: Any, *where: Any) -> int:
    db.session.rollback()
    count = int(db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0)
    db.session.rollback()  # SQLite: the other app's requests need the write lock
    return count


def _sms_to(db, recipient: str = TARGET) -> int:
    return _count(db, OutboxMessage, OutboxMessage.recipient == recipient)


def _web_form(client, mobile: str = "06 87654321", **over: str) -> dict[str, str]:
    arrival = clock.today() + timedelta(days=14)
    data = {
        "csrf_token": csrf_token(client.get("/aanvragen").get_data(as_text=True)),
        "requester": "mantelzorger",
        "first_name": "Ans",
        "birth_year": "1938",
        "municipality": "GM0503",
        "target_group": "ouderen",
        "care_level": "basic",
        "language": "",
        "arrival": arrival.isoformat(),
        "departure": (arrival + timedelta(days=3)).isoformat(),
        "flexibility_days": "0",
        "urgency": "planned",
        "reason": "vakantie",
        "funding": "onbekend",
        "contact_name": "Marja de Vries",
        "contact_mobile": mobile,
        "consent": "y",
    }
    data.update(over)
    return data


def _from(address: str) -> dict[str, Any]:
    return {"environ_base": {"REMOTE_ADDR": address}}


def test_request_form_is_limited_per_address_and_keeps_what_was_typed(limited, municipality, db):
    client = limited.test_client()
    mobiles = ["06 11111111", "06 22222222", "06 33333333", "06 44444444"]
    statuses = [
        client.post("/aanvragen", data=_web_form(client, m), **_from("10.1.1.1")).status_code
        for m in mobiles
    ]
    assert statuses == [303] * PER_ADDRESS + [429]
    refused = client.post("/aanvragen", data=_web_form(client, "06 55555555"), **_from("10.1.1.1"))
    assert refused.status_code == 429 and refused.mimetype == "text/html"
    assert int(refused.headers["Retry-After"]) > 0
    html = refused.get_data(as_text=True)
    assert "te vaak verstuurd" in html and "meldpunt" in html
    assert 'value="Marja de Vries"' in html and 'value="06 55555555"' in html
    assert _count(db, CareRequest) == PER_ADDRESS
    # Another address is not affected.
    other = client.post("/aanvragen", data=_web_form(client, "06 16666666"), **_from("10.1.1.2"))
    assert other.status_code == 303


def test_one_mobile_gets_a_few_requests_a_day_from_any_address(limited, municipality, db):
    client = limited.test_client()
    written = ["06 87654321", "+31 6 87654321", "0687654321"]
    statuses = [
        client.post("/aanvragen", data=_web_form(client, m), **_from(f"10.2.0.{i}")).status_code
        for i, m in enumerate(written)
    ]
    assert statuses == [303] * PER_MOBILE + [429]
    assert _count(db, CareRequest) == PER_MOBILE and _sms_to(db) == PER_MOBILE
    # The API's anonymous form counts for the same number too, answered as problem+json.
    today = clock.today()
    body = json_body(municipality, today + timedelta(days=7), today + timedelta(days=10))
    body["contact"]["mobile"] = "06 87654321"
    api = client.post("/api/v1/requests", json=body, **_from("10.2.0.9"))
    assert api.status_code == 429 and api.mimetype == "application/problem+json"
    assert "mobiele nummer" in api.get_json()["detail"] and int(api.headers["Retry-After"]) > 0
    # "Stuur mijn link opnieuw" for that number is refused as well; it sends nothing.
    token = csrf_token(client.get("/link-opnieuw").get_data(as_text=True))
    again = client.post(
        "/link-opnieuw", data={"csrf_token": token, "mobile": "06 87654321"}, **_from("10.2.0.8")
    )
    assert again.status_code == 429 and 'value="06 87654321"' in again.get_data(as_text=True)
    assert _sms_to(db) == PER_MOBILE


def test_resend_link_and_complaints_are_limited_per_address(limited, municipality, db):
    client = limited.test_client()
    token = csrf_token(client.get("/link-opnieuw").get_data(as_text=True))
    resend = [
        client.post(
            "/link-opnieuw",
            data={"csrf_token": token, "mobile": f"06 1234567{i}"},
            **_from("10.3.0.1"),
        ).status_code
        for i in range(PER_ADDRESS + 1)
    ]
    assert resend == [303] * PER_ADDRESS + [429]
    token = csrf_token(client.get("/klachten").get_data(as_text=True))
    feedback = {"csrf_token": token, "message": "Prima site", "rating": "goed", "page": ""}
    complaints = [
        client.post("/klachten", data=feedback, **_from("10.3.0.1")).status_code
        for _ in range(PER_ADDRESS + 1)
    ]
    assert complaints == [303] * PER_ADDRESS + [429]
    refused = client.post("/klachten", data=feedback, **_from("10.3.0.1"))
    assert "Prima site" in refused.get_data(as_text=True) and "Retry-After" in refused.headers


def test_api_anonymous_requests_are_limited_per_address_tokens_per_nothing(
    limited, municipality, make, db
):
    client = limited.test_client()
    headers = make.token("verwijzer")
    anonymous = [
        client.post("/api/v1/requests", json={}, **_from("10.4.0.1")).status_code
        for _ in range(PER_ADDRESS + 1)
    ]
    assert anonymous == [422] * PER_ADDRESS + [429]
    today = clock.today()
    body = json_body(municipality, today + timedelta(days=7), today + timedelta(days=10))
    body["contact"]["mobile"] = TARGET
    statuses = [
        client.post("/api/v1/requests", json=body, headers=headers, **_from("10.4.0.1")).status_code
        for _ in range(PER_MOBILE + 2)
    ]
    assert statuses == [201] * (PER_MOBILE + 2)  # a verwijzer answers for their own requests


def _api_body(municipality) -> dict[str, Any]:
    today = clock.today()
    body = json_body(municipality, today + timedelta(days=7), today + timedelta(days=10))
    body["contact"]["mobile"] = "06 87654321"
    return body


def test_a_retry_with_the_same_idempotency_key_makes_no_second_request_or_sms(
    client, municipality, make, db
):
    body = _api_body(municipality)
    key = {"Idempotency-Key": "5d2c9a2e-retry"}
    first = client.post("/api/v1/requests", json=body, headers=key)
    assert first.status_code == 201, first.get_data(as_text=True)
    again = client.post("/api/v1/requests", json=body, headers=key)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["reference"] == first.get_json()["reference"]
    assert again.get_json()["link_token"]
    assert _count(db, CareRequest) == 1 and _sms_to(db) == 1
    changed = client.post("/api/v1/requests", json={**body, "urgency": "urgent"}, headers=key)
    assert changed.status_code == 422 and changed.mimetype == "application/problem+json"
    assert changed.get_json()["type"].endswith("idempotency_conflict")
    # Another caller with the same key is another request: keys belong to their caller.
    token = make.token("verwijzer")
    theirs = client.post("/api/v1/requests", json=body, headers=key | token)
    assert theirs.status_code == 201 and "Idempotent-Replayed" not in theirs.headers
    # So is the public from another address.
    elsewhere = client.post("/api/v1/requests", json=body, headers=key, **_from("10.5.0.2"))
    assert elsewhere.status_code == 201 and "Idempotent-Replayed" not in elsewhere.headers
    assert _count(db, CareRequest) == 3 and _count(db, RequestIdempotency) == 3
    too_long = client.post("/api/v1/requests", json=body, headers={"Idempotency-Key": "x" * 101})
    assert too_long.status_code == 422


def test_concurrent_retries_with_one_key_make_one_request(app, municipality, make, db):
    headers = make.token("meldpunt", make.provider()) | {"Idempotency-Key": "samen"}
    body = _api_body(municipality)
    db.session.rollback()  # SQLite: end the read the factories began
    racers = 8
    barrier = threading.Barrier(racers)

    def post(_: int) -> tuple[int, str]:
        client = app.test_client()
        barrier.wait(timeout=10)
        response = client.post("/api/v1/requests", json=body, headers=headers)
        return response.status_code, response.get_json()["reference"]

    with ThreadPoolExecutor(max_workers=racers) as pool:
        outcomes = list(pool.map(post, range(racers)))
    assert {status for status, _ in outcomes} == {201}
    assert len({reference for _, reference in outcomes}) == 1
    assert _count(db, CareRequest) == 1 and _sms_to(db) == 1


def test_the_availability_page_is_limited_like_the_api_search(limited, municipality):
    client = limited.test_client()
    partial = {"HX-Request": "true"}
    statuses = [client.get("/beschikbaarheid", headers=partial).status_code for _ in range(121)]
    assert statuses[:120] == [200] * 120 and statuses[120] == 429
    refused = client.get("/beschikbaarheid")
    assert refused.status_code == 429 and "Te veel pogingen" in refused.get_data(as_text=True)
    assert 0 < int(refused.headers["Retry-After"]) <= 60


def test_one_email_address_gets_a_few_requests_a_day_from_any_address(limited, municipality, db):
    client = limited.test_client()
    written = ["marja@voorbeeld.nl", "Marja@Voorbeeld.nl", "MARJA@voorbeeld.nl"]
    statuses = [
        client.post(
            "/aanvragen",
            data=_web_form(client, "", contact_email=address),
            **_from(f"10.5.0.{i}"),
        ).status_code
        for i, address in enumerate(written)
    ]
    assert statuses[:PER_EMAIL] == [303] * PER_EMAIL and statuses[PER_EMAIL] == 429
    assert _count(db, CareRequest) == PER_EMAIL
    # The anonymous API counts for the same address, answered as problem+json.
    today = clock.today()
    body = json_body(municipality, today + timedelta(days=7), today + timedelta(days=10))
    body["contact"] = {"name": "Marja", "email": "marja@voorbeeld.nl"}
    api = client.post("/api/v1/requests", json=body, **_from("10.5.0.9"))
    assert api.status_code == 429 and api.mimetype == "application/problem+json"
    assert "e-mailadres" in api.get_json()["detail"]
    # Another address is not affected.
    body["contact"] = {"name": "Kees", "email": "kees@voorbeeld.nl"}
    assert client.post("/api/v1/requests", json=body, **_from("10.5.0.10")).status_code == 201
    assert _count(db, CareRequest) == PER_EMAIL + 1
