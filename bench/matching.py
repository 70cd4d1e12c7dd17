"""Latency of matching one care request, next to the availability search for the same window.

    python -m bench.matching --database-url URL [--requests 300] [--region R001]

On a generated dataset: a pool provider of the region gets a shift on duty now (an override
shift written directly), two meldpunt tokens are made for it, the first creates a care request
through `POST /api/v1/requests` (a municipality of the region, the target group, 14 nights a
week ahead: the window and filters of `bench.availability`), and then, interleaved request by
request on the same gunicorn server (2 sync workers), this client measures
`GET /api/v1/requests/{reference}/matches` with the second token (so it sees the request
because its provider is on duty, not because it made it) and
`GET /api/v1/availability?from=..&to=..&region=..&targetGroup=..`.

Each `/matches` call records the options shown (`request_option` rows) and writes an access-log
row: that is part of the cost and kept. Goal: matches p95 <= 2 x availability p95.
"""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from bench.common import (
    add_percentiles,
    dialect_of,
    fmt_ms,
    gunicorn,
    request,
    search_bench_main,
    sqlalchemy_url,
)
from respijt import clock, create_app
from respijt.extensions import db
from respijt.models import Municipality, ProviderRegion, Region, RotaShift
from respijt.people.tokens import create_token


def _setup(url: str, region: str) -> tuple[str, str, str]:
    """An on-duty pool provider of `region`: (creator secret, matcher secret, municipality code)."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "RESPIJT_RATELIMIT": False})
    now = clock.now()
    with app.app_context():
        region_id = db.session.scalar(select(Region.id).where(Region.code == region))
        if region_id is None:
            raise SystemExit(f"Regio {region} bestaat niet: genereer eerst een dataset.")
        provider_id = db.session.scalar(
            select(func.min(ProviderRegion.provider_id)).where(
                ProviderRegion.region_id == region_id, ProviderRegion.in_pool.is_(True)
            )
        ) or db.session.scalar(
            select(func.min(ProviderRegion.provider_id)).where(
                ProviderRegion.region_id == region_id
            )
        )
        municipality = db.session.scalar(
            select(Municipality.code)
            .where(Municipality.region_id == region_id)
            .order_by(Municipality.id)
            .limit(1)
        )
        # An override shift from a minute ago (unique per region and start instant).
        db.session.add(
            RotaShift(
                region_id=region_id,
                provider_id=provider_id,
                starts_at=now - timedelta(minutes=1),
                ends_at=now + timedelta(hours=12),
                kind="override",
                status="active",
                created_at=now,
            )
        )
        _, creator = create_token(
            db.session, role="meldpunt", name="bench-intake", now=now, provider_id=provider_id
        )
        _, matcher = create_token(
            db.session, role="meldpunt", name="bench-matching", now=now, provider_id=provider_id
        )
        db.session.commit()
        db.engine.dispose()  # no idle connection left behind (bench.holds copies the database)
    return creator, matcher, str(municipality)


def run(
    database_url: str,
    *,
    requests: int = 300,
    warmup: int = 30,
    region: str = "R001",
    target_group: str = "dementie",
    nights: int = 14,
    offset_days: int = 7,
    workers: int = 2,
    log_path: str | None = None,
    progress: Any = print,
) -> dict[str, Any]:
    url = sqlalchemy_url(database_url)
    creator, matcher, municipality = _setup(url, region)
    arrival = clock.today() + timedelta(days=offset_days)
    departure = arrival + timedelta(days=nights)
    availability_path = (
        f"/api/v1/availability?from={arrival.isoformat()}&to={departure.isoformat()}"
        f"&region={region}&targetGroup={target_group}"
    )
    body = {
        "client": {"first_name": "J.", "birth_year": 1941},
        "municipality": municipality,
        "target_group": target_group,
        "arrival": arrival.isoformat(),
        "departure": departure.isoformat(),
        "reason": "vakantie",
        "consent": True,
        "contact": {"name": "Bench Mantelzorger", "mobile": "0612345678"},
    }
    load_before = os.getloadavg()[0]
    timings: dict[str, list[float]] = {"matches": [], "availability": []}
    with gunicorn(url, workers=workers, log_path=log_path) as server:
        status, answer = request(
            server.port,
            "POST",
            "/api/v1/requests",
            body=json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {creator}", "Content-Type": "application/json"},
        )
        if status != 201:
            raise RuntimeError(f"POST /api/v1/requests answered {status}: {answer[:300]!r}")
        reference = json.loads(answer)["reference"]
        matches_path = f"/api/v1/requests/{reference}/matches"
        auth = {"Authorization": f"Bearer {matcher}"}
        status, answer = request(server.port, "GET", matches_path, headers=auth)
        if status != 200:
            raise RuntimeError(f"matches answered {status}: {answer[:300]!r}")
        shown = json.loads(answer)
        status, avail = request(server.port, "GET", availability_path)
        if status != 200:
            raise RuntimeError(f"availability answered {status}: {avail[:300]!r}")
        progress(
            f"  aanvraag {reference} ({municipality}, {target_group}, {nights} nachten): "
            f"{len(shown)} opties, {len(answer):,} bytes; beschikbaarheid {len(avail):,} bytes; "
            f"{warmup} opwarmen + {requests} metingen …"
        )
        for i in range(warmup + requests):
            t0 = time.perf_counter()
            m_status, _ = request(server.port, "GET", matches_path, headers=auth)
            t1 = time.perf_counter()
            a_status, _ = request(server.port, "GET", availability_path)
            t2 = time.perf_counter()
            if m_status != 200 or a_status != 200:
                raise RuntimeError(f"unexpected status {m_status}/{a_status}")
            if i >= warmup:
                timings["matches"].append(t1 - t0)
                timings["availability"].append(t2 - t1)
    result: dict[str, Any] = {
        "backend": dialect_of(url),
        "requests": requests,
        "warmup": warmup,
        "reference": reference,
        "options": len(shown),
        "nights": nights,
        "load": (load_before, os.getloadavg()[0]),
    }
    add_percentiles(result, timings)
    result["budget_p95"] = 2 * result["availability_p95"]
    result["goal_met"] = result["matches_p95"] <= result["budget_p95"]
    return result


def describe(result: dict[str, Any]) -> str:
    return (
        f"{result['backend']}: matches p50 {fmt_ms(result['matches_p50'])} ms, "
        f"p95 {fmt_ms(result['matches_p95'])} ms | availability p50 "
        f"{fmt_ms(result['availability_p50'])}, p95 {fmt_ms(result['availability_p95'])} | "
        f"budget 2x {fmt_ms(result['budget_p95'])} ms -> "
        f"{'gehaald' if result['goal_met'] else 'NIET gehaald'}"
    )


def main(argv: list[str] | None = None) -> int:
    return search_bench_main(
        "python -m bench.matching", argv, run, describe, requests=300, warmup=30
    )


if __name__ == "__main__":
    sys.exit(main())
