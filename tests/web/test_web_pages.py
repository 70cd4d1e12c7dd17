"""The public pages through the test client: forms, errors, the status link, CSRF.

The browser journeys are in test_web_browser.py; these run on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from respijt import clock
from respijt.care_requests import links as request_links
from respijt.models import CareRequest, OutboxMessage, Reservation
from tests.browser.web_helpers import csrf_token, request_with_offer
from tests.care_request_helpers import freeze_start
from tests.outbox_support import text_as_sent

PAGES = [
    "/",
    "/beschikbaarheid",
    "/aanvragen",
    "/contact",
    "/privacy",
    "/toegankelijkheid",
    "/klachten",
    "/link-opnieuw",
    "/mijn-aanvraag",
]


@pytest.fixture()
def place(make: Any, today: Any) -> Any:
    freeze_start()
    region = make.region(code="H5", name="Haaglanden")
    municipality = make.municipality(code="GM0503", name="Delft", region=region)
    location = make.location(municipality=municipality, name="De Linde")
    unit = make.unit(location=location, capacity=2, name="Logeerkamers ouderen")
    return unit


def _form(client: Any, **over: str) -> dict[str, str]:
    token = csrf_token(client.get("/aanvragen").get_data(as_text=True))
    arrival = clock.today() + timedelta(days=14)
    data = {
        "csrf_token": token,
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
        "contact_mobile": "06 12345678",
        "consent": "y",
    }
    data.update(over)
    return data


def _main(html: str) -> str:
    return html[html.index("<main") : html.index("</main>")]


def test_every_public_page_is_dutch_and_has_no_inline_script_or_style(client, place):
    for path in PAGES:
        response = client.get(path)
        assert response.status_code == 200, path
        html = response.get_data(as_text=True)
        assert '<html lang="nl"' in html
        assert 'href="#inhoud"' in html and 'id="inhoud"' in html  # skip link
        # The CSP allows scripts and styles from 'self' only.
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), path
        assert "<style" not in html and " style=" not in html, path
        assert "https://" not in html and "http://" not in html.replace("http://localhost", ""), (
            path
        )


def test_request_form_keeps_what_was_typed_and_says_in_dutch_what_is_wrong(client, place):
    data = _form(client, contact_mobile="070 1234567", birth_year="38")
    del data["consent"]
    response = client.post("/aanvragen", data=data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    errors = dict(
        re.findall(r'id="([a-z_]+)-error">\s*<p class="field-error">.*?</span>(.*?)</p>', html)
    )
    assert "vier cijfers" in errors["birth_year"]
    assert "toestemming" in errors["consent"]
    assert "mobiel" in errors["contact_mobile"].lower()
    assert 'value="Marja de Vries"' in html and 'value="Ans"' in html
    assert 'value="070 1234567"' in html
    assert re.search(r'<option selected value="ouderen">|<option value="ouderen" selected', html)
    assert 'aria-invalid="true"' in html and 'aria-describedby="consent-hint consent-error"' in html
    assert client.application.extensions  # app still serves
    assert db_count(CareRequest) == 0


def db_count(model: Any) -> int:
    from respijt.extensions import db

    return int(db.session.scalar(select(func.count()).select_from(model)) or 0)


def test_domain_refusals_land_beside_their_field(client, place):
    past = clock.today() - timedelta(days=1)
    response = client.post("/aanvragen", data=_form(client, arrival=past.isoformat()))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert re.search(r'id="arrival-error">.*?in het verleden', html, re.S)


def test_a_request_from_the_form_ends_in_a_reference_and_an_sms_with_the_link(client, place, db):
    response = client.post("/aanvragen", data=_form(client, requester="verwijzer"))
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    reference = re.search(r'data-testid="reference">([^<]+)<', page).group(1)
    created = db.session.scalar(select(CareRequest).where(CareRequest.reference == reference))
    assert created.channel == "web" and created.requester_type == "verwijzer"
    assert created.contact_mobile == "+31612345678" and created.consent_at is not None
    sms = db.session.scalar(select(OutboxMessage).where(OutboxMessage.recipient == "+31612345678"))
    assert sms.template == "request_received" and reference in sms.body
    assert sms.urgent  # the sender waits for it on the site: not held by quiet hours
    assert "Ans" not in sms.body  # never the client's name on a lock screen
    assert "/a/" not in sms.body  # the link is made when the SMS is sent, never stored
    link = re.search(r"http://\S+", text_as_sent(db.session, sms)).group(0)
    db.session.rollback()

    fresh = client.application.test_client()
    opened = fresh.get(link.replace("http://127.0.0.1", ""))
    assert opened.status_code == 303 and opened.headers["Location"].endswith("/mijn-aanvraag")
    status = fresh.get("/mijn-aanvraag").get_data(as_text=True)
    assert f"Uw aanvraag {reference}" in status


def test_a_forged_or_foreign_link_shows_nothing(client, place, db):
    care_request, _ = request_with_offer(db.session)
    db.session.commit()
    forged = request_links.make_link_token("another-secret", care_request.reference)
    client.get(f"/a/{forged}")
    response = client.get("/mijn-aanvraag")
    assert response.status_code == 404
    assert care_request.reference not in response.get_data(as_text=True)


def _linked_client(client: Any, reference: str) -> Any:
    token = request_links.make_link_token(client.application.secret_key, reference)
    client.get(f"/a/{token}")
    return client


def test_the_requester_accepts_an_offer_through_the_link(client, place, db):
    care_request, reservation = request_with_offer(db.session)
    db.session.commit()
    reference, reservation_id = care_request.reference, reservation.id
    _linked_client(client, reference)
    page = client.get("/mijn-aanvraag").get_data(as_text=True)
    assert "De Linde" in page and "Ja, dit aanbod neem ik aan" in page
    response = client.post(
        f"/mijn-aanvraag/aanbod/{reservation_id}/aannemen", data={"csrf_token": csrf_token(page)}
    )
    assert response.status_code == 303
    db.session.rollback()
    assert db.session.get(Reservation, reservation_id).status == "confirmed"
    after = client.get("/mijn-aanvraag").get_data(as_text=True)
    assert "U hebt het aanbod aangenomen." in after and "Geplaatst" in after


def test_the_requester_declines_an_offer_and_then_withdraws(client, place, db):
    care_request, reservation = request_with_offer(db.session)
    db.session.commit()
    reference, reservation_id = care_request.reference, reservation.id
    _linked_client(client, reference)
    token = csrf_token(client.get("/mijn-aanvraag").get_data(as_text=True))
    client.post(f"/mijn-aanvraag/aanbod/{reservation_id}/afslaan", data={"csrf_token": token})
    db.session.rollback()
    assert db.session.get(Reservation, reservation_id).status == "cancelled"

    # Withdrawing needs the box ticked; without it nothing changes.
    client.post("/mijn-aanvraag/intrekken", data={"csrf_token": token})
    db.session.rollback()
    assert (
        db.session.scalar(select(CareRequest.status).where(CareRequest.reference == reference))
        != "withdrawn"
    )
    client.post("/mijn-aanvraag/intrekken", data={"csrf_token": token, "sure": "y"})
    db.session.rollback()
    assert (
        db.session.scalar(select(CareRequest.status).where(CareRequest.reference == reference))
        == "withdrawn"
    )
    assert "Uw aanvraag is ingetrokken." in client.get("/mijn-aanvraag").get_data(as_text=True)


def test_a_post_without_csrf_token_is_refused_but_the_token_api_is_not(client, place, db):
    response = client.post(
        "/aanvragen", data={k: v for k, v in _form(client).items() if k != "csrf_token"}
    )
    assert response.status_code in (400, 422)
    assert db_count(CareRequest) == 0
    api = client.post(
        "/api/v1/requests",
        json={
            "client": {"first_name": "Jan", "birth_year": 1941},
            "municipality": "GM0503",
            "target_group": "ouderen",
            "arrival": (clock.today() + timedelta(days=14)).isoformat(),
            "departure": (clock.today() + timedelta(days=17)).isoformat(),
            "reason": "vakantie",
            "contact": {"name": "Marja", "mobile": "06 12345678"},
            "consent": True,
        },
    )
    assert api.status_code == 201


def test_send_my_link_again_never_reveals_whether_a_request_exists(client, place, db):
    care_request, _ = request_with_offer(db.session, mobile="06 11112222")
    db.session.commit()
    reference = care_request.reference
    answers = []
    for mobile in ("06 11112222", "06 12121212", "06 11112222"):
        token = csrf_token(client.get("/link-opnieuw").get_data(as_text=True))
        response = client.post("/link-opnieuw", data={"csrf_token": token, "mobile": mobile})
        assert response.status_code == 303
        answers.append(_main(client.get(response.headers["Location"]).get_data(as_text=True)))
    assert answers[0] == answers[1] == answers[2]
    db.session.rollback()
    sent = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.template == "request_link")
    ).all()
    assert [m.recipient for m in sent] == ["+31611112222"]  # once per hour, only to a request
    assert reference in sent[0].body


def test_the_search_shows_free_beds_in_words_freshness_and_a_stale_warning(client, place, db):
    place.location.last_confirmed_at = clock.now() - timedelta(days=5)
    db.session.commit()
    night = clock.today() + timedelta(days=3)
    url = f"/beschikbaarheid?van={night}&tot={night + timedelta(days=2)}&gemeente=GM0503"
    html = client.get(url).get_data(as_text=True)
    assert "De Linde" in html
    assert html.count("<strong>2</strong> vrij") == 2
    assert "5 dagen geleden bijgewerkt" in html and "Let op:" in html
    partial = client.get(url, headers={"HX-Request": "true"})
    body = partial.get_data(as_text=True)
    assert body.lstrip().startswith('<section id="resultaten"') and "<html" not in body
    assert "HX-Request" in partial.headers["Vary"]


def test_the_search_says_what_is_wrong_with_the_dates(client, place):
    night = clock.today() + timedelta(days=3)
    html = client.get(f"/beschikbaarheid?van={night}&tot={night}").get_data(as_text=True)
    assert re.search(r'id="tot-error">.*?na de eerste nacht', html, re.S)
    html = client.get("/beschikbaarheid?van=morgen").get_data(as_text=True)
    assert re.search(r'id="van-error">.*?dd-mm-jjjj', html, re.S)


def test_a_gemeente_sets_its_own_cost_text(client, place, app, tmp_path, monkeypatch):
    path = tmp_path / "texts.json"
    path.write_text(json.dumps({"GM0503": {"costs": "In Delft is logeren gratis."}}))
    monkeypatch.setitem(app.config, "RESPIJT_MUNICIPALITY_TEXTS", str(path))
    assert "In Delft is logeren gratis." in client.get("/?gemeente=GM0503").get_data(as_text=True)
    assert "In Delft is logeren gratis." not in client.get("/").get_data(as_text=True)


def test_the_site_has_its_own_favicon_and_serves_compressed_assets(client):
    with client.get("/favicon.ico", follow_redirects=True) as icon:
        assert icon.mimetype == "image/svg+xml"
    css = client.get(
        "/static/vendor/utrecht/components.css",
        headers={"Accept-Encoding": "gzip"},
        buffered=True,
    )
    assert css.status_code == 200 and css.headers.get("Content-Encoding") == "gzip"
    assert int(css.headers["Content-Length"]) < 20_000


def test_the_header_says_who_is_logged_in_and_in_which_role(client, monkeypatch):
    class User:
        is_authenticated = True
        name = "Fatima Bakker"
        roles = ["provider", "meldpunt"]

    import respijt.web

    assert "Ingelogd als" not in client.get("/privacy").get_data(as_text=True)
    monkeypatch.setattr(respijt.web, "current_user", lambda: User())
    header = client.get("/privacy").get_data(as_text=True)
    assert "Ingelogd als <strong>Fatima Bakker</strong>, als aanbieder en meldpunt." in header
    assert 'action="/logout"' in header and 'name="csrf_token"' in header
