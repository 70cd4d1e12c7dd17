"""Pooled connections: no ping on every checkout, yet a connection that died is replaced.

The pool pings a connection only after it sat unused (respijt.database.ping_when_idle); one
killed sooner (a server restart) fails on its first statement, and run_in_transaction runs the
unit again on a fresh connection because nothing was written. PostgreSQL only: a SQLite file
connection cannot die under us.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import create_engine, func, select, text

from respijt import clock, database
from respijt.database import run_in_transaction
from respijt.errors import InvalidInput
from respijt.models import Reservation
from respijt.people.caller import Caller
from respijt.reservations import holds

# PostgreSQL only (see above): the backend fixture of tests/conftest.py with one value.
pytestmark = pytest.mark.parametrize("backend", ["postgresql"], indirect=True)


def _kill_pooled_connections(db, admin_url) -> int:
    """Terminate the backend of the connection the pool will hand out next."""
    pid = db.session.scalar(text("SELECT pg_backend_pid()"))
    db.session.commit()  # back to the pool, alive as far as the pool knows
    admin = create_engine(admin_url)
    with admin.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        conn.commit()
    admin.dispose()
    return int(pid)


@pytest.mark.parametrize("path", ["fast", "orm"])
def test_a_hold_survives_a_connection_the_server_killed(app, db, make, today, path):
    assert not app.config["SQLALCHEMY_ENGINE_OPTIONS"].get("pool_pre_ping")
    db.engine.pool.dispose()  # one connection in the pool: the one killed below
    arrival = today + timedelta(days=3)
    # "orm": a weekday the unit does not take, so place_hold explains through the ORM path.
    weekdays = str((arrival - timedelta(days=1 if path == "orm" else 0)).isoweekday())
    unit = make.unit(capacity=1, arrival_weekdays=weekdays)
    unit_id, provider_id = unit.id, unit.location.provider_id
    db.session.commit()
    killed = _kill_pooled_connections(db, db.engine.url.render_as_string(hide_password=False))
    caller = Caller(key="token:1", role="meldpunt", provider_id=provider_id)

    def work():
        return holds.place_hold(
            db.session,
            unit_id=unit_id,
            arrival=arrival,
            departure=arrival + timedelta(days=2),
            caller=caller,
            now=clock.now(),
            today=today,
            hold_minutes=15,
            provider_confirm_hours=24,
        )

    if path == "orm":
        with pytest.raises(InvalidInput):
            run_in_transaction(db.session, work)
    else:
        reservation, _ = run_in_transaction(db.session, work)
        assert reservation.status == "held"
        assert db.session.scalar(select(func.count()).select_from(Reservation)) == 1
    assert db.session.scalar(text("SELECT pg_backend_pid()")) != killed


def test_a_connection_idle_for_long_is_pinged_and_replaced(app, db, monkeypatch):
    db.engine.pool.dispose()
    killed = _kill_pooled_connections(db, db.engine.url.render_as_string(hide_password=False))
    monkeypatch.setattr(database, "PING_AFTER_IDLE_SECONDS", 0.0)
    # The checkout pings, finds it dead and hands out a new connection: no error at all.
    assert db.session.scalar(text("SELECT pg_backend_pid()")) != killed
    db.session.commit()
