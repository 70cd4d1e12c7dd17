"""The coordinator's key figures (/coordinator/cijfers) in Debian's chromium, on a phone (375 px)
and a laptop (1280 px): no word or number in a table is split over two lines and no cell or the
page scrolls sideways; chart text is the size of the body text and fits its chart; numbers on
the page have a thousands separator; the lead-time chart draws hours only. axe on both widths.
SQLite only, as the other browser tests."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from respijt import clock
from respijt.models import Location, Region
from tests.browser import test_web_browser as journeys
from tests.browser.browser import PHONE, Traffic
from tests.browser.test_web_browser import MISSING, SQLITE_ONLY, _check_page, _visit
from tests.browser.test_web_staff_browser import _login

server, browser, demo = journeys.server, journeys.browser, journeys.demo

pytestmark = pytest.mark.skipif(MISSING is not None, reason=f"browser tests skipped: {MISSING}")

LAPTOP = {"width": 1280, "height": 900}

# Every word in a table cell must sit on one line: a word broken by the browser (hyphenated
# or cut, "Uitkoms t", "2238 2") has client rectangles on two lines. A hyphen in a name
# ("Midden-Delfland") may end a line, so words are counted between spaces and hyphens. A
# column's name written before a value on a phone (`::before`) is not a text node: it must
# not be hyphenated or cut either.
SPLIT_WORDS_JS = r"""
() => {
  const found = [];
  for (const cell of document.querySelectorAll('main table th, main table td')) {
    const text = cell.textContent.trim().slice(0, 60);
    if (cell.scrollWidth > cell.clientWidth + 1) found.push(['breder dan de cel', text]);
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (const word of node.data.matchAll(/[^\s\-\u2010]+/g)) {
        const range = document.createRange();
        range.setStart(node, word.index);
        range.setEnd(node, word.index + word[0].length);
        const lines = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
        if (lines.size > 1) found.push(['gesplitst', word[0]]);
      }
    }
    const before = getComputedStyle(cell, '::before');
    if (before.content !== 'none' && before.content !== 'normal' && (
        before.hyphens === 'auto' || before.wordBreak !== 'normal'
        || before.overflowWrap !== 'normal')) {
      found.push(['kolomnaam kan breken', before.content]);
    }
  }
  return found;
}
"""

# The rendered size of every chart text (its font size times the chart's scale on screen)
# against the body text, and whether each text stays inside its chart.
CHART_TEXT_JS = r"""
() => {
  const body = parseFloat(getComputedStyle(document.querySelector('main p.utrecht-paragraph')).fontSize);
  const texts = [...document.querySelectorAll('main svg.chart text')].map(t => {
    const m = t.getScreenCTM();
    const box = t.getBoundingClientRect(), chart = t.ownerSVGElement.getBoundingClientRect();
    return {
      text: t.textContent,
      size: parseFloat(getComputedStyle(t).fontSize) * Math.hypot(m.a, m.b),
      // a glyph's side bearing may reach a pixel past the start
      inside: box.left >= chart.left - 2 && box.right <= chart.right + 2
        && box.top >= chart.top - 2 && box.bottom <= chart.bottom + 2,
    };
  });
  return {body, texts};
}
"""


@SQLITE_ONLY
def test_the_key_figures_read_well_on_a_phone_and_a_laptop(server, browser, db, make):
    h5 = db.session.scalars(select(Region).where(Region.code == "H5")).one()
    location = db.session.scalars(
        select(Location).where(Location.municipality.has(region_id=h5.id)).order_by(Location.id)
    ).first()
    # A large unit, so bed nights run into the thousands over the period.
    make.unit(location=location, capacity=60, name="Grote eenheid")
    today = clock.today()
    url = f"/coordinator/cijfers?van={today}&tot={today + timedelta(days=40)}"
    user = make.user("coordinator", regions=[h5])
    user.email, user.totp_secret  # noqa: B018  (read now: the server writes next)

    context = browser.new_context(viewport=PHONE, locale="nl-NL")
    page = context.new_page()
    traffic = Traffic(server)
    traffic.watch(page)
    _login(page, traffic, server, user, db)  # once: a second code in the same 30 s is refused
    for name, viewport in (("375", PHONE), ("1280", LAPTOP)):
        page.set_viewport_size(viewport)
        _visit(page, traffic, server + url)
        _check_page(page, traffic, f"kerncijfers {name}")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= viewport["width"], f"{name}: {width} px wide"
        found = page.evaluate(SPLIT_WORDS_JS)
        assert found == [], f"{name}: {found}"
        charts = page.evaluate(CHART_TEXT_JS)
        assert charts["texts"], name
        wrong = [t for t in charts["texts"] if abs(t["size"] - charts["body"]) > 0.5]
        assert wrong == [], f"{name}: body {charts['body']} px, {wrong[:3]}"
        page.screenshot(path=f"/tmp/kpipage-{name}.png", full_page=True)
        assert [t["text"] for t in charts["texts"] if not t["inside"]] == [], name

        # Bed nights in the thousands, written with a point on the page.
        row = (
            page.locator("#bezetting")
            .locator("xpath=..")
            .get_by_role("row", name=re.compile("Beschikbaar gesteld"))
        )
        assert re.fullmatch(r"\d{1,3}(\.\d{3})+", row.locator("td").inner_text().strip())

        # The lead-time chart draws the hours; the number of placements is text, not a bar.
        lead = page.locator("section.figure", has=page.locator("#doorlooptijd"))
        assert "geteld over" in lead.locator("p").first.inner_text()
        drawn = " ".join(lead.locator("svg text").all_text_contents())
        assert "plaatsingen" not in drawn and "geplaatst binnen (uren)" in drawn
        assert lead.locator("svg > rect").count() <= 2
    context.close()
