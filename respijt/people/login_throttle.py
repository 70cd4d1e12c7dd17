"""A growing delay after failed sign-ins, never a lockout. No Flask here.

Every password or second-factor attempt is counted, before it is checked, under the keys it
falls under: for a browser that signed in to that account before, that device only; for any
other browser the pair (account, client address), the client address, and the account as a
whole. Under the pair and the address, after RESPIJT_LOGIN_FREE_FAILURES failures in a row the
next attempt must wait RESPIJT_LOGIN_DELAY_BASE_SECONDS, doubling with every further failure up
to RESPIJT_LOGIN_DELAY_MAX_SECONDS. Under the account as a whole the same doubling starts only
after RESPIJT_LOGIN_ACCOUNT_FREE_FAILURES and stops at RESPIJT_LOGIN_ACCOUNT_DELAY_MAX_SECONDS:
an attacker at one address is slowed by the pair and address delays, and cannot keep the owner
at another address waiting longer than that short cap. An attempt during any key's wait is
refused without looking at the password. A failure more than FORGET_AFTER after the previous
one starts the count again.

Counting first (a conditional UPDATE that fails when another attempt got there first) means
parallel guesses cannot all slip in before the first failure is written. An attempt that turns
out right gives its count back; a full sign-in (password and, where needed, second factor)
clears the account's, pair's or device's count, so the person who knows the password and holds
the second factor gets in once the wait is over, and a browser they signed in with before is
not slowed down by what others try on their account.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from respijt.database import DbSession
from respijt.models import LoginThrottle

FORGET_AFTER = timedelta(hours=24)
ACCOUNT_PREFIX = "account:"
CONTENDED_WAIT_SECONDS = 1


@dataclass(frozen=True)
class ThrottleSettings:
    free_failures: int
    base_seconds: float
    max_seconds: float
    account_free_failures: int = 20
    account_max_seconds: float = 30

    @classmethod
    def from_config(cls, config: Any) -> ThrottleSettings:
        return cls(
            free_failures=int(config["RESPIJT_LOGIN_FREE_FAILURES"]),
            base_seconds=float(config["RESPIJT_LOGIN_DELAY_BASE_SECONDS"]),
            max_seconds=float(config["RESPIJT_LOGIN_DELAY_MAX_SECONDS"]),
            account_free_failures=int(config["RESPIJT_LOGIN_ACCOUNT_FREE_FAILURES"]),
            account_max_seconds=float(config["RESPIJT_LOGIN_ACCOUNT_DELAY_MAX_SECONDS"]),
        )

    def delay_after(self, failures: int, key: str = "") -> timedelta:
        """How long the next attempt under `key` waits after `failures` failures in a row
        (the account-wide key has its own free count and cap)."""
        free, cap = self.free_failures, self.max_seconds
        if key.startswith(ACCOUNT_PREFIX):
            free, cap = self.account_free_failures, self.account_max_seconds
        if failures < free:
            return timedelta(0)
        exponent = min(failures - free, 32)
        return timedelta(seconds=min(cap, self.base_seconds * 2**exponent))


def account_key(secret_key: str, email: str) -> str:
    """The throttle key of an account: a keyed digest of the e-mail address as typed
    (normalised), so unknown addresses are slowed down exactly like known ones."""
    digest = hmac.new(secret_key.encode(), email.strip().lower().encode(), hashlib.sha256)
    return ACCOUNT_PREFIX + digest.hexdigest()[:40]


def pair_key(secret_key: str, email: str, address: str | None) -> str:
    """The throttle key of one account tried from one client address."""
    typed = email.strip().lower() + "\n" + (address or "-")[:64]
    digest = hmac.new(secret_key.encode(), typed.encode(), hashlib.sha256)
    return "pair:" + digest.hexdigest()[:40]


def device_key(nonce: str) -> str:
    return "device:" + hashlib.sha256(nonce.encode()).hexdigest()[:40]


def address_key(address: str | None) -> str:
    return "address:" + (address or "-")[:64]


def session_key(web_session_id: int) -> str:
    return f"second-factor:{web_session_id}"


@dataclass
class Attempt:
    """What `begin` counted: each key's state before, to give the count back on success."""

    now: datetime
    before: dict[str, tuple[int, datetime, datetime | None, int]] = field(default_factory=dict)


def _ensure_rows(session: DbSession, keys: list[str], now: datetime) -> None:
    dialect = session.get_bind().dialect.name
    make_insert = pg_insert if dialect == "postgresql" else sqlite_insert
    for key in keys:
        session.execute(
            make_insert(LoginThrottle)
            .values(key=key, failures=0, last_failure_at=now, blocked_until=None)
            .on_conflict_do_nothing(index_elements=["key"])
        )


def begin(
    session: DbSession, keys: list[str], now: datetime, settings: ThrottleSettings
) -> tuple[Attempt | None, int]:
    """Count one attempt under every key, or refuse it: (the attempt, 0), or (None, seconds
    to wait) when any key is still waiting or another attempt got in first."""
    _ensure_rows(session, keys, now)
    rows = {
        row.key: row
        for row in session.execute(
            select(
                LoginThrottle.key,
                LoginThrottle.failures,
                LoginThrottle.last_failure_at,
                LoginThrottle.blocked_until,
            ).where(LoginThrottle.key.in_(keys))
        )
    }
    waits = [
        (row.blocked_until - now).total_seconds()
        for row in rows.values()
        if row.blocked_until is not None and row.blocked_until > now
    ]
    if waits:
        return None, max(1, int(-(-max(waits) // 1)))
    attempt = Attempt(now=now)
    for key in keys:
        row = rows[key]
        failures = 0 if now - row.last_failure_at > FORGET_AFTER else row.failures
        counted = session.execute(
            update(LoginThrottle)
            .where(
                LoginThrottle.key == key,
                LoginThrottle.failures == row.failures,
                LoginThrottle.last_failure_at == row.last_failure_at,
            )
            .values(
                failures=failures + 1,
                last_failure_at=now,
                blocked_until=now + settings.delay_after(failures + 1, key),
            )
            .execution_options(synchronize_session=False)
        )
        if counted.rowcount != 1:  # type: ignore[attr-defined]
            return None, CONTENDED_WAIT_SECONDS
        attempt.before[key] = (row.failures, row.last_failure_at, row.blocked_until, failures + 1)
    return attempt, 0


def give_back(session: DbSession, attempt: Attempt, keys: list[str]) -> None:
    """The attempt was right: undo its count under `keys` (unless other failures came since,
    which then keep their delay)."""
    for key in keys:
        failures, last_failure_at, blocked_until, counted = attempt.before[key]
        session.execute(
            update(LoginThrottle)
            .where(
                LoginThrottle.key == key,
                LoginThrottle.last_failure_at == attempt.now,
                LoginThrottle.failures == counted,
            )
            .values(failures=failures, last_failure_at=last_failure_at, blocked_until=blocked_until)
            .execution_options(synchronize_session=False)
        )


def clear(session: DbSession, keys: list[str]) -> None:
    """A full sign-in: forget the failures under `keys`."""
    session.execute(delete(LoginThrottle).where(LoginThrottle.key.in_(keys)))


def count_failure(session: DbSession, key: str, now: datetime) -> int:
    """Count one failure under `key` without any delay (a half-signed-in session's wrong
    codes); returns the failures so far."""
    _ensure_rows(session, [key], now)
    session.execute(
        update(LoginThrottle)
        .where(LoginThrottle.key == key)
        .values(failures=LoginThrottle.failures + 1, last_failure_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(session.scalar(select(LoginThrottle.failures).where(LoginThrottle.key == key)) or 0)


def purge(session: DbSession, now: datetime) -> int:
    """Forget keys with no failure for FORGET_AFTER (their count would start again anyway)."""
    result = session.execute(
        delete(LoginThrottle).where(LoginThrottle.last_failure_at < now - FORGET_AFTER)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
