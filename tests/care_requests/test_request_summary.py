"""The request in words for the meldpunt: needs in Dutch, why an option fits, units that
declined ranked last with their reason (the API's order too), and the history of offers."""

from __future__ import annotations

from datetime import timedelta

from respijt import clock
from respijt.care_requests import offers, summary
from respijt.models import Reservation
from respijt.people.caller import Caller
from respijt.reservations import steps
from tests.care_request_helpers import STAFF, body, create, freeze_start

DESK = Caller(key="user:desk", role="coordinator")


def _two_units(make):
    region = make.region(code="U1", name="Utrecht")
    municipality = make.municipality(code="GM0344", name="Utrecht", region=region)
    first = make.provider(name="Zorg Eerst", regions=[region])
    second = make.provider(name="Zorg Daarna", regions=[region])
    units = [
        make.unit(
            location=make.location(provider=provider, municipality=municipality),
            capacity=1,
            target_groups=["dementie"],
            wheelchair=True,
            care_level="supervision_24h",
            requires_provider_confirmation=True,
            funding_routes=["wmo", "wlz"],
        )
        for provider in (first, second)
    ]
    return municipality, units


def _matches(db, care_request):
    return offers.matches_for(
        db.session,
        care_request,
        caller=DESK,
        now=clock.now(),
        today=clock.today(),
        stale_after_hours=72,
        limit=offers.OPTIONS_SHOWN,
    )


def test_the_needs_and_why_an_option_fits_are_in_dutch_words(db, make):
    today = freeze_start()
    municipality, _ = _two_units(make)
    care_request = create(
        db.session,
        body(
            municipality,
            today + timedelta(days=7),
            today + timedelta(days=9),
            target_group="dementie",
            care_level="supervision_24h",
            wheelchair=True,
            language="tr",
            urgency="urgent",
            reason="overbelasting",
            funding="wlz",
            flexibility_days=2,
        ),
    )
    needs = dict(summary.needs_in_words(care_request))
    assert needs == {
        "Doelgroep": "Mensen met dementie",
        "Zorgzwaarte": "24 uur toezicht",
        "Rolstoel": "Ja, rolstoeltoegankelijk nodig",
        "Taal": "Turks",
        "Reden": "Overbelasting van de mantelzorger",
        "Financiering": "Wlz (zorgkantoor)",
        "Flexibel": "2 dagen eerder of later kan ook",
        "Urgentie": "Spoed",
    }
    assert summary.fit_words(care_request) == "dementie, rolstoel, 24 uur toezicht"
    matches = _matches(db, care_request)
    assert all(m.requires_provider_confirmation for m in matches)
    assert {m.location["provider"]["name"] for m in matches} == {"Zorg Eerst", "Zorg Daarna"}


def test_a_unit_that_declined_comes_last_with_its_reason_and_in_the_history(db, make):
    today = freeze_start()
    municipality, units = _two_units(make)
    care_request = create(
        db.session,
        body(
            municipality,
            today + timedelta(days=7),
            today + timedelta(days=9),
            target_group="dementie",
            care_level="supervision_24h",
            wheelchair=True,
        ),
    )
    first = _matches(db, care_request)[0]
    reservation, _ = offers.offer_bed(
        db.session,
        care_request,
        unit_id=first.unit_id,
        arrival=first.arrival,
        departure=first.departure,
        caller=DESK,
        now=clock.now(),
        today=clock.today(),
        hold_minutes=60,
        provider_confirm_hours=24,
    )
    steps.confirm_by_requester(
        db.session, reservation, caller=STAFF, now=clock.now(), provider_confirm_hours=24
    )
    steps.decline_by_provider(
        db.session,
        reservation,
        caller=STAFF,
        now=clock.now(),
        reason="Geen personeel voor extra zorg deze week",
    )
    db.session.commit()
    assert db.session.get(Reservation, reservation.id).status == "declined"

    matches = _matches(db, care_request)
    assert [m.unit_id for m in matches][-1] == first.unit_id
    assert matches[0].unit_id != first.unit_id and matches[0].declined_reason is None
    assert matches[-1].declined_reason == "Geen personeel voor extra zorg deze week"
    assert matches[-1].as_dict()["declined_reason"] == "Geen personeel voor extra zorg deze week"

    history = summary.offer_history(db.session, care_request)
    declined = [line for line in history if line.status == "Afgewezen door aanbieder"]
    assert len(declined) == 1
    assert declined[0].reason == "Geen personeel voor extra zorg deze week"
    assert declined[0].by == first.location["provider"]["name"]
    assert history[0].status == "Vastgehouden"


def test_declined_units_move_last_in_their_own_order():
    from respijt.care_requests.matching import Match

    def match(unit_id):
        return Match(
            unit_id=unit_id,
            unit_name="x",
            provider_id=1,
            location={},
            arrival=clock.today(),
            departure=clock.today(),
            exact=True,
            score=0.0,
        )

    ranked = offers.declined_last([match(1), match(2), match(3), match(4)], {1: "vol", 3: "ziek"})
    assert [(m.unit_id, m.declined_reason) for m in ranked] == [
        (2, None),
        (4, None),
        (1, "vol"),
        (3, "ziek"),
    ]
