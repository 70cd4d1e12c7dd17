"""From a search result to a request: the form keeps every filter of the search (the client's
gemeente, not the location's) and the chosen place, which the request keeps as the family's
preference and matching ranks first."""

from __future__ import annotations

import html as html_lib
import re
from datetime import timedelta

from sqlalchemy import select

from respijt import clock
from respijt.care_requests.matching import request_matches
from respijt.models import CareRequest
from tests.browser.web_helpers import csrf_token
from tests.care_request_helpers import freeze_start
from tests.near_helpers import delft_and_around


def _request_link(client, around) -> str:
    night = clock.today() + timedelta(days=14)
    page = client.get(
        f"/beschikbaarheid?gemeente=GM0503&doelgroep=dementie&rolstoel=y&zorg=supervision_24h"
        f"&financiering=elv&van={night}&tot={night + timedelta(days=3)}"
    ).get_data(as_text=True)
    links = [html_lib.unescape(h) for h in re.findall(r'href="(/aanvragen\?[^"]+)"', page)]
    return next(link for link in links if f"plek={around.leiden.id}" in link)


def _selected(page: str, name: str) -> str | None:
    select_html = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', page, re.S)
    assert select_html is not None, name
    chosen = re.search(
        r'<option selected value="([^"]*)"|<option value="([^"]*)" selected', select_html[1]
    )
    return next((g for g in chosen.groups() if g), None) if chosen else None


def test_the_form_from_a_result_carries_the_search_and_the_chosen_place(client, make):
    freeze_start()
    around = delft_and_around(make)
    form_page = client.get(_request_link(client, around)).get_data(as_text=True)
    assert _selected(form_page, "municipality") == "GM0503"  # the client's gemeente
    assert _selected(form_page, "target_group") == "dementie"
    assert _selected(form_page, "funding") == "elv"
    assert re.search(
        r'<input[^>]*checked[^>]*name="care_level"[^>]*value="supervision_24h"'
        r'|<input[^>]*value="supervision_24h"[^>]*checked',
        form_page,
    )
    assert re.search(
        r'<input[^>]*name="wheelchair"[^>]*checked|<input[^>]*checked[^>]*name="wheelchair"',
        form_page,
    )
    night = clock.today() + timedelta(days=14)
    assert f'value="{night.isoformat()}"' in form_page
    assert f'value="{(night + timedelta(days=3)).isoformat()}"' in form_page
    preference = re.search(r'data-testid="preferred-place">(.*?)</div>', form_page, re.S)
    assert preference is not None
    assert "Uw voorkeur: <strong>Rijnzicht</strong>" in preference[1]
    assert f'name="preferred_location" type="hidden" value="{around.leiden.id}"' in preference[1]


def test_the_request_keeps_the_place_as_preference_and_matching_ranks_it_first(
    client, make, db, app
):
    freeze_start()
    around = delft_and_around(make)
    night = clock.today() + timedelta(days=14)
    token = csrf_token(client.get("/aanvragen").get_data(as_text=True))
    response = client.post(
        "/aanvragen",
        data={
            "csrf_token": token,
            "requester": "mantelzorger",
            "first_name": "Ans",
            "birth_year": "1938",
            "municipality": "GM0503",
            "target_group": "dementie",
            "care_level": "supervision_24h",
            "wheelchair": "y",
            "language": "",
            "arrival": night.isoformat(),
            "departure": (night + timedelta(days=3)).isoformat(),
            "flexibility_days": "0",
            "urgency": "planned",
            "reason": "vakantie",
            "funding": "elv",
            "contact_name": "Marja de Vries",
            "contact_mobile": "06 12345678",
            "consent": "y",
            "preferred_location": str(around.leiden.id),
        },
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    care_request = db.session.scalars(select(CareRequest)).one()
    assert care_request.preferred_location_id == around.leiden.id
    matches = request_matches(
        db.session, care_request, now=clock.now(), today=clock.today(), stale_after_hours=72
    )
    # Rijnzicht lies in another region, ~19 km away, yet the family chose it: first.
    assert matches[0].location["id"] == around.leiden.id
    assert "voorkeur van de aanvrager" in matches[0].reasons
    assert all("voorkeur van de aanvrager" not in m.reasons for m in matches[1:])


def test_an_unknown_place_is_left_out_and_the_request_still_goes(client, make, db):
    freeze_start()
    delft_and_around(make)
    page = client.get("/aanvragen?gemeente=GM0503&plek=999999").get_data(as_text=True)
    assert 'data-testid="preferred-place"' not in page
