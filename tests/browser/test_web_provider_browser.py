"""One browser journey through the provider portal on Debian's chromium: log in with the
second factor, change the capacity of a range, confirm a pending reservation. Every portal
page visited passes axe (WCAG 2.1 A/AA), stays under 200 KB and asks nothing of other origins.
"""

from __future__ import annotations

from datetime import timedelta

import pyotp
from sqlalchemy import select

from respijt import clock
from respijt.models import NightInventory, Reservation
from tests.accounts_support import hold
from tests.browser import test_web_browser as web_browser
from tests.browser.browser import Traffic
from tests.browser.test_web_browser import SQLITE_ONLY, _check_page, _visit
from tests.factories import TEST_PASSWORD

# The server, browser and demo fixtures and the skip-without-chromium mark, shared.
server = web_browser.server
browser = web_browser.browser
demo = web_browser.demo
pytestmark = web_browser.pytestmark


@SQLITE_ONLY
def test_provider_changes_capacity_and_confirms_a_reservation(server, browser, db, make, client):
    provider = make.provider(regions=[make.region()])
    unit = make.unit(
        location=make.location(provider=provider),
        requires_provider_confirmation=True,
        capacity=2,
        name="Logeerkamer tuin",
    )
    user = make.user("provider", provider=provider)
    today = clock.today()
    held = hold(client, make.token("verwijzer"), unit, today + timedelta(days=4), confirm=True)
    assert held["status"] == "awaiting_provider"
    email, secret, unit_id = user.email, user.totp_secret, unit.id
    db.session.rollback()  # release SQLite for the server: no ORM reads until the end

    context = browser.new_context(locale="nl-NL")
    page = context.new_page()
    traffic = Traffic(server)
    traffic.watch(page)
    _visit(page, traffic, server + "/login?next=/aanbieder")
    page.get_by_label("E-mailadres").fill(email)
    page.get_by_label("Wachtwoord").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Aanmelden").click()
    page.wait_for_load_state("load")
    page.locator("input[name=code]").fill(pyotp.TOTP(secret).now())
    traffic.reset()
    page.get_by_role("button", name="Controleren").click()
    page.wait_for_url(server + "/aanbieder")
    assert "als aanbieder" in page.get_by_test_id("who").inner_text()
    assert held["short_code"] in page.get_by_test_id("pending").inner_text()
    _check_page(page, traffic, "portal")

    traffic.reset()
    page.get_by_role("link", name="Logeerkamer tuin").click()
    page.wait_for_load_state("load")
    _check_page(page, traffic, "unit")
    first, last = today + timedelta(days=20), today + timedelta(days=22)
    page.locator("#ranges-0-night_from").fill(first.isoformat())
    page.locator("#ranges-0-night_to").fill(last.isoformat())
    page.locator("#ranges-0-capacity").fill("5")
    traffic.reset()
    page.get_by_role("button", name="Capaciteit opslaan").click()
    page.wait_for_load_state("load")
    assert "De capaciteit is opgeslagen." in page.get_by_role("status").first.inner_text()
    _check_page(page, traffic, "unit after saving")

    traffic.reset()
    page.get_by_role("link", name="Terug naar het portaal").click()
    page.wait_for_load_state("load")
    page.get_by_role("button", name=f"Bevestig {held['short_code']}").click()
    page.wait_for_load_state("load")
    assert "De reservering is bevestigd." in page.get_by_role("status").first.inner_text()
    _check_page(page, traffic, "portal after confirming")
    context.close()

    db.session.rollback()
    assert db.session.get(Reservation, held["id"]).status == "confirmed"
    capacities = db.session.scalars(
        select(NightInventory.capacity)
        .where(NightInventory.unit_id == unit_id, NightInventory.night >= first)
        .order_by(NightInventory.night)
        .limit(4)
    ).all()
    assert capacities == [5, 5, 5, 2]
    db.session.rollback()
