"""Browser journeys of issue 23 (coordadmin), on a phone (375 px) against `respijt serve` with
the demo data: an admin invites a provider user, who sets a password, enrols the second factor
by the QR code (the key read from the page's text) and reaches the provider's claims and
leegstand; a coordinator opens the claims, leegstand and tariff pages and downloads the claims
CSV of a month, which opens as Dutch text. Every page: axe clean, no horizontal scroll, under
200 KB, nothing from another origin. SQLite only, as the other browser tests."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from typing import Any

import pyotp
import pytest
from sqlalchemy import select

from respijt import clock
from respijt.claims import formats
from respijt.errors import DomainError
from respijt.models import Region, Unit, User
from respijt.people import accounts
from respijt.web.qr_code import QR_TITLE
from tests.browser import test_web_browser as journeys
from tests.browser.browser import PHONE, Traffic
from tests.browser.test_web_browser import MISSING, SQLITE_ONLY, _check_page
from tests.browser.test_web_staff_browser import _login
from tests.claims_helpers import request, stay

server, browser, demo = journeys.server, journeys.browser, journeys.demo
pytestmark = pytest.mark.skipif(MISSING is not None, reason=f"browser tests skipped: {MISSING}")
SECRET_KEY = "browser-test"  # the live server's, to sign the invitation link
PASSWORD = "een-lange-zin-voor-de-planner"


def _phone_page(page: Any, traffic: Traffic, what: str) -> None:
    _check_page(page, traffic, what)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{what}: {width} px wide"


def _open(page: Any, traffic: Traffic, url: str, what: str) -> None:
    traffic.reset()
    response = page.goto(url, wait_until="load")
    assert response is not None and response.status == 200, (
        f"{what}: {response and response.status}"
    )
    _phone_page(page, traffic, what)


def _submit(page: Any, traffic: Traffic, button: str) -> None:
    traffic.reset()
    with page.expect_navigation():
        page.get_by_role("button", name=button).click()


@SQLITE_ONLY
def test_an_admin_invites_a_provider_user_who_enrols_by_qr_code(server, browser, db, make):
    admin = make.user("admin", name="Ada Beheer")
    unit = db.session.scalars(select(Unit).order_by(Unit.id)).first()
    provider_name = unit.location.provider.name
    provider_id = unit.location.provider_id
    context = browser.new_context(viewport=PHONE, locale="nl-NL")
    page = context.new_page()
    traffic = Traffic(server)
    traffic.watch(page)
    _login(page, traffic, server, admin, db)

    _open(page, traffic, server + "/beheer/gebruikers", "users")
    _open(page, traffic, server + "/beheer/gebruikers/nieuw", "invite")
    _submit(page, traffic, "Uitnodiging versturen")  # empty: the reasons beside the fields
    _phone_page(page, traffic, "invite with errors")
    page.get_by_label("Naam", exact=True).fill("Nina Planner")
    page.get_by_label("E-mailadres").fill("nina.planner@example.nl")
    page.get_by_label("Aanbieder", exact=True).check()
    page.get_by_label(re.compile("^Aanbieder \\(voor")).select_option(str(provider_id))
    _submit(page, traffic, "Uitnodiging versturen")
    assert "De uitnodiging is verstuurd" in page.get_by_role("status").inner_text()
    _phone_page(page, traffic, "user")
    assert provider_name in page.locator("main").inner_text()

    _open(page, traffic, server + "/beheer/tokens", "tokens")
    page.get_by_label("Waarvoor is dit token?").fill("Planningssysteem")
    page.get_by_label("Rol", exact=True).select_option("provider")
    page.get_by_label(re.compile("^Aanbieder \\(voor")).select_option(str(provider_id))
    _submit(page, traffic, "Token maken")
    assert page.get_by_test_id("secret").inner_text().startswith("rsp_")
    _phone_page(page, traffic, "token created")
    context.close()

    db.session.rollback()
    invited = db.session.scalar(select(User).where(User.email == "nina.planner@example.nl"))
    link = accounts.make_link_token(SECRET_KEY, invited, accounts.INVITATION)
    db.session.rollback()

    # The invited planner, on her own phone.
    context = browser.new_context(viewport=PHONE, locale="nl-NL")
    page = context.new_page()
    traffic = Traffic(server)
    traffic.watch(page)
    _open(page, traffic, f"{server}/invitation/{link}", "invitation")
    page.locator("input[type=password]").nth(0).fill(PASSWORD)
    page.locator("input[type=password]").nth(1).fill(PASSWORD)
    _submit(page, traffic, "Opslaan")
    assert page.url.endswith("/login")
    page.get_by_label("E-mailadres").fill("nina.planner@example.nl")
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    _submit(page, traffic, "Aanmelden")
    assert page.url.endswith("/account/2fa"), page.url
    _phone_page(page, traffic, "second factor set-up")
    qr = page.get_by_role("img", name=QR_TITLE)
    assert qr.is_visible()
    key = page.locator("code.sleutel").inner_text().replace(" ", "")
    page.locator("input[name=code]").fill(pyotp.TOTP(key).now())
    _submit(page, traffic, "Bevestigen")
    assert "herstelcode" in page.content().lower()
    # Signed in as the provider: the own claims and leegstand.
    _open(page, traffic, server + "/aanbieder/declaratie", "provider's claims and leegstand")
    assert "Declaratie en leegstand" in page.get_by_role("heading", level=1).inner_text()
    assert "Nina Planner" in page.get_by_test_id("who").inner_text()
    context.close()


def _book_a_stay(db: Any, region: Region) -> Any:
    """A confirmed two-night Wmo stay, for a client of the unit's gemeente, at a unit of
    `region` (the demo units differ in arrival days and stay lengths): the first unit and day
    in the coming weeks that take one."""
    units = [
        u
        for u in db.session.scalars(select(Unit))
        if u.location.municipality.region_id == region.id
    ]
    for unit in units:  # confirmed at once, without the provider's yes
        unit.requires_provider_confirmation = False
    db.session.commit()
    for offset in range(3, 17):
        arrival = clock.today() + timedelta(days=offset)
        for unit in units:
            departure = arrival + timedelta(days=2)
            municipality = unit.location.municipality
            try:
                client = request(db.session, municipality, arrival=arrival, departure=departure)
                stay(db.session, unit, arrival, departure, client)
            except DomainError:
                db.session.rollback()
                continue
            return arrival
    raise AssertionError("no demo unit takes a two-night stay")


@SQLITE_ONLY
def test_a_coordinator_downloads_the_claims_csv_of_a_month(server, browser, db, make):
    h5 = db.session.scalars(select(Region).where(Region.code == "H5")).one()
    arrival = _book_a_stay(db, h5)
    month = arrival.strftime("%Y-%m")
    coordinator = make.user("coordinator", regions=[h5], name="Cor Coördinator")
    context = browser.new_context(viewport=PHONE, locale="nl-NL", accept_downloads=True)
    page = context.new_page()
    traffic = Traffic(server)
    traffic.watch(page)
    _login(page, traffic, server, coordinator, db)

    _open(page, traffic, f"{server}/coordinator/declaratie?maand={month}", "claims")
    total = page.get_by_test_id("claims-total").inner_text()
    assert "Totaal Wmo: 0 regels" not in total and "(s)" not in total
    with page.expect_download() as download_info:
        page.get_by_role("link", name=re.compile("Declaratieregels Wmo")).click()
    download = download_info.value
    assert download.suggested_filename == f"declaratieregels-{month}-gemeente-wmo.csv"
    with open(download.path(), "rb") as fh:
        raw = fh.read()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == list(formats.CSV_HEADER) and "Cliëntreferentie" in rows[0]
    assert len(rows) >= 2 and not any(row and row[0].startswith("#") for row in rows)

    _open(page, traffic, f"{server}/coordinator/leegstand?maand={month}", "leegstand")
    _open(page, traffic, server + "/coordinator/tarieven", "tariffs")
    page.get_by_label("Tarief per nacht in euro").fill("veel")
    _submit(page, traffic, "Tarief opslaan")
    _phone_page(page, traffic, "tariffs with errors")
    assert page.get_by_label("Tarief per nacht in euro").input_value() == "veel"
    context.close()
