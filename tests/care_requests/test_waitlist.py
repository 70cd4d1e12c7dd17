"""The waitlist job with a controllable clock, request expiry and series stays."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from respijt import clock
from respijt.care_requests import lifecycle, series, waitlist
from respijt.errors import InvalidTransition
from respijt.models import CareRequest, NightInventory, Reservation
from respijt.reservations import steps
from respijt.reservations.check import find_inventory_mismatches
from tests.care_request_helpers import STAFF, body, create, freeze_start, later, occupy


def _offers(db):
    offers = waitlist.run_waitlist(db.session, clock.now(), offer_hours=24).offers
    db.session.commit()
    return offers


def _offer_count(db, care_request: CareRequest) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(Reservation)
        .where(Reservation.request_id == care_request.id)
    )


def _status(db, care_request: CareRequest) -> str:
    db.session.refresh(care_request)
    return care_request.status


def test_freed_nights_go_to_the_right_waiting_request_and_pass_on_when_unanswered(db, make):
    today = freeze_start()
    municipality = make.municipality()
    unit = make.unit(location=make.location(municipality=municipality), capacity=1)
    arrival, departure = today + timedelta(days=20), today + timedelta(days=23)
    blocking = occupy(db.session, unit, arrival, departure)

    def waiting(**over):
        care_request = create(db.session, body(municipality, arrival, departure, **over))
        later(hours=1)
        return care_request

    withdrawn = waiting()  # the oldest, but it withdraws
    oldest = waiting()
    urgent = waiting(urgency="urgent")
    youngest = waiting()
    assert {_status(db, r) for r in (withdrawn, oldest, urgent, youngest)} == {"waitlisted"}
    lifecycle.withdraw(db.session, withdrawn, caller=STAFF, now=clock.now(), reason=None)
    db.session.commit()
    assert _offers(db) == []  # nothing free yet

    steps.cancel(
        db.session, blocking, party="requester", caller=STAFF, now=clock.now(), reason="ziek"
    )
    db.session.commit()
    [offer] = _offers(db)
    assert offer.reference == urgent.reference  # urgent first
    assert _status(db, urgent) == "offered"
    assert _offers(db) == []  # idempotent: one offer at a time, the bed is held
    assert offer.expires_at == clock.now() + timedelta(hours=24)

    later(hours=25)  # unanswered: the offer lapses and goes to the next (the oldest)
    [offer] = _offers(db)
    assert offer.reference == oldest.reference
    assert _status(db, urgent) == "waitlisted"

    later(hours=25)
    [offer] = _offers(db)
    assert offer.reference == youngest.reference  # the urgent one is not offered the same again
    later(hours=25)
    assert _offers(db) == []  # everyone had these nights once; nobody gets them twice
    assert [_offer_count(db, r) for r in (withdrawn, oldest, urgent, youngest)] == [0, 1, 1, 1]
    assert _status(db, withdrawn) == "withdrawn"
    # The lapsed holds released their nights exactly once.
    reserved = db.session.scalars(
        select(NightInventory.reserved).where(
            NightInventory.unit_id == unit.id,
            NightInventory.night >= arrival,
            NightInventory.night < departure,
        )
    ).all()
    assert reserved == [0, 0, 0]
    assert find_inventory_mismatches(db.session) == []


def test_an_accepted_waitlist_offer_places_the_request(db, make):
    today = freeze_start()
    municipality = make.municipality()
    unit = make.unit(location=make.location(municipality=municipality), capacity=1)
    arrival, departure = today + timedelta(days=10), today + timedelta(days=12)
    blocking = occupy(db.session, unit, arrival, departure)
    waiting = create(db.session, body(municipality, arrival, departure))
    steps.cancel(db.session, blocking, party="requester", caller=STAFF, now=clock.now(), reason="x")
    db.session.commit()
    [offer] = _offers(db)
    later(hours=2)
    reservation = db.session.get(Reservation, offer.reservation_id)
    steps.confirm_by_requester(
        db.session, reservation, caller=STAFF, now=clock.now(), provider_confirm_hours=24
    )
    db.session.commit()
    assert _status(db, waiting) == "placed"
    assert waiting.placed_at == clock.now()
    assert [e.to_status for e in waiting.events] == ["new", "waitlisted", "offered", "placed"]


def test_an_urgent_request_without_a_fit_is_flagged_for_the_meldpunt(db, make):
    today = freeze_start()
    municipality = make.municipality()
    make.unit(location=make.location(municipality=municipality), target_groups=["ggz"])
    urgent = create(
        db.session,
        body(municipality, today + timedelta(days=1), today + timedelta(days=3), urgency="urgent"),
    )
    planned = create(
        db.session, body(municipality, today + timedelta(days=1), today + timedelta(days=3))
    )
    assert urgent.status == "waitlisted" and urgent.attention_at == clock.now()
    assert "Spoed" in urgent.attention_reason
    assert planned.status == "waitlisted" and planned.attention_at is None


def test_requests_whose_dates_passed_unplaced_expire(db, make):
    today = freeze_start()
    municipality = make.municipality()
    make.unit(location=make.location(municipality=municipality), target_groups=["ggz"])
    flexible = create(
        db.session,
        body(
            municipality, today + timedelta(days=2), today + timedelta(days=4), flexibility_days=3
        ),
    )
    rigid = create(
        db.session, body(municipality, today + timedelta(days=2), today + timedelta(days=4))
    )
    later(days=3)
    assert lifecycle.expire_past_requests(db.session, now=clock.now(), today=clock.today()) == 1
    db.session.commit()
    assert _status(db, rigid) == "expired" and rigid.closed_at == clock.now()
    assert _status(db, flexible) == "waitlisted"
    later(days=3)
    _offers(db)  # the waitlist pass expires them too
    assert _status(db, flexible) == "expired"


def test_a_series_holds_each_stay_at_the_same_location_and_names_what_did_not_fit(db, make):
    today = freeze_start()
    municipality = make.municipality()
    home = make.unit(location=make.location(municipality=municipality), capacity=1)
    other = make.unit(location=make.location(municipality=municipality), capacity=1)
    arrival = today + timedelta(days=4)  # a Friday
    request = create(
        db.session,
        body(
            municipality,
            arrival,
            arrival + timedelta(days=2),
            series={"every_days": 28, "until": arrival + timedelta(days=90)},
        ),
    )
    assert [s.arrival for s in request.stays] == [
        arrival + timedelta(days=28 * i) for i in range(4)
    ]
    third = arrival + timedelta(days=56)
    occupy(db.session, home, third, third + timedelta(days=1))
    occupy(db.session, other, third + timedelta(days=1), third + timedelta(days=2))
    result = series.hold_series(
        db.session,
        request,
        caller=STAFF,
        now=clock.now(),
        today=clock.today(),
        stale_after_hours=72,
        hold_minutes=24 * 60,
        provider_confirm_hours=24,
    )
    db.session.commit()
    assert [r.arrival for r in result.held] == [arrival + timedelta(days=28 * i) for i in (0, 1, 3)]
    units = {r.unit_id for r in result.held}
    assert len(units) == 1  # one location for the whole series
    assert [s.arrival for s in result.unplaced] == [third]
    assert [s.status for s in request.stays] == ["offered", "offered", "unplaced", "offered"]
    assert _status(db, request) == "offered"
    for reservation in result.held:
        steps.confirm_by_requester(
            db.session, reservation, caller=STAFF, now=clock.now(), provider_confirm_hours=24
        )
    db.session.commit()
    db.session.refresh(request)
    assert [s.status for s in request.stays] == ["placed", "placed", "unplaced", "placed"]
    assert request.status == "placed"


def test_waitlist_command_reports_the_offers_in_dutch(app, db, make):
    today = freeze_start()
    municipality = make.municipality()
    unit = make.unit(location=make.location(municipality=municipality), capacity=1)
    arrival, departure = today + timedelta(days=9), today + timedelta(days=11)
    blocking = occupy(db.session, unit, arrival, departure)
    waiting = create(db.session, body(municipality, arrival, departure))
    steps.cancel(db.session, blocking, party="requester", caller=STAFF, now=clock.now(), reason="x")
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["waitlist", "offer"])
    assert result.exit_code == 0, result.output
    assert f"Aanbod voor {waiting.reference}" in result.output
    assert "Aanbiedingen gedaan: 1." in result.output
    assert _status(db, waiting) == "offered"


def test_an_urgent_request_stays_urgent_after_a_declined_offer(db, make):
    today = freeze_start()
    municipality = make.municipality()

    def blocked_unit():
        unit = make.unit(
            location=make.location(municipality=municipality),
            capacity=1,
            requires_provider_confirmation=True,
        )
        return unit, occupy(db.session, unit, arrival, departure)

    arrival, departure = today + timedelta(days=6), today + timedelta(days=9)
    first_unit, first_block = blocked_unit()
    second_unit, second_block = blocked_unit()
    oldest = create(db.session, body(municipality, arrival, departure))
    later(hours=1)
    older = create(db.session, body(municipality, arrival, departure))
    later(hours=1)
    urgent = create(db.session, body(municipality, arrival, departure, urgency="urgent"))
    assert urgent.attention_at is not None  # flagged at intake: spoed without a fit

    steps.cancel(
        db.session, first_block, party="requester", caller=STAFF, now=clock.now(), reason="x"
    )
    db.session.commit()
    [offer] = _offers(db)
    assert offer.reference == urgent.reference
    assert _status(db, urgent) == "offered" and urgent.attention_at is None

    # The requester says yes, the provider declines: the request waits again, still urgent.
    later(hours=1)
    reservation = db.session.get(Reservation, offer.reservation_id)
    steps.confirm_by_requester(
        db.session, reservation, caller=STAFF, now=clock.now(), provider_confirm_hours=24
    )
    steps.decline_by_provider(
        db.session, reservation, caller=STAFF, now=clock.now(), reason="Geen personeel"
    )
    db.session.commit()
    assert _status(db, urgent) == "waitlisted"
    assert urgent.urgency == "urgent"
    assert urgent.attention_at == clock.now()  # back on the meldpunt's spoed list
    assert urgent.attention_reason.startswith("Afgewezen door ")

    [offer] = _offers(db)  # the declined unit is not offered to it again: the oldest gets it
    assert (offer.reference, offer.unit_id) == (oldest.reference, first_unit.id)

    # The next freed bed goes to the urgent request before the older planned one.
    steps.cancel(
        db.session, second_block, party="requester", caller=STAFF, now=clock.now(), reason="x"
    )
    db.session.commit()
    [offer] = _offers(db)
    assert (offer.reference, offer.unit_id) == (urgent.reference, second_unit.id)
    assert _status(db, older) == "waitlisted"


def test_a_refused_offer_skips_only_that_request_and_the_pass_goes_on(
    db, make, monkeypatch, caplog
):
    today = freeze_start()
    municipality = make.municipality()
    unit = make.unit(location=make.location(municipality=municipality), capacity=1)
    other_unit = make.unit(location=make.location(municipality=municipality), capacity=1)
    arrival, departure = today + timedelta(days=20), today + timedelta(days=23)
    blocked = [occupy(db.session, u, arrival, departure) for u in (unit, other_unit)]
    refused = create(db.session, body(municipality, arrival, departure, urgency="urgent"))
    served = create(db.session, body(municipality, arrival, departure))
    for reservation in blocked:
        steps.cancel(
            db.session, reservation, party="requester", caller=STAFF, now=clock.now(), reason="ziek"
        )
    db.session.commit()
    real_offer_bed = waitlist.request_offers.offer_bed

    def offer_bed(session, care_request, **kwargs):
        if care_request.id == refused.id:
            real_offer_bed(session, care_request, **kwargs)  # writes, then is refused
            raise InvalidTransition("Deze aanvraag kan nu geen aanbod krijgen.")
        return real_offer_bed(session, care_request, **kwargs)

    monkeypatch.setattr(waitlist.request_offers, "offer_bed", offer_bed)
    with caplog.at_level("WARNING", logger="respijt.waitlist"):
        [offer] = _offers(db)
    assert offer.reference == served.reference
    # The refused offer left nothing behind: no reservation, the request still waits.
    assert _offer_count(db, refused) == 0
    assert _status(db, refused) == "waitlisted"
    assert find_inventory_mismatches(db.session) == []
    assert refused.reference not in caplog.text and str(refused.id) in caplog.text
