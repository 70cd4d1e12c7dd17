"""The outbox sending through the `twilio` backend: the real dispatch job, the real `twilio`
client and the fake Twilio on 127.0.0.1 (issue 7, "What must show")."""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from respijt import clock
from respijt.messages import delivery, outbox
from respijt.models import AccessLog, OutboxMessage, Reservation
from respijt.scheduler import jobs
from tests.api.test_api_registry import assert_problem

STAFF = "+31612345678"
CONTACT = "+31687654321"
FAULT_TIMEOUT = 0.15


def twilio_config(app: Any, **over: Any) -> dict[str, Any]:
    """The app's settings with the twilio backend and fast retries (base URL: the fake)."""
    return {
        **app.config,
        "RESPIJT_SMS_BACKEND": "twilio",
        "RESPIJT_OUTBOX_RETRY_BASE_SECONDS": 0,
        **over,
    }


def queue_reminder(session: Any, n: int, recipient: str | None = None, **kw: Any) -> None:
    outbox.queue(
        session,
        recipient=recipient or f"+316{10000000 + n}",
        template="location_stale_reminder",
        context={"location": f"Locatie {n:04d}", "last_confirmed": None},
        dedupe_key=f"test:{n}",
        **kw,
    )


def rows(db: Any) -> list[OutboxMessage]:
    """The outbox rows, detached; the read ends its transaction (on SQLite it would hold the
    write lock the dispatching threads need)."""
    db.session.commit()
    found = list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    db.session.expunge_all()
    db.session.commit()
    return found


def unfinished(db: Any) -> int:
    db.session.commit()
    left = db.session.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.status.in_(("pending", "sending")))
    )
    db.session.commit()
    return int(left or 0)


def drain(app: Any, db: Any, config: dict[str, Any], workers: int = 1, rounds: int = 200) -> int:
    """Run the dispatch job (in `workers` threads, each its own session) until nothing is left."""
    runs = 0
    for _ in range(rounds):
        if not unfinished(db):
            return runs
        errors: list[BaseException] = []

        def work() -> None:
            try:
                with app.app_context():
                    from respijt.extensions import db as _db

                    jobs.dispatch_outbox(_db.session, clock.now(), config)
                    _db.session.commit()
                    _db.session.remove()
            except BaseException as exc:  # surfaced below
                errors.append(exc)

        threads = [threading.Thread(target=work) for _ in range(workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            raise errors[0]
        runs += 1
    raise AssertionError(f"outbox not drained after {rounds} rounds: {unfinished(db)} left")


# --- fault injection ------------------------------------------------------------------------


@pytest.mark.slow
def test_fault_injection_through_the_dispatch_job_every_message_arrives_exactly_once(
    app, db, fake_twilio_server
):
    """1,000 outbox rows; 30% of POSTs fail transiently (500/503/429), 5% are accepted and then
    time out. RESPIJT_TEST_FAULT_MESSAGES sets the count for a quick local run."""
    count = int(os.environ.get("RESPIJT_TEST_FAULT_MESSAGES", "1000"))
    for n in range(count):
        queue_reminder(db.session, n)
    db.session.commit()
    fake_twilio_server.set_failures(
        {"500": 0.1, "503": 0.1, "429": 0.1, "timeout": 0.05},
        seed=2026,
        timeout_delay=FAULT_TIMEOUT + 1.0,
    )
    config = twilio_config(
        app,
        RESPIJT_TWILIO_TIMEOUT_SECONDS=FAULT_TIMEOUT,
        RESPIJT_OUTBOX_MAX_ATTEMPTS=40,
        RESPIJT_OUTBOX_BATCH=50,
    )
    started = time.monotonic()

    runs = drain(app, db, config, workers=4)

    elapsed = time.monotonic() - started
    received = fake_twilio_server.messages()
    by_body = Counter(m.body for m in received)
    final = rows(db)
    assert Counter(r.status for r in final) == {"sent": count}
    assert len(by_body) == count and set(by_body.values()) == {1}  # none lost, none twice
    assert {r.provider_message_id for r in final} == {m.sid for m in received}
    for row in final:
        assert fake_twilio_server.message(row.provider_message_id).to == row.recipient
    timed_out = sum(m.timed_out for m in received)
    retried = sum(r.attempts > 1 for r in final)
    print(
        f"\n{count} messages via dispatch_outbox: {fake_twilio_server.post_attempts} POSTs, "
        f"{timed_out} accepted-then-timed-out, {retried} rows retried, {runs} rounds, "
        f"{elapsed:.1f}s"
    )
    assert timed_out > 0 and fake_twilio_server.post_attempts > count * 1.3


def test_a_transient_failure_past_the_limit_is_failed_and_shown_to_the_coordinator(
    app, db, make, client, fake_twilio_server
):
    region = make.region()
    own_region = make.token("coordinator", regions=[region])
    other_region = make.token("coordinator", regions=[make.region()])
    queue_reminder(db.session, 1, region_id=region.id)
    db.session.commit()
    fake_twilio_server.set_failures(script=["503", "500", "429"])
    config = twilio_config(app, RESPIJT_OUTBOX_MAX_ATTEMPTS=3)

    drain(app, db, config)

    (row,) = rows(db)
    assert (row.status, row.attempts, row.error_code) == ("failed", 3, "20429")
    assert fake_twilio_server.messages() == []
    coordinator = client.get("/api/v1/messages?status=failed", headers=own_region).get_json()[
        "items"
    ]
    assert [m["id"] for m in coordinator] == [row.id]
    # A coordinator of another region does not see it (the message is about this region).
    assert (
        client.get("/api/v1/messages?status=failed", headers=other_region).get_json()["items"] == []
    )
    assert coordinator[0]["recipient"] == "+316******01" and "body" not in coordinator[0]
    assert "Twilio" in coordinator[0]["last_error"]
    admin = client.get("/api/v1/messages?status=failed", headers=make.token("admin")).get_json()[
        "items"
    ]
    assert admin[0]["body"] == row.body and admin[0]["recipient"] == "+316******01"
    sent = client.get("/api/v1/messages?status=sent", headers=make.token("admin"))
    assert sent.get_json()["items"] == []
    assert_problem(
        client.get("/api/v1/messages", headers=make.token("provider", make.provider())), 403
    )
    assert_problem(client.get("/api/v1/messages"), 401)
    assert_problem(
        client.get("/api/v1/messages?status=lost", headers=make.token("coordinator")), 422
    )
    # Each successful listing of (masked) recipients is in the access log, once.
    db.session.rollback()
    listed = db.session.scalars(
        select(AccessLog.role).where(AccessLog.action == "message.list").order_by(AccessLog.id)
    ).all()
    assert listed == ["coordinator", "coordinator", "admin", "admin"]


def test_an_invalid_number_stops_at_once(app, db, fake_twilio_server):
    queue_reminder(db.session, 2)
    db.session.commit()
    fake_twilio_server.set_failures(script=["21211"])

    drain(app, db, twilio_config(app))

    (row,) = rows(db)
    assert (row.status, row.attempts, row.error_code) == ("failed", 1, "21211")
    assert fake_twilio_server.post_attempts == 1


def test_a_landline_is_never_queued_for_sending_and_says_why(db):
    queue_reminder(db.session, 3, recipient="015 212 3456")
    db.session.commit()

    (row,) = rows(db)
    assert (row.status, row.recipient, row.error_code) == (
        "skipped",
        "+31152123456",
        "not_a_mobile",
    )
    assert "geen geldig mobiel nummer" in row.last_error


# --- crash recovery -------------------------------------------------------------------------


def test_a_row_stuck_in_sending_is_released_and_reconciled_not_sent_twice(
    app, db, fake_twilio_server
):
    queue_reminder(db.session, 4)
    db.session.commit()
    t0 = clock.now()
    (message_id,) = outbox.due_ids(db.session, t0)
    claimed = outbox.claim(db.session, message_id, t0)
    assert claimed is not None
    db.session.commit()
    # The dispatcher reached Twilio, then died before recording the answer.
    from respijt.messages.twilio import TwilioGateway

    with TwilioGateway.from_config(app.config) as gateway:
        assert gateway.send(claimed.recipient, claimed.body).kind == "accepted"
    config = twilio_config(app)

    assert jobs.release_stuck_messages(db.session, t0 + timedelta(minutes=5), config) == 0
    later = t0 + timedelta(minutes=16)
    assert jobs.release_stuck_messages(db.session, later, config) == 1
    db.session.commit()
    (row,) = rows(db)
    assert (row.status, row.error_code) == ("pending", "ambiguous")

    clock.freeze(later)
    drain(app, db, config)

    (row,) = rows(db)
    (only,) = fake_twilio_server.messages()
    assert (row.status, row.provider_message_id) == ("sent", only.sid)
    assert fake_twilio_server.post_attempts == 1  # found by listing, not posted again


# --- delivery status on the outbox row ------------------------------------------------------


@pytest.mark.parametrize(
    ("arrivals", "final", "code"),
    [
        (["delivered", "sent", "queued"], "delivered", None),
        (["sent", "undelivered", "delivered"], "undelivered", "30005"),
        (["queued", "failed", "sent", "delivered"], "failed", "30008"),
        (["sending", "sent", "queued"], "sent", None),
    ],
)
def test_out_of_order_callbacks_end_in_the_right_final_state_on_the_row(
    app, db, fake_twilio_server, arrivals, final, code
):
    queue_reminder(db.session, 5)
    db.session.commit()
    drain(app, db, twilio_config(app))
    (row,) = rows(db)
    errors = {"undelivered": 30005, "failed": 30008}

    for status in arrivals:
        posted = fake_twilio_server.post_status(
            row.provider_message_id, status, error_code=errors.get(status)
        )
        assert posted.status_code == 204

    (row,) = rows(db)
    assert (row.status, row.error_code) == (final, code)


def test_a_callback_that_beats_the_reconciliation_still_lands_on_the_row(
    app, db, fake_twilio_server
):
    queue_reminder(db.session, 6)
    db.session.commit()
    fake_twilio_server.set_failures(script=["timeout"], timeout_delay=1.0)
    config = twilio_config(app, RESPIJT_TWILIO_TIMEOUT_SECONDS=FAULT_TIMEOUT)
    jobs.dispatch_outbox(db.session, clock.now(), config)
    (row,) = rows(db)
    assert (row.status, row.provider_message_id, row.error_code) == ("pending", None, "ambiguous")
    (stored,) = fake_twilio_server.messages()
    # Twilio delivers and says so before we have learnt the message's SID.
    fake_twilio_server.post_status(stored.sid, "sent")
    fake_twilio_server.post_status(stored.sid, "delivered")

    drain(app, db, config)

    (row,) = rows(db)
    assert (row.status, row.provider_message_id) == ("delivered", stored.sid)
    assert fake_twilio_server.post_attempts == 1


# --- quiet hours ----------------------------------------------------------------------------


def test_non_urgent_messages_wait_out_the_quiet_hours_urgent_ones_go(app, db, fake_twilio_server):
    night = datetime(2027, 3, 1, 22, 30, tzinfo=UTC)  # 23:30 in Amsterdam (CET)
    clock.freeze(night)
    queue_reminder(db.session, 7, now=night)
    queue_reminder(db.session, 8, now=night, urgent=True)
    db.session.commit()
    config = twilio_config(app, RESPIJT_QUIET_HOURS="21:00-08:00")

    assert jobs.dispatch_outbox(db.session, night, config) == 1

    waiting, urgent = rows(db)
    assert urgent.status == "sent"
    assert waiting.status == "pending"
    assert waiting.next_attempt_at == datetime(2027, 3, 2, 7, 0, tzinfo=UTC)  # 08:00 local
    morning = datetime(2027, 3, 2, 7, 0, 1, tzinfo=UTC)
    clock.freeze(morning)
    assert jobs.dispatch_outbox(db.session, morning, config) == 1
    assert [m.to for m in fake_twilio_server.messages()] == [urgent.recipient, waiting.recipient]


# --- opt-out --------------------------------------------------------------------------------


def _awaiting(db: Any, make: Any, contact: str = "06 87654321") -> Reservation:
    from tests.care_request_helpers import body, create

    provider = make.provider(staff_mobiles=["06 12345678"])
    location = make.location(provider=provider, name="De Linde")
    unit = make.unit(location=location, requires_provider_confirmation=True)
    arrival = clock.today() + timedelta(days=7)
    care_request = create(
        db.session,
        body(
            location.municipality,
            arrival,
            arrival + timedelta(days=3),
            contact={"name": "Marja", "mobile": contact},
        ),
    )
    from respijt.reservations import holds
    from tests.scheduling import MELDPUNT

    reservation, _ = holds.place_hold(
        db.session,
        unit_id=unit.id,
        arrival=arrival,
        departure=arrival + timedelta(days=3),
        caller=MELDPUNT,
        now=clock.now(),
        today=clock.today(),
        hold_minutes=15,
        provider_confirm_hours=24,
        confirm=True,
        request_id=care_request.id,
    )
    db.session.commit()
    assert reservation.status == "awaiting_provider"
    return reservation


def test_stop_then_a_confirmation_sends_nothing_and_start_restores(
    app, db, make, fake_twilio_server
):
    config = twilio_config(app)
    stop = fake_twilio_server.send_inbound(CONTACT, "STOP")
    assert stop.status_code == 200 and delivery.is_opted_out(db.session, CONTACT)
    reservation = _awaiting(db, make)
    fake_twilio_server.send_inbound(STAFF, f"JA {reservation.short_code}")

    drain(app, db, config)

    offers = [r for r in rows(db) if r.template == "request_offer"]
    # The meldpunt confirmed the hold at once: the offer was withdrawn before it went out.
    assert [(r.status, r.error_code) for r in offers] == [("skipped", "superseded")]
    to_contact = [r for r in rows(db) if r.recipient == CONTACT and r.template != "request_offer"]
    assert {r.template for r in to_contact} == {"request_received", "reservation_confirmed"}
    assert {(r.status, r.error_code, r.attempts) for r in to_contact} == {
        ("skipped", "opted_out", 0)
    }
    assert all("STOP" in r.last_error for r in to_contact)
    assert fake_twilio_server.messages(to=CONTACT) == []
    assert len(fake_twilio_server.messages(to=STAFF)) == 1  # the provider was still asked

    fake_twilio_server.send_inbound(CONTACT, "START")
    other = _awaiting(db, make)
    fake_twilio_server.send_inbound(STAFF, f"JA {other.short_code}")
    drain(app, db, config)

    texts = [m.body for m in fake_twilio_server.messages(to=CONTACT)]
    assert len(texts) == 2 and other.short_code in texts[1] and "bevestigd" in texts[1]


# --- the whole flow -------------------------------------------------------------------------


def test_hold_provider_asked_by_sms_ja_and_the_contact_is_told(
    app, db, make, client, fake_twilio_server
):
    """Request (public form) → hold awaiting the provider → SMS asks the provider → `JA <code>`
    posted signed by the fake Twilio → confirmation SMS to the contact. Real `twilio` client."""
    config = twilio_config(app)
    region = make.region()
    municipality = make.municipality(region=region)
    provider = make.provider(regions=[region], staff_mobiles=["06 12345678"])
    location = make.location(provider=provider, municipality=municipality, name="De Linde")
    unit = make.unit(location=location, requires_provider_confirmation=True)
    meldpunt = make.token("meldpunt", make.provider(regions=[region], pool=True))
    arrival = clock.today() + timedelta(days=10)
    from tests.care_request_helpers import json_body

    created = client.post(
        "/api/v1/requests",
        json=json_body(
            municipality,
            arrival,
            arrival + timedelta(days=4),
            contact={"name": "Marja Jansen", "mobile": "06 87654321"},
        ),
    )
    assert created.status_code == 201, created.get_json()
    reference = created.get_json()["reference"]
    held = client.post(
        "/api/v1/reservations",
        json={
            "unit_id": unit.id,
            "arrival": arrival.isoformat(),
            "departure": (arrival + timedelta(days=4)).isoformat(),
            "request": reference,
            "confirm": True,
        },
        headers=meldpunt,
    )
    assert held.status_code == 201, held.get_json()
    assert held.get_json()["status"] == "awaiting_provider"

    drain(app, db, config)

    (asked,) = fake_twilio_server.messages(to=STAFF)
    code = db.session.get(Reservation, held.get_json()["id"]).short_code
    db.session.commit()
    assert f"JA {code}" in asked.body and f"NEE {code}" in asked.body and "De Linde" in asked.body
    (received,) = fake_twilio_server.messages(to=CONTACT)
    assert reference in received.body
    token = received.body.split("/a/", 1)[1]
    followed = client.get(f"/api/v1/requests/{reference}", headers={"X-Request-Token": token})
    assert followed.status_code == 200 and followed.get_json()["reference"] == reference

    answer = fake_twilio_server.send_inbound(STAFF, f"JA {code}")

    assert answer.status_code == 200 and "is bevestigd" in answer.replies[0]
    drain(app, db, config)
    confirmation = fake_twilio_server.messages(to=CONTACT)[-1]
    assert code in confirmation.body and "bevestigd" in confirmation.body
    assert "De Linde" in confirmation.body
    for message in fake_twilio_server.messages():  # nothing about the client on a lock screen
        assert "Jan" not in message.body and "Marja" not in message.body
        assert "ouderen" not in message.body.lower() and "vakantie" not in message.body
    assert Counter((r.template, r.status) for r in rows(db)) == {
        ("request_received", "sent"): 1,
        ("request_offer", "skipped"): 1,  # confirmed at once: the offer was no news any more
        ("reservation_confirm_request", "sent"): 1,
        ("reservation_confirmed", "sent"): 1,
    }
    assert len(fake_twilio_server.messages()) == 3


def test_a_second_identical_sms_to_one_number_is_not_taken_for_the_first(
    app, db, fake_twilio_server
):
    """Two call-back notices with the same text to the same number, minutes apart: the retry of
    the second must not find the first at Twilio and call itself sent."""
    now = clock.now()
    clock.freeze(now)
    for key in ("notice:1", "notice:2"):
        outbox.queue(
            db.session,
            recipient=STAFF,
            template="location_stale_reminder",
            context={"location": "De Linde", "last_confirmed": None},
            dedupe_key=key,
            now=now,
        )
    db.session.commit()
    config = twilio_config(app)
    fake_twilio_server.set_failures(script=["ok", "500"])  # the second: Twilio has nothing
    assert jobs.dispatch_outbox(db.session, now, config) == 1
    db.session.commit()
    first, second = rows(db)
    assert (first.status, second.status, second.attempts) == ("sent", "pending", 1)

    later = now + timedelta(minutes=2)
    clock.freeze(later)
    assert jobs.dispatch_outbox(db.session, later, config) == 1
    db.session.commit()
    first, second = rows(db)
    at_twilio = fake_twilio_server.messages(to=STAFF)
    assert len(at_twilio) == 2 and at_twilio[0].body == at_twilio[1].body
    assert {first.provider_message_id, second.provider_message_id} == {m.sid for m in at_twilio}
