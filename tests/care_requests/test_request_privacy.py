"""Care requests meet accounts: one access-log row per access, coordinators scoped to their
regions, "who looked at request X" including its reservations, and retention of names, mobile
numbers and SMS."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from respijt import clock
from respijt.care_requests.workflow import OPEN_REQUEST_STATUSES
from respijt.models import AccessLog, CareRequest, InboundMessage, OutboxMessage
from respijt.people import tokens
from respijt.privacy import access_log as privacy
from tests.care_request_helpers import create, freeze_start, json_body
from tests.outbox_support import text_as_sent


def rows(db) -> list[AccessLog]:
    db.session.expire_all()
    return list(db.session.scalars(select(AccessLog).order_by(AccessLog.id)))


def coordinator_token(db, make, region) -> dict[str, str]:
    user = make.user("coordinator", regions=[region])
    _, secret = tokens.create_token(
        db.session, role="coordinator", name="t", now=clock.now(), user_id=user.id
    )
    db.session.commit()
    return {"Authorization": f"Bearer {secret}"}


def test_each_request_access_writes_one_row_and_coordinators_see_their_regions(client, db, make):
    today = freeze_start()
    region = make.region()
    municipality = make.municipality(region=region)
    pool = make.provider(regions=[region], pool=True)
    unit = make.unit(location=make.location(municipality=municipality))
    meldpunt = make.token("meldpunt", pool)
    own, other = coordinator_token(db, make, region), coordinator_token(db, make, make.region())
    arrival = today + timedelta(days=7)
    created = client.post(
        "/api/v1/requests", json=json_body(municipality, arrival, arrival + timedelta(days=3))
    )
    reference = created.get_json()["reference"]
    [row] = rows(db)
    assert (row.action, row.outcome, row.role) == ("care_request.create", "success", "public")
    assert row.client_reference == reference and row.region_id == region.id
    assert row.source == "127.0.0.1"

    before = len(rows(db))
    assert client.get(f"/api/v1/requests/{reference}", headers=own).status_code == 200
    assert len(rows(db)) == before + 1 and rows(db)[-1].action == "care_request.read"
    assert client.get(f"/api/v1/requests/{reference}", headers=other).status_code == 404
    listed = client.get("/api/v1/requests", headers=other).get_json()["items"]
    assert reference not in {r["reference"] for r in listed}

    held = client.post(
        "/api/v1/reservations",
        headers=meldpunt,
        json={
            "unit_id": unit.id,
            "arrival": arrival.isoformat(),
            "departure": (arrival + timedelta(days=3)).isoformat(),
            "request": reference,
        },
    )
    assert held.status_code == 201, held.get_data(as_text=True)
    last = rows(db)[-1]
    assert (last.action, last.client_reference) == ("reservation.create", reference)
    client.get(f"/api/v1/reservations/{held.get_json()['id']}", headers=own)
    log = client.get(f"/api/v1/access-log?client_reference={reference}", headers=own).get_json()[
        "items"
    ]
    assert [(e["action"], e["outcome"]) for e in log] == [
        ("care_request.create", "success"),
        ("care_request.read", "success"),
        ("care_request.read", "denied"),  # the other region's coordinator tried
        ("reservation.create", "success"),
        ("reservation.read", "success"),
    ]
    assert (
        client.get(f"/api/v1/access-log?client_reference={reference}", headers=other).get_json()[
            "items"
        ]
        == []
    )


def test_anonymous_request_without_credentials_is_refused_before_its_body_is_read(client):
    response = client.post("/api/v1/requests/R-XXXX/close", json={})
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"


def test_purge_clears_names_and_mobile_of_closed_requests_after_the_retention(db, make):
    today = freeze_start()
    municipality = make.municipality()
    old = create(db.session, _body(municipality, today + timedelta(days=2)))
    recent = create(db.session, _body(municipality, today + timedelta(days=200)))
    for request in (old, recent):
        request.status = "withdrawn"
        request.closed_at = clock.now()
    db.session.commit()
    now = clock.now() + timedelta(days=380)
    report = privacy.purge(
        db.session,
        now,
        dry_run=True,
        open_request_statuses=OPEN_REQUEST_STATUSES,
        retention_days=365,
    )
    db.session.rollback()
    assert report.anonymised["care_request"] == 1
    db.session.expire_all()
    assert db.session.get(CareRequest, old.id).client_name == "Jan"
    privacy.purge(
        db.session,
        now,
        dry_run=False,
        open_request_statuses=OPEN_REQUEST_STATUSES,
        retention_days=365,
    )
    db.session.commit()
    db.session.expire_all()
    gone = db.session.get(CareRequest, old.id)
    assert (gone.client_name, gone.contact_name, gone.contact_mobile) == ("", "", "")
    assert gone.anonymised_at == now and gone.birth_year == 1941  # the facts stay
    assert db.session.get(CareRequest, recent.id).contact_mobile == "+31612345678"


def test_purge_clears_the_number_and_text_of_old_sms(db):
    now = clock.now()
    old = now - timedelta(days=400)
    db.session.add_all(
        [
            OutboxMessage(
                dedupe_key="a",
                recipient="+31612345678",
                template="t",
                context={"x": 1},
                body="Beste Marja",
                status="sent",
                next_attempt_at=old,
                created_at=old,
            ),
            OutboxMessage(
                dedupe_key="b",
                recipient="+31612345679",
                template="t",
                context={},
                body="Nog niet weg",
                status="pending",
                next_attempt_at=old,
                created_at=old,
            ),
            InboundMessage(
                sid="SM1",
                from_number="+31612345678",
                to_number="+3197000",
                body="JA ABC",
                received_at=old,
                command="confirm",
                outcome="ok",
            ),
        ]
    )
    db.session.commit()
    report = privacy.purge(
        db.session,
        now,
        dry_run=False,
        open_request_statuses=OPEN_REQUEST_STATUSES,
        retention_days=365,
    )
    db.session.commit()
    assert report.anonymised["sms"] == 2
    db.session.expire_all()
    sent, pending = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.dedupe_key))
    assert (sent.recipient, sent.body, sent.context) == ("", "", {})
    assert pending.recipient == "+31612345679"  # still to be sent
    inbound = db.session.scalar(select(InboundMessage))
    assert (inbound.from_number, inbound.body) == ("", "")
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 2


def _body(municipality, arrival):
    from tests.care_request_helpers import body

    return body(municipality, arrival, arrival + timedelta(days=3))


def test_every_care_request_endpoint_writes_exactly_one_row_per_access(client, db, make):
    """Walks every /api/v1/requests route; a refusal is logged once as denied or failed."""
    today = freeze_start()
    region = make.region()
    municipality = make.municipality(region=region)
    pool = make.provider(regions=[region], pool=True)
    unit = make.unit(location=make.location(municipality=municipality), capacity=3)
    meldpunt, coordinator = make.token("meldpunt", pool), make.token("coordinator")
    verwijzer = make.token("verwijzer")
    arrival = today + timedelta(days=7)
    stay = json_body(municipality, arrival, arrival + timedelta(days=3))
    seen: set[tuple[str, str]] = set()

    def call(method, path, headers, expected_status, outcome, **kw):
        before = len(rows(db))
        response = client.open(path, method=method, headers=headers, **kw)
        assert response.status_code == expected_status, (path, response.get_data(as_text=True))
        new = rows(db)[before:]
        assert len(new) == 1, f"{method} {path} wrote {len(new)} rows"
        assert new[0].outcome == outcome, (path, new[0].action, new[0].outcome)
        template = "/".join(
            "<reference>"
            if part.startswith("R-")
            else "<int:reservation_id>"
            if part.isdigit()
            else part
            for part in path.split("?")[0].split("/")
        )
        seen.add((method, template))
        return response.get_json()

    created = call("POST", "/api/v1/requests", {}, 201, "success", json=stay)
    ref, link = created["reference"], {"X-Request-Token": created["link_token"]}
    base = f"/api/v1/requests/{ref}"
    call("GET", "/api/v1/requests", coordinator, 200, "success")
    call("GET", base, link, 200, "success")
    call("GET", base, verwijzer, 404, "denied")
    call("GET", f"{base}/matches", meldpunt, 200, "success")
    # A preference is for an option the requester was shown, not only the meldpunt.
    call("POST", f"{base}/preference", link, 422, "failed", json={"unit_id": unit.id})
    call("GET", f"{base}/matches", link, 200, "success")
    call("POST", f"{base}/preference", link, 200, "success", json={"unit_id": unit.id})
    # The form's own token may look, not hold: only the SMS link proves the phone.
    call("POST", f"{base}/choice", link, 403, "denied", json={"unit_id": unit.id})
    held = client.post(
        "/api/v1/reservations",
        headers=meldpunt,
        json={
            "unit_id": unit.id,
            "arrival": stay["arrival"],
            "departure": stay["departure"],
            "request": ref,
        },
    ).get_json()
    call("POST", f"{base}/offers/{held['id']}/decline", link, 200, "success", json={})
    held = client.post(
        "/api/v1/reservations",
        headers=meldpunt,
        json={
            "unit_id": unit.id,
            "arrival": stay["arrival"],
            "departure": stay["departure"],
            "request": ref,
        },
    ).get_json()
    call("POST", f"{base}/offers/{held['id']}/accept", link, 200, "success")
    call("POST", f"{base}/close", coordinator, 403, "denied", json={"reason": "geen plek"})
    # Placed: out of the meldpunt's view (need to know), so as if it did not exist.
    call("POST", f"{base}/series/hold", meldpunt, 404, "denied")
    call("POST", f"{base}/withdraw", link, 409, "failed", json={})  # placed already
    reason = {"reason": "Het gaat weer"}
    call("POST", f"{base}/stays/{held['id']}/cancel", link, 200, "success", json=reason)
    sms = db.session.scalar(
        select(OutboxMessage).where(OutboxMessage.template == "request_received")
    )
    sms_link = {"X-Request-Token": text_as_sent(db.session, sms).split("/a/", 1)[1].strip()}
    # Only an option shown to the family itself may be chosen (not the meldpunt's list).
    call("GET", f"{base}/matches", sms_link, 200, "success")
    call("POST", f"{base}/choice", sms_link, 200, "success", json={"unit_id": unit.id})
    routes = {
        (method, rule.rule)
        for rule in client.application.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/requests")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert routes == {(m, p if p.startswith("/api") else p) for m, p in seen}
