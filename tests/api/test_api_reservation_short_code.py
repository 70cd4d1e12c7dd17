"""A short code that is already taken must not turn a hold into a 500 (found by bench/holds)."""

from __future__ import annotations

import itertools
from datetime import timedelta

from respijt import clock
from respijt.database import run_in_transaction
from respijt.people.caller import Caller
from respijt.reservations import holds
from respijt.reservations.check import find_inventory_mismatches


def test_a_hold_whose_short_code_is_taken_draws_another(client, make, today, monkeypatch):
    unit = make.unit(capacity=3)
    headers = make.token("meldpunt", unit.location.provider)
    codes = itertools.chain(["AAAAAA", "AAAAAA", "CCCCCC"])
    monkeypatch.setattr(holds, "_new_short_code", lambda: next(codes))
    body = {
        "unit_id": unit.id,
        "arrival": (today + timedelta(days=10)).isoformat(),
        "departure": (today + timedelta(days=12)).isoformat(),
    }

    first = client.post("/api/v1/reservations", json=body, headers=headers)
    second = client.post("/api/v1/reservations", json=body, headers=headers)

    assert first.status_code == 201, first.get_json()
    assert second.status_code == 201, second.get_json()
    assert {first.get_json()["short_code"], second.get_json()["short_code"]} == {
        "AAAAAA",
        "CCCCCC",
    }
    assert find_inventory_mismatches(make.session) == []


def test_every_caller_of_run_in_transaction_redraws_a_taken_short_code(
    db, make, today, monkeypatch
):
    """Not only the API: the meldpunt page, the waitlist and series offers place holds through
    run_in_transaction, which runs the unit again when the drawn code was taken."""
    unit = make.unit(capacity=3)
    caller = Caller(key="token:1", role="meldpunt", provider_id=unit.location.provider_id)
    codes = itertools.chain(["AAAAAA", "AAAAAA", "CCCCCC"])
    monkeypatch.setattr(holds, "_new_short_code", lambda: next(codes))

    def hold() -> str:
        reservation, _ = holds.place_hold(
            db.session,
            unit_id=unit.id,
            arrival=today + timedelta(days=10),
            departure=today + timedelta(days=12),
            caller=caller,
            now=clock.now(),
            today=today,
            hold_minutes=15,
            provider_confirm_hours=24,
        )
        return str(reservation.short_code)

    assert [run_in_transaction(db.session, hold) for _ in range(2)] == ["AAAAAA", "CCCCCC"]
    assert find_inventory_mismatches(db.session) == []
