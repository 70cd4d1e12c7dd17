"""Helpers for account tests: CSRF tokens, web login with the second factor, reservations."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pyotp

from respijt import clock
from tests.factories import TEST_PASSWORD

CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def csrf_token(client: Any, path: str) -> str:
    html = client.get(path).get_data(as_text=True)
    match = CSRF_RE.search(html)
    assert match, f"no CSRF token on {path}: {html[:300]}"
    return match.group(1)


def totp_now(user: Any) -> str:
    return str(pyotp.TOTP(user.totp_secret).at(clock.now()))


def web_login(
    client: Any, user: Any, *, second_factor: bool = True, password: str = TEST_PASSWORD
) -> Any:
    """Sign in through the forms; returns the last response."""
    response = client.post(
        "/login",
        data={
            "email": user.email,
            "password": password,
            "csrf_token": csrf_token(client, "/login"),
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    if second_factor and user.totp_confirmed_at is not None:
        response = client.post(
            "/login/2fa",
            data={"code": totp_now(user), "csrf_token": csrf_token(client, "/login/2fa")},
        )
        assert response.status_code == 302
    return response


def hold(
    client: Any,
    headers: dict[str, str],
    unit: Any,
    start: date | None = None,
    nights: int = 2,
    confirm: bool = False,
) -> dict[str, Any]:
    start = start or clock.today() + timedelta(days=10)
    response = client.post(
        "/api/v1/reservations",
        json={
            "unit_id": unit.id,
            "arrival": start.isoformat(),
            "departure": (start + timedelta(days=nights)).isoformat(),
            "confirm": confirm,
        },
        headers=headers,
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()  # type: ignore[no-any-return]
