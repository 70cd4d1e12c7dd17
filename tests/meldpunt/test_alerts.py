"""One recipient rule for every alert meant for a phone: the on-duty staff mobile, then the
backup's, then the coordinator's mobile, then e-mail to the region's coordinators; an alert that
can go nowhere is a `failed` row that /health counts, never a quiet `skipped`."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from respijt import clock
from respijt.meldpunt import alerts, generation
from respijt.messages import mail
from respijt.models import OutboxMessage
from respijt.scheduler import jobs

T0 = datetime(2027, 1, 5, 10, 0, tzinfo=clock.LOCAL_TZ)  # a Tuesday, mid-shift
LANDLINE_DUTY, LANDLINE_BACKUP = "+31151110001", "+31151110002"


def _region(db, make, *, coordinator="+31881239999", duty_mobiles=(), backup_mobiles=()):
    """A region with a weekly rota of two providers whose duty phones are landlines."""
    clock.freeze(T0)
    region = make.region()
    region.coordinator_phone = coordinator
    a = make.provider(regions=[region], pool=True, on_duty=False, duty_phone=LANDLINE_DUTY)
    b = make.provider(regions=[region], pool=True, on_duty=False, duty_phone=LANDLINE_BACKUP)
    db.session.commit()
    generation.generate_shifts(
        db.session, region.id, now=T0, horizon_days=28, pattern=generation.parse_pattern("weekly"),
        holidays=set(),
    )  # fmt: skip
    on_duty = generation.shifts_between(db.session, region.id, T0, T0 + timedelta(seconds=1))[0]
    duty, backup = (a, b) if on_duty.provider_id == a.id else (b, a)
    duty.staff_mobiles, backup.staff_mobiles = list(duty_mobiles), list(backup_mobiles)
    db.session.commit()
    return region


def _alert(db, region) -> OutboxMessage:
    alerts.send_alert(
        db.session,
        region_id=region.id,
        template="meldpunt_voicemail",
        context={"region": region.code, "caller": "+31687654321"},
        key=f"test:{region.id}",
        now=clock.now(),
    )
    db.session.commit()
    return db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.dedupe_key == f"alert:test:{region.id}")
    ).one()


def test_the_duty_staff_mobile_comes_first(db, make):
    region = _region(db, make, duty_mobiles=["06 11112222"], backup_mobiles=["06 33334444"])
    row = _alert(db, region)
    assert (row.channel, row.recipient, row.status) == ("sms", "+31611112222", "pending")


def test_then_the_backup_then_the_coordinator_mobile(db, make):
    region = _region(db, make, backup_mobiles=["06 33334444"])
    assert _alert(db, region).recipient == "+31633334444"
    region = _region(db, make, coordinator="06 55556666")
    assert _alert(db, region).recipient == "+31655556666"


def test_then_e_mail_to_the_coordinator_which_the_dispatcher_sends(db, make, app):
    region = _region(db, make)
    elsewhere = _region(db, make)
    coordinator = make.user("coordinator", regions=[region])
    make.user("coordinator", regions=[elsewhere])
    row = _alert(db, region)
    assert (row.channel, row.recipient, row.status) == ("email", coordinator.email, "pending")

    mail.outbox.clear()
    assert jobs.dispatch_outbox(db.session, clock.now(), app.config) == 1
    db.session.commit()
    [sent] = mail.outbox
    assert sent["To"] == coordinator.email
    assert "Bel +31687654321 terug" in sent.get_content()
    db.session.refresh(row)
    assert row.status == "sent"


def test_an_alert_that_can_go_nowhere_is_a_visible_failure_in_health(db, make, client):
    region = _region(db, make)  # landlines only, no coordinator account
    row = _alert(db, region)
    assert (row.status, row.error_code) == ("failed", "no_recipient")
    assert "geen mobiel nummer" in row.last_error
    assert _alert(db, region).id == row.id  # deduped: one failure per alert
    body = client.get("/health", headers=make.token("admin")).get_json()
    assert body["outbox"]["alerts_undelivered"] == 1
    assert body["outbox"]["failed"] == 1
