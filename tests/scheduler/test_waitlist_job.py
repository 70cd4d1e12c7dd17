"""The waitlist as a scheduled job, run by the scheduler's runner with a controllable clock.

Each run goes through `SchedulerService.run_job` (the lease guard, one transaction, a job-run
record), as the scheduler process does every RESPIJT_SCHEDULER_WAITLIST_SECONDS.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from respijt import clock
from respijt.beds.capacity import CapacityRange, publish_capacity
from respijt.claims.kpis import KpiFilter, kpi_figures
from respijt.extensions import db as _db
from respijt.models import CareRequest, JobRun, Reservation, Unit
from respijt.reservations import steps
from respijt.scheduler import jobs
from respijt.scheduler.runner import SchedulerService
from tests.care_request_helpers import STAFF, body, create, freeze_start, later, occupy


def _run(app) -> SchedulerService:
    """One run of the waitlist job at the frozen time, as the leading scheduler."""
    _db.session.rollback()  # end the test's own read: on SQLite it holds the write lock
    service = SchedulerService(app)
    assert service.lease.try_acquire()[0] is True
    service.run_job(jobs.job_by_id("offer_waitlist"))
    service.lease.release()
    return service


def _request(db, reference: str) -> CareRequest:
    return db.session.scalars(select(CareRequest).where(CareRequest.reference == reference)).one()


def _offers_to(db, reference: str) -> list[Reservation]:
    return list(
        db.session.scalars(
            select(Reservation)
            .join(CareRequest, CareRequest.id == Reservation.request_id)
            .where(CareRequest.reference == reference)
            .order_by(Reservation.id)
        )
    )


def _waiting(db, municipality, arrival: date, departure: date, **over) -> str:
    care_request = create(db.session, body(municipality, arrival, departure, **over))
    assert care_request.status == "waitlisted"
    later(hours=1)  # each next request has waited an hour less
    return care_request.reference


def _blocked_unit(db, make, municipality, arrival: date, departure: date) -> tuple[Unit, int]:
    unit = make.unit(location=make.location(municipality=municipality), capacity=1)
    blocking = occupy(db.session, unit, arrival, departure)
    return unit, blocking.id


def _cancel(db, reservation_id: int) -> None:
    reservation = db.session.get(Reservation, reservation_id)
    steps.cancel(
        db.session, reservation, party="requester", caller=STAFF, now=clock.now(), reason="ziek"
    )
    db.session.commit()


def test_the_job_is_registered_and_shows_in_the_scheduler_status(app):
    spec = jobs.job_by_id("offer_waitlist")
    assert spec.trigger(app.config).interval == timedelta(
        seconds=app.config["RESPIJT_SCHEDULER_WAITLIST_SECONDS"]
    )
    result = app.test_cli_runner().invoke(args=["scheduler", "status"])
    assert result.exit_code == 0, result.output
    assert any(line.startswith("offer_waitlist") for line in result.output.splitlines())


def test_a_cancellation_gets_the_urgent_request_an_offer_within_one_run(db, make, app):
    today = freeze_start()
    municipality = make.municipality()
    arrival, departure = today + timedelta(days=5), today + timedelta(days=8)
    _, blocking = _blocked_unit(db, make, municipality, arrival, departure)
    urgent = _waiting(db, municipality, arrival, departure, urgency="urgent")
    _run(app)
    assert _offers_to(db, urgent) == []  # nothing free yet

    _cancel(db, blocking)
    _run(app)
    [offer] = _offers_to(db, urgent)
    assert _request(db, urgent).status == "offered"
    assert offer.status == "held"
    assert offer.expires_at == clock.now() + timedelta(hours=app.config["RESPIJT_OFFER_HOURS"])
    run = db.session.scalars(select(JobRun).order_by(JobRun.id.desc())).first()
    assert run.job_id == "offer_waitlist" and run.outcome == "ok" and run.rows_affected == 1


def test_more_capacity_gets_the_urgent_request_an_offer_within_one_run(db, make, app):
    today = freeze_start()
    municipality = make.municipality()
    arrival, departure = today + timedelta(days=5), today + timedelta(days=8)
    unit, _ = _blocked_unit(db, make, municipality, arrival, departure)
    urgent = _waiting(db, municipality, arrival, departure, urgency="urgent")
    _run(app)
    assert _offers_to(db, urgent) == []

    publish_capacity(
        db.session,
        db.session.get(Unit, unit.id),
        [CapacityRange(arrival, departure, 2)],
        actor="test",
        channel="api",
        now=clock.now(),
        today=clock.today(),
        horizon_days=app.config["RESPIJT_HORIZON_DAYS"],
        max_capacity=app.config["RESPIJT_MAX_CAPACITY"],
    )
    db.session.commit()
    _run(app)
    [offer] = _offers_to(db, urgent)
    assert (offer.unit_id, offer.arrival, offer.departure) == (unit.id, arrival, departure)
    assert _request(db, urgent).status == "offered"


def test_one_bed_goes_in_the_fair_order_and_a_lapsed_offer_moves_to_the_next(db, make, app):
    today = freeze_start()
    municipality = make.municipality()
    arrival, departure = today + timedelta(days=12), today + timedelta(days=15)
    _, blocking = _blocked_unit(db, make, municipality, arrival, departure)
    oldest = _waiting(db, municipality, arrival, departure)
    younger = _waiting(db, municipality, arrival, departure)
    soon = _waiting(db, municipality, arrival, departure, urgency="soon")
    urgent = _waiting(db, municipality, arrival, departure, urgency="urgent")  # the youngest
    _cancel(db, blocking)

    served: list[str] = []
    for _ in range(4):
        _run(app)
        offered = [
            r for r in (oldest, younger, soon, urgent) if _request(db, r).status == "offered"
        ]
        assert len(offered) == 1  # one bed, one offer at a time
        served.append(offered[0])
        later(hours=app.config["RESPIJT_OFFER_HOURS"] + 1)  # unanswered: the offer lapses
    # Urgency first (spoed, binnenkort, gepland), then the longest waiting.
    assert served == [urgent, soon, oldest, younger]
    _run(app)
    assert {_request(db, r).status for r in served} == {"waitlisted"}
    assert [len(_offers_to(db, r)) for r in served] == [1, 1, 1, 1]
    assert [o.status for r in served for o in _offers_to(db, r)] == ["expired"] * 4


def test_requests_whose_dates_pass_are_closed_as_unmet_demand(db, make, app):
    today = freeze_start()
    municipality = make.municipality()
    make.unit(location=make.location(municipality=municipality), target_groups=["ggz"])
    arrival, departure = today + timedelta(days=1), today + timedelta(days=3)
    passed = [_waiting(db, municipality, arrival, departure) for _ in range(5)]
    flexible = [
        _waiting(db, municipality, arrival, departure, flexibility_days=7) for _ in range(5)
    ]
    later(days=2)
    _run(app)
    assert {_request(db, r).status for r in passed} == {"expired"}
    assert all(_request(db, r).closed_at == clock.now() for r in passed)
    assert {_request(db, r).status for r in flexible} == {"waitlisted"}  # they can still start
    figures = kpi_figures(
        db.session,
        KpiFilter(night_from=today, night_to=today + timedelta(days=1)),
        now=clock.now(),
        stale_after_hours=72,
    )
    unmet = figures["unmet_demand"]
    # Five or more per cell, so no count is suppressed.
    assert unmet["by_status"]["expired"] == 5 and unmet["by_status"]["waitlisted"] == 5
    assert unmet["total"] == 10
