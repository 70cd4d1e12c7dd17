"""Browser journey of the meldpunt on duty: the request page shows the needs and the
provider of each option; after a provider declines, that unit is listed last with its
reason, and the page passes axe. SQLite only, as the other browser tests."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from respijt import clock
from respijt.care_requests import offers
from respijt.models import Municipality, Region, Unit
from respijt.people.caller import Caller
from respijt.reservations import steps
from tests.browser import test_web_browser as journeys
from tests.browser.browser import Traffic
from tests.browser.test_web_browser import MISSING, SQLITE_ONLY, _check_page
from tests.browser.test_web_staff_browser import _login
from tests.care_request_helpers import STAFF, body, create

server, browser, demo = journeys.server, journeys.browser, journeys.demo

pytestmark = pytest.mark.skipif(MISSING is not None, reason=f"browser tests skipped: {MISSING}")

REASON = "Geen personeel voor extra zorg deze week"


@SQLITE_ONLY
def test_after_a_decline_the_unit_is_last_with_its_reason(server, browser, db, make):
    h5 = db.session.scalars(select(Region).where(Region.code == "H5")).one()
    provider = make.provider(name="Meldpunt Delft", regions=[h5], pool=True)
    user = make.user("meldpunt", provider=provider)
    delft = db.session.scalars(select(Municipality).where(Municipality.code == "GM0503")).one()
    arrival = clock.today() + timedelta(days=12)
    care_request = create(db.session, body(delft, arrival, arrival + timedelta(days=2)))
    desk = Caller(key="user:desk", role="coordinator")
    [first, *_] = offers.matches_for(
        db.session,
        care_request,
        caller=desk,
        now=clock.now(),
        today=clock.today(),
        stale_after_hours=72,
        limit=offers.OPTIONS_SHOWN,
    )
    db.session.execute(
        update(Unit).where(Unit.id == first.unit_id).values(requires_provider_confirmation=True)
    )
    reservation, _ = offers.offer_bed(
        db.session,
        care_request,
        unit_id=first.unit_id,
        arrival=first.arrival,
        departure=first.departure,
        caller=desk,
        now=clock.now(),
        today=clock.today(),
        hold_minutes=60,
        provider_confirm_hours=24,
    )
    steps.confirm_by_requester(
        db.session, reservation, caller=STAFF, now=clock.now(), provider_confirm_hours=24
    )
    steps.decline_by_provider(db.session, reservation, caller=STAFF, now=clock.now(), reason=REASON)
    db.session.commit()
    reference, option = care_request.reference, f"{first.location['name']} ({first.unit_name})"

    page = browser.new_page()
    traffic = Traffic(server)
    traffic.watch(page)
    _login(page, traffic, server, user, db)
    traffic.reset()
    page.goto(server + f"/meldpunt/aanvragen/{reference}")
    facts = page.locator("dl.facts").inner_text()
    assert "Ouderen" in facts and "Vakantie van de mantelzorger" in facts
    options = page.get_by_test_id("optie")
    count = options.count()
    assert count >= 2
    for i in range(count):
        assert "Aanbieder:" in options.nth(i).inner_text()
    assert option not in options.first.inner_text()
    assert REASON not in options.first.inner_text()
    last = options.nth(count - 1).inner_text()
    assert option in last and f"Heeft deze aanvraag afgewezen: {REASON}" in last
    assert REASON in page.get_by_test_id("geschiedenis").inner_text()
    _check_page(page, traffic, "request after a decline")
