"""The family on a phone (375 px), through the link of the SMS a phone request sends: sees the
fitting places with the reasons, chooses one (held at once), accepts, sees where to go and what
to bring, and later cancels with a reason. axe-clean, under 200 KB, nothing from another
origin, no horizontal scroll on every page of the journey."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from respijt import clock
from respijt.care_requests import links as request_links
from respijt.cli.demo import load_demo
from respijt.models import OutboxMessage, Reservation
from tests.browser.browser import (
    PAGE_BUDGET_BYTES,
    PHONE,
    Traffic,
    axe_violations,
    chromium_missing,
    launch,
)
from tests.browser.live_server import running_server
from tests.browser.web_helpers import request_with_offer

MISSING = chromium_missing()
if MISSING and os.environ.get("CI", "").lower() == "true":
    pytest.fail(f"browser tests must run under CI=true: {MISSING}", pytrace=False)
pytestmark = pytest.mark.skipif(MISSING is not None, reason=f"browser tests skipped: {MISSING}")
SQLITE_ONLY = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
SECRET = "browser-test"


@pytest.fixture()
def server(database_url: str, db: Any, tmp_path: Any) -> Iterator[str]:
    load_demo(db.session, now=clock.now(), today=clock.today(), horizon_days=45)
    db.session.commit()
    with running_server(database_url, db, tmp_path, RESPIJT_SECRET_KEY=SECRET) as base:
        yield base


@pytest.fixture()
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch(playwright)
        try:
            yield chromium
        finally:
            chromium.close()


def _check(page: Any, traffic: Traffic, what: str) -> None:
    violations = axe_violations(page)
    assert violations == [], f"{what}: {violations}"
    assert traffic.total() < PAGE_BUDGET_BYTES, f"{what}: {traffic.total()} bytes"
    assert traffic.foreign == [], f"{what}: {traffic.foreign}"
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], what


def _submit(page: Any, traffic: Traffic, button: Any) -> None:
    traffic.reset()
    button.click()
    page.wait_for_load_state("load")


@SQLITE_ONLY
def test_family_chooses_accepts_and_cancels_through_the_sms_link_on_a_phone(server, browser, db):
    care_request, _ = request_with_offer(db.session, hold=False, channel="phone")
    reference = care_request.reference
    db.session.commit()
    # The phone request's SMS carries the family's link (made with the test app's secret; the
    # server signs with its own, so the same link is made here with the server's).
    sms = db.session.scalar(
        select(OutboxMessage.body).where(
            OutboxMessage.template == "request_received", OutboxMessage.body.contains(reference)
        )
    )
    assert sms is not None and "[link]" in sms and "/a/" not in sms  # made when sent
    token = request_links.make_sms_token(SECRET, reference)
    db.session.rollback()  # release SQLite: the server writes next

    context = browser.new_context(viewport=PHONE, locale="nl-NL")
    page = context.new_page()
    traffic = Traffic(server)
    traffic.watch(page)
    page.goto(f"{server}/a/{token}", wait_until="load")
    assert page.url.endswith("/mijn-aanvraag")
    _check(page, traffic, "options")
    options = page.get_by_test_id("optie")
    assert options.count() >= 1
    first = options.first
    text = first.inner_text()
    assert "Waarom: past bij" in text and "Aanbieder:" in text
    assert re.search(r"gegevens (van vandaag|\d+ dag)", text)
    place = first.locator("strong").first.inner_text()

    _submit(page, traffic, first.get_by_role("button", name=re.compile("Kies deze plek")))
    assert "We houden deze plek voor u vast" in page.content()
    _check(page, traffic, "held")
    _submit(page, traffic, page.get_by_role("button", name=re.compile("Ja, dit aanbod")))
    assert "U hebt het aanbod aangenomen." in page.content()
    stay = page.get_by_test_id("verblijf")
    assert place in stay.inner_text() and "Wat neemt u mee?" in stay.inner_text()
    assert page.get_by_test_id("adres").inner_text().strip()
    _check(page, traffic, "placed")

    page.get_by_label("Waarom gaat het logeren niet door?").fill("Moeder is opgenomen")
    _submit(page, traffic, page.get_by_role("button", name=re.compile("Logeren annuleren")))
    assert "Het logeren is geannuleerd" in page.content()
    _check(page, traffic, "cancelled")
    context.close()

    statuses = db.session.scalars(
        select(Reservation.status).where(Reservation.request_id == care_request.id)
    ).all()
    assert statuses == ["cancelled"]
