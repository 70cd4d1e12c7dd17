"""Retention: the purge removes old access-log rows and anonymises ended stays, on a
controllable clock; --dry-run counts without changing anything. And the account CLI."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from respijt import clock
from respijt.care_requests.workflow import OPEN_REQUEST_STATUSES
from respijt.models import AccessLog, Reservation, User
from respijt.people.caller import Caller
from respijt.privacy import access_log as privacy
from tests.accounts_support import hold

CALLER = Caller("token:1", "admin")


def log_at(db, at: datetime, reference: str = "reservation:1") -> None:
    privacy.log_access(
        db.session,
        action="reservation.read",
        caller=CALLER,
        client_reference=reference,
        outcome="success",
        purpose="test",
        source=None,
        now=at,
    )


def count_log(db) -> int:
    return db.session.scalar(select(func.count()).select_from(AccessLog))


def test_purge_removes_log_rows_older_than_the_retention_years(db):
    # The real now: PostgreSQL's access_log_purge() refuses a cutoff later than a year before
    # the database's own clock, so a purge dated in the future would be refused.
    now = datetime.now(UTC).replace(month=6, day=1, hour=12, minute=0, second=0, microsecond=0)
    if now > datetime.now(UTC):
        now = now.replace(year=now.year - 1)
    five_years_before = now.replace(year=now.year - 5)
    log_at(db, now - timedelta(days=5 * 366))  # older than five years
    log_at(db, five_years_before - timedelta(minutes=1))  # five years and a minute
    log_at(db, five_years_before + timedelta(minutes=1))  # just inside
    db.session.commit()
    report = privacy.purge(
        db.session,
        now,
        dry_run=True,
        open_request_statuses=OPEN_REQUEST_STATUSES,
        access_log_years=5,
    )
    db.session.rollback()
    assert report.access_log_rows == 2 and count_log(db) == 3
    report = privacy.purge(
        db.session,
        now,
        dry_run=False,
        open_request_statuses=OPEN_REQUEST_STATUSES,
        access_log_years=5,
    )
    db.session.commit()
    assert report.access_log_rows == 2 and count_log(db) == 1
    # The permit does not outlive the purge: the log is append-only again.
    import pytest
    from sqlalchemy import delete
    from sqlalchemy.exc import DBAPIError

    with pytest.raises(DBAPIError):
        db.session.execute(delete(AccessLog))
    db.session.rollback()


def test_purge_anonymises_stays_that_ended_longer_ago_than_the_retention_days(
    client, db, make, today
):
    unit = make.unit()
    token = make.token("verwijzer")
    early = hold(client, token, unit, today + timedelta(days=3), nights=2, confirm=True)
    late = hold(client, token, unit, today + timedelta(days=30), nights=2, confirm=True)
    departure = today + timedelta(days=5)
    cutoff_day = departure + timedelta(days=365)
    now = clock.local_midnight_utc(cutoff_day) + timedelta(hours=10)
    report = privacy.purge(
        db.session,
        now,
        dry_run=True,
        open_request_statuses=OPEN_REQUEST_STATUSES,
        retention_days=365,
    )
    db.session.rollback()
    assert report.anonymised["reservation"] == 1
    db.session.expire_all()
    assert db.session.get(Reservation, early["id"]).anonymised_at is None
    report = privacy.purge(
        db.session,
        now,
        dry_run=False,
        open_request_statuses=OPEN_REQUEST_STATUSES,
        retention_days=365,
    )
    db.session.commit()
    db.session.expire_all()
    assert report.anonymised["reservation"] == 1
    assert db.session.get(Reservation, early["id"]).anonymised_at == now
    assert db.session.get(Reservation, late["id"]).anonymised_at is None
    # The facts reports need stay: unit, dates, status.
    kept = db.session.get(Reservation, early["id"])
    assert (kept.unit_id, kept.status, kept.nights) == (unit.id, "confirmed", 2)
    again = privacy.purge(
        db.session,
        now,
        dry_run=False,
        open_request_statuses=OPEN_REQUEST_STATUSES,
        retention_days=365,
    )
    assert again.anonymised["reservation"] == 0  # idempotent


def test_privacy_purge_command_dry_run_changes_nothing(app, db):
    log_at(db, clock.now() - timedelta(days=6 * 366))
    db.session.commit()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["privacy", "purge", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "1 regel van voor" in result.output and "Niets gewijzigd" in result.output
    assert count_log(db) == 1
    result = runner.invoke(args=["privacy", "purge"])
    assert result.exit_code == 0 and "heeft verwijderd" in result.output
    db.session.expire_all()
    assert count_log(db) == 0


def test_user_commands_create_list_disable_and_bind_tokens(app, db, make):
    provider = make.provider()
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "user",
            "create",
            "--email",
            "zorg@example.nl",
            "--name",
            "Zorg",
            "--role",
            "provider",
            "--role",
            "meldpunt",
            "--provider",
            str(provider.id),
        ]
    )
    assert result.exit_code == 0, result.output
    assert "Uitnodiging verstuurd" in result.output
    refused = runner.invoke(
        args=["user", "create", "--email", "x@example.nl", "--role", "verwijzer"]
    )
    assert refused.exit_code == 2 and "organisatie" in refused.output
    weak = runner.invoke(
        args=["user", "create", "--email", "w@example.nl", "--role", "admin", "--password-stdin"],
        input="wachtwoord123\n",
    )
    assert weak.exit_code == 2 and "te vaak gebruikt" in weak.output
    listing = runner.invoke(args=["user", "list"]).output
    assert "zorg@example.nl\tmeldpunt,provider" in listing and "actief" in listing
    result = runner.invoke(
        args=["token", "create", "--role", "meldpunt", "--user", "zorg@example.nl"]
    )
    assert result.exit_code == 0, result.output
    secret = result.output.strip().splitlines()[-1]
    assert (
        app.test_client()
        .get("/api/v1/reservations/1", headers={"Authorization": f"Bearer {secret}"})
        .status_code
        == 404
    )  # accepted (the reservation does not exist)
    result = runner.invoke(args=["user", "disable", "zorg@example.nl"])
    assert result.exit_code == 0
    assert "uitgeschakeld" in runner.invoke(args=["user", "list"]).output
    assert (
        app.test_client()
        .get("/api/v1/reservations/1", headers={"Authorization": f"Bearer {secret}"})
        .status_code
        == 401
    )
    db.session.expire_all()
    user = db.session.scalar(select(User).where(User.email == "zorg@example.nl"))
    assert user.disabled_at is not None


def test_token_list_and_revoke(app, db, make):
    headers = make.token("admin")
    runner = app.test_cli_runner()
    listing = runner.invoke(args=["token", "list"]).output
    token_id = listing.split("\t", 1)[0]
    assert "actief" in listing and headers["Authorization"][7:] not in listing
    assert runner.invoke(args=["token", "revoke", token_id]).exit_code == 0
    assert "ingetrokken" in runner.invoke(args=["token", "list"]).output
    assert runner.invoke(args=["token", "revoke", token_id]).exit_code == 2
    response = app.test_client().get("/api/v1/access-log?client_reference=x", headers=headers)
    assert response.status_code == 401


def test_the_scheduler_retention_job_runs_the_purge(db, app):
    from respijt.scheduler import jobs

    now = clock.now()
    log_at(db, now - timedelta(days=6 * 366))
    log_at(db, now - timedelta(days=1))
    db.session.commit()
    assert jobs.run_retention(db.session, now, app.config) == 1
    db.session.commit()
    assert count_log(db) == 1
