"""Twilio Voice webhooks under /twilio/voice: route a call to the meldpunt on duty.

    incoming ──► greeting + <Dial><Number url=whisper> duty provider   (25 s)
    whisper  ──► callee hears "druk op 1 om aan te nemen" (<Gather numDigits=1>)
    accept   ──► 1: record acceptance, bridge; anything else: hang up the leg
    dial-result ─► accepted: done; otherwise the next number (backup, coordinator), else voicemail
    voicemail ─► store it, SMS the duty and backup providers the number to call back

Every request must carry a valid `X-Twilio-Signature` over `RESPIJT_PUBLIC_URL` + path + query
(the same check as the SMS webhooks). Views verify, act in one `respijt.edge.transaction`, then
answer TwiML.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Flask, Response, current_app, request
from sqlalchemy import select

from respijt import clock, edge
from respijt.api.twilio_sms import _forbidden, _signed
from respijt.extensions import db
from respijt.meldpunt import phone
from respijt.messages import twilio as twiml
from respijt.models import CallLeg

blp = Blueprint("twilio_voice", __name__, url_prefix="/twilio/voice")

GREETING = (
    "Welkom bij het meldpunt logeerzorg. U wordt doorverbonden met de aanbieder die dienst heeft."
)
WHISPER = "Meldpunt logeerzorg: druk op 1 om aan te nemen."
NEXT = "Een moment alstublieft, wij proberen een collega."
VOICEMAIL = (
    "Op dit moment kan niemand uw oproep aannemen. Spreek na de piep uw naam en uw vraag in. "
    "Wij bellen u zo snel mogelijk terug op het nummer waarmee u belt."
)
THANKS = "Dank u wel. Wij bellen u zo snel mogelijk terug. Tot ziens."
AFTER_HOURS = (
    "Het meldpunt logeerzorg is nu gesloten. Bel ons tijdens de openingstijden, "
    "of dien een aanvraag in via de website."
)
UNKNOWN_NUMBER = "Dit nummer is niet in gebruik bij het meldpunt logeerzorg."


def _xml(body: str) -> Response:
    return Response(body, mimetype="text/xml")


def _url(path: str) -> str:
    return str(current_app.config["RESPIJT_PUBLIC_URL"]) + blp.url_prefix + path  # type: ignore[operator]


def _transaction(work: Callable[[], str]) -> Response:
    return _xml(edge.transaction(work))


def _dial(leg: CallLeg, greeting: str | None) -> str:
    return twiml.twiml_dial(
        leg.number,
        greeting=greeting,
        timeout=int(current_app.config["RESPIJT_MELDPUNT_RING_SECONDS"]),
        action_url=_url(f"/dial-result?leg={leg.id}"),
        whisper_url=_url(f"/whisper?leg={leg.id}"),
    )


def _voicemail(call_id: int) -> str:
    return twiml.twiml_voicemail(VOICEMAIL, _url(f"/voicemail?call={call_id}"))


def _int_arg(name: str) -> int | None:
    try:
        return int(request.args.get(name, ""))
    except ValueError:
        return None


def _signed_callback(param: str) -> Callable[[Callable[[int], Response]], Callable[[], Response]]:
    """A Twilio callback about one leg or call: refused (403) without a valid signature, 400
    without the id `param` in its query string; the view gets that id."""

    def decorate(view: Callable[[int], Response]) -> Callable[[], Response]:
        @functools.wraps(view)
        def checked() -> Response:
            if not _signed():
                return _forbidden()
            value = _int_arg(param)
            if value is None:
                return Response(f"{param} is verplicht.", status=400)
            return view(value)

        return checked

    return decorate


@blp.post("/incoming")
def incoming() -> Response:
    if not _signed():
        return _forbidden()
    form = request.form
    call_sid = form.get("CallSid") or ""
    if not call_sid:
        return Response("CallSid is verplicht.", status=400)

    def work() -> str:
        now = clock.now()
        region = phone.region_for_number(db.session, form.get("To") or "")
        if region is None:
            return twiml.twiml_say_hangup(UNKNOWN_NUMBER)
        is_open = phone.is_open(now, current_app.config.get("RESPIJT_MELDPUNT_HOURS"))
        call = phone.start_call(
            db.session,
            call_sid=call_sid,
            from_number=form.get("From") or "",
            to_number=form.get("To") or "",
            region=region,
            now=now,
            status="routing" if is_open else "after_hours",
        )
        if not is_open:
            return twiml.twiml_say_hangup(AFTER_HOURS)
        leg = db.session.scalars(
            select(CallLeg).where(CallLeg.call_id == call.id).order_by(CallLeg.seq)
        ).first() or phone.next_leg(db.session, call, now)  # a retried webhook rings the same
        return _dial(leg, GREETING) if leg is not None else _voicemail(call.id)

    return _transaction(work)


@blp.post("/whisper")
@_signed_callback("leg")
def whisper(leg_id: int) -> Response:
    return _xml(twiml.twiml_whisper(WHISPER, _url(f"/accept?leg={leg_id}")))


@blp.post("/accept")
@_signed_callback("leg")
def accept(leg_id: int) -> Response:
    digits = (request.form.get("Digits") or "").strip()

    def work() -> str:
        if digits == "1" and phone.accept_leg(db.session, leg_id, clock.now()):
            return twiml.twiml_connect()
        return twiml.twiml_hangup()

    return _transaction(work)


@blp.post("/dial-result")
@_signed_callback("leg")
def dial_result(leg_id: int) -> Response:
    status = request.form.get("DialCallStatus") or ""
    call_status = request.form.get("CallStatus") or ""

    def work() -> str:
        what, following = phone.after_leg(db.session, leg_id, status, call_status, clock.now())
        if what == "dial" and following is not None:
            return _dial(following, NEXT)
        if what == "voicemail":
            return _voicemail(phone.get_leg(db.session, leg_id).call_id)
        return twiml.twiml_hangup()

    return _transaction(work)


@blp.post("/voicemail")
@_signed_callback("call")
def voicemail(call_id: int) -> Response:
    form = request.form

    def work() -> str:
        call = phone.get_call(db.session, call_id)
        url = form.get("RecordingUrl")
        if not url:
            phone.mark_missed(db.session, call)
            return twiml.twiml_hangup()
        try:
            duration = int(form.get("RecordingDuration") or 0)
        except ValueError:
            duration = None
        phone.record_voicemail(
            db.session, call, recording_url=url, duration_seconds=duration, now=clock.now()
        )
        return twiml.twiml_say_hangup(THANKS)

    return _transaction(work)


def register_voice_webhooks(app: Flask) -> None:
    app.register_blueprint(blp)
    csrf: Any = app.extensions.get("csrf")
    if csrf is not None and hasattr(csrf, "exempt"):
        csrf.exempt(blp)
