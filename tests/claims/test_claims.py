"""Claims (declaratie): month split, year boundary, cancellation, corrections after export,
tariffs changing mid-month, byte-identical re-export, and the claims API."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date

import pytest

from respijt import clock
from respijt.claims import ledger, months, tariffs
from respijt.claims.formats import CSV_HEADER
from respijt.errors import InvalidInput
from respijt.models import ClaimExport, Location, Municipality, Provider, Unit
from respijt.reservations import steps
from tests.api.test_api_registry import assert_problem
from tests.claims_helpers import (
    STAFF,
    check_in,
    check_out,
    deliver,
    freeze,
    lines,
    request,
    stay,
    tariff,
)


@dataclass
class World:
    delft: Municipality
    provider: Provider
    location: Location
    unit: Unit


def _world(make, start: date = date(2027, 3, 1), **unit_kw) -> World:
    freeze(start)
    region = make.region()
    delft = make.municipality("GM0503", region=region, name="Delft")
    provider = make.provider(name="Zorg Delft", regions=[region], agb_code="12345678")
    location = make.location(provider=provider, municipality=delft, name="De Linde")
    unit = make.unit(location=location, capacity=3, funding_routes=["wmo"], **unit_kw)
    return World(delft, provider, location, unit)


def _export(db, month: str, provider: Provider):
    export, created = ledger.export_month(
        db.session,
        months.Month.parse(month),
        provider_id=provider.id,
        actor="token:provider",
        now=clock.now(),
        today=clock.today(),
    )
    db.session.commit()
    return export, created


def _cancel(db, reservation) -> None:
    steps.cancel(
        db.session, reservation, party="requester", caller=STAFF, now=clock.now(), reason="ziek"
    )
    db.session.commit()


def test_three_week_stay_over_march_and_april_gives_lines_of_14_and_7_nights(db, make):
    w = _world(make)
    tariff(db.session, w.delft, 10500, date(2027, 1, 1))
    care_request = request(db.session, w.delft, funding="wmo")
    reservation = stay(db.session, w.unit, date(2027, 3, 18), date(2027, 4, 8), care_request)

    # Confirmed, not yet arrived: both parts are shown, provisional.
    assert [(x.nights, x.provisional) for x in lines(db.session, "2027-03")] == [(14, True)]
    assert [(x.nights, x.provisional) for x in lines(db.session, "2027-04")] == [(7, True)]

    check_in(db.session, reservation)
    freeze(date(2027, 4, 3))
    # Checked in: March is delivered, April still runs.
    assert [x.provisional for x in lines(db.session, "2027-03")] == [False]
    assert [x.provisional for x in lines(db.session, "2027-04")] == [True]

    check_out(db.session, reservation)
    [march] = lines(db.session, "2027-03")
    [april] = lines(db.session, "2027-04")
    assert march.line_id == f"{reservation.id}-202703-v1-18"
    assert (march.period_from, march.period_to, march.nights) == (
        date(2027, 3, 18),
        date(2027, 4, 1),
        14,
    )
    assert (april.period_from, april.period_to, april.nights) == (
        date(2027, 4, 1),
        date(2027, 4, 8),
        7,
    )
    assert not march.provisional and not april.provisional
    assert (march.client_reference, march.funding, march.payer) == (
        care_request.reference,
        "wmo",
        "gemeente",
    )
    assert (march.product_code, march.price_cents, march.amount_cents) == ("45A07", 10500, 147000)
    assert april.amount_cents == 73500
    assert march.municipality_id == april.municipality_id == w.delft.id


def test_stay_over_new_year_is_split_into_december_and_january(db, make):
    w = _world(make, start=date(2027, 12, 1))
    reservation = stay(db.session, w.unit, date(2027, 12, 25), date(2028, 1, 5))
    deliver(db.session, reservation)
    december = lines(db.session, "2027-12")
    january = lines(db.session, "2028-01")
    assert [(x.line_id, x.nights) for x in december] == [(f"{reservation.id}-202712-v1-25", 7)]
    assert [(x.line_id, x.nights) for x in january] == [(f"{reservation.id}-202801-v1-01", 4)]
    # Without a care request: the reservation's short code, the unit's route, no tariff yet.
    assert december[0].client_reference == reservation.short_code
    assert december[0].funding == "wmo" and december[0].amount_cents is None
    assert lines(db.session, "2027-11") == [] and lines(db.session, "2028-02") == []


def test_cancelled_stay_yields_nothing_and_once_exported_a_credit_line(db, make):
    w = _world(make)
    tariff(db.session, w.delft, 10500, date(2027, 1, 1))
    never_exported = stay(db.session, w.unit, date(2027, 3, 5), date(2027, 3, 8))
    exported = stay(db.session, w.unit, date(2027, 3, 10), date(2027, 3, 15))
    _cancel(db, never_exported)
    assert [x.reservation_id for x in lines(db.session, "2027-03")] == [exported.id]

    first, created = _export(db, "2027-03", w.provider)
    assert created and first is not None and first.seq == 1
    _cancel(db, exported)
    claim, credit = lines(db.session, "2027-03")
    assert (claim.kind, claim.export_seq, claim.nights) == ("claim", 1, 5)
    assert (credit.kind, credit.export_id, credit.credits) == ("credit", None, claim.line_id)
    assert credit.line_id == claim.line_id + "-C"
    assert (credit.nights, credit.amount_cents) == (-5, -52500)

    second, created = _export(db, "2027-03", w.provider)
    assert created and second is not None and second.seq == 2
    assert [x.line_id for x in ledger.export_lines(db.session, second)] == [credit.line_id]
    after = lines(db.session, "2027-03")
    assert [x.export_seq for x in after] == [1, 2]
    assert sum(x.nights for x in after) == 0


def test_stay_changed_after_export_is_credited_and_reissued_never_edited(db, make):
    w = _world(make)
    tariff(db.session, w.delft, 10000, date(2027, 1, 1))
    reservation = stay(db.session, w.unit, date(2027, 3, 10), date(2027, 3, 24))
    freeze(date(2027, 3, 5))
    _export(db, "2027-03", w.provider)
    [exported] = lines(db.session, "2027-03")
    assert (exported.line_id, exported.nights, exported.provisional) == (
        f"{reservation.id}-202703-v1-10",
        14,
        True,
    )

    steps.change_dates(
        db.session,
        reservation,
        arrival=date(2027, 3, 10),
        departure=date(2027, 3, 20),
        caller=STAFF,
        now=clock.now(),
        today=clock.today(),
    )
    db.session.commit()
    old, credit, new = lines(db.session, "2027-03")
    assert old == exported  # the exported line itself is untouched
    assert (credit.kind, credit.nights, credit.credits) == ("credit", -14, exported.line_id)
    assert (new.line_id, new.version, new.nights) == (f"{reservation.id}-202703-v2-10", 2, 10)
    _export(db, "2027-03", w.provider)

    # Delivered as planned: nothing to correct, the line is no longer provisional.
    deliver(db.session, reservation)
    current = lines(db.session, "2027-03")
    assert [x.line_id for x in current] == [old.line_id, credit.line_id, new.line_id]
    assert current[-1].provisional is False and all(x.export_id for x in current)

    # An early check-out shortens the stay after its export: credit v2, reissue v3.
    late = stay(db.session, w.unit, date(2027, 3, 25), date(2027, 3, 31))
    check_in(db.session, late)
    _export(db, "2027-03", w.provider)
    check_out(db.session, late, on=date(2027, 3, 28))
    tail = [x for x in lines(db.session, "2027-03") if x.reservation_id == late.id]
    assert [(x.line_id, x.nights, x.export_id is None) for x in tail] == [
        (f"{late.id}-202703-v1-25", 6, False),
        (f"{late.id}-202703-v1-25-C", -6, True),
        (f"{late.id}-202703-v2-25", 3, True),
    ]


def test_tariff_change_mid_month_splits_the_stay_by_tariff(db, make):
    w = _world(make)
    tariff(db.session, w.delft, 10000, date(2027, 1, 1), product_code="45A07")
    tariff(db.session, w.delft, 11000, date(2027, 3, 15), product_code="45A08")
    tariff(db.session, w.delft, 20000, date(2027, 1, 1), funding="elv", product_code="ELV1")
    with pytest.raises(InvalidInput):
        tariff(db.session, w.delft, 1, date(2027, 3, 1), valid_to=date(2027, 3, 20))
    db.session.rollback()
    reservation = stay(db.session, w.unit, date(2027, 3, 10), date(2027, 3, 20))
    deliver(db.session, reservation)
    march = lines(db.session, "2027-03")
    assert [
        (x.line_id, x.period_from.day, x.nights, x.product_code, x.price_cents, x.amount_cents)
        for x in march
    ] == [
        (f"{reservation.id}-202703-v1-10", 10, 5, "45A07", 10000, 50000),
        (f"{reservation.id}-202703-v1-15", 15, 5, "45A08", 11000, 55000),
    ]
    rows = tariffs.list_tariffs(db.session, "GM0503")
    wmo = [(t.valid_from, t.valid_to) for t, _ in rows if t.funding == "wmo"]
    assert wmo == [(date(2027, 1, 1), date(2027, 3, 15)), (date(2027, 3, 15), None)]


def _two_providers(make, db):
    w = _world(make)
    tariff(db.session, w.delft, 10500, date(2027, 1, 1))
    tariff(db.session, w.delft, 12000, date(2027, 1, 1), funding="elv", product_code="Z01")
    other_provider = make.provider(name="Andere Zorg")
    other_unit = make.unit(
        location=make.location(provider=other_provider, municipality=w.delft), capacity=1
    )
    wmo = stay(
        db.session, w.unit, date(2027, 3, 18), date(2027, 4, 8), request(db.session, w.delft)
    )
    elv = stay(
        db.session,
        w.unit,
        date(2027, 3, 2),
        date(2027, 3, 6),
        request(db.session, w.delft, funding="elv"),
    )
    theirs = stay(db.session, other_unit, date(2027, 3, 3), date(2027, 3, 5))
    return w, other_provider, wmo, elv, theirs


def test_claims_api_shows_a_provider_its_own_lines_and_a_coordinator_all(client, db, make):
    w, other_provider, wmo, elv, theirs = _two_providers(make, db)
    mine = make.token("provider", w.provider)
    answer = client.get("/api/v1/claims?month=2027-03", headers=mine)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    body = answer.get_json()
    assert body["month"] == "2027-03" and "BSN" in body["note"]
    [line] = body["lines"]
    assert line["id"] == f"{wmo.id}-202703-v1-18" and line["reservation_id"] == wmo.id
    assert line["provider"] == {"id": w.provider.id, "name": "Zorg Delft", "agb_code": "12345678"}
    assert line["municipality"] == {"code": "GM0503", "name": "Delft"}
    assert (line["nights"], line["provisional"], line["tariff"], line["amount"]) == (
        14,
        True,
        "105.00",
        "1470.00",
    )
    assert (line["from"], line["to"], line["export"]) == ("2027-03-18", "2027-04-01", None)
    # ELV is listed apart, never as a gemeente claim.
    [other] = body["other_payers"]
    assert (other["reservation_id"], other["payer"], other["amount"]) == (
        elv.id,
        "zorgverzekeraar",
        "480.00",
    )

    everyone = client.get("/api/v1/claims?month=2027-03", headers=make.token("coordinator"))
    ids = {x["reservation_id"] for x in everyone.get_json()["lines"]}
    assert ids == {wmo.id, theirs.id}
    narrowed = client.get(
        f"/api/v1/claims?month=2027-03&provider={other_provider.id}",
        headers=make.token("coordinator"),
    )
    assert [x["reservation_id"] for x in narrowed.get_json()["lines"]] == [theirs.id]

    assert_problem(
        client.get(f"/api/v1/claims?month=2027-03&provider={other_provider.id}", headers=mine),
        403,
    )
    assert_problem(client.get("/api/v1/claims?month=2027-03", headers=make.token("verwijzer")), 403)
    assert_problem(client.get("/api/v1/claims?month=2027-03"), 401)
    bad = assert_problem(client.get("/api/v1/claims?month=2027-13", headers=mine), 422)
    assert bad["invalidParams"][0]["name"] == "month"


def test_reexport_is_identical_byte_for_byte_and_csv_opens_as_dutch_text(client, db, make):
    w, _, wmo, elv, _ = _two_providers(make, db)
    deliver(db.session, wmo)
    freeze(date(2027, 4, 9))
    mine = make.token("provider", w.provider)

    created = client.post("/api/v1/claims/exports", json={"month": "2027-03"}, headers=mine)
    assert created.status_code == 201, created.get_data(as_text=True)
    export = created.get_json()["export"]
    assert export["seq"] == 1 and export["exported_at"] == "2027-04-09T09:00:00Z"
    assert [x["export"]["seq"] for x in created.get_json()["lines"]] == [1]

    freeze(date(2027, 4, 20))  # later, nothing changed
    url = f"/api/v1/claims/exports/{export['id']}?format=csv&decimal=comma"
    first = client.get(url, headers=mine)
    again = client.post(
        "/api/v1/claims/exports?format=csv&decimal=comma", json={"month": "2027-03"}, headers=mine
    )
    assert again.status_code == 200
    assert first.data == again.data == client.get(url, headers=mine).data
    month_csv = client.get("/api/v1/claims?month=2027-03&format=csv&decimal=comma", headers=mine)
    # The month view lists the same frozen lines; only the file's name differs.
    assert month_csv.data == first.data
    assert month_csv.headers["Content-Disposition"] == (
        'attachment; filename="declaratieregels-2027-03-gemeente-wmo.csv"'
    )
    assert first.headers["Content-Disposition"] == (
        'attachment; filename="declaratie-export-2027-03-nr-1-gemeente-wmo.csv"'
    )
    assert (
        month_csv.data
        == client.get("/api/v1/claims?month=2027-03&format=csv&decimal=comma", headers=mine).data
    )

    assert first.headers["Content-Type"] == "text/csv; charset=utf-8"
    # UTF-8 with a byte order mark, Dutch headers first: no title or comment row.
    assert first.data.startswith(b"\xef\xbb\xbf")
    text = first.data.decode("utf-8-sig").splitlines()
    assert text[0].split(";") == list(CSV_HEADER)
    assert text[0].startswith("Regel;Soort;Crediteert regel;") and "Cliëntreferentie" in text[0]
    assert not any(line.startswith("#") for line in text)
    [row] = [line.split(";") for line in text[1:]]
    record = dict(zip(CSV_HEADER, row, strict=True))
    assert record["Regel"] == f"{wmo.id}-202703-v1-18"
    assert (record["Eerste nacht"], record["Laatste nacht"], record["Nachten"]) == (
        "2027-03-18",
        "2027-03-31",
        "14",
    )
    assert (record["Tarief"], record["Bedrag"], record["Voorlopig"]) == ("105,00", "1470,00", "nee")
    assert (record["Betaler"], record["Export"]) == ("gemeente", "1")
    # What the CSV no longer says in a comment row, the JSON answer says in its note.
    as_json = client.get(f"/api/v1/claims/exports/{export['id']}", headers=mine).get_json()
    assert "geen BSN" in as_json["note"]

    other = client.get(
        f"/api/v1/claims/exports/{export['id']}?format=csv&list=overig", headers=mine
    )
    assert other.headers["Content-Disposition"].endswith('-nr-1-overige-betalers.csv"')
    rows = other.data.decode("utf-8-sig").splitlines()[1:]
    assert [r.split(";")[4] for r in rows] == [str(elv.id)]
    assert "zorgverzekeraar" in rows[0] and "480.00" in rows[0]

    stranger = make.token("provider", make.provider())
    assert_problem(client.get(f"/api/v1/claims/exports/{export['id']}", headers=stranger), 404)
    assert_problem(
        client.post(
            "/api/v1/claims/exports", json={"month": "2027-03"}, headers=make.token("coordinator")
        ),
        403,
    )
    assert_problem(
        client.post("/api/v1/claims/exports", json={"month": "2027-06"}, headers=mine), 422
    )


def test_concurrent_exports_of_one_month_make_one_batch(app, client, db, make, monkeypatch):
    w = _world(make)
    compute = ledger.month_lines

    def slow_month_lines(*args, **kw):
        lines = compute(*args, **kw)
        time.sleep(0.2)  # widen the window between reading what is pending and writing it
        return lines

    monkeypatch.setattr(ledger, "month_lines", slow_month_lines)
    deliver(db.session, stay(db.session, w.unit, date(2027, 3, 10), date(2027, 3, 14)))
    freeze(date(2027, 4, 2))
    # One token each: a shared token's last-used update would serialize the racers by itself.
    tokens = [make.token("provider", w.provider) for _ in range(4)]
    db.session.rollback()  # end this thread's transaction: on SQLite it would hold the lock
    barrier = threading.Barrier(4)

    def racer(n):
        barrier.wait()
        answer = app.test_client().post(
            "/api/v1/claims/exports", json={"month": "2027-03"}, headers=tokens[n]
        )
        return answer.status_code, answer.get_json()["export"]["id"]

    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = list(pool.map(racer, range(4)))
    assert sorted(status for status, _ in outcomes) == [200, 200, 200, 201]
    assert len({export_id for _, export_id in outcomes}) == 1
    assert db.session.query(ClaimExport).count() == 1
