"""Twilio webhooks under /twilio: SMS status callbacks and inbound SMS (voice: `twilio_voice`).

Each request must carry a valid `X-Twilio-Signature`, computed by Twilio over the URL it posted
to; behind a proxy that is `RESPIJT_PUBLIC_URL` + path, not what Flask sees. A retry with an
`I-Twilio-Idempotency-Token` seen before has no second effect. These views are the transaction
edge: verify → act in `edge.transaction` → answer; what an inbound SMS means and does is
`care_requests.replies`.

The blueprint is signed, not cookie-authenticated: exempt it from CSRF (`csrf.exempt(blp)`);
`register_webhooks` does so itself when Flask-WTF's CSRFProtect is already set up.
"""

from __future__ import annotations

import logging
from typing import Any
from xml.sax.saxutils import escape

from flask import Blueprint, Flask, Response, current_app, request

from respijt import clock, edge
from respijt.care_requests import replies
from respijt.extensions import db
from respijt.messages import delivery
from respijt.messages.twilio import signature_is_valid, webhook_validator

log = logging.getLogger(__name__)

blp = Blueprint("twilio", __name__, url_prefix="/twilio")

IDEMPOTENCY_HEADER = "I-Twilio-Idempotency-Token"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def twiml(reply: str | None) -> Response:
    if not reply:
        return Response(EMPTY_TWIML, mimetype="text/xml")
    return Response(
        '<?xml version="1.0" encoding="UTF-8"?>'
        f"<Response><Message>{escape(reply)}</Message></Response>",
        mimetype="text/xml",
    )


def _signed() -> bool:
    validator = current_app.extensions.get("respijt_twilio_validator")
    if validator is None:
        token = current_app.config.get("RESPIJT_TWILIO_AUTH_TOKEN") or ""
        if not token:
            log.warning("Twilio webhook refused: RESPIJT_TWILIO_AUTH_TOKEN is not set")
            return False
        validator = webhook_validator(token)
        current_app.extensions["respijt_twilio_validator"] = validator
    url = current_app.config["RESPIJT_PUBLIC_URL"] + request.path
    if request.query_string:
        url += "?" + request.query_string.decode()
    return signature_is_valid(
        validator, url, request.form, request.headers.get("X-Twilio-Signature")
    )


def _forbidden() -> Response:
    return Response("Ongeldige of ontbrekende handtekening.", status=403, mimetype="text/plain")


def _error_code(raw: str | None) -> int | None:
    try:
        return int(raw) if raw else None
    except ValueError:
        return None


@blp.post("/sms/status")
def sms_status() -> Response:
    if not _signed():
        return _forbidden()
    sid = request.form.get("MessageSid") or request.form.get("SmsSid") or ""
    status = request.form.get("MessageStatus") or request.form.get("SmsStatus") or ""
    if not sid or not status:
        return Response("MessageSid en MessageStatus zijn verplicht.", status=400)
    token = request.headers.get(IDEMPOTENCY_HEADER)
    raw = request.form.to_dict()

    def work() -> None:
        now = clock.now()
        if token and not delivery.claim_webhook_token(db.session, token, "sms_status", now):
            return
        delivery.apply_status(
            db.session,
            sid,
            status,
            _error_code(request.form.get("ErrorCode")),
            now=now,
            raw=raw,
        )

    edge.transaction(work)
    return Response(status=204)


@blp.post("/sms/inbound")
def sms_inbound() -> Response:
    if not _signed():
        return _forbidden()
    form = request.form
    sid = form.get("MessageSid") or form.get("SmsSid") or ""
    from_number = form.get("From") or ""
    if not sid or not from_number:
        return Response("MessageSid en From zijn verplicht.", status=400)
    token = request.headers.get(IDEMPOTENCY_HEADER)

    reply_days = current_app.config["RESPIJT_SATISFACTION_REPLY_DAYS"]

    def work() -> replies.InboundResult:
        return replies.handle_inbound(
            db.session,
            sid=sid,
            from_number=from_number,
            to_number=form.get("To") or "",
            body=form.get("Body") or "",
            now=clock.now(),
            satisfaction_reply_days=reply_days,
            idempotency_token=token,
            provider_confirm_hours=current_app.config["RESPIJT_PROVIDER_CONFIRM_HOURS"],
        )

    return twiml(edge.transaction(work).reply)


def register_webhooks(app: Flask) -> None:
    app.register_blueprint(blp)
    csrf: Any = app.extensions.get("csrf")
    if csrf is not None and hasattr(csrf, "exempt"):
        csrf.exempt(blp)
