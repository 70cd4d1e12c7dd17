"""Below the ORM: prebuilt statements on the driver connection, for the busiest reads and writes.

The only way below SQLAlchemy's session: `driver_cursor` (the driver cursor in a session's
transaction), `execute_on_driver` (a Core INSERT/UPDATE compiled once) and
`first_row_outside_transaction` (one SELECT in autocommit). Driver errors leave as
SQLAlchemy's, so the transaction edge retries and reports them alike.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError


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
    dialect = connection.dialect
    dead = dialect.is_disconnect(exc, connection.connection.dbapi_connection, None)  # type: ignore[arg-type]
    if dead:
        connection.invalidate(exc)
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


def driver_cursor(target: Any) -> tuple[Any, Any, Callable[[str, Any, Exception], Exception]]:
    """(dialect, driver cursor, error wrapper) in the session `target`'s transaction, its
    pending ORM changes flushed first (plain SQL bypasses autoflush)."""
    target.flush()
    connection = target.connection()
    cursor = connection.connection.driver_connection.cursor()
    return connection.dialect, cursor, functools.partial(driver_error, connection)


def execute_on_driver(target: Any, statement: Any, params: dict[str, Any]) -> None:
    """A Core INSERT/UPDATE built once at import, run on the driver cursor in the session
    `target`'s transaction: compiled once per dialect and set of
    keys, values converted by the columns' own types. SQLAlchemy's per-statement machinery
    is skipped: for the writes every request makes (the access log)."""
    dialect, cursor, error = driver_cursor(target)
    sql, binds, positional = _driver_plan(statement, dialect, frozenset(params))
    args = _driver_args(binds, positional, params)
    try:
        cursor.execute(sql, args)
    except dialect.loaded_dbapi.Error as exc:
        raise error(sql, args, exc) from exc
    finally:
        cursor.close()
