"""The family chooses, books, cancels and follows through the signed link (X-Request-Token):
the token handed back when the request is made may look, but only the SMS link's token (the
phone) may hold; every step is in the access log; the provider hears of a cancellation."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from respijt import clock
from respijt.models import (
    AccessLog,
    CareRequest,
    OutboxMessage,
    Reservation,
    SatisfactionSurvey,
    Tariff,
)
from tests.care_request_helpers import freeze_start, json_body, later
from tests.outbox_support import text_as_sent

PROBLEM = "application/problem+json"


def _problem(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    return response.get_json(force=True)


def _sms_token(db, reference: str) -> str:
    (message,) = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.template == "request_received")
    ).all()
    assert reference in message.body and "/a/" not in message.body
    return text_as_sent(db.session, message).split("/a/", 1)[1].strip()


def _world(make, *, confirmation: bool = False):
    region = make.region()
    municipality = make.municipality(region=region)
    make.provider(regions=[region], pool=True)
    unit = make.unit(
        location=make.location(municipality=municipality, contact_mobile="+31612000111"),
        requires_provider_confirmation=confirmation,
    )
    return municipality, unit


def test_family_chooses_holds_accepts_and_cancels_through_the_sms_link(client, db, make):
    today = freeze_start()
    municipality, unit = _world(make)
    arrival, departure = today + timedelta(days=10), today + timedelta(days=13)
    created = client.post("/api/v1/requests", json=json_body(municipality, arrival, departure))
    reference = created.get_json()["reference"]
    form_token = {"X-Request-Token": created.get_json()["link_token"]}
    sms = {"X-Request-Token": _sms_token(db, reference)}
    assert sms != form_token

    # The token handed back at once sees the options, but cannot hold before the SMS link.
    options = client.get(f"/api/v1/requests/{reference}/matches", headers=form_token)
    assert [o["unit_id"] for o in options.get_json()] == [unit.id]
    refused = client.post(
        f"/api/v1/requests/{reference}/choice", json={"unit_id": unit.id}, headers=form_token
    )
    assert "sms" in _problem(refused, 403)["detail"]
    assert db.session.scalar(select(Reservation.id)) is None

    # The SMS link (the phone) may: the choice is held at once for the offer time.
    options = client.get(f"/api/v1/requests/{reference}/matches", headers=sms).get_json()
    assert "zelfde gemeente" in options[0]["reasons"]
    chosen = client.post(
        f"/api/v1/requests/{reference}/choice", json={"unit_id": unit.id}, headers=sms
    )
    assert chosen.status_code == 200, chosen.get_data(as_text=True)
    body = chosen.get_json()
    assert body["status"] == "offered"
    (offer,) = body["offers"]
    assert offer["status"] == "held" and offer["unit_id"] == unit.id
    assert db.session.scalar(select(CareRequest.link_opened_at)) is not None

    # One active offer per request.
    again = client.post(
        f"/api/v1/requests/{reference}/choice", json={"unit_id": unit.id}, headers=sms
    )
    _problem(again, 409)

    accepted = client.post(f"/api/v1/requests/{reference}/offers/{offer['id']}/accept", headers=sms)
    assert accepted.status_code == 200, accepted.get_data(as_text=True)
    assert accepted.get_json()["status"] == "placed"

    # Cancel needs a reason; then the provider is told by SMS.
    url = f"/api/v1/requests/{reference}/stays/{offer['id']}/cancel"
    _problem(client.post(url, json={}, headers=sms), 422)
    cancelled = client.post(url, json={"reason": "Moeder is opgenomen"}, headers=sms)
    assert cancelled.status_code == 200, cancelled.get_data(as_text=True)
    assert cancelled.get_json()["offers"][0]["status"] == "cancelled"
    recipients = [
        m.recipient
        for m in db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.template == "reservation_cancelled")
        )
    ]
    assert "+31612000111" in recipients

    # Every step is in the access log under the request's reference.
    actions = [
        row.action
        for row in db.session.scalars(
            select(AccessLog).where(AccessLog.client_reference == reference).order_by(AccessLog.id)
        )
    ]
    # One row per access: the refused choice (403), the choice, the repeat (409), accept and
    # the two cancels are each a change of the request.
    assert actions.count("care_request.change") == 6


def test_a_public_request_whose_link_was_never_opened_cannot_hold(client, db, make):
    today = freeze_start()
    municipality, unit = _world(make)
    created = client.post(
        "/api/v1/requests",
        json=json_body(municipality, today + timedelta(days=5), today + timedelta(days=7)),
    )
    reference = created.get_json()["reference"]
    token = {"X-Request-Token": created.get_json()["link_token"]}
    client.get(f"/api/v1/requests/{reference}/matches", headers=token)
    body = _problem(
        client.post(
            f"/api/v1/requests/{reference}/choice", json={"unit_id": unit.id}, headers=token
        ),
        403,
    )
    assert body["detail"].startswith("Open eerst de link")
    # Nor through the reservations endpoint, which is for accounts only.
    anonymous = client.post(
        "/api/v1/reservations",
        json={
            "unit_id": unit.id,
            "arrival": (today + timedelta(days=5)).isoformat(),
            "departure": (today + timedelta(days=7)).isoformat(),
            "request": reference,
        },
    )
    assert anonymous.status_code in (401, 403)
    assert db.session.scalar(select(CareRequest.link_opened_at)) is None
    assert db.session.scalar(select(Reservation.id)) is None


def test_an_option_never_shown_cannot_be_chosen(client, db, make):
    today = freeze_start()
    municipality, unit = _world(make)
    elsewhere = make.unit(target_groups=["ggz"])  # does not fit: never shown
    created = client.post(
        "/api/v1/requests",
        json=json_body(municipality, today + timedelta(days=5), today + timedelta(days=7)),
    )
    reference = created.get_json()["reference"]
    sms = {"X-Request-Token": _sms_token(db, reference)}
    client.get(f"/api/v1/requests/{reference}/matches", headers=sms)
    body = _problem(
        client.post(
            f"/api/v1/requests/{reference}/choice", json={"unit_id": elsewhere.id}, headers=sms
        ),
        422,
    )
    assert body["invalidParams"][0]["name"] == "unit_id"


def test_cancelling_online_ends_the_set_hours_before_arrival(client, db, make, app):
    today = freeze_start()
    municipality, unit = _world(make)
    arrival = today + timedelta(days=3)
    created = client.post(
        "/api/v1/requests", json=json_body(municipality, arrival, arrival + timedelta(days=2))
    )
    reference = created.get_json()["reference"]
    sms = {"X-Request-Token": _sms_token(db, reference)}
    client.get(f"/api/v1/requests/{reference}/matches", headers=sms)
    offer = client.post(
        f"/api/v1/requests/{reference}/choice", json={"unit_id": unit.id}, headers=sms
    ).get_json()["offers"][0]
    client.post(f"/api/v1/requests/{reference}/offers/{offer['id']}/accept", headers=sms)
    # Default: until 24 hours before the arrival day starts (Amsterdam): the day before
    # yesterday's midnight. Two days and a bit later that moment has passed.
    later(days=2, hours=1)
    url = f"/api/v1/requests/{reference}/stays/{offer['id']}/cancel"
    body = _problem(client.post(url, json={"reason": "ziek"}, headers=sms), 409)
    assert "Bel de logeerlocatie" in body["detail"]
    assert db.session.get(Reservation, offer["id"]).status == "confirmed"
    # Declining the confirmed stay instead is refused too: it is no offer any more.
    decline = f"/api/v1/requests/{reference}/offers/{offer['id']}/decline"
    body = _problem(client.post(decline, json={}, headers=sms), 409)
    assert "Verblijf annuleren" in body["detail"]
    db.session.expire_all()
    assert db.session.get(Reservation, offer["id"]).status == "confirmed"


def test_options_carry_cost_and_satisfaction_where_known(client, db, make):
    today = freeze_start()
    municipality, unit = _world(make)
    db.session.add(
        Tariff(
            municipality_id=municipality.id,
            funding="wmo",
            product_code="H533",
            price_cents=9550,
            valid_from=date(2020, 1, 1),
            created_at=clock.now(),
        )
    )
    provider_id = unit.location.provider_id
    for score in (4, 5, 4, 5, 3):
        db.session.add(
            SatisfactionSurvey(
                municipality_id=municipality.id,
                provider_id=provider_id,
                departure=today - timedelta(days=30),
                asked_at=clock.now(),
                score=score,
                answered_at=clock.now(),
            )
        )
    db.session.commit()
    created = client.post(
        "/api/v1/requests",
        json=json_body(municipality, today + timedelta(days=5), today + timedelta(days=7)),
    )
    reference = created.get_json()["reference"]
    token = {"X-Request-Token": created.get_json()["link_token"]}
    (option,) = client.get(f"/api/v1/requests/{reference}/matches", headers=token).get_json()
    assert option["price_cents_per_night"] == 9550
    # Babel's euro: a no-break space after the sign, always the cents.
    assert option["cost"].startswith("€\xa095,50 per nacht, €\xa0191,00 voor 2 nachten")
    assert option["satisfaction_mean"] == 4.2 and option["satisfaction_answers"] == 5
    assert "4,2 van de 5" in option["satisfaction"]


def test_the_familys_hold_lapses_after_the_offer_time_and_a_new_choice_may_follow(
    client, db, make, app
):
    from respijt.reservations.expiry import expire_overdue_holds

    today = freeze_start()
    municipality, unit = _world(make)
    created = client.post(
        "/api/v1/requests",
        json=json_body(municipality, today + timedelta(days=9), today + timedelta(days=11)),
    )
    reference = created.get_json()["reference"]
    sms = {"X-Request-Token": _sms_token(db, reference)}
    client.get(f"/api/v1/requests/{reference}/matches", headers=sms)
    offer = client.post(
        f"/api/v1/requests/{reference}/choice", json={"unit_id": unit.id}, headers=sms
    ).get_json()["offers"][0]
    hours = app.config["RESPIJT_OFFER_HOURS"]
    assert offer["expires_at"] == (clock.now() + timedelta(hours=hours)).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    later(hours=hours, minutes=1)
    expire_overdue_holds(db.session, clock.now())
    db.session.commit()
    assert db.session.get(Reservation, offer["id"]).status == "expired"
    client.get(f"/api/v1/requests/{reference}/matches", headers=sms)
    again = client.post(
        f"/api/v1/requests/{reference}/choice", json={"unit_id": unit.id}, headers=sms
    )
    assert again.status_code == 200, again.get_data(as_text=True)


def test_the_forms_token_cannot_hold_even_after_the_sms_link_was_opened_elsewhere(client, db, make):
    today = freeze_start()
    municipality, unit = _world(make)
    created = client.post(
        "/api/v1/requests",
        json=json_body(municipality, today + timedelta(days=5), today + timedelta(days=7)),
    )
    reference = created.get_json()["reference"]
    form_token = {"X-Request-Token": created.get_json()["link_token"]}
    sms = {"X-Request-Token": _sms_token(db, reference)}
    # The phone opens the SMS link: the request records it as opened.
    assert client.get(f"/api/v1/requests/{reference}/matches", headers=sms).status_code == 200
    assert db.session.scalar(select(CareRequest.link_opened_at)) is not None
    # Another browser holding only the form's token still may not hold a bed.
    client.get(f"/api/v1/requests/{reference}/matches", headers=form_token)
    refused = client.post(
        f"/api/v1/requests/{reference}/choice", json={"unit_id": unit.id}, headers=form_token
    )
    assert _problem(refused, 403)["detail"].startswith("Open eerst de link")
    assert db.session.scalar(select(Reservation.id)) is None


def test_only_an_option_shown_to_the_family_for_the_current_dates_may_be_chosen(client, db, make):
    today = freeze_start()
    municipality, unit = _world(make)
    arrival = today + timedelta(days=5)
    created = client.post(
        "/api/v1/requests", json=json_body(municipality, arrival, arrival + timedelta(days=2))
    )
    reference = created.get_json()["reference"]
    sms = {"X-Request-Token": _sms_token(db, reference)}
    choice = f"/api/v1/requests/{reference}/choice"

    # Shown to the meldpunt only: the family never saw it.
    meldpunt = make.token(
        "meldpunt", provider=make.provider(regions=[municipality.region], pool=True)
    )
    shown = client.get(f"/api/v1/requests/{reference}/matches", headers=meldpunt)
    assert shown.status_code == 200, shown.get_data(as_text=True)
    assert [o["unit_id"] for o in shown.get_json()] == [unit.id]
    body = _problem(client.post(choice, json={"unit_id": unit.id}, headers=sms), 422)
    assert body["invalidParams"][0]["name"] == "unit_id"

    # Shown to the family, then the request's dates change: the old option is stale.
    assert client.get(f"/api/v1/requests/{reference}/matches", headers=sms).status_code == 200
    found = db.session.scalar(select(CareRequest).where(CareRequest.reference == reference))
    found.arrival, found.departure = arrival + timedelta(days=14), arrival + timedelta(days=17)
    db.session.commit()
    body = _problem(client.post(choice, json={"unit_id": unit.id}, headers=sms), 422)
    assert body["invalidParams"][0]["name"] == "unit_id"
    assert db.session.scalar(select(Reservation.id)) is None

    # Seen again with the new dates: now it may be held.
    assert client.get(f"/api/v1/requests/{reference}/matches", headers=sms).status_code == 200
    held = client.post(choice, json={"unit_id": unit.id}, headers=sms)
    assert held.status_code == 200, held.get_data(as_text=True)
    assert held.get_json()["offers"][0]["arrival"] == (arrival + timedelta(days=14)).isoformat()
