"""A named lease in the database: one owner at a time, renewed on a heartbeat.

Taken or renewed with one conditional UPDATE (`owner = me OR expires_at < now`), inserted on
first use. Job transactions begin with `guard()`, an UPDATE that only matches while we still
own the row: on PostgreSQL it locks the lease row until the job commits, so a standby cannot
take over mid-job; on SQLite BEGIN IMMEDIATE serializes the same way. A job whose guard fails
writes nothing.
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from respijt import clock
from respijt.database import DbSession
from respijt.models import SchedulerLease

LEASE_NAME = "scheduler"


def make_owner() -> str:
    """host:pid:uuid — the host and process an operator can find, plus a unique part."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class LeaseState:
    name: str
    owner: str
    acquired_at: datetime
    heartbeat_at: datetime
    expires_at: datetime

    @property
    def host(self) -> str:
        return self.owner.split(":")[0]

    @property
    def pid(self) -> str:
        parts = self.owner.split(":")
        return parts[1] if len(parts) > 1 else "?"

    def active(self, now: datetime) -> bool:
        return self.expires_at > now


def read_lease(connection: Connection | DbSession, name: str = LEASE_NAME) -> LeaseState | None:
    row = connection.execute(
        select(
            SchedulerLease.name,
            SchedulerLease.owner,
            SchedulerLease.acquired_at,
            SchedulerLease.heartbeat_at,
            SchedulerLease.expires_at,
        ).where(SchedulerLease.name == name)
    ).first()
    return LeaseState(*row) if row is not None else None


class Lease:
    """This process's claim on the named lease."""

    def __init__(
        self,
        engine: Engine,
        *,
        lease_seconds: float,
        name: str = LEASE_NAME,
        owner: str | None = None,
    ) -> None:
        self.engine = engine
        self.name = name
        self.owner = owner or make_owner()
        self.duration = timedelta(seconds=lease_seconds)

    def try_acquire(self) -> tuple[bool, LeaseState | None]:
        """Take or renew the lease if it is ours or has expired. Returns (held, current row)."""
        now = clock.now()
        with self.engine.begin() as conn:
            # Ours already: renew (keeps acquired_at). Otherwise take it only if it expired.
            if (
                self._renew(conn, now)
                or conn.execute(
                    update(SchedulerLease)
                    .where(SchedulerLease.name == self.name, SchedulerLease.expires_at < now)
                    .values(
                        owner=self.owner,
                        acquired_at=now,
                        heartbeat_at=now,
                        expires_at=now + self.duration,
                    )
                ).rowcount
            ):
                return True, read_lease(conn, self.name)
            current = read_lease(conn, self.name)
        if current is not None:
            return False, current
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(SchedulerLease).values(
                        name=self.name,
                        owner=self.owner,
                        acquired_at=now,
                        heartbeat_at=now,
                        expires_at=now + self.duration,
                    )
                )
        except IntegrityError:  # another process inserted first
            with self.engine.connect() as conn:
                return False, read_lease(conn, self.name)
        with self.engine.connect() as conn:
            return True, read_lease(conn, self.name)

    def _renew(self, connection: Connection | DbSession, now: datetime) -> bool:
        result = connection.execute(
            update(SchedulerLease)
            .where(SchedulerLease.name == self.name, SchedulerLease.owner == self.owner)
            .values(heartbeat_at=now, expires_at=now + self.duration)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def renew(self) -> bool:
        """Heartbeat: extend the lease if we still own it."""
        with self.engine.begin() as conn:
            return self._renew(conn, clock.now())

    def guard(self, session: DbSession, now: datetime) -> bool:
        """Inside a job's transaction: renew, and hold the lease row until that commits."""
        return self._renew(session, now)

    def release(self) -> bool:
        """Give the lease up at once (graceful shutdown), so a standby need not wait."""
        now = clock.now()
        with self.engine.begin() as conn:
            return bool(
                conn.execute(
                    update(SchedulerLease)
                    .where(SchedulerLease.name == self.name, SchedulerLease.owner == self.owner)
                    .values(expires_at=now - timedelta(microseconds=1))
                ).rowcount
            )
