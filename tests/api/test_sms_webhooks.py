"""Twilio webhooks through the fake Twilio and the test client: signatures, replays, statuses,
opt-out, JA/NEE from providers and OK from locations."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from respijt import clock
from respijt.cli.fake_twilio import twilio_signature
from respijt.messages import delivery
from respijt.messages.twilio import TwilioGateway
from respijt.models import (
    InboundMessage,
    MessageStatusEvent,
    NightInventory,
    Reservation,
    ReservationEvent,
    SmsOptOut,
    TwilioWebhookReceipt,
)
from respijt.people.caller import Caller
from respijt.reservations import holds

STAFF = "+31612345678"
CONTACT = "+31687654321"
STRANGER = "+31611112222"
STATUS_URL = "http://127.0.0.1/twilio/sms/status"


@pytest.fixture()
def gateway(app, fake_twilio_server):
    with TwilioGateway.from_config(app.config) as gw:
        yield gw


def count(db, model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def awaiting_reservation(db, make, *, confirm_hours: float = 24) -> Reservation:
    provider = make.provider(staff_mobiles=["06 12345678"])
    location = make.location(provider=provider, name="De Linde", contact_mobile="06 87654321")
    unit = make.unit(location=location, requires_provider_confirmation=True)
    arrival = clock.today() + timedelta(days=7)
    reservation, _ = holds.place_hold(
        db.session,
        unit_id=unit.id,
        arrival=arrival,
        departure=arrival + timedelta(days=3),
        caller=Caller("token:1", "verwijzer"),
        now=clock.now(),
        today=clock.today(),
        hold_minutes=15,
        provider_confirm_hours=confirm_hours,
        confirm=True,
    )
    db.session.commit()
    assert reservation.status == "awaiting_provider"
    return reservation


def reserved_nights(db, reservation: Reservation) -> list[int]:
    return list(
        db.session.scalars(
            select(NightInventory.reserved)
            .where(
                NightInventory.unit_id == reservation.unit_id,
                NightInventory.night >= reservation.arrival,
                NightInventory.night < reservation.departure,
            )
            .order_by(NightInventory.night)
        )
    )


# --- signatures -----------------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", ["/twilio/sms/status", "/twilio/sms/inbound"])
def test_missing_or_wrong_signature_is_403_and_changes_nothing(client, db, endpoint):
    params = {
        "MessageSid": "SM" + "1" * 32,
        "MessageStatus": "delivered",
        "From": STRANGER,
        "To": "+3197010200300",
        "Body": "STOP",
    }
    url = "http://127.0.0.1" + endpoint
    token = client.application.config["RESPIJT_TWILIO_AUTH_TOKEN"]
    attempts = [
        {},
        {"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"},
        {"X-Twilio-Signature": twilio_signature("another-token", url, params)},
        {"X-Twilio-Signature": twilio_signature(token, "http://elders.example" + endpoint, params)},
        {"X-Twilio-Signature": twilio_signature(token, url, {**params, "Body": "START"})},
    ]
    for headers in attempts:
        response = client.post(endpoint, data=params, headers=headers)
        assert response.status_code == 403
    assert count(db, MessageStatusEvent) == 0
    assert count(db, SmsOptOut) == 0
    assert count(db, InboundMessage) == 0
    # The same request signed over RESPIJT_PUBLIC_URL + path is accepted.
    signed = {"X-Twilio-Signature": twilio_signature(token, url, params)}
    assert client.post(endpoint, data=params, headers=signed).status_code in (200, 204)


# --- status callbacks -----------------------------------------------------------------------


def test_replayed_status_callback_has_no_second_effect(db, fake_twilio_server, gateway):
    sent = gateway.send(CONTACT, "Uw reservering R-7K3P is bevestigd.", STATUS_URL)

    first = fake_twilio_server.post_status(sent.sid, "delivered")
    replay = fake_twilio_server.post_status(sent.sid, "delivered", token=first.token)

    assert (first.status_code, replay.status_code) == (204, 204)
    assert count(db, MessageStatusEvent, MessageStatusEvent.sid == sent.sid) == 1


def test_old_idempotency_tokens_are_purged_recent_ones_kept(db, fake_twilio_server, gateway):
    sent = gateway.send(CONTACT, "Bericht", STATUS_URL)
    old = fake_twilio_server.post_status(sent.sid, "sent")
    clock.freeze(clock.now() + timedelta(days=3))
    recent = fake_twilio_server.post_status(sent.sid, "delivered")

    purged = delivery.purge_webhook_receipts(db.session, clock.now() - timedelta(days=2))
    db.session.commit()

    assert purged == 1
    tokens = set(db.session.scalars(select(TwilioWebhookReceipt.token)))
    assert tokens == {recent.token} and old.token not in tokens


@pytest.mark.parametrize(
    ("arrivals", "final", "error_code"),
    [
        (["delivered", "sent", "queued"], "delivered", None),
        (["sent", "undelivered", "delivered"], "undelivered", 30005),
        (["queued", "failed", "sent", "delivered"], "failed", 30008),
        (["sending", "sent", "queued"], "sent", None),
    ],
)
def test_out_of_order_statuses_end_in_the_right_final_state(
    db, fake_twilio_server, gateway, arrivals, final, error_code
):
    sent = gateway.send(CONTACT, "Herinnering R-7K3P", STATUS_URL)
    errors = {"undelivered": 30005, "failed": 30008}

    for status in arrivals:
        result = fake_twilio_server.post_status(sent.sid, status, error_code=errors.get(status))
        assert result.status_code == 204

    assert count(db, MessageStatusEvent, MessageStatusEvent.sid == sent.sid) == len(arrivals)
    assert delivery.current_status(db.session, sent.sid) == (final, error_code)


# --- opt-out --------------------------------------------------------------------------------


def test_stop_records_an_opt_out_that_start_removes(db, fake_twilio_server, gateway):
    stop = fake_twilio_server.send_inbound(CONTACT, " Stop ")

    assert stop.status_code == 200 and stop.replies == []  # Twilio itself confirms a STOP
    assert delivery.is_opted_out(db.session, CONTACT)
    refused = gateway.send(CONTACT, "Uw reservering R-7K3P is bevestigd.")
    assert (refused.kind, refused.error_code) == ("permanent", 21610)

    fake_twilio_server.send_inbound(CONTACT, "START")

    assert not delivery.is_opted_out(db.session, CONTACT)
    assert gateway.send(CONTACT, "Uw reservering R-7K3P is bevestigd.").kind == "accepted"
    commands = db.session.scalars(select(InboundMessage.command).order_by(InboundMessage.id))
    assert list(commands) == ["opt_out", "opt_in"]


@pytest.mark.parametrize("body", ["stoppen", "stop maar met de reservering", "Niet stoppen"])
def test_opt_out_keywords_count_only_as_the_whole_message(db, fake_twilio_server, body):
    result = fake_twilio_server.send_inbound(CONTACT, body)

    assert result.status_code == 200
    assert not delivery.is_opted_out(db.session, CONTACT)
    assert "JA <code>" in result.replies[0]


# --- JA / NEE from the provider -------------------------------------------------------------


def test_ja_from_a_registered_staff_mobile_confirms(db, make, fake_twilio_server):
    reservation = awaiting_reservation(db, make)

    result = fake_twilio_server.send_inbound(STAFF, f"ja {reservation.short_code.lower()}")

    db.session.refresh(reservation)
    assert reservation.status == "confirmed"
    assert reservation.events[-1].actor == f"sms:{STAFF}"
    assert f"Reservering {reservation.short_code}" in result.replies[0]
    assert "bevestigd" in result.replies[0] and "De Linde" in result.replies[0]
    assert fake_twilio_server.replies == [(STAFF, result.replies[0])]


def test_nee_from_a_registered_staff_mobile_declines_and_frees_the_bed(
    db, make, fake_twilio_server
):
    reservation = awaiting_reservation(db, make)
    assert reserved_nights(db, reservation) == [1, 1, 1]

    result = fake_twilio_server.send_inbound(STAFF, f"NEE {reservation.short_code}.")

    db.session.refresh(reservation)
    assert reservation.status == "declined"
    assert reserved_nights(db, reservation) == [0, 0, 0]
    assert "afgewezen" in result.replies[0]


def test_ja_from_another_number_is_refused_with_a_helpful_reply(db, make, fake_twilio_server):
    reservation = awaiting_reservation(db, make)

    result = fake_twilio_server.send_inbound(STRANGER, f"JA {reservation.short_code}")

    db.session.refresh(reservation)
    assert reservation.status == "awaiting_provider"
    assert "niet geregistreerd" in result.replies[0]
    assert "De Linde" not in result.replies[0]  # nothing about the stay to a stranger


def test_ja_with_an_unknown_or_missing_code_is_refused(db, make, fake_twilio_server):
    reservation = awaiting_reservation(db, make)

    unknown = fake_twilio_server.send_inbound(STAFF, "JA QQQQQQ")
    missing = fake_twilio_server.send_inbound(STAFF, "ja")

    db.session.refresh(reservation)
    assert reservation.status == "awaiting_provider"
    assert "QQQQQQ is onbekend" in unknown.replies[0]
    assert "Zet de code" in missing.replies[0]


def test_ja_for_an_expired_hold_is_refused(db, make, fake_twilio_server):
    reservation = awaiting_reservation(db, make, confirm_hours=1)
    clock.freeze(clock.now() + timedelta(hours=2))

    result = fake_twilio_server.send_inbound(STAFF, f"JA {reservation.short_code}")

    db.session.refresh(reservation)
    assert reservation.status != "confirmed"
    assert "verlopen" in result.replies[0]


def test_ja_twice_says_it_was_already_confirmed(db, make, fake_twilio_server):
    reservation = awaiting_reservation(db, make)
    fake_twilio_server.send_inbound(STAFF, f"JA {reservation.short_code}")

    again = fake_twilio_server.send_inbound(STAFF, f"JA {reservation.short_code}")

    assert "al bevestigd" in again.replies[0]
    assert count(db, ReservationEvent, ReservationEvent.to_status == "confirmed") == 1


def test_replayed_inbound_message_has_no_second_effect(db, make, fake_twilio_server):
    reservation = awaiting_reservation(db, make)
    body = f"NEE {reservation.short_code}"

    first = fake_twilio_server.send_inbound(STAFF, body)
    same_token = fake_twilio_server.send_inbound(
        STAFF, body, token=first.token, sid=first.params["MessageSid"]
    )
    same_sid = fake_twilio_server.send_inbound(STAFF, body, sid=first.params["MessageSid"])

    assert [r.status_code for r in (first, same_token, same_sid)] == [200, 200, 200]
    assert same_token.replies == [] and same_sid.replies == []
    assert count(db, InboundMessage) == 1
    assert count(db, ReservationEvent, ReservationEvent.to_status == "declined") == 1
    assert reserved_nights(db, reservation) == [0, 0, 0]  # released once, not twice


def test_provider_asked_by_sms_answers_ja_through_the_fake_twilio(
    db, make, fake_twilio_server, gateway
):
    reservation = awaiting_reservation(db, make)
    asked = gateway.send(
        STAFF,
        f"Nieuwe aanvraag De Linde, code {reservation.short_code}. Antwoord JA "
        f"{reservation.short_code} of NEE {reservation.short_code}.",
        STATUS_URL,
    )
    assert asked.kind == "accepted"

    result = fake_twilio_server.send_inbound(STAFF, f"JA {reservation.short_code}")

    db.session.refresh(reservation)
    assert reservation.status == "confirmed"
    stored = db.session.scalar(select(InboundMessage))
    assert (stored.command, stored.outcome, stored.reservation_id) == (
        "confirm",
        "confirmed",
        reservation.id,
    )
    assert result.replies and "bevestigd" in result.replies[0]


# --- OK from a location ---------------------------------------------------------------------


def test_ok_from_the_location_contact_confirms_its_bed_counts(db, make, fake_twilio_server):
    location = make.location(name="De Linde", contact_mobile="06 87654321")
    later = clock.now() + timedelta(days=4)
    clock.freeze(later)

    result = fake_twilio_server.send_inbound(CONTACT, "Ok")
    stranger = fake_twilio_server.send_inbound(STRANGER, "OK")

    db.session.refresh(location)
    assert location.last_confirmed_at == later
    assert "De Linde" in result.replies[0]
    assert "geen locatie" in stranger.replies[0]


def test_the_same_callback_delivered_in_parallel_counts_once(app, db, fake_twilio_server, gateway):
    sent = gateway.send(CONTACT, "Bericht", STATUS_URL)
    url = STATUS_URL
    params = {"MessageSid": sent.sid, "MessageStatus": "delivered", "To": CONTACT}
    headers = {
        "X-Twilio-Signature": twilio_signature(
            app.config["RESPIJT_TWILIO_AUTH_TOKEN"], url, params
        ),
        "I-Twilio-Idempotency-Token": "same-token-everywhere",
    }
    barrier = threading.Barrier(6)

    def post() -> int:
        client = app.test_client()  # each thread gets its own app context and session
        barrier.wait()
        return client.post("/twilio/sms/status", data=params, headers=headers).status_code

    with ThreadPoolExecutor(max_workers=6) as pool:
        codes = list(pool.map(lambda _: post(), range(6)))

    assert codes == [204] * 6
    assert count(db, MessageStatusEvent, MessageStatusEvent.sid == sent.sid) == 1
