"""The outbox: written with the change, once per dedupe key, sent once, retried, never lost."""

from __future__ import annotations

import random
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from respijt import clock
from respijt.messages import backends, delivery, outbox, texts, transports
from respijt.messages.backends import SendResult
from respijt.models import OutboxMessage, Reservation
from respijt.scheduler import jobs
from tests.scheduling import STAFF_MOBILE, hold, sms_unit

# GSM 03.38 basic set: a message in these characters of at most 160 is one SMS segment.
GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)


def _count(db) -> int:
    return db.session.scalar(select(func.count()).select_from(OutboxMessage))


def test_message_is_written_with_the_change_and_rolled_back_with_it(db, make):
    unit = sms_unit(make)
    reservation = hold(db.session, unit, confirm=True)  # → awaiting_provider: ask the provider
    assert reservation.status == "awaiting_provider"
    assert _count(db) == 1
    db.session.rollback()
    assert _count(db) == 0
    assert db.session.scalar(select(func.count()).select_from(Reservation)) == 0

    reservation = hold(db.session, unit, confirm=True)
    db.session.commit()
    message = db.session.scalars(select(OutboxMessage)).one()
    assert message.recipient == STAFF_MOBILE
    assert message.template == "reservation_confirm_request"
    assert message.status == "pending" and message.urgent
    assert reservation.short_code in message.body and "De Linde" in message.body
    # Only non-personal values travel in the context.
    assert set(message.context) == {
        "code",
        "location",
        "arrival",
        "departure",
        "nights",
        "deadline",
    }


def test_a_second_queue_with_the_same_dedupe_key_does_nothing(db):
    args = {"recipient": STAFF_MOBILE, "template": "reservation_cancelled", "dedupe_key": "k-1"}
    context = {
        "code": "ACD349",
        "location": "De Linde",
        "arrival": "2027-01-04",
        "departure": "2027-01-07",
        "nights": 3,
    }
    assert outbox.queue(db.session, context=context, **args) is True
    db.session.commit()
    assert outbox.queue(db.session, context=context, **args) is False
    db.session.commit()
    assert _count(db) == 1


def test_dispatch_sends_due_messages_once_and_marks_them_sent(db, app, capsys):
    now = clock.now()
    clock.freeze(now)
    context = {"location": "De Linde", "last_confirmed": None}
    for key in ("a", "b"):
        outbox.queue(
            db.session,
            recipient=STAFF_MOBILE,
            template="location_stale_reminder",
            context=context,
            dedupe_key=key,
        )
    outbox.queue(
        db.session,
        recipient=STAFF_MOBILE,
        template="location_stale_reminder",
        context=context,
        dedupe_key="later",
        send_after=now + timedelta(hours=1),
    )
    db.session.commit()

    assert jobs.dispatch_outbox(db.session, now, app.config) == 2
    db.session.commit()
    printed = capsys.readouterr().out.strip().splitlines()
    assert len(printed) == 2
    assert all(line.startswith("SMS #") and STAFF_MOBILE in line for line in printed)
    statuses = {
        k: s for k, s in db.session.execute(select(OutboxMessage.dedupe_key, OutboxMessage.status))
    }
    assert statuses == {"a": "sent", "b": "sent", "later": "pending"}
    sent = db.session.scalars(select(OutboxMessage).where(OutboxMessage.dedupe_key == "a")).one()
    assert sent.sent_at == now and sent.attempts == 1 and sent.provider_message_id

    assert jobs.dispatch_outbox(db.session, now, app.config) == 0  # nothing sent twice
    assert capsys.readouterr().out == ""
    later = now + timedelta(hours=1, seconds=1)
    clock.freeze(later)
    assert jobs.dispatch_outbox(db.session, later, app.config) == 1
    db.session.commit()
    assert "SMS #" in capsys.readouterr().out


class ScriptedBackend:
    def __init__(self, results: list[SendResult]) -> None:
        self.results = results
        self.sent: list[int] = []

    def send(self, message: OutboxMessage) -> SendResult:
        self.sent.append(message.id)
        return self.results.pop(0)


def test_transient_failure_is_retried_later_and_permanent_failure_is_kept(db, app):
    backend = ScriptedBackend(
        [
            SendResult("transient", error="timeout"),
            SendResult("sent", provider_message_id="SM1"),
            SendResult("permanent", error_code="21610", error="opted out"),
        ]
    )
    transports.register_backend("scripted", lambda config: backend)
    config = {**app.config, "RESPIJT_SMS_BACKEND": "scripted"}
    now = clock.now()
    clock.freeze(now)
    outbox.queue(
        db.session,
        recipient=STAFF_MOBILE,
        template="location_stale_reminder",
        context={"location": "X", "last_confirmed": None},
        dedupe_key="retry",
    )
    db.session.commit()

    assert jobs.dispatch_outbox(db.session, now, config) == 0
    message = db.session.scalars(select(OutboxMessage)).one()
    assert (message.status, message.attempts, message.last_error) == ("pending", 1, "timeout")
    # Backoff with jitter: the first retry waits between half and all of a minute.
    assert now + timedelta(seconds=30) <= message.next_attempt_at <= now + timedelta(minutes=1)
    assert jobs.dispatch_outbox(db.session, now, config) == 0  # not due yet: not resent
    assert backend.sent == [message.id]

    later = now + timedelta(minutes=2)
    clock.freeze(later)
    assert jobs.dispatch_outbox(db.session, later, config) == 1
    db.session.refresh(message)
    assert (message.status, message.attempts, message.provider_message_id) == ("sent", 2, "SM1")

    outbox.queue(
        db.session,
        recipient="+31687654321",
        template="location_stale_reminder",
        context={"location": "X", "last_confirmed": None},
        dedupe_key="stop",
    )
    db.session.commit()
    assert jobs.dispatch_outbox(db.session, later, config) == 0
    refused = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.dedupe_key == "stop")
    ).one()
    # 21610: the recipient texted STOP at Twilio; never retried, and remembered as an opt-out.
    assert (refused.status, refused.error_code, refused.attempts) == ("skipped", "21610", 1)
    assert "afgemeld" in refused.last_error
    assert delivery.is_opted_out(db.session, "+31687654321")


def test_a_claimed_message_is_never_handed_out_again(db):
    now = clock.now()
    outbox.queue(
        db.session,
        recipient=STAFF_MOBILE,
        template="location_stale_reminder",
        context={"location": "X", "last_confirmed": None},
        dedupe_key="once",
        now=now,
    )
    db.session.commit()
    (message_id,) = outbox.due_ids(db.session, now)
    assert outbox.claim(db.session, message_id, now) is not None
    db.session.commit()
    # A crash after the claim leaves it 'sending' for reconciliation, not for a second send.
    assert outbox.due_ids(db.session, now + timedelta(hours=2)) == []
    assert outbox.claim(db.session, message_id, now + timedelta(hours=2)) is None
    assert outbox.outbox_health(db.session, now + timedelta(hours=2))["overdue"] == 1


def test_console_backend_prints_one_line_per_message(capsys):
    message = OutboxMessage(id=7, recipient=STAFF_MOBILE, body="respijt: test")
    result = backends.ConsoleBackend().send(message)
    assert result.outcome == "sent"
    assert capsys.readouterr().out == f"SMS #7 aan {STAFF_MOBILE}: respijt: test\n"


def test_unknown_backend_is_refused_with_a_clear_message():
    with pytest.raises(RuntimeError, match="RESPIJT_SMS_BACKEND='pigeon' is onbekend"):
        transports.get_backend({"RESPIJT_SMS_BACKEND": "pigeon"})


LINK = "https://respijt.example.nl/a/IlItN0szUDlRIg.awLNgg.wvlh2AOvC-8ADDIDdS02hDou6Sg"


@pytest.mark.parametrize(
    "template",
    sorted(p.removesuffix(".txt") for p in __import__("os").listdir(texts.TEMPLATE_DIR)),
)
@pytest.mark.parametrize("link", [None, LINK])
def test_every_template_fits_one_sms_segment_in_gsm7(template, link):
    context = {
        "code": "ACD349",
        "reference": "R-7K3P9Q",
        "location": "Zorgcentrum De Lindehof",
        "arrival": "2027-12-24",
        "departure": "2028-01-14",
        "nights": 21,
        "deadline": "2027-12-23T22:59:00+00:00",
        "last_confirmed": "2027-11-30",
        "link": link,
        # the meldpunt rota and voicemail templates
        "region": "LEI",
        "starts_at": "2027-12-20T08:00:00+00:00",
        "ends_at": "2027-12-27T08:00:00+00:00",
        "handover_count": 2,
        "caller": "+31687654321",
        # the alert after a declined or expired offer: a link to the meldpunt's request page
        "declined": True,
        "page": "https://respijt.example.nl/meldpunt/aanvragen/R-7K3P9Q",
        # the series' offer and confirmation: every stay in one message
        "count": 6,
        "stays_text": "Zorgcentrum De Lindehof 24 dec, 21 jan, 18 feb, 18 mrt en 22 meer "
        "(telkens 2 nachten)",
    }
    body = texts.render(template, context)
    # A message with the family's signed link may take a second segment (153 characters each):
    # every SMS to the family carries it (docs/sms.md); so may a series' message that names all
    # its stays at once (instead of one SMS per stay). Anything else: one segment.
    series = template in ("request_series_offer", "reservation_series_confirmed")
    limit = 306 if link or series else 160
    assert len(body) <= limit, (len(body), body)
    assert set(body) <= GSM7, set(body) - GSM7
    # Each uses its context: a code, place, reference or region (the satisfaction question: the
    # departure date, and nothing else).
    assert "{" not in body
    assert re.search(r"\bACD349\b|Lindehof|R-7K3P9Q|\bLEI\b", body) or (
        template == "satisfaction_question" and "tot 14 jan?" in body
    )


class ExplodingBackend:
    def send(self, message: OutboxMessage) -> SendResult:
        if message.dedupe_key == "boom":
            raise ConnectionError("reset mid-request")
        return SendResult("sent")


def test_a_send_that_blows_up_is_left_for_reconciliation_and_the_rest_go_out(db, app):
    transports.register_backend("exploding", lambda config: ExplodingBackend())
    config = {**app.config, "RESPIJT_SMS_BACKEND": "exploding"}
    now = clock.now()
    for key in ("boom", "fine"):
        outbox.queue(
            db.session,
            recipient=STAFF_MOBILE,
            template="location_stale_reminder",
            context={"location": "X", "last_confirmed": None},
            dedupe_key=key,
            now=now,
        )
    db.session.commit()
    assert jobs.dispatch_outbox(db.session, now, config) == 1
    db.session.commit()
    rows = db.session.execute(select(OutboxMessage.dedupe_key, OutboxMessage.status))
    assert {key: status for key, status in rows} == {"boom": "sending", "fine": "sent"}


def test_retry_waits_double_up_to_the_limit_with_jitter():
    policy = outbox.RetryPolicy.from_config(
        {
            "RESPIJT_OUTBOX_MAX_ATTEMPTS": 5,
            "RESPIJT_OUTBOX_RETRY_BASE_SECONDS": 60,
            "RESPIJT_OUTBOX_RETRY_MAX_SECONDS": 300,
        }
    )
    rng = random.Random(1)
    for attempts, full in [(1, 60), (2, 120), (3, 240), (4, 300), (9, 300), (80, 300)]:
        waits = {policy.delay(attempts, rng).total_seconds() for _ in range(50)}
        assert all(full / 2 <= w <= full for w in waits), (attempts, waits)
        assert len(waits) > 40  # jittered: retries of many messages do not line up
    assert policy.max_attempts == 5
    assert outbox.RetryPolicy(base=timedelta(0)).delay(3) == timedelta(0)


def _statuses(db) -> dict[str, str]:
    rows = db.session.execute(select(OutboxMessage.dedupe_key, OutboxMessage.status))
    return {key: status for key, status in rows}


class ProcessDied(BaseException):
    """Stands in for kill -9: nothing after it runs, nothing uncommitted survives."""


class CrashingBackend:
    def __init__(self, crash_on: int) -> None:
        self.crash_on = crash_on
        self.sent: list[str] = []

    def send(self, message: OutboxMessage) -> SendResult:
        if len(self.sent) + 1 == self.crash_on:
            raise ProcessDied()
        self.sent.append(message.dedupe_key)
        return SendResult("sent", provider_message_id=f"SM-{message.dedupe_key}")


def test_a_crash_mid_batch_leaves_only_the_message_in_flight_uncertain(db, app):
    crashing = CrashingBackend(crash_on=3)
    working = ScriptedBackend([SendResult("sent", provider_message_id=f"SM{i}") for i in range(9)])
    transports.register_backend("crashing", lambda config: crashing)
    transports.register_backend("working", lambda config: working)
    now = clock.now()
    clock.freeze(now)
    keys = [f"batch-{i}" for i in range(6)]
    for key in keys:
        outbox.queue(
            db.session,
            recipient=STAFF_MOBILE,
            template="location_stale_reminder",
            context={"location": "X", "last_confirmed": None},
            dedupe_key=key,
            now=now,
        )
    db.session.commit()

    with pytest.raises(ProcessDied):
        jobs.dispatch_outbox(db.session, now, {**app.config, "RESPIJT_SMS_BACKEND": "crashing"})
    db.session.rollback()  # the dead process's open transaction is gone
    statuses = _statuses(db)
    assert statuses == {
        "batch-0": "sent",
        "batch-1": "sent",
        "batch-2": "sending",  # in flight when it died: reconciled after the timeout
        "batch-3": "pending",
        "batch-4": "pending",
        "batch-5": "pending",
    }

    # The next run, a moment later, sends the rest at once; the uncertain one waits.
    soon = now + timedelta(seconds=5)
    clock.freeze(soon)
    config = {**app.config, "RESPIJT_SMS_BACKEND": "working"}
    assert jobs.dispatch_outbox(db.session, soon, config) == 3
    db.session.commit()
    statuses = _statuses(db)
    assert [statuses[k] for k in keys] == ["sent", "sent", "sending", "sent", "sent", "sent"]
    assert jobs.release_stuck_messages(db.session, soon, app.config) == 0
