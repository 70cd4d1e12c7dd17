"""GET /metrics: request counts by URL rule, the /health figures as gauges, and who may read."""

from __future__ import annotations

from datetime import timedelta

from flask import g
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from respijt import clock
from respijt.messages import outbox
from respijt.models import JobRun, OutboxMessage
from respijt.scheduler.lease import Lease
from tests.scheduling import STAFF_MOBILE

OUTSIDE = {"REMOTE_ADDR": "203.0.113.9"}


def scrape(client, **kwargs) -> dict[tuple[str, frozenset], float]:
    response = client.get("/metrics", **kwargs)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/plain"
    samples = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def requests_of(samples, route: str, status: str = "200", method: str = "GET") -> float:
    labels = frozenset({"route": route, "method": method, "status": status}.items())
    return samples.get(("respijt_http_requests_total", labels), 0.0)


def test_request_counts_go_up_per_route_method_and_status(client):
    before = scrape(client)
    for _ in range(3):
        client.get("/contact").close()
    client.get("/bestaat-niet").close()
    after = scrape(client)
    assert requests_of(after, "/contact") - requests_of(before, "/contact") == 3
    assert requests_of(after, "unmatched", "404") - requests_of(before, "unmatched", "404") == 1
    count = frozenset({"route": "/contact", "method": "GET"}.items())
    name = "respijt_http_request_duration_seconds_count"
    assert after[(name, count)] - before.get((name, count), 0) == 3


def test_an_unknown_method_is_labelled_other_never_as_sent(client):
    before = scrape(client)
    for n in range(3):
        client.open("/contact", method=f"FROBNICATE{n}").close()
    after = scrape(client)
    assert not any("FROBNICATE" in dict(labels).get("method", "") for _, labels in after)
    other = sum(
        value - before.get((name, labels), 0.0)
        for (name, labels), value in after.items()
        if name == "respijt_http_requests_total" and dict(labels)["method"] == "other"
    )
    assert other == 3


def test_a_token_path_is_labelled_by_its_rule_never_by_the_token(client):
    before = scrape(client)
    client.get("/a/geheim-token-4711").close()
    client.get("/rota/ical/geheim-feed-4711.ics").close()
    response = client.get("/metrics")
    assert "geheim" not in response.get_data(as_text=True)
    after = scrape(client)
    link = "/a/<token>"
    assert requests_of(after, link, "303") - requests_of(before, link, "303") == 1
    feed = "/rota/ical/<token>.ics"
    assert requests_of(after, feed, "404") - requests_of(before, feed, "404") == 1


def test_health_gauges_show_the_outbox_lease_and_last_good_run(client, db):
    now = clock.now()
    clock.freeze(now)
    for key, due in (("old", now - timedelta(minutes=30)), ("new", now), ("bad", now)):
        outbox.queue(
            db.session,
            recipient=STAFF_MOBILE,
            template="location_stale_reminder",
            context={"location": "X", "last_confirmed": None},
            dedupe_key=key,
            send_after=due,
        )
    db.session.flush()
    db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.dedupe_key == "bad")
    ).one().status = "failed"
    ran = now - timedelta(minutes=5)
    for outcome, at in (("ok", ran - timedelta(minutes=1)), ("ok", ran), ("error", now)):
        db.session.add(
            JobRun(
                job_id="expire_holds",
                owner="web1:1:x",
                started_at=at,
                finished_at=at,
                outcome=outcome,
            )
        )
    db.session.commit()
    Lease(db.engine, lease_seconds=30, owner="web1:4242:abcd").try_acquire()
    clock.freeze(now + timedelta(seconds=12))

    samples = scrape(client)
    db.session.rollback()
    state = {
        s: samples[("respijt_outbox_messages", frozenset({"state": s}.items()))]
        for s in ("pending", "failed", "overdue", "alerts_undelivered")
    }
    assert state == {"pending": 2, "failed": 1, "overdue": 1, "alerts_undelivered": 0}
    assert samples[("respijt_database_up", frozenset())] == 1
    assert samples[("respijt_scheduler_lease_active", frozenset())] == 1
    holder = frozenset({"host": "web1", "pid": "4242"}.items())
    assert samples[("respijt_scheduler_lease_holder", holder)] == 1
    assert samples[("respijt_scheduler_heartbeat_age_seconds", frozenset())] == 12
    job = frozenset({"job": "expire_holds"}.items())
    assert samples[("respijt_job_last_success_timestamp_seconds", job)] == ran.timestamp()
    assert (
        "respijt_job_last_success_timestamp_seconds",
        frozenset({"job": "retention"}.items()),
    ) not in samples  # never ran


def test_only_loopback_and_admin_tokens_may_read_the_metrics(client, make):
    anonymous = client.get("/metrics", environ_base=OUTSIDE)
    assert anonymous.status_code == 401
    assert anonymous.mimetype == "application/problem+json"
    assert anonymous.headers["WWW-Authenticate"].startswith("Bearer")
    wrong = client.get("/metrics", environ_base=OUTSIDE, headers={"Authorization": "Bearer x"})
    assert wrong.status_code == 401
    coordinator = client.get("/metrics", environ_base=OUTSIDE, headers=make.token("coordinator"))
    assert coordinator.status_code == 403
    assert coordinator.mimetype == "application/problem+json"
    g.pop("caller", None)
    admin = make.token("admin")
    assert "respijt_outbox_messages" in client.get(
        "/metrics", environ_base=OUTSIDE, headers=admin
    ).get_data(as_text=True)
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "::1"}).status_code == 200
