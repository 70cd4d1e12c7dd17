"""Helpers for the scheduler and outbox tests: a provider that reads SMS, holds in the past."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from respijt import PROJECT_ROOT, clock
from respijt.models import Reservation, Unit
from respijt.people.caller import Caller
from respijt.reservations import holds

MELDPUNT = Caller(key="token:990", role="meldpunt", provider_id=None)
PROVIDER = Caller(key="token:991", role="provider", provider_id=None)
STAFF_MOBILE = "+31612345678"


def sms_unit(make: Any, *, capacity: int = 2, confirm: bool = True, name: str = "De Linde") -> Unit:
    """A unit whose provider registered a staff mobile, so provider messages have a recipient."""
    provider = make.provider(staff_mobiles=["06 12345678"])
    location = make.location(provider=provider, name=name)
    return make.unit(  # type: ignore[no-any-return]
        location=location, capacity=capacity, requires_provider_confirmation=confirm
    )


def hold(
    session: Any,
    unit: Unit,
    *,
    arrival: date | None = None,
    nights: int = 3,
    now: datetime | None = None,
    confirm: bool = False,
) -> Reservation:
    """Place (and optionally confirm) a hold at `now`; flushes, the caller commits."""
    at = now or clock.now()
    start = arrival or at.astimezone(clock.LOCAL_TZ).date() + timedelta(days=7)
    reservation, _ = holds.place_hold(
        session,
        unit_id=unit.id,
        arrival=start,
        departure=start + timedelta(days=nights),
        caller=MELDPUNT,
        now=at,
        today=at.astimezone(clock.LOCAL_TZ).date(),
        hold_minutes=15,
        provider_confirm_hours=24,
        confirm=confirm,
    )
    return reservation


# The scheduler subprocesses of the process and outage tests: a short lease and tick.
LEASE_SECONDS = 3.0
TICK_SECONDS = 1.0


def start_scheduler(
    database_url: str, workdir: Path, name: str, *, waitlist_seconds: float = 3600
) -> tuple[subprocess.Popen, Path]:
    """A scheduler process. The waitlist job releases lapsed holds too, so it runs only on
    taking the lead unless a test asks for it: the holds stay `expire_holds`'s to count."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "RESPIJT_INSTANCE_PATH": str(workdir),
        "RESPIJT_SECRET_KEY": "test",
        "RESPIJT_SMS_BACKEND": "console",
        # Tests run at any hour (conftest does the same for the app); after 21:00 in Amsterdam
        # the reminders below would wait for the morning.
        "RESPIJT_QUIET_HOURS": "",
        "RESPIJT_SCHEDULER_LEASE_SECONDS": str(LEASE_SECONDS),
        "RESPIJT_SCHEDULER_EXPIRE_SECONDS": str(TICK_SECONDS),
        "RESPIJT_SCHEDULER_DISPATCH_SECONDS": str(TICK_SECONDS),
        "RESPIJT_SCHEDULER_WAITLIST_SECONDS": str(waitlist_seconds),
        "PYTHONUNBUFFERED": "1",
    }
    log = workdir / f"{name}.log"
    with log.open("w") as out:  # the child keeps its own descriptor
        process = subprocess.Popen(
            [sys.executable, "-c", "from respijt.cli.commands import main; main()", "scheduler"],
            env=env,
            cwd=PROJECT_ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return process, log


def wait_for(predicate: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")
