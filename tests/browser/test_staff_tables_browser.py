"""Staff tables and headings on a phone (375 px): no word broken inside, no horizontal scroll.

The vendored Utrecht root sets `word-break: break-word` and `hyphens: auto`; a table then
squeezes its columns until words break mid-word ("Wannee r", "Nac h-ten"). For every table
cell and heading of the coordinator's claims, access log, rota, tariffs and leegstand, the
provider's portal, claims, reservations and unit month, and the verwijzer's list, each word must
lie on one line (measured with Range rects in chromium), the page must not scroll sideways, and
axe must find nothing. On the provider's month at 1280 px the day number stands apart from
"1 bed, 0 bezet". SQLite only, as the other browser tests.
"""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from respijt import clock
from respijt import formatting as fmt
from respijt.beds import capacity
from respijt.care_requests.access_log import PURPOSE
from respijt.meldpunt import changes, generation
from respijt.models import CareRequest, Region, Reservation, Unit
from respijt.people.caller import Caller
from respijt.privacy.access_log import log_access
from tests.browser import test_web_browser as journeys
from tests.browser.browser import PHONE, Traffic, sign_in, split_words
from tests.browser.test_coordadmin_browser import _book_a_stay
from tests.browser.test_web_browser import MISSING, SQLITE_ONLY, _check_page
from tests.browser.test_web_staff_browser import _login
from tests.factories import TEST_PASSWORD

server, browser, demo = journeys.server, journeys.browser, journeys.demo
pytestmark = pytest.mark.skipif(MISSING is not None, reason=f"browser tests skipped: {MISSING}")
WIDE = {"width": 1280, "height": 900}
MONTHS = "jan feb mrt apr mei jun jul aug sep okt nov dec".split()


def _open_on_a_phone(page: Any, traffic: Traffic, url: str, what: str) -> None:
    """Open the page and check it: axe, budget, no other origin, no sideways scroll, and every
    word of its headings and table cells on one line."""
    traffic.reset()
    response = page.goto(url, wait_until="load")
    assert response is not None and response.status == 200, (
        f"{what}: {response and response.status}"
    )
    _check_page(page, traffic, what)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{what}: {width} px wide"
    assert split_words(page) == [], what


def _stacked(row: Any) -> None:
    """On a phone the row is one block: its cells under each other, each named by its column
    (`data-label`, shown before the value by app.css)."""
    cells = row.locator("td")
    boxes = [cells.nth(i).bounding_box() for i in range(cells.count())]
    assert len(boxes) >= 2
    assert all(b["y"] > a["y"] for a, b in zip(boxes, boxes[1:], strict=False)), boxes
    assert all(cells.nth(i).get_attribute("data-label") for i in range(cells.count()))


def _gap_tomorrow(db: Any, region: Region) -> datetime:
    """Weekly shifts in `region` and nobody on duty tomorrow from 09:00 to 17:00 (local)."""
    now = clock.now()
    generation.generate_shifts(
        db.session, region.id, now=now, horizon_days=21, pattern=generation.parse_pattern("weekly")
    )
    day = clock.today() + timedelta(days=1)
    start = datetime.combine(day, time(9), clock.LOCAL_TZ)
    changes.apply_override(
        db.session,
        region.id,
        provider_id=None,
        starts_at=start,
        ends_at=start + timedelta(hours=8),
        actor="test",
        now=now,
    )
    db.session.commit()
    return start


@SQLITE_ONLY
def test_the_coordinators_tables_keep_every_word_whole_on_a_phone(server, browser, db, make):
    h5 = db.session.scalars(select(Region).where(Region.code == "H5")).one()
    arrival = _book_a_stay(db, h5)
    reference = db.session.scalars(
        select(CareRequest.reference)
        .join(Reservation, Reservation.request_id == CareRequest.id)
        .where(Reservation.arrival == arrival)
    ).first()
    verwijzer = make.user("verwijzer", name="Vera Verwijzer")
    log_access(
        db.session,
        action="care_request.read",
        caller=Caller(key=f"user:{verwijzer.id}", role="verwijzer", user_id=verwijzer.id),
        client_reference=reference,
        outcome="success",
        purpose=PURPOSE,
        source=None,
        region_id=h5.id,
    )
    gap = _gap_tomorrow(db, h5)
    coordinator = make.user("coordinator", regions=[h5], name="Cor Coördinator")
    context = browser.new_context(viewport=PHONE, locale="nl-NL")
    page = context.new_page()
    traffic = Traffic(server)
    traffic.watch(page)
    _login(page, traffic, server, coordinator, db)

    month = arrival.strftime("%Y-%m")
    _open_on_a_phone(page, traffic, f"{server}/coordinator/declaratie?maand={month}", "claims")
    rows = page.get_by_test_id("per-aanbieder").locator("tbody tr")
    assert rows.count() >= 1
    _stacked(rows.first)

    _open_on_a_phone(page, traffic, f"{server}/coordinator/inzage?aanvraag={reference}", "log")
    assert "Vera Verwijzer" in page.get_by_test_id("inzage").inner_text()
    _stacked(page.get_by_test_id("inzage").locator("tbody tr").first)

    _open_on_a_phone(page, traffic, f"{server}/coordinator/rooster", "rota")
    shifts = page.get_by_test_id("diensten").first.locator("tbody tr")
    assert shifts.count() >= 2
    _stacked(shifts.first)
    # The gap's label spans the alert, not a narrow column beside the list.
    alert = page.locator(".utrecht-alert", has=page.get_by_test_id("gaten")).first
    label = alert.locator("p", has_text="Let op:")
    assert label.bounding_box()["width"] > 0.7 * alert.bounding_box()["width"]
    lines = alert.get_by_test_id("gaten").inner_text()
    assert f"{fmt.date_long(gap.date())}, 09:00 tot 17:00" in lines, lines

    _open_on_a_phone(page, traffic, f"{server}/coordinator/tarieven", "tariffs")
    _open_on_a_phone(page, traffic, f"{server}/coordinator/leegstand?maand={month}", "leegstand")

    # The check itself finds a broken word: squeeze one cell the way the Utrecht root did.
    cell = page.locator("main td").first
    cell.evaluate("td => { td.style.wordBreak = 'break-all'; td.style.width = '1ch'; }")
    assert split_words(page) != []
    context.close()


@SQLITE_ONLY
def test_the_provider_pages_keep_every_word_whole_and_count_beds_in_words(
    server, browser, db, make
):
    unit = db.session.scalars(select(Unit).order_by(Unit.id)).first()
    provider = unit.location.provider
    today = clock.today()
    # One bed on a coming night: "1 bed", and 2 on the next: "2 bedden".
    night = today + timedelta(days=2)
    capacity.publish_capacity(
        db.session,
        unit,
        [capacity.CapacityRange(night, night + timedelta(days=1), 1)],
        actor="test",
        channel="web",
        now=clock.now(),
        today=today,
        horizon_days=365,
        max_capacity=200,
    )
    db.session.commit()
    user = make.user("provider", provider=provider, name="Piet Planner")
    email, secret, unit_id = user.email, user.totp_secret, unit.id
    db.session.rollback()  # release SQLite for the server

    context = browser.new_context(viewport=PHONE, locale="nl-NL")
    page = context.new_page()
    traffic = Traffic(server)
    traffic.watch(page)
    sign_in(page, server, email, TEST_PASSWORD, secret)
    _open_on_a_phone(page, traffic, f"{server}/aanbieder", "portal")
    assert page.get_by_role("heading", level=1).inner_text() == "Aanbiedersportaal"
    _open_on_a_phone(page, traffic, f"{server}/aanbieder/declaratie", "provider's claims")
    _open_on_a_phone(page, traffic, f"{server}/aanbieder/reserveringen", "reservations")
    assert re.fullmatch(
        r"(\d+ verblij(f|ven) die nog niet voorbij (is|zijn)|Geen verblijven gevonden)\.",
        page.get_by_test_id("total").inner_text(),
    )
    _open_on_a_phone(page, traffic, f"{server}/aanbieder/eenheden/{unit_id}", "unit on a phone")
    listed = page.get_by_test_id("month-list").inner_text()
    if night.month == today.month:
        assert f"{night.day} {MONTHS[night.month - 1]}: 1 bed, 0 bezet" in listed, listed
    assert "1 bedden" not in listed

    # The month as a grid on a large screen: the day number on its own line above the count.
    page.set_viewport_size(WIDE)
    page.goto(f"{server}/aanbieder/eenheden/{unit_id}", wait_until="load")
    cells = page.get_by_test_id("month-grid").locator("td:has([data-night])")
    assert cells.count() >= 1
    for index in range(min(cells.count(), 7)):
        day = cells.nth(index).locator(".grid-day").bounding_box()
        count = cells.nth(index).locator("[data-night]").bounding_box()
        assert count["y"] >= day["y"] + day["height"] - 1, (day, count)
    assert "1 bedden" not in page.get_by_test_id("month-grid").inner_text()
    context.close()


@SQLITE_ONLY
def test_the_verwijzers_list_keeps_every_word_whole_on_a_phone(server, browser, db, make):
    verwijzer = make.user("verwijzer", name="Vera Verwijzer")
    h5 = db.session.scalars(select(Region).where(Region.code == "H5")).one()
    _book_a_stay(db, h5)
    request = db.session.scalars(select(CareRequest).order_by(CareRequest.id.desc())).first()
    request.caller = f"user:{verwijzer.id}"
    db.session.commit()
    email, secret = verwijzer.email, verwijzer.totp_secret
    db.session.rollback()
    context = browser.new_context(viewport=PHONE, locale="nl-NL")
    page = context.new_page()
    traffic = Traffic(server)
    traffic.watch(page)
    sign_in(page, server, email, TEST_PASSWORD, secret)
    _open_on_a_phone(page, traffic, f"{server}/verwijzer/aanvragen", "verwijzer's requests")
    context.close()
