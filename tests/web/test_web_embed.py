"""The embeddable page "vrije logeerbedden in uw gemeente": counts per target group for the
gemeente's region, framable by any site (this page only), no cookie, themed by tokens."""

from __future__ import annotations

import re

from tests.care_request_helpers import freeze_start
from tests.near_helpers import delft_and_around


def test_the_embed_page_shows_free_beds_per_group_for_the_gemeentes_region(client, make):
    freeze_start()
    delft_and_around(make)
    response = client.get("/ingebed/vrije-logeerbedden?gemeente=GM0503")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Vrije logeerbedden voor inwoners van Delft" in page
    groups = re.findall(r'<h2 class="embed__group">([^<]+)</h2>', page)
    assert groups == ["Ouderen", "Mensen met dementie"]
    # H5 has De Delftse Hof, Het Westduin and Trapjeshuis, 2 beds each: 6 tonight.
    assert "Vannacht: <strong>6</strong> bedden vrij." in page
    assert "op 28 van de 28 nachten plek" in page
    assert 'href="/beschikbaarheid?gemeente=GM0503" target="_top"' in page
    assert "<script" not in page and " style=" not in page and "<style" not in page


def test_only_the_embed_page_may_be_framed_and_it_sets_no_cookie(client, make):
    delft_and_around(make)
    embed = client.get("/ingebed/vrije-logeerbedden?gemeente=GM0503")
    assert "X-Frame-Options" not in embed.headers
    assert "frame-ancestors *" in embed.headers["Content-Security-Policy"]
    assert "Set-Cookie" not in embed.headers
    assert "public" in embed.headers["Cache-Control"]
    again = client.get(
        "/ingebed/vrije-logeerbedden?gemeente=GM0503",
        headers={"If-None-Match": embed.headers["ETag"]},
    )
    assert again.status_code == 304
    search = client.get("/beschikbaarheid")
    assert search.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in search.headers["Content-Security-Policy"]


def test_theme_tokens_become_a_stylesheet_of_the_site_unless_unreadable(client, make):
    delft_and_around(make)
    page = client.get(
        "/ingebed/vrije-logeerbedden?gemeente=GM0503&accent=%23005a9c&tekst=%23000000"
    ).get_data(as_text=True)
    href = re.search(r'<link rel="stylesheet" href="(/ingebed/thema\.css\?[^"]+)"', page)
    assert href is not None
    css = client.get(href[1].replace("&amp;", "&"))
    assert css.headers["Content-Type"].startswith("text/css")
    text = css.get_data(as_text=True)
    assert "--utrecht-link-color: #005a9c;" in text
    assert "--utrecht-document-color: #000000;" in text
    # Yellow links on white fail 4.5:1: the site's own colours stay.
    pale = client.get("/ingebed/thema.css?accent=ffff00").get_data(as_text=True)
    assert "--utrecht-link-color: #1a3d5c;" in pale
    plain = client.get("/ingebed/vrije-logeerbedden?gemeente=GM0503&accent=rood")
    assert "thema.css" not in plain.get_data(as_text=True)


def test_without_or_with_an_unknown_gemeente_the_page_says_how_to_use_it(client, make):
    delft_and_around(make)
    response = client.get("/ingebed/vrije-logeerbedden")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "CBS-code" in page and '<option value="GM0503">Delft</option>' in page
    assert "kennen we niet" not in page
    unknown = client.get("/ingebed/vrije-logeerbedden?gemeente=GM0001")
    assert unknown.status_code == 404
    assert "Deze gemeente kennen we niet" in unknown.get_data(as_text=True)
