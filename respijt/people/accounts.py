"""People and their credentials: users, roles, passwords, web sessions, second factor, links.

Passwords are hashed with argon2 (min 12 characters, refused when on the shipped list of common
passwords, no composition rules). Web sessions live in the database: the cookie carries a
secret whose SHA-256 digest finds the row, so logout and password change end every session.
Invitation and reset links are signed, expire, and work once (they carry a stamp of the current
password hash, which the new password changes). No Flask here.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from importlib import resources
from typing import Any

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm.attributes import set_committed_value

from respijt import clock
from respijt.database import DbSession
from respijt.errors import DomainError, InvalidInput
from respijt.models import (
    ApiToken,
    RecoveryCode,
    User,
    UserRegion,
    UserRole,
    WebSession,
)
from respijt.people.account_rules import checked_account
from respijt.people.caller import ROLES, Caller, caller_for_user

PASSWORD_MIN_LENGTH = 12
PASSWORD_MAX_LENGTH = 256
SECOND_FACTOR_ROLES = frozenset({"provider", "meldpunt", "coordinator", "admin"})
RECOVERY_CODE_COUNT = 10
LAST_SEEN_RESOLUTION = timedelta(minutes=1)
TOTP_ISSUER = "respijt"

_hasher = PasswordHasher()


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """Verified when the e-mail address is unknown, so a miss costs as much time as a hit.

    Made on first use, not at import: argon2 takes 64 MiB while hashing, and a web worker that
    never sees a login (most of them, behind /api) should not carry that peak.
    """
    return _hasher.hash(secrets.token_hex(16))


ROLE_LABELS = {
    "provider": "aanbieder",
    "meldpunt": "meldpunt",
    "verwijzer": "verwijzer",
    "coordinator": "coördinator",
    "admin": "beheerder",
}


class LinkInvalid(DomainError):
    status = 400
    title = "Link ongeldig"
    code = "link_invalid"


# --- passwords ------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    text = resources.files("respijt").joinpath("data/common-passwords.txt").read_text("utf-8")
    return frozenset(
        line.strip().lower() for line in text.splitlines() if line.strip() and line[0] != "#"
    )


def password_problems(password: str, *, email: str = "", name: str = "") -> list[str]:
    """Dutch reasons why a password is refused; empty when it is acceptable."""
    problems = []
    if len(password) < PASSWORD_MIN_LENGTH:
        problems.append(f"Een wachtwoord heeft minstens {PASSWORD_MIN_LENGTH} tekens.")
    if len(password) > PASSWORD_MAX_LENGTH:
        problems.append(f"Een wachtwoord heeft hoogstens {PASSWORD_MAX_LENGTH} tekens.")
    lowered = password.lower()
    if lowered in common_passwords() or len(set(lowered)) <= 2:
        problems.append("Dit wachtwoord is te vaak gebruikt; kies een ander.")
    personal = {email.lower(), email.split("@")[0].lower(), name.lower().replace(" ", "")}
    if lowered in personal - {""}:
        problems.append("Gebruik niet uw naam of e-mailadres als wachtwoord.")
    return problems


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def set_password(session: DbSession, user: User, password: str, now: datetime) -> None:
    """Set a new password; every existing session of the user ends."""
    problems = password_problems(password, email=user.email, name=user.name)
    if problems:
        raise InvalidInput(
            " ".join(problems),
            [{"name": "password", "code": "weak", "reason": p} for p in problems],
        )
    user.password_hash = hash_password(password)
    user.password_changed_at = now
    revoke_all_sessions(session, user.id, now)
    session.flush()


def authenticate(session: DbSession, email: str, password: str) -> User | None:
    """The active user with this e-mail and password, or None (same cost either way)."""
    user = session.scalar(select(User).where(User.email == normalise_email(email)))
    stored = user.password_hash if user is not None and user.password_hash else _dummy_hash()
    try:
        _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or not user.password_hash or not user.active:
        return None
    if _hasher.check_needs_rehash(stored):
        user.password_hash = _hasher.hash(password)
    return user


# --- users ----------------------------------------------------------------------------------


def normalise_email(email: str) -> str:
    return email.strip().lower()


def create_user(
    session: DbSession,
    *,
    email: str,
    name: str,
    roles: list[str],
    now: datetime,
    provider_id: int | None = None,
    organisation: str | None = None,
    region_codes: list[str] | None = None,
    password: str | None = None,
) -> User:
    """A new account. Without a password it waits for the invitation link to set one."""
    email = normalise_email(email)
    if "@" not in email or len(email) > 254:
        raise InvalidInput("Geef een geldig e-mailadres.", [_param("email", "Ongeldig adres.")])
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise InvalidInput(f"Er bestaat al een gebruiker met e-mailadres {email}.")
    region_ids = checked_account(
        session,
        roles=roles,
        provider_id=provider_id,
        organisation=organisation,
        region_codes=region_codes or [],
    )
    user = User(
        email=email,
        name=name.strip() or email,
        organisation=(organisation or "").strip() or None,
        provider_id=provider_id,
        created_at=now,
    )
    user.role_rows = [UserRole(role=role) for role in sorted(set(roles))]
    user.region_rows = [UserRegion(region_id=rid) for rid in sorted(set(region_ids))]
    session.add(user)
    session.flush()
    if password is not None:
        set_password(session, user, password, now)
    return user


def _param(name: str, reason: str) -> dict[str, str]:
    return {"name": name, "code": "invalid", "reason": reason}


def find_user(session: DbSession, id_or_email: str) -> User | None:
    if id_or_email.isdigit():
        return session.get(User, int(id_or_email))
    return session.scalar(select(User).where(User.email == normalise_email(id_or_email)))


def list_users(session: DbSession) -> list[User]:
    return list(session.scalars(select(User).order_by(User.email)))


def disable_user(session: DbSession, user: User, now: datetime) -> None:
    """No more logins, sessions or tokens for this person. Sessions and tokens are revoked
    for good, not merely checked against `active`: an account is often disabled because a
    token leaked, and enabling the person again must not re-arm it."""
    if user.disabled_at is None:
        user.disabled_at = now
    revoke_all_sessions(session, user.id, now)
    session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    session.flush()


def enable_user(session: DbSession, user: User) -> None:
    """Allow logins again; the sessions and tokens revoked on disabling stay revoked."""
    user.disabled_at = None
    session.flush()


def requires_second_factor(user: User) -> bool:
    return any(role in SECOND_FACTOR_ROLES for role in user.roles)


def default_role(user: User) -> str:
    """The role a fresh session acts in: the first in ROLES order the user holds."""
    return next(role for role in ROLES if role in user.roles)


# --- web sessions ---------------------------------------------------------------------------


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def start_session(
    session: DbSession, user: User, now: datetime, source: str | None = None
) -> tuple[WebSession, str]:
    """A new server-side session; returns the row and the secret for the cookie."""
    secret = secrets.token_urlsafe(32)
    web_session = WebSession(
        user_id=user.id,
        digest=_digest(secret),
        role=default_role(user),
        created_at=now,
        last_seen_at=now,
        source=(source or "")[:64] or None,
    )
    session.add(web_session)
    user.last_login_at = now
    session.flush()
    return web_session, secret


@dataclass(frozen=True)
class SessionLimits:
    idle: timedelta
    absolute: timedelta


def resolve_session(
    session: DbSession, secret: str, now: datetime, limits: SessionLimits
) -> WebSession | None:
    """The live session behind a cookie secret: not revoked, not idle or too old, user active."""
    web_session = session.scalar(select(WebSession).where(WebSession.digest == _digest(secret)))
    if web_session is None or web_session.revoked_at is not None:
        return None
    if not web_session.user.active or web_session.role not in web_session.user.roles:
        return None
    if now - web_session.last_seen_at >= limits.idle:
        return None
    if now - web_session.created_at >= limits.absolute:
        return None
    if now - web_session.last_seen_at > LAST_SEEN_RESOLUTION:
        web_session.last_seen_at = now
    return web_session


def revoke_all_sessions(session: DbSession, user_id: int, now: datetime) -> int:
    result = session.execute(
        update(WebSession)
        .where(WebSession.user_id == user_id, WebSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def end_session(web_session: WebSession, now: datetime) -> None:
    """Revoke one session (a half-signed-in one that gave too many wrong codes)."""
    if web_session.revoked_at is None:
        web_session.revoked_at = now


def session_caller(web_session: WebSession) -> Caller:
    return caller_for_user(web_session.user, web_session.role)


def fully_authenticated(web_session: WebSession) -> bool:
    """Past the second factor where the user's roles require one."""
    return web_session.second_factor_at is not None or not requires_second_factor(web_session.user)


# --- second factor --------------------------------------------------------------------------


def begin_totp_enrolment(session: DbSession, user: User) -> str:
    """A new (unconfirmed) TOTP secret, replacing an unconfirmed earlier one."""
    if user.totp_confirmed_at is not None:
        raise InvalidInput("Tweestapsverificatie is al ingesteld.")
    if user.totp_secret is None:
        user.totp_secret = pyotp.random_base32()
        session.flush()
    return user.totp_secret


def provisioning_uri(user: User) -> str:
    assert user.totp_secret is not None
    return pyotp.TOTP(user.totp_secret).provisioning_uri(name=user.email, issuer_name=TOTP_ISSUER)


def _totp_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step whose code this is (now, or one step either side), else None."""
    code = code.replace(" ", "")
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    for offset in (0, -1, 1):
        at = now + timedelta(seconds=offset * totp.interval)
        if hmac.compare_digest(totp.at(at), code):
            return int(totp.timecode(at))
    return None


def _use_totp(session: DbSession, user: User, code: str, now: datetime) -> bool:
    """Accept a code once: a step at or before the last one used is a replay. Marking the
    step is one conditional UPDATE, so of concurrent sessions offering the same code exactly
    one changes the row (PostgreSQL re-checks the condition after waiting for the lock)."""
    assert user.totp_secret is not None
    step = _totp_step(user.totp_secret, code, now)
    if step is None:
        return False
    marked = session.execute(
        update(User)
        .where(
            User.id == user.id,
            or_(User.totp_last_step.is_(None), User.totp_last_step < step),
        )
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    if marked.rowcount != 1:  # type: ignore[attr-defined]
        return False
    set_committed_value(user, "totp_last_step", step)
    return True


def confirm_totp_enrolment(
    session: DbSession, user: User, web_session: WebSession, code: str, now: datetime
) -> list[str]:
    """Confirm the authenticator with a first code; returns fresh recovery codes (shown once)."""
    if user.totp_secret is None or user.totp_confirmed_at is not None:
        raise InvalidInput("Er is geen instelling van tweestapsverificatie gestart.")
    if not _use_totp(session, user, code, now):
        raise InvalidInput("De code klopt niet. Probeer de volgende code uit uw app.")
    user.totp_confirmed_at = now
    web_session.second_factor_at = now
    return new_recovery_codes(session, user)


def new_recovery_codes(session: DbSession, user: User) -> list[str]:
    """Replace every recovery code of the user; returns the new plain codes."""
    for row in session.scalars(select(RecoveryCode).where(RecoveryCode.user_id == user.id)):
        session.delete(row)
    codes = ["-".join(secrets.token_hex(3) for _ in range(2)) for _ in range(RECOVERY_CODE_COUNT)]
    session.add_all(RecoveryCode(user_id=user.id, digest=_digest(c)) for c in codes)
    session.flush()
    return codes


def verify_second_factor(
    session: DbSession, web_session: WebSession, code: str, now: datetime
) -> bool:
    """A TOTP code or an unused recovery code; on success the session is fully signed in."""
    user = web_session.user
    if user.totp_secret is None or user.totp_confirmed_at is None:
        return False
    ok = _use_totp(session, user, code, now)
    if not ok:
        used = session.execute(
            update(RecoveryCode)
            .where(
                RecoveryCode.user_id == user.id,
                RecoveryCode.digest == _digest(code.strip().lower()),
                RecoveryCode.used_at.is_(None),
            )
            .values(used_at=now)
        )
        ok = bool(used.rowcount)  # type: ignore[attr-defined]
    if ok:
        web_session.second_factor_at = now
        session.flush()
    return ok


def reset_second_factor(session: DbSession, user: User, now: datetime) -> None:
    """Forget the person's authenticator and recovery codes (a lost phone): at the next
    sign-in they enrol a new one by its QR code. Every session of the person ends now."""
    user.totp_secret = None
    user.totp_confirmed_at = None
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    revoke_all_sessions(session, user.id, now)
    session.flush()


def unused_recovery_codes(session: DbSession, user_id: int) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(RecoveryCode)
            .where(RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None))
        )
        or 0
    )


# --- single-use links -----------------------------------------------------------------------

INVITATION = "invitation"
PASSWORD_RESET = "password-reset"


class _ClockSigner(TimestampSigner):
    """Timestamps from respijt.clock, so tests can move past a link's expiry without sleeping."""

    def get_timestamp(self) -> int:
        return int(clock.now().timestamp())


def _serializer(secret_key: str, purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=f"respijt-{purpose}", signer=_ClockSigner)


def _stamp(user: User) -> str:
    # Changes when the password changes, so a used link (or an older one) stops working.
    return _digest(f"{user.id}:{user.password_hash or '-'}")[:20]


def make_link_token(secret_key: str, user: User, purpose: str) -> str:
    return str(_serializer(secret_key, purpose).dumps({"u": user.id, "s": _stamp(user)}))


def read_link_token(
    session: DbSession, secret_key: str, token: str, purpose: str, max_age: timedelta
) -> User:
    """The user a link is for, if it is genuine, unexpired, unused and the user is active."""
    serializer = _serializer(secret_key, purpose)
    try:
        payload: Any = serializer.loads(token, max_age=int(max_age.total_seconds()))
    except SignatureExpired as exc:
        raise LinkInvalid("Deze link is verlopen. Vraag een nieuwe aan.") from exc
    except BadSignature as exc:
        raise LinkInvalid("Deze link is ongeldig.") from exc
    user = session.get(User, int(payload.get("u", 0))) if isinstance(payload, dict) else None
    if user is None or not user.active or payload.get("s") != _stamp(user):
        raise LinkInvalid("Deze link is al gebruikt of niet meer geldig. Vraag een nieuwe aan.")
    return user
