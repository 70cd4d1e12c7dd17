"""Browser journeys on Debian's chromium against `respijt serve`, with axe-core on every page.

Kept few and fast: the request form on a phone with JavaScript, the search without it, and one
pass over every public page for WCAG 2.1 A/AA, the 200 KB budget and requests to other origins.
SQLite only: the pages are the subject here, the databases are covered by the other tests.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from respijt import clock
from respijt.care_requests import links as request_links
from respijt.cli.demo import load_demo
from respijt.models import CareRequest, Location, OutboxMessage
from tests.browser.browser import (
    PAGE_BUDGET_BYTES,
    PHONE,
    Traffic,
    axe_violations,
    chromium_missing,
    launch,
)
from tests.browser.live_server import running_server
from tests.browser.web_helpers import request_with_offer

MISSING = chromium_missing()
if MISSING and os.environ.get("CI", "").lower() == "true":
    pytest.fail(f"browser tests must run under CI=true: {MISSING}", pytrace=False)
pytestmark = pytest.mark.skipif(MISSING is not None, reason=f"browser tests skipped: {MISSING}")
SQLITE_ONLY = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


@pytest.fixture()
def demo(db: Any) -> None:
    load_demo(db.session, now=clock.now(), today=clock.today(), horizon_days=45)
    db.session.commit()


@pytest.fixture()
def server(database_url: str, db: Any, demo: None, tmp_path: Any) -> Iterator[str]:
    with running_server(database_url, db, tmp_path, RESPIJT_SECRET_KEY="browser-test") as base:
        yield base


@pytest.fixture()
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch(playwright)
        try:
            yield chromium
        finally:
            chromium.close()


def _check_page(page: Any, traffic: Traffic, what: str) -> None:
    """axe-core finds no WCAG 2.1 A/AA violation, the page stayed under 200 KB on the wire,
    and nothing was asked of another origin."""
    violations = axe_violations(page)
    assert violations == [], f"{what}: {violations}"
    assert traffic.total() < PAGE_BUDGET_BYTES, f"{what}: {traffic.total()} bytes"
    assert traffic.foreign == [], f"{what}: {traffic.foreign}"


def _visit(page: Any, traffic: Traffic, url: str) -> Any:
    traffic.reset()
    response = page.goto(url, wait_until="load")
    return response


@SQLITE_ONLY
def test_mantelzorger_searches_and_requests_a_bed_on_a_phone(server, browser, db):
    context = browser.new_context(viewport=PHONE, locale="nl-NL")
    page = context.new_page()
    traffic = Traffic(server)
    traffic.watch(page)

    _visit(page, traffic, server + "/")
    _check_page(page, traffic, "home")
    page.get_by_role("link", name="Zoek een vrij logeerbed").click()
    page.wait_for_load_state("load")
    _check_page(page, traffic, "search")
    # htmx swaps the results in place: the marker set on this document survives the search.
    page.evaluate("window.__sameDocument = true")
    page.get_by_label("Voor wie").select_option("ouderen")
    page.get_by_role("button", name="Zoeken").click()
    page.wait_for_url(re.compile(r"doelgroep=ouderen"))
    page.wait_for_function("document.querySelector('#resultaten [data-testid=result-count]')")
    assert page.evaluate("window.__sameDocument === true")
    count = page.get_by_test_id("result-count").inner_text()
    assert "logeeradres" in count
    first = page.locator("#resultaten article").first
    assert re.search(r"\d+\s+vrij|vol", first.locator(".calendar").inner_text())
    assert "bijgewerkt" in first.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    traffic.reset()
    first.get_by_role("link", name=re.compile("Vraag een logeerbed aan")).click()
    page.wait_for_load_state("load")
    _check_page(page, traffic, "request form")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.get_by_label("Voornaam of voorletters").fill("Ans")
    page.get_by_label("Geboortejaar").fill("1938")
    # The search was not from the client's gemeente: the form does not guess it (it took the
    # location's before, a carer whose mother lives elsewhere included).
    assert page.get_by_label("Gemeente waar hij of zij woont").input_value() == ""
    page.get_by_label("Gemeente waar hij of zij woont").select_option("GM0503")
    page.get_by_label("Wat past het best?").select_option("ouderen")
    page.get_by_label("Waarom logeren?").select_option("vakantie")
    page.get_by_label("Uw naam").fill("Marja de Vries")
    page.get_by_label("Uw mobiele nummer").fill("020 123 4567")  # a landline: refused
    page.get_by_role("button", name="Aanvraag versturen").click()
    page.wait_for_load_state("load")

    # Errors beside the fields, and nothing typed is lost.
    alert = page.get_by_role("alert")
    assert "nog niet goed" in alert.inner_text()
    assert "mobiel" in page.locator("#contact_mobile-error").inner_text().lower()
    assert "toestemming" in page.locator("#consent-error").inner_text().lower()
    assert page.get_by_label("Voornaam of voorletters").input_value() == "Ans"
    assert page.get_by_label("Uw naam").input_value() == "Marja de Vries"
    assert page.get_by_label("Wat past het best?").input_value() == "ouderen"
    _check_page(page, traffic, "request form with errors")

    page.get_by_label("Uw mobiele nummer").fill("06 12345678")
    page.get_by_label(re.compile("Ik geef toestemming")).check()
    page.get_by_role("button", name="Aanvraag versturen").click()
    page.wait_for_load_state("load")
    reference = page.get_by_test_id("reference").inner_text()
    assert re.fullmatch(r"R-[0-9A-Z]{4,}", reference)
    _check_page(page, traffic, "request sent")

    db.session.rollback()
    created = db.session.scalar(select(CareRequest).where(CareRequest.reference == reference))
    assert created is not None and created.contact_mobile == "+31612345678"
    assert created.channel == "web" and created.client_name == "Ans"
    sms = db.session.scalar(
        select(OutboxMessage).where(
            OutboxMessage.template == "request_received", OutboxMessage.body.contains(reference)
        )
    )
    assert sms is not None and sms.recipient == "+31612345678" and reference in sms.body
    # The stored SMS holds a placeholder: the link is made when the scheduler sends it, with
    # the server's key and public URL (this server runs no scheduler, so it is made here).
    assert "[link]" in sms.body and "/a/" not in sms.body
    link = f"{server}/a/{request_links.make_sms_token('browser-test', reference)}"
    db.session.rollback()  # release SQLite: the server writes the access log next

    # The link from the SMS, in a fresh browser, opens the status page.
    other = browser.new_context(viewport=PHONE).new_page()
    other.goto(link)
    assert other.url.endswith("/mijn-aanvraag")
    assert reference in other.get_by_role("heading", level=1).inner_text()
    assert other.get_by_test_id("status").inner_text() in ("Nieuw", "Op de wachtlijst")
    context.close()


@SQLITE_ONLY
def test_the_same_search_works_without_javascript(server, browser, db):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    traffic = Traffic(server)
    traffic.watch(page)
    _visit(page, traffic, server + "/beschikbaarheid")
    page.get_by_label("Voor wie").select_option("ouderen")
    page.get_by_label("Alleen rolstoeltoegankelijk").check()
    page.get_by_role("button", name="Zoeken").click()
    page.wait_for_load_state("load")
    assert "doelgroep=ouderen" in page.url and "rolstoel=y" in page.url
    articles = page.locator("#resultaten article")
    assert articles.count() >= 1
    assert "rolstoeltoegankelijk" in articles.first.inner_text()
    assert re.search(r"\d+\s+vrij|vol", articles.first.locator(".calendar").inner_text())
    assert traffic.foreign == []
    context.close()


def _offer_for_request(db: Any) -> tuple[str, str]:
    care_request, _ = request_with_offer(db.session)
    reference = care_request.reference
    db.session.commit()
    token = request_links.make_link_token("browser-test", reference)
    return reference, f"/a/{token}"


@SQLITE_ONLY
def test_every_public_page_passes_axe_within_budget_and_stays_on_site(server, browser, db):
    location_id = db.session.scalars(select(Location.id).order_by(Location.id)).first()
    reference, link = _offer_for_request(db)  # commits, so the server can write
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    traffic = Traffic(server)
    traffic.watch(page)
    pages = [
        "/",
        "/?gemeente=GM0503",
        "/beschikbaarheid",
        f"/beschikbaarheid?van={clock.today()}&tot={clock.today() + timedelta(days=31)}",
        f"/locaties/{location_id}",
        "/aanvragen",
        "/contact",
        "/privacy",
        "/toegankelijkheid",
        "/klachten",
        "/link-opnieuw",
        "/mijn-aanvraag",
        "/locaties/999999",
    ]
    for path in pages:
        response = _visit(page, traffic, server + path)
        assert response.status in (200, 404), path
        _check_page(page, traffic, path)
    # Forms after a failed post, and the status page with an offer to answer.
    _visit(page, traffic, server + "/link-opnieuw")
    page.get_by_role("button", name="Stuur de link").click()
    page.wait_for_load_state("load")
    _check_page(page, traffic, "resend with error")
    _visit(page, traffic, server + "/klachten")
    page.get_by_role("button", name="Reactie versturen").click()
    page.wait_for_load_state("load")
    _check_page(page, traffic, "feedback with error")
    _visit(page, traffic, server + link)
    assert reference in page.get_by_role("heading", level=1).inner_text()
    assert page.get_by_role("button", name=re.compile("Ja, dit aanbod")).count() == 1
    _check_page(page, traffic, "status with offer")
    context.close()


def test_axe_reports_a_page_that_breaks_the_rules(browser):
    """The accessibility check itself can fail: a page without alt text, label or title."""
    page = browser.new_page()
    page.set_content('<html><body><img src="x.png"><input type="text"></body></html>')
    found = {v["id"] for v in axe_violations(page)}
    assert {"image-alt", "label", "document-title", "html-has-lang"} <= found
