"""/beschikbaarheid from the client's gemeente: nearby places nearest first with the distance in
words, the care and funding filters, and "Vraag een logeerbed aan" carrying the search."""

from __future__ import annotations

import html as html_lib
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

from respijt import clock
from tests.near_helpers import delft_and_around


def _search(client, query: str) -> str:
    night = clock.today() + timedelta(days=3)
    url = f"/beschikbaarheid?van={night}&tot={night + timedelta(days=2)}&{query}"
    response = client.get(url)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _names(page: str) -> list[str]:
    return re.findall(r'<h3 class="utrecht-heading-3" id="loc-\d+"><a [^>]*>([^<]+)</a>', page)


def test_delft_dementia_wheelchair_finds_nearby_places_nearest_first(client, make):
    delft_and_around(make)
    page = _search(client, "gemeente=GM0503&doelgroep=dementie&rolstoel=y")
    assert _names(page) == ["De Delftse Hof", "Het Westduin", "Rijnzicht"]
    assert "3 logeeradressen in de buurt van Delft, het dichtstbij eerst" in page
    distances = re.findall(r'data-testid="distance">([^<]+)<', page)
    assert distances[0] in ("minder dan 1 km van Delft", "ongeveer 1 km van Delft")
    assert distances[1] == "ongeveer 10 km van Delft"
    assert distances[2] == "ongeveer 20 km van Delft"  # Delft from the shipped table
    assert "Veluwerand" not in page and "Trapjeshuis" not in page


def test_the_request_link_carries_the_clients_gemeente_filters_dates_and_place(client, make):
    around = delft_and_around(make)
    page = _search(client, "gemeente=GM0503&doelgroep=dementie&rolstoel=y&zorg=supervision_24h")
    links = [html_lib.unescape(href) for href in re.findall(r'href="(/aanvragen\?[^"]+)"', page)]
    westland = next(link for link in links if f"plek={around.westland.id}" in link)
    args = {key: values[0] for key, values in parse_qs(urlsplit(westland).query).items()}
    night = clock.today() + timedelta(days=3)
    assert args == {
        "gemeente": "GM0503",  # the client's, not Westland's
        "doelgroep": "dementie",
        "zorg": "supervision_24h",
        "rolstoel": "1",
        "van": night.isoformat(),
        "tot": (night + timedelta(days=2)).isoformat(),
        "plek": str(around.westland.id),
    }


def test_care_level_and_funding_narrow_the_places(client, make):
    around = delft_and_around(make)
    make.unit(location=around.leiden, name="Basis", care_level="basic", funding_routes=["wlz"])
    page = _search(client, "gemeente=GM0503&financiering=wlz")
    assert _names(page) == ["Rijnzicht"]
    assert re.findall(r'<h4 class="unit-name">([^<]+)</h4>', page) == ["Basis"]
    page = _search(client, "gemeente=GM0503&financiering=wlz&zorg=extra_care")
    assert _names(page) == []
    assert "Geen logeeradressen gevonden" in page


def test_an_unknown_gemeente_is_said_beside_the_field(client, make):
    delft_and_around(make)
    page = _search(client, "gemeente=GM0001")
    assert "Kies een gemeente uit de lijst." in page
    assert _names(page) == []
