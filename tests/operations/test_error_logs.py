"""No client data in the server's logs when a write fails: not in a log line, not in a traceback.

A database that refuses the INSERT of a care request (a test trigger on `care_request`) stands
in for every real failure: a constraint, a lost connection at COMMIT, a full disk. The client's
name and the contact's mobile must not reach any logger (caplog at DEBUG, SQLAlchemy's own
statement log included), nor the stderr of a real `respijt serve`; the caller gets a Dutch
problem, not a traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import select

from respijt import clock
from respijt.models import JobRun
from respijt.scheduler import jobs
from respijt.scheduler.runner import SchedulerService
from tests.browser.live_server import running_server
from tests.care_request_helpers import freeze_start, json_body

CLIENT_NAME = "Quirijntje"
CONTACT_NAME = "Wilhelmina Vlasbloem"
MOBILE_TYPED = "06 18765432"
SECRETS = (CLIENT_NAME, "Vlasbloem", "18765432", "1931")

SQLITE_REFUSE = """
CREATE TRIGGER test_refuse_care_request BEFORE INSERT ON care_request
BEGIN SELECT RAISE(ABORT, 'refused by the test'); END
"""
PG_REFUSE = [
    """
    CREATE FUNCTION test_refuse_care_request() RETURNS trigger AS $$
    BEGIN RAISE EXCEPTION 'refused by the test' USING ERRCODE = 'check_violation'; END;
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER test_refuse_care_request BEFORE INSERT ON care_request
    FOR EACH ROW EXECUTE FUNCTION test_refuse_care_request()
    """,
]


@pytest.fixture()
def refusing_database(db: Any) -> Iterator[None]:
    """Every INSERT into care_request fails in the database, committed so a server sees it."""
    dialect = db.engine.dialect.name
    with db.engine.begin() as conn:
        for statement in PG_REFUSE if dialect == "postgresql" else [SQLITE_REFUSE]:
            conn.exec_driver_sql(statement)
    try:
        yield
    finally:
        db.session.rollback()
        with db.engine.begin() as conn:
            conn.exec_driver_sql(
                "DROP TRIGGER test_refuse_care_request"
                + (" ON care_request" if dialect == "postgresql" else "")
            )
            if dialect == "postgresql":
                conn.exec_driver_sql("DROP FUNCTION test_refuse_care_request()")


@pytest.fixture()
def municipality(make: Any) -> Any:
    freeze_start()
    region = make.region(code="H5", name="Haaglanden")
    municipality = make.municipality(code="GM0503", name="Delft", region=region)
    make.unit(location=make.location(municipality=municipality))
    return municipality


def _request_body(municipality: Any) -> dict[str, Any]:
    arrival = clock.today() + timedelta(days=14)
    return json_body(
        municipality,
        arrival,
        arrival + timedelta(days=3),
        client={"first_name": CLIENT_NAME, "birth_year": 1931},
        contact={"name": CONTACT_NAME, "mobile": MOBILE_TYPED},
    )


def _assert_no_client_data(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"{secret!r} in the log:\n{text[-3000:]}"


def _all_log_text(caplog: pytest.LogCaptureFixture) -> str:
    """Every record as a handler would print it, tracebacks included."""
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    return "\n".join(formatter.format(record) for record in caplog.records)


def _log_everything(caplog: pytest.LogCaptureFixture) -> None:
    """DEBUG on the root and on SQLAlchemy's loggers (which stay at WARNING unless told)."""
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="sqlalchemy")


def _assert_dutch_server_error(response: Any) -> None:
    """The API answers problem+json, a website path the Dutch error page; neither a traceback."""
    text = response.get_data(as_text=True)
    assert response.status_code == 500, text
    assert "Traceback" not in text
    if response.mimetype == "text/html":
        assert "Er ging iets mis" in text
    else:
        assert response.mimetype == "application/problem+json"
        assert response.get_json()["title"] == "Interne fout"


def test_a_failed_insert_through_the_api_logs_no_client_data(
    client, municipality, refusing_database, caplog
):
    _log_everything(caplog)
    response = client.post("/api/v1/requests", json=_request_body(municipality))
    _assert_dutch_server_error(response)
    text = _all_log_text(caplog)
    # The failure is logged, by its class and the route (not the path, not the values).
    assert "database error on POST /api/v1/requests: IntegrityError" in text, text[-2000:]
    _assert_no_client_data(text)


def test_a_failed_insert_through_the_request_form_logs_no_client_data(
    client, municipality, refusing_database, caplog
):
    from tests.web.test_web_pages import _form

    data = _form(
        client, first_name=CLIENT_NAME, contact_name=CONTACT_NAME, contact_mobile=MOBILE_TYPED
    )
    data["birth_year"] = "1931"
    _log_everything(caplog)
    response = client.post("/aanvragen", data=data)
    _assert_dutch_server_error(response)
    text = _all_log_text(caplog)
    assert "database error on POST /aanvragen" in text, text[-2000:]
    _assert_no_client_data(text)


def test_a_nul_byte_in_a_name_leaks_nothing_into_the_log(client, municipality, caplog):
    """PostgreSQL refuses NUL in text (500 or, once refused earlier, 4xx); SQLite stores it."""
    body = _request_body(municipality)
    body["client"]["first_name"] = CLIENT_NAME[:4] + "\x00" + CLIENT_NAME[4:]
    _log_everything(caplog)
    response = client.post("/api/v1/requests", json=body)
    if response.status_code >= 400:
        assert response.mimetype == "application/problem+json"
    _assert_no_client_data(_all_log_text(caplog).replace("\x00", ""))
    assert CLIENT_NAME[4:] not in _all_log_text(caplog)


def test_a_failed_insert_leaves_no_client_data_on_the_servers_stderr(
    db, database_url, municipality, refusing_database, tmp_path: Path
):
    body = _request_body(municipality)
    db.session.rollback()  # on SQLite the test's own transaction would hold the write lock
    with running_server(database_url, db, tmp_path) as base:
        api = requests.post(f"{base}/api/v1/requests", json=body, timeout=10)
        assert api.status_code == 500
        assert api.headers["Content-Type"] == "application/problem+json"
        assert api.json()["title"] == "Interne fout"
    log = (tmp_path / "server.log").read_text(errors="replace")
    assert "database error on POST /api/v1/requests: IntegrityError" in log, log[-2000:]
    _assert_no_client_data(log)


def test_a_failing_job_logs_and_records_only_the_class_of_its_error(db, app, caplog):
    service = SchedulerService(app)
    assert service.lease.try_acquire()[0] is True

    def broken(session: Any, now: Any, config: Any) -> int:
        raise RuntimeError(f"could not write {CONTACT_NAME} {MOBILE_TYPED}")

    _log_everything(caplog)
    service.run_job(jobs.JobSpec("broken", "test", broken, jobs._every("X")))
    run = db.session.scalars(select(JobRun)).one()
    assert run.outcome == "error" and run.error.startswith("RuntimeError")
    _assert_no_client_data(run.error)
    text = _all_log_text(caplog)
    assert "taak broken mislukt: RuntimeError" in text
    _assert_no_client_data(text)
