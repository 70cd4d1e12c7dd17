"""The family's signed link is a credential (whoever has it may choose or cancel for them), so
it is never stored: the outbox row and the family notice hold a placeholder, what an admin
reads of a message shows that placeholder, and the link is made when the message goes out —
again at every attempt — through the real dispatch job, the real `twilio` client and the fake
Twilio on 127.0.0.1."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from respijt import clock
from respijt.care_requests import links as request_links
from respijt.messages import mail, outbox, send_time_link
from respijt.models import CareRequest, FamilyNotice, OutboxMessage
from respijt.scheduler import jobs
from tests.care_request_helpers import freeze_start, json_body
from tests.messages.test_sms_integration import FAULT_TIMEOUT, drain, rows, twilio_config

FAMILY = "+31687654321"
TOKEN = re.compile(r"/a/([A-Za-z0-9_.-]+)")


def _request(client: Any, make: Any, **contact: str) -> str:
    today = freeze_start()
    municipality = make.municipality(region=make.region())
    make.unit(location=make.location(municipality=municipality, name="De Linde"))
    created = client.post(
        "/api/v1/requests",
        json=json_body(
            municipality,
            today + timedelta(days=10),
            today + timedelta(days=12),
            contact={"name": "Marja", **(contact or {"mobile": "06 87654321"})},
        ),
    )
    assert created.status_code == 201, created.get_data(as_text=True)
    return str(created.get_json()["reference"])


def _opens(client: Any, token: str, reference: str) -> bool:
    """Follow the link as the family's browser does: it must open their own request."""
    family = client.application.test_client()
    opened = family.get(f"/a/{token}")
    assert opened.status_code == 303 and opened.headers["Location"].endswith("/mijn-aanvraag")
    page = family.get("/mijn-aanvraag").get_data(as_text=True)
    return f"Uw aanvraag {reference}" in page


def _assert_stored_without_link(row: OutboxMessage, *tokens: str) -> None:
    assert "/a/" not in row.body and send_time_link.LINK_PLACEHOLDER in row.body, row.body
    assert "link" not in row.context
    for token in tokens:
        assert token not in row.body and token not in str(row.context)


def test_the_link_is_made_when_the_sms_is_sent_and_never_stored(
    app, db, make, client, fake_twilio_server
):
    reference = _request(client, make)
    (row,) = rows(db)
    assert row.template == "request_received" and reference in row.body
    _assert_stored_without_link(row)
    assert row.body.endswith("Volgen: [link]")
    # What an admin reads of the message: the placeholder, no token.
    listed = client.get("/api/v1/messages", headers=make.token("admin"))
    assert listed.status_code == 200
    (shown,) = listed.get_json()["items"]
    assert shown["body"] == row.body and "/a/" not in shown["body"]

    drain(app, db, twilio_config(app))

    (received,) = fake_twilio_server.messages(to=FAMILY)
    (token,) = TOKEN.findall(received.body)
    link = f"{app.config['RESPIJT_PUBLIC_URL']}/a/{token}"
    assert received.body == row.body.replace("[link]", link)
    assert request_links.reference_from_token(app.secret_key, token, 3600) == reference
    # The real link's length counts: the message still fits one segment.
    assert len(received.body) <= 160
    (sent,) = rows(db)
    assert sent.status == "sent"
    _assert_stored_without_link(sent, token)
    listed = client.get("/api/v1/messages", headers=make.token("admin")).get_json()["items"]
    assert token not in str(listed) and "/a/" not in str(listed)
    assert _opens(client, token, reference)


def test_a_retry_after_a_failed_send_makes_the_link_again(
    app, db, make, client, fake_twilio_server
):
    reference = _request(client, make)
    fake_twilio_server.set_failures(script=["503"])
    config = twilio_config(app)
    assert jobs.dispatch_outbox(db.session, clock.now(), config) == 0
    db.session.commit()
    (row,) = rows(db)
    assert (row.status, row.attempts) == ("pending", 1)
    _assert_stored_without_link(row)

    drain(app, db, config)

    (received,) = fake_twilio_server.messages(to=FAMILY)
    (token,) = TOKEN.findall(received.body)
    (row,) = rows(db)
    assert (row.status, row.attempts) == ("sent", 2)
    _assert_stored_without_link(row, token)
    assert _opens(client, token, reference)


def test_an_unanswered_send_is_found_at_twilio_by_the_text_around_its_link(
    app, db, make, client, fake_twilio_server
):
    """The first attempt reached Twilio but its answer was lost; the retry makes another link
    (a second later, so another token), yet finds the first message and sends nothing twice."""
    reference = _request(client, make)
    fake_twilio_server.set_failures(script=["timeout"], timeout_delay=1.0)
    config = twilio_config(app, RESPIJT_TWILIO_TIMEOUT_SECONDS=FAULT_TIMEOUT)
    jobs.dispatch_outbox(db.session, clock.now(), config)
    (row,) = rows(db)
    assert (row.status, row.error_code) == ("pending", "ambiguous")
    (first,) = fake_twilio_server.messages(to=FAMILY)
    (first_token,) = TOKEN.findall(first.body)
    time.sleep(1.1)  # the token carries its second: the retry's link differs
    (again,) = [m for m in rows(db) if m.id == row.id]
    with app.app_context():
        retry_text = jobs.copy_to_send(db.session, again).body
        db.session.commit()
    assert first_token not in retry_text

    drain(app, db, config)

    (row,) = rows(db)
    assert (row.status, row.provider_message_id) == ("sent", first.sid)
    assert fake_twilio_server.post_attempts == 1
    assert _opens(client, first_token, reference)


def test_a_message_whose_request_was_cleared_goes_without_the_link(
    app, db, make, client, fake_twilio_server
):
    reference = _request(client, make)
    care_request = db.session.scalars(select(CareRequest)).one()
    care_request.anonymised_at = clock.now()  # the retention cleared its names meanwhile
    db.session.commit()

    drain(app, db, twilio_config(app))

    (received,) = fake_twilio_server.messages(to=FAMILY)
    assert received.body == (
        f"respijt: aanvraag {reference} ontvangen. U krijgt sms bij een aanbod."
    )
    (row,) = rows(db)
    assert row.status == "sent"


def test_the_family_mail_gets_the_link_when_it_is_sent(app, db, make, client):
    reference = _request(client, make, email="marja@voorbeeld.nl")
    (notice,) = db.session.scalars(select(FamilyNotice)).all()
    assert notice.kind == "email" and "/a/" not in notice.body and "[link]" in notice.body
    mail.outbox.clear()

    assert jobs.send_family_mail(db.session, clock.now(), app.config) == 1

    (message,) = mail.outbox
    mail.outbox.clear()
    (token,) = TOKEN.findall(message.get_content())
    db.session.expire_all()
    (notice,) = db.session.scalars(select(FamilyNotice)).all()
    assert notice.status == "sent" and token not in notice.body and "/a/" not in notice.body
    assert _opens(client, token, reference)


def test_a_link_is_never_queued_as_plain_text(db):
    with pytest.raises(TypeError, match="SendTimeLink"):
        outbox.queue(
            db.session,
            recipient=FAMILY,
            template="request_link",
            context={"reference": "R-7K3P9Q", "link": "https://respijt.example.nl/a/secret"},
            dedupe_key="test:plain-link",
        )
    assert db.session.scalars(select(OutboxMessage)).all() == []
