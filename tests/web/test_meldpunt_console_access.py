"""The meldpunt console's phone data in the access log: a played voicemail is a read ("beluisterde
de voicemail van 5 dec 14:32", by its time, not its id), a refused play is logged too, and
listing or handling voicemails and calls writes the same rows as the API."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape
from typing import Any

import pytest
from sqlalchemy import select

from respijt import clock
from respijt.messages.texts import format_datetime_nl
from respijt.models import AccessLog, MeldpuntCall, RotaShift, Voicemail
from tests.accounts_support import web_login
from tests.browser.web_helpers import csrf_token

AUDIO = b"ID3\x03\x00fake-mp3" * 40
CALLER = "+31687654321"


@pytest.fixture()
def desk(make: Any, db: Any) -> dict[str, Any]:
    region = make.region(code="H5", name="Haaglanden")
    provider = make.provider(name="Zorg Delft", regions=[region], pool=True)
    meldpunt = make.user("meldpunt", provider=provider, name="Fatima Bakker")
    return {"region": region, "provider": provider, "meldpunt": meldpunt}


def _voicemail(db: Any, region: Any, recording_url: str, at: Any = None) -> Voicemail:
    at = at or clock.now() - timedelta(minutes=20)
    call = MeldpuntCall(
        call_sid=f"CA{at.timestamp()}",
        region_id=region.id,
        from_number=CALLER,
        to_number=region.meldpunt_number,
        status="voicemail",
        started_at=at,
    )
    db.session.add(call)
    db.session.flush()
    voicemail = Voicemail(
        call_id=call.id,
        region_id=region.id,
        caller_number=CALLER,
        recording_url=recording_url,
        duration_seconds=9,
        created_at=at,
    )
    db.session.add(voicemail)
    db.session.commit()
    return voicemail


def _text(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def _rows(db: Any, action: str) -> list[tuple[str, str, str]]:
    db.session.rollback()
    return [
        (row.event, row.client_reference, row.outcome)
        for row in db.session.scalars(
            select(AccessLog).where(AccessLog.action == action).order_by(AccessLog.id)
        )
    ]


def test_a_played_voicemail_is_a_read_by_its_time_and_a_refused_play_is_logged(
    app, client, db, make, desk, fake_twilio_server
):
    voicemail = _voicemail(db, desk["region"], fake_twilio_server.add_recording(AUDIO))
    play = f"/meldpunt/terugbellen/{voicemail.id}/opname"
    web_login(client, desk["meldpunt"])
    assert client.get(play).data == AUDIO
    assert _rows(db, "voicemail.play") == [("read", f"voicemail:{voicemail.id}", "success")]

    # Another pool member's meldpunt, not on duty: 404, and the attempt is in the log.
    other = make.provider(name="Zorg Rijswijk", regions=[desk["region"]], pool=True, on_duty=False)
    stranger = app.test_client()
    web_login(stranger, make.user("meldpunt", provider=other, name="Piet Jansen"))
    assert stranger.get(play).status_code == 404
    assert stranger.get("/meldpunt/terugbellen/999999/opname").status_code == 404
    assert _rows(db, "voicemail.play") == [
        ("read", f"voicemail:{voicemail.id}", "success"),
        ("read", f"voicemail:{voicemail.id}", "denied"),
        ("read", "voicemail:999999", "denied"),
    ]

    # The coordinator reads who listened, to which voicemail by its time, not by an id.
    coordinator = app.test_client()
    web_login(coordinator, make.user("coordinator", regions=[desk["region"]]))
    when = format_datetime_nl(voicemail.created_at)
    text = _text(
        coordinator.get(f"/coordinator/inzage?persoon=user:{desk['meldpunt'].id}").get_data(
            as_text=True
        )
    )
    assert f"Fatima Bakker (Zorg Delft) Meldpunt beluisterde voicemail van {when}" in text
    assert "wijzigde" not in text and "voicemail:" not in text
    people = coordinator.get("/coordinator/inzage").get_data(as_text=True)
    stranger_key = re.search(r'value="(user:\d+)">Piet Jansen', people)
    assert stranger_key is not None
    text = _text(
        coordinator.get(f"/coordinator/inzage?persoon={stranger_key.group(1)}").get_data(
            as_text=True
        )
    )
    assert f"beluisterde voicemail van {when} Geweigerd" in text


def test_the_play_event_is_a_read_in_the_log_rules():
    from respijt.privacy import access_log, access_view

    assert access_log.event_for_action("voicemail.play") == "read"
    assert access_view.action_words("voicemail.play", "read", "voicemail:3", "5 dec 14:32") == (
        "beluisterde voicemail van 5 dec 14:32"
    )


def test_the_console_logs_the_lists_and_the_call_back_as_the_api_does(client, db, make, desk):
    region = desk["region"]
    voicemail = _voicemail(db, region, "https://api.twilio.com/rec/1")
    web_login(client, desk["meldpunt"])
    page = client.get("/meldpunt").get_data(as_text=True)
    assert CALLER in page  # the numbers are on the page …
    assert _rows(db, "voicemail.list") == [("search", "voicemails:H5", "success")]
    assert _rows(db, "call.list") == [("search", "calls:H5", "success")]  # … and in the log
    phone_rows = select(AccessLog.region_id).where(AccessLog.purpose == "terugbellen meldpunt")
    assert db.session.scalars(phone_rows).all() == [region.id] * 2

    done = client.post(
        f"/meldpunt/terugbellen/{voicemail.id}/afgehandeld", data={"csrf_token": csrf_token(page)}
    )
    assert done.status_code == 303
    assert _rows(db, "voicemail.done") == [("change", f"voicemail:{voicemail.id}", "success")]

    # The same rows as the API writes for the same reads.
    token = make.token("meldpunt", provider=desk["provider"])
    answer = client.get("/api/v1/meldpunt/voicemails?region=H5", headers=token)
    assert answer.status_code == 200
    assert _rows(db, "voicemail.list")[-1] == ("search", "voicemails:H5", "success")


def test_after_the_shift_only_voicemails_of_the_own_shift_play(
    client, db, make, desk, fake_twilio_server
):
    region = desk["region"]
    now = clock.now()
    shift = db.session.scalars(
        select(RotaShift).where(RotaShift.provider_id == desk["provider"].id)
    ).one()
    shift.ends_at = now - timedelta(minutes=30)  # in the grace: the meldpunt may still finish
    db.session.commit()
    own = _voicemail(db, region, fake_twilio_server.add_recording(AUDIO), now - timedelta(hours=1))
    later = _voicemail(
        db, region, fake_twilio_server.add_recording(AUDIO), now - timedelta(minutes=5)
    )
    web_login(client, desk["meldpunt"])
    page = client.get("/meldpunt").get_data(as_text=True)
    assert f'src="/meldpunt/terugbellen/{own.id}/opname"' in page
    assert f'src="/meldpunt/terugbellen/{later.id}/opname"' not in page
    assert "ingesproken na uw dienst" in page
    assert client.get(f"/meldpunt/terugbellen/{own.id}/opname").data == AUDIO
    assert client.get(f"/meldpunt/terugbellen/{later.id}/opname").status_code == 404
    assert [outcome for *_, outcome in _rows(db, "voicemail.play")] == ["success", "denied"]


def test_a_recording_is_always_served_as_mp3_whatever_twilio_says(
    client, db, desk, fake_twilio_server
):
    url = fake_twilio_server.add_recording(b"<script>alert(1)</script>", content_type="text/html")
    voicemail = _voicemail(db, desk["region"], url)
    web_login(client, desk["meldpunt"])
    played = client.get(f"/meldpunt/terugbellen/{voicemail.id}/opname")
    assert played.status_code == 200
    assert played.headers["Content-Type"] == "audio/mpeg"
