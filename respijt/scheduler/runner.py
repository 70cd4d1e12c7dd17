"""The scheduler service: stand by until the lease is ours, then run the jobs until it is not.

One `SchedulerService.run()` loop serves both `respijt scheduler` (main thread) and
`respijt serve` (a background thread). While leading it runs an APScheduler BlockingScheduler
(Europe/Amsterdam, coalesce, max_instances=1, misfire grace) and a heartbeat thread that renews
the lease every third of its duration. Every job run begins its transaction with the lease
guard, so a process that lost the lease writes nothing. `stop()` (SIGTERM) lets the running job
finish, then releases the lease so a standby takes over at once.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.util import undefined
from flask import Flask
from sqlalchemy import func, select

from respijt import clock
from respijt.database import OutageLog, is_unreachable, run_in_transaction
from respijt.errors import exception_summary
from respijt.extensions import db
from respijt.models import JobRun
from respijt.scheduler.jobs import JOBS, JobSpec, first_run_time
from respijt.scheduler.lease import Lease, LeaseState

log = logging.getLogger("respijt.scheduler")

MISFIRE_GRACE_SECONDS = 300


class LeaseLost(Exception):
    """The lease guard matched nothing: another process owns the lease now."""


class SchedulerService:
    def __init__(self, app: Flask, *, jobs: tuple[JobSpec, ...] = JOBS) -> None:
        self.app = app
        self.jobs = jobs
        lease_seconds = float(app.config["RESPIJT_SCHEDULER_LEASE_SECONDS"])
        with app.app_context():
            engine = db.engine
        self.lease = Lease(engine, lease_seconds=lease_seconds)
        self.heartbeat_seconds = lease_seconds / 3
        self._stop = threading.Event()
        self._lost = threading.Event()
        self._scheduler: BlockingScheduler | None = None
        self._lock = threading.Lock()
        self.leading = threading.Event()
        # While the database is away: a few log lines, jobs paused, then resumed.
        self.outage = OutageLog(log, "scheduler wacht; taken gepauzeerd")
        self.paused = threading.Event()

    # --- the loop -------------------------------------------------------------------------

    def run(self) -> None:
        """Block until stop(): stand by, lead while the lease is ours, stand by again."""
        announced_standby = False
        try:
            while not self._stop.is_set():
                try:
                    held, state = self.lease.try_acquire()
                except Exception as exc:
                    if is_unreachable(exc):
                        self.outage.failed(exc)
                    else:
                        log.error(
                            "scheduler: lease niet te lezen; opnieuw over %.1f s: %s",
                            self.heartbeat_seconds,
                            exception_summary(exc),
                        )
                    self._stop.wait(self.heartbeat_seconds)
                    continue
                self.outage.answered()
                if held:
                    announced_standby = False
                    self._lead()
                    continue
                if not announced_standby and state is not None:
                    log.info(
                        "scheduler: stand-by; lease is van %s (pid %s) tot %s",
                        state.host,
                        state.pid,
                        _local(state.expires_at),
                    )
                    announced_standby = True
                self._stop.wait(self._standby_wait(state))
        finally:
            self._release()

    def _standby_wait(self, state: LeaseState | None) -> float:
        """Poll every heartbeat, but wake just after the holder's lease would expire."""
        if state is None:
            return self.heartbeat_seconds
        until_expiry = (state.expires_at - clock.now()).total_seconds() + 0.05
        return max(0.05, min(self.heartbeat_seconds, until_expiry))

    def _lead(self) -> None:
        scheduler = BlockingScheduler(
            timezone=clock.LOCAL_TZ,
            executors={"default": ThreadPoolExecutor(max_workers=4)},
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": MISFIRE_GRACE_SECONDS,
            },
        )
        started = clock.now()
        try:
            last_started = self._last_starts()
        except Exception as exc:
            if not is_unreachable(exc):
                raise
            self.outage.failed(exc)  # the loop tries the lease again after a heartbeat
            self._stop.wait(self.heartbeat_seconds)
            return
        for spec in self.jobs:
            trigger = spec.trigger(self.app.config)
            first = first_run_time(spec, trigger, last_started.get(spec.id), started)
            scheduler.add_job(
                self.run_job,
                trigger,
                args=[spec],
                id=spec.id,
                name=spec.description,
                next_run_time=first if first is not None else undefined,
            )
        with self._lock:
            if self._stop.is_set():
                return
            self._scheduler = scheduler
        self._lost.clear()
        heartbeat = threading.Thread(
            target=self._heartbeat, name="respijt-scheduler-heartbeat", daemon=True
        )
        log.info(
            "scheduler: lease verkregen als %s; %d taken gestart", self.lease.owner, len(self.jobs)
        )
        self.leading.set()
        heartbeat.start()
        try:
            scheduler.start()  # blocks until shutdown
        finally:
            self.leading.clear()
            self.paused.clear()
            with self._lock:
                self._scheduler = None
            self._lost.set()  # ends the heartbeat
            heartbeat.join()

    def _last_starts(self) -> dict[str, datetime]:
        """The start of each job's latest successful run."""
        with self.app.app_context():
            try:
                rows = db.session.execute(
                    select(JobRun.job_id, func.max(JobRun.started_at))
                    .where(JobRun.outcome == "ok")
                    .group_by(JobRun.job_id)
                ).all()
                return {job_id: started for job_id, started in rows}
            finally:
                db.session.remove()

    def _heartbeat(self) -> None:
        while not self._lost.wait(self.heartbeat_seconds):
            if self._stop.is_set():  # stop() came before the scheduler was running
                self._shutdown_scheduler(wait=True)
                return
            try:
                renewed = self.lease.renew()
            except Exception as exc:
                if is_unreachable(exc):
                    # Nobody can take the lease while nobody reaches the database: keep it,
                    # run no jobs, and carry on when a heartbeat gets through again.
                    self.outage.failed(exc)
                    self._pause_jobs()
                else:
                    log.error("scheduler: hartslag mislukt: %s", exception_summary(exc))
                continue  # try again; the lease lasts three heartbeats
            if renewed:
                self.outage.answered()
                self._resume_jobs()
            else:
                log.warning("scheduler: lease kwijt; terug naar stand-by")
                self._shutdown_scheduler(wait=False)
                return

    def _pause_jobs(self) -> None:
        with self._lock:
            scheduler = self._scheduler
            if scheduler is not None and scheduler.running and not self.paused.is_set():
                scheduler.pause()
                self.paused.set()

    def _resume_jobs(self) -> None:
        """After an outage: jobs due meanwhile run once (coalesce). APScheduler would skip a run
        older than the misfire grace, so first the same catch-up as a new leader's applies:
        interval jobs at once, a catch-up daily job whose run was missed at once."""
        if not self.paused.is_set():
            return
        last_started: dict[str, datetime] | None
        try:
            last_started = self._last_starts()
        except Exception as exc:  # resume without the catch-up rather than stay paused
            log.error("scheduler: laatste runs niet te lezen: %s", exception_summary(exc))
            last_started = None
        now = clock.now()
        with self._lock:
            scheduler = self._scheduler
            if scheduler is not None and self.paused.is_set():
                for spec in self.jobs if last_started is not None else ():
                    trigger = spec.trigger(self.app.config)
                    last = last_started.get(spec.id) if last_started is not None else None
                    first = first_run_time(spec, trigger, last, now)
                    if first is not None and scheduler.get_job(spec.id) is not None:
                        scheduler.modify_job(spec.id, next_run_time=first)
                self.paused.clear()
                if scheduler.running:
                    scheduler.resume()

    def _shutdown_scheduler(self, wait: bool) -> None:
        """Shut the current scheduler down; if it is about to start, wait until it has."""
        while True:
            with self._lock:
                scheduler = self._scheduler
            if scheduler is None:
                return
            if scheduler.running:
                try:
                    scheduler.shutdown(wait=wait)
                except Exception:  # already stopping
                    log.debug("scheduler already stopped", exc_info=True)
                return
            time.sleep(0.01)

    def stop(self) -> None:
        """Graceful stop (SIGTERM): no new runs, let the running job finish, release the lease.

        Safe to call from a signal handler: the blocking part runs in its own thread.
        """
        self._stop.set()
        threading.Thread(
            target=self._shutdown_scheduler, args=(True,), name="respijt-scheduler-stop"
        ).start()

    def _release(self) -> None:
        try:
            if self.lease.release():
                log.info("scheduler: gestopt; lease vrijgegeven")
        except Exception as exc:
            log.error(
                "scheduler: lease vrijgeven mislukt; hij verloopt vanzelf: %s",
                exception_summary(exc),
            )

    # --- one job run ----------------------------------------------------------------------

    def run_job(self, spec: JobSpec) -> None:
        """One run: guard the lease, do the work, record the run — one transaction."""
        if self._stop.is_set():
            # Stopping: a run still queued in the pool (more jobs were due at once than it has
            # workers) must not start, or its guard would renew the lease after its release.
            return
        with self.app.app_context():
            session = db.session
            started = clock.now()

            def work() -> int:
                if not self.lease.guard(session, started):
                    raise LeaseLost()
                rows = spec.function(session, started, self.app.config)
                session.add(self._job_run(spec, started, outcome="ok", rows_affected=rows))
                return rows

            try:
                run_in_transaction(
                    session, work, retries=int(self.app.config["RESPIJT_TX_RETRIES"])
                )
            except LeaseLost:
                log.warning("scheduler: %s overgeslagen, lease is niet meer van ons", spec.id)
                self._shutdown_scheduler(wait=False)
            except Exception as exc:
                if is_unreachable(exc):
                    # Rolled back (or, if it went during COMMIT, unknown: jobs are idempotent);
                    # no failure can be recorded. The heartbeat pauses the jobs meanwhile.
                    self.outage.failed(exc)
                    return
                log.error("scheduler: taak %s mislukt: %s", spec.id, exception_summary(exc))
                self._record_failure(spec, started, exc)
            finally:
                db.session.remove()

    def _job_run(self, spec: JobSpec, started: datetime, **outcome: Any) -> JobRun:
        """The run's row: who ran it, from when until now, and `outcome` (its columns)."""
        return JobRun(
            job_id=spec.id,
            owner=self.lease.owner,
            started_at=started,
            finished_at=clock.now(),
            **outcome,
        )

    def _record_failure(self, spec: JobSpec, started: datetime, exc: BaseException) -> None:
        session = db.session
        try:
            session.rollback()
            # Not the message: a database error's text quotes the row it failed on.
            session.add(
                self._job_run(spec, started, outcome="error", error=exception_summary(exc)[:1000])
            )
            session.commit()
        except Exception as failure:
            session.rollback()
            log.error(
                "scheduler: mislukte run van %s niet vastgelegd: %s",
                spec.id,
                exception_summary(failure),
            )


def _local(moment: datetime) -> str:
    return moment.astimezone(clock.LOCAL_TZ).strftime("%Y-%m-%d %H:%M:%S")


def start_in_background(app: Flask) -> tuple[SchedulerService, threading.Thread]:
    """For `respijt serve`: the same loop in a daemon thread (stand-by if another leads)."""
    service = SchedulerService(app)
    thread = threading.Thread(target=service.run, name="respijt-scheduler", daemon=True)
    thread.start()
    return service, thread
