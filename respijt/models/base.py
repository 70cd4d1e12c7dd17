"""Declarative base with a naming convention (needed by Alembic batch mode), UTC timestamps,
and the time between two of them, or before a day, reckoned in the database."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, MetaData, literal_column
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import BigInteger, TypeDecorator

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


class microseconds_between(FunctionElement[Any]):  # noqa: N801 (reads like SQL)
    """`later - earlier` in whole microseconds, for two UTCDateTime columns, exact on both
    databases (SQLite's date functions round to the millisecond, so its seconds and its
    stored microseconds are taken apart)."""

    type = BigInteger()
    inherit_cache = True
    name = "microseconds_between"


@compiles(microseconds_between, "postgresql")
def _microseconds_between_postgresql(
    element: microseconds_between, compiler: SQLCompiler, **kw: Any
) -> str:
    earlier, later = (compiler.process(c, **kw) for c in element.clauses)
    return f"CAST(EXTRACT(EPOCH FROM ({later} - {earlier})) * 1000000 AS BIGINT)"


@compiles(microseconds_between, "sqlite")
def _microseconds_between_sqlite(
    element: microseconds_between, compiler: SQLCompiler, **kw: Any
) -> str:
    # Stored as 'YYYY-MM-DD HH:MM:SS.ffffff': whole seconds from the first 19 characters (with
    # the fraction, strftime would round .9996 up to the next second), microseconds from 21.
    earlier, later = (compiler.process(c, **kw) for c in element.clauses)

    def seconds(column: str) -> str:
        return f"CAST(strftime('%s', substr({column}, 1, 19)) AS INTEGER)"

    def micros(column: str) -> str:
        return f"CAST(substr({column}, 21, 6) AS INTEGER)"

    return (
        f"(({seconds(later)} - {seconds(earlier)}) * 1000000 + {micros(later)} - {micros(earlier)})"
    )


class hours_before_day(FunctionElement[Any]):  # noqa: N801 (reads like SQL)
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
