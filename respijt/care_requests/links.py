"""Signed links for the requester: the token in their SMS that opens their own request.

No Flask here: the secret comes in as an argument. The token carries only the reference; it
goes in the `X-Request-Token` header, never in a URL query string (health data stays out of
server logs and browser history).
"""

from __future__ import annotations

from itsdangerous import BadSignature, URLSafeTimedSerializer

SALT = "request-link"


def make_link_token(secret_key: str, reference: str) -> str:
    return URLSafeTimedSerializer(secret_key, salt=SALT).dumps(reference)


def reference_from_token(secret_key: str, token: str, max_age_seconds: int) -> str | None:
    """The reference the token was made for, or None if it is forged or too old."""
    try:
        value = URLSafeTimedSerializer(secret_key, salt=SALT).loads(token, max_age=max_age_seconds)
    except BadSignature:  # SignatureExpired is a BadSignature too
        return None
    return value if isinstance(value, str) else None
