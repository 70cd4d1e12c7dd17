"""Requests taken on the phone or made by a verwijzer send the family the signed link in
every SMS, like the public form does; no SMS reveals health data. A verwijzer who says the
family is not to be contacted gets the messages themselves, without a link."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from respijt import clock
from respijt.models import OutboxMessage
from respijt.reservations import notices as reservation_notices
from tests.care_request_helpers import freeze_start, json_body, later
from tests.outbox_support import text_as_sent

FAMILY = "+31612345678"
LINK = re.compile(r"https?://\S+/a/(\S+)")
HEALTH = ("Jan", "1941", "Marja", "ouderen", "vakantie", "dementie", "Ouderen")


def _world(make: Any) -> dict[str, Any]:
    region = make.region()
    municipality = make.municipality(region=region)
    pool = make.provider(regions=[region], pool=True)
    unit = make.unit(location=make.location(municipality=municipality))
    return {"municipality": municipality, "unit": unit, "pool": pool}


def _family_messages(db: Any, recipient: str = FAMILY) -> list[OutboxMessage]:
    return list(
        db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.recipient == recipient)
            .order_by(OutboxMessage.id)
        )
    )


def _journey(client: Any, db: Any, headers: dict[str, str], world: dict[str, Any], **over: Any):
    """Create, choose, accept, the reminder, and cancel: every message the family gets."""
    today = clock.today()
    arrival = today + timedelta(days=5)
    created = client.post(
        "/api/v1/requests",
        headers=headers,
        json=json_body(world["municipality"], arrival, arrival + timedelta(days=2), **over),
    )
    assert created.status_code == 201, created.get_data(as_text=True)
    reference = created.get_json()["reference"]
    received = _family_messages(db, created.get_json()["contact"]["mobile"])[0]
    found = LINK.search(text_as_sent(db.session, received))
    if found:  # the family acts through the link of its SMS (phone and verwijzer requests)
        headers = {"X-Request-Token": found.group(1)}
    client.get(f"/api/v1/requests/{reference}/matches", headers=headers)
    chosen = client.post(
        f"/api/v1/requests/{reference}/choice",
        json={"unit_id": world["unit"].id},
        headers=headers,
    )
    assert chosen.status_code == 200, chosen.get_data(as_text=True)
    offer_id = chosen.get_json()["offers"][0]["id"]
    client.post(f"/api/v1/requests/{reference}/offers/{offer_id}/accept", headers=headers)
    later(days=4)
    reservation_notices.remind_arrivals_tomorrow(db.session, now=clock.now())
    db.session.commit()
    later(hours=-24 * 4 + 1)
    cancelled = client.post(
        f"/api/v1/requests/{reference}/stays/{offer_id}/cancel",
        json={"reason": "Het gaat weer beter thuis"},
        headers=headers,
    )
    assert cancelled.status_code == 200, cancelled.get_data(as_text=True)
    return reference


@pytest.mark.parametrize("role", ["verwijzer", "meldpunt"])
def test_every_sms_of_a_phone_or_verwijzer_request_carries_its_link(client, db, make, role):
    freeze_start()
    world = _world(make)
    headers = make.token(role, world["pool"]) if role == "meldpunt" else make.token(role)
    reference = _journey(client, db, headers, world)

    sent = _family_messages(db)
    assert {m.template for m in sent} >= {
        "request_received",
        "reservation_confirmed",
        "reservation_reminder",
        "reservation_cancelled",
    }
    for message in sent:
        # A credential: never stored, made when the message is sent.
        assert "/a/" not in message.body and "link" not in message.context
        found = LINK.search(text_as_sent(db.session, message))
        assert found, (message.template, message.body)
        text = message.body
        for word in HEALTH:
            assert word not in text, (word, message.body)
    # The link opens the family's own request.
    token = LINK.search(text_as_sent(db.session, sent[0])).group(1)
    family = client.application.test_client()
    family.get(f"/a/{token}")
    page = family.get("/mijn-aanvraag").get_data(as_text=True)
    assert f"Uw aanvraag {reference}" in page


def test_a_verwijzer_may_keep_the_family_out_and_gets_the_messages(client, db, make):
    freeze_start()
    world = _world(make)
    own_mobile = "+31687654321"
    _journey(
        client,
        db,
        make.token("verwijzer"),
        world,
        contact={"name": "Wijkverpleging Oost", "mobile": "06 87654321", "family": False},
    )
    assert _family_messages(db) == []
    sent = _family_messages(db, own_mobile)
    assert {m.template for m in sent} >= {"request_received", "reservation_confirmed"}
    assert all("/a/" not in text_as_sent(db.session, m) for m in sent)


def test_only_a_verwijzer_may_keep_the_family_out(client, db, make):
    freeze_start()
    world = _world(make)
    today = clock.today()
    created = client.post(
        "/api/v1/requests",
        json=json_body(
            world["municipality"],
            today + timedelta(days=5),
            today + timedelta(days=7),
            contact={"name": "Marja", "mobile": "06 12345678", "family": False},
        ),
    )
    assert created.get_json()["contact"]["family"] is True
    (message,) = _family_messages(db)
    assert "/a/" in text_as_sent(db.session, message)
