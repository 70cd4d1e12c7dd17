"""A provider on a phone (375 px) finds a stay three months ahead in its reservations list by
its arrival period, and reports a no-show only after confirming it: axe clean, no horizontal
scroll, nothing asked of other origins."""

from __future__ import annotations

from datetime import timedelta

from respijt import clock
from respijt.models import Reservation
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


@SQLITE_ONLY
def test_no_show_asks_first_on_a_phone_without_javascript(server, browser, db, make, client):
    """The first click on "Niet verschenen melden" only asks (the stay in words, "Ja, niet
    verschenen" and "Terug"); confirming marks it. Scripts are off: plain forms do it."""
    provider = make.provider(regions=[make.region()])
    unit = make.unit(
        location=make.location(provider=provider, name="Huize Tuinzicht"),
        capacity=3,
        name="Logeerkamer tuin",
    )
    user = make.user("provider", provider=provider)
    stay = hold(client, make.token("verwijzer"), unit, clock.today(), nights=2, confirm=True)
    code, email, secret = stay["short_code"], user.email, user.totp_secret
    db.session.rollback()  # release SQLite for the server

    def status() -> str:
        db.session.rollback()
        value = db.session.get(Reservation, stay["id"]).status
        db.session.rollback()
        return value

    context = browser.new_context(viewport=PHONE, locale="nl-NL", java_script_enabled=False)
    page = context.new_page()
    traffic = Traffic(server)
    traffic.watch(page)
    sign_in(page, server, email, TEST_PASSWORD, secret)
    page.goto(server + "/aanbieder", wait_until="load")

    # First click on the portal: a question, nothing marked; "Terug" returns to the portal.
    traffic.reset()
    page.get_by_role("button", name=f"Niet verschenen melden {code}").click()
    page.wait_for_load_state("load")
    heading = page.get_by_role("heading", level=1).inner_text()
    assert heading == f"Is de logé van {code} niet verschenen?"
    assert "Huize Tuinzicht, Logeerkamer tuin" in page.get_by_test_id("stay").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert status() == "confirmed"
    page.get_by_role("link", name="Terug").click()
    page.wait_for_load_state("load")
    assert page.url == server + "/aanbieder"
    assert page.get_by_role("button", name=f"Niet verschenen melden {code}").count() == 1
    assert status() == "confirmed"

    # From the reservations list: confirming marks it and returns to the list.
    page.get_by_role("link", name="Alle reserveringen van uw locaties").click()
    page.wait_for_load_state("load")
    listing = page.url
    page.get_by_role("button", name=f"Niet verschenen melden {code}").click()
    page.wait_for_load_state("load")
    assert status() == "confirmed"
    page.get_by_role("button", name="Ja, niet verschenen").click()
    page.wait_for_load_state("load")
    assert page.url == listing
    assert "is niet verschenen" in page.get_by_role("status").first.inner_text()
    assert page.get_by_role("button", name=f"Niet verschenen melden {code}").count() == 0
    assert status() == "no_show"
    context.close()


@SQLITE_ONLY
def test_the_no_show_question_passes_axe_on_a_phone(server, browser, db, make, client):
    provider = make.provider(regions=[make.region()])
    unit = make.unit(location=make.location(provider=provider, name="De Eik"), capacity=2)
    user = make.user("provider", provider=provider)
    stay = hold(client, make.token("verwijzer"), unit, clock.today(), confirm=True)
    code, email, secret = stay["short_code"], user.email, user.totp_secret
    db.session.rollback()

    context = browser.new_context(viewport=PHONE, locale="nl-NL")
    page = context.new_page()
    traffic = Traffic(server)
    traffic.watch(page)
    sign_in(page, server, email, TEST_PASSWORD, secret)
    page.goto(server + "/aanbieder", wait_until="load")
    traffic.reset()
    page.get_by_role("button", name=f"Niet verschenen melden {code}").click()
    page.wait_for_load_state("load")
    assert page.get_by_role("button", name="Ja, niet verschenen").count() == 1
    _check_page(page, traffic, "no-show question")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    context.close()
