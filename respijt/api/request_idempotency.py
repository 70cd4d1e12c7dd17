"""The `Idempotency-Key` of `POST /requests`: the same key with the same body answers with the
request the first call made, and makes no second request and sends no second SMS."""

from __future__ import annotations

import hmac
import json
from typing import Any

from flask import current_app, request
from sqlalchemy import select

from respijt.errors import IdempotencyConflict, InvalidInput
from respijt.extensions import db
from respijt.models import CareRequest, RequestIdempotency
from respijt.people.caller import Caller

IDEMPOTENCY_KEY_MAX = 100


def idempotency_key(caller: Caller) -> str | None:
    """The caller's `Idempotency-Key` as stored: for the public (one caller key for everyone)
    behind a keyed digest of the client address, so a stranger's key never replays
    someone else's answer."""
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    if not 1 <= len(key) <= IDEMPOTENCY_KEY_MAX:
        raise InvalidInput(
            "Idempotency-Key is leeg of te lang.",
            [
                {
                    "name": "Idempotency-Key",
                    "code": "length",
                    "reason": f"1 tot {IDEMPOTENCY_KEY_MAX} tekens.",
                }
            ],
        )
    if caller.role != "public":
        return key
    address = hmac.new(
        str(current_app.secret_key).encode(), (request.remote_addr or "-").encode(), "sha256"
    ).hexdigest()[:32]
    return f"{address}:{key}"


def body_fingerprint(data: dict[str, Any]) -> str:
    """What a replay's body is compared with: keyed, since the body holds client data and the
    fingerprint outlives the request's anonymisation."""
    body = json.dumps(data, sort_keys=True, default=str).encode()
    return hmac.new(str(current_app.secret_key).encode(), body, "sha256").hexdigest()


def replay(caller: Caller, key: str, fingerprint: str) -> CareRequest | None:
    """The request an earlier call with this key made, if any; the same key with another
    body is refused (422), as for holds."""
    found = db.session.execute(
        select(RequestIdempotency.request_fingerprint, CareRequest)
        .join(CareRequest, CareRequest.id == RequestIdempotency.request_id)
        .where(RequestIdempotency.caller == caller.key, RequestIdempotency.idempotency_key == key)
    ).first()
    if found is None:
        return None
    if found[0] != fingerprint:
        raise IdempotencyConflict("Deze Idempotency-Key is al gebruikt voor een andere aanvraag.")
    care_request: CareRequest = found[1]
    return care_request
