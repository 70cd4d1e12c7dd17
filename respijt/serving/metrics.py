"""GET /metrics in the Prometheus text format: requests per route, and what /health knows.

- Request counts and latency are labelled by the URL rule (`/a/<token>`), never the path a
  visitor typed, so no token or reference ends up in a label. `RequestMetricsMiddleware`
  times the whole answer; a teardown hook names the rule.
- Under gunicorn (PROMETHEUS_MULTIPROC_DIR set, see gunicorn.conf.py) each worker writes its
  counts to files and a scrape adds up every worker's; under `respijt serve` (one process)
  they live in this module's registry.
- The outbox, scheduler-lease and job figures are read from the database at scrape time
  (`HealthCollector`), so every worker answers the same. What it knows of the scheduler (its
  job ids, how to read the lease) the app factory hands in (`SchedulerFacts`): the serving
  frame imports no face.
- Open to 127.0.0.1 and to an admin token; anybody else gets 401 or 403 problem+json.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from flask import Flask, Response, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError

from respijt import clock
from respijt.errors import Forbidden

ROUTE_KEY = "respijt.route"
UNMATCHED = "unmatched"  # no rule matched: a 404 (or a redirect to the path without '/')
STATIC = "/static/<path:filename>"  # served by WhiteNoise before Flask sees it
LOOPBACK = frozenset({"127.0.0.1", "::1"})

REGISTRY = CollectorRegistry()
REQUESTS = Counter(
    "respijt_http_requests",
    "HTTP requests answered, by URL rule, method and status.",
    ["route", "method", "status"],
    registry=REGISTRY,
)
LATENCY = Histogram(
    "respijt_http_request_duration_seconds",
    "Time to answer an HTTP request, body included, by URL rule and method.",
    ["route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    registry=REGISTRY,
)


# A fixed set of method labels: a client may send any word as the method, and each new label
# value would make a new series in every worker's metric files.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class RequestMetricsMiddleware:
    """Counts and times every answer, static files included. Observed when the app returns:
    Flask and WhiteNoise have the whole body (and the status) ready by then."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        started = time.perf_counter()
        status = ["500"]

        def start(code: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            status[0] = code.split(" ", 1)[0]
            return start_response(code, headers, exc_info)

        try:
            return self.app(environ, start)
        finally:
            route = environ.get(ROUTE_KEY)
            if route is None:
                path = environ.get("PATH_INFO", "")
                route = STATIC if path.startswith("/static/") else UNMATCHED
            method = environ.get("REQUEST_METHOD", "GET")
            method = method if method in KNOWN_METHODS else "other"
            REQUESTS.labels(route, method, status[0]).inc()
            LATENCY.labels(route, method).observe(time.perf_counter() - started)


@dataclass(frozen=True)
class SchedulerFacts:
    """What /metrics needs of the scheduler: its job ids and a reader of the lease (a session
    in, the lease state or None out). Both are called at scrape time."""

    job_ids: Callable[[], Iterable[str]]
    read_lease: Callable[[Any], Any]


class HealthCollector:
    """The figures of /health's admin part as gauges, read when Prometheus scrapes."""

    def __init__(self, session: Any, scheduler: SchedulerFacts) -> None:
        self.session = session
        self.scheduler = scheduler

    def collect(self) -> Iterator[Metric]:
        database = GaugeMetricFamily(
            "respijt_database_up", "1 when the database answered this scrape."
        )
        try:
            metrics = list(self._from_database())
        except DBAPIError:
            self.session.rollback()
            database.add_metric([], 0)
            yield database
            return
        database.add_metric([], 1)
        yield database
        yield from metrics

    def _from_database(self) -> Iterator[Metric]:
        from respijt.messages.outbox import outbox_health
        from respijt.models import JobRun

        now = clock.now()
        counts = outbox_health(self.session, now)
        outbox = GaugeMetricFamily(
            "respijt_outbox_messages",
            "Outbox messages: pending, failed, overdue (pending or sending, long past due), and "
            "alerts of the last 7 days that reached nobody (alerts_undelivered).",
            labels=["state"],
        )
        for state in ("pending", "failed", "overdue", "alerts_undelivered"):
            outbox.add_metric([state], counts[state])
        yield outbox

        lease = self.scheduler.read_lease(self.session)
        active = GaugeMetricFamily(
            "respijt_scheduler_lease_active", "1 while a scheduler holds an unexpired lease."
        )
        active.add_metric([], 1 if lease is not None and lease.active(now) else 0)
        yield active
        if lease is not None:
            holder = GaugeMetricFamily(
                "respijt_scheduler_lease_holder",
                "The scheduler that holds (or last held) the lease, 1 while it is active.",
                labels=["host", "pid"],
            )
            holder.add_metric([lease.host, lease.pid], 1 if lease.active(now) else 0)
            yield holder
            age = GaugeMetricFamily(
                "respijt_scheduler_heartbeat_age_seconds",
                "Seconds since the lease holder's last heartbeat.",
            )
            age.add_metric([], (now - lease.heartbeat_at).total_seconds())
            yield age

        last_ok = GaugeMetricFamily(
            "respijt_job_last_success_timestamp_seconds",
            "Start of each job's last successful run (Unix time); absent before the first.",
            labels=["job"],
        )
        rows = self.session.execute(
            select(JobRun.job_id, func.max(JobRun.started_at))
            .where(JobRun.outcome == "ok")
            .group_by(JobRun.job_id)
        ).all()
        started = {job_id: moment for job_id, moment in rows}
        for job_id in self.scheduler.job_ids():
            moment = started.get(job_id)
            if moment is not None:
                moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
                last_ok.add_metric([job_id], moment.timestamp())
        yield last_ok
        self.session.rollback()  # only read


def exposition(session: Any, scheduler: SchedulerFacts) -> bytes:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        requests = CollectorRegistry()
        multiprocess.MultiProcessCollector(requests)  # type: ignore[no-untyped-call]
    else:
        requests = REGISTRY
    health = CollectorRegistry()
    health.register(HealthCollector(session, scheduler))
    return generate_latest(requests) + generate_latest(health)


def _check_access() -> None:
    """127.0.0.1 (the real client once ProxyFix is set up) or an admin token."""
    if request.remote_addr in LOOPBACK:
        return
    from respijt.serving.callers import current_caller

    if current_caller().role != "admin":  # 401 problem+json without a valid token
        raise Forbidden("Alleen een beheerder mag de meetgegevens lezen.")


def init_metrics(app: Flask, scheduler: SchedulerFacts) -> None:
    from respijt.extensions import db

    @app.teardown_request
    def name_route(exc: BaseException | None) -> None:
        rule = request.url_rule
        request.environ[ROUTE_KEY] = rule.rule if rule is not None else UNMATCHED

    @app.route("/metrics")
    def metrics() -> Response:
        _check_access()
        return Response(exposition(db.session, scheduler), content_type=CONTENT_TYPE_LATEST)

    metrics._respijt_read_only = True  # type: ignore[attr-defined]
    # Inside the request-id layer, outside WhiteNoise: static files are counted too.
    app.wsgi_app = RequestMetricsMiddleware(app.wsgi_app)  # type: ignore[method-assign]
