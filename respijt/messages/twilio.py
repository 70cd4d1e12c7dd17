"""Twilio, behind one small gateway. The only module that imports `twilio`.

It also builds the TwiML answers of the meldpunt voice webhooks.

Sending through Twilio is not idempotent, so every outcome is classified for the outbox:

- accepted: Twilio answered 2xx with a message SID;
- transient: Twilio certainly did not take the message (5xx, 429, no connection) — retry later;
- permanent: Twilio refused it for good (4xx such as 21211 invalid number, 21610 the recipient
  sent STOP, 21614 not a mobile number) — never retry;
- ambiguous: the request went out but no answer came back (read timeout, connection dropped):
  Twilio may have accepted it. Reconcile with `find_sent()` before any resend.

The real `twilio` 9 `Client` is used everywhere, including tests: `RESPIJT_TWILIO_BASE_URL`
rewrites `https://api.twilio.com` to a fake Twilio on 127.0.0.1 (the client has no base-URL
option, only edge/region).
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import requests
from requests.adapters import HTTPAdapter
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.request_validator import RequestValidator
from twilio.rest import Client
from twilio.twiml.voice_response import Dial, Gather, VoiceResponse
from urllib3.exceptions import NewConnectionError

log = logging.getLogger(__name__)

TWILIO_API_URL = "https://api.twilio.com"

# Twilio error codes that mean "this recipient cannot get this message", whatever the status.
INVALID_NUMBER = 21211
UNSUBSCRIBED = 21610
NOT_A_MOBILE = 21614
TOO_MANY_REQUESTS = 20429

Outcome = Literal["accepted", "transient", "permanent", "ambiguous"]


@dataclass(frozen=True)
class SendOutcome:
    """What happened to one send: `kind` decides what the outbox does next."""

    kind: Outcome
    sid: str | None = None
    status: str | None = None  # Twilio's message status when accepted ("queued", …)
    http_status: int | None = None
    error_code: int | None = None
    detail: str = ""

    @property
    def unsubscribed(self) -> bool:
        return self.error_code == UNSUBSCRIBED


def _fold(text: str) -> str:
    """Letters and digits only, without accents, lower case: survives Twilio's Smart Encoding
    (which may swap quotes, dashes and some accented letters) and whitespace changes."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if ch.isascii() and ch.isalnum()).lower()


def _contains_in_order(text: str, parts: Sequence[str]) -> bool:
    at = 0
    for part in parts:
        found = text.find(part, at)
        if found < 0:
            return False
        at = found + len(part)
    return True


class BaseUrlHttpClient(TwilioHttpClient):
    """TwilioHttpClient that sends `https://api.twilio.com/…` to another base URL.

    It also logs without query parameters or bodies: those hold phone numbers and message text.
    No automatic retries: a POST that may have reached Twilio must be reconciled, not repeated.
    """

    def __init__(self, base_url: str = TWILIO_API_URL, timeout: float | None = None) -> None:
        super().__init__(pool_connections=True, timeout=timeout, max_retries=0)
        self.base_url = base_url.rstrip("/")
        if self.session is not None:
            self.session.mount("http://", HTTPAdapter(max_retries=0))

    def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        if url.startswith(TWILIO_API_URL) and self.base_url != TWILIO_API_URL:
            url = self.base_url + url[len(TWILIO_API_URL) :]
        return super().request(
            method,
            url,
            params=params,
            data=data,
            headers=headers,
            auth=auth,
            timeout=timeout,
            allow_redirects=allow_redirects,
        )

    def log_request(self, kwargs: dict[str, Any]) -> None:
        self.logger.debug("Twilio %s %s", kwargs["method"], kwargs["url"].split("?", 1)[0])

    def log_response(self, status_code: int, response: Any) -> None:
        self.logger.debug("Twilio response %s", status_code)

    def close(self) -> None:
        if self.session is not None:
            self.session.close()


def _never_reached_twilio(exc: requests.exceptions.ConnectionError) -> bool:
    """True when the connection was never made (refused, DNS), so nothing was sent."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, NewConnectionError):
            return True
        reason = getattr(current, "reason", None)
        if isinstance(reason, BaseException):
            todo.append(reason)
        todo.extend(arg for arg in current.args if isinstance(arg, BaseException))
        if current.__cause__ is not None:
            todo.append(current.__cause__)
        if current.__context__ is not None:
            todo.append(current.__context__)
    return False


def classify_rest_error(exc: TwilioRestException) -> SendOutcome:
    status = int(exc.status)
    code = int(exc.code) if exc.code else None
    detail = str(exc.msg)[:300]
    # 401: our credentials are wrong or rotated — fixable, so retry rather than drop the message.
    if status >= 500 or status in (401, 429) or code == TOO_MANY_REQUESTS:
        return SendOutcome("transient", http_status=status, error_code=code, detail=detail)
    return SendOutcome("permanent", http_status=status, error_code=code, detail=detail)


class TwilioGateway:
    """Send SMS, find a message sent before, and check webhook signatures."""

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        from_number: str,
        base_url: str = TWILIO_API_URL,
        timeout: float = 10.0,
    ) -> None:
        if not (account_sid and auth_token and from_number):
            raise RuntimeError(
                "Twilio needs RESPIJT_TWILIO_ACCOUNT_SID, RESPIJT_TWILIO_AUTH_TOKEN and "
                "RESPIJT_TWILIO_FROM"
            )
        self.from_number = from_number
        self.http_client = BaseUrlHttpClient(base_url, timeout=timeout)
        self.client = Client(account_sid, auth_token, http_client=self.http_client)
        self.validator = RequestValidator(auth_token)

    @classmethod
    def from_config(cls, config: Any) -> TwilioGateway:
        return cls(
            config["RESPIJT_TWILIO_ACCOUNT_SID"],
            config["RESPIJT_TWILIO_AUTH_TOKEN"],
            config["RESPIJT_TWILIO_FROM"],
            base_url=config["RESPIJT_TWILIO_BASE_URL"],
            timeout=config["RESPIJT_TWILIO_TIMEOUT_SECONDS"],
        )

    def close(self) -> None:
        self.http_client.close()

    def __enter__(self) -> TwilioGateway:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def send(self, to: str, body: str, status_callback_url: str | None = None) -> SendOutcome:
        """Send one SMS and classify the result; never raises for a Twilio or network error."""
        kwargs: dict[str, Any] = {"to": to, "from_": self.from_number, "body": body}
        if status_callback_url:
            kwargs["status_callback"] = status_callback_url
        try:
            message = self.client.messages.create(**kwargs)
        except TwilioRestException as exc:
            outcome = classify_rest_error(exc)
            log.info(
                "Twilio refused a message: %s (HTTP %s, code %s)",
                outcome.kind,
                outcome.http_status,
                outcome.error_code,
            )
            return outcome
        except requests.exceptions.ConnectionError as exc:
            if _never_reached_twilio(exc):
                return SendOutcome("transient", detail=f"geen verbinding: {type(exc).__name__}")
            return SendOutcome("ambiguous", detail=f"verbinding verbroken: {type(exc).__name__}")
        except requests.exceptions.Timeout as exc:  # read timeout: the request went out
            return SendOutcome("ambiguous", detail=f"time-out: {type(exc).__name__}")
        except requests.exceptions.RequestException as exc:
            return SendOutcome("ambiguous", detail=f"onbekende fout: {type(exc).__name__}")
        except TwilioException as exc:  # e.g. an unreadable answer after the request went out
            return SendOutcome("ambiguous", detail=f"onleesbaar antwoord: {type(exc).__name__}")
        return SendOutcome("accepted", sid=message.sid, status=message.status)

    def find_sent(
        self,
        to: str,
        body_marker: str | Sequence[str],
        *,
        created_after: datetime | None = None,
        exclude: Collection[str] = (),
        limit: int = 100,
    ) -> str | None:
        """The SID of a message we sent to `to` whose body contains `body_marker`, or None.
        A sequence of markers must all be found, in that order (the text around a link that
        differs from one attempt to the next).

        Lists by recipient and sender without a date filter: a queued message has no send date.
        Bodies are compared by letters and digits only (see `_fold`). SIDs in `exclude` are
        other outbox rows' (an identical text sent before): Twilio's message resource echoes
        nothing of ours but the body, so a row's own message is told apart only this way.
        `created_after` (aware) narrows to messages created from then on. Network and Twilio
        errors propagate: an unreconciled message must not be sent again.
        """
        parts = [body_marker] if isinstance(body_marker, str) else list(body_marker)
        wanted = [folded for folded in (_fold(part) for part in parts) if folded]
        for message in self.client.messages.stream(
            to=to, from_=self.from_number, limit=limit, page_size=min(limit, 50)
        ):
            if created_after is not None and message.date_created is not None:
                if message.date_created < created_after.replace(microsecond=0):
                    continue
            if message.sid in exclude:
                continue
            if wanted and _contains_in_order(_fold(message.body or ""), wanted):
                return str(message.sid)
        return None

    def validate_signature(self, url: str, params: Any, signature: str | None) -> bool:
        """Check `X-Twilio-Signature` over the public URL and the POSTed form parameters."""
        return signature_is_valid(self.validator, url, params, signature)


def webhook_validator(auth_token: str) -> RequestValidator:
    """A validator for webhook views, which need only the auth token (no sender number)."""
    if not auth_token:
        raise RuntimeError("Twilio webhooks need RESPIJT_TWILIO_AUTH_TOKEN")
    return RequestValidator(auth_token)


def signature_is_valid(
    validator: RequestValidator, url: str, params: Any, signature: str | None
) -> bool:
    if not signature:
        return False
    return bool(validator.validate(url, params, signature))


def is_twilio_error(exc: BaseException) -> bool:
    return isinstance(exc, TwilioException | requests.exceptions.RequestException)


# --- voice: TwiML answers for the meldpunt phone routing (respijt/api/twilio_voice.py) ---------
# Built here so `twilio` stays imported in this one module (DESIGN §5).

VOICE_LANGUAGE = "nl-NL"


def twiml_say_hangup(text: str) -> str:
    response = VoiceResponse()
    response.say(text, language=VOICE_LANGUAGE)
    response.hangup()
    return str(response)


def twiml_dial(
    number: str, *, greeting: str | None, timeout: int, action_url: str, whisper_url: str
) -> str:
    """Ring `number`; the callee first hears the whisper (`whisper_url`), the caller rings on.
    Twilio posts the outcome to `action_url` when the leg ends."""
    response = VoiceResponse()
    if greeting:
        response.say(greeting, language=VOICE_LANGUAGE)
    dial = Dial(timeout=timeout, action=action_url, method="POST")
    dial.number(number, url=whisper_url, method="POST")
    response.append(dial)
    return str(response)


def twiml_fallback(greeting: str, numbers: list[str], *, timeout: int, closing: str) -> str:
    """For the number's fallback URL, answered without respijt: the greeting, then one
    <Dial> per number in turn (Twilio goes on to the next verb when a <Dial> without `action`
    ends), then the closing words. Static: no whisper, no voicemail, nothing recorded."""
    response = VoiceResponse()
    response.say(greeting, language=VOICE_LANGUAGE)
    for number in numbers:
        dial = Dial(timeout=timeout)
        dial.number(number)
        response.append(dial)
    response.say(closing, language=VOICE_LANGUAGE)
    response.hangup()
    return str(response)


def twiml_whisper(prompt: str, action_url: str, seconds: int = 8) -> str:
    """Played to the callee only: press 1 to take the call; anything else hangs up the leg."""
    response = VoiceResponse()
    gather = Gather(num_digits=1, action=action_url, method="POST", timeout=seconds)
    gather.say(prompt, language=VOICE_LANGUAGE)
    response.append(gather)
    response.hangup()
    return str(response)


def twiml_connect() -> str:
    """An empty answer to the whisper: the callee is bridged to the caller."""
    return str(VoiceResponse())


def twiml_hangup() -> str:
    response = VoiceResponse()
    response.hangup()
    return str(response)


def twiml_voicemail(prompt: str, action_url: str, max_seconds: int = 120) -> str:
    response = VoiceResponse()
    response.say(prompt, language=VOICE_LANGUAGE)
    response.record(
        action=action_url, method="POST", max_length=max_seconds, play_beep=True, timeout=5
    )
    response.say("Er is geen bericht opgenomen. Tot ziens.", language=VOICE_LANGUAGE)
    response.hangup()
    return str(response)
