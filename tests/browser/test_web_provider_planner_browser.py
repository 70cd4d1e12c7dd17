"""The provider's planner on a phone (375 px), on Debian's chromium: finds a stay three months
ahead in the reservations list, sees what the client needs, confirms it; checks today's guest in
and out from the portal; confirms all locations unchanged at once; and opens the month of a
unit (a list of weeks on the phone, the grid on a large screen) and the location and unit forms.
Every page passes axe (WCAG 2.1 A/AA), has no horizontal scroll, stays under 200 KB and asks
nothing of other origins."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from respijt import clock
from respijt.care_requests import intake, offers
from respijt.models import Location, Reservation
from respijt.people.caller import Caller
from tests.accounts_support import hold
from tests.browser import test_web_browser as web_browser
from tests.browser.browser import PHONE, Traffic, sign_in
from tests.browser.test_web_browser import SQLITE_ONLY, _check_page
from tests.factories import TEST_PASSWORD

server = web_browser.server
browser = web_browser.browser
demo = web_browser.demo
pytestmark = web_browser.pytestmark

MELDPUNT = Caller(key="token:planner-test", role="coordinator")


def _stay_ahead(db, unit, municipality_code):
    """A care request with needs, offered a 21-night stay at `unit` three months ahead and
    accepted by the family: it waits for the provider's yes."""
    today = clock.today()
    arrival = today + timedelta(days=92)
    departure = arrival + timedelta(days=21)
    care_request = intake.create_request(
        db.session,
        {
            "client": {"first_name": "Jo", "birth_year": 1941},
            "municipality": municipality_code,
            "target_group": "ouderen",
            "care_level": "extra_care",
            "wheelchair": True,
            "language": "tr",
            "arrival": arrival,
            "departure": departure,
            "reason": "vakantie",
            "contact": {"name": "Marja", "mobile": "06 87654321"},
            "consent": True,
        },
        caller=MELDPUNT,
        channel="phone",
        now=clock.now(),
        today=today,
        stale_after_hours=10_000,
    )
    reservation, _ = offers.offer_bed(
        db.session,
        care_request,
        unit_id=unit.id,
        arrival=arrival,
        departure=departure,
        caller=MELDPUNT,
        now=clock.now(),
        today=today,
        hold_minutes=24 * 60,
        provider_confirm_hours=72,
        confirm=True,
    )
    db.session.commit()
    return reservation


def _no_sideways_scroll(page, what):
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{what}: {width} px wide"


@SQLITE_ONLY
def test_planner_on_a_phone(server, browser, db, make, client):
    region = make.region()
    municipality = make.municipality(region=region)
    provider = make.provider(regions=[region])
    eik = make.location(provider=provider, municipality=municipality, name="De Eik")
    make.location(provider=provider, municipality=municipality, name="De Linde")
    unit = make.unit(
        location=eik,
        name="Zorgkamers",
        capacity=3,
        care_level="extra_care",
        wheelchair=True,
        requires_provider_confirmation=True,
    )
    today_unit = make.unit(location=eik, name="Tuinkamers", capacity=2)
    user = make.user("provider", provider=provider)
    db.session.commit()
    ahead = _stay_ahead(db, unit, municipality.code)
    assert ahead.status == "awaiting_provider"
    ahead_id, ahead_code = ahead.id, ahead.short_code
    today = clock.today()
    guest = hold(client, make.token("verwijzer"), today_unit, today, nights=2, confirm=True)
    email, secret = user.email, user.totp_secret
    unit_id, eik_id = unit.id, eik.id
    db.session.rollback()  # release SQLite for the server: no ORM reads until the end

    context = browser.new_context(viewport=PHONE, locale="nl-NL")
    page = context.new_page()
    traffic = Traffic(server)
    traffic.watch(page)
    sign_in(page, server, email, TEST_PASSWORD, secret)

    # The stay three months ahead, found by its arrival period, with what the client needs.
    traffic.reset()
    page.goto(server + "/aanbieder", wait_until="load")
    _check_page(page, traffic, "portal")
    _no_sideways_scroll(page, "portal")
    page.get_by_role("link", name="Alle reserveringen van uw locaties").click()
    page.wait_for_load_state("load")
    page.locator("#van").fill((today + timedelta(days=85)).isoformat())
    page.locator("#tot").fill((today + timedelta(days=100)).isoformat())
    traffic.reset()
    page.get_by_role("button", name="Zoek").click()
    page.wait_for_load_state("load")
    row = page.get_by_test_id(f"reservation-{ahead_code}")
    text = row.inner_text()
    assert "Wacht op aanbieder" in text and "Jo (1941)" in text
    needs = row.get_by_test_id("needs").inner_text()
    assert "Zorg: met extra zorg" in needs and "Rolstoel: ja" in needs and "Taal: Turks" in needs
    assert guest["short_code"] not in page.get_by_test_id("reservations").inner_text()
    _check_page(page, traffic, "reservations three months ahead")
    _no_sideways_scroll(page, "reservations three months ahead")

    traffic.reset()
    row.get_by_role("button", name=f"Bevestig {ahead_code}").click()
    page.wait_for_load_state("load")
    assert "De reservering is bevestigd." in page.get_by_role("status").first.inner_text()
    assert "Bevestigd" in page.get_by_test_id(f"reservation-{ahead_code}").inner_text()
    assert "van=" in page.url  # back on the same filtered list
    _check_page(page, traffic, "reservations after confirming")
    _no_sideways_scroll(page, "reservations after confirming")

    # Today's guest: checked in, then out, from the portal's arrivals and departures.
    code = guest["short_code"]
    traffic.reset()
    page.goto(server + "/aanbieder", wait_until="load")
    page.get_by_test_id("arrivals").get_by_role("button", name=f"Aangekomen melden {code}").click()
    page.wait_for_load_state("load")
    assert f"de logé van {code} is aangekomen" in page.get_by_role("status").first.inner_text()
    _check_page(page, traffic, "portal after check-in")
    _no_sideways_scroll(page, "portal after check-in")
    traffic.reset()
    page.get_by_test_id("departures").get_by_role(
        "button", name=f"Vertrokken melden {code}"
    ).click()
    page.wait_for_load_state("load")
    assert f"de logé van {code} is vertrokken" in page.get_by_role("status").first.inner_text()
    _check_page(page, traffic, "portal after check-out")

    # Both locations unchanged, with one press.
    traffic.reset()
    page.get_by_role("button", name="Niets gewijzigd bij al mijn 2 locaties").click()
    page.wait_for_load_state("load")
    assert "al uw 2 locaties klopt nog" in page.get_by_role("status").first.inner_text()
    _check_page(page, traffic, "portal after confirming all locations")
    _no_sideways_scroll(page, "portal after confirming all locations")

    # The month of a unit: a list of weeks on the phone, the grid on a large screen.
    traffic.reset()
    page.goto(f"{server}/aanbieder/eenheden/{unit_id}", wait_until="load")
    assert page.get_by_test_id("month-list").is_visible()
    assert not page.get_by_test_id("month-grid").is_visible()
    assert "bedden" in page.get_by_test_id("month-list").inner_text()
    _check_page(page, traffic, "unit month on a phone")
    _no_sideways_scroll(page, "unit month on a phone")
    height = page.evaluate("document.documentElement.scrollHeight")
    page.set_viewport_size({"width": 1280, "height": 900})
    assert page.get_by_test_id("month-grid").is_visible()
    assert not page.get_by_test_id("month-list").is_visible()
    page.set_viewport_size(PHONE)
    assert height < 8800

    # The location and unit forms.
    for path in (
        f"/aanbieder/locaties/{eik_id}",
        "/aanbieder/locaties/nieuw",
        f"/aanbieder/locaties/{eik_id}/eenheden/nieuw",
        f"/aanbieder/eenheden/{unit_id}/gegevens",
    ):
        traffic.reset()
        page.goto(server + path, wait_until="load")
        _check_page(page, traffic, path)
        _no_sideways_scroll(page, path)
    # Forms sent with a mistake: the Dutch message beside the field, also on the phone.
    traffic.reset()
    page.goto(server + "/aanbieder/locaties/nieuw", wait_until="load")
    page.get_by_label("Adres (straat en huisnummer)").fill("Lindelaan 4")
    page.get_by_role("button", name="Locatie toevoegen").click()
    page.wait_for_load_state("load")
    assert "Vul dit veld in." in page.locator("#name-error").inner_text()
    assert page.get_by_label("Adres (straat en huisnummer)").input_value() == "Lindelaan 4"
    _check_page(page, traffic, "location form with an error")
    _no_sideways_scroll(page, "location form with an error")
    traffic.reset()
    page.goto(f"{server}/aanbieder/eenheden/{unit_id}/gegevens", wait_until="load")
    page.get_by_label("Naam van de eenheid").fill("")
    traffic.reset()
    page.get_by_role("button", name="Eenheid opslaan").click()
    page.wait_for_load_state("load")
    assert "Vul dit veld in." in page.locator("#name-error").inner_text()
    _check_page(page, traffic, "unit form with an error")
    _no_sideways_scroll(page, "unit form with an error")
    context.close()

    db.session.rollback()
    assert db.session.get(Reservation, ahead_id).status == "confirmed"
    assert db.session.get(Reservation, guest["id"]).status == "completed"
    confirmed = db.session.scalars(
        select(Location.last_confirmed_at).where(Location.provider_id == provider.id)
    ).all()
    assert len(confirmed) == 2 and len(set(confirmed)) == 1
    db.session.rollback()
