"""The provider's own claims and leegstand (issue 23): the page, the CSV files, exporting a
month, and nothing of another provider's figures."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from respijt.claims import formats, leegstand
from respijt.models import ClaimExport
from tests.accounts_support import web_login
from tests.claims_helpers import freeze, request, stay, tariff
from tests.web.test_coordinator_claims import read_csv

MARCH = "2027-03"


def _provider(make, db, code: str, name: str):
    region = make.region()
    municipality = make.municipality(code, region=region, name=name)
    provider = make.provider(name=f"Zorg {name}", regions=[region])
    location = make.location(provider=provider, municipality=municipality)
    unit = make.unit(location=location, capacity=2, funding_routes=["wmo"])
    tariff(db.session, municipality, 10000, date(2027, 1, 1))
    care_request = request(db.session, municipality)
    reservation = stay(db.session, unit, date(2027, 3, 10), date(2027, 3, 13), care_request)
    return provider, reservation


def test_a_provider_sees_and_downloads_its_own_figures_only(client, db, make):
    freeze(date(2027, 3, 1))
    mine, reservation = _provider(make, db, "GM0001", "Aadorp")
    theirs, _ = _provider(make, db, "GM0002", "Beekbergen")
    web_login(client, make.user("provider", provider=mine))
    page = client.get(f"/aanbieder/declaratie?maand={MARCH}")
    assert page.status_code == 200
    assert "Wmo: 1 regel, 3 nachten, €\xa0300,00" in page.text  # Babel's euro
    assert "Aadorp" in page.text and "Beekbergen" not in page.text
    rows = read_csv(client.get(f"/aanbieder/declaratie.csv?maand={MARCH}"))
    assert rows[0] == list(formats.CSV_HEADER) and len(rows) == 2
    assert rows[1][4] == str(reservation.id) and rows[1][6] == "Zorg Aadorp"
    register = read_csv(client.get(f"/aanbieder/leegstand.csv?maand={MARCH}"))
    assert register[0] == list(leegstand.REGISTER_HEADER)
    assert {row[1] for row in register[1:]} == {"Zorg Aadorp"}

    # Export the month: a batch of its own; the other provider's batch is not found.
    done = client.post(
        "/aanbieder/declaratie/exporteren",
        data={"maand": MARCH, "csrf_token": _token(client)},
    )
    assert done.status_code == 302
    assert "export nummer 1" in client.get(done.headers["Location"]).text.lower()
    export = db.session.scalar(select(ClaimExport).where(ClaimExport.provider_id == mine.id))
    frozen = read_csv(client.get(f"/aanbieder/declaratie/export/{export.id}.csv"))
    assert frozen[1][4] == str(reservation.id) and frozen[1][20] == "1"
    other = ClaimExport(
        provider_id=theirs.id, month=MARCH, seq=1, exported_at=export.exported_at, exported_by="x"
    )
    db.session.add(other)
    db.session.commit()
    assert client.get(f"/aanbieder/declaratie/export/{other.id}.csv").status_code == 404
    future = client.post(
        "/aanbieder/declaratie/exporteren",
        data={"maand": "2027-05", "csrf_token": _token(client)},
        follow_redirects=True,
    )
    assert "nog niet begonnen" in future.text


def _token(client) -> str:
    import re

    html = client.get("/aanbieder/declaratie").text
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_a_wrong_month_keeps_the_page_with_a_dutch_message(client, db, make):
    freeze(date(2027, 3, 1))
    web_login(client, make.user("provider"))
    page = client.get("/aanbieder/declaratie?maand=13-2027")
    assert page.status_code == 400 and "Kies een maand als jjjj-mm" in page.text
    assert client.get("/aanbieder/declaratie.csv?maand=13-2027").status_code in (400, 422)
