"""The verwijzer's pages: only their own requests, a new request in their name, errors
beside the fields, access-log rows for the list and the creation."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from respijt import clock
from respijt.models import AccessLog, CareRequest
from tests.accounts_support import csrf_token, web_login
from tests.care_request_helpers import freeze_start

PATH = "/verwijzer/aanvragen/nieuw"


@pytest.fixture()
def place(make):
    freeze_start()
    region = make.region(code="H5", name="Haaglanden")
    municipality = make.municipality(code="GM0503", name="Delft", region=region)
    return make.unit(location=make.location(municipality=municipality), capacity=2)


def _data(client, **over):
    arrival = clock.today() + timedelta(days=14)
    data = {
        "csrf_token": csrf_token(client, PATH),
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
        "contact_name": "Karin Smit",
        "contact_mobile": "06 12345678",
        "consent": "y",
    }
    data.update(over)
    return data


def test_new_request_is_made_in_the_verwijzers_name_and_listed(client, db, make, place):
    user = make.user("verwijzer", organisation="Wijkteam Delft-Noord")
    web_login(client, user)
    form = client.get(PATH).get_data(as_text=True)
    assert "Wijkteam Delft-Noord" in form and "als verwijzer" in form
    response = client.post(PATH, data=_data(client))
    assert response.status_code == 303, response.get_data(as_text=True)[-2000:]
    created = db.session.scalars(select(CareRequest)).one()
    assert created.caller == f"user:{user.id}" and created.requester_type == "verwijzer"
    assert created.channel == "web"
    listing = client.get(response.headers["Location"]).get_data(as_text=True)
    assert created.reference in listing and "Ans (1938)" in listing
    actions = [
        (row.action, row.outcome)
        for row in db.session.scalars(select(AccessLog).order_by(AccessLog.id))
    ]
    assert ("care_request.create", "success") in actions
    assert ("care_request.list", "success") in actions  # one row per client shown


def test_a_verwijzer_never_sees_anothers_requests(client, db, make, place):
    first = make.user("verwijzer")
    web_login(client, first)
    client.post(PATH, data=_data(client, first_name="Bep"))
    token = csrf_token(client, PATH)
    client.post("/logout", data={"csrf_token": token})
    web_login(client, make.user("verwijzer"))
    listing = client.get("/verwijzer/aanvragen").get_data(as_text=True)
    assert "Bep" not in listing and "nog geen aanvragen" in listing


def test_errors_stand_beside_the_fields_and_input_is_kept(client, make, place):
    web_login(client, make.user("verwijzer"))
    response = client.post(PATH, data=_data(client, birth_year="38", contact_name="Karin S"))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert re.search(r'id="birth_year-error">.*vier cijfers', html, re.S)
    assert 'value="Karin S"' in html and 'value="38"' in html


def test_other_roles_and_missing_csrf_are_refused(client, db, make, place):
    assert client.get("/verwijzer/aanvragen").status_code == 302
    web_login(client, make.user("provider"))
    assert client.get("/verwijzer/aanvragen").status_code == 403
    assert client.get(PATH).status_code == 403
    client.post("/logout", data={"csrf_token": csrf_token(client, "/login")})
    web_login(client, make.user("verwijzer"))
    data = _data(client)
    del data["csrf_token"]
    assert client.post(PATH, data=data).status_code == 400
    assert db.session.scalars(select(CareRequest)).first() is None
