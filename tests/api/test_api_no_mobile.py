"""A family without a mobile: the request takes a landline or an e-mail address instead; the
messages become e-mails (with the link) or call-back tasks for the meldpunt (without it), never
silently dropped; without any way to reach them the request is refused beside the field."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from respijt.models import FamilyNotice, OutboxMessage
from tests.care_request_helpers import freeze_start, json_body
from tests.outbox_support import mail_as_sent


def _world(make):
    region = make.region()
    municipality = make.municipality(region=region)
    make.provider(regions=[region], pool=True)
    unit = make.unit(location=make.location(municipality=municipality))
    return municipality, unit


def test_a_landline_only_family_becomes_a_call_back_task(client, db, make):
    today = freeze_start()
    municipality, _ = _world(make)
    body = json_body(
        municipality,
        today + timedelta(days=5),
        today + timedelta(days=7),
        contact={"name": "Marja", "phone": "070 123 4567"},
    )
    created = client.post("/api/v1/requests", json=body)
    assert created.status_code == 201, created.get_data(as_text=True)
    answer = created.get_json()
    assert answer["contact"]["mobile"] is None and answer["contact"]["phone"] == "+31701234567"
    assert db.session.scalars(select(OutboxMessage)).all() == []  # no SMS to a landline
    (task,) = db.session.scalars(select(FamilyNotice)).all()
    assert (task.kind, task.status, task.template) == ("callback", "pending", "request_received")
    assert answer["reference"] in task.body and "/a/" not in task.body
    for word in ("Jan", "1941", "Marja", "ouderen", "vakantie"):
        assert word not in task.body


def test_an_email_family_gets_its_messages_with_the_link_by_email(client, db, make):
    today = freeze_start()
    municipality, unit = _world(make)
    body = json_body(
        municipality,
        today + timedelta(days=5),
        today + timedelta(days=7),
        contact={"name": "Marja", "email": "Marja@Voorbeeld.nl"},
    )
    created = client.post("/api/v1/requests", json=body).get_json()
    assert created["contact"]["email"] == "marja@voorbeeld.nl"
    (mail,) = db.session.scalars(select(FamilyNotice)).all()
    # The stored text holds a placeholder; the link is made when the e-mail goes out.
    assert mail.kind == "email" and "/a/" not in mail.body and "[link]" in mail.body
    # The link from the e-mail proves the family as the SMS link does: it may choose.
    token = mail_as_sent(db.session, mail).split("/a/", 1)[1].split()[0]
    link = {"X-Request-Token": token}
    reference = created["reference"]
    client.get(f"/api/v1/requests/{reference}/matches", headers=link)
    chosen = client.post(
        f"/api/v1/requests/{reference}/choice", json={"unit_id": unit.id}, headers=link
    )
    assert chosen.status_code == 200, chosen.get_data(as_text=True)
    offers = db.session.scalars(
        select(FamilyNotice).where(FamilyNotice.template == "request_offer")
    ).all()
    assert len(offers) == 1 and offers[0].kind == "email"


def test_no_way_to_reach_the_family_is_refused_beside_the_field(client, make):
    today = freeze_start()
    municipality, _ = _world(make)
    for contact, field in (
        ({"name": "Marja"}, "contact.mobile"),
        ({"name": "Marja", "email": "geen-adres"}, "contact.email"),
        ({"name": "Marja", "phone": "12"}, "contact.phone"),
    ):
        response = client.post(
            "/api/v1/requests",
            json=json_body(
                municipality, today + timedelta(days=5), today + timedelta(days=7), contact=contact
            ),
        )
        assert response.status_code == 422, response.get_data(as_text=True)
        names = [p["name"] for p in response.get_json()["invalidParams"]]
        assert field in names, (contact, names)


def test_the_scheduler_sends_the_family_mail_once(app, client, db, make):
    from respijt import clock
    from respijt.messages import mail
    from respijt.scheduler import jobs

    today = freeze_start()
    municipality, _ = _world(make)
    client.post(
        "/api/v1/requests",
        json=json_body(
            municipality,
            today + timedelta(days=5),
            today + timedelta(days=7),
            contact={"name": "Marja", "email": "marja@voorbeeld.nl"},
        ),
    )
    mail.outbox.clear()
    assert jobs.send_family_mail(db.session, clock.now(), app.config) == 1
    assert jobs.send_family_mail(db.session, clock.now(), app.config) == 0
    (message,) = mail.outbox
    assert message["To"] == "marja@voorbeeld.nl" and "/a/" in message.get_content()
    assert db.session.scalar(select(FamilyNotice.status)) == "sent"
    mail.outbox.clear()


def test_retention_clears_the_landline_the_address_and_the_kept_texts(client, db, make):
    from respijt import clock
    from respijt.care_requests.workflow import OPEN_REQUEST_STATUSES
    from respijt.models import CareRequest
    from respijt.privacy import access_log as privacy

    today = freeze_start()
    municipality, _ = _world(make)
    reference = client.post(
        "/api/v1/requests",
        json=json_body(
            municipality,
            today + timedelta(days=5),
            today + timedelta(days=7),
            contact={"name": "Marja", "phone": "070 123 4567", "email": "m@voorbeeld.nl"},
        ),
    ).get_json()["reference"]
    withdrawn = client.post(
        f"/api/v1/requests/{reference}/withdraw",
        json={},
        headers={
            "X-Request-Token": mail_as_sent(
                db.session, db.session.scalars(select(FamilyNotice)).first()
            ).split("/a/")[1]
        },
    )
    assert withdrawn.status_code == 200, withdrawn.get_data(as_text=True)
    later_day = today + timedelta(days=7 + 366)
    report = privacy.purge(
        db.session,
        clock.local_midnight_utc(later_day) + timedelta(hours=10),
        dry_run=False,
        open_request_statuses=OPEN_REQUEST_STATUSES,
        retention_days=365,
    )
    db.session.commit()
    assert report.anonymised["care_request"] == 1 and report.anonymised["family_notice"] >= 1
    db.session.expire_all()
    care_request = db.session.scalars(select(CareRequest)).one()
    assert (care_request.contact_phone, care_request.contact_email) == (None, None)
    assert {n.body for n in db.session.scalars(select(FamilyNotice))} == {""}
