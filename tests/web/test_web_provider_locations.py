"""The provider's pages for its locations and units: add and change them through the registry,
retire a unit instead of deleting it, Dutch errors beside the fields with nothing typed lost,
and another provider's location or unit answers 404."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from respijt.models import Location, NightInventory, Unit
from tests.accounts_support import csrf_token, hold, web_login


@pytest.fixture()
def world(make):
    region = make.region()
    municipality = make.municipality(region=region, name="Delft")
    own = make.provider(regions=[region])
    other = make.provider(regions=[region])
    location = make.location(provider=own, municipality=municipality, name="De Eik")
    return {
        "municipality": municipality,
        "own": own,
        "location": location,
        "unit": make.unit(location=location, capacity=2, name="Tuinkamers"),
        "foreign": make.unit(
            location=make.location(provider=other, municipality=municipality, name="Het Veer")
        ),
        "user": make.user("provider", provider=own),
        "verwijzer": make.token("verwijzer"),
    }


def _error(html, field, text):
    return re.search(rf'id="{field}-error">.*?{re.escape(text)}', html, re.S) is not None


def _location_data(client, world, **changes):
    data = {
        "csrf_token": csrf_token(client, "/aanbieder/locaties/nieuw"),
        "name": "De Linde",
        "address": "Lindelaan 4",
        "postcode": "2612 cd",
        "municipality": world["municipality"].code,
        "contact_mobile": "06 12345678",
        "latitude": "52,01",
        "longitude": "4,36",
        "languages": ["nl", "tr"],
    }
    data.update(changes)
    return data


def test_provider_adds_a_location(client, db, world):
    web_login(client, world["user"])
    assert "Locatie toevoegen" in client.get("/aanbieder").get_data(as_text=True)
    response = client.post("/aanbieder/locaties/nieuw", data=_location_data(client, world))
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "De locatie is toegevoegd." in page and "Eenheid toevoegen" in page
    location = db.session.scalars(select(Location).where(Location.name == "De Linde")).one()
    assert location.provider_id == world["own"].id
    assert location.postcode == "2612CD" and location.contact_mobile == "+31612345678"
    assert location.languages == ["nl", "tr"] and location.latitude == pytest.approx(52.01)


def test_bad_location_input_stands_beside_the_fields_and_nothing_is_lost(client, db, world):
    web_login(client, world["user"])
    count = db.session.scalar(select(func.count()).select_from(Location))
    response = client.post(
        "/aanbieder/locaties/nieuw",
        data=_location_data(client, world, name="", latitude="zuid", longitude="12,5"),
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert _error(html, "name", "Vul dit veld in.")
    assert _error(html, "latitude", "Vul een getal in, bijv. 52,01.")
    assert _error(html, "longitude", "tussen 3,2 en 7,3")
    assert 'value="Lindelaan 4"' in html and 'value="zuid"' in html
    assert re.search(r'value="tr"\s+checked|id="languages-tr" value="tr" checked', html)
    # The registry's own rules (postcode, mobile number) beside their fields too.
    response = client.post(
        "/aanbieder/locaties/nieuw",
        data=_location_data(client, world, postcode="12AB", latitude="", longitude=""),
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert _error(html, "postcode", "Gebruik 1234AB.")
    assert 'value="12AB"' in html and 'value="De Linde"' in html
    response = client.post(
        "/aanbieder/locaties/nieuw",
        data=_location_data(client, world, contact_mobile="070 123 4567"),
    )
    assert response.status_code == 422
    assert _error(response.get_data(as_text=True), "contact_mobile", "Geen mobiel nummer")
    assert db.session.scalar(select(func.count()).select_from(Location)) == count


def test_provider_changes_its_location(client, db, world):
    web_login(client, world["user"])
    location = world["location"]
    path = f"/aanbieder/locaties/{location.id}"
    page = client.get(path).get_data(as_text=True)
    assert 'value="De Eik"' in page and "Tuinkamers" in page
    response = client.post(
        path, data=_location_data(client, world, name="De Eik (nieuw)", latitude="")
    )
    assert response.status_code == 303
    db.session.expire_all()
    assert location.name == "De Eik (nieuw)" and location.latitude is None
    assert location.contact_mobile == "+31612345678"
    response = client.post(path, data=_location_data(client, world, contact_mobile=""))
    assert response.status_code == 303
    db.session.expire_all()
    assert location.contact_mobile is None  # emptied on purpose
    response = client.post(path, data=_location_data(client, world, postcode="nope"))
    assert response.status_code == 422
    db.session.expire_all()
    assert location.postcode == "2612CD"


def test_another_providers_location_and_unit_answer_404(client, db, world):
    web_login(client, world["user"])
    foreign = world["foreign"]
    token = csrf_token(client, "/aanbieder")
    assert client.get(f"/aanbieder/locaties/{foreign.location_id}").status_code == 404
    response = client.post(
        f"/aanbieder/locaties/{foreign.location_id}",
        data=_location_data(client, world, name="Overgenomen"),
    )
    assert response.status_code == 404
    assert (
        client.get(f"/aanbieder/locaties/{foreign.location_id}/eenheden/nieuw").status_code == 404
    )
    assert client.get(f"/aanbieder/eenheden/{foreign.id}/gegevens").status_code == 404
    retire = client.post(
        f"/aanbieder/eenheden/{foreign.id}/buiten-gebruik", data={"csrf_token": token}
    )
    assert retire.status_code == 404
    db.session.expire_all()
    assert foreign.location.name == "Het Veer" and foreign.retired_at is None


def _unit_data(client, location, **changes):
    data = {
        "csrf_token": csrf_token(client, f"/aanbieder/locaties/{location.id}/eenheden/nieuw"),
        "name": "Zorgkamers",
        "target_groups": ["dementie", "ouderen"],
        "care_level": "extra_care",
        "wheelchair": "y",
        "funding_routes": ["wmo", "wlz"],
        "min_nights": "2",
        "max_nights": "14",
        "arrival_weekdays": ["1", "5"],
        "default_capacity": "3",
    }
    data.update(changes)
    return data


def test_provider_adds_a_unit_with_its_nights(client, db, world):
    web_login(client, world["user"])
    location = world["location"]
    response = client.post(
        f"/aanbieder/locaties/{location.id}/eenheden/nieuw", data=_unit_data(client, location)
    )
    assert response.status_code == 303
    unit = db.session.scalars(select(Unit).where(Unit.name == "Zorgkamers")).one()
    assert response.headers["Location"] == f"/aanbieder/eenheden/{unit.id}"
    assert "De eenheid is toegevoegd." in client.get(response.headers["Location"]).get_data(
        as_text=True
    )
    assert sorted(unit.target_groups) == ["dementie", "ouderen"]
    assert (unit.care_level, unit.wheelchair, unit.min_nights, unit.max_nights) == (
        "extra_care", True, 2, 14,
    )  # fmt: skip
    assert unit.arrival_weekdays == "15" and unit.funding_routes == ["wmo", "wlz"]
    assert not unit.requires_provider_confirmation
    capacities = set(
        db.session.scalars(select(NightInventory.capacity).where(NightInventory.unit_id == unit.id))
    )
    assert capacities == {3}


def test_bad_unit_input_stands_beside_the_fields(client, db, world):
    web_login(client, world["user"])
    location = world["location"]
    response = client.post(
        f"/aanbieder/locaties/{location.id}/eenheden/nieuw",
        data=_unit_data(
            client,
            location,
            target_groups=[],
            min_nights="10",
            max_nights="3",
            default_capacity="veel",
            arrival_weekdays=[],
        ),
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert _error(html, "target_groups", "Kies minstens één doelgroep.")
    assert _error(html, "max_nights", "niet lager zijn dan het minimum")
    assert _error(html, "default_capacity", "Vul een heel getal in")
    assert _error(html, "arrival_weekdays", "Kies minstens één dag.")
    assert 'value="Zorgkamers"' in html and 'value="veel"' in html
    assert re.search(r'id="funding_routes-wlz" value="wlz" checked', html)
    assert db.session.scalar(select(func.count()).where(Unit.name == "Zorgkamers")) == 0


def test_provider_changes_a_unit(client, db, world):
    web_login(client, world["user"])
    unit = world["unit"]
    path = f"/aanbieder/eenheden/{unit.id}/gegevens"
    page = client.get(path).get_data(as_text=True)
    assert 'value="Tuinkamers"' in page
    assert "Gegevens van deze eenheid wijzigen" in client.get(
        f"/aanbieder/eenheden/{unit.id}"
    ).get_data(as_text=True)
    data = _unit_data(client, unit.location, name="Tuinkamers", care_level="supervision_24h")
    data["csrf_token"] = csrf_token(client, path)
    del data["wheelchair"]
    response = client.post(path, data=data)
    assert response.status_code == 303
    db.session.expire_all()
    assert unit.care_level == "supervision_24h" and unit.wheelchair is False
    assert "De gegevens van de eenheid zijn opgeslagen." in client.get(path).get_data(as_text=True)


def test_unit_with_booked_stays_is_not_retired(client, db, world, today):
    unit = world["unit"]
    stay = hold(client, world["verwijzer"], unit, today + timedelta(days=5), confirm=True)
    web_login(client, world["user"])
    path = f"/aanbieder/eenheden/{unit.id}/gegevens"
    response = client.post(
        f"/aanbieder/eenheden/{unit.id}/buiten-gebruik",
        data={"csrf_token": csrf_token(client, path)},
    )
    assert response.status_code == 303
    page = client.get(path).get_data(as_text=True)
    assert "nog 1 lopende of toekomstige reservering;" in page
    db.session.expire_all()
    assert unit.retired_at is None
    client.post(
        f"/api/v1/reservations/{stay['id']}/cancel",
        json={"reason": "Gaat niet door"},
        headers=world["verwijzer"],
    )
    response = client.post(
        f"/aanbieder/eenheden/{unit.id}/buiten-gebruik",
        data={"csrf_token": csrf_token(client, path)},
    )
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Tuinkamers is buiten gebruik." in page and "buiten gebruik sinds" in page
    db.session.expire_all()
    assert unit.retired_at is not None
    assert set(
        db.session.scalars(
            select(NightInventory.capacity).where(
                NightInventory.unit_id == unit.id, NightInventory.night >= today
            )
        )
    ) == {0}
    assert db.session.get(Unit, unit.id) is not None  # retired, not deleted


def test_a_location_is_retired_with_all_its_units_or_not_at_all(client, db, make, world, today):
    location = world["location"]
    second = make.unit(location=location, capacity=1, name="Zolderkamer")
    stay = hold(client, world["verwijzer"], second, today + timedelta(days=3), confirm=True)
    web_login(client, world["user"])
    path = f"/aanbieder/locaties/{location.id}"
    response = client.post(f"{path}/buiten-gebruik", data={"csrf_token": csrf_token(client, path)})
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Zolderkamer: Deze eenheid heeft nog 1 lopende" in page
    assert "Er is niets buiten gebruik gezet." in page
    db.session.expire_all()
    assert world["unit"].retired_at is None and second.retired_at is None
    client.post(
        f"/api/v1/reservations/{stay['id']}/cancel",
        json={"reason": "Gaat niet door"},
        headers=world["verwijzer"],
    )
    response = client.post(f"{path}/buiten-gebruik", data={"csrf_token": csrf_token(client, path)})
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "De Eik is buiten gebruik." in page and "Deze locatie is buiten gebruik" in page
    db.session.expire_all()
    assert world["unit"].retired_at is not None and second.retired_at is not None
    assert db.session.get(Location, location.id) is not None
