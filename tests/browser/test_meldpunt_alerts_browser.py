"""Browser journey of the meldpunt on duty, on a phone (375 px): after a provider declines an
offer on a request that arrives soon, the console flags the request at the top with the
reason; the request page lists that unit last with its reason; the call-back list has the
voicemail's player and the call log reads in Dutch. Both pages pass axe, stay under the budget,
ask nothing of another origin and need no horizontal scroll. SQLite only, as the other browser
tests."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from respijt import clock
from respijt.care_requests import offers
from respijt.models import MeldpuntCall, Municipality, Region, Unit, Voicemail
from respijt.people.caller import Caller
from respijt.reservations import steps
from tests.browser import test_web_browser as journeys
from tests.browser.browser import PHONE, Traffic
from tests.browser.test_web_browser import MISSING, SQLITE_ONLY, _check_page
from tests.browser.test_web_staff_browser import _login
from tests.care_request_helpers import STAFF, body, create

server, browser, demo = journeys.server, journeys.browser, journeys.demo

pytestmark = pytest.mark.skipif(MISSING is not None, reason=f"browser tests skipped: {MISSING}")

REASON = "Geen personeel voor extra zorg deze week"
RECORDING = "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE" + "ab" * 16


def _declined_soon(db, region: Region) -> tuple[str, str, str]:
    """A request arriving in two days whose first option's provider declined: (reference,
    the option's name, its provider's name)."""
    delft = db.session.scalars(select(Municipality).where(Municipality.code == "GM0503")).one()
    arrival = clock.today() + timedelta(days=2)
    care_request = create(db.session, body(delft, arrival, arrival + timedelta(days=2)))
    desk = Caller(key="user:desk", role="coordinator")
    [first, *_] = offers.matches_for(
        db.session, care_request, caller=desk, now=clock.now(), today=clock.today(),
        stale_after_hours=72, limit=offers.OPTIONS_SHOWN,
    )  # fmt: skip
    db.session.execute(
        update(Unit).where(Unit.id == first.unit_id).values(requires_provider_confirmation=True)
    )
    reservation, _ = offers.offer_bed(
        db.session, care_request, unit_id=first.unit_id, arrival=first.arrival,
        departure=first.departure, caller=desk, now=clock.now(), today=clock.today(),
        hold_minutes=60, provider_confirm_hours=24,
    )  # fmt: skip
    steps.confirm_by_requester(
        db.session, reservation, caller=STAFF, now=clock.now(), provider_confirm_hours=24
    )
    steps.decline_by_provider(db.session, reservation, caller=STAFF, now=clock.now(), reason=REASON)
    provider = db.session.get(Unit, first.unit_id).location.provider.name
    return care_request.reference, f"{first.location['name']} ({first.unit_name})", provider


def _voicemail(db, region: Region) -> None:
    call = MeldpuntCall(
        call_sid="CA" + "1" * 32, region_id=region.id, from_number="+31687654321",
        to_number=region.meldpunt_number or "+31881230000", status="voicemail",
        started_at=clock.now(),
    )  # fmt: skip
    db.session.add(call)
    db.session.flush()
    db.session.add(
        Voicemail(
            call_id=call.id,
            region_id=region.id,
            caller_number="+31687654321",
            recording_url=RECORDING,
            duration_seconds=14,
            created_at=clock.now(),
        )  # fmt: skip
    )


@SQLITE_ONLY
def test_after_a_decline_the_console_flags_the_request_and_its_page_lists_the_unit_last(
    server, browser, db, make
):
    h5 = db.session.scalars(select(Region).where(Region.code == "H5")).one()
    provider = make.provider(name="Meldpunt Delft", regions=[h5], pool=True)
    user = make.user("meldpunt", provider=provider)
    reference, option, declined_by = _declined_soon(db, h5)
    _voicemail(db, h5)
    db.session.commit()

    context = browser.new_context(viewport=PHONE, locale="nl-NL")
    page = context.new_page()
    traffic = Traffic(server)
    traffic.watch(page)
    _login(page, traffic, server, user, db)
    traffic.reset()
    page.goto(server + "/meldpunt", wait_until="load")
    flagged = page.get_by_test_id("aandacht")
    rows = flagged.locator("tbody tr")
    assert reference in rows.first.inner_text()
    assert f"Afgewezen door {declined_by}: {REASON}" in rows.first.inner_text()
    callback = page.get_by_test_id("terugbellen")
    assert callback.locator("audio[controls]").count() == 1
    assert "api.twilio.com" not in page.content()
    assert "voicemail ingesproken" in page.get_by_test_id("gesprek").first.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    _check_page(page, traffic, "console after a decline")

    traffic.reset()
    rows.first.get_by_role("link", name=reference).click()
    page.wait_for_url(f"**/meldpunt/aanvragen/{reference}")
    options = page.get_by_test_id("optie")
    count = options.count()
    assert count >= 2
    assert option not in options.first.inner_text()
    last = options.nth(count - 1).inner_text()
    assert option in last and f"Heeft deze aanvraag afgewezen: {REASON}" in last
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    _check_page(page, traffic, "request page after a decline")
    context.close()
