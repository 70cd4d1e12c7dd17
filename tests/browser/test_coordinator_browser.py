"""Browser journey of a coordinator on a phone (375 px): makes a rota override and approves a
swap (both sides get the SMS: the outbox rows), opens the KPI page with Dutch labels and a
chart per figure, the neutrality page and the access log filtered by person. Every page passes
axe, stays under 200 KB, asks nothing of another origin and needs no horizontal scroll.
SQLite only, as the other browser tests."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from respijt import clock
from respijt.meldpunt import changes, generation
from respijt.models import OutboxMessage, Provider, ProviderRegion, Region, RotaShift, RotaSwap
from tests.browser import test_web_browser as journeys
from tests.browser.browser import PHONE, Traffic
from tests.browser.test_web_browser import MISSING, SQLITE_ONLY, _check_page, _visit
from tests.browser.test_web_staff_browser import _login

server, browser, demo = journeys.server, journeys.browser, journeys.demo

pytestmark = pytest.mark.skipif(MISSING is not None, reason=f"browser tests skipped: {MISSING}")

RAW_KEY = re.compile(r"\b[a-z]+_[a-z_]+\.[a-z0-9_.]+\b|\b(?:user|token):\d+\b")


def _fits(page: Any, what: str) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{what}: {width} px wide"


def _rows(db: Any, templates: tuple[str, ...]) -> list[tuple[str, str]]:
    db.session.rollback()
    rows = [
        (m.template, m.recipient)
        for m in db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.template.in_(templates))
            .order_by(OutboxMessage.id)
        )
    ]
    db.session.rollback()  # release SQLite: the server writes next
    return rows


@SQLITE_ONLY
def test_a_coordinator_changes_the_rota_approves_a_swap_and_reads_the_figures(
    server, browser, db, make
):
    h5 = db.session.scalars(select(Region).where(Region.code == "H5")).one()
    pool = list(
        db.session.scalars(
            select(Provider)
            .join(ProviderRegion, ProviderRegion.provider_id == Provider.id)
            .where(ProviderRegion.region_id == h5.id, ProviderRegion.in_pool.is_(True))
            .order_by(Provider.id)
        )
    )
    mobiles = {p.id: f"+3161222{index:04d}" for index, p in enumerate(pool)}
    for provider in pool:
        provider.staff_mobiles = [mobiles[provider.id]]
        provider.duty_phone = None
    db.session.commit()
    now = clock.now()
    generation.generate_shifts(
        db.session,
        h5.id,
        now=now,
        horizon_days=35,
        pattern=generation.parse_pattern("weekly"),
    )
    db.session.commit()
    shifts = generation.shifts_between(db.session, h5.id, now, now + timedelta(days=40))
    future = [s for s in shifts if s.starts_at > now]
    assert len(future) >= 3
    # A swap offered and taken, waiting for the coordinator.
    swapped = future[2]
    taker = next(p.id for p in pool if p.id != swapped.provider_id)
    swap = changes.offer_swap(db.session, swapped.id, provider_id=swapped.provider_id, now=now)
    changes.take_swap(db.session, swap.id, provider_id=taker, now=now, approval_required=True)
    db.session.commit()
    swap_id, offerer = swap.id, swapped.provider_id
    cut = future[0]
    cut_owner = cut.provider_id
    newcomer = next(p.id for p in pool if p.id != cut_owner)
    start = cut.starts_at.astimezone(clock.LOCAL_TZ) + timedelta(days=1)

    user = make.user("coordinator", regions=[h5])
    # Everything the test needs is read now: a later read would hold SQLite's lock while the
    # server writes.
    user.email, user.totp_secret  # noqa: B018
    context = browser.new_context(viewport=PHONE, locale="nl-NL")
    page = context.new_page()
    traffic = Traffic(server)
    traffic.watch(page)
    _login(page, traffic, server, user, db)

    # The rota: holidays (if any) marked, the swap waiting, the link to change the rota.
    _visit(page, traffic, server + "/coordinator/rooster")
    _check_page(page, traffic, "rota")
    _fits(page, "rota")
    assert page.get_by_test_id("ruilverzoek").count() == 1

    # An override: the newcomer takes one night of the current owner's shift.
    traffic.reset()
    page.get_by_role("link", name=re.compile("Rooster wijzigen")).click()
    page.wait_for_load_state("load")
    _check_page(page, traffic, "override form")
    _fits(page, "override form")
    page.get_by_label("Wie heeft dienst?").select_option(str(newcomer))
    page.get_by_label("Vanaf (datum)").fill(start.date().isoformat())
    page.get_by_label("Vanaf (tijd)").fill("18:00")
    page.get_by_label("Tot (datum)").fill((start.date() + timedelta(days=1)).isoformat())
    page.get_by_label("Tot (tijd)").fill("09:00")
    page.get_by_label(re.compile("Reden")).fill("ziekte")
    traffic.reset()
    page.get_by_role("button", name="Rooster wijzigen").click()
    page.wait_for_url(re.compile(r"/coordinator/rooster\?van="))
    said = page.get_by_role("status").first.inner_text()
    assert "Het rooster is gewijzigd" in said
    assert "krijgen een sms" in said and "gekregen" not in said  # as queued, not a promise
    _check_page(page, traffic, "rota after the override")
    _fits(page, "rota after the override")
    assert _rows(db, ("rota_override_on", "rota_override_off")) == [
        ("rota_override_on", mobiles[newcomer]),
        ("rota_override_off", mobiles[cut_owner]),
    ]

    # The swap: approved on the page; the one who offered and the one who took over get an SMS.
    _visit(page, traffic, server + "/coordinator/rooster")
    traffic.reset()
    page.get_by_role("button", name="Ruil goedkeuren").click()
    page.wait_for_load_state("load")
    assert "De ruil is goedgekeurd" in page.get_by_role("status").first.inner_text()
    _check_page(page, traffic, "rota after the swap")
    assert page.get_by_test_id("ruilverzoek").count() == 0
    assert _rows(db, ("rota_swap_done_offerer", "rota_swap_done_taker")) == [
        ("rota_swap_done_offerer", mobiles[offerer]),
        ("rota_swap_done_taker", mobiles[taker]),
    ]
    assert db.session.get(RotaSwap, swap_id).status == "done"
    assert db.session.scalars(
        select(RotaShift).where(RotaShift.kind == "swap", RotaShift.provider_id == taker)
    ).first()
    db.session.rollback()

    # The KPI page: Dutch labels, a chart per figure, no raw key anywhere on the page.
    traffic.reset()
    page.get_by_role("link", name="Cijfers").click()
    page.wait_for_load_state("load")
    _check_page(page, traffic, "kpis")
    _fits(page, "kpis")
    text = page.locator("main").inner_text()
    assert RAW_KEY.findall(text) == []
    assert "Doorlooptijd" in text and "Plaatsingsgraad" in text
    figures = page.locator("section.figure")
    assert figures.count() >= 16
    for index in range(figures.count()):
        assert figures.nth(index).locator("svg").count() == 1
    assert page.get_by_role("img", name=re.compile("Plaatsingsgraad per maand")).count() == 1

    # The neutrality page, linked from the KPI page.
    traffic.reset()
    page.get_by_role("link", name="Eigen bedden aangeboden per dienst", exact=True).click()
    page.wait_for_load_state("load")
    _check_page(page, traffic, "neutrality")
    _fits(page, "neutrality")
    assert "van de vrije bedden" in page.locator("main").inner_text()

    # The access log, filtered by person: names, no keys.
    _visit(page, traffic, server + "/coordinator/inzage")
    options = page.get_by_label("Wie", exact=True).locator("option")
    if options.count() > 1:
        page.get_by_label("Wie", exact=True).select_option(index=1)
    page.get_by_label("Kenmerk van de aanvraag").fill("R-XXXX")
    traffic.reset()
    page.get_by_role("button", name="Zoek").click()
    page.wait_for_load_state("load")
    _check_page(page, traffic, "access log")
    _fits(page, "access log")
    assert RAW_KEY.findall(page.locator("main").inner_text()) == []
    context.close()
