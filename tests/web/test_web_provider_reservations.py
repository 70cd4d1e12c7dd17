"""The provider's reservations list (/aanbieder/reserveringen) and the client's needs shown
before the provider confirms."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from respijt.models import AccessLog, Reservation
from tests.accounts_support import hold, web_login
from tests.care_request_helpers import STAFF, body, create


@pytest.fixture()
def world(make):
    region = make.region()
    municipality = make.municipality(region=region)
    a = make.provider(regions=[region])
    b = make.provider(regions=[region])
    near = make.location(provider=a, municipality=municipality, name="De Linde")
    far = make.location(provider=a, municipality=municipality, name="Het Anker")
    return {
        "near": near,
        "far": far,
        "municipality": municipality,
        "unit_near": make.unit(location=near, capacity=5, requires_provider_confirmation=True),
        "unit_far": make.unit(location=far, capacity=5),
        "unit_b": make.unit(location=make.location(provider=b, municipality=municipality)),
        "user_a": make.user("provider", provider=a),
        "verwijzer": make.token("verwijzer"),
    }


def _for_request(db, world, reservation_id, start, **over) -> str:
    care_request = create(
        db.session,
        body(world["municipality"], start, start + timedelta(days=2), **over),
        STAFF,
    )
    db.session.get(Reservation, reservation_id).request_id = care_request.id
    db.session.commit()
    return care_request.reference


def test_lists_own_reservations_months_ahead_with_dutch_dates_and_status(client, db, world, today):
    start = today + timedelta(days=92)
    mine = hold(client, world["verwijzer"], world["unit_far"], start, confirm=True)
    theirs = hold(client, world["verwijzer"], world["unit_b"], start)
    reference = _for_request(db, world, mine["id"], start)
    web_login(client, world["user_a"])
    home = client.get("/aanbieder").get_data(as_text=True)
    assert 'href="/aanbieder/reserveringen"' in home
    html = client.get("/aanbieder/reserveringen").get_data(as_text=True)
    assert mine["short_code"] in html and theirs["short_code"] not in html
    assert "Het Anker" in html and "Bevestigd" in html
    assert "Jan (1941)" in html
    months = ["jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec"]
    assert f"{start.day} {months[start.month - 1]} {start.year}" in html
    rows = db.session.scalars(
        select(AccessLog).where(AccessLog.action == "reservation.search")
    ).all()
    assert [(r.client_reference, r.role, r.outcome) for r in rows] == [
        ("search", "provider", "success")
    ]
    shown = db.session.scalars(
        select(AccessLog).where(AccessLog.action == "reservation.list")
    ).all()
    assert [(r.client_reference, r.event) for r in shown] == [(reference, "search")]


def test_filters_and_paging(client, world, today):
    near = [
        hold(client, world["verwijzer"], world["unit_near"], today + timedelta(days=3 + d))
        for d in range(27)
    ]
    far = hold(client, world["verwijzer"], world["unit_far"], today + timedelta(days=60))
    web_login(client, world["user_a"])
    page = client.get(f"/aanbieder/reserveringen?locatie={world['near'].id}").get_data(as_text=True)
    assert near[0]["short_code"] in page and near[24]["short_code"] in page
    assert near[25]["short_code"] not in page and far["short_code"] not in page
    assert "Volgende" in page and "Vorige" not in page
    second = client.get(f"/aanbieder/reserveringen?locatie={world['near'].id}&pagina=2")
    html = second.get_data(as_text=True)
    assert near[25]["short_code"] in html and near[26]["short_code"] in html
    assert near[0]["short_code"] not in html
    assert "Vorige" in html and "Volgende" not in html
    period = (
        f"van={(today + timedelta(days=50)).isoformat()}"
        f"&tot={(today + timedelta(days=70)).isoformat()}"
    )
    html = client.get(f"/aanbieder/reserveringen?{period}").get_data(as_text=True)
    assert far["short_code"] in html and near[0]["short_code"] not in html
    html = client.get("/aanbieder/reserveringen?status=confirmed").get_data(as_text=True)
    assert "Geen verblijven gevonden." in html


def test_a_bad_filter_is_named_in_dutch(client, world):
    web_login(client, world["user_a"])
    response = client.get("/aanbieder/reserveringen?van=morgen&status=x&locatie=999999")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Aankomst vanaf: vul een datum in als jjjj-mm-dd." in html
    assert "Kies een status uit de lijst." in html
    assert "Kies een locatie uit de lijst." in html


def test_other_roles_are_refused(client, make, world):
    web_login(client, make.user("verwijzer"))
    assert client.get("/aanbieder/reserveringen").status_code == 403


def test_the_clients_needs_show_before_confirming(client, db, world, today):
    start = today + timedelta(days=10)
    held = hold(client, world["verwijzer"], world["unit_near"], start, confirm=True)
    assert held["status"] == "awaiting_provider"
    _for_request(
        db,
        world,
        held["id"],
        start,
        care_level="supervision_24h",
        wheelchair=True,
        language="tr",
        target_group="dementie",
    )
    web_login(client, world["user_a"])
    html = client.get("/aanbieder").get_data(as_text=True)
    assert "Zorg: 24 uur toezicht" in html
    assert "Rolstoel: ja" in html
    assert "Taal: Turks" in html
    assert "Doelgroep: mensen met dementie" in html
    assert "06 12345678" not in html and "Marja" not in html  # the contact stays out


def _item(html: str, short_code: str) -> str:
    start = html.index(f'data-testid="reservation-{short_code}"')
    return html[start : html.index("</li>", start)]


def test_the_needs_show_only_where_the_provider_needs_to_know(client, db, world, today):
    waiting = hold(
        client, world["verwijzer"], world["unit_near"], today + timedelta(days=10), confirm=True
    )
    coming = hold(
        client, world["verwijzer"], world["unit_far"], today + timedelta(days=5), confirm=True
    )
    cancelled = hold(
        client, world["verwijzer"], world["unit_far"], today + timedelta(days=20), confirm=True
    )
    completed = hold(
        client, world["verwijzer"], world["unit_far"], today + timedelta(days=30), confirm=True
    )
    assert (waiting["status"], coming["status"]) == ("awaiting_provider", "confirmed")
    for stay in (waiting, coming, cancelled, completed):
        _for_request(db, world, stay["id"], today + timedelta(days=5), wheelchair=True)
    # Both share one request with the upcoming stay too (a series): the needs go by the stay.
    db.session.get(Reservation, completed["id"]).request_id = db.session.get(
        Reservation, coming["id"]
    ).request_id
    db.session.get(Reservation, cancelled["id"]).status = "cancelled"
    db.session.get(Reservation, completed["id"]).status = "completed"
    db.session.commit()
    web_login(client, world["user_a"])
    html = client.get("/aanbieder/reserveringen").get_data(as_text=True)
    for stay in (waiting, coming):
        assert "Rolstoel: ja" in _item(html, stay["short_code"]), stay["status"]
    for stay in (cancelled, completed):
        item = _item(html, stay["short_code"])
        assert "Jan (1941)" in item  # still listed, with the first name …
        assert 'data-testid="needs"' not in item and "Rolstoel" not in item  # … not the needs


def _move(db, stay, arrival, departure, status=None) -> None:
    """Put a stay in another period (the page reads the reservation row, not its nights)."""
    reservation = db.session.get(Reservation, stay["id"])
    reservation.arrival, reservation.departure = arrival, departure
    if status is not None:
        reservation.status = status
    db.session.commit()


def _codes(html: str) -> list[str]:
    return re.findall(r'data-testid="reservation-([A-Z0-9]+)"', html)


def test_the_list_opens_on_stays_not_yet_ended_soonest_first_and_counts_them(
    client, db, world, today
):
    verwijzer, unit = world["verwijzer"], world["unit_far"]
    ahead = hold(client, verwijzer, unit, today + timedelta(days=30), confirm=True)
    soon = hold(client, verwijzer, unit, today + timedelta(days=4), confirm=True)
    staying = hold(client, verwijzer, unit, today + timedelta(days=50), confirm=True)
    leaving = hold(client, verwijzer, unit, today + timedelta(days=60), confirm=True)
    last_year = hold(client, verwijzer, unit, today + timedelta(days=70), confirm=True)
    yesterday = hold(client, verwijzer, unit, today + timedelta(days=80), confirm=True)
    unreported = hold(client, verwijzer, unit, today + timedelta(days=90), confirm=True)
    _move(db, staying, today - timedelta(days=2), today + timedelta(days=1), "checked_in")
    _move(db, leaving, today - timedelta(days=3), today, "checked_in")  # leaves today: listed
    _move(db, last_year, today - timedelta(days=365), today - timedelta(days=361), "completed")
    _move(db, yesterday, today - timedelta(days=4), today - timedelta(days=1), "completed")
    # Its dates passed, its arrival never reported: not over, the no-show is still to report.
    _move(db, unreported, today - timedelta(days=40), today - timedelta(days=38))
    web_login(client, world["user_a"])

    html = client.get("/aanbieder/reserveringen").get_data(as_text=True)
    # By arrival: the one still to report, who is here now, then who comes.
    coming = [unreported, leaving, staying, soon, ahead]
    assert _codes(html) == [s["short_code"] for s in coming]
    assert "5 verblijven</strong> die nog niet voorbij zijn." in html
    assert 'name="afgelopen" value="ja">' in html  # the choice, not ticked
    assert "Ook afgelopen verblijven" in html

    html = client.get("/aanbieder/reserveringen?afgelopen=ja").get_data(as_text=True)
    everything = [last_year, coming[0], yesterday, *coming[1:]]
    assert _codes(html) == [s["short_code"] for s in everything]
    assert "<strong>7 verblijven</strong>." in html
    assert 'name="afgelopen" value="ja" checked>' in html

    # The count is of the whole filter, not of the page; one stay is "1 verblijf".
    html = client.get("/aanbieder/reserveringen?status=completed&afgelopen=ja").get_data(
        as_text=True
    )
    assert "<strong>2 verblijven</strong>." in html
    html = client.get("/aanbieder/reserveringen?status=checked_in").get_data(as_text=True)
    assert "<strong>2 verblijven</strong> die nog niet voorbij zijn." in html
    html = client.get("/aanbieder/reserveringen?status=completed").get_data(as_text=True)
    assert "Geen verblijven gevonden." in html and "0 verblijven" not in html
    html = client.get(f"/aanbieder/reserveringen?locatie={world['near'].id}").get_data(as_text=True)
    assert "Geen verblijven gevonden." in html and "0 verblijven" not in html


def test_the_total_counts_every_page(client, world, today):
    for d in range(27):
        hold(client, world["verwijzer"], world["unit_near"], today + timedelta(days=3 + d))
    web_login(client, world["user_a"])
    html = client.get("/aanbieder/reserveringen").get_data(as_text=True)
    assert len(_codes(html)) == 25
    assert "<strong>27 verblijven</strong>" in html and "Pagina 1 van 2" in html
    html = client.get("/aanbieder/reserveringen?pagina=2").get_data(as_text=True)
    assert len(_codes(html)) == 2 and "<strong>27 verblijven</strong>" in html
    assert "Pagina 2 van 2" in html


def test_the_api_list_keeps_its_default_and_shows_ended_stays(client, db, make, world, today):
    unit = world["unit_far"]
    ended = hold(client, world["verwijzer"], unit, today + timedelta(days=40), confirm=True)
    coming = hold(client, world["verwijzer"], unit, today + timedelta(days=5), confirm=True)
    _move(db, ended, today - timedelta(days=20), today - timedelta(days=18), "completed")
    provider = make.token("provider", provider=world["far"].provider)
    listed = client.get("/api/v1/reservations", headers=provider).get_json()
    assert [item["id"] for item in listed["items"]] == [ended["id"], coming["id"]]
