"""Recurring stays asked on the form (one weekend a month, every N weeks, until a date), shown
on every page, offered in one SMS and accepted with one "JA"; continuity: a new request linked
to the client's earlier stay (from the verwijzer's list, or by reference and birth year on the
meldpunt's phone form), and matching prefers that place."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from respijt import clock
from respijt.models import AccessLog, CareRequest, OutboxMessage, Reservation
from respijt.people.caller import Caller
from tests.accounts_support import csrf_token, web_login
from tests.care_request_helpers import body, create, freeze_start

NEW = "/verwijzer/aanvragen/nieuw"
CONTACT = "+31687654321"


@pytest.fixture()
def place(make: Any) -> dict[str, Any]:
    freeze_start()  # Monday 1 March 2027
    region = make.region(code="H5", name="Haaglanden")
    delft = make.municipality(code="GM0503", name="Delft", region=region)
    near = make.unit(
        location=make.location(municipality=delft, name="De Linde"),
        requires_provider_confirmation=False,
    )
    other = make.unit(
        location=make.location(municipality=delft, name="Het Veer"),
        requires_provider_confirmation=False,
    )
    return {"municipality": delft, "near": near, "other": other}


def _form(client: Any, path: str = NEW, **over: str) -> dict[str, str]:
    data = {
        "csrf_token": csrf_token(client, path),
        "first_name": "Ans",
        "birth_year": "1938",
        "municipality": "GM0503",
        "target_group": "ouderen",
        "care_level": "basic",
        "language": "",
        "arrival": "2027-03-05",
        "departure": "2027-03-07",
        "flexibility_days": "0",
        "urgency": "planned",
        "reason": "vakantie",
        "funding": "onbekend",
        "contact_name": "Karin Smit",
        "contact_mobile": "06 87654321",
        "consent": "y",
    }
    data.update(over)
    return data


def test_a_weekend_a_month_is_asked_offered_in_one_sms_and_accepted_with_one_ja(
    client, db, make, place, fake_twilio_server
):
    user = make.user("verwijzer")
    web_login(client, user)
    response = client.post(
        NEW,
        data=_form(
            client,
            repeat="weekend",
            weekend_of_month="1",
            every_weeks="2",
            series_until="2027-06-30",
        ),
    )
    assert response.status_code == 303, response.get_data(as_text=True)[-3000:]
    care_request = db.session.scalars(select(CareRequest)).one()
    assert care_request.series_rule == "month:1"
    assert [(s.arrival, s.departure) for s in care_request.stays] == [
        (date(2027, 3, 5), date(2027, 3, 7)),
        (date(2027, 4, 2), date(2027, 4, 4)),
        (date(2027, 4, 30), date(2027, 5, 2)),
        (date(2027, 6, 4), date(2027, 6, 6)),
    ]
    url = f"/verwijzer/aanvragen/{care_request.reference}"
    page = client.get(url).get_data(as_text=True)
    assert "Elke maand het eerste weekend" in page
    assert len(re.findall(r'data-testid="reeks-verblijf"', page)) == 4

    held = client.post(f"{url}/reeks/vasthouden", data={"csrf_token": csrf_token(client, url)})
    assert held.status_code == 303
    reservations = db.session.scalars(select(Reservation).order_by(Reservation.arrival)).all()
    assert [r.status for r in reservations] == ["held"] * 4
    assert len({r.unit.location_id for r in reservations}) == 1  # one place for the series
    offers = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.template == "request_series_offer")
    ).all()
    pending = [m for m in offers if m.status == "pending"]
    assert len(pending) == 1, [(m.status, m.body) for m in offers]
    sms = pending[0].body
    assert "4 logeerbedden" in sms and "5 mrt, 2 apr, 30 apr, 4 jun (telkens 2 nachten)" in sms
    assert "Ans" not in sms and "1938" not in sms
    assert not db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.template == "request_offer")
    ).first()

    result = fake_twilio_server.send_inbound(CONTACT, "Ja")
    assert "4 logeerbedden aangenomen" in result.replies[0]
    for reservation in reservations:
        db.session.refresh(reservation)
    db.session.refresh(care_request)
    assert [r.status for r in reservations] == ["confirmed"] * 4
    assert care_request.status == "placed"
    assert [s.status for s in care_request.stays] == ["placed"] * 4
    # One confirmation for the whole series, too.
    to_contact = db.session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.recipient == CONTACT,
            OutboxMessage.status == "pending",
            OutboxMessage.template.in_(["reservation_confirmed", "reservation_series_confirmed"]),
        )
    ).all()
    assert [m.template for m in to_contact] == ["reservation_series_confirmed"]
    assert "4 logeerbedden bevestigd" in to_contact[0].body
    confirms = db.session.scalars(
        select(AccessLog).where(AccessLog.action == "reservation.confirm")
    ).all()
    assert len(confirms) == 4 and all(row.source == "sms" for row in confirms)
    page = client.get(url).get_data(as_text=True)
    assert page.count("Bevestigd") >= 4


def test_the_answer_counts_one_bed_in_the_singular(client, db, make, place, fake_twilio_server):
    user = make.user("verwijzer")
    care_request = create(
        db.session,
        body(
            place["municipality"],
            date(2027, 3, 5),
            date(2027, 3, 7),
            contact={"name": "Karin", "mobile": "06 87654321"},
            series={"every_weeks": 2, "until": date(2027, 3, 5)},
        ),
        caller=Caller(key=f"user:{user.id}", role="verwijzer"),
    )
    assert len(care_request.stays) == 1
    web_login(client, user)
    url = f"/verwijzer/aanvragen/{care_request.reference}"
    client.post(f"{url}/reeks/vasthouden", data={"csrf_token": csrf_token(client, url)})
    result = fake_twilio_server.send_inbound("+31687654321", "JA")
    assert "U heeft 1 logeerbed aangenomen" in result.replies[0]


def test_a_series_problem_shows_beside_its_field(client, db, make, place):
    web_login(client, make.user("verwijzer"))
    response = client.post(
        NEW,
        data=_form(
            client,
            departure="2027-03-13",  # 8 nights, every week: the stays would overlap
            repeat="weeks",
            every_weeks="1",
            series_until="2027-04-30",
        ),
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    beside = (
        r'id="every_weeks-error">\s*<p class="field-error">(<span[^>]*>[^<]*</span>)?[^<]*overl'
    )
    assert re.search(beside, html)
    assert 'value="2027-04-30"' in html  # nothing typed is lost
    assert db.session.scalar(select(CareRequest.id)) is None


def test_nee_declines_every_held_stay_and_a_stranger_changes_nothing(
    client, db, make, place, fake_twilio_server
):
    user = make.user("verwijzer")
    care_request = create(
        db.session,
        body(
            place["municipality"],
            date(2027, 3, 5),
            date(2027, 3, 7),
            contact={"name": "Karin", "mobile": "06 87654321"},
            series={"every_weeks": 2, "until": date(2027, 4, 2)},
        ),
        caller=Caller(key=f"user:{user.id}", role="verwijzer"),
    )
    assert care_request.series_rule == "weeks:2" and len(care_request.stays) == 3
    web_login(client, user)
    url = f"/verwijzer/aanvragen/{care_request.reference}"
    client.post(f"{url}/reeks/vasthouden", data={"csrf_token": csrf_token(client, url)})
    stranger = fake_twilio_server.send_inbound("+31611112222", "JA")
    assert "Zet de code" in stranger.replies[0]
    assert {r.status for r in db.session.scalars(select(Reservation))} == {"held"}
    result = fake_twilio_server.send_inbound(CONTACT, "NEE")
    assert "3 logeerbedden afgeslagen" in result.replies[0]
    db.session.expire_all()
    assert {r.status for r in db.session.scalars(select(Reservation))} == {"cancelled"}


def test_a_series_needs_an_end_date_beside_the_field(client, make, place):
    web_login(client, make.user("verwijzer"))
    response = client.post(NEW, data=_form(client, repeat="weeks", every_weeks="3"))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert re.search(r'id="series_until-error">.*Vul dit veld in', html, re.S)
    assert 'value="Karin Smit"' in html  # nothing typed is lost


def _stayed_at(db: Any, user: Any, place: dict[str, Any], unit: Any) -> CareRequest:
    earlier = create(
        db.session,
        body(
            place["municipality"],
            date(2027, 3, 8),
            date(2027, 3, 10),
            client={"first_name": "Ans", "birth_year": 1938},
        ),
        caller=Caller(key=f"user:{user.id}", role="verwijzer"),
    )
    from respijt.care_requests import answers, offers

    caller = Caller(key=f"user:{user.id}", role="verwijzer")
    reservation, _ = offers.offer_bed(
        db.session,
        earlier,
        unit_id=unit.id,
        arrival=earlier.arrival,
        departure=earlier.departure,
        caller=caller,
        now=clock.now(),
        today=clock.today(),
        hold_minutes=60,
        provider_confirm_hours=24,
    )
    answers.accept_offer(
        db.session,
        earlier,
        reservation.id,
        caller=caller,
        now=clock.now(),
        provider_confirm_hours=24,
    )
    db.session.commit()
    assert earlier.status == "placed"
    return earlier


def _option_names(page: str) -> list[str]:
    return re.findall(r'<li data-testid="optie"[^>]*>\s*<strong>([^<]+)</strong>', page)


def test_continuity_from_the_verwijzers_list_prefers_the_earlier_place(client, db, make, place):
    user = make.user("verwijzer")
    web_login(client, user)
    earlier = _stayed_at(db, user, place, place["other"])  # Het Veer, not the first option
    listing = client.get("/verwijzer/aanvragen").get_data(as_text=True)
    assert f'href="/verwijzer/aanvragen/nieuw?eerder={earlier.reference}"' in listing
    path = f"{NEW}?eerder={earlier.reference}"
    form = client.get(path).get_data(as_text=True)
    assert f'value="{earlier.reference}"' in form and 'value="Ans"' in form
    assert 'value="1938"' in form and "contactpersoon van de cliënt" in form
    arrival = (clock.today() + timedelta(days=20)).isoformat()
    departure = (clock.today() + timedelta(days=22)).isoformat()
    response = client.post(
        NEW,
        data=_form(
            client, arrival=arrival, departure=departure, previous_request=earlier.reference
        ),
    )
    assert response.status_code == 303, response.get_data(as_text=True)[-3000:]
    new = db.session.scalars(select(CareRequest).order_by(CareRequest.id.desc())).first()
    assert new.previous_request_id == earlier.id
    page = client.get(f"/verwijzer/aanvragen/{new.reference}").get_data(as_text=True)
    assert _option_names(page)[0] == "Het Veer"
    assert "eerder gelogeerd" in page and 'data-testid="eerder"' in page
    # Another verwijzer's request cannot be prefilled.
    assert client.get(f"{NEW}?eerder=R-NOTMINE").status_code == 404


def test_a_new_request_for_the_same_client_copies_landline_and_email(client, db, make, place):
    verwijzer = make.user("verwijzer")
    earlier = create(
        db.session,
        body(
            place["municipality"],
            date(2027, 3, 8),
            date(2027, 3, 10),
            client={"first_name": "Ans", "birth_year": 1938},
            contact={"name": "Marja", "phone": "070 123 4567", "email": "marja@voorbeeld.nl"},
        ),
        caller=Caller(key=f"user:{verwijzer.id}", role="verwijzer"),
    )
    web_login(client, verwijzer)
    form = client.get(f"{NEW}?eerder={earlier.reference}").get_data(as_text=True)
    assert 'value="+31701234567"' in form or 'value="070 123 4567"' in form
    assert 'value="marja@voorbeeld.nl"' in form


def test_the_meldpunt_links_by_reference_and_birth_year(client, db, make, place):
    verwijzer = make.user("verwijzer")
    earlier = _stayed_at(db, verwijzer, place, place["other"])
    provider = make.provider(name="Zorg Delft", regions=[place["municipality"].region], pool=True)
    meldpunt = make.user("meldpunt", provider=provider)
    web_login(client, meldpunt)
    path = "/meldpunt/aanvraag"
    arrival = (clock.today() + timedelta(days=20)).isoformat()
    departure = (clock.today() + timedelta(days=22)).isoformat()
    data = _form(client, path, arrival=arrival, departure=departure, requester="mantelzorger")
    wrong = client.post(
        path, data={**data, "previous_request": earlier.reference, "birth_year": "1939"}
    )
    assert wrong.status_code == 422
    assert re.search(
        r'id="previous_request-error">.*Onbekende eerdere aanvraag',
        wrong.get_data(as_text=True),
        re.S,
    )
    data["csrf_token"] = csrf_token(client, path)
    right = client.post(path, data={**data, "previous_request": earlier.reference.lower()})
    assert right.status_code == 303, right.get_data(as_text=True)[-2000:]
    new = db.session.scalars(select(CareRequest).order_by(CareRequest.id.desc())).first()
    assert new.previous_request_id == earlier.id


def test_the_family_links_on_the_public_form_from_the_same_mobile(client, db, make, place):
    verwijzer = make.user("verwijzer")
    earlier = _stayed_at(db, verwijzer, place, place["other"])  # contact 06 12345678
    arrival = (clock.today() + timedelta(days=20)).isoformat()
    departure = (clock.today() + timedelta(days=22)).isoformat()
    data = _form(
        client,
        "/aanvragen",
        arrival=arrival,
        departure=departure,
        requester="mantelzorger",
        previous_request=earlier.reference,
    )
    other_phone = client.post("/aanvragen", data=data)  # 06 87654321: not the earlier contact
    assert other_phone.status_code == 422
    html = other_phone.get_data(as_text=True)
    assert re.search(r'id="previous_request-error">.*Onbekende eerdere aanvraag', html, re.S)
    assert f'value="{earlier.reference}"' in html
    data["csrf_token"] = csrf_token(client, "/aanvragen")
    same_phone = client.post("/aanvragen", data={**data, "contact_mobile": "06 12345678"})
    assert same_phone.status_code == 303, same_phone.get_data(as_text=True)[-2000:]
    new = db.session.scalars(select(CareRequest).order_by(CareRequest.id.desc())).first()
    assert new.previous_request_id == earlier.id and new.caller_role == "public"
