"""Another origin may read the public reads (availability, the open feed, openapi.json) and may
not write anything: no CORS headers on other routes, preflights for writes refused."""

from __future__ import annotations

from datetime import timedelta

import pytest

from respijt import clock
from respijt.api import open_data as open_data_api

OTHER = "https://www.gemeente.example"


@pytest.fixture(autouse=True)
def fresh_feed():
    """Each test adds up its own feed (the API keeps an answer for a minute)."""
    open_data_api.clear_cache()
    yield
    open_data_api.clear_cache()


def _get(client, path):
    return client.get(path, headers={"Origin": OTHER})


def test_another_origin_may_read_the_public_reads(client, make):
    make.unit()
    night = clock.today() + timedelta(days=1)
    for path in (
        f"/api/v1/availability?from={night}&to={night + timedelta(days=1)}",
        "/api/v1/open-data/free-beds",
        "/api/v1/openapi.json",
    ):
        response = _get(client, path)
        assert response.status_code == 200, path
        assert response.headers["Access-Control-Allow-Origin"] == "*", path
        assert "Access-Control-Allow-Credentials" not in response.headers
    feed = _get(client, "/api/v1/open-data/free-beds")
    assert "ETag" in feed.headers["Access-Control-Expose-Headers"]


def test_a_preflight_for_reading_is_answered_with_get_only(client):
    response = client.options(
        "/api/v1/availability",
        headers={"Origin": OTHER, "Access-Control-Request-Method": "GET"},
    )
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    allowed = {m.strip() for m in response.headers["Access-Control-Allow-Methods"].split(",")}
    assert allowed == {"GET", "HEAD"}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/v1/requests"),
        ("POST", "/api/v1/reservations"),
        ("PUT", "/api/v1/units/1/capacity"),
        ("PATCH", "/api/v1/locations/1"),
        ("POST", "/api/v1/locations"),
        ("POST", "/aanvragen"),
    ],
)
def test_no_write_is_open_to_another_origin(client, method, path):
    preflight = client.options(
        path,
        headers={
            "Origin": OTHER,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "content-type, authorization",
        },
    )
    assert "Access-Control-Allow-Origin" not in preflight.headers
    assert "Access-Control-Allow-Methods" not in preflight.headers
    response = client.open(path, method=method, json={}, headers={"Origin": OTHER})
    assert "Access-Control-Allow-Origin" not in response.headers


def test_a_write_preflight_on_a_readable_path_is_refused(client):
    response = client.options(
        "/api/v1/availability",
        headers={
            "Origin": OTHER,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert "POST" not in response.headers.get("Access-Control-Allow-Methods", "")
    assert "content-type" not in response.headers.get("Access-Control-Allow-Headers", "").lower()
    # And the path has no write to reach.
    assert client.post("/api/v1/availability", headers={"Origin": OTHER}).status_code == 405


def test_other_reads_stay_closed_to_other_origins(client, make):
    make.unit()
    for path in ("/api/v1/regions", "/api/v1/locations", "/beschikbaarheid"):
        response = _get(client, path)
        assert response.status_code == 200, path
        assert "Access-Control-Allow-Origin" not in response.headers, path
