"""The requester's signed status link for an SMS, made with the running app's settings.

The token (request_links) carries only the reference. It travels in the URL *fragment*
(`…/aanvraag#<token>`): a browser never sends the fragment to the server, so the token stays out
of access logs; the page hands it to the API in the `X-Request-Token` header. Outside an app
(a bare domain test) there is no secret key, and messages go without a link.
"""

from __future__ import annotations

from flask import current_app, has_app_context

from respijt import request_links

STATUS_PATH = "/aanvraag"


def request_status_link(reference: str) -> str | None:
    if not has_app_context():
        return None
    secret = current_app.secret_key
    if not secret:
        return None
    token = request_links.make_link_token(str(secret), reference)
    return f"{current_app.config['RESPIJT_PUBLIC_URL']}{STATUS_PATH}#{token}"
