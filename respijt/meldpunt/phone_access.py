"""The phone desk's data in the access log: callers' numbers and voices are personal data, so
every list, play, link or "afgehandeld" of voicemails and calls is one access-log row, written
the same from the API (`api/meldpunt.py`) and the console (`web/meldpunt_console.py`).

References name the thing without a client: `voicemail:<id>`, `call:<id>`, or a region's list,
`voicemails:<region code>` / `calls:<region code>` (`privacy.access_view` says them in words).
"""

from __future__ import annotations

from respijt.database import DbSession
from respijt.people.caller import Caller
from respijt.privacy import access_log as privacy

PURPOSE = "terugbellen meldpunt"


def log_phone_access(
    session: DbSession,
    caller: Caller,
    action: str,
    reference: str,
    region_id: int | None,
    *,
    outcome: str = "success",
    source: str | None = None,
) -> None:
    """One access-log row for `action` ("voicemail.list", "voicemail.play", "voicemail.done",
    "call.list", "call.link") on `reference` in `region_id`."""
    privacy.log_access(
        session,
        action=action,
        caller=caller,
        client_reference=reference,
        outcome=outcome,
        purpose=PURPOSE,
        source=source,
        region_id=region_id,
    )


def voicemail_reference(voicemail_id: int) -> str:
    return f"voicemail:{voicemail_id}"


def call_reference(call_id: int) -> str:
    return f"call:{call_id}"


def voicemails_reference(region_code: str) -> str:
    return f"voicemails:{region_code}"


def calls_reference(region_code: str) -> str:
    return f"calls:{region_code}"
