"""The provider's check-in, check-out and no-show buttons (portal and reservations list) take the
API's domain steps, write the API's access-log rows, free the nights, and refuse in Dutch; and
"niets gewijzigd" confirms all the provider's locations at once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from respijt import clock, formatting
from respijt.models import AccessLog, Location, NightInventory, Reservation, ReservationEvent
from respijt.reservations import steps
from tests.accounts_support import csrf_token, hold, web_login
from tests.browser.web_helpers import STAFF, request_with_offer


@pytest.fixture()
def world(make):
    region = make.region()
    municipality = make.municipality(region=region)
    own = make.provider(regions=[region])
    other = make.provider(regions=[region])
    unit = make.unit(
        location=make.location(provider=own, municipality=municipality, name="De Eik"),
        capacity=2,
    )
    return {
        "unit": unit,
        "second": make.location(provider=own, municipality=municipality, name="De Linde"),
        "foreign": make.location(provider=other, municipality=municipality, name="Het Veer"),
        "user": make.user("provider", provider=own),
        "stranger": make.user("provider", provider=other),
        "verwijzer": make.token("verwijzer"),
    }


def _reserved(db, unit, night):
    db.session.expire_all()
    return db.session.scalar(
        select(NightInventory.reserved).where(
            NightInventory.unit_id == unit.id, NightInventory.night == night
        )
    )


def _status(db, reservation_id):
    db.session.expire_all()
    return db.session.get(Reservation, reservation_id).status


def _rows(db, action):
    return db.session.scalars(select(AccessLog).where(AccessLog.action == action)).all()


def _press(client, path, back="/aanbieder"):
    response = client.post(path, data={"csrf_token": csrf_token(client, back), "terug": back})
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    return client.get(response.headers["Location"]).get_data(as_text=True)


def test_check_in_and_out_of_todays_arrival_from_the_portal(client, db, world, today):
    unit = world["unit"]
    stay = hold(client, world["verwijzer"], unit, today, nights=3, confirm=True)
    assert stay["status"] == "confirmed"
    web_login(client, world["user"])
    portal = client.get("/aanbieder").get_data(as_text=True)
    assert f"Aangekomen melden {stay['short_code']}" in portal
    assert f"Niet verschenen melden {stay['short_code']}" in portal
    assert f"Vertrokken melden {stay['short_code']}" not in portal

    page = _press(client, f"/aanbieder/reserveringen/{stay['id']}/inchecken")
    assert f"Gemeld: de logé van {stay['short_code']} is aangekomen." in page
    assert _status(db, stay["id"]) == "checked_in"
    assert f"Vertrokken melden {stay['short_code']}" in page
    assert f"Aangekomen melden {stay['short_code']}" not in page
    [row] = _rows(db, "reservation.check_in")
    assert row.outcome == "success" and row.actor == f"user:{world['user'].id}"

    # Leaving on the arrival day: the stay ends, the nights from today on are free again.
    assert _reserved(db, unit, today + timedelta(days=1)) == 1
    page = _press(client, f"/aanbieder/reserveringen/{stay['id']}/uitchecken")
    assert f"Gemeld: de logé van {stay['short_code']} is vertrokken." in page
    assert _status(db, stay["id"]) == "completed"
    assert _reserved(db, unit, today + timedelta(days=1)) == 0
    [row] = _rows(db, "reservation.check_out")
    assert row.outcome == "success" and row.role == "provider"
    steps = db.session.scalars(
        select(ReservationEvent.to_status)
        .where(ReservationEvent.reservation_id == stay["id"])
        .order_by(ReservationEvent.id)
    ).all()
    assert steps[-2:] == ["checked_in", "completed"]


def test_no_show_asks_first_and_only_the_confirmation_marks_it(client, db, world, today):
    unit = world["unit"]
    stay = hold(client, world["verwijzer"], unit, today, nights=2, confirm=True)
    web_login(client, world["user"])
    path = f"/aanbieder/reserveringen/{stay['id']}/niet-verschenen"
    back = "/aanbieder/reserveringen?status=confirmed"
    # The portal's button: a question naming the stay in words, nothing marked yet.
    response = client.post(path, data={"csrf_token": csrf_token(client, back), "terug": back})
    assert response.status_code == 200
    question = response.get_data(as_text=True)
    assert f"Is de logé van {stay['short_code']} niet verschenen?" in question
    assert f"Reservering {stay['short_code']} in De Eik, " in question
    assert f"aankomst {formatting.date_long(today)}" in question
    assert f"vertrek {formatting.date_long(today + timedelta(days=2))} (2 nachten)" in question
    assert ">Ja, niet verschenen</button>" in question
    assert 'name="bevestigd" value="ja"' in question and 'name="csrf_token"' in question
    assert f'href="{back}">Terug</a>' in question
    assert _status(db, stay["id"]) == "confirmed" and _reserved(db, unit, today) == 1
    assert _rows(db, "reservation.no_show") == []
    [read] = _rows(db, "reservation.read")
    assert read.outcome == "success" and read.actor == f"user:{world['user'].id}"
    # Confirming marks it, returns to the page the button was on, and frees the nights.
    response = client.post(
        path,
        data={"csrf_token": csrf_token(client, back), "terug": back, "bevestigd": "ja"},
    )
    assert response.status_code == 303 and response.headers["Location"] == back
    page = client.get(back).get_data(as_text=True)
    assert "is niet verschenen. De nachten zijn weer vrij." in page
    assert _status(db, stay["id"]) == "no_show"
    assert _reserved(db, unit, today) == 0
    assert [r.outcome for r in _rows(db, "reservation.no_show")] == ["success"]


def test_no_show_before_the_arrival_day_is_refused_at_the_question(client, db, world, today):
    stay = hold(client, world["verwijzer"], world["unit"], today + timedelta(days=3), confirm=True)
    web_login(client, world["user"])
    page = _press(client, f"/aanbieder/reserveringen/{stay['id']}/niet-verschenen")
    assert "Niet verschenen kan pas vanaf de aankomstdag worden gemeld." in page
    assert "Ja, niet verschenen" not in page
    assert _status(db, stay["id"]) == "confirmed"
    assert _rows(db, "reservation.no_show") == []


def test_check_in_before_the_arrival_day_is_refused_in_dutch(client, db, world, today):
    stay = hold(client, world["verwijzer"], world["unit"], today + timedelta(days=3), confirm=True)
    web_login(client, world["user"])
    portal = client.get("/aanbieder").get_data(as_text=True)
    assert stay["short_code"] in portal and f"Aangekomen melden {stay['short_code']}" not in portal
    page = _press(client, f"/aanbieder/reserveringen/{stay['id']}/inchecken")
    assert "Aankomst melden kan vanaf de aankomstdag" in page
    assert _status(db, stay["id"]) == "confirmed"
    [row] = _rows(db, "reservation.check_in")
    assert row.outcome == "failed"


def test_another_providers_stay_answers_404_and_is_logged_denied(client, db, world, today):
    stay = hold(client, world["verwijzer"], world["unit"], today, confirm=True)
    web_login(client, world["stranger"])
    token = csrf_token(client, "/aanbieder")
    for path in ("inchecken", "uitchecken", "niet-verschenen"):
        response = client.post(
            f"/aanbieder/reserveringen/{stay['id']}/{path}",
            data={"csrf_token": token, "bevestigd": "ja"},
        )
        assert response.status_code == 404
    # Nor does the question before a no-show show another provider's stay.
    response = client.post(
        f"/aanbieder/reserveringen/{stay['id']}/niet-verschenen", data={"csrf_token": token}
    )
    assert response.status_code == 404 and stay["short_code"] not in response.get_data(True)
    assert [row.outcome for row in _rows(db, "reservation.read")] == ["denied"]
    assert _status(db, stay["id"]) == "confirmed"
    denied = [
        row.outcome
        for action in ("reservation.check_in", "reservation.check_out", "reservation.no_show")
        for row in _rows(db, action)
    ]
    assert denied == ["denied", "denied", "denied"]


def test_buttons_on_the_reservations_list_return_to_the_list(client, db, world, today):
    stay = hold(client, world["verwijzer"], world["unit"], today, nights=2, confirm=True)
    web_login(client, world["user"])
    back = "/aanbieder/reserveringen?status=confirmed"
    listed = client.get(back).get_data(as_text=True)
    assert f"Aangekomen melden {stay['short_code']}" in listed
    response = client.post(
        f"/aanbieder/reserveringen/{stay['id']}/inchecken",
        data={"csrf_token": csrf_token(client, back), "terug": back},
    )
    assert response.status_code == 303 and response.headers["Location"] == back
    assert _status(db, stay["id"]) == "checked_in"
    # Somewhere else than the portal is not followed.
    response = client.post(
        f"/aanbieder/reserveringen/{stay['id']}/uitchecken",
        data={"csrf_token": csrf_token(client, "/aanbieder"), "terug": "https://example.org/"},
    )
    assert response.headers["Location"] == "/aanbieder"
    assert _status(db, stay["id"]) == "completed"


def test_post_without_csrf_changes_nothing(client, db, world, today):
    stay = hold(client, world["verwijzer"], world["unit"], today, confirm=True)
    web_login(client, world["user"])
    response = client.post(f"/aanbieder/reserveringen/{stay['id']}/inchecken")
    assert response.status_code == 400
    assert _status(db, stay["id"]) == "confirmed"


def test_nothing_changed_at_all_locations_at_once(client, db, world):
    web_login(client, world["user"])
    portal = client.get("/aanbieder").get_data(as_text=True)
    assert "Niets gewijzigd bij al mijn 2 locaties" in portal
    later = clock.now() + timedelta(minutes=7)
    clock.freeze(later)
    try:
        page = _press(client, "/aanbieder/locaties/bevestigen")
    finally:
        clock.freeze(None)
    assert "Bevestigd: de beschikbaarheid van al uw 2 locaties klopt nog." in page
    db.session.expire_all()
    confirmed = {
        location.name: location.last_confirmed_at
        for location in db.session.scalars(select(Location))
    }
    assert confirmed["De Eik"] == later and confirmed["De Linde"] == later
    assert confirmed["Het Veer"] != later  # another provider's location is left alone


def test_the_month_is_also_a_list_of_weeks_for_a_small_screen(client, world, today):
    web_login(client, world["user"])
    html = client.get(f"/aanbieder/eenheden/{world['unit'].id}").get_data(as_text=True)
    grid = html[html.index('data-testid="month-grid"') : html.index("</table>")]
    listed = html[html.index('data-testid="month-list"') : html.index("</ol>")]
    night = f'data-night="{today.isoformat()}">2 bedden, 0 bezet'
    assert night in grid and night in listed  # the same figures in both
    week = today.isocalendar()[1]
    assert f"Week {week}" in listed and f"Zet week {week}" in listed
    assert 'class="month-list"' in html  # shown by a media query (app.css), no script


def test_the_reservations_list_shows_needs_and_confirms(client, db, make, world, today):
    unit = make.unit(location=world["unit"].location, requires_provider_confirmation=True)
    _, offer = request_with_offer(db.session, unit=unit, client="Jo")
    # The family says yes: the stay now waits for the provider.
    steps.confirm_by_requester(
        db.session, offer, caller=STAFF, now=clock.now(), provider_confirm_hours=24
    )
    db.session.commit()
    assert _status(db, offer.id) == "awaiting_provider"
    web_login(client, world["user"])
    back = "/aanbieder/reserveringen?status=awaiting_provider"
    listed = client.get(back).get_data(as_text=True)
    assert "Wat de logé nodig heeft: Zorg: zonder extra zorg; Rolstoel: nee" in listed
    assert f"Bevestig {offer.short_code}" in listed
    response = client.post(
        f"/aanbieder/reserveringen/{offer.id}/bevestigen",
        data={"csrf_token": csrf_token(client, back), "terug": back},
    )
    assert response.headers["Location"] == back
    assert _status(db, offer.id) == "confirmed"
    assert "De reservering is bevestigd." in client.get(back).get_data(as_text=True)


def test_an_overdue_check_in_keeps_its_button_for_a_while(client, db, world, today):
    stay = hold(client, world["verwijzer"], world["unit"], today, nights=5, confirm=True)
    later = clock.now()
    try:
        clock.freeze(later + timedelta(days=2))
        web_login(client, world["user"])
        portal = client.get("/aanbieder").get_data(as_text=True)
        assert "Aankomst nog niet gemeld." in portal
        assert f"Aangekomen melden {stay['short_code']}" in portal
        clock.freeze(later + timedelta(days=40))
        web_login(client, world["user"])
        portal = client.get("/aanbieder").get_data(as_text=True)
        assert stay["short_code"] not in portal  # long past: the reservations list has it
        listed = client.get("/aanbieder/reserveringen?status=confirmed").get_data(as_text=True)
        assert f"Niet verschenen melden {stay['short_code']}" in listed
        assert f"Aangekomen melden {stay['short_code']}" not in listed  # its nights are over
    finally:
        clock.freeze(None)
