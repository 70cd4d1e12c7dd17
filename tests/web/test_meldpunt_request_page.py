"""The meldpunt's request page: the needs in Dutch words, the provider of each option and
whether it must confirm, its own beds marked, a unit that declined last with its reason, the
history of offers and declines, and where and when a placed request goes."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from respijt import clock
from respijt.models import CareRequest, Reservation
from respijt.people.caller import Caller
from respijt.reservations import steps
from respijt.web import meldpunt
from respijt.web.format import long_date
from tests.accounts_support import web_login
from tests.browser.web_helpers import csrf_token

REASON = "Geen personeel voor extra zorg deze week"


@pytest.fixture()
def desk(make: Any, db: Any) -> dict[str, Any]:
    region = make.region(code="H5", name="Haaglanden")
    municipality = make.municipality(code="GM0503", name="Delft", region=region)
    own = make.provider(name="Zorg Delft", regions=[region], pool=True)
    other = make.provider(name="Zorg Rijswijk", regions=[region])
    own_unit = make.unit(
        location=make.location(provider=own, municipality=municipality, name="De Linde"),
        name="Logeerkamers ouderen",
        requires_provider_confirmation=True,
    )
    other_unit = make.unit(
        location=make.location(provider=other, municipality=municipality, name="Het Anker"),
        name="Respijtkamers",
        requires_provider_confirmation=False,
    )
    meldpunt = make.user("meldpunt", provider=own)
    return {"own_unit": own_unit, "other_unit": other_unit, "meldpunt": meldpunt}


def _take_call(client: Any, db: Any) -> CareRequest:
    arrival = clock.today() + timedelta(days=10)
    data = {
        "csrf_token": csrf_token(client.get("/meldpunt/aanvraag").get_data(as_text=True)),
        "requester": "mantelzorger",
        "first_name": "Jan",
        "birth_year": "1941",
        "municipality": "GM0503",
        "target_group": "ouderen",
        "arrival": arrival.isoformat(),
        "departure": (arrival + timedelta(days=2)).isoformat(),
        "urgency": "soon",
        "reason": "overbelasting",
        "contact_name": "Marja",
        "contact_mobile": "06 12345678",
        "consent": "y",
        "care_level": "basic",
        "flexibility_days": "1",
        "funding": "onbekend",
    }
    response = client.post("/meldpunt/aanvraag", data=data)
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    return db.session.scalars(select(CareRequest)).one()


def _options(page: str) -> list[str]:
    return re.findall(r'<li data-testid="optie".*?</li>', page, flags=re.S)


def _hold_and_confirm(client: Any, db: Any, care_request: CareRequest, unit: Any) -> Reservation:
    url = f"/meldpunt/aanvragen/{care_request.reference}"
    page = client.get(url).get_data(as_text=True)
    response = client.post(
        f"{url}/vasthouden",
        data={
            "csrf_token": csrf_token(page),
            "unit_id": str(unit.id),
            "arrival": care_request.arrival.isoformat(),
            "departure": care_request.departure.isoformat(),
        },
    )
    assert response.status_code == 303
    reservation = db.session.scalars(
        select(Reservation).where(Reservation.unit_id == unit.id).order_by(Reservation.id.desc())
    ).first()
    page = client.get(url).get_data(as_text=True)
    response = client.post(
        f"{url}/aanbod/{reservation.id}/bevestigen", data={"csrf_token": csrf_token(page)}
    )
    assert response.status_code == 303
    db.session.expire_all()
    return db.session.get(Reservation, reservation.id)


def test_the_page_shows_the_needs_in_words_and_the_provider_of_each_option(client, desk, db):
    web_login(client, desk["meldpunt"])
    care_request = _take_call(client, db)
    page = client.get(f"/meldpunt/aanvragen/{care_request.reference}").get_data(as_text=True)
    for words in (
        "Ouderen",
        "Zonder extra zorg",
        "Overbelasting van de mantelzorger",
        "Nog onbekend",
        "1 dag eerder of later kan ook",
        "Binnenkort",
        "Nederlands",
    ):
        assert words in page, words
    for raw in (">overbelasting<", ">onbekend<", ">soon<", ">basic<", ">ouderen<"):
        assert raw not in page, raw
    options = _options(page)
    assert len(options) == 2
    own = next(o for o in options if "De Linde" in o)
    other = next(o for o in options if "Het Anker" in o)
    assert "Zorg Delft" in own and "Eigen aanbod" in own and "moet eerst bevestigen" in own
    assert "Zorg Rijswijk" in other and "Eigen aanbod" not in other
    assert "direct te bevestigen" in other
    assert "Waarom: past bij ouderen" in other and "zelfde gemeente" in other
    assert "gegevens van vandaag" in other
    assert "Nog geen aanbod gedaan." in page


def test_a_declined_unit_is_last_with_its_reason_and_in_the_history(client, desk, db):
    web_login(client, desk["meldpunt"])
    care_request = _take_call(client, db)
    reservation = _hold_and_confirm(client, db, care_request, desk["own_unit"])
    assert reservation.status == "awaiting_provider"
    steps.decline_by_provider(
        db.session,
        reservation,
        caller=Caller(key="user:provider", role="provider"),
        now=clock.now(),
        reason=REASON,
    )
    db.session.commit()

    page = client.get(f"/meldpunt/aanvragen/{care_request.reference}").get_data(as_text=True)
    options = _options(page)
    assert "Het Anker" in options[0] and "afgewezen" not in options[0]
    assert "De Linde" in options[-1]
    assert f"Heeft deze aanvraag afgewezen: {REASON}" in options[-1]
    history = page.split('data-testid="geschiedenis"', 1)[1]
    assert "Afgewezen door aanbieder" in history and REASON in history
    assert "Zorg Delft" in history and "De Linde" in history


def test_a_placed_request_says_where_and_when(app, client, desk, db):
    web_login(client, desk["meldpunt"])
    care_request = _take_call(client, db)
    reservation = _hold_and_confirm(client, db, care_request, desk["other_unit"])
    assert reservation.status == "confirmed"
    db.session.expire_all()
    placed = db.session.get(CareRequest, care_request.id)
    assert placed.status == "placed"
    # Need to know: the placed request leaves this meldpunt's list, so the page is rendered
    # as it would be for whoever may still open it.
    assert client.get(f"/meldpunt/aanvragen/{care_request.reference}").status_code == 404
    user = desk["meldpunt"]
    caller = Caller(key=f"user:{user.id}", role="meldpunt", provider_id=user.provider_id)
    with app.test_request_context():
        page = meldpunt.render_request_page(
            meldpunt.request_page_context(placed, caller, clock.now()), caller
        )
    assert "Nu geen passende plek" not in page and "wachtlijst" not in page
    assert "Passende plekken" not in page
    where = page.split('data-testid="geplaatst"', 1)[1].split("</p>", 1)[0]
    assert "Het Anker" in where and "Respijtkamers" in where and "Zorg Rijswijk" in where
    assert f"van {long_date(placed.arrival)} tot {long_date(placed.departure)}" in where
