"""API tokens. No Flask here: the API layer resolves the header.

Tokens are high-entropy secrets, so a plain SHA-256 digest is a safe and fast lookup key
(argon2 is for passwords). The secret is shown once, at creation.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select, update

from respijt.database import DbSession
from respijt.errors import InvalidInput
from respijt.models import (
    ApiToken,
    ApiTokenRegion,
    Provider,
    User,
)
from respijt.people.caller import (
    PROVIDER_BOUND_ROLES,
    ROLES,
    Caller,
    caller_for_user,
    region_ids_for_codes,
)

TOKEN_PREFIX = "rsp_"
LAST_USED_RESOLUTION = timedelta(minutes=1)


def token_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(
    session: DbSession,
    *,
    role: str,
    name: str,
    now: datetime,
    provider_id: int | None = None,
    expires_at: datetime | None = None,
    user_id: int | None = None,
    region_codes: list[str] | None = None,
) -> tuple[ApiToken, str]:
    """Create a token; returns the row and the secret (never stored).

    A token bound to a person acts as that person in one of their roles; their provider and
    regions bind it. A coordinator token not bound to a person needs one or more regions
    (`region_codes`); an admin token is national.
    """
    if role not in ROLES:
        raise InvalidInput(f"Onbekende rol '{role}'; kies uit: {', '.join(ROLES)}.")
    if user_id is not None:
        user = session.get(User, user_id)
        if user is None or not user.active:
            raise InvalidInput(f"Gebruiker {user_id} bestaat niet of is uitgeschakeld.")
        if role not in user.roles:
            raise InvalidInput(f"Gebruiker {user_id} heeft de rol '{role}' niet.")
        if role in PROVIDER_BOUND_ROLES:
            if provider_id is not None and provider_id != user.provider_id:
                raise InvalidInput("Het token hoort bij de aanbieder van de gebruiker.")
            provider_id = user.provider_id
    if role in PROVIDER_BOUND_ROLES:
        if provider_id is None:
            raise InvalidInput(f"Een token met rol '{role}' hoort bij één aanbieder (--provider).")
        if session.get(Provider, provider_id) is None:
            raise InvalidInput(f"Aanbieder {provider_id} bestaat niet.")
    elif provider_id is not None:
        raise InvalidInput(f"Een token met rol '{role}' hoort niet bij een aanbieder.")
    region_ids: list[int] = []
    if region_codes:
        if role != "coordinator":
            raise InvalidInput(f"Een token met rol '{role}' hoort niet bij een regio.")
        if user_id is not None:
            raise InvalidInput(
                "Een token van een gebruiker werkt voor de regio's van die gebruiker."
            )
        region_ids = region_ids_for_codes(session, region_codes)
    elif role == "coordinator" and user_id is None:
        raise InvalidInput("Een coördinatortoken hoort bij één of meer regio's (--region).")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        name=name,
        role=role,
        provider_id=provider_id,
        digest=token_digest(secret),
        created_at=now,
        expires_at=expires_at,
        user_id=user_id,
        region_rows=[ApiTokenRegion(region_id=region_id) for region_id in region_ids],
    )
    session.add(token)
    session.flush()
    return token, secret


# Built once: every API request runs it.
_TOKEN_BY_DIGEST = select(
    ApiToken.id,
    ApiToken.role,
    ApiToken.provider_id,
    ApiToken.expires_at,
    ApiToken.revoked_at,
    ApiToken.last_used_at,
    ApiToken.user_id,
).where(ApiToken.digest == bindparam("digest"))


def resolve_token(session: DbSession, secret: str, now: datetime) -> Caller | None:
    """The caller behind a bearer secret, or None if unknown, revoked or expired."""
    found = read_token(session, secret, now)
    if found is None:
        return None
    caller, touch_id = found
    if touch_id is not None:
        touch_token(session, touch_id, now)
    return caller


def read_token(
    session: DbSession,
    secret: str,
    now: datetime,
    first_row: Callable[[Any, dict[str, Any]], Sequence[Any] | None] | None = None,
) -> tuple[Caller, int | None] | None:
    """`resolve_token` without writing: the caller, and the token's id when its
    `last_used_at` is due for an update (`touch_token`), else None. `first_row` reads the
    token's row (default: in the session's transaction)."""
    if not secret.startswith(TOKEN_PREFIX):
        return None
    params = {"digest": token_digest(secret)}
    row: Sequence[Any] | None
    if first_row is None:
        row = session.execute(_TOKEN_BY_DIGEST, params).first()
    else:
        row = first_row(_TOKEN_BY_DIGEST, params)
    if row is None:
        return None
    token_id, role, provider_id, expires_at, revoked_at, last_used_at, user_id = row
    if revoked_at is not None or (expires_at is not None and expires_at <= now):
        return None
    caller = Caller(key=f"token:{token_id}", role=role, provider_id=provider_id)
    if role == "coordinator" and user_id is None:
        # Bound to its regions; a token from before regions existed has none and sees none.
        regions = session.scalars(
            select(ApiTokenRegion.region_id).where(ApiTokenRegion.token_id == token_id)
        ).all()
        caller = Caller(
            key=caller.key, role=role, provider_id=provider_id, region_ids=frozenset(regions)
        )
    if user_id is not None:
        user = session.get(User, user_id)
        # A disabled person, or one who lost the role, takes their tokens down with them.
        if user is None or not user.active or role not in user.roles:
            return None
        caller = caller_for_user(user, role)
    due = last_used_at is None or now - last_used_at > LAST_USED_RESOLUTION
    return caller, token_id if due else None


def touch_token(session: DbSession, token_id: int, now: datetime) -> None:
    """Record the token's use (at most once per LAST_USED_RESOLUTION, see `read_token`)."""
    session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now))


def revoke_token(session: DbSession, token_id: int, now: datetime) -> bool:
    result = session.execute(
        update(ApiToken)
        .where(ApiToken.id == token_id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def list_tokens(session: DbSession, user_id: int | None = None) -> list[ApiToken]:
    query = select(ApiToken).order_by(ApiToken.id)
    if user_id is not None:
        query = query.where(ApiToken.user_id == user_id)
    return list(session.scalars(query))
