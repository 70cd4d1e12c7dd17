"""NLGov input rules of the API: Dutch validation messages straight from the schemas (no
English, no translation map), 415 for a body that is not JSON, camelCase query keys with the
old snake_case keys as deprecated aliases."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from marshmallow import fields, validate

from respijt.api import dutch
from respijt.api.schemas import StrictSchema

PROBLEM = "application/problem+json"
ENGLISH = re.compile(
    r"\b(Must|Missing|Not a valid|Unknown field|Invalid|Shorter|Longer|Length must|Field may)\b"
)


def _params(response, status=422):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    body = response.get_json(force=True)
    assert body["title"] and body["detail"]
    return body.get("invalidParams", [])


@pytest.mark.parametrize(
    "path, name, words",
    [
        ("/api/v1/messages?limit=0", "limit", "minstens 1"),
        ("/api/v1/messages?limit=abc", "limit", "Geen geheel getal"),
        ("/api/v1/messages?status=kwijt", "status", "Kies uit"),
        ("/api/v1/messages?kleur=rood", "kleur", "Onbekend veld"),
        ("/api/v1/availability?to=2026-12-10", "from", "verplicht"),
        ("/api/v1/availability?from=morgen&to=2026-12-10", "from", "Geen geldige datum"),
        ("/api/v1/availability?from=2026-12-01&to=2026-12-03&wheelchair=ja2", "wheelchair", "true"),
    ],
)
def test_query_errors_are_dutch_from_the_schema(client, make, path, name, words):
    headers = make.token("admin")
    params = _params(client.get(path, headers=headers))
    reasons = {p["name"]: p["reason"] for p in params}
    assert name in reasons, params
    assert words in reasons[name]
    assert not ENGLISH.search(str(params)), params


def test_body_errors_are_dutch_from_the_schema(client, make):
    provider = make.provider()
    unit = make.unit(location=make.location(provider=provider))
    headers = make.token("provider", provider)
    response = client.patch(
        f"/api/v1/units/{unit.id}",
        json={"name": "", "min_nights": 0, "target_groups": ["katten"], "wheelchair": "soms"},
        headers=headers,
    )
    params = _params(response)
    reasons = {p["name"]: p for p in params}
    assert reasons["name"]["reason"].startswith("Lengte van 1")
    assert "minstens 1" in reasons["min_nights"]["reason"]
    assert reasons["target_groups[0]"]["code"] == "choice"
    assert reasons["wheelchair"]["reason"] == "Gebruik true of false."
    assert not ENGLISH.search(str(params)), params
    missing = _params(client.post("/api/v1/units", json={}, headers=headers))
    assert {p["code"] for p in missing} == {"required"}
    assert not ENGLISH.search(str(missing))


def test_a_schema_with_an_english_validator_is_refused_at_start():
    with pytest.raises(TypeError, match="Dutch error"):

        class Careless(StrictSchema):
            size = fields.String(validate=validate.Length(max=3))

        Careless()

    class Careful(StrictSchema):
        size = fields.String(validate=validate.Length(max=3, error="Hoogstens 3 tekens."))
        kind = fields.String(validate=dutch.OneOf(["a", "b"]))

    assert Careful().load({"size": "ab", "kind": "a"}) == {"size": "ab", "kind": "a"}


def test_a_body_that_is_not_json_is_415(client, make):
    provider = make.provider()
    unit = make.unit(location=make.location(provider=provider))
    headers = make.token("provider", provider)
    response = client.patch(
        f"/api/v1/units/{unit.id}",
        data="name=Nieuw",
        headers={**headers, "Content-Type": "text/plain"},
    )
    _params(response, 415)
    assert unit.name != "Nieuw"
    # An action with an optional body may still be sent without one.
    empty = client.post(f"/api/v1/units/{unit.id}/retire", headers=headers)
    assert empty.status_code == 200, empty.get_data(as_text=True)


def test_camel_case_query_keys_and_their_deprecated_aliases(client, make, today):
    unit = make.unit(capacity=2, target_groups=["dementie"])
    other = make.unit(capacity=2, target_groups=["ggz"])
    start, end = today + timedelta(days=3), today + timedelta(days=5)
    base = f"/api/v1/availability?from={start}&to={end}"

    def unit_ids(query: str) -> set[int]:
        response = client.get(f"{base}&{query}")
        assert response.status_code == 200, response.get_data(as_text=True)
        return {u["id"] for loc in response.get_json()["locations"] for u in loc["units"]}

    assert unit.id in unit_ids("targetGroup=dementie")
    assert other.id not in unit_ids("targetGroup=dementie")
    assert unit_ids("target_group=dementie") == unit_ids("targetGroup=dementie")
    listed = client.get("/api/v1/locations?targetGroup=ggz").get_json()["items"]
    assert {u["id"] for loc in listed for u in loc["units"]} == {other.id}
    spec = client.get("/api/v1/openapi.json").get_json()
    names = [p["name"] for p in spec["paths"]["/availability"]["get"]["parameters"]]
    assert "targetGroup" in names and "target_group" not in names


def test_the_access_log_takes_client_reference_in_both_spellings(client, make):
    headers = make.token("admin")
    for key in ("clientReference", "client_reference"):
        response = client.get(f"/api/v1/access-log?{key}=reservation:1", headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)
    params = _params(client.get("/api/v1/access-log", headers=headers))
    assert params == [{"name": "clientReference", "code": "required", "reason": dutch.REQUIRED}]
