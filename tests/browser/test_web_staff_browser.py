"""Browser journeys for the staff pages: the meldpunt takes a phone request with the keyboard
only and books a bed (the confirmation SMS reaches the fake Twilio); the coordinator's pages
pass axe. Each page visited stays under 200 KB and on the site. SQLite only, as the other
browser tests."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pyotp
import pytest
from sqlalchemy import select, update

from respijt import clock
from respijt.models import CareRequest, Region, Reservation, Unit
from tests.browser import test_web_browser as journeys
from tests.browser.browser import Traffic
from tests.browser.test_web_browser import MISSING, SQLITE_ONLY, _check_page, _visit
from tests.factories import TEST_PASSWORD
from tests.messages.test_sms_integration import drain, twilio_config

# The live server (demo data, `respijt serve`) and chromium of the public-page journeys.
server, browser, demo = journeys.server, journeys.browser, journeys.demo

pytestmark = pytest.mark.skipif(MISSING is not None, reason=f"browser tests skipped: {MISSING}")


def _login(page: Any, traffic: Traffic, base: str, user: Any, db: Any) -> None:
    email, secret = user.email, user.totp_secret
    db.session.rollback()  # release SQLite: the server writes the session next
    _visit(page, traffic, base + "/login")
    page.get_by_label("E-mailadres").fill(email)
    page.get_by_label("Wachtwoord").fill(TEST_PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/login/2fa"))
    page.get_by_label(re.compile("[Cc]ode")).fill(pyotp.TOTP(secret).now())
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/account$"))


@SQLITE_ONLY
def test_the_meldpunt_books_a_bed_by_keyboard_and_the_sms_goes_out(
    server,
    browser,
    db,
    make,
    app,
    fake_twilio_server,
):
    h5 = db.session.scalars(select(Region).where(Region.code == "H5")).one()
    provider = make.provider(name="Meldpunt Delft", regions=[h5], pool=True)
    user = make.user("meldpunt", provider=provider)
    # The bed is confirmed at once (no provider's yes needed), so the confirmation SMS follows.
    db.session.execute(update(Unit).values(requires_provider_confirmation=False))
    db.session.commit()
    arrival = clock.today() + timedelta(days=12)

    page = browser.new_page()
    traffic = Traffic(server)
    traffic.watch(page)
    _login(page, traffic, server, user, db)
    traffic.reset()
    page.goto(server + "/meldpunt")
    assert "U heeft nu dienst in" in page.get_by_test_id("dienst").inner_text()
    _check_page(page, traffic, "console")

    traffic.reset()
    page.goto(server + "/meldpunt/aanvraag")
    _check_page(page, traffic, "intake")
    page.locator("#requester").focus()
    keys = page.keyboard
    keys.press("Tab")  # who calls: the mantelzorger (the default)
    keys.type("Jan")
    keys.press("Tab")
    keys.type("1941")
    keys.press("Tab")
    keys.type("Delft")  # the select jumps to the typed name
    keys.press("Tab")
    keys.type("Ouderen")
    keys.press("Tab")
    keys.type(arrival.isoformat())
    keys.press("Tab")
    keys.type((arrival + timedelta(days=2)).isoformat())
    keys.press("Tab")
    keys.press("Tab")  # urgency: planned (the default)
    keys.type("Vakantie")
    keys.press("Tab")
    keys.type("Marja")
    keys.press("Tab")
    keys.type("06 12345678")
    keys.press("Tab")
    keys.press("Space")  # consent, asked aloud
    keys.press("Tab")  # "Meer" (closed)
    keys.press("Tab")  # "Vaker logeren, eerder gelogeerd" (closed)
    keys.press("Tab")
    traffic.reset()
    keys.press("Enter")
    page.wait_for_url(re.compile(r"/meldpunt/aanvragen/R-"))
    reference = page.url.rsplit("/", 1)[1]
    assert "Waarom:" in page.content()
    _check_page(page, traffic, "request with matches")

    traffic.reset()
    assert "Vasthouden" in page.evaluate("document.activeElement.textContent")
    with page.expect_navigation():
        keys.press("Enter")  # the first match's "Vasthouden" has the focus
    assert page.get_by_role("button", name="Bevestigen namens de beller").count() == 1
    _check_page(page, traffic, "request with a hold")
    traffic.reset()
    assert "Bevestigen" in page.evaluate("document.activeElement.textContent")
    with page.expect_navigation():
        keys.press("Enter")  # and "Bevestigen" has it now
    # Placed: the request leaves the meldpunt's view (need to know), back to the console.
    assert page.url == server + "/meldpunt"
    assert "is geplaatst" in page.get_by_role("status").first.inner_text()
    assert page.locator(f'a[href$="/{reference}"]').count() == 0
    _check_page(page, traffic, "request confirmed")

    db.session.rollback()
    care_request = db.session.scalars(
        select(CareRequest).where(CareRequest.reference == reference)
    ).one()
    assert care_request.channel == "phone" and care_request.client_name == "Jan"
    reservation = db.session.scalars(
        select(Reservation).where(Reservation.request_id == care_request.id)
    ).one()
    assert reservation.status == "confirmed"
    code = reservation.short_code
    db.session.rollback()
    drain(app, db, twilio_config(app, RESPIJT_QUIET_HOURS=None))
    bodies = [m.body for m in fake_twilio_server.messages(to="+31612345678")]
    assert any(code in body and "is bevestigd" in body for body in bodies), bodies


@SQLITE_ONLY
def test_the_coordinator_pages_pass_axe(server, browser, db, make):
    h5 = db.session.scalars(select(Region).where(Region.code == "H5")).one()
    user = make.user("coordinator", regions=[h5])
    page = browser.new_page()
    traffic = Traffic(server)
    traffic.watch(page)
    _login(page, traffic, server, user, db)
    for path in (
        "/coordinator/cijfers",
        "/coordinator/cijfers?gemeente=GM0503",
        "/coordinator/rooster",
        "/coordinator/inzage?aanvraag=R-XXXX",
    ):
        response = _visit(page, traffic, server + path)
        assert response.status == 200, path
        _check_page(page, traffic, path)
    page.get_by_role("link", name="Cijfers").click()
    page.wait_for_load_state("load")
    # A chart per figure, each with its table; the satisfaction figure among them.
    assert page.locator("section.figure svg").count() == page.locator("section.figure").count()
    assert page.get_by_role("table", name="Tevredenheid na vertrek").count() == 1
