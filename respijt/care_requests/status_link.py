"""The requester's signed status link for an SMS, made with the running app's settings (the
app factory says where they come from, so this room imports no Flask).

The token (`links`) carries only the reference, never client data. `/a/<token>` moves it
into the signed session cookie and redirects to `/mijn-aanvraag`, so it leaves the address bar
at once; respijt writes no access log of request paths. Outside an app (a bare domain test)
there is no secret key, and messages go without a link.

The link is a credential (whoever has it may choose or cancel for the family), so it is never
stored: a message names it as `send_time_link(reference)` (its text holds a placeholder) and
the dispatcher makes it with `link_when_sent` just before each send, an e-mail
(`no_mobile.mail_text`) too.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from respijt.care_requests import links
from respijt.database import DbSession
from respijt.messages.send_time_link import SendTimeLink
from respijt.models import CareRequest

STATUS_PATH = "/a/"

# Set once by the app factory: the running app's secret key and public base URL, or None
# outside an app.
_settings_source: Callable[[], tuple[str, str] | None] | None = None


def configure(source: Callable[[], tuple[str, str] | None]) -> None:
    """Tell the status link where the secret key and the public base URL come from."""
    global _settings_source
    _settings_source = source


def request_status_link(reference: str) -> str | None:
    settings = _settings_source() if _settings_source is not None else None
    if settings is None:
        return None
    secret, public_url = settings
    if not secret:
        return None
    token = links.make_sms_token(secret, reference)
    return f"{public_url}{STATUS_PATH}{token}"


def send_time_link(reference: str) -> SendTimeLink:
    """The family's link in a message: made when it is sent, never stored."""
    return SendTimeLink(reference)


def link_when_sent(session: DbSession, reference: str) -> str | None:
    """The link for a message going out now, or None when the request is gone or its names
    were cleared (the link would open nothing), or the family is not to be contacted any more:
    the message then goes without it. A request that is closed keeps its link (the family
    reads why)."""
    found = session.execute(
        select(CareRequest.anonymised_at, CareRequest.contact_family).where(
            CareRequest.reference == reference
        )
    ).first()
    if found is None or found.anonymised_at is not None or not found.contact_family:
        return None
    return request_status_link(reference)
