"""Which SMS care requests and stays cause, and to whom: the requester's contact mobile, the
meldpunt on duty, the day-before reminder. Texts carry the reference and location, never the
client."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from respijt import clock
from respijt.care_requests import intake, lifecycle, waitlist
from respijt.care_requests import links as request_links
from respijt.messages import delivery
from respijt.models import OutboxMessage, TwilioWebhookReceipt
from respijt.people.caller import Caller
from respijt.privacy.retention import WEBHOOK_RECEIPT_KEEP
from respijt.reservations import holds, steps
from respijt.scheduler import jobs
from tests.care_request_helpers import STAFF, body, create, freeze_start, json_body, later, occupy
from tests.outbox_support import text_as_sent

CONTACT = "+31612345678"  # care_request_helpers.body(): contact mobile 06 12345678
PUBLIC_FORM = Caller(key="public", role="public")


def messages(db: Any, template: str | None = None) -> list[OutboxMessage]:
    query = select(OutboxMessage).order_by(OutboxMessage.id)
    if template:
        query = query.where(OutboxMessage.template == template)
    return list(db.session.scalars(query))


def assert_no_client_data(message: OutboxMessage) -> None:
    for word in ("Jan", "1941", "Marja", "ouderen", "vakantie", "dementie"):
        assert word not in message.body, (word, message.body)


def test_a_request_from_the_public_form_is_acknowledged_with_its_signed_link(app, db, make, client):
    today = freeze_start()
    municipality = make.municipality()
    make.unit(location=make.location(municipality=municipality))

    created = client.post(
        "/api/v1/requests",
        json=json_body(municipality, today + timedelta(days=14), today + timedelta(days=17)),
    )

    reference = created.get_json()["reference"]
    (message,) = messages(db, "request_received")
    assert (message.recipient, message.status) == (CONTACT, "pending")
    assert reference in message.body and "/a/" not in message.body
    assert "link" not in message.context  # the link is a credential: made when it is sent
    assert_no_client_data(message)
    sent = text_as_sent(db.session, message)
    token = sent.split("/a/", 1)[1]
    assert request_links.reference_from_token(app.secret_key, token, 3600) == reference
    # One segment with the real link in it, not with the shorter placeholder.
    assert sent.startswith("respijt: aanvraag") and len(sent) <= 160


def test_a_request_made_with_an_account_is_acknowledged_with_the_familys_link(db, make):
    today = freeze_start()
    municipality = make.municipality()
    make.unit(location=make.location(municipality=municipality))

    care_request = create(
        db.session, body(municipality, today + timedelta(days=14), today + timedelta(days=17))
    )

    (message,) = messages(db)
    assert message.template == "request_received" and care_request.reference in message.body
    assert "/a/" not in message.body and "link" not in message.context
    assert "/a/" in text_as_sent(db.session, message)
    assert_no_client_data(message)


def test_a_waitlist_offer_reaches_the_contact_and_a_lapsed_one_says_so(db, make):
    today = freeze_start()
    municipality = make.municipality()
    unit = make.unit(location=make.location(municipality=municipality, name="De Linde"))
    arrival, departure = today + timedelta(days=20), today + timedelta(days=23)
    blocking = occupy(db.session, unit, arrival, departure)
    occupy(db.session, unit, arrival, departure)
    care_request = create(db.session, body(municipality, arrival, departure))
    assert care_request.status == "waitlisted"
    assert [m.template for m in messages(db)] == ["request_received"]  # no second SMS yet

    steps.cancel(
        db.session, blocking, party="requester", caller=STAFF, now=clock.now(), reason="ziek"
    )
    [offer] = waitlist.run_waitlist(db.session, clock.now(), offer_hours=24).offers
    db.session.commit()

    (message,) = messages(db, "request_offer")
    assert message.recipient == CONTACT
    assert care_request.reference in message.body and "De Linde" in message.body
    assert "Reageer voor" in message.body
    assert_no_client_data(message)

    later(hours=25)
    waitlist.run_waitlist(db.session, clock.now(), offer_hours=24)
    db.session.commit()
    (back,) = messages(db, "request_waitlisted")
    assert care_request.reference in back.body and back.recipient == CONTACT


def test_expiry_and_closing_without_a_fit_tell_the_contact(db, make):
    today = freeze_start()
    municipality = make.municipality()
    closing = create(
        db.session, body(municipality, today + timedelta(days=5), today + timedelta(days=8))
    )
    expiring = create(
        db.session, body(municipality, today + timedelta(days=2), today + timedelta(days=4))
    )

    lifecycle.close_without_fit(
        db.session, closing, caller=STAFF, now=clock.now(), reason="crisisroute"
    )
    later(days=3)
    lifecycle.expire_past_requests(db.session, now=clock.now(), today=clock.today())
    db.session.commit()

    (closed,) = messages(db, "request_closed")
    (expired,) = messages(db, "request_expired")
    assert closing.reference in closed.body and expiring.reference in expired.body
    assert "crisisroute" not in closed.body  # the meldpunt's reason stays internal


def test_an_urgent_request_without_a_fit_alerts_the_meldpunt_on_duty_at_once(db, make):
    freeze_start()
    region = make.region()
    municipality = make.municipality(region=region)
    by_duty_phone = make.provider(regions=[region], pool=True, duty_phone="06 11112222")
    by_staff_mobile = make.provider(
        regions=[region], pool=True, duty_phone="015 212 3456", staff_mobiles=["06 33334444"]
    )
    make.provider(regions=[region], pool=False, duty_phone="06 55556666")  # not in the pool
    today = clock.today()

    care_request = create(
        db.session,
        body(municipality, today + timedelta(days=1), today + timedelta(days=4), urgency="urgent"),
    )

    alerts = messages(db, "request_attention")
    # The rota has the first pool provider on duty (the factory's shift); its duty phone is a
    # mobile, so the alert goes there, and not to the other pool member or the outsider.
    assert [m.recipient for m in alerts] == ["+31611112222"]
    assert all(m.urgent and m.status == "pending" for m in alerts)
    assert all(care_request.reference in m.body and "SPOED" in m.body for m in alerts)
    assert_no_client_data(alerts[0])
    assert by_duty_phone.id != by_staff_mobile.id


def test_a_provider_answer_is_passed_on_to_the_requesters_contact_mobile(db, make):
    today = freeze_start()
    municipality = make.municipality()
    provider = make.provider(staff_mobiles=["06 44445555"])
    unit = make.unit(
        location=make.location(provider=provider, municipality=municipality, name="De Linde"),
        requires_provider_confirmation=True,
    )
    arrival = today + timedelta(days=9)
    care_request = create(db.session, body(municipality, arrival, arrival + timedelta(days=2)))
    reservation, _ = holds.place_hold(
        db.session,
        unit_id=unit.id,
        arrival=arrival,
        departure=arrival + timedelta(days=2),
        caller=STAFF,
        now=clock.now(),
        today=today,
        hold_minutes=15,
        provider_confirm_hours=24,
        confirm=True,
        request_id=care_request.id,
    )
    steps.confirm_by_provider(
        db.session, reservation, caller=Caller("sms", "provider", provider.id), now=clock.now()
    )
    db.session.commit()

    (asked,) = messages(db, "reservation_confirm_request")
    code = reservation.short_code
    assert asked.recipient == "+31644445555"
    assert f"JA {code}" in asked.body and f"NEE {code}" in asked.body
    (told,) = messages(db, "reservation_confirmed")
    assert told.recipient == CONTACT and code in told.body and "De Linde" in told.body
    assert_no_client_data(told)


def test_the_reminder_goes_the_day_before_arrival_once(app, db, make):
    freeze_start()  # Monday 2027-03-01 10:00 local
    municipality = make.municipality()
    unit = make.unit(location=make.location(municipality=municipality, name="De Linde"))
    today = clock.today()
    stays = {}
    for days in (1, 2):
        arrival = today + timedelta(days=days)
        care_request = create(db.session, body(municipality, arrival, arrival + timedelta(days=3)))
        reservation, _ = holds.place_hold(
            db.session,
            unit_id=unit.id,
            arrival=arrival,
            departure=arrival + timedelta(days=3),
            caller=STAFF,
            now=clock.now(),
            today=today,
            hold_minutes=15,
            provider_confirm_hours=24,
            confirm=True,
            request_id=care_request.id,
        )
        stays[days] = reservation
    db.session.commit()

    assert jobs.remind_arrivals(db.session, clock.now(), app.config) == 1
    assert jobs.remind_arrivals(db.session, clock.now(), app.config) == 0  # once
    db.session.commit()

    (reminder,) = messages(db, "reservation_reminder")
    assert stays[1].short_code in reminder.body and "morgen" in reminder.body
    assert reminder.recipient == CONTACT
    later(days=1)
    assert jobs.remind_arrivals(db.session, clock.now(), app.config) == 1  # the next one


def test_retention_forgets_webhook_tokens_past_their_retry_window(app, db):
    now = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
    delivery.claim_webhook_token(db.session, "old", "sms_status", now - WEBHOOK_RECEIPT_KEEP * 2)
    delivery.claim_webhook_token(db.session, "recent", "sms_status", now - timedelta(hours=1))
    db.session.commit()

    assert jobs.run_retention(db.session, now, app.config) == 1
    db.session.commit()

    assert list(db.session.scalars(select(TwilioWebhookReceipt.token))) == ["recent"]


def test_a_hold_for_a_request_is_offered_by_sms_and_withdrawn_if_it_ends_unsent(app, db, make):
    today = freeze_start()
    municipality = make.municipality()
    unit = make.unit(location=make.location(municipality=municipality, name="De Linde"))
    arrival = today + timedelta(days=12)
    care_request = intake.create_request(
        db.session,
        body(municipality, arrival, arrival + timedelta(days=3)),
        caller=PUBLIC_FORM,
        channel="web",
        now=clock.now(),
        today=today,
        stale_after_hours=72,
    )
    reservation, _ = holds.place_hold(
        db.session,
        unit_id=unit.id,
        arrival=arrival,
        departure=arrival + timedelta(days=3),
        caller=STAFF,
        now=clock.now(),
        today=today,
        hold_minutes=24 * 60,
        provider_confirm_hours=24,
        request_id=care_request.id,
    )
    db.session.commit()

    (offer,) = messages(db, "request_offer")
    assert (offer.recipient, offer.status) == (CONTACT, "pending")
    assert care_request.reference in offer.body and "De Linde" in offer.body
    token = text_as_sent(db.session, offer).rsplit("/a/", 1)[1]
    assert request_links.reference_from_token(app.secret_key, token, 3600) == care_request.reference
    assert_no_client_data(offer)

    steps.cancel(
        db.session, reservation, party="requester", caller=STAFF, now=clock.now(), reason="x"
    )
    db.session.commit()
    db.session.refresh(offer)
    assert (offer.status, offer.error_code) == ("skipped", "superseded")
