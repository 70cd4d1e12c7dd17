"""Two real `respijt scheduler` processes run the waitlist: each offer is made and sent once.

The waitlist job runs every second under the lease; the leader is killed halfway, and the
stand-by offers the beds freed after that, again once each.
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
from respijt.models import CareRequest, JobRun, OutboxMessage, Reservation
from respijt.reservations import steps
from respijt.scheduler.lease import read_lease
from tests.care_request_helpers import STAFF, body, create, occupy
from tests.scheduling import LEASE_SECONDS, TICK_SECONDS, start_scheduler, wait_for

pytestmark = pytest.mark.slow


def test_two_schedulers_make_each_waitlist_offer_once(db, make, tmp_path):
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

    def offered() -> int:
        return read(
            lambda: session.scalar(
                select(func.count()).select_from(CareRequest).where(CareRequest.status == "offered")
            )
        )

    today = clock.today()
    arrival, departure = today + timedelta(days=10), today + timedelta(days=12)
    municipality = make.municipality()
    blocks = []
    for _ in range(6):
        unit = make.unit(location=make.location(municipality=municipality), capacity=1)
        blocks.append(occupy(session, unit, arrival, departure).id)
    references = [
        create(session, body(municipality, arrival, departure)).reference for _ in range(6)
    ]
    assert read(
        lambda: set(
            session.scalars(select(CareRequest.status).where(CareRequest.reference.in_(references)))
        )
    ) == {"waitlisted"}

    def free(reservation_ids: list[int]) -> None:
        for reservation_id in reservation_ids:
            reservation = session.get(Reservation, reservation_id)
            steps.cancel(
                session, reservation, party="requester", caller=STAFF, now=clock.now(), reason="x"
            )
        session.commit()

    url = db.engine.url.render_as_string(False)
    processes: list[subprocess.Popen] = []
    try:
        leader, leader_log = start_scheduler(url, tmp_path, "a", waitlist_seconds=TICK_SECONDS)
        processes.append(leader)
        wait_for(lambda: holder_pid() == str(leader.pid), 30, "the first scheduler to lead")
        standby, standby_log = start_scheduler(url, tmp_path, "b", waitlist_seconds=TICK_SECONDS)
        processes.append(standby)
        wait_for(lambda: "stand-by" in standby_log.read_text(), 30, "the second to stand by")

        free(blocks[:3])
        wait_for(lambda: offered() == 3, 20, "three offers from the leader")
        time.sleep(3 * TICK_SECONDS)  # a few more runs with both processes alive
        assert offered() == 3

        leader.send_signal(signal.SIGKILL)
        leader.wait(10)
        wait_for(lambda: holder_pid() == str(standby.pid), 3 * LEASE_SECONDS, "the takeover")
        free(blocks[3:])
        wait_for(lambda: offered() == 6, 20, "three more offers from the stand-by")
        time.sleep(3 * TICK_SECONDS)

        per_request = read(
            lambda: Counter(
                session.scalars(
                    select(CareRequest.reference)
                    .join(Reservation, Reservation.request_id == CareRequest.id)
                    .where(Reservation.status == "held")
                )
            )
        )
        assert per_request == Counter(references)  # every request one offer, none twice
        runs = read(
            lambda: session.scalars(
                select(JobRun).where(JobRun.job_id == "offer_waitlist").order_by(JobRun.id)
            ).all()
        )
        assert sum(run.rows_affected for run in runs) == 6
        owners = [run.owner.split(":")[1] for run in runs]
        switch = owners.index(str(standby.pid))
        assert set(owners[:switch]) == {str(leader.pid)}
        assert set(owners[switch:]) == {str(standby.pid)}  # never both at once

        offers = read(
            lambda: session.scalars(
                select(OutboxMessage.id).where(OutboxMessage.template == "request_offer")
            ).all()
        )
        assert len(offers) == 6
        wait_for(
            lambda: (
                read(
                    lambda: session.scalar(
                        select(func.count()).where(
                            OutboxMessage.template == "request_offer",
                            OutboxMessage.status == "sent",
                        )
                    )
                )
                == 6
            ),
            10,
            "the offers to go out",
        )
        printed = Counter(
            re.findall(r"SMS #(\d+) aan", leader_log.read_text() + standby_log.read_text())
        )
        assert {int(n) for n in printed} >= set(offers)
        assert all(printed[str(n)] == 1 for n in offers)  # each offer's SMS sent once
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait(10)
