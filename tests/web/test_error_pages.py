"""Errors on website paths are Dutch pages in the site's layout; the API and the machine
endpoints keep problem+json; a page address with a trailing slash redirects."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.accounts_support import csrf_token
from tests.conftest import config_for_tests

HTML = {"Accept": "text/html"}
CURL = {"Accept": "*/*"}
LAYOUT = "Direct naar de inhoud"  # the skip link of templates/base.html


def assert_page(response, status: int, title: str) -> str:
    assert response.status_code == status
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert LAYOUT in html and f'<h1 class="utrecht-heading-1">{title}' in html
    assert 'href="/">beginpagina</a>' in html  # a way back home
    for technical in ("problem", "urn:", "Traceback", "Bearer", "HTTP", "Error"):
        assert technical not in html.split("<main", 1)[1], technical
    return html


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status and body["title"] and body["detail"]
    return dict(body)


def test_unknown_page_is_a_dutch_page_for_a_browser_and_for_curl(client):
    for headers in (HTML, CURL, {}):
        response = client.get("/bestaat-niet", headers=headers)
        assert_page(response, 404, "Deze pagina bestaat niet (meer)")
        assert "Accept" in response.vary


def test_unknown_api_address_stays_problem_json_even_for_a_browser(client):
    body = assert_problem(client.get("/api/v1/bestaat-niet", headers=HTML), 404)
    assert body["title"] == "Niet gevonden"


def test_a_client_asking_for_json_on_a_page_gets_problem_json(client):
    response = client.get("/bestaat-niet", headers={"Accept": "application/json"})
    assert_problem(response, 404)
    assert "Accept" in response.vary
    token = {"Authorization": "Bearer x", **HTML}  # the report pages also take API tokens
    assert_problem(client.get("/bestaat-niet", headers=token), 404)


def test_wrong_method_on_a_page_is_a_page_with_allow(client):
    token = csrf_token(client, "/login")
    response = client.post("/beschikbaarheid", data={"csrf_token": token}, headers=HTML)
    assert_page(response, 405, "Dit kan hier niet")
    assert "GET" in response.headers["Allow"]
    api = client.delete("/api/v1/regions", headers=HTML)
    assert_problem(api, 405)
    assert "GET" in api.headers["Allow"]


def test_csrf_refusal_is_a_page(client):
    response = client.post("/login", data={"email": "a@example.org"}, headers=HTML)
    html = assert_page(response, 400, "Formulier verlopen")
    assert "verstuur het formulier nog een keer" in html


@pytest.fixture()
def limited_client(database_url: str, db) -> Iterator[FlaskClient]:
    from respijt import create_app
    from respijt.extensions import db as extension

    app = create_app(config_for_tests(database_url) | {"RESPIJT_RATELIMIT": True})
    yield app.test_client()
    with app.app_context():
        extension.engine.dispose()


def test_too_many_attempts_is_a_page_on_the_site_and_problem_json_on_the_api(limited_client):
    token = csrf_token(limited_client, "/password/reset")
    form = {"email": "niemand@example.org", "csrf_token": token}
    statuses = [limited_client.post("/password/reset", data=form).status_code for _ in range(5)]
    assert 429 not in statuses
    response = limited_client.post("/password/reset", data=form, headers=HTML)
    assert_page(response, 429, "Te veel pogingen")
    assert "Retry-After" in response.headers
    for _ in range(10):
        limited_client.post("/api/v1/requests", json={})
    api = limited_client.post("/api/v1/requests", json={}, headers=HTML)
    assert_problem(api, 429)
    assert "Retry-After" in api.headers


def _boom(**kwargs: object) -> None:
    raise RuntimeError("geheim-detail-4711 van de fout")


def test_an_unexpected_error_is_a_page_that_shows_nothing_of_the_exception(
    app: Flask, client, monkeypatch
):
    monkeypatch.setitem(app.view_functions, "web.contact", _boom)
    response = client.get("/contact", headers=HTML)
    html = assert_page(response, 500, "Er ging iets mis")
    assert "geheim-detail-4711" not in html and "RuntimeError" not in html
    monkeypatch.setitem(app.view_functions, "registry.list_regions", _boom)
    api = client.get("/api/v1/regions", headers=HTML)
    body = assert_problem(api, 500)
    assert "geheim-detail-4711" not in api.get_data(as_text=True), body


def test_error_page_without_the_database_still_answers_in_dutch(app: Flask, client, monkeypatch):
    """The layout reads the login session; when that fails the page falls back to plain HTML."""

    def broken_context() -> dict[str, object]:
        raise RuntimeError("database weg")

    monkeypatch.setitem(app.view_functions, "web.contact", _boom)
    monkeypatch.setattr(app, "template_context_processors", {None: [broken_context]}, raising=True)
    response = client.get("/contact", headers=HTML)
    assert response.status_code == 500 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "Er ging iets mis" in html and 'href="/"' in html
    assert "database weg" not in html and "geheim-detail-4711" not in html


def test_machine_endpoints_keep_problem_json(client):
    feed = client.get("/rota/ical/onbekend.ics", headers=HTML)
    assert feed.status_code == 404 and feed.mimetype == "text/plain"  # for calendar apps
    twilio = client.post("/twilio/sms/inbound", data={"Body": "x"}, headers=HTML)
    assert twilio.status_code == 403 and twilio.mimetype == "text/plain"  # as before
    assert_problem(client.get("/twilio/bestaat-niet", headers=HTML), 404)


def test_trailing_slash_on_a_page_redirects_keeping_the_query(client):
    response = client.get("/beschikbaarheid/?gemeente=GM0344&van=2026-12-01", headers=HTML)
    assert response.status_code == 301
    assert response.headers["Location"] == "/beschikbaarheid?gemeente=GM0344&van=2026-12-01"
    assert client.get(response.headers["Location"]).status_code == 200
    posted = client.post("/aanvragen/", data={"csrf_token": "x"})
    assert posted.status_code == 308 and posted.headers["Location"] == "/aanvragen"
    assert client.get("/locaties/12/").headers["Location"] == "/locaties/12"


def test_trailing_slash_does_not_redirect_on_the_api_or_off_the_site(client):
    body = assert_problem(client.get("/api/v1/regions/", headers=HTML), 404)
    assert body["title"] == "Niet gevonden"
    assert_page(client.get("/bestaat-niet/", headers=HTML), 404, "Deze pagina bestaat niet (meer)")
    offsite = client.get("//beschikbaarheid/", headers=HTML)
    assert not offsite.headers.get("Location", "").startswith("//")
