"""What the scheduler did last and who holds its lease (`respijt scheduler status`, /health)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from respijt import clock, formatting
from respijt.database import DbSession
from respijt.messages import outbox
from respijt.models import JobRun
from respijt.scheduler.jobs import JOBS
from respijt.scheduler.lease import LeaseState, read_lease


@dataclass(frozen=True)
class LastRun:
    job_id: str
    description: str
    run: JobRun | None


def last_runs(session: DbSession) -> list[LastRun]:
    result = []
    for spec in JOBS:
        run = session.scalar(
            select(JobRun)
            .where(JobRun.job_id == spec.id)
            .order_by(JobRun.started_at.desc(), JobRun.id.desc())
            .limit(1)
        )
        result.append(LastRun(spec.id, spec.description, run))
    return result


def _local(moment: datetime) -> str:
    return moment.astimezone(clock.LOCAL_TZ).strftime("%Y-%m-%d %H:%M:%S")


def status_lines(session: DbSession, now: datetime) -> list[str]:
    """One line per job's last run, then one naming the lease holder and its expiry (Dutch)."""
    lines = []
    width = max(len(spec.id) for spec in JOBS)
    for last in last_runs(session):
        run = last.run
        if run is None:
            lines.append(f"{last.job_id:<{width}}  nog niet gedraaid ({last.description})")
            continue
        seconds = (run.finished_at - run.started_at).total_seconds()
        outcome = "ok" if run.outcome == "ok" else f"FOUT: {run.error or run.outcome}"
        rows = (
            ""
            if run.rows_affected is None
            else f", {formatting.counted(run.rows_affected, 'rij', 'rijen')}"
        )
        lines.append(
            f"{last.job_id:<{width}}  laatst {_local(run.started_at)} ({outcome}{rows}, "
            f"{seconds:.2f} s) door {run.owner}"
        )
    lines.append(lease_line(read_lease(session), now))
    return lines


def lease_line(state: LeaseState | None, now: datetime) -> str:
    if state is None:
        return "lease: nog nooit genomen (geen scheduler gestart)"
    left = (state.expires_at - now).total_seconds()
    if left > 0:
        return (
            f"lease: {state.host} (pid {state.pid}, {state.owner}) houdt de lease; verloopt "
            f"{_local(state.expires_at)} (over {left:.0f} s), laatste hartslag "
            f"{(now - state.heartbeat_at).total_seconds():.0f} s geleden"
        )
    return (
        f"lease: vrij — laatst van {state.host} (pid {state.pid}), verlopen "
        f"{_local(state.expires_at)} ({-left:.0f} s geleden); er draait nu geen scheduler"
    )


def health_details(session: DbSession, now: datetime) -> dict[str, Any]:
    """The admin part of /health: lease holder and age, outbox counts, last runs."""
    state = read_lease(session)
    scheduler: dict[str, Any] = {"status": "down", "holder": None}
    if state is not None:
        scheduler = {
            "status": "ok" if state.active(now) else "down",
            "holder": state.owner,
            "host": state.host,
            "pid": state.pid,
            "held_since": state.acquired_at.isoformat().replace("+00:00", "Z"),
            "held_for_seconds": round((now - state.acquired_at).total_seconds(), 1),
            "heartbeat_age_seconds": round((now - state.heartbeat_at).total_seconds(), 1),
            "expires_at": state.expires_at.isoformat().replace("+00:00", "Z"),
        }
    scheduler["last_runs"] = {
        last.job_id: (
            {
                "started_at": last.run.started_at.isoformat().replace("+00:00", "Z"),
                "outcome": last.run.outcome,
                "rows_affected": last.run.rows_affected,
            }
            if last.run
            else None
        )
        for last in last_runs(session)
    }
    return {"scheduler": scheduler, "outbox": outbox.outbox_health(session, now)}
