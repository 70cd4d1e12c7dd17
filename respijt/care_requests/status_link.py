"""The requester's signed status link for an SMS, made with the running app's settings (the
app factory says where they come from, so this room imports no Flask).

The token (`links`) carries only the reference, never client data. `/a/<token>` moves it
into the signed session cookie and redirects to `/mijn-aanvraag`, so it leaves the address bar
at once; respijt writes no access log of request paths. Outside an app (a bare domain test)
there is no secret key, and messages go without a link.
"""

from __future__ import annotations

from collections.abc import Callable

from respijt.care_requests import links

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
