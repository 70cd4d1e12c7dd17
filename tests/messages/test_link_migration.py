"""Rows stored before the link was made at send time (migration 20261206_outbox_link): no
stored text keeps a token; a message not sent yet goes out with a fresh link, made for the
reference its old token named."""

from __future__ import annotations

import importlib.util
import os
from datetime import timedelta
from typing import Any

from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import select

from respijt import PROJECT_ROOT, clock
from respijt.care_requests import links as request_links
from respijt.models import FamilyNotice, OutboxMessage
from respijt.scheduler import jobs
from tests.care_request_helpers import body, create, freeze_start

MIGRATION = os.path.join(
    PROJECT_ROOT, "migrations", "versions", "2026_12_06_0020_outbox_link_placeholder.py"
)


def _run_migration(db: Any) -> None:
    spec = importlib.util.spec_from_file_location("outbox_link_migration", MIGRATION)
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    connection = db.session.connection()
    with Operations.context(MigrationContext.configure(connection)):
        migration.upgrade()
    db.session.commit()
    db.session.expire_all()


def _old_row(n: int, status: str, body_text: str, **context: Any) -> OutboxMessage:
    now = clock.now()
    return OutboxMessage(
        dedupe_key=f"old:{n}",
        channel="sms",
        recipient="+31687654321",
        template="request_received",
        context=context,
        body=body_text,
        urgent=False,
        status=status,
        attempts=0 if status == "pending" else 1,
        next_attempt_at=now,
        created_at=now - timedelta(hours=1),
    )


def test_stored_links_become_the_placeholder_and_pending_ones_are_made_again(app, db, make):
    today = freeze_start()
    municipality = make.municipality()
    care_request = create(
        db.session, body(municipality, today + timedelta(days=9), today + timedelta(days=11))
    )
    reference = care_request.reference
    db.session.query(OutboxMessage).delete()
    db.session.query(FamilyNotice).delete()
    token = request_links.make_sms_token(app.secret_key, reference)
    link = f"{app.config['RESPIJT_PUBLIC_URL']}/a/{token}"
    text = f"respijt: aanvraag {reference} ontvangen. U krijgt sms bij een aanbod. Volgen: {link}"
    db.session.add_all(
        [
            _old_row(1, "pending", text, reference=reference),
            _old_row(2, "sent", text, reference=reference),
            _old_row(
                3,
                "pending",
                "respijt: de link naar uw aanvraag: https://x.nl/a/bm90LWpzb24.YWJj.ZGVm",
            ),
            _old_row(4, "skipped", "respijt: geen link hier"),
            FamilyNotice(
                dedupe_key="family:old",
                request_id=care_request.id,
                kind="email",
                template="request_received",
                body=text,
                status="sent",
                created_at=clock.now(),
            ),
        ]
    )
    db.session.commit()

    _run_migration(db)

    pending, sent, unreadable, untouched = db.session.scalars(
        select(OutboxMessage).order_by(OutboxMessage.id)
    ).all()
    placeholder = text.replace(link, "[link]")
    assert (pending.body, pending.context) == (
        placeholder,
        {"reference": reference, "link_for": reference},
    )
    assert (sent.body, sent.context) == (placeholder, {"reference": reference})
    # Nobody can make that link again: the text without it.
    assert unreadable.body == "respijt: de link naar uw aanvraag"
    assert untouched.body == "respijt: geen link hier"
    notice = db.session.scalars(select(FamilyNotice)).one()
    assert notice.body == placeholder
    everything = [m.body for m in (pending, sent, unreadable)] + [notice.body]
    assert all(token not in text_ and "/a/" not in text_ for text_ in everything)
    # The pending one goes out with a fresh link for its request.
    going_out = jobs.copy_to_send(db.session, pending).body
    fresh = going_out.rsplit("/a/", 1)[1]
    assert request_links.reference_from_token(app.secret_key, fresh, 3600) == reference
