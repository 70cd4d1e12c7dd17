"""The coordinator's KPI page in Dutch with a chart per figure, and the neutrality page per
region and month in words and a chart (on the KPI tests' dataset, March 2027)."""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import select

from respijt import clock
from respijt.claims import kpi_labels
from respijt.models import Region
from respijt.web import charts, kpi_sections
from tests.accounts_support import web_login
from tests.claims.test_kpis import build
from tests.claims_helpers import freeze

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
    assert "Doorlooptijd, 9 van de 10 aanvragen geplaatst binnen (uren)" in text
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


def _csv_rows(client, url: str) -> list[list[str]]:
    answer = client.get(url)
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    return [line.split(";") for line in answer.data.decode("utf-8-sig").splitlines()]


def test_the_page_and_both_csv_files_use_one_wording_and_one_share_form(client, db, make):
    data = build(db, make)
    # A large unit, published from 1 March: the bed nights of March run into the thousands.
    freeze(date(2027, 3, 1))
    make.unit(location=data.up.location, capacity=40)
    clock.freeze(None)
    region = db.session.scalars(select(Region)).one()
    web_login(client, make.user("coordinator", regions=[region]))
    query = "?van=2027-03-01&tot=2027-04-01"
    html = client.get("/coordinator/cijfers" + query).get_data(as_text=True)
    text = " ".join(_text(html).split())
    figures = dict(_csv_rows(client, "/coordinator/cijfers.csv" + query)[1:])
    header, march = _csv_rows(client, "/coordinator/cijfers-per-maand.csv" + query)
    months = dict(zip(header, march, strict=True))

    # The median lead time: one wording on the page, in its table per month and in both files.
    median = "De helft van de aanvragen geplaatst binnen (uren)"
    assert median in header and f'scope="col">{median}</th>' in html
    assert f'data-label="{median}"' in html
    assert "Doorlooptijd, de helft van de aanvragen geplaatst binnen (uren)" in figures
    assert "Doorlooptijd, de helft van de aanvragen geplaatst binnen (uren)" in text
    assert "geplaatst binnen (uren)" not in " ".join(h for h in header if h != median)
    assert "de helft geplaatst" not in html.lower() + " ".join(figures) + " ".join(header)
    # The lead time's count is a number of placements, not hours.
    assert figures["Doorlooptijd, aantal plaatsingen"] == "6"
    assert "Doorlooptijd, aantal plaatsingen" in text and "(uren), aantal" not in text
    # Plain words for the median age of the offer; no repeated word.
    fresh = "Actualiteit van het aanbod, de helft van de locaties bevestigd binnen (uren)"
    assert fresh in figures and fresh in text
    for words in (figures, text):
        assert "mediane" not in " ".join(words) and "Bezetting, bezetting" not in " ".join(words)
    # No calls counted: the figure is left out of the CSV, as on the page.
    assert not [k for k in figures if k.startswith("Telefoon")] and "Telefoon" not in text

    # Shares: a fraction with a decimal comma in both files, a percentage on the page.
    assert figures["Plaatsingsgraad"] == months["Plaatsingsgraad"] == "0,375"
    assert figures["Bezetting"] == months["Bezetting"]
    assert re.fullmatch(r"0,\d+", months["Bezetting"])
    assert "38%" in text and "%" not in ";".join(march)

    # Numbers: no thousands separator in a CSV cell, a point between thousands on the page.
    published = figures["Bezetting, bednachten beschikbaar gesteld"]
    assert published.isdigit() and int(published) >= 1000
    grouped = f"{int(published):,}".replace(",", ".")
    assert (
        f'scope="row">Beschikbaar gesteld</th><td class="utrecht-table__cell kpi-value">{grouped}<'
        in html
    )
    assert f'class="chart__value">{grouped}</text>' in html


def test_the_lead_time_chart_draws_hours_and_writes_the_count(client, db, make):
    build(db, make)
    clock.freeze(None)
    region = db.session.scalars(select(Region)).one()
    web_login(client, make.user("coordinator", regions=[region]))
    html = client.get("/coordinator/cijfers?van=2027-03-01&tot=2027-04-01").get_data(as_text=True)
    [lead] = [s for s in _sections(html) if 'id="doorlooptijd"' in s]
    svg = lead[lead.index("<svg") : lead.index("</svg>")]
    drawn = re.sub(r"<defs>.*?</defs>", "", svg, flags=re.S)
    labels = re.findall(r"<tspan[^>]*>([^<]*)</tspan>", drawn)
    assert " ".join(labels) == (
        "De helft van de aanvragen geplaatst binnen (uren) "
        "9 van de 10 aanvragen geplaatst binnen (uren)"
    )  # two bars, both in hours
    assert drawn.count("<rect") == 2
    assert "plaatsingen" not in " ".join(re.findall(r">([^<]+)</t", drawn))
    assert "geteld over 6 plaatsingen" in lead
    assert 'scope="row">Aantal plaatsingen</th><td class="utrecht-table__cell kpi-value">6<' in lead


def test_a_chart_is_laid_out_in_em_and_percent_and_wraps_a_long_label():
    chart = charts.bar_chart(
        "Titel",
        "Uitleg",
        [
            charts.Bar(
                "Stichting Kustzorg Westland: eigen bedden bij de getoonde opties", 0.5, "50%"
            ),
            charts.Bar("Kort", 1.0, "100%"),
            charts.Bar("Niet getoond", None, "<5"),
        ],
        maximum=1.0,
    )
    assert "viewBox" not in chart  # a scaled viewBox made the text twice the body size
    assert re.search(r'<svg [^>]*width="100%" height="[\d.]+em"', chart)
    widths = re.findall(r'<rect x="0" y="[\d.]+em" width="([\d.]+)%"', chart)
    assert [float(w) for w in widths] == [charts.BAR_ROOM / 2, charts.BAR_ROOM]
    lines = re.findall(r"<tspan[^>]*>([^<]*)</tspan>", chart)
    assert len(lines) == 5 and all(len(line) <= charts.LABEL_CHARS for line in lines)
    long = "Stichting Kustzorg Westland: eigen bedden bij de getoonde opties"
    assert " ".join(lines[:3]) == long and lines[3:] == ["Kort", "Niet getoond"]
    assert 'class="chart__value">&lt;5</text>' in chart  # no bar, only its text


def test_figures_on_the_page_have_a_thousands_separator():
    assert kpi_sections.value_text("occupancy.published_bed_nights", 22382, set()) == "22.382"
    assert kpi_sections.value_text("occupancy.occupancy", 0.517, set()) == "52%"
    assert kpi_sections.value_text("requests.total", None, {"requests.total"}) == "<5"


def test_a_figure_without_any_value_is_left_out_and_a_suppressed_one_stays():
    figures = {
        "suppression": {"cells": ["placement_rate"], "rule": ""},
        "requests": {"total": 3, "placed": None},
        "placement_rate": None,
        "meldpunt_calls": None,
    }
    page = kpi_sections.all_rows(figures, {})
    csv = kpi_labels.figure_rows(figures, decimal_comma=True)
    assert ("Plaatsingsgraad", "<5") in page and ("Plaatsingsgraad", "<5") in csv
    assert ("Aanvragen, geplaatst", "") in csv  # a cell inside a figure stays, empty
    assert not [label for label, _ in page + csv if label.startswith("Telefoon")]
