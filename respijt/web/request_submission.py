"""One way in for the request forms: the public form, the verwijzer's and the meldpunt's intake.

The API (`api/requests.py`) creates requests through the same `create_logged_request`.
"""

from __future__ import annotations

from flask import current_app

from respijt import clock, edge
from respijt.care_requests.access_log import create_logged_request
from respijt.errors import InvalidInput
from respijt.extensions import db
from respijt.people.caller import Caller
from respijt.web.forms import RequestForm


def submit_request(
    form: RequestForm, *, caller: Caller, channel: str
) -> tuple[str | None, list[str]]:
    """Create the request a validated `form` describes, with its access-log row, in one
    transaction. Returns its reference; or None when a domain rule refused it, with those
    problems put beside their fields and the ones without a field returned."""
    data = form.as_request_data()

    def work() -> str:
        created = create_logged_request(
            db.session,
            data,
            caller=caller,
            channel=channel,
            now=clock.now(),
            today=clock.today(),
            stale_after_hours=int(current_app.config["RESPIJT_STALE_AFTER_HOURS"]),
        )
        return created.reference

    try:
        reference = edge.transaction(work)
    except InvalidInput as exc:
        db.session.rollback()
        return None, form.add_domain_errors(exc.params)
    return reference, []
