"""A short code that is already taken must not turn a hold into a 500 (found by bench/holds)."""

from __future__ import annotations

import itertools
from datetime import timedelta

from respijt import booking


def test_a_hold_whose_short_code_is_taken_draws_another(client, make, today, monkeypatch):
    unit = make.unit(capacity=3)
    headers = make.token("meldpunt", unit.location.provider)
    codes = itertools.chain(["AAAAAA", "AAAAAA", "CCCCCC"])
    monkeypatch.setattr(booking, "_new_short_code", lambda: next(codes))
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
    assert booking.find_inventory_mismatches(make.session) == []
