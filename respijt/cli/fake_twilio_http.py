"""The HTTP side of the fake Twilio: Twilio's error body and the request handler.

The handler answers the Messages API (create, list, fetch one), serves voicemail recordings,
and the admin endpoints for demos (`GET /_fake/messages`, `POST /_fake/failures`,
`/_fake/reset`, `/_fake/status`, `/_fake/inbound`) on behalf of one
`respijt.cli.fake_twilio.FakeTwilio`, which imports this module to start its server.
"""

from __future__ import annotations

import base64
import hmac
import json
import re
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

NOT_FOUND = "The requested resource was not found"


def twilio_error(status: int, code: int, message: str) -> dict[str, Any]:
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


def make_handler(fake: Any) -> type[BaseHTTPRequestHandler]:
    messages_path = re.compile(r"^/2010-04-01/Accounts/(AC\w+)/Messages\.json$")
    message_path = re.compile(r"^/2010-04-01/Accounts/(AC\w+)/Messages/(SM\w+)\.json$")
    recording_path = re.compile(r"^/2010-04-01/Accounts/(AC\w+)/Recordings/(RE\w+?)(\.mp3)?$")

    class Handler(BaseHTTPRequestHandler):
        server_version = "FakeTwilio/1.0"

        def log_message(self, format: str, *args: Any) -> None:  # quiet: tests and demos
            pass

        def _send_json(self, status: int, payload: Any) -> None:
            data = json.dumps(payload).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except OSError:  # the client gave up (an injected timeout)
                pass

        def _authorized(self, account_sid: str) -> bool:
            expected = base64.b64encode(f"{fake.account_sid}:{fake.auth_token}".encode()).decode()
            header = self.headers.get("Authorization", "")
            return account_sid == fake.account_sid and hmac.compare_digest(
                header, f"Basic {expected}"
            )

        def _read_body(self) -> bytes:
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def do_POST(self) -> None:
            parts = urlsplit(self.path)
            if parts.path.startswith("/_fake/"):
                self._admin_post(parts.path, self._read_body())
                return
            match = messages_path.match(parts.path)
            if match is None:
                self._send_json(404, twilio_error(404, 20404, NOT_FOUND))
                return
            form = {k: v[-1] for k, v in parse_qs(self._read_body().decode()).items()}
            if not self._authorized(match.group(1)):
                self._send_json(401, twilio_error(401, 20003, "Authenticate"))
                return
            status, payload, late = fake._create(form)
            if late and fake._stopping.wait(fake.timeout_delay):
                return
            self._send_json(status, payload)

        def _send_recording(self, account: str, sid: str) -> None:
            if not self._authorized(account):
                self._send_json(401, twilio_error(401, 20003, "Authenticate"))
                return
            audio = fake.recording(sid)
            if audio is None:
                self._send_json(404, twilio_error(404, 20404, NOT_FOUND))
                return
            self.send_response(200)
            self.send_header("Content-Type", fake.recording_type(sid))
            self.send_header("Content-Length", str(len(audio)))
            self.end_headers()
            self.wfile.write(audio)

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            recording = recording_path.match(parts.path)
            if recording is not None:
                self._send_recording(recording.group(1), recording.group(2))
                return
            if parts.path == "/_fake/messages":
                self._send_json(200, [m.resource(fake.account_sid) for m in fake.messages()])
                return
            query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            one = message_path.match(parts.path)
            many = messages_path.match(parts.path)
            found = one or many
            account = found.group(1) if found is not None else ""
            if found is None:
                self._send_json(404, twilio_error(404, 20404, NOT_FOUND))
            elif not self._authorized(account):
                self._send_json(401, twilio_error(401, 20003, "Authenticate"))
            elif one:
                try:
                    self._send_json(200, fake.message(one.group(2)).resource(fake.account_sid))
                except KeyError:
                    self._send_json(404, twilio_error(404, 20404, NOT_FOUND))
            else:
                try:
                    self._send_json(200, fake._list(query))
                except ValueError:
                    self._send_json(400, twilio_error(400, 20001, "Invalid paging parameter"))

        def _admin_post(self, path: str, raw: bytes) -> None:
            try:
                data = json.loads(raw or b"{}")
                if path == "/_fake/failures":
                    fake.set_failures(
                        data.get("probabilities"),
                        data.get("script"),
                        data.get("seed"),
                        data.get("timeout_delay"),
                    )
                    self._send_json(200, {"ok": True})
                elif path == "/_fake/reset":
                    fake.reset()
                    self._send_json(200, {"ok": True})
                elif path == "/_fake/status":
                    result = fake.post_status(
                        data["sid"], data["status"], error_code=data.get("error_code")
                    )
                    self._send_json(200, {"app_status": result.status_code})
                elif path == "/_fake/inbound":
                    result = fake.send_inbound(data["from"], data["body"], to=data.get("to"))
                    self._send_json(
                        200, {"app_status": result.status_code, "replies": result.replies}
                    )
                else:
                    self._send_json(404, {"error": "unknown admin endpoint"})
            except (KeyError, ValueError, TypeError) as exc:
                self._send_json(400, {"error": str(exc)})
            except OSError as exc:
                self._send_json(502, {"error": f"app not reachable: {exc}"})

    return Handler
