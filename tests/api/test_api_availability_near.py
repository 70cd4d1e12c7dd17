"""GET /api/v1/availability?near=…: the places that can take a client from their gemeente,
nearest first, each with distance_km; the filters of care level and funding route."""

from __future__ import annotations

from datetime import timedelta

from tests.near_helpers import delft_and_around


def _get(client, today, query):
    night_from, night_to = today + timedelta(days=3), today + timedelta(days=5)
    return client.get(f"/api/v1/availability?from={night_from}&to={night_to}&{query}")


def test_near_the_clients_gemeente_answers_her_region_and_neighbours_nearest_first(
    client, make, today
):
    around = delft_and_around(make)
    response = _get(client, today, "near=GM0503&targetGroup=dementie&wheelchair=true")
    assert response.status_code == 200
    locations = response.get_json()["locations"]
    names = [loc["name"] for loc in locations]
    # Delft itself, Westland (H5, ~10 km), Leiden (another region but ~20 km); not the
    # Veluwe (~94 km) and not the place without wheelchair access.
    assert names == ["De Delftse Hof", "Het Westduin", "Rijnzicht"]
    distances = [loc["distance_km"] for loc in locations]
    assert distances == sorted(distances)
    assert distances[0] < 3
    assert 8 < distances[1] < 13
    assert 16 < distances[2] < 22
    assert locations[0]["id"] == around.delft.id


def test_the_old_location_gemeente_filter_still_means_the_location(client, make, today):
    delft_and_around(make)
    response = _get(client, today, "municipality=GM0503&target_group=dementie")
    assert response.status_code == 200
    locations = response.get_json()["locations"]
    assert [loc["name"] for loc in locations] == ["De Delftse Hof"]
    assert "distance_km" not in locations[0]


def test_care_level_and_funding_route_filter_the_units(client, make, today):
    around = delft_and_around(make)
    make.unit(
        location=around.westland,
        target_groups=["ouderen"],
        care_level="basic",
        wheelchair=True,
        funding_routes=["wlz"],
    )
    body = _get(client, today, "near=GM0503&funding=wlz").get_json()
    assert [loc["name"] for loc in body["locations"]] == ["Het Westduin"]
    assert [u["funding_routes"] for u in body["locations"][0]["units"]] == [["wlz"]]
    # 24 uur toezicht is only in the dementia units: the basic wlz unit does not take it.
    body = _get(client, today, "near=GM0503&funding=wlz&careLevel=supervision_24h").get_json()
    assert body["locations"] == []
    body = _get(client, today, "region=H5&careLevel=extra_care").get_json()
    assert sorted(loc["name"] for loc in body["locations"]) == [
        "De Delftse Hof",
        "Het Westduin",
        "Trapjeshuis",
    ]


def test_an_unknown_or_malformed_gemeente_is_refused_in_dutch(client, make, today):
    delft_and_around(make)
    unknown = _get(client, today, "near=GM0001")
    assert unknown.status_code == 422
    assert unknown.get_json()["invalidParams"][0]["name"] == "near"
    malformed = _get(client, today, "near=Delft")
    assert malformed.status_code in (400, 422)
    assert "CBS-code" in malformed.get_data(as_text=True)
