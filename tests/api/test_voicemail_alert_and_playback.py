"""The voice test: a missed call, driven through the signed /twilio/voice webhooks, ends in a
voicemail whose alert reaches a mobile (the fake Twilio on 127.0.0.1 receives the SMS through
the real dispatch job), and whose recording plays on the console for the meldpunt on duty and
for nobody else; every play is an access-log row. Calls read in Dutch and are linked to a
request on the web."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from respijt import clock
from respijt.models import AccessLog, MeldpuntCall, OutboxMessage, Voicemail
from respijt.scheduler import jobs
from tests import care_request_helpers
from tests.accounts_support import web_login
from tests.api import test_meldpunt_calls as calls
from tests.api.test_meldpunt_calls import COORDINATOR, Call, local, post, the_call, twiml
from tests.browser.web_helpers import csrf_token

STAFF_MOBILE = "+31612340001"


@pytest.fixture()
def meldpunt(db, make):
    """The region of tests/api/test_meldpunt_calls.py: duty and backup with landline phones."""
    return calls.meldpunt.__wrapped__(db, make)


AUDIO = b"ID3\x03\x00fake-mp3-of-a-voicemail" * 50


def _missed_call_with_voicemail(client, recording_url: str) -> Call:
    call = Call(client)
    call.incoming()
    call.leg_ends("no-answer")  # the duty provider
    call.leg_ends("no-answer")  # the backup
    assert call.dialled()[0] == COORDINATOR
    record = call.leg_ends("busy").find("Record")
    assert record is not None
    params = {"CallSid": call.sid, "RecordingUrl": recording_url, "RecordingDuration": "9"}
    assert twiml(post(client, local(record.get("action")), params)).find("Hangup") is not None
    return call


def test_a_missed_call_alerts_a_mobile_and_its_recording_plays_for_the_meldpunt_on_duty_only(
    app, db, make, client, meldpunt, fake_twilio_server
):
    region, on_duty, backup = meldpunt
    on_duty.staff_mobiles = [STAFF_MOBILE]  # the duty phones are landlines
    db.session.commit()
    url = fake_twilio_server.add_recording(AUDIO)
    call = _missed_call_with_voicemail(client, url)
    assert the_call(db, call.sid).status == "voicemail"

    # The alert goes out through the real dispatcher and the twilio backend to the fake.
    config = {**app.config, "RESPIJT_SMS_BACKEND": "twilio"}
    assert jobs.dispatch_outbox(db.session, clock.now(), config) == 1
    db.session.commit()
    [received] = fake_twilio_server.messages(to=STAFF_MOBILE)
    assert "gemiste oproep met voicemail" in received.body and "+31687654321" in received.body
    [row] = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.template == "meldpunt_voicemail")
    ).all()
    assert row.status in ("sent", "delivered") and row.recipient == STAFF_MOBILE

    voicemail = db.session.scalars(select(Voicemail)).one()
    play = f"/meldpunt/terugbellen/{voicemail.id}/opname"

    # The meldpunt on duty: the console has the player, the server streams Twilio's audio.
    web_login(client, make.user("meldpunt", provider=on_duty))
    page = client.get("/meldpunt").get_data(as_text=True)
    assert f'<audio controls preload="none" src="{play}"' in page
    assert url not in page and "api.twilio.com" not in page  # never Twilio's own URL
    assert "voicemail ingesproken" in page and ">voicemail<" not in page
    played = client.get(play)
    assert played.status_code == 200, played.get_data(as_text=True)
    assert played.data == AUDIO and played.mimetype == "audio/mpeg"
    assert played.headers["Cache-Control"] == "no-store"
    db.session.rollback()
    logged = db.session.scalars(select(AccessLog).where(AccessLog.action == "voicemail.play")).all()
    assert [(r.role, r.client_reference, r.outcome) for r in logged] == [
        ("meldpunt", f"voicemail:{voicemail.id}", "success")
    ]

    # Nobody else: the backup's meldpunt (not on duty) 404, a coordinator 403, anonymous login.
    off_duty = app.test_client()
    web_login(off_duty, make.user("meldpunt", provider=backup))
    assert off_duty.get(play).status_code == 404
    coordinator = app.test_client()
    web_login(coordinator, make.user("coordinator", regions=[region]))
    assert coordinator.get(play).status_code == 403
    anonymous = app.test_client().get(play)
    assert anonymous.status_code in (302, 303) and "/login" in anonymous.headers["Location"]
    db.session.rollback()
    logged = db.session.scalars(select(AccessLog).where(AccessLog.action == "voicemail.play")).all()
    assert [r.outcome for r in logged] == ["success", "denied"]  # the off-duty try is logged


def test_a_recording_twilio_does_not_have_is_a_dutch_error_not_a_crash(
    app, db, make, client, meldpunt, fake_twilio_server
):
    region, on_duty, _ = meldpunt
    missing = fake_twilio_server.add_recording(b"x").replace("/RE", "/RE0", 1)[:-1]
    _missed_call_with_voicemail(client, missing)
    voicemail = db.session.scalars(select(Voicemail)).one()
    web_login(client, make.user("meldpunt", provider=on_duty))
    answer = client.get(f"/meldpunt/terugbellen/{voicemail.id}/opname")
    assert answer.status_code == 502
    assert "De opname is nu niet beschikbaar" in answer.get_data(as_text=True)


def test_calls_read_in_dutch_and_are_linked_to_a_request_on_the_web(db, make, client, meldpunt):
    region, on_duty, _ = meldpunt
    answered = Call(client)
    answered.incoming()
    answered.callee_picks_up("1")
    municipality = make.municipality(region=region)
    arrival = clock.today() + timedelta(days=10)
    care_request = care_request_helpers.create(
        db.session,
        care_request_helpers.body(municipality, arrival, arrival + timedelta(days=3)),
    )
    db.session.commit()
    reference = care_request.reference
    web_login(client, make.user("meldpunt", provider=on_duty))
    page = client.get("/meldpunt").get_data(as_text=True)
    assert "opgenomen" in page and ">answered<" not in page
    row = the_call(db, answered.sid)
    unknown = client.post(
        f"/meldpunt/gesprekken/{row.id}/aanvraag",
        data={"csrf_token": csrf_token(page), "reference": "R-XXXXXX"},
    )
    assert unknown.status_code == 303
    assert "is niet gevonden" in client.get("/meldpunt").get_data(as_text=True)
    assert the_call(db, answered.sid).care_request_id is None

    linked = client.post(
        f"/meldpunt/gesprekken/{row.id}/aanvraag",
        data={"csrf_token": csrf_token(page), "reference": reference.lower()},
    )
    assert linked.status_code == 303
    page = client.get("/meldpunt").get_data(as_text=True)
    assert f"Het gesprek is gekoppeld aan aanvraag {reference}" in page
    assert f'href="/meldpunt/aanvragen/{reference}">{reference}</a>' in page
    assert the_call(db, answered.sid).care_request_id == care_request.id
    db.session.rollback()
    assert db.session.scalars(
        select(AccessLog.action).where(AccessLog.client_reference == reference)
    ).all() == ["care_request.change"]
    assert db.session.get(MeldpuntCall, row.id).care_request_id == care_request.id


def test_a_voicemail_alert_that_can_reach_nobody_shows_on_the_console_and_in_health(
    db, make, client, meldpunt
):
    region, on_duty, _ = meldpunt  # landlines only, no staff mobile, no coordinator account
    _missed_call_with_voicemail(client, "https://api.twilio.com/rec/RE1")
    [row] = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.template == "meldpunt_voicemail")
    ).all()
    assert (row.status, row.error_code) == ("failed", "no_recipient")
    health = client.get("/health", headers=make.token("admin")).get_json()
    assert health["outbox"]["alerts_undelivered"] == 1
    db.session.rollback()
    web_login(client, make.user("meldpunt", provider=on_duty))
    page = client.get("/meldpunt").get_data(as_text=True)
    assert 'data-testid="niet-bezorgd"' in page and "Melding niet bezorgd" in page
    assert "Bel +31687654321 terug" in page and "geen mobiel nummer" in page
    assert "(geen opname)" in page  # not a Twilio recording address: nothing to play
