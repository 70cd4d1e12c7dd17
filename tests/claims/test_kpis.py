"""KPIs, leegstand and the monthly report on one fixed dataset, with hand-computed figures.

The dataset (March 2027, Delft GM0503 unless noted):
- 6 placed requests, lead times 2, 4, 6, 10, 24, 48 h → median 8.0, p90 (nearest rank) 48.0;
  5 of 6 placed before the desired arrival day began (p5 was placed on its arrival day);
  funding 5 wmo + 1 elv.
- 8 unmet: 5 waitlisted (ouderen), 2 expired (dementie), 1 no_fit (ggz, Leiden GM0546).
- 1 withdrawn, 1 new → 16 requests, placement rate 6/16 = 0.375.
- One more request created 22:30 UTC on 28 February (23:30 local: still February) is outside;
  one created 23:30 UTC on 28 February (00:30 local, 1 March) is inside (p1).
- Meldpunt provider P placed p1–p5: p1–p3 in its own unit UP, p4–p5 in Q's unit UQ; each of those
  requests was shown UP and UQ → 3/5 own placements vs 5/10 own options. p6 was placed by a
  verwijzer and is not the meldpunt's.
- Capacity: UP 2 beds, UQ 1 bed → 62 + 31 = 93 bed-nights in March. Nights used in March:
  UP 3 + 5 (+ April only for p3) = 8, UQ 2 + 1 + 4 = 7 → 15/93 = 0.1613. A cancelled stay
  in UP does not count.
- Freshness at 10 April 09:00 UTC: P's location confirmed 1 March 09:00 (960 h, stale), Q's two
  hours ago (fresh) → median age 481.0 h.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import update

from respijt import clock
from respijt.claims import kpis, leegstand
from respijt.claims import kpis as kpi_module
from respijt.claims.suppression import Suppressor
from respijt.models import CareRequest, Location, NightInventory, RequestOption, Reservation
from respijt.people.caller import Caller
from respijt.reservations import steps
from tests.api.test_api_registry import assert_problem
from tests.claims_helpers import STAFF, freeze, request, stay

MARCH = kpis.KpiFilter(date(2027, 3, 1), date(2027, 4, 1))
NOW = datetime(2027, 4, 10, 9, 0, tzinfo=UTC)


@dataclass
class Dataset:
    p: object
    q: object
    up: object
    uq: object


def utc(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2027, month, day, hour, minute, tzinfo=UTC)


def build(db, make) -> Dataset:
    freeze(date(2027, 3, 1))
    region = make.region()
    delft = make.municipality("GM0503", region=region, name="Delft")
    leiden = make.municipality("GM0546", region=region, name="Leiden")
    p = make.provider(name="Pool Zorg", regions=[region], pool=True)
    q = make.provider(name="Q Zorg", regions=[region])
    up = make.unit(
        location=make.location(provider=p, municipality=delft, name="P-huis"), capacity=2
    )
    uq = make.unit(
        location=make.location(provider=q, municipality=delft, name="Q-huis"), capacity=1
    )
    meldpunt = Caller(key="token:meldpunt", role="meldpunt", provider_id=p.id)
    verwijzer = Caller(key="token:verwijzer", role="verwijzer")

    placed = [
        # (created, lead hours, desired arrival, unit, stay, caller, funding)
        (utc(2, 28, 23, 30), 2, date(2027, 3, 10), up, (10, 13), meldpunt, "wmo"),
        (utc(3, 2, 9), 4, date(2027, 3, 20), up, (20, 25), meldpunt, "wmo"),
        (utc(3, 3, 9), 6, date(2027, 4, 2), up, None, meldpunt, "wmo"),
        (utc(3, 4, 9), 10, date(2027, 3, 5), uq, (5, 7), meldpunt, "wmo"),
        (utc(3, 14, 9), 24, date(2027, 3, 15), uq, (15, 16), meldpunt, "wmo"),
        (utc(3, 20, 9), 48, date(2027, 3, 28), uq, (28, 34), verwijzer, "elv"),
    ]
    for created, hours, desired, unit, nights, caller, funding in placed:
        care_request = request(db.session, delft, funding=funding, arrival=desired)
        if nights is None:  # p3: April only
            arrival, departure = date(2027, 4, 2), date(2027, 4, 5)
        else:
            arrival = date(2027, 3, nights[0])
            departure = date(2027, 3, 1) + timedelta(days=nights[1] - 1)
        stay(db.session, unit, arrival, departure, care_request, caller=caller)
        db.session.execute(
            update(CareRequest)
            .where(CareRequest.id == care_request.id)
            .values(status="placed", created_at=created, placed_at=created + timedelta(hours=hours))
        )
        if caller is meldpunt:
            for rank, option_unit in enumerate((up, uq), start=1):
                db.session.add(
                    RequestOption(
                        request_id=care_request.id,
                        unit_id=option_unit.id,
                        arrival=arrival,
                        departure=departure,
                        rank=rank,
                        score=0.5,
                        reasons=[],
                        shown_at=created,
                        shown_to="token:meldpunt",
                    )
                )
    cancelled = stay(db.session, up, date(2027, 3, 14), date(2027, 3, 18))
    steps.cancel(
        db.session, cancelled, party="requester", caller=STAFF, now=clock.now(), reason="ziek"
    )
    unmet = (
        [("waitlisted", "ouderen", delft)] * 5
        + [("expired", "dementie", delft)] * 2
        + [("no_fit", "ggz", leiden)]
        + [("withdrawn", "ouderen", delft), ("new", "ouderen", delft)]
    )
    for i, (status, group, place) in enumerate(unmet):
        request(
            db.session,
            place,
            status=status,
            target_group=group,
            created_at=utc(3, 5 + i, 12),
        )
    request(db.session, delft, status="placed", created_at=utc(2, 28, 22, 30), placed_at=NOW)
    db.session.execute(
        update(Location)
        .where(Location.provider_id == q.id)
        .values(last_confirmed_at=NOW - timedelta(hours=2))
    )
    db.session.commit()
    clock.freeze(NOW)
    return Dataset(p, q, up, uq)


def figures(db, f: kpis.KpiFilter = MARCH) -> dict:
    return kpis.kpi_figures(db.session, f, now=NOW, stale_after_hours=72)


def test_kpis_on_the_fixed_dataset_match_the_hand_computed_figures(db, make):
    data = build(db, make)
    k = figures(db)
    assert k["requests"] == {"total": 16, "placed": 6}
    assert k["placement_rate"] == 0.375
    assert k["lead_time_hours"] == {"count": 6, "median": 8.0, "p90": 48.0}
    assert k["placed_before_desired_arrival"] == {"count": 5, "share": 0.8333}
    assert k["occupancy"] == {
        "published_bed_nights": 93,
        "used_bed_nights": 15,
        "kept_free_bed_nights": 78,
        "occupancy": 0.1613,
    }
    assert k["freshness"] == {
        "locations": 2,
        "fresh": 1,
        "stale": 1,
        "share_fresh": 0.5,
        "median_age_hours": 481.0,
        "stale_after_hours": 72,
    }
    assert k["neutrality"] == [
        {
            "provider": {"id": data.p.id, "name": "Pool Zorg"},
            "placements": 5,
            "own_placements": None,  # 3 people: suppressed
            "own_placement_share": 0.6,
            "options_shown": 10,
            "own_options": 5,
            "own_option_share": 0.5,
        }
    ]
    assert k["meldpunt_calls"] is None
    assert k["satisfaction"] == {
        "answers": 0,  # nobody was asked: no stay in the dataset was checked out
        "mean": None,
        "distribution": {"1": 0, "2": 0, "3": 0, "4": 0, "5": 0},
    }


def test_small_cells_are_suppressed_with_a_second_cell_where_one_could_be_deduced(db, make):
    build(db, make)
    k = figures(db)
    unmet = k["unmet_demand"]
    assert unmet["total"] == 8
    assert unmet["by_status"] == {"waitlisted": 5, "expired": None, "no_fit": None}
    assert unmet["by_target_group"]["ouderen"] == 5
    assert unmet["by_target_group"]["dementie"] is None and unmet["by_target_group"]["ggz"] is None
    assert unmet["by_target_group"]["nah"] == 0  # zero describes nobody and is shown
    # Leiden (1) alone would be deducible from the total: Delft (7) is hidden with it.
    assert unmet["by_municipality"] == {"GM0503": None, "GM0546": None}
    # Likewise ELV (1) takes Wmo (5) with it.
    assert k["funding_chosen"] == {"wmo": None, "elv": None, "wlz": 0, "onbekend": 0}
    cells = set(k["suppression"]["cells"])
    assert {
        "unmet_demand.by_municipality.GM0503",
        "funding_chosen.wmo",
        f"neutrality.{k['neutrality'][0]['provider']['id']}.own_placements",
    } <= cells

    leiden = figures(db, kpis.KpiFilter(date(2027, 3, 1), date(2027, 4, 1), municipality="GM0546"))
    assert leiden["requests"] == {"total": None, "placed": 0}
    assert leiden["placement_rate"] is None and "placement_rate" in leiden["suppression"]["cells"]
    assert leiden["unmet_demand"]["by_municipality"] == {"GM0546": None}
    assert leiden["occupancy"]["occupancy"] is None  # no beds in Leiden
    assert leiden["neutrality"] == []


def test_provider_filter_narrows_supply_figures_and_neutrality(db, make):
    data = build(db, make)
    k = figures(db, kpis.KpiFilter(date(2027, 3, 1), date(2027, 4, 1), provider_id=data.q.id))
    assert k["occupancy"]["published_bed_nights"] == 31
    assert k["occupancy"]["used_bed_nights"] == 7
    assert (k["freshness"]["locations"], k["freshness"]["fresh"]) == (1, 1)
    assert k["neutrality"] == []  # Q placed nobody as meldpunt
    assert k["requests"]["total"] == 16  # demand belongs to the region


def test_a_registered_source_fills_its_figure_through_the_same_suppression(db, make, monkeypatch):
    build(db, make)

    def calls(session, f, s: Suppressor, now):
        return {"calls": s.count("meldpunt_calls.calls", 3), "answered_within_30s_share": 0.9}

    monkeypatch.setitem(kpi_module._sources, "meldpunt_calls", calls)
    k = figures(db)
    assert k["meldpunt_calls"] == {"calls": None, "answered_within_30s_share": 0.9}
    assert "meldpunt_calls.calls" in k["suppression"]["cells"]
    with pytest.raises(ValueError):
        kpis.register_kpi_source("something_else", calls)


def test_kpi_api_answers_json_and_csv_to_coordinators_only(client, db, make):
    build(db, make)
    coordinator = make.token("coordinator")
    url = "/api/v1/reports/kpis?from=2027-03-01&to=2027-04-01"
    answer = client.get(url, headers=coordinator)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.get_json()["requests"] == {"total": 16, "placed": 6}
    csv_answer = client.get(url + "&format=csv&decimal=comma", headers=coordinator)
    assert csv_answer.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert csv_answer.headers["Content-Disposition"] == (
        'attachment; filename="kerncijfers-2027-03-01_2027-04-01.csv"'
    )
    # UTF-8 with a byte order mark; Dutch headers and figures in words, no comment row.
    assert csv_answer.data.startswith(b"\xef\xbb\xbf")
    lines = csv_answer.data.decode("utf-8-sig").splitlines()
    assert lines[0] == "Cijfer;Uitkomst"
    assert not any(line.startswith("#") for line in lines)
    rows = dict(line.split(";") for line in lines[1:])
    assert rows["Aanvragen, totaal"] == "16"
    assert rows["Plaatsingsgraad"] == "0,375"
    assert rows["Doorlooptijd, de helft van de aanvragen geplaatst binnen (uren)"] == "8,0"
    assert rows["Doorlooptijd, aantal plaatsingen"] == "6"  # a count, not hours
    p90 = rows["Doorlooptijd, 9 van de 10 aanvragen geplaatst binnen (uren)"]
    assert p90 == str(answer.get_json()["lead_time_hours"]["p90"]).replace(".", ",")
    assert rows["Gekozen financiering, ELV"] == "<5" and rows["Gekozen financiering, Wlz"] == "0"
    assert rows["Onvervulde vraag, per gemeente, GM0546"] == "<5"
    assert rows["Onvervulde vraag, per status, op de wachtlijst"].isdigit()
    # A figure with no value at all (no calls counted yet, not suppressed) is left out, as on
    # the page; an empty figure inside a counted one stays an empty cell.
    assert not [key for key in rows if key.startswith("Telefoon meldpunt")]
    assert rows["Bezetting"] == "0,1613"  # the share, its word not repeated
    assert "Bezetting, bezetting" not in rows and not [k for k in rows if "mediaan" in k]
    assert "Actualiteit van het aanbod, de helft van de locaties bevestigd binnen (uren)" in rows
    assert not [key for key in rows if "_" in key or "." in key]  # no raw keys

    assert_problem(client.get(url, headers=make.token("provider", make.provider())), 403)
    missing = assert_problem(
        client.get("/api/v1/reports/kpis?to=2027-04-01", headers=coordinator), 422
    )
    assert missing["invalidParams"][0]["name"] == "from"


def test_leegstand_counts_only_published_nights_and_never_more_beds_than_a_night_had(db, make):
    data = build(db, make)
    # A stay that ended no longer counts in `reserved`; afterwards the night shows 0 beds
    # (closed) on UP the 11th, and a second, completed stay sits on UQ's one bed the 5th.
    db.session.execute(
        update(NightInventory)
        .where(NightInventory.unit_id == data.up.id, NightInventory.night == date(2027, 3, 11))
        .values(capacity=0, reserved=0)
    )
    db.session.add(
        Reservation(
            unit_id=data.uq.id,
            arrival=date(2027, 3, 5),
            departure=date(2027, 3, 6),
            status="completed",
            short_code="EXTRA1",
            caller="token:test",
            caller_role="provider",
            created_at=NOW,
            updated_at=NOW,
        )
    )
    db.session.flush()
    rows = {
        r.unit_id: r
        for r in leegstand.unit_occupancy(db.session, date(2027, 3, 1), date(2027, 4, 1))
    }

    up, uq = rows[data.up.id], rows[data.uq.id]
    assert (up.nights, up.published, up.used, up.kept_free) == (30, 60, 7, 53)
    assert (uq.nights, uq.published, uq.used, uq.kept_free) == (31, 31, 7, 24)


def test_leegstand_register_per_unit_as_json_and_csv(client, db, make):
    data = build(db, make)
    own = make.token("provider", data.p)
    answer = client.get("/api/v1/reports/leegstand?month=2027-03", headers=own)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    body = answer.get_json()
    [unit] = body["units"]
    assert unit["unit"]["id"] == data.up.id
    assert (
        unit["nights"],
        unit["published_bed_nights"],
        unit["used_bed_nights"],
        unit["kept_free_bed_nights"],
        unit["occupancy"],
    ) == (31, 62, 8, 54, 0.129)

    everyone = client.get(
        "/api/v1/reports/leegstand?month=2027-03&format=csv&decimal=comma",
        headers=make.token("coordinator"),
    )
    assert everyone.headers["Content-Disposition"] == (
        'attachment; filename="leegstandregister-2027-03.csv"'
    )
    assert everyone.data.startswith(b"\xef\xbb\xbf")
    lines = everyone.data.decode("utf-8-sig").splitlines()
    assert lines[0].split(";")[-4:] == [
        "Bednachten gebruikt",
        "Bednachten vrijgehouden, niet gebruikt",
        "Bezetting",
        "Voorlopig",
    ]
    assert lines[0].startswith("Maand;Aanbieder;Locatie;")
    assert [row.split(";")[-5:] for row in lines[1:]] == [
        ["62", "8", "54", "0,1290", "nee"],
        ["31", "7", "24", "0,2258", "nee"],
    ]
    assert body["provisional"] is False
    clock.freeze(datetime(2027, 3, 20, 9, 0, tzinfo=UTC))
    running = client.get("/api/v1/reports/leegstand?month=2027-03", headers=own).get_json()
    assert running["provisional"] is True


def test_monthly_report_page_is_printable_and_the_same_for_every_municipality(client, db, make):
    build(db, make)
    coordinator = make.token("coordinator")
    page = client.get("/reports/monthly/GM0503/2027-03", headers=coordinator)
    assert page.status_code == 200, page.get_data(as_text=True)
    assert page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert '<html lang="nl">' in html and 'href="/static/report.css"' in html
    stylesheet = client.get("/static/report.css")
    assert "@media print" in stylesheet.get_data(as_text=True)  # a file: the CSP has no inline
    stylesheet.close()
    assert "Maandrapportage logeerzorg" in html and "Delft (GM0503)" in html
    assert "geen BSN" in html
    # Wmo nights per provider: P 3 + 5 = 8, Q 2 + 1 = 3; ELV (p6) apart: 4 nights in March.
    assert '<th scope="row">Pool Zorg</th><td class="num">–</td>' in html
    assert 'ELV (zorgverzekeraar)</th><td class="num">4</td>' in html
    assert html.count("<caption>") == 8
    # Figures and the time through respijt.formatting: Dutch words, Amsterdam's clock (CEST).
    assert "<dt>Opgesteld</dt><dd>zaterdag 10 april 2027 om 11:00</dd>" in html
    assert 'de helft van de aanvragen geplaatst binnen (uren)</th><td class="num">8,0</td>' in html
    assert 'Plaatsingsgraad</th><td class="num">40,0%</td>' in html
    empty = client.get("/reports/monthly/GM0546/2027-03", headers=coordinator)
    assert empty.get_data(as_text=True).count("<caption>") == 8

    anonymous = client.get("/reports/monthly/GM0503/2027-03")  # a browser: to the login page
    assert anonymous.status_code == 302 and anonymous.headers["Location"].startswith("/login")
    assert_problem(
        client.get(
            "/reports/monthly/GM0503/2027-03", headers=make.token("provider", make.provider())
        ),
        403,
    )
    assert_problem(client.get("/reports/monthly/GM9999/2027-03", headers=coordinator), 404)


def test_monthly_series_splits_the_period_per_month_with_its_own_suppression(client, db, make):
    build(db, make)
    url = "/api/v1/reports/kpis/months?from=2027-02-15&to=2027-04-01"
    rows = client.get(url, headers=make.token("coordinator")).get_json()
    february, march = rows
    # 15–28 February: only the request placed, created 22:30 UTC on the 28th: hidden.
    assert february["month"] == "2027-02" and february["requests"] is None
    assert "requests" in february["suppressed"]
    assert (march["requests"], march["placed"], march["placement_rate"]) == (16, 6, 0.375)
    assert (march["lead_time_median_hours"], march["unmet_demand"]) == (8.0, 8)
    assert march["occupancy"] == 0.1613 and march["suppressed"] == []
    lines = client.get(url + "&format=csv", headers=make.token("coordinator")).data
    lines = lines.decode("utf-8-sig").splitlines()
    assert lines[0] == (
        "Maand;Aanvragen;Geplaatst;Plaatsingsgraad;"
        "De helft van de aanvragen geplaatst binnen (uren);Onvervulde vraag;Bezetting"
    )
    assert lines[1].split(";")[:3] == ["2027-02", "<5", "<5"]
    # Written as the CSV of all figures: a share as a fraction, hours with one decimal.
    assert lines[2].split(";")[:5] == ["2027-03", "16", "6", "0.375", "8.0"]
