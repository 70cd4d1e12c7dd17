"""Every scheduled job in one registry: id, schedule, and the thin function it runs.

Job functions take (session, now, config), call idempotent set-based domain functions and
return the number of rows they affected. They flush; the runner commits (one transaction per
run, begun with the lease guard). Later issues add their jobs to `JOBS`.

Daily jobs run at fixed local times in Europe/Amsterdam, never between 02:00 and 03:00 (that hour
is skipped or repeated when the clocks change). Intervals come from the RESPIJT_SCHEDULER_*
settings so tests can run them fast.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import delete

from respijt import clock
from respijt.beds import notices as location_notices
from respijt.beds import registry
from respijt.care_requests import no_mobile, status_link, waitlist
from respijt.care_requests.workflow import OPEN_REQUEST_STATUSES
from respijt.claims import occupancy_months
from respijt.database import DbSession
from respijt.errors import exception_summary
from respijt.meldpunt import generation, notices
from respijt.messages import mail, outbox, send_time_link
from respijt.messages.transports import get_backend
from respijt.models import JobRun, OutboxMessage
from respijt.people import login_throttle
from respijt.privacy import retention
from respijt.reservations import notices as reservation_notices
from respijt.reservations.expiry import expire_overdue_holds

log = logging.getLogger("respijt.scheduler")

Config = Mapping[str, Any]
JobFunction = Callable[[DbSession, datetime, Config], int]


@dataclass(frozen=True)
class JobSpec:
    id: str
    description: str  # Dutch, shown by `respijt scheduler status`
    function: JobFunction
    trigger: Callable[[Config], BaseTrigger]
    # Daily jobs whose missed run (scheduler down at that hour) is made up when one starts.
    catch_up: bool = False


def _every(setting: str) -> Callable[[Config], BaseTrigger]:
    def make(config: Config) -> BaseTrigger:
        return IntervalTrigger(seconds=float(config[setting]), timezone=clock.LOCAL_TZ)

    return make


class DailyAt(BaseTrigger):
    """Once a day at a local wall-clock time, computed per date in Europe/Amsterdam.

    APScheduler 3.11's CronTrigger(hour=0, ...) skips the day after the spring change (it adds
    24 hours, lands on 01:xx and rolls on to the next day; apscheduler #606). Building each
    day's time from its date cannot skip. Times in 02:00-03:00 are refused, so the missing or
    doubled hour never matters.
    """

    def __init__(self, at: time, timezone: ZoneInfo = clock.LOCAL_TZ) -> None:
        if at.hour == 2:
            raise ValueError("no scheduled job between 02:00 and 03:00 local time (DESIGN §8)")
        self.at = at
        self.timezone = timezone

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        # As CronTrigger does: the first match from just after the previous fire (or now).
        start = now
        if previous_fire_time is not None:
            start = min(now, previous_fire_time + timedelta(microseconds=1))
        day = start.astimezone(self.timezone).date()
        candidate = datetime.combine(day, self.at, tzinfo=self.timezone)
        if candidate < start:
            candidate = datetime.combine(day + timedelta(days=1), self.at, tzinfo=self.timezone)
        return candidate

    def __str__(self) -> str:
        return f"daily at {self.at:%H:%M} ({self.timezone})"


def _daily(hour: int, minute: int) -> Callable[[Config], BaseTrigger]:
    at = time(hour, minute)
    DailyAt(at)  # refuse 02:xx when the registry is built, not when the job first runs

    def make(config: Config) -> BaseTrigger:
        return DailyAt(at)

    return make


# --- the job functions ----------------------------------------------------------------------


def expire_holds(session: DbSession, now: datetime, config: Config) -> int:
    return expire_overdue_holds(session, now)


def copy_to_send(session: DbSession, message: OutboxMessage) -> OutboxMessage:
    """What the backend gets of a claimed row: a plain copy, with the family's signed link
    made now for this attempt (the row only ever holds its placeholder)."""
    return send_time_link.with_send_time_link(
        outbox.unattached_copy(message, session),
        lambda reference: status_link.link_when_sent(session, reference),
    )


def dispatch_outbox(session: DbSession, now: datetime, config: Config) -> int:
    """Send due messages one at a time: claim one and commit, send it, record the outcome.

    Quiet hours first hold back non-urgent messages; messages to numbers that texted STOP are
    skipped (the row says why). Each claim commits just before its own send, so the backend
    never sees a message twice, and a crash leaves only the message in flight `sending` (to be
    reconciled after RESPIJT_OUTBOX_SENDING_TIMEOUT_SECONDS); the others are still `pending`
    and go out with the next run. Each result is committed on its own.
    """
    backend = get_backend(config)
    try:
        policy = outbox.RetryPolicy.from_config(config)
        batch = int(config["RESPIJT_OUTBOX_BATCH"])
        outbox.defer_for_quiet_hours(session, now, config.get("RESPIJT_QUIET_HOURS"))
        due = outbox.due_ids(session, now, limit=batch)
        session.commit()
        sent = 0
        for message_id in due:
            claimed = outbox.claim(session, message_id, clock.now())
            to_send = outbox.skip_opted_out(session, [claimed], now) if claimed else []
            # A plain copy: reading it while sending starts no transaction (on SQLite that
            # would hold the write lock through a slow HTTP call and block the webhooks).
            message = copy_to_send(session, to_send[0]) if to_send else None
            session.commit()
            if message is None:
                continue  # another dispatcher took it, or the recipient opted out
            try:
                if message.channel == "email":
                    result = mail.send_outbox_mail(mail.MailSettings.from_config(config), message)
                else:
                    result = backend.send(message)
            except Exception as exc:
                # Unknown whether it went out: leave it 'sending'; release_stuck_messages puts
                # it back for reconciliation after RESPIJT_OUTBOX_SENDING_TIMEOUT_SECONDS.
                log.error(
                    "outbox: bericht %s: verzenden onderbroken: %s",
                    message_id,
                    exception_summary(exc),
                )
                continue
            status = outbox.record_result(session, message_id, result, clock.now(), policy)
            session.commit()
            sent += status in ("sent", "delivered")
        return sent
    finally:
        close = getattr(backend, "close", None)
        if close is not None:
            close()


def send_family_mail(session: DbSession, now: datetime, config: Config) -> int:
    """E-mail the messages for families without a mobile (care_requests/no_mobile.py) through
    the mail backend: each marked sent and committed before it goes (at most once; a failed
    send is marked failed and logged by its id, and shows on the request's page)."""
    settings = mail.MailSettings.from_config(config)
    sent = 0
    for notice in no_mobile.pending_mail(session):
        address = notice.care_request.contact_email
        notice_id, body = notice.id, no_mobile.mail_text(session, notice)
        notice.status = "sent" if address else "failed"
        notice.done_at = now
        session.commit()
        if not address:
            continue
        try:
            mail.send_mail(settings, address, no_mobile.SUBJECT, body)
        except Exception as exc:
            log.error("family mail %s: not sent: %s", notice_id, exception_summary(exc))
            no_mobile.mark_failed(session, notice_id)
            session.commit()
            continue
        sent += 1
    return sent


def release_stuck_messages(session: DbSession, now: datetime, config: Config) -> int:
    timeout = timedelta(seconds=float(config["RESPIJT_OUTBOX_SENDING_TIMEOUT_SECONDS"]))
    return outbox.release_stuck(session, now, timeout)


def remind_arrivals(session: DbSession, now: datetime, config: Config) -> int:
    return reservation_notices.remind_arrivals_tomorrow(session, now=now)


def extend_horizon(session: DbSession, now: datetime, config: Config) -> int:
    today = now.astimezone(clock.LOCAL_TZ).date()
    return registry.extend_horizon(
        session, today=today, horizon_days=int(config["RESPIJT_HORIZON_DAYS"])
    )


def remind_stale_locations(session: DbSession, now: datetime, config: Config) -> int:
    return location_notices.remind_stale_locations(
        session, now=now, stale_after_hours=int(config["RESPIJT_STALE_AFTER_HOURS"])
    )


def run_retention(session: DbSession, now: datetime, config: Config) -> int:
    keep = timedelta(days=int(config["RESPIJT_JOB_RUN_KEEP_DAYS"]))
    old_runs = session.execute(delete(JobRun).where(JobRun.started_at < now - keep))
    purged = retention.run_retention(
        session,
        now,
        open_request_statuses=OPEN_REQUEST_STATUSES,
        access_log_years=int(config["RESPIJT_ACCESS_LOG_YEARS"]),
        retention_days=int(config["RESPIJT_RETENTION_DAYS"]),
        complaint_retention_days=int(config["RESPIJT_COMPLAINT_RETENTION_DAYS"]),
    )
    forgotten = login_throttle.purge(session, now)
    return purged + forgotten + int(old_runs.rowcount)  # type: ignore[attr-defined]


def offer_waitlist(session: DbSession, now: datetime, config: Config) -> int:
    """One waitlist pass: lapsed holds released, passed requests closed, freed beds offered."""
    return waitlist.run_waitlist(
        session,
        now,
        offer_hours=float(config["RESPIJT_OFFER_HOURS"]),
        stale_after_hours=int(config["RESPIJT_STALE_AFTER_HOURS"]),
        provider_confirm_hours=float(config["RESPIJT_PROVIDER_CONFIRM_HOURS"]),
    ).rows


def generate_rota(session: DbSession, now: datetime, config: Config) -> int:
    """Extend every region's rota to the horizon, then report gaps to the coordinators."""
    horizon = int(config["RESPIJT_ROTA_HORIZON_DAYS"])
    created = generation.generate_all(
        session,
        now=now,
        horizon_days=horizon,
        pattern=generation.parse_pattern(config.get("RESPIJT_ROTA_PATTERN")),
        holiday_setting=config.get("RESPIJT_ROTA_HOLIDAYS"),
    )
    return created + notices.alert_gaps(session, now=now, horizon_days=horizon)


def count_month_occupancy(session: DbSession, now: datetime, config: Config) -> int:
    return occupancy_months.count_next_month(session, now)


def remind_rota(session: DbSession, now: datetime, config: Config) -> int:
    return notices.send_reminders(session, now=now)


JOBS: tuple[JobSpec, ...] = (
    JobSpec(
        "expire_holds",
        "verlopen holds en wachtende reserveringen vrijgeven",
        expire_holds,
        _every("RESPIJT_SCHEDULER_EXPIRE_SECONDS"),
    ),
    JobSpec(
        "dispatch_outbox",
        "berichten uit de outbox versturen",
        dispatch_outbox,
        _every("RESPIJT_SCHEDULER_DISPATCH_SECONDS"),
    ),
    JobSpec(
        "send_family_mail",
        "berichten per e-mail aan families zonder mobiel",
        send_family_mail,
        _every("RESPIJT_SCHEDULER_DISPATCH_SECONDS"),
    ),
    JobSpec(
        "release_stuck_messages",
        "onderbroken verzendingen terugzetten om na te gaan",
        release_stuck_messages,
        _every("RESPIJT_SCHEDULER_EXPIRE_SECONDS"),
    ),
    JobSpec(
        "offer_waitlist",
        "wachtlijst: vrijgekomen bedden aanbieden, verlopen aanvragen sluiten",
        offer_waitlist,
        _every("RESPIJT_SCHEDULER_WAITLIST_SECONDS"),
    ),
    JobSpec(
        "count_month_occupancy",
        "leegstandcijfers van een voorbije maand tellen en bewaren",
        count_month_occupancy,
        _every("RESPIJT_SCHEDULER_MONTH_FIGURES_SECONDS"),
    ),
    JobSpec(
        "extend_horizon",
        "nachtvoorraad aanvullen tot de horizon",
        extend_horizon,
        _daily(0, 15),
        catch_up=True,
    ),
    JobSpec(
        "remind_stale_locations",
        "locaties met verouderde beschikbaarheid herinneren",
        remind_stale_locations,
        _daily(9, 0),
    ),
    JobSpec(
        "remind_arrivals",
        "herinnering sturen voor aankomst morgen",
        remind_arrivals,
        _daily(10, 0),
    ),
    JobSpec(
        "retention",
        "bewaartermijnen toepassen",
        run_retention,
        _daily(3, 30),
        catch_up=True,
    ),
    JobSpec(
        "generate_rota",
        "meldpuntrooster aanvullen tot de horizon en gaten melden",
        generate_rota,
        _daily(0, 45),
        catch_up=True,
    ),
    JobSpec(
        "remind_rota",
        "herinneringen voor meldpuntdiensten versturen",
        remind_rota,
        _every("RESPIJT_SCHEDULER_ROTA_REMIND_SECONDS"),
    ),
)


def first_run_time(
    spec: JobSpec, trigger: BaseTrigger, last_started: datetime | None, now: datetime
) -> datetime | None:
    """When a newly leading scheduler should first run `spec`; None: just follow the trigger.

    Interval jobs run at once (a takeover catches up on expiry and messages). A catch-up daily
    job runs at once if its latest scheduled time passed without a run, but never in 02:00-03:00.
    Reminders are not caught up: an SMS at the hour the scheduler happened to start is worse.
    """
    if isinstance(trigger, IntervalTrigger):
        return now
    if not spec.catch_up:
        return None
    due = trigger.get_next_fire_time(None, now - timedelta(days=1))
    if due is None or due > now or (last_started is not None and last_started >= due):
        return None
    local = now.astimezone(clock.LOCAL_TZ)
    if local.hour == 2:
        return datetime.combine(local.date(), time(3, 0), tzinfo=clock.LOCAL_TZ)
    return now


def job_by_id(job_id: str) -> JobSpec:
    for spec in JOBS:
        if spec.id == job_id:
            return spec
    raise KeyError(job_id)
