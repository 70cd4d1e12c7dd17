"""Browser journeys of the search near home, the open feed and the embeddable page, on the demo
data (Debian's chromium, axe-core, the 200 KB budget, no request to another origin).

Delft + dementie + rolstoel finds places (it gave "Geen logeeradressen gevonden" when the
gemeente meant the location's), nearest first; from a result, the form carries the search.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest

from respijt import clock
from respijt.cli.demo import load_demo
from tests.browser.browser import PHONE, Traffic, chromium_missing, launch
from tests.browser.live_server import running_server
from tests.browser.test_web_browser import _check_page, _visit

MISSING = chromium_missing()
if MISSING and os.environ.get("CI", "").lower() == "true":
    pytest.fail(f"browser tests must run under CI=true: {MISSING}", pytrace=False)
pytestmark = pytest.mark.skipif(MISSING is not None, reason=f"browser tests skipped: {MISSING}")
SQLITE_ONLY = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


@pytest.fixture()
def server(database_url: str, db: Any, tmp_path: Any) -> Iterator[str]:
    load_demo(db.session, now=clock.now(), today=clock.today(), horizon_days=45)
    db.session.commit()
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


@contextmanager
def other_site(html: str) -> Iterator[str]:
    """A page of another origin (another port on loopback) that holds `html`."""
    body = html.encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the http.server name
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    httpd = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()


def _kilometres(text: str) -> float:
    if text.startswith("minder dan 1 km"):
        return 0.0
    found = re.match(r"ongeveer (\d+) km", text)
    assert found is not None, text
    return float(found[1])


def _search_from_delft(page: Any) -> list[float]:
    page.get_by_label("Gemeente waar hij of zij woont").select_option("GM0503")
    page.get_by_label("Voor wie").select_option("dementie")
    page.get_by_label("Alleen rolstoeltoegankelijk").check()
    page.get_by_role("button", name="Zoeken").click()
    page.wait_for_url(re.compile(r"gemeente=GM0503"))
    page.wait_for_function("document.querySelector('#resultaten [data-testid=result-count]')")
    count = page.get_by_test_id("result-count").inner_text()
    assert "in de buurt van Delft, het dichtstbij eerst" in count, count
    distances = [
        _kilometres(text)
        for text in page.locator("#resultaten [data-testid=distance]").all_inner_texts()
    ]
    assert len(distances) >= 2
    assert distances == sorted(distances)
    return distances


@SQLITE_ONLY
def test_from_delft_on_a_phone_nearby_places_nearest_first_then_the_form_carries_it(
    server, browser
):
    context = browser.new_context(viewport=PHONE, locale="nl-NL")
    page = context.new_page()
    traffic = Traffic(server)
    traffic.watch(page)
    _visit(page, traffic, server + "/beschikbaarheid")
    _search_from_delft(page)
    _check_page(page, traffic, "search from Delft")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    first = page.locator("#resultaten article").first
    place = first.locator("h3").inner_text()
    assert "van Delft" in first.get_by_test_id("distance").inner_text()

    traffic.reset()
    first.get_by_role("link", name=re.compile("Vraag een logeerbed aan")).click()
    page.wait_for_load_state("load")
    _check_page(page, traffic, "request form from a result")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert page.get_by_label("Gemeente waar hij of zij woont").input_value() == "GM0503"
    assert page.get_by_label("Wat past het best?").input_value() == "dementie"
    assert page.get_by_label("Een rolstoeltoegankelijke kamer is nodig").is_checked()
    assert page.get_by_label("Aankomst (eerste nacht)").input_value() == clock.today().isoformat()
    assert f"Uw voorkeur: {place}" in page.get_by_test_id("preferred-place").inner_text()
    context.close()


@SQLITE_ONLY
def test_the_search_from_delft_works_without_javascript(server, browser):
    context = browser.new_context(java_script_enabled=False, viewport=PHONE)
    page = context.new_page()
    traffic = Traffic(server)
    traffic.watch(page)
    _visit(page, traffic, server + "/beschikbaarheid")
    _search_from_delft(page)
    link = page.locator("#resultaten article").first.get_by_role(
        "link", name=re.compile("Vraag een logeerbed aan")
    )
    href = link.get_attribute("href")
    assert "gemeente=GM0503" in href and "doelgroep=dementie" in href and "plek=" in href
    assert traffic.foreign == []
    context.close()


@SQLITE_ONLY
def test_the_embed_page_and_the_feed_set_no_cookie_and_stay_on_site(server, browser):
    context = browser.new_context(viewport=PHONE, locale="nl-NL")
    page = context.new_page()
    traffic = Traffic(server)
    traffic.watch(page)
    url = server + "/ingebed/vrije-logeerbedden?gemeente=GM0503&accent=005a9c"
    response = _visit(page, traffic, url)
    assert response.status == 200
    _check_page(page, traffic, "embed page")
    assert "Vrije logeerbedden voor inwoners van Delft" in page.locator("h1").inner_text()
    assert page.locator(".embed__item").count() >= 1
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert (
        page.evaluate("getComputedStyle(document.querySelector('.embed__link')).color")
        == "rgb(0, 90, 156)"
    )
    _visit(page, traffic, server + "/api/v1/open-data/free-beds?region=H5")
    assert '"freeBeds"' in page.content()
    assert context.cookies() == []
    assert traffic.foreign == []

    # Another site (another port on loopback: another origin) frames the embed page, which
    # shows; the search page refuses to be framed.
    html = (
        '<!doctype html><html lang="nl"><title>Gemeente</title>'
        f'<iframe title="vrije bedden" src="{url}"></iframe>'
        f'<iframe title="zoeken" src="{server}/beschikbaarheid"></iframe></html>'
    )
    frame_page = context.new_page()
    with other_site(html) as parent:
        frame_page.goto(parent, wait_until="load")
        embedded = frame_page.frame_locator("iframe[title='vrije bedden']")
        assert "Delft" in embedded.locator("h1").inner_text()
        search_frame = frame_page.frame_locator("iframe[title='zoeken']")
        assert "Vrije logeerbedden" not in search_frame.locator("body").inner_text()
        # A script of that site may read the feed through CORS, and not the regions.
        rows = frame_page.evaluate(
            "url => fetch(url).then(r => r.json()).then(b => b.rows.length)",
            server + "/api/v1/open-data/free-beds?municipality=GM0503",
        )
        assert rows > 0
        refused = frame_page.evaluate(
            "url => fetch(url).then(() => 'read', () => 'refused')", server + "/api/v1/regions"
        )
        assert refused == "refused"
    assert context.cookies(server) == []
    context.close()
