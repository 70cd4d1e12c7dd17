"""Browser journeys of a verwijzer on a phone (375 px): a request made on the web form, a place
chosen, held and accepted on behalf of the client on the request's page; and a weekend a month
asked on the form, held for every stay and accepted by the client's contact with one SMS "JA"
(through the signed inbound webhook). axe on every page, the 200 KB budget, no other origin,
no horizontal scroll. SQLite only, as the other browser tests."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pyotp
import pytest
from sqlalchemy import select

from respijt import clock
from respijt.care_requests.recurrence import SeriesRule, stay_dates
from respijt.models import CareRequest, OutboxMessage, Reservation
from tests.browser import test_web_browser as journeys
from tests.browser.browser import PHONE, Traffic
from tests.browser.test_web_browser import MISSING, SQLITE_ONLY, _check_page
from tests.factories import TEST_PASSWORD

server, browser, demo = journeys.server, journeys.browser, journeys.demo

pytestmark = pytest.mark.skipif(MISSING is not None, reason=f"browser tests skipped: {MISSING}")

CONTACT = "+31687654321"


def _sign_in(page: Any, base: str, user: Any, db: Any) -> None:
    email, secret = user.email, user.totp_secret
    db.session.rollback()  # release SQLite: the server writes the session next
    page.goto(base + "/login")
    page.get_by_label("E-mailadres").fill(email)
    page.get_by_label("Wachtwoord").fill(TEST_PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/login/2fa|/account|/verwijzer"))
    if "/login/2fa" in page.url:
        page.get_by_label(re.compile("[Cc]ode")).fill(pyotp.TOTP(secret).now())
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"/account|/verwijzer"))


def _fits_the_phone(page: Any) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def _fill_request(page: Any, arrival: str, departure: str) -> None:
    page.get_by_label("Voornaam of voorletters").fill("Ans")
    page.get_by_label("Geboortejaar").fill("1938")
    page.get_by_label("Gemeente waar hij of zij woont").select_option("GM0503")
    page.get_by_label("Wat past het best?").select_option("ouderen")
    page.get_by_label("Aankomst (eerste nacht)").fill(arrival)
    page.get_by_label("Vertrek").first.fill(departure)
    page.get_by_label("Waarom logeren?").select_option("vakantie")
    page.get_by_label("Naam contactpersoon van de cliënt").fill("Karin Smit")
    page.get_by_label("Mobiel nummer contactpersoon van de cliënt").fill("06 87654321")
    page.get_by_label(re.compile("Ik geef toestemming")).check()


def _open_request(page: Any, traffic: Traffic, db: Any, *, check: bool = True) -> str:
    """Send the form; from the list, open the new request's page (`check`: axe, the budget
    and the width on both, which needs JavaScript)."""
    page.get_by_role("button", name="Aanvraag versturen").click()
    page.wait_for_url(re.compile(r"/verwijzer/aanvragen$"))
    if check:
        _check_page(page, traffic, "my requests")
        _fits_the_phone(page)
    db.session.rollback()
    reference = db.session.scalars(
        select(CareRequest.reference).order_by(CareRequest.id.desc())
    ).first()
    db.session.rollback()
    traffic.reset()
    page.get_by_role("link", name=reference, exact=True).click()
    page.wait_for_load_state("load")
    if check:
        _check_page(page, traffic, "request page")
        _fits_the_phone(page)
    return str(reference)


@SQLITE_ONLY
def test_a_verwijzer_requests_chooses_holds_and_confirms_on_a_phone(server, browser, db, make):
    user = make.user("verwijzer", organisation="Wijkteam Delft-Noord")
    context = browser.new_context(viewport=PHONE, locale="nl-NL")
    page = context.new_page()
    traffic = Traffic(server)
    traffic.watch(page)
    _sign_in(page, server, user, db)

    traffic.reset()
    page.goto(server + "/verwijzer/aanvragen/nieuw")
    assert page.url.endswith("/verwijzer/aanvragen/nieuw"), (page.url, page.content()[-1500:])
    _check_page(page, traffic, "new request")
    _fits_the_phone(page)
    arrival = clock.today() + timedelta(days=9)
    _fill_request(page, arrival.isoformat(), (arrival + timedelta(days=2)).isoformat())
    reference = _open_request(page, traffic, db)
    assert "Contactpersoon van de cliënt" in page.locator("dl.facts").inner_text()
    first = page.get_by_test_id("optie").first
    place = first.locator("strong").first.inner_text()
    assert "Waarom: past bij" in first.inner_text()

    traffic.reset()
    first.get_by_role("button", name=re.compile("Kiezen en vasthouden")).click()
    page.wait_for_load_state("load")
    offer = page.get_by_test_id("aanbod").first
    assert place in offer.inner_text() and "Vastgehouden" in offer.inner_text()
    _check_page(page, traffic, "request page with a hold")
    _fits_the_phone(page)

    traffic.reset()
    offer.get_by_role("button", name=re.compile("Aannemen namens de cliënt")).click()
    page.wait_for_load_state("load")
    assert page.get_by_test_id("status").inner_text() in ("Geplaatst", "Aanbod gedaan")
    assert place in page.get_by_test_id("aanbod").first.inner_text()
    _check_page(page, traffic, "request page after accepting")
    db.session.rollback()
    reservation = db.session.scalars(
        select(Reservation).join(CareRequest).where(CareRequest.reference == reference)
    ).one()
    assert reservation.status in ("confirmed", "awaiting_provider")
    db.session.rollback()
    context.close()


def _monthly_series() -> tuple[Any, Any, int, Any]:
    """A Friday-to-Sunday first stay soon and a weekend-of-the-month rule whose next stay falls
    inside the demo's 45 days of published beds: (arrival, departure, weekend, until)."""
    today = clock.today()
    arrival = today + timedelta(days=(4 - today.weekday()) % 7 + 7)
    departure = arrival + timedelta(days=2)
    best = None
    for which in (1, 2, 3, 4, -1):
        stays = stay_dates(
            arrival, departure, SeriesRule("month", which), today + timedelta(days=60)
        )
        if len(stays) >= 2 and (best is None or stays[1][0] < best[1]):
            best = (which, stays[1][0])
    assert best is not None and best[1] + timedelta(days=2) <= today + timedelta(days=44)
    return arrival, departure, best[0], best[1]


@SQLITE_ONLY
def test_a_weekend_a_month_is_asked_on_the_form_and_accepted_with_one_sms(
    server, browser, db, make, fake_twilio_server
):
    user = make.user("verwijzer")
    context = browser.new_context(viewport=PHONE, locale="nl-NL")
    page = context.new_page()
    traffic = Traffic(server)
    traffic.watch(page)
    _sign_in(page, server, user, db)
    arrival, departure, which, until = _monthly_series()

    page.goto(server + "/verwijzer/aanvragen/nieuw")
    _fill_request(page, arrival.isoformat(), departure.isoformat())
    page.get_by_label("Ja, één weekend per maand").check()
    page.get_by_label("Welk weekend van de maand?").select_option(str(which))
    page.get_by_label("Tot en met (laatste aankomst)").fill(until.isoformat())
    reference = _open_request(page, traffic, db)
    assert "Elke maand het" in page.get_by_test_id("reeks").locator("xpath=..").inner_text()
    assert page.get_by_test_id("reeks-verblijf").count() == 2

    traffic.reset()
    page.get_by_role("button", name="Alle verblijven vasthouden").click()
    page.wait_for_load_state("load")
    _check_page(page, traffic, "series held")
    rows = page.get_by_test_id("reeks-verblijf")
    assert all("Vastgehouden" in rows.nth(i).inner_text() for i in range(rows.count()))

    db.session.rollback()
    pending = db.session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.template == "request_series_offer",
            OutboxMessage.status == "pending",
            OutboxMessage.body.contains(reference),
        )
    ).all()
    assert len(pending) == 1 and "2 logeerbedden" in pending[0].body
    db.session.rollback()  # release SQLite for the webhook

    reply = fake_twilio_server.send_inbound(CONTACT, "JA")
    assert "2 logeerbedden aangenomen" in reply.replies[0]
    db.session.rollback()

    traffic.reset()
    page.reload()
    rows = page.get_by_test_id("reeks-verblijf")
    assert rows.count() == 2
    assert all(
        re.search("Bevestigd|Wacht op aanbieder", rows.nth(i).inner_text()) for i in range(2)
    )
    _check_page(page, traffic, "series accepted")
    _fits_the_phone(page)
    context.close()


@SQLITE_ONLY
def test_the_request_page_works_without_javascript(server, browser, db, make):
    user = make.user("verwijzer")
    context = browser.new_context(viewport=PHONE, locale="nl-NL", java_script_enabled=False)
    page = context.new_page()
    traffic = Traffic(server)
    traffic.watch(page)
    _sign_in(page, server, user, db)
    page.goto(server + "/verwijzer/aanvragen/nieuw")
    arrival = clock.today() + timedelta(days=11)
    _fill_request(page, arrival.isoformat(), (arrival + timedelta(days=2)).isoformat())
    _open_request(page, traffic, db, check=False)
    first = page.get_by_test_id("optie").first
    first.get_by_role("button", name=re.compile("Kiezen en vasthouden")).click()
    page.wait_for_load_state("load")
    offer = page.get_by_test_id("aanbod").first
    assert "Vastgehouden" in offer.inner_text()
    offer.locator("summary").first.click()  # "Data wijzigen" opens without a script
    offer.get_by_label("Nieuw vertrek").fill((arrival + timedelta(days=3)).isoformat())
    traffic.reset()
    offer.get_by_role("button", name="Data wijzigen").click()
    page.wait_for_load_state("load")
    assert "De data zijn gewijzigd" in page.locator("body").inner_text()
    assert (
        f"{(arrival + timedelta(days=3)).day}" in page.get_by_test_id("aanbod").first.inner_text()
    )
    context.close()
