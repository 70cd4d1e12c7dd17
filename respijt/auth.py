"""API tokens and the acting party. No Flask here: the API layer resolves the header.

Tokens are high-entropy secrets, so a plain SHA-256 digest is a safe and fast lookup key
(argon2 is for passwords). The secret is shown once, at creation.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select, update

from respijt.database import DbSession
from respijt.errors import InvalidInput
from respijt.models import ApiToken, Provider, User

ROLES = ("provider", "meldpunt", "verwijzer", "coordinator", "admin")
PROVIDER_BOUND_ROLES = ("provider", "meldpunt")
TOKEN_PREFIX = "rsp_"
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class Caller:
    """Who acts: principal key ("token:3", "user:4"), role, and the provider they act for.

    `region_ids` narrows a coordinator to their regions (None: every region, for tokens not
    bound to a person); `organisation` is a verwijzer's organisation, for the access log.
    """

    key: str
    role: str
    provider_id: int | None = None
    user_id: int | None = None
    organisation: str | None = None
    region_ids: frozenset[int] | None = None


def caller_for_user(user: User, role: str) -> Caller:
    """The acting party for a person in one of their roles."""
    return Caller(
        key=f"user:{user.id}",
        role=role,
        provider_id=user.provider_id if role in PROVIDER_BOUND_ROLES else None,
        user_id=user.id,
        organisation=user.organisation,
        region_ids=frozenset(user.region_ids) if role == "coordinator" else None,
    )


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
) -> tuple[ApiToken, str]:
    """Create a token; returns the row and the secret (never stored).

    A token bound to a person acts as that person in one of their roles; their provider binds it.
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
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        name=name,
        role=role,
        provider_id=provider_id,
        digest=token_digest(secret),
        created_at=now,
        expires_at=expires_at,
        user_id=user_id,
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
    if not secret.startswith(TOKEN_PREFIX):
        return None
    row = session.execute(_TOKEN_BY_DIGEST, {"digest": token_digest(secret)}).first()
    if row is None:
        return None
    token_id, role, provider_id, expires_at, revoked_at, last_used_at, user_id = row
    if revoked_at is not None or (expires_at is not None and expires_at <= now):
        return None
    caller = Caller(key=f"token:{token_id}", role=role, provider_id=provider_id)
    if user_id is not None:
        user = session.get(User, user_id)
        # A disabled person, or one who lost the role, takes their tokens down with them.
        if user is None or not user.active or role not in user.roles:
            return None
        caller = caller_for_user(user, role)
    if last_used_at is None or now - last_used_at > LAST_USED_RESOLUTION:
        session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now))
    return caller


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
