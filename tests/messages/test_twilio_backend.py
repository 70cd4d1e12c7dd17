"""The outbox's twilio backend against the fake Twilio: reconcile before any resend.

The rows here are stand-ins with the outbox's fields; the dispatch loop mirrors the outbox's
claim (attempts + 1) and record (sent / pending again / failed) steps.
"""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest

from respijt import clock
from respijt.cli.fake_twilio import (
    DEFAULT_ACCOUNT_SID,
    DEFAULT_AUTH_TOKEN,
    DEFAULT_FROM,
    FakeTwilio,
)
from respijt.messages.twilio import TwilioGateway
from respijt.messages.twilio_backend import AMBIGUOUS, TwilioBackend

TIMEOUT = 0.15
MAX_ATTEMPTS = 40


@dataclass
class Row:
    recipient: str
    body: str
    created_at: datetime
    attempts: int = 0
    status: str = "pending"
    error_code: str | None = None
    provider_message_id: str | None = None


@pytest.fixture()
def fake() -> Iterator[FakeTwilio]:
    with FakeTwilio(timeout_delay=TIMEOUT + 1.0, seed=5) as server:
        yield server


@pytest.fixture()
def backend(fake: FakeTwilio) -> Iterator[TwilioBackend]:
    gateway = TwilioGateway(
        DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, DEFAULT_FROM, base_url=fake.url, timeout=TIMEOUT
    )
    backend = TwilioBackend(gateway, "http://127.0.0.1/twilio/sms/status")
    yield backend
    backend.close()


def attempt(backend: TwilioBackend, row: Row) -> None:
    row.attempts += 1
    result = backend.send(row)
    row.error_code = result.error_code
    if result.outcome == "sent":
        row.status, row.provider_message_id = "sent", result.provider_message_id
    elif result.outcome == "transient" and row.attempts < MAX_ATTEMPTS:
        row.status = "pending"
    else:
        row.status = "failed"


def row(n: int, body: str | None = None) -> Row:
    return Row(f"+316{10000000 + n}", body or f"Reservering R-{n:04d} is bevestigd.", clock.now())


def test_an_answer_lost_after_twilio_accepted_is_found_not_sent_again(fake, backend):
    message = row(1)
    fake.set_failures(script=["timeout"])

    attempt(backend, message)
    assert (message.status, message.error_code) == ("pending", AMBIGUOUS)
    attempt(backend, message)

    (stored,) = fake.messages()
    assert (message.status, message.provider_message_id) == ("sent", stored.sid)
    assert fake.post_attempts == 1  # found by listing; no second POST


def test_a_retry_after_a_refusal_sends_once(fake, backend):
    message = row(2)
    fake.set_failures(script=["503", "429"])

    for _ in range(3):
        attempt(backend, message)

    assert message.status == "sent"
    assert [m.sid for m in fake.messages()] == [message.provider_message_id]


def test_an_unsubscribed_recipient_fails_at_once_with_its_code(fake, backend):
    message = row(3)
    fake.set_failures(script=["21610"])

    attempt(backend, message)

    assert (message.status, message.error_code, message.attempts) == ("failed", "21610", 1)
    assert fake.messages() == []


def test_without_twilio_to_ask_a_retry_sends_nothing(fake, backend):
    message = row(4)
    fake.set_failures(script=["timeout"])
    attempt(backend, message)
    fake.stop()

    attempt(backend, message)

    assert (message.status, message.error_code) == ("pending", AMBIGUOUS)
    assert len(fake.messages()) == 1


def test_an_identical_body_sent_before_the_row_was_queued_is_not_taken_for_it(fake, backend):
    body = "respijt: de beschikbaarheid van De Linde is niet bijgewerkt."
    yesterday = row(5, body)
    attempt(backend, yesterday)
    clock.freeze(clock.now().replace(microsecond=0) + timedelta(days=1))
    try:
        today = row(5, body)
        fake.set_failures(script=["500"])
        attempt(backend, today)
        attempt(backend, today)
    finally:
        clock.freeze(None)

    assert today.status == "sent" and today.provider_message_id != yesterday.provider_message_id
    assert len(fake.messages()) == 2


@pytest.mark.slow
def test_fault_injection_every_message_reaches_twilio_exactly_once(fake, backend):
    """30% of attempts fail transiently (500, 503, 429) and 5% are accepted then time out."""
    count = int(os.environ.get("RESPIJT_TEST_FAULT_MESSAGES", "1000"))
    fake.set_failures({"500": 0.1, "503": 0.1, "429": 0.1, "timeout": 0.05}, seed=2026)
    rows = [row(n) for n in range(count)]
    started = time.monotonic()
    local = threading.local()
    backends: list[TwilioBackend] = []

    def send(message: Row) -> None:  # one client per worker, as separate dispatchers would
        if not hasattr(local, "backend"):
            local.backend = TwilioBackend(
                TwilioGateway(
                    DEFAULT_ACCOUNT_SID,
                    DEFAULT_AUTH_TOKEN,
                    DEFAULT_FROM,
                    base_url=fake.url,
                    timeout=TIMEOUT,
                ),
                None,
            )
            backends.append(local.backend)
        attempt(local.backend, message)

    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            while pending := [r for r in rows if r.status == "pending"]:
                list(pool.map(send, pending))
    finally:
        for each in backends:
            each.close()

    elapsed = time.monotonic() - started
    received = Counter(m.body for m in fake.messages())
    assert all(r.status == "sent" for r in rows), Counter(r.status for r in rows)
    assert len(received) == count and set(received.values()) == {1}
    assert {r.provider_message_id for r in rows} == {m.sid for m in fake.messages()}
    timed_out = sum(m.timed_out for m in fake.messages())
    print(
        f"\n{count} messages, {fake.post_attempts} POSTs, {timed_out} accepted-then-timed-out, "
        f"{elapsed:.1f}s"
    )
    assert timed_out > 0 and fake.post_attempts > count * 1.3
