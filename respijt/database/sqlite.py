"""SQLite's connection settings: a private file, WAL, foreign keys, a busy timeout, and write
transactions that take the write lock up front (BEGIN IMMEDIATE) so "read then write" cannot
race. A request or job that only reads begins deferred (`read_only`).

Also the access log's purge permit: the DELETE trigger asks the connection whether the purge
is running, and only `respijt.privacy.access_log` says yes, on its own connection.
"""

from __future__ import annotations

import contextvars
import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

# True while the current request or job only reads: its SQLite transactions begin deferred.
_read_only: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "respijt_read_only", default=False
)

_busy_timeout_ms = 10000


def configure_sqlite(busy_timeout_ms: int) -> None:
    global _busy_timeout_ms
    _busy_timeout_ms = busy_timeout_ms


@event.listens_for(Engine, "do_connect")
def _create_sqlite_file_private(dialect: Any, record: Any, cargs: Any, cparams: Any) -> None:
    """A SQLite database file that does not exist yet is made readable by its owner only (the
    WAL and shared-memory files take its mode): it holds client data and the access log."""
    if dialect.name != "sqlite":
        return
    path = cparams.get("database") or (cargs[0] if cargs else None)
    if not isinstance(path, str) or not path or path == ":memory:" or path.startswith("file:"):
        return
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass


@event.listens_for(Engine, "connect")
def _on_connect(dbapi_connection: Any, connection_record: Any) -> None:
    if isinstance(dbapi_connection, sqlite3.Connection):
        # Let us issue BEGIN ourselves (pysqlite would begin lazily, after the first SELECT).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={int(_busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
        # The access log's DELETE trigger asks this; only respijt.privacy.access_log's purge turns
        # it on, for its own DELETE on this connection (a row any SQL could insert is no permit).
        permit_access_log_purge(dbapi_connection, False)


ACCESS_LOG_PURGE_FUNCTION = "respijt_access_log_purge_permitted"


def permit_access_log_purge(dbapi_connection: sqlite3.Connection, permitted: bool) -> None:
    """SQLite: what the access log's DELETE trigger hears on this connection (1: let it pass)."""
    answer = 1 if permitted else 0
    dbapi_connection.create_function(ACCESS_LOG_PURGE_FUNCTION, 0, lambda: answer)


# The longest step between two tries for the SQLite write lock (database._begin_immediate).
LOCK_WAIT_MAX_SECONDS = 0.002


@event.listens_for(Engine, "begin")
def _on_begin(conn: Any) -> None:
    if conn.dialect.name == "sqlite":
        # On the driver connection itself: the same statement without SQLAlchemy's execution
        # machinery around it, as it runs on every write transaction.
        driver = conn.connection.driver_connection
        if _read_only.get():
            driver.execute("BEGIN")
        else:
            _begin_immediate(driver)


def _begin_immediate(driver: sqlite3.Connection) -> None:
    """BEGIN IMMEDIATE, waiting for the write lock in short steps of our own.

    SQLite's busy handler sleeps 1, 2, 5, 10 … ms between attempts, while a hold keeps the
    lock for a fraction of a millisecond: a writer queued behind it slept on long after it was
    free (docs/performance.md has the measurements). Here a busy lock is tried again after
    0.05 ms, doubling to at most 2 ms (LOCK_WAIT_MAX_SECONDS), until busy_timeout
    has passed. Every other statement keeps the connection's busy_timeout. Driver errors leave
    as SQLAlchemy's OperationalError: a lock still busy after busy_timeout is retried by
    run_in_transaction and otherwise answered 503, not a bare driver error (500).
    """
    try:
        driver.execute("PRAGMA busy_timeout=0")
        try:
            deadline = None
            delay = 0.00005
            while True:
                try:
                    driver.execute("BEGIN IMMEDIATE")
                    return
                except sqlite3.OperationalError as exc:
                    now = time.monotonic()
                    deadline = deadline or now + _busy_timeout_ms / 1000
                    if not _is_busy(exc) or now >= deadline:
                        raise
                time.sleep(delay)
                delay = min(delay * 2, LOCK_WAIT_MAX_SECONDS)
        finally:
            driver.execute(f"PRAGMA busy_timeout={int(_busy_timeout_ms)}")
    except sqlite3.Error as exc:
        raise OperationalError("BEGIN IMMEDIATE", None, exc) from exc


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    message = str(exc).lower()
    return "locked" in message or "busy" in message


def is_read_only() -> bool:
    return _read_only.get()


def set_read_only(value: bool) -> contextvars.Token[bool]:
    return _read_only.set(value)


@contextmanager
def read_only() -> Iterator[None]:
    token = _read_only.set(True)
    try:
        yield
    finally:
        _read_only.reset(token)
