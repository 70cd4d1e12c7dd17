"""Declarative base with a naming convention (needed by Alembic batch mode), UTC timestamps,
and the time between two of them counted in the database."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, MetaData, literal_column
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import Float, TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Stored as naive UTC on every dialect, returned timezone-aware."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


class seconds_between(FunctionElement[Any]):  # noqa: N801 (used like a SQL function)
    """`later - earlier` in seconds, for two UTCDateTime columns: exact to the microsecond on
    PostgreSQL, to the millisecond on SQLite (whose date functions count in milliseconds)."""

    type = Float()
    inherit_cache = True
    name = "seconds_between"


@compiles(seconds_between, "postgresql")
def _seconds_between_postgresql(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    earlier, later = list(element.clauses)
    return (
        f"EXTRACT(EPOCH FROM ({compiler.process(later, **kw)} - {compiler.process(earlier, **kw)}))"
    )


@compiles(seconds_between, "sqlite")
def _seconds_between_sqlite(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    earlier, later = list(element.clauses)
    return (
        f"(ROUND((julianday({compiler.process(later, **kw)}) - "
        f"julianday({compiler.process(earlier, **kw)})) * 86400000) / 1000.0)"
    )


class hours_before_day(FunctionElement[Any]):  # noqa: N801 (used like a SQL function)
    """A Date column's day at 00:00 minus a whole number of hours, comparable with a
    UTCDateTime column: the UTC instant a local day starts, given its offset from UTC."""

    type = DateTime()
    inherit_cache = True
    name = "hours_before_day"

    def __init__(self, day: Any, hours: int) -> None:
        super().__init__(day, literal_column(str(int(hours))))


@compiles(hours_before_day, "postgresql")
def _hours_before_day_postgresql(
    element: hours_before_day, compiler: SQLCompiler, **kw: Any
) -> str:
    day, hours = list(element.clauses)
    return f"(CAST({compiler.process(day, **kw)} AS TIMESTAMP) - {hours} * INTERVAL '1 hour')"


@compiles(hours_before_day, "sqlite")
def _hours_before_day_sqlite(element: hours_before_day, compiler: SQLCompiler, **kw: Any) -> str:
    # datetime() gives 'YYYY-MM-DD HH:MM:SS', which sorts correctly against the stored
    # 'YYYY-MM-DD HH:MM:SS.ffffff' of a UTCDateTime.
    day, hours = list(element.clauses)
    return f"datetime({compiler.process(day, **kw)}, '-{hours} hours')"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
