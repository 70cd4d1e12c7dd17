"""Fixtures: app (per database backend) → db (clean per test) → client → make_* factories.

Every test that takes `app` runs on SQLite (a file) and on PostgreSQL. Tests commit for real,
so concurrency tests see what other connections see; the `db` fixture empties every table
afterwards. Under CI=true PostgreSQL must be there; locally it is skipped when it is not.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import psycopg
import pytest
from flask import Flask, g
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import delete

from respijt import clock, create_app
from respijt.cli import fake_twilio
from respijt.extensions import db as _db
from respijt.models import Base
from respijt.privacy import access_log as privacy
from tests import factories

PG_ADMIN_DSN = os.environ.get(
    "RESPIJT_TEST_PG_DSN", "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
)
IN_CI = os.environ.get("CI", "").lower() == "true"


def _pg_available() -> str | None:
    try:
        with psycopg.connect(PG_ADMIN_DSN, connect_timeout=3):
            return None
    except psycopg.Error as exc:
        return str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)


def _backends() -> list[str]:
    wanted = os.environ.get("RESPIJT_TEST_BACKENDS", "sqlite,postgresql")
    return [b.strip() for b in wanted.split(",") if b.strip()]


@pytest.fixture(scope="session")
def pg_admin_dsn() -> str:
    return PG_ADMIN_DSN


def make_database(backend: str, tmp_dir: str) -> tuple[str, Any]:
    """A fresh empty database; returns (SQLAlchemy URL, cleanup callable)."""
    if backend == "sqlite":
        path = os.path.join(tmp_dir, f"respijt-{uuid.uuid4().hex[:8]}.db")
        return f"sqlite:///{path}", lambda: None
    problem = _pg_available()
    if problem is not None:
        if IN_CI:
            pytest.fail(f"PostgreSQL must run under CI=true but is unreachable: {problem}")
        pytest.skip(f"PostgreSQL not reachable on 127.0.0.1:5432 ({problem})")
    name = f"respijt_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    dsn = dict(part.split("=", 1) for part in PG_ADMIN_DSN.split())
    url = (
        f"postgresql+psycopg://{dsn.get('user', 'postgres')}@{dsn.get('host', '127.0.0.1')}:"
        f"{dsn.get('port', '5432')}/{name}"
    )
    return url, drop


def config_for_tests(url: str) -> dict[str, Any]:
    return {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": url,
        "SECRET_KEY": "test-secret",
        "RESPIJT_SECRET_KEY_CONFIGURED": True,
        "RESPIJT_RATELIMIT": False,
        "RESPIJT_HORIZON_DAYS": 120,
        "RESPIJT_PUBLIC_URL": "http://127.0.0.1",
        "RESPIJT_TWILIO_ACCOUNT_SID": fake_twilio.DEFAULT_ACCOUNT_SID,
        "RESPIJT_TWILIO_AUTH_TOKEN": fake_twilio.DEFAULT_AUTH_TOKEN,
        "RESPIJT_TWILIO_FROM": fake_twilio.DEFAULT_FROM,
        "RESPIJT_TWILIO_TIMEOUT_SECONDS": 0.5,
        "RESPIJT_QUIET_HOURS": "",  # tests run at any hour; quiet hours are tested on their own
    }


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A test marked `only_on("sqlite")` runs on SQLite alone: its PostgreSQL copy is
    deselected rather than skipped, so under CI=true a skip always means something is missing."""
    keep, drop = [], []
    for item in items:
        marker = item.get_closest_marker("only_on")
        callspec = getattr(item, "callspec", None)
        wanted = marker.args[0] if marker else None
        actual = callspec.params.get("backend") if callspec else None
        (drop if wanted and actual and actual != wanted else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture(scope="session", params=_backends())
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def database_url(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url, cleanup = make_database(backend, str(tmp_path_factory.mktemp("db")))
    try:
        yield url
    finally:
        cleanup()


@pytest.fixture(scope="session")
def app(database_url: str) -> Iterator[Flask]:
    application = create_app(config_for_tests(database_url))
    isolate_request_globals(application)
    with application.app_context():
        upgrade()
        _db.session.remove()
    yield application
    with application.app_context():
        _db.engine.dispose()


def isolate_request_globals(application: Flask) -> None:
    """Test requests reuse the test's pushed app context, so `g` (the API caller, Flask-Login's
    user, the CSRF token) would leak from one request into the next; production starts every
    request with an empty `g`, and so do the tests."""

    def empty_g() -> None:
        g.__dict__.clear()

    application.before_request_funcs.setdefault(None, []).insert(0, empty_g)


def empty_all_tables() -> None:
    privacy.empty_access_log_for_tests(_db.session)  # append-only: needs the purge permit
    for table in reversed(Base.metadata.sorted_tables):
        if table.name == "access_log":
            continue
        _db.session.execute(delete(table))
    _db.session.commit()


@pytest.fixture()
def db(app: Flask) -> Iterator[Any]:
    with app.app_context():
        yield _db
        _db.session.rollback()
        empty_all_tables()
        _db.session.remove()
    clock.freeze(None)


@pytest.fixture()
def client(app: Flask, db: Any) -> FlaskClient:
    return app.test_client()


@pytest.fixture()
def today() -> date:
    return clock.today()


@pytest.fixture()
def make(db: Any, app: Flask) -> factories.Factory:
    return factories.Factory(db.session, app.config)


@pytest.fixture()
def fake_twilio_server(app: Flask, client: FlaskClient) -> Iterator[fake_twilio.FakeTwilio]:
    """A fake Twilio on 127.0.0.1 that posts its callbacks through the test client.

    While it runs, RESPIJT_TWILIO_BASE_URL points at it, so the real `twilio` client talks to it.
    """
    fake = fake_twilio.FakeTwilio(
        account_sid=app.config["RESPIJT_TWILIO_ACCOUNT_SID"],
        auth_token=app.config["RESPIJT_TWILIO_AUTH_TOKEN"],
        number=app.config["RESPIJT_TWILIO_FROM"],
        app_url=app.config["RESPIJT_PUBLIC_URL"],
        timeout_delay=app.config["RESPIJT_TWILIO_TIMEOUT_SECONDS"] + 1.0,
        transport=fake_twilio.flask_client_transport(client),
        seed=7,
    )
    previous = app.config["RESPIJT_TWILIO_BASE_URL"]
    with fake:
        app.config["RESPIJT_TWILIO_BASE_URL"] = fake.url
        try:
            yield fake
        finally:
            app.config["RESPIJT_TWILIO_BASE_URL"] = previous


def nights(start: date, count: int) -> list[date]:
    return [start + timedelta(days=i) for i in range(count)]
