"""The requester's signed status link for an SMS, made with the running app's settings.

The token (request_links) carries only the reference, never client data. `/a/<token>` moves it
into the signed session cookie and redirects to `/mijn-aanvraag`, so it leaves the address bar
at once; respijt writes no access log of request paths. Outside an app (a bare domain test)
there is no secret key, and messages go without a link.
"""

from __future__ import annotations

from flask import current_app, has_app_context

from respijt.care_requests import links as request_links

STATUS_PATH = "/a/"


def request_status_link(reference: str) -> str | None:
    if not has_app_context():
        return None
    secret = current_app.secret_key
    if not secret:
        return None
    token = request_links.make_link_token(str(secret), reference)
    return f"{current_app.config['RESPIJT_PUBLIC_URL']}{STATUS_PATH}{token}"
