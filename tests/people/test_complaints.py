"""Complaints and reactions from the public form: a database row (never a local file), removed
by the retention job after RESPIJT_COMPLAINT_RETENTION_DAYS and not before, and read by the
coordinators of their own regions with every reading in the access log."""

from __future__ import annotations

import os
from datetime import timedelta

from sqlalchemy import func, select

from respijt import clock
from respijt.models import AccessLog, Complaint
from respijt.people import feedback
from respijt.scheduler import jobs
from tests.accounts_support import web_login
from tests.browser.web_helpers import csrf_token


def _files(folder: str) -> set[str]:
    return {os.path.join(root, name) for root, _, names in os.walk(folder) for name in names}


def test_a_submitted_complaint_is_a_row_with_its_region_and_no_file(client, app, db, make):
    region = make.region("KL", name="Klachtenregio")
    make.municipality("GM0999", region=region, name="Klachtdorp")
    before = _files(app.instance_path)
    page = client.get("/klachten?gemeente=gm0999").get_data(as_text=True)
    assert 'action="/klachten?gemeente=GM0999#reactie"' in page
    empty = client.post(
        "/klachten?gemeente=GM0999", data={"csrf_token": csrf_token(page), "message": ""}
    )
    assert empty.status_code == 422
    assert db.session.scalar(select(func.count()).select_from(Complaint)) == 0
    response = client.post(
        "/klachten?gemeente=GM0999",
        data={
            "csrf_token": csrf_token(page),
            "rating": "matig",
            "message": "  Letters te klein  ",
            "page": "aanvraagformulier",
        },
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/klachten?gemeente=GM0999")
    (row,) = db.session.scalars(select(Complaint)).all()
    assert (row.message, row.rating, row.page, row.region_id) == (
        "Letters te klein",
        "matig",
        "aanvraagformulier",
        region.id,
    )
    assert abs(row.created_at - clock.now()) < timedelta(minutes=1)
    # Without a gemeente: no region; and nothing is written outside the database.
    plain = client.get("/klachten").get_data(as_text=True)
    client.post("/klachten", data={"csrf_token": csrf_token(plain), "message": "Prima"})
    regions = db.session.scalars(select(Complaint.region_id).order_by(Complaint.id)).all()
    assert regions == [region.id, None]
    assert _files(app.instance_path) == before


def test_the_retention_job_removes_complaints_after_the_period_and_not_before(app, db):
    now = clock.now()
    for days in (400, 366, 364, 1):
        feedback.store_feedback(
            db.session, now=now - timedelta(days=days), page="", message=f"{days}", rating=None
        )
    db.session.commit()

    def left(config: dict) -> list[str]:
        jobs.run_retention(db.session, now, config)
        db.session.commit()
        return sorted(db.session.scalars(select(Complaint.message)), key=int)

    assert left({**app.config, "RESPIJT_COMPLAINT_RETENTION_DAYS": 365}) == ["1", "364"]
    assert left({**app.config, "RESPIJT_COMPLAINT_RETENTION_DAYS": 365}) == ["1", "364"]
    assert left({**app.config, "RESPIJT_COMPLAINT_RETENTION_DAYS": 30}) == ["1"]


def test_the_purge_command_counts_and_removes_old_complaints(app, db):
    now = clock.now()
    feedback.store_feedback(
        db.session, now=now - timedelta(days=500), page="", message="oud", rating=None
    )
    feedback.store_feedback(db.session, now=now, page="", message="nieuw", rating=None)
    db.session.commit()
    runner = app.test_cli_runner()
    dry = runner.invoke(args=["privacy", "purge", "--dry-run"], catch_exceptions=False)
    assert "Klachten en reacties: 1 " in dry.output and "zou" in dry.output
    assert db.session.scalar(select(func.count()).select_from(Complaint)) == 2
    runner.invoke(args=["privacy", "purge"], catch_exceptions=False)
    db.session.rollback()
    assert db.session.scalars(select(Complaint.message)).all() == ["nieuw"]


def test_a_coordinator_reads_the_complaints_of_their_regions_and_the_reading_is_logged(
    client, app, db, make
):
    mine, other = make.region("MIJN", name="Mijn regio"), make.region("ANDR", name="Andere")
    make.municipality("GM0997", region=mine)
    make.municipality("GM0996", region=other)
    for code, words in (("GM0997", "Te weinig bedden"), ("GM0996", "Elders"), (None, "Zonder")):
        feedback.store_feedback(
            db.session,
            now=clock.now(),
            page="",
            message=words,
            rating="slecht",
            municipality_code=code,
        )
    db.session.commit()
    assert client.get("/coordinator/reacties").status_code == 302  # not signed in

    coordinator = make.user("coordinator", regions=[mine])
    web_login(client, coordinator)
    page = client.get("/coordinator/reacties").get_data(as_text=True)
    assert "Te weinig bedden" in page and "Mijn regio" in page and "ontevreden" in page
    assert "Elders" not in page and "Zonder" not in page
    logged = db.session.scalars(
        select(AccessLog.action).where(AccessLog.action == "complaint.read")
    ).all()
    assert logged == ["complaint.read"]

    provider_staff = app.test_client()
    web_login(provider_staff, make.user("provider", provider=make.provider()))
    assert provider_staff.get("/coordinator/reacties").status_code == 403
