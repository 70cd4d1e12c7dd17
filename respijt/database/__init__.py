"""Engine behaviour per dialect and the transaction edge with retries.

SQLite: WAL, foreign keys, a busy timeout, and write transactions that take the write lock up
front (BEGIN IMMEDIATE) so "read then write" cannot race. Read-only requests begin deferred.
PostgreSQL: READ COMMITTED; deadlocks and serialization failures are retried at the edge.
"""

from __future__ import annotations

import contextvars
import functools
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
from sqlalchemy.orm import Session, scoped_session

T = TypeVar("T")

# Domain functions accept a plain Session or Flask-SQLAlchemy's scoped one.
DbSession = Session | scoped_session[Any]

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
        # machinery around it (~50 µs of Python on every write transaction).
        driver = conn.connection.driver_connection
        if _read_only.get():
            driver.execute("BEGIN")
        else:
            _begin_immediate(driver)


def _begin_immediate(driver: sqlite3.Connection) -> None:
    """BEGIN IMMEDIATE, waiting for the write lock in short steps of our own.

    SQLite's busy handler sleeps 1, 2, 5, 10 … ms between attempts, while a hold keeps the
    lock for a fraction of a millisecond: a writer queued behind it slept on long after it was
    free (4 clients over HTTP on 2 workers: ~0.31× the no-op POST with it, ~0.40× without).
    Here a busy lock is tried again after 50 µs, doubling to at most 2 ms, until busy_timeout
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


@functools.cache
def _outside_plan(statement: Any, dialect: Any) -> tuple[str, Any, bool, Any]:
    compiled = statement.compile(dialect=dialect)
    names = list(compiled.positiontup if compiled.positional else compiled.binds)
    binds = [
        (name, compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect))
        for name in names
    ]
    results = [
        column.type.dialect_impl(dialect).result_processor(dialect, None)
        for column in statement.selected_columns
    ]
    return str(compiled), binds, compiled.positional, results


def _driver_args(binds: Any, positional: bool, params: dict[str, Any]) -> Any:
    """`params` for the driver: each value through its column type's bind processor, as a
    tuple in the statement's order (positional paramstyle) or a dict by name."""
    values = [process(params[name]) if process else params[name] for name, process in binds]
    if positional:
        return tuple(values)
    return dict(zip((name for name, _ in binds), values, strict=True))


def first_row_outside_transaction(
    engine: Engine, statement: Any, params: dict[str, Any]
) -> tuple[Any, ...] | None:
    """The first row of a prebuilt SELECT on a pooled connection outside any transaction,
    typed as SQLAlchemy would return it. The driver runs it in autocommit: one statement,
    one snapshot, one round trip; no BEGIN, no lock kept, no COMMIT or ROLLBACK after."""
    sql, binds, positional, results = _outside_plan(statement, engine.dialect)
    args = _driver_args(binds, positional, params)
    raw = engine.raw_connection()
    try:
        driver: Any = raw.driver_connection
        if engine.dialect.name == "postgresql":
            driver.autocommit = True  # psycopg would BEGIN first (sqlite3 here does not)
            try:
                row = driver.execute(sql, args).fetchone()
            finally:
                driver.autocommit = False
        else:
            row = driver.execute(sql, args).fetchone()
    finally:
        raw.close()
    if row is None:
        return None
    return tuple(
        process(value) if process else value for process, value in zip(results, row, strict=True)
    )


def driver_error(connection: Connection, statement: str, params: Any, exc: Exception) -> Exception:
    """A driver error `exc` as SQLAlchemy raises it (IntegrityError, OperationalError …), so the
    transaction edge retries and reports it alike; a dead connection is invalidated, as
    SQLAlchemy does, so the pool replaces it and the edge may run the unit again."""
    return _sqlalchemy_error(
        connection.dialect,
        connection.connection.dbapi_connection,
        connection.invalidate,
        statement,
        params,
        exc,
    )


def _sqlalchemy_error(
    dialect: Any,
    dbapi_connection: Any,
    invalidate: Callable[[BaseException], None],
    statement: str,
    params: Any,
    exc: Exception,
) -> Exception:
    dead = dialect.is_disconnect(exc, dbapi_connection, None)
    if dead:
        invalidate(exc)
    return DBAPIError.instance(
        statement,
        params,
        exc,
        dialect.loaded_dbapi.Error,
        connection_invalidated=dead,
        dialect=dialect,
    )


@functools.lru_cache(maxsize=64)
def _driver_plan(
    statement: Any, dialect: Any, keys: frozenset[str]
) -> tuple[str, tuple[tuple[str, Any], ...], bool]:
    compiled = statement.compile(dialect=dialect, column_keys=sorted(keys))
    names = list(compiled.positiontup if compiled.positional else compiled.binds)
    # Only what the caller passes is sent: no fixed values in the statement, no Python-side
    # defaults or onupdate values (SQLAlchemy's execution context, which fills those, is skipped).
    missing = sorted(set(names) - keys)
    if missing or compiled.insert_prefetch or compiled.update_prefetch:
        raise ValueError(f"execute_on_driver needs every value passed in; missing {missing}")
    binds = tuple(
        (name, compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect))
        for name in names
    )
    return compiled.string, binds, compiled.positional


class DriverTransaction:
    """A write transaction on a pooled driver connection, without the ORM session: for the
    busiest write (a plain hold), where the session's bookkeeping around a few driver
    statements cost about as much Python as the statements themselves.

    The connection is checked out, and on SQLite the write lock taken (BEGIN IMMEDIATE, as
    `_on_begin` does for the session), on the first `cursor()`; PostgreSQL begins with the
    first statement. It has the session's `commit()` and `rollback()`, so
    `run_in_transaction` is its edge and retries it alike; both give the connection back.
    Driver errors leave as SQLAlchemy's (`error`).

    `one_statement`: the unit changes the database with a single statement that changes all or
    nothing (reads before it may see newer data). PostgreSQL then runs in autocommit: no BEGIN
    and COMMIT round trips, and nothing for `rollback()` to undo. SQLite is unchanged.
    """

    def __init__(self, engine: Engine, *, one_statement: bool = False) -> None:
        self.engine = engine
        self.dialect = engine.dialect
        self._autocommit = one_statement and self.dialect.name == "postgresql"
        self._raw: Any = None

    def cursor(self) -> Any:
        if self._raw is None:
            raw = self.engine.raw_connection()
            try:
                if self.dialect.name == "sqlite":
                    _begin_immediate(raw.driver_connection)  # type: ignore[arg-type]
                elif self._autocommit:
                    raw.driver_connection.autocommit = True  # type: ignore[union-attr]
            except BaseException:
                raw.close()
                raise
            self._raw = raw
        return self._raw.driver_connection.cursor()

    def error(self, statement: str, params: Any, exc: Exception) -> Exception:
        """A driver error as SQLAlchemy raises it (`driver_error`); a dead connection is
        invalidated."""
        return _sqlalchemy_error(
            self.dialect, self._raw.dbapi_connection, self._raw.invalidate, statement, params, exc
        )

    def commit(self) -> None:
        if self._raw is None:
            return
        try:
            self._raw.driver_connection.commit()
        except self.dialect.loaded_dbapi.Error as exc:
            raise self.error("COMMIT", None, exc) from exc
        finally:
            self._release()

    def rollback(self) -> None:
        if self._raw is None:
            return
        try:
            self._raw.driver_connection.rollback()
        except self.dialect.loaded_dbapi.Error:
            self._raw.invalidate()  # the pool replaces a connection it cannot trust
        finally:
            self._release()

    def _release(self) -> None:
        raw, self._raw = self._raw, None
        try:
            if self._autocommit and raw.is_valid:
                raw.driver_connection.autocommit = False  # as the pool's other users expect
        finally:
            raw.close()


def driver_cursor(target: Any) -> tuple[Any, Any, Callable[[str, Any, Exception], Exception]]:
    """(dialect, driver cursor, error wrapper) in `target`'s transaction: a DriverTransaction,
    or a session (its pending ORM changes flushed first, as plain SQL bypasses autoflush)."""
    if isinstance(target, DriverTransaction):
        return target.dialect, target.cursor(), target.error
    target.flush()
    connection = target.connection()
    cursor = connection.connection.driver_connection.cursor()
    return connection.dialect, cursor, functools.partial(driver_error, connection)


def execute_on_driver(target: Any, statement: Any, params: dict[str, Any]) -> None:
    """A Core INSERT/UPDATE built once at import, run on the driver cursor in `target`'s
    transaction (a session or a DriverTransaction): compiled once per dialect and set of
    keys, values converted by the columns' own types. SQLAlchemy's per-statement machinery
    (~50 µs of Python on SQLite) is skipped; for the writes every request makes (the access
    log)."""
    dialect, cursor, error = driver_cursor(target)
    sql, binds, positional = _driver_plan(statement, dialect, frozenset(params))
    args = _driver_args(binds, positional, params)
    try:
        cursor.execute(sql, args)
    except dialect.loaded_dbapi.Error as exc:
        raise error(sql, args, exc) from exc
    finally:
        cursor.close()


def session_in_transaction(scoped: scoped_session[Any]) -> bool:
    """Whether this context's session holds a transaction, without making a session: a
    request that never uses one (a plain hold) does not pay for making and closing it."""
    return scoped.registry.has() and scoped().in_transaction()


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
