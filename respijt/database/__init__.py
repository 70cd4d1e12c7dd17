"""The database frame: the session type rooms accept, the transaction helper with retries, and
how a lost or unreachable server is told apart from a failed statement.

`run_in_transaction` runs a unit of work, commits once and runs the whole unit again on a
transient conflict: a PostgreSQL deadlock or serialization failure (READ COMMITTED), a SQLite
write lock still busy after its timeout, or an error an `also_retry` predicate recognises.
SQLite's connection settings live in `database.sqlite`; the few named pieces that go below the
ORM live in `database.driver`. Their public names are imported from here.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
from sqlalchemy.orm import Session, scoped_session

from respijt.database.driver import (
    driver_cursor,
    driver_error,
    execute_on_driver,
    first_row_outside_transaction,
)
from respijt.database.sqlite import (
    ACCESS_LOG_PURGE_FUNCTION,
    LOCK_WAIT_MAX_SECONDS,
    _read_only,
    configure_sqlite,
    is_read_only,
    permit_access_log_purge,
    read_only,
    set_read_only,
)

__all__ = [
    "ACCESS_LOG_PURGE_FUNCTION",
    "LOCK_WAIT_MAX_SECONDS",
    "DbSession",
    "OutageLog",
    "_read_only",
    "also_retry",
    "configure_sqlite",
    "driver_cursor",
    "driver_error",
    "execute_on_driver",
    "first_row_outside_transaction",
    "is_read_only",
    "is_retryable",
    "is_unique_violation",
    "is_unreachable",
    "permit_access_log_purge",
    "ping_when_idle",
    "read_only",
    "run_in_transaction",
    "session_in_transaction",
    "set_read_only",
]

T = TypeVar("T")

# Domain functions accept a plain Session or Flask-SQLAlchemy's scoped one.
DbSession = Session | scoped_session[Any]


def session_in_transaction(scoped: scoped_session[Any]) -> bool:
    """Whether this context's session holds a transaction, without making a session: a
    request that never uses one (a plain hold) does not pay for making and closing it."""
    return scoped.registry.has() and scoped().in_transaction()


# A connection back from the pool is pinged only when it sat unused this long: a ping on
# every checkout (pool_pre_ping) was a round trip per transaction on PostgreSQL. A connection
# that died sooner (a server restart) fails on its first statement; run_in_transaction then
# runs the unit again on a fresh one, as nothing was written.
PING_AFTER_IDLE_SECONDS = 30.0
_LAST_CHECKIN = "respijt.last_checkin"


def ping_when_idle(engine: Engine) -> None:
    dialect = engine.dialect

    @event.listens_for(engine, "checkin")
    def _checkin(dbapi_connection: Any, record: Any) -> None:
        record.info[_LAST_CHECKIN] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        last = record.info.get(_LAST_CHECKIN)
        if last is None or time.monotonic() - last < PING_AFTER_IDLE_SECONDS:
            return  # just connected, or used a moment ago
        try:
            dialect.do_ping(dbapi_connection)
        except Exception as exc:
            # The pool drops this connection and checks out another (a new one if need be).
            raise DisconnectionError() from exc


_RETRYABLE_PG = {"40001", "40P01"}


# Further transient failures, registered by the modules that cause them: a unique value drawn
# at random that happened to be taken already is drawn anew when the unit runs again.
_ALSO_RETRYABLE: list[Callable[[BaseException], bool]] = []


def is_unique_violation(exc: BaseException, constraint: str, column: str) -> bool:
    """Whether `exc` broke the unique constraint `constraint` on `column` ("table.column"):
    PostgreSQL names the constraint, SQLite only the column."""
    orig = getattr(exc, "orig", None) or exc  # SQLAlchemy's error, or the driver's own
    name = getattr(getattr(orig, "diag", None), "constraint_name", None)
    if name is not None:
        return bool(name == constraint)
    return f"UNIQUE constraint failed: {column}" in str(orig)


def also_retry(predicate: Callable[[BaseException], bool]) -> Callable[[BaseException], bool]:
    """Register `predicate`: a database error it recognises is retried like a conflict."""
    _ALSO_RETRYABLE.append(predicate)
    return predicate


def is_retryable(exc: BaseException) -> bool:
    """Deadlock or serialization failure (PostgreSQL), a busy SQLite after its timeout, or an
    error an `also_retry` predicate recognises."""
    if not isinstance(exc, DBAPIError):
        return False
    if any(predicate(exc) for predicate in _ALSO_RETRYABLE):
        return True
    orig = exc.orig
    sqlstate = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if sqlstate in _RETRYABLE_PG:
        return True
    if isinstance(exc, OperationalError) and isinstance(orig, sqlite3.OperationalError):
        message = str(orig).lower()
        return "locked" in message or "busy" in message
    return False


# SQLSTATE of a server going away or not yet there: connection exceptions (class 08), and
# admin shutdown, crash shutdown, "cannot connect now" (starting up or shutting down).
_UNREACHABLE_PG = {"57P01", "57P02", "57P03"}


def is_unreachable(exc: BaseException) -> bool:
    """Whether `exc` says the database server cannot be reached (stopped, restarting, network
    gone) rather than that a statement failed: the request answers 503 and may be tried again.
    """
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    orig = exc.orig
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate:
        return bool(sqlstate.startswith("08") or sqlstate in _UNREACHABLE_PG)
    # psycopg raises its connection failures (refused, closed by the server) without a SQLSTATE.
    return isinstance(exc, OperationalError) and type(orig).__module__.startswith("psycopg")


class OutageLog:
    """Logs an unreachable database once per `every` seconds, not once per request or job,
    and once when it answers again: an outage of minutes stays a few lines in the log."""

    def __init__(self, logger: logging.Logger, what: str, every: float = 60.0) -> None:
        self.logger = logger
        self.what = what
        self.every = every
        self._lock = threading.Lock()
        self._since: float | None = None
        self._logged_at = 0.0
        self._failures = 0

    @property
    def down(self) -> bool:
        return self._since is not None

    def failed(self, exc: BaseException) -> None:
        now = time.monotonic()
        with self._lock:
            self._failures += 1
            if self._since is None:
                self._since = now
            elif now - self._logged_at < self.every:
                return
            self._logged_at = now
            failures = self._failures
        reason = getattr(exc, "orig", None) or exc
        self.logger.warning(
            "database niet bereikbaar (%s); %s (%d keer sinds het begin van de storing)",
            type(reason).__name__,
            self.what,
            failures,
        )

    def answered(self) -> None:
        if self._since is None:
            return
        with self._lock:
            since, self._since = self._since, None
            failures, self._failures = self._failures, 0
        if since is not None:
            self.logger.warning(
                "database weer bereikbaar na %.0f s (%d mislukte pogingen)",
                time.monotonic() - since,
                failures,
            )


def run_in_transaction(session: Any, work: Callable[[], T], retries: int = 8) -> T:
    """Run `work`, commit, and retry the whole unit on a transient conflict."""
    attempt = 0
    while True:
        committing = False
        try:
            result = work()
            committing = True
            session.commit()
            return result
        except DBAPIError as exc:
            session.rollback()
            attempt += 1
            # A connection found dead before COMMIT was sent wrote nothing: run it again on a
            # fresh one. Dead during COMMIT, the outcome is unknown: not repeated.
            dead_before_commit = exc.connection_invalidated and not committing
            if not (is_retryable(exc) or dead_before_commit) or attempt > retries:
                raise
            time.sleep(min(0.002 * (2**attempt), 0.2))
        except BaseException:
            session.rollback()
            raise
