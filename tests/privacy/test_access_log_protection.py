"""The access log cannot be edited or emptied past the retention purge, on either database.

SQLite: INSERT OR REPLACE and upserts over an existing id are refused, and no row or setting a
statement could write unlocks DELETE; only the purge's own connection function does.
PostgreSQL: TRUNCATE is refused; a role that is not the owner of access_log_purge() cannot
DELETE even with the purge switch set, nor call the function unless granted EXECUTE.
`respijt db downgrade` keeps the log unless told --drop-access-log. The migration goes up and
down on both databases.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from respijt import create_app
from respijt.care_requests.workflow import OPEN_REQUEST_STATUSES
from respijt.extensions import db as _db
from respijt.models import AccessLog
from respijt.people.caller import Caller
from respijt.privacy import access_log as privacy
from tests.conftest import config_for_tests, make_database

CALLER = Caller("token:1", "admin")
MIGRATION = "20261205_access_log_purge"
BEFORE = "20261122_satisfaction"


def _log(session: Any, at: datetime, reference: str = "reservation:1") -> None:
    privacy.log_access(
        session,
        action="reservation.read",
        caller=CALLER,
        client_reference=reference,
        outcome="success",
        purpose="test",
        source=None,
        now=at,
    )


def _rows(session: Any) -> list[tuple[int, str]]:
    """The rows as they are committed; no transaction (and no lock) stays open after."""
    session.rollback()
    try:
        query = select(AccessLog.id, AccessLog.actor).order_by(AccessLog.id)
        return [tuple(row) for row in session.execute(query)]  # type: ignore[misc]
    finally:
        session.rollback()


@pytest.fixture()
def two_rows(db: Any) -> list[tuple[int, str]]:
    now = datetime.now(UTC)
    _log(db.session, now - timedelta(days=10 * 366), "reservation:old")
    _log(db.session, now, "reservation:new")
    db.session.commit()
    return _rows(db.session)


def _refused(session: Any, sql: str, **params: Any) -> None:
    with pytest.raises(DBAPIError, match="append-only|no such function"):
        session.execute(text(sql), params)
        session.flush()
    session.rollback()


@pytest.mark.only_on("sqlite")
def test_sqlite_refuses_insert_or_replace_and_upsert_over_a_row(db, two_rows, backend):
    (first_id, _), _ = two_rows
    columns = "event, action, client_reference, actor, role, outcome, purpose, at"
    _refused(
        db.session,
        f"INSERT OR REPLACE INTO access_log (id, {columns}) "
        f"SELECT id, event, action, client_reference, 'someone-else', role, outcome, purpose, at "
        f"FROM access_log WHERE id = :id",
        id=first_id,
    )
    _refused(
        db.session,
        f"REPLACE INTO access_log (id, {columns}) "
        "VALUES (:id, 'read', 'x.read', 'r', 'someone-else', 'admin', 'success', 'p', '2020-01-01')",
        id=first_id,
    )
    _refused(
        db.session,
        f"INSERT INTO access_log (id, {columns}) "
        "VALUES (:id, 'read', 'x.read', 'r', 'a', 'admin', 'success', 'p', '2020-01-01') "
        "ON CONFLICT (id) DO UPDATE SET actor = 'someone-else'",
        id=first_id,
    )
    assert _rows(db.session) == two_rows


@pytest.mark.only_on("sqlite")
def test_sqlite_delete_has_no_permit_a_statement_could_write(db, two_rows, backend, database_url):
    _refused(db.session, "DELETE FROM access_log")
    # The old permit table is gone; creating one unlocks nothing.
    db.session.execute(text("CREATE TEMP TABLE access_log_purge_permit (id INTEGER)"))
    db.session.execute(text("INSERT INTO access_log_purge_permit VALUES (1)"))
    with pytest.raises(DBAPIError, match="append-only"):
        db.session.execute(text("DELETE FROM access_log"))
    db.session.rollback()
    # A connection without respijt's function (the sqlite3 shell, another program) is refused.
    raw = sqlite3.connect(make_url(database_url).database)
    try:
        with pytest.raises(sqlite3.OperationalError):
            raw.execute("DELETE FROM access_log")
        raw.rollback()
    finally:
        raw.close()
    assert _rows(db.session) == two_rows


def test_purge_still_removes_only_rows_past_the_retention(db, two_rows):
    report = privacy.purge(
        db.session,
        datetime.now(UTC),
        dry_run=False,
        open_request_statuses=OPEN_REQUEST_STATUSES,
        access_log_years=5,
    )
    db.session.commit()
    assert report.access_log_rows == 1
    assert _rows(db.session) == two_rows[1:]
    _refused(db.session, "DELETE FROM access_log")


@pytest.mark.only_on("postgresql")
def test_postgresql_refuses_truncate_even_to_the_owner(db, two_rows, backend):
    _refused(db.session, "TRUNCATE access_log")
    assert _rows(db.session) == two_rows


@pytest.fixture()
def app_role(db: Any, backend: str, database_url: str) -> Iterator[tuple[str, str]]:
    """A login role that is not a superuser and not the owner, with the app's table rights."""
    if backend != "postgresql":
        pytest.skip("PostgreSQL roles")
    role = f"respijt_app_{uuid.uuid4().hex[:8]}"
    url = make_url(database_url)
    with db.engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE ROLE {role} LOGIN NOSUPERUSER")
        conn.exec_driver_sql(f"GRANT USAGE ON SCHEMA public TO {role}")
        conn.exec_driver_sql(
            f"GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON access_log TO {role}"
        )
    dsn = f"host={url.host} port={url.port or 5432} user={role} dbname={url.database}"
    try:
        yield role, dsn
    finally:
        with db.engine.begin() as conn:
            conn.exec_driver_sql(f"DROP OWNED BY {role}")
            conn.exec_driver_sql(f"DROP ROLE {role}")


@pytest.mark.only_on("postgresql")
def test_postgresql_app_role_cannot_delete_with_the_switch_nor_purge_unless_granted(
    db, two_rows, app_role
):
    role, dsn = app_role
    with psycopg.connect(dsn) as conn:
        for sql in (
            "DELETE FROM access_log",
            "TRUNCATE access_log",
            "UPDATE access_log SET actor = 'someone-else'",
        ):
            with pytest.raises(psycopg.Error, match="append-only"):
                with conn.transaction():
                    conn.execute("SET LOCAL respijt.purge = 'on'")
                    conn.execute(sql)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            with conn.transaction():
                conn.execute("SELECT access_log_purge('infinity')")
    assert _rows(db.session) == two_rows

    with db.engine.begin() as owner:  # the retention job's own privilege, given on purpose
        owner.exec_driver_sql(
            f"GRANT EXECUTE ON FUNCTION access_log_purge(timestamp without time zone) TO {role}"
        )
    cutoff = (datetime.now(UTC) - timedelta(days=5 * 366)).replace(tzinfo=None)
    with psycopg.connect(dsn) as conn:
        removed = conn.execute("SELECT access_log_purge(%s)", (cutoff,)).fetchone()
    assert removed == (1,)
    assert _rows(db.session) == two_rows[1:]
    with psycopg.connect(dsn) as conn:
        with pytest.raises(psycopg.Error, match="append-only"):
            with conn.transaction():
                conn.execute("SET LOCAL respijt.purge = 'on'")
                conn.execute("DELETE FROM access_log")


@pytest.fixture()
def fresh_app(backend: str, tmp_path: Any) -> Iterator[Any]:
    url, cleanup = make_database(backend, str(tmp_path))
    application = create_app(config_for_tests(url))
    try:
        with application.app_context():
            upgrade()
            _db.session.remove()
        yield application
    finally:
        with application.app_context():
            _db.engine.dispose()
        cleanup()


def _count(application: Any) -> int:
    with application.app_context():
        try:
            return int(_db.session.scalar(select(func.count()).select_from(AccessLog)) or 0)
        finally:
            _db.session.remove()


def test_the_migration_goes_down_and_up_again_keeping_the_log(fresh_app):
    with fresh_app.app_context():
        _log(_db.session, datetime.now(UTC))
        _db.session.commit()
        downgrade(revision=BEFORE)
        _db.session.remove()
        # The former protection is back: DELETE needs the permit row.
        with pytest.raises(DBAPIError, match="append-only"):
            _db.session.execute(text("DELETE FROM access_log"))
        _db.session.rollback()
        upgrade()
        _db.session.remove()
        with pytest.raises(DBAPIError, match="append-only"):
            _db.session.execute(text("DELETE FROM access_log"))
        _db.session.rollback()
        _db.session.remove()
    assert _count(fresh_app) == 1


def test_db_downgrade_keeps_the_access_log_unless_told(fresh_app):
    with fresh_app.app_context():
        _log(_db.session, datetime.now(UTC))
        _db.session.commit()
        _db.session.remove()
    runner = fresh_app.test_cli_runner()
    for target in ("base", "20261122_rota", "20261122_initial"):
        refused = runner.invoke(args=["db", "downgrade", target])
        assert refused.exit_code == 2, refused.output
        assert "--drop-access-log" in refused.output
        assert _count(fresh_app) == 1
    allowed = runner.invoke(args=["db", "downgrade", BEFORE])
    assert allowed.exit_code == 0, allowed.output
    assert _count(fresh_app) == 1
    dropped = runner.invoke(args=["db", "downgrade", "--drop-access-log", "20261122_rota"])
    assert dropped.exit_code == 0, dropped.output
    with fresh_app.app_context():
        with pytest.raises(DBAPIError):
            _db.session.execute(text("SELECT count(*) FROM access_log"))
        _db.session.rollback()
        _db.session.remove()


@pytest.fixture()
def documented_app_role(db: Any, backend: str, database_url: str) -> Iterator[tuple[str, str]]:
    """The app role as docs/operations.md makes it: row rights on every table, nothing else."""
    if backend != "postgresql":
        pytest.skip("PostgreSQL roles")
    role = f"respijt_app_{uuid.uuid4().hex[:8]}"
    url = make_url(database_url)
    with db.engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE ROLE {role} LOGIN NOSUPERUSER")
        conn.exec_driver_sql(f"GRANT USAGE ON SCHEMA public TO {role}")
        conn.exec_driver_sql(
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}"
        )
        conn.exec_driver_sql(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {role}")
    app_url = url.set(username=role, password=None).render_as_string(hide_password=False)
    try:
        yield role, app_url
    finally:
        with db.engine.begin() as conn:
            conn.exec_driver_sql(f"DROP OWNED BY {role}")
            conn.exec_driver_sql(f"DROP ROLE {role}")


def _retention_as(url: str) -> None:
    """The scheduler's retention job in one transaction, connected as `url`'s role."""
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from respijt.privacy import retention

    engine = create_engine(url)
    try:
        with Session(engine) as session:
            retention.run_retention(
                session,
                datetime.now(UTC),
                open_request_statuses=OPEN_REQUEST_STATUSES,
                access_log_years=5,
            )
            session.commit()
    finally:
        engine.dispose()


@pytest.mark.only_on("postgresql")
def test_postgresql_retention_as_the_app_role_commits_the_rest_without_the_purge_grant(
    db, two_rows, documented_app_role, caplog
):
    from respijt.models import Complaint

    role, url = documented_app_role
    db.session.add(
        Complaint(created_at=datetime.now(UTC) - timedelta(days=800), page="/", message="oud")
    )
    db.session.commit()
    with caplog.at_level("ERROR", logger="respijt.privacy"):
        _retention_as(url)
    # The complaint past retention is gone; the access log row stays (no EXECUTE).
    assert db.session.scalar(select(func.count()).select_from(Complaint)) == 0
    assert _rows(db.session) == two_rows
    assert "GRANT EXECUTE ON FUNCTION access_log_purge" in caplog.text

    with db.engine.begin() as owner:  # the grant docs/operations.md tells the operator to run
        owner.exec_driver_sql(
            f"GRANT EXECUTE ON FUNCTION access_log_purge(timestamp without time zone) TO {role}"
        )
    _retention_as(url)
    assert _rows(db.session) == two_rows[1:]


@pytest.mark.only_on("postgresql")
def test_postgresql_purge_function_refuses_a_recent_cutoff_even_to_the_owner(db, two_rows, backend):
    for cutoff in ("infinity", datetime.now(UTC).replace(tzinfo=None)):
        with pytest.raises(DBAPIError, match="cutoff"):
            db.session.execute(
                text("SELECT access_log_purge(CAST(:cutoff AS timestamp))"), {"cutoff": cutoff}
            )
        db.session.rollback()
    recent = (datetime.now(UTC) - timedelta(days=300)).replace(tzinfo=None)
    with pytest.raises(DBAPIError, match="cutoff"):
        db.session.execute(text("SELECT access_log_purge(:cutoff)"), {"cutoff": recent})
    db.session.rollback()
    assert _rows(db.session) == two_rows


@pytest.mark.only_on("postgresql")
def test_the_cutoff_migration_goes_down_and_up_again(fresh_app, backend):
    old = datetime.now(UTC) - timedelta(days=10 * 366)
    with fresh_app.app_context():
        _log(_db.session, old)
        _log(_db.session, datetime.now(UTC))
        _db.session.commit()
        downgrade(revision=MIGRATION)
        _db.session.remove()
        recent = (datetime.now(UTC) - timedelta(days=30)).replace(tzinfo=None)
        purge_call = text("SELECT access_log_purge(:cutoff)")
        # The 0012 body is back: a recent cutoff passes (and is rolled back here).
        assert _db.session.execute(purge_call, {"cutoff": recent}).scalar_one() == 1
        _db.session.rollback()
        upgrade()
        _db.session.remove()
        with pytest.raises(DBAPIError, match="cutoff"):
            _db.session.execute(purge_call, {"cutoff": recent})
        _db.session.rollback()
        _db.session.remove()
    assert _count(fresh_app) == 2
