"""/health (public up/down, details for admins), `respijt backup` and `respijt restore`."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from flask import g
from flask_migrate import upgrade
from sqlalchemy import func, select

from respijt import clock, create_app
from respijt.extensions import db as _db
from respijt.messages import outbox
from respijt.models import Region
from respijt.scheduler.lease import Lease
from tests.conftest import config_for_tests
from tests.scheduling import STAFF_MOBILE


def test_public_health_says_only_up(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}
    other = client.get("/health", headers={"Authorization": "Bearer rsp_nonsense"})
    assert other.get_json() == {"status": "ok", "database": "ok"}


def test_admin_health_names_the_lease_holder_and_outbox_backlog(client, db, make):
    now = clock.now()
    clock.freeze(now)
    for key, due in (("old", now - timedelta(minutes=30)), ("new", now)):
        outbox.queue(
            db.session,
            recipient=STAFF_MOBILE,
            template="location_stale_reminder",
            context={"location": "X", "last_confirmed": None},
            dedupe_key=key,
            send_after=due,
        )
    db.session.commit()
    admin = make.token("admin")
    body = client.get("/health", headers=admin).get_json()
    assert body["scheduler"]["status"] == "down" and body["scheduler"]["holder"] is None
    assert body["outbox"] == {"overdue": 1, "failed": 0, "pending": 2, "alerts_undelivered": 0}
    db.session.rollback()  # the client shares our session; free SQLite's write lock

    Lease(db.engine, lease_seconds=30, owner="web1:4242:abcd").try_acquire()
    clock.freeze(now + timedelta(seconds=12))
    body = client.get("/health", headers=admin).get_json()
    scheduler = body["scheduler"]
    assert (scheduler["status"], scheduler["host"], scheduler["pid"]) == ("ok", "web1", "4242")
    assert scheduler["heartbeat_age_seconds"] == 12.0 and scheduler["held_for_seconds"] == 12.0
    assert set(scheduler["last_runs"]) >= {"expire_holds", "dispatch_outbox", "retention"}
    g.pop("caller", None)  # the test client shares our app context, and with it `g`
    provider = client.get("/health", headers=make.token("coordinator")).get_json()
    assert provider == {"status": "ok", "database": "ok"}  # only admins see the details


def test_backup_copies_the_sqlite_database_and_restore_puts_it_back(app, db, make, tmp_path):
    runner = app.test_cli_runner()
    if db.engine.dialect.name != "sqlite":
        result = runner.invoke(args=["backup", str(tmp_path / "x.db")])
        assert result.exit_code == 2 and "pg_dump" in result.output
        return
    make.region(code="KEEP")
    db.session.commit()
    path = tmp_path / "backup.db"
    result = runner.invoke(args=["backup", str(path)])
    assert result.exit_code == 0, result.output
    assert "Back-up geschreven" in result.output
    with sqlite3.connect(path) as copy:
        assert copy.execute("SELECT code FROM region").fetchall() == [("KEEP",)]
    copy.close()
    again = runner.invoke(args=["backup", str(path)])
    assert again.exit_code == 1 and "bestaat al" in again.output

    make.region(code="LATER")
    db.session.commit()
    db.session.remove()
    refused = runner.invoke(args=["restore", str(path)], input="n\n")
    assert refused.exit_code != 0
    result = runner.invoke(args=["restore", str(path), "--yes"])
    assert result.exit_code == 0, result.output
    assert sorted(db.session.scalars(select(Region.code))) == ["KEEP"]
    assert db.session.scalar(select(func.count()).select_from(Region)) == 1

    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 100)
    result = runner.invoke(args=["restore", str(junk), "--yes"])
    assert result.exit_code == 1 and "geen" in result.output


def _private(path) -> bool:
    return os.stat(path).st_mode & 0o077 == 0


@pytest.mark.only_on("sqlite")
def test_backup_and_a_new_database_are_readable_by_their_owner_only(app, db, tmp_path):
    previous = os.umask(0o022)  # the usual umask: new files world-readable
    try:
        path = tmp_path / "backup.db"
        result = app.test_cli_runner().invoke(args=["backup", str(path)])
        assert result.exit_code == 0, result.output
        assert _private(path), oct(os.stat(path).st_mode)

        fresh = tmp_path / "fresh" / "respijt.db"
        fresh.parent.mkdir()
        other = create_app(config_for_tests(f"sqlite:///{fresh}"))
        with other.app_context():
            upgrade()
            _db.session.remove()
            _db.engine.dispose()
        created = [p for p in fresh.parent.iterdir()]
        assert fresh in created
        for file in created:  # the database and any -wal / -shm beside it
            assert _private(file), (file, oct(os.stat(file).st_mode))
    finally:
        os.umask(previous)


@contextmanager
def _another_process_has_it_open(path: str) -> Iterator[None]:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
            "c.execute('SELECT count(*) FROM region').fetchall(); print('open', flush=True); "
            "sys.stdin.read()",
            path,
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == b"open\n"
        yield
    finally:
        assert holder.stdin is not None and holder.stdout is not None
        holder.stdin.close()
        holder.wait(timeout=10)
        holder.stdout.close()


@pytest.mark.only_on("sqlite")
def test_restore_is_refused_while_another_process_uses_the_database(app, db, make, tmp_path):
    runner = app.test_cli_runner()
    make.region(code="KEEP")
    db.session.commit()
    backup = tmp_path / "backup.db"
    assert runner.invoke(args=["backup", str(backup)]).exit_code == 0
    make.region(code="LATER")
    db.session.commit()
    db.session.remove()

    with _another_process_has_it_open(db.engine.url.database):
        refused = runner.invoke(args=["restore", str(backup), "--yes"])
        assert refused.exit_code == 1, refused.output
        assert "in gebruik" in refused.output and "--force" in refused.output
        assert sorted(db.session.scalars(select(Region.code))) == ["KEEP", "LATER"]
        db.session.remove()

    elsewhere = Lease(db.engine, lease_seconds=60, owner="elsewhere:4242:abcd")
    assert elsewhere.try_acquire()[0] is True
    refused = runner.invoke(args=["restore", str(backup), "--yes"])
    assert refused.exit_code == 1 and "pid 4242" in refused.output, refused.output
    db.session.remove()

    forced = runner.invoke(args=["restore", str(backup), "--yes", "--force"])
    assert forced.exit_code == 0, forced.output
    assert sorted(db.session.scalars(select(Region.code))) == ["KEEP"]
