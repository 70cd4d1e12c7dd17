"""Voicemail recordings, fetched from Twilio by the server with the account's credentials.

A recording is never linked to directly: its Twilio URL needs the account's credentials, and a
public link would put a caller's voice one copied URL away. The console asks the server, which
checks who asks, logs the access, and streams the audio through (`web/meldpunt_console.py`).

Only the recording's SID is taken from the stored `RecordingUrl`; the request always goes to
the configured Twilio base URL (`RESPIJT_TWILIO_BASE_URL`) and account, so a forged URL cannot
send the credentials anywhere else.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import requests

_RECORDING_SID = re.compile(r"/Recordings/(RE[0-9a-fA-F]{32})(?:\.\w+)?$")
CHUNK = 64 * 1024
MEDIA_TYPE = "audio/mpeg"


class RecordingUnavailable(Exception):
    """Twilio could not (or would not) give the recording."""


def recording_sid(url: str | None) -> str | None:
    """The RE… SID in a Twilio RecordingUrl, or None when it is not one."""
    match = _RECORDING_SID.search(url or "")
    return match.group(1) if match else None


@dataclass
class Recording:
    """An open download: iterate `chunks()` once; it closes the connection at the end."""

    response: requests.Response
    content_type: str
    length: str | None

    def chunks(self) -> Iterator[bytes]:
        try:
            yield from self.response.iter_content(CHUNK)
        finally:
            self.response.close()


def open_recording(config: Mapping[str, Any], url: str | None) -> Recording:
    """Start downloading the recording at `url` as MP3 from Twilio (streamed)."""
    sid = recording_sid(url)
    account = str(config.get("RESPIJT_TWILIO_ACCOUNT_SID") or "")
    token = str(config.get("RESPIJT_TWILIO_AUTH_TOKEN") or "")
    if sid is None or not account or not token:
        raise RecordingUnavailable("geen opname of geen Twilio-account ingesteld")
    base = str(config.get("RESPIJT_TWILIO_BASE_URL") or "https://api.twilio.com").rstrip("/")
    try:
        response = requests.get(
            f"{base}/2010-04-01/Accounts/{account}/Recordings/{sid}.mp3",
            auth=(account, token),
            stream=True,
            timeout=float(config.get("RESPIJT_TWILIO_TIMEOUT_SECONDS") or 10),
        )
    except requests.exceptions.RequestException as exc:
        raise RecordingUnavailable(f"Twilio niet bereikbaar: {type(exc).__name__}") from exc
    if response.status_code != 200:
        response.close()
        raise RecordingUnavailable(f"Twilio antwoordde {response.status_code}")
    # Always served as MP3 (what was asked for): the upstream's Content-Type is not passed on,
    # so a wrong or hostile one (text/html) can never reach the browser from our origin.
    return Recording(
        response=response,
        content_type=MEDIA_TYPE,
        length=response.headers.get("Content-Length"),
    )
