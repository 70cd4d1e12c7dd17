"""Hostile input answers 4xx and changes nothing: ids beyond the column range, NUL bytes, lone
surrogates, JSON nested 10,000 deep, years 0001 and 9999, fractional ids, ten-year periods.

Each kind is a table of calls across the endpoints; every call must answer a 4xx Dutch
problem+json (the API) or a Dutch page (the web), never a 500, and leave every table as it was.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from flask import Flask

from tests.accounts_support import csrf_token
from tests.api.api_dataset import World, build_world, state

PROBLEM = "application/problem+json"
BIG32, BIG64 = 2**31, 2**63
NESTED = "[" * 10_000 + "]" * 10_000


@pytest.fixture()
def world(make: Any) -> World:
    return build_world(make)


def fill(value: Any, w: World) -> Any:
    """Put the dataset's real ids and codes into a case's path or body."""
    names = {
        "unit": w.unit.id,
        "location": w.location.id,
        "provider": w.provider.id,
        "reservation": w.reservation.id,
        "reference": w.care_request.reference,
        "region": w.region.code,
        "municipality": w.municipality.code,
    }
    if isinstance(value, str):
        return value.format(**names)
    if isinstance(value, dict):
        return {k: fill(v, w) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, w) for v in value]
    return value


def call_api(client: Any, w: World, role: str | None, method: str, path: str, **kw: Any) -> Any:
    headers = dict(w.tokens[role]) if role else {}
    if "json" in kw:
        kw["json"] = fill(kw["json"], w)
    if "data" in kw:
        kw["headers"] = {**headers, "Content-Type": "application/json"}
    else:
        kw["headers"] = headers
    return client.open(fill(path, w), method=method, **kw)


def assert_refused(response: Any, before: dict[str, Any], *, field: str | None = None) -> dict:
    text = response.get_data(as_text=True)
    assert 400 <= response.status_code < 500, f"{response.status_code}: {text[:500]}"
    assert response.mimetype == PROBLEM, text[:500]
    body = response.get_json(force=True)
    assert body["status"] == response.status_code and body["title"] and body["detail"]
    assert not re.search(r"\b(Not a valid|Missing data|Must be|Invalid)\b", body["detail"])
    if field is not None:
        names = [p["name"] for p in body.get("invalidParams", [])]
        assert any(field in name for name in names), body
    assert state() == before, "a refused request changed the database"
    return body


HOLD = {"unit_id": "{unit}", "arrival": "2027-03-20", "departure": "2027-03-22"}
NEW_REQUEST = {
    "requester": "mantelzorger",
    "client": {"first_name": "Jan", "birth_year": 1941},
    "municipality": "{municipality}",
    "target_group": "ouderen",
    "arrival": "2027-03-20",
    "departure": "2027-03-23",
    "reason": "vakantie",
    "contact": {"name": "Marja", "mobile": "06 12345678"},
    "consent": True,
}
OVERRIDE = {
    "region": "{region}",
    "provider_id": "{provider}",
    "starts_at": "2027-03-10T08:00:00Z",
    "ends_at": "2027-03-11T08:00:00Z",
}


def _with(base: dict[str, Any], **over: Any) -> dict[str, Any]:
    return {**base, **over}


# --- ids beyond the column range --------------------------------------------------------------


def _id_paths(app: Flask) -> list[tuple[str, str]]:
    """Every API route with an integer id in its path, with each id set to {big}."""
    cases = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or "<int:" not in rule.rule:
            continue
        path = re.sub(r"<int:\w+>", "{{big}}", rule.rule).replace("<reference>", "{{reference}}")
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            cases.append((method, path))
    return cases


@pytest.mark.parametrize("big", [BIG32, BIG64, 10**30])
def test_ids_beyond_the_column_range_in_paths_answer_404(app, client, world, big):
    before = state()
    cases = _id_paths(app)
    assert len(cases) > 25
    for method, path in cases:
        kw = {"json": {}} if method in ("POST", "PUT", "PATCH") else {}
        response = call_api(client, world, "admin", method, path.replace("{{big}}", str(big)), **kw)
        # 405 where another method's rule matched the digits before the converter refused them.
        assert response.status_code in (404, 405), (method, path, response.get_data(as_text=True))
        assert_refused(response, before)


BODY_IDS = [
    ("verwijzer", "POST", "/api/v1/reservations", _with(HOLD, unit_id="BIG"), "unit_id"),
    (
        "admin",
        "POST",
        "/api/v1/units",
        {"location_id": "BIG", "name": "X", "target_groups": ["ouderen"]},
        "location_id",
    ),
    (
        "admin",
        "POST",
        "/api/v1/locations",
        {
            "provider_id": "BIG",
            "name": "X",
            "address": "Straat 1",
            "postcode": "2611AB",
            "municipality": "{municipality}",
        },
        "provider_id",
    ),
    ("coordinator", "POST", "/api/v1/rota/overrides", _with(OVERRIDE, provider_id="BIG"), None),
    ("meldpunt", "POST", "/api/v1/requests/{reference}/preference", {"unit_id": "BIG"}, None),
    ("admin", "POST", "/api/v1/claims/exports", {"month": "2027-03", "provider_id": "BIG"}, None),
    (
        "provider",
        "PUT",
        "/api/v1/units/{unit}/capacity",
        {"ranges": [{"from": "2027-03-20", "to": "2027-03-21", "capacity": "BIG"}]},
        "capacity",
    ),
    (
        None,
        "POST",
        "/api/v1/requests",
        _with(NEW_REQUEST, flexibility_days="BIG"),
        "flexibility_days",
    ),
]


@pytest.mark.parametrize("big", [BIG32, BIG64, 10**4000])
@pytest.mark.parametrize(("role", "method", "path", "body", "field"), BODY_IDS)
def test_numbers_beyond_the_column_range_in_bodies_answer_422(
    client, world, big, role, method, path, body, field
):
    before = state()
    data = fill(body, world)
    text = json.dumps(data).replace('"BIG"', str(big))
    response = call_api(client, world, role, method, path, data=text)
    assert_refused(response, before, field=field if big != 10**4000 else None)


@pytest.mark.parametrize("big", [BIG32, BIG64])
@pytest.mark.parametrize(
    ("role", "path"),
    [
        ("coordinator", "/api/v1/reports/leegstand?month=2027-03&provider={big}"),
        ("coordinator", "/api/v1/reports/kpis?from=2027-01-01&to=2027-02-01&provider={big}"),
        ("admin", "/api/v1/claims?month=2027-03&provider={big}"),
    ],
)
def test_numbers_beyond_the_column_range_in_query_strings_answer_422(
    client, world, big, role, path
):
    before = state()
    response = call_api(client, world, role, "GET", path.replace("{big}", str(big)))
    assert_refused(response, before, field="provider")


# --- NUL bytes and lone surrogates ------------------------------------------------------------

URL_NUL_CASES = [
    (None, "/api/v1/availability?from=2027-03-20&to=2027-03-22&region=H5%00"),
    (None, "/api/v1/locations?municipality=GM%00"),
    ("meldpunt", "/api/v1/requests/R-%00AB"),
    ("coordinator", "/api/v1/rota/shifts?region={region}%00&from=2027-03-01&to=2027-03-08"),
]


@pytest.mark.parametrize(("role", "path"), URL_NUL_CASES)
def test_nul_bytes_in_urls_answer_422(client, world, role, path):
    """A URL carries UTF-8, which has no surrogates: NUL is the character that gets through."""
    before = state()
    response = call_api(client, world, role, "GET", path)
    assert_refused(response, before)
    assert response.status_code == 422


BODY_TEXT_CASES = [
    (None, "POST", "/api/v1/requests", {"client": {"first_name": "Jan?", "birth_year": 1941}}),
    ("admin", "POST", "/api/v1/providers", {"name": "Zorg?"}),
    ("admin", "PATCH", "/api/v1/locations/{location}", {"name": "Huis?"}),
    ("meldpunt", "POST", "/api/v1/rota/handover-notes", {"region": "{region}", "body": "x?"}),
    ("verwijzer", "POST", "/api/v1/reservations", _with(HOLD, choice_reason="reden?")),
    ("admin", "POST", "/api/v1/providers", {"name": "Zorg", "staff_mobiles": ["06?"]}),
]


@pytest.mark.parametrize("bad", ["\x00", "\ud800", "\udfff"])
@pytest.mark.parametrize(("role", "method", "path", "over"), BODY_TEXT_CASES)
def test_nul_bytes_and_lone_surrogates_in_bodies_answer_422(
    client, world, bad, role, method, path, over
):
    before = state()
    body = fill(NEW_REQUEST if path == "/api/v1/requests" else {}, world)
    body.update(fill(over, world))
    # json.dumps writes the bad character as an escape (\u0000, \ud800), as an attacker would.
    text = json.dumps(body).replace("?", json.dumps(bad)[1:-1])
    response = call_api(client, world, role, method, path, data=text)
    field = next(k for k, v in over.items() if "?" in str(v))
    field = "client.first_name" if field == "client" else field
    assert_refused(response, before, field=field)
    assert response.status_code == 422


def test_a_nul_byte_in_a_header_answers_422(client, world):
    before = state()
    headers = {**world.tokens["verwijzer"], "Idempotency-Key": "a\x00b"}
    response = client.post("/api/v1/reservations", json=fill(HOLD, world), headers=headers)
    assert_refused(response, before)


# --- JSON nested 10,000 deep ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "method", "path"),
    [
        (None, "POST", "/api/v1/requests"),
        ("verwijzer", "POST", "/api/v1/reservations"),
        ("admin", "PATCH", "/api/v1/providers/{provider}"),
        ("provider", "PUT", "/api/v1/units/{unit}/capacity"),
    ],
)
@pytest.mark.parametrize("nested", [NESTED, '{"a":' * 10_000 + "1" + "}" * 10_000])
def test_json_nested_ten_thousand_deep_answers_400(client, world, role, method, path, nested):
    before = state()
    response = call_api(client, world, role, method, path, data=nested)
    assert response.status_code == 400
    assert_refused(response, before)


def test_brackets_inside_strings_do_not_count_as_nesting(client, world):
    body = fill(NEW_REQUEST, world)
    body["contact"] = {"name": "[[[[[[[[[[[[[[[[[[[[ {{{{{{{{{{{{{{{{{{", "mobile": "06 12345678"}
    response = client.post("/api/v1/requests", json=body)
    assert response.status_code == 201, response.get_data(as_text=True)


# --- years 0001 and 9999 ----------------------------------------------------------------------

YEAR_CASES = [
    ("verwijzer", "POST", "/api/v1/reservations", _with(HOLD, arrival="0001-01-01")),
    (
        "verwijzer",
        "POST",
        "/api/v1/reservations",
        _with(HOLD, arrival="9999-12-30", departure="9999-12-31"),
    ),
    (
        None,
        "POST",
        "/api/v1/requests",
        _with(NEW_REQUEST, arrival="9999-12-29", departure="9999-12-31"),
    ),
    (
        None,
        "POST",
        "/api/v1/requests",
        _with(NEW_REQUEST, series={"every_days": 14, "until": "9999-12-31"}),
    ),
    (
        "provider",
        "PUT",
        "/api/v1/units/{unit}/capacity",
        {"ranges": [{"from": "9999-12-30", "to": "9999-12-31", "capacity": 1}]},
    ),
    (
        "meldpunt",
        "PUT",
        "/api/v1/reservations/{reservation}/dates",
        {"arrival": "9999-12-29", "departure": "9999-12-31"},
    ),
    (
        "admin",
        "POST",
        "/api/v1/tariffs",
        {
            "municipality": "{municipality}",
            "funding": "wmo",
            "product_code": "X1",
            "price": "100.00",
            "valid_from": "0001-01-01",
        },
    ),
    (
        "coordinator",
        "POST",
        "/api/v1/rota/overrides",
        _with(OVERRIDE, ends_at="9999-12-31T23:59:59Z"),
    ),
    (None, "GET", "/api/v1/availability?from=9999-12-30&to=9999-12-31", None),
    (None, "GET", "/api/v1/availability?from=0001-01-01&to=0001-01-02", None),
    ("coordinator", "GET", "/api/v1/reports/leegstand?month=9999-12", None),
    ("coordinator", "GET", "/api/v1/reports/leegstand?month=0001-01", None),
    ("coordinator", "GET", "/api/v1/reports/kpis?from=0001-01-01&to=0001-02-01", None),
    ("admin", "GET", "/api/v1/claims?month=9999-12", None),
    ("admin", "POST", "/api/v1/claims/exports", {"month": "0001-01"}),
    ("coordinator", "GET", "/api/v1/meldpunt/stats?region={region}&week=0001-01-01", None),
    ("coordinator", "GET", "/api/v1/meldpunt/stats?region={region}&week=9999-12-31", None),
    (
        "coordinator",
        "GET",
        "/api/v1/meldpunt/calls?region={region}&from=0001-01-01&to=0001-01-05",
        None,
    ),
    (
        "coordinator",
        "GET",
        "/api/v1/rota/shifts?region={region}&from=9999-12-01&to=9999-12-31",
        None,
    ),
]


@pytest.mark.parametrize(("role", "method", "path", "body"), YEAR_CASES)
def test_years_0001_and_9999_answer_422(client, world, role, method, path, body):
    before = state()
    kw = {"json": body} if body is not None else {}
    response = call_api(client, world, role, method, path, **kw)
    problem = assert_refused(response, before)
    assert response.status_code == 422, problem


# --- integers are strict; periods are bounded -------------------------------------------------


@pytest.mark.parametrize("unit_id", ["{unit}.5", "{unit}.0", "true", '"{unit}x"'])
def test_a_fractional_or_non_integer_unit_id_books_nothing(client, world, unit_id):
    before = state()
    text = json.dumps(fill(_with(HOLD, unit_id="ID"), world))
    text = text.replace('"ID"', unit_id.format(unit=world.unit.id))
    response = call_api(client, world, "verwijzer", "POST", "/api/v1/reservations", data=text)
    assert_refused(response, before, field="unit_id")


def test_a_rota_override_of_ten_years_is_refused_in_dutch(client, world):
    before = state()
    body = _with(OVERRIDE, ends_at="2037-03-10T08:00:00Z")
    response = call_api(client, world, "coordinator", "POST", "/api/v1/rota/overrides", json=body)
    problem = assert_refused(response, before, field="ends_at")
    assert response.status_code == 422 and "hoogstens 92 dagen" in problem["detail"]


def test_a_call_list_over_two_years_is_refused(client, world):
    before = state()
    path = "/api/v1/meldpunt/calls?region={region}&from=2026-01-01&to=2028-01-01"
    response = call_api(client, world, "coordinator", "GET", path)
    assert_refused(response, before, field="to")


def test_a_rota_override_of_a_month_is_still_accepted(client, world):
    body = _with(OVERRIDE, ends_at="2027-04-10T08:00:00Z")
    response = call_api(client, world, "coordinator", "POST", "/api/v1/rota/overrides", json=body)
    assert response.status_code == 201, response.get_data(as_text=True)


# --- the web pages ----------------------------------------------------------------------------

WEB_QUERIES = [
    "/?gemeente=GM%00",
    "/beschikbaarheid?gemeente=GM%00",
    "/beschikbaarheid?regio=H5%00&van=2027-03-20",
    "/klachten?gemeente=%00",
    f"/locaties/{BIG64}",
    f"/locaties/{BIG32}",
]


@pytest.mark.parametrize("path", WEB_QUERIES)
def test_hostile_query_strings_on_public_pages_answer_a_dutch_4xx_page(client, world, path):
    before = state()
    response = client.get(path)
    assert 400 <= response.status_code < 500, response.status_code
    if response.status_code != 404:  # no route: the shared 404 problem
        assert response.mimetype == "text/html"
        assert "Ongeldige invoer" in response.get_data(as_text=True)
    assert state() == before


@pytest.mark.parametrize(
    "query", ["van=9999-12-31&tot=9999-12-31", "van=0001-01-01", "tot=9999-12-31"]
)
def test_years_0001_and_9999_on_the_search_page_show_a_dutch_message(client, world, query):
    response = client.get(f"/beschikbaarheid?{query}")
    assert response.status_code == 200
    assert "tussen 01-01-2000 en 31-12-2099" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("path", "fields"),
    [
        ("/klachten", {"message": "Slecht\x00", "rating": "1"}),
        ("/link-opnieuw", {"mobile": "06 1234\x005678"}),
        ("/aanvragen", {"first_name": "Jan\x00", "contact_name": "Marja"}),
    ],
)
def test_nul_bytes_in_public_forms_answer_a_dutch_4xx_page(client, world, path, fields):
    before = state()
    response = client.post(path, data={**fields, "csrf_token": csrf_token(client, path)})
    assert 400 <= response.status_code < 500, response.status_code
    assert "Ongeldige invoer" in response.get_data(as_text=True)
    assert state() == before


def test_year_9999_in_the_public_request_form_shows_a_dutch_message(client, world):
    before = state()
    data = {
        "requester": "mantelzorger",
        "first_name": "Jan",
        "birth_year": "1941",
        "municipality": world.municipality.code,
        "target_group": "ouderen",
        "care_level": "basic",
        "arrival": "9999-12-29",
        "departure": "9999-12-31",
        "reason": "vakantie",
        "contact_name": "Marja",
        "contact_mobile": "06 12345678",
        "consent": "y",
        "csrf_token": csrf_token(client, "/aanvragen"),
    }
    response = client.post("/aanvragen", data=data)
    assert response.status_code in (200, 422), response.status_code
    assert "tussen 01-01-2000 en 31-12-2099" in response.get_data(as_text=True)
    assert state() == before
