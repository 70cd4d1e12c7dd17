"""Latency of the public availability search, next to two floors measured in the same run.

    python -m bench.availability --database-url URL [--requests 2000] [--region R001]

Measures p50/p95 of `GET /api/v1/availability?from=..&to=..(14 nights)&region=..&targetGroup=..`
served by gunicorn (2 sync workers, as in production) from this client process, and in the same
loop, interleaved so background load hits all of them alike:

(a) the same search in raw SQL (sqlite3 / psycopg directly on the same database, every row
    fetched, no objects or JSON built);
(b) the same server answering `GET /api/v1/_bench/noop`, a route that does no work;
(c) the same search as the public page `GET /beschikbaarheid?van=..&tot=..&regio=..&doelgroep=..`
    (the whole HTML page a browser without JavaScript gets), reported next to the endpoint.

Goal: endpoint p95 <= 1.5 x (a + b). Also reports the peak RSS (VmHWM) of the gunicorn workers.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bench.common import (
    add_percentiles,
    dialect_of,
    fmt_ms,
    gunicorn,
    raw_connect,
    request,
    search_bench_main,
    sqlalchemy_url,
)
from respijt import clock

UNITS_SQL = """
SELECT u.id, u.name, u.wheelchair, u.requires_provider_confirmation, u.care_level,
       u.min_nights, u.max_nights, u.funding_routes,
       l.id, l.name, l.postcode, l.last_confirmed_at, p.id, p.name, m.code, m.name, r.code, r.name
FROM region r
JOIN municipality m ON m.region_id = r.id
JOIN location l ON l.municipality_id = m.id
JOIN provider p ON p.id = l.provider_id
JOIN unit u ON u.location_id = l.id
WHERE r.code = :region AND u.retired_at IS NULL
  AND EXISTS (SELECT 1 FROM unit_target_group g
              WHERE g.unit_id = u.id AND g.target_group = :target_group)
ORDER BY l.name, l.id, u.id
"""
GROUPS_SQL = "SELECT unit_id, target_group FROM unit_target_group WHERE unit_id IN ({ids})"
NIGHTS_SQL = """
SELECT unit_id, night, capacity - reserved FROM night_inventory
WHERE unit_id IN ({ids}) AND night >= :night_from AND night < :night_to
"""
# Holds past their expiry still count in `reserved` until the sweep: the search adds them back.
OVERDUE_SQL = """
SELECT unit_id, arrival, departure FROM reservation
WHERE unit_id IN ({ids}) AND status IN ('held', 'awaiting_provider') AND expires_at <= :now
  AND arrival < :night_to AND departure > :night_from
"""


class RawSearch:
    """The search in plain SQL on a DB-API connection, every row fetched: the floor (a).

    The same four queries the service needs (units with their location, target groups, nights,
    overdue holds), written by hand with the unit ids inlined; no objects, no JSON.
    """

    def __init__(self, url: str) -> None:
        self.dialect = dialect_of(url)
        self.conn = raw_connect(url)

    def _sql(self, sql: str, ids: str = "") -> str:
        sql = sql.replace("{ids}", ids)
        if self.dialect == "postgresql":
            return re.sub(r":(\w+)", r"%(\1)s", sql)
        return sql

    def params(
        self, region: str, target_group: str, night_from: date, night_to: date, now: datetime
    ) -> dict[str, Any]:
        naive = now.astimezone(UTC).replace(tzinfo=None)
        if self.dialect == "sqlite":
            # SQLAlchemy's storage format for Date and DateTime on SQLite.
            return {
                "region": region,
                "target_group": target_group,
                "night_from": night_from.isoformat(),
                "night_to": night_to.isoformat(),
                "now": naive.strftime("%Y-%m-%d %H:%M:%S.%f"),
            }
        return {
            "region": region,
            "target_group": target_group,
            "night_from": night_from,
            "night_to": night_to,
            "now": naive,
        }

    def run(self, params: dict[str, Any]) -> dict[str, list[Any]]:
        cursor = self.conn.cursor()
        units = cursor.execute(self._sql(UNITS_SQL), params).fetchall()
        result: dict[str, list[Any]] = {"units": units, "groups": [], "nights": [], "holds": []}
        if units:
            ids = ",".join(str(int(row[0])) for row in units)
            result["groups"] = cursor.execute(self._sql(GROUPS_SQL, ids)).fetchall()
            dates = {k: params[k] for k in ("night_from", "night_to")}
            result["nights"] = cursor.execute(self._sql(NIGHTS_SQL, ids), dates).fetchall()
            result["holds"] = cursor.execute(
                self._sql(OVERDUE_SQL, ids), {**dates, "now": params["now"]}
            ).fetchall()
        cursor.close()
        return result

    def close(self) -> None:
        self.conn.close()


def run(
    database_url: str,
    *,
    requests: int = 2000,
    warmup: int = 200,
    region: str = "R001",
    target_group: str = "dementie",
    nights: int = 14,
    offset_days: int = 7,
    workers: int = 2,
    log_path: str | None = None,
    progress: Any = print,
) -> dict[str, Any]:
    url = sqlalchemy_url(database_url)
    night_from = clock.today() + timedelta(days=offset_days)
    night_to = night_from + timedelta(days=nights)
    path = (
        f"/api/v1/availability?from={night_from.isoformat()}&to={night_to.isoformat()}"
        f"&region={region}&targetGroup={target_group}"
    )
    page_path = (
        f"/beschikbaarheid?van={night_from.isoformat()}&tot={night_to.isoformat()}"
        f"&regio={region}&doelgroep={target_group}"
    )
    raw = RawSearch(url)
    load_before = os.getloadavg()[0]
    timings: dict[str, list[float]] = {"endpoint": [], "raw_sql": [], "noop": [], "page": []}
    with gunicorn(url, workers=workers, log_path=log_path) as server:
        status, body = request(server.port, "GET", path)
        if status != 200:
            raise RuntimeError(f"availability answered {status}: {body[:300]!r}")
        answer = json.loads(body)
        units = sum(len(loc["units"]) for loc in answer["locations"])
        found = raw.run(raw.params(region, target_group, night_from, night_to, clock.now()))
        raw_units = len(found["units"])
        if raw_units != units:
            raise RuntimeError(f"raw SQL found {raw_units} units, the endpoint {units}")
        status, page = request(server.port, "GET", page_path)
        found_text = f"{len(answer['locations'])} logeeradres".encode()
        if status != 200 or found_text not in page:
            raise RuntimeError(f"the page answered {status} without the endpoint's count")
        progress(
            f"  zoekvraag: {len(answer['locations'])} locaties, {units} eenheden x {nights} "
            f"nachten, {len(body):,} bytes (pagina {len(page):,} bytes, "
            f"{page.count(b'<article')} locaties getoond); "
            f"{warmup} opwarmen + {requests} metingen …"
        )
        for i in range(warmup + requests):
            t0 = time.perf_counter()
            status, _ = request(server.port, "GET", path)
            t1 = time.perf_counter()
            raw.run(raw.params(region, target_group, night_from, night_to, clock.now()))
            t2 = time.perf_counter()
            noop_status, _ = request(server.port, "GET", "/api/v1/_bench/noop")
            t3 = time.perf_counter()
            page_status, _ = request(server.port, "GET", page_path)
            t4 = time.perf_counter()
            if (status, noop_status, page_status) != (200, 200, 200):
                raise RuntimeError(f"unexpected status {status}/{noop_status}/{page_status}")
            if i >= warmup:
                timings["endpoint"].append(t1 - t0)
                timings["raw_sql"].append(t2 - t1)
                timings["noop"].append(t3 - t2)
                timings["page"].append(t4 - t3)
        peak_rss = server.peak_rss_mb()
    raw.close()
    result: dict[str, Any] = {
        "backend": dialect_of(url),
        "requests": requests,
        "locations": len(answer["locations"]),
        "units": units,
        "nights": nights,
        "bytes": len(body),
        "page_bytes": len(page),
        "peak_rss_mb": peak_rss,
        "load": (load_before, os.getloadavg()[0]),
    }
    add_percentiles(result, timings)
    floor = result["raw_sql_p95"] + result["noop_p95"]
    result["budget_p95"] = 1.5 * floor
    result["goal_met"] = result["endpoint_p95"] <= result["budget_p95"]
    return result


def describe(result: dict[str, Any]) -> str:
    return (
        f"{result['backend']}: endpoint p50 {fmt_ms(result['endpoint_p50'])} ms, "
        f"p95 {fmt_ms(result['endpoint_p95'])} ms | raw SQL p50 {fmt_ms(result['raw_sql_p50'])}, "
        f"p95 {fmt_ms(result['raw_sql_p95'])} | no-op p50 {fmt_ms(result['noop_p50'])}, "
        f"p95 {fmt_ms(result['noop_p95'])} | budget 1.5x(a+b) {fmt_ms(result['budget_p95'])} ms "
        f"-> {'gehaald' if result['goal_met'] else 'NIET gehaald'} | pagina /beschikbaarheid p50 "
        f"{fmt_ms(result['page_p50'])}, p95 {fmt_ms(result['page_p95'])} ms; "
        f"piek-RSS worker {result['peak_rss_mb']:.0f} MB"
    )


def main(argv: list[str] | None = None) -> int:
    return search_bench_main(
        "python -m bench.availability", argv, run, describe, requests=2000, warmup=200
    )


if __name__ == "__main__":
    sys.exit(main())
