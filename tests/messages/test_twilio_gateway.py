"""The real `twilio` client against the fake Twilio on 127.0.0.1: send outcomes and reconciliation.

No database here: these run once, not per backend.
"""

from __future__ import annotations

import socket
import time
from collections import Counter
from collections.abc import Iterator

import pytest

from respijt.cli.fake_twilio import (
    DEFAULT_ACCOUNT_SID,
    DEFAULT_AUTH_TOKEN,
    DEFAULT_FROM,
    FakeTwilio,
    twilio_signature,
)
from respijt.messages.twilio import TwilioGateway

TIMEOUT = 0.3
TO = "+31612345678"


@pytest.fixture()
def fake() -> Iterator[FakeTwilio]:
    with FakeTwilio(timeout_delay=TIMEOUT + 1.0, seed=3) as server:
        yield server


@pytest.fixture()
def gateway(fake: FakeTwilio) -> Iterator[TwilioGateway]:
    with TwilioGateway(
        DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, DEFAULT_FROM, base_url=fake.url, timeout=TIMEOUT
    ) as gw:
        yield gw


def test_accepted_send_reaches_the_fake_with_our_sender_and_callback(fake, gateway):
    outcome = gateway.send(TO, "Uw reservering R-7K3P is bevestigd.", "http://127.0.0.1/cb")

    assert outcome.kind == "accepted"
    assert outcome.sid is not None and outcome.sid.startswith("SM")
    (message,) = fake.messages()
    assert (message.sid, message.to, message.from_) == (outcome.sid, TO, DEFAULT_FROM)
    assert message.body == "Uw reservering R-7K3P is bevestigd."
    assert message.status_callback == "http://127.0.0.1/cb"


@pytest.mark.parametrize(
    ("failure", "kind", "code"),
    [
        ("500", "transient", 20500),
        ("503", "transient", 20503),
        ("429", "transient", 20429),
        ("21211", "permanent", 21211),
        ("21610", "permanent", 21610),
        ("21614", "permanent", 21614),
    ],
)
def test_refusals_are_classified_and_nothing_is_stored(fake, gateway, failure, kind, code):
    fake.set_failures(script=[failure])

    outcome = gateway.send(TO, "tekst")

    assert (outcome.kind, outcome.error_code, outcome.sid) == (kind, code, None)
    assert fake.messages() == []
    assert outcome.unsubscribed is (code == 21610)


def test_invalid_number_is_permanent(fake, gateway):
    outcome = gateway.send("0612345678", "tekst")
    assert (outcome.kind, outcome.error_code) == ("permanent", 21211)


def test_wrong_credentials_are_retried_not_dropped(fake):
    with TwilioGateway(
        DEFAULT_ACCOUNT_SID, "verkeerd", DEFAULT_FROM, base_url=fake.url, timeout=TIMEOUT
    ) as gw:
        outcome = gw.send(TO, "tekst")
    assert (outcome.kind, outcome.http_status) == ("transient", 401)
    assert fake.messages() == []


def test_no_connection_is_transient():
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with TwilioGateway(
        DEFAULT_ACCOUNT_SID,
        DEFAULT_AUTH_TOKEN,
        DEFAULT_FROM,
        base_url=f"http://127.0.0.1:{port}",
        timeout=TIMEOUT,
    ) as gw:
        outcome = gw.send(TO, "tekst")
    assert outcome.kind == "transient"


def test_accepted_then_timed_out_is_ambiguous_and_reconciliation_finds_it(fake, gateway):
    gateway.send(TO, "Ander bericht R-AAAA")
    fake.set_failures(script=["timeout"])
    started = time.monotonic()

    outcome = gateway.send(TO, "Herinnering R-7K3P: morgen aankomst.")

    assert outcome.kind == "ambiguous"
    assert time.monotonic() - started < TIMEOUT + 0.5  # the client gave up; no hanging
    stored = [m for m in fake.messages() if "R-7K3P" in m.body]
    assert len(stored) == 1 and stored[0].timed_out
    assert gateway.find_sent(TO, "R-7K3P") == stored[0].sid
    assert gateway.find_sent(TO, "R-ZZZZ") is None
    assert gateway.find_sent("+31687654321", "R-7K3P") is None


def test_reconciliation_pages_through_many_messages(fake, gateway):
    for i in range(120):
        assert gateway.send(TO, f"bericht {i:03d}").kind == "accepted"

    oldest = gateway.find_sent(TO, "bericht 000", limit=200)

    assert oldest == fake.messages()[0].sid
    assert gateway.find_sent(TO, "bericht 000", limit=50) is None  # newest first, bounded


def test_reconciliation_ignores_messages_created_before_the_first_attempt(fake, gateway):
    from respijt import clock

    earlier = gateway.send(TO, "Code R-7K3P")
    assert earlier.kind == "accepted"
    later = fake.message(earlier.sid).date_created.replace(microsecond=0)
    clock.freeze(later.replace(year=later.year + 1))
    try:
        assert gateway.find_sent(TO, "R-7K3P", created_after=clock.now()) is None
        assert gateway.find_sent(TO, "R-7K3P", created_after=later) == earlier.sid
    finally:
        clock.freeze(None)


def test_fake_signatures_validate_with_twilios_request_validator(gateway):
    url = "https://logeren.example.nl/twilio/sms/status"
    params = {"MessageSid": "SM1", "MessageStatus": "delivered", "To": TO}
    signature = twilio_signature(DEFAULT_AUTH_TOKEN, url, params)

    assert gateway.validate_signature(url, params, signature)
    assert not gateway.validate_signature(url, {**params, "MessageStatus": "failed"}, signature)
    assert not gateway.validate_signature(url + "x", params, signature)
    assert not gateway.validate_signature(url, params, None)


def test_sending_with_retry_and_reconciliation_delivers_each_message_exactly_once(fake, gateway):
    """A reference loop over the gateway (the outbox's sender does the same with backoff):
    30% transient failures and 5% accepted-then-timed-out, and still every message once."""
    fake.set_failures({"500": 0.1, "503": 0.1, "429": 0.1, "timeout": 0.05}, seed=11)
    count = 150
    outcomes: Counter[str] = Counter()
    for i in range(count):
        marker = f"R-{i:04d}"
        body = f"Reservering {marker} is bevestigd."
        for _attempt in range(30):
            outcome = gateway.send(TO, body)
            outcomes[outcome.kind] += 1
            if outcome.kind == "accepted":
                break
            if outcome.kind == "ambiguous" and gateway.find_sent(TO, marker) is not None:
                break
            assert outcome.kind != "permanent"
        else:
            pytest.fail(f"{marker} never got through")

    bodies = Counter(m.body for m in fake.messages())
    assert len(bodies) == count
    assert set(bodies.values()) == {1}
    assert outcomes["transient"] > 0 and outcomes["ambiguous"] > 0
