"""Lists that can grow come in pages (NLGov): `page`, `pageSize` and HAL `_links` that keep
the filters; following `next` visits every item once."""

from __future__ import annotations

from datetime import timedelta

from tests.care_request_helpers import body, create


def _walk(client, url, headers):
    """Every item, following _links.next; and the pages' links as seen."""
    items, pages = [], []
    while url:
        response = client.get(url, headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)
        page = response.get_json()
        assert set(page) == {"_links", "page", "pageSize", "items"}
        pages.append(page)
        items.extend(page["items"])
        url = page["_links"].get("next", {}).get("href")
    return items, pages


def test_the_request_worklist_pages_with_links_that_keep_the_filter(client, db, make, today):
    region = make.region()
    municipality = make.municipality(region=region)
    made = [
        create(
            db.session,
            body(municipality, today + timedelta(days=20 + i), today + timedelta(days=23 + i)),
        )
        for i in range(5)
    ]
    references = {r.reference for r in made}
    headers = make.token("coordinator", regions=[region])
    items, pages = _walk(client, "/api/v1/requests?status=open&pageSize=2", headers)
    assert [len(p["items"]) for p in pages] == [2, 2, 1]
    assert {i["reference"] for i in items} == references and len(items) == 5
    assert "prev" not in pages[0]["_links"] and pages[1]["_links"]["prev"]["href"].endswith(
        "page=1&pageSize=2"
    )
    assert all("status=open" in p["_links"]["self"]["href"] for p in pages)
    assert pages[2]["page"] == 3 and pages[2]["pageSize"] == 2
    beyond = client.get("/api/v1/requests?page=9&pageSize=2", headers=headers).get_json()
    assert beyond["items"] == [] and "next" not in beyond["_links"]
    too_big = client.get("/api/v1/requests?pageSize=101", headers=headers)
    assert too_big.status_code == 422
    assert too_big.get_json()["invalidParams"][0]["name"] == "pageSize"


def test_the_access_log_pages_oldest_first(client, db, make, today):
    region = make.region()
    municipality = make.municipality(region=region)
    request = create(
        db.session, body(municipality, today + timedelta(days=20), today + timedelta(days=23))
    )
    coordinator = make.token("coordinator", regions=[region])
    for _ in range(4):
        assert (
            client.get(f"/api/v1/requests/{request.reference}", headers=coordinator).status_code
            == 200
        )
    url = f"/api/v1/access-log?clientReference={request.reference}&pageSize=2"
    items, pages = _walk(client, url, make.token("admin"))
    assert len(pages) >= 3 and all(len(p["items"]) <= 2 for p in pages)
    moments = [i["at"] for i in items]
    assert moments == sorted(moments)
    assert [i["action"] for i in items].count("care_request.read") == 4


def test_the_capacity_log_of_a_unit_pages_newest_first(client, make, today):
    provider = make.provider()
    unit = make.unit(location=make.location(provider=provider), capacity=2)
    headers = make.token("provider", provider)
    for capacity in (3, 4, 5):
        response = client.put(
            f"/api/v1/units/{unit.id}/capacity",
            json={
                "ranges": [
                    {
                        "from": (today + timedelta(days=5)).isoformat(),
                        "to": (today + timedelta(days=7)).isoformat(),
                        "capacity": capacity,
                    }
                ]
            },
            headers=headers,
        )
        assert response.status_code == 200, response.get_data(as_text=True)
    items, pages = _walk(client, f"/api/v1/units/{unit.id}/changes?pageSize=2", headers)
    assert [len(p["items"]) for p in pages] == [2, 1]
    assert [i["capacity"] for i in items] == [5, 4, 3]
