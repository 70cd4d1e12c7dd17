"""The provider portal: own units only (404 otherwise), capacity through the domain with
Dutch errors beside the fields, pending reservations, and an access-log row per reservation."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from respijt import clock
from respijt.models import AccessLog, AvailabilityChange, NightInventory, Reservation
from tests.accounts_support import csrf_token, hold, web_login


@pytest.fixture()
def world(make):
    region = make.region()
    municipality = make.municipality(region=region)
    a = make.provider(regions=[region])
    b = make.provider(regions=[region])
    unit_a = make.unit(
        location=make.location(provider=a, municipality=municipality),
        requires_provider_confirmation=True,
        capacity=2,
    )
    unit_b = make.unit(location=make.location(provider=b, municipality=municipality))
    return {
        "a": a,
        "b": b,
        "unit_a": unit_a,
        "unit_b": unit_b,
        "user_a": make.user("provider", provider=a),
        "verwijzer": make.token("verwijzer"),
    }


def _capacity(db, unit, night):
    db.session.expire_all()
    return db.session.scalar(
        select(NightInventory.capacity).where(
            NightInventory.unit_id == unit.id, NightInventory.night == night
        )
    )


def test_portal_lists_own_locations_and_units_only(client, world):
    web_login(client, world["user_a"])
    html = client.get("/aanbieder").get_data(as_text=True)
    assert world["unit_a"].name in html
    assert world["unit_b"].name not in html
    assert "als aanbieder" in html and world["user_a"].name in html
    assert 'href="/aanbieder"' in html  # the role's navigation


def test_other_roles_and_anonymous_are_refused(client, make, world):
    anonymous = client.get("/aanbieder")
    assert anonymous.status_code == 302 and anonymous.headers["Location"].startswith("/login")
    web_login(client, make.user("verwijzer"))
    assert client.get("/aanbieder").status_code == 403
    assert client.get(f"/aanbieder/eenheden/{world['unit_a'].id}").status_code == 403


def test_other_providers_unit_answers_404(client, db, world, today):
    web_login(client, world["user_a"])
    unit_b = world["unit_b"]
    assert client.get(f"/aanbieder/eenheden/{unit_b.id}").status_code == 404
    token = csrf_token(client, f"/aanbieder/eenheden/{world['unit_a'].id}")
    night = today + timedelta(days=3)
    response = client.post(
        f"/aanbieder/eenheden/{unit_b.id}/capaciteit",
        data={
            "csrf_token": token,
            "ranges-0-night_from": night.isoformat(),
            "ranges-0-night_to": night.isoformat(),
            "ranges-0-capacity": "0",
        },
    )
    assert response.status_code == 404
    assert _capacity(db, unit_b, night) == 2
    confirm = client.post(
        f"/aanbieder/locaties/{unit_b.location_id}/bevestigen", data={"csrf_token": token}
    )
    assert confirm.status_code == 404


def test_capacity_range_is_published_via_web_channel(client, db, world, today):
    web_login(client, world["user_a"])
    unit = world["unit_a"]
    path = f"/aanbieder/eenheden/{unit.id}"
    first, last = today + timedelta(days=5), today + timedelta(days=8)
    response = client.post(
        f"{path}/capaciteit",
        data={
            "csrf_token": csrf_token(client, path),
            "ranges-0-night_from": first.isoformat(),
            "ranges-0-night_to": last.isoformat(),
            "ranges-0-capacity": "4",
        },
    )
    assert response.status_code == 303
    assert [_capacity(db, unit, first + timedelta(days=d)) for d in range(5)] == [4, 4, 4, 4, 2]
    change = db.session.scalars(select(AvailabilityChange)).one()
    assert change.channel == "web" and change.actor == f"user:{world['user_a'].id}"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "De capaciteit is opgeslagen." in page
    assert "website" in page  # the change log


def test_capacity_errors_stand_beside_the_fields_and_keep_input(client, db, world, today):
    web_login(client, world["user_a"])
    unit = world["unit_a"]
    path = f"/aanbieder/eenheden/{unit.id}"
    response = client.post(
        f"{path}/capaciteit",
        data={
            "csrf_token": csrf_token(client, path),
            "ranges-0-night_from": "morgen",
            "ranges-0-night_to": (today + timedelta(days=2)).isoformat(),
            "ranges-0-capacity": "drie",
            "ranges-1-capacity": "1",
        },
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert re.search(r'id="ranges-0-night_from-error">.*Vul een datum in', html, re.S)
    assert re.search(r'id="ranges-0-capacity-error">.*Vul een heel getal in', html, re.S)
    assert re.search(r'id="ranges-1-night_from-error">.*Vul dit veld in', html, re.S)
    assert 'value="drie"' in html and 'value="morgen"' in html


def test_capacity_below_reserved_names_the_nights(client, db, world, today):
    unit = world["unit_a"]
    start = today + timedelta(days=10)
    hold(client, world["verwijzer"], unit, start, nights=2)
    web_login(client, world["user_a"])
    path = f"/aanbieder/eenheden/{unit.id}"
    response = client.post(
        f"{path}/capaciteit",
        data={
            "csrf_token": csrf_token(client, path),
            "ranges-0-night_from": (start - timedelta(days=1)).isoformat(),
            "ranges-0-night_to": (start + timedelta(days=3)).isoformat(),
            "ranges-0-capacity": "0",
        },
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert re.search(r'id="ranges-0-capacity-error">.*gereserveerde bedden', html, re.S)
    assert f"{start.day}" in html and 'value="0"' in html
    assert _capacity(db, unit, start - timedelta(days=1)) == 2  # all or nothing


def test_past_nights_error_beside_first_night(client, world, today):
    web_login(client, world["user_a"])
    path = f"/aanbieder/eenheden/{world['unit_a'].id}"
    response = client.post(
        f"{path}/capaciteit",
        data={
            "csrf_token": csrf_token(client, path),
            "ranges-0-night_from": (today - timedelta(days=2)).isoformat(),
            "ranges-0-night_to": today.isoformat(),
            "ranges-0-capacity": "1",
        },
    )
    assert response.status_code == 422
    assert re.search(
        r'id="ranges-0-night_from-error">.*in het verleden', response.get_data(as_text=True), re.S
    )


def test_post_without_csrf_is_refused(client, db, world, today):
    web_login(client, world["user_a"])
    unit = world["unit_a"]
    response = client.post(
        f"/aanbieder/eenheden/{unit.id}/capaciteit",
        data={
            "ranges-0-night_from": today.isoformat(),
            "ranges-0-night_to": today.isoformat(),
            "ranges-0-capacity": "0",
        },
    )
    assert response.status_code == 400
    assert _capacity(db, unit, today) == 2


def test_whole_week_shortcut(client, db, world, today):
    web_login(client, world["user_a"])
    unit = world["unit_a"]
    path = f"/aanbieder/eenheden/{unit.id}"
    monday = today + timedelta(days=14 - today.weekday())
    response = client.post(
        f"{path}/week",
        data={
            "csrf_token": csrf_token(client, path),
            "monday": monday.isoformat(),
            "capacity": "3",
        },
    )
    assert response.status_code == 303
    assert [_capacity(db, unit, monday + timedelta(days=d)) for d in range(-1, 8)] == [
        2, 3, 3, 3, 3, 3, 3, 3, 2,
    ]  # fmt: skip


def test_one_bed_is_one_bed_on_the_month_and_in_the_week_message(client, db, world, today):
    """Every count of beds takes its noun's number: "1 bed", "2 bedden", never "1 bedden"."""
    web_login(client, world["user_a"])
    unit = world["unit_a"]
    path = f"/aanbieder/eenheden/{unit.id}"
    monday = today + timedelta(days=14 - today.weekday())
    said = {}
    for beds in ("1", "2"):
        response = client.post(
            f"{path}/week",
            data={"csrf_token": csrf_token(client, path), "monday": monday.isoformat(),
                  "capacity": beds, "maand": monday.strftime("%Y-%m")},
        )  # fmt: skip
        said[beds] = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "De hele week staat nu op 1 bed." in said["1"]
    assert "De hele week staat nu op 2 bedden." in said["2"]
    client.post(
        f"{path}/week",
        data={"csrf_token": csrf_token(client, path), "monday": monday.isoformat(),
              "capacity": "1", "maand": monday.strftime("%Y-%m")},
    )  # fmt: skip
    html = client.get(f"{path}?maand={monday.strftime('%Y-%m')}").get_data(as_text=True)
    one = f'data-night="{monday.isoformat()}">1 bed, 0 bezet<'
    two = f'data-night="{(monday - timedelta(days=1)).isoformat()}">2 bedden, 0 bezet<'
    assert html.count(one) == 2  # the grid and the list for a small screen
    if (monday - timedelta(days=1)).month == monday.month:
        assert html.count(two) == 2
    assert "1 bedden" not in html


def test_nothing_changed_confirms_the_location(client, db, world):
    web_login(client, world["user_a"])
    location = world["unit_a"].location
    before = location.last_confirmed_at
    clock.freeze(clock.now() + timedelta(minutes=5))
    try:
        response = client.post(
            f"/aanbieder/locaties/{location.id}/bevestigen",
            data={"csrf_token": csrf_token(client, "/aanbieder")},
        )
        assert response.status_code == 303
        db.session.expire_all()
        assert location.last_confirmed_at == clock.now()
        assert location.last_confirmed_at > before
    finally:
        clock.freeze(None)


def test_pending_reservation_confirmed_and_logged(client, db, world, today):
    unit = world["unit_a"]
    held = hold(client, world["verwijzer"], unit, today + timedelta(days=3), confirm=True)
    assert held["status"] == "awaiting_provider"
    web_login(client, world["user_a"])
    html = client.get("/aanbieder").get_data(as_text=True)
    assert held["short_code"] in html
    listed = db.session.scalars(
        select(AccessLog).where(AccessLog.action == "reservation.list")
    ).all()
    assert [row.actor for row in listed] == [f"user:{world['user_a'].id}"]
    response = client.post(
        f"/aanbieder/reserveringen/{held['id']}/bevestigen",
        data={"csrf_token": csrf_token(client, "/aanbieder")},
    )
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Reservation, held["id"]).status == "confirmed"
    row = db.session.scalars(
        select(AccessLog).where(AccessLog.action == "reservation.confirm")
    ).one()
    assert row.outcome == "success" and row.role == "provider"
    home = client.get("/aanbieder").get_data(as_text=True)
    assert "De reservering is bevestigd." in home
    assert 'data-testid="arrivals"' in home  # arrives within 7 days


def test_decline_and_cross_provider_reservation(client, db, make, world, today):
    unit = world["unit_a"]
    held = hold(client, world["verwijzer"], unit, today + timedelta(days=20), confirm=True)
    other = make.user("provider", provider=world["b"])
    web_login(client, other)
    token = csrf_token(client, "/aanbieder")
    refused = client.post(
        f"/aanbieder/reserveringen/{held['id']}/afwijzen", data={"csrf_token": token}
    )
    assert refused.status_code == 404
    denied = db.session.scalars(
        select(AccessLog).where(AccessLog.action == "reservation.decline")
    ).one()
    assert denied.outcome == "denied"
    assert held["short_code"] not in client.get("/aanbieder").get_data(as_text=True)
    client.post("/logout", data={"csrf_token": token})
    web_login(client, world["user_a"])
    response = client.post(
        f"/aanbieder/reserveringen/{held['id']}/afwijzen",
        data={"csrf_token": csrf_token(client, "/aanbieder"), "reden": "Vol"},
    )
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Reservation, held["id"]).status == "declined"


@pytest.mark.parametrize("hostile", ["²", "٣", str(2**31), "9" * 40])
def test_hostile_bed_numbers_get_a_dutch_message_not_a_500(client, db, world, today, hostile):
    web_login(client, world["user_a"])
    unit = world["unit_a"]
    path = f"/aanbieder/eenheden/{unit.id}"
    response = client.post(
        f"{path}/capaciteit",
        data={
            "csrf_token": csrf_token(client, path),
            "ranges-0-night_from": (today + timedelta(days=1)).isoformat(),
            "ranges-0-night_to": (today + timedelta(days=2)).isoformat(),
            "ranges-0-capacity": hostile,
        },
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert re.search(r'id="ranges-0-capacity-error">.*Vul een heel getal in', html, re.S)
    monday = today + timedelta(days=14 - today.weekday())
    response = client.post(
        f"{path}/week",
        data={
            "csrf_token": csrf_token(client, path),
            "monday": monday.isoformat(),
            "capacity": hostile,
        },
    )
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Vul een heel getal in" in page
    assert _capacity(db, unit, monday) == 2
