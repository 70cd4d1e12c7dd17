"""Limits on the public writes: the request form (web and anonymous API), "stuur mijn link
opnieuw" and the complaints form.

Each is counted per client address and per form (RESPIJT_PUBLIC_LIMIT_PER_ADDRESS), and every
write that sends an SMS also per target mobile number, whichever form it came through
(RESPIJT_PUBLIC_LIMIT_PER_MOBILE), and one that sends an e-mail per target address
(RESPIJT_PUBLIC_LIMIT_PER_EMAIL): so nobody can make respijt send text messages to a number
of their choosing, from however many addresses. The counters live in Flask-Limiter's storage
(memory, or Redis shared by every worker) and follow RESPIJT_RATELIMIT like every other limit.
The mobile number and the e-mail address are counted under a keyed digest, never in the
clear.

The faces decide what a refusal looks like: a page shows its form again with a Dutch message,
the API answers 429 problem+json; both carry Retry-After.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import time
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import current_app, request
from flask_limiter import Limiter
from limits import parse_many

from respijt.errors import DomainError

F = TypeVar("F", bound=Callable[..., Any])

REQUEST_FORM = "aanvraag"
RESEND_LINK_FORM = "link-opnieuw"
COMPLAINTS_FORM = "klachten"


class TooManyRequests(DomainError):
    status = 429
    title = "Te veel verzoeken"
    code = "too_many_requests"

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


def _limiter() -> Limiter | None:
    limiter = current_app.extensions.get("respijt_limiter")
    if not isinstance(limiter, Limiter) or not limiter.enabled:
        return None
    return limiter


def _hit(limiter: Limiter, limits_text: str, *identifiers: str) -> int | None:
    """Count one hit against every limit in `limits_text`; None when all allow it, else the
    seconds until the tightest refusing one resets."""
    prefix = current_app.config.get("RATELIMIT_KEY_PREFIX") or ""
    ids = (prefix, "respijt-public", *identifiers) if prefix else ("respijt-public", *identifiers)
    strategy = limiter.limiter
    waits = []
    for item in parse_many(limits_text):
        if not strategy.hit(item, *ids):
            reset_at = strategy.get_window_stats(item, *ids).reset_time
            waits.append(max(1, math.ceil(reset_at - time.time())))
    return max(waits) if waits else None


def wait_in_words(seconds: int) -> str:
    """'ongeveer 12 minuten', 'ongeveer 3 uur': how long to wait, for a page."""
    if seconds < 90:
        return "een minuut"
    if seconds < 90 * 60:
        return f"ongeveer {math.ceil(seconds / 60)} minuten"
    return f"ongeveer {math.ceil(seconds / 3600)} uur"


def check_address(form: str) -> None:
    """Count one submission of `form` from this client address; raise TooManyRequests when
    the address sent it too often."""
    limiter = _limiter()
    if limiter is None:
        return
    wait = _hit(
        limiter,
        current_app.config["RESPIJT_PUBLIC_LIMIT_PER_ADDRESS"],
        form,
        "address",
        request.remote_addr or "-",
    )
    if wait is not None:
        raise TooManyRequests(
            "Dit formulier is vanaf uw adres te vaak verstuurd. Probeer het over "
            f"{wait_in_words(wait)} opnieuw, of bel het meldpunt.",
            wait,
        )


def check_mobile(mobile: str) -> None:
    """Count one SMS-sending public write to `mobile` (E.164); raise TooManyRequests when that
    number was given too often."""
    limiter = _limiter()
    if limiter is None:
        return
    key = hmac.new(
        str(current_app.config["SECRET_KEY"]).encode(), mobile.encode(), hashlib.sha256
    ).hexdigest()[:32]
    wait = _hit(limiter, current_app.config["RESPIJT_PUBLIC_LIMIT_PER_MOBILE"], "mobile", key)
    if wait is not None:
        raise TooManyRequests(
            "Voor dit mobiele nummer is het formulier vandaag al vaak verstuurd. Probeer het "
            f"over {wait_in_words(wait)} opnieuw, of bel het meldpunt.",
            wait,
        )


def check_email(address: str) -> None:
    """Count one public write that sends an e-mail to `address` (a family without a mobile);
    raise TooManyRequests when that address was given too often. Counted under a keyed
    digest of the lower-cased address, never in the clear."""
    limiter = _limiter()
    if limiter is None:
        return
    key = hmac.new(
        str(current_app.config["SECRET_KEY"]).encode(),
        address.strip().lower().encode(),
        hashlib.sha256,
    ).hexdigest()[:32]
    wait = _hit(limiter, current_app.config["RESPIJT_PUBLIC_LIMIT_PER_EMAIL"], "email", key)
    if wait is not None:
        raise TooManyRequests(
            "Voor dit e-mailadres is het formulier vandaag al vaak verstuurd. Probeer het "
            f"over {wait_in_words(wait)} opnieuw, of bel het meldpunt.",
            wait,
        )


def limit_anonymous(form: str) -> Callable[[F], F]:
    """API views: count an anonymous call per address before the body is parsed, so invalid
    bodies count too. Token callers are not counted here: an unknown token is refused (401)
    before the view runs."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if "Authorization" not in request.headers:
                check_address(form)
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorator
