"""GET /api/v1/open-data/free-beds: free beds per gemeente, target group and night, as JSON and
CSV (docs/exports.md), with an ETag and 304; nothing about clients or reservations."""

from __future__ import annotations

from datetime import timedelta

import pytest

from respijt import clock
from respijt.api import open_data as open_data_api
from respijt.database import run_in_transaction
from respijt.people.caller import Caller
from respijt.reservations import holds
from tests.care_request_helpers import freeze_start
from tests.near_helpers import delft_and_around

MELDPUNT = Caller("token:1", "meldpunt", None)


@pytest.fixture(autouse=True)
def fresh_feed():
    """Each test adds up its own feed (the API keeps an answer for a minute)."""
    open_data_api.clear_cache()
    yield
    open_data_api.clear_cache()


def _hold(db, unit, arrival, departure):
    def work():
        return holds.place_hold(
            db.session,
            unit_id=unit.id,
            arrival=arrival,
            departure=departure,
            caller=MELDPUNT,
            now=clock.now(),
            today=clock.today(),
            hold_minutes=15,
            provider_confirm_hours=24,
        )

    return run_in_transaction(db.session, work)


def test_the_feed_counts_free_beds_per_gemeente_group_and_night(client, make, db):
    freeze_start()
    around = delft_and_around(make)
    unit = around.delft.units[0]  # capacity 2, groups dementie and ouderen
    today = clock.today()
    _hold(db, unit, today + timedelta(days=1), today + timedelta(days=2))
    response = client.get("/api/v1/open-data/free-beds?municipality=GM0503")
    assert response.status_code == 200
    body = response.get_json()
    assert body["from"] == today.isoformat()
    assert body["to"] == (today + timedelta(days=28)).isoformat()
    rows = body["rows"]
    assert {r["municipalityCode"] for r in rows} == {"GM0503"}
    assert {r["targetGroup"] for r in rows} == {"dementie", "ouderen"}
    assert len(rows) == 2 * 28
    dementia = [r for r in rows if r["targetGroup"] == "dementie"]
    assert [r["freeBeds"] for r in dementia[:3]] == [2, 1, 2]
    assert dementia[0] == {
        "municipalityCode": "GM0503",
        "municipalityName": "Delft",
        "targetGroup": "dementie",
        "night": today.isoformat(),
        "freeBeds": 2,
        "units": 1,
    }
    everything = client.get("/api/v1/open-data/free-beds").get_json()["rows"]
    assert {r["municipalityCode"] for r in everything} == {
        "GM0503",
        "GM1783",
        "GM0603",
        "GM0546",
        "GM0243",
    }


def test_the_feed_is_cacheable_with_an_etag(client, make):
    freeze_start()
    delft_and_around(make)
    first = client.get("/api/v1/open-data/free-beds?region=H5")
    etag = first.headers["ETag"]
    assert "public" in first.headers["Cache-Control"]
    again = client.get("/api/v1/open-data/free-beds?region=H5", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""
    other = client.get("/api/v1/open-data/free-beds?region=LEI", headers={"If-None-Match": etag})
    assert other.status_code == 200 and other.headers["ETag"] != etag
    assert "Set-Cookie" not in first.headers


def test_the_feed_as_csv_has_a_bom_semicolons_and_dutch_headers(client, make):
    freeze_start()
    delft_and_around(make)
    response = client.get("/api/v1/open-data/free-beds?municipality=GM0546&format=csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    raw = response.get_data()
    assert raw.startswith(b"\xef\xbb\xbf")
    lines = raw.decode("utf-8-sig").splitlines()
    assert lines[0] == "Gemeentecode;Gemeente;Doelgroepcode;Doelgroep;Nacht;Vrije bedden;Eenheden"
    assert lines[1] == f"GM0546;Leiden;dementie;Mensen met dementie;{clock.today()};2;1"
    assert len(lines) == 1 + 2 * 28
    assert "ETag" in response.headers


def test_bad_filters_are_refused_in_dutch(client):
    response = client.get("/api/v1/open-data/free-beds?municipality=Delft")
    assert response.status_code in (400, 422)
    assert "CBS-code" in response.get_data(as_text=True)


def test_a_nul_in_a_filter_is_refused_not_a_server_error(client):
    for query in ("region=H5%00", "municipality=GM0503%00", "format=csv%00"):
        response = client.get(f"/api/v1/open-data/free-beds?{query}")
        assert 400 <= response.status_code < 500, query
    response = client.get("/api/v1/availability?from=2027-01-01&to=2027-01-02&near=GM0503%00")
    assert 400 <= response.status_code < 500


def test_an_answer_is_kept_a_minute_per_filter(client, make, db, monkeypatch):
    freeze_start()
    around = delft_and_around(make)
    path = "/api/v1/open-data/free-beds?municipality=GM0503"
    first = client.get(path).get_json()["rows"][0]["freeBeds"]
    today = clock.today()
    _hold(db, around.delft.units[0], today, today + timedelta(days=1))
    assert client.get(path).get_json()["rows"][0]["freeBeds"] == first  # kept
    # Another filter is added up on its own; once the minute is over, the hold shows.
    assert client.get(path + "&format=csv").status_code == 200
    monkeypatch.setattr(open_data_api, "CACHE_SECONDS", 0)
    open_data_api.clear_cache()
    assert client.get(path).get_json()["rows"][0]["freeBeds"] == first - 1
