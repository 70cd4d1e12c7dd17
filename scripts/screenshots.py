"""Screenshots of the main pages of every audience into docs/screenshots/ (Debian's chromium,
Playwright).

    .venv/bin/python scripts/screenshots.py [BASE_URL]

Without BASE_URL it starts `respijt serve --no-scheduler` on a fresh SQLite database in a
temporary folder with the demo data (`respijt demo`: regions, providers, beds, the rota), adds
made-up people (a verwijzer, a provider, the meldpunt on duty in Haaglanden, a coordinator) and
three requests for made-up clients, and photographs the public pages, the login, the provider's
month grid, the meldpunt console and a request with its matches, the verwijzer's requests, the
coordinator's rota and figures, and the mantelzorger's status page opened through its link.
With BASE_URL only the public pages (there are no known accounts there). Also prints each
page's bytes on the wire and axe findings. No SMS leaves: the server runs without scheduler.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from tests.browser.browser import PHONE, Traffic, axe_violations, launch, sign_in  # noqa: E402

OUT = os.path.join(ROOT, "docs", "screenshots")
DESKTOP = {"width": 1280, "height": 900}
SECRET_KEY = "screenshots"
PASSWORD = "Logeren-in-Delft-2026"  # of the made-up accounts in the throw-away database


def _pages(today: date) -> list[tuple[str, str, dict[str, int]]]:
    week = f"van={today + timedelta(days=7)}&tot={today + timedelta(days=14)}"
    return [
        ("home", "/", DESKTOP),
        ("beschikbaarheid", f"/beschikbaarheid?{week}&regio=H5&doelgroep=ouderen", DESKTOP),
        ("beschikbaarheid-telefoon", f"/beschikbaarheid?{week}&doelgroep=dementie", PHONE),
        ("locatie", "/locaties/1", DESKTOP),
        ("aanvragen-telefoon", "/aanvragen", PHONE),
        ("contact", "/contact", DESKTOP),
    ]


# (file name, who: a role of `_people` or None for anyone, address, viewport)
STAFF_PAGES = [
    ("login", None, "/login", DESKTOP),
    ("aanbieder-maand", "provider", "/aanbieder/eenheden/{unit_id}", DESKTOP),
    ("meldpunt", "meldpunt", "/meldpunt", DESKTOP),
    ("meldpunt-aanvraag", "meldpunt", "/meldpunt/aanvragen/{matching}", DESKTOP),
    ("verwijzer-aanvragen", "verwijzer", "/verwijzer/aanvragen", DESKTOP),
    ("coordinator-rooster", "coordinator", "/coordinator/rooster", DESKTOP),
    ("coordinator-cijfers", "coordinator", "/coordinator/cijfers", DESKTOP),
    ("mijn-aanvraag-telefoon", None, "/a/{link}", PHONE),
]


def _people(database_url: str) -> dict[str, Any]:
    """Made-up accounts and requests in Haaglanden (H5) on the demo data: logins and values
    for the addresses of STAFF_PAGES."""
    import pyotp
    from sqlalchemy import select

    from respijt import clock, create_app
    from respijt.care_requests import links as request_links
    from respijt.extensions import db
    from respijt.meldpunt import duty
    from respijt.models import Location, Municipality, Region, RotaShift, Unit
    from respijt.people import accounts
    from respijt.people.caller import caller_for_user
    from tests.browser.web_helpers import request_with_offer

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "RESPIJT_RATELIMIT": False})
    with app.app_context():
        session = db.session
        now = clock.now()
        h5 = session.scalars(select(Region).where(Region.code == "H5")).one()
        unit = session.scalars(
            select(Unit)
            .join(Location, Location.id == Unit.location_id)
            .join(Municipality, Municipality.id == Location.municipality_id)
            .where(Municipality.region_id == h5.id, Unit.requires_provider_confirmation.is_(False))
            .order_by(Unit.id)
        ).first()
        assert unit is not None
        on_duty = duty.duty_provider(session, h5.id, now)
        if on_duty is None:  # a gap in the demo rota right now: the unit's provider takes it
            on_duty = unit.location.provider
            session.add(
                RotaShift(
                    region_id=h5.id,
                    provider_id=on_duty.id,
                    starts_at=now,
                    ends_at=now + timedelta(hours=12),
                    kind="override",
                    status="active",
                    created_at=now,
                )
            )

        def person(role: str, name: str, **kw: Any) -> Any:
            user = accounts.create_user(
                session, email=f"{role}@demo.example", name=name, roles=[role], now=now, **kw
            )
            accounts.set_password(session, user, PASSWORD, now)
            if accounts.requires_second_factor(user):
                user.totp_secret = pyotp.random_base32()
                user.totp_confirmed_at = now
            return user

        users = {
            "verwijzer": person("verwijzer", "Vera Verwijzer", organisation="Wijkteam (demo)"),
            "provider": person("provider", "Piet Aanbieder", provider_id=unit.location.provider_id),
            "meldpunt": person("meldpunt", "Mila Meldpunt", provider_id=on_duty.id),
            "coordinator": person("coordinator", "Cor Coördinator", region_codes=["H5"]),
        }
        session.flush()
        asks = caller_for_user(users["verwijzer"], "verwijzer")
        offered, _ = request_with_offer(
            session, "06 12340001", unit=unit, caller=asks, client="Ans", channel="web"
        )
        matching, _ = request_with_offer(
            session, "06 12340002", unit=unit, caller=asks, client="Henk", hold=False
        )
        request_with_offer(session, "06 12340003", unit=unit, client="Riet", hold=False)
        session.commit()
        return {
            "logins": {
                role: (user.email, user.totp_secret if user.totp_confirmed_at else None)
                for role, user in users.items()
            },
            "values": {
                "unit_id": unit.id,
                "matching": matching.reference,
                "link": request_links.make_link_token(SECRET_KEY, offered.reference),
            },
        }


@contextmanager
def _server() -> Iterator[tuple[str, dict[str, Any]]]:
    import requests

    with tempfile.TemporaryDirectory() as tmp:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        env = dict(
            os.environ,
            RESPIJT_INSTANCE_PATH=tmp,
            DATABASE_URL=f"sqlite:///{tmp}/screens.db",
            RESPIJT_SECRET_KEY=SECRET_KEY,
        )
        respijt = [sys.executable, "-m", "respijt.cli.commands"]
        subprocess.run([*respijt, "db", "upgrade"], env=env, check=True, capture_output=True)
        subprocess.run([*respijt, "demo"], env=env, check=True, capture_output=True)
        cast = _people(env["DATABASE_URL"])
        proc = subprocess.Popen(
            [*respijt, "serve", "--port", str(port), "--no-scheduler"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(300):
                try:
                    if requests.get(base + "/health", timeout=1).status_code == 200:
                        break
                except requests.ConnectionError:
                    time.sleep(0.1)
            yield base, cast
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def _shoot(page: Any, traffic: Traffic, name: str, full_page: bool = True) -> None:
    page.screenshot(path=os.path.join(OUT, f"{name}.png"), full_page=full_page)
    print(f"{name}: {traffic.total()} bytes, axe: {axe_violations(page) or 'geen fouten'}")


def take(base: str, cast: dict[str, Any] | None = None) -> None:
    from playwright.sync_api import sync_playwright

    os.makedirs(OUT, exist_ok=True)
    with sync_playwright() as playwright:
        browser = launch(playwright)
        for name, path, viewport in _pages(date.today()):
            context = browser.new_context(viewport=viewport, locale="nl-NL")
            page = context.new_page()
            traffic = Traffic(base)
            traffic.watch(page)
            page.goto(base + path, wait_until="load")
            if name == "beschikbaarheid-telefoon":  # the calendar, not the form
                page.evaluate(
                    "document.getElementById('resultaten').scrollIntoView({behavior: 'instant'})"
                )
            if name == "aanvragen-telefoon":  # show the errors beside the fields
                page.get_by_role("button", name="Aanvraag versturen").click()
                page.wait_for_load_state("load")
            _shoot(page, traffic, name, full_page=name != "beschikbaarheid-telefoon")
            context.close()
        if cast is not None:
            _take_staff(browser, base, cast)
        browser.close()


def _take_staff(browser: Any, base: str, cast: dict[str, Any]) -> None:
    """One browser context per person, signed in once; the mantelzorger has no account."""
    contexts: dict[tuple[str | None, str], tuple[Any, Any, Traffic]] = {}
    for name, who, path, viewport in STAFF_PAGES:
        key = (who, str(viewport))
        if key not in contexts:
            context = browser.new_context(viewport=viewport, locale="nl-NL")
            page = context.new_page()
            traffic = Traffic(base)
            traffic.watch(page)
            if who is not None:
                email, secret = cast["logins"][who]
                sign_in(page, base, email, PASSWORD, secret)
            contexts[key] = (context, page, traffic)
        _, page, traffic = contexts[key]
        traffic.reset()
        page.goto(base + path.format(**cast["values"]), wait_until="load")
        _shoot(page, traffic, name)
    for context, _, _ in contexts.values():
        context.close()


if __name__ == "__main__":
    if len(sys.argv) > 1:
        take(sys.argv[1].rstrip("/"))
    else:
        with _server() as (base, cast):
            take(base, cast)
