"""Who may do what (workflow.WHO_MAY): the table in docs/security.md is that data, and every
refusal a role meets answers 403 problem+json and writes a denied access-log row."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from respijt import clock
from respijt.models import AccessLog, Reservation
from respijt.reservations import workflow
from tests.care_request_helpers import freeze_start, json_body

PROBLEM = "application/problem+json"
DOC = Path(__file__).resolve().parents[2] / "docs" / "security.md"


def _doc_table() -> dict[str, dict[str, str]]:
    """The role × action table of docs/security.md: {action: {role: scope}}."""
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## Who may do what", 1)[1].split("\n## ", 1)[0]
    lines = [line.strip() for line in section.splitlines() if line.strip().startswith("|")]
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    assert header[0] == "action"
    roles = header[1:]
    table: dict[str, dict[str, str]] = {}
    for line in lines[2:]:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        match = re.search(r"`([a-z_.]+)`", cells[0])
        assert match, line
        table[match.group(1)] = {
            role: cell for role, cell in zip(roles, cells[1:], strict=True) if cell != "—"
        }
    return table


def test_the_table_in_the_security_doc_is_the_workflows_data():
    table = _doc_table()
    assert table == workflow.WHO_MAY
    assert set(workflow.WHO_MAY) == set(workflow.WHO_MAY_LABELS) == set(workflow.WHO_MAY_LABELS_NL)
    for rules in workflow.WHO_MAY.values():
        assert set(rules) <= set(workflow.WHO_MAY_ROLES)
        assert set(rules.values()) <= set(workflow.SCOPES)


@pytest.fixture()
def world(make: Any, db: Any) -> dict[str, Any]:
    freeze_start()
    region = make.region()
    municipality = make.municipality(region=region)
    pool = make.provider(regions=[region], pool=True)  # on duty
    provider = make.provider(regions=[region])
    unit = make.unit(location=make.location(provider=provider, municipality=municipality))
    return {
        "municipality": municipality,
        "unit": unit,
        "meldpunt": make.token("meldpunt", pool),
        "verwijzer": make.token("verwijzer"),
        "provider": make.token("provider", provider),
        "coordinator": make.token("coordinator", regions=[region]),
        "admin": make.token("admin"),
    }


def _stay(client: Any, headers: dict[str, str], unit: Any, days: int = 10, **over: Any) -> Any:
    start = clock.today() + timedelta(days=days)
    response = client.post(
        "/api/v1/reservations",
        headers=headers,
        json={
            "unit_id": unit.id,
            "arrival": start.isoformat(),
            "departure": (start + timedelta(days=2)).isoformat(),
            **over,
        },
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def _refused(db: Any, response: Any, action: str, role: str) -> None:
    """403 problem+json, and the last access-log row is this caller's denied `action`."""
    assert response.status_code == 403, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    db.session.expire_all()
    row = db.session.scalars(select(AccessLog).order_by(AccessLog.id.desc())).first()
    assert row is not None
    assert (row.action, row.outcome, row.role) == (action, "denied", role)
    assert row.actor.startswith("token:")


@pytest.mark.parametrize("role", ["coordinator", "admin"])
def test_a_coordinator_or_admin_cannot_place_a_hold(client, db, world, role):
    start = clock.today() + timedelta(days=10)
    before = db.session.scalar(select(func.count()).select_from(Reservation))
    response = client.post(
        "/api/v1/reservations",
        headers=world[role],
        json={
            "unit_id": world["unit"].id,
            "arrival": start.isoformat(),
            "departure": (start + timedelta(days=2)).isoformat(),
        },
    )
    _refused(db, response, "reservation.create", role)
    assert db.session.scalar(select(func.count()).select_from(Reservation)) == before


@pytest.mark.parametrize("role", ["coordinator", "meldpunt"])
def test_only_the_requester_or_provider_cancels_a_verwijzers_confirmed_stay(
    client, db, world, role
):
    stay = _stay(client, world["verwijzer"], world["unit"], confirm=True)
    url = f"/api/v1/reservations/{stay['id']}"
    assert client.get(url, headers=world[role]).status_code == 200  # they may see it
    response = client.post(f"{url}/cancel", headers=world[role], json={"reason": "dubbel"})
    _refused(db, response, "reservation.cancel", role)
    assert client.get(url, headers=world["verwijzer"]).get_json()["status"] == "confirmed"
    # The verwijzer who made it may.
    mine = client.post(f"{url}/cancel", headers=world["verwijzer"], json={"reason": "opgelost"})
    assert mine.status_code == 200 and mine.get_json()["status"] == "cancelled"


def test_a_coordinator_cannot_move_a_verwijzers_stay(client, db, world):
    stay = _stay(client, world["verwijzer"], world["unit"], confirm=True)
    start = clock.today() + timedelta(days=10)
    response = client.put(
        f"/api/v1/reservations/{stay['id']}/dates",
        headers=world["coordinator"],
        json={"arrival": start.isoformat(), "departure": (start + timedelta(days=1)).isoformat()},
    )
    _refused(db, response, "reservation.change_dates", "coordinator")
    after = client.get(f"/api/v1/reservations/{stay['id']}", headers=world["verwijzer"])
    assert after.get_json()["departure"] == (start + timedelta(days=2)).isoformat()


def test_the_meldpunt_may_not_move_a_confirmed_stay_but_may_cancel_its_own_hold(client, db, world):
    stay = _stay(client, world["meldpunt"], world["unit"], confirm=True)
    start = clock.today() + timedelta(days=10)
    response = client.put(
        f"/api/v1/reservations/{stay['id']}/dates",
        headers=world["meldpunt"],
        json={"arrival": start.isoformat(), "departure": (start + timedelta(days=1)).isoformat()},
    )
    _refused(db, response, "reservation.change_dates", "meldpunt")
    hold = _stay(client, world["meldpunt"], world["unit"], days=20)
    cancelled = client.post(
        f"/api/v1/reservations/{hold['id']}/cancel", headers=world["meldpunt"], json={}
    )
    assert cancelled.status_code == 200 and cancelled.get_json()["status"] == "cancelled"


def test_a_coordinator_cannot_accept_an_offer_or_submit_a_request(client, db, world):
    arrival = clock.today() + timedelta(days=7)
    body = json_body(world["municipality"], arrival, arrival + timedelta(days=2))
    refused = client.post("/api/v1/requests", headers=world["coordinator"], json=body)
    _refused(db, refused, "care_request.create", "coordinator")
    reference = client.post("/api/v1/requests", headers=world["verwijzer"], json=body).get_json()[
        "reference"
    ]
    offer = _stay(
        client,
        world["meldpunt"],
        world["unit"],
        days=7,
        request=reference,
    )
    response = client.post(
        f"/api/v1/requests/{reference}/offers/{offer['id']}/accept", headers=world["coordinator"]
    )
    _refused(db, response, "care_request.change", "coordinator")
    state = client.get(f"/api/v1/requests/{reference}", headers=world["verwijzer"]).get_json()
    assert state["offers"][0]["status"] == "held"
    # The verwijzer whose request it is sees the offer the meldpunt made, and may cancel it.
    url = f"/api/v1/reservations/{offer['id']}"
    assert client.get(url, headers=world["verwijzer"]).status_code == 200
    declined = client.post(f"{url}/cancel", headers=world["verwijzer"], json={})
    assert declined.status_code == 200
