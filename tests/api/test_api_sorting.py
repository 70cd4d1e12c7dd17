"""`sort` on the API's lists (NLGov): comma-separated fields, `-` for descending, an allow-list
per list with a Dutch refusal for any other field; and the locations list in pages."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.accounts_support import hold
from tests.api.test_api_registry import assert_problem
from tests.care_request_helpers import body, create


def _items(response):
    assert response.status_code == 200, response.get_data(as_text=True)
    page = response.get_json()
    assert set(page) == {"_links", "page", "pageSize", "items"}
    return page["items"]


def _refused(response, field):
    problem = assert_problem(response, 422)
    reasons = [p for p in problem["invalidParams"] if p["name"] == "sort"]
    assert reasons and f"Op '{field}' kunt u niet sorteren" in reasons[0]["reason"]
    assert "Kies uit:" in reasons[0]["reason"]


def test_reservations_follow_sort_both_ways(client, make, today):
    provider = make.provider()
    unit = make.unit(location=make.location(provider=provider), capacity=5)
    verwijzer = make.token("verwijzer")
    # Held in an order that is neither arrival nor reverse arrival.
    days = [30, 10, 50, 20]
    codes = {
        d: hold(client, verwijzer, unit, today + timedelta(days=d))["short_code"] for d in days
    }
    headers = make.token("provider", provider)

    def codes_for(query):
        return [
            i["short_code"]
            for i in _items(client.get(f"/api/v1/reservations?{query}", headers=headers))
        ]

    by_arrival = [codes[d] for d in sorted(days)]
    assert codes_for("") == by_arrival  # the default order is unchanged
    assert codes_for("sort=arrival") == by_arrival
    assert codes_for("sort=-arrival") == by_arrival[::-1]
    assert codes_for("sort=-departure,createdAt") == by_arrival[::-1]
    assert codes_for("sort=createdAt") == [codes[d] for d in days]
    assert codes_for("sort=-createdAt") == [codes[d] for d in days][::-1]
    # The page links keep the order.
    first = client.get("/api/v1/reservations?sort=-arrival&pageSize=2", headers=headers)
    assert "sort=-arrival" in first.get_json()["_links"]["next"]["href"]
    _refused(client.get("/api/v1/reservations?sort=client", headers=headers), "client")
    _refused(client.get("/api/v1/reservations?sort=arrival,-bsn", headers=headers), "bsn")


def test_requests_follow_sort_both_ways(client, db, make, today):
    region = make.region()
    municipality = make.municipality(region=region)
    days = [40, 20, 60, 30]
    made = {
        d: create(
            db.session, body(municipality, today + timedelta(days=d), today + timedelta(days=d + 3))
        ).reference
        for d in days
    }
    headers = make.token("coordinator", regions=[region])

    def refs(query):
        url = f"/api/v1/requests?status=open&{query}"
        return [i["reference"] for i in _items(client.get(url, headers=headers))]

    by_arrival = [made[d] for d in sorted(days)]
    assert refs("sort=arrival") == by_arrival
    assert refs("sort=-arrival") == by_arrival[::-1]
    assert refs("sort=-departure") == by_arrival[::-1]
    assert refs("") == [made[d] for d in days]  # default: oldest first
    assert refs("sort=-createdAt") == [made[d] for d in days][::-1]
    _refused(client.get("/api/v1/requests?sort=name", headers=headers), "name")
    _refused(client.get("/api/v1/requests?sort=-", headers=headers), "(leeg)")


def test_locations_are_paged_and_follow_sort_both_ways(client, make):
    municipality = make.municipality()
    names = ["Het Anker", "de Linde", "Zonnehof", "Berkenhof"]
    for name in names:
        make.unit(location=make.location(municipality=municipality, name=name))
    query = f"/api/v1/locations?municipality={municipality.code}"

    def listed(extra):
        return [loc["name"] for loc in _items(client.get(f"{query}&{extra}"))]

    by_name = sorted(names, key=str.casefold)
    assert listed("sort=name") == by_name
    assert listed("sort=-name") == by_name[::-1]
    assert sorted(listed("")) == sorted(names)
    page = client.get(f"{query}&sort=name&pageSize=3").get_json()
    assert [loc["name"] for loc in page["items"]] == by_name[:3]
    assert page["page"] == 1 and page["pageSize"] == 3
    second = client.get(page["_links"]["next"]["href"]).get_json()
    assert [loc["name"] for loc in second["items"]] == by_name[3:]
    assert "next" not in second["_links"] and "prev" in second["_links"]
    _refused(client.get(f"{query}&sort=capacity"), "capacity")


@pytest.mark.parametrize("query", ["pageSize=0", "pageSize=101", "page=0"])
def test_locations_paging_bounds_are_those_of_the_other_lists(client, query):
    assert_problem(client.get(f"/api/v1/locations?{query}"), 422)


def test_the_openapi_document_describes_sort_per_list(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    for path, field in (
        ("/reservations", "arrival"),
        ("/requests", "createdAt"),
        ("/locations", "name"),
    ):
        params = {p["name"]: p for p in spec["paths"][path]["get"]["parameters"]}
        assert field in params["sort"]["description"]
        assert {"page", "pageSize"} <= set(params)


def test_a_strange_sort_field_is_not_echoed(client):
    for value, raw in (("%07x", "\x07x"), ("a" * 300, "a" * 300)):
        response = client.get(f"/api/v1/locations?sort={value}")
        problem = assert_problem(response, 422)
        reasons = [p["reason"] for p in problem["invalidParams"]]
        assert reasons and all(raw not in reason for reason in reasons), reasons
