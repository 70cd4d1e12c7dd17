"""Declines and expiries reach someone: a provider's decline or an expired offer on an urgent or
soon request puts the request at the top of the meldpunt's console with the reason, and sends
one alert (no client name, no care needs, no free-text reason) to the on-duty staff mobile;
the flag clears when someone acts on the request."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from respijt import clock
from respijt.care_requests import offers
from respijt.models import CareRequest, OutboxMessage
from respijt.reservations import steps
from respijt.reservations.expiry import expire_overdue_holds
from tests.care_request_helpers import STAFF, body, create, freeze_start, later

REASON = "Geen personeel voor extra zorg deze week"
DUTY_MOBILE = "+31612340077"


@pytest.fixture()
def region_on_duty(db, make):
    """A region whose duty provider has a landline duty phone and one staff mobile, and a unit
    of another provider that must confirm its stays."""
    today = freeze_start()
    region = make.region()
    municipality = make.municipality(region=region)
    make.provider(
        name="Meldpunt Zorg", regions=[region], pool=True,
        duty_phone="+31151110001", staff_mobiles=[DUTY_MOBILE],
    )  # fmt: skip
    other = make.provider(name="Zorg Rijswijk", regions=[region])
    unit = make.unit(
        location=make.location(provider=other, municipality=municipality),
        requires_provider_confirmation=True,
    )
    return today, municipality, unit


def _offer(db, care_request: CareRequest, unit, hold_minutes: float = 60):
    reservation, _ = offers.offer_bed(
        db.session, care_request, unit_id=unit.id, arrival=care_request.arrival,
        departure=care_request.departure, caller=STAFF, now=clock.now(), today=clock.today(),
        hold_minutes=hold_minutes, provider_confirm_hours=24,
    )  # fmt: skip
    db.session.commit()
    return reservation


def _declined(db, care_request: CareRequest, unit) -> None:
    reservation = _offer(db, care_request, unit)
    steps.confirm_by_requester(
        db.session, reservation, caller=STAFF, now=clock.now(), provider_confirm_hours=24
    )
    steps.decline_by_provider(db.session, reservation, caller=STAFF, now=clock.now(), reason=REASON)
    db.session.commit()


def _alerts(db) -> list[OutboxMessage]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.template == "request_offer_ended")
        )
    )


def test_a_decline_on_a_soon_request_flags_it_with_the_reason_and_texts_the_duty_mobile(
    db, region_on_duty
):
    today, municipality, unit = region_on_duty
    arrival = today + timedelta(days=2)  # "soon": within RESPIJT_ALERT_SOON_DAYS (3)
    care_request = create(db.session, body(municipality, arrival, arrival + timedelta(days=2)))
    db.session.commit()
    later(minutes=5)
    _declined(db, care_request, unit)

    db.session.refresh(care_request)
    assert care_request.status == "new"
    assert care_request.attention_at == clock.now()
    assert care_request.attention_reason == (
        f"Afgewezen door Zorg Rijswijk: {REASON}. Zoek een andere plek."
    )
    [alert] = _alerts(db)
    assert (alert.recipient, alert.status, alert.urgent) == (DUTY_MOBILE, "pending", True)
    assert alert.dedupe_key.startswith("alert:")
    assert care_request.reference in alert.body and "afgewezen" in alert.body
    assert f"/meldpunt/aanvragen/{care_request.reference}" in alert.body
    # No health data, no client name, not the provider's free-text reason.
    for private in ("Jan", "ouderen", "personeel", "Marja"):
        assert private not in alert.body


def test_a_decline_far_ahead_on_a_planned_request_is_no_alert(db, region_on_duty):
    today, municipality, unit = region_on_duty
    arrival = today + timedelta(days=20)
    care_request = create(db.session, body(municipality, arrival, arrival + timedelta(days=2)))
    db.session.commit()
    _declined(db, care_request, unit)
    db.session.refresh(care_request)
    assert care_request.status == "new" and care_request.attention_at is None
    assert _alerts(db) == []


def test_an_urgent_request_far_ahead_is_alerted_too(db, region_on_duty):
    today, municipality, unit = region_on_duty
    arrival = today + timedelta(days=20)
    urgent = create(
        db.session, body(municipality, arrival, arrival + timedelta(days=2), urgency="urgent")
    )
    db.session.commit()
    _declined(db, urgent, unit)
    db.session.refresh(urgent)
    assert urgent.attention_reason.startswith("Afgewezen door Zorg Rijswijk")
    assert [a.recipient for a in _alerts(db)] == [DUTY_MOBILE]


def test_a_soon_request_far_ahead_is_alerted_too(db, region_on_duty):
    today, municipality, unit = region_on_duty
    arrival = today + timedelta(days=20)  # beyond RESPIJT_ALERT_SOON_DAYS, but "Binnenkort"
    soon = create(
        db.session, body(municipality, arrival, arrival + timedelta(days=2), urgency="soon")
    )
    db.session.commit()
    _declined(db, soon, unit)
    db.session.refresh(soon)
    assert soon.attention_reason.startswith("Afgewezen door Zorg Rijswijk")
    assert [a.recipient for a in _alerts(db)] == [DUTY_MOBILE]


def test_an_expired_offer_alerts_once_and_the_flag_clears_when_someone_acts(db, region_on_duty):
    today, municipality, unit = region_on_duty
    arrival = today + timedelta(days=1)
    care_request = create(db.session, body(municipality, arrival, arrival + timedelta(days=2)))
    db.session.commit()
    _offer(db, care_request, unit, hold_minutes=30)
    later(hours=1)
    assert expire_overdue_holds(db.session, clock.now()) == 1
    db.session.commit()
    assert expire_overdue_holds(db.session, clock.now()) == 0  # a second sweep: no second alert

    db.session.refresh(care_request)
    assert care_request.attention_reason == (
        "Aanbod bij Zorg Rijswijk verlopen: de aanvrager heeft niet op tijd gereageerd. "
        "Zoek een andere plek."
    )
    [alert] = _alerts(db)
    assert "verlopen" in alert.body and alert.recipient == DUTY_MOBILE

    # The meldpunt holds another bed: someone acted, the request leaves the top of the console.
    later(minutes=10)
    _offer(db, care_request, unit)
    db.session.refresh(care_request)
    assert care_request.status == "offered"
    assert care_request.attention_at is None and care_request.attention_reason is None
