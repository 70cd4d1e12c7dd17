"""The meldpunt console and the coordinator pages: role access, the on-duty window, CSRF,
the phone intake through hold and confirmation, access-log rows, KPIs and their CSV."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from respijt import clock
from respijt.models import (
    AccessLog,
    CareRequest,
    MeldpuntCall,
    Reservation,
    RotaShift,
    Voicemail,
)
from tests.accounts_support import web_login
from tests.browser.web_helpers import csrf_token


@pytest.fixture()
def desk(make: Any, db: Any) -> dict[str, Any]:
    region = make.region(code="H5", name="Haaglanden")
    municipality = make.municipality(code="GM0503", name="Delft", region=region)
    provider = make.provider(name="Zorg Delft", regions=[region], pool=True)
    location = make.location(provider=provider, municipality=municipality, name="De Linde")
    unit = make.unit(location=location, capacity=2, name="Logeerkamers ouderen")
    meldpunt = make.user("meldpunt", provider=provider)
    return {"region": region, "provider": provider, "unit": unit, "meldpunt": meldpunt}


def _intake(client: Any, **overrides: str) -> dict[str, str]:
    arrival = clock.today() + timedelta(days=10)
    data = {
        "csrf_token": csrf_token(client.get("/meldpunt/aanvraag").get_data(as_text=True)),
        "requester": "mantelzorger",
        "first_name": "Jan",
        "birth_year": "1941",
        "municipality": "GM0503",
        "target_group": "ouderen",
        "arrival": arrival.isoformat(),
        "departure": (arrival + timedelta(days=2)).isoformat(),
        "urgency": "planned",
        "reason": "vakantie",
        "contact_name": "Marja",
        "contact_mobile": "06 12345678",
        "consent": "y",
        "care_level": "basic",
        "flexibility_days": "0",
        "funding": "onbekend",
    }
    data.update(overrides)
    return data


def _rows(db: Any, reference: str) -> list[str]:
    db.session.expire_all()
    return [
        f"{row.action}:{row.outcome}"
        for row in db.session.scalars(
            select(AccessLog).where(AccessLog.client_reference == reference).order_by(AccessLog.id)
        )
    ]


def test_the_meldpunt_takes_a_phone_request_holds_and_confirms_a_bed(client, desk, db):
    web_login(client, desk["meldpunt"])
    page = client.get("/meldpunt").get_data(as_text=True)
    assert "U heeft nu dienst in" in page and "Haaglanden" in page
    response = client.post("/meldpunt/aanvraag", data=_intake(client))
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    care_request = db.session.scalars(select(CareRequest)).one()
    assert care_request.channel == "phone" and care_request.requester_type == "mantelzorger"
    detail = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "De Linde" in detail and "Waarom:" in detail and "zelfde gemeente" in detail
    token = csrf_token(detail)
    arrival = care_request.arrival
    response = client.post(
        f"/meldpunt/aanvragen/{care_request.reference}/vasthouden",
        data={
            "csrf_token": token,
            "unit_id": str(desk["unit"].id),
            "arrival": arrival.isoformat(),
            "departure": care_request.departure.isoformat(),
        },
    )
    assert response.status_code == 303
    reservation = db.session.scalars(select(Reservation)).one()
    assert reservation.status == "held" and reservation.request_id == care_request.id
    detail = client.get(f"/meldpunt/aanvragen/{care_request.reference}").get_data(as_text=True)
    assert "Bevestigen namens de beller" in detail
    response = client.post(
        f"/meldpunt/aanvragen/{care_request.reference}/aanbod/{reservation.id}/bevestigen",
        data={"csrf_token": csrf_token(detail)},
    )
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Reservation, reservation.id).status == "confirmed"
    assert _rows(db, care_request.reference) == [
        "care_request.create:success",
        "care_request.read:success",
        "reservation.create:success",
        "care_request.read:success",
        "reservation.confirm:success",
    ]


def test_the_intake_says_in_dutch_what_is_missing(client, desk):
    web_login(client, desk["meldpunt"])
    response = client.post("/meldpunt/aanvraag", data=_intake(client, birth_year="41"))
    assert response.status_code == 422
    assert "Vul het geboortejaar in met vier cijfers" in response.get_data(as_text=True)


def test_off_duty_the_meldpunt_sees_no_requests_of_the_region(client, app, desk, db, make):
    web_login(client, desk["meldpunt"])
    response = client.post("/meldpunt/aanvraag", data=_intake(client))
    reference = response.headers["Location"].rsplit("/", 1)[1]
    # Another meldpunt of the same pool, not on duty: sees nothing, and it is logged.
    other = make.provider(regions=[desk["region"]], pool=True, on_duty=False)
    stranger = app.test_client()
    web_login(stranger, make.user("meldpunt", provider=other))
    page = stranger.get("/meldpunt").get_data(as_text=True)
    assert "U heeft nu geen dienst" in page and reference not in page
    assert stranger.get(f"/meldpunt/aanvragen/{reference}").status_code == 404
    assert _rows(db, reference)[-1] == "care_request.read:denied"
    # The grace period: half an hour after the shift ended, the duty provider still sees the
    # region (and may finish); after the grace only what it took itself (as in the API).
    shift = db.session.scalars(
        select(RotaShift).where(RotaShift.provider_id == desk["provider"].id)
    ).one()
    shift.ends_at = clock.now() - timedelta(minutes=30)
    db.session.commit()
    assert "u kunt nog even afronden" in client.get("/meldpunt").get_data(as_text=True)
    assert client.get(f"/meldpunt/aanvragen/{reference}").status_code == 200
    shift.ends_at = clock.now() - timedelta(minutes=90)
    db.session.commit()
    assert "U heeft nu geen dienst" in client.get("/meldpunt").get_data(as_text=True)
    assert client.get(f"/meldpunt/aanvragen/{reference}").status_code == 200


def test_pages_are_for_their_role_and_posts_need_a_csrf_token(client, desk, make):
    coordinator = make.user("coordinator", regions=[desk["region"]])
    web_login(client, coordinator)
    assert client.get("/meldpunt").status_code == 403
    assert client.get("/coordinator/cijfers").status_code == 200
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/logout").get_data(True))})
    web_login(client, desk["meldpunt"])
    assert client.get("/coordinator/rooster").status_code == 403
    data = _intake(client)
    del data["csrf_token"]
    assert client.post("/meldpunt/aanvraag", data=data).status_code == 400


def test_voicemail_done_and_handover_note_on_the_console(client, desk, db):
    call = MeldpuntCall(
        call_sid="CA1",
        region_id=desk["region"].id,
        from_number="+31612345678",
        to_number=desk["region"].meldpunt_number,
        status="voicemail",
        started_at=clock.now(),
    )
    db.session.add(call)
    db.session.flush()
    voicemail = Voicemail(
        call_id=call.id,
        region_id=desk["region"].id,
        caller_number="+31612345678",
        recording_url="https://api.twilio.com/rec/1",
        duration_seconds=12,
        created_at=clock.now(),
    )
    db.session.add(voicemail)
    db.session.commit()
    web_login(client, desk["meldpunt"])
    page = client.get("/meldpunt").get_data(as_text=True)
    assert "+31612345678" in page
    response = client.post(
        f"/meldpunt/terugbellen/{voicemail.id}/afgehandeld", data={"csrf_token": csrf_token(page)}
    )
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Voicemail, voicemail.id).done_at is not None
    response = client.post(
        "/meldpunt/overdracht",
        data={"csrf_token": csrf_token(page), "region": "H5", "body": "Bel mevrouw terug"},
    )
    assert response.status_code == 303
    page = client.get("/meldpunt").get_data(as_text=True)
    assert "Bel mevrouw terug" in page and "Niemand hoeft teruggebeld te worden" in page
    assert "Gesprekken vandaag" in page and page.count("+31612345678") == 1  # the call log


def test_the_coordinator_sees_rota_gaps_access_log_and_kpis_with_csv(client, app, desk, db, make):
    coordinator = make.user("coordinator", regions=[desk["region"]])
    web_login(client, desk["meldpunt"])
    response = client.post("/meldpunt/aanvraag", data=_intake(client))
    reference = response.headers["Location"].rsplit("/", 1)[1]
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/logout").get_data(True))})
    web_login(client, coordinator)
    rota = client.get("/coordinator/rooster").get_data(as_text=True)
    assert "Haaglanden" in rota and "Zorg Delft" in rota and "Geen gaten" in rota
    log = client.get(f"/coordinator/inzage?aanvraag={reference.lower()}").get_data(as_text=True)
    # Names and actions in words (tests/web/test_coordinator_access_log.py has the rest).
    assert f"maakte aanvraag {reference}" in log and desk["meldpunt"].name in log
    assert "care_request.create" not in log
    assert coordinator.name in client.get("/coordinator/rooster").get_data(as_text=True)
    # A coordinator of another region sees no row of this request, and the look is logged.
    elsewhere = app.test_client()
    web_login(elsewhere, make.user("coordinator", regions=[make.region()]))
    page = elsewhere.get(f"/coordinator/inzage?aanvraag={reference}").get_data(as_text=True)
    assert "Geen inzage gevonden" in page and "Haaglanden" not in page
    assert _rows(db, reference)[-1] == "access_log.read:success"
    kpis = client.get("/coordinator/cijfers?gemeente=GM0503").get_data(as_text=True)
    assert "Per maand" in kpis and "/reports/monthly/GM0503/" in kpis
    # One request: a count under 5 is suppressed (the domain does it).
    assert "&lt;5" in kpis
    csv = client.get("/coordinator/cijfers.csv?gemeente=GM0503")
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    assert csv.data.decode("utf-8-sig").startswith("Cijfer;Uitkomst\n")
    months = client.get("/coordinator/cijfers-per-maand.csv").data.decode("utf-8-sig")
    assert months.startswith("Maand;Aanvragen;Geplaatst;Plaatsingsgraad;")


@pytest.mark.parametrize("hostile", ["²", str(2**31)])
def test_a_hostile_unit_id_in_the_hold_form_is_not_a_500(client, desk, db, hostile):
    web_login(client, desk["meldpunt"])
    response = client.post("/meldpunt/aanvraag", data=_intake(client))
    assert response.status_code == 303
    care_request = db.session.scalars(select(CareRequest)).one()
    detail = client.get(response.headers["Location"]).get_data(as_text=True)
    response = client.post(
        f"/meldpunt/aanvragen/{care_request.reference}/vasthouden",
        data={
            "csrf_token": csrf_token(detail),
            "unit_id": hostile,
            "arrival": care_request.arrival.isoformat(),
            "departure": care_request.departure.isoformat(),
        },
    )
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Kies een passende plek uit de lijst." in page
    assert db.session.scalars(select(Reservation)).all() == []


def test_a_birth_year_in_superscript_digits_gets_the_dutch_message(client, desk, db):
    web_login(client, desk["meldpunt"])
    response = client.post("/meldpunt/aanvraag", data=_intake(client, birth_year="¹⁹⁴¹"))
    assert response.status_code == 422
    assert "Vul het geboortejaar in met vier cijfers" in response.get_data(as_text=True)
    assert db.session.scalars(select(CareRequest)).all() == []
