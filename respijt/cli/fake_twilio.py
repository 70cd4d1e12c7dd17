"""A fake Twilio on 127.0.0.1 for tests and local demos (`respijt fake-twilio`, in commands.py).

It speaks the part of the Messages API that the real `twilio` client uses — create
(`POST …/Messages.json`), list with `To`/`From` filters and paging, fetch one — and records every
message it accepted. Failures can be injected per call (a script) or at random (probabilities):
`500`, `503`, `429`, `21211` (invalid number), `21610` (unsubscribed), `21614` (not a mobile) and
`timeout` ("accepted, then timed out": the message is stored, the answer comes after the client
has given up). It posts signed status callbacks and inbound messages back to the app, with the
signature algorithm Twilio documents (HMAC-SHA1 over URL + sorted parameters, base64), written
here independently of the `twilio` library so the app's RequestValidator check is tested for real.

It also serves voicemail recordings (`add_recording`; `GET …/Recordings/RE….mp3`, with the
account's credentials only), as Twilio does for the meldpunt's voicemails.

In tests: `with FakeTwilio() as fake:` starts it on a free port in a thread. Its HTTP handler,
with the admin endpoints for demos, is in `fake_twilio_http.py`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import random
import re
import secrets
import threading
import urllib.error
import urllib.request
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import urlencode, urlsplit
from xml.etree import ElementTree

from respijt import clock
from respijt.cli.fake_twilio_http import make_handler, twilio_error

API_PREFIX = "/2010-04-01/Accounts/"
DEFAULT_ACCOUNT_SID = "AC" + "0" * 31 + "1"
DEFAULT_AUTH_TOKEN = "fake-twilio-auth-token"
DEFAULT_FROM = "+3197010200300"
FAILURE_KINDS = ("500", "503", "429", "21211", "21610", "21614", "timeout")
OPT_OUT_KEYWORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"}
OPT_IN_KEYWORDS = {"START", "YES", "UNSTOP"}
E164 = re.compile(r"^\+[1-9]\d{6,14}$")

_ERRORS: dict[str, tuple[int, int, str]] = {
    "500": (500, 20500, "Internal Server Error"),
    "503": (503, 20503, "Service Unavailable"),
    "429": (429, 20429, "Too Many Requests"),
    "21211": (400, 21211, "The 'To' number is not a valid phone number."),
    "21610": (400, 21610, "Attempt to send to unsubscribed recipient"),
    "21614": (400, 21614, "'To' number is not a valid mobile number"),
}

# (url, form parameters, headers) -> (HTTP status, body)
Transport = Callable[[str, dict[str, str], dict[str, str]], tuple[int, str]]


def twilio_signature(auth_token: str, url: str, params: Mapping[str, str]) -> str:
    """Twilio's webhook signature: base64(HMAC-SHA1(token, url + key1 + value1 + …))."""
    payload = url + "".join(key + params[key] for key in sorted(params))
    digest = hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def urllib_transport(url: str, params: dict[str, str], headers: dict[str, str]) -> tuple[int, str]:
    request = urllib.request.Request(
        url, data=urlencode(params).encode(), headers=headers, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.read().decode()


def flask_client_transport(client: Any) -> Transport:
    """Post callbacks through a Flask test client instead of the network."""

    def post(url: str, params: dict[str, str], headers: dict[str, str]) -> tuple[int, str]:
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        response = client.post(path, data=params, headers=headers)
        return response.status_code, response.get_data(as_text=True)

    return post


@dataclass
class FakeMessage:
    sid: str
    to: str
    from_: str
    body: str
    status: str
    date_created: datetime
    status_callback: str | None = None
    error_code: int | None = None
    timed_out: bool = False  # stored, but the client got no answer

    def resource(self, account_sid: str) -> dict[str, Any]:
        created = format_datetime(self.date_created.replace(microsecond=0), usegmt=False)
        uri = f"{API_PREFIX}{account_sid}/Messages/{self.sid}.json"
        return {
            "sid": self.sid,
            "account_sid": account_sid,
            "api_version": "2010-04-01",
            "body": self.body,
            "date_created": created,
            "date_updated": created,
            "date_sent": None,
            "direction": "outbound-api",
            "error_code": self.error_code,
            "error_message": None,
            "from": self.from_,
            "messaging_service_sid": None,
            "num_media": "0",
            "num_segments": str(max(1, -(-len(self.body) // 153))),
            "price": None,
            "price_unit": "EUR",
            "status": self.status,
            "subresource_uris": {"media": uri.replace(".json", "/Media.json")},
            "to": self.to,
            "uri": uri,
        }


@dataclass
class CallbackResult:
    """The app's answer to one posted callback; `replies` are the TwiML <Message> texts."""

    status_code: int
    text: str
    token: str
    params: dict[str, str]
    replies: list[str] = field(default_factory=list)


@dataclass
class FailurePlan:
    probabilities: dict[str, float] = field(default_factory=dict)
    script: deque[str] = field(default_factory=deque)
    rng: random.Random = field(default_factory=random.Random)

    def next_failure(self) -> str | None:
        if self.script:
            step = self.script.popleft()
            return None if step == "ok" else step
        roll = self.rng.random()
        edge = 0.0
        for kind in FAILURE_KINDS:
            edge += self.probabilities.get(kind, 0.0)
            if roll < edge:
                return kind
        return None


class FakeTwilio:
    """The fake server. Thread-safe; start() binds 127.0.0.1 (port 0: a free port)."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        account_sid: str = DEFAULT_ACCOUNT_SID,
        auth_token: str = DEFAULT_AUTH_TOKEN,
        number: str = DEFAULT_FROM,
        app_url: str = "http://127.0.0.1:5000",
        inbound_path: str = "/twilio/sms/inbound",
        timeout_delay: float = 2.0,
        auto_statuses: Iterable[str] = (),
        transport: Transport = urllib_transport,
        seed: int | None = None,
        on_message: Callable[[FakeMessage], None] | None = None,
    ) -> None:
        self.host, self.port = host, port
        self.account_sid, self.auth_token, self.number = account_sid, auth_token, number
        self.app_url, self.inbound_path = app_url.rstrip("/"), inbound_path
        self.timeout_delay = timeout_delay
        self.auto_statuses = list(auto_statuses)
        self.transport = transport
        self.on_message = on_message
        self.plan = FailurePlan(rng=random.Random(seed))
        self.replies: list[tuple[str, str]] = []  # (to, text) answered by the app in TwiML
        self.opted_out: set[str] = set()
        self.post_attempts = 0
        self._messages: dict[str, FakeMessage] = {}
        self._recordings: dict[str, bytes] = {}  # voicemail recordings by RE… sid
        self._recording_types: dict[str, str] = {}  # the Content-Type each is served with
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._workers: list[threading.Thread] = []

    # --- life cycle -----------------------------------------------------------------------

    def start(self) -> FakeTwilio:
        self._stopping.clear()
        self._server = ThreadingHTTPServer((self.host, self.port), make_handler(self))
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-twilio",
            daemon=True,
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Run in the foreground (the CLI); Ctrl-C stops."""
        self.start()
        try:
            self._stopping.wait()
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        for worker in self._workers:
            worker.join(timeout=5)
        self._workers.clear()

    def __enter__(self) -> FakeTwilio:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # --- configuration and inspection -----------------------------------------------------

    def set_failures(
        self,
        probabilities: Mapping[str, float] | None = None,
        script: Iterable[str] | None = None,
        seed: int | None = None,
        timeout_delay: float | None = None,
    ) -> None:
        """Inject failures: `script` per POST in order ("ok" or a kind), then `probabilities`."""
        for kind in list(probabilities or {}) + [s for s in (script or []) if s != "ok"]:
            if kind not in FAILURE_KINDS:
                raise ValueError(f"unknown failure {kind!r}; choose from {FAILURE_KINDS}")
        with self._lock:
            self.plan.probabilities = dict(probabilities or {})
            self.plan.script = deque(script or [])
            if seed is not None:
                self.plan.rng = random.Random(seed)
            if timeout_delay is not None:
                self.timeout_delay = timeout_delay

    def reset(self) -> None:
        with self._lock:
            self._messages.clear()
            self.replies.clear()
            self.opted_out.clear()
            self.post_attempts = 0
            self.plan = FailurePlan(rng=self.plan.rng)

    def messages(self, to: str | None = None) -> list[FakeMessage]:
        """Accepted messages, oldest first (including those whose answer timed out)."""
        with self._lock:
            found = list(self._messages.values())
        return [m for m in found if to is None or m.to == to]

    def message(self, sid: str) -> FakeMessage:
        with self._lock:
            return self._messages[sid]

    def add_recording(self, audio: bytes, content_type: str = "audio/mpeg") -> str:
        """Store a voicemail recording; returns the `RecordingUrl` Twilio would post (without an
        extension; the audio is served, to the account's credentials only, at that URL + .mp3,
        as `content_type`)."""
        sid = "RE" + secrets.token_hex(16)
        with self._lock:
            self._recordings[sid] = audio
            self._recording_types[sid] = content_type
        return f"https://api.twilio.com{API_PREFIX}{self.account_sid}/Recordings/{sid}"

    def recording(self, sid: str) -> bytes | None:
        with self._lock:
            return self._recordings.get(sid)

    def recording_type(self, sid: str) -> str:
        with self._lock:
            return self._recording_types.get(sid, "audio/mpeg")

    # --- the Messages API -------------------------------------------------------------------

    def _create(self, form: dict[str, str]) -> tuple[int, dict[str, Any], bool]:
        """Returns (HTTP status, JSON answer, answer late)."""
        to, from_, body = form.get("To", ""), form.get("From", ""), form.get("Body", "")
        with self._lock:
            self.post_attempts += 1
            failure = self.plan.next_failure()
            if failure is None and to in self.opted_out:
                failure = "21610"
            if failure is None and not E164.match(to):
                failure = "21211"
            if failure in _ERRORS:
                status, code, text = _ERRORS[failure]
                return status, twilio_error(status, code, text), False
            if not from_ or not body:
                return 400, twilio_error(400, 21602, "Message body and From are required."), False
            message = FakeMessage(
                sid="SM" + secrets.token_hex(16),
                to=to,
                from_=from_,
                body=body,
                status="queued",
                date_created=clock.now(),
                status_callback=form.get("StatusCallback") or None,
                timed_out=failure == "timeout",
            )
            self._messages[message.sid] = message
        if self.on_message is not None:
            self.on_message(message)
        if self.auto_statuses and message.status_callback:
            worker = threading.Thread(
                target=self._post_auto_statuses, args=(message.sid,), daemon=True
            )
            self._workers.append(worker)
            worker.start()
        return 201, message.resource(self.account_sid), failure == "timeout"

    def _list(self, query: dict[str, str]) -> dict[str, Any]:
        to, from_ = query.get("To"), query.get("From")
        page_size = max(1, min(int(query.get("PageSize", "50")), 1000))
        page = max(0, int(query.get("Page", "0")))
        with self._lock:
            rows = [
                m
                for m in reversed(self._messages.values())  # newest first, as Twilio lists
                if (to is None or m.to == to) and (from_ is None or m.from_ == from_)
            ]
        start = page * page_size
        chunk = rows[start : start + page_size]
        base = f"{API_PREFIX}{self.account_sid}/Messages.json"
        filters = {k: v for k, v in (("To", to), ("From", from_)) if v is not None}

        def page_uri(number: int) -> str:
            return f"{base}?{urlencode({**filters, 'PageSize': page_size, 'Page': number})}"

        return {
            "messages": [m.resource(self.account_sid) for m in chunk],
            "end": start + max(len(chunk) - 1, 0),
            "first_page_uri": page_uri(0),
            "next_page_uri": page_uri(page + 1) if start + page_size < len(rows) else None,
            "page": page,
            "page_size": page_size,
            "previous_page_uri": page_uri(page - 1) if page > 0 else None,
            "start": start,
            "uri": page_uri(page),
        }

    # --- callbacks to the app ---------------------------------------------------------------

    def _post(self, url: str, params: dict[str, str], token: str | None) -> CallbackResult:
        token = token or secrets.token_hex(16)
        headers = {
            "X-Twilio-Signature": twilio_signature(self.auth_token, url, params),
            "I-Twilio-Idempotency-Token": token,
            "Content-Type": "application/x-www-form-urlencoded",
        }
        status, text = self.transport(url, params, headers)
        return CallbackResult(status, text, token, params, _twiml_messages(text))

    def post_status(
        self,
        sid: str,
        status: str,
        *,
        error_code: int | None = None,
        token: str | None = None,
        url: str | None = None,
    ) -> CallbackResult:
        """Post a signed status callback for a message (pass `token` again to replay one)."""
        with self._lock:
            message = self._messages[sid]
            message.status = status
            if error_code is not None:
                message.error_code = error_code
        target = url or message.status_callback or f"{self.app_url}/twilio/sms/status"
        params = {
            "AccountSid": self.account_sid,
            "ApiVersion": "2010-04-01",
            "From": message.from_,
            "MessageSid": sid,
            "MessageStatus": status,
            "SmsSid": sid,
            "SmsStatus": status,
            "To": message.to,
        }
        if error_code is not None:
            params["ErrorCode"] = str(error_code)
        return self._post(target, params, token)

    def _post_auto_statuses(self, sid: str) -> None:
        for status in self.auto_statuses:
            if self._stopping.wait(0.2):
                return
            try:
                self.post_status(sid, status)
            except OSError:
                return

    def send_inbound(
        self,
        from_: str,
        body: str,
        *,
        to: str | None = None,
        token: str | None = None,
        sid: str | None = None,
    ) -> CallbackResult:
        """Post a signed inbound SMS to the app, as if `from_` texted our number."""
        words = body.strip().upper()
        with self._lock:
            if words in OPT_OUT_KEYWORDS:
                self.opted_out.add(from_)
            elif words in OPT_IN_KEYWORDS:
                self.opted_out.discard(from_)
        params = {
            "AccountSid": self.account_sid,
            "ApiVersion": "2010-04-01",
            "Body": body,
            "From": from_,
            "MessageSid": sid or "SM" + secrets.token_hex(16),
            "NumMedia": "0",
            "NumSegments": "1",
            "SmsSid": sid or "",
            "SmsStatus": "received",
            "To": to or self.number,
        }
        params["SmsSid"] = params["MessageSid"]
        result = self._post(self.app_url + self.inbound_path, params, token)
        with self._lock:
            self.replies.extend((from_, text) for text in result.replies)
        return result


def _twiml_messages(text: str) -> list[str]:
    if "<Response" not in text:
        return []
    try:
        root = ElementTree.fromstring(text)
    except ElementTree.ParseError:
        return []
    return [(el.text or "").strip() for el in root.iter("Message")]
