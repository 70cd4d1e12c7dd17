"""Signed links for the requester: the token in their SMS that opens their own request.

No Flask here: the secret comes in as an argument. The token carries only the reference; it
goes in the `X-Request-Token` header, never in a URL query string (health data stays out of
server logs and browser history).

Two kinds, told apart by their salt: the token of the SMS link (`make_sms_token`), which
only the requester's phone receives, and the token the form and the API hand back at once
to whoever made the request (`make_link_token`). Both open the request; only the SMS one
proves possession of the phone, which a family's own choice (a hold) needs
(`care_requests/choices.py`).
"""

from __future__ import annotations

from itsdangerous import BadSignature, URLSafeTimedSerializer

SALT = "request-link"
SMS_SALT = "request-link-sms"


def make_link_token(secret_key: str, reference: str) -> str:
    return URLSafeTimedSerializer(secret_key, salt=SALT).dumps(reference)


def make_sms_token(secret_key: str, reference: str) -> str:
    """The token of the link in the requester's SMS (or e-mail)."""
    return URLSafeTimedSerializer(secret_key, salt=SMS_SALT).dumps(reference)


def _loads(secret_key: str, salt: str, token: str, max_age_seconds: int) -> str | None:
    try:
        value = URLSafeTimedSerializer(secret_key, salt=salt).loads(token, max_age=max_age_seconds)
    except BadSignature:  # SignatureExpired is a BadSignature too
        return None
    return value if isinstance(value, str) else None


def read_token(secret_key: str, token: str, max_age_seconds: int) -> tuple[str, bool] | None:
    """(reference, came by SMS) for a valid token of either kind, or None if it is forged or
    too old."""
    reference = _loads(secret_key, SMS_SALT, token, max_age_seconds)
    if reference is not None:
        return reference, True
    reference = _loads(secret_key, SALT, token, max_age_seconds)
    return (reference, False) if reference is not None else None


def reference_from_token(secret_key: str, token: str, max_age_seconds: int) -> str | None:
    """The reference the token (of either kind) was made for, or None if it is forged or too
    old."""
    found = read_token(secret_key, token, max_age_seconds)
    return found[0] if found is not None else None
