"""Two real `respijt scheduler` processes on one database: work happens once, standby takes over.

Runs against the SQLite file and PostgreSQL of the `database_url` fixture, with a 3-second lease
and 1-second job intervals so the whole story takes seconds.
"""

from __future__ import annotations

import re
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from respijt import clock
from respijt.database import read_only
from respijt.messages import outbox
from respijt.models import JobRun, NightInventory, OutboxMessage, Reservation, ReservationEvent
from respijt.reservations.check import find_inventory_mismatches
from respijt.scheduler.lease import read_lease
from tests.scheduling import (
    LEASE_SECONDS,
    STAFF_MOBILE,
    TICK_SECONDS,
    hold,
    start_scheduler,
    wait_for,
)

pytestmark = pytest.mark.slow


def test_two_schedulers_do_each_job_once_and_the_standby_takes_over(db, make, tmp_path):
    session = db.session

    def read(query: Callable[[], Any]) -> Any:
        with read_only():  # deferred on SQLite: never hold the write lock while polling
            try:
                return query()
            finally:
                session.rollback()

    def holder_pid() -> str | None:
        state = read(lambda: read_lease(session))
        return state.pid if state is not None and state.active(clock.now()) else None

    unit = make.unit(capacity=100)
    processes: list[subprocess.Popen] = []
    try:
        leader, leader_log = start_scheduler(db.engine.url.render_as_string(False), tmp_path, "a")
        processes.append(leader)
        wait_for(lambda: holder_pid() == str(leader.pid), 30, "the first scheduler to lead")
        standby, standby_log = start_scheduler(db.engine.url.render_as_string(False), tmp_path, "b")
        processes.append(standby)
        wait_for(lambda: "stand-by" in standby_log.read_text(), 30, "the second to stand by")

        # 100 holds that expired 45 minutes ago and 20 messages, in one transaction.
        clock.freeze(clock.now() - timedelta(hours=1))
        holds = [hold(session, unit) for _ in range(100)]
        for n in range(20):
            outbox.queue(
                session,
                recipient=STAFF_MOBILE,
                template="location_stale_reminder",
                context={"location": f"Locatie {n}", "last_confirmed": None},
                dedupe_key=f"before-{n}",
            )
        session.commit()
        clock.freeze(None)
        assert len(holds) == 100

        def all_done() -> bool:
            expired = read(
                lambda: session.scalar(select(func.count()).where(Reservation.status == "expired"))
            )
            sent = read(
                lambda: session.scalar(select(func.count()).where(OutboxMessage.status == "sent"))
            )
            return expired == 100 and sent == 20

        wait_for(all_done, 20, "the holds to expire and the messages to go out")
        time.sleep(3 * TICK_SECONDS)  # a few more ticks with both processes alive

        runs = read(lambda: session.scalars(select(JobRun).order_by(JobRun.started_at)).all())
        assert {run.owner.split(":")[1] for run in runs} == {str(leader.pid)}
        expire_runs = [run for run in runs if run.job_id == "expire_holds"]
        assert sum(run.rows_affected for run in expire_runs) == 100
        assert max(run.rows_affected for run in expire_runs) == 100  # all in one tick
        for job_id in ("expire_holds", "dispatch_outbox"):
            starts = [run.started_at for run in runs if run.job_id == job_id]
            span = (starts[-1] - starts[0]).total_seconds()
            # One run per tick: a second scheduler running too would double the count.
            assert 3 <= len(starts) <= span / TICK_SECONDS + 1.5, (job_id, len(starts), span)
        events = read(
            lambda: session.scalar(
                select(func.count()).where(ReservationEvent.to_status == "expired")
            )
        )
        assert events == 100  # each hold released exactly once
        assert read(lambda: session.scalar(select(func.max(NightInventory.reserved)))) == 0
        assert read(lambda: find_inventory_mismatches(session)) == []

        # The leader dies without a word; messages queued now must still go out, once.
        leader.send_signal(signal.SIGKILL)
        killed_at = time.monotonic()
        leader.wait(10)
        for n in range(5):
            outbox.queue(
                session,
                recipient=STAFF_MOBILE,
                template="location_stale_reminder",
                context={"location": f"Na {n}", "last_confirmed": None},
                dedupe_key=f"after-{n}",
            )
        session.commit()
        wait_for(lambda: holder_pid() == str(standby.pid), 3 * LEASE_SECONDS, "the takeover")
        takeover = time.monotonic() - killed_at
        # Within the lease time; one heartbeat of slack for this test's own polling and load.
        assert takeover <= LEASE_SECONDS * 4 / 3, f"standby took over after {takeover:.2f} s"
        wait_for(
            lambda: (
                read(
                    lambda: session.scalar(
                        select(func.count()).where(OutboxMessage.status == "sent")
                    )
                )
                == 25
            ),
            10,
            "the standby to send the new messages",
        )

        printed = Counter(
            re.findall(r"SMS #(\d+) aan", leader_log.read_text() + standby_log.read_text())
        )
        assert len(printed) == 25 and set(printed.values()) == {1}  # every message once

        # Graceful stop: the running job finishes, the lease is released at once.
        standby.send_signal(signal.SIGTERM)
        assert standby.wait(15) == 0
        state = read(lambda: read_lease(session))
        assert state.pid == str(standby.pid) and not state.active(clock.now())
        assert "lease vrijgegeven" in standby_log.read_text()
        print(f"takeover after SIGKILL: {takeover:.2f} s (lease {LEASE_SECONDS} s)")
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait(10)
