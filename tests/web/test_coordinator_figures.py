"""The coordinator's KPI page in Dutch with a chart per figure, and the neutrality page per
region and month in words and a chart (on the KPI tests' dataset, March 2027)."""

from __future__ import annotations

import re

from sqlalchemy import select

from respijt import clock
from respijt.models import Region
from tests.accounts_support import web_login
from tests.claims.test_kpis import build

RAW_KEY = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)*\.(?:[a-z0-9_]+)(?:\.[a-z0-9_]+)*\b")


def _text(html: str) -> str:
    """The words a reader sees: tags, scripts and styles removed."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def _sections(html: str) -> list[str]:
    return re.findall(r'<section class="figure".*?</section>', html, flags=re.S)


def test_the_kpi_page_has_dutch_labels_and_a_chart_per_figure(client, db, make):
    build(db, make)
    clock.freeze(None)
    region = db.session.scalars(select(Region)).one()
    web_login(client, make.user("coordinator", regions=[region]))
    page = client.get("/coordinator/cijfers?van=2027-03-01&tot=2027-04-01")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    text = _text(html)
    for raw in (
        "lead_time_hours.median",
        "neutrality.",
        "placement_rate",
        "requests.total",
        "unmet_demand",
        "by_municipality",
        "own_option_share",
        "GM0503",
    ):
        assert raw not in text, raw
    assert not [k for k in RAW_KEY.findall(text) if not k.startswith(("www.", "respijt."))]
    assert "De helft van de aanvragen geplaatst binnen (uren)" in text and "8,0" in text
    # Plain words for the tables' headings and for the 90th percentile of the lead time.
    assert 'scope="col">Cijfer</th>' in html and 'scope="col">Uitkomst</th>' in html
    assert "Kengetal" not in text and "Waarde" not in text
    assert "9 van de 10 aanvragen geplaatst binnen (uren)" in text
    assert "Doorlooptijd (uren), 9 van de 10 aanvragen geplaatst binnen" in text
    assert "percentiel" not in text
    assert "Plaatsingsgraad" in text and "38%" in text  # 6 of 16
    assert "Onvervulde vraag, per gemeente, Delft" in text
    assert "Plaatsingen in eigen bedden, Pool Zorg, aandeel eigen opties" in text
    sections = _sections(html)
    assert len(sections) >= 16  # 6 per month and 10 over the period, at least
    for section in sections:
        assert section.count("<svg") == 1, section[:200]
        assert "<title" in section and "<desc" in section
    # The chart writes each value as text beside its bar: a reader needs no colour.
    placement = next(s for s in sections if 'id="aandelen"' in s)
    assert re.search(r'class="chart__value">38%</text>', placement)
    # A suppressed count draws no bar, only "<5".
    assert "&lt;5</text>" in html
    assert 'href="/coordinator/neutraliteit"' in html
    # Two different counts, two names: the page it links to is not the same figure.
    assert "Plaatsingen in eigen bedden" in text and "Neutraliteit meldpunt" not in text
    assert "Eigen bedden aangeboden per dienst" in text


def test_the_neutrality_page_says_in_words_what_the_duty_provider_did(client, db, make):
    data = build(db, make)
    clock.freeze(None)
    region = db.session.scalars(select(Region)).one()
    web_login(client, make.user("coordinator", regions=[region]))
    page = client.get(f"/coordinator/neutraliteit?regio={region.code}&maand=2027-03")
    assert page.status_code == 200
    text = " ".join(_text(page.get_data(as_text=True)).split())
    assert "Eigen bedden aangeboden per dienst" in text
    assert 'Dit is een andere telling dan "Plaatsingen in eigen bedden"' in text
    assert "Pool Zorg had 1 dienst in maart 2027 en had toen 69% van de vrije bedden" in text
    assert "10 passende bedden; 5 daarvan waren eigen bedden (50%)" in text
    assert (
        "Pool Zorg bood minder dan 5 keer een eigen bed aan; dat is 60% van alle aanbiedingen, "
        "terwijl het 69% van de vrije bedden had." in text
    )
    assert "Dat past ongeveer bij het deel van de vrije bedden van Pool Zorg." in text
    html = page.get_data(as_text=True)
    [section] = re.findall(r'data-testid="neutrality-provider".*?</section>', html, flags=re.S)
    assert section.count("<svg") == 1 and "Deel van de vrije bedden" in section
    assert f"aanbieder-{data.p.id}" in section
    # Another region's code is refused with a Dutch message beside the field.
    other = client.get("/coordinator/neutraliteit?regio=XX&maand=2027-03")
    assert other.status_code == 404 and "niet een van uw regio" in other.get_data(as_text=True)
    wrong = client.get(f"/coordinator/neutraliteit?regio={region.code}&maand=maart")
    assert wrong.status_code == 422 and "JJJJ-MM" in wrong.get_data(as_text=True)
