"""Phone routing: drive the /twilio/voice webhooks as Twilio would, with signed form posts in
the order Twilio sends them, and check the TwiML answers, the call log and the outbox."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date, datetime, timedelta
from itertools import count
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from respijt import clock
from respijt.claims import kpis as kpi_module
from respijt.cli.fake_twilio import DEFAULT_AUTH_TOKEN, twilio_signature
from respijt.meldpunt import generation
from respijt.models import AccessLog, CallLeg, MeldpuntCall, OutboxMessage, Voicemail
from tests import care_request_helpers

BASE = "http://127.0.0.1"
MELDPUNT = "+31881230000"
COORDINATOR = "+31881239999"
CALLER = "+31687654321"
T0 = datetime(2027, 1, 5, 10, 0, tzinfo=clock.LOCAL_TZ)  # a Tuesday, mid-shift
_sids = count(1)


@pytest.fixture()
def meldpunt(db, make):
    """A region whose duty provider (first) and backup (second, next in the rota) have phones."""
    clock.freeze(T0)
    region = make.region(meldpunt_number=MELDPUNT)
    region.coordinator_phone = COORDINATOR
    a = make.provider(regions=[region], pool=True, on_duty=False, duty_phone="+31151110001")
    b = make.provider(regions=[region], pool=True, on_duty=False, duty_phone="+31151110002")
    db.session.commit()
    generation.generate_shifts(
        db.session, region.id, now=T0, horizon_days=28, pattern=generation.parse_pattern("weekly"),
        holidays=set(),
    )  # fmt: skip
    db.session.commit()
    on_duty = generation.shifts_between(db.session, region.id, T0, T0 + timedelta(seconds=1))[0]
    duty_provider, backup = (a, b) if on_duty.provider_id == a.id else (b, a)
    return region, duty_provider, backup


def post(client, path: str, params: dict[str, str], signed: bool = True):
    headers = {}
    if signed:
        headers["X-Twilio-Signature"] = twilio_signature(DEFAULT_AUTH_TOKEN, BASE + path, params)
    return client.post(path, data=params, headers=headers)


def twiml(response) -> ET.Element:
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/xml"
    return ET.fromstring(response.get_data())


def local(url: str) -> str:
    """Twilio posts to the absolute URL in the TwiML; the test client needs path + query."""
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == BASE
    return parts.path + ("?" + parts.query if parts.query else "")


class Call:
    """One call as Twilio drives it: incoming, then per leg whisper / accept / dial-result."""

    def __init__(self, client) -> None:
        self.client = client
        self.sid = f"CA{next(_sids):032d}"
        self.answer: ET.Element | None = None

    def incoming(self, to: str = MELDPUNT) -> ET.Element:
        params = {"CallSid": self.sid, "From": CALLER, "To": to, "CallStatus": "ringing"}
        self.answer = twiml(post(self.client, "/twilio/voice/incoming", params))
        return self.answer

    def dialled(self) -> tuple[str, str, str]:
        """(number rung, whisper URL, dial action URL) of the current <Dial>."""
        assert self.answer is not None
        dial = self.answer.find("Dial")
        assert dial is not None, ET.tostring(self.answer)
        assert dial.get("timeout") == "25"
        number = dial.find("Number")
        return number.text, local(number.get("url")), local(dial.get("action"))

    def callee_picks_up(self, digits: str | None) -> ET.Element | None:
        """Twilio fetches the whisper for the callee; <Gather> posts Digits only if pressed."""
        _, whisper, _ = self.dialled()
        gather = twiml(post(self.client, whisper, {"CallSid": self.sid + "b"})).find("Gather")
        assert gather is not None and gather.get("numDigits") == "1"
        assert "druk op 1 om aan te nemen" in gather.find("Say").text
        if digits is None:
            return None  # nobody pressed: Twilio runs on to <Hangup/> and the leg ends
        return twiml(post(self.client, local(gather.get("action")), {"Digits": digits}))

    def leg_ends(self, status: str) -> ET.Element:
        _, _, action = self.dialled()
        params = {"CallSid": self.sid, "DialCallStatus": status}
        self.answer = twiml(post(self.client, action, params))
        return self.answer


def the_call(db, sid: str) -> MeldpuntCall:
    db.session.expire_all()
    return db.session.scalars(select(MeldpuntCall).where(MeldpuntCall.call_sid == sid)).one()


def legs(db, call: MeldpuntCall) -> list[tuple[str, str, str | None]]:
    rows = db.session.scalars(
        select(CallLeg).where(CallLeg.call_id == call.id).order_by(CallLeg.seq)
    )
    return [(leg.role, leg.number, leg.outcome) for leg in rows]


def test_the_duty_provider_accepts(db, client, meldpunt):
    region, on_duty, _ = meldpunt
    call = Call(client)
    answer = call.incoming()
    assert "meldpunt logeerzorg" in answer.find("Say").text.lower()
    assert call.dialled()[0] == on_duty.duty_phone
    connected = call.callee_picks_up("1")
    assert list(connected) == []  # empty TwiML: the callee is bridged to the caller
    clock.freeze(T0 + timedelta(minutes=4))
    assert call.leg_ends("completed").find("Hangup") is not None
    row = the_call(db, call.sid)
    assert (row.status, row.accepted_by_id) == ("answered", on_duty.id)
    assert legs(db, row) == [("duty", on_duty.duty_phone, "accepted")]


def test_the_duty_provider_does_not_answer_and_the_backup_accepts(db, client, meldpunt):
    region, on_duty, backup = meldpunt
    call = Call(client)
    call.incoming()
    clock.freeze(T0 + timedelta(seconds=26))
    call.leg_ends("no-answer")
    assert call.dialled()[0] == backup.duty_phone
    call.callee_picks_up("1")
    call.leg_ends("completed")
    row = the_call(db, call.sid)
    assert (row.status, row.accepted_by_id) == ("answered", backup.id)
    assert legs(db, row) == [
        ("duty", on_duty.duty_phone, "no-answer"),
        ("backup", backup.duty_phone, "accepted"),
    ]


def test_nobody_accepts_so_a_voicemail_and_a_call_back_sms_to_the_duty_mobile(
    db, client, make, meldpunt
):
    region, on_duty, backup = meldpunt
    # The duty phones are landlines: the alert goes to the duty provider's staff mobile.
    on_duty.staff_mobiles = ["+31612340001"]
    db.session.commit()
    call = Call(client)
    call.incoming()
    call.leg_ends("no-answer")
    call.callee_picks_up("7")  # the backup pressed something else: not accepted
    call.leg_ends("completed")
    assert call.dialled()[0] == COORDINATOR
    answer = call.leg_ends("busy")
    record = answer.find("Record")
    assert record is not None and answer.find("Dial") is None
    done = twiml(
        post(
            client,
            local(record.get("action")),
            {"CallSid": call.sid, "RecordingUrl": "https://api.twilio.com/rec/RE1",
             "RecordingDuration": "17"},
        )
    )  # fmt: skip
    assert done.find("Hangup") is not None
    row = the_call(db, call.sid)
    assert row.status == "voicemail"
    assert [outcome for _, _, outcome in legs(db, row)] == ["no-answer", "not-accepted", "busy"]
    sms = list(
        db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.template == "meldpunt_voicemail")
        )
    )
    assert [(m.recipient, m.status) for m in sms] == [("+31612340001", "pending")]
    assert all(CALLER in m.body and m.urgent for m in sms)

    # The call-back worklist on the console.
    coordinator = make.token("coordinator")
    url = f"/api/v1/meldpunt/voicemails?region={region.code}&open=true"
    [item] = client.get(url, headers=coordinator).get_json()["items"]
    assert (item["caller"], item["done"]) == (CALLER, False)
    meldpunt_off_duty = make.token("meldpunt", provider=backup)
    assert client.get(url, headers=meldpunt_off_duty).status_code == 403
    meldpunt_on_duty = make.token("meldpunt", provider=on_duty)
    done = client.post(f"/api/v1/meldpunt/voicemails/{item['id']}/done", headers=meldpunt_on_duty)
    assert done.status_code == 200 and done.get_json()["done"] is True
    assert client.get(url, headers=coordinator).get_json()["items"] == []
    again = client.post(f"/api/v1/meldpunt/voicemails/{item['id']}/done", headers=coordinator)
    assert again.status_code == 409
    # Callers' numbers are personal data: every successful read or change left one log row.
    db.session.rollback()
    logged = db.session.scalars(select(AccessLog).order_by(AccessLog.id)).all()
    assert [(row.action, row.role) for row in logged] == [
        ("voicemail.list", "coordinator"),
        ("voicemail.done", "meldpunt"),
        ("voicemail.list", "coordinator"),
    ]
    calls = client.get(
        f"/api/v1/meldpunt/calls?region={region.code}&from=2027-01-01&to=2027-01-31",
        headers=coordinator,
    )
    assert calls.status_code == 200, calls.get_data(as_text=True)
    db.session.rollback()
    assert db.session.scalars(select(AccessLog.action).order_by(AccessLog.id.desc())).first() == (
        "call.list"
    )

    stats = client.get(
        f"/api/v1/meldpunt/stats?region={region.code}&week=2027-01-07", headers=coordinator
    ).get_json()
    assert {k: stats[k] for k in ("calls", "answered", "missed", "voicemails", "callbacks")} == {
        "calls": 1, "answered": 0, "missed": 1, "voicemails": 1, "callbacks": 1,
    }  # fmt: skip


def test_a_voicemail_that_picks_up_but_never_presses_1_does_not_count_as_accepted(
    db, client, meldpunt
):
    region, on_duty, backup = meldpunt
    call = Call(client)
    call.incoming()
    assert call.callee_picks_up(None) is None  # the duty phone's voicemail hears the whisper
    call.leg_ends("completed")  # ... and Twilio reports the leg "completed"
    assert call.dialled()[0] == backup.duty_phone  # so the backup rings next
    call.callee_picks_up("1")
    call.leg_ends("completed")
    row = the_call(db, call.sid)
    assert row.accepted_by_id == backup.id
    assert legs(db, row)[0] == ("duty", on_duty.duty_phone, "not-accepted")


def test_unsigned_or_wrongly_signed_requests_are_refused(db, client, meldpunt):
    params = {"CallSid": "CAunsigned", "From": CALLER, "To": MELDPUNT}
    assert post(client, "/twilio/voice/incoming", params, signed=False).status_code == 403
    bad = client.post(
        "/twilio/voice/incoming", data=params, headers={"X-Twilio-Signature": "bm9wZQ=="}
    )
    assert bad.status_code == 403
    assert (
        post(client, "/twilio/voice/accept?leg=1", {"Digits": "1"}, signed=False).status_code == 403
    )
    assert db.session.scalars(select(MeldpuntCall)).first() is None


def test_a_signed_callback_without_its_leg_or_call_is_refused(db, client, meldpunt):
    for path in ("whisper", "accept", "dial-result", "voicemail", "accept?leg=een"):
        answer = post(client, f"/twilio/voice/{path}", {"CallSid": "CAx", "Digits": "1"})
        assert answer.status_code == 400, path
        assert "is verplicht" in answer.get_data(as_text=True)


def test_stats_count_calls_answered_within_30_seconds(db, client, make, meldpunt):
    region, _, _ = meldpunt
    quick, slow = Call(client), Call(client)
    quick.incoming()
    clock.freeze(T0 + timedelta(seconds=10))
    quick.callee_picks_up("1")
    quick.leg_ends("completed")
    clock.freeze(T0 + timedelta(minutes=10))
    slow.incoming()
    slow.leg_ends("no-answer")
    clock.freeze(T0 + timedelta(minutes=10, seconds=40))
    slow.callee_picks_up("1")
    slow.leg_ends("completed")
    stats = client.get(
        f"/api/v1/meldpunt/stats?region={region.code}&week=2027-01-04",
        headers=make.token("coordinator"),
    ).get_json()
    assert (stats["calls"], stats["answered"], stats["answered_within_30s"]) == (2, 2, 1)
    assert stats["missed"] == 0

    # The same calls feed the gemeente's KPI "answered within 30 s", under the <5 suppression.
    period = kpi_module.KpiFilter(date(2027, 1, 1), date(2027, 2, 1))
    kpis = kpi_module.kpi_figures(db.session, period, now=clock.now(), stale_after_hours=72)
    assert kpis["meldpunt_calls"]["calls"] is None  # 2 callers: hidden
    assert "meldpunt_calls.calls" in kpis["suppression"]["cells"]
    for n in range(3):  # three more, answered at once: 5 calls, 4 of them within 30 s
        clock.freeze(T0 + timedelta(hours=1, minutes=n))
        extra = Call(client)
        extra.incoming()
        extra.callee_picks_up("1")
        extra.leg_ends("completed")
    kpis = kpi_module.kpi_figures(db.session, period, now=clock.now(), stale_after_hours=72)
    assert kpis["meldpunt_calls"]["calls"] == 5
    assert kpis["meldpunt_calls"]["answered_within_30s_share"] == 0.8
    quiet = kpi_module.KpiFilter(date(2027, 2, 1), date(2027, 3, 1))
    assert (
        kpi_module.kpi_figures(db.session, quiet, now=clock.now(), stale_after_hours=72)[
            "meldpunt_calls"
        ]
        is None
    )


def test_after_hours_callers_hear_the_message_and_nobody_is_rung(db, client, app, meldpunt):
    app.config["RESPIJT_MELDPUNT_HOURS"] = "08:00-09:00"
    try:
        call = Call(client)
        answer = call.incoming()
    finally:
        app.config["RESPIJT_MELDPUNT_HOURS"] = ""
    assert answer.find("Dial") is None and answer.find("Hangup") is not None
    assert "gesloten" in answer.find("Say").text
    assert the_call(db, call.sid).status == "after_hours"


def test_a_call_can_be_linked_to_the_request_taken_during_it(db, client, make, meldpunt):
    region, on_duty, _ = meldpunt
    call = Call(client)
    call.incoming()
    call.callee_picks_up("1")
    row = the_call(db, call.sid)
    municipality = make.municipality(region=region)
    arrival = clock.today() + timedelta(days=10)
    request = care_request_helpers.create(
        db.session, care_request_helpers.body(municipality, arrival, arrival + timedelta(days=3))
    )
    db.session.commit()
    reference = request.reference
    linked = client.post(
        f"/api/v1/meldpunt/calls/{row.id}/request",
        json={"request": reference},
        headers=make.token("meldpunt", provider=on_duty),
    )
    assert linked.status_code == 200, linked.get_json()
    assert linked.get_json()["care_request_id"] is not None
    voicemails = db.session.scalars(select(Voicemail)).all()
    assert voicemails == []


def test_a_retried_dial_callback_rings_nobody_new(db, client, meldpunt):
    region, on_duty, backup = meldpunt
    call = Call(client)
    call.incoming()
    _, _, action = call.dialled()
    first = call.leg_ends("no-answer")
    again = twiml(post(client, action, {"CallSid": call.sid, "DialCallStatus": "no-answer"}))
    assert ET.tostring(again) == ET.tostring(first)  # the backup again, not the coordinator
    assert [n for _, n, _ in legs(db, the_call(db, call.sid))] == [
        on_duty.duty_phone,
        backup.duty_phone,
    ]


def test_a_caller_who_hangs_up_while_it_rings_is_a_missed_call(db, client, meldpunt):
    call = Call(client)
    call.incoming()
    _, _, action = call.dialled()
    params = {"CallSid": call.sid, "DialCallStatus": "canceled", "CallStatus": "completed"}
    answer = twiml(post(client, action, params))
    assert answer.find("Hangup") is not None and answer.find("Dial") is None
    row = the_call(db, call.sid)
    assert row.status == "missed"
    assert [outcome for _, _, outcome in legs(db, row)] == ["canceled"]
