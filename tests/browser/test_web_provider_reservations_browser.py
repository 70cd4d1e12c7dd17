"""A provider on a phone (375 px) finds a stay three months ahead in its reservations list by
its arrival period: axe clean, no horizontal scroll, nothing asked of other origins."""

from __future__ import annotations

from datetime import timedelta

from respijt import clock
from tests.accounts_support import hold
from tests.browser import test_web_browser as web_browser
from tests.browser.browser import PHONE, Traffic, sign_in
from tests.browser.test_web_browser import SQLITE_ONLY, _check_page
from tests.factories import TEST_PASSWORD

server = web_browser.server
browser = web_browser.browser
demo = web_browser.demo
pytestmark = web_browser.pytestmark


@SQLITE_ONLY
def test_provider_finds_a_stay_three_months_ahead_on_a_phone(server, browser, db, make, client):
    provider = make.provider(regions=[make.region()])
    unit = make.unit(
        location=make.location(provider=provider, name="Huize Tuinzicht"),
        capacity=3,
        name="Logeerkamer tuin",
    )
    user = make.user("provider", provider=provider)
    verwijzer = make.token("verwijzer")
    today = clock.today()
    soon = hold(client, verwijzer, unit, today + timedelta(days=5), confirm=True)
    ahead = hold(client, verwijzer, unit, today + timedelta(days=92), nights=21, confirm=True)
    email, secret = user.email, user.totp_secret
    db.session.rollback()  # release SQLite for the server

    context = browser.new_context(viewport=PHONE, locale="nl-NL")
    page = context.new_page()
    traffic = Traffic(server)
    traffic.watch(page)
    sign_in(page, server, email, TEST_PASSWORD, secret)
    page.goto(server + "/aanbieder", wait_until="load")
    traffic.reset()
    page.get_by_role("link", name="Alle reserveringen van uw locaties").click()
    page.wait_for_load_state("load")
    listed = page.get_by_test_id("reservations").inner_text()
    assert soon["short_code"] in listed and ahead["short_code"] in listed
    _check_page(page, traffic, "reservations")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    page.locator("#van").fill((today + timedelta(days=80)).isoformat())
    page.locator("#tot").fill((today + timedelta(days=100)).isoformat())
    traffic.reset()
    page.get_by_role("button", name="Zoek").click()
    page.wait_for_load_state("load")
    listed = page.get_by_test_id("reservations").inner_text()
    assert ahead["short_code"] in listed and soon["short_code"] not in listed
    assert "Bevestigd" in listed and "Huize Tuinzicht" in listed
    _check_page(page, traffic, "reservations filtered")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    context.close()
