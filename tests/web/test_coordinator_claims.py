"""The coordinator's claims, leegstand and tariff pages (issue 23): their own regions only.

Two regions, A and B, each with a provider, a stay in March 2027 and a tariff. A coordinator of
A sees A's sums and downloads A's lines; a filter on B answers 404, a tariff in B 403. The CSV
files are read as a spreadsheet would: UTF-8 with BOM, Dutch headers, no comment row.
"""

from __future__ import annotations

import csv
import io
from datetime import date

from sqlalchemy import func, select

from respijt import clock
from respijt.claims import formats, ledger, leegstand
from respijt.claims import months as claim_months
from respijt.models import AccessLog, Tariff
from tests.accounts_support import csrf_token, web_login
from tests.claims_helpers import freeze, request, stay, tariff

MARCH = "2027-03"


def _side(make, db, code: str, name: str):
    region = make.region()
    municipality = make.municipality(code, region=region, name=name)
    provider = make.provider(name=f"Zorg {name}", regions=[region])
    location = make.location(provider=provider, municipality=municipality)
    unit = make.unit(location=location, capacity=2, funding_routes=["wmo"])
    tariff(db.session, municipality, 12550, date(2027, 1, 1))
    care_request = request(db.session, municipality)
    reservation = stay(db.session, unit, date(2027, 3, 10), date(2027, 3, 14), care_request)
    return region, municipality, provider, reservation


def _world(make, db):
    freeze(date(2027, 3, 1))
    a = _side(make, db, "GM0001", "Aadorp")
    b = _side(make, db, "GM0002", "Beekbergen")
    return a, b


def read_csv(response) -> list[list[str]]:
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.data.startswith(b"\xef\xbb\xbf")  # the BOM
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig")), delimiter=";"))


def _access_rows(db, action: str) -> int:
    return db.session.scalar(
        select(func.count()).select_from(AccessLog).where(AccessLog.action == action)
    )


def test_the_claims_page_sums_the_own_regions_per_provider_and_gemeente(client, db, make):
    (region, municipality, provider, _), b = _world(make, db)
    web_login(client, make.user("coordinator", regions=[region]))
    page = client.get(f"/coordinator/declaratie?maand={MARCH}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Zorg Aadorp" in html and "Aadorp (GM0001)" in html
    assert "Beekbergen" not in html  # not B's provider, gemeente or lines
    # 4 nights at € 125,50
    assert "Totaal Wmo: 1 regel, 4 nachten, €\xa0502,00." in html  # Babel's euro
    # Another month has nothing; a month typed wrongly keeps the page with a Dutch message.
    assert "Totaal Wmo: 0 regels," in client.get("/coordinator/declaratie?maand=2027-05").text
    wrong = client.get("/coordinator/declaratie?maand=maart")
    assert wrong.status_code == 400 and "Kies een maand als jjjj-mm" in wrong.text


def test_the_claims_csv_opens_as_dutch_text_and_logs_each_stay(client, db, make):
    (region, municipality, provider, reservation), b = _world(make, db)
    web_login(client, make.user("coordinator", regions=[region]))
    before = _access_rows(db, "claims.list")
    response = client.get(f"/coordinator/declaratie.csv?maand={MARCH}")
    rows = read_csv(response)
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="declaratieregels-{MARCH}-gemeente-wmo.csv"'
    )
    assert rows[0] == list(formats.CSV_HEADER)
    assert rows[0][5] == "Cliëntreferentie"
    assert not any(row[0].startswith("#") for row in rows)
    [line] = rows[1:]
    assert line[4] == str(reservation.id) and line[9] == "GM0001"
    assert (line[16], line[17], line[18]) == ("4", "125,50", "502,00")  # decimal comma
    assert _access_rows(db, "claims.list") == before + 1
    other = read_csv(client.get(f"/coordinator/declaratie.csv?maand={MARCH}&lijst=overig"))
    assert other == [list(formats.CSV_HEADER)]


def test_another_regions_claims_filters_and_exports_answer_404(client, db, make):
    (region, *_), (_, b_municipality, b_provider, _) = _world(make, db)
    web_login(client, make.user("coordinator", regions=[region]))
    for query in (f"gemeente={b_municipality.code}", f"aanbieder={b_provider.id}"):
        page = client.get(f"/coordinator/declaratie?maand={MARCH}&{query}")
        assert (
            page.status_code == 404
            and "hoort niet bij uw regio" in page.text
            or ("bestaat niet in uw regio" in page.text)
        )
        assert client.get(f"/coordinator/declaratie.csv?maand={MARCH}&{query}").status_code == 404
        assert client.get(f"/coordinator/leegstand?maand={MARCH}&{query}").status_code == 404
        assert client.get(f"/coordinator/leegstand.csv?maand={MARCH}&{query}").status_code == 404
    export, _ = ledger.export_month(
        db.session,
        claim_months.Month.parse(MARCH),
        provider_id=b_provider.id,
        actor="token:admin",
        now=clock.now(),
        today=clock.today(),
    )
    db.session.commit()
    assert client.get(f"/coordinator/declaratie/export/{export.id}.csv").status_code == 404
    assert "nog geen aanbieder" in client.get(f"/coordinator/declaratie?maand={MARCH}").text.lower()


def test_an_export_batch_of_the_own_region_downloads_as_frozen(client, db, make):
    (region, _, provider, reservation), _ = _world(make, db)
    export, _ = ledger.export_month(
        db.session,
        claim_months.Month.parse(MARCH),
        provider_id=provider.id,
        actor="token:admin",
        now=clock.now(),
        today=clock.today(),
    )
    db.session.commit()
    web_login(client, make.user("coordinator", regions=[region]))
    page = client.get(f"/coordinator/declaratie?maand={MARCH}").text
    assert "export nummer 1" in page
    response = client.get(f"/coordinator/declaratie/export/{export.id}.csv")
    rows = read_csv(response)
    assert (
        f'filename="declaratie-export-{MARCH}-nr-1-gemeente-wmo.csv"'
        in (response.headers["Content-Disposition"])
    )
    assert rows[1][4] == str(reservation.id) and rows[1][20] == "1"
    assert _access_rows(db, "claims.export_read") == 1


def test_the_leegstand_register_and_its_csv(client, db, make):
    (region, municipality, provider, _), _ = _world(make, db)
    web_login(client, make.user("coordinator", regions=[region]))
    page = client.get(f"/coordinator/leegstand?maand={MARCH}")
    assert page.status_code == 200
    assert "Zorg Aadorp" in page.text and "Zorg Beekbergen" not in page.text
    rows = read_csv(client.get(f"/coordinator/leegstand.csv?maand={MARCH}"))
    assert rows[0] == list(leegstand.REGISTER_HEADER)
    assert [row[1] for row in rows[1:]] == ["Zorg Aadorp"]
    used = int(rows[1][9])
    assert used == 4 and "," in rows[1][11]  # 4 nights used; the share with a decimal comma
    assert rows[1][12] == "ja"  # March is not over on 1 March


def test_a_coordinator_sets_a_tariff_in_the_own_regions_only(client, db, make):
    (region, municipality, *_), (_, b_municipality, *_) = _world(make, db)
    web_login(client, make.user("coordinator", regions=[region]))
    page = client.get("/coordinator/tarieven")
    assert page.status_code == 200
    assert "Aadorp" in page.text and "Beekbergen" not in page.text
    form = {
        "financiering": "wmo",
        "productcode": "45A09",
        "tarief": "131,25",
        "geldig_vanaf": "2027-07-01",
        "csrf_token": csrf_token(client, "/coordinator/tarieven"),
    }
    refused = client.post("/coordinator/tarieven", data={**form, "gemeente": b_municipality.code})
    assert refused.status_code == 403 and "hoort niet bij uw regio" in refused.text
    bad = client.post(
        "/coordinator/tarieven", data={**form, "gemeente": "GM0001", "tarief": "veel"}
    )
    assert bad.status_code == 400 and "Vul een bedrag in euro in" in bad.text
    assert 'value="veel"' in bad.text  # nothing typed is lost
    done = client.post("/coordinator/tarieven", data={**form, "gemeente": "GM0001"})
    assert done.status_code == 302
    prices = db.session.execute(
        select(Tariff.price_cents, Tariff.valid_from, Tariff.valid_to)
        .where(Tariff.municipality_id == municipality.id)
        .order_by(Tariff.valid_from)
    ).all()
    # The open tariff from January now ends where the new one starts.
    assert prices == [
        (12550, date(2027, 1, 1), date(2027, 7, 1)),
        (13125, date(2027, 7, 1), None),
    ]
    listed = client.get("/coordinator/tarieven").text
    assert "€\xa0131,25" in listed and "Het tarief is opgeslagen." in listed
    overlap = client.post(
        "/coordinator/tarieven",
        data={
            **form,
            "gemeente": "GM0001",
            "geldig_vanaf": "2027-02-01",
            "geldig_tot": "2027-03-01",
        },
    )
    assert overlap.status_code == 400 and "Er geldt al een tarief" in overlap.text


def test_other_roles_do_not_see_the_coordinator_pages(client, db, make):
    _world(make, db)
    web_login(client, make.user("provider"))
    for path in ("/coordinator/declaratie", "/coordinator/leegstand", "/coordinator/tarieven"):
        assert client.get(path).status_code == 403
