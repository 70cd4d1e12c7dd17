"""The hot path of a hold in plain SQL, on the session's own connection and transaction.

A hold is the busiest write of the service, and through the ORM most of its cost was Python:
a unit of work, an identity-map load of the unit and the statement machinery for every
statement. Here the same guarded statements run on the DBAPI cursor of the connection the
session already holds, so they share its transaction (BEGIN IMMEDIATE on SQLite) and its
commit or rollback at the edge:

- the conditional `UPDATE night_inventory … WHERE reserved < capacity RETURNING night`, which
  also takes nothing unless the unit exists, is in use and allows the stay (length, arrival
  weekday), and unless an overdue hold touches the nights (those must be expired first,
  DESIGN §4.3) — in any of those cases it takes nothing and `holds` falls back to its
  explaining path, which reads the unit, expires, and raises the exact error;
- the reservation INSERT and its first status-history row. On PostgreSQL all three, and the
  new hold's access-log row when the caller gives its values, are one statement
  (data-modifying CTEs: one round trip) that takes every night or none; on SQLite three
  statements, and the caller writes the access-log row.

When only beds are missing, the statement's answer names the nights that had one (on SQLite,
when it took no night at all, one more statement asks whether the stay is allowed), and the
caller refuses without the explaining path.

Values are converted with the bind processors of the columns' own SQLAlchemy types, so they
are stored exactly as the ORM stores them. Driver errors are re-raised as SQLAlchemy's
(IntegrityError, OperationalError …), so the transaction edge retries and reports them alike.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Date
from sqlalchemy.engine import Dialect

from respijt.database import DbSession, driver_cursor
from respijt.models.base import UTCDateTime
from respijt.reservations.workflow import EXPIRING_RESERVATION_STATUSES

# The access log's reference for a reservation without a care request: "reservation:<id>".
OWN_REFERENCE_PREFIX = "reservation:"


def own_reference(reservation_id: int) -> str:
    """The access log's reference for a reservation without a care request."""
    return f"{OWN_REFERENCE_PREFIX}{reservation_id}"


_EXPIRING = ", ".join(f"'{status}'" for status in EXPIRING_RESERVATION_STATUSES)

# The unit is in use and allows this stay, and no overdue hold touches the range (overdue holds
# must be expired first, DESIGN §4.3). Does not depend on the row: evaluated once.
_STAY_ALLOWED = f"""EXISTS (
    SELECT 1 FROM unit
    WHERE unit.id = :unit_id AND unit.retired_at IS NULL
      AND unit.min_nights <= :nights AND unit.max_nights >= :nights
      AND {{position}}(unit.arrival_weekdays, :weekday) > 0)
  AND NOT EXISTS (
    SELECT 1 FROM reservation
    WHERE reservation.unit_id = :unit_id AND reservation.status IN ({_EXPIRING})
      AND reservation.expires_at <= :now
      AND reservation.arrival < :departure AND reservation.departure > :arrival)"""

# Every night of the range that still has a bed, if `{allowed}`.
_TAKE = """
UPDATE night_inventory SET reserved = reserved + 1
WHERE unit_id = :unit_id AND night >= :arrival AND night < :departure
  AND reserved < capacity
  AND {allowed}
RETURNING night,
  (SELECT requires_provider_confirmation FROM unit WHERE unit.id = :unit_id) AS needs_provider"""

_RESERVATION_COLUMNS = (
    "unit_id",
    "arrival",
    "departure",
    "status",
    "expires_at",
    "short_code",
    "expected_arrival_time",
    "caller",
    "caller_role",
    "caller_provider_id",
    "idempotency_key",
    "request_id",
    "request_fingerprint",
    "created_at",
    "updated_at",
)
# PostgreSQL needs the types of values selected without a table (a NULL is text otherwise).
_PG_CASTS = {
    "unit_id": "integer",
    "arrival": "date",
    "departure": "date",
    "expires_at": "timestamp",
    "caller_provider_id": "integer",
    "request_id": "integer",
    "created_at": "timestamp",
    "updated_at": "timestamp",
}
_INSERT_RESERVATION = (
    f"INSERT INTO reservation ({', '.join(_RESERVATION_COLUMNS)}) "
    f"VALUES ({', '.join(':' + name for name in _RESERVATION_COLUMNS)}) RETURNING id"
)
_INSERT_EVENT = (
    "INSERT INTO reservation_event (reservation_id, to_status, actor, at) "
    "VALUES (:reservation_id, :status, :caller, :created_at) RETURNING id"
)
# PostgreSQL: the stay allowed, and a bed on every night (of the rows locked by `locked`).
_PG_EVERY_NIGHT = """(SELECT ok FROM allowed)
  AND (SELECT count(*) FROM locked WHERE reserved < capacity) = :nights"""

# PostgreSQL takes every night or none within the one statement: the nights are locked first
# (FOR UPDATE returns their latest committed values, READ COMMITTED), and the UPDATE only runs
# when all of them have a bed; the rows it then updates are the ones it holds locked. So a
# statement that took nothing changed nothing. SQLite holds its write lock for the whole
# transaction instead.
_PG_HOLD = f"""
WITH allowed AS MATERIALIZED (
  SELECT {_STAY_ALLOWED.format(position="strpos")} AS ok
), locked AS MATERIALIZED (
  SELECT night, reserved, capacity FROM night_inventory
  WHERE unit_id = :unit_id AND night >= :arrival AND night < :departure
  ORDER BY night
  FOR UPDATE
), taken AS ({_TAKE.format(allowed=_PG_EVERY_NIGHT)}
), held AS (
  INSERT INTO reservation ({", ".join(_RESERVATION_COLUMNS)})
  SELECT {", ".join(f":{name}::{_PG_CASTS.get(name, 'text')}" for name in _RESERVATION_COLUMNS)}
  WHERE (SELECT count(*) FROM taken) = :nights
  RETURNING id
), history AS (
  INSERT INTO reservation_event (reservation_id, to_status, actor, at)
  SELECT id, :status, :caller, :created_at::timestamp FROM held
  RETURNING id
){{audit}}
SELECT (SELECT id FROM held), (SELECT id FROM history),
  CASE WHEN (SELECT ok FROM allowed)
    THEN ARRAY(SELECT night FROM locked WHERE reserved < capacity ORDER BY night)
    END,
  (SELECT bool_or(needs_provider) FROM taken)"""

# The access-log row of the new hold in the same statement (`privacy.access_values`, prefixed
# audit_): its reference "reservation:<id>", the unit's region found by the INSERT itself.
_PG_AUDIT = """, audit AS (
  INSERT INTO access_log (at, event, action, client_reference, actor, user_id, role,
    provider_id, organisation, region_id, outcome, source, purpose)
  SELECT :audit_at::timestamp, :audit_event::text, :audit_action::text,
    :audit_reference_prefix::text || id, :audit_actor::text, :audit_user_id::integer,
    :audit_role::text, :audit_provider_id::integer, :audit_organisation::text,
    (SELECT municipality.region_id FROM unit
     JOIN location ON location.id = unit.location_id
     JOIN municipality ON municipality.id = location.municipality_id
     WHERE unit.id = :unit_id),
    :audit_outcome::text, :audit_source::text, :audit_purpose::text
  FROM held
)"""


def _pyformat(sql: str) -> str:
    """:name → %(name)s (psycopg); leaves :: casts alone."""
    out: list[str] = []
    i = 0
    while i < len(sql):
        if sql[i] == ":" and sql[i + 1 : i + 2] == ":":
            out.append("::")
            i += 2
            continue
        if sql[i] == ":" and sql[i + 1 : i + 2].isalpha():
            j = i + 1
            while j < len(sql) and (sql[j].isalnum() or sql[j] == "_"):
                j += 1
            out.append(f"%({sql[i + 1 : j]})s")
            i = j
            continue
        out.append(sql[i])
        i += 1
    return "".join(out)


@dataclass(frozen=True)
class HeldRows:
    """What the fast path wrote: None ids when it did not hold the stay. Then `taken` are the
    nights it did take all the same (SQLite: to be given back, or rolled back; PostgreSQL takes
    every night or none), and `free` the nights that had a bed if the unit allows the stay and
    no overdue hold is in the way; None when only the explaining path can tell why."""

    reservation_id: int | None
    event_id: int | None
    taken: list[date]
    requires_provider_confirmation: bool
    free: list[date] | None
    logged: bool = False  # its access-log row was written by the same statement


def _identity(value: Any) -> Any:
    return value


@dataclass(frozen=True)
class _Dialect:
    postgresql: bool
    take: str
    allowed: str  # SQLite only: whether the unit allows the stay and nothing overdue is in the way
    hold: str  # PostgreSQL: the whole hold as one statement
    hold_logged: str  # PostgreSQL: the same with its access-log row
    insert_reservation: str
    insert_event: str
    bind_date: Callable[[Any], Any]
    bind_datetime: Callable[[Any], Any]
    read_date: Callable[[Any], Any]


@functools.cache
def statements_for(dialect_name: str) -> _Dialect:
    """The statements in the driver's parameter style (bench/holds.py runs them as its floor)."""
    from sqlalchemy.dialects.postgresql import psycopg
    from sqlalchemy.dialects.sqlite import pysqlite

    return _for((psycopg if dialect_name == "postgresql" else pysqlite).dialect())


@functools.cache
def _for(dialect: Dialect) -> _Dialect:
    postgresql = dialect.name == "postgresql"
    sql: Callable[[str], str] = _pyformat if postgresql else _identity
    return _Dialect(
        postgresql=postgresql,
        take=sql(_TAKE.format(allowed=_STAY_ALLOWED.format(position="instr"))),
        allowed="" if postgresql else f"SELECT {_STAY_ALLOWED.format(position='instr')}",
        hold=sql(_PG_HOLD.replace("{audit}", "")),
        hold_logged=sql(_PG_HOLD.replace("{audit}", _PG_AUDIT)),
        insert_reservation=sql(_INSERT_RESERVATION),
        insert_event=sql(_INSERT_EVENT),
        bind_date=Date().dialect_impl(dialect).bind_processor(dialect) or _identity,
        bind_datetime=UTCDateTime().dialect_impl(dialect).bind_processor(dialect) or _identity,
        read_date=Date().dialect_impl(dialect).result_processor(dialect, None) or _identity,
    )


def hold(
    session: DbSession,
    *,
    unit_id: int,
    arrival: date,
    departure: date,
    now: datetime,
    values: dict[str, Any],
    audit: dict[str, Any] | None = None,
) -> HeldRows:
    """Take one bed on every night and insert the held reservation and its history row.

    `values` are the reservation's other columns (status, expires_at, short_code, caller …).
    Takes nothing when the unit does not allow the stay or an overdue hold touches the
    nights; when it took some nights but not all (SQLite), it inserts nothing and the caller
    puts the taken nights back. With `audit` (`privacy.access_values`) PostgreSQL writes the
    new hold's access-log row in the same statement (`HeldRows.logged`); SQLite leaves it to
    the caller.
    """
    dialect, cursor, error = driver_cursor(session)
    sql = _for(dialect)
    nights = (departure - arrival).days
    params = {
        **values,
        "unit_id": unit_id,
        "arrival": sql.bind_date(arrival),
        "departure": sql.bind_date(departure),
        "nights": nights,
        "weekday": str(arrival.isoweekday()),
        "now": sql.bind_datetime(now),
        "expires_at": sql.bind_datetime(values["expires_at"]),
        "created_at": sql.bind_datetime(values["created_at"]),
        "updated_at": sql.bind_datetime(values["updated_at"]),
    }
    logged = audit is not None and sql.postgresql
    if logged:
        assert audit is not None
        params.update({f"audit_{name}": value for name, value in audit.items()})
        params["audit_at"] = sql.bind_datetime(audit["at"])
        params["audit_reference_prefix"] = OWN_REFERENCE_PREFIX
    statement = (sql.hold_logged if logged else sql.hold) if sql.postgresql else sql.take
    try:
        if sql.postgresql:
            # Prepared at once, not after psycopg's 5 runs: psycopg forgets every prepared
            # statement of a connection at any ROLLBACK (a refused hold ends in one), and
            # planning this statement costs about as much as running it.
            cursor.execute(statement, params, prepare=True)
            reservation_id, event_id, free, needs_provider = cursor.fetchone()
            if reservation_id is not None:
                return HeldRows(reservation_id, event_id, [], bool(needs_provider), None, logged)
            return HeldRows(None, None, [], False, None if free is None else list(free))
        rows = cursor.execute(statement, params).fetchall()
        needs_provider = bool(rows[0][1]) if rows else False
        if len(rows) != nights:
            taken = [sql.read_date(night) for night, _ in rows]
            if taken:  # what it took had a bed
                return HeldRows(None, None, taken, needs_provider, taken)
            # Nothing taken: every night full, or the stay not allowed or something overdue in
            # the way (only the explaining path can tell which, and expire). One more statement
            # in the same transaction tells the first from the others.
            statement = sql.allowed
            (allowed,) = cursor.execute(statement, params).fetchone()
            return HeldRows(None, None, [], False, [] if allowed else None)
        statement = sql.insert_reservation
        (reservation_id,) = cursor.execute(statement, params).fetchone()
        params["reservation_id"] = reservation_id
        statement = sql.insert_event
        (event_id,) = cursor.execute(statement, params).fetchone()
        return HeldRows(reservation_id, event_id, [], needs_provider, None)
    except dialect.loaded_dbapi.Error as exc:
        raise error(statement, params, exc) from exc
    finally:
        cursor.close()
