"""The outbox's `twilio` backend: send through the gateway, and never send a message twice.

A send whose answer was lost (timeout after the request went out) may have reached Twilio. It is
reported as transient with error code "ambiguous", and every later attempt of a message first
looks it up at Twilio (by recipient and body, created since the row was queued, and not already
the SID of another outbox row): only a message Twilio never received is sent again. A message
with a send-time link (`send_time_link.SendTimeLink`) carries a new link on every attempt, so it is
looked up by the text around the link.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, Protocol

from respijt.messages.backends import SendResult
from respijt.messages.outbox import AMBIGUOUS, TAKEN_SIDS
from respijt.messages.send_time_link import TEXT_AROUND_LINK
from respijt.messages.twilio import SendOutcome, TwilioGateway, is_twilio_error

# Twilio's clock and ours may differ a little; look back this far before the row was queued.
CLOCK_MARGIN = timedelta(minutes=5)
STATUS_CALLBACK_PATH = "/twilio/sms/status"


class OutboxMessageLike(Protocol):
    recipient: str
    body: str
    attempts: int  # including the attempt now being made
    created_at: datetime
    error_code: str | None


class TwilioBackend:
    def __init__(self, gateway: TwilioGateway, status_callback_url: str | None) -> None:
        self.gateway = gateway
        self.status_callback_url = status_callback_url

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> TwilioBackend:
        return cls(
            TwilioGateway.from_config(config),
            str(config["RESPIJT_PUBLIC_URL"]).rstrip("/") + STATUS_CALLBACK_PATH,
        )

    def close(self) -> None:
        self.gateway.close()

    def send(self, message: OutboxMessageLike) -> SendResult:
        if message.attempts > 1 or message.error_code == AMBIGUOUS:
            try:
                sid = self.gateway.find_sent(
                    message.recipient,
                    getattr(message, TEXT_AROUND_LINK, (message.body,)),
                    created_after=message.created_at - CLOCK_MARGIN,
                    exclude=getattr(message, TAKEN_SIDS, frozenset()),
                )
            except Exception as exc:
                if not is_twilio_error(exc):
                    raise
                return SendResult(
                    "transient",
                    error_code=AMBIGUOUS,
                    error="Twilio onbereikbaar om een eerdere poging na te gaan; niet verstuurd.",
                )
            if sid is not None:
                return SendResult("sent", provider_message_id=sid)
        return to_send_result(
            self.gateway.send(message.recipient, message.body, self.status_callback_url)
        )


def to_send_result(outcome: SendOutcome) -> SendResult:
    code = str(outcome.error_code) if outcome.error_code is not None else None
    if outcome.kind == "accepted":
        return SendResult("sent", provider_message_id=outcome.sid)
    if outcome.kind == "ambiguous":
        return SendResult(
            "transient",
            error_code=AMBIGUOUS,
            error=f"Onbekend of Twilio het bericht heeft ({outcome.detail}); wordt nagegaan.",
        )
    label = "tijdelijke fout" if outcome.kind == "transient" else "geweigerd"
    status = f"HTTP {outcome.http_status}" if outcome.http_status else "geen HTTP-antwoord"
    return SendResult(
        outcome.kind, error_code=code, error=f"Twilio {label} ({status}): {outcome.detail}"[:500]
    )
