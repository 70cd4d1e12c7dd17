"""The verwijzer's page of one request: linked from the list; the needs, the fitting places
with the reasons; choose and hold, accept on behalf of the client, decline, change the dates,
cancel a stay with a reason, withdraw; only their own requests; an access-log row for each."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from respijt import clock
from respijt.models import AccessLog, CareRequest, OutboxMessage, Reservation
from respijt.people.caller import Caller
from tests.accounts_support import csrf_token, web_login
from tests.care_request_helpers import body, create, freeze_start


@pytest.fixture()
def place(make: Any) -> dict[str, Any]:
    freeze_start()
    region = make.region(code="H5", name="Haaglanden")
    delft = make.municipality(code="GM0503", name="Delft", region=region)
    unit = make.unit(
        location=make.location(municipality=delft, name="De Linde"),
        name="Logeerkamers",
        capacity=2,
        requires_provider_confirmation=False,
    )
    return {"municipality": delft, "unit": unit}


def _request_of(db: Any, user: Any, place: dict[str, Any], **over: Any) -> CareRequest:
    arrival = clock.today() + timedelta(days=10)
    return create(
        db.session,
        body(place["municipality"], arrival, arrival + timedelta(days=3), **over),
        caller=Caller(key=f"user:{user.id}", role="verwijzer"),
    )


def _page(client: Any, care_request: CareRequest) -> tuple[str, str]:
    url = f"/verwijzer/aanvragen/{care_request.reference}"
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return url, response.get_data(as_text=True)


def _hold_first_option(client: Any, url: str, page: str) -> Any:
    option = re.search(r'<li data-testid="optie".*?</li>', page, re.S)
    assert option, page
    fields = dict(re.findall(r'name="(unit_id|arrival|departure)" value="([^"]+)"', option[0]))
    return client.post(f"{url}/vasthouden", data={"csrf_token": csrf_token(client, url), **fields})


def _actions(db: Any) -> list[tuple[str, str]]:
    return [
        (r.action, r.outcome) for r in db.session.scalars(select(AccessLog).order_by(AccessLog.id))
    ]


def test_the_list_links_to_the_page_with_needs_and_reasons(client, db, make, place):
    user = make.user("verwijzer")
    care_request = _request_of(db, user, place, wheelchair=False)
    web_login(client, user)
    listing = client.get("/verwijzer/aanvragen").get_data(as_text=True)
    assert f'href="/verwijzer/aanvragen/{care_request.reference}"' in listing
    _, page = _page(client, care_request)
    assert "Contactpersoon van de cliënt" in page and "Marja" in page
    assert "De Linde" in page and "Waarom: past bij" in page
    assert "Kiezen en vasthouden" in page
    assert ("care_request.read", "success") in _actions(db)


def test_the_contact_shows_numbers_written_out_and_the_email(client, db, make, place):
    user = make.user("verwijzer")
    contact = {
        "name": "Marja",
        "mobile": "06 12345678",
        "phone": "070 123 4567",
        "email": "marja@voorbeeld.nl",
    }
    care_request = _request_of(db, user, place, contact=contact)
    web_login(client, user)
    _, page = _page(client, care_request)
    shown = page.split("Contactpersoon van de cliënt</dt><dd>", 1)[1].split("</dd>", 1)[0]
    assert "+31" not in shown and "Marja, 06" in shown
    assert "vast 070" in shown and "marja@voorbeeld.nl" in shown
    without_mobile = _request_of(
        db, user, place, contact={"name": "Kees", "email": "kees@voorbeeld.nl"}
    )
    _, page = _page(client, without_mobile)
    shown = page.split("Contactpersoon van de cliënt</dt><dd>", 1)[1].split("</dd>", 1)[0]
    assert shown == "Kees, kees@voorbeeld.nl"


def test_choose_hold_and_accept_on_behalf_of_the_client(client, db, make, place):
    user = make.user("verwijzer")
    care_request = _request_of(db, user, place)
    web_login(client, user)
    url, page = _page(client, care_request)
    response = _hold_first_option(client, url, page)
    assert response.status_code == 303
    reservation = db.session.scalars(select(Reservation)).one()
    assert reservation.status == "held" and reservation.unit_id == place["unit"].id
    page = client.get(url).get_data(as_text=True)
    assert "De plek wordt vastgehouden" in page and "Vastgehouden" in page
    assert "Kiezen en vasthouden" not in page  # one hold at a time
    accept = f"{url}/aanbod/{reservation.id}/aannemen"
    assert client.post(accept, data={"csrf_token": csrf_token(client, url)}).status_code == 303
    db.session.refresh(reservation)
    db.session.refresh(care_request)
    assert reservation.status == "confirmed" and care_request.status == "placed"
    page = client.get(url).get_data(as_text=True)
    assert 'data-testid="geplaatst"' in page and "Geplaatst" in page
    actions = _actions(db)
    assert ("reservation.create", "success") in actions
    assert ("reservation.confirm", "success") in actions
    assert actions.count(("care_request.change", "success")) == 2


def test_decline_frees_the_bed_and_the_search_goes_on(client, db, make, place):
    user = make.user("verwijzer")
    care_request = _request_of(db, user, place)
    web_login(client, user)
    url, page = _page(client, care_request)
    _hold_first_option(client, url, page)
    reservation = db.session.scalars(select(Reservation)).one()
    client.post(
        f"{url}/aanbod/{reservation.id}/afslaan", data={"csrf_token": csrf_token(client, url)}
    )
    db.session.refresh(reservation)
    db.session.refresh(care_request)
    assert reservation.status == "cancelled"
    assert care_request.status in ("new", "waitlisted")
    assert "Kiezen en vasthouden" in client.get(url).get_data(as_text=True)


def test_change_dates_and_cancel_a_stay_with_errors_beside_the_fields(client, db, make, place):
    user = make.user("verwijzer")
    care_request = _request_of(db, user, place)
    web_login(client, user)
    url, page = _page(client, care_request)
    _hold_first_option(client, url, page)
    reservation = db.session.scalars(select(Reservation)).one()
    client.post(
        f"{url}/aanbod/{reservation.id}/aannemen", data={"csrf_token": csrf_token(client, url)}
    )

    bad = client.post(
        f"{url}/aanbod/{reservation.id}/data",
        data={"csrf_token": csrf_token(client, url), "arrival": "13-13-2027", "departure": ""},
    )
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422
    assert re.search(rf'id="arrival-{reservation.id}-error">.*Vul een datum in', html, re.S)
    assert 'value="13-13-2027"' in html  # what was typed stays

    new_arrival = reservation.arrival + timedelta(days=1)
    moved = client.post(
        f"{url}/aanbod/{reservation.id}/data",
        data={
            "csrf_token": csrf_token(client, url),
            "arrival": new_arrival.isoformat(),
            "departure": (new_arrival + timedelta(days=2)).isoformat(),
        },
    )
    assert moved.status_code == 303
    db.session.refresh(reservation)
    assert reservation.arrival == new_arrival and reservation.status == "confirmed"
    assert "De data zijn gewijzigd" in client.get(url).get_data(as_text=True)

    no_reason = client.post(
        f"{url}/aanbod/{reservation.id}/annuleren", data={"csrf_token": csrf_token(client, url)}
    )
    assert no_reason.status_code == 422
    assert "Geef een reden" in no_reason.get_data(as_text=True)
    cancelled = client.post(
        f"{url}/aanbod/{reservation.id}/annuleren",
        data={"csrf_token": csrf_token(client, url), "reason": "Familie zorgt zelf"},
    )
    assert cancelled.status_code == 303
    db.session.refresh(reservation)
    assert reservation.status == "cancelled"
    actions = _actions(db)
    assert ("reservation.change_dates", "success") in actions
    assert ("reservation.cancel", "success") in actions


def test_withdraw_releases_the_hold(client, db, make, place):
    user = make.user("verwijzer")
    care_request = _request_of(db, user, place)
    web_login(client, user)
    url, page = _page(client, care_request)
    _hold_first_option(client, url, page)
    response = client.post(
        f"{url}/intrekken", data={"csrf_token": csrf_token(client, url), "reason": ""}
    )
    assert response.status_code == 303
    db.session.refresh(care_request)
    assert care_request.status == "withdrawn"
    assert db.session.scalars(select(Reservation)).one().status == "cancelled"
    page = client.get(url).get_data(as_text=True)
    assert "Ingetrokken" in page and "Kiezen en vasthouden" not in page


def test_only_the_verwijzers_own_requests(client, db, make, place):
    owner = make.user("verwijzer")
    care_request = _request_of(db, owner, place)
    web_login(client, make.user("verwijzer"))
    url = f"/verwijzer/aanvragen/{care_request.reference}"
    assert client.get(url).status_code == 404
    token = csrf_token(client, "/verwijzer/aanvragen/nieuw")
    hold = client.post(
        f"{url}/vasthouden",
        data={
            "csrf_token": token,
            "unit_id": str(place["unit"].id),
            "arrival": care_request.arrival.isoformat(),
            "departure": care_request.departure.isoformat(),
        },
    )
    assert hold.status_code == 404
    assert db.session.scalars(select(Reservation)).first() is None
    assert ("care_request.read", "denied") in _actions(db)
    assert ("care_request.change", "denied") in _actions(db)
    assert client.post(f"{url}/intrekken", data={}).status_code == 400  # no CSRF token


def test_nothing_of_the_client_goes_into_the_offer_sms(client, db, make, place):
    user = make.user("verwijzer")
    care_request = _request_of(db, user, place)
    web_login(client, user)
    url, page = _page(client, care_request)
    _hold_first_option(client, url, page)
    for message in db.session.scalars(select(OutboxMessage)):
        assert care_request.client_name not in message.body
        assert str(care_request.birth_year) not in message.body
