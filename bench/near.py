"""The search near a client's home and the open feed, next to the region search, in-process.

    python -m bench.near --database-url URL [--requests 300] [--region R001]

On a generated dataset (`bench.generate`), through Flask's test client in this process (no
server, no network: the figures compare the three reads with each other, not with the
gunicorn figures of `bench.availability`), interleaved request by request:

(a) `GET /api/v1/availability?from=..&to=..(14 nights)&region=R001&targetGroup=dementie`;
(b) the same window and target group with `near=` a gemeente of that region (the region plus
    every gemeente whose centre lies within RESPIJT_NEAR_MAX_KM, nearest first);
(c) `GET /api/v1/open-data/free-beds?region=R001` (28 nights, every target group), added up
    anew each time (the API's minute cache emptied first), and (d) the same from the cache.

Prints p50/p95 in ms and the number of locations (a, b) or rows (c) answered.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from bench.common import add_percentiles, fmt_ms
from respijt import clock, create_app
from respijt.api import open_data as open_data_api
from respijt.extensions import db
from respijt.models import Municipality, Region


def run(database_url: str, requests: int, region: str) -> dict[str, Any]:
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": database_url, "RESPIJT_RATELIMIT": False, "TESTING": True}
    )
    with app.app_context():
        home = db.session.scalar(
            select(Municipality.code)
            .join(Region, Region.id == Municipality.region_id)
            .where(Region.code == region)
            .order_by(Municipality.code)
        )
        db.session.rollback()
    client = app.test_client()
    night_from = clock.today() + timedelta(days=7)
    window = f"from={night_from}&to={night_from + timedelta(days=14)}&targetGroup=dementie"
    paths = {
        "region": f"/api/v1/availability?{window}&region={region}",
        "near": f"/api/v1/availability?{window}&near={home}",
        "feed": f"/api/v1/open-data/free-beds?region={region}",
        "feed_cached": f"/api/v1/open-data/free-beds?region={region}",
    }
    sizes: dict[str, int] = {}
    for name, path in paths.items():  # warm-up, and the size of each answer
        body = client.get(path).get_json()
        sizes[name] = len(body["rows"] if name.startswith("feed") else body["locations"])
    timings: dict[str, list[float]] = {name: [] for name in paths}
    for _ in range(requests):
        for name, path in paths.items():
            if name == "feed":
                open_data_api.clear_cache()
            start = time.perf_counter()
            response = client.get(path)
            timings[name].append(time.perf_counter() - start)
            assert response.status_code == 200, (path, response.status_code)
    result: dict[str, Any] = {"home": home, "sizes": sizes, "requests": requests}
    add_percentiles(result, timings)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.near")
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--region", default="R001")
    args = parser.parse_args(argv)
    result = run(args.database_url, args.requests, args.region)
    for name in ("region", "near", "feed", "feed_cached"):
        print(
            f"{name:>11}: p50 {fmt_ms(result[name + '_p50'])} ms, "
            f"p95 {fmt_ms(result[name + '_p95'])} ms, {result['sizes'][name]} answered"
        )
    print(json.dumps({k: v for k, v in result.items() if k != "sizes"}, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
